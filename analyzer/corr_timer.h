/*
 * corr_timer.h - the correlator's timer queue: a binary min-heap of packet
 * times at which some verdict may change without a new fact (the last SYN
 * retransmission's timeout, an unanswered db:result or subscribe, a
 * connection going idle).  on_time pops what is due: O(log n) a timer, no
 * scan.  The heap owns its array; free with timer_queue_free().
 */
#ifndef FT_CORR_TIMER_H
#define FT_CORR_TIMER_H

#include <stdbool.h>
#include <stdint.h>

struct timer {
    int64_t at;
    uint64_t flow_id;          /* 0: none in particular */
};

struct timer_queue {
    struct timer *at;          /* owned; heap order, at[0] the earliest */
    uint32_t n, cap;
    uint32_t max;              /* timers kept; beyond, the latest are dropped */
    uint64_t dropped;          /* timers not kept (the cap bit) */
};

void timer_queue_init(struct timer_queue *q, uint32_t max);
void timer_queue_free(struct timer_queue *q);
/* Adds a timer firing at `at`.  When the queue is full or memory runs out
 * the timer is counted in `dropped` (a later fact or the end of input
 * still judges what it would have). */
void timer_push(struct timer_queue *q, int64_t at, uint64_t flow_id);
/* Removes the earliest timer when it is due at or before now: true and
 * *out, or false. */
bool timer_pop_due(struct timer_queue *q, int64_t now, struct timer *out);
/* The earliest timer, or INT64_MAX when none. */
int64_t timer_next(const struct timer_queue *q);

#endif
