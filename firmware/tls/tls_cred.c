/* The TLS module and its credentials (see tls.h): the arena and random
 * generator, certificates and keys per netif, CA certificates, their flash
 * blobs (tlsstore.h), status.  The sessions are tls_altcp.c. */
#include "tls/tls.h"
#include "tls/tls_priv.h"

#include <string.h>

#include "board.h"
#include "lib/twoslot.h"
#include "lib/clock.h"
#include "lib/date.h"
#include "evt/evt.h"
#include "lib/fmt.h"
#include "lib/sasl.h"
#include "tls/tlsstore.h"
#include "mbedtls/ctr_drbg.h"
#include "mbedtls/ecp.h"
#include "mbedtls/entropy.h"
#include "mbedtls/memory_buffer_alloc.h"
#include "mbedtls/net_sockets.h" /* MBEDTLS_ERR_NET_* codes only */
#include "mbedtls/oid.h"
#include "mbedtls/pem.h"
#include "mbedtls/pk.h"
#include "mbedtls/sha256.h"
#include "mbedtls/ssl.h"
#include "mbedtls/x509_crt.h"

/* ---- state ------------------------------------------------------------------ */

typedef struct {
    bool has;
    bool self_signed;
    mbedtls_x509_crt crt;
    mbedtls_pk_context key;
    mbedtls_ssl_config conf;
} tls_cred_t;

#define TLS_BLOB_MAX TWOSLOT_MAX /* what the two-slot store saves in one slot (3.5 KiB) */

static uint8_t arena[TLS_ARENA_SIZE] __attribute__((aligned(8)));
static mbedtls_entropy_context entropy;
static mbedtls_ctr_drbg_context drbg;
static bool ready;
static tls_cred_t creds[NIF_MAX];
static tls_netif_fn tls_netifs;

/* Interface i's name and hostname; false if there is none. */
static bool tls_netif(uint8_t i, const char **name, const char **host)
{
    return i < NIF_MAX && tls_netifs != NULL && tls_netifs(i, name, host);
}
static mbedtls_ssl_config client_conf;
static mbedtls_x509_crt cas;
static bool cas_init;
/* The one working buffer, used in turn as: the console's PEM paste buffer,
 * the certificate writer's output, and the flash blob being read or edited
 * (work_len bytes).  Each user is done before the next starts: pasted PEM and
 * written DER are parsed into the arena before a blob is loaded over them.
 * The credentials themselves live in flash and, parsed, in the arena. */
static uint8_t work[TLS_PASTE_MAX];
static size_t work_len;
_Static_assert(TLS_PASTE_MAX >= TLS_BLOB_MAX, "the work buffer holds a whole blob");

/* Key exchange groups, fastest first: x25519, then the NIST curves that
 * peers without x25519 offer.  (mbedTLS's default order starts with the
 * slowest, P-384.) */
static const mbedtls_ecp_group_id tls_curves[] = {
    MBEDTLS_ECP_DP_CURVE25519,
    MBEDTLS_ECP_DP_SECP256R1,
    MBEDTLS_ECP_DP_SECP384R1,
    MBEDTLS_ECP_DP_NONE,
};

static const int tls_suites[] = {
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    MBEDTLS_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    0,
};

/* ---- flash blobs -------------------------------------------------------------- */

/* Load partition part_name's blob into work: 0 (an empty blob when none
 * was ever saved), or TLS_ERR_FLASH when the board has no such partition. */
static int blob_load(const char *part_name)
{
    const flash_part_t *part = board_flash_partition(part_name);
    work_len = 0;
    if (part == NULL) {
        return TLS_ERR_FLASH;
    }
    size_t n = 0;
    uint32_t seq;
    twoslot_info_t info;
    if (twoslot_load(part, work, TLS_BLOB_MAX, &n, &seq, &info) == TWOSLOT_OK) {
        work_len = n;
    }
    return 0;
}

/* A tlsstore_del result that leaves the blob usable: removed, or there was
 * nothing to remove. */
static bool blob_del_ok(int r)
{
    return r == TLSSTORE_OK || r == TLSSTORE_ERR_NOTFOUND;
}

