/*
 * corr_dns_noise.c - DNS lookups no judge can need.
 *
 * A mirror port carries every user's lookups (web names, mail, PTR); the
 * correlator keeps a lookup for --idle-timeout only when it can speak for
 * XMPP.  A lookup is claimed when its name is an XMPP SRV name, an SRV
 * target, or a domain the correlator has named; when an answer's name is
 * one of those; when an A/AAAA answer is the address of an XMPP
 * connection kept; or when the asker is a server the address book knows.
 * A lookup still unclaimed NOISE_WINDOW after its answer (a connection
 * follows its lookup within seconds: corr_lookup_twins.c uses 5 s) is
 * freed and counted in stats.lookups_noise.  A claimed lookup stays
 * claimed.  The output keeps every lookup for -v and NDJSON: this only
 * concerns what the correlator holds.
 */
#include "corr_priv.h"

#include <string.h>

/* How long an unclaimed lookup waits for something to claim it. */
#define NOISE_WINDOW_NS (INT64_C(10) * 1000000000)

/* Whether name is an SRV target or a domain the correlator named: one
 * key and one hash serve both indexes. */
static bool known_name(const struct correlator *c, const struct corr_index *domains, const char *name)
{
    char key[STR_CAP];
    size_t n;
    uint64_t h;
    if (!name || !*name)
        return false;
    n = corr_index_key1(key, sizeof(key), name);
    h = corr_index_hash(key, n);
    return srv_names_known(&c->srv_names, key, n, h) || corr_index_first_h(domains, key, n, h) != 0;
}

static bool claimed(const struct correlator *c, const struct corr_index *domains, const struct corr_index *addrs,
                    const struct clookup *l)
{
    char dom[STR_CAP];
    if (corr_srv_domain(l->qname, dom, sizeof(dom)) || known_name(c, domains, l->qname))
        return true;
    if (identity_book_domain(c, &l->client))
        return true;
    for (unsigned k = 0; k < l->nans; k++) {
        /* Answers mostly repeat the previous one's name: asked once. */
        bool same = k && l->ans[k].name && l->ans[k - 1].name && strcmp(l->ans[k].name, l->ans[k - 1].name) == 0;
        if ((!same && known_name(c, domains, l->ans[k].name)) || known_name(c, domains, l->ans[k].target))
            return true;
        if ((l->ans[k].type == DNS_T_A || l->ans[k].type == DNS_T_AAAA) &&
            corr_index_first(addrs, &l->ans[k].addr, sizeof(l->ans[k].addr)))
            return true;
    }
    return false;
}

/* Marks the lookups old enough to judge: claimed (kept from now on) or
 * noise.  Runs after a round's identity, before the lookups move. */
unsigned dns_noise_mark(struct correlator *c, int64_t now)
{
    const struct corr_index *domains;
    struct corr_index addrs;
    char key[STR_CAP];
    unsigned noise = 0;
    bool any = false;

    for (unsigned i = 0; i < c->nlookups && !any; i++) {
        const struct clookup *l = c->lookups[i];
        int64_t ts;
        if (!l)
            continue; /* freed (a partial round left its place) */
        ts = l->response.frame ? l->response.ts_ns : l->query.ts_ns;
        any = !l->claimed && now - ts >= NOISE_WINDOW_NS;
    }
    if (!any)
        return 0;
    /* The names index follows names[] as it grows (rebuilt when
     * names_gc rebuilt names[]). */
    if (c->noise_names_epoch != c->names_epoch) {
        corr_index_clear(&c->noise_names_ix);
        c->noise_names_done = 0;
        c->noise_names_epoch = c->names_epoch;
    }
    /* sized once for the names it will hold (no memory: the adds grow it) */
    (void)corr_index_reserve(&c->noise_names_ix, c->nnames - c->noise_names_done, 0);
    for (; c->noise_names_done < c->nnames; c->noise_names_done++) {
        const char *n = c->names[c->noise_names_done];
        if (!corr_index_add(&c->noise_names_ix, key, corr_index_key1(key, sizeof(key), n), c->noise_names_done, 0))
            return 0; /* no memory: nothing is called noise */
    }
    domains = &c->noise_names_ix;
    corr_index_init(&addrs);
    (void)corr_index_reserve(&addrs, 2 * c->nconns, (size_t)2 * c->nconns * sizeof(struct ft_addr));
    for (unsigned i = 0; i < c->nconns; i++)
        for (int s = 0; s < 2; s++)
            if (!corr_index_add(&addrs, &c->conns[i]->addr[s], sizeof(c->conns[i]->addr[s]), i, 0))
                goto out;
    for (unsigned i = 0; i < c->nlookups; i++) {
        struct clookup *l = c->lookups[i];
        int64_t ts;
        if (!l)
            continue;
        ts = l->response.frame ? l->response.ts_ns : l->query.ts_ns;
        if (l->claimed || now - ts < NOISE_WINDOW_NS)
            continue;
        if (claimed(c, domains, &addrs, l)) {
            l->claimed = true;
        } else {
            l->noise = true;
            noise++;
        }
    }
out:
    corr_index_free(&addrs);
    return noise;
}
