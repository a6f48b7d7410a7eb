/* Test harness shared by the console command modules' unit tests: the
 * console's output as a string, and an emitter (con_emit_fn) that collects
 * a module's running-config lines into `emitted`.  Include after cmocka.h
 * and console/con.h. */
#ifndef CON_HARNESS_H
#define CON_HARNESS_H

static char outbuf[CON_TX_RING + 1];
static const char *out(void)
{
    size_t n = con_output_read((uint8_t *)outbuf, sizeof outbuf - 1);
    outbuf[n] = '\0';
    return outbuf;
}

static char emitted[2048];
static size_t emitted_len;
static void sink(void *ctx, const char *fmt, ...) FMT_PRINTF(2, 3);
static void sink(void *ctx, const char *fmt, ...)
{
    assert_ptr_equal(ctx, &emitted);
    va_list ap;
    va_start(ap, fmt);
    int n = fmt_vsnprintf(emitted + emitted_len, sizeof(emitted) - emitted_len, fmt, ap);
    va_end(ap);
    assert_true(n >= 0 && (size_t)n < sizeof(emitted) - emitted_len);
    emitted_len += (size_t)n;
}

#endif
