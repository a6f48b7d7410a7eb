/*
 * queue.h - the MTA message queue (store-backed, no heap, no I/O).
 *
 * Inbound side (SMTP server): one transaction per SMTP session
 *   queue_txn_begin -> queue_txn_add_rcpt* -> queue_txn_append* -> queue_txn_commit
 * or queue_txn_abort at any point.  QUEUE_OK from commit means the message is
 * sealed in the store: the 250 may be sent.
 *
 * Delivery side (scheduler, console): queue_claim / queue_read /
 * queue_rcpt_result / queue_release, queue_tick, queue_next_due, queue_flush,
 * queue_delete, queue_foreach, queue_get_info, queue_get_rcpt, queue_stats.
 *
 * Recipient life cycle:
 *   PENDING --claim--> INFLIGHT --2xx--> DELIVERED
 *                        |  \--5xx / lifetime over--> FAILED
 *                        |---4xx / code 0--> DEFERRED --(next_retry)--> INFLIGHT ...
 *                        \---queue_release--> previous state (PENDING/DEFERRED)
 * Reports (RFC 3464 DSNs, from the null sender to the original sender,
 * never to the null sender): when an attempt on a message is over, the
 * recipients that became FAILED (NOTIFY with FAILURE, or none given) or
 * were relayed to a peer without DSN (NOTIFY=SUCCESS, Action: relayed)
 * get ONE report at once, while the others go on being retried; each is
 * reported once (at least once across power cuts, store.h).  With `queue
 * warn` a recipient still queued after that long gets one "delayed" report
 * (NOTIFY with DELAY, or none given).  When every recipient is
 * DELIVERED/FAILED the message is removed.
 *
 * INFLIGHT lives in RAM only: after a reboot those recipients are simply due
 * again (at-least-once delivery, RFC 5321 6.1).
 *
 * Times are the clock given to queue_init (seconds since boot).  Messages
 * recovered from a previous boot whose times lie in the future are rebased to
 * "now" (their lifetime restarts, deferred retries become due).
 *
 * Single-threaded (NO_SYS=1); never call from interrupt context, and do not
 * call queue_* from inside a queue callback (match, foreach, event hook) except
 * where stated.
 */
#ifndef QUEUE_H
#define QUEUE_H

#include "mta_opts.h"

#include <stddef.h>
#include <stdint.h>

#include "queue/store.h"
#include "queue/dsn.h"

/* ---- options ---------------------------------------------------------- */

/* ---- errors ----------------------------------------------------------- */

#define QUEUE_OK            0
#define QUEUE_ERR_FULL     (-1)  /* store or table full (SMTP 452) */
#define QUEUE_ERR_TOOBIG   (-2)  /* message exceeds queue_max_size() (SMTP 552) */
#define QUEUE_ERR_ARG      (-3)  /* bad argument or stale/invalid transaction */
#define QUEUE_ERR_NOTFOUND (-4)  /* no such message/recipient, or nothing due */
#define QUEUE_ERR_STATE    (-5)  /* wrong state (e.g. result for a recipient not INFLIGHT) */
#define QUEUE_ERR_IO       (-6)  /* store medium error */
#define QUEUE_ERR_BUSY     (-7)  /* message has INFLIGHT recipients */

#define QUEUE_ADDR_MAX   STORE_ADDR_MAX  /* max address length in chars (254) */
#define QUEUE_ALL        0xFFFFFFFFu     /* msgid wildcard for queue_flush */
#define QUEUE_NEVER      0xFFFFFFFFu     /* queue_next_due: nothing scheduled */
#define QUEUE_RCPT_NONE  0xFFFFu         /* event rcpt field when not per-recipient */
#define QUEUE_NETIF_LOCAL 0xFFu          /* src_netif of queue-generated messages (DSNs) */

/* ---- inbound API ------------------------------------------------------ */

typedef int32_t queue_txn_t;  /* >= 0 when valid */

/* Open a transaction.  sender: envelope MAIL FROM address without <>, "" for
 * the null sender.  size_hint: SIZE= value or 0.  Returns QUEUE_OK and *out,
 * QUEUE_ERR_FULL if no transaction/message slot is free or size_hint cannot
 * fit now, QUEUE_ERR_TOOBIG if size_hint > queue_max_size(), QUEUE_ERR_ARG
 * for a malformed sender (too long, control characters). */
int  queue_txn_begin(const char *sender, uint32_t size_hint, uint8_t src_netif, queue_txn_t *out);

/* queue_txn_begin with the RFC 3461 MAIL parameters: ret STORE_RET_*,
 * envid[0..envid_len) the ENVID xtext as received (need not be
 * NUL-terminated; <= STORE_ENVID_MAX, xtext, else QUEUE_ERR_ARG).  Kept
 * with the message for its reports and passed on to a peer that does DSN. */
