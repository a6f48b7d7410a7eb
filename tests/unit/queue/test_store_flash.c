/* unit: firmware/queue/store_flash.c drivers/flash/flash_sim.c firmware/lib/crc32.c firmware/queue/queue.c firmware/queue/dsn.c firmware/lib/fmt.c firmware/lib/date.c */
/* Tests for the flash message store beyond the store_ops_t contract (that
 * is test_store_contract.c, run against every store): remounts, full store, compaction and wear, corruption, and power
 * cuts before, after and in the middle of every single program and erase of
 * a scenario that accepts, delivers and deletes messages while compaction
 * runs -- and again in the middle of the recovery that follows. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "lib/crc32.h"
#include "flash/flash_sim.h"
#include "queue/queue.h"
#include "queue/store_flash.h"

/* The partition sits between two guard sectors of the device, so the tests
 * also see that nothing outside it is touched. */
#define SSZ_MAX  4096u
#define NSEC_MAX 250u   /* the board's partition: 1000 KiB of 4 KiB sectors */
static uint8_t mem[(NSEC_MAX + 2) * SSZ_MAX];
static uint32_t wear[NSEC_MAX + 2];
static flash_sim_t sim;
static flash_part_t part;
static uint32_t g_nsec, g_ssize;
static store_flash_t st;
static const store_ops_t *const ops = &store_flash_ops;

static void sim_setup(uint32_t nsec, uint32_t ssize, uint32_t prog)
{
    g_nsec = nsec;
    g_ssize = ssize;
    assert_int_equal(flash_sim_init(&sim, mem, wear, (nsec + 2u) * ssize, ssize, prog), FLASH_OK);
    part = (flash_part_t){ "store", flash_sim_dev(&sim), ssize, nsec * ssize };
}

static void expect_guards_blank(void)
{
    for (uint32_t i = 0; i < g_ssize; i++) {
        assert_int_equal(mem[i], 0xFF);
        assert_int_equal(mem[(g_nsec + 1u) * g_ssize + i], 0xFF);
    }
    assert_int_equal(flash_sim_stats(&sim)->nor_errors, 0);
}

static store_flash_recovery_t rep;

static void mount_ok(void)
{
    memset(&rep, 0xA5, sizeof rep);
    assert_int_equal(store_flash_mount(&st, &part, &rep), STORE_OK);
}

static int setup(void **state)
{
    (void)state;
    sim_setup(16, 4096, 1);
    mount_ok();
    return 0;
}

/* ---- message helpers ----------------------------------------------------- */

static uint8_t body_byte(uint32_t tag, uint32_t off)
{
    uint32_t x = tag * 2654435761u + off * 40503u;
    return (uint8_t)(x >> 13 ^ off ^ (off >> 8));
}

static void rcpt_addr(char *buf, size_t size, uint32_t tag, int i)
{
    snprintf(buf, size, "rcpt%d.%u@dom%u.example", i, (unsigned)tag, (unsigned)(tag % 7u));
}

static void sender_of(char *buf, size_t size, uint32_t tag)
{
    if (tag % 5u == 3u)
        buf[0] = '\0';   /* null sender: a DSN */
    else
        snprintf(buf, size, "sender%u@origin.example", (unsigned)tag);
}

/* Append size body bytes of tag in pieces of irregular sizes. */
static int append_body(store_handle_t h, uint32_t tag, uint32_t size)
{
    static uint8_t piece[2000];
    static const uint32_t cut[] = { 1, 50, 333, 700, 5, 1400, 361, 360, 359 };
    uint32_t off = 0;
    for (int i = 0; off < size; i++) {
        uint32_t n = cut[(tag + (uint32_t)i) % (sizeof cut / sizeof cut[0])];
        if (n > size - off)
            n = size - off;
        for (uint32_t j = 0; j < n; j++)
            piece[j] = body_byte(tag, off + j);
        int rc = ops->append(&st, h, piece, n);
        if (rc != STORE_OK)
            return rc;
        off += n;
    }
    return STORE_OK;
}

/* Create, add nr recipients, append, seal.  Returns the first error. */
static int put_msg(uint32_t tag, int nr, uint32_t size, store_handle_t *out)
{
    char sender[64], a[80];
    store_handle_t h;
    sender_of(sender, sizeof sender, tag);
    int rc = ops->create(&st, sender, 0, NULL, &h);
    if (rc != STORE_OK)
        return rc;
    for (int i = 0; i < nr; i++) {
        rcpt_addr(a, sizeof a, tag, i);
        rc = ops->rcpt_add(&st, h, a, 0, NULL);
        if (rc < 0)
            return rc;
        assert_int_equal(rc, i);
    }
    rc = append_body(h, tag, size);
    if (rc != STORE_OK)
        return rc;
    store_env_t env = { .msgid = tag, .arrival = 1000u + tag, .size = size, .nrcpt = (uint16_t)nr,
                        .src_netif = (uint8_t)(tag & 3u) };
    rc = ops->seal(&st, h, &env);
    if (rc == STORE_OK && out)
        *out = h;
    return rc;
}

static void put_msg_ok(uint32_t tag, int nr, uint32_t size, store_handle_t *out)
{
    assert_int_equal(put_msg(tag, nr, size, out), STORE_OK);
}

/* Read the body in pieces of step bytes and compare. */
static void check_body(store_handle_t h, uint32_t tag, uint32_t size, uint32_t step)
{
    static uint8_t buf[4096];
    uint32_t off = 0;
    for (;;) {
        uint32_t want = step < sizeof buf ? step : (uint32_t)sizeof buf;
        int n = ops->read(&st, h, off, buf, want);
        assert_true(n >= 0);
        if (n == 0)
            break;
        assert_true((uint32_t)n <= want);
        for (int j = 0; j < n; j++) {
            if (buf[j] != body_byte(tag, off + (uint32_t)j))
                fail_msg("msg %u: body byte %u differs", (unsigned)tag, (unsigned)(off + (uint32_t)j));
        }
        off += (uint32_t)n;
    }
    assert_int_equal(off, size);
}

/* Everything of a message: envelope, addresses, body (several read patterns). */
static void check_msg(store_handle_t h, uint32_t tag, int nr, uint32_t size)
{
    store_msg_t mi;
    char sender[64], a[80];
    assert_int_equal(ops->info(&st, h, &mi), STORE_OK);
    sender_of(sender, sizeof sender, tag);
    assert_int_equal(mi.msgid, tag);
    assert_int_equal(mi.arrival, 1000u + tag);
    assert_int_equal(mi.size, size);
    assert_int_equal(mi.nrcpt, nr);
    assert_int_equal(mi.src_netif, tag & 3u);
    assert_string_equal(mi.sender, sender);
    for (int i = 0; i < nr; i++) {
        store_rcpt_t rc;
        assert_int_equal(ops->rcpt_get(&st, h, (uint16_t)i, &rc), STORE_OK);
        rcpt_addr(a, sizeof a, tag, i);
        assert_string_equal(rc.address, a);
    }
    store_rcpt_t rc;
    assert_int_equal(ops->rcpt_get(&st, h, (uint16_t)nr, &rc), STORE_ERR_NOTFOUND);
    check_body(h, tag, size, 4096);
    check_body(h, tag, size, 97);
}

/* Handle of the sealed message with this msgid, or NONE. */
static store_handle_t find_msg(uint32_t msgid)
{
    store_handle_t h = STORE_HANDLE_NONE;
    store_msg_t mi;
    while (ops->next(&st, h, &h) == STORE_OK) {
        assert_int_equal(ops->info(&st, h, &mi), STORE_OK);
        if (mi.msgid == msgid)
            return h;
    }
    return STORE_HANDLE_NONE;
}

static int count_msgs(void)
{
    int n = 0;
    store_handle_t h = STORE_HANDLE_NONE;
    while (ops->next(&st, h, &h) == STORE_OK)
        n++;
    return n;
}

static store_rcpt_state_t mk_state(uint8_t state, uint16_t attempts, uint16_t code, const char *enh,
                                   const char *text)
{
    store_rcpt_state_t s;
    memset(&s, 0, sizeof s);
    s.state = state;
    s.attempts = attempts;
    s.reply_code = code;
    s.first_attempt = 100u + attempts;
    s.last_attempt = 200u + attempts;
    s.next_retry = state == STORE_RCPT_DEFERRED ? 300u + attempts : 0u;
    s.flags = code == 0 && state == STORE_RCPT_FAILED ? STORE_RCPT_F_EXPIRED : 0;
    snprintf(s.reply_enh, sizeof s.reply_enh, "%s", enh);
    snprintf(s.reply_text, sizeof s.reply_text, "%s", text);
    return s;
}

static void expect_state(const store_rcpt_state_t *got, const store_rcpt_state_t *want)
{
    assert_int_equal(got->state, want->state);
    assert_int_equal(got->flags, want->flags);
    assert_int_equal(got->attempts, want->attempts);
    assert_int_equal(got->reply_code, want->reply_code);
    assert_int_equal(got->reserved, 0);
    assert_int_equal(got->first_attempt, want->first_attempt);
    assert_int_equal(got->last_attempt, want->last_attempt);
    assert_int_equal(got->next_retry, want->next_retry);
    assert_string_equal(got->reply_enh, want->reply_enh);
    assert_string_equal(got->reply_text, want->reply_text);
}

static int same_state(const store_rcpt_state_t *a, const store_rcpt_state_t *b)
{
    return a->state == b->state && a->flags == b->flags && a->attempts == b->attempts &&
           a->reply_code == b->reply_code && a->first_attempt == b->first_attempt &&
           a->last_attempt == b->last_attempt && a->next_retry == b->next_retry &&
           strcmp(a->reply_enh, b->reply_enh) == 0 && strcmp(a->reply_text, b->reply_text) == 0;
}

/* ---- basics ----------------------------------------------------------------- */

