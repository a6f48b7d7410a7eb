/* mbedTLS 2.28 configuration of this project (MBEDTLS_CONFIG_FILE).
 *
 * Only what the firmware uses is compiled:
 *  - TLS 1.2 only (client and server), no renegotiation, no session cache or
 *    tickets, no legacy protocols (SSL 3, TLS 1.0/1.1), no CBC, no RC4/3DES.
 *  - Suites: ECDHE with AES-GCM and ChaCha20-Poly1305, for ECDSA and RSA
 *    certificates (port/README.md lists them).  Curves x25519, P-256, P-384.
 *  - X.509 parsing and verification (peer chains, CA certificates), writing
 *    of the self-signed ECDSA P-256 certificate made on first boot.
 *  - Static memory only: MBEDTLS_PLATFORM_MEMORY with the buffer allocator
 *    (memory_buffer_alloc) over tls_cred.c's arena.  The libc calloc/free are
 *    never referenced (port_mbedtls_no_calloc below; the heap check of the
 *    link proves it).
 *  - Entropy: the board's source (mbedtls_hardware_poll, board.h) plus a
 *    seed kept in flash (MBEDTLS_ENTROPY_NV_SEED, see firmware/tls/tls_cred.c).
 *  - Time: the MTA's clock (clock.h) through port hooks, so certificate
 *    validity is checked against the console-set or board time.
 * Sizes that matter for RAM (per TLS session, from the arena):
 *  IN record buffer 16 KiB (a peer may send full-size records), OUT 4 KiB
 *  (we only ever send our own records; a 4 KiB certificate chain fits). */
#ifndef PORT_MBEDTLS_CONFIG_H
#define PORT_MBEDTLS_CONFIG_H

#include <stddef.h>

/* ---- platform ------------------------------------------------------------ */
#define MBEDTLS_PLATFORM_C
#define MBEDTLS_HAVE_ASM             /* bignum inner loop in assembly (UMLAL on Cortex-M3) */
#define MBEDTLS_PLATFORM_MEMORY
#define MBEDTLS_PLATFORM_STD_CALLOC port_mbedtls_no_calloc /* replaced by the buffer allocator */
#define MBEDTLS_PLATFORM_STD_FREE   port_mbedtls_no_free
#define MBEDTLS_PLATFORM_EXIT_MACRO port_mbedtls_exit        /* allocator corruption: a bug */
#define MBEDTLS_PLATFORM_FPRINTF_MACRO port_mbedtls_fprintf  /* allocator debug output: dropped */
#define MBEDTLS_PLATFORM_PRINTF_MACRO port_mbedtls_printf
#define MBEDTLS_PLATFORM_SNPRINTF_MACRO fmt_snprintf         /* X.509 names: firmware/fmt.c */
#define MBEDTLS_PLATFORM_TIME_TYPE_MACRO long long
#define MBEDTLS_PLATFORM_TIME_MACRO port_mbedtls_time
#define MBEDTLS_PLATFORM_GMTIME_R_ALT
#define MBEDTLS_HAVE_TIME
#define MBEDTLS_HAVE_TIME_DATE
#define MBEDTLS_MEMORY_BUFFER_ALLOC_C
#define MBEDTLS_MEMORY_DEBUG        /* current and peak arena use for `show tls` */
#define MBEDTLS_MEMORY_ALIGN_MULTIPLE 8

/* ---- entropy and random ------------------------------------------------- */
#define MBEDTLS_NO_PLATFORM_ENTROPY
#define MBEDTLS_ENTROPY_HARDWARE_ALT      /* mbedtls_hardware_poll(): the board */
#define MBEDTLS_ENTROPY_NV_SEED
#define MBEDTLS_PLATFORM_NV_SEED_READ_MACRO  tls_seed_read
#define MBEDTLS_PLATFORM_NV_SEED_WRITE_MACRO tls_seed_write
#define MBEDTLS_ENTROPY_C
#define MBEDTLS_CTR_DRBG_C

