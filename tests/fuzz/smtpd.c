/* fuzz: firmware/smtp/smtpd.c firmware/smtp/smtpd_cmd.c firmware/smtp/smtpd_guard.c firmware/smtp/smtp_data.c firmware/lib/fmt.c firmware/lib/sasl.c */
/* The SMTP server engine on any client bytes, with the policies, the TLS
 * reservation and queue failures the first byte picks.  Invariants:
 *  - every transaction the queue opened ends in exactly one commit or
 *    abort (nothing on a closed one), also when the session is closed
 *    mid-way; the engine counts as accepted exactly the commits that worked;
 *  - the replies are well-formed (3 digits, SP or '-', CRLF) and never carry
 *    the password;
 *  - the input never stalls for good (a held AUTH failure ends when time
 *    passes);
 *  - the same replies and the same committed data whole or split into
 *    chunks of any size (when no STARTTLS took place: after it the glue drops
 *    what was pipelined, which depends on the split). */
#include "fuzz.h"

#include "queue/queue.h"
#include "smtp/smtpd.h"

void mta_assert_fail(const char *msg, const char *file, int line)
{
    fprintf(stderr, "%s:%d: assertion %s\n", file, line, msg);
    abort();
}

/* ---- the queue, a fake that checks the transaction protocol -------------- */

#define TXN_MAX 4096
static struct {
    int fail;              /* 1 begin, 2 append from the 2nd, 3 commit, 4 rcpt */
    int begins, commits_ok, commits, aborts, nopen;
    uint8_t open[TXN_MAX];
    int appends;
    uint32_t hash;         /* of every committed message: sender, rcpts, data */
    uint32_t cur;
} fq;

static int is_open(queue_txn_t t)
{
    return t >= 1 && t < TXN_MAX && fq.open[t];
}

uint32_t queue_txn_msgid(queue_txn_t t)
{
    FUZZ_CHECK(is_open(t));
    return (uint32_t)t;
}

int queue_txn_begin(const char *sender, uint32_t size_hint, uint8_t src_netif, queue_txn_t *out)
{
    FUZZ_CHECK(strlen(sender) <= 254);
    if (fq.fail == 1 || fq.begins + 1 >= TXN_MAX)
        return QUEUE_ERR_FULL;
    *out = ++fq.begins;
    fq.open[*out] = 1;
    fq.nopen++;
    fq.appends = 0;
    fq.cur = fz_hash(2166136261u, sender, strlen(sender) + 1);
    return QUEUE_OK;
}

int queue_txn_add_rcpt(queue_txn_t t, const char *rcpt)
{
    FUZZ_CHECK(is_open(t) && fq.appends == 0);   /* recipients precede data */
    size_t n = strlen(rcpt);
    FUZZ_CHECK(n >= 1 && n <= 254);
    for (size_t i = 0; i < n; i++)
        FUZZ_CHECK((unsigned char)rcpt[i] >= 0x20 && rcpt[i] != 0x7F);
    if (fq.fail == 4 && rcpt[0] == 'x')
        return QUEUE_ERR_FULL;
    fq.cur = fz_hash(fq.cur, rcpt, n + 1);
    return QUEUE_OK;
}

/* RFC 3461: what the engine hands on is what the parser accepted: an ENVID
 * of 1..100 and an ORCPT of 1..500 xtext octets, known NOTIFY bits only. */
int queue_txn_begin_dsn(const char *sender, uint32_t size_hint, uint8_t src_netif, uint8_t ret,
                        const char *envid, size_t envid_len, queue_txn_t *out)
{
    FUZZ_CHECK(ret <= 2);
    FUZZ_CHECK(envid == NULL ? envid_len == 0 : envid_len >= 1 && envid_len <= 100);
    return queue_txn_begin(sender, size_hint, src_netif, out);
}

int queue_txn_add_rcpt_dsn(queue_txn_t t, const char *rcpt, uint8_t notify, const char *orcpt,
                           size_t orcpt_len)
{
    FUZZ_CHECK((notify & ~0x0Fu) == 0 && (!(notify & 0x01u) || notify == 0x01u));
    FUZZ_CHECK(orcpt == NULL ? orcpt_len == 0 : orcpt_len >= 1 && orcpt_len <= 500);
    return queue_txn_add_rcpt(t, rcpt);
}

int queue_txn_append(queue_txn_t t, const void *data, size_t len)
{
    FUZZ_CHECK(is_open(t) && len > 0);
    if (fq.fail == 2 && ++fq.appends >= 2)
        return QUEUE_ERR_FULL;
    fq.appends++;
    fq.cur = fz_hash(fq.cur, data, len);
    return QUEUE_OK;
}

int queue_txn_commit(queue_txn_t t, uint32_t *out_msgid)
{
    FUZZ_CHECK(is_open(t));
    fq.open[t] = 0;   /* closed whatever the outcome (queue.h) */
    fq.nopen--;
    fq.commits++;
    if (fq.fail == 3)
        return QUEUE_ERR_IO;
    fq.commits_ok++;
    fq.hash = fz_hash(fq.hash, &fq.cur, sizeof fq.cur);
    *out_msgid = (uint32_t)t;
    return QUEUE_OK;
}

void queue_txn_abort(queue_txn_t t)
{
    FUZZ_CHECK(is_open(t));   /* exactly one end per transaction */
    fq.open[t] = 0;
    fq.nopen--;
    fq.aborts++;
}

/* ---- the glue's side of TLS and AUTH -------------------------------------- */

static int tls_ok;

static bool tls_begin(void *ctx)
{
    return tls_ok;
}

