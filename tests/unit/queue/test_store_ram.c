/* unit: firmware/queue/store_ram.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "queue/store_ram.h"

static const store_ops_t *ops = &store_ram_ops;

static int setup(void **state)
{
    (void)state;
    store_ram_init();
    return 0;
}

static void fill_pattern(uint8_t *buf, size_t len, uint32_t seed)
{
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)((i * 31u + seed * 7u) ^ (i >> 8));
}

/* Create a sealed message with nrcpt recipients and size body bytes. */
static int make_msg(uint32_t msgid, const char *sender, uint16_t nrcpt, uint32_t size,
                    store_handle_t *out)
{
    store_handle_t h;
    int rc = ops->create(NULL, sender, size, NULL, &h);
    if (rc)
        return rc;
    for (uint16_t i = 0; i < nrcpt; i++) {
        char a[64];
        size_t n = 0;
        memcpy(a, "rcpt", 4);
        n = 4;
        a[n++] = (char)('0' + (i / 100) % 10);
        a[n++] = (char)('0' + (i / 10) % 10);
        a[n++] = (char)('0' + i % 10);
        memcpy(a + n, "@example.org", 13);
        rc = ops->rcpt_add(NULL, h, a, 0, NULL);
        if (rc < 0) {
            ops->abort(NULL, h);
            return rc;
        }
    }
    uint8_t buf[300];
    uint32_t off = 0;
    while (off < size) {
        uint32_t n = size - off < sizeof buf ? size - off : (uint32_t)sizeof buf;
        fill_pattern(buf, sizeof buf, msgid + off);
        rc = ops->append(NULL, h, buf, n);
        if (rc) {
            ops->abort(NULL, h);
            return rc;
        }
        off += n;
    }
    store_env_t env = { .msgid = msgid, .arrival = 100 + msgid, .size = size,
                        .nrcpt = nrcpt, .src_netif = 2 };
    rc = ops->seal(NULL, h, &env);
    if (rc) {
        ops->abort(NULL, h);
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
        int r = ops->read(NULL, h, off, got, n);
        assert_int_equal(r, (int)n);
        assert_memory_equal(exp, got, n);
        off += n;
    }
    assert_int_equal(ops->read(NULL, h, size, got, sizeof got), 0);
}

static void test_create_append_seal_read(void **state)
{
    (void)state;
    store_handle_t h;
    assert_int_equal(make_msg(7, "alice@example.com", 3, 1000, &h), 0);
    store_msg_t m;
    assert_int_equal(ops->info(NULL, h, &m), STORE_OK);
    assert_int_equal(m.msgid, 7);
    assert_int_equal(m.arrival, 107);
    assert_int_equal(m.size, 1000);
    assert_int_equal(m.nrcpt, 3);
    assert_int_equal(m.src_netif, 2);
    assert_string_equal(m.sender, "alice@example.com");
    check_body(h, 7, 1000);

    /* unaligned partial reads across chunk borders */
    uint8_t exp[1000], got[1000], tmp[300];
    uint32_t o = 0;
    while (o < 1000) {
        uint32_t n = o + 300 <= 1000 ? 300 : 1000 - o;
        fill_pattern(tmp, sizeof tmp, 7 + o);
        memcpy(exp + o, tmp, n);
        o += n;
    }
    assert_int_equal(ops->read(NULL, h, 250, got, 13), 13);
    assert_memory_equal(exp + 250, got, 13);
    assert_int_equal(ops->read(NULL, h, 990, got, 100), 10);
    assert_memory_equal(exp + 990, got, 10);
    assert_int_equal(ops->read(NULL, h, 0, got, 1000), 1000);
    assert_memory_equal(exp, got, 1000);

    store_rcpt_t r;
    assert_int_equal(ops->rcpt_get(NULL, h, 2, &r), STORE_OK);
    assert_string_equal(r.address, "rcpt002@example.org");
    assert_int_equal(r.st.state, STORE_RCPT_PENDING);
    assert_int_equal(r.st.attempts, 0);
    assert_int_equal(ops->rcpt_get(NULL, h, 0, &r), STORE_OK);
    assert_string_equal(r.address, "rcpt000@example.org");
    assert_int_equal(ops->rcpt_get(NULL, h, 3, &r), STORE_ERR_NOTFOUND);

    store_stats_t st;
    ops->stats(NULL, &st);
    assert_int_equal(st.msgs, 1);
    assert_int_equal(st.open, 0);
    assert_true(st.live > 1000);
    assert_int_equal(st.used + st.free, st.total);
    assert_int_equal(st.live + st.dead, st.used);
    assert_int_equal(st.total, STORE_RAM_ARENA_SIZE);
}

