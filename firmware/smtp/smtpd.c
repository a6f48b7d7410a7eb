/*
 * smtpd.c -- inbound SMTP server protocol engine, see smtpd.h.
 *
 * Table driven (after OpenSMTPD smtp_session.c): a state enum with a name
 * table, a command table { verb, allowed states, check, proceed }, and one
 * function, enter_state(), through which every state change passes.
 * check() validates and replies on error; proceed() acts and replies.
 */
#include "smtp/smtpd.h"

#include <string.h>

#include "lib/fmt.h"
#include "queue/queue.h"
#include "lib/sasl.h"
#include "smtp/smtpd_cmd.h"
#include "smtp/smtp_data.h"
#include "smtp/smtpd_guard.h"

#include "mta_assert.h"

/* ---- reply catalogue --------------------------------------------------- */

typedef enum {
#define SMTP_REPLIES_DEF(id, code, enh, text) SMTPD_R_##id,
#include "smtp/smtpd_replies.h"
    SMTPD_R_COUNT
} smtpd_reply_id_t;

typedef struct {
    uint16_t code;
    const char *enh;
    const char *text;
} smtpd_reply_t;

static const smtpd_reply_t k_replies[SMTPD_R_COUNT] = {
#define SMTP_REPLIES_DEF(id, code, enh, text) [SMTPD_R_##id] = { code, enh, text },
#include "smtp/smtpd_replies.h"
};

/* Most output one command can produce: the EHLO reply (at most 8 lines,
 * hostname in the first: <= 191 octets), or an error reply with hostname
 * followed by the 421 4.7.0 (hostname again). Texts are < 100 chars; 200
 * covers codes, keywords and CRLFs. Input is only processed while this much
 * output room is free, so a reply never has to be dropped (RFC 2920
 * backpressure instead). A held 535 (AUTH_FAIL) is released into the room
 * its AUTH line was granted: nothing is queued while it is held. */
#define REPLY_RESERVE (200u + 2u * SMTPD_HOSTNAME_MAX)
_Static_assert(SMTPD_OUTBUF >= REPLY_RESERVE, "SMTPD_OUTBUF too small for one reply");
_Static_assert(SMTPD_LINE_MAX >= 512, "RFC 5321 4.5.3.1.4: lines of 512 octets must be accepted");
_Static_assert(SMTPD_OUTBUF <= UINT16_MAX && SMTPD_LINE_MAX < UINT16_MAX, "16-bit lengths");
/* RFC 3461 parameters go to the queue as parsed: the same numbers. */
_Static_assert(SMTPD_CMD_NOTIFY_NEVER == STORE_NOTIFY_NEVER && SMTPD_CMD_NOTIFY_SUCCESS == STORE_NOTIFY_SUCCESS &&
               SMTPD_CMD_NOTIFY_FAILURE == STORE_NOTIFY_FAILURE && SMTPD_CMD_NOTIFY_DELAY == STORE_NOTIFY_DELAY,
               "NOTIFY bits");
_Static_assert((int)SMTPD_CMD_RET_NONE == STORE_RET_NONE && (int)SMTPD_CMD_RET_FULL == STORE_RET_FULL &&
               (int)SMTPD_CMD_RET_HDRS == STORE_RET_HDRS, "RET values");
_Static_assert(SMTPD_CMD_ENVID_MAX == STORE_ENVID_MAX, "RFC 3461 4.4: every ENVID is kept");
/* RFC 3461 4 would have RCPT lines 500 octets longer (ORCPT, NOTIFY): at
 * 6 sessions that is 3 KiB of RAM mps2 has not got.  A longer line gets
 * 500 5.5.2; within 512 an ORCPT of ~450 characters still fits, and the
 * store keeps at most STORE_RCPT_ID_MAX of address + ORCPT anyway. */

/* Scratch for the Received: header: "from" line <= 15+255+4+52 octets,
 * "by" line <= 4+64+2+8+1+46+16+8+3, date line <= 3+64 -- all < 998
 * (RFC 5322 2.1.1) and < 640 together. Single-threaded, so one is enough. */
#define RECEIVED_MAX 640u
#define DATE_MAX 64u

/* ---- session ------------------------------------------------------------ */

struct smtpd_session {
    smtpd_state_t state;
    smtpd_conn_t conn;
    uint32_t last_ms;       /* last input (or state entry for CLOSING) */
    bool force_close;       /* closing grace expired */
    bool esmtp;             /* EHLO (not HELO) was used: Received "with ESMTP" */
    bool tls;               /* smtpd_tls_started was called */
    bool authed;            /* AUTH succeeded: auth_user is valid, may relay */
    bool storage_refused;   /* the last reply was 452 4.3.1 at MAIL (or a 503 right after it) */
    uint8_t auth_step;      /* SMTPD_AUTH_STEP_*: what the AUTH state waits for */
    uint32_t hold_ms;       /* when the AUTH failed (AUTH_FAIL state) */
    bool txn_open;
    queue_txn_t txn;
    uint16_t rcpts;         /* recipients accepted in this transaction */
    uint16_t errors;        /* 4xx/5xx replies, for max_errors */
    int data_qerr;          /* queue error seen by the DATA sink */
    uint32_t data_ms;       /* when DATA's 354 was given: the whole-block deadline */
    uint16_t line_len;      /* octets of the current command line before LF (saturating) */
    uint16_t out_len;
    smtpd_session_stats_t st;
    smtp_data_t data;
    char helo[SMTPD_CMD_HELO_MAX + 1];
    char auth_user[SASL_USER_MAX]; /* AUTH identity; during LOGIN the name given so far */
    char line[SMTPD_LINE_MAX];
    uint8_t out[SMTPD_OUTBUF];
};

typedef struct {
    smtpd_cmd_verb_t verb;
    uint32_t states;                 /* mask of SMTPD_ST_* where allowed */
    smtpd_reply_id_t bad_sequence;   /* reply when not allowed (503) */
    int (*check)(smtpd_session_t *s, const smtpd_cmd_t *cmd);  /* < 0: replied */
    void (*proceed)(smtpd_session_t *s, const smtpd_cmd_t *cmd);
} smtpd_cmd_entry_t;

static smtpd_session_t s_pool[SMTPD_MAX_SESSIONS];
static smtpd_stats_t s_stats;
static smtpd_limits_t s_limits;
static smtpd_trace_fn s_trace;
static char s_scratch[RECEIVED_MAX];
static smtpd_cmd_path_t s_path;      /* parsed MAIL/RCPT argument, check -> proceed */
static smtpd_cmd_auth_t s_auth;      /* parsed AUTH argument, check -> proceed */
static uint32_t s_now_ms;           /* now_ms of the running smtpd_input/smtpd_tick */
static char s_busy[64];

