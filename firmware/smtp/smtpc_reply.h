/*
 * smtpc_reply.h - incremental parser of SMTP server replies (RFC 5321 4.2).
 *
 * Feed server bytes in chunks of any size (even one byte at a time); the
 * parser reports each complete reply: its 3-digit code, the number of
 * lines, the RFC 3463 enhanced status code if present, the (bounded) text
 * of the last line, and the EHLO keywords found on lines 2..n (RFC 5321
 * 4.1.1.1; meaningful only when the reply answers EHLO).
 *
 * Lines end with CRLF; a bare LF is tolerated (some peers), a CR not
 * followed by LF is dropped. Pure, no I/O, no heap; one parser per
 * connection.
 */
#ifndef SMTPC_REPLY_H
#define SMTPC_REPLY_H

#include "mta_opts.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SMTPC_REPLY_LINE_MAX 512  /* octets incl. CRLF, RFC 5321 4.5.3.1.5 */
#define SMTPC_REPLY_ENH_MAX 12    /* "5.123.456" + NUL, rounded */

/* smtpc_reply_feed() status */
#define SMTPC_REPLY_MORE 0            /* need more bytes */
#define SMTPC_REPLY_DONE 1            /* a complete reply is in smtpc_reply_get() */
#define SMTPC_REPLY_ERR_CODE (-1)     /* reply code not 3 digits [2-5][0-5][0-9] */
#define SMTPC_REPLY_ERR_SYNTAX (-2)   /* 4th char not SP, '-' or end of line */
#define SMTPC_REPLY_ERR_LONG (-3)     /* line longer than 512 octets */
#define SMTPC_REPLY_ERR_LINES (-4)    /* more than SMTPC_REPLY_MAX_LINES lines */
#define SMTPC_REPLY_ERR_MISMATCH (-5) /* continuation line with another code */

/* EHLO keyword flags (smtpc_reply_t.ext) */
#define SMTP_EXT_PIPELINING 0x0001u  /* RFC 2920 */
#define SMTP_EXT_SIZE 0x0002u        /* RFC 1870; value in size_max */
#define SMTP_EXT_8BITMIME 0x0004u    /* RFC 6152 */
#define SMTP_EXT_STARTTLS 0x0008u    /* RFC 3207 */
#define SMTP_EXT_AUTH 0x0010u        /* RFC 4954; mechanisms in auth */
#define SMTP_EXT_ENHANCEDSTATUSCODES 0x0020u /* RFC 2034 */
#define SMTP_EXT_SMTPUTF8 0x0040u    /* RFC 6531 */
#define SMTP_EXT_CHUNKING 0x0080u    /* RFC 3030 */
#define SMTP_EXT_DSN 0x0100u         /* RFC 3461 */

/* AUTH mechanism flags (smtpc_reply_t.auth) */
#define SMTP_AUTH_PLAIN 0x01u
#define SMTP_AUTH_LOGIN 0x02u
#define SMTP_AUTH_CRAM_MD5 0x04u
#define SMTP_AUTH_XOAUTH2 0x08u
#define SMTP_AUTH_OTHER 0x80u        /* some mechanism not listed above */

typedef struct {
    int code;                        /* 200..599 */
    unsigned n_lines;
    char enh[SMTPC_REPLY_ENH_MAX];    /* "5.1.1"; "" if absent. Last line that
                                        carries one wins; its class must equal
                                        the code's first digit (RFC 3463 2). */
    char text[SMTPC_REPLY_TEXT_MAX];  /* last line after code, separator and
                                        enhanced code; truncated, NUL-ended */
    uint32_t ext;                    /* SMTP_EXT_* seen on lines 2..n */
    uint32_t size_max;               /* SIZE value; 0 = none given/no limit */
    uint8_t auth;                    /* SMTP_AUTH_* */
} smtpc_reply_t;

typedef struct {
    smtpc_reply_t reply;    /* being built; complete after SMTPC_REPLY_DONE */
    int status;            /* sticky error, else SMTPC_REPLY_MORE */
    bool done;             /* previous feed returned DONE: reset on next byte */
    unsigned col;          /* octets of the current line so far (excl. CR/LF) */
    int line_code;         /* code digits of the current line */
    bool last;             /* current line is the final one (SP or bare code) */
    size_t tlen;           /* bytes in buf */
    char buf[SMTPC_REPLY_TEXT_MAX]; /* text of the current line, truncated */
} smtpc_reply_parser_t;

/* Reset p to expect the start of a reply. */
void smtpc_reply_init(smtpc_reply_parser_t *p);

/*
 * Consume bytes from data[0..len). Stops right after the LF that completes
 * a reply (so pipelined replies are returned one per call) or at the byte
 * that makes the input malformed. Returns the number of bytes consumed and
 * sets *status to SMTPC_REPLY_MORE (all consumed, reply incomplete),
 * SMTPC_REPLY_DONE, or a negative SMTPC_REPLY_ERR_*. Errors are sticky: the
 * parser then consumes nothing until smtpc_reply_init() (the caller is
 * expected to drop the connection, RFC 5321 4.2 gives no way to resync).
 * After DONE the next call starts a new reply.
 */
size_t smtpc_reply_feed(smtpc_reply_parser_t *p, const uint8_t *data, size_t len,
                       int *status);

/* The last complete reply (valid after SMTPC_REPLY_DONE until the next feed). */
const smtpc_reply_t *smtpc_reply_get(const smtpc_reply_parser_t *p);

/* Short text for a SMTPC_REPLY_ERR_* code. */
const char *smtpc_reply_strerror(int err);

#endif /* SMTPC_REPLY_H */
