/*
 * corr_index.h - a byte-string keyed multimap for the correlator's joins
 * (address -> domain, domain pair -> federation, SRV target -> domain,
 * domain -> lookups, endpoint+time -> connections, ...).  Every key maps to
 * a list of (a, b) value pairs kept in insertion order; lookups cost O(1)
 * expected.  The index owns copies of its keys; values are plain numbers
 * (array indexes) the caller interprets.
 */
#ifndef FT_CORR_INDEX_H
#define FT_CORR_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct corr_index {
    uint32_t *buckets;        /* key node index + 1, 0 = empty */
    uint32_t nbuckets;        /* power of two */
    struct corr_index_key *keys;
    uint32_t nkeys, capkeys;
    struct corr_index_val *vals;
    uint32_t nvals, capvals;
    char *arena;              /* key bytes */
    size_t narena, caparena;
};

struct corr_index_key {
    uint64_t hash;
    uint32_t next;            /* next key node in the bucket + 1 */
    uint32_t off, len;        /* key bytes in the arena */
    uint32_t first, last;     /* value list, value index + 1 */
};

struct corr_index_val {
    uint32_t a, b;
    uint32_t next;            /* value index + 1, 0 = end */
};

void corr_index_init(struct corr_index *ix);
void corr_index_free(struct corr_index *ix);
void corr_index_clear(struct corr_index *ix);
/* Makes room for n more values under at most n more keys holding nbytes
 * more key bytes, so that adding them neither reallocates nor rehashes
 * (the buckets as n keys added one by one would leave them, or more);
 * false on no memory (the index is unchanged and still usable). */
bool corr_index_reserve(struct corr_index *ix, uint32_t n, size_t nbytes);
/* Appends (a, b) to the list of key; false on no memory. */
bool corr_index_add(struct corr_index *ix, const void *key, size_t len, uint32_t a, uint32_t b);
/* The first value of key (a handle, 0 if none), then the next. */
uint32_t corr_index_first(const struct corr_index *ix, const void *key, size_t len);
/* The key's node, for a caller that consumes its list from the front
 * (advancing first); NULL if the key is absent. */
struct corr_index_key *corr_index_key_node(struct corr_index *ix, const void *key, size_t len);
static inline uint32_t corr_index_next(const struct corr_index *ix, uint32_t h)
{
    return ix->vals[h - 1].next;
}
static inline struct corr_index_val *corr_index_val(const struct corr_index *ix, uint32_t h)
{
    return &ix->vals[h - 1];
}

/* The hash the index keys bytes by: computed once, it serves every index
 * the same key is looked up or added in (the _h calls below). */
uint64_t corr_index_hash(const void *key, size_t len);
/* corr_index_add with h = corr_index_hash(key, len) given. */
bool corr_index_add_h(struct corr_index *ix, const void *key, size_t len, uint64_t h, uint32_t a, uint32_t b);
/* corr_index_first with h = corr_index_hash(key, len) given. */
uint32_t corr_index_first_h(const struct corr_index *ix, const void *key, size_t len, uint64_t h);
/* corr_index_key_node with h = corr_index_hash(key, len) given. */
struct corr_index_key *corr_index_find_h(struct corr_index *ix, const void *key, size_t len, uint64_t h);

/* Builds a lowercased into buf (cut to len); returns its length. */
size_t corr_index_key1(char *buf, size_t len, const char *a);
/* Builds "a\x01b" lowercased into buf (cut to len); returns its length. */
size_t corr_index_key2(char *buf, size_t len, const char *a, const char *b);

#endif
