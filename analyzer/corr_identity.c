/*
 * corr_identity.c - who is who: s2s or c2s, one connection seen twice
 * across a NAT, the address book (address -> domain, from stream headers
 * first and DNS answers second), the domains of every s2s connection, and
 * which side of a federation is local.
 */
#include "corr_priv.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- phase 1: s2s or c2s ---------------------------------------------- */

void identity_classify(struct correlator *c)
{
    for (unsigned i = 0; i < c->nconns; i++) {
        struct cconn *k = c->conns[i];
        bool jserver = false, jclient = false;
        if (k->app == APP_NONE)
            continue; /* data that is not XMPP (binary on an XMPP port): neither */
        for (unsigned e = 0; e < k->nev; e++) {
            if (k->ev[e].type == CEV_OPEN) {
                jserver |= (k->ev[e].flags & F_JSERVER) != 0;
                jclient |= (k->ev[e].flags & F_JCLIENT) != 0;
            }
        }
        if (jserver)
            k->s2s = true;
        else if (jclient)
            k->c2s = true;
        else if (k->port[FT_DIR_RESP] == 5222 || k->port[FT_DIR_RESP] == 5223)
            k->c2s = true;
        else
            k->s2s = true;
        if (k->s2s)
            c->stats.s2s_conns++;
        else
            c->stats.c2s_conns++;
    }
}

/* Addresses a server on the Internet cannot reach: RFC 1918, CGNAT, ULA,
 * loopback, link-local, unspecified.  Documentation ranges are routable
 * for this purpose (labs and examples use them as public addresses). */
bool corr_addr_is_private(const struct ft_addr *a)
{
    switch (dns_addr_classify(a)) {
    case DNS_ADDR_PRIVATE:
    case DNS_ADDR_CGNAT:
    case DNS_ADDR_ULA:
    case DNS_ADDR_LOOPBACK:
    case DNS_ADDR_LINK_LOCAL:
    case DNS_ADDR_UNSPECIFIED:
        return true;
    default:
        return false;
    }
}

/* ---- phase 3: which address serves which domain ------------------------ */

/* A connection's statement (or an inference, strength 0) about an
 * address.  The layers read as one book in which every statement a
 * connection makes comes first, then the kept lookups' answers, then
 * what freed lookups' answers said (dns_memory), then the inferences: an
 * inference about an address DNS named is not made. */
static void book_add(struct correlator *c, const struct ft_addr *a, const char *domain, uint8_t strength)
{
    if (!domain || !*domain || !a->family)
        return;
    if (strength == 0 && (book_layer_find(&c->dns_book, a) || book_layer_find(&c->dns_memory, a)))
        return;
    book_layer_add(&c->book, a, domain, strength);
}

void identity_book_add(struct correlator *c, const struct ft_addr *a, const char *domain, uint8_t strength)
{
    book_add(c, a, domain, strength);
}

const char *identity_book_domain(const struct correlator *c, const struct ft_addr *a)
{
    const struct book_entry *e = book_layer_find(&c->book, a), *d;
    if (e && e->strength >= 1)
        return e->domain;
    if ((d = book_layer_find(&c->dns_book, a)) != NULL)
        return d->domain;
    if ((d = book_layer_find(&c->dns_memory, a)) != NULL)
        return d->domain;
    return e ? e->domain : NULL;
}

/* The first entry of layer b named domain whose address is private (or
 * public) and that `wins` accepts; its index or UINT32_MAX. */
static uint32_t first_named(const struct correlator *c, const struct book_layer *b, const char *domain, bool private,
                            int layer)
{
    char key[STR_CAP];
    uint32_t best = UINT32_MAX;
    size_t n = corr_index_key1(key, sizeof(key), domain);
    for (uint32_t h = corr_index_first(&b->dom_ix, key, n); h; h = corr_index_next(&b->dom_ix, h)) {
        uint32_t i = corr_index_val(&b->dom_ix, h)->a;
        const struct book_entry *e = &b->e[i], *o;
        if (i >= best || strcasecmp(e->domain, domain) != 0 || corr_addr_is_private(&e->addr) != private)
            continue;
        if (layer == 0 && e->strength < 1)
            continue; /* inferences come after DNS */
        if (layer == 1 && (o = book_layer_find(&c->book, &e->addr)) != NULL && o->strength >= 1)
            continue; /* a connection said otherwise first */
        if (layer == 2 && (e->strength >= 1 || book_layer_find(&c->dns_book, &e->addr) ||
                           book_layer_find(&c->dns_memory, &e->addr)))
            continue;
        best = i;
    }
    return best;
}

