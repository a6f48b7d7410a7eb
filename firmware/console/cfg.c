/* Configuration: the running configuration as console commands, saved to
 * and restored from flash, plus the console password and the few settings
 * that live nowhere else (retry schedule, live events).
 *
 * The configuration has one form: console command lines.  `show
 * running-config` prints the lines that recreate the current state; `save`
 * stores exactly that text in the config partition (two slots, atomic, see
 * cfgstore.h); boot replays it through the console dispatcher, so a saved
 * configuration is validated by the same code as a typed one. */
#include "console/cfg.h"

#include <string.h>

#include "board.h"
#include "lib/twoslot.h"
#include "console/con.h"
#include "evt/evt.h"
#include "lib/fmt.h"
#include "net/nif.h"
#include "queue/queue.h"
#include "route/route.h"
#include "smtp/smtpd.h"
#include "net/smtpd_net.h"
#include "flash/flash.h"
#include "tls/pwhash.h"
#include "console/cmd_tls.h"
#include "tls/tls.h"
#include "lwip/ip4_addr.h"

#define CFG_LOCK_MAX_S 60     /* longest lockout after repeated failures */

static char cfg_text[TWOSLOT_MAX + 1];   /* running-config as text (also the save buffer) */
static size_t cfg_len;
static bool cfg_overflow;
static char cfg_startup[TWOSLOT_MAX + 1];
static size_t cfg_startup_len;
static bool cfg_have_startup;

static uint32_t retry_min = QUEUE_RETRY_MIN_S, retry_max = QUEUE_RETRY_MAX_S, lifetime = QUEUE_LIFETIME_S;
static uint32_t warn_s = QUEUE_WARN_S;   /* queue warn: delay warning after, 0 = off */
static uint8_t live_min_sev = 0xFF;       /* 0xFF = live events off */

static bool pw_set;
static pwhash_t pw;
static uint32_t pw_fails, pw_locked_until_ms;

/* ------------------------------------------------------------ text builder */

static void cfg_add(const char *fmt, ...) FMT_PRINTF(1, 2);
static void cfg_add(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = fmt_vsnprintf(cfg_text + cfg_len, sizeof(cfg_text) - cfg_len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(cfg_text) - cfg_len) {
        cfg_overflow = true;
        cfg_text[cfg_len] = 0;
        return;
    }
    cfg_len += (size_t)n;
}

static void cfg_peer_line(const route_peer_t *p, bool with_failover)
{
    char a[16], h[16];
    cfg_add("peer add %s %s port %u via %s", p->name, nif_ip4_str(p->addr, a), p->port, nif_name_or_auto(p->via));
    if (p->next_hop != 0) {
        cfg_add(" nexthop %s", nif_ip4_str(p->next_hop, h));
    }
    if (p->mode == ROUTE_MODE_ENFORCE) {
        cfg_add(" enforce");
    }
    if (with_failover) {
        for (unsigned k = 0; k < p->n_alts; k++) {
            const route_peer_t *q = route_peer_get(p->alts[k].peer);
            cfg_add(" failover %s@%s", q != NULL ? q->name : "?", nif_name_or_auto(p->alts[k].netif));
        }
    }
    cfg_add("\n");
}

/* Build the running configuration into cfg_text.  Deterministic: printing,
 * replaying on a factory-reset device and printing again gives the same text. */
