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

/* A record written by hand, as an older firmware or a damaged blob has it. */
static size_t raw_rec(uint8_t *p, uint8_t type, const char *name, const char *data)
{
    size_t nl = strlen(name), dl = strlen(data);
    p[0] = type;
    p[1] = (uint8_t)nl;
    p[2] = (uint8_t)dl;
    p[3] = 0;
    memcpy(p + 4, name, nl);
    memcpy(p + 4 + nl, data, dl);
    return 4 + nl + dl;
}

static int count_key(const uint8_t *blob, size_t len, uint8_t type, const char *name)
{
    size_t pos = 0;
    int n = 0;
    tlsstore_rec_t r;
    while (tlsstore_next(blob, len, &pos, &r) == 1) {
        n += r.type == type && r.name_len == strlen(name) && memcmp(r.name, name, r.name_len) == 0;
    }
    return n;
}

/* Two records of one key (issue 17, finding 4): a replacement removes both,
 * put or append; so does del; until then find gives the newer (the later). */
static void test_duplicates(void **state)
{
    (void)state;
    uint8_t blob[96];
    size_t len = 0;
    len += raw_rec(blob + len, TLSSTORE_CERT, "eth0", "old");
    len += raw_rec(blob + len, TLSSTORE_KEY, "eth0", "k");
    len += raw_rec(blob + len, TLSSTORE_CERT, "eth0", "newer");
    size_t base = len;
    uint8_t copy[96];
    memcpy(copy, blob, len);
    tlsstore_rec_t r;
    assert_int_equal(tlsstore_find(blob, len, TLSSTORE_CERT, "eth0", &r), TLSSTORE_OK);
    assert_int_equal(r.len, 5);
    assert_memory_equal(r.data, "newer", 5);

    assert_int_equal(tlsstore_put(blob, &len, sizeof(blob), TLSSTORE_CERT, "eth0", "PUT", 3), TLSSTORE_OK);
    assert_int_equal(count_key(blob, len, TLSSTORE_CERT, "eth0"), 1);
    assert_int_equal(tlsstore_find(blob, len, TLSSTORE_CERT, "eth0", &r), TLSSTORE_OK);
    assert_memory_equal(r.data, "PUT", 3);
    assert_int_equal(tlsstore_find(blob, len, TLSSTORE_KEY, "eth0", &r), TLSSTORE_OK);

    memcpy(blob, copy, base);
    len = base;
    uint8_t *d = tlsstore_append(blob, &len, sizeof(blob), TLSSTORE_CERT, "eth0", 2);
    assert_non_null(d);
    memcpy(d, "AP", 2);
    assert_int_equal(count_key(blob, len, TLSSTORE_CERT, "eth0"), 1);
    assert_int_equal(tlsstore_find(blob, len, TLSSTORE_CERT, "eth0", &r), TLSSTORE_OK);
    assert_memory_equal(r.data, "AP", 2);

    memcpy(blob, copy, base);
    len = base;
    assert_int_equal(tlsstore_del(blob, &len, TLSSTORE_CERT, "eth0"), TLSSTORE_OK);
    assert_int_equal(tlsstore_find(blob, len, TLSSTORE_CERT, "eth0", &r), TLSSTORE_ERR_NOTFOUND);
    assert_int_equal(tlsstore_find(blob, len, TLSSTORE_KEY, "eth0", &r), TLSSTORE_OK);

    /* the room check counts every old copy: this fits only with both gone */
    memcpy(blob, copy, base);
    len = base;
    size_t fit = sizeof(blob) - (base - 4 - 4 - 5 - 4 - 4 - 3) - 4 - 4;
    assert_int_equal(tlsstore_put(blob, &len, sizeof(blob), TLSSTORE_CERT, "eth0", copy, fit), TLSSTORE_OK);
    assert_int_equal(len, sizeof(blob));
}

/* A corrupt record behind the one replaced (finding 5): the new record must
 * land where find() reaches it, never behind the corruption. */
static void test_write_stops_at_corrupt(void **state)
{
    (void)state;
    uint8_t blob[64];
    size_t len = 0;
    len += raw_rec(blob + len, TLSSTORE_CERT, "eth0", "old");
    len += raw_rec(blob + len, TLSSTORE_SEED, "", "seed");
    size_t bad = len;
    len += raw_rec(blob + len, TLSSTORE_CA, "x", "y");
    blob[bad + 2] = 200;   /* runs past the end */
    tlsstore_rec_t r;
    assert_int_equal(tlsstore_put(blob, &len, sizeof(blob), TLSSTORE_CERT, "eth0", "new", 3), TLSSTORE_OK);
    assert_int_equal(tlsstore_find(blob, len, TLSSTORE_CERT, "eth0", &r), TLSSTORE_OK);
    assert_memory_equal(r.data, "new", 3);
    assert_int_equal(tlsstore_find(blob, len, TLSSTORE_SEED, "", &r), TLSSTORE_OK);
    size_t pos = 0;
    while (tlsstore_next(blob, len, &pos, &r) == 1) {
    }
    assert_int_equal(pos, len);   /* every byte is readable */

    /* append, and a key that was not there before */
    len = bad;
    len += raw_rec(blob + len, TLSSTORE_CA, "x", "y");
    blob[bad + 2] = 200;
    uint8_t *d = tlsstore_append(blob, &len, sizeof(blob), TLSSTORE_KEY, "sl0", 1);
    assert_non_null(d);
    *d = 'K';
    assert_int_equal(tlsstore_find(blob, len, TLSSTORE_KEY, "sl0", &r), TLSSTORE_OK);
    assert_int_equal(r.data[0], 'K');
    /* reads end there too: what is behind it is not found */
    len = bad;
    len += raw_rec(blob + len, TLSSTORE_CA, "x", "y");
    len += raw_rec(blob + len, TLSSTORE_CA, "z", "w");
    blob[bad + 2] = 4;   /* swallows the header of "z" */
    assert_int_equal(tlsstore_find(blob, len, TLSSTORE_CA, "z", &r), TLSSTORE_ERR_CORRUPT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_put_find_replace_del),
        cmocka_unit_test(test_space_and_corrupt),
        cmocka_unit_test(test_append_in_place),
        cmocka_unit_test(test_duplicates),
        cmocka_unit_test(test_write_stops_at_corrupt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