/* The first address the book has for domain (in the order the book
 * learned them: connections, DNS, inferences) that is private, or
 * public; NULL if none. */
const struct ft_addr *identity_book_addr(const struct correlator *c, const char *domain, bool private)
{
    uint32_t i;
    if ((i = first_named(c, &c->book, domain, private, 0)) != UINT32_MAX)
        return &c->book.e[i].addr;
    if ((i = first_named(c, &c->dns_book, domain, private, 1)) != UINT32_MAX)
        return &c->dns_book.e[i].addr;
    if ((i = first_named(c, &c->book, domain, private, 2)) != UINT32_MAX)
        return &c->book.e[i].addr;
    return NULL;
}

/* "_xmpp-server._tcp.example.org" -> "example.org" (also xmpps). */
bool corr_srv_domain(const char *qname, char *out, size_t len)
{
    static const char *const prefixes[] = { "_xmpp-server._tcp.", "_xmpps-server._tcp.", NULL };
    if (!qname || qname[0] != '_')
        return false; /* most names asked are not SRV owner names: no prefix test */
    for (int i = 0; prefixes[i]; i++) {
        size_t n = strlen(prefixes[i]);
        if (strncasecmp(qname, prefixes[i], n) == 0 && qname[n]) {
            corr_copy(out, len, qname + n);
            return true;
        }
    }
    return false;
}

/* Whether name is one of SRV lookup l's targets. */
static bool srv_has_target(const struct clookup *l, const char *name)
{
    for (unsigned k = 0; k < l->nans; k++)
        if (l->ans[k].type == DNS_T_SRV && l->ans[k].target && strcasecmp(l->ans[k].target, name) == 0)
            return true;
    return false;
}

/* The domain lookup l's A/AAAA answers give their addresses in the
 * book's DNS layer: an address lookup's (the domain it was decided for,
 * else the name asked), an SRV lookup's domain (for the addresses of its
 * targets it carried), else none.  d is room for the SRV's domain. */
static const char *answers_domain(const struct clookup *l, char *d, size_t len)
{
    if (l->qtype == DNS_T_SRV)
        return corr_srv_domain(l->qname, d, len) ? d : NULL;
    if (l->qtype == DNS_T_A || l->qtype == DNS_T_AAAA)
        return l->srv_dom ? l->srv_dom : l->qname;
    return NULL;
}

/* Whether answer k of l states an address for `domain` (answers_domain). */
static bool answer_states(const struct clookup *l, unsigned k)
{
    if ((l->ans[k].type != DNS_T_A && l->ans[k].type != DNS_T_AAAA) || !l->ans[k].addr.family)
        return false;
    return l->qtype != DNS_T_SRV || (l->ans[k].name && srv_has_target(l, l->ans[k].name));
}

/* What lookup i's A/AAAA answers say: each address joins the answer
 * address index and, in the DNS layer of the book, serves the domain
 * answers_domain names.  One hash per address serves both. */
static void learn_answers(struct correlator *c, unsigned i)
{
    const struct clookup *l = c->lookups[i];
    char d[STR_CAP];
    const char *domain = answers_domain(l, d, sizeof(d));
    for (unsigned k = 0; k < l->nans; k++) {
        const struct ft_addr *addr = &l->ans[k].addr;
        uint64_t ah;
        if (l->ans[k].type != DNS_T_A && l->ans[k].type != DNS_T_AAAA)
            continue;
        ah = corr_index_hash(addr, sizeof(*addr));
        corr_index_add_h(&c->ans_addr_ix, addr, sizeof(*addr), ah, i, 0);
        if (domain && *domain && answer_states(l, k))
            book_layer_add_h(&c->dns_book, addr, ah, domain, 1);
    }
}

