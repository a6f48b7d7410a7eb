/*
 * smtpc.h - SMTP client protocol engine (RFC 5321, RFC 2920 PIPELINING,
 * RFC 1870 SIZE, RFC 6152 8BITMIME, RFC 3207 STARTTLS, RFC 4954 AUTH with
 * RFC 4616 PLAIN and LOGIN). Pure: no I/O, no lwIP, no heap, no crypto.
 *
 * The glue owns the TCP connection and moves bytes:
 *   c = smtpc_open(&job, now)            once TCP is connected
 *   smtpc_input(c, bytes, n, now)        for everything the server sends
 *   smtpc_output_peek(c, &p) / smtpc_output_consume(c, sent)
 *                                        for everything to send (peek also
 *                                        pulls more of the body; see pump)
 *   smtpc_tick(c, now)                   periodically (timeouts)
 *   smtpc_abort(c, err)                  when TCP fails/closes
 *   smtpc_starttls_pending(c)            after input: the peer said 220 to
 *                                        STARTTLS; run the TLS handshake on
 *                                        the socket, then
 *                                        smtpc_tls_started(c, now)
 *                                        (handshake failed: smtpc_abort)
 *   smtpc_idle(c) -> smtpc_next(c, &job2) or smtpc_quit(c)
 *   smtpc_done(c) -> close TCP, smtpc_close(c)
 *
 * Dialogue: 220 greeting, EHLO <ehlo_name> (HELO if EHLO gets 5xx), then
 * once per connection (session steps, see smtpc_job_t.tls / auth_user):
 *   STARTTLS, 220, TLS handshake (glue), EHLO again (RFC 3207 4.2);
 *   AUTH PLAIN <initial response>, or AUTH LOGIN, 334, user, 334, password;
 * then per job: MAIL FROM:<s> [SIZE=n] [BODY=8BITMIME], RCPT TO:<r>...,
 * DATA, body, ".". With PIPELINING, MAIL + all RCPT + DATA are sent without
 * waiting (RFC 2920 3.1), else one command per reply. STARTTLS and AUTH are
 * never pipelined: each waits for its reply before anything else is sent
 * (RFC 2920 3.1, RFC 3207 4.2).
 *
 * Everything the server sends after the 220 to STARTTLS and before
 * smtpc_tls_started() -- in the same input buffer or later -- is consumed
 * and discarded: it is plaintext a man in the middle could have injected
 * (the CVE-2011-0411 class) and must never be taken as a reply.
 *
 * Recipient results: every recipient of a job gets exactly one
 * rcpt_result() call (code 2xx delivered, 4xx/0 defer, 5xx fail):
 *  - a rejected RCPT: that reply (immediately);
 *  - MAIL rejected: the MAIL reply, for all;
 *  - DATA rejected: the DATA reply, for all accepted ones;
 *  - after the body: the final reply, for all accepted ones;
 *  - peer SIZE below job.size: 552 5.3.4 locally, nothing is sent;
 *  - an address that cannot be sent (empty, > 254 chars, control chars
 *    such as CR/LF, '<' or '>'): 553 5.1.3 locally (5.1.7 for all when the
 *    sender is bad) -- never lets a queued address inject commands;
 *  - session refusal (greeting not 220, EHLO+HELO refused, AUTH refused
 *    e.g. 535/454): code 0 with the server's enh/text (a refusal of us is
 *    not about the recipients; the queue defers), the reply code is in
 *    smtpc_last_error();
 *  - session policy failure (TLS required but STARTTLS not offered /
 *    refused / no TLS session; AUTH wanted but no TLS / no common
 *    mechanism): code 0, smtpc_last_error() SMTPC_ERR_TLS or
 *    SMTPC_ERR_AUTH; no MAIL is sent, no credential ever leaves in
 *    plaintext unless auth_plaintext_ok;
 *  - timeout, malformed reply, body read error, abort, close: code 0;
 *  - a 421 (RFC 5321 3.8) at any point: 421 for all unresolved.
 * An 8-bit body to a peer without 8BITMIME is sent anyway without BODY=
 * (RFC 6152 gives no good alternative without MIME downgrade; practically
 * every server passes 8-bit data; the choice is the glue's to log).
 * When no recipient is accepted no DATA is sent (without PIPELINING) or
 * DATA's 354 is answered with a lone "." (RFC 2920 3.1); RSET follows any
 * transaction that did not complete with the final reply.
 *
 * Callbacks run inside smtpc_input/tick/abort/close/next/pump/peek; they
 * must not call smtpc_* mutators on the same connection.
 *
 * Times are milliseconds from any free-running uint32_t clock (wrap-safe).
 */
