/* lwIP system glue (port/arch/cc.h, lwip/sys.h): time, randomness and
 * assertions from the board API.  Every board shares it. */
#include "lwip/opt.h"
#include "lwip/sys.h"
#include "lwip/pbuf.h"
#include "board.h"
#include "mta_assert.h"
#include "mta_opts.h"
#include "net/lwip_err.h"

/* Rules between lwIP's pools (port/lwipopts.h, boards' board_opts.h) and
 * the firmware's options (mta_opts.h). */
_Static_assert(MEMP_NUM_TCP_PCB_LISTEN >= NIF_MAX, "one SMTP listener per interface");
/* lwIP aligns its heap and pool elements to MEM_ALIGNMENT: it must suit the
 * structs it keeps there (a 64-bit host at 4 gave misaligned struct pbuf). */
_Static_assert(MEM_ALIGNMENT % _Alignof(struct pbuf) == 0 && MEM_ALIGNMENT % _Alignof(void *) == 0,
               "MEM_ALIGNMENT suits the pointers in lwIP's pools");
_Static_assert(MEMP_NUM_TCP_PCB >= SMTPD_MAX_SESSIONS + SMTPC_MAX_CONN + SMTPD_NET_SPARE_PCBS,
               "a TCP PCB for every inbound session and outbound connection, plus spares");
_Static_assert(SMTPD_NET_SPARE_PCBS >= SMTPD_NET_WAIT_MAX + 1,
               "held connections leave a spare PCB for a 421 or a handshake");
_Static_assert(MEM_SIZE >= 4 * TCPIO_HEAP_RESERVE, "bulk writes keep most of the heap: the reserve is a quarter at most");
_Static_assert(SMTPD_NET_BACKLOG >= 1 && SMTPD_NET_BACKLOG <= 255, "lwIP's backlog is 8 bits");
/* altcp_tcp keeps one altcp PCB per listener too (altcp_listen reuses it),
 * and a TLS session stacks a second one on its connection (tls_wrap). */
_Static_assert(MEMP_NUM_ALTCP_PCB >= SMTPD_MAX_SESSIONS + SMTPC_MAX_CONN + NIF_MAX + TLS_MAX_SESSIONS +
               SMTPD_NET_WAIT_MAX,
               "an altcp PCB for every session, outbound connection, listener, TLS layer and held connection");
_Static_assert(SMTPC_OUTBUF >= TCP_MSS + 512, "the client's output holds one MSS of body and a command");

u32_t sys_now(void)
{
    return board_now_ms();
}

uint32_t port_rand(void)
{
    return board_rand();
}

void port_diag(const char *msg)
{
    (void)msg;
}

/* An lwIP assertion is a bug in this firmware or in lwIP, never bad input. */
void port_assert(const char *msg, const char *file, int line)
{
    mta_assert_fail(msg, file, line);
}

/* The wording of lwIP's err.c, which it compiles only with LWIP_DEBUG. */
static const char *const lwip_err_texts[] = {
    [-ERR_MEM] = "Out of memory error.",
    [-ERR_BUF] = "Buffer error.",
    [-ERR_TIMEOUT] = "Timeout.",
    [-ERR_RTE] = "Routing problem.",
    [-ERR_INPROGRESS] = "Operation in progress.",
    [-ERR_VAL] = "Illegal value.",
    [-ERR_WOULDBLOCK] = "Operation would block.",
    [-ERR_USE] = "Address in use.",
    [-ERR_ALREADY] = "Already connecting.",
    [-ERR_ISCONN] = "Already connected.",
    [-ERR_CONN] = "Not connected.",
    [-ERR_IF] = "Low-level netif error.",
    [-ERR_ABRT] = "Connection aborted.",
    [-ERR_RST] = "Connection reset.",
    [-ERR_CLSD] = "Connection closed.",
    [-ERR_ARG] = "Illegal argument.",
};

const char *lwip_err_text(err_t err)
{
    int i = -(int)err;
    if (i <= 0 || i >= (int)(sizeof(lwip_err_texts) / sizeof(lwip_err_texts[0]))) {
        return NULL;
    }
    return lwip_err_texts[i];
}
