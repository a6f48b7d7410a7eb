/* flash_semihost.h - NOR flash on a host file through semihosting (mps2-an385).
 *
 * QEMU's mps2-an385 has no data flash that persists, so the board keeps its
 * "flash" in a file on the host, reached with semihosting SYS_OPEN/READ/
 * WRITE/SEEK/FLEN (QEMU `-semihosting-config enable=on,target=native`; the
 * path is relative to QEMU's working directory).  NOR semantics as in
 * flash.h: program ANDs into the old bytes (read-modify-write through a
 * static 256-byte bounce buffer, no heap), erase writes 0xFF.
 *
 * The file is opened "r+b"; when that fails (no file) it is created with
 * "w+b" and filled with 0xFF, and a short file is extended with 0xFF.  Every
 * call blocks the guest while the host works: creating the 1 MiB default
 * costs 4096 writes of 256 bytes, once.
 *
 * Only for QEMU (or a debugger): without a semihosting host the bkpt hangs
 * or faults, see semihost.h.
 */
#ifndef FLASH_SEMIHOST_H
#define FLASH_SEMIHOST_H

#include <stdint.h>

#include "flash/flash.h"

#ifndef FLASH_SEMIHOST_SIZE
/* bytes: the board's data flash, 1 MiB: config partition 2 x 4 KiB sectors,
 * message store ~1000 KiB, the rest spare. */
#define FLASH_SEMIHOST_SIZE (1024u * 1024u)
#endif

#ifndef FLASH_SEMIHOST_SECTOR_SIZE
/* bytes: erase unit, 4 KiB like common SPI NOR parts (the config slot size). */
#define FLASH_SEMIHOST_SECTOR_SIZE 4096u
#endif

typedef struct flash_semihost {
    flash_dev_t dev;        /* first member: the ops cast back to flash_semihost_t */
    int fh;                 /* semihosting handle, -1 when closed */
} flash_semihost_t;

/* Open (create/extend with 0xFF) host file `path` as a device of `size`
 * bytes with `sector_size` sectors (0 = the FLASH_SEMIHOST_* defaults).
 * FLASH_OK, FLASH_ERR_ARG, or FLASH_ERR_IO. */
int flash_semihost_open(flash_semihost_t *f, const char *path, uint32_t size, uint32_t sector_size);

/* The device to hand to flash_* / flash_part_t. */
flash_dev_t *flash_semihost_dev(flash_semihost_t *f);

void flash_semihost_close(flash_semihost_t *f);

#endif /* FLASH_SEMIHOST_H */
