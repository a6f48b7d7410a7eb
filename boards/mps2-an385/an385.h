/* an385.h - what the ARM AN385 image (MPS2 FPGA) adds to the Cortex-M3 core:
 * its system clock and its external interrupt lines.
 *
 * Source: QEMU hw/arm/mps2.c (an385: "num-irq" 32; UART RX irq n, TX irq n+1
 * for uartirq[] = {0, 2, 4, 18, 20}; timers 8, 9; dual timer 10; UART
 * overflow OR-gate 12; lan9118 13) and ARM AN385 / CMSIS SMM_MPS2.h names.
 * The handlers are the vector-table entries of vectors.c (weak: unwired lines
 * report and exit, see cm3.h); board.c defines the ones it wires.
 */
#ifndef AN385_H
#define AN385_H

/* Core clock in Hz: QEMU's mps2.c drives the CPU and every APB peripheral from
 * SYSCLK_FRQ = 25 MHz (the AN385 FPGA image also runs at 25 MHz). */
#define AN385_SYSCLK_HZ 25000000u /* Hz; AN385 / QEMU SYSCLK_FRQ */

/* External interrupt numbers (NVIC lines 0..31). */
enum {
    AN385_IRQ_UART0RX   = 0,
    AN385_IRQ_UART0TX   = 1,
    AN385_IRQ_UART1RX   = 2,
    AN385_IRQ_UART1TX   = 3,
    AN385_IRQ_UART2RX   = 4,
    AN385_IRQ_UART2TX   = 5,
    AN385_IRQ_GPIO0ALL  = 6,
    AN385_IRQ_GPIO1ALL  = 7,
    AN385_IRQ_TIMER0    = 8,
    AN385_IRQ_TIMER1    = 9,
    AN385_IRQ_DUALTIMER = 10,
    AN385_IRQ_SPI       = 11,
    AN385_IRQ_UARTOVF   = 12,
    AN385_IRQ_ETHERNET  = 13,
    AN385_IRQ_I2S       = 14,
    AN385_IRQ_TSC       = 15,
    AN385_IRQ_GPIO2     = 16,
    AN385_IRQ_GPIO3     = 17,
    AN385_IRQ_UART3RX   = 18,
    AN385_IRQ_UART3TX   = 19,
    AN385_IRQ_UART4RX   = 20,
    AN385_IRQ_UART4TX   = 21,
    AN385_IRQ_ADCSPI    = 22,
    AN385_IRQ_SHIELDSPI = 23,
    AN385_IRQ_PORT0_0   = 24, /* 24..31: GPIO0 pins 0..7 */
    AN385_IRQ_COUNT     = 32
};

void UART0RX_IRQHandler(void);
void UART0TX_IRQHandler(void);
void UART1RX_IRQHandler(void);
void UART1TX_IRQHandler(void);
void UART2RX_IRQHandler(void);
void UART2TX_IRQHandler(void);
void GPIO0ALL_IRQHandler(void);
void GPIO1ALL_IRQHandler(void);
void TIMER0_IRQHandler(void);
void TIMER1_IRQHandler(void);
void DUALTIMER_IRQHandler(void);
void SPI_IRQHandler(void);
void UARTOVF_IRQHandler(void);
void ETHERNET_IRQHandler(void);
void I2S_IRQHandler(void);
void TSC_IRQHandler(void);
void GPIO2_IRQHandler(void);
void GPIO3_IRQHandler(void);
void UART3RX_IRQHandler(void);
void UART3TX_IRQHandler(void);
void UART4RX_IRQHandler(void);
void UART4TX_IRQHandler(void);
void ADCSPI_IRQHandler(void);
void SHIELDSPI_IRQHandler(void);
void PORT0_0_IRQHandler(void);
void PORT0_1_IRQHandler(void);
void PORT0_2_IRQHandler(void);
void PORT0_3_IRQHandler(void);
void PORT0_4_IRQHandler(void);
void PORT0_5_IRQHandler(void);
void PORT0_6_IRQHandler(void);
void PORT0_7_IRQHandler(void);

#endif /* AN385_H */
