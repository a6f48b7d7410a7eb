/*
 * fmt.h - tiny heap-free printf-style formatter.
 *
 * Pure (no I/O, no allocation, no locale); safe to call from any context
 * that can afford ~100 bytes of stack. Exists because newlib's snprintf
 * may pull in malloc and the firmware has no heap.
 *
 * Supported conversion subset:
 *   %d %i %u %x %X %c %s %p %%
 *   flags      '-' (left-justify), '0' (zero pad numbers)
 *   width      decimal or '*' (negative '*' width means '-' flag)
 *   precision  '.' decimal or '.*' (negative means "none"); for %s it
 *              limits the bytes read, for integers it is the minimum
 *              digit count (C99 rules, "%.0d" of 0 prints nothing)
 *   length     hh h l ll z
 * Anything else (unknown conversion, e.g. %f) is copied literally,
 * including the '%', so mistakes are visible rather than silent.
 * %s of NULL prints "(null)"; %p prints "0x" + lowercase hex (NULL -> "0x0").
 */
#ifndef FMT_H
#define FMT_H

#include <stdarg.h>
#include <stddef.h>

#if defined(__GNUC__)
#define FMT_PRINTF(fmt_idx, first_arg) \
    __attribute__((format(printf, fmt_idx, first_arg)))
#else
#define FMT_PRINTF(fmt_idx, first_arg)
#endif

/*
 * Format into buf (capacity size bytes, including the terminating NUL).
 * When size > 0 the result is always NUL-terminated (truncated if needed);
 * buf may be NULL only when size == 0.
 * Returns the length the complete output would have had, excluding the
 * NUL (C99 snprintf semantics), clamped to INT_MAX. Never negative.
 */
int fmt_snprintf(char *buf, size_t size, const char *fmt, ...) FMT_PRINTF(3, 4);

/* As fmt_snprintf, taking a va_list (ap is consumed as by vsnprintf). */
int fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
    FMT_PRINTF(3, 0);

#endif /* FMT_H */
