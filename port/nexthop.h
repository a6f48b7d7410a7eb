/* nexthop.h - per-destination next-hop overrides on a netif (served to lwIP
 * through LWIP_HOOK_ETHARP_GET_GW, see port_hooks.h). */
#ifndef NEXTHOP_H
#define NEXTHOP_H

#include "lwip/ip4_addr.h"
#include "lwip/netif.h"

#ifndef NEXTHOP_MAX
#define NEXTHOP_MAX 8   /* entries: at most one per outbound connection */
#endif

/* Route `dest` on `netif` through `gw` (reference counted).  0 or -1 if full. */
int nexthop_add(struct netif *netif, const ip4_addr_t *dest, const ip4_addr_t *gw);
void nexthop_del(struct netif *netif, const ip4_addr_t *dest);

#endif
