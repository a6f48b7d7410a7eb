/* unit: firmware/queue/dsn.c firmware/lib/fmt.c */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "queue/dsn.h"

/* ---- fakes ------------------------------------------------------------- */

typedef struct {
    const char *addr, *enh, *text;
    uint16_t code;
    uint8_t failed, expired;
    uint32_t last;
} frcpt_t;

typedef struct {
    const frcpt_t *r;
    uint16_t n;
    const char *msg;
    size_t msglen;
    int read_calls;
    int fail_read;
} fsrc_t;

static int f_rcpt(void *ctx, uint16_t idx, dsn_rcpt_t *out)
{
    fsrc_t *f = ctx;
    assert_true(idx < f->n);
    const frcpt_t *r = &f->r[idx];
    if (!r->failed)
        return 0;
    out->address = r->addr;
    out->enh = r->enh;
    out->text = r->text;
    out->code = r->code;
    out->expired = r->expired;
    out->last_attempt = r->last;
    return 1;
}

static int f_read(void *ctx, uint32_t off, void *buf, size_t len)
{
    fsrc_t *f = ctx;
    f->read_calls++;
    if (f->fail_read)
        return -6;
    if (off >= f->msglen)
        return 0;
    size_t n = f->msglen - off < len ? f->msglen - off : len;
    memcpy(buf, f->msg + off, n);
    return (int)n;
}

static char out[256 * 1024];
static size_t outlen;
static int fail_after = -1;

static int sink(void *ctx, const void *d, size_t n)
{
    (void)ctx;
    if (fail_after >= 0 && (int)(outlen + n) > fail_after)
        return -1;
    assert_true(outlen + n < sizeof out);
    memcpy(out + outlen, d, n);
    outlen += n;
    out[outlen] = '\0';
    return 0;
}

static int setup(void **state)
{
    (void)state;
    outlen = 0;
    out[0] = '\0';
    fail_after = -1;
    return 0;
}

static int test_date(void *ctx, uint32_t t, char *buf, size_t size)
{
    (void)ctx;
    return dsn_format_date(1700000000ull + t, buf, size);
}

static const dsn_env_t env = { "mx.example.net", test_date, NULL };

static const char orig_msg[] =
    "From: Alice <alice@example.com>\r\n"
    "To: bob@example.org, carol@example.org\r\n"
    "Subject: hello\r\n"
    "Message-ID: <123@example.com>\r\n"
    "\r\n"
    "Body line one\r\n"
    "Secret body line\r\n";

static const frcpt_t rcpts3[] = {
    { "bob@example.org", "5.1.1", "User unknown", 550, 1, 0, 100 },
    { "dave@example.org", "", "", 250, 0, 0, 100 },
    { "carol@example.org", "4.7.1", "Greylisted, try later", 451, 1, 1, 4000 },
};

/* ---- output checks ------------------------------------------------------- */

typedef struct {
    const char *p;
    size_t len;
} line_t;

#define MAXLINES 4096
static line_t lines[MAXLINES];
static int nlines;

/* Split out[] into lines; assert CRLF-only, <= 998 octets, 7-bit. */
static void split_lines(void)
{
    nlines = 0;
    size_t start = 0;
    assert_true(outlen >= 2);
    assert_memory_equal(out + outlen - 2, "\r\n", 2);
    for (size_t i = 0; i < outlen; i++) {
        unsigned char c = (unsigned char)out[i];
        assert_true(c < 0x80);
        assert_true(c != 0);
        if (c == '\r') {
            assert_true(i + 1 < outlen);
            assert_int_equal(out[i + 1], '\n');
            assert_true(nlines < MAXLINES);
            lines[nlines].p = out + start;
            lines[nlines].len = i - start;
            assert_true(lines[nlines].len <= 998);
            nlines++;
            i++;
            start = i + 1;
        } else {
            assert_true(c != '\n');
        }
    }
}

static int line_is(int i, const char *s)
{
    return lines[i].len == strlen(s) && memcmp(lines[i].p, s, lines[i].len) == 0;
}

static int line_starts(int i, const char *s)
{
    size_t n = strlen(s);
    return lines[i].len >= n && memcmp(lines[i].p, s, n) == 0;
}

