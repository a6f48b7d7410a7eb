/*
 * con.c - serial console engine (see con.h for the contract).
 */
#include "console/con.h"

#include <string.h>

_Static_assert(CON_ARGS_MAX >= 2 && CON_ARGS_MAX <= 255,
               "argc limits are uint8_t and help needs one word");
_Static_assert(CON_LINE_MAX >= 16, "line buffer too small to be useful");
_Static_assert(CON_TX_RING >= 64, "ring must hold the drop marker");
_Static_assert(CON_TX_RING > 2u * CON_STEP_ROOM, "a continuing command makes progress while the UART drains");
_Static_assert(CON_PRINTF_MAX >= 16, "printf buffer must hold the cut marker");

#define CON_DEFAULT_PROMPT "mta> "
#define CON_LOGIN_PROMPT "Password: "
#define CON_LOGIN_MAX_S 60  /* longest lockout after repeated failures */
#define CON_CSI_MAX 16   /* parameter bytes of one escape sequence we sit through */
#define CON_HELP_COL_MAX 40 /* cap of the help name column so one long path
                             * cannot push every description off screen */

#define CH_CTRL_C 0x03
#define CH_BS     0x08
#define CH_LF     0x0a
#define CH_CR     0x0d
#define CH_CTRL_U 0x15
#define CH_ESC    0x1b
#define CH_DEL    0x7f

/* Compiler-only fence: the ring consumer is an ISR on the same core. */
#define CON_BARRIER() __atomic_signal_fence(__ATOMIC_SEQ_CST)

/* ---- output ring (single producer: thread, single consumer: any) ---- */

static uint8_t tx_ring[CON_TX_RING];
static con_step_fn more_fn; /* a command still printing (con_continue) */
static void *more_ctx;
static volatile size_t tx_rd;      /* written by the consumer only */
static volatile size_t tx_wr;      /* written by the producer only */
static uint32_t tx_drop_pending;   /* dropped since the last marker */
static bool tx_last_cr;            /* last queued byte was '\r' */
static bool tx_bol = true;         /* logical stream is at a line start */

/* ---- input / engine state ---- */

typedef enum { IN_NORMAL, IN_ESC, IN_CSI, IN_SS3 } con_in_state_t;

static char line[CON_LINE_MAX + 1];
static size_t line_len;
static bool line_overflow;         /* chars were refused on this line */
static bool line_bel;              /* BEL already sent on this line */
static con_in_state_t in_state;
static uint8_t csi_len;
static bool in_last_cr;            /* previous input byte was CR */

static bool echo_off;              /* zero-init = echo on */
static const char *prompt_str;
static bool started;
static bool executing;             /* inside a command fn or the gate */
static bool err_printed;           /* con_error() called during execution */
static int (*gate_fn)(const char *line);
static bool gate_locked;
static const con_login_t *login_hooks;   /* NULL: no console password */
static uint32_t login_fails;       /* wrong lines since the last unlock */
static uint32_t login_until_ms;    /* no attempt is taken before this */

static const con_cmd_t *const *cmd_tables;
static size_t cmd_ntables;
static con_stats_t stats;

/* tokenizer output; separate from line so fn can run with line reset */
static char arg_buf[CON_LINE_MAX + 1];
static char *arg_v[CON_ARGS_MAX + 1];

static char fmt_buf[CON_PRINTF_MAX];
static char scratch[CON_PRINTF_MAX];

static int con_cmd_help(int argc, char **argv);

static const con_cmd_t con_builtin[] = {
    { "help", "[WORD...]", "list commands (those starting with WORD)",
      con_cmd_help, 0, CON_ARGS_MAX - 1 },
    { NULL, NULL, NULL, NULL, 0, 0 },
};

/* ================= output ================= */

static size_t tx_free(void)
{
    size_t rd = tx_rd, wr = tx_wr;
    size_t used = (wr >= rd) ? (wr - rd) : (CON_TX_RING - rd + wr);
    /* one slot stays empty so rd == wr means "empty" without a shared count */
    return CON_TX_RING - 1u - used;
}

/*
 * Every byte that reaches the terminal is printable ASCII or a line end:
 * whatever a command prints (a reply text from a peer, a replayed line from
 * the saved configuration quoted in an error) could otherwise carry
 * terminal escapes. con_write is the choke point: other bytes go out as
 * "\xNN". Only the engine's own echo and BEL bypass it (tx_write raw).
 */
