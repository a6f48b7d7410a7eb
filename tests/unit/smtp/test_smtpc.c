/* unit: firmware/smtp/smtpc.c firmware/smtp/smtpc_reply.c firmware/smtp/smtp_data.c firmware/lib/fmt.c firmware/lib/sasl.c firmware/evt/evt.c firmware/lib/date.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "evt/evt.h"
#include "lib/sasl.h"
#include "smtp/smtpc.h"

#define MAXR 120
#define OUTCAP 65536

/* ------------------------------------------------------------ fakes */

typedef struct {
    int n;          /* callbacks for this user index */
    int code;
    char enh[16];
    char text[200];
} result_t;

typedef struct {
    const uint8_t *body;
    size_t len;
    int fail_at;    /* read at off >= fail_at returns -1 (if >= 0) */
    unsigned reads;
    result_t res[MAXR];
    int total;
} fake_t;

/* evt.c's assertions: a bug, so the test fails. */
void mta_assert_fail(const char *msg, const char *file, int line);
void mta_assert_fail(const char *msg, const char *file, int line)
{
    fail_msg("assertion %s at %s:%d", msg, file, line);
}

static fake_t fk;
static char out[OUTCAP];
static size_t outlen;
static uint32_t now;

static int fake_read(void *ctx, uint32_t off, void *buf, size_t len)
{
    fake_t *f = ctx;
    f->reads++;
    if (f->fail_at >= 0 && off >= (uint32_t)f->fail_at) {
        return -1;
    }
    if (off >= f->len) {
        return 0;
    }
    size_t n = f->len - off;
    if (n > len) {
        n = len;
    }
    memcpy(buf, f->body + off, n);
    return (int)n;
}

static void fake_result(void *ctx, unsigned idx, int code, const char *enh,
                        const char *text)
{
    fake_t *f = ctx;
    assert_true(idx < MAXR);
    assert_non_null(enh);
    assert_non_null(text);
    f->res[idx].n++;
    f->res[idx].code = code;
    snprintf(f->res[idx].enh, sizeof(f->res[idx].enh), "%s", enh);
    snprintf(f->res[idx].text, sizeof(f->res[idx].text), "%s", text);
    f->total++;
}

static smtpc_rcpt_t rcpts[MAXR];
static char rcpt_names[MAXR][32];
static smtpc_job_t job;

static void mkjob(unsigned n, const char *body)
{
    memset(&fk, 0, sizeof(fk));
    fk.fail_at = -1;
    fk.body = (const uint8_t *)body;
    fk.len = strlen(body);
    for (unsigned i = 0; i < n; i++) {
        snprintf(rcpt_names[i], sizeof(rcpt_names[i]), "r%u@dest.example", i);
        rcpts[i].addr = rcpt_names[i];
        rcpts[i].user_idx = (uint16_t)i;
        rcpts[i].notify = 0;
        rcpts[i].has_orcpt = 0;
    }
    memset(&job, 0, sizeof(job));
    job.ehlo_name = "gw.example";
    job.sender = "s@src.example";
    job.rcpts = rcpts;
    job.n_rcpts = n;
    job.size = (uint32_t)fk.len;
    job.read = fake_read;
    job.rcpt_result = fake_result;
    job.ctx = &fk;
}

/* Drain all output (peek/consume in steps of `step` bytes, 0 = all). */
static const char *drain_step(smtpc_t *c, size_t step)
{
    const uint8_t *p;
    size_t n;
    outlen = 0;
    while ((n = smtpc_output_peek(c, &p)) != 0) {
        if (step != 0 && n > step) {
            n = step;
        }
        assert_true(outlen + n < OUTCAP);
        memcpy(out + outlen, p, n);
        outlen += n;
        smtpc_output_consume(c, n);
    }
    out[outlen] = '\0';
    return out;
}

static const char *drain(smtpc_t *c)
{
    return drain_step(c, 0);
}

static void srv(smtpc_t *c, const char *s)
{
    size_t n = strlen(s);
    assert_int_equal(smtpc_input(c, (const uint8_t *)s, n, now), n);
}

static const char *EHLO_PIPE =
    "250-mx.dest.example\r\n250-PIPELINING\r\n250-SIZE 1000000\r\n250 8BITMIME\r\n";
static const char *EHLO_PLAIN = "250-mx.dest.example\r\n250 8BITMIME\r\n";

/* Greeting + EHLO with the given EHLO reply. */
static smtpc_t *open_session(const char *ehlo_reply)
{
    smtpc_t *c = smtpc_open(&job, now);
    assert_non_null(c);
    assert_int_equal(smtpc_state(c), SMTPC_ST_GREETING);
    assert_string_equal(drain(c), "");
    srv(c, "220 mx.dest.example ESMTP\r\n");
    assert_string_equal(drain(c), "EHLO gw.example\r\n");
    assert_int_equal(smtpc_state(c), SMTPC_ST_EHLO);
    srv(c, ehlo_reply);
    return c;
}

static void finish_quit(smtpc_t *c)
{
    assert_true(smtpc_idle(c));
    assert_int_equal(smtpc_quit(c), SMTPC_OK);
    assert_string_equal(drain(c), "QUIT\r\n");
    srv(c, "221 bye\r\n");
    assert_true(smtpc_done(c));
    assert_int_equal(smtpc_state(c), SMTPC_ST_DONE);
    smtpc_close(c);
}

static int setup(void **state)
{
    (void)state;
    now = 1000;
    return 0;
}

/* ------------------------------------------------------------ tests */

static void test_plain_dialogue(void **state)
{
    (void)state;
    mkjob(2, "Subject: hi\r\n\r\nhello\r\n");
    smtpc_t *c = open_session(EHLO_PLAIN);
    assert_int_equal(smtpc_ext(c), SMTP_EXT_8BITMIME);
    assert_string_equal(drain(c), "MAIL FROM:<s@src.example>\r\n");
    assert_int_equal(smtpc_state(c), SMTPC_ST_MAIL);
    srv(c, "250 2.1.0 ok\r\n");
    assert_string_equal(drain(c), "RCPT TO:<r0@dest.example>\r\n");
    assert_int_equal(smtpc_state(c), SMTPC_ST_RCPT);
    assert_string_equal(drain(c), ""); /* one at a time */
    srv(c, "250 2.1.5 ok\r\n");
    assert_string_equal(drain(c), "RCPT TO:<r1@dest.example>\r\n");
    srv(c, "250 2.1.5 ok\r\n");
    assert_string_equal(drain(c), "DATA\r\n");
    assert_int_equal(smtpc_state(c), SMTPC_ST_DATA);
    srv(c, "354 go ahead\r\n");
    assert_int_equal(smtpc_state(c), SMTPC_ST_BODY);
    assert_string_equal(drain(c), "Subject: hi\r\n\r\nhello\r\n.\r\n");
    assert_int_equal(smtpc_state(c), SMTPC_ST_DOT);
    assert_int_equal(fk.total, 0);
    assert_false(smtpc_idle(c));
    srv(c, "250 2.0.0 queued as X\r\n");
    assert_int_equal(fk.total, 2);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(fk.res[i].n, 1);
        assert_int_equal(fk.res[i].code, 250);
        assert_string_equal(fk.res[i].enh, "2.0.0");
        assert_string_equal(fk.res[i].text, "queued as X");
    }
    assert_int_equal(smtpc_last_reply(c)->code, 250);
    assert_int_equal(smtpc_last_error(c), 0);
    finish_quit(c);
}

static void test_pipelined_dialogue(void **state)
{
    (void)state;
    mkjob(3, "body\r\n");
    job.body_8bit = true;
    smtpc_t *c = open_session(EHLO_PIPE);
    assert_int_equal(smtpc_peer_size(c), 1000000);
    assert_string_equal(drain(c),
                        "MAIL FROM:<s@src.example> SIZE=6 BODY=8BITMIME\r\n"
                        "RCPT TO:<r0@dest.example>\r\n"
                        "RCPT TO:<r1@dest.example>\r\n"
                        "RCPT TO:<r2@dest.example>\r\n"
                        "DATA\r\n");
    srv(c, "250 ok\r\n250 ok\r\n550 5.1.1 no such user\r\n250 ok\r\n354 go\r\n");
    assert_int_equal(fk.total, 1);
    assert_int_equal(fk.res[1].code, 550);
    assert_string_equal(fk.res[1].enh, "5.1.1");
    assert_string_equal(fk.res[1].text, "no such user");
    assert_string_equal(drain(c), "body\r\n.\r\n");
    srv(c, "250 2.0.0 ok\r\n");
    assert_int_equal(fk.total, 3);
    assert_int_equal(fk.res[0].code, 250);
    assert_int_equal(fk.res[1].n, 1);
    assert_int_equal(fk.res[2].code, 250);
    finish_quit(c);
}

/* RFC 3461 5.2: the parameters are relayed to a peer that offers DSN, as
 * received (xtext kept); a peer without DSN gets none of them. */
