/* unit: firmware/tls/users.c firmware/tls/pwhash.c .cache/deps/mbedtls/library/sha256.c .cache/deps/mbedtls/library/platform_util.c */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "tls/users.h"

/* pwhash draws its salt from the board. */
uint32_t board_rand(void);
uint32_t board_rand(void)
{
    static uint32_t x = 12345;
    x = x * 1103515245u + 12345u;
    return x;
}

static void test_hash_check_and_text(void **state)
{
    (void)state;
    pwhash_t a, b;
    pwhash_make(&a, "correct horse");
    pwhash_make(&b, "correct horse");
    assert_memory_not_equal(a.salt, b.salt, PWHASH_SALT_LEN); /* salted: same password, other hash */
    assert_memory_not_equal(a.hash, b.hash, PWHASH_LEN);
    assert_true(pwhash_check(&a, "correct horse"));
    assert_false(pwhash_check(&a, "correct horsE"));
    assert_false(pwhash_check(&a, ""));
    char t[PWHASH_TEXT_MAX];
    pwhash_to_text(&a, t);
    assert_int_equal(strlen(t), 2 * PWHASH_SALT_LEN + 1 + 2 * PWHASH_LEN);
    t[2 * PWHASH_SALT_LEN] = '\0';
    pwhash_t c;
    assert_int_equal(pwhash_from_hex(t, t + 2 * PWHASH_SALT_LEN + 1, &c), 0);
    assert_memory_equal(&a, &c, sizeof(a));
    assert_true(pwhash_check(&c, "correct horse"));
    assert_int_equal(pwhash_from_hex("00", t + 2 * PWHASH_SALT_LEN + 1, &c), -1);
    assert_int_equal(pwhash_from_hex(t, "zz", &c), -1);
}

static void test_users_table(void **state)
{
    (void)state;
    users_init();
    pwhash_t h;
    pwhash_make(&h, "pw-alice-1");
    assert_int_equal(users_set("alice", &h), USERS_OK);
    assert_true(users_check("alice", "pw-alice-1"));
    assert_false(users_check("alice", "pw-alice-2"));
    assert_false(users_check("bob", "pw-alice-1"));
    assert_int_equal(users_set("", &h), USERS_ERR_NAME);
    assert_int_equal(users_set("a b", &h), USERS_ERR_NAME);
    assert_int_equal(users_set("0123456789012345678901234567890123", &h), USERS_ERR_NAME);
    /* replace keeps one entry */
    pwhash_make(&h, "pw-alice-2");
    assert_int_equal(users_set("alice", &h), USERS_OK);
    assert_true(users_check("alice", "pw-alice-2"));
    int n = 0;
    for (int i = users_next(-1); i >= 0; i = users_next(i)) {
        n++;
    }
    assert_int_equal(n, 1);
    char name[8];
    for (int i = 1; i < USERS_MAX; i++) {
        name[0] = 'u';
        name[1] = (char)('0' + i);
        name[2] = 0;
        assert_int_equal(users_set(name, &h), USERS_OK);
    }
    assert_int_equal(users_set("full", &h), USERS_ERR_FULL);
    assert_int_equal(users_del("alice"), USERS_OK);
    assert_int_equal(users_del("alice"), USERS_ERR_NOTFOUND);
    assert_false(users_check("alice", "pw-alice-2"));
    assert_int_equal(users_set("full", &h), USERS_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash_check_and_text),
        cmocka_unit_test(test_users_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
