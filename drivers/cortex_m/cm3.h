/* cm3.h - Cortex-M3 (ARMv7-M) core registers and helpers.
 *
 * What the core has whatever SoC it sits in: NVIC enable/disable/pending/
 * priority, SysTick, SCB (VTOR, AIRCR reset, fault status), and the
 * CPSIE/CPSID/WFI/DSB/ISB instructions.  Addresses are from the ARMv7-M
 * Architecture Reference Manual (B3.2 System Control Space, B3.3 SysTick,
 * B3.4 NVIC).
 *
 * It also declares the core exception handlers that startup.c defines
 * weakly, so a board can override them with prototypes in scope.  The SoC's
 * interrupt lines, its clock and its vector entries for them belong to the
 * board (boards/mps2-an385/an385.h).
 */
#ifndef CM3_H
#define CM3_H

#include <stdbool.h>
#include <stdint.h>

/* Implemented NVIC priority bits: 3 on the AN385 FPGA (CMSIS __NVIC_PRIO_BITS).
 * QEMU 7.2 keeps all 8 bits; writing the value left-aligned works on both.
 * A board whose core has another number overrides it in board_opts.h. */
#ifndef CM3_NVIC_PRIO_BITS
#define CM3_NVIC_PRIO_BITS 3 /* bits; AN385 Cortex-M3 configuration */
#endif

/* Number of the first external interrupt in the vector table: entries 0..15
 * are the initial MSP and the core's exceptions (ARMv7-M B1.5.2). */
#define CM3_VECTOR_FIRST_IRQ 16

/* A vector-table entry. */
typedef void (*cm3_vector_t)(void);

/* ---- Core exception handlers.  startup.c defines every one weakly (the
 * default reports the exception over semihosting and exits); a board
 * overrides the ones it uses.  The SoC's external interrupt lines and their
 * handlers are the board's: it puts their table in section
 * CM3_IRQ_VECTOR_SECTION, which the linker script places right after the 16
 * core entries. */
#define CM3_IRQ_VECTOR_SECTION ".isr_vector.irq"
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
/* What an exception or interrupt nobody handles runs: one line naming the
 * exception number over semihosting, then exit status 3.  Boards alias their
 * unwired IRQ handlers to it. */
void Default_Handler(void);

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

/* ---- NVIC.  irq is an external line (0 .. the SoC's line count - 1). */

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
 * (e.g. core clock / 1000 for 1 ms).  Returns false if ticks is 0 or
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
