/* chksum.h - the Internet checksum (RFC 1071) for lwIP: LWIP_CHKSUM in
 * lwipopts.h names port_chksum().  Same contract as lwIP's
 * lwip_standard_chksum(): the non-inverted 16-bit one's complement sum of
 * len octets at data (any alignment), in the order lwIP wants it (the
 * octets' sum as this little-endian core reads 16-bit words). */
#ifndef PORT_CHKSUM_H
#define PORT_CHKSUM_H

#include <stdint.h>

uint16_t port_chksum(const void *data, int len);

#endif /* PORT_CHKSUM_H */
