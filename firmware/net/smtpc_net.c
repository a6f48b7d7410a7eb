/* Outbound delivery glue: queue -> route -> altcp (bound to a netif) -> smtpc. */
#include "net/smtpc_net.h"

#include <string.h>

#include "board.h"
#include "evt/evt.h"
#include "lib/clock.h"
#include "lib/fmt.h"
#include "net/nif.h"
#include "queue/queue.h"
#include "smtp/smtpc.h"
#include "lwip/altcp.h"
#include "lwip/altcp_tcp.h"
#include "lwip/tcp.h"
#include "net/tcpio.h"
#include "tls/tls_altcp.h"
#include "route/peertls.h"
#include "nexthop.h"

/* Keys handed to queue_claim: which (peer, netif) a recipient goes to, and
 * whether the route says "defer now" (ENFORCE netif down). */
#define SMTPC_NET_KEY(peer, netif) (((int)(peer) << 8) | (int)(netif))
#define SMTPC_NET_KEY_DEFER 0x10000
#define SMTPC_NET_KEY_PEER(k) ((uint8_t)(((k) >> 8) & 0xFF))
#define SMTPC_NET_KEY_NETIF(k) ((uint8_t)((k) & 0xFF))

typedef struct smtpc_net_conn {
    bool used;
    bool connected;
    bool greeted;               /* the peer's 220 arrived (else a failure is 9318) */
    struct altcp_pcb *pcb;
    smtpc_t *c;
    uint8_t peer, netif;
    uint32_t started_ms;
    queue_batch_t batch;
    smtpc_rcpt_t rcpts[QUEUE_MAX_RCPT];
    unsigned n_rcpts;
    char addrbuf[SMTPC_NET_ADDRBUF];
    char ehlo[ROUTE_EHLO_MAX];
    uint16_t results;           /* recipients with a result */
    uint16_t msgs;              /* messages sent on this connection */
    smtpc_job_t job;
    bool nexthop_set;           /* a next-hop override is registered for dst */
    ip4_addr_t dst;
    tls_sess_t *tls;            /* reserved when STARTTLS is sent, until tls_wrap takes it after the 220 */
    uint16_t sec_gen;           /* peertls gen the connection was opened under */
    uint8_t dsn_ret;            /* RFC 3461 RET of the batch's message */
    const char *dsn_envid;      /* its ENVID in addrbuf, NULL = none */
} smtpc_net_conn_t;

/* RFC 3461 parameters go from the queue to the engine unchanged. */
_Static_assert(STORE_NOTIFY_NEVER == SMTPC_NOTIFY_NEVER && STORE_NOTIFY_SUCCESS == SMTPC_NOTIFY_SUCCESS &&
               STORE_NOTIFY_FAILURE == SMTPC_NOTIFY_FAILURE && STORE_NOTIFY_DELAY == SMTPC_NOTIFY_DELAY,
               "NOTIFY bits");
_Static_assert(STORE_RET_FULL == SMTPC_RET_FULL && STORE_RET_HDRS == SMTPC_RET_HDRS, "RET values");

static smtpc_net_conn_t conns[SMTPC_MAX_CONN];
static uint32_t last_scan_ms;
static bool kicked;
static route_netif_view_t views[NIF_MAX];
static unsigned n_views;

static void smtpc_net_finish(smtpc_net_conn_t *d, bool abort);
static void smtpc_net_tls_fail(smtpc_net_conn_t *d, mta_err_t err);