static int cfg_build(void)
{
    static const char *const relay_name[] = { "subnet", "any", "none" };
    cfg_len = 0;
    cfg_overflow = false;
    cfg_text[0] = 0;
    for (uint8_t i = 0; i < nif_count(); i++) {
        nif_settings_t st;
        char a[16], g[16];
        nif_get_settings(i, &st);
        cfg_add("interface %s", nif_name(i));
        if (!ip4_addr_isany_val(st.addr)) {
            cfg_add(" address %s/%u", ip4addr_ntoa_r(&st.addr, a, sizeof(a)), st.prefix);
        } else {
            cfg_add(" address none");
        }
        if (!ip4_addr_isany_val(st.p2p)) {
            cfg_add(" peer %s", ip4addr_ntoa_r(&st.p2p, g, sizeof(g)));
        } else if (!ip4_addr_isany_val(st.gw)) {
            cfg_add(" gateway %s", ip4addr_ntoa_r(&st.gw, g, sizeof(g)));
        }
        if (st.hostname[0]) {
            cfg_add(" hostname %s", st.hostname);
        }
        cfg_add(" mtu %u %s\n", st.mtu, st.admin_up ? "up" : "down");
    }
    for (uint8_t i = 0; i < nif_count(); i++) {
        uint16_t port;
        bool on;
        smtpd_net_get_listener(i, &port, &on);
        if (on) {
            cfg_add("listener %s port %u\n", nif_name(i), port);
        } else {
            cfg_add("listener %s off\n", nif_name(i));
        }
        cfg_add("relay %s %s\n", nif_name(i), relay_name[smtpd_net_get_relay(i)]);
    }
    /* Peers first without failover lists (which may name later peers), then
     * again with them: `peer add` on an existing name modifies it. */
    for (int i = route_peer_next(-1); i >= 0; i = route_peer_next(i)) {
        cfg_peer_line(route_peer_get((unsigned)i), false);
    }
    for (int i = route_peer_next(-1); i >= 0; i = route_peer_next(i)) {
        const route_peer_t *p = route_peer_get((unsigned)i);
        if (p->n_alts > 0) {
            cfg_peer_line(p, true);
        }
    }
    for (int i = route_peer_next(-1); i >= 0; i = route_peer_next(i)) {
        cmd_tls_peer_config((unsigned)i, route_peer_get((unsigned)i)->name, cfg_add);
    }
    for (int i = route_next(-1); i >= 0; i = route_next(i)) {
        const route_route_t *r = route_get((unsigned)i);
        cfg_add("route add %s", r->pattern);
        for (unsigned k = 0; k < r->n_peers; k++) {
            const route_peer_t *p = route_peer_get(r->peers[k]);
            cfg_add(" %s", p != NULL ? p->name : "?");
        }
        cfg_add("\n");
    }
    smtpd_limits_t l;
    smtpd_get_limits(&l);
    cfg_add("limit message-size %lu\nlimit recipients %u\n", (unsigned long)l.max_msg_size, l.max_rcpt);
    cfg_add("queue retry %lu %lu %lu\n", (unsigned long)retry_min, (unsigned long)retry_max,
            (unsigned long)lifetime);
    if (warn_s != 0u) {
        cfg_add("queue warn %lu\n", (unsigned long)warn_s);
    }
    cfg_add("events live %s\n", live_min_sev == 0xFF ? "off" : evt_sev_name(live_min_sev));
    cmd_tls_config(cfg_add);
    if (pw_set) {
        char t[PWHASH_TEXT_MAX];
        pwhash_to_text(&pw, t);
        cfg_add("console password-hash %s\n", t);
    }
    return cfg_overflow ? -1 : 0;
}

/* ---------------------------------------------------------------- commands */

/* Lines that carry secrets, and which of their words are secret (0-based,
 * from `from` to the end or to `to`). Shown as <hidden> unless the user asks
 * with `show running-config secrets`; `save` always stores them. */
static const struct {
    const char *prefix;
    uint8_t from, to;
} cfg_secret_lines[] = {
    { "console password-hash ", 2, 3 },
    { "user hash ", 3, 4 },
    { "peer auth ", 4, 4 },
};

static void cfg_print_line(const char *p, size_t n, bool reveal)
{
    for (size_t k = 0; !reveal && k < sizeof(cfg_secret_lines) / sizeof(cfg_secret_lines[0]); k++) {
        size_t pl = strlen(cfg_secret_lines[k].prefix);
        if (n < pl || memcmp(p, cfg_secret_lines[k].prefix, pl) != 0) {
            continue;
        }
        /* Generated lines separate words by single spaces; the secret words
         * become one "<hidden>". */
        unsigned w = 0;
        for (size_t i = 0; i < n; w++) {
            size_t j = i;
            while (j < n && p[j] != ' ') {
                j++;
            }
            bool secret = w >= cfg_secret_lines[k].from && w <= cfg_secret_lines[k].to;
            if (!secret || w == cfg_secret_lines[k].from) {
                if (w > 0) {
                    con_write(" ", 1);
                }
                con_write(secret ? "<hidden>" : p + i, secret ? 8 : j - i);
            }
            i = j + 1;
        }
        con_write("\n", 1);
        return;
    }
    con_write(p, n);
    con_write("\n", 1);
}

