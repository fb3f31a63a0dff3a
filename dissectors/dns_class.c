/*
 * dns_class.c - classification helpers for what DNS answers point at:
 * address scope (RFC 1918 private, RFC 6598 CGNAT, RFC 4193 ULA, RFC 5737 /
 * RFC 3849 documentation, loopback, link-local, multicast, unspecified),
 * the RFC 2782 "no service" SRV target, and XMPP SRV owner names
 * (RFC 6120 3.2.1, XEP-0368).  Pure functions, no state.
 */
#include "dns.h"

#include <string.h>

static enum dns_addr_class classify4(const uint8_t *b)
{
    if (b[0] == 0)
        return DNS_ADDR_UNSPECIFIED;
    if (b[0] == 127)
        return DNS_ADDR_LOOPBACK;
    if (b[0] == 10 || (b[0] == 172 && (b[1] & 0xF0) == 16) || (b[0] == 192 && b[1] == 168))
        return DNS_ADDR_PRIVATE;
    if (b[0] == 169 && b[1] == 254)
        return DNS_ADDR_LINK_LOCAL;
    if (b[0] == 100 && (b[1] & 0xC0) == 64)
        return DNS_ADDR_CGNAT;
    if ((b[0] == 192 && b[1] == 0 && b[2] == 2) || (b[0] == 198 && b[1] == 51 && b[2] == 100) ||
        (b[0] == 203 && b[1] == 0 && b[2] == 113))
        return DNS_ADDR_DOCUMENTATION;
    if ((b[0] & 0xF0) == 224)
        return DNS_ADDR_MULTICAST;
    return DNS_ADDR_GLOBAL;
}

enum dns_addr_class dns_addr_classify(const struct ft_addr *a)
{
    static const uint8_t zero[16];
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    const uint8_t *b = a->b;

    if (a->family == 4)
        return classify4(b);
    if (a->family != 6)
        return DNS_ADDR_INVALID;
    if (memcmp(b, mapped, sizeof(mapped)) == 0)
        return classify4(b + 12);
    if (memcmp(b, zero, 16) == 0)
        return DNS_ADDR_UNSPECIFIED;
    if (memcmp(b, zero, 15) == 0 && b[15] == 1)
        return DNS_ADDR_LOOPBACK;
    if (b[0] == 0xfe && (b[1] & 0xC0) == 0x80)
        return DNS_ADDR_LINK_LOCAL;
    if ((b[0] & 0xFE) == 0xfc)
        return DNS_ADDR_ULA;
    if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8)
        return DNS_ADDR_DOCUMENTATION;
    if (b[0] == 0xff)
        return DNS_ADDR_MULTICAST;
    return DNS_ADDR_GLOBAL;
}

const char *dns_addr_class_name(enum dns_addr_class c)
{
    switch (c) {
    case DNS_ADDR_GLOBAL: return "global";
    case DNS_ADDR_UNSPECIFIED: return "unspecified";
    case DNS_ADDR_LOOPBACK: return "loopback";
    case DNS_ADDR_PRIVATE: return "private";
    case DNS_ADDR_LINK_LOCAL: return "link-local";
    case DNS_ADDR_CGNAT: return "cgnat";
    case DNS_ADDR_ULA: return "ula";
    case DNS_ADDR_DOCUMENTATION: return "documentation";
    case DNS_ADDR_MULTICAST: return "multicast";
    case DNS_ADDR_INVALID: return "invalid";
    }
    return "invalid";
}

bool dns_addr_is_unroutable(const struct ft_addr *a)
{
    return dns_addr_classify(a) != DNS_ADDR_GLOBAL;
}

bool dns_srv_target_unavailable(const char *target)
{
    return target && strcmp(target, ".") == 0;
}

/* ASCII case-insensitive prefix test. */
static bool has_prefix_ci(const char *s, const char *prefix)
{
    for (; *prefix; s++, prefix++) {
        char c = *s;
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != *prefix)
            return false;
    }
    return true;
}

enum dns_xmpp_srv dns_xmpp_srv_name(const char *qname, char *domain, size_t dlen)
{
    static const struct {
        const char *prefix;
        enum dns_xmpp_srv kind;
    } tab[] = {
        {"_xmpp-server._tcp.", DNS_XMPP_SRV_SERVER},
        {"_xmpp-client._tcp.", DNS_XMPP_SRV_CLIENT},
        {"_xmpps-server._tcp.", DNS_XMPP_SRVS_SERVER},
        {"_xmpps-client._tcp.", DNS_XMPP_SRVS_CLIENT},
    };

    if (!qname)
        return DNS_XMPP_SRV_NONE;
    for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
        size_t plen = strlen(tab[i].prefix);
        const char *d;
        size_t n;
        if (!has_prefix_ci(qname, tab[i].prefix))
            continue;
        d = qname + plen;
        n = strlen(d);
        if (n > 0 && d[n - 1] == '.')
            n--;
        if (n == 0)
            return DNS_XMPP_SRV_NONE;
        if (domain && n < dlen) {
            for (size_t k = 0; k < n; k++) {
                char c = d[k];
                if (c >= 'A' && c <= 'Z')
                    c = (char)(c - 'A' + 'a');
                domain[k] = c;
            }
            domain[n] = '\0';
        }
        return tab[i].kind;
    }
    return DNS_XMPP_SRV_NONE;
}
