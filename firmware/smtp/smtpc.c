/*
 * smtpc.c - SMTP client protocol engine (see smtpc.h).
 *
 * Transaction model: the commands of one job form a sequence
 *   seq 0 = MAIL, seq 1..n = RCPT for rcpts[seq-1], seq n+1 = DATA
 * (recipients resolved locally before the transaction are skipped).
 * tx_seq is the next command to put into the output buffer, rx_seq the
 * command whose reply comes next. Without PIPELINING a command is only
 * emitted when nothing is outstanding (tx_seq == rx_seq); with it, the
 * whole sequence is emitted as buffer space allows (RFC 2920 3.1) and the
 * replies are matched in order (RFC 2920 3.2).
 *
 * Session steps (once per connection, between the EHLO reply and the first
 * transaction; smtpc_session_next decides what comes next): STARTTLS, the
 * glue's handshake (TLSWAIT), EHLO again, AUTH. Each is a single command
 * sent only when nothing is outstanding and followed by nothing until its
 * reply, so none is ever pipelined. Credentials are base64-encoded on the
 * stack straight into the output buffer at the moment the line is emitted;
 * the stack copy is wiped at once and the output buffer when it drains.
 */
#include "smtp/smtpc.h"

#include <stdarg.h>
#include <string.h>

#include "lib/fmt.h"
#include "lib/sasl.h"
#include "smtp/smtp_data.h"

#if SMTPC_OUTBUF < 600
#error "SMTPC_OUTBUF must hold a full command line (512) plus slack"
#endif

/* base64 of the longest PLAIN message: NUL user(64) NUL password(128) */
#define SMTPC_AUTH_B64 (((SASL_USER_MAX - 1 + SASL_PASS_MAX - 1 + 2 + 2) / 3) * 4 + 1)

/* Recipient state within the current job. */
enum {
    R_PENDING = 0, /* no answer yet */
    R_ACCEPTED,    /* RCPT got 2xx, waits for the final reply */
    R_DONE,        /* result reported */
    R_SKIP         /* resolved locally, never sent */
};

/* Single commands outside the MAIL/RCPT/DATA sequence. */
enum {
    CMD_NONE = 0, CMD_EHLO, CMD_HELO, CMD_RSET, CMD_QUIT, CMD_DOT,
    CMD_STARTTLS, CMD_AUTH_PLAIN, CMD_AUTH_LOGIN, CMD_AUTH_USER, CMD_AUTH_PASS
};

struct smtpc {
    bool used;
    smtpc_state_t state;
    smtpc_job_t job;
    bool have_job;       /* job set and not all recipients resolved/finished */
    bool txn;            /* transaction of the job started */
    uint8_t rst[SMTPC_MAX_RCPTS];
    unsigned accepted;
    unsigned tx_seq, rx_seq;
    bool pipelining;     /* this transaction is pipelined */
    bool mail_failed;
    bool tx_stop;        /* emit no further sequence commands */
    bool dummy_dot;      /* lone "." after 354 with nobody accepted */
    uint8_t pend;        /* CMD_* waiting for buffer space */
    smtpc_reply_parser_t rp;
    smtpc_reply_t last;
    uint32_t ext;
    uint32_t peer_size;
    uint8_t auth_mechs;  /* SMTP_AUTH_* of the last EHLO */
    bool malformed;      /* last_err: a line that is no SMTP reply at all */
    int last_err;
    const char *err_text; /* static reason for last_err, NULL = strerror */
    int abort_err;
    /* session parameters, from the job given to smtpc_open */
    uint8_t tls_mode;    /* SMTPC_TLS_* */
    bool (*tls_begin)(void *ctx);
    void *sess_ctx;
    const char *auth_user, *auth_pass; /* NULL once AUTH is over */
    bool auth_plaintext_ok;
    /* session progress */
    bool tls_tried;      /* STARTTLS decided (sent, refused or skipped) */
    bool tls_active;
    bool authed;
    bool auth_login;     /* AUTH LOGIN rather than PLAIN */
    bool out_secret;     /* the output buffer held credentials: wipe it */
    uint32_t now;
    uint32_t deadline;
    bool timer_on;
    bool progress;       /* output consumed since the last tick */
    smtp_stuff_t stuff;
    uint32_t body_off;
    bool body_end;
    size_t out_off, out_len;
    uint8_t out[SMTPC_OUTBUF];
};

static smtpc_t smtpc_pool[SMTPC_MAX_CONN];

/* Name and RFC 5321 4.5.3.2 timeout (0 = none) per state. */
static const struct {
    const char *name;
    uint32_t to_ms;
} smtpc_states[SMTPC_ST_COUNT] = {
    [SMTPC_ST_GREETING] = {"GREETING", SMTPC_TO_GREETING_MS},
    [SMTPC_ST_EHLO] = {"EHLO", SMTPC_TO_MAIL_MS},
    [SMTPC_ST_HELO] = {"HELO", SMTPC_TO_MAIL_MS},
    /* STARTTLS and AUTH have no RFC 5321 timer of their own; they are
     * commands like EHLO. TLSWAIT bounds the glue's handshake the same way
     * so that a peer stalling it cannot hold the connection forever. */
    [SMTPC_ST_STARTTLS] = {"STARTTLS", SMTPC_TO_MAIL_MS},
    [SMTPC_ST_TLSWAIT] = {"TLSWAIT", SMTPC_TO_MAIL_MS},
    [SMTPC_ST_AUTH] = {"AUTH", SMTPC_TO_MAIL_MS},
    [SMTPC_ST_AUTH_USER] = {"AUTH_USER", SMTPC_TO_MAIL_MS},
    [SMTPC_ST_AUTH_PASS] = {"AUTH_PASS", SMTPC_TO_MAIL_MS},
    [SMTPC_ST_IDLE] = {"IDLE", 0},
    [SMTPC_ST_MAIL] = {"MAIL", SMTPC_TO_MAIL_MS},
    [SMTPC_ST_RCPT] = {"RCPT", SMTPC_TO_RCPT_MS},
    [SMTPC_ST_DATA] = {"DATA", SMTPC_TO_DATA_MS},
    [SMTPC_ST_BODY] = {"BODY", SMTPC_TO_BLOCK_MS},
    [SMTPC_ST_DOT] = {"DOT", SMTPC_TO_DOT_MS},
    [SMTPC_ST_RSET] = {"RSET", SMTPC_TO_MAIL_MS},
    [SMTPC_ST_QUIT] = {"QUIT", SMTPC_TO_MAIL_MS},
    [SMTPC_ST_DONE] = {"DONE", 0},
    [SMTPC_ST_FAILED] = {"FAILED", 0},
};