static void cfg_print(const char *text, size_t len, bool reveal)
{
    /* con_printf cuts long strings: hand the text over line by line. */
    const char *p = text, *end = text + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
        cfg_print_line(p, n, reveal);
        p += n + (nl != NULL);
    }
}

static bool cfg_reveal_arg(int argc, char **argv, bool *reveal)
{
    *reveal = argc == 1 && strcmp(argv[0], "secrets") == 0;
    return argc == 0 || *reveal;
}

static bool cfg_dirty(void)
{
    return !cfg_have_startup || cfg_len != cfg_startup_len || memcmp(cfg_text, cfg_startup, cfg_len) != 0;
}

static int cmd_show_running(int argc, char **argv)
{
    bool reveal;
    if (!cfg_reveal_arg(argc, argv, &reveal)) {
        return CON_ERR_USAGE;
    }
    if (cfg_build() < 0) {
        con_error("configuration larger than %u bytes: cannot print or save it whole", (unsigned)TWOSLOT_MAX);
        return CON_ERR_FAIL;
    }
    con_printf("! running-config, %u bytes%s\n", (unsigned)cfg_len,
               cfg_dirty() ? ", UNSAVED changes (differs from startup-config)" : ", saved");
    cfg_print(cfg_text, cfg_len, reveal);
    return 0;
}

static int cmd_show_startup(int argc, char **argv)
{
    bool reveal;
    if (!cfg_reveal_arg(argc, argv, &reveal)) {
        return CON_ERR_USAGE;
    }
    if (!cfg_have_startup) {
        con_printf("! no startup-config saved: the device boots with factory defaults\n");
        return 0;
    }
    con_printf("! startup-config, %u bytes\n", (unsigned)cfg_startup_len);
    cfg_print(cfg_startup, cfg_startup_len, reveal);
    return 0;
}

static int cmd_save(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    const flash_part_t *part = board_flash_partition("config");
    if (part == NULL) {
        con_error("no flash on this device: the configuration cannot be saved");
        return CON_ERR_FAIL;
    }
    if (cfg_build() < 0) {
        con_error("configuration larger than %u bytes: not saved", (unsigned)TWOSLOT_MAX);
        return CON_ERR_FAIL;
    }
    twoslot_info_t info;
    int r = twoslot_save(part, cfg_text, cfg_len, &info);
    if (r != TWOSLOT_OK) {
        con_error("save failed (error %d): the previous startup-config is unchanged", r);
        return CON_ERR_FAIL;
    }
    memcpy(cfg_startup, cfg_text, cfg_len);
    cfg_startup_len = cfg_len;
    cfg_have_startup = true;
    evt_log(EVT_CONFIG_SAVED, (uint8_t)info.slot, info.seq[info.slot]);
    con_printf("saved %u bytes to slot %d (generation %lu)\n", (unsigned)cfg_len, info.slot,
               (unsigned long)info.seq[info.slot]);
    return 0;
}

static int cmd_factory_reset(int argc, char **argv)
{
    if (argc != 1 || strcmp(argv[0], "confirm") != 0) {
        con_error("this erases the saved configuration and the TLS keys; type 'factory-reset confirm' to do it");
        return CON_ERR_FAIL;
    }
    const flash_part_t *part = board_flash_partition("config");
    if (part != NULL && twoslot_erase(part) != TWOSLOT_OK) {
        con_error("erase failed: the saved configuration may still be there");
        return CON_ERR_FAIL;
    }
    cfg_have_startup = false;
    /* A device reset for another site must not keep this one's keys. */
    if (tls_erase_stored() != 0) {
        con_error("configuration erased, but erasing the TLS keys and certificates failed");
        return CON_ERR_FAIL;
    }
    con_printf("saved configuration, TLS keys, certificates and CA certificates erased; "
               "'reboot' starts with factory defaults and new self-signed certificates\n");
    return 0;
}

static int cmd_queue_retry(int argc, char **argv)
{
    uint32_t v[3];
    (void)argc;
    for (int i = 0; i < 3; i++) {
        if (con_parse_u32(argv[i], &v[i]) != CON_OK) {
            v[i] = 0xFFFFFFFFu; /* out of every range below */
        }
    }
    if (v[0] < 1 || v[0] > 86400) {
        con_error("bad first retry '%s' (1-86400 s)", argv[0]);
        return CON_ERR_FAIL;
    }
    if (v[1] < v[0] || v[1] > 86400) {
        con_error("bad maximum retry '%s' (first retry-86400 s)", argv[1]);
        return CON_ERR_FAIL;
    }
    if (v[2] < v[1] || v[2] > 30u * 86400u) {
        con_error("bad lifetime '%s' (maximum retry-2592000 s)", argv[2]);
        return CON_ERR_FAIL;
    }
    retry_min = v[0];
    retry_max = v[1];
    lifetime = v[2];
    queue_set_retry(retry_min, retry_max, lifetime);
    return 0;
}

