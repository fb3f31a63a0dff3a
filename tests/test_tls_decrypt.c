/*
 * test_tls_decrypt.c - unit tests for analyzer/keylog.c and
 * dissectors/tls_decrypt.c, tls13_decrypt.c and tls12_decrypt.c.
 *
 * The TLS 1.3 key schedule and record protection are checked against the
 * published RFC 8448 section 3 trace (tests/rfc8448.h): every
 * HKDF-Expand-Label derivation, then the whole connection fed to the
 * engine (ServerHello through dissectors/tls.c, the server's encrypted
 * flight, the client's Finished, NewSessionTicket, application data both
 * ways, close_notify both ways), whole and in every chunking up to 9
 * bytes.  Then what must stop decryption: a wrong secret, a tampered
 * record, a missing secret, an unsupported suite, garbage, oversized and
 * short records, gaps, the connection cap.  The TLS 1.2 PRF is checked
 * against published P_SHA256/P_SHA384 vectors.  The key log reader is
 * checked on comments, line endings, case, malformed and ignored lines,
 * duplicates and conflicts, a growing file with its rate limit, the
 * permission warning, DSB payloads and a large table.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../analyzer/keylog.h"
#include "../dissectors/tls.h"
#include "../dissectors/tls_decrypt.h"
#include "check.h"
#include "rfc8448.h"

static size_t hx(const char *s, uint8_t *out, size_t cap)
{
    size_t n = 0;
    int half = -1;

    for (; *s != '\0'; s++) {
        int v;

        if (*s >= '0' && *s <= '9')
            v = *s - '0';
        else if (*s >= 'a' && *s <= 'f')
            v = *s - 'a' + 10;
        else if (*s >= 'A' && *s <= 'F')
            v = *s - 'A' + 10;
        else
            continue;
        if (half < 0) {
            half = v;
        } else {
            if (n < cap)
                out[n] = (uint8_t)(half << 4 | v);
            n++;
            half = -1;
        }
    }
    return n;
}

/* Hex without spaces, as a key log writes it. */
static void hexstr(const char *spaced, char *out)
{
    uint8_t b[64];
    size_t n = hx(spaced, b, sizeof(b)), i;

    for (i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", b[i]);
    out[2 * n] = '\0';
}

static int eq_hex(const uint8_t *got, size_t n, const char *want)
{
    uint8_t w[256];
    size_t wn = hx(want, w, sizeof(w));

    return wn == n && memcmp(got, w, n) == 0;
}

/* ---- recorder ---------------------------------------------------------- */

#define MAX_EV 64

struct rec {
    uint8_t data[2][4096];
    size_t n[2];
    struct tls_decrypt_event ev[MAX_EV];
    char reason[MAX_EV][128];
    int n_ev;
};

static void on_data(void *user, int dir, const uint8_t *p, size_t n)
{
    struct rec *r = user;

    if (r->n[dir] + n <= sizeof(r->data[dir])) {
        memcpy(r->data[dir] + r->n[dir], p, n);
        r->n[dir] += n;
    }
}

static void on_event(void *user, const struct tls_decrypt_event *ev)
{
    struct rec *r = user;

    if (r->n_ev < MAX_EV) {
        r->ev[r->n_ev] = *ev;
        snprintf(r->reason[r->n_ev], sizeof(r->reason[0]), "%s", ev->reason ? ev->reason : "");
        r->ev[r->n_ev].reason = NULL;
        r->n_ev++;
    }
}

static int count_ev(const struct rec *r, enum tls_decrypt_event_type t, int dir)
{
    int i, n = 0;

    for (i = 0; i < r->n_ev; i++)
        if (r->ev[i].type == t && (dir < 0 || r->ev[i].dir == dir))
            n++;
    return n;
}

static const struct tls_decrypt_event *find_ev(const struct rec *r, enum tls_decrypt_event_type t,
                                               int *idx)
{
    int i;

    for (i = 0; i < r->n_ev; i++)
        if (r->ev[i].type == t) {
            if (idx != NULL)
                *idx = i;
            return &r->ev[i];
        }
    return NULL;
}

/* ServerHello through the passive TLS reader, as the stream will do it. */
struct sh_glue {
    struct tls_decrypt *d;
    int server_hellos;
};

static void on_tls_event(const struct tls_event *ev, void *user)
{
    struct sh_glue *g = user;

    if (ev->type == TLS_EV_SERVER_HELLO && ev->have_random) {
        g->server_hellos++;
        tls_decrypt_server_hello(g->d, ev->random, ev->version, ev->cipher, ev->hello_retry,
                                 ev->encrypt_then_mac);
    }
}

static struct keylog *keylog_from(const char *chts, const char *shts, const char *cts0,
                                  const char *sts0)
{
    struct keylog *kl = keylog_new(NULL);
    char cr[65], text[2048], h[4][97];
    size_t n = 0;

    if (kl == NULL)
        return NULL;
    hexstr(R8448_CLIENT_RANDOM, cr);
    hexstr(chts ? chts : "", h[0]);
    hexstr(shts ? shts : "", h[1]);
    hexstr(cts0 ? cts0 : "", h[2]);
    hexstr(sts0 ? sts0 : "", h[3]);
    text[0] = '\0';
    if (chts)
        n += (size_t)snprintf(text + n, sizeof(text) - n, "CLIENT_HANDSHAKE_TRAFFIC_SECRET %s %s\n", cr, h[0]);
    if (shts)
        n += (size_t)snprintf(text + n, sizeof(text) - n, "SERVER_HANDSHAKE_TRAFFIC_SECRET %s %s\n", cr, h[1]);
    if (cts0)
        n += (size_t)snprintf(text + n, sizeof(text) - n, "CLIENT_TRAFFIC_SECRET_0 %s %s\n", cr, h[2]);
    if (sts0)
        n += (size_t)snprintf(text + n, sizeof(text) - n, "SERVER_TRAFFIC_SECRET_0 %s %s\n", cr, h[3]);
    n += (size_t)snprintf(text + n, sizeof(text) - n, "EXPORTER_SECRET %s %s\n", cr, h[0]);
    keylog_add_text(kl, (const uint8_t *)text, n);
    return kl;
}

static const char *const r8448_records[] = {
    R8448_SERVER_FLIGHT, R8448_CLIENT_FINISHED, R8448_SERVER_NST, R8448_CLIENT_APP,
    R8448_SERVER_APP,    R8448_CLIENT_ALERT,    R8448_SERVER_ALERT,
};
static const int r8448_dirs[] = { 1, 0, 1, 0, 1, 0, 1 };

/*
 * Run the RFC 8448 connection.  chunk 0: whole records through
 * tls_decrypt_record; otherwise tls_decrypt_data in pieces of `chunk`.
 * tamper: index of a record whose byte at tamper_at is flipped, or -1.
 */
static void run_8448(struct keylog *kl, size_t chunk, int tamper, size_t tamper_at, struct rec *r,
                     struct tls_decrypt_stats *st, bool *stopped)
{
    struct tls_decrypt_ctx *ctx = tls_decrypt_ctx_new(NULL, kl);
    struct sh_glue g = { NULL, 0 };
    struct tls_conn *tc;
    uint8_t buf[1024], cr[32];
    size_t n, i, off;

    memset(r, 0, sizeof(*r));
    CHECK(ctx != NULL);
    if (ctx == NULL)
        return;
    g.d = tls_decrypt_new(ctx, NULL, on_data, on_event, r);
    CHECK(g.d != NULL);
    CHECK(hx(R8448_CLIENT_RANDOM, cr, sizeof(cr)) == 32);
    tls_decrypt_client_hello(g.d, cr);
    tc = tls_conn_new(NULL, on_tls_event, &g);
    n = hx(R8448_SH_RECORD, buf, sizeof(buf));
    CHECK(n == 95);
    tls_conn_data(tc, 1, buf, n, NULL);
    CHECK(g.server_hellos == 1);
    if (chunk > 0) /* the ServerHello record passes through the framer too */
        tls_decrypt_data(g.d, 1, buf, n);
    for (i = 0; i < sizeof(r8448_records) / sizeof(r8448_records[0]); i++) {
        n = hx(r8448_records[i], buf, sizeof(buf));
        CHECK(n <= sizeof(buf));
        if ((int)i == tamper)
            buf[tamper_at] ^= 0x01;
        if (chunk == 0) {
            tls_decrypt_record(g.d, r8448_dirs[i], buf, buf + 5, n - 5);
            continue;
        }
        for (off = 0; off < n; off += chunk)
            tls_decrypt_data(g.d, r8448_dirs[i], buf + off, n - off < chunk ? n - off : chunk);
    }
    tls_decrypt_retry(g.d, true); /* the connection ends: a secret still missing stops it */
    *stopped = tls_decrypt_stopped(g.d);
    tls_conn_free(tc);
    tls_decrypt_free(g.d);
    tls_decrypt_ctx_stats(ctx, st);
    tls_decrypt_ctx_free(ctx);
}

static void expect_8448_ok(const struct rec *r, const struct tls_decrypt_stats *st, bool stopped)
{
    uint8_t want[50];
    int i, idx = -1;

    for (i = 0; i < 50; i++)
        want[i] = (uint8_t)i;
    CHECK(!stopped);
    CHECK(r->n[0] == 50 && memcmp(r->data[0], want, 50) == 0);
    CHECK(r->n[1] == 50 && memcmp(r->data[1], want, 50) == 0);
    CHECK(st->records == 7);
    CHECK(st->app_bytes == 100);
    CHECK(st->auth_failures == 0 && st->errors == 0 && st->no_key == 0);
    /* handshake keys then application keys, per direction */
    CHECK(count_ev(r, TLS_DEC_EV_KEYS, 0) == 2);
    CHECK(count_ev(r, TLS_DEC_EV_KEYS, 1) == 2);
    CHECK(count_ev(r, TLS_DEC_EV_DECRYPTED, 0) == 1);
    CHECK(count_ev(r, TLS_DEC_EV_DECRYPTED, 1) == 1);
    CHECK(r->ev[0].type == TLS_DEC_EV_KEYS && r->ev[0].dir == 1 &&
          r->ev[0].epoch == TLS_DEC_EPOCH_HANDSHAKE);
    CHECK(r->ev[1].type == TLS_DEC_EV_DECRYPTED && r->ev[1].dir == 1);
    CHECK(r->ev[2].type == TLS_DEC_EV_KEYS && r->ev[2].dir == 1 &&
          r->ev[2].epoch == TLS_DEC_EPOCH_APPLICATION && r->ev[2].record == 1);
    CHECK(r->ev[0].version == 0x0304 && r->ev[0].cipher == 0x1301);
    /* close_notify from each side */
    CHECK(count_ev(r, TLS_DEC_EV_ALERT, -1) == 2);
    CHECK(find_ev(r, TLS_DEC_EV_ALERT, &idx) != NULL && r->ev[idx].alert_level == 1 &&
          r->ev[idx].alert_desc == 0);
}

static void test_8448_derivations(void)
{
    struct tls_decrypt_ctx *ctx = tls_decrypt_ctx_new(NULL, NULL);
    uint8_t s[48], h[48], out[48];
    struct {
        const char *secret, *key, *iv;
    } kv[] = {
        { R8448_SHTS, R8448_SHS_KEY, R8448_SHS_IV },
        { R8448_CHTS, R8448_CHS_KEY, R8448_CHS_IV },
        { R8448_STS0, R8448_SAP_KEY, R8448_SAP_IV },
        { R8448_CTS0, R8448_CAP_KEY, R8448_CAP_IV },
    };
    size_t i, n;

    CHECK(ctx != NULL);
    if (ctx == NULL)
        return;
    hx(R8448_HS_SECRET, s, sizeof(s));
    hx(R8448_HELLO_HASH, h, sizeof(h));
    CHECK(tls_decrypt_expand_label(ctx, false, s, 32, "s hs traffic", h, 32, out, 32) == 0);
    CHECK(eq_hex(out, 32, R8448_SHTS));
    CHECK(tls_decrypt_expand_label(ctx, false, s, 32, "c hs traffic", h, 32, out, 32) == 0);
    CHECK(eq_hex(out, 32, R8448_CHTS));
    hx(R8448_EMPTY_HASH, h, sizeof(h));
    CHECK(tls_decrypt_expand_label(ctx, false, s, 32, "derived", h, 32, out, 32) == 0);
    CHECK(eq_hex(out, 32, R8448_DERIVED_MASTER));
    hx(R8448_MASTER_SECRET, s, sizeof(s));
    hx(R8448_SERVER_FIN_HASH, h, sizeof(h));
    CHECK(tls_decrypt_expand_label(ctx, false, s, 32, "c ap traffic", h, 32, out, 32) == 0);
    CHECK(eq_hex(out, 32, R8448_CTS0));
    CHECK(tls_decrypt_expand_label(ctx, false, s, 32, "s ap traffic", h, 32, out, 32) == 0);
    CHECK(eq_hex(out, 32, R8448_STS0));
    hx(R8448_SHTS, s, sizeof(s));
    CHECK(tls_decrypt_expand_label(ctx, false, s, 32, "finished", NULL, 0, out, 32) == 0);
    CHECK(eq_hex(out, 32, R8448_SERVER_FINISHED_KEY));
    for (i = 0; i < sizeof(kv) / sizeof(kv[0]); i++) {
        hx(kv[i].secret, s, sizeof(s));
        CHECK(tls_decrypt_expand_label(ctx, false, s, 32, "key", NULL, 0, out, 16) == 0);
        CHECK(eq_hex(out, 16, kv[i].key));
        CHECK(tls_decrypt_expand_label(ctx, false, s, 32, "iv", NULL, 0, out, 12) == 0);
        CHECK(eq_hex(out, 12, kv[i].iv));
    }
    /* a wrong label must not give the published value (the test can fail) */
    hx(R8448_SHTS, s, sizeof(s));
    CHECK(tls_decrypt_expand_label(ctx, false, s, 32, "iv ", NULL, 0, out, 12) == 0);
    CHECK(!eq_hex(out, 12, R8448_SHS_IV));
    /* oversized label / context are refused, not truncated */
    {
        char longlabel[300];

        memset(longlabel, 'a', sizeof(longlabel) - 1);
        longlabel[sizeof(longlabel) - 1] = '\0';
        CHECK(tls_decrypt_expand_label(ctx, false, s, 32, longlabel, NULL, 0, out, 12) == -1);
    }
    /* TLS 1.2 PRF vectors */
    {
        uint8_t sec[16], seed[16], prf[100];

        n = hx(PRF_SHA256_SECRET, sec, sizeof(sec));
        CHECK(n == 16);
        hx(PRF_SHA256_SEED, seed, sizeof(seed));
        CHECK(tls_decrypt_prf(ctx, false, sec, 16, "test label", seed, 16, prf, 100) == 0);
        CHECK(eq_hex(prf, 100, PRF_SHA256_OUT));
        hx(PRF_SHA384_SECRET, sec, sizeof(sec));
        hx(PRF_SHA384_SEED, seed, sizeof(seed));
        CHECK(tls_decrypt_prf(ctx, true, sec, 16, "test label", seed, 16, prf, 48) == 0);
        CHECK(eq_hex(prf, 48, PRF_SHA384_OUT));
        CHECK(tls_decrypt_prf(ctx, false, sec, 16, "test label", seed, 16, prf, 48) == 0);
        CHECK(!eq_hex(prf, 48, PRF_SHA384_OUT));
    }
    tls_decrypt_ctx_free(ctx);
}

static void test_8448_connection(void)
{
    struct tls_decrypt_stats st;
    struct keylog *kl = keylog_from(R8448_CHTS, R8448_SHTS, R8448_CTS0, R8448_STS0);
    struct rec *r = calloc(1, sizeof(*r));
    size_t chunk;
    bool stopped = true;

    CHECK(kl != NULL && r != NULL);
    if (kl == NULL || r == NULL)
        goto out;
    run_8448(kl, 0, -1, 0, r, &st, &stopped);
    expect_8448_ok(r, &st, stopped);
    for (chunk = 1; chunk <= 9; chunk++) {
        run_8448(kl, chunk, -1, 0, r, &st, &stopped);
        expect_8448_ok(r, &st, stopped);
    }
    run_8448(kl, 700, -1, 0, r, &st, &stopped);
    expect_8448_ok(r, &st, stopped);
out:
    keylog_free(kl);
    free(r);
}

static void test_8448_failures(void)
{
    struct tls_decrypt_stats st;
    struct rec *r = calloc(1, sizeof(*r));
    struct keylog *kl;
    const struct tls_decrypt_event *ev;
    char bad_shts[200];
    bool stopped = false;
    int idx = -1;

    if (r == NULL)
        return;
    /* wrong server handshake secret: the first server record fails */
    snprintf(bad_shts, sizeof(bad_shts), "%s", R8448_SHTS);
    bad_shts[strlen(bad_shts) - 1] = bad_shts[strlen(bad_shts) - 1] == '8' ? '9' : '8';
    kl = keylog_from(R8448_CHTS, bad_shts, R8448_CTS0, R8448_STS0);
    run_8448(kl, 0, -1, 0, r, &st, &stopped);
    CHECK(stopped);
    CHECK(st.auth_failures == 1 && st.records == 0);
    CHECK(r->n[0] == 0 && r->n[1] == 0);
    ev = find_ev(r, TLS_DEC_EV_AUTH_FAILED, &idx);
    CHECK(ev != NULL && ev->dir == 1 && ev->record == 0);
    CHECK(idx == r->n_ev - 1); /* nothing after the stop */
    CHECK(count_ev(r, TLS_DEC_EV_DECRYPTED, -1) == 0);
    keylog_free(kl);

    /* the right keys, one tampered record: the client's application data */
    kl = keylog_from(R8448_CHTS, R8448_SHTS, R8448_CTS0, R8448_STS0);
    run_8448(kl, 3, 3, 10, r, &st, &stopped);
    CHECK(stopped);
    CHECK(st.auth_failures == 1 && st.records == 3);
    CHECK(r->n[0] == 0 && r->n[1] == 0);
    ev = find_ev(r, TLS_DEC_EV_AUTH_FAILED, NULL);
    CHECK(ev != NULL && ev->dir == 0 && ev->record == 1 && ev->epoch == TLS_DEC_EPOCH_APPLICATION);
    /* a tampered header is authenticated data too: the NewSessionTicket
     * with legacy version 03 02 instead of 03 03 */
    run_8448(kl, 0, 2, 2, r, &st, &stopped);
    CHECK(stopped && st.auth_failures == 1 && st.records == 2);
    ev = find_ev(r, TLS_DEC_EV_AUTH_FAILED, NULL);
    CHECK(ev != NULL && ev->dir == 1 && ev->record == 1);
    keylog_free(kl);

    /* no CLIENT_TRAFFIC_SECRET_0: stops at the client's switch */
    kl = keylog_from(R8448_CHTS, R8448_SHTS, NULL, R8448_STS0);
    run_8448(kl, 0, -1, 0, r, &st, &stopped);
    CHECK(stopped);
    CHECK(st.no_key == 1 && st.auth_failures == 0);
    ev = find_ev(r, TLS_DEC_EV_NO_KEY, NULL);
    CHECK(ev != NULL && ev->dir == 0);
    CHECK(strstr(r->reason[r->n_ev - 1], "CLIENT_TRAFFIC_SECRET_0") != NULL);
    CHECK(r->n[0] == 0 && r->n[1] == 0);
    keylog_free(kl);

    /* nothing for this connection at all */
    kl = keylog_new(NULL);
    run_8448(kl, 0, -1, 0, r, &st, &stopped);
    CHECK(stopped && st.no_key == 1 && st.records == 0);
    CHECK(find_ev(r, TLS_DEC_EV_NO_KEY, NULL) != NULL);
    keylog_free(kl);

    /* a 48-byte secret for a SHA-256 suite is refused, not truncated */
    kl = keylog_from(R8448_CHTS, R8448_SHTS " 00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f",
                     R8448_CTS0, R8448_STS0);
    run_8448(kl, 0, -1, 0, r, &st, &stopped);
    CHECK(stopped && st.no_key == 1 && st.records == 0);
    keylog_free(kl);
    free(r);
}

/* Hostile framing, versions and suites. */
static void test_hostile(void)
{
    struct keylog *kl = keylog_from(R8448_CHTS, R8448_SHTS, R8448_CTS0, R8448_STS0);
    struct tls_decrypt_config cfg;
    struct tls_decrypt_ctx *ctx;
    struct tls_decrypt *d, *d2;
    struct tls_decrypt_stats st;
    struct rec *r = calloc(1, sizeof(*r));
    uint8_t cr[32], sr[32] = {0}, buf[TLS_DEC_MAX_CIPHERTEXT + 64];
    const struct tls_decrypt_event *ev;

    if (r == NULL || kl == NULL)
        goto out;
    hx(R8448_CLIENT_RANDOM, cr, sizeof(cr));
    tls_decrypt_config_default(&cfg);
    cfg.max_conns = 1;
    ctx = tls_decrypt_ctx_new(&cfg, kl);
    CHECK(ctx != NULL);
    if (ctx == NULL)
        goto out;

    /* the connection cap */
    d = tls_decrypt_new(ctx, NULL, on_data, on_event, r);
    d2 = tls_decrypt_new(ctx, NULL, on_data, on_event, r);
    CHECK(d != NULL && d2 == NULL);
    tls_decrypt_ctx_stats(ctx, &st);
    CHECK(st.conns == 1 && st.conns_refused == 1);

    /* an encrypted record before any ServerHello */
    memset(r, 0, sizeof(*r));
    tls_decrypt_client_hello(d, cr);
    memcpy(buf, "\x17\x03\x03\x00\x20", 5);
    memset(buf + 5, 0x41, 32);
    tls_decrypt_data(d, 0, buf, 37);
    CHECK(tls_decrypt_stopped(d));
    CHECK(find_ev(r, TLS_DEC_EV_ERROR, NULL) != NULL);
    tls_decrypt_free(d);

    /* garbage instead of records */
    memset(r, 0, sizeof(*r));
    d = tls_decrypt_new(ctx, NULL, on_data, on_event, r);
    tls_decrypt_client_hello(d, cr);
    tls_decrypt_server_hello(d, sr, 0x0304, 0x1301, false, false);
    tls_decrypt_data(d, 0, (const uint8_t *)"GET / HTTP/1.1\r\n", 16);
    CHECK(tls_decrypt_stopped(d));
    ev = find_ev(r, TLS_DEC_EV_ERROR, NULL);
    CHECK(ev != NULL && strcmp(r->reason[0], "not a TLS record") == 0);
    tls_decrypt_free(d);

    /* a record longer than 2^14 + 256 */
    memset(r, 0, sizeof(*r));
    d = tls_decrypt_new(ctx, NULL, on_data, on_event, r);
    tls_decrypt_client_hello(d, cr);
    tls_decrypt_server_hello(d, sr, 0x0304, 0x1301, false, false);
    buf[0] = 0x17, buf[1] = 3, buf[2] = 3, buf[3] = 0x41, buf[4] = 0x01; /* 16641 */
    tls_decrypt_data(d, 1, buf, 5);
    CHECK(tls_decrypt_stopped(d));
    CHECK(strstr(r->reason[0], "longer") != NULL);
    tls_decrypt_free(d);

    /* the longest legal record, all garbage: authentication fails, nothing else */
    memset(r, 0, sizeof(*r));
    d = tls_decrypt_new(ctx, NULL, on_data, on_event, r);
    tls_decrypt_client_hello(d, cr);
    tls_decrypt_server_hello(d, sr, 0x0304, 0x1301, false, false);
    buf[3] = 0x41, buf[4] = 0x00;
    memset(buf + 5, 0x5a, TLS_DEC_MAX_CIPHERTEXT);
    tls_decrypt_data(d, 1, buf, 5 + TLS_DEC_MAX_CIPHERTEXT);
    CHECK(tls_decrypt_stopped(d) && count_ev(r, TLS_DEC_EV_AUTH_FAILED, 1) == 1);
    tls_decrypt_free(d);

    /* a record too short for its tag */
    memset(r, 0, sizeof(*r));
    d = tls_decrypt_new(ctx, NULL, on_data, on_event, r);
    tls_decrypt_client_hello(d, cr);
    tls_decrypt_server_hello(d, sr, 0x0304, 0x1301, false, false);
    memcpy(buf, "\x17\x03\x03\x00\x05" "abcde", 10);
    tls_decrypt_data(d, 1, buf, 10);
    CHECK(tls_decrypt_stopped(d) && count_ev(r, TLS_DEC_EV_ERROR, 1) == 1);
    tls_decrypt_free(d);

    /* a header whose length disagrees with the fragment handed over */
    memset(r, 0, sizeof(*r));
    d = tls_decrypt_new(ctx, NULL, on_data, on_event, r);
    tls_decrypt_client_hello(d, cr);
    tls_decrypt_server_hello(d, sr, 0x0304, 0x1301, false, false);
    tls_decrypt_record(d, 1, (const uint8_t *)"\x17\x03\x03\x00\x30", buf, 20);
    CHECK(tls_decrypt_stopped(d));
    tls_decrypt_free(d);

    /* unsupported suite and version */
    memset(r, 0, sizeof(*r));
    d = tls_decrypt_new(ctx, NULL, on_data, on_event, r);
    tls_decrypt_client_hello(d, cr);
    tls_decrypt_server_hello(d, sr, 0x0304, 0x1304, false, false); /* AES-128-CCM */
    CHECK(tls_decrypt_stopped(d) && count_ev(r, TLS_DEC_EV_UNSUPPORTED, -1) == 1);
    tls_decrypt_free(d);
    memset(r, 0, sizeof(*r));
    d = tls_decrypt_new(ctx, NULL, on_data, on_event, r);
    tls_decrypt_client_hello(d, cr);
    tls_decrypt_server_hello(d, sr, 0x0303, 0x000a, false, false); /* 3DES: not decrypted */
    CHECK(tls_decrypt_stopped(d) && count_ev(r, TLS_DEC_EV_UNSUPPORTED, -1) == 1);
    tls_decrypt_free(d);
    memset(r, 0, sizeof(*r));
    d = tls_decrypt_new(ctx, NULL, on_data, on_event, r);
    tls_decrypt_client_hello(d, cr);
    tls_decrypt_server_hello(d, sr, 0x0302, 0xc02f, false, false); /* TLS 1.1 */
    CHECK(tls_decrypt_stopped(d) && count_ev(r, TLS_DEC_EV_UNSUPPORTED, -1) == 1);
    tls_decrypt_free(d);

    /* a HelloRetryRequest is not the ServerHello; a gap stops */
    memset(r, 0, sizeof(*r));
    d = tls_decrypt_new(ctx, NULL, on_data, on_event, r);
    tls_decrypt_client_hello(d, cr);
    tls_decrypt_server_hello(d, sr, 0x0304, 0x1304, true, false);
    CHECK(!tls_decrypt_stopped(d));
    tls_decrypt_server_hello(d, sr, 0x0304, 0x1301, false, false);
    CHECK(!tls_decrypt_stopped(d));
    tls_decrypt_gap(d, 0);
    CHECK(tls_decrypt_stopped(d) && count_ev(r, TLS_DEC_EV_ERROR, 0) == 1);
    tls_decrypt_free(d);

    /* TLS 1.2: application data before ChangeCipherSpec; a bad CCS */
    memset(r, 0, sizeof(*r));
    d = tls_decrypt_new(ctx, NULL, on_data, on_event, r);
    tls_decrypt_client_hello(d, cr);
    tls_decrypt_server_hello(d, sr, 0x0303, 0xc02f, false, false);
    tls_decrypt_data(d, 0, (const uint8_t *)"\x17\x03\x03\x00\x01" "x", 6);
    CHECK(tls_decrypt_stopped(d) && count_ev(r, TLS_DEC_EV_ERROR, 0) == 1);
    tls_decrypt_free(d);
    memset(r, 0, sizeof(*r));
    d = tls_decrypt_new(ctx, NULL, on_data, on_event, r);
    tls_decrypt_client_hello(d, cr);
    tls_decrypt_server_hello(d, sr, 0x0303, 0xc02f, false, false);
    tls_decrypt_data(d, 0, (const uint8_t *)"\x14\x03\x03\x00\x02\x01\x01", 7);
    CHECK(tls_decrypt_stopped(d) && count_ev(r, TLS_DEC_EV_ERROR, 0) == 1);
    tls_decrypt_free(d);
    /* TLS 1.2 with no CLIENT_RANDOM line: no key at the first encrypted record */
    memset(r, 0, sizeof(*r));
    d = tls_decrypt_new(ctx, NULL, on_data, on_event, r);
    tls_decrypt_client_hello(d, cr);
    tls_decrypt_server_hello(d, sr, 0x0303, 0xcca8, false, false);
    tls_decrypt_data(d, 0, (const uint8_t *)"\x14\x03\x03\x00\x01\x01", 6);
    CHECK(!tls_decrypt_stopped(d));
    memset(buf, 0, 40);
    memcpy(buf, "\x16\x03\x03\x00\x20", 5);
    tls_decrypt_data(d, 0, buf, 37);
    /* the record is held: the secret may still be written */
    CHECK(!tls_decrypt_stopped(d) && tls_decrypt_waiting(d) && count_ev(r, TLS_DEC_EV_NO_KEY, 0) == 0);
    tls_decrypt_retry(d, true); /* the connection ends without it */
    CHECK(tls_decrypt_stopped(d) && count_ev(r, TLS_DEC_EV_NO_KEY, 0) == 1);
    CHECK(strstr(r->reason[r->n_ev - 1], "CLIENT_RANDOM") != NULL);
    tls_decrypt_free(d);

    tls_decrypt_ctx_stats(ctx, &st);
    CHECK(st.records == 0 && st.app_bytes == 0);
    tls_decrypt_ctx_free(ctx);
out:
    keylog_free(kl);
    free(r);
}

/* ---- secrets written after the records that need them --------------------- */

struct late {
    struct rec r;
    struct tls_decrypt *d;
    int tag_of_data[2];   /* the tag current when each direction's data came */
};

static void late_data(void *user, int dir, const uint8_t *p, size_t n)
{
    struct late *l = user;
    size_t len = 0;
    const uint8_t *tag = tls_decrypt_tag(l->d, &len);

    on_data(&l->r, dir, p, n);
    l->tag_of_data[dir] = tag != NULL && len == 1 ? tag[0] : -1;
}

static void late_event(void *user, const struct tls_decrypt_event *ev)
{
    on_event(&((struct late *)user)->r, ev);
}

/*
 * The RFC 8448 connection against a key log that gets its lines only
 * after record `late_at` (0: before the server's first encrypted record;
 * 3: after the handshake, when the application secrets are needed) was
 * fed; each record is tagged with its index.  max_held: the cap.
 */
static void run_late(struct late *l, int late_at, bool app_only, size_t max_held,
                     struct tls_decrypt_stats *st)
{
    struct keylog *kl = app_only ? keylog_from(R8448_CHTS, R8448_SHTS, NULL, NULL) : keylog_new(NULL);
    struct keylog *full = keylog_from(R8448_CHTS, R8448_SHTS, R8448_CTS0, R8448_STS0);
    struct tls_decrypt_config cfg;
    struct tls_decrypt_ctx *ctx;
    struct sh_glue g = { NULL, 0 };
    struct tls_conn *tc;
    uint8_t buf[1024], cr[32], tag;
    size_t n, i;

    memset(l, 0, sizeof(*l));
    tls_decrypt_config_default(&cfg);
    cfg.max_held = max_held;
    ctx = tls_decrypt_ctx_new(&cfg, kl);
    CHECK(kl != NULL && full != NULL && ctx != NULL);
    if (kl == NULL || full == NULL || ctx == NULL)
        goto out;
    l->d = g.d = tls_decrypt_new(ctx, NULL, late_data, late_event, l);
    hx(R8448_CLIENT_RANDOM, cr, sizeof(cr));
    tls_decrypt_client_hello(g.d, cr);
    tc = tls_conn_new(NULL, on_tls_event, &g);
    n = hx(R8448_SH_RECORD, buf, sizeof(buf));
    tls_conn_data(tc, 1, buf, n, NULL);
    for (i = 0; i < sizeof(r8448_records) / sizeof(r8448_records[0]); i++) {
        if ((int)i == late_at) {
            /* the key-log library writes the lines now */
            char text[2048], crh[65], h[97];
            size_t t = 0;

            hexstr(R8448_CLIENT_RANDOM, crh);
            if (!app_only) {
                hexstr(R8448_CHTS, h);
                t += (size_t)snprintf(text + t, sizeof(text) - t, "CLIENT_HANDSHAKE_TRAFFIC_SECRET %s %s\n", crh, h);
                hexstr(R8448_SHTS, h);
                t += (size_t)snprintf(text + t, sizeof(text) - t, "SERVER_HANDSHAKE_TRAFFIC_SECRET %s %s\n", crh, h);
            }
            hexstr(R8448_CTS0, h);
            t += (size_t)snprintf(text + t, sizeof(text) - t, "CLIENT_TRAFFIC_SECRET_0 %s %s\n", crh, h);
            hexstr(R8448_STS0, h);
            t += (size_t)snprintf(text + t, sizeof(text) - t, "SERVER_TRAFFIC_SECRET_0 %s %s\n", crh, h);
            keylog_add_text(kl, (const uint8_t *)text, t);
        }
        n = hx(r8448_records[i], buf, sizeof(buf));
        tag = (uint8_t)(10 + i);
        tls_decrypt_set_tag(g.d, &tag, 1);
        tls_decrypt_record(g.d, r8448_dirs[i], buf, buf + 5, n - 5);
    }
    tls_decrypt_retry(g.d, true);
    tls_conn_free(tc);
    tls_decrypt_free(g.d);
    tls_decrypt_ctx_stats(ctx, st);
out:
    tls_decrypt_ctx_free(ctx);
    keylog_free(kl);
    keylog_free(full);
}

static void test_late_secret(void)
{
    struct late *l = calloc(1, sizeof(*l));
    struct tls_decrypt_stats st;

    if (l == NULL)
        return;
    /* every secret arrives after the server's flight and the client's
     * Finished were fed: they are held, then decrypted as usual */
    run_late(l, 2, false, 32 * 1024, &st);
    expect_8448_ok(&l->r, &st, false);
    CHECK(st.key_waits == 1 && st.keys_late == 1 && st.held_records == 3 && st.no_key == 0);
    /* the application data is delivered with the tag of its own record
     * (records 3 and 4), not of the record that found the secret */
    CHECK(l->tag_of_data[0] == 13 && l->tag_of_data[1] == 14);
    /* only the application secrets are late: the switch after Finished waits */
    run_late(l, 3, true, 32 * 1024, &st);
    CHECK(l->r.n[0] == 50 && l->r.n[1] == 50 && st.records == 7 && st.app_bytes == 100);
    CHECK(count_ev(&l->r, TLS_DEC_EV_KEYS, 0) == 2 && count_ev(&l->r, TLS_DEC_EV_KEYS, 1) == 2);
    CHECK(st.key_waits == 1 && st.keys_late == 1 && st.no_key == 0 && st.held_records >= 1);
    CHECK(l->tag_of_data[0] == 13 && l->tag_of_data[1] == 14);
    /* never written: held until the connection ends, then no_key */
    run_late(l, 99, false, 32 * 1024, &st);
    CHECK(st.key_waits == 1 && st.keys_late == 0 && st.no_key == 1 && st.records == 0);
    CHECK(find_ev(&l->r, TLS_DEC_EV_NO_KEY, NULL) != NULL);
    CHECK(l->r.n[0] == 0 && l->r.n[1] == 0);
    /* the cap: the held records do not fit, the wait is given up */
    run_late(l, 5, false, 100, &st);
    CHECK(st.held_overflows == 1 && st.no_key == 1 && st.keys_late == 0 && st.records == 0);
    CHECK(l->r.n[0] == 0 && l->r.n[1] == 0);
    /* holding off (max_held 0): the first miss stops, as a static key log */
    run_late(l, 2, false, 0, &st);
    CHECK(st.key_waits == 0 && st.no_key == 1 && st.records == 0);
    free(l);
}

/* ---- key log ----------------------------------------------------------- */

#define CR1 "0102030405060708091011121314151617181920212223242526272829303132"
#define CR2 "A1A2A3A4A5A6A7A8A9B1B2B3B4B5B6B7B8B9C1C2C3C4C5C6C7C8C9D1D2D3D4D5"
#define MS48 "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f"
#define S32 "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100"

static void test_keylog_text(void)
{
    struct keylog *kl = keylog_new(NULL);
    struct keylog_stats st;
    uint8_t r1[32], r2[32], out[48], want[48];
    const char *text =
        "# a comment\n"
        "\n"
        "   \t\n"
        "CLIENT_RANDOM " CR1 " " MS48 "\r\n"
        "CLIENT_HANDSHAKE_TRAFFIC_SECRET " CR2 " " S32 "\r"
        "EXPORTER_SECRET " CR2 " " S32 "\n"
        "CLIENT_EARLY_TRAFFIC_SECRET " CR2 " " S32 "\n"
        "RSA 0011 2233\n"
        "CLIENT_RANDOM " CR1 " 0011\n"                 /* short master secret */
        "CLIENT_RANDOM 0102 " MS48 "\n"                /* short random */
        "SERVER_TRAFFIC_SECRET_0 " CR2 " " S32 "zz\n" /* odd length */
        "SERVER_TRAFFIC_SECRET_0 " CR2 "\n"            /* two fields */
        "lower_case " CR2 " " S32 "\n"
        "CLIENT_RANDOM " CR1 " " MS48 "\n"             /* the same line again */
        "SERVER_TRAFFIC_SECRET_0 " CR2 " " S32 " extra\n"
        "SERVER_TRAFFIC_SECRET_0 " CR2 " " S32;        /* no terminator */
    size_t n;

    CHECK(kl != NULL);
    if (kl == NULL)
        return;
    n = keylog_add_text(kl, (const uint8_t *)text, strlen(text));
    keylog_get_stats(kl, &st);
    CHECK(n == 3);
    CHECK(st.secrets == 3 && st.entries == 2);
    CHECK(st.ignored == 3);
    CHECK(st.malformed == 6);
    CHECK(st.conflicts == 0);
    hx(CR1, r1, sizeof(r1));
    hx(CR2, r2, sizeof(r2));
    CHECK(keylog_get(kl, r1, KEYLOG_CLIENT_RANDOM, out, sizeof(out)) == 48);
    hx(MS48, want, sizeof(want));
    CHECK(memcmp(out, want, 48) == 0);
    CHECK(keylog_get(kl, r2, KEYLOG_CLIENT_HANDSHAKE, out, sizeof(out)) == 32);
    hx(S32, want, sizeof(want));
    CHECK(memcmp(out, want, 32) == 0);
    CHECK(keylog_get(kl, r2, KEYLOG_SERVER_TRAFFIC_0, out, sizeof(out)) == 32);
    CHECK(keylog_get(kl, r2, KEYLOG_CLIENT_RANDOM, out, sizeof(out)) == 0);
    CHECK(keylog_get(kl, r1, KEYLOG_SERVER_HANDSHAKE, out, sizeof(out)) == 0);
    CHECK(keylog_get(kl, r1, KEYLOG_CLIENT_RANDOM, out, 16) == 0); /* buffer too small */
    /* a conflicting line: counted, the newer one wins */
    {
        char line[256];

        snprintf(line, sizeof(line), "CLIENT_RANDOM %s 11%s\n", CR1, &MS48[2]);
        keylog_add_text(kl, (const uint8_t *)line, strlen(line));
    }
    keylog_get_stats(kl, &st);
    CHECK(st.conflicts == 1);
    CHECK(keylog_get(kl, r1, KEYLOG_CLIENT_RANDOM, out, sizeof(out)) == 48 && out[0] == 0x11);
    /* an overlong line is malformed, and the next line still parses */
    {
        char big[2000];

        memset(big, 'A', 1500);
        snprintf(big + 1500, sizeof(big) - 1500, "\nCLIENT_TRAFFIC_SECRET_0 %s %s\n", CR1, S32);
        keylog_add_text(kl, (const uint8_t *)big, strlen(big));
        keylog_get_stats(kl, &st);
        CHECK(st.malformed == 7);
        CHECK(keylog_get(kl, r1, KEYLOG_CLIENT_TRAFFIC_0, out, sizeof(out)) == 32);
    }
    /* DSB payloads: only TLSK is a key log */
    {
        char line[256];

        snprintf(line, sizeof(line), "SERVER_HANDSHAKE_TRAFFIC_SECRET %s %s", CR1, S32);
        CHECK(!keylog_add_secrets_block(kl, 0x5353484bu, (const uint8_t *)line, strlen(line)));
        CHECK(keylog_get(kl, r1, KEYLOG_SERVER_HANDSHAKE, out, sizeof(out)) == 0);
        CHECK(keylog_add_secrets_block(kl, KEYLOG_DSB_TLS, (const uint8_t *)line, strlen(line)));
        CHECK(keylog_get(kl, r1, KEYLOG_SERVER_HANDSHAKE, out, sizeof(out)) == 32);
    }
    CHECK(strcmp(keylog_label_name(KEYLOG_SERVER_TRAFFIC_0), "SERVER_TRAFFIC_SECRET_0") == 0);
    keylog_free(kl);
}

static void test_keylog_many(void)
{
    struct keylog_config cfg;
    struct keylog *kl;
    struct keylog_stats st;
    char *text = malloc(5000 * 200);
    size_t n = 0, i, found = 0;
    uint8_t r[32], out[48];

    if (text == NULL)
        return;
    for (i = 0; i < 5000; i++)
        n += (size_t)sprintf(text + n, "CLIENT_RANDOM %056x%08zx %s\n", 0u, i, MS48);
    kl = keylog_new(NULL);
    keylog_add_text(kl, (const uint8_t *)text, n);
    keylog_get_stats(kl, &st);
    CHECK(st.entries == 5000 && st.dropped == 0);
    for (i = 0; i < 5000; i++) {
        memset(r, 0, 28);
        r[28] = (uint8_t)(i >> 24), r[29] = (uint8_t)(i >> 16), r[30] = (uint8_t)(i >> 8), r[31] = (uint8_t)i;
        if (keylog_get(kl, r, KEYLOG_CLIENT_RANDOM, out, sizeof(out)) == 48)
            found++;
    }
    CHECK(found == 5000);
    keylog_free(kl);
    keylog_config_default(&cfg);
    cfg.max_entries = 100;
    kl = keylog_new(&cfg);
    keylog_add_text(kl, (const uint8_t *)text, n);
    keylog_get_stats(kl, &st);
    CHECK(st.entries == 100 && st.dropped == 4900);
    keylog_free(kl);
    free(text);
}

static void test_keylog_file(void)
{
    char path[] = "/tmp/ft-keylog-test-XXXXXX";
    char err[512], warn[512], line[256];
    struct keylog_config cfg;
    struct keylog *kl;
    struct keylog_stats st;
    uint8_t r1[32], r2[32], out[48];
    FILE *fp;
    int fd = mkstemp(path);

    CHECK(fd >= 0);
    if (fd < 0)
        return;
    hx(CR1, r1, sizeof(r1));
    hx(CR2, r2, sizeof(r2));
    fp = fdopen(fd, "w");
    fprintf(fp, "CLIENT_RANDOM %s %s\nCLIENT_HANDSHAKE_TRAFFIC_SECRET %s %.40s", CR1, MS48, CR2, S32);
    fclose(fp);

    /* readable by others: a warning that names the file but no secret */
    chmod(path, 0644);
    keylog_config_default(&cfg);
    cfg.refresh_ms = 60000;
    kl = keylog_new(&cfg);
    CHECK(keylog_add_file(kl, path, err, sizeof(err), warn, sizeof(warn)) == 0);
    CHECK(warn[0] != '\0' && strstr(warn, path) != NULL && strstr(warn, "0644") != NULL);
    CHECK(strstr(warn, "0102030405") == NULL && strstr(warn, "000102") == NULL);
    CHECK(keylog_get(kl, r1, KEYLOG_CLIENT_RANDOM, out, sizeof(out)) == 48);
    /* the half-written last line was not taken */
    keylog_get_stats(kl, &st);
    CHECK(st.secrets == 1 && st.files == 1);

    /* the file grows: the first miss re-reads it; within the interval a second miss does not */
    fp = fopen(path, "a");
    fprintf(fp, "%s\n", &S32[40]);
    fclose(fp);
    CHECK(keylog_get(kl, r2, KEYLOG_CLIENT_HANDSHAKE, out, sizeof(out)) == 32);
    keylog_get_stats(kl, &st);
    CHECK(st.refreshes == 1);
    fp = fopen(path, "a");
    fprintf(fp, "SERVER_HANDSHAKE_TRAFFIC_SECRET %s %s\n", CR2, S32);
    fclose(fp);
    CHECK(keylog_get(kl, r2, KEYLOG_SERVER_HANDSHAKE, out, sizeof(out)) == 0);
    keylog_refresh(kl);
    CHECK(keylog_get(kl, r2, KEYLOG_SERVER_HANDSHAKE, out, sizeof(out)) == 32);
    keylog_get_stats(kl, &st);
    CHECK(st.secrets == 3 && st.malformed == 1);

    /* replaced by a shorter file: read again from the start */
    fp = fopen(path, "w");
    snprintf(line, sizeof(line), "CLIENT_TRAFFIC_SECRET_0 %s %s\n", CR1, S32);
    fputs(line, fp);
    fclose(fp);
    keylog_refresh(kl);
    CHECK(keylog_get(kl, r1, KEYLOG_CLIENT_TRAFFIC_0, out, sizeof(out)) == 32);
    keylog_free(kl);

    /* mode 0600: no warning */
    chmod(path, 0600);
    kl = keylog_new(NULL);
    CHECK(keylog_add_file(kl, path, err, sizeof(err), warn, sizeof(warn)) == 0);
    CHECK(warn[0] == '\0');
    /* errors name the file, never its content */
    CHECK(keylog_add_file(kl, "/nonexistent/keys.txt", err, sizeof(err), warn, sizeof(warn)) == -1);
    CHECK(strstr(err, "/nonexistent/keys.txt") != NULL);
    CHECK(keylog_add_file(kl, "/tmp", err, sizeof(err), NULL, 0) == -1);
    keylog_free(kl);
    unlink(path);
}

/* A source of secrets met during the run (a capture's secrets blocks):
 * asked when a lookup misses and by keylog_has_secrets(). */
struct pull_state {
    unsigned calls;
    bool ready;      /* the block has been "read" by the capture */
    bool added;
};

static void pull_block(void *user, struct keylog *kl)
{
    struct pull_state *ps = user;
    char text[256];

    ps->calls++;
    if (!ps->ready || ps->added)
        return;
    snprintf(text, sizeof(text), "CLIENT_RANDOM %s %s\n", CR1, MS48);
    CHECK(keylog_add_secrets_block(kl, KEYLOG_DSB_TLS, (const uint8_t *)text, strlen(text)));
    ps->added = true;
}

static void test_keylog_pull(void)
{
    struct pull_state ps = { 0, false, false };
    struct keylog *kl = keylog_new(NULL);
    uint8_t r1[32], out[KEYLOG_SECRET_MAX];

    hx(CR1, r1, sizeof(r1));
    CHECK(!keylog_has_secrets(kl)); /* nothing, and no source */
    keylog_set_pull(kl, pull_block, &ps);
    CHECK(!keylog_has_secrets(kl) && ps.calls == 1);
    CHECK(keylog_get(kl, r1, KEYLOG_CLIENT_RANDOM, out, sizeof(out)) == 0 && ps.calls == 2);
    ps.ready = true; /* the capture reached the block */
    CHECK(keylog_get(kl, r1, KEYLOG_CLIENT_RANDOM, out, sizeof(out)) == 48);
    CHECK(keylog_has_secrets(kl));
    {
        unsigned before = ps.calls;
        /* a hit asks nobody */
        CHECK(keylog_get(kl, r1, KEYLOG_CLIENT_RANDOM, out, sizeof(out)) == 48 && ps.calls == before);
    }
    keylog_free(kl);
}

int main(void)
{
    test_8448_derivations();
    test_8448_connection();
    test_8448_failures();
    test_hostile();
    test_late_secret();
    test_keylog_text();
    test_keylog_many();
    test_keylog_file();
    test_keylog_pull();
    return check_summary("test_tls_decrypt");
}
