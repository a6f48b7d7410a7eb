/*
 * smtp_cmd -- SMTP command line and address parsing (RFC 5321 4.1,
 * RFC 1870 SIZE, RFC 6152 8BITMIME, RFC 4954 AUTH). Pure: no I/O, no heap,
 * no state.
 *
 * Lines are given WITHOUT the CRLF and need not be NUL-terminated; the
 * parsers never read past len. Results that point into the line stay valid
 * as long as the line does.
 */
#ifndef SMTP_CMD_H
#define SMTP_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* RFC 5321 4.5.3.1 size limits (octets). */
#define SMTP_CMD_LOCAL_MAX  64u  /* local-part (4.5.3.1.1) */
#define SMTP_CMD_DOMAIN_MAX 255u /* domain (4.5.3.1.2) */
#define SMTP_CMD_LABEL_MAX  63u  /* one domain label (RFC 1035 2.3.4) */
#define SMTP_CMD_PATH_MAX   256u /* path incl. "<" ">" and source route (4.5.3.1.3) */
/* A mailbox inside a path is at most PATH_MAX - 2 ("<" ">") = 254 chars. */
#define SMTP_CMD_ADDR_MAX   (SMTP_CMD_PATH_MAX - 2u)
/* Longest HELO/EHLO argument kept (a domain or address literal). */
#define SMTP_CMD_HELO_MAX   SMTP_CMD_DOMAIN_MAX

/* Errors (0 = OK). The engine maps them to replies. */
#define SMTP_CMD_OK               0
#define SMTP_CMD_ERR_UNKNOWN     (-1) /* unknown verb -> 500 5.5.2 */
#define SMTP_CMD_ERR_SYNTAX      (-2) /* malformed arguments -> 501 5.5.4 */
#define SMTP_CMD_ERR_ADDR        (-3) /* bad or too long mailbox -> 501 5.1.7 / 5.1.3 */
#define SMTP_CMD_ERR_PARAM       (-4) /* unknown ESMTP parameter -> 555 5.5.4 */
#define SMTP_CMD_ERR_PARAM_VALUE (-5) /* bad/duplicate SIZE=, BODY= or AUTH= -> 501 5.5.4 */
#define SMTP_CMD_ERR_MECH        (-6) /* unknown SASL mechanism -> 504 5.5.4 */

/* Longest SASL mechanism name (RFC 4422 3.1). */
#define SMTP_CMD_MECH_MAX 20u

typedef enum {
    SMTP_CMD_UNKNOWN = 0,
    SMTP_CMD_HELO,
    SMTP_CMD_EHLO,
    SMTP_CMD_MAIL,
    SMTP_CMD_RCPT,
    SMTP_CMD_DATA,
    SMTP_CMD_RSET,
    SMTP_CMD_NOOP,
    SMTP_CMD_QUIT,
    SMTP_CMD_VRFY,
    SMTP_CMD_EXPN,
    SMTP_CMD_HELP,
    SMTP_CMD_STARTTLS,
    SMTP_CMD_AUTH,
    SMTP_CMD_BDAT,
    SMTP_CMD_COUNT
} smtp_cmd_verb_t;

typedef struct {
    smtp_cmd_verb_t verb;
    const char *arg; /* points into the line, NOT NUL-terminated; never NULL */
    size_t arg_len;  /* 0 = no argument; trailing blanks removed */
} smtp_cmd_t;

/* BODY= values (RFC 6152). */
typedef enum {
    SMTP_CMD_BODY_NONE = 0, /* no BODY= parameter */
    SMTP_CMD_BODY_7BIT,
    SMTP_CMD_BODY_8BITMIME
} smtp_cmd_body_t;

/* A parsed MAIL FROM / RCPT TO argument. */
typedef struct {
    /* Mailbox "local@domain" as sent (quoted local-parts kept quoted),
     * without "<>" and without the (ignored) source route. "" = null
     * reverse-path "<>" (MAIL only). RCPT TO:<Postmaster> gives "Postmaster". */
    char addr[SMTP_CMD_ADDR_MAX + 1];
    bool has_size;        /* SIZE= given (MAIL only) */
    uint32_t size;        /* SIZE= value, saturated at UINT32_MAX */
    smtp_cmd_body_t body; /* BODY= (MAIL only) */
    bool has_auth;        /* AUTH= given (MAIL only, RFC 4954 5); its value
                           * is checked but not kept: every client is
                           * treated as "insufficiently trusted" */
} smtp_cmd_path_t;

/* SASL mechanisms the server knows (RFC 4954). */
typedef enum {
    SMTP_CMD_MECH_UNKNOWN = 0,
    SMTP_CMD_MECH_PLAIN, /* RFC 4616 */
    SMTP_CMD_MECH_LOGIN  /* draft-murchison-sasl-login */
} smtp_cmd_mech_t;

