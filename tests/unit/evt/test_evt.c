/* unit: firmware/evt/evt.c firmware/lib/fmt.c firmware/lib/date.c */
/* Tests for the event ring, the filters, the catalogue and evt_format. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "evt/evt.h"

/* The filter tests log fixed runs of up to 20 records. */
_Static_assert(EVT_RING_CAPACITY >= 20, "test_evt needs EVT_RING_CAPACITY >= 20");

/* ---- fakes -------------------------------------------------------------- */

static uint32_t fake_now;
static uint32_t fake_clock(void) { return fake_now; }

static int asserts_hit;
void mta_assert_fail(const char *msg, const char *file, int line);
void mta_assert_fail(const char *msg, const char *file, int line)
{
    (void)msg;
    (void)file;
    (void)line;
    asserts_hit++;
}

static const char *fake_netif_name(uint8_t idx)
{
    switch (idx) {
    case 0: return "eth0";
    case 1: return "ppp0";
    case 2: return "";          /* resolver knows it but has no name */
    case 3: return "bad\r\nname";
    default: return NULL;
    }
}

static const char *fake_peer_name(uint8_t idx)
{
    switch (idx) {
    case 0: return "smarthost";
    case 1: return "backup-mx.example.org.with.a.very.long.name";
    default: return NULL;
    }
}

static const char *fake_err_text(int32_t err)
{
    switch (err) {
    case -4: return "Routing problem";
    case -8: return "Address in use";
    case 421: return "service not available";
    default: return NULL;
    }
}

static uint32_t fake_epoch;
static uint32_t fake_wallclock(uint32_t uptime_ms)
{
    return fake_epoch != 0 ? fake_epoch + uptime_ms / 1000u : 0u;
}

static const evt_resolvers_t all_resolvers = {
    .netif_name = fake_netif_name,
    .peer_name = fake_peer_name,
    .err_text = fake_err_text,
    .wallclock = fake_wallclock,
};

static int listener_calls;
static evt_record_t listener_last;
static void fake_listener(const evt_record_t *r)
{
    listener_calls++;
    listener_last = *r;
}

static void logging_listener(const evt_record_t *r)
{
    listener_calls++;
    listener_last = *r;
    (void)evt_log(EVT_SYS_ASSERT, EVT_SRC_NONE, r->seq);
}

static int setup(void **state)
{
    (void)state;
    fake_now = 0;
    fake_epoch = 0;
    asserts_hit = 0;
    listener_calls = 0;
    memset(&listener_last, 0, sizeof(listener_last));
    evt_init(fake_clock);
    return 0;
}

/* ---- helpers ------------------------------------------------------------ */

/* Log n events with arg = their expected seq (id alternates for BY_ID). */
static void log_n(uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        evt_stats_t st;
        evt_stats(&st);
        uint16_t id = (st.next_seq % 3u == 0u) ? EVT_NETIF_LINK_DOWN
                                               : EVT_NETIF_LINK_UP;
        uint32_t seq = evt_log(id, 0, st.next_seq);
        assert_int_equal(seq, st.next_seq);
    }
}

/* Run the filter and check it yields exactly seqs first..last (step 1), or
 * nothing when first > last. */
static void expect_range(evt_filter_kind_t kind, uint32_t value, uint32_t first,
                         uint32_t last)
{
    evt_iter_t it;
    evt_record_t r;
    evt_iter_init(&it, (evt_filter_t){ kind, value });
    for (uint32_t s = first; s <= last; s++) {
        assert_true(evt_iter_next(&it, &r));
        assert_int_equal(r.seq, s);
        assert_int_equal(r.arg, s);
    }
    assert_false(evt_iter_next(&it, &r));
    assert_false(evt_iter_next(&it, &r));   /* stays finished */
}

static const char *fmt_rec(uint16_t id, uint8_t src, uint32_t arg)
{
    static char line[256];
    evt_record_t r;
    uint32_t seq = evt_log(id, src, arg);
    evt_iter_t it;
    evt_iter_init(&it, (evt_filter_t){ EVT_FILTER_SINCE_SEQ, seq });
    assert_true(evt_iter_next(&it, &r));
    int n = evt_format(&r, line, sizeof(line));
    assert_int_equal((size_t)n, strlen(line));
    assert_null(strchr(line, '\n'));
    assert_null(strchr(line, '\r'));
    assert_int_equal(asserts_hit, 0);   /* no scratch overflow inside */
    return line;
}

/* Format and keep only what follows "<category>: ", to test templates. */
static const char *fmt_msg(uint16_t id, uint8_t src, uint32_t arg)
{
    const char *line = fmt_rec(id, src, arg);
    const char *p = strstr(line, ": ");
    assert_non_null(p);
    return p + 2;
}

/* ---- record and ring ---------------------------------------------------- */

static void test_record_size(void **state)
{
    (void)state;
    assert_true(sizeof(evt_record_t) <= 16);
    assert_int_equal(sizeof(evt_record_t), 16);
}

static void test_init_state(void **state)
{
    (void)state;
    evt_stats_t st;
    evt_stats(&st);
    assert_int_equal(st.capacity, EVT_RING_CAPACITY);
    assert_int_equal(st.count, 0);
    assert_int_equal(st.dropped, 0);
    assert_int_equal(st.next_seq, 1);
    assert_int_equal(st.oldest_seq, 0);
    assert_int_equal(st.newest_seq, 0);
    expect_range(EVT_FILTER_ALL, 0, 1, 0);
}

