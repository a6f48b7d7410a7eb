#include "net/tcpio.h"

#include "lwip/priv/altcp_priv.h"
#include "lwip/stats.h"
#include "mta_opts.h"

/* Bytes of lwIP's heap a bulk write may still take (MEM_STATS counts it). */
static size_t tcpio_heap_room(void)
{
    size_t used = lwip_stats.mem.used;
    size_t avail = lwip_stats.mem.avail;
    return avail > used + TCPIO_HEAP_RESERVE ? avail - used - TCPIO_HEAP_RESERVE : 0;
}

static bool tcpio_write(struct altcp_pcb *pcb, void *eng, tcpio_peek_fn peek, tcpio_consume_fn consume, bool bulk)
{
    const uint8_t *p;
    size_t n;
    bool wrote = false;
    if (pcb == NULL) {
        return false;
    }
    while ((n = peek(eng, &p)) > 0) {
        size_t room = altcp_sndbuf(pcb);
        if (bulk && room > tcpio_heap_room()) {
            room = tcpio_heap_room();
        }
        if (room == 0) {
            break;
        }
        if (n > room) {
            n = room;
        }
        if (n > 0xFFFFu) {
            n = 0xFFFFu;
        }
        if (altcp_write(pcb, p, (u16_t)n, TCP_WRITE_FLAG_COPY) != ERR_OK) {
            break; /* no room after all (ERR_MEM): the sent callback comes back */
        }
        consume(eng, n);
        wrote = true;
    }
    if (wrote) {
        altcp_output(pcb);
    }
    return wrote;
}

bool tcpio_send(struct altcp_pcb *pcb, void *eng, tcpio_peek_fn peek, tcpio_consume_fn consume)
{
    return tcpio_write(pcb, eng, peek, consume, false);
}

bool tcpio_send_bulk(struct altcp_pcb *pcb, void *eng, tcpio_peek_fn peek, tcpio_consume_fn consume)
{
    return tcpio_write(pcb, eng, peek, consume, true);
}

struct tcp_pcb *tcpio_inner(struct altcp_pcb *pcb)
{
    return (struct tcp_pcb *)pcb->state;
}

void tcpio_close(struct altcp_pcb *pcb, bool abort)
{
    /* A closing connection (FIN_WAIT, unacknowledged last reply) is the
     * cheapest victim when a new SYN finds the PCB pool used up. */
    struct altcp_pcb *bottom = pcb;
    while (bottom->inner_conn != NULL) {
        bottom = bottom->inner_conn;
    }
    tcp_setprio(tcpio_inner(bottom), TCP_PRIO_MIN);
    altcp_arg(pcb, NULL);
    altcp_recv(pcb, NULL);
    altcp_sent(pcb, NULL);
    altcp_err(pcb, NULL);
    altcp_poll(pcb, NULL, 0);
    if (abort || altcp_close(pcb) != ERR_OK) {
        altcp_abort(pcb);
    }
}

void tcpio_abort_shut(struct altcp_pcb *pcb)
{
    struct tcp_pcb *tp = tcpio_inner(pcb);
    altcp_arg(pcb, NULL);
    altcp_recv(pcb, NULL);
    altcp_sent(pcb, NULL);
    altcp_err(pcb, NULL);
    altcp_poll(pcb, NULL, 0);
    if (tp != NULL && tp->state == TIME_WAIT) {
        tcp_arg(tp, NULL);
        tcp_abort(tp); /* TIME_WAIT: unlinked and freed, no callback */
        altcp_free(pcb);
        return;
    }
    altcp_abort(pcb); /* the error callback frees the altcp pcb */
}
