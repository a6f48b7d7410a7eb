/* System console commands: version, show netif, show mem, events (and
 * `events live`, with its running-config line), ping, reboot, poweroff.  Other modules contribute their own tables; cmd_init()
 * is the one place that lists them. */
#include "console/cmd_sys.h"

#include <stdlib.h>
#include <string.h>

#include "board.h"
#include "console/con.h"
#include "console/cmd_auth.h"
#include "console/cmd_tls.h"
#include "evt/evt.h"
#include "lib/clock.h"
#include "version.h"
#include "net/nif.h"
#include "net/ping.h"
#include "console/cmd_mta.h"
#include "console/cmd_if.h"
#include "console/cfg.h"
#include "console/cmd_login.h"
#include "lwip/ip4_addr.h"
#include "lwip/stats.h"
#include "lwip/memp.h"

void cmd_sys_print_version(void)
{
    char built[24];
    clock_fmt_iso((uint32_t)MTA_BUILD_EPOCH, built, sizeof(built));
    con_printf("gateway-mta %s (%s), built %s\n", MTA_VERSION, BOARD_NAME, built);
}

static int cmd_version(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    cmd_sys_print_version();
    con_printf("board: %s\n", board_describe());
    con_printf("uptime: %lu s\n", (unsigned long)clock_uptime_s());
    return 0;
}

static int cmd_show_netif(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    if (nif_count() == 0) {
        con_printf("no interfaces\n");
        return 0;
    }
    for (uint8_t i = 0; i < nif_count(); i++) {
        const nif_t *n = nif_at(i);
        const struct netif *ni = n->netif;
        char ip[16], gw[16];
        ip4addr_ntoa_r(netif_ip4_addr(ni), ip, sizeof(ip));
        ip4addr_ntoa_r(netif_ip4_gw(ni), gw, sizeof(gw));
        con_printf("%-6s %-8s %s, link %s%s\n", n->name, n->kind, netif_is_up(ni) ? "up" : "down",
                   netif_is_link_up(ni) ? "up" : "down", ni == netif_default ? ", default" : "");
        if (ni->hwaddr_len == 6) {
            con_printf("       mac %02x:%02x:%02x:%02x:%02x:%02x  mtu %u\n", ni->hwaddr[0], ni->hwaddr[1],
                       ni->hwaddr[2], ni->hwaddr[3], ni->hwaddr[4], ni->hwaddr[5], ni->mtu);
        } else {
            con_printf("       mac -  mtu %u\n", ni->mtu);
        }
        con_printf("       addr %s/%u  gw %s  hostname %s\n", ip, nif_prefix_len(netif_ip4_netmask(ni)), gw,
                   n->hostname[0] ? n->hostname : "-");
#if MIB2_STATS
        const struct stats_mib2_netif_ctrs *c = &ni->mib2_counters;
        con_printf("       rx %lu pkts %lu bytes, tx %lu pkts %lu bytes, drop rx %lu tx %lu\n",
                   (unsigned long)(c->ifinucastpkts + c->ifinnucastpkts), (unsigned long)c->ifinoctets,
                   (unsigned long)(c->ifoutucastpkts + c->ifoutnucastpkts), (unsigned long)c->ifoutoctets,
                   (unsigned long)c->ifindiscards, (unsigned long)c->ifoutdiscards);
#endif
    }
    return 0;
}

static int cmd_show_cpu(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    uint64_t us = board_uptime_us();
    con_printf("uptime_us %llu\n", (unsigned long long)us);
    return 0;
}

static int cmd_show_mem(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    con_printf("%-16s %8s %6s %6s %6s\n", "pool", "size", "used", "max", "err");
#if MEM_STATS
    con_printf("%-16s %8lu %6lu %6lu %6lu\n", "lwip heap", (unsigned long)lwip_stats.mem.avail,
               (unsigned long)lwip_stats.mem.used, (unsigned long)lwip_stats.mem.max,
               (unsigned long)lwip_stats.mem.err);
#endif
#if MEMP_STATS
    /* lwIP keeps pool names only in debug builds: take them from its pool list. */
    static const char *const pool_names[MEMP_MAX] = {
#define LWIP_MEMPOOL(name, num, size, desc) desc,
#include "lwip/priv/memp_std.h"
    };
    for (int i = 0; i < MEMP_MAX; i++) {
        const struct stats_mem *m = lwip_stats.memp[i];
        if (m == NULL) {
            continue;
        }
        con_printf("%-16s %8lu %6lu %6lu %6lu\n", pool_names[i], (unsigned long)m->avail,
                   (unsigned long)m->used, (unsigned long)m->max, (unsigned long)m->err);
    }
#endif
    evt_stats_t st;
    evt_stats(&st);
    con_printf("%-16s %8lu %6lu %6s %6lu\n", "event ring", (unsigned long)st.capacity, (unsigned long)st.count,
               "-", (unsigned long)st.dropped);
    con_stats_t cs = con_stats();
    con_printf("%-16s %8u %6lu %6s %6lu\n", "console out", (unsigned)CON_TX_RING,
               (unsigned long)con_output_pending(), "-", (unsigned long)cs.dropped_bytes);
    return 0;
}

