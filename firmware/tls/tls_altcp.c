/* TLS as an altcp layer over altcp_tcp, in static memory; see tls_altcp.h.
 *
 * Memory: the session slots are a static pool (TLS_MAX_SESSIONS), every
 * mbedTLS allocation comes from the arena (tls_cred.c), and the layer's pcb comes
 * from lwIP's static altcp pool (MEMP_NUM_ALTCP_PCB, which net/lwip_sys.c
 * holds to one per TLS session on top of the plaintext ones).  Decrypted
 * bytes are handed up zero-copy: a PBUF_REF over the session's plaintext
 * buffer, refilled only once the upper layer has acknowledged all of it
 * with altcp_recved, so an engine that takes less than offered (pipelining
 * backpressure) holds the stream, not the layer. */
#include "tls/tls_altcp.h"

#include <string.h>

#include "board.h"
#include "evt/evt.h"
#include "lib/clock.h"
#include "lib/sasl.h"
#include "tls/tls_priv.h"
#include "lwip/priv/altcp_priv.h"
#include "lwip/tcp.h"
#include "mbedtls/memory_buffer_alloc.h"
#include "mbedtls/net_sockets.h" /* MBEDTLS_ERR_NET_* codes only */
#include "mbedtls/sha256.h"
#include "mbedtls/ssl.h"

typedef enum {
    TLS_S_FREE = 0,
    TLS_S_RESERVED,     /* tls_reserve: not wrapped yet */
    TLS_S_HANDSHAKE,
    TLS_S_OPEN,
    TLS_S_FAILED,       /* err says why; done() told once */
} tls_state_t;

struct tls_sess {
    uint8_t state;      /* tls_state_t */
    uint8_t role;       /* tls_role_t */
    uint8_t accept;     /* tls_accept_t */
    uint8_t evt_src;    /* netif or peer, for events */
    bool told;          /* done() was called */
    bool fp_ok;         /* FINGERPRINT: the leaf matched the pin */
    bool p_up;          /* a PBUF_REF over plain is with the upper layer */
    uint16_t rx_off;
    uint16_t p_len, p_acked; /* plain[0..p_len) decrypted; p_acked acknowledged */
    uint16_t wpend;     /* bytes of a write that mbedTLS holds half-sent */
    int32_t err;        /* mbedTLS / TLS_ERR_* error, TLS_EOF, or 0 */
    uint32_t start_ms;
    struct altcp_pcb *conn; /* the TLS pcb; NULL while only reserved */
    struct pbuf *rx;    /* ciphertext not yet read by mbedTLS */
    const uint8_t *pin;
    tls_done_fn done;
    mbedtls_ssl_context ssl;
    uint8_t plain[TLS_PLAIN_BUF];
};

_Static_assert(TLS_PLAIN_BUF <= 0xFFFF, "plaintext offsets are 16-bit");

static tls_sess_t sess[TLS_MAX_SESSIONS];
static unsigned sessions_hw;
static uint32_t n_handshakes, n_failures;

static const struct altcp_functions tls_altcp_functions;

/* Smallest free arena that a new session needs: the two record buffers, the
 * context and the handshake. Reserving refuses below it. */
#define TLS_SESSION_MIN (MBEDTLS_SSL_IN_CONTENT_LEN + MBEDTLS_SSL_OUT_CONTENT_LEN + 8u * 1024u)

bool tls_sess_conf_busy(const mbedtls_ssl_config *conf)
{
    for (unsigned i = 0; i < TLS_MAX_SESSIONS; i++) {
        if (sess[i].state >= TLS_S_HANDSHAKE && sess[i].ssl.conf == conf) {
            return true;
        }
    }
    return false;
}

/* ---- mbedTLS I/O over the inner pcb --------------------------------------- */

