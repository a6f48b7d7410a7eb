/*
 * route.c - peer/route tables and the pure route decision (see route.h).
 */
#include "route/route.h"

#include <string.h>

#include "lib/fmt.h"

typedef struct {
    bool used;
    route_peer_t cfg;
} route_peer_slot_t;

typedef struct {
    bool used;
    route_route_t r;
} route_route_slot_t;

static route_peer_slot_t route_peers[ROUTE_MAX_PEERS];
static route_route_slot_t route_routes[ROUTE_MAX_ROUTES];
static unsigned route_n_netifs;

/* ------------------------------------------------------------ helpers */

static void route_set_why(const char **why, const char *text)
{
    if (why != NULL) {
        *why = text;
    }
}

static char route_lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* ASCII case-insensitive compare of n bytes (DNS names are ASCII,
 * RFC 4343; no locale in firmware). */
static bool route_ieq_n(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (route_lower(a[i]) != route_lower(b[i])) {
            return false;
        }
    }
    return true;
}

static bool route_ieq(const char *a, const char *b)
{
    size_t la = strlen(a);
    return la == strlen(b) && route_ieq_n(a, b, la);
}

static void route_copy(char *dst, size_t cap, const char *src, size_t n)
{
    if (n >= cap) {
        n = cap - 1u;
    }
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* Strict dotted quad of exactly n chars: four decimal 0..255 parts. */
static bool route_parse_ipv4(const char *s, size_t n, uint32_t *out)
{
    uint32_t a = 0;
    unsigned part = 0, digits = 0, val = 0;

    for (size_t i = 0; i <= n; i++) {
        char c = (i < n) ? s[i] : '\0';
        if (c >= '0' && c <= '9') {
            val = val * 10u + (unsigned)(c - '0');
            if (++digits > 3u || val > 255u) {
                return false;
            }
        } else if (c == '.' || c == '\0') {
            if (digits == 0u || part > 3u) {
                return false;
            }
            a = (a << 8) | val;
            part++;
            digits = 0;
            val = 0;
            if (c == '.' && part == 4u) {
                return false;
            }
        } else {
            return false;
        }
    }
    if (part != 4u) {
        return false;
    }
    *out = a;
    return true;
}

static bool route_label_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/* Dot-separated non-empty labels (RFC 1035 2.3.1, '_' tolerated). */
static bool route_domain_ok(const char *s, size_t n)
{
    size_t label = 0;

    if (n == 0u) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '.') {
            if (label == 0u) {
                return false;
            }
            label = 0;
        } else if (route_label_char(s[i])) {
            if (++label > 63u) {
                return false;
            }
        } else {
            return false;
        }
    }
    return label != 0u;
}

static bool route_netif_ok(uint8_t idx)
{
    return idx == ROUTE_NETIF_AUTO || idx < route_n_netifs;
}

static bool route_peer_used(unsigned idx)
{
    return idx < ROUTE_MAX_PEERS && route_peers[idx].used;
}

/* ------------------------------------------------------------ init */

void route_init(unsigned n_netifs)
{
    memset(route_peers, 0, sizeof(route_peers));
    memset(route_routes, 0, sizeof(route_routes));
    route_n_netifs = (n_netifs > ROUTE_MAX_NETIFS) ? ROUTE_MAX_NETIFS : n_netifs;
}

/* ------------------------------------------------------------ peers */

