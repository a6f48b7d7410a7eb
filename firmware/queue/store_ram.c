/*
 * store_ram.c - RAM message store over a static chunked arena.
 *
 * Per message, one chain of chunks holds a byte stream:
 *   [u16 sender_len][sender] + if DSN parameters: [u8 ret][u8 envid_len][envid]
 *   nrcpt x ( [store_rcpt_state_t][u16 addr_len][addr]
 *             + if DSN parameters: [u8 notify][u8 orcpt_len][orcpt] )
 *   [body ...]
 * Bit 15 of a length says the DSN part follows, so messages without RFC
 * 3461 parameters cost nothing extra.
 * Recipients precede the body because SMTP sends RCPT before DATA; keeping
 * the same order a log-structured store would use keeps the interface honest.
 */
#include "queue/store_ram.h"

#include <stddef.h>
#include <string.h>

#define NCHUNKS   (STORE_RAM_ARENA_SIZE / STORE_RAM_CHUNK_SIZE)
#define CHUNK_NIL 0xFFFFu

_Static_assert(NCHUNKS > 0 && NCHUNKS < CHUNK_NIL, "chunk index must fit u16");
_Static_assert(STORE_RAM_MAX_MSGS > 0 && STORE_RAM_MAX_MSGS <= 65535, "slot index must fit 16 bits");

enum { SLOT_FREE = 0, SLOT_OPEN, SLOT_SEALED };

typedef struct {
    uint8_t  state;
    uint8_t  src_netif;
    uint8_t  body_started;  /* rcpt_add no longer allowed */
    uint16_t gen;           /* handle generation, guards against stale handles */
    uint16_t nrcpt;
    uint16_t nchunks;
    uint16_t first, last;
    uint32_t len;           /* bytes in the chain */
    uint32_t rcpt_off;      /* offset of recipient 0 */
    uint32_t body_off;      /* offset of the body */
    uint32_t msgid, arrival;
    /* walk caches: make sequential reads/recipient scans linear */
    uint16_t cur_chunk;     /* chunk holding offset cur_base */
    uint32_t cur_base;
    uint16_t rc_idx;        /* recipient rc_idx starts at rc_off */
    uint32_t rc_off;
} slot_t;

static uint8_t  s_arena[NCHUNKS][STORE_RAM_CHUNK_SIZE] __attribute__((aligned(4)));
static uint16_t s_next[NCHUNKS];
static uint16_t s_free_head;
static uint16_t s_free_count;
static slot_t   s_slot[STORE_RAM_MAX_MSGS];

#define RREC_HDR ((uint32_t)sizeof(store_rcpt_state_t) + 2u)
#define LEN_EXT  0x8000u   /* length flag: the DSN part follows */

static store_handle_t mk_handle(uint16_t idx)
{
    return (store_handle_t)(((uint32_t)(s_slot[idx].gen & 0x7FFFu) << 16) | idx);
}

static slot_t *get_slot(store_handle_t h, uint8_t want_state)
{
    if (h < 0)
        return NULL;
    uint32_t idx = (uint32_t)h & 0xFFFFu;
    uint32_t gen = ((uint32_t)h >> 16) & 0x7FFFu;
    if (idx >= STORE_RAM_MAX_MSGS)
        return NULL;
    slot_t *s = &s_slot[idx];
    if (s->state != want_state || (s->gen & 0x7FFFu) != gen)
        return NULL;
    return s;
}

static void chain_free(slot_t *s)
{
    if (s->nchunks) {
        s_next[s->last] = s_free_head;
        s_free_head = s->first;
        s_free_count = (uint16_t)(s_free_count + s->nchunks);
    }
    s->nchunks = 0;
    s->first = s->last = s->cur_chunk = CHUNK_NIL;
    s->len = 0;
}

static void slot_release(slot_t *s)
{
    chain_free(s);
    s->state = SLOT_FREE;
    s->gen++;
}

static uint32_t chunks_for(uint64_t bytes)
{
    return (uint32_t)((bytes + STORE_RAM_CHUNK_SIZE - 1u) / STORE_RAM_CHUNK_SIZE);
}

