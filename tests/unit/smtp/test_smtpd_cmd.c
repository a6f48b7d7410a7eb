/* unit: firmware/smtp/smtpd_cmd.c */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "smtp/smtpd_cmd.h"

/* ------------------------------------------------------------------ */
/* helpers                                                             */
/* ------------------------------------------------------------------ */

static smtpd_cmd_t parse_line(const char *line, int want_rc)
{
    smtpd_cmd_t c;
    assert_int_equal(smtpd_cmd_parse(line, strlen(line), &c), want_rc);
    return c;
}

static void expect_verb(const char *line, smtpd_cmd_verb_t verb, const char *arg)
{
    smtpd_cmd_t c = parse_line(line, SMTPD_CMD_OK);
    assert_int_equal(c.verb, verb);
    assert_int_equal(c.arg_len, strlen(arg));
    assert_memory_equal(c.arg, arg, c.arg_len);
}

static smtpd_cmd_path_t mail(const char *arg, int want_rc)
{
    smtpd_cmd_path_t p;
    int rc = smtpd_cmd_parse_mail(arg, strlen(arg), &p);
    if (rc != want_rc)
        fail_msg("MAIL %s: rc %d, want %d", arg, rc, want_rc);
    return p;
}

static smtpd_cmd_path_t rcpt(const char *arg, int want_rc)
{
    smtpd_cmd_path_t p;
    int rc = smtpd_cmd_parse_rcpt(arg, strlen(arg), &p);
    if (rc != want_rc)
        fail_msg("RCPT %s: rc %d, want %d", arg, rc, want_rc);
    return p;
}

static void mail_addr(const char *arg, const char *addr)
{
    smtpd_cmd_path_t p = mail(arg, SMTPD_CMD_OK);
    assert_string_equal(p.addr, addr);
}

/* ------------------------------------------------------------------ */
/* command line                                                        */
/* ------------------------------------------------------------------ */

static void test_verbs(void **state)
{
    (void)state;
    expect_verb("HELO client.example", SMTPD_CMD_HELO, "client.example");
    expect_verb("ehlo client.example", SMTPD_CMD_EHLO, "client.example");
    expect_verb("MaIl FROM:<a@b.example>", SMTPD_CMD_MAIL, "FROM:<a@b.example>");
    expect_verb("RCPT TO:<a@b.example>", SMTPD_CMD_RCPT, "TO:<a@b.example>");
    expect_verb("DATA", SMTPD_CMD_DATA, "");
    expect_verb("RSET", SMTPD_CMD_RSET, "");
    expect_verb("NOOP hello there", SMTPD_CMD_NOOP, "hello there");
    expect_verb("quit", SMTPD_CMD_QUIT, "");
    expect_verb("VRFY user", SMTPD_CMD_VRFY, "user");
    expect_verb("EXPN list", SMTPD_CMD_EXPN, "list");
    expect_verb("HELP", SMTPD_CMD_HELP, "");
    expect_verb("STARTTLS", SMTPD_CMD_STARTTLS, "");
    expect_verb("AUTH PLAIN", SMTPD_CMD_AUTH, "PLAIN");
    expect_verb("BDAT 100 LAST", SMTPD_CMD_BDAT, "100 LAST");
    /* blanks around the argument are tolerated and removed */
    expect_verb("DATA   ", SMTPD_CMD_DATA, "");
    expect_verb("MAIL  FROM:<a@b.example> \t", SMTPD_CMD_MAIL, "FROM:<a@b.example>");
}

static void test_unknown_verbs(void **state)
{
    smtpd_cmd_t c;
    (void)state;

    c = parse_line("", SMTPD_CMD_ERR_UNKNOWN);
    assert_int_equal(c.verb, SMTPD_CMD_UNKNOWN);
    parse_line("FOO", SMTPD_CMD_ERR_UNKNOWN);
    parse_line("MAILFROM:<a@b>", SMTPD_CMD_ERR_UNKNOWN);
    parse_line("MAIL:", SMTPD_CMD_ERR_UNKNOWN);
    parse_line("HEL", SMTPD_CMD_ERR_UNKNOWN);
    parse_line(" HELO x", SMTPD_CMD_ERR_UNKNOWN);
    parse_line("HELO\tx", SMTPD_CMD_ERR_UNKNOWN);
    /* embedded NUL: the length counts, the verb does not match */
    assert_int_equal(smtpd_cmd_parse("DA\0A", 4, &c), SMTPD_CMD_ERR_UNKNOWN);
    /* never reads past len */
    assert_int_equal(smtpd_cmd_parse("DATAX", 4, &c), SMTPD_CMD_OK);
    assert_int_equal(c.verb, SMTPD_CMD_DATA);
}

