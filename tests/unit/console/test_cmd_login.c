/* unit: firmware/console/cmd_login.c firmware/console/con.c firmware/lib/fmt.c firmware/tls/pwhash.c .cache/deps/mbedtls/library/sha256.c .cache/deps/mbedtls/library/platform_util.c */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "board.h"
#include "console/cmd_login.h"
#include "evt/evt.h"

/* ---------------- what the module needs from the board and evt ---------------- */

static uint32_t now_ms;
uint32_t board_now_ms(void)
{
    return now_ms;
}

uint32_t board_rand(void)
{
    static uint32_t x = 7;
    x = x * 1103515245u + 12345u;
    return x;
}

static uint16_t last_evt_id;
static uint32_t last_evt_arg, n_evt;
uint32_t evt_log(uint16_t id, uint8_t src, uint32_t arg)
{
    (void)src;
    last_evt_id = id;
    last_evt_arg = arg;
    return ++n_evt;
}

/* ---------------- harness ---------------- */

#include "console/con_harness.h"

static const char *emit(bool show_secrets)
{
    emitted_len = 0;
    emitted[0] = '\0';
    cmd_login_emit_config(sink, &emitted, show_secrets);
    return emitted;
}

static const char *hide(const char *line)
{
    emitted_len = 0;
    emitted[0] = '\0';
    if (!cmd_login_hide_config(line, strlen(line), sink, &emitted)) {
        return NULL;
    }
    return emitted;
}

static const con_cmd_t *tables[1];

static int setup(void **state)
{
    (void)state;
    tables[0] = cmd_login_commands();
    con_init(tables, 1);
    assert_int_equal(con_exec("console password none"), CON_OK);
    out();
    n_evt = 0;
    return 0;
}

/* ---------------- tests ---------------- */

static void test_no_password_no_line(void **state)
{
    (void)state;
    assert_string_equal(emit(false), "");
    assert_string_equal(emit(true), "");
    assert_int_equal(con_exec("logout"), CON_ERR_FAIL);
    assert_string_equal(out(), "% no console password is set ('console password PASSWORD')\r\n");
}

static void test_secret_hidden_unless_asked(void **state)
{
    (void)state;
    assert_int_equal(con_exec("console password correct-horse"), CON_OK);
    assert_string_equal(emit(false), "console password-hash <hidden>\n");
    const char *full = emit(true);
    /* salt and hash: 32 and 64 hex digits; never the password */
    assert_int_equal(strlen(full), strlen("console password-hash ") + 32 + 1 + 64 + 1);
    assert_null(strstr(full, "correct-horse"));
    assert_null(strstr(full, "<hidden>"));
}

/* The saved line recreates the same password: replay on a fresh console. */
static void test_saved_line_replays(void **state)
{
    (void)state;
    char saved[256];
    assert_int_equal(con_exec("console password correct-horse"), CON_OK);
    snprintf(saved, sizeof saved, "%s", emit(true));
    saved[strlen(saved) - 1] = '\0'; /* a config line, without its newline */
    setup(NULL);
    assert_string_equal(emit(true), "");
    assert_int_equal(con_exec(saved), CON_OK);
    strcat(saved, "\n");
    assert_string_equal(emit(true), saved);
    /* and the console takes that password */
    assert_int_equal(con_exec("logout"), CON_OK);
    assert_true(con_locked());
    out();
    con_input((const uint8_t *)"wrong-one\r", 10);
    assert_non_null(strstr(out(), "% wrong password (locked for 1 s)"));
    assert_int_equal(last_evt_id, EVT_CONSOLE_LOGIN_FAIL);
    assert_int_equal(last_evt_arg, 1);
    now_ms += 1000;
    con_input((const uint8_t *)"correct-horse\r", 14);
    assert_false(con_locked());
    assert_int_equal(n_evt, 1);
}

/* show startup-config: a saved line is hidden by the module, whatever
 * follows the secret words; other lines are not this module's. */
static void test_hide_saved_lines(void **state)
{
    (void)state;
    assert_string_equal(hide("console password-hash 00112233445566778899aabbccddeeff "
                             "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"),
                        "console password-hash <hidden>\n");
    assert_string_equal(hide("console password-hash aa bb extra"), "console password-hash <hidden> extra\n");
    assert_null(hide("console password-hash"));
    assert_null(hide("console password-hashes aa bb"));
    assert_null(hide("console password none"));
    assert_null(hide("user hash alice aa bb"));
}

static void test_password_rules(void **state)
{
    (void)state;
    assert_int_equal(con_exec("console password short"), CON_ERR_FAIL);
    assert_string_equal(out(), "% password must be 8-64 characters\r\n");
    assert_int_equal(con_exec("console password-hash 00 11"), CON_ERR_FAIL);
    assert_non_null(strstr(out(), "bad password hash"));
    assert_string_equal(emit(true), "");
    /* none removes it, and its line */
    assert_int_equal(con_exec("console password correct-horse"), CON_OK);
    assert_int_equal(con_exec("console password none"), CON_OK);
    assert_string_equal(emit(true), "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_no_password_no_line, setup),
        cmocka_unit_test_setup(test_secret_hidden_unless_asked, setup),
        cmocka_unit_test_setup(test_saved_line_replays, setup),
        cmocka_unit_test_setup(test_hide_saved_lines, setup),
        cmocka_unit_test_setup(test_password_rules, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
