/*
 * corr_index.c - byte-string keyed multimap with values in insertion order
 * (see corr_index.h): chained hash buckets over arrays, word-wise hashes,
 * doubling when the load passes one key per bucket.
 */
#include "corr_index.h"

#include <stdlib.h>
#include <string.h>

/* Eight bytes a step (a byte-wise FNV-1a spent a dependent multiply on
 * every byte of every address, name and NAT key the correlator joins),
 * with a final mix so the low bits that pick a bucket depend on all of
 * them.  Only this process sees the hashes: host byte order is fine. */
static uint64_t hash_bytes(const void *key, size_t len)
{
    const unsigned char *p = key;
    uint64_t h = UINT64_C(0x9e3779b97f4a7c15) ^ (uint64_t)len, w;
    for (; len >= 8; p += 8, len -= 8) {
        memcpy(&w, p, 8);
        h = (h ^ w) * UINT64_C(0xbf58476d1ce4e5b9);
        h ^= h >> 31;
    }
    if (len) {
        w = 0;
        memcpy(&w, p, len);
        h = (h ^ w) * UINT64_C(0x94d049bb133111eb);
        h ^= h >> 31;
    }
    h ^= h >> 30;
    h *= UINT64_C(0xbf58476d1ce4e5b9);
    h ^= h >> 27;
    h *= UINT64_C(0x94d049bb133111eb);
    return h ^ (h >> 31);
}

void corr_index_init(struct corr_index *ix)
{
    memset(ix, 0, sizeof(*ix));
}

void corr_index_free(struct corr_index *ix)
{
    free(ix->buckets);
    free(ix->keys);
    free(ix->vals);
    free(ix->arena);
    memset(ix, 0, sizeof(*ix));
}

void corr_index_clear(struct corr_index *ix)
{
    if (ix->buckets)
        memset(ix->buckets, 0, ix->nbuckets * sizeof(*ix->buckets));
    ix->nkeys = ix->nvals = 0;
    ix->narena = 0;
}

static bool rehash(struct corr_index *ix, uint32_t nb)
{
    uint32_t *b = calloc(nb, sizeof(*b));
    if (!b)
        return false;
    for (uint32_t i = 0; i < ix->nkeys; i++) {
        uint32_t s = (uint32_t)ix->keys[i].hash & (nb - 1);
        ix->keys[i].next = b[s];
        b[s] = i + 1;
    }
    free(ix->buckets);
    ix->buckets = b;
    ix->nbuckets = nb;
    return true;
}

static bool reserve(void **arr, uint32_t *cap, uint32_t need, size_t elem)
{
    uint32_t nc;
    void *n;
    if (need <= *cap)
        return true;
    if (need > UINT32_MAX / 2)
        return false;
    nc = *cap ? *cap * 2 : 64;
    while (nc < need)
        nc *= 2;
    n = realloc(*arr, (size_t)nc * elem);
    if (!n)
        return false;
    *arr = n;
    *cap = nc;
    return true;
}

/* Grow the key arena to hold at least `need` bytes, doubling from 4 KiB. */
static bool arena_reserve(struct corr_index *ix, size_t need)
{
    size_t nc;
    char *na;
    if (need <= ix->caparena)
        return true;
    nc = ix->caparena ? ix->caparena * 2 : 4096;
    while (nc < need)
        nc *= 2;
    if (!(na = realloc(ix->arena, nc)))
        return false;
    ix->arena = na;
    ix->caparena = nc;
    return true;
}

bool corr_index_reserve(struct corr_index *ix, uint32_t n, size_t nbytes)
{
    uint32_t nb = ix->nbuckets ? ix->nbuckets : 256;
    if (n > UINT32_MAX / 2 - ix->nvals || nbytes > UINT32_MAX - ix->narena)
        return false;
    if (!reserve((void **)&ix->vals, &ix->capvals, ix->nvals + n, sizeof(*ix->vals)) ||
        !reserve((void **)&ix->keys, &ix->capkeys, ix->nkeys + n, sizeof(*ix->keys)))
        return false;
    if (!arena_reserve(ix, ix->narena + nbytes))
        return false;
    while (nb < ix->nkeys + n)
        nb *= 2;
    return nb == ix->nbuckets || rehash(ix, nb);
}

