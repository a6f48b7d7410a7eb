/* unit: firmware/route/route.c firmware/lib/fmt.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "route/route.h"

#define IP4(a, b, c, d) \
    (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (uint32_t)(d))

enum { ETH0, ETH1, SL0, N_NIF };

static route_netif_view_t nv[N_NIF];
static route_explanation_t dec;

/* route_decide() must give exactly the decision route_explain() explains.
 * Every scenario below goes through these, so each one checks that too. */
static void assert_same_decision(const route_decision_t *a, const route_decision_t *b)
{
    assert_int_equal(a->status, b->status);
    assert_int_equal(a->route_idx, b->route_idx);
    assert_int_equal(a->ip_literal, b->ip_literal);
    assert_int_equal(a->auto_netif, b->auto_netif);
    assert_int_equal(a->peer, b->peer);
    assert_int_equal(a->netif, b->netif);
    assert_int_equal(a->port, b->port);
    assert_int_equal(a->peer_addr, b->peer_addr);
    assert_int_equal(a->src_addr, b->src_addr);
    assert_int_equal(a->next_hop, b->next_hop);
    assert_int_equal(a->first_peer, b->first_peer);
    assert_int_equal(a->first_netif, b->first_netif);
}

/* The explanation agrees with itself: the chosen candidate is the decision. */
static void assert_explained(const route_explanation_t *x)
{
    if (x->d.status == ROUTE_OK) {
        assert_true(x->chosen >= 0 && (unsigned)x->chosen < x->n_cand);
        const route_candidate_t *c = &x->cand[x->chosen];
        assert_true(c->usable);
        assert_int_equal(c->peer, x->d.peer);
        assert_int_equal(c->netif, x->d.netif);
        assert_int_equal(c->next_hop, x->d.next_hop);
        assert_int_equal(c->auto_netif, x->d.auto_netif);
        assert_string_equal(x->defer, "");
    } else {
        assert_int_equal(x->chosen, -1);
        assert_int_equal(x->d.peer, ROUTE_NONE);
    }
    if (x->n_cand > 0) {
        assert_int_equal(x->d.first_peer, x->cand[0].peer);
        assert_int_equal(x->d.first_netif, x->cand[0].netif);
    } else {
        assert_int_equal(x->d.first_peer, ROUTE_NONE);
    }
}

static int explain(const char *dest, const route_netif_view_t *v, unsigned n, route_explanation_t *x)
{
    route_decision_t d;
    memset(&d, 0xA5, sizeof(d)); /* decide fills everything */
    int r = route_explain(dest, v, n, x);
    assert_int_equal(route_decide(dest, v, n, &d), r);
    if (x != NULL) {
        assert_same_decision(&d, &x->d);
        assert_explained(x);
    }
    return r;
}

static int explain_peer(unsigned peer, const route_netif_view_t *v, unsigned n, route_explanation_t *x)
{
    route_decision_t d;
    memset(&d, 0xA5, sizeof(d));
    int r = route_explain_peer(peer, v, n, x);
    assert_int_equal(route_decide_peer(peer, v, n, &d), r);
    assert_same_decision(&d, &x->d);
    assert_explained(x);
    return r;
}

static route_peer_t mkpeer(const char *name, uint32_t addr, uint8_t via,
                           route_mode_t mode)
{
    route_peer_t p;
    memset(&p, 0, sizeof(p));
    strncpy(p.name, name, sizeof(p.name) - 1);
    p.addr = addr;
    p.port = 25;
    p.via = via;
    p.mode = mode;
    return p;
}

static int add_peer(const char *name, uint32_t addr, uint8_t via, route_mode_t mode)
{
    route_peer_t p = mkpeer(name, addr, via, mode);
    const char *why = NULL;
    int idx = route_peer_add(&p, &why);
    assert_true(idx >= 0);
    assert_string_equal(why, "ok");
    return idx;
}

static int add_route(const char *pat, int p0, int p1)
{
    uint8_t peers[2] = {(uint8_t)p0, (uint8_t)p1};
    const char *why = NULL;
    int idx = route_add(pat, peers, p1 < 0 ? 1u : 2u, &why);
    assert_true(idx >= 0);
    return idx;
}

static int setup(void **state)
{
    (void)state;
    route_init(N_NIF);
    memset(nv, 0, sizeof(nv));
    nv[ETH0] = (route_netif_view_t){.name = "eth0", .up = true, .has_addr = true,
                                    .addr = IP4(192, 168, 1, 10), .prefix_len = 24,
                                    .gw = IP4(192, 168, 1, 1),
                                    .hostname = "lan.gw.example"};
    nv[ETH1] = (route_netif_view_t){.name = "eth1", .up = true, .has_addr = true,
                                    .addr = IP4(10, 0, 0, 2), .prefix_len = 24,
                                    .gw = IP4(10, 0, 0, 1),
                                    .hostname = "wan.gw.example", .is_default = true};
    nv[SL0] = (route_netif_view_t){.name = "sl0", .up = true, .has_addr = true,
                                   .addr = IP4(172, 16, 0, 1), .prefix_len = 32,
                                   .p2p_peer = IP4(172, 16, 0, 2),
                                   .hostname = "slip.gw.example"};
    return 0;
}

