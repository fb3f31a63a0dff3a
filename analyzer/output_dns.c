/*
 * output_dns.c - a DNS lookup as JSON: the question, the transmissions,
 * the outcome, the answers and the CNAME chain.  The same object in the
 * document's "dns" list and in NDJSON.
 */
#include "output_int.h"

#include <inttypes.h>

static json_object *jdns_endpoint(const struct dns_endpoint *e)
{
    return jendpoint(&e->addr, e->port);
}

json_object *dns_json(const struct output *out, const struct dns_lookup *lk)
{
    json_object *o = json_object_new_object(), *q = json_object_new_array();
    json_object *ans = json_object_new_array();
    unsigned nq = lk->nqueries < DNS_LOOKUP_MAX_TX ? lk->nqueries : DNS_LOOKUP_MAX_TX;

    json_object_object_add(o, "uid", jref_uid(out, lk->id, 'D'));
    json_object_object_add(o, "ts", jtime(nq ? lk->query[0].ts_ns : lk->response.ts_ns));
    json_object_object_add(o, "client", jdns_endpoint(&lk->client));
    json_object_object_add(o, "server", jdns_endpoint(&lk->server));
    json_object_object_add(o, "transport", jstr(lk->transport == DNS_TCP ? "tcp" : "udp"));
    json_object_object_add(o, "txid", jint(lk->txid));
    json_object_object_add(o, "qname", jstr(lk->qname ? lk->qname : ""));
    {
        char tb[DNS_TYPE_NAME_BUFLEN];
        json_object_object_add(o, "qtype", jstr(dns_type_name(lk->qtype, tb, sizeof(tb))));
    }
    json_object_object_add(o, "outcome", jstr(dns_outcome_name((enum dns_outcome)lk->outcome)));
    if (lk->has_response) {
        json_object_object_add(o, "rcode", jint(lk->rcode));
        json_object_object_add(o, "response", jmeta(&lk->response));
        json_object_object_add(o, "aa", json_object_new_boolean(lk->aa));
        json_object_object_add(o, "tc", json_object_new_boolean(lk->tc));
    }
    for (unsigned i = 0; i < nq; i++)
        json_object_array_add(q, jmeta(&lk->query[i]));
    json_object_object_add(o, "queries", q);
    json_object_object_add(o, "retransmits", jint(lk->retransmits));
    if (lk->retry_of) {
        json_object_object_add(o, "retry_of", jref_uid(out, lk->retry_of, 'D'));
    }
    if (lk->ncname) {
        json_object *c = json_object_new_array();
        for (unsigned i = 0; i < lk->ncname; i++)
            json_object_array_add(c, jstr(lk->cname[i]));
        json_object_object_add(o, "cname_chain", c);
    }
    for (unsigned i = 0; i < lk->nans; i++) {
        const struct dns_answer *a = &lk->ans[i];
        json_object *j = json_object_new_object();
        char ip[FT_ADDR_STRLEN];
        char tb[DNS_TYPE_NAME_BUFLEN];
        json_object_object_add(j, "name", jstr(a->name ? a->name : ""));
        json_object_object_add(j, "type", jstr(dns_type_name(a->type, tb, sizeof(tb))));
        json_object_object_add(j, "ttl", jint(a->ttl));
        if (a->section != DNS_SEC_ANSWER)
            json_object_object_add(j, "section", jstr(a->section == DNS_SEC_AUTHORITY ? "authority" : "additional"));
        if (a->type == DNS_T_A || a->type == DNS_T_AAAA)
            json_object_object_add(j, "address", jstr(ft_addr_str(&a->addr, ip, sizeof(ip))));
        if (a->type == DNS_T_SRV) {
            json_object_object_add(j, "priority", jint(a->priority));
            json_object_object_add(j, "weight", jint(a->weight));
            json_object_object_add(j, "port", jint(a->port));
        }
        jadd_opt(j, "target", jopt_str(a->target));
        json_object_array_add(ans, j);
    }
    json_object_object_add(o, "answers", ans);
    if (lk->ans_dropped)
        json_object_object_add(o, "answers_dropped", jint(lk->ans_dropped));
    if (lk->malformed)
        json_object_object_add(o, "malformed", json_object_new_boolean(true));
    return o;
}

/* ---- a lookup packed for the document's spool --------------------------- */

/*
 * The document lists a lookup only if a federation refers to it, which is
 * known at the end; rendering every lookup as JSON when it completes cost
 * more than all the DNS parsing.  So the spool holds the C record, packed:
 * the scalar head, the transmissions, the response, the CNAME chain and
 * answers that are there, and the string pool; every string as an offset
 * into the pool (NONE for NULL).
 */
#define NONE UINT32_MAX

struct packed_strs {
    uint32_t qname, cname[DNS_LOOKUP_MAX_CNAME], name[DNS_LOOKUP_MAX_ANS], target[DNS_LOOKUP_MAX_ANS];
};

