/* unit: firmware/smtp/smtpd.c firmware/smtp/smtpd_guard.c firmware/smtp/smtpd_cmd.c firmware/smtp/smtp_data.c firmware/lib/fmt.c firmware/lib/sasl.c */
/*
 * SMTP server engine tests. Dialogues are written as transcripts:
 *   "S: ..."  a reply line the server must send (CRLF added)
 *   "C: ..."  a command/data line the client sends (CRLF added)
 *   "R: ..."  raw client bytes, sent as written (for bare CR/LF)
 * Consecutive client lines are sent as ONE input (pipelining). Every test
 * body runs three times: whole inputs, byte by byte, random splits.
 * The queue is a fake that counts begin/append/commit/abort and can fail.
 * TLS and the credential check are fakes too (the glue's part); no reply
 * may ever contain the test credentials, in any form (checked in sync_).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "arch/cc.h"
#include "queue/queue.h"
#include "lib/sasl.h"
#include "smtp/smtpd.h"

/* ======================================================================= */
/* fakes                                                                   */
/* ======================================================================= */

void mta_assert_fail(const char *msg, const char *file, int line)
{
    mock_assert(0, msg, file, line);
}

#define FQ_RCPT_MAX 128
#define FQ_DATA_MAX 32768
#define FQ_TXN_BASE 0x100
#define FQ_TXN_MAX 512

static struct {
    /* failure injection */
    int begin_rc;
    int rcpt_fail_at, rcpt_rc;     /* 1-based add_rcpt call of the txn; 0 = never */
    int append_fail_at, append_rc; /* 1-based append call of the txn (1 = Received:) */
    int commit_rc;
    /* counters */
    int begins, begins_ok, rcpt_calls_total, appends_total;
    int commits, commits_ok, aborts, aborts_open;
    bool open[FQ_TXN_MAX];
    int nopen;
    bool evil_seen;
    /* current transaction */
    queue_txn_t cur;
    char sender[300];
    uint32_t size_hint;
    uint8_t netif;
    uint8_t ret;                 /* RFC 3461 parameters as the queue got them */
    char envid[128];
    uint8_t notify[FQ_RCPT_MAX];
    char orcpt[FQ_RCPT_MAX][512];
    int nrcpt, rcpt_calls, append_calls;
    char rcpt[FQ_RCPT_MAX][300];
    size_t len;
    uint8_t data[FQ_DATA_MAX];
    /* last committed message */
    char c_sender[300];
    int c_nrcpt;
    char c_rcpt[4][300];
    size_t c_len;
    uint8_t c_data[FQ_DATA_MAX];
} fq;

static bool fq_is_open(queue_txn_t t)
{
    return t >= FQ_TXN_BASE && t < FQ_TXN_BASE + FQ_TXN_MAX && fq.open[t - FQ_TXN_BASE];
}

uint32_t queue_txn_msgid(queue_txn_t t)
{
    /* The fake's transaction handle doubles as the message ID. */
    return (uint32_t)t;
}

int queue_txn_begin(const char *sender, uint32_t size_hint, uint8_t src_netif, queue_txn_t *out)
{
    fq.begins++;
    if (strstr(sender, "evil"))
        fq.evil_seen = true;
    if (fq.begin_rc != QUEUE_OK)
        return fq.begin_rc;
    assert_true(fq.begins_ok < FQ_TXN_MAX);
    *out = FQ_TXN_BASE + fq.begins_ok;
    fq.open[fq.begins_ok] = true;
    fq.begins_ok++;
    fq.nopen++;
    fq.cur = *out;
    snprintf(fq.sender, sizeof(fq.sender), "%s", sender);
    fq.size_hint = size_hint;
    fq.netif = src_netif;
    fq.nrcpt = fq.rcpt_calls = fq.append_calls = 0;
    fq.len = 0;
    return QUEUE_OK;
}

int queue_txn_add_rcpt(queue_txn_t t, const char *rcpt)
{
    assert_true(fq_is_open(t));
    assert_int_equal(fq.append_calls, 0); /* recipients precede data */
    fq.rcpt_calls++;
    fq.rcpt_calls_total++;
    if (strstr(rcpt, "victim") || strstr(rcpt, "evil"))
        fq.evil_seen = true;
    if (fq.rcpt_fail_at != 0 && fq.rcpt_calls == fq.rcpt_fail_at)
        return fq.rcpt_rc;
    if (fq.nrcpt < FQ_RCPT_MAX)
        snprintf(fq.rcpt[fq.nrcpt], sizeof(fq.rcpt[0]), "%s", rcpt);
    fq.nrcpt++;
    return QUEUE_OK;
}

int queue_txn_begin_dsn(const char *sender, uint32_t size_hint, uint8_t src_netif, uint8_t ret,
                        const char *envid, size_t envid_len, queue_txn_t *out)
{
    int rc = queue_txn_begin(sender, size_hint, src_netif, out);
    assert_true(envid_len < sizeof(fq.envid));
    fq.ret = ret;
    snprintf(fq.envid, sizeof(fq.envid), "%.*s", (int)envid_len, envid != NULL ? envid : "");
    return rc;
}

int queue_txn_add_rcpt_dsn(queue_txn_t t, const char *rcpt, uint8_t notify, const char *orcpt,
                           size_t orcpt_len)
{
    int n = fq.nrcpt;
    int rc = queue_txn_add_rcpt(t, rcpt);
    if (rc == QUEUE_OK && n < FQ_RCPT_MAX) {
        fq.notify[n] = notify;
        assert_true(orcpt_len < sizeof(fq.orcpt[0]));
        snprintf(fq.orcpt[n], sizeof(fq.orcpt[0]), "%.*s", (int)orcpt_len, orcpt != NULL ? orcpt : "");
    }
    return rc;
}

int queue_txn_append(queue_txn_t t, const void *data, size_t len)
{
    assert_true(fq_is_open(t));
    assert_true(len > 0);
    fq.append_calls++;
    fq.appends_total++;
    if (fq.append_fail_at != 0 && fq.append_calls >= fq.append_fail_at)
        return fq.append_rc;
    assert_true(fq.len + len <= FQ_DATA_MAX);
    memcpy(fq.data + fq.len, data, len);
    fq.len += len;
    return QUEUE_OK;
}

int queue_txn_commit(queue_txn_t t, uint32_t *out_msgid)
{
    int i;
    assert_true(fq_is_open(t));
    fq.commits++;
    /* queue.h: the transaction is closed whatever the outcome */
    fq.open[t - FQ_TXN_BASE] = false;
    fq.nopen--;
    if (fq.commit_rc != QUEUE_OK)
        return fq.commit_rc;
    fq.commits_ok++;
    snprintf(fq.c_sender, sizeof(fq.c_sender), "%s", fq.sender);
    fq.c_nrcpt = fq.nrcpt;
    for (i = 0; i < 4 && i < fq.nrcpt; i++)
        memcpy(fq.c_rcpt[i], fq.rcpt[i], sizeof(fq.c_rcpt[i]));
    fq.c_len = fq.len;
    memcpy(fq.c_data, fq.data, fq.len);
    *out_msgid = 0xA000u + (uint32_t)fq.commits_ok;
    return QUEUE_OK;
}

void queue_txn_abort(queue_txn_t t)
{
    fq.aborts++;
    if (fq_is_open(t)) {
        fq.open[t - FQ_TXN_BASE] = false;
        fq.nopen--;
        fq.aborts_open++;
    }
}

static int fake_date(char *buf, size_t n)
{
    return snprintf(buf, n, "Tue, 19 Nov 2024 10:00:00 +0000");
}

/* The glue's side of STARTTLS and AUTH. Valid credentials: alice/secret,
 * and 64 'u' / 128 'p' (the sasl.h maximum lengths). */
static struct {
    bool begin_ok;      /* what tls_begin answers */
    int begin_calls;
    int check_calls;
    char user[SASL_USER_MAX + 8]; /* last user name checked */
} ft;

static bool ft_tls_begin(void *ctx)
{
    assert_ptr_equal(ctx, &ft);
    ft.begin_calls++;
    return ft.begin_ok;
}

static bool ft_auth_check(void *ctx, const char *user, const char *pass)
{
    size_t ul = strlen(user), pl = strlen(pass);

    assert_ptr_equal(ctx, &ft);
    ft.check_calls++;
    assert_true(ul >= 1 && ul < SASL_USER_MAX);
    assert_true(pl >= 1 && pl < SASL_PASS_MAX);
    snprintf(ft.user, sizeof(ft.user), "%s", user);
    if (strcmp(user, "alice") == 0)
        return strcmp(pass, "secret") == 0;
    return ul == 64 && strspn(user, "u") == 64 && pl == 128 && strspn(pass, "p") == 128;
}

/* ======================================================================= */
/* transcript runner                                                       */
/* ======================================================================= */

enum { MODE_WHOLE, MODE_BYTES, MODE_RANDOM, MODE_COUNT };
static const char *const mode_names[MODE_COUNT] = { "whole", "bytes", "random" };

static int g_mode;
static uint32_t g_now;
static uint32_t g_rng;
static smtpd_session_t *g_s;
static char g_in[65536];
static size_t g_in_len;
static char g_want[65536];
static size_t g_want_len;
static char g_got[65536];
static size_t g_got_len;

static uint32_t rnd(void)
{
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 17;
    g_rng ^= g_rng << 5;
    return g_rng;
}

/* smtpd_conn_t.notice: counts per kind */
static int g_notices[2];
static void fake_notice(void *ctx, smtpd_notice_t what)
{
    (void)ctx;
    g_notices[what]++;
}

static smtpd_conn_t default_conn(void)
{
    smtpd_conn_t c;
    memset(&c, 0, sizeof(c));
    c.netif = 1;
    strcpy(c.netif_name, "eth0");
    strcpy(c.local_ip, "192.0.2.1");
    strcpy(c.remote_ip, "192.0.2.99");
    strcpy(c.hostname, "mx.example");
    c.relay_allowed = true;
    c.date = fake_date;
    c.notice = fake_notice;
    return c;
}

static void reset_all(void)
{
    smtpd_init();
    memset(g_notices, 0, sizeof g_notices);
    memset(&fq, 0, sizeof(fq));
    memset(&ft, 0, sizeof(ft));
    ft.begin_ok = true;
    g_now = 1000;
    g_rng = 0x9e3779b9u;
    g_s = NULL;
    g_in_len = g_want_len = g_got_len = 0;
}

static void drain(void)
{
    const uint8_t *p;
    size_t n = smtpd_output_peek(g_s, &p);
    assert_true(g_got_len + n <= sizeof(g_got));
    memcpy(g_got + g_got_len, p, n);
    g_got_len += n;
    smtpd_output_consume(g_s, n);
}

/* Feed bytes per g_mode; drains output whenever the engine pushes back. */
static void feed(const char *p, size_t n)
{
    size_t pos = 0;
    int stalls = 0;

    while (pos < n) {
        size_t chunk = n - pos, used;
        if (g_mode == MODE_BYTES)
            chunk = 1;
        else if (g_mode == MODE_RANDOM)
            chunk = 1 + rnd() % (chunk < 40 ? chunk : 40);
        used = smtpd_input(g_s, (const uint8_t *)p + pos, chunk, g_now);
        assert_true(used <= chunk);
        pos += used;
        stalls = used == 0 ? stalls + 1 : 0;
        assert_true(stalls < 3); /* draining must unblock it */
        if (used < chunk)
            drain();
    }
}

static void show(const char *what, const char *p, size_t n)
{
    char buf[4096];
    size_t i, o = 0;
    for (i = 0; i < n && o + 8 < sizeof(buf); i++) {
        if (p[i] == '\r') { buf[o++] = '\\'; buf[o++] = 'r'; }
        else if (p[i] == '\n') { buf[o++] = '\\'; buf[o++] = 'n'; buf[o++] = '\n'; buf[o++] = ' '; buf[o++] = ' '; }
        else buf[o++] = p[i];
    }
    buf[o] = '\0';
    print_error("%s:\n  %s\n", what, buf);
}

static bool contains(const char *p, size_t n, const char *needle)
{
    size_t k = strlen(needle), i;
    for (i = 0; i + k <= n; i++) {
        if (memcmp(p + i, needle, k) == 0)
            return true;
    }
    return false;
}

/* Nothing the server sends may echo a credential (user name, password,
 * their base64 forms). */
static void check_no_secrets(const char *p, size_t n)
{
    static const char *const secrets[] = {
        "alice", "secret", "wrong", "YWxpY2U", "c2VjcmV0", "AGFsaWNl", "AHNlY3JldA", "uuuu", "pppp",
    };
    size_t i;
    for (i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++) {
        if (contains(p, n, secrets[i])) {
            print_error("reply contains \"%s\"\n", secrets[i]);
            fail();
        }
    }
}

/* Send the pending client bytes, then the output must be exactly the
 * expected server lines. */
static void sync_(void)
{
    feed(g_in, g_in_len);
    g_in_len = 0;
    drain();
    check_no_secrets(g_got, g_got_len);
    if (g_got_len != g_want_len || memcmp(g_got, g_want, g_want_len) != 0) {
        print_error("mode %s\n", mode_names[g_mode]);
        show("expected", g_want, g_want_len);
        show("got", g_got, g_got_len);
        fail();
    }
    g_got_len = g_want_len = 0;
}

static void add(char *buf, size_t *len, size_t cap, const char *p, size_t n, bool crlf)
{
    assert_true(*len + n + 2 <= cap);
    memcpy(buf + *len, p, n);
    *len += n;
    if (crlf) {
        memcpy(buf + *len, "\r\n", 2);
        *len += 2;
    }
}

/* client line / raw bytes / server line */
static void C(const char *line)
{
    if (g_want_len)
        sync_();
    add(g_in, &g_in_len, sizeof(g_in), line, strlen(line), true);
}

static void R(const char *p, size_t n)
{
    if (g_want_len)
        sync_();
    add(g_in, &g_in_len, sizeof(g_in), p, n, false);
}

static void S(const char *line)
{
    add(g_want, &g_want_len, sizeof(g_want), line, strlen(line), true);
}

static void script(const char *const *lines)
{
    for (; *lines; lines++) {
        const char *l = *lines;
        if (strncmp(l, "C: ", 3) == 0)
            C(l + 3);
        else if (strncmp(l, "R: ", 3) == 0)
            R(l + 3, strlen(l + 3));
        else if (strncmp(l, "S: ", 3) == 0)
            S(l + 3);
        else
            fail_msg("bad script line: %s", l);
    }
    sync_();
}

static void open_conn(const smtpd_conn_t *c)
{
    g_s = smtpd_open(c, g_now);
    assert_non_null(g_s);
}

