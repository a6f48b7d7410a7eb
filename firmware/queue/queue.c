/*
 * queue.c - the MTA message queue on top of a store_ops_t.
 *
 * RAM holds one small qmsg_t per message (open transaction or queued); the
 * store holds everything else (envelope, recipient states, body), so the
 * queue can be rebuilt from the store at boot.  INFLIGHT is a RAM bitmap
 * overlaid on the stored state: an attempt that dies with the power simply
 * leaves its recipients due again.
 *
 * Reports (RFC 3464 DSNs).  When an attempt on a message is over (no
 * recipient of it INFLIGHT), the recipients that became final and want a
 * report -- FAILED (5xx, expired) with NOTIFY including FAILURE, or
 * DELIVERED to a peer without DSN with NOTIFY=SUCCESS ("relayed", RFC 3461
 * 4.1) -- go into ONE report, while the others go on being retried.  The
 * report is committed first, and only then is each recipient in it marked
 * STORE_RCPT_F_REPORTED in the store: a power cut in between sends the
 * report again after the reboot (at least once), it can never lose it.
 * Delay warnings (queue warn) work the same with STORE_RCPT_F_WARNED.
 * Nothing is ever reported to the null sender (RFC 5321 6.2).
 */
#include "queue/queue.h"

#include <string.h>

_Static_assert(QUEUE_OK == STORE_OK && QUEUE_ERR_FULL == STORE_ERR_FULL &&
               QUEUE_ERR_TOOBIG == STORE_ERR_TOOBIG && QUEUE_ERR_ARG == STORE_ERR_ARG &&
               QUEUE_ERR_NOTFOUND == STORE_ERR_NOTFOUND && QUEUE_ERR_STATE == STORE_ERR_STATE &&
               QUEUE_ERR_IO == STORE_ERR_IO, "store errors pass through unchanged");
_Static_assert(QUEUE_MAX_MSGS > 0 && QUEUE_MAX_MSGS <= 65535, "txn handle holds a 16-bit slot index");
_Static_assert(QUEUE_MAX_RCPT > 0 && QUEUE_MAX_RCPT < 0xFFFF, "rcpt index is u16");

enum { SLOT_FREE = 0, SLOT_OPEN, SLOT_LIVE };

typedef struct {
    uint8_t  state;
    uint8_t  src_netif;
    uint8_t  internal;     /* OPEN: queue-generated (DSN), not counted in QUEUE_MAX_TXN */
    uint8_t  appended;     /* OPEN: body started, no more recipients */
    int8_t   err;          /* OPEN: poisoned with this error */
    uint8_t  null_sender;
    uint8_t  report_due;   /* LIVE: a recipient may want its final report */
    uint8_t  warn_done;    /* LIVE: delay warnings handled (none can become due) */
    uint8_t  due_dirty;    /* LIVE: due must be recomputed from the store */
    uint8_t  check_final;  /* LIVE: recovered, may already be finished */
    uint16_t gen;          /* txn handle generation */
    uint16_t nrcpt;
    uint16_t n_nonfinal;   /* recipients not DELIVERED/FAILED (incl. INFLIGHT) */
    uint16_t n_inflight;
    store_handle_t h;
    uint32_t msgid;
    uint32_t seq;          /* acceptance order, for oldest-first */
    uint32_t arrival;
    uint32_t size;
    uint32_t due;          /* earliest due time of a claimable recipient, QUEUE_NEVER if none */
    uint8_t  inflight[(QUEUE_MAX_RCPT + 7) / 8];
} qmsg_t;

static struct {
    const store_ops_t *ops;
    void              *sctx;
    queue_clock_fn     clock;
    queue_event_fn     hook;
    const dsn_env_t   *dsn_env;
    uint32_t retry_min, retry_max, lifetime;
    uint32_t warn;         /* seconds before a delay warning, 0 = off */
    uint32_t max_size;     /* min(QUEUE_MAX_MSG_SIZE, store capacity), fixed per init */
    uint32_t next_msgid;
    uint8_t  foreign_ids;  /* some live message's ID does not encode its slot */
    uint32_t next_seq;
    uint16_t open_txns;
    uint32_t accepted, delivered, deferred, failed, expired, bounced, dsn_dropped;
} Q;

static qmsg_t s_msg[QUEUE_MAX_MSGS];
/* Scratch records: too big for a small M3 stack, and the queue is single-threaded. */
static store_rcpt_t     s_rc;
static store_msg_t      s_mi;
static queue_msg_info_t s_info;

/* ---- helpers ---------------------------------------------------------- */

static uint32_t now_s(void)
{
    return Q.clock ? Q.clock() : 0;
}

static void ev(int kind, uint32_t msgid, uint16_t rcpt)
{
    if (Q.hook)
        Q.hook(kind, msgid, rcpt);
}

/* RFC 5321 4.1.2: a path is printable US-ASCII; reject controls/8-bit so a
 * stored address can never inject lines into a DSN or an SMTP command. */
static int addr_ok(const char *a, int allow_empty)
{
    if (!a)
        return 0;
    size_t n = strlen(a);
    if (n > QUEUE_ADDR_MAX || (n == 0 && !allow_empty))
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)a[i];
        if (c <= 0x20 || c >= 0x7F)
            return 0;
    }
    return 1;
}

/* RFC 3463 2: class.subject.detail, each numeric, subject/detail 1-3 digits. */
static void copy_enh(char *dst, const char *enh)
{
    dst[0] = '\0';
    if (!enh || (enh[0] != '2' && enh[0] != '4' && enh[0] != '5') || enh[1] != '.')
        return;
    const char *p = enh + 2;
    for (int part = 0; part < 2; part++) {
        int n = 0;
        while (*p >= '0' && *p <= '9') {
            p++;
            n++;
        }
        if (n < 1 || n > 3 || (part == 0 && *p++ != '.'))
            return;
    }
    if (*p != '\0')
        return;
    memcpy(dst, enh, (size_t)(p - enh) + 1u);
}

/* Remote reply text is untrusted: keep printable ASCII only (it ends up in
 * the DSN and on the console). */
