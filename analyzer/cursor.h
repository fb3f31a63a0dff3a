/*
 * cursor.h - bounds-checked reader over untrusted bytes.
 *
 * Every field read from the wire goes through a cursor.  A read past the
 * end never touches memory: it returns false, yields 0 and sets the sticky
 * `bad` flag, so a parser can do a run of reads and check once.  Header
 * only; no allocation; the cursor never owns the bytes it points at.
 */
#ifndef FT_CURSOR_H
#define FT_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cursor {
    const uint8_t *base; /* first byte (not owned) */
    size_t len;          /* bytes available from base */
    size_t off;          /* next byte to read */
    bool bad;            /* set by any read that did not fit */
};

static inline void cursor_init(struct cursor *c, const uint8_t *p, size_t len)
{
    c->base = p;
    c->len = p ? len : 0;
    c->off = 0;
    c->bad = false;
}

static inline size_t cursor_left(const struct cursor *c)
{
    return c->len - c->off;
}

static inline const uint8_t *cursor_ptr(const struct cursor *c)
{
    return c->base + c->off;
}

/* True when n more bytes can be read; otherwise marks the cursor bad. */
static inline bool cursor_need(struct cursor *c, size_t n)
{
    if (n > c->len - c->off) {
        c->bad = true;
        return false;
    }
    return true;
}

static inline bool cursor_skip(struct cursor *c, size_t n)
{
    if (!cursor_need(c, n))
        return false;
    c->off += n;
    return true;
}

/* Hand out a pointer to the next n bytes and advance; NULL if they are not there. */
static inline const uint8_t *cursor_take(struct cursor *c, size_t n)
{
    const uint8_t *p;
    if (!cursor_need(c, n))
        return NULL;
    p = c->base + c->off;
    c->off += n;
    return p;
}

static inline bool cursor_u8(struct cursor *c, uint8_t *v)
{
    if (!cursor_need(c, 1)) {
        *v = 0;
        return false;
    }
    *v = c->base[c->off++];
    return true;
}

static inline bool cursor_be16(struct cursor *c, uint16_t *v)
{
    if (!cursor_need(c, 2)) {
        *v = 0;
        return false;
    }
    *v = (uint16_t)((c->base[c->off] << 8) | c->base[c->off + 1]);
    c->off += 2;
    return true;
}

static inline bool cursor_be24(struct cursor *c, uint32_t *v)
{
    if (!cursor_need(c, 3)) {
        *v = 0;
        return false;
    }
    *v = ((uint32_t)c->base[c->off] << 16) | ((uint32_t)c->base[c->off + 1] << 8) |
         c->base[c->off + 2];
    c->off += 3;
    return true;
}

static inline bool cursor_be32(struct cursor *c, uint32_t *v)
{
    if (!cursor_need(c, 4)) {
        *v = 0;
        return false;
    }
    *v = ((uint32_t)c->base[c->off] << 24) | ((uint32_t)c->base[c->off + 1] << 16) |
         ((uint32_t)c->base[c->off + 2] << 8) | c->base[c->off + 3];
    c->off += 4;
    return true;
}

static inline bool cursor_le16(struct cursor *c, uint16_t *v)
{
    if (!cursor_need(c, 2)) {
        *v = 0;
        return false;
    }
    *v = (uint16_t)(c->base[c->off] | (c->base[c->off + 1] << 8));
    c->off += 2;
    return true;
}

static inline bool cursor_le32(struct cursor *c, uint32_t *v)
{
    if (!cursor_need(c, 4)) {
        *v = 0;
        return false;
    }
    *v = (uint32_t)c->base[c->off] | ((uint32_t)c->base[c->off + 1] << 8) |
         ((uint32_t)c->base[c->off + 2] << 16) | ((uint32_t)c->base[c->off + 3] << 24);
    c->off += 4;
    return true;
}

/* Unchecked big-endian loads for code that has already bounds-checked. */
static inline uint16_t load_be16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

static inline uint32_t load_be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

#endif