static bool tx_plain(uint8_t c)
{
    /* CR and LF are line ends ("\r\n" from a caller stays one); neither
     * can start a terminal control sequence, ESC and 0x9B can */
    return (c >= 0x20u && c < 0x7fu) || c == '\n' || c == '\r';
}

/* Bytes s[0..n) occupy on the wire after "\n" -> "\r\n" and, unless raw,
 * the escaping of the others. */
static size_t tx_wire_len(const char *s, size_t n, bool raw)
{
    bool cr = tx_last_cr;
    size_t i, len = 0u;

    for (i = 0; i < n; i++) {
        if (s[i] == '\n' && !cr) {
            len++;
        }
        len += (raw || tx_plain((uint8_t)s[i])) ? 1u : 4u;
        cr = (s[i] == '\r');
    }
    return len;
}

static size_t tx_put(size_t wr, uint8_t b)
{
    tx_ring[wr] = b;
    return (wr + 1u == CON_TX_RING) ? 0u : wr + 1u;
}

/* Caller guarantees room; publishes once so the consumer sees whole writes. */
static void tx_push(const char *s, size_t n, bool raw)
{
    static const char hex[] = "0123456789abcdef";
    size_t wr = tx_wr, i;

    for (i = 0; i < n; i++) {
        uint8_t b = (uint8_t)s[i];
        if (b == '\n' && !tx_last_cr) {
            wr = tx_put(wr, '\r');
        }
        if (raw || tx_plain(b)) {
            wr = tx_put(wr, b);
            tx_last_cr = (b == '\r');
        } else {
            wr = tx_put(wr, '\\');
            wr = tx_put(wr, 'x');
            wr = tx_put(wr, (uint8_t)hex[b >> 4]);
            wr = tx_put(wr, (uint8_t)hex[b & 0x0Fu]);
            tx_last_cr = false;
        }
    }
    CON_BARRIER();
    tx_wr = wr;
}

static void tx_write(const char *s, size_t n, bool raw)
{
    size_t need, room;

    if (s == NULL || n == 0u) {
        return;
    }
    need = tx_wire_len(s, n, raw);
    room = tx_free();
    tx_bol = (s[n - 1u] == '\n');

    if (tx_drop_pending != 0u) {
        char marker[48];
        int mlen = fmt_snprintf(marker, sizeof marker,
                                "\r\n[console output dropped %lu bytes]\r\n",
                                (unsigned long)tx_drop_pending);
        /* data after a gap without its marker would hide the loss */
        if ((size_t)mlen + need <= room) {
            tx_push(marker, (size_t)mlen, false); /* its CR LF stays CR LF */
            tx_drop_pending = 0u;
            room -= (size_t)mlen;
        } else {
            room = 0u;
        }
    }
    if (need > room) {
        stats.dropped_bytes += (uint32_t)need;
        tx_drop_pending += (uint32_t)need;
        return;
    }
    tx_push(s, n, raw);
}

void con_write(const char *s, size_t n)
{
    tx_write(s, n, false);
}

void con_puts(const char *s)
{
    if (s != NULL) {
        con_write(s, strlen(s));
    }
}

/* Format prefix+fmt into fmt_buf and write it; force_nl ends the line. */
static void con_vformat(const char *prefix, bool force_nl, const char *fmt,
                        va_list ap)
{
    size_t plen = strlen(prefix);
    size_t cap = sizeof fmt_buf - plen;
    int n;
    size_t len;

    memcpy(fmt_buf, prefix, plen);
    n = fmt_vsnprintf(fmt_buf + plen, cap, fmt, ap);
    if (n < 0) {
        n = 0;
    }
    if ((size_t)n >= cap) {
        /* cut: mark it, and keep a newline the caller asked for so the
         * next prompt still starts on its own line */
        size_t flen = strlen(fmt);
        bool nl = force_nl || (flen > 0u && fmt[flen - 1u] == '\n');
        const char *tail = nl ? "...\n" : "...";
        size_t tlen = strlen(tail);
        len = sizeof fmt_buf - 1u;
        memcpy(fmt_buf + len - tlen, tail, tlen);
    } else {
        len = plen + (size_t)n;
    }
    if (force_nl && (len == 0u || fmt_buf[len - 1u] != '\n')) {
        if (len < sizeof fmt_buf - 1u) {
            len++;
        }
        fmt_buf[len - 1u] = '\n';
    }
    con_write(fmt_buf, len);
}

