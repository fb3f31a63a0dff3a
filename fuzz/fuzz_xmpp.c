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
 *
 * Differential: the input runs twice, with element content nobody reads
 * bypassing expat (the default) and with every byte parsed
 * (cfg.parse_unread).  When the parsed run reports no error, every event
 * must be the same; otherwise those before the first error event of
 * either run (a bypass does not check all of the well-formedness of what
 * it skips, so after an error the runs may differ).
 *
 * And the pool: a run with a parser pool (cfg.pool) shared with a decoy
 * connection that parses a stanza between every two chunks must report
 * every event, errors' line and column included, as a run whose
 * connection is told it is idle after every chunk (xmpp_conn_idle: both
 * give the parser up at the same places and count lines from the same
 * synthetic header).  (Parked and unparked runs are not compared: the
 * fuzzer finds inputs where idle parking changes an event; see the
 * project notes.)
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../dissectors/xmpp.h"

#define MAX_EVENTS 4096

/* One digest per event (FNV-1a over what the dissector reported). */
struct run {
    size_t sum;
    size_t n;
    size_t first_error; /* index of the first error event, or n */
    uint64_t h[MAX_EVENTS];
    uint64_t hw[MAX_EVENTS]; /* h with the line and column of errors */
};

static uint64_t mix(uint64_t h, const void *p, size_t n)
{
    const uint8_t *b = p;

    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 1099511628211ull;
    return h;
}

static uint64_t mix_str(uint64_t h, const char *s)
{
    return s != NULL ? mix(h, s, strlen(s) + 1) : mix(h, "\xff", 1);
}

static uint64_t digest(const struct xmpp_event *ev)
{
    uint64_t h = 14695981039346656037ull;
    uint64_t num[] = { ev->type, ev->dir, ev->meta.frame, ev->stanza, ev->presence, ev->db_type,
                       ev->db_key_len, ev->size, ev->truncated, ev->error, ev->offset, ev->nbytes,
                       ev->starttls, ev->starttls_required, ev->n_mechanisms, ev->dialback,
                       ev->n_other_features, ev->restart, ev->decrypted,
                       ev->tls != NULL ? (uint64_t)ev->tls->type + 1 : 0 };
    const char *str[] = { ev->from, ev->to, ev->id, ev->type_str, ev->child_ns, ev->child_name,
                          ev->condition, ev->text, ev->error_type, ev->error_by, ev->body,
                          ev->mechanisms, ev->mechanism, ev->other_ns, ev->other_name, ev->error_msg };

    h = mix(h, num, sizeof(num));
    for (size_t i = 0; i < sizeof(str) / sizeof(str[0]); i++)
        h = mix_str(h, str[i]);
    return h;
}

static void on_event(const struct xmpp_event *ev, void *user)
{
    struct run *r = user;
    size_t *sum = &r->sum;

    if (r->n < MAX_EVENTS) {
        if (ev->type == XMPP_EV_ERROR && r->first_error == SIZE_MAX)
            r->first_error = r->n;
        uint64_t where[2] = { ev->line, ev->column };

        r->h[r->n] = digest(ev);
        r->hw[r->n] = mix(r->h[r->n], where, sizeof(where));
        r->n++;
    }

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

static void ignore(const struct xmpp_event *ev, void *user)
{
    (void)ev;
    (void)user;
}

static void decoy_stanza(struct xmpp_conn *decoy, size_t n, const struct ft_meta *m)
{
    static const char hdr[] = "<stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' "
                              "xmlns:db='jabber:server:dialback' to='b.example' version='1.0'>";
    static const char stanza[] = "<message to='v@b.example'>\n<body>decoy</body></message>\n";

    if (n == 1)
        xmpp_conn_data(decoy, 0, (const uint8_t *)hdr, sizeof(hdr) - 1, m);
    xmpp_conn_data(decoy, 0, (const uint8_t *)stanza, sizeof(stanza) - 1, m);
}

static void run_once(const uint8_t *data, size_t size, bool parse_unread, int pooled, struct run *r)
{
    struct xmpp_config cfg;
    struct xmpp_pool *pool = NULL;
    struct xmpp_conn *c, *decoy = NULL;
    struct ft_meta m;
    const uint8_t *plan, *doc[2];
    size_t nplan, len[2], off[2] = {0, 0}, step = 0, i;
    uint8_t flags;

    r->sum = 0;
    r->n = 0;
    r->first_error = SIZE_MAX;
    if (size < 2)
        return;
    flags = data[0];
    nplan = data[1] % 32u;
    if (size < 2 + nplan)
        return;
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
    cfg.parse_unread = parse_unread;
    if (flags & 4) {
        cfg.max_depth = 6;
        cfg.max_stanza = 512;
        cfg.max_token = 200;
        cfg.max_body = 5;
        cfg.tls.max_handshake = 64;
    }
    if (pooled == 1) {
        pool = xmpp_pool_new(NULL);
        cfg.pool = pool;
        decoy = xmpp_conn_new(&cfg, false, ignore, NULL);
    }
    c = xmpp_conn_new(&cfg, (flags & 1) != 0, on_event, r);
    if (c == NULL) {
        xmpp_conn_free(decoy);
        xmpp_pool_free(pool);
        return;
    }
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
        if (decoy != NULL)
            decoy_stanza(decoy, step, &m);
        if (pooled == 2)
            xmpp_conn_idle(c);
    }
    if (flags & 8)
        xmpp_conn_gap(c, 0, 10, &m);
    xmpp_conn_eof(c, 0, &m);
    xmpp_conn_eof(c, 1, &m);
    xmpp_conn_data(c, 1, data, size, &m);
    xmpp_conn_free(c);
    xmpp_conn_free(decoy);
    xmpp_pool_free(pool);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static _Thread_local struct run bypass, parsed, pooled, parked; /* 96 KiB each: off the stack */
    size_t upto;

    run_once(data, size, false, 0, &bypass);
    run_once(data, size, true, 0, &parsed);
    run_once(data, size, false, 1, &pooled);
    run_once(data, size, false, 2, &parked);
    if (pooled.n != parked.n || memcmp(pooled.hw, parked.hw, parked.n * sizeof(parked.hw[0])) != 0) {
        fprintf(stderr, "fuzz_xmpp: events differ with a parser pool and with parking\n");
        abort();
    }
    if (bypass.first_error > bypass.n)
        bypass.first_error = bypass.n;
    if (parsed.first_error > parsed.n)
        parsed.first_error = parsed.n;
    upto = bypass.first_error < parsed.first_error ? bypass.first_error : parsed.first_error;
    if (parsed.first_error == parsed.n) /* expat found nothing wrong: all the same */
        upto = bypass.n > parsed.n ? bypass.n : parsed.n;
    if (bypass.n != parsed.n && upto > (bypass.n < parsed.n ? bypass.n : parsed.n))
        upto = SIZE_MAX;
    if (upto == SIZE_MAX || memcmp(bypass.h, parsed.h, upto * sizeof(bypass.h[0])) != 0) {
        fprintf(stderr, "fuzz_xmpp: events differ with and without the bypass of unread content\n");
        abort();
    }
    return 0;
}
