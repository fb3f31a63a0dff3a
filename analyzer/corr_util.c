/*
 * corr_util.c - small string, JID and address helpers shared by the
 * correlator's modules (see corr_util.h), and its clock.
 */
#include "corr_util.h"
#include "utf8.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

char *corr_dup(const char *s)
{
    return s ? strndup(s, STR_CAP - 1) : NULL;
}

#define ELLIPSIS "\xe2\x80\xa6" /* U+2026, 3 bytes */

void corr_fit_words(char *buf, size_t len)
{
    size_t limit, cut;
    const size_t el = sizeof(ELLIPSIS) - 1;
    if (len < el + 1) {
        if (len)
            buf[0] = '\0';
        return;
    }
    /* The kept text plus the ellipsis and the NUL fit in len. */
    limit = len - 1 - el;
    cut = utf8_cut_words(buf, strlen(buf), limit);
    memcpy(buf + cut, ELLIPSIS, el + 1);
}

char *corr_vformat(char *buf, size_t len, const char *fmt, va_list ap)
{
    int n;
    if (!len)
        return buf;
    n = vsnprintf(buf, len, fmt, ap);
    if (n < 0)
        buf[0] = '\0';
    else if ((size_t)n >= len)
        corr_fit_words(buf, len);
    return buf;
}

char *corr_format(char *buf, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    corr_vformat(buf, len, fmt, ap);
    va_end(ap);
    return buf;
}

char *corr_dup_text(const char *s)
{
    char *d;
    size_t n;
    if (!s)
        return NULL;
    n = strlen(s);
    if (n < STR_CAP)
        return strdup(s);
    d = malloc(STR_CAP);
    if (!d)
        return NULL;
    memcpy(d, s, STR_CAP - 1);
    d[STR_CAP - 1] = '\0';
    corr_fit_words(d, STR_CAP);
    return d;
}

void corr_copy(char *dst, size_t len, const char *src)
{
    size_t n;

    if (len == 0)
        return;
    n = src != NULL ? strnlen(src, len - 1) : 0;
    memcpy(dst, src != NULL ? src : "", n);
    dst[n] = '\0';
}

struct frame_ref corr_ref(const struct ft_meta *m)
{
    struct frame_ref r = { m->frame, m->src_frame, m->source, m->ts_ns };
    return r;
}

bool corr_grow(void **arr, unsigned *cap, unsigned need, size_t elem)
{
    return corr_grow_from(arr, cap, need, elem, 16);
}

/* Grows *arr to hold need elements, doubling from first (at least 1). */
bool corr_grow_from(void **arr, unsigned *cap, unsigned need, size_t elem, unsigned first)
{
    void *n;
    unsigned nc;
    if (need <= *cap)
        return true;
    nc = *cap ? *cap * 2 : (first ? first : 1);
    while (nc < need)
        nc *= 2;
    n = realloc(*arr, (size_t)nc * elem);
    if (!n)
        return false;
    *arr = n;
    *cap = nc;
    return true;
}

/* The domain part of a JID ("user@dom/res" -> "dom"), lowercased. */
void corr_jid_domain(const char *jid, char *out, size_t len)
{
    const char *at, *slash, *start;
    size_t n;
    out[0] = '\0';
    if (!jid || !*jid)
        return;
    slash = strchr(jid, '/');
    at = strchr(jid, '@');
    if (at && slash && at > slash)
        at = NULL;
    start = at ? at + 1 : jid;
    n = slash ? (size_t)(slash - start) : strlen(start);
    if (n >= len)
        n = len - 1;
    for (size_t i = 0; i < n; i++)
        out[i] = (char)((start[i] >= 'A' && start[i] <= 'Z') ? start[i] + 32 : start[i]);
    out[n] = '\0';
}

/* The bare JID (no resource). */
void corr_jid_bare(const char *jid, char *out, size_t len)
{
    const char *slash;
    size_t n;
    out[0] = '\0';
    if (!jid)
        return;
    slash = strchr(jid, '/');
    n = slash ? (size_t)(slash - jid) : strlen(jid);
    if (n >= len)
        n = len - 1;
    memcpy(out, jid, n);
    out[n] = '\0';
}

/* Writes v in decimal at out (room for 5 digits); its length. */
static size_t put_u16(char *out, unsigned v)
{
    char digits[5];
    size_t nd = 0, n = 0;
    do {
        digits[nd++] = (char)('0' + v % 10);
        v /= 10;
    } while (v && nd < sizeof(digits));
    while (nd)
        out[n++] = digits[--nd];
    return n;
}

/* Copies n bytes of tmp to buf cut as snprintf cuts: at most len - 1
 * bytes, always terminated (len > 0). */
static void put_cut(char *buf, size_t len, const char *tmp, size_t n)
{
    if (n > len - 1)
        n = len - 1;
    memcpy(buf, tmp, n);
    buf[n] = '\0';
}

void corr_addr_port(char *buf, size_t len, const struct ft_addr *a, uint16_t port)
{
    /* "[" address "]" ":" 5 digits NUL */
    char tmp[FT_ADDR_STRLEN + 9];
    size_t n = 0;
    if (!len)
        return;
    if (a->family == 6)
        tmp[n++] = '[';
    ft_addr_str(a, tmp + n, FT_ADDR_STRLEN);
    n += strnlen(tmp + n, FT_ADDR_STRLEN - 1);
    if (a->family == 6)
        tmp[n++] = ']';
    tmp[n++] = ':';
    n += put_u16(tmp + n, port);
    put_cut(buf, len, tmp, n);
}

bool corr_jid_eq_bare(const char *a, const char *b)
{
    char x[STR_CAP], y[STR_CAP];
    corr_jid_bare(a, x, sizeof(x));
    corr_jid_bare(b, y, sizeof(y));
    return x[0] && strcasecmp(x, y) == 0;
}

const char *corr_syns_str(uint16_t n, char *buf, size_t len)
{
    /* "%u SYN%s" by hand, cut like snprintf */
    char tmp[sizeof("65535 SYNs")];
    size_t k;
    if (!len)
        return buf;
    k = put_u16(tmp, n);
    memcpy(tmp + k, " SYN", 4);
    k += 4;
    if (n != 1)
        tmp[k++] = 's';
    put_cut(buf, len, tmp, k);
    return buf;
}

uint64_t corr_mono_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}