/* Save work[0..work_len) atomically: 0 or TLS_ERR_FLASH. */
static int blob_save(const char *part_name)
{
    const flash_part_t *part = board_flash_partition(part_name);
    twoslot_info_t info;
    return part != NULL && twoslot_save(part, work, work_len, &info) == TWOSLOT_OK ? 0 : TLS_ERR_FLASH;
}

/* ---- entropy seed (MBEDTLS_ENTROPY_NV_SEED hooks) ---------------------------------- */

int tls_seed_read(unsigned char *buf, size_t len)
{
    tlsstore_rec_t r;
    if (blob_load("tls") == 0 && tlsstore_find(work, work_len, TLSSTORE_SEED, "", &r) == TLSSTORE_OK &&
        r.len >= len) {
        memcpy(buf, r.data, len);
        sasl_wipe(work, sizeof(work));
        return (int)len;
    }
    /* First boot: no seed yet; start from the board source alone. */
    return board_entropy(buf, len) == 0 ? (int)len : -1;
}

int tls_seed_write(unsigned char *buf, size_t len)
{
    int r = blob_load("tls");
    if (r == 0 && tlsstore_put(work, &work_len, TLS_BLOB_MAX, TLSSTORE_SEED, "", buf, len) == TLSSTORE_OK) {
        r = blob_save("tls");
    }
    sasl_wipe(work, sizeof(work));
    return r == 0 ? (int)len : -1;
}

/* ---- errors ---------------------------------------------------------------------------- */

const char *tls_error_text(int err)
{
    switch (err) {
    case TLS_ERR_NOCERT: return "no certificate";
    case TLS_ERR_TIMEOUT: return "handshake timeout";
    case TLS_ERR_STATE: return "bad state";
    case TLS_ERR_BUSY: return "TLS sessions in use, try again when they end";
    case TLS_ERR_FLASH: return "flash write failed: active until reboot only";
    case TLS_ERR_STORE: return "TLS flash records unreadable: nothing changed";
    case MBEDTLS_ERR_SSL_FEATURE_UNAVAILABLE: return "TLS not available with this peer";
    case MBEDTLS_ERR_X509_BUFFER_TOO_SMALL: return "too large for the TLS flash partition";
    case MBEDTLS_ERR_SSL_ALLOC_FAILED: return "out of TLS memory";
    case MBEDTLS_ERR_SSL_NO_CIPHER_CHOSEN: return "no common cipher suite";
    case MBEDTLS_ERR_SSL_NO_USABLE_CIPHERSUITE: return "no usable cipher suite";
    case MBEDTLS_ERR_SSL_BAD_HS_PROTOCOL_VERSION: return "protocol version";
    case MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE: return "fatal alert from peer";
    case MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY: return "peer closed";
    case MBEDTLS_ERR_SSL_INVALID_MAC: return "bad record MAC";
    case MBEDTLS_ERR_SSL_INVALID_RECORD: return "invalid record";
    case MBEDTLS_ERR_SSL_BAD_HS_CLIENT_HELLO: return "bad ClientHello";
    case MBEDTLS_ERR_SSL_BAD_HS_SERVER_HELLO: return "bad ServerHello";
    case MBEDTLS_ERR_SSL_BAD_HS_CERTIFICATE: return "bad certificate message";
    case MBEDTLS_ERR_SSL_PK_TYPE_MISMATCH: return "key type mismatch";
    case MBEDTLS_ERR_X509_CERT_VERIFY_FAILED: return "certificate verification failed";
    case MBEDTLS_ERR_X509_INVALID_FORMAT: return "invalid certificate format";
    case MBEDTLS_ERR_PEM_NO_HEADER_FOOTER_PRESENT: return "no PEM block";
    case MBEDTLS_ERR_PK_KEY_INVALID_FORMAT: return "invalid key format";
    case MBEDTLS_ERR_PK_PASSWORD_REQUIRED: return "encrypted key (not supported)";
    case MBEDTLS_ERR_PK_BAD_INPUT_DATA: return "key does not match certificate";
    case MBEDTLS_ERR_NET_CONN_RESET: return "connection reset";
    default: return NULL;
    }
}

/* ---- credentials --------------------------------------------------------------------- */

