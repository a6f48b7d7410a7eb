/* cfgstore.c - atomic two-slot configuration storage (see cfgstore.h). */
#include "lib/twoslot.h"

#include <string.h>

#include "lib/crc32.h"

_Static_assert(TWOSLOT_HDR_SIZE <= TWOSLOT_PAYLOAD_OFF, "header must fit its area");
_Static_assert(TWOSLOT_CHUNK >= TWOSLOT_PAYLOAD_OFF, "TWOSLOT_CHUNK holds the header area");

/* Header field offsets (see the layout in cfgstore.h). */
#define HDR_MAGIC     0u
#define HDR_VERSION   4u
#define HDR_HDR_SIZE  6u
#define HDR_SEQ       8u
#define HDR_LEN      12u
#define HDR_DATA_CRC 16u
#define HDR_HDR_CRC  20u

typedef struct {
    uint32_t seq;
    uint32_t len;
    uint32_t data_crc;
} slot_hdr_t;

/* ---- helpers ----------------------------------------------------------- */

static uint32_t get_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t get_le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static void put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static void put_le16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

/* Serial-number comparison: a is newer than b (RFC 1982 style, 32 bits). */
static bool seq_newer(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b) > 0;
}

static bool all_ff(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] != 0xFFu) {
            return false;
        }
    }
    return true;
}

static uint32_t slot_off(const flash_part_t *part, int slot)
{
    return (uint32_t)slot * flash_part_sector_size(part);
}

/* Usable for cfgstore: exactly two sectors, each big enough for the header
 * area, and a program granularity that tiles the header area. */
static bool part_ok(const flash_part_t *part)
{
    if (flash_part_check(part) != FLASH_OK || flash_part_sectors(part) != TWOSLOT_SLOTS) {
        return false;
    }
    uint32_t prog = flash_part_prog_size(part);
    return prog != 0 && prog <= TWOSLOT_PAYLOAD_OFF && TWOSLOT_PAYLOAD_OFF % prog == 0 &&
           flash_part_sector_size(part) > TWOSLOT_PAYLOAD_OFF;
}

size_t twoslot_max(const flash_part_t *part)
{
    if (!part_ok(part)) {
        return 0;
    }
    size_t room = flash_part_sector_size(part) - TWOSLOT_PAYLOAD_OFF;
    return room < TWOSLOT_MAX ? room : TWOSLOT_MAX;
}

/* CRC of len bytes of flash at off, read in chunks (no big buffer). */
static int crc_flash(const flash_part_t *part, uint32_t off, uint32_t len, uint32_t *crc)
{
    uint8_t chunk[TWOSLOT_CHUNK];
    uint32_t c = 0;

    while (len != 0) {
        uint32_t n = len < sizeof(chunk) ? len : (uint32_t)sizeof(chunk);
        if (flash_part_read(part, off, chunk, n) != FLASH_OK) {
            return TWOSLOT_ERR_IO;
        }
        c = crc32_update(c, chunk, n);
        off += n;
        len -= n;
    }
    *crc = c;
    return TWOSLOT_OK;
}

/* Whether [off, off+len) is all 0xFF: 1 yes, 0 no, TWOSLOT_ERR_IO. */
static int blank_flash(const flash_part_t *part, uint32_t off, uint32_t len)
{
    uint8_t chunk[TWOSLOT_CHUNK];

    while (len != 0) {
        uint32_t n = len < sizeof(chunk) ? len : (uint32_t)sizeof(chunk);
        if (flash_part_read(part, off, chunk, n) != FLASH_OK) {
            return TWOSLOT_ERR_IO;
        }
        if (!all_ff(chunk, n)) {
            return 0;
        }
        off += n;
        len -= n;
    }
    return 1;
}

