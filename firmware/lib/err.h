/* err.h - one tagged error type for everything that can go wrong on the way
 * from a queued recipient to a peer MTA.
 *
 * Four code spaces meet on the delivery path: lwIP's err_t (-1..-16), SMTP
 * reply codes (RFC 5321 4.2: 200..599), mbedTLS errors (-0x0001..-0x7FFF)
 * and the firmware's own (the client engine's SMTPC_ERR_*, the queue's and
 * store's *_ERR_*).  As plain ints they collide: SMTPC_ERR_PROTO (-4) reads
 * as lwIP's ERR_RTE, so a peer answering "HTTP/1.0 400" was logged as a
 * routing problem.  mta_err_t keeps the kind beside the code.
 *
 * Size: 4 bytes, the size of the int it replaces (every code above fits a
 * signed 16-bit value), so records that kept an int keep their size. */
#ifndef MTA_ERR_H
#define MTA_ERR_H

#include <stdbool.h>
#include <stdint.h>

typedef enum {
    MTA_ERR_NONE = 0,     /* no error (code 0) */
    MTA_ERR_LWIP,         /* code: lwIP err_t, negative */
    MTA_ERR_SMTP_REPLY,   /* code: the peer's reply code 200..599; 0: a line that is no SMTP reply */
    MTA_ERR_TLS,          /* code: mbedTLS error or TLS_ERR_*, negative */
    MTA_ERR_STORE,        /* code: QUEUE_ERR_* / STORE_ERR_*, negative */
    MTA_ERR_LOCAL,        /* code: the firmware's own (SMTPC_ERR_*), negative */
    MTA_ERR_KIND_COUNT
} mta_err_kind_t;

typedef struct {
    uint8_t kind;         /* mta_err_kind_t */
    int16_t code;         /* meaning per kind, see above */
} mta_err_t;

_Static_assert(sizeof(mta_err_t) == 4, "mta_err_t replaces an int in records");

/* Constructors.  Every code named above fits int16_t. */
static inline mta_err_t mta_err_make(mta_err_kind_t kind, int32_t code)
{
    mta_err_t e = { (uint8_t)kind, (int16_t)code };
    return e;
}
static inline mta_err_t mta_err_none(void) { return mta_err_make(MTA_ERR_NONE, 0); }
static inline mta_err_t mta_err_lwip(int32_t err) { return mta_err_make(MTA_ERR_LWIP, err); }
static inline mta_err_t mta_err_reply(int32_t code) { return mta_err_make(MTA_ERR_SMTP_REPLY, code); }
static inline mta_err_t mta_err_tls(int32_t err) { return mta_err_make(MTA_ERR_TLS, err); }
static inline mta_err_t mta_err_store(int32_t err) { return mta_err_make(MTA_ERR_STORE, err); }
static inline mta_err_t mta_err_local(int32_t err) { return mta_err_make(MTA_ERR_LOCAL, err); }

static inline bool mta_err_ok(mta_err_t e)
{
    return e.kind == MTA_ERR_NONE;
}

#endif
