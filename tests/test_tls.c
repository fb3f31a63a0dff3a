/*
 * test_tls.c - unit tests for dissectors/tls.c.
 *
 * Crafted record sequences (TLS 1.2 full handshake with certificates,
 * TLS 1.3 with middlebox CCS, HelloRetryRequest, alerts, non-TLS bytes,
 * oversized messages) are fed whole, split at every byte boundary, in
 * fixed chunk sizes and in random chunkings; the rendered event sequence
 * must be identical every time and equal the expected string.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../dissectors/tls.h"
#include "check.h"
#include "tls_build.h"

struct seg {
    int dir;
    int op;              /* 0 data, 1 gap, 2 eof */
    const uint8_t *p;
    size_t n;
};

/* The renderers below take the format as a parameter (test code only). */
#pragma GCC diagnostic ignored "-Wformat-nonliteral"

struct out {
    char s[8192];
    size_t n;
    bool records; /* render TLS_EV_RECORD too (only the record tests want them) */
};

static bool want_records; /* set by the record tests around expect() */

static void add(struct out *o, const char *fmt, const char *a)
{
    int k = snprintf(o->s + o->n, sizeof(o->s) - o->n, fmt, a);

    if (k > 0 && (size_t)k < sizeof(o->s) - o->n)
        o->n += (size_t)k;
}

static void addu(struct out *o, const char *fmt, unsigned long v)
{
    int k = snprintf(o->s + o->n, sizeof(o->s) - o->n, fmt, v);

    if (k > 0 && (size_t)k < sizeof(o->s) - o->n)
        o->n += (size_t)k;
}

static void on_event(const struct tls_event *ev, void *user)
{
    struct out *o = user;
    char vb[8];
    unsigned i;

    if (ev->type == TLS_EV_RECORD && !o->records)
        return;
    if (o->n > 0)
        add(o, "%s", " ");
    add(o, "%s:", ev->dir == 0 ? "C" : "S");
    switch (ev->type) {
    case TLS_EV_CLIENT_HELLO:
        add(o, "ch(sni=%s", ev->sni != NULL ? ev->sni : "-");
        add(o, "%s", ",v=");
        for (i = 0; i < ev->n_versions; i++)
            addu(o, i ? "/%04lx" : "%04lx", ev->versions[i]);
        add(o, "%s", ",alpn=");
        for (i = 0; i < ev->n_alpn; i++)
            add(o, i ? "/%s" : "%s", ev->alpn[i]);
        addu(o, ",nc=%lu)", ev->n_ciphers);
        break;
    case TLS_EV_SERVER_HELLO:
        add(o, "sh(%s", tls_version_name(ev->version, vb, sizeof(vb)));
        addu(o, ",c=%04lx", ev->cipher);
        if (ev->have_group)
            add(o, ",g=%s", tls_group_name(ev->group, vb, sizeof(vb)));
        add(o, "%s)", ev->hello_retry ? ",hrr" : "");
        break;
    case TLS_EV_CERTIFICATE:
        addu(o, "cert(len=%lu", ev->cert_msg_len);
        addu(o, ",n=%lu", ev->n_certs);
        if (ev->cert_parsed) {
            add(o, ",cn=%s", ev->cert_cn ? ev->cert_cn : "-");
            add(o, ",iss=%s", ev->cert_issuer_cn ? ev->cert_issuer_cn : "-");
            add(o, ",nb=%s", ev->cert_not_before ? ev->cert_not_before : "-");
            add(o, ",na=%s", ev->cert_not_after ? ev->cert_not_after : "-");
            add(o, "%s", ",san=");
            for (i = 0; i < ev->n_san; i++)
                add(o, i ? "|%s" : "%s", ev->cert_san[i]);
            if (ev->cert_self_issued)
                add(o, "%s", ",self");
        }
        add(o, "%s)", ev->truncated ? ",trunc" : "");
        break;
    case TLS_EV_CERT_REQUEST: add(o, "%s", "certreq"); break;
    case TLS_EV_ALERT:
        if (ev->alert_encrypted)
            add(o, "%s", "alert(encrypted)");
        else {
            add(o, "alert(%s", ev->alert_level_name);
            add(o, ",%s)", ev->alert_desc_name);
        }
        break;
    case TLS_EV_CCS: add(o, "%s", "ccs"); break;
    case TLS_EV_HANDSHAKE_DONE: add(o, "done(%s)", tls_version_name(ev->version, vb, sizeof(vb))); break;
    case TLS_EV_HANDSHAKE_ENCRYPTED: add(o, "%s", "hs_encrypted"); break;
    case TLS_EV_ENCRYPTED: addu(o, "encrypted(%lu)", ev->record_type); break;
    case TLS_EV_ERROR:
        add(o, "error(%s", ev->error);
        addu(o, "@%lu)", ev->offset);
        break;
    case TLS_EV_GAP: addu(o, "gap(%lu)", ev->nbytes); break;
    case TLS_EV_KEY_EXCHANGE:
        add(o, "kx(%s)", tls_group_name(ev->group, vb, sizeof(vb)));
        break;
    case TLS_EV_RECORD:
        addu(o, "rec(%lu", ev->record_type);
        addu(o, "/%lu", ev->record_len);
        addu(o, ",#%lu)", ev->record_seq);
        break;
    }
    addu(o, "#%lu", ev->meta.frame);
}

