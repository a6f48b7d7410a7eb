#include "net/tcpio.h"

struct tcp_pcb *tcpio_inner(struct altcp_pcb *pcb)
{
    return (struct tcp_pcb *)pcb->state;
}

void tcpio_close(struct altcp_pcb *pcb, bool abort)
{
    altcp_arg(pcb, NULL);
    altcp_recv(pcb, NULL);
    altcp_sent(pcb, NULL);
    altcp_err(pcb, NULL);
    altcp_poll(pcb, NULL, 0);
    if (abort || altcp_close(pcb) != ERR_OK) {
        altcp_abort(pcb);
    }
}