static void test_pattern_precedence(void **state)
{
    (void)state;
    int pa = add_peer("a", IP4(10, 0, 0, 50), ETH1, ROUTE_MODE_ENFORCE);
    int pb = add_peer("b", IP4(10, 0, 0, 51), ETH1, ROUTE_MODE_ENFORCE);
    int pc = add_peer("c", IP4(10, 0, 0, 52), ETH1, ROUTE_MODE_ENFORCE);
    int pd = add_peer("d", IP4(10, 0, 0, 53), ETH1, ROUTE_MODE_ENFORCE);
    int rdef = add_route("*", pa, -1);
    int rwild = add_route("*.example.com", pb, -1);
    int rdeep = add_route("*.mail.example.com", pc, -1);
    int rexact = add_route("example.com", pd, -1);

    assert_int_equal(explain("user@example.com", nv, N_NIF, &dec), ROUTE_OK);
    assert_int_equal(dec.d.route_idx, rexact);
    assert_int_equal(dec.d.peer, pd);
    assert_string_equal(dec.reason, "exact match 'example.com'");

    assert_int_equal(explain("sub.example.com", nv, N_NIF, &dec), ROUTE_OK);
    assert_int_equal(dec.d.route_idx, rwild);
    assert_string_equal(dec.reason, "wildcard '*.example.com'");
    assert_string_equal(dec.pattern, "*.example.com");

    assert_int_equal(explain("x@a.b.example.com", nv, N_NIF, &dec), ROUTE_OK);
    assert_int_equal(dec.d.route_idx, rwild);

    /* longest wildcard suffix wins */
    assert_int_equal(explain("x@h.mail.example.com", nv, N_NIF, &dec), ROUTE_OK);
    assert_int_equal(dec.d.route_idx, rdeep);
    assert_int_equal(dec.d.peer, pc);
    /* wildcard does not match the bare domain; "mail.example.com" falls to *.example.com */
    assert_int_equal(explain("x@mail.example.com", nv, N_NIF, &dec), ROUTE_OK);
    assert_int_equal(dec.d.route_idx, rwild);

    /* not a suffix on a label boundary */
    assert_int_equal(explain("x@notexample.com", nv, N_NIF, &dec), ROUTE_OK);
    assert_int_equal(dec.d.route_idx, rdef);
    assert_string_equal(dec.reason, "default route '*'");

    /* <> brackets and trailing dot */
    assert_int_equal(explain("<x@Example.COM.>", nv, N_NIF, &dec), ROUTE_OK);
    assert_int_equal(dec.d.route_idx, rexact);
}

static void test_case_insensitive(void **state)
{
    (void)state;
    int pa = add_peer("Relay1", IP4(10, 0, 0, 50), ETH1, ROUTE_MODE_ENFORCE);
    int r = add_route("*.Example.ORG", pa, -1);
    int r2 = add_route("EXACT.net", pa, -1);

    assert_int_equal(explain("Bob@MX.EXAMPLE.org", nv, N_NIF, &dec), ROUTE_OK);
    assert_int_equal(dec.d.route_idx, r);
    assert_string_equal(dec.reason, "wildcard '*.example.org'");
    assert_int_equal(explain("exact.NET", nv, N_NIF, &dec), ROUTE_OK);
    assert_int_equal(dec.d.route_idx, r2);
    assert_int_equal(route_peer_find("relay1"), pa);
    assert_int_equal(route_find("*.EXAMPLE.org"), r);
    assert_int_equal(route_find("example.org"), ROUTE_ERR_NOTFOUND);
}

static void test_no_route_and_bad_dest(void **state)
{
    (void)state;
    int pa = add_peer("a", IP4(10, 0, 0, 50), ETH1, ROUTE_MODE_ENFORCE);
    add_route("example.com", pa, -1);
    assert_int_equal(explain("x@other.com", nv, N_NIF, &dec), ROUTE_ERR_NOROUTE);
    assert_int_equal(dec.d.status, ROUTE_ERR_NOROUTE);
    assert_int_equal(dec.chosen, -1);
    assert_int_equal(explain("1.2.3.4", nv, N_NIF, &dec), ROUTE_ERR_NOROUTE);
    assert_int_equal(explain("x@", nv, N_NIF, &dec), ROUTE_ERR_BADDEST);
    assert_int_equal(explain("x@bad domain", nv, N_NIF, &dec), ROUTE_ERR_BADDEST);
    assert_int_equal(explain("x@[1.2.3]", nv, N_NIF, &dec), ROUTE_ERR_BADDEST);
    assert_int_equal(explain("x@a..b", nv, N_NIF, &dec), ROUTE_ERR_BADDEST);
    assert_int_equal(explain(NULL, nv, N_NIF, &dec), ROUTE_ERR_INVAL);
}