enum { CH_WHOLE, CH_SPLIT, CH_SIZE, CH_RANDOM };

static uint64_t lcg(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return *s >> 33;
}

/* Run the segments through a fresh tls_conn with one chunking; render into o. */
static void run(const struct seg *segs, size_t nseg, const struct tls_config *cfg, int mode, size_t param,
                struct out *o)
{
    struct tls_conn *t = tls_conn_new(cfg, on_event, o);
    uint64_t rng = param * 7919u + 1u;
    size_t i;

    o->n = 0;
    o->s[0] = '\0';
    o->records = want_records;
    if (t == NULL)
        return;
    for (i = 0; i < nseg; i++) {
        struct ft_meta m;
        size_t off = 0;

        memset(&m, 0, sizeof(m));
        m.frame = i + 1;
        m.flow_id = 7;
        m.dir = (uint8_t)segs[i].dir;
        if (segs[i].op == 1) {
            tls_conn_gap(t, segs[i].dir, segs[i].n, &m);
            continue;
        }
        if (segs[i].op == 2) {
            tls_conn_eof(t, segs[i].dir, &m);
            continue;
        }
        while (off < segs[i].n) {
            size_t k = segs[i].n - off;

            if (mode == CH_SPLIT && off == 0 && param < segs[i].n)
                k = param;
            else if (mode == CH_SIZE && k > param)
                k = param;
            else if (mode == CH_RANDOM)
                k = 1 + (size_t)(lcg(&rng) % (k < 40 ? k : 40));
            tls_conn_data(t, segs[i].dir, segs[i].p + off, k, &m);
            off += k;
        }
    }
    tls_conn_free(t);
}

/* Expect the same rendering for every chunking; returns 1 if all matched. */
static int expect(const char *name, const struct seg *segs, size_t nseg, const struct tls_config *cfg,
                  const char *want)
{
    static struct out o;
    size_t maxlen = 0, i, k;
    int ok = 1;

    for (i = 0; i < nseg; i++)
        if (segs[i].op == 0 && segs[i].n > maxlen)
            maxlen = segs[i].n;
    run(segs, nseg, cfg, CH_WHOLE, 0, &o);
    if (!CHECK(strcmp(o.s, want) == 0)) {
        printf("  %s whole:\n    got  %s\n    want %s\n", name, o.s, want);
        return 0;
    }
    for (k = 1; k < maxlen && ok; k++) {
        run(segs, nseg, cfg, CH_SPLIT, k, &o);
        if (strcmp(o.s, want) != 0) {
            printf("  %s split at %zu:\n    got  %s\n    want %s\n", name, k, o.s, want);
            ok = 0;
        }
    }
    for (k = 1; k <= 8 && ok; k++) {
        run(segs, nseg, cfg, CH_SIZE, k, &o);
        if (strcmp(o.s, want) != 0) {
            printf("  %s chunk %zu:\n    got  %s\n    want %s\n", name, k, o.s, want);
            ok = 0;
        }
    }
    for (k = 0; k < 30 && ok; k++) {
        run(segs, nseg, cfg, CH_RANDOM, k, &o);
        if (strcmp(o.s, want) != 0) {
            printf("  %s random %zu:\n    got  %s\n    want %s\n", name, k, o.s, want);
            ok = 0;
        }
    }
    CHECK(ok);
    return ok;
}

