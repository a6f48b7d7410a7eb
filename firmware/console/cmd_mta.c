/* Console commands of the MTA itself: clock, queue, statistics, peers and
 * routes.  Each command validates its input and on error prints one line
 * naming the bad field and changes nothing. */
#include "console/cmd_mta.h"

#include <string.h>

#include "lib/clock.h"
#include "console/con.h"
#include "net/smtpc_net.h"
#include "evt/evt.h"
#include "console/cmd_env.h"
#include "net/nif.h"
#include "net/lwip_err.h"
#include "queue/queue.h"
#include "route/route.h"
#include "route/peertls.h"
#include "console/cmd_tls.h"
#include "smtp/smtpd.h"
#include "net/smtpd_net.h"
#include "queue/store_flash.h"

_Static_assert(NIF_NONE == ROUTE_NETIF_AUTO, "nif_name_or_auto() prints the route table's AUTO");
#include "lwip/ip4_addr.h"

static int parse_msgid(const char *s, uint32_t *out)
{
    uint32_t v = 0;
    size_t n = strlen(s);
    if (n == 0 || n > 8) {
        return -1;
    }
    for (; *s; s++) {
        char c = *s;
        uint32_t d;
        if (c >= '0' && c <= '9') {
            d = (uint32_t)(c - '0');
        } else if (c >= 'a' && c <= 'f') {
            d = (uint32_t)(c - 'a' + 10);
        } else if (c >= 'A' && c <= 'F') {
            d = (uint32_t)(c - 'A' + 10);
        } else {
            return -1;
        }
        v = (v << 4) | d;
    }
    *out = v;
    return 0;
}

/* Console argument IP -> host byte order (the route table's order). */
static int parse_ip(const char *s, uint32_t *host_order)
{
    ip4_addr_t a;
    if (nif_parse_ip4(s, &a) < 0) {
        return -1;
    }
    *host_order = lwip_ntohl(ip4_addr_get_u32(&a));
    return 0;
}

/* ------------------------------------------------------------------ clock */

static int cmd_clock(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    char buf[40];
    clock_fmt_iso(clock_now(), buf, sizeof(buf));
    con_printf("%s (%s)\n", buf, clock_source_name());
    return 0;
}

static int cmd_clock_set(int argc, char **argv)
{
    uint32_t e;
    (void)argc;
    if (clock_parse_iso(argv[0], &e) < 0) {
        con_error("bad time '%s' (want YYYY-MM-DDTHH:MM:SSZ, UTC)", argv[0]);
        return CON_ERR_FAIL;
    }
    clock_set(e);
    evt_log(EVT_SYS_CLOCK_SET, EVT_SRC_NONE, e);
    return cmd_clock(0, NULL);
}

/* ------------------------------------------------------------------ queue */

static const char *rcpt_state_name(uint8_t st)
{
    switch (st) {
    case QUEUE_RCPT_PENDING:
        return "pending";
    case QUEUE_RCPT_INFLIGHT:
        return "sending";
    case QUEUE_RCPT_DEFERRED:
        return "deferred";
    case QUEUE_RCPT_DELIVERED:
        return "delivered";
    case QUEUE_RCPT_FAILED:
        return "failed";
    default:
        return "?";
    }
}

static void print_rcpts(uint32_t msgid, uint16_t n, bool detail)
{
    uint32_t now = clock_uptime_s();
    for (uint16_t i = 0; i < n; i++) {
        queue_rcpt_info_t r;
        if (queue_get_rcpt(msgid, i, &r) != QUEUE_OK) {
            continue;
        }
        char retry[24] = "-";
        if (r.state == QUEUE_RCPT_DEFERRED) {
            uint32_t in = r.next_retry > now ? r.next_retry - now : 0;
            fmt_snprintf(retry, sizeof(retry), "in %lus", (unsigned long)in);
        }
        con_printf("    %-40s %-9s tries %u next %s\n", r.address, rcpt_state_name(r.state), r.attempts, retry);
        if (detail && r.reply_code != 0) {
            con_printf("      last reply: %u %s %s\n", r.reply_code, r.reply_enh, r.reply_text);
        } else if (detail && r.attempts > 0) {
            con_printf("      last: %s\n", r.reply_text[0] ? r.reply_text : "no reply (connection failed)");
        }
        if (detail && (r.remote[0] != '\0' || r.reported || r.warned)) {
            /* RFC 3464 Remote-MTA, and whether the sender was told (issue 14) */
            con_printf("      peer %s%s%s\n", r.remote[0] != '\0' ? r.remote : "-",
                       r.reported ? ", reported" : "", r.warned ? ", delay warned" : "");
        }
    }
}

