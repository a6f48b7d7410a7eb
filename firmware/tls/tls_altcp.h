/* tls_altcp.h - TLS 1.2 (mbedTLS) as an lwIP altcp layer, for STARTTLS in
 * both directions, in static memory.
 *
 * The shape of lwIP's altcp_tls and of altcp_proxyconnect.c: tls_wrap()
 * stacks a layer on a connected altcp_tcp pcb and returns the pcb the glue
 * uses from then on.  Its altcp functions run mbedTLS over the inner pcb:
 * altcp_write encrypts, the recv callback gets decrypted bytes, altcp_sndbuf
 * says how much plaintext makes a record TCP can take whole, altcp_recved
 * acknowledges plaintext (the layer acknowledges the ciphertext to TCP as
 * mbedTLS reads it), close sends close_notify.  So the SMTP glue sees only
 * altcp_* calls, exactly as for plaintext.
 *
 * Per connection:
 *   t = tls_reserve(src, role)  before the 220 to STARTTLS is sent (NULL:
 *                               no session free, event 1705: answer 454 /
 *                               stay in plaintext); tls_unreserve(t) if
 *                               the STARTTLS then does not happen
 *   pcb = tls_wrap(t, pcb, &o, &err)  once the 220 to STARTTLS has gone out
 *                               (server) or arrived (client); the new pcb
 *                               owns the session and the inner pcb, and has
 *                               the inner pcb's arg and callbacks
 *   o.done(arg, pcb, err)       when the handshake completed and the peer
 *                               is accepted (err none: EHLO again, RFC 3207
 *                               4.2), and once if the session fails, in the
 *                               handshake or later (err: what; close or
 *                               abort the pcb).  Never from inside tls_wrap
 *                               or another altcp_* call.
 *   altcp_close / altcp_abort   as for any pcb
 * While the handshake runs, altcp_sndbuf is 0 and the upper sent and poll
 * callbacks are not called (the handshake has its own timeout,
 * TLS_HANDSHAKE_TIMEOUT_MS).
 *
 * Certificate acceptance is decided here, once, from o.accept: any
 * certificate (encrypt), a chain to a configured CA naming o.server_name
 * (verify), or a pinned SHA-256 (fingerprint).  A refused certificate logs
 * 1706 with the X.509 flags and ends with TLS_ERR_CERT_REJECTED.
 * Single-threaded (NO_SYS): lwIP main loop only. */
#ifndef TLS_ALTCP_H
#define TLS_ALTCP_H

#include "mta_opts.h"

#include <stdbool.h>
#include <stdint.h>

#include "lib/err.h"
#include "lwip/altcp.h"
#include "tls/tls.h"

/* How a client judges the server's certificate. */
typedef enum {
    TLS_ACCEPT_ANY = 0,        /* encrypt: any certificate */
    TLS_ACCEPT_VERIFY,         /* chain to a `tls ca` certificate, naming server_name */
    TLS_ACCEPT_FINGERPRINT,    /* the leaf's SHA-256 equals pin */
} tls_accept_t;

/* Verification flag for a pinned fingerprint that differs (above mbedTLS's
 * MBEDTLS_X509_BADCERT_* bits, shown in event 1706). */
#define TLS_FLAG_FP_MISMATCH 0x80000000u

typedef void (*tls_done_fn)(void *arg, struct altcp_pcb *pcb, mta_err_t err);

typedef struct {
    tls_role_t role;
    uint8_t netif;             /* server: whose certificate */
    tls_accept_t accept;       /* client */
    const char *server_name;   /* client: SNI and the name `verify` checks; NULL for none */
    const uint8_t *pin;        /* client, FINGERPRINT: TLS_FP_LEN bytes, valid during the handshake */
    tls_done_fn done;
} tls_wrap_opts_t;

/* A free session for `role` (TLS_SERVER: an inbound STARTTLS; TLS_CLIENT:
 * a delivery), or NULL (then event 1705 is logged with evt_src: the netif
 * or peer that asked) when none is free or the rest is the other
 * direction's reserve (TLS_RESERVE_INBOUND/OUTBOUND).  It counts as in use until it is unreserved or
 * the wrapped pcb is gone. */
tls_sess_t *tls_reserve(uint8_t evt_src, tls_role_t role);
/* Give back a reservation that was not wrapped.  NULL is ignored. */
void tls_unreserve(tls_sess_t *t);
/* Stack TLS on inner (a connected altcp_tcp pcb) and start the handshake.
 * Returns the TLS pcb, or NULL with *err (a TLS error; nothing changed,
 * the reservation given back). */
struct altcp_pcb *tls_wrap(tls_sess_t *t, struct altcp_pcb *inner, const tls_wrap_opts_t *o, mta_err_t *err);

#endif