static void test_log_fields(void **state)
{
    (void)state;
    evt_record_t r;
    evt_iter_t it;

    fake_now = 1234;
    assert_int_equal(evt_log(EVT_MTA_BIND_FAIL, 2, evt_pack_netif_err(1, -4)), 1);
    fake_now = 1300;
    assert_int_equal(evt_log(EVT_STORE_RECOVERY_DONE, EVT_SRC_NONE, 7), 2);

    evt_iter_init(&it, (evt_filter_t){ EVT_FILTER_ALL, 0 });
    assert_true(evt_iter_next(&it, &r));
    assert_int_equal(r.seq, 1);
    assert_int_equal(r.ts_ms, 1234);
    assert_int_equal(r.id, 9318);
    assert_int_equal(r.sev, EVT_SEV_WARNING);
    assert_int_equal(r.src, 2);
    assert_int_equal(r.arg, evt_pack_netif_err(1, -4));
    assert_true(evt_iter_next(&it, &r));
    assert_int_equal(r.seq, 2);
    assert_int_equal(r.ts_ms, 1300);
    assert_int_equal(r.sev, EVT_SEV_INFO);
    assert_int_equal(r.src, EVT_SRC_NONE);
    assert_false(evt_iter_next(&it, &r));
}

static void test_null_clock(void **state)
{
    (void)state;
    evt_record_t r;
    evt_iter_t it;
    evt_init(NULL);
    fake_now = 99;
    (void)evt_log(EVT_SYS_BOOT, EVT_SRC_NONE, 0);
    evt_iter_init(&it, (evt_filter_t){ EVT_FILTER_ALL, 0 });
    assert_true(evt_iter_next(&it, &r));
    assert_int_equal(r.ts_ms, 0);
}

static void test_unknown_id_logged_as_error(void **state)
{
    (void)state;
    evt_record_t r;
    evt_iter_t it;
    char line[128];

    assert_null(evt_catalog_find(4242));
    assert_int_equal(evt_log(4242, 5, 0x2A), 1);
    evt_iter_init(&it, (evt_filter_t){ EVT_FILTER_ALL, 0 });
    assert_true(evt_iter_next(&it, &r));
    assert_int_equal(r.id, 4242);
    assert_int_equal(r.sev, EVT_SEV_ERROR);
    assert_int_equal(r.src, 5);
    assert_int_equal(r.arg, 0x2A);
    evt_format(&r, line, sizeof(line));
    assert_string_equal(line,
        "#1 +00:00:00.000 E 4242 ?: unknown event, src 5 arg 0x0000002A");
    assert_int_equal(asserts_hit, 0);
}

static void test_wraparound_keeps_order(void **state)
{
    (void)state;
    const uint32_t k = 5;
    log_n(EVT_RING_CAPACITY + k);

    evt_stats_t st;
    evt_stats(&st);
    assert_int_equal(st.count, EVT_RING_CAPACITY);
    assert_int_equal(st.oldest_seq, k + 1);
    assert_int_equal(st.newest_seq, EVT_RING_CAPACITY + k);
    assert_int_equal(st.next_seq, EVT_RING_CAPACITY + k + 1);
    expect_range(EVT_FILTER_ALL, 0, k + 1, EVT_RING_CAPACITY + k);
}

static void test_wraparound_many_laps(void **state)
{
    (void)state;
    log_n(3 * EVT_RING_CAPACITY + 1);
    expect_range(EVT_FILTER_ALL, 0, 2 * EVT_RING_CAPACITY + 2,
                 3 * EVT_RING_CAPACITY + 1);
}

static void test_dropped_counter(void **state)
{
    (void)state;
    evt_stats_t st;

    log_n(EVT_RING_CAPACITY);
    evt_stats(&st);
    assert_int_equal(st.dropped, 0);
    assert_int_equal(st.count, EVT_RING_CAPACITY);

    log_n(1);
    evt_stats(&st);
    assert_int_equal(st.dropped, 1);

    log_n(2 * EVT_RING_CAPACITY + 3);
    evt_stats(&st);
    assert_int_equal(st.dropped, 2 * EVT_RING_CAPACITY + 4);
    assert_int_equal(st.count, EVT_RING_CAPACITY);

    /* Clearing is deliberate, not a loss; re-init is a new boot. */
    assert_int_equal(evt_clear(), EVT_RING_CAPACITY);
    evt_stats(&st);
    assert_int_equal(st.dropped, 2 * EVT_RING_CAPACITY + 4);
    evt_init(fake_clock);
    evt_stats(&st);
    assert_int_equal(st.dropped, 0);
    assert_int_equal(st.next_seq, 1);
}

static void test_clear_keeps_seq(void **state)
{
    (void)state;
    evt_stats_t st;

    log_n(5);
    assert_int_equal(evt_clear(), 5);
    evt_stats(&st);
    assert_int_equal(st.count, 0);
    assert_int_equal(st.oldest_seq, 0);
    assert_int_equal(st.newest_seq, 0);
    assert_int_equal(st.next_seq, 6);
    expect_range(EVT_FILTER_ALL, 0, 1, 0);
    expect_range(EVT_FILTER_LAST_N, 3, 1, 0);

    assert_int_equal(evt_clear(), 0);        /* clearing empty is fine */
    log_n(2);                                /* seqs 6 and 7 */
    expect_range(EVT_FILTER_ALL, 0, 6, 7);
    evt_stats(&st);
    assert_int_equal(st.oldest_seq, 6);
    assert_int_equal(st.newest_seq, 7);
}

static void test_clear_after_wrap(void **state)
{
    (void)state;
    log_n(EVT_RING_CAPACITY + 3);
    assert_int_equal(evt_clear(), EVT_RING_CAPACITY);
    log_n(EVT_RING_CAPACITY + 1);
    expect_range(EVT_FILTER_ALL, 0, EVT_RING_CAPACITY + 5,
                 2 * EVT_RING_CAPACITY + 4);
}

