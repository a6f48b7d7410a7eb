/*
 * store_flash.h - durable message store: store_ops_t over a NOR flash partition.
 *
 * A log-structured store.  Everything is appended, nothing is rewritten in
 * place; a message is durable once seal() returns STORE_OK (its COMMIT record
 * is on flash), and a power cut at any instant loses nothing acknowledged:
 * store_flash_mount() rebuilds the RAM index from the log, drops torn records
 * and unsealed messages, and finishes or undoes an interrupted compaction
 * (tests/unit/test_store_flash.c cuts power before, after and in the middle
 * of every single program and erase of a scenario to show it).
 *
 * ---- on-flash format (all integers little-endian) -------------------------
 *
 * Sector header (STORE_FLASH_SECT_HDR = 48 bytes; three 16-byte units, each
 * programmed once, so parts with program units up to 16 bytes work):
 *   0  erase stamp, written right after an erase:
 *        u32 magic STORE_FLASH_MAGIC, u16 version, u16 header size (48),
 *        u32 erase count of this sector, u32 CRC-32 of the 12 bytes before
 *  16  open stamp, written when the sector becomes the write head:
 *        u32 seq (log order, +1 per opened sector, never reused), u32 0, u32 0,
 *        u32 CRC-32 of the 12 bytes before
 *  32  retire mark: programmed to 0x00 just before the sector is erased; from
 *        then on its contents are ignored, whatever an interrupted erase left
 *  48  records, back to back, each padded to max(4, prog_size) bytes
 *
 * Record: 16-byte header, then `len` payload bytes, then 0xFF padding:
 *   u8 type, u8 flags (0x01 = copied by compaction), u16 len, u32 mid (the
 *   store's own message serial, 0 = not a message record), u32 CRC-32 of the
 *   payload, u32 CRC-32 of the 12 header bytes before.
 *   SENDER  0x11  sender address (0..254 bytes), then only if RFC 3461 RET or
 *                 ENVID was given: u8 0, u8 ret, envid (0..100 bytes)
 *   RCPT    0x12  u16 idx, u8 state, u8 flags, u16 attempts, u16 reply_code,
 *                 u8 notify, u8 orcpt_len, u32 first, u32 last, u32 next_retry,
 *                 u8 enh_len, u8 text_len, u8 addr_len, u8 remote_len, enh,
 *                 text, remote, address, orcpt.  rcpt_add writes the first
 *                 one, every rcpt_update a new one (address, notify and orcpt
 *                 copied on); the one furthest in the log wins.  Records from
 *                 before the DSN fields had 0 where notify, orcpt_len and
 *                 remote_len are: they read unchanged, hence still version 1
 *   CHUNK   0x13  u32 body offset, body bytes (1..STORE_FLASH_CHUNK_MAX); body
 *                 bytes are gathered in RAM so that every chunk but the last
 *                 is full, however the caller splits its appends
 *   COMMIT  0x14  u32 msgid, u32 arrival, u32 size, u16 nrcpt, u8 src_netif,
 *                 u8 0 -- the seal: a message without it does not exist
 *   TOMB    0x15  (empty) message deleted
 *   ABORT   0x16  (empty) unsealed message abandoned
 *   GCEND   0x21  u32 victim seq, u32 offset: ends a run of copies (below)
 *   CLEAN   0x22  (empty) orderly shutdown; only meaningful as the last record
 *
 * Log order is (sector seq, offset).  A record is valid when both CRCs match;
 * a torn record (power cut while programming) fails them and is dropped.
 *
 * Compaction takes the oldest sector (lowest seq), copies its live records to
 * the write head, then retires and erases it.  First in, first out: every
 * sector is erased in turn, so wear is even, and a TOMB/ABORT is never erased
 * before the records it kills, so a deleted message never comes back.  Copies
 * are flagged and form a "run" that must be closed by a GCEND naming the
 * victim: a run without its GCEND (cut during the copy) is void and the
 * victim still counts; with it, the victim's records below the GCEND's offset
 * (0xFFFFFFFF = all) are superseded.  A run never spans sectors: each sector
 * keeps room for one GCEND at its end.
 *
 * Outside compaction one sector is always kept free so that compaction can
 * always run (power cut or not); writes are admitted against a budget that
 * leaves room for that, for the worst-case slack at sector ends, and for the
 * recipient updates and tombstone of every stored message, so rcpt_update(),
 * seal() and del() never fail for space.  A write usually costs one program;
 * when the store is nearly full of live data one write may compact several
 * sectors first (at most about one round of the partition).
 *
 * A program or erase that fails with the power on (STORE_ERR_IO) leaves the
 * store consistent; if it hit compaction at a point where going on could
 * mix old and new, the store refuses further writes (reads still work) until
 * the next mount, which settles everything from flash.
 *
 * ---- RAM ------------------------------------------------------------------
 *
 * store_flash_t holds the whole index (messages, recipients, per-sector state,
 * a sector x message bitmap) and STORE_FLASH_MAX_OPEN body write buffers; no
 * heap.  Its size is set by the options below (about 20 KiB with 48 messages);
 * the board declares one instance `static`.  One instance per partition; ctx
 * of store_flash_ops is the store_flash_t pointer.
 *
 * Single-threaded and synchronous (NO_SYS=1), never from interrupt context.
 */