/* Grow the chain so that it can hold newlen bytes: all or nothing. */
static int chain_grow(slot_t *s, uint64_t newlen)
{
    uint32_t want = chunks_for(newlen);
    if (want <= s->nchunks)
        return STORE_OK;
    uint32_t need = want - s->nchunks;
    if (need > s_free_count)
        return STORE_ERR_FULL;
    while (need--) {
        uint16_t c = s_free_head;
        s_free_head = s_next[c];
        s_free_count--;
        s_next[c] = CHUNK_NIL;
        if (s->nchunks == 0)
            s->first = c;
        else
            s_next[s->last] = c;
        s->last = c;
        s->nchunks++;
    }
    return STORE_OK;
}

/* Copy between buf and the chain at off (within the chain's capacity). */
static void chain_rw(slot_t *s, uint32_t off, void *buf, uint32_t len, int write)
{
    uint16_t c;
    uint32_t base;
    if (s->cur_chunk != CHUNK_NIL && s->cur_base <= off) {
        c = s->cur_chunk;
        base = s->cur_base;
    } else {
        c = s->first;
        base = 0;
    }
    uint8_t *p = buf;
    while (len) {
        while (off - base >= STORE_RAM_CHUNK_SIZE) {
            c = s_next[c];
            base += STORE_RAM_CHUNK_SIZE;
        }
        /* callers stay within capacity (chain_grow ran first), so c is valid */
        uint32_t coff = off - base;
        uint32_t n = STORE_RAM_CHUNK_SIZE - coff;
        if (n > len)
            n = len;
        if (write)
            memcpy(&s_arena[c][coff], p, n);
        else
            memcpy(p, &s_arena[c][coff], n);
        p += n;
        off += n;
        len -= n;
    }
    s->cur_chunk = c;
    s->cur_base = base;
}

/* Append pieces as one all-or-nothing unit. */
static int chain_append2(slot_t *s, const void *a, uint32_t alen, const void *b, uint32_t blen)
{
    uint64_t newlen = (uint64_t)s->len + alen + blen;
    if (newlen > (uint64_t)NCHUNKS * STORE_RAM_CHUNK_SIZE)
        return STORE_ERR_FULL;
    int rc = chain_grow(s, newlen);
    if (rc)
        return rc;
    if (alen)
        chain_rw(s, s->len, (void *)(uintptr_t)a, alen, 1);
    if (blen)
        chain_rw(s, s->len + alen, (void *)(uintptr_t)b, blen, 1);
    s->len = (uint32_t)newlen;
    return STORE_OK;
}

/* Offset of recipient idx's record in a slot. */
static uint32_t rcpt_offset(slot_t *s, uint16_t idx)
{
    uint16_t i = 0;
    uint32_t off = s->rcpt_off;
    if (s->rc_idx <= idx && s->rc_off >= s->rcpt_off) {
        i = s->rc_idx;
        off = s->rc_off;
    }
    while (i < idx) {
        uint8_t l[2];
        chain_rw(s, off + (uint32_t)sizeof(store_rcpt_state_t), l, 2, 0);
        uint32_t v = (uint32_t)l[0] | ((uint32_t)l[1] << 8);
        off += RREC_HDR + (v & ~LEN_EXT);
        if (v & LEN_EXT) {
            chain_rw(s, off, l, 2, 0);
            off += 2u + l[1];
        }
        i++;
    }
    s->rc_idx = idx;
    s->rc_off = off;
    return off;
}

/* ---- ops ------------------------------------------------------------- */

void store_ram_init(void)
{
    for (uint32_t i = 0; i < NCHUNKS; i++)
        s_next[i] = (uint16_t)(i + 1u < NCHUNKS ? i + 1u : CHUNK_NIL);
    s_free_head = 0;
    s_free_count = (uint16_t)NCHUNKS;
    for (uint32_t i = 0; i < STORE_RAM_MAX_MSGS; i++) {
        uint16_t gen = s_slot[i].gen;
        memset(&s_slot[i], 0, sizeof s_slot[i]);
        s_slot[i].gen = (uint16_t)(gen + 1u);
        s_slot[i].first = s_slot[i].last = CHUNK_NIL;
    }
}

