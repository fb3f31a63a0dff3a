/*
 * output_html_index.c - the HTML report's look-up of the document's
 * connections and DNS lookups by uid ("C12", "D7"): one open-addressing
 * hash table built once per page, so each ladder step finds its
 * connection in constant time instead of walking the lists.
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "output_html_int.h"

struct html_slot {
    const char *uid;      /* points into the document; NULL = empty */
    enum html_list list;
    json_object *obj;
};

struct html_index {
    struct html_slot *slot;
    size_t mask;          /* capacity - 1 (a power of two) */
};

static uint64_t uid_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ull;
    }
    return h;
}

/* The slot holding uid of list, or the empty one where it would go. */
static struct html_slot *slot_of(const struct html_index *ix, enum html_list list, const char *uid)
{
    size_t i = (size_t)(uid_hash(uid) + (uint64_t)list) & ix->mask;
    while (ix->slot[i].uid && (ix->slot[i].list != list || strcmp(ix->slot[i].uid, uid) != 0))
        i = (i + 1) & ix->mask;
    return &ix->slot[i];
}

/* Adds every member of list that has a string "uid"; the first of equal
 * uids wins (a hostile document may repeat one). */
static void add_list(struct html_index *ix, enum html_list which, json_object *list)
{
    for (size_t i = 0; list && i < json_object_array_length(list); i++) {
        json_object *o = json_object_array_get_idx(list, i);
        const char *uid = hj_str(o, "uid");
        struct html_slot *s;
        if (!uid)
            continue;
        s = slot_of(ix, which, uid);
        if (!s->uid) {
            s->uid = uid;
            s->list = which;
            s->obj = o;
        }
    }
}

struct html_index *html_index_new(json_object *doc)
{
    json_object *conns = hj_get(doc, "connections", json_type_array);
    json_object *dns = hj_get(doc, "dns", json_type_array);
    size_t n = (conns ? json_object_array_length(conns) : 0) + (dns ? json_object_array_length(dns) : 0);
    size_t cap = 16;
    struct html_index *ix = calloc(1, sizeof(*ix));

    if (!ix)
        return NULL;
    while (cap < 2 * n + 1) /* at most half full; n is bounded by the document size cap */
        cap *= 2;
    ix->slot = calloc(cap, sizeof(*ix->slot));
    if (!ix->slot) {
        free(ix);
        return NULL;
    }
    ix->mask = cap - 1;
    add_list(ix, HTML_CONNECTIONS, conns);
    add_list(ix, HTML_DNS, dns);
    return ix;
}

void html_index_free(struct html_index *ix)
{
    if (!ix)
        return;
    free(ix->slot);
    free(ix);
}

json_object *html_index_get(const struct html_index *ix, enum html_list list, const char *uid)
{
    const struct html_slot *s;
    if (!ix || !uid)
        return NULL;
    s = slot_of(ix, list, uid);
    return s->uid ? s->obj : NULL;
}
