/*
 * corr_trigger.c - the domain of an s2s connection that says nothing (no
 * stream header, no stanza: a SYN never answered, a refused one) opened
 * from an address serving several domains.
 *
 * The address book keeps one domain per address, so such a connection
 * takes the first domain the book learned for its source, whichever of
 * the server's domains it belongs to.  A server opens an s2s connection
 * when a client's stanza needs routing: a user of domain D on that server
 * (a client connection to the same address) sent a stanza to the
 * receiving domain moments before the SYN.  When the stanzas in that
 * window all come from users of one domain, the connection is that
 * domain's.  Runs after identity_name_domains.
 */
#include "corr_priv.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The client's stanza precedes the SYN by at most this much. */
#define TRIGGER_WINDOW_NS (INT64_C(5) * 1000000000)

/* (server address, receiving domain) */
static size_t trigger_key(char *buf, size_t len, const struct ft_addr *a, const char *to)
{
    memcpy(buf, a, sizeof(*a));
    return sizeof(*a) + corr_index_key1(buf + sizeof(*a), len - sizeof(*a), to);
}

/* Said nothing of its domains: no stream header, no stanza. */
static bool silent(const struct cconn *k)
{
    return k->s2s && !k->secondary && k->syn.frame && !conn_first_ev(k, CEV_OPEN, FT_DIR_ORIG) &&
           !conn_first_ev(k, CEV_OPEN, FT_DIR_RESP) && !k->stz_dom[FT_DIR_ORIG][0] && !k->stz_dom[FT_DIR_RESP][0] &&
           !k->nat_peer && k->dom_from && k->dom_from[0] != '[' && k->dom_to && k->dom_to[0] != '[';
}

void identity_name_by_trigger(struct correlator *c)
{
    struct corr_index ix;
    char key[sizeof(struct ft_addr) + STR_CAP], user[STR_CAP], to[STR_CAP];
    bool any = false;

    for (unsigned i = 0; i < c->nconns && !any; i++)
        any = silent(c->conns[i]);
    if (!any)
        return;
    corr_index_init(&ix);
    for (unsigned i = 0; i < c->nconns; i++) {
        const struct cconn *k = c->conns[i];
        if (!k->c2s || !identity_c2s_domain(k, user, sizeof(user)))
            continue;
        for (unsigned e = 0; e < k->nev; e++) {
            const struct cev *v = &k->ev[e];
            if (v->type != CEV_STANZA || v->dir != FT_DIR_ORIG)
                continue;
            corr_jid_domain(v->to, to, sizeof(to));
            if (!to[0] || strcasecmp(to, user) == 0)
                continue;
            if (!corr_index_add(&ix, key, trigger_key(key, sizeof(key), &k->addr[FT_DIR_RESP], to), i, e))
                goto out;
        }
    }
    for (unsigned i = 0; i < c->nconns; i++) {
        struct cconn *k = c->conns[i];
        const char *found = NULL;
        bool ambiguous = false;
        unsigned seen = 0;
        if (!silent(k))
            continue;
        for (uint32_t h = corr_index_first(&ix, key, trigger_key(key, sizeof(key), &k->addr[FT_DIR_ORIG], k->dom_to));
             h && seen < 64 && !ambiguous; h = corr_index_next(&ix, h), seen++) {
            const struct corr_index_val *iv = corr_index_val(&ix, h);
            const struct cconn *ck = c->conns[iv->a];
            int64_t dt = k->syn.ts_ns - ck->ev[iv->b].ref.ts_ns;
            if (dt < 0 || dt > TRIGGER_WINDOW_NS || !identity_c2s_domain(ck, user, sizeof(user)))
                continue;
            if (!found) {
                if (!(found = identity_intern(c, user)))
                    break;
            } else if (strcasecmp(found, user) != 0) {
                ambiguous = true;
            }
        }
        if (found && !ambiguous)
            k->dom_from = found;
    }
out:
    corr_index_free(&ix);
}
