/* unit: firmware/lib/crc32.c */
/* CRC-32 against published check values, chaining, and a bitwise reference
 * over every byte value, every length up to 64 and random lengths, start
 * alignments and split points (the flash formats depend on it bit for bit;
 * the word-at-a-time loop must agree with the definition wherever a buffer
 * starts and however a caller cuts it). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "lib/crc32.h"

/* The definition, one bit at a time (reflected 0xEDB88320, init and final
 * XOR 0xFFFFFFFF). */
static uint32_t crc_ref(const uint8_t *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    while (n-- != 0) {
        c ^= *p++;
        for (int k = 0; k < 8; k++) {
            c = (c & 1u) ? (c >> 1) ^ 0xEDB88320u : c >> 1;
        }
    }
    return ~c;
}

static void test_check_values(void **state)
{
    (void)state;
    /* The catalogued CRC-32 check value (ISO-HDLC / IEEE 802.3 / zlib). */
    assert_int_equal(crc32_update(0, "123456789", 9), 0xCBF43926u);
    assert_int_equal(crc32_update(0, "", 0), 0);
    assert_int_equal(crc32_update(0, "a", 1), 0xE8B7BE43u);
    assert_int_equal(crc32_update(0, "The quick brown fox jumps over the lazy dog", 43), 0x414FA339u);
    uint8_t zeros[32] = { 0 };
    assert_int_equal(crc32_update(0, zeros, sizeof(zeros)), 0x190A55ADu);
    uint8_t ones[32];
    memset(ones, 0xFF, sizeof(ones));
    assert_int_equal(crc32_update(0, ones, sizeof(ones)), 0xFF6CAB0Bu);
}

static void test_chaining(void **state)
{
    (void)state;
    static const char msg[] = "123456789";
    for (size_t cut = 0; cut <= 9; cut++) {
        uint32_t c = crc32_update(0, msg, cut);
        assert_int_equal(crc32_update(c, msg + cut, 9 - cut), 0xCBF43926u);
    }
}

static void test_against_reference(void **state)
{
    (void)state;
    uint8_t buf[256];
    for (unsigned i = 0; i < sizeof(buf); i++) {
        buf[i] = (uint8_t)(i * 131u + 7u);
    }
    for (unsigned b = 0; b < 256; b++) {
        uint8_t one = (uint8_t)b;
        assert_int_equal(crc32_update(0, &one, 1), crc_ref(&one, 1));
    }
    for (size_t n = 0; n <= 64; n++) {
        assert_int_equal(crc32_update(0, buf, n), crc_ref(buf, n));
    }
    assert_int_equal(crc32_update(0, buf, sizeof(buf)), crc_ref(buf, sizeof(buf)));
}

/* A fixed-seed generator, so a failure reproduces. */
static uint32_t lcg(uint32_t *s)
{
    *s = *s * 1664525u + 1013904223u;
    return *s >> 8;
}

static void test_random_lengths_and_alignments(void **state)
{
    (void)state;
    static uint8_t buf[4096 + 8];
    uint32_t seed = 12345u;
    for (size_t i = 0; i < sizeof(buf); i++) {
        buf[i] = (uint8_t)lcg(&seed);
    }
    for (unsigned round = 0; round < 500; round++) {
        size_t off = lcg(&seed) % 8u;
        size_t n = lcg(&seed) % 4097u;
        size_t cut = n != 0 ? lcg(&seed) % (n + 1u) : 0;
        uint32_t want = crc_ref(buf + off, n);
        assert_int_equal(crc32_update(0, buf + off, n), want);
        uint32_t c = crc32_update(0, buf + off, cut);
        assert_int_equal(crc32_update(c, buf + off + cut, n - cut), want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check_values),
        cmocka_unit_test(test_chaining),
        cmocka_unit_test(test_against_reference),
        cmocka_unit_test(test_random_lengths_and_alignments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
