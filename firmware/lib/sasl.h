/* sasl.h - SMTP AUTH (RFC 4954) helpers: base64 (RFC 4648 section 4) and the
 * PLAIN mechanism (RFC 4616).  Pure: no I/O, no heap.  Used by the inbound
 * engine (smtpd: decode) and the outbound engine (smtpc: encode).
 * LOGIN (draft-murchison-sasl-login) is only base64 of the bare user name
 * and password, so it needs nothing beyond sasl_b64_*. */
#ifndef SASL_H
#define SASL_H

#include <stddef.h>
#include <stdint.h>

#define SASL_USER_MAX 65   /* bytes incl. NUL: user names up to 64 octets */
#define SASL_PASS_MAX 129  /* bytes incl. NUL: passwords up to 128 octets */

#define SASL_OK          0
#define SASL_ERR_B64    (-1)  /* not canonical base64 (bad char, padding, length) */
#define SASL_ERR_FORMAT (-2)  /* decoded, but not a valid PLAIN message */
#define SASL_ERR_SPACE  (-3)  /* output buffer too small */

/* Base64 of in[0..n) into out (NUL-terminated). Returns the text length, or
 * SASL_ERR_SPACE when cap < 4 * ceil(n / 3) + 1. */
int sasl_b64_encode(const void *in, size_t n, char *out, size_t cap);

/* Strict base64 decode of in[0..n): length a multiple of 4, '=' only as
 * final padding, no whitespace. Returns the decoded length (0 for "" or
 * "="), SASL_ERR_B64 or SASL_ERR_SPACE. */
int sasl_b64_decode(const char *in, size_t n, uint8_t *out, size_t cap);

/* Decode an AUTH PLAIN response (base64 of authzid NUL authcid NUL passwd).
 * authzid must be empty or equal to authcid (no proxy authorisation);
 * user and password are non-empty, contain no NUL and fit ucap / pcap.
 * SASL_OK, SASL_ERR_B64, SASL_ERR_FORMAT or SASL_ERR_SPACE. The decoded
 * secret is wiped from the stack before returning. */
int sasl_plain_decode(const char *b64, size_t n, char *user, size_t ucap,
                      char *pass, size_t pcap);

/* Base64 of NUL user NUL pass into out (NUL-terminated). Returns the text
 * length, SASL_ERR_FORMAT (empty or over-long user/pass) or SASL_ERR_SPACE. */
int sasl_plain_encode(const char *user, const char *pass, char *out, size_t cap);

/* Overwrite n bytes with zeros in a way the compiler keeps (secrets). */
void sasl_wipe(void *p, size_t n);

#endif
