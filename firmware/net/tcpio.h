/* tcpio.h - small helpers shared by the inbound (srv) and outbound (dlv)
 * altcp glue. */
#ifndef TCPIO_H
#define TCPIO_H

#include <stdbool.h>
#include "lwip/altcp.h"
#include "lwip/tcp.h"

/* The lwIP tcp_pcb under an altcp_tcp connection (altcp_tcp.c keeps it in
 * `state`): needed for tcp_bind_netif, which altcp does not wrap. */
struct tcp_pcb *tcpio_inner(struct altcp_pcb *pcb);
/* Detach every callback, then close (or abort, or abort when close fails):
 * after this lwIP never calls back into the caller's session. */
void tcpio_close(struct altcp_pcb *pcb, bool abort);

#endif
