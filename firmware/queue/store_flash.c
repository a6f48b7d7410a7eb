/*
 * store_flash.c - log-structured message store on NOR flash (see store_flash.h
 * for the on-flash format and the guarantees).
 *
 * Invariants the code relies on:
 *  - Records are only appended at the write head; a sector is written from
 *    its start to its end once per erase, so (seq, offset) is log order.
 *  - At runtime every record the index points to is unique: copies made by
 *    compaction replace the original in the index, and void copies (a run
 *    without its GCEND) and superseded sectors are never looked at.
 *  - Compaction only ever erases the oldest used sector.  A TOMB/ABORT is
 *    written after every record of its message and never copied, so when its
 *    sector is the oldest, every record it kills is in that same sector: they
 *    go together and a deleted message never comes back.
 *  - Outside compaction at least one sector is free (erased or erasable):
 *    a new head is taken only when two are.  Compaction takes at most one
 *    and gives one back; if power fails halfway, mount gets it back (the
 *    new sector holds only a void run, or the victim is superseded), so
 *    every boot starts with a spare.
 *  - Admission charges every message its worst case (RCPT records at their
 *    largest, a TOMB/ABORT, the COMMIT) against a budget that leaves room for
 *    the spare sectors and the slack at sector ends; within that budget a
 *    full round of compaction always frees enough, so a write that passed
 *    the check cannot fail for space.
 */
#include "queue/store_flash.h"

#include <stddef.h>
#include <string.h>

#include "lib/crc32.h"

#define SH        STORE_FLASH_SECT_HDR
#define RH        STORE_FLASH_REC_HDR
#define NSLOT     STORE_FLASH_SLOTS_
#define NRPOOL    STORE_FLASH_RCPTS_
#define CHUNK     STORE_FLASH_CHUNK_MAX
#define RFIX      STORE_FLASH_RCPT_FIX
#define ENH_MAX   (STORE_ENH_SIZE - 1u)
#define NIL       0xFFFFu
#define LOC_NONE  0xFFFFFFFFu
#define UPTO_ALL  0xFFFFFFFFu

/* record types */
enum {
    T_SENDER = 0x11, T_RCPT = 0x12, T_CHUNK = 0x13, T_COMMIT = 0x14, T_TOMB = 0x15,
    T_ABORT = 0x16, T_GCEND = 0x21, T_CLEAN = 0x22
};
#define F_COPY     0x01u   /* record flag: written by compaction */
#define COMMIT_LEN 16u
#define GCEND_LEN  8u

enum { SEC_FREE = 0, SEC_USED, SEC_DIRTY };
/* message slot states; BUILD/ABORT/TOMB exist only inside mount */
enum { M_FREE = 0, M_OPEN, M_SEALED, M_BUILD, M_ABORT, M_TOMB };
#define MF_BODY   0x01u  /* body started: no more recipients */
#define MF_BROKEN 0x02u  /* a write failed halfway: the message cannot be sealed */
#define MF_COMMIT 0x04u  /* mount: COMMIT seen */
#define MF_SENDER 0x08u  /* mount: SENDER seen */
#define MF_SORIG  0x10u  /* sender_loc is the original SENDER: every record of the message
                            lies after it in log order, and what lies before it under the
                            same ID is an older message's (an ID used again) */
#define MF_CSCAN  0x20u  /* mount: chunks not seen in body order: check them one by one */

#define H_BAD 2          /* hdr_at: damaged header */

typedef struct {
    uint8_t  type, flags, isvoid;
    uint16_t len;
    uint32_t mid, dcrc;
    uint32_t off, size;         /* offset in the sector, padded size */
    uint32_t gc_seq, gc_upto;   /* GCEND payload */
} rec_t;

typedef struct {
    uint32_t sec, off, end;
    uint32_t run_end;           /* copies below this offset belong to an examined run */
    uint8_t  run_ok;
    uint8_t  torn;              /* stopped at a damaged header */
} it_t;

/* ---- helpers ------------------------------------------------------------- */

static void put16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static uint32_t get16(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int all_ff(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != 0xFFu)
            return 0;
    return 1;
}

static uint32_t sf_crc(const void *p, size_t n)
{
    return crc32_update(0, p, n);
}

static uint32_t alup(const store_flash_t *st, uint32_t n)
{
    return (n + st->align - 1u) & ~(st->align - 1u);
}

static uint32_t recsz(const store_flash_t *st, uint32_t len)
{
    return alup(st, RH + len);
}

static uint32_t sbase(const store_flash_t *st, uint32_t s)
{
    return s * st->ssize;
}

/* Records other than GCEND/CLEAN end here: the rest of a sector is kept
 * for the GCEND that closes a run of copies. */
static uint32_t limit_normal(const store_flash_t *st)
{
    return st->ssize - st->gsize;
}

/* ---- log order -------------------------------------------------------------- */

/* Sequence numbers and message IDs wrap (RFC 1982 serial-number style): no
 * comparison below is a plain < or > of two stored values.
 *
 * A used sector's age is how many sequence numbers ago it was opened, counted
 * back from next_seq, so the wrap from 0xFFFFFFFF to 0 changes nothing: the
 * log's numbers sit in one short arc of the circle (one per opened sector)
 * and next_seq is just past its newest end.  Larger age = older. */
static uint32_t sec_age(const store_flash_t *st, uint32_t s)
{
    return st->next_seq - st->sec[s].seq;
}

/* Whether used sector a comes before used sector b in log order.  Two
 * stamps alike (only on damaged flash) are told apart by the sector number,
 * so every used sector has its own place and none is skipped.  a < 0: none
 * (before everything). */
static int sec_before(const store_flash_t *st, int32_t a, uint32_t b)
{
    if (a < 0)
        return 1;
    uint32_t x = sec_age(st, (uint32_t)a), y = sec_age(st, b);
    return x != y ? x > y : (uint32_t)a < b;
}

/* Newest of the n sequence numbers v[i * stride] whose bit is set in has: the one
 * followed by the widest gap on the circle of 2^32 values (the gap from the
 * log's newest end around to its oldest).  Any set of values, however damaged
 * or hostile, gives one answer; 0 when has is empty (a blank store starts at
 * 1). */
static uint32_t seq_newest(const uint32_t *v, size_t stride, const uint8_t *has, uint32_t n)
{
    uint32_t best = 0, bestgap = 0;
    int any = 0;
    for (uint32_t a = 0; a < n; a++) {
        if (!((has[a >> 3] >> (a & 7u)) & 1u))
            continue;
        uint32_t gap = 0;   /* distance to the next other value; 0: none (the whole circle) */
        for (uint32_t b = 0; b < n; b++) {
            uint32_t d = v[b * stride] - v[a * stride];
            if (((has[b >> 3] >> (b & 7u)) & 1u) && d && (gap == 0 || d < gap))
                gap = d;
        }
        if (!any || gap - 1u > bestgap - 1u) {
            best = v[a * stride];
            bestgap = gap;
            any = 1;
        }
    }
    return best;
}

static int f_read(const store_flash_t *st, uint32_t addr, void *buf, size_t n)
{
    return flash_part_read(st->part, addr, buf, n) == FLASH_OK ? STORE_OK : STORE_ERR_IO;
}

static int f_prog(const store_flash_t *st, uint32_t addr, const void *buf, size_t n)
{
    return flash_part_program(st->part, addr, buf, n) == FLASH_OK ? STORE_OK : STORE_ERR_IO;
}

/* ---- accounting ------------------------------------------------------------ */

/* A recipient is charged its largest possible record, so updates never need space. */
/* Octets of text + remote a RCPT record of this recipient can hold. */
static uint32_t var_room(uint32_t alen, uint32_t olen)
{
    uint32_t room = STORE_FLASH_RCPT_VAR - alen - olen;  /* alen + olen <= STORE_RCPT_ID_MAX */
    return room < STORE_REPLY_TEXT_MAX + STORE_REMOTE_MAX ? room : STORE_REPLY_TEXT_MAX + STORE_REMOTE_MAX;
}

/* A recipient is charged its largest record so far, at least one with 64
 * octets of text (RFC-less recipients cost what they always did), so
 * updates up to that never need space.  A longer reply or a remote name
 * is charged when it first comes (xtra octets beyond 64, kept per
 * recipient); if the budget has no room for it, the text is shortened
 * rather than the update refused. */
#define VAR_BASE 64u
static uint32_t acct_rcpt(const store_flash_t *st, uint32_t alen, uint32_t olen, uint32_t xtra)
{
    return recsz(st, RFIX + ENH_MAX + alen + olen + VAR_BASE + xtra);
}

/* Body bytes as chunk records: full chunks plus one partial. */
static uint64_t acct_chunks(const store_flash_t *st, uint32_t n)
{
    uint32_t full = n / CHUNK, rest = n % CHUNK;
    return (uint64_t)full * recsz(st, 4u + CHUNK) + (rest ? recsz(st, 4u + rest) : 0u);
}

/* SENDER + COMMIT + the TOMB/ABORT that will end it. */
static uint32_t acct_base(const store_flash_t *st, uint32_t slen)
{
    return recsz(st, slen) + recsz(st, COMMIT_LEN) + recsz(st, 0);
}

/* ---- sector bitmap: which sectors hold records of which slot ---------------- */

static void map_set(store_flash_t *st, uint32_t s, uint32_t slot)
{
    st->map[s][slot >> 3] = (uint8_t)(st->map[s][slot >> 3] | (1u << (slot & 7u)));
}

static int map_get(const store_flash_t *st, uint32_t s, uint32_t slot)
{
    return (st->map[s][slot >> 3] >> (slot & 7u)) & 1u;
}

static void map_clear_slot(store_flash_t *st, uint32_t slot)
{
    for (uint32_t s = 0; s < st->nsec; s++)
        st->map[s][slot >> 3] = (uint8_t)(st->map[s][slot >> 3] & ~(1u << (slot & 7u)));
}

/* ---- slots and recipients --------------------------------------------------- */

static store_handle_t mk_handle(const store_flash_t *st, uint32_t slot)
{
    return (store_handle_t)(((uint32_t)(st->msg[slot].gen & 0x7FFFu) << 16) | slot);
}

static store_flash_msg_t *get_msg(store_flash_t *st, store_handle_t h, uint8_t want, int *slotp)
{
    if (!st || !st->mounted || h < 0)
        return NULL;
    uint32_t idx = (uint32_t)h & 0xFFFFu;
    uint32_t gen = ((uint32_t)h >> 16) & 0x7FFFu;
    if (idx >= NSLOT)
        return NULL;
    store_flash_msg_t *m = &st->msg[idx];
    if (m->state != want || (m->gen & 0x7FFFu) != gen)
        return NULL;
    if (slotp)
        *slotp = (int)idx;
    return m;
}

