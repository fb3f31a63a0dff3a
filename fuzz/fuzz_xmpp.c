/*
 * fuzz_xmpp.c - libFuzzer harness for dissectors/xmpp.c (and tls.c behind it).
 *
 * Input layout:
 *   byte 0      flags: bit0 direct TLS, bit1 copy bodies, bit2 small caps,
 *               bit3 end with gap instead of eof on the originator
 *   byte 1      n = number of split bytes (mod 32)
 *   n bytes     chunk plan, used cyclically: bit0 picks the direction of
 *               the next chunk, bits 1-7 its length - 1 (1..128)
 *   rest        the originator's bytes, then optionally "\n--\n" and the
 *               responder's bytes
 * Each direction's document is delivered in order, interleaved with the
 * other, in the planned chunk sizes.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../dissectors/xmpp.h"

static void on_event(const struct xmpp_event *ev, void *user)
{
    size_t *sum = user;

    /* touch the strings so ASan sees any dangling pointer */
    if (ev->from != NULL)
        *sum += strlen(ev->from);
    if (ev->text != NULL)
        *sum += strlen(ev->text);
    if (ev->mechanisms != NULL)
        *sum += strlen(ev->mechanisms);
    if (ev->body != NULL)
        *sum += strlen(ev->body);
    if (ev->tls != NULL && ev->tls->sni != NULL)
        *sum += strlen(ev->tls->sni);
    if (ev->tls != NULL && ev->tls->cert_cn != NULL)
        *sum += strlen(ev->tls->cert_cn);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct xmpp_config cfg;
    struct xmpp_conn *c;
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
    xmpp_config_default(&cfg);
    cfg.include_body = (flags & 2) != 0;
    if (flags & 4) {
        cfg.max_depth = 6;
        cfg.max_stanza = 512;
        cfg.max_token = 200;
        cfg.max_body = 5;
        cfg.tls.max_handshake = 64;
    }
    c = xmpp_conn_new(&cfg, (flags & 1) != 0, on_event, &sum);
    if (c == NULL)
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
        m.dir = (uint8_t)dir;
        xmpp_conn_data(c, dir, doc[dir] + off[dir], k, &m);
        off[dir] += k;
    }
    if (flags & 8)
        xmpp_conn_gap(c, 0, 10, &m);
    xmpp_conn_eof(c, 0, &m);
    xmpp_conn_eof(c, 1, &m);
    xmpp_conn_data(c, 1, data, size, &m);
    xmpp_conn_free(c);
    (void)sum;
    return 0;
}
