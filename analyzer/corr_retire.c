/*
 * corr_retire.c - what the streaming correlator frees: ended connections
 * idle for --idle-timeout and lookups as old (earlier near the caps),
 * DNS noise (corr_dns_noise.c), the holes freed lookups leave, and the
 * interned names nothing uses any more.  The rounds that call these are
 * in corr_stream.c.
 */
#include "corr_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Who asked lookup l: the book's domain of its client, the one -d
 * domain, or the address; false when that is the domain asked about. */
static bool asker_of(struct correlator *c, const struct clookup *l, char *from, const char *to)
{
    const char *d = identity_book_domain(c, &l->client);
    if (d)
        corr_copy(from, STR_CAP, d);
    else if (c->cfg.n_local_domains == 1)
        corr_copy(from, STR_CAP, c->cfg.local_domains[0]);
    else
        identity_name_endpoint(from, STR_CAP, &l->client);
    return strcasecmp(from, to) != 0;
}

/* The direction an SRV lookup speaks for: who asked -> the domain asked
 * about.  False when it speaks for none. */
bool stream_lookup_direction(struct correlator *c, const struct clookup *l, char *from, char *to)
{
    if (l->qtype != DNS_T_SRV || !corr_srv_domain(l->qname, to, STR_CAP))
        return false;
    return asker_of(c, l, from, to);
}

/* The direction whose lookup stage read address lookup l: who asked ->
 * the domain it was joined to (the one whose SRV named the host, else the
 * name asked). */
static bool address_lookup_direction(struct correlator *c, const struct clookup *l, char *from, char *to)
{
    if (l->qtype != DNS_T_A && l->qtype != DNS_T_AAAA)
        return false;
    corr_copy(to, STR_CAP, l->srv_dom ? l->srv_dom : l->qname);
    return asker_of(c, l, from, to);
}

struct corr_federation *stream_fed_find(struct correlator *c, const char *a, const char *b)
{
    char key[2 * STR_CAP];
    const char *lo = strcmp(a, b) <= 0 ? a : b, *hi = lo == a ? b : a;
    uint32_t h = corr_index_first(&c->fed_ix, key, registry_pair_key(key, lo, hi));
    return h ? c->feds[corr_index_val(&c->fed_ix, h)->a] : NULL;
}

static struct corr_direction *dir_find(struct correlator *c, const char *from, const char *to)
{
    struct corr_federation *f = stream_fed_find(c, from, to);
    if (!f)
        return NULL;
    for (unsigned i = 0; i < f->n_dir; i++)
        if (strcmp(f->dir[i].from, from) == 0 && strcmp(f->dir[i].to, to) == 0)
            return &f->dir[i];
    return NULL;
}

static void mark_freed(struct correlator *c, const char *from, const char *to)
{
    struct corr_direction *d = from && to ? dir_find(c, from, to) : NULL;
    if (d)
        d->facts_freed = true;
}

/* A client connection leaving takes the subscriptions its users asked
 * for with it: the directions they spoke for (both ways: the answer
 * travelled back) must remember what they showed (judge_carry.c). */
static void mark_c2s_freed(struct correlator *c, const struct cconn *k)
{
    char user[STR_CAP], to[STR_CAP];
    if (!identity_c2s_domain(k, user, sizeof(user)))
        return;
    for (unsigned e = 0; e < k->nev; e++) {
        if (!identity_c2s_subscribe_to(k, e, user, to, sizeof(to)))
            continue;
        mark_freed(c, user, to);
        mark_freed(c, to, user);
    }
}

/* Frees ended connections idle for idle_timeout and lookups as old (all
 * ended connections, and the oldest lookups, when the caps are near). */