static void test_dsn_params(void **state)
{
    (void)state;
    mkjob(3, "body\r\n");
    job.dsn_ret = SMTPC_RET_HDRS;
    job.dsn_envid = "QQ+2B1";
    /* ORCPT after the address's NUL (smtpc_rcpt_t.has_orcpt) */
    static const char a0[] = "r0@dest.example\0rfc822;a+2Bb@src.example";
    static const char a2[] = "r2@dest.example\0bad value";  /* not xtext: left out */
    rcpts[0].addr = a0;
    rcpts[0].has_orcpt = 1;
    rcpts[0].notify = SMTPC_NOTIFY_SUCCESS | SMTPC_NOTIFY_FAILURE | SMTPC_NOTIFY_DELAY;
    rcpts[1].notify = SMTPC_NOTIFY_NEVER;
    rcpts[2].addr = a2;
    rcpts[2].has_orcpt = 1;
    rcpts[2].notify = SMTPC_NOTIFY_DELAY;
    smtpc_t *c = open_session("250-mx.dest.example\r\n250-PIPELINING\r\n250 DSN\r\n");
    assert_true((smtpc_ext(c) & SMTP_EXT_DSN) != 0u);
    assert_string_equal(drain(c),
                        "MAIL FROM:<s@src.example> RET=HDRS ENVID=QQ+2B1\r\n"
                        "RCPT TO:<r0@dest.example> NOTIFY=SUCCESS,FAILURE,DELAY ORCPT=rfc822;a+2Bb@src.example\r\n"
                        "RCPT TO:<r1@dest.example> NOTIFY=NEVER\r\n"
                        "RCPT TO:<r2@dest.example> NOTIFY=DELAY\r\n"
                        "DATA\r\n");
    srv(c, "250 ok\r\n250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n");
    assert_string_equal(drain(c), "body\r\n.\r\n");
    srv(c, "250 2.0.0 ok\r\n");
    assert_int_equal(fk.total, 3);
    finish_quit(c);

    /* the same job to a peer without DSN */
    rcpts[2].has_orcpt = 0;
    c = open_session(EHLO_PIPE);
    assert_string_equal(drain(c),
                        "MAIL FROM:<s@src.example> SIZE=6\r\n"
                        "RCPT TO:<r0@dest.example>\r\n"
                        "RCPT TO:<r1@dest.example>\r\n"
                        "RCPT TO:<r2@dest.example>\r\n"
                        "DATA\r\n");
    srv(c, "250 ok\r\n250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n");
    assert_string_equal(drain(c), "body\r\n.\r\n");
    srv(c, "250 2.0.0 ok\r\n");
    finish_quit(c);
}

/* Replies to a pipelined batch arriving one byte at a time. */
static void test_pipelined_bytewise(void **state)
{
    (void)state;
    mkjob(2, "x\r\n");
    smtpc_t *c = open_session(EHLO_PIPE);
    drain(c);
    const char *rep = "250 ok\r\n451 4.2.0 later\r\n250 ok\r\n354 go\r\n";
    for (size_t i = 0; rep[i] != '\0'; i++) {
        assert_int_equal(smtpc_input(c, (const uint8_t *)rep + i, 1, now), 1);
    }
    assert_int_equal(fk.res[0].code, 451);
    assert_string_equal(drain(c), "x\r\n.\r\n");
    srv(c, "250 ok\r\n");
    assert_int_equal(fk.res[1].code, 250);
    assert_int_equal(fk.res[0].n, 1);
    finish_quit(c);
}

static void test_helo_fallback(void **state)
{
    (void)state;
    mkjob(1, "b\r\n");
    job.body_8bit = true;
    smtpc_t *c = open_session("502 5.5.2 EHLO not implemented\r\n");
    assert_int_equal(smtpc_state(c), SMTPC_ST_HELO);
    assert_string_equal(drain(c), "HELO gw.example\r\n");
    srv(c, "250 mx.dest.example\r\n");
    assert_int_equal(smtpc_ext(c), 0);
    /* 8-bit body to a peer without 8BITMIME: sent anyway, without BODY= */
    assert_string_equal(drain(c), "MAIL FROM:<s@src.example>\r\n");
    srv(c, "250 ok\r\n");
    assert_string_equal(drain(c), "RCPT TO:<r0@dest.example>\r\n");
    srv(c, "250 ok\r\n");
    assert_string_equal(drain(c), "DATA\r\n");
    srv(c, "354 go\r\n");
    assert_string_equal(drain(c), "b\r\n.\r\n");
    srv(c, "250 ok\r\n");
    assert_int_equal(fk.res[0].code, 250);
    finish_quit(c);
}

static void test_helo_refused(void **state)
{
    (void)state;
    mkjob(1, "b\r\n");
    smtpc_t *c = open_session("500 what\r\n");
    drain(c);
    srv(c, "550 5.7.1 go away\r\n");
    assert_int_equal(fk.res[0].n, 1);
    assert_int_equal(fk.res[0].code, 0);
    assert_int_equal(smtpc_last_error(c), 550);
    assert_string_equal(drain(c), "QUIT\r\n");
    srv(c, "221 bye\r\n");
    assert_true(smtpc_done(c));
    smtpc_close(c);
}

static void test_rejected_rcpt_plain(void **state)
{
    (void)state;
    mkjob(2, "b\r\n");
    smtpc_t *c = open_session(EHLO_PLAIN);
    drain(c);
    srv(c, "250 ok\r\n");
    drain(c);
    srv(c, "550 5.1.1 unknown\r\n");
    assert_int_equal(fk.res[0].code, 550);
    assert_string_equal(drain(c), "RCPT TO:<r1@dest.example>\r\n");
    srv(c, "250 ok\r\n");
    assert_string_equal(drain(c), "DATA\r\n");
    srv(c, "354 go\r\n");
    drain(c);
    srv(c, "250 ok\r\n");
    assert_int_equal(fk.res[1].code, 250);
    assert_int_equal(fk.res[0].n, 1);
    finish_quit(c);
}

static void test_all_rejected_plain(void **state)
{
    (void)state;
    mkjob(2, "b\r\n");
    smtpc_t *c = open_session(EHLO_PLAIN);
    drain(c);
    srv(c, "250 ok\r\n");
    drain(c);
    srv(c, "550 5.1.1 unknown\r\n");
    drain(c);
    srv(c, "450 4.2.1 busy\r\n");
    /* no DATA: RSET ends the transaction */
    assert_string_equal(drain(c), "RSET\r\n");
    assert_int_equal(smtpc_state(c), SMTPC_ST_RSET);
    assert_int_equal(fk.res[0].code, 550);
    assert_int_equal(fk.res[1].code, 450);
    assert_false(smtpc_idle(c));
    srv(c, "250 flushed\r\n");
    assert_true(smtpc_idle(c));
    assert_int_equal(fk.total, 2);
    assert_int_equal(fk.reads, 0);
    finish_quit(c);
}

static void test_all_rejected_pipelined(void **state)
{
    (void)state;
    mkjob(2, "b\r\n");
    smtpc_t *c = open_session(EHLO_PIPE);
    drain(c);
    srv(c, "250 ok\r\n550 no\r\n550 no\r\n554 5.5.1 no valid recipients\r\n");
    assert_string_equal(drain(c), "RSET\r\n");
    srv(c, "250 ok\r\n");
    assert_true(smtpc_idle(c));
    assert_int_equal(fk.total, 2);

    /* a server that (wrongly) answers DATA with 354: a lone dot ends it */
    mkjob(2, "b\r\n");
    assert_int_equal(smtpc_next(c, &job), SMTPC_OK);
    drain(c);
    srv(c, "250 ok\r\n550 no\r\n550 no\r\n354 go\r\n");
    assert_string_equal(drain(c), ".\r\n");
    assert_int_equal(smtpc_state(c), SMTPC_ST_DOT);
    srv(c, "554 no valid recipients\r\n");
    assert_true(smtpc_idle(c));
    assert_int_equal(fk.total, 2);
    assert_int_equal(fk.res[0].code, 550);
    assert_int_equal(fk.reads, 0);
    finish_quit(c);
}

static void test_mail_rejected(void **state)
{
    (void)state;
    /* pipelined: every rcpt gets the MAIL reply, later replies ignored */
    mkjob(2, "b\r\n");
    smtpc_t *c = open_session(EHLO_PIPE);
    drain(c);
    srv(c, "553 5.1.8 bad sender\r\n503 5.5.1 need MAIL\r\n");
    assert_int_equal(fk.total, 2);
    assert_int_equal(fk.res[0].code, 553);
    assert_string_equal(fk.res[1].enh, "5.1.8");
    assert_int_equal(smtpc_state(c), SMTPC_ST_RCPT);
    srv(c, "503 5.5.1 need MAIL\r\n503 5.5.1 need MAIL\r\n");
    assert_string_equal(drain(c), "RSET\r\n");
    srv(c, "250 ok\r\n");
    assert_true(smtpc_idle(c));
    assert_int_equal(fk.total, 2);

    /* not pipelined: straight back to idle, nothing else sent */
    smtpc_close(c);
    mkjob(2, "b\r\n");
    c = open_session(EHLO_PLAIN);
    drain(c);
    srv(c, "451 4.3.0 try later\r\n");
    assert_int_equal(fk.res[0].code, 451);
    assert_int_equal(fk.res[1].code, 451);
    assert_true(smtpc_idle(c));
    assert_string_equal(drain(c), "");
    finish_quit(c);
}

