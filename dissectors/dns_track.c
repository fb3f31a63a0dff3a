/*
 * dns_track.c - DNS transactions.
 *
 * The tracker pairs queries and responses by (client addr/port, server
 * addr/port, transport, id, qname, qtype), counts retransmissions, expires
 * queries after a timeout measured in packet time, links a truncated UDP
 * answer to the TCP retry that follows it (RFC 7766), and reports each
 * finished lookup to a callback.  Pending transactions live in one
 * fixed-size array allocated at creation, chained in a seeded hash table
 * and in a list ordered by last activity (which is also deadline order),
 * so expiry and eviction take the list head.
 *
 * Which address serves which domain is the correlator's address book
 * (analyzer/corr_identity.c), fed by the lookups this tracker reports.
 */
#include "dns.h"

#include <stdlib.h>
#include <string.h>

#define PENDING_INITIAL 16 /* query slots allocated up front; more on demand */

/* ------------------------------------------------------------------ */
/* Tracker                                                             */

enum pend_state {
    P_FREE = 0,
    P_QUERY,  /* waiting for a response */
    P_TCWAIT, /* got a TC=1 UDP answer, waiting for a TCP retry */
};

struct pending {
    uint8_t state;
    uint8_t transport;
    struct dns_endpoint client, server;
    uint16_t txid, qtype;
    uint32_t hash;
    int32_t hnext;      /* hash chain / free list */
    int32_t prev, next; /* activity list */
    int64_t deadline;
    uint64_t id, retry_of;
    unsigned nqueries;
    struct ft_meta query[DNS_LOOKUP_MAX_TX];
    struct ft_meta response; /* P_TCWAIT */
    uint16_t rcode;
    bool aa;
    char qname[DNS_NAME_STRLEN];
};

struct dns_tracker {
    struct dns_tracker_config cfg;
    dns_lookup_fn cb;
    void *user;
    struct pending *p;     /* alloc slots, of at most cap */
    size_t cap, alloc, n, n_tcwait;
    int32_t *bucket;
    size_t nbucket; /* power of two */
    int32_t free_head;
    int32_t head, tail;
    uint64_t next_id;
    int64_t now;
    bool have_now;
    struct dns_tracker_stats st;
    struct dns_lookup lk; /* scratch handed to the callback */
};

static const char *const outcome_names[DNS_OUT__COUNT] = {
    [DNS_OUT_ANSWERED] = "answered",
    [DNS_OUT_NXDOMAIN] = "nxdomain",
    [DNS_OUT_NODATA] = "nodata",
    [DNS_OUT_SERVFAIL] = "servfail",
    [DNS_OUT_REFUSED] = "refused",
    [DNS_OUT_OTHER_RCODE] = "other-rcode",
    [DNS_OUT_UNANSWERED] = "unanswered",
    [DNS_OUT_TRUNCATED] = "truncated",
    [DNS_OUT_TRUNCATED_THEN_TCP] = "truncated-then-tcp",
};

const char *dns_outcome_name(enum dns_outcome o)
{
    if ((unsigned)o >= DNS_OUT__COUNT)
        return "unknown";
    return outcome_names[o];
}

void dns_tracker_config_default(struct dns_tracker_config *cfg)
{
    cfg->timeout_ns = 5 * FT_NS_PER_SEC;
    cfg->max_pending = 1024;
    cfg->hash_seed = 0x9e3779b9u;
}

struct dns_tracker *dns_tracker_new(const struct dns_tracker_config *cfg, dns_lookup_fn cb,
                                    void *user)
{
    struct dns_tracker *t;

    t = calloc(1, sizeof(*t));
    if (!t)
        goto fail;
    if (cfg)
        t->cfg = *cfg;
    else
        dns_tracker_config_default(&t->cfg);
    if (t->cfg.max_pending == 0 || t->cfg.max_pending > (size_t)INT32_MAX / 4)
        t->cfg.max_pending = 1024;
    if (t->cfg.timeout_ns < 0)
        t->cfg.timeout_ns = 0;
    t->cb = cb;
    t->user = user;
    t->cap = t->cfg.max_pending;
    /* The slots grow on demand up to cap (pending_grow), so a run that sees
     * a few queries does not touch cap * ~4.6 KB up front. */
    t->alloc = t->cap < PENDING_INITIAL ? t->cap : PENDING_INITIAL;
    t->p = calloc(t->alloc, sizeof(*t->p));
    if (!t->p)
        goto fail_free;
    t->nbucket = 16;
    while (t->nbucket < t->cap * 2)
        t->nbucket <<= 1;
    t->bucket = malloc(t->nbucket * sizeof(*t->bucket));
    if (!t->bucket)
        goto fail_free;
    for (size_t i = 0; i < t->nbucket; i++)
        t->bucket[i] = -1;
    for (size_t i = 0; i < t->alloc; i++)
        t->p[i].hnext = i + 1 < t->alloc ? (int32_t)(i + 1) : -1;
    t->free_head = 0;
    t->head = t->tail = -1;
    t->next_id = 1;
    return t;

fail_free:
    dns_tracker_free(t);
fail:
    return NULL;
}