/* Validate cfg for slot self (ROUTE_MAX_PEERS when adding). */
static int route_peer_check(const route_peer_t *cfg, unsigned self,
                            const char **why)
{
    size_t n;

    if (cfg == NULL) {
        route_set_why(why, "no configuration");
        return ROUTE_ERR_INVAL;
    }
    n = strnlen(cfg->name, sizeof(cfg->name));
    if (n == 0u) {
        route_set_why(why, "empty name");
        return ROUTE_ERR_NAME;
    }
    if (n > ROUTE_NAME_MAX) {
        route_set_why(why, "name longer than 31 characters");
        return ROUTE_ERR_NAME;
    }
    for (size_t i = 0; i < n; i++) {
        if (!route_label_char(cfg->name[i]) && cfg->name[i] != '.') {
            route_set_why(why, "bad character in name");
            return ROUTE_ERR_NAME;
        }
    }
    for (unsigned i = 0; i < ROUTE_MAX_PEERS; i++) {
        if (i != self && route_peers[i].used &&
            route_ieq(route_peers[i].cfg.name, cfg->name)) {
            route_set_why(why, "duplicate peer name");
            return ROUTE_ERR_DUP;
        }
    }
    if (cfg->addr == 0u || cfg->addr == 0xFFFFFFFFu) {
        route_set_why(why, "bad peer address");
        return ROUTE_ERR_ADDR;
    }
    if (cfg->port == 0u) {
        route_set_why(why, "bad port");
        return ROUTE_ERR_PORT;
    }
    if (!route_netif_ok(cfg->via)) {
        route_set_why(why, "unknown netif index");
        return ROUTE_ERR_NETIF;
    }
    if (cfg->mode != ROUTE_MODE_ENFORCE && cfg->mode != ROUTE_MODE_FAILOVER) {
        route_set_why(why, "bad mode");
        return ROUTE_ERR_MODE;
    }
    if (cfg->n_alts > ROUTE_MAX_ALTS) {
        route_set_why(why, "too many alternatives");
        return ROUTE_ERR_INVAL;
    }
    /* ENFORCE means "this netif only": alternatives would contradict it. */
    if (cfg->mode == ROUTE_MODE_ENFORCE && cfg->n_alts != 0u) {
        route_set_why(why, "alternatives need FAILOVER mode");
        return ROUTE_ERR_MODE;
    }
    for (unsigned i = 0; i < cfg->n_alts; i++) {
        /* an alternative may name the peer itself (same peer, other netif) */
        if (cfg->alts[i].peer != self && !route_peer_used(cfg->alts[i].peer)) {
            route_set_why(why, "unknown peer in alternatives");
            return ROUTE_ERR_PEER;
        }
        if (!route_netif_ok(cfg->alts[i].netif)) {
            route_set_why(why, "unknown netif index in alternatives");
            return ROUTE_ERR_NETIF;
        }
    }
    return ROUTE_OK;
}

static void route_peer_store(unsigned idx, const route_peer_t *cfg)
{
    route_peer_t *p = &route_peers[idx].cfg;
    size_t n = strnlen(cfg->name, sizeof(cfg->name));

    memset(p, 0, sizeof(*p));
    memcpy(p->name, cfg->name, n);
    p->addr = cfg->addr;
    p->port = cfg->port;
    p->via = cfg->via;
    p->next_hop = cfg->next_hop;
    p->mode = cfg->mode;
    p->n_alts = cfg->n_alts;
    memcpy(p->alts, cfg->alts, sizeof(p->alts[0]) * cfg->n_alts);
    route_peers[idx].used = true;
}

int route_peer_add(const route_peer_t *cfg, const char **why)
{
    int rc;
    unsigned idx;

    for (idx = 0; idx < ROUTE_MAX_PEERS; idx++) {
        if (!route_peers[idx].used) {
            break;
        }
    }
    /* validate first so a full table still reports config errors; the new
     * peer cannot name itself as an alternative before it has an index */
    rc = route_peer_check(cfg, ROUTE_MAX_PEERS, why);
    if (rc != ROUTE_OK) {
        return rc;
    }
    if (idx == ROUTE_MAX_PEERS) {
        route_set_why(why, "peer table full");
        return ROUTE_ERR_FULL;
    }
    route_peer_store(idx, cfg);
    route_set_why(why, "ok");
    return (int)idx;
}

int route_peer_modify(unsigned idx, const route_peer_t *cfg, const char **why)
{
    int rc;

    if (!route_peer_used(idx)) {
        route_set_why(why, "no such peer");
        return ROUTE_ERR_NOTFOUND;
    }
    rc = route_peer_check(cfg, idx, why);
    if (rc != ROUTE_OK) {
        return rc;
    }
    route_peer_store(idx, cfg);
    route_set_why(why, "ok");
    return ROUTE_OK;
}

