/* addr.c - text conversion for struct ft_addr. */
#include "addr.h"

#include <arpa/inet.h>

/* Writes the dotted-quad text of a 4-byte address, NUL-terminated, into
 * buf (inet_ntop's spelling); NULL, with buf untouched, if it needs more
 * than buflen bytes. */
static const char *addr4_str(const uint8_t *b, char *buf, unsigned long buflen)
{
    char tmp[16]; /* "255.255.255.255" and its NUL */
    size_t n = 0;
    for (int i = 0; i < 4; i++) {
        unsigned v = b[i];
        if (i)
            tmp[n++] = '.';
        if (v >= 100)
            tmp[n++] = (char)('0' + v / 100);
        if (v >= 10)
            tmp[n++] = (char)('0' + v / 10 % 10);
        tmp[n++] = (char)('0' + v % 10);
    }
    tmp[n] = '\0';
    if (n + 1 > buflen)
        return NULL;
    memcpy(buf, tmp, n + 1);
    return buf;
}

/* Writes the text of a 16-byte address into buf exactly as glibc's
 * inet_ntop spells it (lowercase hex, the first longest run of two or more
 * zero words as "::", IPv4-mapped and -compatible tails dotted); NULL, with
 * buf untouched, if it needs more than buflen bytes. */
static const char *addr6_str(const uint8_t *b, char *buf, unsigned long buflen)
{
    static const char hex[] = "0123456789abcdef";
    char tmp[sizeof("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255")];
    unsigned w[8];
    int best = -1, bestlen = 0, cur = -1, curlen = 0;
    size_t n = 0;
    for (int i = 0; i < 8; i++) {
        w[i] = (unsigned)b[2 * i] << 8 | b[2 * i + 1];
        if (w[i] == 0) {
            if (cur < 0)
                cur = i, curlen = 0;
            curlen++;
            if (curlen > bestlen)
                best = cur, bestlen = curlen;
        } else {
            cur = -1;
        }
    }
    if (bestlen < 2)
        best = -1;
    for (int i = 0; i < 8; i++) {
        if (best >= 0 && i >= best && i < best + bestlen) {
            if (i == best)
                tmp[n++] = ':';
            continue;
        }
        if (i)
            tmp[n++] = ':';
        if (i == 6 && best == 0 && (bestlen == 6 || (bestlen == 5 && w[5] == 0xffff))) {
            addr4_str(b + 12, tmp + n, sizeof(tmp) - n);
            n += strlen(tmp + n);
            break;
        }
        for (int sh = 12; sh >= 0; sh -= 4)
            if ((w[i] >> sh) || !sh)
                tmp[n++] = hex[(w[i] >> sh) & 15];
    }
    if (best >= 0 && best + bestlen == 8)
        tmp[n++] = ':';
    tmp[n] = '\0';
    if (n + 1 > buflen)
        return NULL;
    memcpy(buf, tmp, n + 1);
    return buf;
}

const char *ft_addr_str(const struct ft_addr *a, char *buf, unsigned long buflen)
{
    const char *r = NULL;
    if (a->family == 4)
        r = addr4_str(a->b, buf, buflen);
    else if (a->family == 6)
        r = addr6_str(a->b, buf, buflen);
    if (!r && buflen > 1) {
        buf[0] = '?';
        buf[1] = '\0';
    }
    return buf;
}

bool ft_addr_parse(struct ft_addr *a, const char *s)
{
    uint8_t tmp[16];
    if (inet_pton(AF_INET, s, tmp) == 1) {
        ft_addr_set4(a, tmp);
        return true;
    }
    if (inet_pton(AF_INET6, s, tmp) == 1) {
        ft_addr_set6(a, tmp);
        return true;
    }
    return false;
}
