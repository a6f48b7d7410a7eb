/* unit: firmware/lib/fmt.c */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "lib/fmt.h"

/*
 * Compare fmt_vsnprintf with the host's vsnprintf for the same format and
 * arguments, at several buffer sizes (to exercise truncation), and check
 * that bytes past `size` are never touched.
 */
static void check_vs_host(const char *f, ...) FMT_PRINTF(1, 2);
/* Unchecked twin for formats GCC rightly warns about but C99 defines
 * (e.g. '0' with '-'); the behaviour must still match the host. */
static void check_odd(const char *f, ...);

static void check_va(const char *f, va_list ap)
{
    static const size_t sizes[] = { 0u, 1u, 2u, 3u, 5u, 8u, 17u, 200u };
    size_t i;

    for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        char want[256], got[256];
        va_list a1, a2;
        int rw, rg;

        memset(want, 0x5a, sizeof want);
        memset(got, 0x5a, sizeof got);
        va_copy(a1, ap);
        rw = vsnprintf(sizes[i] ? want : NULL, sizes[i], f, a1);
        va_end(a1);
        va_copy(a2, ap);
        rg = fmt_vsnprintf(sizes[i] ? got : NULL, sizes[i], f, a2);
        va_end(a2);
        if (rw != rg || memcmp(want, got, sizeof want) != 0) {
            print_error("fmt \"%s\" size %zu: host %d \"%s\" fmt %d \"%s\"\n",
                        f, sizes[i], rw, sizes[i] ? want : "",
                        rg, sizes[i] ? got : "");
            fail();
        }
    }
}

static void check_vs_host(const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    check_va(f, ap);
    va_end(ap);
}

static void check_odd(const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    check_va(f, ap);
    va_end(ap);
}

static void test_plain_and_percent(void **state)
{
    (void)state;
    check_odd("");
    check_vs_host("hello");
    check_vs_host("100%%");
    check_vs_host("%%%%x%%");
    check_vs_host("a\tb\r\nc");
}

static void test_strings(void **state)
{
    (void)state;
    check_vs_host("%s", "abc");
    check_vs_host("[%s]", "");
    check_vs_host("[%10s]", "abc");
    check_vs_host("[%-10s]", "abc");
    check_vs_host("[%.2s]", "abcdef");
    check_vs_host("[%.0s]", "abcdef");
    check_vs_host("[%.10s]", "abc");
    check_vs_host("[%8.3s]", "abcdef");
    check_vs_host("[%-8.3s]", "abcdef");
    check_vs_host("[%*s]", 6, "ab");
    check_vs_host("[%*s]", -6, "ab");
    check_vs_host("[%.*s]", 3, "abcdef");
    check_vs_host("[%.*s]", -1, "abcdef");
    check_vs_host("[%*.*s]", 7, 2, "abcdef");
    check_vs_host("%s=%s;%s", "key", "value", "tail");
    check_vs_host("[%2s]", "longer than width");
}

static void test_chars(void **state)
{
    (void)state;
    check_vs_host("%c", 'x');
    check_vs_host("[%3c]", 'x');
    check_vs_host("[%-3c]", 'x');
    check_vs_host("%c%c%c", 'a', 'b', 'c');
    check_vs_host("[%*c]", -4, 'q');
}

static void test_signed(void **state)
{
    (void)state;
    check_vs_host("%d", 0);
    check_vs_host("%d", 42);
    check_vs_host("%i", -42);
    check_vs_host("%d", INT_MAX);
    check_vs_host("%d", INT_MIN);
    check_vs_host("[%5d]", 42);
    check_vs_host("[%-5d]", 42);
    check_vs_host("[%05d]", 42);
    check_vs_host("[%05d]", -42);
    check_odd("[%-05d]", -42);
    check_vs_host("[%.3d]", 7);
    check_vs_host("[%.3d]", -7);
    check_vs_host("[%6.3d]", -7);
    check_odd("[%06.3d]", -7);
    check_vs_host("[%-6.3d]", -7);
    check_vs_host("[%.0d]", 0);
    check_vs_host("[%3.0d]", 0);
    check_vs_host("[%.0d]", 5);
    check_vs_host("[%*d]", 5, 1);
    check_vs_host("[%*d]", -5, 1);
    check_vs_host("[%0*d]", 5, -1);
    check_vs_host("[%.*d]", 4, 3);
    check_vs_host("[%.*d]", -4, 3);
    check_vs_host("[%2d]", 12345);
    check_vs_host("%hhd", 200);
    check_vs_host("%hhd", -128);
    check_vs_host("%hd", 40000);
    check_vs_host("%hd", -32768);
    check_vs_host("%ld", LONG_MAX);
    check_vs_host("%ld", LONG_MIN);
    check_vs_host("%lld", LLONG_MAX);
    check_vs_host("%lld", LLONG_MIN);
    check_vs_host("%lli", -1LL);
    check_vs_host("%zd", (ptrdiff_t)-12345);
}