/* Slot of a live (open or sealed) message by store serial, or -1. */
static int find_mid(const store_flash_t *st, uint32_t mid)
{
    for (uint32_t i = 0; i < NSLOT; i++) {
        const store_flash_msg_t *m = &st->msg[i];
        if ((m->state == M_OPEN || m->state == M_SEALED) && m->mid == mid)
            return (int)i;
    }
    return -1;
}

static void slot_init(store_flash_msg_t *m, uint8_t state, uint32_t mid)
{
    uint16_t gen = m->gen;
    memset(m, 0, sizeof *m);
    m->gen = gen;
    m->state = state;
    m->mid = mid;
    m->r_head = m->r_tail = m->r_cur_ent = NIL;
    m->sender_loc = m->commit_loc = LOC_NONE;
    m->wb = 0xFFu;
}

static int slot_alloc(store_flash_t *st, uint8_t state, uint32_t mid)
{
    for (uint32_t i = 0; i < NSLOT; i++) {
        if (st->msg[i].state == M_FREE) {
            slot_init(&st->msg[i], state, mid);
            return (int)i;
        }
    }
    return -1;
}

static int rcpt_alloc(store_flash_t *st)
{
    uint16_t e = st->rcpt_free;
    if (e == NIL)
        return -1;
    st->rcpt_free = st->rcpt[e].next;
    memset(&st->rcpt[e], 0, sizeof st->rcpt[e]);
    st->rcpt[e].next = NIL;
    st->rcpt[e].loc = LOC_NONE;
    st->nrcpts++;
    return e;
}

static void rcpt_release(store_flash_t *st, uint16_t e)
{
    st->rcpt[e].next = st->rcpt_free;
    st->rcpt_free = e;
    st->nrcpts--;
}

static void slot_release(store_flash_t *st, uint32_t slot)
{
    store_flash_msg_t *m = &st->msg[slot];
    for (uint16_t e = m->r_head; e != NIL;) {
        uint16_t n = st->rcpt[e].next;
        rcpt_release(st, e);
        e = n;
    }
    if (m->state == M_OPEN || m->state == M_SEALED) {
        st->acct -= m->acct;
        st->nmsgs--;
    }
    if (m->wb != 0xFFu)
        st->wb_owner[m->wb] = 0;
    map_clear_slot(st, slot);
    slot_init(m, M_FREE, 0);
    m->gen++;   /* the handle dies */
}

/* Entry of recipient idx (runtime lists are exactly 0..nrcpt-1 in order). */
static uint16_t rcpt_walk(store_flash_t *st, store_flash_msg_t *m, uint16_t idx)
{
    uint16_t e = m->r_head, i = 0;
    if (m->r_cur_ent != NIL && m->r_cur_idx <= idx) {
        e = m->r_cur_ent;
        i = m->r_cur_idx;
    }
    while (e != NIL && i < idx) {
        e = st->rcpt[e].next;
        i++;
    }
    if (e != NIL) {
        m->r_cur_ent = e;
        m->r_cur_idx = idx;
    }
    return e;
}

/* ---- record encoding ------------------------------------------------------------ */

/* Lengths of the variable parts of a RCPT payload, in their order. */
typedef struct {
    uint32_t el, tl, rl, al, ol;   /* enh, text, remote, address, orcpt */
} rlen_t;

static uint32_t rlen_total(const rlen_t *l)
{
    return RFIX + l->el + l->tl + l->rl + l->al + l->ol;
}

/* RCPT payload up to the address (the caller places address and ORCPT
 * after it, at RFIX + el + tl + rl). */
static void rcpt_encode(uint8_t *p, uint16_t idx, uint8_t notify, const store_rcpt_state_t *s,
                        const rlen_t *l)
{
    put16(p, idx);
    p[2] = s->state;
    p[3] = s->flags;
    put16(p + 4, s->attempts);
    put16(p + 6, s->reply_code);
    p[8] = notify;
    p[9] = (uint8_t)l->ol;
    put32(p + 10, s->first_attempt);
    put32(p + 14, s->last_attempt);
    put32(p + 18, s->next_retry);
    p[22] = (uint8_t)l->el;
    p[23] = (uint8_t)l->tl;
    p[24] = (uint8_t)l->al;
    p[25] = (uint8_t)l->rl;
    memcpy(p + RFIX, s->reply_enh, l->el);
    memcpy(p + RFIX + l->el, s->reply_text, l->tl);
    memcpy(p + RFIX + l->el + l->tl, s->remote, l->rl);
}

static void rlen_get(const uint8_t *p, rlen_t *l)
{
    l->el = p[22];
    l->tl = p[23];
    l->rl = p[25];
    l->al = p[24];
    l->ol = p[9];
}

/* Check a RCPT payload's lengths; fills what is asked for. */
static int rcpt_decode(const uint8_t *p, uint32_t len, uint16_t *idx, store_rcpt_t *out,
                       uint8_t *state, uint8_t *alen, uint8_t *olen)
{
    if (len < RFIX)
        return STORE_ERR_IO;
    rlen_t l;
    rlen_get(p, &l);
    /* version-1 records written before the DSN fields have rl = ol = 0 and
     * notify = 0 in what was padding, so they read as "no DSN parameters" */
    uint32_t el = l.el, tl = l.tl, al = l.al;
    if (el > ENH_MAX || tl > STORE_REPLY_TEXT_MAX || al == 0 || al > STORE_ADDR_MAX ||
        l.rl > STORE_REMOTE_MAX || l.ol > STORE_ORCPT_MAX || al + l.ol > STORE_RCPT_ID_MAX ||
        el + tl + l.rl > ENH_MAX + var_room(al, l.ol) || rlen_total(&l) != len)
        return STORE_ERR_IO;
    if (idx)
        *idx = (uint16_t)get16(p);
    if (state)
        *state = p[2];
    if (alen)
        *alen = (uint8_t)al;
    if (olen)
        *olen = (uint8_t)l.ol;
    if (out) {
        memset(&out->st, 0, sizeof out->st);
        out->st.state = p[2];
        out->st.flags = p[3];
        out->st.attempts = (uint16_t)get16(p + 4);
        out->st.reply_code = (uint16_t)get16(p + 6);
        out->st.first_attempt = get32(p + 10);
        out->st.last_attempt = get32(p + 14);
        out->st.next_retry = get32(p + 18);
        memcpy(out->st.reply_enh, p + RFIX, el);
        out->st.reply_enh[el] = '\0';
        memcpy(out->st.reply_text, p + RFIX + el, tl);
        out->st.reply_text[tl] = '\0';
        memcpy(out->st.remote, p + RFIX + el + tl, l.rl);
        out->st.remote[l.rl] = '\0';
        memcpy(out->address, p + RFIX + el + tl + l.rl, al);
        out->address[al] = '\0';
        out->notify = p[8];
        memcpy(out->orcpt, p + RFIX + el + tl + l.rl + al, l.ol);
        out->orcpt[l.ol] = '\0';
    }
    return STORE_OK;
}

/* SENDER payload: the sender, then optionally NUL, u8 RET, ENVID (RFC 3461
 * MAIL parameters; absent in messages without them and in records from
 * before them).  Checks it and returns the parts' lengths. */
static int sender_split(const uint8_t *p, uint32_t len, uint32_t *slen, uint8_t *ret,
                        uint32_t *elen)
{
    const uint8_t *nul = memchr(p, 0, len);
    uint32_t sl = nul ? (uint32_t)(nul - p) : len;
    uint32_t el = nul ? len - sl - 2u : 0u;
    if (sl > STORE_ADDR_MAX || (nul && (len < sl + 2u || el > STORE_ENVID_MAX)))
        return STORE_ERR_IO;
    *slen = sl;
    if (ret)
        *ret = nul ? p[sl + 1u] : (uint8_t)STORE_RET_NONE;
    if (elen)
        *elen = el;
    return STORE_OK;
}

/* ---- reading the log --------------------------------------------------------------- */

/* Header at offset off of sector s, within [.., end): 1 valid, 0 blank or
 * end, H_BAD damaged (torn or corrupt), < 0 flash error. */
static int hdr_at(store_flash_t *st, uint32_t s, uint32_t off, uint32_t end, rec_t *r)
{
    uint8_t b[RH];
    if (off + RH > end)
        return 0;
    if (f_read(st, sbase(st, s) + off, b, RH) != STORE_OK)
        return STORE_ERR_IO;
    if (all_ff(b, RH))
        return 0;
    if (sf_crc(b, 12) != get32(b + 12))
        return H_BAD;
    r->type = b[0];
    r->flags = b[1];
    r->len = (uint16_t)get16(b + 2);
    r->mid = get32(b + 4);
    r->dcrc = get32(b + 8);
    r->off = off;
    r->size = recsz(st, r->len);
    r->isvoid = 0;
    if (r->size > STORE_FLASH_BUF_SIZE || off + r->size > end)
        return H_BAD;
    if (r->type == T_GCEND) {
        /* it validates a whole run: only a complete one counts */
        uint8_t p[GCEND_LEN];
        if (r->len != GCEND_LEN)
            return H_BAD;
        if (f_read(st, sbase(st, s) + off + RH, p, GCEND_LEN) != STORE_OK)
            return STORE_ERR_IO;
        if (sf_crc(p, GCEND_LEN) != r->dcrc)
            return H_BAD;
        r->gc_seq = get32(p);
        r->gc_upto = get32(p + 4);
    }
    return 1;
}

static void it_init(const store_flash_t *st, it_t *it, uint32_t s, uint32_t from)
{
    memset(it, 0, sizeof *it);
    it->sec = s;
    it->off = st->sec[s].skip > SH ? st->sec[s].skip : SH;
    if (from > it->off)
        it->off = from;
    it->end = st->sec[s].end;
}

/* Next record: 1 (r filled; r->isvoid for copies of an unfinished run), 0 at
 * the end (it->torn if a damaged header ended it), < 0 flash error. */
static int it_next(store_flash_t *st, it_t *it, rec_t *r)
{
    int rc = hdr_at(st, it->sec, it->off, it->end, r);
    if (rc == H_BAD) {
        it->torn = 1;
        return 0;
    }
    if (rc <= 0)
        return rc;
    if ((r->flags & F_COPY) && r->off >= it->run_end) {
        /* a run of copies counts only if its GCEND follows it */
        rec_t q;
        uint32_t o = r->off + r->size;
        for (;;) {
            int k = hdr_at(st, it->sec, o, it->end, &q);
            if (k < 0)
                return k;
            if (k == 1 && (q.flags & F_COPY)) {
                o += q.size;
                continue;
            }
            it->run_ok = (uint8_t)(k == 1 && q.type == T_GCEND);
            it->run_end = o;
            break;
        }
    }
    r->isvoid = (uint8_t)((r->flags & F_COPY) && !it->run_ok);
    it->off += r->size;
    return 1;
}

