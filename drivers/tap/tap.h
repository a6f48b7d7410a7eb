/* tap.h - Linux TAP device as an Ethernet MAC (host board only).
 * Knows nothing of lwIP: frames in, frames out, like a MAC driver. */
#ifndef TAP_H
#define TAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct tap_config {
    const char *ifname;      /* existing or new TAP device name, e.g. "tap0" */
} tap_config_t;

typedef struct tap {
    const tap_config_t *cfg;
    int fd;
    uint32_t rx_frames, rx_errors, tx_frames, tx_errors;
} tap_t;

/* Open (attach to) the TAP device; needs CAP_NET_ADMIN or a device owned by
 * this user.  Returns 0, or -errno. */
int tap_open(tap_t *t, const tap_config_t *cfg);
int tap_send(tap_t *t, const void *const *parts, const uint16_t *lens, unsigned nparts);
/* Next frame into dst: length, 0 if none, <0 on error (frame lost). */
int tap_recv(tap_t *t, void *dst, size_t cap);
/* Carrier: the TAP is "up" while the host side has it up (IFF_UP|IFF_RUNNING). */
bool tap_link_up(tap_t *t);
int tap_fd(const tap_t *t);

#endif