/* Find a header field (unfolded value) in lines [from, to). */
static int find_field(int from, int to, const char *name, char *val, size_t vsize)
{
    size_t n = strlen(name);
    for (int i = from; i < to; i++) {
        if (lines[i].len > n && memcmp(lines[i].p, name, n) == 0 && lines[i].p[n] == ':') {
            size_t v = 0;
            const char *p = lines[i].p + n + 1;
            size_t l = lines[i].len - n - 1;
            while (l && *p == ' ') {
                p++;
                l--;
            }
            for (int j = i;;) {
                assert_true(v + l < vsize);
                memcpy(val + v, p, l);
                v += l;
                j++;
                if (j >= to || lines[j].len == 0 || (lines[j].p[0] != ' ' && lines[j].p[0] != '\t'))
                    break;
                p = lines[j].p;
                l = lines[j].len;
            }
            val[v] = '\0';
            return i;
        }
    }
    return -1;
}

typedef struct {
    int hdr_start, body_start, end;  /* line ranges */
} part_t;

static char boundary[128];
static part_t parts[8];
static int nparts;
static int top_end;  /* index of the blank line ending the top header */

static void parse_mime(void)
{
    split_lines();
    top_end = -1;
    for (int i = 0; i < nlines; i++)
        if (lines[i].len == 0) {
            top_end = i;
            break;
        }
    assert_true(top_end > 0);
    char ct[512];
    assert_true(find_field(0, top_end, "Content-Type", ct, sizeof ct) >= 0);
    assert_non_null(strstr(ct, "multipart/report;"));
    assert_non_null(strstr(ct, "report-type=delivery-status"));
    char *b = strstr(ct, "boundary=\"");
    assert_non_null(b);
    b += 10;
    char *e = strchr(b, '"');
    assert_non_null(e);
    assert_true((size_t)(e - b) < 71);  /* RFC 2046 5.1.1: 1..70 chars */
    memcpy(boundary, b, (size_t)(e - b));
    boundary[e - b] = '\0';

    char delim[140], close[140];
    snprintf(delim, sizeof delim, "--%s", boundary);
    snprintf(close, sizeof close, "--%s--", boundary);
    nparts = 0;
    int closed = -1;
    for (int i = top_end + 1; i < nlines; i++) {
        if (line_is(i, close)) {
            if (nparts)
                parts[nparts - 1].end = i;
            closed = i;
            break;
        }
        if (line_starts(i, delim)) {
            assert_true(line_is(i, delim));
            if (nparts)
                parts[nparts - 1].end = i;
            assert_true(nparts < 8);
            parts[nparts].hdr_start = i + 1;
            parts[nparts].body_start = -1;
            for (int j = i + 1; j < nlines; j++)
                if (lines[j].len == 0) {
                    parts[nparts].body_start = j + 1;
                    break;
                }
            assert_true(parts[nparts].body_start > 0);
            nparts++;
        }
    }
    assert_true(closed > 0);
    assert_int_equal(closed, nlines - 1);  /* nothing after the close delimiter */
}

static int body_has(const part_t *p, const char *s)
{
    for (int i = p->body_start; i < p->end; i++)
        if (line_is(i, s))
            return i;
    return -1;
}

static void run_dsn(fsrc_t *f, uint32_t msgid, const char *sender)
{
    dsn_source_t src = { .msgid = msgid, .sender = sender, .arrival = 50, .now = 5000,
                         .nrcpt = f->n, .rcpt = f_rcpt, .read = f_read, .ctx = f };
    int n = dsn_write(&env, &src, sink, NULL);
    assert_true(n > 0);
    assert_int_equal((size_t)n, outlen);
}

/* ---- tests ---------------------------------------------------------------- */

