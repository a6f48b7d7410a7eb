/* TLS credential blob records; see tlsstore.h. */
#include "tls/tlsstore.h"

#include <string.h>

#define HDR 4u

int tlsstore_next(const uint8_t *blob, size_t len, size_t *pos, tlsstore_rec_t *out)
{
    size_t p = *pos;
    if (p >= len) {
        return 0;
    }
    if (len - p < HDR) {
        return TLSSTORE_ERR_CORRUPT;
    }
    size_t nl = blob[p + 1];
    size_t dl = (size_t)blob[p + 2] | ((size_t)blob[p + 3] << 8);
    if (len - p - HDR < nl + dl) {
        return TLSSTORE_ERR_CORRUPT;
    }
    out->type = blob[p];
    out->name_len = (uint8_t)nl;
    out->name = (const char *)blob + p + HDR;
    out->data = blob + p + HDR + nl;
    out->len = (uint16_t)dl;
    *pos = p + HDR + nl + dl;
    return 1;
}

/* The first corrupt record ends the blob for readers and writers alike:
 * nothing after it can be found, so nothing is kept or written there. */
typedef struct {
    size_t valid;       /* bytes before the first corrupt record (or len) */
    size_t matched;     /* bytes of the records of the key within them */
    int corrupt;        /* a corrupt record ended the scan */
    int found;
    tlsstore_rec_t last; /* the last record of the key: the newest */
} scan_t;

static int is_key(const tlsstore_rec_t *r, uint8_t type, const char *name, size_t nl)
{
    return r->type == type && r->name_len == nl && memcmp(r->name, name, nl) == 0;
}

static void scan(const uint8_t *blob, size_t len, uint8_t type, const char *name, scan_t *sc)
{
    size_t nl = strlen(name);
    size_t pos = 0;
    tlsstore_rec_t r;
    memset(sc, 0, sizeof(*sc));
    for (;;) {
        size_t start = pos;
        int g = tlsstore_next(blob, len, &pos, &r);
        if (g <= 0) {
            sc->valid = start;
            sc->corrupt = g < 0;
            return;
        }
        if (is_key(&r, type, name, nl)) {
            sc->matched += pos - start;
            sc->last = r;
            sc->found = 1;
        }
    }
}

int tlsstore_find(const uint8_t *blob, size_t len, uint8_t type, const char *name,
                  tlsstore_rec_t *out)
{
    scan_t sc;
    scan(blob, len, type, name, &sc);
    if (!sc.found) {
        return sc.corrupt ? TLSSTORE_ERR_CORRUPT : TLSSTORE_ERR_NOTFOUND;
    }
    if (out != NULL) {
        *out = sc.last;
    }
    return TLSSTORE_OK;
}

/* Keep the records before *valid* that are not of the key, in order; *len
 * becomes their total (a corrupt tail goes too). */
static void drop_key(uint8_t *blob, size_t *len, size_t valid, uint8_t type, const char *name)
{
    size_t nl = strlen(name);
    size_t pos = 0, out = 0;
    tlsstore_rec_t r;
    while (pos < valid) {
        size_t start = pos;
        if (tlsstore_next(blob, valid, &pos, &r) != 1) {
            break;   /* cannot happen: scan() checked [0, valid) */
        }
        if (!is_key(&r, type, name, nl)) {
            memmove(blob + out, blob + start, pos - start);
            out += pos - start;
        }
    }
    *len = out;
}

int tlsstore_del(uint8_t *blob, size_t *len, uint8_t type, const char *name)
{
    scan_t sc;
    scan(blob, *len, type, name, &sc);
    if (!sc.found) {
        return sc.corrupt ? TLSSTORE_ERR_CORRUPT : TLSSTORE_ERR_NOTFOUND;
    }
    drop_key(blob, len, sc.valid, type, name);
    return TLSSTORE_OK;
}

/* Whether (type, name) with dlen bytes fits once every old record of the key
 * and any corrupt tail are gone; sc gets the scan. */
static int tlsstore_room(const uint8_t *blob, size_t len, size_t cap, uint8_t type, const char *name,
                         size_t dlen, scan_t *sc)
{
    size_t nl = strlen(name);
    if (nl > TLSSTORE_NAME_MAX || dlen > 0xFFFFu) {
        return TLSSTORE_ERR_ARG;
    }
    scan(blob, len, type, name, sc);
    return sc->valid - sc->matched + HDR + nl + dlen > cap ? TLSSTORE_ERR_SPACE : TLSSTORE_OK;
}

uint8_t *tlsstore_append(uint8_t *blob, size_t *len, size_t cap, uint8_t type, const char *name, size_t dlen)
{
    scan_t sc;
    if (tlsstore_room(blob, *len, cap, type, name, dlen, &sc) != TLSSTORE_OK) {
        return NULL;
    }
    /* the new record goes where find() reaches it: behind the last readable one */
    drop_key(blob, len, sc.valid, type, name);
    size_t nl = strlen(name);
    uint8_t *p = blob + *len;
    p[0] = type;
    p[1] = (uint8_t)nl;
    p[2] = (uint8_t)(dlen & 0xFFu);
    p[3] = (uint8_t)(dlen >> 8);
    memcpy(p + HDR, name, nl);
    *len += HDR + nl + dlen;
    return p + HDR + nl;
}

int tlsstore_put(uint8_t *blob, size_t *len, size_t cap, uint8_t type, const char *name,
                 const void *data, size_t dlen)
{
    scan_t sc;
    int r = tlsstore_room(blob, *len, cap, type, name, dlen, &sc);
    if (r != TLSSTORE_OK) {
        return r;
    }
    uint8_t *d = tlsstore_append(blob, len, cap, type, name, dlen);
    if (d == NULL) {
        return TLSSTORE_ERR_SPACE;   /* cannot happen: the same check passed */
    }
    memmove(d, data, dlen);
    return TLSSTORE_OK;
}
