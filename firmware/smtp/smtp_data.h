/*
 * smtp_data -- SMTP DATA phase transparency (RFC 5321 4.5.2).
 *
 *  smtp_stuff_*  encoder: message bytes -> dot-stuffed wire bytes + terminator
 *                (used by the outbound client).
 *  smtp_data_*   decoder: wire bytes after the 354 -> unstuffed message bytes,
 *                delivered through a sink callback. Only <CRLF>.<CRLF> ends the
 *                data; bare CR / bare LF mark the message bad but never end it
 *                (CVE-2023-51764 "SMTP smuggling" class).
 *
 * Pure code: no I/O, no heap, no stdio. Not thread-safe per object.
 */
#ifndef SMTP_DATA_H
#define SMTP_DATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------------------ */
/* Encoder (dot-stuffing)                                              */
/* ------------------------------------------------------------------ */

typedef struct {
    uint8_t at_bol; /* 1 when the next input byte starts a line */
} smtp_stuff_t;

/* Start a message: the stuffer is at beginning of line. */
void smtp_stuff_init(smtp_stuff_t *s);

/* Copy in -> out, inserting an extra '.' before every '.' that starts a line
 * (a line starts at the beginning of the message and after every LF).
 * Returns the number of bytes consumed from in (may be < in_len when out is
 * full; call again with the rest). *out_len = bytes written (<= out_cap).
 * Never splits a stuffed "..": when only one byte of room is left and the
 * next byte needs stuffing, it stops before it. */
size_t smtp_stuff(smtp_stuff_t *s, const uint8_t *in, size_t in_len,
                  uint8_t *out, size_t out_cap, size_t *out_len);

/* Write the end-of-data terminator: CRLF first if not at beginning of line,
 * then ".\r\n". Returns bytes written, or 0 (nothing written, state kept)
 * if cap is too small (5 bytes always suffice). */
size_t smtp_stuff_end(smtp_stuff_t *s, uint8_t *out, size_t cap);

/* ------------------------------------------------------------------ */
/* Decoder (DATA reception)                                            */
/* ------------------------------------------------------------------ */

/* Maximum text line length including CRLF, not counting a transparency dot
 * (RFC 5321 4.5.3.1.6). */
#define SMTP_DATA_LINE_MAX 1000u

/* Result of a finished DATA phase (0 = message good). Several problems may
 * be present; smtp_data_result() reports the first in this order. */
#define SMTP_DATA_OK            0
#define SMTP_DATA_ERR_BARE_EOL (-1) /* bare CR or bare LF somewhere in data */
#define SMTP_DATA_ERR_LONG_LINE (-2) /* a line > SMTP_DATA_LINE_MAX octets */
#define SMTP_DATA_ERR_TOO_BIG  (-3) /* unstuffed size > max_size */
#define SMTP_DATA_ERR_SINK     (-4) /* the sink returned an error */

/* Receives unstuffed message bytes (n >= 1). Return 0 to continue; a
 * negative value stops all further sinking for this message (it is still
 * consumed to its terminator); the value is kept, see smtp_data_sink_err(). */
typedef int (*smtp_data_sink_fn)(void *ctx, const uint8_t *p, size_t n);

typedef struct {
    smtp_data_sink_fn sink;
    void *ctx;
    uint32_t max_size;  /* octets of unstuffed data; 0 = unlimited */
    uint32_t size;      /* octets of unstuffed data seen (saturating) */
    uint16_t line_len;  /* octets of the current line, less a transparency dot (saturating) */
    uint8_t state;      /* private */
    uint8_t flags;      /* private: problems seen */
    int sink_err;       /* first negative value returned by the sink, or 0 */
    /* private: pending output span, flushed before push returns */
    const uint8_t *span;
    size_t span_len;
} smtp_data_t;

/* Start a DATA phase (at beginning of line). sink may be NULL (discard). */
void smtp_data_init(smtp_data_t *d, uint32_t max_size, smtp_data_sink_fn sink,
                    void *ctx);

/* Feed wire bytes. Consumes up to and including the terminating
 * <CRLF>.<CRLF> and returns the number of bytes consumed (== n unless the
 * terminator was found; the bytes after it belong to the command phase).
 * All sink calls for these bytes happen before it returns. Bytes before the
 * first problem (bare CR/LF, long line, size, sink error) are sunk, nothing
 * after it. Calling it after done returns 0. Any split of the input gives
 * the same result and, while the sink succeeds, the same sunk bytes. */
size_t smtp_data_push(smtp_data_t *d, const uint8_t *p, size_t n);

/* True once the terminator has been consumed. */
bool smtp_data_done(const smtp_data_t *d);

/* SMTP_DATA_OK or the first SMTP_DATA_ERR_* (valid at any time; final once
 * done). */
int smtp_data_result(const smtp_data_t *d);

/* Unstuffed message octets seen so far (saturates at UINT32_MAX). */
uint32_t smtp_data_size(const smtp_data_t *d);

/* The sink's error value, or 0. */
int smtp_data_sink_err(const smtp_data_t *d);

#endif /* SMTP_DATA_H */