/* Whole record at loc into st->buf, both CRCs checked; *len = payload bytes. */
static int rec_load(store_flash_t *st, uint32_t loc, uint8_t type, uint32_t *len)
{
    uint8_t *b = st->buf;
    if (loc == LOC_NONE || f_read(st, loc, b, RH) != STORE_OK)
        return STORE_ERR_IO;
    uint32_t n = get16(b + 2);
    if (sf_crc(b, 12) != get32(b + 12) || b[0] != type || RH + n > STORE_FLASH_BUF_SIZE)
        return STORE_ERR_IO;
    if (f_read(st, loc + RH, b + RH, n) != STORE_OK || sf_crc(b + RH, n) != get32(b + 8))
        return STORE_ERR_IO;
    *len = n;
    return STORE_OK;
}

/* ---- writing the log --------------------------------------------------------------- */

static int stamp_erase(store_flash_t *st, uint32_t s)
{
    uint8_t b[16];
    put32(b, STORE_FLASH_MAGIC);
    put16(b + 4, STORE_FLASH_VERSION);
    put16(b + 6, SH);
    put32(b + 8, st->sec[s].erases);
    put32(b + 12, sf_crc(b, 12));
    int rc = f_prog(st, sbase(st, s), b, sizeof b);
    st->sec[s].stamped = (uint8_t)(rc == STORE_OK);
    st->sec[s].known = 1;
    return rc;
}

static int stamp_open(store_flash_t *st, uint32_t s, uint32_t seq)
{
    uint8_t b[16];
    memset(b, 0, sizeof b);
    put32(b, seq);
    put32(b + 12, sf_crc(b, 12));
    return f_prog(st, sbase(st, s) + 16u, b, sizeof b);
}

/* From here on the sector's contents do not count, whatever an erase leaves. */
static int retire(store_flash_t *st, uint32_t s)
{
    uint8_t b[16];
    memset(b, 0, sizeof b);
    return f_prog(st, sbase(st, s) + 32u, b, sizeof b);
}

/* Erase and stamp sector s: FREE on success, DIRTY (erase again later) if not. */
static int sec_erase(store_flash_t *st, uint32_t s)
{
    store_flash_sector_t *sc = &st->sec[s];
    sc->state = SEC_DIRTY;
    sc->stamped = 0;
    memset(st->map[s], 0, sizeof st->map[s]);
    int rc = flash_part_erase_sector(st->part, s) == FLASH_OK ? STORE_OK : STORE_ERR_IO;
    sc->erases++;   /* a started erase wears the sector too */
    st->erases_done++;
    if (rc != STORE_OK)
        return rc;
    sc->seq = 0;
    sc->end = SH;
    sc->skip = 0;
    rc = stamp_erase(st, s);
    if (rc == STORE_OK)
        sc->state = SEC_FREE;
    return rc;
}

static uint32_t nfree(const store_flash_t *st)
{
    uint32_t n = 0;
    for (uint32_t s = 0; s < st->nsec; s++)
        n += st->sec[s].state != SEC_USED;
    return n;
}

/* Make the least worn free sector the write head (the old head, if any, is
 * closed: its tail stays unused until compaction). */
static int open_head(store_flash_t *st)
{
    int32_t best = -1;
    for (uint32_t s = 0; s < st->nsec; s++) {
        const store_flash_sector_t *c = &st->sec[s];
        if (c->state == SEC_USED)
            continue;
        if (best >= 0) {
            const store_flash_sector_t *b = &st->sec[best];
            /* an erased sector first (no erase needed), then the least worn */
            if (c->state != b->state ? c->state != SEC_FREE : c->erases >= b->erases)
                continue;
        }
        best = (int32_t)s;
    }
    if (best < 0)
        return STORE_ERR_FULL;
    uint32_t s = (uint32_t)best;
    store_flash_sector_t *c = &st->sec[s];
    int rc = STORE_OK;
    if (c->state == SEC_DIRTY)
        rc = sec_erase(st, s);
    else if (!c->stamped)
        rc = stamp_erase(st, s);
    uint32_t seq = st->next_seq++;   /* used up even if the stamp fails: never two alike */
    if (rc == STORE_OK)
        rc = stamp_open(st, s, seq);
    st->written = 1;
    if (rc != STORE_OK) {
        c->state = SEC_DIRTY;
        return rc;
    }
    c->seq = seq;
    c->state = SEC_USED;
    c->end = SH;
    c->skip = 0;
    st->head = best;
    return STORE_OK;
}

/* Program st->buf[0..size) at the head. */
static int append_raw(store_flash_t *st, uint32_t size, int slot, uint32_t *loc)
{
    if (st->head < 0)
        return STORE_ERR_STATE;
    store_flash_sector_t *h = &st->sec[st->head];
    uint32_t addr = sbase(st, (uint32_t)st->head) + h->end;
    int rc = f_prog(st, addr, st->buf, size);
    st->written = 1;
    if (rc != STORE_OK) {
        /* what is on flash there now is unknown: never write this sector again */
        st->head = -1;
        return rc;
    }
    h->end += size;
    if (slot >= 0)
        map_set(st, (uint32_t)st->head, (uint32_t)slot);
    if (loc)
        *loc = addr;
    return STORE_OK;
}

/* Write a record whose payload the caller put at st->buf + RH (after room()). */
static int put(store_flash_t *st, uint8_t type, uint32_t mid, uint32_t len, int slot, uint32_t *loc)
{
    uint8_t *b = st->buf;
    uint32_t size = recsz(st, len);
    b[0] = type;
    b[1] = 0;
    put16(b + 2, len);
    put32(b + 4, mid);
    put32(b + 8, sf_crc(b + RH, len));
    put32(b + 12, sf_crc(b, 12));
    memset(b + RH + len, 0xFF, size - RH - len);
    return append_raw(st, size, slot, loc);
}

static int put_gcend(store_flash_t *st, uint32_t vseq, uint32_t upto)
{
    put32(st->buf + RH, vseq);
    put32(st->buf + RH + 4, upto);
    return put(st, T_GCEND, 0, GCEND_LEN, -1, NULL);
}

/* Whether offset off of used sector s comes before m's SENDER in log order. */
static int before_sender(const store_flash_t *st, const store_flash_msg_t *m, uint32_t s, uint32_t off)
{
    uint32_t ss = m->sender_loc / st->ssize;
    if (ss != s)
        return sec_before(st, (int32_t)s, ss);
    return off < m->sender_loc - sbase(st, ss);
}

/* Does the index point at record r of sector s?  Returns its slot/entry. */
static int rec_live(const store_flash_t *st, uint32_t s, const rec_t *r, int *slotp, uint16_t *entp)
{
    uint32_t loc = sbase(st, s) + r->off;
    if (r->isvoid || r->mid == 0)
        return 0;
    int slot = find_mid(st, r->mid);
    if (slot < 0)
        return 0;
    const store_flash_msg_t *m = &st->msg[slot];
    *slotp = slot;
    switch (r->type) {
    case T_SENDER:
        return m->sender_loc == loc;
    case T_COMMIT:
        return m->commit_loc == loc;
    case T_CHUNK:
        /* unique at runtime (see the top of this file), but for an older
         * message's under the same ID, which must not be carried past the SENDER */
        return !((m->flags & MF_SORIG) && before_sender(st, m, s, r->off));
    case T_RCPT:
        for (uint16_t e = m->r_head; e != NIL; e = st->rcpt[e].next) {
            if (st->rcpt[e].loc == loc) {
                *entp = e;
                return 1;
            }
        }
        return 0;
    default:
        return 0;   /* TOMB, ABORT, GCEND, CLEAN: never carried forward */
    }
}

/* Copy record r of sector s to the head, flagged as a copy. */
static int copy_rec(store_flash_t *st, uint32_t s, const rec_t *r, int slot)
{
    int rc = f_read(st, sbase(st, s) + r->off, st->buf, r->size);
    if (rc != STORE_OK)
        return rc;
    st->buf[1] = (uint8_t)(st->buf[1] | F_COPY);
    put32(st->buf + 12, sf_crc(st->buf, 12));
    rc = append_raw(st, r->size, slot, NULL);
    if (rc == STORE_OK)
        st->copied += r->size;
    return rc;
}

/* A run of copies is on flash with its GCEND: point the index at the copies.
 * Until then it pointed at the originals, so a run cut short by a write
 * error leaves the index right.  The live records of v from vfrom (below
 * vto) and the copies at h from hfrom pair up in order. */
static int gc_commit(store_flash_t *st, uint32_t v, uint32_t vfrom, uint32_t vto, uint32_t h, uint32_t hfrom)
{
    it_t iv, ih;
    rec_t r, c;
    int k;
    it_init(st, &iv, v, vfrom);
    it_init(st, &ih, h, hfrom);
    while ((k = it_next(st, &iv, &r)) > 0 && r.off < vto) {
        int slot = -1;
        uint16_t ent = NIL;
        if (!rec_live(st, v, &r, &slot, &ent))
            continue;
        k = it_next(st, &ih, &c);
        if (k < 0)
            return k;
        if (k == 0 || c.type != r.type || c.mid != r.mid || c.size != r.size)
            return STORE_ERR_IO;
        uint32_t old = sbase(st, v) + r.off, loc = sbase(st, h) + c.off;
        store_flash_msg_t *m = &st->msg[slot];
        switch (r.type) {
        case T_SENDER:
            /* the original's sector goes now, and with it anything older under this ID */
            m->sender_loc = loc;
            m->flags = (uint8_t)(m->flags & ~MF_SORIG);
            break;
        case T_COMMIT:
            m->commit_loc = loc;
            break;
        case T_RCPT:
            st->rcpt[ent].loc = loc;
            break;
        default:
            if (m->rd_len && m->rd_loc == old)
                m->rd_loc = loc;
            break;
        }
    }
    return k < 0 ? k : STORE_OK;
}

/* Compact the oldest sector: copy its live records to the head, retire and
 * erase it.  Needs one free sector, gives one back.
 *
 * Errors (a program or erase that fails with the power on) must leave RAM
 * agreeing with what the next mount will make of the flash: a sector only
 * counts as reclaimable in RAM if it is so on flash by itself (retired, or
 * holding nothing but a void run). */