static void copy_text(char *dst, const char *text, size_t max)
{
    size_t n = 0;
    if (text) {
        for (; text[n] && n < max; n++) {
            unsigned char c = (unsigned char)text[n];
            dst[n] = (c >= 0x20 && c < 0x7F) ? (char)c : ' ';
        }
    }
    dst[n] = '\0';
}

static int bit_get(const qmsg_t *m, uint16_t i)
{
    return (m->inflight[i >> 3] >> (i & 7u)) & 1u;
}

static void bit_set(qmsg_t *m, uint16_t i, int v)
{
    if (v)
        m->inflight[i >> 3] = (uint8_t)(m->inflight[i >> 3] | (1u << (i & 7u)));
    else
        m->inflight[i >> 3] = (uint8_t)(m->inflight[i >> 3] & ~(1u << (i & 7u)));
}

static int is_final(uint8_t st)
{
    return st == STORE_RCPT_DELIVERED || st == STORE_RCPT_FAILED;
}

static uint32_t age_of(const qmsg_t *m, uint32_t now)
{
    return now > m->arrival ? now - m->arrival : 0;
}

static qmsg_t *find_msg(uint32_t msgid)
{
    if (msgid == 0 || msgid == QUEUE_ALL)
        return NULL;
    /* IDs made here encode their slot (alloc_msgid): O(1).  IDs recovered from
     * a persistent store may not, hence the scan. */
    qmsg_t *h = &s_msg[msgid % QUEUE_MAX_MSGS];
    if (h->state == SLOT_LIVE && h->msgid == msgid)
        return h;
    if (!Q.foreign_ids)
        return NULL;
    for (uint32_t i = 0; i < QUEUE_MAX_MSGS; i++)
        if (s_msg[i].state == SLOT_LIVE && s_msg[i].msgid == msgid)
            return &s_msg[i];
    return NULL;
}

static void slot_free(qmsg_t *m)
{
    uint16_t gen = m->gen;
    memset(m, 0, sizeof *m);
    m->gen = (uint16_t)(gen + 1u);
}

static int rcpt_load(const qmsg_t *m, uint16_t idx)
{
    return Q.ops->rcpt_get(Q.sctx, m->h, idx, &s_rc);
}

/* When a DEFERRED recipient is due.  A retry further away than the backoff
 * ceiling cannot come from this boot's policy (times from a previous boot,
 * or the ceiling was lowered): it is due now. */
static uint32_t rcpt_due(const store_rcpt_state_t *st, uint32_t now)
{
    if (st->state == STORE_RCPT_PENDING)
        return 0;
    if (st->next_retry > now && st->next_retry - now > Q.retry_max)
        return now;
    return st->next_retry;
}

static uint32_t msg_due(qmsg_t *m, uint32_t now)
{
    if (m->due_dirty) {
        uint32_t due = QUEUE_NEVER;
        for (uint16_t i = 0; i < m->nrcpt; i++) {
            if (bit_get(m, i) || rcpt_load(m, i) != STORE_OK || is_final(s_rc.st.state))
                continue;
            uint32_t t = rcpt_due(&s_rc.st, now);
            if (t < due)
                due = t;
        }
        m->due = due;
        m->due_dirty = 0;
    }
    return m->due;
}

/* RFC 5321 4.5.4.1: retry interval grows; here doubling from min to max. */
static uint32_t backoff(uint16_t attempts)
{
    uint32_t d = Q.retry_min;
    for (uint16_t i = 1; i < attempts && d < Q.retry_max; i++)
        d = d > 0x7FFFFFFFu ? 0xFFFFFFFFu : d * 2u;
    return d < Q.retry_max ? d : Q.retry_max;
}

static uint32_t add_sat(uint32_t a, uint32_t b)
{
    return a > 0xFFFFFFFFu - b ? 0xFFFFFFFEu : a + b;
}

/* RFC 3461 4.1: does NOTIFY ask for this kind of report?  Not given means
 * FAILURE,DELAY (what sendmail and Postfix do); NEVER means none. */
static int notify_wants(uint8_t notify, uint8_t what)
{
    if (notify == 0)
        return what != STORE_NOTIFY_SUCCESS;
    if (notify & STORE_NOTIFY_NEVER)
        return 0;
    return (notify & what) != 0;
}

/* Record one attempt's outcome for recipient idx (loaded in s_rc, whose
 * state is changed in place: no large copy on the stack).  Updates the
 * store, counters and events; does not finish the message. */
static int apply_result(qmsg_t *m, uint16_t idx, const queue_result_t *res, uint32_t now)
{
    store_rcpt_state_t *st = &s_rc.st;
    int code = res->code;
    if (st->first_attempt == 0)
        st->first_attempt = now;
    st->last_attempt = now;
    if (st->attempts < 0xFFFFu)
        st->attempts++;
    st->reply_code = (code > 0 && code < 1000) ? (uint16_t)code : 0;
    copy_enh(st->reply_enh, res->enh);
    copy_text(st->reply_text, res->text, STORE_REPLY_TEXT_MAX);
    copy_text(st->remote, res->remote, STORE_REMOTE_MAX);
    st->flags = (uint8_t)(st->flags & ~STORE_RCPT_F_PEER_DSN);
    if (res->peer_dsn)
        st->flags |= STORE_RCPT_F_PEER_DSN;
    int kind;
    if (code >= 200 && code < 300) {
        st->state = STORE_RCPT_DELIVERED;
        kind = QUEUE_EV_DELIVERED;
    } else if (code >= 500 && code < 600) {
        st->state = STORE_RCPT_FAILED;
        kind = QUEUE_EV_FAILED;
    } else if (age_of(m, now) > Q.lifetime) {
        /* RFC 5321 4.5.4.1: give up after the lifetime; RFC 3463 4.4.7 */
        st->state = STORE_RCPT_FAILED;
        st->flags |= STORE_RCPT_F_EXPIRED;
        kind = QUEUE_EV_EXPIRED;
    } else {
        /* 4xx, 0 (no connection/timeout) and protocol oddities are transient */
        st->state = STORE_RCPT_DEFERRED;
        st->next_retry = add_sat(now, backoff(st->attempts));
        kind = QUEUE_EV_DEFERRED;
    }
    int rc = Q.ops->rcpt_update(Q.sctx, m->h, idx, st);
    m->due_dirty = 1;
    if (rc != STORE_OK)
        return rc;  /* state unchanged in the store: it will simply be retried */
    switch (kind) {
    case QUEUE_EV_DELIVERED: Q.delivered++; break;
    case QUEUE_EV_FAILED:    Q.failed++;    break;
    case QUEUE_EV_EXPIRED:   Q.expired++;   break;
    default:                 Q.deferred++;  break;
    }
    if (is_final(st->state)) {
        m->n_nonfinal--;
        m->report_due = 1;
    }
    ev(kind, m->msgid, idx);
    return QUEUE_OK;
}