/* What a session in the AUTH state waits for. */
enum {
    SMTPD_AUTH_STEP_NONE = 0,
    SMTPD_AUTH_STEP_PLAIN,      /* the PLAIN message after "334 " */
    SMTPD_AUTH_STEP_LOGIN_USER, /* the user name after "334 VXNlcm5hbWU6" */
    SMTPD_AUTH_STEP_LOGIN_PASS  /* the password after "334 UGFzc3dvcmQ6" */
};

static const char *const k_state_names[SMTPD_ST_COUNT] = {
#define SMTPD_STATE_NAME_(name) #name,
    SMTPD_STATE_LIST(SMTPD_STATE_NAME_)
#undef SMTPD_STATE_NAME_
};

#define ST(x) (1u << SMTPD_ST_##x)
#define ST_COMMAND (ST(CONNECTED) | ST(HELO) | ST(MAIL) | ST(RCPT))

static const smtpd_limits_t k_default_limits = {
    .max_msg_size = 10u * 1024u * 1024u,
    .max_rcpt = 100u,
    .max_errors = 20u,
    .cmd_timeout_ms = 5u * 60u * 1000u,
    .data_timeout_ms = 3u * 60u * 1000u,
};

/* ---- state ------------------------------------------------------------- */

static void enter_state(smtpd_session_t *s, smtpd_state_t to)
{
    smtpd_state_t from = s->state;

    if (s_trace)
        s_trace(s, from, to);
    s->state = to;
}

const char *smtpd_state_name(smtpd_state_t st)
{
    if ((unsigned)st >= SMTPD_ST_COUNT)
        return "?";
    return k_state_names[st];
}

/* ---- output ------------------------------------------------------------- */

/* Format "CODE[ -]ENH text\r\n" into buf; returns its length, or 0 if it
 * does not fit in cap. */
/* "CODE[ |-][ENH ]text\r\n" and a NUL, by hand: through fmt_snprintf a reply
 * cost about 1,000 instructions, 7 of them per relayed message (README,
 * Performance).  The catalogue's texts hold at most one conversion, "%s".
 * Returns the length without the NUL, or 0 if it does not fit in cap. */
static size_t format_reply(char *buf, size_t cap, smtpd_reply_id_t id,
                           bool more, const char *arg)
{
    const smtpd_reply_t *r = &k_replies[id];
    const char *pct = strchr(r->text, '%');
    MTA_ASSERT(r->code >= 100u && r->code <= 999u && (pct == NULL || pct[1] == 's'));
    size_t enh = strlen(r->enh);
    size_t head = pct != NULL ? (size_t)(pct - r->text) : strlen(r->text);
    const char *a = pct != NULL && arg != NULL ? arg : "";
    const char *tail = pct != NULL ? pct + 2 : "";
    size_t alen = strlen(a), tlen = strlen(tail);
    size_t n = 4u + (enh != 0 ? enh + 1u : 0u) + head + alen + tlen + 2u;

    if (n >= cap)
        return 0;
    char *o = buf;
    *o++ = (char)('0' + r->code / 100u);
    *o++ = (char)('0' + r->code / 10u % 10u);
    *o++ = (char)('0' + r->code % 10u);
    *o++ = more ? '-' : ' ';
    if (enh != 0) {
        memcpy(o, r->enh, enh);
        o += enh;
        *o++ = ' ';
    }
    memcpy(o, r->text, head);
    o += head;
    memcpy(o, a, alen);
    o += alen;
    memcpy(o, tail, tlen);
    o += tlen;
    *o++ = '\r';
    *o++ = '\n';
    *o = '\0';
    return n;
}

static size_t out_free(const smtpd_session_t *s)
{
    return SMTPD_OUTBUF - s->out_len;
}

/* Queue one reply line. Returns false if it did not fit (only possible
 * outside the REPLY_RESERVE guarantee, i.e. from smtpd_tick). */
static bool reply_line(smtpd_session_t *s, smtpd_reply_id_t id, bool more,
                       const char *arg)
{
    /* format_reply NUL-terminates: it needs one byte more than it keeps. */
    char *dst = (char *)s->out + s->out_len;
    size_t n;

    if (out_free(s) < 2)
        return false;
    n = format_reply(dst, out_free(s), id, more, arg);
    if (n == 0)
        return false;
    s->out_len = (uint16_t)(s->out_len + n);

    /* Count failures for the error limit; the 421s end the session anyway,
     * and a full store is no fault of the client's: neither its 452 nor the
     * 503s to the RCPT and DATA a pipelining client sent behind the refused
     * MAIL (RFC 2920 3.1), which closed Postfix's reused connections. */
    bool after_452 = s->storage_refused && id == SMTPD_R_NEED_MAIL;
    s->storage_refused = id == SMTPD_R_QUEUE_FULL || after_452;
    if (k_replies[id].code >= 400 && k_replies[id].code != 421 && id != SMTPD_R_QUEUE_FULL && !after_452) {
        s->errors++;
        s->st.errors++;
        s_stats.errors++;
    }
    return true;
}

/* A reply to a command: room is guaranteed by REPLY_RESERVE. */
static void reply(smtpd_session_t *s, smtpd_reply_id_t id, const char *arg)
{
    bool ok = reply_line(s, id, false, arg);
    MTA_ASSERT(ok);
    (void)ok;
    /* The refusals an operator must see (events 1203, 1402) pass here. */
    if (s->conn.notice != NULL && (id == SMTPD_R_RELAY_DENIED || id == SMTPD_R_QUEUE_FULL))
        s->conn.notice(s->conn.ctx, id == SMTPD_R_RELAY_DENIED ? SMTPD_NOTICE_RELAY_DENIED
                                                               : SMTPD_NOTICE_QUEUE_FULL);
}

static void reply_more(smtpd_session_t *s, smtpd_reply_id_t id, const char *arg)
{
    bool ok = reply_line(s, id, true, arg);
    MTA_ASSERT(ok);
    (void)ok;
}

/* ---- transaction -------------------------------------------------------- */

static void txn_abort(smtpd_session_t *s)
{
    if (s->txn_open) {
        queue_txn_abort(s->txn);
        s->txn_open = false;
    }
    s->rcpts = 0;
}

/* Map a queue error to its reply (smtp_replies.h). */
static smtpd_reply_id_t queue_reply(int qerr)
{
    switch (qerr) {
    case QUEUE_ERR_FULL:
        return SMTPD_R_QUEUE_FULL;
    case QUEUE_ERR_TOOBIG:
        return SMTPD_R_MSG_TOO_BIG;
    default:
        return SMTPD_R_LOCAL_ERROR;
    }
}

/* Back to "no transaction" after RSET, end of data, or an aborted DATA. */
static void end_transaction(smtpd_session_t *s)
{
    txn_abort(s);
    enter_state(s, s->helo[0] ? SMTPD_ST_HELO : SMTPD_ST_CONNECTED);
}