void dns_tracker_free(struct dns_tracker *t)
{
    if (!t)
        return;
    free(t->bucket);
    free(t->p);
    free(t);
}

const struct dns_tracker_stats *dns_tracker_stats(const struct dns_tracker *t)
{
    return &t->st;
}

static uint32_t fnv(uint32_t h, const void *data, size_t n)
{
    const uint8_t *p = data;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 16777619u;
    }
    return h;
}

static uint32_t key_hash(const struct dns_tracker *t, const struct dns_endpoint *cl,
                         const struct dns_endpoint *sv, uint8_t transport, uint16_t txid,
                         uint16_t qtype, const char *qname)
{
    uint32_t h = 2166136261u ^ t->cfg.hash_seed;
    uint8_t small[7];
    h = fnv(h, &cl->addr, sizeof(cl->addr));
    h = fnv(h, &sv->addr, sizeof(sv->addr));
    small[0] = (uint8_t)(cl->port >> 8);
    small[1] = (uint8_t)cl->port;
    small[2] = (uint8_t)(sv->port >> 8);
    small[3] = (uint8_t)sv->port;
    small[4] = transport;
    small[5] = (uint8_t)(txid ^ qtype);
    small[6] = (uint8_t)((txid ^ qtype) >> 8);
    h = fnv(h, small, sizeof(small));
    h = fnv(h, qname, strlen(qname));
    return h;
}

static bool key_eq(const struct pending *e, const struct dns_endpoint *cl,
                   const struct dns_endpoint *sv, uint8_t transport, uint16_t txid,
                   uint16_t qtype, const char *qname)
{
    return e->txid == txid && e->qtype == qtype && e->transport == transport &&
           e->client.port == cl->port && e->server.port == sv->port &&
           ft_addr_eq(&e->client.addr, &cl->addr) && ft_addr_eq(&e->server.addr, &sv->addr) &&
           strcmp(e->qname, qname) == 0;
}

static int32_t find_query(const struct dns_tracker *t, uint32_t h,
                          const struct dns_endpoint *cl, const struct dns_endpoint *sv,
                          uint8_t transport, uint16_t txid, uint16_t qtype, const char *qname)
{
    for (int32_t i = t->bucket[h & (t->nbucket - 1)]; i >= 0; i = t->p[i].hnext) {
        const struct pending *e = &t->p[i];
        if (e->state == P_QUERY && e->hash == h &&
            key_eq(e, cl, sv, transport, txid, qtype, qname))
            return i;
    }
    return -1;
}

static void list_unlink(struct dns_tracker *t, int32_t i)
{
    struct pending *e = &t->p[i];
    if (e->prev >= 0)
        t->p[e->prev].next = e->next;
    else
        t->head = e->next;
    if (e->next >= 0)
        t->p[e->next].prev = e->prev;
    else
        t->tail = e->prev;
    e->prev = e->next = -1;
}

static void list_append(struct dns_tracker *t, int32_t i)
{
    struct pending *e = &t->p[i];
    e->prev = t->tail;
    e->next = -1;
    if (t->tail >= 0)
        t->p[t->tail].next = i;
    else
        t->head = i;
    t->tail = i;
}

static void entry_remove(struct dns_tracker *t, int32_t i)
{
    struct pending *e = &t->p[i];
    int32_t *pp = &t->bucket[e->hash & (t->nbucket - 1)];
    while (*pp >= 0 && *pp != i)
        pp = &t->p[*pp].hnext;
    if (*pp == i)
        *pp = e->hnext;
    list_unlink(t, i);
    if (e->state == P_TCWAIT)
        t->n_tcwait--;
    e->state = P_FREE;
    e->hnext = t->free_head;
    t->free_head = i;
    t->n--;
}

static int64_t add_sat(int64_t a, int64_t b)
{
    if (b > 0 && a > INT64_MAX - b)
        return INT64_MAX;
    return a + b;
}

/* ---- building the lookup handed to the callback ---- */

