/*
 * corr_stream.c - the streaming engine: judging rounds on packet time,
 * verdict events, retirement.
 *
 * A round runs identity (s2s/c2s, NAT pairs, address book, names) and the
 * registry over the facts kept, then judges each direction those facts
 * touch, with "now" as the end of the capture so far: of a federation
 * none of whose facts moved, none; of one that moved, each direction but
 * those whose ok verdict read nothing that moved (direction_stands).  A verdict that is
 * decided (ok or failed) and differs from the last one sent goes out as an
 * event stamped with the round's packet time.  Directions whose handshake
 * is still going (a SYN not yet answered, not yet timed out) wait.
 *
 * A round is full (reads every fact kept) or partial: a partial round
 * reads what the connections say again but keeps what the lookups said
 * (the DNS layer of the book, the lookup joins) and adds only the new
 * lookups; lookups freed meanwhile leave holes a full round closes.
 *
 * Rounds run from corr_on_time when a fact arrived or a timer fired, at
 * most once per round_interval, and, since a round costs the size of what
 * is kept, once more than ROUND_FREE_FACTS are kept only when as many
 * facts arrived since the last one (or max_lag passed): the total work
 * stays linear in the facts, about twice the one batch pass.  After a round, ended connections idle for idle_timeout and
 * lookups as old are freed (earlier when the connection cap is near); a
 * direction none of whose facts is left retires with its verdict and its
 * timeline (every judged timeline is cut to its first and last
 * timeline_keep lines, the failing ones and where each stage passed);
 * judged again, a direction remembers what its retired facts showed
 * (judge_carry.c).  A federation all of whose
 * directions retired goes to the retired sink and is freed (a later fact
 * of the same pair starts a new one); without a sink, retired federations
 * beyond max_federations leave the document (counted).
 *
 * The final round (corr_finish) judges every direction of the facts kept
 * as the batch pass did, and orders the federations as it did.
 */
#include "corr_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Below this many facts kept a round is cheap enough to run whenever the
 * round interval allows. */
#define ROUND_FREE_FACTS 4096

/* ---- timers ------------------------------------------------------------- */

static int64_t syn_wait(const struct correlator *c, const struct cconn *k)
{
    int64_t w = 2 * k->syn_gap_ns;
    return w > c->cfg.syn_timeout_ns ? w : c->cfg.syn_timeout_ns;
}

/* The last SYN may still be answered: the connection's fate is open. */
static bool in_handshake(const struct correlator *c, const struct cconn *k, int64_t now)
{
    return k->syn.frame && !k->synack.frame && !k->rst.frame && !k->ended && k->nev == 0 &&
           now < k->last_syn_ns + syn_wait(c, k);
}

void stream_conn_timers(struct correlator *c, const struct cconn *k)
{
    if (k->syn.frame && !k->synack.frame && !k->rst.frame && !k->ended && k->last_syn_ns)
        timer_push(&c->timers, k->last_syn_ns + syn_wait(c, k), k->flow_id);
}

void stream_event_timers(struct correlator *c, const struct cconn *k, const struct cev *e)
{
    if (e->type == CEV_DB_RESULT && e->dir == FT_DIR_ORIG && e->sub == XMPP_DB_NONE)
        timer_push(&c->timers, e->ref.ts_ns + c->cfg.dialback_timeout_ns + 1, k->flow_id);
    else if (e->type == CEV_STANZA && e->flags == XMPP_STANZA_PRESENCE && e->sub == XMPP_PRES_SUBSCRIBE)
        timer_push(&c->timers, e->ref.ts_ns + c->cfg.subscribe_timeout_ns + 1, k->flow_id);
}

/* ---- the stop flag ------------------------------------------------------ */

