/* unit: firmware/lib/twoslot.c firmware/lib/crc32.c drivers/flash/flash_sim.c */
/* Tests for the two-slot configuration store: format, slot choice,
 * generations and their wrap, corruption, and power cuts at every single
 * program and erase of a save sequence. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "lib/twoslot.h"
#include "lib/crc32.h"
#include "flash/flash_sim.h"

/* The configuration partition sits in the middle of a 4-sector device so the
 * tests also see that nothing outside it is touched. */
#define SECTOR   4096u
#define SECTORS  4u
#define SIZE     (SECTOR * SECTORS)
#define PART_OFF SECTOR

static uint8_t mem[SIZE];
static uint32_t wear[SECTORS];
static flash_sim_t sim;
static flash_part_t part;

static uint8_t loadbuf[SECTOR];

static void sim_setup(uint32_t prog_size)
{
    assert_int_equal(flash_sim_init(&sim, mem, wear, SIZE, SECTOR, prog_size), FLASH_OK);
    part = (flash_part_t){ "config", flash_sim_dev(&sim), PART_OFF, 2 * SECTOR };
}

static int setup(void **state)
{
    (void)state;
    sim_setup(1);
    return 0;
}

/* Deterministic console-like text, different for every tag. */
static void make_blob(uint8_t *buf, size_t len, unsigned tag)
{
    static const char *const words[] = { "interface", "eth0", "ip", "address", "route",
                                         "smarthost", "10.0.2.100", "relay", "allow", "\n" };
    size_t n = 0;
    unsigned k = tag * 7u;
    while (n < len) {
        char line[48];
        int w = snprintf(line, sizeof(line), "%s %u ", words[k % 10u], tag);
        for (int i = 0; i < w && n < len; i++) {
            buf[n++] = (uint8_t)line[i];
        }
        k = k * 31u + 17u;
    }
}

static uint8_t *slot_mem(int slot)
{
    return mem + PART_OFF + (uint32_t)slot * SECTOR;
}

static int is_blank(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] != 0xFF) {
            return 0;
        }
    }
    return 1;
}

static void expect_outside_untouched(void)
{
    assert_true(is_blank(mem, PART_OFF));
    assert_true(is_blank(mem + PART_OFF + 2 * SECTOR, SIZE - PART_OFF - 2 * SECTOR));
    assert_int_equal(flash_sim_erase_count(&sim, 0), 0);
    assert_int_equal(flash_sim_erase_count(&sim, 3), 0);
}

/* Load and compare with an expected blob, generation and slot. */
static void expect_loaded(const uint8_t *blob, size_t len, uint32_t seq, int slot)
{
    size_t got_len = 0;
    uint32_t got_seq = 0;
    twoslot_info_t info;

    memset(loadbuf, 0xA5, sizeof(loadbuf));
    assert_int_equal(twoslot_load(&part, loadbuf, sizeof(loadbuf), &got_len, &got_seq, &info),
                     TWOSLOT_OK);
    assert_int_equal(got_len, len);
    assert_memory_equal(loadbuf, blob, len);
    assert_int_equal(got_seq, seq);
    assert_int_equal(info.slot, slot);
    assert_int_equal(info.state[slot], TWOSLOT_SLOT_VALID);
    assert_int_equal(info.seq[slot], seq);
    assert_int_equal(info.len[slot], len);
}

/* Write a slot by hand, following the layout documented in cfgstore.h. */
static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static void craft_slot(int slot, uint32_t seq, uint16_t version, const uint8_t *blob, uint32_t len)
{
    uint8_t *s = slot_mem(slot);

    memset(s, 0xFF, SECTOR);
    put32(s + 0, TWOSLOT_MAGIC);
    s[4] = (uint8_t)version;
    s[5] = (uint8_t)(version >> 8);
    s[6] = TWOSLOT_HDR_SIZE;
    s[7] = 0;
    put32(s + 8, seq);
    put32(s + 12, len);
    put32(s + 16, crc32_update(0, blob, len));
    put32(s + 20, crc32_update(0, s, 20));
    memcpy(s + TWOSLOT_PAYLOAD_OFF, blob, len);
}

/* ---- geometry ------------------------------------------------------------ */

