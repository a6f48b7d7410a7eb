/* Console commands of TLS on the interfaces: inbound STARTTLS and AUTH
 * policies per interface, certificates and CA certificates (pasted PEM),
 * `show tls`. AUTH users and the peers' TLS levels and credentials are
 * cmd_auth's. */
#include "console/cmd_tls.h"

#include <string.h>

#include "console/con.h"
#include "net/nif.h"
#include "tls/pwhash.h"
#include "lib/sasl.h"
#include "net/smtpd_net.h"
#include "tls/tls.h"

static const char *const policy_names[] = { "off", "offer", "required" };

static int cmd_tls_parse_policy(const char *s)
{
    for (int i = 0; i < 3; i++) {
        if (strcmp(s, policy_names[i]) == 0) {
            return i;
        }
    }
    return -1;
}

const char *cmd_tls_policy_name(uint8_t p)
{
    return p < 3 ? policy_names[p] : "?";
}

static int cmd_tls_netif(const char *name)
{
    int i = nif_find(name);
    if (i < 0) {
        con_error("unknown interface '%s'", name);
    }
    return i;
}

/* tls policy NETIF off|offer|required ; auth policy NETIF off|offer|required */
static int cmd_policy(int argc, char **argv, bool tls)
{
    (void)argc;
    int i = cmd_tls_netif(argv[0]);
    if (i < 0) {
        return CON_ERR_FAIL;
    }
    int p = cmd_tls_parse_policy(argv[1]);
    if (p < 0) {
        con_error("bad policy '%s' (off, offer or required)", argv[1]);
        return CON_ERR_FAIL;
    }
    if (tls) {
        smtpd_net_set_tls_policy((uint8_t)i, (uint8_t)p);
    } else {
        smtpd_net_set_auth_policy((uint8_t)i, (uint8_t)p);
    }
    return 0;
}

static int cmd_tls_policy(int argc, char **argv)
{
    return cmd_policy(argc, argv, true);
}

static int cmd_auth_policy(int argc, char **argv)
{
    return cmd_policy(argc, argv, false);
}

/* ---- pasting PEM ---------------------------------------------------------- */

typedef enum { PASTE_CERT, PASTE_CA } paste_kind_t;

static struct {
    paste_kind_t kind;
    uint8_t netif;
    char ca_name[TLS_CA_NAME_MAX];
    size_t len;
    bool overflow;
} paste;

static void cmd_tls_report(int r, const char *what)
{
    const char *t = tls_error_text(r);
    con_error("%s: -0x%04x%s%s%s", what, (unsigned)(r < 0 ? -r : r), t ? " (" : "", t ? t : "", t ? ")" : "");
}

/* Console gate while pasting: every line is PEM text until "end". */
static int cmd_tls_paste_line(const char *line)
{
    size_t cap;
    char *buf = tls_paste_buffer(&cap);
    if (strcmp(line, "end") != 0 && strcmp(line, "abort") != 0) {
        size_t n = strlen(line);
        if (paste.len + n + 2 > cap) {
            paste.overflow = true;
        } else {
            memcpy(buf + paste.len, line, n);
            paste.len += n;
            buf[paste.len++] = '\n';
        }
        return 1; /* stay in paste mode */
    }
    buf[paste.len] = '\0';
    con_set_gate(NULL);
    con_set_prompt(NULL);
    if (strcmp(line, "abort") == 0) {
        con_printf("aborted: nothing changed\n");
    } else if (paste.overflow) {
        con_error("paste longer than %u bytes: nothing changed", (unsigned)cap);
    } else if (paste.kind == PASTE_CERT) {
        int r = tls_set_cert_pem(paste.netif, buf, paste.len);
        if (r != 0) {
            cmd_tls_report(r, "certificate");
        } else {
            con_printf("certificate and key installed for %s (stored in flash)\n", nif_name(paste.netif));
        }
    } else {
        int r = tls_ca_add_pem(paste.ca_name, buf, paste.len);
        if (r != 0) {
            cmd_tls_report(r, "CA certificate");
        } else {
            con_printf("CA certificate '%s' added (stored in flash)\n", paste.ca_name);
        }
    }
    sasl_wipe(buf, cap);
    return 0;
}

static void cmd_tls_paste_start(void)
{
    paste.len = 0;
    paste.overflow = false;
    con_printf("paste PEM, then a line 'end' ('abort' to cancel)\n");
    con_set_prompt("pem> ");
    con_set_gate(cmd_tls_paste_line);
}

/* tls cert NETIF [generate] */
static int cmd_tls_cert(int argc, char **argv)
{
    int i = cmd_tls_netif(argv[0]);
    if (i < 0) {
        return CON_ERR_FAIL;
    }
    if (!tls_ready()) {
        con_error("TLS is not available (see event 1701)");
        return CON_ERR_FAIL;
    }
    if (argc == 2) {
        if (strcmp(argv[1], "generate") != 0) {
            return CON_ERR_USAGE;
        }
        int r = tls_generate_cert((uint8_t)i);
        if (r != 0) {
            cmd_tls_report(r, "certificate");
            return CON_ERR_FAIL;
        }
        con_printf("self-signed certificate generated for %s\n", nif_name((uint8_t)i));
        return 0;
    }
    paste.kind = PASTE_CERT;
    paste.netif = (uint8_t)i;
    cmd_tls_paste_start();
    return 0;
}

