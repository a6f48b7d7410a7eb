/* Console commands of credentials: SMTP AUTH users (kept as salted
 * hashes), and per peer the outbound TLS level and AUTH credentials.
 * Everything here that the running-config holds is a secret or sits next
 * to one; this module alone says which words. */
#include "console/cmd_auth.h"

#include <string.h>

#include "lib/sasl.h"
#include "route/peertls.h"
#include "route/route.h"
#include "tls/pwhash.h"
#include "tls/users.h"

/* ---- users ------------------------------------------------------------------- */

static int cmd_user_result(int r, const char *name)
{
    if (r == USERS_ERR_NAME) {
        con_error("bad user name '%s' (1-%u of A-Z a-z 0-9 . _ @ + -)", name, (unsigned)USERS_NAME_MAX - 1);
    } else if (r == USERS_ERR_FULL) {
        con_error("user table full (%u users)", (unsigned)USERS_MAX);
    } else if (r == USERS_ERR_NOTFOUND) {
        con_error("no user '%s'", name);
    }
    return r == USERS_OK ? 0 : CON_ERR_FAIL;
}

static int cmd_user_add(int argc, char **argv)
{
    (void)argc;
    size_t n = strlen(argv[1]);
    if (n < 8 || n >= SASL_PASS_MAX) {
        con_error("password must be 8-%u characters", (unsigned)SASL_PASS_MAX - 1);
        sasl_wipe(argv[1], n);
        return CON_ERR_FAIL;
    }
    pwhash_t h;
    pwhash_make(&h, argv[1]);
    sasl_wipe(argv[1], n); /* not left in the line buffer */
    return cmd_user_result(users_set(argv[0], &h), argv[0]);
}

static int cmd_user_hash(int argc, char **argv)
{
    (void)argc;
    pwhash_t h;
    if (pwhash_from_hex(argv[1], argv[2], &h) < 0) {
        con_error("bad hash (want SALT HASH as %d and %d hex digits)", 2 * PWHASH_SALT_LEN, 2 * PWHASH_LEN);
        return CON_ERR_FAIL;
    }
    return cmd_user_result(users_set(argv[0], &h), argv[0]);
}

static int cmd_user_del(int argc, char **argv)
{
    (void)argc;
    return cmd_user_result(users_del(argv[0]), argv[0]);
}

static int cmd_show_users(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    unsigned n = 0;
    for (int i = users_next(-1); i >= 0; i = users_next(i)) {
        con_printf("%s\n", users_name(i));
        n++;
    }
    con_printf("%u user(s); passwords are stored as salted hashes\n", n);
    return 0;
}

/* ---- peers --------------------------------------------------------------------- */

static int cmd_auth_peer(const char *name)
{
    int p = route_peer_find(name);
    if (p < 0) {
        con_error("unknown peer '%s'", name);
    }
    return p;
}

/* peer tls PEER none|may|encrypt | verify NAME | fingerprint HEX */
static int cmd_peer_tls(int argc, char **argv)
{
    int p = cmd_auth_peer(argv[0]);
    if (p < 0) {
        return CON_ERR_FAIL;
    }
    int lv = peertls_level_parse(argv[1]);
    if (lv < 0) {
        con_error("bad level '%s' (none, may, encrypt, verify NAME, fingerprint SHA256)", argv[1]);
        return CON_ERR_FAIL;
    }
    peertls_t *t = peertls_get((unsigned)p);
    bool needs_arg = lv == PEERTLS_VERIFY || lv == PEERTLS_FINGERPRINT;
    if (needs_arg != (argc == 3)) {
        con_error(needs_arg ? "level %s needs an argument" : "level %s takes no argument", argv[1]);
        return CON_ERR_FAIL;
    }
    uint8_t fp[32];
    if (lv == PEERTLS_FINGERPRINT && pwhash_unhex(argv[2], fp, sizeof(fp)) < 0) {
        con_error("fingerprint must be 64 hex digits (SHA-256 of the DER certificate)");
        return CON_ERR_FAIL;
    }
    if (lv == PEERTLS_VERIFY) {
        size_t n = strlen(argv[2]);
        if (n == 0 || n >= PEERTLS_NAME_MAX || strspn(argv[2], "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") != n) {
            con_error("bad server name '%s'", argv[2]);
            return CON_ERR_FAIL;
        }
        memcpy(t->server_name, argv[2], n + 1);
    }
    if (lv == PEERTLS_FINGERPRINT) {
        memcpy(t->fp, fp, sizeof(fp));
    }
    t->level = (uint8_t)lv;
    peertls_changed(t);
    return 0;
}