#ifndef STORE_FLASH_H
#define STORE_FLASH_H

#include "mta_opts.h"

#include <stdint.h>

#include "flash/flash.h"
#include "queue/store.h"

/* ---- options ------------------------------------------------------------ */

/* ---- format constants --------------------------------------------------- */

#define STORE_FLASH_MAGIC     0x31465353u /* "SSF1" */
#define STORE_FLASH_VERSION   1u
#define STORE_FLASH_SECT_HDR  48u         /* sector header bytes */
#define STORE_FLASH_REC_HDR   16u         /* record header bytes */
#define STORE_FLASH_RCPT_FIX  26u         /* fixed part of a RCPT payload */
/* Octets of address, ORCPT, remote and reply text one RCPT record holds
 * together.  The largest record sets the slack every sector keeps at its
 * end (geometry()), so a bigger one costs nsec x the growth of capacity:
 * this is what it was before the DSN fields (64 of text + a 254-octet
 * address).  Address + ORCPT <= STORE_RCPT_ID_MAX, so the text and remote
 * always have at least 64 octets; with everyday addresses the reply text
 * is kept whole (STORE_REPLY_TEXT_MAX) and the remote too. */
#define STORE_FLASH_RCPT_VAR  (STORE_ADDR_MAX + 64u)
/* Largest record: a RCPT with the longest enhanced code and variable part. */
#define STORE_FLASH_REC_MAX   (STORE_FLASH_REC_HDR + STORE_FLASH_RCPT_FIX + (STORE_ENH_SIZE - 1u) + \
                               STORE_FLASH_RCPT_VAR)
#define STORE_FLASH_BUF_SIZE  384u        /* REC_MAX rounded up to 16: record staging buffer */
#define STORE_FLASH_MIN_SECTOR 1024u      /* smallest usable sector size */
#define STORE_FLASH_MIN_SECTORS 6u        /* head + spare + compaction reserve + data */

/* Table sizes: mount may briefly need a few more entries than the runtime
 * limits (messages whose ABORT never reached flash). */
#define STORE_FLASH_SLOTS_    (STORE_FLASH_MAX_MSGS + 8)
#define STORE_FLASH_RCPTS_    (STORE_FLASH_MAX_RCPTS + STORE_FLASH_MAX_RCPTS / 8 + 16)
#define STORE_FLASH_MAPBYTES_ ((STORE_FLASH_SLOTS_ + 7) / 8)

/* records are padded to at most 16 bytes (prog_size <= 16) */
_Static_assert(((STORE_FLASH_REC_MAX + 15u) & ~15u) <= STORE_FLASH_BUF_SIZE,
               "staging buffer holds any record");
_Static_assert(((STORE_FLASH_REC_HDR + 4u + STORE_FLASH_CHUNK_MAX + 15u) & ~15u) <= STORE_FLASH_BUF_SIZE,
               "staging buffer holds a chunk record");
_Static_assert(STORE_FLASH_CHUNK_MAX >= 16u, "chunks too small");
_Static_assert(STORE_FLASH_SLOTS_ < 0x7FFF, "slot index fits a handle");
_Static_assert(STORE_FLASH_RCPTS_ < 0xFFFF, "recipient index is u16");
_Static_assert(STORE_FLASH_MAX_OPEN >= 0 && STORE_FLASH_MAX_OPEN < 255, "buffer index is u8");

