/* SMTP listeners per netif and the altcp glue of inbound sessions. */
#include "net/smtpd_net.h"

#include <string.h>

#include "board.h"
#include "evt/evt.h"
#include "net/nif.h"
#include "smtp/smtpd.h"
#include "lib/fmt.h"
#include "lib/clock.h"
#include "queue/queue.h"
#include "lwip/altcp.h"
#include "lwip/altcp_tcp.h"
#include "lwip/tcp.h"
#include "lwip/ip.h"
#include "lwip/priv/tcp_priv.h"
#include "net/tcpio.h"
#include "port_hooks.h"
#include "tls/tls_altcp.h"
#include "tls/users.h"

typedef struct smtpd_net_listener {
    struct altcp_pcb *pcb;
    ip4_addr_t bound;         /* address the listener was opened on */
    int last_err;
    bool reported;            /* 9321 logged for the current failure streak */
    smtpd_net_relay_t relay;
    uint16_t port;            /* TCP port, SMTPD_NET_PORT by default */
    bool enabled;             /* `listener NETIF off` disables it */
    uint8_t tls_policy;       /* SMTPD_NET_POLICY_*: STARTTLS */
    uint8_t auth_policy;      /* SMTPD_NET_POLICY_*: SMTP AUTH */
} smtpd_net_listener_t;

typedef struct smtpd_net_conn {
    struct altcp_pcb *pcb;
    smtpd_session_t *s;
    struct pbuf *pending;     /* received data the engine has not consumed yet */
    uint16_t pending_off;
    bool used;
    uint8_t nif;
    ip4_addr_t remote;
    tls_sess_t *tls;          /* reserved at STARTTLS until tls_wrap takes it once the 220 is out */
} smtpd_net_conn_t;

/* A connection accepted while every session was taken: it waits, with no
 * greeting yet, up to SMTPD_NET_WAIT_POLLS for a session to free (as
 * Postfix leaves clients in its listen queue), then gets 421 4.3.2; after
 * the 421 and our FIN it waits for the client's FIN and is aborted then, so
 * no TIME_WAIT is left.  Both kinds run at TCP_PRIO_MIN: a new SYN may evict
 * them when the PCB pool is used up. */
typedef struct smtpd_net_wait {
    struct altcp_pcb *pcb;    /* NULL: slot free */
    uint8_t nif;
    uint8_t polls;            /* 0.5 s poll ticks in the current phase: the most waited longest */
    bool refused;             /* 421 and FIN sent */
    ip_addr_t remote;         /* for 1202 when lwIP evicts it */
} smtpd_net_wait_t;

static smtpd_net_listener_t listeners[NIF_MAX];
static smtpd_net_conn_t conns[SMTPD_MAX_SESSIONS];
static smtpd_net_wait_t waits[SMTPD_NET_WAIT_MAX];
static uint32_t last_retry_ms;
static bool fatal_reported;
static bool kicked;
static bool session_freed;     /* a waiter may get a session at the next poll */

void smtpd_net_kick(void)
{
    kicked = true;
}

static void smtpd_net_conn_close(smtpd_net_conn_t *c, bool abort);

static size_t smtpd_net_peek(void *eng, const uint8_t **p)
{
    return smtpd_output_peek(eng, p);
}

static void smtpd_net_consume(void *eng, size_t n)
{
    smtpd_output_consume(eng, n);
}

/* The engine's output to the pcb, plaintext or TLS alike. */
static void smtpd_net_flush(smtpd_net_conn_t *c)
{
    (void)tcpio_send(c->pcb, c->s, smtpd_net_peek, smtpd_net_consume);
}

/* Feed pending input to the engine; it may take less than offered when its
 * reply buffer is nearly full (pipelining backpressure). */
static void smtpd_net_feed(smtpd_net_conn_t *c)
{
    /* No flow control by leaving input unread: a client always gets its
     * answer, 452 4.3.1 when the queue cannot take the message
     * (queue_txn_begin's admission). */
    while (c->pending != NULL) {
        struct pbuf *q = c->pending;
        size_t off = c->pending_off;
        size_t avail = q->len - off;
        size_t used = avail ? smtpd_input(c->s, (const uint8_t *)q->payload + off, avail, board_now_ms()) : 0;
        smtpd_net_flush(c);
        if (used < avail) {
            c->pending_off = (uint16_t)(off + used);
            if (used > 0) {
                altcp_recved(c->pcb, (u16_t)used);
            }
            return;
        }
        if (avail > 0) {
            altcp_recved(c->pcb, (u16_t)avail);
        }
        c->pending = q->next;
        c->pending_off = 0;
        if (c->pending != NULL) {
            pbuf_ref(c->pending);
        }
        pbuf_free(q);
    }
}

