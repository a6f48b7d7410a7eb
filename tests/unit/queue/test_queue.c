/* unit: firmware/queue/queue.c firmware/queue/store_ram.c firmware/queue/dsn.c firmware/lib/fmt.c firmware/lib/date.c */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "queue/queue.h"
#include "queue/store_ram.h"

/* ---- fakes ----------------------------------------------------------------- */

static uint32_t t_now;
static uint32_t fake_clock(void)
{
    return t_now;
}

typedef struct {
    int kind;
    uint32_t msgid;
    uint16_t rcpt;
} evrec_t;
static evrec_t evs[4096];
static int nev;

static void hook(int kind, uint32_t msgid, uint16_t rcpt)
{
    assert_true(nev < (int)(sizeof evs / sizeof evs[0]));
    evs[nev].kind = kind;
    evs[nev].msgid = msgid;
    evs[nev].rcpt = rcpt;
    nev++;
}

static int count_ev(int kind)
{
    int n = 0;
    for (int i = 0; i < nev; i++)
        n += evs[i].kind == kind;
    return n;
}

static const dsn_env_t env = { "relay.example.net", NULL, NULL, NULL, NULL };

/* key by domain: @p1 -> 1, @p2 -> 2, anything else -> no route */
static int match_calls;
static int match_domain(void *ctx, const char *addr)
{
    (void)ctx;
    match_calls++;
    const char *at = strrchr(addr, '@');
    if (!at)
        return -1;
    if (strcmp(at, "@p1") == 0)
        return 1;
    if (strcmp(at, "@p2") == 0)
        return 2;
    return -1;
}

static int setup(void **state)
{
    (void)state;
    t_now = 1000;
    nev = 0;
    match_calls = 0;
    store_ram_init();
    assert_int_equal(queue_init(&store_ram_ops, NULL, fake_clock), 0);
    queue_set_event_hook(hook);
    queue_set_dsn_env(&env);
    return 0;
}

static const char body[] =
    "From: Sender <s@example.com>\r\n"
    "Subject: test message\r\n"
    "Message-ID: <m1@example.com>\r\n"
    "\r\n"
    "Hello body\r\n";

/* Queue a message; rcpts NULL-terminated. */
static uint32_t put_msg(const char *sender, const char *const *rcpts, const char *data)
{
    queue_txn_t t;
    assert_int_equal(queue_txn_begin(sender, (uint32_t)strlen(data), 3, &t), QUEUE_OK);
    for (; *rcpts; rcpts++)
        assert_int_equal(queue_txn_add_rcpt(t, *rcpts), QUEUE_OK);
    assert_int_equal(queue_txn_append(t, data, strlen(data)), QUEUE_OK);
    uint32_t id = 0;
    assert_int_equal(queue_txn_commit(t, &id), QUEUE_OK);
    assert_true(id != 0);
    return id;
}

static size_t read_all(uint32_t msgid, char *buf, size_t size)
{
    size_t off = 0;
    for (;;) {
        assert_true(off < size);
        int n = queue_read(msgid, (uint32_t)off, buf + off, size - 1 - off < 37 ? size - 1 - off : 37);
        assert_true(n >= 0);
        if (n == 0)
            break;
        off += (size_t)n;
    }
    buf[off] = '\0';
    return off;
}

static int n_queued(void)
{
    queue_stats_t st;
    queue_stats(&st);
    return (int)st.messages;
}

/* The newest queued message id other than exclude (oldest-first foreach). */
static uint32_t last_id;
static int last_cb(void *ctx, const queue_msg_info_t *info)
{
    (void)ctx;
    last_id = info->msgid;
    return 0;
}
static uint32_t newest_msg(void)
{
    last_id = 0;
    queue_foreach(last_cb, NULL);
    return last_id;
}

/* ---- tests ------------------------------------------------------------------- */

static void test_concurrent_txns(void **state)
{
    (void)state;
    queue_txn_t t[QUEUE_MAX_TXN];
    for (int i = 0; i < QUEUE_MAX_TXN; i++)
        assert_int_equal(queue_txn_begin("a@x", 0, (uint8_t)i, &t[i]), QUEUE_OK);
    queue_txn_t extra;
    assert_int_equal(queue_txn_begin("a@x", 0, 0, &extra), QUEUE_ERR_FULL);
    queue_stats_t st;
    queue_stats(&st);
    assert_int_equal(st.open_txns, QUEUE_MAX_TXN);
    /* interleave */
    for (int i = 0; i < QUEUE_MAX_TXN; i++) {
        char r[32];
        snprintf(r, sizeof r, "r%d@p1", i);
        assert_int_equal(queue_txn_add_rcpt(t[i], r), QUEUE_OK);
    }
    for (int round = 0; round < 3; round++)
        for (int i = 0; i < QUEUE_MAX_TXN; i++) {
            char d[32];
            int n = snprintf(d, sizeof d, "msg%d-part%d\r\n", i, round);
            assert_int_equal(queue_txn_append(t[i], d, (size_t)n), QUEUE_OK);
        }
    uint32_t ids[QUEUE_MAX_TXN] = { 0 };
    for (int i = 0; i < QUEUE_MAX_TXN; i++) {
        if (i % 3 == 1) {
            queue_txn_abort(t[i]);
        } else {
            assert_int_equal(queue_txn_commit(t[i], &ids[i]), QUEUE_OK);
            for (int j = 0; j < i; j++)
                assert_true(ids[j] != ids[i]);
        }
    }
    /* slot freed: a new txn is possible again; old handles are dead */
    assert_int_equal(queue_txn_begin("a@x", 0, 0, &extra), QUEUE_OK);
    queue_txn_abort(extra);
    assert_int_equal(queue_txn_append(t[0], "x", 1), QUEUE_ERR_ARG);
    assert_int_equal(queue_txn_commit(t[1], NULL), QUEUE_ERR_ARG);
    queue_txn_abort(t[1]); /* harmless */

    for (int i = 0; i < QUEUE_MAX_TXN; i++) {
        if (i % 3 == 1)
            continue;
        char buf[256], exp[256];
        read_all(ids[i], buf, sizeof buf);
        snprintf(exp, sizeof exp, "msg%d-part0\r\nmsg%d-part1\r\nmsg%d-part2\r\n", i, i, i);
        assert_string_equal(buf, exp);
        queue_msg_info_t mi;
        assert_int_equal(queue_get_info(ids[i], &mi), QUEUE_OK);
        assert_int_equal(mi.src_netif, i);
        assert_int_equal(mi.nrcpt, 1);
        assert_int_equal(mi.n_pending, 1);
        assert_string_equal(mi.sender, "a@x");
    }
    queue_stats(&st);
    assert_int_equal(st.open_txns, 0);
    assert_int_equal(st.messages, 5);
    assert_int_equal(st.accepted, 5);
    assert_int_equal(st.store.open, 0);
    assert_int_equal(count_ev(QUEUE_EV_ACCEPTED), 5);
    /* the event names the arrival netif (event 1201 says "accepted on eth0") */
    for (int e = 0; e < nev; e++) {
        if (evs[e].kind != QUEUE_EV_ACCEPTED)
            continue;
        int i = 0;
        while (i < QUEUE_MAX_TXN && ids[i] != evs[e].msgid)
            i++;
        assert_true(i < QUEUE_MAX_TXN);
        assert_int_equal(evs[e].rcpt, i); /* txn i began on netif i */
    }
}

