/*
 * evidence.c - per failed direction, the packets behind it cut out of the
 * inputs into capture files (see evidence.h).
 */
#include <config.h>

#include "evidence.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <netinet/in.h>

#include "decode.h"
#include "dissectors/dns.h"

#define DNS_TCP_SLACK_NS (5 * FT_NS_PER_SEC)  /* a TCP lookup's handshake and close */
#define DNS_LATE_TX_NS (30 * FT_NS_PER_SEC)   /* retransmissions beyond the metas kept */

/* Where a connection or a DNS lookup was on the wire. */
struct wire_place {
    uint64_t id;             /* flow id or lookup id; 0: empty slot */
    uint8_t proto;           /* IPPROTO_TCP / IPPROTO_UDP */
    struct ft_addr addr[2];
    uint16_t port[2];
    int64_t first_ns, last_ns;
    int32_t txid;            /* DNS over UDP: the transaction id; -1 otherwise */
};

/* A table of places by id (open addressing, grows to `max`). */
struct place_table {
    struct wire_place *slot;
    uint32_t cap, used;
    uint64_t dropped;
};

/* One frame pattern of a planned file. */
struct selector {
    struct wire_place place;
    uint32_t file;
    int32_t next;            /* next selector in the same hash bucket; -1 */
};

struct planned_file {
    const struct corr_direction *dir;
    char *path;              /* dir/name; owned */
    struct capture_dump *dump;
};

struct evidence {
    char *dir;
    struct place_table conns, lookups;
    struct planned_file *files;
    unsigned nfiles;
    struct selector *sel;
    uint32_t nsel, capsel;
    int32_t *bucket;
    uint32_t nbuckets;
    struct capture *inputs;  /* during evidence_write */
    struct decoder dec;
    struct evidence_stats stats;
};

/* ---- step 1: places ------------------------------------------------------ */

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= UINT64_C(0xff51afd7ed558ccd);
    x ^= x >> 33;
    x *= UINT64_C(0xc4ceb9fe1a85ec53);
    x ^= x >> 33;
    return x;
}

static struct wire_place *place_find(const struct place_table *t, uint64_t id)
{
    if (!t->cap)
        return NULL;
    for (uint32_t j = (uint32_t)mix64(id) & (t->cap - 1); t->slot[j].id; j = (j + 1) & (t->cap - 1))
        if (t->slot[j].id == id)
            return &t->slot[j];
    return NULL;
}

static bool place_grow(struct place_table *t)
{
    uint32_t ncap = t->cap ? t->cap * 2 : 1024;
    struct wire_place *ns = calloc(ncap, sizeof(*ns));
    if (!ns)
        return false;
    for (uint32_t i = 0; i < t->cap; i++) {
        uint32_t j;
        if (!t->slot[i].id)
            continue;
        for (j = (uint32_t)mix64(t->slot[i].id) & (ncap - 1); ns[j].id; j = (j + 1) & (ncap - 1))
            ;
        ns[j] = t->slot[i];
    }
    free(t->slot);
    t->slot = ns;
    t->cap = ncap;
    return true;
}

/* The place of id, made when absent; NULL (counted) past the cap. */
static struct wire_place *place_upsert(struct place_table *t, uint64_t id, bool *fresh)
{
    struct wire_place *p = place_find(t, id);
    uint32_t j;
    *fresh = false;
    if (p)
        return p;
    if (t->used >= EVIDENCE_MAX_FACTS || ((t->used + 1) * 2 > t->cap && !place_grow(t))) {
        t->dropped++;
        return NULL;
    }
    for (j = (uint32_t)mix64(id) & (t->cap - 1); t->slot[j].id; j = (j + 1) & (t->cap - 1))
        ;
    t->slot[j].id = id;
    t->used++;
    *fresh = true;
    return &t->slot[j];
}

static void widen(struct wire_place *p, int64_t ns, bool fresh)
{
    if (fresh || ns < p->first_ns)
        p->first_ns = ns;
    if (fresh || ns > p->last_ns)
        p->last_ns = ns;
}

static void on_conn(void *ctx, const struct conn_record *r)
{
    struct evidence *ev = ctx;
    bool fresh;
    struct wire_place *p = r->info.flow_id ? place_upsert(&ev->conns, r->info.flow_id, &fresh) : NULL;
    if (!p)
        return;
    p->proto = r->info.proto;
    p->addr[0] = r->info.addr[0];
    p->addr[1] = r->info.addr[1];
    p->port[0] = r->info.port[0];
    p->port[1] = r->info.port[1];
    p->txid = -1;
    widen(p, r->first_ns, fresh);
    widen(p, r->last_ns, false);
}

