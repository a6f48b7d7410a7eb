/* unit: firmware/console/con.c firmware/lib/fmt.c */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "console/con.h"

/* ---------------- fake commands ---------------- */

static int calls;           /* any fake command invoked */
static char last_cmd[32];
static int last_argc;
static char last_args[512];  /* "[a][b]" */

static void record(const char *name, int argc, char **argv)
{
    size_t pos = 0;
    int i;

    calls++;
    snprintf(last_cmd, sizeof last_cmd, "%s", name);
    last_argc = argc;
    last_args[0] = '\0';
    for (i = 0; i < argc; i++) {
        pos += (size_t)snprintf(last_args + pos, sizeof last_args - pos,
                                "[%s]", argv[i]);
    }
    assert_null(argv[argc]);
}

static int f_netif(int argc, char **argv)
{
    record("netif", argc, argv);
    con_printf("netif ok\n");
    return 0;
}
static int f_queue(int argc, char **argv) { record("queue", argc, argv); return 0; }
static int f_shutdown(int argc, char **argv) { record("shutdown", argc, argv); return 0; }
static int f_events(int argc, char **argv) { record("events", argc, argv); return 0; }
static int f_clear(int argc, char **argv) { record("clear", argc, argv); return 0; }
static int f_explain(int argc, char **argv)
{
    record("explain", argc, argv);
    con_printf("explain %s\n", argv[0]);
    return 0;
}
static int f_echo(int argc, char **argv)
{
    record("echo", argc, argv);
    con_printf("argc=%d %s\n", argc, last_args);
    return 0;
}
static int f_stat(int argc, char **argv) { record("stat", argc, argv); return 0; }
static int f_statistics(int argc, char **argv) { record("statistics", argc, argv); return 0; }
static int f_fail(int argc, char **argv) { record("fail", argc, argv); return -5; }
static int f_failmsg(int argc, char **argv)
{
    record("failmsg", argc, argv);
    con_error("boom %d", 7);
    return -1;
}
static int f_badval(int argc, char **argv) { record("badval", argc, argv); return CON_ERR_USAGE; }
static int f_async(int argc, char **argv)
{
    record("async", argc, argv);
    con_async_printf("from cmd");
    return 0;
}

static const con_cmd_t table_a[] = {
    { "show netif", NULL, "interface status", f_netif, 0, 0 },
    { "show queue", "[N]", "mail queue", f_queue, 0, 1 },
    { "shutdown", NULL, "stop relay", f_shutdown, 0, 0 },
    { "events", "[N]", "recent events", f_events, 0, 1 },
    { "events explain", "ID", "explain one event", f_explain, 1, 1 },
    { "events clear", NULL, "forget events", f_clear, 0, 0 },
    { NULL, NULL, NULL, NULL, 0, 0 },
};

static const con_cmd_t table_b[] = {
    { "echo", "[WORD...]", "print args", f_echo, 0, 15 },
    { "stat", NULL, "short", f_stat, 0, 0 },
    { "statistics", NULL, NULL, f_statistics, 0, 0 },
    { "fail", NULL, "fails", f_fail, 0, 0 },
    { "failmsg", NULL, "fails loudly", f_failmsg, 0, 0 },
    { "badval", "N", "rejects N", f_badval, 1, 1 },
    { "async", NULL, "async inside cmd", f_async, 0, 0 },
    { NULL, NULL, NULL, NULL, 0, 0 },
};

/* "long": 200 lines of 120 bytes (about 24 KB, more than the ring) in steps */
static int long_left;
static bool long_step(void *ctx)
{
    assert_ptr_equal(ctx, &long_left);
    if (long_left == 0) {
        con_printf("end of long\n");
        return false;
    }
    long_left--;
    con_printf("line %03d %0110d\n", 199 - long_left, 0);
    return true;
}
static int f_long(int argc, char **argv)
{
    record("long", argc, argv);
    long_left = 200;
    con_continue(long_step, &long_left);
    return 0;
}

static const con_cmd_t table_long[] = {
    { "long", NULL, "long output", f_long, 0, 0 },
    { NULL, NULL, NULL, NULL, 0, 0 },
};

static const con_cmd_t *const tables[] = { table_a, table_b };
static const con_cmd_t *const long_tables[] = { table_long };

/* ---------------- harness ---------------- */

static char outbuf[CON_TX_RING + 1];

/* Drain everything the console produced, as a C string. */
static const char *out(void)
{
    size_t n = con_output_read((uint8_t *)outbuf, sizeof outbuf - 1);
    outbuf[n] = '\0';
    assert_int_equal(con_output_pending(), 0);
    return outbuf;
}

static void feed(const char *s)
{
    con_input((const uint8_t *)s, strlen(s));
}

static void feedn(const void *p, size_t n)
{
    con_input((const uint8_t *)p, n);
}

static int setup(void **state)
{
    (void)state;
    con_init(tables, 2);
    con_start();
    assert_string_equal(out(), "mta> ");
    calls = 0;
    last_cmd[0] = '\0';
    return 0;
}

#define EXPECT(input, transcript)              \
    do {                                       \
        feed(input);                           \
        assert_string_equal(out(), transcript); \
    } while (0)

/* ---------------- basic / line endings ---------------- */

static void test_execute_cr(void **state)
{
    (void)state;
    EXPECT("show netif\r", "show netif\r\nnetif ok\r\nmta> ");
    assert_int_equal(calls, 1);
    assert_int_equal(con_stats().lines_executed, 1);
    assert_int_equal(con_stats().errors, 0);
}