/* Once the stop flag is seen, judging goes on for a second at most. */
static bool stop_now(struct correlator *c)
{
    struct timespec now;
    if (!c->cfg.stop || !*c->cfg.stop)
        return false;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (!c->stop_seen) {
        c->stop_seen = true;
        c->stop_deadline = now;
        c->stop_deadline.tv_sec += (time_t)(c->cfg.stop_grace_ns / FT_NS_PER_SEC);
        c->stop_deadline.tv_nsec += (long)(c->cfg.stop_grace_ns % FT_NS_PER_SEC);
        if (c->stop_deadline.tv_nsec >= 1000000000L) {
            c->stop_deadline.tv_sec++;
            c->stop_deadline.tv_nsec -= 1000000000L;
        }
        if (c->cfg.stop_grace_ns > 0)
            return false;
    }
    return now.tv_sec > c->stop_deadline.tv_sec ||
           (now.tv_sec == c->stop_deadline.tv_sec && now.tv_nsec >= c->stop_deadline.tv_nsec);
}

/* A direction the run was stopped before judging: unknown, and says so. */
static void leave_unjudged(struct correlator *c, struct corr_direction *d)
{
    d->verdict.status = CORR_UNKNOWN;
    d->verdict.stage = STAGE_LOOKUP;
    d->verdict.code = VERDICT_CAP_NOTHING;
    d->verdict.confidence = "low";
    d->verdict.summary = "not judged: the run was stopped before this direction's turn";
    for (int s = 0; s < STAGE_COUNT; s++)
        d->stage_detail[s] = "";
    d->verdict.vars.from = d->verdict.vars.local = d->from;
    d->verdict.vars.to = d->verdict.vars.remote = d->to;
    c->stats.directions_unjudged++;
}

/* ---- directions --------------------------------------------------------- */

static void direction_clear(struct corr_direction *d)
{
    if (d->timeline_text) { /* the lines' text is one block */
        free(d->timeline_text);
        d->timeline_text = NULL;
    } else {
        for (unsigned t = 0; t < d->n_timeline; t++)
            if (!d->timeline[t].lent)
                free(d->timeline[t].what);
    }
    d->n_timeline = 0;
    d->timeline_elided = 0;
    d->n_nat = 0;
    free(d->text);
    d->text = NULL;
    memset(&d->verdict, 0, sizeof(d->verdict));
    memset(d->stages, 0, sizeof(d->stages));
    for (int s = 0; s < STAGE_COUNT; s++)
        d->stage_detail[s] = NULL;
}

static void direction_free(struct corr_direction *d)
{
    direction_clear(d);
    free(d->timeline);
    d->timeline = NULL;
    d->cap_timeline = 0;
    carry_free(d->carry);
    d->carry = NULL;
}

void stream_federation_free(struct corr_federation *f)
{
    for (unsigned d = 0; d < f->n_dir; d++)
        direction_free(&f->dir[d]);
    free(f);
}

static int fed_rank(enum corr_status s)
{
    return s == CORR_FAILED ? 2 : s == CORR_UNKNOWN ? 1 : 0;
}

/* The federation's verdict is its worst direction's. */
static void fed_worst(struct corr_federation *f)
{
    int worst = -1;
    for (unsigned j = 0; j < f->n_dir; j++) {
        if (fed_rank(f->dir[j].verdict.status) > worst) {
            worst = fed_rank(f->dir[j].verdict.status);
            f->verdict = &f->dir[j].verdict;
        }
    }
}

static void settle_federation(struct correlator *c, struct corr_federation *f)
{
    fed_worst(f);
    identity_decide_roles(c, f);
}

/* Sends d's verdict when it differs from the last one sent. */
static void emit(struct correlator *c, const struct corr_federation *f, struct corr_direction *d, int64_t when)
{
    struct corr_verdict_change chg = { when, d->emitted, d->emitted_status, d->emitted_code };
    if (d->emitted && d->emitted_status == d->verdict.status && d->emitted_code == d->verdict.code &&
        d->emitted_stage == d->verdict.stage)
        return;
    d->emitted = true;
    d->emitted_status = d->verdict.status;
    d->emitted_code = d->verdict.code;
    d->emitted_stage = d->verdict.stage;
    c->stats.verdict_events++;
    if (c->verdict_fn) {
        uint64_t t0 = corr_mono_ns();
        c->verdict_fn(c->verdict_ctx, f, d, &chg);
        c->handed_ns += corr_mono_ns() - t0;
    }
}

/* A judged direction keeps the first and last `keep` lines of its
 * timeline, the failing ones and the key ones (where a stage passed; the
 * middle of a long run is counted in timeline_elided), without slack: what a direction holds between rounds
 * does not grow with its connections. */
