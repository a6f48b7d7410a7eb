/* unit: firmware/queue/store_ram.c firmware/queue/store_flash.c drivers/flash/flash_sim.c firmware/lib/crc32.c */
/* The store_ops_t contract (queue/store.h), one suite run against every
 * store: store_ram, and store_flash on a simulated NOR partition.  Only what
 * store.h promises is checked here; what one store adds (remounts, power
 * cuts, compaction, its own limits) is in test_store_ram.c and
 * test_store_flash.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "flash/flash_sim.h"
#include "queue/store_flash.h"
#include "queue/store_ram.h"

/* ---- the stores under test ---------------------------------------------- */

typedef struct {
    const store_ops_t *ops;
    void *(*fresh)(void);   /* an empty, usable store; returns its ctx */
} store_fixture_t;

static void *ram_fresh(void)
{
    store_ram_init();
    return NULL;   /* store_ram ignores ctx */
}

/* 16 sectors of 4 KiB: big enough for every case below, small enough that
 * filling it also makes the flash store compact. */
#define FLASH_SSZ  4096u
#define FLASH_NSEC 16u
static uint8_t flash_mem[FLASH_NSEC * FLASH_SSZ];
static uint32_t flash_wear[FLASH_NSEC];
static flash_sim_t flash_sim;
static flash_part_t flash_part;
static store_flash_t flash_store;

static void *flash_fresh(void)
{
    assert_int_equal(flash_sim_init(&flash_sim, flash_mem, flash_wear, sizeof flash_mem, FLASH_SSZ, 1), FLASH_OK);
    flash_part = (flash_part_t){ "store", flash_sim_dev(&flash_sim), 0, sizeof flash_mem };
    assert_int_equal(store_flash_mount(&flash_store, &flash_part, NULL), STORE_OK);
    return &flash_store;
}

static const store_fixture_t ram_fixture = { &store_ram_ops, ram_fresh };
static const store_fixture_t flash_fixture = { &store_flash_ops, flash_fresh };

/* The store of the group being run. */
static const store_ops_t *ops;
static void *ctx;

static int setup(void **state)
{
    const store_fixture_t *f = *state;
    ops = f->ops;
    ctx = f->fresh();
    return 0;
}

/* ---- helpers --------------------------------------------------------------- */

static void fill_pattern(uint8_t *buf, size_t len, uint32_t seed)
{
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)((i * 31u + seed * 7u) ^ (i >> 8));
}

static void rcpt_name(char *buf, size_t size, unsigned i)
{
    snprintf(buf, size, "rcpt%03u@example.org", i);
}

/* Create a sealed message with nrcpt recipients and size body bytes; on an
 * error the open message is aborted and the error returned. */
static int make_msg(uint32_t msgid, const char *sender, uint16_t nrcpt, uint32_t size, store_handle_t *out)
{
    store_handle_t h;
    int rc = ops->create(ctx, sender, size, NULL, &h);
    if (rc)
        return rc;
    for (uint16_t i = 0; i < nrcpt; i++) {
        char a[64];
        rcpt_name(a, sizeof a, i);
        rc = ops->rcpt_add(ctx, h, a, 0, NULL);
        if (rc < 0) {
            ops->abort(ctx, h);
            return rc;
        }
    }
    uint8_t buf[300];
    uint32_t off = 0;
    while (off < size) {
        uint32_t n = size - off < sizeof buf ? size - off : (uint32_t)sizeof buf;
        fill_pattern(buf, sizeof buf, msgid + off);
        rc = ops->append(ctx, h, buf, n);
        if (rc) {
            ops->abort(ctx, h);
            return rc;
        }
        off += n;
    }
    store_env_t env = { .msgid = msgid, .arrival = 100 + msgid, .size = size, .nrcpt = nrcpt, .src_netif = 2 };
    rc = ops->seal(ctx, h, &env);
    if (rc) {
        ops->abort(ctx, h);
        return rc;
    }
    *out = h;
    return 0;
}

