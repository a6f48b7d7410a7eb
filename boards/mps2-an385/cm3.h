/* cm3.h - Cortex-M3 core registers and helpers for the mps2-an385 board.
 *
 * Only what this board uses: NVIC enable/disable/pending/priority, SysTick,
 * SCB (VTOR, AIRCR reset, fault status), and the CPSIE/CPSID/WFI/DSB/ISB
 * instructions.  Addresses are from the ARMv7-M Architecture Reference Manual
 * (B3.2 System Control Space, B3.3 SysTick, B3.4 NVIC).
 *
 * It also names the an385 external interrupt lines (CM3_IRQ_*) and declares
 * the vector-table handlers that startup.c defines weakly, so the board wiring
 * file can override them with prototypes in scope.
 */
#ifndef CM3_H
#define CM3_H

#include <stdbool.h>
#include <stdint.h>

/* Core clock in Hz: QEMU's mps2.c drives the CPU and every APB peripheral from
 * SYSCLK_FRQ = 25 MHz (the AN385 FPGA image also runs at 25 MHz). */
#ifndef CM3_CORE_CLOCK_HZ
#define CM3_CORE_CLOCK_HZ 25000000u /* Hz; AN385 / QEMU SYSCLK_FRQ */
#endif

/* Implemented NVIC priority bits: 3 on the AN385 FPGA (CMSIS __NVIC_PRIO_BITS).
 * QEMU 7.2 keeps all 8 bits; writing the value left-aligned works on both. */
#ifndef CM3_NVIC_PRIO_BITS
#define CM3_NVIC_PRIO_BITS 3 /* bits; AN385 Cortex-M3 configuration */
#endif

/* ---- an385 external interrupt numbers (NVIC lines 0..31).
 * Source: QEMU hw/arm/mps2.c (an385: "num-irq" 32; UART RX irq n, TX irq n+1
 * for uartirq[] = {0, 2, 4, 18, 20}; timers 8, 9; dual timer 10; UART
 * overflow OR-gate 12; lan9118 13) and ARM AN385 / CMSIS SMM_MPS2.h names. */
enum {
    CM3_IRQ_UART0RX   = 0,
    CM3_IRQ_UART0TX   = 1,
    CM3_IRQ_UART1RX   = 2,
    CM3_IRQ_UART1TX   = 3,
    CM3_IRQ_UART2RX   = 4,
    CM3_IRQ_UART2TX   = 5,
    CM3_IRQ_GPIO0ALL  = 6,
    CM3_IRQ_GPIO1ALL  = 7,
    CM3_IRQ_TIMER0    = 8,
    CM3_IRQ_TIMER1    = 9,
    CM3_IRQ_DUALTIMER = 10,
    CM3_IRQ_SPI       = 11,
    CM3_IRQ_UARTOVF   = 12,
    CM3_IRQ_ETHERNET  = 13,
    CM3_IRQ_I2S       = 14,
    CM3_IRQ_TSC       = 15,
    CM3_IRQ_GPIO2     = 16,
    CM3_IRQ_GPIO3     = 17,
    CM3_IRQ_UART3RX   = 18,
    CM3_IRQ_UART3TX   = 19,
    CM3_IRQ_UART4RX   = 20,
    CM3_IRQ_UART4TX   = 21,
    CM3_IRQ_ADCSPI    = 22,
    CM3_IRQ_SHIELDSPI = 23,
    /* 24..31: GPIO0 pins 0..7 */
    CM3_IRQ_COUNT     = 32
};

/* ---- Vector-table handlers (weak defaults in startup.c report and exit). */
void Reset_Handler(void);
void NMI_Handler(void);
void HardFault_Handler(void);
void MemManage_Handler(void);
void BusFault_Handler(void);
void UsageFault_Handler(void);
void SVC_Handler(void);
void DebugMon_Handler(void);
void PendSV_Handler(void);
void SysTick_Handler(void);
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

