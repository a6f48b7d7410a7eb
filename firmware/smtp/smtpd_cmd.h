/*
 * smtpd_cmd -- SMTP command line and address parsing (RFC 5321 4.1,
 * RFC 1870 SIZE, RFC 6152 8BITMIME, RFC 4954 AUTH, RFC 3461 DSN). Pure: no I/O, no heap,
 * no state.
 *
 * Lines are given WITHOUT the CRLF and need not be NUL-terminated; the
 * parsers never read past len. Results that point into the line stay valid
 * as long as the line does.
 */
#ifndef SMTPD_CMD_H
#define SMTPD_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* RFC 5321 4.5.3.1 size limits (octets). */
#define SMTPD_CMD_LOCAL_MAX  64u  /* local-part (4.5.3.1.1) */
#define SMTPD_CMD_DOMAIN_MAX 255u /* domain (4.5.3.1.2) */
#define SMTPD_CMD_LABEL_MAX  63u  /* one domain label (RFC 1035 2.3.4) */
#define SMTPD_CMD_PATH_MAX   256u /* path incl. "<" ">" and source route (4.5.3.1.3) */
/* A mailbox inside a path is at most PATH_MAX - 2 ("<" ">") = 254 chars. */
#define SMTPD_CMD_ADDR_MAX   (SMTPD_CMD_PATH_MAX - 2u)
/* Longest HELO/EHLO argument kept (a domain or address literal). */
#define SMTPD_CMD_HELO_MAX   SMTPD_CMD_DOMAIN_MAX

/* Errors (0 = OK). The engine maps them to replies. */
#define SMTPD_CMD_OK               0
#define SMTPD_CMD_ERR_UNKNOWN     (-1) /* unknown verb -> 500 5.5.2 */
#define SMTPD_CMD_ERR_SYNTAX      (-2) /* malformed arguments -> 501 5.5.4 */
#define SMTPD_CMD_ERR_ADDR        (-3) /* bad or too long mailbox -> 501 5.1.7 / 5.1.3 */
#define SMTPD_CMD_ERR_PARAM       (-4) /* unknown ESMTP parameter -> 555 5.5.4 */
#define SMTPD_CMD_ERR_PARAM_VALUE (-5) /* bad/duplicate SIZE=, BODY= or AUTH= -> 501 5.5.4 */
#define SMTPD_CMD_ERR_MECH        (-6) /* unknown SASL mechanism -> 504 5.5.4 */

/* RFC 3461 4.4: an ENVID is at most 100 characters (as xtext on the wire). */
#define SMTPD_CMD_ENVID_MAX 100u
/* RFC 3461 4.2: an ORCPT value ("addr-type;xtext") is at most 500 characters. */
#define SMTPD_CMD_ORCPT_MAX 500u

/* NOTIFY= (RFC 3461 4.1): a set of these bits; 0 = no NOTIFY= given. */
#define SMTPD_CMD_NOTIFY_NEVER   0x01u
#define SMTPD_CMD_NOTIFY_SUCCESS 0x02u
#define SMTPD_CMD_NOTIFY_FAILURE 0x04u
#define SMTPD_CMD_NOTIFY_DELAY   0x08u

/* Longest SASL mechanism name (RFC 4422 3.1). */
#define SMTPD_CMD_MECH_MAX 20u

typedef enum {
    SMTPD_CMD_UNKNOWN = 0,
    SMTPD_CMD_HELO,
    SMTPD_CMD_EHLO,
    SMTPD_CMD_MAIL,
    SMTPD_CMD_RCPT,
    SMTPD_CMD_DATA,
    SMTPD_CMD_RSET,
    SMTPD_CMD_NOOP,
    SMTPD_CMD_QUIT,
    SMTPD_CMD_VRFY,
    SMTPD_CMD_EXPN,
    SMTPD_CMD_HELP,
    SMTPD_CMD_STARTTLS,
    SMTPD_CMD_AUTH,
    SMTPD_CMD_BDAT,
    SMTPD_CMD_COUNT
} smtpd_cmd_verb_t;

