/* unit: drivers/flash/flash_sim.c */
/* Tests for the NOR flash simulator, the flash_* argument checks and the
 * partition helpers of drivers/flash/flash.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "flash/flash_sim.h"

#define SECTOR  256u
#define SECTORS 8u
#define SIZE    (SECTOR * SECTORS)

static uint8_t mem[SIZE];
static uint32_t wear[SECTORS];
static flash_sim_t sim;
static flash_dev_t *dev;

static int setup(void **state)
{
    (void)state;
    assert_int_equal(flash_sim_init(&sim, mem, wear, SIZE, SECTOR, 1), FLASH_OK);
    dev = flash_sim_dev(&sim);
    return 0;
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

/* ---- basic NOR rules ---------------------------------------------------- */

static void test_init_blank(void **state)
{
    (void)state;
    uint8_t buf[SECTOR];

    assert_int_equal(dev->size, SIZE);
    assert_int_equal(dev->sector_size, SECTOR);
    assert_int_equal(dev->prog_size, 1);
    assert_true(flash_sim_is_powered(&sim));
    assert_int_equal(flash_read(dev, SIZE - SECTOR, buf, sizeof(buf)), FLASH_OK);
    assert_true(all_value(buf, sizeof(buf), 0xFF));
    for (uint32_t s = 0; s < SECTORS; s++) {
        assert_int_equal(flash_sim_erase_count(&sim, s), 0);
    }
}

static void test_init_bad_geometry(void **state)
{
    (void)state;
    flash_sim_t s2;

    assert_int_equal(flash_sim_init(&s2, mem, wear, SIZE, 300, 1), FLASH_ERR_ARG);   /* not 2^n */
    assert_int_equal(flash_sim_init(&s2, mem, wear, SIZE, SECTOR, 3), FLASH_ERR_ARG);
    assert_int_equal(flash_sim_init(&s2, mem, wear, SIZE, SECTOR, 512), FLASH_ERR_ARG);
    assert_int_equal(flash_sim_init(&s2, mem, wear, SIZE + 1, SECTOR, 1), FLASH_ERR_ARG);
    assert_int_equal(flash_sim_init(&s2, mem, wear, 0, SECTOR, 1), FLASH_ERR_ARG);
    assert_int_equal(flash_sim_init(&s2, NULL, wear, SIZE, SECTOR, 1), FLASH_ERR_ARG);
    assert_int_equal(flash_sim_init(&s2, mem, NULL, SIZE, SECTOR, 1), FLASH_ERR_ARG);
}

static void test_program_clears_bits(void **state)
{
    (void)state;
    const uint8_t a[4] = { 0xF0, 0x0F, 0xAA, 0xFF };
    const uint8_t b[4] = { 0x30, 0x0F, 0x22, 0x7F };   /* only clears further */
    uint8_t rd[4];

    assert_int_equal(flash_program(dev, 10, a, sizeof(a)), FLASH_OK);
    assert_int_equal(flash_read(dev, 10, rd, sizeof(rd)), FLASH_OK);
    assert_memory_equal(rd, a, sizeof(a));
    assert_int_equal(flash_program(dev, 10, b, sizeof(b)), FLASH_OK);
    assert_int_equal(flash_read(dev, 10, rd, sizeof(rd)), FLASH_OK);
    assert_memory_equal(rd, b, sizeof(b));
    /* 0xFF over erased bytes is legal (padding); over programmed ones it
     * asks for a 0 -> 1, which the simulator refuses (real parts ignore it) */
    const uint8_t ff[4] = { 0xFF, 0xFF, 0xFF, 0xFF };
    assert_int_equal(flash_program(dev, 14, ff, sizeof(ff)), FLASH_OK);
    assert_int_equal(flash_program(dev, 10, ff, sizeof(ff)), FLASH_ERR_NOR);
    assert_int_equal(flash_read(dev, 10, rd, sizeof(rd)), FLASH_OK);
    assert_memory_equal(rd, b, sizeof(b));
    assert_int_equal(flash_sim_stats(&sim)->bytes_programmed, 12);
}

