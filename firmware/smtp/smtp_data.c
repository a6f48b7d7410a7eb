/*
 * smtp_data.c -- DATA transparency (RFC 5321 4.5.2), see smtp_data.h.
 */
#include "smtp/smtp_data.h"

#include <string.h>

/* ------------------------------------------------------------------ */
/* Encoder                                                             */
/* ------------------------------------------------------------------ */

void smtp_stuff_init(smtp_stuff_t *s)
{
    s->at_bol = 1;
}

/* Length of the run of p[0..n) that can be copied as it is: up to the first
 * '.' that follows an LF (which needs its stuffing dot), or n.  Four octets
 * per step: v = w ^ 0x0A0A0A0A has a zero octet exactly where w has an LF,
 * and (v - 0x01010101) & ~v & 0x80808080 is non-zero exactly when v has one.
 * The octets of a word with an LF are checked one by one, so their order in
 * the word does not matter. */
static size_t stuff_run(const uint8_t *p, size_t n)
{
    size_t i = 0;

    for (;;) {
        while (n - i >= 8) { /* two words per step: less loop overhead */
            uint32_t a, b;
            memcpy(&a, p + i, sizeof(a)); /* one load; unaligned is fine */
            memcpy(&b, p + i + 4, sizeof(b));
            a ^= 0x0A0A0A0Au;
            b ^= 0x0A0A0A0Au;
            if ((((a - 0x01010101u) & ~a) | ((b - 0x01010101u) & ~b)) & 0x80808080u)
                break;
            i += 8;
        }
        while (n - i >= 4) {
            uint32_t w;
            memcpy(&w, p + i, sizeof(w));
            uint32_t v = w ^ 0x0A0A0A0Au;
            if (((v - 0x01010101u) & ~v & 0x80808080u) != 0)
                break;
            i += 4;
        }
        size_t end = n - i >= 4 ? i + 4 : n;
        for (; i < end; i++) {
            if (p[i] == '\n' && i + 1 < n && p[i + 1] == '.')
                return i + 1;
        }
        if (i == n)
            return n;
    }
}

size_t smtp_stuff(smtp_stuff_t *s, const uint8_t *in, size_t in_len,
                  uint8_t *out, size_t out_cap, size_t *out_len)
{
    size_t i = 0, o = 0;

    while (i < in_len && o < out_cap) {
        if (s->at_bol && in[i] == '.') {
            /* RFC 5321 4.5.2: a line starting with '.' gets one more '.'.
             * Emit both or neither so a retry never loses the stuffing. */
            if (out_cap - o < 2)
                break;
            out[o++] = '.';
            out[o++] = '.';
            i++;
            s->at_bol = 0;
            continue;
        }
        /* Everything up to the next line-start dot goes out unchanged, in
         * one copy however many lines that is. */
        size_t lim = in_len - i < out_cap - o ? in_len - i : out_cap - o;
        size_t run = stuff_run(in + i, lim);
        memcpy(out + o, in + i, run);
        i += run;
        o += run;
        /* Any LF starts a line: a receiver that (wrongly) ends lines at a bare
         * LF must still see the dot doubled, so stuff after every LF. */
        s->at_bol = in[i - 1] == '\n';
    }
    *out_len = o;
    return i;
}

size_t smtp_stuff_end(smtp_stuff_t *s, uint8_t *out, size_t cap)
{
    size_t o = 0;
    size_t need = s->at_bol ? 3u : 5u;

    if (cap < need)
        return 0;
    /* RFC 5321 4.1.1.4: the terminator is <CRLF>.<CRLF>; the first CRLF ends
     * the last line, so add it only if the message did not end with one. */
    if (!s->at_bol) {
        out[o++] = '\r';
        out[o++] = '\n';
    }
    out[o++] = '.';
    out[o++] = '\r';
    out[o++] = '\n';
    s->at_bol = 1;
    return o;
}

/* ------------------------------------------------------------------ */
/* Decoder                                                             */
/* ------------------------------------------------------------------ */