static void test_blank_mount(void **state)
{
    (void)state;
    assert_int_equal(rep.clean, 1);
    assert_int_equal(rep.blank, 1);
    assert_int_equal(rep.recovered, 0);
    assert_int_equal(rep.discarded, 0);
    assert_int_equal(ops->recover(&st), 0);
    store_handle_t h;
    assert_int_equal(ops->next(&st, STORE_HANDLE_NONE, &h), STORE_ERR_NOTFOUND);
    store_stats_t ss;
    ops->stats(&st, &ss);
    assert_true(ss.total > 40000);   /* 16 x 4 KiB: about 2/3 admitted, the rest reserve */
    assert_int_equal(ss.used, 0);
    assert_int_equal(ss.free, ss.total);
    assert_int_equal(ss.max_msgs, STORE_FLASH_MAX_MSGS);
    store_flash_stats_t fs;
    store_flash_stats(&st, &fs);
    assert_int_equal(fs.part_size, 16 * 4096);
    assert_int_equal(fs.sectors, 16);
    assert_int_equal(fs.sectors_free, 16);
    assert_int_equal(fs.erase_max, 0);
    assert_true(fs.max_body > 38000 && fs.max_body < ss.total);
    /* mounting wrote nothing: a blank partition stays blank */
    assert_int_equal(flash_sim_stats(&sim)->programs + flash_sim_stats(&sim)->erases, 0);
    /* the largest body fits the empty store exactly, one byte more does not */
    store_handle_t m;
    assert_int_equal(ops->create(&st, "", 0, NULL, &m), STORE_OK);
    assert_int_equal(ops->rcpt_add(&st, m, "a@b", 0, NULL), 0);
    static uint8_t big[65536];
    assert_int_equal(ops->append(&st, m, big, fs.max_body + 1u), STORE_ERR_FULL);
    assert_int_equal(ops->append(&st, m, big, fs.max_body), STORE_OK);
    store_env_t env = { .msgid = 1, .size = fs.max_body, .nrcpt = 1 };
    assert_int_equal(ops->seal(&st, m, &env), STORE_OK);
    expect_guards_blank();
}

static void test_geometry(void **state)
{
    (void)state;
    sim_setup(16, 512, 1);
    assert_int_equal(store_flash_mount(&st, &part, NULL), STORE_ERR_ARG);   /* sectors too small */
    sim_setup(5, 1024, 1);
    assert_int_equal(store_flash_mount(&st, &part, NULL), STORE_ERR_ARG);   /* too few */
    sim_setup(NSEC_MAX, 1024, 32);
    assert_int_equal(store_flash_mount(&st, &part, NULL), STORE_ERR_ARG);   /* program unit > 16 */
    assert_int_equal(store_flash_format(&part), STORE_ERR_ARG);
    sim_setup(6, 1024, 16);
    assert_int_equal(store_flash_mount(&st, &part, NULL), STORE_OK);
    assert_int_equal(store_flash_mount(NULL, &part, NULL), STORE_ERR_ARG);
    assert_int_equal(store_flash_mount(&st, NULL, NULL), STORE_ERR_ARG);
    assert_int_equal(store_flash_close(&st), STORE_ERR_STATE);   /* that failed mount unmounted it */
    /* an unmounted (closed) store refuses everything */
    assert_int_equal(store_flash_mount(&st, &part, NULL), STORE_OK);
    assert_int_equal(store_flash_close(&st), STORE_OK);
    store_handle_t h;
    assert_int_equal(ops->create(&st, "a@b", 0, NULL, &h), STORE_ERR_STATE);
    assert_int_equal(ops->recover(&st), STORE_ERR_STATE);
    assert_int_equal(store_flash_close(&st), STORE_ERR_STATE);
}

static void test_round_trip(void **state)
{
    (void)state;
    store_handle_t h1, h2, h3;
    put_msg_ok(1, 3, 5000, &h1);     /* body over several sectors */
    put_msg_ok(2, 1, 0, &h2);        /* empty body */
    put_msg_ok(3, 100, 777, &h3);    /* RFC minimum of recipients */
    check_msg(h1, 1, 3, 5000);
    check_msg(h2, 2, 1, 0);
    check_msg(h3, 3, 100, 777);
    /* random access, backwards */
    uint8_t b[300];
    for (int32_t off = 4900; off >= 0; off -= 613) {
        int n = ops->read(&st, h1, (uint32_t)off, b, sizeof b);
        assert_int_equal(n, off + 300 > 5000 ? 5000 - off : 300);
        for (int j = 0; j < n; j++)
            assert_int_equal(b[j], body_byte(1, (uint32_t)off + (uint32_t)j));
    }
    assert_int_equal(ops->read(&st, h1, 5000, b, sizeof b), 0);
    assert_int_equal(ops->read(&st, h1, 99999, b, sizeof b), 0);
    assert_int_equal(ops->read(&st, h1, 0, b, 0), 0);
    /* fresh recipients are PENDING, all zero */
    store_rcpt_t r;
    assert_int_equal(ops->rcpt_get(&st, h3, 99, &r), STORE_OK);
    store_rcpt_state_t zero;
    memset(&zero, 0, sizeof zero);
    expect_state(&r.st, &zero);
    /* everything again from flash only */
    mount_ok();
    assert_int_equal(rep.recovered, 3);
    assert_int_equal(rep.clean, 0);
    assert_int_equal(rep.discarded, 0);
    assert_int_equal(count_msgs(), 3);
    check_msg(find_msg(1), 1, 3, 5000);
    check_msg(find_msg(2), 2, 1, 0);
    check_msg(find_msg(3), 3, 100, 777);
    expect_guards_blank();
}

/* The contract itself is in test_store_contract.c; here what only a store on
 * flash adds to it: an aborted message leaves an ABORT record, so a remount
 * does not count it as unsealed, and handles do not survive a remount. */
static void test_contract_across_remount(void **state)
{
    (void)state;
    store_handle_t a;
    store_msg_t mi;
    assert_int_equal(ops->create(&st, "", 0, NULL, &a), STORE_OK);
    ops->abort(&st, a);
    assert_int_equal(ops->create(&st, "s@s", 0, NULL, &a), STORE_OK);
    store_env_t env = { .msgid = 9, .size = 0, .nrcpt = 0 };
    assert_int_equal(ops->seal(&st, a, &env), STORE_OK);
    mount_ok();
    assert_int_equal(count_msgs(), 1);
    assert_int_equal(rep.unsealed, 0);   /* the aborted one left an ABORT record */
    /* a handle from before the remount names nothing now */
    store_handle_t fresh = find_msg(9);
    assert_true(fresh >= 0 && fresh != a);
    assert_int_equal(ops->info(&st, a, &mi), STORE_ERR_NOTFOUND);
}

static void test_rcpt_updates(void **state)
{
    (void)state;
    store_handle_t h;
    put_msg_ok(5, 4, 1234, &h);
    store_rcpt_state_t s0 = mk_state(STORE_RCPT_DELIVERED, 1, 250, "2.0.0", "ok queued as 1234");
    store_rcpt_state_t s1 = mk_state(STORE_RCPT_DEFERRED, 3, 451, "4.7.1", "greylisted, try later");
    store_rcpt_state_t s2 = mk_state(STORE_RCPT_FAILED, 1, 550, "5.1.1", "");
    store_rcpt_state_t s3 = mk_state(STORE_RCPT_FAILED, 9, 0, "", "");
    /* unterminated input is cut to the field sizes, like store_ram */
    memset(s1.reply_text, 'T', sizeof s1.reply_text);
    memset(s1.reply_enh, '4', sizeof s1.reply_enh);
    s1.reserved = 77;   /* "keep 0": not stored */
    assert_int_equal(ops->rcpt_update(&st, h, 0, &s0), STORE_OK);
    assert_int_equal(ops->rcpt_update(&st, h, 1, &s1), STORE_OK);
    assert_int_equal(ops->rcpt_update(&st, h, 2, &s2), STORE_OK);
    for (uint16_t k = 1; k <= 30; k++) {   /* many updates of one recipient */
        store_rcpt_state_t t = mk_state(STORE_RCPT_DEFERRED, k, 421, "4.4.2", "timeout");
        assert_int_equal(ops->rcpt_update(&st, h, 3, &t), STORE_OK);
    }
    assert_int_equal(ops->rcpt_update(&st, h, 3, &s3), STORE_OK);
    s1.reply_text[STORE_REPLY_TEXT_MAX] = '\0';
    s1.reply_enh[STORE_ENH_SIZE - 1] = '\0';
    const store_rcpt_state_t *want[4] = { &s0, &s1, &s2, &s3 };
    for (int pass = 0; pass < 2; pass++) {
        for (uint16_t i = 0; i < 4; i++) {
            store_rcpt_t r;
            assert_int_equal(ops->rcpt_get(&st, h, i, &r), STORE_OK);
            expect_state(&r.st, want[i]);
            char a[80];
            rcpt_addr(a, sizeof a, 5, i);
            assert_string_equal(r.address, a);
        }
        check_body(h, 5, 1234, 200);
        mount_ok();
        assert_int_equal(rep.queue[STORE_FLASH_Q_DEFERRED], 1);
        h = find_msg(5);
        assert_true(h >= 0);
    }
}

static void test_delete_reopen_clean(void **state)
{
    (void)state;
    for (uint32_t t = 1; t <= 6; t++)
        put_msg_ok(t, (int)t % 3 + 1, 300u * t, NULL);
    assert_int_equal(ops->del(&st, find_msg(2)), STORE_OK);
    assert_int_equal(ops->del(&st, find_msg(5)), STORE_OK);
    assert_int_equal(store_flash_close(&st), STORE_OK);
    mount_ok();
    assert_int_equal(rep.clean, 1);
    assert_int_equal(rep.blank, 0);
    assert_int_equal(rep.recovered, 4);
    assert_int_equal(rep.discarded, 0);
    /* queues: tag 3 has the null sender (a DSN), the others only pending */
    assert_int_equal(rep.queue[STORE_FLASH_Q_BOUNCE], 1);
    assert_int_equal(rep.queue[STORE_FLASH_Q_ACTIVE], 3);
    assert_int_equal(rep.queue[STORE_FLASH_Q_DEFERRED], 0);
    for (uint32_t t = 1; t <= 6; t++) {
        store_handle_t h = find_msg(t);
        if (t == 2 || t == 5) {
            assert_int_equal(h, STORE_HANDLE_NONE);
            continue;
        }
        check_msg(h, t, (int)t % 3 + 1, 300u * t);
    }
    /* no writes since mount: close adds nothing, the store stays clean */
    uint32_t ops_before = flash_sim_stats(&sim)->programs;
    assert_int_equal(store_flash_close(&st), STORE_OK);
    assert_int_equal(flash_sim_stats(&sim)->programs, ops_before);
    mount_ok();
    assert_int_equal(rep.clean, 1);
    /* the first write after mount invalidates the marker */
    assert_int_equal(ops->del(&st, find_msg(1)), STORE_OK);
    mount_ok();
    assert_int_equal(rep.clean, 0);
    assert_int_equal(rep.recovered, 3);
    /* a mount without writes keeps "unclean" until an orderly close */
    mount_ok();
    assert_int_equal(rep.clean, 0);
    assert_int_equal(store_flash_close(&st), STORE_OK);
    mount_ok();
    assert_int_equal(rep.clean, 1);
    assert_int_equal(rep.recovered, 3);
    expect_guards_blank();
}