static void test_geometry(void **state)
{
    (void)state;
    uint8_t b[4] = { 0 };
    size_t len;

    assert_int_equal(twoslot_max(&part), TWOSLOT_MAX);
    assert_true(TWOSLOT_MAX + TWOSLOT_PAYLOAD_OFF <= SECTOR);

    const flash_part_t one = { "c", flash_sim_dev(&sim), 0, SECTOR };
    const flash_part_t three = { "c", flash_sim_dev(&sim), 0, 3 * SECTOR };
    const flash_part_t misaligned = { "c", flash_sim_dev(&sim), 512, 2 * SECTOR };
    assert_int_equal(twoslot_max(&one), 0);
    assert_int_equal(twoslot_max(&three), 0);
    assert_int_equal(twoslot_max(NULL), 0);
    assert_int_equal(twoslot_save(&one, b, 4, NULL), TWOSLOT_ERR_ARG);
    assert_int_equal(twoslot_save(&three, b, 4, NULL), TWOSLOT_ERR_ARG);
    assert_int_equal(twoslot_save(&misaligned, b, 4, NULL), TWOSLOT_ERR_ARG);
    assert_int_equal(twoslot_load(&one, b, 4, &len, NULL, NULL), TWOSLOT_ERR_ARG);
    assert_int_equal(twoslot_erase(&three), TWOSLOT_ERR_ARG);
    assert_int_equal(twoslot_save(&part, NULL, 4, NULL), TWOSLOT_ERR_ARG);
    assert_int_equal(twoslot_load(&part, NULL, 4, &len, NULL, NULL), TWOSLOT_ERR_ARG);

    /* small sectors: the header area comes off the maximum */
    static uint8_t small_mem[2 * 1024];
    static uint32_t small_wear[2];
    flash_sim_t small;
    assert_int_equal(flash_sim_init(&small, small_mem, small_wear, sizeof(small_mem), 1024, 1),
                     FLASH_OK);
    const flash_part_t sp = { "c", flash_sim_dev(&small), 0, 2 * 1024 };
    assert_int_equal(twoslot_max(&sp), 1024 - TWOSLOT_PAYLOAD_OFF);

    /* program granularity wider than the header area cannot work */
    static uint32_t wide_wear[SECTORS];
    flash_sim_t wide;
    assert_int_equal(flash_sim_init(&wide, mem, wide_wear, SIZE, SECTOR, 64), FLASH_OK);
    const flash_part_t wp = { "c", flash_sim_dev(&wide), 0, 2 * SECTOR };
    assert_int_equal(twoslot_max(&wp), 0);
    assert_int_equal(twoslot_save(&wp, b, 4, NULL), TWOSLOT_ERR_ARG);
}

static void test_state_names(void **state)
{
    (void)state;
    assert_string_equal(twoslot_slot_state_name(TWOSLOT_SLOT_BLANK), "blank");
    assert_string_equal(twoslot_slot_state_name(TWOSLOT_SLOT_VALID), "valid");
    assert_string_equal(twoslot_slot_state_name(TWOSLOT_SLOT_CORRUPT), "corrupt");
    assert_string_equal(twoslot_slot_state_name(TWOSLOT_SLOT_UNSUPPORTED), "unsupported");
    assert_string_equal(twoslot_slot_state_name(TWOSLOT_SLOT_UNREADABLE), "unreadable");
    assert_string_equal(twoslot_slot_state_name(TWOSLOT_SLOT_STATE_COUNT), "?");
}

/* ---- basic behaviour ------------------------------------------------------ */

static void test_blank_partition(void **state)
{
    (void)state;
    twoslot_info_t info;
    size_t len = 99;
    uint32_t seq = 99;

    assert_int_equal(twoslot_load(&part, loadbuf, sizeof(loadbuf), &len, &seq, &info),
                     TWOSLOT_ERR_NOTFOUND);
    assert_int_equal(len, 0);
    assert_int_equal(seq, 99);   /* untouched on failure */
    assert_int_equal(info.slot, -1);
    assert_false(info.any_corrupt);
    assert_int_equal(info.state[0], TWOSLOT_SLOT_BLANK);
    assert_int_equal(info.state[1], TWOSLOT_SLOT_BLANK);
    assert_int_equal(twoslot_stat(&part, &info), TWOSLOT_OK);
    assert_int_equal(info.state[0], TWOSLOT_SLOT_BLANK);
    assert_int_equal(twoslot_stat(&part, NULL), TWOSLOT_ERR_ARG);
    /* info is optional */
    assert_int_equal(twoslot_load(&part, loadbuf, sizeof(loadbuf), NULL, NULL, NULL),
                     TWOSLOT_ERR_NOTFOUND);
}

static void test_round_trip(void **state)
{
    (void)state;
    uint8_t blob[1000];
    twoslot_info_t info;

    make_blob(blob, sizeof(blob), 1);
    assert_int_equal(twoslot_save(&part, blob, sizeof(blob), &info), TWOSLOT_OK);
    assert_int_equal(info.slot, 0);
    assert_int_equal(info.seq[0], 1);
    assert_int_equal(info.len[0], sizeof(blob));
    assert_int_equal(info.state[0], TWOSLOT_SLOT_VALID);
    assert_int_equal(info.state[1], TWOSLOT_SLOT_BLANK);
    expect_loaded(blob, sizeof(blob), 1, 0);
    /* the documented layout */
    assert_memory_equal(slot_mem(0), "CCFG", 4);
    assert_memory_equal(slot_mem(0) + TWOSLOT_PAYLOAD_OFF, blob, sizeof(blob));
    assert_true(is_blank(slot_mem(0) + TWOSLOT_HDR_SIZE, TWOSLOT_PAYLOAD_OFF - TWOSLOT_HDR_SIZE));
    assert_true(is_blank(slot_mem(0) + TWOSLOT_PAYLOAD_OFF + sizeof(blob),
                         SECTOR - TWOSLOT_PAYLOAD_OFF - sizeof(blob)));
    /* one erase, the payload, the header */
    assert_int_equal(flash_sim_stats(&sim)->erases, 1);
    assert_int_equal(flash_sim_stats(&sim)->programs, 2);
    expect_outside_untouched();
}

