/* flash.h - the NOR flash contract: devices, backends and partitions.
 *
 * NOR semantics, which every user of this interface must respect:
 *  - erase works on whole sectors and sets every byte of the sector to 0xFF;
 *  - program can only clear bits (1 -> 0).  Programming a 1 over a 0 is an
 *    error on backends that detect it (flash_sim: FLASH_ERR_NOR) and has no
 *    effect on the others (flash_file, flash_semihost, real parts: the result
 *    is old AND new).  So: erase, then program each byte at most once (0xFF
 *    padding over still-erased bytes is fine), and read back if it matters;
 *  - program offset and length are multiples of prog_size (1 on every backend
 *    of this project; parts with ECC words need 4, 8 or 16);
 *  - a power cut during program or erase leaves the bytes concerned in an
 *    undefined mix of old and new: data structures on flash must detect that
 *    (CRC, commit record written last; see firmware/lib/twoslot.h).
 *
 * A backend (flash_sim.h, flash_file.h, flash_semihost.h) embeds flash_dev_t
 * as the FIRST member of its own state struct and fills ops and geometry; the
 * ops receive that flash_dev_t pointer and cast it back.
 *
 * A partition (flash_part_t) is a named, sector-aligned window of one device.
 * Users address it with partition-relative offsets and sector indexes through
 * flash_part_read/program/erase_sector, which bounds-check every access, so a
 * bug in one user cannot touch another partition.
 *
 * Everything here is synchronous and single-threaded (NO_SYS=1 main loop);
 * never call from interrupt context.  No heap: backends take their storage
 * from the caller.
 */
#ifndef FLASH_H
#define FLASH_H

#include <stddef.h>
#include <stdint.h>

/* ---- errors ------------------------------------------------------------ */

#define FLASH_OK         0
#define FLASH_ERR_ARG   (-1)  /* NULL, out of range, misaligned, bad partition */
#define FLASH_ERR_IO    (-2)  /* backend I/O failure (host file, semihosting) */
#define FLASH_ERR_NOR   (-3)  /* program would set a bit 0 -> 1 (flash_sim only) */
#define FLASH_ERR_POWER (-4)  /* power lost: nothing works until power returns (flash_sim) */

/* ---- device ------------------------------------------------------------ */

typedef struct flash_dev flash_dev_t;

/* Backend operations.  The flash_* wrappers below have already checked the
 * arguments (range, alignment, non-NULL buffers, len > 0), so backends only
 * do the work.  Each returns FLASH_OK or a negative FLASH_ERR_*. */
typedef struct flash_ops {
    int (*read)(flash_dev_t *dev, uint32_t off, void *buf, size_t len);
    int (*program)(flash_dev_t *dev, uint32_t off, const void *buf, size_t len);
    int (*erase)(flash_dev_t *dev, uint32_t sector);   /* device sector index */
} flash_ops_t;

struct flash_dev {
    const flash_ops_t *ops;
    const char *name;       /* for `show flash` and logs */
    uint32_t size;          /* bytes; a multiple of sector_size */
    uint32_t sector_size;   /* bytes; erase unit, a power of two */
    uint32_t prog_size;     /* bytes; program granularity, a power of two <= sector_size */
};

/* Overflow-safe "[off, off+len) lies within [0, limit)". */
static inline int flash_range_ok(uint32_t off, size_t len, uint32_t limit)
{
    return off <= limit && len <= (size_t)(limit - off);
}

static inline int flash_read(flash_dev_t *dev, uint32_t off, void *buf, size_t len)
{
    if (dev == NULL || dev->ops == NULL || (buf == NULL && len != 0) ||
        !flash_range_ok(off, len, dev->size)) {
        return FLASH_ERR_ARG;
    }
    return len == 0 ? FLASH_OK : dev->ops->read(dev, off, buf, len);
}

static inline int flash_program(flash_dev_t *dev, uint32_t off, const void *buf, size_t len)
{
    if (dev == NULL || dev->ops == NULL || (buf == NULL && len != 0) ||
        !flash_range_ok(off, len, dev->size) || dev->prog_size == 0 ||
        off % dev->prog_size != 0 || len % dev->prog_size != 0) {
        return FLASH_ERR_ARG;
    }
    return len == 0 ? FLASH_OK : dev->ops->program(dev, off, buf, len);
}

static inline int flash_erase(flash_dev_t *dev, uint32_t sector)
{
    if (dev == NULL || dev->ops == NULL || dev->sector_size == 0 ||
        sector >= dev->size / dev->sector_size) {
        return FLASH_ERR_ARG;
    }
    return dev->ops->erase(dev, sector);
}

/* ---- partitions -------------------------------------------------------- */

/* A named window of a device.  offset and size are multiples of the device's
 * sector size, so erasing a partition sector never touches a neighbour.
 * Boards define their table as `static const flash_part_t`, expanded from
 * the one layout every board shares (firmware/include/flash_layout.h). */
typedef struct flash_part {
    const char *name;       /* "config", "store", ... */
    flash_dev_t *dev;
    uint32_t offset;        /* bytes from the start of the device */
    uint32_t size;          /* bytes */
} flash_part_t;

/* FLASH_OK when part is usable: device set, sector-aligned, within the device. */
static inline int flash_part_check(const flash_part_t *part)
{
    if (part == NULL || part->dev == NULL || part->dev->ops == NULL ||
        part->dev->sector_size == 0 || part->size == 0 ||
        part->offset % part->dev->sector_size != 0 ||
        part->size % part->dev->sector_size != 0 ||
        !flash_range_ok(part->offset, part->size, part->dev->size)) {
        return FLASH_ERR_ARG;
    }
    return FLASH_OK;
}

static inline uint32_t flash_part_sector_size(const flash_part_t *part)
{
    return part->dev->sector_size;
}

static inline uint32_t flash_part_prog_size(const flash_part_t *part)
{
    return part->dev->prog_size;
}

static inline uint32_t flash_part_sectors(const flash_part_t *part)
{
    return part->size / part->dev->sector_size;
}

/* Partition-relative access: off is from the start of the partition. */
static inline int flash_part_read(const flash_part_t *part, uint32_t off, void *buf, size_t len)
{
    if (flash_part_check(part) != FLASH_OK || !flash_range_ok(off, len, part->size)) {
        return FLASH_ERR_ARG;
    }
    return flash_read(part->dev, part->offset + off, buf, len);
}

static inline int flash_part_program(const flash_part_t *part, uint32_t off, const void *buf,
                                     size_t len)
{
    if (flash_part_check(part) != FLASH_OK || !flash_range_ok(off, len, part->size)) {
        return FLASH_ERR_ARG;
    }
    return flash_program(part->dev, part->offset + off, buf, len);
}

/* sector: index within the partition (0 = its first sector). */
static inline int flash_part_erase_sector(const flash_part_t *part, uint32_t sector)
{
    if (flash_part_check(part) != FLASH_OK || sector >= flash_part_sectors(part)) {
        return FLASH_ERR_ARG;
    }
    return flash_erase(part->dev, part->offset / part->dev->sector_size + sector);
}

/* A partition of a board's table by name, or NULL. */
static inline const flash_part_t *flash_part_find(const flash_part_t *parts, unsigned n, const char *name)
{
    for (unsigned i = 0; i < n; i++) {
        const char *a = parts[i].name, *b = name;
        while (*a != 0 && *a == *b) {
            a++;
            b++;
        }
        if (*a == *b) {
            return &parts[i];
        }
    }
    return NULL;
}

#endif /* FLASH_H */