static void test_verb_names(void **state)
{
    (void)state;
    assert_string_equal(smtpd_cmd_verb_name(SMTPD_CMD_MAIL), "MAIL");
    assert_string_equal(smtpd_cmd_verb_name(SMTPD_CMD_STARTTLS), "STARTTLS");
    assert_string_equal(smtpd_cmd_verb_name(SMTPD_CMD_AUTH), "AUTH");
    assert_string_equal(smtpd_cmd_verb_name(SMTPD_CMD_UNKNOWN), "?");
    assert_string_equal(smtpd_cmd_verb_name((smtpd_cmd_verb_t)99), "?");
}

/* ------------------------------------------------------------------ */
/* MAIL / RCPT                                                         */
/* ------------------------------------------------------------------ */

static void test_mail_paths(void **state)
{
    (void)state;
    mail_addr("FROM:<user@example.com>", "user@example.com");
    mail_addr("from:<user@example.com>", "user@example.com");
    mail_addr("FROM: <user@example.com>", "user@example.com"); /* space tolerated */
    mail_addr("FROM:<>", "");                                 /* null reverse-path */
    mail_addr("FROM: <>", "");
    /* source routes are accepted and ignored (RFC 5321 4.1.1.3) */
    mail_addr("FROM:<@relay.example:user@example.com>", "user@example.com");
    mail_addr("FROM:<@a.example,@b.example:user@example.com>", "user@example.com");
    mail_addr("FROM:<first.last+tag@sub.example.com>", "first.last+tag@sub.example.com");
    mail_addr("FROM:<!#$%&'*+-/=?^_`{|}~@example.com>", "!#$%&'*+-/=?^_`{|}~@example.com");
    mail_addr("FROM:<\"john doe\"@example.com>", "\"john doe\"@example.com");
    mail_addr("FROM:<\"a\\\"b\"@example.com>", "\"a\\\"b\"@example.com");
    mail_addr("FROM:<user@[192.0.2.1]>", "user@[192.0.2.1]");
    mail_addr("FROM:<user@[IPv6:2001:db8::1]>", "user@[IPv6:2001:db8::1]");
    mail_addr("FROM:<user@[x-tag:content]>", "user@[x-tag:content]");
    mail_addr("FROM:<u@1example.com>", "u@1example.com");
    mail_addr("FROM:<u@a-b.c>", "u@a-b.c");
}

static void test_mail_syntax_errors(void **state)
{
    (void)state;
    mail("", SMTPD_CMD_ERR_SYNTAX);
    mail("TO:<a@b.example>", SMTPD_CMD_ERR_SYNTAX);
    mail("FROM<a@b.example>", SMTPD_CMD_ERR_SYNTAX);
    /* angle brackets are required */
    mail("FROM:a@b.example", SMTPD_CMD_ERR_ADDR);
    mail("FROM:<a@b.example", SMTPD_CMD_ERR_ADDR);
    mail("FROM:a@b.example>", SMTPD_CMD_ERR_ADDR);
    mail("FROM:", SMTPD_CMD_ERR_ADDR);
    mail("FROM:<<a@b.example>>", SMTPD_CMD_ERR_ADDR);
    /* garbage after the path */
    mail("FROM:<a@b.example>x", SMTPD_CMD_ERR_SYNTAX);
}

static void test_bad_addresses(void **state)
{
    static const char *const bad[] = {
        "FROM:<user>",               /* no domain */
        "FROM:<@example.com>",       /* empty local part */
        "FROM:<user@>",              /* empty domain */
        "FROM:<.user@example.com>",  /* dot-string rules */
        "FROM:<user.@example.com>",
        "FROM:<us..er@example.com>",
        "FROM:<us er@example.com>",
        "FROM:<us\"er@example.com>",
        "FROM:<user@-example.com>",
        "FROM:<user@example-.com>",
        "FROM:<user@example..com>",
        "FROM:<user@example.com.>",
        "FROM:<user@.example.com>",
        "FROM:<user@exa_mple.com>",
        "FROM:<user@[192.0.2.256]>",
        "FROM:<user@[192.0.2]>",
        "FROM:<user@[192.0.2.1.5]>",
        "FROM:<user@[1234.0.2.1]>",
        "FROM:<user@[]>",
        "FROM:<user@[IPv6:zz::1]>",
        "FROM:<user@[IPv6:1]>",
        "FROM:<user@[192.0.2.1>",
        "FROM:<\"unterminated@example.com>",
        "FROM:<\"bad\\\x01\"@example.com>",
        "FROM:<@relay.example user@example.com>",
        "FROM:<@relay.example,user@example.com>",
        "FROM:<@relay.example:>",
        "FROM:<a@b@example.com>",
        "FROM:<us\xc3\xa9r@example.com>",   /* no SMTPUTF8 */
        "FROM:<user@example.com\x7f>",
    };
    size_t i;
    (void)state;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        mail(bad[i], SMTPD_CMD_ERR_ADDR);
}