/* ---- filters ------------------------------------------------------------ */

static void test_filter_last_n(void **state)
{
    (void)state;
    log_n(10);
    expect_range(EVT_FILTER_LAST_N, 0, 1, 0);
    expect_range(EVT_FILTER_LAST_N, 1, 10, 10);
    expect_range(EVT_FILTER_LAST_N, 3, 8, 10);
    expect_range(EVT_FILTER_LAST_N, 10, 1, 10);
    expect_range(EVT_FILTER_LAST_N, 11, 1, 10);
    expect_range(EVT_FILTER_LAST_N, UINT32_MAX, 1, 10);
}

static void test_filter_last_n_wrapped(void **state)
{
    (void)state;
    log_n(EVT_RING_CAPACITY + 7);
    expect_range(EVT_FILTER_LAST_N, 2, EVT_RING_CAPACITY + 6,
                 EVT_RING_CAPACITY + 7);
    expect_range(EVT_FILTER_LAST_N, EVT_RING_CAPACITY + 100, 8,
                 EVT_RING_CAPACITY + 7);
}

static void test_filter_since(void **state)
{
    (void)state;
    evt_iter_t it;

    log_n(10);
    expect_range(EVT_FILTER_SINCE_SEQ, 0, 1, 10);
    expect_range(EVT_FILTER_SINCE_SEQ, 1, 1, 10);
    expect_range(EVT_FILTER_SINCE_SEQ, 4, 4, 10);
    expect_range(EVT_FILTER_SINCE_SEQ, 10, 10, 10);
    expect_range(EVT_FILTER_SINCE_SEQ, 11, 1, 0);          /* next seq */
    expect_range(EVT_FILTER_SINCE_SEQ, 5000, 1, 0);        /* future */
    expect_range(EVT_FILTER_SINCE_SEQ, UINT32_MAX, 1, 0);
    evt_iter_init(&it, (evt_filter_t){ EVT_FILTER_SINCE_SEQ, 4 });
    assert_int_equal(evt_iter_missed(&it), 0);
}

static void test_filter_since_overwritten(void **state)
{
    (void)state;
    evt_iter_t it;

    log_n(EVT_RING_CAPACITY + 20);          /* oldest is 21 */
    expect_range(EVT_FILTER_SINCE_SEQ, 5, 21, EVT_RING_CAPACITY + 20);
    evt_iter_init(&it, (evt_filter_t){ EVT_FILTER_SINCE_SEQ, 5 });
    assert_int_equal(evt_iter_missed(&it), 16);   /* 5..20 are gone */
    evt_iter_init(&it, (evt_filter_t){ EVT_FILTER_SINCE_SEQ, 21 });
    assert_int_equal(evt_iter_missed(&it), 0);

    /* after a clear, everything asked for is gone */
    (void)evt_clear();
    expect_range(EVT_FILTER_SINCE_SEQ, 5, 1, 0);
    evt_iter_init(&it, (evt_filter_t){ EVT_FILTER_SINCE_SEQ, 5 });
    assert_int_equal(evt_iter_missed(&it), EVT_RING_CAPACITY + 16);
}

static void test_filter_by_id(void **state)
{
    (void)state;
    evt_iter_t it;
    evt_record_t r;

    log_n(10);   /* LINK_DOWN at seqs 3, 6, 9; LINK_UP elsewhere */
    evt_iter_init(&it, (evt_filter_t){ EVT_FILTER_BY_ID, EVT_NETIF_LINK_DOWN });
    for (uint32_t s = 3; s <= 9; s += 3) {
        assert_true(evt_iter_next(&it, &r));
        assert_int_equal(r.seq, s);
        assert_int_equal(r.id, EVT_NETIF_LINK_DOWN);
    }
    assert_false(evt_iter_next(&it, &r));

    /* no matches: a known id never logged, an unknown id, an id > u16 */
    expect_range(EVT_FILTER_BY_ID, EVT_MTA_BIND_FAIL, 1, 0);
    expect_range(EVT_FILTER_BY_ID, 4242, 1, 0);
    expect_range(EVT_FILTER_BY_ID, 0x10000u + EVT_NETIF_LINK_DOWN, 1, 0);

    /* an id logged only in records since overwritten */
    (void)evt_log(EVT_QUEUE_FULL, 0, 1);
    log_n(EVT_RING_CAPACITY);
    expect_range(EVT_FILTER_BY_ID, EVT_QUEUE_FULL, 1, 0);
}

static void test_filter_unknown_kind(void **state)
{
    (void)state;
    log_n(3);
    expect_range((evt_filter_kind_t)77, 0, 1, 0);
}

static void test_iter_snapshot_and_overwrite_during_iteration(void **state)
{
    (void)state;
    evt_iter_t it;
    evt_record_t r;

    log_n(4);
    evt_iter_init(&it, (evt_filter_t){ EVT_FILTER_ALL, 0 });
    assert_true(evt_iter_next(&it, &r));
    assert_int_equal(r.seq, 1);
    log_n(1);                               /* not in the snapshot */
    for (uint32_t s = 2; s <= 4; s++) {
        assert_true(evt_iter_next(&it, &r));
        assert_int_equal(r.seq, s);
    }
    assert_false(evt_iter_next(&it, &r));
    assert_int_equal(evt_iter_missed(&it), 0);

    /* records overwritten between two calls are skipped and counted */
    evt_init(fake_clock);
    log_n(EVT_RING_CAPACITY);
    evt_iter_init(&it, (evt_filter_t){ EVT_FILTER_ALL, 0 });
    assert_true(evt_iter_next(&it, &r));
    assert_int_equal(r.seq, 1);
    log_n(3);                               /* drops 1..3 */
    assert_true(evt_iter_next(&it, &r));
    assert_int_equal(r.seq, 4);
    assert_int_equal(evt_iter_missed(&it), 2);

    /* a clear between two calls ends the iteration */
    (void)evt_clear();
    assert_false(evt_iter_next(&it, &r));
    assert_int_equal(evt_iter_missed(&it), 2 + EVT_RING_CAPACITY - 4);
}