/* Classify one slot; h is filled for VALID (and seq for UNSUPPORTED). */
static twoslot_slot_state_t slot_examine(const flash_part_t *part, int slot, slot_hdr_t *h)
{
    uint8_t hdr[TWOSLOT_HDR_SIZE];
    uint32_t base = slot_off(part, slot);
    uint32_t sector = flash_part_sector_size(part);

    if (flash_part_read(part, base, hdr, sizeof(hdr)) != FLASH_OK) {
        return TWOSLOT_SLOT_UNREADABLE;
    }
    if (all_ff(hdr, sizeof(hdr))) {
        /* No header: blank only if nothing else was written either; a payload
         * without its header is a save that lost power before the commit. */
        int b = blank_flash(part, base + TWOSLOT_HDR_SIZE, sector - TWOSLOT_HDR_SIZE);
        if (b < 0) {
            return TWOSLOT_SLOT_UNREADABLE;
        }
        return b ? TWOSLOT_SLOT_BLANK : TWOSLOT_SLOT_CORRUPT;
    }
    if (crc32_update(0, hdr, HDR_HDR_CRC) != get_le32(hdr + HDR_HDR_CRC) ||
        get_le32(hdr + HDR_MAGIC) != TWOSLOT_MAGIC) {
        return TWOSLOT_SLOT_CORRUPT;
    }
    h->seq = get_le32(hdr + HDR_SEQ);
    h->len = get_le32(hdr + HDR_LEN);
    h->data_crc = get_le32(hdr + HDR_DATA_CRC);
    if (get_le16(hdr + HDR_VERSION) != TWOSLOT_FORMAT_VERSION ||
        get_le16(hdr + HDR_HDR_SIZE) != TWOSLOT_HDR_SIZE) {
        return TWOSLOT_SLOT_UNSUPPORTED;
    }
    if (h->len > twoslot_max(part)) {
        return TWOSLOT_SLOT_CORRUPT;   /* no save writes more: the header lies */
    }
    uint32_t crc;
    if (crc_flash(part, base + TWOSLOT_PAYLOAD_OFF, h->len, &crc) != TWOSLOT_OK) {
        return TWOSLOT_SLOT_UNREADABLE;
    }
    return crc == h->data_crc ? TWOSLOT_SLOT_VALID : TWOSLOT_SLOT_CORRUPT;
}

/* Examine both slots into info; hdrs (may be NULL) gets their headers. */
static void stat_slots(const flash_part_t *part, twoslot_info_t *info,
                       slot_hdr_t hdrs[TWOSLOT_SLOTS])
{
    memset(info, 0, sizeof(*info));
    info->slot = -1;
    for (int i = 0; i < TWOSLOT_SLOTS; i++) {
        slot_hdr_t h = { 0, 0, 0 };
        info->state[i] = slot_examine(part, i, &h);
        if (hdrs != NULL) {
            hdrs[i] = h;
        }
        if (info->state[i] == TWOSLOT_SLOT_VALID || info->state[i] == TWOSLOT_SLOT_UNSUPPORTED) {
            info->seq[i] = h.seq;
        }
        if (info->state[i] == TWOSLOT_SLOT_VALID) {
            info->len[i] = h.len;
        }
        if (info->state[i] == TWOSLOT_SLOT_CORRUPT) {
            info->any_corrupt = true;
        }
    }
}

/* The slot among those in `state` with the newest generation, or -1.  On a
 * tie (impossible unless written by hand) slot 0 wins, deterministically. */
static int newest_slot(const twoslot_info_t *info, twoslot_slot_state_t state)
{
    int best = -1;

    for (int i = 0; i < TWOSLOT_SLOTS; i++) {
        if (info->state[i] == state && (best < 0 || seq_newer(info->seq[i], info->seq[best]))) {
            best = i;
        }
    }
    return best;
}

/* ---- API --------------------------------------------------------------- */

int twoslot_stat(const flash_part_t *part, twoslot_info_t *info)
{
    if (!part_ok(part) || info == NULL) {
        return TWOSLOT_ERR_ARG;
    }
    stat_slots(part, info, NULL);
    return TWOSLOT_OK;
}

