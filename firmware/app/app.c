/* Start-up and main loop. */
#include "app/app.h"

#include "version.h"
#include "mta_assert.h"

#include "board.h"
#include "console/con.h"
#include "evt/evt.h"
#include "net/nif.h"
#include "net/lwip_err.h"
#include "tls/tls.h"
#include "route/peertls.h"
#include "tls/users.h"
#include "console/cmd_sys.h"
#include "lib/clock.h"
#include "console/cfg.h"
#include "net/smtpc_net.h"
#include "queue/dsn.h"
#include "queue/queue.h"
#include "route/route.h"
#include "smtp/smtpc.h"
#include "smtp/smtpd.h"
#include "net/smtpd_net.h"
#include "queue/store_ram.h"
#include "queue/store_flash.h"
#include "flash/flash.h"
#include "lwip/init.h"
#include "lwip/timeouts.h"
#include "lwip/err.h"

static void app_shutdown(bool reboot, int status) __attribute__((noreturn));

static const char *app_netif_name(uint8_t idx)
{
    return nif_at(idx) != NULL ? nif_name(idx) : NULL;
}

static const char *app_err_text(int32_t err)
{
    if (err < 0 && err >= -16) {
        return lwip_err_text((err_t)err);
    }
    if (err > 0 && (err < 200 || err > 599)) {
        return tls_error_text(-err); /* mbedTLS error magnitude */
    }
    return NULL;
}

static const char *app_local_text(uint8_t kind, int32_t code)
{
    return kind == MTA_ERR_LOCAL ? smtpc_strerror((int)code) : NULL;
}

static const char *app_peer_name(uint8_t idx)
{
    const route_peer_t *p = route_peer_get(idx);
    return p != NULL ? p->name : NULL;
}

static const evt_resolvers_t app_resolvers = {
    .netif_name = app_netif_name,
    .peer_name = app_peer_name,
    .err_text = app_err_text,
    .local_text = app_local_text,
    .wallclock = clock_at_uptime,
};

static void app_queue_event(int kind, uint32_t msgid, uint16_t rcpt)
{
    switch (kind) {
    case QUEUE_EV_ACCEPTED:
        /* rcpt is the arrival netif; a DSN the queue made itself was not
         * received from anyone (its 1400 bounce event tells of it). */
        if (rcpt != QUEUE_NETIF_LOCAL) {
            evt_log(EVT_SMTPD_MSG_ACCEPTED, (uint8_t)rcpt, msgid);
        }
        smtpc_net_kick();
        break;
    case QUEUE_EV_BOUNCED:
        evt_log(EVT_QUEUE_BOUNCED, EVT_SRC_NONE, msgid);
        break;
    case QUEUE_EV_WARNED:
        evt_log(EVT_QUEUE_DELAY_WARNED, EVT_SRC_NONE, msgid);
        break;
    case QUEUE_EV_EXPIRED:
        evt_log(EVT_QUEUE_EXPIRED, EVT_QUEUE_DEFERRED, msgid);
        break;
    default:
        break;
    }
}

/* DSN dates: the queue keeps uptime seconds; convert to wall-clock time. */
static int app_dsn_date(void *ctx, uint32_t t, char *buf, size_t size)
{
    (void)ctx;
    uint32_t up = clock_uptime_s();
    uint32_t epoch = clock_now() - (up >= t ? up - t : 0);
    return clock_fmt_rfc5322(epoch, buf, size);
}

/* Reporting-MTA of a DSN: the hostname of the interface the message came
 * in on (its identity to that sender). */
static const char *app_dsn_host(void *ctx, uint8_t netif)
{
    (void)ctx;
    const nif_t *n = netif != QUEUE_NETIF_LOCAL ? nif_at(netif) : NULL;
    return n != NULL ? n->hostname : NULL;
}

/* Dates in a DSN are facts only once the clock was set (or the board has one). */
static int app_dsn_clock_set(void *ctx)
{
    (void)ctx;
    return clock_source() != CLOCK_SRC_BUILD;
}

