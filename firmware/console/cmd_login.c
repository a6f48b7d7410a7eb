/* The console password (salted SHA-256, see pwhash.h). The console engine
 * runs the login gate and its lockout; this module holds the one copy of
 * the password's hash and answers the gate's question. */
#include "console/cmd_login.h"

#include <string.h>

#include "board.h"
#include "evt/evt.h"
#include "tls/pwhash.h"

#define LOGIN_PW_MIN 8   /* characters of a console password */
#define LOGIN_PW_MAX 64

static bool login_set;
static pwhash_t login_pw;

static bool login_check(const char *line)
{
    return pwhash_check(&login_pw, line);
}

static void login_failed(uint32_t fails)
{
    evt_log(EVT_CONSOLE_LOGIN_FAIL, 0, fails);
}

static const con_login_t login_ops = { login_check, board_now_ms, login_failed };

static int cmd_console_password(int argc, char **argv)
{
    (void)argc;
    if (strcmp(argv[0], "none") == 0) {
        login_set = false;
        con_set_login(NULL);
        return 0;
    }
    size_t n = strlen(argv[0]);
    if (n < LOGIN_PW_MIN || n > LOGIN_PW_MAX) {
        con_error("password must be %d-%d characters", LOGIN_PW_MIN, LOGIN_PW_MAX);
        return CON_ERR_FAIL;
    }
    pwhash_make(&login_pw, argv[0]);
    login_set = true;
    con_set_login(&login_ops);
    memset(argv[0], 0, n); /* do not leave it in the line buffer */
    con_printf("console password set (stored as a salted hash; 'save' to keep it)\n");
    return 0;
}

static int cmd_console_password_hash(int argc, char **argv)
{
    (void)argc;
    if (pwhash_from_hex(argv[0], argv[1], &login_pw) < 0) {
        con_error("bad password hash (want SALT HASH as %d and %d hex digits)", 2 * PWHASH_SALT_LEN, 2 * PWHASH_LEN);
        return CON_ERR_FAIL;
    }
    login_set = true;
    con_set_login(&login_ops);
    return 0;
}

static int cmd_logout(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    if (con_lock() != CON_OK) {
        con_error("no console password is set ('console password PASSWORD')");
        return CON_ERR_FAIL;
    }
    return 0;
}

void cmd_login_emit_config(con_emit_fn emit, void *ctx, bool show_secrets)
{
    if (!login_set) {
        return;
    }
    char t[PWHASH_TEXT_MAX];
    pwhash_to_text(&login_pw, t);
    emit(ctx, "console password-hash %s\n", show_secrets ? t : CON_HIDDEN);
}

bool cmd_login_hide_config(const char *line, size_t len, con_emit_fn emit, void *ctx)
{
    /* console password-hash SALT HASH: words 2 and 3 */
    return con_hide_words(line, len, "console password-hash", 2, 3, emit, ctx);
}

static const con_cmd_t cmd_login_table[] = {
    { "console password", "PASSWORD|none", "require a password on the console", cmd_console_password, 1, 1 },
    { "console password-hash", "SALT HASH", "set the password from a saved hash (running-config)",
      cmd_console_password_hash, 2, 2 },
    { "logout", "", "lock the console (when a password is set)", cmd_logout, 0, 0 },
    { NULL, NULL, NULL, NULL, 0, 0 },
};

const con_cmd_t *cmd_login_commands(void)
{
    return cmd_login_table;
}
