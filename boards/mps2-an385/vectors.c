/* vectors.c - the AN385's 32 external interrupt entries of the vector table.
 *
 * The 16 core entries come first (drivers/cortex_m/startup.c); link.ld puts
 * this table right behind them (section CM3_IRQ_VECTOR_SECTION) and checks
 * the total.  Every handler is weak: board.c defines the lines it wires, and
 * an interrupt on any other line reports itself like an unhandled core
 * exception instead of re-entering forever.
 */
#include "an385.h"
#include "cortex_m/cm3.h"

/* A weak alias needs its target in this file: one branch to the core's
 * reporter. */
static void an385_unwired(void)
{
    Default_Handler();
}

#define AN385_WEAK __attribute__((weak, alias("an385_unwired")))
void UART0RX_IRQHandler(void) AN385_WEAK;
void UART0TX_IRQHandler(void) AN385_WEAK;
void UART1RX_IRQHandler(void) AN385_WEAK;
void UART1TX_IRQHandler(void) AN385_WEAK;
void UART2RX_IRQHandler(void) AN385_WEAK;
void UART2TX_IRQHandler(void) AN385_WEAK;
void GPIO0ALL_IRQHandler(void) AN385_WEAK;
void GPIO1ALL_IRQHandler(void) AN385_WEAK;
void TIMER0_IRQHandler(void) AN385_WEAK;
void TIMER1_IRQHandler(void) AN385_WEAK;
void DUALTIMER_IRQHandler(void) AN385_WEAK;
void SPI_IRQHandler(void) AN385_WEAK;
void UARTOVF_IRQHandler(void) AN385_WEAK;
void ETHERNET_IRQHandler(void) AN385_WEAK;
void I2S_IRQHandler(void) AN385_WEAK;
void TSC_IRQHandler(void) AN385_WEAK;
void GPIO2_IRQHandler(void) AN385_WEAK;
void GPIO3_IRQHandler(void) AN385_WEAK;
void UART3RX_IRQHandler(void) AN385_WEAK;
void UART3TX_IRQHandler(void) AN385_WEAK;
void UART4RX_IRQHandler(void) AN385_WEAK;
void UART4TX_IRQHandler(void) AN385_WEAK;
void ADCSPI_IRQHandler(void) AN385_WEAK;
void SHIELDSPI_IRQHandler(void) AN385_WEAK;
void PORT0_0_IRQHandler(void) AN385_WEAK;
void PORT0_1_IRQHandler(void) AN385_WEAK;
void PORT0_2_IRQHandler(void) AN385_WEAK;
void PORT0_3_IRQHandler(void) AN385_WEAK;
void PORT0_4_IRQHandler(void) AN385_WEAK;
void PORT0_5_IRQHandler(void) AN385_WEAK;
void PORT0_6_IRQHandler(void) AN385_WEAK;
void PORT0_7_IRQHandler(void) AN385_WEAK;

__attribute__((section(CM3_IRQ_VECTOR_SECTION), used))
static const cm3_vector_t an385_vectors[AN385_IRQ_COUNT] = {
    [AN385_IRQ_UART0RX]   = UART0RX_IRQHandler,
    [AN385_IRQ_UART0TX]   = UART0TX_IRQHandler,
    [AN385_IRQ_UART1RX]   = UART1RX_IRQHandler,
    [AN385_IRQ_UART1TX]   = UART1TX_IRQHandler,
    [AN385_IRQ_UART2RX]   = UART2RX_IRQHandler,
    [AN385_IRQ_UART2TX]   = UART2TX_IRQHandler,
    [AN385_IRQ_GPIO0ALL]  = GPIO0ALL_IRQHandler,
    [AN385_IRQ_GPIO1ALL]  = GPIO1ALL_IRQHandler,
    [AN385_IRQ_TIMER0]    = TIMER0_IRQHandler,
    [AN385_IRQ_TIMER1]    = TIMER1_IRQHandler,
    [AN385_IRQ_DUALTIMER] = DUALTIMER_IRQHandler,
    [AN385_IRQ_SPI]       = SPI_IRQHandler,
    [AN385_IRQ_UARTOVF]   = UARTOVF_IRQHandler,
    [AN385_IRQ_ETHERNET]  = ETHERNET_IRQHandler,
    [AN385_IRQ_I2S]       = I2S_IRQHandler,
    [AN385_IRQ_TSC]       = TSC_IRQHandler,
    [AN385_IRQ_GPIO2]     = GPIO2_IRQHandler,
    [AN385_IRQ_GPIO3]     = GPIO3_IRQHandler,
    [AN385_IRQ_UART3RX]   = UART3RX_IRQHandler,
    [AN385_IRQ_UART3TX]   = UART3TX_IRQHandler,
    [AN385_IRQ_UART4RX]   = UART4RX_IRQHandler,
    [AN385_IRQ_UART4TX]   = UART4TX_IRQHandler,
    [AN385_IRQ_ADCSPI]    = ADCSPI_IRQHandler,
    [AN385_IRQ_SHIELDSPI] = SHIELDSPI_IRQHandler,
    [AN385_IRQ_PORT0_0 + 0] = PORT0_0_IRQHandler,
    [AN385_IRQ_PORT0_0 + 1] = PORT0_1_IRQHandler,
    [AN385_IRQ_PORT0_0 + 2] = PORT0_2_IRQHandler,
    [AN385_IRQ_PORT0_0 + 3] = PORT0_3_IRQHandler,
    [AN385_IRQ_PORT0_0 + 4] = PORT0_4_IRQHandler,
    [AN385_IRQ_PORT0_0 + 5] = PORT0_5_IRQHandler,
    [AN385_IRQ_PORT0_0 + 6] = PORT0_6_IRQHandler,
    [AN385_IRQ_PORT0_0 + 7] = PORT0_7_IRQHandler,
};
