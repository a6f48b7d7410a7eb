/* lwIP options for the gateway MTA.  lwIP's opt.h reads this file and fills
 * every option not set here with its own default.  The board's board_opts.h
 * (force-included before everything) may override the pool sizes marked
 * "board" below.  Units and reasons are given for every value we set. */
#ifndef PORT_LWIPOPTS_H
#define PORT_LWIPOPTS_H

/* ---- System: bare metal, one thread, raw/altcp API only ---- */
#define NO_SYS                      1   /* main loop calls lwIP; no RTOS */
#define SYS_LIGHTWEIGHT_PROT        0   /* lwIP is never entered from an ISR */
#define LWIP_SOCKET                 0
#define LWIP_NETCONN                0
#define LWIP_ALTCP                  1   /* SMTP glue uses altcp; firmware/tls adds its own TLS layer */
#define LWIP_ALTCP_TLS              0   /* lwIP's altcp_tls_mbedtls is not used (see README: TLS) */
#define LWIP_TIMERS                 1

/* ---- Memory: everything static.  mem.c's heap is one static array
 * (ram_heap[MEM_SIZE]); pools are static arrays from memp.c. ---- */
#define MEM_LIBC_MALLOC             0   /* never libc malloc */
#define MEMP_MEM_MALLOC             0
#ifndef MEM_ALIGNMENT
#define MEM_ALIGNMENT               4   /* bytes: Cortex-M3 word; a 64-bit board sets 8 (firmware/net/lwip_sys.c checks) */
#endif
#ifndef MEM_SIZE
#define MEM_SIZE                    (24 * 1024) /* bytes, board: TX segments (TCP_SND_BUF per conn) + ICMP */
#endif
#ifndef PBUF_POOL_SIZE
#define PBUF_POOL_SIZE              24  /* RX buffers: one full-size frame each */
#endif
/* One RX pbuf holds a whole Ethernet frame (1514 + VLAN slack), so the MAC
 * driver reads a frame straight into one buffer. */
#define PBUF_POOL_BUFSIZE           1536
#ifndef MEMP_NUM_TCP_PCB
#define MEMP_NUM_TCP_PCB            16  /* board: SMTPD sessions + SMTPC connections + TIME_WAIT slack (net/lwip_sys.c) */
#endif
#ifndef MEMP_NUM_TCP_PCB_LISTEN
#define MEMP_NUM_TCP_PCB_LISTEN     4   /* board: one SMTP listener per netif (>= NIF_MAX, net/lwip_sys.c) */
#endif
#ifndef MEMP_NUM_TCP_SEG
#define MEMP_NUM_TCP_SEG            64  /* queued TX segments over all connections */
#endif
#define MEMP_NUM_RAW_PCB            2   /* console ping */
#define MEMP_NUM_SYS_TIMEOUT        (LWIP_NUM_SYS_TIMEOUT_INTERNAL + 4)
/* altcp PCBs: one per TCP connection plus the listeners' and the TLS
 * layers' (net/lwip_sys.c checks the sum). */
#define MEMP_NUM_ALTCP_PCB          (MEMP_NUM_TCP_PCB + MEMP_NUM_TCP_PCB_LISTEN)
#define ARP_QUEUEING                1   /* keep packets sent before ARP resolves (else a SYN-ACK is lost) */
#define MEMP_NUM_ARP_QUEUE          16
#define ARP_TABLE_SIZE              16

/* ---- Protocols ---- */
#define LWIP_IPV4                   1
#define LWIP_IPV6                   0   /* not yet: IPv4 is what the gateways use */
#define LWIP_ARP                    1
#define LWIP_ETHERNET               1
#define LWIP_ICMP                   1
#define LWIP_RAW                    1   /* console ping */
#define LWIP_UDP                    0   /* nothing sends UDP yet */
#define LWIP_TCP                    1
#define LWIP_DHCP                   0   /* addresses are static (console) */
#define LWIP_DNS                    0
#define LWIP_IGMP                   0
#define LWIP_AUTOIP                 0
#define IP_REASSEMBLY               0   /* SMTP uses TCP; no big datagrams expected */
#define IP_FRAG                     0
#define LWIP_NETIF_HOSTNAME         1
#define LWIP_NETIF_STATUS_CALLBACK  1
#define LWIP_NETIF_LINK_CALLBACK    1
#define LWIP_SINGLE_NETIF           0   /* a gateway is multihomed by definition */
#define LWIP_NETIF_LOOPBACK         0
#define SLIP_USE_RX_THREAD          0   /* slipif_poll() from the main loop */

/* ---- TCP tuned for SMTP: many short dialogues, bodies of a few KiB ---- */
#define TCP_MSS                     1460
#ifndef TCP_WND
#define TCP_WND                     (4 * TCP_MSS)   /* board: per-connection receive window */
#endif
#ifndef TCP_SND_BUF
#define TCP_SND_BUF                 (4 * TCP_MSS)   /* board: per-connection send buffer */
#endif
#define TCP_SND_QUEUELEN            ((4 * (TCP_SND_BUF) + (TCP_MSS - 1)) / (TCP_MSS))
/* Answer a window that the application reopened only once it has grown by
 * two segments (lwIP's default here is one, TCP_WND / 4): a 2 KiB message
 * then costs one pure ACK less, and the sender still never waits, since two
 * segments are at most half of TCP_WND. */
#define TCP_WND_UPDATE_THRESHOLD    (2 * TCP_MSS)
#define TCP_QUEUE_OOSEQ             0   /* out-of-order segments are rare on a LAN; saves pbufs */
#define TCP_LISTEN_BACKLOG          1
#define LWIP_TCP_KEEPALIVE          0   /* no PCB sets SO_KEEPALIVE: the SMTP idle timeouts reap vanished peers */
#define LWIP_TCP_TIMESTAMPS         0
/* A listener reopened after an interface flap binds address:25 again while
 * connections it accepted before still hold it (net/smtpd_net.c). */
#define SO_REUSE                    1

/* ---- Statistics: counters for `show netif` and pool use for `show mem` ----
 * Only what the console shows is counted (MIB2, MEM, MEMP); the link and TCP
 * counters had no reader and cost instructions on every frame. */
#define LWIP_STATS                  1
#define LWIP_STATS_DISPLAY          0
#define MEM_STATS                   1
#define MEMP_STATS                  1
#define LINK_STATS                  0
#define MIB2_STATS                  1   /* per-netif in/out counters */
#define IP_STATS                    0
#define ICMP_STATS                  0
#define UDP_STATS                   0
#define TCP_STATS                   0
#define SYS_STATS                   0

/* ---- Checksums in software (neither MAC offloads them) ---- */
#define LWIP_CHECKSUM_ON_COPY       1   /* TCP_WRITE_FLAG_COPY sums while copying: one pass */
/* Our own sum (port/chksum.c): 8-word LDM bursts and an ADCS chain on the
 * Cortex-M3, about 0.4 instructions per octet where lwIP's best (algorithm
 * 3, 32-bit accumulation) takes about 2; every frame sent and received is
 * summed.  Other cores take its C path (4 octets per step). */
#define LWIP_CHKSUM_ALGORITHM       3
#include "chksum.h"
#define LWIP_CHKSUM                 port_chksum

/* ---- Hooks: the MTA binds each delivery to the netif its route names ---- */
#define LWIP_HOOK_FILENAME          "port_hooks.h"

/* LWIP_DEBUG stays undefined: lwIP tests it with #ifdef, so even 0 would
 * compile its debug code in. */
#endif