/* Split a DER chain (concatenated certificates) into crt. */
static int parse_der_chain(mbedtls_x509_crt *crt, const uint8_t *der, size_t len)
{
    size_t off = 0;
    while (off < len) {
        const uint8_t *p = der + off;
        unsigned char *q = (unsigned char *)p;
        size_t l;
        int r = mbedtls_asn1_get_tag(&q, der + len, &l, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE);
        if (r != 0) {
            return r;
        }
        size_t total = (size_t)(q - p) + l;
        r = mbedtls_x509_crt_parse_der(crt, p, total);
        if (r != 0) {
            return r;
        }
        off += total;
    }
    return off == 0 ? MBEDTLS_ERR_X509_INVALID_FORMAT : 0;
}

static void cred_free(tls_cred_t *c)
{
    if (c->has) {
        mbedtls_ssl_config_free(&c->conf);
        mbedtls_x509_crt_free(&c->crt);
        mbedtls_pk_free(&c->key);
    }
    c->has = false;
}

/* (Re)build netif i's credentials and server configuration from flash. */
static int cred_load(uint8_t i)
{
    tls_cred_t *c = &creds[i];
    const char *name, *host;
    cred_free(c);
    if (!tls_netif(i, &name, &host)) {
        return TLS_ERR_NOCERT;
    }
    tlsstore_rec_t rc, rk;
    if (blob_load("tls") != 0 || tlsstore_find(work, work_len, TLSSTORE_CERT, name, &rc) != TLSSTORE_OK ||
        tlsstore_find(work, work_len, TLSSTORE_KEY, name, &rk) != TLSSTORE_OK) {
        return TLS_ERR_NOCERT;
    }
    mbedtls_x509_crt_init(&c->crt);
    mbedtls_pk_init(&c->key);
    mbedtls_ssl_config_init(&c->conf);
    c->has = true;
    int r = parse_der_chain(&c->crt, rc.data, rc.len);
    if (r == 0) {
        r = mbedtls_pk_parse_key(&c->key, rk.data, rk.len, NULL, 0);
    }
    if (r == 0) {
        r = mbedtls_ssl_config_defaults(&c->conf, MBEDTLS_SSL_IS_SERVER, MBEDTLS_SSL_TRANSPORT_STREAM,
                                        MBEDTLS_SSL_PRESET_DEFAULT);
    }
    if (r == 0) {
        mbedtls_ssl_conf_rng(&c->conf, mbedtls_ctr_drbg_random, &drbg);
        mbedtls_ssl_conf_authmode(&c->conf, MBEDTLS_SSL_VERIFY_NONE);
        mbedtls_ssl_conf_ciphersuites(&c->conf, tls_suites);
        mbedtls_ssl_conf_curves(&c->conf, tls_curves);
        r = mbedtls_ssl_conf_own_cert(&c->conf, &c->crt, &c->key);
    }
    sasl_wipe(work, sizeof(work)); /* the key's DER */
    if (r != 0) {
        cred_free(c);
        return r;
    }
    c->self_signed = c->crt.next == NULL &&
                     c->crt.issuer_raw.len == c->crt.subject_raw.len &&
                     memcmp(c->crt.issuer_raw.p, c->crt.subject_raw.p, c->crt.subject_raw.len) == 0;
    return 0;
}

static void ca_reload(void)
{
    if (cas_init) {
        mbedtls_x509_crt_free(&cas);
    }
    mbedtls_x509_crt_init(&cas);
    cas_init = true;
    size_t pos = 0;
    tlsstore_rec_t r;
    if (blob_load("tlsca") == 0) {
        while (tlsstore_next(work, work_len, &pos, &r) == 1) {
            if (r.type == TLSSTORE_CA) {
                (void)mbedtls_x509_crt_parse_der(&cas, r.data, r.len);
            }
        }
    }
    mbedtls_ssl_conf_ca_chain(&client_conf, cas.raw.p != NULL ? &cas : NULL, NULL);
}