static void test_unsealed_dropped(void **state)
{
    (void)state;
    store_handle_t h, o;
    put_msg_ok(1, 2, 900, &h);
    assert_int_equal(ops->create(&st, "open@x", 0, NULL, &o), STORE_OK);
    assert_int_equal(ops->rcpt_add(&st, o, "r@x", 0, NULL), 0);
    assert_int_equal(ops->append(&st, o, "partial body", 12), STORE_OK);
    /* power lost here: the open one was never acknowledged */
    mount_ok();
    assert_int_equal(rep.clean, 0);
    assert_int_equal(rep.recovered, 1);
    assert_int_equal(rep.unsealed, 1);
    assert_int_equal(rep.discarded, 2);   /* sender, recipient (the body was still in RAM) */
    assert_int_equal(count_msgs(), 1);
    check_msg(find_msg(1), 1, 2, 900);
    /* mount wrote an ABORT: the next mount does not count it again */
    mount_ok();
    assert_int_equal(rep.unsealed, 0);
    assert_int_equal(rep.discarded, 0);
    /* recover() (queue_init) drops transactions opened since mount */
    assert_int_equal(ops->create(&st, "open@x", 0, NULL, &o), STORE_OK);
    assert_int_equal(ops->recover(&st), 1);
    assert_int_equal(ops->rcpt_add(&st, o, "r@x", 0, NULL), STORE_ERR_ARG);
    store_stats_t ss;
    ops->stats(&st, &ss);
    assert_int_equal(ss.open, 0);
    /* close drops them too, and still ends clean */
    assert_int_equal(ops->create(&st, "open@x", 0, NULL, &o), STORE_OK);
    assert_int_equal(store_flash_close(&st), STORE_OK);
    mount_ok();
    assert_int_equal(rep.clean, 1);
    assert_int_equal(rep.unsealed, 0);
}

/* ---- full store ---------------------------------------------------------------- */

static void test_full_store(void **state)
{
    (void)state;
    store_stats_t ss;
    ops->stats(&st, &ss);
    uint32_t total = ss.total;
    assert_int_equal(ops->create(&st, "a@b", total, NULL, NULL), STORE_ERR_ARG);
    store_handle_t h;
    assert_int_equal(ops->create(&st, "a@b", total, NULL, &h), STORE_ERR_TOOBIG);
    for (int cycle = 0; cycle < 6; cycle++) {
        /* fill: messages of 2 recipients and 1500 bytes until FULL */
        uint32_t tag = 100u * (uint32_t)cycle + 1u, first = tag;
        int n = 0;
        for (;; tag++) {
            int rc = put_msg(tag, 2, 1500, NULL);
            if (rc == STORE_OK) {
                n++;
                continue;
            }
            assert_int_equal(rc, STORE_ERR_FULL);
            break;
        }
        assert_true(n >= 4);
        /* whatever failed left nothing behind but its open transaction */
        store_handle_t o = STORE_HANDLE_NONE;
        ops->stats(&st, &ss);
        assert_int_equal(ss.msgs, n);
        assert_int_equal(ops->recover(&st), n);
        ops->stats(&st, &ss);
        assert_int_equal(ss.open, 0);
        uint32_t used_full = ss.used;
        /* a SIZE that cannot fit now */
        assert_int_equal(ops->create(&st, "a@b", ss.free + 1u, NULL, &o), STORE_ERR_FULL);
        /* an append that cannot fit stores nothing of itself */
        if (ops->create(&st, "a@b", 0, NULL, &o) == STORE_OK) {
            if (ops->rcpt_add(&st, o, "x@y", 0, NULL) == 0) {
                static uint8_t blob[3000];
                assert_int_equal(ops->append(&st, o, blob, sizeof blob), STORE_ERR_FULL);
            }
            ops->abort(&st, o);
        }
        ops->stats(&st, &ss);
        assert_int_equal(ss.used, used_full);
        /* updates and deletes always have their space */
        for (uint32_t t = first; t < tag; t++) {
            store_handle_t m = find_msg(t);
            store_rcpt_state_t s = mk_state(STORE_RCPT_DEFERRED, 7, 451, "4.3.2",
                                            "the longest reply text we could possibly keep, 64 chars!");
            assert_int_equal(ops->rcpt_update(&st, m, 0, &s), STORE_OK);
            assert_int_equal(ops->rcpt_update(&st, m, 1, &s), STORE_OK);
        }
        /* remount at full: all there */
        mount_ok();
        assert_int_equal(count_msgs(), n);
        for (uint32_t t = first; t < tag; t++)
            check_msg(find_msg(t), t, 2, 1500);
        for (uint32_t t = first; t < tag; t++)
            assert_int_equal(ops->del(&st, find_msg(t)), STORE_OK);
        ops->stats(&st, &ss);
        assert_int_equal(ss.used, 0);
        assert_int_equal(ss.msgs, 0);
    }
    store_flash_stats_t fs;
    store_flash_stats(&st, &fs);
    assert_true(fs.compactions > 0 || fs.erases > 0);
    expect_guards_blank();
}

/* Worst-case packing: the longest addresses (records that leave the most
 * slack at sector ends), full chunks, reboots (each wastes the head's tail).
 * Whatever was admitted must still get all its updates, seals and deletes. */
static void worst_case_fill(uint32_t nsec, uint32_t ssize, int long_addr, uint32_t piece)
{
    static char longa[STORE_ADDR_MAX + 1];
    static uint8_t chunk[1000];
    memset(chunk, 'c', sizeof chunk);
    sim_setup(nsec, ssize, 1);
    mount_ok();
    store_handle_t hs[64];
    int n = 0;
    for (;;) {
        store_handle_t h;
        memset(longa, 's', STORE_ADDR_MAX);
        longa[long_addr ? STORE_ADDR_MAX : 8] = '\0';
        longa[0] = (char)('A' + n % 26);
        longa[1] = (char)('A' + n / 26);
        longa[2] = '@';
        int rc = ops->create(&st, long_addr ? longa : "", 0, NULL, &h);
        if (rc == STORE_OK) {
            for (int i = 0; i < 2 && rc >= 0; i++) {
                longa[3] = (char)('a' + i);
                rc = ops->rcpt_add(&st, h, longa, 0, NULL);
            }
            for (int i = 0; i < 4 && rc >= 0; i++)
                rc = ops->append(&st, h, chunk, piece);
            if (rc >= 0) {
                store_env_t env = { .msgid = (uint32_t)n + 1u, .size = 4u * piece, .nrcpt = 2 };
                assert_int_equal(ops->seal(&st, h, &env), STORE_OK);
                hs[n++] = h;
                if (n % 3 == 0) {   /* reboot: the next write opens a new sector */
                    mount_ok();
                    for (int j = 0; j < n; j++)
                        hs[j] = find_msg((uint32_t)j + 1u);
                }
                continue;
            }
            ops->abort(&st, h);
        }
        assert_int_equal(rc, STORE_ERR_FULL);
        break;
    }
    assert_true(n >= 3);
    for (int round = 0; round < 4; round++) {
        store_rcpt_state_t s = mk_state(STORE_RCPT_DEFERRED, (uint16_t)round, 451, "4.123.456",
                                        "0123456789012345678901234567890123456789012345678901234567890123");
        for (int j = 0; j < n; j++)
            for (uint16_t i = 0; i < 2; i++)
                assert_int_equal(ops->rcpt_update(&st, hs[j], i, &s), STORE_OK);
        mount_ok();
        for (int j = 0; j < n; j++)
            hs[j] = find_msg((uint32_t)j + 1u);
    }
    assert_int_equal(count_msgs(), n);
    for (int j = 0; j < n; j++)
        assert_int_equal(ops->del(&st, hs[j]), STORE_OK);
    assert_int_equal(store_flash_close(&st), STORE_OK);
    mount_ok();
    assert_int_equal(count_msgs(), 0);
    expect_guards_blank();
}

/* Worst-case packing: records that leave the most slack at sector ends (the
 * longest addresses; chunks of which only two fit a sector), reboots (each
 * wastes the head's tail).  Whatever was admitted must still get all its
 * recipient updates (at their largest), seals and deletes. */
static void test_full_worst_case(void **state)
{
    (void)state;
    worst_case_fill(12, 2048, 1, STORE_FLASH_CHUNK_MAX);
    worst_case_fill(20, 1024, 0, 298);
    worst_case_fill(12, 4096, 1, 1000);
}

static void test_slots_full(void **state)
{
    (void)state;
    sim_setup(NSEC_MAX, 4096, 1);
    mount_ok();
    store_handle_t h[STORE_FLASH_MAX_MSGS];
    for (int i = 0; i < STORE_FLASH_MAX_MSGS; i++)
        put_msg_ok((uint32_t)i + 1u, 1, 10, &h[i]);
    store_handle_t x;
    assert_int_equal(ops->create(&st, "a@b", 0, NULL, &x), STORE_ERR_FULL);
    assert_int_equal(ops->del(&st, h[10]), STORE_OK);
    assert_int_equal(ops->create(&st, "a@b", 0, NULL, &x), STORE_OK);
    /* the recipient pool has its limit too */
    int n = 0, rc;
    char a[40];
    do {
        snprintf(a, sizeof a, "r%d@x", n);
        rc = ops->rcpt_add(&st, x, a, 0, NULL);
        n += rc >= 0;
    } while (rc >= 0);
    assert_int_equal(rc, STORE_ERR_FULL);
    assert_int_equal(n, STORE_FLASH_MAX_RCPTS - (STORE_FLASH_MAX_MSGS - 1));
    ops->abort(&st, x);
    mount_ok();
    assert_int_equal(rep.recovered, STORE_FLASH_MAX_MSGS - 1);
}

/* ---- compaction and wear ------------------------------------------------------------ */

static void wear_run(uint32_t prog)
{
    sim_setup(16, 1024, prog);
    mount_ok();
    /* two long-lived messages (deferred for days): static data to move */
    put_msg_ok(1, 2, 2100, NULL);
    put_msg_ok(2, 1, 700, NULL);
    uint64_t target = 40ull * 16u * 1024u, written = 0;
    uint32_t tag = 10;
    while (written < target) {
        const flash_sim_stats_t *fss = flash_sim_stats(&sim);
        written = fss->bytes_programmed;
        store_handle_t h;
        uint32_t size = 100u + (tag * 397u) % 1400u;
        put_msg_ok(tag, 1 + (int)(tag % 2u), size, &h);
        store_rcpt_state_t s = mk_state(STORE_RCPT_DELIVERED, 1, 250, "2.0.0", "ok");
        assert_int_equal(ops->rcpt_update(&st, h, 0, &s), STORE_OK);
        if (tag % 2u)
            assert_int_equal(ops->rcpt_update(&st, h, 1, &s), STORE_OK);
        assert_int_equal(ops->del(&st, h), STORE_OK);
        if (tag % 50u == 0) {   /* reboots now and then */
            if (tag % 100u == 0)
                assert_int_equal(store_flash_close(&st), STORE_OK);
            mount_ok();
            assert_int_equal(rep.recovered, 2);
        }
        tag++;
    }
    check_msg(find_msg(1), 1, 2, 2100);
    check_msg(find_msg(2), 2, 1, 700);
    uint32_t mn = 0xFFFFFFFFu, mx = 0;
    for (uint32_t s = 1; s <= 16; s++) {
        uint32_t c = flash_sim_erase_count(&sim, s);
        mn = c < mn ? c : mn;
        mx = c > mx ? c : mx;
    }
    store_flash_stats_t fs;
    store_flash_stats(&st, &fs);
    print_message("    prog %u: %u messages, %llu bytes programmed, erases per sector %u..%u, "
                  "store counts %u..%u (avg %u)\n", (unsigned)prog, (unsigned)(tag - 10),
                  (unsigned long long)written, (unsigned)mn, (unsigned)mx, (unsigned)fs.erase_min,
                  (unsigned)fs.erase_max, (unsigned)fs.erase_avg);
    assert_true(mn >= 30);
    assert_true(mx <= 2u * mn + 2u);
    assert_true(fs.erase_max <= 2u * fs.erase_min + 2u);
    assert_int_equal(fs.erase_max, mx);   /* the store's counts survived the reboots */
    expect_guards_blank();
}

