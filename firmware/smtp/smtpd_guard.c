#include "smtp/smtpd_guard.h"

bool smtpd_guard_pressed(unsigned used, unsigned max)
{
    return used >= max || 2u * (max - used) < max;
}

uint32_t smtpd_guard_idle_ms(uint32_t base_ms, unsigned used, unsigned max)
{
    if (max == 0 || used >= max) {
        return base_ms < SMTPD_IDLE_MIN_MS ? base_ms : SMTPD_IDLE_MIN_MS;
    }
    unsigned free = max - used;
    if (2u * free >= max) {
        return base_ms;
    }
    /* Linear in the free share below one half: base at half, 0 at none. */
    uint32_t limit = (uint32_t)((uint64_t)base_ms * 2u * free / max);
    return limit < SMTPD_IDLE_MIN_MS ? SMTPD_IDLE_MIN_MS : limit;
}

bool smtpd_guard_data_expired(uint32_t elapsed_ms, uint32_t bytes, unsigned used, unsigned max)
{
    if (elapsed_ms >= SMTPD_DATA_DEADLINE_MS) {
        return true;
    }
    if (!smtpd_guard_pressed(used, max) || elapsed_ms <= SMTPD_DATA_GRACE_MS) {
        return false;
    }
    uint64_t due = (uint64_t)(elapsed_ms - SMTPD_DATA_GRACE_MS) * SMTPD_MIN_DATA_RATE / 1000u;
    return (uint64_t)bytes < due;
}