/* "YYYYMMDDhhmmss" for an epoch (the certificate writer's format). */
static void x509_time(uint32_t epoch, char out[15])
{
    int y;
    unsigned m, d;
    date_civil_from_days((int32_t)(epoch / 86400u), &y, &m, &d);
    uint32_t s = epoch % 86400u;
    fmt_snprintf(out, 15, "%04d%02u%02u%02lu%02lu%02lu", y, m, d, (unsigned long)(s / 3600u),
                 (unsigned long)(s / 60u % 60u), (unsigned long)(s % 60u));
}

static bool conf_busy(const mbedtls_ssl_config *conf)
{
    return tls_sess_conf_busy(conf);
}

const mbedtls_ssl_config *tls_cred_conf(bool server, uint8_t netif)
{
    if (!ready) {
        return NULL;
    }
    if (!server) {
        return &client_conf;
    }
    return netif < NIF_MAX && creds[netif].has ? &creds[netif].conf : NULL;
}

/* Store a parsed chain and key for netif i in flash, then load them for
 * use.  Everything is checked before anything is written, so a pair that
 * does not fit changes nothing.  The key's DER is produced at the end of the
 * work buffer, past the blob, and moved into its record. */
static int cred_store(uint8_t i, const mbedtls_x509_crt *chain, mbedtls_pk_context *key)
{
    const char *name, *host;
    if (!tls_netif(i, &name, &host)) {
        return TLS_ERR_STATE;
    }
    if (conf_busy(&creds[i].conf)) {
        return TLS_ERR_BUSY;
    }
    int r = blob_load("tls");
    if (r != 0) {
        return r;
    }
    /* The old pair goes first (none on a first boot); a blob that cannot be
     * walked is not written over. */
    if (!blob_del_ok(tlsstore_del(work, &work_len, TLSSTORE_CERT, name)) ||
        !blob_del_ok(tlsstore_del(work, &work_len, TLSSTORE_KEY, name))) {
        sasl_wipe(work, sizeof(work));
        return TLS_ERR_STORE;
    }
    size_t chain_len = 0;
    for (const mbedtls_x509_crt *c = chain; c != NULL && c->raw.p != NULL; c = c->next) {
        chain_len += c->raw.len;
    }
    int kl = mbedtls_pk_write_key_der(key, work + work_len, sizeof(work) - work_len);
    if (kl < 0) {
        sasl_wipe(work, sizeof(work));
        return kl;
    }
    size_t nl = strlen(name);
    if (work_len + (4u + nl + chain_len) + (4u + nl + (size_t)kl) > TLS_BLOB_MAX || chain_len > 0xFFFFu) {
        sasl_wipe(work, sizeof(work));
        return MBEDTLS_ERR_X509_BUFFER_TOO_SMALL;
    }
    uint8_t *d = tlsstore_append(work, &work_len, TLS_BLOB_MAX, TLSSTORE_CERT, name, chain_len);
    for (const mbedtls_x509_crt *c = chain; d != NULL && c != NULL && c->raw.p != NULL; c = c->next) {
        memcpy(d, c->raw.p, c->raw.len);
        d += c->raw.len;
    }
    /* The record header ends before the key DER starts (checked above). */
    uint8_t *k = d != NULL ? tlsstore_append(work, &work_len, TLS_BLOB_MAX, TLSSTORE_KEY, name, (size_t)kl) : NULL;
    if (k == NULL) {
        /* Refused despite the room check: nothing is saved, the pair in
         * flash and in use stays. */
        sasl_wipe(work, sizeof(work));
        return MBEDTLS_ERR_X509_BUFFER_TOO_SMALL;
    }
    memmove(k, work + sizeof(work) - kl, (size_t)kl);
    int saved = blob_save("tls");
    sasl_wipe(work, sizeof(work));
    r = cred_load(i);
    return r != 0 ? r : saved;
}

