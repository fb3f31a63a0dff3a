/*
 * corr_srv_names.h - what SRV answers said about hosts: which domain's
 * _xmpp-server (or _xmpps-server) SRV named a target host last, overall
 * and per asker.  A server resolves SRV, then the target's address: an
 * address lookup of a host belongs to the domain whose SRV named it last
 * before it, from the same asker when there is one.  Kept for the whole
 * run (a full judging round does not rebuild it, a freed lookup does not
 * take it along): the correlator decides each address lookup's domain
 * once, when it first reads it, so every round joins it the same way.
 * Bounded: names and (target, asker) pairs beyond max are counted, not
 * kept.
 */
#ifndef FT_CORR_SRV_NAMES_H
#define FT_CORR_SRV_NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "corr_index.h"

struct srv_names {
    struct corr_index target_ix; /* target key (corr_index_key1) -> (domain id, 0), the last naming */
    struct corr_index asker_ix;  /* target key + asker address -> (domain id, 0), the last naming */
    struct corr_index dom_ix;    /* domain key -> (domain id, 0) */
    char **doms;                 /* owned: each domain once, as first written */
    unsigned ndoms, capdoms;
    uint32_t max;                /* of domains, and of keys in each index */
};

void srv_names_init(struct srv_names *s, uint32_t max);
/* Frees what s owns. */
void srv_names_free(struct srv_names *s);
/* Learns that the SRV of domain, asked by asker, named the host whose key
 * is tkey (n bytes, hash h); counts in *dropped what it could not keep. */
void srv_names_note(struct srv_names *s, const char *tkey, size_t n, uint64_t h, const struct ft_addr *asker,
                    const char *domain, uint64_t *dropped);
/* The domain whose SRV named the host last, as asked by asker if it did,
 * else by anyone; NULL if none.  The string lives as long as s. */
const char *srv_names_last(const struct srv_names *s, const char *tkey, size_t n, uint64_t h,
                           const struct ft_addr *asker);
/* Whether any SRV named the host. */
static inline bool srv_names_known(const struct srv_names *s, const char *tkey, size_t n, uint64_t h)
{
    return corr_index_first_h(&s->target_ix, tkey, n, h) != 0;
}

#endif
