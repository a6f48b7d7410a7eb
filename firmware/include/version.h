/* version.h - the firmware's version and build time.
 *
 * MTA_BUILD_EPOCH is the Unix time of the build's source: the Makefile sets
 * it from SOURCE_DATE_EPOCH (the last commit's time), so that the same tree
 * always builds the same image (reproducible builds). It also starts the
 * clock of a board without an RTC (lib/clock.h). */
#ifndef VERSION_H
#define VERSION_H

#define MTA_VERSION_MAJOR 0
#define MTA_VERSION_MINOR 1
#define MTA_VERSION_PATCH 0
#define MTA_VERSION "0.1.0"

#ifndef MTA_BUILD_EPOCH
#define MTA_BUILD_EPOCH 0u /* unknown (unit tests): the clock starts at 1970 until it is set */
#endif

#endif