static void test_structure(void **state)
{
    (void)state;
    fsrc_t f = { rcpts3, 3, orig_msg, sizeof orig_msg - 1, 0, 0 };
    run_dsn(&f, 0x1A2B3C4D, "alice@example.com");
    parse_mime();
    char v[512];
    assert_true(find_field(0, top_end, "From", v, sizeof v) >= 0);
    assert_string_equal(v, "Mail Delivery System <MAILER-DAEMON@mx.example.net>");
    assert_true(find_field(0, top_end, "To", v, sizeof v) >= 0);
    assert_string_equal(v, "<alice@example.com>");
    assert_true(find_field(0, top_end, "Auto-Submitted", v, sizeof v) >= 0);
    assert_string_equal(v, "auto-replied");
    assert_true(find_field(0, top_end, "MIME-Version", v, sizeof v) >= 0);
    assert_string_equal(v, "1.0");
    assert_true(find_field(0, top_end, "Date", v, sizeof v) >= 0);
    assert_string_equal(v, "Tue, 14 Nov 2023 23:36:40 +0000");  /* 1700000000 + 5000 */
    assert_true(find_field(0, top_end, "Message-ID", v, sizeof v) >= 0);
    assert_string_equal(v, "<1A2B3C4D.00001388.dsn@mx.example.net>");
    assert_true(find_field(0, top_end, "Subject", v, sizeof v) >= 0);

    assert_int_equal(nparts, 3);
    /* part 1 */
    assert_true(find_field(parts[0].hdr_start, parts[0].body_start, "Content-Type", v, sizeof v) >= 0);
    assert_string_equal(v, "text/plain; charset=us-ascii");
    assert_true(body_has(&parts[0], "<bob@example.org>: 550 5.1.1 User unknown") > 0);
    assert_true(body_has(&parts[0],
                         "<carol@example.org>: delivery time expired (last reply: 451 4.7.1 Greylisted, try later)") > 0);
    for (int i = parts[0].body_start; i < parts[0].end; i++)
        assert_null(memmem(lines[i].p, lines[i].len, "dave@", 5));
    /* part 2: message/delivery-status */
    assert_true(find_field(parts[1].hdr_start, parts[1].body_start, "Content-Type", v, sizeof v) >= 0);
    assert_string_equal(v, "message/delivery-status");
    int b = parts[1].body_start, e = parts[1].end;
    assert_true(line_is(b, "Reporting-MTA: dns; mx.example.net"));
    assert_true(line_is(b + 1, "Arrival-Date: Tue, 14 Nov 2023 22:14:10 +0000"));
    /* per-recipient groups, each preceded by a blank line (RFC 3464 2.1) */
    assert_true(lines[b + 2].len == 0);
    assert_true(line_is(b + 3, "Final-Recipient: rfc822; bob@example.org"));
    assert_true(line_is(b + 4, "Action: failed"));
    assert_true(line_is(b + 5, "Status: 5.1.1"));
    assert_true(line_is(b + 6, "Diagnostic-Code: smtp; 550 5.1.1 User unknown"));
    assert_true(line_is(b + 7, "Last-Attempt-Date: Tue, 14 Nov 2023 22:15:00 +0000"));
    assert_true(lines[b + 8].len == 0);
    assert_true(line_is(b + 9, "Final-Recipient: rfc822; carol@example.org"));
    assert_true(line_is(b + 10, "Action: failed"));
    assert_true(line_is(b + 11, "Status: 4.4.7"));
    assert_true(line_is(b + 12, "Diagnostic-Code: smtp; 451 4.7.1 Greylisted, try later"));
    assert_true(line_starts(b + 13, "Last-Attempt-Date: "));
    int groups = 0;
    for (int i = b; i < e; i++)
        if (line_starts(i, "Final-Recipient:"))
            groups++;
    assert_int_equal(groups, 2);
    /* part 3: original headers, stop at the blank line */
    assert_true(find_field(parts[2].hdr_start, parts[2].body_start, "Content-Type", v, sizeof v) >= 0);
    assert_string_equal(v, "text/rfc822-headers");
    b = parts[2].body_start;
    assert_true(line_is(b, "From: Alice <alice@example.com>"));
    assert_true(line_is(b + 1, "To: bob@example.org, carol@example.org"));
    assert_true(line_is(b + 2, "Subject: hello"));
    assert_true(line_is(b + 3, "Message-ID: <123@example.com>"));
    assert_null(strstr(out, "Secret body line"));
    assert_null(strstr(out, "Body line one"));
}

