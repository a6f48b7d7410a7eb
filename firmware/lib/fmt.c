/*
 * fmt.c - tiny heap-free printf-style formatter (see fmt.h for the subset).
 */
#include "lib/fmt.h"

#include <limits.h>
#include <stdint.h>
#include <string.h>

typedef struct {
    char *buf;
    size_t size;
    size_t pos; /* bytes the full output has so far, may exceed size */
} fmt_out_t;

static void fmt_putc(fmt_out_t *o, char c)
{
    /* keep the last byte for the NUL; count past the end for C99 return */
    if (o->pos + 1u < o->size) {
        o->buf[o->pos] = c;
    }
    o->pos++;
}

static void fmt_putn(fmt_out_t *o, const char *s, size_t n)
{
    while (n-- > 0u) {
        fmt_putc(o, *s++);
    }
}

static void fmt_pad(fmt_out_t *o, char c, size_t n)
{
    while (n-- > 0u) {
        fmt_putc(o, c);
    }
}

/*
 * Emit prefix (sign / "0x"), then `zeros` '0's, then body, justified in
 * `width`. zero_fill extends the zeros instead of padding with spaces
 * (C99 7.19.6.1: '0' flag pads after sign/prefix).
 */
static void fmt_field(fmt_out_t *o, const char *prefix, size_t plen,
                      size_t zeros, const char *body, size_t blen,
                      size_t width, int left, int zero_fill)
{
    size_t len = plen + zeros + blen;
    size_t pad = (width > len) ? (width - len) : 0u;

    if (!left && !zero_fill) {
        fmt_pad(o, ' ', pad);
    }
    fmt_putn(o, prefix, plen);
    if (!left && zero_fill) {
        fmt_pad(o, '0', pad);
    }
    fmt_pad(o, '0', zeros);
    fmt_putn(o, body, blen);
    if (left) {
        fmt_pad(o, ' ', pad);
    }
}

/* Digits of v written backwards ending at end; returns the start. */
static char *fmt_utoa(char *end, unsigned long long v, unsigned base,
                      int upper)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char *p = end;

    /* 64-bit division is a slow libgcc call on Cortex-M3; most values fit */
    if ((v >> 32) == 0u) {
        uint32_t v32 = (uint32_t)v;
        do {
            *--p = digits[v32 % base];
            v32 /= base;
        } while (v32 != 0u);
        return p;
    }
    do {
        *--p = digits[v % base];
        v /= base;
    } while (v != 0u);
    return p;
}

enum { FMT_LEN_NONE, FMT_LEN_HH, FMT_LEN_H, FMT_LEN_L, FMT_LEN_LL, FMT_LEN_Z };

int fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    fmt_out_t o = { buf, size, 0u };
    /* 64-bit octal would need 22; hex/decimal need at most 20 */
    char num[24];
    const char *p = fmt;

    while (*p != '\0') {
        const char *spec = p;
        int left = 0, zero = 0, have_prec = 0, lenmod = FMT_LEN_NONE;
        size_t width = 0u, prec = 0u;

        if (*p != '%') {
            fmt_putc(&o, *p++);
            continue;
        }
        p++;

        for (;; p++) {
            if (*p == '-') {
                left = 1;
            } else if (*p == '0') {
                zero = 1;
            } else {
                break;
            }
        }

        if (*p == '*') {
            int w = va_arg(ap, int);
            p++;
            if (w < 0) {
                left = 1; /* C99: negative '*' width = '-' flag */
                width = (size_t)(-(long)w);
            } else {
                width = (size_t)w;
            }
        } else {
            while (*p >= '0' && *p <= '9') {
                width = width * 10u + (size_t)(*p - '0');
                p++;
            }
        }

        if (*p == '.') {
            p++;
            have_prec = 1;
            if (*p == '*') {
                int pr = va_arg(ap, int);
                p++;
                if (pr < 0) {
                    have_prec = 0; /* C99: negative = precision omitted */
                } else {
                    prec = (size_t)pr;
                }
            } else {
                while (*p >= '0' && *p <= '9') {
                    prec = prec * 10u + (size_t)(*p - '0');
                    p++;
                }
            }
        }

        if (*p == 'h') {
            p++;
            lenmod = FMT_LEN_H;
            if (*p == 'h') {
                p++;
                lenmod = FMT_LEN_HH;
            }
        } else if (*p == 'l') {
            p++;
            lenmod = FMT_LEN_L;
            if (*p == 'l') {
                p++;
                lenmod = FMT_LEN_LL;
            }
        } else if (*p == 'z') {
            p++;
            lenmod = FMT_LEN_Z;
        }

        switch (*p) {
        case '%':
            fmt_putc(&o, '%');
            break;

        case 'c': {
            char c = (char)va_arg(ap, int);
            fmt_field(&o, "", 0u, 0u, &c, 1u, width, left, 0);
            break;
        }

        case 's': {
            const char *s = va_arg(ap, const char *);
            size_t n = 0u;
            if (s == NULL) {
                s = "(null)";
            }
            /* bounded scan: with a precision the array need not be
             * NUL-terminated (C99 7.19.6.1p8) */
            while ((!have_prec || n < prec) && s[n] != '\0') {
                n++;
            }
            fmt_field(&o, "", 0u, 0u, s, n, width, left, 0);
            break;
        }

        case 'd':
        case 'i': {
            long long v;
            unsigned long long mag;
            char *end = num + sizeof num, *d;
            size_t nd, zeros;
            switch (lenmod) {
            case FMT_LEN_HH: v = (signed char)va_arg(ap, int); break;
            case FMT_LEN_H:  v = (short)va_arg(ap, int); break;
            case FMT_LEN_L:  v = va_arg(ap, long); break;
            case FMT_LEN_LL: v = va_arg(ap, long long); break;
            /* signed counterpart of size_t; ptrdiff_t has the same width
             * on every target we build for */
            case FMT_LEN_Z:  v = va_arg(ap, ptrdiff_t); break;
            default:         v = va_arg(ap, int); break;
            }
            /* negate in unsigned to survive LLONG_MIN */
            mag = (v < 0) ? (0ull - (unsigned long long)v)
                          : (unsigned long long)v;
            if (have_prec && prec == 0u && mag == 0u) {
                d = end; /* C99: zero with precision 0 prints no digits */
            } else {
                d = fmt_utoa(end, mag, 10u, 0);
            }
            nd = (size_t)(end - d);
            zeros = (have_prec && prec > nd) ? prec - nd : 0u;
            fmt_field(&o, "-", (v < 0) ? 1u : 0u, zeros, d, nd, width, left,
                      zero && !have_prec);
            break;
        }

        case 'u':
        case 'x':
        case 'X':
        case 'p': {
            unsigned long long v;
            unsigned base = (*p == 'u') ? 10u : 16u;
            char *end = num + sizeof num, *d;
            size_t nd, zeros;
            int is_ptr = (*p == 'p');
            if (is_ptr) {
                v = (uintptr_t)va_arg(ap, void *);
            } else {
                switch (lenmod) {
                case FMT_LEN_HH: v = (unsigned char)va_arg(ap, unsigned); break;
                case FMT_LEN_H:  v = (unsigned short)va_arg(ap, unsigned); break;
                case FMT_LEN_L:  v = va_arg(ap, unsigned long); break;
                case FMT_LEN_LL: v = va_arg(ap, unsigned long long); break;
                case FMT_LEN_Z:  v = va_arg(ap, size_t); break;
                default:         v = va_arg(ap, unsigned); break;
                }
            }
            if (!is_ptr && have_prec && prec == 0u && v == 0u) {
                d = end;
            } else {
                d = fmt_utoa(end, v, base, *p == 'X');
            }
            nd = (size_t)(end - d);
            zeros = (have_prec && prec > nd) ? prec - nd : 0u;
            fmt_field(&o, "0x", is_ptr ? 2u : 0u, zeros, d, nd, width, left,
                      zero && !have_prec);
            break;
        }

        default:
            /* unsupported or truncated spec: copy it verbatim */
            if (*p == '\0') {
                fmt_putn(&o, spec, (size_t)(p - spec));
                continue;
            }
            fmt_putn(&o, spec, (size_t)(p - spec) + 1u);
            break;
        }
        p++;
    }

    if (size > 0u) {
        o.buf[(o.pos < size) ? o.pos : size - 1u] = '\0';
    }
    return (o.pos > (size_t)INT_MAX) ? INT_MAX : (int)o.pos;
}

int fmt_snprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = fmt_vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}