int route_peer_del(unsigned idx, const char **why)
{
    if (!route_peer_used(idx)) {
        route_set_why(why, "no such peer");
        return ROUTE_ERR_NOTFOUND;
    }
    for (unsigned r = 0; r < ROUTE_MAX_ROUTES; r++) {
        if (!route_routes[r].used) {
            continue;
        }
        for (unsigned k = 0; k < route_routes[r].r.n_peers; k++) {
            if (route_routes[r].r.peers[k] == idx) {
                route_set_why(why, "peer used by a route");
                return ROUTE_ERR_INUSE;
            }
        }
    }
    for (unsigned p = 0; p < ROUTE_MAX_PEERS; p++) {
        if (p == idx || !route_peers[p].used) {
            continue;
        }
        for (unsigned k = 0; k < route_peers[p].cfg.n_alts; k++) {
            if (route_peers[p].cfg.alts[k].peer == idx) {
                route_set_why(why, "peer used as another peer's alternative");
                return ROUTE_ERR_INUSE;
            }
        }
    }
    memset(&route_peers[idx], 0, sizeof(route_peers[idx]));
    route_set_why(why, "ok");
    return ROUTE_OK;
}

int route_peer_find(const char *name)
{
    if (name == NULL) {
        return ROUTE_ERR_INVAL;
    }
    for (unsigned i = 0; i < ROUTE_MAX_PEERS; i++) {
        if (route_peers[i].used && route_ieq(route_peers[i].cfg.name, name)) {
            return (int)i;
        }
    }
    return ROUTE_ERR_NOTFOUND;
}

const route_peer_t *route_peer_get(unsigned idx)
{
    return route_peer_used(idx) ? &route_peers[idx].cfg : NULL;
}

int route_peer_next(int prev)
{
    for (int i = (prev < 0) ? 0 : prev + 1; i < ROUTE_MAX_PEERS; i++) {
        if (route_peers[i].used) {
            return i;
        }
    }
    return -1;
}

/* ------------------------------------------------------------ routes */

static bool route_pattern_ok(const char *pat, size_t n)
{
    if (n == 1u && pat[0] == '*') {
        return true;
    }
    if (n > 2u && pat[0] == '*' && pat[1] == '.') {
        return route_domain_ok(pat + 2, n - 2u);
    }
    return route_domain_ok(pat, n);
}

int route_add(const char *pattern, const uint8_t *peers, unsigned n_peers,
              const char **why)
{
    size_t n;
    unsigned idx;
    route_route_t *r;

    if (pattern == NULL || (peers == NULL && n_peers != 0u)) {
        route_set_why(why, "no pattern or peers");
        return ROUTE_ERR_INVAL;
    }
    n = strnlen(pattern, ROUTE_PATTERN_MAX);
    if (n >= ROUTE_PATTERN_MAX) {
        route_set_why(why, "pattern too long");
        return ROUTE_ERR_PATTERN;
    }
    if (!route_pattern_ok(pattern, n)) {
        route_set_why(why, "bad pattern (use 'example.com', '*.example.com' or '*')");
        return ROUTE_ERR_PATTERN;
    }
    if (n_peers == 0u || n_peers > ROUTE_MAX_RPEERS) {
        route_set_why(why, "a route needs 1 to 4 peers");
        return ROUTE_ERR_INVAL;
    }
    for (unsigned i = 0; i < n_peers; i++) {
        if (!route_peer_used(peers[i])) {
            route_set_why(why, "unknown peer");
            return ROUTE_ERR_PEER;
        }
        for (unsigned k = 0; k < i; k++) {
            if (peers[k] == peers[i]) {
                route_set_why(why, "peer listed twice");
                return ROUTE_ERR_PEER;
            }
        }
    }
    if (route_find(pattern) >= 0) {
        route_set_why(why, "duplicate pattern");
        return ROUTE_ERR_DUP;
    }
    for (idx = 0; idx < ROUTE_MAX_ROUTES; idx++) {
        if (!route_routes[idx].used) {
            break;
        }
    }
    if (idx == ROUTE_MAX_ROUTES) {
        route_set_why(why, "route table full");
        return ROUTE_ERR_FULL;
    }
    r = &route_routes[idx].r;
    memset(r, 0, sizeof(*r));
    /* stored lower-case: matching and printing are then uniform */
    for (size_t i = 0; i < n; i++) {
        r->pattern[i] = route_lower(pattern[i]);
    }
    r->n_peers = (uint8_t)n_peers;
    memcpy(r->peers, peers, n_peers);
    route_routes[idx].used = true;
    route_set_why(why, "ok");
    return (int)idx;
}