void con_printf(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    con_vformat("", false, fmt, ap);
    va_end(ap);
}

void con_error(const char *fmt, ...)
{
    va_list ap;

    err_printed = true;
    va_start(ap, fmt);
    con_vformat("% ", true, fmt, ap);
    va_end(ap);
}

static void con_prompt(void)
{
    con_puts(prompt_str != NULL ? prompt_str : CON_DEFAULT_PROMPT);
}

void con_async_printf(const char *fmt, ...)
{
    va_list ap;

    if (!tx_bol) {
        con_write("\n", 1u);
    }
    va_start(ap, fmt);
    con_vformat("", true, fmt, ap);
    va_end(ap);
    /* during a command the prompt follows its output anyway */
    if (started && !executing && more_fn == NULL) {
        con_prompt();
        if (!echo_off) {
            con_write(line, line_len);
        }
    }
}

size_t con_output_read(uint8_t *dst, size_t max)
{
    size_t rd = tx_rd, wr = tx_wr, n = 0u;

    CON_BARRIER();
    while (n < max && rd != wr) {
        size_t end = (wr > rd) ? wr : CON_TX_RING;
        size_t chunk = end - rd;
        if (chunk > max - n) {
            chunk = max - n;
        }
        memcpy(dst + n, &tx_ring[rd], chunk);
        n += chunk;
        rd += chunk;
        if (rd == CON_TX_RING) {
            rd = 0u;
        }
    }
    CON_BARRIER();
    tx_rd = rd;
    return n;
}

size_t con_output_pending(void)
{
    return CON_TX_RING - 1u - tx_free();
}

con_stats_t con_stats(void)
{
    return stats;
}

/* ================= command table helpers ================= */

typedef struct {
    size_t t; /* 0 = built-ins, k = cmd_tables[k-1] */
    size_t e;
} con_it_t;

static const con_cmd_t *con_it_next(con_it_t *it)
{
    for (;;) {
        const con_cmd_t *tab;
        if (it->t == 0u) {
            tab = con_builtin;
        } else if (it->t <= cmd_ntables) {
            tab = cmd_tables[it->t - 1u];
        } else {
            return NULL;
        }
        if (tab != NULL && tab[it->e].path != NULL) {
            return &tab[it->e++];
        }
        it->t++;
        it->e = 0u;
    }
}

/* idx-th space-separated word of a path, or NULL. */
static const char *con_word(const char *p, size_t idx, size_t *len)
{
    *len = 0u;
    for (;;) {
        const char *w;
        while (*p == ' ') {
            p++;
        }
        if (*p == '\0') {
            return NULL;
        }
        w = p;
        while (*p != '\0' && *p != ' ') {
            p++;
        }
        if (idx == 0u) {
            *len = (size_t)(p - w);
            return w;
        }
        idx--;
    }
}

static size_t con_nwords(const char *p)
{
    size_t n = 0u, len = 0u;

    while (con_word(p, n, &len) != NULL) {
        n++;
    }
    return n;
}

typedef struct {
    const char *w;
    size_t len;
} con_word_t;

/* Path's first depth words equal the already resolved ones. */
static bool con_has_prefix(const con_cmd_t *c, const con_word_t *res,
                           size_t depth)
{
    size_t i, len = 0u;

    for (i = 0; i < depth; i++) {
        const char *w = con_word(c->path, i, &len);
        if (w == NULL || len != res[i].len || memcmp(w, res[i].w, len) != 0) {
            return false;
        }
    }
    return true;
}

static bool con_is_prefix(const char *tok, size_t tlen, const char *w,
                          size_t wlen)
{
    return tlen > 0u && tlen <= wlen && memcmp(tok, w, tlen) == 0;
}

/* Append to scratch at *pos, always NUL-terminated, silently bounded. */
static void con_sb(size_t *pos, const char *s, size_t n)
{
    size_t room = sizeof scratch - 1u - *pos;

    if (n > room) {
        n = room;
    }
    memcpy(scratch + *pos, s, n);
    *pos += n;
    scratch[*pos] = '\0';
}

