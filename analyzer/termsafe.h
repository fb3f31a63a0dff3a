/*
 * termsafe.h - make a string from the wire safe to print on a terminal.
 *
 * Everything a peer controls and the text report prints goes through
 * term_escape(): C0 controls (newline and CR included), DEL and bytes that
 * are not UTF-8 become \xNN; C1 controls (U+0080-U+009F), bidi embeddings,
 * overrides, isolates and marks (U+061C, U+200E, U+200F, U+202A-U+202E,
 * U+2066-U+2069) and the line and paragraph separators (U+2028, U+2029)
 * become \uNNNN.  A remote server then cannot start a line of its own,
 * move the cursor or reorder what the reader sees.
 */
#ifndef FT_TERMSAFE_H
#define FT_TERMSAFE_H

#include <stddef.h>

/* Escapes src (NUL-terminated; NULL reads as "") into dst[len] (len >= 8)
 * and returns dst.  When it does not fit, it is cut at a character
 * boundary and ends in "...".  The caller owns dst. */
const char *term_escape(char *dst, size_t len, const char *src);

#endif
