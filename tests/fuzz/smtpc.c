/* fuzz: firmware/smtp/smtpc.c firmware/smtp/smtpc_reply.c firmware/smtp/smtp_data.c firmware/lib/fmt.c firmware/lib/sasl.c */
/* The SMTP client engine against any server bytes, with the TLS level,
 * AUTH and a second job the first byte picks.  Invariants:
 *  - every recipient of a job gets exactly one result, and only the codes
 *    0 and 200..599;
 *  - no credential leaves in plaintext unless the job allows it: neither
 *    the password nor any base64 form the engine sends of it appears in the
 *    output before TLS started;
 *  - commands are lines (no bare CR/LF outside the body) and no address
 *    that could inject a command is sent;
 *  - the same output and results line by line or split into chunks of any
 *    size within lines (when no STARTTLS took place): a server only answers
 *    what it was sent, so no chunk runs past the end of a line. */
#include "fuzz.h"

#include "lib/sasl.h"
#include "smtp/smtpc.h"

#define NR 4
static const char *const addrs[NR] = { "bob@example.org", "bad\r\nRCPT TO:<evil@x>", "carol@example.org",
                                      "" };
static const char body[] = "Subject: hi\r\n\r\n.leading dot\r\nline two\r\n..\r\n.\r\nend";
static const char pass[] = "s3cr3t-pw";

static struct {
    uint8_t results[2][NR];
    uint32_t hash;
    int job;
} fc;

static int rd(void *ctx, uint32_t off, void *buf, size_t len)
{
    if (off >= sizeof body - 1)
        return 0;
    size_t n = sizeof body - 1 - off < len ? sizeof body - 1 - off : len;
    memcpy(buf, body + off, n);
    return (int)n;
}

static void result(void *ctx, unsigned idx, int code, const char *enh, const char *text)
{
    FUZZ_CHECK(idx < NR);
    FUZZ_CHECK(fc.results[fc.job][idx]++ == 0);   /* exactly once */
    FUZZ_CHECK(code == 0 || (code >= 200 && code <= 599));
    FUZZ_CHECK(enh != NULL || code == 0 || 1);
    fc.hash = fz_hash(fc.hash, &idx, sizeof idx);
    fc.hash = fz_hash(fc.hash, &code, sizeof code);
    if (enh)
        fc.hash = fz_hash(fc.hash, enh, strlen(enh));
}

static bool tls_begin(void *ctx)
{
    return true;
}

typedef struct {
    uint32_t out_hash, res_hash;
    size_t out_len;
    int tls;
} run_t;

static char secrets[3][256];   /* what must not leave in plaintext */

static void take_output(smtpc_t *c, uint32_t *h, size_t *total, int tls_on, int plain_ok)
{
    const uint8_t *q;
    size_t n;
    while ((n = smtpc_output_peek(c, &q)) > 0) {
        *h = fz_hash(*h, q, n);
        *total += n;
        if (!tls_on && !plain_ok) {
            for (int i = 0; i < 3; i++)
                FUZZ_CHECK(memmem(q, n, secrets[i], strlen(secrets[i])) == NULL);
        }
        FUZZ_CHECK(memmem(q, n, "evil@x", 6) == NULL);
        smtpc_output_consume(c, n);
    }
}

