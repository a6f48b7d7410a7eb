/* clock.h - wall-clock time for Received: headers, DSNs and events.
 *
 * Sources, best first: `clock set` on the console; the
 * board's own clock (the host board's OS time); otherwise the firmware's
 * build time (MTA_BUILD_EPOCH, version.h) plus uptime, so that dates are always valid RFC 5322 dates and
 * never go backwards during a run.  `clock` on the console says which source
 * is in use. */
#ifndef CLOCK_H
#define CLOCK_H

#include <stddef.h>
#include <stdint.h>

typedef enum { CLOCK_SRC_BUILD = 0, CLOCK_SRC_BOARD, CLOCK_SRC_SET } clock_src_t;

/* Seconds since boot (the queue's and the retry schedule's time base). */
uint32_t clock_uptime_s(void);
/* Unix time now (UTC seconds). */
uint32_t clock_now(void);
clock_src_t clock_source(void);
const char *clock_source_name(void);
/* Set the wall clock (console `clock set`). */
void clock_set(uint32_t epoch);
/* Unix time for an uptime in ms (for event timestamps); 0 if not set or board-provided. */
uint32_t clock_at_uptime(uint32_t uptime_ms);
/* "Tue, 24 Nov 2026 23:59:01 +0000"; returns length (fmt_snprintf semantics). */
int clock_rfc5322(char *buf, size_t n);
/* Format any epoch as RFC 5322 / ISO 8601. */
int clock_fmt_rfc5322(uint32_t epoch, char *buf, size_t n);
int clock_fmt_iso(uint32_t epoch, char *buf, size_t n);
/* Parse "YYYY-MM-DDTHH:MM:SS[Z]" (or a space for 'T'); 0 on success.
 * (The calendar itself is lib/date.h.) */
int clock_parse_iso(const char *s, uint32_t *epoch);

#endif