void stream_retire_facts(struct correlator *c, int64_t now)
{
    bool pressure = c->nconns >= c->cfg.max_conns / 4 * 3;
    bool lpressure = c->nlookups - c->lookups_dead >= c->cfg.max_lookups / 4 * 3;
    unsigned w = 0, freed = 0;
    int64_t next_idle = INT64_MAX;
    char from[STR_CAP], to[STR_CAP];

    for (unsigned i = 0; i < c->nconns; i++) {
        struct cconn *k = c->conns[i];
        bool idle = k->ended && now - k->active_ns >= c->cfg.idle_timeout_ns;
        if (!idle && !(pressure && k->ended)) {
            if (k->ended && k->active_ns + c->cfg.idle_timeout_ns < next_idle)
                next_idle = k->active_ns + c->cfg.idle_timeout_ns;
            c->conns[w++] = k;
            continue;
        }
        if (!idle)
            c->stats.conns_retired_early++;
        if (k->s2s)
            c->retired_s2s++;
        else if (k->c2s)
            c->retired_c2s++;
        if (k->nat_peer && !k->secondary)
            c->retired_nat_pairs++;
        if (k->nat_peer)
            k->nat_peer->nat_peer = NULL;
        if (k->s2s && !k->secondary)
            mark_freed(c, k->dom_from, k->dom_to);
        else if (k->c2s)
            mark_c2s_freed(c, k);
        c->live_events -= k->nev;
        conn_free(k);
        c->stats.conns_retired++;
        freed++;
    }
    c->nconns = w;
    /* One timer for the next connection to go idle (not one each). */
    if (next_idle != INT64_MAX)
        timer_push(&c->timers, next_idle, 0);
    if (freed) {
        store_map_rebuild(c);
        c->timer_due = true; /* the next round retires their directions */
    }
    /* A freed lookup leaves a hole (NULL): what the lookups said stays
     * where it is until the next full round closes the holes
     * (stream_close_lookup_holes) and reads them all again. */
    dns_noise_mark(c, now);
    for (unsigned i = 0; i < c->nlookups; i++) {
        struct clookup *l = c->lookups[i];
        int64_t ts;
        bool old;
        if (!l)
            continue;
        ts = l->response.frame ? l->response.ts_ns : l->query.ts_ns;
        old = now - ts >= c->cfg.idle_timeout_ns;
        if (l->noise) {
            store_lookup_free(l);
            c->lookups[i] = NULL;
            c->lookups_dead++;
            c->stats.lookups_noise++;
            continue;
        }
        if (!old && !(lpressure && i < c->nlookups / 2))
            continue;
        /* the direction that read it remembers what it showed (judge_carry.c) */
        if (stream_lookup_direction(c, l, from, to) || address_lookup_direction(c, l, from, to))
            mark_freed(c, from, to);
        identity_remember_lookup(c, l);
        store_lookup_free(l);
        c->lookups[i] = NULL;
        c->lookups_dead++;
        c->stats.lookups_retired++;
        c->timer_due = true;
    }
}

/* Closes the holes freed lookups left (a full round, before it reads the
 * lookups again). */
void stream_close_lookup_holes(struct correlator *c)
{
    unsigned w = 0;
    if (!c->lookups_dead)
        return;
    for (unsigned i = 0; i < c->nlookups; i++)
        if (c->lookups[i])
            c->lookups[w++] = c->lookups[i];
    c->nlookups = w;
    c->lookups_dead = 0;
}

/* The interned names outlive what named them (retired connections,
 * dropped federations): when they are many times what the federations
 * use, the table is rebuilt from the federations' names.  Runs after
 * reset_identity, when nothing else points at a name.  On no memory the
 * old table stays. */
void stream_names_gc(struct correlator *c)
{
    char **old = c->names;
    unsigned nold = c->nnames, capold = c->capnames;
    struct corr_index oldix = c->names_ix;
    const char **fresh;

    if (nold < 4096 || nold < 8 * (uint64_t)c->nfeds)
        return;
    fresh = malloc((2 * (size_t)c->nfeds + 1) * sizeof(*fresh));
    if (!fresh)
        return;
    c->names = NULL;
    c->nnames = c->capnames = 0;
    corr_index_init(&c->names_ix);
    for (unsigned i = 0; i < c->nfeds; i++)
        for (int s = 0; s < 2; s++)
            if (!(fresh[2 * i + s] = identity_intern(c, c->feds[i]->domains[s]))) {
                for (unsigned n = 0; n < c->nnames; n++)
                    free(c->names[n]);
                free(c->names);
                corr_index_free(&c->names_ix);
                c->names = old;
                c->nnames = nold;
                c->capnames = capold;
                c->names_ix = oldix;
                free(fresh);
                return;
            }
    for (unsigned i = 0; i < c->nfeds; i++) {
        struct corr_federation *f = c->feds[i];
        for (int s = 0; s < 2; s++) {
            const char *was = f->domains[s], *now = fresh[2 * i + s];
            for (unsigned j = 0; j < f->n_dir; j++) {
                struct corr_direction *d = &f->dir[j];
                struct verdict_vars *v = &d->verdict.vars;
                if (d->from == was)
                    d->from = now;
                if (d->to == was)
                    d->to = now;
                if (v->from == was)
                    v->from = now;
                if (v->to == was)
                    v->to = now;
                if (v->local == was)
                    v->local = now;
                if (v->remote == was)
                    v->remote = now;
            }
            if (f->local == was)
                f->local = now;
            f->domains[s] = now;
        }
    }
    for (unsigned n = 0; n < nold; n++)
        free(old[n]);
    free(old);
    corr_index_free(&oldix);
    free(fresh);
    c->names_epoch++;
}

