/* board.h - the whole board API the portable firmware sees.
 *
 * Each boards/<board>/board.c implements it: it owns the hardware (or the
 * Linux process for the host board), wires the drivers to lwIP netifs and
 * registers them with nif_register().  firmware/ never includes a driver or
 * board header; the board never includes firmware internals beyond nif.h and
 * this file. */
#ifndef BOARD_H
#define BOARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Clocks, time base, console UART, drivers.  Called once, before lwip_init(). */
void board_init(int argc, char **argv);
/* Add the board's netifs to lwIP (netif_add + nif_register).  After lwip_init(). */
void board_netifs_init(void);
struct flash_part;
/* A flash partition by name ("config", "store", "tls", "tlsca": the table
 * in flash_layout.h), or NULL when the board has no flash (or its backing
 * file could not be opened). */
const struct flash_part *board_flash_partition(const char *name);
/* Factory configuration as console command lines (NULL-terminated list),
 * applied at boot before any saved configuration. */
const char *const *board_factory_config(void);
/* Milliseconds since boot; wraps after 49 days (callers compare with subtraction). */
uint32_t board_now_ms(void);
/* Unix time from a clock the board has (the host OS), or 0 when it has
 * none (mps2-an385: no battery-backed RTC); see clock.h for the fallback. */
uint32_t board_wallclock(void);
/* Microseconds since boot, finer than board_now_ms() (for measurements: under
 * QEMU -icount shift=0 one guest nanosecond is one instruction). */
uint64_t board_uptime_us(void);
/* 32 random bits.  Not cryptographic on boards without a TRNG (see README). */
uint32_t board_rand(void);
/* Fill buf with entropy for the TLS random generator (0, or -1 when the
 * source failed).  The host board reads the OS (getrandom); mps2-an385 has
 * no TRNG and samples timer jitter, which tls_cred.c mixes with a seed kept in
 * flash: real hardware must wire a TRNG here (README). */
int board_entropy(uint8_t *buf, size_t len);
/* Console bytes received since the last call (interrupt-buffered); never
 * blocks.  BOARD_CONSOLE_EOF when the console has gone for good (host board:
 * stdin closed), which the firmware treats as `poweroff`. */
#define BOARD_CONSOLE_EOF ((size_t)-1)
size_t board_console_read(uint8_t *buf, size_t max);
/* Write console bytes without blocking; returns how many were taken. */
size_t board_console_write(const uint8_t *buf, size_t n);
/* Service drivers: move received frames into lwIP, follow link state. */
void board_poll(void);
/* Sleep until an interrupt/event or at most max_ms. */
void board_idle(uint32_t max_ms);
/* Restart the device (QEMU: system reset; host: re-exec). */
void board_reboot(void) __attribute__((noreturn));
/* Stop the device; under QEMU/host the process exits with `status`. */
void board_poweroff(int status) __attribute__((noreturn));
/* A short description of the hardware for `version`. */
const char *board_describe(void);

#endif