/* scratch = tokens 0..n-1 joined by spaces. */
static size_t con_join(int n)
{
    size_t pos = 0u;
    int i;

    scratch[0] = '\0';
    for (i = 0; i < n; i++) {
        if (i > 0) {
            con_sb(&pos, " ", 1u);
        }
        con_sb(&pos, arg_v[i], strlen(arg_v[i]));
    }
    return pos;
}

static void con_usage(const con_cmd_t *c)
{
    bool has = c->args_help != NULL && c->args_help[0] != '\0';

    con_error("usage: %s%s%s", c->path, has ? " " : "",
              has ? c->args_help : "");
}

/*
 * How many leading tokens prefix-match c's path words (stops at the first
 * mismatch); *viable when every word that has a token matched, i.e. c
 * could be what the user meant (maybe still incomplete).
 */
static size_t con_match_len(const con_cmd_t *c, int argc, bool *viable)
{
    size_t k = con_nwords(c->path);
    size_t lim = (k < (size_t)argc) ? k : (size_t)argc;
    size_t m;

    for (m = 0u; m < lim; m++) {
        size_t wl = 0u;
        const char *w = con_word(c->path, m, &wl);
        if (!con_is_prefix(arg_v[m], strlen(arg_v[m]), w, wl)) {
            break;
        }
    }
    *viable = (m == lim && m > 0u);
    return m;
}

/* c is among the longest matches and agrees with the words resolved so far. */
static bool con_competes(const con_cmd_t *c, const con_word_t *res,
                         size_t depth, size_t best, int argc)
{
    bool viable;

    return con_match_len(c, argc, &viable) == best && viable &&
           con_has_prefix(c, res, depth);
}

/* "% ambiguous command 'sh' (show, shutdown)": every distinct competing
 * word at this depth, so the user sees how much more to type. */
static void con_ambiguous(const con_word_t *res, size_t depth, size_t best,
                          int argc)
{
    con_it_t it = { 0u, 0u };
    const con_cmd_t *c;
    size_t pos, ord = 0u;
    bool first = true;

    pos = con_join((int)depth + 1);
    con_sb(&pos, "' (", 3u);
    while ((c = con_it_next(&it)) != NULL) {
        size_t wl = 0u, ord2 = 0u;
        const char *w;
        con_it_t it2 = { 0u, 0u };
        const con_cmd_t *c2;
        bool seen = false;

        ord++;
        if (!con_competes(c, res, depth, best, argc)) {
            continue;
        }
        w = con_word(c->path, depth, &wl);
        /* print each word once: skip it if an earlier competitor had it */
        while ((c2 = con_it_next(&it2)) != NULL && ++ord2 < ord) {
            size_t wl2 = 0u;
            const char *w2;
            if (con_competes(c2, res, depth, best, argc)) {
                w2 = con_word(c2->path, depth, &wl2);
                if (wl2 == wl && memcmp(w2, w, wl) == 0) {
                    seen = true;
                    break;
                }
            }
        }
        if (seen) {
            continue;
        }
        if (!first) {
            con_sb(&pos, ", ", 2u);
        }
        first = false;
        con_sb(&pos, w, wl);
    }
    con_sb(&pos, ")", 1u);
    con_error("ambiguous command '%s", scratch);
}


/*
 * Longest match first: among commands whose words are all prefixed by the
 * tokens, only those consuming the most tokens as path words compete, so
 * "sh ne" is "show netif" even though "shutdown" exists, while a bare
 * "sh" stays ambiguous. The competitors are then resolved word by word;
 * an exact word beats longer words it prefixes ("stat" vs "statistics").
 * Tokens past the path are arguments. Returns true if the line failed.
 */
