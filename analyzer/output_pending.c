/*
 * output_pending.c - XMPP events of open connections, spooled (see
 * output_pending.h).
 *
 * Spool record: int64_t previous record's offset (-1: first), uint32_t
 * length, then the bytes.  A connection's record in memory is 48 bytes,
 * in a table at most half full.
 */
#include "output_pending.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

struct rec_head {
    int64_t prev;
    uint32_t len;
    uint32_t zero; /* padding, written as 0 */
};

#define PENDING_MAX_EVENT (1u << 20) /* longer records are not stored */

static uint64_t mix(uint64_t h)
{
    h ^= h >> 33;
    h *= UINT64_C(0xff51afd7ed558ccd);
    h ^= h >> 33;
    h *= UINT64_C(0xc4ceb9fe1a85ec53);
    h ^= h >> 33;
    return h;
}

static uint32_t home(const struct pending_store *ps, uint64_t flow_id)
{
    return (uint32_t)(mix(flow_id ^ ps->seed) & (ps->cap - 1));
}

int pending_init(struct pending_store *ps)
{
    memset(ps, 0, sizeof(*ps));
    if (getrandom(&ps->seed, sizeof(ps->seed), GRND_NONBLOCK) != (ssize_t)sizeof(ps->seed))
        ps->seed = (uint64_t)(uintptr_t)ps ^ UINT64_C(0x9e3779b97f4a7c15);
    return spool_open(&ps->spool);
}

/* Doubles the table (or makes the first one).  false on no memory. */
static bool grow(struct pending_store *ps)
{
    uint32_t ncap = ps->cap ? ps->cap * 2 : 1024;
    struct pending_conn *old = ps->slot, *ns;
    uint32_t ocap = ps->cap;
    if (ncap < ps->cap)
        return false;
    ns = calloc(ncap, sizeof(*ns));
    if (!ns)
        return false;
    ps->slot = ns;
    ps->cap = ncap;
    for (uint32_t i = 0; i < ocap; i++) {
        uint32_t j;
        if (!old[i].flow_id)
            continue;
        for (j = home(ps, old[i].flow_id); ns[j].flow_id; j = (j + 1) & (ncap - 1))
            ;
        ns[j] = old[i];
    }
    free(old);
    return true;
}

struct pending_conn *pending_get(struct pending_store *ps, uint64_t flow_id, bool create)
{
    uint32_t i;
    if (flow_id == 0)
        return NULL;
    if (ps->cap) {
        for (i = home(ps, flow_id); ps->slot[i].flow_id; i = (i + 1) & (ps->cap - 1))
            if (ps->slot[i].flow_id == flow_id)
                return &ps->slot[i];
    }
    if (!create)
        return NULL;
    if ((uint64_t)(ps->used + 1) * 2 > ps->cap && !grow(ps))
        return NULL;
    for (i = home(ps, flow_id); ps->slot[i].flow_id; i = (i + 1) & (ps->cap - 1))
        ;
    memset(&ps->slot[i], 0, sizeof(ps->slot[i]));
    ps->slot[i].flow_id = flow_id;
    ps->slot[i].newest = -1;
    ps->used++;
    return &ps->slot[i];
}

int pending_add(struct pending_store *ps, struct pending_conn *pc, const void *data, size_t n)
{
    struct rec_head h = { pc->newest, (uint32_t)n, 0 };
    int64_t off;
    if (n > PENDING_MAX_EVENT)
        return -1;
    off = spool_append(&ps->spool, &h, sizeof(h));
    if (off < 0 || spool_append(&ps->spool, data, n) < 0)
        return -1;
    pc->newest = off;
    pc->events++;
    if (n > ps->longest)
        ps->longest = (uint32_t)n;
    return 0;
}

/* Removes slot i, shifting back the entries of its probe run. */
static void remove_at(struct pending_store *ps, uint32_t i)
{
    uint32_t mask = ps->cap - 1, j = i;
    for (;;) {
        uint32_t k;
        j = (j + 1) & mask;
        if (!ps->slot[j].flow_id)
            break;
        k = home(ps, ps->slot[j].flow_id);
        /* Move j into the hole at i unless its home lies in (i, j]. */
        if ((j > i && (k <= i || k > j)) || (j < i && k <= i && k > j)) {
            ps->slot[i] = ps->slot[j];
            i = j;
        }
    }
    memset(&ps->slot[i], 0, sizeof(ps->slot[i]));
    ps->used--;
}

bool pending_take(struct pending_store *ps, uint64_t flow_id, struct pending_conn *out,
                  pending_event_fn fn, void *user)
{
    struct pending_conn *pc = pending_get(ps, flow_id, false);
    uint32_t n = 0;

    if (!pc)
        return false;
    *out = *pc;
    remove_at(ps, (uint32_t)(pc - ps->slot));
    if (out->events == 0)
        return true;
    if (out->events > ps->offs_cap) {
        int64_t *no = realloc(ps->offs, (size_t)out->events * sizeof(*no));
        if (!no)
            return true;
        ps->offs = no;
        ps->offs_cap = out->events;
    }
    if ((size_t)ps->longest + 1 > ps->buf_cap) {
        char *nb = realloc(ps->buf, (size_t)ps->longest + 1);
        if (!nb)
            return true;
        ps->buf = nb;
        ps->buf_cap = (size_t)ps->longest + 1;
    }
    /* Newest to oldest through the back pointers, then replay forwards. */
    for (int64_t off = out->newest; off >= 0 && n < out->events; n++) {
        struct rec_head h;
        ps->offs[n] = off;
        if (spool_read(&ps->spool, (uint64_t)off, &h, sizeof(h)) != 0 || h.prev >= off)
            return true;
        off = h.prev;
    }
    while (n-- > 0) {
        struct rec_head h;
        if (spool_read(&ps->spool, (uint64_t)ps->offs[n], &h, sizeof(h)) != 0 || h.len > ps->longest ||
            spool_read(&ps->spool, (uint64_t)ps->offs[n] + sizeof(h), ps->buf, h.len) != 0)
            return true;
        ps->buf[h.len] = '\0';
        fn(user, ps->buf, h.len);
    }
    return true;
}

void pending_free(struct pending_store *ps)
{
    free(ps->buf);
    free(ps->offs);
    ps->buf = NULL;
    ps->offs = NULL;
    ps->buf_cap = ps->offs_cap = 0;
    free(ps->slot);
    ps->slot = NULL;
    ps->cap = ps->used = 0;
    spool_close(&ps->spool);
}
