/* Generic Ethernet netif glue: pbuf chains <-> MAC driver frames. */
#include "ethif.h"
#include "lwip/pbuf.h"
#include "lwip/etharp.h"
#include "lwip/snmp.h"
#include "netif/ethernet.h"
#include "lwip/sys.h"

/* Frames handled per ethif_poll(): bounds the time one busy netif can hold
 * the main loop, so the console and the other netifs stay served. */
#define ETHIF_RX_BUDGET 16
#define ETHIF_MAX_PARTS 8

static err_t ethif_output(struct netif *netif, struct pbuf *p)
{
    ethif_t *e = (ethif_t *)netif->state;
    const void *parts[ETHIF_MAX_PARTS];
    uint16_t lens[ETHIF_MAX_PARTS];
    unsigned n = 0;
    for (struct pbuf *q = p; q != NULL; q = q->next) {
        if (q->len == 0) {
            continue;
        }
        if (n == ETHIF_MAX_PARTS) {
            /* A longer chain is rare (TCP headers + a few segments); flatten it. */
            struct pbuf *flat = pbuf_clone(PBUF_RAW, PBUF_RAM, p);
            if (flat == NULL) {
                MIB2_STATS_NETIF_INC(netif, ifoutdiscards);
                LINK_STATS_INC(link.memerr);
                return ERR_MEM;
            }
            err_t r = ethif_output(netif, flat);
            pbuf_free(flat);
            return r;
        }
        parts[n] = q->payload;
        lens[n] = q->len;
        n++;
    }
    if (e->drv->send(e->dev, parts, lens, n) < 0) {
        MIB2_STATS_NETIF_INC(netif, ifoutdiscards);
        LINK_STATS_INC(link.drop);
        return ERR_IF;
    }
    MIB2_STATS_NETIF_ADD(netif, ifoutoctets, p->tot_len);
    MIB2_STATS_NETIF_INC(netif, ifoutucastpkts);
    LINK_STATS_INC(link.xmit);
    return ERR_OK;
}

static err_t ethif_init(struct netif *netif)
{
    ethif_t *e = (ethif_t *)netif->state;
    netif->name[0] = 'e';
    netif->name[1] = 'n';
    netif->output = etharp_output;
    netif->linkoutput = ethif_output;
    netif->mtu = 1500;
    netif->hwaddr_len = ETH_HWADDR_LEN;
    memcpy(netif->hwaddr, e->mac, ETH_HWADDR_LEN);
    netif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET;
    MIB2_INIT_NETIF(netif, snmp_ifType_ethernet_csmacd, 100000000);
    return ERR_OK;
}

err_t ethif_add(ethif_t *e, const ethif_driver_t *drv, void *dev, const uint8_t mac[6])
{
    e->drv = drv;
    e->dev = dev;
    e->link = false;
    e->link_checked = false;
    memcpy(e->mac, mac, 6);
    if (netif_add(&e->netif, NULL, NULL, NULL, e, ethif_init, ethernet_input) == NULL) {
        return ERR_IF;
    }
    return ERR_OK;
}

void ethif_poll(ethif_t *e)
{
    struct netif *netif = &e->netif;
    for (int i = 0; i < ETHIF_RX_BUDGET; i++) {
        /* The main loop polls far more often than frames arrive: ask the
         * driver before taking a pool buffer. */
        if (e->drv->rx_ready != NULL && !e->drv->rx_ready(e->dev)) {
            break;
        }
        struct pbuf *p = pbuf_alloc(PBUF_RAW, PBUF_POOL_BUFSIZE, PBUF_POOL);
        if (p == NULL) {
            /* No buffer: leave frames in the MAC FIFO until lwIP frees some. */
            LINK_STATS_INC(link.memerr);
            break;
        }
        int n = e->drv->recv(e->dev, p->payload, p->len);
        if (n <= 0) {
            pbuf_free(p);
            if (n < 0) {
                MIB2_STATS_NETIF_INC(netif, ifindiscards);
                LINK_STATS_INC(link.drop);
                continue;
            }
            break;
        }
        pbuf_realloc(p, (u16_t)n);
        MIB2_STATS_NETIF_ADD(netif, ifinoctets, (u32_t)n);
        MIB2_STATS_NETIF_INC(netif, ifinucastpkts);
        LINK_STATS_INC(link.recv);
        if (netif->input(p, netif) != ERR_OK) {
            pbuf_free(p);
        }
    }
    /* The PHY (or the host's TAP flags) is polled at most every 250 ms: MII
     * reads are slow and link changes need no faster reaction. */
    u32_t now = sys_now();
    if (e->link_checked && now - e->link_checked_ms < 250) {
        return;
    }
    e->link_checked = true;
    e->link_checked_ms = now;
    bool up = e->drv->link_up(e->dev);
    if (up != e->link) {
        e->link = up;
        if (up) {
            netif_set_link_up(netif);
        } else {
            netif_set_link_down(netif);
        }
    }
}