static void test_sizes(void **state)
{
    (void)state;
    static uint8_t blob[TWOSLOT_MAX + 1];
    size_t len = 0;

    make_blob(blob, sizeof(blob), 2);
    assert_int_equal(twoslot_save(&part, blob, TWOSLOT_MAX + 1, NULL), TWOSLOT_ERR_TOOBIG);
    assert_int_equal(twoslot_save(&part, blob, TWOSLOT_MAX, NULL), TWOSLOT_OK);
    expect_loaded(blob, TWOSLOT_MAX, 1, 0);
    /* empty configuration is a valid configuration */
    assert_int_equal(twoslot_save(&part, blob, 0, NULL), TWOSLOT_OK);
    assert_int_equal(twoslot_save(&part, NULL, 0, NULL), TWOSLOT_OK);
    expect_loaded(blob, 0, 3, 0);
    assert_int_equal(twoslot_load(&part, NULL, 0, &len, NULL, NULL), TWOSLOT_OK);
    assert_int_equal(len, 0);
    /* buffer too small: the length needed is reported */
    assert_int_equal(twoslot_save(&part, blob, 100, NULL), TWOSLOT_OK);
    assert_int_equal(twoslot_load(&part, loadbuf, 99, &len, NULL, NULL), TWOSLOT_ERR_NOSPACE);
    assert_int_equal(len, 100);
    assert_int_equal(twoslot_load(&part, loadbuf, 100, &len, NULL, NULL), TWOSLOT_OK);
    assert_memory_equal(loadbuf, blob, 100);
}

static void test_alternation(void **state)
{
    (void)state;
    uint8_t blob[300];

    for (unsigned i = 1; i <= 6; i++) {
        twoslot_info_t info;
        make_blob(blob, 100 + 30 * i, i);
        assert_int_equal(twoslot_save(&part, blob, 100 + 30 * i, &info), TWOSLOT_OK);
        int slot = (int)((i - 1) % 2);
        assert_int_equal(info.slot, slot);
        assert_int_equal(info.seq[slot], i);
        expect_loaded(blob, 100 + 30 * i, i, slot);
        if (i >= 2) {
            /* the previous generation is still there, intact, in the other slot */
            assert_int_equal(info.state[1 - slot], TWOSLOT_SLOT_VALID);
            assert_int_equal(info.seq[1 - slot], i - 1);
        }
    }
    /* wear spreads over both sectors */
    assert_int_equal(flash_sim_erase_count(&sim, 1), 3);
    assert_int_equal(flash_sim_erase_count(&sim, 2), 3);
    expect_outside_untouched();
}

static void test_sequence_wrap(void **state)
{
    (void)state;
    uint8_t a[50], b[60], c[70];

    make_blob(a, sizeof(a), 10);
    make_blob(b, sizeof(b), 11);
    make_blob(c, sizeof(c), 12);

    craft_slot(1, 0xFFFFFFFEu, TWOSLOT_FORMAT_VERSION, a, sizeof(a));
    expect_loaded(a, sizeof(a), 0xFFFFFFFEu, 1);
    assert_int_equal(twoslot_save(&part, b, sizeof(b), NULL), TWOSLOT_OK);
    expect_loaded(b, sizeof(b), 0xFFFFFFFFu, 0);
    assert_int_equal(twoslot_save(&part, c, sizeof(c), NULL), TWOSLOT_OK);
    expect_loaded(c, sizeof(c), 0, 1);                 /* 0 is newer than 0xFFFFFFFF */
    assert_int_equal(twoslot_save(&part, a, sizeof(a), NULL), TWOSLOT_OK);
    expect_loaded(a, sizeof(a), 1, 0);

    /* either slot order */
    craft_slot(0, 0, TWOSLOT_FORMAT_VERSION, a, sizeof(a));
    craft_slot(1, 0xFFFFFFFFu, TWOSLOT_FORMAT_VERSION, b, sizeof(b));
    expect_loaded(a, sizeof(a), 0, 0);
    craft_slot(0, 0xFFFFFFFFu, TWOSLOT_FORMAT_VERSION, a, sizeof(a));
    craft_slot(1, 0, TWOSLOT_FORMAT_VERSION, b, sizeof(b));
    expect_loaded(b, sizeof(b), 0, 1);
    /* half the number space apart: still ordered by serial arithmetic */
    craft_slot(0, 0x7FFFFFF0u, TWOSLOT_FORMAT_VERSION, a, sizeof(a));
    craft_slot(1, 0x80000010u, TWOSLOT_FORMAT_VERSION, b, sizeof(b));
    expect_loaded(b, sizeof(b), 0x80000010u, 1);
    /* equal generations (only by hand): slot 0, deterministically */
    craft_slot(0, 5, TWOSLOT_FORMAT_VERSION, a, sizeof(a));
    craft_slot(1, 5, TWOSLOT_FORMAT_VERSION, b, sizeof(b));
    expect_loaded(a, sizeof(a), 5, 0);
}

