#define _GNU_SOURCE
#include "tap.h"
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <net/if.h>
#include <linux/if_tun.h>

int tap_open(tap_t *t, const tap_config_t *cfg)
{
    memset(t, 0, sizeof(*t));
    t->cfg = cfg;
    t->fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (t->fd < 0) {
        return -errno;
    }
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    /* IFF_NO_PI: plain Ethernet frames, no 4-byte packet-info prefix. */
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    strncpy(ifr.ifr_name, cfg->ifname, IFNAMSIZ - 1);
    if (ioctl(t->fd, TUNSETIFF, &ifr) < 0) {
        int e = errno;
        close(t->fd);
        t->fd = -1;
        return -e;
    }
    return 0;
}

int tap_send(tap_t *t, const void *const *parts, const uint16_t *lens, unsigned nparts)
{
    struct iovec iov[16];
    if (nparts > 16) {
        return -1;
    }
    for (unsigned i = 0; i < nparts; i++) {
        iov[i].iov_base = (void *)parts[i];
        iov[i].iov_len = lens[i];
    }
    if (writev(t->fd, iov, (int)nparts) < 0) {
        t->tx_errors++;
        return -1;
    }
    t->tx_frames++;
    return 0;
}

int tap_recv(tap_t *t, void *dst, size_t cap)
{
    ssize_t n = read(t->fd, dst, cap);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
            return 0;
        }
        t->rx_errors++;
        return -1;
    }
    t->rx_frames++;
    return (int)n;
}

bool tap_link_up(tap_t *t)
{
    struct ifreq ifr;
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0) {
        return true;
    }
    memset(&ifr, 0, sizeof(ifr));
    strncpy(ifr.ifr_name, t->cfg->ifname, IFNAMSIZ - 1);
    bool up = true;
    if (ioctl(s, SIOCGIFFLAGS, &ifr) == 0) {
        up = (ifr.ifr_flags & IFF_UP) != 0;
    }
    close(s);
    return up;
}

int tap_fd(const tap_t *t)
{
    return t->fd;
}
