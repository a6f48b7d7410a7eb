/* lwIP architecture glue for every board of this project (Cortex-M3 and the
 * native host build).  Both targets are little-endian with a C99 libc for
 * string.h; nothing here may pull in stdio or the heap. */
#ifndef PORT_ARCH_CC_H
#define PORT_ARCH_CC_H

#include <stdint.h>
#include <stddef.h>
#include <string.h>

#ifndef BYTE_ORDER
#define BYTE_ORDER LITTLE_ENDIAN
#endif

/* Byte swaps inline (REV16 / REV on the Cortex-M3): lwIP's own are out-of-
 * line functions, called about 450 times per relayed message. */
#define lwip_htons(x) ((uint16_t)__builtin_bswap16((uint16_t)(x)))
#define lwip_htonl(x) ((uint32_t)__builtin_bswap32((uint32_t)(x)))

/* lwIP's default LWIP_RAND would call rand() from libc; the board provides
 * a generator instead (timer jitter on mps2-an385, the OS on the host). */
uint32_t port_rand(void);
#define LWIP_RAND() port_rand()

/* Diagnostics go to the event ring / console, never to stdio. */
void port_diag(const char *msg);
void port_assert(const char *msg, const char *file, int line);
#define LWIP_PLATFORM_DIAG(x) do { (void)0; } while (0)
#define LWIP_PLATFORM_ASSERT(x) port_assert((x), __FILE__, __LINE__)

#endif