static void smtpc_enter_state(smtpc_t *c, smtpc_state_t s);

/* ------------------------------------------------------------ helpers */

static bool smtpc_chars_ok(const char *s, size_t n, bool allow_space)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        /* CR/LF would inject commands; <> would break the path syntax */
        if (ch < 0x20u || ch == 0x7Fu || ch == '<' || ch == '>' ||
            (ch == ' ' && !allow_space)) {
            return false;
        }
    }
    return true;
}

/* A mailbox we can put between <> (RFC 5321 4.1.2 / 4.5.3.1.3). */
static bool smtpc_addr_ok(const char *a)
{
    size_t n;

    if (a == NULL) {
        return false;
    }
    n = strnlen(a, SMTPC_ADDR_MAX + 1u);
    return n != 0u && n <= SMTPC_ADDR_MAX && smtpc_chars_ok(a, n, true);
}

/* An RFC 3461 4 xtext value we may put on a command line as it is. */
static bool smtpc_xtext_ok(const char *v)
{
    if (v == NULL || v[0] == '\0') {
        return false;
    }
    for (const char *p = v; *p != '\0'; p++) {
        unsigned char ch = (unsigned char)*p;
        if (ch <= 0x20u || ch >= 0x7Fu || ch == '=') {
            return false;
        }
    }
    return true;
}

/* " NOTIFY=..." for the bits (RFC 3461 4.1), "" for none. */
static void smtpc_notify_param(uint8_t bits, char *buf, size_t size)
{
    buf[0] = '\0';
    if ((bits & SMTPC_NOTIFY_NEVER) != 0u) {
        fmt_snprintf(buf, size, " NOTIFY=NEVER");
        return;
    }
    if (bits == 0u) {
        return;
    }
    fmt_snprintf(buf, size, " NOTIFY=%s%s%s%s%s",
                 (bits & SMTPC_NOTIFY_SUCCESS) != 0u ? "SUCCESS" : "",
                 (bits & SMTPC_NOTIFY_SUCCESS) != 0u && (bits & (SMTPC_NOTIFY_FAILURE | SMTPC_NOTIFY_DELAY)) != 0u ? "," : "",
                 (bits & SMTPC_NOTIFY_FAILURE) != 0u ? "FAILURE" : "",
                 (bits & SMTPC_NOTIFY_FAILURE) != 0u && (bits & SMTPC_NOTIFY_DELAY) != 0u ? "," : "",
                 (bits & SMTPC_NOTIFY_DELAY) != 0u ? "DELAY" : "");
}

static unsigned smtpc_nseq(const smtpc_t *c)
{
    return c->job.n_rcpts;
}

/* Next sequence number after s, skipping recipients never sent. */
static unsigned smtpc_seq_next(const smtpc_t *c, unsigned s)
{
    unsigned n = smtpc_nseq(c);

    s++;
    while (s >= 1u && s <= n && c->rst[s - 1u] == R_SKIP) {
        s++;
    }
    return s;
}

/* Drop the references to the credentials: they are needed only while
 * AUTH runs, and the caller's buffers may go away after the first job. */
static void smtpc_forget_auth(smtpc_t *c)
{
    c->auth_user = NULL;
    c->auth_pass = NULL;
}

/* Zero out[from..to) if it may hold credentials (consumed bytes stay in
 * the buffer after the offsets move). */
static void smtpc_wipe_out(smtpc_t *c, size_t from, size_t to)
{
    if (c->out_secret && to > from) {
        sasl_wipe(&c->out[from], to - from);
    }
}

static void smtpc_result(smtpc_t *c, unsigned i, int code, const char *enh,
                         const char *text)
{
    c->rst[i] = R_DONE;
    c->job.rcpt_result(c->job.ctx, c->job.rcpts[i].user_idx, code,
                       enh != NULL ? enh : "", text != NULL ? text : "");
}

/* Report code to every recipient in state `which` (R_PENDING / R_ACCEPTED),
 * or to every unresolved one when which < 0. */
static void smtpc_resolve(smtpc_t *c, int which, int code, const char *enh,
                          const char *text)
{
    if (!c->have_job) {
        return;
    }
    for (unsigned i = 0; i < c->job.n_rcpts; i++) {
        uint8_t r = c->rst[i];
        bool hit = (which < 0) ? (r == R_PENDING || r == R_ACCEPTED)
                               : (r == (uint8_t)which);
        if (hit) {
            smtpc_result(c, i, code, enh, text);
        }
    }
}

/* Session over with an error: every unresolved recipient defers (or gets
 * code, for a 421), output is dropped, the glue closes the connection. */
static void smtpc_fail(smtpc_t *c, int err, int code, const char *enh,
                       const char *text)
{
    smtpc_resolve(c, -1, code, enh, text);
    c->have_job = false;
    c->last_err = err;
    c->err_text = NULL;
    smtpc_forget_auth(c);
    smtpc_enter_state(c, SMTPC_ST_FAILED);
}

/* what: a static string (kept as smtpc_error_text). */
static void smtpc_fail_local(smtpc_t *c, int err, const char *what)
{
    char text[64];

    fmt_snprintf(text, sizeof(text), "%s in state %s", what,
                 smtpc_states[c->state].name);
    smtpc_fail(c, err, 0, "", text);
    c->err_text = what;
}

