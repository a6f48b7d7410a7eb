/* fuzz.h - shared by the libFuzzer harnesses in tests/fuzz (tests/README.md).
 *
 * Each harness defines LLVMFuzzerTestOneInput() and checks its module's
 * invariants with FUZZ_CHECK, which aborts, so libFuzzer (or the replay
 * build) reports the input.  fz_t hands out the input's bytes; past its end
 * it gives zeros, so every input is a complete program. */
#ifndef FUZZ_H
#define FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(c)                                                                    \
    do {                                                                                 \
        if (!(c)) {                                                                      \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #c);    \
            abort();                                                                     \
        }                                                                                \
    } while (0)

typedef struct {
    const uint8_t *p;
    size_t n, pos;
} fz_t;

static inline void fz_init(fz_t *f, const uint8_t *p, size_t n)
{
    f->p = p;
    f->n = n;
    f->pos = 0;
}

static inline int fz_more(const fz_t *f)
{
    return f->pos < f->n;
}

static inline uint8_t fz_u8(fz_t *f)
{
    return f->pos < f->n ? f->p[f->pos++] : 0;
}

static inline uint16_t fz_u16(fz_t *f)
{
    uint16_t v = fz_u8(f);
    return (uint16_t)(v | (uint16_t)fz_u8(f) << 8);
}

static inline uint32_t fz_u32(fz_t *f)
{
    uint32_t v = fz_u16(f);
    return v | (uint32_t)fz_u16(f) << 16;
}

/* Up to max bytes (fewer at the end): *len set, pointer into the input. */
static inline const uint8_t *fz_bytes(fz_t *f, size_t max, size_t *len)
{
    size_t n = f->n - f->pos < max ? f->n - f->pos : max;
    const uint8_t *p = f->p + f->pos;
    f->pos += n;
    *len = n;
    return p;
}

/* A NUL-terminated string of up to max bytes (NULs inside become 'x'). */
static inline size_t fz_str(fz_t *f, char *out, size_t max)
{
    size_t n = fz_u8(f);
    if (n > max)
        n = max;
    size_t got;
    const uint8_t *p = fz_bytes(f, n, &got);
    for (size_t i = 0; i < got; i++)
        out[i] = p[i] ? (char)p[i] : 'x';
    out[got] = '\0';
    return got;
}

/* Chunk sizes for "the same input, split": a small LCG from a seed. */
static inline size_t fz_split(uint32_t *seed, size_t left)
{
    *seed = *seed * 1103515245u + 12345u;
    size_t n = 1u + (*seed >> 16) % 48u;
    return n < left ? n : left;
}

/* FNV-1a, to compare outputs too long to keep. */
static inline uint32_t fz_hash(uint32_t h, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 16777619u;
    return h;
}

#endif /* FUZZ_H */