static int bio_send(void *ctx, const unsigned char *buf, size_t len)
{
    tls_sess_t *t = ctx;
    struct altcp_pcb *inner = t->conn != NULL ? t->conn->inner_conn : NULL;
    if (inner == NULL) {
        return MBEDTLS_ERR_NET_CONN_RESET;
    }
    size_t room = altcp_sndbuf(inner);
    if (room == 0 || altcp_sndqueuelen(inner) >= TCP_SND_QUEUELEN - 1) {
        return MBEDTLS_ERR_SSL_WANT_WRITE;
    }
    size_t n = len < room ? len : room;
    err_t e = altcp_write(inner, buf, (u16_t)n, TCP_WRITE_FLAG_COPY);
    if (e == ERR_MEM) {
        return MBEDTLS_ERR_SSL_WANT_WRITE;
    }
    if (e != ERR_OK) {
        return MBEDTLS_ERR_NET_CONN_RESET;
    }
    return (int)n;
}

/* Ciphertext is acknowledged to TCP as mbedTLS reads it: the window stays
 * closed on what the session has not taken yet. */
static int bio_recv(void *ctx, unsigned char *buf, size_t len)
{
    tls_sess_t *t = ctx;
    size_t got = 0;
    while (got < len && t->rx != NULL) {
        struct pbuf *q = t->rx;
        size_t avail = q->len - t->rx_off;
        size_t k = len - got < avail ? len - got : avail;
        memcpy(buf + got, (const uint8_t *)q->payload + t->rx_off, k);
        got += k;
        t->rx_off = (uint16_t)(t->rx_off + k);
        if (t->rx_off == q->len) {
            t->rx = pbuf_dechain(q);
            t->rx_off = 0;
            pbuf_free(q);
        }
    }
    if (got == 0) {
        return MBEDTLS_ERR_SSL_WANT_READ;
    }
    if (t->conn != NULL && t->conn->inner_conn != NULL) {
        altcp_recved(t->conn->inner_conn, (u16_t)got);
    }
    return (int)got;
}

static void tls_push(tls_sess_t *t)
{
    if (t->conn != NULL && t->conn->inner_conn != NULL) {
        altcp_output(t->conn->inner_conn);
    }
}

/* Records the leaf's match against a pinned fingerprint; when the wall
 * clock was never set (build time), validity dates cannot be judged and are
 * not held against the chain. */
static int verify_cb(void *ctx, mbedtls_x509_crt *crt, int depth, uint32_t *flags)
{
    tls_sess_t *t = ctx;
    if (depth == 0 && t->pin != NULL) {
        uint8_t fp[TLS_FP_LEN];
        mbedtls_sha256_ret(crt->raw.p, crt->raw.len, fp, 0);
        t->fp_ok = memcmp(fp, t->pin, sizeof(fp)) == 0;
    }
    if (clock_source() == CLOCK_SRC_BUILD) {
        *flags &= ~(uint32_t)(MBEDTLS_X509_BADCERT_EXPIRED | MBEDTLS_X509_BADCERT_FUTURE);
    }
    return 0;
}

/* The one place a peer's certificate is judged: 0 if acceptable, else the
 * flags event 1706 shows. */
static uint32_t tls_judge(tls_sess_t *t)
{
    switch (t->accept) {
    case TLS_ACCEPT_VERIFY:
        return mbedtls_ssl_get_verify_result(&t->ssl);
    case TLS_ACCEPT_FINGERPRINT:
        return t->fp_ok ? 0 : TLS_FLAG_FP_MISMATCH;
    default:
        return 0;
    }
}

/* ---- the session's life ------------------------------------------------------ */

static void sess_free(tls_sess_t *t)
{
    if (t->state >= TLS_S_HANDSHAKE) {
        mbedtls_ssl_free(&t->ssl);
    }
    if (t->rx != NULL) {
        pbuf_free(t->rx);
    }
    sasl_wipe(t->plain, sizeof(t->plain));
    memset(t, 0, offsetof(tls_sess_t, ssl));
}

/* conn's session is still the one we were running (an upper callback may
 * have closed or aborted conn, which frees both). */
static bool sess_alive(const tls_sess_t *t, const struct altcp_pcb *conn)
{
    return t->conn == conn;
}

