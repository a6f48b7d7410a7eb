/* unit: firmware/smtp/smtpd_guard.c */
/* The slow-client rules: the idle limit keeps RFC 5321's 5 minutes while half
 * the pool is free and shrinks to SMTPD_IDLE_MIN_MS when it is full; DATA has
 * its 10 minute deadline always and the minimum rate only under pressure. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "smtp/smtpd_guard.h"

#define BASE (5u * 60u * 1000u)

static void test_pressure(void **state)
{
    (void)state;
    assert_false(smtpd_guard_pressed(0, 6));
    assert_false(smtpd_guard_pressed(3, 6)); /* half free */
    assert_true(smtpd_guard_pressed(4, 6));
    assert_true(smtpd_guard_pressed(6, 6));
    assert_true(smtpd_guard_pressed(7, 6)); /* never wraps */
    assert_false(smtpd_guard_pressed(0, 1));
    assert_true(smtpd_guard_pressed(1, 1));
}

static void test_idle_limit(void **state)
{
    (void)state;
    assert_int_equal(smtpd_guard_idle_ms(BASE, 1, 6), BASE);
    assert_int_equal(smtpd_guard_idle_ms(BASE, 3, 6), BASE);
    assert_int_equal(smtpd_guard_idle_ms(BASE, 4, 6), BASE * 2u / 3u); /* 2 of 6 free */
    assert_int_equal(smtpd_guard_idle_ms(BASE, 5, 6), BASE / 3u);
    assert_int_equal(smtpd_guard_idle_ms(BASE, 6, 6), SMTPD_IDLE_MIN_MS);
    assert_int_equal(smtpd_guard_idle_ms(BASE, 9, 6), SMTPD_IDLE_MIN_MS);
    /* a large pool nearly full: the floor, never less */
    assert_int_equal(smtpd_guard_idle_ms(BASE, 1999, 2000), SMTPD_IDLE_MIN_MS);
    /* a base below the floor is kept (never longer than configured) */
    assert_int_equal(smtpd_guard_idle_ms(1000u, 6, 6), 1000u);
    assert_int_equal(smtpd_guard_idle_ms(BASE, 0, 0), SMTPD_IDLE_MIN_MS);
    /* monotonic: more sessions open never lengthens the limit */
    for (unsigned u = 0; u < 32; u++) {
        assert_true(smtpd_guard_idle_ms(BASE, u + 1, 32) <= smtpd_guard_idle_ms(BASE, u, 32));
    }
}

static void test_data_deadline(void **state)
{
    (void)state;
    /* the whole block: 10 min, however fast, pressure or not */
    assert_false(smtpd_guard_data_expired(SMTPD_DATA_DEADLINE_MS - 1u, 0xFFFFFFFFu, 1, 6));
    assert_true(smtpd_guard_data_expired(SMTPD_DATA_DEADLINE_MS, 0xFFFFFFFFu, 1, 6));
    assert_true(smtpd_guard_data_expired(SMTPD_DATA_DEADLINE_MS, 0xFFFFFFFFu, 6, 6));
    /* no pressure: a trickle is only bound by the deadline (and the idle timer) */
    assert_false(smtpd_guard_data_expired(SMTPD_DATA_DEADLINE_MS - 1u, 1, 3, 6));
}

static void test_data_rate(void **state)
{
    (void)state;
    /* the grace: nothing is asked of the first SMTPD_DATA_GRACE_MS */
    assert_false(smtpd_guard_data_expired(SMTPD_DATA_GRACE_MS, 0, 6, 6));
    /* then SMTPD_MIN_DATA_RATE bytes per second past the grace */
    uint32_t t = SMTPD_DATA_GRACE_MS + 10000u;
    assert_false(smtpd_guard_data_expired(t, 10u * SMTPD_MIN_DATA_RATE, 6, 6));
    assert_true(smtpd_guard_data_expired(t, 10u * SMTPD_MIN_DATA_RATE - 1u, 6, 6));
    /* a client sending one byte a second is closed within a second of the grace */
    uint32_t s = SMTPD_DATA_GRACE_MS / 1000u;
    while (!smtpd_guard_data_expired(s * 1000u, s, 4, 6)) {
        s++;
    }
    assert_true(s * 1000u <= SMTPD_DATA_GRACE_MS + 1000u + 1000u * 1000u / SMTPD_MIN_DATA_RATE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pressure),
        cmocka_unit_test(test_idle_limit),
        cmocka_unit_test(test_data_deadline),
        cmocka_unit_test(test_data_rate),
    };
    return cmocka_run_group_tests(tests, 0, 0);
}
