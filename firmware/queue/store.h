/*
 * store.h - message store interface (ops vtable).
 *
 * The queue talks to persistent storage only through store_ops_t so that a
 * flash-backed log-structured store can replace the RAM store (store_ram.h)
 * without touching queue or SMTP code.  The contract is shaped for such a log:
 *
 *  - A message is built append-only while unsealed: create (sender),
 *    rcpt_add* (all recipients, before any body), append* (body), seal.
 *  - seal() is the single commit point: after it returns STORE_OK the message
 *    is durable and visible to next()/recover().  A log store writes its commit
 *    record there; the SMTP 250 is sent only after it.
 *  - An unsealed message vanishes on abort(), and after a power cut
 *    (recover() drops it).  Nothing half-stored ever becomes visible.
 *  - Recipient-state changes go through rcpt_update(), which carries only the
 *    small store_rcpt_state_t so a log store appends a short record instead of
 *    rewriting the message.
 *  - Body and addresses are immutable after seal.
 *  - The RFC 3461 parameters are immutable too: RET/ENVID go with create(),
 *    NOTIFY/ORCPT with rcpt_add().  Stores keep them variable-length, so a
 *    message without them costs nothing extra.
 *  - Reports (DSNs) are at-least-once.  The queue commits the DSN message
 *    first and only then marks its recipients STORE_RCPT_F_REPORTED (or
 *    F_WARNED) with rcpt_update(); a power cut between the two repeats the
 *    report after the reboot, never drops it (queue.c, "reports").
 *
 * All functions are non-blocking and single-threaded (NO_SYS=1); none may be
 * called from interrupt context.  Handles are >= 0; a handle stays valid until
 * abort()/del() (or recover(), which drops unsealed handles).
 */
#ifndef STORE_H
#define STORE_H

#include "mta_opts.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Error codes (0 = OK).  Numerically aligned with QUEUE_ERR_*. */
#define STORE_OK            0
#define STORE_ERR_FULL     (-1)  /* no slot or no space */
#define STORE_ERR_TOOBIG   (-2)  /* exceeds what the store can ever hold */
#define STORE_ERR_ARG      (-3)  /* bad argument / bad handle */
#define STORE_ERR_NOTFOUND (-4)  /* no such message / recipient / end of iteration */
#define STORE_ERR_STATE    (-5)  /* operation not allowed in this state (e.g. append after seal) */
#define STORE_ERR_IO       (-6)  /* medium error (flash) */

typedef int32_t store_handle_t;
#define STORE_HANDLE_NONE  ((store_handle_t)-1)

/* RFC 5321 4.5.3.1.3: a path is <= 256 octets including "<>", so 254 for the address. */
#define STORE_ADDR_MAX       254
/* RFC 3463 enhanced code "c.sss.ddd" is at most 9 chars; 12 keeps alignment. */
#define STORE_ENH_SIZE        12
/* Stored text of the peer's last reply line (chars, without NUL): STORE_REPLY_TEXT_MAX,
 * in mta_opts.h (everything the client engine keeps of a line, so a DSN's
 * Diagnostic-Code is the peer's reply as received, not a cut of it). */
/* Remote-MTA name (chars, without NUL): the peer's configured name or "[ip]";
 * RFC 3464 2.3.5.  Our own hostnames have the same bound (NIF_HOSTNAME_MAX). */
#define STORE_REMOTE_MAX     (NIF_HOSTNAME_MAX - 1)
/* Address + ORCPT of one recipient together (chars): a store may keep no
 * more (the flash record's size, store_flash.h); the queue then drops the
 * ORCPT.  "rfc822;" + an address of up to 123 octets always fits. */
#define STORE_RCPT_ID_MAX    STORE_ADDR_MAX
/* RFC 3461 4.4: ENVID is at most 100 characters (kept xtext-encoded, as received). */
#define STORE_ENVID_MAX      100
/* ORCPT kept "addr-type;xtext" as received (RFC 3461 4.2 allows 500), at
 * most STORE_RCPT_ID_MAX with the address (below).  Longer ones are
 * accepted but not kept: the report then has no Original-Recipient and the
 * next hop gets no ORCPT. */
#define STORE_ORCPT_MAX      (STORE_RCPT_ID_MAX - 1)


/* RFC 3461 4.1 NOTIFY bits (store_rcpt_t.notify); 0 = NOTIFY not given,
 * which RFC 3461 4.1 says means FAILURE,DELAY. */
