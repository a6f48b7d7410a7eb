/* flash_file.h - NOR flash on a regular file (host board).
 *
 * The file is the medium: it survives the process, like flash survives a
 * reboot.  A missing or short file is created/extended with 0xFF (erased);
 * a longer one is used as is (only the first `size` bytes).  Program ANDs the
 * new bytes into the old ones, as NOR does (a 1 over a 0 has no effect, no
 * error); erase writes 0xFF over the sector.  Writes go straight to the file
 * with pwrite (no fsync: a crash of the process keeps them, a crash of the
 * host machine may not).
 */
#ifndef FLASH_FILE_H
#define FLASH_FILE_H

#include <stdint.h>

#include "flash.h"

#ifndef FLASH_FILE_SIZE
/* bytes: default device size when the caller passes 0 (the host board
 * passes its own, the same 1 MiB as mps2-an385). */
#define FLASH_FILE_SIZE (1024u * 1024u)
#endif

#ifndef FLASH_FILE_SECTOR_SIZE
/* bytes: erase unit; 4 KiB like the common SPI NOR parts (and mps2's image) */
#define FLASH_FILE_SECTOR_SIZE 4096u
#endif

typedef struct flash_file {
    flash_dev_t dev;        /* first member: the ops cast back to flash_file_t */
    int fd;                 /* -1 when closed */
} flash_file_t;

/* Open (create/extend with 0xFF) `path` as a device of `size` bytes with
 * `sector_size` sectors (a power of two dividing size); 0 for either means
 * the FLASH_FILE_* default.
 * FLASH_OK, FLASH_ERR_ARG, or FLASH_ERR_IO (errno says why). */
int flash_file_open(flash_file_t *f, const char *path, uint32_t size, uint32_t sector_size);

/* The device to hand to flash_* / flash_part_t. */
flash_dev_t *flash_file_dev(flash_file_t *f);

void flash_file_close(flash_file_t *f);

#endif /* FLASH_FILE_H */