/* The job is finished (all recipients resolved): back to IDLE. */
static void smtpc_finish(smtpc_t *c)
{
    c->have_job = false;
    c->txn = false;
    smtpc_enter_state(c, SMTPC_ST_IDLE);
}

static void smtpc_set_job(smtpc_t *c, const smtpc_job_t *job)
{
    c->job = *job;
    c->have_job = true;
    c->txn = false;
    memset(c->rst, R_PENDING, sizeof(c->rst));
}

/* Start the transaction of the current job; local refusals first. */
static void smtpc_start_txn(smtpc_t *c)
{
    const char *sender = (c->job.sender != NULL) ? c->job.sender : "";
    unsigned sendable = 0;

    c->txn = true;
    c->accepted = 0;
    c->mail_failed = false;
    c->tx_stop = false;
    c->dummy_dot = false;
    c->pipelining = (c->ext & SMTP_EXT_PIPELINING) != 0u;

    /* RFC 1870 6.1: do not send a message larger than the peer's fixed
     * maximum; the failure is permanent for this peer. */
    if ((c->ext & SMTP_EXT_SIZE) != 0u && c->peer_size != 0u &&
        c->job.size > c->peer_size) {
        smtpc_resolve(c, R_PENDING, 552, "5.3.4",
                      "message size exceeds fixed maximum message size of peer");
        smtpc_finish(c);
        return;
    }
    if (sender[0] != '\0' && !smtpc_addr_ok(sender)) {
        smtpc_resolve(c, R_PENDING, 553, "5.1.7", "sender address not sendable");
        smtpc_finish(c);
        return;
    }
    for (unsigned i = 0; i < c->job.n_rcpts; i++) {
        if (!smtpc_addr_ok(c->job.rcpts[i].addr)) {
            smtpc_result(c, i, 553, "5.1.3", "recipient address not sendable");
            c->rst[i] = R_SKIP;
        } else {
            sendable++;
        }
    }
    if (sendable == 0u) {
        smtpc_finish(c);
        return;
    }
    c->tx_seq = 0;
    c->rx_seq = 0;
    smtpc_enter_state(c, SMTPC_ST_MAIL);
}

/* The one place where states change; entry actions live here. */
static void smtpc_enter_state(smtpc_t *c, smtpc_state_t s)
{
    c->state = s;
    c->timer_on = smtpc_states[s].to_ms != 0u;
    c->deadline = c->now + smtpc_states[s].to_ms;
    c->progress = false;
    switch (s) {
    case SMTPC_ST_EHLO:
        c->pend = CMD_EHLO;
        break;
    case SMTPC_ST_HELO:
        c->pend = CMD_HELO;
        break;
    case SMTPC_ST_STARTTLS:
        c->pend = CMD_STARTTLS;
        break;
    case SMTPC_ST_AUTH:
        c->pend = c->auth_login ? CMD_AUTH_LOGIN : CMD_AUTH_PLAIN;
        break;
    case SMTPC_ST_AUTH_USER:
        c->pend = CMD_AUTH_USER;
        break;
    case SMTPC_ST_AUTH_PASS:
        c->pend = CMD_AUTH_PASS;
        break;
    case SMTPC_ST_IDLE:
        if (c->have_job && !c->txn) {
            smtpc_start_txn(c);
        }
        break;
    case SMTPC_ST_BODY:
        smtp_stuff_init(&c->stuff);
        c->body_off = 0;
        c->body_end = false;
        break;
    case SMTPC_ST_DOT:
        if (c->dummy_dot) {
            c->pend = CMD_DOT;
        }
        break;
    case SMTPC_ST_RSET:
        c->tx_stop = true;
        c->pend = CMD_RSET;
        break;
    case SMTPC_ST_QUIT:
        c->pend = CMD_QUIT;
        break;
    case SMTPC_ST_FAILED:
        /* the connection is to be closed: nothing more goes out */
        c->pend = CMD_NONE;
        smtpc_wipe_out(c, 0, c->out_len);
        c->out_secret = false;
        c->out_off = 0;
        c->out_len = 0;
        break;
    default:
        break;
    }
}

/* State that waits for the reply to sequence number s. */
static smtpc_state_t smtpc_seq_state(const smtpc_t *c, unsigned s)
{
    if (s == 0u) {
        return SMTPC_ST_MAIL;
    }
    return (s <= smtpc_nseq(c)) ? SMTPC_ST_RCPT : SMTPC_ST_DATA;
}

/* ------------------------------------------------------------ replies */

/* The session cannot carry mail: not about the recipients, so they defer
 * (code 0) with the reason (and the server's words when a reply caused
 * it); RFC 5321 3.1 asks for a QUIT after a 554 greeting, and it is polite
 * after any refusal -- QUIT carries nothing secret even in plaintext.
 * why: a static string (kept as smtpc_error_text). */
static void smtpc_session_fail(smtpc_t *c, int err, const char *why,
                               const smtpc_reply_t *r)
{
    char text[SMTPC_REPLY_TEXT_MAX + 48];

    if (r != NULL) {
        fmt_snprintf(text, sizeof(text), "%s: %d %s", why, r->code, r->text);
    } else {
        fmt_snprintf(text, sizeof(text), "%s", why);
    }
    smtpc_resolve(c, -1, 0, (r != NULL) ? r->enh : "", text);
    c->have_job = false;
    c->last_err = err;
    c->err_text = why;
    smtpc_forget_auth(c);
    smtpc_enter_state(c, SMTPC_ST_QUIT);
}

/* Session-level refusal (greeting, EHLO+HELO, AUTH): the reply code is the
 * error. */
static void smtpc_refused(smtpc_t *c, const smtpc_reply_t *r, const char *why)
{
    smtpc_session_fail(c, r->code, why, r);
}

