/* cfg.h - the configuration: the running-config built from every command
 * module's own lines (con_emit_fn, con.h), `save` to flash (two slots),
 * replay at boot. cfg owns no setting and knows no module: it calls the
 * emitters it is given, in their order, stores the text and replays it. */
#ifndef CFG_H
#define CFG_H

#include <stdbool.h>
#include <stddef.h>

#include "console/con.h"

/* At boot: apply the newest valid saved configuration, or else the factory
 * lines (logging 9266 when a saved configuration was found corrupt); with a
 * saved console password the console starts locked. */
void cfg_boot(const char *const *factory_lines);
const con_cmd_t *cfg_commands(void);

/* A module's running-config lines, and its saved lines with their secrets
 * hidden (true when line was one of them). See con_emit_fn. */
typedef void (*cfg_emitter_fn)(con_emit_fn emit, void *ctx, bool show_secrets);
typedef bool (*cfg_hider_fn)(const char *line, size_t len, con_emit_fn emit, void *ctx);

/* Every module that has running-config lines, emitters in replay order
 * (which is also the saved format): a line may name only what an earlier
 * line made. Kept by reference. Registered by cmd_init() with the command
 * tables. */
typedef struct {
    const cfg_emitter_fn *emitters;
    size_t n_emitters;
    const cfg_hider_fn *hiders; /* the modules whose lines can carry a secret */
    size_t n_hiders;
} cfg_modules_t;
void cfg_init(const cfg_modules_t *modules);

#endif
