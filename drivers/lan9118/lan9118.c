/* lan9118.c - SMSC LAN9118 / LAN9220 Ethernet driver (PIO, 32-bit bus).
 *
 * Datasheet references are to the SMSC LAN9118 datasheet rev 1.5.  "QEMU"
 * notes describe hw/net/lan9118.c in QEMU 7.2 (mps2-an385's NIC), which this
 * driver must also run on.
 */
#include "lan9118.h"
#include "lan9118_priv.h"

#include <string.h>

/* FIFO words are read from / written to possibly unaligned, differently typed
 * buffers: may_alias keeps those accesses defined for the compiler. */
typedef uint32_t __attribute__((may_alias)) lan9118_word_t;

/* Bursts of 8 FIFO words: the data FIFO ports have 8 aliases (datasheet
 * 5.3, RX_DATA_FIFO / TX_DATA_FIFO at 0x00-0x1C and 0x20-0x3C; QEMU maps the
 * whole range to the FIFO too), so one LDM/STM moves 8 words: 4 instructions
 * per 32 bytes instead of about 30.  A frame is up to 380 words. */
#if defined(__arm__) && defined(__thumb2__)
#define LAN9118_BURST 1
/* r7 is left out of the lists: it is the Thumb frame pointer. */
static inline void lan9118_rx_burst(volatile uint32_t *fifo, uint32_t *dst, uint32_t n8)
{
    __asm__ volatile("1: ldmia %[f], {r4, r5, r6, r8, r9, r10, r11, r12}\n"
                     "   stmia %[d]!, {r4, r5, r6, r8, r9, r10, r11, r12}\n"
                     "   subs %[n], %[n], #1\n"
                     "   bne 1b\n"
                     : [d] "+r"(dst), [n] "+r"(n8)
                     : [f] "r"(fifo)
                     : "r4", "r5", "r6", "r8", "r9", "r10", "r11", "r12", "cc", "memory");
}

static inline void lan9118_tx_burst(volatile uint32_t *fifo, const uint32_t *src, uint32_t n8)
{
    __asm__ volatile("1: ldmia %[s]!, {r4, r5, r6, r8, r9, r10, r11, r12}\n"
                     "   stmia %[f], {r4, r5, r6, r8, r9, r10, r11, r12}\n"
                     "   subs %[n], %[n], #1\n"
                     "   bne 1b\n"
                     : [s] "+r"(src), [n] "+r"(n8)
                     : [f] "r"(fifo)
                     : "r4", "r5", "r6", "r8", "r9", "r10", "r11", "r12", "cc", "memory");
}
#else
#define LAN9118_BURST 0
#endif

static inline lan9118_regs_t *lan9118_regs(const lan9118_t *dev)
{
    return (lan9118_regs_t *)dev->cfg->base;
}

/* Datasheet 6.1 "Host interface timing": some registers need time after a
 * write before their effect is visible; a dummy BYTE_TEST read provides it
 * (the Linux smsc911x driver does the same after MAC_CSR_CMD).  On the
 * interrupt path it also forces the posted INT_STS write to complete. */
static inline void lan9118_settle(lan9118_regs_t *r)
{
    (void)r->byte_test;
}

/* ---- MAC CSR indirect access (datasheet 5.3.x MAC_CSR_CMD).
 * QEMU: the command completes inside the write and BUSY always reads 0; real
 * silicon needs the poll. */
static int lan9118_mac_wait(lan9118_regs_t *r)
{
    for (uint32_t n = 0; n < LAN9118_POLL_LIMIT; n++) {
        if ((r->mac_csr_cmd & LAN9118_MAC_CSR_BUSY) == 0u) {
            return 0;
        }
    }
    return LAN9118_ERR_TIMEOUT;
}

static int lan9118_mac_read(lan9118_regs_t *r, uint32_t index, uint32_t *val)
{
    if (lan9118_mac_wait(r) != 0) {
        return LAN9118_ERR_TIMEOUT;
    }
    r->mac_csr_cmd = LAN9118_MAC_CSR_BUSY | LAN9118_MAC_CSR_READ | index;
    lan9118_settle(r);
    if (lan9118_mac_wait(r) != 0) {
        return LAN9118_ERR_TIMEOUT;
    }
    *val = r->mac_csr_data;
    return 0;
}

static int lan9118_mac_write(lan9118_regs_t *r, uint32_t index, uint32_t val)
{
    if (lan9118_mac_wait(r) != 0) {
        return LAN9118_ERR_TIMEOUT;
    }
    r->mac_csr_data = val;
    r->mac_csr_cmd = LAN9118_MAC_CSR_BUSY | index;
    lan9118_settle(r);
    return lan9118_mac_wait(r);
}