/* ---- corruption ------------------------------------------------------------ */

static void save_two(uint8_t *v1, size_t l1, uint8_t *v2, size_t l2)
{
    make_blob(v1, l1, 21);
    make_blob(v2, l2, 22);
    assert_int_equal(twoslot_save(&part, v1, l1, NULL), TWOSLOT_OK);   /* slot 0, gen 1 */
    assert_int_equal(twoslot_save(&part, v2, l2, NULL), TWOSLOT_OK);   /* slot 1, gen 2 */
}

static void expect_fallback(const uint8_t *v1, size_t l1)
{
    twoslot_info_t info;
    size_t len;
    uint32_t seq;

    assert_int_equal(twoslot_load(&part, loadbuf, sizeof(loadbuf), &len, &seq, &info),
                     TWOSLOT_OK);
    assert_int_equal(info.slot, 0);
    assert_int_equal(seq, 1);
    assert_int_equal(len, l1);
    assert_memory_equal(loadbuf, v1, l1);
    assert_true(info.any_corrupt);
    assert_int_equal(info.state[1], TWOSLOT_SLOT_CORRUPT);
}

static void test_corrupt_header(void **state)
{
    (void)state;
    uint8_t v1[200], v2[300], v3[400];

    /* every byte of the header fields, one flipped bit at a time */
    for (uint32_t byte = 0; byte < TWOSLOT_HDR_SIZE; byte++) {
        sim_setup(1);
        save_two(v1, sizeof(v1), v2, sizeof(v2));
        slot_mem(1)[byte] ^= (uint8_t)(1u << (byte % 8u));
        expect_fallback(v1, sizeof(v1));
    }
    /* the next save goes over the corrupt slot, not over the good one */
    make_blob(v3, sizeof(v3), 23);
    twoslot_info_t info;
    assert_int_equal(twoslot_save(&part, v3, sizeof(v3), &info), TWOSLOT_OK);
    assert_int_equal(info.slot, 1);
    assert_false(info.any_corrupt);
    expect_loaded(v3, sizeof(v3), 2, 1);
}

static void test_corrupt_payload(void **state)
{
    (void)state;
    uint8_t v1[200], v2[300];

    save_two(v1, sizeof(v1), v2, sizeof(v2));
    slot_mem(1)[TWOSLOT_PAYLOAD_OFF + 150] ^= 0x10;
    expect_fallback(v1, sizeof(v1));
    /* and the last byte */
    setup(NULL);
    save_two(v1, sizeof(v1), v2, sizeof(v2));
    slot_mem(1)[TWOSLOT_PAYLOAD_OFF + sizeof(v2) - 1] ^= 0x80;
    expect_fallback(v1, sizeof(v1));
}

static void test_all_corrupt(void **state)
{
    (void)state;
    uint8_t v1[200], v2[300];
    twoslot_info_t info;
    size_t len = 7;

    save_two(v1, sizeof(v1), v2, sizeof(v2));
    slot_mem(0)[9] ^= 0x01;                          /* header of gen 1 */
    slot_mem(1)[TWOSLOT_PAYLOAD_OFF] ^= 0x01;       /* payload of gen 2 */
    assert_int_equal(twoslot_load(&part, loadbuf, sizeof(loadbuf), &len, NULL, &info),
                     TWOSLOT_ERR_NOTFOUND);
    assert_int_equal(len, 0);
    assert_int_equal(info.slot, -1);
    assert_true(info.any_corrupt);
    assert_int_equal(info.state[0], TWOSLOT_SLOT_CORRUPT);
    assert_int_equal(info.state[1], TWOSLOT_SLOT_CORRUPT);
    /* saving still works, and starts the generations again */
    assert_int_equal(twoslot_save(&part, v1, sizeof(v1), NULL), TWOSLOT_OK);
    expect_loaded(v1, sizeof(v1), 1, 0);
}

static void test_bad_length_and_magic(void **state)
{
    (void)state;
    uint8_t a[40];
    twoslot_info_t info;

    make_blob(a, sizeof(a), 30);
    /* a length beyond the sector, with correct CRCs: corrupt, not a crash */
    craft_slot(0, 1, TWOSLOT_FORMAT_VERSION, a, sizeof(a));
    put32(slot_mem(0) + 12, SECTOR);
    put32(slot_mem(0) + 20, crc32_update(0, slot_mem(0), 20));
    /* another magic with correct CRC: not ours */
    craft_slot(1, 2, TWOSLOT_FORMAT_VERSION, a, sizeof(a));
    put32(slot_mem(1), 0x12345678u);
    put32(slot_mem(1) + 20, crc32_update(0, slot_mem(1), 20));
    assert_int_equal(twoslot_load(&part, loadbuf, sizeof(loadbuf), NULL, NULL, &info),
                     TWOSLOT_ERR_NOTFOUND);
    assert_int_equal(info.state[0], TWOSLOT_SLOT_CORRUPT);
    assert_int_equal(info.state[1], TWOSLOT_SLOT_CORRUPT);
}