/* Tell the upper layer once: the handshake result, or a later failure.
 * ERR_ABRT when it closed the connection meanwhile. */
static err_t tls_tell(tls_sess_t *t, struct altcp_pcb *conn, mta_err_t e)
{
    if (t->told && !mta_err_ok(e)) {
        return ERR_OK;
    }
    t->told = !mta_err_ok(e);
    if (t->done != NULL) {
        t->done(conn->arg, conn, e);
    }
    return sess_alive(t, conn) ? ERR_OK : ERR_ABRT;
}

static err_t tls_fail(tls_sess_t *t, struct altcp_pcb *conn, int32_t err)
{
    if (t->state == TLS_S_HANDSHAKE) {
        n_failures++;
    }
    t->state = TLS_S_FAILED;
    t->err = err;
    return tls_tell(t, conn, mta_err_tls(err));
}

/* The peer's close_notify (or a clean end): to the upper layer as a FIN. */
static err_t tls_eof(tls_sess_t *t, struct altcp_pcb *conn)
{
    t->err = TLS_EOF;
    t->state = TLS_S_FAILED;
    t->told = true;
    if (conn->recv != NULL) {
        return conn->recv(conn->arg, conn, NULL, ERR_OK);
    }
    return ERR_OK;
}

/* Decrypted bytes up, one buffer at a time, while the upper layer takes
 * them. */
static err_t tls_deliver(tls_sess_t *t, struct altcp_pcb *conn)
{
    while (t->state == TLS_S_OPEN) {
        if (t->p_up) {
            if (t->p_acked < t->p_len) {
                return ERR_OK; /* the upper layer still holds some */
            }
            t->p_up = false;
            t->p_len = t->p_acked = 0;
        }
        if (t->p_len == 0) {
            int r = mbedtls_ssl_read(&t->ssl, t->plain, sizeof(t->plain));
            tls_push(t);
            if (r == MBEDTLS_ERR_SSL_WANT_READ || r == MBEDTLS_ERR_SSL_WANT_WRITE) {
                return ERR_OK;
            }
            if (r == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY || r == 0) {
                return tls_eof(t, conn);
            }
            if (r < 0) {
                return tls_fail(t, conn, r);
            }
            t->p_len = (uint16_t)r;
            t->p_acked = 0;
        }
        struct pbuf *q = pbuf_alloc_reference(t->plain, t->p_len, PBUF_REF);
        if (q == NULL) {
            return ERR_OK; /* no pbuf now: the next event tries again */
        }
        t->p_up = true;
        if (conn->recv == NULL) {
            pbuf_free(q);
            t->p_acked = t->p_len;
            continue;
        }
        err_t e = conn->recv(conn->arg, conn, q, ERR_OK);
        if (!sess_alive(t, conn)) {
            return ERR_ABRT;
        }
        if (e != ERR_OK) {
            /* Not taken (lwIP's contract): offer the same bytes later. */
            pbuf_free(q);
            t->p_up = false;
            t->p_acked = 0;
            return ERR_OK;
        }
    }
    return ERR_OK;
}

/* A handshake we end ourselves gets a fatal alert (RFC 5246 7.2), so that
 * the peer logs why instead of an unexpected EOF.  Best effort: the
 * connection is dropped right after. */
static void tls_refuse(tls_sess_t *t, unsigned char alert)
{
    (void)mbedtls_ssl_send_alert_message(&t->ssl, MBEDTLS_SSL_ALERT_LEVEL_FATAL, alert);
    tls_push(t);
}

/* One handshake step: 0 done and the peer accepted, 1 in progress, or an
 * error (negative). */
