/*
 * output_json.c - the JSON document writer.  The document is streamed:
 * its head when the output is made, each connection as its flow ends
 * (with its XMPP events), then at the end the DNS lookups (spooled packed
 * while the connections were written, rendered now: those a federation
 * refers to, or all with -v), the federations one by one, the capture
 * and the statistics.  Nothing of the document is held in memory but the
 * element being written.
 */
#include <config.h>

#include "output_int.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void json_doc_head(struct output *o)
{
    fprintf(o->fp, "{\n  \"schema\": { \"name\": \"fedtrace\", \"version\": \"%s\" },\n"
                   "  \"generator\": \"%s\",\n  \"connections\": [",
            FEDTRACE_SCHEMA_VERSION, PACKAGE_STRING);
}

void json_doc_conn(struct output *o, json_object *c)
{
    fputs(o->conns_written++ ? ",\n    " : "\n    ", o->fp);
    output_emit(o, o->fp, json_object_to_json_string_ext(c, JSON_ELEM_FLAGS));
    json_object_put(c);
}

/* A spooled lookup: this header, then `len` bytes of dns_pack(). */
struct dns_rec {
    uint64_t id;
    uint64_t len;
};

/* Spooled packed, rendered at the end if the document lists it. */
void json_doc_dns(struct output *o, const struct dns_lookup *lk)
{
    struct dns_rec h = { lk->id, dns_pack(lk, o->dns_buf, DNS_PACK_MAX) };
    if (h.len == 0)
        return;
    if (spool_append(&o->dns, &h, sizeof(h)) >= 0 && spool_append(&o->dns, o->dns_buf, h.len) >= 0)
        o->lookups_spooled++;
    else
        output_spool_failed(o, &o->dns);
}

/* One listed lookup, rendered from its packed record (one line). */
static void write_lookup(struct output *o, size_t len)
{
    json_object *j;
    if (!dns_unpack(o->dns_lk, o->dns_buf, len))
        return; /* cannot happen: the spool holds what dns_pack wrote */
    j = dns_json(o, o->dns_lk);
    output_emit(o, o->fp, json_object_to_json_string_ext(j, JSON_ELEM_FLAGS));
    json_object_put(j);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The lookups the federations refer to (verdict evidence and timelines),
 * sorted; NULL when there are none or memory ran out (*n says which:
 * SIZE_MAX for out of memory). */
static uint64_t *referenced_lookups(const struct output *o, size_t *n)
{
    unsigned nf = o->corr ? corr_federation_count(o->corr) : 0;
    size_t total = 0, k = 0;
    uint64_t *ids;

    for (unsigned i = 0; i < nf; i++) {
        const struct corr_federation *f = corr_federation_at(o->corr, i);
        for (unsigned d = 0; d < f->n_dir; d++) {
            total += f->dir[d].verdict.n_dns;
            for (unsigned t = 0; t < f->dir[d].n_timeline; t++)
                total += f->dir[d].timeline[t].dns_id != 0;
        }
    }
    *n = 0;
    if (total == 0)
        return NULL;
    ids = malloc(total * sizeof(*ids));
    if (!ids) {
        *n = SIZE_MAX;
        return NULL;
    }
    for (unsigned i = 0; i < nf; i++) {
        const struct corr_federation *f = corr_federation_at(o->corr, i);
        for (unsigned d = 0; d < f->n_dir; d++) {
            const struct corr_direction *dir = &f->dir[d];
            for (unsigned e = 0; e < dir->verdict.n_dns; e++)
                ids[k++] = dir->verdict.evidence_dns[e];
            for (unsigned t = 0; t < dir->n_timeline; t++)
                if (dir->timeline[t].dns_id)
                    ids[k++] = dir->timeline[t].dns_id;
        }
    }
    qsort(ids, k, sizeof(*ids), cmp_u64);
    *n = k;
    return ids;
}

/* The "dns" array: with -v every lookup; otherwise those a federation
 * refers to (the rest are counted; NDJSON and -v carry them). */
static int write_lookups(struct output *o)
{
    size_t nref = 0, written = 0;
    uint64_t *ref = o->verbose ? NULL : referenced_lookups(o, &nref);
    bool all = o->verbose || nref == SIZE_MAX;
    struct dns_rec h;
    int rc = 0;

    fputs("[", o->fp);
    if (o->lookups_spooled && spool_rewind(&o->dns) != 0)
        rc = -1;
    for (uint64_t i = 0; rc == 0 && i < o->lookups_spooled; i++) {
        if (spool_next(&o->dns, &h, sizeof(h)) != 0 || h.len > DNS_PACK_MAX) {
            rc = -1;
            break;
        }
        if (all || (nref && bsearch(&h.id, ref, nref, sizeof(*ref), cmp_u64))) {
            if (spool_next(&o->dns, o->dns_buf, (size_t)h.len) != 0) {
                rc = -1;
                break;
            }
            fputs(written++ ? ",\n    " : "\n    ", o->fp);
            write_lookup(o, (size_t)h.len);
        } else {
            o->lookups_unreferenced++;
            if (spool_skip(&o->dns, h.len) != 0) {
                rc = -1;
                break;
            }
        }
    }
    free(ref);
    if (rc != 0) {
        if (!o->dns.err)
            o->dns.err = EIO;
        output_spool_failed(o, &o->dns);
        return -1;
    }
    fputs(written ? "\n  ]" : "]", o->fp);
    return 0;
}

/* The federations as the document's array, one element at a time: each
 * is serialised inside a one-element array so its indentation is the one
 * json-c gives an array element, then the brackets are cut off. */
static void write_federations(struct output *o)
{
    unsigned n = o->corr ? corr_federation_count(o->corr) : 0;
    fputs("[", o->fp);
    for (unsigned i = 0; i < n; i++) {
        json_object *arr = json_object_new_array();
        const char *s;
        size_t len;
        json_object_array_add(arr, federation_json(o, corr_federation_at(o->corr, i)));
        s = json_object_to_json_string_ext(arr, JSON_FLAGS);
        len = strlen(s);
        fputs(i ? ",\n" : "\n", o->fp);
        if (len >= 4) { /* "[\n" element "\n]" */
            char *elem = strndup(s + 2, len - 4);
            if (elem)
                output_emit(o, o->fp, elem);
            free(elem);
        }
        json_object_put(arr);
    }
    fputs("\n]", o->fp);
}

int json_doc_finish(struct output *o, const struct stats_snapshot *snap)
{
    json_object *cj, *st;
    fputs(o->conns_written ? "\n  ],\n  \"dns\": " : "],\n  \"dns\": ", o->fp);
    if (write_lookups(o) != 0)
        return -1;
    fputs(",\n  \"federations\": ", o->fp);
    write_federations(o);
    fputs(",\n  \"capture\": ", o->fp);
    cj = capture_json(o, snap);
    output_emit(o, o->fp, json_object_to_json_string_ext(cj, JSON_FLAGS));
    json_object_put(cj);
    st = stats_full_json(o, snap);
    fputs(",\n  \"stats\": ", o->fp);
    output_emit(o, o->fp, json_object_to_json_string_ext(st, JSON_FLAGS));
    json_object_put(st);
    fputs("\n}\n", o->fp);
    return 0;
}
