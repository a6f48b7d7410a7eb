/* SMTP AUTH helpers: base64 and SASL PLAIN. See sasl.h. */
#include "lib/sasl.h"

#include <string.h>

static const char b64_alpha[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void sasl_wipe(void *p, size_t n)
{
    volatile uint8_t *v = p;
    while (n-- > 0) {
        *v++ = 0;
    }
}

int sasl_b64_encode(const void *in, size_t n, char *out, size_t cap)
{
    const uint8_t *s = in;
    size_t need = (n + 2) / 3 * 4;
    if (out == NULL || cap < need + 1) {
        return SASL_ERR_SPACE;
    }
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16;
        if (i + 1 < n) {
            v |= (uint32_t)s[i + 1] << 8;
        }
        if (i + 2 < n) {
            v |= s[i + 2];
        }
        out[o++] = b64_alpha[(v >> 18) & 63];
        out[o++] = b64_alpha[(v >> 12) & 63];
        out[o++] = i + 1 < n ? b64_alpha[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? b64_alpha[v & 63] : '=';
    }
    out[o] = '\0';
    return (int)o;
}

static int b64_val(char c)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }
    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }
    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }
    if (c == '+') {
        return 62;
    }
    if (c == '/') {
        return 63;
    }
    return -1;
}

int sasl_b64_decode(const char *in, size_t n, uint8_t *out, size_t cap)
{
    if (n == 1 && in[0] == '=') {
        return 0; /* RFC 4954 4: "=" is an empty initial response */
    }
    if (n % 4 != 0) {
        return SASL_ERR_B64;
    }
    size_t o = 0;
    for (size_t i = 0; i < n; i += 4) {
        int v[4];
        int pad = 0;
        for (int k = 0; k < 4; k++) {
            char c = in[i + (size_t)k];
            if (c == '=' && i + 4 == n && k >= 2) {
                v[k] = 0;
                pad++;
                continue;
            }
            if (pad > 0 || (v[k] = b64_val(c)) < 0) {
                return SASL_ERR_B64;
            }
        }
        uint32_t w = ((uint32_t)v[0] << 18) | ((uint32_t)v[1] << 12) | ((uint32_t)v[2] << 6) | (uint32_t)v[3];
        /* Canonical: the bits dropped by padding must be zero. */
        if ((pad == 1 && (w & 0xFFu) != 0) || (pad == 2 && (w & 0xFFFFu) != 0)) {
            return SASL_ERR_B64;
        }
        size_t k = 3u - (size_t)pad;
        if (o + k > cap) {
            return SASL_ERR_SPACE;
        }
        out[o++] = (uint8_t)(w >> 16);
        if (k > 1) {
            out[o++] = (uint8_t)(w >> 8);
        }
        if (k > 2) {
            out[o++] = (uint8_t)w;
        }
    }
    return (int)o;
}

int sasl_plain_decode(const char *b64, size_t n, char *user, size_t ucap,
                      char *pass, size_t pcap)
{
    uint8_t buf[3 * SASL_USER_MAX + SASL_PASS_MAX];
    int r = sasl_b64_decode(b64, n, buf, sizeof(buf));
    if (r < 0) {
        sasl_wipe(buf, sizeof(buf));
        return r == SASL_ERR_SPACE ? SASL_ERR_FORMAT : r;
    }
    size_t len = (size_t)r;
    const uint8_t *z = buf;
    const uint8_t *n1 = memchr(z, 0, len);
    const uint8_t *n2 = n1 != NULL ? memchr(n1 + 1, 0, len - (size_t)(n1 + 1 - buf)) : NULL;
    int rc = SASL_ERR_FORMAT;
    if (n2 != NULL && memchr(n2 + 1, 0, len - (size_t)(n2 + 1 - buf)) == NULL) {
        size_t zl = (size_t)(n1 - buf);
        size_t ul = (size_t)(n2 - n1 - 1);
        size_t pl = len - (size_t)(n2 + 1 - buf);
        if (ul == 0 || pl == 0 || (zl != 0 && (zl != ul || memcmp(z, n1 + 1, ul) != 0))) {
            rc = SASL_ERR_FORMAT;
        } else if (ul + 1 > ucap || pl + 1 > pcap) {
            rc = SASL_ERR_SPACE;
        } else {
            memcpy(user, n1 + 1, ul);
            user[ul] = '\0';
            memcpy(pass, n2 + 1, pl);
            pass[pl] = '\0';
            rc = SASL_OK;
        }
    }
    sasl_wipe(buf, sizeof(buf));
    return rc;
}

int sasl_plain_encode(const char *user, const char *pass, char *out, size_t cap)
{
    uint8_t buf[SASL_USER_MAX + SASL_PASS_MAX];
    size_t ul = strlen(user), pl = strlen(pass);
    if (ul == 0 || pl == 0 || ul >= SASL_USER_MAX || pl >= SASL_PASS_MAX) {
        return SASL_ERR_FORMAT;
    }
    buf[0] = 0;
    memcpy(buf + 1, user, ul);
    buf[1 + ul] = 0;
    memcpy(buf + 2 + ul, pass, pl);
    int r = sasl_b64_encode(buf, ul + pl + 2, out, cap);
    sasl_wipe(buf, sizeof(buf));
    return r;
}
