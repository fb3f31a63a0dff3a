/*
 * output_random.h - random federations (every member a builder may write:
 * verdicts of every code with evidence, notes and advice, stages,
 * timelines, NAT pairs) and connection records, for the output tests.
 * Test programs only.  The caller supplies next() (a random 32-bit value)
 * before including it.  What a record points at lives in `struct
 * rnd_fed` until the next call.
 */
#ifndef FT_OUTPUT_RANDOM_H
#define FT_OUTPUT_RANDOM_H

#include <stdio.h>
#include <string.h>

#include "../analyzer/correlate.h"
#include "../analyzer/facts.h"
#include "../analyzer/verdict.h"

static uint32_t next(void);

static const char *const rnd_text[] = { "",        "b.example",          "a\"b\\c/d\x01\ne\xc3\xa9", "caf\xc3\xa9",
                                        "10.0.0.1", "SYN 10.0.0.1:4001 -> 198.51.100.2:5269 (3rd)" };
#define RND_TEXT() rnd_text[next() % (sizeof(rnd_text) / sizeof(rnd_text[0]))]

struct rnd_fed {
    struct corr_federation f;
    struct corr_tl tl[2][6];
};

static void rnd_frame(struct frame_ref *r, bool maybe_unseen)
{
    r->frame = maybe_unseen && next() % 4 == 0 ? 0 : 1 + next() % 100000;
    r->src_frame = next() % 100000;
    r->source = next() % 3;
    r->ts_ns = INT64_C(1764000000000000000) + (int64_t)(next() % 1000) * 1000000;
}

static void rnd_verdict(struct corr_verdict *v)
{
    static const char *const conf[] = { "high", "medium", "low", NULL };
    memset(v, 0, sizeof(*v));
    v->status = (enum corr_status)(next() % 3);
    v->stage = (enum fed_stage)(next() % STAGE_COUNT);
    v->code = (enum verdict_code)(next() % VERDICT_CODE_COUNT);
    v->summary = RND_TEXT();
    v->confidence = conf[next() % 4];
    v->inferred = next() & 1;
    v->rule = next() & 1 ? "record-sizes" : NULL;
    v->decrypted = next() & 1;
    v->n_notes = next() % 5;
    for (unsigned i = 0; i < v->n_notes; i++)
        v->notes[i] = RND_TEXT();
    v->n_evidence = next() % 17;
    for (unsigned i = 0; i < v->n_evidence; i++)
        rnd_frame(&v->evidence_refs[i], true);
    v->n_flows = next() % 9;
    for (unsigned i = 0; i < v->n_flows; i++)
        v->evidence_flows[i] = 1 + next() % 1000;
    v->n_dns = next() % 9;
    for (unsigned i = 0; i < v->n_dns; i++)
        v->evidence_dns[i] = 1 + next() % 1000;
    v->vars.local = "a.example";
    v->vars.remote = RND_TEXT();
    v->vars.ip = next() & 1 ? "192.0.2.7" : NULL;
    v->vars.port = "5269";
    v->vars.condition = RND_TEXT();
}

static void rnd_direction(struct corr_direction *d, struct corr_tl *tl, const char *from, const char *to)
{
    memset(d, 0, sizeof(*d));
    d->from = from;
    d->to = to;
    rnd_verdict(&d->verdict);
    for (int s = 0; s < STAGE_COUNT; s++) {
        d->stages[s] = (enum corr_stage_status)(next() % 5);
        d->stage_detail[s] = next() & 1 ? "" : RND_TEXT();
    }
    d->n_timeline = next() % 7;
    d->timeline = tl;
    for (unsigned i = 0; i < d->n_timeline; i++) {
        struct corr_tl *t = &tl[i];
        memset(t, 0, sizeof(*t));
        rnd_frame(&t->ref, false);
        t->order_ns = next() % 3 ? t->ref.ts_ns : t->ref.ts_ns - 5000000;
        t->flow_id = next() % 2 ? 1 + next() % 1000 : 0;
        t->dns_id = t->flow_id ? 0 : 1 + next() % 1000;
        t->stage = next() % STAGE_COUNT;
        t->failing = next() % 4 == 0;
        t->decrypted = next() % 4 == 0;
        t->what = (char *)RND_TEXT();
    }
    d->timeline_elided = next() % 4 == 0 ? next() % 50 : 0;
    d->n_nat = next() % 3 ? 0 : 1 + next() % CORR_MAX_NAT_PAIRS;
    for (unsigned i = 0; i < d->n_nat; i++) {
        d->nat[i].flow_id[0] = 1 + next() % 1000;
        d->nat[i].flow_id[1] = 1 + next() % 1000;
        d->nat[i].source[0] = next() % 4;
        d->nat[i].source[1] = next() % 4;
    }
}

