/* fuzz: firmware/tls/tlsstore.c */
/* The TLS credential records on any blob, then a sequence of writes from
 * the input.  Invariants: after a successful put/append the key has exactly
 * one record, find() returns its data, and the whole blob reads to its end
 * (nothing is written behind a corrupt record); after a successful del the
 * key is gone; a refused write leaves the blob as it was; records of other
 * keys that could be read before still read the same; len <= cap. */
#include "fuzz.h"

#include "tls/tlsstore.h"

#define CAP 512

static const char *const names[] = { "", "eth0", "sl0", "a", "eth00", "0123456789abcdef" };
static const uint8_t types[] = { TLSSTORE_SEED, TLSSTORE_CERT, TLSSTORE_KEY, TLSSTORE_CA };

static int count_key(const uint8_t *b, size_t len, uint8_t t, const char *n)
{
    size_t pos = 0;
    int c = 0;
    tlsstore_rec_t r;
    while (tlsstore_next(b, len, &pos, &r) == 1)
        c += r.type == t && r.name_len == strlen(n) && memcmp(r.name, n, r.name_len) == 0;
    return c;
}

static int readable(const uint8_t *b, size_t len)
{
    size_t pos = 0;
    tlsstore_rec_t r;
    int g;
    while ((g = tlsstore_next(b, len, &pos, &r)) == 1)
        FUZZ_CHECK(pos <= len && r.data + r.len <= b + len);
    return g == 0 && pos >= len;
}

/* What find() gives for every key, as a hash (0x0 = not found/corrupt). */
static void snapshot(const uint8_t *b, size_t len, uint32_t *h)
{
    for (size_t t = 0; t < sizeof types; t++) {
        for (size_t n = 0; n < sizeof names / sizeof names[0]; n++) {
            tlsstore_rec_t r;
            uint32_t v = 0;
            if (tlsstore_find(b, len, types[t], names[n], &r) == TLSSTORE_OK)
                v = fz_hash(2166136261u, r.data, r.len) | 1u;
            h[t * 6 + n] = v;
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_t f;
    fz_init(&f, data, size);
    static uint8_t blob[CAP], copy[CAP];
    size_t len;
    const uint8_t *init = fz_bytes(&f, fz_u16(&f) % (CAP + 1), &len);
    memcpy(blob, init, len);
    uint32_t before[24], after[24];
    while (fz_more(&f)) {
        uint8_t op = fz_u8(&f), k = fz_u8(&f);
        uint8_t type = types[k % sizeof types];
        const char *name = names[(k >> 2) % (sizeof names / sizeof names[0])];
        size_t dlen;
        const uint8_t *d = fz_bytes(&f, fz_u8(&f), &dlen);
        size_t cap = CAP - (op >> 4) * 16u;   /* less room, sometimes */
        if (len > cap)
            cap = len;
        memcpy(copy, blob, len);
        size_t olen = len;
        snapshot(blob, len, before);
        int rc;
        switch (op % 4) {
        case 0:
            rc = tlsstore_put(blob, &len, cap, type, name, d, dlen);
            break;
        case 1: {
            uint8_t *w = tlsstore_append(blob, &len, cap, type, name, dlen);
            rc = w ? TLSSTORE_OK : TLSSTORE_ERR_SPACE;
            if (w) {
                FUZZ_CHECK(w >= blob && w + dlen <= blob + len);
                memcpy(w, d, dlen);
            }
            break;
        }
        case 2:
            rc = tlsstore_del(blob, &len, type, name);
            break;
        default: {
            tlsstore_rec_t r;
            rc = tlsstore_find(blob, len, type, name, &r);
            if (rc == TLSSTORE_OK)
                FUZZ_CHECK(r.data >= blob && r.data + r.len <= blob + len && r.type == type);
            FUZZ_CHECK(len == olen && memcmp(blob, copy, len) == 0);
            continue;
        }
        }
        FUZZ_CHECK(len <= cap);
        if (rc != TLSSTORE_OK) {
            if (op % 4 != 2 || rc == TLSSTORE_ERR_NOTFOUND || rc == TLSSTORE_ERR_CORRUPT)
                FUZZ_CHECK(len == olen && memcmp(blob, copy, len) == 0);
            continue;
        }
        FUZZ_CHECK(readable(blob, len));
        tlsstore_rec_t r;
        if (op % 4 == 2) {
            FUZZ_CHECK(count_key(blob, len, type, name) == 0);
            FUZZ_CHECK(tlsstore_find(blob, len, type, name, &r) == TLSSTORE_ERR_NOTFOUND);
        } else {
            FUZZ_CHECK(count_key(blob, len, type, name) == 1);
            FUZZ_CHECK(tlsstore_find(blob, len, type, name, &r) == TLSSTORE_OK);
            FUZZ_CHECK(r.len == dlen && memcmp(r.data, d, dlen) == 0);
        }
        snapshot(blob, len, after);
        for (size_t t = 0; t < sizeof types; t++) {
            for (size_t n = 0; n < 6; n++) {
                if (types[t] == type && strcmp(names[n], name) == 0)
                    continue;
                if (before[t * 6 + n])
                    FUZZ_CHECK(after[t * 6 + n] == before[t * 6 + n]);
            }
        }
    }
    return 0;
}
