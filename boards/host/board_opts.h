/* Host board: its values of firmware and lwIP options (force-included before
 * every file; the defaults are in firmware/include/mta_opts.h and
 * port/lwipopts.h). */
#ifndef BOARD_OPTS_H
#define BOARD_OPTS_H
#define NIF_MAX 8                      /* any number of TAP netifs, within reason */
#define MEMP_NUM_TCP_PCB_LISTEN NIF_MAX /* one SMTP listener per netif */
#define MEM_ALIGNMENT 8                /* x86-64: lwIP's pools hold pointers (struct pbuf); 4 gave UBSan misaligned loads */
#define MEM_SIZE (256 * 1024)          /* lwIP heap: more sessions in flight for benchmarks */
#define PBUF_POOL_SIZE 128
#define MEMP_NUM_TCP_PCB 64
#define MEMP_NUM_TCP_SEG 256
#define TCP_WND (16 * 1460)
#define TCP_SND_BUF (16 * 1460)
#define SMTPD_MAX_SESSIONS 32           /* inbound sessions (benchmarks run 20-50 in parallel) */
#define SMTPC_MAX_CONN 8                 /* outbound connections */
#define STORE_RAM_ARENA_SIZE (8u * 1024u * 1024u) /* RAM store: a host has memory to spare (max 16 MiB - 1 chunk) */
#define QUEUE_MAX_MSGS 2048              /* queued messages (the stores' indexes follow) */
#define TLS_MAX_SESSIONS 16              /* concurrent TLS sessions */
#endif
