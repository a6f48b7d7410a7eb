/* evt: event ring and event catalogue.
 *
 * A fixed-capacity RAM ring of compact binary event records (overwrite
 * oldest), the catalogue that gives every event ID its severity, category,
 * message template and explanation (firmware/evt_catalog.h), formatting of a
 * record as one console line, and an iterator for the console command
 * `events [last N | since SEQ | id ID]`.
 *
 * Concurrency: single-context (NO_SYS=1 main loop, where lwIP callbacks run).
 * Not safe to call from interrupt handlers.
 * No heap, no stdio: all state is static.
 */
#ifndef EVT_H
#define EVT_H

#include "mta_opts.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"

/* Source index meaning "no source" (netif/peer/queue not applicable). */
#define EVT_SRC_NONE 0xFFu

/* Queue numbers used as source of the store/queue events. */
#define EVT_QUEUE_ACTIVE   0u
#define EVT_QUEUE_DEFERRED 1u
#define EVT_QUEUE_BOUNCE   2u

typedef enum {
    EVT_SEV_DEBUG = 0,
    EVT_SEV_INFO,
    EVT_SEV_NOTICE,
    EVT_SEV_WARNING,
    EVT_SEV_ERROR,
    EVT_SEV_CRITICAL,
    EVT_SEV_COUNT
} evt_sev_t;

typedef enum {
    EVT_CAT_SYSTEM = 0,
    EVT_CAT_NETIF,
    EVT_CAT_SMTPD,   /* inbound SMTP */
    EVT_CAT_SMTPC,   /* outbound SMTP */
    EVT_CAT_QUEUE,
    EVT_CAT_STORE,
    EVT_CAT_CONFIG,
    EVT_CAT_CONSOLE,
    EVT_CAT_TLS,
    EVT_CAT_COUNT
} evt_cat_t;

/* How a record's 32-bit argument is encoded (and rendered by {arg}). */
typedef enum {
    EVT_ARG_NONE = 0,   /* unused, pass 0 */
    EVT_ARG_COUNT,      /* unsigned decimal: a count, port, generation */
    EVT_ARG_ERR,        /* (uint32_t)(int32_t) error, rendered like the error
                           part of NETIF_ERR: negative lwIP err_t, ... */
    EVT_ARG_NETIF_ERR,  /* evt_pack_netif_mta_err(): netif in 31..24, then
                           0x40|kind in 23..16 and the code in 15..0; or
                           evt_pack_netif_err(): a signed 24-bit error in
                           23..0, kind guessed from its range */
    EVT_ARG_MSGID,      /* message id, rendered as 8 hex digits */
    EVT_ARG_IPV4,       /* IPv4 address in host order: a.b.c.d = 31..0,
                           i.e. lwip_ntohl(ip4_addr_get_u32(addr)) */
    EVT_ARG_CAUSE,      /* EVT_CAUSE_x code */
    EVT_ARG_RECOVERY,   /* evt_pack_recovery(): recovered 31..16,
                           discarded 15..0 */
    EVT_ARG_BOOT,       /* evt_pack_boot(): reset cause 31..24,
                           version major.minor.patch in 23..16/15..8/7..0 */
    EVT_ARG_EPOCH,      /* Unix time, seconds UTC */
    EVT_ARG_HEX,        /* flags, rendered as 0x%X */
    EVT_ARG_KIND_COUNT
} evt_argkind_t;

/* Event IDs, generated from the catalogue: EVT_MTA_BIND_FAIL = 9318, ... */
typedef enum {
#define EVT_DEF(id, sym, sev, cat, kind, msg, help) EVT_##sym = (id),
#include "evt/evt_catalog.h"
    EVT_ID_NONE = 0     /* never logged; terminates the list */
} evt_id_t;

/* Fatal-initialisation cause codes (argument of EVT_MTA_INIT_FATAL). */
typedef enum {
    EVT_CAUSE_NONE = 0,
#define EVT_CAUSE_DEF(num, sym, text) EVT_CAUSE_##sym = (num),
#include "evt/evt_catalog.h"
} evt_cause_t;