static void test_compaction_wear(void **state)
{
    (void)state;
    wear_run(1);
}

static void test_compaction_wear_prog16(void **state)
{
    (void)state;
    wear_run(16);
}

/* The board's partition: 1000 KiB of 4 KiB sectors.  Several times its size
 * goes through it; one message near the largest possible body; mount and
 * sequential reads stay fast. */
static void test_board_geometry(void **state)
{
    (void)state;
    sim_setup(250, 4096, 1);
    mount_ok();
    store_flash_stats_t fs;
    store_flash_stats(&st, &fs);
    print_message("    1000 KiB partition: budget %u bytes (%u%%), largest body %u\n", (unsigned)fs.budget,
                  (unsigned)(100ull * fs.budget / fs.part_size), (unsigned)fs.max_body);
    assert_true(fs.budget > 880000u);
    store_stats_t ss;
    ops->stats(&st, &ss);
    assert_int_equal(ss.total, fs.budget);
    /* the largest body, then gone */
    store_handle_t big;
    put_msg_ok(1, 1, fs.max_body - 100u, &big);
    clock_t t0 = clock();
    check_body(big, 1, fs.max_body - 100u, 512);
    double t_read = (double)(clock() - t0) / CLOCKS_PER_SEC;
    assert_int_equal(ops->del(&st, big), STORE_OK);
    /* traffic: a window of up to 40 messages of up to 60 KB, oldest delivered first */
    store_handle_t win[40];
    uint32_t wtag[40], wsize[40];
    int n = 0;
    uint32_t tag = 10;
    while (flash_sim_stats(&sim)->bytes_programmed < 4u * 1000u * 1024u) {
        uint32_t size = (tag * 7919u) % 60000u;
        int rc = put_msg(tag, 1 + (int)(tag % 3u), size, &win[n]);
        if (rc == STORE_OK) {
            wtag[n] = tag;
            wsize[n++] = size;
        } else {
            assert_int_equal(rc, STORE_ERR_FULL);
            ops->recover(&st);
        }
        tag++;
        if (n == 40 || rc != STORE_OK) {
            for (int j = 0; j < n / 2; j++)
                assert_int_equal(ops->del(&st, win[j]), STORE_OK);
            memmove(win, win + n / 2, (size_t)(n - n / 2) * sizeof win[0]);
            memmove(wtag, wtag + n / 2, (size_t)(n - n / 2) * sizeof wtag[0]);
            memmove(wsize, wsize + n / 2, (size_t)(n - n / 2) * sizeof wsize[0]);
            n -= n / 2;
        }
    }
    t0 = clock();
    mount_ok();
    double t_mount = (double)(clock() - t0) / CLOCKS_PER_SEC;
    assert_int_equal(rep.recovered, n);
    for (int j = 0; j < n; j++)
        check_body(find_msg(wtag[j]), wtag[j], wsize[j], 1000);
    store_flash_stats(&st, &fs);
    print_message("    %u messages through it, %u compactions since the last mount, erases %u..%u; "
                  "mount %.0f ms, reading %u KB %.0f ms (host, sanitizers)\n", (unsigned)(tag - 10),
                  (unsigned)fs.compactions, (unsigned)fs.erase_min, (unsigned)fs.erase_max,
                  t_mount * 1000.0, (unsigned)(fs.max_body / 1024u), t_read * 1000.0);
    assert_true(fs.erase_min >= 2);
    assert_true(fs.erase_max <= 2u * fs.erase_min + 2u);
    expect_guards_blank();
}

/* ---- corruption, format, versions ----------------------------------------------------- */

static void test_bit_rot(void **state)
{
    (void)state;
    put_msg_ok(1, 1, 3000, NULL);
    put_msg_ok(2, 1, 300, NULL);
    /* flip one bit in the middle of message 1's body on the medium */
    const uint8_t want = body_byte(1, 1500);
    uint8_t *hit = NULL;
    for (uint32_t i = g_ssize; i < (g_nsec + 1u) * g_ssize - 8; i++) {
        if (mem[i] == want && mem[i + 1] == body_byte(1, 1501) && mem[i + 2] == body_byte(1, 1502) &&
            mem[i + 3] == body_byte(1, 1503)) {
            hit = &mem[i];
            break;
        }
    }
    assert_non_null(hit);
    *hit ^= 0x10;
    mount_ok();
    assert_int_equal(rep.recovered, 1);
    assert_int_equal(rep.damaged, 1);
    assert_true(rep.torn <= 1);             /* counted only in the newest sector */
    assert_true(rep.discarded >= 1 + 9);    /* sender, rcpt, 8 of 9 chunks, commit */
    assert_int_equal(find_msg(1), STORE_HANDLE_NONE);
    check_msg(find_msg(2), 2, 1, 300);
    mount_ok();   /* settled with a TOMB */
    assert_int_equal(rep.damaged, 0);
    assert_int_equal(rep.recovered, 1);
}

static void test_format(void **state)
{
    (void)state;
    for (uint32_t t = 1; t <= 150; t++) {
        store_handle_t h;
        put_msg_ok(t, 1, 800, &h);
        if (t > 3)
            assert_int_equal(ops->del(&st, find_msg(t - 3)), STORE_OK);
    }
    store_flash_stats_t fs;
    store_flash_stats(&st, &fs);
    assert_true(fs.erase_max > 0);
    uint32_t before[16];
    for (uint32_t s = 0; s < 16; s++)
        before[s] = flash_sim_erase_count(&sim, s + 1u);
    assert_int_equal(store_flash_format(&part), STORE_OK);
    mount_ok();
    assert_int_equal(rep.blank, 1);
    assert_int_equal(rep.clean, 1);
    assert_int_equal(count_msgs(), 0);
    /* sectors with data were erased once more, erased ones left alone; the
     * counts on flash follow the device's */
    uint32_t mn = 0xFFFFFFFFu, mx = 0, more = 0;
    for (uint32_t s = 0; s < 16; s++) {
        uint32_t c = flash_sim_erase_count(&sim, s + 1u);
        assert_true(c == before[s] || c == before[s] + 1u);
        more += c != before[s];
        mn = c < mn ? c : mn;
        mx = c > mx ? c : mx;
    }
    assert_true(more > 0);
    store_flash_stats(&st, &fs);
    assert_int_equal(fs.erase_min, mn);
    assert_int_equal(fs.erase_max, mx);
    put_msg_ok(77, 2, 5000, NULL);
    mount_ok();
    check_msg(find_msg(77), 77, 2, 5000);
    /* a format cut at any erase never revives a deleted message */
    for (uint32_t nth = 1; nth <= 20; nth++) {
        sim_setup(16, 2048, 1);
        mount_ok();
        for (uint32_t t = 1; t <= 12; t++) {
            put_msg_ok(t, 1, 900, NULL);
            if (t % 2 == 0)
                assert_int_equal(ops->del(&st, find_msg(t - 1)), STORE_OK);
        }
        flash_sim_cut_arm(&sim, nth, FLASH_SIM_CUT_TORN, 100);
        (void)store_flash_format(&part);
        flash_sim_power_on(&sim);
        mount_ok();
        store_handle_t h = STORE_HANDLE_NONE;
        while (ops->next(&st, h, &h) == STORE_OK) {
            store_msg_t mi;
            assert_int_equal(ops->info(&st, h, &mi), STORE_OK);
            assert_true(mi.msgid % 2 == 0);
            check_msg(h, mi.msgid, 1, 900);
        }
    }
}

static void test_other_version(void **state)
{
    (void)state;
    put_msg_ok(1, 1, 100, NULL);
    /* rewrite sector 0's erase stamp as a version-2 one */
    uint8_t *h = &mem[g_ssize];
    h[4] = 2;
    uint32_t c = crc32_update(0, h, 12);
    h[12] = (uint8_t)c;
    h[13] = (uint8_t)(c >> 8);
    h[14] = (uint8_t)(c >> 16);
    h[15] = (uint8_t)(c >> 24);
    assert_int_equal(store_flash_mount(&st, &part, NULL), STORE_ERR_STATE);
    assert_int_equal(flash_sim_stats(&sim)->erases, 0);   /* left untouched */
}

/* ---- power cuts ------------------------------------------------------------------------ */

/* The scenario: a long-lived message, then messages accepted one after
 * another while earlier ones get recipient updates and are deleted once
 * finished, one transaction aborted; enough volume for several compactions.
 * The model records what was acknowledged (the call returned OK) and what was
 * in flight when the power went. */
#define SC_MSGS 26   /* messages in a scenario */
#define SC_RCPT 3
enum { PH_NONE = 0, PH_OPEN, PH_SEALING, PH_SEALED, PH_DELETING, PH_DELETED };

typedef struct {
    uint8_t phase;
    uint8_t nr;
    uint32_t size;
    store_handle_t h;
    store_rcpt_state_t acked[SC_RCPT], pend[SC_RCPT];
    uint8_t has_pend[SC_RCPT];
} sc_msg_t;

static sc_msg_t sc[SC_MSGS];
static uint32_t sc_l0;   /* body size of the long-lived message: shapes the compactions */
static uint32_t sc_tag(int k)
{
    return 1000u + (uint32_t)k;
}

