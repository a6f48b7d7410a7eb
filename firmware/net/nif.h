/* nif.h - the MTA's table of network interfaces.
 *
 * lwIP names netifs with two letters and a number ("en0"); field engineers
 * and the configuration use names like "eth0", "sl0", "tap1".  The board
 * registers each netif it adds under its product name; everything above
 * (console, listeners, routes, events) refers to interfaces by the index
 * returned here, which is also the event "source" byte. */
#ifndef NIF_H
#define NIF_H

#include "mta_opts.h"

#include <stdbool.h>
#include <stdint.h>
#include "lwip/netif.h"

#define NIF_NONE 0xFF

typedef struct nif {
    char name[NIF_NAME_MAX];
    char hostname[NIF_HOSTNAME_MAX];
    const char *kind;        /* "ethernet", "slip", "tap" */
    struct netif *netif;
    bool admin_up;           /* configured up */
    uint32_t p2p_peer;       /* far end of a point-to-point link (host order), 0 if none */
} nif_t;

/* What `interface` configures; applied in one go by nif_apply_settings(). */
typedef struct nif_settings {
    bool admin_up;
    ip4_addr_t addr;         /* 0.0.0.0 = none */
    uint8_t prefix;          /* 0..32 */
    ip4_addr_t gw;           /* 0.0.0.0 = none */
    ip4_addr_t p2p;          /* far end of a point-to-point link, 0.0.0.0 = none */
    uint16_t mtu;
    char hostname[NIF_HOSTNAME_MAX];
} nif_settings_t;

void nif_get_settings(uint8_t idx, nif_settings_t *out);
/* Apply validated settings (address, mask, gateway, hostname, MTU, up/down). */
void nif_apply_settings(uint8_t idx, const nif_settings_t *st);

/* Register a netif that the board added.  Returns the index or <0. */
int nif_register(const char *name, const char *kind, struct netif *netif);
unsigned nif_count(void);
/* Console argument: a strict dotted quad (digits and three dots).  0 or -1. */
int nif_parse_ip4(const char *s, ip4_addr_t *out);
/* Text of an address held in host byte order (as the route table keeps them). */
const char *nif_ip4_str(uint32_t host_order, char buf[16]);
/* Prefix length of a netmask (leading one bits). */
unsigned nif_prefix_len(const ip4_addr_t *mask);
nif_t *nif_at(uint8_t idx);                 /* NULL if out of range */
int nif_find(const char *name);             /* index or -1 */
int nif_index_of(const struct netif *n);    /* index or -1 */
const char *nif_name(uint8_t idx);          /* "?" if unknown */
/* As nif_name, but "auto" for NIF_NONE: how a peer's `via auto` (the route
 * table's ROUTE_NETIF_AUTO, the same 0xFF) is written on the console. */
const char *nif_name_or_auto(uint8_t idx);
/* Called after a link, address or up/down change of netif idx. */
void nif_set_change_hook(void (*fn)(uint8_t idx));

#endif