static void test_ip_literal(void **state)
{
    (void)state;
    int pa = add_peer("a", IP4(10, 0, 0, 50), ETH1, ROUTE_MODE_ENFORCE);
    int pb = add_peer("b", IP4(10, 0, 0, 51), ETH1, ROUTE_MODE_ENFORCE);
    int rdef = add_route("*", pa, -1);
    add_route("1.2.3.4", pb, -1); /* digits are valid labels; must not catch literals */

    assert_int_equal(explain("user@[1.2.3.4]", nv, N_NIF, &dec), ROUTE_OK);
    assert_true(dec.d.ip_literal);
    assert_int_equal(dec.d.route_idx, rdef);
    assert_string_equal(dec.reason, "IP literal 1.2.3.4: default route '*'");
    assert_int_equal(explain("1.2.3.4", nv, N_NIF, &dec), ROUTE_OK);
    assert_true(dec.d.ip_literal);
    assert_int_equal(dec.d.peer, pa);
    assert_int_equal(explain("x@[IPv6:::1]", nv, N_NIF, &dec), ROUTE_OK);
    assert_true(dec.d.ip_literal);
}

static void test_explicit_binding(void **state)
{
    (void)state;
    /* peer on eth1's subnet but bound to eth0: eth0 is used (off-link -> gw) */
    int pa = add_peer("a", IP4(10, 0, 0, 50), ETH0, ROUTE_MODE_ENFORCE);
    add_route("*", pa, -1);
    assert_int_equal(explain("x@y.com", nv, N_NIF, &dec), ROUTE_OK);
    assert_int_equal(dec.d.netif, ETH0);
    assert_int_equal(dec.d.src_addr, IP4(192, 168, 1, 10));
    assert_int_equal(dec.d.next_hop, IP4(192, 168, 1, 1));
    assert_string_equal(dec.ehlo, "lan.gw.example");
    assert_int_equal(dec.d.port, 25);
    assert_int_equal(dec.d.peer_addr, IP4(10, 0, 0, 50));
    assert_false(dec.d.auto_netif);
    assert_int_equal(dec.n_cand, 1);
    assert_true(dec.cand[0].usable);
    assert_string_equal(dec.cand[0].why, "");
}

static void test_on_link_next_hop(void **state)
{
    (void)state;
    int pa = add_peer("a", IP4(192, 168, 1, 77), ETH0, ROUTE_MODE_ENFORCE);
    add_route("*", pa, -1);
    assert_int_equal(explain("x@y.com", nv, N_NIF, &dec), ROUTE_OK);
    assert_int_equal(dec.d.next_hop, IP4(192, 168, 1, 77));
}

static void test_enforce_netif_down(void **state)
{
    (void)state;
    int pa = add_peer("a", IP4(10, 0, 0, 50), ETH1, ROUTE_MODE_ENFORCE);
    int pb = add_peer("b", IP4(192, 168, 1, 50), ETH0, ROUTE_MODE_ENFORCE);
    add_route("*", pa, pb);
    nv[ETH1].up = false;
    assert_int_equal(explain("x@y.com", nv, N_NIF, &dec), ROUTE_ERR_DEFER);
    assert_int_equal(dec.d.status, ROUTE_ERR_DEFER);
    assert_int_equal(dec.chosen, -1);
    assert_int_equal(dec.d.peer, ROUTE_NONE);
    assert_int_equal(dec.d.netif, ROUTE_NONE);
    assert_non_null(strstr(dec.defer, "netif eth1 down"));
    assert_int_equal(dec.n_cand, 2);
    assert_false(dec.cand[0].usable);
    assert_true(dec.cand[0].enforce);
    assert_string_equal(dec.cand[0].why, "netif eth1 down");
    /* the usable second peer is listed but not used */
    assert_true(dec.cand[1].usable);
    assert_true(dec.cand[1].skipped);

    /* no address */
    nv[ETH1].up = true;
    nv[ETH1].has_addr = false;
    assert_int_equal(explain("x@y.com", nv, N_NIF, &dec), ROUTE_ERR_DEFER);
    assert_string_equal(dec.cand[0].why, "netif eth1 has no address");
}

