/*
 * smtpd -- inbound SMTP server protocol engine (RFC 5321), pure: no I/O, no
 * lwIP, no heap. Extensions: PIPELINING (RFC 2920), SIZE (RFC 1870),
 * 8BITMIME (RFC 6152), ENHANCEDSTATUSCODES (RFC 2034/3463), STARTTLS
 * (RFC 3207, the protocol only: the glue runs TLS), AUTH PLAIN/LOGIN
 * (RFC 4954, RFC 4616). Every reply text comes from smtp_replies.h.
 *
 * The glue (TCP side) does:
 *   s = smtpd_open(&conn, now);       NULL: send smtpd_busy_reply(), close
 *   on receive:  n = smtpd_input(s, p, len, now); keep p+n..len for later
 *                (backpressure: the output buffer is nearly full, or a
 *                failed AUTH is being delayed)
 *   whenever:    len = smtpd_output_peek(s, &q); send q[0..k);
 *                smtpd_output_consume(s, k); then retry held input
 *   periodically: smtpd_tick(s, now)
 *   if smtpd_starttls_pending(s): once the output is flushed, drop any
 *                input still held, run the TLS handshake; from then on feed
 *                and send through TLS; when it completed call
 *                smtpd_tls_started(s, now); if it failed close TCP and call
 *                smtpd_close(s)
 *   if smtpd_should_close(s): close TCP, smtpd_close(s)
 *   on TCP error/peer close: smtpd_close(s)
 * Messages go to the queue (queue.h): a transaction is opened at MAIL (so
 * recipients need no storage here), recipients added at RCPT, a Received:
 * header appended at DATA, the body appended as it arrives, committed at the
 * final dot; 250 only after the commit succeeded. Every begin ends in exactly
 * one commit or abort.
 *
 * STARTTLS (CVE-2011-0411): once the 220 to STARTTLS is queued, every
 * further plaintext byte -- the rest of that input and all later input
 * until smtpd_tls_started -- is consumed and discarded, never executed or
 * answered. After the handshake the session starts over at CONNECTED
 * without a new greeting (RFC 3207 4.2): the client must EHLO again.
 * STARTTLS is accepted only after HELO/EHLO (RFC 3207 does not demand it,
 * but EHLO is where it is offered: 503 5.5.1 before) and outside a
 * transaction (503 5.5.1).
 *
 * AUTH: credentials go to conn.auth_check and nowhere else; the engine keeps
 * only the user name (smtpd_auth_user), wipes decoded passwords and every
 * command line after use, and never echoes either in a reply. A failed AUTH
 * is answered 535 only after SMTPD_AUTH_FAIL_DELAY_MS, during which no input
 * is read (slows down password guessing; each failure also counts toward
 * max_errors).
 *
 * Single-threaded (NO_SYS=1): all functions from the lwIP main loop only.
 * Times are milliseconds, compared by subtraction (wrap-safe).
 */
#ifndef SMTPD_H
#define SMTPD_H

#include "mta_opts.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- options ---------------------------------------------------------- */

/* ---- errors ----------------------------------------------------------- */

#define SMTPD_OK       0
#define SMTPD_ERR_ARG (-1) /* invalid argument (e.g. limits below RFC minimums) */

/* ---- policies (smtpd_conn_t.tls_policy / auth_policy) ------------------ */

/* STARTTLS. Zero (a zero-initialised conn) is OFF. */
#define SMTPD_TLS_OFF      0 /* never offered; STARTTLS -> 502 5.5.1 */
#define SMTPD_TLS_OFFER    1 /* advertised in EHLO while not in TLS (and tls_begin set) */
#define SMTPD_TLS_REQUIRED 2 /* advertised; MAIL and AUTH before TLS -> 530 5.7.0 */

/* SMTP AUTH. Zero is OFF. AUTH is only ever offered inside TLS: PLAIN and
 * LOGIN send the password in clear. REQUIRED is only usable together with
 * a tls_policy other than OFF. */
#define SMTPD_AUTH_OFF      0 /* not advertised; AUTH -> 502 5.5.1 */
#define SMTPD_AUTH_OFFER    1 /* "AUTH PLAIN LOGIN" in EHLO once TLS is active;
                               * AUTH before TLS -> 538 5.7.11 (530 5.7.0 if
                               * TLS is required) */
#define SMTPD_AUTH_REQUIRED 2 /* as OFFER, and MAIL before a successful AUTH
                               * -> 530 5.7.0 */

/* ---- types ------------------------------------------------------------ */

typedef struct smtpd_session smtpd_session_t; /* opaque, from a static pool */

/* Writes an RFC 5322 date-time ("Thu, 21 Nov 2024 10:00:00 +0000"),
 * NUL-terminated, into buf[n]; returns its length or < 0 if unknown. */
typedef int (*smtpd_date_fn)(char *buf, size_t n);

/* What smtpd_conn_t.notice reports. */
typedef enum {
    SMTPD_NOTICE_RELAY_DENIED, /* a recipient got 550 5.7.1 (event 1203) */
    SMTPD_NOTICE_QUEUE_FULL    /* a client got 452 4.3.1 (event 1402) */
} smtpd_notice_t;

