/* Configuration: the running configuration as console commands, saved to
 * and restored from flash.
 *
 * The configuration has one form: console command lines.  `show
 * running-config` prints the lines that recreate the current state; `save`
 * stores exactly that text in the config partition (two slots, atomic, see
 * twoslot.h); boot replays it through the console dispatcher, so a saved
 * configuration is validated by the same code as a typed one.
 *
 * cfg owns none of the settings: each command module emits its own lines
 * and hides its own secrets (cfg.h); cmd_init() registers them. */
#include "console/cfg.h"

#include <string.h>

#include "board.h"
#include "evt/evt.h"
#include "flash/flash.h"
#include "lib/twoslot.h"
#include "tls/tls.h"

static const cfg_modules_t *cfg_mods;

static char cfg_text[TWOSLOT_MAX + 1];   /* running-config as text (also the save buffer) */
static size_t cfg_len;
static bool cfg_overflow;
static char cfg_startup[TWOSLOT_MAX + 1];
static size_t cfg_startup_len;
static bool cfg_have_startup;

/* ------------------------------------------------------------ text builder */

static void cfg_add(void *ctx, const char *fmt, ...) FMT_PRINTF(2, 3);
static void cfg_add(void *ctx, const char *fmt, ...)
{
    (void)ctx;
    va_list ap;
    va_start(ap, fmt);
    int n = fmt_vsnprintf(cfg_text + cfg_len, sizeof(cfg_text) - cfg_len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(cfg_text) - cfg_len) {
        cfg_overflow = true;
        cfg_text[cfg_len] = 0;
        return;
    }
    cfg_len += (size_t)n;
}

/* Console output of emitted text. */
static void cfg_out(void *ctx, const char *fmt, ...) FMT_PRINTF(2, 3);
static void cfg_out(void *ctx, const char *fmt, ...)
{
    (void)ctx;
    char buf[CON_LINE_MAX + 2];
    va_list ap;
    va_start(ap, fmt);
    int n = fmt_vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n > 0) {
        con_write(buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1u);
    }
}

void cfg_init(const cfg_modules_t *modules)
{
    cfg_mods = modules;
}

static void cfg_emit_all(con_emit_fn emit, bool show_secrets)
{
    for (size_t i = 0; i < cfg_mods->n_emitters; i++) {
        cfg_mods->emitters[i](emit, NULL, show_secrets);
    }
}

/* Build the running configuration, secrets included, into cfg_text.
 * Deterministic: printing, replaying on a factory-reset device and printing
 * again gives the same text. */
static int cfg_build(void)
{
    cfg_len = 0;
    cfg_overflow = false;
    cfg_text[0] = 0;
    cfg_emit_all(cfg_add, true);
    return cfg_overflow ? -1 : 0;
}

/* ---------------------------------------------------------------- commands */

static void cfg_print_saved(const char *text, size_t len, bool reveal)
{
    const char *p = text, *end = text + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
        bool hidden = false;
        for (size_t k = 0; !reveal && !hidden && k < cfg_mods->n_hiders; k++) {
            hidden = cfg_mods->hiders[k](p, n, cfg_out, NULL);
        }
        if (!hidden) {
            con_write(p, n);
            con_write("\n", 1);
        }
        p += n + (nl != NULL);
    }
}

static bool cfg_reveal_arg(int argc, char **argv, bool *reveal)
{
    *reveal = argc == 1 && strcmp(argv[0], "secrets") == 0;
    return argc == 0 || *reveal;
}

static bool cfg_dirty(void)
{
    return !cfg_have_startup || cfg_len != cfg_startup_len || memcmp(cfg_text, cfg_startup, cfg_len) != 0;
}

static int cmd_show_running(int argc, char **argv)
{
    bool reveal;
    if (!cfg_reveal_arg(argc, argv, &reveal)) {
        return CON_ERR_USAGE;
    }
    if (cfg_build() < 0) {
        con_error("configuration larger than %u bytes: cannot print or save it whole", (unsigned)TWOSLOT_MAX);
        return CON_ERR_FAIL;
    }
    con_printf("! running-config, %u bytes%s\n", (unsigned)cfg_len,
               cfg_dirty() ? ", UNSAVED changes (differs from startup-config)" : ", saved");
    cfg_emit_all(cfg_out, reveal);
    return 0;
}

static int cmd_show_startup(int argc, char **argv)
{
    bool reveal;
    if (!cfg_reveal_arg(argc, argv, &reveal)) {
        return CON_ERR_USAGE;
    }
    if (!cfg_have_startup) {
        con_printf("! no startup-config saved: the device boots with factory defaults\n");
        return 0;
    }
    con_printf("! startup-config, %u bytes\n", (unsigned)cfg_startup_len);
    cfg_print_saved(cfg_startup, cfg_startup_len, reveal);
    return 0;
}

