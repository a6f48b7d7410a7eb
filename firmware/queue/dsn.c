/*
 * dsn.c - RFC 3464 delivery status notification builder.
 *
 * Everything is streamed line by line through one static line buffer, so
 * the DSN size is not bounded by RAM.  All output goes through emit_line(),
 * which forces 7-bit printable text, the RFC 5322 2.1.1 line limit and CRLF.
 */
#include "queue/dsn.h"

#include <stdarg.h>
#include <string.h>

#include "lib/date.h"
#include "lib/fmt.h"

#define DATE_SIZE     64   /* RFC 5322 date-time is ~31 chars; room for an app format */
#define BOUNDARY_SIZE 48
#define READ_CHUNK    64   /* bytes per read() call while scanning original headers */
#define BOUNDARY_TRIES 8   /* salts tried before giving up on returning headers */

typedef struct {
    dsn_write_fn fn;
    void        *ctx;
    int          total;
    int          err;
} out_t;

/* One output line (+ CRLF); static: a DSN is built to completion in one call. */
static char s_line[DSN_LINE_MAX + 3];

static void out_raw(out_t *o, const char *data, size_t len)
{
    if (o->err || len == 0)
        return;
    int rc = o->fn(o->ctx, data, len);
    if (rc < 0) {
        o->err = rc;
        return;
    }
    o->total += (int)len;
}

/* Emit s_line[0..len) as one line: 8-bit and control octets (bar TAB)
 * become '?' so the DSN stays 7-bit (RFC 6522 parts are us-ascii) and
 * injected CR/LF cannot forge header or MIME structure. */
static void out_line_buf(out_t *o, size_t len)
{
    if (len > DSN_LINE_MAX)
        len = DSN_LINE_MAX;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s_line[i];
        if ((c < 0x20 && c != '\t') || c >= 0x7F)
            s_line[i] = '?';
    }
    s_line[len] = '\r';
    s_line[len + 1] = '\n';
    out_raw(o, s_line, len + 2);
}

static void emit_line(out_t *o, const char *fmt, ...) FMT_PRINTF(2, 3);
static void emit_line(out_t *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = fmt_vsnprintf(s_line, DSN_LINE_MAX + 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    out_line_buf(o, (size_t)n > DSN_LINE_MAX ? DSN_LINE_MAX : (size_t)n);
}

static const char *nz(const char *s)
{
    return s ? s : "";
}

/* ---- dates ------------------------------------------------------------ */

int dsn_format_date(uint64_t unix_s, char *buf, size_t size)
{
    /* lib/date covers u32 Unix time (to 2106), all any caller has. */
    if (!buf || size < 32 || unix_s > UINT32_MAX)
        return DSN_ERR_ARG;
    date_tm_t t;
    date_from_unix((uint32_t)unix_s, &t);
    return fmt_snprintf(buf, size, "%s, %02u %s %04d %02u:%02u:%02u +0000",
                        date_wday_name(t.wday), t.mday, date_month_name(t.mon), t.year,
                        t.hour, t.min, t.sec);
}

static void format_date(const dsn_env_t *env, uint32_t t, char *buf)
{
    int n = -1;
    if (env->date)
        n = env->date(env->ctx, t, buf, DATE_SIZE);
    if (n <= 0 || n >= DATE_SIZE)
        dsn_format_date(t, buf, DATE_SIZE);
}

/* ---- status ----------------------------------------------------------- */

/* RFC 3463 2: class "." subject "." detail, subject/detail 1-3 digits. */
static int enh_valid(const char *e)
{
    if (!e || (e[0] != '2' && e[0] != '4' && e[0] != '5') || e[1] != '.')
        return 0;
    const char *p = e + 2;
    for (int part = 0; part < 2; part++) {
        int n = 0;
        while (*p >= '0' && *p <= '9') {
            p++;
            n++;
        }
        if (n < 1 || n > 3)
            return 0;
        if (part == 0 && *p++ != '.')
            return 0;
    }
    return *p == '\0';
}

int dsn_status(const dsn_rcpt_t *r, char *buf, size_t size)
{
    const char *s;
    char cls = r->action == DSN_ACTION_DELAYED ? '4'
             : (r->action == DSN_ACTION_RELAYED || r->action == DSN_ACTION_DELIVERED) ? '2' : '5';
    if (cls == '5' && r->expired)
        s = "4.4.7";  /* RFC 3463 3.5: delivery time expired */
    else if (enh_valid(r->enh) && r->enh[0] == cls)
        s = r->enh;
    else if (cls == '4')
        s = "4.0.0";  /* RFC 3463 3.1: undefined transient condition */
    else if (cls == '2')
        s = "2.0.0";  /* RFC 3463 3.1: success */
    else
        s = "5.0.0";  /* RFC 3463 3.1: undefined permanent failure */
    return fmt_snprintf(buf, size, "%s", s);
}

static const char *action_name(uint8_t a)
{
    switch (a) {
    case DSN_ACTION_DELAYED:   return "delayed";
    case DSN_ACTION_RELAYED:   return "relayed";
    case DSN_ACTION_DELIVERED: return "delivered";
    default:                   return "failed";
    }
}

/* ---- xtext -------------------------------------------------------------- */

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;  /* RFC 3461 4: xtext hex digits are upper case */
}

