/* unit: drivers/flash/flash_file.c firmware/lib/twoslot.c firmware/lib/crc32.c */
/* Tests for the host board's file-backed NOR flash: creation and extension
 * with 0xFF, NOR program (AND) and erase, persistence across reopen, and a
 * configuration surviving a "reboot" through the two-slot store (lib/twoslot). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "lib/twoslot.h"
#include "flash/flash_file.h"

#define SECTOR 4096u
#define SIZE   (16u * SECTOR)

static char path[64];

static int setup(void **state)
{
    (void)state;
    snprintf(path, sizeof(path), "/tmp/test_flash_file.XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(unlink(path), 0);   /* start from "no file" */
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    (void)unlink(path);
    return 0;
}

static long file_size(void)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

static int all_value(const uint8_t *p, size_t n, uint8_t v)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] != v) {
            return 0;
        }
    }
    return 1;
}

static void test_create_blank(void **state)
{
    (void)state;
    flash_file_t f;
    static uint8_t buf[SIZE];

    assert_int_equal(flash_file_open(&f, path, SIZE, SECTOR), FLASH_OK);
    assert_int_equal(file_size(), SIZE);
    flash_dev_t *dev = flash_file_dev(&f);
    assert_int_equal(dev->size, SIZE);
    assert_int_equal(dev->sector_size, SECTOR);
    assert_int_equal(dev->prog_size, 1);
    assert_int_equal(flash_read(dev, 0, buf, SIZE), FLASH_OK);
    assert_true(all_value(buf, SIZE, 0xFF));
    assert_int_equal(flash_read(dev, SIZE - 1, buf, 2), FLASH_ERR_ARG);
    flash_file_close(&f);
    flash_file_close(&f);   /* twice is harmless */
}

static void test_defaults_and_args(void **state)
{
    (void)state;
    flash_file_t f;

    assert_int_equal(flash_file_open(&f, path, SIZE, 3000), FLASH_ERR_ARG);
    assert_int_equal(flash_file_open(&f, path, SIZE + 1, SECTOR), FLASH_ERR_ARG);
    assert_int_equal(flash_file_open(&f, NULL, SIZE, SECTOR), FLASH_ERR_ARG);
    assert_int_equal(flash_file_open(NULL, path, SIZE, SECTOR), FLASH_ERR_ARG);
    assert_int_equal(flash_file_open(&f, "/nonexistent-dir/x.img", SIZE, SECTOR), FLASH_ERR_IO);
    assert_int_equal(flash_file_open(&f, path, 0, 0), FLASH_OK);
    assert_int_equal(flash_file_dev(&f)->size, FLASH_FILE_SIZE);
    assert_int_equal(flash_file_dev(&f)->sector_size, FLASH_FILE_SECTOR_SIZE);
    assert_int_equal(file_size(), FLASH_FILE_SIZE);
    flash_file_close(&f);
    /* a closed device reports I/O errors, it does not crash */
    uint8_t b;
    assert_int_equal(flash_read(flash_file_dev(&f), 0, &b, 1), FLASH_ERR_IO);
    assert_int_equal(flash_erase(flash_file_dev(&f), 0), FLASH_ERR_IO);
}

static void test_program_and_erase(void **state)
{
    (void)state;
    flash_file_t f;
    uint8_t big[1000];
    uint8_t rd[1000];

    assert_int_equal(flash_file_open(&f, path, SIZE, SECTOR), FLASH_OK);
    flash_dev_t *dev = flash_file_dev(&f);

    /* program ANDs: a 1 over a 0 has no effect, and no error */
    const uint8_t a[3] = { 0xF0, 0x0F, 0x55 };
    const uint8_t b[3] = { 0x3C, 0xFF, 0xAA };
    assert_int_equal(flash_program(dev, 100, a, 3), FLASH_OK);
    assert_int_equal(flash_program(dev, 100, b, 3), FLASH_OK);
    assert_int_equal(flash_read(dev, 100, rd, 3), FLASH_OK);
    assert_int_equal(rd[0], 0x30);
    assert_int_equal(rd[1], 0x0F);
    assert_int_equal(rd[2], 0x00);

    /* a program longer than the internal chunk, across a sector boundary */
    for (size_t i = 0; i < sizeof(big); i++) {
        big[i] = (uint8_t)(i * 7u);
    }
    assert_int_equal(flash_program(dev, 2 * SECTOR - 500, big, sizeof(big)), FLASH_OK);
    assert_int_equal(flash_read(dev, 2 * SECTOR - 500, rd, sizeof(rd)), FLASH_OK);
    assert_memory_equal(rd, big, sizeof(big));

    /* erase exactly one sector */
    assert_int_equal(flash_erase(dev, 1), FLASH_OK);
    assert_int_equal(flash_read(dev, 2 * SECTOR - 500, rd, sizeof(rd)), FLASH_OK);
    assert_true(all_value(rd, 500, 0xFF));
    assert_memory_equal(rd + 500, big + 500, 500);
    assert_int_equal(flash_read(dev, 100, rd, 3), FLASH_OK);
    assert_int_equal(rd[0], 0x30);
    assert_int_equal(flash_erase(dev, SIZE / SECTOR), FLASH_ERR_ARG);
    flash_file_close(&f);
}

