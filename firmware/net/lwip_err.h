/* lwip_err.h - text for an lwIP err_t.
 *
 * lwIP's own lwip_strerr() exists only in LWIP_DEBUG builds (it is "" in
 * ours), but a field engineer reading 9318 or 9321 needs the words. */
#ifndef LWIP_ERR_H
#define LWIP_ERR_H

#include "lwip/err.h"

/* "Routing problem." for ERR_RTE; NULL for ERR_OK and unknown values. */
const char *lwip_err_text(err_t err);

#endif