static void test_commit_abort_rules(void **state)
{
    (void)state;
    queue_stats_t st0, st;
    queue_stats(&st0);
    queue_txn_t t;
    /* abort leaves nothing */
    assert_int_equal(queue_txn_begin("a@x", 100, 0, &t), QUEUE_OK);
    assert_int_equal(queue_txn_add_rcpt(t, "b@p1"), QUEUE_OK);
    assert_int_equal(queue_txn_append(t, body, sizeof body - 1), QUEUE_OK);
    queue_txn_abort(t);
    queue_stats(&st);
    assert_memory_equal(&st.store, &st0.store, sizeof st.store);
    assert_int_equal(st.messages, 0);
    /* commit without recipients: error, nothing remains */
    assert_int_equal(queue_txn_begin("a@x", 0, 0, &t), QUEUE_OK);
    assert_int_equal(queue_txn_append(t, "x", 1), QUEUE_OK);
    assert_int_equal(queue_txn_commit(t, NULL), QUEUE_ERR_ARG);
    queue_stats(&st);
    assert_memory_equal(&st.store, &st0.store, sizeof st.store);
    assert_int_equal(st.open_txns, 0);
    /* argument checks */
    assert_int_equal(queue_txn_begin("a b@x", 0, 0, &t), QUEUE_ERR_ARG);
    assert_int_equal(queue_txn_begin("a\r\n@x", 0, 0, &t), QUEUE_ERR_ARG);
    assert_int_equal(queue_txn_begin("a@x", queue_max_size() + 1, 0, &t), QUEUE_ERR_TOOBIG);
    assert_int_equal(queue_txn_begin("", 0, 0, &t), QUEUE_OK);
    assert_int_equal(queue_txn_add_rcpt(t, ""), QUEUE_ERR_ARG);
    assert_int_equal(queue_txn_add_rcpt(t, "x\n@y"), QUEUE_ERR_ARG);
    char longa[QUEUE_ADDR_MAX + 2];
    memset(longa, 'a', sizeof longa - 1);
    longa[sizeof longa - 1] = '\0';
    assert_int_equal(queue_txn_add_rcpt(t, longa), QUEUE_ERR_ARG);
    for (int i = 0; i < QUEUE_MAX_RCPT; i++) {
        char r[32];
        snprintf(r, sizeof r, "r%d@p1", i);
        assert_int_equal(queue_txn_add_rcpt(t, r), QUEUE_OK);
    }
    assert_int_equal(queue_txn_add_rcpt(t, "one@toomany"), QUEUE_ERR_FULL);
    assert_int_equal(queue_txn_append(t, "data", 4), QUEUE_OK);
    assert_int_equal(queue_txn_add_rcpt(t, "late@p1"), QUEUE_ERR_STATE);
    uint32_t id;
    assert_int_equal(queue_txn_commit(t, &id), QUEUE_OK);
    queue_msg_info_t mi;
    assert_int_equal(queue_get_info(id, &mi), QUEUE_OK);
    assert_int_equal(mi.nrcpt, QUEUE_MAX_RCPT);
    assert_string_equal(mi.sender, "");
    assert_int_equal(queue_delete(id), QUEUE_OK);
    queue_stats(&st);
    assert_memory_equal(&st.store, &st0.store, sizeof st.store);
}

static void test_store_full_poisons_txn(void **state)
{
    (void)state;
    queue_stats_t st0, st;
    queue_stats(&st0);
    queue_txn_t t;
    assert_int_equal(queue_txn_begin("a@x", 0, 0, &t), QUEUE_OK);
    assert_int_equal(queue_txn_add_rcpt(t, "b@p1"), QUEUE_OK);
    static char blk[4096];
    memset(blk, 'z', sizeof blk);
    int rc;
    while ((rc = queue_txn_append(t, blk, sizeof blk)) == QUEUE_OK)
        ;
    assert_int_equal(rc, QUEUE_ERR_FULL);
    /* poisoned: even a byte that would fit fails, and so does commit */
    assert_int_equal(queue_txn_append(t, "x", 1), QUEUE_ERR_FULL);
    /* another session cannot start a big message meanwhile */
    queue_txn_t t2;
    assert_int_equal(queue_txn_begin("c@x", 8192, 0, &t2), QUEUE_ERR_FULL);
    assert_int_equal(queue_txn_commit(t, NULL), QUEUE_ERR_FULL);
    queue_stats(&st);
    assert_memory_equal(&st.store, &st0.store, sizeof st.store);
    assert_int_equal(st.messages, 0);
    assert_int_equal(st.open_txns, 0);
    assert_int_equal(count_ev(QUEUE_EV_ACCEPTED), 0);
}

/* queue_claim_key: only the asked destination, from any message, and other
 * recipients are left alone (no "no route" deferral). */
static void test_claim_key(void **state)
{
    (void)state;
    static const char *const r1[] = { "a@p1", "b@p2", "d@none", NULL };
    uint32_t id1 = put_msg("s@example.com", r1, body);
    static const char *const r2[] = { "e@p2", "f@p2", NULL };
    uint32_t id2 = put_msg("s@example.com", r2, body);
    static queue_batch_t b;
    assert_int_equal(queue_claim_key(t_now, match_domain, NULL, 2, &b), QUEUE_OK);
    assert_int_equal(b.key, 2);
    assert_true(b.msgid == id1 || b.msgid == id2);
    uint32_t first = b.msgid;
    assert_int_equal(queue_claim_key(t_now, match_domain, NULL, 2, &b), QUEUE_OK);
    assert_true(b.msgid != first && (b.msgid == id1 || b.msgid == id2));
    assert_int_equal(queue_claim_key(t_now, match_domain, NULL, 2, &b), QUEUE_ERR_NOTFOUND);
    queue_rcpt_info_t ri;
    assert_int_equal(queue_get_rcpt(id1, 0, &ri), QUEUE_OK);
    assert_int_equal(ri.state, QUEUE_RCPT_PENDING); /* the p1 recipient is untouched */
    assert_int_equal(queue_get_rcpt(id1, 2, &ri), QUEUE_OK);
    assert_int_equal(ri.state, QUEUE_RCPT_PENDING); /* no-route recipient not deferred here */
    assert_int_equal(queue_claim_key(t_now, match_domain, NULL, -1, &b), QUEUE_ERR_ARG);
}

static void test_claim_grouping(void **state)
{
    (void)state;
    static const char *const r1[] = { "a@p1", "b@p2", "c@p1", "d@none", NULL };
    uint32_t id1 = put_msg("s@example.com", r1, body);
    t_now += 5;
    static const char *const r2[] = { "e@p2", NULL };
    uint32_t id2 = put_msg("s@example.com", r2, body);
    static queue_batch_t b;

    assert_int_equal(queue_claim(t_now, match_domain, NULL, &b), QUEUE_OK);
    assert_int_equal(b.msgid, id1);
    assert_int_equal(b.key, 1);
    assert_int_equal(b.nrcpt, 2);
    assert_int_equal(b.rcpt[0], 0);
    assert_int_equal(b.rcpt[1], 2);
    assert_string_equal(b.sender, "s@example.com");
    assert_int_equal(b.size, sizeof body - 1);
    assert_int_equal(b.src_netif, 3);
    /* d@none deferred with "no route" */
    queue_rcpt_info_t ri;
    assert_int_equal(queue_get_rcpt(id1, 3, &ri), QUEUE_OK);
    assert_int_equal(ri.state, QUEUE_RCPT_DEFERRED);
    assert_string_equal(ri.reply_text, "no route");
    assert_int_equal(ri.next_retry, t_now + 60);
    assert_int_equal(count_ev(QUEUE_EV_DEFERRED), 1);
    assert_int_equal(queue_get_rcpt(id1, 0, &ri), QUEUE_OK);
    assert_int_equal(ri.state, QUEUE_RCPT_INFLIGHT);

    /* same message, other destination */
    assert_int_equal(queue_claim(t_now, match_domain, NULL, &b), QUEUE_OK);
    assert_int_equal(b.msgid, id1);
    assert_int_equal(b.key, 2);
    assert_int_equal(b.nrcpt, 1);
    assert_int_equal(b.rcpt[0], 1);
    /* then the younger message */
    assert_int_equal(queue_claim(t_now, match_domain, NULL, &b), QUEUE_OK);
    assert_int_equal(b.msgid, id2);
    assert_int_equal(b.nrcpt, 1);
    assert_int_equal(b.rcpt[0], 0);
    assert_int_equal(queue_claim(t_now, match_domain, NULL, &b), QUEUE_ERR_NOTFOUND);
    assert_int_equal(queue_next_due(t_now), 60);

    queue_msg_info_t mi;
    assert_int_equal(queue_get_info(id1, &mi), QUEUE_OK);
    assert_int_equal(mi.n_inflight, 3);
    assert_int_equal(mi.n_deferred, 1);
    assert_int_equal(mi.age, 5);
}

