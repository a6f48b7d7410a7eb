/* unit: firmware/console/cmd_auth.c firmware/console/con.c firmware/lib/fmt.c firmware/lib/sasl.c firmware/route/route.c firmware/route/peertls.c firmware/tls/users.c firmware/tls/pwhash.c .cache/deps/mbedtls/library/sha256.c .cache/deps/mbedtls/library/platform_util.c */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "console/cmd_auth.h"
#include "route/peertls.h"
#include "route/route.h"
#include "tls/users.h"

/* pwhash draws its salt from the board. */
uint32_t board_rand(void);
uint32_t board_rand(void)
{
    static uint32_t x = 99;
    x = x * 1103515245u + 12345u;
    return x;
}

/* ---------------- harness ---------------- */

#include "console/con_harness.h"

/* Both emitters, in the running-config's order. */
static const char *emit(bool show_secrets)
{
    emitted_len = 0;
    emitted[0] = '\0';
    cmd_auth_emit_peers(sink, &emitted, show_secrets);
    cmd_auth_emit_config(sink, &emitted, show_secrets);
    return emitted;
}

static const char *hide(const char *line)
{
    emitted_len = 0;
    emitted[0] = '\0';
    return cmd_auth_hide_config(line, strlen(line), sink, &emitted) ? emitted : NULL;
}

static const con_cmd_t *tables[1];

static void add_peer(const char *name, uint32_t addr)
{
    route_peer_t p;
    const char *why;
    memset(&p, 0, sizeof(p));
    snprintf(p.name, sizeof(p.name), "%s", name);
    p.addr = addr;
    p.port = 25;
    p.via = ROUTE_NETIF_AUTO;
    p.mode = ROUTE_MODE_FAILOVER;
    assert_true(route_peer_add(&p, &why) >= 0);
}

static int setup(void **state)
{
    (void)state;
    route_init(1);
    peertls_init();
    users_init();
    add_peer("hub", 0x0A000264u);
    add_peer("backup", 0x0A000265u);
    tables[0] = cmd_auth_commands();
    con_init(tables, 1);
    return 0;
}

/* Replay text (lines ending in "\n") through the console, as the boot does. */
static void replay(const char *text)
{
    char line[CON_LINE_MAX + 1];
    while (*text != '\0') {
        size_t n = strcspn(text, "\n");
        assert_true(n < sizeof line);
        memcpy(line, text, n);
        line[n] = '\0';
        assert_int_equal(con_exec(line), CON_OK);
        text += n + (text[n] == '\n');
    }
}

/* ---------------- tests ---------------- */

static void test_defaults(void **state)
{
    (void)state;
    assert_string_equal(emit(false), "peer tls hub may\npeer tls backup may\n");
}

static void test_secrets_hidden_unless_asked(void **state)
{
    (void)state;
    assert_int_equal(con_exec("peer auth hub relay s3cret-pw plaintext-ok"), CON_OK);
    assert_int_equal(con_exec("peer auth backup relay2 other-pw"), CON_OK);
    assert_int_equal(con_exec("peer tls backup verify mx.example.net"), CON_OK);
    assert_int_equal(con_exec("user add alice alice-password"), CON_OK);
    const char *shown = emit(false);
    assert_string_equal(shown, "peer tls hub may\n"
                               "peer auth hub relay <hidden> plaintext-ok\n"
                               "peer tls backup verify mx.example.net\n"
                               "peer auth backup relay2 <hidden>\n"
                               "user hash alice <hidden>\n");
    const char *full = emit(true);
    assert_non_null(strstr(full, "peer auth hub relay s3cret-pw plaintext-ok\n"));
    assert_non_null(strstr(full, "peer auth backup relay2 other-pw\n"));
    assert_null(strstr(full, "<hidden>"));
    assert_null(strstr(full, "alice-password")); /* users are kept as hashes only */
    assert_null(strstr(out(), "s3cret-pw"));
}

/* What save stores recreates the same state: replay on a fresh device and
 * emit again. */
static void test_saved_lines_replay(void **state)
{
    (void)state;
    char saved[sizeof emitted];
    assert_int_equal(con_exec("peer auth hub relay s3cret-pw"), CON_OK);
    assert_int_equal(con_exec("peer tls hub fingerprint "
                              "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"), CON_OK);
    assert_int_equal(con_exec("user add alice alice-password"), CON_OK);
    assert_int_equal(con_exec("user add bob bob-password"), CON_OK);
    snprintf(saved, sizeof saved, "%s", emit(true));
    setup(NULL);
    assert_string_not_equal(emit(true), saved);
    replay(saved);
    assert_string_equal(emit(true), saved);
    assert_true(users_check("alice", "alice-password"));
    assert_string_equal(peertls_get(0)->pass, "s3cret-pw");
}

/* show startup-config: this module's saved lines with the same words
 * hidden as the running-config hides. */
static void test_hide_saved_lines(void **state)
{
    (void)state;
    assert_string_equal(hide("peer auth hub relay s3cret-pw plaintext-ok"),
                        "peer auth hub relay <hidden> plaintext-ok\n");
    assert_string_equal(hide("user hash alice 0011 2233"), "user hash alice <hidden>\n");
    assert_string_equal(hide("peer auth hub none"), "peer auth hub none\n");
    assert_null(hide("peer tls hub may"));
    assert_null(hide("user add alice x"));
    assert_null(hide("console password-hash aa bb"));
    /* every saved line this module emits with a secret is one it hides */
    assert_int_equal(con_exec("peer auth hub relay s3cret-pw"), CON_OK);
    assert_int_equal(con_exec("user add alice alice-password"), CON_OK);
    char saved[sizeof emitted], *p = saved;
    snprintf(saved, sizeof saved, "%s", emit(true));
    unsigned hidden = 0;
    while (*p != '\0') {
        size_t n = strcspn(p, "\n");
        emitted_len = 0;
        if (cmd_auth_hide_config(p, n, sink, &emitted)) {
            assert_non_null(strstr(emitted, "<hidden>"));
            assert_null(strstr(emitted, "s3cret-pw"));
            hidden++;
        }
        p += n + 1;
    }
    assert_int_equal(hidden, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_defaults, setup),
        cmocka_unit_test_setup(test_secrets_hidden_unless_asked, setup),
        cmocka_unit_test_setup(test_saved_lines_replay, setup),
        cmocka_unit_test_setup(test_hide_saved_lines, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