static void trim_timeline(struct correlator *c, struct corr_direction *d)
{
    unsigned keep = c->cfg.timeline_keep, w = 0;
    if (!c->cfg.full_timeline && d->n_timeline > 2 * keep) { /* -V: nothing elided */
        for (unsigned i = 0; i < d->n_timeline; i++) {
            if (i < keep || i >= d->n_timeline - keep || d->timeline[i].failing || d->timeline[i].key) {
                d->timeline[w++] = d->timeline[i];
            } else {
                if (!d->timeline[i].lent)
                    free(d->timeline[i].what);
                d->timeline_elided++;
            }
        }
        d->n_timeline = w;
    }
    timeline_materialize(d);
    if (d->cap_timeline > d->n_timeline) {
        /* A fresh right-sized array, not a shrunk one: realloc would leave
         * the small array where the large one was, splitting the heap;
         * copying lets the large block go back whole. */
        struct corr_tl *tl = d->n_timeline ? malloc(d->n_timeline * sizeof(*tl)) : NULL;
        if (tl || !d->n_timeline) {
            if (tl)
                memcpy(tl, d->timeline, d->n_timeline * sizeof(*tl));
            free(d->timeline);
            d->timeline = tl;
            d->cap_timeline = d->n_timeline;
        }
    }
}

static void judge_and_trim(struct correlator *c, struct corr_direction *d)
{
    judge_direction(c, d);
    trim_timeline(c, d);
}

static void retire_direction(struct correlator *c, const struct corr_federation *f, struct corr_direction *d)
{
    if (!d->verdict.summary)
        judge_and_trim(c, d); /* never judged (it only waited): what is left decides */
    emit(c, f, d, c->now_ns);
    c->stats.timelines_elided += d->timeline_elided;
    d->retired = true;
    c->stats.directions_retired++;
}

/* ---- identity and the registry, per round -------------------------------- */

/* A full round forgets what the lookups said and reads them all again;
 * a partial one keeps it and reads only the lookups that arrived since
 * (lookups_indexed).  What the connections say is read again in every
 * round: connections are few beside the lookups of a busy network. */
static void reset_identity(struct correlator *c, bool full)
{
    for (unsigned i = 0; i < c->nconns; i++) {
        struct cconn *k = c->conns[i];
        k->s2s = k->c2s = k->secondary = false;
        k->nat_peer = NULL;
        k->dom_from = k->dom_to = NULL;
    }
    book_layer_clear(&c->book);
    if (full) {
        book_layer_clear(&c->dns_book);
        corr_index_clear(&c->lookup_dom_ix);
        corr_index_clear(&c->ans_addr_ix);
        c->lookups_indexed = 0;
    }
    corr_index_clear(&c->dir_conn_ix);
    corr_index_clear(&c->verify_ix);
    corr_index_clear(&c->sub_ix);
    corr_index_clear(&c->csub_ix);
    corr_index_clear(&c->answer_ix);
    corr_index_clear(&c->role_ix);
    c->stats.s2s_conns = c->retired_s2s;
    c->stats.c2s_conns = c->retired_c2s;
    c->stats.nat_pairs = c->retired_nat_pairs;
    c->stats.nat_candidates_capped = 0;
    c->stats.nat_ambiguous = 0;
}

struct touched {
    struct corr_federation **f;
    unsigned n, cap;
};

/* Meets direction from -> to (creating it); its federation is dirty when
 * the fact that names it changed since the federation was judged. */
static void touch(struct correlator *c, struct touched *t, const char *from, const char *to, uint64_t seq,
                  bool side)
{
    struct corr_federation *f = NULL;
    struct corr_direction *d = registry_dir_get(c, from, to, &f);
    if (!d || !f)
        return;
    if (seq > f->judged_seq || !d->verdict.summary)
        f->dirty = true; /* changed, or new */
    if (side && seq > f->side_seq)
        f->side_seq = seq;
    /* A federation's directions in the order this round first meets them
     * (an earlier round may have met them the other way round). */
    if (d->round != c->round && d == &f->dir[1] && f->dir[0].round != c->round) {
        struct corr_direction tmp = f->dir[0];
        f->dir[0] = f->dir[1];
        f->dir[1] = tmp;
        d = &f->dir[0];
    }
    d->round = c->round;
    if (f->round == c->round)
        return;
    f->round = c->round;
    if (corr_grow((void **)&t->f, &t->cap, t->n + 1, sizeof(*t->f)))
        t->f[t->n++] = f;
}

