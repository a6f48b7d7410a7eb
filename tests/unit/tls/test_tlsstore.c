/* unit: firmware/tls/tlsstore.c */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "tls/tlsstore.h"

static void test_put_find_replace_del(void **state)
{
    (void)state;
    uint8_t blob[64] = { 0 };
    size_t len = 0;
    tlsstore_rec_t r;
    assert_int_equal(tlsstore_find(blob, len, TLSSTORE_CERT, "eth0", &r), TLSSTORE_ERR_NOTFOUND);
    assert_int_equal(tlsstore_put(blob, &len, sizeof(blob), TLSSTORE_CERT, "eth0", "abc", 3), TLSSTORE_OK);
    assert_int_equal(tlsstore_put(blob, &len, sizeof(blob), TLSSTORE_KEY, "eth0", "k", 1), TLSSTORE_OK);
    assert_int_equal(tlsstore_put(blob, &len, sizeof(blob), TLSSTORE_CERT, "sl0", "xy", 2), TLSSTORE_OK);
    assert_int_equal(tlsstore_find(blob, len, TLSSTORE_CERT, "eth0", &r), TLSSTORE_OK);
    assert_int_equal(r.len, 3);
    assert_memory_equal(r.data, "abc", 3);
    /* replace: one record per (type, name), the new data wins */
    assert_int_equal(tlsstore_put(blob, &len, sizeof(blob), TLSSTORE_CERT, "eth0", "12345", 5), TLSSTORE_OK);
    assert_int_equal(tlsstore_find(blob, len, TLSSTORE_CERT, "eth0", &r), TLSSTORE_OK);
    assert_int_equal(r.len, 5);
    assert_memory_equal(r.data, "12345", 5);
    size_t pos = 0;
    int n = 0;
    while (tlsstore_next(blob, len, &pos, &r) == 1) {
        n++;
    }
    assert_int_equal(n, 3);
    assert_int_equal(tlsstore_del(blob, &len, TLSSTORE_KEY, "eth0"), TLSSTORE_OK);
    assert_int_equal(tlsstore_find(blob, len, TLSSTORE_KEY, "eth0", &r), TLSSTORE_ERR_NOTFOUND);
    assert_int_equal(tlsstore_find(blob, len, TLSSTORE_CERT, "sl0", &r), TLSSTORE_OK);
    assert_memory_equal(r.data, "xy", 2);
}

static void test_space_and_corrupt(void **state)
{
    (void)state;
    uint8_t blob[16] = { 0 };
    size_t len = 0;
    assert_int_equal(tlsstore_put(blob, &len, sizeof(blob), TLSSTORE_CA, "a", "0123456789", 10), TLSSTORE_OK);
    size_t before = len;
    uint8_t copy[16];
    memcpy(copy, blob, len);
    /* does not fit: blob unchanged, even when replacing */
    assert_int_equal(tlsstore_put(blob, &len, sizeof(blob), TLSSTORE_CA, "b", "xx", 2), TLSSTORE_ERR_SPACE);
    assert_int_equal(tlsstore_put(blob, &len, sizeof(blob), TLSSTORE_CA, "a", "0123456789AB", 12), TLSSTORE_ERR_SPACE);
    assert_int_equal(len, before);
    assert_memory_equal(blob, copy, len);
    assert_int_equal(tlsstore_put(blob, &len, sizeof(blob), TLSSTORE_CA, "12345678901234567", "x", 1), TLSSTORE_ERR_ARG);
    /* a length running past the end is corruption, not a crash */
    blob[2] = 200;
    tlsstore_rec_t r;
    size_t pos = 0;
    assert_int_equal(tlsstore_next(blob, len, &pos, &r), TLSSTORE_ERR_CORRUPT);
    assert_int_equal(tlsstore_find(blob, len, TLSSTORE_CA, "zz", &r), TLSSTORE_ERR_CORRUPT);
    assert_int_equal(tlsstore_next(blob, 3, &(size_t){ 0 }, &r), TLSSTORE_ERR_CORRUPT);
}

/* append: the caller fills the data in place; a replaced record is removed
 * first; no room leaves the blob as it was. */
static void test_append_in_place(void **state)
{
    (void)state;
    uint8_t blob[32] = { 0 };
    size_t len = 0;
    uint8_t *d = tlsstore_append(blob, &len, sizeof(blob), TLSSTORE_KEY, "eth0", 4);
    assert_non_null(d);
    memcpy(d, "wxyz", 4);
    assert_int_equal(tlsstore_put(blob, &len, sizeof(blob), TLSSTORE_SEED, "", "s", 1), TLSSTORE_OK);
    d = tlsstore_append(blob, &len, sizeof(blob), TLSSTORE_KEY, "eth0", 2);
    assert_non_null(d);
    memcpy(d, "AB", 2);
    tlsstore_rec_t r;
    assert_int_equal(tlsstore_find(blob, len, TLSSTORE_KEY, "eth0", &r), TLSSTORE_OK);
    assert_int_equal(r.len, 2);
    assert_memory_equal(r.data, "AB", 2);
    assert_int_equal(tlsstore_find(blob, len, TLSSTORE_SEED, "", &r), TLSSTORE_OK);
    size_t before = len;
    assert_null(tlsstore_append(blob, &len, sizeof(blob), TLSSTORE_CA, "x", 30));
    assert_int_equal(len, before);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_put_find_replace_del),
        cmocka_unit_test(test_space_and_corrupt),
        cmocka_unit_test(test_append_in_place),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
