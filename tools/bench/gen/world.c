/*
 * world.c - gen-busy's population: domain names, server and client hosts
 * (addresses from the benchmarking range 198.18.0.0/15, 10/8 for clients,
 * 2001:db8::/32 for IPv6), Zipf-like popularity (weight 1/rank), the
 * federation registry (an open-addressing table keyed by the domain pair)
 * and the truth records.
 */
#include "world.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static void *xalloc(size_t n)
{
    void *p = calloc(1, n ? n : 1);
    if (!p) {
        fprintf(stderr, "gen-busy: out of memory\n");
        exit(2);
    }
    return p;
}

static void *xgrow(void *p, size_t n)
{
    void *q = realloc(p, n);
    if (!q) {
        fprintf(stderr, "gen-busy: out of memory\n");
        exit(2);
    }
    return q;
}

/* ---- sbuf ------------------------------------------------------------------ */
void sb_reset(struct sbuf *b)
{
    b->len = 0;
    if (b->p)
        b->p[0] = '\0';
}

static void sb_reserve(struct sbuf *b, size_t extra)
{
    if (b->len + extra + 1 <= b->cap)
        return;
    size_t ncap = b->cap ? b->cap : 1024;
    while (ncap < b->len + extra + 1)
        ncap *= 2;
    b->p = xgrow(b->p, ncap);
    b->cap = ncap;
}

