/*
 * route.h - peer and route tables of a multihomed gateway, and the pure
 * decision "which peer, through which netif, from which source address,
 * via which next hop" for one recipient.
 *
 * Pure module: no I/O, no lwIP. The caller passes the current netif state
 * as a table of route_netif_view_t indexed by netif index (the nif.h index).
 *
 * Addresses: every IPv4 address in this module (peer address, next hop,
 * netif address/gateway/p2p peer, decision results) is a uint32_t in HOST
 * byte order, i.e. 10.1.2.3 == 0x0A010203. The glue converts with
 * lwip_ntohl()/lwip_htonl() at the boundary.
 *
 * Decision rules (the reason this module exists: the old MTA silently sent
 * everything out of "the first netif"):
 *  - a route pattern picks an ordered list of peers:
 *      exact "example.com" > longest wildcard "*.example.com" > "*";
 *    "*.example.com" matches sub.example.com and deeper, never example.com.
 *    Matching is case-insensitive. IP literals (1.2.3.4 / [1.2.3.4]) use "*".
 *  - candidates, in order: for each peer of the route, (peer, peer.via),
 *    then, if the peer is FAILOVER, its own alternatives in order.
 *  - a candidate is usable when its netif exists, is up, has an address and
 *    a next hop (override, p2p peer, on-link peer, or gateway) exists.
 *  - the first usable candidate wins, EXCEPT that an unusable candidate of
 *    an ENFORCE peer stops the walk: the decision is a defer naming the
 *    cause ("netif eth1 down"); no other netif is ever tried for it.
 *  - ROUTE_NETIF_AUTO is resolved explicitly: the netif whose subnet (or
 *    p2p peer) holds the peer address (longest prefix), else the netif
 *    marked is_default, else unusable. The decision says that it did so.
 *  - nothing else falls back to a default or first netif.
 *
 * Two entry points make the one decision: route_decide() for delivery (no
 * texts, cheap, per due recipient) and route_explain() for the console
 * (the same decision and the reasons for it).
 *
 * Not thread-safe (NO_SYS=1 main loop only).
 */
#ifndef ROUTE_H
#define ROUTE_H

#include "mta_opts.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ROUTE_NAME_MAX 31       /* peer name chars, excluding NUL */
#define ROUTE_MAX_ALTS 4        /* failover alternatives per peer */
#define ROUTE_MAX_RPEERS 4      /* peers per route */
#define ROUTE_MAX_CAND (ROUTE_MAX_RPEERS * (1 + ROUTE_MAX_ALTS))
#define ROUTE_WHY_MAX 64        /* bytes incl. NUL of a candidate's "why not" */
#define ROUTE_REASON_MAX (ROUTE_PATTERN_MAX + 48) /* bytes incl. NUL */
#define ROUTE_EHLO_MAX 64       /* bytes incl. NUL; matches NIF_HOSTNAME_MAX */
#define ROUTE_NETIF_AUTO 0xFFu  /* peer.via / alt.netif: resolve at decision time */
#define ROUTE_NONE 0xFFu        /* "no peer"/"no netif" in results */

/* Error codes (negative; 0 = OK). */
#define ROUTE_OK 0
#define ROUTE_ERR_INVAL (-1)     /* bad argument (NULL, index out of range) */
#define ROUTE_ERR_NAME (-2)      /* empty, overlong or bad characters */
#define ROUTE_ERR_DUP (-3)       /* duplicate peer name / route pattern */
#define ROUTE_ERR_PORT (-4)      /* port 0 */
#define ROUTE_ERR_NETIF (-5)     /* unknown netif index */
#define ROUTE_ERR_FULL (-6)      /* table full */
#define ROUTE_ERR_NOTFOUND (-7)  /* no such peer/route */
#define ROUTE_ERR_INUSE (-8)     /* peer referenced by a route or alternative */
#define ROUTE_ERR_PEER (-9)      /* unknown peer index in route/alternative */
#define ROUTE_ERR_PATTERN (-10)  /* bad route pattern */
#define ROUTE_ERR_ADDR (-11)     /* bad IPv4 address (0 or broadcast) */
#define ROUTE_ERR_MODE (-12)     /* bad mode, or alternatives on an ENFORCE peer */
#define ROUTE_ERR_DEFER (-20)    /* decision: temporarily undeliverable */
#define ROUTE_ERR_NOROUTE (-21)  /* decision: no pattern matches, no "*" */
#define ROUTE_ERR_BADDEST (-22)  /* decision: unparsable recipient/domain */