/* The directions the facts kept speak for, in the batch pass's order:
 * from connections, from lookups that led nowhere, from what users asked
 * for on client connections. */
static void touch_directions(struct correlator *c, struct touched *t)
{
    char from[STR_CAP], to[STR_CAP];
    for (unsigned i = 0; i < c->nconns; i++) {
        struct cconn *k = c->conns[i];
        uint64_t h = 0;
        if (!k->s2s)
            continue;
        /* A connection renamed (the book learned its address) changed. */
        for (const char *p = k->dom_from ? k->dom_from : ""; *p; p++)
            h = (h ^ (uint8_t)*p) * UINT64_C(1099511628211);
        h = (h ^ 0xff) * UINT64_C(1099511628211);
        for (const char *p = k->dom_to ? k->dom_to : ""; *p; p++)
            h = (h ^ (uint8_t)*p) * UINT64_C(1099511628211);
        if (h != k->name_hash) {
            k->name_hash = h;
            k->changed_seq = ++c->fact_seq;
        }
        if (!k->secondary) {
            touch(c, t, k->dom_from, k->dom_to, k->changed_seq, false);
        } else if (k->dom_from && k->dom_to) {
            struct corr_federation *f = stream_fed_find(c, k->dom_from, k->dom_to);
            if (f && k->changed_seq > f->judged_seq)
                f->dirty = true;
            if (f && k->changed_seq > f->side_seq)
                f->side_seq = k->changed_seq;
        }
    }
    for (unsigned i = 0; i < c->nlookups; i++)
        if (c->lookups[i] && stream_lookup_direction(c, c->lookups[i], from, to))
            touch(c, t, from, to, c->lookups[i]->added_seq, false);
    for (unsigned i = 0; i < c->nconns; i++) {
        const struct cconn *k = c->conns[i];
        if (!k->c2s || !k->has_joins || !identity_c2s_domain(k, from, sizeof(from)))
            continue;
        for (unsigned e = 0; e < k->nev; e++)
            if (identity_c2s_subscribe_to(k, e, from, to, sizeof(to)))
                touch(c, t, from, to, k->changed_seq, true);
    }
}

/* A direction waits while one of its connections is in its handshake. */
static bool direction_waits(const struct correlator *c, const struct corr_direction *d, int64_t now)
{
    for (uint32_t h = registry_dir_conns(c, d->from, d->to); h; h = corr_index_next(&c->dir_conn_ix, h))
        if (in_handshake(c, c->conns[corr_index_val(&c->dir_conn_ix, h)->a], now))
            return true;
    return false;
}

/* A lookup about one of f's receiving domains arrived since f was judged,
 * among the first 64 the lookup judge reads (struct dctx lk). */
static bool new_lookups(struct correlator *c, const struct corr_federation *f)
{
    char key[STR_CAP];
    for (unsigned j = 0; j < f->n_dir; j++) {
        size_t n = corr_index_key1(key, sizeof(key), f->dir[j].to);
        struct corr_index_key *node = corr_index_key_node(&c->lookup_dom_ix, key, n);
        const struct clookup *newest;
        unsigned seen = 0;
        if (!node)
            continue;
        /* The list is in arrival order: when its newest lookup is not
         * new, none is (the common case, one look). */
        newest = c->lookups[c->lookup_dom_ix.vals[node->last - 1].a];
        if (newest && newest->added_seq <= f->judged_seq)
            continue;
        for (uint32_t h = corr_index_first(&c->lookup_dom_ix, key, n); h && seen < 64;
             h = corr_index_next(&c->lookup_dom_ix, h)) {
            const struct clookup *l = c->lookups[corr_index_val(&c->lookup_dom_ix, h)->a];
            if (!l)
                continue; /* freed */
            seen++;
            if (l->added_seq > f->judged_seq)
                return true;
        }
    }
    return false;
}

