/* mps2-an385 pool sizes (force-included before every option default).
 * The RAM budget is 256 KiB including the stack; `make size` shows the use. */
#ifndef BOARD_OPTS_H
#define BOARD_OPTS_H
#define NIF_MAX 2                      /* eth0 (LAN9118) and sl0 (SLIP on UART1) */
#define MEM_SIZE (20 * 1024)           /* lwIP heap: TX segments of the open connections */
#define PBUF_POOL_SIZE 16              /* RX frames buffered (16 x 1.5 KiB) */
#define MEMP_NUM_TCP_PCB 16
#define MEMP_NUM_TCP_SEG 48
/* The flash store holds the queue; the RAM store is only the fallback when
 * the flash image cannot be opened. */
#define STORE_RAM_ARENA_SIZE (16u * 1024u)
#define STORE_RAM_MAX_MSGS 48
#define STORE_FLASH_MAX_MSGS 48
#define QUEUE_MAX_MSGS 48
#define DLV_ADDRBUF 2048               /* recipient addresses per outbound connection */
#endif