unsigned smtpc_net_views(route_netif_view_t *out, unsigned max)
{
    unsigned n = nif_count() < max ? nif_count() : max;
    for (uint8_t i = 0; i < n; i++) {
        const nif_t *f = nif_at(i);
        const struct netif *ni = f->netif;
        route_netif_view_t *v = &out[i];
        memset(v, 0, sizeof(*v));
        v->name = f->name;
        v->up = f->admin_up && netif_is_up(ni) && netif_is_link_up(ni);
        v->addr = lwip_ntohl(ip4_addr_get_u32(netif_ip4_addr(ni)));
        v->has_addr = v->addr != 0;
        v->prefix_len = (uint8_t)nif_prefix_len(netif_ip4_netmask(ni));
        v->gw = lwip_ntohl(ip4_addr_get_u32(netif_ip4_gw(ni)));
        v->p2p_peer = f->p2p_peer;
        v->hostname = f->hostname;
        v->is_default = ni == netif_default;
    }
    return n;
}

unsigned smtpc_net_active(void)
{
    unsigned n = 0;
    for (unsigned i = 0; i < SMTPC_MAX_CONN; i++) {
        n += conns[i].used;
    }
    return n;
}

void smtpc_net_kick(void)
{
    kicked = true;
}

static int smtpc_net_match(void *ctx, const char *rcpt)
{
    route_decision_t *dec = ctx;
    int r = route_decide(rcpt, views, n_views, dec);
    if (r == ROUTE_OK) {
        return SMTPC_NET_KEY(dec->peer, dec->netif);
    }
    if (r == ROUTE_ERR_DEFER && dec->first_peer != ROUTE_NONE) {
        /* Claimed anyway so that the attempt is recorded (9318 names the
         * netif) and the recipient gets a deferral with its backoff. */
        return SMTPC_NET_KEY_DEFER | SMTPC_NET_KEY(dec->first_peer, dec->first_netif);
    }
    return -1; /* no route: the queue defers it with "no route" */
}

static int smtpc_net_read(void *ctx, uint32_t off, void *buf, size_t len)
{
    smtpc_net_conn_t *d = ctx;
    return queue_read(d->batch.msgid, off, buf, len);
}

static void smtpc_net_result(void *ctx, unsigned idx, int code, const char *enh, const char *text)
{
    smtpc_net_conn_t *d = ctx;
    uint32_t now = clock_uptime_s();
    d->results++;
    if (code >= 200 && code < 300) {
        evt_log(EVT_SMTPC_DELIVERED, d->peer, d->batch.msgid);
    } else if (code < 500) {
        evt_log(EVT_SMTPC_RCPT_DEFERRED, d->peer, d->batch.msgid);
    }
    /* RFC 3464 2.3.5 Remote-MTA: the peer as we reached it; RFC 3461: a
     * peer that offers DSN got NOTIFY and reports by itself */
    char remote[24];
    fmt_snprintf(remote, sizeof(remote), "[%s]", ip4addr_ntoa(&d->dst));
    queue_result_t r = { code, enh, text, remote,
                         (uint8_t)(d->c != NULL && (smtpc_ext(d->c) & SMTP_EXT_DSN) != 0u) };
    queue_rcpt_result_ex(d->batch.msgid, (uint16_t)idx, &r, now);
}

static size_t smtpc_net_peek(void *eng, const uint8_t **p)
{
    return smtpc_output_peek(eng, p);
}

static void smtpc_net_consume(void *eng, size_t n)
{
    smtpc_output_consume(eng, n);
}

/* The engine's output to the pcb, plaintext or TLS alike (during a
 * handshake the TLS pcb takes nothing). */
static void smtpc_net_flush(smtpc_net_conn_t *d)
{
    if (d->c != NULL) {
        (void)tcpio_send_bulk(d->pcb, d->c, smtpc_net_peek, smtpc_net_consume);
    }
}

static unsigned smtpc_net_load_batch(smtpc_net_conn_t *d, const queue_batch_t *b);
static void smtpc_net_fill_job(smtpc_net_conn_t *d);
static int smtpc_net_match(void *ctx, const char *rcpt);

/* A finished transaction: send the next message for the same destination on
 * this connection when there is one (RFC 5321 allows any number of
 * transactions per session), else QUIT. */