static void open_default(void)
{
    smtpd_conn_t c = default_conn();
    open_conn(&c);
}

/* Run body in every mode (fresh engine and fake each time); afterwards no
 * queue transaction may be left open. */
static void all_modes(void (*body)(void))
{
    for (g_mode = 0; g_mode < MODE_COUNT; g_mode++) {
        reset_all();
        body();
        if (g_s != NULL) {
            smtpd_close(g_s);
            g_s = NULL;
        }
        assert_int_equal(fq.nopen, 0);
        assert_int_equal(fq.begins_ok, fq.commits + fq.aborts_open);
    }
}

#define GREETING "S: 220 mx.example ESMTP ready"
#define EHLO_REPLY                                                         \
    "S: 250-mx.example", "S: 250-PIPELINING", "S: 250-SIZE 10485760",       \
        "S: 250-8BITMIME", "S: 250-ENHANCEDSTATUSCODES", "S: 250-DSN", "S: 250 HELP"
#define RECEIVED_ESMTP(id)                                                  \
    "Received: from client.example ([192.0.2.99])\r\n"                      \
    "\tby mx.example (eth0 192.0.2.1) with ESMTP id " id ";\r\n"           \
    "\tTue, 19 Nov 2024 10:00:00 +0000\r\n"

static void expect_committed(const char *data)
{
    size_t n = strlen(data);
    if (fq.c_len != n || memcmp(fq.c_data, data, n) != 0) {
        show("expected message", data, n);
        show("stored message", (const char *)fq.c_data, fq.c_len);
        fail();
    }
}

/* ======================================================================= */
/* dialogues                                                               */
/* ======================================================================= */

static void body_esmtp_dialogue(void)
{
    static const char *const t[] = {
        GREETING,
        "C: EHLO client.example",
        EHLO_REPLY,
        "C: MAIL FROM:<alice@client.example> SIZE=42 BODY=8BITMIME",
        "S: 250 2.1.0 Sender ok",
        "C: RCPT TO:<bob@far.example>",
        "S: 250 2.1.5 Recipient ok",
        "C: DATA",
        "S: 354 End data with <CR><LF>.<CR><LF>",
        "C: Subject: hello",
        "C: ",
        "C: ..a line starting with a dot",
        "C: body.",
        "C: .",
        "S: 250 2.0.0 Ok: queued as 0000A001",
        "C: QUIT",
        "S: 221 2.0.0 mx.example closing connection",
        NULL,
    };
    open_default();
    script(t);
    assert_true(smtpd_should_close(g_s));
    assert_int_equal(smtpd_state(g_s), SMTPD_ST_CLOSING);
    assert_int_equal(fq.commits_ok, 1);
    assert_string_equal(fq.c_sender, "alice@client.example");
    assert_int_equal(fq.size_hint, 42);
    assert_int_equal(fq.netif, 1);
    assert_int_equal(fq.c_nrcpt, 1);
    assert_string_equal(fq.c_rcpt[0], "bob@far.example");
    expect_committed(RECEIVED_ESMTP("00000100")
                     "Subject: hello\r\n\r\n.a line starting with a dot\r\nbody.\r\n");
}

static void test_esmtp_dialogue(void **state)
{
    (void)state;
    all_modes(body_esmtp_dialogue);
}

static void body_helo_dialogue(void)
{
    static const char *const t[] = {
        GREETING,
        "C: helo client.example",
        "S: 250 mx.example",
        "C: mail from:<>",
        "S: 250 2.1.0 Sender ok",
        "C: rcpt to:<a@far.example>",
        "S: 250 2.1.5 Recipient ok",
        "C: rcpt to: <b@far.example>",
        "S: 250 2.1.5 Recipient ok",
        "C: data",
        "S: 354 End data with <CR><LF>.<CR><LF>",
        "C: bounce",
        "C: .",
        "S: 250 2.0.0 Ok: queued as 0000A001",
        /* a second transaction in the same session */
        "C: MAIL FROM:<x@client.example>",
        "S: 250 2.1.0 Sender ok",
        "C: RSET",
        "S: 250 2.0.0 Ok",
        "C: MAIL FROM:<y@client.example>",
        "S: 250 2.1.0 Sender ok",
        "C: RCPT TO:<c@far.example>",
        "S: 250 2.1.5 Recipient ok",
        "C: DATA",
        "S: 354 End data with <CR><LF>.<CR><LF>",
        "C: .",
        "S: 250 2.0.0 Ok: queued as 0000A002",
        "C: QUIT",
        "S: 221 2.0.0 mx.example closing connection",
        NULL,
    };
    open_default();
    script(t);
    assert_int_equal(fq.commits_ok, 2);
    assert_int_equal(fq.aborts_open, 1); /* the RSET */
    assert_string_equal(fq.c_sender, "y@client.example");
    /* empty message: only the trace header; HELO -> "with SMTP" (RFC 3848) */
    expect_committed("Received: from client.example ([192.0.2.99])\r\n"
                     "\tby mx.example (eth0 192.0.2.1) with SMTP id 00000102;\r\n"
                     "\tTue, 19 Nov 2024 10:00:00 +0000\r\n");
}

/* RFC 3461: DSN is offered, RET/ENVID/NOTIFY/ORCPT reach the queue as
 * sent (xtext kept encoded), bad values are named in a 501 5.5.4, and a
 * RCPT line over 512 octets gets 500 5.5.2 (SMTPD_LINE_MAX, smtpd.c). */
static void body_dsn_params(void)
{
    static char longline[600];
    static char longreply[] = "S: 500 5.5.2 Line too long";
    snprintf(longline, sizeof(longline), "C: RCPT TO:<l@far.example> ORCPT=rfc822;%0520d", 0);
    const char *const t[] = {
        GREETING,
        "C: EHLO client.example",
        EHLO_REPLY,
        "C: MAIL FROM:<a@client.example> RET=FULLER",
        "S: 501 5.5.4 Bad RET parameter value",
        "C: MAIL FROM:<a@client.example> RET=HDRS ENVID=QQ+2B1",
        "S: 250 2.1.0 Sender ok",
        "C: RCPT TO:<b@far.example> NOTIFY=SUCCESS,DELAY ORCPT=rfc822;B+2Bx@far.example",
        "S: 250 2.1.5 Recipient ok",
        "C: RCPT TO:<c@far.example> NOTIFY=NEVER",
        "S: 250 2.1.5 Recipient ok",
        "C: RCPT TO:<d@far.example> NOTIFY=NEVER,SUCCESS",
        "S: 501 5.5.4 Bad NOTIFY parameter value",
        "C: RCPT TO:<d@far.example> ORCPT=nosemicolon",
        "S: 501 5.5.4 Bad ORCPT parameter value",
        longline,
        longreply,
        "C: RCPT TO:<e@far.example>",
        "S: 250 2.1.5 Recipient ok",
        "C: DATA",
        "S: 354 End data with <CR><LF>.<CR><LF>",
        "C: .",
        "S: 250 2.0.0 Ok: queued as 0000A001",
        "C: QUIT",
        "S: 221 2.0.0 mx.example closing connection",
        NULL,
    };
    open_default();
    script(t);
    assert_int_equal(fq.commits_ok, 1);
    assert_int_equal(fq.ret, STORE_RET_HDRS);
    assert_string_equal(fq.envid, "QQ+2B1");
    assert_int_equal(fq.nrcpt, 3);
    assert_int_equal(fq.notify[0], STORE_NOTIFY_SUCCESS | STORE_NOTIFY_DELAY);
    assert_string_equal(fq.orcpt[0], "rfc822;B+2Bx@far.example");
    assert_int_equal(fq.notify[1], STORE_NOTIFY_NEVER);
    assert_string_equal(fq.orcpt[1], "");
    assert_int_equal(fq.notify[2], 0);
}

static void test_dsn_params(void **state)
{
    (void)state;
    all_modes(body_dsn_params);
}

static void test_helo_dialogue(void **state)
{
    (void)state;
    all_modes(body_helo_dialogue);
}

static void body_pipelining(void)
{
    static const char *const t[] = {
        GREETING,
        "C: EHLO client.example",
        "C: MAIL FROM:<a@client.example>",
        "C: RCPT TO:<b@far.example>",
        "C: RCPT TO:<bad address>",
        "C: RCPT TO:<c@far.example>",
        "C: DATA",
        EHLO_REPLY,
        "S: 250 2.1.0 Sender ok",
        "S: 250 2.1.5 Recipient ok",
        "S: 501 5.1.3 Bad recipient address syntax",
        "S: 250 2.1.5 Recipient ok",
        "S: 354 End data with <CR><LF>.<CR><LF>",
        /* body, end, and the next transaction in one input */
        "C: one",
        "C: .",
        "C: MAIL FROM:<d@client.example>",
        "C: RCPT TO:<nobody>",
        "C: DATA",
        "C: NOOP",
        "C: QUIT",
        "S: 250 2.0.0 Ok: queued as 0000A001",
        "S: 250 2.1.0 Sender ok",
        "S: 501 5.1.3 Bad recipient address syntax",
        "S: 554 5.5.1 No valid recipients",
        "S: 250 2.0.0 Ok",
        "S: 221 2.0.0 mx.example closing connection",
        NULL,
    };
    open_default();
    script(t);
    assert_int_equal(fq.commits_ok, 1);
    assert_int_equal(fq.c_nrcpt, 2);
    assert_string_equal(fq.c_rcpt[1], "c@far.example");
    expect_committed(RECEIVED_ESMTP("00000100") "one\r\n");
}

static void test_pipelining(void **state)
{
    (void)state;
    all_modes(body_pipelining);
}

/* ======================================================================= */
/* error replies                                                           */
/* ======================================================================= */

static void body_sequence_errors(void)
{
    static const char *const t[] = {
        GREETING,
        "C: MAIL FROM:<a@b.example>",
        "S: 503 5.5.1 Send HELO/EHLO first",
        "C: RCPT TO:<a@b.example>",
        "S: 503 5.5.1 Need MAIL command first",
        "C: DATA",
        "S: 503 5.5.1 Need MAIL command first",
        "C: EHLO",
        "S: 501 Syntax: EHLO hostname",
        "C: HELO bad\x01name",
        "S: 501 Syntax: EHLO hostname",
        "C: NOOP",
        "S: 250 2.0.0 Ok",
        "C: EHLO client.example",
        EHLO_REPLY,
        "C: RCPT TO:<a@b.example>",
        "S: 503 5.5.1 Need MAIL command first",
        "C: MAIL FROM:<a@b.example>",
        "S: 250 2.1.0 Sender ok",
        "C: MAIL FROM:<a@b.example>",
        "S: 503 5.5.1 Sender already specified",
        "C: DATA",
        "S: 554 5.5.1 No valid recipients",
        "C: RCPT TO:<c@d.example>",
        "S: 250 2.1.5 Recipient ok",
        "C: MAIL FROM:<a@b.example>",
        "S: 503 5.5.1 Sender already specified",
        /* EHLO resets the transaction (RFC 5321 4.1.4) */
        "C: EHLO client.example",
        EHLO_REPLY,
        "C: RCPT TO:<c@d.example>",
        "S: 503 5.5.1 Need MAIL command first",
        "C: QUIT",
        "S: 221 2.0.0 mx.example closing connection",
        NULL,
    };
    open_default();
    script(t);
    assert_int_equal(fq.begins_ok, 1);
    assert_int_equal(fq.aborts_open, 1);
}

static void test_sequence_errors(void **state)
{
    (void)state;
    all_modes(body_sequence_errors);
}

static void body_syntax_errors(void)
{
    static const char *const t[] = {
        GREETING,
        "C: EHLO client.example",
        EHLO_REPLY,
        "C: FOO bar",
        "S: 500 5.5.2 Command unrecognized",
        "C: ",
        "S: 500 5.5.2 Command unrecognized",
        "C: MAIL FROM:a@b.example",
        "S: 501 5.1.7 Bad sender address syntax",
        "C: MAIL FROM:<a@@b.example>",
        "S: 501 5.1.7 Bad sender address syntax",
        "C: MAIL TO:<a@b.example>",
        "S: 501 5.5.4 Syntax: MAIL FROM:<address>",
        "C: MAIL FROM:<a@b.example> FOO=BAR",
        "S: 555 5.5.4 Unsupported MAIL/RCPT parameter",
        "C: MAIL FROM:<a@b.example> SIZE=12x",
        "S: 501 5.5.4 Bad SIZE parameter value",
        "C: MAIL FROM:<a@b.example> BODY=8BITMIME",
        "S: 250 2.1.0 Sender ok",
        "C: RCPT TO:<bad>",
        "S: 501 5.1.3 Bad recipient address syntax",
        "C: RCPT FROM:<x@y.example>",
        "S: 501 5.5.4 Syntax: RCPT TO:<address>",
        "C: RCPT TO:<x@y.example> NOTIFY=SOMETIMES",
        "S: 501 5.5.4 Bad NOTIFY parameter value",
        "C: RCPT TO:<x@y.example>",
        "S: 250 2.1.5 Recipient ok",
        "C: DATA now",
        "S: 501 5.5.4 Syntax error in parameters or arguments",
        "C: RSET all",
        "S: 501 5.5.4 Syntax error in parameters or arguments",
        "C: QUIT now",
        "S: 501 5.5.4 Syntax error in parameters or arguments",
        "C: VRFY",
        "S: 501 5.5.4 Syntax error in parameters or arguments",
        "C: VRFY bob",
        "S: 252 2.5.0 Cannot VRFY user, but will accept message and attempt delivery",
        "C: HELP",
        "S: 214 2.0.0 Commands: HELO EHLO MAIL RCPT DATA RSET NOOP QUIT VRFY HELP",
        "C: NOOP anything",
        "S: 250 2.0.0 Ok",
        "C: EXPN list",
        "S: 502 5.5.1 Command not implemented",
        "C: STARTTLS",
        "S: 502 5.5.1 Command not implemented",
        "C: AUTH PLAIN AGFsaWNlAHNlY3JldA==",
        "S: 502 5.5.1 Command not implemented",
        "C: BDAT 10 LAST",
        "S: 502 5.5.1 Command not implemented",
        "C: rset",
        "S: 250 2.0.0 Ok",
        NULL,
    };
    smtpd_session_stats_t st;
    open_default();
    script(t);
    smtpd_session_stats(g_s, &st);
    assert_int_equal(st.errors, 18);
    assert_int_equal(smtpd_state(g_s), SMTPD_ST_HELO);
    assert_int_equal(fq.aborts_open, 1);
    assert_int_equal(fq.commits, 0);
}