static void smtpd_net_check_close(smtpd_net_conn_t *c)
{
    const uint8_t *p;
    if (c->used && smtpd_should_close(c->s) && smtpd_output_peek(c->s, &p) == 0) {
        smtpd_net_conn_close(c, false);
    }
}

/* The TLS layer's verdict: the handshake completed (the session starts
 * over, RFC 3207 4.2: the client must EHLO), or TLS failed (1704 if it was
 * the handshake) and the connection is dropped. */
static void smtpd_net_tls_done(void *arg, struct altcp_pcb *pcb, mta_err_t err)
{
    smtpd_net_conn_t *c = arg;
    (void)pcb;
    if (c == NULL || !c->used) {
        return;
    }
    if (mta_err_ok(err)) {
        smtpd_tls_started(c->s, board_now_ms());
        return;
    }
    if (!smtpd_tls_active(c->s)) {
        evt_log(EVT_TLS_INBOUND_FAIL, c->nif, (uint32_t)(err.code < 0 ? -err.code : err.code));
    }
    smtpd_net_conn_close(c, true);
}

/* After STARTTLS was answered 220: once that reply is out, everything the
 * client sent with it is dropped (the engine already discarded it; this
 * drops what the engine was not offered yet, e.g. under flow control) and
 * the handshake starts on whatever arrives next. */
static void smtpd_net_maybe_start_tls(smtpd_net_conn_t *c)
{
    const uint8_t *p;
    if (!c->used || c->tls == NULL || !smtpd_starttls_pending(c->s) ||
        smtpd_output_peek(c->s, &p) != 0) {
        return;
    }
    if (c->pending != NULL) {
        size_t left = c->pending->tot_len - c->pending_off;
        pbuf_free(c->pending);
        c->pending = NULL;
        c->pending_off = 0;
        altcp_recved(c->pcb, (u16_t)left);
    }
    const tls_wrap_opts_t o = { .role = TLS_SERVER, .netif = c->nif, .done = smtpd_net_tls_done };
    mta_err_t err;
    struct altcp_pcb *t = tls_wrap(c->tls, c->pcb, &o, &err);
    c->tls = NULL; /* the TLS pcb owns the session now, or it was given back */
    if (t == NULL) {
        evt_log(EVT_TLS_INBOUND_FAIL, c->nif, (uint32_t)(err.code < 0 ? -err.code : err.code));
        smtpd_net_conn_close(c, true);
        return;
    }
    c->pcb = t; /* from here on every altcp_* call runs through TLS */
}

static bool smtpd_net_tls_begin(void *ctx)
{
    smtpd_net_conn_t *c = ctx;
    c->tls = c->tls != NULL ? c->tls : tls_reserve(c->nif, TLS_SERVER);
    return c->tls != NULL;
}

static bool smtpd_net_auth_check(void *ctx, const char *user, const char *pass)
{
    smtpd_net_conn_t *c = ctx;
    bool ok = users_check(user, pass);
    if (!ok) {
        evt_log(EVT_SMTPD_AUTH_FAIL, c->nif, lwip_ntohl(ip4_addr_get_u32(&c->remote)));
    }
    return ok;
}

/* One step of a connection after any event, plaintext or TLS alike. */
static void smtpd_net_step(smtpd_net_conn_t *c)
{
    smtpd_net_flush(c);
    smtpd_net_feed(c);
    smtpd_net_maybe_start_tls(c);
    smtpd_net_check_close(c);
}

static err_t smtpd_net_recv(void *arg, struct altcp_pcb *pcb, struct pbuf *p, err_t err)
{
    smtpd_net_conn_t *c = arg;
    (void)pcb;
    if (c == NULL || !c->used) {
        if (p != NULL) {
            pbuf_free(p);
        }
        return ERR_OK;
    }
    if (p == NULL || err != ERR_OK) {
        /* Peer closed: anything not sealed is aborted by smtpd_close(). */
        if (p != NULL) {
            pbuf_free(p);
        }
        smtpd_net_conn_close(c, false);
        return ERR_OK;
    }
    if (c->pending == NULL) {
        c->pending = p;
        c->pending_off = 0;
    } else {
        pbuf_cat(c->pending, p);
    }
    smtpd_net_step(c);
    return ERR_OK;
}