/* ---- catalogue ---------------------------------------------------------- */

static void expect_def(uint16_t id, evt_sev_t sev, evt_cat_t cat,
                       evt_argkind_t kind)
{
    const evt_def_t *d = evt_catalog_find(id);
    assert_non_null(d);
    assert_int_equal(d->id, id);
    assert_int_equal(d->sev, sev);
    assert_int_equal(d->cat, cat);
    assert_int_equal(d->argkind, kind);
}

static void test_catalog_mandatory(void **state)
{
    (void)state;
    assert_int_equal(EVT_MTA_BIND_FAIL, 9318);
    assert_int_equal(EVT_MTA_LISTEN_FAIL, 9321);
    assert_int_equal(EVT_MTA_INIT_FATAL, 9266);
    assert_int_equal(EVT_STORE_RECOVERY_START, 2219);
    assert_int_equal(EVT_STORE_RECOVERY_QUEUE, 2206);
    assert_int_equal(EVT_STORE_RECOVERY_DONE, 2207);
    expect_def(9318, EVT_SEV_WARNING, EVT_CAT_SMTPC, EVT_ARG_NETIF_ERR);
    expect_def(9321, EVT_SEV_ERROR, EVT_CAT_NETIF, EVT_ARG_ERR);
    expect_def(9266, EVT_SEV_ERROR, EVT_CAT_SYSTEM, EVT_ARG_CAUSE);
    expect_def(2219, EVT_SEV_WARNING, EVT_CAT_STORE, EVT_ARG_NONE);
    expect_def(2206, EVT_SEV_WARNING, EVT_CAT_STORE, EVT_ARG_NONE);
    expect_def(2207, EVT_SEV_INFO, EVT_CAT_STORE, EVT_ARG_RECOVERY);
    assert_non_null(strstr(evt_catalog_find(9318)->msg, "{peer}"));
    assert_non_null(strstr(evt_catalog_find(9321)->msg, "{netif}"));
    assert_non_null(strstr(evt_catalog_find(2206)->msg, "{queue}"));
}

static void test_catalog_informational(void **state)
{
    (void)state;
    static const uint16_t ids[] = {
        EVT_SYS_BOOT, EVT_NETIF_LINK_UP, EVT_NETIF_LINK_DOWN, EVT_NETIF_ADDR,
        EVT_SMTPD_LISTENING, EVT_SMTPD_MSG_ACCEPTED, EVT_SMTPC_DELIVERED,
        EVT_SMTPC_RCPT_DEFERRED, EVT_QUEUE_BOUNCED, EVT_QUEUE_EXPIRED,
        EVT_QUEUE_FULL, EVT_SMTPD_SESSION_LIMIT, EVT_SMTPD_RELAY_DENIED,
        EVT_CONSOLE_LOGIN_FAIL, EVT_CONFIG_SAVED, EVT_CONFIG_LOADED,
        EVT_SYS_CLOCK_SET, EVT_SYS_EVENTS_CLEARED, EVT_SYS_ASSERT,
    };
    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
        assert_in_range(ids[i], 1000, 1999);
        assert_non_null(evt_catalog_find(ids[i]));
    }
    expect_def(EVT_SMTPD_MSG_ACCEPTED, EVT_SEV_INFO, EVT_CAT_SMTPD, EVT_ARG_MSGID);
    expect_def(EVT_SMTPC_DELIVERED, EVT_SEV_INFO, EVT_CAT_SMTPC, EVT_ARG_MSGID);
    expect_def(EVT_QUEUE_FULL, EVT_SEV_WARNING, EVT_CAT_QUEUE, EVT_ARG_COUNT);
    assert_non_null(strstr(evt_catalog_find(EVT_QUEUE_FULL)->msg, "452"));
    assert_non_null(strstr(evt_catalog_find(EVT_SMTPD_SESSION_LIMIT)->msg, "421"));
    assert_non_null(strstr(evt_catalog_find(EVT_SMTPD_RELAY_DENIED)->msg, "5.7.1"));
}

static void test_catalog_unique_and_complete(void **state)
{
    (void)state;
    size_t n = evt_catalog_count();
    assert_true(n >= 25);
    assert_null(evt_catalog_at(n));
    assert_null(evt_catalog_at((size_t)-1));
    assert_null(evt_catalog_find(0));
    for (size_t i = 0; i < n; i++) {
        const evt_def_t *d = evt_catalog_at(i);
        assert_non_null(d);
        assert_true(d->id != 0);
        assert_ptr_equal(evt_catalog_find(d->id), d);
        for (size_t j = i + 1; j < n; j++) {
            assert_int_not_equal(d->id, evt_catalog_at(j)->id);
            assert_string_not_equal(d->symbol, evt_catalog_at(j)->symbol);
        }
        assert_true(d->sev < EVT_SEV_COUNT);
        assert_true(d->cat < EVT_CAT_COUNT);
        assert_true(d->argkind < EVT_ARG_KIND_COUNT);
        assert_non_null(d->symbol);
        assert_non_null(d->msg);
        assert_non_null(d->help);
        assert_true(strlen(d->symbol) > 0);
        assert_true(strlen(d->msg) > 0);
        assert_true(strlen(d->help) > 20);
        /* IDs are either inherited (2xxx/9xxx) or ours (1000..1999) */
        assert_true((d->id >= 1000 && d->id <= 2999) ||
                    (d->id >= 9000 && d->id <= 9999));
    }
}

