/* unit: firmware/smtp/smtp_data.c */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "smtp/smtp_data.h"

/* ------------------------------------------------------------------ */
/* helpers                                                             */
/* ------------------------------------------------------------------ */

#define CAP 8192

typedef struct {
    uint8_t buf[CAP];
    size_t len;
    unsigned calls;
    int fail_at_call; /* 1-based call that returns fail_rc; 0 = never */
    int fail_rc;
} sink_t;

static int sink_fn(void *ctx, const uint8_t *p, size_t n)
{
    sink_t *k = ctx;
    assert_true(n >= 1);
    k->calls++;
    if (k->fail_at_call != 0 && (int)k->calls >= k->fail_at_call)
        return k->fail_rc;
    assert_true(k->len + n <= CAP);
    memcpy(k->buf + k->len, p, n);
    k->len += n;
    return 0;
}

typedef struct {
    sink_t sink;
    size_t consumed;
    bool done;
    int result;
    uint32_t size;
} outcome_t;

/* Deterministic PRNG (xorshift32). */
static uint32_t rng_state = 0x12345678u;
static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

enum { SPLIT_WHOLE, SPLIT_BYTES, SPLIT_RANDOM, SPLIT_AT };
static size_t split_at; /* SPLIT_AT: first push is split_at bytes */

/* Decode `in` split according to mode; pushes continue after done to check
 * that nothing more is consumed. */
static void decode(const void *in, size_t n, uint32_t max, int mode, outcome_t *o)
{
    smtp_data_t d;
    const uint8_t *p = in;
    size_t pos = 0;

    memset(o, 0, sizeof(*o));
    smtp_data_init(&d, max, sink_fn, &o->sink);
    while (pos < n && !smtp_data_done(&d)) {
        size_t chunk = n - pos, used;
        if (mode == SPLIT_BYTES)
            chunk = 1;
        else if (mode == SPLIT_RANDOM)
            chunk = 1 + rnd() % (chunk < 17 ? chunk : 17);
        else if (mode == SPLIT_AT && pos < split_at)
            chunk = split_at - pos;
        used = smtp_data_push(&d, p + pos, chunk);
        assert_true(used <= chunk);
        if (used < chunk)
            assert_true(smtp_data_done(&d));
        pos += used;
    }
    if (pos < n)
        assert_int_equal(smtp_data_push(&d, p + pos, n - pos), 0);
    o->consumed = pos;
    o->done = smtp_data_done(&d);
    o->result = smtp_data_result(&d);
    o->size = smtp_data_size(&d);
}

/* Same outcome for whole, byte-by-byte, a split at every boundary and 20
 * random splits. */
static void decode_all_ways(const void *in, size_t n, uint32_t max, outcome_t *o)
{
    outcome_t other;
    int i;

    decode(in, n, max, SPLIT_WHOLE, o);
    for (i = 0; i < 22; i++) {
        decode(in, n, max, i == 0 ? SPLIT_BYTES : SPLIT_RANDOM, &other);
        assert_int_equal(other.consumed, o->consumed);
        assert_int_equal(other.done, o->done);
        assert_int_equal(other.result, o->result);
        assert_int_equal(other.size, o->size);
        assert_int_equal(other.sink.len, o->sink.len);
        assert_memory_equal(other.sink.buf, o->sink.buf, o->sink.len);
    }
    for (split_at = 1; split_at < n; split_at++) {
        decode(in, n, max, SPLIT_AT, &other);
        assert_int_equal(other.consumed, o->consumed);
        assert_int_equal(other.done, o->done);
        assert_int_equal(other.result, o->result);
        assert_int_equal(other.size, o->size);
        assert_int_equal(other.sink.len, o->sink.len);
        assert_memory_equal(other.sink.buf, o->sink.buf, o->sink.len);
    }
}

#define S(lit) lit, (sizeof(lit) - 1)

static void expect_msg(const char *in, size_t n, const char *want, size_t want_len,
                       size_t consumed)
{
    outcome_t o;
    decode_all_ways(in, n, 0, &o);
    assert_true(o.done);
    assert_int_equal(o.result, SMTP_DATA_OK);
    assert_int_equal(o.consumed, consumed);
    assert_int_equal(o.sink.len, want_len);
    assert_memory_equal(o.sink.buf, want, want_len);
    assert_int_equal(o.size, want_len);
}

/* ------------------------------------------------------------------ */
/* encoder                                                             */
/* ------------------------------------------------------------------ */

