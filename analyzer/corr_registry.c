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

/* ---- phase 5: federations and their directions ------------------------ */

struct corr_federation *registry_fed_get(struct correlator *c, const char *a, const char *b)
{
    const char *lo = strcmp(a, b) <= 0 ? a : b, *hi = lo == a ? b : a;
    struct corr_federation *f;
    uint64_t h = UINT64_C(1469598103934665603);
    for (unsigned i = 0; i < c->nfeds; i++)
        if (strcmp(c->feds[i]->domains[0], lo) == 0 && strcmp(c->feds[i]->domains[1], hi) == 0)
            return c->feds[i];
    if (!corr_grow((void **)&c->feds, &c->capfeds, c->nfeds + 1, sizeof(*c->feds)))
        return NULL;
    f = calloc(1, sizeof(*f));
    if (!f)
        return NULL;
    corr_copy(f->domains[0], sizeof(f->domains[0]), lo);
    corr_copy(f->domains[1], sizeof(f->domains[1]), hi);
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

struct corr_direction *registry_dir_get(struct correlator *c, const char *from, const char *to)
{
    struct corr_federation *f;
    if (!from[0] || !to[0] || strcmp(from, to) == 0)
        return NULL;
    f = registry_fed_get(c, from, to);
    if (!f)
        return NULL;
    for (unsigned i = 0; i < f->n_dir; i++)
        if (strcmp(f->dir[i].from, from) == 0 && strcmp(f->dir[i].to, to) == 0)
            return &f->dir[i];
    if (f->n_dir >= 2)
        return NULL;
    corr_copy(f->dir[f->n_dir].from, sizeof(f->dir[0].from), from);
    corr_copy(f->dir[f->n_dir].to, sizeof(f->dir[0].to), to);
    return &f->dir[f->n_dir++];
}