static err_t smtpd_net_sent(void *arg, struct altcp_pcb *pcb, u16_t len)
{
    smtpd_net_conn_t *c = arg;
    (void)pcb;
    (void)len;
    if (c != NULL && c->used) {
        smtpd_net_step(c);
    }
    return ERR_OK;
}

static err_t smtpd_net_poll_cb(void *arg, struct altcp_pcb *pcb)
{
    smtpd_net_conn_t *c = arg;
    (void)pcb;
    if (c != NULL && c->used) {
        /* During a handshake the TLS layer does not poll us: it has its own
         * timeout (TLS_HANDSHAKE_TIMEOUT_MS). */
        smtpd_tick(c->s, board_now_ms());
        smtpd_net_step(c);
    }
    return ERR_OK;
}

static void smtpd_net_err(void *arg, err_t err)
{
    smtpd_net_conn_t *c = arg;
    (void)err;
    if (c != NULL && c->used) {
        c->pcb = NULL; /* already freed by lwIP (and so is a TLS layer on it) */
        smtpd_net_conn_close(c, false);
    }
}

static void smtpd_net_conn_close(smtpd_net_conn_t *c, bool abort)
{
    if (!c->used) {
        return;
    }
    c->used = false;
    session_freed = true;
    if (c->s != NULL) {
        smtpd_close(c->s);
        c->s = NULL;
    }
    if (c->pending != NULL) {
        pbuf_free(c->pending);
        c->pending = NULL;
    }
    tls_unreserve(c->tls); /* reserved, never wrapped */
    c->tls = NULL;
    if (c->pcb != NULL) {
        struct altcp_pcb *pcb = c->pcb;
        c->pcb = NULL;
        tcpio_close(pcb, abort); /* a TLS pcb sends close_notify first */
    }
}

/* Events for the engine's refusals: 1203 for each relay denial (one per
 * refused recipient, naming the client), 1402 once per QUEUE_FULL_EVT_MS
 * while the store stays full, so that a full queue does not flush the
 * event ring with one line per refused client. */
static void smtpd_net_notice(void *ctx, smtpd_notice_t what)
{
    static uint32_t last_full_ms;
    static bool full_logged;
    const smtpd_net_conn_t *c = ctx;
    uint32_t now = board_now_ms();
    if (what == SMTPD_NOTICE_RELAY_DENIED) {
        evt_log(EVT_SMTPD_RELAY_DENIED, c->nif, lwip_ntohl(ip4_addr_get_u32(&c->remote)));
    } else if (!full_logged || now - last_full_ms >= SMTPD_NET_QUEUE_FULL_EVT_MS) {
        queue_stats_t st;
        queue_stats(&st);
        evt_log(EVT_QUEUE_FULL, c->nif, st.messages);
        full_logged = true;
        last_full_ms = now;
    }
}

static int smtpd_net_date(char *buf, size_t n)
{
    return clock_rfc5322(buf, n);
}

/* Give an accepted connection a session and its 220; false when every
 * session is taken. */
