/* evt: event ring and event catalogue.  See evt.h for the contracts. */
#include "evt/evt.h"

#include <stdarg.h>
#include <string.h>

#include "lib/date.h"
#include "lib/fmt.h"

#include "mta_assert.h"

_Static_assert(EVT_RING_CAPACITY >= 1, "EVT_RING_CAPACITY must be >= 1");
_Static_assert(EVT_RING_CAPACITY <= 0xFFFFFFu, "EVT_RING_CAPACITY too large");
_Static_assert(EVT_FMT_NAME_MAX >= 1, "EVT_FMT_NAME_MAX must be >= 1");

/* ---- catalogue ---------------------------------------------------------- */

/* Compile-time checks of every entry: id fits the u16 record field, texts
 * are non-empty literals, severity/category/kind tokens exist. */
#define EVT_DEF(id, sym, sev, cat, kind, msg, help)                          \
    _Static_assert((id) > 0 && (id) <= 0xFFFF, #sym ": id out of range");    \
    _Static_assert(sizeof(msg) > 1 && sizeof(help) > 1, #sym ": empty text"); \
    _Static_assert(EVT_SEV_##sev < EVT_SEV_COUNT && EVT_CAT_##cat < EVT_CAT_COUNT \
                   && EVT_ARG_##kind < EVT_ARG_KIND_COUNT, #sym ": bad enum");
#include "evt/evt_catalog.h"

/* Position of each entry in evt_catalog[]. */
enum {
#define EVT_DEF(id, sym, sev, cat, kind, msg, help) EVT_IDX_##sym,
#include "evt/evt_catalog.h"
    EVT_CATALOG_N
};

static const evt_def_t evt_catalog[EVT_CATALOG_N] = {
#define EVT_DEF(id, sym, sev, cat, kind, msg, help) \
    [EVT_IDX_##sym] = { (id), EVT_SEV_##sev, EVT_CAT_##cat, EVT_ARG_##kind, \
                        #sym, msg, help },
#include "evt/evt_catalog.h"
};

typedef struct {
    uint32_t    num;
    const char *text;
} evt_cause_def_t;

static const evt_cause_def_t evt_causes[] = {
#define EVT_CAUSE_DEF(num, sym, text) { (num), text },
#include "evt/evt_catalog.h"
};

static const char *const evt_sev_names[EVT_SEV_COUNT] = {
    "debug", "info", "notice", "warning", "error", "critical"
};

static const char evt_sev_letters[EVT_SEV_COUNT] = {
    'D', 'I', 'N', 'W', 'E', 'C'
};

static const char *const evt_cat_names[EVT_CAT_COUNT] = {
    "system", "netif", "smtpd", "smtpc", "queue", "store", "config",
    "console", "tls"
};

static const char *const evt_queue_names[] = { "active", "deferred", "bounce" };

size_t evt_catalog_count(void)
{
    return EVT_CATALOG_N;
}

const evt_def_t *evt_catalog_at(size_t i)
{
    return i < EVT_CATALOG_N ? &evt_catalog[i] : NULL;
}

/* A switch rather than a scan: O(1)-ish on every evt_log, and a duplicate ID
 * in the catalogue becomes a "duplicate case value" compile error. */
const evt_def_t *evt_catalog_find(uint16_t id)
{
    switch (id) {
#define EVT_DEF(num, sym, sev, cat, kind, msg, help) \
    case (num): return &evt_catalog[EVT_IDX_##sym];
#include "evt/evt_catalog.h"
    default:
        return NULL;
    }
}

const char *evt_sev_name(uint8_t sev)
{
    return sev < EVT_SEV_COUNT ? evt_sev_names[sev] : "?";
}

char evt_sev_letter(uint8_t sev)
{
    return sev < EVT_SEV_COUNT ? evt_sev_letters[sev] : '?';
}

const char *evt_cat_name(uint8_t cat)
{
    return cat < EVT_CAT_COUNT ? evt_cat_names[cat] : "?";
}

const char *evt_cause_text(uint32_t cause)
{
    for (size_t i = 0; i < sizeof(evt_causes) / sizeof(evt_causes[0]); i++) {
        if (evt_causes[i].num == cause) {
            return evt_causes[i].text;
        }
    }
    return NULL;
}

/* ---- argument packing --------------------------------------------------- */

#define EVT_ERR24_MIN (-0x800000L)
#define EVT_ERR24_MAX 0x7FFFFFL

uint32_t evt_pack_netif_err(uint8_t netif, int32_t err)
{
    if (err < EVT_ERR24_MIN) {
        err = EVT_ERR24_MIN;
    } else if (err > EVT_ERR24_MAX) {
        err = EVT_ERR24_MAX;
    }
    /* Two's complement truncation to 24 bits; unpack sign-extends. */
    return ((uint32_t)netif << 24) | ((uint32_t)err & 0xFFFFFFu);
}

/* Tagged: bits 23..16 are 0x40 | kind, a value the 24-bit untagged form
 * never has for a real error (lwIP, reply and TLS codes all fit 16 bits,
 * so their bits 23..16 are 0x00 or 0xFF). */
#define EVT_ERR_TAG 0x40u

uint32_t evt_pack_netif_mta_err(uint8_t netif, mta_err_t err)
{
    uint32_t kind = err.kind < MTA_ERR_KIND_COUNT ? err.kind : MTA_ERR_LOCAL;
    return ((uint32_t)netif << 24) | ((EVT_ERR_TAG | kind) << 16) | (uint32_t)(uint16_t)err.code;
}

static bool evt_err_tagged(uint32_t arg)
{
    uint32_t tag = (arg >> 16) & 0xFFu;
    return (tag & 0xF0u) == EVT_ERR_TAG && (tag & 0x0Fu) < MTA_ERR_KIND_COUNT;
}

mta_err_t evt_unpack_mta_err(uint32_t arg)
{
    if (evt_err_tagged(arg)) {
        return mta_err_make((mta_err_kind_t)((arg >> 16) & 0x0Fu), (int16_t)(uint16_t)(arg & 0xFFFFu));
    }
    int32_t e = evt_unpack_err(arg);
    if (e <= 0) {
        return mta_err_lwip(e);
    }
    return e >= 200 && e <= 599 ? mta_err_reply(e) : mta_err_tls(-e);
}

uint8_t evt_unpack_netif(uint32_t arg)
{
    return (uint8_t)(arg >> 24);
}

int32_t evt_unpack_err(uint32_t arg)
{
    int32_t v = (int32_t)(arg & 0xFFFFFFu);
    if (v & 0x800000) {
        v -= 0x1000000;
    }
    return v;
}

uint32_t evt_pack_recovery(uint32_t recovered, uint32_t discarded)
{
    if (recovered > 0xFFFFu) {
        recovered = 0xFFFFu;
    }
    if (discarded > 0xFFFFu) {
        discarded = 0xFFFFu;
    }
    return (recovered << 16) | discarded;
}

uint16_t evt_unpack_recovered(uint32_t arg)
{
    return (uint16_t)(arg >> 16);
}

uint16_t evt_unpack_discarded(uint32_t arg)
{
    return (uint16_t)(arg & 0xFFFFu);
}

uint32_t evt_pack_boot(uint8_t reset_cause, uint8_t major, uint8_t minor,
                       uint8_t patch)
{
    return ((uint32_t)reset_cause << 24) | ((uint32_t)major << 16) |
           ((uint32_t)minor << 8) | (uint32_t)patch;
}

/* ---- ring --------------------------------------------------------------- */

typedef struct {
    evt_record_t    ring[EVT_RING_CAPACITY];
    uint32_t        head;       /* index the next record is written to */
    uint32_t        count;
    uint32_t        dropped;
    uint32_t        last_seq;   /* seq of the newest record ever logged */
    uint32_t        (*now_ms)(void);
    evt_resolvers_t res;
    evt_listener_fn listener;
    bool            in_listener;
} evt_state_t;

/* All-zero is the boot state (first seq is last_seq + 1 = 1), so evt_log works
 * before evt_init and the 4 KiB ring stays in .bss, not in flash .data. */
static evt_state_t evt_s;

void evt_init(uint32_t (*now_ms)(void))
{
    memset(&evt_s, 0, sizeof(evt_s));
    evt_s.now_ms = now_ms;
}

/* The ring always holds the contiguous seq range
 * [last_seq - count + 1, last_seq]: every logged event is stored, and both
 * overwrite and clear remove from the old end only.  When empty this gives
 * last_seq + 1, i.e. oldest > newest. */
static uint32_t evt_oldest_seq(void)
{
    return evt_s.last_seq - evt_s.count + 1u;
}

/* Caller guarantees oldest <= seq <= last_seq. */
static const evt_record_t *evt_at_seq(uint32_t seq)
{
    uint32_t back = evt_s.last_seq - seq + 1u; /* 1 = newest, count = oldest */
    uint32_t idx = evt_s.head + EVT_RING_CAPACITY - back;
    if (idx >= EVT_RING_CAPACITY) {
        idx -= EVT_RING_CAPACITY;
    }
    return &evt_s.ring[idx];
}

uint32_t evt_log(uint16_t id, uint8_t src, uint32_t arg)
{
    const evt_def_t *def = evt_catalog_find(id);
    evt_record_t *r = &evt_s.ring[evt_s.head];

    r->seq = ++evt_s.last_seq;
    r->ts_ms = evt_s.now_ms != NULL ? evt_s.now_ms() : 0u;
    r->id = id;
    /* Unknown id: a caller bug, but the event itself may be the only trace
     * of a failure, so keep it and make it stand out. */
    r->sev = def != NULL ? def->sev : (uint8_t)EVT_SEV_ERROR;
    r->src = src;
    r->arg = arg;

    evt_s.head = (evt_s.head + 1u == EVT_RING_CAPACITY) ? 0u : evt_s.head + 1u;
    if (evt_s.count < EVT_RING_CAPACITY) {
        evt_s.count++;
    } else {
        evt_s.dropped++;
    }

    /* A copy: a listener that logs could overwrite the slot.  The guard stops
     * a listener that logs from recursing without bound. */
    evt_record_t copy = *r;
    if (evt_s.listener != NULL && !evt_s.in_listener) {
        evt_s.in_listener = true;
        evt_s.listener(&copy);
        evt_s.in_listener = false;
    }
    return copy.seq;
}

uint32_t evt_clear(void)
{
    uint32_t n = evt_s.count;
    evt_s.count = 0;
    return n;
}

void evt_stats(evt_stats_t *st)
{
    MTA_ASSERT(st != NULL);
    if (st == NULL) {
        return;
    }
    st->capacity = EVT_RING_CAPACITY;
    st->count = evt_s.count;
    st->dropped = evt_s.dropped;
    st->next_seq = evt_s.last_seq + 1u;
    st->oldest_seq = evt_s.count != 0 ? evt_oldest_seq() : 0u;
    st->newest_seq = evt_s.count != 0 ? evt_s.last_seq : 0u;
}

void evt_set_resolvers(const evt_resolvers_t *r)
{
    if (r != NULL) {
        evt_s.res = *r;
    } else {
        memset(&evt_s.res, 0, sizeof(evt_s.res));
    }
}

void evt_set_listener(evt_listener_fn fn)
{
    evt_s.listener = fn;
}

/* ---- iterator ----------------------------------------------------------- */

void evt_iter_init(evt_iter_t *it, evt_filter_t filter)
{
    MTA_ASSERT(it != NULL);
    if (it == NULL) {
        return;
    }
    uint32_t oldest = evt_oldest_seq();
    uint32_t newest = evt_s.last_seq;   /* < oldest when empty */

    it->filter = filter;
    it->missed = 0;
    it->end = newest;
    it->next = oldest;

    switch (filter.kind) {
    case EVT_FILTER_ALL:
    case EVT_FILTER_BY_ID:
        break;
    case EVT_FILTER_LAST_N:
        if (filter.value < evt_s.count) {
            it->next = newest - filter.value + 1u;
        }
        break;
    case EVT_FILTER_SINCE_SEQ:
        if (filter.value > oldest) {
            /* A future seq leaves next > end: nothing to return. */
            it->next = filter.value <= newest ? filter.value : newest + 1u;
        } else if (filter.value != 0u) {
            it->missed = oldest - filter.value;
        }
        break;
    default:
        it->next = newest + 1u;
        break;
    }
}

bool evt_iter_next(evt_iter_t *it, evt_record_t *out)
{
    MTA_ASSERT(it != NULL && out != NULL);
    if (it == NULL || out == NULL) {
        return false;
    }
    while (it->next <= it->end) {
        /* Logging or clearing between calls may have removed records. */
        uint32_t oldest = evt_oldest_seq();
        if (it->next < oldest) {
            uint32_t first = oldest <= it->end ? oldest : it->end + 1u;
            it->missed += first - it->next;
            it->next = first;
            continue;
        }
        const evt_record_t *r = evt_at_seq(it->next);
        it->next++;
        if (it->filter.kind == EVT_FILTER_BY_ID && r->id != it->filter.value) {
            continue;
        }
        *out = *r;
        return true;
    }
    return false;
}

uint32_t evt_iter_missed(const evt_iter_t *it)
{
    return it != NULL ? it->missed : 0u;
}

/* ---- formatting --------------------------------------------------------- */

/* Output cursor with snprintf semantics: len counts everything that would
 * have been written; the buffer keeps one byte for the NUL. */
typedef struct {
    char  *buf;
    size_t size;
    size_t len;
} evt_out_t;

static void out_char(evt_out_t *o, char c)
{
    if (o->len + 1u < o->size) {
        o->buf[o->len] = c;
    }
    o->len++;
}

static void out_str(evt_out_t *o, const char *s)
{
    while (*s != '\0') {
        out_char(o, *s++);
    }
}

/* Names and error texts come from configuration or other modules: bound
 * them and replace control characters so the result stays one line. */
static void out_name(evt_out_t *o, const char *s)
{
    for (size_t i = 0; i < EVT_FMT_NAME_MAX && s[i] != '\0'; i++) {
        unsigned char c = (unsigned char)s[i];
        out_char(o, (c < 0x20u || c == 0x7Fu) ? '?' : (char)c);
    }
}

static void out_fmt(evt_out_t *o, const char *fmt, ...) FMT_PRINTF(2, 3);

/* Only for numbers with little text around them: the result must fit the
 * scratch buffer, literal text goes through out_str. */
static void out_fmt(evt_out_t *o, const char *fmt, ...)
{
    char tmp[32];
    va_list ap;
    va_start(ap, fmt);
    int n = fmt_vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    MTA_ASSERT(n >= 0 && (size_t)n < sizeof(tmp));
    out_str(o, tmp);
}

static bool name_ok(const char *s)
{
    return s != NULL && s[0] != '\0';
}

static void out_netif(evt_out_t *o, uint8_t idx)
{
    if (idx == EVT_SRC_NONE) {
        out_char(o, '-');
        return;
    }
    const char *n = evt_s.res.netif_name != NULL ? evt_s.res.netif_name(idx) : NULL;
    if (name_ok(n)) {
        out_name(o, n);
    } else {
        out_fmt(o, "if%u", (unsigned)idx);
    }
}

static void out_peer(evt_out_t *o, uint8_t idx)
{
    if (idx == EVT_SRC_NONE) {
        out_char(o, '-');
        return;
    }
    const char *n = evt_s.res.peer_name != NULL ? evt_s.res.peer_name(idx) : NULL;
    if (name_ok(n)) {
        out_char(o, '\'');
        out_name(o, n);
        out_char(o, '\'');
    } else {
        out_fmt(o, "#%u", (unsigned)idx);
    }
}

static void out_queue(evt_out_t *o, uint8_t idx)
{
    if (idx == EVT_SRC_NONE) {
        out_char(o, '-');
    } else if (idx < sizeof(evt_queue_names) / sizeof(evt_queue_names[0])) {
        out_fmt(o, "%u (%s)", (unsigned)idx, evt_queue_names[idx]);
    } else {
        out_fmt(o, "%u", (unsigned)idx);
    }
}

/* " (text)" after a code, if a resolver has words for it. */
static void out_paren(evt_out_t *o, const char *t)
{
    if (name_ok(t)) {
        out_str(o, " (");
        out_name(o, t);
        out_char(o, ')');
    }
}

/* The untagged form (EVT_ARG_ERR, 9321): lwIP err_t is negative, SMTP
 * reply codes are 200..599 (RFC 5321 4.2), and mbedTLS 2.x error magnitudes
 * are 0x0001..0x007F (low level) or 0x1000..0x7FFF (high level, possibly +
 * low).  The tagged form says which it is. */
static void out_err(evt_out_t *o, int32_t err)
{
    if (err >= 200 && err <= 599) {
        out_fmt(o, "reply %ld", (long)err);
    } else if (err > 0) {
        out_fmt(o, "tls -0x%04lX", (unsigned long)err);
    } else {
        out_fmt(o, "err %ld", (long)err);
    }
    out_paren(o, evt_s.res.err_text != NULL ? evt_s.res.err_text(err) : NULL);
}

/* Each kind in its own words.  lwIP, reply and TLS go through out_err, whose
 * err_text resolver takes the untagged values (a TLS error as its positive
 * magnitude, printed as mbedTLS documents it: -0xNNNN). */
static void out_mta_err(evt_out_t *o, mta_err_t e)
{
    if (e.kind == MTA_ERR_SMTP_REPLY && e.code <= 0) {
        out_str(o, "reply malformed (not an SMTP reply)");
    } else if (e.kind <= MTA_ERR_TLS) { /* none ("err 0"), lwIP, reply, TLS */
        out_err(o, e.kind == MTA_ERR_TLS ? -(int32_t)e.code : e.code);
    } else {
        out_fmt(o, e.kind == MTA_ERR_STORE ? "store %d" : "local %d", (int)e.code);
        out_paren(o, evt_s.res.local_text != NULL ? evt_s.res.local_text(e.kind, e.code) : NULL);
    }
}

/* Unix seconds to ISO 8601 UTC. */
static void out_iso(evt_out_t *o, uint32_t epoch)
{
    date_tm_t t;
    date_from_unix(epoch, &t);
    out_fmt(o, "%04d-%02u-%02uT%02u:%02u:%02uZ", t.year, t.mon, t.mday, t.hour, t.min, t.sec);
}

static void out_ipv4(evt_out_t *o, uint32_t a)
{
    out_fmt(o, "%lu.%lu.%lu.%lu", (unsigned long)(a >> 24),
            (unsigned long)((a >> 16) & 0xFFu), (unsigned long)((a >> 8) & 0xFFu),
            (unsigned long)(a & 0xFFu));
}

static void out_arg(evt_out_t *o, uint8_t kind, uint32_t arg)
{
    switch (kind) {
    case EVT_ARG_NONE:
        break;
    case EVT_ARG_COUNT:
        out_fmt(o, "%lu", (unsigned long)arg);
        break;
    case EVT_ARG_ERR:
        /* The caller stored (uint32_t)(int32_t)err; undo it portably. */
        out_err(o, arg <= 0x7FFFFFFFu ? (int32_t)arg
                                      : -(int32_t)(~arg) - 1);
        break;
    case EVT_ARG_NETIF_ERR:
        out_netif(o, evt_unpack_netif(arg));
        out_str(o, ": ");
        if (evt_err_tagged(arg)) {
            out_mta_err(o, mta_err_make((mta_err_kind_t)((arg >> 16) & 0x0Fu), (int16_t)(uint16_t)(arg & 0xFFFFu)));
        } else {
            out_err(o, evt_unpack_err(arg)); /* as evt_pack_netif_err's callers meant it */
        }
        break;
    case EVT_ARG_MSGID:
        out_fmt(o, "%08lX", (unsigned long)arg);
        break;
    case EVT_ARG_HEX:
        out_fmt(o, "0x%lX", (unsigned long)arg);
        break;
    case EVT_ARG_IPV4:
        out_ipv4(o, arg);
        break;
    case EVT_ARG_CAUSE: {
        const char *t = evt_cause_text(arg);
        if (t != NULL) {
            out_str(o, t);
            out_str(o, " ");
        }
        out_fmt(o, "(cause %lu)", (unsigned long)arg);
        break;
    }
    case EVT_ARG_RECOVERY:
        out_fmt(o, "%u", (unsigned)evt_unpack_recovered(arg));
        out_str(o, " messages recovered, ");
        out_fmt(o, "%u", (unsigned)evt_unpack_discarded(arg));
        out_str(o, " records discarded");
        break;
    case EVT_ARG_BOOT:
        out_fmt(o, "reset cause %lu", (unsigned long)(arg >> 24));
        out_fmt(o, ", firmware %lu.%lu.%lu", (unsigned long)((arg >> 16) & 0xFFu),
                (unsigned long)((arg >> 8) & 0xFFu), (unsigned long)(arg & 0xFFu));
        break;
    case EVT_ARG_EPOCH:
        out_iso(o, arg);
        break;
    default:
        out_fmt(o, "0x%08lX", (unsigned long)arg);
        break;
    }
}

/* Length of `tok` if s starts with it, else 0. */
static size_t match_tok(const char *s, const char *tok)
{
    size_t n = strlen(tok);
    return strncmp(s, tok, n) == 0 ? n : 0u;
}

static void out_template(evt_out_t *o, const evt_def_t *def,
                         const evt_record_t *r)
{
    const char *p = def->msg;
    while (*p != '\0') {
        size_t n;
        if (*p != '{') {
            out_char(o, *p++);
        } else if ((n = match_tok(p, "{netif}")) != 0u) {
            out_netif(o, r->src);
            p += n;
        } else if ((n = match_tok(p, "{peer}")) != 0u) {
            out_peer(o, r->src);
            p += n;
        } else if ((n = match_tok(p, "{queue}")) != 0u) {
            out_queue(o, r->src);
            p += n;
        } else if ((n = match_tok(p, "{src}")) != 0u) {
            if (r->src == EVT_SRC_NONE) {
                out_char(o, '-');
            } else {
                out_fmt(o, "%u", (unsigned)r->src);
            }
            p += n;
        } else if ((n = match_tok(p, "{arg}")) != 0u) {
            out_arg(o, def->argkind, r->arg);
            p += n;
        } else {
            out_char(o, *p++);   /* not a token: literal brace */
        }
    }
}

int evt_format(const evt_record_t *r, char *buf, size_t size)
{
    MTA_ASSERT(r != NULL);
    MTA_ASSERT(buf != NULL || size == 0u);
    evt_out_t o = { buf, size, 0u };
    if (buf == NULL) {
        o.size = 0u;
    }
    if (r != NULL) {
        const evt_def_t *def = evt_catalog_find(r->id);
        uint32_t epoch = evt_s.res.wallclock != NULL ? evt_s.res.wallclock(r->ts_ms) : 0u;

        out_fmt(&o, "#%lu ", (unsigned long)r->seq);
        if (epoch != 0u) {
            out_iso(&o, epoch);
        } else {
            uint32_t t = r->ts_ms;
            /* Hours are not wrapped at 24: uptime is what matters here. */
            out_fmt(&o, "+%02lu:%02lu:%02lu.%03lu", (unsigned long)(t / 3600000u),
                    (unsigned long)(t / 60000u % 60u), (unsigned long)(t / 1000u % 60u),
                    (unsigned long)(t % 1000u));
        }
        out_fmt(&o, " %c %u ", evt_sev_letter(r->sev), (unsigned)r->id);
        if (def != NULL) {
            out_str(&o, evt_cat_name(def->cat));
            out_str(&o, ": ");
            out_template(&o, def, r);
        } else {
            out_str(&o, "?: unknown event, ");
            out_fmt(&o, "src %u arg 0x%08lX", (unsigned)r->src, (unsigned long)r->arg);
        }
    }
    if (o.size > 0u) {
        o.buf[o.len < o.size ? o.len : o.size - 1u] = '\0';
    }
    return o.len > (size_t)0x7FFFFFFF ? 0x7FFFFFFF : (int)o.len;
}
