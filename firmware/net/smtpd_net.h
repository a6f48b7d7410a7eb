/* smtpd_net.h - SMTP listeners, one per netif, and the altcp glue that joins
 * accepted connections to the pure SMTP server engine (smtpd).
 *
 * A listener that cannot be opened (no address yet, link down, port taken,
 * no PCB) logs 9321 naming the netif and the error; the others keep serving
 * and the failed one is retried every SMTPD_NET_RETRY_MS and when its netif comes
 * up.  9266 (cause: no interface) only when no listener at all could be
 * opened; the console keeps working either way. */
#ifndef SMTPD_NET_H
#define SMTPD_NET_H

#include "mta_opts.h"

#include <stdbool.h>
#include <stdint.h>
#include "lwip/ip4_addr.h"

/* Per-netif relay policy: who may relay through this interface. */
typedef enum {
    SMTPD_NET_RELAY_SUBNET = 0,    /* clients on this netif's own subnet (factory default) */
    SMTPD_NET_RELAY_ANY,           /* every client arriving on this netif (trusted LAN) */
    SMTPD_NET_RELAY_NONE,          /* nobody: relay denied (5.7.1) */
} smtpd_net_relay_t;

/* Inbound STARTTLS and AUTH policy of a listener (same values as
 * SMTPD_TLS_* / SMTPD_AUTH_*): off, offer, required. */
#define SMTPD_NET_POLICY_OFF 0
#define SMTPD_NET_POLICY_OFFER 1
#define SMTPD_NET_POLICY_REQUIRED 2

/* Defaults (relay: own subnet; listener: port 25, on; STARTTLS offered;
 * AUTH off), before the configuration. */
void smtpd_net_init(void);
/* Open the listeners (after the configuration is applied). */
void smtpd_net_start(void);
/* Periodic work: reopen failed listeners, session timeouts. */
void smtpd_net_poll(void);
/* A netif changed (link, address): retry its listener at the next poll. */
void smtpd_net_kick(void);
void smtpd_net_set_relay(uint8_t nif, smtpd_net_relay_t policy);
/* Listener of a netif: port and on/off (`listener NETIF port N|off`). */
void smtpd_net_set_listener(uint8_t nif, uint16_t port, bool enabled);
void smtpd_net_get_listener(uint8_t nif, uint16_t *port, bool *enabled);
smtpd_net_relay_t smtpd_net_get_relay(uint8_t nif);
void smtpd_net_set_tls_policy(uint8_t nif, uint8_t policy);
uint8_t smtpd_net_get_tls_policy(uint8_t nif);
void smtpd_net_set_auth_policy(uint8_t nif, uint8_t policy);
uint8_t smtpd_net_get_auth_policy(uint8_t nif);
/* Listener state of a netif, for the console. */
bool smtpd_net_listening(uint8_t nif, int *last_err);
/* Decide relay permission for a client that arrived on `nif` from `remote`. */
bool smtpd_net_relay_allowed(uint8_t nif, const ip4_addr_t *remote);

#endif