static void close_with(smtpd_session_t *s, smtpd_reply_id_t id)
{
    txn_abort(s);
    (void)reply_line(s, id, false, s->conn.hostname);
    enter_state(s, SMTPD_ST_CLOSING);
}

/* RFC 5321 4.3.2 allows 421 at any point; used once a session has produced
 * too many errors (probing, a broken client, or a non-SMTP protocol). */
static void check_error_limit(smtpd_session_t *s)
{
    if (s->state != SMTPD_ST_CLOSING && s->errors >= s_limits.max_errors) {
        s_stats.error_limit++;
        close_with(s, SMTPD_R_TOO_MANY_ERRORS);
    }
}

/* ---- command checks and actions ------------------------------------------ */

static int check_noarg(smtpd_session_t *s, const smtpd_cmd_t *cmd)
{
    /* RFC 5321 4.1.1.4/4.1.1.5/4.1.1.10: DATA, RSET, QUIT take no argument. */
    if (cmd->arg_len != 0) {
        reply(s, SMTPD_R_SYNTAX, NULL);
        return -1;
    }
    return 0;
}

/* RFC 3207 4: not offered again once TLS is active (and never without a
 * glue able to start it). */
static bool starttls_offered(const smtpd_session_t *s)
{
    return s->conn.tls_policy != SMTPD_TLS_OFF && !s->tls && s->conn.tls_begin != NULL;
}

/* PLAIN and LOGIN send the password in clear: only ever inside TLS
 * (RFC 4954 4, RFC 4616 6). */
static bool auth_offered(const smtpd_session_t *s)
{
    return s->conn.auth_policy != SMTPD_AUTH_OFF && s->tls;
}

static char s_helo_arg[SMTPD_CMD_HELO_MAX + 1];

static int check_helo(smtpd_session_t *s, const smtpd_cmd_t *cmd)
{
    if (smtpd_cmd_parse_helo(cmd->arg, cmd->arg_len, s_helo_arg,
                            sizeof(s_helo_arg)) != SMTPD_CMD_OK) {
        reply(s, SMTPD_R_HELO_SYNTAX, NULL);
        return -1;
    }
    return 0;
}

static void do_helo_common(smtpd_session_t *s, bool esmtp)
{
    /* RFC 5321 4.1.4: HELO/EHLO in a transaction also resets it. */
    txn_abort(s);
    memcpy(s->helo, s_helo_arg, sizeof(s->helo));
    s->esmtp = esmtp;
    enter_state(s, SMTPD_ST_HELO);
}

static void do_helo(smtpd_session_t *s, const smtpd_cmd_t *cmd)
{
    (void)cmd;
    do_helo_common(s, false);
    reply(s, SMTPD_R_HELO, s->conn.hostname);
}

static void do_ehlo(smtpd_session_t *s, const smtpd_cmd_t *cmd)
{
    char size[12];

    (void)cmd;
    do_helo_common(s, true);
    (void)fmt_snprintf(size, sizeof(size), "%lu", (unsigned long)s_limits.max_msg_size);
    reply_more(s, SMTPD_R_EHLO, s->conn.hostname);
    reply_more(s, SMTPD_R_EHLO_PIPELINING, NULL); /* RFC 2920 */
    reply_more(s, SMTPD_R_EHLO_SIZE, size);       /* RFC 1870 */
    reply_more(s, SMTPD_R_EHLO_8BITMIME, NULL);   /* RFC 6152 */
    reply_more(s, SMTPD_R_EHLO_ENHANCED, NULL);   /* RFC 2034 */
    reply_more(s, SMTPD_R_EHLO_DSN, NULL);        /* RFC 3461 */
    if (starttls_offered(s))
        reply_more(s, SMTPD_R_EHLO_STARTTLS, NULL); /* RFC 3207 */
    if (auth_offered(s))
        reply_more(s, SMTPD_R_EHLO_AUTH, NULL);     /* RFC 4954 */
    reply(s, SMTPD_R_EHLO_HELP, NULL);
}

/* The reply for a MAIL/RCPT path that did not parse: the address, an
 * ESMTP parameter, or the syntax as a whole. */
static void path_error(smtpd_session_t *s, int rc, smtpd_reply_id_t bad_addr, smtpd_reply_id_t syntax)
{
    switch (rc) {
    case SMTPD_CMD_ERR_ADDR:
        reply(s, bad_addr, NULL);
        break;
    case SMTPD_CMD_ERR_PARAM:
        reply(s, SMTPD_R_PARAM_UNKNOWN, NULL);
        break;
    case SMTPD_CMD_ERR_PARAM_VALUE:
        reply(s, SMTPD_R_PARAM_VALUE, s_path.bad_param != NULL ? s_path.bad_param : "");
        break;
    default:
        reply(s, syntax, NULL);
        break;
    }
}

static int check_mail(smtpd_session_t *s, const smtpd_cmd_t *cmd)
{
    int rc;

    if (s->state != SMTPD_ST_HELO) {
        /* RFC 5321 4.1.4: MAIL inside a transaction is out of sequence. */
        reply(s, SMTPD_R_MAIL_NESTED, NULL);
        return -1;
    }
    /* RFC 3207 4 / RFC 4954 6: the policy comes before the syntax, so a
     * client learns what it must do first. */
    if (s->conn.tls_policy == SMTPD_TLS_REQUIRED && !s->tls) {
        reply(s, SMTPD_R_TLS_REQUIRED, NULL);
        return -1;
    }
    if (s->conn.auth_policy == SMTPD_AUTH_REQUIRED && !s->authed) {
        reply(s, SMTPD_R_AUTH_REQUIRED, NULL);
        return -1;
    }
    rc = smtpd_cmd_parse_mail(cmd->arg, cmd->arg_len, &s_path);
    /* AUTH= (RFC 4954 5) only exists where AUTH was offered. */
    if (rc == SMTPD_CMD_OK && s_path.has_auth && !auth_offered(s))
        rc = SMTPD_CMD_ERR_PARAM;
    if (rc != SMTPD_CMD_OK) {
        path_error(s, rc, SMTPD_R_MAIL_BAD_ADDR, SMTPD_R_MAIL_SYNTAX);
        return -1;
    }
    /* RFC 1870 section 6.1: refuse a declared size over the fixed limit. */
    if (s_path.has_size && s_path.size > s_limits.max_msg_size) {
        s_stats.rej_too_big++;
        reply(s, SMTPD_R_MSG_TOO_BIG, NULL);
        return -1;
    }
    return 0;
}

