/*
 * test_budget.c - byte budgets: charging, refusal at the limit, parents,
 * realloc both ways, release to zero.
 */
#include <stdlib.h>
#include <string.h>

#include "../analyzer/budget.h"
#include "check.h"

int main(void)
{
    struct mem_budget top, child;
    char *a, *b, *c;
    size_t one;

    budget_init(&top, 4096, NULL);
    budget_init(&child, 0, &top);

    a = budget_malloc(&child, 100);
    CHECK(a != NULL);
    one = child.used;
    CHECK(one >= 100 && one < 200);          /* payload plus a small header */
    CHECK(top.used == one);                  /* the parent is charged too */
    memset(a, 'x', 100);

    a = budget_realloc(a, 1000);
    CHECK(a != NULL && a[99] == 'x');
    CHECK(child.used == one + 900 && top.used == child.used);

    b = budget_malloc(&child, 4096);         /* over the parent's limit */
    CHECK(b == NULL);
    CHECK(top.refused == 1 && child.refused == 0);
    CHECK(child.used == one + 900);          /* a refusal charges nothing */

    c = budget_realloc(a, 8000);             /* growth refused: a stays valid */
    CHECK(c == NULL && a[0] == 'x');
    CHECK(top.refused == 2);
    CHECK(!budget_has_room(&child, 4000));
    CHECK(budget_has_room(&child, 100));
    CHECK(budget_has_room(NULL, (size_t)-1));

    a = budget_realloc(a, 10);               /* shrinking gives bytes back */
    CHECK(a != NULL && child.used == one - 90);

    b = budget_strndup(&top, "example.org", 7);
    CHECK(b != NULL && strcmp(b, "example") == 0);
    b[0] = 'E';

    budget_free(a);
    budget_free(b);
    budget_free(NULL);
    CHECK(child.used == 0 && top.used == 0);
    CHECK(top.peak >= one + 900);

    c = budget_calloc(NULL, 16);             /* no budget: plain heap */
    CHECK(c != NULL && c[15] == 0);
    c = budget_realloc(c, 32);
    CHECK(c != NULL);
    budget_free(c);
    return check_summary("budget");
}
