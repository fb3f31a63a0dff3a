/*
 * test_output_jwrite.c - unit tests for analyzer/output_jwrite.c: the
 * text writer prints exactly what json-c 0.16 prints (NOSLASHESCAPE with
 * PLAIN, SPACED, PRETTY and PRETTY | SPACED) for the tree the same calls
 * build, on random objects (nesting to the deepest allowed, empty
 * objects and arrays, every byte value in strings and keys, extreme
 * integers, null, numbers as text, spliced JSON text) as the root and as
 * an array element at levels 1-3; json-c's quirks spelled out (empty
 * containers, " }", the indentation); a wrong layout is caught; a depth
 * overflow leaves no text and no tree; XMPP and TLS events of every type
 * (output_xmpp.c), random connection records (output_conn.c, SPACED)
 * and federations (output_federation.c, the document's element) come
 * out as json-c prints their trees, and the capture's drops lower a
 * verdict's confidence with a note; a text writer reused after reset
 * holds only the new object.  Prints "output_jwrite: N passed, N failed".
 */
#include <config.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../analyzer/output_int.h"
#include "check.h"

static uint64_t rng = 0x9e3779b97f4a7c15;

static uint32_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 11);
}

#include "output_random.h"

/* A string of random bytes 1..255, mostly printable. */
static void random_string(char *s, size_t cap)
{
    size_t n = next() % (cap - 1);
    for (size_t i = 0; i < n; i++) {
        unsigned r = next() % 10;
        s[i] = (char)(r < 6 ? ' ' + next() % 95 : 1 + next() % 255);
    }
    s[n] = '\0';
}

static const char *const keys[] = { "a", "frame", "with \"quote\"", "tab\there", "slash/", "\x01\x1f", "caf\xc3\xa9" };

/* Keys live as long as the tree (the writer does not copy them); each is
 * new in its object (a json-c object keeps one value per key). */
static char key_pool[512][24];
static unsigned nkeys;

static const char *const raws[] = { "{\"x\":1}", "[]", "[1,{\"y\":\"z\"}]", "\"s\"", "{ \"a\": [ ] }", "-0.5" };

/* The same random calls on both writers; containers nest to
 * JW_MAX_DEPTH, rarer the deeper. */
static int deepest; /* the deepest nesting the random objects reached */

static void random_members(struct jw *t, struct jw *j, int depth, bool in_array)
{
    unsigned n = next() % 6;
    deepest = depth > deepest ? depth : deepest;
    for (unsigned i = 0; i < n && nkeys < 512; i++) {
        char *key = NULL, s[64];
        unsigned kind = next() % (depth < JW_MAX_DEPTH && next() % (unsigned)depth < 2 ? 10 : 8);
        if (!in_array) {
            key = key_pool[nkeys];
            snprintf(key, sizeof(key_pool[0]), "%s%u", keys[next() % (sizeof(keys) / sizeof(keys[0]))], nkeys);
            nkeys++;
        }
        switch (kind) {
        case 0:
            random_string(s, sizeof(s));
            jw_str(t, key, s);
            jw_str(j, key, s);
            break;
        case 1: {
            int64_t v = (int64_t)(((uint64_t)next() << 32) | next());
            if (next() % 4 == 0)
                v = next() % 3 == 0 ? INT64_MIN : next() & 1 ? INT64_MAX : 0;
            jw_int(t, key, v);
            jw_int(j, key, v);
            break;
        }
        case 2: {
            bool v = next() & 1;
            jw_bool(t, key, v);
            jw_bool(j, key, v);
            break;
        }
        case 3:
            jw_str_opt(t, key, NULL);
            jw_str_opt(j, key, NULL);
            break;
        case 4:
            jw_str(t, key, NULL);
            jw_str(j, key, NULL);
            break;
        case 5:
            jw_null(t, key);
            jw_null(j, key);
            break;
        case 6: {
            char num[32];
            double v = (double)(int32_t)next() / 1000.0;
            snprintf(num, sizeof(num), "%.3f", v);
            jw_number(t, key, v, num);
            jw_number(j, key, v, num);
            break;
        }
        case 7: {
            const char *r = raws[next() % (sizeof(raws) / sizeof(raws[0]))];
            jw_raw(t, key, r, strlen(r));
            jw_raw(j, key, r, strlen(r));
            break;
        }
        case 8:
            jw_open(t, key);
            jw_open(j, key);
            random_members(t, j, depth + 1, false);
            jw_close(t);
            jw_close(j);
            break;
        default:
            jw_open_array(t, key);
            jw_open_array(j, key);
            random_members(t, j, depth + 1, true);
            jw_close(t);
            jw_close(j);
            break;
        }
    }
}

