/* Host board overrides of firmware/port options (force-included first). */
#ifndef BOARD_OPTS_H
#define BOARD_OPTS_H
#define NIF_MAX 8                      /* any number of TAP netifs, within reason */
#define MEM_SIZE (256 * 1024)          /* lwIP heap: more sessions in flight for benchmarks */
#define PBUF_POOL_SIZE 128
#define MEMP_NUM_TCP_PCB 64
#define MEMP_NUM_TCP_SEG 256
#define TCP_WND (16 * 1460)
#define TCP_SND_BUF (16 * 1460)
#endif