static bool con_dispatch(int argc)
{
    con_word_t res[CON_ARGS_MAX];
    const con_cmd_t *complete = NULL, *c;
    con_it_t it = { 0u, 0u };
    size_t depth, best = 0u, maxm = 0u;
    int nargs, rc;

    while ((c = con_it_next(&it)) != NULL) {
        bool viable;
        size_t m = con_match_len(c, argc, &viable);
        if (m > maxm) {
            maxm = m;
        }
        if (viable && m > best) {
            best = m;
        }
    }
    if (best == 0u) {
        con_join((maxm < (size_t)argc) ? (int)maxm + 1 : argc);
        con_error("unknown command '%s' (try 'help')", scratch);
        return true;
    }

    for (depth = 0u; depth < best; depth++) {
        const char *tok = arg_v[depth], *exact = NULL, *first = NULL;
        size_t tlen = strlen(tok), flen = 0u;
        bool ambiguous = false;

        it.t = 0u;
        it.e = 0u;
        while ((c = con_it_next(&it)) != NULL) {
            size_t wl = 0u;
            const char *w;
            if (!con_competes(c, res, depth, best, argc)) {
                continue;
            }
            w = con_word(c->path, depth, &wl);
            if (wl == tlen) {
                exact = w;
            }
            if (first == NULL) {
                first = w;
                flen = wl;
            } else if (flen != wl || memcmp(first, w, wl) != 0) {
                ambiguous = true;
            }
        }
        if (exact != NULL) {
            res[depth].w = exact;
            res[depth].len = tlen;
        } else if (!ambiguous) {
            res[depth].w = first;
            res[depth].len = flen;
        } else {
            con_ambiguous(res, depth, best, argc);
            return true;
        }
    }

    it.t = 0u;
    it.e = 0u;
    while ((c = con_it_next(&it)) != NULL) {
        if (con_nwords(c->path) == best && con_has_prefix(c, res, best)) {
            complete = c;
            break;
        }
    }
    if (complete == NULL) {
        /* only possible when every token was a path word */
        con_join(argc);
        con_error("incomplete command '%s' (try 'help %s')", scratch,
                  arg_v[0]);
        return true;
    }

    nargs = argc - (int)depth;
    if (nargs < (int)complete->min_args || nargs > (int)complete->max_args) {
        con_usage(complete);
        return true;
    }
    if (complete->fn == NULL) {
        con_error("command '%s' not implemented", complete->path);
        return true;
    }

    executing = true;
    err_printed = false;
    stats.lines_executed++;
    rc = complete->fn(nargs, &arg_v[depth]);
    executing = false;
    if (rc == CON_ERR_USAGE) {
        con_usage(complete);
        return true;
    }
    if (rc < 0) {
        if (!err_printed) {
            con_error("command failed (%d)", rc);
        }
        return true;
    }
    return false;
}

/* ================= help ================= */

static bool con_help_selected(const con_cmd_t *c, int argc, char **argv)
{
    int i;

    for (i = 0; i < argc; i++) {
        size_t wl = 0u;
        const char *w = con_word(c->path, (size_t)i, &wl);
        if (w == NULL || !con_is_prefix(argv[i], strlen(argv[i]), w, wl)) {
            return false;
        }
    }
    return true;
}

static size_t con_help_name(const con_cmd_t *c)
{
    size_t pos = 0u;

    scratch[0] = '\0';
    con_sb(&pos, c->path, strlen(c->path));
    if (c->args_help != NULL && c->args_help[0] != '\0') {
        con_sb(&pos, " ", 1u);
        con_sb(&pos, c->args_help, strlen(c->args_help));
    }
    return pos;
}

static int con_cmd_help(int argc, char **argv)
{
    con_it_t it = { 0u, 0u };
    const con_cmd_t *c, *last = NULL;
    size_t width = 0u, last_ord = 0u, shown = 0u;

    while ((c = con_it_next(&it)) != NULL) {
        if (con_help_selected(c, argc, argv)) {
            size_t w = con_help_name(c);
            if (w > width) {
                width = w;
            }
        }
    }
    if (width > CON_HELP_COL_MAX) {
        width = CON_HELP_COL_MAX;
    }

    /* no heap for a sort: repeatedly pick the smallest (path, position)
     * above the last one printed; O(n^2) on a few dozen entries */
    for (;;) {
        const con_cmd_t *best = NULL;
        size_t best_ord = 0u, ord = 0u;

        it.t = 0u;
        it.e = 0u;
        while ((c = con_it_next(&it)) != NULL) {
            int d;
            ord++;
            if (!con_help_selected(c, argc, argv)) {
                continue;
            }
            if (last != NULL) {
                d = strcmp(c->path, last->path);
                if (d < 0 || (d == 0 && ord <= last_ord)) {
                    continue;
                }
            }
            if (best != NULL) {
                d = strcmp(c->path, best->path);
                if (d > 0 || (d == 0 && ord > best_ord)) {
                    continue;
                }
            }
            best = c;
            best_ord = ord;
        }
        if (best == NULL) {
            break;
        }
        con_help_name(best);
        if (best->help != NULL && best->help[0] != '\0') {
            con_printf("  %-*s  %s\n", (int)width, scratch, best->help);
        } else {
            con_printf("  %s\n", scratch);
        }
        last = best;
        last_ord = best_ord;
        shown++;
    }
    if (shown == 0u) {
        size_t pos = 0u;
        int i;

        scratch[0] = '\0';
        for (i = 0; i < argc; i++) {
            if (i > 0) {
                con_sb(&pos, " ", 1u);
            }
            con_sb(&pos, argv[i], strlen(argv[i]));
        }
        con_error("no command matches '%s'", scratch);
        return CON_ERR_FAIL;
    }
    return CON_OK;
}

