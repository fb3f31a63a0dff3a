/*
 * output_jwrite.h - one description of a JSON object, two results: a
 * json-c tree (for the writers that add to it: NDJSON) or the text json-c
 * would print for that tree, byte for byte, without building it - with
 * JSON_C_TO_STRING_NOSLASHESCAPE and PLAIN, SPACED, PRETTY (two spaces)
 * or PRETTY | SPACED (the JSON document's events, connections and
 * federations).  A builder (output_xmpp.c, output_conn.c,
 * output_federation.c) says what the object holds; the writer decides
 * what comes out.  Output-only: it names json-c.
 */
#ifndef FT_OUTPUT_JWRITE_H
#define FT_OUTPUT_JWRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#define JW_MAX_DEPTH 8 /* a federation: direction, verdict, evidence, packet */
#define JW_MAX_LEVEL 16 /* jw_text_layout's level */

struct jw {
    bool text;                  /* text, else a json-c tree */
    bool oom;                   /* an allocation failed or JW_MAX_DEPTH was
                                 * passed: no text, no tree */
    int depth;                  /* open objects and arrays */
    bool array[JW_MAX_DEPTH];   /* that depth is an array */
    /* text */
    bool spaced, pretty;        /* the layout (jw_text_layout) */
    int level;                  /* json-c's nesting level of the root */
    char *buf;                  /* owned: NUL-terminated while !oom */
    size_t len, cap;
    bool first[JW_MAX_DEPTH];   /* no member yet at that depth */
    /* tree */
    json_object *root;          /* owned until jw_tree_take */
    json_object *open[JW_MAX_DEPTH];
};

/* A writer of text (jw_text_init: PLAIN) or of a tree (jw_tree_init);
 * freed by jw_free whatever it is. */
void jw_text_init(struct jw *w);
void jw_tree_init(struct jw *w);
void jw_free(struct jw *w);
/* The layout of a text writer's next objects: json-c's flags (SPACED
 * and PRETTY count; the rest is PLAIN | NOSLASHESCAPE whatever is
 * passed), and the root written as json-c writes the elements of an
 * array at level - 1 with what goes before each (PRETTY: its
 * indentation, SPACED alone: a space) - the element of a document array
 * spliced in between the brackets.  Level 0: a root as
 * json_object_to_json_string_ext prints it.  0 <= level <= JW_MAX_LEVEL. */
void jw_text_layout(struct jw *w, int flags, int level);
/* The text written (NULL after a failed allocation); the writer keeps it. */
const char *jw_text(const struct jw *w, size_t *len);
/* The text written, now the caller's (free it); NULL after a failure.
 * The writer starts a new buffer. */
char *jw_text_take(struct jw *w);
/* The tree written: the caller owns it and the writer forgets it.  NULL
 * when the writer failed (oom): the half-built tree is freed. */
json_object *jw_tree_take(struct jw *w);
/* Resets a text writer for the next object, keeping its buffer and its
 * layout. */
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
void jw_null(struct jw *w, const char *key);
/* A double printed as `text` (json_object_new_double_s). */
void jw_number(struct jw *w, const char *key, double v, const char *text);
/* len bytes of JSON text already written (no NUL among them), inserted
 * as they are whatever the layout: the tree holds an object that prints
 * them so (json-c's userdata serializer, a copy). */
void jw_raw(struct jw *w, const char *key, const char *text, size_t len);

#endif
