/* lan9118_priv.h - SMSC LAN9118/LAN9220 register map (32-bit bus mode).
 * Source: SMSC LAN9118 datasheet rev 1.5, section 5 "Register Description"
 * (system CSRs), 5.4 (MAC CSRs, indirect), 5.5 (PHY registers, via MII);
 * cross-checked against QEMU hw/net/lan9118.c (7.2). */
#ifndef LAN9118_PRIV_H
#define LAN9118_PRIV_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    volatile uint32_t rx_data_fifo[8];  /* 0x00 RX data FIFO port (8 aliases) */
    volatile uint32_t tx_data_fifo[8];  /* 0x20 TX data FIFO port (8 aliases) */
    volatile uint32_t rx_status_fifo;   /* 0x40 pop RX status */
    volatile uint32_t rx_status_peek;   /* 0x44 */
    volatile uint32_t tx_status_fifo;   /* 0x48 pop TX status */
    volatile uint32_t tx_status_peek;   /* 0x4C */
    volatile uint32_t id_rev;           /* 0x50 */
    volatile uint32_t irq_cfg;          /* 0x54 */
    volatile uint32_t int_sts;          /* 0x58 W1C */
    volatile uint32_t int_en;           /* 0x5C */
    uint32_t reserved_60;               /* 0x60 QEMU: "bad reg" - never touch */
    volatile uint32_t byte_test;        /* 0x64 reads 0x87654321 */
    volatile uint32_t fifo_int;         /* 0x68 */
    volatile uint32_t rx_cfg;           /* 0x6C */
    volatile uint32_t tx_cfg;           /* 0x70 */
    volatile uint32_t hw_cfg;           /* 0x74 */
    volatile uint32_t rx_dp_ctrl;       /* 0x78 */
    volatile uint32_t rx_fifo_inf;      /* 0x7C */
    volatile uint32_t tx_fifo_inf;      /* 0x80 */
    volatile uint32_t pmt_ctrl;         /* 0x84 */
    volatile uint32_t gpio_cfg;         /* 0x88 */
    volatile uint32_t gpt_cfg;          /* 0x8C */
    volatile uint32_t gpt_cnt;          /* 0x90 */
    uint32_t reserved_94;               /* 0x94 */
    volatile uint32_t word_swap;        /* 0x98 */
    volatile uint32_t free_run;         /* 0x9C */
    volatile uint32_t rx_drop;          /* 0xA0 clear on read */
    volatile uint32_t mac_csr_cmd;      /* 0xA4 */
    volatile uint32_t mac_csr_data;     /* 0xA8 */
    volatile uint32_t afc_cfg;          /* 0xAC */
    volatile uint32_t e2p_cmd;          /* 0xB0 */
    volatile uint32_t e2p_data;         /* 0xB4 */
} lan9118_regs_t;

_Static_assert(offsetof(lan9118_regs_t, rx_status_fifo) == 0x40, "lan9118 map");
_Static_assert(offsetof(lan9118_regs_t, byte_test) == 0x64, "lan9118 map");
_Static_assert(offsetof(lan9118_regs_t, e2p_data) == 0xB4, "lan9118 map");

#define LAN9118_BYTE_TEST_VALUE 0x87654321u

/* ID_REV[31:16] chip id.  QEMU reports 0x0118 (rev 1); the MPS2 board
 * itself carries a LAN9220 (0x9220), software compatible minus checksum
 * offload (comment in QEMU hw/arm/mps2.c). */
#define LAN9118_ID(idrev) ((idrev) >> 16)

/* IRQ_CFG */
#define LAN9118_IRQ_CFG_INT_DEAS_SHIFT 24
#define LAN9118_IRQ_CFG_IRQ_INT  (1u << 12)
#define LAN9118_IRQ_CFG_IRQ_EN   (1u << 8)
#define LAN9118_IRQ_CFG_IRQ_POL  (1u << 4) /* 1 = active high */
#define LAN9118_IRQ_CFG_IRQ_TYPE (1u << 0) /* 1 = push-pull */

/* INT_STS / INT_EN */
#define LAN9118_INT_SW      (1u << 31)
#define LAN9118_INT_TXSTOP  (1u << 25)
#define LAN9118_INT_RXSTOP  (1u << 24)
#define LAN9118_INT_TXIOC   (1u << 21)
#define LAN9118_INT_RXD     (1u << 20)
#define LAN9118_INT_PHY     (1u << 18)
#define LAN9118_INT_RXE     (1u << 14)
#define LAN9118_INT_TXE     (1u << 13)
#define LAN9118_INT_TDFO    (1u << 10)
#define LAN9118_INT_TSFF    (1u << 8)
#define LAN9118_INT_TSFL    (1u << 7)
#define LAN9118_INT_RXDF    (1u << 6)  /* RX dropped frame (FIFO full) */
#define LAN9118_INT_RSFF    (1u << 4)
#define LAN9118_INT_RSFL    (1u << 3)  /* RX status FIFO above FIFO_INT level */

/* FIFO_INT */
#define LAN9118_FIFO_INT_TDAL_SHIFT 24 /* TX data available level, 64-byte units */
#define LAN9118_FIFO_INT_TSL_SHIFT  16 /* TX status level */
#define LAN9118_FIFO_INT_RSL_SHIFT  0  /* RX status level */

/* RX_CFG */
#define LAN9118_RX_CFG_END_ALIGN_SHIFT 30 /* 0 = 4-byte end alignment */
#define LAN9118_RX_CFG_RX_DUMP   (1u << 15)
#define LAN9118_RX_CFG_RXDOFF_SHIFT 8

