/* mbedTLS 2.28 configuration of this project (MBEDTLS_CONFIG_FILE).
 *
 * Only what the firmware uses is compiled.  Today that is SHA-256, for the
 * salted console-password hash; the TLS issue extends this file with TLS 1.2,
 * the ECDHE/AES-GCM/ChaCha20-Poly1305 suites and the static buffer allocator.
 * No module here may need a heap: MBEDTLS_PLATFORM_MEMORY stays off and no
 * module that calls calloc is enabled. */
#ifndef PORT_MBEDTLS_CONFIG_H
#define PORT_MBEDTLS_CONFIG_H

#define MBEDTLS_SHA256_C
#define MBEDTLS_SHA256_SMALLER      /* ~1 KiB less flash; hashing speed is irrelevant here */

#include "mbedtls/check_config.h"
#endif
