/*
 * corr_util.h - small string, JID and address helpers shared by the
 * correlator's modules.  No state.
 */
#ifndef FT_CORR_UTIL_H
#define FT_CORR_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "meta.h"
#include "facts.h"

/* Longest string the correlator keeps from the wire (domains, ids...). */
#define STR_CAP 256

/* A copy of s cut at STR_CAP - 1 bytes; NULL for NULL or no memory.
 * The caller frees it. */
char *corr_dup(const char *s);
/* A copy of a wire text (a <text>, a stream error's words) cut at
 * STR_CAP - 1 bytes like corr_fit_words; NULL for NULL or no memory. */
char *corr_dup_text(const char *s);
/* vsnprintf into buf; when the text does not fit it ends at the last whole
 * word that leaves room for U+2026 "\u2026" (never inside a word or a
 * UTF-8 sequence).  Returns buf. */
char *corr_vformat(char *buf, size_t len, const char *fmt, va_list ap) __attribute__((format(printf, 3, 0)));
char *corr_format(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Ends buf (holding the first len - 1 bytes of a longer text) at a word
 * boundary followed by the ellipsis, as corr_vformat does. */
void corr_fit_words(char *buf, size_t len);
/* Copies src ("" for NULL) into dst, cut to len - 1 bytes; always ends
 * dst with a NUL when len > 0. */
void corr_copy(char *dst, size_t len, const char *src);
struct frame_ref corr_ref(const struct ft_meta *m);
/* Grows *arr (elements of elem bytes) to hold at least need; false on no
 * memory (then *arr is unchanged). */
bool corr_grow(void **arr, unsigned *cap, unsigned need, size_t elem);
/* corr_grow, but an empty array starts at first elements instead of 16. */
bool corr_grow_from(void **arr, unsigned *cap, unsigned need, size_t elem, unsigned first);
/* The domain part of a JID ("user@dom/res" -> "dom"), lowercased. */
void corr_jid_domain(const char *jid, char *out, size_t len);
/* The bare JID (no resource). */
void corr_jid_bare(const char *jid, char *out, size_t len);
bool corr_jid_eq_bare(const char *a, const char *b);
/* "1.2.3.4:5269" or "[2001:db8::1]:5269". */
void corr_addr_port(char *buf, size_t len, const struct ft_addr *a, uint16_t port);
/* "3 SYNs". */
const char *corr_syns_str(uint16_t n, char *buf, size_t len);

/* The monotonic clock in ns (the correlator's own time, stats.busy_ns). */
uint64_t corr_mono_ns(void);

#endif