static int sc_accept(int k)
{
    sc_msg_t *m = &sc[k];
    char sender[64], a[80];
    m->nr = (uint8_t)(k == 0 ? 2 : 1 + k % SC_RCPT);
    m->size = k == 0 ? sc_l0 : 80u + ((uint32_t)k * 211u) % 520u;
    sender_of(sender, sizeof sender, sc_tag(k));
    m->phase = PH_OPEN;
    int rc = ops->create(&st, sender, 0, NULL, &m->h);
    if (rc != STORE_OK)
        return rc;
    for (int i = 0; i < m->nr; i++) {
        rcpt_addr(a, sizeof a, sc_tag(k), i);
        rc = ops->rcpt_add(&st, m->h, a, 0, NULL);
        if (rc < 0)
            return rc;
    }
    rc = append_body(m->h, sc_tag(k), m->size);
    if (rc != STORE_OK)
        return rc;
    store_env_t env = { .msgid = sc_tag(k), .arrival = 1000u + sc_tag(k), .size = m->size,
                        .nrcpt = m->nr, .src_netif = (uint8_t)(sc_tag(k) & 3u) };
    m->phase = PH_SEALING;
    rc = ops->seal(&st, m->h, &env);
    if (rc == STORE_OK)
        m->phase = PH_SEALED;
    return rc;
}

static int sc_update(int k, int i, store_rcpt_state_t s)
{
    sc_msg_t *m = &sc[k];
    if (i >= m->nr)
        return STORE_OK;
    m->pend[i] = s;
    m->has_pend[i] = 1;
    int rc = ops->rcpt_update(&st, m->h, (uint16_t)i, &s);
    if (rc == STORE_OK) {
        m->acked[i] = s;
        m->has_pend[i] = 0;
    }
    return rc;
}

static int sc_delete(int k)
{
    sc[k].phase = PH_DELETING;
    int rc = ops->del(&st, sc[k].h);
    if (rc == STORE_OK)
        sc[k].phase = PH_DELETED;
    return rc;
}

#define SC_TRY(x)                                  \
    do {                                           \
        int rc_ = (x);                             \
        if (rc_ != STORE_OK) {                     \
            assert_int_equal(rc_, STORE_ERR_IO);   \
            return 1;                              \
        }                                          \
    } while (0)

/* Returns 0 when it ran to the end, 1 when an operation failed (the cut). */
static int sc_run(void)
{
    /* transactions that hold every write buffer: the first half of the
     * messages is written unbuffered, the second half buffered */
    store_handle_t hold[STORE_FLASH_MAX_OPEN];
    memset(sc, 0, sizeof sc);
    for (int i = 0; i < STORE_FLASH_MAX_OPEN; i++)
        SC_TRY(ops->create(&st, "", 0, NULL, &hold[i]));
    SC_TRY(sc_accept(0));
    for (int k = 1; k < SC_MSGS; k++) {
        if (k == SC_MSGS / 2) {
            for (int i = 0; i < STORE_FLASH_MAX_OPEN; i++)
                ops->abort(&st, hold[i]);
        }
        SC_TRY(sc_accept(k));
        if (k == 5) {   /* a client gives up halfway */
            store_handle_t a;
            SC_TRY(ops->create(&st, "quitter@x", 0, NULL, &a));
            int rc = ops->rcpt_add(&st, a, "r@x", 0, NULL);
            if (rc < 0)
                SC_TRY(rc);
            SC_TRY(append_body(a, 5555, 300));
            ops->abort(&st, a);
        }
        SC_TRY(sc_update(k - 1, 0, mk_state(STORE_RCPT_DELIVERED, 1, 250, "2.0.0", "ok")));
        SC_TRY(sc_update(k - 1, 1, mk_state(STORE_RCPT_DEFERRED, 1, 451, "4.7.1", "greylisted")));
        if (k >= 2 && k - 2 > 0) {
            int j = k - 2;
            SC_TRY(sc_update(j, 1, mk_state(STORE_RCPT_DELIVERED, 2, 250, "2.0.0", "ok now")));
            SC_TRY(sc_update(j, 2, mk_state(STORE_RCPT_FAILED, 1, 550, "5.1.1", "no such user")));
            SC_TRY(sc_delete(j));
        }
        /* the long-lived one is retried all the time */
        SC_TRY(sc_update(0, 1, mk_state(STORE_RCPT_DEFERRED, (uint16_t)(k + 1), 421, "4.4.2",
                                         k % 2 ? "timeout" : "connection refused by peer")));
    }
    return 0;
}

typedef struct {
    uint8_t visible;
    store_rcpt_state_t st[SC_RCPT];
} seen_t;
static seen_t seen[SC_MSGS];

/* Check the mounted store against the model.  expect: NULL = by the model's
 * rules (and fill `seen`), else exactly what was seen before.  sealing_ok:
 * the cut may have completed a COMMIT whose seal never returned. */
static void sc_verify(const seen_t *expect, int sealing_ok)
{
    seen_t now[SC_MSGS];
    memset(now, 0, sizeof now);
    store_handle_t h = STORE_HANDLE_NONE;
    while (ops->next(&st, h, &h) == STORE_OK) {
        store_msg_t mi;
        assert_int_equal(ops->info(&st, h, &mi), STORE_OK);
        if (mi.msgid == 9999u)
            continue;   /* written after the recovery */
        assert_true(mi.msgid >= sc_tag(0) && mi.msgid < sc_tag(SC_MSGS));
        int k = (int)(mi.msgid - sc_tag(0));
        const sc_msg_t *m = &sc[k];
        assert_false(now[k].visible);   /* once */
        now[k].visible = 1;
        if (!expect) {
            if (m->phase == PH_SEALING)
                assert_true(sealing_ok);
            else
                assert_true(m->phase == PH_SEALED || m->phase == PH_DELETING);
        }
        check_msg(h, mi.msgid, m->nr, m->size);
        for (int i = 0; i < m->nr; i++) {
            store_rcpt_t r;
            assert_int_equal(ops->rcpt_get(&st, h, (uint16_t)i, &r), STORE_OK);
            now[k].st[i] = r.st;
            if (expect) {
                expect_state(&r.st, &expect[k].st[i]);
            } else if (!same_state(&r.st, &m->acked[i]) &&
                       !(m->has_pend[i] && same_state(&r.st, &m->pend[i]))) {
                fail_msg("msg %d rcpt %d: state %u attempts %u, acknowledged %u/%u", k, i,
                         r.st.state, r.st.attempts, m->acked[i].state, m->acked[i].attempts);
            }
        }
    }
    for (int k = 0; k < SC_MSGS; k++) {
        if (expect)
            assert_int_equal(now[k].visible, expect[k].visible);
        else if (sc[k].phase == PH_SEALED)
            assert_true(now[k].visible);    /* acknowledged: never lost */
        else if (sc[k].phase == PH_DELETED || sc[k].phase == PH_OPEN || sc[k].phase == PH_NONE)
            assert_false(now[k].visible);   /* deleted stays deleted, unsealed never appears */
    }
    if (!expect)
        memcpy(seen, now, sizeof seen);
}

/* After the recovery the store works: a new message round-trips, an old
 * one can still be updated, a clean close and a remount change nothing. */
static void sc_after(void)
{
    store_handle_t h;
    int rc;
    /* if the store is too full, deliveries make room */
    while ((rc = put_msg(9999, 2, 900, &h)) == STORE_ERR_FULL) {
        assert_int_equal(ops->recover(&st) >= 0, 1);
        int k = 0;
        while (k < SC_MSGS && !seen[k].visible)
            k++;
        assert_true(k < SC_MSGS);
        assert_int_equal(ops->del(&st, find_msg(sc_tag(k))), STORE_OK);
        seen[k].visible = 0;
    }
    assert_int_equal(rc, STORE_OK);
    check_msg(h, 9999, 2, 900);
    for (int k = 0; k < SC_MSGS; k++) {
        store_handle_t o = seen[k].visible ? find_msg(sc_tag(k)) : STORE_HANDLE_NONE;
        if (o >= 0) {
            assert_int_equal(ops->rcpt_update(&st, o, 0, &seen[k].st[0]), STORE_OK);
            break;
        }
    }
    assert_int_equal(store_flash_close(&st), STORE_OK);
    mount_ok();
    assert_int_equal(rep.clean, 1);
    assert_int_equal(rep.discarded, 0);
    sc_verify(seen, 0);
    check_msg(find_msg(9999), 9999, 2, 900);
    expect_guards_blank();
}

static uint8_t snap_mem[sizeof mem];
static uint32_t snap_wear[NSEC_MAX + 2];

/* nsec sectors of 1 KiB: small, so that compaction runs often; l0: see sc_l0.
 * Every recovery_every-th cut point (0: none) also cuts the recovery. */
static void power_cut_run(uint32_t nsec, uint32_t l0, uint32_t prog, const uint32_t *torn, size_t ntorn,
                          uint32_t recovery_every)
{
    sc_l0 = l0;
    static const flash_sim_cut_t modes[] = { FLASH_SIM_CUT_BEFORE, FLASH_SIM_CUT_AFTER,
                                             FLASH_SIM_CUT_TORN };
    clock_t t0 = clock();
    /* dry run */
    sim_setup(nsec, 1024, prog);
    mount_ok();
    assert_int_equal(sc_run(), 0);
    uint32_t total = flash_sim_stats(&sim)->programs + flash_sim_stats(&sim)->erases;
    store_flash_stats_t fs;
    store_flash_stats(&st, &fs);
    assert_true(fs.compactions >= 12);
    assert_true(fs.splits >= 1);
    sc_verify(NULL, 0);
    unsigned cases = 0, rcases = 0, seal_visible = 0;

    for (uint32_t op = 1; op <= total; op++) {
        for (size_t m = 0; m < sizeof modes / sizeof modes[0]; m++) {
            size_t nt = modes[m] == FLASH_SIM_CUT_TORN ? ntorn : 1;
            for (size_t t = 0; t < nt; t++) {
                uint32_t tl = modes[m] == FLASH_SIM_CUT_TORN ? torn[t] : 0;
                sim_setup(nsec, 1024, prog);
                mount_ok();
                flash_sim_cut_arm(&sim, op, modes[m], tl);
                /* the operation hit fails, unless the cut came right after the last one */
                assert_int_equal(sc_run(), modes[m] == FLASH_SIM_CUT_AFTER && op == total ? 0 : 1);
                assert_false(flash_sim_is_powered(&sim));
                flash_sim_power_on(&sim);
                /* a COMMIT complete on flash whose seal never returned */
                int sealing_ok = modes[m] == FLASH_SIM_CUT_TORN && tl >= 32;
                if (recovery_every && op % recovery_every == 0) {
                    /* the power fails again during the recovery */
                    memcpy(snap_mem, mem, sizeof mem);
                    memcpy(snap_wear, wear, sizeof wear);
                    flash_sim_stats_reset(&sim);
                    mount_ok();
                    uint32_t rops = flash_sim_stats(&sim)->programs + flash_sim_stats(&sim)->erases;
                    for (uint32_t r = 1; r <= rops; r++) {
                        for (int rm = 0; rm < 2; rm++) {
                            memcpy(mem, snap_mem, sizeof mem);
                            memcpy(wear, snap_wear, sizeof wear);
                            flash_sim_power_on(&sim);
                            flash_sim_cut_arm(&sim, r, rm ? FLASH_SIM_CUT_TORN : FLASH_SIM_CUT_BEFORE, 9);
                            (void)store_flash_mount(&st, &part, NULL);   /* its writes may fail */
                            assert_false(flash_sim_is_powered(&sim));
                            flash_sim_power_on(&sim);
                            mount_ok();
                            sc_verify(NULL, sealing_ok);
                            rcases++;
                        }
                    }
                    memcpy(mem, snap_mem, sizeof mem);
                    memcpy(wear, snap_wear, sizeof wear);
                    flash_sim_power_on(&sim);
                }
                mount_ok();
                sc_verify(NULL, sealing_ok);
                for (int k = 0; k < SC_MSGS; k++)
                    seal_visible += sc[k].phase == PH_SEALING && seen[k].visible;
                /* a cut before anything was written leaves a blank store */
                if (rep.blank)
                    assert_int_equal(rep.clean, 1);
                sc_after();
                cases++;
            }
        }
    }
    print_message("    prog %u: %u cuts over %u operations (%u compactions, %u split), %u cuts during "
                  "recovery, %u complete-but-unreturned seals; %.1f s\n", (unsigned)prog, cases,
                  (unsigned)total, (unsigned)fs.compactions, (unsigned)fs.splits, rcases, seal_visible,
                  (double)(clock() - t0) / CLOCKS_PER_SEC);
}