static const int layouts[] = { JSON_C_TO_STRING_PLAIN, JSON_C_TO_STRING_SPACED, JSON_C_TO_STRING_PRETTY,
                                JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED };

static bool quiet; /* the differences a test expects are not printed */

/* What json-c writes around the element of `level` nested one-element
 * arrays, up to the element's own lead (prefix) and after it (suffix),
 * spelled out from json-c 0.16's array printer. */
static void wrapper_text(int flags, int level, char *pre, char *suf, size_t cap)
{
    bool pretty = flags & JSON_C_TO_STRING_PRETTY, spaced = (flags & JSON_C_TO_STRING_SPACED) && !pretty;
    pre[0] = suf[0] = '\0';
    for (int i = 0; i < level; i++) {
        if (i > 0)
            snprintf(pre + strlen(pre), cap - strlen(pre), "%s%*s", spaced ? " " : "", pretty ? 2 * i : 0, "");
        snprintf(pre + strlen(pre), cap - strlen(pre), "[%s", pretty ? "\n" : "");
    }
    for (int i = level - 1; i >= 0; i--) {
        if (pretty)
            snprintf(suf + strlen(suf), cap - strlen(suf), "\n%*s", 2 * i, "");
        snprintf(suf + strlen(suf), cap - strlen(suf), "%s", spaced ? " ]" : "]");
    }
}

/* The text writer's object (laid out by `flags` at `level`) is what
 * json-c prints for `tree` as the element of `level` nested arrays.
 * Takes tree. */
static bool same_as_json_c_at(struct jw *t, json_object *tree, int flags, int level)
{
    char pre[256], suf[256];
    size_t n, np, ns, nw;
    const char *text = jw_text(t, &n), *want;
    bool same;
    for (int i = 0; i < level; i++) {
        json_object *a = json_object_new_array();
        json_object_array_add(a, tree);
        tree = a;
    }
    want = json_object_to_json_string_ext(tree, flags | JSON_C_TO_STRING_NOSLASHESCAPE);
    wrapper_text(flags, level, pre, suf, sizeof(pre));
    np = strlen(pre);
    ns = strlen(suf);
    nw = want ? strlen(want) : 0;
    same = text && want && nw == np + n + ns && memcmp(want, pre, np) == 0 && memcmp(want + np, text, n) == 0 &&
           memcmp(want + np + n, suf, ns) == 0;
    if (!same && !quiet)
        printf("flags %d level %d\ntext:   %s%s%s\njson-c: %s\n", flags, level, pre, text ? text : "(null)", suf,
               want ? want : "(null)");
    json_object_put(tree);
    return same;
}

static bool same_as_json_c(struct jw *t, json_object *tree)
{
    return same_as_json_c_at(t, json_object_get(tree), JSON_C_TO_STRING_PLAIN, 0);
}

/* Random objects in every layout, as the root and as an array element
 * at levels 1-3; returns how many differed. */
static unsigned random_objects(int flags, int level, int rounds)
{
    struct jw t;
    unsigned bad = 0;
    jw_text_init(&t);
    jw_text_layout(&t, flags, level);
    for (int round = 0; round < rounds; round++) {
        struct jw j;
        json_object *tree;
        bool array = next() % 8 == 0;
        jw_text_reset(&t);
        jw_tree_init(&j);
        nkeys = 0;
        (array ? jw_open_array : jw_open)(&t, NULL);
        (array ? jw_open_array : jw_open)(&j, NULL);
        random_members(&t, &j, 1, array);
        jw_close(&t);
        jw_close(&j);
        tree = jw_tree_take(&j);
        if (!same_as_json_c_at(&t, tree, flags, level) && ++bad > 3)
            break;
        jw_free(&j);
    }
    jw_free(&t);
    return bad;
}