static void smtpc_net_next_or_quit(smtpc_net_conn_t *d)
{
    static queue_batch_t b;
    static route_decision_t dec;
    const peertls_t *sec = peertls_get(d->peer);
    /* The peer's TLS level or credentials changed since this connection was
     * opened: no further message may go over it (e.g. in plaintext after the
     * level became encrypt). */
    bool same_sec = sec == NULL || sec->gen == d->sec_gen;
    if (same_sec && d->msgs < SMTPC_NET_MAX_MSGS_PER_CONN) {
        n_views = smtpc_net_views(views, NIF_MAX);
        if (queue_claim_key(clock_uptime_s(), smtpc_net_match, &dec, SMTPC_NET_KEY(d->peer, d->netif), &b) == QUEUE_OK) {
            if (smtpc_net_load_batch(d, &b) > 0) {
                smtpc_net_fill_job(d);
                if (smtpc_next(d->c, &d->job) == SMTPC_OK) {
                    d->msgs++;
                    return;
                }
            }
            /* could not start it: its recipients are deferred by the INFLIGHT sweep */
            queue_release(b.msgid);
        }
    }
    smtpc_quit(d->c);
}

static void smtpc_net_step(smtpc_net_conn_t *d)
{
    if (d->c == NULL) {
        return;
    }
    if (smtpc_state(d->c) > SMTPC_ST_GREETING && smtpc_state(d->c) != SMTPC_ST_FAILED) {
        d->greeted = true;
    }
    /* A session reserved for STARTTLS that the peer then refused (level
     * may goes on in plaintext): give it back for other connections. */
    if (d->tls != NULL && smtpc_state(d->c) != SMTPC_ST_STARTTLS && !smtpc_starttls_pending(d->c)) {
        tls_unreserve(d->tls);
        d->tls = NULL;
    }
    if (smtpc_idle(d->c)) {
        smtpc_net_next_or_quit(d);
    }
    smtpc_net_flush(d);
    if (smtpc_done(d->c)) {
        mta_err_t e = smtpc_error(d->c);
        bool local = e.kind == MTA_ERR_LOCAL;
        if (local && e.code == SMTPC_ERR_TLS) {
            /* TLS required but STARTTLS not offered, refused, or no session
             * free: logged as the TLS failure it is. */
            evt_log(EVT_MTA_BIND_FAIL, d->peer, evt_pack_netif_mta_err(d->netif, mta_err_tls(TLS_ERR_UNAVAILABLE)));
        } else if (d->job.auth_user != NULL && !smtpc_authenticated(d->c) &&
                   ((local && e.code == SMTPC_ERR_AUTH) || (e.kind == MTA_ERR_SMTP_REPLY && e.code >= 400))) {
            /* AUTH refused (the peer's reply) or impossible (530: no common
             * mechanism, or no TLS without plaintext-ok). */
            evt_log(EVT_MTA_BIND_FAIL, d->peer, evt_pack_netif_mta_err(d->netif, local ? mta_err_reply(530) : e));
        } else if (smtpc_state(d->c) == SMTPC_ST_FAILED && !d->greeted) {
            /* Greeting refused or protocol failure before any transaction:
             * a peer answering "HTTP/1.0 400" is a reply problem, never a
             * routing one. */
            evt_log(EVT_MTA_BIND_FAIL, d->peer, evt_pack_netif_mta_err(d->netif, e));
        }
        smtpc_net_finish(d, false);
    }
}

static bool smtpc_net_tls_begin(void *ctx)
{
    smtpc_net_conn_t *d = ctx;
    d->tls = d->tls != NULL ? d->tls : tls_reserve(d->peer, TLS_CLIENT);
    return d->tls != NULL;
}

/* TLS failed where the dialogue needed it: 9318 with the TLS error, the
 * recipients deferred (they stay queued), the connection dropped. */
static void smtpc_net_tls_fail(smtpc_net_conn_t *d, mta_err_t err)
{
    evt_log(EVT_MTA_BIND_FAIL, d->peer, evt_pack_netif_mta_err(d->netif, err));
    if (d->c != NULL) {
        smtpc_abort(d->c, 0);
    }
    smtpc_net_finish(d, true);
}

