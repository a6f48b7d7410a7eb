/* cmd_mta.h - console commands of the MTA: clock, queue, stats, peers, routes, relay. */
#ifndef CMD_MTA_H
#define CMD_MTA_H
#include "console/con.h"
const con_cmd_t *cmd_mta_commands(void);
#endif