#define STORE_NOTIFY_NEVER   0x01u
#define STORE_NOTIFY_SUCCESS 0x02u
#define STORE_NOTIFY_FAILURE 0x04u
#define STORE_NOTIFY_DELAY   0x08u
/* RFC 3461 4.3 RET (store_msg_t.ret); NONE = not given = headers only. */
#define STORE_RET_NONE       0
#define STORE_RET_FULL       1
#define STORE_RET_HDRS       2

/* RFC 3461 MAIL parameters given to create(); NULL = none. */
typedef struct {
    uint8_t     ret;     /* STORE_RET_* */
    const char *envid;   /* xtext, <= STORE_ENVID_MAX chars, NULL/"" = none */
} store_dsn_t;

/* Persistent recipient states (INFLIGHT is a RAM-only queue overlay, never stored). */
#define STORE_RCPT_PENDING   0   /* never tried */
#define STORE_RCPT_DEFERRED  2   /* retry at next_retry */
#define STORE_RCPT_DELIVERED 3   /* final */
#define STORE_RCPT_FAILED    4   /* final */

/* store_rcpt_state_t.flags */
#define STORE_RCPT_F_EXPIRED  0x01u /* FAILED because the queue lifetime ran out (4.4.7) */
#define STORE_RCPT_F_REPORTED 0x02u /* its final report (failed/relayed) was queued (or dropped: store full) */
#define STORE_RCPT_F_WARNED   0x04u /* its delay warning was queued (or dropped) */
#define STORE_RCPT_F_PEER_DSN 0x08u /* the peer that answered offered DSN (RFC 3461): it reports */

/* Mutable per-recipient state; the unit of rcpt_update(). */
typedef struct {
    uint8_t  state;          /* STORE_RCPT_* */
    uint8_t  flags;          /* STORE_RCPT_F_* */
    uint16_t attempts;       /* delivery attempts so far */
    uint16_t reply_code;     /* last SMTP reply code, 0 = none / connection failure */
    uint16_t reserved;       /* keep 0 */
    uint32_t first_attempt;  /* queue clock seconds, 0 if never attempted */
    uint32_t last_attempt;   /* queue clock seconds, 0 if never attempted */
    uint32_t next_retry;     /* queue clock seconds, meaningful when DEFERRED */
    char     reply_enh[STORE_ENH_SIZE];           /* "5.1.1" or "" */
    char     remote[STORE_REMOTE_MAX + 1];        /* peer that gave the reply, "" = none */
    char     reply_text[STORE_REPLY_TEXT_MAX + 1]; /* printable ASCII, NUL-terminated */
} store_rcpt_state_t;

/* A recipient as read back: immutable address, NOTIFY and ORCPT (given to
 * rcpt_add) + current state. */
typedef struct {
    char               address[STORE_ADDR_MAX + 1];
    uint8_t            notify;                      /* STORE_NOTIFY_* bits, 0 = not given */
    char               orcpt[STORE_ORCPT_MAX + 1];  /* "rfc822;a+2Bb@c" as received, "" = none */
    store_rcpt_state_t st;
} store_rcpt_t;

/* Envelope metadata given at seal time; size and nrcpt are cross-checked. */
typedef struct {
    uint32_t msgid;      /* queue-assigned id, != 0 */
    uint32_t arrival;    /* queue clock seconds at acceptance */
    uint32_t size;       /* body bytes; must equal the bytes appended */
    uint16_t nrcpt;      /* must equal the recipients added */
    uint8_t  src_netif;  /* interface the message arrived on */
} store_env_t;

/* A sealed message's metadata as read back. */
typedef struct {
    uint32_t msgid;
    uint32_t arrival;
    uint32_t size;
    uint16_t nrcpt;
    uint8_t  src_netif;
    uint8_t  ret;                        /* STORE_RET_* */
    char     sender[STORE_ADDR_MAX + 1]; /* "" = null sender */
    char     envid[STORE_ENVID_MAX + 1]; /* RFC 3461 ENVID as received, "" = none */
} store_msg_t;

/* Space accounting, bytes. live + dead <= used; used + free == total. */
typedef struct {
    uint32_t total;     /* capacity of the medium/arena */
    uint32_t used;      /* allocated (live + dead + allocation slack) */
    uint32_t free;      /* immediately allocatable */
    uint32_t live;      /* payload bytes of sealed messages */
    uint32_t dead;      /* allocated but not live: unsealed data, slack, deleted-not-compacted */
    uint16_t msgs;      /* sealed messages */
    uint16_t open;      /* unsealed messages */
    uint16_t max_msgs;  /* message slots (sealed + unsealed) */
} store_stats_t;

