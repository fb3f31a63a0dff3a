/*
 * corr_nat.c - one connection seen twice: on both sides of a NAT (one
 * endpoint translated), or at two capture points whose clocks differ.
 *
 * Proximity is not evidence: two unrelated peers whose SYNs to the same
 * server were both dropped, or a SYN flood, share an endpoint and a
 * half-second too.  A pair needs the shared endpoint, the time window AND
 * one of: the same initial sequence number of the SYN or of the SYN-ACK
 * (a NAT keeps the ISN of at least the side it does not own), the same
 * receiving stream id (random per stream), or, for connections picked up
 * mid-stream, the same stanza domains and bytes.  When that evidence fits
 * more than one candidate (a flood with one fixed ISN) nothing is paired
 * and the ambiguity is counted.
 *
 * Clock offsets: connections seen at two capture points (same ISN, an
 * endpoint in common, unambiguous) give one SYN time difference each; the
 * median is the offset, reported per capture point with the number of
 * pairs it rests on, and applied (when over CLOCK_MIN_NS) to NAT pairing
 * and to the order of timelines.
 */
#include "corr_priv.h"

#include <stdlib.h>
#include <string.h>

/* Below this the capture points agree (what is left is forwarding delay). */
#define CLOCK_MIN_NS (FT_NS_PER_SEC / 10)
/* Farther apart than this, two SYNs are not one connection. */
#define CLOCK_MAX_NS (3600 * FT_NS_PER_SEC)
/* An ISN shared by more connections than this is not evidence (a flood). */
#define CLOCK_MAX_SHARED 4

bool conn_same_endpoint(const struct cconn *a, int da, const struct cconn *b, int db)
{
    return a->port[da] == b->port[db] && ft_addr_eq(&a->addr[da], &b->addr[db]);
}

/* ---- clocks ------------------------------------------------------------- */

void clock_book_free(struct clock_book *b)
{
    free(b->pairs);
    b->pairs = NULL;
    b->npairs = b->cappairs = 0;
}

int64_t nat_offset(const struct correlator *c, uint32_t source)
{
    const struct clock_book *b = &c->clocks;
    if (!b->applied)
        return 0;
    if (source >= CORR_MAX_SOURCES)
        source = CORR_MAX_SOURCES - 1;
    return b->known[source] ? b->offset_ns[source] : 0;
}

int64_t nat_clock(const struct correlator *c, uint32_t source, int64_t ts_ns)
{
    return ts_ns - nat_offset(c, source);
}

bool nat_clocks_linked(const struct correlator *c, uint32_t a, uint32_t b)
{
    const struct clock_book *bk = &c->clocks;
    if (a >= CORR_MAX_SOURCES)
        a = CORR_MAX_SOURCES - 1;
    if (b >= CORR_MAX_SOURCES)
        b = CORR_MAX_SOURCES - 1;
    if (a == b)
        return true;
    return bk->known[a] && bk->known[b] && bk->reference[a] == bk->reference[b];
}