/* Wrap a handshake message builder's output into one record. */
static void rec(struct tb *out, unsigned type, const struct tb *payload)
{
    tb_record(out, type, type == 22 ? 0x0301 : 0x0303, payload->b, payload->n);
}

static const uint8_t ccs_body[1] = {1};
static const uint8_t junk40[40] = {0x17, 0x42, 0x99};

static void test_tls12_full(void)
{
    static const char *const alpn[] = {"xmpp-server"};
    static const char *const san[] = {"b.example", "conference.b.example"};
    static const unsigned v12[] = {0x0303};
    static struct tb ch, m, srv, der, cli, c2, s2, app;
    struct seg segs[8];

    memset(&ch, 0, sizeof(ch));
    memset(&m, 0, sizeof(m));
    memset(&srv, 0, sizeof(srv));
    memset(&der, 0, sizeof(der));
    memset(&cli, 0, sizeof(cli));
    memset(&c2, 0, sizeof(c2));
    memset(&s2, 0, sizeof(s2));
    memset(&app, 0, sizeof(app));

    tb_client_hello_msg(&m, "b.example", alpn, 1, v12, 1);
    rec(&ch, 22, &m);

    /* server flight: SH, Certificate(2), CertificateRequest, SHD in one record */
    m.n = 0;
    tb_server_hello_msg(&m, 0x0303, 0, 0);
    tb_der_cert(&der, "b.example", "Example CA", "261231235959Z", san, 2);
    tb_certificate_msg(&m, der.b, der.n, 2);
    tb_u8(&m, 13);
    tb_u24(&m, 4);
    tb_u8(&m, 1);
    tb_u8(&m, 1);
    tb_u16(&m, 0);
    tb_u8(&m, 14);
    tb_u24(&m, 0);
    rec(&srv, 22, &m);

    /* client: empty Certificate + ClientKeyExchange, CCS, Finished (encrypted) */
    m.n = 0;
    tb_u8(&m, 11);
    tb_u24(&m, 3);
    tb_u24(&m, 0);
    tb_u8(&m, 16);
    tb_u24(&m, 2);
    tb_u16(&m, 0);
    rec(&cli, 22, &m);
    tb_record(&cli, 20, 0x0303, ccs_body, 1);
    tb_record(&cli, 22, 0x0303, junk40, 40);

    tb_record(&s2, 20, 0x0303, ccs_body, 1);
    tb_record(&s2, 22, 0x0303, junk40, 40);
    tb_record(&app, 23, 0x0303, junk40, 40);
    CHECK(!ch.bad && !srv.bad && !cli.bad && !der.bad);

    segs[0] = (struct seg){0, 0, ch.b, ch.n};
    segs[1] = (struct seg){1, 0, srv.b, srv.n};
    segs[2] = (struct seg){0, 0, cli.b, cli.n};
    segs[3] = (struct seg){1, 0, s2.b, s2.n};
    segs[4] = (struct seg){0, 0, app.b, app.n};
    segs[5] = (struct seg){1, 0, app.b, app.n};
    segs[6] = (struct seg){0, 2, NULL, 0};
    segs[7] = (struct seg){0, 0, app.b, app.n};
    expect("tls12", segs, 8, NULL,
           "C:ch(sni=b.example,v=0303,alpn=xmpp-server,nc=3)#1 S:sh(TLS 1.2,c=c02f)#2 "
           "S:cert(len=361,n=2,cn=b.example,iss=Example CA,nb=250101000000Z,na=261231235959Z,"
           "san=b.example|conference.b.example)#2 S:certreq#2 "
           "C:cert(len=3,n=0)#3 C:ccs#3 C:encrypted(22)#3 S:ccs#4 S:encrypted(22)#4 S:done(TLS 1.2)#4");
}