static void cmd_print_event(const evt_record_t *r)
{
    char line[200];
    evt_format(r, line, sizeof(line));
    con_printf("%s\n", line);
}

/* `events` prints a whole ring, more than the console's output ring holds:
 * one event per step, as the UART drains (con_continue). */
static struct {
    evt_iter_t it;
    unsigned n;
} events_walk;

static bool events_step(void *ctx)
{
    evt_record_t r;
    (void)ctx;
    if (evt_iter_next(&events_walk.it, &r)) {
        cmd_print_event(&r);
        events_walk.n++;
        return true;
    }
    evt_stats_t st;
    evt_stats(&st);
    con_printf("(%u shown, %lu in ring, %lu overwritten)\n", events_walk.n, (unsigned long)st.count,
               (unsigned long)st.dropped);
    return false;
}

static int cmd_events(int argc, char **argv)
{
    evt_filter_t f = { EVT_FILTER_ALL, 0 };
    if (argc == 1 || argc > 2) {
        con_error("usage: events [last N | since SEQ | id ID]");
        return CON_ERR_FAIL;
    }
    if (argc == 2) {
        uint32_t v;
        if (con_parse_u32(argv[1], &v) < 0) {
            con_error("bad number '%s'", argv[1]);
            return CON_ERR_FAIL;
        }
        if (strcmp(argv[0], "last") == 0) {
            f.kind = EVT_FILTER_LAST_N;
        } else if (strcmp(argv[0], "since") == 0) {
            f.kind = EVT_FILTER_SINCE_SEQ;
        } else if (strcmp(argv[0], "id") == 0) {
            if (v > 0xFFFF) {
                con_error("bad event id '%s'", argv[1]);
                return CON_ERR_FAIL;
            }
            f.kind = EVT_FILTER_BY_ID;
        } else {
            con_error("unknown filter '%s' (last, since, id)", argv[0]);
            return CON_ERR_FAIL;
        }
        f.value = v;
    }
    evt_iter_init(&events_walk.it, f);
    events_walk.n = 0;
    con_continue(events_step, &events_walk);
    return 0;
}

static int cmd_events_clear(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    uint32_t n = evt_clear();
    evt_log(EVT_SYS_EVENTS_CLEARED, EVT_SRC_NONE, n);
    con_printf("events cleared (%lu)\n", (unsigned long)n);
    return 0;
}

/* `events live`: the console prints events of at least this severity as
 * they happen; EVT_LIVE_OFF = not at all. The one copy of the setting. */
#define EVT_LIVE_OFF 0xFFu
static uint8_t live_min_sev = EVT_LIVE_OFF;

static void cmd_live_event(const evt_record_t *r)
{
    if (live_min_sev != EVT_LIVE_OFF && r->sev >= live_min_sev) {
        char line[200];
        evt_format(r, line, sizeof(line));
        con_async_printf("%s\n", line);
    }
}

static int cmd_events_live(int argc, char **argv)
{
    (void)argc;
    if (strcmp(argv[0], "off") == 0) {
        live_min_sev = EVT_LIVE_OFF;
        return 0;
    }
    for (uint8_t s = 0; s < 8; s++) {
        const char *n = evt_sev_name(s);
        if (n != NULL && strcmp(n, argv[0]) == 0) {
            live_min_sev = s;
            evt_set_listener(cmd_live_event);
            return 0;
        }
    }
    con_error("bad severity '%s' (off, debug, info, notice, warning, error, critical)", argv[0]);
    return CON_ERR_FAIL;
}

void cmd_sys_emit_config(con_emit_fn emit, void *ctx, bool show_secrets)
{
    (void)show_secrets;
    emit(ctx, "events live %s\n", live_min_sev == EVT_LIVE_OFF ? "off" : evt_sev_name(live_min_sev));
}

static int cmd_events_catalog(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    for (size_t i = 0; i < evt_catalog_count(); i++) {
        const evt_def_t *d = evt_catalog_at(i);
        con_printf("%5u %-8s %-8s %s\n", d->id, evt_sev_name(d->sev), evt_cat_name(d->cat), d->msg);
    }
    return 0;
}

static int cmd_events_explain(int argc, char **argv)
{
    (void)argc;
    uint32_t id;
    const evt_def_t *d = NULL;
    if (con_parse_u32(argv[0], &id) == 0 && id <= 0xFFFF) {
        d = evt_catalog_find((uint16_t)id);
    }
    if (d == NULL) {
        con_error("unknown event id '%s' (see 'events catalog')", argv[0]);
        return CON_ERR_FAIL;
    }
    con_printf("%u %s (%s, %s)\n", d->id, d->symbol, evt_sev_name(d->sev), evt_cat_name(d->cat));
    con_printf("  %s\n", d->msg);
    /* Wrap the explanation at ~72 columns on word boundaries. */
    const char *p = d->help;
    while (*p) {
        size_t len = strlen(p);
        size_t cut = len;
        if (len > 72) {
            cut = 72;
            while (cut > 20 && p[cut] != ' ') {
                cut--;
            }
        }
        con_printf("  %.*s\n", (int)cut, p);
        p += cut;
        while (*p == ' ') {
            p++;
        }
    }
    return 0;
}

