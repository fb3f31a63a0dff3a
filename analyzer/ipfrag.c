/*
 * ipfrag.c - bounded IP fragment reassembly (see ipfrag.h).
 *
 * Datagrams in progress sit in a small array scanned linearly: fragmented
 * traffic is rare next to the rest, and max_datagrams is small (hundreds),
 * so a hash table would buy nothing.  Each datagram keeps a byte buffer that
 * grows to the highest offset seen (never past 65535) and a sorted list of
 * the byte ranges already filled.
 */
#include "ipfrag.h"

#include <stdlib.h>
#include <string.h>

#define IPFRAG_MAX_SIZE 65535u
#define IPFRAG_MAX_RANGES 64

struct frag_range {
    uint32_t start, end; /* [start, end) */
};

struct frag_datagram {
    bool used;
    struct ft_addr src, dst;
    uint8_t proto;
    uint32_t id;
    int64_t first_ns;
    uint32_t total_len; /* known once the last fragment (MF=0) arrived; else 0 */
    bool have_last;
    bool discarded;     /* IPv6 fragments overlapped: the datagram is dead;
                           the slot stays until the timeout so that its
                           later fragments are dropped too (RFC 5722) */
    uint8_t *buf;
    uint32_t buf_size;
    struct frag_range ranges[IPFRAG_MAX_RANGES];
    unsigned nranges;
};

struct ipfrag_table {
    struct ipfrag_config cfg;
    struct frag_datagram *slots;
    uint8_t *done;      /* last completed datagram, handed to the caller */
    struct ipfrag_stats stats;
};

struct ipfrag_table *ipfrag_new(const struct ipfrag_config *cfg)
{
    struct ipfrag_table *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    t->cfg = *cfg;
    if (t->cfg.max_datagrams == 0)
        t->cfg.max_datagrams = 1;
    t->slots = calloc(t->cfg.max_datagrams, sizeof(*t->slots));
    if (!t->slots) {
        free(t);
        return NULL;
    }
    return t;
}

static void datagram_drop(struct ipfrag_table *t, struct frag_datagram *dg)
{
    t->stats.bytes_now -= dg->buf_size;
    t->stats.datagrams_now--;
    free(dg->buf);
    memset(dg, 0, sizeof(*dg));
}

void ipfrag_free(struct ipfrag_table *t)
{
    if (!t)
        return;
    for (uint32_t i = 0; i < t->cfg.max_datagrams; i++)
        free(t->slots[i].buf);
    free(t->slots);
    free(t->done);
    free(t);
}

void ipfrag_expire(struct ipfrag_table *t, int64_t now_ns)
{
    for (uint32_t i = 0; i < t->cfg.max_datagrams; i++) {
        struct frag_datagram *dg = &t->slots[i];
        if (dg->used && now_ns - dg->first_ns > t->cfg.timeout_ns) {
            datagram_drop(t, dg);
            t->stats.timed_out++;
        }
    }
}

const struct ipfrag_stats *ipfrag_stats(const struct ipfrag_table *t)
{
    return &t->stats;
}

/* Finds the datagram for a key, or claims a slot for it (evicting the
 * oldest when all are taken).  Never fails. */
static struct frag_datagram *datagram_get(struct ipfrag_table *t, const struct ft_addr *src,
                                          const struct ft_addr *dst, uint8_t proto, uint32_t id,
                                          int64_t now_ns)
{
    struct frag_datagram *free_slot = NULL, *oldest = NULL;
    for (uint32_t i = 0; i < t->cfg.max_datagrams; i++) {
        struct frag_datagram *dg = &t->slots[i];
        if (!dg->used) {
            if (!free_slot)
                free_slot = dg;
            continue;
        }
        if (dg->id == id && dg->proto == proto && ft_addr_eq(&dg->src, src) &&
            ft_addr_eq(&dg->dst, dst))
            return dg;
        if (!oldest || dg->first_ns < oldest->first_ns)
            oldest = dg;
    }
    if (!free_slot) {
        datagram_drop(t, oldest);
        t->stats.evicted++;
        free_slot = oldest;
    }
    free_slot->used = true;
    free_slot->src = *src;
    free_slot->dst = *dst;
    free_slot->proto = proto;
    free_slot->id = id;
    free_slot->first_ns = now_ns;
    t->stats.datagrams_now++;
    return free_slot;
}

/* Makes room for `need` bytes in dg->buf, within the global byte cap. */
static bool datagram_reserve(struct ipfrag_table *t, struct frag_datagram *dg, uint32_t need)
{
    uint32_t size;
    uint8_t *nb;
    if (need <= dg->buf_size)
        return true;
    size = dg->buf_size ? dg->buf_size : 2048;
    while (size < need)
        size *= 2;
    if (size > IPFRAG_MAX_SIZE)
        size = IPFRAG_MAX_SIZE;
    /* Over the global cap: evict other datagrams, oldest first. */
    while (t->stats.bytes_now - dg->buf_size + size > t->cfg.max_bytes) {
        struct frag_datagram *oldest = NULL;
        for (uint32_t i = 0; i < t->cfg.max_datagrams; i++) {
            struct frag_datagram *o = &t->slots[i];
            if (o->used && o != dg && (!oldest || o->first_ns < oldest->first_ns))
                oldest = o;
        }
        if (!oldest)
            return false;
        datagram_drop(t, oldest);
        t->stats.evicted++;
    }
    nb = realloc(dg->buf, size);
    if (!nb)
        return false;
    if (size > dg->buf_size)
        memset(nb + dg->buf_size, 0, size - dg->buf_size);
    t->stats.bytes_now += size - dg->buf_size;
    dg->buf = nb;
    dg->buf_size = size;
    return true;
}