static void test_size_refusal(void **state)
{
    (void)state;
    static char big[2001];
    memset(big, 'a', 2000);
    mkjob(3, big);
    smtpc_t *c = open_session("250-mx\r\n250-PIPELINING\r\n250 SIZE 1000\r\n");
    assert_string_equal(drain(c), "");
    assert_true(smtpc_idle(c));
    assert_int_equal(fk.total, 3);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(fk.res[i].code, 552);
        assert_string_equal(fk.res[i].enh, "5.3.4");
    }
    /* a message that fits goes out on the same session with SIZE= */
    mkjob(1, "small\r\n");
    assert_int_equal(smtpc_next(c, &job), SMTPC_OK);
    assert_string_equal(drain(c), "MAIL FROM:<s@src.example> SIZE=7\r\n"
                                  "RCPT TO:<r0@dest.example>\r\nDATA\r\n");
    smtpc_close(c); /* mid-transaction: recipient deferred */
    assert_int_equal(fk.res[0].code, 0);
    assert_int_equal(fk.res[0].n, 1);
}

static void body_roundtrip(const char *body, const char *wire, size_t step)
{
    mkjob(1, body);
    smtpc_t *c = open_session(EHLO_PIPE);
    drain(c);
    srv(c, "250 ok\r\n250 ok\r\n354 go\r\n");
    drain_step(c, step);
    assert_int_equal(outlen, strlen(wire));
    assert_memory_equal(out, wire, outlen);
    srv(c, "250 ok\r\n");
    assert_int_equal(fk.res[0].code, 250);
    finish_quit(c);
}

static void test_dot_stuffing(void **state)
{
    (void)state;
    body_roundtrip(".hidden\r\nline\r\n..two\r\n.\r\nend",
                   "..hidden\r\nline\r\n...two\r\n..\r\nend\r\n.\r\n", 0);
    body_roundtrip("", ".\r\n", 0);
    body_roundtrip("a\r\n.", "a\r\n..\r\n.\r\n", 0);
}

/* A body much larger than SMTPC_OUTBUF, drained in odd-sized pieces. */
static void test_large_body(void **state)
{
    (void)state;
    static char body[20000], wire[30000];
    size_t b = 0, w = 0;
    unsigned line = 0;
    while (b < sizeof(body) - 64) {
        int n = snprintf(body + b, 64, "%s%u abcdefghij\r\n", (line % 3 == 0) ? "." : "",
                         line);
        int m = snprintf(wire + w, 64, "%s%u abcdefghij\r\n", (line % 3 == 0) ? ".." : "",
                         line);
        b += (size_t)n;
        w += (size_t)m;
        line++;
    }
    body[b] = '\0';
    memcpy(wire + w, ".\r\n", 4);
    body_roundtrip(body, wire, 7);
    body_roundtrip(body, wire, 0);
    body_roundtrip(body, wire, 1500);
}

static void test_data_4xx(void **state)
{
    (void)state;
    mkjob(2, "b\r\n");
    smtpc_t *c = open_session(EHLO_PLAIN);
    drain(c);
    srv(c, "250 ok\r\n");
    drain(c);
    srv(c, "250 ok\r\n");
    drain(c);
    srv(c, "550 no\r\n");
    assert_string_equal(drain(c), "DATA\r\n");
    srv(c, "451 4.3.0 local error\r\n");
    assert_int_equal(fk.res[0].code, 451);
    assert_string_equal(fk.res[0].enh, "4.3.0");
    assert_int_equal(fk.res[1].code, 550);
    assert_string_equal(drain(c), "RSET\r\n");
    srv(c, "250 ok\r\n");
    assert_true(smtpc_idle(c));
    assert_int_equal(fk.total, 2);
    finish_quit(c);
}

static void test_final_5xx(void **state)
{
    (void)state;
    mkjob(2, "b\r\n");
    smtpc_t *c = open_session(EHLO_PIPE);
    drain(c);
    srv(c, "250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n");
    drain(c);
    srv(c, "554 5.7.1 rejected: spam\r\n");
    assert_int_equal(fk.res[0].code, 554);
    assert_int_equal(fk.res[1].code, 554);
    assert_string_equal(fk.res[1].text, "rejected: spam");
    assert_true(smtpc_idle(c)); /* no RSET needed after a final reply */
    assert_string_equal(drain(c), "");
    finish_quit(c);
}

static void test_greeting_554(void **state)
{
    (void)state;
    mkjob(2, "b\r\n");
    smtpc_t *c = smtpc_open(&job, now);
    assert_non_null(c);
    srv(c, "554 5.7.1 no service for you\r\n");
    assert_int_equal(smtpc_last_error(c), 554);
    assert_int_equal(fk.total, 2);
    assert_int_equal(fk.res[0].code, 0); /* refusal of us: defer */
    assert_string_equal(fk.res[0].enh, "5.7.1");
    assert_string_equal(fk.res[0].text, "greeting refused: 554 no service for you");
    assert_string_equal(drain(c), "QUIT\r\n");
    assert_int_equal(smtpc_state(c), SMTPC_ST_QUIT);
    smtpc_abort(c, -14); /* server closes without a 221: still clean */
    assert_true(smtpc_done(c));
    assert_int_equal(smtpc_state(c), SMTPC_ST_DONE);
    assert_int_equal(smtpc_abort_err(c), -14);
    smtpc_close(c);
    assert_int_equal(fk.total, 2);
}

static void test_greeting_421(void **state)
{
    (void)state;
    mkjob(1, "b\r\n");
    smtpc_t *c = smtpc_open(&job, now);
    srv(c, "421 4.3.2 shutting down\r\n");
    assert_int_equal(smtpc_state(c), SMTPC_ST_FAILED);
    assert_int_equal(smtpc_last_error(c), 421);
    assert_int_equal(fk.res[0].code, 421);
    assert_string_equal(drain(c), "");
    smtpc_close(c);
    assert_int_equal(fk.total, 1);
}

static void test_421_mid_transaction(void **state)
{
    (void)state;
    mkjob(3, "b\r\n");
    smtpc_t *c = open_session(EHLO_PIPE);
    drain(c);
    srv(c, "250 ok\r\n550 no\r\n421 4.4.2 timeout, closing\r\n");
    assert_int_equal(smtpc_state(c), SMTPC_ST_FAILED);
    assert_int_equal(fk.res[0].code, 550);
    assert_int_equal(fk.res[1].code, 421);
    assert_int_equal(fk.res[2].code, 421);
    assert_int_equal(fk.total, 3);
    smtpc_close(c);
    assert_int_equal(fk.total, 3);
}

static void test_timeouts(void **state)
{
    (void)state;
    /* greeting: 5 min; clock near wrap-around */
    now = 0xFFFFFF00u;
    mkjob(2, "b\r\n");
    smtpc_t *c = smtpc_open(&job, now);
    smtpc_tick(c, now + SMTPC_TO_GREETING_MS - 1);
    assert_int_equal(smtpc_state(c), SMTPC_ST_GREETING);
    smtpc_tick(c, now + SMTPC_TO_GREETING_MS);
    assert_int_equal(smtpc_state(c), SMTPC_ST_FAILED);
    assert_int_equal(smtpc_last_error(c), SMTPC_ERR_TIMEOUT);
    assert_int_equal(fk.res[0].code, 0);
    assert_int_equal(fk.res[1].code, 0);
    assert_non_null(strstr(fk.res[0].text, "timeout"));
    assert_true(smtpc_done(c));
    smtpc_close(c);

    /* DATA initiation: 2 min */
    now = 5000;
    mkjob(1, "b\r\n");
    c = open_session(EHLO_PIPE);
    drain(c);
    srv(c, "250 ok\r\n250 ok\r\n");
    assert_int_equal(smtpc_state(c), SMTPC_ST_DATA);
    smtpc_tick(c, now + SMTPC_TO_DATA_MS - 1);
    assert_int_equal(smtpc_state(c), SMTPC_ST_DATA);
    smtpc_tick(c, now + SMTPC_TO_DATA_MS);
    assert_int_equal(smtpc_state(c), SMTPC_ST_FAILED);
    assert_int_equal(fk.res[0].code, 0);
    smtpc_close(c);

    /* RCPT: 5 min per reply */
    now = 5000;
    mkjob(2, "b\r\n");
    c = open_session(EHLO_PIPE);
    drain(c);
    srv(c, "250 ok\r\n");
    now += SMTPC_TO_RCPT_MS - 10;
    srv(c, "550 no\r\n"); /* refreshes the timer */
    smtpc_tick(c, now + SMTPC_TO_RCPT_MS - 1);
    assert_int_equal(smtpc_state(c), SMTPC_ST_RCPT);
    smtpc_tick(c, now + SMTPC_TO_RCPT_MS);
    assert_int_equal(smtpc_state(c), SMTPC_ST_FAILED);
    assert_int_equal(fk.res[0].code, 550);
    assert_int_equal(fk.res[1].code, 0);
    assert_int_equal(fk.total, 2);
    smtpc_close(c);
}

