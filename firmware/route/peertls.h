/* peertls.h - per-peer outbound security: the STARTTLS level and the SMTP
 * AUTH credentials the delivery glue (net/smtpc_net.c) uses with a peer MTA.  Indexed
 * like the route module's peers (indices are stable until a peer is
 * deleted; `peer del` resets the entry).
 *
 * Levels (as Postfix's smtp_tls_security_level):
 *   none         never STARTTLS
 *   may          STARTTLS when offered and a TLS session is free, else plain
 *                (the default)
 *   encrypt      STARTTLS required; certificate not checked
 *   verify       STARTTLS required; chain to a `tls ca` certificate and the
 *                configured server name in the certificate
 *   fingerprint  STARTTLS required; SHA-256 of the peer certificate pinned
 * When TLS is required and fails the recipients are deferred and 9318 names
 * the TLS error. */
#ifndef PEERTLS_H
#define PEERTLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "route/route.h"

typedef enum {
    PEERTLS_NONE = 0,
    PEERTLS_MAY,
    PEERTLS_ENCRYPT,
    PEERTLS_VERIFY,
    PEERTLS_FINGERPRINT,
    PEERTLS_LEVEL_COUNT
} peertls_level_t;

#define PEERTLS_NAME_MAX 64      /* bytes incl. NUL: server name for verify */
#define PEERTLS_USER_MAX 65      /* bytes incl. NUL */
#define PEERTLS_PASS_MAX 65      /* bytes incl. NUL */

typedef struct {
    uint8_t level;                       /* peertls_level_t */
    char server_name[PEERTLS_NAME_MAX];  /* verify: SNI and certificate name */
    uint8_t fp[32];                      /* fingerprint: SHA-256 of the DER certificate */
    char user[PEERTLS_USER_MAX];         /* "" = no AUTH */
    char pass[PEERTLS_PASS_MAX];
    bool plaintext_ok;                   /* AUTH allowed without TLS */
    uint16_t gen;                        /* +1 on every change (peertls_changed): a
                                            connection opened under older settings
                                            is not reused for further messages */
} peertls_t;

/* Every peer back to level may, no AUTH. */
void peertls_init(void);
void peertls_reset(unsigned peer);
/* Record that p's settings changed (bumps gen). */
void peertls_changed(peertls_t *p);
/* NULL if peer >= ROUTE_MAX_PEERS. */
peertls_t *peertls_get(unsigned peer);
const char *peertls_level_name(uint8_t level);
int peertls_level_parse(const char *s);   /* level or -1 */
/* "may", "verify mail.example.com", "fingerprint": the level for tables. */
const char *peertls_describe(const peertls_t *p, char *buf, size_t n);

#endif
