/*
 * corr_identity.h - who is who in the correlator: s2s or c2s, NAT pairs,
 * the address book (address -> domain), the domains of each connection,
 * which lookups concern a domain, and which side of a federation is local.
 */
#ifndef FT_CORR_IDENTITY_H
#define FT_CORR_IDENTITY_H

#include "corr_store.h"

void identity_classify(struct correlator *c);
/* What the connections say about their addresses (the book's first layer). */
void identity_learn_addresses(struct correlator *c);
void identity_name_domains(struct correlator *c);
/* corr_trigger.c: a connection that said nothing, from an address serving
 * several domains, is named after the client stanza that opened it (run
 * after identity_name_domains). */
void identity_name_by_trigger(struct correlator *c);
void identity_index_roles(struct correlator *c);
void identity_decide_roles(struct correlator *c, struct corr_federation *f);

/* The one shared copy of a domain name (cut at STR_CAP - 1), owned by the
 * correlator; NULL for NULL, "" or no memory. */
const char *identity_intern(struct correlator *c, const char *s);
/* identity_name_endpoint, returning out. */
const char *identity_endpoint_name(char *out, size_t len, const struct ft_addr *a);
/* RFC 1918, CGNAT, ULA, loopback, link-local, unspecified. */
bool corr_addr_is_private(const struct ft_addr *a);
/* "_xmpp-server._tcp.example.org" -> "example.org" (also xmpps). */
bool corr_srv_domain(const char *qname, char *out, size_t len);
/* The domain an address is known to serve, or NULL (points into the book). */
const char *identity_book_domain(const struct correlator *c, const struct ft_addr *a);
/* A claimed lookup is being freed: what its answers said of addresses
 * stays in the book's memory layer (after the DNS layer), so that a later
 * connection to one of them is still named. */
void identity_remember_lookup(struct correlator *c, const struct clookup *l);
/* The first private (or public) address the book has for a domain. */
const struct ft_addr *identity_book_addr(const struct correlator *c, const char *domain, bool private);
/* Records that address a serves domain (strength: 2 stream header, 1 DNS
 * or client stream, 0 borrowed); a stronger name replaces a weaker one. */
void identity_book_add(struct correlator *c, const struct ft_addr *a, const char *domain, uint8_t strength);
/* corr_lookup_twins.c: a lookup seen by two capture points names both
 * clients (run after identity_learn_addresses). */
void identity_pair_lookups(struct correlator *c);
/* corr_lookup_twins.c: an unnamed source of an s2s connection opened to an
 * address a lookup answered moments before takes the asker's name. */
void identity_name_by_lookups(struct correlator *c);
/* "[192.0.2.1]": the name of an endpoint whose domain is unknown. */
void identity_name_endpoint(char *out, size_t len, const struct ft_addr *a);
/* Grows the SRV-target, domain -> lookups, answer address and client
 * joins, and the book's DNS layer, with the lookups not yet read
 * (lookups_indexed on). */
void identity_index_lookups(struct correlator *c);
/* The domain a client connection serves. */
bool identity_c2s_domain(const struct cconn *k, char *out, size_t len);
/* The domain event e of client connection k (serving `user`) asks for a
 * subscription, into to: false unless e is a subscribe the client sent to
 * a user of another domain. */
bool identity_c2s_subscribe_to(const struct cconn *k, unsigned e, const char *user, char *to, size_t len);

#endif