static void test_syntax_errors(void **state)
{
    (void)state;
    all_modes(body_syntax_errors);
}

static void body_relay_denied(void)
{
    static const char *const t[] = {
        GREETING,
        "C: EHLO client.example",
        EHLO_REPLY,
        "C: MAIL FROM:<a@outside.example>",
        "C: RCPT TO:<victim@far.example>",
        "C: RCPT TO:<user@mx.example>",
        "C: RCPT TO:<postmaster@far.example>",
        "C: RCPT TO:<postmaster>",
        "C: RCPT TO:<PostMaster@MX.example>",
        "C: DATA",
        "S: 250 2.1.0 Sender ok",
        "S: 550 5.7.1 Relaying denied",
        "S: 550 5.7.1 Relaying denied",
        "S: 550 5.7.1 Relaying denied",
        "S: 250 2.1.5 Recipient ok",
        "S: 250 2.1.5 Recipient ok",
        "S: 354 End data with <CR><LF>.<CR><LF>",
        "C: hi",
        "C: .",
        "S: 250 2.0.0 Ok: queued as 0000A001",
        NULL,
    };
    smtpd_conn_t c = default_conn();
    smtpd_stats_t st;

    c.relay_allowed = false;
    open_conn(&c);
    script(t);
    assert_false(fq.evil_seen); /* never handed to the queue */
    assert_int_equal(fq.c_nrcpt, 2);
    assert_string_equal(fq.c_rcpt[0], "postmaster");
    assert_string_equal(fq.c_rcpt[1], "PostMaster@MX.example");
    smtpd_stats(&st);
    assert_int_equal(st.rej_relay, 3);
    /* each denial is told to the glue (event 1203), nothing else is */
    assert_int_equal(g_notices[SMTPD_NOTICE_RELAY_DENIED], 3);
    assert_int_equal(g_notices[SMTPD_NOTICE_QUEUE_FULL], 0);
}

static void test_relay_denied(void **state)
{
    (void)state;
    all_modes(body_relay_denied);
}

/* ======================================================================= */
/* limits                                                                  */
/* ======================================================================= */

static void ehlo(void)
{
    C("EHLO client.example");
    S("250-mx.example");
    S("250-PIPELINING");
    S("250-SIZE 10485760");
    S("250-8BITMIME");
    S("250-ENHANCEDSTATUSCODES");
    S("250-DSN");
    S("250 HELP");
}

static void start_data(void)
{
    ehlo();
    C("MAIL FROM:<a@client.example>");
    S("250 2.1.0 Sender ok");
    C("RCPT TO:<b@far.example>");
    S("250 2.1.5 Recipient ok");
    C("DATA");
    S("354 End data with <CR><LF>.<CR><LF>");
}

static void body_too_many_rcpt(void)
{
    char line[64];
    int i;

    open_default();
    S("220 mx.example ESMTP ready");
    ehlo();
    C("MAIL FROM:<a@client.example>");
    S("250 2.1.0 Sender ok");
    for (i = 1; i <= 101; i++) {
        snprintf(line, sizeof(line), "RCPT TO:<user%d@far.example>", i);
        C(line);
    }
    for (i = 1; i <= 100; i++)
        S("250 2.1.5 Recipient ok");
    S("452 4.5.3 Too many recipients");
    C("DATA");
    S("354 End data with <CR><LF>.<CR><LF>");
    C(".");
    S("250 2.0.0 Ok: queued as 0000A001");
    sync_();
    assert_int_equal(fq.c_nrcpt, 100);
    assert_int_equal(fq.rcpt_calls_total, 100);
}

static void test_too_many_rcpt(void **state)
{
    (void)state;
    all_modes(body_too_many_rcpt);
}

static void body_size_at_mail(void)
{
    static const char *const t[] = {
        GREETING,
        "C: EHLO client.example",
        EHLO_REPLY,
        "C: MAIL FROM:<a@client.example> SIZE=10485761",
        "S: 552 5.3.4 Message size exceeds fixed maximum message size",
        "C: MAIL FROM:<a@client.example> SIZE=99999999999999999999999",
        "S: 552 5.3.4 Message size exceeds fixed maximum message size",
        "C: MAIL FROM:<a@client.example> SIZE=4294967296",
        "S: 552 5.3.4 Message size exceeds fixed maximum message size",
        "C: MAIL FROM:<a@client.example> SIZE=10485760",
        "S: 250 2.1.0 Sender ok",
        NULL,
    };
    smtpd_stats_t st;
    open_default();
    script(t);
    assert_int_equal(fq.begins, 1);
    assert_int_equal(fq.size_hint, 10485760);
    smtpd_stats(&st);
    assert_int_equal(st.rej_too_big, 3);
}

static void test_size_at_mail(void **state)
{
    (void)state;
    all_modes(body_size_at_mail);
}

static void body_size_at_end(void)
{
    static const char *const t[] = {
        GREETING,
        "C: EHLO client.example",
        "S: 250-mx.example", "S: 250-PIPELINING", "S: 250-SIZE 64", "S: 250-8BITMIME",
        "S: 250-ENHANCEDSTATUSCODES", "S: 250-DSN", "S: 250 HELP",
        "C: MAIL FROM:<a@client.example>",
        "C: RCPT TO:<b@far.example>",
        "C: DATA",
        "S: 250 2.1.0 Sender ok",
        "S: 250 2.1.5 Recipient ok",
        "S: 354 End data with <CR><LF>.<CR><LF>",
        /* 62 + CRLF = 64 octets: exactly the limit */
        "C: 12345678901234567890123456789012345678901234567890123456789012",
        "C: .",
        "S: 250 2.0.0 Ok: queued as 0000A001",
        "C: MAIL FROM:<a@client.example>",
        "C: RCPT TO:<b@far.example>",
        "C: DATA",
        "S: 250 2.1.0 Sender ok",
        "S: 250 2.1.5 Recipient ok",
        "S: 354 End data with <CR><LF>.<CR><LF>",
        /* 65 octets, then more: all read, nothing stored */
        "C: 123456789012345678901234567890123456789012345678901234567890123",
        "C: more text after the limit",
        "C: MAIL FROM:<evil@x.example>",
        "C: .",
        "S: 552 5.3.4 Message size exceeds fixed maximum message size",
        "C: NOOP",
        "S: 250 2.0.0 Ok",
        NULL,
    };
    smtpd_limits_t l;
    smtpd_get_limits(&l);
    l.max_msg_size = 64;
    assert_int_equal(smtpd_set_limits(&l), SMTPD_OK);
    open_default();
    script(t);
    assert_int_equal(fq.commits, 1);
    assert_int_equal(fq.aborts_open, 1);
    assert_false(fq.evil_seen);
    /* at most the limit reached the queue */
    assert_true(fq.len <= strlen(RECEIVED_ESMTP("00000101")) + 64);
}

static void test_size_at_end(void **state)
{
    (void)state;
    all_modes(body_size_at_end);
}

static void body_long_data_line(void)
{
    static char line[1100];

    open_default();
    S("220 mx.example ESMTP ready");
    start_data();
    memset(line, 'x', 998);
    line[998] = '\0';
    C(line); /* 1000 with CRLF */
    C(".");
    S("250 2.0.0 Ok: queued as 0000A001");
    C("MAIL FROM:<a@client.example>");
    S("250 2.1.0 Sender ok");
    C("RCPT TO:<b@far.example>");
    S("250 2.1.5 Recipient ok");
    C("DATA");
    S("354 End data with <CR><LF>.<CR><LF>");
    memset(line, 'y', 999);
    line[999] = '\0';
    C(line); /* 1001 with CRLF */
    C("short");
    C(".");
    S("500 5.6.0 Message rejected: line longer than 1000 octets");
    sync_();
    assert_int_equal(fq.commits_ok, 1);
    assert_int_equal(fq.aborts_open, 1);
    assert_int_equal(fq.c_len, strlen(RECEIVED_ESMTP("00000100")) + 1000);
}

static void test_long_data_line(void **state)
{
    (void)state;
    all_modes(body_long_data_line);
}

static void body_long_command_line(void)
{
    static char line[2100];

    open_default();
    S("220 mx.example ESMTP ready");
    /* 510 + CRLF = 512: accepted */
    memcpy(line, "NOOP ", 5);
    memset(line + 5, 'x', 505);
    line[510] = '\0';
    C(line);
    S("250 2.0.0 Ok");
    /* 511 + CRLF = 513: refused */
    memset(line + 5, 'x', 506);
    line[511] = '\0';
    C(line);
    S("500 5.5.2 Line too long");
    /* the tail of an overlong line is never executed */
    memset(line, ' ', 512);
    strcpy(line + 512, "QUIT");
    C(line);
    S("500 5.5.2 Line too long");
    C("NOOP");
    S("250 2.0.0 Ok");
    sync_();
    assert_int_equal(smtpd_state(g_s), SMTPD_ST_CONNECTED);
    /* a 2000-octet line then a good one */
    memset(line, 'z', 2000);
    line[2000] = '\0';
    C(line);
    C("NOOP");
    S("500 5.5.2 Line too long");
    S("250 2.0.0 Ok");
    sync_();
    assert_int_equal(smtpd_state(g_s), SMTPD_ST_CONNECTED);
}

static void test_long_command_line(void **state)
{
    (void)state;
    all_modes(body_long_command_line);
}

static void body_bare_eol_commands(void)
{
    static const char *const t[] = {
        GREETING,
        "R: QUIT\n",
        "S: 500 5.5.2 Bare CR or LF in command line",
        "R: \n",
        "S: 500 5.5.2 Bare CR or LF in command line",
        "R: NO\rOP\r\n",
        "S: 500 5.5.2 Bare CR or LF in command line",
        "R: NOOP\r\r\n",
        "S: 500 5.5.2 Bare CR or LF in command line",
        "R: NOOP\r\n",
        "S: 250 2.0.0 Ok",
        NULL,
    };
    open_default();
    script(t);
    assert_int_equal(smtpd_state(g_s), SMTPD_ST_CONNECTED);
}

static void test_bare_eol_commands(void **state)
{
    (void)state;
    all_modes(body_bare_eol_commands);
}

/* ======================================================================= */
/* SMTP smuggling (CVE-2023-51764 class)                                   */
/* ======================================================================= */

static const char *const smuggle_seqs[] = {
    "\n.\n", "\r.\r", "\n.\r\n", "\r.\n", "\r\n.\n", "\r\n.\r",
    "\r\n.\r\r\n", "\n\n.\r\n", "\r\n.\n\r\n",
};
static size_t smuggle_i;
static bool smuggle_pipelined;

static void body_smuggling(void)
{
    char raw[512];
    int n = snprintf(raw, sizeof(raw),
                     "Subject: x\r\n\r\nhello%s"
                     "MAIL FROM:<evil@attacker.example>\r\n"
                     "RCPT TO:<victim@far.example>\r\n"
                     "DATA\r\n"
                     "smuggled\r\n"
                     ".\r\n",
                     smuggle_seqs[smuggle_i]);

    open_default();
    S("220 mx.example ESMTP ready");
    ehlo();
    C("MAIL FROM:<a@client.example>");
    C("RCPT TO:<b@far.example>");
    C("DATA");
    if (!smuggle_pipelined) {
        /* a client waiting for the 354 */
        S("250 2.1.0 Sender ok");
        S("250 2.1.5 Recipient ok");
        S("354 End data with <CR><LF>.<CR><LF>");
        R(raw, (size_t)n);
        C("QUIT");
    } else {
        /* everything in one input */
        add(g_in, &g_in_len, sizeof(g_in), raw, (size_t)n, false);
        add(g_in, &g_in_len, sizeof(g_in), "QUIT", 4, true);
        S("250 2.1.0 Sender ok");
        S("250 2.1.5 Recipient ok");
        S("354 End data with <CR><LF>.<CR><LF>");
    }
    /* ONE reply for the rest: the smuggled commands never ran */
    S("554 5.6.0 Message rejected: bare CR or LF in data");
    S("221 2.0.0 mx.example closing connection");
    sync_();
    assert_false(fq.evil_seen);
    assert_int_equal(fq.begins, 1);
    assert_int_equal(fq.commits, 0);
    assert_int_equal(fq.aborts_open, 1);
}

static void test_smuggling(void **state)
{
    smtpd_stats_t st;
    (void)state;
    for (smuggle_i = 0; smuggle_i < sizeof(smuggle_seqs) / sizeof(smuggle_seqs[0]); smuggle_i++) {
        for (int p = 0; p < 2; p++) {
            smuggle_pipelined = p != 0;
            all_modes(body_smuggling);
            smtpd_stats(&st);
            assert_int_equal(st.rej_bare_eol, 1);
            assert_int_equal(st.accepted, 0);
        }
    }
}

/* A clean message after a smuggling attempt in the same session: still at
 * most one commit, and it is the clean one. */
static void body_smuggling_then_clean(void)
{
    open_default();
    S("220 mx.example ESMTP ready");
    start_data();
    R("x\n.\nMAIL FROM:<evil@a.example>\r\n.\r\n", strlen("x\n.\nMAIL FROM:<evil@a.example>\r\n.\r\n"));
    S("554 5.6.0 Message rejected: bare CR or LF in data");
    C("MAIL FROM:<good@client.example>");
    C("RCPT TO:<b@far.example>");
    C("DATA");
    S("250 2.1.0 Sender ok");
    S("250 2.1.5 Recipient ok");
    S("354 End data with <CR><LF>.<CR><LF>");
    C("clean");
    C(".");
    S("250 2.0.0 Ok: queued as 0000A001");
    sync_();
    assert_false(fq.evil_seen);
    assert_int_equal(fq.commits, 1);
    assert_string_equal(fq.c_sender, "good@client.example");
    expect_committed(RECEIVED_ESMTP("00000101") "clean\r\n");
}

static void test_smuggling_then_clean(void **state)
{
    (void)state;
    all_modes(body_smuggling_then_clean);
}

/* ======================================================================= */
/* queue failures: every stage leaves nothing behind                       */
/* ======================================================================= */

static int qf_stage;