/* ---- PHY access through MII_ACC/MII_DATA (datasheet 5.4.6/5.4.7).
 * QEMU: MII_ACC.BUSY is masked off on write, so it is never seen set; the
 * PHY address field is ignored (any address reaches the one PHY). */
static int lan9118_mii_wait(lan9118_regs_t *r)
{
    for (uint32_t n = 0; n < LAN9118_POLL_LIMIT; n++) {
        uint32_t acc;
        if (lan9118_mac_read(r, LAN9118_MAC_MII_ACC, &acc) != 0) {
            return LAN9118_ERR_TIMEOUT;
        }
        if ((acc & LAN9118_MII_ACC_BUSY) == 0u) {
            return 0;
        }
    }
    return LAN9118_ERR_TIMEOUT;
}

static int lan9118_mii_read(lan9118_regs_t *r, uint32_t reg, uint16_t *val)
{
    uint32_t v;
    if (lan9118_mii_wait(r) != 0 ||
        lan9118_mac_write(r, LAN9118_MAC_MII_ACC,
                          (LAN9118_PHY_ADDR << LAN9118_MII_ACC_PHYADDR_SHIFT) |
                              (reg << LAN9118_MII_ACC_REG_SHIFT) | LAN9118_MII_ACC_BUSY) != 0 ||
        lan9118_mii_wait(r) != 0 || lan9118_mac_read(r, LAN9118_MAC_MII_DATA, &v) != 0) {
        return LAN9118_ERR_TIMEOUT;
    }
    *val = (uint16_t)v;
    return 0;
}

static int lan9118_mii_write(lan9118_regs_t *r, uint32_t reg, uint16_t val)
{
    if (lan9118_mii_wait(r) != 0 || lan9118_mac_write(r, LAN9118_MAC_MII_DATA, val) != 0 ||
        lan9118_mac_write(r, LAN9118_MAC_MII_ACC,
                          (LAN9118_PHY_ADDR << LAN9118_MII_ACC_PHYADDR_SHIFT) |
                              (reg << LAN9118_MII_ACC_REG_SHIFT) | LAN9118_MII_ACC_WRITE |
                              LAN9118_MII_ACC_BUSY) != 0) {
        return LAN9118_ERR_TIMEOUT;
    }
    return lan9118_mii_wait(r);
}

static bool lan9118_chip_id_ok(uint32_t id)
{
    /* LAN9115..9118 and the pin-compatible LAN921x/9220/9221 family. */
    static const uint16_t ids[] = { 0x0115, 0x0116, 0x0117, 0x0118, 0x115A, 0x117A, 0x118A,
                                    0x9210, 0x9211, 0x9215, 0x9216, 0x9217, 0x9218,
                                    0x9220, 0x9221 };
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        if (ids[i] == id) {
            return true;
        }
    }
    return false;
}

static int lan9118_wait_ready(lan9118_regs_t *r)
{
    for (uint32_t n = 0; n < LAN9118_POLL_LIMIT; n++) {
        if ((r->pmt_ctrl & LAN9118_PMT_CTRL_READY) != 0u) {
            return 0;
        }
    }
    return LAN9118_ERR_TIMEOUT;
}

/* Read `words` RX data FIFO words and throw them away.  Datasheet 3.13.1.1
 * allows either this or RX_DP_CTRL.RX_FFWD (faster for >= 4 words); FFWD is
 * NOT used because QEMU 7.2's implementation skips the data without
 * decrementing its FIFO fill level or clearing the current-packet length, so
 * the next frame would be read misaligned. */
static void lan9118_rx_discard(lan9118_regs_t *r, uint32_t words)
{
    while (words-- != 0u) {
        (void)r->rx_data_fifo[0];
    }
}

/* Pop TX status entries, counting errors.  Keeps the 512-entry TX status
 * FIFO from filling (the chip stops transmitting when it is full unless
 * TXSAO is set). */
static void lan9118_tx_status_drain(lan9118_t *dev)
{
    lan9118_regs_t *r = lan9118_regs(dev);
    while (LAN9118_TX_FIFO_INF_TXSUSED(r->tx_fifo_inf) != 0u) {
        if ((r->tx_status_fifo & LAN9118_TXS_ES) != 0u) {
            dev->tx_errors++;
        }
    }
}

/* Set MAC_CR.FDPX from the best common autonegotiated mode (IEEE 802.3
 * 28B.3 priority: 100FD > 100HD > 10FD > 10HD). */
