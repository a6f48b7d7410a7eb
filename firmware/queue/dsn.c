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
    static const char wd[7][4] = { "Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed" };
    static const char mn[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
    if (!buf || size < 32)
        return DSN_ERR_ARG;
    uint64_t days = unix_s / 86400u;
    uint32_t sod = (uint32_t)(unix_s % 86400u);
    /* civil-from-days (proleptic Gregorian), era-based so no table is needed */
    uint64_t z = days + 719468u;
    uint64_t era = z / 146097u;
    uint32_t doe = (uint32_t)(z - era * 146097u);
    uint32_t yoe = (doe - doe / 1460u + doe / 36524u - doe / 146096u) / 365u;
    uint64_t y = (uint64_t)yoe + era * 400u;
    uint32_t doy = doe - (365u * yoe + yoe / 4u - yoe / 100u);
    uint32_t mp = (5u * doy + 2u) / 153u;
    uint32_t d = doy - (153u * mp + 2u) / 5u + 1u;
    uint32_t m = mp < 10u ? mp + 3u : mp - 9u;
    if (m <= 2u)
        y++;
    return fmt_snprintf(buf, size, "%s, %02u %s %04u %02u:%02u:%02u +0000",
                        wd[days % 7u], (unsigned)d, mn[m - 1u], (unsigned)(y % 10000u),
                        (unsigned)(sod / 3600u), (unsigned)(sod / 60u % 60u),
                        (unsigned)(sod % 60u));
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
    if (r->expired)
        s = "4.4.7";  /* RFC 3463 3.5: delivery time expired */
    else if (enh_valid(r->enh) && r->enh[0] == '5')
        s = r->enh;
    else
        s = "5.0.0";  /* RFC 3463 3.1: undefined permanent failure */
    return fmt_snprintf(buf, size, "%s", s);
}

/* ---- original headers -------------------------------------------------- */

typedef void (*line_fn)(void *ctx, size_t len);  /* line is in s_line */

/* Walk the original header section line by line into s_line: CR dropped,
 * LF ends a line, stop at the empty line / end / DSN_MAX_HEADERS bytes
 * (RFC 3462: the headers part may be truncated).  Lines longer than the
 * limit are folded with a leading SP so they stay one header field. */