void identity_remember_lookup(struct correlator *c, const struct clookup *l)
{
    char d[STR_CAP];
    const char *domain = answers_domain(l, d, sizeof(d));
    if (!domain || !*domain)
        return;
    for (unsigned k = 0; k < l->nans; k++) {
        const struct ft_addr *addr = &l->ans[k].addr;
        uint64_t ah;
        if (!answer_states(l, k))
            continue;
        ah = corr_index_hash(addr, sizeof(*addr));
        if (book_layer_find_h(&c->dns_memory, addr, ah))
            continue; /* the first statement stays, as in the DNS layer */
        if (c->dns_memory.n >= c->cfg.max_lookups)
            c->stats.identity_memory_dropped++;
        else
            book_layer_add_h(&c->dns_memory, addr, ah, domain, 1);
    }
}

/* The lookup joins, read in capture order: an SRV lookup tells
 * c->srv_names which hosts its domain names; an address lookup of a host
 * is decided once, when first read, for the domain whose SRV named that
 * host last before it (corr_srv_names.h); then domain -> the lookups
 * about it (its SRV, its address, the address of its SRV target), each in
 * capture order, and what their answers say about addresses (the book's
 * DNS layer).  Each new lookup is read once; a full round reads them all
 * again and, since the decisions stay with the lookups, joins them as the
 * partial rounds did. */
void identity_index_lookups(struct correlator *c)
{
    char key[STR_CAP], d[STR_CAP];
    for (unsigned i = c->lookups_indexed; i < c->nlookups; i++) {
        struct clookup *l = c->lookups[i];
        uint64_t ch;
        bool srv;
        if (!l)
            continue;
        /* The clients are kept for the run: a server whose lookups the
         * capture showed keeps that role after they are freed. */
        ch = corr_index_hash(&l->client, sizeof(l->client));
        if (!corr_index_first_h(&c->client_ix, &l->client, sizeof(l->client), ch)) {
            if (c->nclients >= c->cfg.max_lookups)
                c->stats.identity_memory_dropped++;
            else if (corr_grow((void **)&c->clients, &c->capclients, c->nclients + 1, sizeof(*c->clients)) &&
                     corr_index_add_h(&c->client_ix, &l->client, sizeof(l->client), ch, i, 0))
                c->clients[c->nclients++] = l->client;
        }
        srv = corr_srv_domain(l->qname, d, sizeof(d));
        if (srv) {
            if (l->qtype == DNS_T_SRV && !l->srv_read)
                for (unsigned k = 0; k < l->nans; k++) {
                    size_t n;
                    if (l->ans[k].type != DNS_T_SRV || !l->ans[k].target)
                        continue;
                    n = corr_index_key1(key, sizeof(key), l->ans[k].target);
                    srv_names_note(&c->srv_names, key, n, corr_index_hash(key, n), &l->client, d,
                                   &c->stats.identity_memory_dropped);
                }
            l->srv_read = true;
            learn_answers(c, i);
            corr_index_add(&c->lookup_dom_ix, key, corr_index_key1(key, sizeof(key), d), i, 0);
            continue;
        }
        if (l->qtype != DNS_T_A && l->qtype != DNS_T_AAAA) {
            learn_answers(c, i);
            continue;
        }
        {
            size_t n = corr_index_key1(key, sizeof(key), l->qname);
            uint64_t h = corr_index_hash(key, n);
            if (!l->srv_read) {
                l->srv_dom = srv_names_last(&c->srv_names, key, n, h, &l->client);
                l->srv_read = true;
            }
            learn_answers(c, i);
            corr_index_add_h(&c->lookup_dom_ix, key, n, h, i, 0);
            if (l->srv_dom && strcasecmp(l->srv_dom, l->qname) != 0)
                corr_index_add(&c->lookup_dom_ix, key, corr_index_key1(key, sizeof(key), l->srv_dom), i, 0);
        }
    }
}

