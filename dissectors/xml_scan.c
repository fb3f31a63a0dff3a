/*
 * xml_scan.c - the markup scanner (see xml_scan.h): one byte-driven state
 * machine, memchr() over text, attribute values and end tags, no
 * recursion and no allocation.  Its only stack is the open-element count.
 */
#include "xml_scan.h"

#include <string.h>

enum {
    ST_TEXT,    /* character data (or nothing) */
    ST_LT,      /* after '<' */
    ST_BANG,    /* after "<!": matching "--" or "[CDATA[" */
    ST_STAG,    /* inside a start tag, outside quotes */
    ST_STAG_Q,  /* inside a quoted attribute value */
    ST_ETAG,    /* inside an end tag */
    ST_CDATA,   /* inside <![CDATA[ ... ]]> */
    ST_COMMENT, /* inside <!-- ... --> */
    ST_PI,      /* inside <? ... ?> */
};

void xml_scan_reset(struct xml_scan *s, unsigned depth, uint64_t pos)
{
    memset(s, 0, sizeof(*s));
    s->state = ST_TEXT;
    s->depth = depth;
    s->pos = pos;
    s->tag_pos = pos;
    s->tok_end = pos;
}

bool xml_scan_in_text(const struct xml_scan *s)
{
    return s->state == ST_TEXT || s->state == ST_CDATA;
}

/* XML NameStartChar, by its first byte (any non-ASCII byte may begin one). */
static bool name_start(uint8_t b)
{
    return (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || b == '_' || b == ':' || b >= 0x80;
}

/* Inside a comment, CDATA section or PI: the closing delimiter is `mark`
 * repeated `need` times, then '>'.  Returns true when it is complete. */
static bool delim_step(struct xml_scan *s, uint8_t b, uint8_t mark, uint8_t need)
{
    if (b == '>' && s->matched >= need)
        return true;
    if (b == mark)
        s->matched = s->matched < need ? (uint8_t)(s->matched + 1) : need;
    else
        s->matched = 0;
    return false;
}

size_t xml_scan_run(struct xml_scan *s, const uint8_t *p, size_t n, unsigned watch, int stops,
                    unsigned max_depth, enum xml_scan_stop *stop)
{
    const uint64_t pos0 = s->pos;
    size_t i = 0;

    *stop = XSS_END;
    if (s->lost) {
        *stop = XSS_LOST;
        return 0;
    }
    while (i < n) {
        const uint8_t *hit;
        uint8_t b;

        switch (s->state) {
        case ST_TEXT:
            hit = memchr(p + i, '<', n - i);
            if (hit == NULL) {
                i = n;
                break;
            }
            i = (size_t)(hit - p);
            s->tag_pos = pos0 + i;
            s->tok_end = s->tag_pos;
            s->state = ST_LT;
            i++;
            break;
        case ST_LT:
            b = p[i];
            if (b == '/') {
                if ((stops & XS_STOP_CLOSING) && s->depth == watch + 1) {
                    *stop = XSS_CLOSING;
                    if (s->tag_pos < pos0) { /* the '<' ended an earlier chunk */
                        s->pos = pos0;
                        return 0;
                    }
                    s->state = ST_TEXT; /* scanned again from its '<' */
                    s->pos = s->tag_pos;
                    return (size_t)(s->tag_pos - pos0);
                }
                s->state = ST_ETAG;
            } else if (b == '!') {
                s->state = ST_BANG;
                s->matched = 0;
            } else if (b == '?') {
                s->state = ST_PI;
                s->matched = 0;
            } else if (name_start(b)) {
                s->state = ST_STAG;
                s->slash = false;
            } else {
                goto lost;
            }
            i++;
            break;
        case ST_BANG: {
            const char *lit;

            b = p[i];
            if (s->matched == 0) {
                if (b != '-' && b != '[')
                    goto lost;
                s->quote = b;
            }
            lit = s->quote == '-' ? "--" : "[CDATA[";
            if (b != (uint8_t)lit[s->matched])
                goto lost;
            i++;
            if (lit[++s->matched] == '\0') {
                s->state = s->quote == '-' ? ST_COMMENT : ST_CDATA;
                s->matched = 0;
                s->quote = 0;
            }
            break;
        }
        case ST_COMMENT:
        case ST_CDATA:
        case ST_PI: {
            uint8_t mark = s->state == ST_COMMENT ? '-' : s->state == ST_CDATA ? ']' : '?';
            uint8_t need = s->state == ST_PI ? 1 : 2;

            while (i < n) {
                if (delim_step(s, p[i++], mark, need)) {
                    s->state = ST_TEXT;
                    s->matched = 0;
                    s->tok_end = pos0 + i;
                    break;
                }
            }
            break;
        }
        case ST_STAG:
            for (; i < n; i++) {
                b = p[i];
                if (b == '>')
                    break;
                if (b == '"' || b == '\'') {
                    s->quote = b;
                    s->state = ST_STAG_Q;
                    break;
                }
                if (b == '<')
                    goto lost;
                s->slash = b == '/';
            }
            if (i == n)
                break;
            i++;
            if (s->state == ST_STAG_Q)
                break;
            /* the tag ended at its '>' */
            s->state = ST_TEXT;
            s->tok_end = pos0 + i;
            if (s->depth + 1 > max_depth) {
                *stop = XSS_TOO_DEEP;
                s->pos = pos0 + i;
                return i;
            }
            if (!s->slash) {
                s->depth++;
                if ((stops & XS_STOP_OPENED) && s->depth == watch + 1) {
                    *stop = XSS_OPENED;
                    s->pos = pos0 + i;
                    return i;
                }
            }
            break;
        case ST_STAG_Q:
            hit = memchr(p + i, s->quote, n - i);
            if (hit == NULL) {
                i = n;
                break;
            }
            i = (size_t)(hit - p) + 1;
            s->state = ST_STAG;
            s->slash = false;
            break;
        case ST_ETAG:
            hit = memchr(p + i, '>', n - i);
            if (hit == NULL) {
                i = n;
                break;
            }
            if (s->depth == 0) /* an end tag with nothing open */
                goto lost;
            i = (size_t)(hit - p) + 1;
            s->depth--;
            s->state = ST_TEXT;
            s->tok_end = pos0 + i;
            break;
        default:
            goto lost;
        }
    }
    s->pos = pos0 + n;
    return n;

lost:
    s->lost = true;
    s->pos = pos0 + i;
    *stop = XSS_LOST;
    return i;
}