static void test_empty_sender_and_body(void **state)
{
    (void)state;
    store_handle_t h;
    assert_int_equal(make_msg(9, "", 1, 0, &h), 0);
    store_msg_t m;
    assert_int_equal(ops->info(NULL, h, &m), STORE_OK);
    assert_string_equal(m.sender, "");
    assert_int_equal(m.size, 0);
    uint8_t b[4];
    assert_int_equal(ops->read(NULL, h, 0, b, sizeof b), 0);
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
    st.next_retry = 12345;
    strcpy(st.reply_enh, "4.7.1");
    strcpy(st.reply_text, "try later");
    assert_int_equal(ops->rcpt_update(NULL, h, 3, &st), STORE_OK);
    store_rcpt_t r;
    assert_int_equal(ops->rcpt_get(NULL, h, 3, &r), STORE_OK);
    assert_string_equal(r.address, "rcpt003@example.org");
    assert_int_equal(r.st.state, STORE_RCPT_DEFERRED);
    assert_int_equal(r.st.attempts, 3);
    assert_int_equal(r.st.reply_code, 451);
    assert_int_equal(r.st.next_retry, 12345);
    assert_string_equal(r.st.reply_enh, "4.7.1");
    assert_string_equal(r.st.reply_text, "try later");
    /* neighbours and body untouched */
    assert_int_equal(ops->rcpt_get(NULL, h, 4, &r), STORE_OK);
    assert_string_equal(r.address, "rcpt004@example.org");
    assert_int_equal(r.st.state, STORE_RCPT_PENDING);
    assert_int_equal(ops->rcpt_get(NULL, h, 2, &r), STORE_OK);
    assert_int_equal(r.st.state, STORE_RCPT_PENDING);
    check_body(h, 1, 600);
    assert_int_equal(ops->rcpt_update(NULL, h, 5, &st), STORE_ERR_NOTFOUND);
}

static void test_order_and_state_rules(void **state)
{
    (void)state;
    store_handle_t h;
    assert_int_equal(ops->create(NULL, "a@b", 0, NULL, &h), STORE_OK);
    assert_int_equal(ops->rcpt_add(NULL, h, "x@y", 0, NULL), 0);
    assert_int_equal(ops->rcpt_add(NULL, h, "z@y", 0, NULL), 1);
    assert_int_equal(ops->rcpt_add(NULL, h, "", 0, NULL), STORE_ERR_ARG);
    assert_int_equal(ops->append(NULL, h, "abc", 3), STORE_OK);
    assert_int_equal(ops->rcpt_add(NULL, h, "w@y", 0, NULL), STORE_ERR_STATE);
    /* unsealed: invisible */
    store_handle_t it;
    assert_int_equal(ops->next(NULL, STORE_HANDLE_NONE, &it), STORE_ERR_NOTFOUND);
    uint8_t b[4];
    assert_int_equal(ops->read(NULL, h, 0, b, 3), STORE_ERR_NOTFOUND);
    /* seal cross-checks size and nrcpt */
    store_env_t env = { .msgid = 5, .arrival = 1, .size = 4, .nrcpt = 2 };
    assert_int_equal(ops->seal(NULL, h, &env), STORE_ERR_ARG);
    env.size = 3;
    env.nrcpt = 1;
    assert_int_equal(ops->seal(NULL, h, &env), STORE_ERR_ARG);
    env.nrcpt = 2;
    env.msgid = 0;
    assert_int_equal(ops->seal(NULL, h, &env), STORE_ERR_ARG);
    env.msgid = 5;
    assert_int_equal(ops->seal(NULL, h, &env), STORE_OK);
    assert_int_equal(ops->append(NULL, h, "d", 1), STORE_ERR_ARG);
    assert_int_equal(ops->seal(NULL, h, &env), STORE_ERR_ARG);
    ops->abort(NULL, h); /* no effect on sealed */
    assert_int_equal(ops->read(NULL, h, 0, b, 4), 3);
    assert_memory_equal(b, "abc", 3);
    /* iteration sees it */
    assert_int_equal(ops->next(NULL, STORE_HANDLE_NONE, &it), STORE_OK);
    assert_int_equal(it, h);
    assert_int_equal(ops->next(NULL, it, &it), STORE_ERR_NOTFOUND);
    /* delete; stale handle rejected */
    assert_int_equal(ops->del(NULL, h), STORE_OK);
    assert_int_equal(ops->del(NULL, h), STORE_ERR_NOTFOUND);
    store_msg_t m;
    assert_int_equal(ops->info(NULL, h, &m), STORE_ERR_NOTFOUND);
    /* a new message reusing the slot does not answer to the old handle */
    store_handle_t h2;
    assert_int_equal(make_msg(6, "q@r", 1, 10, &h2), 0);
    assert_int_not_equal(h2, h);
    assert_int_equal(ops->info(NULL, h, &m), STORE_ERR_NOTFOUND);
    /* long sender rejected */
    char longs[STORE_ADDR_MAX + 2];
    memset(longs, 'a', sizeof longs - 1);
    longs[sizeof longs - 1] = '\0';
    assert_int_equal(ops->create(NULL, longs, 0, NULL, &h), STORE_ERR_ARG);
    longs[STORE_ADDR_MAX] = '\0';
    assert_int_equal(ops->create(NULL, longs, 0, NULL, &h), STORE_OK);
    ops->abort(NULL, h);
}