static const char *lk_intern(struct dns_lookup *lk, const char *s)
{
    size_t n = strlen(s) + 1;
    char *p;
    if (n > sizeof(lk->pool) - lk->pool_used)
        return NULL;
    p = lk->pool + lk->pool_used;
    memcpy(p, s, n);
    lk->pool_used += n;
    return p;
}

static void lk_reset(struct dns_lookup *lk)
{
    memset(lk, 0, offsetof(struct dns_lookup, pool));
    lk->pool_used = 0;
}

/* Member by member into a zeroed lookup: its padding stays zero, so the
 * output can spool the record as bytes without writing undefined ones. */
static void meta_assign(struct ft_meta *dst, const struct ft_meta *src)
{
    dst->frame = src->frame;
    dst->src_frame = src->src_frame;
    dst->source = src->source;
    dst->ts_ns = src->ts_ns;
    dst->flow_id = src->flow_id;
    dst->dir = src->dir;
}

static void endpoint_assign(struct dns_endpoint *dst, const struct dns_endpoint *src)
{
    dst->addr = src->addr;
    dst->port = src->port;
}

static void lk_from_entry(struct dns_lookup *lk, const struct pending *e)
{
    unsigned keep = e->nqueries < DNS_LOOKUP_MAX_TX ? e->nqueries : DNS_LOOKUP_MAX_TX;
    lk->id = e->id;
    lk->retry_of = e->retry_of;
    endpoint_assign(&lk->client, &e->client);
    endpoint_assign(&lk->server, &e->server);
    lk->transport = e->transport;
    lk->txid = e->txid;
    lk->qtype = e->qtype;
    lk->qname = lk_intern(lk, e->qname);
    lk->nqueries = e->nqueries;
    lk->retransmits = e->nqueries > 0 ? e->nqueries - 1 : 0;
    for (unsigned i = 0; i < keep; i++)
        meta_assign(&lk->query[i], &e->query[i]);
}

static bool type_matches(uint16_t have, uint16_t want)
{
    return have == want || want == DNS_T_ANY;
}

/* Fills the response part of lk from msg and decides the outcome. */
static void lk_from_response(struct dns_lookup *lk, const struct dns_msg *msg,
                             const struct ft_meta *meta)
{
    const char *cur = lk->qname ? lk->qname : "";
    bool found = false;

    lk->has_response = true;
    meta_assign(&lk->response, meta);
    lk->rcode = msg->rcode_full;
    lk->tc = msg->tc;
    lk->aa = msg->aa;
    lk->malformed = msg->err != DNS_ERR_NONE;

    for (unsigned i = 0; i < msg->nrr; i++) {
        const struct dns_rr *rr = &msg->rr[i];
        struct dns_answer *a;
        if (rr->section == DNS_SEC_AUTHORITY)
            continue;
        if (rr->section == DNS_SEC_ADDITIONAL && rr->type != DNS_T_A &&
            rr->type != DNS_T_AAAA)
            continue;
        if (lk->nans >= DNS_LOOKUP_MAX_ANS) {
            lk->ans_dropped++;
            continue;
        }
        a = &lk->ans[lk->nans];
        a->name = lk_intern(lk, rr->name);
        if (!a->name) {
            lk->ans_dropped++;
            continue;
        }
        a->type = rr->type;
        a->ttl = rr->ttl;
        a->section = rr->section;
        switch (rr->type) {
        case DNS_T_A:
        case DNS_T_AAAA:
            a->addr = rr->u.addr;
            break;
        case DNS_T_SRV:
            a->priority = rr->u.srv.priority;
            a->weight = rr->u.srv.weight;
            a->port = rr->u.srv.port;
            a->target = lk_intern(lk, rr->u.srv.target);
            break;
        case DNS_T_CNAME:
        case DNS_T_NS:
        case DNS_T_PTR:
            a->target = lk_intern(lk, rr->u.target);
            break;
        default:
            break;
        }
        lk->nans++;
    }

    /* follow the CNAME chain from qname through the answer section */
    for (unsigned hop = 0; hop <= DNS_LOOKUP_MAX_CNAME && !found; hop++) {
        const struct dns_rr *alias = NULL;
        for (unsigned i = 0; i < msg->nrr; i++) {
            const struct dns_rr *rr = &msg->rr[i];
            if (rr->section != DNS_SEC_ANSWER || strcmp(rr->name, cur) != 0)
                continue;
            if (type_matches(rr->type, lk->qtype)) {
                found = true;
                break;
            }
            if (rr->type == DNS_T_CNAME && !alias)
                alias = rr;
        }
        if (found || !alias || lk->ncname >= DNS_LOOKUP_MAX_CNAME)
            break;
        cur = lk_intern(lk, alias->u.target);
        if (!cur)
            break;
        lk->cname[lk->ncname++] = cur;
    }

    switch (msg->rcode_full) {
    case DNS_RCODE_NOERROR:
        lk->outcome = found ? DNS_OUT_ANSWERED : DNS_OUT_NODATA;
        break;
    case DNS_RCODE_NXDOMAIN:
        lk->outcome = DNS_OUT_NXDOMAIN;
        break;
    case DNS_RCODE_SERVFAIL:
        lk->outcome = DNS_OUT_SERVFAIL;
        break;
    case DNS_RCODE_REFUSED:
        lk->outcome = DNS_OUT_REFUSED;
        break;
    default:
        lk->outcome = DNS_OUT_OTHER_RCODE;
        break;
    }
}

