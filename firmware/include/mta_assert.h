/* mta_assert.h - assertions for bugs, never for input.
 *
 * MTA_ASSERT(c) calls mta_assert_fail() when c is false.  The firmware's
 * implementation (app/app.c) logs event 1003 with the line and powers off
 * with status 4, so that a test run sees the bug instead of going on with
 * corrupt state; unit tests provide their own, which counts.  lwIP's
 * LWIP_PLATFORM_ASSERT reaches the same function (net/lwip_sys.c). */
#ifndef MTA_ASSERT_H
#define MTA_ASSERT_H

void mta_assert_fail(const char *expr, const char *file, int line);

#define MTA_ASSERT(c) \
    do { if (!(c)) { mta_assert_fail(#c, __FILE__, __LINE__); } } while (0)

#endif
