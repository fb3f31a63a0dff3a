/*
 * tok.c - the total value-to-name lookup (see tok.h).
 */
#include "tok.h"

#include <stdio.h>

const char *tok2str(const struct tok *t, unsigned v, const char *fmt, char *buf, size_t buflen)
{
    for (; t && t->s; t++)
        if (t->v == v)
            return t->s;
    if (!buf || buflen < 2)
        return "?";
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    snprintf(buf, buflen, fmt, v);
#pragma GCC diagnostic pop
    return buf;
}
