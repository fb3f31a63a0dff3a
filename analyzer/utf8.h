/*
 * utf8.h - UTF-8 as RFC 3629 defines it: decode one character, check a
 * string, cut a string at a character boundary or a word boundary, write a string with every
 * ill-formed sequence replaced by U+FFFD.
 *
 * Ill-formed input (stray continuation bytes, overlong forms, surrogates
 * U+D800-U+DFFF, code points above U+10FFFF, bytes C0, C1, F5-FF, a
 * sequence cut short) is handled one "maximal subpart" at a time, as
 * Unicode 15 section 3.9 and the WHATWG decoder do: an ASCII byte is never
 * swallowed into a bad sequence, so JSON structure around a string is
 * never damaged by cleaning it.  No state, no allocation.
 */
#ifndef FT_UTF8_H
#define FT_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define UTF8_REPLACEMENT "\xEF\xBF\xBD" /* U+FFFD */

/* Reads the character at p[0..n) (n >= 1).  Returns the bytes it takes
 * and sets *cp when it is well-formed; otherwise returns the length of the
 * ill-formed maximal subpart (1..3) to skip and sets *cp to 0xFFFD.  *ok
 * tells which. */
size_t utf8_next(const uint8_t *p, size_t n, uint32_t *cp, bool *ok);

/* Length of the longest well-formed prefix of s[0..n). */
size_t utf8_valid_prefix(const char *s, size_t n);

/* True when all of s[0..n) is well-formed UTF-8. */
bool utf8_valid(const char *s, size_t n);

/* The longest length <= max at which s[0..n) may be cut without splitting
 * a well-formed character (n when n <= max).  Ill-formed bytes are cut
 * anywhere: they are replaced on output in any case. */
size_t utf8_cut(const char *s, size_t n, size_t max);

/* Where to end s[0..n) when at most max bytes of it fit and an ellipsis
 * follows: after the last whole word (at a space), with no separator or
 * bare arrow ("<-", "->") dangling before the ellipsis; a text that is a
 * single word is cut at a character boundary.  n when n <= max. */
size_t utf8_cut_words(const char *s, size_t n, size_t max);

/* Writes s[0..n) to fp with every ill-formed subpart replaced by U+FFFD
 * and adds the number of replacements to *replaced (may be NULL).  With
 * json (s is serialised JSON, where bytes >= 0x80 only occur inside
 * strings), U+0085, U+2028 and U+2029 are written as \uXXXX escapes, so
 * a reader that splits on Unicode line breaks still sees one NDJSON event
 * per line.  Returns 0, or -1 when fp reported a write error. */
int utf8_fwrite_clean(FILE *fp, const char *s, size_t n, bool json, uint64_t *replaced);

#endif