/* Every '{' starts a known token, and {arg} is used iff the kind has one. */
static void test_catalog_templates(void **state)
{
    (void)state;
    static const char *const toks[] = {
        "{netif}", "{peer}", "{queue}", "{src}", "{arg}"
    };
    for (size_t i = 0; i < evt_catalog_count(); i++) {
        const evt_def_t *d = evt_catalog_at(i);
        for (const char *p = strchr(d->msg, '{'); p != NULL;
             p = strchr(p + 1, '{')) {
            bool known = false;
            for (size_t t = 0; t < sizeof(toks) / sizeof(toks[0]); t++) {
                known = known || strncmp(p, toks[t], strlen(toks[t])) == 0;
            }
            if (!known) {
                fail_msg("%s: unknown token in \"%s\"", d->symbol, d->msg);
            }
        }
        bool has_arg = strstr(d->msg, "{arg}") != NULL;
        if (has_arg != (d->argkind != EVT_ARG_NONE)) {
            fail_msg("%s: {arg} use does not match arg kind", d->symbol);
        }
        assert_null(strchr(d->msg, '\n'));
    }
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(evt_sev_name(EVT_SEV_DEBUG), "debug");
    assert_string_equal(evt_sev_name(EVT_SEV_INFO), "info");
    assert_string_equal(evt_sev_name(EVT_SEV_NOTICE), "notice");
    assert_string_equal(evt_sev_name(EVT_SEV_WARNING), "warning");
    assert_string_equal(evt_sev_name(EVT_SEV_ERROR), "error");
    assert_string_equal(evt_sev_name(EVT_SEV_CRITICAL), "critical");
    assert_string_equal(evt_sev_name(EVT_SEV_COUNT), "?");
    assert_int_equal(evt_sev_letter(EVT_SEV_WARNING), 'W');
    assert_int_equal(evt_sev_letter(EVT_SEV_CRITICAL), 'C');
    assert_int_equal(evt_sev_letter(200), '?');
    static const char *const cats[] = {
        "system", "netif", "smtpd", "smtpc", "queue", "store", "config",
        "console", "tls"
    };
    assert_int_equal(sizeof(cats) / sizeof(cats[0]), EVT_CAT_COUNT);
    for (uint8_t c = 0; c < EVT_CAT_COUNT; c++) {
        assert_string_equal(evt_cat_name(c), cats[c]);
    }
    assert_string_equal(evt_cat_name(EVT_CAT_COUNT), "?");
}

static void test_causes(void **state)
{
    (void)state;
    assert_string_equal(evt_cause_text(EVT_CAUSE_NO_NETIF),
                        "no interface could be used");
    assert_string_equal(evt_cause_text(EVT_CAUSE_CONFIG_CORRUPT),
                        "configuration slot corrupt");
    assert_string_equal(evt_cause_text(EVT_CAUSE_STORE_INIT),
                        "message store could not be initialised");
    assert_string_equal(evt_cause_text(EVT_CAUSE_POOL), "memory pool exhausted");
    assert_null(evt_cause_text(EVT_CAUSE_NONE));
    assert_null(evt_cause_text(999));
}

/* ---- packing ------------------------------------------------------------ */

static void test_pack_netif_err(void **state)
{
    (void)state;
    static const int32_t errs[] = { 0, -1, -4, -16, 421, 554, 0x7780,
                                    -0x800000, 0x7FFFFF };
    for (size_t i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
        uint32_t a = evt_pack_netif_err(3, errs[i]);
        assert_int_equal(evt_unpack_netif(a), 3);
        assert_int_equal(evt_unpack_err(a), errs[i]);
    }
    uint32_t a = evt_pack_netif_err(EVT_SRC_NONE, -4);
    assert_int_equal(a, 0xFFFFFFFCu);
    assert_int_equal(evt_unpack_netif(a), EVT_SRC_NONE);
    assert_int_equal(evt_unpack_err(a), -4);
    assert_int_equal(evt_pack_netif_err(1, -4), 0x01FFFFFCu);
    /* out of 24-bit range saturates, never changes netif or sign */
    a = evt_pack_netif_err(2, INT32_MIN);
    assert_int_equal(evt_unpack_netif(a), 2);
    assert_int_equal(evt_unpack_err(a), -0x800000);
    a = evt_pack_netif_err(2, INT32_MAX);
    assert_int_equal(evt_unpack_netif(a), 2);
    assert_int_equal(evt_unpack_err(a), 0x7FFFFF);
}

static void test_pack_recovery_and_boot(void **state)
{
    (void)state;
    uint32_t a = evt_pack_recovery(1234, 5);
    assert_int_equal(a, (1234u << 16) | 5u);
    assert_int_equal(evt_unpack_recovered(a), 1234);
    assert_int_equal(evt_unpack_discarded(a), 5);
    a = evt_pack_recovery(70000, 0x10000);
    assert_int_equal(evt_unpack_recovered(a), 0xFFFF);
    assert_int_equal(evt_unpack_discarded(a), 0xFFFF);
    assert_int_equal(evt_pack_boot(3, 1, 2, 10), 0x0301020Au);
}

/* ---- formatting --------------------------------------------------------- */

static void test_format_example_line(void **state)
{
    (void)state;
    evt_set_resolvers(&all_resolvers);
    log_n(11);
    fake_now = 62345;   /* 00:01:02.345 */
    assert_string_equal(fmt_rec(EVT_MTA_BIND_FAIL, 0, evt_pack_netif_err(0, -4)),
        "#12 +00:01:02.345 W 9318 smtpc: could not bind to peer 'smarthost' "
        "over eth0: err -4 (Routing problem)");
}