static int header_lines(const dsn_source_t *src, line_fn fn, void *ctx)
{
    uint8_t chunk[READ_CHUNK];
    uint32_t off = 0;
    size_t len = 0;
    int folded = 0;
    while (off < DSN_MAX_HEADERS) {
        size_t want = sizeof chunk;
        if (want > DSN_MAX_HEADERS - off)
            want = DSN_MAX_HEADERS - off;
        int n = src->read(src->ctx, off, chunk, want);
        if (n < 0)
            return n;
        if (n == 0)
            break;
        for (int i = 0; i < n; i++) {
            char c = (char)chunk[i];
            if (c == '\r')
                continue;
            if (c == '\n') {
                if (len == 0 && !folded)
                    return 0;  /* end of header section */
                fn(ctx, len);
                len = 0;
                folded = 0;
                continue;
            }
            if (len >= DSN_LINE_MAX - 1) {
                fn(ctx, len);
                s_line[0] = ' ';
                len = 1;
                folded = 1;
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

/* ---- main ------------------------------------------------------------- */

static void rcpt_reason(out_t *o, const dsn_rcpt_t *r)
{
    const char *text = nz(r->text);
    const char *enh = enh_valid(r->enh) ? r->enh : "";
    const char *sp = enh[0] ? " " : "";
    if (r->expired && r->code)
        emit_line(o, "<%s>: delivery time expired (last reply: %u %s%s%s)", r->address,
                  (unsigned)r->code, enh, sp, text);
    else if (r->expired)
        emit_line(o, "<%s>: delivery time expired%s%s", r->address, text[0] ? ": " : "", text);
    else if (r->code)
        emit_line(o, "<%s>: %u %s%s%s", r->address, (unsigned)r->code, enh, sp, text);
    else
        emit_line(o, "<%s>: %s", r->address, text[0] ? text : "delivery failed");
}

int dsn_write(const dsn_env_t *env, const dsn_source_t *src, dsn_write_fn write, void *wctx)
{
    static const dsn_env_t def_env = { NULL, NULL, NULL };
    if (!src || !write || !src->rcpt || !src->read || !src->sender)
        return DSN_ERR_ARG;
    if (!env)
        env = &def_env;
    const char *host = env->hostname && env->hostname[0] ? env->hostname : "localhost";
    out_t o = { write, wctx, 0, 0 };
    char now[DATE_SIZE], arr[DATE_SIZE], when[DATE_SIZE];
    format_date(env, src->now, now);
    format_date(env, src->arrival, arr);

    /* A boundary that no returned header line starts with (RFC 2046 5.1.1). */
    char boundary[BOUNDARY_SIZE];
    char delim[BOUNDARY_SIZE + 2];
    int with_headers = 0;
    for (unsigned salt = 0; salt < BOUNDARY_TRIES; salt++) {
        fmt_snprintf(boundary, sizeof boundary, "=_dsn_%08X_%08X_%u",
                     (unsigned)src->msgid, (unsigned)src->now, salt);
        fmt_snprintf(delim, sizeof delim, "--%s", boundary);
        scan_t sc = { delim, strlen(delim), 0 };
        int rc = header_lines(src, scan_line, &sc);
        if (rc < 0)
            return rc;
        if (!sc.clash) {
            with_headers = 1;
            break;
        }
    }

    /* RFC 3464 2 / RFC 6522: the top-level header of the report */
    emit_line(&o, "From: Mail Delivery System <MAILER-DAEMON@%s>", host);
    emit_line(&o, "To: <%s>", src->sender);
    emit_line(&o, "Subject: Undelivered Mail Returned to Sender");
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
    emit_line(&o, "Your message (queue id %08X, received %s)", (unsigned)src->msgid, arr);
    emit_line(&o, "could not be delivered to the following recipients:");
    emit_line(&o, "%s", "");
    dsn_rcpt_t r;
    for (uint16_t i = 0; i < src->nrcpt && !o.err; i++) {
        memset(&r, 0, sizeof r);
        int rc = src->rcpt(src->ctx, i, &r);
        if (rc < 0)
            return rc;
        if (rc > 0 && r.address)
            rcpt_reason(&o, &r);
    }
    emit_line(&o, "%s", "");

    /* part 2: RFC 3464 2.2 per-message fields, 2.3 per-recipient groups */
    emit_line(&o, "--%s", boundary);
    emit_line(&o, "Content-Type: message/delivery-status");
    emit_line(&o, "Content-Description: Delivery report");
    emit_line(&o, "%s", "");
    emit_line(&o, "Reporting-MTA: dns; %s", host);
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
        emit_line(&o, "Final-Recipient: rfc822; %s", r.address);
        emit_line(&o, "Action: failed");
        emit_line(&o, "Status: %s", status);
        if (r.code) {
            const char *enh = enh_valid(r.enh) ? r.enh : "";
            const char *text = nz(r.text);
            emit_line(&o, "Diagnostic-Code: smtp; %u%s%s%s%s", (unsigned)r.code,
                      enh[0] ? " " : "", enh, text[0] ? " " : "", text);
        }
        if (r.last_attempt) {
            format_date(env, r.last_attempt, when);
            emit_line(&o, "Last-Attempt-Date: %s", when);
        }
    }
    emit_line(&o, "%s", "");

    /* part 3: the original header (RFC 3462 / RFC 6522 text/rfc822-headers) */
    if (with_headers) {
        emit_line(&o, "--%s", boundary);
        emit_line(&o, "Content-Type: text/rfc822-headers");
        emit_line(&o, "Content-Description: Undelivered message headers");
        emit_line(&o, "%s", "");
        if (!o.err) {
            int rc = header_lines(src, copy_line, &o);
            if (rc < 0)
                return rc;
        }
        emit_line(&o, "%s", "");
    }
    emit_line(&o, "--%s--", boundary);
    return o.err ? o.err : o.total;
}

/* ---- size bound --------------------------------------------------------- */

#define LIT(s) ((uint64_t)sizeof(s) - 1u)   /* the fixed text of a line */

/* One output line carrying n octets: cut at the line limit, plus CRLF. */
static uint64_t bound_line(uint64_t n)
{
    return (n > DSN_LINE_MAX ? DSN_LINE_MAX : n) + 2u;
}

/* Mirrors dsn_write() line by line with every field at its longest. */
uint32_t dsn_size_bound(size_t host_len, size_t sender_len, uint16_t nfailed, size_t addr_max,
                        size_t text_max)
{
    const uint64_t h = host_len > LIT("localhost") ? host_len : LIT("localhost");
    const uint64_t d = DATE_SIZE - 1u;      /* a date: format_date() caps an app's */
    const uint64_t b = BOUNDARY_SIZE - 1u;  /* the boundary */
    const uint64_t x = 8u;                  /* %08X of a u32 */
    const uint64_t e = 9u;                  /* a valid enhanced code "c.sss.ddd" (enh_valid) */
    const uint64_t c = 5u;                  /* %u of a u16 reply code */
    const uint64_t a = addr_max, t = text_max;
    uint64_t n = 0;

    /* top-level header */
    n += bound_line(LIT("From: Mail Delivery System <MAILER-DAEMON@>") + h);
    n += bound_line(LIT("To: <>") + sender_len);
    n += bound_line(LIT("Subject: Undelivered Mail Returned to Sender"));
    n += bound_line(LIT("Date: ") + d);
    n += bound_line(LIT("Message-ID: <..dsn@>") + x + x + h);
    n += bound_line(LIT("Auto-Submitted: auto-replied"));
    n += bound_line(LIT("MIME-Version: 1.0"));
    n += bound_line(LIT("Content-Type: multipart/report; report-type=delivery-status;"));
    n += bound_line(LIT("\tboundary=\"\"") + b);
    n += 2u * bound_line(0) + bound_line(LIT("This is a MIME-encapsulated message."));
    /* part 1 */
    n += bound_line(2u + b);
    n += bound_line(LIT("Content-Type: text/plain; charset=us-ascii"));
    n += bound_line(LIT("Content-Description: Notification"));
    n += 4u * bound_line(0);
    n += bound_line(LIT("This is the mail system at host .") + h);
    n += bound_line(LIT("Your message (queue id , received )") + x + d);
    n += bound_line(LIT("could not be delivered to the following recipients:"));
    /* the longest of rcpt_reason()'s forms */
    n += nfailed * bound_line(LIT("<>: delivery time expired (last reply:  )") + a + c + e + 1u + t);
    /* part 2 */
    n += bound_line(2u + b);
    n += bound_line(LIT("Content-Type: message/delivery-status"));
    n += bound_line(LIT("Content-Description: Delivery report"));
    n += 2u * bound_line(0);
    n += bound_line(LIT("Reporting-MTA: dns; ") + h);
    n += bound_line(LIT("Arrival-Date: ") + d);
    n += nfailed * (bound_line(0) + bound_line(LIT("Final-Recipient: rfc822; ") + a) +
                    bound_line(LIT("Action: failed")) + bound_line(LIT("Status: ") + e) +
                    bound_line(LIT("Diagnostic-Code: smtp; ") + c + 1u + e + 1u + t) +
                    bound_line(LIT("Last-Attempt-Date: ") + d));
    /* part 3: header_lines() reads at most DSN_MAX_HEADERS bytes; a line
     * out is at most twice the bytes in (a one-octet line and its LF, or a
     * fold's SP), plus the CRLF of a last line without LF */
    n += bound_line(2u + b);
    n += bound_line(LIT("Content-Type: text/rfc822-headers"));
    n += bound_line(LIT("Content-Description: Undelivered message headers"));
    n += 2u * bound_line(0) + 2u * (uint64_t)DSN_MAX_HEADERS + 2u;
    n += bound_line(2u + b + 2u);
    return n > 0xFFFFFFFFu ? 0xFFFFFFFFu : (uint32_t)n;
}