static bool smtpd_net_start_session(struct altcp_pcb *pcb, uint8_t nif)
{
    const nif_t *n = nif_at(nif);
    smtpd_net_conn_t *c = NULL;
    for (unsigned i = 0; i < SMTPD_MAX_SESSIONS; i++) {
        if (!conns[i].used) {
            c = &conns[i];
            break;
        }
    }
    if (c == NULL) {
        return false;
    }
    const ip_addr_t *rip = altcp_get_ip(pcb, 0);
    const ip_addr_t *lip = altcp_get_ip(pcb, 1);
    smtpd_conn_t sc;
    memset(&sc, 0, sizeof(sc));
    sc.netif = nif;
    fmt_snprintf(sc.netif_name, sizeof(sc.netif_name), "%s", n->name);
    ip4addr_ntoa_r(ip_2_ip4(lip), sc.local_ip, sizeof(sc.local_ip));
    ip4addr_ntoa_r(ip_2_ip4(rip), sc.remote_ip, sizeof(sc.remote_ip));
    fmt_snprintf(sc.hostname, sizeof(sc.hostname), "%s", n->hostname);
    sc.relay_allowed = smtpd_net_relay_allowed(nif, ip_2_ip4(rip));
    sc.date = smtpd_net_date;
    sc.tls_policy = listeners[nif].tls_policy;
    sc.auth_policy = listeners[nif].auth_policy;
    sc.tls_begin = tls_can_serve(nif) ? smtpd_net_tls_begin : NULL; /* no certificate: STARTTLS not offered */
    sc.auth_check = smtpd_net_auth_check;
    sc.notice = smtpd_net_notice;
    sc.ctx = c;
    smtpd_session_t *s = smtpd_open(&sc, board_now_ms());
    if (s == NULL) {
        return false;
    }
    memset(c, 0, sizeof(*c));
    c->used = true;
    c->pcb = pcb;
    c->s = s;
    c->nif = nif;
    c->remote = *ip_2_ip4(rip);
    tcp_setprio(tcpio_inner(pcb), TCP_PRIO_NORMAL);
    altcp_arg(pcb, c);
    altcp_recv(pcb, smtpd_net_recv);
    altcp_sent(pcb, smtpd_net_sent);
    altcp_err(pcb, smtpd_net_err);
    altcp_poll(pcb, smtpd_net_poll_cb, 2); /* every second: timeouts */
    altcp_nagle_disable(pcb);
    smtpd_net_flush(c); /* the 220 greeting */
    return true;
}

/* Every refusal is counted ("refused busy") and logged (1202), whether it is
 * a 421 or a reset. */
static void smtpd_net_count_refusal(uint8_t nif, const ip_addr_t *remote)
{
    smtpd_count_busy();
    evt_log(EVT_SMTPD_SESSION_LIMIT, nif, lwip_ntohl(ip4_addr_get_u32(ip_2_ip4(remote))));
}

static void smtpd_net_wait_free(smtpd_net_wait_t *w)
{
    struct altcp_pcb *pcb = w->pcb;
    w->pcb = NULL;
    if (pcb != NULL) {
        tcpio_abort_shut(pcb); /* after our FIN it may be in TIME_WAIT already */
    }
}

/* RFC 5321 4.3.2 lets a server answer 421 at connection time.  Then our FIN
 * (shutdown of the sending side only, so the callbacks stay ours). */
static void smtpd_net_wait_refuse(smtpd_net_wait_t *w)
{
    const char *busy = smtpd_busy_reply();
    smtpd_net_count_refusal(w->nif, altcp_get_ip(w->pcb, 0));
    w->refused = true;
    w->polls = 0;
    if (altcp_write(w->pcb, busy, (u16_t)strlen(busy), TCP_WRITE_FLAG_COPY) != ERR_OK ||
        altcp_shutdown(w->pcb, 0, 1) != ERR_OK) {
        smtpd_net_wait_free(w);
        return;
    }
    altcp_output(w->pcb);
}

static err_t smtpd_net_wait_recv(void *arg, struct altcp_pcb *pcb, struct pbuf *p, err_t err)
{
    smtpd_net_wait_t *w = arg;
    (void)err;
    if (w == NULL || w->pcb != pcb) {
        if (p != NULL) {
            pbuf_free(p);
        }
        return ERR_OK;
    }
    if (p == NULL) {
        /* The client closed (after our 421, or it gave up waiting): abort,
         * which frees the PCB without a TIME_WAIT. */
        smtpd_net_wait_free(w);
        return ERR_ABRT;
    }
    if (!w->refused) {
        return ERR_MEM; /* spoke before the greeting: lwIP keeps it for the session */
    }
    altcp_recved(pcb, p->tot_len);
    pbuf_free(p);
    return ERR_OK;
}

static err_t smtpd_net_wait_poll(void *arg, struct altcp_pcb *pcb)
{
    smtpd_net_wait_t *w = arg;
    if (w == NULL || w->pcb != pcb) {
        return ERR_OK;
    }
    w->polls++;
    if (!w->refused && w->polls >= SMTPD_NET_WAIT_POLLS) {
        smtpd_net_wait_refuse(w);
    } else if (w->refused && w->polls >= SMTPD_NET_LINGER_POLLS) {
        smtpd_net_wait_free(w); /* the client never closed */
    }
    return w->pcb == NULL ? ERR_ABRT : ERR_OK;
}

static void smtpd_net_wait_err(void *arg, err_t err)
{
    smtpd_net_wait_t *w = arg;
    (void)err;
    if (w != NULL) {
        w->pcb = NULL; /* freed by lwIP: reset, or evicted by a new SYN */
        if (!w->refused) {
            smtpd_net_count_refusal(w->nif, &w->remote); /* evicted before its 421: a refusal too */
        }
    }
}