static void rnd_federation(struct rnd_fed *r)
{
    struct corr_federation *f = &r->f;
    memset(r, 0, sizeof(*r));
    snprintf(f->id, sizeof(f->id), "F%08x", next());
    f->domains[0] = "a.example";
    f->domains[1] = next() & 1 ? "b.example" : rnd_text[2];
    f->local = next() % 3 == 0 ? NULL : f->domains[next() & 1];
    f->roles_inferred = next() & 1;
    f->role_reason = RND_TEXT();
    f->n_dir = 1 + next() % 2;
    for (unsigned i = 0; i < f->n_dir; i++)
        rnd_direction(&f->dir[i], r->tl[i], f->domains[i], f->domains[!i]);
    f->verdict = &f->dir[next() % f->n_dir].verdict;
}

static void rnd_conn(struct conn_record *c)
{
    static const uint8_t v4[2][4] = { { 10, 0, 0, 1 }, { 198, 51, 100, 2 } };
    memset(c, 0, sizeof(*c));
    c->phase = CONN_END;
    c->end_reason = (enum flow_end_reason)(next() % 4);
    c->info.flow_id = 1 + next() % 100000;
    c->info.proto = 6;
    for (int i = 0; i < 2; i++) {
        uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8 };
        v6[15] = (uint8_t)i;
        if (next() & 1)
            ft_addr_set4(&c->info.addr[i], v4[i]);
        else
            ft_addr_set6(&c->info.addr[i], v6);
        c->info.port[i] = (uint16_t)next();
    }
    c->info.app = (enum app_proto)(next() % 5);
    c->source = next() % 3;
    c->first_ns = INT64_C(1764000000000000000) + (int64_t)(next() % 100000) * 1000;
    c->last_ns = c->first_ns + (next() % 4 == 0 ? -(int64_t)(next() % 1000000) : (int64_t)next() * 1000);
    c->first_frame = next() % 1000;
    c->last_frame = c->first_frame + next() % 1000;
    rnd_frame(&c->syn, true);
    rnd_frame(&c->synack, true);
    rnd_frame(&c->ack, true);
    rnd_frame(&c->rst, true);
    c->rst_dir = next() & 1;
    c->syn_count = (uint16_t)(next() % 8);
    for (int i = 0; i < FACT_MAX_SYN_TIMES; i++)
        c->syn_times_ns[i] = c->first_ns + i * INT64_C(1000000000);
    c->rtt_ns = next() % 3 == 0 ? -1 : (int64_t)(next() % 500000000);
    c->midstream = next() & 1;
    c->established = next() & 1;
    snprintf(c->history, sizeof(c->history), "%s", next() & 1 ? "ShADadFf" : "S");
    snprintf(c->conn_state, sizeof(c->conn_state), "%s", next() & 1 ? "SF" : "REJ");
    for (int d = 0; d < 2; d++) {
        struct conn_dir_facts *df = &c->dir[d];
        rnd_frame(&df->first_data, true);
        rnd_frame(&df->fin, true);
        df->packets = next();
        df->payload_bytes = ((uint64_t)next() << 32) | next();
        df->delivered_bytes = next();
        df->gaps = next() % 3;
        df->gap_bytes = next() % 3000;
        df->retransmissions = next() % 5;
        df->overlaps = next() % 5;
        df->overlap_conflicts = next() % 2;
        df->out_of_order = next() % 5;
        df->bad_checksums = next() % 2;
        df->zero_windows = next() % 2;
        df->mss = next() & 1 ? 1460 : 0;
        df->wscale = (int8_t)(next() % 3 == 0 ? -1 : (int)(next() % 15));
        df->sack_permitted = next() & 1;
        df->timestamps = next() & 1;
    }
}

#endif
