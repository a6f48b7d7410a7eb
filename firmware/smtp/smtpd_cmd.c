/*
 * smtpd_cmd.c -- SMTP command line and address parsing, see smtpd_cmd.h.
 * Grammar references are to RFC 5321 section 4.1.2 unless noted.
 */
#include "smtp/smtpd_cmd.h"

#include <string.h>

static const char *const k_verb_names[SMTPD_CMD_COUNT] = {
    [SMTPD_CMD_UNKNOWN] = "?",
    [SMTPD_CMD_HELO] = "HELO",
    [SMTPD_CMD_EHLO] = "EHLO",
    [SMTPD_CMD_MAIL] = "MAIL",
    [SMTPD_CMD_RCPT] = "RCPT",
    [SMTPD_CMD_DATA] = "DATA",
    [SMTPD_CMD_RSET] = "RSET",
    [SMTPD_CMD_NOOP] = "NOOP",
    [SMTPD_CMD_QUIT] = "QUIT",
    [SMTPD_CMD_VRFY] = "VRFY",
    [SMTPD_CMD_EXPN] = "EXPN",
    [SMTPD_CMD_HELP] = "HELP",
    [SMTPD_CMD_STARTTLS] = "STARTTLS",
    [SMTPD_CMD_AUTH] = "AUTH",
    [SMTPD_CMD_BDAT] = "BDAT",
};

/* ------------------------------------------------------------------ */
/* Character classes (ASCII only: no SMTPUTF8, RFC 6531 is not offered) */
/* ------------------------------------------------------------------ */