int route_del(unsigned idx, const char **why)
{
    if (idx >= ROUTE_MAX_ROUTES || !route_routes[idx].used) {
        route_set_why(why, "no such route");
        return ROUTE_ERR_NOTFOUND;
    }
    memset(&route_routes[idx], 0, sizeof(route_routes[idx]));
    route_set_why(why, "ok");
    return ROUTE_OK;
}

int route_find(const char *pattern)
{
    if (pattern == NULL) {
        return ROUTE_ERR_INVAL;
    }
    for (unsigned i = 0; i < ROUTE_MAX_ROUTES; i++) {
        if (route_routes[i].used && route_ieq(route_routes[i].r.pattern, pattern)) {
            return (int)i;
        }
    }
    return ROUTE_ERR_NOTFOUND;
}

const route_route_t *route_get(unsigned idx)
{
    return (idx < ROUTE_MAX_ROUTES && route_routes[idx].used)
               ? &route_routes[idx].r : NULL;
}

int route_next(int prev)
{
    for (int i = (prev < 0) ? 0 : prev + 1; i < ROUTE_MAX_ROUTES; i++) {
        if (route_routes[i].used) {
            return i;
        }
    }
    return -1;
}

/* ------------------------------------------------------------ decision */

/*
 * One decision, two callers. route_decide() passes x == NULL: no text is
 * formatted and the walk stops at the first usable candidate. route_explain()
 * passes x: the same branches write their reasons and every candidate is
 * evaluated for display. Because both run the same code, they cannot
 * disagree (test_route.c checks it on every scenario).
 */

/* Dotted quad of a host-order address into buf (16 bytes); returns buf. */
static const char *route_ip(char *buf, uint32_t a)
{
    fmt_snprintf(buf, 16, "%u.%u.%u.%u", (unsigned)(a >> 24), (unsigned)((a >> 16) & 0xFFu),
                 (unsigned)((a >> 8) & 0xFFu), (unsigned)(a & 0xFFu));
    return buf;
}

/* Format a reason only when someone asked for reasons (the arguments,
 * route_ip() calls included, are evaluated only then). */
#define ROUTE_SAY(buf, cap, ...) \
    do { \
        if ((buf) != NULL) { \
            fmt_snprintf((buf), (cap), __VA_ARGS__); \
        } \
    } while (0)

static const char *route_nname(const route_netif_view_t *v)
{
    return (v->name != NULL && v->name[0] != '\0') ? v->name : "?";
}

static uint32_t route_mask(uint8_t prefix_len)
{
    if (prefix_len == 0u) {
        return 0u;
    }
    if (prefix_len >= 32u) {
        return 0xFFFFFFFFu;
    }
    return 0xFFFFFFFFu << (32u - prefix_len);
}

static bool route_on_link(const route_netif_view_t *v, uint32_t a)
{
    uint32_t m = route_mask(v->prefix_len);
    return v->has_addr && ((a ^ v->addr) & m) == 0u;
}

/*
 * Resolve ROUTE_NETIF_AUTO for peer address a: the netif whose p2p peer is
 * a or whose subnet holds a (longest prefix wins), else the is_default
 * netif. ROUTE_NONE if neither. A down netif still owns its subnet: sending
 * an on-link peer's mail through another interface is the bug we avoid.
 * note (ROUTE_WHY_MAX bytes, or NULL) says how.
 */
static uint8_t route_auto(uint32_t a, const route_netif_view_t *nv, unsigned nn,
                          char *note)
{
    int best = -1, best_len = -1;
    char ip[16];

    for (unsigned i = 0; i < nn && i < ROUTE_NETIF_AUTO; i++) {
        int len = -1;
        if (nv[i].p2p_peer != 0u && nv[i].p2p_peer == a) {
            len = 33; /* exact far end beats any subnet */
        } else if (nv[i].has_addr && route_on_link(&nv[i], a)) {
            len = nv[i].prefix_len;
        }
        if (len > best_len) {
            best = (int)i;
            best_len = len;
        }
    }
    if (best >= 0) {
        ROUTE_SAY(note, ROUTE_WHY_MAX, "auto: netif %s holds %s", route_nname(&nv[best]), route_ip(ip, a));
        return (uint8_t)best;
    }
    for (unsigned i = 0; i < nn && i < ROUTE_NETIF_AUTO; i++) {
        if (nv[i].is_default) {
            ROUTE_SAY(note, ROUTE_WHY_MAX, "auto: default netif %s", route_nname(&nv[i]));
            return (uint8_t)i;
        }
    }
    ROUTE_SAY(note, ROUTE_WHY_MAX, "auto: no netif holds %s, no default", route_ip(ip, a));
    return ROUTE_NONE;
}