/* One accepted TCP connection; copied into the session by smtpd_open.
 * Strings are truncated to their array size. */
typedef struct {
    uint8_t netif;                          /* netif index (queue src_netif) */
    char netif_name[SMTPD_NETIF_NAME_MAX];  /* "eth0" */
    char local_ip[SMTPD_IP_TEXT_MAX];       /* address the client connected to */
    char remote_ip[SMTPD_IP_TEXT_MAX];      /* client address */
    char hostname[SMTPD_HOSTNAME_MAX];      /* identity of THAT netif ("" -> [local_ip]) */
    bool relay_allowed;                     /* caller's policy: may this client relay?
                                             * (an authenticated client always may) */
    smtpd_date_fn date;                     /* for Received:; NULL -> epoch date */
    uint8_t tls_policy;                     /* SMTPD_TLS_*; unknown values act as REQUIRED */
    uint8_t auth_policy;                    /* SMTPD_AUTH_*; unknown values act as REQUIRED */
    /* Called when a STARTTLS command is acceptable. true: the glue has
     * reserved a TLS session; the engine queues 220 2.0.0 and waits for the
     * handshake (smtpd_starttls_pending). false or NULL: 454 4.7.0, the
     * session goes on in plaintext. STARTTLS is only advertised if set. */
    bool (*tls_begin)(void *ctx);
    /* Verifies AUTH credentials (NUL-terminated, user <= 64 and password
     * <= 128 octets, neither empty). The password buffer is wiped when it
     * returns; keep no pointer to either. NULL: every AUTH fails. */
    bool (*auth_check)(void *ctx, const char *user, const char *pass);
    /* Told of a refusal the operator should see as an event (the engine
     * logs nothing itself). NULL: not told. */
    void (*notice)(void *ctx, smtpd_notice_t what);
    void *ctx;                              /* passed to tls_begin, auth_check, notice */
} smtpd_conn_t;

/* Global limits (all sessions). */
typedef struct {
    uint32_t max_msg_size;    /* octets of message data (SIZE); default 10 MiB */
    uint16_t max_rcpt;        /* recipients per message; default 100 (RFC 5321 4.5.3.1.8) */
    uint16_t max_errors;      /* 4xx/5xx replies before 421 4.7.0 + close; default 20 */
    uint32_t cmd_timeout_ms;  /* waiting for a command; default and minimum 5 min (RFC 5321 4.5.3.2.7) */
    uint32_t data_timeout_ms; /* between DATA blocks; default and minimum 3 min (RFC 5321 4.5.3.2.5) */
} smtpd_limits_t;

/* States, in the order of a normal session. */
#define SMTPD_STATE_LIST(X) \
    X(FREE)      /* pool slot unused */                                  \
    X(CONNECTED) /* greeting sent (or TLS started), waiting for HELO/EHLO */ \
    X(HELO)      /* HELO/EHLO done, no transaction */                    \
    X(STARTTLS)  /* 220 to STARTTLS queued, waiting for the handshake;   \
                    input is discarded (CVE-2011-0411) */                \
    X(AUTH)      /* 334 sent, waiting for a SASL response line */        \
    X(AUTH_FAIL) /* AUTH failed; 535 held back, input not read */        \
    X(MAIL)      /* MAIL accepted, no recipient yet */                   \
    X(RCPT)      /* at least one recipient accepted */                   \
    X(DATA)      /* 354 sent, receiving the message */                   \
    X(CLOSING)   /* last reply queued; input is discarded */
#define SMTPD_STATE_ENUM_(name) SMTPD_ST_##name,
typedef enum { SMTPD_STATE_LIST(SMTPD_STATE_ENUM_) SMTPD_ST_COUNT } smtpd_state_t;
#undef SMTPD_STATE_ENUM_

/* Called on every state change (from != to not guaranteed). */
typedef void (*smtpd_trace_fn)(const smtpd_session_t *s, smtpd_state_t from,
                               smtpd_state_t to);

typedef struct {
    uint32_t sessions;        /* sessions opened */
    uint32_t busy;            /* connections refused: pool full (421 4.3.2) */
    uint32_t accepted;        /* messages committed to the queue (250 2.0.0) */
    uint32_t rej_bare_eol;    /* messages rejected: bare CR/LF in data (554 5.6.0) */
    uint32_t rej_long_line;   /* messages rejected: data line > 1000 (500 5.6.0) */
    uint32_t rej_too_big;     /* MAIL SIZE= or data over the limit (552 5.3.4) */
    uint32_t rej_queue;       /* queue refused at MAIL/RCPT/DATA/end (452/451/552) */
    uint32_t rej_relay;       /* recipients refused: relaying denied (550 5.7.1) */
    uint32_t errors;          /* all 4xx/5xx replies except 421 */
    uint32_t timeouts;        /* sessions ended by timeout (421 4.4.2) */
    uint32_t error_limit;     /* sessions ended by too many errors (421 4.7.0) */
    uint32_t starttls;        /* TLS handshakes begun (220 2.0.0 to STARTTLS) */
    uint32_t auth_ok;         /* successful AUTH (235 2.7.0) */
    uint32_t auth_fail;       /* AUTH with wrong credentials (535 5.7.8) */
} smtpd_stats_t;