static void test_program_refuses_zero_to_one(void **state)
{
    (void)state;
    const uint8_t a[3] = { 0x00, 0x00, 0x00 };
    const uint8_t b[3] = { 0xFF, 0x00, 0x01 };   /* last byte sets bit 0 again */
    uint8_t rd[3];

    assert_int_equal(flash_program(dev, 100, a, sizeof(a)), FLASH_OK);
    mem[98] = 0x55;   /* neighbours must stay untouched by the refused op */
    assert_int_equal(flash_program(dev, 100, b + 2, 1), FLASH_ERR_NOR);
    /* the whole operation is refused, not only the offending byte */
    const uint8_t c[3] = { 0x00, 0x00, 0x80 };
    assert_int_equal(flash_program(dev, 99, c, sizeof(c)), FLASH_ERR_NOR);
    assert_int_equal(mem[99], 0xFF);
    assert_int_equal(mem[98], 0x55);
    assert_int_equal(flash_read(dev, 100, rd, sizeof(rd)), FLASH_OK);
    assert_memory_equal(rd, a, sizeof(a));
    assert_int_equal(flash_sim_stats(&sim)->nor_errors, 2);
    /* after an erase the same program is fine */
    assert_int_equal(flash_erase(dev, 0), FLASH_OK);
    assert_int_equal(flash_program(dev, 99, c, sizeof(c)), FLASH_OK);
}

static void test_erase_sector(void **state)
{
    (void)state;
    uint8_t zeros[SECTOR * 3];
    uint8_t rd[SECTOR * 3];

    memset(zeros, 0, sizeof(zeros));
    assert_int_equal(flash_program(dev, SECTOR, zeros, sizeof(zeros)), FLASH_OK);  /* sectors 1-3 */
    assert_int_equal(flash_erase(dev, 2), FLASH_OK);
    assert_int_equal(flash_read(dev, SECTOR, rd, sizeof(rd)), FLASH_OK);
    assert_true(all_value(rd, SECTOR, 0x00));                 /* sector 1 untouched */
    assert_true(all_value(rd + SECTOR, SECTOR, 0xFF));        /* sector 2 erased */
    assert_true(all_value(rd + 2 * SECTOR, SECTOR, 0x00));    /* sector 3 untouched */
    assert_int_equal(flash_erase(dev, 2), FLASH_OK);
    assert_int_equal(flash_erase(dev, 7), FLASH_OK);
    assert_int_equal(flash_sim_erase_count(&sim, 2), 2);
    assert_int_equal(flash_sim_erase_count(&sim, 7), 1);
    assert_int_equal(flash_sim_erase_count(&sim, 1), 0);
    assert_int_equal(flash_sim_erase_count(&sim, SECTORS), 0);   /* out of range: 0 */
    assert_int_equal(flash_sim_stats(&sim)->erases, 3);
}

static void test_bounds_and_alignment(void **state)
{
    (void)state;
    uint8_t buf[8] = { 0 };

    assert_int_equal(flash_read(dev, SIZE - 8, buf, 8), FLASH_OK);
    assert_int_equal(flash_read(dev, SIZE - 7, buf, 8), FLASH_ERR_ARG);
    assert_int_equal(flash_read(dev, SIZE, buf, 1), FLASH_ERR_ARG);
    assert_int_equal(flash_read(dev, UINT32_MAX, buf, 2), FLASH_ERR_ARG);   /* no wrap */
    assert_int_equal(flash_read(dev, 0, NULL, 1), FLASH_ERR_ARG);
    assert_int_equal(flash_read(NULL, 0, buf, 1), FLASH_ERR_ARG);
    assert_int_equal(flash_program(dev, SIZE - 4, buf, 8), FLASH_ERR_ARG);
    assert_int_equal(flash_erase(dev, SECTORS), FLASH_ERR_ARG);
    assert_int_equal(flash_erase(NULL, 0), FLASH_ERR_ARG);
    /* zero-length operations succeed without touching the medium */
    assert_int_equal(flash_read(dev, SIZE, buf, 0), FLASH_OK);
    assert_int_equal(flash_program(dev, 0, buf, 0), FLASH_OK);
    assert_int_equal(flash_sim_stats(&sim)->reads, 1);
    assert_int_equal(flash_sim_stats(&sim)->programs, 0);

    /* program granularity */
    flash_sim_t s4;
    assert_int_equal(flash_sim_init(&s4, mem, wear, SIZE, SECTOR, 4), FLASH_OK);
    flash_dev_t *d4 = flash_sim_dev(&s4);
    assert_int_equal(flash_program(d4, 4, buf, 8), FLASH_OK);
    assert_int_equal(flash_program(d4, 2, buf, 4), FLASH_ERR_ARG);
    assert_int_equal(flash_program(d4, 16, buf, 6), FLASH_ERR_ARG);
    assert_int_equal(flash_read(d4, 3, buf, 5), FLASH_OK);   /* reads are byte-wise */
}

