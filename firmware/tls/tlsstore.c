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

static int find_at(const uint8_t *blob, size_t len, uint8_t type, const char *name,
                   tlsstore_rec_t *out, size_t *at, size_t *end)
{
    size_t nl = strlen(name);
    size_t pos = 0;
    tlsstore_rec_t r;
    for (;;) {
        size_t start = pos;
        int g = tlsstore_next(blob, len, &pos, &r);
        if (g <= 0) {
            return g == 0 ? TLSSTORE_ERR_NOTFOUND : g;
        }
        if (r.type == type && r.name_len == nl && memcmp(r.name, name, nl) == 0) {
            if (out != NULL) {
                *out = r;
            }
            *at = start;
            *end = pos;
            return TLSSTORE_OK;
        }
    }
}

int tlsstore_find(const uint8_t *blob, size_t len, uint8_t type, const char *name,
                  tlsstore_rec_t *out)
{
    size_t at, end;
    return find_at(blob, len, type, name, out, &at, &end);
}

int tlsstore_del(uint8_t *blob, size_t *len, uint8_t type, const char *name)
{
    size_t at, end;
    int r = find_at(blob, *len, type, name, NULL, &at, &end);
    if (r != TLSSTORE_OK) {
        return r;
    }
    memmove(blob + at, blob + end, *len - end);
    *len -= end - at;
    return TLSSTORE_OK;
}

static int tlsstore_room(const uint8_t *blob, size_t len, size_t cap, uint8_t type, const char *name,
                         size_t dlen)
{
    size_t nl = strlen(name);
    if (nl > TLSSTORE_NAME_MAX || dlen > 0xFFFFu) {
        return TLSSTORE_ERR_ARG;
    }
    size_t old = 0, at, end;
    int r = find_at(blob, len, type, name, NULL, &at, &end);
    if (r == TLSSTORE_ERR_CORRUPT) {
        return r;
    }
    if (r == TLSSTORE_OK) {
        old = end - at;
    }
    return len - old + HDR + nl + dlen > cap ? TLSSTORE_ERR_SPACE : TLSSTORE_OK;
}

uint8_t *tlsstore_append(uint8_t *blob, size_t *len, size_t cap, uint8_t type, const char *name, size_t dlen)
{
    if (tlsstore_room(blob, *len, cap, type, name, dlen) != TLSSTORE_OK) {
        return NULL;
    }
    (void)tlsstore_del(blob, len, type, name);
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
    int r = tlsstore_room(blob, *len, cap, type, name, dlen);
    if (r != TLSSTORE_OK) {
        return r;
    }
    uint8_t *d = tlsstore_append(blob, len, cap, type, name, dlen);
    memmove(d, data, dlen);
    return TLSSTORE_OK;
}
