/* cmd_mta.h - console commands of the MTA: clock, queue, stats, peers,
 * routes, listeners, relay, limits; and their running-config lines. */
#ifndef CMD_MTA_H
#define CMD_MTA_H

#include <stdbool.h>

#include "console/con.h"

const con_cmd_t *cmd_mta_commands(void);
/* `listener` and `relay` per interface. */
void cmd_mta_emit_listeners(con_emit_fn emit, void *ctx, bool show_secrets);
/* `peer add` per peer: first without failover lists (which may name later
 * peers), then again with them (`peer add` on an existing name modifies). */
void cmd_mta_emit_peers(con_emit_fn emit, void *ctx, bool show_secrets);
/* `route add`, `limit`, `queue retry`. */
void cmd_mta_emit_config(con_emit_fn emit, void *ctx, bool show_secrets);

#endif