static int show_queue_one(void *ctx, const queue_msg_info_t *m)
{
    unsigned *n = ctx;
    (*n)++;
    con_printf("%08lX  age %5lus  size %7lu  from <%s>  via %s\n", (unsigned long)m->msgid, (unsigned long)m->age,
               (unsigned long)m->size, m->sender, nif_name(m->src_netif));
    print_rcpts(m->msgid, m->nrcpt, false);
    return 0;
}

static int cmd_show_queue(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    unsigned n = 0;
    queue_foreach(show_queue_one, &n);
    queue_stats_t st;
    queue_stats(&st);
    con_printf("%u message%s, %lu bytes\n", n, n == 1 ? "" : "s", (unsigned long)st.bytes);
    return 0;
}

static int cmd_queue_show(int argc, char **argv)
{
    uint32_t id;
    queue_msg_info_t m;
    (void)argc;
    if (parse_msgid(argv[0], &id) < 0 || queue_get_info(id, &m) != QUEUE_OK) {
        con_error("no message '%s' in the queue", argv[0]);
        return CON_ERR_FAIL;
    }
    con_printf("message %08lX\n  from <%s>\n  arrived on %s, %lu s ago\n  size %lu bytes\n", (unsigned long)id,
               m.sender, nif_name(m.src_netif), (unsigned long)m.age, (unsigned long)m.size);
    con_printf("  recipients %u: %u pending, %u sending, %u deferred, %u delivered, %u failed\n", m.nrcpt,
               m.n_pending, m.n_inflight, m.n_deferred, m.n_delivered, m.n_failed);
    print_rcpts(id, m.nrcpt, true);
    return 0;
}

static int cmd_queue_flush(int argc, char **argv)
{
    uint32_t id = QUEUE_ALL;
    if (argc == 1 && parse_msgid(argv[0], &id) < 0) {
        con_error("bad message id '%s'", argv[0]);
        return CON_ERR_FAIL;
    }
    int n = queue_flush(id);
    if (n < 0) {
        con_error("no message '%s' in the queue", argv[0]);
        return CON_ERR_FAIL;
    }
    smtpc_net_kick();
    con_printf("%d recipient%s made due now\n", n, n == 1 ? "" : "s");
    return 0;
}

static int cmd_queue_delete(int argc, char **argv)
{
    uint32_t id;
    (void)argc;
    if (parse_msgid(argv[0], &id) < 0) {
        con_error("bad message id '%s'", argv[0]);
        return CON_ERR_FAIL;
    }
    int r = queue_delete(id);
    if (r == QUEUE_ERR_NOTFOUND) {
        con_error("no message '%s' in the queue", argv[0]);
        return CON_ERR_FAIL;
    }
    if (r != QUEUE_OK) {
        con_error("message %s is being delivered right now; try again", argv[0]);
        return CON_ERR_FAIL;
    }
    con_printf("message %08lX deleted (no DSN sent)\n", (unsigned long)id);
    return 0;
}

/* queue retry FIRST MAX LIFETIME: the queue holds the schedule. */
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
    queue_set_retry(v[0], v[1], v[2]);
    return 0;
}

/* queue warn SECONDS: one "delayed" DSN per recipient still queued after
 * that long (RFC 3464 Action: delayed); 0 = off. The queue holds it. */
static int cmd_queue_warn(int argc, char **argv)
{
    uint32_t v;
    (void)argc;
    /* up to the longest lifetime: a warning after it could never come */
    if (con_parse_u32(argv[0], &v) != CON_OK || v > 30u * 86400u) {
        con_error("bad delay warning '%s' (0 = off, 1-2592000 s)", argv[0]);
        return CON_ERR_FAIL;
    }
    queue_set_warn(v);
    return 0;
}

