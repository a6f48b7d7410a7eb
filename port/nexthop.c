#include "nexthop.h"
#include "port_hooks.h"

typedef struct {
    struct netif *netif;
    ip4_addr_t dest, gw;
    uint16_t refs;
} nexthop_t;

static nexthop_t table[NEXTHOP_MAX];

int nexthop_add(struct netif *netif, const ip4_addr_t *dest, const ip4_addr_t *gw)
{
    nexthop_t *free_e = NULL;
    for (unsigned i = 0; i < NEXTHOP_MAX; i++) {
        nexthop_t *e = &table[i];
        if (e->refs > 0 && e->netif == netif && ip4_addr_cmp(&e->dest, dest)) {
            e->gw = *gw;
            e->refs++;
            return 0;
        }
        if (e->refs == 0 && free_e == NULL) {
            free_e = e;
        }
    }
    if (free_e == NULL) {
        return -1;
    }
    free_e->netif = netif;
    free_e->dest = *dest;
    free_e->gw = *gw;
    free_e->refs = 1;
    return 0;
}

void nexthop_del(struct netif *netif, const ip4_addr_t *dest)
{
    for (unsigned i = 0; i < NEXTHOP_MAX; i++) {
        nexthop_t *e = &table[i];
        if (e->refs > 0 && e->netif == netif && ip4_addr_cmp(&e->dest, dest)) {
            e->refs--;
            return;
        }
    }
}

const struct ip4_addr *port_etharp_get_gw(struct netif *netif, const struct ip4_addr *dest)
{
    for (unsigned i = 0; i < NEXTHOP_MAX; i++) {
        const nexthop_t *e = &table[i];
        if (e->refs > 0 && e->netif == netif && ip4_addr_cmp(&e->dest, dest)) {
            return &e->gw;
        }
    }
    return NULL;
}