static void test_unroutable_message_skipped(void **state)
{
    (void)state;
    static const char *const r1[] = { "x@none", "y@none", NULL };
    static const char *const r2[] = { "z@p2", NULL };
    uint32_t id1 = put_msg("s@x", r1, body);
    uint32_t id2 = put_msg("s@x", r2, body);
    static queue_batch_t b;
    assert_int_equal(queue_claim(t_now, match_domain, NULL, &b), QUEUE_OK);
    assert_int_equal(b.msgid, id2);
    queue_msg_info_t mi;
    assert_int_equal(queue_get_info(id1, &mi), QUEUE_OK);
    assert_int_equal(mi.n_deferred, 2);
    assert_int_equal(mi.next_due, 60);
    assert_int_equal(queue_claim(t_now, match_domain, NULL, &b), QUEUE_ERR_NOTFOUND);
    /* still unroutable after the lifetime: expired by claim itself, one DSN */
    queue_set_retry(0, 0, 100);
    t_now += 200;
    assert_int_equal(queue_claim(t_now, match_domain, NULL, &b), QUEUE_ERR_NOTFOUND);
    assert_int_equal(count_ev(QUEUE_EV_EXPIRED), 2);
    assert_int_equal(queue_get_info(id1, NULL), QUEUE_ERR_NOTFOUND);
    assert_int_equal(count_ev(QUEUE_EV_BOUNCED), 1);
    assert_int_equal(n_queued(), 2);  /* id2 (in flight) and the DSN (deferred, no route) */
}

static void test_inflight_not_reclaimed(void **state)
{
    (void)state;
    static const char *const r[] = { "a@p1", "b@p1", NULL };
    uint32_t id = put_msg("s@x", r, body);
    static queue_batch_t b;
    assert_int_equal(queue_claim(t_now, match_domain, NULL, &b), QUEUE_OK);
    assert_int_equal(b.nrcpt, 2);
    int calls = match_calls;
    /* not claimable again, not even much later */
    assert_int_equal(queue_claim(t_now + 100000, match_domain, NULL, &b), QUEUE_ERR_NOTFOUND);
    assert_int_equal(match_calls, calls);
    assert_int_equal(queue_next_due(t_now), QUEUE_NEVER);
    /* not expired while in flight, not deletable, not flushed */
    queue_tick(t_now + QUEUE_LIFETIME_S + 10);
    assert_int_equal(count_ev(QUEUE_EV_EXPIRED), 0);
    assert_int_equal(queue_delete(id), QUEUE_ERR_BUSY);
    assert_int_equal(queue_flush(id), 0);
    /* results only for in-flight recipients */
    assert_int_equal(queue_rcpt_result(id, 0, 250, "2.0.0", "ok", t_now), QUEUE_OK);
    assert_int_equal(queue_rcpt_result(id, 0, 250, "2.0.0", "ok", t_now), QUEUE_ERR_STATE);
    assert_int_equal(queue_rcpt_result(id, 7, 250, "2.0.0", "ok", t_now), QUEUE_ERR_NOTFOUND);
    /* release returns b to PENDING without counting an attempt */
    assert_int_equal(queue_release(id), QUEUE_OK);
    queue_rcpt_info_t ri;
    assert_int_equal(queue_get_rcpt(id, 1, &ri), QUEUE_OK);
    assert_int_equal(ri.state, QUEUE_RCPT_PENDING);
    assert_int_equal(ri.attempts, 0);
    assert_int_equal(queue_next_due(t_now), 0);
    assert_int_equal(queue_claim(t_now, match_domain, NULL, &b), QUEUE_OK);
    assert_int_equal(b.nrcpt, 1);
    assert_int_equal(b.rcpt[0], 1);
    assert_int_equal(queue_rcpt_result(id, 1, 250, NULL, NULL, t_now), QUEUE_OK);
    /* all delivered: removed, no DSN */
    assert_int_equal(queue_get_info(id, NULL), QUEUE_ERR_NOTFOUND);
    assert_int_equal(n_queued(), 0);
    assert_int_equal(count_ev(QUEUE_EV_DELIVERED), 2);
    assert_int_equal(count_ev(QUEUE_EV_BOUNCED), 0);
}

static void test_backoff(void **state)
{
    (void)state;
    static const char *const r[] = { "a@p1", NULL };
    uint32_t id = put_msg("s@x", r, body);
    static const uint32_t exp[] = { 60, 120, 240, 480, 960, 1920, 3600, 3600, 3600 };
    static queue_batch_t b;
    uint32_t first = t_now;
    for (size_t i = 0; i < sizeof exp / sizeof exp[0]; i++) {
        assert_int_equal(queue_next_due(t_now), 0);
        assert_int_equal(queue_claim(t_now, match_domain, NULL, &b), QUEUE_OK);
        assert_int_equal(queue_rcpt_result(id, 0, i % 2 ? 0 : 451, "4.7.1", "greylisted", t_now),
                         QUEUE_OK);
        queue_rcpt_info_t ri;
        assert_int_equal(queue_get_rcpt(id, 0, &ri), QUEUE_OK);
        assert_int_equal(ri.state, QUEUE_RCPT_DEFERRED);
        assert_int_equal(ri.attempts, i + 1);
        assert_int_equal(ri.next_retry, t_now + exp[i]);
        assert_int_equal(ri.first_attempt, first);
        assert_int_equal(ri.last_attempt, t_now);
        assert_int_equal(ri.reply_code, i % 2 ? 0 : 451);
        assert_int_equal(queue_next_due(t_now), exp[i]);
        assert_int_equal(queue_claim(t_now + exp[i] - 1, match_domain, NULL, &b), QUEUE_ERR_NOTFOUND);
        t_now += exp[i];
    }
    queue_stats_t st;
    queue_stats(&st);
    assert_int_equal(st.deferred, 9);
    assert_int_equal(count_ev(QUEUE_EV_DEFERRED), 9);

    /* runtime policy */
    queue_set_retry(10, 25, 0);
    assert_int_equal(queue_claim(t_now, match_domain, NULL, &b), QUEUE_OK);
    assert_int_equal(queue_rcpt_result(id, 0, 421, NULL, "bye", t_now), QUEUE_OK);
    queue_rcpt_info_t ri;
    assert_int_equal(queue_get_rcpt(id, 0, &ri), QUEUE_OK);
    assert_int_equal(ri.next_retry, t_now + 25);
}