/* ---- hashes, ciphers ---------------------------------------------------- */
#define MBEDTLS_MD_C
#define MBEDTLS_SHA256_C
#define MBEDTLS_SHA256_SMALLER
#define MBEDTLS_SHA512_C             /* SHA-384 suites and certificate signatures */
#define MBEDTLS_SHA512_SMALLER
#define MBEDTLS_CIPHER_C
#define MBEDTLS_AES_C
#define MBEDTLS_AES_ROM_TABLES       /* tables in flash, not 8 KiB of RAM */
#define MBEDTLS_AES_FEWER_TABLES
#define MBEDTLS_GCM_C
#define MBEDTLS_CHACHA20_C
#define MBEDTLS_POLY1305_C
#define MBEDTLS_CHACHAPOLY_C

/* ---- public key --------------------------------------------------------- */
#define MBEDTLS_BIGNUM_C
#define MBEDTLS_MPI_WINDOW_SIZE 2    /* less RAM per exponentiation */
#define MBEDTLS_MPI_MAX_SIZE 512     /* RSA up to 4096 bits */
#define MBEDTLS_ECP_C
#define MBEDTLS_ECP_DP_SECP256R1_ENABLED
#define MBEDTLS_ECP_DP_SECP384R1_ENABLED
#define MBEDTLS_ECP_DP_CURVE25519_ENABLED
#define MBEDTLS_ECP_NIST_OPTIM
#define MBEDTLS_ECP_WINDOW_SIZE 4    /* 8-point comb tables (~1.5 KiB of arena per multiplication) */
#define MBEDTLS_ECP_FIXED_POINT_OPTIM 0  /* no per-curve precomputed tables in RAM */
#define MBEDTLS_ECDH_C
#define MBEDTLS_ECDSA_C
#define MBEDTLS_RSA_C
#define MBEDTLS_PKCS1_V15
#define MBEDTLS_PKCS1_V21
#define MBEDTLS_PK_C
#define MBEDTLS_PK_PARSE_C
#define MBEDTLS_PK_WRITE_C
#define MBEDTLS_ASN1_PARSE_C
#define MBEDTLS_ASN1_WRITE_C
#define MBEDTLS_OID_C
#define MBEDTLS_BASE64_C
#define MBEDTLS_PEM_PARSE_C
#define MBEDTLS_X509_USE_C
#define MBEDTLS_X509_CRT_PARSE_C
#define MBEDTLS_X509_CREATE_C
#define MBEDTLS_X509_CRT_WRITE_C
#define MBEDTLS_X509_MAX_INTERMEDIATE_CA 4

/* ---- TLS ---------------------------------------------------------------- */
#define MBEDTLS_SSL_TLS_C
#define MBEDTLS_SSL_CLI_C
#define MBEDTLS_SSL_SRV_C
#define MBEDTLS_SSL_PROTO_TLS1_2
#define MBEDTLS_KEY_EXCHANGE_ECDHE_ECDSA_ENABLED
#define MBEDTLS_KEY_EXCHANGE_ECDHE_RSA_ENABLED
#define MBEDTLS_SSL_SERVER_NAME_INDICATION
#define MBEDTLS_SSL_EXTENDED_MASTER_SECRET
#define MBEDTLS_SSL_IN_CONTENT_LEN 16384
#define MBEDTLS_SSL_OUT_CONTENT_LEN 4096
#define MBEDTLS_SSL_CIPHERSUITES                                \
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,            \
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,            \
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,      \
    MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,              \
    MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,              \
    MBEDTLS_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256

/* ---- hooks implemented in port/tls_port.c -------------------------------- */
void *port_mbedtls_no_calloc(size_t n, size_t size);
void port_mbedtls_no_free(void *p);
void port_mbedtls_exit(int status);
int port_mbedtls_fprintf(void *stream, const char *fmt, ...);
int port_mbedtls_printf(const char *fmt, ...);
int fmt_snprintf(char *buf, size_t n, const char *fmt, ...);
long long port_mbedtls_time(long long *t);
int tls_seed_read(unsigned char *buf, size_t len);
int tls_seed_write(unsigned char *buf, size_t len);

#include "mbedtls/check_config.h"
#endif
