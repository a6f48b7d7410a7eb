/* tcpio.h - altcp helpers shared by the inbound (smtpd_net) and outbound
 * (smtpc_net) glue: the one write loop, the inner tcp_pcb, the close. They
 * work the same on a plaintext pcb and on a TLS one (tls/tls_altcp.h). */
#ifndef TCPIO_H
#define TCPIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "lwip/altcp.h"
#include "lwip/tcp.h"

/* An engine's pending output: peek points *p at it and returns its length
 * (0: none); consume says n of those bytes were taken. */
typedef size_t (*tcpio_peek_fn)(void *eng, const uint8_t **p);
typedef void (*tcpio_consume_fn)(void *eng, size_t n);

/* Write as much of the engine's output as the pcb takes now (altcp_sndbuf:
 * TCP's room, or for TLS the plaintext of records TCP can take whole), then
 * push it out.  The rest stays with the engine for the next sent callback.
 * Returns true if anything was written. */
bool tcpio_send(struct altcp_pcb *pcb, void *eng, tcpio_peek_fn peek, tcpio_consume_fn consume);
/* The same for bulk data (message bodies on delivery): it also leaves
 * TCPIO_HEAP_RESERVE bytes of lwIP's heap free, so that greetings and
 * replies to clients still find room while every outbound connection is
 * sending; what is left waits for the next sent or poll callback. */
bool tcpio_send_bulk(struct altcp_pcb *pcb, void *eng, tcpio_peek_fn peek, tcpio_consume_fn consume);
/* The lwIP tcp_pcb under an altcp_tcp connection (altcp_tcp.c keeps it in
 * `state`): needed for tcp_bind_netif, which altcp does not wrap.  Only for
 * a plaintext pcb (before tls_wrap). */
struct tcp_pcb *tcpio_inner(struct altcp_pcb *pcb);
/* Detach every callback, then close (or abort, or abort when close fails):
 * after this lwIP never calls back into the caller's session. */
void tcpio_close(struct altcp_pcb *pcb, bool abort);
/* Abort a plain (altcp_tcp) pcb whose sending side was shut down: it may be
 * in TIME_WAIT already, where tcp_abort frees the TCP pcb without the error
 * callback that would free the altcp pcb, so this frees both. */
void tcpio_abort_shut(struct altcp_pcb *pcb);

#endif