static void check_body(store_handle_t h, uint32_t msgid, uint32_t size)
{
    uint8_t exp[300], got[300];
    uint32_t off = 0;
    while (off < size) {
        uint32_t n = size - off < sizeof exp ? size - off : (uint32_t)sizeof exp;
        fill_pattern(exp, sizeof exp, msgid + off);
        int r = ops->read(ctx, h, off, got, n);
        assert_int_equal(r, (int)n);
        assert_memory_equal(exp, got, n);
        off += n;
    }
    assert_int_equal(ops->read(ctx, h, size, got, sizeof got), 0);
}

/* store.h: live + dead <= used; used + free == total. */
static void check_stats_invariants(const store_stats_t *st)
{
    assert_int_equal(st->used + st->free, st->total);
    assert_true(st->live + st->dead <= st->used);
    assert_true(st->msgs + st->open <= st->max_msgs);
}

/* An empty store's figures (what everything returns to). */
static void expect_empty(const store_stats_t *st, const store_stats_t *st0)
{
    assert_int_equal(st->msgs, 0);
    assert_int_equal(st->open, 0);
    assert_int_equal(st->live, 0);
    assert_int_equal(st->used, st0->used);
    assert_int_equal(st->free, st0->free);
    assert_int_equal(st->total, st0->total);
    assert_int_equal(st->max_msgs, st0->max_msgs);
}

/* ---- the contract ---------------------------------------------------------- */

static void test_create_append_seal_read(void **state)
{
    (void)state;
    store_stats_t st;
    ops->stats(ctx, &st);
    check_stats_invariants(&st);
    assert_int_equal(st.msgs, 0);
    assert_int_equal(st.used, 0);
    assert_true(st.max_msgs > 0);

    store_handle_t h;
    assert_int_equal(make_msg(7, "alice@example.com", 3, 1000, &h), 0);
    assert_true(h >= 0);
    store_msg_t m;
    assert_int_equal(ops->info(ctx, h, &m), STORE_OK);
    assert_int_equal(m.msgid, 7);
    assert_int_equal(m.arrival, 107);
    assert_int_equal(m.size, 1000);
    assert_int_equal(m.nrcpt, 3);
    assert_int_equal(m.src_netif, 2);
    assert_string_equal(m.sender, "alice@example.com");
    check_body(h, 7, 1000);

    /* unaligned partial reads across the appends' borders */
    uint8_t exp[1000], got[1000], tmp[300];
    uint32_t o = 0;
    while (o < 1000) {
        uint32_t n = o + 300 <= 1000 ? 300 : 1000 - o;
        fill_pattern(tmp, sizeof tmp, 7 + o);
        memcpy(exp + o, tmp, n);
        o += n;
    }
    assert_int_equal(ops->read(ctx, h, 250, got, 13), 13);
    assert_memory_equal(exp + 250, got, 13);
    assert_int_equal(ops->read(ctx, h, 990, got, 100), 10);
    assert_memory_equal(exp + 990, got, 10);
    assert_int_equal(ops->read(ctx, h, 0, got, 1000), 1000);
    assert_memory_equal(exp, got, 1000);
    assert_int_equal(ops->read(ctx, h, 1000, got, 10), 0);
    assert_int_equal(ops->read(ctx, h, 99999, got, 10), 0);
    assert_int_equal(ops->read(ctx, h, 0, got, 0), 0);

    /* fresh recipients: PENDING, everything else zero */
    store_rcpt_t r;
    store_rcpt_state_t zero;
    memset(&zero, 0, sizeof zero);
    assert_int_equal(ops->rcpt_get(ctx, h, 2, &r), STORE_OK);
    assert_string_equal(r.address, "rcpt002@example.org");
    assert_int_equal(r.st.state, STORE_RCPT_PENDING);
    assert_memory_equal(&r.st, &zero, offsetof(store_rcpt_state_t, reply_enh));
    assert_string_equal(r.st.reply_enh, "");
    assert_string_equal(r.st.reply_text, "");
    assert_int_equal(ops->rcpt_get(ctx, h, 0, &r), STORE_OK);
    assert_string_equal(r.address, "rcpt000@example.org");
    assert_int_equal(ops->rcpt_get(ctx, h, 3, &r), STORE_ERR_NOTFOUND);

    ops->stats(ctx, &st);
    check_stats_invariants(&st);
    assert_int_equal(st.msgs, 1);
    assert_int_equal(st.open, 0);
    assert_true(st.live >= 1000);
}

