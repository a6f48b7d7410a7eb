/*
 * smtpc_reply.c - incremental SMTP reply parser (see smtpc_reply.h).
 */
#include "smtp/smtpc_reply.h"

#include <string.h>

/* content octets of a line: 512 including the CRLF (RFC 5321 4.5.3.1.5) */
#define SMTPC_REPLY_COL_MAX (SMTPC_REPLY_LINE_MAX - 2)

static char smtpc_reply_upper(char c)
{
    return (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c;
}

/* Case-insensitive token compare (EHLO keywords are case-insensitive,
 * RFC 5321 2.4). */
static bool smtpc_reply_tok_is(const char *t, size_t n, const char *kw)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (kw[i] == '\0' || smtpc_reply_upper(t[i]) != kw[i]) {
            return false;
        }
    }
    return kw[i] == '\0';
}

static void smtpc_reply_line_reset(smtpc_reply_parser_t *p)
{
    p->col = 0;
    p->line_code = 0;
    p->last = false;
    p->tlen = 0;
}

void smtpc_reply_init(smtpc_reply_parser_t *p)
{
    memset(p, 0, sizeof(*p));
    p->status = SMTPC_REPLY_MORE;
}

/*
 * RFC 3463 2: status-code = class "." subject "." detail, class 2/4/5,
 * subject and detail 1..3 digits. Followed by SP or end of text. The class
 * must agree with the reply code (RFC 3463 2, RFC 2034 3); otherwise the
 * token is ordinary text. Returns the length of the code, 0 if none.
 */
static size_t smtpc_reply_enh_len(const char *s, size_t n, int code)
{
    size_t i = 0;
    unsigned part;

    if (n < 5u || s[0] != (char)('0' + code / 100) || s[1] != '.') {
        return 0;
    }
    i = 2;
    for (part = 0; part < 2u; part++) {
        size_t digits = 0;
        while (i < n && s[i] >= '0' && s[i] <= '9' && digits < 3u) {
            i++;
            digits++;
        }
        if (digits == 0u) {
            return 0;
        }
        if (part == 0u) {
            if (i >= n || s[i] != '.') {
                return 0;
            }
            i++;
        }
    }
    if (i < n && s[i] != ' ') {
        return 0;
    }
    return i;
}

static uint8_t smtpc_reply_auth_mech(const char *t, size_t n)
{
    if (smtpc_reply_tok_is(t, n, "PLAIN")) {
        return SMTP_AUTH_PLAIN;
    }
    if (smtpc_reply_tok_is(t, n, "LOGIN")) {
        return SMTP_AUTH_LOGIN;
    }
    if (smtpc_reply_tok_is(t, n, "CRAM-MD5")) {
        return SMTP_AUTH_CRAM_MD5;
    }
    if (smtpc_reply_tok_is(t, n, "XOAUTH2")) {
        return SMTP_AUTH_XOAUTH2;
    }
    return SMTP_AUTH_OTHER;
}

/* Next space-separated token of s[*pos..n); false at end. */
static bool smtpc_reply_token(const char *s, size_t n, size_t *pos,
                             const char **tok, size_t *tlen)
{
    size_t i = *pos;

    while (i < n && s[i] == ' ') {
        i++;
    }
    if (i >= n) {
        *pos = i;
        return false;
    }
    *tok = &s[i];
    while (i < n && s[i] != ' ') {
        i++;
    }
    *tlen = (size_t)(&s[i] - *tok);
    *pos = i;
    return true;
}