static void test_failover_order(void **state)
{
    (void)state;
    int pb = add_peer("b", IP4(192, 168, 1, 50), ETH0, ROUTE_MODE_FAILOVER);
    int pc = add_peer("c", IP4(172, 16, 0, 9), SL0, ROUTE_MODE_ENFORCE);
    route_peer_t a = mkpeer("a", IP4(10, 0, 0, 50), ETH1, ROUTE_MODE_FAILOVER);
    const char *why;
    a.n_alts = 2;
    a.alts[0] = (route_alt_t){.peer = (uint8_t)pb, .netif = ETH0};
    a.alts[1] = (route_alt_t){.peer = (uint8_t)pb, .netif = SL0};
    int pa = route_peer_add(&a, &why);
    assert_true(pa >= 0);
    add_route("*", pa, pc);

    /* all up: first choice */
    assert_int_equal(explain("x@y.com", nv, N_NIF, &dec), ROUTE_OK);
    assert_int_equal(dec.chosen, 0);
    assert_int_equal(dec.d.peer, pa);
    assert_int_equal(dec.d.netif, ETH1);
    assert_string_equal(dec.ehlo, "wan.gw.example");
    /* candidates: (a,eth1) (b,eth0) (b,sl0) (c,sl0) */
    assert_int_equal(dec.n_cand, 4);
    assert_int_equal(dec.cand[1].peer, pb);
    assert_int_equal(dec.cand[1].netif, ETH0);
    assert_int_equal(dec.cand[2].netif, SL0);
    assert_int_equal(dec.cand[3].peer, pc);

    nv[ETH1].up = false;
    assert_int_equal(explain("x@y.com", nv, N_NIF, &dec), ROUTE_OK);
    assert_int_equal(dec.chosen, 1);
    assert_int_equal(dec.d.peer, pb);
    assert_int_equal(dec.d.netif, ETH0);
    assert_int_equal(dec.d.next_hop, IP4(192, 168, 1, 50));
    assert_string_equal(dec.cand[0].why, "netif eth1 down");

    nv[ETH0].up = false;
    assert_int_equal(explain("x@y.com", nv, N_NIF, &dec), ROUTE_OK);
    assert_int_equal(dec.chosen, 2);
    assert_int_equal(dec.d.peer, pb);
    assert_int_equal(dec.d.netif, SL0);
    assert_int_equal(dec.d.next_hop, IP4(172, 16, 0, 2));
    assert_int_equal(dec.d.src_addr, IP4(172, 16, 0, 1));

    /* b's own peer list is FAILOVER with no alts; next: route's peer c on sl0 */
    route_peer_t b = *route_peer_get((unsigned)pb);
    b.via = ETH0;
    assert_int_equal(route_peer_modify((unsigned)pb, &b, &why), ROUTE_OK);
    nv[SL0].up = false;
    assert_int_equal(explain("x@y.com", nv, N_NIF, &dec), ROUTE_ERR_DEFER);
    /* c is ENFORCE on sl0 (down) -> defer names it */
    assert_non_null(strstr(dec.defer, "netif sl0 down"));
    assert_non_null(strstr(dec.defer, "'c'"));

    /* never falls back to another (default / first) netif */
    for (unsigned i = 0; i < dec.n_cand; i++) {
        assert_false(dec.cand[i].usable);
    }
}

static void test_failover_all_unusable(void **state)
{
    (void)state;
    int pa = add_peer("a", IP4(10, 0, 0, 50), ETH1, ROUTE_MODE_FAILOVER);
    add_route("*", pa, -1);
    nv[ETH1].up = false;
    assert_int_equal(explain("x@y.com", nv, N_NIF, &dec), ROUTE_ERR_DEFER);
    assert_non_null(strstr(dec.defer, "netif eth1 down"));
    assert_int_equal(dec.n_cand, 1);

    /* FAILOVER first peer unusable -> the route's next peer */
    int pb = add_peer("b", IP4(192, 168, 1, 50), ETH0, ROUTE_MODE_ENFORCE);
    add_route("two.com", pa, pb);
    assert_int_equal(explain("x@two.com", nv, N_NIF, &dec), ROUTE_OK);
    assert_int_equal(dec.chosen, 1);
    assert_int_equal(dec.d.peer, pb);
    assert_int_equal(dec.d.netif, ETH0);
}

static void test_p2p_next_hop(void **state)
{
    (void)state;
    /* peer far beyond the SLIP link: next hop is the p2p peer */
    int pa = add_peer("a", IP4(8, 8, 8, 8), SL0, ROUTE_MODE_ENFORCE);
    add_route("*", pa, -1);
    assert_int_equal(explain("x@y.com", nv, N_NIF, &dec), ROUTE_OK);
    assert_int_equal(dec.d.netif, SL0);
    assert_int_equal(dec.d.next_hop, IP4(172, 16, 0, 2));
    assert_string_equal(dec.ehlo, "slip.gw.example");
}

