/* cmd_auth.h - console commands of credentials (see cmd_auth.c): SMTP
 * AUTH users, the peers' TLS levels and AUTH credentials, and their part of
 * the running-config. */
#ifndef CMD_AUTH_H
#define CMD_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "console/con.h"

const con_cmd_t *cmd_auth_commands(void);
/* `user hash` per user (the salt and hash are secret). */
void cmd_auth_emit_config(con_emit_fn emit, void *ctx, bool show_secrets);
/* `peer tls` and `peer auth` per peer (the password is secret); after the
 * peers' `peer add` lines. */
void cmd_auth_emit_peers(con_emit_fn emit, void *ctx, bool show_secrets);
/* A saved `user hash` or `peer auth` line with its secret hidden. */
bool cmd_auth_hide_config(const char *line, size_t len, con_emit_fn emit, void *ctx);

#endif
