#include "lib/clock.h"
#include "board.h"
#include "lib/date.h"
#include "lib/fmt.h"
#include "version.h"

static uint32_t set_epoch, set_uptime_s;
static int is_set;

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
    date_tm_t t;
    date_from_unix(epoch, &t);
    return fmt_snprintf(buf, n, "%s, %u %s %d %02u:%02u:%02u +0000", date_wday_name(t.wday), t.mday,
                        date_month_name(t.mon), t.year, t.hour, t.min, t.sec);
}

int clock_fmt_iso(uint32_t epoch, char *buf, size_t n)
{
    date_tm_t t;
    date_from_unix(epoch, &t);
    return fmt_snprintf(buf, n, "%04d-%02u-%02uT%02u:%02u:%02uZ", t.year, t.mon, t.mday, t.hour, t.min, t.sec);
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
    if (*p != 0 || y < 1970 || y > 2105 || !date_valid((int)y, mo, d) || h > 23 || mi > 59 || se > 59) {
        return -1;
    }
    uint64_t e = (uint64_t)date_days_from_civil((int)y, mo, d) * 86400u + h * 3600u + mi * 60u + se;
    if (e > 0xFFFFFFFFu) {
        return -1;
    }
    *epoch = (uint32_t)e;
    return 0;
}