/* ---- errors (beyond STORE_ERR_*) ----------------------------------------- */
/* store_flash_mount returns STORE_OK or:
 *   STORE_ERR_ARG    bad partition geometry (sector < 1024 bytes, fewer than
 *                    6 or more than STORE_FLASH_MAX_SECTORS sectors, prog > 16)
 *   STORE_ERR_STATE  written by another format version: left untouched
 *   STORE_ERR_FULL   more messages/recipients on flash than the index holds
 *                    (options lowered): left untouched
 *   STORE_ERR_IO     flash error */

/* ---- recovery report ------------------------------------------------------ */

/* Queues of event 2206 ("checking queue N"). */
#define STORE_FLASH_Q_ACTIVE   0  /* messages with pending recipients */
#define STORE_FLASH_Q_DEFERRED 1  /* messages with a deferred recipient */
#define STORE_FLASH_Q_BOUNCE   2  /* DSNs (null sender) */
#define STORE_FLASH_NQUEUES    3

typedef struct {
    uint8_t  clean;        /* 1: last shutdown was orderly (CLEAN last) or the store is blank */
    uint8_t  blank;        /* 1: no data at all (first use or after format) */
    uint16_t recovered;    /* sealed messages in the store */
    uint16_t queue[STORE_FLASH_NQUEUES]; /* recovered messages per queue (STORE_FLASH_Q_*) */
    uint16_t unsealed;     /* messages dropped because their seal never completed */
    uint16_t damaged;      /* sealed messages dropped because records were missing (bit rot) */
    uint32_t discarded;    /* records dropped: torn/corrupt + those of dropped messages */
    uint32_t torn;         /* of which torn or corrupt (CRC), counted where the last cut
                              hit (the newest sector): older ones were reported before */
    uint16_t superseded;   /* sectors whose compaction had completed but not been erased */
    uint16_t bad_sectors;  /* sectors in an unknown state (interrupted erase...), to be erased */
} store_flash_recovery_t;

/* ---- the instance --------------------------------------------------------- */

/* Private: per sector. */
typedef struct {
    uint32_t seq;       /* open stamp; log order */
    uint32_t erases;    /* erase count (from the erase stamp, or estimated) */
    uint32_t end;       /* offset after the last record: scan limit / write position */
    uint32_t skip;      /* records below this offset were superseded by a partial compaction */
    uint8_t  state;     /* free / used / dirty */
    uint8_t  stamped;   /* free: erase stamp written */
    uint8_t  known;     /* erase count read from flash, not estimated */
    uint8_t  good;      /* mount: has valid records (2: scan ended at a damaged header) */
} store_flash_sector_t;

/* Private: per message. */
typedef struct {
    uint8_t  state;
    uint8_t  flags;
    uint8_t  src_netif;
    uint8_t  null_sender;
    uint16_t gen;       /* handle generation */
    uint16_t nrcpt;
    uint16_t r_head, r_tail, r_cur_idx, r_cur_ent; /* recipient list and walk cursor */
    uint32_t mid;       /* store serial (records' mid) */
    uint32_t msgid, arrival;
    uint32_t size;      /* body bytes */
    uint32_t env_size;  /* mount: size from the COMMIT */
    uint32_t sender_loc, commit_loc;
    uint32_t acct;      /* bytes charged against the budget */
    uint32_t nrec;      /* mount: records seen */
    uint32_t rd_loc, rd_body, rd_len; /* read cursor: last chunk used */
    uint16_t wlen;      /* open: body bytes waiting in the write buffer */
    uint8_t  wb;        /* open: write buffer index, 0xFF = none (writes unbuffered) */
} store_flash_msg_t;

/* Private: per recipient. */
typedef struct {
    uint32_t loc;       /* newest RCPT record */
    uint16_t next;
    uint16_t idx;
    uint8_t  state;
    uint8_t  alen;      /* address length */
    uint8_t  olen;      /* ORCPT length (olen, xtra: in what was padding, no RAM cost) */
    uint8_t  xtra;      /* text + remote octets beyond 64 charged to the budget */
} store_flash_rcpt_t;

