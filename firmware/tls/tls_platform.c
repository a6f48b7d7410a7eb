/* mbedTLS platform hooks (declared in mbedtls_config.h): no heap, the MTA's
 * clock, the board's entropy source. */
#include <stdarg.h>
#include <string.h>
#include <time.h>

#include "mbedtls/platform.h"
#include "mbedtls/platform_util.h"
#include "mbedtls/entropy.h"
#include "mbedtls/entropy_poll.h"
#include "board.h"
#include "lib/clock.h"
#include "lib/date.h"
#include "mta_assert.h"

/* Only reached if something allocates before tls_init() installed the
 * buffer allocator: refuse, never fall back to a heap. */
void *port_mbedtls_no_calloc(size_t n, size_t size)
{
    (void)n;
    (void)size;
    return NULL;
}

void port_mbedtls_no_free(void *p)
{
    (void)p;
}

/* The buffer allocator found its own arena corrupted: a bug. */
void port_mbedtls_exit(int status)
{
    (void)status;
    mta_assert_fail("mbedTLS buffer allocator corrupt", __FILE__, __LINE__);
}

int port_mbedtls_fprintf(void *stream, const char *fmt, ...)
{
    (void)stream;
    (void)fmt;
    return 0;
}

int port_mbedtls_printf(const char *fmt, ...)
{
    (void)fmt;
    return 0;
}

long long port_mbedtls_time(long long *t)
{
    long long v = (long long)clock_now();
    if (t != NULL) {
        *t = v;
    }
    return v;
}

struct tm *mbedtls_platform_gmtime_r(const mbedtls_time_t *tt, struct tm *tm_buf)
{
    long long v = *tt;
    if (v < 0) {
        return NULL;
    }
    int y;
    unsigned m, d;
    date_civil_from_days((int32_t)(v / 86400), &y, &m, &d);
    long long s = v % 86400;
    memset(tm_buf, 0, sizeof(*tm_buf));
    tm_buf->tm_year = y - 1900;
    tm_buf->tm_mon = (int)m - 1;
    tm_buf->tm_mday = (int)d;
    tm_buf->tm_hour = (int)(s / 3600);
    tm_buf->tm_min = (int)(s / 60 % 60);
    tm_buf->tm_sec = (int)(s % 60);
    return tm_buf;
}

int mbedtls_hardware_poll(void *data, unsigned char *output, size_t len, size_t *olen)
{
    (void)data;
    if (board_entropy(output, len) != 0) {
        *olen = 0;
        return MBEDTLS_ERR_ENTROPY_SOURCE_FAILED;
    }
    *olen = len;
    return 0;
}