static void app_netif_changed(uint8_t idx)
{
    (void)idx;
    smtpd_net_kick();
    smtpc_net_kick();
}

static store_flash_t flash_store;
static bool flash_store_ok;

static uint32_t app_max_message(void)
{
    uint32_t cap = queue_max_size();
    if (flash_store_ok && store_flash_max_body(&flash_store) < cap) {
        cap = store_flash_max_body(&flash_store);
    }
    return cap;
}

static store_flash_t *app_flash_store(void)
{
    return flash_store_ok ? &flash_store : NULL;
}

/* The message store: the flash log when the board has a "store" partition,
 * else the RAM store.  An unclean flash store is recovered here, with the
 * events field engineers know: 2219, 2206 per queue, 2207. */
static void app_store_init(void)
{
    const flash_part_t *part = board_flash_partition("store");
    if (part != NULL) {
        store_flash_recovery_t rep;
        if (store_flash_mount(&flash_store, part, &rep) == 0) {
            if (!rep.clean) {
                evt_log(EVT_STORE_RECOVERY_START, EVT_SRC_NONE, 0);
                for (uint8_t q = 0; q < STORE_FLASH_NQUEUES; q++) {
                    evt_log(EVT_STORE_RECOVERY_QUEUE, q, 0);
                }
                evt_log(EVT_STORE_RECOVERY_DONE, EVT_SRC_NONE, evt_pack_recovery(rep.recovered, rep.discarded));
            }
            int n = queue_init(&store_flash_ops, &flash_store, clock_uptime_s);
            if (n >= 0) {
                flash_store_ok = true;
                return;
            }
        }
        evt_log(EVT_MTA_INIT_FATAL, EVT_SRC_NONE, EVT_CAUSE_STORE_INIT);
    }
    store_ram_init();
    if (queue_init(&store_ram_ops, NULL, clock_uptime_s) < 0) {
        evt_log(EVT_MTA_INIT_FATAL, EVT_SRC_NONE, EVT_CAUSE_STORE_INIT);
    }
}

static bool app_tls_netif(uint8_t i, const char **name, const char **hostname)
{
    const nif_t *n = nif_at(i);
    if (n == NULL) {
        return false;
    }
    *name = n->name;
    *hostname = n->hostname;
    return true;
}

static void app_services_init(void)
{
    static dsn_env_t dsn_env;
    app_store_init();
    dsn_env.hostname = nif_count() > 0 ? nif_at(0)->hostname : "localhost";
    dsn_env.date = app_dsn_date;
    dsn_env.netif_host = app_dsn_host;
    dsn_env.clock_set = app_dsn_clock_set;
    queue_set_dsn_env(&dsn_env);
    queue_set_event_hook(app_queue_event);
    smtpd_init();
    /* The SIZE we announce can never exceed what the store can hold. */
    smtpd_limits_t lim;
    smtpd_get_limits(&lim);
    uint32_t cap = app_max_message();
    if (lim.max_msg_size > cap) {
        lim.max_msg_size = cap;
        smtpd_set_limits(&lim);
    }
    route_init(nif_count());
    peertls_init();
    users_init();
    smtpd_net_init();
    (void)tls_init(app_tls_netif); /* logs 1700 or 1701; without TLS the MTA runs in plaintext */
    cfg_boot(board_factory_config());
    /* After the configuration: certificates are made for the hostnames it sets. */
    if (tls_ready()) {
        (void)tls_ensure_certs();
    }
    smtpd_net_start();
    smtpc_net_init();
}


/* Console output goes to the board's UART without ever waiting on it: what
 * the UART does not take now stays in the console ring for the next pass. */
