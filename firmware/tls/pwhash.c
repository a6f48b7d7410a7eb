/* Salted password hashes; see pwhash.h. */
#include "tls/pwhash.h"

#include <string.h>

#include "board.h"
#include "mbedtls/sha256.h"

static void pwhash_compute(const uint8_t *salt, const char *pw, uint8_t *out)
{
    mbedtls_sha256_context c;
    mbedtls_sha256_init(&c);
    mbedtls_sha256_starts_ret(&c, 0);
    mbedtls_sha256_update_ret(&c, salt, PWHASH_SALT_LEN);
    mbedtls_sha256_update_ret(&c, (const uint8_t *)pw, strlen(pw));
    mbedtls_sha256_finish_ret(&c, out);
    for (int i = 1; i < PWHASH_ROUNDS; i++) {
        mbedtls_sha256_starts_ret(&c, 0);
        mbedtls_sha256_update_ret(&c, salt, PWHASH_SALT_LEN);
        mbedtls_sha256_update_ret(&c, out, PWHASH_LEN);
        mbedtls_sha256_finish_ret(&c, out);
    }
    mbedtls_sha256_free(&c);
}

void pwhash_make(pwhash_t *h, const char *pw)
{
    for (int i = 0; i < PWHASH_SALT_LEN; i += 4) {
        uint32_t r = board_rand();
        memcpy(h->salt + i, &r, 4);
    }
    pwhash_compute(h->salt, pw, h->hash);
}

bool pwhash_check(const pwhash_t *h, const char *pw)
{
    uint8_t x[PWHASH_LEN];
    pwhash_compute(h->salt, pw, x);
    uint8_t diff = 0;
    for (int i = 0; i < PWHASH_LEN; i++) {
        diff |= (uint8_t)(x[i] ^ h->hash[i]);
    }
    return diff == 0;
}

void pwhash_hex(char *out, const uint8_t *p, size_t n)
{
    static const char hx[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hx[p[i] >> 4];
        out[2 * i + 1] = hx[p[i] & 15];
    }
    out[2 * n] = 0;
}

int pwhash_unhex(const char *s, uint8_t *out, size_t n)
{
    if (strlen(s) != 2 * n) {
        return -1;
    }
    for (size_t i = 0; i < 2 * n; i++) {
        char c = s[i];
        int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (v < 0) {
            return -1;
        }
        out[i / 2] = (uint8_t)(i % 2 ? (out[i / 2] | v) : (v << 4));
    }
    return 0;
}

void pwhash_to_text(const pwhash_t *h, char *out)
{
    pwhash_hex(out, h->salt, PWHASH_SALT_LEN);
    out[2 * PWHASH_SALT_LEN] = ' ';
    pwhash_hex(out + 2 * PWHASH_SALT_LEN + 1, h->hash, PWHASH_LEN);
}

int pwhash_from_hex(const char *salt_hex, const char *hash_hex, pwhash_t *h)
{
    pwhash_t t;
    if (pwhash_unhex(salt_hex, t.salt, PWHASH_SALT_LEN) < 0 || pwhash_unhex(hash_hex, t.hash, PWHASH_LEN) < 0) {
        return -1;
    }
    *h = t;
    return 0;
}
