/* unit: firmware/lib/date.c */
/* The civil-date routine: fixed points (epoch, leap days, 2038, 2100, the
 * end of u32 time), a day-by-day round trip from 1600 to 2400 that also
 * checks every date follows the one before, the leap-year rule, and the
 * split of Unix time against the C library's gmtime_r(). */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "lib/date.h"

static void expect_civil(int32_t days, int y, unsigned m, unsigned d)
{
    int yy;
    unsigned mm, dd;
    date_civil_from_days(days, &yy, &mm, &dd);
    assert_int_equal(yy, y);
    assert_int_equal(mm, m);
    assert_int_equal(dd, d);
    assert_int_equal(date_days_from_civil(y, m, d), days);
}

static void test_fixed_points(void **state)
{
    (void)state;
    expect_civil(0, 1970, 1, 1);
    expect_civil(-1, 1969, 12, 31);
    expect_civil(59, 1970, 3, 1);           /* 1970 is not a leap year */
    expect_civil(789, 1972, 2, 29);         /* first leap day after the epoch */
    expect_civil(10957, 2000, 1, 1);
    expect_civil(11016, 2000, 2, 29);       /* 2000: divisible by 400, leap */
    expect_civil(11017, 2000, 3, 1);
    expect_civil(24855, 2038, 1, 19);       /* 2^31 s lands on this day */
    expect_civil(47540, 2100, 2, 28);
    expect_civil(47541, 2100, 3, 1);        /* 2100: century, not leap */
    expect_civil(49710, 2106, 2, 7);        /* UINT32_MAX s */
    expect_civil(-25509, 1900, 2, 28);
    expect_civil(-25508, 1900, 3, 1);       /* 1900: century, not leap */
    expect_civil(-719468, 0, 3, 1);         /* the algorithm's own origin */
}

static void test_round_trip_1600_2400(void **state)
{
    (void)state;
    int32_t first = date_days_from_civil(1600, 1, 1), last = date_days_from_civil(2400, 12, 31);
    int py = 1599;
    unsigned pm = 12, pd = 31;
    unsigned leap_days = 0;
    for (int32_t z = first; z <= last; z++) {
        int y;
        unsigned m, d;
        date_civil_from_days(z, &y, &m, &d);
        assert_true(date_valid(y, m, d));
        assert_int_equal(date_days_from_civil(y, m, d), z);
        /* the next day of the one before: same month +1, or the 1st of the next */
        if (d == 1) {
            assert_true((m == pm + 1 && y == py) || (m == 1 && pm == 12 && y == py + 1));
            assert_false(date_valid(py, pm, pd + 1));
        } else {
            assert_int_equal(y, py);
            assert_int_equal(m, pm);
            assert_int_equal(d, pd + 1);
        }
        leap_days += m == 2 && d == 29;
        py = y;
        pm = m;
        pd = d;
    }
    assert_int_equal(py, 2400);
    /* 801 years, 1600..2400: 201 multiples of 4, minus 1700, 1800, 1900,
     * 2100, 2200, 2300 (1600, 2000, 2400 are leap). */
    assert_int_equal(leap_days, 201 - 6);
    assert_int_equal(last - first + 1, 801 * 365 + 195);
}

static void test_valid(void **state)
{
    (void)state;
    assert_true(date_valid(2024, 2, 29));
    assert_false(date_valid(2023, 2, 29));
    assert_true(date_valid(2000, 2, 29));
    assert_false(date_valid(1900, 2, 29));
    assert_false(date_valid(2100, 2, 29));
    assert_true(date_valid(2400, 2, 29));
    assert_false(date_valid(2026, 4, 31));
    assert_true(date_valid(2026, 12, 31));
    assert_false(date_valid(2026, 0, 1));
    assert_false(date_valid(2026, 13, 1));
    assert_false(date_valid(2026, 1, 0));
    assert_false(date_valid(2026, 1, 32));
}

static void expect_unix(uint32_t t, int y, unsigned mo, unsigned d, unsigned h, unsigned mi, unsigned s,
                        unsigned wday)
{
    date_tm_t tm;
    date_from_unix(t, &tm);
    assert_int_equal(tm.year, y);
    assert_int_equal(tm.mon, mo);
    assert_int_equal(tm.mday, d);
    assert_int_equal(tm.hour, h);
    assert_int_equal(tm.min, mi);
    assert_int_equal(tm.sec, s);
    assert_int_equal(tm.wday, wday);
}

static void test_from_unix(void **state)
{
    (void)state;
    expect_unix(0, 1970, 1, 1, 0, 0, 0, 4);                  /* a Thursday */
    expect_unix(951782400u, 2000, 2, 29, 0, 0, 0, 2);        /* Tuesday */
    expect_unix(2147483647u, 2038, 1, 19, 3, 14, 7, 2);      /* the s32 limit */
    expect_unix(2147483648u, 2038, 1, 19, 3, 14, 8, 2);      /* ...and past it */
    expect_unix(4107542399u, 2100, 2, 28, 23, 59, 59, 0);    /* Sunday */
    expect_unix(4107542400u, 2100, 3, 1, 0, 0, 0, 1);
    expect_unix(UINT32_MAX, 2106, 2, 7, 6, 28, 15, 0);
}

/* Against the C library over all of u32 time, in steps that hit every
 * second of the day and every weekday. */
static void test_against_gmtime(void **state)
{
    (void)state;
    for (uint64_t t = 0; t <= UINT32_MAX; t += 7919u * 13u) {
        time_t tt = (time_t)t;
        struct tm ref;
        assert_non_null(gmtime_r(&tt, &ref));
        date_tm_t tm;
        date_from_unix((uint32_t)t, &tm);
        assert_int_equal(tm.year, ref.tm_year + 1900);
        assert_int_equal(tm.mon, (unsigned)ref.tm_mon + 1);
        assert_int_equal(tm.mday, (unsigned)ref.tm_mday);
        assert_int_equal(tm.hour, (unsigned)ref.tm_hour);
        assert_int_equal(tm.min, (unsigned)ref.tm_min);
        assert_int_equal(tm.sec, (unsigned)ref.tm_sec);
        assert_int_equal(tm.wday, (unsigned)ref.tm_wday);
    }
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(date_wday_name(0), "Sun");
    assert_string_equal(date_wday_name(4), "Thu");
    assert_string_equal(date_wday_name(6), "Sat");
    assert_string_equal(date_month_name(1), "Jan");
    assert_string_equal(date_month_name(12), "Dec");
    assert_string_equal(date_wday_name(7), "???");
    assert_string_equal(date_month_name(0), "???");
    assert_string_equal(date_month_name(13), "???");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixed_points),
        cmocka_unit_test(test_round_trip_1600_2400),
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_from_unix),
        cmocka_unit_test(test_against_gmtime),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