static void test_format_netif_err_variants(void **state)
{
    (void)state;
    /* no resolvers: numbers only */
    assert_string_equal(fmt_msg(EVT_MTA_BIND_FAIL, 3, evt_pack_netif_err(1, -4)),
                        "could not bind to peer #3 over if1: err -4");
    evt_set_resolvers(&all_resolvers);
    assert_string_equal(fmt_msg(EVT_MTA_BIND_FAIL, 0, evt_pack_netif_err(1, 421)),
        "could not bind to peer 'smarthost' over ppp0: reply 421 "
        "(service not available)");
    assert_string_equal(fmt_msg(EVT_MTA_BIND_FAIL, 0, evt_pack_netif_err(0, 0x7780)),
        "could not bind to peer 'smarthost' over eth0: tls -0x7780");
    /* unknown / nameless indices fall back to numbers */
    assert_string_equal(fmt_msg(EVT_MTA_BIND_FAIL, 9, evt_pack_netif_err(2, -1)),
                        "could not bind to peer #9 over if2: err -1");
    assert_string_equal(
        fmt_msg(EVT_MTA_BIND_FAIL, EVT_SRC_NONE,
                evt_pack_netif_err(EVT_SRC_NONE, -4)),
        "could not bind to peer - over -: err -4 (Routing problem)");
}

static void test_format_tagged_errors(void **state)
{
    (void)state;
    evt_set_resolvers(&all_resolvers);
    /* each kind in its own words; lwIP's exactly as the untagged form */
    assert_string_equal(fmt_msg(EVT_MTA_BIND_FAIL, 0, evt_pack_netif_mta_err(0, mta_err_lwip(-4))),
        "could not bind to peer 'smarthost' over eth0: err -4 (Routing problem)");
    assert_string_equal(fmt_msg(EVT_MTA_BIND_FAIL, 0, evt_pack_netif_mta_err(1, mta_err_reply(421))),
        "could not bind to peer 'smarthost' over ppp0: reply 421 (service not available)");
    assert_string_equal(fmt_msg(EVT_MTA_BIND_FAIL, 0, evt_pack_netif_mta_err(0, mta_err_reply(0))),
        "could not bind to peer 'smarthost' over eth0: reply malformed (not an SMTP reply)");
    assert_string_equal(fmt_msg(EVT_MTA_BIND_FAIL, 0, evt_pack_netif_mta_err(0, mta_err_tls(-0x7080))),
        "could not bind to peer 'smarthost' over eth0: tls -0x7080");
    assert_string_equal(fmt_msg(EVT_MTA_BIND_FAIL, 0, evt_pack_netif_mta_err(0, mta_err_local(-4))),
        "could not bind to peer 'smarthost' over eth0: local -4");
    assert_string_equal(fmt_msg(EVT_MTA_BIND_FAIL, 0, evt_pack_netif_mta_err(0, mta_err_store(-6))),
        "could not bind to peer 'smarthost' over eth0: store -6");
    /* round trip, netif kept */
    uint32_t a = evt_pack_netif_mta_err(3, mta_err_tls(-0x2700));
    assert_int_equal(evt_unpack_netif(a), 3);
    assert_int_equal(evt_unpack_mta_err(a).kind, MTA_ERR_TLS);
    assert_int_equal(evt_unpack_mta_err(a).code, -0x2700);
    /* the untagged form gets the kind its range implies */
    assert_int_equal(evt_unpack_mta_err(evt_pack_netif_err(1, -4)).kind, MTA_ERR_LWIP);
    assert_int_equal(evt_unpack_mta_err(evt_pack_netif_err(1, 554)).kind, MTA_ERR_SMTP_REPLY);
    assert_int_equal(evt_unpack_mta_err(evt_pack_netif_err(1, 0x7080)).code, -0x7080);
}

static void test_format_sanitises_names(void **state)
{
    (void)state;
    char want[128];
    evt_set_resolvers(&all_resolvers);
    assert_string_equal(fmt_msg(EVT_NETIF_LINK_UP, 3, 0), "link up on bad??name");
    /* long names are cut at EVT_FMT_NAME_MAX */
    const char *longname = fake_peer_name(1);
    memcpy(want, "message 00000001 delivered to peer '", 36);
    size_t n = strlen(longname) < EVT_FMT_NAME_MAX ? strlen(longname)
                                                   : EVT_FMT_NAME_MAX;
    memcpy(want + 36, longname, n);
    want[36 + n] = '\'';
    want[37 + n] = '\0';
    assert_string_equal(fmt_msg(EVT_SMTPC_DELIVERED, 1, 1), want);
}