static void test_abort_leaves_nothing(void **state)
{
    (void)state;
    store_stats_t before, after;
    ops->stats(NULL, &before);
    store_handle_t h;
    assert_int_equal(ops->create(NULL, "a@b", 5000, NULL, &h), STORE_OK);
    assert_int_equal(ops->rcpt_add(NULL, h, "x@y", 0, NULL), 0);
    uint8_t buf[1000];
    memset(buf, 'x', sizeof buf);
    for (int i = 0; i < 5; i++)
        assert_int_equal(ops->append(NULL, h, buf, sizeof buf), STORE_OK);
    ops->stats(NULL, &after);
    assert_int_equal(after.open, 1);
    assert_true(after.dead >= 5000);
    ops->abort(NULL, h);
    ops->stats(NULL, &after);
    assert_memory_equal(&before, &after, sizeof before);
    store_handle_t it;
    assert_int_equal(ops->next(NULL, STORE_HANDLE_NONE, &it), STORE_ERR_NOTFOUND);
}

static void test_full_and_nothing_half_stored(void **state)
{
    (void)state;
    store_stats_t st0;
    ops->stats(NULL, &st0);
    /* size hint admission */
    store_handle_t h;
    assert_int_equal(ops->create(NULL, "a@b", STORE_RAM_ARENA_SIZE + 1, NULL, &h), STORE_ERR_TOOBIG);
    /* fill with one big open message until FULL */
    assert_int_equal(ops->create(NULL, "a@b", 0, NULL, &h), STORE_OK);
    assert_int_equal(ops->rcpt_add(NULL, h, "x@y", 0, NULL), 0);
    uint8_t buf[1000];
    memset(buf, 'y', sizeof buf);
    uint32_t stored = 0;
    int rc;
    while ((rc = ops->append(NULL, h, buf, sizeof buf)) == STORE_OK)
        stored += sizeof buf;
    assert_int_equal(rc, STORE_ERR_FULL);
    assert_true(stored > STORE_RAM_ARENA_SIZE - 2000);
    /* the failed append stored nothing: other creators still see the rest */
    store_stats_t st;
    ops->stats(NULL, &st);
    assert_true(st.free < sizeof buf);
    store_handle_t h2;
    assert_int_equal(ops->create(NULL, "c@d", 4 * STORE_RAM_CHUNK_SIZE, NULL, &h2), STORE_ERR_FULL);
    /* aborting the big one returns every chunk */
    ops->abort(NULL, h);
    ops->stats(NULL, &st);
    assert_memory_equal(&st, &st0, sizeof st);
    /* slot table full */
    store_handle_t hs[STORE_RAM_MAX_MSGS];
    for (int i = 0; i < STORE_RAM_MAX_MSGS; i++)
        assert_int_equal(ops->create(NULL, "a@b", 0, NULL, &hs[i]), STORE_OK);
    assert_int_equal(ops->create(NULL, "a@b", 0, NULL, &h), STORE_ERR_FULL);
    for (int i = 0; i < STORE_RAM_MAX_MSGS; i++)
        ops->abort(NULL, hs[i]);
    ops->stats(NULL, &st);
    assert_memory_equal(&st, &st0, sizeof st);
}

