/*
 * con.h - serial console engine: line editor, tokenizer, command dispatcher
 * and non-blocking output ring.
 *
 * Pure and I/O-free: the board feeds received UART bytes to con_input() and
 * moves con_output_read() bytes to the UART. No heap; all state is static.
 *
 * Context rules: everything runs in one thread context (the NO_SYS main
 * loop) except con_output_read() and con_output_pending(), which may also
 * be called from the UART TX interrupt: the output ring is a single
 * producer / single consumer ring. None of the functions is re-entrant;
 * in particular command functions must not call con_input().
 */
#ifndef CON_H
#define CON_H

#include "mta_opts.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/fmt.h"

/* Return codes of command functions (0 = OK). */
#define CON_OK         0
#define CON_ERR_FAIL  (-1)   /* generic failure */
#define CON_ERR_USAGE (-2)   /* bad argument value: engine prints the usage line */

/*
 * One command. Tables are arrays terminated by an entry with path == NULL.
 * path:      one or more words separated by single spaces ("show netif").
 * args_help: argument synopsis for help/usage ("ID", "[N]"), may be NULL.
 * help:      one-line description, may be NULL.
 * fn:        called with the tokens AFTER the path; argv[argc] == NULL.
 *            Returns CON_OK, CON_ERR_USAGE or any other negative code.
 *            A failing command should report via con_error(); if it
 *            returns < 0 without doing so the engine prints a generic line.
 * min_args/max_args: allowed argc range, checked before fn is called.
 */
typedef struct con_cmd {
    const char *path;
    const char *args_help;
    const char *help;
    int (*fn)(int argc, char **argv);
    uint8_t min_args;
    uint8_t max_args;
} con_cmd_t;

typedef struct {
    uint32_t dropped_bytes;  /* output bytes lost to a full ring (wire bytes) */
    uint32_t lines_executed; /* command functions invoked (help included) */
    uint32_t errors;         /* lines that ended in an error line or rc < 0 */
} con_stats_t;

/*
 * Reset the whole engine (line, output ring, stats, gate, echo on,
 * default prompt) and register ntables command tables. The table array
 * and tables are kept by reference and must stay valid (static const).
 * A built-in "help [WORD...]" is always present. Lookup picks the longest
 * path matching whole words; each word may be abbreviated to a unique
 * prefix, an exact word wins over longer words it prefixes.
 */
void con_init(const con_cmd_t *const *tables, size_t ntables);

/* Print the first prompt and enable prompt reprinting by con_async_printf. */
void con_start(void);

/*
 * Feed received bytes (any values, any split). Handles line editing and
 * executes complete lines synchronously, including their output.
 */
void con_input(const uint8_t *bytes, size_t n);

/*
 * Echo of typed characters and erase feedback; on by default. Off is meant
 * for password entry: line ends, ^C and BEL are still sent.
 */
void con_set_echo(bool on);
/* Execute one command line as if typed (no echo, no prompt): used for the
 * factory defaults and saved configuration.  Output and error lines go to
 * the console as usual.  Returns CON_OK or CON_ERR_FAIL. */
int con_exec(const char *line);
/* Strict decimal argument: digits only, no sign, fits 32 bits.  CON_OK or
 * CON_ERR_FAIL (the caller prints the error line naming the field). */
int con_parse_u32(const char *s, uint32_t *out);

/* Prompt string (kept by reference); NULL restores the default "mta> ". */
void con_set_prompt(const char *prompt);

/*
 * Login gate. While set and locked, each entered line (empty ones too) is
 * passed to gate() instead of the dispatcher; gate returns nonzero while
 * still locked, 0 to unlock (that line is not executed). Setting a gate
 * locks; NULL removes it. The gate does its own prompting/echo via
 * con_set_prompt()/con_set_echo().
 */
void con_set_gate(int (*gate)(const char *line));

/* true while a gate is set and has not yet returned 0. */
bool con_locked(void);

/*
 * Login. The engine owns the login gate: while the console is locked every
 * entered line is a password attempt (prompt "Password: ", echo off); a
 * wrong one locks attempts out for 1, 2, 4 ... 60 s, so that a guessing
 * script slows to a crawl while a typo costs a second. The password itself
 * belongs to a command module, which answers through check().
 */
