/* tls.h - TLS for the MTA: the module (arena, random generator), the
 * credentials (a certificate and key per netif, CA certificates) and their
 * status.  The sessions themselves are an altcp layer: tls_altcp.h.
 *
 * Memory: every mbedTLS allocation comes from one static arena
 * (TLS_ARENA_SIZE, sized by the board for TLS_MAX_SESSIONS concurrent
 * sessions plus the parsed certificates and keys).
 * Credentials: a certificate + key per netif (pasted PEM, or an ECDSA P-256
 * self-signed certificate made on first boot) and CA certificates, kept in
 * flash partitions "tls" and "tlsca" (tlsstore.c); the random generator is
 * seeded from the board's entropy and a seed in flash refreshed at boot.
 * Single-threaded (NO_SYS): lwIP main loop only. */
#ifndef TLS_H
#define TLS_H

#include "mta_opts.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>


#define TLS_CA_NAME_MAX 16        /* bytes incl. NUL */
#define TLS_FP_LEN 32             /* SHA-256 fingerprint */

/* Errors of the TLS code itself, beside mbedTLS's (all negative; carried as
 * MTA_ERR_TLS). */
#define TLS_ERR_STATE (-0x7F01)    /* not a valid call in this state */
#define TLS_ERR_NOCERT (-0x7F02)   /* no certificate for this netif */
#define TLS_ERR_TIMEOUT (-0x7F03)  /* handshake took longer than TLS_HANDSHAKE_TIMEOUT_MS */
#define TLS_ERR_BUSY (-0x7F04)     /* credentials in use by open sessions: try again later */
#define TLS_ERR_FLASH (-0x7F05)    /* applied, but the flash write failed (lost at reboot) */
#define TLS_ERR_STORE (-0x7F06)    /* a TLS flash blob cannot be walked (corrupt record): nothing changed */
/* mbedTLS errors the glue reports itself (equal to mbedTLS's, checked in tls_cred.c). */
#define TLS_ERR_UNAVAILABLE (-0x7080)   /* MBEDTLS_ERR_SSL_FEATURE_UNAVAILABLE: required TLS not possible */
#define TLS_ERR_CERT_REJECTED (-0x2700) /* MBEDTLS_ERR_X509_CERT_VERIFY_FAILED: certificate not accepted */

typedef enum { TLS_SERVER = 0, TLS_CLIENT = 1 } tls_role_t;

/* A TLS session slot (tls_altcp.h). */
typedef struct tls_sess tls_sess_t;

/* ---- module --------------------------------------------------------------- */

/* Arena, random generator (board entropy + flash seed, which is refreshed
 * now), credentials from flash.  Call once at boot, after the netifs exist;
 * a netif without a certificate gets a self-signed one (see
 * tls_ensure_certs). Returns 0 or an mbedTLS error (TLS then stays off:
 * STARTTLS is not offered and TLS-requiring peers defer). */
/* How TLS learns the interfaces whose certificates it keeps: their name
 * (the record key in flash) and hostname (CN and subjectAltName of a
 * self-signed certificate); false past the last interface. */
typedef bool (*tls_netif_fn)(uint8_t netif, const char **name, const char **hostname);
int tls_init(tls_netif_fn netifs);
bool tls_ready(void);
/* STARTTLS can be served on this netif: TLS ready and a certificate loaded. */
bool tls_can_serve(uint8_t netif);

/* Make a self-signed ECDSA P-256 certificate for every netif that has none
 * (CN and subjectAltName = the netif hostname) and store it. Returns 0 or
 * the first error. */
int tls_ensure_certs(void);

/* ---- credentials (console) ----------------------------------------------- */

/* Parse PEM certificate(s) and one private key from text (as pasted on the
 * console), check that the key matches the first certificate, and store
 * them for the netif. 0 or an mbedTLS error (nothing changed), TLS_ERR_BUSY
 * while sessions use the netif's certificate, TLS_ERR_FLASH (in use now,
 * not stored). The CA functions likewise (busy while an outbound session
 * is open). */
int tls_set_cert_pem(uint8_t netif, const char *pem, size_t len);
/* The buffer the console collects pasted PEM in (shared with the DER
 * writer: pass it to tls_set_cert_pem / tls_ca_add_pem, which reuse it). */
char *tls_paste_buffer(size_t *cap);
/* Replace the netif's certificate with a new self-signed one. */
int tls_generate_cert(uint8_t netif);
int tls_ca_add_pem(const char *name, const char *pem, size_t len);
int tls_ca_del(const char *name);            /* 0, TLS_ERR_STATE (no such CA), TLS_ERR_STORE, TLS_ERR_FLASH */

/* Erase the TLS partitions (seed, certificates, keys, CA certificates) for
 * `factory-reset`: the running sessions and loaded credentials stay until
 * the next boot, which makes new self-signed certificates. 0 or
 * TLS_ERR_FLASH. */
int tls_erase_stored(void);

/* ---- status (`show tls`) ---------------------------------------------------- */
typedef struct {
    bool ready;
    unsigned sessions, max_sessions, sessions_hw;
    size_t arena_size, arena_used, arena_hw;
    uint32_t handshakes, failures;
} tls_status_t;
void tls_status(tls_status_t *out);
/* Describe netif i's certificate: subject, fingerprint, not-after;
 * false if none. */
bool tls_cert_info(uint8_t netif, char *subject, size_t slen, uint8_t fp[TLS_FP_LEN],
                   char *not_after, size_t nlen, bool *self_signed);
/* CA i (0..): name, subject, not-after; false past the end. */
bool tls_ca_info(unsigned i, char *name, size_t nmlen, char *subject, size_t slen,
                 char *not_after, size_t nlen);
/* Active session i (0..TLS_MAX_SESSIONS-1): role, state, suite; false if free. */
bool tls_sess_info(unsigned i, tls_role_t *role, bool *established, const char **suite);

/* Short text for a TLS_ERR_* or common mbedTLS error (negative), NULL if
 * unknown: for events and console messages. */
const char *tls_error_text(int err);

#endif
