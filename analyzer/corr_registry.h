/*
 * corr_registry.h - the federation registry: one federation per unordered
 * pair of domains, at most two directions each.  Records are owned by the
 * correlator and live until corr_free().
 */
#ifndef FT_CORR_REGISTRY_H
#define FT_CORR_REGISTRY_H

#include "correlate.h"

struct correlator;

/* NULL on no memory. */
struct corr_federation *registry_fed_get(struct correlator *c, const char *a, const char *b);
/* NULL when from or to is empty, they are equal, or no memory. */
struct corr_direction *registry_dir_get(struct correlator *c, const char *from, const char *to);

#endif
