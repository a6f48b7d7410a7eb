/* unit: firmware/smtp/smtpc_reply.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "smtp/smtpc_reply.h"

static smtpc_reply_parser_t rp;

/* Feed all of s in one call; expect exactly one complete reply using all bytes. */
static const smtpc_reply_t *parse_all(const char *s)
{
    int st = 99;
    size_t n = strlen(s);
    smtpc_reply_init(&rp);
    size_t used = smtpc_reply_feed(&rp, (const uint8_t *)s, n, &st);
    assert_int_equal(st, SMTPC_REPLY_DONE);
    assert_int_equal(used, n);
    return smtpc_reply_get(&rp);
}

/* Feed s, return the final status (error or MORE) */
static int parse_err(const char *s)
{
    int st = 99;
    smtpc_reply_init(&rp);
    smtpc_reply_feed(&rp, (const uint8_t *)s, strlen(s), &st);
    return st;
}

static void test_single_line(void **state)
{
    (void)state;
    const smtpc_reply_t *r = parse_all("220 mx.example.com ESMTP ready\r\n");
    assert_int_equal(r->code, 220);
    assert_int_equal(r->n_lines, 1);
    assert_string_equal(r->text, "mx.example.com ESMTP ready");
    assert_string_equal(r->enh, "");
    assert_int_equal(r->ext, 0);

    r = parse_all("354\r\n"); /* bare code, no text */
    assert_int_equal(r->code, 354);
    assert_string_equal(r->text, "");
    r = parse_all("250 \r\n");
    assert_int_equal(r->code, 250);
    assert_string_equal(r->text, "");
}

static void test_multiline_and_ehlo(void **state)
{
    (void)state;
    const smtpc_reply_t *r = parse_all(
        "250-mx.example.com greets you\r\n"
        "250-pipelining\r\n"
        "250-SIZE 10240000\r\n"
        "250-8BITMIME\r\n"
        "250-STARTTLS\r\n"
        "250-ENHANCEDSTATUSCODES\r\n"
        "250-AUTH PLAIN LOGIN CRAM-MD5 GSSAPI\r\n"
        "250-AUTH=LOGIN\r\n"
        "250-X-UNKNOWN foo\r\n"
        "250 DSN\r\n");
    assert_int_equal(r->code, 250);
    assert_int_equal(r->n_lines, 10);
    assert_int_equal(r->ext, SMTP_EXT_PIPELINING | SMTP_EXT_SIZE | SMTP_EXT_8BITMIME |
                             SMTP_EXT_STARTTLS | SMTP_EXT_ENHANCEDSTATUSCODES |
                             SMTP_EXT_AUTH | SMTP_EXT_DSN);
    assert_int_equal(r->size_max, 10240000u);
    assert_int_equal(r->auth, SMTP_AUTH_PLAIN | SMTP_AUTH_LOGIN | SMTP_AUTH_CRAM_MD5 |
                              SMTP_AUTH_OTHER);
    assert_string_equal(r->text, "DSN");

    /* first line is the greeting, not a keyword; SIZE without value */
    r = parse_all("250-PIPELINING\r\n250 SIZE\r\n");
    assert_int_equal(r->ext, SMTP_EXT_SIZE);
    assert_int_equal(r->size_max, 0);

    /* absurd SIZE clamps */
    r = parse_all("250-x\r\n250 SIZE 99999999999999\r\n");
    assert_int_equal(r->size_max, UINT32_MAX);
}

