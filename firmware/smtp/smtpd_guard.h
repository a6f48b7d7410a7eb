/* smtpd_guard.h - how long the SMTP server waits for a slow client.
 *
 * Pure rules, no state: smtpd applies them in smtpd_tick.
 *   - idle: RFC 5321 4.5.3.2.7 asks a server to wait 5 min for a command;
 *     that holds while at least half the session pool is free.  Past that the
 *     limit shrinks with the free share, down to SMTPD_IDLE_MIN_MS when the
 *     pool is full, so idle clients cannot lock out the others (Postfix's
 *     stress mode does the same with 10 s).
 *   - DATA: a whole block gets SMTPD_DATA_DEADLINE_MS (4.5.3.2.6: 10 min),
 *     and while the pool is under pressure (as Postfix applies its
 *     smtpd_min_data_rate only in overload) it must average
 *     SMTPD_MIN_DATA_RATE bytes/s after SMTPD_DATA_GRACE_MS: a client
 *     trickling a byte a second is closed after ~30 s, not after 3 min per
 *     byte. */
#ifndef SMTPD_GUARD_H
#define SMTPD_GUARD_H

#include "mta_opts.h"

#include <stdbool.h>
#include <stdint.h>

/* Under pressure: less than half of the `max` sessions free. */
bool smtpd_guard_pressed(unsigned used, unsigned max);

/* The idle limit, ms, for a pool of `max` sessions of which `used` are open
 * (the one asking included); base_ms is the configured command timeout. */
uint32_t smtpd_guard_idle_ms(uint32_t base_ms, unsigned used, unsigned max);

/* True when a DATA block that started elapsed_ms ago and has brought bytes
 * so far is over its deadline, or below the minimum rate while `used` of
 * `max` sessions are open. */
bool smtpd_guard_data_expired(uint32_t elapsed_ms, uint32_t bytes, unsigned used, unsigned max);

#endif