static int cmd_show_stats(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    smtpd_stats_t s;
    queue_stats_t q;
    smtpd_stats(&s);
    queue_stats(&q);
    con_printf("inbound:  sessions %lu, refused busy %lu, messages accepted %lu\n", (unsigned long)s.sessions,
               (unsigned long)s.busy, (unsigned long)s.accepted);
    con_printf("          rejected: bare CR/LF %lu, long line %lu, too big %lu, queue full %lu, relay %lu\n",
               (unsigned long)s.rej_bare_eol, (unsigned long)s.rej_long_line, (unsigned long)s.rej_too_big,
               (unsigned long)s.rej_queue, (unsigned long)s.rej_relay);
    con_printf("          error replies %lu, timeouts %lu, error-limit closes %lu\n", (unsigned long)s.errors,
               (unsigned long)s.timeouts, (unsigned long)s.error_limit);
    con_printf("          STARTTLS %lu, AUTH ok %lu, AUTH failed %lu\n", (unsigned long)s.starttls,
               (unsigned long)s.auth_ok, (unsigned long)s.auth_fail);
    con_printf("queue:    messages %lu (%lu bytes), open transactions %lu\n", (unsigned long)q.messages,
               (unsigned long)q.bytes, (unsigned long)q.open_txns);
    con_printf("outbound: delivered %lu, deferrals %lu, failed %lu, expired %lu, DSNs %lu (dropped %lu), "
               "connections %u\n",
               (unsigned long)q.delivered, (unsigned long)q.deferred, (unsigned long)q.failed,
               (unsigned long)q.expired, (unsigned long)q.bounced, (unsigned long)q.dsn_dropped, smtpc_net_active());
    con_printf("store:    %lu of %lu bytes used\n", (unsigned long)q.store.used, (unsigned long)q.store.total);
    return 0;
}

static int cmd_show_store(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    store_flash_t *fs = cmd_env()->flash_store();
    if (fs == NULL) {
        queue_stats_t q;
        queue_stats(&q);
        con_printf("RAM store (not durable): %lu of %lu bytes used, %lu messages\n", (unsigned long)q.store.used,
                   (unsigned long)q.store.total, (unsigned long)q.messages);
        return 0;
    }
    store_flash_stats_t st;
    store_flash_stats(fs, &st);
    con_printf("flash store: partition %lu bytes, %u sectors of %lu bytes\n", (unsigned long)st.part_size,
               st.sectors, (unsigned long)st.sector_size);
    con_printf("  used %lu, live %lu, open %lu, dead %lu, free %lu bytes\n", (unsigned long)st.used,
               (unsigned long)st.live, (unsigned long)st.open, (unsigned long)st.dead, (unsigned long)st.free);
    con_printf("  sectors: %u used, %u free, %u awaiting erase\n", st.sectors_used, st.sectors_free,
               st.sectors_dirty);
    con_printf("  messages %u (%u open) of %u, recipients %u of %u, largest message %lu bytes\n", st.msgs,
               st.open_msgs, st.max_msgs, st.rcpts, st.max_rcpts, (unsigned long)st.max_body);
    con_printf("  erase counts: min %lu, max %lu, avg %lu; since boot: %lu erases, %lu compactions (%lu bytes copied)\n",
               (unsigned long)st.erase_min, (unsigned long)st.erase_max, (unsigned long)st.erase_avg,
               (unsigned long)st.erases, (unsigned long)st.compactions, (unsigned long)st.copied);
    const store_flash_recovery_t *r = &st.recovery;
    if (r->blank) {
        con_printf("  last mount: blank store (formatted on first use)\n");
    } else if (r->clean) {
        con_printf("  last mount: clean shutdown, %u messages\n", r->recovered);
    } else {
        con_printf("  last recovery: %u messages recovered (active %u, deferred %u, bounce %u), %u unsealed and "
                   "%u damaged dropped, %lu records discarded (%lu torn)\n",
                   r->recovered, r->queue[0], r->queue[1], r->queue[2], r->unsealed, r->damaged,
                   (unsigned long)r->discarded, (unsigned long)r->torn);
    }
    return 0;
}