static int gc_one(store_flash_t *st)
{
    if (st->failed)
        return STORE_ERR_IO;
    int32_t v = -1;
    for (uint32_t s = 0; s < st->nsec; s++) {
        if (st->sec[s].state == SEC_USED && (int32_t)s != st->head &&
            (v < 0 || sec_before(st, (int32_t)s, (uint32_t)v)))
            v = (int32_t)s;
    }
    if (v < 0 || nfree(st) < 1)
        return STORE_ERR_FULL;
    store_flash_sector_t *vs = &st->sec[v];
    it_t it;
    rec_t r;
    int run = 0, k, rc = STORE_OK;
    int32_t opened = -1;   /* the sector this compaction opened */
    uint32_t vfrom = 0, hsec = 0, hfrom = 0;
    it_init(st, &it, (uint32_t)v, 0);
    while ((k = it_next(st, &it, &r)) > 0) {
        int slot = -1;
        uint16_t ent = NIL;
        if (!rec_live(st, (uint32_t)v, &r, &slot, &ent))
            continue;
        if (st->head < 0 || st->sec[st->head].end + r.size > limit_normal(st)) {
            if (run) {
                /* close this part of the run: records of v below r are done */
                rc = put_gcend(st, vs->seq, r.off);
                if (rc != STORE_OK)
                    return rc;   /* a void run in the old head; v is untouched */
                rc = gc_commit(st, (uint32_t)v, vfrom, r.off, hsec, hfrom);
                if (rc != STORE_OK)
                    goto fail;
                vs->skip = r.off;
                run = 0;
                st->splits++;
            }
            if (opened >= 0)
                return STORE_ERR_FULL;  /* cannot happen: what is left of v fits an empty sector */
            rc = open_head(st);
            if (rc != STORE_OK)
                return rc;
            opened = st->head;
        }
        if (!run) {
            vfrom = r.off;
            hsec = (uint32_t)st->head;
            hfrom = st->sec[st->head].end;
        }
        rc = copy_rec(st, (uint32_t)v, &r, slot);
        if (rc != STORE_OK)
            goto abandon;
        run = 1;
    }
    if (k < 0) {
        rc = k;
        goto abandon;
    }
    if (run) {
        rc = put_gcend(st, vs->seq, UPTO_ALL);
        if (rc != STORE_OK)
            goto abandon;
        rc = gc_commit(st, (uint32_t)v, vfrom, UPTO_ALL, hsec, hfrom);
        if (rc != STORE_OK)
            goto fail;
    }
    rc = retire(st, (uint32_t)v);
    if (rc != STORE_OK && !run)
        return rc;   /* v still counts on flash (with nothing live): it stays in use, for next time */
    /* nothing of v is referenced any more */
    vs->state = SEC_DIRTY;
    vs->skip = 0;
    memset(st->map[v], 0, sizeof st->map[v]);
    for (uint32_t i = 0; i < NSLOT; i++) {
        store_flash_msg_t *m = &st->msg[i];
        if (m->rd_len && m->rd_loc / st->ssize == (uint32_t)v)
            m->rd_len = 0;
    }
    st->compactions++;
    int erc = sec_erase(st, (uint32_t)v);
    if (rc != STORE_OK && erc != STORE_OK)
        goto fail;   /* v is superseded only by the GCEND, which a later compaction could erase */
    return erc;

abandon:
    /* The run has no GCEND: void on flash, and the index still names v's
     * records.  A sector opened for it holds nothing else: give it back. */
    if (opened >= 0 && run) {
        if (st->head == opened)
            st->head = -1;
        st->sec[opened].state = SEC_DIRTY;
        memset(st->map[opened], 0, sizeof st->map[opened]);
    }
    return rc;

fail:
    /* The index is only partly moved to the copies, or a superseded sector
     * could not be retired nor erased: compacting further could duplicate
     * or drop records.  Writes stop until the next mount, which sorts it out
     * from flash; reads go on. */
    st->failed = 1;
    return rc != STORE_OK ? rc : STORE_ERR_IO;
}

/* Make the head able to take size bytes; term: a GCEND/CLEAN may use the
 * reserve at the sector end.  May compact. */
static int room(store_flash_t *st, uint32_t size, int term)
{
    uint32_t limit = term ? st->ssize : limit_normal(st);
    if (st->failed)
        return STORE_ERR_IO;
    for (uint32_t i = 0; i < 2u * st->nsec + 2u; i++) {
        if (st->head >= 0 && st->sec[st->head].end + size <= limit)
            return STORE_OK;
        int rc = nfree(st) >= 2 ? open_head(st) : gc_one(st);
        if (rc != STORE_OK)
            return rc;
    }
    return STORE_ERR_FULL;
}

/* room() + put() for a record without payload. */
static int put_empty(store_flash_t *st, uint8_t type, uint32_t mid, int term)
{
    int rc = room(st, recsz(st, 0), term);
    return rc != STORE_OK ? rc : put(st, type, mid, 0, -1, NULL);
}

/* ---- geometry --------------------------------------------------------------------- */

static int geometry(store_flash_t *st, const flash_part_t *part)
{
    if (flash_part_check(part) != FLASH_OK)
        return STORE_ERR_ARG;
    uint32_t ssize = flash_part_sector_size(part), nsec = flash_part_sectors(part);
    uint32_t prog = flash_part_prog_size(part);
    if (ssize < STORE_FLASH_MIN_SECTOR || nsec < STORE_FLASH_MIN_SECTORS ||
        nsec > STORE_FLASH_MAX_SECTORS || prog > 16u)
        return STORE_ERR_ARG;
    st->part = part;
    st->ssize = ssize;
    st->nsec = nsec;
    st->align = prog < 4u ? 4u : prog;
    st->gsize = recsz(st, GCEND_LEN);
    uint32_t chunk_rec = RH + 4u + CHUNK;
    st->recmax = alup(st, STORE_FLASH_REC_MAX > chunk_rec ? STORE_FLASH_REC_MAX : chunk_rec);
    /* Per sector, worst case: header, GCEND reserve, and a record that did
     * not fit.  Four sectors: the head, the spare, the part-filled head after
     * a full round of compaction, and margin; plus one GCEND per compaction
     * of such a round and the CLEAN record. */
    uint32_t per = ssize - SH - st->recmax - st->gsize;
    st->budget = (nsec - 4u) * per - nsec * st->gsize - recsz(st, 0);
    return STORE_OK;
}

/* ---- mount ------------------------------------------------------------------------ */

/* Whether [off, off+len) of the partition is all 0xFF: 1, 0, or STORE_ERR_IO. */
static int part_blank(const flash_part_t *part, uint32_t off, uint32_t len, uint8_t *buf, uint32_t bufsize)
{
    while (len) {
        uint32_t n = len < bufsize ? len : bufsize;
        if (flash_part_read(part, off, buf, n) != FLASH_OK)
            return STORE_ERR_IO;
        if (!all_ff(buf, n))
            return 0;
        off += n;
        len -= n;
    }
    return 1;
}

static int sector_blank(store_flash_t *st, uint32_t s, uint32_t from)
{
    return part_blank(st->part, sbase(st, s) + from, st->ssize - from, st->buf, sizeof st->buf);
}

/* What the sector header says.  Every readable open stamp (used or retired
 * sector) goes into c->seq with its bit set in has, for next_seq. */
static int classify(store_flash_t *st, uint32_t s, uint8_t *has)
{
    uint8_t h[SH];
    store_flash_sector_t *c = &st->sec[s];
    if (f_read(st, sbase(st, s), h, SH) != STORE_OK)
        return STORE_ERR_IO;
    c->end = st->ssize;
    c->state = SEC_DIRTY;
    if (all_ff(h, 16)) {
        int b = sector_blank(st, s, 16);
        if (b < 0)
            return b;
        if (b)
            c->state = SEC_FREE;
        return STORE_OK;
    }
    if (sf_crc(h, 12) != get32(h + 12) || get32(h) != STORE_FLASH_MAGIC)
        return STORE_OK;   /* torn erase stamp or garbage */
    if (get16(h + 4) != STORE_FLASH_VERSION || get16(h + 6) != SH)
        return STORE_ERR_STATE;  /* another format: not ours to erase */
    c->erases = get32(h + 8);
    c->known = 1;
    int open_ok = sf_crc(h + 16, 12) == get32(h + 28);
    if (open_ok) {
        c->seq = get32(h + 16);
        has[s >> 3] = (uint8_t)(has[s >> 3] | (1u << (s & 7u)));
    }
    if (!all_ff(h + 32, 16))
        return STORE_OK;   /* retired */
    if (all_ff(h + 16, 16)) {
        int b = sector_blank(st, s, SH);
        if (b < 0)
            return b;
        if (b) {
            c->state = SEC_FREE;
            c->stamped = 1;
        }
        return STORE_OK;
    }
    if (open_ok)
        c->state = SEC_USED;
    return STORE_OK;
}

/* Slot being rebuilt for mid, allocated on first sight; -1 when the table is full. */
static int build_slot(store_flash_t *st, uint32_t mid)
{
    for (uint32_t i = 0; i < NSLOT; i++)
        if (st->msg[i].state == M_BUILD && st->msg[i].mid == mid)
            return (int)i;
    return slot_alloc(st, M_BUILD, mid);
}

/* Recipient idx of m, inserted in order if new; -1 when the pool is empty. */
static int build_rcpt(store_flash_t *st, store_flash_msg_t *m, uint16_t idx)
{
    uint16_t prev = NIL, e = m->r_head;
    while (e != NIL && st->rcpt[e].idx < idx) {
        prev = e;
        e = st->rcpt[e].next;
    }
    if (e != NIL && st->rcpt[e].idx == idx)
        return e;
    int n = rcpt_alloc(st);
    if (n < 0)
        return -1;
    st->rcpt[n].idx = idx;
    st->rcpt[n].next = e;
    if (prev == NIL)
        m->r_head = (uint16_t)n;
    else
        st->rcpt[prev].next = (uint16_t)n;
    if (e == NIL)
        m->r_tail = (uint16_t)n;
    m->r_cur_ent = NIL;
    return n;
}