static int32_t tls_handshake_step(tls_sess_t *t)
{
    if (board_now_ms() - t->start_ms > TLS_HANDSHAKE_TIMEOUT_MS) {
        tls_refuse(t, MBEDTLS_SSL_ALERT_MSG_HANDSHAKE_FAILURE);
        return TLS_ERR_TIMEOUT;
    }
    int r = mbedtls_ssl_handshake(&t->ssl);
    tls_push(t);
    if (r == MBEDTLS_ERR_SSL_WANT_READ || r == MBEDTLS_ERR_SSL_WANT_WRITE) {
        return 1;
    }
    if (r == MBEDTLS_ERR_SSL_ALLOC_FAILED) {
        tls_refuse(t, MBEDTLS_SSL_ALERT_MSG_INTERNAL_ERROR); /* mbedTLS sends none for this */
    }
    if (r != 0) {
        return r;
    }
    uint32_t flags = t->role == TLS_CLIENT ? tls_judge(t) : 0;
    if (flags != 0) {
        evt_log(EVT_TLS_PEER_UNTRUSTED, t->evt_src, flags);
        tls_refuse(t, MBEDTLS_SSL_ALERT_MSG_BAD_CERT);
        return TLS_ERR_CERT_REJECTED;
    }
    return 0;
}

/* Drive the session after any event on the inner pcb. */
static err_t tls_run(tls_sess_t *t, struct altcp_pcb *conn)
{
    if (t->state == TLS_S_FAILED && !t->told) {
        return tls_tell(t, conn, mta_err_tls(t->err)); /* a failed write, told outside it */
    }
    if (t->state == TLS_S_HANDSHAKE) {
        int32_t r = tls_handshake_step(t);
        if (r == 1) {
            return ERR_OK;
        }
        if (r != 0) {
            return tls_fail(t, conn, r);
        }
        t->pin = NULL; /* only valid during the handshake */
        t->state = TLS_S_OPEN;
        err_t e = tls_tell(t, conn, mta_err_none()); /* RFC 3207 4.2: the upper layer starts over */
        if (e != ERR_OK) {
            return e;
        }
    }
    return tls_deliver(t, conn);
}

/* ---- callbacks of the inner pcb (arg: the TLS pcb) --------------------------- */

static err_t tls_inner_recv(void *arg, struct altcp_pcb *inner, struct pbuf *p, err_t err)
{
    struct altcp_pcb *conn = arg;
    tls_sess_t *t = conn->state;
    (void)inner;
    if (p == NULL || err != ERR_OK) {
        if (p != NULL) {
            pbuf_free(p);
        }
        /* TCP closed under the session: the upper layer sees the FIN. */
        if (conn->recv != NULL) {
            return conn->recv(conn->arg, conn, NULL, err);
        }
        return ERR_OK;
    }
    if (t->rx == NULL) {
        t->rx = p;
        t->rx_off = 0;
    } else {
        pbuf_cat(t->rx, p);
    }
    return tls_run(t, conn);
}

static err_t tls_inner_sent(void *arg, struct altcp_pcb *inner, u16_t len)
{
    struct altcp_pcb *conn = arg;
    tls_sess_t *t = conn->state;
    (void)inner;
    if (t->state == TLS_S_OPEN && conn->sent != NULL) {
        err_t e = conn->sent(conn->arg, conn, len);
        if (!sess_alive(t, conn)) {
            return ERR_ABRT;
        }
        (void)e;
    }
    return tls_run(t, conn);
}

static err_t tls_inner_poll(void *arg, struct altcp_pcb *inner)
{
    struct altcp_pcb *conn = arg;
    tls_sess_t *t = conn->state;
    (void)inner;
    if (t->state != TLS_S_HANDSHAKE && conn->poll != NULL) {
        (void)conn->poll(conn->arg, conn);
        if (!sess_alive(t, conn)) {
            return ERR_ABRT;
        }
    }
    return tls_run(t, conn); /* also the handshake timeout */
}

/* The inner pcb is gone (lwIP freed it): so is the TLS pcb. */
static void tls_inner_err(void *arg, err_t err)
{
    struct altcp_pcb *conn = arg;
    altcp_err_fn fn = conn->err;
    void *uarg = conn->arg;
    conn->inner_conn = NULL;
    altcp_free(conn);
    if (fn != NULL) {
        fn(uarg, err);
    }
}