/* TX_CFG */
#define LAN9118_TX_CFG_TXS_DUMP  (1u << 15)
#define LAN9118_TX_CFG_TXD_DUMP  (1u << 14)
#define LAN9118_TX_CFG_TXSAO     (1u << 2)
#define LAN9118_TX_CFG_TX_ON     (1u << 1)
#define LAN9118_TX_CFG_STOP_TX   (1u << 0)

/* HW_CFG */
#define LAN9118_HW_CFG_MBO       (1u << 20) /* must be one */
#define LAN9118_HW_CFG_TX_FIF_SZ_SHIFT 16
#define LAN9118_HW_CFG_SRST      (1u << 0)

/* RX_DP_CTRL */
#define LAN9118_RX_DP_CTRL_FFWD  (1u << 31)

/* RX_FIFO_INF / TX_FIFO_INF */
#define LAN9118_RX_FIFO_INF_RXSUSED(v) (((v) >> 16) & 0xFFu)
#define LAN9118_TX_FIFO_INF_TXSUSED(v) (((v) >> 16) & 0xFFu)
#define LAN9118_TX_FIFO_INF_TDFREE(v)  ((v) & 0xFFFFu) /* bytes */

/* PMT_CTRL */
#define LAN9118_PMT_CTRL_READY   (1u << 0)

/* AFC_CFG: datasheet-recommended flow-control thresholds. */
#define LAN9118_AFC_CFG_DEFAULT  0x006E3740u

/* MAC_CSR_CMD */
#define LAN9118_MAC_CSR_BUSY     (1u << 31)
#define LAN9118_MAC_CSR_READ     (1u << 30)

/* MAC CSR indexes (MAC_CSR_CMD[7:0]) */
#define LAN9118_MAC_CR       1u
#define LAN9118_MAC_ADDRH    2u
#define LAN9118_MAC_ADDRL    3u
#define LAN9118_MAC_HASHH    4u
#define LAN9118_MAC_HASHL    5u
#define LAN9118_MAC_MII_ACC  6u
#define LAN9118_MAC_MII_DATA 7u
#define LAN9118_MAC_FLOW     8u

/* MAC_CR */
#define LAN9118_MAC_CR_RXALL  (1u << 31)
#define LAN9118_MAC_CR_FDPX   (1u << 20)
#define LAN9118_MAC_CR_MCPAS  (1u << 19)
#define LAN9118_MAC_CR_PRMS   (1u << 18)
#define LAN9118_MAC_CR_BCAST  (1u << 11) /* 1 = DISABLE broadcast reception */
#define LAN9118_MAC_CR_PADSTR (1u << 8)
#define LAN9118_MAC_CR_TXEN   (1u << 3)
#define LAN9118_MAC_CR_RXEN   (1u << 2)

/* MII_ACC */
#define LAN9118_MII_ACC_PHYADDR_SHIFT 11
#define LAN9118_MII_ACC_REG_SHIFT     6
#define LAN9118_MII_ACC_WRITE         (1u << 1)
#define LAN9118_MII_ACC_BUSY          (1u << 0)
#define LAN9118_PHY_ADDR              1u /* internal PHY */

/* PHY registers (IEEE 802.3 clause 22) */
#define LAN9118_PHY_BMCR     0u
#define LAN9118_PHY_BMSR     1u
#define LAN9118_PHY_ANAR     4u
#define LAN9118_PHY_ANLPAR   5u
#define LAN9118_BMCR_RESET   (1u << 15)
#define LAN9118_BMCR_ANEN    (1u << 12)
#define LAN9118_BMCR_ANRESTART (1u << 9)
#define LAN9118_BMSR_ANDONE  (1u << 5)
#define LAN9118_BMSR_LINK    (1u << 2)
#define LAN9118_AN_100FD     (1u << 8)
#define LAN9118_AN_100HD     (1u << 7)
#define LAN9118_AN_10FD      (1u << 6)
#define LAN9118_AN_10HD      (1u << 5)
#define LAN9118_AN_CSMA      0x0001u
#define LAN9118_AN_PAUSE     (1u << 10)

/* TX command A (one per buffer) */
#define LAN9118_TXA_IOC          (1u << 31)
#define LAN9118_TXA_END_ALIGN_4  (0u << 24)
#define LAN9118_TXA_OFFSET_SHIFT 16        /* data start offset, bytes 0..31 */
#define LAN9118_TXA_FIRST_SEG    (1u << 13)
#define LAN9118_TXA_LAST_SEG     (1u << 12)
#define LAN9118_TXA_BUF_SIZE_MSK 0x7FFu
/* TX command B (one per buffer, identical within a frame) */
#define LAN9118_TXB_TAG_SHIFT    16
#define LAN9118_TXB_CRC_DISABLE  (1u << 13)
#define LAN9118_TXB_PAD_DISABLE  (1u << 12)
#define LAN9118_TXB_PKT_LEN_MSK  0x7FFu

/* TX status */
#define LAN9118_TXS_ES           (1u << 15)

/* RX status */
#define LAN9118_RXS_FILTER_FAIL  (1u << 30)
#define LAN9118_RXS_LEN(v)       (((v) >> 16) & 0x3FFFu) /* includes the FCS */
#define LAN9118_RXS_ES           (1u << 15)
#define LAN9118_RXS_LEN_ERR      (1u << 12)

#endif /* LAN9118_PRIV_H */