static void test_format_arg_kinds(void **state)
{
    (void)state;
    evt_set_resolvers(&all_resolvers);
    /* ERR */
    assert_string_equal(fmt_msg(EVT_MTA_LISTEN_FAIL, 0, (uint32_t)-8),
                        "could not listen on eth0: err -8 (Address in use)");
    assert_string_equal(fmt_msg(EVT_MTA_LISTEN_FAIL, 7, (uint32_t)INT32_MIN),
                        "could not listen on if7: err -2147483648");
    /* CAUSE */
    assert_string_equal(fmt_msg(EVT_MTA_INIT_FATAL, EVT_SRC_NONE, EVT_CAUSE_NO_NETIF),
        "fatal error while initialising the MTA: no interface could be used "
        "(cause 1)");
    assert_string_equal(fmt_msg(EVT_MTA_INIT_FATAL, EVT_SRC_NONE, 77),
                        "fatal error while initialising the MTA: (cause 77)");
    /* NONE, and {queue} */
    assert_string_equal(fmt_msg(EVT_STORE_RECOVERY_START, EVT_SRC_NONE, 0),
        "message store is being recovered: MTA was not shut down cleanly");
    assert_string_equal(fmt_msg(EVT_STORE_RECOVERY_QUEUE, EVT_QUEUE_ACTIVE, 0),
                        "recovery is checking queue 0 (active)");
    assert_string_equal(fmt_msg(EVT_STORE_RECOVERY_QUEUE, EVT_QUEUE_DEFERRED, 0),
                        "recovery is checking queue 1 (deferred)");
    assert_string_equal(fmt_msg(EVT_STORE_RECOVERY_QUEUE, EVT_QUEUE_BOUNCE, 0),
                        "recovery is checking queue 2 (bounce)");
    assert_string_equal(fmt_msg(EVT_STORE_RECOVERY_QUEUE, 7, 0),
                        "recovery is checking queue 7");
    /* RECOVERY */
    assert_string_equal(fmt_msg(EVT_STORE_RECOVERY_DONE, EVT_SRC_NONE,
                                evt_pack_recovery(12, 3)),
        "recovery completed: 12 messages recovered, 3 records discarded");
    /* COUNT, {src} */
    assert_string_equal(fmt_msg(EVT_SMTPD_LISTENING, 0, 25),
                        "listener started on eth0 port 25");
    assert_string_equal(fmt_msg(EVT_CONFIG_SAVED, 1, 4000000000u),
                        "configuration saved to slot 1 (generation 4000000000)");
    assert_string_equal(fmt_msg(EVT_CONSOLE_LOGIN_FAIL, EVT_SRC_NONE, 3),
        "console login failed on channel - (3 consecutive failures)");
    /* MSGID */
    assert_string_equal(fmt_msg(EVT_SMTPD_MSG_ACCEPTED, 1, 0xA1B2C3u),
                        "message 00A1B2C3 accepted on ppp0");
    assert_string_equal(fmt_msg(EVT_QUEUE_EXPIRED, EVT_QUEUE_DEFERRED, 0xDEADBEEFu),
                        "message DEADBEEF expired in queue 1 (deferred)");
    /* IPV4 */
    assert_string_equal(fmt_msg(EVT_NETIF_ADDR, 0, 0xC0A80001u),
                        "address of eth0 changed to 192.168.0.1");
    assert_string_equal(fmt_msg(EVT_SMTPD_RELAY_DENIED, 1, 0x0A000002u),
                        "relay denied to 10.0.0.2 on ppp0: 5.7.1 given");
    /* BOOT */
    assert_string_equal(fmt_msg(EVT_SYS_BOOT, EVT_SRC_NONE, evt_pack_boot(2, 1, 0, 3)),
                        "system started: reset cause 2, firmware 1.0.3");
    /* EPOCH, including a leap day and the end of u32 time */
    assert_string_equal(fmt_msg(EVT_SYS_CLOCK_SET, EVT_SRC_NONE, 1700000000u),
                        "clock set to 2023-11-14T22:13:20Z");
    assert_string_equal(fmt_msg(EVT_SYS_CLOCK_SET, EVT_SRC_NONE, 951782400u),
                        "clock set to 2000-02-29T00:00:00Z");
    assert_string_equal(fmt_msg(EVT_SYS_CLOCK_SET, EVT_SRC_NONE, 0xFFFFFFFFu),
                        "clock set to 2106-02-07T06:28:15Z");
    assert_string_equal(fmt_msg(EVT_SYS_CLOCK_SET, EVT_SRC_NONE, 0),
                        "clock set to 1970-01-01T00:00:00Z");
}

/* Every catalogue entry formats to one sane line with and without
 * resolvers, and no template token survives. */
static void test_format_every_entry(void **state)
{
    (void)state;
    for (int pass = 0; pass < 2; pass++) {
        evt_set_resolvers(pass == 0 ? NULL : &all_resolvers);
        for (size_t i = 0; i < evt_catalog_count(); i++) {
            const evt_def_t *d = evt_catalog_at(i);
            const char *line = fmt_rec(d->id, 0, 0x01FFFFFCu);
            assert_null(strstr(line, "{netif}"));
            assert_null(strstr(line, "{peer}"));
            assert_null(strstr(line, "{queue}"));
            assert_null(strstr(line, "{src}"));
            assert_null(strstr(line, "{arg}"));
            assert_non_null(strstr(line, evt_cat_name(d->cat)));
        }
    }
}

static void test_format_timestamps(void **state)
{
    (void)state;
    fake_now = 0;
    assert_string_equal(fmt_rec(EVT_NETIF_LINK_UP, 0, 0),
                        "#1 +00:00:00.000 I 1100 netif: link up on if0");
    fake_now = 3600000u * 25u + 59000u + 7u;
    assert_string_equal(fmt_rec(EVT_NETIF_LINK_DOWN, 0, 0),
                        "#2 +25:00:59.007 W 1101 netif: link down on if0");
    fake_now = UINT32_MAX;                   /* 1193:02:47.295 */
    assert_string_equal(fmt_rec(EVT_NETIF_LINK_UP, 0, 0),
                        "#3 +1193:02:47.295 I 1100 netif: link up on if0");

    /* wall clock known: ISO time; wall clock 0: uptime again */
    evt_set_resolvers(&all_resolvers);
    fake_epoch = 1700000000u;
    fake_now = 5000;
    assert_string_equal(fmt_rec(EVT_NETIF_LINK_UP, 0, 0),
                        "#4 2023-11-14T22:13:25Z I 1100 netif: link up on eth0");
    fake_epoch = 0;
    assert_string_equal(fmt_rec(EVT_NETIF_LINK_UP, 0, 0),
                        "#5 +00:00:05.000 I 1100 netif: link up on eth0");
    evt_set_resolvers(NULL);
    fake_epoch = 1700000000u;
    assert_string_equal(fmt_rec(EVT_NETIF_LINK_UP, 0, 0),
                        "#6 +00:00:05.000 I 1100 netif: link up on if0");
}