static void test_payload_without_header(void **state)
{
    (void)state;
    twoslot_info_t info;

    /* a save cut between payload and header: not "blank", it is a lost save */
    memset(slot_mem(1) + TWOSLOT_PAYLOAD_OFF + 1000, 0x20, 10);
    assert_int_equal(twoslot_stat(&part, &info), TWOSLOT_OK);
    assert_int_equal(info.state[0], TWOSLOT_SLOT_BLANK);
    assert_int_equal(info.state[1], TWOSLOT_SLOT_CORRUPT);
    assert_true(info.any_corrupt);
    /* even a single stray byte at the very end of the sector */
    setup(NULL);
    slot_mem(0)[SECTOR - 1] = 0xFE;
    assert_int_equal(twoslot_stat(&part, &info), TWOSLOT_OK);
    assert_int_equal(info.state[0], TWOSLOT_SLOT_CORRUPT);
}

static void test_unsupported_version(void **state)
{
    (void)state;
    uint8_t a[40], b[50], c[60];
    twoslot_info_t info;

    make_blob(a, sizeof(a), 40);
    make_blob(b, sizeof(b), 41);
    make_blob(c, sizeof(c), 42);
    /* a newer firmware's copy (gen 10) next to one of ours (gen 3): ours loads */
    craft_slot(0, 10, TWOSLOT_FORMAT_VERSION + 1, a, sizeof(a));
    craft_slot(1, 3, TWOSLOT_FORMAT_VERSION, b, sizeof(b));
    assert_int_equal(twoslot_load(&part, loadbuf, sizeof(loadbuf), NULL, NULL, &info),
                     TWOSLOT_OK);
    assert_int_equal(info.slot, 1);
    assert_int_equal(info.state[0], TWOSLOT_SLOT_UNSUPPORTED);
    assert_int_equal(info.seq[0], 10);
    assert_false(info.any_corrupt);
    /* saving keeps our valid copy and goes above every generation seen */
    assert_int_equal(twoslot_save(&part, c, sizeof(c), &info), TWOSLOT_OK);
    assert_int_equal(info.slot, 0);
    expect_loaded(c, sizeof(c), 11, 0);

    /* only the foreign copy: it is spared, the new one goes to the other slot */
    setup(NULL);
    craft_slot(1, 10, TWOSLOT_FORMAT_VERSION + 1, a, sizeof(a));
    assert_int_equal(twoslot_load(&part, loadbuf, sizeof(loadbuf), NULL, NULL, &info),
                     TWOSLOT_ERR_NOTFOUND);
    assert_false(info.any_corrupt);
    assert_int_equal(twoslot_save(&part, c, sizeof(c), &info), TWOSLOT_OK);
    assert_int_equal(info.slot, 0);
    expect_loaded(c, sizeof(c), 11, 0);
    assert_int_equal(twoslot_stat(&part, &info), TWOSLOT_OK);
    assert_int_equal(info.state[1], TWOSLOT_SLOT_UNSUPPORTED);
}

static void test_erase(void **state)
{
    (void)state;
    uint8_t v1[200], v2[300];
    twoslot_info_t info;

    save_two(v1, sizeof(v1), v2, sizeof(v2));
    assert_int_equal(twoslot_erase(&part), TWOSLOT_OK);
    assert_int_equal(twoslot_load(&part, loadbuf, sizeof(loadbuf), NULL, NULL, &info),
                     TWOSLOT_ERR_NOTFOUND);
    assert_false(info.any_corrupt);
    assert_int_equal(info.state[0], TWOSLOT_SLOT_BLANK);
    assert_int_equal(info.state[1], TWOSLOT_SLOT_BLANK);
    assert_true(is_blank(slot_mem(0), 2 * SECTOR));
    expect_outside_untouched();

    /* the older slot goes first: a cut between the two erases keeps the newest */
    setup(NULL);
    save_two(v1, sizeof(v1), v2, sizeof(v2));
    flash_sim_cut_arm(&sim, 2, FLASH_SIM_CUT_BEFORE, 0);
    assert_int_equal(twoslot_erase(&part), TWOSLOT_ERR_IO);
    flash_sim_power_on(&sim);
    expect_loaded(v2, sizeof(v2), 2, 1);
}