static void do_mail(smtpd_session_t *s, const smtpd_cmd_t *cmd)
{
    int rc;

    (void)cmd;
    /* The queue transaction starts here, so recipients go straight to the
     * queue and need no storage in the session. */
    /* RFC 3461 4.3, 4.4: RET and ENVID stay with the message, as sent */
    rc = queue_txn_begin_dsn(s_path.addr, s_path.has_size ? s_path.size : 0u, s->conn.netif,
                             (uint8_t)s_path.ret, s_path.envid, s_path.envid != NULL ? s_path.envid_len : 0u,
                             &s->txn);
    if (rc != QUEUE_OK) {
        s_stats.rej_queue++;
        reply(s, rc == QUEUE_ERR_ARG ? SMTPD_R_MAIL_BAD_ADDR : queue_reply(rc), NULL);
        return;
    }
    s->txn_open = true;
    s->rcpts = 0;
    reply(s, SMTPD_R_MAIL_OK, NULL);
    enter_state(s, SMTPD_ST_MAIL);
}

static int check_rcpt(smtpd_session_t *s, const smtpd_cmd_t *cmd)
{
    int rc = smtpd_cmd_parse_rcpt(cmd->arg, cmd->arg_len, &s_path);

    if (rc != SMTPD_CMD_OK) {
        path_error(s, rc, SMTPD_R_RCPT_BAD_ADDR, SMTPD_R_RCPT_SYNTAX);
        return -1;
    }
    /* RFC 5321 4.5.3.1.10: 452 for recipients beyond the limit; the client
     * sends them in a later transaction. */
    if (s->rcpts >= s_limits.max_rcpt) {
        reply(s, SMTPD_R_TOO_MANY_RCPT, NULL);
        return -1;
    }
    /* Never an open relay: the caller decided per interface/subnet, or the
     * client authenticated. Postmaster must always be accepted (RFC 5321
     * 4.5.1). */
    if (!s->conn.relay_allowed && !s->authed &&
        !smtpd_cmd_is_postmaster(s_path.addr, s->conn.hostname)) {
        s_stats.rej_relay++;
        reply(s, SMTPD_R_RELAY_DENIED, NULL);
        return -1;
    }
    return 0;
}

static void do_rcpt(smtpd_session_t *s, const smtpd_cmd_t *cmd)
{
    int rc;

    (void)cmd;
    /* RFC 3461 4.1, 4.2: NOTIFY and ORCPT stay with the recipient, as sent */
    rc = queue_txn_add_rcpt_dsn(s->txn, s_path.addr, s_path.notify, s_path.orcpt,
                                s_path.orcpt != NULL ? s_path.orcpt_len : 0u);
    if (rc != QUEUE_OK) {
        /* Only this recipient is refused; the transaction goes on with the
         * others (RFC 5321 3.3). */
        s_stats.rej_queue++;
        reply(s, rc == QUEUE_ERR_ARG ? SMTPD_R_RCPT_BAD_ADDR : queue_reply(rc), NULL);
        return;
    }
    s->rcpts++;
    s->st.rcpts++;
    reply(s, SMTPD_R_RCPT_OK, NULL);
    enter_state(s, SMTPD_ST_RCPT);
}

static int check_data(smtpd_session_t *s, const smtpd_cmd_t *cmd)
{
    if (check_noarg(s, cmd) < 0)
        return -1;
    if (s->state != SMTPD_ST_RCPT) {
        /* MAIL accepted but every RCPT refused (RFC 5321 3.3, RFC 2920 3.1) */
        reply(s, SMTPD_R_NO_VALID_RCPT, NULL);
        return -1;
    }
    return 0;
}

static int data_sink(void *ctx, const uint8_t *p, size_t n)
{
    smtpd_session_t *s = ctx;
    int rc;

    if (!s->txn_open)
        return QUEUE_ERR_ARG;
    rc = queue_txn_append(s->txn, p, n);
    if (rc != QUEUE_OK) {
        /* Free the space now; the rest of the data is read and dropped, the
         * error is reported after the final dot (RFC 5321 4.1.1.4). */
        s->data_qerr = rc;
        txn_abort(s);
        return rc < 0 ? rc : QUEUE_ERR_ARG;
    }
    return 0;
}

/* The "with" protocol of the trace header (RFC 3848): S for TLS, A for
 * AUTH. Both are ESMTP extensions, so either makes it ESMTP even if the
 * client (re)greeted with HELO. */
static const char *received_with(const smtpd_session_t *s)
{
    if (s->tls && s->authed)
        return "ESMTPSA";
    if (s->tls)
        return "ESMTPS";
    if (s->authed)
        return "ESMTPA";
    return s->esmtp ? "ESMTP" : "SMTP";
}

/* Build the RFC 5321 4.4 trace header. TCP-info is an address-literal.
 * The AUTH identity is deliberately not recorded (it is not ours to
 * publish to every recipient). */
static size_t build_received(const smtpd_session_t *s)
{
    char date[DATE_MAX];
    const char *ip = s->conn.remote_ip;
    int n;

    if (s->conn.date == NULL || s->conn.date(date, sizeof(date)) <= 0) {
        /* A Received: without a date is invalid (RFC 5322 3.6.7). */
        memcpy(date, "Thu, 01 Jan 1970 00:00:00 +0000", sizeof("Thu, 01 Jan 1970 00:00:00 +0000"));
    }
    date[sizeof(date) - 1] = '\0';
    n = fmt_snprintf(s_scratch, sizeof(s_scratch),
                     "Received: from %s ([%s%s])\r\n"
                     "\tby %s (%s %s) with %s id %08lX;\r\n"
                     "\t%s\r\n",
                     s->helo, strchr(ip, ':') ? "IPv6:" : "", ip,
                     s->conn.hostname, s->conn.netif_name, s->conn.local_ip,
                     received_with(s), (unsigned long)queue_txn_msgid(s->txn),
                     date);
    MTA_ASSERT(n > 0 && (size_t)n < sizeof(s_scratch));
    return (size_t)n;
}

static void do_data(smtpd_session_t *s, const smtpd_cmd_t *cmd)
{
    size_t n;
    int rc;

    (void)cmd;
    /* The Received: header goes first (RFC 5321 4.4), before any body byte;
     * appending it now also finds a full queue before the client sends the
     * body. */
    n = build_received(s);
    rc = queue_txn_append(s->txn, s_scratch, n);
    if (rc != QUEUE_OK) {
        s_stats.rej_queue++;
        txn_abort(s);
        reply(s, queue_reply(rc), NULL);
        end_transaction(s);
        return;
    }
    s->data_qerr = 0;
    smtp_data_init(&s->data, s_limits.max_msg_size, data_sink, s);
    reply(s, SMTPD_R_DATA_GO, NULL);
    s->data_ms = s_now_ms;
    enter_state(s, SMTPD_ST_DATA);
}