static void test_block_and_dot_timeouts(void **state)
{
    (void)state;
    static char big[10000];
    memset(big, 'x', sizeof(big) - 1);
    now = 0;
    mkjob(1, big);
    smtpc_t *c = open_session(EHLO_PIPE);
    drain(c);
    srv(c, "250 ok\r\n250 ok\r\n354 go\r\n");
    assert_int_equal(smtpc_state(c), SMTPC_ST_BODY);
    /* the peer keeps taking data slowly: no timeout as long as it moves */
    const uint8_t *p;
    for (int i = 0; i < 3; i++) {
        size_t n = smtpc_output_peek(c, &p);
        assert_true(n > 0);
        smtpc_output_consume(c, n);
        now += SMTPC_TO_BLOCK_MS - 1000;
        smtpc_tick(c, now);
        assert_int_equal(smtpc_state(c), SMTPC_ST_BODY);
    }
    /* stalls: 3 minutes without progress */
    assert_true(smtpc_output_peek(c, &p) > 0);
    smtpc_tick(c, now + SMTPC_TO_BLOCK_MS - 1);
    assert_int_equal(smtpc_state(c), SMTPC_ST_BODY);
    smtpc_tick(c, now + SMTPC_TO_BLOCK_MS);
    assert_int_equal(smtpc_state(c), SMTPC_ST_FAILED);
    assert_int_equal(fk.res[0].code, 0);
    assert_int_equal(smtpc_last_error(c), SMTPC_ERR_TIMEOUT);
    smtpc_close(c);

    /* final dot: 10 min */
    now = 0;
    mkjob(1, "short\r\n");
    c = open_session(EHLO_PIPE);
    drain(c);
    srv(c, "250 ok\r\n250 ok\r\n354 go\r\n");
    drain(c);
    assert_int_equal(smtpc_state(c), SMTPC_ST_DOT);
    smtpc_tick(c, now + SMTPC_TO_DOT_MS - 1);
    assert_int_equal(smtpc_state(c), SMTPC_ST_DOT);
    smtpc_tick(c, now + SMTPC_TO_DOT_MS);
    assert_int_equal(smtpc_state(c), SMTPC_ST_FAILED);
    assert_int_equal(fk.res[0].code, 0);
    smtpc_close(c);
}

static void test_several_messages(void **state)
{
    (void)state;
    mkjob(1, "one\r\n");
    smtpc_t *c = open_session(EHLO_PIPE);
    drain(c);
    srv(c, "250 ok\r\n250 ok\r\n354 go\r\n");
    assert_string_equal(drain(c), "one\r\n.\r\n");
    srv(c, "250 ok 1\r\n");
    assert_int_equal(fk.res[0].code, 250);
    assert_true(smtpc_idle(c));
    assert_int_equal(smtpc_next(c, &job), SMTPC_OK); /* job still set up: reuse */
    assert_int_equal(smtpc_next(c, &job), SMTPC_ERR_STATE);
    assert_int_equal(smtpc_quit(c), SMTPC_ERR_STATE);

    /* second message (same fake; counters accumulate) */
    drain(c);
    srv(c, "250 ok\r\n250 ok\r\n354 go\r\n");
    assert_string_equal(drain(c), "one\r\n.\r\n");
    srv(c, "250 ok 2\r\n");
    assert_int_equal(fk.res[0].n, 2);

    /* third, different job, 2 rcpts */
    mkjob(2, "three\r\n");
    assert_int_equal(smtpc_next(c, &job), SMTPC_OK);
    assert_string_equal(drain(c), "MAIL FROM:<s@src.example> SIZE=7\r\n"
                                  "RCPT TO:<r0@dest.example>\r\n"
                                  "RCPT TO:<r1@dest.example>\r\nDATA\r\n");
    srv(c, "250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n");
    assert_string_equal(drain(c), "three\r\n.\r\n");
    srv(c, "250 ok 3\r\n");
    assert_int_equal(fk.total, 2);
    finish_quit(c);
}

static void test_abort_mid_rcpt(void **state)
{
    (void)state;
    mkjob(3, "b\r\n");
    smtpc_t *c = open_session(EHLO_PLAIN);
    drain(c);
    srv(c, "250 ok\r\n");
    drain(c);
    srv(c, "550 no\r\n");
    drain(c);
    srv(c, "250 ok\r\n"); /* r1 accepted, r2 pending */
    smtpc_abort(c, -11);
    assert_int_equal(smtpc_state(c), SMTPC_ST_FAILED);
    assert_int_equal(smtpc_last_error(c), SMTPC_ERR_ABORT);
    assert_int_equal(smtpc_abort_err(c), -11);
    assert_int_equal(fk.res[0].code, 550);
    assert_int_equal(fk.res[1].code, 0);
    assert_int_equal(fk.res[2].code, 0);
    assert_int_equal(fk.total, 3);
    /* late bytes are ignored */
    assert_int_equal(smtpc_input(c, (const uint8_t *)"250 ok\r\n", 8, now), 0);
    smtpc_close(c);
    assert_int_equal(fk.total, 3);
}

static void test_bad_addresses(void **state)
{
    (void)state;
    mkjob(3, "b\r\n");
    rcpts[1].addr = "evil@x\r\nRCPT TO:<injected@x>";
    smtpc_t *c = open_session(EHLO_PIPE);
    assert_int_equal(fk.res[1].code, 553);
    assert_string_equal(fk.res[1].enh, "5.1.3");
    assert_string_equal(drain(c), "MAIL FROM:<s@src.example> SIZE=3\r\n"
                                  "RCPT TO:<r0@dest.example>\r\n"
                                  "RCPT TO:<r2@dest.example>\r\nDATA\r\n");
    srv(c, "250 ok\r\n250 ok\r\n550 no\r\n354 go\r\n");
    assert_int_equal(fk.res[2].code, 550);
    drain(c);
    srv(c, "250 ok\r\n");
    assert_int_equal(fk.res[0].code, 250);
    assert_int_equal(fk.res[1].n, 1);
    assert_int_equal(fk.total, 3);

    /* bad sender: all 553 5.1.7, nothing sent; null sender is fine */
    mkjob(2, "b\r\n");
    job.sender = "a<b";
    assert_int_equal(smtpc_next(c, &job), SMTPC_OK);
    assert_int_equal(fk.res[0].code, 553);
    assert_string_equal(fk.res[1].enh, "5.1.7");
    assert_string_equal(drain(c), "");
    assert_true(smtpc_idle(c));
    mkjob(1, "b\r\n");
    job.sender = NULL;
    assert_int_equal(smtpc_next(c, &job), SMTPC_OK);
    assert_string_equal(drain(c), "MAIL FROM:<> SIZE=3\r\nRCPT TO:<r0@dest.example>\r\n"
                                  "DATA\r\n");
    smtpc_close(c);
}

static void test_malformed_reply(void **state)
{
    (void)state;
    mkjob(1, "b\r\n");
    smtpc_t *c = open_session(EHLO_PIPE);
    drain(c);
    srv(c, "250 ok\r\n");
    const char *bad = "2x0 what\r\n";
    assert_true(smtpc_input(c, (const uint8_t *)bad, strlen(bad), now) < strlen(bad));
    assert_int_equal(smtpc_state(c), SMTPC_ST_FAILED);
    assert_int_equal(smtpc_last_error(c), SMTPC_ERR_PROTO);
    assert_int_equal(fk.res[0].code, 0);
    smtpc_close(c);

    /* a reply to EHLO before EHLO went out */
    mkjob(1, "b\r\n");
    c = smtpc_open(&job, now);
    srv(c, "220 hi\r\n250 ok\r\n");
    assert_int_equal(smtpc_state(c), SMTPC_ST_FAILED);
    assert_int_equal(smtpc_last_error(c), SMTPC_ERR_PROTO);
    assert_int_equal(fk.res[0].code, 0);
    smtpc_close(c);

    /* unsolicited reply while idle */
    mkjob(1, "b\r\n");
    job.size = 5000;
    c = open_session("250-mx\r\n250 SIZE 10\r\n");
    assert_true(smtpc_idle(c));
    srv(c, "250 surprise\r\n");
    assert_int_equal(smtpc_state(c), SMTPC_ST_FAILED);
    smtpc_close(c);
}

static void test_read_error(void **state)
{
    (void)state;
    static char big[6000];
    memset(big, 'y', sizeof(big) - 1);
    mkjob(1, big);
    fk.fail_at = 3000;
    smtpc_t *c = open_session(EHLO_PIPE);
    drain(c);
    srv(c, "250 ok\r\n250 ok\r\n354 go\r\n");
    drain(c);
    assert_int_equal(smtpc_state(c), SMTPC_ST_FAILED);
    assert_int_equal(smtpc_last_error(c), SMTPC_ERR_READ);
    assert_int_equal(fk.res[0].code, 0);
    smtpc_close(c);
}

/* 100 recipients: the pipelined batch is larger than the output buffer. */
static void test_many_rcpts_pipelined(void **state)
{
    (void)state;
    mkjob(SMTPC_MAX_RCPTS, "b\r\n");
    smtpc_t *c = open_session(EHLO_PIPE);
    const char *o = drain(c);
    /* everything came out, in order */
    assert_int_equal(strncmp(o, "MAIL FROM:", 10), 0);
    assert_non_null(strstr(o, "RCPT TO:<r99@dest.example>\r\nDATA\r\n"));
    assert_true(outlen > SMTPC_OUTBUF);
    srv(c, "250 ok\r\n");
    for (unsigned i = 0; i < SMTPC_MAX_RCPTS; i++) {
        srv(c, (i % 2) ? "250 ok\r\n" : "450 4.2.2 full\r\n");
    }
    srv(c, "354 go\r\n");
    drain(c);
    srv(c, "250 ok\r\n");
    for (unsigned i = 0; i < SMTPC_MAX_RCPTS; i++) {
        assert_int_equal(fk.res[i].n, 1);
        assert_int_equal(fk.res[i].code, (i % 2) ? 250 : 450);
    }
    finish_quit(c);

    mkjob(SMTPC_MAX_RCPTS + 1, "b\r\n");
    assert_null(smtpc_open(&job, now)); /* too many */
}