static void test_random_objects(void)
{
    struct jw t;
    for (unsigned l = 0; l < sizeof(layouts) / sizeof(layouts[0]); l++)
        for (int level = 0; level <= 3; level++)
            CHECK(random_objects(layouts[l], level, level == 0 ? 3000 : 500) == 0);
    CHECK(deepest == JW_MAX_DEPTH);
    jw_text_init(&t);
    /* the escapes json-c uses, spelled out */
    jw_text_reset(&t);
    jw_open(&t, NULL);
    jw_str(&t, "s", "\"\\/\b\f\n\r\t\x01\x1f\x7f\xc3\xa9");
    jw_close(&t);
    CHECK(strcmp(jw_text(&t, NULL), "{\"s\":\"\\\"\\\\/\\b\\f\\n\\r\\t\\u0001\\u001f\x7f\xc3\xa9\"}") == 0);
    jw_free(&t);
}

/* One small object with empty containers in a layout at a level. */
static const char *small_object(struct jw *t, int flags, int level)
{
    jw_text_reset(t);
    jw_text_layout(t, flags, level);
    jw_open(t, NULL);
    jw_open_array(t, "a");
    jw_int(t, NULL, 1);
    jw_open(t, NULL);
    jw_close(t);
    jw_open_array(t, NULL);
    jw_close(t);
    jw_raw(t, NULL, "{\"r\":[]}", 8);
    jw_close(t);
    jw_null(t, "n");
    jw_number(t, "d", 1.5, "1.500");
    jw_close(t);
    return jw_text(t, NULL);
}

/* json-c's quirks spelled out, then a layout that is not json-c's is
 * caught: the comparison can fail. */
static void test_layout_quirks(void)
{
    struct jw t, j;
    json_object *tree;
    jw_text_init(&t);
    CHECK(strcmp(small_object(&t, JSON_C_TO_STRING_PLAIN, 0), "{\"a\":[1,{},[],{\"r\":[]}],\"n\":null,\"d\":1.500}") == 0);
    CHECK(strcmp(small_object(&t, JSON_C_TO_STRING_SPACED, 0),
                 "{ \"a\": [ 1, { }, [ ], {\"r\":[]} ], \"n\": null, \"d\": 1.500 }") == 0);
    CHECK(strcmp(small_object(&t, JSON_C_TO_STRING_SPACED, 2),
                 " { \"a\": [ 1, { }, [ ], {\"r\":[]} ], \"n\": null, \"d\": 1.500 }") == 0);
    CHECK(strcmp(small_object(&t, JSON_C_TO_STRING_PRETTY, 0),
                 "{\n  \"a\":[\n    1,\n    {\n    },\n    [\n    ],\n    {\"r\":[]}\n  ],\n  \"n\":null,\n"
                 "  \"d\":1.500\n}") == 0);
    CHECK(strcmp(small_object(&t, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED, 1),
                 "  {\n    \"a\": [\n      1,\n      {\n      },\n      [\n      ],\n      {\"r\":[]}\n    ],\n"
                 "    \"n\": null,\n    \"d\": 1.500\n  }") == 0);
    /* the same object, compared against json-c in another layout */
    jw_tree_init(&j);
    jw_open(&j, NULL);
    jw_open_array(&j, "a");
    jw_int(&j, NULL, 1);
    jw_open(&j, NULL);
    jw_close(&j);
    jw_open_array(&j, NULL);
    jw_close(&j);
    jw_raw(&j, NULL, "{\"r\":[]}", 8);
    jw_close(&j);
    jw_null(&j, "n");
    jw_number(&j, "d", 1.5, "1.500");
    jw_close(&j);
    tree = jw_tree_take(&j);
    quiet = true;
    for (unsigned a = 0; a < sizeof(layouts) / sizeof(layouts[0]); a++)
        for (unsigned b = 0; b < sizeof(layouts) / sizeof(layouts[0]); b++)
            for (int la = 0; la <= 2; la++) {
                small_object(&t, layouts[a], la);
                if (a == b)
                    CHECK(same_as_json_c_at(&t, json_object_get(tree), layouts[b], la));
                else
                    CHECK(!same_as_json_c_at(&t, json_object_get(tree), layouts[b], la));
                if (layouts[a] & JSON_C_TO_STRING_PRETTY) { /* the indentation of a level */
                    small_object(&t, layouts[a], la + 1);
                    CHECK(!same_as_json_c_at(&t, json_object_get(tree), layouts[b], la));
                }
            }
    quiet = false;
    json_object_put(tree);
    jw_free(&j);
    jw_free(&t);
}