static void test_empty_sender_and_body(void **state)
{
    (void)state;
    store_handle_t h;
    assert_int_equal(make_msg(9, "", 1, 0, &h), 0);
    store_msg_t m;
    assert_int_equal(ops->info(ctx, h, &m), STORE_OK);
    assert_string_equal(m.sender, "");
    assert_int_equal(m.size, 0);
    uint8_t b[4];
    assert_int_equal(ops->read(ctx, h, 0, b, sizeof b), 0);
}

static void test_rcpt_update(void **state)
{
    (void)state;
    store_handle_t h;
    assert_int_equal(make_msg(1, "s@x", 5, 600, &h), 0);
    store_rcpt_state_t st;
    memset(&st, 0, sizeof st);
    st.state = STORE_RCPT_DEFERRED;
    st.attempts = 3;
    st.reply_code = 451;
    st.first_attempt = 1000;
    st.last_attempt = 2000;
    st.next_retry = 12345;
    strcpy(st.reply_enh, "4.7.1");
    strcpy(st.reply_text, "try later");
    assert_int_equal(ops->rcpt_update(ctx, h, 3, &st), STORE_OK);
    store_rcpt_t r;
    assert_int_equal(ops->rcpt_get(ctx, h, 3, &r), STORE_OK);
    assert_string_equal(r.address, "rcpt003@example.org");
    assert_int_equal(r.st.state, STORE_RCPT_DEFERRED);
    assert_int_equal(r.st.flags, 0);
    assert_int_equal(r.st.attempts, 3);
    assert_int_equal(r.st.reply_code, 451);
    assert_int_equal(r.st.first_attempt, 1000);
    assert_int_equal(r.st.last_attempt, 2000);
    assert_int_equal(r.st.next_retry, 12345);
    assert_string_equal(r.st.reply_enh, "4.7.1");
    assert_string_equal(r.st.reply_text, "try later");
    /* replaced, not merged */
    memset(&st, 0, sizeof st);
    st.state = STORE_RCPT_FAILED;
    st.flags = STORE_RCPT_F_EXPIRED;
    st.attempts = 4;
    assert_int_equal(ops->rcpt_update(ctx, h, 3, &st), STORE_OK);
    assert_int_equal(ops->rcpt_get(ctx, h, 3, &r), STORE_OK);
    assert_int_equal(r.st.state, STORE_RCPT_FAILED);
    assert_int_equal(r.st.flags, STORE_RCPT_F_EXPIRED);
    assert_int_equal(r.st.reply_code, 0);
    assert_int_equal(r.st.next_retry, 0);
    assert_string_equal(r.st.reply_text, "");
    /* neighbours and body untouched */
    assert_int_equal(ops->rcpt_get(ctx, h, 4, &r), STORE_OK);
    assert_string_equal(r.address, "rcpt004@example.org");
    assert_int_equal(r.st.state, STORE_RCPT_PENDING);
    assert_int_equal(ops->rcpt_get(ctx, h, 2, &r), STORE_OK);
    assert_int_equal(r.st.state, STORE_RCPT_PENDING);
    check_body(h, 1, 600);
    assert_int_equal(ops->rcpt_update(ctx, h, 5, &st), STORE_ERR_NOTFOUND);
    assert_int_equal(ops->rcpt_update(ctx, h, 0, NULL), STORE_ERR_ARG);
}

/* Texts are read back NUL-terminated (store.h: "printable ASCII,
 * NUL-terminated") even when the caller's were not: cut to the field. */
static void test_rcpt_update_unterminated_texts_cut(void **state)
{
    (void)state;
    store_handle_t h;
    assert_int_equal(make_msg(2, "s@x", 1, 10, &h), 0);
    store_rcpt_state_t st;
    memset(&st, 0, sizeof st);
    st.state = STORE_RCPT_DEFERRED;
    memset(st.reply_text, 'T', sizeof st.reply_text);
    memset(st.reply_enh, '4', sizeof st.reply_enh);
    assert_int_equal(ops->rcpt_update(ctx, h, 0, &st), STORE_OK);
    store_rcpt_t r;
    assert_int_equal(ops->rcpt_get(ctx, h, 0, &r), STORE_OK);
    assert_int_equal(strlen(r.st.reply_text), STORE_REPLY_TEXT_MAX);
    assert_int_equal(strlen(r.st.reply_enh), STORE_ENH_SIZE - 1);
    assert_int_equal(r.st.reply_text[0], 'T');
    assert_int_equal(r.st.reply_enh[0], '4');
}