static void test_line_endings(void **state)
{
    (void)state;
    EXPECT("show netif\n", "show netif\r\nnetif ok\r\nmta> ");
    EXPECT("show netif\r\n", "show netif\r\nnetif ok\r\nmta> ");
    assert_int_equal(calls, 2);
    /* CRLF split across two reads is still one line end */
    EXPECT("show netif\r", "show netif\r\nnetif ok\r\nmta> ");
    EXPECT("\n", "");
    /* CR CR = two lines; LF CR = two lines; CR LF LF = one + one empty */
    EXPECT("\r\n\n", "\r\nmta> \r\nmta> ");
    EXPECT("\n\r", "\r\nmta> \r\nmta> ");
    EXPECT("\r\r", "\r\nmta> \r\nmta> ");
    assert_int_equal(calls, 3);
    assert_int_equal(con_stats().errors, 0);
}

static void test_empty_and_blank_line(void **state)
{
    (void)state;
    EXPECT("\r", "\r\nmta> ");
    EXPECT("   \r", "   \r\nmta> ");
    assert_int_equal(calls, 0);
    assert_int_equal(con_stats().errors, 0);
}

/* ---------------- editing keys ---------------- */

static void test_backspace_and_del(void **state)
{
    (void)state;
    EXPECT("shox\bw netiff\x7f\r",
           "shox\b \bw netiff\b \b\r\nnetif ok\r\nmta> ");
    assert_string_equal(last_cmd, "netif");
    /* erasing an empty line echoes nothing */
    EXPECT("\b\x7f\b", "");
    EXPECT("a\b\b\b\r", "a\b \b\r\nmta> ");
    assert_int_equal(calls, 1);
}

static void test_ctrl_u(void **state)
{
    (void)state;
    EXPECT("abc\x15", "abc\b \b\b \b\b \b");
    EXPECT("show netif\r", "show netif\r\nnetif ok\r\nmta> ");
    EXPECT("\x15", "");
}

static void test_ctrl_c(void **state)
{
    (void)state;
    EXPECT("show netif\x03", "show netif^C\r\nmta> ");
    assert_int_equal(calls, 0);
    EXPECT("\x03", "^C\r\nmta> ");
    EXPECT("\r", "\r\nmta> ");
    assert_int_equal(calls, 0);
    assert_int_equal(con_stats().errors, 0);
}

static void test_escape_sequences(void **state)
{
    (void)state;
    /* arrows (CSI and SS3 forms), modified keys, Alt+x are swallowed */
    EXPECT("sh\x1b[Aow\x1bOB n\x1b[1;5Cet\x1b" "xif\x1b[3~\r",
           "show netif\r\nnetif ok\r\nmta> ");
    /* ESC then Enter: Enter still ends the line */
    EXPECT("show netif\x1b\r", "show netif\r\nnetif ok\r\nmta> ");
    /* CSI interrupted by Enter */
    EXPECT("show netif\x1b[12\r", "show netif\r\nnetif ok\r\nmta> ");
    /* ESC ESC [ B: second ESC restarts the sequence */
    EXPECT("\x1b\x1b[Bx\x15", "x\b \b");
    assert_int_equal(calls, 3);
}

static void test_controls_and_high_bytes_ignored(void **state)
{
    static const uint8_t in[] = { 's', 'h', 0x00, 0x01, 0x80, 0xff, 'o',
                                  'w', '\t', 0x07, 0x1f, ' ', 'n', 'e', 't',
                                  'i', 'f', 0xc3, 0xa9, '\r' };
    (void)state;
    feedn(in, sizeof in);
    assert_string_equal(out(), "show netif\r\nnetif ok\r\nmta> ");
}

static void test_overlong_line(void **state)
{
    char in[CON_LINE_MAX + 8];
    char want[CON_LINE_MAX + 64];

    (void)state;
    /* exactly CON_LINE_MAX is accepted (and unknown) */
    memset(in, 'a', CON_LINE_MAX);
    in[CON_LINE_MAX] = '\0';
    feed(in);
    memcpy(want, in, CON_LINE_MAX);
    want[CON_LINE_MAX] = '\0';
    assert_string_equal(out(), want);
    feed("\x15");
    (void)out();

    /* two chars too many: refused, a single BEL, rejected on Enter */
    memset(in, 'a', CON_LINE_MAX + 2);
    in[CON_LINE_MAX + 2] = '\0';
    feed(in);
    memcpy(want, in, CON_LINE_MAX);
    strcpy(want + CON_LINE_MAX, "\a");
    assert_string_equal(out(), want);
    feed("bbb");
    assert_string_equal(out(), "");
    EXPECT("\r", "\r\n% line too long (max 256)\r\nmta> ");
    assert_int_equal(con_stats().errors, 1);
    /* next line is fine again */
    EXPECT("show netif\r", "show netif\r\nnetif ok\r\nmta> ");
    /* Ctrl-C clears the overflow state */
    feed(in);
    (void)out();
    EXPECT("\x03\r", "^C\r\nmta> \r\nmta> ");
    assert_int_equal(con_stats().errors, 1);
}

/* ---------------- dispatch ---------------- */

