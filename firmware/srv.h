/* srv.h - SMTP listeners, one per netif, and the altcp glue that joins
 * accepted connections to the pure SMTP server engine (smtpd).
 *
 * A listener that cannot be opened (no address yet, link down, port taken,
 * no PCB) logs 9321 naming the netif and the error; the others keep serving
 * and the failed one is retried every SRV_RETRY_MS and when its netif comes
 * up.  9266 (cause: no interface) only when no listener at all could be
 * opened; the console keeps working either way. */
#ifndef SRV_H
#define SRV_H

#include <stdbool.h>
#include <stdint.h>
#include "lwip/ip4_addr.h"

#ifndef SRV_PORT
#define SRV_PORT 25          /* RFC 5321 relay port */
#endif
#ifndef SRV_PRESSURE_MS
#define SRV_PRESSURE_MS 100  /* ms between queue fill checks for inbound flow control */
#endif
#ifndef SRV_RETRY_MS
#define SRV_RETRY_MS 5000    /* ms between attempts to reopen a failed listener */
#endif

/* Per-netif relay policy: who may relay through this interface. */
typedef enum {
    SRV_RELAY_SUBNET = 0,    /* clients on this netif's own subnet (factory default) */
    SRV_RELAY_ANY,           /* every client arriving on this netif (trusted LAN) */
    SRV_RELAY_NONE,          /* nobody: relay denied (5.7.1) */
} srv_relay_t;

/* Inbound STARTTLS and AUTH policy of a listener (same values as
 * SMTPD_TLS_* / SMTPD_AUTH_*): off, offer, required. */
#define SRV_POLICY_OFF 0
#define SRV_POLICY_OFFER 1
#define SRV_POLICY_REQUIRED 2

/* Defaults (relay: own subnet; listener: port 25, on; STARTTLS offered;
 * AUTH off), before the configuration. */
void srv_init(void);
/* Open the listeners (after the configuration is applied). */
void srv_start(void);
/* Periodic work: reopen failed listeners, session timeouts. */
void srv_poll(void);
/* A netif changed (link, address): retry its listener at the next poll. */
void srv_kick(void);
void srv_set_relay(uint8_t nif, srv_relay_t policy);
/* Listener of a netif: port and on/off (`listener NETIF port N|off`). */
void srv_set_listener(uint8_t nif, uint16_t port, bool enabled);
void srv_get_listener(uint8_t nif, uint16_t *port, bool *enabled);
srv_relay_t srv_get_relay(uint8_t nif);
void srv_set_tls_policy(uint8_t nif, uint8_t policy);
uint8_t srv_get_tls_policy(uint8_t nif);
void srv_set_auth_policy(uint8_t nif, uint8_t policy);
uint8_t srv_get_auth_policy(uint8_t nif);
/* Listener state of a netif, for the console. */
bool srv_listening(uint8_t nif, int *last_err);
/* Decide relay permission for a client that arrived on `nif` from `remote`. */
bool srv_relay_allowed(uint8_t nif, const ip4_addr_t *remote);

#endif
