/*
 * corr_registry.h - the federation registry: one federation per unordered
 * pair of domains, at most two directions each.  Records are owned by the
 * correlator and live until corr_free().
 */
#ifndef FT_CORR_REGISTRY_H
#define FT_CORR_REGISTRY_H

#include "correlate.h"
#include "corr_util.h"

struct correlator;

/* NULL on no memory. */
struct corr_federation *registry_fed_get(struct correlator *c, const char *a, const char *b);
/* NULL when from or to is empty, they are equal, or no memory; *fed (when
 * not NULL) is the direction's federation. */
struct corr_direction *registry_dir_get(struct correlator *c, const char *from, const char *to,
                                        struct corr_federation **fed);

/* The joins over the facts, built once identity has named every
 * connection: domain pair -> its s2s connections, and the db:verify
 * requests, subscribes and subscription answers by the domains or JIDs
 * they concern.  Values are (connection index, event index). */
void registry_index_facts(struct correlator *c);
/* The first s2s connection from -> to (a handle into c->dir_conn_ix). */
uint32_t registry_dir_conns(const struct correlator *c, const char *from, const char *to);
/* Writes "a\0b" (each cut at STR_CAP - 1) into buf[2 * STR_CAP]. */
size_t registry_pair_key(char *buf, const char *a, const char *b);

#endif
