#include "net/ping.h"
#include <stdarg.h>
#include <string.h>
#include "lib/fmt.h"
#include "net/lwip_err.h"
#include "lwip/raw.h"
#include "lwip/icmp.h"
#include "lwip/inet_chksum.h"
#include "lwip/prot/ip4.h"
#include "lwip/timeouts.h"
#include "lwip/sys.h"

#define PING_ID 0xAFAF
#define PING_DATA 32

static struct raw_pcb *ping_pcb;
static ip4_addr_t ping_dst;
static uint16_t ping_seq, ping_sent, ping_rcvd;
static uint32_t ping_t0[PING_COUNT];
static ping_report_fn ping_out;

static void ping_report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void ping_report(const char *fmt, ...)
{
    char line[96];
    va_list ap;
    va_start(ap, fmt);
    fmt_vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    ping_out(line);
}

static void ping_finish(void)
{
    ping_report("ping %s: %u sent, %u received", ip4addr_ntoa(&ping_dst), ping_sent, ping_rcvd);
    raw_remove(ping_pcb);
    ping_pcb = NULL;
}

static u8_t ping_recv(void *arg, struct raw_pcb *pcb, struct pbuf *p, const ip_addr_t *addr)
{
    (void)arg;
    (void)pcb;
    struct icmp_echo_hdr echo;
    /* raw pcbs see the IP header: skip it to reach ICMP. */
    struct ip_hdr iph;
    if (pbuf_copy_partial(p, &iph, sizeof(iph), 0) != sizeof(iph)) {
        return 0;
    }
    u16_t hl = (u16_t)(IPH_HL(&iph) * 4);
    if (pbuf_copy_partial(p, &echo, sizeof(echo), hl) != sizeof(echo) || echo.type != ICMP_ER ||
        echo.id != PP_HTONS(PING_ID) || !ip4_addr_cmp(ip_2_ip4(addr), &ping_dst)) {
        return 0; /* not ours: let lwIP handle it */
    }
    uint16_t seq = lwip_ntohs(echo.seqno);
    if (seq >= 1 && seq <= PING_COUNT) {
        ping_rcvd++;
        ping_report("reply from %s: seq=%u time=%lu ms", ip4addr_ntoa(&ping_dst), seq,
                         (unsigned long)(sys_now() - ping_t0[seq - 1]));
    }
    pbuf_free(p);
    return 1;
}

static void ping_send(void *arg)
{
    (void)arg;
    if (ping_pcb == NULL) {
        return;
    }
    if (ping_seq == PING_COUNT) {
        ping_finish();
        return;
    }
    struct pbuf *p = pbuf_alloc(PBUF_IP, sizeof(struct icmp_echo_hdr) + PING_DATA, PBUF_RAM);
    if (p != NULL) {
        struct icmp_echo_hdr *e = (struct icmp_echo_hdr *)p->payload;
        ICMPH_TYPE_SET(e, ICMP_ECHO);
        ICMPH_CODE_SET(e, 0);
        e->chksum = 0;
        e->id = PP_HTONS(PING_ID);
        e->seqno = lwip_htons((u16_t)(ping_seq + 1));
        memset((uint8_t *)e + sizeof(*e), 'm', PING_DATA);
        e->chksum = inet_chksum(e, (u16_t)p->len);
        ping_t0[ping_seq] = sys_now();
        ip_addr_t dst;
        ip_addr_copy_from_ip4(dst, ping_dst);
        err_t r = raw_sendto(ping_pcb, p, &dst);
        if (r != ERR_OK) {
            const char *et = lwip_err_text(r);
            ping_report("ping %s: send failed: %s", ip4addr_ntoa(&ping_dst), et != NULL ? et : "?");
        } else {
            ping_sent++;
        }
        pbuf_free(p);
    }
    ping_seq++;
    sys_timeout(PING_INTERVAL_MS, ping_send, NULL);
}

int ping_start(const ip4_addr_t *dst, struct netif *via, ping_report_fn report)
{
    if (ping_pcb != NULL) {
        return -1;
    }
    ping_pcb = raw_new(IP_PROTO_ICMP);
    if (ping_pcb == NULL) {
        return -1;
    }
    if (via != NULL) {
        raw_bind_netif(ping_pcb, via);
        ip_addr_t src;
        ip_addr_copy_from_ip4(src, *netif_ip4_addr(via));
        raw_bind(ping_pcb, &src);
    }
    raw_recv(ping_pcb, ping_recv, NULL);
    ping_dst = *dst;
    ping_out = report;
    ping_seq = ping_sent = ping_rcvd = 0;
    ping_send(NULL);
    return 0;
}
