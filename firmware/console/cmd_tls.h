/* cmd_tls.h - console commands of TLS and SMTP AUTH (see cmd_tls.c) and
 * their part of the running-config. */
#ifndef CMD_TLS_H
#define CMD_TLS_H

#include <stdint.h>
#include "console/con.h"

const con_cmd_t *cmd_tls_commands(void);
/* "off" / "offer" / "required" (SMTPD_NET_POLICY_*). */
const char *cmd_tls_policy_name(uint8_t p);
/* Append the TLS/AUTH lines of the running-config through add():
 * interface policies and users; and per peer (after its `peer add`). The
 * lines carry secrets (hashes, peer passwords): cfg masks them on display. */
void cmd_tls_config(void (*add)(const char *fmt, ...));
void cmd_tls_peer_config(unsigned peer, const char *name, void (*add)(const char *fmt, ...));

#endif