/* ---- transactions ------------------------------------------------------ */

static qmsg_t *txn_get(queue_txn_t t)
{
    if (t < 0 || !Q.ops)
        return NULL;
    uint32_t idx = (uint32_t)t & 0xFFFFu;
    if (idx >= QUEUE_MAX_MSGS)
        return NULL;
    qmsg_t *m = &s_msg[idx];
    if (m->state != SLOT_OPEN || (m->gen & 0x7FFFu) != (((uint32_t)t >> 16) & 0x7FFFu))
        return NULL;
    return m;
}

uint32_t queue_max_size(void)
{
    return Q.max_size;
}

/* A new ID for slot `slot`: a running counter times QUEUE_MAX_MSGS plus the
 * slot, so that find_msg() goes straight to the slot. */
static uint32_t alloc_msgid(uint32_t slot)
{
    for (;;) {
        uint32_t id = Q.next_msgid++ * (uint32_t)QUEUE_MAX_MSGS + slot;
        if (id != 0 && id != QUEUE_ALL && !find_msg(id))
            return id;
    }
}

/* xtext (RFC 3461 4) as stored: printable US-ASCII without SP and "=" */
static int xtext_ok(const char *s, size_t max)
{
    size_t n = 0;
    for (; s[n]; n++) {
        unsigned char c = (unsigned char)s[n];
        if (c <= 0x20 || c >= 0x7F || c == '=' || n >= max)
            return 0;
    }
    return 1;
}

/* Admission of a new inbound transaction: 452 at MAIL at once when the
 * store is nearly full, rather than a transaction that fills it and fails
 * at the end of DATA.  The open transactions keep the headroom to finish;
 * what the store can reclaim (deleted, not compacted yet) counts as room.
 * DSNs (internal) are not held back. */
static int admit(uint32_t size_hint)
{
    store_stats_t st;
    Q.ops->stats(Q.sctx, &st);
    uint32_t reserve = st.total / QUEUE_ADMIT_RESERVE_DIV;
    if (reserve > QUEUE_ADMIT_RESERVE_MAX)
        reserve = QUEUE_ADMIT_RESERVE_MAX;
    uint64_t room = (uint64_t)st.free + st.dead;
    return room >= (uint64_t)reserve + size_hint;
}

static int txn_begin(const char *sender, uint32_t size_hint, uint8_t src_netif, int internal,
                     const store_dsn_t *dsn, queue_txn_t *out)
{
    if (!Q.ops)
        return QUEUE_ERR_STATE;
    if (!out || !addr_ok(sender, 1) ||
        (dsn && dsn->envid && !xtext_ok(dsn->envid, STORE_ENVID_MAX)))
        return QUEUE_ERR_ARG;
    if (size_hint > Q.max_size)
        return QUEUE_ERR_TOOBIG;
    if (!internal && Q.open_txns >= QUEUE_MAX_TXN)
        return QUEUE_ERR_FULL;
    if (!internal && !admit(size_hint))
        return QUEUE_ERR_FULL;
    for (uint32_t i = 0; i < QUEUE_MAX_MSGS; i++) {
        qmsg_t *m = &s_msg[i];
        if (m->state != SLOT_FREE)
            continue;
        store_handle_t h;
        int rc = Q.ops->create(Q.sctx, sender, size_hint, dsn, &h);
        if (rc != STORE_OK)
            return rc;
        slot_free(m);
        m->state = SLOT_OPEN;
        m->internal = (uint8_t)internal;
        m->h = h;
        m->src_netif = src_netif;
        m->null_sender = sender[0] == '\0';
        /* The ID is fixed when the transaction opens so that the Received:
         * header written before the body can name the ID the 250 will give. */
        m->msgid = alloc_msgid(i);
        if (!internal)
            Q.open_txns++;
        *out = (queue_txn_t)(((m->gen & 0x7FFFu) << 16) | i);
        return QUEUE_OK;
    }
    return QUEUE_ERR_FULL;
}

uint32_t queue_txn_msgid(queue_txn_t t)
{
    qmsg_t *m = txn_get(t);
    return m != NULL ? m->msgid : 0;
}

int queue_txn_begin(const char *sender, uint32_t size_hint, uint8_t src_netif, queue_txn_t *out)
{
    return txn_begin(sender, size_hint, src_netif, 0, NULL, out);
}

int queue_txn_begin_dsn(const char *sender, uint32_t size_hint, uint8_t src_netif, uint8_t ret,
                        const char *envid, size_t envid_len, queue_txn_t *out)
{
    if (ret > STORE_RET_HDRS || envid_len > STORE_ENVID_MAX || (envid_len && !envid))
        return QUEUE_ERR_ARG;
    /* s_mi.envid is free scratch here: NUL-terminate without a stack copy */
    memcpy(s_mi.envid, envid ? envid : "", envid_len);
    s_mi.envid[envid_len] = '\0';
    store_dsn_t d = { ret, s_mi.envid };
    return txn_begin(sender, size_hint, src_netif, 0, &d, out);
}

int queue_txn_add_rcpt(queue_txn_t t, const char *rcpt)
{
    return queue_txn_add_rcpt_dsn(t, rcpt, 0, NULL, 0);
}

