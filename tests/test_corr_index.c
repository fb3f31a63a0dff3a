/*
 * test_corr_index.c - the correlator's keyed multimap against a plain
 * model: random keys of every length (so the key arena grows many times,
 * past its first 4 KiB, with and without corr_index_reserve), values kept
 * in insertion order, the _h calls equal to the plain ones, and clear.
 */
#include "../analyzer/corr_index.h"
#include "check.h"

#include <stdlib.h>
#include <string.h>

#define NKEYS 3000

static uint64_t rng = 0x243f6a8885a308d3u;
static uint32_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}

struct model_key {
    char bytes[300];
    size_t len;
    uint32_t count;        /* values added under it */
};

static int run_model(bool presize)
{
    static struct model_key keys[NKEYS];
    struct corr_index ix;
    uint32_t vals = 0;
    size_t total = 0;
    int bad = 0;

    corr_index_init(&ix);
    for (int i = 0; i < NKEYS; i++) {
        /* 4 to 299 bytes, unique through the index in the first four. */
        keys[i].len = sizeof(int) + next_rand() % (sizeof(keys[i].bytes) - sizeof(int));
        for (size_t j = 0; j < keys[i].len; j++)
            keys[i].bytes[j] = (char)next_rand();
        memcpy(keys[i].bytes, &i, sizeof(i));
        keys[i].count = 0;
        total += keys[i].len;
    }
    if (presize && !corr_index_reserve(&ix, NKEYS * 3, total))
        bad++;
    for (int round = 0; round < 3; round++)
        for (int i = 0; i < NKEYS; i++) {
            if (next_rand() % 3 == 0 && round)
                continue;
            uint64_t h = corr_index_hash(keys[i].bytes, keys[i].len);
            bool ok = (i & 1) ? corr_index_add_h(&ix, keys[i].bytes, keys[i].len, h, (uint32_t)i, keys[i].count)
                              : corr_index_add(&ix, keys[i].bytes, keys[i].len, (uint32_t)i, keys[i].count);
            if (!ok)
                bad++;
            keys[i].count++;
            vals++;
        }
    CHECK(ix.nvals == vals);
    CHECK(ix.nkeys == NKEYS);
    CHECK(ix.narena == total);
    for (int i = 0; i < NKEYS; i++) {
        uint32_t n = 0;
        uint64_t h = corr_index_hash(keys[i].bytes, keys[i].len);
        uint32_t first = corr_index_first(&ix, keys[i].bytes, keys[i].len);
        if (first != corr_index_first_h(&ix, keys[i].bytes, keys[i].len, h))
            bad++;
        if (corr_index_key_node(&ix, keys[i].bytes, keys[i].len) != corr_index_find_h(&ix, keys[i].bytes, keys[i].len, h))
            bad++;
        for (uint32_t v = first; v; v = corr_index_next(&ix, v), n++) {
            const struct corr_index_val *p = corr_index_val(&ix, v);
            if (p->a != (uint32_t)i || p->b != n)
                bad++;
        }
        if (n != keys[i].count)
            bad++;
    }
    /* A key that differs in its last byte is another key. */
    keys[0].bytes[keys[0].len - 1] ^= 0x5a;
    CHECK(corr_index_first(&ix, keys[0].bytes, keys[0].len) == 0 ||
          corr_index_val(&ix, corr_index_first(&ix, keys[0].bytes, keys[0].len))->a != 0);
    keys[0].bytes[keys[0].len - 1] ^= 0x5a;
    corr_index_clear(&ix);
    CHECK(corr_index_first(&ix, keys[1].bytes, keys[1].len) == 0);
    CHECK(corr_index_add(&ix, keys[1].bytes, keys[1].len, 7, 8));
    CHECK(corr_index_val(&ix, corr_index_first(&ix, keys[1].bytes, keys[1].len))->a == 7);
    corr_index_free(&ix);
    return bad;
}

int main(void)
{
    char buf[16];
    CHECK(run_model(false) == 0);
    CHECK(run_model(true) == 0);
    CHECK(corr_index_key1(buf, sizeof(buf), "Example.ORG") == 11 && memcmp(buf, "example.org", 11) == 0);
    CHECK(corr_index_key2(buf, sizeof(buf), "A.b", "C") == 5 && memcmp(buf, "a.b\x01" "c", 5) == 0);
    CHECK(corr_index_key2(buf, 4, "abcdef", "x") == 4);
    return check_summary("test_corr_index");
}
