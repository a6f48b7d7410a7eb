/* flash_sim.h - NOR flash simulated in RAM, for unit tests.
 *
 * Stricter than real flash so that tests catch misuse:
 *  - program refuses (FLASH_ERR_NOR, nothing written) when any bit would go
 *    0 -> 1; real parts silently AND instead;
 *  - erase works on whole sectors only and counts erases per sector (wear).
 *
 * Power cuts.  flash_sim_cut_arm() picks the Nth program/erase operation from
 * now and what the cut does to it:
 *  - FLASH_SIM_CUT_BEFORE: the operation does not happen, returns FLASH_ERR_POWER;
 *  - FLASH_SIM_CUT_AFTER:  the operation completes and returns its own result
 *    (the CPU would not live to see it, so the caller may as well see
 *    success); the next operation is the first to fail;
 *  - FLASH_SIM_CUT_TORN:   only a prefix is done -- the first torn_len bytes
 *    of a program, or the first torn_len bytes of the sector for an erase
 *    (clamped to the operation's size) -- and it returns FLASH_ERR_POWER.
 * From the cut on, every operation, reads included, returns FLASH_ERR_POWER
 * until flash_sim_power_on(); the contents persist, as on real flash.
 *
 * Reads are not counted towards the cut: they change nothing on the medium.
 */
#ifndef FLASH_SIM_H
#define FLASH_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flash.h"

typedef enum {
    FLASH_SIM_CUT_NONE = 0,
    FLASH_SIM_CUT_BEFORE,
    FLASH_SIM_CUT_AFTER,
    FLASH_SIM_CUT_TORN
} flash_sim_cut_t;

typedef struct flash_sim_stats {
    uint32_t reads;         /* read calls that reached the medium */
    uint32_t programs;      /* program calls that reached the medium (incl. refused/cut) */
    uint32_t erases;        /* erase calls that reached the medium (incl. cut) */
    uint32_t nor_errors;    /* programs refused for a 0 -> 1 bit */
    uint32_t bytes_programmed;
} flash_sim_stats_t;

typedef struct flash_sim {
    flash_dev_t dev;            /* first member: the ops cast back to flash_sim_t */
    uint8_t *mem;               /* dev.size bytes, caller's storage */
    uint32_t *erase_counts;     /* dev.size / dev.sector_size counters, caller's storage */
    flash_sim_stats_t stats;
    bool powered;
    flash_sim_cut_t cut_mode;
    uint32_t cut_countdown;     /* program/erase ops left until the cut op (1 = next) */
    uint32_t cut_torn_len;
} flash_sim_t;

/* A blank (all 0xFF) chip of `size` bytes on `mem`, with `erase_counts` holding
 * size / sector_size counters (zeroed here).  sector_size and prog_size must
 * be powers of two, prog_size <= sector_size, size a non-zero multiple of
 * sector_size.  FLASH_OK or FLASH_ERR_ARG. */
int flash_sim_init(flash_sim_t *s, uint8_t *mem, uint32_t *erase_counts, uint32_t size,
                   uint32_t sector_size, uint32_t prog_size);

/* The device to hand to flash_* / flash_part_t. */
flash_dev_t *flash_sim_dev(flash_sim_t *s);

/* Arm a power cut at the nth (1 = next) program or erase operation from now.
 * torn_len is used by FLASH_SIM_CUT_TORN only.  FLASH_SIM_CUT_NONE or nth 0
 * disarms. */
void flash_sim_cut_arm(flash_sim_t *s, uint32_t nth, flash_sim_cut_t mode, uint32_t torn_len);

/* Restore power (and disarm any pending cut).  The contents are unchanged. */
void flash_sim_power_on(flash_sim_t *s);

/* false from a cut until flash_sim_power_on(), true otherwise. */
bool flash_sim_is_powered(const flash_sim_t *s);

/* Operation counters since init (or the last flash_sim_stats_reset). */
const flash_sim_stats_t *flash_sim_stats(const flash_sim_t *s);
void flash_sim_stats_reset(flash_sim_t *s);

/* Erases of one device sector since init (not reset by flash_sim_stats_reset). */
uint32_t flash_sim_erase_count(const flash_sim_t *s, uint32_t sector);

#endif /* FLASH_SIM_H */