static void cmd_ping_report(const char *line)
{
    con_async_printf("%s\n", line);
}

static int cmd_ping(int argc, char **argv)
{
    ip4_addr_t dst;
    struct netif *via = NULL;
    if (nif_parse_ip4(argv[0], &dst) < 0) {
        con_error("bad IPv4 address '%s'", argv[0]);
        return CON_ERR_FAIL;
    }
    if (argc == 3) {
        if (strcmp(argv[1], "via") != 0) {
            con_error("usage: ping IP [via NETIF]");
            return CON_ERR_FAIL;
        }
        int i = nif_find(argv[2]);
        if (i < 0) {
            con_error("unknown netif '%s'", argv[2]);
            return CON_ERR_FAIL;
        }
        via = nif_at((uint8_t)i)->netif;
    } else if (argc != 1) {
        con_error("usage: ping IP [via NETIF]");
        return CON_ERR_FAIL;
    }
    if (ping_start(&dst, via, cmd_ping_report) < 0) {
        con_error("a ping is already running");
        return CON_ERR_FAIL;
    }
    return 0;
}

static int cmd_reboot(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    con_printf("rebooting\n");
    cmd_env()->shutdown(true, 0);
    return 0; /* not reached */
}

static int cmd_poweroff(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    con_printf("powering off\n");
    cmd_env()->shutdown(false, 0);
    return 0; /* not reached */
}

static const con_cmd_t cmd_sys_table[] = {
    { "version", "", "firmware version, board and uptime", cmd_version, 0, 0 },
    { "show netif", "", "interfaces: address, link, counters", cmd_show_netif, 0, 0 },
    { "show cpu", "", "guest time in microseconds (instructions/1000 under QEMU -icount 0)", cmd_show_cpu, 0, 0 },
    { "show mem", "", "static pools: size, use, high-water mark", cmd_show_mem, 0, 0 },
    { "events", "[last N | since SEQ | id ID]", "show the event ring", cmd_events, 0, 2 },
    { "events clear", "", "empty the event ring", cmd_events_clear, 0, 0 },
    { "events catalog", "", "list every event ID", cmd_events_catalog, 0, 0 },
    { "events explain", "ID", "explain an event ID and what to do", cmd_events_explain, 1, 1 },
    { "events live", "off|SEVERITY", "print events of at least SEVERITY as they happen", cmd_events_live, 1, 1 },
    { "ping", "IP [via NETIF]", "ICMP echo, optionally out of one interface", cmd_ping, 1, 3 },
    { "reboot", "", "restart the device", cmd_reboot, 0, 0 },
    { "poweroff", "", "stop the device (QEMU exits with status 0)", cmd_poweroff, 0, 0 },
    { NULL, NULL, NULL, NULL, 0, 0 },
};

static const cmd_env_t *cmd_the_env;

const cmd_env_t *cmd_env(void)
{
    return cmd_the_env;
}

/* The running-config in replay order, which is also the saved format: a
 * line may name only what an earlier line made (interfaces before their
 * listeners, peers before their TLS levels and the routes that use them). */
static const cfg_emitter_fn cmd_emitters[] = {
    cmd_if_emit_config,     /* interface */
    cmd_mta_emit_listeners, /* listener, relay */
    cmd_mta_emit_peers,     /* peer add */
    cmd_auth_emit_peers,    /* peer tls, peer auth */
    cmd_mta_emit_config,    /* route add, limit, queue retry */
    cmd_sys_emit_config,    /* events live */
    cmd_tls_emit_config,    /* tls policy, auth policy */
    cmd_auth_emit_config,   /* user hash */
    cmd_login_emit_config,  /* console password-hash */
};
/* The modules whose lines can carry a secret. */
static const cfg_hider_fn cmd_hiders[] = {
    cmd_auth_hide_config,
    cmd_login_hide_config,
};
static const cfg_modules_t cmd_cfg = {
    cmd_emitters, sizeof(cmd_emitters) / sizeof(cmd_emitters[0]),
    cmd_hiders, sizeof(cmd_hiders) / sizeof(cmd_hiders[0]),
};

void cmd_init(const cmd_env_t *env)
{
    cmd_the_env = env;
    cfg_init(&cmd_cfg);
    /* The order is the order of words in "ambiguous command" lines. */
    static const con_cmd_t *tables[7];
    tables[0] = cmd_sys_table;
    tables[1] = cmd_mta_commands();
    tables[2] = cmd_if_commands();
    tables[3] = cfg_commands();
    tables[4] = cmd_login_commands();
    tables[5] = cmd_tls_commands();
    tables[6] = cmd_auth_commands();
    con_init(tables, sizeof(tables) / sizeof(tables[0]));
}