static void test_default_env_and_no_diag(void **state)
{
    (void)state;
    static const frcpt_t r[] = { { "x@y.z", NULL, NULL, 0, 1, 0, 0 } };
    fsrc_t f = { r, 1, "", 0, 0, 0 };
    dsn_source_t src = { .msgid = 1, .sender = "s@t", .arrival = 0, .now = 0,
                         .nrcpt = 1, .rcpt = f_rcpt, .read = f_read, .ctx = &f };
    assert_true(dsn_write(NULL, &src, sink, NULL) > 0);
    parse_mime();
    char v[256];
    assert_true(find_field(0, top_end, "From", v, sizeof v) >= 0);
    assert_string_equal(v, "Mail Delivery System <MAILER-DAEMON@localhost>");
    assert_true(find_field(0, top_end, "Date", v, sizeof v) >= 0);
    assert_string_equal(v, "Thu, 01 Jan 1970 00:00:00 +0000");
    assert_int_equal(nparts, 3);
    assert_true(body_has(&parts[1], "Status: 5.0.0") > 0);
    for (int i = parts[1].body_start; i < parts[1].end; i++)
        assert_false(line_starts(i, "Diagnostic-Code:"));
    for (int i = parts[1].body_start; i < parts[1].end; i++)
        assert_false(line_starts(i, "Last-Attempt-Date:"));
    assert_true(body_has(&parts[0], "<x@y.z>: delivery failed") > 0);
    /* empty original: headers part present but empty */
    assert_int_equal(parts[2].body_start, parts[2].end - 1);
}

static void test_header_normalisation(void **state)
{
    (void)state;
    static char msg[8192];
    size_t n = 0;
    /* bare LF, bare CR, 8-bit, a 2500-char header line, then the body */
    const char *h1 = "Subject: caf\xc3\xa9\n";
    memcpy(msg + n, h1, strlen(h1));
    n += strlen(h1);
    const char *h2 = "X-Foo: a\rb\r\n";
    memcpy(msg + n, h2, strlen(h2));
    n += strlen(h2);
    memcpy(msg + n, "X-Long: ", 8);
    n += 8;
    for (int i = 0; i < 2500; i++)
        msg[n++] = (char)('a' + i % 26);
    memcpy(msg + n, "\r\n\r\nbody\r\n", 10);
    n += 10;
    static const frcpt_t r[] = { { "x@y.z", "5.2.2", "mailbox\r\nfull", 552, 1, 0, 7 } };
    fsrc_t f = { r, 1, msg, n, 0, 0 };
    run_dsn(&f, 2, "s@t");
    parse_mime();  /* asserts CRLF only, <= 998, 7-bit */
    assert_int_equal(nparts, 3);
    int b = parts[2].body_start;
    assert_true(line_is(b, "Subject: caf??"));
    assert_true(line_is(b + 1, "X-Foo: ab"));
    assert_true(line_starts(b + 2, "X-Long: abc"));
    /* the long line is folded into continuation lines carrying all chars */
    size_t total = lines[b + 2].len;
    int i = b + 3;
    while (i < parts[2].end && lines[i].len && lines[i].p[0] == ' ') {
        total += lines[i].len - 1;
        i++;
    }
    assert_int_equal(total, 8 + 2500);
    assert_true(i > b + 4);
    /* reply text with CRLF cannot break the structure */
    assert_true(body_has(&parts[1], "Diagnostic-Code: smtp; 552 5.2.2 mailbox??full") > 0);
    assert_null(strstr(out, "body\r\n"));
}

static void test_headers_truncated(void **state)
{
    (void)state;
    static char msg[3 * DSN_MAX_HEADERS];
    size_t n = 0;
    int k = 0;
    while (n + 40 < sizeof msg - 10) {
        n += (size_t)sprintf(msg + n, "X-H%05d: %s\r\n", k++, "0123456789012345678901");
    }
    memcpy(msg + n, "\r\nbody\r\n", 8);
    n += 8;
    static const frcpt_t r[] = { { "x@y.z", "5.1.1", "no", 550, 1, 0, 7 } };
    fsrc_t f = { r, 1, msg, n, 0, 0 };
    run_dsn(&f, 3, "s@t");
    parse_mime();
    size_t bytes = 0;
    for (int i = parts[2].body_start; i < parts[2].end; i++)
        bytes += lines[i].len + 2;
    assert_true(bytes <= DSN_MAX_HEADERS + 4);
    assert_true(bytes > DSN_MAX_HEADERS - 64);
}