typedef enum {
    ROUTE_MODE_ENFORCE = 0,  /* only peer.via; defer while it is unusable */
    ROUTE_MODE_FAILOVER = 1  /* then alts[] in order, then the route's next peer */
} route_mode_t;

typedef struct {
    uint8_t peer;   /* peer index */
    uint8_t netif;  /* netif index or ROUTE_NETIF_AUTO */
} route_alt_t;

typedef struct {
    char name[ROUTE_NAME_MAX + 1]; /* [A-Za-z0-9._-], unique, case-insensitive */
    uint32_t addr;      /* host byte order */
    uint16_t port;      /* != 0 */
    uint8_t via;        /* netif index or ROUTE_NETIF_AUTO */
    uint32_t next_hop;  /* override, host byte order; 0 = none. Applies only
                           when sending through the peer's own via netif. */
    route_mode_t mode;
    uint8_t n_alts;     /* FAILOVER only, <= ROUTE_MAX_ALTS; an alternative
                           may name the peer itself (another netif) once it
                           has an index, i.e. via route_peer_modify() */
    route_alt_t alts[ROUTE_MAX_ALTS];
} route_peer_t;

typedef struct {
    char pattern[ROUTE_PATTERN_MAX]; /* "example.com", "*.example.com", "*" */
    uint8_t n_peers;                 /* 1..ROUTE_MAX_RPEERS */
    uint8_t peers[ROUTE_MAX_RPEERS]; /* peer indices, in preference order */
} route_route_t;

/* Snapshot of one netif, supplied by the caller at decision time. */
typedef struct {
    const char *name;      /* "eth0"; NULL treated as "?" */
    bool up;               /* admin up and link up */
    bool has_addr;
    uint32_t addr;         /* host byte order */
    uint8_t prefix_len;    /* 0..32 */
    uint32_t gw;           /* 0 = none */
    uint32_t p2p_peer;     /* SLIP etc.: far end address; 0 = not p2p */
    const char *hostname;  /* EHLO name; NULL/"" -> address literal */
    bool is_default;
} route_netif_view_t;

/* The decision: what delivery needs and nothing else. It carries no texts
 * and formats none, because it runs for every due recipient on every queue
 * scan; route_explain() says why. */
typedef struct {
    int status;          /* same as route_decide()'s return */
    int route_idx;       /* matched route, -1 for none / route_decide_peer */
    bool ip_literal;     /* destination was an IP literal (routed by "*") */
    bool auto_netif;     /* chosen netif came from ROUTE_NETIF_AUTO */
    uint8_t peer;        /* chosen peer index, ROUTE_NONE if none */
    uint8_t netif;       /* chosen netif index, ROUTE_NONE if none */
    uint16_t port;
    uint32_t peer_addr;  /* chosen peer's address */
    uint32_t src_addr;   /* chosen netif's address */
    uint32_t next_hop;
    /* The first candidate, ROUTE_NONE if there is none; its netif resolved
     * (ROUTE_NONE if it could not be). On a defer the delivery glue records
     * the attempt against it (9318 names the netif). */
    uint8_t first_peer;
    uint8_t first_netif;
} route_decision_t;

typedef struct {
    uint8_t peer;        /* peer index */
    uint8_t netif;       /* resolved netif index, ROUTE_NONE if unresolved */
    uint8_t cfg_netif;   /* as configured (may be ROUTE_NETIF_AUTO) */
    bool usable;
    bool enforce;        /* an ENFORCE peer's binding: unusable => defer */
    bool auto_netif;     /* netif resolved from ROUTE_NETIF_AUTO */
    bool skipped;        /* after an ENFORCE stop: not considered */
    uint32_t next_hop;   /* valid when usable */
    char why[ROUTE_WHY_MAX]; /* "" when usable; else "netif eth1 down", ... */
} route_candidate_t;

/* The same decision with its reasons, for the console's `route get`.
 * About 2 KB on a 32-bit target: keep it static, not on a small stack. */
