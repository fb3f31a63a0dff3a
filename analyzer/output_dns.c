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
