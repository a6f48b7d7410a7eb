/* cfg.h - the configuration: running-config as console commands, save to
 * flash, restore at boot, console password. */
#ifndef CFG_H
#define CFG_H

#include "console/con.h"

/* At boot: apply the newest valid saved configuration, or else the factory
 * lines (logging 9266 when a saved configuration was found corrupt). */
void cfg_boot(const char *const *factory_lines);
const con_cmd_t *cfg_commands(void);

#endif