#ifndef SMTPC_H
#define SMTPC_H

#include "mta_opts.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"
#include "smtp/smtpc_reply.h"

#define SMTPC_ADDR_MAX 254      /* mailbox chars, RFC 5321 4.5.3.1.3 path 256 - "<>" */

/* Local error codes (negative; 0 = OK). smtpc_last_error() also returns
 * positive SMTP codes of session-level refusals. */
#define SMTPC_OK 0
#define SMTPC_ERR_INVAL (-1)    /* bad job / argument */
#define SMTPC_ERR_STATE (-2)    /* call not allowed in this state */
#define SMTPC_ERR_TIMEOUT (-3)  /* RFC 5321 4.5.3.2 timeout */
#define SMTPC_ERR_PROTO (-4)    /* malformed or unexpected server reply */
#define SMTPC_ERR_READ (-5)     /* body reader failed */
#define SMTPC_ERR_ABORT (-6)    /* connection lost (smtpc_abort) */
#define SMTPC_ERR_CLOSED (-7)   /* closed by smtpc_close mid-transaction */
#define SMTPC_ERR_TLS (-8)      /* TLS required: STARTTLS not offered/refused/no session */
#define SMTPC_ERR_AUTH (-9)     /* AUTH impossible: needs TLS / no common mechanism */

/* smtpc_job_t.tls */
#define SMTPC_TLS_NONE 0        /* never STARTTLS */
#define SMTPC_TLS_MAY 1         /* STARTTLS if offered and a TLS session is free, else plaintext */
#define SMTPC_TLS_REQUIRE 2     /* STARTTLS must succeed, else no mail is sent (SMTPC_ERR_TLS) */

typedef enum {
    SMTPC_ST_GREETING = 0, /* waiting for 220 */
    SMTPC_ST_EHLO,         /* EHLO sent */
    SMTPC_ST_HELO,         /* HELO sent (EHLO refused) */
    SMTPC_ST_STARTTLS,     /* STARTTLS sent, waiting for 220 */
    SMTPC_ST_TLSWAIT,      /* 220 received: the glue runs the TLS handshake;
                              server bytes are discarded until smtpc_tls_started */
    SMTPC_ST_AUTH,         /* AUTH PLAIN <ir> / AUTH LOGIN sent */
    SMTPC_ST_AUTH_USER,    /* AUTH LOGIN: user name sent (after the first 334) */
    SMTPC_ST_AUTH_PASS,    /* AUTH LOGIN: password sent (after the second 334) */
    SMTPC_ST_IDLE,         /* session open, between transactions */
    SMTPC_ST_MAIL,         /* waiting for the MAIL reply */
    SMTPC_ST_RCPT,         /* waiting for RCPT replies */
    SMTPC_ST_DATA,         /* waiting for 354 */
    SMTPC_ST_BODY,         /* sending the body */
    SMTPC_ST_DOT,          /* waiting for the final reply */
    SMTPC_ST_RSET,         /* RSET sent */
    SMTPC_ST_QUIT,         /* QUIT sent */
    SMTPC_ST_DONE,         /* finished cleanly: close the connection */
    SMTPC_ST_FAILED,       /* finished with an error: close the connection */
    SMTPC_ST_COUNT
} smtpc_state_t;

/* RFC 3461 4.1 NOTIFY bits (smtpc_rcpt_t.notify); 0 = not given */
#define SMTPC_NOTIFY_NEVER   0x01u
#define SMTPC_NOTIFY_SUCCESS 0x02u
#define SMTPC_NOTIFY_FAILURE 0x04u
#define SMTPC_NOTIFY_DELAY   0x08u
/* RFC 3461 4.3 RET (smtpc_job_t.dsn_ret) */
#define SMTPC_RET_NONE 0
#define SMTPC_RET_FULL 1
#define SMTPC_RET_HDRS 2

