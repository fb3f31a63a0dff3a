/*
 * corr_registry.c - the federation registry: one federation per unordered
 * pair of domains, with at most one record per direction.
 */
#include "corr_priv.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* "a\0b", each cut like the records cut them (STR_CAP - 1). */
size_t registry_pair_key(char *buf, const char *a, const char *b)
{
    size_t na = strnlen(a, STR_CAP - 1), nb = strnlen(b, STR_CAP - 1);
    memcpy(buf, a, na);
    buf[na] = '\0';
    memcpy(buf + na + 1, b, nb);
    return na + 1 + nb;
}


struct corr_federation *registry_fed_get(struct correlator *c, const char *a, const char *b)
{
    const char *lo = strcmp(a, b) <= 0 ? a : b, *hi = lo == a ? b : a;
    struct corr_federation *f;
    uint64_t h = UINT64_C(1469598103934665603);
    char key[2 * STR_CAP];
    size_t klen = registry_pair_key(key, lo, hi);
    uint32_t hit = corr_index_first(&c->fed_ix, key, klen);
    if (hit)
        return c->feds[corr_index_val(&c->fed_ix, hit)->a];
    if (!corr_grow((void **)&c->feds, &c->capfeds, c->nfeds + 1, sizeof(*c->feds)))
        return NULL;
    f = calloc(1, sizeof(*f));
    if (!f)
        return NULL;
    f->domains[0] = identity_intern(c, lo);
    f->domains[1] = identity_intern(c, hi);
    if (!f->domains[0] || !f->domains[1] || !corr_index_add(&c->fed_ix, key, klen, c->nfeds, 0)) {
        free(f);
        return NULL;
    }
    for (const char *p = lo; *p; p++)
        h = (h ^ (uint8_t)*p) * UINT64_C(1099511628211);
    h = (h ^ 0xff) * UINT64_C(1099511628211);
    for (const char *p = hi; *p; p++)
        h = (h ^ (uint8_t)*p) * UINT64_C(1099511628211);
    snprintf(f->id, sizeof(f->id), "F%08" PRIx32, (uint32_t)(h ^ (h >> 32)));
    c->feds[c->nfeds++] = f;
    c->stats.federations++;
    return f;
}

struct corr_direction *registry_dir_get(struct correlator *c, const char *from, const char *to,
                                        struct corr_federation **fed)
{
    struct corr_federation *f;
    if (!from[0] || !to[0] || strcmp(from, to) == 0)
        return NULL;
    f = registry_fed_get(c, from, to);
    if (fed)
        *fed = f;
    if (!f)
        return NULL;
    for (unsigned i = 0; i < f->n_dir; i++)
        if (strcmp(f->dir[i].from, from) == 0 && strcmp(f->dir[i].to, to) == 0)
            return &f->dir[i];
    if (f->n_dir >= 2)
        return NULL;
    {
        int fi = strcmp(f->domains[0], from) == 0 ? 0 : 1;
        f->dir[f->n_dir].from = f->domains[fi];
        f->dir[f->n_dir].to = f->domains[1 - fi];
    }
    return &f->dir[f->n_dir++];
}

static bool is_presence(const struct cev *v, enum xmpp_presence_type p)
{
    return v->type == CEV_STANZA && v->flags == XMPP_STANZA_PRESENCE && v->sub == p;
}

void registry_index_facts(struct correlator *c)
{
    char key[2 * STR_CAP + 2], a[STR_CAP], b[STR_CAP];
    for (unsigned i = 0; i < c->nconns; i++) {
        const struct cconn *k = c->conns[i];
        bool primary_s2s = k->s2s && !k->secondary;
        char dom[STR_CAP];
        bool c2s_dom = k->c2s && identity_c2s_domain(k, dom, sizeof(dom));
        if (primary_s2s)
            corr_index_add(&c->dir_conn_ix, key, registry_pair_key(key, k->dom_from, k->dom_to), i, 0);
        if (!k->has_joins)
            continue; /* no db:verify, no presence: nothing to join */
        for (unsigned e = 0; e < k->nev; e++) {
            const struct cev *v = &k->ev[e];
            if (primary_s2s && v->type == CEV_DB_VERIFY && v->sub == XMPP_DB_NONE && v->from && v->to)
                corr_index_add(&c->verify_ix, key, corr_index_key2(key, sizeof(key), v->from, v->to), i, e);
            if (primary_s2s && is_presence(v, XMPP_PRES_SUBSCRIBE)) {
                corr_jid_domain(v->from, a, sizeof(a));
                corr_jid_domain(v->to, b, sizeof(b));
                corr_index_add(&c->sub_ix, key, corr_index_key2(key, sizeof(key), a, b), i, e);
            }
            if (c2s_dom && v->dir == FT_DIR_ORIG && is_presence(v, XMPP_PRES_SUBSCRIBE)) {
                corr_jid_domain(v->to, b, sizeof(b));
                corr_index_add(&c->csub_ix, key, corr_index_key2(key, sizeof(key), dom, b), i, e);
            }
            if (!k->secondary && (is_presence(v, XMPP_PRES_SUBSCRIBED) || is_presence(v, XMPP_PRES_UNSUBSCRIBED) ||
                                  is_presence(v, XMPP_PRES_ERROR))) {
                corr_jid_bare(v->from, a, sizeof(a));
                corr_jid_bare(v->to, b, sizeof(b));
                corr_index_add(&c->answer_ix, key, corr_index_key2(key, sizeof(key), a, b), i, e);
            }
        }
    }
}

uint32_t registry_dir_conns(const struct correlator *c, const char *from, const char *to)
{
    char key[2 * STR_CAP];
    return corr_index_first(&c->dir_conn_ix, key, registry_pair_key(key, from, to));
}
