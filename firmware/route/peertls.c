/* Per-peer outbound TLS level and AUTH credentials; see peertls.h. */
#include "route/peertls.h"

#include <string.h>

#include "lib/fmt.h"
#include "lib/sasl.h"

static peertls_t peers[ROUTE_MAX_PEERS];
static const char *const level_names[PEERTLS_LEVEL_COUNT] = { "none", "may", "encrypt", "verify", "fingerprint" };

void peertls_reset(unsigned peer)
{
    if (peer < ROUTE_MAX_PEERS) {
        uint16_t gen = peers[peer].gen;
        sasl_wipe(&peers[peer], sizeof(peers[peer]));
        peers[peer].level = PEERTLS_MAY;
        peers[peer].gen = (uint16_t)(gen + 1u);
    }
}

void peertls_init(void)
{
    for (unsigned i = 0; i < ROUTE_MAX_PEERS; i++) {
        peertls_reset(i);
    }
}

void peertls_changed(peertls_t *p)
{
    p->gen++;
}

peertls_t *peertls_get(unsigned peer)
{
    return peer < ROUTE_MAX_PEERS ? &peers[peer] : NULL;
}

const char *peertls_level_name(uint8_t level)
{
    return level < PEERTLS_LEVEL_COUNT ? level_names[level] : "?";
}

int peertls_level_parse(const char *s)
{
    for (int i = 0; i < PEERTLS_LEVEL_COUNT; i++) {
        if (strcmp(s, level_names[i]) == 0) {
            return i;
        }
    }
    return -1;
}

const char *peertls_describe(const peertls_t *p, char *buf, size_t n)
{
    fmt_snprintf(buf, n, "%s%s%s", peertls_level_name(p->level), p->level == PEERTLS_VERIFY ? " " : "",
                 p->level == PEERTLS_VERIFY ? p->server_name : "");
    return buf;
}