enum {
    ST_BOL,   /* at beginning of line (after CRLF, or at start of DATA) */
    ST_TEXT,  /* inside a line */
    ST_CR,    /* inside a line, last byte was CR (not yet emitted) */
    ST_DOT,   /* line so far is "." */
    ST_DOTCR, /* line so far is ".\r" */
    ST_DONE   /* terminator consumed */
};

#define F_BARE_EOL  0x01u
#define F_LONG_LINE 0x02u
#define F_TOO_BIG   0x04u
#define F_SINK      0x08u
#define F_STOP_SINK (F_BARE_EOL | F_LONG_LINE | F_TOO_BIG | F_SINK)

static const uint8_t k_cr = '\r';

static void flush_span(smtp_data_t *d)
{
    if (d->span_len == 0)
        return;
    if (!(d->flags & F_STOP_SINK) && d->sink) {
        int rc = d->sink(d->ctx, d->span, d->span_len);
        if (rc < 0) {
            d->flags |= F_SINK;
            d->sink_err = rc;
        }
    }
    d->span = NULL;
    d->span_len = 0;
}

/* Record a problem. What was emitted before it is sunk first, so the sink
 * sees the same bytes however the input was split. */
static void set_flag(smtp_data_t *d, uint8_t f)
{
    flush_span(d);
    d->flags |= f;
}

/* Queue one output byte located at *b (in the caller's input, or k_cr).
 * Adjacent bytes are merged so the sink sees chunks, not single bytes. */
static void emit(smtp_data_t *d, const uint8_t *b)
{
    if (d->size != UINT32_MAX)
        d->size++; /* saturating: a message can be longer than 4 GiB */
    if (d->max_size != 0 && d->size > d->max_size && !(d->flags & F_TOO_BIG))
        set_flag(d, F_TOO_BIG);
    if (d->flags & F_STOP_SINK)
        return; /* nothing more reaches the sink */
    if (d->span_len != 0 && d->span + d->span_len == b) {
        d->span_len++;
        return;
    }
    flush_span(d);
    d->span = b;
    d->span_len = 1;
}

void smtp_data_init(smtp_data_t *d, uint32_t max_size, smtp_data_sink_fn sink,
                    void *ctx)
{
    memset(d, 0, sizeof(*d));
    d->sink = sink;
    d->ctx = ctx;
    d->max_size = max_size;
    /* RFC 5321 4.1.1.4: the 354 is followed by the first line, so ".\r\n"
     * right away is an empty message. */
    d->state = ST_BOL;
}

/* emit() for a run of len contiguous input bytes, with the same effect as
 * len calls: the byte that takes the size over the limit and everything
 * after it is counted but not sunk. */
static void emit_run(smtp_data_t *d, const uint8_t *b, size_t len)
{
    while (len > 0) {
        size_t ok = len;
        if (d->max_size != 0 && !(d->flags & F_TOO_BIG))
            ok = d->size >= d->max_size ? 0 : (d->max_size - d->size < len ? d->max_size - d->size : len);
        if (ok == 0 || (d->flags & F_STOP_SINK)) {
            emit(d, b); /* per byte: sets F_TOO_BIG at the right byte */
            b++;
            len--;
            continue;
        }
        d->size = UINT32_MAX - d->size < ok ? UINT32_MAX : d->size + (uint32_t)ok;
        if (d->span_len != 0 && d->span + d->span_len == b) {
            d->span_len += ok;
        } else {
            flush_span(d);
            d->span = b;
            d->span_len = ok;
        }
        b += ok;
        len -= ok;
    }
}

static uint16_t sat_add16(uint16_t a, size_t b)
{
    return (size_t)(UINT16_MAX - a) < b ? (uint16_t)UINT16_MAX : (uint16_t)(a + b);
}

/* Index of the first CR or LF in p[i..n), or n: one pass, four octets per
 * step.  (w - 0x0E0E0E0E) & ~w & 0x80808080 is non-zero exactly when the
 * word holds an octet below 0x0E; CR (0x0D) and LF (0x0A) are two of them,
 * and a word with a TAB or another control octet costs only a look at its
 * four octets.  The octets are checked one by one, so the order of the
 * octets in the word does not matter. */
