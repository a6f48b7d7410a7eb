/* pwhash.h - salted, iterated SHA-256 password hashes (console password,
 * SMTP AUTH users) and their hex text form for the running-config.
 * hash = SHA-256^rounds(salt || password), rounds PWHASH_ROUNDS: the device
 * never stores a password it only has to check. */
#ifndef PWHASH_H
#define PWHASH_H

#include "mta_opts.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PWHASH_SALT_LEN 16
#define PWHASH_LEN 32

typedef struct {
    uint8_t salt[PWHASH_SALT_LEN];
    uint8_t hash[PWHASH_LEN];
} pwhash_t;

/* New random salt (board_rand) and the hash of pw. */
void pwhash_make(pwhash_t *h, const char *pw);
/* Constant-time comparison of pw's hash with h. */
bool pwhash_check(const pwhash_t *h, const char *pw);
/* "SALT HASH" as 32 + 64 lowercase hex digits (out >= PWHASH_TEXT_MAX). */
#define PWHASH_TEXT_MAX (2 * PWHASH_SALT_LEN + 1 + 2 * PWHASH_LEN + 1)
void pwhash_to_text(const pwhash_t *h, char *out);
/* Parse the two hex words; 0 or -1 (h unchanged). */
int pwhash_from_hex(const char *salt_hex, const char *hash_hex, pwhash_t *h);
/* Lowercase hex of n bytes into out (2n + 1); and back (exactly 2n digits). */
void pwhash_hex(char *out, const uint8_t *p, size_t n);
int pwhash_unhex(const char *s, uint8_t *out, size_t n);

#endif