static void stuff_all(const char *in, size_t n, char *out, size_t *out_len)
{
    smtp_stuff_t s;
    size_t o = 0, i = 0, w;

    smtp_stuff_init(&s);
    while (i < n) {
        i += smtp_stuff(&s, (const uint8_t *)in + i, n - i, (uint8_t *)out + o, 1000, &w);
        o += w;
    }
    o += smtp_stuff_end(&s, (uint8_t *)out + o, 5);
    *out_len = o;
}

static void test_stuff_basic(void **state)
{
    char out[256];
    size_t n;
    (void)state;

    stuff_all(S(".a\r\nb.c\r\n.\r\n..\r\n"), out, &n);
    assert_int_equal(n, strlen("..a\r\nb.c\r\n..\r\n...\r\n.\r\n"));
    assert_memory_equal(out, "..a\r\nb.c\r\n..\r\n...\r\n.\r\n", n);

    /* no trailing CRLF: the terminator adds one */
    stuff_all(S("abc"), out, &n);
    assert_memory_equal(out, "abc\r\n.\r\n", n);
    assert_int_equal(n, 8);

    /* empty message */
    stuff_all("", 0, out, &n);
    assert_int_equal(n, 3);
    assert_memory_equal(out, ".\r\n", 3);

    /* a dot after a bare LF is stuffed too */
    stuff_all(S("a\n.b\r\n"), out, &n);
    assert_memory_equal(out, "a\n..b\r\n.\r\n", n);
}

static void test_stuff_small_output(void **state)
{
    smtp_stuff_t s;
    uint8_t out[4];
    size_t w, used;
    (void)state;

    smtp_stuff_init(&s);
    /* one byte of room and a dot at BOL: nothing is consumed */
    used = smtp_stuff(&s, (const uint8_t *)".x", 2, out, 1, &w);
    assert_int_equal(used, 0);
    assert_int_equal(w, 0);
    used = smtp_stuff(&s, (const uint8_t *)".x", 2, out, 2, &w);
    assert_int_equal(used, 1);
    assert_int_equal(w, 2);
    assert_memory_equal(out, "..", 2);
    used = smtp_stuff(&s, (const uint8_t *)"x", 1, out, 0, &w);
    assert_int_equal(used, 0);
    assert_int_equal(w, 0);

    /* terminator needs 5 bytes when not at BOL */
    assert_int_equal(smtp_stuff_end(&s, out, 4), 0);
    assert_int_equal(s.at_bol, 0);
    {
        uint8_t big[5];
        assert_int_equal(smtp_stuff_end(&s, big, 5), 5);
        assert_memory_equal(big, "\r\n.\r\n", 5);
    }
}

/* Encoder output decodes back to the input, for random messages rich in
 * dots and line starts, with tiny output buffers. */
static void test_stuff_roundtrip(void **state)
{
    static const char alphabet[] = "..ab\r\n";
    int round;
    (void)state;

    for (round = 0; round < 300; round++) {
        char msg[200], wire[500];
        size_t n = rnd() % sizeof(msg), i, o = 0, w;
        smtp_stuff_t s;
        outcome_t out;

        /* build CRLF-only text: pick chars, map lone \r / \n to CRLF */
        for (i = 0; i < n; i++) {
            char c = alphabet[rnd() % (sizeof(alphabet) - 1)];
            if ((c == '\r' || c == '\n') && i + 1 < n) {
                msg[i++] = '\r';
                msg[i] = '\n';
            } else if (c == '\r' || c == '\n') {
                msg[i] = 'z';
            } else {
                msg[i] = c;
            }
        }
        smtp_stuff_init(&s);
        i = 0;
        while (i < n) {
            i += smtp_stuff(&s, (const uint8_t *)msg + i, n - i, (uint8_t *)wire + o,
                            1 + rnd() % 3, &w);
            o += w;
        }
        o += smtp_stuff_end(&s, (uint8_t *)wire + o, 5);

        decode(wire, o, 0, SPLIT_RANDOM, &out);
        assert_true(out.done);
        assert_int_equal(out.result, SMTP_DATA_OK);
        assert_int_equal(out.consumed, o);
        if (n >= 2 && msg[n - 2] == '\r' && msg[n - 1] == '\n') {
            assert_int_equal(out.sink.len, n);
        } else if (n > 0) {
            assert_int_equal(out.sink.len, n + 2);
            assert_memory_equal(out.sink.buf + n, "\r\n", 2);
        } else {
            assert_int_equal(out.sink.len, 0);
        }
        assert_memory_equal(out.sink.buf, msg, n);
    }
}

/* ------------------------------------------------------------------ */
/* decoder                                                             */
/* ------------------------------------------------------------------ */