/* The TLS layer's verdict (it judged the certificate by the peer's level):
 * EHLO again (RFC 3207 4.2), or give up on this connection. */
static void smtpc_net_tls_done(void *arg, struct altcp_pcb *pcb, mta_err_t err)
{
    smtpc_net_conn_t *d = arg;
    (void)pcb;
    if (d == NULL || !d->used || d->c == NULL) {
        return;
    }
    if (!mta_err_ok(err)) {
        smtpc_net_tls_fail(d, err);
        return;
    }
    smtpc_tls_started(d->c, board_now_ms());
    smtpc_net_step(d);
}

/* After the peer's 220 to STARTTLS: TLS on this connection, judged as the
 * peer's level says. */
static void smtpc_net_tls_start(smtpc_net_conn_t *d)
{
    const peertls_t *sec = peertls_get(d->peer);
    tls_wrap_opts_t o = { .role = TLS_CLIENT, .netif = d->netif, .done = smtpc_net_tls_done };
    if (sec != NULL && sec->level == PEERTLS_VERIFY) {
        o.accept = TLS_ACCEPT_VERIFY;
        o.server_name = sec->server_name;
    } else if (sec != NULL && sec->level == PEERTLS_FINGERPRINT) {
        o.accept = TLS_ACCEPT_FINGERPRINT;
        o.pin = sec->fp;
    }
    mta_err_t err;
    struct altcp_pcb *t = tls_wrap(d->tls, d->pcb, &o, &err);
    d->tls = NULL; /* the TLS pcb owns the session now, or it was given back */
    if (t == NULL) {
        smtpc_net_tls_fail(d, err);
        return;
    }
    d->pcb = t; /* from here on every altcp_* call runs through TLS */
}

static err_t smtpc_net_recv(void *arg, struct altcp_pcb *pcb, struct pbuf *p, err_t err)
{
    smtpc_net_conn_t *d = arg;
    if (d == NULL || !d->used) {
        if (p) {
            pbuf_free(p);
        }
        return ERR_OK;
    }
    if (p == NULL || err != ERR_OK) {
        if (p) {
            pbuf_free(p);
        }
        if (!d->greeted) {
            evt_log(EVT_MTA_BIND_FAIL, d->peer, evt_pack_netif_mta_err(d->netif, mta_err_lwip(ERR_CLSD)));
        }
        smtpc_abort(d->c, 0);
        smtpc_net_finish(d, false);
        return ERR_OK;
    }
    for (struct pbuf *q = p; q != NULL && !smtpc_starttls_pending(d->c); q = q->next) {
        size_t off = 0;
        while (off < q->len && !smtpc_starttls_pending(d->c)) {
            size_t used = smtpc_input(d->c, (const uint8_t *)q->payload + off, q->len - off, board_now_ms());
            off += used;
            smtpc_net_flush(d);
            if (used == 0) {
                /* The engine takes replies whole; it only stalls on output room,
                 * which smtpc_net_flush just made. Guard against a protocol wedge. */
                break;
            }
        }
    }
    /* After the 220 to STARTTLS, whatever else the server sent in clear is
     * dropped unread (CVE-2011-0411 class): TLS starts on the next bytes. */
    altcp_recved(pcb, p->tot_len);
    pbuf_free(p);
    if (smtpc_starttls_pending(d->c) && d->tls != NULL) {
        smtpc_net_tls_start(d); /* sends the ClientHello */
        return ERR_OK;
    }
    smtpc_net_step(d);
    return ERR_OK;
}

static err_t smtpc_net_sent(void *arg, struct altcp_pcb *pcb, u16_t len)
{
    smtpc_net_conn_t *d = arg;
    (void)pcb;
    (void)len;
    if (d != NULL && d->used && d->c != NULL) {
        smtpc_net_flush(d);
        smtpc_net_step(d);
    }
    return ERR_OK;
}

