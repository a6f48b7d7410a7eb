/* fuzz: firmware/queue/store_flash.c drivers/flash/flash_sim.c firmware/lib/crc32.c */
/* The flash message store: mount on any image (runs of input bytes over a
 * blank partition), then operations from the input -- messages accepted,
 * updated and deleted, remounts, power cuts at any program or erase, stray
 * CRC-valid records under IDs no live message has (any type but GCEND, any
 * ID, 0 and 0xFFFFFFFF included), stamps with any sequence number on free
 * sectors, any starting counters.  Invariants:
 *  - a mount fails only with STORE_ERR_STATE/FULL/IO, and after
 *    store_flash_format() it succeeds (format makes any sector usable);
 *  - every message a mount lists reads back whole (no error at read: a
 *    damaged one is dropped at mount), with all its recipients;
 *  - every message sealed before a cut or a remount is found after it, with
 *    the same body and its last acknowledged recipient states; one whose
 *    seal or delete was cut is found or not, nothing else;
 *  - a deleted message stays deleted (when nothing stray was planted). */
#include "fuzz.h"

#include "flash/flash_sim.h"
#include "lib/crc32.h"
#include "queue/store_flash.h"

#define SSZ  2048u
#define NSEC 8u
static uint8_t mem[(NSEC + 2) * SSZ];
static uint32_t wear[NSEC + 2];
static flash_sim_t sim;
static flash_part_t part;
static store_flash_t st;
static const store_ops_t *const ops = &store_flash_ops;

/* ---- the model ------------------------------------------------------------ */

#define MM 24
typedef struct {
    uint32_t msgid, size, hash;
    uint16_t nrcpt;
    uint8_t maybe;          /* seal or delete cut: may or may not be there */
    uint8_t ours;           /* accepted by this run (its recipient states are known) */
    uint8_t rstate[3], rmaybe[3];
    uint16_t rattempts[3];
} mm_t;
static mm_t model[MM];
static int nmodel;
static uint32_t deleted[64];
static int ndeleted, planted, img;
static int stamped; /* op_stamp wrote a sector stamp behind the store's back */
static uint8_t body[4096];

static void put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static void make_body(uint32_t tag, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        body[i] = (uint8_t)(tag * 31u + i * 7u + (i >> 5));
}

/* Read a sealed message whole: its size, body hash, recipients checked. */
static void read_msg(store_handle_t h, store_msg_t *mi, uint32_t *hash)
{
    FUZZ_CHECK(ops->info(&st, h, mi) == STORE_OK);
    FUZZ_CHECK(strlen(mi->sender) <= STORE_ADDR_MAX);
    static uint8_t buf[NSEC * SSZ];
    uint32_t off = 0;
    for (;;) {
        int n = ops->read(&st, h, off, buf + off, 97);
        FUZZ_CHECK(n >= 0);   /* no damage found at read time */
        if (n == 0)
            break;
        off += (uint32_t)n;
        FUZZ_CHECK(off <= mi->size);
    }
    FUZZ_CHECK(off == mi->size);
    *hash = fz_hash(2166136261u, buf, off);
    for (uint16_t i = 0; i < mi->nrcpt; i++) {
        store_rcpt_t r;
        FUZZ_CHECK(ops->rcpt_get(&st, h, i, &r) == STORE_OK);
        FUZZ_CHECK(strlen(r.address) >= 1 && strlen(r.address) <= STORE_ADDR_MAX);
    }
    store_rcpt_t r;
    FUZZ_CHECK(ops->rcpt_get(&st, h, mi->nrcpt, &r) == STORE_ERR_NOTFOUND);
}

/* Handle of the model entry's message, or NONE. */
static store_handle_t find(const mm_t *m)
{
    store_handle_t h = STORE_HANDLE_NONE;
    store_msg_t mi;
    while (ops->next(&st, h, &h) == STORE_OK) {
        FUZZ_CHECK(ops->info(&st, h, &mi) == STORE_OK);
        if (mi.msgid == m->msgid && mi.size == m->size && mi.nrcpt == m->nrcpt)
            return h;
    }
    return STORE_HANDLE_NONE;
}