int tls_generate_cert(uint8_t i)
{
    const char *name, *host;
    if (!ready || !tls_netif(i, &name, &host)) {
        return TLS_ERR_STATE;
    }
    (void)name;
    host = host[0] != '\0' ? host : "mta.invalid";
    mbedtls_pk_context key;
    mbedtls_x509write_cert w;
    mbedtls_mpi serial;
    mbedtls_pk_init(&key);
    mbedtls_x509write_crt_init(&w);
    mbedtls_mpi_init(&serial);
    int clen = 0;
    int r = mbedtls_pk_setup(&key, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY));
    if (r == 0) {
        r = mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(key), mbedtls_ctr_drbg_random, &drbg);
    }
    if (r == 0) {
        uint8_t sn[16];
        r = mbedtls_ctr_drbg_random(&drbg, sn, sizeof(sn));
        sn[0] &= 0x7Fu; /* a positive INTEGER */
        sn[0] |= 0x01u;
        if (r == 0) {
            r = mbedtls_mpi_read_binary(&serial, sn, sizeof(sn));
        }
    }
    char dn[NIF_HOSTNAME_MAX + 24];
    fmt_snprintf(dn, sizeof(dn), "CN=%s", host);
    char nb[15], na[15];
    uint32_t now = clock_now();
    x509_time(now - 86400u, nb);
    x509_time(now + 3650u * 86400u, na);
    /* subjectAltName: SEQUENCE { [2] dNSName } (RFC 5280 4.2.1.6) */
    uint8_t san[4 + NIF_HOSTNAME_MAX];
    size_t hl = strlen(host);
    san[0] = 0x30;
    san[1] = (uint8_t)(hl + 2);
    san[2] = 0x82;
    san[3] = (uint8_t)hl;
    memcpy(san + 4, host, hl);
    if (r == 0) {
        mbedtls_x509write_crt_set_version(&w, MBEDTLS_X509_CRT_VERSION_3);
        mbedtls_x509write_crt_set_md_alg(&w, MBEDTLS_MD_SHA256);
        mbedtls_x509write_crt_set_subject_key(&w, &key);
        mbedtls_x509write_crt_set_issuer_key(&w, &key);
        r = mbedtls_x509write_crt_set_subject_name(&w, dn);
    }
    if (r == 0) {
        r = mbedtls_x509write_crt_set_issuer_name(&w, dn);
    }
    if (r == 0) {
        r = mbedtls_x509write_crt_set_serial(&w, &serial);
    }
    if (r == 0) {
        r = mbedtls_x509write_crt_set_validity(&w, nb, na);
    }
    if (r == 0) {
        r = mbedtls_x509write_crt_set_basic_constraints(&w, 0, -1);
    }
    if (r == 0) {
        r = mbedtls_x509write_crt_set_key_usage(&w, MBEDTLS_X509_KU_DIGITAL_SIGNATURE);
    }
    if (r == 0) {
        r = mbedtls_x509write_crt_set_extension(&w, MBEDTLS_OID_SUBJECT_ALT_NAME,
                                                MBEDTLS_OID_SIZE(MBEDTLS_OID_SUBJECT_ALT_NAME), 0, san,
                                                hl + 4);
    }
    mbedtls_x509_crt crt;
    mbedtls_x509_crt_init(&crt);
    if (r == 0) {
        /* The writer fills the buffer from its end. */
        clen = mbedtls_x509write_crt_der(&w, work, sizeof(work), mbedtls_ctr_drbg_random, &drbg);
        r = clen < 0 ? clen : mbedtls_x509_crt_parse_der(&crt, work + sizeof(work) - clen, (size_t)clen);
    }
    if (r == 0) {
        r = cred_store(i, &crt, &key);
    }
    mbedtls_x509_crt_free(&crt);
    mbedtls_mpi_free(&serial);
    mbedtls_x509write_crt_free(&w);
    mbedtls_pk_free(&key);
    evt_log(r == 0 ? EVT_TLS_CERT_GENERATED : EVT_TLS_CERT_ERROR, i, (uint32_t)(r < 0 ? -r : r));
    return r;
}

int tls_ensure_certs(void)
{
    int first = 0;
    const char *name, *host;
    for (uint8_t i = 0; tls_netif(i, &name, &host); i++) {
        if (!creds[i].has) {
            int r = cred_load(i);
            if (r == TLS_ERR_NOCERT) {
                r = tls_generate_cert(i);
            }
            if (r != 0 && first == 0) {
                first = r;
            }
        }
    }
    return first;
}