static void test_tls13(void)
{
    static const char *const alpn[] = {"xmpp-server", "h2"};
    static const unsigned v13[] = {0x0304, 0x0303};
    static struct tb m, ch, sh, s2, c2;
    struct seg segs[4];

    memset(&m, 0, sizeof(m));
    memset(&ch, 0, sizeof(ch));
    memset(&sh, 0, sizeof(sh));
    memset(&s2, 0, sizeof(s2));
    memset(&c2, 0, sizeof(c2));
    tb_client_hello_msg(&m, "b.example", alpn, 2, v13, 2);
    /* the ClientHello spread over three records */
    tb_record(&ch, 22, 0x0301, m.b, 20);
    tb_record(&ch, 22, 0x0301, m.b + 20, 30);
    tb_record(&ch, 22, 0x0301, m.b + 50, m.n - 50);
    m.n = 0;
    tb_server_hello_msg(&m, 0x0303, 0x0304, 0);
    rec(&sh, 22, &m);
    tb_record(&sh, 20, 0x0303, ccs_body, 1);
    tb_record(&sh, 23, 0x0303, junk40, 40);
    tb_record(&c2, 20, 0x0303, ccs_body, 1);
    tb_record(&c2, 23, 0x0303, junk40, 40);
    /* a 1.2-style encrypted alert would be type 23 in 1.3: nothing more */
    tb_record(&c2, 23, 0x0303, junk40, 19);
    segs[0] = (struct seg){0, 0, ch.b, ch.n};
    segs[1] = (struct seg){1, 0, sh.b, sh.n};
    segs[2] = (struct seg){0, 0, c2.b, c2.n};
    segs[3] = (struct seg){1, 2, NULL, 0};
    expect("tls13", segs, 4, NULL,
           "C:ch(sni=b.example,v=0304/0303,alpn=xmpp-server/h2,nc=3)#1 S:sh(TLS 1.3,c=1301)#2 "
           "S:hs_encrypted#2 S:ccs#2 S:encrypted(23)#2 C:ccs#3 C:encrypted(23)#3");
}

/* Opaque records are reported one by one with their sizes (plaintext
 * ones are not), up to TLS_RECORD_EVENTS_MAX per direction, then counted. */
static void test_records(void)
{
    static const unsigned v13[] = {0x0304};
    static struct tb m, ch, sh, c2, many;
    static uint8_t zero[200];
    struct seg segs[5];
    struct tls_conn *t;
    struct out o;
    unsigned i;

    memset(&m, 0, sizeof(m));
    memset(&ch, 0, sizeof(ch));
    memset(&sh, 0, sizeof(sh));
    memset(&c2, 0, sizeof(c2));
    memset(&many, 0, sizeof(many));
    tb_client_hello_msg(&m, "b.example", NULL, 0, v13, 1);
    rec(&ch, 22, &m);
    m.n = 0;
    tb_server_hello_msg(&m, 0x0303, 0x0304, 0);
    rec(&sh, 22, &m);
    tb_record(&sh, 20, 0x0303, ccs_body, 1);
    tb_record(&sh, 23, 0x0303, zero, 53);
    tb_record(&c2, 20, 0x0303, ccs_body, 1);
    tb_record(&c2, 23, 0x0303, zero, 53);
    tb_record(&c2, 23, 0x0303, zero, 200);
    segs[0] = (struct seg){0, 0, ch.b, ch.n};
    segs[1] = (struct seg){1, 0, sh.b, sh.n};
    segs[2] = (struct seg){0, 0, c2.b, c2.n};
    segs[3] = (struct seg){1, 0, zero, 0};
    segs[4] = (struct seg){1, 2, NULL, 0};
    want_records = true;
    expect("records", segs, 5, NULL,
           "C:ch(sni=b.example,v=0304,alpn=,nc=3)#1 S:sh(TLS 1.3,c=1301)#2 S:hs_encrypted#2 S:ccs#2 "
           "S:encrypted(23)#2 S:rec(23/53,#0)#2 C:ccs#3 C:encrypted(23)#3 C:rec(23/53,#0)#3 "
           "C:rec(23/200,#1)#3");
    want_records = false;

    /* the cap: 70 records in one direction, 64 reported, 6 counted */
    for (i = 0; i < 70; i++)
        tb_record(&many, 23, 0x0303, zero, 10);
    memset(&o, 0, sizeof(o));
    o.records = true;
    t = tls_conn_new(NULL, on_event, &o);
    if (!CHECK(t != NULL))
        return;
    {
        struct ft_meta mt;
        memset(&mt, 0, sizeof(mt));
        tls_conn_data(t, 0, many.b, many.n, &mt);
    }
    CHECK(strstr(o.s, "rec(23/10,#63)") != NULL);
    CHECK(strstr(o.s, "rec(23/10,#64)") == NULL);
    CHECK(tls_conn_records_unreported(t, 0) == 6);
    CHECK(tls_conn_records_unreported(t, 1) == 0);
    tls_conn_free(t);
}

