#include "net/nif.h"
#include <string.h>
#include "lwip/ip4_addr.h"
#include "evt/evt.h"

static nif_t nifs[NIF_MAX];
static unsigned n_nifs;
static uint32_t logged_addr[NIF_MAX];
static void (*change_hook)(uint8_t idx);

void nif_set_change_hook(void (*fn)(uint8_t idx))
{
    change_hook = fn;
}

static void nif_link_cb(struct netif *netif)
{
    int i = nif_index_of(netif);
    if (i < 0) {
        return;
    }
    evt_log(netif_is_link_up(netif) ? EVT_NETIF_LINK_UP : EVT_NETIF_LINK_DOWN, (uint8_t)i, 0);
    if (change_hook != NULL) {
        change_hook((uint8_t)i);
    }
}

static void nif_status_cb(struct netif *netif)
{
    int i = nif_index_of(netif);
    if (i < 0) {
        return;
    }
    /* lwIP calls this for address changes and for up/down: log addresses
     * only when they really change. */
    uint32_t a = lwip_ntohl(ip4_addr_get_u32(netif_ip4_addr(netif)));
    if (a != logged_addr[i]) {
        logged_addr[i] = a;
        evt_log(EVT_NETIF_ADDR, (uint8_t)i, a);
    }
    if (change_hook != NULL) {
        change_hook((uint8_t)i);
    }
}

int nif_register(const char *name, const char *kind, struct netif *netif)
{
    if (n_nifs >= NIF_MAX || strlen(name) >= NIF_NAME_MAX || nif_find(name) >= 0) {
        return -1;
    }
    nif_t *n = &nifs[n_nifs];
    memset(n, 0, sizeof(*n));
    strcpy(n->name, name);
    n->kind = kind;
    n->netif = netif;
    netif_set_link_callback(netif, nif_link_cb);
    netif_set_status_callback(netif, nif_status_cb);
    return (int)n_nifs++;
}

void nif_get_settings(uint8_t idx, nif_settings_t *out)
{
    const nif_t *n = nif_at(idx);
    memset(out, 0, sizeof(*out));
    if (n == NULL) {
        return;
    }
    out->admin_up = n->admin_up;
    out->addr = *netif_ip4_addr(n->netif);
    out->prefix = (uint8_t)nif_prefix_len(netif_ip4_netmask(n->netif));
    out->gw = *netif_ip4_gw(n->netif);
    ip4_addr_set_u32(&out->p2p, lwip_htonl(n->p2p_peer));
    out->mtu = n->netif->mtu;
    strcpy(out->hostname, n->hostname);
}

void nif_apply_settings(uint8_t idx, const nif_settings_t *st)
{
    nif_t *n = nif_at(idx);
    if (n == NULL) {
        return;
    }
    ip4_addr_t mask;
    ip4_addr_set_u32(&mask, lwip_htonl(st->prefix == 0 ? 0 : 0xFFFFFFFFu << (32 - st->prefix)));
    strcpy(n->hostname, st->hostname);
    n->p2p_peer = lwip_ntohl(ip4_addr_get_u32(&st->p2p));
    /* A point-to-point link's next hop is its far end. */
    ip4_addr_t gw = ip4_addr_isany_val(st->gw) ? st->p2p : st->gw;
    netif_set_addr(n->netif, &st->addr, &mask, &gw);
    if (st->mtu != 0) {
        n->netif->mtu = st->mtu;
    }
#if LWIP_NETIF_HOSTNAME
    n->netif->hostname = n->hostname;
#endif
    n->admin_up = st->admin_up;
    if (st->admin_up) {
        netif_set_up(n->netif);
    } else {
        netif_set_down(n->netif);
    }
}

int nif_parse_ip4(const char *s, ip4_addr_t *out)
{
    /* ip4addr_aton also takes shorthand ("10.1") and hex: insist on a dotted quad. */
    unsigned dots = 0;
    for (const char *p = s; *p; p++) {
        if (*p == '.') {
            dots++;
        } else if (*p < '0' || *p > '9') {
            return -1;
        }
    }
    return dots == 3 && ip4addr_aton(s, out) ? 0 : -1;
}

const char *nif_ip4_str(uint32_t host_order, char buf[16])
{
    ip4_addr_t a;
    ip4_addr_set_u32(&a, lwip_htonl(host_order));
    return ip4addr_ntoa_r(&a, buf, 16);
}

unsigned nif_prefix_len(const ip4_addr_t *mask)
{
    uint32_t m = lwip_ntohl(ip4_addr_get_u32(mask));
    unsigned n = 0;
    while (m & 0x80000000u) {
        n++;
        m <<= 1;
    }
    return n;
}

unsigned nif_count(void)
{
    return n_nifs;
}

nif_t *nif_at(uint8_t idx)
{
    return idx < n_nifs ? &nifs[idx] : NULL;
}

int nif_find(const char *name)
{
    for (unsigned i = 0; i < n_nifs; i++) {
        if (strcmp(nifs[i].name, name) == 0) {
            return (int)i;
        }
    }
    return -1;
}

int nif_index_of(const struct netif *netif)
{
    for (unsigned i = 0; i < n_nifs; i++) {
        if (nifs[i].netif == netif) {
            return (int)i;
        }
    }
    return -1;
}

const char *nif_name(uint8_t idx)
{
    return idx < n_nifs ? nifs[idx].name : "?";
}

const char *nif_name_or_auto(uint8_t idx)
{
    return idx == NIF_NONE ? "auto" : nif_name(idx);
}
