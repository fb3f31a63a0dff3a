/*
 * tok.h - value-to-name tables for numbers read off the wire.
 *
 * tcpdump's idiom: a table of { value, name } pairs ending in { 0, NULL },
 * and one lookup that never fails: a value the table does not name is
 * formatted into the caller's buffer with a printf pattern that takes the
 * number ("unknown(%u)", "0x%04x", "TYPE%u"), so whatever arrives prints.
 * Tables are const and static; nothing here allocates or keeps state.
 */
#ifndef FT_TOK_H
#define FT_TOK_H

#include <stddef.h>

struct tok {
    unsigned v;
    const char *s;
};

#define TOK_BUFLEN 24 /* enough for any pattern used with a 32-bit number */

/* The name of v in table t, or v formatted with `fmt` (one %u or %x
 * conversion) into buf.  Never NULL: with no room in buf, "?" is
 * returned.  The result is either static or buf. */
const char *tok2str(const struct tok *t, unsigned v, const char *fmt, char *buf, size_t buflen);

#endif
