/*
 * dsn.h - RFC 3464 delivery status notification builder (no heap, no I/O).
 *
 * dsn_write() streams a complete RFC 5322 message
 *   multipart/report; report-type=delivery-status            (RFC 6522)
 *     1. text/plain           human-readable list of the reported recipients
 *     2. message/delivery-status  per-message + per-recipient fields (RFC 3464)
 *     3. text/rfc822-headers  header of the original message (<= DSN_MAX_HEADERS)
 *        or, for a failure report with RET=FULL (RFC 3461 4.3) of a 7-bit
 *        message up to DSN_MAX_RETURN bytes, message/rfc822: all of it
 * through a caller-supplied write function (the queue feeds a transaction).
 * Output is 7-bit, CRLF only, every line <= DSN_LINE_MAX octets; fields
 * longer than 78 octets (Diagnostic-Code) are folded at spaces (RFC 5322
 * 2.2.3), never cut.
 *
 * Per recipient the caller says what happened (Action, RFC 3464 2.3.3):
 * failed, delayed, relayed (RFC 3461 4.1: passed to a peer that does not do
 * DSN) or delivered.  One report may mix them.
 *
 * Dates: while the clock has never been set (env->clock_set says 0), the
 * optional date fields (Arrival-Date 2.2.5, Last-Attempt-Date 2.3.7) are
 * left out and the text part says why; Date: (RFC 5322 3.6, required) is
 * still written.
 */
#ifndef DSN_H
#define DSN_H

#include "mta_opts.h"

#include <stddef.h>
#include <stdint.h>

#define DSN_LINE_MAX 998       /* RFC 5322 2.1.1 line limit, octets excl. CRLF */

#define DSN_OK          0
#define DSN_ERR_ARG   (-3)
#define DSN_ERR_IO    (-6)

/* Application environment. */
typedef struct dsn_env {
    const char *hostname;  /* this MTA's FQDN: Reporting-MTA, From, Message-ID; NULL -> "localhost" */
    /* Format clock value t (queue clock, seconds since boot) as an RFC 5322
     * date-time into buf (NUL-terminated); return its length or < 0.
     * NULL -> dsn_format_date(t), i.e. t read as Unix time. */
    int (*date)(void *ctx, uint32_t t, char *buf, size_t size);
    void *ctx;
    /* Hostname of interface netif (the one the message arrived on), for
     * Reporting-MTA, From and Message-ID; NULL, or a NULL/"" return ->
     * hostname. */
    const char *(*netif_host)(void *ctx, uint8_t netif);
    /* 1 if the wall clock was ever set (dates are facts), 0 if not; NULL = 1. */
    int (*clock_set)(void *ctx);
} dsn_env_t;

/* dsn_rcpt_t.action (RFC 3464 2.3.3) */
#define DSN_ACTION_FAILED    0
#define DSN_ACTION_DELAYED   1
#define DSN_ACTION_RELAYED   2
#define DSN_ACTION_DELIVERED 3

/* dsn_source_t.ret (RFC 3461 4.3, as store.h's STORE_RET_*) */
#define DSN_RET_NONE 0   /* not given: headers only */
#define DSN_RET_FULL 1
#define DSN_RET_HDRS 2

/* One recipient to report (strings valid until the next rcpt() call). */
typedef struct {
    const char *address;      /* final recipient */
    const char *enh;          /* last enhanced status "5.1.1" or "" / NULL */
    const char *text;         /* last reply text or "" / NULL */
    const char *orcpt;        /* RFC 3461 ORCPT "addr-type;xtext" as received, or NULL */
    const char *remote;       /* peer that gave the reply (name or "[ip]"), or NULL */
    uint32_t    last_attempt; /* clock seconds, 0 = never attempted */
    uint16_t    code;         /* last SMTP reply code, 0 = none (connection failure) */
    uint8_t     expired;      /* 1: failed by queue lifetime -> Status 4.4.7 */
    uint8_t     action;       /* DSN_ACTION_* (0 = failed) */
} dsn_rcpt_t;

/* The reported message. */
typedef struct {
    uint32_t    msgid;      /* original queue id (appears in the text part) */
    const char *sender;     /* original envelope sender = DSN recipient (To:) */
    uint32_t    arrival;    /* clock seconds of original acceptance */
    uint32_t    now;        /* clock seconds for Date: */
    uint16_t    nrcpt;      /* recipient indexes 0..nrcpt-1 passed to rcpt() */
    uint8_t     src_netif;  /* interface it arrived on (env->netif_host) */
    uint8_t     ret;        /* DSN_RET_*: RET=FULL returns the message in a failure report */
    const char *envid;      /* RFC 3461 ENVID (xtext as received) or NULL */
    uint32_t    size;       /* original message bytes (RET=FULL limit) */
    /* Fill *out for recipient idx: return 1 to report it, 0 to skip, < 0 to
     * abort.  Called several times per index, with the same answer each
     * time (subject, text part, status part). */
    int (*rcpt)(void *ctx, uint16_t idx, dsn_rcpt_t *out);
    /* Read the original message from offset: bytes copied, 0 at end, < 0 error. */
    int (*read)(void *ctx, uint32_t offset, void *buf, size_t len);
    void *ctx;
} dsn_source_t;

/* Sink: return < 0 to abort generation. */
typedef int (*dsn_write_fn)(void *ctx, const void *data, size_t len);

/* Generate the DSN.  Returns bytes written (> 0) or < 0 (the first negative
 * value from write/rcpt/read, or DSN_ERR_ARG). */
int dsn_write(const dsn_env_t *env, const dsn_source_t *src, dsn_write_fn write, void *wctx);

/* RFC 3464 Status for a recipient.  failed: "4.4.7" when expired, the
 * enhanced code if it is a valid 5.x.y, else "5.0.0"; delayed: a valid
 * 4.x.y, else "4.0.0"; relayed/delivered: a valid 2.x.y, else "2.0.0".
 * Writes NUL-terminated; returns length. */
int dsn_status(const dsn_rcpt_t *r, char *buf, size_t size);

/* RFC 5322 date-time for a Unix time, e.g. "Thu, 01 Jan 1970 00:00:00 +0000".
 * Returns length, or < 0 if size is too small (needs 32) or unix_s is past
 * 2106 (u32 Unix time, lib/date.h). */
int dsn_format_date(uint64_t unix_s, char *buf, size_t size);

/* Decode RFC 3461 4 xtext ("a+2Bb" -> "a+b") from src[0..len) into dst
 * (NUL-terminated, at most size - 1 octets).  A malformed "+XX" is copied
 * as is.  Returns the decoded length. */
size_t dsn_xtext_decode(const char *src, size_t len, char *dst, size_t size);

/* Upper bound of the DSN size in bytes for nreported recipients, whatever
 * their addresses, replies and the original message: the fixed parts,
 * DSN_MAX_HEADERS of header, DSN_MAX_RETURN of returned message (each at
 * worst doubled by CR insertion) and per recipient its longest fields.
 * With QUEUE_MAX_RCPT = 100 it is ~280 KiB (see README): below
 * QUEUE_MAX_MSG_SIZE, the mps2 store and a typical smarthost's limit. */
uint32_t dsn_size_bound(uint16_t nreported);

#endif /* DSN_H */