/* ---- System Control Space register addresses (ARMv7-M ARM B3.2.2). */
#define CM3_REG32(addr) (*(volatile uint32_t *)(uintptr_t)(addr))
#define CM3_REG8(addr)  (*(volatile uint8_t *)(uintptr_t)(addr))

#define CM3_SYST_CSR   CM3_REG32(0xE000E010u) /* SysTick control and status */
#define CM3_SYST_RVR   CM3_REG32(0xE000E014u) /* reload value (24 bits) */
#define CM3_SYST_CVR   CM3_REG32(0xE000E018u) /* current value; any write clears */
#define CM3_SYST_CSR_ENABLE    (1u << 0)
#define CM3_SYST_CSR_TICKINT   (1u << 1)
#define CM3_SYST_CSR_CLKSOURCE (1u << 2)      /* 1 = processor clock */
#define CM3_SYST_CSR_COUNTFLAG (1u << 16)

#define CM3_NVIC_ISER(n) CM3_REG32(0xE000E100u + 4u * (n)) /* set-enable */
#define CM3_NVIC_ICER(n) CM3_REG32(0xE000E180u + 4u * (n)) /* clear-enable */
#define CM3_NVIC_ISPR(n) CM3_REG32(0xE000E200u + 4u * (n)) /* set-pending */
#define CM3_NVIC_ICPR(n) CM3_REG32(0xE000E280u + 4u * (n)) /* clear-pending */
#define CM3_NVIC_IPR(n)  CM3_REG8(0xE000E400u + (n))       /* priority, byte per IRQ */

#define CM3_SCB_CPUID  CM3_REG32(0xE000ED00u)
#define CM3_SCB_ICSR   CM3_REG32(0xE000ED04u)
#define CM3_SCB_VTOR   CM3_REG32(0xE000ED08u)
#define CM3_SCB_AIRCR  CM3_REG32(0xE000ED0Cu)
#define CM3_SCB_SCR    CM3_REG32(0xE000ED10u)
#define CM3_SCB_CCR    CM3_REG32(0xE000ED14u)
#define CM3_SCB_SHPR(n) CM3_REG8(0xE000ED18u + (n))       /* system handler prio, n = exc - 4 */
#define CM3_SCB_SHCSR  CM3_REG32(0xE000ED24u)
#define CM3_SCB_CFSR   CM3_REG32(0xE000ED28u)
#define CM3_SCB_HFSR   CM3_REG32(0xE000ED2Cu)
#define CM3_SCB_MMFAR  CM3_REG32(0xE000ED34u)
#define CM3_SCB_BFAR   CM3_REG32(0xE000ED38u)

#define CM3_AIRCR_VECTKEY     (0x05FAu << 16) /* writes without the key are ignored */
#define CM3_AIRCR_PRIGROUP_MSK (7u << 8)
#define CM3_AIRCR_SYSRESETREQ (1u << 2)
#define CM3_CCR_DIV_0_TRP     (1u << 4)
#define CM3_CCR_STKALIGN      (1u << 9)
#define CM3_SCR_SLEEPDEEP     (1u << 2)
#define CM3_ICSR_VECTACTIVE_MSK 0x1FFu

/* ---- Instructions. */

/* Mask all configurable interrupts (PRIMASK = 1). */
static inline void cm3_disable_irq(void)
{
    __asm__ volatile("cpsid i" ::: "memory");
}

/* Unmask interrupts (PRIMASK = 0). */
static inline void cm3_enable_irq(void)
{
    __asm__ volatile("cpsie i" ::: "memory");
}

/* Return the current PRIMASK and mask interrupts; pair with cm3_irq_restore(). */
static inline uint32_t cm3_irq_save(void)
{
    uint32_t primask;
    __asm__ volatile("mrs %0, primask\n\tcpsid i" : "=r"(primask) :: "memory");
    return primask;
}

