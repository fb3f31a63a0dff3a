/*
 * output_jwrite.c - a JSON object described once, written as a json-c
 * tree or as the text json-c would print for it (output_jwrite.h).
 * The text escapes strings as json-c 0.16's json_escape_str does: the
 * quote, the backslash and \b \f \n \r \t by name, other bytes below
 * 0x20 as \u00xx in lowercase hex, everything else (UTF-8 included) as
 * it is, '/' unescaped.  It lays containers out as json-c 0.16's
 * json_object_{object,array}_to_json_string do:
 *
 *   open      "{" or "[", then "\n" if PRETTY
 *   member    "," before all but the first, then "\n" if PRETTY; " " if
 *             SPACED alone; two spaces per level if PRETTY (the
 *             container's level + 1); the key and ":" (": " if SPACED)
 *   close     if PRETTY: "\n" unless empty, the container's indentation;
 *             " }" or " ]" if SPACED alone, else "}" or "]"
 *
 * so an empty container is "{ }" SPACED and "{\n<indent>}" PRETTY.
 * tests/test_output_jwrite.c holds the two to the same bytes.
 */
#include <config.h>

#include "output_jwrite.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The json-c key convention of output_int.h: keys are never copied. */
#define OBJ_ADD(o, k, v) json_object_object_add_ex((o), (k), (v), JSON_C_OBJECT_ADD_CONSTANT_KEY)

void jw_text_init(struct jw *w)
{
    memset(w, 0, sizeof(*w));
    w->text = true;
}

void jw_text_layout(struct jw *w, int flags, int level)
{
    w->spaced = (flags & JSON_C_TO_STRING_SPACED) != 0;
    w->pretty = (flags & JSON_C_TO_STRING_PRETTY) != 0;
    w->level = level < 0 ? 0 : level > JW_MAX_LEVEL ? JW_MAX_LEVEL : level;
}

void jw_tree_init(struct jw *w)
{
    memset(w, 0, sizeof(*w));
}

void jw_free(struct jw *w)
{
    free(w->buf);
    json_object_put(w->root);
    memset(w, 0, sizeof(*w));
}

void jw_text_reset(struct jw *w)
{
    w->len = 0;
    w->depth = 0;
    w->oom = false;
    if (w->buf)
        w->buf[0] = '\0';
}

const char *jw_text(const struct jw *w, size_t *len)
{
    if (len)
        *len = w->oom ? 0 : w->len;
    return w->oom || !w->buf ? NULL : w->buf;
}

char *jw_text_take(struct jw *w)
{
    char *t = w->oom ? NULL : w->buf;
    if (!t)
        free(w->buf);
    w->buf = NULL;
    w->len = w->cap = 0;
    w->depth = 0;
    w->oom = false;
    return t;
}

json_object *jw_tree_take(struct jw *w)
{
    json_object *t = w->root;
    w->root = NULL;
    w->depth = 0;
    if (w->oom) {
        json_object_put(t); /* half of an object: none at all */
        t = NULL;
        w->oom = false;
    }
    return t;
}

/* ---- text --------------------------------------------------------------- */

static bool room(struct jw *w, size_t n)
{
    size_t cap;
    char *nb;
    if (w->oom)
        return false;
    if (w->len + n + 1 <= w->cap)
        return true;
    cap = w->cap ? w->cap : 256;
    while (cap < w->len + n + 1) {
        if (cap > SIZE_MAX / 2)
            goto fail;
        cap *= 2;
    }
    nb = realloc(w->buf, cap);
    if (!nb)
        goto fail;
    w->buf = nb;
    w->cap = cap;
    return true;
fail:
    w->oom = true;
    return false;
}

static void put(struct jw *w, const char *s, size_t n)
{
    if (!room(w, n))
        return;
    memcpy(w->buf + w->len, s, n);
    w->len += n;
    w->buf[w->len] = '\0';
}

static void put_escaped(struct jw *w, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s, *run = p;
    put(w, "\"", 1);
    for (; *p; p++) {
        char esc[6];
        size_t n = 2;
        unsigned char c = *p;
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        put(w, (const char *)run, (size_t)(p - run));
        run = p + 1;
        esc[0] = '\\';
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default:
            memcpy(esc + 1, "u00", 3);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 0xf];
            n = 6;
        }
        put(w, esc, n);
    }
    put(w, (const char *)run, (size_t)(p - run));
    put(w, "\"", 1);
}

/* PRETTY's indentation of nesting level `level`. */
static void indent(struct jw *w, int level)
{
    static const char spaces[] = "                                "; /* 32 */
    size_t n = 2 * (size_t)level;
    while (n > 0) {
        size_t k = n < sizeof(spaces) - 1 ? n : sizeof(spaces) - 1;
        put(w, spaces, k);
        n -= k;
    }
}