/* ---- which directions to judge again ------------------------------------ */

static uint64_t sig_mix(uint64_t h, uint64_t v)
{
    h ^= v;
    h *= UINT64_C(0x100000001b3);
    return h ^ (h >> 29);
}

/* A digest of the facts judging d reads besides the book: the s2s
 * connections either way between its domains (each with its last
 * change) and the first 64 lookups kept about its receiving domain (the
 * ones judge_direction takes). */
static uint64_t direction_inputs(const struct correlator *c, const struct corr_direction *d)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    char key[STR_CAP];
    size_t n;
    unsigned seen = 0;
    for (int way = 0; way < 2; way++) {
        const char *from = way ? d->to : d->from, *to = way ? d->from : d->to;
        h = sig_mix(h, 0x5eed + (uint64_t)way);
        for (uint32_t r = registry_dir_conns(c, from, to); r; r = corr_index_next(&c->dir_conn_ix, r)) {
            const struct cconn *k = c->conns[corr_index_val(&c->dir_conn_ix, r)->a];
            h = sig_mix(sig_mix(h, k->flow_id), k->changed_seq);
        }
    }
    n = corr_index_key1(key, sizeof(key), d->to);
    for (uint32_t r = corr_index_first(&c->lookup_dom_ix, key, n); r && seen < 64; r = corr_index_next(&c->lookup_dom_ix, r)) {
        const struct clookup *l = c->lookups[corr_index_val(&c->lookup_dom_ix, r)->a];
        if (!l)
            continue; /* freed */
        seen++;
        h = sig_mix(h, l->added_seq);
    }
    return h;
}

/* A direction of a federation that moved (or any, in the final round)
 * keeps its verdict when nothing its judgement
 * read moved: the same connections either way with no change since, the
 * same lookups about its receiving domain, no client or NAT-twin
 * connection of the federation changed, and the verdict is ok without a
 * wait in it (a failed verdict's advice reads the address book, a wait
 * reads the clock).  With several capture points every direction is
 * judged again (the clock offsets move). */
static bool direction_stands(const struct correlator *c, const struct corr_federation *f,
                             const struct corr_direction *d)
{
    if (!d->verdict.summary || d->retired || d->read_clock || d->verdict.status != CORR_OK ||
        d->verdict.code != VERDICT_OK || f->side_seq > d->judged_seq || c->nsources > 1 || c->many_sources)
        return false;
    return direction_inputs(c, d) == d->inputs_sig;
}

/* ---- retirement --------------------------------------------------------- */

/* Free f's direction j and close the gap (the later ones move down). */
static void dir_remove(struct corr_federation *f, unsigned j)
{
    direction_free(&f->dir[j]);
    for (unsigned k = j; k + 1 < f->n_dir; k++)
        f->dir[k] = f->dir[k + 1];
    memset(&f->dir[f->n_dir - 1], 0, sizeof(f->dir[0]));
    f->n_dir--;
}

static void fed_index_rebuild(struct correlator *c)
{
    char key[2 * STR_CAP];
    corr_index_clear(&c->fed_ix);
    for (unsigned i = 0; i < c->nfeds; i++) {
        struct corr_federation *f = c->feds[i];
        corr_index_add(&c->fed_ix, key, registry_pair_key(key, f->domains[0], f->domains[1]), i, 0);
    }
}

static bool fed_retired(const struct corr_federation *f)
{
    for (unsigned j = 0; j < f->n_dir; j++)
        if (!f->dir[j].retired)
            return false;
    return true;
}

/* A federation retired for good: handed to the retired sink, then freed
 * (the caller forgets it). */
static void release_federation(struct correlator *c, struct corr_federation *f)
{
    uint64_t t0 = corr_mono_ns();
    c->retired_fn(c->retired_ctx, f);
    c->handed_ns += corr_mono_ns() - t0;
    c->stats.federations_released++;
    stream_federation_free(f);
}

/* Directions this round did not touch: retired when their facts were
 * freed (or their verdict was sent), dropped when they were only a
 * passing name (an address before the book knew its domain).  A
 * federation every direction of which retired goes to the retired sink;
 * without one, the cap on retired federations. */
