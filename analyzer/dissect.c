/*
 * dissect.c - dissector selection: ports first, then content sniffing.
 */
#include "dissect.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define DNS_PORT 53

const char *app_proto_name(enum app_proto p)
{
    switch (p) {
    case APP_UNDECIDED:
        return "undecided";
    case APP_NONE:
        return "none";
    case APP_XMPP:
        return "xmpp";
    case APP_XMPP_TLS:
        return "xmpp-tls";
    case APP_DNS:
        return "dns";
    }
    return "?";
}

bool port_set_has(const struct port_set *ps, uint16_t port)
{
    for (unsigned i = 0; i < ps->count; i++)
        if (ps->port[i] == port)
            return true;
    return false;
}

bool port_set_parse(struct port_set *ps, const char *list)
{
    struct port_set out = { .count = 0 };
    const char *p = list;

    while (*p) {
        char *end;
        unsigned long v;
        errno = 0;
        v = strtoul(p, &end, 10);
        if (end == p || errno || v == 0 || v > 65535 || (*end && *end != ','))
            return false;
        if (!port_set_has(&out, (uint16_t)v)) {
            if (out.count >= MAX_XMPP_PORTS)
                return false;
            out.port[out.count++] = (uint16_t)v;
        }
        p = *end ? end + 1 : end;
    }
    if (out.count == 0)
        return false;
    *ps = out;
    return true;
}

/* Is p[0..n) a prefix of pat, or does it start with pat? */
static enum sniff_result match_prefix(const uint8_t *p, size_t n, const char *pat)
{
    size_t plen = strlen(pat);
    size_t k = n < plen ? n : plen;
    if (memcmp(p, pat, k) != 0)
        return SNIFF_NO;
    return n >= plen ? SNIFF_XML : SNIFF_NEED_MORE;
}

enum sniff_result sniff_stream(const uint8_t *p, size_t n)
{
    size_t i = 0;

    /* TLS record: handshake(22), version 3.x, then handshake type 1. */
    if (n >= 1 && p[0] == 0x16) {
        if (n < 6)
            return (n < 2 || p[1] == 0x03) ? SNIFF_NEED_MORE : SNIFF_NO;
        return (p[1] == 0x03 && p[5] == 0x01) ? SNIFF_TLS : SNIFF_NO;
    }
    /* XML: optional whitespace (and a UTF-8 BOM), then the declaration or
     * the stream element with the conventional prefix. */
    if (n >= 3 && p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf)
        i = 3;
    while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
        i++;
    if (i == n)
        return i < 64 ? SNIFF_NEED_MORE : SNIFF_NO;
    enum sniff_result a = match_prefix(p + i, n - i, "<?xml");
    enum sniff_result b = match_prefix(p + i, n - i, "<stream:stream");
    if (a == SNIFF_XML || b == SNIFF_XML)
        return SNIFF_XML;
    if (a == SNIFF_NEED_MORE || b == SNIFF_NEED_MORE)
        return SNIFF_NEED_MORE;
    return SNIFF_NO;
}

/* Could p[0..n) be XML text from any point of a stream?  XML 1.0 allows no
 * control characters but tab, CR and LF (and UTF-8 never uses 0xC0, 0xC1,
 * 0xF5-0xFF); binary data has them within its first bytes. */
static bool looks_like_text(const uint8_t *p, size_t n)
{
    size_t k = n < 64 ? n : 64;
    for (size_t i = 0; i < k; i++) {
        uint8_t b = p[i];
        if ((b < 0x20 && b != '\t' && b != '\r' && b != '\n') || b == 0x7f || b == 0xc0 || b == 0xc1 || b >= 0xf5)
            return false;
    }
    return true;
}

enum app_proto dissect_choose_tcp(const struct port_set *xmpp_ports, uint16_t resp_port,
                                  uint16_t orig_port, const uint8_t *first, size_t n)
{
    if (resp_port == DNS_PORT)
        return APP_DNS;
    if (port_set_has(xmpp_ports, resp_port)) {
        /* The port says XMPP; the first bytes say whether it starts in TLS
         * (XEP-0368 direct TLS, or TLS records picked up mid-stream), in
         * XML (from a header, or from any point of a stream), or is
         * something else that only uses the port. */
        if (n == 0)
            return APP_UNDECIDED;
        if (first[0] == 0x16)
            return APP_XMPP_TLS;
        if (first[0] >= 0x14 && first[0] <= 0x17 && (n < 2 || first[1] == 0x03))
            return APP_XMPP_TLS; /* a record of a TLS stream already running */
        return looks_like_text(first, n) ? APP_XMPP : APP_NONE;
    }
    (void)orig_port;
    if (n == 0)
        return APP_UNDECIDED;
    switch (sniff_stream(first, n)) {
    case SNIFF_XML:
        return APP_XMPP;
    case SNIFF_NEED_MORE:
        return APP_UNDECIDED;
    case SNIFF_TLS: /* TLS on a port not declared XMPP: somebody else's */
    case SNIFF_NO:
        break;
    }
    return APP_NONE;
}
