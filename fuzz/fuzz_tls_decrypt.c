/*
 * fuzz_tls_decrypt.c - libFuzzer harness for the key log reader and the
 * TLS record decryptor (analyzer/keylog.c, dissectors/tls*_decrypt.c), fed
 * the way the stream will feed them: both directions through
 * dissectors/tls.c for the hellos, and through the decryptor.
 *
 * Input layout:
 *   bytes 0-1   client_first: bytes of the client stream fed first (BE)
 *   byte 2      chunk size - 1 (1..256)
 *   byte 3      flags: bit0 end with a gap on the server side
 *   rest        key log text, "\n==\n", the client's bytes, "\n--\n",
 *               the server's bytes
 * Feeding order: client[0, client_first), the whole server stream, then
 * the rest of the client stream, each in `chunk`-sized pieces.  Seeds
 * (fuzz/corpus/tls_decrypt/) are the sessions of tests/fixtures/tls with
 * their key logs, so every path up to application data is reachable.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../analyzer/keylog.h"
#include "../dissectors/tls.h"
#include "../dissectors/tls_decrypt.h"

struct fz {
    struct tls_decrypt *td;
    size_t sum;
};

static void on_data(void *user, int dir, const uint8_t *p, size_t n)
{
    struct fz *f = user;

    f->sum += n + (size_t)dir + (n > 0 ? p[0] + p[n - 1] : 0);
}

static void on_event(void *user, const struct tls_decrypt_event *ev)
{
    struct fz *f = user;

    f->sum += (size_t)ev->type + (ev->reason != NULL ? strlen(ev->reason) : 0);
}

static void on_tls(const struct tls_event *ev, void *user)
{
    struct fz *f = user;

    if (ev->type == TLS_EV_CLIENT_HELLO && ev->have_random)
        tls_decrypt_client_hello(f->td, ev->random);
    else if (ev->type == TLS_EV_SERVER_HELLO && ev->have_random)
        tls_decrypt_server_hello(f->td, ev->random, ev->version, ev->cipher, ev->hello_retry,
                                 ev->encrypt_then_mac);
}

static const uint8_t *find(const uint8_t *p, size_t n, const char *sep, size_t sl)
{
    size_t i;

    for (i = 0; i + sl <= n; i++)
        if (memcmp(p + i, sep, sl) == 0)
            return p + i;
    return NULL;
}

static void feed(struct fz *f, struct tls_conn *tc, int dir, const uint8_t *p, size_t n,
                 size_t chunk)
{
    while (n > 0) {
        size_t k = n < chunk ? n : chunk;

        tls_conn_data(tc, dir, p, k, NULL);
        tls_decrypt_data(f->td, dir, p, k);
        p += k;
        n -= k;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct keylog_config kcfg;
    struct keylog *kl;
    struct tls_decrypt_ctx *ctx;
    struct tls_conn *tc;
    struct fz f = { NULL, 0 };
    const uint8_t *keys, *cli, *srv, *sep;
    size_t keys_len, cli_len, srv_len, first, chunk;
    uint8_t flags;

    if (size < 4)
        return 0;
    first = (size_t)data[0] << 8 | data[1];
    chunk = (size_t)data[2] + 1;
    flags = data[3];
    data += 4;
    size -= 4;
    sep = find(data, size, "\n==\n", 4);
    if (sep == NULL)
        return 0;
    keys = data;
    keys_len = (size_t)(sep - data);
    cli = sep + 4;
    cli_len = size - keys_len - 4;
    sep = find(cli, cli_len, "\n--\n", 4);
    if (sep != NULL) {
        srv = sep + 4;
        srv_len = cli_len - (size_t)(sep - cli) - 4;
        cli_len = (size_t)(sep - cli);
    } else {
        srv = NULL;
        srv_len = 0;
    }
    if (first > cli_len)
        first = cli_len;

    keylog_config_default(&kcfg);
    kcfg.max_entries = 64;
    kl = keylog_new(&kcfg);
    ctx = tls_decrypt_ctx_new(NULL, kl);
    if (kl == NULL || ctx == NULL)
        goto out;
    keylog_add_text(kl, keys, keys_len);
    f.td = tls_decrypt_new(ctx, NULL, on_data, on_event, &f);
    tc = tls_conn_new(NULL, on_tls, &f);
    feed(&f, tc, 0, cli, first, chunk);
    if (srv != NULL)
        feed(&f, tc, 1, srv, srv_len, chunk);
    feed(&f, tc, 0, cli + first, cli_len - first, chunk);
    if (flags & 1)
        tls_decrypt_gap(f.td, 1);
    tls_conn_free(tc);
    tls_decrypt_free(f.td);
out:
    tls_decrypt_ctx_free(ctx);
    keylog_free(kl);
    return 0;
}