int tls_set_cert_pem(uint8_t i, const char *pem, size_t len)
{
    const char *name, *host;
    if (!ready || !tls_netif(i, &name, &host)) {
        return TLS_ERR_STATE;
    }
    mbedtls_x509_crt chain;
    mbedtls_pk_context key;
    mbedtls_x509_crt_init(&chain);
    mbedtls_pk_init(&key);
    /* Both parsers want the NUL in the length for PEM input. */
    int r = mbedtls_x509_crt_parse(&chain, (const unsigned char *)pem, len + 1);
    if (r > 0) {
        r = MBEDTLS_ERR_X509_INVALID_FORMAT; /* some certificate in the paste failed */
    }
    if (r == 0) {
        r = mbedtls_pk_parse_key(&key, (const unsigned char *)pem, len + 1, NULL, 0);
    }
    if (r == 0) {
        r = mbedtls_pk_check_pair(&chain.pk, &key);
    }
    /* pem may be the work buffer: it is fully parsed by now. */
    if (r == 0) {
        r = cred_store(i, &chain, &key);
    }
    sasl_wipe(work, sizeof(work));
    mbedtls_pk_free(&key);
    mbedtls_x509_crt_free(&chain);
    return r;
}

char *tls_paste_buffer(size_t *cap)
{
    *cap = sizeof(work);
    return (char *)work;
}

int tls_ca_add_pem(const char *name, const char *pem, size_t len)
{
    if (!ready) {
        return TLS_ERR_STATE;
    }
    size_t nl = strlen(name);
    if (nl == 0 || nl >= TLS_CA_NAME_MAX) {
        return TLS_ERR_STATE;
    }
    if (conf_busy(&client_conf)) {
        return TLS_ERR_BUSY;
    }
    mbedtls_x509_crt crt;
    mbedtls_x509_crt_init(&crt);
    int r = mbedtls_x509_crt_parse(&crt, (const unsigned char *)pem, len + 1);
    if (r > 0) {
        r = MBEDTLS_ERR_X509_INVALID_FORMAT;
    }
    /* The PEM (perhaps in work) is parsed: the blob may be loaded now. */
    if (r == 0) {
        r = blob_load("tlsca");
    }
    if (r == 0) {
        unsigned n = 0;
        size_t pos = 0;
        tlsstore_rec_t rec;
        bool replace = tlsstore_find(work, work_len, TLSSTORE_CA, name, &rec) == TLSSTORE_OK;
        while (tlsstore_next(work, work_len, &pos, &rec) == 1) {
            n++;
        }
        if (!replace && n >= TLS_MAX_CA) {
            r = MBEDTLS_ERR_X509_BUFFER_TOO_SMALL;
        } else {
            int p = tlsstore_put(work, &work_len, TLS_BLOB_MAX, TLSSTORE_CA, name, crt.raw.p, crt.raw.len);
            r = p == TLSSTORE_OK ? 0 : p == TLSSTORE_ERR_SPACE ? MBEDTLS_ERR_X509_BUFFER_TOO_SMALL : TLS_ERR_STORE;
        }
    }
    mbedtls_x509_crt_free(&crt);
    if (r == 0) {
        r = blob_save("tlsca");
        ca_reload();
    }
    return r;
}

int tls_ca_del(const char *name)
{
    if (conf_busy(&client_conf)) {
        return TLS_ERR_BUSY;
    }
    if (blob_load("tlsca") != 0) {
        return TLS_ERR_STATE; /* no CA partition: no such CA */
    }
    int d = tlsstore_del(work, &work_len, TLSSTORE_CA, name);
    if (d != TLSSTORE_OK) {
        return d == TLSSTORE_ERR_NOTFOUND ? TLS_ERR_STATE : TLS_ERR_STORE;
    }
    int r = blob_save("tlsca");
    ca_reload();
    return r;
}

int tls_erase_stored(void)
{
    int r = 0;
    static const char *const parts[] = { "tls", "tlsca" };
    for (unsigned i = 0; i < 2; i++) {
        const flash_part_t *part = board_flash_partition(parts[i]);
        if (part != NULL && twoslot_erase(part) != TWOSLOT_OK) {
            r = TLS_ERR_FLASH;
        }
    }
    return r;
}

/* ---- module ------------------------------------------------------------------------------ */

_Static_assert(TLS_ERR_UNAVAILABLE == MBEDTLS_ERR_SSL_FEATURE_UNAVAILABLE, "tls.h mirrors mbedTLS");
_Static_assert(TLS_ERR_CERT_REJECTED == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED, "tls.h mirrors mbedTLS");