static void test_enhanced_codes(void **state)
{
    (void)state;
    const smtpc_reply_t *r = parse_all("550 5.1.1 <bob@example.com>: User unknown\r\n");
    assert_int_equal(r->code, 550);
    assert_string_equal(r->enh, "5.1.1");
    assert_string_equal(r->text, "<bob@example.com>: User unknown");

    r = parse_all("451-4.7.1 Greylisted, try again\r\n451 4.7.1 later please\r\n");
    assert_string_equal(r->enh, "4.7.1");
    assert_string_equal(r->text, "later please");

    r = parse_all("250 2.0.0\r\n");
    assert_string_equal(r->enh, "2.0.0");
    assert_string_equal(r->text, "");

    r = parse_all("552 5.123.456 big\r\n");
    assert_string_equal(r->enh, "5.123.456");

    /* class must match the code; malformed codes are text */
    r = parse_all("550 4.1.1 mismatch\r\n");
    assert_string_equal(r->enh, "");
    assert_string_equal(r->text, "4.1.1 mismatch");
    r = parse_all("550 5.1 short\r\n");
    assert_string_equal(r->enh, "");
    r = parse_all("550 5.1.1234 long\r\n");
    assert_string_equal(r->enh, "");
    r = parse_all("550 5.1.1x\r\n");
    assert_string_equal(r->enh, "");

    /* enhanced code only on the first line still reported */
    r = parse_all("550-5.7.1 Policy\r\n550 see http://x\r\n");
    assert_string_equal(r->enh, "5.7.1");
    assert_string_equal(r->text, "see http://x");
}

static void test_bare_lf_and_stray_cr(void **state)
{
    (void)state;
    const smtpc_reply_t *r = parse_all("250-a\n250-PIPELINING\n250 ok\n");
    assert_int_equal(r->n_lines, 3);
    assert_int_equal(r->ext, SMTP_EXT_PIPELINING);
    assert_string_equal(r->text, "ok");
    r = parse_all("250 o\rk\r\n");
    assert_string_equal(r->text, "ok");
}

static void test_malformed(void **state)
{
    (void)state;
    assert_int_equal(parse_err("2x0 hi\r\n"), SMTPC_REPLY_ERR_CODE);
    assert_int_equal(parse_err("hello\r\n"), SMTPC_REPLY_ERR_CODE);
    assert_int_equal(parse_err("650 nope\r\n"), SMTPC_REPLY_ERR_CODE);
    assert_int_equal(parse_err("160 nope\r\n"), SMTPC_REPLY_ERR_CODE);
    assert_int_equal(parse_err("25\r\n"), SMTPC_REPLY_ERR_CODE);
    assert_int_equal(parse_err("\r\n"), SMTPC_REPLY_ERR_CODE);
    assert_int_equal(parse_err("250xhi\r\n"), SMTPC_REPLY_ERR_SYNTAX);
    assert_int_equal(parse_err("250-a\r\n251 b\r\n"), SMTPC_REPLY_ERR_MISMATCH);

    /* sticky: nothing consumed afterwards until init */
    int st;
    assert_int_equal(smtpc_reply_feed(&rp, (const uint8_t *)"250 ok\r\n", 8, &st), 0);
    assert_int_equal(st, SMTPC_REPLY_ERR_MISMATCH);
    assert_string_equal(smtpc_reply_strerror(st), "reply code changed between lines");
}

static void test_line_length(void **state)
{
    (void)state;
    char line[600];
    /* 510 content octets + CRLF = 512: accepted */
    memset(line, 'a', sizeof(line));
    memcpy(line, "250 ", 4);
    memcpy(line + 510, "\r\n", 3);
    const smtpc_reply_t *r = parse_all(line);
    assert_int_equal(r->code, 250);
    assert_int_equal(strlen(r->text), SMTPC_REPLY_TEXT_MAX - 1); /* bounded copy */
    /* 511 content octets: too long */
    memset(line, 'a', sizeof(line));
    memcpy(line, "250 ", 4);
    memcpy(line + 511, "\r\n", 3);
    assert_int_equal(parse_err(line), SMTPC_REPLY_ERR_LONG);
}

