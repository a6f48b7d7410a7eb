/* unit: firmware/queue/store_ram.c */
/* What store_ram adds to the store contract (test_store_contract.c runs the
 * contract itself against every store): its arena of STORE_RAM_ARENA_SIZE
 * bytes in STORE_RAM_CHUNK_SIZE chunks, STORE_RAM_MAX_MSGS slots, and a cold
 * boot (store_ram_init) that forgets everything. */
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

static void test_arena_geometry(void **state)
{
    (void)state;
    store_stats_t st0, st;
    ops->stats(NULL, &st0);
    assert_int_equal(st0.total, STORE_RAM_ARENA_SIZE);
    assert_int_equal(st0.max_msgs, STORE_RAM_MAX_MSGS);
    store_handle_t h, h2;
    assert_int_equal(ops->create(NULL, "a@b", STORE_RAM_ARENA_SIZE + 1, NULL, &h), STORE_ERR_TOOBIG);
    /* fill one open message until FULL: all but the chunks its sender and
     * recipient took, and less than one chunk of the arena is left */
    assert_int_equal(ops->create(NULL, "a@b", 0, NULL, &h), STORE_OK);
    assert_int_equal(ops->rcpt_add(NULL, h, "x@y", 0, NULL), 0);
    uint8_t buf[1000];
    memset(buf, 'y', sizeof buf);
    uint32_t stored = 0;
    while (ops->append(NULL, h, buf, sizeof buf) == STORE_OK)
        stored += sizeof buf;
    assert_true(stored > STORE_RAM_ARENA_SIZE - 2000);
    ops->stats(NULL, &st);
    assert_true(st.free < sizeof buf);
    assert_int_equal(st.live + st.dead, st.used);   /* no slack outside the chunks */
    assert_int_equal(ops->create(NULL, "c@d", 4 * STORE_RAM_CHUNK_SIZE, NULL, &h2), STORE_ERR_FULL);
    ops->abort(NULL, h);
    ops->stats(NULL, &st);
    assert_memory_equal(&st, &st0, sizeof st);
}

static void test_cold_boot_forgets_everything(void **state)
{
    (void)state;
    store_handle_t h, it;
    assert_int_equal(ops->create(NULL, "a@b", 0, NULL, &h), STORE_OK);
    assert_int_equal(ops->rcpt_add(NULL, h, "x@y", 0, NULL), 0);
    assert_int_equal(ops->append(NULL, h, "abc", 3), STORE_OK);
    store_env_t env = { .msgid = 1, .size = 3, .nrcpt = 1 };
    assert_int_equal(ops->seal(NULL, h, &env), STORE_OK);
    assert_int_equal(ops->recover(NULL), 1);   /* recover() keeps sealed messages */
    store_ram_init();                          /* a reset: RAM is not durable */
    assert_int_equal(ops->recover(NULL), 0);
    assert_int_equal(ops->next(NULL, STORE_HANDLE_NONE, &it), STORE_ERR_NOTFOUND);
    store_stats_t st;
    ops->stats(NULL, &st);
    assert_int_equal(st.used, 0);
    assert_int_equal(st.msgs, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_arena_geometry, setup),
        cmocka_unit_test_setup(test_cold_boot_forgets_everything, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
