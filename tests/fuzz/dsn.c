/* fuzz: firmware/queue/dsn.c firmware/lib/fmt.c firmware/lib/date.c */
/* The DSN builder on any hostname, sender, recipients (addresses, codes,
 * texts), application date and original header.  Invariants: the output is
 * 7-bit, CRLF only, every line at most 998 octets; it never exceeds
 * dsn_size_bound(); the return value is the byte count; the MIME structure
 * is intact: the boundary delimits exactly the parts, and no returned header
 * line starts with it. */
#include "fuzz.h"

#include "queue/dsn.h"

#define NR 5

static struct {
    char host[300], sender[300], date[80];
    size_t datelen;
    char addr[NR][300], enh[NR][16], text[NR][300], orcpt[NR][300], remote[NR][80], envid[120];
    dsn_rcpt_t r[NR];
    uint8_t report[NR];
    const uint8_t *hdr;
    size_t hdrlen;
} in;

static uint8_t out[256 * 1024]; /* RET=FULL returns up to DSN_MAX_RETURN */
static size_t outlen;

static int w(void *ctx, const void *p, size_t n)
{
    FUZZ_CHECK(outlen + n <= sizeof out);
    memcpy(out + outlen, p, n);
    outlen += n;
    return 0;
}

static int rcpt(void *ctx, uint16_t idx, dsn_rcpt_t *o)
{
    FUZZ_CHECK(idx < NR);
    *o = in.r[idx];
    return in.report[idx];
}

static int rd(void *ctx, uint32_t off, void *buf, size_t len)
{
    if (off >= in.hdrlen)
        return 0;
    size_t n = in.hdrlen - off < len ? in.hdrlen - off : len;
    memcpy(buf, in.hdr + off, n);
    return (int)n;
}

static int date(void *ctx, uint32_t t, char *buf, size_t size)
{
    size_t n = in.datelen < size ? in.datelen : size - 1;
    memcpy(buf, in.date, n);
    buf[n] = '\0';
    return (int)in.datelen;   /* may claim more than fits: the builder must cope */
}

static int clock_unset(void *ctx)
{
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_t f;
    fz_init(&f, data, size);
    uint8_t cfg = fz_u8(&f);
    size_t hl = fz_str(&f, in.host, 280);
    size_t sl = fz_str(&f, in.sender, 280);
    in.datelen = fz_str(&f, in.date, 70);
    uint16_t nr = (uint16_t)(fz_u8(&f) % (NR + 1));
    size_t amax = 0, tmax = 0;
    uint16_t nfailed = 0;
    for (uint16_t i = 0; i < nr; i++) {
        size_t al = fz_str(&f, in.addr[i], 280);
        fz_str(&f, in.enh[i], 12);
        size_t tl = fz_str(&f, in.text[i], 280);
        fz_str(&f, in.orcpt[i], 280);
        fz_str(&f, in.remote[i], 70);
        uint8_t b = fz_u8(&f);
        in.r[i] = (dsn_rcpt_t){ .address = b & 8 ? NULL : in.addr[i], .enh = b & 16 ? NULL : in.enh[i],
                                .text = b & 32 ? NULL : in.text[i], .orcpt = b & 64 ? in.orcpt[i] : NULL,
                                .remote = b & 128 ? in.remote[i] : NULL, .last_attempt = fz_u32(&f),
                                .code = fz_u16(&f), .expired = (uint8_t)(b & 1) };
        in.r[i].action = (uint8_t)(fz_u8(&f) % 4);
        in.report[i] = (uint8_t)((b >> 1) & 1);
        if (in.report[i] && in.r[i].address) {
            nfailed++;
            amax = al > amax ? al : amax;
            tmax = tl > tmax ? tl : tmax;
        }
    }
    in.hdr = fz_bytes(&f, 8192, &in.hdrlen);
    fz_str(&f, in.envid, 110);
    dsn_env_t env = { .hostname = cfg & 1 ? NULL : in.host, .date = cfg & 2 ? date : NULL,
                      .clock_set = cfg & 8 ? clock_unset : NULL };
    dsn_source_t src = { .msgid = fz_u32(&f), .sender = in.sender, .nrcpt = nr,
                         .ret = (uint8_t)(cfg >> 4 & 3), .envid = cfg & 64 ? in.envid : NULL,
                         .size = (uint32_t)in.hdrlen, .rcpt = rcpt, .read = rd };
    src.arrival = (uint32_t)cfg << 24;
    src.now = src.arrival + 1000u;
    outlen = 0;
    int n = dsn_write(cfg & 4 ? NULL : &env, &src, w, NULL);
    FUZZ_CHECK(n > 0 && (size_t)n == outlen);
    size_t hlen = (cfg & 1) || (cfg & 4) ? 0 : hl;
    (void)hlen, (void)sl, (void)amax, (void)tmax;
    FUZZ_CHECK(outlen <= dsn_size_bound(nfailed));

    /* lines: 7-bit, CRLF only, <= 998 */
    size_t start = 0, nlines = 0;
    for (size_t i = 0; i < outlen; i++) {
        FUZZ_CHECK(out[i] < 0x80);
        if (out[i] == '\r') {
            FUZZ_CHECK(i + 1 < outlen && out[i + 1] == '\n');
            FUZZ_CHECK(i - start <= DSN_LINE_MAX);
            i++;
            start = i + 1;
            nlines++;
        } else {
            FUZZ_CHECK(out[i] != '\n');
        }
    }
    FUZZ_CHECK(start == outlen);
    /* MIME: find the boundary, count its delimiter lines */
    const char *bp = memmem(out, outlen, "\r\n\tboundary=\"", 13);
    FUZZ_CHECK(bp != NULL);
    bp += 13;
    const char *be = memchr(bp, '"', (size_t)((const char *)out + outlen - bp));
    FUZZ_CHECK(be != NULL && be > bp);
    char delim[80];
    size_t dl = (size_t)(be - bp);
    FUZZ_CHECK(dl + 2 < sizeof delim);
    delim[0] = delim[1] = '-';
    memcpy(delim + 2, bp, dl);
    dl += 2;
    unsigned parts = 0, closing = 0;
    /* the third part: the original's header, or (RET=FULL) the whole of it */
    int headers = memmem(out, outlen, "\r\nContent-Type: text/rfc822-headers\r\n", 37) != NULL ||
                  memmem(out, outlen, "\r\nContent-Type: message/rfc822\r\n", 32) != NULL;
    for (size_t i = 0; i < outlen;) {
        const uint8_t *e = memchr(out + i, '\r', outlen - i);
        size_t ll = (size_t)(e - (out + i));
        if (ll >= dl && memcmp(out + i, delim, dl) == 0) {
            if (ll == dl)
                parts++;
            else if (ll == dl + 2 && out[i + dl] == '-' && out[i + dl + 1] == '-')
                closing++;
            else
                FUZZ_CHECK(0 && "a line starts with the boundary");
        }
        i += ll + 2;
    }
    FUZZ_CHECK(parts == (headers ? 3u : 2u) && closing == 1);
    return 0;
}
