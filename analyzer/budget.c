/*
 * budget.c - byte budgets for heap allocations (see budget.h).
 */
#include "budget.h"

#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

/* What precedes every block: padded so the payload keeps malloc's
 * alignment. */
union block_head {
    struct {
        struct mem_budget *budget;
        size_t size;           /* payload bytes */
    } h;
    max_align_t align;
};

#define HEAD sizeof(union block_head)

void budget_init(struct mem_budget *b, size_t limit, struct mem_budget *parent)
{
    memset(b, 0, sizeof(*b));
    b->limit = limit;
    b->parent = parent;
}

int budget_has_room(const struct mem_budget *b, size_t n)
{
    for (; b != NULL; b = b->parent)
        if (b->limit != 0 && (n > b->limit || b->used > b->limit - n))
            return 0;
    return 1;
}

/* Charges n bytes to b and its ancestors, or counts the refusal. */
static int charge(struct mem_budget *b, size_t n)
{
    struct mem_budget *a;

    for (a = b; a != NULL; a = a->parent)
        if (a->limit != 0 && (n > a->limit || a->used > a->limit - n)) {
            a->refused++;
            return 0;
        }
    for (a = b; a != NULL; a = a->parent) {
        a->used += n;
        if (a->used > a->peak)
            a->peak = a->used;
    }
    return 1;
}

static void uncharge(struct mem_budget *b, size_t n)
{
    for (; b != NULL; b = b->parent)
        b->used -= n < b->used ? n : b->used;
}

void *budget_malloc(struct mem_budget *b, size_t n)
{
    union block_head *hd;

    if (n > SIZE_MAX - HEAD || !charge(b, n + HEAD))
        return NULL;
    hd = malloc(n + HEAD);
    if (hd == NULL) {
        uncharge(b, n + HEAD);
        return NULL;
    }
    hd->h.budget = b;
    hd->h.size = n;
    return hd + 1;
}

void *budget_calloc(struct mem_budget *b, size_t n)
{
    void *p = budget_malloc(b, n);

    if (p != NULL)
        memset(p, 0, n);
    return p;
}

void *budget_realloc(void *p, size_t n)
{
    union block_head *hd, *nh;
    struct mem_budget *b;
    size_t old;

    if (p == NULL)
        return NULL; /* no budget to charge: callers start with budget_malloc */
    hd = (union block_head *)p - 1;
    b = hd->h.budget;
    old = hd->h.size;
    if (n > SIZE_MAX - HEAD)
        return NULL;
    if (n > old && !charge(b, n - old))
        return NULL;
    nh = realloc(hd, n + HEAD);
    if (nh == NULL) {
        if (n > old)
            uncharge(b, n - old);
        return NULL;
    }
    if (n < old)
        uncharge(b, old - n);
    nh->h.size = n;
    return nh + 1;
}

void budget_free(void *p)
{
    union block_head *hd;

    if (p == NULL)
        return;
    hd = (union block_head *)p - 1;
    uncharge(hd->h.budget, hd->h.size + HEAD);
    free(hd);
}

char *budget_strndup(struct mem_budget *b, const char *s, size_t max)
{
    size_t n = strnlen(s, max);
    char *p = budget_malloc(b, n + 1);

    if (p != NULL) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}
