/* mps2-an385 wiring: which driver sits at which address and IRQ, and how
 * each joins lwIP.  The only file that knows both the drivers and the
 * firmware's board API.
 *
 * Memory map and IRQs (ARM AN385, as modelled by QEMU's hw/arm/mps2.c):
 *   UART0 0x40004000 RX IRQ 0, TX IRQ 1   console
 *   UART1 0x40005000 RX IRQ 2, TX IRQ 3   sl0 (SLIP), multihoming issue
 *   LAN9118 0x40200000 IRQ 13             eth0
 * Core clock 25 MHz; SysTick gives the 1 ms time base. */
#include <string.h>

#include "board.h"
#include "flash_layout.h"
#include "app/app.h"
#include "an385.h"
#include "cortex_m/cm3.h"
#include "cortex_m/semihost.h"
#include "net/nif.h"
#include "ethif.h"
#include "cmsdk_uart/cmsdk_uart.h"
#include "lan9118/lan9118.h"
#include "flash/flash.h"
#include "flash/flash_semihost.h"
#include "lwip/netif.h"
#include "lwip/ip.h"
#include "lwip/sio.h"
#include "netif/slipif.h"

#define UART_BAUDDIV 16u /* QEMU ignores the rate; 16 is the smallest legal divider */

static const cmsdk_uart_config_t uart0_cfg = { 0x40004000u, AN385_IRQ_UART0RX, AN385_IRQ_UART0TX, UART_BAUDDIV };
static const cmsdk_uart_config_t uart1_cfg = { 0x40005000u, AN385_IRQ_UART1RX, AN385_IRQ_UART1TX, UART_BAUDDIV };
#define SL0_SIO 1 /* sio number slipif passes to sio_open() */
static const lan9118_config_t eth0_cfg = { .base = 0x40200000u, .irq = AN385_IRQ_ETHERNET };

static cmsdk_uart_t uart0;
static cmsdk_uart_t uart1;
static struct netif sl0;
static bool sl0_ok;
static lan9118_t eth0_dev;
static ethif_t eth0;
static bool eth0_ok;
static volatile uint32_t ticks_ms;
/* Flash: a 1 MiB NOR image of 4 KiB sectors (like common SPI NOR parts),
 * kept by QEMU's host in "flash.img" in its working directory (make run
 * starts QEMU in the directory of $(FLASH)). */
#define AN385_FLASH_SIZE (1024u * 1024u)
#define AN385_FLASH_SECTOR 4096u
static const flash_semihost_config_t flash_cfg = { "flash.img", AN385_FLASH_SIZE, AN385_FLASH_SECTOR };
static flash_semihost_t flash;
static bool flash_ok;
/* The partitions: flash_layout.h, for this device. */
#define AN385_PART(name, off, size) { name, &flash.dev, off, size },
static const flash_part_t flash_parts[FLASH_LAYOUT_PARTS] = { FLASH_LAYOUT(AN385_PART, AN385_FLASH_SIZE) };
FLASH_LAYOUT_CHECK(AN385_FLASH_SIZE, AN385_FLASH_SECTOR);
static uint32_t rand_state;

void SysTick_Handler(void)
{
    ticks_ms++;
}

void UART0RX_IRQHandler(void)
{
    cmsdk_uart_rx_isr(&uart0);
}

void UART1RX_IRQHandler(void)
{
    cmsdk_uart_rx_isr(&uart1);
}

/* lwIP's serial layer for slipif (polled: SLIP_USE_RX_THREAD is 0 with NO_SYS). */
sio_fd_t sio_open(u8_t devnum)
{
    return devnum == SL0_SIO ? (sio_fd_t)&uart1 : NULL;
}

/* SLIP transmit: QEMU's UART never holds TXFULL for long, so a byte-wise
 * blocking put is bounded here.  Real hardware at modem speeds needs a TX
 * ring drained by the TX interrupt instead. */
void sio_send(u8_t c, sio_fd_t fd)
{
    cmsdk_uart_putc_blocking((cmsdk_uart_t *)fd, c);
}

u32_t sio_tryread(sio_fd_t fd, u8_t *data, u32_t len)
{
    return (u32_t)cmsdk_uart_read((cmsdk_uart_t *)fd, data, len);
}

u32_t sio_read(sio_fd_t fd, u8_t *data, u32_t len)
{
    return sio_tryread(fd, data, len);
}

void ETHERNET_IRQHandler(void)
{
    lan9118_isr(&eth0_dev);
}

static int eth_send(void *dev, const void *const *parts, const uint16_t *lens, unsigned n)
{
    return lan9118_send(dev, parts, lens, n);
}
static int eth_recv(void *dev, void *dst, size_t cap)
{
    return lan9118_recv(dev, dst, cap);
}
static bool eth_link(void *dev)
{
    return lan9118_link_up(dev);
}
static bool eth_ready(void *dev)
{
    return lan9118_rx_ready(dev);
}
static const ethif_driver_t lan9118_driver = { eth_send, eth_recv, eth_link, eth_ready };

void board_init(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    cm3_systick_config(AN385_SYSCLK_HZ / 1000u);
    cmsdk_uart_init(&uart0, &uart0_cfg);
    cm3_nvic_enable(uart0_cfg.rx_irq);
    cmsdk_uart_init(&uart1, &uart1_cfg);
    cm3_nvic_enable(uart1_cfg.rx_irq);
    flash_ok = flash_semihost_open(&flash, &flash_cfg) == 0;
    cm3_enable_irq();
}

const struct flash_part *board_flash_partition(const char *name)
{
    return flash_ok ? flash_part_find(flash_parts, FLASH_LAYOUT_PARTS, name) : NULL;
}

