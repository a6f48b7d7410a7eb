/* date.c - civil dates (see date.h). */
#include "lib/date.h"

/* H. Hinnant's days_from_civil / civil_from_days (public-domain algorithms,
 * "chrono-Compatible Low-Level Date Algorithms"): years are counted from
 * March, so the leap day is the last day of a year, and in 400-year eras of
 * 146097 days, so no table and no loop is needed.  719468 is the day count
 * from 0000-03-01 to 1970-01-01. */
#define DATE_ERA_DAYS 146097
#define DATE_EPOCH_SHIFT 719468

int32_t date_days_from_civil(int y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);                       /* 0..399 */
    const unsigned doy = (153u * (m > 2 ? m - 3u : m + 9u) + 2u) / 5u + d - 1u; /* 0..365 */
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;           /* 0..146096 */
    return era * DATE_ERA_DAYS + (int32_t)doe - DATE_EPOCH_SHIFT;
}

void date_civil_from_days(int32_t z, int *y, unsigned *m, unsigned *d)
{
    z += DATE_EPOCH_SHIFT;
    const int32_t era = (z >= 0 ? z : z - (DATE_ERA_DAYS - 1)) / DATE_ERA_DAYS;
    const unsigned doe = (unsigned)(z - era * DATE_ERA_DAYS);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const int yy = (int)yoe + era * 400;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = yy + (*m <= 2);
}

bool date_valid(int y, unsigned m, unsigned d)
{
    static const unsigned char mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1]) {
        return false;
    }
    return m != 2 || d != 29 || (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

void date_from_unix(uint32_t t, date_tm_t *tm)
{
    uint32_t days = t / 86400u, sod = t % 86400u;
    date_civil_from_days((int32_t)days, &tm->year, &tm->mon, &tm->mday);
    tm->hour = sod / 3600u;
    tm->min = sod / 60u % 60u;
    tm->sec = sod % 60u;
    tm->wday = (days + 4u) % 7u; /* 1970-01-01 was a Thursday */
}

static const char date_wday[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
static const char date_month[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

const char *date_wday_name(unsigned wday)
{
    return wday < 7 ? date_wday[wday] : "???";
}

const char *date_month_name(unsigned mon)
{
    return mon >= 1 && mon <= 12 ? date_month[mon - 1] : "???";
}
