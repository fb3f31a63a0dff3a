/*
 * flow.c - flow table with per-list LRU timeouts and a flow cap (see flow.h).
 */
#include "flow.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

struct flow_list_head {
    struct flow *head, *tail; /* head = least recently active */
};

struct flow_table {
    struct flow_config cfg;
    struct flow **buckets;
    uint64_t mask;
    uint64_t seed;
    uint64_t next_id;
    struct flow_list_head lists[FLOW_LIST_COUNT];
    flow_end_fn on_end;
    void *user;
    struct flow_stats stats;
};

static uint64_t mix64(uint64_t h)
{
    h ^= h >> 33;
    h *= UINT64_C(0xff51afd7ed558ccd);
    h ^= h >> 33;
    h *= UINT64_C(0xc4ceb9fe1a85ec53);
    h ^= h >> 33;
    return h;
}

static uint64_t key_hash(const struct flow_table *t, const struct flow_key *k)
{
    const uint8_t *p = (const uint8_t *)k;
    size_t n = sizeof(*k);
    uint64_t h = t->seed;
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = mix64(h ^ w);
        p += 8;
        n -= 8;
    }
    if (n) {
        uint64_t w = 0;
        memcpy(&w, p, n);
        h = mix64(h ^ w ^ ((uint64_t)n << 56));
    }
    return h;
}

struct flow_table *flow_table_new(const struct flow_config *cfg, flow_end_fn on_end, void *user)
{
    struct flow_table *t = calloc(1, sizeof(*t));
    uint64_t nb = 16;
    if (!t)
        return NULL;
    t->cfg = *cfg;
    if (t->cfg.max_flows == 0)
        t->cfg.max_flows = 1;
    while (nb < 2 * (uint64_t)t->cfg.max_flows)
        nb *= 2;
    t->buckets = calloc(nb, sizeof(*t->buckets));
    if (!t->buckets) {
        free(t);
        return NULL;
    }
    t->mask = nb - 1;
    if (getrandom(&t->seed, sizeof(t->seed), GRND_NONBLOCK) != (ssize_t)sizeof(t->seed))
        t->seed = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)t;
    t->next_id = 1;
    t->on_end = on_end;
    t->user = user;
    return t;
}

static void list_unlink(struct flow_table *t, struct flow *f)
{
    struct flow_list_head *l = &t->lists[f->list];
    if (f->lprev)
        f->lprev->lnext = f->lnext;
    else
        l->head = f->lnext;
    if (f->lnext)
        f->lnext->lprev = f->lprev;
    else
        l->tail = f->lprev;
    f->lprev = f->lnext = NULL;
}

static void list_append(struct flow_table *t, struct flow *f, enum flow_list list)
{
    struct flow_list_head *l = &t->lists[list];
    f->list = (uint8_t)list;
    f->lnext = NULL;
    f->lprev = l->tail;
    if (l->tail)
        l->tail->lnext = f;
    else
        l->head = f;
    l->tail = f;
}

static void hash_unlink(struct flow_table *t, struct flow *f)
{
    struct flow **pp = &t->buckets[key_hash(t, &f->key) & t->mask];
    while (*pp && *pp != f)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = f->hnext;
}

void flow_end(struct flow_table *t, struct flow *f, enum flow_end_reason why,
              const struct ft_meta *m)
{
    hash_unlink(t, f);
    list_unlink(t, f);
    t->stats.active--;
    if (why == FLOW_END_REUSED)
        t->stats.reused++;
    if (t->on_end)
        t->on_end(t->user, f, why, m);
    free(f);
}

static int by_flow_id(const void *a, const void *b)
{
    const struct flow *x = *(struct flow *const *)a, *y = *(struct flow *const *)b;
    return x->info.flow_id < y->info.flow_id ? -1 : x->info.flow_id > y->info.flow_id;
}

void flow_end_all(struct flow_table *t, const struct ft_meta *m)
{
    struct flow **all;
    size_t n = 0;

    /* End flows in creation order, so output order does not depend on which
     * list a flow happens to be on. */
    all = malloc((t->stats.active + 1) * sizeof(*all));
    if (all) {
        for (int l = 0; l < FLOW_LIST_COUNT; l++)
            for (struct flow *f = t->lists[l].head; f; f = f->lnext)
                all[n++] = f;
        qsort(all, n, sizeof(*all), by_flow_id);
        for (size_t i = 0; i < n; i++)
            flow_end(t, all[i], FLOW_END_INPUT, m);
        free(all);
    }
    for (int l = 0; l < FLOW_LIST_COUNT; l++)
        while (t->lists[l].head)
            flow_end(t, t->lists[l].head, FLOW_END_INPUT, m);
}

void flow_table_free(struct flow_table *t, const struct ft_meta *m)
{
    if (!t)
        return;
    flow_end_all(t, m);
    free(t->buckets);
    free(t);
}

void flow_touch(struct flow_table *t, struct flow *f, enum flow_list list, const struct ft_meta *m)
{
    f->last_ns = m->ts_ns > f->last_ns ? m->ts_ns : f->last_ns;
    f->last_frame = m->frame;
    f->last_meta = *m;
    f->last_meta.flow_id = f->info.flow_id;
    f->idle_told = false;
    list_unlink(t, f);
    list_append(t, f, list);
}

void flow_for_idle(struct flow_table *t, enum flow_list list, int64_t now_ns, int64_t idle_ns,
                   void (*fn)(void *user, struct flow *f), void *user)
{
    for (struct flow *f = t->lists[list].head; f != NULL && now_ns - f->last_ns > idle_ns; f = f->lnext) {
        if (!f->idle_told) {
            f->idle_told = true;
            fn(user, f);
        }
    }
}

