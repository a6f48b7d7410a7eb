/* fuzz: firmware/smtp/smtpc_reply.c */
/* The SMTP reply parser on any server bytes.  Invariants: the same replies
 * (and the same error, at the same byte) whole or split into chunks of any
 * size; every reply has a code 200..599 and at least one line, its
 * enhanced code's class matches the code, texts are NUL-terminated; an
 * error is sticky (nothing more is consumed). */
#include "fuzz.h"

#include "smtp/smtpc_reply.h"

typedef struct {
    unsigned replies;
    uint32_t hash;
    int err;
    size_t err_at;
} res_t;

static void check_reply(const smtpc_reply_t *r)
{
    FUZZ_CHECK(r->code >= 200 && r->code <= 599);
    FUZZ_CHECK(r->n_lines >= 1);
    FUZZ_CHECK(memchr(r->enh, '\0', sizeof r->enh) != NULL);
    FUZZ_CHECK(memchr(r->text, '\0', sizeof r->text) != NULL);
    if (r->enh[0])
        FUZZ_CHECK(r->enh[0] == (char)('0' + r->code / 100));
}

static uint32_t reply_hash(uint32_t h, const smtpc_reply_t *r)
{
    h = fz_hash(h, &r->code, sizeof r->code);
    h = fz_hash(h, &r->n_lines, sizeof r->n_lines);
    h = fz_hash(h, r->enh, strlen(r->enh));
    h = fz_hash(h, r->text, strlen(r->text) + 1);
    h = fz_hash(h, &r->ext, sizeof r->ext);
    h = fz_hash(h, &r->size_max, sizeof r->size_max);
    return fz_hash(h, &r->auth, sizeof r->auth);
}

/* Feed p[0..n) in chunks (seed 0: whole). */
static void run(const uint8_t *p, size_t n, uint32_t seed, res_t *res)
{
    smtpc_reply_parser_t ps;
    smtpc_reply_init(&ps);
    memset(res, 0, sizeof *res);
    res->hash = 2166136261u;
    size_t off = 0;
    while (off < n) {
        size_t chunk = seed ? fz_split(&seed, n - off) : n - off;
        size_t end = off + chunk;
        while (off < end) {
            int st;
            size_t k = smtpc_reply_feed(&ps, p + off, end - off, &st);
            FUZZ_CHECK(k <= end - off);
            off += k;
            if (st == SMTPC_REPLY_DONE) {
                check_reply(smtpc_reply_get(&ps));
                res->replies++;
                res->hash = reply_hash(res->hash, smtpc_reply_get(&ps));
                continue;
            }
            if (st < 0) {
                res->err = st;
                res->err_at = off;
                FUZZ_CHECK(smtpc_reply_strerror(st) != NULL);
                /* sticky */
                int st2;
                FUZZ_CHECK(smtpc_reply_feed(&ps, p + off, n - off, &st2) == 0 && st2 == st);
                return;
            }
            FUZZ_CHECK(st == SMTPC_REPLY_MORE && off == end);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    res_t whole, split, bytes;
    run(data + 1, size - 1, 0, &whole);
    run(data + 1, size - 1, data[0] | 0x100u, &split);
    FUZZ_CHECK(whole.replies == split.replies && whole.hash == split.hash && whole.err == split.err &&
               whole.err_at == split.err_at);
    if (size < 4096) {
        /* one byte at a time: the seed makes fz_split() return 1 only via left */
        smtpc_reply_parser_t ps;
        smtpc_reply_init(&ps);
        memset(&bytes, 0, sizeof bytes);
        bytes.hash = 2166136261u;
        for (size_t i = 1; i < size; i++) {
            int st;
            size_t k = smtpc_reply_feed(&ps, data + i, 1, &st);
            if (st < 0) {
                bytes.err = st;
                bytes.err_at = i - 1 + k;
                break;
            }
            FUZZ_CHECK(k == 1);
            if (st == SMTPC_REPLY_DONE) {
                bytes.replies++;
                bytes.hash = reply_hash(bytes.hash, smtpc_reply_get(&ps));
            }
        }
        FUZZ_CHECK(whole.replies == bytes.replies && whole.hash == bytes.hash && whole.err == bytes.err &&
                   whole.err_at == bytes.err_at);
    }
    return 0;
}