/* A session freed: the oldest waiter gets it (from the main loop, not from
 * inside another connection's callback). */
static void smtpd_net_serve_waiters(void)
{
    for (;;) {
        smtpd_net_wait_t *oldest = NULL;
        for (unsigned i = 0; i < SMTPD_NET_WAIT_MAX; i++) {
            smtpd_net_wait_t *w = &waits[i];
            if (w->pcb != NULL && !w->refused && (oldest == NULL || w->polls > oldest->polls)) {
                oldest = w;
            }
        }
        if (oldest == NULL) {
            return;
        }
        struct altcp_pcb *pcb = oldest->pcb;
        uint8_t nif = oldest->nif;
        oldest->pcb = NULL;
        altcp_arg(pcb, NULL);
        if (!smtpd_net_start_session(pcb, nif)) {
            oldest->pcb = pcb; /* still no session: keep waiting */
            altcp_arg(pcb, oldest);
            return;
        }
    }
}

static err_t smtpd_net_accept(void *arg, struct altcp_pcb *pcb, err_t err)
{
    uint8_t nif = (uint8_t)(uintptr_t)arg;
    if (err != ERR_OK || pcb == NULL) {
        return ERR_VAL;
    }
    bool waiting = false;
    for (unsigned i = 0; i < SMTPD_NET_WAIT_MAX; i++) {
        waiting = waiting || (waits[i].pcb != NULL && !waits[i].refused);
    }
    /* First come, first served: a newcomer does not overtake a waiter. */
    if (!waiting && smtpd_net_start_session(pcb, nif)) {
        return ERR_OK;
    }
    smtpd_net_wait_t *w = NULL;
    for (unsigned i = 0; i < SMTPD_NET_WAIT_MAX && w == NULL; i++) {
        w = waits[i].pcb == NULL ? &waits[i] : NULL;
    }
    tcp_setprio(tcpio_inner(pcb), TCP_PRIO_MIN);
    if (w == NULL) {
        /* No waiting slot either: 421 at once and a plain close. */
        const char *busy = smtpd_busy_reply();
        smtpd_net_count_refusal(nif, altcp_get_ip(pcb, 0));
        altcp_write(pcb, busy, (u16_t)strlen(busy), TCP_WRITE_FLAG_COPY);
        altcp_output(pcb);
        if (altcp_close(pcb) != ERR_OK) {
            altcp_abort(pcb);
            return ERR_ABRT;
        }
        return ERR_OK;
    }
    memset(w, 0, sizeof(*w));
    w->pcb = pcb;
    w->nif = nif;
    ip_addr_copy(w->remote, *altcp_get_ip(pcb, 0));
    altcp_arg(pcb, w);
    altcp_recv(pcb, smtpd_net_wait_recv);
    altcp_err(pcb, smtpd_net_wait_err);
    altcp_poll(pcb, smtpd_net_wait_poll, 1);
    return ERR_OK;
}

/* SYNs, before lwIP's TCP input sees them (LWIP_HOOK_TCP_INPACKET_PCB).
 * lwIP's tcp_listen_input drops a SYN silently when tcp_alloc finds no PCB
 * (even after evicting TIME_WAIT, LAST_ACK, CLOSING and lower-priority
 * connections), and the client retransmits into the same famine.  This hook
 * (LWIP_HOOK_TCP_INPACKET_PCB, port/port_hooks.h) makes the same allocation
 * first; if it fails, the client gets a reset at once and the refusal is
 * counted.  The probe PCB goes straight back to the pool, where
 * tcp_listen_input takes it. */