static void app_console_service(void)
{
    /* Drain everything the UART buffered (bounded: 8 x 64 bytes per pass)
     * so that a paste or a flood does not overflow the driver's RX ring. */
    uint8_t buf[64];
    con_poll(); /* a long listing goes on as the UART takes its output */
    for (int i = 0; i < 8 && !con_busy(); i++) { /* input waits for its end */
        size_t n = board_console_read(buf, sizeof(buf));
        if (n == BOARD_CONSOLE_EOF) {
            app_shutdown(false, 0);
        }
        if (n == 0) {
            break;
        }
        con_input(buf, n);
    }
    static uint8_t out[256]; /* bytes read from the ring but not yet taken by the UART */
    static size_t out_len, out_off;
    for (int i = 0; i < 8; i++) {
        if (out_off == out_len) {
            out_len = con_output_read(out, sizeof(out));
            out_off = 0;
            if (out_len == 0) {
                break;
            }
        }
        size_t w = board_console_write(out + out_off, out_len - out_off);
        out_off += w;
        if (w == 0) {
            break;
        }
    }
}

/* Let the console drain (bounded: a stuck terminal must not stop a poweroff). */
static void app_console_flush(void)
{
    uint32_t t0 = board_now_ms();
    while (con_output_pending() > 0 && board_now_ms() - t0 < 1000u) {
        uint8_t out[128];
        size_t n = con_output_read(out, sizeof(out));
        size_t off = 0;
        while (off < n && board_now_ms() - t0 < 1000u) {
            off += board_console_write(out + off, n - off);
        }
    }
}

static void app_shutdown(bool reboot, int status)
{
    /* An orderly stop marks the flash store clean: no recovery at next boot. */
    if (flash_store_ok) {
        store_flash_close(&flash_store);
    }
    app_console_flush();
    if (reboot) {
        board_reboot();
    }
    board_poweroff(status);
}

/* A bug (MTA_ASSERT, lwIP's assertions, mbedTLS's allocator): record it in
 * the event ring and power off with status 4, so that a test run sees it
 * instead of going on with corrupt state. */
void mta_assert_fail(const char *expr, const char *file, int line)
{
    (void)expr;
    (void)file;
    evt_log(EVT_SYS_ASSERT, EVT_SRC_NONE, (uint32_t)line);
    app_console_flush();
    board_poweroff(4); /* not app_shutdown: the store is not marked clean */
}

static void queue_housekeeping(void)
{
    static uint32_t last;
    uint32_t now = clock_uptime_s();
    if (now - last >= 60u) {
        last = now;
        queue_tick(now);
    }
}

/* What a field engineer sees first on the serial console: what runs, on
 * which board, which interfaces it serves, and where to start.  Interface
 * details stay behind a locked console. */
static void app_banner(void)
{
    con_printf("\n");
    cmd_sys_print_version();
    if (con_locked()) {
        return;
    }
    for (uint8_t i = 0; i < nif_count(); i++) {
        const nif_t *n = nif_at(i);
        char ip[IP4ADDR_STRLEN_MAX];
        ip4addr_ntoa_r(netif_ip4_addr(n->netif), ip, sizeof ip);
        con_printf("  %-6s %-15s %-4s %s\n", n->name, ip, n->admin_up ? "up" : "down", n->hostname);
    }
    con_printf("Type 'help' for commands, 'show running-config' for the settings.\n");
}

void app_run(int argc, char **argv)
{
    board_init(argc, argv);
    evt_init(board_now_ms);
    evt_set_resolvers(&app_resolvers);
    lwip_init();
    board_netifs_init();
    board_poll(); /* learn link states before the listeners are opened */
    nif_set_change_hook(app_netif_changed);
    static const cmd_env_t cmd_environment = {
        .shutdown = app_shutdown,
        .flash_store = app_flash_store,
        .max_message = app_max_message,
    };
    cmd_init(&cmd_environment);
    app_services_init();
    evt_log(EVT_SYS_BOOT, EVT_SRC_NONE, evt_pack_boot(0, MTA_VERSION_MAJOR, MTA_VERSION_MINOR, MTA_VERSION_PATCH));
    app_banner();
    con_start();

    for (;;) {
        board_poll();           /* drivers -> lwIP input */
        sys_check_timeouts();   /* lwIP and MTA timers */
        smtpd_net_poll();             /* MTA work: listeners, */
        smtpc_net_poll();             /* deliveries */
        queue_housekeeping();
        app_console_service();  /* console in and out */
        if (con_output_pending() == 0) {
            board_idle(10);
        }
    }
}
