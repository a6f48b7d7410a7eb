/*
 * store_ram.h - RAM message store: store_ops_t over a static arena.
 *
 * The arena is split into STORE_RAM_CHUNK_SIZE chunks linked per message;
 * a free list returns the chunks of aborted/deleted messages at once, so
 * space is reclaimed without compaction.  Contents do not survive a reset;
 * recover() only drops unsealed messages.  One instance; ctx is ignored
 * (pass NULL).
 */
#ifndef STORE_RAM_H
#define STORE_RAM_H

#include "mta_opts.h"

#include "queue/store.h"

/* The RAM store operations (ctx unused). */
extern const store_ops_t store_ram_ops;

/* Empty the store completely (cold boot).  Must be called before first use. */
void store_ram_init(void);

#endif /* STORE_RAM_H */