static void test_power_cut_every_op(void **state)
{
    (void)state;
    /* inside the header, at its end, inside the payload, whole records;
     * for erases the same prefixes of the sector */
    static const uint32_t torn[] = { 1, 8, 15, 16, 17, 31, 32, 47, 100, 1024 };
    power_cut_run(14, 900, 1, torn, sizeof torn / sizeof torn[0], 7);
    /* a shape where a compaction that continued in a fresh sector has body
     * chunks in its first part: the cut between the two parts must not
     * duplicate them */
    power_cut_run(13, 1100, 1, torn, sizeof torn / sizeof torn[0], 0);
}

static void test_power_cut_every_op_prog16(void **state)
{
    (void)state;
    static const uint32_t torn[] = { 8, 16, 48, 200 };
    power_cut_run(14, 900, 16, torn, sizeof torn / sizeof torn[0], 0);   /* larger records */
}

/* ---- write errors without a power cut ------------------------------------------- */

/* A device in front of the simulator whose nth program or erase fails
 * (FLASH_ERR_IO), a program after landing its first `torn` bytes; the device
 * stays powered and everything else works. */
typedef struct {
    flash_dev_t dev;
    uint32_t countdown, torn;
    int fired;
} flaky_t;
static flaky_t flaky;

static int flaky_hit(void)
{
    if (flaky.countdown && --flaky.countdown == 0) {
        flaky.fired = 1;
        return 1;
    }
    return 0;
}

static int flaky_read(flash_dev_t *dev, uint32_t off, void *buf, size_t len)
{
    (void)dev;
    return flash_read(flash_sim_dev(&sim), off, buf, len);
}

static int flaky_program(flash_dev_t *dev, uint32_t off, const void *buf, size_t len)
{
    (void)dev;
    if (flaky_hit()) {
        if (flaky.torn)
            (void)flash_program(flash_sim_dev(&sim), off, buf, flaky.torn < len ? flaky.torn : len);
        return FLASH_ERR_IO;
    }
    return flash_program(flash_sim_dev(&sim), off, buf, len);
}

static int flaky_erase(flash_dev_t *dev, uint32_t sector)
{
    (void)dev;
    return flaky_hit() ? FLASH_ERR_IO : flash_erase(flash_sim_dev(&sim), sector);
}

static const flash_ops_t flaky_ops = { flaky_read, flaky_program, flaky_erase };

static void test_write_errors(void **state)
{
    (void)state;
    static const uint32_t torn[] = { 0, 40 };
    sc_l0 = 900;
    sim_setup(14, 1024, 1);
    mount_ok();
    assert_int_equal(sc_run(), 0);
    uint32_t total = flash_sim_stats(&sim)->programs + flash_sim_stats(&sim)->erases;
    unsigned cases = 0, kept_going = 0;
    for (uint32_t op = 1; op <= total; op++) {
        for (size_t t = 0; t < 2u * (sizeof torn / sizeof torn[0]); t++) {
            uint32_t churn = t & 1u ? 30u : 1u;   /* reboot soon, or after lots of traffic */
            sim_setup(14, 1024, 1);
            flaky = (flaky_t){ .countdown = op, .torn = torn[t / 2u] };
            flaky.dev = *flash_sim_dev(&sim);
            flaky.dev.ops = &flaky_ops;
            part.dev = &flaky.dev;
            mount_ok();
            kept_going += sc_run() == 0;   /* e.g. a failed ABORT is not reported */
            assert_true(flaky.fired);
            /* the running store still has every acknowledged message */
            sc_verify(NULL, 0);
            for (int k = 0; k < SC_MSGS; k++)
                assert_int_equal(seen[k].visible, sc[k].phase == PH_SEALED || sc[k].phase == PH_DELETING);
            /* and keeps working -- traffic enough for every sector to be
             * compacted again -- or refuses writes until the next mount */
            (void)ops->recover(&st);
            for (uint32_t j = 0; j < churn; j++) {
                store_handle_t h;
                int rc = put_msg(9000 + j, 1, 500, &h);
                assert_true(rc == STORE_OK || rc == STORE_ERR_IO || rc == STORE_ERR_FULL);
                if (rc == STORE_OK)
                    assert_int_equal(ops->del(&st, h), STORE_OK);
                else
                    (void)ops->recover(&st);
            }
            /* reboot */
            mount_ok();
            sc_verify(NULL, torn[t / 2u] >= 32);
            sc_after();
            cases++;
        }
    }
    print_message("    %u single write errors over %u operations (%u unreported)\n", cases,
                  (unsigned)total, kept_going);
}

/* ---- randomized model test with reboots ------------------------------------------------ */

static uint32_t rnd_state;
static uint32_t rnd(uint32_t n)
{
    rnd_state = rnd_state * 1103515245u + 12345u;
    return (rnd_state >> 8) % n;
}

typedef struct {
    uint8_t used;
    uint32_t tag;
    int nr;
    uint32_t size;
    store_rcpt_state_t s[4];
} fz_t;

static void fuzz_run(uint32_t seed, uint32_t prog, uint32_t nsec, uint32_t ssize, int steps)
{
    static fz_t fz[STORE_FLASH_MAX_MSGS];
    memset(fz, 0, sizeof fz);
    rnd_state = seed;
    sim_setup(nsec, ssize, prog);
    mount_ok();
    uint32_t tag = 1;
    int fulls = 0, reboots = 0;
    for (int step = 0; step < steps; step++) {
        uint32_t what = rnd(100);
        int k = (int)rnd(STORE_FLASH_MAX_MSGS / 2);
        if (what < 40) {
            if (fz[k].used)
                continue;
            int nr = 1 + (int)rnd(4);
            uint32_t size = rnd(8) == 0 ? rnd(6000) : rnd(900);
            int rc = put_msg(tag, nr, size, NULL);
            if (rc == STORE_OK) {
                fz[k] = (fz_t){ 1, tag, nr, size, { { 0 } } };
            } else {
                assert_int_equal(rc, STORE_ERR_FULL);
                ops->recover(&st);   /* drop the open transaction */
                fulls++;
            }
            tag++;
        } else if (what < 70) {
            if (!fz[k].used)
                continue;
            int i = (int)rnd((uint32_t)fz[k].nr);
            static const char *const texts[] = { "", "ok", "greylisted, try again later",
                                                 "mailbox full; the quota of this user is exhausted!" };
            store_rcpt_state_t s = mk_state((uint8_t)(2 + rnd(3)), (uint16_t)rnd(1000),
                                            (uint16_t)(200 + rnd(400)), rnd(2) ? "4.2.2" : "",
                                            texts[rnd(4)]);
            assert_int_equal(ops->rcpt_update(&st, find_msg(fz[k].tag), (uint16_t)i, &s), STORE_OK);
            fz[k].s[i] = s;
        } else if (what < 85) {
            if (!fz[k].used)
                continue;
            assert_int_equal(ops->del(&st, find_msg(fz[k].tag)), STORE_OK);
            fz[k].used = 0;
        } else if (what < 87) {
            if (rnd(2))
                assert_int_equal(store_flash_close(&st), STORE_OK);
            mount_ok();
            reboots++;
        } else if (what < 90) {
            store_handle_t o;   /* an abandoned transaction, then a reboot or not */
            if (ops->create(&st, "x@y", 0, NULL, &o) == STORE_OK && ops->rcpt_add(&st, o, "z@y", 0, NULL) == 0)
                (void)append_body(o, 4242, rnd(700));
        }
        if (what >= 85 && what < 90) {
            /* full check */
            int n = 0;
            for (int j = 0; j < STORE_FLASH_MAX_MSGS; j++) {
                if (!fz[j].used)
                    continue;
                n++;
                store_handle_t h = find_msg(fz[j].tag);
                assert_true(h >= 0);
                check_msg(h, fz[j].tag, fz[j].nr, fz[j].size);
                for (int i = 0; i < fz[j].nr; i++) {
                    store_rcpt_t r;
                    assert_int_equal(ops->rcpt_get(&st, h, (uint16_t)i, &r), STORE_OK);
                    expect_state(&r.st, &fz[j].s[i]);
                }
            }
            assert_int_equal(count_msgs(), n);
        }
    }
    store_flash_stats_t fs;
    store_flash_stats(&st, &fs);
    assert_true(fs.erase_max <= 2u * fs.erase_min + 2u);
    print_message("    seed %u prog %u %ux%u: %d full, %d reboots, erases %u..%u\n", (unsigned)seed,
                  (unsigned)prog, (unsigned)nsec, (unsigned)ssize, fulls, reboots,
                  (unsigned)fs.erase_min, (unsigned)fs.erase_max);
    expect_guards_blank();
}

static void test_random_with_reboots(void **state)
{
    (void)state;
    fuzz_run(1, 1, 16, 1024, 4000);
    fuzz_run(2, 8, 24, 2048, 4000);
    fuzz_run(3, 4, 8, 4096, 4000);
}

/* ---- through the queue ----------------------------------------------------------------- */

static uint32_t q_now;
static uint32_t q_clock(void)
{
    return q_now;
}

static int q_match(void *ctx, const char *addr)
{
    (void)ctx;
    return strstr(addr, "@p1") ? 1 : -1;
}

