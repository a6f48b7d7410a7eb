#include "net/tcpio.h"

bool tcpio_send(struct altcp_pcb *pcb, void *eng, tcpio_peek_fn peek, tcpio_consume_fn consume)
{
    const uint8_t *p;
    size_t n;
    bool wrote = false;
    if (pcb == NULL) {
        return false;
    }
    while ((n = peek(eng, &p)) > 0) {
        size_t room = altcp_sndbuf(pcb);
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