static void test_prog_granularity(void **state)
{
    (void)state;
    uint8_t blob[TWOSLOT_MAX];

    /* ECC-word flash: whole words only, the tail padded with 0xFF */
    static const uint32_t grains[] = { 2, 4, 8, 16, 32 };
    for (size_t g = 0; g < sizeof(grains) / sizeof(grains[0]); g++) {
        sim_setup(grains[g]);
        uint32_t seq = 0;
        static const size_t lens[] = { 0, 1, 3, 31, 32, 33, 1001, TWOSLOT_MAX - 1, TWOSLOT_MAX };
        for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
            make_blob(blob, lens[i], (unsigned)(i + 50));
            assert_int_equal(twoslot_save(&part, blob, lens[i], NULL), TWOSLOT_OK);
            seq++;
            expect_loaded(blob, lens[i], seq, (int)((seq - 1) % 2));
        }
        assert_int_equal(flash_sim_stats(&sim)->nor_errors, 0);
    }
}

/* ---- faults of the medium ------------------------------------------------- */

/* A device that forwards to the simulator but can fail reads of one range or
 * silently lose a bit on program (a worn cell / an AND-ing backend). */
typedef struct {
    flash_dev_t dev;
    flash_dev_t *inner;
    uint32_t bad_lo, bad_hi;     /* reads overlapping [lo, hi) fail */
    int drop_bit;                /* next program leaves bit 0 of its first byte at 1 */
} faulty_t;

static int faulty_read(flash_dev_t *d, uint32_t off, void *buf, size_t len)
{
    faulty_t *f = (faulty_t *)d;
    if (off < f->bad_hi && off + len > f->bad_lo) {
        return FLASH_ERR_IO;
    }
    return f->inner->ops->read(f->inner, off, buf, len);
}

static int faulty_program(flash_dev_t *d, uint32_t off, const void *buf, size_t len)
{
    faulty_t *f = (faulty_t *)d;
    uint8_t first = *(const uint8_t *)buf;
    if (f->drop_bit && (first & 1u) == 0) {
        f->drop_bit = 0;
        uint8_t one = first | 1u;
        int r = f->inner->ops->program(f->inner, off, &one, 1);
        if (r != FLASH_OK || len == 1) {
            return r;
        }
        return f->inner->ops->program(f->inner, off + 1, (const uint8_t *)buf + 1, len - 1);
    }
    return f->inner->ops->program(f->inner, off, buf, len);
}

static int faulty_erase(flash_dev_t *d, uint32_t sector)
{
    faulty_t *f = (faulty_t *)d;
    return f->inner->ops->erase(f->inner, sector);
}

static const flash_ops_t faulty_ops = { faulty_read, faulty_program, faulty_erase };

static faulty_t faulty_wrap(void)
{
    faulty_t f;
    memset(&f, 0, sizeof(f));
    f.dev = *flash_sim_dev(&sim);
    f.dev.ops = &faulty_ops;
    f.inner = flash_sim_dev(&sim);
    return f;
}

static void test_unreadable(void **state)
{
    (void)state;
    uint8_t v1[200], v2[300];
    twoslot_info_t info;

    save_two(v1, sizeof(v1), v2, sizeof(v2));
    faulty_t f = faulty_wrap();
    flash_part_t fp = { "config", &f.dev, PART_OFF, 2 * SECTOR };

    /* slot 1's payload unreadable: slot 0 still loads */
    f.bad_lo = PART_OFF + SECTOR + TWOSLOT_PAYLOAD_OFF + 100;
    f.bad_hi = f.bad_lo + 1;
    assert_int_equal(twoslot_load(&fp, loadbuf, sizeof(loadbuf), NULL, NULL, &info), TWOSLOT_OK);
    assert_int_equal(info.slot, 0);
    assert_int_equal(info.state[1], TWOSLOT_SLOT_UNREADABLE);
    assert_false(info.any_corrupt);
    /* but a save refuses: the unreadable slot might have been the newest */
    uint32_t erases = flash_sim_stats(&sim)->erases;
    assert_int_equal(twoslot_save(&fp, v1, sizeof(v1), NULL), TWOSLOT_ERR_IO);
    assert_int_equal(flash_sim_stats(&sim)->erases, erases);

    /* everything unreadable: an I/O error, not "not found" */
    f.bad_lo = 0;
    f.bad_hi = SIZE;
    assert_int_equal(twoslot_load(&fp, loadbuf, sizeof(loadbuf), NULL, NULL, &info),
                     TWOSLOT_ERR_IO);
    assert_int_equal(info.state[0], TWOSLOT_SLOT_UNREADABLE);
    assert_int_equal(info.state[1], TWOSLOT_SLOT_UNREADABLE);
}

static void test_verify(void **state)
{
    (void)state;
    uint8_t v1[200], v2[300];

    make_blob(v1, sizeof(v1), 60);
    faulty_t f = faulty_wrap();
    flash_part_t fp = { "config", &f.dev, PART_OFF, 2 * SECTOR };
    assert_int_equal(twoslot_save(&fp, v1, sizeof(v1), NULL), TWOSLOT_OK);
    /* a bit that does not program is caught by the read-back */
    make_blob(v2, sizeof(v2), 61);
    v2[0] &= 0xFE;
    f.drop_bit = 1;
    assert_int_equal(twoslot_save(&fp, v2, sizeof(v2), NULL), TWOSLOT_ERR_VERIFY);
    /* the previous configuration is still the one loaded */
    expect_loaded(v1, sizeof(v1), 1, 0);
}