int  queue_txn_begin_dsn(const char *sender, uint32_t size_hint, uint8_t src_netif, uint8_t ret,
                         const char *envid, size_t envid_len, queue_txn_t *out);

/* Add a recipient (address without <>).  Must precede the first append.
 * QUEUE_ERR_FULL beyond QUEUE_MAX_RCPT or when the store is full (452),
 * QUEUE_ERR_ARG for an empty/too long/control-char address or bad txn,
 * QUEUE_ERR_STATE after data was appended. */
int  queue_txn_add_rcpt(queue_txn_t t, const char *rcpt);
/* queue_txn_add_rcpt with the RFC 3461 RCPT parameters: notify
 * STORE_NOTIFY_* bits (0 = not given), orcpt[0..orcpt_len) "addr-type;xtext"
 * as received (need not be NUL-terminated; len 0 = none).  An ORCPT longer
 * than the store keeps with this address (STORE_RCPT_ID_MAX) is accepted
 * but not kept (store.h); control characters are QUEUE_ERR_ARG. */
int  queue_txn_add_rcpt_dsn(queue_txn_t t, const char *rcpt, uint8_t notify, const char *orcpt,
                            size_t orcpt_len);
/* The message ID this transaction will have once committed (for the
 * Received: header); 0 for an invalid transaction. */
uint32_t queue_txn_msgid(queue_txn_t t);

/* Append message bytes (the unstuffed RFC 5322 message, CRLF lines).
 * QUEUE_ERR_TOOBIG past queue_max_size(), QUEUE_ERR_FULL when the store is
 * full.  After any error the transaction is poisoned (later appends/commit
 * fail) and must be aborted. */
int  queue_txn_append(queue_txn_t t, const void *data, size_t len);

/* Seal the message in the store.  QUEUE_OK => durable, *out_msgid set (may be
 * NULL), event ACCEPTED; the transaction is closed.  On error the transaction
 * is closed too and nothing remains (no recipients -> QUEUE_ERR_ARG). */
int  queue_txn_commit(queue_txn_t t, uint32_t *out_msgid);

/* Discard an open transaction; nothing half-stored remains.  Safe on a
 * closed/invalid handle. */
void queue_txn_abort(queue_txn_t t);

/* Largest message the queue can accept (bytes), for the ESMTP SIZE keyword. */
uint32_t queue_max_size(void);

/* ---- setup ------------------------------------------------------------ */

typedef uint32_t (*queue_clock_fn)(void);   /* seconds since boot */

/* Bind the queue to a store and clock, dropping all in-RAM state, and
 * recover the store's sealed messages (ops->recover drops unsealed ones).
 * Returns the number of recovered messages or < 0.  Runtime settings
 * (retry, hook, DSN env) are reset to defaults. */
int  queue_init(const store_ops_t *ops, void *store_ctx, queue_clock_fn clock);

/* Runtime retry policy (seconds); 0 keeps the current value for that field.
 * min is clamped to <= max. */
void queue_set_retry(uint32_t min_s, uint32_t max_s, uint32_t lifetime_s);

/* Delay warnings: seconds a recipient may stay queued before its sender
 * gets one "delayed" report; 0 = off.  Default QUEUE_WARN_S. */
void queue_set_warn(uint32_t warn_s);
uint32_t queue_get_warn(void);

/* Hostname and date source for generated DSNs.  The pointed-to struct must
 * stay valid.  Without it DSNs use hostname "localhost" and 1970-based dates. */
void queue_set_dsn_env(const dsn_env_t *env);

/* Event kinds for the hook; the application maps them to its event IDs. */
enum {
    QUEUE_EV_ACCEPTED = 1,  /* msgid committed (incl. generated DSNs); rcpt = its
                             * src_netif (QUEUE_NETIF_LOCAL for a DSN) */
    QUEUE_EV_DELIVERED,     /* rcpt got 2xx */
    QUEUE_EV_DEFERRED,      /* rcpt deferred (4xx, code 0, or no route) */
    QUEUE_EV_FAILED,        /* rcpt failed permanently (5xx) */
    QUEUE_EV_BOUNCED,       /* DSN (failed/relayed) queued for msgid (original id); rcpt = NONE */
    QUEUE_EV_EXPIRED,       /* rcpt failed: lifetime exceeded (4.4.7) */
    QUEUE_EV_DSN_DROPPED,   /* DSN for msgid could not be queued and was dropped */
    QUEUE_EV_WARNED         /* delay warning (Action: delayed) queued for msgid; rcpt = NONE */
};
typedef void (*queue_event_fn)(int kind, uint32_t msgid, uint16_t rcpt);
/* Install (or with NULL remove) the event hook.  The hook must not call queue_*. */
void queue_set_event_hook(queue_event_fn fn);

