/* ethif.h - joins any Ethernet MAC driver to an lwIP netif.
 *
 * A MAC driver knows nothing of lwIP: it sends a frame given as scatter
 * parts, receives one frame into a buffer, and reports link state.  The board
 * fills an ethif_driver_t with adapters to its driver and calls ethif_add(). */
#ifndef ETHIF_H
#define ETHIF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "lwip/netif.h"

typedef struct ethif_driver {
    /* one frame from nparts parts; <0 when it cannot be queued (counted as a drop) */
    int (*send)(void *dev, const void *const *parts, const uint16_t *lens, unsigned nparts);
    /* next frame into dst (<= cap bytes, no FCS); 0 none, <0 one frame dropped */
    int (*recv)(void *dev, void *dst, size_t cap);
    bool (*link_up)(void *dev);
    /* optional: a frame is waiting (NULL: always try recv) */
    bool (*rx_ready)(void *dev);
} ethif_driver_t;

typedef struct ethif {
    struct netif netif;
    const ethif_driver_t *drv;
    void *dev;
    uint8_t mac[6];
    bool link;
    bool link_checked;
    uint32_t link_checked_ms;
} ethif_t;

/* Add an Ethernet netif (not up, no address: the caller configures it). */
err_t ethif_add(ethif_t *e, const ethif_driver_t *drv, void *dev, const uint8_t mac[6]);
/* Drain received frames into lwIP (bounded per call) and follow link changes. */
void ethif_poll(ethif_t *e);

#endif