typedef struct store_flash {
    /* all private: use the functions below */
    const flash_part_t *part;
    uint8_t  mounted, written, was_clean, failed;
    uint32_t ssize, nsec, align, gsize, recmax;
    uint32_t next_seq, next_mid;
    int32_t  head;
    uint32_t budget, acct;
    uint16_t nmsgs, nrcpts;
    uint16_t rcpt_free;
    uint32_t compactions, splits, copied, erases_done;
    store_flash_recovery_t rec;
    store_flash_sector_t sec[STORE_FLASH_MAX_SECTORS];
    store_flash_msg_t msg[STORE_FLASH_SLOTS_];
    store_flash_rcpt_t rcpt[STORE_FLASH_RCPTS_];
    uint8_t map[STORE_FLASH_MAX_SECTORS][STORE_FLASH_MAPBYTES_];
    uint16_t wb_owner[STORE_FLASH_MAX_OPEN + 1];  /* slot + 1, 0 = free; +1: no empty array */
    uint8_t wbuf[STORE_FLASH_MAX_OPEN + 1][STORE_FLASH_CHUNK_MAX];
    uint8_t buf[STORE_FLASH_BUF_SIZE] __attribute__((aligned(4)));
} store_flash_t;

/* ---- API ------------------------------------------------------------------ */

/* The store operations; ctx is the mounted store_flash_t. */
extern const store_ops_t store_flash_ops;

/* Mount part into st (all of *st is (re)initialised): scan the log, rebuild
 * the index, drop torn records and unsealed messages, settle an interrupted
 * compaction.  A blank partition mounts as an empty, clean store.  rep (may
 * be NULL) tells what was found, for events 2219/2206/2207.  After an unclean
 * shutdown it writes a little (retire marks, ABORT/TOMB records for the
 * dropped messages); a write error there is not fatal (reading and delivering
 * still work).  Slot generations survive a remount, so handles from before it
 * are refused.  Then queue_init(&store_flash_ops, st, ...). */
int  store_flash_mount(store_flash_t *st, const flash_part_t *part, store_flash_recovery_t *rep);

/* Orderly shutdown (poweroff/reboot): abandon unsealed messages and append
 * the CLEAN record, so that the next mount reports a clean shutdown.  The
 * store is unmounted afterwards (every op fails until the next mount). */
int  store_flash_close(store_flash_t *st);

/* Erase the whole partition (oldest data first, so a cut midway never brings
 * back a deleted message), keeping the erase counts.  Unmounts nothing:
 * mount again afterwards. */
int  store_flash_format(const flash_part_t *part);

/* For `show store`. */
typedef struct {
    uint32_t part_size;     /* bytes */
    uint32_t sector_size;   /* bytes */
    uint16_t sectors;       /* total */
    uint16_t sectors_free;  /* erased (incl. the compaction reserve) or awaiting erase */
    uint16_t sectors_used;  /* holding log data (incl. the write head) */
    uint16_t sectors_dirty; /* awaiting erase */
    uint32_t used;          /* bytes of used sectors, minus the head's unwritten tail */
    uint32_t free;          /* erased bytes: free sectors + head tail */
    uint32_t live;          /* bytes charged to sealed messages (incl. their update reserve) */
    uint32_t open;          /* bytes charged to unsealed messages */
    uint32_t dead;          /* used - live - open (floor 0): deleted, superseded, slack, headers */
    uint32_t budget;        /* bytes the admission check hands out (store_stats_t.total) */
    uint32_t max_body;      /* largest body one message could have in the empty store */
    uint32_t erase_min, erase_max, erase_avg; /* per-sector erase counts */
    uint32_t compactions;   /* since mount */
    uint32_t splits;        /* compactions whose copies continued in a fresh sector */
    uint32_t copied;        /* bytes copied by compaction since mount */
    uint32_t erases;        /* sector erases since mount */
    uint16_t msgs, open_msgs, max_msgs;
    uint16_t rcpts, max_rcpts;
    store_flash_recovery_t recovery; /* what the last mount found */
} store_flash_stats_t;

void store_flash_stats(const store_flash_t *st, store_flash_stats_t *out);

/* Largest body (bytes) a single message can have in the empty store: cap the
 * SMTP SIZE limit with it (queue_max_size() uses the budget, a bit more). */
uint32_t store_flash_max_body(const store_flash_t *st);

#endif /* STORE_FLASH_H */