/* One logged event.  Field order avoids padding: exactly 16 bytes. */
typedef struct {
    uint32_t seq;     /* 1, 2, 3...; never reused while the MTA runs */
    uint32_t ts_ms;   /* ms since boot from the injected clock (wraps after
                         49.7 days) */
    uint16_t id;      /* event ID (evt_id_t) */
    uint8_t  sev;     /* evt_sev_t, copied from the catalogue at log time */
    uint8_t  src;     /* netif/peer/queue index, or EVT_SRC_NONE */
    uint32_t arg;     /* encoded per the entry's evt_argkind_t */
} evt_record_t;

_Static_assert(sizeof(evt_record_t) <= 16, "evt_record_t must fit 16 bytes");

/* One catalogue entry. */
typedef struct {
    uint16_t    id;
    uint8_t     sev;      /* evt_sev_t */
    uint8_t     cat;      /* evt_cat_t */
    uint8_t     argkind;  /* evt_argkind_t */
    const char *symbol;   /* "MTA_BIND_FAIL" (without the EVT_ prefix) */
    const char *msg;      /* template, see evt_catalog.h */
    const char *help;     /* explanation and user action */
} evt_def_t;

/* Callbacks giving names to indices for evt_format().  Any member may be
 * NULL, and any callback may return NULL or "" for "unknown": numbers are
 * printed instead.  Returned strings must stay valid until evt_format
 * returns. */
typedef struct {
    const char *(*netif_name)(uint8_t idx);
    const char *(*peer_name)(uint8_t idx);
    /* err as carried by the record: negative lwIP err_t, positive SMTP reply
     * code (200..599) or positive mbedTLS error magnitude. */
    const char *(*err_text)(int32_t err);
    /* Text of a tagged error of kind MTA_ERR_LOCAL (the firmware's own
     * codes, e.g. the SMTP client's SMTPC_ERR_*) or MTA_ERR_STORE. */
    const char *(*local_text)(uint8_t kind, int32_t code);
    /* Unix time (s, UTC) corresponding to uptime_ms, or 0 if the wall clock
     * is not known: then times print as +HH:MM:SS.mmm since boot. */
    uint32_t (*wallclock)(uint32_t uptime_ms);
} evt_resolvers_t;

typedef void (*evt_listener_fn)(const evt_record_t *rec);

typedef enum {
    EVT_FILTER_ALL = 0,   /* value unused */
    EVT_FILTER_LAST_N,    /* the newest `value` records (0 -> none) */
    EVT_FILTER_SINCE_SEQ, /* records with seq >= value (inclusive) */
    EVT_FILTER_BY_ID      /* records whose id == value */
} evt_filter_kind_t;

typedef struct {
    evt_filter_kind_t kind;
    uint32_t          value;
} evt_filter_t;

/* Iterator state; treat as opaque. */
typedef struct {
    evt_filter_t filter;
    uint32_t     next;    /* next seq to examine */
    uint32_t     end;     /* last seq to examine (snapshot taken at init) */
    uint32_t     missed;  /* see evt_iter_missed() */
} evt_iter_t;

typedef struct {
    uint32_t capacity;    /* EVT_RING_CAPACITY */
    uint32_t count;       /* records currently held */
    uint32_t dropped;     /* records overwritten since evt_init (not reset by
                             evt_clear, which is deliberate, not a loss) */
    uint32_t next_seq;    /* seq the next evt_log will return */
    uint32_t oldest_seq;  /* 0 if empty */
    uint32_t newest_seq;  /* 0 if empty */
} evt_stats_t;

/* Reset the module to its boot state: empty ring, next seq 1, dropped 0, no
 * resolvers, no listener.  now_ms supplies ms since boot for timestamps; NULL
 * stamps 0.  Logging before evt_init is allowed (timestamps are 0). */
void evt_init(uint32_t (*now_ms)(void));

/* Log an event; returns its sequence number (>= 1).  Severity comes from the
 * catalogue.  An id not in the catalogue is a programming bug but is still
 * logged, with severity ERROR and the id kept.  Overwrites the oldest record
 * when full (counted in evt_stats_t.dropped).  Calls the listener, if any,
 * with a copy of the record; events logged from inside the listener are
 * stored but not passed to the listener again. */