static void lan9118_set_duplex(lan9118_regs_t *r)
{
    uint16_t anar, anlpar;
    uint32_t cr;
    if (lan9118_mii_read(r, LAN9118_PHY_ANAR, &anar) != 0 ||
        lan9118_mii_read(r, LAN9118_PHY_ANLPAR, &anlpar) != 0 ||
        lan9118_mac_read(r, LAN9118_MAC_CR, &cr) != 0) {
        return;
    }
    uint16_t common = anar & anlpar;
    bool full = (common & LAN9118_AN_100FD) != 0u ||
                ((common & LAN9118_AN_100HD) == 0u && (common & LAN9118_AN_10FD) != 0u);
    uint32_t ncr = full ? (cr | LAN9118_MAC_CR_FDPX) : (cr & ~LAN9118_MAC_CR_FDPX);
    if (ncr != cr) {
        (void)lan9118_mac_write(r, LAN9118_MAC_CR, ncr);
    }
}

int lan9118_init(lan9118_t *dev, const lan9118_config_t *cfg, const uint8_t mac[6])
{
    memset(dev, 0, sizeof *dev);
    dev->cfg = cfg;
    lan9118_regs_t *r = lan9118_regs(dev);

    /* Datasheet 3.11: BYTE_TEST is readable even before READY (the read also
     * wakes the chip from power-down); it proves the bus and byte order. */
    if (r->byte_test != LAN9118_BYTE_TEST_VALUE) {
        return LAN9118_ERR_NODEV;
    }
    if (lan9118_wait_ready(r) != 0) {
        return LAN9118_ERR_TIMEOUT;
    }
    if (!lan9118_chip_id_ok(LAN9118_ID(r->id_rev))) {
        return LAN9118_ERR_ID;
    }

    /* Soft reset: SRST self-clears when done (QEMU: immediately). */
    r->hw_cfg = LAN9118_HW_CFG_SRST;
    lan9118_settle(r);
    uint32_t n = 0;
    while ((r->hw_cfg & LAN9118_HW_CFG_SRST) != 0u) {
        if (++n >= LAN9118_POLL_LIMIT) {
            return LAN9118_ERR_TIMEOUT;
        }
    }
    if (lan9118_wait_ready(r) != 0) {
        return LAN9118_ERR_TIMEOUT;
    }

    /* Interrupt pin: active-high push-pull, still disabled.  QEMU drives the
     * line INVERTED (asserted) unless both IRQ_POL and IRQ_TYPE are set, even
     * while IRQ_EN is clear, so do this before anything can update it; no
     * deassertion interval (INT_DEAS = 0). */
    r->int_en = 0u;
    r->int_sts = 0xFFFFFFFFu;
    r->irq_cfg = LAN9118_IRQ_CFG_IRQ_POL | LAN9118_IRQ_CFG_IRQ_TYPE;

    /* Keep the default 5 KiB TX FIFO (HW_CFG TX_FIF_SZ = 5); MBO must be 1. */
    r->hw_cfg = LAN9118_HW_CFG_MBO | (5u << LAN9118_HW_CFG_TX_FIF_SZ_SHIFT);
    r->afc_cfg = LAN9118_AFC_CFG_DEFAULT;
    /* RSFL when more than 0 RX statuses wait; TX data level left at the
     * reset value 0x48 (unused: no TDFA interrupt). */
    r->fifo_int = (0x48u << LAN9118_FIFO_INT_TDAL_SHIFT) | (0u << LAN9118_FIFO_INT_RSL_SHIFT);
    /* 4-byte end alignment, no RX data offset: a frame of L bytes (FCS
     * included) occupies exactly ceil(L / 4) FIFO words. */
    r->rx_cfg = 0u;

    if (lan9118_mac_write(r, LAN9118_MAC_ADDRL,
                          (uint32_t)mac[0] | ((uint32_t)mac[1] << 8) | ((uint32_t)mac[2] << 16) |
                              ((uint32_t)mac[3] << 24)) != 0 ||
        lan9118_mac_write(r, LAN9118_MAC_ADDRH, (uint32_t)mac[4] | ((uint32_t)mac[5] << 8)) != 0) {
        return LAN9118_ERR_TIMEOUT;
    }

    /* PHY: reset (BMCR.RESET self-clears), advertise 10/100 half/full, start
     * autonegotiation.  QEMU completes autonegotiation instantly. */
    if (lan9118_mii_write(r, LAN9118_PHY_BMCR, LAN9118_BMCR_RESET) != 0) {
        return LAN9118_ERR_TIMEOUT;
    }
    uint16_t bmcr = LAN9118_BMCR_RESET;
    for (n = 0; (bmcr & LAN9118_BMCR_RESET) != 0u; n++) {
        if (n >= LAN9118_POLL_LIMIT || lan9118_mii_read(r, LAN9118_PHY_BMCR, &bmcr) != 0) {
            return LAN9118_ERR_TIMEOUT;
        }
    }
    if (lan9118_mii_write(r, LAN9118_PHY_ANAR,
                          LAN9118_AN_100FD | LAN9118_AN_100HD | LAN9118_AN_10FD |
                              LAN9118_AN_10HD | LAN9118_AN_CSMA) != 0 ||
        lan9118_mii_write(r, LAN9118_PHY_BMCR, LAN9118_BMCR_ANEN | LAN9118_BMCR_ANRESTART) != 0) {
        return LAN9118_ERR_TIMEOUT;
    }

    /* Transmitter on (datasheet 3.12: TX_ON in TX_CFG plus MAC_CR.TXEN;
     * QEMU ignores TX_ON and sends as soon as a frame is complete). */
    r->tx_cfg = LAN9118_TX_CFG_TX_ON;
    /* Reset default MAC_CR has PRMS (promiscuous) set, in QEMU too: clear it
     * so only our unicast address and broadcast are received.  Half duplex
     * until lan9118_link_up() sees the autonegotiation result. */
    if (lan9118_mac_write(r, LAN9118_MAC_CR, LAN9118_MAC_CR_TXEN | LAN9118_MAC_CR_RXEN) != 0) {
        return LAN9118_ERR_TIMEOUT;
    }
    (void)lan9118_link_up(dev);
    return 0;
}

