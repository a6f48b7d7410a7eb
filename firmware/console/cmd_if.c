/* Console: `interface` -- addresses, gateway or point-to-point peer,
 * hostname (the identity used in EHLO and Received: for that interface),
 * MTU and admin state.  The whole line is validated before anything changes. */
#include "console/cmd_if.h"

#include <string.h>

#include "console/con.h"
#include "net/nif.h"
#include "lwip/ip4_addr.h"
#include "lwip/netif.h"

/* A hostname for EHLO: RFC 5321 Domain: letters, digits, '-', '.', labels
 * of 1..63, not starting or ending with '-'. */
static int if_valid_hostname(const char *h)
{
    size_t n = strlen(h), label = 0;
    if (n == 0 || n >= NIF_HOSTNAME_MAX || h[0] == '.' || h[n - 1] == '.') {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        char c = h[i];
        if (c == '.') {
            if (label == 0 || h[i - 1] == '-') {
                return 0;
            }
            label = 0;
            continue;
        }
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-')) {
            return 0;
        }
        if (c == '-' && label == 0) {
            return 0;
        }
        if (++label > 63) {
            return 0;
        }
    }
    return h[n - 1] != '-';
}

static int cmd_interface(int argc, char **argv)
{
    int idx = nif_find(argv[0]);
    if (idx < 0) {
        con_error("unknown netif '%s'", argv[0]);
        return CON_ERR_FAIL;
    }
    nif_t *n = nif_at((uint8_t)idx);
    nif_settings_t st;
    nif_get_settings((uint8_t)idx, &st);
    for (int i = 1; i < argc; i++) {
        const char *k = argv[i];
        if (strcmp(k, "up") == 0) {
            st.admin_up = true;
            continue;
        }
        if (strcmp(k, "down") == 0) {
            st.admin_up = false;
            continue;
        }
        if (i + 1 >= argc) {
            con_error("'%s' needs a value", k);
            return CON_ERR_FAIL;
        }
        const char *v = argv[++i];
        if (strcmp(k, "address") == 0) {
            if (strcmp(v, "none") == 0) {
                ip4_addr_set_zero(&st.addr);
                st.prefix = 0;
                continue;
            }
            char tmp[24];
            const char *slash = strchr(v, '/');
            uint32_t prefix = 0;
            if (slash == NULL || (size_t)(slash - v) >= sizeof(tmp) || slash[1] == 0) {
                con_error("bad address '%s' (want IP/PREFIX)", v);
                return CON_ERR_FAIL;
            }
            memcpy(tmp, v, (size_t)(slash - v));
            tmp[slash - v] = 0;
            if (con_parse_u32(slash + 1, &prefix) != CON_OK || prefix < 1 || prefix > 32) {
                con_error("bad prefix length in '%s' (1-32)", v);
                return CON_ERR_FAIL;
            }
            if (nif_parse_ip4(tmp, &st.addr) < 0 || ip4_addr_isany_val(st.addr) ||
                ip4_addr_get_u32(&st.addr) == IPADDR_BROADCAST ||
                ip4_addr_ismulticast(&st.addr)) {
                con_error("bad address '%s'", tmp);
                return CON_ERR_FAIL;
            }
            st.prefix = (uint8_t)prefix;
        } else if (strcmp(k, "gateway") == 0) {
            if (strcmp(v, "none") == 0) {
                ip4_addr_set_zero(&st.gw);
            } else if (nif_parse_ip4(v, &st.gw) < 0) {
                con_error("bad gateway '%s'", v);
                return CON_ERR_FAIL;
            }
        } else if (strcmp(k, "peer") == 0) {
            if (strcmp(v, "none") == 0) {
                ip4_addr_set_zero(&st.p2p);
            } else if (nif_parse_ip4(v, &st.p2p) < 0) {
                con_error("bad point-to-point peer '%s'", v);
                return CON_ERR_FAIL;
            }
        } else if (strcmp(k, "hostname") == 0) {
            if (!if_valid_hostname(v)) {
                con_error("bad hostname '%s' (letters, digits, '-', '.'; max %d)", v, NIF_HOSTNAME_MAX - 1);
                return CON_ERR_FAIL;
            }
            strcpy(st.hostname, v);
        } else if (strcmp(k, "mtu") == 0) {
            uint32_t mtu = 0;
            if (con_parse_u32(v, &mtu) != CON_OK || mtu < 576 || mtu > 1500) {
                con_error("bad mtu '%s' (576-1500)", v);
                return CON_ERR_FAIL;
            }
            st.mtu = (uint16_t)mtu;
        } else {
            con_error("unknown interface option '%s' (address, gateway, peer, hostname, mtu, up, down)", k);
            return CON_ERR_FAIL;
        }
    }
    /* Cross-field checks: a gateway or p2p peer must be on the interface's subnet. */
    if (!ip4_addr_isany_val(st.gw) && st.prefix > 0) {
        uint32_t mask = lwip_htonl(st.prefix == 32 ? 0xFFFFFFFFu : ~(0xFFFFFFFFu >> st.prefix));
        if ((ip4_addr_get_u32(&st.gw) & mask) != (ip4_addr_get_u32(&st.addr) & mask)) {
            con_error("gateway %s is not on %s's subnet", ip4addr_ntoa(&st.gw), n->name);
            return CON_ERR_FAIL;
        }
    }
    nif_apply_settings((uint8_t)idx, &st);
    return 0;
}

void cmd_if_emit_config(con_emit_fn emit, void *ctx, bool show_secrets)
{
    (void)show_secrets;
    for (uint8_t i = 0; i < nif_count(); i++) {
        nif_settings_t st;
        char a[16], g[16];
        nif_get_settings(i, &st);
        emit(ctx, "interface %s", nif_name(i));
        if (!ip4_addr_isany_val(st.addr)) {
            emit(ctx, " address %s/%u", ip4addr_ntoa_r(&st.addr, a, sizeof(a)), st.prefix);
        } else {
            emit(ctx, " address none");
        }
        if (!ip4_addr_isany_val(st.p2p)) {
            emit(ctx, " peer %s", ip4addr_ntoa_r(&st.p2p, g, sizeof(g)));
        } else if (!ip4_addr_isany_val(st.gw)) {
            emit(ctx, " gateway %s", ip4addr_ntoa_r(&st.gw, g, sizeof(g)));
        }
        if (st.hostname[0]) {
            emit(ctx, " hostname %s", st.hostname);
        }
        emit(ctx, " mtu %u %s\n", st.mtu, st.admin_up ? "up" : "down");
    }
}

static const con_cmd_t cmd_if_table[] = {
    { "interface", "NAME [address IP/PREFIX|none] [gateway IP|none] [peer IP|none] [hostname NAME] [mtu N] [up|down]",
      "configure an interface", cmd_interface, 1, 15 },
    { NULL, NULL, NULL, NULL, 0, 0 },
};

const con_cmd_t *cmd_if_commands(void)
{
    return cmd_if_table;
}
