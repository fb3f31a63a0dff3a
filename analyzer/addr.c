/* addr.c - text conversion for struct ft_addr. */
#include "addr.h"

#include <arpa/inet.h>

const char *ft_addr_str(const struct ft_addr *a, char *buf, unsigned long buflen)
{
    const char *r = NULL;
    if (a->family == 4)
        r = inet_ntop(AF_INET, a->b, buf, (socklen_t)buflen);
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