static bool auth_check(void *ctx, const char *user, const char *pass)
{
    size_t ul = strlen(user), pl = strlen(pass);
    FUZZ_CHECK(ul >= 1 && ul <= 64 && pl >= 1 && pl <= 128);
    return strcmp(user, "alice") == 0 && strcmp(pass, "secret") == 0;
}

static int date(char *buf, size_t n)
{
    return snprintf(buf, n, "Tue, 19 Nov 2024 10:00:00 +0000");
}

/* ---- one session ------------------------------------------------------------- */

typedef struct {
    uint32_t out_hash, commit_hash;
    size_t out_len;
    int commits_ok, tls;
} run_t;

static uint8_t line[8192];
static size_t line_len;
static uint32_t out_hash;
static size_t out_len;

/* Replies are lines "ddd[ -]text" CRLF: checked as they stream out. */
static void take_output(smtpd_session_t *s)
{
    const uint8_t *q;
    size_t n;
    while ((n = smtpd_output_peek(s, &q)) > 0) {
        out_hash = fz_hash(out_hash, q, n);
        out_len += n;
        for (size_t i = 0; i < n; i++) {
            FUZZ_CHECK(line_len < sizeof line);
            line[line_len++] = q[i];
            if (q[i] != '\n')
                continue;
            FUZZ_CHECK(line_len >= 5 && line[line_len - 2] == '\r');
            FUZZ_CHECK(line[0] >= '2' && line[0] <= '5' && line[1] >= '0' && line[1] <= '9' &&
                       line[2] >= '0' && line[2] <= '9');
            FUZZ_CHECK(line_len == 5 || line[3] == ' ' || line[3] == '-');
            FUZZ_CHECK(memmem(line, line_len, "secret", 6) == NULL);
            FUZZ_CHECK(memchr(line, '\r', line_len - 2) == NULL && memchr(line, '\n', line_len - 1) == NULL);
            line_len = 0;
        }
        smtpd_output_consume(s, n);
    }
}

static void run(const uint8_t *p, size_t n, uint8_t cfg, uint32_t seed, run_t *r)
{
    memset(&fq, 0, sizeof fq);
    fq.fail = cfg >> 5 & 7;
    tls_ok = cfg >> 3 & 1;
    line_len = 0;
    out_hash = 2166136261u;
    out_len = 0;
    smtpd_init();
    smtpd_limits_t lim;
    smtpd_get_limits(&lim);
    lim.max_msg_size = 3000;
    lim.max_rcpt = 4;
    lim.max_errors = 12;
    FUZZ_CHECK(smtpd_set_limits(&lim) == SMTPD_OK);
    smtpd_conn_t conn = { 1, "eth0", "10.0.0.1", "10.0.0.2", "mx.example", (cfg >> 2 & 1) != 0, date,
                          (uint8_t)(cfg & 3), (uint8_t)(cfg >> 4 & 1 ? SMTPD_AUTH_OFFER : SMTPD_AUTH_OFF),
                          cfg & 0x80 ? NULL : tls_begin, auth_check, NULL /* notice */, NULL };
    uint32_t now = 1000;
    smtpd_session_t *s = smtpd_open(&conn, now);
    FUZZ_CHECK(s != NULL);
    take_output(s);
    int tls = 0;
    size_t off = 0;
    while (off < n && !smtpd_should_close(s)) {
        size_t end = off + (seed ? fz_split(&seed, n - off) : n - off);
        int stall = 0;
        while (off < end && !smtpd_should_close(s)) {
            if (smtpd_starttls_pending(s)) {
                /* the glue: output flushed, held input dropped, handshake done */
                take_output(s);
                smtpd_tls_started(s, now);
                FUZZ_CHECK(smtpd_tls_active(s) && !smtpd_starttls_pending(s));
                tls = 1;
                off = end;
                break;
            }
            size_t k = smtpd_input(s, p + off, end - off, now);
            FUZZ_CHECK(k <= end - off);
            off += k;
            take_output(s);
            if (k == 0) {
                /* held back (a failed AUTH): time passes */
                FUZZ_CHECK(++stall <= 3);
                now += SMTPD_AUTH_FAIL_DELAY_MS;
                smtpd_tick(s, now);
                take_output(s);
            } else {
                stall = 0;
            }
        }
    }
    smtpd_tick(s, now);
    take_output(s);
    FUZZ_CHECK(smtpd_state(s) < SMTPD_ST_COUNT && smtpd_state_name(smtpd_state(s)) != NULL);
    const char *user = smtpd_auth_user(s);
    FUZZ_CHECK(user && (!user[0] || strcmp(user, "alice") == 0));
    smtpd_stats_t stats;
    smtpd_close(s);
    smtpd_stats(&stats);
    FUZZ_CHECK(fq.nopen == 0 && fq.commits + fq.aborts == fq.begins);
    FUZZ_CHECK(stats.accepted == (uint32_t)fq.commits_ok);
    r->out_hash = out_hash;
    r->out_len = out_len;
    r->commit_hash = fq.hash;
    r->commits_ok = fq.commits_ok;
    r->tls = tls;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2 || size > 65536)
        return 0;
    run_t a, b;
    run(data + 2, size - 2, data[0], 0, &a);
    run(data + 2, size - 2, data[0], data[1] | 0x100u, &b);
    if (!a.tls && !b.tls)
        FUZZ_CHECK(a.out_hash == b.out_hash && a.out_len == b.out_len && a.commit_hash == b.commit_hash &&
                   a.commits_ok == b.commits_ok);
    return 0;
}
