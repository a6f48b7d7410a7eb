/* flash_layout.h - the flash partition table: which region of a board's data
 * flash holds what.  Written once for every board; a board only says how
 * big its device is.
 *
 *   name     offset            size              holds (format)
 *   config   0                 2 sectors         running-config (lib/twoslot: one slot per sector)
 *   store    2 sectors         the rest          message store (queue/store_flash: a log)
 *   tls      end - 4 sectors   2 sectors         seed, certificates, keys (lib/twoslot)
 *   tlsca    end - 2 sectors   2 sectors         CA certificates (lib/twoslot)
 *
 * The small two-slot partitions sit at the two ends so that a bigger device
 * only grows the store, and every offset of an existing image stays where
 * it was (1 MiB: store 8 KiB .. 1008 KiB, tls at 1008 KiB, tlsca at 1016 KiB).
 * Firmware finds a partition by name with board_flash_partition() (board.h).
 *
 * A board expands the table into its flash_part_t array (drivers/flash/
 * flash.h) with its device and size, and checks it at compile time:
 *
 *   #define PART(name, off, size) { name, &flash.dev, off, size },
 *   static const flash_part_t parts[FLASH_LAYOUT_PARTS] = { FLASH_LAYOUT(PART, SIZE) };
 *   FLASH_LAYOUT_CHECK(SIZE, SECTOR);
 *
 * No include beyond the options: it is macros only. */
#ifndef FLASH_LAYOUT_H
#define FLASH_LAYOUT_H

#include "mta_opts.h"

/* bytes: the unit of the layout.  4 KiB, the erase sector of common SPI NOR
 * parts and of both boards' images; a device's sector must divide it, so
 * that erasing one partition's sector never touches a neighbour. */
#define FLASH_LAYOUT_SECTOR 4096u

/* Two-slot partitions: lib/twoslot wants exactly two sectors (one per slot),
 * and TWOSLOT_MAX (mta_opts.h) is checked against a 4 KiB slot. */
#define FLASH_LAYOUT_CONFIG_SIZE (2u * FLASH_LAYOUT_SECTOR)
#define FLASH_LAYOUT_TLS_SIZE    (2u * FLASH_LAYOUT_SECTOR)
#define FLASH_LAYOUT_TLSCA_SIZE  (2u * FLASH_LAYOUT_SECTOR)

/* Offsets and the store's size, for a device of `dev` bytes. */
#define FLASH_LAYOUT_CONFIG_OFF     0u
#define FLASH_LAYOUT_STORE_OFF      (FLASH_LAYOUT_CONFIG_OFF + FLASH_LAYOUT_CONFIG_SIZE)
#define FLASH_LAYOUT_TLSCA_OFF(dev) ((dev) - FLASH_LAYOUT_TLSCA_SIZE)
#define FLASH_LAYOUT_TLS_OFF(dev)   (FLASH_LAYOUT_TLSCA_OFF(dev) - FLASH_LAYOUT_TLS_SIZE)
#define FLASH_LAYOUT_STORE_SIZE(dev) (FLASH_LAYOUT_TLS_OFF(dev) - FLASH_LAYOUT_STORE_OFF)

/* X(name, offset, size) once per partition, in flash order. */
#define FLASH_LAYOUT(X, dev)                                                   \
    X("config", FLASH_LAYOUT_CONFIG_OFF, FLASH_LAYOUT_CONFIG_SIZE)             \
    X("store", FLASH_LAYOUT_STORE_OFF, FLASH_LAYOUT_STORE_SIZE(dev))           \
    X("tls", FLASH_LAYOUT_TLS_OFF(dev), FLASH_LAYOUT_TLS_SIZE)                 \
    X("tlsca", FLASH_LAYOUT_TLSCA_OFF(dev), FLASH_LAYOUT_TLSCA_SIZE)
#define FLASH_LAYOUT_PARTS 4u

/* The rules a device of `dev` bytes in `sector` byte sectors must meet.  The
 * offsets are derived from each other, so these hold today; they are here
 * for whoever edits the table.  The first one also keeps the unsigned
 * subtractions above from wrapping. */
#define FLASH_LAYOUT_CHECK(dev, sector)                                                     \
    _Static_assert((dev) >= FLASH_LAYOUT_CONFIG_SIZE + FLASH_LAYOUT_TLS_SIZE +              \
                                FLASH_LAYOUT_TLSCA_SIZE + FLASH_LAYOUT_SECTOR,              \
                   "flash layout: the device holds the two-slot partitions and a store");  \
    _Static_assert((sector) != 0 && FLASH_LAYOUT_SECTOR % (sector) == 0 &&                  \
                       (dev) % FLASH_LAYOUT_SECTOR == 0,                                    \
                   "flash layout: partitions are whole device sectors");                    \
    _Static_assert(FLASH_LAYOUT_CONFIG_OFF + FLASH_LAYOUT_CONFIG_SIZE <= FLASH_LAYOUT_STORE_OFF && \
                       FLASH_LAYOUT_STORE_OFF + FLASH_LAYOUT_STORE_SIZE(dev) <=             \
                           FLASH_LAYOUT_TLS_OFF(dev) &&                                     \
                       FLASH_LAYOUT_TLS_OFF(dev) + FLASH_LAYOUT_TLS_SIZE <=                 \
                           FLASH_LAYOUT_TLSCA_OFF(dev) &&                                   \
                       FLASH_LAYOUT_TLSCA_OFF(dev) + FLASH_LAYOUT_TLSCA_SIZE <= (dev),      \
                   "flash layout: partitions do not overlap and end within the device");    \
    _Static_assert(FLASH_LAYOUT_STORE_SIZE(dev) / (sector) <= STORE_FLASH_MAX_SECTORS,      \
                   "flash layout: the store index (STORE_FLASH_MAX_SECTORS) covers the store")

/* Images written before this table existed (1 MiB, both boards) must keep
 * their meaning: the table may change only in ways that keep these. */
_Static_assert(FLASH_LAYOUT_STORE_OFF == 8u * 1024u &&
                   FLASH_LAYOUT_STORE_SIZE(1024u * 1024u) == 1000u * 1024u &&
                   FLASH_LAYOUT_TLS_OFF(1024u * 1024u) == 1008u * 1024u &&
                   FLASH_LAYOUT_TLSCA_OFF(1024u * 1024u) == 1016u * 1024u,
               "flash layout: a 1 MiB image keeps its partitions where they were");

#endif /* FLASH_LAYOUT_H */