/*
 * After the EHLO/HELO reply (and after each session step): the next
 * session step, or IDLE (which starts the job). Order matters: STARTTLS
 * first so that AUTH can go over TLS; the AUTH-needs-TLS check before the
 * mechanism choice so that credentials never leave in plaintext unless
 * explicitly allowed.
 */
static void smtpc_session_next(smtpc_t *c)
{
    bool want_auth = c->auth_user != NULL && c->auth_user[0] != '\0' && !c->authed;

    if (!c->tls_active && !c->tls_tried && c->tls_mode != SMTPC_TLS_NONE) {
        if ((c->ext & SMTP_EXT_STARTTLS) != 0u) {
            c->tls_tried = true;
            if (c->tls_begin != NULL && c->tls_begin(c->sess_ctx)) {
                smtpc_enter_state(c, SMTPC_ST_STARTTLS);
                return;
            }
            if (c->tls_mode == SMTPC_TLS_REQUIRE) {
                smtpc_session_fail(c, SMTPC_ERR_TLS, "no TLS session available", NULL);
                return;
            }
        } else if (c->tls_mode == SMTPC_TLS_REQUIRE) {
            smtpc_session_fail(c, SMTPC_ERR_TLS, "STARTTLS not offered by peer", NULL);
            return;
        }
    }
    if (want_auth) {
        if (!c->tls_active && !c->auth_plaintext_ok) {
            smtpc_session_fail(c, SMTPC_ERR_AUTH, "AUTH needs TLS", NULL);
            return;
        }
        if ((c->ext & SMTP_EXT_AUTH) == 0u) {
            smtpc_session_fail(c, SMTPC_ERR_AUTH, "AUTH not offered by peer", NULL);
            return;
        }
        /* PLAIN first: one round trip (initial response, RFC 4954 4) */
        if ((c->auth_mechs & SMTP_AUTH_PLAIN) != 0u) {
            c->auth_login = false;
        } else if ((c->auth_mechs & SMTP_AUTH_LOGIN) != 0u) {
            c->auth_login = true;
        } else {
            smtpc_session_fail(c, SMTPC_ERR_AUTH, "no common AUTH mechanism", NULL);
            return;
        }
        smtpc_enter_state(c, SMTPC_ST_AUTH);
        return;
    }
    smtpc_enter_state(c, SMTPC_ST_IDLE);
}

static void smtpc_txn_reply(smtpc_t *c, const smtpc_reply_t *r)
{
    unsigned n = smtpc_nseq(c);
    unsigned s = c->rx_seq;
    int cls = r->code / 100;

    if (s >= c->tx_seq) {
        smtpc_fail_local(c, SMTPC_ERR_PROTO, "unexpected reply");
        return;
    }
    if (s == n + 1u) {
        /* DATA: 354 or a refusal (RFC 5321 4.3.2) */
        if (r->code == 354) {
            if (c->accepted != 0u && !c->mail_failed) {
                smtpc_enter_state(c, SMTPC_ST_BODY);
            } else {
                /* RFC 2920 3.1: DATA accepted with nobody to deliver to:
                 * send a lone "." to end the empty message */
                c->dummy_dot = true;
                smtpc_enter_state(c, SMTPC_ST_DOT);
            }
        } else if (cls == 4 || cls == 5) {
            smtpc_resolve(c, R_ACCEPTED, r->code, r->enh, r->text);
            smtpc_enter_state(c, SMTPC_ST_RSET);
        } else {
            smtpc_fail_local(c, SMTPC_ERR_PROTO, "unexpected DATA reply");
        }
        return;
    }
    if (cls == 3) {
        smtpc_fail_local(c, SMTPC_ERR_PROTO, "unexpected 3xx reply");
        return;
    }
    if (s == 0u) {
        if (cls != 2) {
            /* RFC 2920 3.1: with MAIL refused every RCPT is moot; the
             * recipients get the MAIL reply, later replies are ignored. */
            c->mail_failed = true;
            c->tx_stop = true;
            smtpc_resolve(c, R_PENDING, r->code, r->enh, r->text);
        }
    } else if (!c->mail_failed) {
        if (cls == 2) {
            c->rst[s - 1u] = R_ACCEPTED;
            c->accepted++;
        } else {
            smtpc_result(c, s - 1u, r->code, r->enh, r->text);
        }
    }
    c->rx_seq = smtpc_seq_next(c, s);
    if (c->rx_seq < c->tx_seq) {
        smtpc_enter_state(c, smtpc_seq_state(c, c->rx_seq));
        return;
    }
    /* nothing outstanding */
    if (c->mail_failed) {
        if (c->tx_seq > 1u) {
            smtpc_enter_state(c, SMTPC_ST_RSET); /* RCPTs went out: reset */
        } else {
            smtpc_finish(c); /* no transaction was opened */
        }
    } else if (c->rx_seq == n + 1u && c->accepted == 0u) {
        /* nobody accepted: no DATA, end the open transaction */
        smtpc_enter_state(c, SMTPC_ST_RSET);
    } else {
        smtpc_enter_state(c, smtpc_seq_state(c, c->rx_seq));
    }
}

static void smtpc_starttls_reply(smtpc_t *c, const smtpc_reply_t *r)
{
    if (r->code == 220) {
        if (c->out_off != c->out_len) {
            /* STARTTLS was not even fully handed to TCP: no sane server
             * answers that, and those bytes must not go into TLS */
            smtpc_fail_local(c, SMTPC_ERR_PROTO, "early STARTTLS reply");
            return;
        }
        smtpc_enter_state(c, SMTPC_ST_TLSWAIT);
    } else if (c->tls_mode == SMTPC_TLS_REQUIRE) {
        smtpc_session_fail(c, SMTPC_ERR_TLS, "STARTTLS refused", r);
    } else {
        /* MAY: opportunistic TLS only, carry on in plaintext */
        smtpc_session_next(c);
    }
}

