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

#include "store.h"

#ifndef STORE_RAM_ARENA_SIZE
#define STORE_RAM_ARENA_SIZE (128u * 1024u) /* bytes of message storage; boards override to fit RAM */
#endif
#ifndef STORE_RAM_MAX_MSGS
#define STORE_RAM_MAX_MSGS 64               /* message slots, sealed + unsealed (<= 65535) */
#endif
#ifndef STORE_RAM_CHUNK_SIZE
#define STORE_RAM_CHUNK_SIZE 256u           /* bytes per allocation unit: slack per message vs link table */
#endif

/* The RAM store operations (ctx unused). */
extern const store_ops_t store_ram_ops;

/* Empty the store completely (cold boot).  Must be called before first use. */
void store_ram_init(void);

#endif /* STORE_RAM_H */
