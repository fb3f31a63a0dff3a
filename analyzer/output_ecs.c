/*
 * output_ecs.c - the Elastic Common Schema side of an NDJSON event: the
 * envelope every event carries (@timestamp, ecs, event.*, observer.*,
 * related.*), the ECS names of DNS and TLS facts, error.*, the run's
 * random uids, and certificate times as ISO 8601.  fedtrace's own fields
 * go under "fedtrace" (output_ndjson.c puts them there); nothing here
 * knows an event family's own body.
 */
#include "output_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "community_id.h"

#define ECS_VERSION "8.11.0"
#define UID_CHARS 17 /* after the prefix, as Zeek's uids */

/* ---- uids --------------------------------------------------------------- */

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= UINT64_C(0xbf58476d1ce4e5b9);
    x ^= x >> 27;
    x *= UINT64_C(0x94d049bb133111eb);
    x ^= x >> 31;
    return x;
}

void ecs_init(struct output *o)
{
    uint64_t key[2] = { 0, 0 };
    if (getrandom(key, sizeof(key), GRND_NONBLOCK) != (ssize_t)sizeof(key)) {
        /* No entropy pool yet (early boot): time and pid still differ
         * between runs and sensors far more than sequential numbers do. */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        key[0] = mix64((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec);
        key[1] = mix64(key[0] ^ (uint64_t)getpid());
    }
    o->uid_key[0] = key[0];
    o->uid_key[1] = key[1] | 1;
    o->random_uids = o->format == OUTPUT_NDJSON;
    if (gethostname(o->hostname, sizeof(o->hostname)) != 0)
        o->hostname[0] = '\0';
    o->hostname[sizeof(o->hostname) - 1] = '\0';
}

const char *output_uid(const struct output *o, uint64_t id, char prefix, char *buf, size_t len)
{
    static const char b62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    char u[UID_CHARS + 2];
    uint64_t a, b;

    if (!o->random_uids) {
        snprintf(buf, len, "%c%" PRIu64, prefix, id);
        return buf;
    }
    /* A bijection of the id under the run's key (distinct ids never
     * share the first word), then more bits for the width. */
    a = mix64(id ^ o->uid_key[0]);
    b = mix64(a + o->uid_key[1] + (uint64_t)(unsigned char)prefix);
    u[0] = prefix;
    for (int i = 1; i <= 10; i++, a /= 62)
        u[i] = b62[a % 62];
    for (int i = 11; i <= UID_CHARS; i++, b /= 62)
        u[i] = b62[b % 62];
    u[UID_CHARS + 1] = '\0';
    snprintf(buf, len, "%s", u);
    return buf;
}

int64_t ecs_wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * FT_NS_PER_SEC + ts.tv_nsec;
}

/* ---- sources ------------------------------------------------------------ */

int output_add_source(struct output *o, const char *name, const char *observer, bool live)
{
    struct output_source *s;
    if (o->nsources >= FACT_MAX_SOURCES)
        return -1;
    s = &o->sources[o->nsources];
    s->name = strdup(name ? name : "");
    s->observer = observer ? strdup(observer) : NULL;
    if (!s->name || (observer && !s->observer)) {
        free(s->name);
        free(s->observer);
        s->name = s->observer = NULL;
        return -1;
    }
    s->live = live;
    o->nsources++;
    return 0;
}

void ecs_free(struct output *o)
{
    for (unsigned i = 0; i < o->nsources; i++) {
        free(o->sources[i].name);
        free(o->sources[i].observer);
    }
    o->nsources = 0;
}

/* ---- the envelope ------------------------------------------------------- */

/* A keyword or a list of them: "a" or "a,b" becomes ["a"] or ["a","b"]. */
static json_object *jlist(const char *csv)
{
    json_object *a = json_object_new_array();
    const char *p = csv;
    while (p && *p) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        json_object_array_add(a, json_object_new_string_len(p, (int)n));
        p = end ? end + 1 : NULL;
    }
    return a;
}