/* tls ca add NAME */
static int cmd_tls_ca_add(int argc, char **argv)
{
    (void)argc;
    size_t n = strlen(argv[0]);
    if (n == 0 || n >= TLS_CA_NAME_MAX) {
        con_error("CA name must be 1-%u characters", (unsigned)TLS_CA_NAME_MAX - 1);
        return CON_ERR_FAIL;
    }
    if (!tls_ready()) {
        con_error("TLS is not available (see event 1701)");
        return CON_ERR_FAIL;
    }
    paste.kind = PASTE_CA;
    memcpy(paste.ca_name, argv[0], n + 1);
    cmd_tls_paste_start();
    return 0;
}

static int cmd_tls_ca_del(int argc, char **argv)
{
    (void)argc;
    int r = tls_ca_del(argv[0]);
    if (r == TLS_ERR_STATE) {
        con_error("no CA certificate '%s'", argv[0]);
        return CON_ERR_FAIL;
    }
    if (r != 0) {
        cmd_tls_report(r, "CA certificate");
        return CON_ERR_FAIL;
    }
    return 0;
}

static int cmd_show_tls(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    tls_status_t st;
    tls_status(&st);
    con_printf("TLS %s; TLS 1.2, ECDHE with AES-GCM or ChaCha20-Poly1305\n", st.ready ? "ready" : "NOT available");
    con_printf("sessions %u/%u in use (peak %u); handshakes %lu, failed %lu\n", st.sessions, st.max_sessions,
               st.sessions_hw, (unsigned long)st.handshakes, (unsigned long)st.failures);
    con_printf("arena %lu bytes: %lu in use, peak %lu\n", (unsigned long)st.arena_size, (unsigned long)st.arena_used,
               (unsigned long)st.arena_hw);
    for (uint8_t i = 0; i < nif_count(); i++) {
        char subj[96], na[16], hex[2 * TLS_FP_LEN + 1];
        uint8_t fp[TLS_FP_LEN];
        bool self;
        con_printf("%-6s tls %s, auth %s\n", nif_name(i), cmd_tls_policy_name(smtpd_net_get_tls_policy(i)),
                   cmd_tls_policy_name(smtpd_net_get_auth_policy(i)));
        if (!tls_cert_info(i, subj, sizeof(subj), fp, na, sizeof(na), &self)) {
            con_printf("       no certificate\n");
            continue;
        }
        pwhash_hex(hex, fp, TLS_FP_LEN);
        con_printf("       cert %s%s, expires %s\n", subj, self ? " (self-signed)" : "", na);
        con_printf("       sha256 %s\n", hex);
    }
    char name[TLS_CA_NAME_MAX], subj[96], na[16];
    unsigned k = 0;
    for (; tls_ca_info(k, name, sizeof(name), subj, sizeof(subj), na, sizeof(na)); k++) {
        con_printf("ca %-12s %s, expires %s\n", name, subj, na);
    }
    if (k == 0) {
        con_printf("no CA certificates ('tls ca add NAME')\n");
    }
    for (unsigned i = 0; i < st.max_sessions; i++) {
        tls_role_t role;
        bool est;
        const char *suite;
        if (tls_sess_info(i, &role, &est, &suite)) {
            con_printf("session %u %s %s %s\n", i, role == TLS_SERVER ? "inbound" : "outbound",
                       est ? "established" : "handshake", est ? suite : "");
        }
    }
    return 0;
}

/* ---- running-config ---------------------------------------------------------- */

void cmd_tls_emit_config(con_emit_fn emit, void *ctx, bool show_secrets)
{
    (void)show_secrets;
    for (uint8_t i = 0; i < nif_count(); i++) {
        emit(ctx, "tls policy %s %s\n", nif_name(i), cmd_tls_policy_name(smtpd_net_get_tls_policy(i)));
        emit(ctx, "auth policy %s %s\n", nif_name(i), cmd_tls_policy_name(smtpd_net_get_auth_policy(i)));
    }
}

static const con_cmd_t cmd_tls_table[] = {
    { "tls policy", "NETIF off|offer|required", "inbound STARTTLS on an interface (default offer)", cmd_tls_policy,
      2, 2 },
    { "auth policy", "NETIF off|offer|required", "inbound SMTP AUTH on an interface (offered only after STARTTLS)",
      cmd_auth_policy, 2, 2 },
    { "tls cert", "NETIF [generate]", "paste a PEM certificate chain and key for an interface, or make a self-signed one",
      cmd_tls_cert, 1, 2 },
    { "tls ca add", "NAME", "paste a PEM CA certificate (peers at level verify chain to these)", cmd_tls_ca_add, 1,
      1 },
    { "tls ca del", "NAME", "remove a CA certificate", cmd_tls_ca_del, 1, 1 },
    { "show tls", "", "certificates, fingerprints, CAs, sessions and TLS memory", cmd_show_tls, 0, 0 },
    { NULL, NULL, NULL, NULL, 0, 0 },
};

const con_cmd_t *cmd_tls_commands(void)
{
    return cmd_tls_table;
}
