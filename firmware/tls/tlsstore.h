/* tlsstore.h - the record format of the TLS credential blobs kept in flash
 * (partitions "tls": seed, certificate chains and keys per netif; "tlsca":
 * CA certificates).  Pure: no I/O, no heap; tls_cred.c loads and saves the blobs
 * atomically with the two-slot store (lib/twoslot).
 *
 * A blob is a sequence of records, each
 *   u8 type | u8 name length | u16 data length (little-endian) | name | data
 * with at most one record per (type, name). */
#ifndef TLSSTORE_H
#define TLSSTORE_H

#include <stddef.h>
#include <stdint.h>

#define TLSSTORE_NAME_MAX 16            /* name bytes (no NUL in the blob) */

#define TLSSTORE_SEED 'S'               /* entropy seed (name "") */
#define TLSSTORE_CERT 'C'               /* DER certificate chain of a netif (name = netif) */
#define TLSSTORE_KEY 'K'                /* DER private key of a netif */
#define TLSSTORE_CA 'A'                 /* DER CA certificate (name = CA name) */

#define TLSSTORE_OK 0
#define TLSSTORE_ERR_CORRUPT (-1)       /* a record runs past the end */
#define TLSSTORE_ERR_SPACE (-2)         /* blob full */
#define TLSSTORE_ERR_NOTFOUND (-3)
#define TLSSTORE_ERR_ARG (-4)           /* name too long, data > 65535 */

typedef struct {
    uint8_t type;
    const char *name;                   /* not NUL-terminated: name_len bytes */
    uint8_t name_len;
    const uint8_t *data;
    uint16_t len;
} tlsstore_rec_t;

/* Record at *pos (advanced past it): 1 = got one, 0 = end, or an error. */
int tlsstore_next(const uint8_t *blob, size_t len, size_t *pos, tlsstore_rec_t *out);
/* The record of (type, name): TLSSTORE_OK or TLSSTORE_ERR_NOTFOUND / CORRUPT. */
int tlsstore_find(const uint8_t *blob, size_t len, uint8_t type, const char *name,
                  tlsstore_rec_t *out);
/* Remove (type, name) if present; *len updated. */
int tlsstore_del(uint8_t *blob, size_t *len, uint8_t type, const char *name);
/* Replace or add (type, name) with dlen bytes of data the caller fills in:
 * returns where to write them, or NULL (name too long, dlen > 65535, no
 * room) with the blob unchanged. */
uint8_t *tlsstore_append(uint8_t *blob, size_t *len, size_t cap, uint8_t type, const char *name, size_t dlen);
/* Replace or add (type, name) = data; on SPACE the blob is unchanged. */
int tlsstore_put(uint8_t *blob, size_t *len, size_t cap, uint8_t type, const char *name,
                 const void *data, size_t dlen);

#endif
