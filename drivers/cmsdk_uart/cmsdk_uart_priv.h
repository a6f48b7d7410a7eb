/* cmsdk_uart_priv.h - ARM CMSDK APB UART register map.
 * Source: Cortex-M System Design Kit TRM (ARM DDI 0479C) 4.3 "UART";
 * cross-checked with QEMU hw/char/cmsdk-apb-uart.c. */
#ifndef CMSDK_UART_PRIV_H
#define CMSDK_UART_PRIV_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    volatile uint32_t data;      /* 0x00 RW: read pops RX byte, write sends */
    volatile uint32_t state;     /* 0x04 RW: status; overrun bits W1C */
    volatile uint32_t ctrl;      /* 0x08 RW: enables */
    volatile uint32_t intstatus; /* 0x0C RW: interrupt status, W1C */
    volatile uint32_t bauddiv;   /* 0x10 RW: PCLK / baud, minimum 16 */
} cmsdk_uart_regs_t;

_Static_assert(offsetof(cmsdk_uart_regs_t, bauddiv) == 0x10, "CMSDK UART register map");

#define CMSDK_UART_STATE_TXFULL  (1u << 0)
#define CMSDK_UART_STATE_RXFULL  (1u << 1)
#define CMSDK_UART_STATE_TXOVR   (1u << 2)
#define CMSDK_UART_STATE_RXOVR   (1u << 3)

#define CMSDK_UART_CTRL_TXEN     (1u << 0)
#define CMSDK_UART_CTRL_RXEN     (1u << 1)
#define CMSDK_UART_CTRL_TXINTEN  (1u << 2)
#define CMSDK_UART_CTRL_RXINTEN  (1u << 3)
#define CMSDK_UART_CTRL_TXOINTEN (1u << 4)
#define CMSDK_UART_CTRL_RXOINTEN (1u << 5)

#define CMSDK_UART_INT_TX        (1u << 0)
#define CMSDK_UART_INT_RX        (1u << 1)
#define CMSDK_UART_INT_TXO       (1u << 2)
#define CMSDK_UART_INT_RXO       (1u << 3)

#define CMSDK_UART_BAUDDIV_MIN   16u

#endif /* CMSDK_UART_PRIV_H */