void identity_learn_addresses(struct correlator *c)
{
    /* Stream headers: the strongest statement of who is who. */
    for (unsigned i = 0; i < c->nconns; i++) {
        struct cconn *k = c->conns[i];
        const struct cev *ho, *hr;
        if (!k->s2s)
            continue;
        ho = conn_first_ev(k, CEV_OPEN, FT_DIR_ORIG);
        hr = conn_first_ev(k, CEV_OPEN, FT_DIR_RESP);
        if (ho && ho->from)
            book_add(c, &k->addr[FT_DIR_ORIG], ho->from, 2);
        if (hr && hr->from)
            book_add(c, &k->addr[FT_DIR_RESP], hr->from, 2);
        else if (ho && ho->to && hr)
            book_add(c, &k->addr[FT_DIR_RESP], ho->to, 2);
        else if (!hr) {
            /* SNI names the receiving domain: all a direct TLS (XEP-0368)
             * connection says in clear */
            const struct cev *hello = conn_first_ev(k, CEV_TLS_HELLO, FT_DIR_ORIG);
            if (hello && hello->text && *hello->text)
                book_add(c, &k->addr[FT_DIR_RESP], hello->text, 2);
        }
    }
    /* Client streams: the `to` of a c2s header names the domain its server
     * serves, and the server usually federates from the same address. */
    for (unsigned i = 0; i < c->nconns; i++) {
        struct cconn *k = c->conns[i];
        char dom[STR_CAP];
        if (k->c2s && identity_c2s_domain(k, dom, sizeof(dom)))
            book_add(c, &k->addr[FT_DIR_RESP], dom, 1);
    }
}

/* ---- phase 4: the domains of each s2s connection ------------------------ */

void identity_name_endpoint(char *out, size_t len, const struct ft_addr *a)
{
    char ip[FT_ADDR_STRLEN];
    snprintf(out, len, "[%s]", ft_addr_str(a, ip, sizeof(ip)));
}