static void test_stats_reset(void **state)
{
    (void)state;
    uint8_t b = 0;

    assert_int_equal(flash_program(dev, 0, &b, 1), FLASH_OK);
    assert_int_equal(flash_erase(dev, 0), FLASH_OK);
    assert_int_equal(flash_read(dev, 0, &b, 1), FLASH_OK);
    assert_int_equal(flash_sim_stats(&sim)->programs, 1);
    assert_int_equal(flash_sim_stats(&sim)->erases, 1);
    assert_int_equal(flash_sim_stats(&sim)->reads, 1);
    flash_sim_stats_reset(&sim);
    assert_int_equal(flash_sim_stats(&sim)->programs, 0);
    assert_int_equal(flash_sim_stats(&sim)->erases, 0);
    assert_int_equal(flash_sim_stats(&sim)->reads, 0);
    assert_int_equal(flash_sim_erase_count(&sim, 0), 1);   /* wear is not reset */
}

/* ---- power cuts ---------------------------------------------------------- */

static void expect_dead(void)
{
    uint8_t b = 0;

    assert_false(flash_sim_is_powered(&sim));
    assert_int_equal(flash_read(dev, 0, &b, 1), FLASH_ERR_POWER);
    assert_int_equal(flash_program(dev, 0, &b, 1), FLASH_ERR_POWER);
    assert_int_equal(flash_erase(dev, 0), FLASH_ERR_POWER);
}

static void test_cut_before(void **state)
{
    (void)state;
    const uint8_t a[2] = { 0x11, 0x22 };
    uint8_t rd[2];

    flash_sim_cut_arm(&sim, 3, FLASH_SIM_CUT_BEFORE, 0);
    assert_int_equal(flash_program(dev, 0, a, 2), FLASH_OK);         /* op 1 */
    assert_int_equal(flash_read(dev, 0, rd, 2), FLASH_OK);          /* reads do not count */
    assert_int_equal(flash_erase(dev, 5), FLASH_OK);                 /* op 2 */
    assert_int_equal(flash_program(dev, 2 * SECTOR, a, 2), FLASH_ERR_POWER);  /* op 3: cut */
    assert_int_equal(mem[2 * SECTOR], 0xFF);                         /* did not happen */
    expect_dead();
    flash_sim_power_on(&sim);
    assert_true(flash_sim_is_powered(&sim));
    assert_int_equal(flash_read(dev, 0, rd, 2), FLASH_OK);          /* contents persist */
    assert_memory_equal(rd, a, 2);
    assert_int_equal(flash_program(dev, 2 * SECTOR, a, 2), FLASH_OK);   /* cut is disarmed */
}

static void test_cut_after(void **state)
{
    (void)state;
    const uint8_t a[2] = { 0x11, 0x22 };

    memset(mem + SECTOR, 0x00, 4);
    flash_sim_cut_arm(&sim, 2, FLASH_SIM_CUT_AFTER, 0);
    assert_int_equal(flash_program(dev, 0, a, 2), FLASH_OK);   /* op 1 */
    assert_int_equal(flash_erase(dev, 1), FLASH_OK);           /* op 2: completes, then the cut */
    assert_int_equal(mem[SECTOR], 0xFF);
    assert_int_equal(flash_sim_erase_count(&sim, 1), 1);
    expect_dead();
    flash_sim_power_on(&sim);
    assert_int_equal(mem[0], 0x11);
}