/* ================= line handling ================= */

#define CON_TOK_UNTERMINATED (-1)
#define CON_TOK_TOO_MANY     (-2)

/*
 * Split src into arg_v/arg_buf. Whitespace separates; "..." groups and may
 * sit inside a word (a"b c"d -> ab cd); inside quotes backslash takes the
 * next char literally. Output never outgrows input + 1, so arg_buf fits.
 */
static int con_tokenize(const char *src, size_t n, int *argc_out)
{
    size_t r = 0u, w = 0u;
    int argc = 0;

    for (;;) {
        bool inq = false;

        while (r < n && (src[r] == ' ' || src[r] == '\t')) {
            r++;
        }
        if (r >= n) {
            break;
        }
        if (argc == CON_ARGS_MAX) {
            return CON_TOK_TOO_MANY;
        }
        arg_v[argc++] = &arg_buf[w];
        while (r < n) {
            char ch = src[r];
            if (inq) {
                if (ch == '"') {
                    inq = false;
                    r++;
                    continue;
                }
                if (ch == '\\') {
                    if (r + 1u >= n) {
                        return CON_TOK_UNTERMINATED;
                    }
                    ch = src[r + 1u];
                    r++;
                }
            } else if (ch == ' ' || ch == '\t') {
                break;
            } else if (ch == '"') {
                inq = true;
                r++;
                continue;
            }
            arg_buf[w++] = ch;
            r++;
        }
        if (inq) {
            return CON_TOK_UNTERMINATED;
        }
        arg_buf[w++] = '\0';
    }
    arg_v[argc] = NULL;
    *argc_out = argc;
    return 0;
}

static bool con_is_comment(const char *s)
{
    while (*s == ' ' || *s == '\t') {
        s++;
    }
    return *s == '!' || *s == '#';
}

static void con_line_reset(void)
{
    line_len = 0u;
    line_overflow = false;
    line_bel = false;
}

static void con_enter(void)
{
    bool err = false;
    bool overflow = line_overflow;
    size_t len = line_len;

    line[len] = '\0';
    con_line_reset();
    /* line end is sent even with echo off so output starts on a new line */
    con_write("\n", 1u);

    if (overflow) {
        con_error("line too long (max %d)", CON_LINE_MAX);
        err = true;
    } else if (gate_fn != NULL && gate_locked) {
        executing = true;
        if (gate_fn(line) == 0) {
            gate_locked = false;
        }
        executing = false;
        /* likely a password: do not leave it in RAM */
        memset(line, 0, len);
    } else if (con_is_comment(line)) {
        /* '!' and '#' lines are comments: pasted configurations carry them. */
    } else {
        int argc = 0;
        int rc = con_tokenize(line, len, &argc);
        if (rc == CON_TOK_UNTERMINATED) {
            con_error("unterminated quote");
            err = true;
        } else if (rc == CON_TOK_TOO_MANY) {
            con_error("too many words (max %d)", CON_ARGS_MAX);
            err = true;
        } else if (argc > 0) {
            err = con_dispatch(argc);
        }
    }
    if (err) {
        stats.errors++;
    }
    if (more_fn == NULL) {
        con_prompt(); /* else con_poll prints it after the last step */
    }
}