/* After the final dot: commit, or abort and say why. */
static void data_end(smtpd_session_t *s)
{
    int res = smtp_data_result(&s->data);
    smtpd_reply_id_t id;

    switch (res) {
    case SMTP_DATA_OK: {
        uint32_t msgid = 0;
        int rc = s->txn_open ? queue_txn_commit(s->txn, &msgid) : QUEUE_ERR_ARG;
        if (rc == QUEUE_OK) {
            char idtext[12];
            /* Only now is the message ours (RFC 5321 6.1). */
            s->txn_open = false;
            s->rcpts = 0;
            s->st.messages++;
            s_stats.accepted++;
            (void)fmt_snprintf(idtext, sizeof(idtext), "%08lX", (unsigned long)msgid);
            reply(s, SMTPD_R_QUEUED, idtext);
            end_transaction(s);
            return;
        }
        /* The queue closed the transaction whatever the outcome (queue.h):
         * it is over, so the abort below must not end it a second time. */
        s->txn_open = false;
        s_stats.rej_queue++;
        id = queue_reply(rc);
        break;
    }
    case SMTP_DATA_ERR_BARE_EOL:
        s_stats.rej_bare_eol++;
        id = SMTPD_R_DATA_BARE_EOL;
        break;
    case SMTP_DATA_ERR_LONG_LINE:
        s_stats.rej_long_line++;
        id = SMTPD_R_DATA_LONG_LINE;
        break;
    case SMTP_DATA_ERR_TOO_BIG:
        s_stats.rej_too_big++;
        id = SMTPD_R_MSG_TOO_BIG;
        break;
    default: /* SMTP_DATA_ERR_SINK */
        s_stats.rej_queue++;
        id = queue_reply(s->data_qerr);
        break;
    }
    txn_abort(s);
    reply(s, id, NULL);
    end_transaction(s);
}

static void do_rset(smtpd_session_t *s, const smtpd_cmd_t *cmd)
{
    (void)cmd;
    reply(s, SMTPD_R_OK, NULL);
    end_transaction(s);
}

static void do_noop(smtpd_session_t *s, const smtpd_cmd_t *cmd)
{
    (void)cmd; /* RFC 5321 4.1.1.9: an argument is allowed and ignored */
    reply(s, SMTPD_R_OK, NULL);
}

static void do_quit(smtpd_session_t *s, const smtpd_cmd_t *cmd)
{
    (void)cmd;
    txn_abort(s);
    reply(s, SMTPD_R_QUIT, s->conn.hostname);
    enter_state(s, SMTPD_ST_CLOSING);
}

static int check_vrfy(smtpd_session_t *s, const smtpd_cmd_t *cmd)
{
    if (cmd->arg_len == 0) {
        reply(s, SMTPD_R_SYNTAX, NULL);
        return -1;
    }
    return 0;
}

static void do_vrfy(smtpd_session_t *s, const smtpd_cmd_t *cmd)
{
    (void)cmd; /* RFC 5321 3.5.3: 252, no address disclosure */
    reply(s, SMTPD_R_VRFY, NULL);
}

static void do_help(smtpd_session_t *s, const smtpd_cmd_t *cmd)
{
    (void)cmd;
    reply(s, SMTPD_R_HELP, NULL);
}

static void do_not_impl(smtpd_session_t *s, const smtpd_cmd_t *cmd)
{
    (void)cmd; /* known but not offered (EXPN, BDAT) */
    reply(s, SMTPD_R_NOT_IMPL, NULL);
}

/* ---- STARTTLS (RFC 3207) -------------------------------------------------- */

static int check_starttls(smtpd_session_t *s, const smtpd_cmd_t *cmd)
{
    smtpd_reply_id_t id;

    if (s->conn.tls_policy == SMTPD_TLS_OFF)
        id = SMTPD_R_NOT_IMPL;      /* as before STARTTLS existed */
    else if (s->tls)
        id = SMTPD_R_TLS_ACTIVE;    /* RFC 3207 4.2: no second negotiation */
    else if (cmd->arg_len != 0)
        id = SMTPD_R_SYNTAX;        /* RFC 3207 4: "STARTTLS" CRLF */
    else if (s->state == SMTPD_ST_CONNECTED)
        id = SMTPD_R_NEED_HELO;     /* our choice: EHLO is where it is offered */
    else if (s->state != SMTPD_ST_HELO)
        id = SMTPD_R_IN_TRANSACTION; /* nothing of a transaction crosses into TLS */
    else
        return 0;
    reply(s, id, NULL);
    return -1;
}

static void do_starttls(smtpd_session_t *s, const smtpd_cmd_t *cmd)
{
    (void)cmd;
    if (s->conn.tls_begin == NULL || !s->conn.tls_begin(s->conn.ctx)) {
        reply(s, SMTPD_R_TLS_UNAVAILABLE, NULL); /* RFC 3207 4 */
        return;
    }
    s_stats.starttls++;
    reply(s, SMTPD_R_TLS_GO, NULL);
    /* From here every plaintext byte is dropped unread (CVE-2011-0411);
     * the handshake timeout counts from now, not from discarded input. */
    s->last_ms = s_now_ms;
    enter_state(s, SMTPD_ST_STARTTLS);
}

/* ---- AUTH (RFC 4954) ------------------------------------------------------ */

/* The AUTH exchange ended without success: back to where AUTH started
 * (only HELO allows it), forgetting the half-given identity. */
static void auth_end(smtpd_session_t *s)
{
    s->auth_step = SMTPD_AUTH_STEP_NONE;
    sasl_wipe(s->auth_user, sizeof(s->auth_user));
    enter_state(s, SMTPD_ST_HELO);
}

static void auth_decode_error(smtpd_session_t *s)
{
    reply(s, SMTPD_R_AUTH_DECODE, NULL); /* RFC 4954 4: 501, exchange over */
    auth_end(s);
}

/* Decode a LOGIN response (base64 of the bare user name or password) into
 * out[cap] NUL-terminated. It must be 1..cap-1 octets without NUL: it goes
 * to auth_check as a C string, and PLAIN (sasl.h) has the same rule.
 * Returns false (out wiped) otherwise. */
static bool login_decode(const char *b64, size_t n, char *out, size_t cap)
{
    int r = sasl_b64_decode(b64, n, (uint8_t *)out, cap - 1u);

    if (r <= 0 || memchr(out, '\0', (size_t)r) != NULL) {
        sasl_wipe(out, cap);
        return false;
    }
    out[r] = '\0';
    return true;
}

/* Credentials complete: ask the glue, forget the password at once. */
static void auth_verify(smtpd_session_t *s, char *pass, size_t pass_cap)
{
    bool ok = s->conn.auth_check != NULL &&
              s->conn.auth_check(s->conn.ctx, s->auth_user, pass);

    sasl_wipe(pass, pass_cap);
    s->auth_step = SMTPD_AUTH_STEP_NONE;
    if (ok) {
        s->authed = true;
        s_stats.auth_ok++;
        reply(s, SMTPD_R_AUTH_OK, NULL);
        enter_state(s, SMTPD_ST_HELO);
        return;
    }
    /* The 535 waits SMTPD_AUTH_FAIL_DELAY_MS and no input is read meanwhile,
     * so a pipelining client cannot try passwords faster than that. */
    s_stats.auth_fail++;
    sasl_wipe(s->auth_user, sizeof(s->auth_user));
    s->hold_ms = s_now_ms;
    enter_state(s, SMTPD_ST_AUTH_FAIL);
}

