/* cmd_if.h - console command `interface`. */
#ifndef CMD_IF_H
#define CMD_IF_H
#include "console/con.h"
const con_cmd_t *cmd_if_commands(void);
#endif
