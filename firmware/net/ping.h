/* ping.h - ICMP echo from the console, optionally bound to one netif. */
#ifndef PING_H
#define PING_H

#include <stdint.h>
#include "lwip/ip4_addr.h"
#include "lwip/netif.h"

#define PING_COUNT 3          /* echo requests per command */
#define PING_INTERVAL_MS 1000 /* between requests, and the wait for the last reply */

/* Receives each result line (one reply, a failure, the summary), without
 * a newline, asynchronously from the main loop. */
typedef void (*ping_report_fn)(const char *line);

/* Start pinging dst (via netif if not NULL).  Returns 0, or -1 if a ping is
 * already running or no PCB is free. */
int ping_start(const ip4_addr_t *dst, struct netif *via, ping_report_fn report);

#endif