static err_t smtpc_net_poll_cb(void *arg, struct altcp_pcb *pcb)
{
    smtpc_net_conn_t *d = arg;
    (void)pcb;
    if (d == NULL || !d->used) {
        return ERR_OK;
    }
    if (!d->connected) {
        if (board_now_ms() - d->started_ms > SMTPC_NET_CONNECT_TIMEOUT_MS) {
            evt_log(EVT_MTA_BIND_FAIL, d->peer, evt_pack_netif_mta_err(d->netif, mta_err_lwip(ERR_TIMEOUT)));
            smtpc_net_finish(d, true);
        }
        return ERR_OK;
    }
    smtpc_tick(d->c, board_now_ms()); /* not during a handshake: the TLS layer does not poll us then */
    smtpc_net_step(d);
    return ERR_OK;
}

static void smtpc_net_err(void *arg, err_t err)
{
    smtpc_net_conn_t *d = arg;
    if (d == NULL || !d->used) {
        return;
    }
    d->pcb = NULL; /* freed by lwIP (and so is a TLS layer on it) */
    if (!d->greeted) {
        evt_log(EVT_MTA_BIND_FAIL, d->peer, evt_pack_netif_mta_err(d->netif, mta_err_lwip(err)));
    }
    if (d->c != NULL) {
        smtpc_abort(d->c, 0);
    }
    smtpc_net_finish(d, false);
}

static err_t smtpc_net_connected(void *arg, struct altcp_pcb *pcb, err_t err)
{
    smtpc_net_conn_t *d = arg;
    (void)pcb;
    if (err != ERR_OK) {
        return ERR_OK; /* smtpc_net_err follows */
    }
    d->connected = true;
    const peertls_t *sec = peertls_get(d->peer);
    d->sec_gen = sec != NULL ? sec->gen : 0;
    smtpc_net_fill_job(d);
    d->msgs = 1;
    d->c = smtpc_open(&d->job, board_now_ms());
    if (d->c == NULL) {
        smtpc_net_finish(d, true);
        return ERR_ABRT;
    }
    altcp_nagle_disable(d->pcb);
    smtpc_net_flush(d);
    return ERR_OK;
}

/* Give every claimed recipient without a result a deferral (code 0) and
 * release the connection. */
static void smtpc_net_finish(smtpc_net_conn_t *d, bool abort)
{
    if (!d->used) {
        return;
    }
    d->used = false;
    if (d->c != NULL) {
        if (!smtpc_done(d->c)) {
            smtpc_abort(d->c, 0); /* code 0 (deferred) for unresolved recipients */
        }
        smtpc_close(d->c);
        d->c = NULL;
    }
    /* Recipients never handed to the engine (connect failed, addrbuf full). */
    queue_rcpt_info_t ri;
    for (unsigned i = 0; i < d->batch.nrcpt; i++) {
        if (queue_get_rcpt(d->batch.msgid, d->batch.rcpt[i], &ri) == QUEUE_OK &&
            ri.state == QUEUE_RCPT_INFLIGHT) {
            queue_rcpt_result(d->batch.msgid, d->batch.rcpt[i], 0, "4.4.1", "connection to peer failed",
                              clock_uptime_s());
        }
    }
    if (d->nexthop_set) {
        const nif_t *f = nif_at(d->netif);
        if (f != NULL) {
            nexthop_del(f->netif, &d->dst);
        }
        d->nexthop_set = false;
    }
    tls_unreserve(d->tls); /* reserved, never wrapped */
    d->tls = NULL;
    if (d->pcb != NULL) {
        struct altcp_pcb *pcb = d->pcb;
        d->pcb = NULL;
        tcpio_close(pcb, abort);
    }
    smtpc_net_kick();
}