static void test_abbreviation(void **state)
{
    (void)state;
    EXPECT("sh ne\r", "sh ne\r\nnetif ok\r\nmta> ");
    EXPECT("sh q 5\r", "sh q 5\r\nmta> ");
    assert_string_equal(last_cmd, "queue");
    assert_string_equal(last_args, "[5]");
    EXPECT("shu\r", "shu\r\nmta> ");
    assert_string_equal(last_cmd, "shutdown");
    EXPECT("ev ex 42\r", "ev ex 42\r\nexplain 42\r\nmta> ");
    EXPECT("events c\r", "events c\r\nmta> ");
    assert_string_equal(last_cmd, "clear");
    /* longest path wins; otherwise the shorter command takes arguments */
    EXPECT("events\r", "events\r\nmta> ");
    assert_string_equal(last_cmd, "events");
    assert_int_equal(last_argc, 0);
    EXPECT("events 7\r", "events 7\r\nmta> ");
    assert_string_equal(last_cmd, "events");
    assert_string_equal(last_args, "[7]");
    /* an exact word beats a longer word it prefixes */
    EXPECT("stat\r", "stat\r\nmta> ");
    assert_string_equal(last_cmd, "stat");
    EXPECT("stati\r", "stati\r\nmta> ");
    assert_string_equal(last_cmd, "statistics");
    EXPECT("fail\r", "fail\r\n% command failed (-5)\r\nmta> ");
    assert_int_equal(con_stats().errors, 1);
    /* extra spaces and tabs between words do not matter */
    EXPECT("  show    netif  \r", "  show    netif  \r\nnetif ok\r\nmta> ");
}

static void test_ambiguous(void **state)
{
    (void)state;
    EXPECT("sh\r", "sh\r\n% ambiguous command 'sh' (show, shutdown)\r\nmta> ");
    EXPECT("sta\r", "sta\r\n% ambiguous command 'sta' (stat, statistics)\r\nmta> ");
    EXPECT("s\r", "s\r\n% ambiguous command 's' (show, shutdown, stat, statistics)\r\nmta> ");
    EXPECT("events e\r", "events e\r\n% usage: events explain ID\r\nmta> ");
    assert_int_equal(calls, 0);
    assert_int_equal(con_stats().errors, 4);
}

static const con_cmd_t table_c[] = {
    { "show nat", NULL, "nat table", f_queue, 0, 0 },
    { NULL, NULL, NULL, NULL, 0, 0 },
};

static void test_ambiguous_deeper(void **state)
{
    static const con_cmd_t *const three[] = { table_a, table_b, table_c };

    (void)state;
    con_init(three, 3);
    EXPECT("sh n\r", "sh n\r\n% ambiguous command 'sh n' (netif, nat)\r\nmta> ");
    EXPECT("sh na\r", "sh na\r\nmta> ");
    assert_string_equal(last_cmd, "queue");
    EXPECT("s ne\r", "s ne\r\nnetif ok\r\nmta> ");
    /* duplicate words across tables are listed once */
    EXPECT("s\r", "s\r\n% ambiguous command 's' (show, shutdown, stat, statistics)\r\nmta> ");
    assert_int_equal(con_stats().errors, 2);
}

static void test_arg_count(void **state)
{
    (void)state;
    EXPECT("events explain\r", "events explain\r\n% usage: events explain ID\r\nmta> ");
    EXPECT("events explain 1 2\r",
           "events explain 1 2\r\n% usage: events explain ID\r\nmta> ");
    EXPECT("show netif x\r", "show netif x\r\n% usage: show netif\r\nmta> ");
    assert_int_equal(calls, 0);
    EXPECT("badval 3\r", "badval 3\r\n% usage: badval N\r\nmta> ");
    assert_int_equal(calls, 1);
    EXPECT("failmsg\r", "failmsg\r\n% boom 7\r\nmta> ");
    assert_int_equal(con_stats().errors, 5);
    assert_int_equal(con_stats().lines_executed, 2);
}

static void test_unknown(void **state)
{
    (void)state;
    EXPECT("xyz\r", "xyz\r\n% unknown command 'xyz' (try 'help')\r\nmta> ");
    EXPECT("xyz a b\r", "xyz a b\r\n% unknown command 'xyz' (try 'help')\r\nmta> ");
    EXPECT("show foo\r", "show foo\r\n% unknown command 'show foo' (try 'help')\r\nmta> ");
    EXPECT("show\r", "show\r\n% incomplete command 'show' (try 'help show')\r\nmta> ");
    EXPECT("\"\"\r", "\"\"\r\n% unknown command '' (try 'help')\r\nmta> ");
    assert_int_equal(calls, 0);
    assert_int_equal(con_stats().errors, 5);
}

static void test_quoting(void **state)
{
    (void)state;
    EXPECT("echo \"a b\"  c\r", "echo \"a b\"  c\r\nargc=2 [a b][c]\r\nmta> ");
    EXPECT("echo \"x\\\"y\\\\z\"\r",
           "echo \"x\\\"y\\\\z\"\r\nargc=1 [x\"y\\z]\r\nmta> ");
    EXPECT("echo a\"b c\"d\r", "echo a\"b c\"d\r\nargc=1 [ab cd]\r\nmta> ");
    EXPECT("echo \"\" x\r", "echo \"\" x\r\nargc=2 [][x]\r\nmta> ");
    /* outside quotes a backslash is an ordinary character */
    EXPECT("echo a\\b\r", "echo a\\b\r\nargc=1 [a\\b]\r\nmta> ");
    /* quoted command words work too */
    EXPECT("\"show\" netif\r", "\"show\" netif\r\nnetif ok\r\nmta> ");
    assert_int_equal(calls, 6);
    EXPECT("echo \"abc\r", "echo \"abc\r\n% unterminated quote\r\nmta> ");
    EXPECT("echo \"abc\\\r", "echo \"abc\\\r\n% unterminated quote\r\nmta> ");
    assert_int_equal(calls, 6);
    assert_int_equal(con_stats().errors, 2);
}

