/* cmd_tls.h - console commands of TLS on the interfaces (see cmd_tls.c)
 * and their part of the running-config. */
#ifndef CMD_TLS_H
#define CMD_TLS_H

#include <stdbool.h>
#include <stdint.h>

#include "console/con.h"

const con_cmd_t *cmd_tls_commands(void);
/* "off" / "offer" / "required" (SMTPD_NET_POLICY_*). */
const char *cmd_tls_policy_name(uint8_t p);
/* `tls policy` and `auth policy` per interface. */
void cmd_tls_emit_config(con_emit_fn emit, void *ctx, bool show_secrets);

#endif