static void test_arguments(void **state)
{
    (void)state;
    store_handle_t h, s;
    static char longaddr[STORE_ADDR_MAX + 2];
    memset(longaddr, 'a', sizeof longaddr - 1);
    longaddr[sizeof longaddr - 1] = '\0';
    assert_int_equal(ops->create(ctx, NULL, 0, NULL, &h), STORE_ERR_ARG);
    assert_int_equal(ops->create(ctx, "a@b", 0, NULL, NULL), STORE_ERR_ARG);
    assert_int_equal(ops->create(ctx, longaddr, 0, NULL, &h), STORE_ERR_ARG);
    assert_int_equal(ops->create(ctx, "a@b", 0xFFFFFFFFu, NULL, &h), STORE_ERR_TOOBIG);
    assert_int_equal(ops->create(ctx, "a@b", 0, NULL, &h), STORE_OK);
    assert_int_equal(ops->rcpt_add(ctx, h, NULL, 0, NULL), STORE_ERR_ARG);
    assert_int_equal(ops->rcpt_add(ctx, h, "", 0, NULL), STORE_ERR_ARG);
    assert_int_equal(ops->rcpt_add(ctx, h, longaddr, 0, NULL), STORE_ERR_ARG);
    longaddr[STORE_ADDR_MAX] = '\0';
    assert_int_equal(ops->rcpt_add(ctx, h, longaddr, 0, NULL), 0);    /* 254 is fine */
    assert_int_equal(ops->rcpt_add(ctx, h, "x@y", 0, NULL), 1);
    assert_int_equal(ops->append(ctx, h, NULL, 1), STORE_ERR_ARG);
    assert_int_equal(ops->append(ctx, h, "abc", 0), STORE_OK);
    assert_int_equal(ops->append(ctx, h, "hello", 5), STORE_OK);
    assert_int_equal(ops->rcpt_add(ctx, h, "z@y", 0, NULL), STORE_ERR_STATE);  /* after the body started */
    /* seal cross-checks */
    store_env_t env = { .msgid = 7, .arrival = 1, .size = 5, .nrcpt = 2, .src_netif = 1 };
    assert_int_equal(ops->seal(ctx, h, NULL), STORE_ERR_ARG);
    env.msgid = 0;
    assert_int_equal(ops->seal(ctx, h, &env), STORE_ERR_ARG);
    env.msgid = 7;
    env.size = 4;
    assert_int_equal(ops->seal(ctx, h, &env), STORE_ERR_ARG);
    env.size = 5;
    env.nrcpt = 3;
    assert_int_equal(ops->seal(ctx, h, &env), STORE_ERR_ARG);
    env.nrcpt = 1;
    assert_int_equal(ops->seal(ctx, h, &env), STORE_ERR_ARG);
    env.nrcpt = 2;
    assert_int_equal(ops->seal(ctx, h, &env), STORE_OK);
    /* sealed: immutable */
    assert_int_equal(ops->seal(ctx, h, &env), STORE_ERR_ARG);
    assert_int_equal(ops->append(ctx, h, "x", 1), STORE_ERR_ARG);
    assert_int_equal(ops->rcpt_add(ctx, h, "z@y", 0, NULL), STORE_ERR_ARG);
    ops->abort(ctx, h);                                                   /* no-op when sealed */
    store_msg_t mi;
    store_rcpt_t rc;
    uint8_t b[8];
    assert_int_equal(ops->info(ctx, h, NULL), STORE_ERR_ARG);
    assert_int_equal(ops->info(ctx, h, &mi), STORE_OK);
    assert_string_equal(mi.sender, "a@b");
    assert_int_equal(ops->read(ctx, h, 0, NULL, 1), STORE_ERR_ARG);
    assert_int_equal(ops->read(ctx, h, 0, b, 8), 5);
    assert_memory_equal(b, "hello", 5);
    assert_int_equal(ops->rcpt_get(ctx, h, 0, NULL), STORE_ERR_ARG);
    assert_int_equal(ops->rcpt_get(ctx, h, 0, &rc), STORE_OK);
    assert_string_equal(rc.address, longaddr);
    assert_int_equal(ops->rcpt_get(ctx, h, 2, &rc), STORE_ERR_NOTFOUND);
    assert_int_equal(ops->rcpt_update(ctx, h, 2, &rc.st), STORE_ERR_NOTFOUND);
    assert_int_equal(ops->rcpt_update(ctx, h, 0, NULL), STORE_ERR_ARG);
    assert_int_equal(ops->next(ctx, STORE_HANDLE_NONE, NULL), STORE_ERR_ARG);
    assert_int_equal(ops->next(ctx, STORE_HANDLE_NONE, &s), STORE_OK);
    assert_int_equal(s, h);
    assert_int_equal(ops->next(ctx, s, &s), STORE_ERR_NOTFOUND);
    /* seal without recipients is the queue's business; the store allows it */
    store_handle_t z;
    assert_int_equal(ops->create(ctx, "s@s", 0, NULL, &z), STORE_OK);
    env = (store_env_t){ .msgid = 9, .size = 0, .nrcpt = 0 };
    assert_int_equal(ops->seal(ctx, z, &env), STORE_OK);
    assert_int_equal(ops->info(ctx, z, &mi), STORE_OK);
    assert_int_equal(mi.nrcpt, 0);
}

