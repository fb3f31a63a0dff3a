/*
 * utf8.c - UTF-8 decoding, checking, cutting and cleaning (see utf8.h).
 */
#include <config.h>

#include "utf8.h"

static bool is_cont(uint8_t b)
{
    return (b & 0xC0) == 0x80;
}

size_t utf8_next(const uint8_t *p, size_t n, uint32_t *cp, bool *ok)
{
    uint8_t b = p[0];
    uint8_t lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
    size_t need, i;
    uint32_t v;

    *ok = false;
    *cp = 0xFFFD;
    if (b < 0x80) {
        *cp = b;
        *ok = true;
        return 1;
    }
    if (b >= 0xC2 && b <= 0xDF) {
        need = 1;
        v = b & 0x1Fu;
    } else if (b >= 0xE0 && b <= 0xEF) {
        need = 2;
        v = b & 0x0Fu;
        if (b == 0xE0)
            lo = 0xA0; /* overlong */
        else if (b == 0xED)
            hi = 0x9F; /* surrogates */
    } else if (b >= 0xF0 && b <= 0xF4) {
        need = 3;
        v = b & 0x07u;
        if (b == 0xF0)
            lo = 0x90; /* overlong */
        else if (b == 0xF4)
            hi = 0x8F; /* above U+10FFFF */
    } else {
        return 1; /* continuation byte, C0, C1 or F5..FF */
    }
    for (i = 1; i <= need; i++) {
        uint8_t c = i < n ? p[i] : 0;
        if (i >= n || (i == 1 ? (c < lo || c > hi) : !is_cont(c)))
            return i; /* the bytes before i are the maximal subpart */
        v = (v << 6) | (c & 0x3Fu);
    }
    *cp = v;
    *ok = true;
    return need + 1;
}

size_t utf8_valid_prefix(const char *s, size_t n)
{
    const uint8_t *p = (const uint8_t *)s;
    size_t i = 0;
    while (i < n) {
        uint32_t cp;
        bool ok;
        size_t k;
        if (p[i] < 0x80) {
            i++;
            continue;
        }
        k = utf8_next(p + i, n - i, &cp, &ok);
        if (!ok)
            break;
        i += k;
    }
    return i;
}

bool utf8_valid(const char *s, size_t n)
{
    return utf8_valid_prefix(s, n) == n;
}

size_t utf8_cut(const char *s, size_t n, size_t max)
{
    const uint8_t *p = (const uint8_t *)s;
    if (n <= max)
        return n;
    if (!is_cont(p[max]))
        return max;
    /* p[max] continues a character that starts at most 3 bytes earlier. */
    for (size_t back = 1; back <= 3 && back <= max; back++) {
        size_t k = max - back;
        if (!is_cont(p[k])) {
            uint32_t cp;
            bool ok;
            size_t len = utf8_next(p + k, n - k, &cp, &ok);
            return ok && k + len > max ? k : max;
        }
    }
    return max;
}

/* The characters a line reader may take for a line break (Python's
 * splitlines, JavaScript) that JSON allows raw inside a string. */
static bool is_unicode_break(uint32_t cp)
{
    return cp == 0x85 || cp == 0x2028 || cp == 0x2029;
}

int utf8_fwrite_clean(FILE *fp, const char *s, size_t n, bool json, uint64_t *replaced)
{
    const uint8_t *p = (const uint8_t *)s;
    size_t i = 0, run = 0; /* s[run..i) is written as it is */
    while (i < n) {
        uint32_t cp;
        bool ok;
        size_t k;
        if (p[i] < 0x80) {
            i++;
            continue;
        }
        k = utf8_next(p + i, n - i, &cp, &ok);
        if (ok && !(json && is_unicode_break(cp))) {
            i += k;
            continue;
        }
        if (i > run && fwrite(s + run, 1, i - run, fp) != i - run)
            return -1;
        if (!ok) {
            if (fwrite(UTF8_REPLACEMENT, 1, 3, fp) != 3)
                return -1;
            if (replaced)
                (*replaced)++;
        } else if (fprintf(fp, "\\u%04x", (unsigned)cp) < 0) {
            return -1;
        }
        i += k;
        run = i;
    }
    if (i > run && fwrite(s + run, 1, i - run, fp) != i - run)
        return -1;
    return 0;
}

static bool is_separator(char ch)
{
    return ch == ' ' || ch == ',' || ch == ';' || ch == ':' || ch == '(' || ch == '=';
}

static bool is_arrow_char(char ch)
{
    return ch == '<' || ch == '>' || ch == '-';
}

size_t utf8_cut_words(const char *s, size_t n, size_t max)
{
    size_t cut = utf8_cut(s, n, max), w;
    if (cut >= n)
        return n;
    w = cut;
    while (w > 0 && s[w] != ' ')
        w--;
    if (w == 0)
        return cut; /* one long word */
    cut = w;
    for (;;) {
        size_t start = cut;
        while (cut > 0 && is_separator(s[cut - 1]))
            cut--;
        /* a bare arrow or dash left as the last word goes too */
        w = cut;
        while (w > 0 && is_arrow_char(s[w - 1]))
            w--;
        if (w < cut && (w == 0 || s[w - 1] == ' '))
            cut = w;
        if (cut == start || cut == 0)
            break;
    }
    return cut;
}