/* The inner pcb calls the layer (arg: the TLS pcb), or nobody. */
static void tls_inner_attach(struct altcp_pcb *inner, struct altcp_pcb *conn)
{
    altcp_arg(inner, conn);
    altcp_recv(inner, tls_inner_recv);
    altcp_sent(inner, tls_inner_sent);
    altcp_err(inner, tls_inner_err);
    altcp_poll(inner, tls_inner_poll, conn->pollinterval);
}

static void tls_inner_detach(struct altcp_pcb *inner)
{
    altcp_arg(inner, NULL);
    altcp_recv(inner, NULL);
    altcp_sent(inner, NULL);
    altcp_err(inner, NULL);
    altcp_poll(inner, NULL, inner->pollinterval);
}

/* ---- the layer's altcp functions ---------------------------------------------- */

static void tls_l_set_poll(struct altcp_pcb *conn, u8_t interval)
{
    if (conn->inner_conn != NULL) {
        altcp_poll(conn->inner_conn, tls_inner_poll, interval);
    }
}

static void tls_l_recved(struct altcp_pcb *conn, u16_t len)
{
    tls_sess_t *t = conn->state;
    uint32_t acked = (uint32_t)t->p_acked + len;
    t->p_acked = (uint16_t)(acked < t->p_len ? acked : t->p_len);
}

static void tls_l_abort(struct altcp_pcb *conn)
{
    struct altcp_pcb *inner = conn->inner_conn;
    conn->inner_conn = NULL;
    if (inner != NULL) {
        tls_inner_detach(inner);
        altcp_abort(inner);
    }
    altcp_free(conn);
}

static err_t tls_l_close(struct altcp_pcb *conn)
{
    tls_sess_t *t = conn->state;
    struct altcp_pcb *inner = conn->inner_conn;
    if (inner != NULL) {
        if (t->state == TLS_S_OPEN && t->err == 0) {
            (void)mbedtls_ssl_close_notify(&t->ssl); /* best effort */
            tls_push(t);
            t->err = TLS_EOF;
        }
        tls_inner_detach(inner);
        err_t e = altcp_close(inner);
        if (e != ERR_OK) {
            tls_inner_attach(inner, conn); /* still open: the caller aborts (tcpio_close) or tries again */
            return e;
        }
        conn->inner_conn = NULL;
    }
    altcp_free(conn);
    return ERR_OK;
}

static err_t tls_l_write(struct altcp_pcb *conn, const void *data, u16_t len, u8_t flags)
{
    tls_sess_t *t = conn->state;
    (void)flags; /* mbedTLS copies into its record buffer */
    if (t->state != TLS_S_OPEN || conn->inner_conn == NULL) {
        return ERR_CONN;
    }
    if (t->wpend != 0 && len != t->wpend) {
        return ERR_MEM; /* altcp_sndbuf said wpend: those bytes first */
    }
    int r = mbedtls_ssl_write(&t->ssl, data, len);
    tls_push(t);
    if (r == MBEDTLS_ERR_SSL_WANT_WRITE || r == MBEDTLS_ERR_SSL_WANT_READ) {
        t->wpend = len; /* the record is built: finish it with the same bytes */
        return ERR_MEM;
    }
    t->wpend = 0;
    if (r < 0) {
        t->state = TLS_S_FAILED; /* told at the next event, not inside the caller's write */
        t->err = r;
        return ERR_CONN;
    }
    return ERR_OK;
}

static err_t tls_l_output(struct altcp_pcb *conn)
{
    return conn->inner_conn != NULL ? altcp_output(conn->inner_conn) : ERR_CONN;
}

/* Plaintext that makes a record TCP can take whole (no half-sent records),
 * 0 during the handshake; while mbedTLS holds a half-sent record, exactly
 * the bytes that built it. */