/* After a mount: the store against the model. */
static void verify(void)
{
    store_handle_t h = STORE_HANDLE_NONE;
    int listed = 0;
    while (ops->next(&st, h, &h) == STORE_OK) {
        store_msg_t mi;
        uint32_t hash;
        read_msg(h, &mi, &hash);
        listed++;
        if (!planted && !img)
            for (int d = 0; d < ndeleted; d++)
                FUZZ_CHECK(mi.msgid != deleted[d]);   /* deleted stays deleted */
    }
    FUZZ_CHECK(listed <= STORE_FLASH_MAX_MSGS);
    for (int i = 0; i < nmodel; i++) {
        mm_t *m = &model[i];
        h = find(m);
        if (h == STORE_HANDLE_NONE) {
            FUZZ_CHECK(m->maybe);   /* acknowledged: never lost */
            model[i--] = model[--nmodel];
            continue;
        }
        store_msg_t mi;
        uint32_t hash;
        read_msg(h, &mi, &hash);
        FUZZ_CHECK(hash == m->hash);
        m->maybe = 0;
        for (int r = 0; m->ours && r < m->nrcpt; r++) {
            store_rcpt_t rc;
            FUZZ_CHECK(ops->rcpt_get(&st, h, (uint16_t)r, &rc) == STORE_OK);
            if (rc.st.state != m->rstate[r] || rc.st.attempts != m->rattempts[r]) {
                FUZZ_CHECK(m->rmaybe[r] && rc.st.attempts == m->rattempts[r] + 1u);
                m->rstate[r] = rc.st.state;
                m->rattempts[r] = rc.st.attempts;
            }
            m->rmaybe[r] = 0;
        }
    }
}

/* Take what a mount lists into the model (a hostile image's messages too). */
static void adopt(void)
{
    nmodel = 0;
    store_handle_t h = STORE_HANDLE_NONE;
    while (ops->next(&st, h, &h) == STORE_OK && nmodel < MM) {
        store_msg_t mi;
        mm_t *m = &model[nmodel];
        memset(m, 0, sizeof *m);
        read_msg(h, &mi, &m->hash);
        m->msgid = mi.msgid;
        m->size = mi.size;
        m->nrcpt = mi.nrcpt;
        /* two alike from a hostile image: keep one */
        store_handle_t f = find(m);
        if (f != h)
            continue;
        nmodel++;
    }
}

static int mount(void)
{
    store_flash_recovery_t rep;
    int rc = store_flash_mount(&st, &part, &rep);
    FUZZ_CHECK(rc == STORE_OK || rc == STORE_ERR_STATE || rc == STORE_ERR_FULL || rc == STORE_ERR_IO);
    if (rc == STORE_OK) {
        FUZZ_CHECK(rep.recovered <= STORE_FLASH_MAX_MSGS);
        FUZZ_CHECK(rep.queue[0] + rep.queue[1] + rep.queue[2] == rep.recovered);
        store_flash_stats_t fs;
        store_flash_stats(&st, &fs);
        FUZZ_CHECK(fs.sectors == NSEC && fs.sectors_free + fs.sectors_used == NSEC);
        FUZZ_CHECK(fs.sectors_free >= 1 || img);   /* every boot starts with a spare */
        store_stats_t ss;
        ops->stats(&st, &ss);
        FUZZ_CHECK(ss.used + ss.free == ss.total);
    }
    return rc;
}

/* A power cut at the k-th program/erase from now; returns whether it hit. */
static void arm(fz_t *f)
{
    uint8_t b = fz_u8(f);
    flash_sim_cut_arm(&sim, 1u + b % 24u, (flash_sim_cut_t)(1 + (b >> 5) % 3), 1u + fz_u8(f) % 40u);
}

static int disarm(void)
{
    int hit = !flash_sim_is_powered(&sim);
    flash_sim_power_on(&sim);
    flash_sim_cut_arm(&sim, 0, FLASH_SIM_CUT_NONE, 0);
    return hit;
}

/* Recover after a cut: mount (itself maybe cut once more), verify. */
static void recover(fz_t *f)
{
    if (fz_u8(f) & 1) {
        arm(f);
        (void)store_flash_mount(&st, &part, NULL);
        disarm();
    }
    FUZZ_CHECK(mount() == STORE_OK);
    verify();
}

static uint32_t next_tag = 0x10000;

