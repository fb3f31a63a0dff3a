/*
 * community_id.c - Community ID v1 (see community_id.h), with the small
 * SHA-1 and base64 it needs.  SHA-1 here is a fingerprint for joining
 * records, not a security primitive.
 */
#include "community_id.h"

#include <string.h>

static uint32_t rol(uint32_t x, unsigned n)
{
    return (x << n) | (x >> (32 - n));
}

static void sha1_block(uint32_t h[5], const uint8_t *p)
{
    uint32_t w[80], a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
    for (int i = 0; i < 16; i++)
        w[i] = ((uint32_t)p[4 * i] << 24) | ((uint32_t)p[4 * i + 1] << 16) | ((uint32_t)p[4 * i + 2] << 8) |
               p[4 * i + 3];
    for (int i = 16; i < 80; i++)
        w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    for (int i = 0; i < 80; i++) {
        uint32_t f, k, t;
        if (i < 20) {
            f = (b & c) | (~b & d);
            k = 0x5a827999;
        } else if (i < 40) {
            f = b ^ c ^ d;
            k = 0x6ed9eba1;
        } else if (i < 60) {
            f = (b & c) | (b & d) | (c & d);
            k = 0x8f1bbcdc;
        } else {
            f = b ^ c ^ d;
            k = 0xca62c1d6;
        }
        t = rol(a, 5) + f + e + k + w[i];
        e = d;
        d = c;
        c = rol(b, 30);
        b = a;
        a = t;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
}

void community_sha1(const uint8_t *data, size_t len, uint8_t digest[20])
{
    uint32_t h[5] = { 0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0 };
    uint8_t block[64];
    size_t off = 0, rem;
    uint64_t bits = (uint64_t)len * 8;

    for (; len - off >= 64; off += 64)
        sha1_block(h, data + off);
    rem = len - off;
    memset(block, 0, sizeof(block));
    memcpy(block, data + off, rem);
    block[rem] = 0x80;
    if (rem >= 56) {
        sha1_block(h, block);
        memset(block, 0, sizeof(block));
    }
    for (int i = 0; i < 8; i++)
        block[63 - i] = (uint8_t)(bits >> (8 * i));
    sha1_block(h, block);
    for (int i = 0; i < 5; i++) {
        digest[4 * i] = (uint8_t)(h[i] >> 24);
        digest[4 * i + 1] = (uint8_t)(h[i] >> 16);
        digest[4 * i + 2] = (uint8_t)(h[i] >> 8);
        digest[4 * i + 3] = (uint8_t)h[i];
    }
}

static void base64(const uint8_t *in, size_t len, char *out)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t i, o = 0;
    for (i = 0; i + 2 < len; i += 3) {
        uint32_t v = ((uint32_t)in[i] << 16) | ((uint32_t)in[i + 1] << 8) | in[i + 2];
        out[o++] = tab[v >> 18];
        out[o++] = tab[(v >> 12) & 63];
        out[o++] = tab[(v >> 6) & 63];
        out[o++] = tab[v & 63];
    }
    if (i < len) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < len)
            v |= (uint32_t)in[i + 1] << 8;
        out[o++] = tab[v >> 18];
        out[o++] = tab[(v >> 12) & 63];
        out[o++] = i + 1 < len ? tab[(v >> 6) & 63] : '=';
        out[o++] = '=';
    }
    out[o] = '\0';
}

const char *community_id(const struct ft_addr *a, uint16_t pa, const struct ft_addr *b, uint16_t pb,
                         uint8_t proto, uint16_t seed, char *out)
{
    uint8_t buf[2 + 16 + 16 + 2 + 4], digest[20];
    size_t n = 0, alen = a->family == 6 ? 16 : 4;
    int c = memcmp(a->b, b->b, alen);
    bool swap = c > 0 || (c == 0 && pa > pb);
    const struct ft_addr *x = swap ? b : a, *y = swap ? a : b;
    uint16_t px = swap ? pb : pa, py = swap ? pa : pb;

    buf[n++] = (uint8_t)(seed >> 8);
    buf[n++] = (uint8_t)seed;
    memcpy(buf + n, x->b, alen);
    n += alen;
    memcpy(buf + n, y->b, alen);
    n += alen;
    buf[n++] = proto;
    buf[n++] = 0;
    buf[n++] = (uint8_t)(px >> 8);
    buf[n++] = (uint8_t)px;
    buf[n++] = (uint8_t)(py >> 8);
    buf[n++] = (uint8_t)py;
    community_sha1(buf, n, digest);
    out[0] = '1';
    out[1] = ':';
    base64(digest, sizeof(digest), out + 2);
    return out;
}