/* Index one valid record found at mount (payload already in st->buf + RH). */
static int index_rec(store_flash_t *st, uint32_t s, const rec_t *r)
{
    const uint8_t *p = st->buf + RH;
    uint32_t loc = sbase(st, s) + r->off;
    int slot;
    store_flash_msg_t *m;

    switch (r->type) {
    case T_TOMB:
    case T_ABORT:
        for (uint32_t i = 0; i < NSLOT; i++) {
            if (st->msg[i].state == M_BUILD && st->msg[i].mid == r->mid) {
                slot_release(st, i);
                break;
            }
        }
        return STORE_OK;
    case T_SENDER:
    case T_RCPT:
    case T_CHUNK:
    case T_COMMIT:
        break;
    default:
        return STORE_OK;   /* GCEND (pass 1), CLEAN (checked by the caller) */
    }
    if (r->mid == 0)
        return 1;   /* corrupt */
    slot = build_slot(st, r->mid);
    if (slot < 0)
        return STORE_ERR_FULL;
    m = &st->msg[slot];
    if (r->type == T_SENDER && !(r->flags & F_COPY) && m->nrec) {
        /* An original SENDER is a message's first record: what came before it
         * under the same ID is an older message's (an ID reused after a wrap,
         * whose ABORT never reached flash), not part of this one. */
        st->rec.discarded += m->nrec;
        slot_release(st, (uint32_t)slot);
        slot = slot_alloc(st, M_BUILD, r->mid);   /* cannot fail: one was just freed */
        m = &st->msg[slot];
    }
    switch (r->type) {
    case T_SENDER: {
        uint32_t slen;
        if (sender_split(p, r->len, &slen, NULL, NULL) != STORE_OK)
            return 1;
        m->sender_loc = loc;
        m->null_sender = slen == 0;
        m->flags = (uint8_t)((m->flags & ~MF_SORIG) | MF_SENDER | (r->flags & F_COPY ? 0u : MF_SORIG));
        m->acct += r->size;
        break;
    }
    case T_RCPT: {
        uint16_t idx;
        uint8_t state, alen, olen;
        if (rcpt_decode(p, r->len, &idx, NULL, &state, &alen, &olen) != STORE_OK)
            return 1;
        int e = build_rcpt(st, m, idx);
        if (e < 0)
            return STORE_ERR_FULL;
        /* the newest record in log order is the current state */
        st->rcpt[e].loc = loc;
        st->rcpt[e].state = state;
        st->rcpt[e].alen = alen;
        st->rcpt[e].olen = olen;
        {
            rlen_t l;
            rlen_get(p, &l);
            st->rcpt[e].xtra = (uint8_t)(l.tl + l.rl > VAR_BASE ? l.tl + l.rl - VAR_BASE : 0u);
        }
        break;
    }
    case T_CHUNK: {
        if (r->len < 5u)
            return 1;
        uint32_t boff = get32(p), n = r->len - 4u;
        if (boff > 0xFFFFFFFFu - n)
            return 1;
        /* rd_body (the read cursor, unused while mounting): where the next
         * chunk in body order starts.  Chunks come in body order unless
         * compaction moved some; those messages are checked in finish_slot. */
        if (boff != m->rd_body)
            m->flags |= MF_CSCAN;
        m->rd_body = boff + n;
        m->size += n;
        m->acct += r->size;
        break;
    }
    default: /* T_COMMIT */
        if (r->len != COMMIT_LEN)
            return 1;
        m->msgid = get32(p);
        m->arrival = get32(p + 4);
        m->env_size = get32(p + 8);
        m->nrcpt = (uint16_t)get16(p + 12);
        m->src_netif = p[14];
        m->commit_loc = loc;
        m->flags |= MF_COMMIT;
        m->acct += r->size;
        break;
    }
    m->nrec++;
    map_set(st, s, (uint32_t)slot);
    return STORE_OK;
}

static int find_chunk(store_flash_t *st, uint32_t slot, uint32_t off);

/* Whether the indexed chunks of slot tile its body: from offset 0, each
 * offset is the start of a chunk, up to the size.  With the chunks' sum
 * equal to the size, no chunk overlaps another and none is left over.  A
 * flash error counts as a failure: the body could not be read either. */
static int chunks_tile(store_flash_t *st, uint32_t slot)
{
    store_flash_msg_t *m = &st->msg[slot];
    int ok = 1;
    m->rd_len = 0;
    for (uint32_t off = 0; ok && off < m->size; off += m->rd_len)
        ok = find_chunk(st, slot, off) == STORE_OK && m->rd_body == off && m->rd_len <= m->size - off;
    m->rd_len = 0;
    m->rd_body = 0;
    return ok;
}

/* A message rebuilt at mount: sealed and complete -> SEALED, else dropped. */
static void finish_slot(store_flash_t *st, uint32_t slot)
{
    store_flash_msg_t *m = &st->msg[slot];
    store_flash_recovery_t *rep = &st->rec;
    if (!(m->flags & MF_COMMIT)) {
        m->state = M_ABORT;   /* its 250 was never sent */
        rep->unsealed++;
        rep->discarded += m->nrec;
        return;
    }
    /* recipients beyond the COMMIT's count come from a failed rcpt_add: ignore */
    uint16_t prev = NIL, n = 0;
    int deferred = 0;
    uint32_t racct = 0;
    for (uint16_t e = m->r_head; e != NIL;) {
        uint16_t next = st->rcpt[e].next;
        if (st->rcpt[e].idx >= m->nrcpt) {
            if (prev == NIL)
                m->r_head = next;
            else
                st->rcpt[prev].next = next;
            rcpt_release(st, e);
        } else {
            n++;
            racct += acct_rcpt(st, st->rcpt[e].alen, st->rcpt[e].olen, st->rcpt[e].xtra);
            deferred |= st->rcpt[e].state == STORE_RCPT_DEFERRED;
            prev = e;
        }
        e = next;
    }
    m->r_tail = prev;
    m->r_cur_ent = NIL;
    if (!(m->flags & MF_SENDER) || n != m->nrcpt || m->size != m->env_size ||
        ((m->flags & MF_CSCAN) ? !chunks_tile(st, slot) : m->rd_body != m->size)) {
        m->state = M_TOMB;    /* sealed but records lost (bit rot): unusable */
        rep->damaged++;
        rep->discarded += m->nrec;
        return;
    }
    m->state = M_SEALED;
    m->flags = (uint8_t)(MF_BODY | (m->flags & MF_SORIG));
    m->rd_body = 0;
    m->acct += racct + recsz(st, 0);
    st->acct += m->acct;
    st->nmsgs++;
    rep->recovered++;
    rep->queue[m->null_sender ? STORE_FLASH_Q_BOUNCE
                              : deferred ? STORE_FLASH_Q_DEFERRED : STORE_FLASH_Q_ACTIVE]++;
}

int store_flash_mount(store_flash_t *st, const flash_part_t *part, store_flash_recovery_t *rep)
{
    if (!st)
        return STORE_ERR_ARG;
    /* Handles from before the mount must not name new messages: the slot
     * generations carry on (whatever the memory held is a fine start). */
    for (uint32_t i = 0; i < NSLOT; i++) {
        uint16_t gen = (uint16_t)(st->msg[i].gen + 1u);
        memset(&st->msg[i], 0, sizeof st->msg[i]);
        st->msg[i].gen = gen;
    }
    memset(st, 0, offsetof(store_flash_t, msg));
    memset(st->rcpt, 0, sizeof *st - offsetof(store_flash_t, rcpt));
    int rc = geometry(st, part);
    if (rc != STORE_OK)
        return rc;
    st->head = -1;
    for (uint32_t i = 0; i < NSLOT; i++)
        slot_init(&st->msg[i], M_FREE, 0);
    for (uint32_t i = 0; i < NRPOOL; i++)
        st->rcpt[i].next = (uint16_t)(i + 1u < NRPOOL ? i + 1u : NIL);
    st->rcpt_free = 0;

    /* 1. sector headers */
    uint32_t maxmid = 0, known_max = 0, nused = 0;
    int anymid = 0;
    uint8_t has[(STORE_FLASH_MAX_SECTORS + 7) / 8];
    memset(has, 0, sizeof has);
    for (uint32_t s = 0; s < st->nsec; s++) {
        rc = classify(st, s, has);
        if (rc != STORE_OK)
            return rc;
        if (st->sec[s].known && st->sec[s].erases > known_max)
            known_max = st->sec[s].erases;
        if (st->sec[s].state == SEC_DIRTY)
            st->rec.bad_sectors++;
    }
    for (uint32_t s = 0; s < st->nsec; s++) {
        if (!st->sec[s].known)
            st->sec[s].erases = known_max;  /* unknown wear: assume the worst seen */
    }
    /* past every stamp a GCEND could name, so a new sector is never taken for an old one */
    _Static_assert(sizeof(store_flash_sector_t) % 4u == 0, "seq_newest strides over the sectors");
    st->next_seq = seq_newest(&st->sec[0].seq, sizeof(store_flash_sector_t) / 4u, has, st->nsec) + 1u;

    /* 2. where the log ends in each sector, and what compaction superseded */
    uint8_t sup[(STORE_FLASH_MAX_SECTORS + 7) / 8];
    memset(sup, 0, sizeof sup);
    for (uint32_t s = 0; s < st->nsec; s++) {
        if (st->sec[s].state != SEC_USED)
            continue;
        nused++;
        it_t it;
        rec_t r;
        int k;
        it_init(st, &it, s, 0);
        it.off = SH;   /* a skip set by an earlier GCEND is for indexing only */
        while ((k = it_next(st, &it, &r)) > 0) {
            /* the newest ID by serial-number arithmetic; create() skips any still in use */
            if (r.mid && (!anymid || (int32_t)(r.mid - maxmid) > 0)) {
                maxmid = r.mid;
                anymid = 1;
            }
            if (r.type != T_GCEND)
                continue;
            for (uint32_t v = 0; v < st->nsec; v++) {
                /* a compaction's victim is always older than the sector of its GCEND */
                if (v == s || st->sec[v].state != SEC_USED || st->sec[v].seq != r.gc_seq ||
                    sec_before(st, (int32_t)s, v))
                    continue;
                if (r.gc_upto == UPTO_ALL)
                    sup[v >> 3] = (uint8_t)(sup[v >> 3] | (1u << (v & 7u)));
                else if (r.gc_upto > st->sec[v].skip)
                    st->sec[v].skip = r.gc_upto;
            }
        }
        if (k < 0)
            return k;
        st->sec[s].end = it.off;
        st->sec[s].good = it.torn ? 2u : 0u;   /* remembered for the newest sector */
    }

    /* 3. index, in log order.  Torn or corrupt records are only reported in
     * the newest sector: that is where the last power cut hit; older ones
     * were reported by the mount after their own cut. */
    int32_t newest = -1;
    uint8_t last_type = 0;
    uint32_t bad = 0;
    for (int32_t last = -1;;) {
        int32_t s = -1;
        for (uint32_t i = 0; i < st->nsec; i++) {
            if (st->sec[i].state == SEC_USED && !((sup[i >> 3] >> (i & 7u)) & 1u) &&
                sec_before(st, last, i) && (s < 0 || sec_before(st, (int32_t)i, (uint32_t)s)))
                s = (int32_t)i;
        }
        if (s < 0)
            break;
        last = s;
        newest = s;
        last_type = 0;
        bad = st->sec[s].good == 2u;
        st->sec[s].good = 0;
        it_t it;
        rec_t r;
        int k;
        it_init(st, &it, (uint32_t)s, 0);
        while ((k = it_next(st, &it, &r)) > 0) {
            if (r.isvoid)
                continue;
            if (r.type != T_GCEND) {
                if (f_read(st, sbase(st, (uint32_t)s) + r.off + RH, st->buf + RH, r.len) != STORE_OK)
                    return STORE_ERR_IO;
                if (sf_crc(st->buf + RH, r.len) != r.dcrc) {
                    bad++;   /* header complete, payload torn */
                    last_type = 0;
                    continue;
                }
                rc = index_rec(st, (uint32_t)s, &r);
                if (rc < 0)
                    return rc;
                if (rc > 0) {
                    bad++;   /* CRC-valid but malformed */
                    continue;
                }
            }
            st->sec[s].good = 1;
            last_type = r.type;
        }
        if (k < 0)
            return k;
        if (it.torn)
            last_type = 0;
    }
    st->rec.torn = bad;
    st->rec.discarded = bad;
    st->rec.blank = (uint8_t)(nused == 0 && st->rec.bad_sectors == 0);
    st->rec.clean = (uint8_t)(st->rec.blank || (newest >= 0 && last_type == T_CLEAN));
    st->was_clean = st->rec.clean;

    /* 4. messages */
    for (uint32_t i = 0; i < NSLOT; i++)
        if (st->msg[i].state == M_BUILD)
            finish_slot(st, i);
    st->next_mid = maxmid + 1u;   /* 0 and IDs in use are skipped by create() */

    /* 5. superseded sectors and sectors without a single valid record
     *    (a void run, a cut right after opening) are retired for good */
    for (uint32_t s = 0; s < st->nsec; s++) {
        store_flash_sector_t *c = &st->sec[s];
        if (c->state != SEC_USED)
            continue;
        int is_sup = (sup[s >> 3] >> (s & 7u)) & 1u;
        if (!is_sup && c->good)
            continue;
        if (is_sup)
            st->rec.superseded++;
        else
            st->rec.bad_sectors++;
        memset(st->map[s], 0, sizeof st->map[s]);
        c->state = SEC_DIRTY;
        /* If the retire fails: a sector without valid records is found so
         * again by the next mount, but a superseded one only through the
         * GCEND elsewhere, which compaction could erase first -- so erase it
         * now, or stop writing. */
        if (retire(st, s) != STORE_OK && is_sup && sec_erase(st, s) != STORE_OK)
            st->failed = 1;
    }

    /* 6. settle the dropped messages on flash, so later mounts skip them.
     *    A write error here is not fatal: the stored mail can still be
     *    delivered, and the next mount settles them again. */
    for (uint32_t i = 0; i < NSLOT; i++) {
        store_flash_msg_t *m = &st->msg[i];
        if (m->state != M_ABORT && m->state != M_TOMB)
            continue;
        (void)put_empty(st, m->state == M_ABORT ? T_ABORT : T_TOMB, m->mid, 0);
        slot_release(st, i);
    }
    st->mounted = 1;
    if (rep)
        *rep = st->rec;
    return STORE_OK;
}

