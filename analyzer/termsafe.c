/*
 * termsafe.c - escaping wire strings for the terminal (see termsafe.h).
 */
#include <config.h>

#include "termsafe.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "utf8.h"

/* Valid characters that must not reach a terminal as they are. */
static bool needs_escape(uint32_t cp)
{
    return cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F) || cp == 0x061C || cp == 0x200E ||
           cp == 0x200F || (cp >= 0x2028 && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

const char *term_escape(char *dst, size_t len, const char *src)
{
    const uint8_t *p = (const uint8_t *)(src ? src : "");
    size_t n = strlen((const char *)p), i = 0, o = 0, mark = 0, word_mark = 0;
    char piece[32];

    while (i < n) {
        uint32_t cp;
        bool ok;
        size_t k = utf8_next(p + i, n - i, &cp, &ok), plen = 0;
        if (!ok) {
            for (size_t j = 0; j < k; j++)
                plen += (size_t)snprintf(piece + plen, sizeof(piece) - plen, "\\x%02x", p[i + j]);
        } else if (needs_escape(cp)) {
            plen = (size_t)snprintf(piece, sizeof(piece), cp < 0x80 ? "\\x%02x" : "\\u%04x", (unsigned)cp);
        } else {
            memcpy(piece, p + i, k);
            plen = k;
        }
        if (o + plen + 1 > len) {
            /* does not fit: end after the last whole word the ellipsis
             * still fits behind (or, in one long word, where it fits) */
            size_t end = word_mark ? word_mark : mark;
            memcpy(dst + end, "\xe2\x80\xa6", 3); /* U+2026 */
            o = end + 3;
            break;
        }
        if (plen == 1 && piece[0] == ' ' && o + 4 <= len) {
            size_t w = o; /* the word before this space ends here */
            while (w > 0 && strchr(" ,;:(=", dst[w - 1]))
                w--;
            if (w > 0)
                word_mark = w;
        }
        memcpy(dst + o, piece, plen);
        o += plen;
        if (o + 4 <= len)
            mark = o;
        i += k;
    }
    dst[o] = '\0';
    return dst;
}
