/*
 * corr_timeline.h - the timeline of a direction (struct corr_tl lines in
 * the direction's array, owned by it): one line per frame of a flow,
 * several events of one segment joined.
 */
#ifndef FT_CORR_TIMELINE_H
#define FT_CORR_TIMELINE_H

#include "judge.h"

void timeline_add(struct dctx *x, const struct frame_ref *r, uint64_t flow_id, uint64_t dns_id,
                  enum fed_stage st, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
void timeline_add_tcp(struct dctx *x, const struct cconn *k, enum fed_stage st_tcp);
void timeline_add_conn(struct dctx *x, const struct cconn *k, enum fed_stage st_tcp);
void timeline_add_event(struct dctx *x, const struct cconn *k, const struct cev *e);
void timeline_add_lookup(struct dctx *x, const struct clookup *l);
/* A line of an earlier judgement (d->carry) joins the timeline unless
 * its (frame, flow, lookup) is there already; its text is borrowed. */
void timeline_add_carried(struct dctx *x, const struct corr_tl *t);
/* Before the first line: sizes the one-line-per-frame index for `lines`
 * lines (the direction's last timeline), so it need not be rebuilt as it
 * grows.  Only a hint: without memory the index grows as before. */
void timeline_index_reserve(struct dctx *x, unsigned lines);
/* qsort order of timeline lines: time, frame, text. */
int timeline_cmp(const void *a, const void *b);
/* Sorts a timeline by timeline_cmp, stably (as glibc's merge-sort qsort
 * does): free when the lines are already in order, linear when only a few
 * are out of place, qsort otherwise. */
void timeline_sort(struct corr_tl *t, unsigned n);
/* After trimming, while the facts are alive: copies the text of every
 * line (borrowed ones included) into one block the direction owns
 * (timeline_text); a line without text is dropped. */
void timeline_materialize(struct corr_direction *d);

#endif