void sb_printf(struct sbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    sb_reserve(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void sb_append(struct sbuf *b, const char *s, size_t n)
{
    sb_reserve(b, n);
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void sb_free(struct sbuf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

uint8_t *world_wbuf(struct gen *g, size_t need)
{
    struct world *w = g->w;
    if (need > w->wcap) {
        w->wbuf = xgrow(w->wbuf, need);
        w->wcap = need;
    }
    return w->wbuf;
}

/* ---- names ------------------------------------------------------------------ */
static const char *const syll[40] = {
    "ka", "lo", "mi", "ren", "tas", "vo", "zel", "dor", "fin", "gra", "hul", "jin", "kel", "lun",
    "mar", "nor", "pel", "quo", "ris", "sol", "tor", "ul", "ven", "wyn", "xan", "yor", "zan", "bel",
    "cor", "dun", "el", "fal", "gor", "hal", "ith", "jar", "kor", "lis", "mon", "nev"};
static const char *const tlds[6] = {"example", "test", "example.org", "example.net", "example.com", "test"};
static const char *const prefixes[6] = {"", "", "jabber.", "xmpp.", "im.", "chat."};

static void domain_name(char *out, size_t cap, uint32_t i, uint64_t h)
{
    char core[32];
    uint32_t x = i;
    size_t n = 0;
    core[0] = '\0';
    do {
        const char *s = syll[x % 40];
        size_t l = strlen(s);
        memcpy(core + n, s, l);
        n += l;
        x /= 40;
    } while (x && n < 24);
    if (n < 6) { /* short names get one more syllable from the hash */
        const char *s = syll[h % 40];
        size_t l = strlen(s);
        memcpy(core + n, s, l);
        n += l;
    }
    core[n] = '\0';
    snprintf(out, cap, "%s%s.%s", prefixes[(h >> 8) % 6], core, tlds[(h >> 16) % 6]);
}

static void host_init(struct gen *g, struct host *h, uint32_t idx, uint8_t a, uint8_t b, uint8_t kind6)
{
    memset(h, 0, sizeof *h);
    h->mac[0] = 0x02; /* locally administered */
    h->mac[1] = kind6;
    h->mac[2] = (uint8_t)(idx >> 24);
    h->mac[3] = (uint8_t)(idx >> 16);
    h->mac[4] = (uint8_t)(idx >> 8);
    h->mac[5] = (uint8_t)idx;
    h->ip4[0] = a;
    h->ip4[1] = b;
    h->ip4[2] = (uint8_t)(idx >> 8);
    h->ip4[3] = (uint8_t)(idx & 0xff);
    if (h->ip4[3] == 0 || h->ip4[3] == 255)
        h->ip4[3] = (uint8_t)(1 + (idx % 250));
    h->has6 = rng_chance(&g->rng, 0.5);
    h->ip6[0] = 0x20;
    h->ip6[1] = 0x01;
    h->ip6[2] = 0x0d;
    h->ip6[3] = 0xb8;
    h->ip6[4] = kind6;
    h->ip6[6] = (uint8_t)(idx >> 8);
    h->ip6[7] = (uint8_t)idx;
    h->ip6[14] = (uint8_t)(idx >> 8);
    h->ip6[15] = (uint8_t)(idx | 1);
    h->csum_offload = rng_chance(&g->rng, 0.03);
    /* Tagged segments hold ordinary hosts, not the busiest servers. */
    h->vlan = (kind6 != 1 || idx > 300) && rng_chance(&g->rng, 0.03) ? (uint16_t)(100 + rng_below(&g->rng, 8)) : 0;
    static const uint8_t ttls[] = {64, 64, 64, 128, 255, 58, 52, 47};
    h->ttl = ttls[rng_below(&g->rng, 8)];
    h->ipid = (uint16_t)rng_next(&g->rng);
}

struct world *world_new(struct gen *g, uint32_t ndom)
{
    struct world *w = xalloc(sizeof *w);
    g->w = w;
    w->ndom = ndom;
    w->dom = xalloc(ndom * sizeof *w->dom);
    w->cdf = xalloc(ndom * sizeof *w->cdf);
    /* Servers: most domains have their own; one in eight shares a hosting
     * provider's server with others.  The extra hosts at the end are the
     * "other providers" that wrongly answer for a domain. */
    uint32_t nextra = 64;
    w->nhosts = ndom + nextra;
    w->hosts = xalloc(w->nhosts * sizeof *w->hosts);
    for (uint32_t i = 0; i < w->nhosts; i++)
        host_init(g, &w->hosts[i], i + 1, 198, (uint8_t)(18 + ((i + 1) >> 16)), 1);
    double sum = 0;
    for (uint32_t i = 0; i < ndom; i++) {
        struct domain *d = &w->dom[i];
        uint64_t h = rng_next(&g->rng);
        domain_name(d->name, sizeof d->name, i, h);
        bool shared = i > 50 && rng_chance(&g->rng, 0.12);
        d->server = shared ? &w->hosts[rng_below(&g->rng, 50)] : &w->hosts[i];
        d->kind = rng_chance(&g->rng, 0.3) ? SRV_EJABBERD : SRV_PROSODY;
        d->tls = rng_chance(&g->rng, 0.35);
        d->fault = DF_NONE;
        if (i >= 50 && !shared) {
            static const struct {
                uint8_t fault;
                double p;
            } faults[] = {{DF_DNS_NX, 0.03},        {DF_DNS_SERVFAIL, 0.02},    {DF_DNS_TIMEOUT, 0.02},
                          {DF_DNS_TC_NOTCP, 0.01},  {DF_DNS_BIG, 0.03},         {DF_REFUSES, 0.03},
                          {DF_INBOUND_BLOCKED, 0.04}, {DF_OTHER_PROVIDER, 0.04}, {DF_BAD_CERT, 0.03},
                          {DF_EXPIRED_CERT, 0.03}};
            double u = rng_unit(&g->rng), acc = 0;
            for (size_t k = 0; k < sizeof faults / sizeof faults[0]; k++) {
                acc += faults[k].p;
                if (u < acc) {
                    d->fault = faults[k].fault;
                    break;
                }
            }
        }
        d->local = rng_chance(&g->rng, 0.35);
        if (rng_chance(&g->rng, 0.85)) {
            if (shared)
                snprintf(d->srv_target, sizeof d->srv_target, "s2s%u.hosting.example", (unsigned)(d->server - w->hosts));
            else
                snprintf(d->srv_target, sizeof d->srv_target, "xmpp.%s", d->name);
        }
        sum += 1.0 / (double)(i + 1);
        w->cdf[i] = sum;
    }
    for (uint32_t i = 0; i < ndom; i++)
        w->cdf[i] /= sum;
    w->nclients = 20000;
    w->clients = xalloc(w->nclients * sizeof *w->clients);
    for (uint32_t i = 0; i < w->nclients; i++)
        host_init(g, &w->clients[i], i + 1, 10, (uint8_t)(1 + (i >> 16)), 2);
    w->nweb = 2000;
    w->web = xalloc(w->nweb * sizeof *w->web);
    for (uint32_t i = 0; i < w->nweb; i++)
        host_init(g, &w->web[i], i + 1, 198, 19, 3);
    for (int i = 0; i < 3; i++) {
        host_init(g, &w->resolver[i], 0xff00 + 53 + (uint32_t)i, 198, 19, 4);
        w->resolver[i].ip4[2] = 255;
        w->resolver[i].ip4[3] = (uint8_t)(53 + i);
        w->resolver[i].vlan = 0;
        w->resolver[i].csum_offload = false;
        w->resolver[i].has6 = false;
    }
    w->pair_cap = 1u << 12;
    w->pair_keys = xalloc(w->pair_cap * sizeof *w->pair_keys);
    w->pair_vals = xalloc(w->pair_cap * sizeof *w->pair_vals);
    return w;
}

void world_free(struct world *w)
{
    if (!w)
        return;
    for (uint32_t i = 0; i < w->nfeds; i++)
        free(w->feds[i]);
    for (uint32_t i = 0; i < w->ntruth; i++)
        free(w->truth[i]);
    free(w->feds);
    free(w->truth);
    free(w->pair_keys);
    free(w->pair_vals);
    free(w->dom);
    free(w->cdf);
    free(w->hosts);
    free(w->clients);
    free(w->web);
    sb_free(&w->sb);
    sb_free(&w->sb2);
    free(w->wbuf);
    free(w);
}

uint32_t world_pick_domain(struct gen *g)
{
    struct world *w = g->w;
    double u = rng_unit(&g->rng);
    uint32_t lo = 0, hi = w->ndom - 1;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (w->cdf[mid] < u)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

struct host *world_client(struct gen *g)
{
    return &g->w->clients[rng_below(&g->rng, g->w->nclients)];
}

static uint64_t pair_key(uint32_t a, uint32_t b)
{
    uint32_t lo = a < b ? a : b, hi = a < b ? b : a;
    return (((uint64_t)lo << 32) | hi) + 1;
}

static uint32_t pair_slot(const struct world *w, uint64_t key)
{
    uint64_t h = key * 0x9E3779B97F4A7C15ull;
    uint32_t i = (uint32_t)(h >> 40) & (w->pair_cap - 1);
    while (w->pair_keys[i] && w->pair_keys[i] != key)
        i = (i + 1) & (w->pair_cap - 1);
    return i;
}

static void pair_grow(struct world *w)
{
    uint64_t *ok = w->pair_keys;
    uint32_t *ov = w->pair_vals, ocap = w->pair_cap;
    w->pair_cap *= 2;
    w->pair_keys = xalloc(w->pair_cap * sizeof *w->pair_keys);
    w->pair_vals = xalloc(w->pair_cap * sizeof *w->pair_vals);
    for (uint32_t i = 0; i < ocap; i++)
        if (ok[i]) {
            uint32_t s = pair_slot(w, ok[i]);
            w->pair_keys[s] = ok[i];
            w->pair_vals[s] = ov[i];
        }
    free(ok);
    free(ov);
}

struct fed *world_fed_for(struct gen *g, uint32_t a, uint32_t b, int scen)
{
    struct world *w = g->w;
    if (a == b)
        return NULL;
    uint64_t key = pair_key(a, b);
    uint32_t s = pair_slot(w, key);
    if (w->pair_keys[s])
        return w->feds[w->pair_vals[s]];
    if (scen < 0)
        return NULL;
    if ((w->nfeds + 1) * 2 > w->pair_cap) {
        pair_grow(w);
        s = pair_slot(w, key);
    }
    if (w->nfeds == w->capfeds) {
        w->capfeds = w->capfeds ? w->capfeds * 2 : 1024;
        w->feds = xgrow(w->feds, w->capfeds * sizeof *w->feds);
    }
    struct fed *f = xalloc(sizeof *f);
    f->a = a;
    f->b = b;
    f->scen = (uint8_t)scen;
    w->pair_keys[s] = key;
    w->pair_vals[s] = w->nfeds;
    w->feds[w->nfeds++] = f;
    return f;
}

struct dtruth *world_truth(struct gen *g, uint32_t from, uint32_t to, struct fed *f)
{
    struct world *w = g->w;
    if (w->ntruth == w->captruth) {
        w->captruth = w->captruth ? w->captruth * 2 : 1024;
        w->truth = xgrow(w->truth, w->captruth * sizeof *w->truth);
    }
    struct dtruth *d = xalloc(sizeof *d);
    d->from = from;
    d->to = to;
    d->scenario = scenario_name(f->scen);
    w->truth[w->ntruth++] = d;
    return d;
}