/* The held 535 is due (smtpd_input or smtpd_tick). */
static void auth_fail_release(smtpd_session_t *s)
{
    reply(s, SMTPD_R_AUTH_FAILED, NULL);
    enter_state(s, SMTPD_ST_HELO);
    check_error_limit(s);
}

static void auth_plain(smtpd_session_t *s, const char *b64, size_t n)
{
    char pass[SASL_PASS_MAX];

    if (sasl_plain_decode(b64, n, s->auth_user, sizeof(s->auth_user), pass,
                          sizeof(pass)) != SASL_OK) {
        sasl_wipe(pass, sizeof(pass));
        auth_decode_error(s);
        return;
    }
    auth_verify(s, pass, sizeof(pass));
}

static void auth_login_user(smtpd_session_t *s, const char *b64, size_t n)
{
    if (!login_decode(b64, n, s->auth_user, sizeof(s->auth_user))) {
        auth_decode_error(s);
        return;
    }
    s->auth_step = SMTPD_AUTH_STEP_LOGIN_PASS;
    reply(s, SMTPD_R_AUTH_PASSWORD, NULL);
    enter_state(s, SMTPD_ST_AUTH);
}

static void auth_login_pass(smtpd_session_t *s, const char *b64, size_t n)
{
    char pass[SASL_PASS_MAX];

    if (!login_decode(b64, n, pass, sizeof(pass))) {
        auth_decode_error(s);
        return;
    }
    auth_verify(s, pass, sizeof(pass));
}

/* A line in the AUTH state is a SASL response, never a command. */
static void auth_response(smtpd_session_t *s, const char *line, size_t len)
{
    if (len == 1 && line[0] == '*') {
        reply(s, SMTPD_R_AUTH_CANCELLED, NULL); /* RFC 4954 4 */
        auth_end(s);
        return;
    }
    switch (s->auth_step) {
    case SMTPD_AUTH_STEP_PLAIN:
        auth_plain(s, line, len);
        break;
    case SMTPD_AUTH_STEP_LOGIN_USER:
        auth_login_user(s, line, len);
        break;
    default: /* SMTPD_AUTH_STEP_LOGIN_PASS */
        auth_login_pass(s, line, len);
        break;
    }
}

static int check_auth(smtpd_session_t *s, const smtpd_cmd_t *cmd)
{
    smtpd_reply_id_t id;
    int rc;

    if (s->conn.auth_policy == SMTPD_AUTH_OFF)
        id = SMTPD_R_NOT_IMPL;       /* as before AUTH existed */
    else if (s->state == SMTPD_ST_CONNECTED)
        id = SMTPD_R_NEED_HELO;
    else if (s->state != SMTPD_ST_HELO)
        id = SMTPD_R_IN_TRANSACTION; /* RFC 4954 4 */
    else if (s->authed)
        id = SMTPD_R_AUTH_ALREADY;   /* RFC 4954 4 */
    else if (!s->tls)
        id = s->conn.tls_policy == SMTPD_TLS_REQUIRED ? SMTPD_R_TLS_REQUIRED
                                                       : SMTPD_R_AUTH_NEED_TLS;
    else if ((rc = smtpd_cmd_parse_auth(cmd->arg, cmd->arg_len, &s_auth)) == SMTPD_CMD_OK)
        return 0;
    else
        id = rc == SMTPD_CMD_ERR_MECH ? SMTPD_R_AUTH_MECH : SMTPD_R_AUTH_SYNTAX;
    reply(s, id, NULL);
    return -1;
}

static void do_auth(smtpd_session_t *s, const smtpd_cmd_t *cmd)
{
    (void)cmd;
    if (s_auth.resp_len != 0) {
        /* RFC 4954 4 initial response; for LOGIN it is the user name. */
        if (s_auth.mech == SMTPD_CMD_MECH_PLAIN)
            auth_plain(s, s_auth.resp, s_auth.resp_len);
        else
            auth_login_user(s, s_auth.resp, s_auth.resp_len);
        return;
    }
    if (s_auth.mech == SMTPD_CMD_MECH_PLAIN) {
        s->auth_step = SMTPD_AUTH_STEP_PLAIN;
        reply(s, SMTPD_R_AUTH_PLAIN_GO, NULL);
    } else {
        s->auth_step = SMTPD_AUTH_STEP_LOGIN_USER;
        reply(s, SMTPD_R_AUTH_USERNAME, NULL);
    }
    enter_state(s, SMTPD_ST_AUTH);
}

static const smtpd_cmd_entry_t k_cmds[] = {
    { SMTPD_CMD_HELO,     ST_COMMAND, SMTPD_R_NEED_HELO, check_helo, do_helo },
    { SMTPD_CMD_EHLO,     ST_COMMAND, SMTPD_R_NEED_HELO, check_helo, do_ehlo },
    { SMTPD_CMD_MAIL,     ST(HELO) | ST(MAIL) | ST(RCPT), SMTPD_R_NEED_HELO, check_mail, do_mail },
    { SMTPD_CMD_RCPT,     ST(MAIL) | ST(RCPT), SMTPD_R_NEED_MAIL, check_rcpt, do_rcpt },
    { SMTPD_CMD_DATA,     ST(MAIL) | ST(RCPT), SMTPD_R_NEED_MAIL, check_data, do_data },
    { SMTPD_CMD_RSET,     ST_COMMAND, SMTPD_R_NEED_HELO, check_noarg, do_rset },
    { SMTPD_CMD_NOOP,     ST_COMMAND, SMTPD_R_NEED_HELO, NULL, do_noop },
    { SMTPD_CMD_QUIT,     ST_COMMAND, SMTPD_R_NEED_HELO, check_noarg, do_quit },
    { SMTPD_CMD_VRFY,     ST_COMMAND, SMTPD_R_NEED_HELO, check_vrfy, do_vrfy },
    { SMTPD_CMD_HELP,     ST_COMMAND, SMTPD_R_NEED_HELO, NULL, do_help },
    { SMTPD_CMD_EXPN,     ST_COMMAND, SMTPD_R_NEED_HELO, NULL, do_not_impl },
    /* Allowed in every command state so that check() can put the policy
     * (502 when not offered) before the sequence errors. */
    { SMTPD_CMD_STARTTLS, ST_COMMAND, SMTPD_R_NEED_HELO, check_starttls, do_starttls },
    { SMTPD_CMD_AUTH,     ST_COMMAND, SMTPD_R_NEED_HELO, check_auth, do_auth },
    { SMTPD_CMD_BDAT,     ST_COMMAND, SMTPD_R_NEED_HELO, NULL, do_not_impl },
};

