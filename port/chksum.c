/* chksum.c - the Internet checksum for lwIP (see chksum.h). */
#include "chksum.h"

#include <stddef.h>
#include <string.h>

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "port_chksum() places the odd and the trailing octet for a little-endian core"
#endif

/* One's complement addition of 32-bit words (end-around carry): folded to 16
 * bits at the end it is the sum of the 16-bit halves (RFC 1071 2.(B)). */
static uint32_t add_eac(uint32_t sum, uint32_t w)
{
    sum += w;
    return sum + (sum < w ? 1u : 0u);
}

uint16_t port_chksum(const void *data, int len)
{
    const uint8_t *p = data;
    size_t n = len > 0 ? (size_t)len : 0u;
    uint32_t sum = 0, t = 0;
    const int odd = (int)((uintptr_t)p & 1u);

    /* From an odd address, sum as if one octet earlier and swap at the end
     * (RFC 1071 2.(B), byte order independence), as lwIP does. */
    if (odd && n > 0) {
        t = (uint32_t)*p++ << 8;
        n--;
    }
    if (((uintptr_t)p & 2u) != 0u && n > 1) {
        uint16_t h;
        memcpy(&h, p, sizeof(h));
        sum = h;
        p += 2;
        n -= 2;
    }
#if defined(__arm__) && defined(__thumb2__)
    /* p is word-aligned here.  32 octets per LDM and an ADCS chain: 12
     * instructions where lwIP's loop takes about 40; the checksum covers
     * every frame sent and received. r7 is left alone (Thumb frame
     * pointer). */
    if (n >= 32u) {
        uint32_t blocks = (uint32_t)(n >> 5);
        __asm__ volatile("1: ldmia %[p]!, {r4, r5, r6, r8, r9, r10, r11, r12}\n"
                         "   adds %[s], %[s], r4\n"
                         "   adcs %[s], %[s], r5\n"
                         "   adcs %[s], %[s], r6\n"
                         "   adcs %[s], %[s], r8\n"
                         "   adcs %[s], %[s], r9\n"
                         "   adcs %[s], %[s], r10\n"
                         "   adcs %[s], %[s], r11\n"
                         "   adcs %[s], %[s], r12\n"
                         "   adc %[s], %[s], #0\n"
                         "   subs %[b], %[b], #1\n"
                         "   bne 1b\n"
                         : [p] "+r"(p), [s] "+r"(sum), [b] "+r"(blocks)
                         :
                         : "r4", "r5", "r6", "r8", "r9", "r10", "r11", "r12", "cc", "memory");
        n &= 31u;
    }
#endif
    while (n >= 4u) {
        uint32_t w;
        memcpy(&w, p, sizeof(w));
        sum = add_eac(sum, w);
        p += 4;
        n -= 4;
    }
    sum = (sum >> 16) + (sum & 0xFFFFu);
    if (n >= 2u) {
        uint16_t h;
        memcpy(&h, p, sizeof(h));
        sum += h;
        p += 2;
        n -= 2;
    }
    if (n > 0) {
        t |= *p; /* the last octet is the low half of its 16-bit word */
    }
    sum += t;
    sum = (sum >> 16) + (sum & 0xFFFFu);
    sum = (sum >> 16) + (sum & 0xFFFFu);
    if (odd) {
        sum = ((sum & 0xFFu) << 8) | (sum >> 8);
    }
    return (uint16_t)sum;
}