static void retire_directions(struct correlator *c)
{
    unsigned w = 0, nretired = 0, over;
    bool changed = false;
    for (unsigned i = 0; i < c->nfeds; i++) {
        struct corr_federation *f = c->feds[i];
        for (unsigned j = 0; j < f->n_dir;) {
            struct corr_direction *d = &f->dir[j];
            if (d->round == c->round || d->retired) {
                j++;
                continue;
            }
            if (d->facts_freed || d->emitted) {
                retire_direction(c, f, d);
                j++;
                continue;
            }
            dir_remove(f, j);
        }
        if (f->n_dir == 0) {
            stream_federation_free(f);
            changed = true;
            continue;
        }
        fed_worst(f);
        if (fed_retired(f)) {
            if (c->retired_fn) {
                release_federation(c, f);
                changed = true;
                continue;
            }
            nretired++;
        }
        c->feds[w++] = f;
    }
    c->nfeds = w;
    over = nretired > c->cfg.max_federations ? nretired - c->cfg.max_federations : 0;
    if (over) {
        w = 0;
        for (unsigned i = 0; i < c->nfeds; i++) {
            struct corr_federation *f = c->feds[i];
            if (over && fed_retired(f)) {
                stream_federation_free(f);
                c->stats.federations_dropped++;
                over--;
                continue;
            }
            c->feds[w++] = f;
        }
        c->nfeds = w;
        changed = true;
    }
    if (changed)
        fed_index_rebuild(c);
}

/* Drops the directions of f that are neither touched by this round,
 * retired nor sent: passing names.  False when none is left. */
static bool drop_passing(struct correlator *c, struct corr_federation *f)
{
    for (unsigned j = 0; j < f->n_dir;) {
        struct corr_direction *d = &f->dir[j];
        if (d->round == c->round || d->retired || d->emitted || d->facts_freed) {
            if (d->round != c->round && !d->retired && d->facts_freed)
                retire_direction(c, f, d);
            j++;
            continue;
        }
        dir_remove(f, j);
    }
    return f->n_dir > 0;
}

/* The document's order: retired federations first (they ended first),
 * then the ones the final round touched in the batch pass's order; the
 * rest were passing names and go. */
static void final_order(struct correlator *c, const struct touched *t)
{
    unsigned w = 0;
    for (unsigned i = 0; i < c->nfeds; i++) {
        struct corr_federation *f = c->feds[i];
        if (f->round == c->round)
            continue;
        if (drop_passing(c, f)) {
            fed_worst(f);
            c->feds[w++] = f;
        } else {
            stream_federation_free(f);
        }
    }
    for (unsigned i = 0; i < t->n; i++)
        if (drop_passing(c, t->f[i])) {
            settle_federation(c, t->f[i]);
            c->feds[w++] = t->f[i];
        }
    c->nfeds = w;
    fed_index_rebuild(c);
}

/* ---- rounds ------------------------------------------------------------- */