/* A candidate before evaluation: (peer, configured netif). */
typedef struct {
    uint8_t peer;
    uint8_t cfg_netif;
    bool enforce;
} route_key_t;

/* Where candidate evaluation puts its result. */
typedef struct {
    uint8_t netif;      /* resolved, ROUTE_NONE if unresolved */
    bool auto_netif;
    uint32_t next_hop;  /* valid when usable */
} route_res_t;

/* Evaluate candidate k; true when usable. why and note (ROUTE_WHY_MAX
 * bytes each, or both NULL) get why not, and how AUTO was resolved. */
static bool route_eval(route_key_t k, const route_netif_view_t *nv, unsigned nn,
                       route_res_t *res, char *why, char *note)
{
    const route_peer_t *p = &route_peers[k.peer].cfg;
    const route_netif_view_t *v;
    uint8_t ni = k.cfg_netif;
    char ip[16];

    res->netif = ROUTE_NONE;
    res->auto_netif = false;
    res->next_hop = 0;
    if (ni == ROUTE_NETIF_AUTO) {
        res->auto_netif = true;
        ni = route_auto(p->addr, nv, nn, note);
        if (ni == ROUTE_NONE) {
            if (why != NULL) {
                route_copy(why, ROUTE_WHY_MAX, note, strlen(note));
            }
            return false;
        }
    }
    if (ni >= nn) {
        ROUTE_SAY(why, ROUTE_WHY_MAX, "netif #%u not present", (unsigned)ni);
        return false;
    }
    res->netif = ni;
    v = &nv[ni];
    if (!v->up) {
        ROUTE_SAY(why, ROUTE_WHY_MAX, "netif %s down", route_nname(v));
        return false;
    }
    if (!v->has_addr) {
        ROUTE_SAY(why, ROUTE_WHY_MAX, "netif %s has no address", route_nname(v));
        return false;
    }
    /* The override is a router on the peer's own link; on another netif
     * it would be off-link, so normal next-hop rules apply there. */
    if (p->next_hop != 0u && (p->via == ni || p->via == ROUTE_NETIF_AUTO)) {
        if (v->p2p_peer == 0u && !route_on_link(v, p->next_hop)) {
            ROUTE_SAY(why, ROUTE_WHY_MAX, "next hop %s not on-link on %s", route_ip(ip, p->next_hop),
                      route_nname(v));
            return false;
        }
        res->next_hop = p->next_hop;
    } else if (v->p2p_peer != 0u) {
        /* SLIP/PPP: everything goes to the far end of the link */
        res->next_hop = v->p2p_peer;
    } else if (route_on_link(v, p->addr)) {
        res->next_hop = p->addr;
    } else if (v->gw != 0u) {
        res->next_hop = v->gw;
    } else {
        ROUTE_SAY(why, ROUTE_WHY_MAX, "no gateway on %s for off-link %s", route_nname(v),
                  route_ip(ip, p->addr));
        return false;
    }
    if (why != NULL) {
        why[0] = '\0';
    }
    return true;
}

/* The candidates of a peer list, in order: each peer on its via, then a
 * FAILOVER peer's alternatives. A plain duplicate adds nothing; an ENFORCE
 * binding stays, since it must stop the walk. Returns the count. */