static size_t scan_eol(const uint8_t *p, size_t i, size_t n)
{
    for (;;) {
        while (n - i >= 8) { /* two words per step: less loop overhead */
            uint32_t a, b;
            memcpy(&a, p + i, sizeof(a)); /* one load; unaligned is fine */
            memcpy(&b, p + i + 4, sizeof(b));
            if ((((a - 0x0E0E0E0Eu) & ~a) | ((b - 0x0E0E0E0Eu) & ~b)) & 0x80808080u)
                break;
            i += 8;
        }
        while (n - i >= 4) {
            uint32_t w;
            memcpy(&w, p + i, sizeof(w));
            if (((w - 0x0E0E0E0Eu) & ~w & 0x80808080u) != 0)
                break;
            i += 4;
        }
        size_t end = n - i >= 4 ? i + 4 : n;
        for (; i < end; i++) {
            if (p[i] == '\r' || p[i] == '\n')
                return i;
        }
        if (i == n)
            return n;
    }
}

/* Text in the middle of a line: find the next CR or LF and pass everything
 * before it in one go.  Returns bytes consumed from p (>= 1), with the same
 * effect as the per-byte ST_TEXT path. */
static size_t text_run(smtp_data_t *d, const uint8_t *p, size_t n)
{
    size_t run = scan_eol(p, 0, n);
    size_t ok = run;
    if (!(d->flags & F_LONG_LINE)) {
        size_t room = d->line_len >= SMTP_DATA_LINE_MAX ? 0 : SMTP_DATA_LINE_MAX - d->line_len;
        if (ok > room)
            ok = room;
    }
    emit_run(d, p, ok);
    d->line_len = sat_add16(d->line_len, ok);
    if (ok < run) {
        /* RFC 5321 4.5.3.1.6: the byte that makes the line longer than 1000. */
        if (d->line_len < UINT16_MAX)
            d->line_len++;
        set_flag(d, F_LONG_LINE);
        emit_run(d, p + ok, 1);
        size_t rest = run - ok - 1;
        emit_run(d, p + ok + 1, rest);
        d->line_len = sat_add16(d->line_len, rest);
    }
    return run;
}

/* The common case, many good lines in one go: text, CRLF, and a next line
 * that starts with neither '.' nor CR nor LF.  Their output is the input
 * itself, so one emit_run() covers them all and the CRLFs cost no emit of
 * their own.  From state ST_BOL or ST_TEXT at p[i]; returns where it
 * stopped, at anything else (a line-start dot, a bare CR or LF, a CR at the
 * end of the input, a line that would be too long), with d->state and
 * d->line_len as the per-byte path would have left them there, so that path
 * takes over with the same result and the same sunk bytes. */
static size_t clean_lines(smtp_data_t *d, const uint8_t *p, size_t i, size_t n)
{
    const size_t start = i;
    size_t len = d->line_len;
    uint8_t st = d->state;

    while (i < n) {
        if (st == ST_BOL) {
            uint8_t c = p[i];
            if (c == '.' || c == '\r' || c == '\n')
                break;
            st = ST_TEXT; /* c is text: the scan below counts it */
        }
        size_t k = scan_eol(p, i, n);
        size_t t = k - i;
        if (len + t > SMTP_DATA_LINE_MAX)
            break; /* too long: text_run() flags it at the right octet */
        if (k + 1 < n && p[k] == '\r' && p[k + 1] == '\n' &&
            len + t + 2 <= SMTP_DATA_LINE_MAX) {
            i = k + 2;
            len = 0;
            st = ST_BOL;
            continue;
        }
        /* The text is good; what ends it is for the per-byte path. */
        i = k;
        len += t;
        break;
    }
    emit_run(d, p + start, i - start);
    d->line_len = (uint16_t)len;
    d->state = st;
    return i;
}