static void body_queue_full(void)
{
    open_default();
    S("220 mx.example ESMTP ready");
    ehlo();
    switch (qf_stage) {
    case 0: /* begin */
        fq.begin_rc = QUEUE_ERR_FULL;
        C("MAIL FROM:<a@client.example>");
        S("452 4.3.1 Insufficient system storage");
        C("RCPT TO:<b@far.example>");
        S("503 5.5.1 Need MAIL command first");
        sync_();
        assert_int_equal(g_notices[SMTPD_NOTICE_QUEUE_FULL], 1); /* event 1402 */
        fq.begin_rc = QUEUE_ERR_TOOBIG;
        C("MAIL FROM:<a@client.example>");
        S("552 5.3.4 Message size exceeds fixed maximum message size");
        sync_();
        fq.begin_rc = QUEUE_ERR_ARG;
        C("MAIL FROM:<a@client.example>");
        S("501 5.1.7 Bad sender address syntax");
        sync_();
        assert_int_equal(fq.begins_ok, 0);
        break;
    case 1: /* add_rcpt: only that recipient is refused */
        fq.rcpt_fail_at = 2;
        fq.rcpt_rc = QUEUE_ERR_FULL;
        C("MAIL FROM:<a@client.example>");
        C("RCPT TO:<b@far.example>");
        C("RCPT TO:<c@far.example>");
        C("QUIT");
        S("250 2.1.0 Sender ok");
        S("250 2.1.5 Recipient ok");
        S("452 4.3.1 Insufficient system storage");
        S("221 2.0.0 mx.example closing connection");
        sync_();
        assert_int_equal(fq.aborts_open, 1);
        break;
    case 2: /* add_rcpt fails for the only recipient */
        fq.rcpt_fail_at = 1;
        fq.rcpt_rc = QUEUE_ERR_FULL;
        C("MAIL FROM:<a@client.example>");
        C("RCPT TO:<b@far.example>");
        C("DATA");
        C("RSET");
        S("250 2.1.0 Sender ok");
        S("452 4.3.1 Insufficient system storage");
        S("554 5.5.1 No valid recipients");
        S("250 2.0.0 Ok");
        sync_();
        assert_int_equal(fq.aborts_open, 1);
        break;
    case 3: /* Received: header append at DATA */
        fq.append_fail_at = 1;
        fq.append_rc = QUEUE_ERR_FULL;
        C("MAIL FROM:<a@client.example>");
        C("RCPT TO:<b@far.example>");
        C("DATA");
        S("250 2.1.0 Sender ok");
        S("250 2.1.5 Recipient ok");
        S("452 4.3.1 Insufficient system storage");
        C("NOOP");
        S("250 2.0.0 Ok");
        sync_();
        assert_int_equal(fq.aborts_open, 1);
        assert_int_equal(smtpd_state(g_s), SMTPD_ST_HELO);
        break;
    case 4: /* body append: the body is still read to its end */
    case 5:
        fq.append_fail_at = 2;
        fq.append_rc = qf_stage == 4 ? QUEUE_ERR_FULL : QUEUE_ERR_TOOBIG;
        C("MAIL FROM:<a@client.example>");
        C("RCPT TO:<b@far.example>");
        C("DATA");
        S("250 2.1.0 Sender ok");
        S("250 2.1.5 Recipient ok");
        S("354 End data with <CR><LF>.<CR><LF>");
        C("line one");
        C("line two");
        C("NOOP");
        C(".");
        S(qf_stage == 4 ? "452 4.3.1 Insufficient system storage"
                        : "552 5.3.4 Message size exceeds fixed maximum message size");
        C("NOOP");
        S("250 2.0.0 Ok");
        sync_();
        assert_int_equal(fq.aborts_open, 1);
        assert_int_equal(fq.commits, 0);
        break;
    case 6: /* commit */
    case 7:
        fq.commit_rc = qf_stage == 6 ? QUEUE_ERR_FULL : QUEUE_ERR_IO;
        C("MAIL FROM:<a@client.example>");
        C("RCPT TO:<b@far.example>");
        C("DATA");
        S("250 2.1.0 Sender ok");
        S("250 2.1.5 Recipient ok");
        S("354 End data with <CR><LF>.<CR><LF>");
        C("body");
        C(".");
        S(qf_stage == 6 ? "452 4.3.1 Insufficient system storage"
                        : "451 4.3.0 Local error in processing");
        sync_();
        assert_int_equal(fq.commits, 1);
        assert_int_equal(fq.commits_ok, 0);
        break;
    }
    assert_int_equal(fq.nopen, 0);
    assert_int_equal(fq.commits_ok, 0);
}

static void test_queue_full(void **state)
{
    smtpd_stats_t st;
    (void)state;
    for (qf_stage = 0; qf_stage <= 7; qf_stage++) {
        all_modes(body_queue_full);
        smtpd_stats(&st);
        assert_int_equal(st.accepted, 0);
        assert_true(st.rej_queue >= 1);
    }
}

/* ======================================================================= */
/* pool, timeouts, error limit, backpressure                               */
/* ======================================================================= */

static void test_pool_exhaustion(void **state)
{
    smtpd_session_t *s[SMTPD_MAX_SESSIONS];
    smtpd_conn_t c = default_conn();
    smtpd_stats_t st;
    int i;
    (void)state;

    reset_all();
    for (i = 0; i < SMTPD_MAX_SESSIONS; i++) {
        s[i] = smtpd_open(&c, 0);
        assert_non_null(s[i]);
        assert_int_equal(smtpd_state(s[i]), SMTPD_ST_CONNECTED);
    }
    assert_null(smtpd_open(&c, 0));
    assert_null(smtpd_open(&c, 0));
    assert_string_equal(smtpd_busy_reply(), "421 4.3.2 Too many connections, try again later\r\n");
    smtpd_stats(&st);
    assert_int_equal(st.sessions, SMTPD_MAX_SESSIONS);
    assert_int_equal(st.busy, 2);

    smtpd_close(s[3]);
    s[3] = smtpd_open(&c, 0);
    assert_non_null(s[3]);
    for (i = 0; i < SMTPD_MAX_SESSIONS; i++)
        smtpd_close(s[i]);
    smtpd_stats(&st);
    assert_int_equal(st.sessions, SMTPD_MAX_SESSIONS + 1);
}

static void test_cmd_timeout(void **state)
{
    const uint32_t starts[] = { 1000u, 0xFFFFFF00u }; /* incl. clock wrap */
    size_t k;
    (void)state;

    for (k = 0; k < 2; k++) {
        smtpd_stats_t st;
        reset_all();
        g_now = starts[k];
        open_default();
        S("220 mx.example ESMTP ready");
        ehlo();
        C("MAIL FROM:<a@client.example>");
        S("250 2.1.0 Sender ok");
        sync_();
        /* input restarts the clock */
        smtpd_tick(g_s, g_now + 299999u);
        g_now += 200000u;
        C("NOOP");
        S("250 2.0.0 Ok");
        sync_();
        smtpd_tick(g_s, g_now + 299999u);
        drain();
        assert_int_equal(g_got_len, 0);
        assert_false(smtpd_should_close(g_s));
        smtpd_tick(g_s, g_now + 300000u);
        S("421 4.4.2 mx.example Timeout, closing connection");
        sync_();
        assert_true(smtpd_should_close(g_s));
        assert_int_equal(fq.aborts_open, 1);
        smtpd_stats(&st);
        assert_int_equal(st.timeouts, 1);
        smtpd_close(g_s);
        assert_int_equal(fq.nopen, 0);
    }
}

static void test_data_timeout(void **state)
{
    (void)state;
    reset_all();
    open_default();
    S("220 mx.example ESMTP ready");
    start_data();
    C("partial body");
    sync_();
    smtpd_tick(g_s, g_now + 179999u);
    assert_int_equal(smtpd_state(g_s), SMTPD_ST_DATA);
    smtpd_tick(g_s, g_now + 180000u);
    S("421 4.4.2 mx.example Timeout, closing connection");
    sync_();
    assert_true(smtpd_should_close(g_s));
    assert_int_equal(fq.aborts_open, 1);
    assert_int_equal(fq.commits, 0);
    /* input after the 421 is discarded */
    assert_int_equal(smtpd_input(g_s, (const uint8_t *)".\r\n", 3, g_now), 3);
    drain();
    assert_int_equal(g_got_len, 0);
    assert_int_equal(fq.commits, 0);
    smtpd_close(g_s);
}

static void test_close_grace(void **state)
{
    (void)state;
    reset_all();
    open_default();
    /* QUIT without the glue taking the output: close only after the grace */
    assert_int_equal(smtpd_input(g_s, (const uint8_t *)"QUIT\r\nNOOP\r\n", 12, g_now), 12);
    assert_false(smtpd_should_close(g_s));
    smtpd_tick(g_s, g_now + SMTPD_CLOSE_GRACE_MS - 1u);
    assert_false(smtpd_should_close(g_s));
    smtpd_tick(g_s, g_now + SMTPD_CLOSE_GRACE_MS);
    assert_true(smtpd_should_close(g_s));
    S("220 mx.example ESMTP ready");
    S("221 2.0.0 mx.example closing connection");
    sync_(); /* NOOP after QUIT never answered */
    smtpd_close(g_s);
}

static void body_too_many_errors(void)
{
    int i;
    smtpd_stats_t st;

    open_default();
    S("220 mx.example ESMTP ready");
    ehlo();
    C("MAIL FROM:<a@client.example>");
    S("250 2.1.0 Sender ok");
    for (i = 0; i < 19; i++) {
        C("GET / HTTP/1.0");
        S("500 5.5.2 Command unrecognized");
    }
    sync_();
    assert_int_equal(smtpd_state(g_s), SMTPD_ST_MAIL);
    C("RCPT TO:<x>");
    C("RCPT TO:<b@far.example>");
    C("QUIT");
    S("501 5.1.3 Bad recipient address syntax");
    S("421 4.7.0 mx.example Too many errors, closing connection");
    sync_();
    assert_int_equal(smtpd_state(g_s), SMTPD_ST_CLOSING);
    assert_true(smtpd_should_close(g_s));
    assert_int_equal(fq.aborts_open, 1);
    assert_int_equal(fq.rcpt_calls_total, 0);
    smtpd_stats(&st);
    assert_int_equal(st.error_limit, 1);
    assert_int_equal(st.errors, 20);
}

static void test_too_many_errors(void **state)
{
    (void)state;
    all_modes(body_too_many_errors);
}

/* A full store is not the client's fault: neither the 452 at MAIL nor the
 * 503s to the RCPT and DATA a pipelining client (Postfix) sent behind it
 * count toward the error limit, so a reused connection survives many of
 * them; a 503 that does not follow a 452 still counts. */
static void body_storage_452_not_errors(void)
{
    int i;

    open_default();
    S("220 mx.example ESMTP ready");
    ehlo();
    fq.begin_rc = QUEUE_ERR_FULL;
    for (i = 0; i < 30; i++) {
        C("MAIL FROM:<a@client.example>");
        C("RCPT TO:<b@far.example>");
        C("DATA");
        S("452 4.3.1 Insufficient system storage");
        S("503 5.5.1 Need MAIL command first");
        S("503 5.5.1 Need MAIL command first");
        C("RSET");
        S("250 2.0.0 Ok");
    }
    sync_();
    assert_int_equal(smtpd_state(g_s), SMTPD_ST_HELO);
    /* the positive control: 20 plain sequence errors still end the session */
    for (i = 0; i < 19; i++) {
        C("RCPT TO:<b@far.example>");
        S("503 5.5.1 Need MAIL command first");
    }
    C("DATA");
    S("503 5.5.1 Need MAIL command first");
    S("421 4.7.0 mx.example Too many errors, closing connection");
    sync_();
    assert_int_equal(smtpd_state(g_s), SMTPD_ST_CLOSING);
}

static void test_storage_452_not_errors(void **state)
{
    (void)state;
    all_modes(body_storage_452_not_errors);
}

/* The glue does not read replies: input stops being consumed, nothing is
 * lost or reordered, and it resumes once output is taken. */
static void test_backpressure(void **state)
{
    static char in[200 * 6];
    const uint8_t *p;
    size_t n = 0, used, total = 0, out;
    int i, rounds = 0;
    (void)state;

    reset_all();
    open_default();
    for (i = 0; i < 200; i++) {
        memcpy(in + n, "NOOP\r\n", 6);
        n += 6;
    }
    used = smtpd_input(g_s, (const uint8_t *)in, n, g_now);
    assert_true(used < n);
    out = smtpd_output_peek(g_s, &p);
    assert_true(out <= SMTPD_OUTBUF);
    assert_int_equal(smtpd_input(g_s, (const uint8_t *)in + used, n - used, g_now), 0);

    /* tiny output space: the glue takes 7 bytes at a time */
    total = used;
    while (total < n) {
        out = smtpd_output_peek(g_s, &p);
        if (out > 7)
            out = 7;
        memcpy(g_got + g_got_len, p, out);
        g_got_len += out;
        smtpd_output_consume(g_s, out);
        total += smtpd_input(g_s, (const uint8_t *)in + total, n - total, g_now);
        assert_true(++rounds < 100000);
    }
    drain();
    S("220 mx.example ESMTP ready");
    for (i = 0; i < 200; i++)
        S("250 2.0.0 Ok");
    sync_();
    smtpd_close(g_s);
}

/* Backpressure in DATA: with pipelined replies unread, the body waits too.
 * Find a number of leading NOOPs for which the engine stops while in DATA. */
static void test_backpressure_data(void **state)
{
    static char in[16384];
    static const char head[] = "MAIL FROM:<a@client.example>\r\nRCPT TO:<b@far.example>\r\nDATA\r\n";
    int k, i, hits = 0;
    (void)state;

    for (k = 30; k < 80; k++) {
        size_t n = 0, used;
        reset_all();
        open_default();
        S("220 mx.example ESMTP ready");
        ehlo();
        sync_();
        for (i = 0; i < k; i++) {
            memcpy(in + n, "NOOP\r\n", 6);
            n += 6;
        }
        memcpy(in + n, head, sizeof(head) - 1);
        n += sizeof(head) - 1;
        for (i = 0; i < 100; i++) {
            memcpy(in + n, "body line\r\n", 11);
            n += 11;
        }
        memcpy(in + n, ".\r\nQUIT\r\n", 9);
        n += 9;
        used = smtpd_input(g_s, (const uint8_t *)in, n, g_now);
        if (used < n && smtpd_state(g_s) == SMTPD_ST_DATA) {
            hits++;
            assert_int_equal(smtpd_input(g_s, (const uint8_t *)in + used, n - used, g_now), 0);
        }
        g_mode = MODE_WHOLE;
        feed(in + used, n - used);
        for (i = 0; i < k; i++)
            S("250 2.0.0 Ok");
        S("250 2.1.0 Sender ok");
        S("250 2.1.5 Recipient ok");
        S("354 End data with <CR><LF>.<CR><LF>");
        S("250 2.0.0 Ok: queued as 0000A001");
        S("221 2.0.0 mx.example closing connection");
        sync_();
        assert_int_equal(fq.commits_ok, 1);
        assert_int_equal(fq.c_len, strlen(RECEIVED_ESMTP("00000100")) + 1100);
        smtpd_close(g_s);
    }
    assert_true(hits > 0);
}

