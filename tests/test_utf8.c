/* test_utf8.c - UTF-8 decoding, cutting and cleaning against every class
 * of ill-formed input (Unicode 15 section 3.9, Table 3-8), and terminal
 * escaping of controls, C1, bidi and line separators. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../analyzer/termsafe.h"
#include "../analyzer/utf8.h"
#include "check.h"

#define S(lit) (lit), sizeof(lit) - 1

/* clean(in) == want, with `repl` replacements. */
static void clean_json_is(const char *in, size_t n, bool json, const char *want, unsigned repl)
{
    char *buf = NULL;
    size_t len = 0;
    uint64_t count = 0;
    FILE *fp = open_memstream(&buf, &len);
    CHECK(fp != NULL);
    CHECK(utf8_fwrite_clean(fp, in, n, json, &count) == 0);
    fclose(fp);
    if (!CHECK(len == strlen(want) && memcmp(buf, want, len) == 0))
        printf("  got %zu bytes for a %zu-byte input\n", len, n);
    CHECK(count == repl);
    CHECK(utf8_valid(buf, len));
    free(buf);
}

static void clean_is(const char *in, size_t n, const char *want, unsigned repl)
{
    clean_json_is(in, n, false, want, repl);
}

static void one(const char *in, size_t n, size_t want_len, unsigned want_cp, int want_ok)
{
    uint32_t cp;
    bool ok;
    CHECK(utf8_next((const uint8_t *)in, n, &cp, &ok) == want_len);
    CHECK(ok == (want_ok != 0));
    CHECK(cp == want_cp);
}

static void esc_is(const char *in, const char *want)
{
    char buf[256];
    term_escape(buf, sizeof(buf), in);
    if (!CHECK(strcmp(buf, want) == 0))
        printf("  got '%s', want '%s'\n", buf, want);
}

#define R UTF8_REPLACEMENT

