/* flash_semihost.c - NOR flash on a host file through semihosting (see flash_semihost.h). */
#include "flash_semihost.h"

#include <string.h>

#include "cortex_m/semihost.h"

/* Bounce buffer for read-modify-write and 0xFF fills: static because the
 * main loop's stack is small, shared because everything is single-threaded. */
#define FLASH_SEMIHOST_BOUNCE 256u
static uint8_t bounce[FLASH_SEMIHOST_BOUNCE];

static int sh_read_at(int fh, uint32_t off, void *buf, size_t len)
{
    if (semihost_seek(fh, off) != 0) {
        return FLASH_ERR_IO;
    }
    /* A short read means the file shrank under us: an I/O error. */
    return semihost_read(fh, buf, len) == (int32_t)len ? FLASH_OK : FLASH_ERR_IO;
}

static int sh_write_at(int fh, uint32_t off, const void *buf, size_t len)
{
    if (semihost_seek(fh, off) != 0) {
        return FLASH_ERR_IO;
    }
    return semihost_write(fh, buf, len) == (int32_t)len ? FLASH_OK : FLASH_ERR_IO;
}

/* Write 0xFF over [off, off+len). */
static int sh_fill_ff(int fh, uint32_t off, uint32_t len)
{
    memset(bounce, 0xFF, sizeof(bounce));
    if (semihost_seek(fh, off) != 0) {
        return FLASH_ERR_IO;
    }
    while (len != 0) {
        uint32_t n = len < sizeof(bounce) ? len : (uint32_t)sizeof(bounce);
        if (semihost_write(fh, bounce, n) != (int32_t)n) {
            return FLASH_ERR_IO;
        }
        len -= n;
    }
    return FLASH_OK;
}

static int sh_read(flash_dev_t *dev, uint32_t off, void *buf, size_t len)
{
    flash_semihost_t *f = (flash_semihost_t *)dev;

    return f->fh < 0 ? FLASH_ERR_IO : sh_read_at(f->fh, off, buf, len);
}

static int sh_program(flash_dev_t *dev, uint32_t off, const void *buf, size_t len)
{
    flash_semihost_t *f = (flash_semihost_t *)dev;
    const uint8_t *src = buf;

    if (f->fh < 0) {
        return FLASH_ERR_IO;
    }
    while (len != 0) {
        size_t n = len < sizeof(bounce) ? len : sizeof(bounce);
        if (sh_read_at(f->fh, off, bounce, n) != FLASH_OK) {
            return FLASH_ERR_IO;
        }
        /* NOR: programming only clears bits.  A word at a time: the store
         * programs every record through here, and a byte-wise loop cost
         * about 6 instructions per octet (an artefact of this board: real
         * NOR does the AND itself). */
        size_t i = 0;
        for (; n - i >= 4; i += 4) {
            uint32_t a, b;
            memcpy(&a, bounce + i, sizeof(a));
            memcpy(&b, src + i, sizeof(b));
            a &= b;
            memcpy(bounce + i, &a, sizeof(a));
        }
        for (; i < n; i++) {
            bounce[i] &= src[i];
        }
        if (sh_write_at(f->fh, off, bounce, n) != FLASH_OK) {
            return FLASH_ERR_IO;
        }
        src += n;
        off += (uint32_t)n;
        len -= n;
    }
    return FLASH_OK;
}

static int sh_erase(flash_dev_t *dev, uint32_t sector)
{
    flash_semihost_t *f = (flash_semihost_t *)dev;

    if (f->fh < 0) {
        return FLASH_ERR_IO;
    }
    return sh_fill_ff(f->fh, sector * dev->sector_size, dev->sector_size);
}

static const flash_ops_t sh_ops = {
    .read = sh_read,
    .program = sh_program,
    .erase = sh_erase,
};

int flash_semihost_open(flash_semihost_t *f, const flash_semihost_config_t *cfg)
{
    if (f == NULL || cfg == NULL) {
        return FLASH_ERR_ARG;
    }
    f->fh = -1;
    const char *path = cfg->path;
    uint32_t size = cfg->size, sector_size = cfg->sector_size;
    if (path == NULL || size == 0 || sector_size == 0 || (sector_size & (sector_size - 1u)) != 0 ||
        size % sector_size != 0) {
        return FLASH_ERR_ARG;
    }
    /* "r+b" keeps what the previous run stored; it fails only when the file
     * does not exist, and then "w+b" creates it (truncating nothing). */
    int fh = semihost_open(path, SEMIHOST_MODE_RPB);
    int32_t have = 0;
    if (fh < 0) {
        fh = semihost_open(path, SEMIHOST_MODE_WPB);
        if (fh < 0) {
            return FLASH_ERR_IO;
        }
    } else {
        have = semihost_flen(fh);
        if (have < 0) {
            (void)semihost_close(fh);
            return FLASH_ERR_IO;
        }
    }
    if ((uint32_t)have < size && sh_fill_ff(fh, (uint32_t)have, size - (uint32_t)have) != FLASH_OK) {
        (void)semihost_close(fh);
        return FLASH_ERR_IO;
    }
    memset(&f->dev, 0, sizeof(f->dev));
    f->dev.ops = &sh_ops;
    f->dev.name = "semihost";
    f->dev.size = size;
    f->dev.sector_size = sector_size;
    f->dev.prog_size = 1;
    f->fh = fh;
    return FLASH_OK;
}

flash_dev_t *flash_semihost_dev(flash_semihost_t *f)
{
    return &f->dev;
}

void flash_semihost_close(flash_semihost_t *f)
{
    if (f != NULL && f->fh >= 0) {
        (void)semihost_close(f->fh);
        f->fh = -1;
    }
}