static void test_bad_reply_text_sanitised(void **state)
{
    (void)state;
    static const char *const r[] = { "a@p1", NULL };
    uint32_t id = put_msg("s@x", r, body);
    static queue_batch_t b;
    assert_int_equal(queue_claim(t_now, match_domain, NULL, &b), QUEUE_OK);
    char longt[200];
    memset(longt, 'q', sizeof longt - 1);
    longt[sizeof longt - 1] = '\0';
    longt[3] = '\r';
    longt[4] = '\n';
    assert_int_equal(queue_rcpt_result(id, 0, 450, "4.x.1", longt, t_now), QUEUE_OK);
    queue_rcpt_info_t ri;
    assert_int_equal(queue_get_rcpt(id, 0, &ri), QUEUE_OK);
    assert_int_equal(strlen(ri.reply_text), STORE_REPLY_TEXT_MAX);
    assert_null(strpbrk(ri.reply_text, "\r\n"));
    assert_string_equal(ri.reply_enh, "");
}

/* Find the DSN (null-sender message) and return its id. */
static uint32_t find_dsn(void)
{
    uint32_t id = newest_msg();
    assert_true(id != 0);
    queue_msg_info_t mi;
    assert_int_equal(queue_get_info(id, &mi), QUEUE_OK);
    assert_string_equal(mi.sender, "");
    return id;
}

static void test_5xx_one_dsn(void **state)
{
    (void)state;
    static const char *const r[] = { "ok1@p1", "bad@p1", "ok2@p1", NULL };
    uint32_t id = put_msg("s@example.com", r, body);
    static queue_batch_t b;
    assert_int_equal(queue_claim(t_now, match_domain, NULL, &b), QUEUE_OK);
    assert_int_equal(b.nrcpt, 3);
    assert_int_equal(queue_rcpt_result(id, 0, 250, "2.0.0", "ok", t_now), QUEUE_OK);
    assert_int_equal(queue_rcpt_result(id, 1, 550, "5.1.1", "User unknown", t_now), QUEUE_OK);
    /* not finished yet: no DSN before every recipient is final */
    assert_int_equal(count_ev(QUEUE_EV_BOUNCED), 0);
    assert_int_equal(n_queued(), 1);
    assert_int_equal(queue_rcpt_result(id, 2, 250, "2.0.0", "ok", t_now), QUEUE_OK);
    assert_int_equal(count_ev(QUEUE_EV_FAILED), 1);
    assert_int_equal(count_ev(QUEUE_EV_BOUNCED), 1);
    assert_int_equal(n_queued(), 1);
    assert_int_equal(queue_get_info(id, NULL), QUEUE_ERR_NOTFOUND);

    uint32_t dsn = find_dsn();
    assert_true(dsn != id);
    queue_msg_info_t mi;
    assert_int_equal(queue_get_info(dsn, &mi), QUEUE_OK);
    assert_int_equal(mi.nrcpt, 1);
    assert_int_equal(mi.src_netif, QUEUE_NETIF_LOCAL);
    queue_rcpt_info_t ri;
    assert_int_equal(queue_get_rcpt(dsn, 0, &ri), QUEUE_OK);
    assert_string_equal(ri.address, "s@example.com");
    static char txt[16384];
    size_t n = read_all(dsn, txt, sizeof txt);
    assert_int_equal(n, mi.size);
    assert_non_null(strstr(txt, "From: Mail Delivery System <MAILER-DAEMON@relay.example.net>\r\n"));
    assert_non_null(strstr(txt, "To: <s@example.com>\r\n"));
    assert_non_null(strstr(txt, "Auto-Submitted: auto-replied\r\n"));
    assert_non_null(strstr(txt, "report-type=delivery-status"));
    assert_non_null(strstr(txt, "Reporting-MTA: dns; relay.example.net\r\n"));
    assert_non_null(strstr(txt, "\r\nFinal-Recipient: rfc822; bad@p1\r\nAction: failed\r\n"
                                "Status: 5.1.1\r\nDiagnostic-Code: smtp; 550 5.1.1 User unknown\r\n"));
    assert_null(strstr(txt, "ok1@p1"));
    assert_null(strstr(txt, "ok2@p1"));
    assert_non_null(strstr(txt, "Content-Type: text/rfc822-headers\r\n"));
    assert_non_null(strstr(txt, "\r\nSubject: test message\r\n"));
    assert_null(strstr(txt, "Hello body"));
    char idhex[16];
    snprintf(idhex, sizeof idhex, "%08X", id);
    assert_non_null(strstr(txt, idhex));
    /* CRLF only */
    for (size_t i = 0; i < n; i++) {
        if (txt[i] == '\n')
            assert_true(i > 0 && txt[i - 1] == '\r');
        if (txt[i] == '\r')
            assert_true(txt[i + 1] == '\n');
    }
    queue_stats_t st;
    queue_stats(&st);
    assert_int_equal(st.bounced, 1);
    assert_int_equal(st.failed, 1);
    assert_int_equal(st.delivered, 2);
    assert_int_equal(st.accepted, 2);

    /* the DSN is an ordinary queued message: s@example.com has no route here */
    assert_int_equal(queue_claim(t_now, match_domain, NULL, &b), QUEUE_ERR_NOTFOUND);
    assert_int_equal(queue_get_rcpt(dsn, 0, &ri), QUEUE_OK);
    assert_int_equal(ri.state, QUEUE_RCPT_DEFERRED);
    assert_string_equal(ri.reply_text, "no route");
}

static int route_all(void *ctx, const char *addr)
{
    (void)ctx;
    (void)addr;
    return 0;
}

static void test_no_dsn_to_null_sender(void **state)
{
    (void)state;
    static const char *const r[] = { "bad@p1", NULL };
    uint32_t id = put_msg("", r, body);
    static queue_batch_t b;
    assert_int_equal(queue_claim(t_now, route_all, NULL, &b), QUEUE_OK);
    assert_int_equal(queue_rcpt_result(id, 0, 550, "5.1.1", "nope", t_now), QUEUE_OK);
    assert_int_equal(n_queued(), 0);
    assert_int_equal(count_ev(QUEUE_EV_BOUNCED), 0);
    assert_int_equal(count_ev(QUEUE_EV_FAILED), 1);

    /* a generated DSN that bounces is dropped silently as well */
    static const char *const r2[] = { "bad@p1", NULL };
    id = put_msg("sender@p2", r2, body);
    assert_int_equal(queue_claim(t_now, route_all, NULL, &b), QUEUE_OK);
    assert_int_equal(queue_rcpt_result(id, 0, 554, NULL, "rejected", t_now), QUEUE_OK);
    uint32_t dsn = find_dsn();
    assert_int_equal(queue_claim(t_now, route_all, NULL, &b), QUEUE_OK);
    assert_int_equal(b.msgid, dsn);
    assert_string_equal(b.sender, "");
    assert_int_equal(queue_rcpt_result(dsn, 0, 550, "5.1.1", "no such sender", t_now), QUEUE_OK);
    assert_int_equal(n_queued(), 0);
    assert_int_equal(count_ev(QUEUE_EV_BOUNCED), 1);
}