/* queue warn SECONDS: one "delayed" DSN per recipient still queued after
 * that long (RFC 3464 Action: delayed); 0 = off. */
static int cmd_queue_warn(int argc, char **argv)
{
    uint32_t v;
    (void)argc;
    /* up to the longest lifetime: a warning after it could never come */
    if (con_parse_u32(argv[0], &v) != CON_OK || v > 30u * 86400u) {
        con_error("bad delay warning '%s' (0 = off, 1-2592000 s)", argv[0]);
        return CON_ERR_FAIL;
    }
    warn_s = v;
    queue_set_warn(warn_s);
    return 0;
}

static void cfg_live_event(const evt_record_t *r)
{
    if (live_min_sev != 0xFF && r->sev >= live_min_sev) {
        char line[200];
        evt_format(r, line, sizeof(line));
        con_async_printf("%s\n", line);
    }
}

static int cmd_events_live(int argc, char **argv)
{
    (void)argc;
    if (strcmp(argv[0], "off") == 0) {
        live_min_sev = 0xFF;
        return 0;
    }
    for (uint8_t s = 0; s < 8; s++) {
        const char *n = evt_sev_name(s);
        if (n != NULL && strcmp(n, argv[0]) == 0) {
            live_min_sev = s;
            evt_set_listener(cfg_live_event);
            return 0;
        }
    }
    con_error("bad severity '%s' (off, debug, info, notice, warning, error, critical)", argv[0]);
    return CON_ERR_FAIL;
}

static int cmd_listener(int argc, char **argv)
{
    int i = nif_find(argv[0]);
    if (i < 0) {
        con_error("unknown netif '%s'", argv[0]);
        return CON_ERR_FAIL;
    }
    if (argc == 2 && strcmp(argv[1], "off") == 0) {
        smtpd_net_set_listener((uint8_t)i, SMTPD_NET_PORT, false);
        return 0;
    }
    uint32_t port = 0;
    if (argc == 3 && strcmp(argv[1], "port") == 0 && con_parse_u32(argv[2], &port) != CON_OK) {
        port = 0;
    }
    if (port < 1 || port > 65535) {
        con_error("usage: listener NETIF port 1-65535 | listener NETIF off");
        return CON_ERR_FAIL;
    }
    smtpd_net_set_listener((uint8_t)i, (uint16_t)port, true);
    return 0;
}

/* ------------------------------------------------------- console password */

static int cfg_gate(const char *line)
{
    uint32_t now = board_now_ms();
    if ((int32_t)(pw_locked_until_ms - now) > 0) {
        con_printf("%% locked: try again in %lu s\n", (unsigned long)((pw_locked_until_ms - now) / 1000u + 1u));
        return 1;
    }
    if (pwhash_check(&pw, line)) {
        pw_fails = 0;
        con_set_echo(true);
        con_set_prompt(NULL);
        return 0;
    }
    pw_fails++;
    evt_log(EVT_CONSOLE_LOGIN_FAIL, 0, pw_fails);
    /* 1, 2, 4 ... 60 s: a guessing script slows to a crawl; a typo costs a second. */
    uint32_t delay = pw_fails >= 7 ? CFG_LOCK_MAX_S : (1u << (pw_fails - 1));
    pw_locked_until_ms = now + delay * 1000u;
    con_printf("%% wrong password (locked for %lu s)\n", (unsigned long)delay);
    return 1;
}

static void cfg_lock(void)
{
    if (pw_set) {
        con_set_prompt("Password: ");
        con_set_echo(false);
        con_set_gate(cfg_gate);
    }
}