static json_object *observer_json(const struct output *o, int source)
{
    json_object *obs = json_object_new_object();
    const struct output_source *s =
        source >= 0 && (unsigned)source < o->nsources ? &o->sources[source] : NULL;
    if (source < 0 && o->nsources == 1) /* one capture point saw everything */
        s = &o->sources[0];
    const char *name = s && s->observer ? s->observer : (o->hostname[0] ? o->hostname : "fedtrace");

    json_object_object_add(obs, "name", jstr(name));
    if (o->hostname[0])
        json_object_object_add(obs, "hostname", jstr(o->hostname));
    json_object_object_add(obs, "product", jstr("fedtrace"));
    json_object_object_add(obs, "type", jstr("sensor"));
    if (s && s->live) {
        json_object *ing = json_object_new_object(), *iface = json_object_new_object();
        json_object_object_add(iface, "name", jstr(s->name));
        json_object_object_add(ing, "interface", iface);
        json_object_object_add(obs, "ingress", ing);
    }
    return obs;
}

void ecs_envelope(const struct output *o, json_object *ev, int64_t ts_ns, const struct ecs_event *d, int source)
{
    json_object *ecs = json_object_new_object(), *event = json_object_new_object();
    json_object_object_add(ev, "@timestamp", jtime(ts_ns));
    json_object_object_add(ecs, "version", jstr(ECS_VERSION));
    json_object_object_add(ev, "ecs", ecs);
    json_object_object_add(event, "kind", jstr(d->kind));
    if (d->category)
        json_object_object_add(event, "category", jlist(d->category));
    if (d->type)
        json_object_object_add(event, "type", jlist(d->type));
    json_object_object_add(event, "action", jstr(d->action));
    if (d->outcome)
        json_object_object_add(event, "outcome", jstr(d->outcome));
    json_object_object_add(event, "module", jstr("fedtrace"));
    json_object_object_add(event, "dataset", jstr(d->dataset));
    json_object_object_add(ev, "event", event);
    json_object_object_add(ev, "observer", observer_json(o, source));
}

/* Adds s to the array unless it is there already or empty. */
static void add_unique(json_object *arr, const char *s)
{
    if (!s || !*s)
        return;
    for (size_t i = 0; i < json_object_array_length(arr); i++)
        if (strcmp(json_object_get_string(json_object_array_get_idx(arr, i)), s) == 0)
            return;
    json_object_array_add(arr, jstr(s));
}

/* related.ip / related.hosts, made on first use. */
static json_object *related_list(json_object *ev, const char *key)
{
    json_object *rel, *arr;
    if (!json_object_object_get_ex(ev, "related", &rel)) {
        rel = json_object_new_object();
        json_object_object_add(ev, "related", rel);
    }
    if (!json_object_object_get_ex(rel, key, &arr)) {
        arr = json_object_new_array();
        json_object_object_add(rel, key, arr);
    }
    return arr;
}

void ecs_related_ip(json_object *ev, const struct ft_addr *a)
{
    char buf[FT_ADDR_STRLEN];
    add_unique(related_list(ev, "ip"), ft_addr_str(a, buf, sizeof(buf)));
}

void ecs_related_host(json_object *ev, const char *host)
{
    if (host && *host)
        add_unique(related_list(ev, "hosts"), host);
}

void ecs_endpoints(json_object *ev, const struct ft_addr *src, uint16_t sport, const struct ft_addr *dst,
                   uint16_t dport)
{
    json_object_object_add(ev, "source", jendpoint(src, sport));
    json_object_object_add(ev, "destination", jendpoint(dst, dport));
    ecs_related_ip(ev, src);
    ecs_related_ip(ev, dst);
}

