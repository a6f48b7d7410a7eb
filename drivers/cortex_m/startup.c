/* startup.c - Cortex-M3 reset, core vector table and fault reporting.
 *
 * Reset_Handler copies .data from flash, zeroes .bss, runs constructor tables
 * (none expected), then calls main(); main's return value becomes the
 * semihosting exit status.  Every core exception handler other than Reset is
 * weak: a board overrides the ones it uses (prototypes in cm3.h).  An
 * exception nobody handles, and any HardFault, prints one line through
 * semihosting and exits with status 3 so a test harness sees it instead of a
 * hang.
 *
 * The vector table is two input sections: the 16 core entries here
 * (".isr_vector"), and the SoC's external interrupt lines, which only the
 * board knows (CM3_IRQ_VECTOR_SECTION); the board's linker script places them
 * in that order and VTOR points at the first.
 */
#include <stdint.h>

#include "cm3.h"
#include "semihost.h"

int main(void);

/* Exit status for faults and unhandled exceptions (tests look for it). */
#define STARTUP_FAULT_EXIT_STATUS 3

/* Linker symbols (the board's link.ld). */
extern uint32_t _sidata[], _sdata[], _edata[], _sbss[], _ebss[];
extern uint32_t _estack[], __stack_start[];
extern const cm3_vector_t __isr_vector_start[];
typedef void (*startup_fn_t)(void);
extern startup_fn_t __preinit_array_start[], __preinit_array_end[];
extern startup_fn_t __init_array_start[], __init_array_end[];

#define WEAK_DEFAULT __attribute__((weak, alias("Default_Handler")))
void NMI_Handler(void) WEAK_DEFAULT;
void MemManage_Handler(void) WEAK_DEFAULT;
void BusFault_Handler(void) WEAK_DEFAULT;
void UsageFault_Handler(void) WEAK_DEFAULT;
void SVC_Handler(void) WEAK_DEFAULT;
void DebugMon_Handler(void) WEAK_DEFAULT;
void PendSV_Handler(void) WEAK_DEFAULT;
void SysTick_Handler(void) WEAK_DEFAULT;

/* HardFault is weak too, but points at the reporting handler below. */
void HardFault_Handler(void) __attribute__((weak, naked));

/* The 16 core entries (ARMv7-M B1.5.3).  Entry 0 is the initial MSP, loaded
 * by the core (and QEMU) at reset. */
__attribute__((section(".isr_vector"), used))
static const cm3_vector_t startup_vectors[CM3_VECTOR_FIRST_IRQ] = {
    (cm3_vector_t)(uintptr_t)_estack,
    Reset_Handler,
    NMI_Handler,
    HardFault_Handler,
    MemManage_Handler,
    BusFault_Handler,
    UsageFault_Handler,
    0, 0, 0, 0,
    SVC_Handler,
    DebugMon_Handler,
    0,
    PendSV_Handler,
    SysTick_Handler,
};

void Reset_Handler(void)
{
    /* Plain loops, no libc: nothing below may depend on initialised data. */
    const uint32_t *src = _sidata;
    for (uint32_t *dst = _sdata; dst < _edata; dst++) {
        *dst = *src++;
    }
    for (uint32_t *dst = _sbss; dst < _ebss; dst++) {
        *dst = 0u;
    }

    /* QEMU boots with VTOR = 0 already; set it anyway so the image also works
     * behind a boot loader that jumps here. */
    cm3_set_vtor(__isr_vector_start);
    /* Trap integer division by zero (UsageFault -> HardFault report) instead
     * of the Cortex-M3 default of silently returning 0. */
    CM3_SCB_CCR |= CM3_CCR_DIV_0_TRP;
    cm3_dsb();
    cm3_isb();

    for (startup_fn_t *f = __preinit_array_start; f < __preinit_array_end; f++) {
        (*f)();
    }
    for (startup_fn_t *f = __init_array_start; f < __init_array_end; f++) {
        (*f)();
    }

    semihost_exit(main());
}

/* Formats "0x%08x" into out[10] without stdio. */
static void startup_hex32(char *out, uint32_t v)
{
    static const char digits[] = "0123456789abcdef";
    out[0] = '0';
    out[1] = 'x';
    for (int i = 0; i < 8; i++) {
        out[2 + i] = digits[(v >> (28 - 4 * i)) & 0xFu];
    }
}

/* Appends s to buf at *pos (buf has room: callers size it for the message). */
static void startup_append(char *buf, unsigned *pos, const char *s)
{
    while (*s != '\0') {
        buf[(*pos)++] = *s++;
    }
}

static void startup_append_hex(char *buf, unsigned *pos, const char *label, uint32_t v)
{
    startup_append(buf, pos, label);
    startup_hex32(&buf[*pos], v);
    *pos += 10u;
}

/* Called from HardFault_Handler with the stacked frame (r0-r3, r12, lr, pc,
 * xpsr) and the EXC_RETURN value.  Static but `used`: only the asm calls it. */
__attribute__((used, noreturn)) static void startup_fault_report(const uint32_t *frame,
                                                                 uint32_t exc_return)
{
    /* Message buffer: fixed text + 6 hex fields; static so a blown stack
     * does not matter here. */
    static char msg[128];
    unsigned pos = 0;
    startup_append(msg, &pos, "HARDFAULT");
    /* The frame is only trusted if it lies inside RAM: a stack overflow or a
     * corrupted PSP would fault again here and lock the core up. */
    uintptr_t f = (uintptr_t)frame;
    if ((f & 3u) == 0u && f >= 0x20000000u && f + 32u <= (uintptr_t)_estack) {
        startup_append_hex(msg, &pos, " pc=", frame[6]);
        startup_append_hex(msg, &pos, " lr=", frame[5]);
    } else {
        startup_append_hex(msg, &pos, " bad-sp=", (uint32_t)f);
    }
    startup_append_hex(msg, &pos, " exc_ret=", exc_return);
    startup_append_hex(msg, &pos, " cfsr=", CM3_SCB_CFSR);
    startup_append_hex(msg, &pos, " hfsr=", CM3_SCB_HFSR);
    startup_append_hex(msg, &pos, " bfar=", CM3_SCB_BFAR);
    msg[pos++] = '\n';
    msg[pos] = '\0';
    semihost_write0(msg);
    semihost_exit(STARTUP_FAULT_EXIT_STATUS);
}

/* Naked: EXC_RETURN bit 2 tells which stack holds the exception frame (0 =
 * MSP, 1 = PSP); pass that pointer and EXC_RETURN to the C reporter. */
void HardFault_Handler(void)
{
    __asm__ volatile(
        "tst   lr, #4\n\t"
        "ite   eq\n\t"
        "mrseq r0, msp\n\t"
        "mrsne r0, psp\n\t"
        "mov   r1, lr\n\t"
        "b     startup_fault_report\n\t");
}

/* Any exception or IRQ without a handler: an enabled interrupt nobody wired
 * would otherwise re-enter forever. */
void Default_Handler(void)
{
    static char msg[48];
    unsigned pos = 0;
    startup_append_hex(msg, &pos, "UNHANDLED EXCEPTION ", cm3_active_exception());
    msg[pos++] = '\n';
    msg[pos] = '\0';
    semihost_write0(msg);
    semihost_exit(STARTUP_FAULT_EXIT_STATUS);
}
