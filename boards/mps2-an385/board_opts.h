/* mps2-an385: its values of firmware and lwIP options (force-included before
 * every file; the defaults are in firmware/include/mta_opts.h and
 * port/lwipopts.h).  The RAM budget is 256 KiB including the stack; `make
 * size` shows the use. */
#ifndef BOARD_OPTS_H
#define BOARD_OPTS_H
#define NIF_MAX 2                      /* eth0 (LAN9118) and sl0 (SLIP on UART1) */
#define MEMP_NUM_TCP_PCB_LISTEN NIF_MAX /* one SMTP listener per netif */
/* lwIP heap: TX segments of the open connections (a full heap only slows a
 * sender: tcp_write's ERR_MEM is retried).  256 bytes of the 20 KiB went to
 * the altcp PCBs of connections held for a session (SMTPD_NET_WAIT_MAX). */
#define MEM_SIZE (20 * 1024 - 256)
#define PBUF_POOL_SIZE 12              /* RX frames buffered (12 x 1.5 KiB) */
#define MEMP_NUM_TCP_PCB 14             /* 6 inbound + 4 outbound + TIME_WAIT slack */
#define MEMP_NUM_TCP_SEG 48
/* The flash store holds the queue; the RAM store is only the fallback when
 * the flash image cannot be opened. */
#define STORE_RAM_ARENA_SIZE (4u * 1024u)   /* fallback only: messages up to ~4 KiB */
#define QUEUE_MAX_MSGS 48                   /* message slots (the stores' indexes follow) */
/* TLS: two concurrent sessions (one inbound and one outbound, or two of
 * either); the arena holds their record buffers plus certificates and keys. */
#define TLS_MAX_SESSIONS 2
#define TLS_PLAIN_BUF 256              /* decrypted input held per TLS session */
/* What TLS's arena costs is taken from the inbound session pool (8 -> 6),
 * the RX frame pool (16 -> 12) and the fallback RAM store (16 -> 4 KiB). */
#define SMTPD_MAX_SESSIONS 6
#define SMTPC_NET_ADDRBUF 2048         /* recipient addresses per outbound connection */
#endif