static void test_pool_and_checks(void **state)
{
    (void)state;
    smtpc_t *cs[SMTPC_MAX_CONN];
    mkjob(1, "b\r\n");
    for (int i = 0; i < SMTPC_MAX_CONN; i++) {
        cs[i] = smtpc_open(&job, now);
        assert_non_null(cs[i]);
    }
    assert_null(smtpc_open(&job, now));
    smtpc_close(cs[1]);
    assert_int_equal(fk.total, 1); /* closed before greeting: deferred */
    assert_int_equal(fk.res[0].code, 0);
    cs[1] = smtpc_open(&job, now);
    assert_non_null(cs[1]);
    for (int i = 0; i < SMTPC_MAX_CONN; i++) {
        smtpc_close(cs[i]);
    }
    job.ehlo_name = "bad name";
    assert_int_equal(smtpc_job_check(&job), SMTPC_ERR_INVAL);
    job.ehlo_name = "gw.example";
    job.read = NULL;
    assert_int_equal(smtpc_job_check(&job), SMTPC_ERR_INVAL);
    assert_null(smtpc_open(&job, now));
    assert_int_equal(smtpc_job_check(NULL), SMTPC_ERR_INVAL);
    assert_string_equal(smtpc_state_name(SMTPC_ST_IDLE), "IDLE");
    assert_string_equal(smtpc_state_name(SMTPC_ST_COUNT), "?");
    for (int s = 0; s < SMTPC_ST_COUNT; s++) {
        assert_non_null(smtpc_state_name((smtpc_state_t)s));
    }
    assert_string_equal(smtpc_strerror(SMTPC_ERR_TIMEOUT), "timeout");
}

/* ------------------------------------------------------------ STARTTLS / AUTH */

static int tls_calls;
static bool tls_ret;
static void *tls_ctx_seen;

static bool fake_tls_begin(void *ctx)
{
    tls_calls++;
    tls_ctx_seen = ctx;
    return tls_ret;
}

static const char *EHLO_TLS =
    "250-mx.dest.example\r\n250-PIPELINING\r\n250-SIZE 10\r\n250 STARTTLS\r\n";
static const char *EHLO_AFTER_TLS =
    "250-mx.dest.example\r\n250-PIPELINING\r\n250-STARTTLS\r\n"
    "250 AUTH PLAIN LOGIN\r\n";

#define USER "alice"
#define PASS "s3cret pass"
#define PLAIN_B64 "AGFsaWNlAHMzY3JldCBwYXNz"  /* \0alice\0s3cret pass */
#define USER_B64 "YWxpY2U="
#define PASS_B64 "czNjcmV0IHBhc3M="

static void mkjob_tls(unsigned n, uint8_t mode, bool begin_ret)
{
    mkjob(n, "b\r\n");
    job.tls = mode;
    job.tls_begin = fake_tls_begin;
    tls_ret = begin_ret;
    tls_calls = 0;
    tls_ctx_seen = NULL;
}

/* Every recipient deferred (code 0) with text, nothing but QUIT sent. */
static void expect_session_fail(smtpc_t *c, unsigned n, int err, const char *text)
{
    assert_int_equal(fk.total, (int)n);
    for (unsigned i = 0; i < n; i++) {
        assert_int_equal(fk.res[i].n, 1);
        assert_int_equal(fk.res[i].code, 0);
        assert_string_equal(fk.res[i].text, text);
    }
    assert_int_equal(smtpc_last_error(c), err);
    assert_string_equal(drain(c), "QUIT\r\n");
    srv(c, "221 bye\r\n");
    assert_true(smtpc_done(c));
    assert_int_equal(smtpc_last_error(c), err);
    smtpc_close(c);
    assert_int_equal(fk.total, (int)n);
}

/* Up to the 220 to STARTTLS; returns with the handshake pending. */
static smtpc_t *open_starttls(const char *ehlo_reply, const char *reply220)
{
    smtpc_t *c = open_session(ehlo_reply);
    assert_int_equal(tls_calls, 1);
    assert_ptr_equal(tls_ctx_seen, &fk);
    assert_int_equal(smtpc_state(c), SMTPC_ST_STARTTLS);
    /* RFC 3207 4.2 / RFC 2920: STARTTLS ends the group, nothing follows */
    assert_string_equal(drain(c), "STARTTLS\r\n");
    assert_string_equal(drain(c), "");
    assert_false(smtpc_starttls_pending(c));
    srv(c, reply220);
    assert_true(smtpc_starttls_pending(c));
    assert_int_equal(smtpc_state(c), SMTPC_ST_TLSWAIT);
    assert_false(smtpc_tls_active(c));
    assert_string_equal(drain(c), "");
    return c;
}

/* Handshake done: EHLO again, with the given reply. */
static void tls_up(smtpc_t *c, const char *ehlo_reply)
{
    smtpc_tls_started(c, now);
    assert_false(smtpc_starttls_pending(c));
    assert_true(smtpc_tls_active(c));
    assert_int_equal(smtpc_state(c), SMTPC_ST_EHLO);
    assert_int_equal(smtpc_ext(c), 0); /* pre-TLS knowledge is gone */
    assert_string_equal(drain(c), "EHLO gw.example\r\n");
    srv(c, ehlo_reply);
}

static void finish_one(smtpc_t *c, const char *mail_batch)
{
    assert_string_equal(drain(c), mail_batch);
    srv(c, "250 ok\r\n250 ok\r\n354 go\r\n");
    assert_string_equal(drain(c), "b\r\n.\r\n");
    srv(c, "250 2.0.0 queued\r\n");
    assert_int_equal(fk.res[0].code, 250);
}

static void test_tls_may_offered(void **state)
{
    (void)state;
    mkjob_tls(1, SMTPC_TLS_MAY, true);
    job.size = 5000; /* above the pre-TLS SIZE 10, which must be forgotten */
    smtpc_t *c = open_starttls(EHLO_TLS, "220 2.0.0 ready to start TLS\r\n");
    assert_int_equal(fk.total, 0);
    tls_up(c, "250-mx.dest.example\r\n250-PIPELINING\r\n250 STARTTLS\r\n");
    /* a (wrong) STARTTLS over TLS is not taken up again */
    assert_int_equal(tls_calls, 1);
    assert_int_equal(smtpc_ext(c), SMTP_EXT_PIPELINING | SMTP_EXT_STARTTLS);
    assert_false(smtpc_authenticated(c));
    finish_one(c, "MAIL FROM:<s@src.example>\r\nRCPT TO:<r0@dest.example>\r\nDATA\r\n");
    smtpc_tls_started(c, now); /* outside TLSWAIT: ignored */
    assert_int_equal(smtpc_state(c), SMTPC_ST_IDLE);
    assert_string_equal(drain(c), "");
    finish_quit(c);
}

static void test_tls_may_fallbacks(void **state)
{
    (void)state;
    /* not offered: plaintext, tls_begin not even asked */
    mkjob_tls(1, SMTPC_TLS_MAY, true);
    smtpc_t *c = open_session(EHLO_PIPE);
    assert_int_equal(tls_calls, 0);
    finish_one(c, "MAIL FROM:<s@src.example> SIZE=3\r\nRCPT TO:<r0@dest.example>\r\n"
                  "DATA\r\n");
    assert_false(smtpc_tls_active(c));
    finish_quit(c);

    /* offered, but the glue has no TLS session: plaintext */
    mkjob_tls(1, SMTPC_TLS_MAY, false);
    c = open_session(EHLO_TLS);
    assert_int_equal(tls_calls, 1);
    assert_int_equal(smtpc_state(c), SMTPC_ST_MAIL);
    finish_one(c, "MAIL FROM:<s@src.example> SIZE=3\r\nRCPT TO:<r0@dest.example>\r\n"
                  "DATA\r\n");
    finish_quit(c);

    /* no tls_begin at all counts as false */
    mkjob_tls(1, SMTPC_TLS_MAY, true);
    job.tls_begin = NULL;
    c = open_session(EHLO_TLS);
    assert_int_equal(smtpc_state(c), SMTPC_ST_MAIL);
    smtpc_close(c);
    assert_int_equal(fk.res[0].code, 0);

    /* STARTTLS refused: plaintext on the same connection */
    mkjob_tls(1, SMTPC_TLS_MAY, true);
    c = open_session(EHLO_TLS);
    assert_string_equal(drain(c), "STARTTLS\r\n");
    srv(c, "454 4.7.0 TLS not available due to temporary reason\r\n");
    assert_false(smtpc_starttls_pending(c));
    assert_false(smtpc_tls_active(c));
    finish_one(c, "MAIL FROM:<s@src.example> SIZE=3\r\nRCPT TO:<r0@dest.example>\r\n"
                  "DATA\r\n");
    assert_int_equal(tls_calls, 1);
    finish_quit(c);

    /* NONE never asks, even when offered */
    mkjob_tls(1, SMTPC_TLS_NONE, true);
    c = open_session(EHLO_TLS);
    assert_int_equal(tls_calls, 0);
    assert_int_equal(smtpc_state(c), SMTPC_ST_MAIL);
    smtpc_close(c);
}