static void test_cut_torn_program(void **state)
{
    (void)state;
    uint8_t a[10];

    memset(a, 0x00, sizeof(a));
    flash_sim_cut_arm(&sim, 1, FLASH_SIM_CUT_TORN, 4);
    assert_int_equal(flash_program(dev, 20, a, sizeof(a)), FLASH_ERR_POWER);
    assert_true(all_value(mem + 20, 4, 0x00));
    assert_true(all_value(mem + 24, 6, 0xFF));
    expect_dead();
    flash_sim_power_on(&sim);

    /* torn_len beyond the operation: all written, but power is still lost */
    flash_sim_cut_arm(&sim, 1, FLASH_SIM_CUT_TORN, 1000);
    assert_int_equal(flash_program(dev, 40, a, sizeof(a)), FLASH_ERR_POWER);
    assert_true(all_value(mem + 40, 10, 0x00));
    expect_dead();
    flash_sim_power_on(&sim);

    /* torn_len 0: nothing written */
    flash_sim_cut_arm(&sim, 1, FLASH_SIM_CUT_TORN, 0);
    assert_int_equal(flash_program(dev, 60, a, sizeof(a)), FLASH_ERR_POWER);
    assert_true(all_value(mem + 60, 10, 0xFF));
}

static void test_cut_torn_erase(void **state)
{
    (void)state;
    memset(mem + 3 * SECTOR, 0x00, SECTOR);
    flash_sim_cut_arm(&sim, 1, FLASH_SIM_CUT_TORN, 100);
    assert_int_equal(flash_erase(dev, 3), FLASH_ERR_POWER);
    assert_true(all_value(mem + 3 * SECTOR, 100, 0xFF));
    assert_true(all_value(mem + 3 * SECTOR + 100, SECTOR - 100, 0x00));
    assert_int_equal(flash_sim_erase_count(&sim, 3), 1);   /* a started erase wears */
    expect_dead();
}

static void test_cut_disarm(void **state)
{
    (void)state;
    uint8_t b = 0;

    flash_sim_cut_arm(&sim, 1, FLASH_SIM_CUT_BEFORE, 0);
    flash_sim_cut_arm(&sim, 0, FLASH_SIM_CUT_BEFORE, 0);      /* nth 0 disarms */
    assert_int_equal(flash_program(dev, 0, &b, 1), FLASH_OK);
    flash_sim_cut_arm(&sim, 1, FLASH_SIM_CUT_NONE, 0);        /* so does NONE */
    assert_int_equal(flash_erase(dev, 0), FLASH_OK);
    flash_sim_cut_arm(&sim, 1, FLASH_SIM_CUT_BEFORE, 0);
    flash_sim_power_on(&sim);                                  /* and power_on */
    assert_int_equal(flash_erase(dev, 0), FLASH_OK);
    assert_true(flash_sim_is_powered(&sim));
}

static void test_cut_refused_program(void **state)
{
    (void)state;
    uint8_t z = 0x00, one = 0x01;

    /* a NOR violation at the cut point still loses power */
    assert_int_equal(flash_program(dev, 0, &z, 1), FLASH_OK);
    flash_sim_cut_arm(&sim, 1, FLASH_SIM_CUT_AFTER, 0);
    assert_int_equal(flash_program(dev, 0, &one, 1), FLASH_ERR_NOR);
    expect_dead();
}

/* ---- partitions ---------------------------------------------------------- */

static void test_part_check(void **state)
{
    (void)state;
    const flash_part_t good = { "cfg", dev, 2 * SECTOR, 2 * SECTOR };
    const flash_part_t whole = { "all", dev, 0, SIZE };
    const flash_part_t unaligned_off = { "x", dev, 100, 2 * SECTOR };
    const flash_part_t unaligned_size = { "x", dev, 0, SECTOR + 1 };
    const flash_part_t too_big = { "x", dev, 7 * SECTOR, 2 * SECTOR };
    const flash_part_t empty = { "x", dev, 0, 0 };
    const flash_part_t nodev = { "x", NULL, 0, SECTOR };
    const flash_part_t wraps = { "x", dev, UINT32_MAX - SECTOR + 1, 2 * SECTOR };

    assert_int_equal(flash_part_check(&good), FLASH_OK);
    assert_int_equal(flash_part_check(&whole), FLASH_OK);
    assert_int_equal(flash_part_sectors(&good), 2);
    assert_int_equal(flash_part_sector_size(&good), SECTOR);
    assert_int_equal(flash_part_prog_size(&good), 1);
    assert_int_equal(flash_part_check(&unaligned_off), FLASH_ERR_ARG);
    assert_int_equal(flash_part_check(&unaligned_size), FLASH_ERR_ARG);
    assert_int_equal(flash_part_check(&too_big), FLASH_ERR_ARG);
    assert_int_equal(flash_part_check(&empty), FLASH_ERR_ARG);
    assert_int_equal(flash_part_check(&nodev), FLASH_ERR_ARG);
    assert_int_equal(flash_part_check(&wraps), FLASH_ERR_ARG);
    assert_int_equal(flash_part_check(NULL), FLASH_ERR_ARG);

    uint8_t b = 0;
    assert_int_equal(flash_part_read(&too_big, 0, &b, 1), FLASH_ERR_ARG);
    assert_int_equal(flash_part_program(&unaligned_off, 0, &b, 1), FLASH_ERR_ARG);
    assert_int_equal(flash_part_erase_sector(&nodev, 0), FLASH_ERR_ARG);
}