static unsigned route_keys(const uint8_t *peers, unsigned n_peers, route_key_t *keys)
{
    unsigned n = 0;

    for (unsigned i = 0; i < n_peers; i++) {
        const route_peer_t *p;
        if (!route_peer_used(peers[i])) {
            continue;
        }
        p = &route_peers[peers[i]].cfg;
        for (unsigned k = 0; k <= (p->mode == ROUTE_MODE_FAILOVER ? p->n_alts : 0u); k++) {
            route_key_t key;
            bool dup = false;
            if (k == 0u) {
                key = (route_key_t){ peers[i], p->via, p->mode == ROUTE_MODE_ENFORCE };
            } else if (route_peer_used(p->alts[k - 1u].peer)) {
                key = (route_key_t){ p->alts[k - 1u].peer, p->alts[k - 1u].netif, false };
            } else {
                continue;
            }
            for (unsigned j = 0; !key.enforce && j < n; j++) {
                dup = dup || (keys[j].peer == key.peer && keys[j].cfg_netif == key.cfg_netif);
            }
            if (!dup && n < ROUTE_MAX_CAND) {
                keys[n++] = key;
            }
        }
    }
    return n;
}

static void route_reset(route_decision_t *d, route_explanation_t *x)
{
    if (x != NULL) {
        memset(x, 0, sizeof(*x));
        x->chosen = -1;
    }
    memset(d, 0, sizeof(*d));
    d->route_idx = -1;
    d->peer = ROUTE_NONE;
    d->netif = ROUTE_NONE;
    d->first_peer = ROUTE_NONE;
    d->first_netif = ROUTE_NONE;
}

static int route_walk(const uint8_t *peers, unsigned n_peers,
                      const route_netif_view_t *nv, unsigned nn,
                      route_decision_t *d, route_explanation_t *x)
{
    route_key_t keys[ROUTE_MAX_CAND];
    unsigned n = route_keys(peers, n_peers, keys);
    bool decided = false;

    d->status = ROUTE_ERR_DEFER;
    for (unsigned i = 0; i < n && !(decided && x == NULL); i++) {
        route_candidate_t *c = x != NULL ? &x->cand[i] : NULL;
        char note[ROUTE_WHY_MAX];
        route_res_t res;
        bool usable = route_eval(keys[i], nv, nn, &res, c != NULL ? c->why : NULL,
                                 c != NULL ? note : NULL);
        if (i == 0u) {
            d->first_peer = keys[0].peer;
            d->first_netif = res.netif;
        }
        if (c != NULL) {
            c->peer = keys[i].peer;
            c->cfg_netif = keys[i].cfg_netif;
            c->enforce = keys[i].enforce;
            c->netif = res.netif;
            c->auto_netif = res.auto_netif;
            c->usable = usable;
            c->next_hop = res.next_hop;
            c->skipped = decided && d->status == ROUTE_ERR_DEFER;
        }
        if (decided) {
            continue; /* explaining: the rest is listed, not considered */
        }
        if (usable) {
            const route_peer_t *p = &route_peers[keys[i].peer].cfg;
            d->peer = keys[i].peer;
            d->netif = res.netif;
            d->peer_addr = p->addr;
            d->port = p->port;
            d->src_addr = nv[res.netif].addr;
            d->next_hop = res.next_hop;
            d->auto_netif = res.auto_netif;
            d->status = ROUTE_OK;
            if (x != NULL) {
                x->chosen = (int)i;
                route_ehlo(&nv[res.netif], x->ehlo, sizeof(x->ehlo));
                if (res.auto_netif) {
                    route_copy(x->auto_note, sizeof(x->auto_note), note, strlen(note));
                }
            }
            decided = true;
        } else if (keys[i].enforce) {
            if (x != NULL) {
                fmt_snprintf(x->defer, sizeof(x->defer), "%s (peer '%s' ENFORCE)",
                             c->why, route_peers[keys[i].peer].cfg.name);
            }
            decided = true;
        }
    }
    if (x != NULL) {
        x->n_cand = n;
        if (!decided && n == 0u) {
            fmt_snprintf(x->defer, sizeof(x->defer), "no peers");
        } else if (!decided) {
            fmt_snprintf(x->defer, sizeof(x->defer),
                         "all %u candidates unusable; first: %s", n, x->cand[0].why);
        }
    }
    return d->status;
}

