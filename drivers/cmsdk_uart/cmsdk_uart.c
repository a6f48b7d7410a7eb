/* cmsdk_uart.c - ARM CMSDK APB UART driver. */
#include "cmsdk_uart.h"
#include "cmsdk_uart_priv.h"

#define RING_MASK ((uint32_t)CMSDK_UART_RX_RING_SIZE - 1u)

/* Compiler barrier.  Producer and consumer run on the same single core, so
 * only compiler reordering matters (no DMB needed): the ring byte must be
 * stored before head is published, and read before tail releases the slot. */
#define COMPILER_BARRIER() __asm__ volatile("" ::: "memory")

static inline cmsdk_uart_regs_t *cmsdk_uart_regs(const cmsdk_uart_t *dev)
{
    return (cmsdk_uart_regs_t *)dev->cfg->base;
}

int cmsdk_uart_init(cmsdk_uart_t *dev, const cmsdk_uart_config_t *cfg)
{
    if (cfg->bauddiv < CMSDK_UART_BAUDDIV_MIN) {
        return -1;
    }
    dev->cfg = cfg;
    dev->head = 0u;
    dev->tail = 0u;
    dev->rx_overflows = 0u;
    dev->rx_overruns = 0u;

    cmsdk_uart_regs_t *r = cmsdk_uart_regs(dev);
    r->ctrl = 0u;
    /* TRM: BAUDDIV below 16 is invalid; QEMU ignores it and warns if TX is
     * enabled before a valid divisor, so program it first. */
    r->bauddiv = cfg->bauddiv;
    /* Drop a byte left over from before reset and clear sticky overruns. */
    (void)r->data;
    r->state = CMSDK_UART_STATE_TXOVR | CMSDK_UART_STATE_RXOVR;
    r->intstatus = CMSDK_UART_INT_TX | CMSDK_UART_INT_RX | CMSDK_UART_INT_TXO | CMSDK_UART_INT_RXO;
    /* TX enable is mandatory even for polled output: without CTRL bit 0 QEMU
     * sends nothing and leaves TXFULL set, so a poller hangs (QEMU.md).  The
     * TX interrupt stays off: output is polled. */
    r->ctrl = CMSDK_UART_CTRL_TXEN | CMSDK_UART_CTRL_RXEN | CMSDK_UART_CTRL_RXINTEN;
    return 0;
}

void cmsdk_uart_rx_isr(cmsdk_uart_t *dev)
{
    cmsdk_uart_regs_t *r = cmsdk_uart_regs(dev);

    /* Acknowledge BEFORE draining: a byte that lands after the drain sets the
     * (level) interrupt again, so nothing is stranded; the worst case is one
     * spurious entry that finds RXFULL clear.  QEMU sets INTSTATUS.RX only on
     * byte arrival, it is not a level of RXFULL. */
    r->intstatus = CMSDK_UART_INT_RX;

    uint32_t head = dev->head;
    while ((r->state & CMSDK_UART_STATE_RXFULL) != 0u) {
        uint8_t c = (uint8_t)r->data;
        if (head - dev->tail >= (uint32_t)CMSDK_UART_RX_RING_SIZE) {
            dev->rx_overflows++;
            continue;
        }
        dev->ring[head & RING_MASK] = c;
        head++;
    }
    if ((r->state & CMSDK_UART_STATE_RXOVR) != 0u) {
        /* The one-byte RX buffer was overwritten before we got here. */
        r->state = CMSDK_UART_STATE_RXOVR;
        dev->rx_overruns++;
    }
    COMPILER_BARRIER();
    dev->head = head;
}

size_t cmsdk_uart_read(cmsdk_uart_t *dev, uint8_t *dst, size_t max)
{
    uint32_t tail = dev->tail;
    uint32_t avail = dev->head - tail; /* single aligned load: atomic vs. ISR */
    COMPILER_BARRIER();
    size_t n = avail < max ? avail : max;
    for (size_t i = 0; i < n; i++) {
        dst[i] = dev->ring[(tail + i) & RING_MASK];
    }
    COMPILER_BARRIER();
    dev->tail = tail + (uint32_t)n;
    return n;
}

size_t cmsdk_uart_write_nb(cmsdk_uart_t *dev, const uint8_t *src, size_t n)
{
    cmsdk_uart_regs_t *r = cmsdk_uart_regs(dev);
    size_t i = 0;
    /* The CMSDK UART has a single-byte TX buffer: TXFULL clear means one byte
     * fits.  QEMU drains it synchronously unless the chardev backend blocks. */
    while (i < n && (r->state & CMSDK_UART_STATE_TXFULL) == 0u) {
        r->data = src[i++];
    }
    return i;
}

void cmsdk_uart_putc_blocking(cmsdk_uart_t *dev, uint8_t c)
{
    cmsdk_uart_regs_t *r = cmsdk_uart_regs(dev);
    while ((r->state & CMSDK_UART_STATE_TXFULL) != 0u) {
    }
    r->data = c;
}