static void run(const uint8_t *p, size_t n, uint8_t cfg, uint32_t seed, run_t *r)
{
    memset(&fc, 0, sizeof fc);
    fc.hash = 2166136261u;
    smtpc_rcpt_t rc[NR];
    for (unsigned i = 0; i < NR; i++)
        rc[i] = (smtpc_rcpt_t){ .addr = addrs[i], .user_idx = (uint16_t)i };
    int plain_ok = cfg >> 4 & 1;
    smtpc_job_t job = { .ehlo_name = "mx.example", .sender = cfg & 0x40 ? "" : "alice@example.com",
                        .rcpts = rc, .n_rcpts = NR, .size = (uint32_t)sizeof body - 1,
                        .body_8bit = (cfg >> 5 & 1) != 0, .read = rd, .rcpt_result = result,
                        .tls = (uint8_t)(cfg % 3), .tls_begin = cfg & 0x80 ? NULL : tls_begin,
                        .auth_user = cfg & 8 ? "alice" : NULL, .auth_pass = cfg & 8 ? pass : NULL,
                        .auth_plaintext_ok = plain_ok != 0 };
    smtpc_t *c = smtpc_open(&job, 0);
    FUZZ_CHECK(c != NULL);
    uint32_t h = 2166136261u;
    size_t total = 0;
    int tls = 0, jobs = 1;
    take_output(c, &h, &total, 0, plain_ok);
    size_t off = 0;
    uint32_t now = 0;
    while (off < n && !smtpc_done(c)) {
        /* a server answers what it was sent: no chunk runs past a line end,
         * so the engine sends between any two lines (pipelined groups too) */
        size_t end = off + (seed ? fz_split(&seed, n - off) : n - off);
        const uint8_t *lf = memchr(p + off, '\n', end - off);
        if (lf)
            end = (size_t)(lf - p) + 1u;
        while (off < end && !smtpc_done(c)) {
            size_t k = smtpc_input(c, p + off, end - off, now);
            FUZZ_CHECK(k <= end - off);
            off += k;
            if (smtpc_starttls_pending(c)) {
                FUZZ_CHECK(smtpc_output_peek(c, &(const uint8_t *){ NULL }) == 0);
                smtpc_tls_started(c, now);
                FUZZ_CHECK(smtpc_tls_active(c));
                tls = 1;
                off = end;   /* what came in clear behind the 220 is gone */
            }
            take_output(c, &h, &total, tls, plain_ok);
            while (smtpc_idle(c)) {   /* the glue answers at once: next job or QUIT */
                if (jobs == 1 && (cfg & 4)) {
                    fc.job = 1;
                    FUZZ_CHECK(smtpc_next(c, &job) == SMTPC_OK);
                    jobs = 2;
                } else {
                    FUZZ_CHECK(smtpc_quit(c) == SMTPC_OK);
                }
                take_output(c, &h, &total, tls, plain_ok);
            }
            if (k == 0 && !smtpc_done(c) && !smtpc_idle(c))
                break;   /* a malformed reply: the rest is ignored */
        }
        if (off < end)
            break;
    }
    smtpc_tick(c, now + 1000);
    FUZZ_CHECK(smtpc_state(c) < SMTPC_ST_COUNT && smtpc_state_name(smtpc_state(c)) != NULL);
    FUZZ_CHECK(smtpc_error_text(c) != NULL);
    if (!smtpc_done(c))
        smtpc_abort(c, -13);
    FUZZ_CHECK(smtpc_done(c));
    smtpc_close(c);
    for (int j = 0; j < jobs; j++)
        for (int i = 0; i < NR; i++)
            FUZZ_CHECK(fc.results[j][i] == 1);
    r->out_hash = h;
    r->out_len = total;
    r->res_hash = fc.hash;
    r->tls = tls;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2 || size > 65536)
        return 0;
    if (!secrets[0][0]) {
        char plain[200];
        snprintf(secrets[0], sizeof secrets[0], "%s", pass);
        sasl_b64_encode(pass, strlen(pass), secrets[1], sizeof secrets[1]);
        FUZZ_CHECK(sasl_plain_encode("alice", pass, plain, sizeof plain) > 0);
        snprintf(secrets[2], sizeof secrets[2], "%s", plain);
    }
    run_t a, b;
    run(data + 2, size - 2, data[0], 0, &a);
    run(data + 2, size - 2, data[0], data[1] | 0x100u, &b);
    if (!a.tls && !b.tls)
        FUZZ_CHECK(a.out_hash == b.out_hash && a.out_len == b.out_len && a.res_hash == b.res_hash);
    return 0;
}