static void test_format_truncation(void **state)
{
    (void)state;
    char full[256];
    char small[16];
    evt_record_t r;
    evt_iter_t it;

    evt_set_resolvers(&all_resolvers);
    (void)evt_log(EVT_MTA_BIND_FAIL, 0, evt_pack_netif_err(0, -4));
    evt_iter_init(&it, (evt_filter_t){ EVT_FILTER_ALL, 0 });
    assert_true(evt_iter_next(&it, &r));
    int n = evt_format(&r, full, sizeof(full));
    assert_int_equal((size_t)n, strlen(full));

    for (size_t sz = 1; sz <= sizeof(small); sz++) {
        memset(small, 'X', sizeof(small));
        assert_int_equal(evt_format(&r, small, sz), n);
        assert_int_equal(strlen(small), sz - 1);
        assert_memory_equal(small, full, sz - 1);
    }
    assert_int_equal(evt_format(&r, NULL, 0), n);
    /* exactly fitting */
    char *exact = full + 128;
    assert_true((size_t)n + 1 <= 128);
    assert_int_equal(evt_format(&r, exact, (size_t)n + 1), n);
    assert_memory_equal(exact, full, (size_t)n + 1);
    assert_int_equal(asserts_hit, 0);
}

static void test_format_null_record_is_assert(void **state)
{
    (void)state;
    char buf[8] = "abc";
    assert_int_equal(evt_format(NULL, buf, sizeof(buf)), 0);
    assert_int_equal(asserts_hit, 1);
    assert_string_equal(buf, "");
}

/* ---- listener and resolvers -------------------------------------------- */

static void test_listener(void **state)
{
    (void)state;
    evt_set_listener(fake_listener);
    fake_now = 77;
    uint32_t seq = evt_log(EVT_QUEUE_FULL, 1, 42);
    assert_int_equal(listener_calls, 1);
    assert_int_equal(listener_last.seq, seq);
    assert_int_equal(listener_last.ts_ms, 77);
    assert_int_equal(listener_last.id, EVT_QUEUE_FULL);
    assert_int_equal(listener_last.src, 1);
    assert_int_equal(listener_last.arg, 42);
    (void)evt_log(4242, 0, 0);               /* unknown ids are shown too */
    assert_int_equal(listener_calls, 2);
    assert_int_equal(listener_last.sev, EVT_SEV_ERROR);
    evt_set_listener(NULL);
    (void)evt_log(EVT_QUEUE_FULL, 1, 42);
    assert_int_equal(listener_calls, 2);
}

static void test_listener_that_logs_does_not_recurse(void **state)
{
    (void)state;
    evt_stats_t st;
    evt_set_listener(logging_listener);
    assert_int_equal(evt_log(EVT_SYS_BOOT, EVT_SRC_NONE, 0), 1);
    assert_int_equal(listener_calls, 1);
    assert_int_equal(listener_last.seq, 1);
    evt_stats(&st);
    assert_int_equal(st.count, 2);           /* the nested event is stored */
    assert_int_equal(evt_log(EVT_SYS_BOOT, EVT_SRC_NONE, 0), 3);
    assert_int_equal(listener_calls, 2);
    evt_init(fake_clock);                    /* init removes the listener */
    (void)evt_log(EVT_SYS_BOOT, EVT_SRC_NONE, 0);
    assert_int_equal(listener_calls, 2);
}

static void test_resolvers_copied(void **state)
{
    (void)state;
    evt_resolvers_t r = { .netif_name = fake_netif_name };
    evt_set_resolvers(&r);
    memset(&r, 0, sizeof(r));                /* caller's copy may go away */
    assert_string_equal(fmt_msg(EVT_NETIF_LINK_UP, 1, 0), "link up on ppp0");
    evt_init(fake_clock);                    /* init removes resolvers */
    assert_string_equal(fmt_msg(EVT_NETIF_LINK_UP, 1, 0), "link up on if1");
}

#define T(fn) cmocka_unit_test_setup(fn, setup)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_record_size),
        T(test_init_state),
        T(test_log_fields),
        T(test_null_clock),
        T(test_unknown_id_logged_as_error),
        T(test_wraparound_keeps_order),
        T(test_wraparound_many_laps),
        T(test_dropped_counter),
        T(test_clear_keeps_seq),
        T(test_clear_after_wrap),
        T(test_filter_last_n),
        T(test_filter_last_n_wrapped),
        T(test_filter_since),
        T(test_filter_since_overwritten),
        T(test_filter_by_id),
        T(test_filter_unknown_kind),
        T(test_iter_snapshot_and_overwrite_during_iteration),
        T(test_catalog_mandatory),
        T(test_catalog_informational),
        T(test_catalog_unique_and_complete),
        T(test_catalog_templates),
        T(test_names),
        T(test_causes),
        T(test_pack_netif_err),
        T(test_format_tagged_errors),
        T(test_pack_recovery_and_boot),
        T(test_format_example_line),
        T(test_format_netif_err_variants),
        T(test_format_sanitises_names),
        T(test_format_arg_kinds),
        T(test_format_every_entry),
        T(test_format_timestamps),
        T(test_format_truncation),
        T(test_format_null_record_is_assert),
        T(test_listener),
        T(test_listener_that_logs_does_not_recurse),
        T(test_resolvers_copied),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