static void test_tls_require_failures(void **state)
{
    (void)state;
    /* not offered */
    mkjob_tls(2, SMTPC_TLS_REQUIRE, true);
    smtpc_t *c = open_session(EHLO_PIPE);
    assert_int_equal(tls_calls, 0);
    assert_string_equal(smtpc_error_text(c), "STARTTLS not offered by peer");
    expect_session_fail(c, 2, SMTPC_ERR_TLS, "STARTTLS not offered by peer");

    /* not offered, HELO-only peer */
    mkjob_tls(1, SMTPC_TLS_REQUIRE, true);
    c = open_session("502 5.5.2 what\r\n");
    assert_string_equal(drain(c), "HELO gw.example\r\n");
    srv(c, "250 hi\r\n");
    expect_session_fail(c, 1, SMTPC_ERR_TLS, "STARTTLS not offered by peer");

    /* refused: the server's words are passed on */
    mkjob_tls(2, SMTPC_TLS_REQUIRE, true);
    c = open_session(EHLO_TLS);
    assert_string_equal(drain(c), "STARTTLS\r\n");
    srv(c, "454 4.7.0 TLS not available\r\n");
    assert_false(smtpc_starttls_pending(c));
    assert_string_equal(fk.res[0].enh, "4.7.0");
    assert_string_equal(smtpc_error_text(c), "STARTTLS refused");
    expect_session_fail(c, 2, SMTPC_ERR_TLS, "STARTTLS refused: 454 TLS not available");

    /* a 5xx too */
    mkjob_tls(1, SMTPC_TLS_REQUIRE, true);
    c = open_session(EHLO_TLS);
    drain(c);
    srv(c, "502 5.5.1 not implemented\r\n");
    expect_session_fail(c, 1, SMTPC_ERR_TLS, "STARTTLS refused: 502 not implemented");

    /* no TLS session in the glue (false, and NULL) */
    mkjob_tls(2, SMTPC_TLS_REQUIRE, false);
    c = open_session(EHLO_TLS);
    assert_int_equal(tls_calls, 1);
    expect_session_fail(c, 2, SMTPC_ERR_TLS, "no TLS session available");
    mkjob_tls(1, SMTPC_TLS_REQUIRE, true);
    job.tls_begin = NULL;
    c = open_session(EHLO_TLS);
    assert_string_equal(smtpc_strerror(smtpc_last_error(c)), "TLS required but not established");
    expect_session_fail(c, 1, SMTPC_ERR_TLS, "no TLS session available");
}

/* CVE-2011-0411 class: plaintext after the 220 must never be a reply. */
static void test_tls_injection_discarded(void **state)
{
    (void)state;
    mkjob_tls(1, SMTPC_TLS_REQUIRE, true);
    smtpc_t *c = open_session(EHLO_TLS);
    assert_string_equal(drain(c), "STARTTLS\r\n");
    /* same buffer: the fake reply is consumed and dropped */
    srv(c, "220 go ahead\r\n250 fake\r\n");
    assert_true(smtpc_starttls_pending(c));
    assert_int_equal(smtpc_last_reply(c)->code, 220);
    /* later buffers before the handshake ends, even malformed or partial */
    srv(c, "250-mx\r\n250 AUTH PLAIN\r\n");
    srv(c, "garbage that is no reply\r\n");
    srv(c, "25");
    assert_true(smtpc_starttls_pending(c));
    assert_int_equal(smtpc_last_reply(c)->code, 220);
    assert_int_equal(fk.total, 0);
    assert_string_equal(drain(c), "");
    /* and the same one byte at a time */
    const char *inj = "250 2.0.0 ok\r\n354 go\r\n";
    for (size_t i = 0; inj[i] != '\0'; i++) {
        assert_int_equal(smtpc_input(c, (const uint8_t *)inj + i, 1, now), 1);
    }
    assert_int_equal(smtpc_state(c), SMTPC_ST_TLSWAIT);
    /* over TLS: a fresh parser (the "25" above is not prefixed) */
    smtpc_tls_started(c, now);
    assert_string_equal(drain(c), "EHLO gw.example\r\n");
    const char *rest = "0 still-not-a-reply\r\n"; /* "250 ..." if "25" had been kept */
    assert_true(smtpc_input(c, (const uint8_t *)rest, strlen(rest), now) < strlen(rest));
    assert_int_equal(smtpc_state(c), SMTPC_ST_FAILED);
    assert_int_equal(smtpc_last_error(c), SMTPC_ERR_PROTO);
    smtpc_close(c);

    /* the normal continuation after injected bytes */
    mkjob_tls(1, SMTPC_TLS_REQUIRE, true);
    c = open_starttls(EHLO_TLS, "220 go\r\n250 fake\r\n");
    srv(c, "250 more fake\r\n");
    tls_up(c, "250-mx.dest.example\r\n250 PIPELINING\r\n");
    finish_one(c, "MAIL FROM:<s@src.example>\r\nRCPT TO:<r0@dest.example>\r\nDATA\r\n");
    finish_quit(c);
}

static void test_tls_timeouts_and_abort(void **state)
{
    (void)state;
    /* STARTTLS reply: 5 min like EHLO */
    now = 100;
    mkjob_tls(1, SMTPC_TLS_MAY, true);
    smtpc_t *c = open_session(EHLO_TLS);
    drain(c);
    smtpc_tick(c, now + SMTPC_TO_MAIL_MS - 1);
    assert_int_equal(smtpc_state(c), SMTPC_ST_STARTTLS);
    smtpc_tick(c, now + SMTPC_TO_MAIL_MS);
    assert_int_equal(smtpc_state(c), SMTPC_ST_FAILED);
    assert_int_equal(smtpc_last_error(c), SMTPC_ERR_TIMEOUT);
    assert_int_equal(fk.res[0].code, 0);
    smtpc_close(c);

    /* a stalled handshake is bounded the same way */
    mkjob_tls(1, SMTPC_TLS_MAY, true);
    c = open_starttls(EHLO_TLS, "220 go\r\n");
    smtpc_tick(c, now + SMTPC_TO_MAIL_MS - 1);
    assert_true(smtpc_starttls_pending(c));
    smtpc_tick(c, now + SMTPC_TO_MAIL_MS);
    assert_int_equal(smtpc_state(c), SMTPC_ST_FAILED);
    assert_false(smtpc_starttls_pending(c));
    assert_int_equal(fk.res[0].code, 0);
    smtpc_tls_started(c, now); /* too late: ignored */
    assert_int_equal(smtpc_state(c), SMTPC_ST_FAILED);
    smtpc_close(c);

    /* handshake failure: the glue aborts */
    mkjob_tls(2, SMTPC_TLS_REQUIRE, true);
    c = open_starttls(EHLO_TLS, "220 go\r\n");
    smtpc_abort(c, -9);
    assert_int_equal(smtpc_state(c), SMTPC_ST_FAILED);
    assert_int_equal(smtpc_last_error(c), SMTPC_ERR_ABORT);
    assert_int_equal(fk.res[0].code, 0);
    assert_int_equal(fk.res[1].code, 0);
    assert_string_equal(drain(c), "");
    smtpc_close(c);

    /* 421 instead of 220 */
    mkjob_tls(1, SMTPC_TLS_MAY, true);
    c = open_session(EHLO_TLS);
    drain(c);
    srv(c, "421 4.3.2 going down\r\n");
    assert_int_equal(smtpc_state(c), SMTPC_ST_FAILED);
    assert_int_equal(fk.res[0].code, 421);
    smtpc_close(c);
}

static void mkjob_auth(unsigned n, uint8_t mode)
{
    mkjob_tls(n, mode, true);
    job.auth_user = USER;
    job.auth_pass = PASS;
}

/* STARTTLS + EHLO over TLS with the given reply. */
static smtpc_t *open_tls_session(const char *ehlo_after)
{
    smtpc_t *c = open_starttls(EHLO_TLS, "220 go\r\n");
    tls_up(c, ehlo_after);
    return c;
}