err_t smtpd_net_tcp_in_hook(struct tcp_pcb *pcb, const struct tcp_hdr *hdr)
{
    if (pcb == NULL || (TCPH_FLAGS(hdr) & (TCP_SYN | TCP_ACK | TCP_RST)) != TCP_SYN) {
        return ERR_OK;
    }
    if (pcb->state == TIME_WAIT) {
        /* A new connection on the 4-tuple of one we closed (QEMU's user
         * networking reuses the host client's port): lwIP answers it with
         * an ACK for 2 MSL, and the client sees silence.  RFC 1122
         * 4.2.2.13 lets a SYN beyond the old sequence space end TIME_WAIT;
         * the SYN is dropped with it and its retransmission finds the
         * listener. */
        if (TCP_SEQ_GT(hdr->seqno, pcb->rcv_nxt)) {
            tcp_abort(pcb);
            return ERR_ABRT;
        }
        return ERR_OK;
    }
    if (pcb->state != LISTEN) {
        return ERR_OK;
    }
    struct tcp_pcb *probe = tcp_alloc(pcb->prio);
    if (probe != NULL) {
        tcp_free(probe);
        return ERR_OK;
    }
    /* tcp_input has turned the header to host byte order already. */
    tcp_rst(pcb, 0, hdr->seqno + 1u, ip_current_dest_addr(), ip_current_src_addr(), hdr->dest, hdr->src);
    int nif = nif_index_of(ip_current_netif());
    smtpd_net_count_refusal(nif >= 0 ? (uint8_t)nif : EVT_SRC_NONE, ip_current_src_addr());
    return ERR_ABRT;
}

static int smtpd_net_open_listener(uint8_t i)
{
    smtpd_net_listener_t *l = &listeners[i];
    const nif_t *n = nif_at(i);
    if (!l->enabled) {
        return ERR_OK; /* nothing to open: not a failure */
    }
    if (!n->admin_up || !netif_is_up(n->netif)) {
        return ERR_IF;
    }
    if (!netif_is_link_up(n->netif)) {
        return ERR_CONN;
    }
    if (ip4_addr_isany_val(*netif_ip4_addr(n->netif))) {
        return ERR_RTE; /* no address yet */
    }
    struct altcp_pcb *pcb = altcp_tcp_new_ip_type(IPADDR_TYPE_V4);
    if (pcb == NULL) {
        return ERR_MEM;
    }
    /* Bound to the netif's address AND to the netif itself: a client is
     * trusted by the interface it arrived on, not only by its address. */
    tcp_bind_netif(tcpio_inner(pcb), n->netif);
    /* After an interface flap the listener is reopened while sessions
     * accepted by the old one still hold address:port; without address
     * reuse tcp_bind refuses it (ERR_USE) for as long as they live.  The
     * accepted connections inherit the option (SOF_INHERITED). */
    ip_set_option(tcpio_inner(pcb), SOF_REUSEADDR);
    err_t e = altcp_bind(pcb, netif_ip_addr4(n->netif), l->port);
    if (e != ERR_OK) {
        altcp_close(pcb);
        return e;
    }
    struct altcp_pcb *lp = altcp_listen_with_backlog_and_err(pcb, SMTPD_NET_BACKLOG, &e);
    if (lp == NULL) {
        altcp_close(pcb);
        return e != ERR_OK ? e : ERR_MEM;
    }
    altcp_arg(lp, (void *)(uintptr_t)i);
    altcp_accept(lp, smtpd_net_accept);
    l->pcb = lp;
    l->bound = *netif_ip4_addr(n->netif);
    return ERR_OK;
}

/* A listener whose netif went down or changed address is closed; the normal
 * retry reopens it (and logs 9321 while that fails).  Sessions already
 * accepted on it carry on. */
static void smtpd_net_drop_stale(void)
{
    for (uint8_t i = 0; i < nif_count(); i++) {
        smtpd_net_listener_t *l = &listeners[i];
        const nif_t *n = nif_at(i);
        if (l->pcb == NULL) {
            continue;
        }
        if (!l->enabled || !n->admin_up || !netif_is_up(n->netif) || !netif_is_link_up(n->netif) ||
            !ip4_addr_cmp(&l->bound, netif_ip4_addr(n->netif))) {
            altcp_close(l->pcb);
            l->pcb = NULL;
            l->reported = false;
        }
    }
}

static void smtpd_net_try_listeners(void)
{
    smtpd_net_drop_stale();
    for (uint8_t i = 0; i < nif_count(); i++) {
        smtpd_net_listener_t *l = &listeners[i];
        if (l->pcb != NULL) {
            continue;
        }
        if (!l->enabled) {
            continue;
        }
        int e = smtpd_net_open_listener(i);
        if (e == ERR_OK) {
            l->last_err = 0;
            l->reported = false;
            evt_log(EVT_SMTPD_LISTENING, i, l->port);
            continue;
        }
        if (!l->reported || l->last_err != e) {
            evt_log(EVT_MTA_LISTEN_FAIL, i, (uint32_t)(int32_t)e);
            l->reported = true;
        }
        l->last_err = e;
    }
}