/* ------------------------------------------------------------ peers/routes */

/* peer add NAME IP [port N] [via NETIF|auto] [nexthop IP] [enforce] [failover PEER@NETIF...] */
static int cmd_peer_add(int argc, char **argv)
{
    route_peer_t p;
    memset(&p, 0, sizeof(p));
    if (strlen(argv[0]) > ROUTE_NAME_MAX) {
        con_error("peer name too long (max %d)", ROUTE_NAME_MAX);
        return CON_ERR_FAIL;
    }
    strcpy(p.name, argv[0]);
    if (parse_ip(argv[1], &p.addr) < 0) {
        con_error("bad peer address '%s'", argv[1]);
        return CON_ERR_FAIL;
    }
    p.port = 25;
    p.via = ROUTE_NETIF_AUTO;
    p.mode = ROUTE_MODE_FAILOVER;
    for (int i = 2; i < argc; i++) {
        const char *k = argv[i];
        if (strcmp(k, "enforce") == 0) {
            p.mode = ROUTE_MODE_ENFORCE;
            continue;
        }
        if (i + 1 >= argc) {
            con_error("'%s' needs a value", k);
            return CON_ERR_FAIL;
        }
        const char *v = argv[++i];
        uint32_t n;
        if (strcmp(k, "port") == 0) {
            if (con_parse_u32(v, &n) < 0 || n == 0 || n > 65535) {
                con_error("bad port '%s' (1-65535)", v);
                return CON_ERR_FAIL;
            }
            p.port = (uint16_t)n;
        } else if (strcmp(k, "via") == 0) {
            if (strcmp(v, "auto") == 0) {
                p.via = ROUTE_NETIF_AUTO;
            } else {
                int ni = nif_find(v);
                if (ni < 0) {
                    con_error("unknown netif '%s'", v);
                    return CON_ERR_FAIL;
                }
                p.via = (uint8_t)ni;
            }
        } else if (strcmp(k, "nexthop") == 0) {
            if (parse_ip(v, &p.next_hop) < 0) {
                con_error("bad next hop '%s'", v);
                return CON_ERR_FAIL;
            }
        } else if (strcmp(k, "failover") == 0) {
            /* PEER@NETIF */
            char tmp[ROUTE_NAME_MAX + NIF_NAME_MAX + 2];
            if (strlen(v) >= sizeof(tmp) || strchr(v, '@') == NULL || p.n_alts >= ROUTE_MAX_ALTS) {
                con_error("bad failover '%s' (want PEER@NETIF, at most %d)", v, ROUTE_MAX_ALTS);
                return CON_ERR_FAIL;
            }
            strcpy(tmp, v);
            char *at = strchr(tmp, '@');
            *at = 0;
            int pi = route_peer_find(tmp);
            int ni = strcmp(at + 1, "auto") == 0 ? (int)ROUTE_NETIF_AUTO : nif_find(at + 1);
            if (pi < 0) {
                con_error("unknown peer '%s' in failover", tmp);
                return CON_ERR_FAIL;
            }
            if (ni < 0) {
                con_error("unknown netif '%s' in failover", at + 1);
                return CON_ERR_FAIL;
            }
            p.alts[p.n_alts].peer = (uint8_t)pi;
            p.alts[p.n_alts].netif = (uint8_t)ni;
            p.n_alts++;
        } else {
            con_error("unknown peer option '%s' (port, via, nexthop, enforce, failover)", k);
            return CON_ERR_FAIL;
        }
    }
    const char *why = NULL;
    int idx = route_peer_find(p.name);
    int r = idx >= 0 ? route_peer_modify((unsigned)idx, &p, &why) : route_peer_add(&p, &why);
    if (r < 0) {
        con_error("peer %s: %s", p.name, why ? why : route_strerror(r));
        return CON_ERR_FAIL;
    }
    smtpc_net_kick();
    return 0;
}

