/*
 * corr_book.h - the address book: which domain an address serves.
 *
 * One layer is an ordered list of (address, domain, strength) with an
 * index by address and one by domain.  The first statement about an
 * address wins unless a stronger one replaces its domain (2 = a stream
 * header, 1 = a client stream or a DNS answer, 0 = inferred).  The
 * correlator keeps three layers (corr_identity.c): what its connections
 * say, rebuilt every round; what the kept lookups' answers say, which
 * grows with the lookups between full rounds; and what the answers of
 * claimed lookups since freed said, kept for the run (bounded).
 */
#ifndef FT_CORR_BOOK_H
#define FT_CORR_BOOK_H

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"
#include "corr_index.h"

struct book_entry {
    struct ft_addr addr;
    char *domain;             /* owned */
    uint8_t strength;
};

struct book_layer {
    struct book_entry *e;     /* owned, in the order first learned */
    unsigned n, cap;
    struct corr_index addr_ix; /* address bytes -> entry */
    struct corr_index dom_ix;  /* domain (lowercase) -> entries named so (a replaced name stays: check) */
};

/* Empties a layer (keeps its memory for reuse). */
void book_layer_clear(struct book_layer *b);
/* Frees what a layer owns. */
void book_layer_free(struct book_layer *b);
/* Learns that a serves domain with this strength; false on no memory. */
bool book_layer_add(struct book_layer *b, const struct ft_addr *a, const char *domain, uint8_t strength);
/* The entry of address a, or NULL. */
const struct book_entry *book_layer_find(const struct book_layer *b, const struct ft_addr *a);
/* book_layer_find with h = corr_index_hash(a, sizeof(*a)) given. */
const struct book_entry *book_layer_find_h(const struct book_layer *b, const struct ft_addr *a, uint64_t h);
/* book_layer_add with h = corr_index_hash(a, sizeof(*a)) given. */
bool book_layer_add_h(struct book_layer *b, const struct ft_addr *a, uint64_t h, const char *domain,
                      uint8_t strength);

#endif
