/*
 * test_output_pending.c - unit tests for analyzer/output_spool.c and
 * analyzer/output_pending.c: records read back as written, a connection's
 * events come back in order whatever the interleaving, taking a
 * connection forgets it, the hash table survives growth and many
 * deletions (checked against a plain array), and a spool that cannot be
 * made says so.  Prints "output_pending: N passed, N failed".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../analyzer/output_pending.h"
#include "check.h"

static void test_spool(void)
{
    struct spool s;
    char buf[64];
    int64_t a, b;
    CHECK(spool_open(&s) == 0 && s.created && s.err == 0);
    a = spool_append(&s, "hello ", 6);
    b = spool_append(&s, "world", 5);
    CHECK(a == 0 && b == 6 && s.size == 11);
    CHECK(spool_read(&s, 6, buf, 5) == 0 && memcmp(buf, "world", 5) == 0);
    /* appending after a read goes to the end, not where the read stopped */
    CHECK(spool_append(&s, "!", 1) == 11);
    CHECK(spool_read(&s, 0, buf, 12) == 0 && memcmp(buf, "hello world!", 12) == 0);
    /* out of range is an error, and it sticks */
    CHECK(spool_read(&s, 10, buf, 5) == -1 && s.err != 0);
    CHECK(spool_append(&s, "x", 1) == -1);
    spool_close(&s);

    /* a directory that does not exist: no file, and the reason */
    setenv("TMPDIR", "/nonexistent/fedtrace-test", 1);
    CHECK(spool_open(&s) == -1 && !s.created && s.err != 0);
    CHECK(strcmp(s.dir, "/nonexistent/fedtrace-test") == 0);
    spool_close(&s);
    unsetenv("TMPDIR");
}

/* What pending_take hands over, checked against what was added. */
struct got {
    char text[64][32];
    unsigned n;
};

static void collect(void *user, const char *data, size_t n)
{
    struct got *g = user;
    if (g->n < 64 && n < sizeof(g->text[0]) && data[n] == '\0') {
        memcpy(g->text[g->n], data, n + 1);
        g->n++;
    }
}

static void test_pending_order(void)
{
    struct pending_store ps;
    struct pending_conn pc;
    struct got g;
    char ev[32];
    CHECK(pending_init(&ps) == 0);
    /* three connections, events interleaved */
    for (int i = 0; i < 30; i++) {
        uint64_t id = (uint64_t)(i % 3) + 1;
        struct pending_conn *p = pending_get(&ps, id, true);
        snprintf(ev, sizeof(ev), "c%llu-e%d", (unsigned long long)id, i / 3);
        if (!CHECK(p != NULL))
            break;
        p->stanzas[1]++;
        CHECK(pending_add(&ps, p, ev, strlen(ev)) == 0);
    }
    CHECK(ps.used == 3);
    memset(&g, 0, sizeof(g));
    CHECK(pending_take(&ps, 2, &pc, collect, &g));
    CHECK(pc.flow_id == 2 && pc.events == 10 && pc.stanzas[1] == 10 && g.n == 10);
    for (unsigned k = 0; k < g.n; k++) {
        snprintf(ev, sizeof(ev), "c2-e%u", k);
        if (!CHECK(strcmp(g.text[k], ev) == 0))
            printf("  event %u: %s\n", k, g.text[k]);
    }
    /* taken means gone */
    CHECK(pending_get(&ps, 2, false) == NULL && ps.used == 2);
    CHECK(!pending_take(&ps, 2, &pc, collect, &g));
    /* a connection with a record but no events */
    CHECK(pending_get(&ps, 77, true) != NULL);
    memset(&g, 0, sizeof(g));
    CHECK(pending_take(&ps, 77, &pc, collect, &g) && pc.events == 0 && g.n == 0);
    /* flow id 0 is never a connection */
    CHECK(pending_get(&ps, 0, true) == NULL);
    pending_free(&ps);
}

/* Many inserts and deletions in a pseudo-random order: every live id is
 * found, every deleted one is not. */
static void table_churn(uint64_t N, int rounds)
{
    static unsigned char live[20001];
    struct pending_store ps;
    struct pending_conn pc;
    struct got g;
    uint32_t x = 12345;
    unsigned nlive = 0, bad = 0;

    memset(live, 0, sizeof(live));
    CHECK(pending_init(&ps) == 0);
    if (N > 20000)
        return;
    for (int round = 0; round < rounds; round++) {
        uint64_t id;
        x = x * 1103515245u + 12345u;
        id = (x >> 8) % N + 1;
        if (!live[id]) {
            struct pending_conn *p = pending_get(&ps, id, true);
            if (p && pending_add(&ps, p, "e", 1) == 0) {
                live[id] = 1;
                nlive++;
            } else {
                bad++;
            }
        } else if (x & 0x10000) {
            memset(&g, 0, sizeof(g));
            if (!pending_take(&ps, id, &pc, collect, &g) || pc.flow_id != id || g.n != 1)
                bad++;
            live[id] = 0;
            nlive--;
        }
    }
    CHECK(bad == 0);
    CHECK(ps.used == nlive);
    for (uint64_t id = 1; id <= N; id++)
        if ((pending_get(&ps, id, false) != NULL) != (live[id] != 0))
            bad++;
    CHECK(bad == 0);
    CHECK(ps.cap >= 2 * ps.used);
    pending_free(&ps);
}

static void test_pending_table(void)
{
    table_churn(20000, 200000); /* grows to a large table */
    table_churn(400, 200000);   /* stays at 1024 slots: runs wrap around the end */
}

/* spool_read's window: reads anywhere, of any length, between appends
 * of any length, and the sequential reader after them, all return what
 * was written (a copy kept in memory says what that is). */
static void test_spool_window(void)
{
    enum { TOTAL = 400000 };
    struct spool s;
    unsigned char *ref = malloc(TOTAL), *buf = malloc(70000);
    uint64_t x = 88172645463325252ull, size = 0;
    unsigned bad = 0;
    CHECK(ref && buf && spool_open(&s) == 0);
    while (ref && buf && size < TOTAL - 70000) {
        size_t n;
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        n = (size_t)(x % 3 == 0 ? x % 60000 : x % 300);
        for (size_t i = 0; i < n; i++)
            ref[size + i] = (unsigned char)((size + i) * 2654435761u >> 13);
        if (spool_append(&s, ref + size, n) != (int64_t)size)
            bad++;
        size += n;
        for (int r = 0; r < 4 && size; r++) {
            uint64_t off, len;
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            off = x % size;
            len = (x >> 20) % (r == 3 ? 70000 : 200);
            if (len > size - off)
                len = size - off;
            if (spool_read(&s, off, buf, (size_t)len) != 0 || memcmp(buf, ref + off, (size_t)len) != 0)
                bad++;
        }
    }
    CHECK(bad == 0);
    CHECK(spool_rewind(&s) == 0 && spool_skip(&s, 100) == 0 && spool_next(&s, buf, 50) == 0 &&
          memcmp(buf, ref + 100, 50) == 0);
    CHECK(spool_skip(&s, 20000) == 0 && spool_next(&s, buf, 10) == 0 && memcmp(buf, ref + 20150, 10) == 0);
    CHECK(spool_read(&s, 5, buf, 10) == 0 && memcmp(buf, ref + 5, 10) == 0);
    CHECK(spool_next(&s, buf, 10) == 0 && memcmp(buf, ref + 20160, 10) == 0);
    spool_close(&s);
    free(ref);
    free(buf);
}

int main(void)
{
    test_spool();
    test_spool_window();
    test_pending_order();
    test_pending_table();
    return check_summary("output_pending");
}