int queue_txn_add_rcpt_dsn(queue_txn_t t, const char *rcpt, uint8_t notify, const char *orcpt,
                           size_t orcpt_len)
{
    qmsg_t *m = txn_get(t);
    if (!m)
        return QUEUE_ERR_ARG;
    if (m->err)
        return m->err;
    if (!addr_ok(rcpt, 0))
        return QUEUE_ERR_ARG;
    if (m->appended)
        return QUEUE_ERR_STATE;
    if (m->nrcpt >= QUEUE_MAX_RCPT)
        return QUEUE_ERR_FULL;  /* RFC 5321 4.5.3.1.10: 452 too many recipients */
    /* an ORCPT longer than the store keeps is dropped, not refused: RFC
     * 3461 4.2 wants up to 500 characters accepted (store.h) */
    if (!orcpt || orcpt_len > STORE_ORCPT_MAX || strlen(rcpt) + orcpt_len > STORE_RCPT_ID_MAX ||
        !memchr(orcpt, ';', orcpt_len))
        orcpt_len = 0;
    for (size_t i = 0; i < orcpt_len; i++)
        if ((unsigned char)orcpt[i] <= 0x20 || (unsigned char)orcpt[i] >= 0x7F)
            return QUEUE_ERR_ARG;
    /* s_rc.orcpt is free scratch here: NUL-terminate without a stack copy */
    if (orcpt_len)
        memcpy(s_rc.orcpt, orcpt, orcpt_len);
    s_rc.orcpt[orcpt_len] = '\0';
    orcpt = orcpt_len ? s_rc.orcpt : NULL;
    if (notify & ~(STORE_NOTIFY_NEVER | STORE_NOTIFY_SUCCESS | STORE_NOTIFY_FAILURE | STORE_NOTIFY_DELAY))
        return QUEUE_ERR_ARG;
    int rc = Q.ops->rcpt_add(Q.sctx, m->h, rcpt, notify, orcpt);
    if (rc < 0)
        return rc;  /* all-or-nothing in the store: txn stays usable */
    m->nrcpt++;
    return QUEUE_OK;
}

int queue_txn_append(queue_txn_t t, const void *data, size_t len)
{
    qmsg_t *m = txn_get(t);
    if (!m || (!data && len))
        return QUEUE_ERR_ARG;
    if (m->err)
        return m->err;
    m->appended = 1;
    if (len > Q.max_size - m->size) {
        m->err = QUEUE_ERR_TOOBIG;
        return m->err;
    }
    int rc = Q.ops->append(Q.sctx, m->h, data, len);
    if (rc != STORE_OK) {
        m->err = (int8_t)rc;
        return rc;
    }
    m->size += (uint32_t)len;
    return QUEUE_OK;
}

static void txn_close(qmsg_t *m)
{
    if (!m->internal)
        Q.open_txns--;
}

void queue_txn_abort(queue_txn_t t)
{
    qmsg_t *m = txn_get(t);
    if (!m)
        return;
    Q.ops->abort(Q.sctx, m->h);
    txn_close(m);
    slot_free(m);
}

int queue_txn_commit(queue_txn_t t, uint32_t *out_msgid)
{
    qmsg_t *m = txn_get(t);
    if (!m)
        return QUEUE_ERR_ARG;
    int rc = m->err;
    if (rc == 0 && m->nrcpt == 0)
        rc = QUEUE_ERR_ARG;
    uint32_t id = 0;
    if (rc == 0) {
        id = m->msgid;
        store_env_t env = { .msgid = id, .arrival = now_s(), .size = m->size,
                            .nrcpt = m->nrcpt, .src_netif = m->src_netif };
        rc = Q.ops->seal(Q.sctx, m->h, &env);
        if (rc == STORE_OK)
            m->arrival = env.arrival;
    }
    if (rc != 0) {
        queue_txn_abort(t);
        return rc;
    }
    txn_close(m);
    m->state = SLOT_LIVE;
    m->msgid = id;
    m->seq = ++Q.next_seq;
    m->n_nonfinal = m->nrcpt;
    m->due = 0;  /* all PENDING */
    m->due_dirty = 0;
    Q.accepted++;
    if (out_msgid)
        *out_msgid = id;
    ev(QUEUE_EV_ACCEPTED, id, m->src_netif);
    return QUEUE_OK;
}

/* ---- reports (DSN generation) ------------------------------------------ */

enum { REP_FINAL = 0, REP_WARN = 1 };

typedef struct {
    qmsg_t  *m;
    int      kind;
    uint32_t now;
} rep_ctx_t;

/* The report recipient idx (loaded in s_rc) is due for in a report of
 * `kind`: a DSN_ACTION_*, or -1 for none. */
static int rcpt_action(const qmsg_t *m, uint16_t idx, int kind, uint32_t now)
{
    const store_rcpt_state_t *st = &s_rc.st;
    if (m->null_sender || bit_get(m, idx))
        return -1;
    if (kind == REP_FINAL) {
        if (st->flags & STORE_RCPT_F_REPORTED)
            return -1;
        if (st->state == STORE_RCPT_FAILED)
            return notify_wants(s_rc.notify, STORE_NOTIFY_FAILURE) ? DSN_ACTION_FAILED : -1;
        /* RFC 3461 4.1: a peer that does DSN got NOTIFY and reports itself;
         * one that does not gets a "relayed" from us */
        if (st->state == STORE_RCPT_DELIVERED && !(st->flags & STORE_RCPT_F_PEER_DSN) &&
            notify_wants(s_rc.notify, STORE_NOTIFY_SUCCESS))
            return DSN_ACTION_RELAYED;
        return -1;
    }
    if (is_final(st->state) || (st->flags & STORE_RCPT_F_WARNED) || Q.warn == 0 ||
        age_of(m, now) < Q.warn)
        return -1;
    return notify_wants(s_rc.notify, STORE_NOTIFY_DELAY) ? DSN_ACTION_DELAYED : -1;
}

static int dsn_rcpt_cb(void *ctx, uint16_t idx, dsn_rcpt_t *out)
{
    rep_ctx_t *c = ctx;
    int rc = rcpt_load(c->m, idx);
    if (rc != STORE_OK)
        return rc;
    int a = rcpt_action(c->m, idx, c->kind, c->now);
    if (a < 0)
        return 0;
    out->address = s_rc.address;
    out->enh = s_rc.st.reply_enh;
    out->text = s_rc.st.reply_text;
    out->orcpt = s_rc.orcpt[0] ? s_rc.orcpt : NULL;
    out->remote = s_rc.st.remote;
    out->code = s_rc.st.reply_code;
    out->last_attempt = s_rc.st.last_attempt;
    out->expired = (s_rc.st.flags & STORE_RCPT_F_EXPIRED) ? 1 : 0;
    out->action = (uint8_t)a;
    return 1;
}

