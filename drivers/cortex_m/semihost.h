/* semihost.h - ARM semihosting calls (bkpt 0xAB, the M-profile trap).
 *
 * Needs QEMU's `-semihosting-config enable=on,target=native`; without it the
 * bkpt hangs the guest (measured, see /work/shared/QEMU.md), and on real
 * hardware without a debugger it escalates to HardFault/lockup.  So: test,
 * exit and host-file paths only.
 *
 * Host paths are relative to QEMU's working directory.  All calls block the
 * guest while the host does the work.
 */
#ifndef SEMIHOST_H
#define SEMIHOST_H

#include <stddef.h>
#include <stdint.h>

/* SYS_OPEN modes (ARM semihosting spec, table "Value of mode"): the fopen()
 * mode strings "r", "rb", "r+", "r+b", "w", "wb", "w+", "w+b", "a", ... */
enum {
    SEMIHOST_MODE_R    = 0,
    SEMIHOST_MODE_RB   = 1,
    SEMIHOST_MODE_RP   = 2,  /* "r+" */
    SEMIHOST_MODE_RPB  = 3,  /* "r+b": read/write an existing file */
    SEMIHOST_MODE_W    = 4,
    SEMIHOST_MODE_WB   = 5,
    SEMIHOST_MODE_WP   = 6,  /* "w+" */
    SEMIHOST_MODE_WPB  = 7,  /* "w+b": create/truncate, read/write */
    SEMIHOST_MODE_A    = 8,
    SEMIHOST_MODE_AB   = 9,
    SEMIHOST_MODE_AP   = 10,
    SEMIHOST_MODE_APB  = 11
};

/* Stop the machine; the QEMU process exits with `status` (0..255 seen by the
 * shell).  Uses SYS_EXIT_EXTENDED with ADP_Stopped_ApplicationExit because
 * plain SYS_EXIT only yields 0 or 1.  Never returns. */
void semihost_exit(int status) __attribute__((noreturn));

/* Write a NUL-terminated string to the host's stderr/console (SYS_WRITE0).
 * Safe from any context, including fault handlers. */
void semihost_write0(const char *s);

/* Open a host file; path is NUL-terminated, mode one of SEMIHOST_MODE_*.
 * Returns a handle >= 0, or -1 on failure. */
int semihost_open(const char *path, int mode);

/* Close a handle from semihost_open(); 0 on success, -1 on failure. */
int semihost_close(int fh);

/* Read up to len bytes at the current position.  Returns the number of bytes
 * read (0 at end of file), or -1 on error. */
int32_t semihost_read(int fh, void *buf, size_t len);

/* Write len bytes at the current position.  Returns the number of bytes
 * written (short only on host error), or -1 on error. */
int32_t semihost_write(int fh, const void *buf, size_t len);

/* Move to absolute byte position pos.  0 on success, -1 on failure. */
int semihost_seek(int fh, uint32_t pos);

/* Length of the file in bytes, or -1 on error. */
int32_t semihost_flen(int fh);

#endif /* SEMIHOST_H */
