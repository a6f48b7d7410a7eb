/* cmd_env.h - what the console's commands need from the application that
 * they must not include (the application includes the console, never the
 * reverse).  The application passes it to cmd_init(). */
#ifndef CMD_ENV_H
#define CMD_ENV_H

#include <stdbool.h>
#include <stdint.h>

struct store_flash;

typedef struct {
    /* Orderly stop (flush, mark the store clean), then reboot or power off. */
    void (*shutdown)(bool reboot, int status);
    /* The mounted flash message store, or NULL (RAM store in use). */
    struct store_flash *(*flash_store)(void);
    /* Largest message the store can take (bytes): the ceiling of `limit message-size`. */
    uint32_t (*max_message)(void);
} cmd_env_t;

/* The environment given to cmd_init (cmd_sys.c). */
const cmd_env_t *cmd_env(void);

#endif
