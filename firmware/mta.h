/* mta.h - start-up and the main loop of the MTA firmware. */
#ifndef MTA_H
#define MTA_H

#include <stdbool.h>
#include <stdint.h>

#define MTA_VERSION_MAJOR 0
#define MTA_VERSION_MINOR 1
#define MTA_VERSION_PATCH 0
#define MTA_VERSION "0.1.0"

/* Initialise everything and run the main loop forever:
 * drivers -> lwIP input -> timeouts -> MTA work -> console -> sleep. */
void mta_run(int argc, char **argv) __attribute__((noreturn));

/* Orderly stop: flush the console, close what must be closed, then reboot
 * or power off with `status`. */
void mta_shutdown(bool reboot, int status) __attribute__((noreturn));

struct store_flash;
/* The mounted flash message store, or NULL (RAM store in use). */
struct store_flash *mta_flash_store(void);

/* Largest message the store can take (bytes): the ceiling of `limit message-size`. */
uint32_t mta_max_message(void);

/* Seconds since boot, for the queue and the retry schedule. */
uint32_t mta_uptime_s(void);

#endif