static void test_lifetime_expiry(void **state)
{
    (void)state;
    queue_set_retry(60, 3600, 1000);
    static const char *const r[] = { "slow@p1", "never@p2", NULL };
    uint32_t id = put_msg("s@example.com", r, body);
    uint32_t arrival = t_now;
    static queue_batch_t b;
    assert_int_equal(queue_claim(t_now, match_domain, NULL, &b), QUEUE_OK);
    assert_int_equal(b.key, 1);
    /* 4xx within the lifetime: deferred */
    assert_int_equal(queue_rcpt_result(id, 0, 451, "4.7.1", "later", t_now), QUEUE_OK);
    t_now = arrival + 1001;
    /* 4xx after the lifetime: failed 4.4.7 */
    assert_int_equal(queue_claim(t_now, match_domain, NULL, &b), QUEUE_OK);
    uint16_t got = b.rcpt[0];
    assert_int_equal(queue_rcpt_result(id, got, 421, "4.4.2", "timeout", t_now), QUEUE_OK);
    assert_int_equal(count_ev(QUEUE_EV_EXPIRED), 1);
    queue_rcpt_info_t ri;
    assert_int_equal(queue_get_rcpt(id, got, &ri), QUEUE_OK);
    assert_int_equal(ri.state, QUEUE_RCPT_FAILED);
    assert_int_equal(ri.expired, 1);
    /* tick expires the other one (not in flight) */
    uint16_t other = got == 0 ? 1 : 0;
    queue_rcpt_info_t ro;
    assert_int_equal(queue_get_rcpt(id, other, &ro), QUEUE_OK);
    if (ro.state == QUEUE_RCPT_INFLIGHT)
        assert_int_equal(queue_release(id), QUEUE_OK);
    /* issue 14: the expired one is reported at once, not when the message ends */
    assert_int_equal(count_ev(QUEUE_EV_BOUNCED), 1);
    uint32_t dsn1 = find_dsn();
    static char txt[16384];
    read_all(dsn1, txt, sizeof txt);
    assert_non_null(strstr(txt, "Final-Recipient: rfc822; slow@p1\r\nAction: failed\r\nStatus: 4.4.7\r\n"));
    assert_null(strstr(txt, "never@p2"));
    queue_tick(t_now);
    assert_int_equal(count_ev(QUEUE_EV_EXPIRED), 2);
    assert_int_equal(queue_get_info(id, NULL), QUEUE_ERR_NOTFOUND);
    assert_int_equal(count_ev(QUEUE_EV_BOUNCED), 2);
    uint32_t dsn = find_dsn();
    read_all(dsn, txt, sizeof txt);
    assert_non_null(strstr(txt, "Final-Recipient: rfc822; never@p2\r\nAction: failed\r\nStatus: 4.4.7\r\n"));
    assert_null(strstr(txt, "slow@p1"));  /* reported exactly once */
    queue_stats_t st;
    queue_stats(&st);
    assert_int_equal(st.expired, 2);
    assert_int_equal(st.bounced, 2);
}

static void test_tick_expires_pending(void **state)
{
    (void)state;
    static const char *const r[] = { "a@p1", NULL };
    uint32_t id = put_msg("s@example.com", r, body);
    t_now += QUEUE_LIFETIME_S;
    queue_tick(t_now);  /* age == lifetime: not yet */
    assert_int_equal(count_ev(QUEUE_EV_EXPIRED), 0);
    t_now++;
    queue_tick(t_now);
    assert_int_equal(count_ev(QUEUE_EV_EXPIRED), 1);
    assert_int_equal(queue_get_info(id, NULL), QUEUE_ERR_NOTFOUND);
    assert_int_equal(count_ev(QUEUE_EV_BOUNCED), 1);
    assert_int_equal(n_queued(), 1);
}

static void test_flush_and_delete(void **state)
{
    (void)state;
    static const char *const r[] = { "a@p1", "b@p2", NULL };
    uint32_t id = put_msg("s@x", r, body);
    uint32_t id2 = put_msg("s@x", r, body);
    static queue_batch_t b;
    for (int i = 0; i < 4; i++) {
        assert_int_equal(queue_claim(t_now, match_domain, NULL, &b), QUEUE_OK);
        for (uint16_t k = 0; k < b.nrcpt; k++)
            assert_int_equal(queue_rcpt_result(b.msgid, b.rcpt[k], 452, NULL, "full", t_now), QUEUE_OK);
    }
    assert_int_equal(queue_claim(t_now, match_domain, NULL, &b), QUEUE_ERR_NOTFOUND);
    assert_int_equal(queue_flush(id), 2);
    assert_int_equal(queue_next_due(t_now), 0);
    assert_int_equal(queue_claim(t_now, match_domain, NULL, &b), QUEUE_OK);
    assert_int_equal(b.msgid, id);
    assert_int_equal(queue_release(id), QUEUE_OK);
    assert_int_equal(queue_flush(QUEUE_ALL), 2);  /* id2's two; id's are due already */
    assert_int_equal(queue_flush(0x7777), QUEUE_ERR_NOTFOUND);
    /* delete */
    queue_stats_t st;
    queue_stats(&st);
    uint32_t used = st.store.used;
    assert_int_equal(queue_delete(id), QUEUE_OK);
    assert_int_equal(queue_delete(id), QUEUE_ERR_NOTFOUND);
    assert_int_equal(queue_read(id, 0, &st, 1), QUEUE_ERR_NOTFOUND);
    queue_stats(&st);
    assert_true(st.store.used < used);
    assert_int_equal(st.messages, 1);
    assert_int_equal(queue_delete(id2), QUEUE_OK);
    queue_stats(&st);
    assert_int_equal(st.store.used, 0);
    assert_int_equal(count_ev(QUEUE_EV_BOUNCED), 0);
}

typedef struct {
    uint32_t ids[8];
    int n;
    int del_first;
} fe_t;

static int fe_cb(void *ctx, const queue_msg_info_t *info)
{
    fe_t *f = ctx;
    f->ids[f->n++] = info->msgid;
    if (f->del_first && f->n == 1) {
        assert_int_equal(queue_delete(info->msgid), QUEUE_OK);
        queue_rcpt_info_t ri;
        assert_int_equal(queue_get_rcpt(info->msgid, 0, &ri), QUEUE_ERR_NOTFOUND);
    }
    return f->n == 8;
}

static void test_foreach_info_stats(void **state)
{
    (void)state;
    static const char *const r[] = { "a@p1", NULL };
    uint32_t ids[3];
    for (int i = 0; i < 3; i++) {
        ids[i] = put_msg("s@x", r, body);
        t_now += 10;
    }
    fe_t f = { { 0 }, 0, 0 };
    assert_int_equal(queue_foreach(fe_cb, &f), 3);
    for (int i = 0; i < 3; i++)
        assert_int_equal(f.ids[i], ids[i]);
    queue_msg_info_t mi;
    assert_int_equal(queue_get_info(ids[0], &mi), QUEUE_OK);
    assert_int_equal(mi.age, 30);
    assert_int_equal(mi.size, sizeof body - 1);
    assert_int_equal(mi.next_due, 0);
    char hex[16];
    snprintf(hex, sizeof hex, "%08X", mi.msgid);
    assert_int_equal(strlen(hex), 8);
    /* deleting during iteration is safe */
    fe_t g = { { 0 }, 0, 1 };
    assert_int_equal(queue_foreach(fe_cb, &g), 3);
    assert_int_equal(n_queued(), 2);
    queue_stats_t st;
    queue_stats(&st);
    assert_int_equal(st.messages, 2);
    assert_int_equal(st.bytes, 2 * (sizeof body - 1));
    assert_int_equal(st.accepted, 3);
    assert_true(st.store.live > st.bytes);
    assert_int_equal(st.store.msgs, 2);
}