/* ehlo-line = ehlo-keyword *( SP ehlo-param )  (RFC 5321 4.1.1.1) */
static void smtpc_reply_keyword(smtpc_reply_t *r, const char *s, size_t n)
{
    size_t pos = 0, tl;
    const char *t;

    if (!smtpc_reply_token(s, n, &pos, &t, &tl)) {
        return;
    }
    if (smtpc_reply_tok_is(t, tl, "PIPELINING")) {
        r->ext |= SMTP_EXT_PIPELINING;
    } else if (smtpc_reply_tok_is(t, tl, "8BITMIME")) {
        r->ext |= SMTP_EXT_8BITMIME;
    } else if (smtpc_reply_tok_is(t, tl, "STARTTLS")) {
        r->ext |= SMTP_EXT_STARTTLS;
    } else if (smtpc_reply_tok_is(t, tl, "ENHANCEDSTATUSCODES")) {
        r->ext |= SMTP_EXT_ENHANCEDSTATUSCODES;
    } else if (smtpc_reply_tok_is(t, tl, "SMTPUTF8")) {
        r->ext |= SMTP_EXT_SMTPUTF8;
    } else if (smtpc_reply_tok_is(t, tl, "CHUNKING")) {
        r->ext |= SMTP_EXT_CHUNKING;
    } else if (smtpc_reply_tok_is(t, tl, "DSN")) {
        r->ext |= SMTP_EXT_DSN;
    } else if (smtpc_reply_tok_is(t, tl, "SIZE")) {
        /* RFC 1870 4: optional decimal maximum; 0 or absent = no limit */
        uint32_t v = 0;
        r->ext |= SMTP_EXT_SIZE;
        if (smtpc_reply_token(s, n, &pos, &t, &tl)) {
            for (size_t i = 0; i < tl; i++) {
                if (t[i] < '0' || t[i] > '9') {
                    v = 0;
                    break;
                }
                if (v > (UINT32_MAX - 9u) / 10u) {
                    v = UINT32_MAX; /* larger than any message we hold */
                    break;
                }
                v = v * 10u + (uint32_t)(t[i] - '0');
            }
        }
        r->size_max = v;
    } else if (smtpc_reply_tok_is(t, tl, "AUTH") ||
               (tl > 5u && smtpc_reply_tok_is(t, 5, "AUTH="))) {
        /* "AUTH=LOGIN PLAIN" is the pre-RFC 4954 form some servers still send */
        r->ext |= SMTP_EXT_AUTH;
        if (tl > 5u && t[4] == '=') {
            r->auth |= smtpc_reply_auth_mech(t + 5, tl - 5u);
        }
        while (smtpc_reply_token(s, n, &pos, &t, &tl)) {
            r->auth |= smtpc_reply_auth_mech(t, tl);
        }
    }
}

/* A line ended (LF seen). Returns DONE, MORE or an error. */
static int smtpc_reply_end_line(smtpc_reply_parser_t *p)
{
    smtpc_reply_t *r = &p->reply;
    size_t el;

    if (p->col < 3u) {
        return SMTPC_REPLY_ERR_CODE;
    }
    if (p->col == 3u) {
        p->last = true; /* "250" CRLF: Reply-code [ SP textstring ] CRLF */
    }
    if (++r->n_lines > SMTPC_REPLY_MAX_LINES) {
        return SMTPC_REPLY_ERR_LINES;
    }
    r->code = p->line_code;
    if (r->n_lines >= 2u) {
        smtpc_reply_keyword(r, p->buf, p->tlen);
    }
    el = smtpc_reply_enh_len(p->buf, p->tlen, r->code);
    if (el != 0u) {
        memcpy(r->enh, p->buf, el);
        r->enh[el] = '\0';
    }
    if (p->last) {
        size_t off = el;
        if (off < p->tlen && p->buf[off] == ' ' && el != 0u) {
            off++;
        }
        memcpy(r->text, p->buf + off, p->tlen - off);
        r->text[p->tlen - off] = '\0';
        smtpc_reply_line_reset(p);
        p->done = true;
        return SMTPC_REPLY_DONE;
    }
    smtpc_reply_line_reset(p);
    return SMTPC_REPLY_MORE;
}