static void test_off_link_gateway(void **state)
{
    (void)state;
    int pa = add_peer("a", IP4(8, 8, 8, 8), ETH0, ROUTE_MODE_ENFORCE);
    add_route("*", pa, -1);
    assert_int_equal(explain("x@y.com", nv, N_NIF, &dec), ROUTE_OK);
    assert_int_equal(dec.d.next_hop, IP4(192, 168, 1, 1));

    nv[ETH0].gw = 0;
    assert_int_equal(explain("x@y.com", nv, N_NIF, &dec), ROUTE_ERR_DEFER);
    assert_string_equal(dec.cand[0].why, "no gateway on eth0 for off-link 8.8.8.8");
    /* the default netif eth1 (with a gateway) is NOT used */
    assert_int_equal(dec.n_cand, 1);
    assert_int_equal(dec.d.netif, ROUTE_NONE);
}

static void test_next_hop_override(void **state)
{
    (void)state;
    route_peer_t a = mkpeer("a", IP4(8, 8, 8, 8), ETH0, ROUTE_MODE_FAILOVER);
    const char *why;
    a.next_hop = IP4(192, 168, 1, 254);
    a.n_alts = 1;
    a.alts[0] = (route_alt_t){.peer = 0, .netif = ETH1}; /* itself via eth1 */
    assert_int_equal(route_peer_add(&a, &why), ROUTE_ERR_PEER); /* no index yet */
    a.n_alts = 0;
    int pa = route_peer_add(&a, &why);
    assert_int_equal(pa, 0);
    a.n_alts = 1;
    assert_int_equal(route_peer_modify((unsigned)pa, &a, &why), ROUTE_OK);
    add_route("*", pa, -1);
    assert_int_equal(explain("x@y.com", nv, N_NIF, &dec), ROUTE_OK);
    assert_int_equal(dec.d.next_hop, IP4(192, 168, 1, 254));
    /* on the alternative netif the override does not apply */
    nv[ETH0].up = false;
    assert_int_equal(explain("x@y.com", nv, N_NIF, &dec), ROUTE_OK);
    assert_int_equal(dec.d.netif, ETH1);
    assert_int_equal(dec.d.next_hop, IP4(10, 0, 0, 1));
    /* an override that is not on-link is reported */
    nv[ETH0].up = true;
    a.next_hop = IP4(10, 9, 9, 9);
    assert_int_equal(route_peer_modify((unsigned)pa, &a, &why), ROUTE_OK);
    assert_int_equal(explain("x@y.com", nv, N_NIF, &dec), ROUTE_OK);
    assert_int_equal(dec.chosen, 1);
    assert_string_equal(dec.cand[0].why, "next hop 10.9.9.9 not on-link on eth0");
}

static void test_auto_netif(void **state)
{
    (void)state;
    int pa = add_peer("a", IP4(192, 168, 1, 60), ROUTE_NETIF_AUTO, ROUTE_MODE_ENFORCE);
    int pb = add_peer("b", IP4(8, 8, 4, 4), ROUTE_NETIF_AUTO, ROUTE_MODE_ENFORCE);
    int pc = add_peer("c", IP4(172, 16, 0, 2), ROUTE_NETIF_AUTO, ROUTE_MODE_ENFORCE);
    add_route("a.com", pa, -1);
    add_route("b.com", pb, -1);
    add_route("c.com", pc, -1);

    assert_int_equal(explain("x@a.com", nv, N_NIF, &dec), ROUTE_OK);
    assert_int_equal(dec.d.netif, ETH0);
    assert_true(dec.d.auto_netif);
    assert_true(dec.cand[0].auto_netif);
    assert_int_equal(dec.cand[0].cfg_netif, ROUTE_NETIF_AUTO);
    assert_string_equal(dec.auto_note, "auto: netif eth0 holds 192.168.1.60");

    assert_int_equal(explain("x@b.com", nv, N_NIF, &dec), ROUTE_OK);
    assert_int_equal(dec.d.netif, ETH1);
    assert_string_equal(dec.auto_note, "auto: default netif eth1");
    assert_int_equal(dec.d.next_hop, IP4(10, 0, 0, 1));

    assert_int_equal(explain("x@c.com", nv, N_NIF, &dec), ROUTE_OK);
    assert_int_equal(dec.d.netif, SL0);
    assert_int_equal(dec.d.next_hop, IP4(172, 16, 0, 2));

    /* the subnet owner is down: defer, do not switch to the default netif */
    nv[ETH0].up = false;
    assert_int_equal(explain("x@a.com", nv, N_NIF, &dec), ROUTE_ERR_DEFER);
    assert_string_equal(dec.cand[0].why, "netif eth0 down");

    /* no default netif: unresolvable */
    nv[ETH1].is_default = false;
    assert_int_equal(explain("x@b.com", nv, N_NIF, &dec), ROUTE_ERR_DEFER);
    assert_string_equal(dec.cand[0].why, "auto: no netif holds 8.8.4.4, no default");
}