static void smtpc_net_defer_batch(const queue_batch_t *b, const char *why)
{
    for (unsigned i = 0; i < b->nrcpt; i++) {
        queue_rcpt_result(b->msgid, b->rcpt[i], 0, "4.4.0", why, clock_uptime_s());
    }
}

static void smtpc_net_fill_job(smtpc_net_conn_t *d)
{
    smtpc_job_t *job = &d->job;
    memset(job, 0, sizeof(*job));
    job->ehlo_name = d->ehlo;
    job->sender = d->batch.sender;
    job->rcpts = d->rcpts;
    job->n_rcpts = d->n_rcpts;
    job->size = d->batch.size;
    job->body_8bit = true; /* we cannot know without scanning; BODY=8BITMIME is harmless */
    job->dsn_ret = d->dsn_ret;
    job->dsn_envid = d->dsn_envid;
    job->read = smtpc_net_read;
    job->rcpt_result = smtpc_net_result;
    job->ctx = d;
    const peertls_t *sec = peertls_get(d->peer);
    if (sec != NULL) {
        job->tls = sec->level == PEERTLS_NONE ? SMTPC_TLS_NONE
                   : sec->level == PEERTLS_MAY ? SMTPC_TLS_MAY
                                                : SMTPC_TLS_REQUIRE;
        job->tls_begin = tls_ready() ? smtpc_net_tls_begin : NULL;
        if (sec->user[0] != '\0') {
            job->auth_user = sec->user;
            job->auth_pass = sec->pass;
            job->auth_plaintext_ok = sec->plaintext_ok;
        }
    }
}

/* Copy the batch and its recipient addresses (they must stay valid for the
 * whole transaction).  Returns the number of recipients handed to smtpc;
 * ones that do not fit in addrbuf stay INFLIGHT and are deferred by
 * smtpc_net_finish's sweep. */
static unsigned smtpc_net_load_batch(smtpc_net_conn_t *d, const queue_batch_t *b)
{
    d->batch = *b;
    d->n_rcpts = 0;
    size_t used = 0;
    queue_rcpt_info_t ri;
    /* RFC 3461 parameters share addrbuf: ENVID first, ORCPT after each address */
    d->dsn_ret = 0;
    int el = queue_get_envid(b->msgid, &d->dsn_ret, d->addrbuf, sizeof(d->addrbuf));
    if (el > 0) {
        d->dsn_envid = d->addrbuf;
        used = (size_t)el + 1u;
    } else {
        d->dsn_envid = NULL;
    }
    for (unsigned i = 0; i < b->nrcpt; i++) {
        if (queue_get_rcpt(b->msgid, b->rcpt[i], &ri) != QUEUE_OK) {
            continue;
        }
        size_t len = strlen(ri.address) + 1;
        if (used + len > sizeof(d->addrbuf)) {
            break;
        }
        memcpy(d->addrbuf + used, ri.address, len);
        smtpc_rcpt_t *r = &d->rcpts[d->n_rcpts];
        r->addr = d->addrbuf + used;
        r->user_idx = b->rcpt[i];
        r->notify = ri.notify;
        r->has_orcpt = 0;
        used += len;
        /* the ORCPT right after the address's NUL (smtpc_rcpt_t.has_orcpt) */
        int ol = queue_get_orcpt(b->msgid, b->rcpt[i], NULL, d->addrbuf + used, sizeof(d->addrbuf) - used);
        if (ol > 0) {
            r->has_orcpt = 1;
            used += (size_t)ol + 1u;
        }
        d->n_rcpts++;
    }
    return d->n_rcpts;
}