int lan9118_send(lan9118_t *dev, const void *const *parts, const uint16_t *lens, unsigned nparts)
{
    lan9118_regs_t *r = lan9118_regs(dev);
    unsigned first = nparts, last = 0;
    uint32_t total = 0, need = 0;

    lan9118_tx_status_drain(dev);

    for (unsigned i = 0; i < nparts; i++) {
        if (lens[i] == 0u) {
            continue;
        }
        if (first == nparts) {
            first = i;
        }
        last = i;
        total += lens[i];
        /* Command A + B words, then the part rounded out to whole words. */
        uint32_t off = (uint32_t)((uintptr_t)parts[i] & 3u);
        need += 8u + ((off + lens[i] + 3u) & ~3u);
    }
    if (first == nparts || total > LAN9118_MAX_FRAME) {
        dev->tx_errors++;
        return LAN9118_ERR_INVAL;
    }
    /* TDFREE is in bytes (datasheet 5.3.x TX_FIFO_INF).  QEMU reports its
     * 4608 minus words used by the frame being written, and sends each frame
     * the moment its last segment is complete, so it never runs out. */
    if (LAN9118_TX_FIFO_INF_TDFREE(r->tx_fifo_inf) < need) {
        dev->tx_full++;
        return LAN9118_ERR_NOSPACE;
    }

    /* Command B repeats for every buffer (datasheet 3.12.2); the tag comes
     * back in the TX status. */
    uint32_t cmd_b = ((uint32_t)dev->tx_tag++ << LAN9118_TXB_TAG_SHIFT) | total;
    for (unsigned i = first; i <= last; i++) {
        if (lens[i] == 0u) {
            continue;
        }
        uintptr_t a = (uintptr_t)parts[i];
        uint32_t off = (uint32_t)(a & 3u);
        uint32_t cmd_a = (off << LAN9118_TXA_OFFSET_SHIFT) | LAN9118_TXA_END_ALIGN_4 | lens[i];
        if (i == first) {
            cmd_a |= LAN9118_TXA_FIRST_SEG;
        }
        if (i == last) {
            cmd_a |= LAN9118_TXA_LAST_SEG;
        }
        r->tx_data_fifo[0] = cmd_a;
        r->tx_data_fifo[0] = cmd_b;
        /* Whole aligned words covering the part: the chip skips `off` leading
         * bytes (data start offset) and ignores bytes past lens[i].  The extra
         * bytes read share an aligned word with real data, so they cannot
         * cross into another page/MPU region. */
        const lan9118_word_t *w = (const lan9118_word_t *)(a - off);
        uint32_t nw = (off + lens[i] + 3u) >> 2;
#if LAN9118_BURST
        if (nw >= 8u) {
            lan9118_tx_burst(r->tx_data_fifo, (const uint32_t *)w, nw >> 3);
            w += nw & ~7u;
            nw &= 7u;
        }
#endif
        for (; nw != 0u; nw--) {
            r->tx_data_fifo[0] = *w++;
        }
    }
    dev->tx_frames++;
    return 0;
}