static void test_unsealed_is_invisible(void **state)
{
    (void)state;
    store_handle_t h, it;
    assert_int_equal(ops->create(ctx, "a@b", 0, NULL, &h), STORE_OK);
    assert_int_equal(ops->rcpt_add(ctx, h, "x@y", 0, NULL), 0);
    assert_int_equal(ops->append(ctx, h, "abc", 3), STORE_OK);
    store_msg_t mi;
    store_rcpt_t rc;
    uint8_t b[4];
    assert_int_equal(ops->next(ctx, STORE_HANDLE_NONE, &it), STORE_ERR_NOTFOUND);
    assert_int_equal(ops->info(ctx, h, &mi), STORE_ERR_NOTFOUND);
    assert_int_equal(ops->read(ctx, h, 0, b, 3), STORE_ERR_NOTFOUND);
    assert_int_equal(ops->rcpt_get(ctx, h, 0, &rc), STORE_ERR_NOTFOUND);
    assert_int_equal(ops->del(ctx, h), STORE_ERR_NOTFOUND);
    store_stats_t st;
    ops->stats(ctx, &st);
    check_stats_invariants(&st);
    assert_int_equal(st.msgs, 0);
    assert_int_equal(st.open, 1);
    assert_int_equal(st.live, 0);
}

static void test_stale_and_bad_handles(void **state)
{
    (void)state;
    store_handle_t h, h2, a;
    store_msg_t m;
    assert_int_equal(ops->del(ctx, -5), STORE_ERR_NOTFOUND);
    assert_int_equal(ops->del(ctx, 0x7FFFFFFF), STORE_ERR_NOTFOUND);
    assert_int_equal(ops->info(ctx, 0x7FFFFFFF, &m), STORE_ERR_NOTFOUND);
    ops->abort(ctx, -1);
    ops->abort(ctx, 0x7FFFFFFF);
    assert_int_equal(make_msg(5, "q@r", 1, 10, &h), 0);
    assert_int_equal(ops->del(ctx, h), STORE_OK);
    assert_int_equal(ops->del(ctx, h), STORE_ERR_NOTFOUND);
    assert_int_equal(ops->info(ctx, h, &m), STORE_ERR_NOTFOUND);
    /* a new message reusing the slot does not answer to the old handle */
    assert_int_equal(make_msg(6, "q@r", 1, 10, &h2), 0);
    assert_int_not_equal(h2, h);
    assert_int_equal(ops->info(ctx, h, &m), STORE_ERR_NOTFOUND);
    assert_int_equal(ops->info(ctx, h2, &m), STORE_OK);
    assert_int_equal(m.msgid, 6);
    /* abort: the handle dies */
    assert_int_equal(ops->create(ctx, "", 0, NULL, &a), STORE_OK);
    ops->abort(ctx, a);
    assert_int_equal(ops->rcpt_add(ctx, a, "q@q", 0, NULL), STORE_ERR_ARG);
    assert_int_equal(ops->append(ctx, a, "x", 1), STORE_ERR_ARG);
    ops->abort(ctx, a);   /* twice: still a no-op */
    assert_int_equal(ops->del(ctx, h2), STORE_OK);
    store_stats_t st;
    ops->stats(ctx, &st);
    check_stats_invariants(&st);
    assert_int_equal(st.msgs, 0);
    assert_int_equal(st.open, 0);
    assert_int_equal(st.used, 0);
}

