/* app.h - start-up and the main loop of the MTA firmware. */
#ifndef APP_H
#define APP_H

/* Initialise everything and run the main loop forever:
 * drivers -> lwIP input -> timeouts -> MTA work -> console -> sleep.
 * Each board's main() calls it. */
void app_run(int argc, char **argv) __attribute__((noreturn));

#endif