static int dsn_read_cb(void *ctx, uint32_t offset, void *buf, size_t len)
{
    rep_ctx_t *c = ctx;
    return Q.ops->read(Q.sctx, c->m->h, offset, buf, len);
}

static int dsn_sink(void *ctx, const void *data, size_t len)
{
    return queue_txn_append(*(queue_txn_t *)ctx, data, len);
}

/* Queue one DSN from the null sender to s_mi.sender (loaded). */
static int queue_dsn(rep_ctx_t *c, uint8_t ret)
{
    qmsg_t *m = c->m;
    queue_txn_t t;
    int rc = txn_begin("", 0, QUEUE_NETIF_LOCAL, 1, NULL, &t);
    if (rc != QUEUE_OK)
        return rc;
    rc = queue_txn_add_rcpt(t, s_mi.sender);
    if (rc == QUEUE_OK) {
        dsn_source_t src = { .msgid = m->msgid, .sender = s_mi.sender,
                             .arrival = m->arrival, .now = c->now, .nrcpt = m->nrcpt,
                             .src_netif = m->src_netif, .ret = ret, .envid = s_mi.envid,
                             .size = m->size,
                             .rcpt = dsn_rcpt_cb, .read = dsn_read_cb, .ctx = c };
        int n = dsn_write(Q.dsn_env, &src, dsn_sink, &t);
        rc = n < 0 ? n : QUEUE_OK;
    }
    if (rc == QUEUE_OK)
        return queue_txn_commit(t, NULL);
    queue_txn_abort(t);
    return rc;
}

/* RFC 3464 / RFC 5321 6.1: one report for every recipient of m due for a
 * report of `kind`, to the envelope sender, from the null sender so that
 * it can never bounce again (6.2).  Commit first, then mark (store.h):
 * at least once. */
static void report(qmsg_t *m, int kind, uint32_t now)
{
    rep_ctx_t c = { m, kind, now };
    uint16_t due = 0;
    for (uint16_t i = 0; i < m->nrcpt; i++)
        if (rcpt_load(m, i) == STORE_OK && rcpt_action(m, i, kind, now) >= 0)
            due++;
    if (due == 0)
        return;
    int rc = Q.ops->info(Q.sctx, m->h, &s_mi);
    if (rc == STORE_OK) {
        uint8_t ret = kind == REP_FINAL ? s_mi.ret : (uint8_t)STORE_RET_NONE;
        rc = queue_dsn(&c, ret);
        /* no room for the whole message: the headers still fit better */
        if ((rc == QUEUE_ERR_FULL || rc == QUEUE_ERR_TOOBIG) && ret == STORE_RET_FULL)
            rc = queue_dsn(&c, STORE_RET_NONE);
    }
    if (rc == QUEUE_OK) {
        Q.bounced++;
        ev(kind == REP_FINAL ? QUEUE_EV_BOUNCED : QUEUE_EV_WARNED, m->msgid, QUEUE_RCPT_NONE);
    } else {
        /* as before DSNs were prompt: a report the store cannot take is
         * dropped (event), not retried forever */
        Q.dsn_dropped++;
        ev(QUEUE_EV_DSN_DROPPED, m->msgid, QUEUE_RCPT_NONE);
    }
    for (uint16_t i = 0; i < m->nrcpt; i++) {
        if (rcpt_load(m, i) != STORE_OK || rcpt_action(m, i, kind, now) < 0)
            continue;
        s_rc.st.flags |= kind == REP_FINAL ? STORE_RCPT_F_REPORTED : STORE_RCPT_F_WARNED;
        (void)Q.ops->rcpt_update(Q.sctx, m->h, i, &s_rc.st);  /* failed: reported again */
    }
}

/* An attempt on m is over (or m was recovered): report the recipients that
 * became final, then remove m once every recipient is final. */
static void settle(qmsg_t *m, uint32_t now)
{
    if (m->state != SLOT_LIVE || m->n_inflight > 0)
        return;
    if (m->report_due) {
        m->report_due = 0;
        report(m, REP_FINAL, now);
    }
    if (m->n_nonfinal > 0)
        return;
    Q.ops->del(Q.sctx, m->h);
    slot_free(m);
}

/* ---- setup -------------------------------------------------------------- */