size_t dsn_xtext_decode(const char *src, size_t len, char *dst, size_t size)
{
    size_t n = 0;
    if (!dst || size == 0)
        return 0;
    for (size_t i = 0; i < len && n + 1 < size; i++) {
        char c = src[i];
        if (c == '+' && i + 2 < len && hexval(src[i + 1]) >= 0 && hexval(src[i + 2]) >= 0) {
            c = (char)(hexval(src[i + 1]) * 16 + hexval(src[i + 2]));
            i += 2;
        }
        dst[n++] = c;
    }
    dst[n] = '\0';
    return n;
}

/* ---- original message ---------------------------------------------------- */

typedef void (*line_fn)(void *ctx, size_t len);  /* line is in s_line */

/* Walk the original message line by line into s_line: CR dropped, LF ends
 * a line.  headers: stop at the empty line / end / DSN_MAX_HEADERS bytes
 * (RFC 3462: the headers part may be truncated), and fold lines longer than
 * the limit with a leading SP so they stay one header field; else the
 * whole message (the caller checked its size), long lines split.  *eight
 * (may be NULL) is set when an octet >= 0x80 or NUL is seen. */
static int msg_lines(const dsn_source_t *src, int headers, line_fn fn, void *ctx, int *eight)
{
    uint8_t chunk[READ_CHUNK];
    uint32_t off = 0;
    uint32_t limit = headers ? DSN_MAX_HEADERS : DSN_MAX_RETURN;
    size_t len = 0;
    int folded = 0;
    while (off < limit) {
        size_t want = sizeof chunk;
        if (want > limit - off)
            want = limit - off;
        int n = src->read(src->ctx, off, chunk, want);
        if (n < 0)
            return n;
        if (n == 0)
            break;
        for (int i = 0; i < n; i++) {
            char c = (char)chunk[i];
            if (eight && (chunk[i] >= 0x80u || chunk[i] == 0))
                *eight = 1;
            if (c == '\r')
                continue;
            if (c == '\n') {
                if (headers && len == 0 && !folded)
                    return 0;  /* end of header section */
                fn(ctx, len);
                len = 0;
                folded = 0;
                continue;
            }
            if (len >= DSN_LINE_MAX - 1) {
                fn(ctx, len);
                len = 0;
                if (headers) {
                    s_line[0] = ' ';
                    len = 1;
                    folded = 1;
                }
            }
            s_line[len++] = c;
        }
        off += (uint32_t)n;
    }
    if (len > 0)
        fn(ctx, len);
    return 0;
}

typedef struct {
    const char *delim;  /* "--" boundary */
    size_t      dlen;
    int         clash;
} scan_t;

static void scan_line(void *ctx, size_t len)
{
    scan_t *sc = ctx;
    /* RFC 2046 5.1.1: only a line starting with "--" boundary delimits */
    if (len >= sc->dlen && memcmp(s_line, sc->delim, sc->dlen) == 0)
        sc->clash = 1;
}

static void copy_line(void *ctx, size_t len)
{
    out_line_buf(ctx, len);
}

/* ---- fields ------------------------------------------------------------- */

/* The field start already in s_line[0..len), then " value", folded at
 * spaces so lines stay within 78 octets where the value allows (RFC 5322
 * 2.1.1, 2.2.3); never cut. */
