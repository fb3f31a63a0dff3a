/*
 * fuzz_dns.c - libFuzzer harness for the DNS dissector.
 *
 * 1. The whole input is parsed as one DNS message and fed to a small
 *    tracker as UDP.
 * 2. The input is split at the 4-byte separator "FTSP" into chunks fed in
 *    order to a DNS-over-TCP stream (an empty chunk is reported as a gap),
 *    so the fuzzer explores segment boundaries; every framed message is
 *    parsed and fed to the tracker as TCP.
 * Every string handed out is walked so a bad pointer or a missing NUL is
 * caught by the sanitizers.  Tiny tracker caps force evictions.
 *
 * Build: clang -g -O1 -fsanitize=fuzzer,address,undefined -I. \
 *   fuzz/fuzz_dns.c dissectors/dns.c dissectors/dns_track.c \
 *   dissectors/dns_class.c analyzer/addr.c -o fuzz_dns
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../dissectors/dns.h"

struct fuzz_ctx {
    struct dns_tracker *tracker;
    struct dns_stats stats;
    struct dns_msg *msg;
    struct dns_endpoint client, server;
    size_t sink; /* keeps the string walks from being optimised away */
};

static size_t walk(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n >= DNS_NAME_STRLEN && n >= DNS_TXT_STRLEN)
        abort();
    return n;
}

static void check_msg(struct fuzz_ctx *fx, const struct dns_msg *m)
{
    if (m->nq > DNS_MAX_QUESTIONS || m->nrr > DNS_MAX_RR || m->pool_used > DNS_POOL_SIZE)
        abort();
    for (unsigned i = 0; i < m->nq; i++) {
        fx->sink += walk(m->q[i].qname);
        fx->sink += dns_xmpp_srv_name(m->q[i].qname, NULL, 0);
    }
    for (unsigned i = 0; i < m->nrr; i++) {
        const struct dns_rr *rr = &m->rr[i];
        fx->sink += walk(rr->name);
        switch (rr->type) {
        case DNS_T_CNAME:
        case DNS_T_NS:
        case DNS_T_PTR:
            fx->sink += walk(rr->u.target);
            break;
        case DNS_T_SRV:
            fx->sink += walk(rr->u.srv.target) + dns_srv_target_unavailable(rr->u.srv.target);
            break;
        case DNS_T_SOA:
            fx->sink += walk(rr->u.soa.mname) + walk(rr->u.soa.rname);
            break;
        case DNS_T_TXT:
            fx->sink += walk(rr->u.txt.text);
            break;
        case DNS_T_A:
        case DNS_T_AAAA:
            fx->sink += dns_addr_classify(&rr->u.addr);
            break;
        default:
            break;
        }
    }
}

static void on_lookup(void *user, const struct dns_lookup *lk)
{
    struct fuzz_ctx *fx = user;
    fx->sink += walk(lk->qname) + walk(dns_outcome_name((enum dns_outcome)lk->outcome));
    for (unsigned i = 0; i < lk->ncname; i++)
        fx->sink += walk(lk->cname[i]);
    for (unsigned i = 0; i < lk->nans; i++)
        fx->sink += walk(lk->ans[i].name) + walk(lk->ans[i].target);
}

static void handle(struct fuzz_ctx *fx, const uint8_t *p, size_t n, enum dns_transport tr,
                   const struct ft_meta *meta)
{
    dns_parse(p, n, meta, fx->msg, &fx->stats);
    check_msg(fx, fx->msg);
    dns_tracker_feed(fx->tracker, &fx->client, &fx->server, tr, fx->msg,
                     (meta->frame & 1) ? meta : NULL);
}

static void on_tcp_msg(void *user, const uint8_t *msg, size_t len, const struct ft_meta *meta)
{
    handle(user, msg, len, DNS_TCP, meta);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t sep[4] = {'F', 'T', 'S', 'P'};
    struct fuzz_ctx fx;
    struct dns_tracker_config cfg;
    struct dns_tcp_stream ts;
    struct ft_meta meta;
    size_t start = 0;

    memset(&fx, 0, sizeof(fx));
    memset(&meta, 0, sizeof(meta));
    fx.msg = malloc(sizeof(*fx.msg));
    if (!fx.msg)
        return 0;
    dns_tracker_config_default(&cfg);
    cfg.max_pending = 4;
    cfg.timeout_ns = 1000;
    fx.tracker = dns_tracker_new(&cfg, on_lookup, &fx);
    if (!fx.tracker)
        goto out_free_msg;
    fx.client.addr.family = 4;
    fx.client.addr.b[3] = 1;
    fx.client.port = 5353;
    fx.server.addr.family = 4;
    fx.server.addr.b[3] = 53;
    fx.server.port = 53;

    meta.frame = 1;
    meta.ts_ns = size > 0 ? (int64_t)data[0] * 500 : 0;
    handle(&fx, data, size, DNS_UDP, &meta);

    dns_tcp_init(&ts, on_tcp_msg, &fx);
    while (start <= size) {
        size_t end = start;
        while (end + sizeof(sep) <= size && memcmp(data + end, sep, sizeof(sep)) != 0)
            end++;
        if (end + sizeof(sep) > size)
            end = size;
        meta.frame++;
        meta.ts_ns += 300;
        if (end == start)
            dns_tcp_gap(&ts, 1, &meta);
        else
            dns_tcp_data(&ts, data + start, end - start, &meta);
        dns_tracker_advance(fx.tracker, meta.ts_ns);
        start = end + sizeof(sep);
    }
    dns_tcp_eof(&ts, &meta);
    dns_tcp_release(&ts);
    dns_tracker_flush(fx.tracker);
    dns_tracker_free(fx.tracker);
out_free_msg:
    free(fx.msg);
    return fx.sink == (size_t)-1;
}
