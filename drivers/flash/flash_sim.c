/* flash_sim.c - NOR flash simulated in RAM (see flash_sim.h). */
#include "flash_sim.h"

#include <string.h>

static int is_pow2(uint32_t v)
{
    return v != 0 && (v & (v - 1u)) == 0;
}

/* Counts one program/erase and decides whether the power cut hits it.
 * Returns the cut mode that applies to this operation (NONE if not cut). */
static flash_sim_cut_t cut_check(flash_sim_t *s)
{
    if (s->cut_mode == FLASH_SIM_CUT_NONE || s->cut_countdown == 0) {
        return FLASH_SIM_CUT_NONE;
    }
    if (--s->cut_countdown != 0) {
        return FLASH_SIM_CUT_NONE;
    }
    flash_sim_cut_t mode = s->cut_mode;
    s->cut_mode = FLASH_SIM_CUT_NONE;
    s->powered = false;      /* whatever this operation does, it is the last */
    return mode;
}

static int sim_read(flash_dev_t *dev, uint32_t off, void *buf, size_t len)
{
    flash_sim_t *s = (flash_sim_t *)dev;

    if (!s->powered) {
        return FLASH_ERR_POWER;
    }
    s->stats.reads++;
    memcpy(buf, s->mem + off, len);
    return FLASH_OK;
}

static int sim_program(flash_dev_t *dev, uint32_t off, const void *buf, size_t len)
{
    flash_sim_t *s = (flash_sim_t *)dev;
    const uint8_t *src = buf;
    uint8_t *dst = s->mem + off;

    if (!s->powered) {
        return FLASH_ERR_POWER;
    }
    s->stats.programs++;
    flash_sim_cut_t cut = cut_check(s);
    if (cut == FLASH_SIM_CUT_BEFORE) {
        return FLASH_ERR_POWER;
    }
    /* Refuse the whole operation before writing anything, so a test that
     * trips the rule sees the medium unchanged. */
    for (size_t i = 0; i < len; i++) {
        if ((uint8_t)(~dst[i] & src[i]) != 0) {
            s->stats.nor_errors++;
            return cut == FLASH_SIM_CUT_NONE || cut == FLASH_SIM_CUT_AFTER ? FLASH_ERR_NOR
                                                                             : FLASH_ERR_POWER;
        }
    }
    size_t n = len;
    if (cut == FLASH_SIM_CUT_TORN && s->cut_torn_len < n) {
        n = s->cut_torn_len;
    }
    for (size_t i = 0; i < n; i++) {
        dst[i] &= src[i];
    }
    s->stats.bytes_programmed += (uint32_t)n;
    return cut == FLASH_SIM_CUT_TORN ? FLASH_ERR_POWER : FLASH_OK;
}

static int sim_erase(flash_dev_t *dev, uint32_t sector)
{
    flash_sim_t *s = (flash_sim_t *)dev;
    uint32_t n = dev->sector_size;

    if (!s->powered) {
        return FLASH_ERR_POWER;
    }
    s->stats.erases++;
    flash_sim_cut_t cut = cut_check(s);
    if (cut == FLASH_SIM_CUT_BEFORE) {
        return FLASH_ERR_POWER;
    }
    if (cut == FLASH_SIM_CUT_TORN && s->cut_torn_len < n) {
        n = s->cut_torn_len;
    }
    memset(s->mem + (size_t)sector * dev->sector_size, 0xFF, n);
    /* A started erase wears the sector even when cut short. */
    s->erase_counts[sector]++;
    return cut == FLASH_SIM_CUT_TORN ? FLASH_ERR_POWER : FLASH_OK;
}

static const flash_ops_t sim_ops = {
    .read = sim_read,
    .program = sim_program,
    .erase = sim_erase,
};

int flash_sim_init(flash_sim_t *s, uint8_t *mem, uint32_t *erase_counts, uint32_t size,
                   uint32_t sector_size, uint32_t prog_size)
{
    if (s == NULL || mem == NULL || erase_counts == NULL || !is_pow2(sector_size) ||
        !is_pow2(prog_size) || prog_size > sector_size || size == 0 ||
        size % sector_size != 0) {
        return FLASH_ERR_ARG;
    }
    memset(s, 0, sizeof(*s));
    s->dev.ops = &sim_ops;
    s->dev.name = "sim";
    s->dev.size = size;
    s->dev.sector_size = sector_size;
    s->dev.prog_size = prog_size;
    s->mem = mem;
    s->erase_counts = erase_counts;
    s->powered = true;
    memset(mem, 0xFF, size);
    memset(erase_counts, 0, (size_t)(size / sector_size) * sizeof(erase_counts[0]));
    return FLASH_OK;
}

flash_dev_t *flash_sim_dev(flash_sim_t *s)
{
    return &s->dev;
}

void flash_sim_cut_arm(flash_sim_t *s, uint32_t nth, flash_sim_cut_t mode, uint32_t torn_len)
{
    s->cut_mode = nth == 0 ? FLASH_SIM_CUT_NONE : mode;
    s->cut_countdown = s->cut_mode == FLASH_SIM_CUT_NONE ? 0 : nth;
    s->cut_torn_len = torn_len;
}

void flash_sim_power_on(flash_sim_t *s)
{
    s->powered = true;
    s->cut_mode = FLASH_SIM_CUT_NONE;
    s->cut_countdown = 0;
}

bool flash_sim_is_powered(const flash_sim_t *s)
{
    return s->powered;
}

const flash_sim_stats_t *flash_sim_stats(const flash_sim_t *s)
{
    return &s->stats;
}

void flash_sim_stats_reset(flash_sim_t *s)
{
    memset(&s->stats, 0, sizeof(s->stats));
}

uint32_t flash_sim_erase_count(const flash_sim_t *s, uint32_t sector)
{
    if (sector >= s->dev.size / s->dev.sector_size) {
        return 0;
    }
    return s->erase_counts[sector];
}
