/*
 * test_output_jwrite.c - unit tests for analyzer/output_jwrite.c: the
 * text writer prints exactly what json-c 0.16 prints (PLAIN,
 * NOSLASHESCAPE) for the tree the same calls build, on random objects
 * (nesting, every byte value in strings and keys, extreme integers) and
 * on XMPP and TLS events of every type (output_xmpp.c); a text writer
 * reused after reset holds only the new object.  Prints
 * "output_jwrite: N passed, N failed".
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

/* The same random calls on both writers. */
static void random_members(struct jw *t, struct jw *j, int depth, bool in_array)
{
    unsigned n = next() % 6;
    for (unsigned i = 0; i < n && nkeys < 512; i++) {
        char *key = NULL, s[64];
        unsigned kind = next() % (depth < 3 ? 7 : 5);
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

static bool same_as_json_c(struct jw *t, json_object *tree)
{
    size_t n;
    const char *text = jw_text(t, &n);
    const char *want = json_object_to_json_string_ext(tree, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
    bool same = text && want && strlen(want) == n && memcmp(text, want, n) == 0;
    if (!same)
        printf("text:   %s\njson-c: %s\n", text ? text : "(null)", want ? want : "(null)");
    return same;
}

static void test_random_objects(void)
{
    struct jw t;
    unsigned bad = 0;
    jw_text_init(&t);
    for (int round = 0; round < 3000; round++) {
        struct jw j;
        json_object *tree;
        jw_text_reset(&t);
        jw_tree_init(&j);
        nkeys = 0;
        jw_open(&t, NULL);
        jw_open(&j, NULL);
        random_members(&t, &j, 1, false);
        jw_close(&t);
        jw_close(&j);
        tree = jw_tree_take(&j);
        if (!same_as_json_c(&t, tree) && ++bad > 3)
            break;
        json_object_put(tree);
        jw_free(&j);
    }
    CHECK(bad == 0);
    /* the escapes json-c uses, spelled out */
    jw_text_reset(&t);
    jw_open(&t, NULL);
    jw_str(&t, "s", "\"\\/\b\f\n\r\t\x01\x1f\x7f\xc3\xa9");
    jw_close(&t);
    CHECK(strcmp(jw_text(&t, NULL), "{\"s\":\"\\\"\\\\/\\b\\f\\n\\r\\t\\u0001\\u001f\x7f\xc3\xa9\"}") == 0);
    jw_free(&t);
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

int main(void)
{
    test_random_objects();
    test_xmpp_events();
    return check_summary("output_jwrite");
}