/* ---- delivery API ----------------------------------------------------- */

enum {
    QUEUE_RCPT_PENDING   = STORE_RCPT_PENDING,   /* never tried */
    QUEUE_RCPT_INFLIGHT  = 1,                    /* claimed by an attempt (RAM only) */
    QUEUE_RCPT_DEFERRED  = STORE_RCPT_DEFERRED,  /* retry at next_retry */
    QUEUE_RCPT_DELIVERED = STORE_RCPT_DELIVERED, /* final */
    QUEUE_RCPT_FAILED    = STORE_RCPT_FAILED     /* final */
};

/* Destination mapping for queue_claim: returns a key >= 0 (e.g. peer index)
 * or < 0 when there is no route now (recipient deferred, reason "no route"). */
typedef int (*queue_match_fn)(void *ctx, const char *rcpt_address);

/* One delivery attempt: recipients of one message sharing one key. */
typedef struct {
    uint32_t msgid;
    uint32_t size;                    /* body bytes */
    int      key;                     /* match() key shared by all rcpt[] */
    uint16_t nrcpt;                   /* entries in rcpt[] (>= 1) */
    uint8_t  src_netif;
    char     sender[QUEUE_ADDR_MAX + 1];  /* "" = null sender */
    uint16_t rcpt[QUEUE_MAX_RCPT];    /* recipient indexes, now INFLIGHT */
} queue_batch_t;

/* Claim the due recipients (PENDING, or DEFERRED with next_retry <= now) of
 * the oldest message that has any, restricted to those whose match() key
 * equals the key of the first routable one; they become INFLIGHT.  Due
 * recipients of that message with no route are deferred.  Messages whose due
 * recipients are all unroutable are skipped.  QUEUE_ERR_NOTFOUND when nothing
 * is due.  Every claimed recipient must later get queue_rcpt_result() or
 * queue_release(). */
int  queue_claim(uint32_t now, queue_match_fn match, void *ctx, queue_batch_t *out);

/* Like queue_claim, but only recipients whose match() key equals `key`, from
 * any message (for a connection that can carry another message to the same
 * destination).  Other recipients are untouched.  QUEUE_ERR_NOTFOUND if none. */
int  queue_claim_key(uint32_t now, queue_match_fn match, void *ctx, int key, queue_batch_t *out);

/* Seconds until the earliest recipient becomes due: 0 if something is due
 * now, QUEUE_NEVER if nothing is scheduled (INFLIGHT recipients don't count). */
uint32_t queue_next_due(uint32_t now);

/* Stream the body: copies up to len bytes from offset; returns the count
 * (0 at end) or QUEUE_ERR_NOTFOUND / QUEUE_ERR_IO. */
int  queue_read(uint32_t msgid, uint32_t offset, void *buf, size_t len);

/* One attempt's outcome for a recipient (queue_rcpt_result_ex). */
typedef struct {
    int         code;     /* SMTP reply code; 0 = no reply (connection failure/timeout) */
    const char *enh;      /* "5.1.1" or NULL */
    const char *text;     /* reply text or NULL (sanitised, <= STORE_REPLY_TEXT_MAX kept) */
    const char *remote;   /* peer that answered: its name or "[ip]", NULL = none (RFC 3464 Remote-MTA) */
    uint8_t     peer_dsn; /* 1: the peer offered DSN (RFC 3461) and got NOTIFY: it reports, not us */
} queue_result_t;

/* Report the outcome for an INFLIGHT recipient.  smtp_code: 2xx delivered,
 * 4xx or 0 (connection failure/timeout) deferred with exponential backoff
 * (failed "4.4.7" once the message is older than the lifetime), 5xx failed.
 * enh ("5.1.1") and text may be NULL; text is sanitised and truncated to
 * STORE_REPLY_TEXT_MAX.  When it ends the attempt on the message (no
 * recipient of it INFLIGHT any more), the recipients that became final are
 * reported (one DSN); may finish the message (delete): the msgid can be
 * gone afterwards.  QUEUE_ERR_STATE if the recipient is not INFLIGHT. */
int  queue_rcpt_result(uint32_t msgid, uint16_t rcpt_idx, int smtp_code,
                       const char *enh, const char *text, uint32_t now);
/* The same with the peer's name and whether it does DSN. */
int  queue_rcpt_result_ex(uint32_t msgid, uint16_t rcpt_idx, const queue_result_t *res, uint32_t now);