/* Deeper than JW_MAX_DEPTH: no tree, no text; the writers start again. */
static void test_depth_overflow(void)
{
    struct jw t, j;
    json_object *tree;
    jw_text_init(&t);
    jw_tree_init(&j);
    for (int i = 0; i <= JW_MAX_DEPTH; i++) {
        jw_open_array(&t, NULL);
        jw_open_array(&j, NULL);
    }
    for (int i = 0; i <= JW_MAX_DEPTH; i++) {
        jw_close(&t);
        jw_close(&j);
    }
    CHECK(jw_text(&t, NULL) == NULL);
    CHECK(jw_text_take(&t) == NULL);
    CHECK(jw_tree_take(&j) == NULL);
    jw_open(&j, NULL);
    jw_int(&j, "x", 1);
    jw_close(&j);
    tree = jw_tree_take(&j);
    CHECK(tree && strcmp(json_object_to_json_string_ext(tree, JSON_C_TO_STRING_PLAIN), "{\"x\":1}") == 0);
    json_object_put(tree);
    jw_open(&t, NULL);
    jw_close(&t);
    {
        char *s = jw_text_take(&t);
        CHECK(s && strcmp(s, "{}") == 0);
        free(s);
    }
    jw_free(&t);
    jw_free(&j);
}

/* Every event type, with the strings set that the type writes. */
static void test_xmpp_events(void)
{
    char err[256];
    FILE *null = fopen("/dev/null", "w");
    struct output *o = null ? output_new(OUTPUT_NDJSON, null, 0, err, sizeof(err)) : NULL;
    struct flow_info fi;
    struct tls_event tls;
    struct jw t;
    const char *tricky = "a\"b\\c/d\x01\ne\xc3\xa9";
    CHECK(o != NULL);
    if (!o)
        return;
    memset(&fi, 0, sizeof(fi));
    fi.flow_id = 7;
    jw_text_init(&t);
    for (int type = 0; type <= XMPP_EV_DECRYPT_STOPPED + 1; type++) {
        for (int variant = 0; variant < 8; variant++) {
            struct xmpp_event ev;
            json_object *tree;
            memset(&ev, 0, sizeof(ev));
            memset(&tls, 0, sizeof(tls));
            ev.type = type;
            ev.meta.frame = 1000 + (uint64_t)variant;
            ev.meta.ts_ns = INT64_C(1764000000123456789);
            ev.dir = variant & 1;
            if (variant & 2) {
                ev.from = tricky;
                ev.to = "b.example";
                ev.id = "";
                ev.version = "1.0";
                ev.type_str = "result";
                ev.mechanisms = "EXTERNAL PLAIN";
                ev.mechanism = "EXTERNAL";
                ev.child_name = "query";
                ev.child_ns = "jabber:iq:roster";
                ev.body = tricky;
                ev.other_name = "x";
                ev.error_msg = "not well-formed";
                ev.decrypt_reason = "no key";
                ev.condition = "remote-server-not-found";
                ev.text = tricky;
                ev.cond_text = "c";
                ev.error_type = "cancel";
                ev.decrypted = true;
                ev.truncated = true;
                ev.restart = true;
            }
            ev.stream_ns_ok = variant & 4;
            ev.starttls = ev.db_ns = ev.stream_closed = variant & 4;
            ev.stanza = variant % 3;
            ev.size = (uint32_t)variant * 1000;
            ev.nbytes = 5;
            ev.offset = 17;
            tls.type = variant % (TLS_EV_ERROR + 1);
            tls.n_versions = variant & 2 ? 2 : 0;
            tls.versions[0] = 0x0304;
            tls.versions[1] = 0x0303;
            tls.n_alpn = variant & 4 ? 1 : 0;
            tls.alpn[0] = "xmpp-server";
            tls.sni = variant & 2 ? "b.example" : NULL;
            tls.cert_cn = tricky;
            tls.n_san = variant & 4 ? 1 : 0;
            tls.cert_san[0] = "b.example";
            tls.cert_parsed = variant & 2;
            tls.alert_encrypted = variant & 4;
            tls.error = variant & 2 ? "bad record" : NULL;
            ev.tls = &tls;
            jw_text_reset(&t);
            xmpp_write(&t, o, &fi, &ev, false);
            tree = xmpp_json(o, &fi, &ev);
            json_object_object_del(tree, "uid");
            CHECK(same_as_json_c(&t, tree));
            json_object_put(tree);
        }
    }
    jw_free(&t);
    output_free(o);
    fclose(null);
}