static int ram_recover(void *ctx)
{
    (void)ctx;
    int n = 0;
    for (uint32_t i = 0; i < STORE_RAM_MAX_MSGS; i++) {
        if (s_slot[i].state == SLOT_OPEN)
            slot_release(&s_slot[i]);
        else if (s_slot[i].state == SLOT_SEALED)
            n++;
    }
    return n;
}

static int ram_create(void *ctx, const char *sender, uint32_t size_hint, const store_dsn_t *dsn,
                      store_handle_t *out)
{
    (void)ctx;
    if (!sender || !out)
        return STORE_ERR_ARG;
    size_t slen, elen;
    int ext;
    if (store_create_args(sender, dsn, &slen, &elen, &ext) != STORE_OK)
        return STORE_ERR_ARG;
    const char *envid = elen > 0 ? dsn->envid : "";
    uint64_t est = 2u + slen + RREC_HDR + (uint64_t)size_hint;
    if (est > (uint64_t)NCHUNKS * STORE_RAM_CHUNK_SIZE)
        return STORE_ERR_TOOBIG;
    if (chunks_for(est) > s_free_count)
        return STORE_ERR_FULL;
    for (uint16_t i = 0; i < STORE_RAM_MAX_MSGS; i++) {
        slot_t *s = &s_slot[i];
        if (s->state != SLOT_FREE)
            continue;
        uint16_t gen = s->gen;
        memset(s, 0, sizeof *s);
        s->gen = gen;
        s->first = s->last = s->cur_chunk = CHUNK_NIL;
        s->state = SLOT_OPEN;
        uint32_t v = (uint32_t)slen | (ext ? LEN_EXT : 0u);
        uint8_t l[2] = { (uint8_t)v, (uint8_t)(v >> 8) };
        int rc = chain_append2(s, l, 2, sender, (uint32_t)slen);
        if (rc == STORE_OK && ext) {
            uint8_t x[2] = { dsn->ret, (uint8_t)elen };
            rc = chain_append2(s, x, 2, envid, (uint32_t)elen);
        }
        if (rc) {
            slot_release(s);
            return rc;
        }
        s->rcpt_off = s->body_off = s->rc_off = s->len;
        *out = mk_handle(i);
        return STORE_OK;
    }
    return STORE_ERR_FULL;
}

static int ram_rcpt_add(void *ctx, store_handle_t h, const char *addr, uint8_t notify,
                        const char *orcpt)
{
    (void)ctx;
    slot_t *s = get_slot(h, SLOT_OPEN);
    if (!s || !addr)
        return STORE_ERR_ARG;
    if (s->body_started)
        return STORE_ERR_STATE;
    size_t alen = strlen(addr);
    if (alen == 0 || alen > STORE_ADDR_MAX)
        return STORE_ERR_ARG;
    size_t olen = orcpt ? strlen(orcpt) : 0u;
    if (olen > STORE_ORCPT_MAX)
        return STORE_ERR_ARG;
    if (s->nrcpt == 0xFFFFu)
        return STORE_ERR_FULL;
    int ext = notify != 0 || olen > 0;
    /* record header: initial state (PENDING, all zero) + length */
    uint8_t hdr[sizeof(store_rcpt_state_t) + 2];
    memset(hdr, 0, sizeof hdr);
    uint32_t v = (uint32_t)alen | (ext ? LEN_EXT : 0u);
    hdr[sizeof(store_rcpt_state_t)] = (uint8_t)v;
    hdr[sizeof(store_rcpt_state_t) + 1] = (uint8_t)(v >> 8);
    uint32_t len0 = s->len;
    int rc = chain_append2(s, hdr, (uint32_t)sizeof hdr, addr, (uint32_t)alen);
    if (rc == STORE_OK && ext) {
        uint8_t x[2] = { notify, (uint8_t)olen };
        rc = chain_append2(s, x, 2, orcpt, (uint32_t)olen);
        if (rc)
            s->len = len0;  /* all or nothing: the chunks stay with the message */
    }
    if (rc)
        return rc;
    s->body_off = s->len;
    return s->nrcpt++;
}