typedef struct {
    smtpd_cmd_verb_t verb;
    const char *arg; /* points into the line, NOT NUL-terminated; never NULL */
    size_t arg_len;  /* 0 = no argument; trailing blanks removed */
} smtpd_cmd_t;

/* BODY= values (RFC 6152). */
typedef enum {
    SMTPD_CMD_BODY_NONE = 0, /* no BODY= parameter */
    SMTPD_CMD_BODY_7BIT,
    SMTPD_CMD_BODY_8BITMIME
} smtpd_cmd_body_t;

/* RET= values (RFC 3461 4.3). */
typedef enum {
    SMTPD_CMD_RET_NONE = 0, /* no RET= parameter */
    SMTPD_CMD_RET_FULL,
    SMTPD_CMD_RET_HDRS
} smtpd_cmd_ret_t;

/* A parsed MAIL FROM / RCPT TO argument. */
typedef struct {
    /* Mailbox "local@domain" as sent (quoted local-parts kept quoted),
     * without "<>" and without the (ignored) source route. "" = null
     * reverse-path "<>" (MAIL only). RCPT TO:<Postmaster> gives "Postmaster". */
    char addr[SMTPD_CMD_ADDR_MAX + 1];
    bool has_size;        /* SIZE= given (MAIL only) */
    uint32_t size;        /* SIZE= value, saturated at UINT32_MAX */
    smtpd_cmd_body_t body; /* BODY= (MAIL only) */
    bool has_auth;        /* AUTH= given (MAIL only, RFC 4954 5); its value
                           * is checked but not kept: every client is
                           * treated as "insufficiently trusted" */
    /* RFC 3461 DSN parameters. envid and orcpt point into the argument
     * (valid as long as it is), as sent: still xtext-encoded, which is
     * also how they are relayed and how RFC 3464 reports carry them. */
    bool has_dsn;         /* any of RET=, ENVID=, NOTIFY=, ORCPT= given */
    smtpd_cmd_ret_t ret;  /* RET= (MAIL only) */
    const char *envid;    /* ENVID= xtext (MAIL only); NULL = none */
    uint8_t envid_len;
    uint8_t notify;       /* NOTIFY= bits (RCPT only); 0 = none */
    const char *orcpt;    /* ORCPT= "addr-type;xtext" (RCPT only); NULL = none */
    uint16_t orcpt_len;
    /* On SMTPD_CMD_ERR_PARAM_VALUE: the keyword at fault ("SIZE", "NOTIFY",
     * ...), a constant string, so a reply can name it. */
    const char *bad_param;
} smtpd_cmd_path_t;

/* SASL mechanisms the server knows (RFC 4954). */
typedef enum {
    SMTPD_CMD_MECH_UNKNOWN = 0,
    SMTPD_CMD_MECH_PLAIN, /* RFC 4616 */
    SMTPD_CMD_MECH_LOGIN  /* draft-murchison-sasl-login */
} smtpd_cmd_mech_t;

/* A parsed AUTH argument: "mechanism [SP initial-response]". */
typedef struct {
    smtpd_cmd_mech_t mech;
    const char *resp;    /* initial response, points into arg, NOT
                          * NUL-terminated; never NULL */
    size_t resp_len;     /* 0 = none; "=" (an empty response, RFC 4954 4)
                          * is kept as the 1-octet text "=" */
} smtpd_cmd_auth_t;

/* Split one command line into verb and argument. The verb is matched
 * case-insensitively and must be followed by a space or the end of the line.
 * Always fills *out (verb SMTPD_CMD_UNKNOWN on failure). Returns SMTPD_CMD_OK
 * or SMTPD_CMD_ERR_UNKNOWN. */
int smtpd_cmd_parse(const char *line, size_t len, smtpd_cmd_t *out);

/* Printable upper-case name of a verb ("MAIL"; "?" for unknown). */
const char *smtpd_cmd_verb_name(smtpd_cmd_verb_t verb);

