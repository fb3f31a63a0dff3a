/*
 * corr_timer.c - the correlator's timer queue (see corr_timer.h): a binary
 * min-heap of packet times, sifted iteratively.
 */
#include "corr_timer.h"

#include <stdlib.h>
#include <string.h>

void timer_queue_init(struct timer_queue *q, uint32_t max)
{
    memset(q, 0, sizeof(*q));
    q->max = max;
}

void timer_queue_free(struct timer_queue *q)
{
    free(q->at);
    q->at = NULL;
    q->n = q->cap = 0;
}

void timer_push(struct timer_queue *q, int64_t at, uint64_t flow_id)
{
    struct timer t = { at, flow_id };
    uint32_t i;
    if (q->n >= q->max) {
        q->dropped++;
        return;
    }
    if (q->n == q->cap) {
        uint32_t nc = q->cap ? q->cap * 2 : 64;
        struct timer *na;
        if (nc > q->max)
            nc = q->max;
        na = realloc(q->at, (size_t)nc * sizeof(*na));
        if (!na) {
            q->dropped++;
            return;
        }
        q->at = na;
        q->cap = nc;
    }
    i = q->n++;
    while (i > 0 && q->at[(i - 1) / 2].at > at) {
        q->at[i] = q->at[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    q->at[i] = t;
}

static void pop_min(struct timer_queue *q)
{
    struct timer last = q->at[--q->n];
    uint32_t i = 0;
    for (;;) {
        uint32_t l = 2 * i + 1, m = i;
        int64_t v = last.at;
        if (l < q->n && q->at[l].at < v) {
            m = l;
            v = q->at[l].at;
        }
        if (l + 1 < q->n && q->at[l + 1].at < v)
            m = l + 1;
        if (m == i)
            break;
        q->at[i] = q->at[m];
        i = m;
    }
    if (q->n)
        q->at[i] = last;
}

bool timer_pop_due(struct timer_queue *q, int64_t now, struct timer *out)
{
    if (!q->n || q->at[0].at > now)
        return false;
    *out = q->at[0];
    pop_min(q);
    return true;
}

int64_t timer_next(const struct timer_queue *q)
{
    return q->n ? q->at[0].at : INT64_MAX;
}