#define FOLD_AT 78
static void emit_folded(out_t *o, size_t len, const char *value)
{
    const char *v = value;
    int sep = 1;  /* a space between the field start and the value */
    while (*v) {
        /* next word with the spaces before it: a fold goes before them, so
         * unfolding (removing CRLF only) gives the text back unchanged */
        const char *w = v;
        while (*w == ' ')
            w++;
        const char *e = w;
        while (*e && *e != ' ')
            e++;
        size_t wl = (size_t)(e - v) + (size_t)sep;
        if (len + wl > FOLD_AT && len > 1 && (w != v || sep)) {
            out_line_buf(o, len);
            len = 0;
        }
        if (sep)
            s_line[len++] = ' ';
        sep = 0;
        for (const char *k = v; k < e; k++) {
            if (len >= DSN_LINE_MAX) {  /* a word longer than a line: split hard */
                out_line_buf(o, len);
                s_line[0] = ' ';
                len = 1;
            }
            s_line[len++] = *k;
        }
        v = e;
    }
    out_line_buf(o, len);
}

/* ---- main ------------------------------------------------------------- */

static void rcpt_reason(out_t *o, const dsn_rcpt_t *r)
{
    const char *text = nz(r->text);
    const char *enh = enh_valid(r->enh) ? r->enh : "";
    const char *sp = enh[0] ? " " : "";
    if (r->action == DSN_ACTION_FAILED && r->expired && r->code)
        emit_line(o, "<%s>: delivery time expired (last reply: %u %s%s%s)", r->address,
                  (unsigned)r->code, enh, sp, text);
    else if (r->action == DSN_ACTION_FAILED && r->expired)
        emit_line(o, "<%s>: delivery time expired%s%s", r->address, text[0] ? ": " : "", text);
    else if (r->code)
        emit_line(o, "<%s>: %u %s%s%s", r->address, (unsigned)r->code, enh, sp, text);
    else if (r->action == DSN_ACTION_FAILED)
        emit_line(o, "<%s>: %s", r->address, text[0] ? text : "delivery failed");
    else
        emit_line(o, "<%s>%s%s", r->address, text[0] ? ": " : "", text);
}

static const char *const s_intro[4] = {
    [DSN_ACTION_FAILED] = "could not be delivered to the following recipients:",
    [DSN_ACTION_DELAYED] = "has not yet been delivered to the following recipients; it stays queued "
                           "and will be retried:",
    [DSN_ACTION_RELAYED] = "was relayed to a system that does not send delivery reports (RFC 3461) "
                           "for the following recipients; no further notice will follow:",
    [DSN_ACTION_DELIVERED] = "was delivered to the following recipients:",
};

