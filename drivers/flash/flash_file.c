/* flash_file.c - NOR flash on a regular file (see flash_file.h). */
#include "flash_file.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Bytes moved per pread/pwrite in program and erase; on the stack. */
#define FLASH_FILE_CHUNK 256u

static int full_pread(int fd, void *buf, size_t len, off_t off)
{
    uint8_t *p = buf;

    while (len != 0) {
        ssize_t n = pread(fd, p, len, off);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return FLASH_ERR_IO;   /* 0: the file shrank under us */
        }
        p += n;
        len -= (size_t)n;
        off += n;
    }
    return FLASH_OK;
}

static int full_pwrite(int fd, const void *buf, size_t len, off_t off)
{
    const uint8_t *p = buf;

    while (len != 0) {
        ssize_t n = pwrite(fd, p, len, off);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return FLASH_ERR_IO;
        }
        p += n;
        len -= (size_t)n;
        off += n;
    }
    return FLASH_OK;
}

/* Write 0xFF over [off, off+len). */
static int fill_ff(int fd, off_t off, size_t len)
{
    uint8_t ff[FLASH_FILE_CHUNK];

    memset(ff, 0xFF, sizeof(ff));
    while (len != 0) {
        size_t n = len < sizeof(ff) ? len : sizeof(ff);
        if (full_pwrite(fd, ff, n, off) != FLASH_OK) {
            return FLASH_ERR_IO;
        }
        off += (off_t)n;
        len -= n;
    }
    return FLASH_OK;
}

static int file_read(flash_dev_t *dev, uint32_t off, void *buf, size_t len)
{
    flash_file_t *f = (flash_file_t *)dev;

    return f->fd < 0 ? FLASH_ERR_IO : full_pread(f->fd, buf, len, (off_t)off);
}

static int file_program(flash_dev_t *dev, uint32_t off, const void *buf, size_t len)
{
    flash_file_t *f = (flash_file_t *)dev;
    const uint8_t *src = buf;
    uint8_t cur[FLASH_FILE_CHUNK];

    if (f->fd < 0) {
        return FLASH_ERR_IO;
    }
    while (len != 0) {
        size_t n = len < sizeof(cur) ? len : sizeof(cur);
        if (full_pread(f->fd, cur, n, (off_t)off) != FLASH_OK) {
            return FLASH_ERR_IO;
        }
        for (size_t i = 0; i < n; i++) {
            cur[i] &= src[i];   /* NOR: programming only clears bits */
        }
        if (full_pwrite(f->fd, cur, n, (off_t)off) != FLASH_OK) {
            return FLASH_ERR_IO;
        }
        src += n;
        off += (uint32_t)n;
        len -= n;
    }
    return FLASH_OK;
}

static int file_erase(flash_dev_t *dev, uint32_t sector)
{
    flash_file_t *f = (flash_file_t *)dev;

    if (f->fd < 0) {
        return FLASH_ERR_IO;
    }
    return fill_ff(f->fd, (off_t)((uint64_t)sector * dev->sector_size), dev->sector_size);
}

static const flash_ops_t file_ops = {
    .read = file_read,
    .program = file_program,
    .erase = file_erase,
};

int flash_file_open(flash_file_t *f, const char *path, uint32_t size, uint32_t sector_size)
{
    if (f == NULL) {
        return FLASH_ERR_ARG;
    }
    f->fd = -1;
    if (size == 0) {
        size = FLASH_FILE_SIZE;
    }
    if (sector_size == 0) {
        sector_size = FLASH_FILE_SECTOR_SIZE;
    }
    if (path == NULL || (sector_size & (sector_size - 1u)) != 0 || size % sector_size != 0) {
        return FLASH_ERR_ARG;
    }
    /* O_CLOEXEC: the host board's reboot re-execs the process, which opens
     * the file again; the old descriptor must not leak into it. */
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        return FLASH_ERR_IO;
    }
    /* A new or short file: the missing part is erased flash. */
    struct stat st;
    int r = fstat(fd, &st) == 0 ? FLASH_OK : FLASH_ERR_IO;
    if (r == FLASH_OK && st.st_size < (off_t)size) {
        r = fill_ff(fd, st.st_size, (size_t)((off_t)size - st.st_size));
    }
    if (r != FLASH_OK) {
        int e = errno;
        (void)close(fd);
        errno = e;
        return r;
    }
    memset(&f->dev, 0, sizeof(f->dev));
    f->dev.ops = &file_ops;
    f->dev.name = "file";
    f->dev.size = size;
    f->dev.sector_size = sector_size;
    f->dev.prog_size = 1;
    f->fd = fd;
    return FLASH_OK;
}

flash_dev_t *flash_file_dev(flash_file_t *f)
{
    return &f->dev;
}

void flash_file_close(flash_file_t *f)
{
    if (f != NULL && f->fd >= 0) {
        (void)close(f->fd);
        f->fd = -1;
    }
}
