/*
 * output_json.c - the JSON document writer.  The document is streamed:
 * its head when the output is made, each connection as its flow ends
 * (with its XMPP events), then at the end the DNS lookups (spooled packed
 * while the connections were written, rendered now: those a federation
 * refers to, or all with -v), the federations one by one (those retired
 * before the end from their spool, output_retired.c, then the ones the
 * correlator holds), the capture and the statistics.  Nothing of the
 * document is held in memory but the element being written.
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

/* Spliced into the connection's "xmpp" array: each event was written as
 * text when it was kept (output.c), and goes in as that text. */
static void add_event(void *user, const char *data, size_t n)
{
    jw_raw(user, NULL, data, n);
}

/* The connection (written as json-c prints it with JSON_ELEM_FLAGS, no
 * tree built), then its XMPP events and stanza counts when it carried
 * XMPP. */
void json_doc_conn(struct output *o, const struct conn_record *rec)
{
    struct jw *w = &o->elem_text;
    struct pending_conn pc;
    const char *s;
    size_t n;

    jw_text_reset(w);
    jw_open(w, NULL);
    conn_members(w, o, rec);
    if (pending_get(&o->pending, rec->info.flow_id, false)) {
        jw_open_array(w, "xmpp");
        pending_take(&o->pending, rec->info.flow_id, &pc, add_event, w);
        jw_close(w);
        jw_open(w, "stanza_counts");
        jw_int(w, "message", (int64_t)pc.stanzas[0]);
        jw_int(w, "presence", (int64_t)pc.stanzas[1]);
        jw_int(w, "iq", (int64_t)pc.stanzas[2]);
        jw_close(w);
    }
    jw_close(w);
    if (o->pending.spool.err)
        output_spool_failed(o, &o->pending.spool);
    fputs(o->conns_written++ ? ",\n    " : "\n    ", o->fp);
    s = jw_text(w, &n);
    if (s)
        output_emit_len(o, o->fp, s, n);
    else
        fputs("null", o->fp); /* no memory: the document stays JSON */
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

/* The "dns" array: with -v every lookup; otherwise those a federation
 * refers to, spooled or held (the rest are counted; NDJSON and -v carry
 * them). */
static int write_lookups(struct output *o)
{
    unsigned nf = o->corr ? corr_federation_count(o->corr) : 0;
    size_t written = 0;
    bool all = o->verbose != 0;
    struct dns_rec h;
    int rc = 0;

    if (!all)
        for (unsigned i = 0; i < nf; i++)
            retired_note_dns(o, corr_federation_at(o->corr, i));
    fputs("[", o->fp);
    if (o->lookups_spooled && spool_rewind(&o->dns) != 0)
        rc = -1;
    for (uint64_t i = 0; rc == 0 && i < o->lookups_spooled; i++) {
        if (spool_next(&o->dns, &h, sizeof(h)) != 0 || h.len > DNS_PACK_MAX) {
            rc = -1;
            break;
        }
        if (all || retired_dns_referenced(o, h.id)) {
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
    if (rc != 0) {
        if (!o->dns.err)
            o->dns.err = EIO;
        output_spool_failed(o, &o->dns);
        return -1;
    }
    fputs(written ? "\n  ]" : "]", o->fp);
    return 0;
}

/* Written as json-c prints an element of the top-level "federations"
 * array (level 1, its indentation first), no tree built. */
char *json_federation_element(const struct output *o, const struct corr_federation *f)
{
    struct jw w;
    char *elem;
    jw_text_init(&w);
    jw_text_layout(&w, JSON_FLAGS, 1);
    federation_write(&w, o, f);
    elem = jw_text_take(&w);
    jw_free(&w);
    return elem;
}

/* The federations as the document's array, one element at a time: those
 * retired before the end (spooled), then those the correlator holds. */
static int write_federations(struct output *o)
{
    unsigned n = o->corr ? corr_federation_count(o->corr) : 0;
    fputs("[", o->fp);
    if (retired_write_json(o) != 0)
        return -1;
    for (unsigned i = 0; i < n; i++) {
        char *elem = json_federation_element(o, corr_federation_at(o->corr, i));
        fputs(i || o->feds_spooled ? ",\n" : "\n", o->fp);
        if (elem)
            output_emit(o, o->fp, elem);
        free(elem);
    }
    fputs("\n]", o->fp);
    return 0;
}

int json_doc_finish(struct output *o, const struct stats_snapshot *snap)
{
    json_object *cj, *st;
    fputs(o->conns_written ? "\n  ],\n  \"dns\": " : "],\n  \"dns\": ", o->fp);
    if (write_lookups(o) != 0)
        return -1;
    fputs(",\n  \"federations\": ", o->fp);
    if (write_federations(o) != 0)
        return -1;
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