static void emit(struct dns_tracker *t)
{
    t->st.lookups++;
    if (t->cb)
        t->cb(t->user, &t->lk);
}

/* Reports a pending entry that ended without a (usable) response. */
static void emit_pending(struct dns_tracker *t, int32_t i, enum dns_outcome outcome)
{
    const struct pending *e = &t->p[i];
    struct dns_lookup *lk = &t->lk;

    lk_reset(lk);
    lk_from_entry(lk, e);
    lk->outcome = (uint8_t)outcome;
    if (e->state == P_TCWAIT) {
        lk->has_response = true;
        lk->response = e->response;
        lk->rcode = e->rcode;
        lk->tc = true;
        lk->aa = e->aa;
    }
    emit(t);
}

static void expire_upto(struct dns_tracker *t, int64_t now, bool all)
{
    while (t->head >= 0 && (all || t->p[t->head].deadline < now)) {
        int32_t i = t->head;
        if (t->p[i].state == P_TCWAIT) {
            emit_pending(t, i, DNS_OUT_TRUNCATED);
        } else {
            t->st.unanswered++;
            emit_pending(t, i, DNS_OUT_UNANSWERED);
        }
        entry_remove(t, i);
    }
}

void dns_tracker_advance(struct dns_tracker *t, int64_t now_ns)
{
    /* packet time from merged sources may step back: never rewind */
    if (t->have_now && now_ns < t->now)
        now_ns = t->now;
    t->now = now_ns;
    t->have_now = true;
    expire_upto(t, now_ns, false);
}

void dns_tracker_flush(struct dns_tracker *t)
{
    expire_upto(t, 0, true);
}

/* Doubles the slot array (up to cap) and puts the new slots on the free
 * list.  Slots are addressed by index, so moving the array is safe.
 * Returns false when at cap or out of memory: the caller evicts. */
static bool pending_grow(struct dns_tracker *t)
{
    size_t n = t->alloc * 2 < t->cap ? t->alloc * 2 : t->cap;
    struct pending *np;

    if (n <= t->alloc)
        return false;
    np = realloc(t->p, n * sizeof(*np));
    if (!np)
        return false;
    memset(np + t->alloc, 0, (n - t->alloc) * sizeof(*np));
    for (size_t i = t->alloc; i < n; i++)
        np[i].hnext = i + 1 < n ? (int32_t)(i + 1) : t->free_head;
    t->free_head = (int32_t)t->alloc;
    t->p = np;
    t->alloc = n;
    return true;
}

/* Takes a free slot (growing the slots, or evicting the least recently
 * active entry when at cap) and links it into the hash and the list. */
static int32_t entry_new(struct dns_tracker *t, uint32_t h)
{
    int32_t i;
    struct pending *e;

    if (t->free_head < 0 && !pending_grow(t)) {
        t->st.evicted++;
        entry_remove(t, t->head);
    }
    i = t->free_head;
    e = &t->p[i];
    t->free_head = e->hnext;
    memset(e, 0, offsetof(struct pending, qname));
    e->qname[0] = '\0';
    e->hash = h;
    e->hnext = t->bucket[h & (t->nbucket - 1)];
    t->bucket[h & (t->nbucket - 1)] = i;
    list_append(t, i);
    t->n++;
    return i;
}

static void fill_key(struct pending *e, const struct dns_endpoint *cl,
                     const struct dns_endpoint *sv, uint8_t transport, uint16_t txid,
                     uint16_t qtype, const char *qname)
{
    size_t n;

    e->client = *cl;
    e->server = *sv;
    e->transport = transport;
    e->txid = txid;
    e->qtype = qtype;
    n = strlen(qname);
    /* qname came from a dns_msg, so it always fits; cut defensively */
    if (n >= sizeof(e->qname))
        n = sizeof(e->qname) - 1;
    memcpy(e->qname, qname, n);
    e->qname[n] = '\0';
}

