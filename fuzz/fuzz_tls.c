/*
 * fuzz_tls.c - libFuzzer harness for dissectors/tls.c on its own.
 *
 * Input layout:
 *   byte 0      flags: bit0 small handshake buffer (64 bytes),
 *               bit1 gap on the client at the end
 *   byte 1      n = number of split bytes (mod 32)
 *   n bytes     chunk plan, used cyclically: bit0 picks the direction of
 *               the next chunk, bits 1-7 its length - 1 (1..128)
 *   rest        the client's bytes, then optionally "\n--\n" and the
 *               server's bytes
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../dissectors/tls.h"

static void on_event(const struct tls_event *ev, void *user)
{
    size_t *sum = user;
    unsigned i;

    if (ev->sni != NULL)
        *sum += strlen(ev->sni);
    for (i = 0; i < ev->n_alpn; i++)
        *sum += strlen(ev->alpn[i]);
    for (i = 0; i < ev->n_san; i++)
        *sum += strlen(ev->cert_san[i]);
    if (ev->cert_cn != NULL)
        *sum += strlen(ev->cert_cn);
    if (ev->cert_issuer_cn != NULL)
        *sum += strlen(ev->cert_issuer_cn);
    {
        char iso[32], gb[TLS_NAME_BUFLEN];
        const char *w;

        if ((w = tls_time_iso(ev->cert_not_before, iso, sizeof(iso))) != NULL)
            *sum += strlen(w);
        if ((w = tls_time_iso(ev->cert_not_after, iso, sizeof(iso))) != NULL)
            *sum += strlen(w);
        if (ev->have_group)
            *sum += strlen(tls_group_name(ev->group, gb, sizeof(gb)));
    }
    if (ev->alert_desc_name != NULL)
        *sum += strlen(ev->alert_desc_name);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tls_config cfg;
    struct tls_conn *t;
    struct ft_meta m;
    const uint8_t *plan, *doc[2];
    size_t nplan, len[2], off[2] = {0, 0}, step = 0, sum = 0, i;
    uint8_t flags;

    if (size < 2)
        return 0;
    flags = data[0];
    nplan = data[1] % 32u;
    if (size < 2 + nplan)
        return 0;
    plan = data + 2;
    doc[0] = data + 2 + nplan;
    len[0] = size - 2 - nplan;
    doc[1] = NULL;
    len[1] = 0;
    for (i = 0; i + 4 <= len[0]; i++) {
        if (memcmp(doc[0] + i, "\n--\n", 4) == 0) {
            doc[1] = doc[0] + i + 4;
            len[1] = len[0] - i - 4;
            len[0] = i;
            break;
        }
    }
    tls_config_default(&cfg);
    if (flags & 1)
        cfg.max_handshake = 64;
    t = tls_conn_new(&cfg, on_event, &sum);
    if (t == NULL)
        return 0;
    memset(&m, 0, sizeof(m));
    while (off[0] < len[0] || off[1] < len[1]) {
        uint8_t p = nplan > 0 ? plan[step % nplan] : 0xff;
        int dir = p & 1;
        size_t k = nplan > 0 ? (size_t)(p >> 1) + 1 : 1460;

        step++;
        if (off[dir] >= len[dir])
            dir ^= 1;
        if (k > len[dir] - off[dir])
            k = len[dir] - off[dir];
        m.frame = step;
        tls_conn_data(t, dir, doc[dir] + off[dir], k, &m);
        off[dir] += k;
    }
    if (flags & 2)
        tls_conn_gap(t, 0, 10, &m);
    tls_conn_eof(t, 0, &m);
    tls_conn_eof(t, 1, &m);
    tls_conn_free(t);
    (void)sum;
    return 0;
}
