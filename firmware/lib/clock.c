#include "lib/clock.h"
#include "board.h"
#include "lib/fmt.h"
#include "version.h"

static uint32_t set_epoch, set_uptime_s;
static int is_set;

/* H. Hinnant's days_from_civil / civil_from_days (public-domain algorithms). */
int32_t clock_days_from_civil(int y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153u * (m > 2 ? m - 3u : m + 9u) + 2u) / 5u + d - 1u;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int32_t)doe - 719468;
}

void clock_civil_from_days(int32_t z, int *y, unsigned *m, unsigned *d)
{
    z += 719468;
    const int32_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const int yy = (int)yoe + era * 400;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = yy + (*m <= 2);
}

static uint32_t clock_build_epoch(void)
{
    return (uint32_t)MTA_BUILD_EPOCH;
}

uint32_t clock_uptime_s(void)
{
    return board_now_ms() / 1000u;
}

uint32_t clock_now(void)
{
    uint32_t up = board_now_ms() / 1000u;
    if (is_set) {
        return set_epoch + (up - set_uptime_s);
    }
    uint32_t b = board_wallclock();
    if (b != 0) {
        return b;
    }
    return clock_build_epoch() + up;
}

clock_src_t clock_source(void)
{
    if (is_set) {
        return CLOCK_SRC_SET;
    }
    return board_wallclock() != 0 ? CLOCK_SRC_BOARD : CLOCK_SRC_BUILD;
}

const char *clock_source_name(void)
{
    switch (clock_source()) {
    case CLOCK_SRC_SET:
        return "set on console";
    case CLOCK_SRC_BOARD:
        return "board clock";
    default:
        return "not set: firmware build time + uptime";
    }
}

void clock_set(uint32_t epoch)
{
    set_epoch = epoch;
    set_uptime_s = board_now_ms() / 1000u;
    is_set = 1;
}

uint32_t clock_at_uptime(uint32_t uptime_ms)
{
    if (clock_source() == CLOCK_SRC_BUILD) {
        return 0;
    }
    uint32_t now_up = board_now_ms();
    return clock_now() - (now_up - uptime_ms) / 1000u;
}

int clock_fmt_rfc5322(uint32_t epoch, char *buf, size_t n)
{
    static const char *const wd[] = { "Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed" };
    static const char *const mn[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
    int32_t days = (int32_t)(epoch / 86400u);
    uint32_t s = epoch % 86400u;
    int y;
    unsigned m, d;
    clock_civil_from_days(days, &y, &m, &d);
    return fmt_snprintf(buf, n, "%s, %u %s %d %02u:%02u:%02u +0000", wd[days % 7], d, mn[m - 1], y,
                        (unsigned)(s / 3600), (unsigned)(s / 60 % 60), (unsigned)(s % 60));
}

int clock_fmt_iso(uint32_t epoch, char *buf, size_t n)
{
    int32_t days = (int32_t)(epoch / 86400u);
    uint32_t s = epoch % 86400u;
    int y;
    unsigned m, d;
    clock_civil_from_days(days, &y, &m, &d);
    return fmt_snprintf(buf, n, "%04d-%02u-%02uT%02u:%02u:%02uZ", y, m, d, (unsigned)(s / 3600),
                        (unsigned)(s / 60 % 60), (unsigned)(s % 60));
}

int clock_rfc5322(char *buf, size_t n)
{
    return clock_fmt_rfc5322(clock_now(), buf, n);
}

static int clock_num(const char **p, unsigned digits, unsigned *out)
{
    unsigned v = 0;
    for (unsigned i = 0; i < digits; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9') {
            return -1;
        }
        v = v * 10 + (unsigned)(c - '0');
    }
    *p += digits;
    *out = v;
    return 0;
}

int clock_parse_iso(const char *s, uint32_t *epoch)
{
    unsigned y, mo, d, h, mi, se;
    const char *p = s;
    if (clock_num(&p, 4, &y) || *p++ != '-' || clock_num(&p, 2, &mo) || *p++ != '-' ||
        clock_num(&p, 2, &d) || (*p != 'T' && *p != ' ') || (++p, clock_num(&p, 2, &h)) || *p++ != ':' ||
        clock_num(&p, 2, &mi) || *p++ != ':' || clock_num(&p, 2, &se)) {
        return -1;
    }
    if (*p == 'Z') {
        p++;
    }
    if (*p != 0 || y < 1970 || y > 2105 || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || se > 59) {
        return -1;
    }
    static const unsigned char mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    if (d > mdays[mo - 1] || (mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))) {
        return -1;
    }
    uint64_t e = (uint64_t)clock_days_from_civil((int)y, mo, d) * 86400u + h * 3600u + mi * 60u + se;
    if (e > 0xFFFFFFFFu) {
        return -1;
    }
    *epoch = (uint32_t)e;
    return 0;
}