void flow_expire(struct flow_table *t, int64_t now_ns, const struct ft_meta *m)
{
    for (int l = 0; l < FLOW_LIST_COUNT; l++) {
        struct flow *f;
        while ((f = t->lists[l].head) != NULL && now_ns - f->last_ns > t->cfg.timeout_ns[l]) {
            t->stats.timed_out++;
            flow_end(t, f, FLOW_END_TIMEOUT, m);
        }
    }
}

static void evict_idlest(struct flow_table *t, const struct ft_meta *m)
{
    struct flow *victim = NULL;
    /* Prefer closed connections, then whichever head was idle longest. */
    if (t->lists[FLOW_LIST_CLOSED].head) {
        victim = t->lists[FLOW_LIST_CLOSED].head;
    } else {
        for (int l = 0; l < FLOW_LIST_COUNT; l++) {
            struct flow *h = t->lists[l].head;
            if (h && (!victim || h->last_ns < victim->last_ns))
                victim = h;
        }
    }
    if (victim) {
        t->stats.evicted++;
        flow_end(t, victim, FLOW_END_EVICTED, m);
    }
}

static void make_key(struct flow_key *k, uint8_t proto, const struct ft_addr *a, uint16_t pa,
                     const struct ft_addr *b, uint16_t pb, bool *a_is_lo)
{
    int c = ft_addr_cmp(a, b);
    memset(k, 0, sizeof(*k));
    k->proto = proto;
    *a_is_lo = c < 0 || (c == 0 && pa <= pb);
    if (*a_is_lo) {
        k->lo_addr = *a;
        k->hi_addr = *b;
        k->lo_port = pa;
        k->hi_port = pb;
    } else {
        k->lo_addr = *b;
        k->hi_addr = *a;
        k->lo_port = pb;
        k->hi_port = pa;
    }
}

struct flow *flow_get(struct flow_table *t, uint8_t proto, const struct ft_addr *src,
                      uint16_t sport, const struct ft_addr *dst, uint16_t dport,
                      uint8_t tcp_flags, bool (*is_service_port)(void *, uint16_t),
                      void *port_user, const struct ft_meta *m, enum ft_dir *dir)
{
    struct flow_key k;
    bool src_is_lo, src_is_orig;
    struct flow *f;
    uint64_t h;

    make_key(&k, proto, src, sport, dst, dport, &src_is_lo);
    h = key_hash(t, &k) & t->mask;
    for (f = t->buckets[h]; f; f = f->hnext) {
        if (memcmp(&f->key, &k, sizeof(k)) == 0) {
            *dir = (src_is_lo == f->lo_is_orig) ? FT_DIR_ORIG : FT_DIR_RESP;
            return f;
        }
    }

    if (t->stats.active >= t->cfg.max_flows)
        evict_idlest(t, m);
    f = calloc(1, sizeof(*f));
    if (!f) {
        t->stats.alloc_failures++;
        return NULL;
    }
    if (proto == 6 && (tcp_flags & 0x12) == 0x02)
        src_is_orig = true;               /* SYN: the sender opens */
    else if (proto == 6 && (tcp_flags & 0x12) == 0x12)
        src_is_orig = false;              /* SYN-ACK: the receiver opened */
    else if (is_service_port && is_service_port(port_user, sport) &&
             !is_service_port(port_user, dport))
        src_is_orig = false;              /* mid-stream: the server side answers */
    else
        src_is_orig = true;
    f->key = k;
    f->lo_is_orig = src_is_lo == src_is_orig;
    f->info.flow_id = t->next_id++;
    f->info.proto = proto;
    f->info.addr[FT_DIR_ORIG] = src_is_orig ? *src : *dst;
    f->info.addr[FT_DIR_RESP] = src_is_orig ? *dst : *src;
    f->info.port[FT_DIR_ORIG] = src_is_orig ? sport : dport;
    f->info.port[FT_DIR_RESP] = src_is_orig ? dport : sport;
    f->first_ns = f->last_ns = m->ts_ns;
    f->first_frame = f->last_frame = m->frame;
    f->source = m->source;
    f->last_meta = *m;
    f->last_meta.flow_id = f->info.flow_id;
    f->tcp.dir[0].wscale = f->tcp.dir[1].wscale = -1;
    f->hnext = t->buckets[h];
    t->buckets[h] = f;
    list_append(t, f, proto == 6 ? FLOW_LIST_NEW : FLOW_LIST_UDP);
    t->stats.created++;
    t->stats.active++;
    if (t->stats.active > t->stats.peak_active)
        t->stats.peak_active = t->stats.active;
    *dir = src_is_orig ? FT_DIR_ORIG : FT_DIR_RESP;
    return f;
}

const struct flow_stats *flow_table_stats(const struct flow_table *t)
{
    return &t->stats;
}

void flow_conn_record(const struct flow *f, enum conn_phase phase, enum flow_end_reason why,
                      struct conn_record *out)
{
    memset(out, 0, sizeof(*out));
    out->phase = phase;
    out->end_reason = phase == CONN_END ? why : FLOW_END_INPUT;
    out->info = f->info;
    out->source = f->source;
    out->first_ns = f->first_ns;
    out->last_ns = f->last_ns;
    out->first_frame = f->first_frame;
    out->last_frame = f->last_frame;
    tcp_conn_facts(&f->tcp, out);
}