/* ---- close / format ------------------------------------------------------------------ */

static void abort_open(store_flash_t *st)
{
    for (uint32_t i = 0; i < NSLOT; i++) {
        if (st->msg[i].state == M_OPEN) {
            (void)put_empty(st, T_ABORT, st->msg[i].mid, 0);  /* best effort: mount drops it anyway */
            slot_release(st, i);
        }
    }
}

int store_flash_close(store_flash_t *st)
{
    if (!st || !st->mounted)
        return STORE_ERR_STATE;
    abort_open(st);
    int rc = STORE_OK;
    if (st->written || !st->was_clean)
        rc = put_empty(st, T_CLEAN, 0, 1);
    st->mounted = 0;
    return rc;
}

/* Erase sector s of part and stamp it with its new erase count. */
static int format_sector(const flash_part_t *part, uint32_t s, uint32_t erases)
{
    uint8_t b[16];
    uint32_t ssize = flash_part_sector_size(part);
    if (flash_part_erase_sector(part, s) != FLASH_OK)
        return STORE_ERR_IO;
    put32(b, STORE_FLASH_MAGIC);
    put16(b + 4, STORE_FLASH_VERSION);
    put16(b + 6, SH);
    put32(b + 8, erases);
    put32(b + 12, sf_crc(b, 12));
    return flash_part_program(part, s * ssize, b, sizeof b) == FLASH_OK ? STORE_OK : STORE_ERR_IO;
}

int store_flash_format(const flash_part_t *part)
{
    if (flash_part_check(part) != FLASH_OK)
        return STORE_ERR_ARG;
    uint32_t ssize = flash_part_sector_size(part), nsec = flash_part_sectors(part);
    if (ssize < STORE_FLASH_MIN_SECTOR || nsec < STORE_FLASH_MIN_SECTORS ||
        nsec > STORE_FLASH_MAX_SECTORS || flash_part_prog_size(part) > 16u)
        return STORE_ERR_ARG;
    uint8_t h[SH];
    int rc;
    /* Log sectors oldest first, like compaction: a cut midway may lose
     * messages (a format does) but never revives a deleted one.  Log order
     * as the mount sees it (seq_newest); each pass erases the oldest sector
     * left, and an erased sector has no open stamp. */
    uint32_t seqv[STORE_FLASH_MAX_SECTORS];
    uint8_t has[(STORE_FLASH_MAX_SECTORS + 7) / 8];
    uint32_t next = 0;
    for (int pass = 0;; pass++) {
        int32_t best = -1;
        uint32_t best_age = 0, best_erases = 0;
        memset(has, 0, sizeof has);
        for (uint32_t s = 0; s < nsec; s++) {
            if (flash_part_read(part, s * ssize, h, SH) != FLASH_OK)
                return STORE_ERR_IO;
            if (sf_crc(h, 12) != get32(h + 12) || get32(h) != STORE_FLASH_MAGIC ||
                sf_crc(h + 16, 12) != get32(h + 28) || !all_ff(h + 32, 16))
                continue;
            seqv[s] = get32(h + 16);
            has[s >> 3] = (uint8_t)(has[s >> 3] | (1u << (s & 7u)));
            if (pass && (best < 0 || next - seqv[s] > best_age)) {
                best = (int32_t)s;
                best_age = next - seqv[s];
                best_erases = get32(h + 8);
            }
        }
        if (!pass) {
            next = seq_newest(seqv, 1, has, nsec) + 1u;
            continue;
        }
        if (best < 0)
            break;
        rc = format_sector(part, (uint32_t)best, best_erases + 1u);
        if (rc != STORE_OK)
            return rc;
    }
    /* then anything that is not an erased sector stamped by this version
     * (one of another version, even blank, would fail the next mount) */
    for (uint32_t s = 0; s < nsec; s++) {
        if (flash_part_read(part, s * ssize, h, SH) != FLASH_OK)
            return STORE_ERR_IO;
        int stamped = sf_crc(h, 12) == get32(h + 12) && get32(h) == STORE_FLASH_MAGIC;
        int ours = stamped && get16(h + 4) == STORE_FLASH_VERSION && get16(h + 6) == SH;
        if (ours) {
            uint8_t b[64];
            rc = part_blank(part, s * ssize + 16u, ssize - 16u, b, sizeof b);
            if (rc < 0)
                return rc;
            if (rc)
                continue;
        }
        /* another version's erase count may sit elsewhere: start it again */
        rc = format_sector(part, s, ours ? get32(h + 8) + 1u : 0u);
        if (rc != STORE_OK)
            return rc;
    }
    return STORE_OK;
}

/* ---- store_ops_t ------------------------------------------------------------------- */

static int sf_recover(void *ctx)
{
    store_flash_t *st = ctx;
    if (!st || !st->mounted)
        return STORE_ERR_STATE;
    abort_open(st);
    return (int)st->nmsgs;
}

static int sf_create(void *ctx, const char *sender, uint32_t size_hint, const store_dsn_t *dsn,
                     store_handle_t *out)
{
    store_flash_t *st = ctx;
    if (!st || !st->mounted)
        return STORE_ERR_STATE;
    if (!sender || !out)
        return STORE_ERR_ARG;
    size_t slen, elen;
    int ext;
    if (store_create_args(sender, dsn, &slen, &elen, &ext) != STORE_OK)
        return STORE_ERR_ARG;
    const char *envid = elen > 0 ? dsn->envid : "";
    uint32_t plen = (uint32_t)slen + (ext ? 2u + (uint32_t)elen : 0u);
    uint64_t base = acct_base(st, plen);
    uint64_t est = base + acct_chunks(st, size_hint);
    if (est + acct_rcpt(st, 1, 0, 0) > st->budget)
        return STORE_ERR_TOOBIG;
    if ((uint64_t)st->acct + est > st->budget || st->nmsgs >= STORE_FLASH_MAX_MSGS)
        return STORE_ERR_FULL;
    /* 0 means "no message"; an ID still in use (possible only after a wrap,
     * or when flash held a stray one) would merge two messages */
    while (st->next_mid == 0 || find_mid(st, st->next_mid) >= 0)
        st->next_mid++;
    int slot = slot_alloc(st, M_FREE, st->next_mid);
    if (slot < 0)
        return STORE_ERR_FULL;
    uint32_t mid = st->next_mid++;
    int rc = room(st, recsz(st, plen), 0);
    uint32_t loc = LOC_NONE;
    if (rc == STORE_OK) {
        memcpy(st->buf + RH, sender, slen);
        if (ext) {
            st->buf[RH + slen] = 0;
            st->buf[RH + slen + 1u] = dsn->ret;
            memcpy(st->buf + RH + slen + 2u, envid, elen);
        }
        rc = put(st, T_SENDER, mid, plen, slot, &loc);
    }
    store_flash_msg_t *m = &st->msg[slot];
    if (rc != STORE_OK) {
        slot_release(st, (uint32_t)slot);
        return rc;
    }
    m->state = M_OPEN;
    m->flags = MF_SORIG;
    m->sender_loc = loc;
    m->null_sender = slen == 0;
    m->acct = (uint32_t)base;
    st->acct += m->acct;
    st->nmsgs++;
    for (uint32_t b = 0; b < STORE_FLASH_MAX_OPEN; b++) {
        if (!st->wb_owner[b]) {
            st->wb_owner[b] = (uint16_t)(slot + 1);
            m->wb = (uint8_t)b;
            break;
        }
    }
    *out = mk_handle(st, (uint32_t)slot);
    return STORE_OK;
}