static void test_abort_leaves_nothing(void **state)
{
    (void)state;
    store_stats_t before, after;
    ops->stats(ctx, &before);
    store_handle_t h;
    assert_int_equal(ops->create(ctx, "a@b", 5000, NULL, &h), STORE_OK);
    assert_int_equal(ops->rcpt_add(ctx, h, "x@y", 0, NULL), 0);
    uint8_t buf[1000];
    memset(buf, 'x', sizeof buf);
    for (int i = 0; i < 5; i++)
        assert_int_equal(ops->append(ctx, h, buf, sizeof buf), STORE_OK);
    ops->stats(ctx, &after);
    check_stats_invariants(&after);
    assert_int_equal(after.open, 1);
    assert_int_equal(after.msgs, 0);
    assert_int_equal(after.live, 0);   /* unsealed data is not live */
    ops->abort(ctx, h);
    ops->stats(ctx, &after);
    expect_empty(&after, &before);
    store_handle_t it;
    assert_int_equal(ops->next(ctx, STORE_HANDLE_NONE, &it), STORE_ERR_NOTFOUND);
}

static void test_full_and_nothing_half_stored(void **state)
{
    (void)state;
    store_stats_t st0, st;
    ops->stats(ctx, &st0);
    /* size hint admission: what can never fit */
    store_handle_t h;
    assert_int_equal(ops->create(ctx, "a@b", st0.total + 1u, NULL, &h), STORE_ERR_TOOBIG);
    /* fill with one big open message until FULL */
    assert_int_equal(ops->create(ctx, "a@b", 0, NULL, &h), STORE_OK);
    assert_int_equal(ops->rcpt_add(ctx, h, "x@y", 0, NULL), 0);
    uint8_t buf[1000];
    memset(buf, 'y', sizeof buf);
    uint32_t stored = 0;
    int rc;
    while ((rc = ops->append(ctx, h, buf, sizeof buf)) == STORE_OK)
        stored += sizeof buf;
    assert_int_equal(rc, STORE_ERR_FULL);
    assert_true(stored >= st0.total / 2u);   /* one message may take most of the store */
    /* the failed append stored nothing and the message is still open: the
     * bytes that fit still go in, and it seals with what it has */
    ops->stats(ctx, &st);
    check_stats_invariants(&st);
    assert_int_equal(st.open, 1);
    /* a SIZE that cannot fit now */
    store_handle_t h2;
    assert_int_equal(ops->create(ctx, "c@d", st.free + 1u, NULL, &h2), STORE_ERR_FULL);
    store_env_t env = { .msgid = 1, .size = stored, .nrcpt = 1 };
    assert_int_equal(ops->seal(ctx, h, &env), STORE_OK);
    store_msg_t m;
    assert_int_equal(ops->info(ctx, h, &m), STORE_OK);
    assert_int_equal(m.size, stored);
    uint8_t got[1000];
    assert_int_equal(ops->read(ctx, h, stored - 10u, got, sizeof got), 10);
    assert_memory_equal(got, buf, 10);
    /* deleting it returns all the space */
    assert_int_equal(ops->del(ctx, h), STORE_OK);
    ops->stats(ctx, &st);
    expect_empty(&st, &st0);
    /* and the whole of it can be filled and aborted again */
    assert_int_equal(ops->create(ctx, "a@b", 0, NULL, &h), STORE_OK);
    assert_int_equal(ops->rcpt_add(ctx, h, "x@y", 0, NULL), 0);
    uint32_t again = 0;
    while (ops->append(ctx, h, buf, sizeof buf) == STORE_OK)
        again += sizeof buf;
    assert_true(again >= st0.total / 2u);
    ops->abort(ctx, h);
    ops->stats(ctx, &st);
    expect_empty(&st, &st0);
}

