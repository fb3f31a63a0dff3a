/*
 * addr.h - an IPv4 or IPv6 address as a plain value.
 *
 * IPv4 addresses are stored in the first 4 bytes of `b` with the rest zero,
 * so two ft_addr values compare and hash with memcmp.  Header only.
 */
#ifndef FT_ADDR_H
#define FT_ADDR_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

struct ft_addr {
    uint8_t family; /* 4 or 6; 0 = unset */
    uint8_t b[16];  /* network byte order */
};

static inline void ft_addr_set4(struct ft_addr *a, const uint8_t *p)
{
    memset(a, 0, sizeof(*a));
    a->family = 4;
    memcpy(a->b, p, 4);
}

static inline void ft_addr_set6(struct ft_addr *a, const uint8_t *p)
{
    memset(a, 0, sizeof(*a));
    a->family = 6;
    memcpy(a->b, p, 16);
}

static inline bool ft_addr_eq(const struct ft_addr *x, const struct ft_addr *y)
{
    return memcmp(x, y, sizeof(*x)) == 0;
}

/* <0, 0, >0 like memcmp; a total order used to canonicalise flow keys. */
static inline int ft_addr_cmp(const struct ft_addr *x, const struct ft_addr *y)
{
    return memcmp(x, y, sizeof(*x));
}

#define FT_ADDR_STRLEN 46 /* INET6_ADDRSTRLEN */

/* Formats with inet_ntop; "?" for an unset address.  Returns buf. */
const char *ft_addr_str(const struct ft_addr *a, char *buf, unsigned long buflen);

/* Parses a textual IPv4/IPv6 address; false if it is not one. */
bool ft_addr_parse(struct ft_addr *a, const char *s);

#endif