/* One content octet (not CR/LF). */
static int smtpc_reply_octet(smtpc_reply_parser_t *p, char c)
{
    p->col++;
    if (p->col > SMTPC_REPLY_COL_MAX) {
        return SMTPC_REPLY_ERR_LONG;
    }
    if (p->col <= 3u) {
        /* RFC 5321 4.2: first digit 2-5, second 0-5, third 0-9 */
        static const char hi[3] = {'5', '5', '9'};
        static const char lo[3] = {'2', '0', '0'};
        if (c < lo[p->col - 1u] || c > hi[p->col - 1u]) {
            return SMTPC_REPLY_ERR_CODE;
        }
        p->line_code = p->line_code * 10 + (c - '0');
        /* RFC 5321 4.2.1: every line of a multiline reply has the same code */
        if (p->col == 3u && p->reply.n_lines > 0u &&
            p->line_code != p->reply.code) {
            return SMTPC_REPLY_ERR_MISMATCH;
        }
        return SMTPC_REPLY_MORE;
    }
    if (p->col == 4u) {
        if (c == ' ') {
            p->last = true;
        } else if (c == '-') {
            p->last = false;
        } else {
            return SMTPC_REPLY_ERR_SYNTAX;
        }
        return SMTPC_REPLY_MORE;
    }
    if (p->tlen + 1u < sizeof(p->buf)) {
        p->buf[p->tlen++] = c;
    }
    return SMTPC_REPLY_MORE;
}

size_t smtpc_reply_feed(smtpc_reply_parser_t *p, const uint8_t *data, size_t len,
                       int *status)
{
    size_t i;
    int st = SMTPC_REPLY_MORE;

    if (p->status < 0) {
        *status = p->status;
        return 0;
    }
    if (len == 0u) {
        *status = p->done ? SMTPC_REPLY_DONE : SMTPC_REPLY_MORE;
        return 0;
    }
    if (p->done) {
        memset(&p->reply, 0, sizeof(p->reply));
        smtpc_reply_line_reset(p);
        p->done = false;
    }
    for (i = 0; i < len; i++) {
        char c = (char)data[i];
        if (c == '\r') {
            continue; /* CRLF, or a stray CR: never part of the text */
        }
        if (p->col >= 4u && c != '\n') {
            /* Text after the separator: a run of it at once, with the same
             * effect as smtpc_reply_octet() per octet (the per-octet calls
             * were the parser's cost).  A run that would pass the column
             * limit goes the per-octet way, which fails at its octet. */
            size_t j = i + 1u;
            while (j < len && data[j] != '\r' && data[j] != '\n') {
                j++;
            }
            size_t run = j - i;
            if (run <= SMTPC_REPLY_COL_MAX - p->col) {
                size_t room = sizeof(p->buf) - 1u - p->tlen;
                size_t k = run < room ? run : room;
                memcpy(p->buf + p->tlen, data + i, k);
                p->tlen += k;
                p->col += (unsigned)run;
                i = j - 1u;
                continue;
            }
        }
        st = (c == '\n') ? smtpc_reply_end_line(p) : smtpc_reply_octet(p, c);
        if (st == SMTPC_REPLY_DONE) {
            i++;
            break;
        }
        if (st < 0) {
            p->status = st;
            break;
        }
    }
    *status = st;
    return i;
}

const smtpc_reply_t *smtpc_reply_get(const smtpc_reply_parser_t *p)
{
    return &p->reply;
}

const char *smtpc_reply_strerror(int err)
{
    switch (err) {
    case SMTPC_REPLY_MORE: return "incomplete";
    case SMTPC_REPLY_DONE: return "complete";
    case SMTPC_REPLY_ERR_CODE: return "bad reply code";
    case SMTPC_REPLY_ERR_SYNTAX: return "bad reply separator";
    case SMTPC_REPLY_ERR_LONG: return "reply line too long";
    case SMTPC_REPLY_ERR_LINES: return "too many reply lines";
    case SMTPC_REPLY_ERR_MISMATCH: return "reply code changed between lines";
    default: return "unknown error";
    }
}