int queue_init(const store_ops_t *ops, void *store_ctx, queue_clock_fn clock)
{
    if (!ops || !clock)
        return QUEUE_ERR_ARG;
    memset(&Q, 0, sizeof Q);
    for (uint32_t i = 0; i < QUEUE_MAX_MSGS; i++)
        slot_free(&s_msg[i]);
    Q.ops = ops;
    Q.sctx = store_ctx;
    Q.clock = clock;
    Q.retry_min = QUEUE_RETRY_MIN_S;
    Q.retry_max = QUEUE_RETRY_MAX_S;
    Q.lifetime = QUEUE_LIFETIME_S;
    Q.warn = QUEUE_WARN_S;
    Q.next_msgid = 1;
    store_stats_t sst;
    ops->stats(store_ctx, &sst);
    Q.max_size = sst.total < QUEUE_MAX_MSG_SIZE ? sst.total : QUEUE_MAX_MSG_SIZE;
    int rc = ops->recover(store_ctx);
    if (rc < 0)
        return rc;
    uint32_t now = now_s();
    int n = 0;
    uint32_t max_id = 0;
    store_handle_t h = STORE_HANDLE_NONE;
    while (n < QUEUE_MAX_MSGS && ops->next(store_ctx, h, &h) == STORE_OK) {
        if (ops->info(store_ctx, h, &s_mi) != STORE_OK || s_mi.nrcpt == 0 ||
            s_mi.nrcpt > QUEUE_MAX_RCPT || find_msg(s_mi.msgid))
            continue;  /* not ours to schedule; left untouched in the store */
        qmsg_t *m = &s_msg[n++];
        m->state = SLOT_LIVE;
        m->h = h;
        m->msgid = s_mi.msgid;
        m->arrival = s_mi.arrival > now ? now : s_mi.arrival;  /* previous boot's clock */
        m->size = s_mi.size;
        m->nrcpt = s_mi.nrcpt;
        m->src_netif = s_mi.src_netif;
        m->null_sender = s_mi.sender[0] == '\0';
        m->due_dirty = 1;
        m->check_final = 1;
        for (uint16_t i = 0; i < m->nrcpt; i++) {
            if (rcpt_load(m, i) != STORE_OK)
                continue;
            if (!is_final(s_rc.st.state))
                m->n_nonfinal++;
            else if (!(s_rc.st.flags & STORE_RCPT_F_REPORTED))
                m->report_due = 1;  /* a report may have been cut by the power */
        }
        if (m->msgid > max_id)
            max_id = m->msgid;
        if (m->msgid % QUEUE_MAX_MSGS != (uint32_t)(m - s_msg))
            Q.foreign_ids = 1; /* find_msg must scan for this one */
    }
    /* oldest first: order by (arrival, msgid) */
    for (int k = 0; k < n; k++) {
        qmsg_t *best = NULL;
        for (int i = 0; i < n; i++) {
            qmsg_t *m = &s_msg[i];
            if (m->seq)
                continue;
            if (!best || m->arrival < best->arrival ||
                (m->arrival == best->arrival && m->msgid < best->msgid))
                best = m;
        }
        best->seq = ++Q.next_seq;
    }
    Q.next_msgid = max_id / (uint32_t)QUEUE_MAX_MSGS + 1u; /* new IDs sort after recovered ones */
    return n;
}

void queue_set_retry(uint32_t min_s, uint32_t max_s, uint32_t lifetime_s)
{
    if (min_s)
        Q.retry_min = min_s;
    if (max_s)
        Q.retry_max = max_s;
    if (lifetime_s)
        Q.lifetime = lifetime_s;
    if (Q.retry_min > Q.retry_max)
        Q.retry_min = Q.retry_max;
    for (uint32_t i = 0; i < QUEUE_MAX_MSGS; i++)
        s_msg[i].due_dirty = 1;
}

void queue_set_warn(uint32_t warn_s)
{
    Q.warn = warn_s;
    for (uint32_t i = 0; i < QUEUE_MAX_MSGS; i++)
        s_msg[i].warn_done = 0;
}

uint32_t queue_get_warn(void)
{
    return Q.warn;
}

void queue_set_dsn_env(const dsn_env_t *env)
{
    Q.dsn_env = env;
}

void queue_set_event_hook(queue_event_fn fn)
{
    Q.hook = fn;
}

/* ---- delivery ------------------------------------------------------------ */

static qmsg_t *oldest_due(uint32_t now)
{
    qmsg_t *best = NULL;
    for (uint32_t i = 0; i < QUEUE_MAX_MSGS; i++) {
        qmsg_t *m = &s_msg[i];
        if (m->state != SLOT_LIVE || msg_due(m, now) > now)
            continue;
        if (!best || m->seq < best->seq)
            best = m;
    }
    return best;
}

int queue_claim(uint32_t now, queue_match_fn match, void *ctx, queue_batch_t *out)
{
    if (!Q.ops)
        return QUEUE_ERR_STATE;
    if (!match || !out)
        return QUEUE_ERR_ARG;
    /* each pass either claims or defers every due recipient of one message
     * (deferral moves it >= retry_min into the future), so this terminates */
    for (uint32_t pass = 0; pass <= QUEUE_MAX_MSGS; pass++) {
        qmsg_t *m = oldest_due(now);
        if (!m)
            break;
        int rc = Q.ops->info(Q.sctx, m->h, &s_mi);
        if (rc != STORE_OK)
            return rc;
        out->nrcpt = 0;
        out->key = -1;
        for (uint16_t i = 0; i < m->nrcpt; i++) {
            if (bit_get(m, i) || rcpt_load(m, i) != STORE_OK || is_final(s_rc.st.state) ||
                rcpt_due(&s_rc.st, now) > now)
                continue;
            int k = match(ctx, s_rc.address);
            if (k < 0) {
                static const queue_result_t noroute = { 0, "", "no route", NULL, 0 };
                apply_result(m, i, &noroute, now);
                continue;
            }
            if (out->key < 0)
                out->key = k;
            if (k != out->key)
                continue;  /* another destination: a later claim takes it */
            bit_set(m, i, 1);
            m->n_inflight++;
            out->rcpt[out->nrcpt++] = i;
        }
        m->due_dirty = 1;
        if (out->nrcpt > 0) {
            out->msgid = m->msgid;
            out->size = m->size;
            out->src_netif = m->src_netif;
            memcpy(out->sender, s_mi.sender, sizeof out->sender);
            return QUEUE_OK;
        }
        /* every due recipient was unroutable; some may have expired */
        uint32_t due = msg_due(m, now);
        settle(m, now);
        if (m->state == SLOT_LIVE && due <= now)
            m->due = now + 1u;  /* store write failed: don't spin on it in this call */
    }
    return QUEUE_ERR_NOTFOUND;
}

int queue_claim_key(uint32_t now, queue_match_fn match, void *ctx, int key, queue_batch_t *out)
{
    if (!Q.ops)
        return QUEUE_ERR_STATE;
    if (!match || !out || key < 0)
        return QUEUE_ERR_ARG;
    /* Any message will do (a connection being reused does not care about
     * age order); recipients for other destinations are left alone. */
    for (uint32_t j = 0; j < QUEUE_MAX_MSGS; j++) {
        qmsg_t *m = &s_msg[j];
        if (m->state != SLOT_LIVE || msg_due(m, now) > now)
            continue;
        if (Q.ops->info(Q.sctx, m->h, &s_mi) != STORE_OK)
            continue;
        out->nrcpt = 0;
        out->key = key;
        for (uint16_t i = 0; i < m->nrcpt; i++) {
            if (bit_get(m, i) || rcpt_load(m, i) != STORE_OK || is_final(s_rc.st.state) ||
                rcpt_due(&s_rc.st, now) > now)
                continue;
            if (match(ctx, s_rc.address) != key)
                continue;
            bit_set(m, i, 1);
            m->n_inflight++;
            out->rcpt[out->nrcpt++] = i;
        }
        if (out->nrcpt > 0) {
            m->due_dirty = 1;
            out->msgid = m->msgid;
            out->size = m->size;
            out->src_netif = m->src_netif;
            memcpy(out->sender, s_mi.sender, sizeof out->sender);
            return QUEUE_OK;
        }
    }
    return QUEUE_ERR_NOTFOUND;
}

