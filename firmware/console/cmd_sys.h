/* cmd_sys.h - the console's command set: the system commands and the
 * registry of every module's command table. */
#ifndef CMD_SYS_H
#define CMD_SYS_H

#include <stdbool.h>

#include "console/cmd_env.h"
#include "console/con.h"

/* Register all command tables with the console engine. env must outlive
 * the console. */
void cmd_init(const cmd_env_t *env);
/* The first line of `version` (also the boot banner's). */
void cmd_sys_print_version(void);
/* `events live`. */
void cmd_sys_emit_config(con_emit_fn emit, void *ctx, bool show_secrets);

#endif