typedef struct {
    bool (*check)(const char *line);  /* line is the password */
    uint32_t (*now_ms)(void);         /* monotonic milliseconds */
    void (*failed)(uint32_t fails);   /* after each wrong line: log it */
} con_login_t;

/* The console has a password (login kept by reference), or with NULL none:
 * that also lifts a login lock. Does not lock by itself. */
void con_set_login(const con_login_t *login);
/* Lock the console now (logout, boot). CON_ERR_FAIL when no login is set. */
int con_lock(void);

/*
 * Output. Never blocks: if the ring lacks room the whole write is dropped
 * and counted, and the next write that fits is preceded by
 * "\r\n[console output dropped N bytes]\r\n". "\n" goes out as "\r\n".
 * Output is printable ASCII whatever its source: any byte other than
 * 0x20-0x7e and the line ends CR, LF goes out as "\xNN" (an escape sequence in a peer's
 * reply or in a saved configuration line cannot drive the terminal).
 * Every function below writes through con_write.
 */
void con_write(const char *s, size_t n);
/* con_write of a NUL-terminated string; unlike stdio puts, adds no newline. */
void con_puts(const char *s);
/* Formatted output via fmt_vsnprintf, at most CON_PRINTF_MAX-1 bytes. */
void con_printf(const char *fmt, ...) FMT_PRINTF(1, 2);
/* Error line: "% " + message + "\n". The only convention for error lines. */
void con_error(const char *fmt, ...) FMT_PRINTF(1, 2);
/*
 * Asynchronous line (e.g. a live event) while the user may be typing:
 * starts on a fresh line, ends with a newline, then reprints the prompt and
 * the partial input line (when a prompt is showing).
 */
void con_async_printf(const char *fmt, ...) FMT_PRINTF(1, 2);

/*
 * Output longer than the ring (a full event log): the command prints it in
 * steps. It calls con_continue(step, ctx) and returns CON_OK; the engine
 * then calls step(ctx) from con_poll() each time the ring has room for
 * CON_STEP_ROOM bytes, until step returns false, and only then prints the
 * prompt. Each step prints at most one CON_PRINTF_MAX line (escaped, that is
 * at most CON_STEP_ROOM on the wire), so nothing is dropped and a script
 * waiting for the prompt sees all of it. While a command is continuing
 * (con_busy) the caller holds back input: con_input must not be called.
 * From con_exec (configuration replay) the steps run to the end at once.
 */
typedef bool (*con_step_fn)(void *ctx);
#define CON_STEP_ROOM (4u * CON_PRINTF_MAX + 8u)
void con_continue(con_step_fn step, void *ctx);
/* true while a command's output is still being produced. */
bool con_busy(void);
/* Main loop: run a continuing command while the ring has room. */
void con_poll(void);

/* Drain up to max output bytes into dst; returns the count copied. */
size_t con_output_read(uint8_t *dst, size_t max);
/* Bytes waiting in the output ring. */
size_t con_output_pending(void);

/*
 * Running-config. Each command module writes the lines that recreate its
 * state through an emitter, emit(ctx, fmt, ...) (every line ends in "\n");
 * with show_secrets false it writes each secret word as CON_HIDDEN. It also
 * hides the secrets of its saved lines (show startup-config); con_hide_words
 * does that for a module that names the words. cfg.c collects them.
 */
typedef void (*con_emit_fn)(void *ctx, const char *fmt, ...) FMT_PRINTF(2, 3);
#define CON_HIDDEN "<hidden>"
/* If line[0..len) starts with the words of prefix: print it through emit
 * with words first..last (0-based, the prefix's words counted) replaced by
 * one CON_HIDDEN, and return true; else false. */
bool con_hide_words(const char *line, size_t len, const char *prefix, unsigned first, unsigned last,
                    con_emit_fn emit, void *ctx);

/* Snapshot of the counters (cumulative since con_init). */
con_stats_t con_stats(void);

#endif /* CON_H */
