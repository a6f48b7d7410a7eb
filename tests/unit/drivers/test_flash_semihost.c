/* unit: drivers/flash/flash_semihost.c */
/* The semihosted NOR flash against a fake semihosting host (a RAM file, so
 * no bkpt runs): the board's config is checked, a missing file is created
 * and a short one extended with 0xFF, program ANDs through the bounce buffer
 * (also across its 256-byte size), erase writes 0xFF over one sector only,
 * and host I/O errors come back as FLASH_ERR_IO. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "cortex_m/semihost.h"
#include "flash/flash_semihost.h"

#define SECTOR 4096u
#define SIZE   (4u * SECTOR)

/* ---- fake host: one file ------------------------------------------------- */

static uint8_t host_file[SIZE + SECTOR];
static uint32_t host_len;
static bool host_exists;
static uint32_t host_pos;
static bool host_open;
static int host_fail_write;   /* fail the nth write from now (1 = next), 0 = never */
static char host_path[32];

void semihost_exit(int status)
{
    (void)status;
    fail_msg("semihost_exit called");
    for (;;) {
    }
}

void semihost_write0(const char *s)
{
    (void)s;
}

int semihost_open(const char *path, int mode)
{
    assert_false(host_open);
    snprintf(host_path, sizeof(host_path), "%s", path);
    if (mode == SEMIHOST_MODE_RPB) {
        if (!host_exists) {
            return -1;
        }
    } else {
        assert_int_equal(mode, SEMIHOST_MODE_WPB);
        host_exists = true;
        host_len = 0;
    }
    host_open = true;
    host_pos = 0;
    return 5;
}

int semihost_close(int fh)
{
    assert_int_equal(fh, 5);
    host_open = false;
    return 0;
}

int32_t semihost_read(int fh, void *buf, size_t len)
{
    assert_int_equal(fh, 5);
    size_t n = host_pos < host_len ? host_len - host_pos : 0;
    n = n < len ? n : len;
    memcpy(buf, &host_file[host_pos], n);
    host_pos += (uint32_t)n;
    return (int32_t)n;
}

int32_t semihost_write(int fh, const void *buf, size_t len)
{
    assert_int_equal(fh, 5);
    if (host_fail_write != 0 && --host_fail_write == 0) {
        return -1;
    }
    assert_true(host_pos + len <= sizeof(host_file));
    memcpy(&host_file[host_pos], buf, len);
    host_pos += (uint32_t)len;
    if (host_pos > host_len) {
        host_len = host_pos;
    }
    return (int32_t)len;
}

int semihost_seek(int fh, uint32_t pos)
{
    assert_int_equal(fh, 5);
    host_pos = pos;
    return 0;
}

int32_t semihost_flen(int fh)
{
    assert_int_equal(fh, 5);
    return (int32_t)host_len;
}

static int setup(void **state)
{
    (void)state;
    memset(host_file, 0xA5, sizeof(host_file));
    host_len = 0;
    host_exists = false;
    host_open = false;
    host_fail_write = 0;
    return 0;
}

/* ---- tests --------------------------------------------------------------- */

static const flash_semihost_config_t cfg = { "flash.img", SIZE, SECTOR };

static bool all_value(const uint8_t *p, size_t n, uint8_t v)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] != v) {
            return false;
        }
    }
    return true;
}

static void test_bad_config(void **state)
{
    (void)state;
    flash_semihost_t f;
    const flash_semihost_config_t no_path = { NULL, SIZE, SECTOR };
    const flash_semihost_config_t no_size = { "x", 0, SECTOR };
    const flash_semihost_config_t odd_sector = { "x", SIZE, 3000u };
    const flash_semihost_config_t partial = { "x", SIZE + 512u, SECTOR };
    assert_int_equal(flash_semihost_open(&f, NULL), FLASH_ERR_ARG);
    assert_int_equal(flash_semihost_open(NULL, &cfg), FLASH_ERR_ARG);
    assert_int_equal(flash_semihost_open(&f, &no_path), FLASH_ERR_ARG);
    assert_int_equal(flash_semihost_open(&f, &no_size), FLASH_ERR_ARG);
    assert_int_equal(flash_semihost_open(&f, &odd_sector), FLASH_ERR_ARG);
    assert_int_equal(flash_semihost_open(&f, &partial), FLASH_ERR_ARG);
    assert_false(host_exists);   /* nothing was created */
}

