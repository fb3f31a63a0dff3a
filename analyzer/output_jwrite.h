/*
 * output_jwrite.h - one description of a JSON object, two results: a
 * json-c tree (for the writers that add to it or indent it) or the text
 * json-c would print for that tree with JSON_C_TO_STRING_PLAIN |
 * JSON_C_TO_STRING_NOSLASHESCAPE, byte for byte, without building it
 * (the document's XMPP events: one per event, written once and spooled).
 * A builder (output_xmpp.c) says what the object holds; the writer
 * decides what comes out.  Output-only: it names json-c.
 */
#ifndef FT_OUTPUT_JWRITE_H
#define FT_OUTPUT_JWRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#define JW_MAX_DEPTH 4

struct jw {
    bool text;                  /* text, else a json-c tree */
    bool oom;                   /* text: an allocation failed (the text is cut) */
    int depth;                  /* open objects and arrays */
    /* text */
    char *buf;                  /* owned: NUL-terminated while !oom */
    size_t len, cap;
    bool first[JW_MAX_DEPTH];   /* no member yet at that depth */
    bool array[JW_MAX_DEPTH];   /* that depth is an array */
    /* tree */
    json_object *root;          /* owned until jw_tree_take */
    json_object *open[JW_MAX_DEPTH];
};

/* A writer of text (jw_text_init) or of a tree (jw_tree_init); freed by
 * jw_free whatever it is. */
void jw_text_init(struct jw *w);
void jw_tree_init(struct jw *w);
void jw_free(struct jw *w);
/* The text written (NULL after a failed allocation); the writer keeps it. */
const char *jw_text(const struct jw *w, size_t *len);
/* The tree written: the caller owns it and the writer forgets it. */
json_object *jw_tree_take(struct jw *w);
/* Resets a text writer for the next object, keeping its buffer. */
void jw_text_reset(struct jw *w);

/* Objects and arrays: key is the member's name, NULL inside an array and
 * for the outermost object.  Keys are literals or static names. */
void jw_open(struct jw *w, const char *key);
void jw_open_array(struct jw *w, const char *key);
void jw_close(struct jw *w);
void jw_str(struct jw *w, const char *key, const char *s); /* NULL as "" */
void jw_str_opt(struct jw *w, const char *key, const char *s); /* nothing for NULL */
void jw_int(struct jw *w, const char *key, int64_t v);
void jw_bool(struct jw *w, const char *key, bool v);

#endif