int tls_init(tls_netif_fn netifs)
{
    tls_netifs = netifs;
    ready = false;
    mbedtls_memory_buffer_alloc_init(arena, sizeof(arena));
    mbedtls_entropy_init(&entropy);
    mbedtls_ctr_drbg_init(&drbg);
    static const char pers[] = "gateway-mta";
    /* The first draw reads the flash seed, mixes the board source and
     * writes a fresh seed back (MBEDTLS_ENTROPY_NV_SEED). */
    int r = mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy, (const unsigned char *)pers,
                                  sizeof(pers) - 1);
    if (r == 0) {
        mbedtls_ssl_config_init(&client_conf);
        r = mbedtls_ssl_config_defaults(&client_conf, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
                                        MBEDTLS_SSL_PRESET_DEFAULT);
    }
    if (r == 0) {
        mbedtls_ssl_conf_rng(&client_conf, mbedtls_ctr_drbg_random, &drbg);
        /* tls_altcp.c judges the result by the peer's level (verify,
         * fingerprint) once the handshake is done, so the handshake itself
         * never stops on it. */
        mbedtls_ssl_conf_authmode(&client_conf, MBEDTLS_SSL_VERIFY_OPTIONAL);
        mbedtls_ssl_conf_ciphersuites(&client_conf, tls_suites);
        mbedtls_ssl_conf_curves(&client_conf, tls_curves);
        ca_reload();
        ready = true;
    }
    if (r == 0) {
        evt_log(EVT_TLS_READY, EVT_SRC_NONE, (uint32_t)sizeof(arena));
    } else {
        evt_log(EVT_TLS_INIT_FAIL, EVT_SRC_NONE, (uint32_t)(-r));
    }
    return r;
}

bool tls_ready(void)
{
    return ready;
}

bool tls_can_serve(uint8_t netif)
{
    return ready && netif < NIF_MAX && creds[netif].has;
}

/* ---- status ---------------------------------------------------------------------------- */

static void crt_not_after(const mbedtls_x509_crt *c, char *buf, size_t n)
{
    fmt_snprintf(buf, n, "%04d-%02d-%02d", c->valid_to.year, c->valid_to.mon, c->valid_to.day);
}

bool tls_cert_info(uint8_t i, char *subject, size_t slen, uint8_t fp[TLS_FP_LEN], char *not_after, size_t nlen,
                   bool *self_signed)
{
    if (i >= NIF_MAX || !creds[i].has) {
        return false;
    }
    const mbedtls_x509_crt *c = &creds[i].crt;
    if (mbedtls_x509_dn_gets(subject, slen, &c->subject) < 0) {
        fmt_snprintf(subject, slen, "?");
    }
    mbedtls_sha256_ret(c->raw.p, c->raw.len, fp, 0);
    crt_not_after(c, not_after, nlen);
    *self_signed = creds[i].self_signed;
    return true;
}

bool tls_ca_info(unsigned i, char *name, size_t nmlen, char *subject, size_t slen, char *not_after, size_t nlen)
{
    size_t pos = 0;
    tlsstore_rec_t r;
    unsigned k = 0;
    if (blob_load("tlsca") != 0) {
        return false;
    }
    while (tlsstore_next(work, work_len, &pos, &r) == 1) {
        if (r.type != TLSSTORE_CA || k++ != i) {
            continue;
        }
        size_t nl = r.name_len < nmlen - 1 ? r.name_len : nmlen - 1;
        memcpy(name, r.name, nl);
        name[nl] = '\0';
        mbedtls_x509_crt c;
        mbedtls_x509_crt_init(&c);
        if (mbedtls_x509_crt_parse_der(&c, r.data, r.len) != 0 || mbedtls_x509_dn_gets(subject, slen, &c.subject) < 0) {
            fmt_snprintf(subject, slen, "(unparsable)");
            fmt_snprintf(not_after, nlen, "-");
        } else {
            crt_not_after(&c, not_after, nlen);
        }
        mbedtls_x509_crt_free(&c);
        return true;
    }
    return false;
}