uint32_t queue_next_due(uint32_t now)
{
    uint32_t best = QUEUE_NEVER;
    for (uint32_t i = 0; i < QUEUE_MAX_MSGS; i++) {
        qmsg_t *m = &s_msg[i];
        if (m->state != SLOT_LIVE)
            continue;
        uint32_t d = msg_due(m, now);
        if (d == QUEUE_NEVER)
            continue;
        d = d <= now ? 0 : d - now;
        if (d < best)
            best = d;
    }
    return best;
}

int queue_read(uint32_t msgid, uint32_t offset, void *buf, size_t len)
{
    qmsg_t *m = find_msg(msgid);
    if (!m)
        return QUEUE_ERR_NOTFOUND;
    return Q.ops->read(Q.sctx, m->h, offset, buf, len);
}

int queue_rcpt_result(uint32_t msgid, uint16_t rcpt_idx, int smtp_code,
                      const char *enh, const char *text, uint32_t now)
{
    queue_result_t r = { smtp_code, enh, text, NULL, 0 };
    return queue_rcpt_result_ex(msgid, rcpt_idx, &r, now);
}

int queue_rcpt_result_ex(uint32_t msgid, uint16_t rcpt_idx, const queue_result_t *res, uint32_t now)
{
    qmsg_t *m = find_msg(msgid);
    if (!res)
        return QUEUE_ERR_ARG;
    if (!m || rcpt_idx >= m->nrcpt)
        return QUEUE_ERR_NOTFOUND;
    if (!bit_get(m, rcpt_idx))
        return QUEUE_ERR_STATE;
    bit_set(m, rcpt_idx, 0);
    m->n_inflight--;
    m->due_dirty = 1;
    int rc = rcpt_load(m, rcpt_idx);
    if (rc == STORE_OK)
        rc = apply_result(m, rcpt_idx, res, now);
    settle(m, now);
    return rc;
}

int queue_release(uint32_t msgid)
{
    qmsg_t *m = find_msg(msgid);
    if (!m)
        return QUEUE_ERR_NOTFOUND;
    memset(m->inflight, 0, sizeof m->inflight);
    m->n_inflight = 0;
    m->due_dirty = 1;
    settle(m, now_s());
    return QUEUE_OK;
}

void queue_tick(uint32_t now)
{
    if (!Q.ops)
        return;
    for (uint32_t i = 0; i < QUEUE_MAX_MSGS; i++) {
        qmsg_t *m = &s_msg[i];
        if (m->state != SLOT_LIVE)
            continue;
        if (age_of(m, now) > Q.lifetime) {
            for (uint16_t r = 0; r < m->nrcpt; r++) {
                if (bit_get(m, r) || rcpt_load(m, r) != STORE_OK || is_final(s_rc.st.state))
                    continue;
                /* keep the last reply for the DSN; RFC 3463 4.4.7 */
                s_rc.st.state = STORE_RCPT_FAILED;
                s_rc.st.flags |= STORE_RCPT_F_EXPIRED;
                if (Q.ops->rcpt_update(Q.sctx, m->h, r, &s_rc.st) != STORE_OK)
                    continue;
                m->n_nonfinal--;
                m->report_due = 1;
                m->due_dirty = 1;
                Q.expired++;
                ev(QUEUE_EV_EXPIRED, m->msgid, r);
            }
        }
        if (m->check_final || m->report_due || m->n_nonfinal == 0) {
            m->check_final = 0;
            settle(m, now);
        }
        /* delay warnings: between attempts, once per recipient (flag) */
        if (m->state == SLOT_LIVE && Q.warn && !m->warn_done && !m->null_sender &&
            m->n_inflight == 0 && age_of(m, now) >= Q.warn) {
            m->warn_done = 1;
            report(m, REP_WARN, now);
        }
    }
}

int queue_flush(uint32_t msgid)
{
    if (!Q.ops)
        return QUEUE_ERR_STATE;
    uint32_t now = now_s();
    int n = 0;
    int found = 0;
    for (uint32_t i = 0; i < QUEUE_MAX_MSGS; i++) {
        qmsg_t *m = &s_msg[i];
        if (m->state != SLOT_LIVE || (msgid != QUEUE_ALL && m->msgid != msgid))
            continue;
        found = 1;
        for (uint16_t r = 0; r < m->nrcpt; r++) {
            if (bit_get(m, r) || rcpt_load(m, r) != STORE_OK ||
                s_rc.st.state != STORE_RCPT_DEFERRED || s_rc.st.next_retry <= now)
                continue;
            s_rc.st.next_retry = now;
            if (Q.ops->rcpt_update(Q.sctx, m->h, r, &s_rc.st) == STORE_OK)
                n++;
        }
        m->due_dirty = 1;
    }
    return (found || msgid == QUEUE_ALL) ? n : QUEUE_ERR_NOTFOUND;
}

int queue_delete(uint32_t msgid)
{
    qmsg_t *m = find_msg(msgid);
    if (!m)
        return QUEUE_ERR_NOTFOUND;
    if (m->n_inflight)
        return QUEUE_ERR_BUSY;
    int rc = Q.ops->del(Q.sctx, m->h);
    if (rc != STORE_OK && rc != STORE_ERR_NOTFOUND)
        return rc;
    slot_free(m);
    return QUEUE_OK;
}

/* ---- inspection ----------------------------------------------------------- */

