/* Host board: the firmware as a Linux process.
 *
 *   mta-host [--netif NAME=TAPDEV[,IP/PREFIX[,GW[,HOSTNAME]]]]...
 *
 * Each --netif attaches a TAP device (it must exist or the process needs
 * CAP_NET_ADMIN) as an Ethernet netif.  The console is stdin/stdout; when
 * stdin is a terminal it is put in raw mode so the firmware's own line editor
 * works exactly as on the serial console. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <sys/random.h>

#include "board.h"
#include "flash_layout.h"
#include "app/app.h"
#include "net/nif.h"
#include "ethif.h"
#include "tap/tap.h"
#include "flash/flash.h"
#include "flash/flash_file.h"
#include "flash/flash_sim.h"
#include "lwip/ip4_addr.h"

#define HOST_MAX_TAPS NIF_MAX

typedef struct host_nif {
    char name[NIF_NAME_MAX];
    char cfgline[160];       /* `interface ...` line from --netif */
    tap_config_t cfg;
    char ifname[16];
    tap_t tap;
    ethif_t eth;
} host_nif_t;

static host_nif_t taps[HOST_MAX_TAPS];
static unsigned n_taps;
static struct termios saved_tio;
static int tio_saved;
static char **saved_argv;
/* --flash FILE: the same geometry as mps2-an385 (1 MiB of 4 KiB sectors),
 * so a flash image means the same on both boards. */
#define HOST_FLASH_SIZE (1024u * 1024u)
#define HOST_FLASH_SECTOR 4096u
static flash_file_t flash;
static bool flash_ok;
#define HOST_PART(name, off, size) { name, &flash.dev, off, size },
static const flash_part_t flash_parts[FLASH_LAYOUT_PARTS] = { FLASH_LAYOUT(HOST_PART, HOST_FLASH_SIZE) };
FLASH_LAYOUT_CHECK(HOST_FLASH_SIZE, HOST_FLASH_SECTOR);
/* Without --flash the TLS partitions live in RAM (lost at exit): the TLS
 * module keeps its seed, certificates and CAs in flash only.  Config and
 * store have no partition then (the RAM store queues the mail). */
static flash_sim_t ram_flash;
static uint8_t ram_flash_mem[FLASH_LAYOUT_TLS_SIZE + FLASH_LAYOUT_TLSCA_SIZE];
static uint32_t ram_flash_erases[sizeof(ram_flash_mem) / HOST_FLASH_SECTOR];
static const flash_part_t ram_parts[] = {
    { "tls", &ram_flash.dev, 0, FLASH_LAYOUT_TLS_SIZE },
    { "tlsca", &ram_flash.dev, FLASH_LAYOUT_TLS_SIZE, FLASH_LAYOUT_TLSCA_SIZE },
};
static const char *exec_lines[16];
static unsigned n_exec;

static int drv_send(void *dev, const void *const *parts, const uint16_t *lens, unsigned n)
{
    return tap_send(dev, parts, lens, n);
}
static int drv_recv(void *dev, void *dst, size_t cap)
{
    return tap_recv(dev, dst, cap);
}
static bool drv_link(void *dev)
{
    return tap_link_up(dev);
}
static const ethif_driver_t tap_driver = { drv_send, drv_recv, drv_link, NULL };

static void restore_tty(void)
{
    if (tio_saved) {
        tcsetattr(0, TCSANOW, &saved_tio);
    }
}

/* NAME=TAPDEV[,IP/PREFIX[,GW[,HOSTNAME]]] becomes the TAP attachment plus an
 * `interface` console line, applied (and validated) like any configuration. */
static int parse_netif(const char *arg)
{
    if (n_taps >= HOST_MAX_TAPS) {
        return -1;
    }
    host_nif_t *h = &taps[n_taps];
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", arg);
    char *eq = strchr(buf, '=');
    if (eq == NULL || eq == buf || (size_t)(eq - buf) >= sizeof(h->name)) {
        return -1;
    }
    *eq = 0;
    memcpy(h->name, buf, (size_t)(eq - buf) + 1);
    char *save = NULL;
    char *dev = strtok_r(eq + 1, ",", &save);
    char *ipp = strtok_r(NULL, ",", &save);
    char *gw = strtok_r(NULL, ",", &save);
    char *hn = strtok_r(NULL, ",", &save);
    if (dev == NULL || strlen(dev) >= sizeof(h->ifname)) {
        return -1;
    }
    snprintf(h->ifname, sizeof(h->ifname), "%s", dev);
    int n = snprintf(h->cfgline, sizeof(h->cfgline), "interface %s", buf); /* buf holds NAME */
    if (ipp) {
        n += snprintf(h->cfgline + n, sizeof(h->cfgline) - (size_t)n, " address %s%s", ipp,
                      strchr(ipp, '/') ? "" : "/24");
    }
    if (gw) {
        n += snprintf(h->cfgline + n, sizeof(h->cfgline) - (size_t)n, " gateway %s", gw);
    }
    if (hn) {
        n += snprintf(h->cfgline + n, sizeof(h->cfgline) - (size_t)n, " hostname %s", hn);
    }
    if (n >= (int)sizeof(h->cfgline) - 4) {
        return -1;
    }
    h->cfg.ifname = h->ifname;
    n_taps++;
    return 0;
}