static void test_auth_plain(void **state)
{
    (void)state;
    mkjob_auth(1, SMTPC_TLS_REQUIRE);
    smtpc_t *c = open_tls_session(EHLO_AFTER_TLS);
    assert_int_equal(smtpc_auth_mechs(c), SMTP_AUTH_PLAIN | SMTP_AUTH_LOGIN);
    assert_int_equal(smtpc_state(c), SMTPC_ST_AUTH);
    /* PLAIN preferred; nothing pipelined behind AUTH despite PIPELINING */
    const char *line = "AUTH PLAIN " PLAIN_B64 "\r\n";
    assert_string_equal(drain(c), line);
    assert_string_equal(drain(c), "");
    /* the output buffer no longer holds the credentials once sent */
    const uint8_t *p;
    assert_int_equal(smtpc_output_peek(c, &p), 0);
    for (size_t i = 0; i < strlen(line); i++) {
        assert_int_equal(p[i], 0);
    }
    assert_false(smtpc_authenticated(c));
    srv(c, "235 2.7.0 Authentication successful\r\n");
    assert_true(smtpc_authenticated(c));
    finish_one(c, "MAIL FROM:<s@src.example>\r\nRCPT TO:<r0@dest.example>\r\nDATA\r\n");

    /* second job on the connection: no STARTTLS, no AUTH again */
    mkjob(2, "b\r\n");
    assert_int_equal(smtpc_next(c, &job), SMTPC_OK);
    assert_string_equal(drain(c), "MAIL FROM:<s@src.example>\r\n"
                                  "RCPT TO:<r0@dest.example>\r\n"
                                  "RCPT TO:<r1@dest.example>\r\nDATA\r\n");
    srv(c, "250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n");
    assert_string_equal(drain(c), "b\r\n.\r\n");
    srv(c, "250 ok\r\n");
    assert_int_equal(fk.res[1].code, 250);
    assert_true(smtpc_tls_active(c));
    assert_true(smtpc_authenticated(c));
    assert_int_equal(tls_calls, 1); /* the glue was not asked again */
    finish_quit(c);
}

static void test_auth_login(void **state)
{
    (void)state;
    /* plaintext allowed; the old "AUTH=LOGIN" form; PIPELINING offered */
    mkjob_auth(1, SMTPC_TLS_NONE);
    job.auth_plaintext_ok = true;
    smtpc_t *c = open_session("250-mx\r\n250-PIPELINING\r\n250 AUTH=LOGIN\r\n");
    assert_false(smtpc_tls_active(c));
    assert_string_equal(drain(c), "AUTH LOGIN\r\n");
    assert_string_equal(drain(c), "");
    srv(c, "334 VXNlcm5hbWU6\r\n");
    assert_int_equal(smtpc_state(c), SMTPC_ST_AUTH_USER);
    assert_string_equal(drain(c), USER_B64 "\r\n");
    srv(c, "334 UGFzc3dvcmQ6\r\n");
    assert_int_equal(smtpc_state(c), SMTPC_ST_AUTH_PASS);
    assert_string_equal(drain(c), PASS_B64 "\r\n");
    assert_string_equal(drain(c), "");
    srv(c, "235 ok\r\n");
    assert_true(smtpc_authenticated(c));
    finish_one(c, "MAIL FROM:<s@src.example>\r\nRCPT TO:<r0@dest.example>\r\nDATA\r\n");
    finish_quit(c);

    /* LOGIN over TLS, output drained in small steps */
    mkjob_auth(1, SMTPC_TLS_MAY);
    c = open_tls_session("250-mx\r\n250 AUTH CRAM-MD5 LOGIN\r\n");
    drain_step(c, 3);
    assert_string_equal(out, "AUTH LOGIN\r\n");
    srv(c, "334 VXNlcm5hbWU6\r\n");
    drain_step(c, 3);
    assert_string_equal(out, USER_B64 "\r\n");
    srv(c, "334 UGFzc3dvcmQ6\r\n");
    drain_step(c, 5);
    assert_string_equal(out, PASS_B64 "\r\n");
    srv(c, "235 ok\r\n");
    assert_string_equal(drain(c), "MAIL FROM:<s@src.example>\r\n");
    smtpc_close(c);
    assert_int_equal(fk.res[0].code, 0);
}

static void check_no_secret(void)
{
    for (unsigned i = 0; i < MAXR; i++) {
        assert_null(strstr(fk.res[i].text, PASS));
        assert_null(strstr(fk.res[i].text, PASS_B64));
        assert_null(strstr(fk.res[i].text, PLAIN_B64));
    }
}

static void test_auth_refused(void **state)
{
    (void)state;
    /* 535 to PLAIN */
    mkjob_auth(2, SMTPC_TLS_REQUIRE);
    smtpc_t *c = open_tls_session(EHLO_AFTER_TLS);
    drain(c);
    srv(c, "535 5.7.8 Authentication credentials invalid\r\n");
    assert_false(smtpc_authenticated(c));
    assert_string_equal(fk.res[0].enh, "5.7.8");
    assert_string_equal(fk.res[1].enh, "5.7.8");
    assert_string_equal(smtpc_error_text(c), "AUTH refused");
    check_no_secret();
    expect_session_fail(c, 2, 535,
                        "AUTH refused: 535 Authentication credentials invalid");

    /* 454 to the LOGIN user name */
    mkjob_auth(1, SMTPC_TLS_MAY);
    c = open_tls_session("250-mx\r\n250 AUTH LOGIN\r\n");
    assert_string_equal(drain(c), "AUTH LOGIN\r\n");
    srv(c, "334 VXNlcm5hbWU6\r\n");
    drain(c);
    srv(c, "454 4.7.0 Temporary authentication failure\r\n");
    assert_string_equal(fk.res[0].enh, "4.7.0");
    expect_session_fail(c, 1, 454, "AUTH refused: 454 Temporary authentication failure");

    /* 535 after the LOGIN password */
    mkjob_auth(1, SMTPC_TLS_MAY);
    c = open_tls_session("250-mx\r\n250 AUTH LOGIN\r\n");
    drain(c);
    srv(c, "334 VXNlcm5hbWU6\r\n");
    drain(c);
    srv(c, "334 UGFzc3dvcmQ6\r\n");
    drain(c);
    srv(c, "535 5.7.8 no\r\n");
    check_no_secret();
    expect_session_fail(c, 1, 535, "AUTH refused: 535 no");

    /* a 334 to PLAIN (initial response already sent): protocol error */
    mkjob_auth(1, SMTPC_TLS_MAY);
    c = open_tls_session(EHLO_AFTER_TLS);
    drain(c);
    srv(c, "334 \r\n");
    assert_int_equal(smtpc_state(c), SMTPC_ST_FAILED);
    assert_int_equal(smtpc_last_error(c), SMTPC_ERR_PROTO);
    assert_int_equal(fk.res[0].code, 0);
    assert_string_equal(drain(c), "");
    smtpc_close(c);

    /* timeout waiting for 235 */
    now = 50;
    mkjob_auth(1, SMTPC_TLS_MAY);
    c = open_tls_session(EHLO_AFTER_TLS);
    drain(c);
    smtpc_tick(c, now + SMTPC_TO_MAIL_MS - 1);
    assert_int_equal(smtpc_state(c), SMTPC_ST_AUTH);
    smtpc_tick(c, now + SMTPC_TO_MAIL_MS);
    assert_int_equal(smtpc_last_error(c), SMTPC_ERR_TIMEOUT);
    assert_int_equal(fk.res[0].code, 0);
    smtpc_close(c);
}

static void test_auth_not_possible(void **state)
{
    (void)state;
    /* no TLS and plaintext not allowed: credentials never sent */
    mkjob_auth(2, SMTPC_TLS_NONE);
    smtpc_t *c = open_session("250-mx\r\n250 AUTH PLAIN LOGIN\r\n");
    assert_string_equal(smtpc_error_text(c), "AUTH needs TLS");
    assert_string_equal(smtpc_strerror(SMTPC_ERR_AUTH), "AUTH not possible");
    expect_session_fail(c, 2, SMTPC_ERR_AUTH, "AUTH needs TLS");

    /* MAY, but STARTTLS refused: same */
    mkjob_auth(1, SMTPC_TLS_MAY);
    c = open_session("250-mx\r\n250-STARTTLS\r\n250 AUTH PLAIN\r\n");
    assert_string_equal(drain(c), "STARTTLS\r\n");
    srv(c, "454 4.7.0 no TLS today\r\n");
    expect_session_fail(c, 1, SMTPC_ERR_AUTH, "AUTH needs TLS");

    /* MAY, the glue has no TLS session: same */
    mkjob_auth(1, SMTPC_TLS_MAY);
    tls_ret = false;
    c = open_session("250-mx\r\n250-STARTTLS\r\n250 AUTH PLAIN\r\n");
    expect_session_fail(c, 1, SMTPC_ERR_AUTH, "AUTH needs TLS");

    /* no common mechanism */
    mkjob_auth(1, SMTPC_TLS_REQUIRE);
    c = open_tls_session("250-mx\r\n250 AUTH CRAM-MD5 GSSAPI\r\n");
    expect_session_fail(c, 1, SMTPC_ERR_AUTH, "no common AUTH mechanism");

    /* AUTH not offered at all (also after a HELO) */
    mkjob_auth(1, SMTPC_TLS_REQUIRE);
    c = open_tls_session("250-mx\r\n250 PIPELINING\r\n");
    expect_session_fail(c, 1, SMTPC_ERR_AUTH, "AUTH not offered by peer");
    mkjob_auth(1, SMTPC_TLS_NONE);
    job.auth_plaintext_ok = true;
    c = open_session("500 no EHLO\r\n");
    drain(c);
    srv(c, "250 hi\r\n");
    expect_session_fail(c, 1, SMTPC_ERR_AUTH, "AUTH not offered by peer");

    /* empty user name = no AUTH */
    mkjob_tls(1, SMTPC_TLS_NONE, true);
    job.auth_user = "";
    job.auth_pass = NULL;
    assert_int_equal(smtpc_job_check(&job), SMTPC_OK);
    c = open_session("250-mx\r\n250 AUTH PLAIN\r\n");
    assert_int_equal(smtpc_state(c), SMTPC_ST_MAIL);
    smtpc_close(c);
}