static void test_boundary_clash(void **state)
{
    (void)state;
    /* a header line starting with the first-choice delimiter */
    static const char msg[] = "--=_dsn_00000005_00001388_0 evil\r\nSubject: x\r\n\r\n";
    static const frcpt_t r[] = { { "x@y.z", "5.1.1", "no", 550, 1, 0, 7 } };
    fsrc_t f = { r, 1, msg, sizeof msg - 1, 0, 0 };
    run_dsn(&f, 5, "s@t");
    parse_mime();
    assert_string_not_equal(boundary, "=_dsn_00000005_00001388_0");
    assert_int_equal(nparts, 3);
    assert_true(line_is(parts[2].body_start, "--=_dsn_00000005_00001388_0 evil"));
}

static void test_errors(void **state)
{
    (void)state;
    fsrc_t f = { rcpts3, 3, orig_msg, sizeof orig_msg - 1, 0, 0 };
    dsn_source_t src = { .msgid = 1, .sender = "a@b", .arrival = 0, .now = 0,
                         .nrcpt = 3, .rcpt = f_rcpt, .read = f_read, .ctx = &f };
    fail_after = 500;
    assert_int_equal(dsn_write(&env, &src, sink, NULL), -1);
    fail_after = -1;
    f.fail_read = 1;
    assert_int_equal(dsn_write(&env, &src, sink, NULL), -6);
    assert_int_equal(dsn_write(&env, NULL, sink, NULL), DSN_ERR_ARG);
    assert_int_equal(dsn_write(&env, &src, NULL, NULL), DSN_ERR_ARG);
}

static void test_format_date(void **state)
{
    (void)state;
    char b[40];
    assert_int_equal(dsn_format_date(0, b, sizeof b), 31);
    assert_string_equal(b, "Thu, 01 Jan 1970 00:00:00 +0000");
    dsn_format_date(951782400u, b, sizeof b);
    assert_string_equal(b, "Tue, 29 Feb 2000 00:00:00 +0000");
    dsn_format_date(1700000000u, b, sizeof b);
    assert_string_equal(b, "Tue, 14 Nov 2023 22:13:20 +0000");
    dsn_format_date(4102444799ull, b, sizeof b);
    assert_string_equal(b, "Thu, 31 Dec 2099 23:59:59 +0000");
    dsn_format_date(1709251199u, b, sizeof b);
    assert_string_equal(b, "Thu, 29 Feb 2024 23:59:59 +0000");
    assert_true(dsn_format_date(0, b, 10) < 0);
}

static void test_status(void **state)
{
    (void)state;
    char s[16];
    dsn_rcpt_t r = { 0 };
    r.enh = "5.1.1";
    dsn_status(&r, s, sizeof s);
    assert_string_equal(s, "5.1.1");
    r.enh = "5.123.456";
    dsn_status(&r, s, sizeof s);
    assert_string_equal(s, "5.123.456");
    r.enh = "4.2.2";  /* transient code cannot be a failed status unless expired */
    dsn_status(&r, s, sizeof s);
    assert_string_equal(s, "5.0.0");
    r.enh = "5.1";
    dsn_status(&r, s, sizeof s);
    assert_string_equal(s, "5.0.0");
    r.enh = "5.1.1x";
    dsn_status(&r, s, sizeof s);
    assert_string_equal(s, "5.0.0");
    r.enh = NULL;
    dsn_status(&r, s, sizeof s);
    assert_string_equal(s, "5.0.0");
    r.expired = 1;
    r.enh = "5.1.1";
    dsn_status(&r, s, sizeof s);
    assert_string_equal(s, "4.4.7");
}

/* ---- dsn_size_bound (issue 17) ------------------------------------------- */

static int long_date(void *ctx, uint32_t t, char *buf, size_t size)
{
    (void)ctx;
    return snprintf(buf, size, "%0*u", (int)size - 1, (unsigned)t);   /* as long as allowed */
}

static void fill(char *buf, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        buf[i] = (char)('a' + (seed + i * 7u) % 26u);
    buf[n] = '\0';
}