static void test_reboot_recovery(void **state)
{
    (void)state;
    static const char *const r[] = { "a@p1", "b@p2", NULL };
    t_now = 500000;
    uint32_t id1 = put_msg("s@x", r, body);
    t_now += 10;
    uint32_t id2 = put_msg("s@x", r, body);
    static queue_batch_t b;
    assert_int_equal(queue_claim(t_now, match_domain, NULL, &b), QUEUE_OK);
    assert_int_equal(queue_rcpt_result(id1, 0, 451, NULL, "later", t_now), QUEUE_OK);
    assert_int_equal(queue_claim(t_now, match_domain, NULL, &b), QUEUE_OK);  /* id1 b@p2 in flight */
    queue_txn_t t;
    assert_int_equal(queue_txn_begin("x@y", 0, 0, &t), QUEUE_OK);
    assert_int_equal(queue_txn_add_rcpt(t, "z@p1"), QUEUE_OK);
    /* "reboot": clock restarts, queue rebuilt from the store */
    t_now = 20;
    assert_int_equal(queue_init(&store_ram_ops, NULL, fake_clock), 2);
    queue_set_event_hook(hook);
    queue_stats_t st;
    queue_stats(&st);
    assert_int_equal(st.store.open, 0);
    assert_int_equal(st.messages, 2);
    fe_t f = { { 0 }, 0, 0 };
    assert_int_equal(queue_foreach(fe_cb, &f), 2);
    assert_int_equal(f.ids[0], id1);
    assert_int_equal(f.ids[1], id2);
    queue_msg_info_t mi;
    assert_int_equal(queue_get_info(id1, &mi), QUEUE_OK);
    assert_int_equal(mi.age, 0);          /* rebased */
    assert_int_equal(mi.n_inflight, 0);   /* in-flight is RAM only */
    assert_int_equal(mi.n_deferred, 1);
    assert_int_equal(mi.n_pending, 1);
    assert_int_equal(mi.next_due, 0);     /* stale retry time from the old clock */
    /* both recipients of id1 claimable again, then id2 */
    int seen1 = 0;
    while (queue_claim(t_now, match_domain, NULL, &b) == QUEUE_OK) {
        if (b.msgid == id1)
            seen1 += b.nrcpt;
        for (uint16_t k = 0; k < b.nrcpt; k++)
            assert_int_equal(queue_rcpt_result(b.msgid, b.rcpt[k], 250, NULL, NULL, t_now), QUEUE_OK);
    }
    assert_int_equal(seen1, 2);
    assert_int_equal(n_queued(), 0);
    /* new ids do not collide with recovered ones */
    uint32_t id3 = put_msg("s@x", r, body);
    assert_true(id3 > id2);
    /* the dead txn handle from before the reboot is rejected */
    assert_int_equal(queue_txn_append(t, "x", 1), QUEUE_ERR_ARG);
}

static void test_recovered_finished_message(void **state)
{
    (void)state;
    /* power cut after the last result but before the delete */
    static const char *const r[] = { "a@p1", NULL };
    uint32_t id = put_msg("s@x", r, body);
    static queue_batch_t b;
    assert_int_equal(queue_claim(t_now, match_domain, NULL, &b), QUEUE_OK);
    /* write the final state directly into the store, as a crash would leave it */
    store_handle_t h = STORE_HANDLE_NONE;
    assert_int_equal(store_ram_ops.next(NULL, h, &h), STORE_OK);
    store_rcpt_t rc;
    assert_int_equal(store_ram_ops.rcpt_get(NULL, h, 0, &rc), STORE_OK);
    rc.st.state = STORE_RCPT_FAILED;
    rc.st.reply_code = 550;
    assert_int_equal(store_ram_ops.rcpt_update(NULL, h, 0, &rc.st), STORE_OK);
    assert_int_equal(queue_init(&store_ram_ops, NULL, fake_clock), 1);
    queue_set_event_hook(hook);
    assert_int_equal(queue_get_info(id, NULL), QUEUE_ERR_ARG);
    queue_tick(t_now);
    assert_int_equal(queue_get_info(id, NULL), QUEUE_ERR_NOTFOUND);
    assert_int_equal(count_ev(QUEUE_EV_BOUNCED), 1);
    assert_int_equal(n_queued(), 1);
}

static void test_dsn_dropped_when_full(void **state)
{
    (void)state;
    static const char *const r[] = { "a@p1", NULL };
    uint32_t id = put_msg("s@x", r, body);
    static queue_batch_t b;
    assert_int_equal(queue_claim(t_now, match_domain, NULL, &b), QUEUE_OK);
    /* fill the store with an open transaction */
    queue_txn_t t;
    assert_int_equal(queue_txn_begin("f@x", 0, 0, &t), QUEUE_OK);
    assert_int_equal(queue_txn_add_rcpt(t, "z@p1"), QUEUE_OK);
    static char blk[512];
    memset(blk, 'f', sizeof blk);
    while (queue_txn_append(t, blk, sizeof blk) == QUEUE_OK)
        ;
    assert_int_equal(queue_rcpt_result(id, 0, 550, "5.1.1", "nope", t_now), QUEUE_OK);
    assert_int_equal(count_ev(QUEUE_EV_DSN_DROPPED), 1);
    assert_int_equal(count_ev(QUEUE_EV_BOUNCED), 0);
    assert_int_equal(queue_get_info(id, NULL), QUEUE_ERR_NOTFOUND);
    queue_txn_abort(t);
    queue_stats_t st;
    queue_stats(&st);
    assert_int_equal(st.messages, 0);
    assert_int_equal(st.dsn_dropped, 1);
    assert_int_equal(st.store.used, 0);
}

static void test_fill_drain_cycles(void **state)
{
    (void)state;
    static char big[3000];
    memset(big, 'm', sizeof big);
    big[sizeof big - 1] = '\0';
    static const char *const r[] = { "a@p1", NULL };
    static queue_batch_t b;
    for (int cycle = 0; cycle < 20; cycle++) {
        int n = 0;
        for (;;) {
            queue_txn_t t;
            int rc = queue_txn_begin("s@x", sizeof big, 0, &t);
            if (rc == QUEUE_ERR_FULL)
                break;
            assert_int_equal(rc, QUEUE_OK);
            assert_int_equal(queue_txn_add_rcpt(t, r[0]), QUEUE_OK);
            rc = queue_txn_append(t, big, strlen(big));
            if (rc != QUEUE_OK) {
                assert_int_equal(rc, QUEUE_ERR_FULL);
                queue_txn_abort(t);
                break;
            }
            assert_int_equal(queue_txn_commit(t, NULL), QUEUE_OK);
            n++;
        }
        assert_true(n >= 30);
        while (queue_claim(t_now, match_domain, NULL, &b) == QUEUE_OK)
            assert_int_equal(queue_rcpt_result(b.msgid, b.rcpt[0], 250, NULL, NULL, t_now), QUEUE_OK);
        queue_stats_t st;
        queue_stats(&st);
        assert_int_equal(st.messages, 0);
        assert_int_equal(st.store.used, 0);
    }
}

/* ---- issue 14: prompt, complete, RFC 3461 ------------------------------------ */

static uint32_t put_msg_dsn(const char *sender, uint8_t ret, const char *envid,
                            const char *const *rcpts, const uint8_t *notify,
                            const char *const *orcpt)
{
    queue_txn_t t;
    assert_int_equal(queue_txn_begin_dsn(sender, 0, 3, ret, envid, envid ? strlen(envid) : 0, &t),
                     QUEUE_OK);
    for (int i = 0; rcpts[i]; i++)
        assert_int_equal(queue_txn_add_rcpt_dsn(t, rcpts[i], notify ? notify[i] : 0,
                                                orcpt && orcpt[i] ? orcpt[i] : NULL,
                                                orcpt && orcpt[i] ? strlen(orcpt[i]) : 0),
                         QUEUE_OK);
    assert_int_equal(queue_txn_append(t, body, strlen(body)), QUEUE_OK);
    uint32_t id = 0;
    assert_int_equal(queue_txn_commit(t, &id), QUEUE_OK);
    return id;
}

static int count_str(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
        n++;
    return n;
}

/* The scenario: accepted, 450, 550 in one attempt.  The 550 is
 * reported right after that attempt (not when the 450 one finishes),
 * with Remote-MTA, the whole reply and Original-Recipient; exactly once. */