bool corr_clock_offset(const struct correlator *c, uint32_t source, struct corr_clock *out)
{
    const struct clock_book *b = &c->clocks;
    if (source >= CORR_MAX_SOURCES || !b->known[source] || b->reference[source] == source ||
        (b->offset_ns[source] < CLOCK_MIN_NS && b->offset_ns[source] > -CLOCK_MIN_NS))
        return false;
    out->reference = b->reference[source];
    out->offset_ns = b->offset_ns[source];
    out->pairs = b->evidence[source];
    return true;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static int64_t pair_median(const struct clock_pair *p)
{
    int64_t s[CLOCK_SAMPLES];
    memcpy(s, p->sample, p->n * sizeof(*s));
    qsort(s, p->n, sizeof(*s), cmp_i64);
    return p->n % 2 ? s[p->n / 2] : s[p->n / 2 - 1] + (s[p->n / 2] - s[p->n / 2 - 1]) / 2;
}

static void clock_sample(struct correlator *c, uint32_t sa, uint32_t sb, int64_t diff)
{
    struct clock_book *b = &c->clocks;
    struct clock_pair *p = NULL;
    for (unsigned i = 0; i < b->npairs; i++)
        if (b->pairs[i].a == sa && b->pairs[i].b == sb)
            p = &b->pairs[i];
    if (!p) {
        if (!corr_grow((void **)&b->pairs, &b->cappairs, b->npairs + 1, sizeof(*b->pairs)))
            return;
        p = &b->pairs[b->npairs++];
        memset(p, 0, sizeof(*p));
        p->a = sa;
        p->b = sb;
    }
    p->pairs++;
    if (p->n < CLOCK_SAMPLES)
        p->sample[p->n++] = diff;
}

/* Each capture point's offset against the lowest-numbered point it is
 * linked to, through the pairs that have evidence. */
static void clock_solve(struct clock_book *b)
{
    bool more = true;
    memset(b->known, 0, sizeof(b->known));
    b->applied = false;
    for (unsigned i = 0; i < b->npairs; i++) {
        uint32_t a = b->pairs[i].a;
        bool linked = false;
        for (unsigned j = 0; j < b->npairs; j++)
            linked |= b->pairs[j].b == a;
        if (!linked && !b->known[a]) {
            b->known[a] = true;
            b->offset_ns[a] = 0;
            b->reference[a] = a;
            b->evidence[a] = 0;
        }
    }
    while (more) {
        more = false;
        for (unsigned i = 0; i < b->npairs; i++) {
            const struct clock_pair *p = &b->pairs[i];
            uint32_t from = p->a, to = p->b;
            int64_t off;
            if (!p->n || b->known[p->a] == b->known[p->b])
                continue;
            off = pair_median(p);
            if (b->known[to]) { /* reached from the other end */
                from = p->b;
                to = p->a;
                off = -off;
            }
            b->known[to] = true;
            b->offset_ns[to] = b->offset_ns[from] + off;
            b->reference[to] = b->reference[from];
            b->evidence[to] = p->pairs;
            if (b->offset_ns[to] >= CLOCK_MIN_NS || b->offset_ns[to] <= -CLOCK_MIN_NS)
                b->applied = true;
            more = true;
        }
    }
}

static uint32_t src_of(const struct cconn *k)
{
    return k->source < CORR_MAX_SOURCES ? k->source : CORR_MAX_SOURCES - 1;
}

void nat_estimate_clocks(struct correlator *c)
{
    struct corr_index ix;
    bool added = false;
    uint32_t nsyn = 0;
    if (!c->many_sources)
        return;
    corr_index_init(&ix);
    for (unsigned i = 0; i < c->nconns; i++)
        nsyn += c->conns[i]->syn.frame && !c->conns[i]->clock_sampled;
    /* sized once for what it will hold (no memory: the adds grow it) */
    (void)corr_index_reserve(&ix, nsyn, (size_t)nsyn * sizeof(c->conns[0]->isn[0]));
    for (unsigned i = 0; i < c->nconns; i++) {
        const struct cconn *k = c->conns[i];
        if (k->syn.frame && !k->clock_sampled && !corr_index_add(&ix, &k->isn[0], sizeof(k->isn[0]), i, 0))
            goto out;
    }
    for (unsigned i = 0; i < c->nconns; i++) {
        struct cconn *a = c->conns[i], *twin = NULL;
        unsigned shared = 0;
        if (!a->syn.frame || a->clock_sampled)
            continue;
        for (uint32_t h = corr_index_first(&ix, &a->isn[0], sizeof(a->isn[0])); h; h = corr_index_next(&ix, h)) {
            struct cconn *b = c->conns[corr_index_val(&ix, h)->a];
            int64_t dt = b->syn.ts_ns - a->syn.ts_ns;
            if (++shared > CLOCK_MAX_SHARED)
                break;
            if (b == a || src_of(b) == src_of(a) || b->clock_sampled || dt > CLOCK_MAX_NS || dt < -CLOCK_MAX_NS)
                continue;
            if (!conn_same_endpoint(a, 0, b, 0) && !conn_same_endpoint(a, 1, b, 1))
                continue;
            if (a->synack.frame && b->synack.frame && a->isn[1] != b->isn[1] &&
                !conn_same_endpoint(a, 1, b, 1))
                continue; /* the responder is the same host: its ISN would be too */
            if (twin) { /* two fit: not evidence */
                twin = NULL;
                shared = CLOCK_MAX_SHARED + 1;
                break;
            }
            twin = b;
        }
        if (!twin || shared > CLOCK_MAX_SHARED)
            continue;
        a->clock_sampled = twin->clock_sampled = true;
        if (src_of(a) < src_of(twin))
            clock_sample(c, src_of(a), src_of(twin), twin->syn.ts_ns - a->syn.ts_ns);
        else
            clock_sample(c, src_of(twin), src_of(a), a->syn.ts_ns - twin->syn.ts_ns);
        added = true;
    }
    if (added) {
        clock_solve(&c->clocks);
        for (unsigned i = 0; i < c->nconns; i++)
            c->conns[i]->clock_ns = nat_offset(c, c->conns[i]->source);
    }
out:
    corr_index_free(&ix);
}

/* ---- NAT pairs ---------------------------------------------------------- */

static bool same_str(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "") == 0;
}

