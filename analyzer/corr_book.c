/*
 * corr_book.c - one layer of the address book (see corr_book.h).
 */
#include "corr_book.h"
#include "corr_util.h"

#include <stdlib.h>
#include <string.h>

void book_layer_clear(struct book_layer *b)
{
    for (unsigned i = 0; i < b->n; i++)
        free(b->e[i].domain);
    b->n = 0;
    corr_index_clear(&b->addr_ix);
    corr_index_clear(&b->dom_ix);
}

void book_layer_free(struct book_layer *b)
{
    book_layer_clear(b);
    free(b->e);
    b->e = NULL;
    b->cap = 0;
    corr_index_free(&b->addr_ix);
    corr_index_free(&b->dom_ix);
}

const struct book_entry *book_layer_find(const struct book_layer *b, const struct ft_addr *a)
{
    return book_layer_find_h(b, a, corr_index_hash(a, sizeof(*a)));
}

const struct book_entry *book_layer_find_h(const struct book_layer *b, const struct ft_addr *a, uint64_t ah)
{
    uint32_t h = corr_index_first_h(&b->addr_ix, a, sizeof(*a), ah);
    return h ? &b->e[corr_index_val(&b->addr_ix, h)->a] : NULL;
}

static bool index_name(struct book_layer *b, uint32_t i)
{
    char key[STR_CAP];
    return corr_index_add(&b->dom_ix, key, corr_index_key1(key, sizeof(key), b->e[i].domain), i, 0);
}

/* The domain as the book keeps it: cut like every correlator string. */
static char *name_copy(const char *domain)
{
    return strndup(domain, STR_CAP - 1);
}

bool book_layer_add(struct book_layer *b, const struct ft_addr *a, const char *domain, uint8_t strength)
{
    return book_layer_add_h(b, a, corr_index_hash(a, sizeof(*a)), domain, strength);
}

bool book_layer_add_h(struct book_layer *b, const struct ft_addr *a, uint64_t ah, const char *domain,
                      uint8_t strength)
{
    uint32_t h = corr_index_first_h(&b->addr_ix, a, sizeof(*a), ah);
    char *copy;
    if (h) {
        uint32_t i = corr_index_val(&b->addr_ix, h)->a;
        if (strength <= b->e[i].strength)
            return true;
        if (!(copy = name_copy(domain)))
            return false;
        free(b->e[i].domain);
        b->e[i].domain = copy;
        b->e[i].strength = strength;
        return index_name(b, i);
    }
    if (!corr_grow((void **)&b->e, &b->cap, b->n + 1, sizeof(*b->e)))
        return false;
    if (!(copy = name_copy(domain)))
        return false;
    if (!corr_index_add_h(&b->addr_ix, a, sizeof(*a), ah, b->n, 0)) {
        free(copy);
        return false;
    }
    b->e[b->n].addr = *a;
    b->e[b->n].domain = copy;
    b->e[b->n].strength = strength;
    return index_name(b, b->n++);
}