static void test_prompt_failure_report(void **state)
{
    (void)state;
    static const char *const r[] = { "ok@p1", "later@p1", "bad@p1", NULL };
    static const char *const o[] = { NULL, NULL, "rfc822;Bad+2BTag@p1" };
    uint32_t id = put_msg_dsn("s@example.com", STORE_RET_NONE, "ENV+2B1", r, NULL, o);
    static queue_batch_t b;
    assert_int_equal(queue_claim(t_now, match_domain, NULL, &b), QUEUE_OK);
    assert_int_equal(b.nrcpt, 3);
    static const char reply[] =
        "<bad@p1>: Recipient address rejected: <bad@p1>: Recipient address rejected by the "
        "smarthost's check_recipient_access table, see its administrator for why";
    queue_result_t ok = { 250, "2.0.0", "Ok: queued as 1", "[192.0.2.10]", 1 };
    queue_result_t tmp = { 450, "4.7.1", "try later", "[192.0.2.10]", 1 };
    queue_result_t bad = { 550, "5.1.1", reply, "[192.0.2.10]", 1 };
    assert_int_equal(queue_rcpt_result_ex(id, 0, &ok, t_now), QUEUE_OK);
    assert_int_equal(queue_rcpt_result_ex(id, 1, &tmp, t_now), QUEUE_OK);
    assert_int_equal(count_ev(QUEUE_EV_BOUNCED), 0);  /* the attempt is not over yet */
    assert_int_equal(queue_rcpt_result_ex(id, 2, &bad, t_now), QUEUE_OK);
    assert_int_equal(count_ev(QUEUE_EV_BOUNCED), 1);   /* at once, the 450 one still queued */
    queue_msg_info_t mi;
    assert_int_equal(queue_get_info(id, &mi), QUEUE_OK);
    assert_int_equal(mi.n_deferred, 1);
    queue_rcpt_info_t ri;
    assert_int_equal(queue_get_rcpt(id, 2, &ri), QUEUE_OK);
    assert_int_equal(ri.reported, 1);
    assert_string_equal(ri.remote, "[192.0.2.10]");
    assert_string_equal(ri.reply_text, reply);  /* not cut */
    uint32_t dsn = find_dsn();
    static char txt[16384];
    read_all(dsn, txt, sizeof txt);
    assert_non_null(strstr(txt, "Original-Envelope-Id: ENV+1\r\n"));
    assert_non_null(strstr(txt, "Original-Recipient: rfc822; Bad+Tag@p1\r\n"
                                "Final-Recipient: rfc822; bad@p1\r\nAction: failed\r\nStatus: 5.1.1\r\n"
                                "Remote-MTA: dns; [192.0.2.10]\r\nDiagnostic-Code: smtp; 550 5.1.1 <bad@p1>:"));
    /* folded, never cut: unfolding (CRLF removed) gives the reply back */
    char *d = strstr(txt, "Diagnostic-Code: ");
    assert_non_null(d);
    static char unf[1024];
    size_t k = 0;
    for (char *p = d + 17; *p && k + 1 < sizeof unf; p++) {
        if (p[0] == '\r' && p[1] == '\n') {
            if (p[2] != ' ')
                break;
            p++;
            continue;
        }
        unf[k++] = *p;
    }
    unf[k] = '\0';
    char want[512];
    snprintf(want, sizeof want, "smtp; 550 5.1.1 %s", reply);
    assert_string_equal(unf, want);
    assert_null(strstr(txt, "later@p1"));
    assert_null(strstr(txt, "ok@p1"));
    /* the deferred one is delivered later: no second report */
    queue_rcpt_result_ex(dsn, 0, &ok, t_now);  /* (not claimed: refused) */
    t_now += 3600;
    assert_int_equal(queue_claim(t_now, match_domain, NULL, &b), QUEUE_OK);
    if (b.msgid == dsn) {
        assert_int_equal(queue_release(dsn), QUEUE_OK);
        assert_int_equal(queue_delete(dsn), QUEUE_OK);
        assert_int_equal(queue_claim(t_now, match_domain, NULL, &b), QUEUE_OK);
    }
    assert_int_equal(b.msgid, id);
    assert_int_equal(b.nrcpt, 1);
    assert_int_equal(queue_rcpt_result_ex(id, 1, &ok, t_now), QUEUE_OK);
    assert_int_equal(queue_get_info(id, NULL), QUEUE_ERR_NOTFOUND);
    assert_int_equal(count_ev(QUEUE_EV_BOUNCED), 1);
}

/* RFC 3461 4.1: every NOTIFY combination, for a failure, a relay to a peer
 * without DSN and one with DSN. */
static void test_notify_combinations(void **state)
{
    (void)state;
    static const struct {
        uint8_t notify;
        int fail_report, relay_report;
    } c[] = {
        { 0, 1, 0 },
        { STORE_NOTIFY_NEVER, 0, 0 },
        { STORE_NOTIFY_SUCCESS, 0, 1 },
        { STORE_NOTIFY_FAILURE, 1, 0 },
        { STORE_NOTIFY_DELAY, 0, 0 },
        { STORE_NOTIFY_SUCCESS | STORE_NOTIFY_FAILURE, 1, 1 },
        { STORE_NOTIFY_SUCCESS | STORE_NOTIFY_DELAY, 0, 1 },
        { STORE_NOTIFY_FAILURE | STORE_NOTIFY_DELAY, 1, 0 },
        { STORE_NOTIFY_SUCCESS | STORE_NOTIFY_FAILURE | STORE_NOTIFY_DELAY, 1, 1 },
    };
    for (size_t k = 0; k < sizeof c / sizeof c[0]; k++) {
        setup(NULL);
        static const char *const r[] = { "bad@p1", "ok@p1", "ok2@p1", NULL };
        uint8_t n[3] = { c[k].notify, c[k].notify, c[k].notify };
        uint32_t id = put_msg_dsn("s@example.com", 0, NULL, r, n, NULL);
        static queue_batch_t b;
        assert_int_equal(queue_claim(t_now, match_domain, NULL, &b), QUEUE_OK);
        queue_result_t bad = { 550, "5.1.1", "no", "[192.0.2.1]", 0 };
        queue_result_t relayed = { 250, "2.0.0", "ok", "[192.0.2.1]", 0 };
        queue_result_t passed = { 250, "2.0.0", "ok", "[192.0.2.1]", 1 };
        queue_rcpt_result_ex(id, 0, &bad, t_now);
        queue_rcpt_result_ex(id, 1, &relayed, t_now);
        queue_rcpt_result_ex(id, 2, &passed, t_now);
        int want = c[k].fail_report || c[k].relay_report;
        assert_int_equal(count_ev(QUEUE_EV_BOUNCED), want);
        assert_int_equal(n_queued(), want);
        if (!want)
            continue;
        static char txt[16384];
        read_all(find_dsn(), txt, sizeof txt);
        assert_int_equal(count_str(txt, "Final-Recipient: rfc822; bad@p1\r\nAction: failed"),
                         c[k].fail_report);
        assert_int_equal(count_str(txt, "Final-Recipient: rfc822; ok@p1\r\nAction: relayed\r\nStatus: 2.0.0"),
                         c[k].relay_report);
        assert_null(strstr(txt, "ok2@p1"));  /* its peer does DSN: it reports */
    }
}

/* queue warn: one "delayed" report per recipient, after the delay, never to
 * the null sender, not with NOTIFY without DELAY; then the bounce. */