/* Stream headers both views carry must agree (a NAT does not touch them);
 * the receiving server's stream id is random per connection, so two
 * different connections between the same domains differ there. */
static bool headers_agree(const struct cconn *a, const struct cconn *b)
{
    const struct cev *ha = conn_first_ev(a, CEV_OPEN, FT_DIR_ORIG), *hb = conn_first_ev(b, CEV_OPEN, FT_DIR_ORIG);
    const struct cev *ra = conn_first_ev(a, CEV_OPEN, FT_DIR_RESP), *rb = conn_first_ev(b, CEV_OPEN, FT_DIR_RESP);
    if (ra && rb && !same_str(ra->id, rb->id))
        return false;
    if (!ha || !hb)
        return (ha == NULL) == (hb == NULL) || !a->nev || !b->nev;
    return same_str(ha->from, hb->from) && same_str(ha->to, hb->to);
}

/* A view that may be one side of a NAT pair: s2s, or a connection that
 * carried nothing and is c2s only by its port (the inside view of a static
 * PAT to the wrong inside port, 5222, looks like that). */
static bool nat_candidate(const struct cconn *k)
{
    return k->s2s || (k->c2s && k->nev == 0);
}

static void make_s2s(struct correlator *c, struct cconn *k)
{
    if (k->s2s)
        return;
    k->c2s = false;
    k->s2s = true;
    c->stats.c2s_conns--;
    c->stats.s2s_conns++;
}

/* NAT twins start within half a second of each other (on the reference
 * clock) and share the endpoint that was not translated: the index is
 * keyed by (side, address, port, half-second bucket), so a connection only
 * meets candidates in its own and the neighbouring buckets. */
#define NAT_WINDOW_NS (FT_NS_PER_SEC / 2)
#define NAT_MAX_CANDIDATES 256 /* per list and connection; beyond: counted */

/* A view that only sent SYNs can only be paired by its ISN: it is indexed
 * with the ISN in the key, so a SYN flood with random ISNs costs one
 * lookup per connection, and one with a fixed ISN is cut short. */

struct nat_key {
    uint8_t side;
    uint8_t port[2];
    uint8_t with_isn;
    uint32_t isn;
    struct ft_addr addr;
    int64_t bucket;
};

static bool syn_only(const struct cconn *k)
{
    return k->syn.frame && !k->synack.frame && k->nev == 0 && !k->midstream;
}

static size_t nat_key(struct nat_key *key, const struct cconn *k, int side, int64_t bucket, bool with_isn)
{
    memset(key, 0, sizeof(*key));
    key->side = (uint8_t)side;
    key->port[0] = (uint8_t)(k->port[side] >> 8);
    key->port[1] = (uint8_t)k->port[side];
    key->with_isn = with_isn;
    key->isn = with_isn ? k->isn[FT_DIR_ORIG] : 0;
    key->addr = k->addr[side];
    key->bucket = bucket;
    return sizeof(*key);
}