void ecs_network(json_object *ev, const struct ft_addr *a, uint16_t pa, const struct ft_addr *b, uint16_t pb,
                 bool udp, const char *protocol)
{
    json_object *net = json_object_new_object();
    char cid[COMMUNITY_ID_LEN];
    json_object_object_add(net, "transport", jstr(udp ? "udp" : "tcp"));
    if (protocol)
        json_object_object_add(net, "protocol", jstr(protocol));
    json_object_object_add(net, "type", jstr(a->family == 6 ? "ipv6" : "ipv4"));
    json_object_object_add(net, "community_id", jstr(community_id(a, pa, b, pb, udp ? 17 : 6, 0, cid)));
    json_object_object_add(ev, "network", net);
}

void ecs_error(json_object *ev, const char *code, const char *message, const char *type)
{
    json_object *err = json_object_new_object();
    if (code && *code)
        json_object_object_add(err, "code", jstr(code));
    if (message && *message)
        json_object_object_add(err, "message", jstr(message));
    if (type && *type)
        json_object_object_add(err, "type", jstr(type));
    json_object_object_add(ev, "error", err);
}

/* ---- DNS ---------------------------------------------------------------- */

static const char *rcode_name(uint16_t rcode, char *buf, size_t len)
{
    static const char *const names[] = { "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP",
                                         "REFUSED", "YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH",
                                         "NOTZONE" };
    if (rcode < sizeof(names) / sizeof(names[0]))
        return names[rcode];
    snprintf(buf, len, "RCODE%u", (unsigned)rcode);
    return buf;
}

json_object *ecs_dns(json_object *ev, const struct dns_lookup *lk)
{
    json_object *dns = json_object_new_object(), *q = json_object_new_object();
    json_object *flags = json_object_new_array(), *answers = json_object_new_array();
    json_object *resolved = json_object_new_array();
    char id[8], tb[DNS_TYPE_NAME_BUFLEN], rb[16];

    snprintf(id, sizeof(id), "%u", (unsigned)lk->txid);
    json_object_object_add(dns, "id", jstr(id));
    json_object_object_add(dns, "type", jstr(lk->has_response ? "answer" : "query"));
    json_object_object_add(dns, "op_code", jstr("QUERY"));
    json_object_object_add(q, "name", jstr(lk->qname ? lk->qname : ""));
    json_object_object_add(q, "type", jstr(dns_type_name(lk->qtype, tb, sizeof(tb))));
    json_object_object_add(q, "class", jstr("IN"));
    json_object_object_add(dns, "question", q);
    ecs_related_host(ev, lk->qname);
    if (lk->has_response) {
        json_object_object_add(dns, "response_code", jstr(rcode_name(lk->rcode, rb, sizeof(rb))));
        if (lk->aa)
            json_object_array_add(flags, jstr("AA"));
        if (lk->tc)
            json_object_array_add(flags, jstr("TC"));
    }
    json_object_object_add(dns, "header_flags", flags);
    for (unsigned i = 0; i < lk->nans; i++) {
        const struct dns_answer *a = &lk->ans[i];
        json_object *j = json_object_new_object();
        char data[FT_ADDR_STRLEN + 16];
        json_object_object_add(j, "name", jstr(a->name ? a->name : ""));
        json_object_object_add(j, "type", jstr(dns_type_name(a->type, tb, sizeof(tb))));
        json_object_object_add(j, "class", jstr("IN"));
        json_object_object_add(j, "ttl", jint(a->ttl));
        if (a->type == DNS_T_A || a->type == DNS_T_AAAA) {
            ft_addr_str(&a->addr, data, sizeof(data));
            json_object_object_add(j, "data", jstr(data));
            add_unique(resolved, data);
            ecs_related_ip(ev, &a->addr);
        } else if (a->type == DNS_T_SRV && a->target) {
            char srv[1100];
            snprintf(srv, sizeof(srv), "%u %u %u %s", a->priority, a->weight, a->port, a->target);
            json_object_object_add(j, "data", jstr(srv));
            ecs_related_host(ev, a->target);
        } else {
            json_object_object_add(j, "data", jstr(a->target ? a->target : ""));
        }
        json_object_array_add(answers, j);
    }
    json_object_object_add(dns, "answers", answers);
    if (json_object_array_length(resolved))
        json_object_object_add(dns, "resolved_ip", resolved);
    else
        json_object_put(resolved);
    return dns;
}

