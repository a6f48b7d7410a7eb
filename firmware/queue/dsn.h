/*
 * dsn.h - RFC 3464 delivery status notification builder (no heap, no I/O).
 *
 * dsn_write() streams a complete RFC 5322 message
 *   multipart/report; report-type=delivery-status            (RFC 6522)
 *     1. text/plain           human-readable list of failed recipients
 *     2. message/delivery-status  per-message + per-recipient fields (RFC 3464)
 *     3. text/rfc822-headers  header of the original message (<= DSN_MAX_HEADERS)
 * through a caller-supplied write function (the queue feeds a transaction).
 * Output is 7-bit, CRLF only, every line <= DSN_LINE_MAX octets.
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
} dsn_env_t;

/* One recipient to report (strings valid until the next rcpt() call). */
typedef struct {
    const char *address;      /* final recipient */
    const char *enh;          /* last enhanced status "5.1.1" or "" / NULL */
    const char *text;         /* last reply text or "" / NULL */
    uint32_t    last_attempt; /* clock seconds, 0 = never attempted */
    uint16_t    code;         /* last SMTP reply code, 0 = none (connection failure) */
    uint8_t     expired;      /* 1: failed by queue lifetime -> Status 4.4.7 */
} dsn_rcpt_t;

/* The failed message. */
typedef struct {
    uint32_t    msgid;      /* original queue id (appears in the text part) */
    const char *sender;     /* original envelope sender = DSN recipient (To:) */
    uint32_t    arrival;    /* clock seconds of original acceptance */
    uint32_t    now;        /* clock seconds for Date: */
    uint16_t    nrcpt;      /* recipient indexes 0..nrcpt-1 passed to rcpt() */
    /* Fill *out for recipient idx: return 1 to report it (failed), 0 to skip,
     * < 0 to abort.  Called twice per index (text part, status part). */
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

/* RFC 3464 Status for a recipient: "4.4.7" when expired, the enhanced code if
 * it is a valid 5.x.y, else "5.0.0".  Writes NUL-terminated; returns length. */
int dsn_status(const dsn_rcpt_t *r, char *buf, size_t size);

/* RFC 5322 date-time for a Unix time, e.g. "Thu, 01 Jan 1970 00:00:00 +0000".
 * Returns length or < 0 if size is too small (needs 32). */
int dsn_format_date(uint64_t unix_s, char *buf, size_t size);

/* Upper bound of dsn_write()'s output in bytes (usable as the queue size
 * hint): a hostname of host_len octets (0: "localhost"), a sender of
 * sender_len, and nfailed reported recipients, each with an address of at
 * most addr_max and a reply text of at most text_max octets.  Whatever the
 * original header (at most DSN_MAX_HEADERS bytes of it are returned) and
 * whatever env->date writes. */
uint32_t dsn_size_bound(size_t host_len, size_t sender_len, uint16_t nfailed, size_t addr_max,
                        size_t text_max);

#endif /* DSN_H */