/* Extract the domain part of dest into [*d, *d + *n). */
static bool route_dest_domain(const char *dest, const char **d, size_t *n)
{
    size_t len = strlen(dest);
    const char *at;

    if (len >= 2u && dest[0] == '<' && dest[len - 1u] == '>') {
        dest++;
        len -= 2u;
    }
    at = NULL;
    for (size_t i = 0; i < len; i++) {
        if (dest[i] == '@') {
            at = &dest[i];
        }
    }
    if (at != NULL) {
        len -= (size_t)(at + 1 - dest);
        dest = at + 1;
    }
    /* fully qualified form "example.com." names the same domain */
    if (len > 1u && dest[len - 1u] == '.' && dest[0] != '[') {
        len--;
    }
    *d = dest;
    *n = len;
    return len != 0u && len <= 255u;
}

/* A refused decision: status err, reason (when explaining) text. */
static int route_refuse(route_decision_t *d, route_explanation_t *x, int err,
                        const char *text)
{
    d->status = err;
    if (x != NULL) {
        route_copy(x->reason, sizeof(x->reason), text, strlen(text));
    }
    return err;
}

static int route_dest(const char *dest, const route_netif_view_t *netifs,
                      unsigned n_netifs, route_decision_t *out,
                      route_explanation_t *x)
{
    const char *d;
    size_t n;
    uint32_t ip = 0;
    bool ipv6 = false;
    char ipbuf[16];
    int best = -1;
    size_t best_len = 0;
    enum { M_NONE, M_EXACT, M_WILD, M_DEFAULT } kind = M_NONE;
    const route_route_t *r;

    if (out == NULL) {
        return ROUTE_ERR_INVAL;
    }
    route_reset(out, x);
    if (dest == NULL || (netifs == NULL && n_netifs != 0u)) {
        return route_refuse(out, x, ROUTE_ERR_INVAL, "invalid arguments");
    }
    if (!route_dest_domain(dest, &d, &n)) {
        return route_refuse(out, x, ROUTE_ERR_BADDEST, "bad destination");
    }
    if (d[0] == '[') {
        /* RFC 5321 4.1.3 address literal; IPv6 literals also route by '*' */
        if (n < 3u || d[n - 1u] != ']') {
            return route_refuse(out, x, ROUTE_ERR_BADDEST, "bad address literal");
        }
        out->ip_literal = true;
        if (n >= 7u && route_ieq_n(d + 1, "ipv6:", 5)) {
            ipv6 = true;
        } else if (!route_parse_ipv4(d + 1, n - 2u, &ip)) {
            return route_refuse(out, x, ROUTE_ERR_BADDEST, "bad address literal");
        }
    } else if (route_parse_ipv4(d, n, &ip)) {
        out->ip_literal = true;
    } else if (!route_domain_ok(d, n)) {
        return route_refuse(out, x, ROUTE_ERR_BADDEST, "bad domain");
    }

    for (unsigned i = 0; i < ROUTE_MAX_ROUTES; i++) {
        const char *pat;
        size_t pl;
        if (!route_routes[i].used) {
            continue;
        }
        pat = route_routes[i].r.pattern;
        pl = strlen(pat);
        if (pl == 1u && pat[0] == '*') {
            if (kind == M_NONE) {
                kind = M_DEFAULT;
                best = (int)i;
            }
        } else if (out->ip_literal) {
            continue; /* literals only ever match '*' */
        } else if (pat[0] == '*') {
            /* "*.example.com" -> suffix ".example.com", strictly shorter */
            size_t sl = pl - 1u;
            if (n > sl && route_ieq_n(d + n - sl, pat + 1, sl) &&
                (kind == M_NONE || kind == M_DEFAULT ||
                 (kind == M_WILD && sl > best_len))) {
                kind = M_WILD;
                best = (int)i;
                best_len = sl;
            }
        } else if (pl == n && route_ieq_n(d, pat, n)) {
            kind = M_EXACT;
            best = (int)i;
            break; /* patterns are unique: nothing beats an exact match */
        }
    }
    if (best < 0) {
        out->status = ROUTE_ERR_NOROUTE;
        if (x != NULL && out->ip_literal) {
            fmt_snprintf(x->reason, sizeof(x->reason), "IP literal %s: no default route '*'",
                         ipv6 ? "IPv6" : route_ip(ipbuf, ip));
        } else if (x != NULL) {
            fmt_snprintf(x->reason, sizeof(x->reason), "no route for '%.*s'", (int)n, d);
        }
        return ROUTE_ERR_NOROUTE;
    }
    r = &route_routes[best].r;
    out->route_idx = best;
    if (x != NULL) {
        route_copy(x->pattern, sizeof(x->pattern), r->pattern, strlen(r->pattern));
        if (out->ip_literal) {
            fmt_snprintf(x->reason, sizeof(x->reason), "IP literal %s: default route '*'",
                         ipv6 ? "IPv6" : route_ip(ipbuf, ip));
        } else {
            fmt_snprintf(x->reason, sizeof(x->reason), kind == M_EXACT ? "exact match '%s'"
                         : kind == M_WILD ? "wildcard '%s'" : "default route '%s'", r->pattern);
        }
    }
    return route_walk(r->peers, r->n_peers, netifs, n_netifs, out, x);
}