/* 8 bytes: the glue holds SMTPC_MAX_CONN x QUEUE_MAX_RCPT of them. */
typedef struct {
    const char *addr;      /* mailbox without "<>" */
    uint16_t user_idx;     /* passed back in rcpt_result (queue rcpt index) */
    /* RFC 3461, sent only when the peer's EHLO offers DSN */
    uint8_t notify;        /* SMTPC_NOTIFY_* bits, 0 = no NOTIFY= */
    uint8_t has_orcpt;     /* 1: addr's string is followed, after its NUL, by the
                            * ORCPT "addr-type;xtext" as received (no pointer
                            * of its own: it would double the array) */
} smtpc_rcpt_t;

/* All pointers must stay valid until every recipient of the job has its
 * result (i.e. until smtpc_idle/smtpc_done or smtpc_close).
 * The session fields (tls .. auth_plaintext_ok) are read by smtpc_open only
 * and ignored by smtpc_next: STARTTLS and AUTH happen once per connection,
 * before the first job's transaction. All zero = plaintext, no AUTH. */
typedef struct {
    const char *ehlo_name;       /* hostname of the outbound netif (or "[a.b.c.d]") */
    const char *sender;          /* mailbox without "<>"; NULL or "" = null sender */
    const smtpc_rcpt_t *rcpts;   /* 1..SMTPC_MAX_RCPTS entries */
    unsigned n_rcpts;
    uint32_t size;               /* message size in octets (SIZE=, RFC 1870) */
    bool body_8bit;              /* BODY=8BITMIME when the peer offers it */
    /* RFC 3461 MAIL parameters, sent only when the peer offers DSN (4.3,
     * 4.4); a value with SP, "=" or control characters is left out */
    uint8_t dsn_ret;             /* SMTPC_RET_* */
    const char *dsn_envid;       /* xtext as received, NULL/"" = no ENVID= */
    /* Copy up to len body octets from offset off into buf; return the count,
     * 0 at the end of the body, negative on error. */
    int (*read)(void *ctx, uint32_t off, void *buf, size_t len);
    void (*rcpt_result)(void *ctx, unsigned user_idx, int code,
                        const char *enh, const char *text);
    void *ctx;
    /* session parameters (smtpc_open) */
    uint8_t tls;                 /* SMTPC_TLS_NONE / _MAY / _REQUIRE */
    /* Called with ctx just before STARTTLS would be sent: true if the glue
     * reserved a TLS session for this connection (it will be able to run
     * the handshake after the 220). False or NULL: MAY goes on in
     * plaintext, REQUIRE fails (SMTPC_ERR_TLS). A reservation the engine
     * then does not use (STARTTLS refused) is the glue's to release when
     * the connection closes. */
    bool (*tls_begin)(void *ctx);
    /* SMTP AUTH (RFC 4954) when auth_user is non-empty: PLAIN if offered,
     * else LOGIN. User 1..64, password 1..128 octets (sasl.h). Only over
     * TLS unless auth_plaintext_ok. Not copied: encoded only when the line
     * is emitted, the output buffer is wiped once it is sent; never in any
     * error text. Must stay valid until the first job ends. */
    const char *auth_user;
    const char *auth_pass;
    bool auth_plaintext_ok;      /* allow AUTH on a connection without TLS */
} smtpc_job_t;

typedef struct smtpc smtpc_t;

/* 0 if the job is well-formed (non-NULL callbacks, 1..SMTPC_MAX_RCPTS
 * recipients, valid ehlo_name, tls <= SMTPC_TLS_REQUIRE, and with an
 * auth_user a password, both within the sasl.h limits), else
 * SMTPC_ERR_INVAL. Bad individual addresses are NOT an error here (they
 * get 553 locally). */
int smtpc_job_check(const smtpc_job_t *job);

/* Take a connection from the pool for a freshly connected socket; the job
 * starts after the greeting and EHLO. NULL if the job is invalid or the
 * pool is empty. */
smtpc_t *smtpc_open(const smtpc_job_t *job, uint32_t now_ms);

/* Feed server bytes. Returns the bytes consumed (all of them, except after
 * the session finished or a malformed reply, when the rest is ignored). */
size_t smtpc_input(smtpc_t *c, const uint8_t *p, size_t n, uint32_t now_ms);

/* Fill the output buffer (pending commands, body through the reader,
 * terminator). smtpc_output_peek calls it; exposed for glue that wants to
 * fill before peeking. */
void smtpc_pump(smtpc_t *c);

/* Pump, then point *p at the pending output; returns its length (0: none). */
size_t smtpc_output_peek(smtpc_t *c, const uint8_t **p);