typedef struct {
    uint32_t bytes_in;   /* bytes consumed by smtpd_input */
    uint16_t messages;   /* messages accepted */
    uint16_t rcpts;      /* recipients accepted (all transactions) */
    uint16_t errors;     /* 4xx/5xx replies except 421 */
} smtpd_session_stats_t;

/* ---- module ----------------------------------------------------------- */

/* Reset everything: all pool slots free (open queue transactions are NOT
 * aborted -- call at start-up, or after closing every session), default
 * limits, zero statistics, no trace hook. */
void smtpd_init(void);

/* Replace the limits. SMTPD_ERR_ARG (nothing changed) if a value is 0 or a
 * timeout is below its minimum. Applies to new commands of every session. */
int smtpd_set_limits(const smtpd_limits_t *l);
void smtpd_get_limits(smtpd_limits_t *out);

/* Install (or remove with NULL) the state-change trace hook. */
void smtpd_set_trace(smtpd_trace_fn fn);

/* Copy of the global counters. */
void smtpd_stats(smtpd_stats_t *out);
void smtpd_stats_reset(void);

/* "421 4.3.2 ...\r\n": what to send when smtpd_open returned NULL. */
const char *smtpd_busy_reply(void);
/* Count a connection refused by the glue (421 from its waiting room, or a
 * reset when no PCB was left) in smtpd_stats_t.busy. */
void smtpd_count_busy(void);

/* Name of a state ("DATA"); "?" if out of range. */
const char *smtpd_state_name(smtpd_state_t st);

/* ---- session ---------------------------------------------------------- */

/* Take a session from the pool and queue the 220 greeting. Returns NULL
 * (and counts a busy rejection) when all SMTPD_MAX_SESSIONS are in use. */
smtpd_session_t *smtpd_open(const smtpd_conn_t *conn, uint32_t now_ms);

/* Feed received bytes. Returns how many were consumed (< n when the output
 * buffer lacks room for the replies: feed the rest after output was
 * consumed; or while a failed AUTH is held: feed it again after smtpd_tick).
 * Replies are appended to the output buffer in command order.
 * After QUIT / a 421, and after the 220 to STARTTLS, all input is consumed
 * and discarded. now_ms also times the AUTH failure delay. */
size_t smtpd_input(smtpd_session_t *s, const uint8_t *p, size_t n,
                   uint32_t now_ms);

/* Pending output: sets *p and returns its length (0 = nothing). */
size_t smtpd_output_peek(const smtpd_session_t *s, const uint8_t **p);

/* Drop the first n pending output bytes (n <= pending; they were sent). */
void smtpd_output_consume(smtpd_session_t *s, size_t n);

/* Timeouts: no input for cmd_timeout_ms (data_timeout_ms while in DATA)
 * -> 421 4.4.2, transaction aborted, closing. A closing session whose output
 * is not taken within SMTPD_CLOSE_GRACE_MS is closed anyway. A handshake not
 * completed within cmd_timeout_ms of the STARTTLS closes at once, without
 * a reply (the peer expects TLS, not text; unsent output is dropped).
 * Releases a held 535 once SMTPD_AUTH_FAIL_DELAY_MS have passed. */
void smtpd_tick(smtpd_session_t *s, uint32_t now_ms);

/* True when the glue should close the TCP connection (after QUIT, timeout
 * or too many errors, once the output is flushed or the grace expired). */
bool smtpd_should_close(const smtpd_session_t *s);

/* Return the session to the pool; aborts an open queue transaction.
 * s must be an open session (asserted). */
void smtpd_close(smtpd_session_t *s);

smtpd_state_t smtpd_state(const smtpd_session_t *s);
void smtpd_session_stats(const smtpd_session_t *s, smtpd_session_stats_t *out);

/* ---- STARTTLS / AUTH ---------------------------------------------------- */

/* True from the moment the 220 2.0.0 to STARTTLS was queued until
 * smtpd_tls_started: flush the output, drop any held input, run the
 * handshake (state STARTTLS). */
bool smtpd_starttls_pending(const smtpd_session_t *s);

/* The TLS handshake completed. RFC 3207 4.2: everything learnt from the
 * client is forgotten (HELO/EHLO name, AUTH, a partial command line); the
 * session is at CONNECTED again, no new greeting is sent, and TLS is
 * active (Received: "with ESMTPS"). Output not yet taken (there should be
 * none) belonged to the plaintext phase and is dropped. Only valid while
 * smtpd_starttls_pending (asserted; otherwise nothing happens). */
void smtpd_tls_started(smtpd_session_t *s, uint32_t now_ms);

/* True once smtpd_tls_started was called for this session. */
bool smtpd_tls_active(const smtpd_session_t *s);

/* User name of a successful AUTH; "" when not authenticated. Points into
 * the session: valid until smtpd_close. */
const char *smtpd_auth_user(const smtpd_session_t *s);

#endif /* SMTPD_H */
