/*
 * keystore.c - the run's TLS key store: key log files, the captures'
 * Decryption Secrets Blocks, the decryption context (see keystore.h).
 */
#include "keystore.h"

#include <stdlib.h>
#include <string.h>

#include "keylog.h"

struct keystore {
    const struct capture *cap;             /* borrowed */
    struct keylog *kl;                     /* owned */
    struct tls_decrypt_ctx *ctx;           /* owned; borrows kl */
    size_t blocks_seen[FACT_MAX_SOURCES];  /* secrets blocks examined, per source */
    uint64_t tls_blocks;                   /* of them, TLS key logs */
};

/* keylog_pull_fn: the secrets blocks read since the last call. */
static void pull_blocks(void *user, struct keylog *kl)
{
    struct keystore *ks = user;
    unsigned n;

    if (ks->cap == NULL)
        return;
    n = capture_source_count(ks->cap);
    for (unsigned i = 0; i < n && i < FACT_MAX_SOURCES; i++) {
        size_t count = capture_secrets_count(ks->cap, i);

        for (; ks->blocks_seen[i] < count; ks->blocks_seen[i]++) {
            uint32_t type = 0;
            size_t len = 0;
            const uint8_t *p = capture_secrets_at(ks->cap, i, ks->blocks_seen[i], &type, &len);

            if (p != NULL && keylog_add_secrets_block(kl, type, p, len))
                ks->tls_blocks++;
        }
    }
}

struct keystore *keystore_new(const struct capture *cap)
{
    struct keystore *ks = calloc(1, sizeof(*ks));

    if (ks == NULL)
        return NULL;
    ks->cap = cap;
    ks->kl = keylog_new(NULL);
    if (ks->kl == NULL)
        goto fail;
    ks->ctx = tls_decrypt_ctx_new(NULL, ks->kl);
    if (ks->ctx == NULL)
        goto fail;
    keylog_set_pull(ks->kl, pull_blocks, ks);
    return ks;
fail:
    keystore_free(ks);
    return NULL;
}

int keystore_add_file(struct keystore *ks, const char *path, char *err, size_t errlen, char *warn,
                      size_t warnlen)
{
    return keylog_add_file(ks->kl, path, err, errlen, warn, warnlen);
}

struct tls_decrypt_ctx *keystore_decrypt_ctx(struct keystore *ks)
{
    return ks != NULL ? ks->ctx : NULL;
}

void keystore_snapshot(const struct keystore *ks, struct stats_snapshot *snap)
{
    struct decrypt_stats *d = &snap->decrypt;
    struct keylog_stats kst;
    struct tls_decrypt_stats dst;

    memset(d, 0, sizeof(*d));
    if (ks == NULL)
        return;
    keylog_get_stats(ks->kl, &kst);
    tls_decrypt_ctx_stats(ks->ctx, &dst);
    d->enabled = kst.files > 0 || ks->tls_blocks > 0;
    d->keylog_files = kst.files;
    d->secrets_blocks = ks->tls_blocks;
    d->secrets = kst.secrets;
    d->malformed_lines = kst.malformed;
    d->connections = dst.conns;
    d->connections_refused = dst.conns_refused;
    d->records = dst.records;
    d->plaintext_bytes = dst.app_bytes;
    d->auth_failures = dst.auth_failures;
    d->no_key = dst.no_key;
    d->unsupported = dst.unsupported;
    d->errors = dst.errors;
    d->key_updates = dst.key_updates;
    d->connections_decrypted = dst.conns_decrypted;
    d->connections_fallen_back = dst.conns_stopped;
    d->key_waits = dst.key_waits;
    d->keys_late = dst.keys_late;
    d->held_records = dst.held_records;
    d->held_overflows = dst.held_overflows;
}

void keystore_free(struct keystore *ks)
{
    if (ks == NULL)
        return;
    tls_decrypt_ctx_free(ks->ctx);
    keylog_free(ks->kl);
    free(ks);
}