/* 9266 is for a configuration that leaves the MTA nothing to serve: no
 * interface is enabled at all.  A link that is still down or an address not
 * yet assigned is transient (9321 per netif, retried), not fatal. */
static void smtpd_net_check_fatal(void)
{
    for (uint8_t i = 0; i < nif_count(); i++) {
        if (nif_at(i)->admin_up) {
            return;
        }
    }
    if (!fatal_reported) {
        evt_log(EVT_MTA_INIT_FATAL, EVT_SRC_NONE, EVT_CAUSE_NO_NETIF);
        fatal_reported = true;
    }
}

void smtpd_net_init(void)
{
    for (unsigned i = 0; i < NIF_MAX; i++) {
        listeners[i].relay = SMTPD_NET_RELAY_SUBNET;
        listeners[i].port = SMTPD_NET_PORT;
        listeners[i].enabled = true;
        listeners[i].tls_policy = SMTPD_NET_POLICY_OFFER;
        listeners[i].auth_policy = SMTPD_NET_POLICY_OFF;
    }
}

void smtpd_net_start(void)
{
    smtpd_net_try_listeners();
    smtpd_net_check_fatal();
    last_retry_ms = board_now_ms();
}

void smtpd_net_poll(void)
{
    uint32_t now = board_now_ms();
    if (session_freed) {
        session_freed = false;
        smtpd_net_serve_waiters();
    }
    if (kicked || now - last_retry_ms >= SMTPD_NET_RETRY_MS) {
        kicked = false;
        last_retry_ms = now;
        smtpd_net_try_listeners();
    }
}

void smtpd_net_set_relay(uint8_t nif, smtpd_net_relay_t policy)
{
    if (nif < NIF_MAX) {
        listeners[nif].relay = policy;
    }
}

void smtpd_net_set_listener(uint8_t nif, uint16_t port, bool enabled)
{
    if (nif >= NIF_MAX) {
        return;
    }
    smtpd_net_listener_t *l = &listeners[nif];
    if (l->pcb != NULL && (l->port != port || !enabled)) {
        altcp_close(l->pcb);
        l->pcb = NULL;
    }
    l->port = port;
    l->enabled = enabled;
    l->reported = false;
    kicked = true;
}

void smtpd_net_get_listener(uint8_t nif, uint16_t *port, bool *enabled)
{
    *port = nif < NIF_MAX ? listeners[nif].port : 0;
    *enabled = nif < NIF_MAX && listeners[nif].enabled;
}

void smtpd_net_set_tls_policy(uint8_t nif, uint8_t policy)
{
    if (nif < NIF_MAX && policy <= SMTPD_NET_POLICY_REQUIRED) {
        listeners[nif].tls_policy = policy;
    }
}

uint8_t smtpd_net_get_tls_policy(uint8_t nif)
{
    return nif < NIF_MAX ? listeners[nif].tls_policy : SMTPD_NET_POLICY_OFF;
}

void smtpd_net_set_auth_policy(uint8_t nif, uint8_t policy)
{
    if (nif < NIF_MAX && policy <= SMTPD_NET_POLICY_REQUIRED) {
        listeners[nif].auth_policy = policy;
    }
}

uint8_t smtpd_net_get_auth_policy(uint8_t nif)
{
    return nif < NIF_MAX ? listeners[nif].auth_policy : SMTPD_NET_POLICY_OFF;
}

smtpd_net_relay_t smtpd_net_get_relay(uint8_t nif)
{
    return nif < NIF_MAX ? listeners[nif].relay : SMTPD_NET_RELAY_NONE;
}

bool smtpd_net_listening(uint8_t nif, int *last_err)
{
    if (nif >= NIF_MAX) {
        return false;
    }
    if (last_err != NULL) {
        *last_err = listeners[nif].last_err;
    }
    return listeners[nif].pcb != NULL;
}

bool smtpd_net_relay_allowed(uint8_t nif, const ip4_addr_t *remote)
{
    const nif_t *n = nif_at(nif);
    if (n == NULL) {
        return false;
    }
    switch (listeners[nif].relay) {
    case SMTPD_NET_RELAY_ANY:
        return true;
    case SMTPD_NET_RELAY_SUBNET:
        return ip4_addr_netcmp(remote, netif_ip4_addr(n->netif), netif_ip4_netmask(n->netif));
    case SMTPD_NET_RELAY_NONE:
    default:
        return false;
    }
}
