/* fuzz: firmware/console/con.c firmware/lib/fmt.c */
/* The console engine on any bytes: as typed input through the line editor,
 * and as a saved configuration replayed line by line (con_exec, as at
 * boot).  Invariants:
 *  - a replayed line fails (rc < 0) exactly when it printed exactly one
 *    error line ("% ..."), and a line that works prints none; a comment
 *    prints nothing;
 *  - a command runs only with argc within its table entry's limits and
 *    argv[argc] == NULL; typed words hold no control characters;
 *  - typed input gives the same output and runs the same commands whole
 *    or split into chunks of any size (when the output ring dropped
 *    nothing).
 * (Printable output for replayed bytes is issue 17 finding 6: checked by
 * the console's own tests once it is fixed there.) */
#include "fuzz.h"

#include "console/con.h"

static uint32_t cmd_hash;
static int typed;

static int cmd(int argc, char **argv, int id, int min, int max)
{
    FUZZ_CHECK(argc >= min && argc <= max && argv[argc] == NULL);
    cmd_hash = fz_hash(cmd_hash, &id, sizeof id);
    for (int i = 0; i < argc; i++) {
        size_t n = strlen(argv[i]);
        cmd_hash = fz_hash(cmd_hash, argv[i], n + 1);
        if (typed) {
            for (size_t k = 0; k < n; k++)
                FUZZ_CHECK((unsigned char)argv[i][k] >= 0x20 && argv[i][k] != 0x7F);
        }
    }
    return CON_OK;
}

static int c_show(int argc, char **argv)
{
    con_printf("netif ok\n");
    return cmd(argc, argv, 1, 0, 1);
}

static int c_peer(int argc, char **argv)
{
    return cmd(argc, argv, 2, 2, 8);
}

static int c_fail(int argc, char **argv)
{
    cmd(argc, argv, 3, 0, 3);
    return CON_ERR_FAIL;   /* without a line: the engine prints one */
}

static int c_usage(int argc, char **argv)
{
    cmd(argc, argv, 4, 1, 2);
    return CON_ERR_USAGE;
}

static int c_err(int argc, char **argv)
{
    cmd(argc, argv, 5, 0, 15);
    con_error("bad value '%s'", argc ? argv[0] : "");
    return CON_ERR_FAIL;
}

static const con_cmd_t table[] = {
    { "show netif", "[NAME]", "interfaces", c_show, 0, 1 },
    { "show mem", NULL, "memory", c_show, 0, 1 },
    { "peer add", "NAME IP [...]", "add a peer", c_peer, 2, 8 },
    { "peer del", "NAME", NULL, c_fail, 0, 3 },
    { "route", "PATTERN", NULL, c_usage, 1, 2 },
    { "interface", "NAME ...", NULL, c_err, 0, 15 },
    { "interfaces", NULL, NULL, NULL, 0, 0 },
    { NULL, NULL, NULL, NULL, 0, 0 },
};
static const con_cmd_t *const tables[] = { table };

static uint8_t out[64 * 1024];

static size_t drain(size_t have)
{
    size_t n;
    while (have < sizeof out && (n = con_output_read(out + have, sizeof out - have)) > 0) {
        /* issue 17: whatever the input, the terminal gets printable ASCII and
         * line ends, plus the line editor's own BEL and backspace */
        for (size_t i = have; i < have + n; i++)
            FUZZ_CHECK((out[i] >= 0x20 && out[i] < 0x7F) || out[i] == '\r' || out[i] == '\n' ||
                       out[i] == '\a' || out[i] == '\b');
        have += n;
    }
    if (have == sizeof out)
        have = 0;   /* keep going; only the hash and the lines checked so far count */
    return have;
}

/* Error lines ("% " at a line start) in out[0..n). */
static unsigned error_lines(const uint8_t *p, size_t n)
{
    unsigned c = 0;
    int bol = 1;
    for (size_t i = 0; i < n; i++) {
        if (bol && p[i] == '%')
            c++;
        bol = p[i] == '\n';
    }
    return c;
}

typedef struct {
    uint32_t out_hash, cmds;
    uint32_t dropped;
} run_t;

static void typed_run(const uint8_t *p, size_t n, uint32_t seed, run_t *r)
{
    con_init(tables, 1);
    con_start();
    cmd_hash = 2166136261u;
    typed = 1;
    uint32_t h = 2166136261u;
    size_t off = 0;
    while (off < n) {
        size_t k = seed ? fz_split(&seed, n - off) : n - off;
        con_input(p + off, k);
        off += k;
        size_t got = drain(0);
        h = fz_hash(h, out, got);
    }
    r->out_hash = h;
    r->cmds = cmd_hash;
    r->dropped = con_stats().dropped_bytes;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 8192)
        return 0;
    /* replay: NUL or LF ends a line */
    con_init(tables, 1);
    typed = 0;
    static char text[8192 + 1];
    size_t i = 0;
    while (i < size) {
        size_t j = i;
        while (j < size && data[j] != '\n' && data[j] != '\0')
            j++;
        memcpy(text, data + i, j - i);
        text[j - i] = '\0';
        (void)drain(0);
        int rc = con_exec(text);
        size_t got = drain(0);
        unsigned e = error_lines(out, got);
        if (rc < 0)
            FUZZ_CHECK(e == 1);
        else
            FUZZ_CHECK(rc == CON_OK && e == 0);
        if (text[0] == '#' || text[0] == '!')
            FUZZ_CHECK(got == 0);
        i = j + 1;
    }
    /* typed: whole vs split */
    if (size < 1)
        return 0;
    run_t a, b;
    typed_run(data + 1, size - 1, 0, &a);
    typed_run(data + 1, size - 1, data[0] | 0x100u, &b);
    FUZZ_CHECK(a.cmds == b.cmds || a.dropped || b.dropped);
    if (!a.dropped && !b.dropped)
        FUZZ_CHECK(a.out_hash == b.out_hash);
    return 0;
}
