/*
 * tls_replay.c - test driver: decrypts the direct-TLS connections of a
 * capture with a key log, through the real capture + pipeline.
 *
 *   tls_replay OUTDIR KEYLOG|- FILE...
 *
 * Every flow the pipeline hands to the XMPP dissector slot (XMPP ports,
 * TLS from the first byte) goes through dissectors/tls.c (for the hello
 * randoms, version and suite) and dissectors/tls_decrypt.c, fed in
 * packet order.  OUTDIR/<flow>.c2s and .s2c get the decrypted application
 * bytes; stdout gets one line per decryption event and a summary.  KEYLOG
 * "-" means none: only the key logs embedded in pcapng Decryption Secrets
 * Blocks are used (they are always loaded).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"
#include "keylog.h"
#include "pipeline.h"
#include "../dissectors/tls.h"
#include "../dissectors/tls_decrypt.h"

struct replay {
    const char *outdir;
    struct capture *cap;
    struct keylog *kl;
    struct tls_decrypt_ctx *ctx;
    size_t dsb_loaded;
};

struct replay_flow {
    struct replay *r;
    uint64_t id;
    struct tls_conn *tc;
    struct tls_decrypt *td;
    FILE *fp[2];
};

static void load_dsb(struct replay *r)
{
    unsigned i;
    size_t j, seen = 0;

    for (i = 0; i < capture_source_count(r->cap); i++) {
        for (j = 0; j < capture_secrets_count(r->cap, i); j++, seen++) {
            uint32_t type = 0;
            size_t len = 0;
            const uint8_t *p;

            if (seen < r->dsb_loaded)
                continue;
            p = capture_secrets_at(r->cap, i, j, &type, &len);
            if (p != NULL && keylog_add_secrets_block(r->kl, type, p, len))
                printf("dsb source=%u index=%zu type=TLSK\n", i, j);
        }
    }
    r->dsb_loaded = seen;
}

static void on_dec_data(void *user, int dir, const uint8_t *p, size_t n)
{
    struct replay_flow *f = user;

    if (f->fp[dir] != NULL)
        fwrite(p, 1, n, f->fp[dir]);
}

static void on_dec_event(void *user, const struct tls_decrypt_event *ev)
{
    struct replay_flow *f = user;

    printf("flow=%" PRIu64 " ev=%s dir=%d record=%" PRIu64 " epoch=%d gen=%u version=0x%04x"
           " cipher=0x%04x",
           f->id, tls_decrypt_event_name(ev->type), ev->dir, ev->record, (int)ev->epoch,
           ev->generation, ev->version, ev->cipher);
    if (ev->type == TLS_DEC_EV_ALERT)
        printf(" alert=%u.%u", ev->alert_level, ev->alert_desc);
    if (ev->reason != NULL)
        printf(" reason=\"%s\"", ev->reason);
    printf("\n");
}

static void on_tls_event(const struct tls_event *ev, void *user)
{
    struct replay_flow *f = user;

    if (ev->type == TLS_EV_CLIENT_HELLO && ev->have_random)
        tls_decrypt_client_hello(f->td, ev->random);
    else if (ev->type == TLS_EV_SERVER_HELLO && ev->have_random)
        tls_decrypt_server_hello(f->td, ev->random, ev->version, ev->cipher, ev->hello_retry,
                                 ev->encrypt_then_mac);
}

static void *rf_open(void *user, const struct flow_info *fi, const struct ft_meta *m)
{
    struct replay *r = user;
    struct replay_flow *f = calloc(1, sizeof(*f));
    char path[512];
    int d;

    (void)m;
    if (f == NULL)
        return NULL;
    load_dsb(r);
    f->r = r;
    f->id = fi->flow_id;
    f->td = tls_decrypt_new(r->ctx, NULL, on_dec_data, on_dec_event, f);
    f->tc = tls_conn_new(NULL, on_tls_event, f);
    for (d = 0; d < 2; d++) {
        snprintf(path, sizeof(path), "%s/%" PRIu64 ".%s", r->outdir, f->id, d ? "s2c" : "c2s");
        f->fp[d] = fopen(path, "wb");
    }
    return f;
}

static void rf_data(void *st, enum ft_dir dir, const uint8_t *p, size_t n, const struct ft_meta *m)
{
    struct replay_flow *f = st;

    tls_conn_data(f->tc, (int)dir, p, n, m);
    tls_decrypt_data(f->td, (int)dir, p, n);
}

static void rf_gap(void *st, enum ft_dir dir, uint64_t n, const struct ft_meta *m)
{
    struct replay_flow *f = st;

    tls_conn_gap(f->tc, (int)dir, n, m);
    tls_decrypt_gap(f->td, (int)dir);
}

static void rf_eof(void *st, enum ft_dir dir, const struct ft_meta *m)
{
    struct replay_flow *f = st;

    tls_conn_eof(f->tc, (int)dir, m);
}

static void rf_close(void *st, const struct ft_meta *m)
{
    struct replay_flow *f = st;
    int d;

    (void)m;
    tls_decrypt_retry(f->td, true); /* the connection ends: a secret still missing stops it */
    printf("flow=%" PRIu64 " end stopped=%d decrypted_c2s=%d decrypted_s2c=%d\n", f->id,
           tls_decrypt_stopped(f->td), tls_decrypt_decrypted(f->td, 0),
           tls_decrypt_decrypted(f->td, 1));
    for (d = 0; d < 2; d++)
        if (f->fp[d] != NULL)
            fclose(f->fp[d]);
    tls_decrypt_free(f->td);
    tls_conn_free(f->tc);
    free(f);
}