static void op_put(fz_t *f, int cut)
{
    uint32_t size = fz_u16(f) % 1600u;
    int nr = 1 + fz_u8(f) % 3;
    uint32_t tag = next_tag++;
    char a[64];
    store_handle_t h;
    make_body(tag, size);
    if (cut)
        arm(f);
    /* every other message carries RFC 3461 fields: they must survive too */
    static const store_dsn_t dsn = { STORE_RET_FULL, "env+2Bid" };
    int rc = ops->create(&st, tag & 1 ? "" : "sender@example.com", size, tag & 2 ? &dsn : NULL, &h);
    for (int i = 0; rc == STORE_OK && i < nr; i++) {
        snprintf(a, sizeof a, "r%d.%u@example.org", i, (unsigned)tag);
        int r = ops->rcpt_add(&st, h, a, tag & 2 ? 0x06u : 0u, tag & 2 ? "rfc822;o@example.org" : NULL);
        rc = r < 0 ? r : STORE_OK;
    }
    for (uint32_t off = 0; rc == STORE_OK && off < size;) {
        uint32_t n = 1u + (tag + off) % 500u;
        if (n > size - off)
            n = size - off;
        rc = ops->append(&st, h, body + off, n);
        off += n;
    }
    int sealing = rc == STORE_OK;
    if (rc == STORE_OK) {
        store_env_t env = { tag, 1000, size, (uint16_t)nr, 1 };
        rc = ops->seal(&st, h, &env);
    }
    int hit = cut ? disarm() : 0;
    if (rc != STORE_OK && !hit) {
        /* IO: a program refused with the power on (a planted stamp) */
        FUZZ_CHECK(rc == STORE_ERR_FULL || rc == STORE_ERR_TOOBIG || rc == STORE_ERR_IO);
        ops->abort(&st, h);
    }
    if (nmodel < MM && (rc == STORE_OK || (hit && sealing))) {
        mm_t *m = &model[nmodel++];
        memset(m, 0, sizeof *m);
        m->msgid = tag;
        m->size = size;
        m->nrcpt = (uint16_t)nr;
        m->hash = fz_hash(2166136261u, body, size);
        m->maybe = rc != STORE_OK;
        m->ours = 1;
    } else if (rc == STORE_OK && !hit) {
        FUZZ_CHECK(ops->del(&st, h) == STORE_OK);   /* the model is full */
    }
    if (hit)
        recover(f);
}

static void op_del(fz_t *f, int cut)
{
    if (!nmodel)
        return;
    int i = fz_u8(f) % nmodel;
    store_handle_t h = find(&model[i]);
    if (h == STORE_HANDLE_NONE) {
        FUZZ_CHECK(model[i].maybe);
        return;
    }
    if (cut)
        arm(f);
    int rc = ops->del(&st, h);
    int hit = cut ? disarm() : 0;
    if (rc == STORE_OK || hit) {
        if (ndeleted < 64 && rc == STORE_OK)
            deleted[ndeleted++] = model[i].msgid;
        if (rc == STORE_OK)
            model[i] = model[--nmodel];
        else
            model[i].maybe = 1;
    } else {
        FUZZ_CHECK(rc == STORE_ERR_FULL || rc == STORE_ERR_IO);
        if (rc == STORE_ERR_IO)
            model[i].maybe = 1;
    }
    if (hit)
        recover(f);
}

static void op_update(fz_t *f, int cut)
{
    if (!nmodel)
        return;
    mm_t *m = &model[fz_u8(f) % nmodel];
    store_handle_t h = find(m);
    if (h == STORE_HANDLE_NONE || !m->ours)
        return;
    int r = fz_u8(f) % m->nrcpt;
    store_rcpt_state_t s;
    memset(&s, 0, sizeof s);
    s.state = (uint8_t)(fz_u8(f) & 1 ? STORE_RCPT_DEFERRED : STORE_RCPT_FAILED);
    s.attempts = (uint16_t)(m->rattempts[r] + 1u);
    s.reply_code = 451;
    snprintf(s.reply_enh, sizeof s.reply_enh, "4.7.1");
    snprintf(s.reply_text, sizeof s.reply_text, "try %u", (unsigned)s.attempts);
    if (cut)
        arm(f);
    int rc = ops->rcpt_update(&st, h, (uint16_t)r, &s);
    int hit = cut ? disarm() : 0;
    if (rc == STORE_OK) {
        m->rstate[r] = s.state;
        m->rattempts[r] = s.attempts;
    } else {
        FUZZ_CHECK(hit || rc == STORE_ERR_IO || rc == STORE_ERR_FULL);
        m->rmaybe[r] = 1;
    }
    if (hit)
        recover(f);
}

/* A CRC-valid record at the write head, behind the store's back. */
static void op_plant(fz_t *f)
{
    static const uint8_t types[] = { 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x22, 0x00, 0x7E, 0xFF };
    uint8_t type = types[fz_u8(f) % sizeof types];
    uint8_t flags = fz_u8(f) & 1;
    uint32_t mid;
    switch (fz_u8(f) % 4) {
    case 0: mid = 0xFFFFFFFFu; break;
    case 1: mid = 0; break;
    case 2: mid = st.next_mid + fz_u8(f) % 4u; break;
    default: mid = fz_u32(f); break;
    }
    size_t len;
    const uint8_t *p = fz_bytes(f, fz_u8(f) % 48u, &len);
    if (st.head < 0 || st.failed)
        return;
    for (uint32_t i = 0; i < STORE_FLASH_SLOTS_; i++)
        if ((st.msg[i].state == 1 || st.msg[i].state == 2) && st.msg[i].mid == mid)
            return;   /* a live message's: that would be corruption, not a stray */
    uint32_t size = (STORE_FLASH_REC_HDR + (uint32_t)len + st.align - 1u) & ~(st.align - 1u);
    uint32_t end = st.sec[st.head].end;
    if (end + size > SSZ - st.gsize)
        return;
    uint8_t *r = &mem[SSZ + (uint32_t)st.head * SSZ + end];
    r[0] = type;
    r[1] = flags;
    r[2] = (uint8_t)len;
    r[3] = 0;
    put_le32(r + 4, mid);
    memcpy(r + 16, p, len);
    put_le32(r + 8, crc32_update(0, r + 16, len));
    put_le32(r + 12, crc32_update(0, r, 12));
    st.sec[st.head].end = end + size;
    planted = 1;
}

