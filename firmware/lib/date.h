/* date.h - the one civil-date routine: days since 1970-01-01 to and from a
 * proleptic Gregorian year, month and day, and a Unix time split into UTC
 * fields.  Pure (no clock, no board): the clock, the event ring, the DSN
 * builder and TLS's certificate dates all go through it. */
#ifndef DATE_H
#define DATE_H

#include <stdbool.h>
#include <stdint.h>

/* A Unix time as UTC fields (the subset of struct tm that mail and logs use). */
typedef struct date_tm {
    int year;           /* e.g. 2026 */
    unsigned mon;       /* 1..12 */
    unsigned mday;      /* 1..31 */
    unsigned hour;      /* 0..23 */
    unsigned min;       /* 0..59 */
    unsigned sec;       /* 0..59: Unix time has no leap second */
    unsigned wday;      /* 0 = Sunday .. 6 = Saturday */
} date_tm_t;

/* Days since 1970-01-01 (negative before) of y-m-d; m 1..12, d 1..31.
 * Any year whose day count fits int32_t; the date need not be valid
 * (2026-02-30 is 2026-03-02): check it with date_valid() first. */
int32_t date_days_from_civil(int y, unsigned m, unsigned d);
/* The inverse: the year, month (1..12) and day (1..31) of a day count. */
void date_civil_from_days(int32_t days, int *y, unsigned *m, unsigned *d);
/* Is y-m-d a day of the Gregorian calendar (leap years: every 4th year,
 * except centuries not divisible by 400)? */
bool date_valid(int y, unsigned m, unsigned d);
/* Split a Unix time (u32: 1970 to 2106) into UTC fields. */
void date_from_unix(uint32_t t, date_tm_t *tm);

/* English abbreviations of RFC 5322 3.3 (day-name, month-name): date_wday_name
 * by wday 0..6 ("Sun".."Sat"), date_month_name by mon 1..12 ("Jan".."Dec"). */
const char *date_wday_name(unsigned wday);
const char *date_month_name(unsigned mon);

#endif /* DATE_H */