static void test_space_reclaimed_many_cycles(void **state)
{
    (void)state;
    store_stats_t st0, st;
    ops->stats(NULL, &st0);
    store_handle_t hs[STORE_RAM_MAX_MSGS];
    uint32_t sizes[STORE_RAM_MAX_MSGS];
    uint32_t id = 1;
    for (int cycle = 0; cycle < 50; cycle++) {
        /* fill with varying sizes until full */
        int n = 0;
        for (;;) {
            uint32_t size = 100u + (uint32_t)((cycle * 977 + n * 4111) % 9000);
            if (n == STORE_RAM_MAX_MSGS)
                break;
            int rc = make_msg(id, "s@x", (uint16_t)(1 + n % 4), size, &hs[n]);
            if (rc == STORE_ERR_FULL)
                break;
            assert_int_equal(rc, 0);
            sizes[n] = size;
            id++;
            n++;
        }
        assert_true(n > 5);
        ops->stats(NULL, &st);
        assert_int_equal(st.msgs, n);
        assert_int_equal(st.open, 0);
        /* nothing half-stored after the FULL attempt */
        int count = 0;
        store_handle_t it = STORE_HANDLE_NONE;
        while (ops->next(NULL, it, &it) == STORE_OK)
            count++;
        assert_int_equal(count, n);
        /* delete every other, verify survivors, then the rest */
        for (int i = 0; i < n; i += 2)
            assert_int_equal(ops->del(NULL, hs[i]), STORE_OK);
        for (int i = 1; i < n; i += 2) {
            store_msg_t m;
            assert_int_equal(ops->info(NULL, hs[i], &m), STORE_OK);
            check_body(hs[i], m.msgid, sizes[i]);
            assert_int_equal(ops->del(NULL, hs[i]), STORE_OK);
        }
        ops->stats(NULL, &st);
        assert_memory_equal(&st, &st0, sizeof st);
    }
}

static void test_recover_drops_unsealed(void **state)
{
    (void)state;
    store_handle_t h1, h2;
    assert_int_equal(make_msg(3, "a@b", 2, 700, &h1), 0);
    assert_int_equal(ops->create(NULL, "a@b", 0, NULL, &h2), STORE_OK);
    assert_int_equal(ops->rcpt_add(NULL, h2, "r@s", 0, NULL), 0);
    assert_int_equal(ops->append(NULL, h2, "hello", 5), STORE_OK);
    assert_int_equal(ops->recover(NULL), 1);
    store_stats_t st;
    ops->stats(NULL, &st);
    assert_int_equal(st.open, 0);
    assert_int_equal(st.msgs, 1);
    assert_int_equal(ops->append(NULL, h2, "x", 1), STORE_ERR_ARG);
    check_body(h1, 3, 700);
}

static void test_many_rcpts(void **state)
{
    (void)state;
    store_handle_t h;
    assert_int_equal(make_msg(11, "a@b", 100, 50, &h), 0);
    store_rcpt_t r;
    /* random access order exercises the walk cache */
    static const uint16_t order[] = { 99, 0, 50, 49, 51, 98, 1, 75 };
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        assert_int_equal(ops->rcpt_get(NULL, h, order[i], &r), STORE_OK);
        char exp[32];
        memcpy(exp, "rcpt", 4);
        exp[4] = (char)('0' + order[i] / 100);
        exp[5] = (char)('0' + (order[i] / 10) % 10);
        exp[6] = (char)('0' + order[i] % 10);
        memcpy(exp + 7, "@example.org", 13);
        assert_string_equal(r.address, exp);
    }
    check_body(h, 11, 50);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_create_append_seal_read, setup),
        cmocka_unit_test_setup(test_empty_sender_and_body, setup),
        cmocka_unit_test_setup(test_rcpt_update, setup),
        cmocka_unit_test_setup(test_order_and_state_rules, setup),
        cmocka_unit_test_setup(test_abort_leaves_nothing, setup),
        cmocka_unit_test_setup(test_full_and_nothing_half_stored, setup),
        cmocka_unit_test_setup(test_space_reclaimed_many_cycles, setup),
        cmocka_unit_test_setup(test_recover_drops_unsealed, setup),
        cmocka_unit_test_setup(test_many_rcpts, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
