/* fuzz: firmware/lib/twoslot.c firmware/lib/crc32.c drivers/flash/flash_sim.c */
/* The two-slot record store (config, TLS partitions) on any image of its
 * two sectors, then saves from the input, some cut by a power failure at
 * any program or erase.  Invariants: what loads is at most TWOSLOT_MAX and
 * agrees with twoslot_stat(); a save that returned OK loads back exactly;
 * after a cut save the load gives the old blob or the new one, nothing
 * else; a save never touches flash outside the partition; after an erase
 * both slots are blank. */
#include "fuzz.h"

#include "flash/flash_sim.h"
#include "lib/twoslot.h"

#define SECT 4096u

static uint8_t mem[4 * SECT];
static uint32_t wear[4];
static uint8_t blob[SECT], got[SECT], prev[SECT];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_t f;
    fz_init(&f, data, size);
    uint8_t cfg = fz_u8(&f);
    uint32_t prog = cfg & 1 ? 8u : 1u;
    flash_sim_t sim;
    FUZZ_CHECK(flash_sim_init(&sim, mem, wear, sizeof mem, SECT, prog) == FLASH_OK);
    flash_part_t part = { "config", flash_sim_dev(&sim), SECT, 2 * SECT };
    /* the image: runs of (offset, length, bytes) over the blank slots */
    for (int runs = cfg >> 5; runs >= 0 && fz_more(&f); runs--) {
        uint32_t off = fz_u16(&f) % (2 * SECT);
        size_t n;
        const uint8_t *p = fz_bytes(&f, fz_u8(&f) * 4u, &n);
        if (n > 2 * SECT - off)
            n = 2 * SECT - off;
        memcpy(mem + SECT + off, p, n);
    }
    FUZZ_CHECK(twoslot_max(&part) == TWOSLOT_MAX);
    size_t len = 0, plen = 0;
    int have = 0;
    for (int round = 0; round < 4; round++) {
        twoslot_info_t info, st;
        uint32_t seq;
        int rc = twoslot_load(&part, got, sizeof got, &len, &seq, &info);
        FUZZ_CHECK(twoslot_stat(&part, &st) == TWOSLOT_OK);
        FUZZ_CHECK(st.slot == -1);
        for (int i = 0; i < TWOSLOT_SLOTS; i++)
            FUZZ_CHECK(st.state[i] == info.state[i] && st.state[i] < TWOSLOT_SLOT_STATE_COUNT &&
                       twoslot_slot_state_name(st.state[i]) != NULL);
        FUZZ_CHECK(rc == TWOSLOT_OK || rc == TWOSLOT_ERR_NOTFOUND);
        if (rc == TWOSLOT_OK) {
            FUZZ_CHECK(len <= TWOSLOT_MAX && info.slot >= 0 && info.slot < TWOSLOT_SLOTS);
            FUZZ_CHECK(info.state[info.slot] == TWOSLOT_SLOT_VALID && info.seq[info.slot] == seq &&
                       info.len[info.slot] == len);
            if (have) {
                FUZZ_CHECK(len == plen && memcmp(got, prev, len) == 0);
            } else {   /* what the image held */
                memcpy(prev, got, len);
                plen = len;
                have = 1;
            }
        } else {
            FUZZ_CHECK(!have);
            FUZZ_CHECK(info.slot == -1);
        }
        if (!fz_more(&f))
            break;
        /* the next save, cut at op k (0: not cut) */
        uint8_t k = fz_u8(&f) % 8u;
        size_t n;
        const uint8_t *p = fz_bytes(&f, fz_u16(&f) % (TWOSLOT_MAX + 16u), &n);
        memcpy(blob, p, n);
        if (k)
            flash_sim_cut_arm(&sim, k, (flash_sim_cut_t)(1 + k % 3), 1u + fz_u8(&f) * 8u);
        int s = twoslot_save(&part, blob, n, NULL);
        int cut = k && !flash_sim_is_powered(&sim);
        flash_sim_power_on(&sim);
        flash_sim_cut_arm(&sim, 0, FLASH_SIM_CUT_NONE, 0);
        if (n > TWOSLOT_MAX) {
            FUZZ_CHECK(s == TWOSLOT_ERR_TOOBIG);
            continue;
        }
        int ok = twoslot_load(&part, got, sizeof got, &len, NULL, NULL) == TWOSLOT_OK;
        if (s == TWOSLOT_OK) {
            FUZZ_CHECK(ok && len == n && memcmp(got, blob, n) == 0);
        } else {
            FUZZ_CHECK(cut);
            /* the old one or the new one */
            FUZZ_CHECK((ok && len == n && memcmp(got, blob, n) == 0) ||
                       (have ? ok && len == plen && memcmp(got, prev, plen) == 0 : !ok));
        }
        if (ok) {
            memcpy(prev, got, len);
            plen = len;
            have = 1;
        }
    }
    if (cfg & 0x10) {   /* factory reset */
        twoslot_info_t info;
        FUZZ_CHECK(twoslot_erase(&part) == TWOSLOT_OK);
        FUZZ_CHECK(twoslot_load(&part, got, sizeof got, &len, NULL, &info) == TWOSLOT_ERR_NOTFOUND);
        FUZZ_CHECK(info.state[0] == TWOSLOT_SLOT_BLANK && info.state[1] == TWOSLOT_SLOT_BLANK &&
                   !info.any_corrupt);
    }
    for (uint32_t i = 0; i < SECT; i++)
        FUZZ_CHECK(mem[i] == 0xFF && mem[3 * SECT + i] == 0xFF);
    return 0;
}