static uint32_t pool_off(const struct dns_lookup *lk, const char *s)
{
    if (s && s >= lk->pool && s < lk->pool + lk->pool_used)
        return (uint32_t)(s - lk->pool);
    return NONE; /* the tracker interns every string: nothing else to keep */
}

static const char *pool_ptr(const struct dns_lookup *lk, uint32_t off)
{
    return off < lk->pool_used ? lk->pool + off : NULL;
}

size_t dns_pack(const struct dns_lookup *lk, unsigned char *out, size_t cap)
{
    unsigned nq = lk->nqueries < DNS_LOOKUP_MAX_TX ? lk->nqueries : DNS_LOOKUP_MAX_TX;
    unsigned nc = lk->ncname < DNS_LOOKUP_MAX_CNAME ? lk->ncname : DNS_LOOKUP_MAX_CNAME;
    unsigned na = lk->nans < DNS_LOOKUP_MAX_ANS ? lk->nans : DNS_LOOKUP_MAX_ANS;
    size_t pool = lk->pool_used < sizeof(lk->pool) ? lk->pool_used : sizeof(lk->pool);
    struct packed_strs ps;
    size_t n = 0;

    if (cap < DNS_PACK_MAX)
        return 0;
    ps.qname = pool_off(lk, lk->qname);
    for (unsigned i = 0; i < nc; i++)
        ps.cname[i] = pool_off(lk, lk->cname[i]);
    for (unsigned i = 0; i < na; i++) {
        ps.name[i] = pool_off(lk, lk->ans[i].name);
        ps.target[i] = pool_off(lk, lk->ans[i].target);
    }
#define PUT(p, len)                  \
    do {                             \
        memcpy(out + n, (p), (len)); \
        n += (len);                  \
    } while (0)
    PUT(lk, offsetof(struct dns_lookup, query));
    PUT(lk->query, nq * sizeof(lk->query[0]));
    PUT(&lk->response, sizeof(lk->response));
    PUT(&nc, sizeof(lk->ncname));
    PUT(&na, sizeof(lk->nans));
    PUT(&lk->ans_dropped, sizeof(lk->ans_dropped));
    PUT(lk->ans, na * sizeof(lk->ans[0]));
    PUT(&ps.qname, sizeof(ps.qname));
    PUT(ps.cname, nc * sizeof(ps.cname[0]));
    PUT(ps.name, na * sizeof(ps.name[0]));
    PUT(ps.target, na * sizeof(ps.target[0]));
    PUT(&pool, sizeof(pool));
    PUT(lk->pool, pool);
#undef PUT
    return n;
}

bool dns_unpack(struct dns_lookup *lk, const unsigned char *in, size_t len)
{
    struct packed_strs ps;
    unsigned nq;
    size_t n = 0, pool;

#define GET(p, sz)                  \
    do {                            \
        if ((sz) > len - n)         \
            return false;           \
        memcpy((p), in + n, (sz));  \
        n += (sz);                  \
    } while (0)
    memset(lk, 0, offsetof(struct dns_lookup, pool));
    GET(lk, offsetof(struct dns_lookup, query));
    nq = lk->nqueries < DNS_LOOKUP_MAX_TX ? lk->nqueries : DNS_LOOKUP_MAX_TX;
    GET(lk->query, nq * sizeof(lk->query[0]));
    GET(&lk->response, sizeof(lk->response));
    GET(&lk->ncname, sizeof(lk->ncname));
    GET(&lk->nans, sizeof(lk->nans));
    GET(&lk->ans_dropped, sizeof(lk->ans_dropped));
    if (lk->ncname > DNS_LOOKUP_MAX_CNAME || lk->nans > DNS_LOOKUP_MAX_ANS)
        return false;
    GET(lk->ans, lk->nans * sizeof(lk->ans[0]));
    GET(&ps.qname, sizeof(ps.qname));
    GET(ps.cname, lk->ncname * sizeof(ps.cname[0]));
    GET(ps.name, lk->nans * sizeof(ps.name[0]));
    GET(ps.target, lk->nans * sizeof(ps.target[0]));
    GET(&pool, sizeof(pool));
    if (pool > sizeof(lk->pool))
        return false;
    GET(lk->pool, pool);
#undef GET
    lk->pool_used = pool;
    if (pool > 0)
        lk->pool[pool - 1] = '\0'; /* every string ends inside the pool */
    lk->qname = pool_ptr(lk, ps.qname);
    for (unsigned i = 0; i < lk->ncname; i++)
        lk->cname[i] = pool_ptr(lk, ps.cname[i]);
    for (unsigned i = 0; i < lk->nans; i++) {
        lk->ans[i].name = pool_ptr(lk, ps.name[i]);
        lk->ans[i].target = pool_ptr(lk, ps.target[i]);
    }
    return n == len;
}