static void test_decide_peer(void **state)
{
    (void)state;
    int pa = add_peer("a", IP4(10, 0, 0, 50), ETH1, ROUTE_MODE_ENFORCE);
    assert_int_equal(explain_peer((unsigned)pa, nv, N_NIF, &dec), ROUTE_OK);
    assert_int_equal(dec.d.route_idx, -1);
    assert_string_equal(dec.reason, "peer 'a'");
    assert_int_equal(dec.d.netif, ETH1);
    assert_int_equal(explain_peer(5, nv, N_NIF, &dec), ROUTE_ERR_INVAL);
    /* netif index beyond the caller's view */
    assert_int_equal(explain_peer((unsigned)pa, nv, 1, &dec), ROUTE_ERR_DEFER);
    assert_string_equal(dec.cand[0].why, "netif #1 not present");
}

static void test_missing_hostname_literal(void **state)
{
    (void)state;
    int pa = add_peer("a", IP4(10, 0, 0, 50), ETH1, ROUTE_MODE_ENFORCE);
    add_route("*", pa, -1);
    nv[ETH1].hostname = NULL;
    assert_int_equal(explain("x@y.com", nv, N_NIF, &dec), ROUTE_OK);
    assert_string_equal(dec.ehlo, "[10.0.0.2]");
}

static void test_peer_validation(void **state)
{
    (void)state;
    const char *why = NULL;
    route_peer_t p = mkpeer("good", IP4(10, 0, 0, 50), ETH1, ROUTE_MODE_ENFORCE);
    assert_int_equal(route_peer_add(&p, &why), 0);

    route_peer_t d = mkpeer("GOOD", IP4(10, 0, 0, 51), ETH1, ROUTE_MODE_ENFORCE);
    assert_int_equal(route_peer_add(&d, &why), ROUTE_ERR_DUP);
    assert_string_equal(why, "duplicate peer name");

    route_peer_t l = mkpeer("x", IP4(10, 0, 0, 51), ETH1, ROUTE_MODE_ENFORCE);
    memset(l.name, 'n', sizeof(l.name)); /* 32 chars, no NUL */
    assert_int_equal(route_peer_add(&l, &why), ROUTE_ERR_NAME);
    assert_string_equal(why, "name longer than 31 characters");
    memset(l.name, 'n', 31);
    l.name[31] = '\0';
    assert_int_equal(route_peer_add(&l, &why), 1); /* 31 is fine */

    route_peer_t e = mkpeer("", IP4(10, 0, 0, 51), ETH1, ROUTE_MODE_ENFORCE);
    assert_int_equal(route_peer_add(&e, &why), ROUTE_ERR_NAME);
    route_peer_t s = mkpeer("a b", IP4(10, 0, 0, 51), ETH1, ROUTE_MODE_ENFORCE);
    assert_int_equal(route_peer_add(&s, &why), ROUTE_ERR_NAME);

    route_peer_t bp = mkpeer("bp", IP4(10, 0, 0, 51), ETH1, ROUTE_MODE_ENFORCE);
    bp.port = 0;
    assert_int_equal(route_peer_add(&bp, &why), ROUTE_ERR_PORT);
    assert_string_equal(why, "bad port");

    route_peer_t bn = mkpeer("bn", IP4(10, 0, 0, 51), N_NIF, ROUTE_MODE_ENFORCE);
    assert_int_equal(route_peer_add(&bn, &why), ROUTE_ERR_NETIF);
    assert_string_equal(why, "unknown netif index");

    route_peer_t ba = mkpeer("ba", 0, ETH1, ROUTE_MODE_ENFORCE);
    assert_int_equal(route_peer_add(&ba, &why), ROUTE_ERR_ADDR);

    route_peer_t em = mkpeer("em", IP4(10, 0, 0, 51), ETH1, ROUTE_MODE_ENFORCE);
    em.n_alts = 1;
    em.alts[0] = (route_alt_t){.peer = 0, .netif = ETH0};
    assert_int_equal(route_peer_add(&em, &why), ROUTE_ERR_MODE);
    em.mode = ROUTE_MODE_FAILOVER;
    em.alts[0].peer = 7;
    assert_int_equal(route_peer_add(&em, &why), ROUTE_ERR_PEER);
    em.alts[0].peer = 0;
    em.alts[0].netif = 9;
    assert_int_equal(route_peer_add(&em, &why), ROUTE_ERR_NETIF);
    em.alts[0].netif = ETH0;
    int pem = route_peer_add(&em, &why);
    assert_int_equal(pem, 2);

    /* modify: renaming onto an existing name fails; same name is fine */
    route_peer_t m = *route_peer_get(0);
    m.port = 587;
    assert_int_equal(route_peer_modify(0, &m, &why), ROUTE_OK);
    assert_int_equal(route_peer_get(0)->port, 587);
    strcpy(m.name, "em");
    assert_int_equal(route_peer_modify(0, &m, &why), ROUTE_ERR_DUP);
    assert_int_equal(route_peer_modify(6, &m, &why), ROUTE_ERR_NOTFOUND);

    /* deletion blocked while referenced: by a route, by an alternative */
    uint8_t rp[1] = {1};
    int r = route_add("*", rp, 1, &why);
    assert_true(r >= 0);
    assert_int_equal(route_peer_del(1, &why), ROUTE_ERR_INUSE);
    assert_string_equal(why, "peer used by a route");
    assert_int_equal(route_peer_del(0, &why), ROUTE_ERR_INUSE); /* em's alternative */
    assert_int_equal(route_peer_del((unsigned)pem, &why), ROUTE_OK);
    assert_int_equal(route_peer_del(0, &why), ROUTE_OK);
    assert_int_equal(route_del((unsigned)r, &why), ROUTE_OK);
    assert_int_equal(route_peer_del(1, &why), ROUTE_OK);
    assert_int_equal(route_peer_del(1, &why), ROUTE_ERR_NOTFOUND);
    assert_int_equal(route_peer_next(-1), -1);
    assert_null(route_peer_get(0));

    /* table full */
    for (int i = 0; i < ROUTE_MAX_PEERS; i++) {
        char nm[8] = {'p', (char)('0' + i), 0};
        route_peer_t q = mkpeer(nm, IP4(10, 0, 0, 60), ETH1, ROUTE_MODE_ENFORCE);
        assert_int_equal(route_peer_add(&q, &why), i);
    }
    route_peer_t f = mkpeer("full", IP4(10, 0, 0, 60), ETH1, ROUTE_MODE_ENFORCE);
    assert_int_equal(route_peer_add(&f, &why), ROUTE_ERR_FULL);
}