/* RFC 4954 4: 235 success, 334 continue, anything else ends the exchange. */
static void smtpc_auth_reply(smtpc_t *c, const smtpc_reply_t *r)
{
    if (r->code == 235) {
        c->authed = true;
        smtpc_forget_auth(c);
        smtpc_session_next(c);
    } else if (r->code == 334) {
        /* LOGIN asks for the user, then the password; PLAIN sent its
         * initial response and must not be asked again. The prompt text
         * is not checked: servers word it differently. */
        if (c->auth_login && c->state == SMTPC_ST_AUTH) {
            smtpc_enter_state(c, SMTPC_ST_AUTH_USER);
        } else if (c->auth_login && c->state == SMTPC_ST_AUTH_USER) {
            smtpc_enter_state(c, SMTPC_ST_AUTH_PASS);
        } else {
            smtpc_fail_local(c, SMTPC_ERR_PROTO, "unexpected 334 reply");
        }
    } else {
        /* 535 bad credentials, 454/4xx temporary, 5xx: nothing can be sent
         * on this connection; the recipients defer */
        smtpc_refused(c, r, "AUTH refused");
    }
}

static void smtpc_on_reply(smtpc_t *c, const smtpc_reply_t *r)
{
    int cls = r->code / 100;

    c->last = *r;
    /* RFC 5321 3.8: 421 may come at any time; the server is closing */
    if (r->code == 421 && c->state != SMTPC_ST_QUIT) {
        smtpc_fail(c, 421, 421, r->enh, r->text);
        return;
    }
    if (c->pend != CMD_NONE) {
        /* a reply to a command we have not sent yet */
        smtpc_fail_local(c, SMTPC_ERR_PROTO, "unsolicited reply");
        return;
    }
    switch (c->state) {
    case SMTPC_ST_GREETING:
        if (r->code == 220) {
            smtpc_enter_state(c, SMTPC_ST_EHLO);
        } else {
            smtpc_refused(c, r, "greeting refused");
        }
        break;
    case SMTPC_ST_EHLO:
        if (cls == 2) {
            c->ext = r->ext;
            c->peer_size = r->size_max;
            c->auth_mechs = r->auth;
            smtpc_session_next(c);
        } else if (cls == 5) {
            /* RFC 5321 3.2: a server without EHLO answers 5xx; use HELO */
            smtpc_enter_state(c, SMTPC_ST_HELO);
        } else {
            smtpc_refused(c, r, "EHLO refused");
        }
        break;
    case SMTPC_ST_HELO:
        if (cls == 2) {
            c->ext = 0;
            c->peer_size = 0;
            c->auth_mechs = 0;
            smtpc_session_next(c); /* no STARTTLS/AUTH: REQUIRE/AUTH fail */
        } else {
            smtpc_refused(c, r, "HELO refused");
        }
        break;
    case SMTPC_ST_STARTTLS:
        smtpc_starttls_reply(c, r);
        break;
    case SMTPC_ST_AUTH:
    case SMTPC_ST_AUTH_USER:
    case SMTPC_ST_AUTH_PASS:
        smtpc_auth_reply(c, r);
        break;
    case SMTPC_ST_MAIL:
    case SMTPC_ST_RCPT:
    case SMTPC_ST_DATA:
        smtpc_txn_reply(c, r);
        break;
    case SMTPC_ST_BODY:
        /* a reply before the terminator: the server gave up on the data */
        if (cls == 4 || cls == 5) {
            smtpc_resolve(c, R_ACCEPTED, r->code, r->enh, r->text);
        }
        smtpc_fail_local(c, SMTPC_ERR_PROTO, "reply during data");
        break;
    case SMTPC_ST_DOT:
        if (cls == 3) {
            smtpc_fail_local(c, SMTPC_ERR_PROTO, "unexpected 3xx reply");
            break;
        }
        if (!c->dummy_dot) {
            /* RFC 5321 4.1.1.4: one reply for the whole message, it applies
             * to every recipient accepted at RCPT time */
            smtpc_resolve(c, R_ACCEPTED, r->code, r->enh, r->text);
        }
        smtpc_finish(c);
        break;
    case SMTPC_ST_RSET:
        if (cls == 2) {
            smtpc_finish(c);
        } else {
            smtpc_fail(c, r->code, 0, r->enh, "RSET refused");
        }
        break;
    case SMTPC_ST_QUIT:
        smtpc_enter_state(c, SMTPC_ST_DONE);
        break;
    case SMTPC_ST_IDLE:
        smtpc_fail_local(c, SMTPC_ERR_PROTO, "unsolicited reply");
        break;
    default:
        break;
    }
}

/* ------------------------------------------------------------ output */

static size_t smtpc_room(const smtpc_t *c)
{
    return SMTPC_OUTBUF - c->out_len;
}

/* Append a formatted line; false (nothing appended) if it does not fit. */
static bool smtpc_put(smtpc_t *c, const char *fmt, ...) FMT_PRINTF(2, 3);
static bool smtpc_put(smtpc_t *c, const char *fmt, ...)
{
    va_list ap;
    int n;
    size_t room = smtpc_room(c);

    va_start(ap, fmt);
    n = fmt_vsnprintf((char *)&c->out[c->out_len], room, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= room) {
        return false; /* the NUL needs a byte too; retry with more room */
    }
    c->out_len += (size_t)n;
    return true;
}

/* A line carrying credentials: base64 on the stack, into the output
 * buffer, stack copy wiped. Lengths were checked by smtpc_job_check, so an
 * encoding error cannot happen; it is treated as a local failure anyway. */