static const smtpd_cmd_entry_t *find_cmd(smtpd_cmd_verb_t verb)
{
    size_t i;

    for (i = 0; i < sizeof(k_cmds) / sizeof(k_cmds[0]); i++) {
        if (k_cmds[i].verb == verb)
            return &k_cmds[i];
    }
    return NULL;
}

static void dispatch(smtpd_session_t *s, const char *line, size_t len)
{
    smtpd_cmd_t cmd;
    const smtpd_cmd_entry_t *e = NULL;

    if (smtpd_cmd_parse(line, len, &cmd) == SMTPD_CMD_OK)
        e = find_cmd(cmd.verb);
    if (e == NULL) {
        reply(s, SMTPD_R_UNKNOWN, NULL);
        return;
    }
    if (!(e->states & (1u << s->state))) {
        reply(s, e->bad_sequence, NULL);
        return;
    }
    if (e->check && e->check(s, &cmd) < 0)
        return;
    e->proceed(s, &cmd);
}

/* A command line ended (its LF arrived). line_len counts the octets before
 * the LF, saturating above SMTPD_LINE_MAX; only those that fit are stored. */
static void line_end(smtpd_session_t *s)
{
    size_t len = s->line_len;
    smtpd_reply_id_t bad = SMTPD_R_COUNT;

    s->line_len = 0;
    if (len + 1u > SMTPD_LINE_MAX) {
        /* RFC 5321 4.5.3.1.4: over 512 octets incl. CRLF; its start was
         * already dropped, so nothing of it may run. */
        bad = SMTPD_R_LINE_TOO_LONG;
    } else if (len == 0 || s->line[len - 1] != '\r' ||
               memchr(s->line, '\r', len - 1) != NULL) {
        /* Lines end in CRLF (RFC 5321 2.3.8); a bare LF or CR is refused
         * rather than guessed at. */
        bad = SMTPD_R_BARE_EOL_CMD;
    }
    if (bad != SMTPD_R_COUNT) {
        reply(s, bad, NULL);
        if (s->state == SMTPD_ST_AUTH)
            auth_end(s); /* a broken response ends the exchange too */
    } else if (s->state == SMTPD_ST_AUTH) {
        auth_response(s, s->line, len - 1);
    } else {
        dispatch(s, s->line, len - 1);
    }
    /* AUTH lines carry credentials (base64 is no protection): no line
     * outlives its processing. Only the stored part needs it. */
    sasl_wipe(s->line, len < SMTPD_LINE_MAX ? len : SMTPD_LINE_MAX);
}

/* ---- module API --------------------------------------------------------- */

void smtpd_init(void)
{
    memset(s_pool, 0, sizeof(s_pool));
    memset(&s_stats, 0, sizeof(s_stats));
    s_limits = k_default_limits;
    s_trace = NULL;
}

int smtpd_set_limits(const smtpd_limits_t *l)
{
    if (l == NULL || l->max_msg_size == 0 || l->max_rcpt == 0 || l->max_errors == 0 ||
        l->cmd_timeout_ms < k_default_limits.cmd_timeout_ms ||
        l->data_timeout_ms < k_default_limits.data_timeout_ms)
        return SMTPD_ERR_ARG;
    s_limits = *l;
    return SMTPD_OK;
}

void smtpd_get_limits(smtpd_limits_t *out)
{
    /* Before smtpd_init the static limits are zero: report the defaults. */
    *out = s_limits.max_rcpt ? s_limits : k_default_limits;
}

void smtpd_set_trace(smtpd_trace_fn fn)
{
    s_trace = fn;
}

void smtpd_stats(smtpd_stats_t *out)
{
    *out = s_stats;
}

void smtpd_stats_reset(void)
{
    memset(&s_stats, 0, sizeof(s_stats));
}

void smtpd_count_busy(void)
{
    s_stats.busy++;
}

const char *smtpd_busy_reply(void)
{
    if (s_busy[0] == '\0')
        (void)format_reply(s_busy, sizeof(s_busy), SMTPD_R_BUSY, false, NULL);
    return s_busy;
}

/* ---- session API -------------------------------------------------------- */

static void copy_str(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);

    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

smtpd_session_t *smtpd_open(const smtpd_conn_t *conn, uint32_t now_ms)
{
    smtpd_session_t *s = NULL;
    size_t i;

    MTA_ASSERT(conn != NULL);
    if (s_limits.max_rcpt == 0)
        s_limits = k_default_limits; /* smtpd_init not called: defaults */

    for (i = 0; i < SMTPD_MAX_SESSIONS; i++) {
        if (s_pool[i].state == SMTPD_ST_FREE) {
            s = &s_pool[i];
            break;
        }
    }
    if (s == NULL) {
        s_stats.busy++;
        return NULL;
    }

    memset(s, 0, sizeof(*s));
    s->conn.netif = conn->netif;
    s->conn.relay_allowed = conn->relay_allowed;
    s->conn.date = conn->date;
    /* An unknown policy value fails safe: as strict as it gets. */
    s->conn.tls_policy = conn->tls_policy <= SMTPD_TLS_REQUIRED ? conn->tls_policy
                                                                 : SMTPD_TLS_REQUIRED;
    s->conn.auth_policy = conn->auth_policy <= SMTPD_AUTH_REQUIRED ? conn->auth_policy
                                                                    : SMTPD_AUTH_REQUIRED;
    s->conn.tls_begin = conn->tls_begin;
    s->conn.auth_check = conn->auth_check;
    s->conn.notice = conn->notice;
    s->conn.ctx = conn->ctx;
    /* The caller's arrays may lack a NUL; take at most size-1 chars. */
    memcpy(s->conn.netif_name, conn->netif_name, sizeof(s->conn.netif_name) - 1);
    memcpy(s->conn.local_ip, conn->local_ip, sizeof(s->conn.local_ip) - 1);
    memcpy(s->conn.remote_ip, conn->remote_ip, sizeof(s->conn.remote_ip) - 1);
    memcpy(s->conn.hostname, conn->hostname, sizeof(s->conn.hostname) - 1);
    if (s->conn.hostname[0] == '\0') {
        /* RFC 5321 4.1.3: without a name, the address literal identifies us. */
        char lit[SMTPD_HOSTNAME_MAX];
        (void)fmt_snprintf(lit, sizeof(lit), "[%s]", s->conn.local_ip);
        copy_str(s->conn.hostname, sizeof(s->conn.hostname), lit);
    }
    s->last_ms = now_ms;
    s_stats.sessions++;

    enter_state(s, SMTPD_ST_CONNECTED);
    reply(s, SMTPD_R_GREETING, s->conn.hostname);
    return s;
}