/* ======================================================================= */
/* hooks, limits API, misc                                                 */
/* ======================================================================= */

static char trace_log[512];

static void trace_fn(const smtpd_session_t *s, smtpd_state_t from, smtpd_state_t to)
{
    size_t n = strlen(trace_log);
    (void)s;
    snprintf(trace_log + n, sizeof(trace_log) - n, "%s>%s ", smtpd_state_name(from),
             smtpd_state_name(to));
}

static void test_trace(void **state)
{
    static const char *const t[] = {
        GREETING,
        "C: HELO c.example",
        "S: 250 mx.example",
        "C: MAIL FROM:<a@c.example>",
        "S: 250 2.1.0 Sender ok",
        "C: RCPT TO:<b@d.example>",
        "S: 250 2.1.5 Recipient ok",
        "C: DATA",
        "S: 354 End data with <CR><LF>.<CR><LF>",
        "C: .",
        "S: 250 2.0.0 Ok: queued as 0000A001",
        "C: QUIT",
        "S: 221 2.0.0 mx.example closing connection",
        NULL,
    };
    (void)state;
    reset_all();
    trace_log[0] = '\0';
    smtpd_set_trace(trace_fn);
    open_default();
    script(t);
    smtpd_close(g_s);
    assert_string_equal(trace_log,
                        "FREE>CONNECTED CONNECTED>HELO HELO>MAIL MAIL>RCPT RCPT>DATA "
                        "DATA>HELO HELO>CLOSING CLOSING>FREE ");
    assert_string_equal(smtpd_state_name(SMTPD_ST_COUNT), "?");
    smtpd_set_trace(NULL);
}

static void test_limits_api(void **state)
{
    smtpd_limits_t l, d;
    (void)state;

    reset_all();
    smtpd_get_limits(&d);
    assert_int_equal(d.max_msg_size, 10u * 1024u * 1024u);
    assert_int_equal(d.max_rcpt, 100);
    assert_int_equal(d.max_errors, 20);
    assert_int_equal(d.cmd_timeout_ms, 300000u);
    assert_int_equal(d.data_timeout_ms, 180000u);

    l = d;
    l.cmd_timeout_ms = 299999u; /* RFC 5321 4.5.3.2.7: at least 5 minutes */
    assert_int_equal(smtpd_set_limits(&l), SMTPD_ERR_ARG);
    l = d;
    l.data_timeout_ms = 1000u;
    assert_int_equal(smtpd_set_limits(&l), SMTPD_ERR_ARG);
    l = d;
    l.max_rcpt = 0;
    assert_int_equal(smtpd_set_limits(&l), SMTPD_ERR_ARG);
    l = d;
    l.max_msg_size = 0;
    assert_int_equal(smtpd_set_limits(&l), SMTPD_ERR_ARG);
    assert_int_equal(smtpd_set_limits(NULL), SMTPD_ERR_ARG);
    smtpd_get_limits(&l);
    assert_memory_equal(&l, &d, sizeof(l));

    l.max_rcpt = 2;
    l.max_errors = 3;
    l.cmd_timeout_ms = 600000u;
    assert_int_equal(smtpd_set_limits(&l), SMTPD_OK);
    smtpd_get_limits(&d);
    assert_memory_equal(&l, &d, sizeof(l));

    /* the new limits apply */
    open_default();
    S("220 mx.example ESMTP ready");
    C("HELO c.example");
    C("MAIL FROM:<a@c.example>");
    C("RCPT TO:<b1@d.example>");
    C("RCPT TO:<b2@d.example>");
    C("RCPT TO:<b3@d.example>");
    C("FOO");
    C("BAR");
    C("NOOP");
    S("250 mx.example");
    S("250 2.1.0 Sender ok");
    S("250 2.1.5 Recipient ok");
    S("250 2.1.5 Recipient ok");
    S("452 4.5.3 Too many recipients");
    S("500 5.5.2 Command unrecognized");
    S("500 5.5.2 Command unrecognized");
    S("421 4.7.0 mx.example Too many errors, closing connection");
    sync_();
    smtpd_tick(g_s, g_now + 599999u); /* CLOSING: grace, no second 421 */
    drain();
    assert_int_equal(g_got_len, 0);
    smtpd_close(g_s);
    assert_int_equal(fq.nopen, 0);
}

static void test_stats(void **state)
{
    smtpd_stats_t st;
    smtpd_session_stats_t ss;
    static const char *const t[] = {
        GREETING,
        "C: EHLO client.example",
        EHLO_REPLY,
        "C: MAIL FROM:<a@client.example>",
        "C: RCPT TO:<b@far.example>",
        "C: RCPT TO:<c@far.example>",
        "C: DATA",
        "S: 250 2.1.0 Sender ok",
        "S: 250 2.1.5 Recipient ok",
        "S: 250 2.1.5 Recipient ok",
        "S: 354 End data with <CR><LF>.<CR><LF>",
        "R: bare\nlf\r\n.\r\n",
        "S: 554 5.6.0 Message rejected: bare CR or LF in data",
        "C: MAIL FROM:<a@client.example>",
        "C: RCPT TO:<b@far.example>",
        "C: DATA",
        "S: 250 2.1.0 Sender ok",
        "S: 250 2.1.5 Recipient ok",
        "S: 354 End data with <CR><LF>.<CR><LF>",
        "C: ok",
        "C: .",
        "S: 250 2.0.0 Ok: queued as 0000A001",
        NULL,
    };
    (void)state;
    reset_all();
    smtpd_stats_reset();
    open_default();
    script(t);
    smtpd_session_stats(g_s, &ss);
    assert_int_equal(ss.messages, 1);
    assert_int_equal(ss.rcpts, 3);
    assert_int_equal(ss.errors, 1);
    assert_true(ss.bytes_in > 100);
    smtpd_stats(&st);
    assert_int_equal(st.sessions, 1);
    assert_int_equal(st.accepted, 1);
    assert_int_equal(st.rej_bare_eol, 1);
    assert_int_equal(st.errors, 1);
    smtpd_close(g_s);
    smtpd_stats_reset();
    smtpd_stats(&st);
    assert_int_equal(st.accepted, 0);
}

static void test_close_aborts(void **state)
{
    (void)state;
    reset_all();
    open_default();
    S("220 mx.example ESMTP ready");
    start_data();
    C("half a message");
    sync_();
    assert_int_equal(fq.nopen, 1);
    smtpd_close(g_s); /* peer reset */
    assert_int_equal(fq.nopen, 0);
    assert_int_equal(fq.commits, 0);
    /* the slot is reusable */
    open_default();
    assert_int_equal(smtpd_state(g_s), SMTPD_ST_CONNECTED);
    smtpd_close(g_s);
}

static int no_date(char *buf, size_t n)
{
    (void)buf;
    (void)n;
    return -1;
}

static void test_identity_variants(void **state)
{
    smtpd_conn_t c = default_conn();
    (void)state;

    reset_all();
    c.hostname[0] = '\0';         /* no name: address literal (RFC 5321 4.1.3) */
    strcpy(c.remote_ip, "2001:db8::5");
    strcpy(c.netif_name, "sl0");
    c.date = no_date;
    open_conn(&c);
    S("220 [192.0.2.1] ESMTP ready");
    C("EHLO [2001:db8::5]");
    S("250-[192.0.2.1]");
    S("250-PIPELINING");
    S("250-SIZE 10485760");
    S("250-8BITMIME");
    S("250-ENHANCEDSTATUSCODES");
    S("250-DSN");
    S("250 HELP");
    C("MAIL FROM:<a@client.example>");
    C("RCPT TO:<b@far.example>");
    C("DATA");
    S("250 2.1.0 Sender ok");
    S("250 2.1.5 Recipient ok");
    S("354 End data with <CR><LF>.<CR><LF>");
    C(".");
    S("250 2.0.0 Ok: queued as 0000A001");
    sync_();
    expect_committed("Received: from [2001:db8::5] ([IPv6:2001:db8::5])\r\n"
                     "\tby [192.0.2.1] (sl0 192.0.2.1) with ESMTP id 00000100;\r\n"
                     "\tThu, 01 Jan 1970 00:00:00 +0000\r\n");
    smtpd_close(g_s);

    /* over-long fields are truncated, not overflowed */
    c = default_conn();
    memset(c.hostname, 'h', sizeof(c.hostname));
    memset(c.netif_name, 'n', sizeof(c.netif_name));
    c.date = NULL;
    open_conn(&c);
    {
        const uint8_t *p;
        size_t n = smtpd_output_peek(g_s, &p);
        assert_int_equal(n, 4 + (SMTPD_HOSTNAME_MAX - 1) + strlen(" ESMTP ready\r\n"));
    }
    smtpd_close(g_s);
}

/* ======================================================================= */
/* STARTTLS (RFC 3207) and AUTH (RFC 4954)                                 */
/* ======================================================================= */

#define EHLO_HEAD                                                           \
    "S: 250-mx.example", "S: 250-PIPELINING", "S: 250-SIZE 10485760",       \
        "S: 250-8BITMIME", "S: 250-ENHANCEDSTATUSCODES", "S: 250-DSN"
#define EHLO_STARTTLS_REPLY EHLO_HEAD, "S: 250-STARTTLS", "S: 250 HELP"
#define EHLO_AUTH_REPLY EHLO_HEAD, "S: 250-AUTH PLAIN LOGIN", "S: 250 HELP"
#define TLS_GO "S: 220 2.0.0 Ready to start TLS"
#define AUTH_OK "S: 235 2.7.0 Authentication successful"
#define AUTH_FAILED "535 5.7.8 Authentication credentials invalid"
#define DECODE_ERR "S: 501 5.5.2 Cannot decode response"
#define PLAIN_ALICE "AGFsaWNlAHNlY3JldA=="  /* "\0alice\0secret" */
#define PLAIN_WRONG "AGFsaWNlAHdyb25n"      /* "\0alice\0wrong" */
#define RECEIVED_WITH(with, id)                                             \
    "Received: from client.example ([192.0.2.99])\r\n"                      \
    "\tby mx.example (eth0 192.0.2.1) with " with " id " id ";\r\n"        \
    "\tTue, 19 Nov 2024 10:00:00 +0000\r\n"

static smtpd_conn_t tls_conn(uint8_t tls_policy, uint8_t auth_policy)
{
    smtpd_conn_t c = default_conn();
    c.tls_policy = tls_policy;
    c.auth_policy = auth_policy;
    c.tls_begin = ft_tls_begin;
    c.auth_check = ft_auth_check;
    c.ctx = &ft;
    return c;
}

/* After the 220 to STARTTLS was sent: the glue completes the handshake. */
static void handshake(void)
{
    assert_true(smtpd_starttls_pending(g_s));
    assert_int_equal(smtpd_state(g_s), SMTPD_ST_STARTTLS);
    assert_false(smtpd_tls_active(g_s));
    assert_false(smtpd_should_close(g_s));
    smtpd_tls_started(g_s, g_now);
    assert_false(smtpd_starttls_pending(g_s));
    assert_true(smtpd_tls_active(g_s));
    assert_int_equal(smtpd_state(g_s), SMTPD_ST_CONNECTED);
    assert_string_equal(smtpd_auth_user(g_s), "");
}

/* Greeting, EHLO, STARTTLS, handshake, EHLO inside TLS (AUTH offered). */
static void open_tls(const smtpd_conn_t *c)
{
    static const char *const before[] = {
        GREETING,
        "C: EHLO client.example",
        EHLO_STARTTLS_REPLY,
        "C: STARTTLS",
        TLS_GO,
        NULL,
    };
    static const char *const after[] = {
        "C: EHLO client.example",
        EHLO_AUTH_REPLY,
        NULL,
    };
    open_conn(c);
    script(before);
    handshake();
    script(after);
}

static void body_tls_auth_dialogue(void)
{
    static const char *const t[] = {
        "C: AUTH PLAIN " PLAIN_ALICE,
        AUTH_OK,
        "C: MAIL FROM:<alice@client.example>",
        "C: RCPT TO:<bob@far.example>",
        "C: DATA",
        "S: 250 2.1.0 Sender ok",
        "S: 250 2.1.5 Recipient ok",
        "S: 354 End data with <CR><LF>.<CR><LF>",
        "C: hi",
        "C: .",
        "S: 250 2.0.0 Ok: queued as 0000A001",
        "C: QUIT",
        "S: 221 2.0.0 mx.example closing connection",
        NULL,
    };
    smtpd_conn_t c = tls_conn(SMTPD_TLS_OFFER, SMTPD_AUTH_OFFER);
    smtpd_stats_t st;

    c.relay_allowed = false; /* relaying only because of the AUTH */
    open_tls(&c);
    assert_int_equal(ft.begin_calls, 1);
    script(t);
    assert_string_equal(smtpd_auth_user(g_s), "alice");
    assert_int_equal(ft.check_calls, 1);
    assert_int_equal(fq.commits_ok, 1);
    assert_string_equal(fq.c_rcpt[0], "bob@far.example");
    /* RFC 3848: TLS + AUTH; the user name is not published */
    expect_committed(RECEIVED_WITH("ESMTPSA", "00000100") "hi\r\n");
    smtpd_stats(&st);
    assert_int_equal(st.starttls, 1);
    assert_int_equal(st.auth_ok, 1);
    assert_int_equal(st.auth_fail, 0);
    assert_int_equal(st.rej_relay, 0);
}

static void test_tls_auth_dialogue(void **state)
{
    (void)state;
    all_modes(body_tls_auth_dialogue);
}

