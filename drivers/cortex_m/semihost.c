/* semihost.c - ARM semihosting calls (see semihost.h). */
#include "semihost.h"

/* Operation numbers: ARM "Semihosting for AArch32 and AArch64", v2.0. */
#define SYS_OPEN          0x01u
#define SYS_CLOSE         0x02u
#define SYS_WRITE0        0x04u
#define SYS_WRITE         0x05u
#define SYS_READ          0x06u
#define SYS_SEEK          0x0Au
#define SYS_FLEN          0x0Cu
#define SYS_EXIT          0x18u
#define SYS_EXIT_EXTENDED 0x20u

#define ADP_STOPPED_APPLICATION_EXIT 0x20026u

/* On M-profile the trap is `bkpt 0xAB` (not svc): r0 = operation, r1 = pointer
 * to the parameter block; the result comes back in r0.  The "memory" clobber
 * makes the compiler store the block (and any buffer) before the call and
 * reload buffers the host filled afterwards. */
static int32_t semihost_call(uint32_t op, const void *arg)
{
    register uint32_t r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return (int32_t)r0;
}

void semihost_exit(int status)
{
    const uint32_t block[2] = { ADP_STOPPED_APPLICATION_EXIT, (uint32_t)status };
    (void)semihost_call(SYS_EXIT_EXTENDED, block);
    /* Only reached if the host lacks SYS_EXIT_EXTENDED: on AArch32 plain
     * SYS_EXIT takes the reason code itself in r1 (no status). */
    (void)semihost_call(SYS_EXIT, (const void *)(uintptr_t)ADP_STOPPED_APPLICATION_EXIT);
    for (;;) {
        __asm__ volatile("wfi");
    }
}

void semihost_write0(const char *s)
{
    (void)semihost_call(SYS_WRITE0, s);
}

int semihost_open(const char *path, int mode)
{
    size_t len = 0;
    while (path[len] != '\0') {
        len++;
    }
    /* The length excludes the NUL, but the string must still be terminated. */
    const uint32_t block[3] = { (uint32_t)(uintptr_t)path, (uint32_t)mode, (uint32_t)len };
    int32_t fh = semihost_call(SYS_OPEN, block);
    return fh < 0 ? -1 : (int)fh;
}

int semihost_close(int fh)
{
    const uint32_t block[1] = { (uint32_t)fh };
    return semihost_call(SYS_CLOSE, block) == 0 ? 0 : -1;
}

int32_t semihost_read(int fh, void *buf, size_t len)
{
    const uint32_t block[3] = { (uint32_t)fh, (uint32_t)(uintptr_t)buf, (uint32_t)len };
    /* SYS_READ returns the number of bytes NOT read; more than len = error. */
    uint32_t left = (uint32_t)semihost_call(SYS_READ, block);
    if (left > len) {
        return -1;
    }
    return (int32_t)(len - left);
}

int32_t semihost_write(int fh, const void *buf, size_t len)
{
    const uint32_t block[3] = { (uint32_t)fh, (uint32_t)(uintptr_t)buf, (uint32_t)len };
    /* SYS_WRITE also returns the number of bytes NOT written. */
    uint32_t left = (uint32_t)semihost_call(SYS_WRITE, block);
    if (left > len) {
        return -1;
    }
    return (int32_t)(len - left);
}

int semihost_seek(int fh, uint32_t pos)
{
    const uint32_t block[2] = { (uint32_t)fh, pos };
    return semihost_call(SYS_SEEK, block) == 0 ? 0 : -1;
}

int32_t semihost_flen(int fh)
{
    const uint32_t block[1] = { (uint32_t)fh };
    int32_t n = semihost_call(SYS_FLEN, block);
    return n < 0 ? -1 : n;
}