void board_init(int argc, char **argv)
{
    saved_argv = argv;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--netif") == 0 && i + 1 < argc) {
            if (parse_netif(argv[++i]) < 0) {
                fprintf(stderr, "mta-host: bad --netif '%s' (want NAME=TAPDEV[,IP/PREFIX[,GW[,HOSTNAME]]])\n", argv[i]);
                exit(2);
            }
        } else if (strcmp(argv[i], "--flash") == 0 && i + 1 < argc) {
            const char *path = argv[++i];
            if (flash_file_open(&flash, path, HOST_FLASH_SIZE, HOST_FLASH_SECTOR) != 0) {
                fprintf(stderr, "mta-host: cannot open flash file '%s'\n", path);
                exit(2);
            }
            flash_ok = true;
        } else if (strcmp(argv[i], "--exec") == 0 && i + 1 < argc && n_exec + 1 < 16) {
            exec_lines[n_exec++] = argv[++i];
        } else {
            fprintf(stderr, "usage: %s [--netif NAME=TAPDEV[,IP/PREFIX[,GW[,HOSTNAME]]]]... [--exec 'CONSOLE COMMAND']... [--flash FILE]\n", argv[0]);
            exit(2);
        }
    }
    if (!flash_ok) {
        (void)flash_sim_init(&ram_flash, ram_flash_mem, ram_flash_erases, sizeof(ram_flash_mem), HOST_FLASH_SECTOR,
                             1u);
    }
    if (isatty(0) && tcgetattr(0, &saved_tio) == 0) {
        struct termios t = saved_tio;
        cfmakeraw(&t);
        t.c_oflag |= OPOST; /* keep \n -> \r\n off: the console already sends CRLF */
        t.c_oflag &= ~(tcflag_t)ONLCR;
        tio_saved = 1;
        tcsetattr(0, TCSANOW, &t);
        atexit(restore_tty);
    }
    fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
    fcntl(1, F_SETFL, fcntl(1, F_GETFL) | O_NONBLOCK);
}

void board_netifs_init(void)
{
    for (unsigned i = 0; i < n_taps; i++) {
        host_nif_t *h = &taps[i];
        int r = tap_open(&h->tap, &h->cfg);
        if (r < 0) {
            /* Not fatal: the netif is registered without a device so it shows as
             * down and the MTA serves the others (the 9321 path). */
            fprintf(stderr, "mta-host: cannot open TAP %s: %s\n", h->ifname, strerror(-r));
            h->tap.fd = -1;
        }
        uint8_t mac[6] = { 0x02, 0x00, 0x5e, 0x00, 0x01, (uint8_t)(i + 1) };
        ethif_add(&h->eth, &tap_driver, &h->tap, mac);
        nif_register(h->name, "tap", &h->eth.netif);
        /* `up` only when the device could be opened: otherwise it stays down
         * and its listener reports 9321 while the others serve. */
        if (h->tap.fd >= 0) {
            strncat(h->cfgline, " up", sizeof(h->cfgline) - strlen(h->cfgline) - 1);
        }
        if (i == 0) {
            netif_set_default(&h->eth.netif);
        }
    }
}

/* The host board has no default peer: tests and users add peers and
 * routes on the console (or with --exec). */
const struct flash_part *board_flash_partition(const char *name)
{
    return flash_ok ? flash_part_find(flash_parts, FLASH_LAYOUT_PARTS, name)
                    : flash_part_find(ram_parts, sizeof(ram_parts) / sizeof(ram_parts[0]), name);
}

const char *const *board_factory_config(void)
{
    static const char *lines[HOST_MAX_TAPS + 16 + 1];
    unsigned n = 0;
    for (unsigned i = 0; i < n_taps; i++) {
        lines[n++] = taps[i].cfgline;
    }
    for (unsigned i = 0; i < n_exec; i++) {
        lines[n++] = exec_lines[i];
    }
    lines[n] = NULL;
    return lines;
}

uint64_t board_uptime_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    static int64_t base = -1;
    int64_t us = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
    if (base < 0) {
        base = us;
    }
    return (uint64_t)(us - base);
}

uint32_t board_now_ms(void)
{
    return (uint32_t)(board_uptime_us() / 1000u);
}

uint32_t board_wallclock(void)
{
    return (uint32_t)time(NULL);
}

uint32_t board_rand(void)
{
    uint32_t r = 0;
    if (board_entropy((uint8_t *)&r, sizeof(r)) != 0) {
        r = (uint32_t)rand();
    }
    return r;
}

int board_entropy(uint8_t *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = getrandom(buf, len, 0);
        if (n <= 0) {
            return -1;
        }
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

size_t board_console_read(uint8_t *buf, size_t max)
{
    ssize_t n = read(0, buf, max);
    if (n == 0) {
        /* stdin closed: a script drove us to the end without `poweroff`. */
        return BOARD_CONSOLE_EOF;
    }
    return n > 0 ? (size_t)n : 0;
}

size_t board_console_write(const uint8_t *buf, size_t n)
{
    ssize_t w = write(1, buf, n);
    return w > 0 ? (size_t)w : 0;
}

void board_poll(void)
{
    for (unsigned i = 0; i < n_taps; i++) {
        if (taps[i].tap.fd >= 0) {
            ethif_poll(&taps[i].eth);
        }
    }
}

void board_idle(uint32_t max_ms)
{
    struct pollfd pfd[HOST_MAX_TAPS + 1];
    unsigned n = 0;
    pfd[n].fd = 0;
    pfd[n++].events = POLLIN;
    for (unsigned i = 0; i < n_taps; i++) {
        if (taps[i].tap.fd >= 0) {
            pfd[n].fd = taps[i].tap.fd;
            pfd[n++].events = POLLIN;
        }
    }
    poll(pfd, n, (int)(max_ms > 1000 ? 1000 : max_ms));
}

void board_reboot(void)
{
    restore_tty();
    execv("/proc/self/exe", saved_argv);
    _exit(1);
}

void board_poweroff(int status)
{
    restore_tty();
    exit(status);
}

const char *board_describe(void)
{
    return "host (Linux process, TAP netifs)";
}

int main(int argc, char **argv)
{
    app_run(argc, argv);
}