static int cmd_peer_del(int argc, char **argv)
{
    (void)argc;
    int idx = route_peer_find(argv[0]);
    const char *why = NULL;
    if (idx < 0) {
        con_error("unknown peer '%s'", argv[0]);
        return CON_ERR_FAIL;
    }
    int r = route_peer_del((unsigned)idx, &why);
    if (r < 0) {
        con_error("peer %s: %s", argv[0], why ? why : route_strerror(r));
        return CON_ERR_FAIL;
    }
    peertls_reset((unsigned)idx); /* a later peer with this index starts clean */
    return 0;
}

static int cmd_show_peers(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    for (int i = route_peer_next(-1); i >= 0; i = route_peer_next(i)) {
        const route_peer_t *p = route_peer_get((unsigned)i);
        char a[16], nh[16];
        con_printf("%-16s %s port %u via %s%s%s%s\n", p->name, nif_ip4_str(p->addr, a), p->port,
                   nif_name_or_auto(p->via), p->next_hop ? " nexthop " : "",
                   p->next_hop ? nif_ip4_str(p->next_hop, nh) : "",
                   p->mode == ROUTE_MODE_ENFORCE ? " enforce" : "");
        for (unsigned k = 0; k < p->n_alts; k++) {
            const route_peer_t *q = route_peer_get(p->alts[k].peer);
            con_printf("    failover %u: %s@%s\n", k + 1, q ? q->name : "?", nif_name_or_auto(p->alts[k].netif));
        }
        const peertls_t *t = peertls_get((unsigned)i);
        if (t != NULL) {
            char lv[PEERTLS_NAME_MAX + 16];
            con_printf("    tls %s, auth %s%s\n", peertls_describe(t, lv, sizeof(lv)),
                       t->user[0] != '\0' ? t->user : "none",
                       t->user[0] != '\0' && t->plaintext_ok ? " (plaintext allowed)" : "");
        }
    }
    return 0;
}

/* route add PATTERN PEER [PEER...] */
static int cmd_route_add(int argc, char **argv)
{
    uint8_t peers[ROUTE_MAX_RPEERS];
    unsigned n = 0;
    if (argc - 1 > ROUTE_MAX_RPEERS) {
        con_error("too many peers (max %d)", ROUTE_MAX_RPEERS);
        return CON_ERR_FAIL;
    }
    for (int i = 1; i < argc; i++) {
        int p = route_peer_find(argv[i]);
        if (p < 0) {
            con_error("unknown peer '%s'", argv[i]);
            return CON_ERR_FAIL;
        }
        peers[n++] = (uint8_t)p;
    }
    int old = route_find(argv[0]);
    const char *why = NULL;
    if (old >= 0) {
        route_del((unsigned)old, &why);
    }
    int r = route_add(argv[0], peers, n, &why);
    if (r < 0) {
        con_error("route %s: %s", argv[0], why ? why : route_strerror(r));
        return CON_ERR_FAIL;
    }
    smtpc_net_kick();
    return 0;
}

static int cmd_route_del(int argc, char **argv)
{
    (void)argc;
    int idx = route_find(argv[0]);
    const char *why = NULL;
    if (idx < 0) {
        con_error("no route '%s'", argv[0]);
        return CON_ERR_FAIL;
    }
    route_del((unsigned)idx, &why);
    return 0;
}

static int cmd_show_routes(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    for (int i = route_next(-1); i >= 0; i = route_next(i)) {
        const route_route_t *r = route_get((unsigned)i);
        con_printf("%-32s ->", r->pattern);
        for (unsigned k = 0; k < r->n_peers; k++) {
            const route_peer_t *p = route_peer_get(r->peers[k]);
            con_printf(" %s", p ? p->name : "?");
        }
        con_printf("\n");
    }
    return 0;
}

