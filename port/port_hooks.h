/* lwIP hook declarations (LWIP_HOOK_FILENAME, included by lwIP's sources).
 *
 * LWIP_HOOK_ETHARP_GET_GW: the next hop for an off-link destination.  lwIP
 * would use the netif's gateway; a peer may name its own next hop (a second
 * router on the WAN), so the delivery code registers (netif, destination,
 * next hop) for the lifetime of its connection and this hook answers from
 * that table.  Unregistered destinations get NULL: lwIP uses the gateway. */
#ifndef PORT_HOOKS_H
#define PORT_HOOKS_H

struct netif;
struct ip4_addr;

const struct ip4_addr *port_etharp_get_gw(struct netif *netif, const struct ip4_addr *dest);
#define LWIP_HOOK_ETHARP_GET_GW(netif, dest) port_etharp_get_gw((netif), (dest))

/* LWIP_HOOK_TCP_INPACKET_PCB: a SYN to a listener that would find no PCB is
 * answered with a reset instead of being dropped (net/smtpd_net.c). */
struct tcp_pcb;
struct tcp_hdr;
signed char smtpd_net_tcp_in_hook(struct tcp_pcb *pcb, const struct tcp_hdr *hdr);
#define LWIP_HOOK_TCP_INPACKET_PCB(pcb, hdr, optlen, opt1len, opt2, p) smtpd_net_tcp_in_hook((pcb), (hdr))

#endif