int main(void)
{
    /* well-formed, at every length boundary */
    one(S("A"), 1, 'A', 1);
    one(S("\xC2\x80"), 2, 0x80, 1);
    one(S("\xDF\xBF"), 2, 0x7FF, 1);
    one(S("\xE0\xA0\x80"), 3, 0x800, 1);
    one(S("\xED\x9F\xBF"), 3, 0xD7FF, 1);
    one(S("\xEE\x80\x80"), 3, 0xE000, 1);
    one(S("\xEF\xBF\xBF"), 3, 0xFFFF, 1);
    one(S("\xF0\x90\x80\x80"), 4, 0x10000, 1);
    one(S("\xF4\x8F\xBF\xBF"), 4, 0x10FFFF, 1);
    /* stray continuation bytes, C0/C1, F5..FF: one byte each */
    one(S("\x80"), 1, 0xFFFD, 0);
    one(S("\xBF"), 1, 0xFFFD, 0);
    one(S("\xC0\x80"), 1, 0xFFFD, 0);
    one(S("\xC1\xBF"), 1, 0xFFFD, 0);
    one(S("\xF5\x80\x80\x80"), 1, 0xFFFD, 0);
    one(S("\xFF"), 1, 0xFFFD, 0);
    /* overlong 3- and 4-byte forms */
    one(S("\xE0\x80\x80"), 1, 0xFFFD, 0);
    one(S("\xE0\x9F\xBF"), 1, 0xFFFD, 0);
    one(S("\xF0\x80\x80\x80"), 1, 0xFFFD, 0);
    one(S("\xF0\x8F\xBF\xBF"), 1, 0xFFFD, 0);
    /* surrogates, above U+10FFFF */
    one(S("\xED\xA0\x80"), 1, 0xFFFD, 0);
    one(S("\xED\xBF\xBF"), 1, 0xFFFD, 0);
    one(S("\xF4\x90\x80\x80"), 1, 0xFFFD, 0);
    /* cut short: the valid prefix is the maximal subpart; ASCII after it
     * is never swallowed */
    one(S("\xE2\x82"), 2, 0xFFFD, 0);
    one(S("\xE2\x82\""), 2, 0xFFFD, 0);
    one(S("\xF0\x9F\x98"), 3, 0xFFFD, 0);
    one(S("\xC3"), 1, 0xFFFD, 0);

    CHECK(utf8_valid(S("plain ascii")));
    CHECK(utf8_valid(S("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80")));
    CHECK(!utf8_valid(S("caf\xC3")));
    CHECK(utf8_valid_prefix(S("ab\xC3\xA9\xFF" "cd")) == 4);
    CHECK(utf8_valid(S("")));

    /* Table 3-8 of Unicode 15: 61 F1 80 80 E1 80 C2 62 80 63 80 BF 64 */
    clean_is(S("\x61\xF1\x80\x80\xE1\x80\xC2\x62\x80\x63\x80\xBF\x64"), "a" R R R "b" R "c" R R "d", 6);
    clean_is(S("ok \xC3\xA9"), "ok \xC3\xA9", 0);
    clean_is(S("\xED\xA0\x80x"), R R R "x", 3);
    clean_is(S("\xC0\xAF"), R R, 2);
    clean_is(S("\"\xE2\x82\""), "\"" R "\"", 1);
    clean_is(S("\xF4\x90\x80\x80"), R R R R, 4);
    clean_is(S("\xF0\x9F\x98"), R, 1);
    clean_is(S(""), "", 0);
    /* line breaks a reader may split on: kept as text, escaped in JSON */
    clean_is(S("a\xE2\x80\xA8" "b\xC2\x85"), "a\xE2\x80\xA8" "b\xC2\x85", 0);
    clean_json_is(S("\"a\xE2\x80\xA8" "b\xE2\x80\xA9\xC2\x85\xFF\""), true, "\"a\\u2028b\\u2029\\u0085" R "\"", 1);

    /* cutting at a character boundary */
    CHECK(utf8_cut(S("abc"), 5) == 3);
    CHECK(utf8_cut(S("abcdef"), 3) == 3);
    CHECK(utf8_cut(S("a\xC3\xA9"), 2) == 1);              /* not inside é */
    CHECK(utf8_cut(S("a\xC3\xA9" "b"), 3) == 3);          /* after é */
    CHECK(utf8_cut(S("a\xE2\x82\xAC"), 2) == 1);          /* inside € */
    CHECK(utf8_cut(S("a\xE2\x82\xAC"), 3) == 1);
    CHECK(utf8_cut(S("a\xE2\x82\xAC" "b"), 4) == 4);
    CHECK(utf8_cut(S("\xF0\x9F\x98\x80" "b"), 3) == 0);   /* inside 😀 */
    CHECK(utf8_cut(S("\x80\x80\x80\x80\x80"), 2) == 2);   /* ill-formed: anywhere */
    CHECK(utf8_cut(S("a\xED\xA0\x80"), 2) == 2);          /* surrogate: ill-formed */
    {
        /* 1023 bytes of é (2 bytes each) cut at 1023: 1022, never a half */
        char big[2048];
        for (int i = 0; i < 1024; i++)
            memcpy(big + 2 * i, "\xC3\xA9", 2);
        size_t k = utf8_cut(big, 2048, 1023);
        CHECK(k == 1022);
        CHECK(utf8_valid(big, k));
    }

    /* terminal escaping */
    esc_is("a.example", "a.example");
    esc_is("caf\xC3\xA9", "caf\xC3\xA9");
    esc_is("x\nF00000000 a.example <-> b.example OK", "x\\x0aF00000000 a.example <-> b.example OK");
    esc_is("a\rb\tc\x1b[2Jd\x7f", "a\\x0db\\x09c\\x1b[2Jd\\x7f");
    esc_is("csi \xC2\x9B" "31m", "csi \\u009b31m");                /* C1 as UTF-8 */
    esc_is("raw \x9B" "31m", "raw \\x9b31m");                      /* C1 as a raw byte */
    esc_is("\xE2\x80\xAE" "evil", "\\u202eevil");                  /* RLO */
    esc_is("\xE2\x80\xAA\xE2\x81\xA6\xE2\x81\xA9", "\\u202a\\u2066\\u2069");
    esc_is("line\xE2\x80\xA8" "sep\xE2\x80\xA9", "line\\u2028sep\\u2029");
    esc_is("\xED\xA0\x80", "\\xed\\xa0\\x80");
    esc_is(NULL, "");
    {
        char small[16];
        term_escape(small, sizeof(small), "abcdefghijklmnopqrstuvwxyz");
        CHECK(strcmp(small, "abcdefghijkl\xe2\x80\xa6") == 0);
        /* several words: the cut ends after a whole word */
        term_escape(small, sizeof(small), "points to another server");
        CHECK(strcmp(small, "points to\xe2\x80\xa6") == 0);
        term_escape(small, sizeof(small), "abcdefghijklmno");
        CHECK(strcmp(small, "abcdefghijklmno") == 0);
        term_escape(small, sizeof(small), "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9");
        CHECK(utf8_valid(small, strlen(small)));
        CHECK(strlen(small) < sizeof(small));
        term_escape(small, sizeof(small), "\n\n\n\n\n\n");
        CHECK(strchr(small, '\n') == NULL);
    }
    {
        /* utf8_cut_words: a whole word, no dangling separator or arrow */
        const char *t = "the key came from 10.0.0.1: it points to another server";
        CHECK(utf8_cut_words(t, strlen(t), 200) == strlen(t));
        CHECK(utf8_cut_words(t, strlen(t), 50) == strlen("the key came from 10.0.0.1: it points to another"));
        CHECK(utf8_cut_words(t, strlen(t), 47) == strlen("the key came from 10.0.0.1: it points to"));
        CHECK(utf8_cut_words(t, strlen(t), 29) == strlen("the key came from 10.0.0.1"));
        t = "FIN from x; <- stream header";
        CHECK(utf8_cut_words(t, strlen(t), 16) == strlen("FIN from x"));
        t = "abcdefghijklmnopqrstuvwxyz";
        CHECK(utf8_cut_words(t, strlen(t), 10) == 10);
        t = "\xC3\xA9\xC3\xA9\xC3\xA9";
        CHECK(utf8_cut_words(t, strlen(t), 3) == 2);
    }
    return check_summary("test_utf8");
}