static int sf_rcpt_add(void *ctx, store_handle_t h, const char *addr, uint8_t notify,
                       const char *orcpt)
{
    store_flash_t *st = ctx;
    int slot;
    store_flash_msg_t *m = get_msg(st, h, M_OPEN, &slot);
    if (!m || !addr)
        return STORE_ERR_ARG;
    if (m->flags & MF_BODY)
        return STORE_ERR_STATE;
    size_t alen = strlen(addr);
    if (alen == 0 || alen > STORE_ADDR_MAX)
        return STORE_ERR_ARG;
    size_t olen = orcpt ? strlen(orcpt) : 0u;
    if (olen > STORE_ORCPT_MAX || alen + olen > STORE_RCPT_ID_MAX)
        return STORE_ERR_ARG;
    uint32_t a = acct_rcpt(st, (uint32_t)alen, (uint32_t)olen, 0);
    if (m->nrcpt == 0xFFFFu || st->nrcpts >= STORE_FLASH_MAX_RCPTS || st->acct + a > st->budget)
        return STORE_ERR_FULL;
    rlen_t l = { 0, 0, 0, (uint32_t)alen, (uint32_t)olen };
    uint32_t len = rlen_total(&l);
    int rc = room(st, recsz(st, len), 0);
    if (rc != STORE_OK)
        return rc;
    static const store_rcpt_state_t zero;  /* PENDING, never tried */
    rcpt_encode(st->buf + RH, m->nrcpt, notify, &zero, &l);
    memcpy(st->buf + RH + RFIX, addr, alen);
    if (olen)
        memcpy(st->buf + RH + RFIX + alen, orcpt, olen);
    uint32_t loc;
    rc = put(st, T_RCPT, m->mid, len, slot, &loc);
    if (rc != STORE_OK)
        return rc;
    int e = rcpt_alloc(st);   /* cannot fail: nrcpts < MAX_RCPTS < pool size */
    if (e < 0)
        return STORE_ERR_FULL;
    st->rcpt[e].loc = loc;
    st->rcpt[e].idx = m->nrcpt;
    st->rcpt[e].state = STORE_RCPT_PENDING;
    st->rcpt[e].alen = (uint8_t)alen;
    st->rcpt[e].olen = (uint8_t)olen;
    st->rcpt[e].xtra = 0;
    if (m->r_tail == NIL)
        m->r_head = (uint16_t)e;
    else
        st->rcpt[m->r_tail].next = (uint16_t)e;
    m->r_tail = (uint16_t)e;
    m->acct += a;
    st->acct += a;
    return m->nrcpt++;
}

/* Write the buffered body bytes of an open message as one chunk. */
static int flush_wbuf(store_flash_t *st, int slot, store_flash_msg_t *m)
{
    if (m->wb == 0xFFu || m->wlen == 0)
        return STORE_OK;
    int rc = room(st, recsz(st, 4u + m->wlen), 0);
    if (rc != STORE_OK)
        return rc;
    put32(st->buf + RH, m->size - m->wlen);
    memcpy(st->buf + RH + 4, st->wbuf[m->wb], m->wlen);
    rc = put(st, T_CHUNK, m->mid, 4u + m->wlen, slot, NULL);
    if (rc == STORE_OK)
        m->wlen = 0;
    return rc;
}

static int sf_append(void *ctx, store_handle_t h, const void *data, size_t len)
{
    store_flash_t *st = ctx;
    int slot;
    store_flash_msg_t *m = get_msg(st, h, M_OPEN, &slot);
    if (!m || (!data && len))
        return STORE_ERR_ARG;
    m->flags |= MF_BODY;
    if (m->flags & MF_BROKEN)
        return STORE_ERR_IO;
    if (len == 0)
        return STORE_OK;
    if ((uint64_t)m->size + len > 0xFFFFFFFFu)
        return STORE_ERR_FULL;
    const uint8_t *p = data;
    int rc = STORE_OK;
    if (m->wb != 0xFFu) {
        /* Buffered: the body becomes full chunks plus one last partial, so
         * the charge is exact, made now, and covers the writes to come. */
        uint64_t need = acct_chunks(st, m->size + (uint32_t)len) - acct_chunks(st, m->size);
        if ((uint64_t)st->acct + need > st->budget)
            return STORE_ERR_FULL;
        m->acct += (uint32_t)need;
        st->acct += (uint32_t)need;
        while (len) {
            uint32_t n = CHUNK - m->wlen;
            if (n > len)
                n = (uint32_t)len;
            memcpy(st->wbuf[m->wb] + m->wlen, p, n);
            m->wlen = (uint16_t)(m->wlen + n);
            m->size += n;
            p += n;
            len -= n;
            if (m->wlen == CHUNK) {
                rc = flush_wbuf(st, slot, m);
                if (rc != STORE_OK) {
                    m->flags |= MF_BROKEN;  /* part of it is on flash: it can only be aborted */
                    return rc;
                }
            }
        }
        return STORE_OK;
    }
    /* Unbuffered (all write buffers taken): one record per CHUNK_MAX piece. */
    uint64_t need = acct_chunks(st, (uint32_t)len);
    if ((uint64_t)st->acct + need > st->budget)
        return STORE_ERR_FULL;
    uint32_t done = 0, charged = 0;
    while (done < len) {
        uint32_t n = len - done < CHUNK ? (uint32_t)(len - done) : CHUNK;
        rc = room(st, recsz(st, 4u + n), 0);
        if (rc != STORE_OK)
            break;
        put32(st->buf + RH, m->size + done);
        memcpy(st->buf + RH + 4, p + done, n);
        rc = put(st, T_CHUNK, m->mid, 4u + n, slot, NULL);
        if (rc != STORE_OK)
            break;
        charged += recsz(st, 4u + n);
        done += n;
    }
    m->acct += charged;
    st->acct += charged;
    if (rc != STORE_OK) {
        if (done)
            m->flags |= MF_BROKEN;
        return rc;
    }
    m->size += (uint32_t)len;
    return STORE_OK;
}

static int sf_seal(void *ctx, store_handle_t h, const store_env_t *env)
{
    store_flash_t *st = ctx;
    int slot;
    store_flash_msg_t *m = get_msg(st, h, M_OPEN, &slot);
    if (!m || !env || env->msgid == 0 || env->size != m->size || env->nrcpt != m->nrcpt)
        return STORE_ERR_ARG;
    if (m->flags & MF_BROKEN)
        return STORE_ERR_IO;
    int rc = flush_wbuf(st, slot, m);   /* the last chunk */
    if (rc == STORE_OK)
        rc = room(st, recsz(st, COMMIT_LEN), 0);
    if (rc != STORE_OK)
        return rc;
    uint8_t *p = st->buf + RH;
    put32(p, env->msgid);
    put32(p + 4, env->arrival);
    put32(p + 8, env->size);
    put16(p + 12, env->nrcpt);
    p[14] = env->src_netif;
    p[15] = 0;
    uint32_t loc;
    rc = put(st, T_COMMIT, m->mid, COMMIT_LEN, slot, &loc);
    if (rc != STORE_OK)
        return rc;
    /* the COMMIT is on flash: durable from here on */
    m->commit_loc = loc;
    m->msgid = env->msgid;
    m->arrival = env->arrival;
    m->src_netif = env->src_netif;
    m->flags |= MF_BODY;
    m->state = M_SEALED;
    if (m->wb != 0xFFu) {
        st->wb_owner[m->wb] = 0;
        m->wb = 0xFFu;
    }
    return STORE_OK;
}

static void sf_abort(void *ctx, store_handle_t h)
{
    store_flash_t *st = ctx;
    int slot;
    store_flash_msg_t *m = get_msg(st, h, M_OPEN, &slot);
    if (!m)
        return;
    (void)put_empty(st, T_ABORT, m->mid, 0);  /* best effort: without it mount drops it too */
    slot_release(st, (uint32_t)slot);
}

static int sf_del(void *ctx, store_handle_t h)
{
    store_flash_t *st = ctx;
    int slot;
    store_flash_msg_t *m = get_msg(st, h, M_SEALED, &slot);
    if (!m)
        return STORE_ERR_NOTFOUND;
    int rc = put_empty(st, T_TOMB, m->mid, 0);
    if (rc != STORE_OK)
        return rc;
    slot_release(st, (uint32_t)slot);
    return STORE_OK;
}

static int sf_info(void *ctx, store_handle_t h, store_msg_t *out)
{
    store_flash_t *st = ctx;
    store_flash_msg_t *m = get_msg(st, h, M_SEALED, NULL);
    if (!m)
        return STORE_ERR_NOTFOUND;
    if (!out)
        return STORE_ERR_ARG;
    uint32_t len;
    int rc = rec_load(st, m->sender_loc, T_SENDER, &len);
    if (rc != STORE_OK)
        return rc;
    uint32_t slen, elen;
    uint8_t ret;
    if (sender_split(st->buf + RH, len, &slen, &ret, &elen) != STORE_OK)
        return STORE_ERR_IO;
    memcpy(out->sender, st->buf + RH, slen);
    out->sender[slen] = '\0';
    out->ret = ret;
    memcpy(out->envid, st->buf + RH + slen + 2u, elen);
    out->envid[elen] = '\0';
    out->msgid = m->msgid;
    out->arrival = m->arrival;
    out->size = m->size;
    out->nrcpt = m->nrcpt;
    out->src_netif = m->src_netif;
    return STORE_OK;
}

/* Look for the chunk of slot holding body offset off in sector s, from
 * offset from: 1 found (read cursor set), 0 not here, < 0 flash error. */
static int scan_chunk(store_flash_t *st, uint32_t slot, uint32_t s, uint32_t from, uint32_t off)
{
    store_flash_msg_t *m = &st->msg[slot];
    it_t it;
    rec_t r;
    int k;
    it_init(st, &it, s, from);
    while ((k = it_next(st, &it, &r)) > 0) {
        if (r.isvoid || r.type != T_CHUNK || r.mid != m->mid || r.len < 5u)
            continue;
        uint8_t b[4];
        uint32_t loc = sbase(st, s) + r.off;
        if ((m->flags & MF_SORIG) && before_sender(st, m, s, r.off))
            continue;   /* an older message's, under the same ID */
        if (f_read(st, loc + RH, b, 4) != STORE_OK)
            return STORE_ERR_IO;
        uint32_t boff = get32(b), n = r.len - 4u;
        if (boff <= off && off - boff < n) {
            m->rd_loc = loc;
            m->rd_body = boff;
            m->rd_len = n;
            return 1;
        }
    }
    return k;
}

/* Point the read cursor at the chunk holding body offset off.  The next
 * chunk is usually right after the cursor, else in the next sector (by log
 * order) that holds the message. */
