/*
 * tls_hello.c - the hello messages of a TLS handshake: ClientHello (SNI,
 * ALPN, offered versions), ServerHello (version, cipher suite, key-share
 * group, ALPN, HelloRetryRequest) and the TLS <= 1.2 ECDHE
 * ServerKeyExchange that names the group.  Reads through struct cursor:
 * every length is checked against the message bytes kept.
 */
#include "tls_int.h"

#include "../analyzer/cursor.h"

enum {
    EXT_SERVER_NAME = 0,
    EXT_ALPN = 16,
    EXT_ENCRYPT_THEN_MAC = 22,
    EXT_SUPPORTED_VERSIONS = 43,
    EXT_KEY_SHARE = 51,
};

#define EC_CURVE_NAMED 3 /* ECCurveType named_curve (RFC 8422 5.4) */

/* The Random of a HelloRetryRequest (RFC 8446 4.1.3). */
static const uint8_t hrr_random[32] = {
    0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
    0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C,
};

static bool is_grease(uint16_t v)
{
    return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff);
}

/* The next extension of a hello's list: its type and a cursor on its
 * body.  False at the end of the list, or when an extension is cut
 * (*truncated set). */
static bool next_extension(struct cursor *exts, uint16_t *type, struct cursor *body, bool *truncated)
{
    uint16_t len;
    const uint8_t *b;

    if (cursor_left(exts) < 4)
        return false;
    cursor_be16(exts, type);
    cursor_be16(exts, &len);
    b = cursor_take(exts, len);
    if (b == NULL) {
        *truncated = true;
        return false;
    }
    cursor_init(body, b, len);
    return true;
}

void tls_parse_client_hello(struct tls_conn *t, int dir, const uint8_t *p, size_t n, bool trunc)
{
    struct tls_event ev;
    struct cursor c, exts;
    uint16_t ver, cs_len, ext_len;
    uint8_t sid_len, comp_len;
    bool have_sv = false;
    const uint8_t *rnd;

    tls_ev_init(t, dir, &ev, TLS_EV_CLIENT_HELLO);
    ev.truncated = trunc;
    cursor_init(&c, p, n);
    cursor_be16(&c, &ver);
    ev.legacy_version = ver;
    rnd = cursor_take(&c, 32);
    if (rnd != NULL) {
        memcpy(ev.random, rnd, 32);
        ev.have_random = true;
    }
    cursor_u8(&c, &sid_len);
    cursor_skip(&c, sid_len);
    cursor_be16(&c, &cs_len);
    if (cursor_skip(&c, cs_len))
        ev.n_ciphers = cs_len / 2u;
    cursor_u8(&c, &comp_len);
    cursor_skip(&c, comp_len);
    if (!c.bad && cursor_left(&c) >= 2 && cursor_be16(&c, &ext_len)) {
        const uint8_t *eb = cursor_take(&c, ext_len);

        if (eb == NULL) { /* truncated extensions: read what is there */
            eb = cursor_ptr(&c);
            ext_len = (uint16_t)cursor_left(&c);
            ev.truncated = true;
        }
        cursor_init(&exts, eb, ext_len);
        for (;;) {
            uint16_t et;
            struct cursor x;

            if (!next_extension(&exts, &et, &x, &ev.truncated))
                break;
            if (et == EXT_SERVER_NAME && ev.sni == NULL) {
                uint16_t list_len, nl;
                uint8_t nt;

                cursor_be16(&x, &list_len);
                while (!x.bad && cursor_left(&x) >= 3) {
                    const uint8_t *nb;

                    cursor_u8(&x, &nt);
                    cursor_be16(&x, &nl);
                    nb = cursor_take(&x, nl);
                    if (nb == NULL)
                        break;
                    if (nt == 0) {
                        ev.sni = tls_keep_str(t, TLS_SLOT_SNI, nb, nl);
                        break;
                    }
                }
            } else if (et == EXT_ALPN) {
                uint16_t list_len;

                cursor_be16(&x, &list_len);
                while (!x.bad && cursor_left(&x) >= 1 && ev.n_alpn < TLS_MAX_ALPN) {
                    uint8_t pl;
                    const uint8_t *pb;

                    cursor_u8(&x, &pl);
                    pb = cursor_take(&x, pl);
                    if (pb == NULL)
                        break;
                    ev.alpn[ev.n_alpn] = tls_keep_str(t, TLS_SLOT_ALPN0 + (int)ev.n_alpn, pb, pl);
                    ev.n_alpn++;
                }
            } else if (et == EXT_SUPPORTED_VERSIONS) {
                uint8_t vl;
                uint16_t v;

                have_sv = true;
                cursor_u8(&x, &vl);
                while (vl >= 2 && cursor_be16(&x, &v)) {
                    vl = (uint8_t)(vl - 2);
                    if (!is_grease(v) && ev.n_versions < TLS_MAX_VERSIONS)
                        ev.versions[ev.n_versions++] = v;
                }
            }
        }
    } else if (c.bad) {
        ev.truncated = true;
    }
    if (!have_sv && ev.n_versions == 0 && ver != 0)
        ev.versions[ev.n_versions++] = ver;
    tls_emit(t, &ev);
}