/* A parsed AUTH argument: "mechanism [SP initial-response]". */
typedef struct {
    smtp_cmd_mech_t mech;
    const char *resp;    /* initial response, points into arg, NOT
                          * NUL-terminated; never NULL */
    size_t resp_len;     /* 0 = none; "=" (an empty response, RFC 4954 4)
                          * is kept as the 1-octet text "=" */
} smtp_cmd_auth_t;

/* Split one command line into verb and argument. The verb is matched
 * case-insensitively and must be followed by a space or the end of the line.
 * Always fills *out (verb SMTP_CMD_UNKNOWN on failure). Returns SMTP_CMD_OK
 * or SMTP_CMD_ERR_UNKNOWN. */
int smtp_cmd_parse(const char *line, size_t len, smtp_cmd_t *out);

/* Printable upper-case name of a verb ("MAIL"; "?" for unknown). */
const char *smtp_cmd_verb_name(smtp_cmd_verb_t verb);

/* Parse the argument of MAIL: "FROM:<reverse-path> [SP params]".
 * Accepts an optional space after the colon, the null path "<>", and ignores
 * a source route ("<@a,@b:user@dom>"). Params: SIZE=<digits>, BODY=7BIT |
 * 8BITMIME, AUTH=<xtext> | AUTH=<> (keywords/values case-insensitive; the
 * caller refuses AUTH= when it did not offer AUTH). Returns SMTP_CMD_OK,
 * SMTP_CMD_ERR_SYNTAX (no "FROM:"), SMTP_CMD_ERR_ADDR (path syntax/length,
 * missing "<>"), SMTP_CMD_ERR_PARAM (other keyword) or
 * SMTP_CMD_ERR_PARAM_VALUE. *out is undefined on error. */
int smtp_cmd_parse_mail(const char *arg, size_t len, smtp_cmd_path_t *out);

/* Parse the argument of RCPT: "TO:<forward-path>". "<Postmaster>" (any
 * case, no domain) is accepted (RFC 5321 4.1.1.3); "<>" is not. Any ESMTP
 * parameter is SMTP_CMD_ERR_PARAM (none is offered). Other errors as for
 * smtp_cmd_parse_mail. */
int smtp_cmd_parse_rcpt(const char *arg, size_t len, smtp_cmd_path_t *out);

/* Parse the argument of HELO/EHLO: the first blank-separated word (further
 * words are ignored, as many clients send them). It must be 1..
 * SMTP_CMD_HELO_MAX printable US-ASCII characters (0x21-0x7E) -- not
 * checked against Domain syntax, since real clients send bare host names
 * with '_' and the like. Copies it NUL-terminated to out (cap >=
 * SMTP_CMD_HELO_MAX + 1 always suffices). Returns SMTP_CMD_OK or
 * SMTP_CMD_ERR_SYNTAX (missing, too long for cap, or bad characters). */
int smtp_cmd_parse_helo(const char *arg, size_t len, char *out, size_t cap);

/* Parse the argument of AUTH (RFC 4954 4): a mechanism name (1..
 * SMTP_CMD_MECH_MAX of A-Z a-z 0-9 '-' '_', matched case-insensitively --
 * SASL names are upper case, some clients send lower case), optionally
 * blanks and one initial-response word. The response is NOT decoded here.
 * Returns SMTP_CMD_OK, SMTP_CMD_ERR_SYNTAX (no mechanism, bad characters in
 * it, or a third word) or SMTP_CMD_ERR_MECH (well-formed but neither PLAIN
 * nor LOGIN). *out is always filled (mech UNKNOWN on error). */
int smtp_cmd_parse_auth(const char *arg, size_t len, smtp_cmd_auth_t *out);

/* True if addr is "postmaster" or "postmaster@<domain>" (case-insensitive;
 * domain may be NULL to accept only the bare form). RFC 5321 4.5.1. */
bool smtp_cmd_is_postmaster(const char *addr, const char *domain);

/* Syntax checks, exposed for other modules (config, console). */
/* RFC 5321 Domain: labels of letters/digits/hyphen, no leading/trailing
 * hyphen, label <= 63, total <= 255. */
bool smtp_cmd_valid_domain(const char *s, size_t len);
/* RFC 5321 address-literal incl. brackets: "[1.2.3.4]", "[IPv6:...]" or a
 * General-address-literal "[tag:content]". */
bool smtp_cmd_valid_addr_literal(const char *s, size_t len);
/* RFC 5321 Mailbox: Local-part "@" (Domain / address-literal), with the
 * length limits above. */
bool smtp_cmd_valid_mailbox(const char *s, size_t len);

#endif /* SMTP_CMD_H */