static int fill_info(qmsg_t *m, queue_msg_info_t *out)
{
    int rc = Q.ops->info(Q.sctx, m->h, &s_mi);
    if (rc != STORE_OK)
        return rc;
    uint32_t now = now_s();
    memset(out, 0, sizeof *out);
    out->msgid = m->msgid;
    out->age = age_of(m, now);
    out->size = m->size;
    out->nrcpt = m->nrcpt;
    out->src_netif = m->src_netif;
    memcpy(out->sender, s_mi.sender, sizeof out->sender);
    for (uint16_t i = 0; i < m->nrcpt; i++) {
        if (bit_get(m, i)) {
            out->n_inflight++;
            continue;
        }
        if (rcpt_load(m, i) != STORE_OK)
            continue;
        switch (s_rc.st.state) {
        case STORE_RCPT_PENDING:   out->n_pending++;   break;
        case STORE_RCPT_DEFERRED:  out->n_deferred++;  break;
        case STORE_RCPT_DELIVERED: out->n_delivered++; break;
        default:                   out->n_failed++;    break;
        }
    }
    uint32_t d = msg_due(m, now);
    out->next_due = d == QUEUE_NEVER ? QUEUE_NEVER : (d <= now ? 0 : d - now);
    return QUEUE_OK;
}

int queue_get_info(uint32_t msgid, queue_msg_info_t *out)
{
    qmsg_t *m = find_msg(msgid);
    if (!m)
        return QUEUE_ERR_NOTFOUND;
    if (!out)
        return QUEUE_ERR_ARG;
    return fill_info(m, out);
}

int queue_get_rcpt(uint32_t msgid, uint16_t idx, queue_rcpt_info_t *out)
{
    qmsg_t *m = find_msg(msgid);
    if (!m || idx >= m->nrcpt)
        return QUEUE_ERR_NOTFOUND;
    if (!out)
        return QUEUE_ERR_ARG;
    int rc = rcpt_load(m, idx);
    if (rc != STORE_OK)
        return rc;
    memset(out, 0, sizeof *out);
    memcpy(out->address, s_rc.address, sizeof out->address);
    out->state = bit_get(m, idx) ? (uint8_t)QUEUE_RCPT_INFLIGHT : s_rc.st.state;
    out->expired = (s_rc.st.flags & STORE_RCPT_F_EXPIRED) ? 1 : 0;
    out->reported = (s_rc.st.flags & STORE_RCPT_F_REPORTED) ? 1 : 0;
    out->warned = (s_rc.st.flags & STORE_RCPT_F_WARNED) ? 1 : 0;
    out->notify = s_rc.notify;
    out->attempts = s_rc.st.attempts;
    out->first_attempt = s_rc.st.first_attempt;
    out->last_attempt = s_rc.st.last_attempt;
    out->next_retry = s_rc.st.next_retry;
    out->reply_code = s_rc.st.reply_code;
    memcpy(out->reply_enh, s_rc.st.reply_enh, sizeof out->reply_enh);
    memcpy(out->reply_text, s_rc.st.reply_text, sizeof out->reply_text);
    memcpy(out->remote, s_rc.st.remote, sizeof out->remote);
    return QUEUE_OK;
}

int queue_get_orcpt(uint32_t msgid, uint16_t idx, uint8_t *notify, char *buf, size_t size)
{
    qmsg_t *m = find_msg(msgid);
    if (!m || idx >= m->nrcpt)
        return QUEUE_ERR_NOTFOUND;
    int rc = rcpt_load(m, idx);
    if (rc != STORE_OK)
        return rc;
    if (notify)
        *notify = s_rc.notify;
    size_t n = strlen(s_rc.orcpt);
    if (buf && size > 0) {
        if (n >= size)
            return QUEUE_ERR_ARG;
        memcpy(buf, s_rc.orcpt, n + 1u);
    }
    return (int)n;
}

int queue_get_envid(uint32_t msgid, uint8_t *ret, char *buf, size_t size)
{
    qmsg_t *m = find_msg(msgid);
    if (!m)
        return QUEUE_ERR_NOTFOUND;
    int rc = Q.ops->info(Q.sctx, m->h, &s_mi);
    if (rc != STORE_OK)
        return rc;
    if (ret)
        *ret = s_mi.ret;
    size_t n = strlen(s_mi.envid);
    if (buf && size > 0) {
        if (n >= size)
            return QUEUE_ERR_ARG;
        memcpy(buf, s_mi.envid, n + 1u);
    }
    return (int)n;
}

int queue_foreach(queue_foreach_fn fn, void *ctx)
{
    if (!fn || !Q.ops)
        return 0;
    int n = 0;
    uint32_t last = 0;
    /* by sequence number, re-searched each step so fn may delete messages */
    for (;;) {
        qmsg_t *next = NULL;
        for (uint32_t i = 0; i < QUEUE_MAX_MSGS; i++) {
            qmsg_t *m = &s_msg[i];
            if (m->state == SLOT_LIVE && m->seq > last && (!next || m->seq < next->seq))
                next = m;
        }
        if (!next)
            break;
        last = next->seq;
        if (fill_info(next, &s_info) != QUEUE_OK)
            continue;
        n++;
        if (fn(ctx, &s_info))
            break;
    }
    return n;
}

void queue_stats(queue_stats_t *out)
{
    if (!out)
        return;
    memset(out, 0, sizeof *out);
    for (uint32_t i = 0; i < QUEUE_MAX_MSGS; i++) {
        if (s_msg[i].state == SLOT_LIVE) {
            out->messages++;
            out->bytes += s_msg[i].size;
        }
    }
    out->open_txns = Q.open_txns;
    out->accepted = Q.accepted;
    out->delivered = Q.delivered;
    out->deferred = Q.deferred;
    out->failed = Q.failed;
    out->expired = Q.expired;
    out->bounced = Q.bounced;
    out->dsn_dropped = Q.dsn_dropped;
    if (Q.ops)
        Q.ops->stats(Q.sctx, &out->store);
}

void queue_get_retry(uint32_t *min_s, uint32_t *max_s, uint32_t *lifetime_s)
{
    *min_s = Q.retry_min;
    *max_s = Q.retry_max;
    *lifetime_s = Q.lifetime;
}