static int cmd_save(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    const flash_part_t *part = board_flash_partition("config");
    if (part == NULL) {
        con_error("no flash on this device: the configuration cannot be saved");
        return CON_ERR_FAIL;
    }
    if (cfg_build() < 0) {
        con_error("configuration larger than %u bytes: not saved", (unsigned)TWOSLOT_MAX);
        return CON_ERR_FAIL;
    }
    twoslot_info_t info;
    int r = twoslot_save(part, cfg_text, cfg_len, &info);
    if (r != TWOSLOT_OK) {
        con_error("save failed (error %d): the previous startup-config is unchanged", r);
        return CON_ERR_FAIL;
    }
    memcpy(cfg_startup, cfg_text, cfg_len);
    cfg_startup_len = cfg_len;
    cfg_have_startup = true;
    evt_log(EVT_CONFIG_SAVED, (uint8_t)info.slot, info.seq[info.slot]);
    con_printf("saved %u bytes to slot %d (generation %lu)\n", (unsigned)cfg_len, info.slot,
               (unsigned long)info.seq[info.slot]);
    return 0;
}

static int cmd_factory_reset(int argc, char **argv)
{
    if (argc != 1 || strcmp(argv[0], "confirm") != 0) {
        con_error("this erases the saved configuration and the TLS keys; type 'factory-reset confirm' to do it");
        return CON_ERR_FAIL;
    }
    const flash_part_t *part = board_flash_partition("config");
    if (part != NULL && twoslot_erase(part) != TWOSLOT_OK) {
        con_error("erase failed: the saved configuration may still be there");
        return CON_ERR_FAIL;
    }
    cfg_have_startup = false;
    /* A device reset for another site must not keep this one's keys. */
    if (tls_erase_stored() != 0) {
        con_error("configuration erased, but erasing the TLS keys and certificates failed");
        return CON_ERR_FAIL;
    }
    con_printf("saved configuration, TLS keys, certificates and CA certificates erased; "
               "'reboot' starts with factory defaults and new self-signed certificates\n");
    return 0;
}

static const con_cmd_t cfg_table[] = {
    { "show running-config", "[secrets]", "the configuration as the commands that recreate it (secrets hidden)",
      cmd_show_running, 0, 1 },
    { "show startup-config", "[secrets]", "the configuration saved in flash (secrets hidden)", cmd_show_startup, 0, 1 },
    { "save", "", "write the running-config to flash (atomically)", cmd_save, 0, 0 },
    { "factory-reset", "confirm", "erase the saved configuration, TLS keys and certificates", cmd_factory_reset, 0, 1 },
    { NULL, NULL, NULL, NULL, 0, 0 },
};

const con_cmd_t *cfg_commands(void)
{
    return cfg_table;
}

/* ---------------------------------------------------------------- boot */

static void cfg_apply(const char *text, size_t len)
{
    static char line[CON_LINE_MAX + 1];
    const char *p = text, *end = text + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
        if (n > 0 && n <= CON_LINE_MAX && p[0] != '!') {
            memcpy(line, p, n);
            line[n] = 0;
            con_exec(line);
        }
        p += n + (nl != NULL);
    }
}

void cfg_boot(const char *const *factory)
{
    const flash_part_t *part = board_flash_partition("config");
    if (part != NULL) {
        twoslot_info_t info;
        uint32_t seq = 0;
        int r = twoslot_load(part, cfg_startup, sizeof(cfg_startup) - 1, &cfg_startup_len, &seq, &info);
        if (r == TWOSLOT_OK) {
            cfg_startup[cfg_startup_len] = 0;
            cfg_have_startup = true;
            evt_log(EVT_CONFIG_LOADED, (uint8_t)info.slot, seq);
            if (info.any_corrupt) {
                evt_log(EVT_MTA_INIT_FATAL, EVT_SRC_NONE, EVT_CAUSE_CONFIG_CORRUPT);
            }
            cfg_apply(cfg_startup, cfg_startup_len);
            (void)con_lock(); /* a saved console password guards the console from boot on */
            return;
        }
        if (info.any_corrupt || r == TWOSLOT_ERR_IO) {
            /* Nothing valid and something was there: say so, then factory defaults. */
            evt_log(EVT_MTA_INIT_FATAL, EVT_SRC_NONE, EVT_CAUSE_CONFIG_CORRUPT);
        }
    }
    for (; factory != NULL && *factory != NULL; factory++) {
        con_exec(*factory);
    }
}