static void test_hrr_and_alerts(void)
{
    static const unsigned v13[] = {0x0304};
    static struct tb m, ch, sh, al, c2;
    static const uint8_t alert_uca[2] = {2, 48};
    static const uint8_t alert_cn[4] = {1, 0, 2, 200};
    struct seg segs[5];

    memset(&m, 0, sizeof(m));
    memset(&ch, 0, sizeof(ch));
    memset(&sh, 0, sizeof(sh));
    memset(&al, 0, sizeof(al));
    memset(&c2, 0, sizeof(c2));
    tb_client_hello_msg(&m, NULL, NULL, 0, v13, 1);
    rec(&ch, 22, &m);
    m.n = 0;
    tb_server_hello_msg(&m, 0x0303, 0x0304, 1);
    rec(&sh, 22, &m);
    /* client: compat CCS then a second ClientHello, still plaintext */
    tb_record(&c2, 20, 0x0303, ccs_body, 1);
    tb_mem(&c2, ch.b, ch.n);
    tb_record(&al, 21, 0x0303, alert_uca, 2);
    /* two alerts in one record, second with an unknown description */
    tb_record(&al, 21, 0x0303, alert_cn, 4);
    segs[0] = (struct seg){0, 0, ch.b, ch.n};
    segs[1] = (struct seg){1, 0, sh.b, sh.n};
    segs[2] = (struct seg){0, 0, c2.b, c2.n};
    segs[3] = (struct seg){1, 0, al.b, al.n};
    segs[4] = (struct seg){1, 1, NULL, 1460};
    expect("hrr", segs, 5, NULL,
           "C:ch(sni=-,v=0304,alpn=,nc=3)#1 S:sh(TLS 1.3,c=1301,hrr)#2 C:ccs#3 "
           "C:ch(sni=-,v=0304,alpn=,nc=3)#3 S:alert(fatal,unknown_ca)#4 S:alert(warning,close_notify)#4 "
           "S:alert(fatal,unknown(200))#4 S:gap(1460)#5");
}

static void test_encrypted_alert_and_errors(void)
{
    static const char xml[] = "<stream:stream xmlns='jabber:server'>";
    static const uint8_t bad[6] = {0x16, 0x03, 0x01, 0x00, 0x01, 0x30};
    static struct tb a, b;
    struct seg segs[3];

    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    tb_record(&a, 20, 0x0303, ccs_body, 1);
    tb_record(&a, 21, 0x0303, junk40, 26);
    tb_record(&a, 21, 0x0303, (const uint8_t *)"\x01\x00", 2);
    /* a sane record, then a content type of '0' */
    tb_mem(&b, bad, 6);
    tb_mem(&b, "0\x03\x03\x00\x01", 5);
    segs[0] = (struct seg){0, 0, (const uint8_t *)xml, sizeof(xml) - 1};
    segs[1] = (struct seg){1, 0, a.b, a.n};
    segs[2] = (struct seg){1, 0, b.b, b.n};
    expect("errors", segs, 3, NULL,
           "C:error(XML where a TLS record was expected@5)#1 S:ccs#2 S:alert(encrypted)#2 S:encrypted(21)#2 "
           "S:alert(warning,close_notify)#2 S:error(not a TLS record (bad content type)@55)#3");
    segs[0] = (struct seg){1, 0, b.b, b.n};
    expect("badtype", segs, 1, NULL, "S:error(not a TLS record (bad content type)@11)#1");
}