static void test_io_error_on_save(void **state)
{
    (void)state;
    uint8_t v1[200], v2[300];

    make_blob(v1, sizeof(v1), 70);
    make_blob(v2, sizeof(v2), 71);
    assert_int_equal(twoslot_save(&part, v1, sizeof(v1), NULL), TWOSLOT_OK);
    for (uint32_t nth = 1; nth <= 3; nth++) {
        flash_sim_cut_arm(&sim, nth, FLASH_SIM_CUT_BEFORE, 0);
        assert_int_equal(twoslot_save(&part, v2, sizeof(v2), NULL), TWOSLOT_ERR_IO);
        flash_sim_power_on(&sim);
        expect_loaded(v1, sizeof(v1), 1, 0);
    }
}

/* ---- power cuts, exhaustively -------------------------------------------- */

/* The scenario: from a blank partition save v1, v2, v3, then factory-reset.
 * Lengths and contents differ so any mix of two would be seen. */
#define STEPS 4
static uint8_t versions[3][TWOSLOT_MAX];
static const size_t version_len[3] = { 1001, TWOSLOT_MAX, 77 };

/* Runs the scenario until a step fails (the power cut).  Returns the number
 * of steps that completed with success. */
static int run_scenario(void)
{
    for (int i = 0; i < STEPS; i++) {
        int r = i < 3 ? twoslot_save(&part, versions[i], version_len[i], NULL)
                      : twoslot_erase(&part);
        if (r != TWOSLOT_OK) {
            assert_int_equal(r, TWOSLOT_ERR_IO);   /* only the power cut may fail it */
            return i;
        }
    }
    return STEPS;
}

/* After the reboot: which version loads (0..2), or -1 for none. */
static int reboot_and_load(void)
{
    size_t len = 0;
    uint32_t seq = 0;
    twoslot_info_t info;

    flash_sim_power_on(&sim);
    memset(loadbuf, 0xA5, sizeof(loadbuf));
    int r = twoslot_load(&part, loadbuf, sizeof(loadbuf), &len, &seq, &info);
    if (r == TWOSLOT_ERR_NOTFOUND) {
        return -1;
    }
    assert_int_equal(r, TWOSLOT_OK);
    for (int v = 0; v < 3; v++) {
        if (len == version_len[v] && memcmp(loadbuf, versions[v], len) == 0) {
            assert_int_equal(seq, (uint32_t)v + 1u);   /* and with its own generation */
            return v;
        }
    }
    fail_msg("loaded %zu bytes (gen %u) that match no saved version", len, (unsigned)seq);
    return -2;
}