static u16_t tls_l_sndbuf(struct altcp_pcb *conn)
{
    tls_sess_t *t = conn->state;
    struct altcp_pcb *inner = conn->inner_conn;
    if (t->state != TLS_S_OPEN || inner == NULL) {
        return 0;
    }
    if (t->wpend != 0) {
        return t->wpend;
    }
    size_t room = altcp_sndbuf(inner);
    if (room < 128u || altcp_sndqueuelen(inner) >= TCP_SND_QUEUELEN - 4) {
        return 0;
    }
    size_t n = room - 64u; /* record header, nonce and tag */
    return (u16_t)(n < MBEDTLS_SSL_OUT_CONTENT_LEN ? n : MBEDTLS_SSL_OUT_CONTENT_LEN);
}

static void tls_l_dealloc(struct altcp_pcb *conn)
{
    tls_sess_t *t = conn->state;
    conn->state = NULL;
    if (t != NULL) {
        sess_free(t);
    }
}

static const struct altcp_functions tls_altcp_functions = {
    .set_poll = tls_l_set_poll,
    .recved = tls_l_recved,
    .abort = tls_l_abort,
    .close = tls_l_close,
    .write = tls_l_write,
    .output = tls_l_output,
    .sndbuf = tls_l_sndbuf,
    .dealloc = tls_l_dealloc,
    /* The rest (MSS, addresses, Nagle, priority, keepalive) are set or read on
     * the plaintext pcb before it is wrapped; altcp.c answers 0 / ERR_VAL
     * for a NULL entry. */
};

/* ---- reserve and wrap ------------------------------------------------------------- */

static size_t arena_free(void)
{
    size_t used, blocks;
    mbedtls_memory_buffer_alloc_cur_get(&used, &blocks);
    size_t overhead = blocks * 8u * sizeof(void *); /* block headers (debug build) */
    return TLS_ARENA_SIZE > used + overhead ? TLS_ARENA_SIZE - used - overhead : 0;
}

/* Whether a session for `role` may be taken now: the other direction keeps
 * its reserve (TLS_RESERVE_INBOUND / TLS_RESERVE_OUTBOUND), so inbound
 * clients cannot hold every session while delivery to a required-TLS peer
 * waits, nor the other way round. */
static bool tls_budget_allows(tls_role_t role)
{
    unsigned in_use = 0, other = 0;
    for (unsigned i = 0; i < TLS_MAX_SESSIONS; i++) {
        if (sess[i].state != TLS_S_FREE) {
            in_use++;
            other += sess[i].role != (uint8_t)role;
        }
    }
    unsigned other_reserve = role == TLS_SERVER ? TLS_RESERVE_OUTBOUND : TLS_RESERVE_INBOUND;
    unsigned still_owed = other < other_reserve ? other_reserve - other : 0u;
    return in_use + 1u + still_owed <= TLS_MAX_SESSIONS;
}

tls_sess_t *tls_reserve(uint8_t evt_src, tls_role_t role)
{
    if (!tls_ready()) {
        return NULL;
    }
    if (arena_free() < TLS_SESSION_MIN) {
        evt_log(EVT_TLS_SESSIONS_FULL, evt_src, TLS_MAX_SESSIONS);
        return NULL;
    }
    unsigned in_use = 0;
    tls_sess_t *t = NULL;
    for (unsigned i = 0; i < TLS_MAX_SESSIONS; i++) {
        if (sess[i].state != TLS_S_FREE) {
            in_use++;
        } else if (t == NULL) {
            t = &sess[i];
        }
    }
    if (t == NULL || !tls_budget_allows(role)) {
        evt_log(EVT_TLS_SESSIONS_FULL, evt_src, TLS_MAX_SESSIONS);
        return NULL;
    }
    memset(t, 0, offsetof(tls_sess_t, ssl));
    t->state = TLS_S_RESERVED;
    t->role = (uint8_t)role;
    t->evt_src = evt_src;
    if (in_use + 1 > sessions_hw) {
        sessions_hw = in_use + 1;
    }
    return t;
}

void tls_unreserve(tls_sess_t *t)
{
    if (t != NULL && t->state == TLS_S_RESERVED) {
        sess_free(t);
    }
}