static void test_session_checks(void **state)
{
    (void)state;
    static char longname[SASL_PASS_MAX + 2];
    mkjob_auth(1, SMTPC_TLS_REQUIRE);
    assert_int_equal(smtpc_job_check(&job), SMTPC_OK);
    job.tls = SMTPC_TLS_REQUIRE + 1;
    assert_int_equal(smtpc_job_check(&job), SMTPC_ERR_INVAL);
    assert_null(smtpc_open(&job, now));
    job.tls = SMTPC_TLS_MAY;
    job.auth_pass = NULL;
    assert_int_equal(smtpc_job_check(&job), SMTPC_ERR_INVAL);
    job.auth_pass = "";
    assert_int_equal(smtpc_job_check(&job), SMTPC_ERR_INVAL);
    memset(longname, 'p', SASL_PASS_MAX - 1);
    longname[SASL_PASS_MAX - 1] = '\0';
    job.auth_pass = longname; /* 128: the maximum */
    assert_int_equal(smtpc_job_check(&job), SMTPC_OK);
    longname[SASL_PASS_MAX - 1] = 'p';
    longname[SASL_PASS_MAX] = '\0';
    assert_int_equal(smtpc_job_check(&job), SMTPC_ERR_INVAL);
    job.auth_pass = PASS;
    longname[SASL_USER_MAX - 1] = '\0';
    job.auth_user = longname; /* 64: the maximum */
    assert_int_equal(smtpc_job_check(&job), SMTPC_OK);
    longname[SASL_USER_MAX - 1] = 'p';
    longname[SASL_USER_MAX] = '\0';
    assert_int_equal(smtpc_job_check(&job), SMTPC_ERR_INVAL);

    /* longest credentials fit one AUTH PLAIN line */
    mkjob_auth(1, SMTPC_TLS_REQUIRE);
    static char u[SASL_USER_MAX], pw[SASL_PASS_MAX];
    memset(u, 'u', sizeof(u) - 1);
    memset(pw, 'w', sizeof(pw) - 1);
    job.auth_user = u;
    job.auth_pass = pw;
    smtpc_t *c = open_tls_session(EHLO_AFTER_TLS);
    const char *o = drain(c);
    assert_int_equal(strncmp(o, "AUTH PLAIN ", 11), 0);
    assert_int_equal(strlen(o), 11 + 260 + 2);
    smtpc_close(c);

    assert_string_equal(smtpc_state_name(SMTPC_ST_STARTTLS), "STARTTLS");
    assert_string_equal(smtpc_state_name(SMTPC_ST_TLSWAIT), "TLSWAIT");
    assert_string_equal(smtpc_state_name(SMTPC_ST_AUTH), "AUTH");
    assert_string_equal(smtpc_state_name(SMTPC_ST_AUTH_USER), "AUTH_USER");
    assert_string_equal(smtpc_state_name(SMTPC_ST_AUTH_PASS), "AUTH_PASS");
}

/* ---- the delivery -> event seam ------------------------------------------ */

/* The texts the device's resolvers give: lwIP's for negative codes, the
 * client's own for its local ones. */
static const char *seam_err_text(int32_t err)
{
    return err == -4 ? "Routing problem." : err == 400 ? "reply text" : NULL;
}

static const char *seam_local_text(uint8_t kind, int32_t code)
{
    return kind == MTA_ERR_LOCAL ? smtpc_strerror((int)code) : NULL;
}

/* 9318 as the delivery glue logs it for a session that failed before any
 * transaction: the engine's tagged error, packed with the netif. */
static const char *seam_event(smtpc_t *c)
{
    static char line[160];
    evt_record_t r = { .id = EVT_MTA_BIND_FAIL, .src = 0,
                       .arg = evt_pack_netif_mta_err(0, smtpc_error(c)) };
    evt_format(&r, line, sizeof(line));
    return strstr(line, "9318");
}

static void test_error_seam_to_event(void **state)
{
    (void)state;
    static const evt_resolvers_t res = { .err_text = seam_err_text, .local_text = seam_local_text };
    evt_init(NULL);
    evt_set_resolvers(&res);

    /* A web server where the peer MTA should be: its status line is no SMTP
     * reply, and SMTPC_ERR_PROTO (-4) must not read as lwIP's ERR_RTE. */
    mkjob(1, "b\r\n");
    smtpc_t *c = smtpc_open(&job, now);
    const char *http = "HTTP/1.0 400 Bad Request\r\n\r\n";
    smtpc_input(c, (const uint8_t *)http, strlen(http), now);
    assert_int_equal(smtpc_state(c), SMTPC_ST_FAILED);
    assert_int_equal(smtpc_last_error(c), SMTPC_ERR_PROTO);
    assert_int_equal(smtpc_error(c).kind, MTA_ERR_SMTP_REPLY);
    assert_string_equal(seam_event(c), "9318 smtpc: could not bind to peer #0 over if0: "
                                       "reply malformed (not an SMTP reply)");
    assert_null(strstr(seam_event(c), "Routing"));
    smtpc_close(c);

    /* A real SMTP refusal in reply words. */
    mkjob(1, "b\r\n");
    c = smtpc_open(&job, now);
    srv(c, "400 go away\r\n");
    assert_int_equal(smtpc_error(c).kind, MTA_ERR_SMTP_REPLY);
    assert_int_equal(smtpc_error(c).code, 400);
    assert_string_equal(seam_event(c), "9318 smtpc: could not bind to peer #0 over if0: reply 400 (reply text)");
    smtpc_close(c);

    /* A greeting timeout is the client's own, not lwIP's ERR_TIMEOUT. */
    mkjob(1, "b\r\n");
    c = smtpc_open(&job, now);
    smtpc_tick(c, now + 10u * 60u * 1000u);
    assert_int_equal(smtpc_error(c).kind, MTA_ERR_LOCAL);
    assert_string_equal(seam_event(c), "9318 smtpc: could not bind to peer #0 over if0: local -3 (timeout)");
    smtpc_close(c);

    /* The connection's own failure stays an lwIP error, in today's words. */
    mkjob(1, "b\r\n");
    c = smtpc_open(&job, now);
    smtpc_abort(c, -4);
    assert_int_equal(smtpc_error(c).kind, MTA_ERR_LWIP);
    assert_string_equal(seam_event(c), "9318 smtpc: could not bind to peer #0 over if0: err -4 (Routing problem.)");
    smtpc_close(c);
    evt_set_resolvers(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_plain_dialogue, setup),
        cmocka_unit_test_setup(test_pipelined_dialogue, setup),
        cmocka_unit_test_setup(test_dsn_params, setup),
        cmocka_unit_test_setup(test_pipelined_bytewise, setup),
        cmocka_unit_test_setup(test_helo_fallback, setup),
        cmocka_unit_test_setup(test_helo_refused, setup),
        cmocka_unit_test_setup(test_rejected_rcpt_plain, setup),
        cmocka_unit_test_setup(test_all_rejected_plain, setup),
        cmocka_unit_test_setup(test_all_rejected_pipelined, setup),
        cmocka_unit_test_setup(test_mail_rejected, setup),
        cmocka_unit_test_setup(test_size_refusal, setup),
        cmocka_unit_test_setup(test_dot_stuffing, setup),
        cmocka_unit_test_setup(test_large_body, setup),
        cmocka_unit_test_setup(test_data_4xx, setup),
        cmocka_unit_test_setup(test_final_5xx, setup),
        cmocka_unit_test_setup(test_greeting_554, setup),
        cmocka_unit_test_setup(test_greeting_421, setup),
        cmocka_unit_test_setup(test_421_mid_transaction, setup),
        cmocka_unit_test_setup(test_timeouts, setup),
        cmocka_unit_test_setup(test_block_and_dot_timeouts, setup),
        cmocka_unit_test_setup(test_several_messages, setup),
        cmocka_unit_test_setup(test_abort_mid_rcpt, setup),
        cmocka_unit_test_setup(test_bad_addresses, setup),
        cmocka_unit_test_setup(test_malformed_reply, setup),
        cmocka_unit_test_setup(test_read_error, setup),
        cmocka_unit_test_setup(test_many_rcpts_pipelined, setup),
        cmocka_unit_test_setup(test_pool_and_checks, setup),
        cmocka_unit_test_setup(test_tls_may_offered, setup),
        cmocka_unit_test_setup(test_tls_may_fallbacks, setup),
        cmocka_unit_test_setup(test_tls_require_failures, setup),
        cmocka_unit_test_setup(test_tls_injection_discarded, setup),
        cmocka_unit_test_setup(test_tls_timeouts_and_abort, setup),
        cmocka_unit_test_setup(test_auth_plain, setup),
        cmocka_unit_test_setup(test_auth_login, setup),
        cmocka_unit_test_setup(test_auth_refused, setup),
        cmocka_unit_test_setup(test_auth_not_possible, setup),
        cmocka_unit_test_setup(test_session_checks, setup),
        cmocka_unit_test_setup(test_error_seam_to_event, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