static int64_t nat_start(const struct correlator *c, const struct cconn *k)
{
    (void)c;
    return conn_start(k); /* on the reference clock */
}

static int64_t nat_bucket(const struct correlator *c, const struct cconn *k)
{
    int64_t t = nat_start(c, k);
    return t >= 0 ? t / NAT_WINDOW_NS : (t - NAT_WINDOW_NS + 1) / NAT_WINDOW_NS;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Two views of one connection picked up mid-stream carry the same
 * stanzas and the same bytes: without a SYN or a header, timing alone
 * would pair every connection to a busy server at capture start. */
static bool midstream_agree(const struct cconn *a, const struct cconn *b)
{
    for (int d = 0; d < 2; d++) {
        uint64_t x = a->bytes[d], y = b->bytes[d], lo = x < y ? x : y, hi = x < y ? y : x;
        if (!same_str(a->stz_dom[d][0], b->stz_dom[d][0]) || !same_str(a->stz_dom[d][1], b->stz_dom[d][1]))
            return false;
        if (hi - lo > hi / 8 + 64) /* a capture point may miss a little at either end */
            return false;
    }
    return true;
}

/* What says a and b are one connection, beyond the shared endpoint and
 * the time: the same ISN of the SYN or of the SYN-ACK, the same receiving
 * stream id, or (mid-stream) the same stanzas and a similar byte count. */
static bool nat_evidence(const struct cconn *a, const struct cconn *b)
{
    const struct cev *ra, *rb;
    if (a->syn.frame && b->syn.frame && a->isn[FT_DIR_ORIG] == b->isn[FT_DIR_ORIG])
        return true;
    if (a->synack.frame && b->synack.frame && a->isn[FT_DIR_RESP] == b->isn[FT_DIR_RESP])
        return true;
    ra = conn_first_ev(a, CEV_OPEN, FT_DIR_RESP);
    rb = conn_first_ev(b, CEV_OPEN, FT_DIR_RESP);
    if (ra && rb && ra->id && *ra->id && same_str(ra->id, rb->id))
        return true;
    return (a->midstream || b->midstream) && a->bytes[0] + a->bytes[1] > 0 &&
           (a->stz_dom[0][0] || a->stz_dom[1][0]) && midstream_agree(a, b);
}

/* Would a and b be the two views of one connection? */
static bool nat_twins(const struct correlator *c, const struct cconn *a, const struct cconn *b)
{
    int64_t dt;
    bool orig_same, resp_same;
    if (!nat_candidate(b) || b->nat_peer || (!a->s2s && !b->s2s))
        return false;
    dt = nat_start(c, a) - nat_start(c, b);
    if (dt < 0)
        dt = -dt;
    if (dt > NAT_WINDOW_NS) /* a NAT forwards within milliseconds */
        return false;
    orig_same = conn_same_endpoint(a, 0, b, 0);
    resp_same = conn_same_endpoint(a, 1, b, 1);
    /* Exactly one side translated: the other endpoint is the same. */
    if (orig_same == resp_same)
        return false;
    if (!nat_evidence(a, b))
        return false;
    /* The translated side keeps its service port for inbound (static PAT)
     * or its source port for outbound (PAT usually keeps it); either way
     * the stream must agree. */
    if (!headers_agree(a, b))
        return false;
    if ((a->midstream || b->midstream) && !midstream_agree(a, b))
        return false;
    if ((a->syn_count > 0) != (b->syn_count > 0) && a->nev == 0 && b->nev == 0)
        return false;
    if (a->syn_count && b->syn_count && (a->syn_count > b->syn_count + 1 || b->syn_count > a->syn_count + 1))
        return false;
    return true;
}

void identity_pair_nat(struct correlator *c)
{
    struct corr_index ix;
    uint32_t *cand = malloc(12 * NAT_MAX_CANDIDATES * sizeof(*cand));
    struct nat_key key;

    uint32_t nkeys = 0;

    corr_index_init(&ix);
    if (!cand)
        return;
    for (unsigned i = 0; i < c->nconns; i++)
        nkeys += nat_candidate(c->conns[i]) ? 2 : 0;
    /* sized once for what it will hold (no memory: the adds grow it) */
    (void)corr_index_reserve(&ix, nkeys, (size_t)nkeys * sizeof(key));
    for (unsigned i = 0; i < c->nconns; i++) {
        const struct cconn *k = c->conns[i];
        if (!nat_candidate(k))
            continue;
        for (int side = 0; side < 2; side++)
            if (!corr_index_add(&ix, &key, nat_key(&key, k, side, nat_bucket(c, k), syn_only(k)), i, 0))
                goto out;
    }
    for (unsigned i = 0; i < c->nconns; i++) {
        struct cconn *a = c->conns[i], *b = NULL;
        unsigned ncand = 0, nfit = 0;
        if (!nat_candidate(a) || a->nat_peer)
            continue;
        /* An ISN that two or more other SYN-only views share (a flood with
         * a fixed ISN) is no evidence: a is not paired.  Counting stops at
         * two, so this costs a few steps whatever the flood. */
        if (a->syn.frame) {
            unsigned others = 0;
            for (int side = 0; side < 2 && others < 2; side++)
                for (int64_t bk = nat_bucket(c, a) - 1; bk <= nat_bucket(c, a) + 1 && others < 2; bk++)
                    for (uint32_t h = corr_index_first(&ix, &key, nat_key(&key, a, side, bk, true));
                         h && others < 2; h = corr_index_next(&ix, h))
                        others += corr_index_val(&ix, h)->a != i;
            if (others >= 2) {
                c->stats.nat_ambiguous++;
                c->stats.nat_candidates_capped++;
                continue;
            }
        }
        /* The candidates after a in capture order: the earliest that
         * qualifies wins, as a scan in that order would find it. */
        for (int list = 0; list < 4; list++) {
            int side = list & 1;
            bool with_isn = list >= 2; /* the SYN-only views with a's ISN (fewer than two) */
            if (with_isn && !a->syn.frame)
                continue;
            for (int64_t bk = nat_bucket(c, a) - 1; bk <= nat_bucket(c, a) + 1; bk++) {
                unsigned seen = 0;
                struct corr_index_key *node = corr_index_key_node(&ix, &key, nat_key(&key, a, side, bk, with_isn));
                if (!node)
                    continue;
                /* Entries at the front that are a itself, before it or
                 * paired are dead for every later connection: drop them
                 * (not from the ISN lists: they are counted above). */
                while (!with_isn && node->first && (corr_index_val(&ix, node->first)->a <= i ||
                                                    c->conns[corr_index_val(&ix, node->first)->a]->nat_peer))
                    node->first = corr_index_next(&ix, node->first);
                for (uint32_t h = node->first; h; h = corr_index_next(&ix, h)) {
                    uint32_t j = corr_index_val(&ix, h)->a;
                    if (j <= i || c->conns[j]->nat_peer)
                        continue;
                    if (seen++ >= NAT_MAX_CANDIDATES) {
                        c->stats.nat_candidates_capped++;
                        break;
                    }
                    cand[ncand++] = j;
                }
            }
        }
        qsort(cand, ncand, sizeof(*cand), cmp_u32);
        for (unsigned n = 0; n < ncand; n++) {
            struct cconn *k = c->conns[cand[n]];
            if ((n && cand[n] == cand[n - 1]) || !nat_twins(c, a, k))
                continue;
            if (!nfit++)
                b = k;
            else
                break; /* a second fits as well: the evidence is not specific */
        }
        if (nfit != 1) {
            if (nfit > 1)
                c->stats.nat_ambiguous++;
            continue;
        }
        a->nat_peer = b;
        b->nat_peer = a;
        make_s2s(c, a);
        make_s2s(c, b);
        if (conn_richness(b) > conn_richness(a))
            a->secondary = true;
        else
            b->secondary = true;
        c->stats.nat_pairs++;
    }
out:
    free(cand);
    corr_index_free(&ix);
}
