/* test_time.c - the timestamp format every output element uses
 * (format_time): the same text as gmtime_r + strftime for edge dates
 * (epoch, leap days, century years, the clamp limits 1970 and 2116),
 * negative and sub-second times, and a million pseudo-random instants. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../analyzer/output.h"
#include "check.h"

/* The straightforward formatting, as the output did it before. */
static void reference(int64_t ts_ns, char *buf, size_t len)
{
    time_t sec = (time_t)(ts_ns / 1000000000);
    long usec = (long)((ts_ns % 1000000000) / 1000);
    struct tm tm;
    char day[32];
    if (usec < 0) {
        sec -= 1;
        usec += 1000000;
    }
    gmtime_r(&sec, &tm);
    strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf, len, "%s.%06ldZ", day, usec);
}

static int same(int64_t ts_ns)
{
    char got[40], want[40];
    format_time(ts_ns, got, sizeof(got));
    reference(ts_ns, want, sizeof(want));
    if (strcmp(got, want) != 0) {
        printf("  %lld: got %s, want %s\n", (long long)ts_ns, got, want);
        return 0;
    }
    return 1;
}

int main(void)
{
    static const int64_t s = 1000000000;
    static const int64_t edges[] = {
        0, 1, 999, 1000, 999999999, -1, -1000, -999999999, -s, -s - 1,
        951782400LL * s,            /* 2000-02-29 */
        951868800LL * s - 1,        /* 2000-02-29T23:59:59.999999 */
        4107542400LL * s,           /* 2100-03-01 */
        4107456000LL * s,           /* 2100-02-28 */
        4638470400LL * s - 1000,    /* 2116-12-31T23:59:59.999999: the clamp's end */
        1795507200LL * s + 123456789,
        -2208988800LL * s,          /* 1900-01-01 */
        INT64_MAX, INT64_MIN + 1,   /* 2262 and 1677: the ends of the range */
    };
    uint64_t x = 88172645463325252ULL;
    unsigned bad = 0;
    char small[8];

    for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++)
        CHECK(same(edges[i]));
    for (int i = 0; i < 1000000; i++) {
        int64_t t;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        /* 1900 .. 2150, any nanosecond */
        t = (int64_t)(x % (UINT64_C(7889400000) * 1000000000)) - INT64_C(2208988800) * 1000000000;
        bad += !same(t);
        if (bad > 5)
            break;
    }
    CHECK(bad == 0);
    /* A buffer too small gets a cut, terminated string. */
    format_time(0, small, sizeof(small));
    CHECK(strlen(small) == sizeof(small) - 1 && memcmp(small, "1970-01", 7) == 0);
    return check_summary("test_time");
}