static void con_insert(char ch)
{
    if (line_len < CON_LINE_MAX) {
        line[line_len++] = ch;
        if (!echo_off) {
            con_write(&ch, 1u);
        }
    } else {
        line_overflow = true;
        if (!line_bel) {
            line_bel = true;
            tx_write("\a", 1u, true);
        }
    }
}

static void con_byte(uint8_t b)
{
    bool was_cr = in_last_cr;

    in_last_cr = false;

    /* Escape sequences are swallowed whole. A control or non-ASCII byte
     * inside one aborts it and is handled normally, so a stray ESC can
     * never eat the Enter key or wedge the parser. */
    switch (in_state) {
    case IN_ESC:
        in_state = IN_NORMAL;
        if (b == '[') {
            in_state = IN_CSI;
            csi_len = 0u;
            return;
        }
        if (b == 'O') {
            in_state = IN_SS3; /* VT100 application-mode keys: ESC O x */
            return;
        }
        if (b >= 0x20u && b < 0x7fu) {
            return; /* Alt+key */
        }
        break;
    case IN_SS3:
        in_state = IN_NORMAL;
        if (b >= 0x20u && b < 0x7fu) {
            return;
        }
        break;
    case IN_CSI:
        /* ECMA-48 5.4: params/intermediates 0x20-0x3f, final 0x40-0x7e */
        if (b >= 0x40u && b <= 0x7eu) {
            in_state = IN_NORMAL;
            return;
        }
        if (b >= 0x20u && b <= 0x3fu) {
            if (++csi_len >= CON_CSI_MAX) {
                in_state = IN_NORMAL;
            }
            return;
        }
        in_state = IN_NORMAL;
        break;
    case IN_NORMAL:
    default:
        break;
    }

    if (b >= 0x20u && b < 0x7fu) {
        con_insert((char)b);
        return;
    }
    switch (b) {
    case CH_CR:
        con_enter();
        in_last_cr = true;
        break;
    case CH_LF:
        /* CRLF is one line end: the LF after a CR is swallowed */
        if (!was_cr) {
            con_enter();
        }
        break;
    case CH_BS:
    case CH_DEL:
        if (line_len > 0u) {
            line_len--;
            if (!echo_off) {
                tx_write("\b \b", 3u, true);
            }
        }
        break;
    case CH_CTRL_U:
        if (!echo_off) {
            size_t i;
            for (i = 0; i < line_len; i++) {
                tx_write("\b \b", 3u, true);
            }
        }
        con_line_reset();
        break;
    case CH_CTRL_C:
        con_line_reset();
        con_write("^C\n", 3u);
        con_prompt();
        break;
    case CH_ESC:
        in_state = IN_ESC;
        break;
    default:
        break; /* NUL, Tab, other controls, >= 0x80: never echoed raw */
    }
}

int con_parse_u32(const char *s, uint32_t *out)
{
    uint32_t v = 0;
    if (s == NULL || *s == 0) {
        return CON_ERR_FAIL;
    }
    for (; *s; s++) {
        if (*s < '0' || *s > '9') {
            return CON_ERR_FAIL;
        }
        uint32_t d = (uint32_t)(*s - '0');
        if (v > (0xFFFFFFFFu - d) / 10u) {
            return CON_ERR_FAIL;
        }
        v = v * 10u + d;
    }
    *out = v;
    return CON_OK;
}

int con_exec(const char *text)
{
    size_t len = strlen(text);
    if (con_is_comment(text)) {
        return CON_OK;
    }
    if (len > CON_LINE_MAX) {
        con_error("line too long (max %d)", CON_LINE_MAX);
        return CON_ERR_FAIL;
    }
    int argc = 0;
    int rc = con_tokenize(text, len, &argc);
    bool err;
    if (rc == CON_TOK_UNTERMINATED) {
        con_error("unterminated quote");
        err = true;
    } else if (rc == CON_TOK_TOO_MANY) {
        con_error("too many words (max %d)", CON_ARGS_MAX);
        err = true;
    } else {
        err = argc > 0 ? con_dispatch(argc) : false;
    }
    while (more_fn != NULL) { /* replay: no one waits for the UART */
        if (!more_fn(more_ctx)) {
            more_fn = NULL;
        }
    }
    if (err) {
        stats.errors++;
    }
    return err ? CON_ERR_FAIL : CON_OK;
}