bool lan9118_rx_ready(lan9118_t *dev)
{
    lan9118_regs_t *r = lan9118_regs(dev);
    return LAN9118_RX_FIFO_INF_RXSUSED(r->rx_fifo_inf) != 0u;
}

int lan9118_recv(lan9118_t *dev, void *dst, size_t cap)
{
    lan9118_regs_t *r = lan9118_regs(dev);

    /* The status FIFO must not be popped when empty: QEMU then returns the
     * stale head entry without consuming anything. */
    if (LAN9118_RX_FIFO_INF_RXSUSED(r->rx_fifo_inf) == 0u) {
        return 0;
    }
    uint32_t st = r->rx_status_fifo;
    /* The length includes the 4-byte FCS, and the FCS is in the data FIFO
     * (datasheet 3.13; QEMU appends a computed CRC and reports size + 4). */
    uint32_t len = LAN9118_RXS_LEN(st);
    uint32_t words = (len + 3u) >> 2;

    if ((st & (LAN9118_RXS_ES | LAN9118_RXS_FILTER_FAIL)) != 0u || len < 14u + 4u) {
        lan9118_rx_discard(r, words);
        dev->rx_errors++;
        return LAN9118_ERR_DROPPED;
    }
    uint32_t flen = len - 4u;
    if (flen > cap) {
        lan9118_rx_discard(r, words);
        dev->rx_dropped++;
        return LAN9118_ERR_DROPPED;
    }

    /* FIFO words are little-endian: byte 0 of the frame in bits 7..0. */
    uint8_t *d = dst;
    uint32_t full = flen >> 2;
#if LAN9118_BURST
    if (full >= 8u && ((uintptr_t)d & 3u) == 0u) {
        lan9118_rx_burst(r->rx_data_fifo, (uint32_t *)(void *)d, full >> 3);
        d += (full & ~7u) * 4u;
        words -= full & ~7u;
        full &= 7u;
    }
#endif
    for (uint32_t i = 0; i < full; i++) {
        uint32_t w = r->rx_data_fifo[0];
        memcpy(d, &w, 4);
        d += 4;
    }
    words -= full;
    uint32_t rem = flen & 3u;
    if (rem != 0u) {
        uint32_t w = r->rx_data_fifo[0];
        memcpy(d, &w, rem);
        words--;
    }
    lan9118_rx_discard(r, words); /* the rest of the FCS */
    dev->rx_frames++;
    return (int)flen;
}

bool lan9118_link_up(lan9118_t *dev)
{
    lan9118_regs_t *r = lan9118_regs(dev);
    uint16_t bmsr;
    /* BMSR.LINK latches low (IEEE 802.3 22.2.4.2.13): the first read reports
     * any drop since the last read, the second the current state. */
    if (lan9118_mii_read(r, LAN9118_PHY_BMSR, &bmsr) != 0 ||
        lan9118_mii_read(r, LAN9118_PHY_BMSR, &bmsr) != 0) {
        return false;
    }
    bool up = (bmsr & LAN9118_BMSR_LINK) != 0u && (bmsr & LAN9118_BMSR_ANDONE) != 0u;
    if (up && !dev->link) {
        lan9118_set_duplex(r);
    }
    dev->link = up;
    return up;
}

void lan9118_irq_enable(lan9118_t *dev)
{
    lan9118_regs_t *r = lan9118_regs(dev);
    r->int_sts = LAN9118_INT_RSFL | LAN9118_INT_RXDF;
    r->int_en = LAN9118_INT_RSFL | LAN9118_INT_RXDF;
    /* Active-high push-pull: the only setting QEMU does not invert. */
    r->irq_cfg = LAN9118_IRQ_CFG_IRQ_EN | LAN9118_IRQ_CFG_IRQ_POL | LAN9118_IRQ_CFG_IRQ_TYPE;
    lan9118_settle(r);
}

void lan9118_isr(lan9118_t *dev)
{
    lan9118_regs_t *r = lan9118_regs(dev);
    uint32_t sts = r->int_sts & r->int_en;

    /* RSFL is latched (QEMU sets it per received frame and never clears it on
     * its own): acknowledge here, drain in the main loop.  A frame arriving
     * after this write sets it again, so none is missed. */
    r->int_sts = sts;
    if ((sts & LAN9118_INT_RXDF) != 0u) {
        dev->rx_fifo_overflows += r->rx_drop; /* clear-on-read counter; QEMU: 0 */
    }
    if ((sts & LAN9118_INT_RSFL) != 0u) {
        dev->rx_pending = true;
    }
    dev->irq_count++;
    /* The NVIC line is level sensitive: make sure the chip has seen the
     * acknowledge before exception return, or the IRQ re-pends at once. */
    lan9118_settle(r);
}
