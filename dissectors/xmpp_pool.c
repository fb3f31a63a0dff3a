/*
 * xmpp_pool.c - expat parsers at rest inside a stream header, lent to the
 * directions of every connection whose header declares the same
 * namespaces.
 *
 * A busy mirror port carries thousands of XMPP connections at once and
 * each packet may belong to a different one.  One parser per direction
 * means every stanza is parsed in a parser whose hash tables and buffers
 * went cold since its last packet; a parser that has just parsed another
 * connection's stanza inside the same kind of header is warm.  Between
 * top-level elements a direction's parser holds nothing but the header's
 * namespace bindings, so a direction at rest gives its parser back and
 * takes one of the same context (the synthetic header xmpp_xml_resync()
 * would feed, byte for byte) when its next bytes arrive.  xmpp_xml.c
 * keeps positions and line numbers those of the direction's own stream.
 *
 * Each pooled parser has its own budget (parent: the dissector state
 * budget), so its memory outlives the connections it served; a parser
 * that grew past POOL_PARSER_BYTES (a large element, many distinct names)
 * is freed rather than kept.  At most POOL_IDLE_MAX wait at a time.
 * Ownership: the creator of the pool frees it after every connection that
 * uses it; a lent parser belongs to its direction until given back.
 */
#include "xmpp_int.h"

#ifndef XML_DTD
#define XML_DTD 1
#endif
#include <expat.h>
#include <stdlib.h>
#include <string.h>

#define POOL_IDLE_MAX 32
#define POOL_PARSER_BYTES (64 * 1024)

struct xmpp_pool {
    struct mem_budget *parent;
    struct xmpp_pooled *idle[POOL_IDLE_MAX];
    unsigned n_idle;
    struct xmpp_pool_stats stats;
};

struct xmpp_pool *xmpp_pool_new(struct mem_budget *parent)
{
    struct xmpp_pool *p = calloc(1, sizeof(*p));

    if (p != NULL)
        p->parent = parent;
    return p;
}

void xmpp_pool_free(struct xmpp_pool *p)
{
    if (p == NULL)
        return;
    for (unsigned i = 0; i < p->n_idle; i++)
        xmpp_pooled_free(p->idle[i]);
    free(p);
}

const struct xmpp_pool_stats *xmpp_pool_stats(const struct xmpp_pool *p)
{
    return p != NULL ? &p->stats : NULL;
}

uint64_t xmpp_pool_hash(const char *key, size_t len)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325);

    for (size_t i = 0; i < len; i++)
        h = (h ^ (uint8_t)key[i]) * UINT64_C(0x100000001b3);
    return h;
}

struct xmpp_pooled *xmpp_pooled_new(struct xmpp_pool *p, const char *key, size_t len, uint64_t hash)
{
    struct xmpp_pooled *pp = malloc(sizeof(*pp) + len + 1);

    if (pp == NULL)
        return NULL;
    memset(pp, 0, sizeof(*pp));
    budget_init(&pp->mem, 0, p->parent);
    pp->key = (char *)(pp + 1);
    memcpy(pp->key, key, len);
    pp->key[len] = '\0';
    pp->key_len = len;
    pp->hash = hash;
    p->stats.created++;
    return pp;
}

void xmpp_pooled_free(struct xmpp_pooled *pp)
{
    if (pp == NULL)
        return;
    if (pp->parser != NULL)
        XML_ParserFree(pp->parser); /* its blocks name pp->mem */
    free(pp);
}

struct xmpp_pooled *xmpp_pool_take(struct xmpp_pool *p, const char *key, size_t len, uint64_t hash)
{
    /* newest first: the warmest */
    for (unsigned i = p->n_idle; i-- > 0;) {
        struct xmpp_pooled *pp = p->idle[i];

        if (pp->hash != hash || pp->key_len != len || memcmp(pp->key, key, len) != 0)
            continue;
        p->idle[i] = p->idle[--p->n_idle];
        p->stats.lent++;
        return pp;
    }
    return NULL;
}

void xmpp_pool_give(struct xmpp_pool *p, struct xmpp_pooled *pp)
{
    XML_ParsingStatus st;

    XML_GetParsingStatus(pp->parser, &st);
    if (p->n_idle < POOL_IDLE_MAX && pp->mem.used <= POOL_PARSER_BYTES && st.parsing == XML_PARSING &&
        XML_GetErrorCode(pp->parser) == XML_ERROR_NONE) {
        XML_SetUserData(pp->parser, NULL);
        p->idle[p->n_idle++] = pp;
        return;
    }
    p->stats.freed++;
    xmpp_pooled_free(pp);
}