static void on_dns(void *ctx, const struct dns_lookup *lk)
{
    struct evidence *ev = ctx;
    bool fresh;
    struct wire_place *p;
    unsigned nq = lk->nqueries < DNS_LOOKUP_MAX_TX ? lk->nqueries : DNS_LOOKUP_MAX_TX;

    if (!lk->id || (!nq && !lk->has_response))
        return;
    p = place_upsert(&ev->lookups, lk->id, &fresh);
    if (!p)
        return;
    p->proto = lk->transport == DNS_TCP ? IPPROTO_TCP : IPPROTO_UDP;
    p->addr[0] = lk->client.addr;
    p->addr[1] = lk->server.addr;
    p->port[0] = lk->client.port;
    p->port[1] = lk->server.port;
    p->txid = lk->transport == DNS_TCP ? -1 : (int32_t)lk->txid;
    for (unsigned i = 0; i < nq; i++) {
        widen(p, lk->query[i].ts_ns, fresh);
        fresh = false;
    }
    if (lk->has_response)
        widen(p, lk->response.ts_ns, fresh);
    if (lk->nqueries > DNS_LOOKUP_MAX_TX)
        p->last_ns += DNS_LATE_TX_NS;
    if (lk->transport == DNS_TCP) {
        p->first_ns -= DNS_TCP_SLACK_NS;
        p->last_ns += DNS_TCP_SLACK_NS;
    }
}

struct fact_sink evidence_fact_sink(struct evidence *ev)
{
    return (struct fact_sink){ .ctx = ev, .on_conn = on_conn, .on_dns = on_dns };
}

struct evidence *evidence_new(const char *dir, char *err, size_t errlen)
{
    struct evidence *ev;
    struct stat st;

    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot make the evidence directory '%s': %s", dir, strerror(errno));
        return NULL;
    }
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "'%s' is not a directory (--evidence-dir)", dir);
        return NULL;
    }
    ev = calloc(1, sizeof(*ev));
    if (!ev || !(ev->dir = strdup(dir))) {
        free(ev);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    return ev;
}

void evidence_free(struct evidence *ev)
{
    if (!ev)
        return;
    for (unsigned i = 0; i < ev->nfiles; i++) {
        char ignored[8];
        (void)capture_dump_close(ev->files[i].dump, ignored, sizeof(ignored));
        free(ev->files[i].path);
    }
    free(ev->files);
    free(ev->sel);
    free(ev->bucket);
    free(ev->conns.slot);
    free(ev->lookups.slot);
    free(ev->dir);
    free(ev);
}

/* ---- step 2: the plan ---------------------------------------------------- */

/* A domain as a file-name part: letters, digits, '.', '-' kept, anything
 * else '_', no leading '.', at most max bytes. */
static void name_part(char *out, size_t max, const char *s)
{
    size_t o = 0;
    for (; s && *s && o + 1 < max; s++) {
        char ch = *s;
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-' ||
                  (ch == '.' && o > 0);
        out[o++] = ok ? ch : '_';
    }
    if (o == 0 && max > 1)
        out[o++] = '_';
    out[o] = '\0';
}

static bool path_taken(const struct evidence *ev, const char *path)
{
    for (unsigned i = 0; i < ev->nfiles; i++)
        if (strcmp(ev->files[i].path, path) == 0)
            return true;
    return false;
}

static char *file_path(const struct evidence *ev, const struct corr_direction *d, bool pcapng)
{
    char from[72], to[72], code[48], name[EVIDENCE_MAX_NAME];
    const struct verdict_info *vi = verdict_info_of(d->verdict.code);
    size_t n = strlen(ev->dir) + EVIDENCE_MAX_NAME + 2;
    char *path = malloc(n);
    if (!path)
        return NULL;
    name_part(from, sizeof(from), d->from);
    name_part(to, sizeof(to), d->to);
    name_part(code, sizeof(code), vi ? vi->code : "FAILED");
    for (unsigned k = 1;; k++) {
        char nth[16] = "";
        if (k > 1)
            snprintf(nth, sizeof(nth), "-%u", k);
        snprintf(name, sizeof(name), "%s--%s--%s%s.%s", from, to, code, nth, pcapng ? "pcapng" : "pcap");
        snprintf(path, n, "%s/%s", ev->dir, name);
        if (!path_taken(ev, path))
            return path;
    }
}

static bool add_selector(struct evidence *ev, const struct wire_place *p, uint32_t file)
{
    if (ev->nsel == ev->capsel) {
        uint32_t ncap = ev->capsel ? ev->capsel * 2 : 64;
        struct selector *ns = realloc(ev->sel, ncap * sizeof(*ns));
        if (!ns)
            return false;
        ev->sel = ns;
        ev->capsel = ncap;
    }
    ev->sel[ev->nsel].place = *p;
    ev->sel[ev->nsel].file = file;
    ev->sel[ev->nsel].next = -1;
    ev->nsel++;
    return true;
}

