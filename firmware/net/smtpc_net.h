/* smtpc_net.h - outbound delivery: the scheduler that claims due recipients from
 * the queue, decides the (peer, netif) pair from the route table, opens a
 * TCP connection bound to that netif and runs the SMTP client engine over
 * it (altcp glue). */
#ifndef SMTPC_NET_H
#define SMTPC_NET_H

#include "mta_opts.h"

#include <stdint.h>
#include "route/route.h"

void smtpc_net_init(void);
void smtpc_net_poll(void);
/* Ask for a queue scan soon (a message was accepted, a netif came up, flush). */
void smtpc_net_kick(void);
/* Fill the route module's view of the netifs (for route_decide). */
unsigned smtpc_net_views(route_netif_view_t *out, unsigned max);
/* Connections in use, for `show stats`. */
unsigned smtpc_net_active(void);

#endif