int dsn_write(const dsn_env_t *env, const dsn_source_t *src, dsn_write_fn write, void *wctx)
{
    static const dsn_env_t def_env = { NULL, NULL, NULL, NULL, NULL };
    if (!src || !write || !src->rcpt || !src->read || !src->sender)
        return DSN_ERR_ARG;
    if (!env)
        env = &def_env;
    const char *host = NULL;
    if (env->netif_host)
        host = env->netif_host(env->ctx, src->src_netif);
    if (!host || !host[0])
        host = env->hostname && env->hostname[0] ? env->hostname : "localhost";
    int dated = env->clock_set ? env->clock_set(env->ctx) != 0 : 1;
    out_t o = { write, wctx, 0, 0 };
    char now[DATE_SIZE], arr[DATE_SIZE], when[DATE_SIZE];
    format_date(env, src->now, now);
    format_date(env, src->arrival, arr);

    /* what is reported: counts per action (subject, text part, RET) */
    unsigned count[4] = { 0, 0, 0, 0 };
    dsn_rcpt_t r;
    for (uint16_t i = 0; i < src->nrcpt; i++) {
        memset(&r, 0, sizeof r);
        int rc = src->rcpt(src->ctx, i, &r);
        if (rc < 0)
            return rc;
        if (rc > 0 && r.address)
            count[r.action & 3u]++;
    }

    /* RFC 3461 4.3: RET=FULL returns the message with a failure report,
     * if it is small enough and 7-bit (the report is us-ascii) */
    int full = src->ret == DSN_RET_FULL && count[DSN_ACTION_FAILED] > 0;
    int full_refused = 0;
    if (full && src->size > DSN_MAX_RETURN) {
        full = 0;
        full_refused = 1;
    }

    /* A boundary that no returned line starts with (RFC 2046 5.1.1). */
    char boundary[BOUNDARY_SIZE];
    char delim[BOUNDARY_SIZE + 2];
    int with_part3 = 0;
    for (unsigned salt = 0; salt < BOUNDARY_TRIES; salt++) {
        fmt_snprintf(boundary, sizeof boundary, "=_dsn_%08X_%08X_%u",
                     (unsigned)src->msgid, (unsigned)src->now, salt);
        fmt_snprintf(delim, sizeof delim, "--%s", boundary);
        scan_t sc = { delim, strlen(delim), 0 };
        int eight = 0;
        int rc = msg_lines(src, !full, scan_line, &sc, full ? &eight : NULL);
        if (rc < 0)
            return rc;
        if (full && eight) {
            /* 8-bit: cannot go whole into a 7-bit report; headers only,
             * scanned again with the same salt */
            full = 0;
            full_refused = 2;
            sc.clash = 0;
            rc = msg_lines(src, 1, scan_line, &sc, NULL);
            if (rc < 0)
                return rc;
        }
        if (!sc.clash) {
            with_part3 = 1;
            break;
        }
    }

    const char *subject = count[DSN_ACTION_FAILED] ? "Undelivered Mail Returned to Sender"
                        : count[DSN_ACTION_DELAYED] ? "Delayed Mail (still being retried)"
                        : "Successful Mail Delivery Report";
    /* RFC 3464 2 / RFC 6522: the top-level header of the report */
    emit_line(&o, "From: Mail Delivery System <MAILER-DAEMON@%s>", host);
    emit_line(&o, "To: <%s>", src->sender);
    emit_line(&o, "Subject: %s", subject);
    emit_line(&o, "Date: %s", now);
    emit_line(&o, "Message-ID: <%08X.%08X.dsn@%s>", (unsigned)src->msgid, (unsigned)src->now, host);
    /* RFC 3834 5: machine-generated reply, must not trigger auto-responders */
    emit_line(&o, "Auto-Submitted: auto-replied");
    emit_line(&o, "MIME-Version: 1.0");
    emit_line(&o, "Content-Type: multipart/report; report-type=delivery-status;");
    emit_line(&o, "\tboundary=\"%s\"", boundary);
    emit_line(&o, "%s", "");
    emit_line(&o, "This is a MIME-encapsulated message.");
    emit_line(&o, "%s", "");

    /* part 1: human readable (RFC 6522 3) */
    emit_line(&o, "--%s", boundary);
    emit_line(&o, "Content-Type: text/plain; charset=us-ascii");
    emit_line(&o, "Content-Description: Notification");
    emit_line(&o, "%s", "");
    emit_line(&o, "This is the mail system at host %s.", host);
    emit_line(&o, "%s", "");
    if (dated)
        emit_line(&o, "Your message (queue id %08X, received %s)", (unsigned)src->msgid, arr);
    else
        emit_line(&o, "Your message (queue id %08X)", (unsigned)src->msgid);
    int first = 1;
    for (uint8_t a = 0; a < 4; a++) {
        if (!count[a])
            continue;
        if (!first) {
            emit_line(&o, "%s", "");
            emit_line(&o, "It also");
        }
        first = 0;
        emit_line(&o, "%s", s_intro[a]);
        emit_line(&o, "%s", "");
        for (uint16_t i = 0; i < src->nrcpt && !o.err; i++) {
            memset(&r, 0, sizeof r);
            int rc = src->rcpt(src->ctx, i, &r);
            if (rc < 0)
                return rc;
            if (rc > 0 && r.address && (r.action & 3u) == a)
                rcpt_reason(&o, &r);
        }
    }
    emit_line(&o, "%s", "");
    if (!dated) {
        /* never print a wrong date as fact */
        emit_line(&o, "This system's clock has not been set: the Date of this report is an");
        emit_line(&o, "estimate, and the arrival and attempt dates are left out.");
        emit_line(&o, "%s", "");
    }
    if (full_refused == 1)
        emit_line(&o, "The message is larger than %u bytes: only its header is returned.",
                  (unsigned)DSN_MAX_RETURN);
    else if (full_refused == 2)
        emit_line(&o, "The message is not 7-bit text: only its header is returned.");
    if (full_refused)
        emit_line(&o, "%s", "");

    /* part 2: RFC 3464 2.2 per-message fields, 2.3 per-recipient groups */
    emit_line(&o, "--%s", boundary);
    emit_line(&o, "Content-Type: message/delivery-status");
    emit_line(&o, "Content-Description: Delivery report");
    emit_line(&o, "%s", "");
    if (src->envid && src->envid[0]) {
        /* 2.2.1, xtext-decoded (RFC 3461 4.4) */
        size_t n = (size_t)fmt_snprintf(s_line, DSN_LINE_MAX + 1, "Original-Envelope-Id: ");
        n += dsn_xtext_decode(src->envid, strlen(src->envid), s_line + n, DSN_LINE_MAX + 1 - n);
        out_line_buf(&o, n);
    }
    emit_line(&o, "Reporting-MTA: dns; %s", host);
    if (dated)
        emit_line(&o, "Arrival-Date: %s", arr);
    for (uint16_t i = 0; i < src->nrcpt && !o.err; i++) {
        memset(&r, 0, sizeof r);
        int rc = src->rcpt(src->ctx, i, &r);
        if (rc < 0)
            return rc;
        if (rc == 0 || !r.address)
            continue;
        char status[16];
        dsn_status(&r, status, sizeof status);
        emit_line(&o, "%s", "");
        const char *semi = r.orcpt ? strchr(r.orcpt, ';') : NULL;
        if (semi && semi != r.orcpt && semi - r.orcpt < 64) {
            /* 2.3.1: addr-type as given, the address xtext-decoded */
            size_t n = (size_t)fmt_snprintf(s_line, DSN_LINE_MAX + 1, "Original-Recipient: %.*s; ",
                                            (int)(semi - r.orcpt), r.orcpt);
            n += dsn_xtext_decode(semi + 1, strlen(semi + 1), s_line + n, DSN_LINE_MAX + 1 - n);
            out_line_buf(&o, n);
        }
        emit_line(&o, "Final-Recipient: rfc822; %s", r.address);
        emit_line(&o, "Action: %s", action_name(r.action));
        emit_line(&o, "Status: %s", status);
        if (r.remote && r.remote[0])
            emit_line(&o, "Remote-MTA: dns; %s", r.remote);  /* 2.3.5 */
        if (r.code) {
            const char *enh = enh_valid(r.enh) ? r.enh : "";
            /* 2.3.6: the peer's reply whole, folded */
            size_t n = (size_t)fmt_snprintf(s_line, DSN_LINE_MAX + 1, "Diagnostic-Code: smtp; %u%s%s",
                                            (unsigned)r.code, enh[0] ? " " : "", enh);
            emit_folded(&o, n, nz(r.text));
        }
        /* a reply means an attempt, even one at clock second 0 (just booted) */
        if ((r.last_attempt || r.code) && dated) {
            format_date(env, r.last_attempt, when);
            emit_line(&o, "Last-Attempt-Date: %s", when);
        }
    }
    emit_line(&o, "%s", "");

    /* part 3: the original header (RFC 3462 text/rfc822-headers) or the
     * whole message (message/rfc822) */
    if (with_part3) {
        emit_line(&o, "--%s", boundary);
        if (full) {
            emit_line(&o, "Content-Type: message/rfc822");
            emit_line(&o, "Content-Description: Undelivered message");
        } else {
            emit_line(&o, "Content-Type: text/rfc822-headers");
            emit_line(&o, "Content-Description: Undelivered message headers");
        }
        emit_line(&o, "%s", "");
        if (!o.err) {
            int rc = msg_lines(src, !full, copy_line, &o, NULL);
            if (rc < 0)
                return rc;
        }
        emit_line(&o, "%s", "");
    }
    emit_line(&o, "--%s--", boundary);
    return o.err ? o.err : o.total;
}

/* Fixed parts: top header (3 hostnames, the sender, boundary), the text
 * part's sentences, per-message fields (ENVID, Reporting-MTA, dates). */
#define BOUND_FIXED   4096u
/* Per recipient: two lines naming it in the text part (address + reply),
 * Original-Recipient (ORCPT 255), Final-Recipient (254), Action, Status,
 * Remote-MTA (63), Diagnostic-Code (reply + folds), Last-Attempt-Date. */
#define BOUND_PER_RCPT 1536u

uint32_t dsn_size_bound(uint16_t nreported)
{
    uint32_t part3 = DSN_MAX_RETURN > DSN_MAX_HEADERS ? DSN_MAX_RETURN : DSN_MAX_HEADERS;
    /* x2: a bare LF becomes CRLF, and long lines get a fold */
    return BOUND_FIXED + (uint32_t)nreported * BOUND_PER_RCPT + 2u * part3;
}