static int ram_append(void *ctx, store_handle_t h, const void *data, size_t len)
{
    (void)ctx;
    slot_t *s = get_slot(h, SLOT_OPEN);
    if (!s || (!data && len))
        return STORE_ERR_ARG;
    s->body_started = 1;
    if (len > (size_t)NCHUNKS * STORE_RAM_CHUNK_SIZE)
        return STORE_ERR_FULL;
    return chain_append2(s, data, (uint32_t)len, NULL, 0);
}

static int ram_seal(void *ctx, store_handle_t h, const store_env_t *env)
{
    (void)ctx;
    slot_t *s = get_slot(h, SLOT_OPEN);
    if (!s || !env || env->msgid == 0)
        return STORE_ERR_ARG;
    if (env->size != s->len - s->body_off || env->nrcpt != s->nrcpt)
        return STORE_ERR_ARG;
    s->msgid = env->msgid;
    s->arrival = env->arrival;
    s->src_netif = env->src_netif;
    s->body_started = 1;
    s->state = SLOT_SEALED;  /* the commit point: single store, nothing can tear in RAM */
    return STORE_OK;
}

static void ram_abort(void *ctx, store_handle_t h)
{
    (void)ctx;
    slot_t *s = get_slot(h, SLOT_OPEN);
    if (s)
        slot_release(s);
}

static int ram_del(void *ctx, store_handle_t h)
{
    (void)ctx;
    slot_t *s = get_slot(h, SLOT_SEALED);
    if (!s)
        return STORE_ERR_NOTFOUND;
    slot_release(s);
    return STORE_OK;
}

static int ram_info(void *ctx, store_handle_t h, store_msg_t *out)
{
    (void)ctx;
    slot_t *s = get_slot(h, SLOT_SEALED);
    if (!s)
        return STORE_ERR_NOTFOUND;
    if (!out)
        return STORE_ERR_ARG;
    uint8_t l[2];
    chain_rw(s, 0, l, 2, 0);
    uint32_t v = (uint32_t)l[0] | ((uint32_t)l[1] << 8);
    uint32_t slen = v & ~LEN_EXT;
    chain_rw(s, 2, out->sender, slen, 0);
    out->sender[slen] = '\0';
    out->ret = STORE_RET_NONE;
    out->envid[0] = '\0';
    if (v & LEN_EXT) {
        chain_rw(s, 2u + slen, l, 2, 0);
        out->ret = l[0];
        chain_rw(s, 4u + slen, out->envid, l[1], 0);
        out->envid[l[1]] = '\0';
    }
    out->msgid = s->msgid;
    out->arrival = s->arrival;
    out->size = s->len - s->body_off;
    out->nrcpt = s->nrcpt;
    out->src_netif = s->src_netif;
    return STORE_OK;
}

static int ram_read(void *ctx, store_handle_t h, uint32_t offset, void *buf, size_t len)
{
    (void)ctx;
    slot_t *s = get_slot(h, SLOT_SEALED);
    if (!s)
        return STORE_ERR_NOTFOUND;
    if (!buf && len)
        return STORE_ERR_ARG;
    uint32_t size = s->len - s->body_off;
    if (offset >= size)
        return 0;
    uint32_t n = size - offset;
    if (len > 0x7FFFFFFFu)
        len = 0x7FFFFFFFu;
    if (n > len)
        n = (uint32_t)len;
    chain_rw(s, s->body_off + offset, buf, n, 0);
    return (int)n;
}