static void test_delay_warning(void **state)
{
    (void)state;
    assert_int_equal(queue_get_warn(), QUEUE_WARN_S);
    queue_set_warn(600);
    static const char *const r[] = { "a@p1", "b@p1", "c@p1", NULL };
    uint8_t n[3] = { 0, STORE_NOTIFY_FAILURE, STORE_NOTIFY_DELAY };
    uint32_t id = put_msg_dsn("s@example.com", 0, NULL, r, n, NULL);
    static const char *const r0[] = { "z@p1", NULL };
    uint32_t nul = put_msg("", r0, body);
    static queue_batch_t b;
    while (queue_claim(t_now, match_domain, NULL, &b) == QUEUE_OK)
        for (uint16_t i = 0; i < b.nrcpt; i++)
            queue_rcpt_result(b.msgid, b.rcpt[i], 451, "4.3.0", "busy", t_now);
    queue_tick(t_now + 599);
    assert_int_equal(count_ev(QUEUE_EV_WARNED), 0);
    t_now += 600;
    queue_tick(t_now);
    assert_int_equal(count_ev(QUEUE_EV_WARNED), 1);  /* one report, not one per message of the null sender */
    uint32_t w = find_dsn();
    static char txt[16384];
    read_all(w, txt, sizeof txt);
    assert_non_null(strstr(txt, "Subject: Delayed Mail (still being retried)\r\n"));
    assert_non_null(strstr(txt, "Final-Recipient: rfc822; a@p1\r\nAction: delayed\r\nStatus: 4.3.0\r\n"));
    assert_null(strstr(txt, "b@p1"));
    assert_non_null(strstr(txt, "Final-Recipient: rfc822; c@p1\r\nAction: delayed\r\n"));
    queue_rcpt_info_t ri;
    assert_int_equal(queue_get_rcpt(id, 0, &ri), QUEUE_OK);
    assert_int_equal(ri.warned, 1);
    assert_int_equal(queue_delete(w), QUEUE_OK);
    /* once per recipient */
    t_now += 600;
    queue_tick(t_now);
    assert_int_equal(count_ev(QUEUE_EV_WARNED), 1);
    /* also after a restart of the queue (flags are in the store) */
    assert_int_equal(queue_init(&store_ram_ops, NULL, fake_clock), 2);
    queue_set_event_hook(hook);
    queue_set_warn(600);
    t_now += 600;
    queue_tick(t_now);
    assert_int_equal(count_ev(QUEUE_EV_WARNED), 1);
    queue_msg_info_t mi;
    assert_int_equal(queue_get_info(nul, &mi), QUEUE_OK);
    queue_set_warn(0);
    assert_int_equal(queue_get_warn(), 0);
}

static void test_dsn_params_kept(void **state)
{
    (void)state;
    static const char *const r[] = { "a@p1", "b@p1", NULL };
    static const char *const o[] = { "rfc822;A+2Bx@p1", NULL };
    uint8_t n[2] = { STORE_NOTIFY_SUCCESS | STORE_NOTIFY_DELAY, 0 };
    uint32_t id = put_msg_dsn("s@example.com", STORE_RET_FULL, "Q+2B1", r, n, o);
    char buf[300];
    uint8_t v = 0xFF;
    assert_int_equal(queue_get_envid(id, &v, buf, sizeof buf), 5);
    assert_string_equal(buf, "Q+2B1");
    assert_int_equal(v, STORE_RET_FULL);
    assert_int_equal(queue_get_orcpt(id, 0, &v, buf, sizeof buf), 15);
    assert_string_equal(buf, "rfc822;A+2Bx@p1");
    assert_int_equal(v, STORE_NOTIFY_SUCCESS | STORE_NOTIFY_DELAY);
    assert_int_equal(queue_get_orcpt(id, 1, &v, buf, sizeof buf), 0);
    assert_int_equal(v, 0);
    assert_int_equal(queue_get_orcpt(id, 0, NULL, buf, 4), QUEUE_ERR_ARG);
    /* a message without them */
    static const char *const r2[] = { "c@p1", NULL };
    uint32_t id2 = put_msg("s@example.com", r2, body);
    assert_int_equal(queue_get_envid(id2, &v, buf, sizeof buf), 0);
    assert_int_equal(v, STORE_RET_NONE);
    /* bad values */
    queue_txn_t t;
    assert_int_equal(queue_txn_begin_dsn("s@x", 0, 0, 3, NULL, 0, &t), QUEUE_ERR_ARG);
    assert_int_equal(queue_txn_begin_dsn("s@x", 0, 0, 0, "a b", 3, &t), QUEUE_ERR_ARG);
    assert_int_equal(queue_txn_begin_dsn("s@x", 0, 0, 0, "ab", 2, &t), QUEUE_OK);
    assert_int_equal(queue_txn_add_rcpt_dsn(t, "a@p1", 0x10, NULL, 0), QUEUE_ERR_ARG);
    assert_int_equal(queue_txn_add_rcpt_dsn(t, "a@p1", 0, "rfc822;a\r\nb", 11), QUEUE_ERR_ARG);
    /* an ORCPT longer than the store keeps is accepted, not kept (RFC 3461 4.2) */
    static char longo[501];
    memcpy(longo, "rfc822;", 7);
    memset(longo + 7, 'x', 493);
    assert_int_equal(queue_txn_add_rcpt_dsn(t, "a@p1", 0, longo, 500), QUEUE_OK);
    queue_txn_abort(t);
}

/* A RET=FULL failure report returns the message; RET=HDRS only headers. */
static void test_ret_full_report(void **state)
{
    (void)state;
    static const char *const r[] = { "bad@p1", NULL };
    uint32_t id = put_msg_dsn("s@example.com", STORE_RET_FULL, NULL, r, NULL, NULL);
    static queue_batch_t b;
    assert_int_equal(queue_claim(t_now, match_domain, NULL, &b), QUEUE_OK);
    assert_int_equal(queue_rcpt_result(id, 0, 550, "5.1.1", "no", t_now), QUEUE_OK);
    static char txt[16384];
    read_all(find_dsn(), txt, sizeof txt);
    assert_non_null(strstr(txt, "Content-Type: message/rfc822\r\n"));
    assert_non_null(strstr(txt, "Hello body"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_concurrent_txns, setup),
        cmocka_unit_test_setup(test_commit_abort_rules, setup),
        cmocka_unit_test_setup(test_store_full_poisons_txn, setup),
        cmocka_unit_test_setup(test_claim_grouping, setup),
        cmocka_unit_test_setup(test_claim_key, setup),
        cmocka_unit_test_setup(test_unroutable_message_skipped, setup),
        cmocka_unit_test_setup(test_inflight_not_reclaimed, setup),
        cmocka_unit_test_setup(test_backoff, setup),
        cmocka_unit_test_setup(test_bad_reply_text_sanitised, setup),
        cmocka_unit_test_setup(test_5xx_one_dsn, setup),
        cmocka_unit_test_setup(test_prompt_failure_report, setup),
        cmocka_unit_test_setup(test_notify_combinations, setup),
        cmocka_unit_test_setup(test_delay_warning, setup),
        cmocka_unit_test_setup(test_dsn_params_kept, setup),
        cmocka_unit_test_setup(test_ret_full_report, setup),
        cmocka_unit_test_setup(test_no_dsn_to_null_sender, setup),
        cmocka_unit_test_setup(test_lifetime_expiry, setup),
        cmocka_unit_test_setup(test_tick_expires_pending, setup),
        cmocka_unit_test_setup(test_flush_and_delete, setup),
        cmocka_unit_test_setup(test_foreach_info_stats, setup),
        cmocka_unit_test_setup(test_reboot_recovery, setup),
        cmocka_unit_test_setup(test_recovered_finished_message, setup),
        cmocka_unit_test_setup(test_dsn_dropped_when_full, setup),
        cmocka_unit_test_setup(test_fill_drain_cycles, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
