/* tls_priv.h - what the two halves of firmware/tls share and nobody else
 * sees: the credential code (tls_cred.c) and the altcp layer (tls_altcp.c). */
#ifndef TLS_PRIV_H
#define TLS_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include "mbedtls/ssl.h"

/* Internal results of the session code. */
#define TLS_EOF 2                  /* the peer closed the TLS session (close_notify) */

/* The configuration a session starts from: the netif's server
 * configuration (its certificate and key), or the client one (the CA
 * chain); NULL when there is none. */
const mbedtls_ssl_config *tls_cred_conf(bool server, uint8_t netif);
/* A session runs on conf (so on the credentials or CA list behind it):
 * those must not be freed under it. */
bool tls_sess_conf_busy(const mbedtls_ssl_config *conf);

#endif
