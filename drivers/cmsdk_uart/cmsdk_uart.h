/* cmsdk_uart.h - ARM CMSDK APB UART driver (8N1, one-byte buffers each way).
 *
 * RX is interrupt driven into a per-device ring; TX is polled and never blocks
 * (except cmsdk_uart_putc_blocking, for panic paths).  The driver does not
 * touch the NVIC: the board enables cfg->rx_irq and calls cmsdk_uart_rx_isr()
 * from the matching handler.
 *
 * Concurrency: one producer (the RX ISR) and one consumer (cmsdk_uart_read,
 * thread context).  TX functions must be called from one context at a time.
 */
#ifndef CMSDK_UART_H
#define CMSDK_UART_H

#include <stddef.h>
#include <stdint.h>

#ifndef CMSDK_UART_RX_RING_SIZE
#define CMSDK_UART_RX_RING_SIZE 512 /* bytes per UART; ~44 ms at 115200, power of 2 */
#endif

_Static_assert((CMSDK_UART_RX_RING_SIZE & (CMSDK_UART_RX_RING_SIZE - 1)) == 0 &&
               CMSDK_UART_RX_RING_SIZE >= 2, "CMSDK_UART_RX_RING_SIZE must be a power of 2");

/* Constant board wiring (an385 UART0: {0x40004000, 0, 1, 217}). */
typedef struct {
    uintptr_t base;   /* register block */
    uint8_t rx_irq;   /* NVIC line of the RX interrupt (board enables it) */
    uint8_t tx_irq;   /* NVIC line of the TX interrupt (unused: TX is polled) */
    uint32_t bauddiv; /* PCLK / baud rate, >= 16 (25 MHz / 115200 = 217) */
} cmsdk_uart_config_t;

/* Runtime state.  head is written only by the ISR, tail only by the reader;
 * both are free-running and masked on use. */
typedef struct {
    const cmsdk_uart_config_t *cfg;
    volatile uint32_t head;         /* next ring slot the ISR fills */
    volatile uint32_t tail;         /* next ring slot the reader takes */
    volatile uint32_t rx_overflows; /* bytes dropped because the ring was full */
    volatile uint32_t rx_overruns;  /* bytes lost in hardware (ISR too late) */
    uint8_t ring[CMSDK_UART_RX_RING_SIZE];
} cmsdk_uart_t;

/* Set the baud divisor, enable TX, RX and the RX interrupt in the UART; clear
 * stale status.  dev and cfg must outlive the driver (static).  Returns 0, or
 * -1 if cfg->bauddiv is below the hardware minimum of 16. */
int cmsdk_uart_init(cmsdk_uart_t *dev, const cmsdk_uart_config_t *cfg);

/* RX interrupt handler body: acknowledge, then move every received byte into
 * the ring (counting overflows).  Call from the board's RX IRQ handler only. */
void cmsdk_uart_rx_isr(cmsdk_uart_t *dev);

/* Copy up to max buffered RX bytes to dst; returns the count (0 if none).
 * Thread context; never blocks. */
size_t cmsdk_uart_read(cmsdk_uart_t *dev, uint8_t *dst, size_t max);

/* Queue bytes while the transmitter has room; returns how many were taken
 * (possibly 0).  Never blocks. */
size_t cmsdk_uart_write_nb(cmsdk_uart_t *dev, const uint8_t *src, size_t n);

/* Busy-wait until the transmitter has room, then send c.  Panic/fault paths
 * only: it spins for as long as the line is stalled. */
void cmsdk_uart_putc_blocking(cmsdk_uart_t *dev, uint8_t c);

#endif /* CMSDK_UART_H */