static void test_too_many_lines(void **state)
{
    (void)state;
    int st = 0;
    smtpc_reply_init(&rp);
    for (unsigned i = 0; i < SMTPC_REPLY_MAX_LINES; i++) {
        smtpc_reply_feed(&rp, (const uint8_t *)"250-x\r\n", 7, &st);
        assert_int_equal(st, SMTPC_REPLY_MORE);
    }
    smtpc_reply_feed(&rp, (const uint8_t *)"250-x\r\n", 7, &st);
    assert_int_equal(st, SMTPC_REPLY_ERR_LINES);

    /* exactly MAX lines is fine */
    smtpc_reply_init(&rp);
    for (unsigned i = 0; i + 1 < SMTPC_REPLY_MAX_LINES; i++) {
        smtpc_reply_feed(&rp, (const uint8_t *)"250-x\r\n", 7, &st);
    }
    smtpc_reply_feed(&rp, (const uint8_t *)"250 x\r\n", 7, &st);
    assert_int_equal(st, SMTPC_REPLY_DONE);
    assert_int_equal(smtpc_reply_get(&rp)->n_lines, SMTPC_REPLY_MAX_LINES);
}

/* Pipelined replies in one buffer come out one per call. */
static void test_pipelined_stream(void **state)
{
    (void)state;
    const char *s = "250 2.1.0 ok\r\n550 5.1.1 no\r\n250-a\r\n250 b\r\n354 go\r\n";
    const int codes[] = {250, 550, 250, 354};
    size_t off = 0, n = strlen(s);
    int st;
    smtpc_reply_init(&rp);
    for (unsigned k = 0; k < 4; k++) {
        off += smtpc_reply_feed(&rp, (const uint8_t *)s + off, n - off, &st);
        assert_int_equal(st, SMTPC_REPLY_DONE);
        assert_int_equal(smtpc_reply_get(&rp)->code, codes[k]);
    }
    assert_int_equal(off, n);
    assert_string_equal(smtpc_reply_get(&rp)->text, "go");
    assert_string_equal(smtpc_reply_get(&rp)->enh, ""); /* fresh per reply */
}

/* Every split point of a multi-reply stream gives the same results. */
static void test_split_every_byte(void **state)
{
    (void)state;
    const char *s =
        "250-mx.example.com\r\n250-PIPELINING\r\n250-SIZE 1000\r\n250 8BITMIME\r\n"
        "550-5.1.1 first\r\n550 5.1.1 second\r\n";
    size_t n = strlen(s);
    for (size_t split = 0; split <= n; split++) {
        int codes[2] = {0, 0};
        unsigned got = 0;
        const uint8_t *chunks[2] = {(const uint8_t *)s, (const uint8_t *)s + split};
        size_t lens[2] = {split, n - split};
        smtpc_reply_init(&rp);
        for (unsigned c = 0; c < 2; c++) {
            size_t off = 0;
            while (off < lens[c]) {
                int st;
                off += smtpc_reply_feed(&rp, chunks[c] + off, lens[c] - off, &st);
                assert_true(st >= 0);
                if (st == SMTPC_REPLY_DONE) {
                    const smtpc_reply_t *r = smtpc_reply_get(&rp);
                    assert_true(got < 2);
                    codes[got] = r->code;
                    if (got == 0) {
                        assert_int_equal(r->ext, SMTP_EXT_PIPELINING | SMTP_EXT_SIZE |
                                                 SMTP_EXT_8BITMIME);
                        assert_int_equal(r->size_max, 1000);
                        assert_int_equal(r->n_lines, 4);
                    } else {
                        assert_string_equal(r->enh, "5.1.1");
                        assert_string_equal(r->text, "second");
                    }
                    got++;
                }
            }
        }
        assert_int_equal(got, 2);
        assert_int_equal(codes[0], 250);
        assert_int_equal(codes[1], 550);
    }
    /* and one byte at a time */
    unsigned got = 0;
    smtpc_reply_init(&rp);
    for (size_t i = 0; i < n; i++) {
        int st;
        assert_int_equal(smtpc_reply_feed(&rp, (const uint8_t *)s + i, 1, &st), 1);
        got += (st == SMTPC_REPLY_DONE);
    }
    assert_int_equal(got, 2);
}