void identity_name_domains(struct correlator *c)
{
    char name[FT_ADDR_STRLEN + 3];
    for (unsigned i = 0; i < c->nconns; i++) {
        struct cconn *k = c->conns[i];
        const struct cev *ho, *hr;
        uint8_t stz;
        if (!k->s2s)
            continue;
        stz = (uint8_t)((k->stz_dom[0][0] ? 1 : 0) | (k->stz_dom[1][0] ? 2 : 0));
        if (k->own_valid && k->own_nev == k->nev && k->own_stz == stz && k->own_epoch == c->names_epoch) {
            /* its events did not change: they name it as last round */
            k->dom_from = k->own_from;
            k->dom_to = k->own_to;
            continue;
        }
        ho = conn_first_ev(k, CEV_OPEN, FT_DIR_ORIG);
        hr = conn_first_ev(k, CEV_OPEN, FT_DIR_RESP);
        if (ho && ho->from && *ho->from)
            k->dom_from = identity_intern(c, ho->from);
        else if (hr && hr->to && *hr->to)
            k->dom_from = identity_intern(c, hr->to);
        if (ho && ho->to && *ho->to)
            k->dom_to = identity_intern(c, ho->to);
        else if (hr && hr->from && *hr->from)
            k->dom_to = identity_intern(c, hr->from);
        if (!k->dom_to) {
            const struct cev *hello = conn_first_ev(k, CEV_TLS_HELLO, FT_DIR_ORIG);
            if (hello && hello->text && *hello->text)
                k->dom_to = identity_intern(c, hello->text);
        }
        /* No header (picked up mid-stream): the stanzas' addresses name
         * the stream's domains (the initiator's stanzas, or the answers). */
        if (!k->dom_from && !ho && !hr) {
            if (k->stz_dom[FT_DIR_ORIG][0])
                k->dom_from = identity_intern(c, k->stz_dom[FT_DIR_ORIG][0]);
            else if (k->stz_dom[FT_DIR_RESP][1])
                k->dom_from = identity_intern(c, k->stz_dom[FT_DIR_RESP][1]);
        }
        if (!k->dom_to && !ho && !hr) {
            if (k->stz_dom[FT_DIR_ORIG][1])
                k->dom_to = identity_intern(c, k->stz_dom[FT_DIR_ORIG][1]);
            else if (k->stz_dom[FT_DIR_RESP][0])
                k->dom_to = identity_intern(c, k->stz_dom[FT_DIR_RESP][0]);
        }
        k->own_from = k->dom_from;
        k->own_to = k->dom_to;
        k->own_nev = k->nev;
        k->own_stz = stz;
        k->own_epoch = c->names_epoch;
        k->own_valid = true;
    }
    /* Second pass: connections without headers borrow from their NAT twin,
     * then from what the addresses are known to serve. */
    for (unsigned i = 0; i < c->nconns; i++) {
        struct cconn *k = c->conns[i];
        const char *d;
        if (!k->s2s)
            continue;
        if (k->nat_peer) {
            if (!k->dom_from)
                k->dom_from = identity_intern(c, k->nat_peer->dom_from);
            if (!k->dom_to)
                k->dom_to = identity_intern(c, k->nat_peer->dom_to);
        }
        if (!k->dom_from && (d = identity_book_domain(c, &k->addr[FT_DIR_ORIG])) != NULL)
            k->dom_from = identity_intern(c, d);
        if (!k->dom_to && (d = identity_book_domain(c, &k->addr[FT_DIR_RESP])) != NULL)
            k->dom_to = identity_intern(c, d);
        if (!k->dom_from && c->cfg.n_local_domains == 1) {
            for (unsigned s = 0; s < c->cfg.n_local_servers; s++)
                if (ft_addr_eq(&c->cfg.local_servers[s], &k->addr[FT_DIR_ORIG]))
                    k->dom_from = identity_intern(c, c->cfg.local_domains[0]);
        }
        if (!k->dom_to && c->cfg.n_local_domains == 1) {
            for (unsigned s = 0; s < c->cfg.n_local_servers; s++)
                if (ft_addr_eq(&c->cfg.local_servers[s], &k->addr[FT_DIR_RESP]))
                    k->dom_to = identity_intern(c, c->cfg.local_domains[0]);
        }
    }
    /* Third pass: a twin that learned its names from the book only in the
     * pass above (it came later in the list) still lends them; then the
     * bare address. */
    for (unsigned i = 0; i < c->nconns; i++) {
        struct cconn *k = c->conns[i];
        if (!k->s2s)
            continue;
        if (k->nat_peer) {
            if (!k->dom_from)
                k->dom_from = identity_intern(c, k->nat_peer->dom_from);
            if (!k->dom_to)
                k->dom_to = identity_intern(c, k->nat_peer->dom_to);
        }
        if (!k->dom_from)
            k->dom_from = identity_intern(c, identity_endpoint_name(name, sizeof(name), &k->addr[FT_DIR_ORIG]));
        if (!k->dom_to)
            k->dom_to = identity_intern(c, identity_endpoint_name(name, sizeof(name), &k->addr[FT_DIR_RESP]));
    }
    /* What a connection learned from its NAT twin names its own addresses
     * too (weakest): the DNS lookups made from the outside address then
     * belong to the same domain pair, not to an `[address]`. */
    for (unsigned i = 0; i < c->nconns; i++) {
        const struct cconn *k = c->conns[i];
        if (!k->s2s || !k->nat_peer)
            continue;
        if (k->dom_from && k->dom_from[0] != '[')
            book_add(c, &k->addr[FT_DIR_ORIG], k->dom_from, 0);
        if (k->dom_to && k->dom_to[0] != '[')
            book_add(c, &k->addr[FT_DIR_RESP], k->dom_to, 0);
    }
}

/* The domain a client connection serves: the `to` of the client's stream
 * header, or the `from` of the server's. */
bool identity_c2s_domain(const struct cconn *k, char *out, size_t len)
{
    const struct cev *ho = conn_first_ev(k, CEV_OPEN, FT_DIR_ORIG), *hr = conn_first_ev(k, CEV_OPEN, FT_DIR_RESP);
    if (ho && ho->to && *ho->to)
        corr_jid_domain(ho->to, out, len);
    else if (hr && hr->from && *hr->from)
        corr_jid_domain(hr->from, out, len);
    else
        return false;
    return out[0] != '\0';
}

bool identity_c2s_subscribe_to(const struct cconn *k, unsigned e, const char *user, char *to, size_t len)
{
    const struct cev *v = &k->ev[e];
    if (v->type != CEV_STANZA || v->dir != FT_DIR_ORIG || v->flags != XMPP_STANZA_PRESENCE ||
        v->sub != XMPP_PRES_SUBSCRIBE)
        return false;
    corr_jid_domain(v->to, to, len);
    return to[0] && strcasecmp(to, user) != 0;
}

/* Which domain of a federation is ours: -d first, then the side whose
 * server sits on a private address (behind the NAT), then the side whose
 * users' client streams the capture shows (ours reach our server on this
 * network; the remote domain's users reach theirs elsewhere), then the
 * side whose DNS lookups the capture shows. */