static void test_persistence_and_extension(void **state)
{
    (void)state;
    flash_file_t f;
    uint8_t rd[4];
    const uint8_t a[4] = { 1, 2, 3, 4 };

    assert_int_equal(flash_file_open(&f, path, SIZE, SECTOR), FLASH_OK);
    assert_int_equal(flash_program(flash_file_dev(&f), 10, a, 4), FLASH_OK);
    flash_file_close(&f);

    /* reopened: the contents are kept */
    assert_int_equal(flash_file_open(&f, path, SIZE, SECTOR), FLASH_OK);
    assert_int_equal(flash_read(flash_file_dev(&f), 10, rd, 4), FLASH_OK);
    assert_memory_equal(rd, a, 4);
    flash_file_close(&f);

    /* a short file keeps its bytes and gets 0xFF for the rest */
    assert_int_equal(truncate(path, 12), 0);
    assert_int_equal(flash_file_open(&f, path, SIZE, SECTOR), FLASH_OK);
    assert_int_equal(file_size(), SIZE);
    assert_int_equal(flash_read(flash_file_dev(&f), 10, rd, 4), FLASH_OK);
    assert_int_equal(rd[0], 1);
    assert_int_equal(rd[1], 2);
    assert_int_equal(rd[2], 0xFF);
    assert_int_equal(rd[3], 0xFF);
    flash_file_close(&f);

    /* a longer file is used as is (only its beginning) */
    assert_int_equal(flash_file_open(&f, path, SIZE / 2, SECTOR), FLASH_OK);
    assert_int_equal(file_size(), SIZE);
    assert_int_equal(flash_read(flash_file_dev(&f), 10, rd, 2), FLASH_OK);
    assert_memory_equal(rd, a, 2);
    flash_file_close(&f);
}

static void test_cfgstore_survives_reopen(void **state)
{
    (void)state;
    flash_file_t f;
    static const char cfg1[] = "hostname gw1\ninterface eth0\n ip address 10.0.2.15/24\n";
    static const char cfg2[] = "hostname gw2\n";
    char buf[TWOSLOT_MAX];
    size_t len = 0;
    uint32_t seq = 0;

    assert_int_equal(flash_file_open(&f, path, SIZE, SECTOR), FLASH_OK);
    flash_part_t part = { "config", flash_file_dev(&f), 2 * SECTOR, 2 * SECTOR };
    assert_int_equal(twoslot_save(&part, cfg1, strlen(cfg1), NULL), TWOSLOT_OK);
    assert_int_equal(twoslot_save(&part, cfg2, strlen(cfg2), NULL), TWOSLOT_OK);
    assert_int_equal(twoslot_save(&part, cfg1, strlen(cfg1), NULL), TWOSLOT_OK);
    flash_file_close(&f);

    assert_int_equal(flash_file_open(&f, path, SIZE, SECTOR), FLASH_OK);
    part.dev = flash_file_dev(&f);
    assert_int_equal(twoslot_load(&part, buf, sizeof(buf), &len, &seq, NULL), TWOSLOT_OK);
    assert_int_equal(len, strlen(cfg1));
    assert_memory_equal(buf, cfg1, len);
    assert_int_equal(seq, 3);
    flash_file_close(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_blank, setup, teardown),
        cmocka_unit_test_setup_teardown(test_defaults_and_args, setup, teardown),
        cmocka_unit_test_setup_teardown(test_program_and_erase, setup, teardown),
        cmocka_unit_test_setup_teardown(test_persistence_and_extension, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cfgstore_survives_reopen, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