static const char *evidence_file(const void *ctx, const struct corr_direction *d)
{
    (void)ctx;
    return d->n_timeline & 1 ? "/tmp/evidence/F1 \"x\".pcap" : NULL;
}

/* The document's connections (SPACED) and federations (JSON_FLAGS, an
 * element of the top-level array): the text is json-c's print of the
 * tree the same description builds. */
static void test_conns_and_federations(void)
{
    char err[256];
    FILE *null = fopen("/dev/null", "w");
    struct output *o = null ? output_new(OUTPUT_TEXT, null, 0, err, sizeof(err)) : NULL;
    static struct rnd_fed r;
    struct conn_record c;
    struct jw t;
    unsigned bad = 0;
    CHECK(o != NULL);
    if (!o)
        return;
    output_add_source(o, "in.pcap", "inside", false);
    output_add_source(o, "out.pcap", NULL, false);
    output_set_evidence(o, evidence_file, NULL);
    output_note_drops(o, INT64_C(1764000000100000000), INT64_C(1764000000300000000), 7);
    jw_text_init(&t);
    for (int i = 0; i < 1000 && bad < 3; i++) {
        char *elem;
        rnd_conn(&c);
        jw_text_layout(&t, JSON_ELEM_FLAGS, 0);
        jw_text_reset(&t);
        jw_open(&t, NULL);
        conn_members(&t, o, &c);
        jw_close(&t);
        if (!same_as_json_c_at(&t, conn_json(o, &c), JSON_ELEM_FLAGS, 0))
            bad++;
        rnd_federation(&r);
        jw_text_layout(&t, JSON_FLAGS, 1);
        jw_text_reset(&t);
        federation_write(&t, o, &r.f);
        if (!same_as_json_c_at(&t, federation_json(o, &r.f), JSON_FLAGS, 1))
            bad++;
        elem = json_federation_element(o, &r.f);
        if (!elem || strcmp(elem, jw_text(&t, NULL)) != 0)
            bad++;
        free(elem);
    }
    CHECK(bad == 0);
    /* a direction active while the capture dropped packets: its verdict
     * and the federation's (the same one) say "medium", not "high" */
    rnd_federation(&r);
    r.f.n_dir = 1;
    r.f.verdict = &r.f.dir[0].verdict;
    r.f.dir[0].verdict.confidence = "high";
    r.f.dir[0].verdict.n_notes = 0;
    r.f.dir[0].verdict.n_evidence = 0;
    r.f.dir[0].n_timeline = 1;
    r.tl[0][0].ref.ts_ns = INT64_C(1764000000200000000);
    jw_text_reset(&t);
    federation_write(&t, o, &r.f);
    {
        const char *s = jw_text(&t, NULL), *p = s ? strstr(s, "\"confidence\": \"medium\"") : NULL;
        CHECK(p && strstr(p + 1, "\"confidence\": \"medium\"") && !strstr(s, "\"high\""));
        CHECK(s && strstr(s, "\"notes\": [\n            \"the capture dropped 7 packets while this direction was "
                             "active: confidence lowered\"\n          ]"));
    }
    r.tl[0][0].ref.ts_ns = INT64_C(1764000000400000000); /* after the drops */
    jw_text_reset(&t);
    federation_write(&t, o, &r.f);
    CHECK(jw_text(&t, NULL) && strstr(jw_text(&t, NULL), "\"confidence\": \"high\"") &&
          !strstr(jw_text(&t, NULL), "confidence lowered"));
    jw_free(&t);
    output_free(o);
    fclose(null);
}

int main(void)
{
    test_random_objects();
    test_layout_quirks();
    test_depth_overflow();
    test_xmpp_events();
    test_conns_and_federations();
    return check_summary("output_jwrite");
}