static void test_slots_full(void **state)
{
    (void)state;
    store_stats_t st0, st;
    ops->stats(ctx, &st0);
    static store_handle_t hs[1024];
    assert_true(st0.max_msgs <= sizeof hs / sizeof hs[0]);
    /* open and sealed messages share the slots */
    uint16_t half = st0.max_msgs / 2u;
    for (uint16_t i = 0; i < st0.max_msgs; i++) {
        if (i < half)
            assert_int_equal(make_msg(100u + i, "a@b", 1, 10, &hs[i]), 0);
        else
            assert_int_equal(ops->create(ctx, "a@b", 0, NULL, &hs[i]), STORE_OK);
    }
    store_handle_t h;
    assert_int_equal(ops->create(ctx, "a@b", 0, NULL, &h), STORE_ERR_FULL);
    ops->stats(ctx, &st);
    check_stats_invariants(&st);
    assert_int_equal(st.msgs, half);
    assert_int_equal(st.open, st0.max_msgs - half);
    /* one freed slot is one more message */
    assert_int_equal(ops->del(ctx, hs[0]), STORE_OK);
    assert_int_equal(ops->create(ctx, "a@b", 0, NULL, &hs[0]), STORE_OK);
    assert_int_equal(ops->create(ctx, "a@b", 0, NULL, &h), STORE_ERR_FULL);
    ops->abort(ctx, hs[0]);
    for (uint16_t i = 1; i < st0.max_msgs; i++) {
        if (i < half)
            assert_int_equal(ops->del(ctx, hs[i]), STORE_OK);
        else
            ops->abort(ctx, hs[i]);
    }
    ops->stats(ctx, &st);
    expect_empty(&st, &st0);
}

static void test_space_reclaimed_many_cycles(void **state)
{
    (void)state;
    store_stats_t st0, st;
    ops->stats(ctx, &st0);
    static store_handle_t hs[1024];
    static uint32_t sizes[1024];
    assert_true(st0.max_msgs <= sizeof hs / sizeof hs[0]);
    uint32_t id = 1;
    for (int cycle = 0; cycle < 50; cycle++) {
        /* fill with varying sizes until full */
        int n = 0;
        while (n < st0.max_msgs) {
            uint32_t size = 100u + (uint32_t)((cycle * 977 + n * 4111) % 9000);
            int rc = make_msg(id, "s@x", (uint16_t)(1 + n % 4), size, &hs[n]);
            if (rc == STORE_ERR_FULL)
                break;
            assert_int_equal(rc, 0);
            sizes[n] = size;
            id++;
            n++;
        }
        assert_true(n > 3);
        ops->stats(ctx, &st);
        check_stats_invariants(&st);
        assert_int_equal(st.msgs, n);
        assert_int_equal(st.open, 0);
        /* nothing half-stored after the FULL attempt */
        int count = 0;
        store_handle_t it = STORE_HANDLE_NONE;
        while (ops->next(ctx, it, &it) == STORE_OK)
            count++;
        assert_int_equal(count, n);
        /* delete every other, verify survivors, then the rest */
        for (int i = 0; i < n; i += 2)
            assert_int_equal(ops->del(ctx, hs[i]), STORE_OK);
        for (int i = 1; i < n; i += 2) {
            store_msg_t m;
            assert_int_equal(ops->info(ctx, hs[i], &m), STORE_OK);
            assert_int_equal(m.nrcpt, 1 + i % 4);
            check_body(hs[i], m.msgid, sizes[i]);
            assert_int_equal(ops->del(ctx, hs[i]), STORE_OK);
        }
        ops->stats(ctx, &st);
        expect_empty(&st, &st0);
    }
}