void identity_decide_roles(struct correlator *c, struct corr_federation *f)
{
    int score[2] = { 0, 0 };
    for (int i = 0; i < 2; i++) {
        for (unsigned k = 0; k < c->cfg.n_local_domains; k++)
            if (strcasecmp(c->cfg.local_domains[k], f->domains[i]) == 0)
                score[i] += 100;
        size_t n = strnlen(f->domains[i], STR_CAP - 1);
        bool priv = false, looked = false;
        for (uint32_t h = corr_index_first(&c->role_ix, f->domains[i], n); h; h = corr_index_next(&c->role_ix, h)) {
            priv |= corr_index_val(&c->role_ix, h)->a == 1;
            looked |= corr_index_val(&c->role_ix, h)->a == 2;
        }
        score[i] += (priv ? 10 : 0) + (looked ? 1 : 0);
        {
            char key[STR_CAP];
            if (corr_index_first(&c->users_ix, key, corr_index_key1(key, sizeof(key), f->domains[i])))
                score[i] += 4;
        }
    }
    if (score[0] == score[1]) {
        f->local = NULL;
        f->roles_inferred = true;
        f->role_reason = "could not tell which side is local; use -d DOMAIN";
        return;
    }
    int li = score[0] > score[1] ? 0 : 1;
    f->local = f->domains[li];
    f->roles_inferred = score[li] < 100;
    f->role_reason = (
             score[li] >= 100 ? "given with -d"
             : score[li] >= 10 ? "its server has a private address (behind the NAT)"
             : score[li] >= 4  ? "its users' client connections are in the capture"
                               : "its server's DNS lookups are in the capture");
}

/* What decide_roles needs per domain, from the finished address book:
 * 1 = a server of it on a private address (by stream header), 2 = its
 * server's DNS lookups are in the capture; and, kept for the run (like
 * the DNS clients), the domains whose users' client streams were seen. */
void identity_index_roles(struct correlator *c)
{
    for (unsigned i = 0; i < c->nconns; i++) {
        struct cconn *k = c->conns[i];
        char dom[STR_CAP], key[STR_CAP];
        size_t n;
        if (k->users_noted || !k->c2s || !identity_c2s_domain(k, dom, sizeof(dom)))
            continue; /* a connection's domain is noted once, not every round */
        k->users_noted = true;
        n = corr_index_key1(key, sizeof(key), dom);
        if (corr_index_first(&c->users_ix, key, n))
            continue;
        if (c->users_ix.nkeys >= c->cfg.max_lookups)
            c->stats.identity_memory_dropped++;
        else
            corr_index_add(&c->users_ix, key, n, 0, 0);
    }
    for (unsigned b = 0; b < c->book.n; b++)
        if (c->book.e[b].strength == 2 && corr_addr_is_private(&c->book.e[b].addr))
            corr_index_add(&c->role_ix, c->book.e[b].domain, strnlen(c->book.e[b].domain, STR_CAP - 1), 1, 0);
    for (unsigned l = 0; l < c->nclients; l++) {
        const char *d = identity_book_domain(c, &c->clients[l]);
        if (d)
            corr_index_add(&c->role_ix, d, strnlen(d, STR_CAP - 1), 2, 0);
    }
}

const char *identity_intern(struct correlator *c, const char *s)
{
    size_t n = s ? strnlen(s, STR_CAP - 1) : 0;
    uint32_t h;
    char *copy;
    if (!n)
        return NULL;
    h = corr_index_first(&c->names_ix, s, n);
    if (h)
        return c->names[corr_index_val(&c->names_ix, h)->a];
    if (!corr_grow((void **)&c->names, &c->capnames, c->nnames + 1, sizeof(*c->names)))
        return NULL;
    copy = strndup(s, n);
    if (!copy)
        return NULL;
    if (!corr_index_add(&c->names_ix, s, n, c->nnames, 0)) {
        free(copy);
        return NULL;
    }
    c->names[c->nnames++] = copy;
    return copy;
}

const char *identity_endpoint_name(char *out, size_t len, const struct ft_addr *a)
{
    identity_name_endpoint(out, len, a);
    return out;
}