size_t smtpd_input(smtpd_session_t *s, const uint8_t *p, size_t n, uint32_t now_ms)
{
    size_t used = 0;

    MTA_ASSERT(s != NULL && s->state != SMTPD_ST_FREE);
    s_now_ms = now_ms;
    while (used < n) {
        if (s->state == SMTPD_ST_CLOSING || s->state == SMTPD_ST_STARTTLS) {
            /* After QUIT/421 nothing more is executed. After the 220 to
             * STARTTLS, bytes are plaintext the client sent before the
             * handshake -- possibly injected by a man in the middle
             * (CVE-2011-0411): never executed, never answered. */
            used = n;
            break;
        }
        if (s->state == SMTPD_ST_AUTH_FAIL) {
            /* Leave the input with the glue until the delay is over. */
            if (now_ms - s->hold_ms < SMTPD_AUTH_FAIL_DELAY_MS)
                break;
            auth_fail_release(s);
            continue;
        }
        /* RFC 2920 3.2: the server may stop reading while its replies are
         * not taken; never drop or reorder them. */
        if (out_free(s) < REPLY_RESERVE)
            break;

        if (s->state == SMTPD_ST_DATA) {
            used += smtp_data_push(&s->data, p + used, n - used);
            if (smtp_data_done(&s->data)) {
                data_end(s);
                check_error_limit(s);
            }
            continue;
        }

        /* One command line per iteration, so the reserve is re-checked
         * before each command runs. */
        while (used < n) {
            uint8_t c = p[used++];
            if (c == '\n') {
                line_end(s);
                check_error_limit(s);
                break;
            }
            if (s->line_len < SMTPD_LINE_MAX)
                s->line[s->line_len] = (char)c;
            if (s->line_len <= SMTPD_LINE_MAX)
                s->line_len++;
        }
    }
    if (used > 0) {
        /* Discarded plaintext must not keep a stalled handshake alive. */
        if (s->state != SMTPD_ST_STARTTLS)
            s->last_ms = now_ms;
        s->st.bytes_in += (uint32_t)used;
    }
    return used;
}

size_t smtpd_output_peek(const smtpd_session_t *s, const uint8_t **p)
{
    *p = s->out;
    return s->out_len;
}

void smtpd_output_consume(smtpd_session_t *s, size_t n)
{
    MTA_ASSERT(n <= s->out_len);
    if (n > s->out_len)
        n = s->out_len;
    memmove(s->out, s->out + n, s->out_len - n);
    s->out_len = (uint16_t)(s->out_len - n);
}

static unsigned sessions_open(void)
{
    unsigned n = 0;

    for (size_t i = 0; i < SMTPD_MAX_SESSIONS; i++)
        n += s_pool[i].state != SMTPD_ST_FREE;
    return n;
}

void smtpd_tick(smtpd_session_t *s, uint32_t now_ms)
{
    uint32_t idle = now_ms - s->last_ms;

    s_now_ms = now_ms;
    switch (s->state) {
    case SMTPD_ST_FREE:
        break;
    case SMTPD_ST_AUTH_FAIL:
        if (now_ms - s->hold_ms >= SMTPD_AUTH_FAIL_DELAY_MS)
            auth_fail_release(s);
        break;
    case SMTPD_ST_STARTTLS:
        /* The handshake never completed. A 421 in clear text would only
         * garble it, so close silently; what was not sent is moot. */
        if (idle >= s_limits.cmd_timeout_ms) {
            s_stats.timeouts++;
            s->out_len = 0;
            s->force_close = true;
            enter_state(s, SMTPD_ST_CLOSING);
            s->last_ms = now_ms;
        }
        break;
    case SMTPD_ST_CLOSING:
        if (idle >= SMTPD_CLOSE_GRACE_MS)
            s->force_close = true;
        break;
    case SMTPD_ST_DATA:
        /* RFC 5321 4.5.3.2.5/4.5.3.2.6: the client sends a block at least
         * every 3 minutes, and the whole block has a deadline and a minimum
         * rate (smtpd_guard.h). */
        if (idle >= s_limits.data_timeout_ms ||
            smtpd_guard_data_expired(now_ms - s->data_ms, s->data.size, sessions_open(),
                                     SMTPD_MAX_SESSIONS)) {
            s_stats.timeouts++;
            close_with(s, SMTPD_R_TIMEOUT);
            s->last_ms = now_ms;
        }
        break;
    default:
        /* RFC 5321 4.5.3.2.7: wait at least 5 minutes for a command, while
         * the pool has room (smtpd_guard.h). */
        if (idle >= smtpd_guard_idle_ms(s_limits.cmd_timeout_ms, sessions_open(), SMTPD_MAX_SESSIONS)) {
            s_stats.timeouts++;
            close_with(s, SMTPD_R_TIMEOUT);
            s->last_ms = now_ms;
        }
        break;
    }
}

bool smtpd_should_close(const smtpd_session_t *s)
{
    return s->state == SMTPD_ST_CLOSING && (s->out_len == 0 || s->force_close);
}

void smtpd_close(smtpd_session_t *s)
{
    MTA_ASSERT(s != NULL && s >= &s_pool[0] && s < &s_pool[SMTPD_MAX_SESSIONS]);
    MTA_ASSERT(s->state != SMTPD_ST_FREE);
    txn_abort(s);
    enter_state(s, SMTPD_ST_FREE);
}

smtpd_state_t smtpd_state(const smtpd_session_t *s)
{
    return s->state;
}

void smtpd_session_stats(const smtpd_session_t *s, smtpd_session_stats_t *out)
{
    *out = s->st;
}

bool smtpd_starttls_pending(const smtpd_session_t *s)
{
    return s->state == SMTPD_ST_STARTTLS;
}

void smtpd_tls_started(smtpd_session_t *s, uint32_t now_ms)
{
    MTA_ASSERT(s != NULL && s->state == SMTPD_ST_STARTTLS);
    if (s == NULL || s->state != SMTPD_ST_STARTTLS)
        return;
    /* RFC 3207 4.2: discard all knowledge obtained from the client. There
     * is no transaction (STARTTLS is refused inside one) and no AUTH
     * (only offered inside TLS); clear everything anyway. */
    txn_abort(s);
    s->helo[0] = '\0';
    s->esmtp = false;
    s->authed = false;
    s->auth_step = SMTPD_AUTH_STEP_NONE;
    sasl_wipe(s->auth_user, sizeof(s->auth_user));
    s->line_len = 0;
    s->out_len = 0;
    s->tls = true;
    s->last_ms = now_ms;
    /* No new greeting: the client speaks first, with EHLO. */
    enter_state(s, SMTPD_ST_CONNECTED);
}

bool smtpd_tls_active(const smtpd_session_t *s)
{
    return s->tls;
}

const char *smtpd_auth_user(const smtpd_session_t *s)
{
    return s->authed ? s->auth_user : "";
}