void board_netifs_init(void)
{
    /* QEMU's default NIC MAC (52:54:00:12:34:56) is what its model reports
     * too; a real product burns a unique address into OTP. */
    static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
    eth0_ok = lan9118_init(&eth0_dev, &eth0_cfg, mac) == 0;
    ethif_add(&eth0, &lan9118_driver, &eth0_dev, mac);
    nif_register("eth0", "ethernet", &eth0.netif);
    netif_set_default(&eth0.netif);
    if (eth0_ok) {
        lan9118_irq_enable(&eth0_dev);
        /* QEMU's model may have latched the line before IRQ_CFG set its
         * polarity: drop that stale pending bit before enabling. */
        cm3_nvic_clear_pending(eth0_cfg.irq);
        cm3_nvic_enable(eth0_cfg.irq);
    }
    /* sl0: SLIP on UART1, the stand-in for a serial modem link.  A serial
     * line has no carrier detect here, so its link is up once it is open. */
    sl0_ok = netif_add(&sl0, NULL, NULL, NULL, (void *)SL0_SIO, slipif_init, ip_input) != NULL;
    if (sl0_ok) {
        nif_register("sl0", "slip", &sl0);
        netif_set_link_up(&sl0);
    }
}

/* QEMU user networking forwards 10.0.2.100:25 to the host's smarthost
 * port (make run: SMARTHOST_PORT), so that is the default peer. */
const char *const *board_factory_config(void)
{
    static const char *const lines[] = {
        /* QEMU user networking: 10.0.2.15/24, gateway 10.0.2.2 */
        "interface eth0 address 10.0.2.15/24 gateway 10.0.2.2 hostname mta.eth0.gateway.test up",
        /* the modem link: a /30 with the far end as next hop */
        "interface sl0 address 172.31.0.2/30 peer 172.31.0.1 hostname mta.sl0.gateway.test up",
        "peer add smarthost 10.0.2.100 port 25 via eth0",
        "route add * smarthost",
        "relay eth0 subnet",
        "relay sl0 subnet",
        "limit message-size 262144",          /* 256 KiB of the ~870 KiB flash store: room for a bounce that carries a near-limit original */
        NULL,
    };
    return lines;
}

uint32_t board_now_ms(void)
{
    return ticks_ms;
}

uint64_t board_uptime_us(void)
{
    /* Read ms and the SysTick down-counter consistently: retry if a tick
     * happened in between. */
    uint32_t ms, cvr;
    do {
        ms = ticks_ms;
        cvr = CM3_SYST_CVR;
    } while (ms != ticks_ms);
    uint32_t reload = AN385_SYSCLK_HZ / 1000u - 1u;
    return (uint64_t)ms * 1000u + (uint64_t)(reload - cvr) * 1000000u / AN385_SYSCLK_HZ;
}

uint32_t board_wallclock(void)
{
    return 0; /* no RTC: clock.c uses `clock set` or build time + uptime */
}

/* No TRNG on this board (see README): xorshift seeded from SysTick jitter.
 * Good enough for TCP ISNs and ports in QEMU; a product needs a TRNG. */
uint32_t board_rand(void)
{
    if (rand_state == 0) {
        rand_state = 0x9E3779B9u ^ (CM3_SYST_CVR << 8) ^ ticks_ms;
    }
    rand_state ^= rand_state << 13;
    rand_state ^= rand_state >> 17;
    rand_state ^= rand_state << 5;
    return rand_state ^ CM3_SYST_CVR;
}

/* No TRNG: timer jitter.  Each output byte folds the low bits of SysTick's
 * current value sampled around busy loops whose length depends on the
 * previous samples; under QEMU the timer follows the host clock, so the
 * samples carry the host's scheduling noise.  This is weak entropy: it is
 * mixed with the seed in flash (firmware/tls/tls_cred.c), and a product must use a TRNG. */
int board_entropy(uint8_t *buf, size_t len)
{
    uint32_t acc = (uint32_t)board_uptime_us();
    for (size_t i = 0; i < len; i++) {
        uint8_t b = 0;
        for (unsigned k = 0; k < 8; k++) {
            volatile uint32_t spin = 16u + (acc & 63u);
            while (spin-- > 0) {
            }
            uint32_t v = CM3_SYST_CVR;
            acc = (acc << 5) ^ (acc >> 27) ^ v;
            b = (uint8_t)((b << 1) ^ (v & 1u) ^ ((v >> 3) & 1u));
        }
        buf[i] = (uint8_t)(b ^ acc);
    }
    return 0;
}

size_t board_console_read(uint8_t *buf, size_t max)
{
    return cmsdk_uart_read(&uart0, buf, max);
}

size_t board_console_write(const uint8_t *buf, size_t n)
{
    return cmsdk_uart_write_nb(&uart0, buf, n);
}

void board_poll(void)
{
    if (eth0_ok) {
        ethif_poll(&eth0);
    }
    if (sl0_ok) {
        slipif_poll(&sl0);
    }
}

void board_idle(uint32_t max_ms)
{
    (void)max_ms;
    /* WFI wakes on any interrupt, masked or not; SysTick bounds the sleep to
     * 1 ms.  Interrupts are masked around the check so that a frame or byte
     * arriving between the check and the WFI still wakes us. */
    uint32_t pm = cm3_irq_save();
    cm3_wfi();
    cm3_irq_restore(pm);
}

void board_reboot(void)
{
    cm3_system_reset();
}

void board_poweroff(int status)
{
    semihost_exit(status);
}

const char *board_describe(void)
{
    return "ARM MPS2 AN385 (Cortex-M3, 25 MHz), LAN9118 eth0, SLIP sl0 on UART1, console UART0";
}

int main(void)
{
    static char *argv[] = { "mta", NULL };
    app_run(1, argv);
}