typedef struct {
    route_decision_t d;  /* exactly what route_decide() gives */
    char pattern[ROUTE_PATTERN_MAX]; /* matched route's pattern, "" if none */
    char reason[ROUTE_REASON_MAX];   /* "exact match 'example.com'", ... */
    int chosen;          /* index into cand[], -1 if none */
    char ehlo[ROUTE_EHLO_MAX];       /* chosen netif's EHLO name (route_ehlo) */
    char auto_note[ROUTE_WHY_MAX];   /* how AUTO was resolved, "" if not auto */
    char defer[ROUTE_WHY_MAX + ROUTE_NAME_MAX + 24]; /* defer cause, "" if none */
    unsigned n_cand;
    route_candidate_t cand[ROUTE_MAX_CAND]; /* every candidate, in order */
} route_explanation_t;

/* Clear both tables; netif indices 0..n_netifs-1 (<= ROUTE_MAX_NETIFS)
 * become valid for via/alternatives. */
void route_init(unsigned n_netifs);

/*
 * Peer table. On error the functions return a negative ROUTE_ERR_* and, if
 * why != NULL, set *why to a static short reason string; on success *why is
 * set to "ok". Indices are stable: a peer keeps its index until deleted.
 */
/* Returns the new peer index (>= 0) or a negative error. */
int route_peer_add(const route_peer_t *cfg, const char **why);
/* Replace peer idx's configuration (the same validation as add). */
int route_peer_modify(unsigned idx, const route_peer_t *cfg, const char **why);
/* Fails with ROUTE_ERR_INUSE while a route or another peer's alternative
 * refers to the peer. */
int route_peer_del(unsigned idx, const char **why);
/* Index of the peer called name (case-insensitive), or ROUTE_ERR_NOTFOUND. */
int route_peer_find(const char *name);
/* The peer at idx, NULL if unused/out of range. */
const route_peer_t *route_peer_get(unsigned idx);
/* Iteration: first used index > prev (start with prev = -1), -1 at end. */
int route_peer_next(int prev);

/* Route table. Pattern validated; every peer index must exist; returns the
 * new route index (>= 0) or a negative error. */
int route_add(const char *pattern, const uint8_t *peers, unsigned n_peers,
              const char **why);
int route_del(unsigned idx, const char **why);
/* Index of the route whose pattern equals pattern (case-insensitive). */
int route_find(const char *pattern);
const route_route_t *route_get(unsigned idx);
int route_next(int prev);

/*
 * Decide for dest = "user@domain", "<user@domain>", "domain", "1.2.3.4" or
 * "[1.2.3.4]". netifs[i] describes netif index i (n_netifs entries).
 * Always fills *out completely. Stops at the first usable candidate (or at
 * an ENFORCE stop) and formats no text. Returns
 *   ROUTE_OK           out->peer/netif/src_addr/next_hop are valid,
 *   ROUTE_ERR_DEFER    no usable candidate now,
 *   ROUTE_ERR_NOROUTE  no pattern matches and there is no "*",
 *   ROUTE_ERR_BADDEST  dest unparsable, or ROUTE_ERR_INVAL on NULL args.
 */
int route_decide(const char *dest, const route_netif_view_t *netifs,
                 unsigned n_netifs, route_decision_t *out);

/* The same decision for one peer (delivery glue: the peer is already known,
 * e.g. a retry). route_idx = -1. */
int route_decide_peer(unsigned peer_idx, const route_netif_view_t *netifs,
                      unsigned n_netifs, route_decision_t *out);

/*
 * route_decide() and route_decide_peer() with the reasons: out->d is the
 * same decision (the same code makes it), and the texts say which route
 * matched and why, how AUTO was resolved, why each candidate is or is not
 * usable (every candidate is evaluated), and what a defer waits for.
 * route_explain_peer's reason is "peer 'name'".
 */
int route_explain(const char *dest, const route_netif_view_t *netifs,
                  unsigned n_netifs, route_explanation_t *out);
int route_explain_peer(unsigned peer_idx, const route_netif_view_t *netifs,
                       unsigned n_netifs, route_explanation_t *out);

/* The EHLO name for a connection out of netif v: its hostname, or without
 * one the address literal "[a.b.c.d]" (RFC 5321 4.1.4). */
void route_ehlo(const route_netif_view_t *v, char *buf, size_t cap);

/* Short text for a ROUTE_ERR_* / ROUTE_OK code. */
const char *route_strerror(int err);

#endif /* ROUTE_H */
