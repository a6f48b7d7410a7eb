/* Start-up and main loop. */
#include "mta.h"

#include "board.h"
#include "con.h"
#include "evt.h"
#include "nif.h"
#include "tls.h"
#include "peertls.h"
#include "users.h"
#include "cmd.h"
#include "clock.h"
#include "cfg.h"
#include "dlv.h"
#include "dsn.h"
#include "queue.h"
#include "route.h"
#include "smtpd.h"
#include "srv.h"
#include "store_ram.h"
#include "store_flash.h"
#include "flash/flash.h"
#include "lwip/init.h"
#include "lwip/timeouts.h"
#include "lwip/err.h"

static const char *mta_netif_name(uint8_t idx)
{
    return nif_at(idx) != NULL ? nif_name(idx) : NULL;
}

static const char *mta_err_text(int32_t err)
{
    if (err < 0 && err >= -16) {
        return lwip_strerr((err_t)err);
    }
    if (err > 0 && (err < 200 || err > 599)) {
        return tls_error_text(-err); /* mbedTLS error magnitude */
    }
    return NULL;
}

static const char *mta_peer_name(uint8_t idx)
{
    const route_peer_t *p = route_peer_get(idx);
    return p != NULL ? p->name : NULL;
}

static const evt_resolvers_t mta_resolvers = {
    .netif_name = mta_netif_name,
    .peer_name = mta_peer_name,
    .err_text = mta_err_text,
    .wallclock = clock_at_uptime,
};

static void mta_queue_event(int kind, uint32_t msgid, uint16_t rcpt)
{
    (void)rcpt;
    switch (kind) {
    case QUEUE_EV_ACCEPTED:
        evt_log(EVT_SMTPD_MSG_ACCEPTED, EVT_SRC_NONE, msgid);
        dlv_kick();
        break;
    case QUEUE_EV_BOUNCED:
        evt_log(EVT_QUEUE_BOUNCED, EVT_SRC_NONE, msgid);
        break;
    case QUEUE_EV_EXPIRED:
        evt_log(EVT_QUEUE_EXPIRED, EVT_QUEUE_DEFERRED, msgid);
        break;
    default:
        break;
    }
}

/* DSN dates: the queue keeps uptime seconds; convert to wall-clock time. */
static int mta_dsn_date(void *ctx, uint32_t t, char *buf, size_t size)
{
    (void)ctx;
    uint32_t up = mta_uptime_s();
    uint32_t epoch = clock_now() - (up >= t ? up - t : 0);
    return clock_fmt_rfc5322(epoch, buf, size);
}

static void mta_netif_changed(uint8_t idx)
{
    (void)idx;
    srv_kick();
    dlv_kick();
}

static store_flash_t flash_store;
static bool flash_store_ok;

uint32_t mta_max_message(void)
{
    uint32_t cap = queue_max_size();
    if (flash_store_ok && store_flash_max_body(&flash_store) < cap) {
        cap = store_flash_max_body(&flash_store);
    }
    return cap;
}

store_flash_t *mta_flash_store(void)
{
    return flash_store_ok ? &flash_store : NULL;
}

/* The message store: the flash log when the board has a "store" partition,
 * else the RAM store.  An unclean flash store is recovered here, with the
 * events field engineers know: 2219, 2206 per queue, 2207. */
static void mta_store_init(void)
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
            int n = queue_init(&store_flash_ops, &flash_store, mta_uptime_s);
            if (n >= 0) {
                flash_store_ok = true;
                return;
            }
        }
        evt_log(EVT_MTA_INIT_FATAL, EVT_SRC_NONE, EVT_CAUSE_STORE_INIT);
    }
    store_ram_init();
    if (queue_init(&store_ram_ops, NULL, mta_uptime_s) < 0) {
        evt_log(EVT_MTA_INIT_FATAL, EVT_SRC_NONE, EVT_CAUSE_STORE_INIT);
    }
}

static void mta_services_init(void)
{
    static dsn_env_t dsn_env;
    mta_store_init();
    dsn_env.hostname = nif_count() > 0 ? nif_at(0)->hostname : "localhost";
    dsn_env.date = mta_dsn_date;
    queue_set_dsn_env(&dsn_env);
    queue_set_event_hook(mta_queue_event);
    smtpd_init();
    /* The SIZE we announce can never exceed what the store can hold. */
    smtpd_limits_t lim;
    smtpd_get_limits(&lim);
    uint32_t cap = mta_max_message();
    if (lim.max_msg_size > cap) {
        lim.max_msg_size = cap;
        smtpd_set_limits(&lim);
    }
    route_init(nif_count());
    peertls_init();
    users_init();
    srv_init();
    (void)tls_init(); /* logs 1700 or 1701; without TLS the MTA runs in plaintext */
    cfg_boot(board_factory_config());
    /* After the configuration: certificates are made for the hostnames it sets. */
    if (tls_ready()) {
        (void)tls_ensure_certs();
    }
    srv_start();
    dlv_init();
}

uint32_t mta_uptime_s(void)
{
    return board_now_ms() / 1000u;
}

/* Console output goes to the board's UART without ever waiting on it: what
 * the UART does not take now stays in the console ring for the next pass. */
static void mta_console_service(void)
{
    /* Drain everything the UART buffered (bounded: 8 x 64 bytes per pass)
     * so that a paste or a flood does not overflow the driver's RX ring. */
    uint8_t buf[64];
    for (int i = 0; i < 8; i++) {
        size_t n = board_console_read(buf, sizeof(buf));
        if (n == BOARD_CONSOLE_EOF) {
            mta_shutdown(false, 0);
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
static void mta_console_flush(void)
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

void mta_shutdown(bool reboot, int status)
{
    /* An orderly stop marks the flash store clean: no recovery at next boot. */
    if (flash_store_ok) {
        store_flash_close(&flash_store);
    }
    mta_console_flush();
    if (reboot) {
        board_reboot();
    }
    board_poweroff(status);
}

static void queue_housekeeping(void)
{
    static uint32_t last;
    uint32_t now = mta_uptime_s();
    if (now - last >= 60u) {
        last = now;
        queue_tick(now);
    }
}

void mta_run(int argc, char **argv)
{
    board_init(argc, argv);
    evt_init(board_now_ms);
    evt_set_resolvers(&mta_resolvers);
    lwip_init();
    board_netifs_init();
    board_poll(); /* learn link states before the listeners are opened */
    nif_set_change_hook(mta_netif_changed);
    cmd_init();
    mta_services_init();
    evt_log(EVT_SYS_BOOT, EVT_SRC_NONE, evt_pack_boot(0, MTA_VERSION_MAJOR, MTA_VERSION_MINOR, MTA_VERSION_PATCH));
    con_start();

    for (;;) {
        board_poll();           /* drivers -> lwIP input */
        sys_check_timeouts();   /* lwIP and MTA timers */
        srv_poll();             /* MTA work: listeners, */
        dlv_poll();             /* deliveries */
        queue_housekeeping();
        mta_console_service();  /* console in and out */
        if (con_output_pending() == 0) {
            board_idle(10);
        }
    }
}