static void smtpc_net_start(smtpc_net_conn_t *d, const queue_batch_t *b)
{
    memset(d, 0, sizeof(*d));
    d->batch = *b;
    d->peer = SMTPC_NET_KEY_PEER(b->key);
    d->netif = SMTPC_NET_KEY_NETIF(b->key);
    route_decision_t dec;
    if (route_decide_peer(d->peer, views, n_views, &dec) != ROUTE_OK || dec.netif != d->netif) {
        /* The binding changed between claim and start: try again later. */
        queue_release(b->msgid);
        return;
    }
    route_ehlo(&views[d->netif], d->ehlo, sizeof(d->ehlo));
    smtpc_net_load_batch(d, b);
    d->used = true;
    d->started_ms = board_now_ms();
    const nif_t *f = nif_at(d->netif);
    struct altcp_pcb *pcb = f != NULL ? altcp_tcp_new_ip_type(IPADDR_TYPE_V4) : NULL;
    if (pcb == NULL) {
        evt_log(EVT_MTA_BIND_FAIL, d->peer, evt_pack_netif_mta_err(d->netif, mta_err_lwip(ERR_MEM)));
        smtpc_net_finish(d, false);
        return;
    }
    d->pcb = pcb;
    /* The connection follows the route: source address and netif are the
     * route's, whatever lwIP's default netif or an address lookup would pick. */
    tcp_bind_netif(tcpio_inner(pcb), f->netif);
    ip_addr_t src, dst;
    ip_addr_set_ip4_u32_val(src, lwip_htonl(dec.src_addr));
    ip_addr_set_ip4_u32_val(dst, lwip_htonl(dec.peer_addr));
    ip4_addr_set_u32(&d->dst, lwip_htonl(dec.peer_addr));
    /* An off-link peer whose next hop is not the netif's gateway (a peer's
     * own next-hop override) gets it through the etharp hook. */
    ip4_addr_t nh;
    ip4_addr_set_u32(&nh, lwip_htonl(dec.next_hop));
    if (dec.next_hop != dec.peer_addr && !ip4_addr_cmp(&nh, netif_ip4_gw(f->netif)) && f->p2p_peer == 0) {
        d->nexthop_set = nexthop_add(f->netif, &d->dst, &nh) == 0;
    }
    altcp_arg(pcb, d);
    altcp_recv(pcb, smtpc_net_recv);
    altcp_sent(pcb, smtpc_net_sent);
    altcp_err(pcb, smtpc_net_err);
    altcp_poll(pcb, smtpc_net_poll_cb, 2);
    err_t e = altcp_bind(pcb, &src, 0);
    if (e == ERR_OK) {
        e = altcp_connect(pcb, &dst, dec.port, smtpc_net_connected);
    }
    if (e != ERR_OK) {
        evt_log(EVT_MTA_BIND_FAIL, d->peer, evt_pack_netif_mta_err(d->netif, mta_err_lwip(e)));
        smtpc_net_finish(d, true);
    }
}

void smtpc_net_init(void)
{
    memset(conns, 0, sizeof(conns));
    kicked = true;
}

void smtpc_net_poll(void)
{
    uint32_t now_ms = board_now_ms();
    if (!kicked && now_ms - last_scan_ms < SMTPC_NET_POLL_MS) {
        return;
    }
    kicked = false;
    last_scan_ms = now_ms;
    n_views = smtpc_net_views(views, NIF_MAX);
    static route_decision_t dec;
    for (unsigned i = 0; i < SMTPC_MAX_CONN; i++) {
        smtpc_net_conn_t *d = &conns[i];
        if (d->used) {
            continue;
        }
        static queue_batch_t b;
        if (queue_claim(clock_uptime_s(), smtpc_net_match, &dec, &b) != QUEUE_OK) {
            break;
        }
        if (b.key & SMTPC_NET_KEY_DEFER) {
            uint8_t peer = SMTPC_NET_KEY_PEER(b.key), netif = SMTPC_NET_KEY_NETIF(b.key);
            evt_log(EVT_MTA_BIND_FAIL, peer, evt_pack_netif_mta_err(netif, mta_err_lwip(ERR_IF)));
            smtpc_net_defer_batch(&b, "netif of enforced peer is down");
            continue;
        }
        smtpc_net_start(d, &b);
    }
}