static void test_truncated(void)
{
    static const char *const san[] = {"x.example"};
    static struct tb der, m, r, ch;
    struct tls_config cfg;
    struct seg segs[2];
    size_t i;

    memset(&der, 0, sizeof(der));
    memset(&m, 0, sizeof(m));
    memset(&r, 0, sizeof(r));
    memset(&ch, 0, sizeof(ch));
    tls_config_default(&cfg);
    cfg.max_handshake = 100;
    tb_der_cert(&der, "x.example", "x.example", "300101000000Z", san, 1);
    tb_certificate_msg(&m, der.b, der.n, 1);
    rec(&r, 22, &m);
    segs[0] = (struct seg){1, 0, r.b, r.n};
    expect("trunc", segs, 1, &cfg, "S:cert(len=159,n=0,trunc)#1");
    cfg.max_handshake = 65536;
    expect("selfsigned", segs, 1, &cfg,
           "S:cert(len=159,n=1,cn=x.example,iss=x.example,nb=250101000000Z,na=300101000000Z,san=x.example,self)#1");

    /* a ClientHello whose inner lengths lie: every truncation must parse safely */
    m.n = 0;
    tb_client_hello_msg(&m, "b.example", NULL, 0, NULL, 0);
    for (i = 4; i < m.n; i++) {
        static struct out o;
        struct tb bad;

        memset(&bad, 0, sizeof(bad));
        tb_u8(&bad, 1);
        tb_u24(&bad, i - 4);
        tb_mem(&bad, m.b + 4, i - 4);
        ch.n = 0;
        rec(&ch, 22, &bad);
        segs[0] = (struct seg){0, 0, ch.b, ch.n};
        run(segs, 1, NULL, CH_WHOLE, 0, &o);
        CHECK(strncmp(o.s, "C:ch(", 5) == 0);
    }
}

/* A ServerHello with one extension (type ext, body p/n); cipher given. */
static void sh_with_ext(struct tb *m, unsigned cipher, unsigned ext, const uint8_t *p, size_t n)
{
    size_t body, exts, x;
    int i;

    tb_u8(m, 2);
    body = tb_open(m, 3);
    tb_u16(m, 0x0303);
    for (i = 0; i < 32; i++)
        tb_u8(m, 0x40u + (unsigned)i);
    tb_u8(m, 0);
    tb_u16(m, cipher);
    tb_u8(m, 0);
    exts = tb_open(m, 2);
    if (cipher == 0x1301) {
        tb_u16(m, 43);
        tb_u16(m, 2);
        tb_u16(m, 0x0304);
    }
    tb_u16(m, ext);
    x = tb_open(m, 2);
    tb_mem(m, p, n);
    tb_close(m, x, 2);
    tb_close(m, exts, 2);
    tb_close(m, body, 3);
}

/* The key-exchange group: TLS 1.3 key_share (known, post-quantum hybrid,
 * unknown number, too short to hold one), TLS 1.2 ECDHE ServerKeyExchange
 * (named_curve; explicit curves and truncated bodies name nothing). */