/* An open stamp with any sequence number on a free sector. */
static void op_stamp(fz_t *f)
{
    uint32_t seq = fz_u8(f) & 1 ? 0xFFFFFFFFu - fz_u8(f) : fz_u32(f);
    for (uint32_t s = 0; s < NSEC; s++) {
        if (st.sec[s].state != 0 || !st.sec[s].stamped)
            continue;
        uint8_t *h = &mem[SSZ + s * SSZ + 16];
        memset(h, 0, 12);
        put_le32(h, seq);
        put_le32(h + 12, crc32_update(0, h, 12));
        /* The running store still thinks the sector blank after its erase
         * stamp: a later write there is refused (STORE_ERR_IO), which is
         * the right answer; the next mount reads the stamp. */
        stamped = 1;
        return;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_t f;
    fz_init(&f, data, size);
    uint8_t cfg = fz_u8(&f);
    static const uint32_t progs[] = { 1, 4, 16, 1 };
    FUZZ_CHECK(flash_sim_init(&sim, mem, wear, sizeof mem, SSZ, progs[cfg & 3]) == FLASH_OK);
    part = (flash_part_t){ "store", flash_sim_dev(&sim), SSZ, NSEC * SSZ };
    memset(&st, 0, sizeof st);
    nmodel = ndeleted = planted = img = stamped = 0;
    /* the image: runs of (offset, bytes) */
    for (int runs = cfg >> 2 & 15; runs > 0 && fz_more(&f); runs--) {
        uint32_t off = fz_u16(&f) % (NSEC * SSZ);
        size_t n;
        const uint8_t *p = fz_bytes(&f, fz_u8(&f) * 2u, &n);
        if (n > NSEC * SSZ - off)
            n = NSEC * SSZ - off;
        memcpy(mem + SSZ + off, p, n);
        img = 1;
    }
    int rc = mount();
    if (rc != STORE_OK) {
        FUZZ_CHECK(store_flash_format(&part) == STORE_OK);
        FUZZ_CHECK(mount() == STORE_OK);
        FUZZ_CHECK(st.rec.blank);
    }
    adopt();
    if (cfg & 0x40) {   /* any starting counters */
        st.next_seq = fz_u8(&f) & 1 ? 0xFFFFFFFFu - fz_u8(&f) : fz_u32(&f);
        st.next_mid = fz_u8(&f) & 1 ? 0xFFFFFFFFu - fz_u8(&f) : fz_u32(&f);
    }
    for (int steps = 0; fz_more(&f) && steps < 64; steps++) {
        uint8_t op = fz_u8(&f);
        int cut = (op & 0x80) != 0;
        switch (op & 7) {
        case 0:
        case 1:
            op_put(&f, cut);
            break;
        case 2:
            op_del(&f, cut);
            break;
        case 3:
            op_update(&f, cut);
            break;
        case 4:
            if (op & 8) {
                int c = store_flash_close(&st);
                FUZZ_CHECK(c == STORE_OK || st.failed || img || planted || (stamped && c == STORE_ERR_IO));
            }
            FUZZ_CHECK(mount() == STORE_OK);
            verify();
            break;
        case 5:
            op_plant(&f);
            break;
        case 6:
            op_stamp(&f);
            break;
        default:
            if (cut) {   /* a cut in the middle of a remount */
                arm(&f);
                (void)store_flash_mount(&st, &part, NULL);
                disarm();
                FUZZ_CHECK(mount() == STORE_OK);
                verify();
            }
            break;
        }
    }
    FUZZ_CHECK(mount() == STORE_OK);
    verify();
    /* and once more: what this mount listed is there after the next */
    adopt();
    FUZZ_CHECK(mount() == STORE_OK);
    verify();
    for (uint32_t i = 0; i < SSZ; i++)
        FUZZ_CHECK(mem[i] == 0xFF && mem[(NSEC + 1) * SSZ + i] == 0xFF);
    return 0;
}