static char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static bool is_alpha(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_letdig(char c)
{
    return is_alpha(c) || is_digit(c);
}

static bool is_hex(char c)
{
    return is_digit(c) || (lower(c) >= 'a' && lower(c) <= 'f');
}

/* HEXDIG as RFC 3461 xtext spells it: upper case only */
static bool is_upper_hex(char c)
{
    return is_digit(c) || (c >= 'A' && c <= 'F');
}

/* atext, RFC 5322 3.2.3 */
static bool is_atext(char c)
{
    return is_letdig(c) || (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* qtextSMTP: %d32-33 / %d35-91 / %d93-126 */
static bool is_qtext(char c)
{
    return (c >= 32 && c <= 126) && c != '"' && c != '\\';
}

/* dcontent: %d33-90 / %d94-126 */
static bool is_dcontent(char c)
{
    return (c >= 33 && c <= 90) || (c >= 94 && c <= 126);
}

/* esmtp-value chars: %d33-60 / %d62-126 */
static bool is_esmtp_value(char c)
{
    return (c >= 33 && c <= 60) || (c >= 62 && c <= 126);
}

/* Case-insensitive compare of s[0..len) with the NUL-terminated lit. */
static bool ieq(const char *s, size_t len, const char *lit)
{
    size_t i;
    for (i = 0; i < len; i++) {
        if (lit[i] == '\0' || lower(s[i]) != lower(lit[i]))
            return false;
    }
    return lit[len] == '\0';
}

/* Case-insensitive: does s[0..len) start with lit? */
static bool iprefix(const char *s, size_t len, const char *lit)
{
    size_t n = strlen(lit);
    return len >= n && ieq(s, n, lit);
}

/* ------------------------------------------------------------------ */
/* Command line                                                        */
/* ------------------------------------------------------------------ */

int smtpd_cmd_parse(const char *line, size_t len, smtpd_cmd_t *out)
{
    size_t vlen = 0, pos;
    int v;

    out->verb = SMTPD_CMD_UNKNOWN;
    out->arg = line;
    out->arg_len = 0;

    /* RFC 5321 4.1.1: the verb is followed by SP or CRLF. */
    while (vlen < len && line[vlen] != ' ')
        vlen++;
    for (v = SMTPD_CMD_UNKNOWN + 1; v < SMTPD_CMD_COUNT; v++) {
        if (ieq(line, vlen, k_verb_names[v]))
            break;
    }
    if (vlen == 0 || v == SMTPD_CMD_COUNT)
        return SMTPD_CMD_ERR_UNKNOWN;
    out->verb = (smtpd_cmd_verb_t)v;

    /* One SP is the syntax; be liberal with extra blanks (RFC 5321 4.1.1
     * asks servers to tolerate trailing white space). */
    pos = vlen;
    while (pos < len && (line[pos] == ' ' || line[pos] == '\t'))
        pos++;
    while (len > pos && (line[len - 1] == ' ' || line[len - 1] == '\t'))
        len--;
    out->arg = line + pos;
    out->arg_len = len - pos;
    return SMTPD_CMD_OK;
}

const char *smtpd_cmd_verb_name(smtpd_cmd_verb_t verb)
{
    if ((unsigned)verb >= SMTPD_CMD_COUNT)
        return k_verb_names[SMTPD_CMD_UNKNOWN];
    return k_verb_names[verb];
}

/* ------------------------------------------------------------------ */
/* Domains and address literals                                        */
/* ------------------------------------------------------------------ */

bool smtpd_cmd_valid_domain(const char *s, size_t len)
{
    size_t i, label = 0;

    if (len == 0 || len > SMTPD_CMD_DOMAIN_MAX)
        return false;
    /* sub-domain = Let-dig [Ldh-str]; Ldh-str ends with Let-dig */
    for (i = 0; i < len; i++) {
        char c = s[i];
        if (c == '.') {
            if (label == 0 || s[i - 1] == '-')
                return false;
            label = 0;
        } else if (is_letdig(c) || c == '-') {
            if (label == 0 && c == '-')
                return false;
            if (++label > SMTPD_CMD_LABEL_MAX)
                return false;
        } else {
            return false;
        }
    }
    return label != 0 && s[len - 1] != '-';
}

static bool valid_ipv4(const char *s, size_t len)
{
    size_t i = 0;
    int part;

    /* IPv4-address-literal = Snum 3("." Snum); Snum = 1*3DIGIT, 0-255 */
    for (part = 0; part < 4; part++) {
        unsigned v = 0, digits = 0;
        if (part > 0) {
            if (i >= len || s[i] != '.')
                return false;
            i++;
        }
        while (i < len && is_digit(s[i]) && digits < 4) {
            v = v * 10u + (unsigned)(s[i] - '0');
            digits++;
            i++;
        }
        if (digits == 0 || digits > 3 || v > 255)
            return false;
    }
    return i == len;
}

static bool valid_ipv6(const char *s, size_t len)
{
    size_t i, colons = 0;

    /* Loose check of IPv6-addr (RFC 5321 4.1.3): hex groups, colons and an
     * optional trailing IPv4 part; the queue only keeps it as text. */
    if (len < 2 || len > 45)
        return false;
    for (i = 0; i < len; i++) {
        if (s[i] == ':')
            colons++;
        else if (!is_hex(s[i]) && s[i] != '.')
            return false;
    }
    return colons >= 2 && colons <= 7;
}

bool smtpd_cmd_valid_addr_literal(const char *s, size_t len)
{
    size_t i, tag;

    if (len < 3 || s[0] != '[' || s[len - 1] != ']')
        return false;
    s++;
    len -= 2;
    if (is_digit(s[0]))
        return valid_ipv4(s, len);

    /* General-address-literal = Standardized-tag ":" 1*dcontent */
    for (tag = 0; tag < len && s[tag] != ':'; tag++) {
        if (!is_letdig(s[tag]) && s[tag] != '-')
            return false;
    }
    if (tag == 0 || tag == len || s[tag - 1] == '-' || tag + 1 == len)
        return false;
    if (ieq(s, tag, "IPv6"))
        return valid_ipv6(s + tag + 1, len - tag - 1);
    for (i = tag + 1; i < len; i++) {
        if (!is_dcontent(s[i]))
            return false;
    }
    return true;
}

/* Scan a Domain or address-literal starting at *pos; on success *pos is
 * just past it. */
static bool scan_domain(const char *s, size_t len, size_t *pos)
{
    size_t i = *pos;

    if (i < len && s[i] == '[') {
        while (i < len && s[i] != ']')
            i++;
        if (i == len)
            return false;
        i++;
        if (!smtpd_cmd_valid_addr_literal(s + *pos, i - *pos))
            return false;
    } else {
        while (i < len && (is_letdig(s[i]) || s[i] == '-' || s[i] == '.'))
            i++;
        if (!smtpd_cmd_valid_domain(s + *pos, i - *pos))
            return false;
    }
    *pos = i;
    return true;
}

/* ------------------------------------------------------------------ */
/* Mailboxes and paths                                                 */
/* ------------------------------------------------------------------ */

/* Local-part = Dot-string / Quoted-string */
static bool scan_local(const char *s, size_t len, size_t *pos)
{
    size_t i = *pos;

    if (i < len && s[i] == '"') {
        i++;
        for (;;) {
            if (i >= len)
                return false;
            if (s[i] == '"')
                break;
            if (s[i] == '\\') {
                /* quoted-pairSMTP = %d92 %d32-126 */
                if (i + 1 >= len || s[i + 1] < 32 || s[i + 1] > 126)
                    return false;
                i += 2;
            } else if (is_qtext(s[i])) {
                i++;
            } else {
                return false;
            }
        }
        i++; /* closing quote */
    } else {
        /* Dot-string = Atom *("." Atom): no empty atom */
        bool atom = false;
        while (i < len && (is_atext(s[i]) || s[i] == '.')) {
            if (s[i] == '.') {
                if (!atom)
                    return false;
                atom = false;
            } else {
                atom = true;
            }
            i++;
        }
        if (!atom)
            return false;
    }
    if (i - *pos > SMTPD_CMD_LOCAL_MAX)
        return false;
    *pos = i;
    return true;
}

/* Mailbox = Local-part "@" ( Domain / address-literal ) */
static bool scan_mailbox(const char *s, size_t len, size_t *pos)
{
    size_t i = *pos;

    if (!scan_local(s, len, &i))
        return false;
    if (i >= len || s[i] != '@')
        return false;
    i++;
    if (!scan_domain(s, len, &i))
        return false;
    if (i - *pos > SMTPD_CMD_ADDR_MAX)
        return false;
    *pos = i;
    return true;
}

bool smtpd_cmd_valid_mailbox(const char *s, size_t len)
{
    size_t pos = 0;
    return scan_mailbox(s, len, &pos) && pos == len;
}

#define PATH_NULL_OK       0x01u /* "<>" allowed (reverse-path) */
#define PATH_POSTMASTER_OK 0x02u /* "<Postmaster>" allowed (forward-path) */

/* Parse a Path at *pos (which must be '<'); copy the mailbox to addr. */
static int scan_path(const char *s, size_t len, size_t *pos, unsigned flags,
                     char *addr)
{
    size_t start = *pos, i = *pos, mb;

    if (i >= len || s[i] != '<')
        return SMTPD_CMD_ERR_ADDR;
    i++;

    if (i < len && s[i] == '>') {
        if (!(flags & PATH_NULL_OK))
            return SMTPD_CMD_ERR_ADDR;
        addr[0] = '\0';
        *pos = i + 1;
        return SMTPD_CMD_OK;
    }

    /* A-d-l = At-domain *( "," At-domain ) ":" -- RFC 5321 4.1.1.3 and
     * appendix C: accepted and ignored. */
    if (i < len && s[i] == '@') {
        for (;;) {
            i++; /* '@' */
            if (!scan_domain(s, len, &i))
                return SMTPD_CMD_ERR_ADDR;
            if (i < len && s[i] == ',') {
                i++;
                if (i >= len || s[i] != '@')
                    return SMTPD_CMD_ERR_ADDR;
                continue;
            }
            if (i < len && s[i] == ':') {
                i++;
                break;
            }
            return SMTPD_CMD_ERR_ADDR;
        }
    }

    mb = i;
    if ((flags & PATH_POSTMASTER_OK) && iprefix(s + i, len - i, "postmaster>")) {
        i += strlen("postmaster");
    } else if (!scan_mailbox(s, len, &i)) {
        return SMTPD_CMD_ERR_ADDR;
    }
    if (i >= len || s[i] != '>')
        return SMTPD_CMD_ERR_ADDR;
    i++;
    if (i - start > SMTPD_CMD_PATH_MAX)
        return SMTPD_CMD_ERR_ADDR;

    /* i - 1 - mb <= PATH_MAX - 2 == ADDR_MAX: fits addr. */
    memcpy(addr, s + mb, i - 1 - mb);
    addr[i - 1 - mb] = '\0';
    *pos = i;
    return SMTPD_CMD_OK;
}

/* "FROM:" / "TO:" then optional blanks (tolerated, RFC 5321 4.1.1.2 has
 * none, but many clients send one). */
static int scan_keyword(const char *s, size_t len, size_t *pos, const char *kw)
{
    size_t i = *pos;

    if (!iprefix(s + i, len - i, kw))
        return SMTPD_CMD_ERR_SYNTAX;
    i += strlen(kw);
    while (i < len && s[i] == ' ')
        i++;
    *pos = i;
    return SMTPD_CMD_OK;
}

/* SIZE value: 1*DIGIT (RFC 1870 section 6), saturating so a huge value is
 * rejected by the size check instead of wrapping to a small one. */
static bool parse_size(const char *v, size_t len, uint32_t *out)
{
    uint32_t n = 0;
    size_t i;

    if (len == 0)
        return false;
    for (i = 0; i < len; i++) {
        uint32_t d;
        if (!is_digit(v[i]))
            return false;
        d = (uint32_t)(v[i] - '0');
        if (n > (UINT32_MAX - d) / 10u)
            n = UINT32_MAX;
        else
            n = n * 10u + d;
    }
    *out = n;
    return true;
}

static unsigned hex_val(char c)
{
    return is_digit(c) ? (unsigned)(c - '0') : (unsigned)(c - 'A' + 10);
}

/* xtext (RFC 3461 4): "!".."~" except "+" and "=", or "+" and two upper-case
 * hex digits. Empty is not valid. With min_decoded set, every decoded
 * character must also be >= min_decoded and <= '~': RFC 3461 4.2 and 4.4
 * allow only printable US-ASCII inside ORCPT (' ' included) and ENVID (graphic
 * only), whatever the encoding. */
static bool valid_xtext(const char *v, size_t len, char min_decoded)
{
    size_t i;

    if (len == 0)
        return false;
    for (i = 0; i < len; i++) {
        if (v[i] == '+') {
            if (i + 2 >= len || !is_upper_hex(v[i + 1]) || !is_upper_hex(v[i + 2]))
                return false;
            unsigned c = hex_val(v[i + 1]) * 16u + hex_val(v[i + 2]);
            if (min_decoded != 0 && (c < (unsigned char)min_decoded || c > '~'))
                return false;
            i += 2;
        } else if (v[i] < '!' || v[i] > '~' || v[i] == '=') {
            return false;
        }
    }
    return true;
}

/* NOTIFY= (RFC 3461 4.1): "NEVER" alone, or a comma list of SUCCESS,
 * FAILURE, DELAY (each at most once). Returns the bits, 0 if malformed. */
static uint8_t parse_notify(const char *v, size_t len)
{
    static const struct { const char *name; uint8_t bit; } k_notify[] = {
        { "NEVER", SMTPD_CMD_NOTIFY_NEVER },
        { "SUCCESS", SMTPD_CMD_NOTIFY_SUCCESS },
        { "FAILURE", SMTPD_CMD_NOTIFY_FAILURE },
        { "DELAY", SMTPD_CMD_NOTIFY_DELAY },
    };
    uint8_t bits = 0;
    size_t pos = 0;

    while (pos <= len) {
        size_t end = pos;
        uint8_t bit = 0;
        while (end < len && v[end] != ',')
            end++;
        for (size_t k = 0; k < sizeof k_notify / sizeof k_notify[0]; k++) {
            if (ieq(v + pos, end - pos, k_notify[k].name))
                bit = k_notify[k].bit;
        }
        if (bit == 0 || (bits & bit))
            return 0;
        bits |= bit;
        pos = end + 1;
    }
    if ((bits & SMTPD_CMD_NOTIFY_NEVER) && bits != SMTPD_CMD_NOTIFY_NEVER)
        return 0;
    return bits;
}

/* ORCPT= (RFC 3461 4.2): addr-type ";" xtext, addr-type an RFC 5322 atom,
 * the whole at most SMTPD_CMD_ORCPT_MAX. */
static bool valid_orcpt(const char *v, size_t len)
{
    const char *semi = memchr(v, ';', len);
    size_t tlen;

    if (len > SMTPD_CMD_ORCPT_MAX || semi == NULL || semi == v)
        return false;
    tlen = (size_t)(semi - v);
    for (size_t i = 0; i < tlen; i++) {
        if (!is_atext(v[i]))
            return false;
    }
    return valid_xtext(semi + 1, len - tlen - 1, ' ');
}

/* Mail-parameters = esmtp-param *(SP esmtp-param);
 * esmtp-param = esmtp-keyword ["=" esmtp-value]. */
static int parse_params(const char *s, size_t len, size_t pos, bool is_mail,
                        smtpd_cmd_path_t *out)
{
    if (pos == len)
        return SMTPD_CMD_OK;
    if (s[pos] != ' ')
        return SMTPD_CMD_ERR_SYNTAX;

    while (pos < len) {
        size_t kw, kwlen, val, vlen = 0, end;
        bool has_val = false;

        while (pos < len && s[pos] == ' ')
            pos++;
        if (pos == len)
            break;
        kw = pos;
        while (pos < len && s[pos] != ' ' && s[pos] != '=')
            pos++;
        kwlen = pos - kw;
        val = pos;
        if (pos < len && s[pos] == '=') {
            has_val = true;
            val = ++pos;
            while (pos < len && s[pos] != ' ')
                pos++;
            vlen = pos - val;
        }
        end = kw + kwlen;

        /* esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-") */
        if (kwlen == 0 || !is_letdig(s[kw]))
            return SMTPD_CMD_ERR_SYNTAX;
        for (size_t k = kw; k < end; k++) {
            if (!is_letdig(s[k]) && s[k] != '-')
                return SMTPD_CMD_ERR_SYNTAX;
        }
        if (has_val) {
            if (vlen == 0)
                return SMTPD_CMD_ERR_SYNTAX;
            for (size_t k = val; k < val + vlen; k++) {
                if (!is_esmtp_value(s[k]))
                    return SMTPD_CMD_ERR_SYNTAX;
            }
        }

        if (is_mail && ieq(s + kw, kwlen, "SIZE")) {
            /* RFC 1870 section 6 */
            out->bad_param = "SIZE";
            if (out->has_size || !has_val || !parse_size(s + val, vlen, &out->size))
                return SMTPD_CMD_ERR_PARAM_VALUE;
            out->has_size = true;
        } else if (is_mail && ieq(s + kw, kwlen, "BODY")) {
            /* RFC 6152 section 2 */
            out->bad_param = "BODY";
            if (out->body != SMTPD_CMD_BODY_NONE || !has_val)
                return SMTPD_CMD_ERR_PARAM_VALUE;
            if (ieq(s + val, vlen, "7BIT"))
                out->body = SMTPD_CMD_BODY_7BIT;
            else if (ieq(s + val, vlen, "8BITMIME"))
                out->body = SMTPD_CMD_BODY_8BITMIME;
            else
                return SMTPD_CMD_ERR_PARAM_VALUE;
        } else if (is_mail && ieq(s + kw, kwlen, "AUTH")) {
            /* RFC 4954 5: a server may treat every client as insufficiently
             * trusted, i.e. parse and discard a valid AUTH= value. */
            out->bad_param = "AUTH";
            if (out->has_auth || !has_val || !valid_xtext(s + val, vlen, 0))
                return SMTPD_CMD_ERR_PARAM_VALUE;
            out->has_auth = true;
        } else if (is_mail && ieq(s + kw, kwlen, "RET")) {
            /* RFC 3461 4.3 */
            out->bad_param = "RET";
            if (out->ret != SMTPD_CMD_RET_NONE || !has_val)
                return SMTPD_CMD_ERR_PARAM_VALUE;
            if (ieq(s + val, vlen, "FULL"))
                out->ret = SMTPD_CMD_RET_FULL;
            else if (ieq(s + val, vlen, "HDRS"))
                out->ret = SMTPD_CMD_RET_HDRS;
            else
                return SMTPD_CMD_ERR_PARAM_VALUE;
            out->has_dsn = true;
        } else if (is_mail && ieq(s + kw, kwlen, "ENVID")) {
            /* RFC 3461 4.4 */
            out->bad_param = "ENVID";
            if (out->envid != NULL || !has_val || vlen > SMTPD_CMD_ENVID_MAX ||
                !valid_xtext(s + val, vlen, '!'))
                return SMTPD_CMD_ERR_PARAM_VALUE;
            out->envid = s + val;
            out->envid_len = (uint8_t)vlen;
            out->has_dsn = true;
        } else if (!is_mail && ieq(s + kw, kwlen, "NOTIFY")) {
            /* RFC 3461 4.1 */
            out->bad_param = "NOTIFY";
            if (out->notify != 0 || !has_val || (out->notify = parse_notify(s + val, vlen)) == 0)
                return SMTPD_CMD_ERR_PARAM_VALUE;
            out->has_dsn = true;
        } else if (!is_mail && ieq(s + kw, kwlen, "ORCPT")) {
            /* RFC 3461 4.2 */
            out->bad_param = "ORCPT";
            if (out->orcpt != NULL || !has_val || !valid_orcpt(s + val, vlen))
                return SMTPD_CMD_ERR_PARAM_VALUE;
            out->orcpt = s + val;
            out->orcpt_len = (uint16_t)vlen;
            out->has_dsn = true;
        } else {
            /* RFC 5321 4.1.1.11: unrecognised parameter -> 555 */
            return SMTPD_CMD_ERR_PARAM;
        }
    }
    out->bad_param = NULL;
    return SMTPD_CMD_OK;
}

static int parse_mail_rcpt(const char *arg, size_t len, smtpd_cmd_path_t *out,
                           bool is_mail)
{
    size_t pos = 0;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = scan_keyword(arg, len, &pos, is_mail ? "FROM:" : "TO:");
    if (rc != SMTPD_CMD_OK)
        return rc;
    rc = scan_path(arg, len, &pos, is_mail ? PATH_NULL_OK : PATH_POSTMASTER_OK,
                   out->addr);
    if (rc != SMTPD_CMD_OK)
        return rc;
    return parse_params(arg, len, pos, is_mail, out);
}

int smtpd_cmd_parse_mail(const char *arg, size_t len, smtpd_cmd_path_t *out)
{
    return parse_mail_rcpt(arg, len, out, true);
}

int smtpd_cmd_parse_rcpt(const char *arg, size_t len, smtpd_cmd_path_t *out)
{
    return parse_mail_rcpt(arg, len, out, false);
}

int smtpd_cmd_parse_helo(const char *arg, size_t len, char *out, size_t cap)
{
    size_t i = 0, n;

    while (i < len && arg[i] != ' ' && arg[i] != '\t')
        i++;
    n = i;
    if (n == 0 || n > SMTPD_CMD_HELO_MAX || n >= cap)
        return SMTPD_CMD_ERR_SYNTAX;
    for (i = 0; i < n; i++) {
        /* Printable only: it is copied into a Received: header. */
        if (arg[i] < 0x21 || arg[i] > 0x7e)
            return SMTPD_CMD_ERR_SYNTAX;
    }
    memcpy(out, arg, n);
    out[n] = '\0';
    return SMTPD_CMD_OK;
}

/* ------------------------------------------------------------------ */
/* AUTH (RFC 4954 4)                                                   */
/* ------------------------------------------------------------------ */

int smtpd_cmd_parse_auth(const char *arg, size_t len, smtpd_cmd_auth_t *out)
{
    size_t i = 0, mlen, r;

    out->mech = SMTPD_CMD_MECH_UNKNOWN;
    out->resp = arg;
    out->resp_len = 0;

    /* sasl-mech = 1*20 (ALPHA / DIGIT / "-" / "_") (RFC 4422 3.1) */
    while (i < len && arg[i] != ' ' && arg[i] != '\t') {
        if (!is_letdig(arg[i]) && arg[i] != '-' && arg[i] != '_')
            return SMTPD_CMD_ERR_SYNTAX;
        i++;
    }
    mlen = i;
    if (mlen == 0 || mlen > SMTPD_CMD_MECH_MAX)
        return SMTPD_CMD_ERR_SYNTAX;

    /* [SP initial-response]: one more word, extra blanks tolerated like
     * everywhere else (smtpd_cmd_parse already trimmed the end). */
    while (i < len && (arg[i] == ' ' || arg[i] == '\t'))
        i++;
    r = i;
    while (i < len && arg[i] != ' ' && arg[i] != '\t')
        i++;
    if (i != len)
        return SMTPD_CMD_ERR_SYNTAX;

    if (ieq(arg, mlen, "PLAIN"))
        out->mech = SMTPD_CMD_MECH_PLAIN;
    else if (ieq(arg, mlen, "LOGIN"))
        out->mech = SMTPD_CMD_MECH_LOGIN;
    else
        return SMTPD_CMD_ERR_MECH;
    out->resp = arg + r;
    out->resp_len = len - r;
    return SMTPD_CMD_OK;
}

bool smtpd_cmd_is_postmaster(const char *addr, const char *domain)
{
    size_t len = strlen(addr);
    const size_t pm = strlen("postmaster");

    if (!iprefix(addr, len, "postmaster"))
        return false;
    if (len == pm)
        return true;
    return domain != NULL && addr[pm] == '@' &&
           ieq(addr + pm + 1, len - pm - 1, domain);
}