static void test_too_many_words(void **state)
{
    (void)state;
    /* CON_ARGS_MAX (16) words are fine */
    EXPECT("echo 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15\r",
           "echo 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15\r\n"
           "argc=15 [1][2][3][4][5][6][7][8][9][10][11][12][13][14][15]\r\nmta> ");
    EXPECT("echo 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\r",
           "echo 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\r\n"
           "% too many words (max 16)\r\nmta> ");
    assert_int_equal(calls, 1);
    assert_int_equal(con_stats().errors, 1);
}

/* ---------------- help ---------------- */

static void test_help(void **state)
{
    (void)state;
    EXPECT("help\r",
           "help\r\n"
           "  async              async inside cmd\r\n"
           "  badval N           rejects N\r\n"
           "  echo [WORD...]     print args\r\n"
           "  events [N]         recent events\r\n"
           "  events clear       forget events\r\n"
           "  events explain ID  explain one event\r\n"
           "  fail               fails\r\n"
           "  failmsg            fails loudly\r\n"
           "  help [WORD...]     list commands (those starting with WORD)\r\n"
           "  show netif         interface status\r\n"
           "  show queue [N]     mail queue\r\n"
           "  shutdown           stop relay\r\n"
           "  stat               short\r\n"
           "  statistics\r\n"
           "mta> ");
    EXPECT("help events\r",
           "help events\r\n"
           "  events [N]         recent events\r\n"
           "  events clear       forget events\r\n"
           "  events explain ID  explain one event\r\n"
           "mta> ");
    EXPECT("he sh\r",
           "he sh\r\n"
           "  show netif      interface status\r\n"
           "  show queue [N]  mail queue\r\n"
           "  shutdown        stop relay\r\n"
           "mta> ");
    EXPECT("help ev ex\r",
           "help ev ex\r\n"
           "  events explain ID  explain one event\r\n"
           "mta> ");
    EXPECT("help nothing here\r",
           "help nothing here\r\n% no command matches 'nothing here'\r\nmta> ");
    assert_int_equal(con_stats().lines_executed, 5);
    assert_int_equal(con_stats().errors, 1);
}

static void test_help_without_tables(void **state)
{
    (void)state;
    con_init(NULL, 0);
    EXPECT("help\r",
           "help\r\n"
           "  help [WORD...]  list commands (those starting with WORD)\r\n"
           "mta> ");
}

static void test_odd_tables_and_inputs(void **state)
{
    static const con_cmd_t odd[] = {
        { "noimpl", NULL, "no function", NULL, 0, 0 },
        { "a very long command path", "WITH SOME LONG ARGUMENTS", "long",
          f_queue, 0, 3 },
        { NULL, NULL, NULL, NULL, 0, 0 },
    };
    static const con_cmd_t *const one[] = { odd };
    char in[CON_LINE_MAX + 2];
    const char *o;

    (void)state;
    con_init(one, 1);
    EXPECT("noimpl\r", "noimpl\r\n% command 'noimpl' not implemented\r\nmta> ");
    /* name column capped at 40: the long entry just overflows it */
    EXPECT("help\r",
           "help\r\n"
           "  a very long command path WITH SOME LONG ARGUMENTS  long\r\n"
           "  help [WORD...]                            list commands (those starting with WORD)\r\n"
           "  noimpl                                    no function\r\n"
           "mta> ");
    con_input(NULL, 10);
    assert_string_equal(out(), "");
    /* an unknown 256-char word: the error line is cut, not overflowed */
    memset(in, 'k', CON_LINE_MAX);
    in[CON_LINE_MAX] = '\r';
    in[CON_LINE_MAX + 1] = '\0';
    feed(in);
    o = out();
    assert_non_null(strstr(o, "\r\n% unknown command 'kkk"));
    assert_non_null(strstr(o, "k...\r\nmta> "));
    assert_int_equal(con_stats().errors, 2);
}

/* ---------------- output ---------------- */

static void test_newline_translation(void **state)
{
    (void)state;
    con_puts("a\nb\r\nc\n\n");
    assert_string_equal(out(), "a\r\nb\r\nc\r\n\r\n");
    /* CR at the end of one write, LF at the start of the next */
    con_puts("x\r");
    con_puts("\ny");
    assert_string_equal(out(), "x\r\ny");
    con_write("ab\ncd", 3);
    assert_string_equal(out(), "ab\r\n");
    con_write(NULL, 5);
    con_puts(NULL);
    con_write("x", 0);
    assert_string_equal(out(), "");
}

