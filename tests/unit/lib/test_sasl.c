/* unit: firmware/lib/sasl.c */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "lib/sasl.h"

/* RFC 4648 section 10 test vectors, both directions. */
static void test_b64_vectors(void **state)
{
    (void)state;
    static const char *plain[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
    static const char *enc[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy" };
    for (size_t i = 0; i < 7; i++) {
        char out[16];
        uint8_t dec[16];
        assert_int_equal(sasl_b64_encode(plain[i], strlen(plain[i]), out, sizeof(out)), (int)strlen(enc[i]));
        assert_string_equal(out, enc[i]);
        assert_int_equal(sasl_b64_decode(enc[i], strlen(enc[i]), dec, sizeof(dec)), (int)strlen(plain[i]));
        assert_memory_equal(dec, plain[i], strlen(plain[i]));
    }
}

static void test_b64_rejects(void **state)
{
    (void)state;
    uint8_t d[16];
    static const char *bad[] = { "Zg=", "Z===", "Zg=a", "Zm9v YmFy", "Zh==", "Zm9=", "Zm!v", "=Zm9", "Zg==Zg==" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(sasl_b64_decode(bad[i], strlen(bad[i]), d, sizeof(d)), SASL_ERR_B64);
    }
    assert_int_equal(sasl_b64_decode("=", 1, d, sizeof(d)), 0);
    assert_int_equal(sasl_b64_decode("Zm9vYmFy", 8, d, 5), SASL_ERR_SPACE);
    char o[4];
    assert_int_equal(sasl_b64_encode("foo", 3, o, sizeof(o)), SASL_ERR_SPACE);
}

static void test_plain_round_trip(void **state)
{
    (void)state;
    char b64[256], user[SASL_USER_MAX], pass[SASL_PASS_MAX];
    int n = sasl_plain_encode("alice", "s3cret pass", b64, sizeof(b64));
    assert_true(n > 0);
    assert_int_equal(sasl_plain_decode(b64, (size_t)n, user, sizeof(user), pass, sizeof(pass)), SASL_OK);
    assert_string_equal(user, "alice");
    assert_string_equal(pass, "s3cret pass");
    /* swaks --auth PLAIN sends authzid = authcid in some versions */
    char m[64];
    memcpy(m, "bob\0bob\0pw", 10);
    n = sasl_b64_encode(m, 10, b64, sizeof(b64));
    assert_int_equal(sasl_plain_decode(b64, (size_t)n, user, sizeof(user), pass, sizeof(pass)), SASL_OK);
    assert_string_equal(user, "bob");
}

static void test_plain_rejects(void **state)
{
    (void)state;
    char b64[256], user[SASL_USER_MAX], pass[SASL_PASS_MAX];
    static const struct { const char *m; size_t n; } bad[] = {
        { "alice\0pw", 8 },               /* one NUL */
        { "\0\0pw", 4 },                  /* empty user */
        { "\0alice\0", 7 },               /* empty password */
        { "eve\0alice\0pw", 12 },         /* proxy authorisation */
        { "\0alice\0p\0w", 10 },          /* NUL in password */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int n = sasl_b64_encode(bad[i].m, bad[i].n, b64, sizeof(b64));
        assert_int_equal(sasl_plain_decode(b64, (size_t)n, user, sizeof(user), pass, sizeof(pass)), SASL_ERR_FORMAT);
    }
    assert_int_equal(sasl_plain_decode("!!!!", 4, user, sizeof(user), pass, sizeof(pass)), SASL_ERR_B64);
    int n = sasl_plain_encode("alice", "pw", b64, sizeof(b64));
    assert_int_equal(sasl_plain_decode(b64, (size_t)n, user, 3, pass, sizeof(pass)), SASL_ERR_SPACE);
    assert_int_equal(sasl_plain_encode("", "pw", b64, sizeof(b64)), SASL_ERR_FORMAT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_b64_vectors),
        cmocka_unit_test(test_b64_rejects),
        cmocka_unit_test(test_plain_round_trip),
        cmocka_unit_test(test_plain_rejects),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
