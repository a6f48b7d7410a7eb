/* cmd_login.h - the console password: `console password`, `console
 * password-hash`, `logout`, and its line of the running-config. The engine
 * (con.c) runs the login gate; this module owns the password it checks. */
#ifndef CMD_LOGIN_H
#define CMD_LOGIN_H

#include <stdbool.h>
#include <stddef.h>

#include "console/con.h"

const con_cmd_t *cmd_login_commands(void);
/* `console password-hash SALT HASH` when a password is set; the salt and
 * hash are the secret. */
void cmd_login_emit_config(con_emit_fn emit, void *ctx, bool show_secrets);
/* A saved `console password-hash` line with its secret hidden. */
bool cmd_login_hide_config(const char *line, size_t len, con_emit_fn emit, void *ctx);

#endif