static uint32_t q_put(const char *sender, const char *rcpt, uint32_t size)
{
    static char data[20000];
    queue_txn_t t;
    for (uint32_t i = 0; i < size; i++)
        data[i] = (char)('a' + i % 26u);
    if (size >= 2) {
        data[size - 2] = '\r';
        data[size - 1] = '\n';
    }
    int rc = queue_txn_begin(sender, size, 0, &t);
    if (rc != QUEUE_OK)
        return 0;
    if (queue_txn_add_rcpt(t, rcpt) != QUEUE_OK || queue_txn_append(t, data, size) != QUEUE_OK) {
        queue_txn_abort(t);
        return 0;
    }
    uint32_t id = 0;
    return queue_txn_commit(t, &id) == QUEUE_OK ? id : 0;
}

static void test_queue_on_flash(void **state)
{
    (void)state;
    sim_setup(24, 4096, 1);
    mount_ok();
    q_now = 100;
    assert_int_equal(queue_init(&store_flash_ops, &st, q_clock), 0);
    assert_true(queue_max_size() > 70000);
    uint32_t a = q_put("s@x", "r1@p1", 3000);
    uint32_t b = q_put("s@x", "r2@p2", 5000);   /* no route: deferred */
    assert_true(a && b);
    static queue_batch_t batch;
    assert_int_equal(queue_claim(q_now, q_match, NULL, &batch), QUEUE_OK);
    assert_int_equal(batch.msgid, a);
    /* "reboot" while a's attempt is in flight */
    mount_ok();
    assert_int_equal(rep.recovered, 2);
    assert_int_equal(rep.queue[STORE_FLASH_Q_DEFERRED], 0);   /* claim never looked at b */
    assert_int_equal(rep.queue[STORE_FLASH_Q_ACTIVE], 2);
    assert_int_equal(queue_init(&store_flash_ops, &st, q_clock), 2);
    assert_int_equal(queue_claim(q_now, q_match, NULL, &batch), QUEUE_OK);
    assert_int_equal(batch.msgid, a);
    char buf[100];
    assert_int_equal(queue_read(a, 2990, buf, sizeof buf), 10);
    assert_memory_equal(buf + 8, "\r\n", 2);
    /* 5xx: a DSN from the null sender replaces it */
    assert_int_equal(queue_rcpt_result(a, batch.rcpt[0], 550, "5.1.1", "unknown", q_now), QUEUE_OK);
    queue_stats_t qs;
    queue_stats(&qs);
    assert_int_equal(qs.messages, 2);
    assert_int_equal(qs.bounced, 1);
    assert_int_equal(store_flash_close(&st), STORE_OK);
    mount_ok();
    assert_int_equal(rep.clean, 1);
    assert_int_equal(rep.queue[STORE_FLASH_Q_BOUNCE], 1);
    assert_int_equal(queue_init(&store_flash_ops, &st, q_clock), 2);
    /* fill and drain: space comes back through compaction */
    for (int cycle = 0; cycle < 8; cycle++) {
        int n = 0;
        while (q_put("f@x", "d@p1", 9000))
            n++;
        assert_true(n >= 5);
        while (queue_claim(q_now, q_match, NULL, &batch) == QUEUE_OK) {
            for (uint16_t i = 0; i < batch.nrcpt; i++)
                assert_int_equal(queue_rcpt_result(batch.msgid, batch.rcpt[i], 250, NULL, "ok", q_now),
                                 QUEUE_OK);
        }
        queue_stats(&qs);
        assert_int_equal(qs.messages, 2);   /* b (no route) and the DSN to s@x (no route) */
    }
    store_flash_stats_t fs;
    store_flash_stats(&st, &fs);
    assert_true(fs.compactions > 0);
    print_message("    queue on flash: %u compactions, %u bytes copied, erases %u..%u\n",
                  (unsigned)fs.compactions, (unsigned)fs.copied, (unsigned)fs.erase_min,
                  (unsigned)fs.erase_max);
    expect_guards_blank();
}

/* ---- issue 14: a report survives a power cut (at least once) ------------------ */

static const char *rp_reply(const char *addr)
{
    return strncmp(addr, "bad@", 4) == 0 ? "550" : strncmp(addr, "later@", 6) == 0 ? "450" : "250";
}

/* Deliver every due recipient: ok -> 250, bad -> 550, later -> 450 on the
 * first attempt (later_ok 0) and 250 after. */
static void rp_deliver(int later_ok)
{
    static queue_batch_t batch;
    while (queue_claim(q_now, q_match, NULL, &batch) == QUEUE_OK) {
        for (uint16_t i = 0; i < batch.nrcpt; i++) {
            queue_rcpt_info_t ri;
            if (queue_get_rcpt(batch.msgid, batch.rcpt[i], &ri) != QUEUE_OK)
                continue;
            const char *c = rp_reply(ri.address);
            int code = c[0] == '5' ? 550 : c[0] == '4' && !later_ok ? 450 : 250;
            queue_result_t r = { code, code == 550 ? "5.1.1" : "", "reply", "[192.0.2.10]", 0 };
            (void)queue_rcpt_result_ex(batch.msgid, batch.rcpt[i], &r, q_now);
        }
    }
}

static int rp_reports, rp_other;
static int rp_count(void *ctx, const queue_msg_info_t *info)
{
    (void)ctx;
    if (info->sender[0] != '\0')
        return 0;
    static char txt[8192];
    int n = queue_read(info->msgid, 0, txt, sizeof txt - 1);
    assert_true(n > 0);
    txt[n] = '\0';
    if (strstr(txt, "Final-Recipient: rfc822; bad@p1\r\nAction: failed\r\n"))
        rp_reports++;
    if (strstr(txt, "later@p1") || strstr(txt, "ok@p1"))
        rp_other++;
    return 0;
}

/* The scenario: a message to ok/later/bad, the attempt that fails bad
 * (report) and defers later, then the retry that delivers later. */
static void rp_run(void)
{
    q_now = 100;
    (void)queue_init(&store_flash_ops, &st, q_clock);
    queue_txn_t t;
    if (queue_txn_begin("s@x", 0, 0, &t) == QUEUE_OK) {
        static const char *const r[] = { "ok@p1", "later@p1", "bad@p1" };
        int ok = 1;
        for (int i = 0; i < 3 && ok; i++)
            ok = queue_txn_add_rcpt(t, r[i]) == QUEUE_OK;
        if (ok && queue_txn_append(t, "Subject: x\r\n\r\nbody\r\n", 20) == QUEUE_OK)
            (void)queue_txn_commit(t, NULL);
        else
            queue_txn_abort(t);
    }
    rp_deliver(0);
    q_now += 100000;
    rp_deliver(1);
}

/* Power cut at every program/erase of the scenario (before, after, torn):
 * after the reboot and the rest of the delivery, the failed recipient has
 * been reported at least once and at most twice (the cut fell between
 * the DSN's commit and the REPORTED mark), and nobody else was. */
static void test_report_power_cut(void **state)
{
    (void)state;
    static const flash_sim_cut_t modes[] = { FLASH_SIM_CUT_BEFORE, FLASH_SIM_CUT_AFTER,
                                             FLASH_SIM_CUT_TORN };
    sim_setup(12, 4096, 1);
    mount_ok();
    rp_run();
    rp_reports = rp_other = 0;
    queue_foreach(rp_count, NULL);
    assert_int_equal(rp_reports, 1);
    assert_int_equal(rp_other, 0);
    uint32_t total = flash_sim_stats(&sim)->programs + flash_sim_stats(&sim)->erases;
    unsigned cases = 0, twice = 0, none_accepted = 0;
    for (uint32_t op = 1; op <= total; op++) {
        for (size_t m = 0; m < sizeof modes / sizeof modes[0]; m++) {
            sim_setup(12, 4096, 1);
            mount_ok();
            flash_sim_cut_arm(&sim, op, modes[m], 20);
            rp_run();
            flash_sim_power_on(&sim);
            mount_ok();
            /* the reboot: recover, housekeeping, then deliver what is left */
            q_now += 100000;
            int n = queue_init(&store_flash_ops, &st, q_clock);
            assert_true(n >= 0);
            queue_tick(q_now);
            rp_deliver(1);
            rp_reports = rp_other = 0;
            queue_foreach(rp_count, NULL);
            /* the message itself may never have been accepted (cut before
             * its COMMIT): then nothing is due */
            if (rp_reports == 0) {
                queue_msg_info_t mi;
                int left = 0;
                for (uint32_t id = 1; id < 400; id++)
                    left += queue_get_info(id, &mi) == QUEUE_OK && mi.sender[0] != '\0';
                assert_int_equal(left, 0);
                none_accepted++;
            }
            assert_true(rp_reports <= 2);
            assert_int_equal(rp_other, 0);
            twice += rp_reports == 2;
            cases++;
        }
    }
    /* at least one cut lands between the DSN's commit and the mark */
    assert_true(twice > 0);
    assert_true(none_accepted < cases);
    print_message("    %u cuts over %u operations: report repeated after %u, message never "
                  "accepted in %u\n", cases, (unsigned)total, twice, none_accepted);
}

/* ---- hostile counters (issue 17) ------------------------------------------------------------- */

/* White-box: the counters a fresh mount starts from, as if flash had carried
 * them there (store_flash_t is the caller's memory; its fields are private). */
static void set_counters(uint32_t seq, uint32_t mid)
{
    st.next_seq = seq;
    st.next_mid = mid;
}

static void put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/* A CRC-valid record of any type and mid at the write head, written behind
 * the store's back (its RAM write position follows, as if it had written it). */
static void plant_record(uint8_t type, uint32_t mid, const uint8_t *payload, uint16_t len)
{
    assert_true(st.head >= 0 && st.align == 4u);
    uint32_t end = st.sec[st.head].end;
    uint8_t *p = &mem[g_ssize + (uint32_t)st.head * g_ssize + end];
    assert_true(p[0] == 0xFF && end + 16u + len + 3u <= g_ssize);
    p[0] = type;
    p[1] = 0;
    p[2] = (uint8_t)len;
    p[3] = (uint8_t)(len >> 8);
    put_le32(p + 4, mid);
    if (len)
        memcpy(p + 16, payload, len);
    put_le32(p + 8, crc32_update(0, p + 16, len));
    put_le32(p + 12, crc32_update(0, p, 12));
    st.sec[st.head].end = end + ((16u + len + 3u) & ~3u);
}

/* Finding 1: a sector stamped 0xFFFFFFFF, the next one 0 after the wrap. */
static void test_seq_wrap(void **state)
{
    (void)state;
    sim_setup(16, 1024, 1);
    mount_ok();
    set_counters(0xFFFFFFFFu, 1);
    for (uint32_t t = 1; t <= 6; t++)
        put_msg_ok(t, 1, 300, NULL);
    store_flash_stats_t fs;
    store_flash_stats(&st, &fs);
    assert_true(fs.sectors_used >= 2);   /* 0xFFFFFFFF, 0, ... */
    mount_ok();
    assert_int_equal(rep.recovered, 6);
    assert_int_equal(rep.bad_sectors, 0);
    for (uint32_t t = 1; t <= 6; t++)
        check_msg(find_msg(t), t, 1, 300);
    /* and it goes on from there: sealed after the remount, found after the next */
    put_msg_ok(7, 1, 300, NULL);
    mount_ok();
    assert_int_equal(rep.recovered, 7);
    check_msg(find_msg(7), 7, 1, 300);
}