static void test_recover_drops_unsealed(void **state)
{
    (void)state;
    store_handle_t h1, h2;
    assert_int_equal(make_msg(3, "a@b", 2, 700, &h1), 0);
    assert_int_equal(ops->create(ctx, "a@b", 0, NULL, &h2), STORE_OK);
    assert_int_equal(ops->rcpt_add(ctx, h2, "r@s", 0, NULL), 0);
    assert_int_equal(ops->append(ctx, h2, "hello", 5), STORE_OK);
    assert_int_equal(ops->recover(ctx), 1);
    store_stats_t st;
    ops->stats(ctx, &st);
    check_stats_invariants(&st);
    assert_int_equal(st.open, 0);
    assert_int_equal(st.msgs, 1);
    assert_int_equal(ops->append(ctx, h2, "x", 1), STORE_ERR_ARG);
    store_env_t env = { .msgid = 4, .size = 5, .nrcpt = 1 };
    assert_int_equal(ops->seal(ctx, h2, &env), STORE_ERR_ARG);
    check_body(h1, 3, 700);
    store_handle_t it;
    assert_int_equal(ops->next(ctx, STORE_HANDLE_NONE, &it), STORE_OK);
    assert_int_equal(it, h1);
    assert_int_equal(ops->next(ctx, it, &it), STORE_ERR_NOTFOUND);
    assert_int_equal(ops->recover(ctx), 1);   /* idempotent */
}

static void test_many_rcpts(void **state)
{
    (void)state;
    store_handle_t h;
    assert_int_equal(make_msg(11, "a@b", 100, 50, &h), 0);   /* RFC 5321 4.5.3.1.8: at least 100 */
    store_rcpt_t r;
    /* random access order exercises the stores' walk caches */
    static const uint16_t order[] = { 99, 0, 50, 49, 51, 98, 1, 75 };
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        assert_int_equal(ops->rcpt_get(ctx, h, order[i], &r), STORE_OK);
        char exp[32];
        rcpt_name(exp, sizeof exp, order[i]);
        assert_string_equal(r.address, exp);
    }
    assert_int_equal(ops->rcpt_get(ctx, h, 100, &r), STORE_ERR_NOTFOUND);
    check_body(h, 11, 50);
}

#define CONTRACT_TESTS(fixture)                                                              \
    {                                                                                        \
        cmocka_unit_test_prestate_setup_teardown(test_create_append_seal_read, setup, NULL,  \
                                                 (void *)&(fixture)),                        \
        cmocka_unit_test_prestate_setup_teardown(test_empty_sender_and_body, setup, NULL,    \
                                                 (void *)&(fixture)),                        \
        cmocka_unit_test_prestate_setup_teardown(test_rcpt_update, setup, NULL,              \
                                                 (void *)&(fixture)),                        \
        cmocka_unit_test_prestate_setup_teardown(test_rcpt_update_unterminated_texts_cut,    \
                                                 setup, NULL, (void *)&(fixture)),           \
        cmocka_unit_test_prestate_setup_teardown(test_arguments, setup, NULL,                \
                                                 (void *)&(fixture)),                        \
        cmocka_unit_test_prestate_setup_teardown(test_unsealed_is_invisible, setup, NULL,    \
                                                 (void *)&(fixture)),                        \
        cmocka_unit_test_prestate_setup_teardown(test_stale_and_bad_handles, setup, NULL,    \
                                                 (void *)&(fixture)),                        \
        cmocka_unit_test_prestate_setup_teardown(test_abort_leaves_nothing, setup, NULL,     \
                                                 (void *)&(fixture)),                        \
        cmocka_unit_test_prestate_setup_teardown(test_full_and_nothing_half_stored, setup,   \
                                                 NULL, (void *)&(fixture)),                  \
        cmocka_unit_test_prestate_setup_teardown(test_slots_full, setup, NULL,               \
                                                 (void *)&(fixture)),                        \
        cmocka_unit_test_prestate_setup_teardown(test_space_reclaimed_many_cycles, setup,    \
                                                 NULL, (void *)&(fixture)),                  \
        cmocka_unit_test_prestate_setup_teardown(test_recover_drops_unsealed, setup, NULL,   \
                                                 (void *)&(fixture)),                        \
        cmocka_unit_test_prestate_setup_teardown(test_many_rcpts, setup, NULL,               \
                                                 (void *)&(fixture)),                        \
    }

int main(void)
{
    const struct CMUnitTest ram[] = CONTRACT_TESTS(ram_fixture);
    const struct CMUnitTest flash[] = CONTRACT_TESTS(flash_fixture);
    int failed = cmocka_run_group_tests_name("store contract: store_ram", ram, NULL, NULL);
    failed += cmocka_run_group_tests_name("store contract: store_flash", flash, NULL, NULL);
    return failed;
}