static int ram_rcpt_get(void *ctx, store_handle_t h, uint16_t idx, store_rcpt_t *out)
{
    (void)ctx;
    slot_t *s = get_slot(h, SLOT_SEALED);
    if (!s || idx >= s->nrcpt)
        return STORE_ERR_NOTFOUND;
    if (!out)
        return STORE_ERR_ARG;
    uint32_t off = rcpt_offset(s, idx);
    uint8_t l[2];
    chain_rw(s, off, &out->st, (uint32_t)sizeof out->st, 0);
    chain_rw(s, off + (uint32_t)sizeof out->st, l, 2, 0);
    uint32_t v = (uint32_t)l[0] | ((uint32_t)l[1] << 8);
    uint32_t alen = v & ~LEN_EXT;
    chain_rw(s, off + RREC_HDR, out->address, alen, 0);
    out->address[alen] = '\0';
    out->notify = 0;
    out->orcpt[0] = '\0';
    if (v & LEN_EXT) {
        chain_rw(s, off + RREC_HDR + alen, l, 2, 0);
        out->notify = l[0];
        chain_rw(s, off + RREC_HDR + alen + 2u, out->orcpt, l[1], 0);
        out->orcpt[l[1]] = '\0';
    }
    return STORE_OK;
}

static int ram_rcpt_update(void *ctx, store_handle_t h, uint16_t idx, const store_rcpt_state_t *st)
{
    (void)ctx;
    slot_t *s = get_slot(h, SLOT_SEALED);
    if (!s || idx >= s->nrcpt)
        return STORE_ERR_NOTFOUND;
    if (!st)
        return STORE_ERR_ARG;
    uint32_t off = rcpt_offset(s, idx);
    chain_rw(s, off, (void *)(uintptr_t)st, (uint32_t)sizeof *st, 1);
    /* terminate the strings in the stored copy (no large stack copy) */
    static const char nul = '\0';
    chain_rw(s, off + (uint32_t)offsetof(store_rcpt_state_t, reply_enh) + STORE_ENH_SIZE - 1u,
             (void *)(uintptr_t)&nul, 1, 1);
    chain_rw(s, off + (uint32_t)offsetof(store_rcpt_state_t, remote) + STORE_REMOTE_MAX,
             (void *)(uintptr_t)&nul, 1, 1);
    chain_rw(s, off + (uint32_t)offsetof(store_rcpt_state_t, reply_text) + STORE_REPLY_TEXT_MAX,
             (void *)(uintptr_t)&nul, 1, 1);
    return STORE_OK;
}

static int ram_next(void *ctx, store_handle_t prev, store_handle_t *out)
{
    (void)ctx;
    if (!out)
        return STORE_ERR_ARG;
    uint32_t i = prev < 0 ? 0u : ((uint32_t)prev & 0xFFFFu) + 1u;
    for (; i < STORE_RAM_MAX_MSGS; i++) {
        if (s_slot[i].state == SLOT_SEALED) {
            *out = mk_handle((uint16_t)i);
            return STORE_OK;
        }
    }
    return STORE_ERR_NOTFOUND;
}

static void ram_stats(void *ctx, store_stats_t *out)
{
    (void)ctx;
    if (!out)
        return;
    memset(out, 0, sizeof *out);
    out->total = (uint32_t)NCHUNKS * STORE_RAM_CHUNK_SIZE;
    out->free = (uint32_t)s_free_count * STORE_RAM_CHUNK_SIZE;
    out->used = out->total - out->free;
    out->max_msgs = STORE_RAM_MAX_MSGS;
    for (uint32_t i = 0; i < STORE_RAM_MAX_MSGS; i++) {
        if (s_slot[i].state == SLOT_SEALED) {
            out->msgs++;
            out->live += s_slot[i].len;
        } else if (s_slot[i].state == SLOT_OPEN) {
            out->open++;
        }
    }
    out->dead = out->used - out->live;
}

const store_ops_t store_ram_ops = {
    .recover = ram_recover,
    .create = ram_create,
    .rcpt_add = ram_rcpt_add,
    .append = ram_append,
    .seal = ram_seal,
    .abort = ram_abort,
    .del = ram_del,
    .info = ram_info,
    .read = ram_read,
    .rcpt_get = ram_rcpt_get,
    .rcpt_update = ram_rcpt_update,
    .next = ram_next,
    .stats = ram_stats,
};
