/*
 * check.h - minimal assertion helpers for the standalone unit tests.
 *
 * CHECK(cond) counts a pass or prints the failing expression with its
 * file:line and counts a failure; check_summary(name) prints the line
 * "<name>: N passed, N failed" and returns the exit status for main().
 * Test programs only: the counters are per translation unit.
 */
#ifndef FT_CHECK_H
#define FT_CHECK_H

#include <stdio.h>

static int check_passed_;
static int check_failed_;

static inline int check_record_(int ok, const char *expr, const char *file, int line)
{
    if (ok) {
        check_passed_++;
    } else {
        check_failed_++;
        printf("FAIL %s:%d: %s\n", file, line, expr);
    }
    return ok;
}

/* Evaluates to 1 when cond holds, 0 otherwise; never returns from the caller. */
#define CHECK(cond) check_record_(!!(cond), #cond, __FILE__, __LINE__)

/* Print the summary line; returns 0 when nothing failed, 1 otherwise. */
static inline int check_summary(const char *name)
{
    printf("%s: %d passed, %d failed\n", name, check_passed_, check_failed_);
    return check_failed_ != 0;
}

#endif