static void test_create_blank(void **state)
{
    (void)state;
    flash_semihost_t f;
    assert_int_equal(flash_semihost_open(&f, &cfg), FLASH_OK);
    assert_string_equal(host_path, "flash.img");
    assert_int_equal(host_len, SIZE);
    assert_true(all_value(host_file, SIZE, 0xFF));
    flash_dev_t *d = flash_semihost_dev(&f);
    assert_int_equal(d->size, SIZE);
    assert_int_equal(d->sector_size, SECTOR);
    assert_int_equal(d->prog_size, 1);
    flash_semihost_close(&f);
    assert_false(host_open);
    /* closed: every access is an I/O error */
    uint8_t b;
    assert_int_equal(flash_read(d, 0, &b, 1), FLASH_ERR_IO);
}

static void test_extend_short_keeps_contents(void **state)
{
    (void)state;
    host_exists = true;
    host_len = SECTOR + 10u;
    memset(host_file, 0x3C, host_len);
    flash_semihost_t f;
    assert_int_equal(flash_semihost_open(&f, &cfg), FLASH_OK);
    assert_int_equal(host_len, SIZE);
    assert_true(all_value(host_file, SECTOR + 10u, 0x3C));
    assert_true(all_value(host_file + SECTOR + 10u, SIZE - SECTOR - 10u, 0xFF));
    flash_semihost_close(&f);
}

static void test_program_ands_and_erase(void **state)
{
    (void)state;
    flash_semihost_t f;
    assert_int_equal(flash_semihost_open(&f, &cfg), FLASH_OK);
    flash_dev_t *d = flash_semihost_dev(&f);
    /* 600 bytes across a sector boundary: more than one bounce buffer */
    uint8_t a[600], b[600], out[600];
    for (unsigned i = 0; i < sizeof(a); i++) {
        a[i] = (uint8_t)(0xF0u | (i & 0x0Fu));
        b[i] = (uint8_t)(0x0Fu | (i << 4));
    }
    uint32_t off = SECTOR - 300u;
    assert_int_equal(flash_program(d, off, a, sizeof(a)), FLASH_OK);
    assert_int_equal(flash_program(d, off, b, sizeof(b)), FLASH_OK);
    assert_int_equal(flash_read(d, off, out, sizeof(out)), FLASH_OK);
    for (unsigned i = 0; i < sizeof(out); i++) {
        assert_int_equal(out[i], a[i] & b[i]);   /* NOR: old AND new */
    }
    /* erase sector 1 only: sector 0's part stays programmed */
    assert_int_equal(flash_erase(d, 1), FLASH_OK);
    assert_true(all_value(host_file + SECTOR, SECTOR, 0xFF));
    assert_int_equal(memcmp(host_file + off, out, 300), 0);
    assert_int_equal(flash_erase(d, SIZE / SECTOR), FLASH_ERR_ARG);
    flash_semihost_close(&f);
}

static void test_host_write_error(void **state)
{
    (void)state;
    flash_semihost_t f;
    host_fail_write = 3;   /* creation fills with 0xFF in 256-byte writes */
    assert_int_equal(flash_semihost_open(&f, &cfg), FLASH_ERR_IO);
    assert_false(host_open);   /* closed again */
    assert_int_equal(flash_semihost_open(&f, &cfg), FLASH_OK);
    host_fail_write = 1;
    uint8_t z = 0;
    assert_int_equal(flash_program(flash_semihost_dev(&f), 0, &z, 1), FLASH_ERR_IO);
    flash_semihost_close(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_bad_config, setup),
        cmocka_unit_test_setup(test_create_blank, setup),
        cmocka_unit_test_setup(test_extend_short_keeps_contents, setup),
        cmocka_unit_test_setup(test_program_ands_and_erase, setup),
        cmocka_unit_test_setup(test_host_write_error, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