static void test_route_validation(void **state)
{
    (void)state;
    const char *why = NULL;
    int pa = add_peer("a", IP4(10, 0, 0, 50), ETH1, ROUTE_MODE_ENFORCE);
    uint8_t ok[1] = {(uint8_t)pa};
    uint8_t unknown[1] = {3};
    uint8_t twice[2] = {(uint8_t)pa, (uint8_t)pa};

    assert_int_equal(route_add("example.com", unknown, 1, &why), ROUTE_ERR_PEER);
    assert_string_equal(why, "unknown peer");
    assert_int_equal(route_add("example.com", twice, 2, &why), ROUTE_ERR_PEER);
    assert_int_equal(route_add("example.com", ok, 0, &why), ROUTE_ERR_INVAL);
    assert_int_equal(route_add("*example.com", ok, 1, &why), ROUTE_ERR_PATTERN);
    assert_int_equal(route_add("*.", ok, 1, &why), ROUTE_ERR_PATTERN);
    assert_int_equal(route_add("a..com", ok, 1, &why), ROUTE_ERR_PATTERN);
    assert_int_equal(route_add("", ok, 1, &why), ROUTE_ERR_PATTERN);
    assert_int_equal(route_add("ex ample.com", ok, 1, &why), ROUTE_ERR_PATTERN);
    assert_int_equal(route_add("**", ok, 1, &why), ROUTE_ERR_PATTERN);
    int r0 = route_add("example.com", ok, 1, &why);
    assert_int_equal(r0, 0);
    assert_int_equal(route_add("EXAMPLE.com", ok, 1, &why), ROUTE_ERR_DUP);
    int r1 = route_add("*", ok, 1, &why);
    assert_int_equal(r1, 1);

    /* iteration for printing */
    int seen = 0;
    for (int i = route_next(-1); i >= 0; i = route_next(i)) {
        assert_non_null(route_get((unsigned)i));
        seen++;
    }
    assert_int_equal(seen, 2);
    assert_int_equal(route_del(0, &why), ROUTE_OK);
    assert_int_equal(route_next(-1), 1);
    assert_int_equal(route_del(0, &why), ROUTE_ERR_NOTFOUND);
    assert_null(route_get(0));
    assert_string_equal(route_get(1)->pattern, "*");
    assert_string_equal(route_strerror(ROUTE_ERR_INUSE), "in use");
}

/* Decide and explain agree on random tables and netif states (the fixed
 * scenarios above check it too, through explain()). */
static uint32_t rnd_state = 1;
static uint32_t rnd(uint32_t n)
{
    rnd_state = rnd_state * 1103515245u + 12345u;
    return (rnd_state >> 16) % n;
}