static int find_chunk(store_flash_t *st, uint32_t slot, uint32_t off)
{
    store_flash_msg_t *m = &st->msg[slot];
    if (m->rd_len && off >= m->rd_body && off - m->rd_body < m->rd_len)
        return STORE_OK;
    int32_t start = -1;
    if (m->rd_len && off >= m->rd_body + m->rd_len) {
        uint32_t s = m->rd_loc / st->ssize;
        int k = scan_chunk(st, slot, s, m->rd_loc - sbase(st, s) + recsz(st, 4u + m->rd_len), off);
        if (k != 0)
            return k < 0 ? k : STORE_OK;
        start = (int32_t)s;
    }
    /* sectors holding the message in log order after start, then from the oldest */
    int wrapped = start < 0;
    for (int32_t last = start;;) {
        int32_t s = -1;
        for (uint32_t i = 0; i < st->nsec; i++) {
            if (st->sec[i].state == SEC_USED && map_get(st, i, slot) && sec_before(st, last, i) &&
                (s < 0 || sec_before(st, (int32_t)i, (uint32_t)s)))
                s = (int32_t)i;
        }
        if (s < 0) {
            if (wrapped)
                break;
            wrapped = 1;
            last = -1;
            continue;
        }
        if (wrapped && start >= 0 && sec_before(st, start, (uint32_t)s))
            break;
        int k = scan_chunk(st, slot, (uint32_t)s, 0, off);
        if (k != 0)
            return k < 0 ? k : STORE_OK;
        last = s;
    }
    m->rd_len = 0;
    return STORE_ERR_IO;  /* indexed but not on flash */
}

static int sf_read(void *ctx, store_handle_t h, uint32_t offset, void *buf, size_t len)
{
    store_flash_t *st = ctx;
    int slot;
    store_flash_msg_t *m = get_msg(st, h, M_SEALED, &slot);
    if (!m)
        return STORE_ERR_NOTFOUND;
    if (!buf && len)
        return STORE_ERR_ARG;
    if (offset >= m->size)
        return 0;
    uint32_t n = m->size - offset;
    if (len > 0x7FFFFFFFu)
        len = 0x7FFFFFFFu;
    if (n > len)
        n = (uint32_t)len;
    uint8_t *p = buf;
    uint32_t done = 0;
    while (done < n) {
        int rc = find_chunk(st, (uint32_t)slot, offset + done);
        if (rc != STORE_OK)
            return rc;
        uint32_t coff = offset + done - m->rd_body;
        uint32_t take = m->rd_len - coff;
        if (take > n - done)
            take = n - done;
        if (f_read(st, m->rd_loc + RH + 4u + coff, p + done, take) != STORE_OK)
            return STORE_ERR_IO;
        done += take;
    }
    return (int)done;
}

static int sf_rcpt_get(void *ctx, store_handle_t h, uint16_t idx, store_rcpt_t *out)
{
    store_flash_t *st = ctx;
    store_flash_msg_t *m = get_msg(st, h, M_SEALED, NULL);
    if (!m || idx >= m->nrcpt)
        return STORE_ERR_NOTFOUND;
    if (!out)
        return STORE_ERR_ARG;
    uint16_t e = rcpt_walk(st, m, idx);
    uint32_t len;
    if (e == NIL)
        return STORE_ERR_IO;
    int rc = rec_load(st, st->rcpt[e].loc, T_RCPT, &len);
    if (rc != STORE_OK)
        return rc;
    return rcpt_decode(st->buf + RH, len, NULL, out, NULL, NULL, NULL);
}

static int sf_rcpt_update(void *ctx, store_handle_t h, uint16_t idx, const store_rcpt_state_t *s)
{
    store_flash_t *st = ctx;
    int slot;
    store_flash_msg_t *m = get_msg(st, h, M_SEALED, &slot);
    if (!m || idx >= m->nrcpt)
        return STORE_ERR_NOTFOUND;
    if (!s)
        return STORE_ERR_ARG;
    uint16_t e = rcpt_walk(st, m, idx);
    if (e == NIL)
        return STORE_ERR_IO;
    /* no copy of *s: it is large, and strnlen bounds unterminated strings */
    rlen_t l = { (uint32_t)strnlen(s->reply_enh, ENH_MAX),
                 (uint32_t)strnlen(s->reply_text, STORE_REPLY_TEXT_MAX),
                 (uint32_t)strnlen(s->remote, STORE_REMOTE_MAX),
                 st->rcpt[e].alen, st->rcpt[e].olen };
    /* what the record has room for (STORE_FLASH_RCPT_VAR): 64 octets of
     * text first, then the remote name whole or not at all, then the rest
     * of the text */
    uint32_t vroom = var_room(l.al, l.ol);
    uint32_t xtra = st->rcpt[e].xtra;
    if (l.tl + l.rl > VAR_BASE + xtra && l.tl + l.rl <= vroom) {
        uint32_t want = l.tl + l.rl - VAR_BASE;
        uint32_t delta = acct_rcpt(st, l.al, l.ol, want) - acct_rcpt(st, l.al, l.ol, xtra);
        if (st->acct + delta <= st->budget) {
            m->acct += delta;
            st->acct += delta;
            xtra = want;
        }
    }
    vroom = VAR_BASE + xtra < vroom ? VAR_BASE + xtra : vroom;
    uint32_t t1 = l.tl < VAR_BASE ? l.tl : VAR_BASE;
    if (l.rl > vroom - t1)
        l.rl = 0;
    if (l.tl > vroom - l.rl)
        l.tl = vroom - l.rl;
    uint32_t len = rlen_total(&l);
    /* room first: compaction may move the old record (and uses st->buf) */
    int rc = room(st, recsz(st, len), 0);
    if (rc != STORE_OK)
        return rc;
    uint32_t olen;
    rc = rec_load(st, st->rcpt[e].loc, T_RCPT, &olen);
    if (rc != STORE_OK)
        return rc;
    uint8_t *p = st->buf + RH;
    rlen_t o;
    rlen_get(p, &o);
    uint32_t oaddr = RFIX + o.el + o.tl + o.rl;
    if (o.al != l.al || o.ol != l.ol || rlen_total(&o) != olen)
        return STORE_ERR_IO;
    uint8_t notify = p[8];
    /* keep address and ORCPT, the new state before them */
    memmove(p + RFIX + l.el + l.tl + l.rl, p + oaddr, l.al + l.ol);
    rcpt_encode(p, idx, notify, s, &l);
    uint32_t loc;
    rc = put(st, T_RCPT, m->mid, len, slot, &loc);
    if (rc != STORE_OK)
        return rc;
    st->rcpt[e].loc = loc;
    st->rcpt[e].state = s->state;
    st->rcpt[e].xtra = (uint8_t)xtra;
    return STORE_OK;
}

static int sf_next(void *ctx, store_handle_t prev, store_handle_t *out)
{
    store_flash_t *st = ctx;
    if (!st || !st->mounted)
        return STORE_ERR_STATE;
    if (!out)
        return STORE_ERR_ARG;
    uint32_t i = prev < 0 ? 0u : ((uint32_t)prev & 0xFFFFu) + 1u;
    for (; i < NSLOT; i++) {
        if (st->msg[i].state == M_SEALED) {
            *out = mk_handle(st, i);
            return STORE_OK;
        }
    }
    return STORE_ERR_NOTFOUND;
}

static void sf_stats(void *ctx, store_stats_t *out)
{
    const store_flash_t *st = ctx;
    if (!out)
        return;
    memset(out, 0, sizeof *out);
    if (!st || !st->mounted)
        return;
    out->total = st->budget;
    out->used = st->acct < st->budget ? st->acct : st->budget;
    out->free = st->budget - out->used;
    out->max_msgs = STORE_FLASH_MAX_MSGS;
    for (uint32_t i = 0; i < NSLOT; i++) {
        if (st->msg[i].state == M_SEALED) {
            out->msgs++;
            out->live += st->msg[i].acct;
        } else if (st->msg[i].state == M_OPEN) {
            out->open++;
        }
    }
    if (out->live > out->used)
        out->live = out->used;
    out->dead = out->used - out->live;
}

const store_ops_t store_flash_ops = {
    .recover = sf_recover,
    .create = sf_create,
    .rcpt_add = sf_rcpt_add,
    .append = sf_append,
    .seal = sf_seal,
    .abort = sf_abort,
    .del = sf_del,
    .info = sf_info,
    .read = sf_read,
    .rcpt_get = sf_rcpt_get,
    .rcpt_update = sf_rcpt_update,
    .next = sf_next,
    .stats = sf_stats,
};

/* ---- show store ----------------------------------------------------------------------- */

uint32_t store_flash_max_body(const store_flash_t *st)
{
    if (!st || !st->mounted)
        return 0;
    uint32_t fixed = acct_base(st, 0) + acct_rcpt(st, 3, 0, 0);  /* "<>" and one short recipient */
    if (st->budget <= fixed)
        return 0;
    uint32_t avail = st->budget - fixed, full = recsz(st, 4u + CHUNK);
    uint32_t n = avail / full * CHUNK, rest = (avail % full) & ~(st->align - 1u);
    if (rest > RH + 4u)
        n += rest - RH - 4u;
    return n;
}

void store_flash_stats(const store_flash_t *st, store_flash_stats_t *out)
{
    if (!out)
        return;
    memset(out, 0, sizeof *out);
    if (!st || !st->nsec)
        return;
    out->part_size = st->ssize * st->nsec;
    out->sector_size = st->ssize;
    out->sectors = (uint16_t)st->nsec;
    out->erase_min = 0xFFFFFFFFu;
    uint32_t sum = 0;   /* 256 sectors x 16M erases fits */
    for (uint32_t s = 0; s < st->nsec; s++) {
        const store_flash_sector_t *c = &st->sec[s];
        if (c->state == SEC_USED) {
            out->sectors_used++;
            out->used += (int32_t)s == st->head ? c->end : st->ssize;
            if ((int32_t)s == st->head)
                out->free += st->ssize - c->end;
        } else {
            out->sectors_free++;
            out->sectors_dirty = (uint16_t)(out->sectors_dirty + (c->state == SEC_DIRTY));
            out->free += st->ssize;
        }
        if (c->erases < out->erase_min)
            out->erase_min = c->erases;
        if (c->erases > out->erase_max)
            out->erase_max = c->erases;
        sum += c->erases;
    }
    out->erase_avg = sum / st->nsec;
    for (uint32_t i = 0; i < NSLOT; i++) {
        const store_flash_msg_t *m = &st->msg[i];
        if (m->state == M_SEALED) {
            out->msgs++;
            out->live += m->acct;
        } else if (m->state == M_OPEN) {
            out->open_msgs++;
            out->open += m->acct;
        }
    }
    out->dead = out->used > out->live + out->open ? out->used - out->live - out->open : 0;
    out->budget = st->budget;
    out->max_body = store_flash_max_body(st);
    out->compactions = st->compactions;
    out->splits = st->splits;
    out->copied = st->copied;
    out->erases = st->erases_done;
    out->max_msgs = STORE_FLASH_MAX_MSGS;
    out->rcpts = st->nrcpts;
    out->max_rcpts = STORE_FLASH_MAX_RCPTS;
    out->recovery = st->rec;
}