static int cmd_route_get(int argc, char **argv)
{
    (void)argc;
    static route_netif_view_t v[NIF_MAX];
    static route_explanation_t x; /* large: keep it off the stack */
    const route_decision_t *d = &x.d;
    unsigned n = smtpc_net_views(v, NIF_MAX);
    int r = route_explain(argv[0], v, n, &x);
    char a[16], b[16], c[16];
    if (d->route_idx >= 0) {
        con_printf("route:     %s (%s)\n", x.pattern, x.reason);
    } else {
        con_printf("route:     none (%s)\n", x.reason[0] ? x.reason : route_strerror(r));
    }
    if (r == ROUTE_OK) {
        const route_peer_t *p = route_peer_get(d->peer);
        con_printf("peer:      %s %s port %u\n", p ? p->name : "?", nif_ip4_str(d->peer_addr, a), d->port);
        con_printf("netif:     %s%s%s\n", nif_name(d->netif), d->auto_netif ? " (auto: " : "",
                   d->auto_netif ? x.auto_note : "");
        if (d->auto_netif) {
            con_printf("\n");
        }
        con_printf("source:    %s\nnext hop:  %s\nehlo:      %s\n", nif_ip4_str(d->src_addr, b),
                   nif_ip4_str(d->next_hop, c), x.ehlo);
        const peertls_t *t = peertls_get(d->peer);
        if (t != NULL) {
            char lv[PEERTLS_NAME_MAX + 16];
            con_printf("tls:       %s%s\n", peertls_describe(t, lv, sizeof(lv)),
                       t->user[0] != '\0' ? ", AUTH as the peer's configured user" : "");
        }
    } else {
        con_printf("decision:  %s%s%s\n", route_strerror(r), x.defer[0] ? ": " : "", x.defer);
    }
    con_printf("candidates:\n");
    for (unsigned i = 0; i < x.n_cand; i++) {
        const route_candidate_t *k = &x.cand[i];
        const route_peer_t *p = route_peer_get(k->peer);
        con_printf("  %u. %s@%s%s %s%s\n", i + 1, p ? p->name : "?",
                   k->netif == ROUTE_NONE ? "?" : nif_name(k->netif), k->enforce ? " (enforce)" : "",
                   (int)i == x.chosen ? "CHOSEN" : (k->skipped ? "not considered" : (k->usable ? "usable" : "unusable: ")),
                   (int)i == x.chosen || k->usable || k->skipped ? "" : k->why);
    }
    return 0;
}

/* smtpd_net_relay_t by value */
static const char *const relay_names[] = { "subnet", "any", "none" };
_Static_assert(SMTPD_NET_RELAY_SUBNET == 0 && SMTPD_NET_RELAY_ANY == 1 && SMTPD_NET_RELAY_NONE == 2,
               "relay_names is indexed by the policy");

/* relay NETIF subnet|any|none */
static int cmd_relay(int argc, char **argv)
{
    (void)argc;
    int ni = nif_find(argv[0]);
    if (ni < 0) {
        con_error("unknown netif '%s'", argv[0]);
        return CON_ERR_FAIL;
    }
    smtpd_net_relay_t p;
    if (strcmp(argv[1], "subnet") == 0) {
        p = SMTPD_NET_RELAY_SUBNET;
    } else if (strcmp(argv[1], "any") == 0) {
        p = SMTPD_NET_RELAY_ANY;
    } else if (strcmp(argv[1], "none") == 0) {
        p = SMTPD_NET_RELAY_NONE;
    } else {
        con_error("bad relay policy '%s' (subnet, any, none)", argv[1]);
        return CON_ERR_FAIL;
    }
    smtpd_net_set_relay((uint8_t)ni, p);
    return 0;
}

/* listener NETIF port N | listener NETIF off */
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

static int cmd_show_listeners(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    for (uint8_t i = 0; i < nif_count(); i++) {
        int e = 0;
        bool l = smtpd_net_listening(i, &e);
        uint16_t port;
        bool on;
        smtpd_net_get_listener(i, &port, &on);
        con_printf("%-6s port %u %s  relay %s  tls %s  auth %s\n", nif_name(i), port,
                   l ? "listening" : "NOT listening", relay_names[smtpd_net_get_relay(i)],
                   cmd_tls_policy_name(smtpd_net_get_tls_policy(i)), cmd_tls_policy_name(smtpd_net_get_auth_policy(i)));
        if (!l && e != 0) {
            const char *et = lwip_err_text((err_t)e);
            con_printf("       last error %d (%s)\n", e, et != NULL ? et : "?");
        }
    }
    return 0;
}