static bool smtpc_put_secret(smtpc_t *c)
{
    char b64[SMTPC_AUTH_B64];
    const char *prefix = "";
    int n = SASL_ERR_FORMAT;
    bool ok = false;

    if (c->auth_user != NULL && c->auth_pass != NULL) {
        switch (c->pend) {
        case CMD_AUTH_PLAIN:
            prefix = "AUTH PLAIN ";
            n = sasl_plain_encode(c->auth_user, c->auth_pass, b64, sizeof(b64));
            break;
        case CMD_AUTH_USER:
            n = sasl_b64_encode(c->auth_user, strlen(c->auth_user), b64, sizeof(b64));
            break;
        default:
            n = sasl_b64_encode(c->auth_pass, strlen(c->auth_pass), b64, sizeof(b64));
            break;
        }
    }
    if (n > 0) {
        ok = smtpc_put(c, "%s%s\r\n", prefix, b64);
        if (ok) {
            c->out_secret = true;
        } else {
            /* no room: the formatter still wrote a truncated line past
             * out_len; retried on the next pump */
            sasl_wipe(&c->out[c->out_len], smtpc_room(c));
        }
    }
    sasl_wipe(b64, sizeof(b64));
    if (n <= 0) {
        c->pend = CMD_NONE;
        smtpc_fail_local(c, SMTPC_ERR_AUTH, "credentials not encodable");
        return false;
    }
    if (ok && (c->pend == CMD_AUTH_PLAIN || c->pend == CMD_AUTH_PASS)) {
        smtpc_forget_auth(c); /* the last credential line is out */
    }
    return ok;
}

static bool smtpc_put_pending(smtpc_t *c)
{
    bool ok = true;
    const char *name = (c->job.ehlo_name != NULL) ? c->job.ehlo_name : "";

    switch (c->pend) {
    case CMD_EHLO:
        ok = smtpc_put(c, "EHLO %s\r\n", name);
        break;
    case CMD_HELO:
        ok = smtpc_put(c, "HELO %s\r\n", name);
        break;
    case CMD_RSET:
        ok = smtpc_put(c, "RSET\r\n");
        break;
    case CMD_QUIT:
        ok = smtpc_put(c, "QUIT\r\n");
        break;
    case CMD_DOT:
        ok = smtpc_put(c, ".\r\n");
        break;
    case CMD_STARTTLS:
        ok = smtpc_put(c, "STARTTLS\r\n");
        break;
    case CMD_AUTH_LOGIN:
        ok = smtpc_put(c, "AUTH LOGIN\r\n");
        break;
    case CMD_AUTH_PLAIN:
    case CMD_AUTH_USER:
    case CMD_AUTH_PASS:
        ok = smtpc_put_secret(c);
        break;
    default:
        break;
    }
    if (ok) {
        c->pend = CMD_NONE;
    }
    return ok;
}

static void smtpc_put_seq(smtpc_t *c)
{
    unsigned n = smtpc_nseq(c);

    while (!c->tx_stop && c->tx_seq <= n + 1u) {
        bool ok;
        if (!c->pipelining && c->tx_seq != c->rx_seq) {
            break; /* RFC 5321: one command, then wait for its reply */
        }
        if (c->tx_seq == 0u) {
            const char *s = (c->job.sender != NULL) ? c->job.sender : "";
            char size[20] = "";
            if ((c->ext & SMTP_EXT_SIZE) != 0u) {
                fmt_snprintf(size, sizeof(size), " SIZE=%lu",
                             (unsigned long)c->job.size); /* RFC 1870 6 */
            }
            bool dsn = (c->ext & SMTP_EXT_DSN) != 0u; /* RFC 3461 5.2: relay the parameters */
            const char *envid = c->job.dsn_envid;
            if (!dsn || !smtpc_xtext_ok(envid)) {
                envid = NULL;
            }
            ok = smtpc_put(c, "MAIL FROM:<%s>%s%s%s%s%s\r\n", s, size,
                           (c->job.body_8bit && (c->ext & SMTP_EXT_8BITMIME) != 0u)
                               ? " BODY=8BITMIME" : "", /* RFC 6152 2 */
                           !dsn ? "" : c->job.dsn_ret == SMTPC_RET_FULL ? " RET=FULL"
                                     : c->job.dsn_ret == SMTPC_RET_HDRS ? " RET=HDRS" : "",
                           envid != NULL ? " ENVID=" : "", envid != NULL ? envid : "");
        } else if (c->tx_seq <= n) {
            const smtpc_rcpt_t *r = &c->job.rcpts[c->tx_seq - 1u];
            char notify[40] = "";
            const char *orcpt = NULL;
            if ((c->ext & SMTP_EXT_DSN) != 0u) {
                smtpc_notify_param(r->notify, notify, sizeof(notify));
                const char *o = r->has_orcpt ? r->addr + strlen(r->addr) + 1u : NULL;
                if (smtpc_xtext_ok(o) && strchr(o, ';') != NULL) {
                    orcpt = o;
                }
            }
            ok = smtpc_put(c, "RCPT TO:<%s>%s%s%s\r\n", r->addr, notify,
                           orcpt != NULL ? " ORCPT=" : "", orcpt != NULL ? orcpt : "");
        } else {
            /* DATA only with someone to deliver to -- or, pipelined, while
             * RCPT replies are still unknown (RFC 2920 3.1) */
            if (c->accepted == 0u && !(c->pipelining && c->rx_seq <= n)) {
                break;
            }
            ok = smtpc_put(c, "DATA\r\n");
        }
        if (!ok) {
            break;
        }
        c->tx_seq = smtpc_seq_next(c, c->tx_seq);
    }
}

static void smtpc_put_body(smtpc_t *c)
{
    uint8_t stage[SMTPC_READ_CHUNK];

    while (c->state == SMTPC_ST_BODY) {
        size_t room = smtpc_room(c), want, used, olen = 0;
        int r;

        if (c->body_end) {
            size_t k = smtp_stuff_end(&c->stuff, &c->out[c->out_len], room);
            if (k != 0u) {
                c->out_len += k;
                smtpc_enter_state(c, SMTPC_ST_DOT);
            }
            return;
        }
        if (room == 0u) {
            return;
        }
        want = (room < sizeof(stage)) ? room : sizeof(stage);
        r = c->job.read(c->job.ctx, c->body_off, stage, want);
        if (r < 0 || (size_t)r > want) {
            /* mid-DATA there is no way to cancel but closing (RFC 5321 4.1.1.4) */
            smtpc_fail_local(c, SMTPC_ERR_READ, "body read error");
            return;
        }
        if (r == 0) {
            c->body_end = true;
            continue;
        }
        used = smtp_stuff(&c->stuff, stage, (size_t)r, &c->out[c->out_len], room,
                          &olen);
        c->out_len += olen;
        c->body_off += (uint32_t)used;
        if (used == 0u) {
            return; /* one byte of room and a '.' to double: wait */
        }
    }
}