static void test_length_limits(void **state)
{
    char arg[800], local[80], label[80], dom[400];
    (void)state;

    /* local part: 64 ok, 65 not */
    memset(local, 'l', 64);
    local[64] = '\0';
    snprintf(arg, sizeof(arg), "FROM:<%s@example.com>", local);
    mail(arg, SMTPD_CMD_OK);
    memset(local, 'l', 65);
    local[65] = '\0';
    snprintf(arg, sizeof(arg), "FROM:<%s@example.com>", local);
    mail(arg, SMTPD_CMD_ERR_ADDR);

    /* quoted local part counts its quotes */
    memset(local, 'q', 62);
    local[62] = '\0';
    snprintf(arg, sizeof(arg), "FROM:<\"%s\"@example.com>", local);
    mail(arg, SMTPD_CMD_OK);
    memset(local, 'q', 63);
    local[63] = '\0';
    snprintf(arg, sizeof(arg), "FROM:<\"%s\"@example.com>", local);
    mail(arg, SMTPD_CMD_ERR_ADDR);

    /* label: 63 ok, 64 not */
    memset(label, 'd', 63);
    label[63] = '\0';
    snprintf(arg, sizeof(arg), "FROM:<u@%s.example>", label);
    mail(arg, SMTPD_CMD_OK);
    memset(label, 'd', 64);
    label[64] = '\0';
    snprintf(arg, sizeof(arg), "FROM:<u@%s.example>", label);
    mail(arg, SMTPD_CMD_ERR_ADDR);

    /* domain of 255 (4 labels of 63 + 3 dots) is a valid domain, but with
     * "u@" the path is 259 octets: too long */
    memset(label, 'd', 63);
    label[63] = '\0';
    snprintf(dom, sizeof(dom), "%s.%s.%s.%s", label, label, label, label);
    assert_int_equal(strlen(dom), 255);
    assert_true(smtpd_cmd_valid_domain(dom, strlen(dom)));
    snprintf(arg, sizeof(arg), "FROM:<u@%s>", dom);
    mail(arg, SMTPD_CMD_ERR_ADDR);

    /* mailbox of 254 = path of exactly 256 octets with the brackets: ok */
    dom[252] = '\0';
    snprintf(arg, sizeof(arg), "FROM:<u@%s>", dom);
    mail(arg, SMTPD_CMD_OK);
    snprintf(arg, sizeof(arg), "TO:<u@%s>", dom);
    rcpt(arg, SMTPD_CMD_OK);
    /* source route counts towards the 256 */
    snprintf(arg, sizeof(arg), "FROM:<@r.example:u@%s>", dom);
    mail(arg, SMTPD_CMD_ERR_ADDR);

    /* path of 257 */
    snprintf(dom, sizeof(dom), "%s.%s.%s.%s", label, label, label, label);
    dom[253] = '\0';
    snprintf(arg, sizeof(arg), "FROM:<u@%s>", dom);
    mail(arg, SMTPD_CMD_ERR_ADDR);
    snprintf(arg, sizeof(arg), "TO:<u@%s>", dom);
    rcpt(arg, SMTPD_CMD_ERR_ADDR);

    /* 256 total for a domain is over */
    memset(dom, 'a', 256);
    assert_false(smtpd_cmd_valid_domain(dom, 256));
}