/* limit message-size BYTES | recipients N */
static int cmd_limit(int argc, char **argv)
{
    (void)argc;
    smtpd_limits_t l;
    uint32_t v;
    smtpd_get_limits(&l);
    if (con_parse_u32(argv[1], &v) < 0) {
        con_error("bad number '%s'", argv[1]);
        return CON_ERR_FAIL;
    }
    if (strcmp(argv[0], "message-size") == 0) {
        if (v < 1024 || v > cmd_env()->max_message()) {
            con_error("message-size %lu out of range (1024-%lu: the store's capacity)", (unsigned long)v,
                      (unsigned long)cmd_env()->max_message());
            return CON_ERR_FAIL;
        }
        l.max_msg_size = v;
    } else if (strcmp(argv[0], "recipients") == 0) {
        if (v < 1 || v > QUEUE_MAX_RCPT) {
            con_error("recipients %lu out of range (1-%d)", (unsigned long)v, QUEUE_MAX_RCPT);
            return CON_ERR_FAIL;
        }
        l.max_rcpt = (uint16_t)v;
    } else {
        con_error("unknown limit '%s' (message-size, recipients)", argv[0]);
        return CON_ERR_FAIL;
    }
    if (smtpd_set_limits(&l) != SMTPD_OK) {
        con_error("limit %s %s refused", argv[0], argv[1]);
        return CON_ERR_FAIL;
    }
    return 0;
}

static int cmd_show_limits(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    smtpd_limits_t l;
    smtpd_get_limits(&l);
    con_printf("message-size %lu bytes\nrecipients   %u\nsessions     %u (static pool)\n",
               (unsigned long)l.max_msg_size, l.max_rcpt, (unsigned)SMTPD_MAX_SESSIONS);
    con_printf("timeouts     command %lu s, data block %lu s\n", (unsigned long)(l.cmd_timeout_ms / 1000),
               (unsigned long)(l.data_timeout_ms / 1000));
    return 0;
}

/* ------------------------------------------------------- running-config */

void cmd_mta_emit_listeners(con_emit_fn emit, void *ctx, bool show_secrets)
{
    (void)show_secrets;
    for (uint8_t i = 0; i < nif_count(); i++) {
        uint16_t port;
        bool on;
        smtpd_net_get_listener(i, &port, &on);
        if (on) {
            emit(ctx, "listener %s port %u\n", nif_name(i), port);
        } else {
            emit(ctx, "listener %s off\n", nif_name(i));
        }
        emit(ctx, "relay %s %s\n", nif_name(i), relay_names[smtpd_net_get_relay(i)]);
    }
}

static void emit_peer(con_emit_fn emit, void *ctx, const route_peer_t *p, bool with_failover)
{
    char a[16], h[16];
    emit(ctx, "peer add %s %s port %u via %s", p->name, nif_ip4_str(p->addr, a), p->port, nif_name_or_auto(p->via));
    if (p->next_hop != 0) {
        emit(ctx, " nexthop %s", nif_ip4_str(p->next_hop, h));
    }
    if (p->mode == ROUTE_MODE_ENFORCE) {
        emit(ctx, " enforce");
    }
    if (with_failover) {
        for (unsigned k = 0; k < p->n_alts; k++) {
            const route_peer_t *q = route_peer_get(p->alts[k].peer);
            emit(ctx, " failover %s@%s", q != NULL ? q->name : "?", nif_name_or_auto(p->alts[k].netif));
        }
    }
    emit(ctx, "\n");
}

void cmd_mta_emit_peers(con_emit_fn emit, void *ctx, bool show_secrets)
{
    (void)show_secrets;
    for (int i = route_peer_next(-1); i >= 0; i = route_peer_next(i)) {
        emit_peer(emit, ctx, route_peer_get((unsigned)i), false);
    }
    for (int i = route_peer_next(-1); i >= 0; i = route_peer_next(i)) {
        const route_peer_t *p = route_peer_get((unsigned)i);
        if (p->n_alts > 0) {
            emit_peer(emit, ctx, p, true);
        }
    }
}