/* Finding 2: a message ID 0xFFFFFFFF, from the store itself or from any
 * CRC-valid record on flash (even of a type nobody knows). */
static void test_mid_wrap(void **state)
{
    (void)state;
    set_counters(1, 0xFFFFFFFFu);
    put_msg_ok(1, 1, 200, NULL);   /* mid 0xFFFFFFFF */
    put_msg_ok(2, 1, 200, NULL);   /* the next one must not be 0 */
    mount_ok();
    assert_int_equal(rep.recovered, 2);
    check_msg(find_msg(1), 1, 1, 200);
    check_msg(find_msg(2), 2, 1, 200);

    sim_setup(16, 4096, 1);
    mount_ok();
    put_msg_ok(3, 1, 200, NULL);
    plant_record(0x7E, 0xFFFFFFFFu, NULL, 0);
    mount_ok();
    put_msg_ok(4, 2, 500, NULL);
    mount_ok();
    assert_int_equal(rep.recovered, 2);
    check_msg(find_msg(3), 3, 1, 200);
    check_msg(find_msg(4), 4, 2, 500);
}

/* A stray record with the ID of the next message (an ID reused after a wrap,
 * an ABORT that never reached flash) does not merge into it. */
static void test_mid_reused(void **state)
{
    (void)state;
    put_msg_ok(1, 1, 200, NULL);
    uint32_t next = st.next_mid;
    /* a body chunk of an abandoned message under the next ID, its ABORT lost */
    uint8_t chunk[4 + 10] = { 0 };
    plant_record(0x13, next, chunk, sizeof chunk);
    put_msg_ok(2, 1, 700, NULL);   /* gets that ID */
    check_msg(find_msg(2), 2, 1, 700);
    mount_ok();
    assert_int_equal(rep.recovered, 2);
    assert_int_equal(rep.damaged, 0);
    check_msg(find_msg(2), 2, 1, 700);
    /* compaction does not carry the stray chunk past the SENDER either */
    store_flash_stats_t fs;
    for (uint32_t t = 10;; t++) {
        store_handle_t h;
        put_msg_ok(t, 1, 1500, &h);
        assert_int_equal(ops->del(&st, h), STORE_OK);
        store_flash_stats(&st, &fs);
        if (fs.compactions >= 20)
            break;
    }
    check_msg(find_msg(2), 2, 1, 700);
    mount_ok();
    assert_int_equal(rep.damaged, 0);
    check_msg(find_msg(1), 1, 1, 200);
    check_msg(find_msg(2), 2, 1, 700);
}

/* The invariant: every message sealed before a cut or a remount is found
 * after it, whatever the counters start from (near 0, 2^31 and 2^32-1, so
 * that the scenario crosses each), at every program and erase. */
static void counters_cut_run(uint32_t seq0, uint32_t mid0)
{
    static const flash_sim_cut_t modes[] = { FLASH_SIM_CUT_BEFORE, FLASH_SIM_CUT_AFTER,
                                             FLASH_SIM_CUT_TORN };
    sc_l0 = 900;
    sim_setup(14, 1024, 1);
    mount_ok();
    set_counters(seq0, mid0);
    assert_int_equal(sc_run(), 0);
    uint32_t total = flash_sim_stats(&sim)->programs + flash_sim_stats(&sim)->erases;
    assert_true(st.next_seq - seq0 >= 12u);   /* enough sectors opened to cross */
    sc_verify(NULL, 0);
    mount_ok();
    sc_verify(NULL, 0);
    for (uint32_t op = 1; op <= total; op++) {
        for (size_t m = 0; m < sizeof modes / sizeof modes[0]; m++) {
            sim_setup(14, 1024, 1);
            mount_ok();
            set_counters(seq0, mid0);
            flash_sim_cut_arm(&sim, op, modes[m], 17);
            (void)sc_run();
            flash_sim_power_on(&sim);
            mount_ok();
            sc_verify(NULL, modes[m] == FLASH_SIM_CUT_TORN);
            sc_after();
        }
    }
}

static void test_counters_cut_every_op(void **state)
{
    (void)state;
    static const uint32_t start[][2] = {
        { 0u, 0u }, { 0x7FFFFFFAu, 0x7FFFFFF0u }, { 0xFFFFFFFAu, 0xFFFFFFF0u },
        { 0xFFFFFFFAu, 1u }, { 1u, 0xFFFFFFF0u },
    };
    for (size_t i = 0; i < sizeof start / sizeof start[0]; i++)
        counters_cut_run(start[i][0], start[i][1]);
}

/* Finding 3: format makes a sector of another version usable again, even a
 * blank one whose erase stamp is valid. */
static void test_format_other_version(void **state)
{
    (void)state;
    put_msg_ok(1, 1, 100, NULL);
    for (uint32_t s = 3; s <= 4; s++) {
        uint8_t *h = &mem[g_ssize + s * g_ssize];
        memset(h, 0xFF, g_ssize);
        put_le32(h, STORE_FLASH_MAGIC);
        h[4] = 2;   /* version 2 */
        h[5] = 0;
        h[6] = (uint8_t)STORE_FLASH_SECT_HDR;
        h[7] = 0;
        put_le32(h + 8, 5);
        put_le32(h + 12, crc32_update(0, h, 12));
        if (s == 4) {   /* and one in use, with an open stamp */
            memset(h + 16, 0, 12);
            put_le32(h + 28, crc32_update(0, h + 16, 12));
        }
    }
    assert_int_equal(store_flash_mount(&st, &part, NULL), STORE_ERR_STATE);
    assert_int_equal(store_flash_format(&part), STORE_OK);
    mount_ok();
    assert_int_equal(rep.blank, 1);
    put_msg_ok(2, 1, 100, NULL);
    mount_ok();
    check_msg(find_msg(2), 2, 1, 100);
    expect_guards_blank();
}

/* The CHUNK record of message msgid's body at offset boff, on the medium. */
static uint8_t *find_chunk_rec(uint32_t boff, uint32_t len)
{
    for (uint32_t s = 0; s < g_nsec; s++) {
        uint8_t *sec = &mem[g_ssize + s * g_ssize];
        for (uint32_t off = STORE_FLASH_SECT_HDR; off + 16u <= g_ssize;) {
            uint8_t *r = sec + off;
            uint32_t n = (uint32_t)r[2] | (uint32_t)r[3] << 8;
            if (r[0] == 0xFF)
                break;
            if (r[0] == 0x13 && n == 4u + len && (uint32_t)(r[16] | r[17] << 8 | r[18] << 16 | r[19] << 24) == boff)
                return r;
            off += (16u + n + 3u) & ~3u;
        }
    }
    return NULL;
}

/* Also (issue 17): a message whose chunks overlap or leave a gap, their sum
 * still equal to the COMMIT's size, is found damaged at mount, not at the
 * first read. */
static void test_chunk_overlap_gap(void **state)
{
    (void)state;
    static const int32_t shift[] = { -60, 40, -360, 360 };
    for (size_t i = 0; i < sizeof shift / sizeof shift[0]; i++) {
        sim_setup(16, 4096, 1);
        mount_ok();
        put_msg_ok(1, 1, 3 * 360, NULL);
        put_msg_ok(2, 1, 500, NULL);
        uint8_t *r = find_chunk_rec(360, 360);
        assert_non_null(r);
        put_le32(r + 16, (uint32_t)(360 + shift[i]));
        put_le32(r + 8, crc32_update(0, r + 16, 4 + 360));
        put_le32(r + 12, crc32_update(0, r, 12));
        mount_ok();
        assert_int_equal(rep.recovered, 1);
        assert_int_equal(rep.damaged, 1);
        assert_true(rep.discarded >= 6);   /* sender, rcpt, 3 chunks, commit */
        assert_int_equal(find_msg(1), STORE_HANDLE_NONE);
        check_msg(find_msg(2), 2, 1, 500);
    }
    /* out of body order but tiling (as compaction leaves them): fine */
    sim_setup(16, 4096, 1);
    mount_ok();
    put_msg_ok(1, 1, 3 * 360, NULL);
    uint8_t *a = find_chunk_rec(0, 360), *b = find_chunk_rec(720, 360);
    assert_non_null(a);
    assert_non_null(b);
    uint8_t tmp[16 + 4 + 360];
    memcpy(tmp, a, sizeof tmp);
    memcpy(a, b, sizeof tmp);
    memcpy(b, tmp, sizeof tmp);
    mount_ok();
    assert_int_equal(rep.damaged, 0);
    check_msg(find_msg(1), 1, 1, 3 * 360);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_blank_mount, setup),
        cmocka_unit_test_setup(test_geometry, setup),
        cmocka_unit_test_setup(test_round_trip, setup),
        cmocka_unit_test_setup(test_contract_across_remount, setup),
        cmocka_unit_test_setup(test_rcpt_updates, setup),
        cmocka_unit_test_setup(test_delete_reopen_clean, setup),
        cmocka_unit_test_setup(test_unsealed_dropped, setup),
        cmocka_unit_test_setup(test_full_store, setup),
        cmocka_unit_test_setup(test_full_worst_case, setup),
        cmocka_unit_test_setup(test_slots_full, setup),
        cmocka_unit_test_setup(test_compaction_wear, setup),
        cmocka_unit_test_setup(test_compaction_wear_prog16, setup),
        cmocka_unit_test_setup(test_board_geometry, setup),
        cmocka_unit_test_setup(test_bit_rot, setup),
        cmocka_unit_test_setup(test_format, setup),
        cmocka_unit_test_setup(test_other_version, setup),
        cmocka_unit_test_setup(test_power_cut_every_op, setup),
        cmocka_unit_test_setup(test_power_cut_every_op_prog16, setup),
        cmocka_unit_test_setup(test_write_errors, setup),
        cmocka_unit_test_setup(test_random_with_reboots, setup),
        cmocka_unit_test_setup(test_queue_on_flash, setup),
        cmocka_unit_test_setup(test_report_power_cut, setup),
        cmocka_unit_test_setup(test_seq_wrap, setup),
        cmocka_unit_test_setup(test_mid_wrap, setup),
        cmocka_unit_test_setup(test_mid_reused, setup),
        cmocka_unit_test_setup(test_counters_cut_every_op, setup),
        cmocka_unit_test_setup(test_format_other_version, setup),
        cmocka_unit_test_setup(test_chunk_overlap_gap, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
