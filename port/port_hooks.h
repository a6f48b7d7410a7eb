/* lwIP hook declarations (LWIP_HOOK_FILENAME).  Filled in by the multihoming
 * work: per-route source/netif selection and per-peer next-hop override. */
#ifndef PORT_HOOKS_H
#define PORT_HOOKS_H
#endif