static void test_data_empty_message(void **state)
{
    (void)state;
    /* The DATA phase starts at beginning of line. */
    expect_msg(S(".\r\n"), "", 0, 3);
    expect_msg(S(".\r\nQUIT\r\n"), "", 0, 3);
}

static void test_data_simple(void **state)
{
    (void)state;
    expect_msg(S("Subject: hi\r\n\r\nHello\r\n.\r\nQUIT\r\n"),
               S("Subject: hi\r\n\r\nHello\r\n"), 25);
    /* blank lines and a line with just a space */
    expect_msg(S("\r\n \r\n\r\n.\r\n"), S("\r\n \r\n\r\n"), 10);
}

static void test_data_unstuffing(void **state)
{
    (void)state;
    expect_msg(S("..\r\n.\r\n"), S(".\r\n"), 7);
    expect_msg(S("...x\r\n.\r\n"), S("..x\r\n"), 9);
    /* RFC 5321 4.5.2: the first dot of a line with more text is dropped */
    expect_msg(S(".x\r\n.\r\n"), S("x\r\n"), 7);
    /* dots in the middle of a line stay */
    expect_msg(S("a.\r\nb..c\r\n.\r\n"), S("a.\r\nb..c\r\n"), 13);
    /* a dot line not followed by CRLF at the end is not a terminator */
    expect_msg(S(". \r\n.\r\n"), S(" \r\n"), 7);
}

static void test_data_not_done(void **state)
{
    outcome_t o;
    (void)state;

    decode_all_ways(S("abc\r\n.\r"), 0, &o);
    assert_false(o.done);
    assert_int_equal(o.consumed, 7);
    decode_all_ways(S("abc\r\n."), 0, &o);
    assert_false(o.done);
    decode_all_ways(S("abc\r\n"), 0, &o);
    assert_false(o.done);
    assert_int_equal(o.sink.len, 5);
}

/* CR held across a push boundary. */
static void test_data_cr_across_push(void **state)
{
    smtp_data_t d;
    sink_t k;
    (void)state;

    memset(&k, 0, sizeof(k));
    smtp_data_init(&d, 0, sink_fn, &k);
    assert_int_equal(smtp_data_push(&d, (const uint8_t *)"ab\r", 3), 3);
    assert_int_equal(k.len, 2);
    assert_int_equal(smtp_data_push(&d, (const uint8_t *)"\n.\r\nX", 5), 4);
    assert_true(smtp_data_done(&d));
    assert_int_equal(k.len, 4);
    assert_memory_equal(k.buf, "ab\r\n", 4);
    assert_int_equal(smtp_data_push(&d, (const uint8_t *)"X", 1), 0);
    assert_int_equal(smtp_data_result(&d), SMTP_DATA_OK);
}

/* Every smuggling sequence: never ends the message, never starts another;
 * the real <CRLF>.<CRLF> does, and the message is bad. */
static void test_data_smuggling(void **state)
{
    static const char *const seqs[] = {
        "\n.\n", "\r.\r", "\n.\r\n", "\r.\n", "\r\n.\n", "\r\n.\r",
        "\r\n.\r\r\n", "\n\n.\r\n\n", "\n.\r\r\n",
    };
    size_t i;
    (void)state;

    for (i = 0; i < sizeof(seqs) / sizeof(seqs[0]); i++) {
        char in[512];
        const char *tail = "MAIL FROM:<evil@x.example>\r\nRCPT TO:<v@y.example>\r\n"
                           "DATA\r\nsmuggled\r\n.\r\n";
        int n = snprintf(in, sizeof(in), "Subject: x\r\n\r\nhello%s%sQUIT\r\n", seqs[i], tail);
        outcome_t o;

        decode_all_ways(in, (size_t)n, 0, &o);
        assert_true(o.done);
        assert_int_equal(o.result, SMTP_DATA_ERR_BARE_EOL);
        /* ends exactly at the real terminator, right before QUIT */
        assert_int_equal(o.consumed, (size_t)n - strlen("QUIT\r\n"));
    }

    /* at the very start of the data too */
    {
        outcome_t o;
        decode_all_ways(S("\n.\nx\r\n.\r\n"), 0, &o);
        assert_int_equal(o.result, SMTP_DATA_ERR_BARE_EOL);
        assert_int_equal(o.consumed, 9);
        decode_all_ways(S(".\n.\r\n"), 0, &o);
        assert_int_equal(o.result, SMTP_DATA_ERR_BARE_EOL);
        assert_false(o.done);
        decode_all_ways(S(".\r.\r\n\r\n.\r\n"), 0, &o);
        assert_int_equal(o.result, SMTP_DATA_ERR_BARE_EOL);
        assert_true(o.done);
        assert_int_equal(o.consumed, 10);
    }
}