static void test_mail_params(void **state)
{
    smtpd_cmd_path_t p;
    (void)state;

    p = mail("FROM:<a@b.example>", SMTPD_CMD_OK);
    assert_false(p.has_size);
    assert_int_equal(p.body, SMTPD_CMD_BODY_NONE);

    p = mail("FROM:<a@b.example> SIZE=12345", SMTPD_CMD_OK);
    assert_true(p.has_size);
    assert_int_equal(p.size, 12345);

    p = mail("FROM:<a@b.example> size=0 body=8bitmime", SMTPD_CMD_OK);
    assert_true(p.has_size);
    assert_int_equal(p.size, 0);
    assert_int_equal(p.body, SMTPD_CMD_BODY_8BITMIME);

    p = mail("FROM:<> BODY=7BIT  SIZE=4294967295", SMTPD_CMD_OK);
    assert_int_equal(p.body, SMTPD_CMD_BODY_7BIT);
    assert_int_equal(p.size, UINT32_MAX);
    assert_string_equal(p.addr, "");

    /* overflow-safe: saturates, never wraps to a small number */
    p = mail("FROM:<a@b.example> SIZE=4294967296", SMTPD_CMD_OK);
    assert_int_equal(p.size, UINT32_MAX);
    p = mail("FROM:<a@b.example> SIZE=99999999999999999999999999999", SMTPD_CMD_OK);
    assert_int_equal(p.size, UINT32_MAX);
    p = mail("FROM:<a@b.example> SIZE=18446744073709551617", SMTPD_CMD_OK);
    assert_int_equal(p.size, UINT32_MAX);

    mail("FROM:<a@b.example> SIZE=", SMTPD_CMD_ERR_SYNTAX);
    mail("FROM:<a@b.example> SIZE", SMTPD_CMD_ERR_PARAM_VALUE);
    mail("FROM:<a@b.example> SIZE=12a", SMTPD_CMD_ERR_PARAM_VALUE);
    mail("FROM:<a@b.example> SIZE=-1", SMTPD_CMD_ERR_PARAM_VALUE);
    mail("FROM:<a@b.example> SIZE=1 SIZE=2", SMTPD_CMD_ERR_PARAM_VALUE);
    mail("FROM:<a@b.example> BODY=BINARYMIME", SMTPD_CMD_ERR_PARAM_VALUE);
    mail("FROM:<a@b.example> BODY=7BIT BODY=7BIT", SMTPD_CMD_ERR_PARAM_VALUE);
    mail("FROM:<a@b.example> BODY", SMTPD_CMD_ERR_PARAM_VALUE);
    /* unknown parameters -> 555 */
    mail("FROM:<a@b.example> NOTIFY=NEVER", SMTPD_CMD_ERR_PARAM);
    mail("FROM:<a@b.example> ORCPT=rfc822;a@b", SMTPD_CMD_ERR_PARAM);
    mail("FROM:<a@b.example> SMTPUTF8", SMTPD_CMD_ERR_PARAM);
    mail("FROM:<a@b.example> X-FOO=bar", SMTPD_CMD_ERR_PARAM);
    /* malformed parameter syntax */
    mail("FROM:<a@b.example> =x", SMTPD_CMD_ERR_SYNTAX);
    mail("FROM:<a@b.example> -X=1", SMTPD_CMD_ERR_SYNTAX);
    mail("FROM:<a@b.example> SIZE=1=2", SMTPD_CMD_ERR_SYNTAX);
}

/* RFC 4954 5: AUTH=<> / AUTH=xtext is parsed and flagged, never kept */
static void test_mail_auth_param(void **state)
{
    smtpd_cmd_path_t p;
    (void)state;

    p = mail("FROM:<a@b.example>", SMTPD_CMD_OK);
    assert_false(p.has_auth);
    p = mail("FROM:<a@b.example> AUTH=<>", SMTPD_CMD_OK);
    assert_true(p.has_auth);
    assert_string_equal(p.addr, "a@b.example");
    p = mail("FROM:<a@b.example> auth=e+3Dmc2@example.com SIZE=10", SMTPD_CMD_OK);
    assert_true(p.has_auth);
    assert_int_equal(p.size, 10);
    p = mail("FROM:<> AUTH=x+2B+20y", SMTPD_CMD_OK);
    assert_true(p.has_auth);
    mail("FROM:<a@b.example> AUTH", SMTPD_CMD_ERR_PARAM_VALUE);
    mail("FROM:<a@b.example> AUTH=<> AUTH=<>", SMTPD_CMD_ERR_PARAM_VALUE);
    mail("FROM:<a@b.example> AUTH=a+3d", SMTPD_CMD_ERR_PARAM_VALUE);  /* lower-case hex */
    mail("FROM:<a@b.example> AUTH=a+3", SMTPD_CMD_ERR_PARAM_VALUE);   /* short hexchar */
    mail("FROM:<a@b.example> AUTH=a+", SMTPD_CMD_ERR_PARAM_VALUE);
    mail("FROM:<a@b.example> AUTH=a+XY", SMTPD_CMD_ERR_PARAM_VALUE);
    mail("FROM:<a@b.example> AUTH=a=b", SMTPD_CMD_ERR_SYNTAX);        /* not an esmtp-value */
    /* not a RCPT parameter */
    rcpt("TO:<user@example.com> AUTH=<>", SMTPD_CMD_ERR_PARAM);
}

