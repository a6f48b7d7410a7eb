/*
 * smtpd -- inbound SMTP server protocol engine (RFC 5321), pure: no I/O, no
 * lwIP, no heap. Extensions: PIPELINING (RFC 2920), SIZE (RFC 1870),
 * 8BITMIME (RFC 6152), ENHANCEDSTATUSCODES (RFC 2034/3463). Every reply
 * text comes from smtp_replies.h.
 *
 * The glue (TCP side) does:
 *   s = smtpd_open(&conn, now);       NULL: send smtpd_busy_reply(), close
 *   on receive:  n = smtpd_input(s, p, len, now); keep p+n..len for later
 *                (backpressure: the output buffer is nearly full)
 *   whenever:    len = smtpd_output_peek(s, &q); send q[0..k);
 *                smtpd_output_consume(s, k); then retry held input
 *   periodically: smtpd_tick(s, now)
 *   if smtpd_should_close(s): close TCP, smtpd_close(s)
 *   on TCP error/peer close: smtpd_close(s)
 * Messages go to the queue (queue.h): a transaction is opened at MAIL (so
 * recipients need no storage here), recipients added at RCPT, a Received:
 * header appended at DATA, the body appended as it arrives, committed at the
 * final dot; 250 only after the commit succeeded. Every begin ends in exactly
 * one commit or abort.
 *
 * Single-threaded (NO_SYS=1): all functions from the lwIP main loop only.
 * Times are milliseconds, compared by subtraction (wrap-safe).
 */
#ifndef SMTPD_H
#define SMTPD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- options ---------------------------------------------------------- */

#ifndef SMTPD_MAX_SESSIONS
#define SMTPD_MAX_SESSIONS 8    /* sessions; one per TCP connection, = QUEUE_MAX_TXN */
#endif
#ifndef SMTPD_OUTBUF
#define SMTPD_OUTBUF 1024       /* bytes of unsent replies per session; room for pipelined replies */
#endif
#ifndef SMTPD_LINE_MAX
#define SMTPD_LINE_MAX 512      /* bytes per command line incl. CRLF: RFC 5321 4.5.3.1.4 */
#endif
#ifndef SMTPD_HOSTNAME_MAX
#define SMTPD_HOSTNAME_MAX 64   /* bytes incl. NUL; same as NIF_HOSTNAME_MAX */
#endif
#ifndef SMTPD_NETIF_NAME_MAX
#define SMTPD_NETIF_NAME_MAX 8  /* bytes incl. NUL; same as NIF_NAME_MAX ("tap12") */
#endif
#ifndef SMTPD_IP_TEXT_MAX
#define SMTPD_IP_TEXT_MAX 46    /* bytes incl. NUL; INET6_ADDRSTRLEN, fits any IP text */
#endif
#ifndef SMTPD_CLOSE_GRACE_MS
#define SMTPD_CLOSE_GRACE_MS 30000u /* ms to flush the last reply before closing anyway */
#endif

/* ---- errors ----------------------------------------------------------- */

#define SMTPD_OK       0
#define SMTPD_ERR_ARG (-1) /* invalid argument (e.g. limits below RFC minimums) */

/* ---- types ------------------------------------------------------------ */

typedef struct smtpd_session smtpd_session_t; /* opaque, from a static pool */

/* Writes an RFC 5322 date-time ("Thu, 21 Nov 2024 10:00:00 +0000"),
 * NUL-terminated, into buf[n]; returns its length or < 0 if unknown. */
typedef int (*smtpd_date_fn)(char *buf, size_t n);

/* One accepted TCP connection; copied into the session by smtpd_open.
 * Strings are truncated to their array size. */
typedef struct {
    uint8_t netif;                          /* netif index (queue src_netif) */
    char netif_name[SMTPD_NETIF_NAME_MAX];  /* "eth0" */
    char local_ip[SMTPD_IP_TEXT_MAX];       /* address the client connected to */
    char remote_ip[SMTPD_IP_TEXT_MAX];      /* client address */
    char hostname[SMTPD_HOSTNAME_MAX];      /* identity of THAT netif ("" -> [local_ip]) */
    bool relay_allowed;                     /* caller's policy: may this client relay? */
    smtpd_date_fn date;                     /* for Received:; NULL -> epoch date */
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
    X(FREE)      /* pool slot unused */                        \
    X(CONNECTED) /* greeting sent, waiting for HELO/EHLO */    \
    X(HELO)      /* HELO/EHLO done, no transaction */          \
    X(MAIL)      /* MAIL accepted, no recipient yet */         \
    X(RCPT)      /* at least one recipient accepted */         \
    X(DATA)      /* 354 sent, receiving the message */         \
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

/* Name of a state ("DATA"); "?" if out of range. */
const char *smtpd_state_name(smtpd_state_t st);

/* ---- session ---------------------------------------------------------- */

/* Take a session from the pool and queue the 220 greeting. Returns NULL
 * (and counts a busy rejection) when all SMTPD_MAX_SESSIONS are in use. */
smtpd_session_t *smtpd_open(const smtpd_conn_t *conn, uint32_t now_ms);

/* Feed received bytes. Returns how many were consumed (< n when the output
 * buffer lacks room for the replies: feed the rest after output was
 * consumed). Replies are appended to the output buffer in command order.
 * After QUIT / a 421 all input is consumed and discarded. */
size_t smtpd_input(smtpd_session_t *s, const uint8_t *p, size_t n,
                   uint32_t now_ms);

/* Pending output: sets *p and returns its length (0 = nothing). */
size_t smtpd_output_peek(const smtpd_session_t *s, const uint8_t **p);

/* Drop the first n pending output bytes (n <= pending; they were sent). */
void smtpd_output_consume(smtpd_session_t *s, size_t n);

/* Timeouts: no input for cmd_timeout_ms (data_timeout_ms while in DATA)
 * -> 421 4.4.2, transaction aborted, closing. A closing session whose output
 * is not taken within SMTPD_CLOSE_GRACE_MS is closed anyway. */
void smtpd_tick(smtpd_session_t *s, uint32_t now_ms);

/* True when the glue should close the TCP connection (after QUIT, timeout
 * or too many errors, once the output is flushed or the grace expired). */
bool smtpd_should_close(const smtpd_session_t *s);

/* Return the session to the pool; aborts an open queue transaction.
 * s must be an open session (asserted). */
void smtpd_close(smtpd_session_t *s);

smtpd_state_t smtpd_state(const smtpd_session_t *s);
void smtpd_session_stats(const smtpd_session_t *s, smtpd_session_stats_t *out);

#endif /* SMTPD_H */