static void power_cut_scenario(uint32_t prog_size)
{
    static const flash_sim_cut_t modes[] = { FLASH_SIM_CUT_BEFORE, FLASH_SIM_CUT_AFTER,
                                             FLASH_SIM_CUT_TORN };
    /* Torn prefixes: inside and at the edges of the header, inside the
     * payload, and whole (the op completes but reports the cut). */
    static const uint32_t torn[] = { 0, 1, 2, 3, 4, 7, 8, 11, 12, 15, 16, 19, 20, 21, 22, 23,
                                     24, 31, 32, 33, 100, 1000, 2048, 3583, 4095, 4096 };
    unsigned cases = 0;

    for (int v = 0; v < 3; v++) {
        make_blob(versions[v], version_len[v], 100u + (unsigned)v);
    }

    /* Dry run: count the program/erase operations and where each step starts. */
    uint32_t step_start[STEPS + 1];
    sim_setup(prog_size);
    for (int i = 0; i < STEPS; i++) {
        const flash_sim_stats_t *st = flash_sim_stats(&sim);
        step_start[i] = st->programs + st->erases;
        assert_int_equal(i < 3 ? twoslot_save(&part, versions[i], version_len[i], NULL)
                               : twoslot_erase(&part),
                         TWOSLOT_OK);
    }
    step_start[STEPS] = flash_sim_stats(&sim)->programs + flash_sim_stats(&sim)->erases;
    uint32_t total = step_start[STEPS];
    assert_true(total >= 3 * 3 + 2);

    for (uint32_t op = 1; op <= total; op++) {
        for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
            size_t nt = modes[m] == FLASH_SIM_CUT_TORN ? sizeof(torn) / sizeof(torn[0]) : 1;
            for (size_t t = 0; t < nt; t++) {
                sim_setup(prog_size);
                flash_sim_cut_arm(&sim, op, modes[m], torn[t]);
                int done = run_scenario();
                assert_false(flash_sim_is_powered(&sim));   /* the cut did happen */

                /* the step the cut fell into (0-based), from the dry run */
                int step = 0;
                while (op > step_start[step + 1]) {
                    step++;
                }
                /* the step hit by the cut fails, unless the cut came after
                 * its very last operation (an erase: nothing left to check) */
                bool cut_after_last = modes[m] == FLASH_SIM_CUT_AFTER && op == step_start[step + 1];
                assert_true(done == step || (done == step + 1 && cut_after_last));
                int loaded = reboot_and_load();
                /* what was there before the step, and what the step makes */
                int before = step == 0 ? -1 : (step <= 3 ? step - 1 : 2);
                int after = step < 3 ? step : -1;
                if (loaded != before && loaded != after) {
                    fail_msg("cut at op %u (step %d, mode %d, torn %u): loaded %d, "
                             "expected %d or %d", (unsigned)op, step, (int)modes[m],
                             (unsigned)torn[t], loaded, before, after);
                }
                /* a cut before the step's first op changes nothing */
                if (op == step_start[step] + 1 && modes[m] == FLASH_SIM_CUT_BEFORE) {
                    assert_int_equal(loaded, before);
                }
                /* once the step's last op (a save's header) is done, it is committed */
                if (cut_after_last) {
                    assert_int_equal(loaded, after);
                }

                /* The device keeps working after the reboot: a new save
                 * succeeds and is the one loaded, again after a second reboot. */
                uint8_t next[123];
                make_blob(next, sizeof(next), 999);
                assert_int_equal(twoslot_save(&part, next, sizeof(next), NULL), TWOSLOT_OK);
                flash_sim_power_on(&sim);
                size_t len = 0;
                assert_int_equal(twoslot_load(&part, loadbuf, sizeof(loadbuf), &len, NULL, NULL),
                                 TWOSLOT_OK);
                assert_int_equal(len, sizeof(next));
                assert_memory_equal(loadbuf, next, sizeof(next));
                assert_int_equal(flash_sim_stats(&sim)->nor_errors, 0);
                expect_outside_untouched();
                cases++;
            }
        }
    }
    print_message("    %u power cuts over %u operations (prog_size %u)\n", cases,
                  (unsigned)total, (unsigned)prog_size);
}

static void test_power_cut_every_op(void **state)
{
    (void)state;
    power_cut_scenario(1);
}

static void test_power_cut_every_op_wide_prog(void **state)
{
    (void)state;
    power_cut_scenario(8);   /* the 77-byte v3 has a padded tail program */
}

/* A slot longer than any save writes (TWOSLOT_MAX), though it fits the
 * sector and its CRCs are right, is not a configuration (issue 17). */
static void test_longer_than_max(void **state)
{
    (void)state;
    static uint8_t big[TWOSLOT_MAX + 1];
    twoslot_info_t info;

    assert_true(TWOSLOT_MAX + 1u + TWOSLOT_PAYLOAD_OFF <= SECTOR);
    make_blob(big, sizeof(big), 41);
    craft_slot(0, 7, TWOSLOT_FORMAT_VERSION, big, sizeof(big));
    assert_int_equal(twoslot_load(&part, loadbuf, sizeof(loadbuf), NULL, NULL, &info),
                     TWOSLOT_ERR_NOTFOUND);
    assert_int_equal(info.state[0], TWOSLOT_SLOT_CORRUPT);
    assert_true(info.any_corrupt);
    /* exactly TWOSLOT_MAX is fine */
    craft_slot(1, 8, TWOSLOT_FORMAT_VERSION, big, TWOSLOT_MAX);
    expect_loaded(big, TWOSLOT_MAX, 8, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_geometry, setup),
        cmocka_unit_test_setup(test_state_names, setup),
        cmocka_unit_test_setup(test_blank_partition, setup),
        cmocka_unit_test_setup(test_round_trip, setup),
        cmocka_unit_test_setup(test_sizes, setup),
        cmocka_unit_test_setup(test_alternation, setup),
        cmocka_unit_test_setup(test_sequence_wrap, setup),
        cmocka_unit_test_setup(test_corrupt_header, setup),
        cmocka_unit_test_setup(test_corrupt_payload, setup),
        cmocka_unit_test_setup(test_all_corrupt, setup),
        cmocka_unit_test_setup(test_bad_length_and_magic, setup),
        cmocka_unit_test_setup(test_payload_without_header, setup),
        cmocka_unit_test_setup(test_unsupported_version, setup),
        cmocka_unit_test_setup(test_erase, setup),
        cmocka_unit_test_setup(test_prog_granularity, setup),
        cmocka_unit_test_setup(test_unreadable, setup),
        cmocka_unit_test_setup(test_verify, setup),
        cmocka_unit_test_setup(test_io_error_on_save, setup),
        cmocka_unit_test_setup(test_power_cut_every_op, setup),
        cmocka_unit_test_setup(test_power_cut_every_op_wide_prog, setup),
        cmocka_unit_test_setup(test_longer_than_max, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