/* n bytes of the peeked output were handed to TCP (n <= peeked length).
 * Counts as send progress for the data-block timeout. */
void smtpc_output_consume(smtpc_t *c, size_t n);

/* Advance the clock; on an RFC 5321 4.5.3.2 timeout every unresolved
 * recipient gets code 0 and the state becomes FAILED. */
void smtpc_tick(smtpc_t *c, uint32_t now_ms);

/* The connection is gone (err: lwIP/glue error, kept for
 * smtpc_abort_err()). Unresolved recipients get code 0; state DONE if we
 * were quitting, else FAILED with smtpc_last_error() = SMTPC_ERR_ABORT. */
void smtpc_abort(smtpc_t *c, int err);

/* Start another job on the same session. Only when smtpc_idle(c).
 * SMTPC_ERR_STATE / SMTPC_ERR_INVAL otherwise. */
int smtpc_next(smtpc_t *c, const smtpc_job_t *job);

/* Send QUIT. Only when smtpc_idle(c) (else SMTPC_ERR_STATE: use abort). */
int smtpc_quit(smtpc_t *c);

/* The peer accepted STARTTLS (state TLSWAIT): the glue must not send any
 * more plaintext (there is no pending output), runs the TLS handshake,
 * then calls smtpc_tls_started (or smtpc_abort if the handshake fails).
 * The usual 5-minute timeout also bounds the handshake. */
bool smtpc_starttls_pending(const smtpc_t *c);
/* The TLS handshake completed: the engine forgets the pre-TLS EHLO
 * extensions and sends EHLO again (RFC 3207 4.2); from now on smtpc_input
 * gets decrypted bytes and the output goes through TLS. Ignored unless
 * smtpc_starttls_pending(c). */
void smtpc_tls_started(smtpc_t *c, uint32_t now_ms);
/* STARTTLS completed on this connection. */
bool smtpc_tls_active(const smtpc_t *c);
/* AUTH succeeded (235) on this connection. */
bool smtpc_authenticated(const smtpc_t *c);

smtpc_state_t smtpc_state(const smtpc_t *c);
const char *smtpc_state_name(smtpc_state_t s);  /* "IDLE", "?" if invalid */
/* Session open and the current job finished: smtpc_next or smtpc_quit. */
bool smtpc_idle(const smtpc_t *c);
/* DONE or FAILED: close the TCP connection, then smtpc_close. */
bool smtpc_done(const smtpc_t *c);
/* Return c to the pool; unresolved recipients get code 0 first. */
void smtpc_close(smtpc_t *c);

/* Last error: positive SMTP code of a refused greeting/EHLO+HELO/AUTH/RSET
 * or a 421; negative SMTPC_ERR_*; 0 = none. */
int smtpc_last_error(const smtpc_t *c);
/* The same as the tagged error the delivery path carries: SMTP_REPLY with
 * the peer's code (a refusal, or a reply out of turn), SMTP_REPLY code 0
 * for a line that is no SMTP reply (a peer answering "HTTP/1.0 400"), LWIP
 * with the err given to smtpc_abort, LOCAL with an SMTPC_ERR_* code;
 * NONE if the session did not fail. */
mta_err_t smtpc_error(const smtpc_t *c);
/* Short static reason for smtpc_last_error(), more precise than
 * smtpc_strerror() (e.g. "STARTTLS not offered by peer", "AUTH refused");
 * smtpc_strerror(smtpc_last_error(c)) when there is none more precise.
 * Never contains server text or credentials. */
const char *smtpc_error_text(const smtpc_t *c);
/* The err given to smtpc_abort(), 0 if none. */
int smtpc_abort_err(const smtpc_t *c);
/* The last complete reply received (code 0 if none yet). */
const smtpc_reply_t *smtpc_last_reply(const smtpc_t *c);
/* EHLO extensions of the peer (SMTP_EXT_*; 0 after HELO) and its SIZE;
 * after STARTTLS those of the EHLO sent over TLS. */
uint32_t smtpc_ext(const smtpc_t *c);
/* AUTH mechanisms the peer offers (SMTP_AUTH_*; meaningful with
 * SMTP_EXT_AUTH in smtpc_ext). */
uint8_t smtpc_auth_mechs(const smtpc_t *c);
uint32_t smtpc_peer_size(const smtpc_t *c);
/* Short text for a SMTPC_ERR_* code. */
const char *smtpc_strerror(int err);

#endif /* SMTPC_H */