/* The argument rules of create() that every store applies: a sender of at
 * most STORE_ADDR_MAX, an ENVID of at most STORE_ENVID_MAX and a known RET.
 * Sets the lengths and whether the DSN fields are to be kept; returns
 * STORE_OK or STORE_ERR_ARG. */
static inline int store_create_args(const char *sender, const store_dsn_t *dsn, size_t *slen,
                                    size_t *elen, int *ext)
{
    const char *envid = dsn != NULL && dsn->envid != NULL ? dsn->envid : "";
    *slen = strlen(sender);
    *elen = strlen(envid);
    *ext = dsn != NULL && (dsn->ret != STORE_RET_NONE || *elen > 0);
    if (*slen > STORE_ADDR_MAX || *elen > STORE_ENVID_MAX || (dsn != NULL && dsn->ret > STORE_RET_HDRS))
        return STORE_ERR_ARG;
    return STORE_OK;
}

typedef struct store_ops {
    /* Boot/recovery: drop every unsealed message (a log store also rebuilds its
     * index here).  Returns the number of sealed messages or < 0. */
    int  (*recover)(void *ctx);
    /* Start an unsealed message.  size_hint (bytes, 0 = unknown) is a soft
     * admission check: STORE_ERR_FULL if no slot or it cannot fit now,
     * STORE_ERR_TOOBIG if it can never fit.  dsn (NULL = none) is kept with
     * the message (info()); an ENVID too long or not printable is
     * STORE_ERR_ARG. */
    int  (*create)(void *ctx, const char *sender, uint32_t size_hint, const store_dsn_t *dsn,
                   store_handle_t *out);
    /* Add a recipient (unsealed, before any append) with its NOTIFY bits
     * and ORCPT (NULL/"" = none; longer than STORE_ORCPT_MAX = STORE_ERR_ARG),
     * both immutable.  Returns its index >= 0, STORE_ERR_FULL (space),
     * STORE_ERR_STATE (after append / sealed). */
    int  (*rcpt_add)(void *ctx, store_handle_t h, const char *addr, uint8_t notify,
                     const char *orcpt);
    /* Append body bytes (unsealed).  All-or-nothing: on STORE_ERR_FULL nothing
     * of this call was stored and the message is still open (caller aborts). */
    int  (*append)(void *ctx, store_handle_t h, const void *data, size_t len);
    /* Make the message durable and visible atomically. */
    int  (*seal)(void *ctx, store_handle_t h, const store_env_t *env);
    /* Discard an unsealed message; no-op for a bad handle. */
    void (*abort)(void *ctx, store_handle_t h);
    /* Delete a sealed message and make its space reclaimable. */
    int  (*del)(void *ctx, store_handle_t h);
    /* Sealed-message metadata. */
    int  (*info)(void *ctx, store_handle_t h, store_msg_t *out);
    /* Read body bytes from offset: returns bytes copied (0 at end) or < 0. */
    int  (*read)(void *ctx, store_handle_t h, uint32_t offset, void *buf, size_t len);
    /* Recipient idx (0..nrcpt-1) of a sealed message. */
    int  (*rcpt_get)(void *ctx, store_handle_t h, uint16_t idx, store_rcpt_t *out);
    /* Replace recipient idx's state (a small appended record in a log store).
     * Address, NOTIFY and ORCPT stay as rcpt_add() gave them.  A store may
     * keep less of remote and reply_text than their arrays hold when the
     * recipient's address and ORCPT are long (at least 64 chars of both
     * together: store_flash.h); the text is then shortened, the remote
     * name dropped rather than cut. */
    int  (*rcpt_update)(void *ctx, store_handle_t h, uint16_t idx, const store_rcpt_state_t *st);
    /* Iterate sealed messages: prev = STORE_HANDLE_NONE to start; STORE_OK with
     * *out set, or STORE_ERR_NOTFOUND at the end.  Order is unspecified. */
    int  (*next)(void *ctx, store_handle_t prev, store_handle_t *out);
    /* Space statistics. */
    void (*stats)(void *ctx, store_stats_t *out);
} store_ops_t;

#endif /* STORE_H */
