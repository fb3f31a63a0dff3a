/*
 * corr_srv_names.c - the run's SRV namings, target host -> the domain that
 * named it last (see corr_srv_names.h).
 */
#include "corr_srv_names.h"

#include <stdlib.h>
#include <string.h>

#include "corr_util.h"

void srv_names_init(struct srv_names *s, uint32_t max)
{
    memset(s, 0, sizeof(*s));
    corr_index_init(&s->target_ix);
    corr_index_init(&s->asker_ix);
    corr_index_init(&s->dom_ix);
    s->max = max;
}

void srv_names_free(struct srv_names *s)
{
    for (unsigned i = 0; i < s->ndoms; i++)
        free(s->doms[i]);
    free(s->doms);
    corr_index_free(&s->target_ix);
    corr_index_free(&s->asker_ix);
    corr_index_free(&s->dom_ix);
    memset(s, 0, sizeof(*s));
}

/* The id of domain, added when new; UINT32_MAX when full or on no memory. */
static uint32_t dom_id(struct srv_names *s, const char *domain)
{
    char key[STR_CAP];
    size_t n = corr_index_key1(key, sizeof(key), domain);
    uint64_t h = corr_index_hash(key, n);
    uint32_t v = corr_index_first_h(&s->dom_ix, key, n, h);
    char *copy;
    if (v)
        return corr_index_val(&s->dom_ix, v)->a;
    if (s->ndoms >= s->max || !corr_grow((void **)&s->doms, &s->capdoms, s->ndoms + 1, sizeof(*s->doms)))
        return UINT32_MAX;
    if ((copy = strndup(domain, STR_CAP - 1)) == NULL)
        return UINT32_MAX;
    if (!corr_index_add_h(&s->dom_ix, key, n, h, s->ndoms, 0)) {
        free(copy);
        return UINT32_MAX;
    }
    s->doms[s->ndoms] = copy;
    return s->ndoms++;
}

/* Sets key's one value to id (adds the key when new and there is room). */
static bool set_last(struct corr_index *ix, const void *key, size_t n, uint64_t h, uint32_t id, uint32_t max)
{
    uint32_t v = corr_index_first_h(ix, key, n, h);
    if (v) {
        corr_index_val(ix, v)->a = id;
        return true;
    }
    return ix->nkeys < max && corr_index_add_h(ix, key, n, h, id, 0);
}

/* target key, then the asker's address bytes */
static size_t asker_key(char *buf, size_t len, const char *tkey, size_t n, const struct ft_addr *asker)
{
    if (n + sizeof(*asker) > len)
        n = len - sizeof(*asker);
    memcpy(buf, tkey, n);
    memcpy(buf + n, asker, sizeof(*asker));
    return n + sizeof(*asker);
}

void srv_names_note(struct srv_names *s, const char *tkey, size_t n, uint64_t h, const struct ft_addr *asker,
                    const char *domain, uint64_t *dropped)
{
    char key[STR_CAP + sizeof(struct ft_addr)];
    size_t kn = asker_key(key, sizeof(key), tkey, n, asker);
    uint32_t id = dom_id(s, domain);
    bool ok = id != UINT32_MAX;
    ok = ok && set_last(&s->target_ix, tkey, n, h, id, s->max);
    ok = ok && set_last(&s->asker_ix, key, kn, corr_index_hash(key, kn), id, s->max);
    if (!ok)
        (*dropped)++;
}

const char *srv_names_last(const struct srv_names *s, const char *tkey, size_t n, uint64_t h,
                           const struct ft_addr *asker)
{
    char key[STR_CAP + sizeof(struct ft_addr)];
    size_t kn;
    uint32_t v = corr_index_first_h(&s->target_ix, tkey, n, h);
    if (!v)
        return NULL;
    kn = asker_key(key, sizeof(key), tkey, n, asker);
    {
        uint32_t w = corr_index_first_h(&s->asker_ix, key, kn, corr_index_hash(key, kn));
        if (w)
            return s->doms[corr_index_val(&s->asker_ix, w)->a];
    }
    return s->doms[corr_index_val(&s->target_ix, v)->a];
}