/* ------------------------------------------------------------------ */
/* AUTH                                                                */
/* ------------------------------------------------------------------ */

static smtpd_cmd_auth_t auth(const char *arg, int want_rc)
{
    smtpd_cmd_auth_t a;
    int rc = smtpd_cmd_parse_auth(arg, strlen(arg), &a);
    if (rc != want_rc)
        fail_msg("AUTH %s: rc %d, want %d", arg, rc, want_rc);
    assert_non_null(a.resp);
    if (rc != SMTPD_CMD_OK)
        assert_int_equal(a.mech, SMTPD_CMD_MECH_UNKNOWN);
    return a;
}

static void expect_auth(const char *arg, smtpd_cmd_mech_t mech, const char *resp)
{
    smtpd_cmd_auth_t a = auth(arg, SMTPD_CMD_OK);
    assert_int_equal(a.mech, mech);
    assert_int_equal(a.resp_len, strlen(resp));
    assert_memory_equal(a.resp, resp, a.resp_len);
}

static void test_auth(void **state)
{
    smtpd_cmd_auth_t a;
    smtpd_cmd_t c;
    (void)state;

    expect_auth("PLAIN", SMTPD_CMD_MECH_PLAIN, "");
    expect_auth("plain", SMTPD_CMD_MECH_PLAIN, "");
    expect_auth("LOGIN", SMTPD_CMD_MECH_LOGIN, "");
    expect_auth("Login", SMTPD_CMD_MECH_LOGIN, "");
    expect_auth("PLAIN AGFsaWNlAHNlY3JldA==", SMTPD_CMD_MECH_PLAIN, "AGFsaWNlAHNlY3JldA==");
    expect_auth("PLAIN  \tAGE=", SMTPD_CMD_MECH_PLAIN, "AGE=");
    expect_auth("PLAIN =", SMTPD_CMD_MECH_PLAIN, "=");            /* empty response */
    expect_auth("LOGIN dXNlcg==", SMTPD_CMD_MECH_LOGIN, "dXNlcg==");
    /* the response is not checked here: sasl decodes it */
    expect_auth("PLAIN !!!", SMTPD_CMD_MECH_PLAIN, "!!!");

    auth("", SMTPD_CMD_ERR_SYNTAX);
    auth("PLAIN a b", SMTPD_CMD_ERR_SYNTAX);
    auth("PL@IN", SMTPD_CMD_ERR_SYNTAX);
    auth("PLAIN\x01", SMTPD_CMD_ERR_SYNTAX);
    auth("ABCDEFGHIJKLMNOPQRSTU", SMTPD_CMD_ERR_SYNTAX);           /* 21 chars */
    auth("ABCDEFGHIJKLMNOPQRST", SMTPD_CMD_ERR_MECH);              /* 20 chars */
    auth("CRAM-MD5", SMTPD_CMD_ERR_MECH);
    auth("SCRAM-SHA-256 biwsbj1", SMTPD_CMD_ERR_MECH);
    auth("XOAUTH_2", SMTPD_CMD_ERR_MECH);
    auth("PLAINX", SMTPD_CMD_ERR_MECH);
    auth("PLAI", SMTPD_CMD_ERR_MECH);

    /* never reads past len */
    assert_int_equal(smtpd_cmd_parse_auth("LOGINX", 5, &a), SMTPD_CMD_OK);
    assert_int_equal(a.mech, SMTPD_CMD_MECH_LOGIN);
    assert_int_equal(a.resp_len, 0);
    assert_int_equal(smtpd_cmd_parse_auth("PLAIN AB==junk", 10, &a), SMTPD_CMD_OK);
    assert_int_equal(a.resp_len, 4);

    /* together with the line parser */
    assert_int_equal(smtpd_cmd_parse("auth login  dXNlcg==  ", 22, &c), SMTPD_CMD_OK);
    assert_int_equal(c.verb, SMTPD_CMD_AUTH);
    a = auth("login  dXNlcg==", SMTPD_CMD_OK);
    assert_int_equal(smtpd_cmd_parse_auth(c.arg, c.arg_len, &a), SMTPD_CMD_OK);
    assert_int_equal(a.mech, SMTPD_CMD_MECH_LOGIN);
    assert_int_equal(a.resp_len, 8);
    assert_memory_equal(a.resp, "dXNlcg==", 8);
    /* STARTTLS takes no argument; the verb parser only splits */
    assert_int_equal(smtpd_cmd_parse("starttls", 8, &c), SMTPD_CMD_OK);
    assert_int_equal(c.verb, SMTPD_CMD_STARTTLS);
    assert_int_equal(c.arg_len, 0);
    assert_int_equal(smtpd_cmd_parse("STARTTLSX", 9, &c), SMTPD_CMD_ERR_UNKNOWN);
}