/* ---- TLS ---------------------------------------------------------------- */

/* "1.3" and "tls" for 0x0304; NULL for what is not SSL/TLS. */
static const char *tls_ecs_version(uint16_t v, const char **protocol)
{
    *protocol = "tls";
    switch (v) {
    case 0x0300: *protocol = "ssl"; return "3.0";
    case 0x0301: return "1.0";
    case 0x0302: return "1.1";
    case 0x0303: return "1.2";
    case 0x0304: return "1.3";
    default: return NULL;
    }
}

static json_object *get_or_add(json_object *parent, const char *key)
{
    json_object *o;
    if (!json_object_object_get_ex(parent, key, &o)) {
        o = json_object_new_object();
        json_object_object_add(parent, key, o);
    }
    return o;
}

json_object *ecs_tls(json_object *ev, const struct tls_event *t, bool from_server)
{
    json_object *tls = json_object_new_object();
    const char *proto, *ver;
    char cb[64], dn[300];

    switch (t->type) {
    case TLS_EV_CLIENT_HELLO:
        if (t->sni) {
            json_object_object_add(get_or_add(tls, "client"), "server_name", jstr(t->sni));
            ecs_related_host(ev, t->sni);
        }
        break;
    case TLS_EV_SERVER_HELLO:
        ver = tls_ecs_version(t->version, &proto);
        if (ver) {
            json_object_object_add(tls, "version", jstr(ver));
            json_object_object_add(tls, "version_protocol", jstr(proto));
        }
        if (t->n_alpn)
            json_object_object_add(tls, "next_protocol", jstr(t->alpn[0]));
        break;
    case TLS_EV_CERTIFICATE: {
        json_object *side = get_or_add(tls, from_server ? "server" : "client");
        json_object *x509 = get_or_add(side, "x509");
        const char *iso = tls_time_iso(t->cert_not_after, cb, sizeof(cb));
        if (t->cert_cn) {
            json_object *cn = json_object_new_array();
            snprintf(dn, sizeof(dn), "CN=%s", t->cert_cn);
            json_object_object_add(side, "subject", jstr(dn));
            json_object_array_add(cn, jstr(t->cert_cn));
            json_object_object_add(get_or_add(x509, "subject"), "common_name", cn);
            ecs_related_host(ev, t->cert_cn);
        }
        if (t->cert_issuer_cn) {
            json_object *cn = json_object_new_array();
            snprintf(dn, sizeof(dn), "CN=%s", t->cert_issuer_cn);
            json_object_object_add(side, "issuer", jstr(dn));
            json_object_array_add(cn, jstr(t->cert_issuer_cn));
            json_object_object_add(get_or_add(x509, "issuer"), "common_name", cn);
        }
        if (iso) {
            json_object_object_add(side, "not_after", jstr(iso));
            json_object_object_add(x509, "not_after", jstr(iso));
        }
        iso = tls_time_iso(t->cert_not_before, cb, sizeof(cb));
        if (iso) {
            json_object_object_add(side, "not_before", jstr(iso));
            json_object_object_add(x509, "not_before", jstr(iso));
        }
        if (t->n_san) {
            json_object *a = json_object_new_array();
            for (unsigned i = 0; i < t->n_san; i++) {
                json_object_array_add(a, jstr(t->cert_san[i]));
                ecs_related_host(ev, t->cert_san[i]);
            }
            json_object_object_add(x509, "alternative_names", a);
        }
        break;
    }
    case TLS_EV_ALERT:
        ecs_error(ev, t->alert_desc_name ? t->alert_desc_name : "unknown",
                  t->alert_encrypted ? "encrypted TLS alert" : "TLS alert", "tls.alert");
        break;
    case TLS_EV_ERROR:
        ecs_error(ev, "tls_parse_error", t->error, "tls");
        break;
    default:
        break;
    }
    if (json_object_object_length(tls) == 0) {
        json_object_put(tls);
        return NULL;
    }
    return tls;
}
