/* cfgstore.h - atomic storage of the configuration in a two-sector flash partition.
 *
 * The configuration is an opaque blob (the running-config as console command
 * lines).  The partition has exactly two sectors, slot 0 ("A") and slot 1
 * ("B"); each holds at most one copy:
 *
 *   offset 0                 header (TWOSLOT_HDR_SIZE bytes, little-endian):
 *                              u32 magic     TWOSLOT_MAGIC
 *                              u16 version   TWOSLOT_FORMAT_VERSION
 *                              u16 hdr_size  TWOSLOT_HDR_SIZE
 *                              u32 seq       generation, +1 per save, wraps
 *                              u32 len       payload bytes
 *                              u32 data_crc  CRC-32 (lib/crc32.h) of the payload
 *                              u32 hdr_crc   CRC-32 of the 20 bytes above
 *   TWOSLOT_HDR_SIZE .. TWOSLOT_PAYLOAD_OFF   0xFF (never programmed)
 *   TWOSLOT_PAYLOAD_OFF     payload (len bytes)
 *
 * Why it is atomic: twoslot_save() writes into the slot that does NOT hold
 * the newest valid copy -- erase, payload, then the header last.  Until the
 * header's last byte is down the slot is invalid (blank or a bad CRC), and the
 * newest valid copy in the other slot is never touched.  A power cut at any
 * point therefore leaves either the old or the new configuration loadable,
 * never a mix (tests/unit/test_cfgstore.c cuts power before, after and in the
 * middle of every single program and erase to show it).
 *
 * Generations compare by serial-number arithmetic ((int32_t)(a - b) > 0), so
 * the wrap from 0xFFFFFFFF to 0 is harmless: the two slots are always one
 * generation apart.
 *
 * Single-threaded, synchronous (a save is one erase plus a few programs);
 * no heap; uses TWOSLOT_CHUNK bytes of stack for checks.
 */
#ifndef TWOSLOT_H
#define TWOSLOT_H

#include "mta_opts.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flash/flash.h"

/* ---- options ----------------------------------------------------------- */

/* ---- on-flash format --------------------------------------------------- */

#define TWOSLOT_MAGIC          0x47464343u  /* "CCFG" in little-endian byte order */
#define TWOSLOT_FORMAT_VERSION 1u
#define TWOSLOT_HDR_SIZE       24u          /* bytes of header fields */
#define TWOSLOT_PAYLOAD_OFF    32u          /* header area: supports prog_size <= 32 */
#define TWOSLOT_SLOTS          2

/* ---- errors ------------------------------------------------------------ */

#define TWOSLOT_OK            0
#define TWOSLOT_ERR_ARG      (-1)  /* NULL, bad partition (not two sectors, prog_size > 32) */
#define TWOSLOT_ERR_TOOBIG   (-2)  /* blob longer than twoslot_max(part) */
#define TWOSLOT_ERR_NOTFOUND (-3)  /* load: no valid configuration (see info for why) */
#define TWOSLOT_ERR_IO       (-4)  /* flash error (read, program, erase, power) */
#define TWOSLOT_ERR_VERIFY   (-5)  /* save: read-back differs from what was written */
#define TWOSLOT_ERR_NOSPACE  (-6)  /* load: buffer smaller than the stored blob (*len says how big) */

/* ---- state of a slot --------------------------------------------------- */

typedef enum {
    TWOSLOT_SLOT_BLANK = 0,     /* whole sector erased (0xFF): never written or factory reset */
    TWOSLOT_SLOT_VALID,         /* header and payload CRCs good */
    TWOSLOT_SLOT_CORRUPT,       /* something written but not a valid copy: torn save, bit rot */
    TWOSLOT_SLOT_UNSUPPORTED,   /* valid header of another format version (newer firmware) */
    TWOSLOT_SLOT_UNREADABLE,    /* flash read failed */
    TWOSLOT_SLOT_STATE_COUNT
} twoslot_slot_state_t;

typedef struct twoslot_info {
    int slot;                                    /* slot loaded/saved, -1 if none */
    bool any_corrupt;                            /* some slot is CORRUPT */
    twoslot_slot_state_t state[TWOSLOT_SLOTS];
    uint32_t seq[TWOSLOT_SLOTS];                /* generation (VALID/UNSUPPORTED only) */
    uint32_t len[TWOSLOT_SLOTS];                /* payload bytes (VALID only) */
} twoslot_info_t;

/* ---- API --------------------------------------------------------------- */

/* Largest blob part can hold: min(TWOSLOT_MAX, sector size - header area),
 * or 0 when part is unusable for cfgstore (not exactly two sectors, ...). */
size_t twoslot_max(const flash_part_t *part);

/* Store blob[0..len) atomically as the new newest configuration, with
 * generation newest+1 (1 on a blank partition).  info (may be NULL) gets the
 * slot states as found before the save, except that slot and its seq, len
 * and state describe the copy just written (for event 1500).
 * TWOSLOT_OK, or _ERR_ARG, _ERR_TOOBIG, _ERR_IO (the previous configuration
 * stays loadable), _ERR_VERIFY. */
int twoslot_save(const flash_part_t *part, const void *blob, size_t len, twoslot_info_t *info);

/* Load the newest valid configuration into buf[0..cap): *len its length,
 * *seq its generation (either may be NULL).  info (may be NULL) says which
 * slot was used and the state of both, so the boot code can tell "never
 * saved" (all BLANK) from "lost" (any_corrupt) and log 9266.
 * TWOSLOT_OK, or _ERR_NOTFOUND (nothing valid), _ERR_NOSPACE (*len set),
 * _ERR_IO (a slot unreadable and nothing valid), _ERR_ARG.  On error buf's
 * contents are unspecified. */
int twoslot_load(const flash_part_t *part, void *buf, size_t cap, size_t *len, uint32_t *seq,
                  twoslot_info_t *info);

/* Examine both slots without loading (for `show config` style commands).
 * TWOSLOT_OK or _ERR_ARG; read errors show as TWOSLOT_SLOT_UNREADABLE. */
int twoslot_stat(const flash_part_t *part, twoslot_info_t *info);

/* Factory reset: erase both slots.  TWOSLOT_OK, _ERR_ARG or _ERR_IO. */
int twoslot_erase(const flash_part_t *part);

/* "blank", "valid", "corrupt", "unsupported", "unreadable". */
const char *twoslot_slot_state_name(twoslot_slot_state_t st);

#endif /* TWOSLOT_H */