static struct corr_index_key *find_key(const struct corr_index *ix, const void *key, size_t len, uint64_t h)
{
    if (!ix->nbuckets)
        return NULL;
    for (uint32_t k = ix->buckets[(uint32_t)h & (ix->nbuckets - 1)]; k; k = ix->keys[k - 1].next) {
        struct corr_index_key *n = &ix->keys[k - 1];
        if (n->hash == h && n->len == len && memcmp(ix->arena + n->off, key, len) == 0)
            return n;
    }
    return NULL;
}

uint64_t corr_index_hash(const void *key, size_t len)
{
    return hash_bytes(key, len);
}

bool corr_index_add(struct corr_index *ix, const void *key, size_t len, uint32_t a, uint32_t b)
{
    return corr_index_add_h(ix, key, len, hash_bytes(key, len), a, b);
}

bool corr_index_add_h(struct corr_index *ix, const void *key, size_t len, uint64_t h, uint32_t a, uint32_t b)
{
    struct corr_index_key *n = find_key(ix, key, len, h);
    struct corr_index_val *v;
    if (!reserve((void **)&ix->vals, &ix->capvals, ix->nvals + 1, sizeof(*ix->vals)))
        return false;
    if (!n) {
        uint32_t s;
        if (len > UINT32_MAX / 4 || ix->narena + len > UINT32_MAX)
            return false;
        if (!reserve((void **)&ix->keys, &ix->capkeys, ix->nkeys + 1, sizeof(*ix->keys)))
            return false;
        if (!arena_reserve(ix, ix->narena + len))
            return false;
        if (ix->nkeys + 1 > ix->nbuckets && !rehash(ix, ix->nbuckets ? ix->nbuckets * 2 : 256))
            return false;
        memcpy(ix->arena + ix->narena, key, len);
        n = &ix->keys[ix->nkeys];
        n->hash = h;
        n->off = (uint32_t)ix->narena;
        n->len = (uint32_t)len;
        n->first = n->last = 0;
        s = (uint32_t)h & (ix->nbuckets - 1);
        n->next = ix->buckets[s];
        ix->buckets[s] = ++ix->nkeys;
        ix->narena += len;
    }
    v = &ix->vals[ix->nvals++];
    v->a = a;
    v->b = b;
    v->next = 0;
    if (n->last)
        ix->vals[n->last - 1].next = ix->nvals;
    else
        n->first = ix->nvals;
    n->last = ix->nvals;
    return true;
}

struct corr_index_key *corr_index_key_node(struct corr_index *ix, const void *key, size_t len)
{
    return find_key(ix, key, len, hash_bytes(key, len));
}

uint32_t corr_index_first(const struct corr_index *ix, const void *key, size_t len)
{
    const struct corr_index_key *n = find_key(ix, key, len, hash_bytes(key, len));
    return n ? n->first : 0;
}

struct corr_index_key *corr_index_find_h(struct corr_index *ix, const void *key, size_t len, uint64_t h)
{
    return find_key(ix, key, len, h);
}

uint32_t corr_index_first_h(const struct corr_index *ix, const void *key, size_t len, uint64_t h)
{
    const struct corr_index_key *n = find_key(ix, key, len, h);
    return n ? n->first : 0;
}

size_t corr_index_key1(char *buf, size_t len, const char *a)
{
    size_t n = 0;
    for (const char *s = a ? a : ""; *s && n < len; s++)
        buf[n++] = (char)((*s >= 'A' && *s <= 'Z') ? *s + 32 : *s);
    return n;
}

size_t corr_index_key2(char *buf, size_t len, const char *a, const char *b)
{
    size_t n = 0;
    const char *parts[2] = { a ? a : "", b ? b : "" };
    for (int p = 0; p < 2; p++) {
        if (p && n < len)
            buf[n++] = '\x01';
        for (const char *s = parts[p]; *s && n < len; s++)
            buf[n++] = (char)((*s >= 'A' && *s <= 'Z') ? *s + 32 : *s);
    }
    return n;
}