/* peer auth PEER USER PASSWORD [plaintext-ok] | peer auth PEER none */
static int cmd_peer_auth(int argc, char **argv)
{
    int p = cmd_auth_peer(argv[0]);
    if (p < 0) {
        return CON_ERR_FAIL;
    }
    peertls_t *t = peertls_get((unsigned)p);
    if (argc == 2) {
        if (strcmp(argv[1], "none") != 0) {
            return CON_ERR_USAGE;
        }
        sasl_wipe(t->user, sizeof(t->user));
        sasl_wipe(t->pass, sizeof(t->pass));
        t->plaintext_ok = false;
        peertls_changed(t);
        return 0;
    }
    if (argc == 4 && strcmp(argv[3], "plaintext-ok") != 0) {
        return CON_ERR_USAGE;
    }
    size_t ul = strlen(argv[1]), pl = strlen(argv[2]);
    if (ul >= PEERTLS_USER_MAX || pl == 0 || pl >= PEERTLS_PASS_MAX) {
        con_error("user up to %u and password 1-%u characters", (unsigned)PEERTLS_USER_MAX - 1,
                  (unsigned)PEERTLS_PASS_MAX - 1);
        sasl_wipe(argv[2], pl);
        return CON_ERR_FAIL;
    }
    memcpy(t->user, argv[1], ul + 1);
    memcpy(t->pass, argv[2], pl + 1);
    sasl_wipe(argv[2], pl);
    t->plaintext_ok = argc == 4;
    peertls_changed(t);
    return 0;
}

/* ---- running-config ---------------------------------------------------------- */

void cmd_auth_emit_config(con_emit_fn emit, void *ctx, bool show_secrets)
{
    for (int i = users_next(-1); i >= 0; i = users_next(i)) {
        char t[PWHASH_TEXT_MAX];
        pwhash_to_text(users_hash(i), t);
        /* the salt and hash: a hash lets an attacker guess offline */
        emit(ctx, "user hash %s %s\n", users_name(i), show_secrets ? t : CON_HIDDEN);
    }
}

void cmd_auth_emit_peers(con_emit_fn emit, void *ctx, bool show_secrets)
{
    for (int i = route_peer_next(-1); i >= 0; i = route_peer_next(i)) {
        const char *name = route_peer_get((unsigned)i)->name;
        const peertls_t *t = peertls_get((unsigned)i);
        if (t == NULL) {
            continue;
        }
        if (t->level == PEERTLS_VERIFY) {
            emit(ctx, "peer tls %s verify %s\n", name, t->server_name);
        } else if (t->level == PEERTLS_FINGERPRINT) {
            char hex[65];
            pwhash_hex(hex, t->fp, sizeof(t->fp));
            emit(ctx, "peer tls %s fingerprint %s\n", name, hex);
        } else {
            emit(ctx, "peer tls %s %s\n", name, peertls_level_name(t->level));
        }
        if (t->user[0] != '\0') {
            /* the password, in clear: the device must send it */
            emit(ctx, "peer auth %s %s %s%s\n", name, t->user, show_secrets ? t->pass : CON_HIDDEN,
                 t->plaintext_ok ? " plaintext-ok" : "");
        }
    }
}

bool cmd_auth_hide_config(const char *line, size_t len, con_emit_fn emit, void *ctx)
{
    /* user hash NAME SALT HASH: words 3 and 4; peer auth PEER USER PASSWORD
     * [plaintext-ok]: word 4 */
    return con_hide_words(line, len, "user hash", 3, 4, emit, ctx) ||
           con_hide_words(line, len, "peer auth", 4, 4, emit, ctx);
}

static const con_cmd_t cmd_auth_table[] = {
    { "user add", "NAME PASSWORD", "add an SMTP AUTH user (stored as a salted hash)", cmd_user_add, 2, 2 },
    { "user hash", "NAME SALT HASH", "add a user from a saved hash (running-config)", cmd_user_hash, 3, 3 },
    { "user del", "NAME", "remove an SMTP AUTH user", cmd_user_del, 1, 1 },
    { "show users", "", "SMTP AUTH users", cmd_show_users, 0, 0 },
    { "peer tls", "PEER none|may|encrypt | PEER verify SERVERNAME | PEER fingerprint SHA256",
      "STARTTLS level towards a peer (default may)", cmd_peer_tls, 2, 3 },
    { "peer auth", "PEER USER PASSWORD [plaintext-ok] | PEER none", "SMTP AUTH credentials for a peer",
      cmd_peer_auth, 2, 4 },
    { NULL, NULL, NULL, NULL, 0, 0 },
};

const con_cmd_t *cmd_auth_commands(void)
{
    return cmd_auth_table;
}