void stream_round(struct correlator *c, int64_t now, bool final, bool full)
{
    struct touched t = { NULL, 0, 0 };

    full |= final;
    c->round++;
    c->timer_due = false; /* retire_facts may set it for the next round */
    if (!final)
        c->stats.rounds++;
    if (!full)
        c->stats.rounds_partial++;
    if (now > c->capture_end_ns)
        c->capture_end_ns = now;
    store_order_conns(c);
    if (full)
        stream_close_lookup_holes(c);
    reset_identity(c, full);
    if (full)
        stream_names_gc(c);
    identity_classify(c);
    nat_estimate_clocks(c);
    identity_pair_nat(c);
    identity_index_lookups(c);
    identity_learn_addresses(c);
    identity_pair_lookups(c);
    identity_name_by_lookups(c);
    identity_index_roles(c);
    identity_name_domains(c);
    identity_name_by_trigger(c);
    c->lookups_indexed = c->nlookups;
    registry_index_facts(c);
    touch_directions(c, &t);

    for (unsigned i = 0; i < t.n; i++) {
        struct corr_federation *f = t.f[i];
        bool judge = !final || !stop_now(c), waited = false;
        if (!final && !f->dirty && !new_lookups(c, f))
            continue; /* nothing it depends on moved: its verdict stands */
        for (unsigned j = 0; j < f->n_dir; j++) {
            struct corr_direction *d = &f->dir[j];
            if (d->round != c->round)
                continue;
            if (judge && direction_stands(c, f, d)) {
                d->facts_freed = false; /* as judging it again would */
                continue;
            }
            if (!final && direction_waits(c, d, now)) {
                waited = true;
                continue;
            }
            if (d->facts_freed || d->retired)
                carry_take(d); /* what its freed facts showed is remembered */
            direction_clear(d);
            d->retired = d->facts_freed = false;
            if (judge)
                judge_and_trim(c, d);
            else
                leave_unjudged(c, d);
            d->judged_seq = c->fact_seq;
            d->inputs_sig = direction_inputs(c, d);
        }
        settle_federation(c, f);
        if (!waited) {
            f->dirty = false;
            f->judged_seq = c->fact_seq;
        }
        if (final)
            continue;
        for (unsigned j = 0; j < f->n_dir; j++) {
            struct corr_direction *d = &f->dir[j];
            if (d->round == c->round && d->verdict.summary && d->verdict.status != CORR_UNKNOWN &&
                d->from[0] != '[' && d->to[0] != '[')
                emit(c, f, d, now);
        }
    }
    if (final) {
        final_order(c, &t);
        for (unsigned i = 0; i < c->nfeds; i++)
            for (unsigned j = 0; j < c->feds[i]->n_dir; j++) {
                if (!c->feds[i]->dir[j].retired) /* a retired one was counted then */
                    c->stats.timelines_elided += c->feds[i]->dir[j].timeline_elided;
                emit(c, c->feds[i], &c->feds[i]->dir[j], now);
            }
        c->stats.federations = c->nfeds + c->stats.federations_dropped + c->stats.federations_released;
    } else {
        retire_directions(c);
        stream_retire_facts(c, now);
    }
    free(t.f);
    c->round_last_ns = now;
    c->facts_since_full = full ? 0 : c->facts_since_full + c->facts_since_round;
    c->facts_since_round = 0;
    c->stats.timers_dropped = c->timers.dropped;
}

void corr_on_time(struct correlator *c, int64_t now)
{
    uint64_t kept, t0, handed0;
    bool near_cap, full;
    if (now < c->now_ns)
        return;
    c->now_ns = now;
    {
        struct timer t;
        while (timer_pop_due(&c->timers, now, &t)) {
            struct cconn *k = t.flow_id ? store_conn_find(c, t.flow_id) : NULL;
            if (k)
                k->changed_seq = ++c->fact_seq; /* its fate may have moved on */
            c->timer_due = true;
        }
    }
    if (!c->timer_due && !c->facts_since_round)
        return;
    near_cap = c->nconns >= c->cfg.max_conns / 4 * 3 || c->nlookups - c->lookups_dead >= c->cfg.max_lookups / 4 * 3;
    if (now - c->round_last_ns < c->cfg.round_interval_ns && !near_cap)
        return;
    kept = (uint64_t)c->nconns + (c->nlookups - c->lookups_dead) + c->live_events;
    if (kept > ROUND_FREE_FACTS && c->facts_since_round < kept && now - c->round_last_ns < c->cfg.max_lag_ns)
        return;
    /* Full when the facts kept are few, when as many arrived since the
     * last full round (the work stays linear), when as many lookups were
     * freed since then as are kept (what the lookup joins hold for them
     * is memory nothing reads), near the caps, or when several capture
     * points are merged (NAT and lookup twins pair across all of them);
     * otherwise partial. */
    full = kept <= ROUND_FREE_FACTS || near_cap || c->nsources > 1 || c->many_sources ||
           c->facts_since_full + c->facts_since_round >= kept ||
           c->lookups_dead >= c->nlookups - c->lookups_dead;
    t0 = corr_mono_ns();
    handed0 = c->handed_ns;
    stream_round(c, now, false, full);
    c->stats.busy_ns += corr_mono_ns() - t0 - (c->handed_ns - handed0);
}