static void test_printf_and_error(void **state)
{
    char big[CON_PRINTF_MAX * 2];
    const char *o;

    (void)state;
    con_printf("%s=%d %04x|%-3s|\n", "n", -12, 0xabu, "x");
    assert_string_equal(out(), "n=-12 00ab|x  |\r\n");
    con_error("bad %s", "thing");
    assert_string_equal(out(), "% bad thing\r\n");
    con_error("already\n");
    assert_string_equal(out(), "% already\r\n");

    /* overlong: cut at CON_PRINTF_MAX-1, marked, newline kept */
    memset(big, 'z', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    con_printf("%s\n", big);
    o = out();
    assert_int_equal(strlen(o), CON_PRINTF_MAX - 1 + 1); /* + CR */
    assert_string_equal(o + CON_PRINTF_MAX - 1 - 4, "zz...\r\n" + 2);
    con_printf("%s", big);
    o = out();
    assert_int_equal(strlen(o), CON_PRINTF_MAX - 1);
    assert_string_equal(o + strlen(o) - 4, "z...");
    con_error("%s", big);
    o = out();
    assert_memory_equal(o, "% zzz", 5);
    assert_string_equal(o + strlen(o) - 5, "...\r\n");
}

static void test_output_partial_reads_wrap(void **state)
{
    uint8_t b[7];
    char acc[64];
    size_t got = 0, n, round;

    (void)state;
    /* walk the ring indexes around the end many times */
    for (round = 0; round < 3000; round++) {
        con_puts("0123456789abcdefghij");
        got = 0;
        while ((n = con_output_read(b, sizeof b)) > 0) {
            memcpy(acc + got, b, n);
            got += n;
        }
        acc[got] = '\0';
        assert_string_equal(acc, "0123456789abcdefghij");
    }
    assert_int_equal(con_output_read(b, 0), 0);
}

static void test_ring_full_dropped_marker(void **state)
{
    char chunk[1000];
    char marker[64];
    size_t i, n;
    const char *o;

    (void)state;
    memset(chunk, 'x', sizeof chunk);
    for (i = 0; i < 16; i++) {
        con_write(chunk, sizeof chunk);
    }
    assert_int_equal(con_output_pending(), 16000);
    /* does not fit in the remaining 383 bytes: dropped whole */
    con_write(chunk, sizeof chunk);
    assert_int_equal(con_output_pending(), 16000);
    assert_int_equal(con_stats().dropped_bytes, 1000);

    /* next write that fits gets the marker first */
    con_puts("abc\n");
    o = out();
    n = strlen(o);
    snprintf(marker, sizeof marker,
             "\r\n[console output dropped 1000 bytes]\r\nabc\r\n");
    assert_int_equal(n, 16000 + strlen(marker));
    assert_string_equal(o + 16000, marker);
    assert_int_equal(o[15999], 'x');

    /* marker itself does not fit: the write is dropped too and counted */
    for (i = 0; i < 16; i++) {
        con_write(chunk, sizeof chunk);
    }
    con_write(chunk, 373); /* leaves 10 bytes free */
    con_write(chunk, 100);
    con_puts("abc\n"); /* 5 wire bytes fit, marker+5 does not */
    assert_int_equal(con_output_pending(), 16373);
    assert_int_equal(con_stats().dropped_bytes, 1105);
    (void)out();
    con_puts("z");
    assert_string_equal(out(), "\r\n[console output dropped 105 bytes]\r\nz");
    con_puts("q");
    assert_string_equal(out(), "q");

    /* a single write bigger than the ring is dropped, not wedged */
    {
        static char huge[CON_TX_RING + 10];
        memset(huge, 'h', sizeof huge);
        con_write(huge, sizeof huge);
        assert_int_equal(con_output_pending(), 0);
        EXPECT("show netif\r",
               "\r\n[console output dropped 16394 bytes]\r\n"
               "show netif\r\nnetif ok\r\nmta> ");
    }
}

static void test_echo_typing_when_full(void **state)
{
    char chunk[1000];
    size_t i;

    (void)state;
    memset(chunk, 'x', sizeof chunk);
    for (i = 0; i < 16; i++) {
        con_write(chunk, sizeof chunk);
    }
    con_write(chunk, 383); /* ring exactly full */
    assert_int_equal(con_output_pending(), CON_TX_RING - 1);
    feed("show netif\r"); /* nobody drains: all output dropped */
    assert_int_equal(calls, 1);
    assert_int_equal(con_output_pending(), CON_TX_RING - 1);
    assert_true(con_stats().dropped_bytes > 0);
}

/* ---------------- async, echo, gate ---------------- */

static void test_async(void **state)
{
    (void)state;
    EXPECT("sho", "sho");
    con_async_printf("event %d: %s", 1, "queued");
    assert_string_equal(out(), "\r\nevent 1: queued\r\nmta> sho");
    EXPECT("w netif\r", "w netif\r\nnetif ok\r\nmta> ");
    /* at an empty prompt the prompt line is still left intact */
    con_async_printf("tick\n");
    assert_string_equal(out(), "\r\ntick\r\nmta> ");
    /* from inside a command: no prompt reprint, the engine prints it */
    EXPECT("async\r", "async\r\nfrom cmd\r\nmta> ");
    /* echo off: partial input is not reprinted */
    con_set_echo(false);
    feed("sec");
    con_async_printf("ev");
    assert_string_equal(out(), "\r\nev\r\nmta> ");
}

static void test_async_before_start(void **state)
{
    (void)state;
    con_init(tables, 2);
    con_async_printf("boot %d", 1);
    con_async_printf("boot %d", 2);
    assert_string_equal(out(), "boot 1\r\nboot 2\r\n");
    con_start();
    assert_string_equal(out(), "mta> ");
}

static void test_echo_off(void **state)
{
    (void)state;
    con_set_echo(false);
    EXPECT("show netiff\b\r", "\r\nnetif ok\r\nmta> ");
    EXPECT("abc\x15" "show netif\r", "\r\nnetif ok\r\nmta> ");
    EXPECT("abc\x03", "^C\r\nmta> ");
    con_set_echo(true);
    EXPECT("x\b", "x\b \b");
}

static int gate_calls;
static char gate_last[64];
static int gate_pw(const char *line)
{
    gate_calls++;
    snprintf(gate_last, sizeof gate_last, "%s", line);
    if (strcmp(line, "secret") == 0) {
        con_set_prompt(NULL);
        con_set_echo(true);
        con_puts("welcome\n");
        return 0;
    }
    con_puts("denied\n");
    return 1;
}

static void test_gate(void **state)
{
    (void)state;
    con_set_gate(gate_pw);
    con_set_prompt("password: ");
    con_set_echo(false);
    assert_true(con_locked());
    EXPECT("show netif\r", "\r\ndenied\r\npassword: ");
    assert_int_equal(calls, 0);
    assert_string_equal(gate_last, "show netif");
    EXPECT("\r", "\r\ndenied\r\npassword: ");
    assert_string_equal(gate_last, "");
    EXPECT("secret\r", "\r\nwelcome\r\nmta> ");
    assert_false(con_locked());
    assert_int_equal(gate_calls, 3);
    EXPECT("show netif\r", "show netif\r\nnetif ok\r\nmta> ");
    assert_int_equal(gate_calls, 3);
    /* relock */
    con_set_gate(gate_pw);
    assert_true(con_locked());
    con_set_gate(NULL);
    assert_false(con_locked());
}

/* ---------------- robustness ---------------- */

static uint32_t rng_state;
static uint32_t rng(void)
{
    /* xorshift32: deterministic across hosts */
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

static void assert_help_works(void)
{
    const char *o;

    (void)out();
    feed("\x03help\r");
    o = out();
    assert_non_null(strstr(o, "^C\r\nmta> help\r\n"));
    assert_non_null(strstr(o, "  show netif         interface status\r\n"));
    assert_non_null(strstr(o, "  help [WORD...]"));
    assert_string_equal(o + strlen(o) - 5, "mta> ");
}

static void test_fuzz_random_bytes(void **state)
{
    /* biased alphabet so quoting, escapes and dispatch get exercised */
    static const uint8_t alpha[] = "shownetifquevxplaincr \"\\\x1b[O~\r\n\b\x7f\x15\x03\t";
    uint8_t buf[97];
    size_t total = 0;
    int mode;

    (void)state;
    for (mode = 0; mode < 2; mode++) {
        rng_state = 0x12345678u + (uint32_t)mode;
        total = 0;
        while (total < 100000u) {
            size_t n = 1u + rng() % sizeof buf, i;
            for (i = 0; i < n; i++) {
                uint32_t r = rng();
                buf[i] = (mode == 0) ? (uint8_t)r
                                     : alpha[r % (sizeof alpha - 1)];
            }
            con_input(buf, n);
            total += n;
            assert_true(con_output_pending() <= CON_TX_RING - 1);
            /* drain sometimes, partially, so the ring fills and wraps */
            if (rng() % 4u == 0u) {
                uint8_t sink[512];
                (void)con_output_read(sink, rng() % sizeof sink);
            }
        }
        assert_help_works();
    }
}

static void test_floods(void **state)
{
    static uint8_t flood[20000];
    const char *o;

    (void)state;
    memset(flood, 0x00, sizeof flood);
    feedn(flood, sizeof flood);
    assert_string_equal(out(), "");
    memset(flood, 0xff, sizeof flood);
    feedn(flood, sizeof flood);
    assert_string_equal(out(), "");
    /* unterminated CSI flood: bounded, then plain text again */
    memset(flood, '1', sizeof flood);
    flood[0] = 0x1b;
    flood[1] = '[';
    feedn(flood, sizeof flood);
    (void)out();
    assert_help_works();
    /* printable flood without a line end, then Enter */
    memset(flood, 'a', sizeof flood);
    feedn(flood, sizeof flood);
    (void)out();
    feed("\r");
    o = out();
    assert_string_equal(o, "\r\n% line too long (max 256)\r\nmta> ");
    /* huge single line with CRs every so often */
    for (size_t i = 0; i < sizeof flood; i++) {
        flood[i] = (i % 300 == 299) ? '\r' : 'q';
    }
    feedn(flood, sizeof flood);
    (void)out();
    assert_help_works();
}

/* ---------------- printable output (issue 17, finding 6) ---------------- */

static void assert_printable(const char *o)
{
    for (const char *p = o; *p != '\0'; p++) {
        unsigned char c = (unsigned char)*p;
        assert_true((c >= 0x20 && c < 0x7f) || c == '\r' || c == '\n');
    }
}

/* The boot replay (con_exec) quotes the replayed line in its error: bytes
 * from a saved configuration must not reach the terminal raw. */
static void test_exec_error_is_printable(void **state)
{
    (void)state;
    assert_int_equal(con_exec("\x1b[2J\x1b]0;owned\x07 x"), CON_ERR_FAIL);
    const char *o = out();
    assert_printable(o);
    assert_string_equal(o, "% unknown command '\\x1b[2J\\x1b]0;owned\\x07' (try 'help')\r\n");
    /* through a command's own error line, with 8-bit C1 CSI and UTF-8 */
    assert_int_equal(con_exec("badval \x9b" "31m\xc3\xa9"), CON_ERR_FAIL);
    o = out();
    assert_printable(o);
    assert_string_equal(o, "% usage: badval N\r\n");
    assert_int_equal(con_exec("echo \x9b" "31m\xc3\xa9\t"), CON_OK);
    o = out();
    assert_string_equal(o, "argc=1 [\\x9b31m\\xc3\\xa9]\r\n");
}

/* Whatever a command prints: printf, error lines, async lines, puts. */
static void test_output_is_printable(void **state)
{
    (void)state;
    con_printf("a\x1b" "b\x7f" "c\x01\n");
    assert_string_equal(out(), "a\\x1bb\\x7fc\\x01\r\n");
    con_error("e %s", "\x1b[31m");
    assert_string_equal(out(), "% e \\x1b[31m\r\n");
    con_async_printf("x\a");
    const char *o = out();
    assert_printable(o);
    assert_non_null(strstr(o, "x\\x07\r\n"));
    /* CRLF and text stay as they are; the engine's own echo is not escaped */
    con_puts("ok\r\n");
    assert_string_equal(out(), "ok\r\n");
    EXPECT("ab\b", "ab\b \b");
}

/* An escaped byte takes four bytes of the ring: room and the drop count
 * are reckoned on the wire. */
static void test_escaped_output_fits_ring(void **state)
{
    (void)state;
    static char esc[CON_TX_RING / 4];
    memset(esc, 0x1b, sizeof esc); /* 4 * sizeof esc > ring room */
    con_write(esc, sizeof esc);
    assert_int_equal(con_stats().dropped_bytes, 4u * sizeof esc);
    assert_int_equal(con_output_pending(), 0);
    con_write(esc, 10);
    const char *o = out();
    assert_non_null(strstr(o, "[console output dropped 16384 bytes]"));
    assert_non_null(strstr(o, "\\x1b\\x1b\\x1b\\x1b\\x1b\\x1b\\x1b\\x1b\\x1b\\x1b"));
    assert_printable(o);
}

/* ---------------- login gate ---------------- */

static uint32_t fake_ms;
static uint32_t login_fail_count, login_fail_calls;
static uint32_t fake_now(void) { return fake_ms; }
static bool fake_check(const char *line) { return strcmp(line, "letmein1") == 0; }
static void fake_failed(uint32_t fails)
{
    login_fail_calls++;
    login_fail_count = fails;
}
static const con_login_t fake_login = { fake_check, fake_now, fake_failed };

static void test_login_gate(void **state)
{
    (void)state;
    fake_ms = 5000;
    login_fail_calls = 0;
    assert_int_equal(con_lock(), CON_ERR_FAIL); /* no password: nothing to lock */
    assert_false(con_locked());
    con_set_login(&fake_login);
    assert_false(con_locked()); /* setting a password does not lock */
    assert_int_equal(con_lock(), CON_OK);
    assert_true(con_locked());
    out();
    /* echo off, commands not run */
    EXPECT("show netif\r", "\r\n% wrong password (locked for 1 s)\r\nPassword: ");
    assert_int_equal(calls, 0);
    assert_int_equal(login_fail_count, 1);
    /* locked out: even the right password is not tried */
    fake_ms += 1;
    EXPECT("letmein1\r", "\r\n% locked: try again in 1 s\r\nPassword: ");
    fake_ms -= 1;
    assert_int_equal(login_fail_calls, 1);
    fake_ms += 1000;
    EXPECT("nope\r", "\r\n% wrong password (locked for 2 s)\r\nPassword: ");
    fake_ms += 2000;
    EXPECT("nope\r", "\r\n% wrong password (locked for 4 s)\r\nPassword: ");
    for (uint32_t i = 3; i < 9; i++) {
        fake_ms += 60000;
        feed("nope\r");
    }
    assert_non_null(strstr(out(), "(locked for 60 s)")); /* doubling stops at 60 s */
    assert_int_equal(login_fail_count, 9);
    fake_ms += 60000;
    EXPECT("letmein1\r", "\r\nmta> ");
    assert_false(con_locked());
    EXPECT("show netif\r", "show netif\r\nnetif ok\r\nmta> ");
    /* the count starts again after a login */
    assert_int_equal(con_lock(), CON_OK);
    out();
    EXPECT("x\r", "\r\n% wrong password (locked for 1 s)\r\nPassword: ");
    /* removing the password lifts the lock */
    con_set_login(NULL);
    assert_false(con_locked());
    out();
    EXPECT("show netif\r", "show netif\r\nnetif ok\r\nmta> ");
}

/* ---------------- hiding secret words of saved lines ---------------- */

static char hid[256];
static size_t hid_len;
static void hid_sink(void *ctx, const char *fmt, ...) FMT_PRINTF(2, 3);
static void hid_sink(void *ctx, const char *fmt, ...)
{
    (void)ctx;
    va_list ap;
    va_start(ap, fmt);
    hid_len += (size_t)vsnprintf(hid + hid_len, sizeof hid - hid_len, fmt, ap);
    va_end(ap);
}

static const char *hidden(const char *line, const char *prefix, unsigned first, unsigned last)
{
    hid_len = 0;
    hid[0] = '\0';
    return con_hide_words(line, strlen(line), prefix, first, last, hid_sink, NULL) ? hid : NULL;
}

/* The shapes cmd_tls and cmd_login name: the same output as the saved
 * format always had. */
static void test_hide_words(void **state)
{
    (void)state;
    assert_string_equal(hidden("user hash alice 0011 aabb", "user hash", 3, 4), "user hash alice <hidden>\n");
    assert_string_equal(hidden("peer auth hub relay s3cret plaintext-ok", "peer auth", 4, 4),
                        "peer auth hub relay <hidden> plaintext-ok\n");
    assert_string_equal(hidden("peer auth hub relay s3cret", "peer auth", 4, 4), "peer auth hub relay <hidden>\n");
    /* nothing at the secret's place: the line as it is */
    assert_string_equal(hidden("peer auth hub none", "peer auth", 4, 4), "peer auth hub none\n");
    /* whole words only */
    assert_null(hidden("peer authx hub relay s3cret", "peer auth", 4, 4));
    assert_null(hidden("peer auth", "peer auth", 4, 4));
    assert_null(hidden("peer tls hub may", "peer auth", 4, 4));
    /* a line is taken by its length, not up to a NUL */
    hid_len = 0;
    assert_int_equal(con_hide_words("user hash a b c\nuser", 15, "user hash", 3, 4, hid_sink, NULL), true);
    assert_string_equal(hid, "user hash a <hidden>\n");
}

/* Output longer than the ring goes out whole, in steps, then the prompt:
 * a script waiting for the prompt sees every line (the `events` case). */
static void test_long_output_in_steps(void **state)
{
    static char all[64 * 1024];
    size_t n = 0;
    (void)state;

    con_init(long_tables, 1);
    con_start();
    assert_string_equal(out(), "mta> ");
    feed("long\r");
    assert_true(con_busy());
    for (int guard = 0; guard < 1000 && (con_busy() || con_output_pending() > 0); guard++) {
        if (guard == 3)
            con_async_printf("a live event"); /* mid-listing: no prompt after it */
        con_poll();
        size_t got = con_output_read((uint8_t *)all + n, 1000); /* a slow UART */
        n += got;
        assert_true(n < sizeof all - 1000);
    }
    all[n] = '\0';
    assert_false(con_busy());
    assert_true(n > CON_TX_RING);
    assert_null(strstr(all, "dropped"));
    assert_non_null(strstr(all, "line 000 "));
    assert_non_null(strstr(all, "line 199 "));
    const char *end = strstr(all, "end of long\r\nmta> ");
    assert_non_null(end);
    assert_string_equal(end, "end of long\r\nmta> "); /* one prompt, at the very end */
    assert_non_null(strstr(all, "a live event\r\n"));
    assert_ptr_equal(strstr(all, "mta> "), end + strlen("end of long\r\n"));
    assert_int_equal(con_stats().dropped_bytes, 0);

    /* replayed from a configuration: runs to the end at once, no prompt */
    assert_int_equal(con_exec("long"), CON_OK);
    assert_false(con_busy());
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_execute_cr, setup),
        cmocka_unit_test_setup(test_line_endings, setup),
        cmocka_unit_test_setup(test_empty_and_blank_line, setup),
        cmocka_unit_test_setup(test_backspace_and_del, setup),
        cmocka_unit_test_setup(test_ctrl_u, setup),
        cmocka_unit_test_setup(test_ctrl_c, setup),
        cmocka_unit_test_setup(test_escape_sequences, setup),
        cmocka_unit_test_setup(test_controls_and_high_bytes_ignored, setup),
        cmocka_unit_test_setup(test_overlong_line, setup),
        cmocka_unit_test_setup(test_abbreviation, setup),
        cmocka_unit_test_setup(test_ambiguous, setup),
        cmocka_unit_test_setup(test_ambiguous_deeper, setup),
        cmocka_unit_test_setup(test_arg_count, setup),
        cmocka_unit_test_setup(test_unknown, setup),
        cmocka_unit_test_setup(test_quoting, setup),
        cmocka_unit_test_setup(test_too_many_words, setup),
        cmocka_unit_test_setup(test_help, setup),
        cmocka_unit_test_setup(test_help_without_tables, setup),
        cmocka_unit_test_setup(test_odd_tables_and_inputs, setup),
        cmocka_unit_test_setup(test_newline_translation, setup),
        cmocka_unit_test_setup(test_printf_and_error, setup),
        cmocka_unit_test_setup(test_output_partial_reads_wrap, setup),
        cmocka_unit_test_setup(test_ring_full_dropped_marker, setup),
        cmocka_unit_test_setup(test_echo_typing_when_full, setup),
        cmocka_unit_test_setup(test_async, setup),
        cmocka_unit_test_setup(test_async_before_start, setup),
        cmocka_unit_test_setup(test_echo_off, setup),
        cmocka_unit_test_setup(test_gate, setup),
        cmocka_unit_test_setup(test_fuzz_random_bytes, setup),
        cmocka_unit_test_setup(test_floods, setup),
        cmocka_unit_test_setup(test_exec_error_is_printable, setup),
        cmocka_unit_test_setup(test_output_is_printable, setup),
        cmocka_unit_test_setup(test_escaped_output_fits_ring, setup),
        cmocka_unit_test_setup(test_login_gate, setup),
        cmocka_unit_test_setup(test_hide_words, setup),
        cmocka_unit_test_setup(test_long_output_in_steps, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