/* Abandon an attempt without results: all INFLIGHT recipients of msgid return
 * to their previous state (no attempt counted). */
int  queue_release(uint32_t msgid);

/* Housekeeping: fail (EXPIRED) PENDING/DEFERRED recipients of messages older
 * than the lifetime, finishing such messages.  Call about once a minute. */
void queue_tick(uint32_t now);

/* Make DEFERRED recipients of msgid (or QUEUE_ALL) due now.  Returns the
 * number of recipients made due, or QUEUE_ERR_NOTFOUND. */
int  queue_flush(uint32_t msgid);

/* Remove a message without DSN.  QUEUE_ERR_BUSY if an attempt holds
 * recipients (release them first), QUEUE_ERR_NOTFOUND if unknown. */
int  queue_delete(uint32_t msgid);

/* ---- console / inspection -------------------------------------------- */

typedef struct {
    uint32_t msgid;
    uint32_t age;          /* seconds since arrival */
    uint32_t size;         /* body bytes */
    uint16_t nrcpt;
    uint8_t  src_netif;
    uint16_t n_pending, n_inflight, n_deferred, n_delivered, n_failed;
    uint32_t next_due;     /* seconds until due (0 = due now), QUEUE_NEVER if none */
    char     sender[QUEUE_ADDR_MAX + 1];
} queue_msg_info_t;

typedef struct {
    char     address[QUEUE_ADDR_MAX + 1];
    uint8_t  state;            /* QUEUE_RCPT_* */
    uint8_t  expired;          /* 1 if FAILED by lifetime */
    uint8_t  reported;         /* 1 once its final report is queued */
    uint8_t  warned;           /* 1 once its delay warning is queued */
    uint8_t  notify;           /* RFC 3461 NOTIFY bits (STORE_NOTIFY_*), 0 = not given */
    uint16_t attempts;
    uint32_t first_attempt;    /* clock seconds, 0 = never */
    uint32_t last_attempt;     /* clock seconds, 0 = never */
    uint32_t next_retry;       /* clock seconds (DEFERRED) */
    uint16_t reply_code;       /* 0 = none */
    char     reply_enh[STORE_ENH_SIZE];
    char     reply_text[STORE_REPLY_TEXT_MAX + 1];
    char     remote[STORE_REMOTE_MAX + 1];  /* peer of the last reply, "" = none */
} queue_rcpt_info_t;

/* Message info; QUEUE_ERR_NOTFOUND if unknown. */
int  queue_get_info(uint32_t msgid, queue_msg_info_t *out);
/* Recipient info; QUEUE_ERR_NOTFOUND for a bad msgid/index. */
int  queue_get_rcpt(uint32_t msgid, uint16_t idx, queue_rcpt_info_t *out);
/* RFC 3461 parameters, to pass on to a peer that does DSN.  ORCPT of a
 * recipient ("" = none) and its NOTIFY bits; ENVID ("" = none) and RET of
 * a message.  Copied NUL-terminated into buf (may be NULL to get only the
 * length); return the length, QUEUE_ERR_ARG if size is too small,
 * QUEUE_ERR_NOTFOUND. */
int  queue_get_orcpt(uint32_t msgid, uint16_t idx, uint8_t *notify, char *buf, size_t size);
int  queue_get_envid(uint32_t msgid, uint8_t *ret, char *buf, size_t size);

/* Visit queued messages oldest first; fn returns non-zero to stop.  fn may
 * call queue_get_rcpt and queue_delete/queue_flush (on any message).
 * Returns the number of messages visited. */
typedef int (*queue_foreach_fn)(void *ctx, const queue_msg_info_t *info);
int  queue_foreach(queue_foreach_fn fn, void *ctx);

typedef struct {
    uint32_t messages;     /* queued (sealed) messages */
    uint32_t bytes;        /* their body bytes */
    uint32_t open_txns;    /* inbound transactions in progress */
    uint32_t accepted;     /* counters since queue_init: commits (incl. DSNs) */
    uint32_t delivered;    /* recipients delivered */
    uint32_t deferred;     /* deferral events (attempts that got 4xx/0/no route) */
    uint32_t failed;       /* recipients failed by 5xx */
    uint32_t expired;      /* recipients failed by lifetime */
    uint32_t bounced;      /* DSNs generated */
    uint32_t dsn_dropped;  /* DSNs that could not be queued */
    store_stats_t store;   /* store space */
} queue_stats_t;

void queue_stats(queue_stats_t *out);

/* The retry policy in force (seconds), as queue_set_retry left it: the
 * console's running-config reads it here rather than keeping a copy. */
void queue_get_retry(uint32_t *min_s, uint32_t *max_s, uint32_t *lifetime_s);

#endif /* QUEUE_H */