static void test_rcpt(void **state)
{
    smtpd_cmd_path_t p;
    (void)state;

    p = rcpt("TO:<user@example.com>", SMTPD_CMD_OK);
    assert_string_equal(p.addr, "user@example.com");
    p = rcpt("to: <user@example.com>", SMTPD_CMD_OK);
    assert_string_equal(p.addr, "user@example.com");
    p = rcpt("TO:<@hop.example:user@example.com>", SMTPD_CMD_OK);
    assert_string_equal(p.addr, "user@example.com");
    /* RFC 5321 4.1.1.3: <Postmaster> without domain */
    p = rcpt("TO:<postmaster>", SMTPD_CMD_OK);
    assert_string_equal(p.addr, "postmaster");
    p = rcpt("TO:<PostMaster>", SMTPD_CMD_OK);
    assert_string_equal(p.addr, "PostMaster");
    p = rcpt("TO:<Postmaster@example.com>", SMTPD_CMD_OK);
    assert_string_equal(p.addr, "Postmaster@example.com");

    rcpt("TO:<>", SMTPD_CMD_ERR_ADDR);
    rcpt("TO:<postmast>", SMTPD_CMD_ERR_ADDR);
    rcpt("TO:<postmaster", SMTPD_CMD_ERR_ADDR);
    rcpt("TO:user@example.com", SMTPD_CMD_ERR_ADDR);
    rcpt("FROM:<user@example.com>", SMTPD_CMD_ERR_SYNTAX);
    rcpt("", SMTPD_CMD_ERR_SYNTAX);
    /* only the RFC 3461 parameters belong to RCPT */
    rcpt("TO:<user@example.com> SIZE=10", SMTPD_CMD_ERR_PARAM);
    rcpt("TO:<user@example.com> RET=FULL", SMTPD_CMD_ERR_PARAM);
    rcpt("TO:<user@example.com> ENVID=x", SMTPD_CMD_ERR_PARAM);
}

