/* fuzz: firmware/smtp/smtpd_cmd.c */
/* The SMTP command parser on any line: the verb split, and the MAIL, RCPT,
 * HELO/EHLO and AUTH argument parsers.  Invariants: pointers stay inside
 * the line, results are NUL-terminated and within their limits, an accepted
 * path is a valid mailbox (or <>, or Postmaster), an accepted HELO name is
 * printable, and parsing is a pure function (twice gives the same). */
#include "fuzz.h"

#include "smtp/smtpd_cmd.h"

static void check_path(const smtpd_cmd_path_t *a, int mail)
{
    size_t n = strnlen(a->addr, sizeof a->addr);
    FUZZ_CHECK(n <= SMTPD_CMD_ADDR_MAX);
    for (size_t i = 0; i < n; i++)
        FUZZ_CHECK((unsigned char)a->addr[i] > 0x20 || a->addr[i] == ' ');
    if (n == 0)
        FUZZ_CHECK(mail);   /* "<>" only as a reverse-path */
    else if (!smtpd_cmd_is_postmaster(a->addr, NULL))
        FUZZ_CHECK(smtpd_cmd_valid_mailbox(a->addr, n));
    if (!mail)
        FUZZ_CHECK(!a->has_size && a->body == SMTPD_CMD_BODY_NONE && !a->has_auth);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *line = (const char *)data;
    smtpd_cmd_t c, c2;
    int rc = smtpd_cmd_parse(line, size, &c);
    FUZZ_CHECK(rc == SMTPD_CMD_OK || rc == SMTPD_CMD_ERR_UNKNOWN);
    FUZZ_CHECK(smtpd_cmd_parse(line, size, &c2) == rc && c2.verb == c.verb && c2.arg_len == c.arg_len);
    FUZZ_CHECK(smtpd_cmd_verb_name(c.verb) != NULL);
    FUZZ_CHECK(c.arg != NULL);
    if (rc != SMTPD_CMD_OK) {
        FUZZ_CHECK(c.verb == SMTPD_CMD_UNKNOWN);
    } else {
        FUZZ_CHECK(c.verb > SMTPD_CMD_UNKNOWN && c.verb < SMTPD_CMD_COUNT);
        if (c.arg_len) {
            FUZZ_CHECK(c.arg >= line && c.arg + c.arg_len <= line + size);
            FUZZ_CHECK(c.arg[c.arg_len - 1] != ' ' && c.arg[c.arg_len - 1] != '\t');
        }
    }
    /* every argument parser on the argument, and on the whole line */
    const char *args[2] = { c.arg_len ? c.arg : "", line };
    size_t lens[2] = { c.arg_len, size };
    for (int i = 0; i < 2; i++) {
        smtpd_cmd_path_t p, p2;
        if (smtpd_cmd_parse_mail(args[i], lens[i], &p) == SMTPD_CMD_OK) {
            check_path(&p, 1);
            FUZZ_CHECK(smtpd_cmd_parse_mail(args[i], lens[i], &p2) == SMTPD_CMD_OK &&
                       strcmp(p.addr, p2.addr) == 0 && p.size == p2.size);
        }
        if (smtpd_cmd_parse_rcpt(args[i], lens[i], &p) == SMTPD_CMD_OK)
            check_path(&p, 0);
        char helo[SMTPD_CMD_HELO_MAX + 1];
        if (smtpd_cmd_parse_helo(args[i], lens[i], helo, sizeof helo) == SMTPD_CMD_OK) {
            size_t n = strlen(helo);
            FUZZ_CHECK(n >= 1 && n <= SMTPD_CMD_HELO_MAX);
            for (size_t k = 0; k < n; k++)
                FUZZ_CHECK(helo[k] >= 0x21 && helo[k] <= 0x7E);
        }
        smtpd_cmd_auth_t a;
        int ar = smtpd_cmd_parse_auth(args[i], lens[i], &a);
        FUZZ_CHECK(a.resp != NULL);
        if (ar == SMTPD_CMD_OK) {
            FUZZ_CHECK(a.mech == SMTPD_CMD_MECH_PLAIN || a.mech == SMTPD_CMD_MECH_LOGIN);
            if (a.resp_len)
                FUZZ_CHECK(a.resp >= args[i] && a.resp + a.resp_len <= args[i] + lens[i]);
        } else {
            FUZZ_CHECK(a.mech == SMTPD_CMD_MECH_UNKNOWN);
        }
    }
    /* the syntax checks other modules use */
    if (smtpd_cmd_valid_mailbox(line, size))
        FUZZ_CHECK(memchr(line, '@', size) != NULL);
    if (smtpd_cmd_valid_domain(line, size))
        FUZZ_CHECK(size >= 1 && size <= 255 && line[0] != '-');
    if (smtpd_cmd_valid_addr_literal(line, size))
        FUZZ_CHECK(size >= 2 && line[0] == '[' && line[size - 1] == ']');
    return 0;
}