size_t smtp_data_push(smtp_data_t *d, const uint8_t *p, size_t n)
{
    size_t i;

    if (d->state == ST_DONE)
        return 0;

    for (i = 0; i < n && d->state != ST_DONE; i++) {
        if (d->state == ST_BOL || d->state == ST_TEXT) {
            i = clean_lines(d, p, i, n);
            if (i == n)
                break;
        }
        const uint8_t c = p[i];

        if (d->state == ST_TEXT && c != '\r' && c != '\n') {
            i += text_run(d, p + i, n - i) - 1;
            continue;
        }

        /* RFC 5321 4.5.3.1.6: 1000 octets per line including the CRLF,
         * "not counting the leading dot duplicated for transparency"; the
         * ST_BOL case below takes that dot back out of the count. */
        if (d->line_len < UINT16_MAX)
            d->line_len++;
        if (d->line_len > SMTP_DATA_LINE_MAX && !(d->flags & F_LONG_LINE))
            set_flag(d, F_LONG_LINE);

        switch (d->state) {
        case ST_BOL:
            if (c == '.') {
                /* Either the transparency dot (dropped, so not counted) or
                 * the terminator, whose length does not matter. */
                d->line_len--;
                d->state = ST_DOT;
            } else if (c == '\r') {
                d->state = ST_CR;
            } else if (c == '\n') {
                /* Bare LF: bad, and NOT a line end, so a following "." can
                 * never be taken as a terminator (smuggling). */
                set_flag(d, F_BARE_EOL);
                d->state = ST_TEXT;
            } else {
                emit(d, &p[i]);
                d->state = ST_TEXT;
            }
            break;

        case ST_TEXT: /* only CR or LF get here: text_run() took the rest */
            if (c == '\r') {
                d->state = ST_CR;
            } else {
                set_flag(d, F_BARE_EOL);
            }
            break;

        case ST_CR:
            if (c == '\n') {
                /* The CR is the previous input byte, or was held over from
                 * the previous push (then emit from a constant). */
                emit(d, i > 0 ? &p[i - 1] : &k_cr);
                emit(d, &p[i]);
                d->line_len = 0;
                d->state = ST_BOL;
            } else if (c == '\r') {
                set_flag(d, F_BARE_EOL); /* the previous CR was bare */
            } else {
                set_flag(d, F_BARE_EOL);
                d->state = ST_TEXT;
            }
            break;

        case ST_DOT:
            if (c == '\r') {
                d->state = ST_DOTCR;
            } else if (c == '\n') {
                /* "<CRLF>.<LF>": not a terminator. */
                set_flag(d, F_BARE_EOL);
                d->state = ST_TEXT;
            } else {
                /* RFC 5321 4.5.2: drop the first '.' of a line that has more
                 * characters. */
                emit(d, &p[i]);
                d->state = ST_TEXT;
            }
            break;

        case ST_DOTCR:
            if (c == '\n') {
                d->state = ST_DONE; /* <CRLF>.<CRLF> */
            } else if (c == '\r') {
                /* "<CRLF>.<CR>" followed by CR: the first CR is bare. */
                set_flag(d, F_BARE_EOL);
                d->state = ST_CR;
            } else {
                set_flag(d, F_BARE_EOL);
                d->state = ST_TEXT;
            }
            break;

        default:
            break;
        }
    }
    flush_span(d);
    return i;
}

bool smtp_data_done(const smtp_data_t *d)
{
    return d->state == ST_DONE;
}

int smtp_data_result(const smtp_data_t *d)
{
    if (d->flags & F_BARE_EOL)
        return SMTP_DATA_ERR_BARE_EOL;
    if (d->flags & F_LONG_LINE)
        return SMTP_DATA_ERR_LONG_LINE;
    if (d->flags & F_TOO_BIG)
        return SMTP_DATA_ERR_TOO_BIG;
    if (d->flags & F_SINK)
        return SMTP_DATA_ERR_SINK;
    return SMTP_DATA_OK;
}

uint32_t smtp_data_size(const smtp_data_t *d)
{
    return d->size;
}

int smtp_data_sink_err(const smtp_data_t *d)
{
    return d->sink_err;
}
