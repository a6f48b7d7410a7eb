/* cmd_if.h - console command `interface` and its running-config lines. */
#ifndef CMD_IF_H
#define CMD_IF_H

#include <stdbool.h>

#include "console/con.h"

const con_cmd_t *cmd_if_commands(void);
/* One `interface` line per interface (no secrets). */
void cmd_if_emit_config(con_emit_fn emit, void *ctx, bool show_secrets);

#endif
