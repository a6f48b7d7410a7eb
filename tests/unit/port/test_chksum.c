/* unit: port/chksum.c */
/* The Internet checksum lwIP uses (LWIP_CHKSUM) against the RFC 1071
 * definition, over random lengths and start alignments (lwIP sums headers
 * and payloads at any address).  On the host this runs the C path; the
 * Cortex-M3's LDM path is exercised by every frame of the integration
 * tests, which fail on any bad checksum. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "chksum.h"

/* The definition: the one's complement sum of the octets as big-endian
 * 16-bit words, the last octet padded with zero; lwIP wants it as a
 * little-endian core reads it, so byte-swapped. */
static uint16_t chksum_ref(const uint8_t *p, size_t n)
{
    uint32_t s = 0;
    for (size_t i = 0; i < n; i += 2) {
        s += (uint32_t)p[i] << 8 | (i + 1 < n ? p[i + 1] : 0u);
        s = (s & 0xFFFFu) + (s >> 16);
    }
    return (uint16_t)(((s & 0xFFu) << 8) | (s >> 8));
}

static uint32_t lcg(uint32_t *s)
{
    *s = *s * 1664525u + 1013904223u;
    return *s >> 8;
}

static void test_known_values(void **state)
{
    (void)state;
    /* RFC 1071 3: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2 (big-endian). */
    static const uint8_t rfc[8] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
    assert_int_equal(port_chksum(rfc, 8), 0xf2ddu);
    assert_int_equal(port_chksum(rfc, 0), 0);
    uint8_t ff[64];
    memset(ff, 0xFF, sizeof(ff));
    assert_int_equal(port_chksum(ff, 64), 0xFFFFu);
}

static void test_random_lengths_and_alignments(void **state)
{
    (void)state;
    static uint8_t buf[1600 + 8];
    uint32_t seed = 7u;
    for (unsigned round = 0; round < 3000; round++) {
        int zeros = round % 7 == 0;
        for (size_t i = 0; i < sizeof(buf); i++) {
            buf[i] = zeros ? 0 : (uint8_t)lcg(&seed);
        }
        size_t off = lcg(&seed) % 8u;
        size_t n = lcg(&seed) % 1601u;
        assert_int_equal(port_chksum(buf + off, (int)n), chksum_ref(buf + off, n));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_values),
        cmocka_unit_test(test_random_lengths_and_alignments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
