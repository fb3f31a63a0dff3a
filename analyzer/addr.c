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

const char *ft_addr_str(const struct ft_addr *a, char *buf, unsigned long buflen)
{
    const char *r = NULL;
    if (a->family == 4)
        r = addr4_str(a->b, buf, buflen);
    else if (a->family == 6)
        r = inet_ntop(AF_INET6, a->b, buf, (socklen_t)buflen);
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
