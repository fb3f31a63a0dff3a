/*
 * dnsmsg.c - DNS queries and responses as a stub resolver and a
 * recursive resolver write them: one question, EDNS OPT, compressed owner
 * names in the answers, SOA in the authority section of negative answers.
 */
#include "content.h"

#include <string.h>

static size_t put_name(uint8_t *p, const char *name)
{
    size_t n = 0;
    while (*name) {
        const char *dot = strchr(name, '.');
        size_t l = dot ? (size_t)(dot - name) : strlen(name);
        if (l > 63)
            l = 63;
        p[n++] = (uint8_t)l;
        memcpy(p + n, name, l);
        n += l;
        name += l;
        if (*name == '.')
            name++;
    }
    p[n++] = 0;
    return n;
}

static size_t put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
    return 2;
}

static size_t put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)(v >> 16));
    put16(p + 2, (uint16_t)v);
    return 4;
}

static size_t header(uint8_t *p, uint16_t id, uint16_t flags, uint16_t an, uint16_t ns, uint16_t ar)
{
    put16(p, id);
    put16(p + 2, flags);
    put16(p + 4, 1);
    put16(p + 6, an);
    put16(p + 8, ns);
    put16(p + 10, ar);
    return 12;
}

static size_t opt_rr(uint8_t *p)
{
    size_t n = 0;
    p[n++] = 0;                 /* root */
    n += put16(p + n, 41);      /* OPT */
    n += put16(p + n, 1232);    /* UDP payload size */
    n += put32(p + n, 0);       /* ext rcode, version, flags */
    n += put16(p + n, 0);       /* no options */
    return n;
}

size_t dns_query(uint8_t *buf, uint16_t id, const char *qname, uint16_t qtype)
{
    size_t n = header(buf, id, 0x0100, 0, 0, 1); /* RD */
    n += put_name(buf + n, qname);
    n += put16(buf + n, qtype);
    n += put16(buf + n, 1);
    n += opt_rr(buf + n);
    return n;
}

size_t dns_response(uint8_t *buf, uint16_t id, const char *qname, uint16_t qtype, int rcode, bool tc,
                    const struct dns_rr *rr, int nrr)
{
    uint16_t flags = (uint16_t)(0x8180 | (tc ? 0x0200 : 0) | (rcode & 0xf)); /* QR RD RA */
    int an = rcode == 0 ? nrr : 0;
    bool soa = rcode == 3 || (rcode == 0 && an == 0);
    size_t n = header(buf, id, flags, (uint16_t)an, soa ? 1 : 0, 1);
    n += put_name(buf + n, qname);
    n += put16(buf + n, qtype);
    n += put16(buf + n, 1);
    for (int i = 0; i < an; i++) {
        n += put16(buf + n, 0xc00c); /* owner: the question name */
        n += put16(buf + n, rr[i].type);
        n += put16(buf + n, 1);
        n += put32(buf + n, 300);
        uint8_t *rdlen = buf + n;
        n += 2;
        size_t start = n;
        if (rr[i].type == QT_A) {
            memcpy(buf + n, rr[i].addr, 4);
            n += 4;
        } else if (rr[i].type == QT_AAAA) {
            memcpy(buf + n, rr[i].addr, 16);
            n += 16;
        } else {
            n += put16(buf + n, rr[i].prio);
            n += put16(buf + n, rr[i].weight);
            n += put16(buf + n, rr[i].port);
            n += put_name(buf + n, rr[i].target);
        }
        put16(rdlen, (uint16_t)(n - start));
    }
    if (soa) {
        /* The zone is the name minus its first two labels when it has
         * enough, which is what a real authority section approximates. */
        const char *zone = qname;
        for (int k = 0; k < 2; k++) {
            const char *d = strchr(zone, '.');
            if (d && strchr(d + 1, '.'))
                zone = d + 1;
        }
        n += put_name(buf + n, zone);
        n += put16(buf + n, QT_SOA);
        n += put16(buf + n, 1);
        n += put32(buf + n, 900);
        uint8_t *rdlen = buf + n;
        n += 2;
        size_t start = n;
        n += put_name(buf + n, "ns1.registry.example");
        n += put_name(buf + n, "hostmaster.registry.example");
        n += put32(buf + n, 2026113001);
        n += put32(buf + n, 7200);
        n += put32(buf + n, 900);
        n += put32(buf + n, 1209600);
        n += put32(buf + n, 900);
        put16(rdlen, (uint16_t)(n - start));
    }
    n += opt_rr(buf + n);
    return n;
}