/* RFC 3461: RET and ENVID on MAIL, NOTIFY and ORCPT on RCPT */
static void test_dsn_params(void **state)
{
    static char big[700];
    smtpd_cmd_path_t p;
    (void)state;

    p = mail("FROM:<a@b.example>", SMTPD_CMD_OK);
    assert_false(p.has_dsn);
    assert_int_equal(p.ret, SMTPD_CMD_RET_NONE);
    assert_null(p.envid);
    p = mail("FROM:<a@b.example> RET=full ENVID=QQ314159+2B1", SMTPD_CMD_OK);
    assert_true(p.has_dsn);
    assert_int_equal(p.ret, SMTPD_CMD_RET_FULL);
    assert_int_equal(p.envid_len, 12);
    assert_memory_equal(p.envid, "QQ314159+2B1", 12);
    p = mail("FROM:<> RET=HDRS", SMTPD_CMD_OK);
    assert_int_equal(p.ret, SMTPD_CMD_RET_HDRS);
    assert_null(p.envid);

    p = mail("FROM:<a@b.example> RET=BODY", SMTPD_CMD_ERR_PARAM_VALUE);
    assert_string_equal(p.bad_param, "RET");
    mail("FROM:<a@b.example> RET", SMTPD_CMD_ERR_PARAM_VALUE);
    mail("FROM:<a@b.example> RET=FULL RET=HDRS", SMTPD_CMD_ERR_PARAM_VALUE);
    p = mail("FROM:<a@b.example> ENVID=a+2", SMTPD_CMD_ERR_PARAM_VALUE);
    assert_string_equal(p.bad_param, "ENVID");
    mail("FROM:<a@b.example> ENVID=a+2b", SMTPD_CMD_ERR_PARAM_VALUE); /* lower-case hex */
    mail("FROM:<a@b.example> ENVID=a+20", SMTPD_CMD_ERR_PARAM_VALUE); /* decodes to a space */
    mail("FROM:<a@b.example> ENVID=a+0A", SMTPD_CMD_ERR_PARAM_VALUE); /* decodes to LF */
    mail("FROM:<a@b.example> ENVID=a ENVID=b", SMTPD_CMD_ERR_PARAM_VALUE);
    /* RFC 3461 4.4: 100 characters at most */
    strcpy(big, "FROM:<a@b.example> ENVID=");
    memset(big + strlen(big), 'e', 100);
    p = mail(big, SMTPD_CMD_OK);
    assert_int_equal(p.envid_len, 100);
    strcat(big, "e");
    mail(big, SMTPD_CMD_ERR_PARAM_VALUE);

    p = rcpt("TO:<u@example.com>", SMTPD_CMD_OK);
    assert_false(p.has_dsn);
    assert_int_equal(p.notify, 0);
    assert_null(p.orcpt);
    p = rcpt("TO:<u@example.com> NOTIFY=NEVER", SMTPD_CMD_OK);
    assert_true(p.has_dsn);
    assert_int_equal(p.notify, SMTPD_CMD_NOTIFY_NEVER);
    p = rcpt("TO:<u@example.com> NOTIFY=success,Failure,DELAY ORCPT=rfc822;u+2Bx@example.com",
             SMTPD_CMD_OK);
    assert_int_equal(p.notify, SMTPD_CMD_NOTIFY_SUCCESS | SMTPD_CMD_NOTIFY_FAILURE |
                                   SMTPD_CMD_NOTIFY_DELAY);
    assert_int_equal(p.orcpt_len, strlen("rfc822;u+2Bx@example.com"));
    assert_memory_equal(p.orcpt, "rfc822;u+2Bx@example.com", p.orcpt_len);
    p = rcpt("TO:<u@example.com> ORCPT=rfc822;Joe+20User@example.com", SMTPD_CMD_OK); /* space ok */
    assert_true(p.has_dsn);
    assert_int_equal(p.notify, 0);

    p = rcpt("TO:<u@example.com> NOTIFY=NEVER,SUCCESS", SMTPD_CMD_ERR_PARAM_VALUE);
    assert_string_equal(p.bad_param, "NOTIFY");
    rcpt("TO:<u@example.com> NOTIFY=FAILURE,FAILURE", SMTPD_CMD_ERR_PARAM_VALUE);
    rcpt("TO:<u@example.com> NOTIFY=FAILURE,", SMTPD_CMD_ERR_PARAM_VALUE);
    rcpt("TO:<u@example.com> NOTIFY=,DELAY", SMTPD_CMD_ERR_PARAM_VALUE);
    rcpt("TO:<u@example.com> NOTIFY=SOMETIMES", SMTPD_CMD_ERR_PARAM_VALUE);
    rcpt("TO:<u@example.com> NOTIFY", SMTPD_CMD_ERR_PARAM_VALUE);
    rcpt("TO:<u@example.com> NOTIFY=DELAY NOTIFY=DELAY", SMTPD_CMD_ERR_PARAM_VALUE);
    p = rcpt("TO:<u@example.com> ORCPT=u@example.com", SMTPD_CMD_ERR_PARAM_VALUE); /* no type */
    assert_string_equal(p.bad_param, "ORCPT");
    rcpt("TO:<u@example.com> ORCPT=;u@example.com", SMTPD_CMD_ERR_PARAM_VALUE);
    rcpt("TO:<u@example.com> ORCPT=rfc822;", SMTPD_CMD_ERR_PARAM_VALUE);
    rcpt("TO:<u@example.com> ORCPT=rfc(822;u@x", SMTPD_CMD_ERR_PARAM_VALUE);
    rcpt("TO:<u@example.com> ORCPT=rfc822;u+0D@x", SMTPD_CMD_ERR_PARAM_VALUE);
    rcpt("TO:<u@example.com> ORCPT=rfc822;a ORCPT=rfc822;b", SMTPD_CMD_ERR_PARAM_VALUE);
    /* RFC 3461 4.2: 500 characters at most */
    strcpy(big, "TO:<u@example.com> ORCPT=rfc822;");
    memset(big + strlen(big), 'o', 500 - strlen("rfc822;"));
    p = rcpt(big, SMTPD_CMD_OK);
    assert_int_equal(p.orcpt_len, 500);
    strcat(big, "o");
    rcpt(big, SMTPD_CMD_ERR_PARAM_VALUE);

    /* the keyword at fault is named for the older parameters too */
    p = mail("FROM:<a@b.example> SIZE=x", SMTPD_CMD_ERR_PARAM_VALUE);
    assert_string_equal(p.bad_param, "SIZE");
    p = mail("FROM:<a@b.example> BODY=8BITMIME BODY=7BIT", SMTPD_CMD_ERR_PARAM_VALUE);
    assert_string_equal(p.bad_param, "BODY");
}