void smtpc_pump(smtpc_t *c)
{
    if (c == NULL || !c->used) {
        return;
    }
    /* keep free space contiguous at the end */
    if (c->out_off != 0u) {
        size_t old = c->out_len;
        memmove(c->out, &c->out[c->out_off], c->out_len - c->out_off);
        c->out_len -= c->out_off;
        c->out_off = 0;
        smtpc_wipe_out(c, c->out_len, old); /* the stale tail */
    }
    if (c->pend != CMD_NONE && !smtpc_put_pending(c)) {
        return;
    }
    switch (c->state) {
    case SMTPC_ST_MAIL:
    case SMTPC_ST_RCPT:
    case SMTPC_ST_DATA:
        smtpc_put_seq(c);
        break;
    case SMTPC_ST_BODY:
        smtpc_put_body(c);
        break;
    default:
        break;
    }
}

size_t smtpc_output_peek(smtpc_t *c, const uint8_t **p)
{
    if (c == NULL || !c->used) {
        *p = NULL;
        return 0;
    }
    smtpc_pump(c);
    *p = &c->out[c->out_off];
    return c->out_len - c->out_off;
}

void smtpc_output_consume(smtpc_t *c, size_t n)
{
    size_t have;

    if (c == NULL || !c->used) {
        return;
    }
    have = c->out_len - c->out_off;
    if (n > have) {
        n = have;
    }
    c->out_off += n;
    if (c->out_off == c->out_len) {
        /* drained: credentials sent are not kept in memory */
        smtpc_wipe_out(c, 0, c->out_len);
        c->out_secret = false;
        c->out_off = 0;
        c->out_len = 0;
    }
    if (n != 0u) {
        c->progress = true;
    }
}

/* ------------------------------------------------------------ API */

int smtpc_job_check(const smtpc_job_t *job)
{
    size_t n;

    if (job == NULL || job->read == NULL || job->rcpt_result == NULL ||
        job->rcpts == NULL || job->n_rcpts == 0u || job->n_rcpts > SMTPC_MAX_RCPTS ||
        job->ehlo_name == NULL) {
        return SMTPC_ERR_INVAL;
    }
    /* RFC 5321 4.1.1.1: Domain or address literal, one token */
    n = strnlen(job->ehlo_name, 256);
    if (n == 0u || n > 255u || !smtpc_chars_ok(job->ehlo_name, n, false)) {
        return SMTPC_ERR_INVAL;
    }
    if (job->tls > SMTPC_TLS_REQUIRE) {
        return SMTPC_ERR_INVAL;
    }
    /* what sasl can encode (RFC 4616 allows NUL-free UTF-8 of any length,
     * but the engine's line buffer and sasl.h bound it) */
    if (job->auth_user != NULL && job->auth_user[0] != '\0') {
        if (job->auth_pass == NULL || job->auth_pass[0] == '\0' ||
            strnlen(job->auth_user, SASL_USER_MAX) >= SASL_USER_MAX ||
            strnlen(job->auth_pass, SASL_PASS_MAX) >= SASL_PASS_MAX) {
            return SMTPC_ERR_INVAL;
        }
    }
    return SMTPC_OK;
}

smtpc_t *smtpc_open(const smtpc_job_t *job, uint32_t now_ms)
{
    smtpc_t *c = NULL;

    if (smtpc_job_check(job) != SMTPC_OK) {
        return NULL;
    }
    for (unsigned i = 0; i < SMTPC_MAX_CONN; i++) {
        if (!smtpc_pool[i].used) {
            c = &smtpc_pool[i];
            break;
        }
    }
    if (c == NULL) {
        return NULL;
    }
    memset(c, 0, sizeof(*c));
    c->used = true;
    c->now = now_ms;
    smtpc_reply_init(&c->rp);
    smtpc_set_job(c, job);
    c->tls_mode = job->tls;
    c->tls_begin = job->tls_begin;
    c->sess_ctx = job->ctx;
    if (job->auth_user != NULL && job->auth_user[0] != '\0') {
        c->auth_user = job->auth_user;
        c->auth_pass = job->auth_pass;
    }
    c->auth_plaintext_ok = job->auth_plaintext_ok;
    smtpc_enter_state(c, SMTPC_ST_GREETING);
    return c;
}

size_t smtpc_input(smtpc_t *c, const uint8_t *p, size_t n, uint32_t now_ms)
{
    size_t off = 0;

    if (c == NULL || !c->used || (p == NULL && n != 0u)) {
        return 0;
    }
    c->now = now_ms;
    while (off < n && c->state != SMTPC_ST_DONE && c->state != SMTPC_ST_FAILED) {
        int st;
        if (c->state == SMTPC_ST_TLSWAIT) {
            /* RFC 3207 4.2 / CVE-2011-0411: whatever follows the 220 before
             * the handshake is plaintext anyone on the path may have
             * injected; it is never parsed, whether it came in the same
             * segment as the 220 or later. Consumed so the glue moves on. */
            off = n;
            break;
        }
        off += smtpc_reply_feed(&c->rp, p + off, n - off, &st);
        if (st < 0) {
            smtpc_fail_local(c, SMTPC_ERR_PROTO, smtpc_reply_strerror(st));
            c->malformed = true; /* not an SMTP reply at all (e.g. "HTTP/1.0 400") */
            break;
        }
        if (st == SMTPC_REPLY_DONE) {
            smtpc_on_reply(c, smtpc_reply_get(&c->rp));
        }
    }
    return off;
}