/* STARTTLS (RFC 3207) and AUTH (RFC 4954) keywords as smtpc uses them. */
static void test_starttls_and_auth(void **state)
{
    (void)state;
    const smtpc_reply_t *r = parse_all("250-mx\r\n250-starttls\r\n250 auth login plain\r\n");
    assert_int_equal(r->ext, SMTP_EXT_STARTTLS | SMTP_EXT_AUTH);
    assert_int_equal(r->auth, SMTP_AUTH_PLAIN | SMTP_AUTH_LOGIN);

    /* the pre-RFC 4954 "AUTH=" form, with more mechanisms after a space */
    r = parse_all("250-mx\r\n250 AUTH=PLAIN LOGIN\r\n");
    assert_int_equal(r->ext, SMTP_EXT_AUTH);
    assert_int_equal(r->auth, SMTP_AUTH_PLAIN | SMTP_AUTH_LOGIN);
    r = parse_all("250-mx\r\n250 AUTH=LOGIN\r\n");
    assert_int_equal(r->auth, SMTP_AUTH_LOGIN);

    /* both forms on one reply merge */
    r = parse_all("250-mx\r\n250-AUTH=LOGIN\r\n250 AUTH PLAIN\r\n");
    assert_int_equal(r->auth, SMTP_AUTH_PLAIN | SMTP_AUTH_LOGIN);

    /* AUTH with nothing we can use */
    r = parse_all("250-mx\r\n250 AUTH CRAM-MD5 XOAUTH2 GSSAPI\r\n");
    assert_int_equal(r->ext, SMTP_EXT_AUTH);
    assert_int_equal(r->auth, SMTP_AUTH_CRAM_MD5 | SMTP_AUTH_XOAUTH2 | SMTP_AUTH_OTHER);
    r = parse_all("250-mx\r\n250 AUTH\r\n");
    assert_int_equal(r->ext, SMTP_EXT_AUTH);
    assert_int_equal(r->auth, 0);

    /* whole tokens only: look-alikes are not the keyword or mechanism */
    r = parse_all("250-mx\r\n250-STARTTLSX\r\n250-AUTHX PLAIN\r\n250-AUTH=\r\n"
                  "250 XSTARTTLS\r\n");
    assert_int_equal(r->ext, 0);
    assert_int_equal(r->auth, 0);
    r = parse_all("250-mx\r\n250 AUTH PLAINX LOGINS\r\n");
    assert_int_equal(r->auth, SMTP_AUTH_OTHER);

    /* the first line is the greeting, never a keyword */
    r = parse_all("250 STARTTLS\r\n");
    assert_int_equal(r->ext, 0);
    r = parse_all("250-AUTH PLAIN\r\n250 ok\r\n");
    assert_int_equal(r->ext, 0);
    assert_int_equal(r->auth, 0);

    /* not carried over into the next reply */
    smtpc_reply_init(&rp);
    const char *s2 = "250-mx\r\n250-STARTTLS\r\n250 AUTH PLAIN\r\n220 go\r\n";
    size_t off = 0, n = strlen(s2);
    int st;
    off += smtpc_reply_feed(&rp, (const uint8_t *)s2, n, &st);
    assert_int_equal(st, SMTPC_REPLY_DONE);
    assert_int_equal(smtpc_reply_get(&rp)->ext, SMTP_EXT_STARTTLS | SMTP_EXT_AUTH);
    off += smtpc_reply_feed(&rp, (const uint8_t *)s2 + off, n - off, &st);
    assert_int_equal(st, SMTPC_REPLY_DONE);
    assert_int_equal(off, n);
    assert_int_equal(smtpc_reply_get(&rp)->code, 220);
    assert_int_equal(smtpc_reply_get(&rp)->ext, 0);
    assert_int_equal(smtpc_reply_get(&rp)->auth, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_single_line),
        cmocka_unit_test(test_multiline_and_ehlo),
        cmocka_unit_test(test_enhanced_codes),
        cmocka_unit_test(test_bare_lf_and_stray_cr),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_line_length),
        cmocka_unit_test(test_too_many_lines),
        cmocka_unit_test(test_pipelined_stream),
        cmocka_unit_test(test_split_every_byte),
        cmocka_unit_test(test_starttls_and_auth),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