/* Parse the argument of MAIL: "FROM:<reverse-path> [SP params]".
 * Accepts an optional space after the colon, the null path "<>", and ignores
 * a source route ("<@a,@b:user@dom>"). Params: SIZE=<digits>, BODY=7BIT |
 * 8BITMIME, AUTH=<xtext> | AUTH=<>, RET=FULL | HDRS and ENVID=<xtext> (RFC
 * 3461 4.3, 4.4; keywords/values case-insensitive; the caller refuses AUTH=
 * or the DSN parameters when it did not offer them). Returns SMTPD_CMD_OK,
 * SMTPD_CMD_ERR_SYNTAX (no "FROM:"), SMTPD_CMD_ERR_ADDR (path syntax/length,
 * missing "<>"), SMTPD_CMD_ERR_PARAM (other keyword) or
 * SMTPD_CMD_ERR_PARAM_VALUE. On error only bad_param is meaningful (for
 * SMTPD_CMD_ERR_PARAM_VALUE); the rest of *out is undefined. */
int smtpd_cmd_parse_mail(const char *arg, size_t len, smtpd_cmd_path_t *out);

/* Parse the argument of RCPT: "TO:<forward-path> [SP params]". "<Postmaster>"
 * (any case, no domain) is accepted (RFC 5321 4.1.1.3); "<>" is not. Params:
 * NOTIFY=NEVER | a comma list of SUCCESS, FAILURE, DELAY, and
 * ORCPT=addr-type;xtext (RFC 3461 4.1, 4.2); any other is
 * SMTPD_CMD_ERR_PARAM. Other errors as for smtpd_cmd_parse_mail. */
int smtpd_cmd_parse_rcpt(const char *arg, size_t len, smtpd_cmd_path_t *out);

/* Parse the argument of HELO/EHLO: the first blank-separated word (further
 * words are ignored, as many clients send them). It must be 1..
 * SMTPD_CMD_HELO_MAX printable US-ASCII characters (0x21-0x7E) -- not
 * checked against Domain syntax, since real clients send bare host names
 * with '_' and the like. Copies it NUL-terminated to out (cap >=
 * SMTPD_CMD_HELO_MAX + 1 always suffices). Returns SMTPD_CMD_OK or
 * SMTPD_CMD_ERR_SYNTAX (missing, too long for cap, or bad characters). */
int smtpd_cmd_parse_helo(const char *arg, size_t len, char *out, size_t cap);

/* Parse the argument of AUTH (RFC 4954 4): a mechanism name (1..
 * SMTPD_CMD_MECH_MAX of A-Z a-z 0-9 '-' '_', matched case-insensitively --
 * SASL names are upper case, some clients send lower case), optionally
 * blanks and one initial-response word. The response is NOT decoded here.
 * Returns SMTPD_CMD_OK, SMTPD_CMD_ERR_SYNTAX (no mechanism, bad characters in
 * it, or a third word) or SMTPD_CMD_ERR_MECH (well-formed but neither PLAIN
 * nor LOGIN). *out is always filled (mech UNKNOWN on error). */
int smtpd_cmd_parse_auth(const char *arg, size_t len, smtpd_cmd_auth_t *out);

/* True if addr is "postmaster" or "postmaster@<domain>" (case-insensitive;
 * domain may be NULL to accept only the bare form). RFC 5321 4.5.1. */
bool smtpd_cmd_is_postmaster(const char *addr, const char *domain);

/* Syntax checks, exposed for other modules (config, console). */
/* RFC 5321 Domain: labels of letters/digits/hyphen, no leading/trailing
 * hyphen, label <= 63, total <= 255. */
bool smtpd_cmd_valid_domain(const char *s, size_t len);
/* RFC 5321 address-literal incl. brackets: "[1.2.3.4]", "[IPv6:...]" or a
 * General-address-literal "[tag:content]". */
bool smtpd_cmd_valid_addr_literal(const char *s, size_t len);
/* RFC 5321 Mailbox: Local-part "@" (Domain / address-literal), with the
 * length limits above. */
bool smtpd_cmd_valid_mailbox(const char *s, size_t len);

#endif /* SMTPD_CMD_H */