static int route_peer_dest(unsigned peer_idx, const route_netif_view_t *netifs,
                           unsigned n_netifs, route_decision_t *out,
                           route_explanation_t *x)
{
    uint8_t p;

    if (out == NULL) {
        return ROUTE_ERR_INVAL;
    }
    route_reset(out, x);
    if (!route_peer_used(peer_idx) || (netifs == NULL && n_netifs != 0u)) {
        return route_refuse(out, x, ROUTE_ERR_INVAL, "no such peer");
    }
    p = (uint8_t)peer_idx;
    if (x != NULL) {
        fmt_snprintf(x->reason, sizeof(x->reason), "peer '%s'",
                     route_peers[peer_idx].cfg.name);
    }
    return route_walk(&p, 1u, netifs, n_netifs, out, x);
}

int route_decide(const char *dest, const route_netif_view_t *netifs,
                 unsigned n_netifs, route_decision_t *out)
{
    return route_dest(dest, netifs, n_netifs, out, NULL);
}

int route_decide_peer(unsigned peer_idx, const route_netif_view_t *netifs,
                      unsigned n_netifs, route_decision_t *out)
{
    return route_peer_dest(peer_idx, netifs, n_netifs, out, NULL);
}

int route_explain(const char *dest, const route_netif_view_t *netifs,
                  unsigned n_netifs, route_explanation_t *out)
{
    return out != NULL ? route_dest(dest, netifs, n_netifs, &out->d, out) : ROUTE_ERR_INVAL;
}

int route_explain_peer(unsigned peer_idx, const route_netif_view_t *netifs,
                       unsigned n_netifs, route_explanation_t *out)
{
    return out != NULL ? route_peer_dest(peer_idx, netifs, n_netifs, &out->d, out)
                       : ROUTE_ERR_INVAL;
}

void route_ehlo(const route_netif_view_t *v, char *buf, size_t cap)
{
    if (v->hostname != NULL && v->hostname[0] != '\0') {
        route_copy(buf, cap, v->hostname, strlen(v->hostname));
    } else {
        /* RFC 5321 4.1.4: no name -> address literal */
        char ip[16];
        fmt_snprintf(buf, cap, "[%s]", route_ip(ip, v->addr));
    }
}

const char *route_strerror(int err)
{
    switch (err) {
    case ROUTE_OK: return "ok";
    case ROUTE_ERR_INVAL: return "invalid argument";
    case ROUTE_ERR_NAME: return "bad name";
    case ROUTE_ERR_DUP: return "duplicate";
    case ROUTE_ERR_PORT: return "bad port";
    case ROUTE_ERR_NETIF: return "unknown netif";
    case ROUTE_ERR_FULL: return "table full";
    case ROUTE_ERR_NOTFOUND: return "not found";
    case ROUTE_ERR_INUSE: return "in use";
    case ROUTE_ERR_PEER: return "unknown peer";
    case ROUTE_ERR_PATTERN: return "bad pattern";
    case ROUTE_ERR_ADDR: return "bad address";
    case ROUTE_ERR_MODE: return "bad mode";
    case ROUTE_ERR_DEFER: return "deferred";
    case ROUTE_ERR_NOROUTE: return "no route";
    case ROUTE_ERR_BADDEST: return "bad destination";
    default: return "unknown error";
    }
}