/* EHLO keyword lists for each policy, before and after TLS. */
static void test_ehlo_keywords(void **state)
{
    static const char *const plain_ehlo[] = {
        GREETING, "C: EHLO client.example", EHLO_REPLY, NULL,
    };
    static const char *const starttls_ehlo[] = {
        GREETING, "C: EHLO client.example", EHLO_STARTTLS_REPLY, NULL,
    };
    static const char *const tls_ehlo[] = {
        "C: STARTTLS", TLS_GO, NULL,
    };
    static const char *const in_tls_plain[] = {
        "C: EHLO client.example", EHLO_REPLY, NULL,
    };
    static const char *const in_tls_auth[] = {
        "C: EHLO client.example", EHLO_AUTH_REPLY, NULL,
    };
    static const uint8_t auths[] = { SMTPD_AUTH_OFF, SMTPD_AUTH_OFFER, SMTPD_AUTH_REQUIRED };
    smtpd_conn_t c;
    size_t i;
    (void)state;

    g_mode = MODE_WHOLE;
    /* TLS off: STARTTLS never listed, AUTH never listed (no TLS) */
    for (i = 0; i < 3; i++) {
        reset_all();
        c = tls_conn(SMTPD_TLS_OFF, auths[i]);
        open_conn(&c);
        script(plain_ehlo);
        smtpd_close(g_s);
    }
    /* offered, but the glue cannot start TLS: not listed */
    reset_all();
    c = tls_conn(SMTPD_TLS_OFFER, SMTPD_AUTH_OFFER);
    c.tls_begin = NULL;
    open_conn(&c);
    script(plain_ehlo);
    smtpd_close(g_s);
    /* OFFER/REQUIRED: STARTTLS before TLS; AUTH only inside TLS */
    for (i = 0; i < 6; i++) {
        reset_all();
        c = tls_conn(i < 3 ? SMTPD_TLS_OFFER : SMTPD_TLS_REQUIRED, auths[i % 3]);
        open_conn(&c);
        script(starttls_ehlo);
        script(tls_ehlo);
        handshake();
        script(auths[i % 3] == SMTPD_AUTH_OFF ? in_tls_plain : in_tls_auth);
        smtpd_close(g_s);
    }
}

/* CVE-2011-0411: commands pipelined after STARTTLS (injected by a man in
 * the middle into the plaintext phase) must never run or be answered.
 * all_modes sends it as one buffer, byte by byte and in random splits. */
static void body_starttls_injection(void)
{
    static const char *const before[] = {
        GREETING,
        "C: EHLO client.example",
        EHLO_STARTTLS_REPLY,
        "C: STARTTLS",
        "C: MAIL FROM:<evil@attacker.example>",
        "C: RCPT TO:<victim@far.example>",
        "C: DATA",
        "C: QUIT",
        TLS_GO,
        /* more plaintext before the handshake: dropped, unanswered */
        "C: RSET",
        "C: AUTH PLAIN " PLAIN_ALICE,
        "C: HELP",
        "R: NO",
        NULL,
    };
    static const char *const after[] = {
        /* the fragment "NO" was not kept for the first line inside TLS */
        "R: OP\r\n",
        "S: 500 5.5.2 Command unrecognized",
        /* RFC 3207 4.2: the EHLO before TLS is forgotten (also by RSET,
         * which returns to the post-HELO state only if there was one) */
        "C: MAIL FROM:<a@client.example>",
        "S: 503 5.5.1 Send HELO/EHLO first",
        "C: RSET",
        "S: 250 2.0.0 Ok",
        "C: MAIL FROM:<a@client.example>",
        "S: 503 5.5.1 Send HELO/EHLO first",
        "C: AUTH PLAIN " PLAIN_ALICE,
        "S: 503 5.5.1 Send HELO/EHLO first",
        "C: EHLO client.example",
        EHLO_AUTH_REPLY,
        "C: AUTH PLAIN " PLAIN_ALICE,
        AUTH_OK,
        "C: MAIL FROM:<a@client.example>",
        "S: 250 2.1.0 Sender ok",
        "C: RCPT TO:<b@far.example>",
        "S: 250 2.1.5 Recipient ok",
        "C: DATA",
        "S: 354 End data with <CR><LF>.<CR><LF>",
        "C: .",
        "S: 250 2.0.0 Ok: queued as 0000A001",
        NULL,
    };
    smtpd_conn_t c = tls_conn(SMTPD_TLS_OFFER, SMTPD_AUTH_OFFER);

    open_conn(&c);
    script(before);
    assert_int_equal(fq.begins, 0);
    assert_false(fq.evil_seen);
    assert_int_equal(ft.check_calls, 0);
    assert_false(smtpd_should_close(g_s)); /* the QUIT did not run either */
    handshake();
    script(after);
    assert_false(fq.evil_seen);
    assert_int_equal(fq.begins, 1);
    assert_int_equal(ft.check_calls, 1);
    expect_committed(RECEIVED_WITH("ESMTPSA", "00000100"));
}

static void test_starttls_injection(void **state)
{
    (void)state;
    all_modes(body_starttls_injection);
}

/* The same with the engine pushing back (unread replies) just before the
 * STARTTLS: the discarding survives the stalls. */
static void body_starttls_injection_backpressure(void)
{
    int i;
    smtpd_conn_t c = tls_conn(SMTPD_TLS_REQUIRED, SMTPD_AUTH_OFF);

    open_conn(&c);
    S("220 mx.example ESMTP ready");
    C("HELO client.example");
    for (i = 0; i < 150; i++)
        C("NOOP");
    C("STARTTLS");
    C("MAIL FROM:<evil@attacker.example>");
    C("RCPT TO:<victim@far.example>");
    S("250 mx.example");
    for (i = 0; i < 150; i++)
        S("250 2.0.0 Ok");
    S("220 2.0.0 Ready to start TLS");
    sync_();
    assert_int_equal(fq.begins, 0);
    handshake();
    /* HELO is enough for TLS_REQUIRED once in TLS; ESMTPS even so */
    C("HELO client.example");
    C("MAIL FROM:<a@client.example>");
    C("RCPT TO:<b@far.example>");
    C("DATA");
    C(".");
    S("250 mx.example");
    S("250 2.1.0 Sender ok");
    S("250 2.1.5 Recipient ok");
    S("354 End data with <CR><LF>.<CR><LF>");
    S("250 2.0.0 Ok: queued as 0000A001");
    sync_();
    assert_false(fq.evil_seen);
    expect_committed(RECEIVED_WITH("ESMTPS", "00000100"));
}

static void test_starttls_injection_backpressure(void **state)
{
    (void)state;
    all_modes(body_starttls_injection_backpressure);
}

/* The exact contract of smtpd_input around STARTTLS, without the runner. */
static void test_starttls_injection_raw(void **state)
{
    static const char a[] = "EHLO client.example\r\nSTARTTLS\r\nMAIL FROM:<evil@attacker.example>\r\n";
    static const char b[] = "RCPT TO:<victim@far.example>\r\nQUIT\r\n";
    static const char want[] = "220 2.0.0 Ready to start TLS\r\n";
    smtpd_conn_t c = tls_conn(SMTPD_TLS_OFFER, SMTPD_AUTH_OFFER);
    const uint8_t *p;
    size_t n;
    smtpd_session_stats_t ss;
    (void)state;

    reset_all();
    open_conn(&c);
    n = smtpd_output_peek(g_s, &p);
    smtpd_output_consume(g_s, n);
    /* everything is consumed: the glue holds nothing that could run later */
    assert_int_equal(smtpd_input(g_s, (const uint8_t *)a, sizeof(a) - 1, g_now), sizeof(a) - 1);
    n = smtpd_output_peek(g_s, &p);
    assert_true(n > sizeof(want) - 1);
    assert_memory_equal(p + n - (sizeof(want) - 1), want, sizeof(want) - 1);
    smtpd_output_consume(g_s, n);
    assert_int_equal(smtpd_input(g_s, (const uint8_t *)b, sizeof(b) - 1, g_now), sizeof(b) - 1);
    assert_int_equal(smtpd_output_peek(g_s, &p), 0);
    assert_int_equal(fq.begins, 0);
    smtpd_session_stats(g_s, &ss);
    assert_int_equal(ss.bytes_in, sizeof(a) - 1 + sizeof(b) - 1);
    /* the handshake forgets any reply the glue did not take (none here) */
    smtpd_tls_started(g_s, g_now);
    assert_int_equal(smtpd_output_peek(g_s, &p), 0); /* no new greeting */
    smtpd_close(g_s);

    /* STARTTLS and the injected line in one buffer, nothing else */
    reset_all();
    open_conn(&c);
    assert_int_equal(smtpd_input(g_s, (const uint8_t *)a, 21, g_now), 21); /* EHLO */
    n = smtpd_output_peek(g_s, &p);
    smtpd_output_consume(g_s, n);
    assert_int_equal(smtpd_input(g_s, (const uint8_t *)a + 21, sizeof(a) - 22, g_now), sizeof(a) - 22);
    n = smtpd_output_peek(g_s, &p);
    assert_int_equal(n, sizeof(want) - 1);
    assert_memory_equal(p, want, n);
    /* a glue that forgot to flush: the 220 belongs to the plaintext phase */
    smtpd_tls_started(g_s, g_now);
    assert_int_equal(smtpd_output_peek(g_s, &p), 0);
    assert_int_equal(fq.begins, 0);
    smtpd_close(g_s);
}

static void body_starttls_errors(void)
{
    static const char *const t1[] = {
        GREETING,
        /* our choice: EHLO first (that is where STARTTLS is offered) */
        "C: STARTTLS",
        "S: 503 5.5.1 Send HELO/EHLO first",
        "C: EHLO client.example",
        EHLO_STARTTLS_REPLY,
        "C: STARTTLS now",
        "S: 501 5.5.4 Syntax error in parameters or arguments",
        "C: MAIL FROM:<a@client.example>",
        "S: 250 2.1.0 Sender ok",
        "C: STARTTLS",
        "S: 503 5.5.1 Not allowed during a mail transaction",
        "C: RCPT TO:<b@far.example>",
        "S: 250 2.1.5 Recipient ok",
        "C: STARTTLS",
        "S: 503 5.5.1 Not allowed during a mail transaction",
        "C: RSET",
        "S: 250 2.0.0 Ok",
        "C: AUTH PLAIN " PLAIN_ALICE,
        "S: 502 5.5.1 Command not implemented",
        NULL,
    };
    static const char *const t2[] = {
        "C: STARTTLS",
        "S: 454 4.7.0 TLS not available due to temporary reason",
        "C: NOOP",
        "S: 250 2.0.0 Ok",
        NULL,
    };
    static const char *const t3[] = {
        "C: starttls",
        TLS_GO,
        NULL,
    };
    static const char *const t4[] = {
        "C: STARTTLS",
        "S: 503 5.5.1 TLS already active",
        "C: EHLO client.example",
        EHLO_REPLY, /* no STARTTLS any more; AUTH is off */
        "C: STARTTLS",
        "S: 503 5.5.1 TLS already active",
        "C: MAIL FROM:<a@client.example>",
        "S: 250 2.1.0 Sender ok",
        NULL,
    };
    smtpd_conn_t c = tls_conn(SMTPD_TLS_OFFER, SMTPD_AUTH_OFF);
    smtpd_stats_t st;

    open_conn(&c);
    script(t1);
    assert_int_equal(ft.begin_calls, 0);
    ft.begin_ok = false; /* e.g. no free TLS context */
    script(t2);
    assert_int_equal(ft.begin_calls, 1);
    assert_false(smtpd_starttls_pending(g_s));
    assert_int_equal(smtpd_state(g_s), SMTPD_ST_HELO);
    ft.begin_ok = true;
    script(t3);
    handshake();
    script(t4);
    assert_int_equal(ft.begin_calls, 2);
    assert_int_equal(fq.begins_ok, 2);
    smtpd_stats(&st);
    assert_int_equal(st.starttls, 1);
}

static void test_starttls_errors(void **state)
{
    (void)state;
    all_modes(body_starttls_errors);
}

/* Not offered: 502 as before (also with a tls_begin); offered without a
 * tls_begin: 454. */
static void test_starttls_not_offered(void **state)
{
    static const char *const off[] = {
        GREETING,
        "C: EHLO client.example",
        EHLO_REPLY,
        "C: STARTTLS",
        "S: 502 5.5.1 Command not implemented",
        NULL,
    };
    static const char *const no_glue[] = {
        GREETING,
        "C: EHLO client.example",
        EHLO_REPLY,
        "C: STARTTLS",
        "S: 454 4.7.0 TLS not available due to temporary reason",
        "C: MAIL FROM:<a@client.example>",
        "S: 530 5.7.0 Must issue a STARTTLS command first",
        NULL,
    };
    smtpd_conn_t c;
    (void)state;

    g_mode = MODE_WHOLE;
    reset_all();
    c = tls_conn(SMTPD_TLS_OFF, SMTPD_AUTH_OFF);
    open_conn(&c);
    script(off);
    assert_int_equal(ft.begin_calls, 0);
    smtpd_close(g_s);

    reset_all();
    c = tls_conn(SMTPD_TLS_REQUIRED, SMTPD_AUTH_OFF);
    c.tls_begin = NULL;
    open_conn(&c);
    script(no_glue);
    smtpd_close(g_s);
    assert_int_equal(fq.nopen, 0);
}

static void body_tls_required(void)
{
    static const char *const before[] = {
        GREETING,
        "C: EHLO client.example",
        EHLO_STARTTLS_REPLY,
        "C: MAIL FROM:<a@client.example>",
        "S: 530 5.7.0 Must issue a STARTTLS command first",
        "C: AUTH PLAIN " PLAIN_ALICE,
        "S: 530 5.7.0 Must issue a STARTTLS command first",
        "C: RCPT TO:<b@far.example>",
        "S: 503 5.5.1 Need MAIL command first",
        "C: NOOP",
        "S: 250 2.0.0 Ok",
        "C: STARTTLS",
        TLS_GO,
        NULL,
    };
    static const char *const after[] = {
        "C: EHLO client.example",
        EHLO_AUTH_REPLY,
        /* AUTH offered, not required: mail without it */
        "C: MAIL FROM:<a@client.example>",
        "C: RCPT TO:<b@far.example>",
        "C: DATA",
        "S: 250 2.1.0 Sender ok",
        "S: 250 2.1.5 Recipient ok",
        "S: 354 End data with <CR><LF>.<CR><LF>",
        "C: x",
        "C: .",
        "S: 250 2.0.0 Ok: queued as 0000A001",
        NULL,
    };
    smtpd_conn_t c = tls_conn(SMTPD_TLS_REQUIRED, SMTPD_AUTH_OFFER);

    open_conn(&c);
    script(before);
    assert_int_equal(fq.begins, 0);
    assert_int_equal(ft.check_calls, 0);
    handshake();
    script(after);
    expect_committed(RECEIVED_WITH("ESMTPS", "00000100") "x\r\n");
}

static void test_tls_required(void **state)
{
    (void)state;
    all_modes(body_tls_required);
}

