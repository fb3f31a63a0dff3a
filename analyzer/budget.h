/*
 * budget.h - a byte budget that a group of heap allocations is counted
 * against.
 *
 * Dissector state (XML parsers, TLS and DNS-over-TCP buffers, the per-flow
 * objects) lives outside the flow and reassembly caps; a budget makes it
 * bounded too.  Every block allocated through a budget carries a small
 * header naming its budget and size, so realloc and free need no context
 * (which is what expat's memory suite requires).  A budget may have a
 * parent: an allocation is charged to the budget and to every ancestor,
 * and is refused (NULL, counted) when any of them would go over its limit.
 * A NULL budget means "plain heap, not counted".
 *
 * Ownership: the caller owns struct mem_budget and must keep it alive
 * until every block charged to it has been freed.  Not thread-safe: one
 * budget belongs to one analysis.
 */
#ifndef FT_BUDGET_H
#define FT_BUDGET_H

#include <stddef.h>
#include <stdint.h>

struct mem_budget {
    struct mem_budget *parent; /* also charged; NULL at the top */
    size_t limit;              /* bytes; 0 = no limit */
    size_t used;               /* bytes charged now (payload + headers) */
    size_t peak;               /* highest `used` so far */
    uint64_t refused;          /* allocations refused by this budget's limit */
};

/* Sets up a budget with the given limit (0 = none) and parent. */
void budget_init(struct mem_budget *b, size_t limit, struct mem_budget *parent);

/* Whether n more bytes would fit in b and every ancestor (true for NULL). */
int budget_has_room(const struct mem_budget *b, size_t n);

/* malloc / calloc / realloc / free through budget b.  NULL when the limit
 * would be exceeded (the refusing budget counts it) or the heap is out.
 * budget_realloc and budget_free take blocks from budget_malloc/calloc
 * only (or NULL); the block's own budget is used. */
void *budget_malloc(struct mem_budget *b, size_t n);
void *budget_calloc(struct mem_budget *b, size_t n);
void *budget_realloc(void *p, size_t n);
void budget_free(void *p);

/* A copy of at most max bytes of s (NUL-terminated), or NULL. */
char *budget_strndup(struct mem_budget *b, const char *s, size_t max);

#endif