/* The selector of a cited id unless the file has it already. */
static bool cite(struct evidence *ev, const struct place_table *t, uint64_t id, uint32_t file, uint32_t first_sel)
{
    const struct wire_place *p = id ? place_find(t, id) : NULL;
    if (!p)
        return true;
    for (uint32_t i = first_sel; i < ev->nsel; i++)
        if (memcmp(&ev->sel[i].place, p, sizeof(*p)) == 0)
            return true;
    return add_selector(ev, p, file);
}

/* A hash of the unordered endpoint pair and the transport. */
static uint64_t pair_hash(uint8_t proto, const struct ft_addr *a, uint16_t pa, const struct ft_addr *b, uint16_t pb)
{
    uint64_t ha = UINT64_C(1469598103934665603), hb = ha;
    for (int i = 0; i < 16; i++) {
        ha = (ha ^ a->b[i]) * UINT64_C(1099511628211);
        hb = (hb ^ b->b[i]) * UINT64_C(1099511628211);
    }
    ha = mix64(ha ^ pa ^ ((uint64_t)a->family << 16));
    hb = mix64(hb ^ pb ^ ((uint64_t)b->family << 16));
    return mix64((ha + hb) ^ proto); /* + is symmetric: either way round */
}

static bool build_index(struct evidence *ev)
{
    uint32_t nb = 64;
    while (nb < 2 * ev->nsel)
        nb *= 2;
    ev->bucket = malloc(nb * sizeof(*ev->bucket));
    if (!ev->bucket)
        return false;
    ev->nbuckets = nb;
    for (uint32_t i = 0; i < nb; i++)
        ev->bucket[i] = -1;
    for (uint32_t i = 0; i < ev->nsel; i++) {
        const struct wire_place *p = &ev->sel[i].place;
        uint32_t b = (uint32_t)pair_hash(p->proto, &p->addr[0], p->port[0], &p->addr[1], p->port[1]) & (nb - 1);
        ev->sel[i].next = ev->bucket[b];
        ev->bucket[b] = (int32_t)i;
    }
    return true;
}

/* Every connection and lookup d's timeline and verdict cite, and the NAT
 * twins of its connections. */
static bool cite_direction(struct evidence *ev, const struct corr_direction *d, uint32_t file, uint32_t first_sel)
{
    const struct corr_verdict *v = &d->verdict;
    bool ok = true;
    for (unsigned t = 0; t < d->n_timeline && ok; t++)
        ok = cite(ev, &ev->conns, d->timeline[t].flow_id, file, first_sel) &&
             cite(ev, &ev->lookups, d->timeline[t].dns_id, file, first_sel);
    for (unsigned t = 0; t < v->n_flows && ok; t++)
        ok = cite(ev, &ev->conns, v->evidence_flows[t], file, first_sel);
    for (unsigned t = 0; t < v->n_dns && ok; t++)
        ok = cite(ev, &ev->lookups, v->evidence_dns[t], file, first_sel);
    /* The same connections as the other capture point saw them (NAT). */
    for (unsigned t = 0; t < d->n_nat && t < CORR_MAX_NAT_PAIRS && ok; t++)
        ok = cite(ev, &ev->conns, d->nat[t].flow_id[0], file, first_sel) &&
             cite(ev, &ev->conns, d->nat[t].flow_id[1], file, first_sel);
    return ok;
}

/* Whether every timeline line of d is a connection attempt. */
static bool connect_only(const struct corr_direction *d)
{
    for (unsigned t = 0; t < d->n_timeline; t++)
        if (d->timeline[t].stage != STAGE_CONNECT)
            return false;
    return d->n_timeline > 0;
}

int evidence_plan(struct evidence *ev, const struct correlator *corr, bool pcapng)
{
    for (unsigned i = 0; i < corr_federation_count(corr); i++) {
        const struct corr_federation *f = corr_federation_at(corr, i);
        for (unsigned k = 0; k < f->n_dir; k++) {
            const struct corr_direction *d = &f->dir[k];
            const struct corr_verdict *v = &d->verdict;
            struct planned_file *pf;
            uint32_t file, first_sel = ev->nsel;
            bool ok = true;

            if (v->status != CORR_FAILED)
                continue;
            if (ev->nfiles >= EVIDENCE_MAX_FILES) {
                ev->stats.directions_without_file++;
                continue;
            }
            pf = realloc(ev->files, (ev->nfiles + 1) * sizeof(*pf));
            if (!pf)
                return -1;
            ev->files = pf;
            pf = &ev->files[ev->nfiles];
            memset(pf, 0, sizeof(*pf));
            pf->dir = d;
            pf->path = file_path(ev, d, pcapng);
            if (!pf->path)
                return -1;
            file = ev->nfiles++;
            ok = cite_direction(ev, d, file, first_sel);
            /* Seen only as connection attempts (a connect-back that got no
             * answer): nothing of it names the domains, so the stream of
             * the other direction that asked for it goes in too, and the
             * file read alone gives the same verdict. */
            if (ok && connect_only(d))
                for (unsigned j = 0; j < f->n_dir && ok; j++)
                    if (j != k)
                        ok = cite_direction(ev, &f->dir[j], file, first_sel);
            if (!ok)
                return -1;
        }
    }
    ev->stats.conns_dropped = ev->conns.dropped;
    ev->stats.lookups_dropped = ev->lookups.dropped;
    return build_index(ev) ? 0 : -1;
}