static void test_decide_agrees_with_explain(void **state)
{
    (void)state;
    static const char *const dests[] = { "x@a.com", "b.com", "x@s.c.com", "1.2.3.4", "x@[10.0.0.9]",
                                         "x@[IPv6:::1]", "x@none.org", "bad dom", "<y@A.COM.>" };
    static const char *const pats[] = { "a.com", "b.com", "*.c.com", "*", "c.com" };
    static const uint32_t addrs[] = { IP4(192, 168, 1, 60), IP4(10, 0, 0, 50), IP4(172, 16, 0, 2), IP4(8, 8, 8, 8) };
    static const uint8_t vias[] = { ETH0, ETH1, SL0, ROUTE_NETIF_AUTO };
    unsigned decided_ok = 0, deferred = 0;
    for (unsigned round = 0; round < 400; round++) {
        setup(NULL);
        unsigned np = 1 + rnd(5);
        for (unsigned i = 0; i < np; i++) {
            char nm[4] = { 'p', (char)('0' + i), 0 };
            route_peer_t p = mkpeer(nm, addrs[rnd(4)], vias[rnd(4)], rnd(2) ? ROUTE_MODE_FAILOVER : ROUTE_MODE_ENFORCE);
            if (rnd(3) == 0) {
                p.next_hop = rnd(2) ? IP4(192, 168, 1, 254) : IP4(10, 9, 9, 9);
            }
            if (p.mode == ROUTE_MODE_FAILOVER && i > 0) {
                p.n_alts = (uint8_t)rnd(3);
                for (unsigned k = 0; k < p.n_alts; k++) {
                    p.alts[k] = (route_alt_t){ .peer = (uint8_t)rnd(i), .netif = vias[rnd(4)] };
                }
            }
            const char *why;
            assert_true(route_peer_add(&p, &why) >= 0);
        }
        for (unsigned i = 0; i < 5; i++) {
            if (rnd(2)) {
                uint8_t peers[3] = { (uint8_t)rnd(np), (uint8_t)rnd(np), (uint8_t)rnd(np) };
                unsigned n = 1 + rnd(3);
                const char *why;
                (void)route_add(pats[i], peers, n, &why); /* a peer listed twice is refused: fine */
            }
        }
        for (unsigned i = 0; i < N_NIF; i++) {
            nv[i].up = rnd(4) != 0;
            nv[i].has_addr = rnd(6) != 0;
            if (rnd(4) == 0) {
                nv[i].gw = 0;
            }
            if (rnd(4) == 0) {
                nv[i].hostname = NULL;
            }
            nv[i].is_default = rnd(3) == 0;
        }
        unsigned nn = rnd(5) == 0 ? 1u + rnd(N_NIF) : N_NIF; /* sometimes a short view */
        for (unsigned k = 0; k < sizeof(dests) / sizeof(dests[0]); k++) {
            int r = explain(dests[k], nv, nn, &dec);
            decided_ok += r == ROUTE_OK;
            deferred += r == ROUTE_ERR_DEFER;
        }
        for (unsigned i = 0; i < np; i++) {
            explain_peer(i, nv, nn, &dec);
        }
    }
    /* the sweep reached both outcomes, not only refusals */
    assert_true(decided_ok > 100);
    assert_true(deferred > 100);
}

static void test_decision_has_no_texts(void **state)
{
    (void)state;
    /* What delivery keeps per recipient is small: the texts are the
     * explanation's. */
    assert_true(sizeof(route_decision_t) <= 40);
    int pa = add_peer("a", IP4(10, 0, 0, 50), ETH1, ROUTE_MODE_ENFORCE);
    add_route("*", pa, -1);
    char ehlo[ROUTE_EHLO_MAX];
    route_decision_t d;
    assert_int_equal(route_decide("x@y.com", nv, N_NIF, &d), ROUTE_OK);
    route_ehlo(&nv[d.netif], ehlo, sizeof(ehlo));
    assert_string_equal(ehlo, "wan.gw.example");
    nv[ETH1].hostname = "";
    route_ehlo(&nv[d.netif], ehlo, sizeof(ehlo));
    assert_string_equal(ehlo, "[10.0.0.2]");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_pattern_precedence, setup),
        cmocka_unit_test_setup(test_case_insensitive, setup),
        cmocka_unit_test_setup(test_no_route_and_bad_dest, setup),
        cmocka_unit_test_setup(test_ip_literal, setup),
        cmocka_unit_test_setup(test_explicit_binding, setup),
        cmocka_unit_test_setup(test_on_link_next_hop, setup),
        cmocka_unit_test_setup(test_enforce_netif_down, setup),
        cmocka_unit_test_setup(test_failover_order, setup),
        cmocka_unit_test_setup(test_failover_all_unusable, setup),
        cmocka_unit_test_setup(test_p2p_next_hop, setup),
        cmocka_unit_test_setup(test_off_link_gateway, setup),
        cmocka_unit_test_setup(test_next_hop_override, setup),
        cmocka_unit_test_setup(test_auto_netif, setup),
        cmocka_unit_test_setup(test_decide_peer, setup),
        cmocka_unit_test_setup(test_missing_hostname_literal, setup),
        cmocka_unit_test_setup(test_peer_validation, setup),
        cmocka_unit_test_setup(test_route_validation, setup),
        cmocka_unit_test_setup(test_decide_agrees_with_explain, setup),
        cmocka_unit_test_setup(test_decision_has_no_texts, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
