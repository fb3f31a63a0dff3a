/*
 * corr_lookup_twins.c - one DNS lookup seen by two capture points.
 *
 * A server behind NAT asks its resolver; the inside capture sees the query
 * from the inside address, the outside capture sees the same query from the
 * public address (the resolver may be NATed too, and the NAT may rewrite
 * the query id).  Both are one lookup: when one client address is named
 * (the address book knows its domain) and its twin is not, the twin gets
 * that name (weakest strength), so the outside lookup speaks for the same
 * direction instead of an `[address] -> domain` of its own.
 *
 * Twins: different capture sources, the same question (name, type), the
 * same outcome and answers, answered close in time: within
 * LOOKUP_TWIN_CLOCKED_NS on one clock when the offset between the two
 * capture points is estimated (corr_nat.c, from connections both saw),
 * else within LOOKUP_TWIN_WINDOW_NS of each other's own clocks.  A same
 * query id is preferred; without one the match must be unambiguous (all
 * candidates name the same domain).
 *
 * The same reasoning names the source of a connection: a dual-stack server
 * asks over IPv4 and connects over IPv6 (or from another address), so an
 * s2s connection whose source nobody named, opened to an address a lookup
 * answered moments before, comes from the server that asked, when every
 * such lookup was asked by one domain's server.
 */
#include "corr_priv.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A lookup and its twin are milliseconds apart on one clock; clocks of
 * two capture points may differ by seconds.  With the offset between them
 * estimated, the twin is looked for this close to the corrected time;
 * without, within the wider window of the raw times. */
#define LOOKUP_TWIN_CLOCKED_NS (INT64_C(1) * 1000000000)
#define LOOKUP_TWIN_WINDOW_NS (INT64_C(5) * 1000000000)

static int64_t lookup_time(const struct clookup *l)
{
    return l->has_response ? l->response.ts_ns : l->query.ts_ns;
}

static uint32_t lookup_source(const struct clookup *l)
{
    return l->has_response ? l->response.source : l->query.source;
}

static bool str_eq_ci(const char *a, const char *b)
{
    if (!a || !b)
        return a == b;
    return strcasecmp(a, b) == 0;
}

static bool answer_in(const struct clookup *l, unsigned k, const struct clookup *m)
{
    for (unsigned j = 0; j < m->nans; j++)
        if (m->ans[j].type == l->ans[k].type && m->ans[j].port == l->ans[k].port &&
            ft_addr_eq(&m->ans[j].addr, &l->ans[k].addr) && str_eq_ci(m->ans[j].target, l->ans[k].target))
            return true;
    return false;
}

/* The same question with the same result (answers in any order), close in
 * time (on one clock when the two capture points' offset is known). */
static bool lookup_same_result(const struct correlator *c, const struct clookup *a, const struct clookup *b)
{
    int64_t dt, window = LOOKUP_TWIN_WINDOW_NS;
    uint32_t sa = lookup_source(a), sb = lookup_source(b);
    if (a->qtype != b->qtype || !str_eq_ci(a->qname, b->qname) || a->has_response != b->has_response ||
        a->outcome != b->outcome || a->rcode != b->rcode || a->nans != b->nans)
        return false;
    if (nat_clocks_linked(c, sa, sb)) {
        dt = nat_clock(c, sa, lookup_time(a)) - nat_clock(c, sb, lookup_time(b));
        window = LOOKUP_TWIN_CLOCKED_NS;
    } else {
        dt = lookup_time(a) - lookup_time(b);
    }
    if (dt < 0)
        dt = -dt;
    if (dt > window)
        return false;
    for (unsigned k = 0; k < a->nans; k++)
        if (!answer_in(a, k, b))
            return false;
    return true;
}

static size_t twin_key(char *buf, size_t len, const struct clookup *l)
{
    size_t n = corr_index_key1(buf, len - 2, l->qname);
    buf[n++] = (char)(l->qtype >> 8);
    buf[n++] = (char)(l->qtype & 0xff);
    return n;
}