static void test_groups(void)
{
    static const uint8_t ks_mlkem[] = {0x11, 0xec, 0x00, 0x02, 0xaa, 0xbb};
    static const uint8_t ks_odd[] = {0x77, 0x77, 0x00, 0x00};
    static const uint8_t ks_short[] = {0x00};
    static const uint8_t ske_p256[] = {3, 0x00, 0x17, 4, 1, 2, 3, 4, 0x04, 0x03, 0x00, 0x00};
    static const uint8_t ske_explicit[] = {1, 0x00, 0x17};
    static const uint8_t ske_cut[] = {3, 0x00};
    static struct tb m, sh;
    struct seg segs[1];
    const struct {
        const char *name;
        unsigned cipher;
        const uint8_t *ks;
        size_t nks;
        const uint8_t *ske;
        size_t nske;
        const char *want;
    } cases[] = {
        { "group-mlkem", 0x1301, ks_mlkem, sizeof(ks_mlkem), NULL, 0,
          "S:sh(TLS 1.3,c=1301,g=X25519MLKEM768)#1 S:hs_encrypted#1" },
        { "group-unknown", 0x1301, ks_odd, sizeof(ks_odd), NULL, 0,
          "S:sh(TLS 1.3,c=1301,g=0x7777)#1 S:hs_encrypted#1" },
        { "group-short", 0x1301, ks_short, sizeof(ks_short), NULL, 0,
          "S:sh(TLS 1.3,c=1301)#1 S:hs_encrypted#1" },
        { "group-ske", 0xc02f, NULL, 0, ske_p256, sizeof(ske_p256),
          "S:sh(TLS 1.2,c=c02f)#1 S:kx(secp256r1)#1" },
        { "group-ske-explicit", 0xc02f, NULL, 0, ske_explicit, sizeof(ske_explicit),
          "S:sh(TLS 1.2,c=c02f)#1" },
        { "group-ske-cut", 0xc02f, NULL, 0, ske_cut, sizeof(ske_cut), "S:sh(TLS 1.2,c=c02f)#1" },
        { "group-ske-rsa-kx", 0x009c, NULL, 0, ske_p256, sizeof(ske_p256), "S:sh(TLS 1.2,c=009c)#1" },
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        memset(&m, 0, sizeof(m));
        memset(&sh, 0, sizeof(sh));
        sh_with_ext(&m, cases[i].cipher, cases[i].ks ? 51 : 0xff01, cases[i].ks ? cases[i].ks : ks_short,
                    cases[i].ks ? cases[i].nks : 1);
        if (cases[i].ske) {
            tb_u8(&m, 12);
            tb_u24(&m, (unsigned)cases[i].nske);
            tb_mem(&m, cases[i].ske, cases[i].nske);
        }
        rec(&sh, 22, &m);
        CHECK(!m.bad && !sh.bad);
        segs[0] = (struct seg){1, 0, sh.b, sh.n};
        expect(cases[i].name, segs, 1, NULL, cases[i].want);
    }
}

int main(void)
{
    char vb[TLS_NAME_BUFLEN];

    CHECK(strcmp(tls_version_name(0x0303, vb, sizeof(vb)), "TLS 1.2") == 0);
    CHECK(strcmp(tls_version_name(0x7f1c, vb, sizeof(vb)), "0x7f1c") == 0);
    CHECK(strcmp(tls_alert_name(112, vb, sizeof(vb)), "unrecognized_name") == 0);
    CHECK(strcmp(tls_alert_name(201, vb, sizeof(vb)), "unknown(201)") == 0);
    CHECK(strcmp(tls_alert_level_name(2, vb, sizeof(vb)), "fatal") == 0);
    CHECK(strcmp(tls_alert_level_name(7, vb, sizeof(vb)), "unknown(7)") == 0);
    CHECK(strcmp(tls_alert_name(201, NULL, 0), "?") == 0);
    CHECK(strcmp(tls_group_name(29, vb, sizeof(vb)), "x25519") == 0);
    CHECK(strcmp(tls_group_name(256, vb, sizeof(vb)), "ffdhe2048") == 0);
    CHECK(strcmp(tls_group_name(0x6399, vb, sizeof(vb)), "X25519Kyber768Draft00") == 0);
    CHECK(strcmp(tls_group_name(0xabcd, vb, sizeof(vb)), "0xabcd") == 0);
    test_tls12_full();
    test_tls13();
    test_records();
    test_hrr_and_alerts();
    test_encrypted_alert_and_errors();
    test_truncated();
    test_groups();
    return check_summary("tls");
}