void con_continue(con_step_fn step, void *ctx)
{
    more_fn = step;
    more_ctx = ctx;
}

bool con_busy(void)
{
    return more_fn != NULL;
}

void con_poll(void)
{
    while (more_fn != NULL && tx_free() >= CON_STEP_ROOM) {
        executing = true;
        bool more = more_fn(more_ctx);
        executing = false;
        if (!more) {
            more_fn = NULL;
            con_prompt();
        }
    }
}

void con_input(const uint8_t *bytes, size_t n)
{
    size_t i;

    if (bytes == NULL) {
        return;
    }
    for (i = 0; i < n; i++) {
        con_byte(bytes[i]);
    }
}

/* ================= setup ================= */

void con_init(const con_cmd_t *const *tables, size_t ntables)
{
    cmd_tables = tables;
    cmd_ntables = (tables != NULL) ? ntables : 0u;

    tx_rd = 0u;
    tx_wr = 0u;
    tx_drop_pending = 0u;
    tx_last_cr = false;
    tx_bol = true;

    con_line_reset();
    memset(line, 0, sizeof line);
    in_state = IN_NORMAL;
    csi_len = 0u;
    in_last_cr = false;

    echo_off = false;
    prompt_str = NULL;
    started = false;
    executing = false;
    err_printed = false;
    gate_fn = NULL;
    gate_locked = false;
    login_hooks = NULL;
    login_fails = 0u;
    login_until_ms = 0u;
    more_fn = NULL;
    more_ctx = NULL;
    memset(&stats, 0, sizeof stats);
}

void con_start(void)
{
    started = true;
    con_prompt();
}

void con_set_echo(bool on)
{
    echo_off = !on;
}

void con_set_prompt(const char *prompt)
{
    prompt_str = prompt;
}

void con_set_gate(int (*gate)(const char *line))
{
    gate_fn = gate;
    gate_locked = (gate != NULL);
}

bool con_locked(void)
{
    return gate_fn != NULL && gate_locked;
}

/* ================= login ================= */

static int con_login_gate(const char *text)
{
    uint32_t now = login_hooks->now_ms();
    uint32_t delay;

    if ((int32_t)(login_until_ms - now) > 0) {
        con_printf("%% locked: try again in %lu s\n",
                   (unsigned long)((login_until_ms - now) / 1000u + 1u));
        return 1;
    }
    if (login_hooks->check(text)) {
        login_fails = 0u;
        con_set_echo(true);
        con_set_prompt(NULL);
        return 0;
    }
    login_fails++;
    login_hooks->failed(login_fails);
    delay = login_fails >= 7u ? CON_LOGIN_MAX_S : (1u << (login_fails - 1u));
    login_until_ms = now + delay * 1000u;
    con_printf("%% wrong password (locked for %lu s)\n", (unsigned long)delay);
    return 1;
}

void con_set_login(const con_login_t *l)
{
    login_hooks = l;
    if (l == NULL && gate_fn == con_login_gate) {
        con_set_gate(NULL);
        con_set_echo(true);
        con_set_prompt(NULL);
    }
}

int con_lock(void)
{
    if (login_hooks == NULL) {
        return CON_ERR_FAIL;
    }
    con_set_prompt(CON_LOGIN_PROMPT);
    con_set_echo(false);
    con_set_gate(con_login_gate);
    return CON_OK;
}

/* ================= running-config ================= */

bool con_hide_words(const char *text, size_t len, const char *prefix, unsigned first, unsigned last,
                    con_emit_fn emit, void *ctx)
{
    size_t pl = strlen(prefix);
    if (len <= pl || memcmp(text, prefix, pl) != 0 || text[pl] != ' ') {
        return false;
    }
    /* Saved lines separate words by single spaces; the secret words become
     * one CON_HIDDEN. */
    unsigned w = 0;
    for (size_t i = 0; i < len; w++) {
        size_t j = i;
        while (j < len && text[j] != ' ') {
            j++;
        }
        bool secret = w >= first && w <= last;
        if (!secret || w == first) {
            emit(ctx, "%s%.*s", w > 0 ? " " : "", secret ? (int)strlen(CON_HIDDEN) : (int)(j - i),
                 secret ? CON_HIDDEN : text + i);
        }
        i = j + 1;
    }
    emit(ctx, "\n");
    return true;
}