/* Restore a PRIMASK value returned by cm3_irq_save(). */
static inline void cm3_irq_restore(uint32_t primask)
{
    __asm__ volatile("msr primask, %0" :: "r"(primask) : "memory");
}

/* Sleep until an interrupt is pending.  A pending interrupt wakes WFI even
 * while PRIMASK masks it (ARMv7-M B1.5.19), so the race-free idle pattern is:
 * cm3_disable_irq(); if (!work) cm3_wfi(); cm3_enable_irq(); */
static inline void cm3_wfi(void)
{
    __asm__ volatile("wfi" ::: "memory");
}

static inline void cm3_dsb(void)
{
    __asm__ volatile("dsb" ::: "memory");
}

static inline void cm3_isb(void)
{
    __asm__ volatile("isb" ::: "memory");
}

/* ---- NVIC.  irq is an external line 0..CM3_IRQ_COUNT-1. */

static inline void cm3_nvic_enable(unsigned irq)
{
    CM3_NVIC_ISER(irq >> 5) = 1u << (irq & 31u);
}

/* Disable the line; the DSB/ISB make sure the handler cannot run after return. */
static inline void cm3_nvic_disable(unsigned irq)
{
    CM3_NVIC_ICER(irq >> 5) = 1u << (irq & 31u);
    cm3_dsb();
    cm3_isb();
}

static inline void cm3_nvic_clear_pending(unsigned irq)
{
    CM3_NVIC_ICPR(irq >> 5) = 1u << (irq & 31u);
}

static inline void cm3_nvic_set_pending(unsigned irq)
{
    CM3_NVIC_ISPR(irq >> 5) = 1u << (irq & 31u);
}

/* prio 0 (highest) .. (1 << CM3_NVIC_PRIO_BITS) - 1 (lowest). */
static inline void cm3_nvic_set_priority(unsigned irq, unsigned prio)
{
    CM3_NVIC_IPR(irq) = (uint8_t)(prio << (8 - CM3_NVIC_PRIO_BITS));
}

/* ---- SysTick. */

/* Start SysTick from the core clock, interrupting every `ticks` cycles
 * (e.g. CM3_CORE_CLOCK_HZ / 1000 for 1 ms).  Returns false if ticks is 0 or
 * exceeds the 24-bit reload range. */
static inline bool cm3_systick_config(uint32_t ticks)
{
    if (ticks == 0u || ticks - 1u > 0x00FFFFFFu) {
        return false;
    }
    CM3_SYST_CSR = 0u;
    CM3_SYST_RVR = ticks - 1u;
    CM3_SYST_CVR = 0u;
    CM3_SYST_CSR = CM3_SYST_CSR_CLKSOURCE | CM3_SYST_CSR_TICKINT | CM3_SYST_CSR_ENABLE;
    return true;
}

static inline void cm3_systick_stop(void)
{
    CM3_SYST_CSR = 0u;
}

/* ---- SCB. */

/* Point the core at a vector table (must be 128-byte aligned for 32 IRQs). */
static inline void cm3_set_vtor(const void *table)
{
    CM3_SCB_VTOR = (uint32_t)(uintptr_t)table;
    cm3_dsb();
}

/* Request a system reset (AIRCR.SYSRESETREQ, keeping PRIGROUP); never returns.
 * QEMU resets the machine and boots the image again. */
static inline __attribute__((noreturn)) void cm3_system_reset(void)
{
    cm3_dsb();
    CM3_SCB_AIRCR = CM3_AIRCR_VECTKEY | (CM3_SCB_AIRCR & CM3_AIRCR_PRIGROUP_MSK) |
                    CM3_AIRCR_SYSRESETREQ;
    cm3_dsb();
    for (;;) {
        cm3_wfi();
    }
}

/* Exception number being handled (0 in thread mode, 16 + n for IRQ n). */
static inline uint32_t cm3_active_exception(void)
{
    return CM3_SCB_ICSR & CM3_ICSR_VECTACTIVE_MSK;
}

#endif /* CM3_H */