int twoslot_save(const flash_part_t *part, const void *blob, size_t len, twoslot_info_t *info)
{
    twoslot_info_t local;
    twoslot_info_t *in = info != NULL ? info : &local;

    if (!part_ok(part) || (blob == NULL && len != 0)) {
        return TWOSLOT_ERR_ARG;
    }
    if (len > twoslot_max(part)) {
        return TWOSLOT_ERR_TOOBIG;
    }
    stat_slots(part, in, NULL);
    /* Never guess which slot is newest: an unreadable one might be it. */
    for (int i = 0; i < TWOSLOT_SLOTS; i++) {
        if (in->state[i] == TWOSLOT_SLOT_UNREADABLE) {
            return TWOSLOT_ERR_IO;
        }
    }

    /* Target: the slot not holding the newest VALID copy, which must survive
     * until the new one is committed.  With nothing valid, spare a copy of a
     * newer firmware's format if there is one (a downgraded device). */
    int keep = newest_slot(in, TWOSLOT_SLOT_VALID);
    if (keep < 0) {
        keep = newest_slot(in, TWOSLOT_SLOT_UNSUPPORTED);
    }
    int target = keep < 0 ? 0 : 1 - keep;

    /* Generation: above every trustworthy header, so this copy wins over an
     * UNSUPPORTED one too (after an upgrade back, the newest save counts). */
    uint32_t seq = 1;
    bool have = false;
    for (int i = 0; i < TWOSLOT_SLOTS; i++) {
        if ((in->state[i] == TWOSLOT_SLOT_VALID || in->state[i] == TWOSLOT_SLOT_UNSUPPORTED) &&
            (!have || seq_newer(in->seq[i] + 1u, seq))) {
            seq = in->seq[i] + 1u;
            have = true;
        }
    }

    uint32_t base = slot_off(part, target);
    uint32_t prog = flash_part_prog_size(part);
    const uint8_t *src = blob;

    if (flash_part_erase_sector(part, (uint32_t)target) != FLASH_OK) {
        return TWOSLOT_ERR_IO;
    }
    /* Payload first: whole program units straight from the blob, then the
     * tail padded with 0xFF (programming 0xFF leaves NOR bits untouched). */
    size_t body = len - len % prog;
    if (body != 0 && flash_part_program(part, base + TWOSLOT_PAYLOAD_OFF, src, body) != FLASH_OK) {
        return TWOSLOT_ERR_IO;
    }
    if (body != len) {
        uint8_t tail[TWOSLOT_PAYLOAD_OFF];
        memset(tail, 0xFF, sizeof(tail));
        memcpy(tail, src + body, len - body);
        if (flash_part_program(part, base + TWOSLOT_PAYLOAD_OFF + (uint32_t)body, tail, prog) !=
            FLASH_OK) {
            return TWOSLOT_ERR_IO;
        }
    }

    /* Header last: it is the commit record. */
    uint8_t hdr[TWOSLOT_PAYLOAD_OFF];
    uint32_t data_crc = crc32_update(0, blob, len);
    memset(hdr, 0xFF, sizeof(hdr));
    put_le32(hdr + HDR_MAGIC, TWOSLOT_MAGIC);
    put_le16(hdr + HDR_VERSION, TWOSLOT_FORMAT_VERSION);
    put_le16(hdr + HDR_HDR_SIZE, TWOSLOT_HDR_SIZE);
    put_le32(hdr + HDR_SEQ, seq);
    put_le32(hdr + HDR_LEN, (uint32_t)len);
    put_le32(hdr + HDR_DATA_CRC, data_crc);
    put_le32(hdr + HDR_HDR_CRC, crc32_update(0, hdr, HDR_HDR_CRC));
    size_t hdr_prog = (TWOSLOT_HDR_SIZE + prog - 1u) / prog * prog;
    if (flash_part_program(part, base, hdr, hdr_prog) != FLASH_OK) {
        return TWOSLOT_ERR_IO;
    }

    /* Read back: a bit that did not program (worn sector, a backend that
     * ANDs silently) must not go unnoticed until the next boot. */
    slot_hdr_t h = { 0, 0, 0 };
    twoslot_slot_state_t st = slot_examine(part, target, &h);
    if (st == TWOSLOT_SLOT_UNREADABLE) {
        return TWOSLOT_ERR_IO;
    }
    in->slot = target;
    in->state[target] = st;
    in->seq[target] = h.seq;
    in->len[target] = h.len;
    in->any_corrupt = false;
    for (int i = 0; i < TWOSLOT_SLOTS; i++) {
        in->any_corrupt |= in->state[i] == TWOSLOT_SLOT_CORRUPT;
    }
    if (st != TWOSLOT_SLOT_VALID || h.seq != seq || h.len != len || h.data_crc != data_crc) {
        return TWOSLOT_ERR_VERIFY;
    }
    return TWOSLOT_OK;
}