/* AUTH before TLS: 538 unless TLS is required (530). */
static void test_auth_needs_tls(void **state)
{
    static const char *const t[] = {
        GREETING,
        "C: EHLO client.example",
        EHLO_STARTTLS_REPLY,
        "C: AUTH PLAIN " PLAIN_ALICE,
        "S: 538 5.7.11 Encryption required for requested authentication mechanism",
        "C: AUTH LOGIN",
        "S: 538 5.7.11 Encryption required for requested authentication mechanism",
        "C: MAIL FROM:<a@client.example>",
        "S: 250 2.1.0 Sender ok",
        "C: MAIL FROM:<a@client.example> AUTH=<>",
        "S: 503 5.5.1 Sender already specified",
        "C: RSET",
        "S: 250 2.0.0 Ok",
        /* AUTH= only exists where AUTH was offered (RFC 4954 5) */
        "C: MAIL FROM:<a@client.example> AUTH=<>",
        "S: 555 5.5.4 Unsupported MAIL/RCPT parameter",
        NULL,
    };
    static const char *const tls_off[] = {
        GREETING,
        "C: EHLO client.example",
        EHLO_REPLY,
        "C: AUTH PLAIN " PLAIN_ALICE,
        "S: 538 5.7.11 Encryption required for requested authentication mechanism",
        NULL,
    };
    smtpd_conn_t c;
    (void)state;

    g_mode = MODE_WHOLE;
    reset_all();
    c = tls_conn(SMTPD_TLS_OFFER, SMTPD_AUTH_OFFER);
    open_conn(&c);
    script(t);
    smtpd_close(g_s);

    reset_all();
    c = tls_conn(SMTPD_TLS_OFF, SMTPD_AUTH_OFFER);
    open_conn(&c);
    script(tls_off);
    smtpd_close(g_s);
    assert_int_equal(ft.check_calls, 0);
}

static void body_auth_plain(void)
{
    static const char *const t[] = {
        "C: AUTH",
        "S: 501 5.5.4 Syntax: AUTH mechanism [initial-response]",
        "C: AUTH CRAM-MD5",
        "S: 504 5.5.4 Unrecognized authentication type",
        "C: AUTH XOAUTH2 dXNlcj0=",
        "S: 504 5.5.4 Unrecognized authentication type",
        "C: AUTH PLAIN a b",
        "S: 501 5.5.4 Syntax: AUTH mechanism [initial-response]",
        "C: AUTH PLAIN !!!!",
        DECODE_ERR,
        "C: AUTH PLAIN AGFsaWNlAHNlY3JldA", /* unpadded */
        DECODE_ERR,
        "C: AUTH PLAIN =",                  /* empty response */
        DECODE_ERR,
        "C: AUTH PLAIN YWxpY2U=",           /* "alice": no NULs */
        DECODE_ERR,
        "C: AUTH PLAIN Ym9iAGFsaWNlAHNlY3JldA==", /* authzid bob != alice */
        DECODE_ERR,
        /* no initial response: empty challenge, then the response */
        "C: AUTH PLAIN",
        "S: 334 ",
        "C: *",
        "S: 501 5.0.0 Authentication cancelled",
        "C: AUTH PLAIN",
        "S: 334 ",
        "C: AGFsaWNl",                      /* "\0alice" */
        DECODE_ERR,
        /* a command line in the AUTH state is a (bad) response, not a command */
        "C: AUTH PLAIN",
        "C: QUIT",
        "S: 334 ",
        DECODE_ERR,
        "C: NOOP",
        "S: 250 2.0.0 Ok",
        /* authzid = authcid is fine; mechanism names in any case */
        "C: auth plain",
        "S: 334 ",
        "C: YWxpY2UAYWxpY2UAc2VjcmV0",
        AUTH_OK,
        "C: AUTH PLAIN " PLAIN_ALICE,
        "S: 503 5.5.1 Already authenticated",
        "C: AUTH LOGIN",
        "S: 503 5.5.1 Already authenticated",
        /* AUTH= is accepted and ignored once AUTH is offered */
        "C: MAIL FROM:<a@client.example> AUTH=<>",
        "S: 250 2.1.0 Sender ok",
        "C: AUTH PLAIN " PLAIN_ALICE,
        "S: 503 5.5.1 Not allowed during a mail transaction",
        NULL,
    };
    smtpd_conn_t c = tls_conn(SMTPD_TLS_OFFER, SMTPD_AUTH_OFFER);
    smtpd_session_stats_t ss;

    open_tls(&c);
    script(t);
    assert_false(smtpd_should_close(g_s));
    assert_int_equal(ft.check_calls, 1); /* undecodable input never reaches it */
    assert_string_equal(ft.user, "alice");
    assert_string_equal(smtpd_auth_user(g_s), "alice");
    smtpd_session_stats(g_s, &ss);
    assert_int_equal(ss.errors, 15);
}

static void test_auth_plain(void **state)
{
    (void)state;
    all_modes(body_auth_plain);
}

static void body_auth_login(void)
{
    static const char *const t1[] = {
        "C: AUTH LOGIN",
        "S: 334 VXNlcm5hbWU6",
        "C: *",
        "S: 501 5.0.0 Authentication cancelled",
        "C: AUTH LOGIN",
        "S: 334 VXNlcm5hbWU6",
        "C: YWxpY2U=",
        "S: 334 UGFzc3dvcmQ6",
        NULL,
    };
    static const char *const t2[] = {
        "C: *",
        "S: 501 5.0.0 Authentication cancelled",
        "C: AUTH LOGIN =",        /* empty user name */
        DECODE_ERR,
        "C: AUTH LOGIN YWwAaWNl", /* NUL in the user name */
        DECODE_ERR,
        "C: AUTH LOGIN !!!!",
        DECODE_ERR,
        "C: AUTH LOGIN",
        "S: 334 VXNlcm5hbWU6",
        "C: YWxpY2U",             /* unpadded */
        DECODE_ERR,
        "C: AUTH LOGIN YWxpY2U=", /* initial response = user name */
        "S: 334 UGFzc3dvcmQ6",
        "C: =",                   /* empty password */
        DECODE_ERR,
        "C: AUTH login",
        "S: 334 VXNlcm5hbWU6",
        "C: YWxpY2U=",
        "S: 334 UGFzc3dvcmQ6",
        "C: c2VjcmV0",
        AUTH_OK,
        NULL,
    };
    smtpd_conn_t c = tls_conn(SMTPD_TLS_OFFER, SMTPD_AUTH_OFFER);

    open_tls(&c);
    script(t1);
    assert_int_equal(smtpd_state(g_s), SMTPD_ST_AUTH);
    assert_string_equal(smtpd_auth_user(g_s), ""); /* not yet */
    script(t2);
    assert_int_equal(ft.check_calls, 1);
    assert_string_equal(smtpd_auth_user(g_s), "alice");
    assert_int_equal(smtpd_state(g_s), SMTPD_ST_HELO);
}

static void test_auth_login(void **state)
{
    (void)state;
    all_modes(body_auth_login);
}

/* Not offered: 502 even inside TLS; before HELO/EHLO: 503. */
static void test_auth_not_offered(void **state)
{
    static const char *const t[] = {
        "C: EHLO client.example",
        EHLO_REPLY,
        "C: AUTH PLAIN " PLAIN_ALICE,
        "S: 502 5.5.1 Command not implemented",
        "C: MAIL FROM:<a@client.example> AUTH=<>",
        "S: 555 5.5.4 Unsupported MAIL/RCPT parameter",
        NULL,
    };
    static const char *const early[] = {
        "C: AUTH PLAIN " PLAIN_ALICE,
        "S: 503 5.5.1 Send HELO/EHLO first",
        NULL,
    };
    static const char *const tls[] = {
        GREETING,
        "C: EHLO client.example",
        EHLO_STARTTLS_REPLY,
        "C: STARTTLS",
        TLS_GO,
        NULL,
    };
    smtpd_conn_t c;
    (void)state;

    g_mode = MODE_WHOLE;
    reset_all();
    c = tls_conn(SMTPD_TLS_OFFER, SMTPD_AUTH_OFF);
    open_conn(&c);
    script(tls);
    handshake();
    script(t);
    smtpd_close(g_s);

    reset_all();
    c = tls_conn(SMTPD_TLS_OFFER, SMTPD_AUTH_OFFER);
    open_conn(&c);
    script(tls);
    handshake();
    script(early);
    smtpd_close(g_s);
    assert_int_equal(ft.check_calls, 0);
}

static void body_auth_required(void)
{
    static const char *const before[] = {
        GREETING,
        "C: EHLO client.example",
        EHLO_STARTTLS_REPLY,
        "C: MAIL FROM:<a@client.example>",
        "S: 530 5.7.0 Authentication required",
        "C: STARTTLS",
        TLS_GO,
        NULL,
    };
    static const char *const after[] = {
        "C: EHLO client.example",
        EHLO_AUTH_REPLY,
        "C: MAIL FROM:<a@client.example>",
        "S: 530 5.7.0 Authentication required",
        "C: AUTH LOGIN",
        "S: 334 VXNlcm5hbWU6",
        "C: YWxpY2U=",
        "S: 334 UGFzc3dvcmQ6",
        "C: c2VjcmV0",
        AUTH_OK,
        "C: MAIL FROM:<a@client.example>",
        "C: RCPT TO:<b@far.example>",
        "C: DATA",
        "S: 250 2.1.0 Sender ok",
        "S: 250 2.1.5 Recipient ok",
        "S: 354 End data with <CR><LF>.<CR><LF>",
        "C: .",
        "S: 250 2.0.0 Ok: queued as 0000A001",
        /* RSET and EHLO keep the authentication (RFC 4954) */
        "C: RSET",
        "S: 250 2.0.0 Ok",
        "C: EHLO client.example",
        EHLO_AUTH_REPLY,
        "C: MAIL FROM:<a@client.example>",
        "S: 250 2.1.0 Sender ok",
        NULL,
    };
    smtpd_conn_t c = tls_conn(SMTPD_TLS_OFFER, SMTPD_AUTH_REQUIRED);

    c.relay_allowed = false;
    open_conn(&c);
    script(before);
    handshake();
    script(after);
    assert_int_equal(fq.commits_ok, 1);
    expect_committed(RECEIVED_WITH("ESMTPSA", "00000100"));
}

static void test_auth_required(void **state)
{
    (void)state;
    all_modes(body_auth_required);
}

/* Relaying: denied before AUTH, allowed after (relay_allowed false). */
static void body_relay_after_auth(void)
{
    static const char *const t[] = {
        "C: MAIL FROM:<a@client.example>",
        "C: RCPT TO:<victim@far.example>",
        "C: RCPT TO:<postmaster@mx.example>",
        "S: 250 2.1.0 Sender ok",
        "S: 550 5.7.1 Relaying denied",
        "S: 250 2.1.5 Recipient ok",
        "C: RSET",
        "S: 250 2.0.0 Ok",
        "C: AUTH PLAIN " PLAIN_ALICE,
        AUTH_OK,
        "C: MAIL FROM:<a@client.example>",
        "C: RCPT TO:<b@far.example>",
        "C: DATA",
        "S: 250 2.1.0 Sender ok",
        "S: 250 2.1.5 Recipient ok",
        "S: 354 End data with <CR><LF>.<CR><LF>",
        "C: .",
        "S: 250 2.0.0 Ok: queued as 0000A001",
        NULL,
    };
    smtpd_conn_t c = tls_conn(SMTPD_TLS_OFFER, SMTPD_AUTH_OFFER);
    smtpd_stats_t st;

    c.relay_allowed = false;
    open_tls(&c);
    script(t);
    assert_int_equal(fq.c_nrcpt, 1);
    assert_string_equal(fq.c_rcpt[0], "b@far.example");
    assert_int_equal(fq.rcpt_calls_total, 2); /* postmaster and b; never the victim */
    smtpd_stats(&st);
    assert_int_equal(st.rej_relay, 1);
}

static void test_relay_after_auth(void **state)
{
    (void)state;
    all_modes(body_relay_after_auth);
}

/* Longest credentials sasl.h allows, one octet more, and AUTH lines at the
 * command line limit. */
static void test_auth_limits(void **state)
{
    static char line[SMTPD_LINE_MAX + 16];
    static char b64[400];
    uint8_t raw[300];
    smtpd_conn_t c = tls_conn(SMTPD_TLS_OFFER, SMTPD_AUTH_OFFER);
    int i;
    (void)state;

    for (i = 0; i < 2; i++) {
        g_mode = i == 0 ? MODE_WHOLE : MODE_RANDOM;
        reset_all();
        open_tls(&c);

        /* PLAIN: 64-octet user, 128-octet password: accepted */
        raw[0] = 0;
        memset(raw + 1, 'u', 64);
        raw[65] = 0;
        memset(raw + 66, 'p', 128);
        assert_int_equal(sasl_b64_encode(raw, 194, b64, sizeof(b64)), 260);
        C("AUTH PLAIN");
        S("334 ");
        C(b64);
        S("235 2.7.0 Authentication successful");
        sync_();
        assert_int_equal(strlen(smtpd_auth_user(g_s)), 64);
        smtpd_close(g_s);

        reset_all();
        open_tls(&c);
        /* 65-octet user: cannot be decoded into the limits */
        raw[0] = 0;
        memset(raw + 1, 'u', 65);
        raw[66] = 0;
        memset(raw + 67, 'p', 8);
        assert_true(sasl_b64_encode(raw, 75, b64, sizeof(b64)) > 0);
        snprintf(line, sizeof(line), "AUTH PLAIN %s", b64);
        C(line);
        S("501 5.5.2 Cannot decode response");
        /* 129-octet password */
        raw[0] = 0;
        memset(raw + 1, 'u', 4);
        raw[5] = 0;
        memset(raw + 6, 'p', 129);
        assert_true(sasl_b64_encode(raw, 135, b64, sizeof(b64)) > 0);
        snprintf(line, sizeof(line), "AUTH PLAIN %s", b64);
        C(line);
        S("501 5.5.2 Cannot decode response");
        /* LOGIN: 65-octet user name, 129-octet password */
        memset(raw, 'u', 65);
        assert_true(sasl_b64_encode(raw, 65, b64, sizeof(b64)) > 0);
        snprintf(line, sizeof(line), "AUTH LOGIN %s", b64);
        C(line);
        S("501 5.5.2 Cannot decode response");
        C("AUTH LOGIN YWxpY2U=");
        S("334 UGFzc3dvcmQ6");
        memset(raw, 'p', 129);
        assert_true(sasl_b64_encode(raw, 129, b64, sizeof(b64)) > 0);
        C(b64);
        S("501 5.5.2 Cannot decode response");
        /* a 512-octet AUTH line is read and decoded (too long to be valid) */
        memcpy(line, "AUTH PLAIN ", 11);
        memset(line + 11, 'A', 499);
        line[510] = '\0';
        C(line);
        S("501 5.5.2 Cannot decode response");
        /* a 512-octet response line likewise */
        C("AUTH PLAIN");
        S("334 ");
        memset(line, 'A', 510);
        line[510] = '\0';
        C(line);
        S("501 5.5.2 Cannot decode response");
        /* 513 octets: too long; it ends the exchange and never runs */
        C("AUTH PLAIN");
        S("334 ");
        memset(line, 'A', 511);
        line[511] = '\0';
        C(line);
        S("500 5.5.2 Line too long");
        C("NOOP");
        S("250 2.0.0 Ok");
        /* a bare LF in a response likewise */
        C("AUTH LOGIN");
        S("334 VXNlcm5hbWU6");
        R("YWxpY2U=\n", 9);
        S("500 5.5.2 Bare CR or LF in command line");
        C("NOOP");
        S("250 2.0.0 Ok");
        sync_();
        assert_int_equal(ft.check_calls, 0);
        assert_string_equal(smtpd_auth_user(g_s), "");
        smtpd_close(g_s);
    }
}