static int cmd_console_password(int argc, char **argv)
{
    (void)argc;
    if (strcmp(argv[0], "none") == 0) {
        pw_set = false;
        con_set_gate(NULL);
        return 0;
    }
    size_t n = strlen(argv[0]);
    if (n < 8 || n > 64) {
        con_error("password must be 8-64 characters");
        return CON_ERR_FAIL;
    }
    pwhash_make(&pw, argv[0]);
    pw_set = true;
    memset(argv[0], 0, n); /* do not leave it in the line buffer */
    con_printf("console password set (stored as a salted hash; 'save' to keep it)\n");
    return 0;
}

static int cmd_console_password_hash(int argc, char **argv)
{
    (void)argc;
    if (pwhash_from_hex(argv[0], argv[1], &pw) < 0) {
        con_error("bad password hash (want SALT HASH as %d and %d hex digits)", 2 * PWHASH_SALT_LEN, 2 * PWHASH_LEN);
        return CON_ERR_FAIL;
    }
    pw_set = true;
    return 0;
}

static int cmd_logout(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    if (!pw_set) {
        con_error("no console password is set ('console password PASSWORD')");
        return CON_ERR_FAIL;
    }
    cfg_lock();
    return 0;
}

static const con_cmd_t cfg_table[] = {
    { "show running-config", "[secrets]", "the configuration as the commands that recreate it (secrets hidden)",
      cmd_show_running, 0, 1 },
    { "show startup-config", "[secrets]", "the configuration saved in flash (secrets hidden)", cmd_show_startup, 0, 1 },
    { "save", "", "write the running-config to flash (atomically)", cmd_save, 0, 0 },
    { "factory-reset", "confirm", "erase the saved configuration, TLS keys and certificates", cmd_factory_reset, 0, 1 },
    { "queue retry", "FIRST MAX LIFETIME", "retry schedule in seconds (first delay doubles up to MAX)",
      cmd_queue_retry, 3, 3 },
    { "queue warn", "SECONDS", "delay warning DSN after SECONDS in the queue (0 = off)", cmd_queue_warn, 1, 1 },
    { "events live", "off|SEVERITY", "print events of at least SEVERITY as they happen", cmd_events_live, 1, 1 },
    { "listener", "NETIF port N | NETIF off", "SMTP listener of an interface", cmd_listener, 2, 3 },
    { "console password", "PASSWORD|none", "require a password on the console", cmd_console_password, 1, 1 },
    { "console password-hash", "SALT HASH", "set the password from a saved hash (running-config)",
      cmd_console_password_hash, 2, 2 },
    { "logout", "", "lock the console (when a password is set)", cmd_logout, 0, 0 },
    { NULL, NULL, NULL, NULL, 0, 0 },
};

const con_cmd_t *cfg_commands(void)
{
    return cfg_table;
}

/* ---------------------------------------------------------------- boot */

static void cfg_apply(const char *text, size_t len)
{
    static char line[CON_LINE_MAX + 1];
    const char *p = text, *end = text + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
        if (n > 0 && n <= CON_LINE_MAX && p[0] != '!') {
            memcpy(line, p, n);
            line[n] = 0;
            con_exec(line);
        }
        p += n + (nl != NULL);
    }
}

void cfg_boot(const char *const *factory)
{
    const flash_part_t *part = board_flash_partition("config");
    if (part != NULL) {
        twoslot_info_t info;
        uint32_t seq = 0;
        int r = twoslot_load(part, cfg_startup, sizeof(cfg_startup) - 1, &cfg_startup_len, &seq, &info);
        if (r == TWOSLOT_OK) {
            cfg_startup[cfg_startup_len] = 0;
            cfg_have_startup = true;
            evt_log(EVT_CONFIG_LOADED, (uint8_t)info.slot, seq);
            if (info.any_corrupt) {
                evt_log(EVT_MTA_INIT_FATAL, EVT_SRC_NONE, EVT_CAUSE_CONFIG_CORRUPT);
            }
            cfg_apply(cfg_startup, cfg_startup_len);
            cfg_lock();
            return;
        }
        if (info.any_corrupt || r == TWOSLOT_ERR_IO) {
            /* Nothing valid and something was there: say so, then factory defaults. */
            evt_log(EVT_MTA_INIT_FATAL, EVT_SRC_NONE, EVT_CAUSE_CONFIG_CORRUPT);
        }
    }
    for (; factory != NULL && *factory != NULL; factory++) {
        con_exec(*factory);
    }
    queue_set_retry(retry_min, retry_max, lifetime);
    queue_set_warn(warn_s);
}