static void test_data_bare_cr_lf_inside(void **state)
{
    outcome_t o;
    (void)state;

    decode_all_ways(S("a\nb\r\n.\r\n"), 0, &o);
    assert_int_equal(o.result, SMTP_DATA_ERR_BARE_EOL);
    assert_true(o.done);
    decode_all_ways(S("a\rb\r\n.\r\n"), 0, &o);
    assert_int_equal(o.result, SMTP_DATA_ERR_BARE_EOL);
    decode_all_ways(S("a\r\r\n.\r\n"), 0, &o);
    assert_int_equal(o.result, SMTP_DATA_ERR_BARE_EOL);
    assert_true(o.done);
    /* nothing is sunk after the problem */
    assert_true(o.sink.len <= 1);
}

static void test_data_line_length(void **state)
{
    static char in[3000];
    size_t n;
    outcome_t o;
    (void)state;

    /* 998 + CRLF = 1000 octets: fine */
    memset(in, 'a', 998);
    memcpy(in + 998, "\r\n.\r\n", 5);
    decode_all_ways(in, 1003, 0, &o);
    assert_int_equal(o.result, SMTP_DATA_OK);
    assert_int_equal(o.sink.len, 1000);

    /* 999 + CRLF = 1001: too long */
    memset(in, 'a', 999);
    memcpy(in + 999, "\r\n.\r\n", 5);
    decode_all_ways(in, 1004, 0, &o);
    assert_true(o.done);
    assert_int_equal(o.result, SMTP_DATA_ERR_LONG_LINE);

    /* RFC 5321 4.5.3.1.6: the transparency dot does not count.  A 998-octet
     * line starting with '.' is 999 + CRLF on the wire and is fine. */
    in[0] = '.';
    memset(in + 1, '.', 998);
    memcpy(in + 999, "\r\n.\r\n", 5);
    decode_all_ways(in, 1004, 0, &o);
    assert_int_equal(o.result, SMTP_DATA_OK);
    assert_int_equal(o.sink.len, 1000);
    assert_memory_equal(o.sink.buf, in + 1, 1000);

    /* ... but one more octet after the dot is a 999-octet line: too long */
    memset(in + 1, 'x', 999);
    memcpy(in + 1000, "\r\n.\r\n", 5);
    decode_all_ways(in, 1005, 0, &o);
    assert_int_equal(o.result, SMTP_DATA_ERR_LONG_LINE);

    /* A lone "." line after a long line still terminates */
    memset(in, 'a', 998);
    memcpy(in + 998, "\r\n..\r\n.\r\n", 9);
    decode_all_ways(in, 1007, 0, &o);
    assert_int_equal(o.result, SMTP_DATA_OK);
    assert_int_equal(o.sink.len, 1003);

    /* several lines of exactly 1000 */
    n = 0;
    for (int i = 0; i < 2; i++) {
        memset(in + n, 'b', 998);
        memcpy(in + n + 998, "\r\n", 2);
        n += 1000;
    }
    memcpy(in + n, ".\r\n", 3);
    decode_all_ways(in, n + 3, 0, &o);
    assert_int_equal(o.result, SMTP_DATA_OK);
    assert_int_equal(o.sink.len, 2000);
}

/* The client side of the same edge (RFC 5321 4.5.3.1.6): a stored 998-octet
 * line that starts with '.' goes out as 999 octets + CRLF, whole, and the
 * device's own decoder takes it back unchanged. */
static void test_stuff_long_dot_line(void **state)
{
    static char msg[1000], wire[1010];
    smtp_stuff_t s;
    size_t w, used, o;
    outcome_t out;
    (void)state;

    memset(msg, '.', 998);
    memcpy(msg + 998, "\r\n", 2);
    smtp_stuff_init(&s);
    used = smtp_stuff(&s, (const uint8_t *)msg, sizeof msg, (uint8_t *)wire, sizeof wire, &w);
    assert_int_equal(used, sizeof msg);
    assert_int_equal(w, 1001);
    assert_memory_equal(wire, "..", 2);
    o = w + smtp_stuff_end(&s, (uint8_t *)wire + w, 5);
    assert_int_equal(o, 1004);
    decode_all_ways(wire, o, 0, &out);
    assert_int_equal(out.result, SMTP_DATA_OK);
    assert_int_equal(out.sink.len, sizeof msg);
    assert_memory_equal(out.sink.buf, msg, sizeof msg);
}

