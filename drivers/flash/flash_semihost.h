/* flash_semihost.h - NOR flash on a host file through ARM semihosting.
 *
 * QEMU's mps2-an385 has no data flash that persists, so the board keeps its
 * "flash" in a file on the host, reached with semihosting SYS_OPEN/READ/
 * WRITE/SEEK/FLEN (QEMU `-semihosting-config enable=on,target=native`; the
 * path is relative to QEMU's working directory).  NOR semantics as in
 * flash.h: program ANDs into the old bytes (read-modify-write through a
 * static 256-byte bounce buffer, no heap), erase writes 0xFF.
 *
 * The board passes its geometry and the file's path in a const
 * flash_semihost_config_t.  The file is opened "r+b"; when that fails (no
 * file) it is created with "w+b" and filled with 0xFF, and a short file is
 * extended with 0xFF.  Every call blocks the guest while the host works:
 * creating a 1 MiB image costs 4096 writes of 256 bytes, once.
 *
 * Only for QEMU (or a debugger): without a semihosting host the bkpt hangs
 * or faults, see drivers/cortex_m/semihost.h.
 */
#ifndef FLASH_SEMIHOST_H
#define FLASH_SEMIHOST_H

#include <stdint.h>

#include "flash.h"

/* The board's constant settings. */
typedef struct flash_semihost_config {
    const char *path;       /* host file, relative to QEMU's working directory */
    uint32_t size;          /* bytes; a non-zero multiple of sector_size */
    uint32_t sector_size;   /* bytes; erase unit, a power of two */
} flash_semihost_config_t;

typedef struct flash_semihost {
    flash_dev_t dev;        /* first member: the ops cast back to flash_semihost_t */
    int fh;                 /* semihosting handle, -1 when closed */
} flash_semihost_t;

/* Open (create/extend with 0xFF) the host file cfg->path as a device of
 * cfg->size bytes in cfg->sector_size sectors.
 * FLASH_OK, FLASH_ERR_ARG, or FLASH_ERR_IO. */
int flash_semihost_open(flash_semihost_t *f, const flash_semihost_config_t *cfg);

/* The device to hand to flash_* / flash_part_t. */
flash_dev_t *flash_semihost_dev(flash_semihost_t *f);

void flash_semihost_close(flash_semihost_t *f);

#endif /* FLASH_SEMIHOST_H */