/* Real outputs never exceed the bound, with every input at its longest or
 * its most expanding: long names and texts, one-octet header lines (1.5x),
 * header lines that fold, an application date as long as it may be. */
static void test_size_bound(void **state)
{
    (void)state;
    static char host[1200], sender[1200], addr[4][1200], text[4][300], hdr[2 * DSN_MAX_HEADERS + 64];
    static const size_t hl[] = { 0, 5, 60, 253, 1100 };
    static const size_t al[] = { 1, 30, 254, 1100 };
    static const size_t tl[] = { 0, 64, 250 };
    unsigned cases = 0;
    for (size_t ih = 0; ih < sizeof hl / sizeof hl[0]; ih++) {
        for (size_t ia = 0; ia < sizeof al / sizeof al[0]; ia++) {
            for (size_t it = 0; it < sizeof tl / sizeof tl[0]; it++) {
                for (int shape = 0; shape < 4; shape++) {
                    fill(host, hl[ih], 1);
                    fill(sender, al[ia], 2);
                    frcpt_t r[4];
                    for (int i = 0; i < 4; i++) {
                        fill(addr[i], al[ia], 3u + (unsigned)i);
                        fill(text[i], tl[it], 7u + (unsigned)i);
                        r[i] = (frcpt_t){ addr[i], i % 2 ? "5.123.123" : "not-enh", text[i], 65535,
                                          (uint8_t)(i != 2), (uint8_t)(i == 1), 99 };
                    }
                    size_t n = 0;
                    if (shape == 0) {          /* one-octet lines */
                        while (n + 2 < sizeof hdr - 1)
                            n += (size_t)sprintf(hdr + n, "a\n");
                    } else if (shape == 1) {   /* one long line: folds */
                        memset(hdr, 'h', sizeof hdr - 1);
                        n = sizeof hdr - 1;
                    } else if (shape == 2) {   /* CRLF lines of every length */
                        for (size_t k = 1; n + k + 2 < sizeof hdr - 1; k = k % 1200 + 1)
                            n += (size_t)sprintf(hdr + n, "%.*s\r\n", (int)k, host[0] ? host : "x");
                    } else {
                        n = (size_t)sprintf(hdr, "Subject: x\r\n\r\nbody\r\n");
                    }
                    fsrc_t f = { r, 4, hdr, n, 0, 0 };
                    dsn_env_t e = { hl[ih] ? host : NULL, shape % 2 ? long_date : NULL, NULL };
                    dsn_source_t src = { .msgid = 0xFFFFFFFFu, .sender = sender, .arrival = 0xFFFFFFFFu,
                                         .now = 0xFFFFFFFFu, .nrcpt = 4, .rcpt = f_rcpt, .read = f_read,
                                         .ctx = &f };
                    outlen = 0;
                    int got = dsn_write(&e, &src, sink, NULL);
                    assert_true(got > 0);
                    uint32_t bound = dsn_size_bound(hl[ih], al[ia], 3, al[ia], tl[it]);
                    if ((uint32_t)got > bound)
                        fail_msg("host %zu addr %zu text %zu shape %d: %d > bound %u", hl[ih], al[ia],
                                 tl[it], shape, got, (unsigned)bound);
                    cases++;
                }
            }
        }
    }
    /* and it is not wildly loose: the header part dominates a small DSN */
    uint32_t small = dsn_size_bound(14, 20, 1, 30, 64);
    assert_true(small < 2u * DSN_MAX_HEADERS + 3000u);
    assert_true(dsn_size_bound(14, 20, 2, 30, 64) > small);
    print_message("    %u DSNs within their bound\n", cases);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_structure, setup),
        cmocka_unit_test_setup(test_default_env_and_no_diag, setup),
        cmocka_unit_test_setup(test_header_normalisation, setup),
        cmocka_unit_test_setup(test_headers_truncated, setup),
        cmocka_unit_test_setup(test_boundary_clash, setup),
        cmocka_unit_test_setup(test_errors, setup),
        cmocka_unit_test_setup(test_format_date, setup),
        cmocka_unit_test_setup(test_status, setup),
        cmocka_unit_test_setup(test_size_bound, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
