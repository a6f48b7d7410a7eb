/* nif.h - the MTA's table of network interfaces.
 *
 * lwIP names netifs with two letters and a number ("en0"); field engineers
 * and the configuration use names like "eth0", "sl0", "tap1".  The board
 * registers each netif it adds under its product name; everything above
 * (console, listeners, routes, events) refers to interfaces by the index
 * returned here, which is also the event "source" byte. */
#ifndef NIF_H
#define NIF_H

#include <stdbool.h>
#include <stdint.h>
#include "lwip/netif.h"

#ifndef NIF_MAX
#define NIF_MAX 4           /* interfaces per device: LAN, WAN, modem + spare */
#endif
#define NIF_NAME_MAX 8      /* "eth0", "sl0", "tap12" */
#define NIF_HOSTNAME_MAX 64 /* RFC 1035 label limit is 63; EHLO names are FQDNs of modest size */
#define NIF_NONE 0xFF

typedef struct nif {
    char name[NIF_NAME_MAX];
    char hostname[NIF_HOSTNAME_MAX];
    const char *kind;        /* "ethernet", "slip", "tap" */
    struct netif *netif;
    bool admin_up;           /* configured up */
    uint32_t p2p_peer;       /* far end of a point-to-point link (host order), 0 if none */
} nif_t;

/* Register a netif that the board added.  Returns the index or <0. */
int nif_register(const char *name, const char *kind, struct netif *netif);
/* Configure static IPv4 settings and hostname; brings the netif up if admin_up. */
int nif_configure(uint8_t idx, const char *ip, const char *mask, const char *gw,
                  const char *hostname, bool admin_up);
unsigned nif_count(void);
nif_t *nif_at(uint8_t idx);                 /* NULL if out of range */
int nif_find(const char *name);             /* index or -1 */
int nif_index_of(const struct netif *n);    /* index or -1 */
const char *nif_name(uint8_t idx);          /* "?" if unknown */
/* Called after a link, address or up/down change of netif idx. */
void nif_set_change_hook(void (*fn)(uint8_t idx));
/* Up: configured up, link up and an address. */
bool nif_usable(uint8_t idx);

#endif
