/* cmd.h - the console's command set: the system commands and the registry of
 * every module's command table. */
#ifndef CMD_H
#define CMD_H

/* Register all command tables with the console engine. */
void cmd_init(void);

#endif