static void on_frame(void *user, int linktype, const uint8_t *data, uint32_t caplen,
                     uint32_t wirelen, const struct ft_meta *m)
{
    pipeline_packet(user, linktype, data, caplen, wirelen, m);
}

int main(int argc, char **argv)
{
    struct replay r = { 0 };
    struct stream_dissector sd = { "tls-replay", rf_open, rf_data, rf_gap, rf_eof, rf_close, &r, NULL };
    struct dissector_set ds = { .xmpp = &sd };
    struct fact_sink sink = { 0 };
    struct pipeline_config cfg;
    struct capture_options co = { 0 };
    struct tls_decrypt_stats st;
    struct keylog_stats ks;
    struct pipeline pl;
    char err[1024], warn[1024];
    int i, rc = 2;

    if (argc < 4) {
        fprintf(stderr, "usage: tls_replay OUTDIR KEYLOG|- FILE...\n");
        return 2;
    }
    r.outdir = argv[1];
    r.cap = capture_new(NULL);
    r.kl = keylog_new(NULL);
    r.ctx = tls_decrypt_ctx_new(NULL, r.kl);
    if (r.cap == NULL || r.kl == NULL || r.ctx == NULL)
        goto out;
    if (strcmp(argv[2], "-") != 0) {
        if (keylog_add_file(r.kl, argv[2], err, sizeof(err), warn, sizeof(warn)) != 0) {
            fprintf(stderr, "tls_replay: %s\n", err);
            goto out;
        }
        if (warn[0] != '\0')
            printf("warning: %s\n", warn);
    }
    for (i = 3; i < argc; i++) {
        if (capture_add(r.cap, argv[i], false, &co, err, sizeof(err)) != 0) {
            fprintf(stderr, "tls_replay: %s\n", err);
            goto out;
        }
    }
    pipeline_config_default(&cfg);
    if (pipeline_init(&pl, &cfg, &ds, &sink) != 0)
        goto out;
    capture_run(r.cap, &co, on_frame, &pl);
    pipeline_finish(&pl);
    pipeline_destroy(&pl);
    tls_decrypt_ctx_stats(r.ctx, &st);
    keylog_get_stats(r.kl, &ks);
    printf("stats conns=%" PRIu64 " records=%" PRIu64 " app_bytes=%" PRIu64
           " auth_failures=%" PRIu64 " no_key=%" PRIu64 " unsupported=%" PRIu64
           " errors=%" PRIu64 " key_updates=%" PRIu64 " keylog_secrets=%" PRIu64
           " keylog_malformed=%" PRIu64 "\n",
           st.conns, st.records, st.app_bytes, st.auth_failures, st.no_key, st.unsupported,
           st.errors, st.key_updates, ks.secrets, ks.malformed);
    rc = 0;
out:
    tls_decrypt_ctx_free(r.ctx);
    keylog_free(r.kl);
    capture_free(r.cap);
    return rc;
}
