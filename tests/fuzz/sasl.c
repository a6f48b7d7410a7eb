/* fuzz: firmware/lib/sasl.c */
/* Base64 and SASL PLAIN on any bytes.  Invariants: the strict decoder
 * accepts only canonical text, so encode(decode(x)) == x; decode(encode(x))
 * == x; a decoded PLAIN message gives a non-empty user and password without
 * NUL that fit their buffers and encode back to the same pair; buffers too
 * small are refused, never overrun. */
#include "fuzz.h"

#include "lib/sasl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    static char text[4 * 4096 / 3 + 8], text2[sizeof text];
    static uint8_t bin[4096 + 8];
    const char *s = (const char *)data;

    /* decode any text */
    int n = sasl_b64_decode(s, size, bin, sizeof bin);
    FUZZ_CHECK(n == SASL_ERR_B64 || n == SASL_ERR_SPACE || (n >= 0 && (size_t)n <= size * 3 / 4));
    if (n >= 0 && !(size == 1 && s[0] == '=')) {
        int m = sasl_b64_encode(bin, (size_t)n, text, sizeof text);
        FUZZ_CHECK(m >= 0 && (size_t)m == size && memcmp(text, s, size) == 0);
        if (n > 0)   /* one byte too small an output is refused */
            FUZZ_CHECK(sasl_b64_decode(s, size, bin, (size_t)n - 1) == SASL_ERR_SPACE);
    }

    /* encode any bytes */
    int m = sasl_b64_encode(data, size, text, sizeof text);
    FUZZ_CHECK(m >= 0 && (size_t)m == (size + 2) / 3 * 4 && text[m] == '\0');
    FUZZ_CHECK(sasl_b64_encode(data, size, text2, (size_t)m) == SASL_ERR_SPACE);
    n = sasl_b64_decode(text, (size_t)m, bin, sizeof bin);
    FUZZ_CHECK(n >= 0 && (size_t)n == size && memcmp(bin, data, size) == 0);

    /* PLAIN */
    char user[SASL_USER_MAX], pass[SASL_PASS_MAX];
    memset(user, 0x55, sizeof user);
    memset(pass, 0x55, sizeof pass);
    int r = sasl_plain_decode(s, size, user, sizeof user, pass, sizeof pass);
    FUZZ_CHECK(r == SASL_OK || r == SASL_ERR_B64 || r == SASL_ERR_FORMAT || r == SASL_ERR_SPACE);
    if (r == SASL_OK) {
        size_t ul = strnlen(user, sizeof user), pl = strnlen(pass, sizeof pass);
        FUZZ_CHECK(ul >= 1 && ul < sizeof user && pl >= 1 && pl < sizeof pass);
        FUZZ_CHECK(sasl_plain_encode(user, pass, text, sizeof text) > 0);
        char u2[SASL_USER_MAX], p2[SASL_PASS_MAX];
        FUZZ_CHECK(sasl_plain_decode(text, strlen(text), u2, sizeof u2, p2, sizeof p2) == SASL_OK);
        FUZZ_CHECK(strcmp(u2, user) == 0 && strcmp(p2, pass) == 0);
    }
    /* and PLAIN of the input split at its first two NULs as user and password */
    const uint8_t *z = memchr(data, 0, size);
    if (z) {
        char u[80], p[160];
        size_t ul = (size_t)(z - data) < sizeof u - 1 ? (size_t)(z - data) : sizeof u - 1;
        memcpy(u, data, ul);
        u[ul] = '\0';
        size_t pl = size - (size_t)(z - data) - 1;
        if (pl > sizeof p - 1)
            pl = sizeof p - 1;
        memcpy(p, z + 1, pl);
        p[pl] = '\0';
        int e = sasl_plain_encode(u, p, text, sizeof text);
        if (e > 0) {
            char u2[SASL_USER_MAX], p2[SASL_PASS_MAX];
            FUZZ_CHECK(sasl_plain_decode(text, (size_t)e, u2, sizeof u2, p2, sizeof p2) == SASL_OK);
            FUZZ_CHECK(strcmp(u2, u) == 0 && strcmp(p2, p) == 0);
        } else {
            FUZZ_CHECK(e == SASL_ERR_FORMAT);
            FUZZ_CHECK(!ul || !p[0] || strlen(u) >= SASL_USER_MAX || strlen(p) >= SASL_PASS_MAX);
        }
    }
    return 0;
}