/* The domain l's twin client is named by, or NULL (none, or ambiguous). */
static const char *twin_domain(const struct correlator *c, const struct corr_index *ix, unsigned i)
{
    const struct clookup *l = c->lookups[i];
    char key[STR_CAP + 2];
    size_t n = twin_key(key, sizeof(key), l);
    const char *by_txid = NULL, *any = NULL;
    bool txid_ambiguous = false, any_ambiguous = false;
    unsigned seen = 0;
    for (uint32_t h = corr_index_first(ix, key, n); h && seen < 64; h = corr_index_next(ix, h), seen++) {
        const struct clookup *m = c->lookups[corr_index_val(ix, h)->a];
        const char *d;
        if (m == l || lookup_source(m) == lookup_source(l) || !lookup_same_result(c, l, m))
            continue;
        d = identity_book_domain(c, &m->client);
        if (!d || d[0] == '[')
            continue;
        if (m->txid == l->txid) {
            if (by_txid && strcasecmp(by_txid, d) != 0)
                txid_ambiguous = true;
            by_txid = d;
        }
        if (any && strcasecmp(any, d) != 0)
            any_ambiguous = true;
        any = d;
    }
    if (by_txid && !txid_ambiguous)
        return by_txid;
    return any_ambiguous ? NULL : any;
}

void identity_pair_lookups(struct correlator *c)
{
    struct corr_index ix;
    char key[STR_CAP + 2];
    bool several_sources = false;
    const struct clookup *first = NULL;
    for (unsigned i = 0; i < c->nlookups && !several_sources; i++) {
        if (!c->lookups[i])
            continue; /* freed: its place waits for the next full round */
        if (!first)
            first = c->lookups[i];
        several_sources = lookup_source(c->lookups[i]) != lookup_source(first);
    }
    if (!several_sources)
        return; /* one capture point: nothing is seen twice */
    corr_index_init(&ix);
    for (unsigned i = 0; i < c->nlookups; i++)
        if (c->lookups[i] && !corr_index_add(&ix, key, twin_key(key, sizeof(key), c->lookups[i]), i, 0))
            goto out;
    for (unsigned i = 0; i < c->nlookups; i++) {
        const struct clookup *l = c->lookups[i];
        const char *d;
        if (!l || identity_book_domain(c, &l->client))
            continue;
        d = twin_domain(c, &ix, i);
        if (d) {
            char dom[STR_CAP];
            corr_copy(dom, sizeof(dom), d); /* the book may move as it grows */
            identity_book_add(c, &l->client, dom, 0);
        }
    }
out:
    corr_index_free(&ix);
}

/* A lookup answer leads to a connection opened this soon after it. */
#define LOOKUP_CONNECT_WINDOW_NS (INT64_C(5) * 1000000000)

/* The domain whose server asked for address a shortly before t, or NULL
 * (nobody named, or servers of different domains asked). */
static const char *asker_of(const struct correlator *c, const struct corr_index *ix, const struct ft_addr *a,
                            int64_t t)
{
    const char *found = NULL;
    unsigned seen = 0;
    for (uint32_t h = corr_index_first(ix, a, sizeof(*a)); h && seen < 64; h = corr_index_next(ix, h)) {
        const struct clookup *l = c->lookups[corr_index_val(ix, h)->a];
        const char *d;
        if (!l)
            continue; /* freed */
        seen++;
        if (!l->has_response || l->response.ts_ns > t || t - l->response.ts_ns > LOOKUP_CONNECT_WINDOW_NS)
            continue;
        d = identity_book_domain(c, &l->client);
        if (!d || d[0] == '[')
            return NULL; /* an unnamed asker may be the one */
        if (found && strcasecmp(found, d) != 0)
            return NULL;
        found = d;
    }
    return found;
}

void identity_name_by_lookups(struct correlator *c)
{
    for (unsigned i = 0; i < c->nconns; i++) {
        const struct cconn *k = c->conns[i];
        const char *d;
        if (!k->s2s || !k->syn.frame || identity_book_domain(c, &k->addr[FT_DIR_ORIG]))
            continue;
        d = asker_of(c, &c->ans_addr_ix, &k->addr[FT_DIR_RESP], k->syn.ts_ns);
        if (d) {
            char dom[STR_CAP];
            corr_copy(dom, sizeof(dom), d);
            identity_book_add(c, &k->addr[FT_DIR_ORIG], dom, 0);
        }
    }
}