static void test_part_access(void **state)
{
    (void)state;
    const flash_part_t part = { "cfg", dev, 2 * SECTOR, 2 * SECTOR };
    uint8_t zeros[2 * SECTOR];
    uint8_t rd[4];

    memset(zeros, 0, sizeof(zeros));
    /* relative offsets land at part->offset */
    const uint8_t a[4] = { 1, 2, 3, 4 };
    assert_int_equal(flash_part_program(&part, 0, a, 4), FLASH_OK);
    assert_memory_equal(mem + 2 * SECTOR, a, 4);
    assert_int_equal(flash_part_read(&part, 0, rd, 4), FLASH_OK);
    assert_memory_equal(rd, a, 4);

    /* nothing outside the partition can be reached */
    assert_int_equal(flash_part_read(&part, 2 * SECTOR - 3, rd, 4), FLASH_ERR_ARG);
    assert_int_equal(flash_part_program(&part, 2 * SECTOR, a, 1), FLASH_ERR_ARG);
    assert_int_equal(flash_part_read(&part, UINT32_MAX, rd, 2), FLASH_ERR_ARG);
    assert_int_equal(flash_part_erase_sector(&part, 2), FLASH_ERR_ARG);
    const uint8_t hi = 0x80;
    assert_int_equal(flash_part_program(&part, 0, &hi, 1), FLASH_ERR_NOR);   /* 0 -> 1 refused */
    assert_int_equal(flash_part_program(&part, 4, zeros, sizeof(zeros) - 4), FLASH_OK);

    /* sector index is partition-relative */
    assert_int_equal(flash_part_erase_sector(&part, 1), FLASH_OK);
    assert_int_equal(flash_sim_erase_count(&sim, 3), 1);
    assert_int_equal(flash_sim_erase_count(&sim, 1), 0);
    assert_true(all_value(mem + 3 * SECTOR, SECTOR, 0xFF));
    assert_true(all_value(mem + 2 * SECTOR + 4, SECTOR - 4, 0x00));
    assert_true(all_value(mem, 2 * SECTOR, 0xFF));              /* neighbours untouched */
    assert_true(all_value(mem + 4 * SECTOR, 4 * SECTOR, 0xFF));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_init_blank, setup),
        cmocka_unit_test_setup(test_init_bad_geometry, setup),
        cmocka_unit_test_setup(test_program_clears_bits, setup),
        cmocka_unit_test_setup(test_program_refuses_zero_to_one, setup),
        cmocka_unit_test_setup(test_erase_sector, setup),
        cmocka_unit_test_setup(test_bounds_and_alignment, setup),
        cmocka_unit_test_setup(test_stats_reset, setup),
        cmocka_unit_test_setup(test_cut_before, setup),
        cmocka_unit_test_setup(test_cut_after, setup),
        cmocka_unit_test_setup(test_cut_torn_program, setup),
        cmocka_unit_test_setup(test_cut_torn_erase, setup),
        cmocka_unit_test_setup(test_cut_disarm, setup),
        cmocka_unit_test_setup(test_cut_refused_program, setup),
        cmocka_unit_test_setup(test_part_check, setup),
        cmocka_unit_test_setup(test_part_access, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