/* Input pending after a failed AUTH stays with the glue. */
static size_t input_str(const char *p, uint32_t now)
{
    return smtpd_input(g_s, (const uint8_t *)p, strlen(p), now);
}

static void expect_output(const char *want)
{
    const uint8_t *p;
    size_t n = smtpd_output_peek(g_s, &p);
    if (n != strlen(want) || memcmp(p, want, n) != 0) {
        show("expected", want, strlen(want));
        show("got", (const char *)p, n);
        fail();
    }
    smtpd_output_consume(g_s, n);
}

static void test_auth_fail_delay(void **state)
{
    static const char a1[] = "AUTH PLAIN " PLAIN_WRONG "\r\n";
    static const char rest[] = "NOOP\r\nAUTH PLAIN " PLAIN_ALICE "\r\n";
    const uint32_t starts[] = { 1000u, 0xFFFFFFFFu - 1000u }; /* incl. clock wrap */
    smtpd_conn_t c = tls_conn(SMTPD_TLS_OFFER, SMTPD_AUTH_OFFER);
    smtpd_stats_t st;
    smtpd_session_stats_t ss;
    size_t k, used;
    (void)state;

    g_mode = MODE_WHOLE;
    for (k = 0; k < 2; k++) {
        char in[256];
        uint32_t t0;

        reset_all();
        g_now = starts[k];
        open_tls(&c);
        t0 = g_now;
        snprintf(in, sizeof(in), "%s%s", a1, rest);
        /* pipelined: the AUTH line is read, then nothing more */
        used = input_str(in, t0);
        assert_int_equal(used, strlen(a1));
        expect_output("");
        assert_int_equal(smtpd_state(g_s), SMTPD_ST_AUTH_FAIL);
        assert_int_equal(ft.check_calls, 1);
        assert_int_equal(input_str(in + used, t0 + 1999u), 0);
        smtpd_tick(g_s, t0 + 1999u);
        expect_output("");
        assert_false(smtpd_should_close(g_s));
        /* the delay is over: the tick releases the 535 */
        smtpd_tick(g_s, t0 + SMTPD_AUTH_FAIL_DELAY_MS);
        expect_output(AUTH_FAILED "\r\n");
        assert_int_equal(smtpd_state(g_s), SMTPD_ST_HELO);
        used += input_str(in + used, t0 + 2001u);
        assert_int_equal(used, strlen(in));
        expect_output("250 2.0.0 Ok\r\n235 2.7.0 Authentication successful\r\n");
        assert_string_equal(smtpd_auth_user(g_s), "alice");
        smtpd_session_stats(g_s, &ss);
        assert_int_equal(ss.errors, 1);
        smtpd_stats(&st);
        assert_int_equal(st.auth_fail, 1);
        assert_int_equal(st.auth_ok, 1);
        assert_int_equal(st.errors, 1);
        smtpd_close(g_s);

        /* released by smtpd_input itself (no tick), LOGIN this time */
        reset_all();
        g_now = starts[k];
        open_tls(&c);
        t0 = g_now;
        used = input_str("AUTH LOGIN\r\nYWxpY2U=\r\nd3Jvbmc=\r\nNOOP\r\n", t0);
        assert_int_equal(used, strlen("AUTH LOGIN\r\nYWxpY2U=\r\nd3Jvbmc=\r\n"));
        expect_output("334 VXNlcm5hbWU6\r\n334 UGFzc3dvcmQ6\r\n");
        assert_string_equal(smtpd_auth_user(g_s), "");
        assert_int_equal(input_str("NOOP\r\n", t0 + 1000u), 0);
        assert_int_equal(input_str("NOOP\r\n", t0 + 2000u), 6);
        expect_output(AUTH_FAILED "\r\n250 2.0.0 Ok\r\n");
        assert_string_equal(smtpd_auth_user(g_s), "");
        smtpd_close(g_s);
    }

    /* no auth_check: every AUTH fails */
    reset_all();
    c.auth_check = NULL;
    open_tls(&c);
    assert_int_equal(input_str("AUTH PLAIN " PLAIN_ALICE "\r\n", g_now), strlen(PLAIN_ALICE) + 13);
    smtpd_tick(g_s, g_now + SMTPD_AUTH_FAIL_DELAY_MS);
    expect_output(AUTH_FAILED "\r\n");
    assert_string_equal(smtpd_auth_user(g_s), "");
    smtpd_close(g_s);
}

/* Failed AUTHs count toward max_errors; the 421 follows the last 535. */
static void test_auth_fail_error_limit(void **state)
{
    smtpd_conn_t c = tls_conn(SMTPD_TLS_OFFER, SMTPD_AUTH_OFFER);
    smtpd_limits_t l;
    smtpd_stats_t st;
    int i;
    (void)state;

    g_mode = MODE_WHOLE;
    reset_all();
    smtpd_get_limits(&l);
    l.max_errors = 3;
    assert_int_equal(smtpd_set_limits(&l), SMTPD_OK);
    open_tls(&c);
    for (i = 0; i < 3; i++) {
        g_now += 10000u;
        assert_int_equal(input_str("AUTH PLAIN " PLAIN_WRONG "\r\nNOOP\r\n", g_now),
                         strlen(PLAIN_WRONG) + 13);
        expect_output("");
        smtpd_tick(g_s, g_now + SMTPD_AUTH_FAIL_DELAY_MS);
        if (i < 2) {
            expect_output(AUTH_FAILED "\r\n");
            assert_int_equal(input_str("NOOP\r\n", g_now + SMTPD_AUTH_FAIL_DELAY_MS), 6);
            expect_output("250 2.0.0 Ok\r\n");
        }
    }
    expect_output(AUTH_FAILED "\r\n421 4.7.0 mx.example Too many errors, closing connection\r\n");
    assert_true(smtpd_should_close(g_s));
    /* the held NOOP is then read and dropped */
    assert_int_equal(input_str("NOOP\r\n", g_now + SMTPD_AUTH_FAIL_DELAY_MS), 6);
    expect_output("");
    smtpd_stats(&st);
    assert_int_equal(st.auth_fail, 3);
    assert_int_equal(st.error_limit, 1);
    assert_int_equal(ft.check_calls, 3);
    smtpd_close(g_s);
}

/* A handshake that never completes ends the session without a reply;
 * discarded plaintext does not keep it alive. AUTH waits like commands. */
static void test_tls_auth_timeouts(void **state)
{
    smtpd_conn_t c = tls_conn(SMTPD_TLS_OFFER, SMTPD_AUTH_OFFER);
    smtpd_stats_t st;
    uint32_t t0;
    (void)state;

    g_mode = MODE_WHOLE;
    reset_all();
    open_conn(&c);
    S("220 mx.example ESMTP ready");
    C("EHLO client.example");
    S("250-mx.example");
    S("250-PIPELINING");
    S("250-SIZE 10485760");
    S("250-8BITMIME");
    S("250-ENHANCEDSTATUSCODES");
    S("250-DSN");
    S("250-STARTTLS");
    S("250 HELP");
    sync_();
    t0 = g_now;
    assert_int_equal(input_str("STARTTLS\r\n", t0), 10);
    /* the glue has not sent the 220 (peer stalled) */
    assert_int_equal(input_str("NOOP\r\n", t0 + 299000u), 6);
    smtpd_tick(g_s, t0 + 299999u);
    assert_true(smtpd_starttls_pending(g_s));
    smtpd_tick(g_s, t0 + 300000u);
    assert_false(smtpd_starttls_pending(g_s));
    assert_int_equal(smtpd_state(g_s), SMTPD_ST_CLOSING);
    assert_true(smtpd_should_close(g_s));
    expect_output(""); /* no 421 into a TLS handshake; the 220 is moot */
    smtpd_stats(&st);
    assert_int_equal(st.timeouts, 1);
    smtpd_close(g_s);

    reset_all();
    open_tls(&c);
    C("AUTH LOGIN");
    S("334 VXNlcm5hbWU6");
    sync_();
    smtpd_tick(g_s, g_now + 299999u);
    assert_int_equal(smtpd_state(g_s), SMTPD_ST_AUTH);
    smtpd_tick(g_s, g_now + 300000u);
    expect_output("421 4.4.2 mx.example Timeout, closing connection\r\n");
    assert_true(smtpd_should_close(g_s));
    smtpd_close(g_s);
}

static void test_tls_trace_and_misuse(void **state)
{
    smtpd_conn_t c = tls_conn(SMTPD_TLS_OFFER, SMTPD_AUTH_OFFER);
    (void)state;

    g_mode = MODE_WHOLE;
    reset_all();
    trace_log[0] = '\0';
    smtpd_set_trace(trace_fn);
    open_conn(&c);
    /* smtpd_tls_started without a pending STARTTLS is a glue bug */
    expect_assert_failure(smtpd_tls_started(g_s, g_now));
    assert_false(smtpd_tls_active(g_s));
    assert_int_equal(smtpd_state(g_s), SMTPD_ST_CONNECTED);
    smtpd_set_trace(NULL);
    smtpd_close(g_s);

    reset_all();
    trace_log[0] = '\0';
    smtpd_set_trace(trace_fn);
    open_tls(&c);
    C("AUTH LOGIN");
    S("334 VXNlcm5hbWU6");
    C("YWxpY2U=");
    S("334 UGFzc3dvcmQ6");
    C("d3Jvbmc=");
    sync_();
    smtpd_tick(g_s, g_now + SMTPD_AUTH_FAIL_DELAY_MS);
    C("AUTH PLAIN " PLAIN_ALICE);
    S(AUTH_FAILED);
    S("235 2.7.0 Authentication successful");
    sync_();
    smtpd_close(g_s);
    smtpd_set_trace(NULL);
    assert_string_equal(trace_log,
                        "FREE>CONNECTED CONNECTED>HELO HELO>STARTTLS STARTTLS>CONNECTED "
                        "CONNECTED>HELO HELO>AUTH AUTH>AUTH AUTH>AUTH_FAIL AUTH_FAIL>HELO "
                        "HELO>HELO HELO>FREE ");
    assert_string_equal(smtpd_state_name(SMTPD_ST_STARTTLS), "STARTTLS");
    assert_string_equal(smtpd_state_name(SMTPD_ST_AUTH), "AUTH");
    assert_string_equal(smtpd_state_name(SMTPD_ST_AUTH_FAIL), "AUTH_FAIL");
}

/* Unknown policy values act as REQUIRED. */
static void test_unknown_policies(void **state)
{
    static const char *const t[] = {
        GREETING,
        "C: EHLO client.example",
        EHLO_STARTTLS_REPLY,
        "C: MAIL FROM:<a@client.example>",
        "S: 530 5.7.0 Must issue a STARTTLS command first",
        "C: STARTTLS",
        TLS_GO,
        NULL,
    };
    static const char *const after[] = {
        "C: EHLO client.example",
        EHLO_AUTH_REPLY,
        "C: MAIL FROM:<a@client.example>",
        "S: 530 5.7.0 Authentication required",
        NULL,
    };
    smtpd_conn_t c = tls_conn(7, 9);
    (void)state;

    g_mode = MODE_WHOLE;
    reset_all();
    open_conn(&c);
    script(t);
    handshake();
    script(after);
    smtpd_close(g_s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_esmtp_dialogue),
        cmocka_unit_test(test_dsn_params),
        cmocka_unit_test(test_helo_dialogue),
        cmocka_unit_test(test_pipelining),
        cmocka_unit_test(test_sequence_errors),
        cmocka_unit_test(test_syntax_errors),
        cmocka_unit_test(test_relay_denied),
        cmocka_unit_test(test_too_many_rcpt),
        cmocka_unit_test(test_size_at_mail),
        cmocka_unit_test(test_size_at_end),
        cmocka_unit_test(test_long_data_line),
        cmocka_unit_test(test_long_command_line),
        cmocka_unit_test(test_bare_eol_commands),
        cmocka_unit_test(test_smuggling),
        cmocka_unit_test(test_smuggling_then_clean),
        cmocka_unit_test(test_queue_full),
        cmocka_unit_test(test_pool_exhaustion),
        cmocka_unit_test(test_cmd_timeout),
        cmocka_unit_test(test_data_timeout),
        cmocka_unit_test(test_close_grace),
        cmocka_unit_test(test_too_many_errors),
        cmocka_unit_test(test_storage_452_not_errors),
        cmocka_unit_test(test_backpressure),
        cmocka_unit_test(test_backpressure_data),
        cmocka_unit_test(test_trace),
        cmocka_unit_test(test_limits_api),
        cmocka_unit_test(test_stats),
        cmocka_unit_test(test_close_aborts),
        cmocka_unit_test(test_identity_variants),
        cmocka_unit_test(test_tls_auth_dialogue),
        cmocka_unit_test(test_ehlo_keywords),
        cmocka_unit_test(test_starttls_injection),
        cmocka_unit_test(test_starttls_injection_backpressure),
        cmocka_unit_test(test_starttls_injection_raw),
        cmocka_unit_test(test_starttls_errors),
        cmocka_unit_test(test_starttls_not_offered),
        cmocka_unit_test(test_tls_required),
        cmocka_unit_test(test_auth_needs_tls),
        cmocka_unit_test(test_auth_plain),
        cmocka_unit_test(test_auth_login),
        cmocka_unit_test(test_auth_not_offered),
        cmocka_unit_test(test_auth_required),
        cmocka_unit_test(test_relay_after_auth),
        cmocka_unit_test(test_auth_limits),
        cmocka_unit_test(test_auth_fail_delay),
        cmocka_unit_test(test_auth_fail_error_limit),
        cmocka_unit_test(test_tls_auth_timeouts),
        cmocka_unit_test(test_tls_trace_and_misuse),
        cmocka_unit_test(test_unknown_policies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