/* ---- step 3: the second pass --------------------------------------------- */

static bool same_way(const struct wire_place *p, const struct packet *pkt, int a, int b)
{
    return ft_addr_eq(&p->addr[a], &pkt->src) && ft_addr_eq(&p->addr[b], &pkt->dst) && p->port[a] == pkt->sport &&
           p->port[b] == pkt->dport;
}

static bool matches(const struct wire_place *p, const struct packet *pkt)
{
    if (p->proto != pkt->proto || pkt->meta.ts_ns < p->first_ns || pkt->meta.ts_ns > p->last_ns)
        return false;
    if (!same_way(p, pkt, 0, 1) && !same_way(p, pkt, 1, 0))
        return false;
    if (p->txid >= 0)
        return pkt->payload_len >= 2 && ((pkt->payload[0] << 8) | pkt->payload[1]) == p->txid;
    return true;
}

static void on_frame(void *user, int linktype, const uint8_t *data, uint32_t caplen, uint32_t wirelen,
                     const struct ft_meta *m)
{
    struct evidence *ev = user;
    struct packet pkt;
    uint32_t b, done[16], ndone = 0; /* files this frame went to */

    memset(&pkt, 0, sizeof(pkt));
    pkt.meta = *m;
    pkt.caplen = caplen;
    pkt.wirelen = wirelen;
    if (decode_packet(&ev->dec, linktype, data, &pkt) != DECODE_OK)
        return;
    if (pkt.proto != IPPROTO_TCP && pkt.proto != IPPROTO_UDP)
        return;
    b = (uint32_t)pair_hash(pkt.proto, &pkt.src, pkt.sport, &pkt.dst, pkt.dport) & (ev->nbuckets - 1);
    for (int32_t i = ev->bucket[b]; i >= 0; i = ev->sel[i].next) {
        const struct selector *s = &ev->sel[i];
        struct planned_file *pf = &ev->files[s->file];
        bool dup = false;
        if (!matches(&s->place, &pkt))
            continue;
        /* A frame goes once into a file, whichever selectors match it. */
        for (uint32_t k = 0; k < ndone; k++)
            dup |= done[k] == s->file;
        if (dup)
            continue;
        if (ndone < sizeof(done) / sizeof(done[0]))
            done[ndone++] = s->file;
        if (pf->dump && capture_dump_frame(pf->dump, ev->inputs, linktype, data, caplen, wirelen, m) == 0)
            ev->stats.frames++;
    }
}

int evidence_write(struct evidence *ev, struct capture *inputs, const struct capture_options *o, char *err,
                   size_t errlen)
{
    int rc = 0;
    for (unsigned i = 0; i < ev->nfiles; i++) {
        ev->files[i].dump = capture_dump_open(inputs, ev->files[i].path, err, errlen);
        if (!ev->files[i].dump)
            return -1;
    }
    memset(&ev->dec, 0, sizeof(ev->dec));
    ev->inputs = inputs;
    if (ev->nfiles)
        (void)capture_run(inputs, o, on_frame, ev);
    ev->inputs = NULL;
    for (unsigned i = 0; i < ev->nfiles; i++) {
        char why[CAPTURE_ERRBUF_SIZE];
        if (capture_dump_close(ev->files[i].dump, why, sizeof(why)) != 0 && rc == 0) {
            snprintf(err, errlen, "%s", why);
            rc = -1;
        }
        ev->files[i].dump = NULL;
        ev->stats.files += rc == 0;
    }
    return rc;
}

const char *evidence_file_for(const struct evidence *ev, const struct corr_direction *d)
{
    if (!ev)
        return NULL;
    for (unsigned i = 0; i < ev->nfiles; i++)
        if (ev->files[i].dir == d)
            return ev->files[i].path;
    return NULL;
}

const struct evidence_stats *evidence_stats(const struct evidence *ev)
{
    return &ev->stats;
}
