/*
 * output_json.c - the JSON document writer.  The document is streamed:
 * its head when the output is made, each connection as its flow ends
 * (with its XMPP events), then at the end the DNS lookups (spooled while
 * the connections were written), the federations one by one, the capture
 * and the statistics.  Nothing of the document is held in memory but the
 * element being written.
 */
#include <config.h>

#include "output_int.h"

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
    output_emit(o, o->fp, json_object_to_json_string_ext(c, JSON_FLAGS));
    json_object_put(c);
}

/* Spooled as it will stand in the document, spliced in at the end. */
void json_doc_dns(struct output *o, json_object *j)
{
    const char *sep = o->lookups_spooled ? ",\n    " : "\n    ";
    const char *s = json_object_to_json_string_ext(j, JSON_FLAGS);
    char *clean = NULL;
    size_t n = 0;
    FILE *mem = open_memstream(&clean, &n);

    /* Cleaned to UTF-8 (and counted) now, as the other elements are when
     * written; the spool then holds document bytes. */
    if (mem) {
        fputs(sep, mem);
        output_emit(o, mem, s);
        if (fclose(mem) == 0 && spool_append(&o->dns, clean, n) >= 0)
            o->lookups_spooled++;
        else
            output_spool_failed(o, &o->dns);
    }
    free(clean);
    json_object_put(j);
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
    fputs(o->conns_written ? "\n  ],\n  \"dns\": [" : "],\n  \"dns\": [", o->fp);
    if (spool_copy(&o->dns, 0, o->dns.size, o->fp) != 0 && o->dns.err) {
        output_spool_failed(o, &o->dns);
        return -1;
    }
    fputs(o->lookups_spooled ? "\n  ]" : "]", o->fp);
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