void smtpc_tick(smtpc_t *c, uint32_t now_ms)
{
    if (c == NULL || !c->used) {
        return;
    }
    c->now = now_ms;
    if (c->state == SMTPC_ST_BODY && c->progress) {
        /* RFC 5321 4.5.3.2.5: the limit is per send, not for the body */
        c->deadline = now_ms + SMTPC_TO_BLOCK_MS;
        c->progress = false;
    }
    if (!c->timer_on || (int32_t)(now_ms - c->deadline) < 0) {
        return;
    }
    if (c->state == SMTPC_ST_QUIT) {
        c->timer_on = false;
        smtpc_enter_state(c, SMTPC_ST_DONE); /* nothing is lost */
        return;
    }
    smtpc_fail_local(c, SMTPC_ERR_TIMEOUT, "timeout");
}

void smtpc_abort(smtpc_t *c, int err)
{
    if (c == NULL || !c->used) {
        return;
    }
    c->abort_err = err;
    if (c->state == SMTPC_ST_QUIT || c->state == SMTPC_ST_DONE) {
        smtpc_enter_state(c, SMTPC_ST_DONE);
    } else if (c->state != SMTPC_ST_FAILED) {
        smtpc_fail_local(c, SMTPC_ERR_ABORT, "connection lost");
    }
}

int smtpc_next(smtpc_t *c, const smtpc_job_t *job)
{
    if (c == NULL || !smtpc_idle(c)) {
        return SMTPC_ERR_STATE;
    }
    if (smtpc_job_check(job) != SMTPC_OK) {
        return SMTPC_ERR_INVAL;
    }
    smtpc_set_job(c, job);
    smtpc_start_txn(c);
    return SMTPC_OK;
}

int smtpc_quit(smtpc_t *c)
{
    if (c == NULL || !smtpc_idle(c)) {
        return SMTPC_ERR_STATE;
    }
    smtpc_enter_state(c, SMTPC_ST_QUIT);
    return SMTPC_OK;
}

bool smtpc_starttls_pending(const smtpc_t *c)
{
    return c != NULL && c->used && c->state == SMTPC_ST_TLSWAIT;
}

void smtpc_tls_started(smtpc_t *c, uint32_t now_ms)
{
    if (!smtpc_starttls_pending(c)) {
        return;
    }
    c->now = now_ms;
    c->tls_active = true;
    /* RFC 3207 4.2: discard all knowledge obtained from the server before
     * TLS (it was unauthenticated) and ask again over the secure channel */
    c->ext = 0;
    c->peer_size = 0;
    c->auth_mechs = 0;
    smtpc_reply_init(&c->rp);
    smtpc_enter_state(c, SMTPC_ST_EHLO);
}

bool smtpc_tls_active(const smtpc_t *c)
{
    return c != NULL && c->used && c->tls_active;
}

bool smtpc_authenticated(const smtpc_t *c)
{
    return c != NULL && c->used && c->authed;
}

smtpc_state_t smtpc_state(const smtpc_t *c)
{
    return c->state;
}

const char *smtpc_state_name(smtpc_state_t s)
{
    return ((unsigned)s < SMTPC_ST_COUNT) ? smtpc_states[s].name : "?";
}

bool smtpc_idle(const smtpc_t *c)
{
    return c != NULL && c->used && c->state == SMTPC_ST_IDLE && !c->have_job;
}

bool smtpc_done(const smtpc_t *c)
{
    return c != NULL && c->used &&
           (c->state == SMTPC_ST_DONE || c->state == SMTPC_ST_FAILED);
}

void smtpc_close(smtpc_t *c)
{
    if (c == NULL || !c->used) {
        return;
    }
    if (c->have_job) {
        smtpc_fail_local(c, SMTPC_ERR_CLOSED, "connection closed");
    }
    smtpc_wipe_out(c, 0, c->out_len);
    smtpc_forget_auth(c);
    c->used = false;
}

int smtpc_last_error(const smtpc_t *c)
{
    return c->last_err;
}

mta_err_t smtpc_error(const smtpc_t *c)
{
    int e = c->last_err;
    if (e > 0) {
        return mta_err_reply(e); /* a refusal */
    }
    if (e == SMTPC_ERR_PROTO) {
        /* No SMTP at all, or a well-formed reply out of turn. */
        return mta_err_reply(c->malformed ? 0 : c->last.code);
    }
    if (e == SMTPC_ERR_ABORT && c->abort_err != 0) {
        return mta_err_lwip(c->abort_err); /* what the glue said broke the connection */
    }
    return e != 0 ? mta_err_local(e) : mta_err_none();
}

const char *smtpc_error_text(const smtpc_t *c)
{
    return (c->err_text != NULL) ? c->err_text : smtpc_strerror(c->last_err);
}

int smtpc_abort_err(const smtpc_t *c)
{
    return c->abort_err;
}

const smtpc_reply_t *smtpc_last_reply(const smtpc_t *c)
{
    return &c->last;
}

uint32_t smtpc_ext(const smtpc_t *c)
{
    return c->ext;
}

uint8_t smtpc_auth_mechs(const smtpc_t *c)
{
    return c->auth_mechs;
}

uint32_t smtpc_peer_size(const smtpc_t *c)
{
    return c->peer_size;
}

const char *smtpc_strerror(int err)
{
    switch (err) {
    case SMTPC_OK: return "ok";
    case SMTPC_ERR_INVAL: return "invalid argument";
    case SMTPC_ERR_STATE: return "wrong state";
    case SMTPC_ERR_TIMEOUT: return "timeout";
    case SMTPC_ERR_PROTO: return "protocol error";
    case SMTPC_ERR_READ: return "body read error";
    case SMTPC_ERR_ABORT: return "connection lost";
    case SMTPC_ERR_CLOSED: return "closed";
    case SMTPC_ERR_TLS: return "TLS required but not established";
    case SMTPC_ERR_AUTH: return "AUTH not possible";
    default: return (err > 0) ? "refused by server" : "unknown error";
    }
}