/* What goes before a value: the separator, the layout's space or
 * indentation, the key (none in an array).  The root is an element of
 * an array at level - 1 (nothing before it at level 0). */
static void text_member(struct jw *w, const char *key)
{
    int elem_level = w->level + w->depth; /* the member's own level */
    if (w->depth > 0) {
        if (!w->first[w->depth - 1])
            put(w, w->pretty ? ",\n" : ",", w->pretty ? 2 : 1);
        w->first[w->depth - 1] = false;
    } else if (w->level == 0) {
        return; /* json_object_to_json_string_ext's root */
    }
    if (w->spaced && !w->pretty)
        put(w, " ", 1);
    if (w->pretty)
        indent(w, elem_level);
    if (key) {
        put_escaped(w, key);
        put(w, w->spaced ? ": " : ":", w->spaced ? 2 : 1);
    }
}

/* ---- tree --------------------------------------------------------------- */

/* Adds v to the open container (or makes it the root). */
static void tree_add(struct jw *w, const char *key, json_object *v)
{
    json_object *top;
    if (w->depth == 0) {
        if (!w->root)
            w->root = v;
        else
            json_object_put(v); /* a second root: not a JSON object */
        return;
    }
    top = w->open[w->depth - 1];
    if (!top)
        json_object_put(v); /* its container could not be made */
    else if (w->array[w->depth - 1])
        json_object_array_add(top, v);
    else
        OBJ_ADD(top, key, v);
}

/* ---- both --------------------------------------------------------------- */

static void open_any(struct jw *w, const char *key, bool array)
{
    if (w->depth >= JW_MAX_DEPTH) {
        w->oom = true; /* a builder bug: say so rather than write bad JSON */
        return;
    }
    if (w->text) {
        text_member(w, key);
        put(w, array ? "[\n" : "{\n", w->pretty ? 2 : 1);
        w->array[w->depth] = array;
        w->first[w->depth++] = true;
        return;
    }
    {
        json_object *o = array ? json_object_new_array() : json_object_new_object();
        if (!o)
            w->oom = true;
        tree_add(w, key, o);
        w->array[w->depth] = array;
        w->open[w->depth++] = o;
    }
}

void jw_open(struct jw *w, const char *key)
{
    open_any(w, key, false);
}

void jw_open_array(struct jw *w, const char *key)
{
    open_any(w, key, true);
}

void jw_close(struct jw *w)
{
    if (w->depth == 0)
        return;
    w->depth--;
    if (!w->text)
        return;
    if (w->pretty) {
        if (!w->first[w->depth])
            put(w, "\n", 1);
        indent(w, w->level + w->depth);
    }
    if (w->spaced && !w->pretty)
        put(w, w->array[w->depth] ? " ]" : " }", 2);
    else
        put(w, w->array[w->depth] ? "]" : "}", 1);
}

void jw_str(struct jw *w, const char *key, const char *s)
{
    if (w->text) {
        text_member(w, key);
        put_escaped(w, s ? s : "");
    } else {
        tree_add(w, key, json_object_new_string(s ? s : ""));
    }
}

void jw_str_opt(struct jw *w, const char *key, const char *s)
{
    if (s)
        jw_str(w, key, s);
}

void jw_int(struct jw *w, const char *key, int64_t v)
{
    if (w->text) {
        char num[24];
        int n = snprintf(num, sizeof(num), "%" PRId64, v);
        text_member(w, key);
        put(w, num, (size_t)n);
    } else {
        tree_add(w, key, json_object_new_int64(v));
    }
}

void jw_bool(struct jw *w, const char *key, bool v)
{
    if (w->text) {
        text_member(w, key);
        put(w, v ? "true" : "false", v ? 4 : 5);
    } else {
        tree_add(w, key, json_object_new_boolean(v));
    }
}

void jw_null(struct jw *w, const char *key)
{
    if (w->text) {
        text_member(w, key);
        put(w, "null", 4);
    } else {
        tree_add(w, key, NULL);
    }
}

void jw_number(struct jw *w, const char *key, double v, const char *text)
{
    if (w->text) {
        text_member(w, key);
        put(w, text, strlen(text));
    } else {
        tree_add(w, key, json_object_new_double_s(v, text));
    }
}

void jw_raw(struct jw *w, const char *key, const char *text, size_t len)
{
    json_object *o;
    char *copy;
    if (w->text) {
        text_member(w, key);
        put(w, text, len);
        return;
    }
    copy = strndup(text, len);
    o = copy ? json_object_new_object() : NULL;
    if (!o) {
        free(copy);
        w->oom = true;
        return;
    }
    json_object_set_serializer(o, json_object_userdata_to_json_string, copy, json_object_free_userdata);
    tree_add(w, key, o);
}