static void test_data_size_limit(void **state)
{
    outcome_t o;
    (void)state;

    /* exactly the limit */
    decode_all_ways(S("12345678\r\n.\r\n"), 10, &o);
    assert_int_equal(o.result, SMTP_DATA_OK);
    assert_int_equal(o.sink.len, 10);

    /* one over: consumed to the end, but sinking stops */
    decode_all_ways(S("123456789\r\nmore more more\r\n.\r\nQUIT\r\n"), 10, &o);
    assert_true(o.done);
    assert_int_equal(o.result, SMTP_DATA_ERR_TOO_BIG);
    assert_int_equal(o.consumed, strlen("123456789\r\nmore more more\r\n.\r\n"));
    assert_true(o.sink.len <= 10);
    assert_int_equal(o.size, 27);

    /* bare LF wins over size in the result */
    decode_all_ways(S("123456789\nxx\r\n.\r\n"), 5, &o);
    assert_int_equal(o.result, SMTP_DATA_ERR_BARE_EOL);
}

static void test_data_sink_error(void **state)
{
    smtp_data_t d;
    sink_t k;
    const char *in = "line1\r\nline2\r\n.\r\n";
    (void)state;

    memset(&k, 0, sizeof(k));
    k.fail_at_call = 1;
    k.fail_rc = -7;
    smtp_data_init(&d, 0, sink_fn, &k);
    assert_int_equal(smtp_data_push(&d, (const uint8_t *)in, 5), 5);
    assert_int_equal(k.calls, 1);
    assert_int_equal(smtp_data_push(&d, (const uint8_t *)in + 5, strlen(in) - 5),
                     strlen(in) - 5);
    assert_int_equal(k.calls, 1); /* never called again */
    assert_true(smtp_data_done(&d));
    assert_int_equal(smtp_data_result(&d), SMTP_DATA_ERR_SINK);
    assert_int_equal(smtp_data_sink_err(&d), -7);
}

static void test_data_null_sink(void **state)
{
    smtp_data_t d;
    (void)state;
    smtp_data_init(&d, 0, NULL, NULL);
    assert_int_equal(smtp_data_push(&d, (const uint8_t *)"ab\r\n.\r\n", 7), 7);
    assert_true(smtp_data_done(&d));
    assert_int_equal(smtp_data_size(&d), 4);
}

/* Random garbage from a small alphabet: every split agrees, and when the
 * decoder says done the input really contains CRLF.CRLF at that point. */
static void test_data_random_splits(void **state)
{
    static const char alphabet[] = "\r\n.a\r\n.";
    int round;
    (void)state;

    for (round = 0; round < 400; round++) {
        char in[120];
        size_t n = 1 + rnd() % sizeof(in), i;
        outcome_t o;

        for (i = 0; i < n; i++)
            in[i] = alphabet[rnd() % (sizeof(alphabet) - 1)];
        decode_all_ways(in, n, 0, &o);
        if (o.done) {
            assert_true(o.consumed >= 3);
            assert_memory_equal(in + o.consumed - 3, ".\r\n", 3);
            if (o.consumed > 3)
                assert_memory_equal(in + o.consumed - 5, "\r\n", 2);
        }
        /* no bare CR/LF anywhere before the end -> result OK */
        {
            bool bare = false;
            for (i = 0; i < o.consumed; i++) {
                if (in[i] == '\n' && (i == 0 || in[i - 1] != '\r'))
                    bare = true;
                if (in[i] == '\r' && (i + 1 >= n || in[i + 1] != '\n'))
                    bare = true;
            }
            if (o.done)
                assert_int_equal(o.result == SMTP_DATA_ERR_BARE_EOL, bare);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stuff_basic),
        cmocka_unit_test(test_stuff_small_output),
        cmocka_unit_test(test_stuff_roundtrip),
        cmocka_unit_test(test_data_empty_message),
        cmocka_unit_test(test_data_simple),
        cmocka_unit_test(test_data_unstuffing),
        cmocka_unit_test(test_data_not_done),
        cmocka_unit_test(test_data_cr_across_push),
        cmocka_unit_test(test_data_smuggling),
        cmocka_unit_test(test_data_bare_cr_lf_inside),
        cmocka_unit_test(test_data_line_length),
        cmocka_unit_test(test_stuff_long_dot_line),
        cmocka_unit_test(test_data_size_limit),
        cmocka_unit_test(test_data_sink_error),
        cmocka_unit_test(test_data_null_sink),
        cmocka_unit_test(test_data_random_splits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