uint32_t evt_log(uint16_t id, uint8_t src, uint32_t arg);

/* Empty the ring.  The sequence counter and the dropped counter keep going.
 * Returns the number of records discarded: the caller (console) is expected
 * to log EVT_SYS_EVENTS_CLEARED with it. */
uint32_t evt_clear(void);

/* Fill *st with a snapshot of the ring counters. */
void evt_stats(evt_stats_t *st);

/* Copy the resolvers (r need not outlive the call); NULL removes all. */
void evt_set_resolvers(const evt_resolvers_t *r);

/* Set the live listener (NULL removes it). */
void evt_set_listener(evt_listener_fn fn);

/* Start iterating the records matching filter, oldest first.  The set of
 * candidate seqs is fixed at init: events logged later are not returned.
 * An unknown filter kind yields nothing. */
void evt_iter_init(evt_iter_t *it, evt_filter_t filter);

/* Copy the next matching record to *out and return true, or return false
 * when done.  Records overwritten or cleared since init are skipped (and
 * counted, see evt_iter_missed). */
bool evt_iter_next(evt_iter_t *it, evt_record_t *out);

/* Number of seqs the filter asked for that were no longer in the ring
 * (overwritten or cleared), e.g. `since 5` when the oldest record is #9
 * gives 4.  Lets the console say "N earlier events lost". */
uint32_t evt_iter_missed(const evt_iter_t *it);

/* Format r as ONE line without line terminator into buf, e.g.
 *   #12 +00:01:02.345 W 9318 smtpc: could not bind to peer 'smarthost'
 *       over eth0: err -4 (Routing problem)
 * Always NUL-terminates when size > 0 (buf may be NULL when size is 0).
 * Returns the length the full line has (like snprintf): the output was
 * truncated if the return value >= size. */
int evt_format(const evt_record_t *r, char *buf, size_t size);

/* Catalogue access. */
size_t evt_catalog_count(void);
const evt_def_t *evt_catalog_at(size_t i);      /* NULL if i >= count */
const evt_def_t *evt_catalog_find(uint16_t id); /* NULL if unknown */

/* "debug", "info", "notice", "warning", "error", "critical"; "?" if out of
 * range. */
const char *evt_sev_name(uint8_t sev);
/* 'D' 'I' 'N' 'W' 'E' 'C'; '?' if out of range. */
char evt_sev_letter(uint8_t sev);
/* "system", "netif", "smtpd", ... ; "?" if out of range. */
const char *evt_cat_name(uint8_t cat);
/* Text of a fatal-initialisation cause, NULL if unknown. */
const char *evt_cause_text(uint32_t cause);

/* Argument packing.  netif may be EVT_SRC_NONE.  err outside the signed
 * 24-bit range is saturated to -0x800000 / 0x7FFFFF. */
uint32_t evt_pack_netif_err(uint8_t netif, int32_t err);
uint8_t evt_unpack_netif(uint32_t arg);
int32_t evt_unpack_err(uint32_t arg);
/* The tagged form: the kind travels with the code, so a reply, a TLS error
 * and the firmware's own codes never read as lwIP errors.  Unpacking an
 * untagged argument guesses the kind as evt_pack_netif_err's callers meant
 * it (negative lwIP, 200..599 reply, other positive a TLS magnitude). */
uint32_t evt_pack_netif_mta_err(uint8_t netif, mta_err_t err);
mta_err_t evt_unpack_mta_err(uint32_t arg);

/* Counts above 0xFFFF are saturated to 0xFFFF. */
uint32_t evt_pack_recovery(uint32_t recovered, uint32_t discarded);
uint16_t evt_unpack_recovered(uint32_t arg);
uint16_t evt_unpack_discarded(uint32_t arg);

uint32_t evt_pack_boot(uint8_t reset_cause, uint8_t major, uint8_t minor,
                       uint8_t patch);

#endif /* EVT_H */
