/* tls.h - TLS 1.2 sessions (mbedTLS) over lwIP altcp connections, for
 * STARTTLS in both directions, in static memory.
 *
 * Memory: every mbedTLS allocation comes from one static arena
 * (TLS_ARENA_SIZE, sized by the board for TLS_MAX_SESSIONS concurrent
 * sessions plus the parsed certificates and keys).  A session slot is
 * reserved before the 220 to STARTTLS is sent (tls_reserve), so the answer
 * is 454 4.7.0 / "stay in plaintext" instead of a handshake that runs out of
 * memory half-way.
 *
 * Glue (srv.c inbound, dlv.c outbound), per connection:
 *   t = tls_reserve(src)                   NULL: no session free (1705)
 *   tls_attach(t, pcb, role, netif, name)   after the 220 to STARTTLS
 *   received pbufs -> tls_input(t, p)       (the session owns them and
 *                                            acknowledges them to TCP as it
 *                                            decrypts)
 *   tls_handshake(t) until it returns TLS_OK (or an error: close)
 *   then tls_peek/tls_consume for plaintext in, tls_write for plaintext out
 *   tls_release(t)                         when the connection ends
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

#include "lwip/altcp.h"
#include "lwip/pbuf.h"

#define TLS_CA_NAME_MAX 16        /* bytes incl. NUL */
#define TLS_FP_LEN 32             /* SHA-256 fingerprint */

/* Return codes: TLS_OK, TLS_WANT (in progress / no data / no room),
 * TLS_EOF (peer closed the TLS session), or a negative mbedTLS error. */
#define TLS_OK 0
#define TLS_WANT 1
#define TLS_EOF 2
#define TLS_ERR_STATE (-0x7F01)    /* not a valid call in this state */
#define TLS_ERR_NOCERT (-0x7F02)   /* no certificate for this netif */
#define TLS_ERR_TIMEOUT (-0x7F03)  /* handshake took longer than TLS_HANDSHAKE_TIMEOUT_MS */
#define TLS_ERR_BUSY (-0x7F04)     /* credentials in use by open sessions: try again later */
#define TLS_ERR_FLASH (-0x7F05)    /* applied, but the flash write failed (lost at reboot) */
/* mbedTLS errors the glue reports itself (equal to mbedTLS's, checked in tls.c). */
#define TLS_ERR_UNAVAILABLE (-0x7080)   /* MBEDTLS_ERR_SSL_FEATURE_UNAVAILABLE: required TLS not possible */
#define TLS_ERR_CERT_REJECTED (-0x2700) /* MBEDTLS_ERR_X509_CERT_VERIFY_FAILED: certificate not accepted */

typedef enum { TLS_SERVER = 0, TLS_CLIENT = 1 } tls_role_t;

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

/* ---- sessions ------------------------------------------------------------- */

/* A free slot, or NULL (then event 1705 is logged with evt_src: the netif
 * or peer that asked). The slot counts as in use until tls_release. */
tls_sess_t *tls_reserve(uint8_t evt_src);
/* Start the handshake on a connection: role, the netif (server: whose
 * certificate), the server name (client: SNI and hostname check, NULL for
 * none).  Returns TLS_OK or an error (then release). */
int tls_attach(tls_sess_t *t, struct altcp_pcb *pcb, tls_role_t role, uint8_t netif,
               const char *server_name);
/* Received ciphertext (takes the pbuf). */
void tls_input(tls_sess_t *t, struct pbuf *p);
/* Drive the handshake: TLS_OK when done, TLS_WANT, or an error. */
int tls_handshake(tls_sess_t *t, uint32_t now_ms);
bool tls_established(const tls_sess_t *t);
/* tls_attach succeeded (the connection speaks TLS from now on); false for
 * NULL and for a slot that is only reserved. */
bool tls_attached(const tls_sess_t *t);
/* Decrypted input: *p and its length (0: none yet); TLS_EOF / error via
 * tls_error(). */
size_t tls_peek(tls_sess_t *t, const uint8_t **p);
void tls_consume(tls_sess_t *t, size_t n);
/* Encrypt and queue up to n bytes; returns bytes taken (0: no room now; call
 * again later with the same bytes first), or a negative error. */
int tls_write(tls_sess_t *t, const uint8_t *p, size_t n);
/* Last fatal error (0 if none), TLS_EOF after the peer's close_notify. */
int tls_error(const tls_sess_t *t);
/* Send close_notify (best effort), free the mbedTLS context, free the slot.
 * The pcb is not closed. NULL is ignored. */
void tls_release(tls_sess_t *t);
/* Detach from the pcb that lwIP already freed (error callback). */
void tls_detach(tls_sess_t *t);

/* After the handshake: the X.509 verification flags (0 = chain to a
 * configured CA and hostname match) and the peer certificate's SHA-256. */
uint32_t tls_verify_flags(const tls_sess_t *t);
const uint8_t *tls_peer_fingerprint(const tls_sess_t *t);   /* NULL if none */

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
int tls_ca_del(const char *name);            /* 0 or TLS_ERR_STATE (no such CA) */

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
