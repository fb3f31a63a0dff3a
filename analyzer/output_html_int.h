/*
 * output_html_int.h - what the HTML report's files share: escaping and
 * checked access to the JSON document (json-c stays inside the output
 * module).  Nothing here owns memory: every json_object belongs to the
 * parsed document, which output_html.c frees.
 */
#ifndef FT_OUTPUT_HTML_INT_H
#define FT_OUTPUT_HTML_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>

/* Writes s as HTML text or attribute value: & < > " ' escaped, control
 * characters blanked, ill-formed UTF-8 replaced.  NULL writes nothing. */
void html_esc(FILE *fp, const char *s);

/* The same for at most max bytes (cut at a character boundary), with an
 * ellipsis when cut. */
void html_esc_cut(FILE *fp, const char *s, size_t max);

/* Member `key` of obj when it has the type asked for, else NULL / the
 * default.  obj may be NULL or not an object. */
json_object *hj_get(json_object *obj, const char *key, json_type type);
const char *hj_str(json_object *obj, const char *key);
int64_t hj_int(json_object *obj, const char *key, int64_t dflt);
bool hj_bool(json_object *obj, const char *key);

/* "2026-11-24T05:47:16.699020Z" as nanoseconds since the epoch; false
 * when s is not such a time. */
bool html_parse_time(const char *s, int64_t *ns);

/* The CSS class and the plain words for a verdict status. */
const char *html_status_class(const char *status);
const char *html_status_words(const char *status);

/* A frame as Wireshark shows it for its file: "frame N" with one source,
 * "NAME#N" (the observer tag, or the file's base name) when several are
 * merged.  `pkt` is a timeline entry or packet reference (frame, source,
 * source_frame).  Written escaped. */
void html_frame_ref(FILE *fp, json_object *doc, json_object *pkt);

/* The document's connections and DNS lookups by uid (output_html_index.c),
 * built once per page.  The index points into the document, which must
 * outlive it; html_index_free frees the index only. */
enum html_list { HTML_CONNECTIONS, HTML_DNS };
struct html_index;
struct html_index *html_index_new(json_object *doc); /* NULL: out of memory */
void html_index_free(struct html_index *ix);
/* The member of list whose "uid" is uid (the first of equal ones), or
 * NULL. */
json_object *html_index_get(const struct html_index *ix, enum html_list list, const char *uid);

/* The ladder diagram of one federation direction as inline SVG, the
 * failing step red.  Returns the number of steps drawn. */
unsigned html_ladder(FILE *fp, json_object *doc, const struct html_index *ix, json_object *fed, json_object *dir);

#endif
