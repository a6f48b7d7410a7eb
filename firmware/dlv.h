/* dlv.h - outbound delivery: the scheduler that claims due recipients from
 * the queue, decides the (peer, netif) pair from the route table, opens a
 * TCP connection bound to that netif and runs the SMTP client engine over
 * it (altcp glue). */
#ifndef DLV_H
#define DLV_H

#include <stdint.h>
#include "route.h"

#ifndef DLV_POLL_MS
#define DLV_POLL_MS 200          /* ms between queue scans when nothing kicked us */
#endif
#ifndef DLV_ADDRBUF
#define DLV_ADDRBUF 4096         /* bytes of recipient addresses per connection (~100 typical addresses) */
#endif
#ifndef DLV_MAX_MSGS_PER_CONN
#define DLV_MAX_MSGS_PER_CONN 50 /* transactions per connection before QUIT: reuse, but let others in */
#endif
#ifndef DLV_CONNECT_TIMEOUT_MS
#define DLV_CONNECT_TIMEOUT_MS 30000 /* ms for the TCP handshake before the attempt is deferred */
#endif

void dlv_init(void);
void dlv_poll(void);
/* Ask for a queue scan soon (a message was accepted, a netif came up, flush). */
void dlv_kick(void);
/* Fill the route module's view of the netifs (for route_decide). */
unsigned dlv_views(route_netif_view_t *out, unsigned max);
/* Connections in use, for `show stats`. */
unsigned dlv_active(void);

#endif
