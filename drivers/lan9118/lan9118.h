/* lan9118.h - SMSC LAN9118 / LAN9220 Ethernet controller driver (PIO, 32-bit bus).
 *
 * Knows nothing of lwIP: frames go in as scatter lists (a pbuf chain maps onto
 * parts/lens directly) and come out into a caller buffer, both without FCS.
 * The driver does not touch the NVIC: the board enables cfg->irq and calls
 * lan9118_isr() from the handler.
 *
 * Contexts: lan9118_isr() in the interrupt; everything else from one thread
 * context (the main loop).  Counters are plain and main-loop owned, except the
 * volatile ones the ISR writes.
 */
#ifndef LAN9118_H
#define LAN9118_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifndef LAN9118_POLL_LIMIT
#define LAN9118_POLL_LIMIT 100000u /* register polls before a busy/reset wait fails; >= 100 ms on a 25 MHz M3 */
#endif

/* Largest frame lan9118_send accepts, in bytes without FCS: 1500 MTU + 14-byte
 * header + 4-byte VLAN tag. */
#define LAN9118_MAX_FRAME 1518u

/* Return codes. */
#define LAN9118_ERR_NODEV   (-1) /* init: BYTE_TEST mismatch (nothing at base) */
#define LAN9118_ERR_ID      (-2) /* init: ID_REV is not a LAN911x/LAN92xx */
#define LAN9118_ERR_TIMEOUT (-3) /* init: reset, MAC CSR or MII never finished */
#define LAN9118_ERR_NOSPACE (-1) /* send: TX data FIFO lacks room; frame not queued */
#define LAN9118_ERR_INVAL   (-2) /* send: no data, or longer than LAN9118_MAX_FRAME */
#define LAN9118_ERR_DROPPED (-1) /* recv: one frame discarded (error or too big) */

/* Constant board wiring (an385: {0x40200000, 13}, from QEMU hw/arm/mps2.c). */
typedef struct {
    uintptr_t base; /* register block */
    uint8_t irq;    /* NVIC line (board enables it) */
} lan9118_config_t;

typedef struct {
    const lan9118_config_t *cfg;
    /* Main-loop counters. */
    uint32_t rx_frames;  /* delivered by lan9118_recv */
    uint32_t rx_dropped; /* discarded: larger than the caller's buffer */
    uint32_t rx_errors;  /* discarded: error status (CRC, too long, runt...) */
    uint32_t tx_frames;  /* queued to the TX FIFO */
    uint32_t tx_errors;  /* TX status with error, or invalid frame given */
    uint32_t tx_full;    /* send refused: TX FIFO full */
    /* ISR-written. */
    volatile uint32_t rx_fifo_overflows; /* frames the chip dropped (RX FIFO full) */
    volatile uint32_t irq_count;
    volatile bool rx_pending; /* ISR saw RX status; main loop clears, then drains */
    /* Private. */
    bool link;
    uint16_t tx_tag;
} lan9118_t;

/* Probe (BYTE_TEST, ID_REV), soft-reset, set the MAC address (ADDRH/ADDRL via
 * the MAC CSR port), reset the PHY and start autonegotiation, then enable the
 * transmitter and receiver (unicast to mac + broadcast; no multicast).
 * Leaves the interrupt pin configured but disabled (lan9118_irq_enable).
 * Returns 0 or LAN9118_ERR_NODEV / _ID / _TIMEOUT.  dev and cfg: static. */
int lan9118_init(lan9118_t *dev, const lan9118_config_t *cfg, const uint8_t mac[6]);

/* Queue one frame (without FCS) given as nparts scatter parts; zero-length
 * parts are skipped.  Parts may start at any address; the driver reads whole
 * aligned 32-bit words around each part (never crossing a word boundary).
 * The chip pads frames shorter than 60 bytes (QEMU does not: it sends them
 * short, which slirp accepts).  Returns 0 when queued, LAN9118_ERR_NOSPACE if
 * the TX FIFO lacks room (nothing written; the caller counts a drop),
 * LAN9118_ERR_INVAL for an empty or oversized frame. */
int lan9118_send(lan9118_t *dev, const void *const *parts, const uint16_t *lens, unsigned nparts);

/* Copy the next received frame, WITHOUT the 4-byte FCS, into dst (any
 * alignment).  Returns its length, 0 if no frame is waiting, or
 * LAN9118_ERR_DROPPED if the next frame had an error status or did not fit in
 * cap: it was removed from the FIFO and counted, and more may follow, so keep
 * calling until 0. */
int lan9118_recv(lan9118_t *dev, void *dst, size_t cap);

/* Current PHY link state (basic status register through MII).  On a down->up
 * transition it also sets the MAC duplex from the autonegotiation result.
 * Poll it periodically; it takes a few MAC CSR round trips. */
/* True when at least one received frame waits in the RX FIFO (cheap: one
 * register read), so callers need no buffer to find out. */
bool lan9118_rx_ready(lan9118_t *dev);
bool lan9118_link_up(lan9118_t *dev);

/* Enable the RX status FIFO level interrupt (fires when >= 1 frame waits) and
 * the RX-overflow interrupt, and turn the IRQ pin on as active-high push-pull.
 * The board should clear the NVIC pending bit of cfg->irq before enabling it:
 * an earlier default (active-low) pin level may have latched it. */
void lan9118_irq_enable(lan9118_t *dev);

/* Interrupt handler body: acknowledge INT_STS, note RX work in rx_pending.
 * The main loop then calls lan9118_recv until it returns 0. */
void lan9118_isr(lan9118_t *dev);

#endif /* LAN9118_H */