static void test_mailbox_domain_helpers(void **state)
{
    (void)state;
    assert_true(smtpd_cmd_valid_mailbox("a@b", 3));
    assert_false(smtpd_cmd_valid_mailbox("a@b ", 4));
    assert_false(smtpd_cmd_valid_mailbox("", 0));
    assert_true(smtpd_cmd_valid_domain("localhost", 9));
    assert_false(smtpd_cmd_valid_domain("", 0));
    assert_true(smtpd_cmd_valid_addr_literal("[10.0.0.1]", 10));
    assert_false(smtpd_cmd_valid_addr_literal("10.0.0.1", 8));
    assert_false(smtpd_cmd_valid_addr_literal("[tag:]", 6));
    assert_false(smtpd_cmd_valid_addr_literal("[tag-:x]", 8));
    assert_true(smtpd_cmd_valid_addr_literal("[IPv6:::ffff:192.0.2.1]", 23));
}

static void test_helo(void **state)
{
    char out[SMTPD_CMD_HELO_MAX + 1], small[4], big[300];
    (void)state;

    assert_int_equal(smtpd_cmd_parse_helo("client.example", 14, out, sizeof(out)), SMTPD_CMD_OK);
    assert_string_equal(out, "client.example");
    assert_int_equal(smtpd_cmd_parse_helo("[192.0.2.1]", 11, out, sizeof(out)), SMTPD_CMD_OK);
    assert_string_equal(out, "[192.0.2.1]");
    /* lenient: bare names with '_' and extra words */
    assert_int_equal(smtpd_cmd_parse_helo("my_host extra words", 19, out, sizeof(out)), SMTPD_CMD_OK);
    assert_string_equal(out, "my_host");
    assert_int_equal(smtpd_cmd_parse_helo("", 0, out, sizeof(out)), SMTPD_CMD_ERR_SYNTAX);
    assert_int_equal(smtpd_cmd_parse_helo("a\x01" "b", 3, out, sizeof(out)), SMTPD_CMD_ERR_SYNTAX);
    assert_int_equal(smtpd_cmd_parse_helo("h\xc3\xa9", 3, out, sizeof(out)), SMTPD_CMD_ERR_SYNTAX);
    assert_int_equal(smtpd_cmd_parse_helo("abcd", 4, small, sizeof(small)), SMTPD_CMD_ERR_SYNTAX);
    assert_int_equal(smtpd_cmd_parse_helo("abc", 3, small, sizeof(small)), SMTPD_CMD_OK);
    memset(big, 'h', sizeof(big));
    assert_int_equal(smtpd_cmd_parse_helo(big, 255, out, sizeof(out)), SMTPD_CMD_OK);
    assert_int_equal(smtpd_cmd_parse_helo(big, 256, out, sizeof(out)), SMTPD_CMD_ERR_SYNTAX);
}

static void test_postmaster(void **state)
{
    (void)state;
    assert_true(smtpd_cmd_is_postmaster("postmaster", NULL));
    assert_true(smtpd_cmd_is_postmaster("POSTMASTER", "mx.example"));
    assert_true(smtpd_cmd_is_postmaster("Postmaster@MX.example", "mx.example"));
    assert_false(smtpd_cmd_is_postmaster("postmaster@other.example", "mx.example"));
    assert_false(smtpd_cmd_is_postmaster("postmaster@mx.example", NULL));
    assert_false(smtpd_cmd_is_postmaster("postmasters", "mx.example"));
    assert_false(smtpd_cmd_is_postmaster("postmaster@mx.example.evil", "mx.example"));
    assert_false(smtpd_cmd_is_postmaster("post", NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_verbs),
        cmocka_unit_test(test_unknown_verbs),
        cmocka_unit_test(test_verb_names),
        cmocka_unit_test(test_mail_paths),
        cmocka_unit_test(test_mail_syntax_errors),
        cmocka_unit_test(test_bad_addresses),
        cmocka_unit_test(test_length_limits),
        cmocka_unit_test(test_mail_params),
        cmocka_unit_test(test_mail_auth_param),
        cmocka_unit_test(test_auth),
        cmocka_unit_test(test_rcpt),
        cmocka_unit_test(test_dsn_params),
        cmocka_unit_test(test_mailbox_domain_helpers),
        cmocka_unit_test(test_helo),
        cmocka_unit_test(test_postmaster),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