struct altcp_pcb *tls_wrap(tls_sess_t *t, struct altcp_pcb *inner, const tls_wrap_opts_t *o, mta_err_t *err)
{
    const mbedtls_ssl_config *conf = NULL;
    struct altcp_pcb *conn = NULL;
    int32_t r = TLS_ERR_STATE;
    if (t != NULL && t->state == TLS_S_RESERVED && inner != NULL) {
        conf = tls_cred_conf(o->role == TLS_SERVER, o->netif);
        r = TLS_ERR_NOCERT;
    }
    if (conf != NULL) {
        conn = altcp_alloc(); /* lwIP's static pool, sized for it (net/lwip_sys.c) */
        r = MBEDTLS_ERR_SSL_ALLOC_FAILED;
    }
    if (conn != NULL) {
        mbedtls_ssl_init(&t->ssl);
        t->state = TLS_S_HANDSHAKE;
        r = mbedtls_ssl_setup(&t->ssl, conf);
        if (r == 0 && o->role == TLS_CLIENT && o->server_name != NULL && o->server_name[0] != '\0') {
            r = mbedtls_ssl_set_hostname(&t->ssl, o->server_name);
        }
        if (r != 0) {
            n_failures++;
            altcp_free(conn); /* no dealloc yet: conn->fns is unset */
        }
    }
    *err = mta_err_tls(r);
    if (r != 0) {
        if (t != NULL && (t->state == TLS_S_RESERVED || conn != NULL)) {
            sess_free(t); /* the reservation goes back */
        }
        return NULL;
    }
    t->role = (uint8_t)o->role;
    t->accept = (uint8_t)o->accept;
    t->pin = o->accept == TLS_ACCEPT_FINGERPRINT ? o->pin : NULL;
    t->done = o->done;
    t->start_ms = board_now_ms();
    mbedtls_ssl_set_bio(&t->ssl, t, bio_send, bio_recv, NULL);
    if (o->role == TLS_CLIENT) {
        mbedtls_ssl_set_verify(&t->ssl, verify_cb, t);
    }
    n_handshakes++;
    /* The new pcb takes the inner pcb's arg and callbacks; the inner pcb
     * calls the layer from now on (altcp_proxyconnect.c does the same). */
    *conn = *inner;
    conn->fns = &tls_altcp_functions;
    conn->inner_conn = inner;
    conn->state = t;
    t->conn = conn;
    tls_inner_attach(inner, conn);
    /* The first step (the client's ClientHello) runs now.  done() is only
     * ever called from the inner pcb's events, after the caller has the new
     * pcb: a failure here is told at the next one (at most a poll interval
     * later).  A handshake cannot complete here: the peer has not spoken. */
    r = tls_handshake_step(t);
    if (r < 0) {
        n_failures++;
        t->state = TLS_S_FAILED;
        t->err = r;
    }
    return conn;
}

/* ---- status ------------------------------------------------------------------------ */

void tls_status(tls_status_t *out)
{
    memset(out, 0, sizeof(*out));
    out->ready = tls_ready();
    out->max_sessions = TLS_MAX_SESSIONS;
    for (unsigned i = 0; i < TLS_MAX_SESSIONS; i++) {
        out->sessions += sess[i].state != TLS_S_FREE;
    }
    out->sessions_hw = sessions_hw;
    out->arena_size = TLS_ARENA_SIZE;
    size_t blocks;
    mbedtls_memory_buffer_alloc_cur_get(&out->arena_used, &blocks);
    mbedtls_memory_buffer_alloc_max_get(&out->arena_hw, &blocks);
    out->handshakes = n_handshakes;
    out->failures = n_failures;
}

bool tls_sess_info(unsigned i, tls_role_t *role, bool *established, const char **suite)
{
    if (i >= TLS_MAX_SESSIONS || sess[i].state == TLS_S_FREE) {
        return false;
    }
    *role = (tls_role_t)sess[i].role;
    *established = sess[i].state == TLS_S_OPEN;
    *suite = *established ? mbedtls_ssl_get_ciphersuite(&sess[i].ssl) : "?";
    return true;
}