void cmd_mta_emit_config(con_emit_fn emit, void *ctx, bool show_secrets)
{
    (void)show_secrets;
    for (int i = route_next(-1); i >= 0; i = route_next(i)) {
        const route_route_t *r = route_get((unsigned)i);
        emit(ctx, "route add %s", r->pattern);
        for (unsigned k = 0; k < r->n_peers; k++) {
            const route_peer_t *p = route_peer_get(r->peers[k]);
            emit(ctx, " %s", p != NULL ? p->name : "?");
        }
        emit(ctx, "\n");
    }
    smtpd_limits_t l;
    smtpd_get_limits(&l);
    emit(ctx, "limit message-size %lu\nlimit recipients %u\n", (unsigned long)l.max_msg_size, l.max_rcpt);
    uint32_t first, max, lifetime;
    queue_get_retry(&first, &max, &lifetime);
    emit(ctx, "queue retry %lu %lu %lu\n", (unsigned long)first, (unsigned long)max, (unsigned long)lifetime);
    if (queue_get_warn() != 0u) {
        emit(ctx, "queue warn %lu\n", (unsigned long)queue_get_warn());
    }
}

static const con_cmd_t cmd_mta_table[] = {
    { "limit", "message-size BYTES | recipients N", "set an inbound limit", cmd_limit, 2, 2 },
    { "show limits", "", "inbound limits", cmd_show_limits, 0, 0 },
    { "clock", "", "wall clock and its source", cmd_clock, 0, 0 },
    { "clock set", "YYYY-MM-DDTHH:MM:SSZ", "set the wall clock (UTC)", cmd_clock_set, 1, 1 },
    { "show queue", "", "queued messages: ID, age, size, sender, recipients", cmd_show_queue, 0, 0 },
    { "queue show", "ID", "one message in detail", cmd_queue_show, 1, 1 },
    { "queue flush", "[ID]", "retry deferred recipients now", cmd_queue_flush, 0, 1 },
    { "queue delete", "ID", "remove a message (no DSN)", cmd_queue_delete, 1, 1 },
    { "queue retry", "FIRST MAX LIFETIME", "retry schedule in seconds (first delay doubles up to MAX)",
      cmd_queue_retry, 3, 3 },
    { "queue warn", "SECONDS", "delay warning DSN after SECONDS in the queue (0 = off)", cmd_queue_warn, 1, 1 },
    { "show stats", "", "inbound, queue and outbound counters", cmd_show_stats, 0, 0 },
    { "show store", "", "message store: space, erase counts, last recovery", cmd_show_store, 0, 0 },
    { "peer add", "NAME IP [port N] [via NETIF|auto] [nexthop IP] [enforce] [failover PEER@NETIF]...",
      "add or change a peer MTA", cmd_peer_add, 2, 14 },
    { "peer del", "NAME", "delete a peer (not while a route uses it)", cmd_peer_del, 1, 1 },
    { "show peers", "", "peer MTAs", cmd_show_peers, 0, 0 },
    { "route add", "PATTERN PEER [PEER]...", "route a domain pattern (example.com, *.example.com, *)",
      cmd_route_add, 2, 5 },
    { "route del", "PATTERN", "delete a route", cmd_route_del, 1, 1 },
    { "show routes", "", "domain routes", cmd_show_routes, 0, 0 },
    { "route get", "ADDRESS|DOMAIN|IP", "which peer, netif, source, next hop and EHLO name a recipient gets",
      cmd_route_get, 1, 1 },
    { "relay", "NETIF subnet|any|none", "who may relay through an interface", cmd_relay, 2, 2 },
    { "show listeners", "", "SMTP listeners per interface", cmd_show_listeners, 0, 0 },
    { "listener", "NETIF port N | NETIF off", "SMTP listener of an interface", cmd_listener, 2, 3 },
    { NULL, NULL, NULL, NULL, 0, 0 },
};

const con_cmd_t *cmd_mta_commands(void)
{
    return cmd_mta_table;
}
