/* cmd_tls.h - console commands of TLS and SMTP AUTH (see cmd_tls.c) and
 * their part of the running-config. */
#ifndef CMD_TLS_H
#define CMD_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "console/con.h"

const con_cmd_t *cmd_tls_commands(void);
/* "off" / "offer" / "required" (SMTPD_NET_POLICY_*). */
const char *cmd_tls_policy_name(uint8_t p);
/* `tls policy` and `auth policy` per interface, `user hash` per user (the
 * salt and hash are secret). */
void cmd_tls_emit_config(con_emit_fn emit, void *ctx, bool show_secrets);
/* `peer tls` and `peer auth` per peer (the password is secret); after the
 * peers' `peer add` lines. */
void cmd_tls_emit_peers(con_emit_fn emit, void *ctx, bool show_secrets);
/* A saved `user hash` or `peer auth` line with its secret hidden. */
bool cmd_tls_hide_config(const char *line, size_t len, con_emit_fn emit, void *ctx);

#endif