/* A TCP query: is it the retry of a truncated UDP answer?  Returns the UDP
 * lookup id (and reports + removes that entry) or 0. */
static uint64_t link_tc_retry(struct dns_tracker *t, const struct dns_endpoint *cl,
                              const struct dns_endpoint *sv, uint16_t qtype, const char *qname)
{
    int32_t best = -1;
    uint64_t id;

    for (int32_t i = t->head; i >= 0; i = t->p[i].next) {
        const struct pending *e = &t->p[i];
        if (e->state != P_TCWAIT || e->qtype != qtype ||
            !ft_addr_eq(&e->client.addr, &cl->addr) || strcmp(e->qname, qname) != 0)
            continue;
        /* prefer the same resolver; otherwise the oldest */
        if (best < 0 || (ft_addr_eq(&e->server.addr, &sv->addr) &&
                         !ft_addr_eq(&t->p[best].server.addr, &sv->addr)))
            best = i;
    }
    if (best < 0)
        return 0;
    id = t->p[best].id;
    t->st.tc_linked++;
    emit_pending(t, best, DNS_OUT_TRUNCATED_THEN_TCP);
    entry_remove(t, best);
    return id;
}

void dns_tracker_feed(struct dns_tracker *t, const struct dns_endpoint *client,
                      const struct dns_endpoint *server, enum dns_transport transport,
                      const struct dns_msg *msg, const struct ft_meta *meta)
{
    const char *qname;
    uint16_t qtype;
    uint8_t tr = transport == DNS_TCP ? DNS_TCP : DNS_UDP;
    uint32_t h;
    int32_t i;
    int64_t deadline;

    if (!meta)
        meta = &msg->meta;
    dns_tracker_advance(t, meta->ts_ns);
    if (msg->nq == 0 || msg->opcode != 0) {
        t->st.ignored++;
        return;
    }
    qname = msg->q[0].qname;
    qtype = msg->q[0].qtype;
    h = key_hash(t, client, server, tr, msg->id, qtype, qname);
    i = find_query(t, h, client, server, tr, msg->id, qtype, qname);
    deadline = add_sat(meta->ts_ns, t->cfg.timeout_ns);

    if (!msg->qr) {
        struct pending *e;
        uint64_t retry_of = 0;

        t->st.queries++;
        if (i >= 0) {
            e = &t->p[i];
            t->st.retransmits++;
            if (e->nqueries < DNS_LOOKUP_MAX_TX)
                e->query[e->nqueries] = *meta;
            e->nqueries++;
            e->deadline = deadline;
            list_unlink(t, i);
            list_append(t, i);
            return;
        }
        if (tr == DNS_TCP && t->n_tcwait > 0)
            retry_of = link_tc_retry(t, client, server, qtype, qname);
        i = entry_new(t, h);
        e = &t->p[i];
        fill_key(e, client, server, tr, msg->id, qtype, qname);
        e->state = P_QUERY;
        e->id = t->next_id++;
        e->retry_of = retry_of;
        e->query[0] = *meta;
        e->nqueries = 1;
        e->deadline = deadline;
        return;
    }

    t->st.responses++;
    if (i < 0) {
        t->st.unmatched++;
        if (msg->tc && tr == DNS_UDP) {
            /* truncated, query not seen: still wait for a TCP retry */
            struct pending *e;
            i = entry_new(t, h);
            e = &t->p[i];
            fill_key(e, client, server, tr, msg->id, qtype, qname);
            e->id = t->next_id++;
            goto tc_wait;
        }
        lk_reset(&t->lk);
        t->lk.id = t->next_id++;
        t->lk.client = *client;
        t->lk.server = *server;
        t->lk.transport = tr;
        t->lk.txid = msg->id;
        t->lk.qtype = qtype;
        t->lk.qname = lk_intern(&t->lk, qname);
        lk_from_response(&t->lk, msg, meta);
        emit(t);
        return;
    }
    t->st.matched++;
    if (msg->tc && tr == DNS_UDP)
        goto tc_wait;
    lk_reset(&t->lk);
    lk_from_entry(&t->lk, &t->p[i]);
    lk_from_response(&t->lk, msg, meta);
    emit(t);
    entry_remove(t, i);
    return;

tc_wait:
    t->p[i].state = P_TCWAIT;
    t->n_tcwait++;
    t->p[i].response = *meta;
    t->p[i].rcode = msg->rcode_full;
    t->p[i].aa = msg->aa;
    t->p[i].deadline = deadline;
    list_unlink(t, i);
    list_append(t, i);
}