int twoslot_load(const flash_part_t *part, void *buf, size_t cap, size_t *len, uint32_t *seq,
                  twoslot_info_t *info)
{
    twoslot_info_t local;
    twoslot_info_t *in = info != NULL ? info : &local;
    slot_hdr_t hdrs[TWOSLOT_SLOTS];

    if (!part_ok(part) || (buf == NULL && cap != 0)) {
        return TWOSLOT_ERR_ARG;
    }
    stat_slots(part, in, hdrs);

    /* Newest valid first.  The payload is read again into buf and checked
     * once more: if it now fails (a flaky part), fall back to the other. */
    for (int tries = 0; tries < TWOSLOT_SLOTS; tries++) {
        int s = newest_slot(in, TWOSLOT_SLOT_VALID);
        if (s < 0) {
            break;
        }
        uint32_t n = in->len[s];
        if (len != NULL) {
            *len = n;
        }
        if (n > cap) {
            in->slot = s;
            return TWOSLOT_ERR_NOSPACE;
        }
        if (flash_part_read(part, slot_off(part, s) + TWOSLOT_PAYLOAD_OFF, buf, n) != FLASH_OK) {
            in->state[s] = TWOSLOT_SLOT_UNREADABLE;
            continue;
        }
        if (crc32_update(0, buf, n) == hdrs[s].data_crc) {
            in->slot = s;
            if (seq != NULL) {
                *seq = in->seq[s];
            }
            return TWOSLOT_OK;
        }
        in->state[s] = TWOSLOT_SLOT_CORRUPT;
        in->any_corrupt = true;
    }
    if (len != NULL) {
        *len = 0;
    }
    for (int i = 0; i < TWOSLOT_SLOTS; i++) {
        if (in->state[i] == TWOSLOT_SLOT_UNREADABLE) {
            return TWOSLOT_ERR_IO;
        }
    }
    return TWOSLOT_ERR_NOTFOUND;
}

int twoslot_erase(const flash_part_t *part)
{
    twoslot_info_t in;

    if (!part_ok(part)) {
        return TWOSLOT_ERR_ARG;
    }
    /* Older slot first: a cut between the two erases leaves the newest copy,
     * i.e. as if the reset had not been asked for -- never an older config
     * coming back. */
    stat_slots(part, &in, NULL);
    int keep = newest_slot(&in, TWOSLOT_SLOT_VALID);
    int first = keep < 0 ? 0 : 1 - keep;
    if (flash_part_erase_sector(part, (uint32_t)first) != FLASH_OK ||
        flash_part_erase_sector(part, (uint32_t)(1 - first)) != FLASH_OK) {
        return TWOSLOT_ERR_IO;
    }
    return TWOSLOT_OK;
}

const char *twoslot_slot_state_name(twoslot_slot_state_t st)
{
    static const char *const names[TWOSLOT_SLOT_STATE_COUNT] = {
        [TWOSLOT_SLOT_BLANK] = "blank",
        [TWOSLOT_SLOT_VALID] = "valid",
        [TWOSLOT_SLOT_CORRUPT] = "corrupt",
        [TWOSLOT_SLOT_UNSUPPORTED] = "unsupported",
        [TWOSLOT_SLOT_UNREADABLE] = "unreadable",
    };
    return (unsigned)st < TWOSLOT_SLOT_STATE_COUNT ? names[st] : "?";
}