void tls_parse_server_hello(struct tls_conn *t, int dir, const uint8_t *p, size_t n, bool trunc)
{
    struct tls_event ev;
    struct cursor c;
    uint16_t ver, cipher, ext_len;
    uint8_t sid_len, comp;
    const uint8_t *rnd;

    tls_ev_init(t, dir, &ev, TLS_EV_SERVER_HELLO);
    ev.truncated = trunc;
    cursor_init(&c, p, n);
    cursor_be16(&c, &ver);
    ev.legacy_version = ver;
    ev.version = ver;
    rnd = cursor_take(&c, 32);
    if (rnd != NULL) {
        memcpy(ev.random, rnd, 32);
        ev.have_random = true;
    }
    if (rnd != NULL && memcmp(rnd, hrr_random, sizeof(hrr_random)) == 0)
        ev.hello_retry = true;
    cursor_u8(&c, &sid_len);
    cursor_skip(&c, sid_len);
    cursor_be16(&c, &cipher);
    ev.cipher = cipher;
    cursor_u8(&c, &comp);
    if (!c.bad && cursor_left(&c) >= 2 && cursor_be16(&c, &ext_len)) {
        struct cursor exts;
        const uint8_t *eb = cursor_take(&c, ext_len);

        if (eb == NULL) {
            eb = cursor_ptr(&c);
            ext_len = (uint16_t)cursor_left(&c);
            ev.truncated = true;
        }
        cursor_init(&exts, eb, ext_len);
        for (;;) {
            uint16_t et, v, list_len;
            uint8_t pl;
            struct cursor x;
            const uint8_t *pb;

            if (!next_extension(&exts, &et, &x, &ev.truncated))
                break;
            if (et == EXT_SUPPORTED_VERSIONS && cursor_be16(&x, &v)) {
                ev.version = v;
            } else if (et == EXT_ENCRYPT_THEN_MAC) {
                ev.encrypt_then_mac = true;
            } else if (et == EXT_KEY_SHARE && cursor_be16(&x, &v)) {
                /* SH: KeyShareEntry (group first); HRR: selected_group */
                ev.group = v;
                ev.have_group = true;
            } else if (et == EXT_ALPN && ev.n_alpn == 0) {
                cursor_be16(&x, &list_len);
                cursor_u8(&x, &pl);
                pb = cursor_take(&x, pl);
                if (pb != NULL)
                    ev.alpn[ev.n_alpn++] = tls_keep_str(t, TLS_SLOT_ALPN0, pb, pl);
            }
        }
    } else if (c.bad) {
        ev.truncated = true;
    }
    if (!ev.hello_retry) {
        t->version = ev.version;
        t->cipher = ev.cipher;
    } else
        t->hrr = true;
    tls_emit(t, &ev);
    if (ev.version == 0x0304 && !ev.hello_retry) {
        struct tls_event he;

        t->d[dir].encrypted = true;
        tls_ev_init(t, dir, &he, TLS_EV_HANDSHAKE_ENCRYPTED);
        he.version = ev.version;
        tls_emit(t, &he);
    }
}

/* Suites whose ServerKeyExchange starts with ECParameters (RFC 8422 5.4):
 * ECDHE and ECDH_anon with ECDSA/RSA keys, AES/ARIA/Camellia/CCM/ChaCha. */
static bool cipher_ecdhe_ske(uint16_t c)
{
    return (c >= 0xc006 && c <= 0xc00a) ||  /* ECDHE_ECDSA  NULL..AES_256_CBC_SHA */
           (c >= 0xc010 && c <= 0xc019) ||  /* ECDHE_RSA, ECDH_anon */
           c == 0xc023 || c == 0xc024 || c == 0xc027 || c == 0xc028 || /* CBC SHA-2 */
           c == 0xc02b || c == 0xc02c || c == 0xc02f || c == 0xc030 || /* GCM */
           (c >= 0xc0ac && c <= 0xc0af) ||  /* ECDHE_ECDSA CCM */
           c == 0xcca8 || c == 0xcca9;      /* ChaCha20-Poly1305 */
}

/* TLS <= 1.2 ServerKeyExchange of an ECDHE suite: ECParameters come first;
 * only a named_curve names a group.  Anything else is ignored, never an error. */
void tls_parse_server_key_exchange(struct tls_conn *t, int dir, const uint8_t *p, size_t n)
{
    struct tls_event ev;
    struct cursor c;
    uint8_t curve_type;
    uint16_t group;

    if (t->version == 0x0304 || !cipher_ecdhe_ske(t->cipher))
        return;
    cursor_init(&c, p, n);
    if (!cursor_u8(&c, &curve_type) || curve_type != EC_CURVE_NAMED || !cursor_be16(&c, &group))
        return;
    tls_ev_init(t, dir, &ev, TLS_EV_KEY_EXCHANGE);
    ev.version = t->version;
    ev.cipher = t->cipher;
    ev.group = group;
    ev.have_group = true;
    tls_emit(t, &ev);
}