static void test_unsigned_hex(void **state)
{
    (void)state;
    check_vs_host("%u", 0u);
    check_vs_host("%u", UINT_MAX);
    check_vs_host("%x", 0xdeadbeefu);
    check_vs_host("%X", 0xdeadbeefu);
    check_vs_host("%x", 0u);
    check_vs_host("[%08x]", 0xbeefu);
    check_vs_host("[%-8X]", 0xbeefu);
    check_vs_host("[%8.6x]", 0xbeefu);
    check_odd("[%08.6x]", 0xbeefu);
    check_vs_host("[%.0x]", 0u);
    check_vs_host("[%.0u]", 0u);
    check_vs_host("%hhu", 300u);
    check_vs_host("%hhx", 0x1ffu);
    check_vs_host("%hu", 70000u);
    check_vs_host("%hX", 0x12345u);
    check_vs_host("%lu", ULONG_MAX);
    check_vs_host("%lx", ULONG_MAX);
    check_vs_host("%llu", ULLONG_MAX);
    check_vs_host("%llX", ULLONG_MAX);
    check_vs_host("%llx", 0x0123456789abcdefULL);
    check_vs_host("%zu", (size_t)SIZE_MAX);
    check_vs_host("%zx", (size_t)4096);
    check_vs_host("[%*.*x]", 10, 4, 0xau);
}

static void test_pointer(void **state)
{
    int obj;
    char buf[64];
    int n;

    (void)state;
    check_vs_host("%p", (void *)&obj);
    check_vs_host("[%20p]", (void *)&obj);
    check_vs_host("[%-20p]", (void *)&obj);
    check_vs_host("%p", (void *)(uintptr_t)0x1234);
    /* glibc prints "(nil)"; we deliberately print the value */
    n = fmt_snprintf(buf, sizeof buf, "%p", (void *)NULL);
    assert_int_equal(n, 3);
    assert_string_equal(buf, "0x0");
}

static void test_mixed(void **state)
{
    (void)state;
    check_vs_host("%s:%d: %-6s|%04x|%c|%5.2s|%lu%%", "file.c", 123, "err",
                  0x1fu, 'Z', "xyz", 99UL);
    check_vs_host("250-%s Hello %s [%u.%u.%u.%u]", "mta.local", "client",
                  192u, 168u, 0u, 1u);
    check_vs_host("%*s%-*s|", 4, "a", 4, "b");
}

static void test_truncation_and_return(void **state)
{
    char buf[8];
    int n;

    (void)state;
    memset(buf, 'x', sizeof buf);
    n = fmt_snprintf(buf, sizeof buf, "%s", "0123456789");
    assert_int_equal(n, 10);
    assert_string_equal(buf, "0123456");

    n = fmt_snprintf(NULL, 0, "%d-%s", 12345, "abc");
    assert_int_equal(n, 9);

    memset(buf, 'x', sizeof buf);
    n = fmt_snprintf(buf, 1, "abc");
    assert_int_equal(n, 3);
    assert_int_equal(buf[0], '\0');
    assert_int_equal(buf[1], 'x');
}

static void test_null_string_and_unknown(void **state)
{
    char buf[64];
    int n;

    (void)state;
    {
        const char *volatile nul = NULL;
        n = fmt_snprintf(buf, sizeof buf, "[%s]", nul);
    }
    assert_int_equal(n, 8);
    assert_string_equal(buf, "[(null)]");

    /* precision on a non-terminated array must not read past it */
    {
        static const char raw[3] = { 'a', 'b', 'c' };
        n = fmt_snprintf(buf, sizeof buf, "%.3s", raw);
        assert_int_equal(n, 3);
        assert_string_equal(buf, "abc");
    }

    /* unsupported conversions are copied literally (use a runtime
     * format so the compiler does not flag the deliberate misuse) */
    {
        const char *volatile f1 = "a%5qb";
        const char *volatile f2 = "end%";
        const char *volatile f3 = "end%-08.3l";
        n = fmt_snprintf(buf, sizeof buf, f1);
        assert_string_equal(buf, "a%5qb");
        assert_int_equal(n, 5);
        n = fmt_snprintf(buf, sizeof buf, f2);
        assert_string_equal(buf, "end%");
        assert_int_equal(n, 4);
        n = fmt_snprintf(buf, sizeof buf, f3);
        assert_string_equal(buf, "end%-08.3l");
        assert_int_equal(n, 10);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_and_percent),
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_chars),
        cmocka_unit_test(test_signed),
        cmocka_unit_test(test_unsigned_hex),
        cmocka_unit_test(test_pointer),
        cmocka_unit_test(test_mixed),
        cmocka_unit_test(test_truncation_and_return),
        cmocka_unit_test(test_null_string_and_unknown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