/* Whether [start,end) touches bytes already held. */
static bool datagram_overlaps(const struct frag_datagram *dg, uint32_t start, uint32_t end)
{
    for (unsigned i = 0; i < dg->nranges; i++)
        if (dg->ranges[i].start < end && start < dg->ranges[i].end)
            return true;
    return false;
}

/* RFC 5722: an IPv6 datagram with overlapping fragments is discarded
 * whole, silently, and so is every fragment of it still to come. */
static void datagram_discard(struct ipfrag_table *t, struct frag_datagram *dg)
{
    t->stats.bytes_now -= dg->buf_size;
    free(dg->buf);
    dg->buf = NULL;
    dg->buf_size = 0;
    dg->nranges = 0;
    dg->discarded = true;
    t->stats.overlap_discarded++;
}

/* Copies the parts of [start,end) not yet filled (first data wins) and
 * merges the range list.  Returns false if the range list is full. */
static bool datagram_fill(struct ipfrag_table *t, struct frag_datagram *dg, uint32_t start,
                          uint32_t end, const uint8_t *data)
{
    uint32_t pos = start;
    bool overlapped = false;
    struct frag_range merged[IPFRAG_MAX_RANGES + 1];
    unsigned n = 0, i;

    for (i = 0; i < dg->nranges && pos < end; i++) {
        const struct frag_range *r = &dg->ranges[i];
        if (r->end <= pos)
            continue;
        if (r->start >= end)
            break;
        if (r->start > pos)
            memcpy(dg->buf + pos, data + (pos - start), r->start - pos);
        overlapped = true;
        pos = r->end;
    }
    if (pos < end)
        memcpy(dg->buf + pos, data + (pos - start), end - pos);
    if (overlapped)
        t->stats.overlaps++;

    /* Insert [start,end) into the sorted list and coalesce. */
    struct frag_range add = { start, end };
    bool placed = false;
    for (i = 0; i < dg->nranges; i++) {
        struct frag_range r = dg->ranges[i];
        if (!placed && add.start <= r.start) {
            merged[n++] = add;
            placed = true;
        }
        merged[n++] = r;
    }
    if (!placed)
        merged[n++] = add;
    unsigned out = 0;
    for (i = 0; i < n; i++) {
        if (out > 0 && merged[i].start <= merged[out - 1].end) {
            if (merged[i].end > merged[out - 1].end)
                merged[out - 1].end = merged[i].end;
        } else {
            merged[out++] = merged[i];
        }
    }
    if (out > IPFRAG_MAX_RANGES)
        return false;
    memcpy(dg->ranges, merged, out * sizeof(merged[0]));
    dg->nranges = out;
    return true;
}

bool ipfrag_add(struct ipfrag_table *t, const struct ft_addr *src, const struct ft_addr *dst,
                uint8_t proto, uint32_t id, uint32_t offset, bool more, const uint8_t *data,
                uint32_t len, int64_t now_ns, const uint8_t **out, uint32_t *out_len)
{
    struct frag_datagram *dg;
    uint32_t end;

    free(t->done);
    t->done = NULL;
    t->stats.fragments++;
    if (offset > IPFRAG_MAX_SIZE || len > IPFRAG_MAX_SIZE - offset) {
        t->stats.invalid++;
        return false;
    }
    end = offset + len;
    dg = datagram_get(t, src, dst, proto, id, now_ns);
    if (dg->discarded) {
        t->stats.overlaps++;
        return false;
    }
    if (src->family == 6 && len > 0 && datagram_overlaps(dg, offset, end)) {
        t->stats.overlaps++;
        datagram_discard(t, dg);
        return false;
    }
    if (!more) {
        /* A second, different end, or data already held past this end. */
        if ((dg->have_last && dg->total_len != end) ||
            (dg->nranges > 0 && dg->ranges[dg->nranges - 1].end > end)) {
            t->stats.invalid++;
            datagram_drop(t, dg);
            return false;
        }
        dg->have_last = true;
        dg->total_len = end;
    } else if (dg->have_last && end > dg->total_len) {
        t->stats.invalid++;
        datagram_drop(t, dg);
        return false;
    }
    if (len > 0) {
        if (!datagram_reserve(t, dg, end) || !datagram_fill(t, dg, offset, end, data)) {
            t->stats.invalid++;
            datagram_drop(t, dg);
            return false;
        }
    }
    if (!dg->have_last || dg->nranges != 1 || dg->ranges[0].start != 0 ||
        dg->ranges[0].end != dg->total_len)
        return false;

    /* Complete: hand the buffer over and free the slot. */
    t->done = dg->buf;
    *out = dg->buf;
    *out_len = dg->total_len;
    t->stats.bytes_now -= dg->buf_size;
    t->stats.datagrams_now--;
    t->stats.completed++;
    memset(dg, 0, sizeof(*dg));
    return true;
}
