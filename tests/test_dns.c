/*
 * test_dns.c - unit tests for dissectors/dns*.c: the message parser (every
 * record type, compression, every parse error), DNS-over-TCP framing split
 * at every byte boundary, the transaction tracker and
 * the classification helpers.  Messages are built byte by byte here.
 * Prints one line per failed check and "dns: N passed, N failed".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../dissectors/dns.h"
#include "check.h"

/* ------------------------------------------------------------------ */
/* Message builder                                                     */

struct mb {
    uint8_t b[70000];
    size_t n;
};

static void mb_u8(struct mb *m, unsigned v)
{
    m->b[m->n++] = (uint8_t)v;
}

static void mb_u16(struct mb *m, unsigned v)
{
    mb_u8(m, (v >> 8) & 0xff);
    mb_u8(m, v & 0xff);
}

static void mb_u32(struct mb *m, uint32_t v)
{
    mb_u16(m, v >> 16);
    mb_u16(m, v & 0xffff);
}

static void mb_raw(struct mb *m, const void *p, size_t n)
{
    memcpy(m->b + m->n, p, n);
    m->n += n;
}

/* Writes a dotted name as labels; when ptr >= 0 ends with a pointer to it
 * instead of the root byte.  "" writes just the end. */
static void mb_name_ptr(struct mb *m, const char *name, int ptr)
{
    const char *s = name;
    while (*s) {
        const char *dot = strchr(s, '.');
        size_t len = dot ? (size_t)(dot - s) : strlen(s);
        mb_u8(m, (unsigned)len);
        mb_raw(m, s, len);
        s += len;
        if (*s == '.')
            s++;
    }
    if (ptr >= 0)
        mb_u16(m, 0xC000u | (unsigned)ptr);
    else
        mb_u8(m, 0);
}

static void mb_name(struct mb *m, const char *name)
{
    mb_name_ptr(m, name, -1);
}

static void mb_hdr(struct mb *m, unsigned id, unsigned flags, unsigned qd, unsigned an,
                   unsigned ns, unsigned ar)
{
    m->n = 0;
    mb_u16(m, id);
    mb_u16(m, flags);
    mb_u16(m, qd);
    mb_u16(m, an);
    mb_u16(m, ns);
    mb_u16(m, ar);
}

static void mb_q(struct mb *m, const char *name, unsigned type)
{
    mb_name(m, name);
    mb_u16(m, type);
    mb_u16(m, 1);
}

/* Starts a record whose owner is already written; returns rdlength offset. */
static size_t mb_rr_fixed(struct mb *m, unsigned type, unsigned cls, uint32_t ttl)
{
    size_t at;
    mb_u16(m, type);
    mb_u16(m, cls);
    mb_u32(m, ttl);
    at = m->n;
    mb_u16(m, 0);
    return at;
}

static void mb_rr_end(struct mb *m, size_t at)
{
    size_t len = m->n - at - 2;
    m->b[at] = (uint8_t)(len >> 8);
    m->b[at + 1] = (uint8_t)len;
}

/* Whole records with a named owner. */
static void mb_a(struct mb *m, const char *owner, uint32_t ttl, uint8_t a, uint8_t b, uint8_t c,
                 uint8_t d)
{
    size_t at;
    mb_name(m, owner);
    at = mb_rr_fixed(m, DNS_T_A, 1, ttl);
    mb_u8(m, a);
    mb_u8(m, b);
    mb_u8(m, c);
    mb_u8(m, d);
    mb_rr_end(m, at);
}

static void mb_cname(struct mb *m, const char *owner, uint32_t ttl, const char *target)
{
    size_t at;
    mb_name(m, owner);
    at = mb_rr_fixed(m, DNS_T_CNAME, 1, ttl);
    mb_name(m, target);
    mb_rr_end(m, at);
}

static void mb_srv(struct mb *m, const char *owner, uint32_t ttl, unsigned prio, unsigned weight,
                   unsigned port, const char *target)
{
    size_t at;
    mb_name(m, owner);
    at = mb_rr_fixed(m, DNS_T_SRV, 1, ttl);
    mb_u16(m, prio);
    mb_u16(m, weight);
    mb_u16(m, port);
    mb_name(m, target);
    mb_rr_end(m, at);
}

#define QR 0x8000u
#define AA 0x0400u
#define TC 0x0200u
#define RD 0x0100u
#define RA 0x0080u

static struct dns_msg g_msg; /* large: keep it off the stack */

static bool streq(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

static struct ft_addr v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
    struct ft_addr x;
    uint8_t p[4] = {a, b, c, d};
    ft_addr_set4(&x, p);
    return x;
}

static struct ft_addr addr_of(const char *s)
{
    struct ft_addr x;
    memset(&x, 0, sizeof(x));
    if (!ft_addr_parse(&x, s))
        printf("bad test address %s\n", s);
    return x;
}

/* ------------------------------------------------------------------ */
/* Parser: records                                                     */

static void test_header_and_question(void)
{
    struct mb m;
    struct dns_stats st;
    memset(&st, 0, sizeof(st));
    /* opcode 0, RD, AD, CD set */
    mb_hdr(&m, 0xBEEF, RD | 0x0020u | 0x0010u, 1, 0, 0, 0);
    mb_q(&m, "_XMPP-Server._TCP.Example.COM", DNS_T_SRV);
    {
        struct ft_meta mt;
        memset(&mt, 0, sizeof(mt));
        mt.frame = 42;
        mt.ts_ns = 7;
        CHECK(dns_parse(m.b, m.n, &mt, &g_msg, &st) == DNS_ERR_NONE);
        CHECK(g_msg.meta.frame == 42 && g_msg.meta.ts_ns == 7);
    }
    CHECK(g_msg.id == 0xBEEF);
    CHECK(!g_msg.qr && g_msg.rd && g_msg.ad && g_msg.cd && !g_msg.tc && !g_msg.aa && !g_msg.ra);
    CHECK(g_msg.opcode == 0 && g_msg.rcode == 0);
    CHECK(g_msg.nq == 1 && g_msg.qdcount == 1);
    CHECK(streq(g_msg.q[0].qname, "_xmpp-server._tcp.example.com"));
    CHECK(g_msg.q[0].qtype == DNS_T_SRV && g_msg.q[0].qclass == 1);
    CHECK(g_msg.nrr == 0 && g_msg.trailing == 0);
    CHECK(st.messages == 1 && st.parsed_ok == 1);

    /* response flags, opcode and rcode */
    mb_hdr(&m, 7, QR | (2u << 11) | AA | TC | RA | 3u, 1, 0, 0, 0);
    mb_q(&m, "x", DNS_T_A);
    mb_u8(&m, 0xAA); /* one trailing byte */
    CHECK(dns_parse(m.b, m.n, NULL, &g_msg, &st) == DNS_ERR_NONE);
    CHECK(g_msg.meta.frame == 0);
    CHECK(g_msg.qr && g_msg.aa && g_msg.tc && g_msg.ra && !g_msg.rd);
    CHECK(g_msg.opcode == 2 && g_msg.rcode == 3 && g_msg.rcode_full == 3);
    CHECK(g_msg.trailing == 1);
    CHECK(st.messages == 2 && st.parsed_ok == 2);
}

static void test_all_types(void)
{
    struct mb m;
    struct dns_stats st;
    size_t at;
    static const uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};

    memset(&st, 0, sizeof(st));
    mb_hdr(&m, 1, QR | RA, 1, 8, 1, 2);
    /* question at 12: "example.com" -> "com" at 20 */
    mb_q(&m, "example.com", DNS_T_ANY);
    /* A, owner = pointer to the qname */
    mb_u16(&m, 0xC00C);
    at = mb_rr_fixed(&m, DNS_T_A, 1, 300);
    mb_raw(&m, "\xC0\x00\x02\x01", 4);
    mb_rr_end(&m, at);
    /* AAAA "www" + ptr */
    mb_name_ptr(&m, "www", 12);
    at = mb_rr_fixed(&m, DNS_T_AAAA, 1, 60);
    mb_raw(&m, v6, 16);
    mb_rr_end(&m, at);
    /* CNAME alias.example.com -> www.example.com (compressed target) */
    mb_name_ptr(&m, "alias", 12);
    at = mb_rr_fixed(&m, DNS_T_CNAME, 1, 30);
    mb_name_ptr(&m, "www", 12);
    mb_rr_end(&m, at);
    /* SRV */
    mb_name_ptr(&m, "_xmpp-server._tcp", 12);
    at = mb_rr_fixed(&m, DNS_T_SRV, 1, 3600);
    mb_u16(&m, 5);
    mb_u16(&m, 10);
    mb_u16(&m, 5269);
    mb_name_ptr(&m, "xmpp", 12);
    mb_rr_end(&m, at);
    /* PTR */
    mb_name(&m, "1.2.0.192.in-addr.arpa");
    at = mb_rr_fixed(&m, DNS_T_PTR, 1, 10);
    mb_name_ptr(&m, "host", 12);
    mb_rr_end(&m, at);
    /* TXT: two strings with a quote and a control byte */
    mb_u16(&m, 0xC00C);
    at = mb_rr_fixed(&m, DNS_T_TXT, 1, 5);
    mb_u8(&m, 5);
    mb_raw(&m, "v=a\"b", 5);
    mb_u8(&m, 2);
    mb_raw(&m, "\x01z", 2);
    mb_rr_end(&m, at);
    /* unknown type 99 with 3 bytes */
    mb_u16(&m, 0xC00C);
    at = mb_rr_fixed(&m, 99, 1, 1);
    mb_raw(&m, "abc", 3);
    mb_rr_end(&m, at);
    /* SRV "." target */
    mb_name_ptr(&m, "_xmpps-server._tcp", 12);
    at = mb_rr_fixed(&m, DNS_T_SRV, 1, 7);
    mb_u16(&m, 0);
    mb_u16(&m, 0);
    mb_u16(&m, 0);
    mb_u8(&m, 0);
    mb_rr_end(&m, at);
    /* authority: SOA and ... */
    mb_u16(&m, 0xC014); /* "com" */
    at = mb_rr_fixed(&m, DNS_T_SOA, 1, 900);
    mb_name_ptr(&m, "ns1", 12);
    mb_name(&m, "Host\\Master.example.com");
    mb_u32(&m, 2024010101u);
    mb_u32(&m, 7200);
    mb_u32(&m, 3600);
    mb_u32(&m, 1209600);
    mb_u32(&m, 300);
    mb_rr_end(&m, at);
    /* additional: NS, OPT */
    mb_u16(&m, 0xC00C);
    at = mb_rr_fixed(&m, DNS_T_NS, 1, 86400);
    mb_name_ptr(&m, "ns1", 12);
    mb_rr_end(&m, at);
    mb_u8(&m, 0); /* root owner */
    /* class 1232, ttl: ext-rcode 1, version 0, DO */
    at = mb_rr_fixed(&m, DNS_T_OPT, 1232, 0x01008000u);
    mb_raw(&m, "\x00\x0a\x00\x02\xab\xcd", 6); /* one option TLV, skipped */
    mb_rr_end(&m, at);

    CHECK(dns_parse(m.b, m.n, NULL, &g_msg, &st) == DNS_ERR_NONE);
    CHECK(g_msg.nrr == 11 && g_msg.dropped == 0);
    CHECK(streq(g_msg.q[0].qname, "example.com"));

    CHECK(g_msg.rr[0].type == DNS_T_A && streq(g_msg.rr[0].name, "example.com"));
    CHECK(g_msg.rr[0].ttl == 300 && g_msg.rr[0].rdlength == 4);
    CHECK(g_msg.rr[0].section == DNS_SEC_ANSWER);
    {
        struct ft_addr want = v4(192, 0, 2, 1);
        CHECK(ft_addr_eq(&g_msg.rr[0].u.addr, &want));
    }
    CHECK(g_msg.rr[1].type == DNS_T_AAAA && streq(g_msg.rr[1].name, "www.example.com"));
    CHECK(g_msg.rr[1].u.addr.family == 6 && memcmp(g_msg.rr[1].u.addr.b, v6, 16) == 0);
    CHECK(g_msg.rr[2].type == DNS_T_CNAME && streq(g_msg.rr[2].name, "alias.example.com"));
    CHECK(streq(g_msg.rr[2].u.target, "www.example.com"));
    CHECK(g_msg.rr[3].type == DNS_T_SRV);
    CHECK(streq(g_msg.rr[3].name, "_xmpp-server._tcp.example.com"));
    CHECK(g_msg.rr[3].u.srv.priority == 5 && g_msg.rr[3].u.srv.weight == 10);
    CHECK(g_msg.rr[3].u.srv.port == 5269 && g_msg.rr[3].ttl == 3600);
    CHECK(streq(g_msg.rr[3].u.srv.target, "xmpp.example.com"));
    CHECK(g_msg.rr[4].type == DNS_T_PTR && streq(g_msg.rr[4].name, "1.2.0.192.in-addr.arpa"));
    CHECK(streq(g_msg.rr[4].u.target, "host.example.com"));
    CHECK(g_msg.rr[5].type == DNS_T_TXT && g_msg.rr[5].u.txt.nstrings == 2);
    CHECK(streq(g_msg.rr[5].u.txt.text, "\"v=a\\\"b\" \"\\001z\""));
    CHECK(!g_msg.rr[5].u.txt.cut);
    CHECK(g_msg.rr[6].type == 99 && g_msg.rr[6].rdlength == 3);
    {
        char tb[DNS_TYPE_NAME_BUFLEN];
        CHECK(streq(dns_type_name(DNS_T_SRV, tb, sizeof(tb)), "SRV"));
        CHECK(streq(dns_type_name(15, tb, sizeof(tb)), "MX"));
        CHECK(streq(dns_type_name(65, tb, sizeof(tb)), "HTTPS"));
        CHECK(streq(dns_type_name(32769, tb, sizeof(tb)), "DLV"));
        CHECK(streq(dns_type_name(65280, tb, sizeof(tb)), "TYPE65280"));
        CHECK(streq(dns_type_name(54, tb, sizeof(tb)), "TYPE54"));
        CHECK(streq(dns_type_name(65535, NULL, 0), "TYPE?"));
        /* every value has a printable name */
        for (unsigned t = 0; t <= 0xFFFF; t++)
            if (dns_type_name((uint16_t)t, tb, sizeof(tb)) == NULL)
                CHECK(0);
    }
    CHECK(streq(g_msg.rr[7].u.srv.target, "."));
    CHECK(dns_srv_target_unavailable(g_msg.rr[7].u.srv.target));
    CHECK(!dns_srv_target_unavailable(g_msg.rr[3].u.srv.target));
    CHECK(g_msg.rr[8].type == DNS_T_SOA && g_msg.rr[8].section == DNS_SEC_AUTHORITY);
    CHECK(streq(g_msg.rr[8].name, "com"));
    CHECK(streq(g_msg.rr[8].u.soa.mname, "ns1.example.com"));
    /* a backslash inside a label is escaped */
    CHECK(streq(g_msg.rr[8].u.soa.rname, "host\\\\master.example.com"));
    CHECK(g_msg.rr[8].u.soa.serial == 2024010101u && g_msg.rr[8].u.soa.refresh == 7200);
    CHECK(g_msg.rr[8].u.soa.retry == 3600 && g_msg.rr[8].u.soa.expire == 1209600);
    CHECK(g_msg.rr[8].u.soa.minimum == 300);
    CHECK(g_msg.rr[9].type == DNS_T_NS && g_msg.rr[9].section == DNS_SEC_ADDITIONAL);
    CHECK(streq(g_msg.rr[9].u.target, "ns1.example.com"));
    CHECK(g_msg.rr[10].type == DNS_T_OPT && streq(g_msg.rr[10].name, "."));
    CHECK(g_msg.rr[10].u.opt.udp_size == 1232 && g_msg.rr[10].u.opt.ext_rcode == 1);
    CHECK(g_msg.rr[10].u.opt.version == 0 && g_msg.rr[10].u.opt.do_bit);
    CHECK(g_msg.has_edns && g_msg.edns_udp_size == 1232 && g_msg.edns_do);
    CHECK(g_msg.edns_version == 0);
    CHECK(g_msg.rcode_full == 16); /* ext-rcode 1 << 4 | 0 */
    CHECK(st.parsed_ok == 1 && st.messages == 1);
}

static void test_escaping(void)
{
    struct mb m;
    mb_hdr(&m, 1, 0, 1, 0, 0, 0);
    mb_u8(&m, 7);
    mb_raw(&m, "a.b \xff\x7f" "Z", 7);
    mb_u8(&m, 0);
    mb_u16(&m, 1);
    mb_u16(&m, 1);
    CHECK(dns_parse(m.b, m.n, NULL, &g_msg, NULL) == DNS_ERR_NONE);
    CHECK(streq(g_msg.q[0].qname, "a\\.b\\032\\255\\127z"));

    /* root question */
    mb_hdr(&m, 1, 0, 1, 0, 0, 0);
    mb_q(&m, "", DNS_T_NS);
    CHECK(dns_parse(m.b, m.n, NULL, &g_msg, NULL) == DNS_ERR_NONE);
    CHECK(streq(g_msg.q[0].qname, "."));
}

/* ------------------------------------------------------------------ */
/* Parser: errors                                                      */

static void test_errors(void)
{
    struct mb m;
    struct dns_stats st;
    char lab63[64];
    memset(&st, 0, sizeof(st));
    memset(lab63, 'a', 63);
    lab63[63] = '\0';

    /* short header */
    mb_hdr(&m, 1, 0, 0, 0, 0, 0);
    CHECK(dns_parse(m.b, 11, NULL, &g_msg, &st) == DNS_ERR_TRUNC_HEADER);
    CHECK(dns_parse(NULL, 0, NULL, &g_msg, &st) == DNS_ERR_TRUNC_HEADER);

    /* counts larger than the packet */
    mb_hdr(&m, 1, QR, 1, 100, 0, 0);
    mb_q(&m, "a.b", DNS_T_A);
    CHECK(dns_parse(m.b, m.n, NULL, &g_msg, &st) == DNS_ERR_COUNTS);
    CHECK(g_msg.err == DNS_ERR_COUNTS && g_msg.ancount == 100 && g_msg.nq == 0);
    mb_hdr(&m, 1, 0, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF);
    CHECK(dns_parse(m.b, m.n, NULL, &g_msg, &st) == DNS_ERR_COUNTS);

    /* forward pointer: question name points after itself */
    mb_hdr(&m, 1, 0, 1, 0, 0, 0);
    mb_u16(&m, 0xC000 | 20);
    mb_u16(&m, 1);
    mb_u16(&m, 1);
    mb_q(&m, "x", 1);
    CHECK(dns_parse(m.b, m.n, NULL, &g_msg, &st) == DNS_ERR_PTR_FORWARD);
    CHECK(g_msg.err_offset == 12);

    /* loop: "abc" then a pointer back to its own first label */
    mb_hdr(&m, 1, 0, 1, 0, 0, 0);
    mb_name_ptr(&m, "abc", 12);
    mb_u16(&m, 1);
    mb_u16(&m, 1);
    CHECK(dns_parse(m.b, m.n, NULL, &g_msg, &st) == DNS_ERR_PTR_LOOP);
    /* a pointer to itself */
    mb_hdr(&m, 1, 0, 1, 0, 0, 0);
    mb_u16(&m, 0xC00C);
    mb_u16(&m, 1);
    mb_u16(&m, 1);
    CHECK(dns_parse(m.b, m.n, NULL, &g_msg, &st) == DNS_ERR_PTR_LOOP);
    /* two names pointing at each other: the first hop back is fine, the
     * second would go forward again */
    mb_hdr(&m, 1, 0, 2, 0, 0, 0);
    mb_name_ptr(&m, "a", 20);     /* 12: "a" -> 20 (forward) */
    mb_u16(&m, 1);
    mb_u16(&m, 1);
    mb_name_ptr(&m, "b", 12);     /* 20: "b" -> 12 */
    mb_u16(&m, 1);
    mb_u16(&m, 1);
    CHECK(dns_parse(m.b, m.n, NULL, &g_msg, &st) == DNS_ERR_PTR_FORWARD);

    /* name of exactly 255 bytes is fine, 256 is not */
    {
        char name[300];
        snprintf(name, sizeof(name), "%s.%s.%s.%.61s", lab63, lab63, lab63, lab63);
        mb_hdr(&m, 1, 0, 1, 0, 0, 0);
        mb_q(&m, name, DNS_T_A);
        CHECK(m.n - 12 - 4 == 255);
        CHECK(dns_parse(m.b, m.n, NULL, &g_msg, &st) == DNS_ERR_NONE);
        CHECK(g_msg.nq == 1 && strlen(g_msg.q[0].qname) == 253);
        snprintf(name, sizeof(name), "%s.%s.%s.%.62s", lab63, lab63, lab63, lab63);
        mb_hdr(&m, 1, 0, 1, 0, 0, 0);
        mb_q(&m, name, DNS_T_A);
        CHECK(dns_parse(m.b, m.n, NULL, &g_msg, &st) == DNS_ERR_NAME_TOO_LONG);
        /* over 255 only through compression: 200 bytes of labels + pointer
         * to a 100-byte name */
        mb_hdr(&m, 1, 0, 2, 0, 0, 0);
        snprintf(name, sizeof(name), "%.49s.%.49s", lab63, lab63); /* 101 wire */
        mb_q(&m, name, DNS_T_A);
        snprintf(name, sizeof(name), "%s.%s.%.40s", lab63, lab63, lab63);
        mb_name_ptr(&m, name, 12);
        mb_u16(&m, 1);
        mb_u16(&m, 1);
        CHECK(dns_parse(m.b, m.n, NULL, &g_msg, &st) == DNS_ERR_NAME_TOO_LONG);
        CHECK(g_msg.nq == 1); /* the first question was kept */
    }

    /* label length byte 64 and 0x80 (reserved label types) */
    mb_hdr(&m, 1, 0, 1, 0, 0, 0);
    mb_u8(&m, 64);
    for (int i = 0; i < 64; i++)
        mb_u8(&m, 'a');
    mb_u8(&m, 0);
    mb_u16(&m, 1);
    mb_u16(&m, 1);
    CHECK(dns_parse(m.b, m.n, NULL, &g_msg, &st) == DNS_ERR_LABEL_TOO_LONG);
    m.b[12] = 0x80;
    CHECK(dns_parse(m.b, m.n, NULL, &g_msg, &st) == DNS_ERR_LABEL_TOO_LONG);

    /* truncated question: type/class missing; name running off the end */
    mb_hdr(&m, 1, 0, 1, 0, 0, 0);
    mb_name(&m, "abc");
    CHECK(dns_parse(m.b, m.n, NULL, &g_msg, &st) == DNS_ERR_TRUNC_QUESTION);
    mb_hdr(&m, 1, 0, 1, 0, 0, 0);
    mb_u8(&m, 10);
    mb_raw(&m, "abcd", 4);
    CHECK(dns_parse(m.b, m.n, NULL, &g_msg, &st) == DNS_ERR_TRUNC_QUESTION);

    /* truncated record: fixed fields cut */
    mb_hdr(&m, 1, QR, 1, 1, 0, 0);
    mb_q(&m, "a", DNS_T_A);
    mb_u16(&m, 0xC00C);
    mb_u16(&m, DNS_T_A);
    mb_u16(&m, 1);
    mb_u32(&m, 5);
    mb_u8(&m, 0); /* half an rdlength */
    CHECK(dns_parse(m.b, m.n, NULL, &g_msg, &st) == DNS_ERR_TRUNC_RR);
    CHECK(g_msg.nq == 1 && g_msg.nrr == 0);

    /* truncated rdata: rdlength 100, 4 bytes present */
    mb_hdr(&m, 1, QR, 1, 1, 0, 0);
    mb_q(&m, "a", DNS_T_A);
    mb_u16(&m, 0xC00C);
    mb_u16(&m, DNS_T_A);
    mb_u16(&m, 1);
    mb_u32(&m, 5);
    mb_u16(&m, 100);
    mb_raw(&m, "\x01\x02\x03\x04", 4);
    CHECK(dns_parse(m.b, m.n, NULL, &g_msg, &st) == DNS_ERR_TRUNC_RDATA);

    /* bad rdata: A of 3 bytes; CNAME target longer than its rdlength;
     * SRV too short; A then junk inside rdlength */
    mb_hdr(&m, 1, QR, 1, 1, 0, 0);
    mb_q(&m, "a", DNS_T_A);
    mb_u16(&m, 0xC00C);
    mb_u16(&m, DNS_T_A);
    mb_u16(&m, 1);
    mb_u32(&m, 5);
    mb_u16(&m, 3);
    mb_raw(&m, "\x01\x02\x03", 3);
    CHECK(dns_parse(m.b, m.n, NULL, &g_msg, &st) == DNS_ERR_BAD_RDATA);
    mb_hdr(&m, 1, QR, 1, 1, 0, 0);
    mb_q(&m, "a", DNS_T_CNAME);
    mb_u16(&m, 0xC00C);
    mb_u16(&m, DNS_T_CNAME);
    mb_u16(&m, 1);
    mb_u32(&m, 5);
    mb_u16(&m, 3);
    mb_name(&m, "target"); /* 8 bytes, rdlength says 3 */
    CHECK(dns_parse(m.b, m.n, NULL, &g_msg, &st) == DNS_ERR_BAD_RDATA);
    mb_hdr(&m, 1, QR, 1, 1, 0, 0);
    mb_q(&m, "a", DNS_T_SRV);
    mb_u16(&m, 0xC00C);
    mb_u16(&m, DNS_T_SRV);
    mb_u16(&m, 1);
    mb_u32(&m, 5);
    mb_u16(&m, 5);
    mb_raw(&m, "\x00\x01\x00\x02\x00", 5);
    CHECK(dns_parse(m.b, m.n, NULL, &g_msg, &st) == DNS_ERR_BAD_RDATA);
    mb_hdr(&m, 1, QR, 1, 1, 0, 0);
    mb_q(&m, "a", DNS_T_NS);
    mb_u16(&m, 0xC00C);
    mb_u16(&m, DNS_T_NS);
    mb_u16(&m, 1);
    mb_u32(&m, 5);
    mb_u16(&m, 4);
    mb_raw(&m, "\x01x\x00\x00", 4); /* name "x" + 1 junk byte */
    CHECK(dns_parse(m.b, m.n, NULL, &g_msg, &st) == DNS_ERR_BAD_RDATA);
    /* TXT string longer than the rdata */
    mb_hdr(&m, 1, QR, 1, 1, 0, 0);
    mb_q(&m, "a", DNS_T_TXT);
    mb_u16(&m, 0xC00C);
    mb_u16(&m, DNS_T_TXT);
    mb_u16(&m, 1);
    mb_u32(&m, 5);
    mb_u16(&m, 3);
    mb_raw(&m, "\x05" "ab", 3);
    CHECK(dns_parse(m.b, m.n, NULL, &g_msg, &st) == DNS_ERR_BAD_RDATA);

    /* pointer hops: a chain of backwards pointers inside an unknown
     * record's rdata; the owner of the next record enters at its end */
    for (int chain = 31; chain <= 32; chain++) {
        size_t at, last = 0;
        mb_hdr(&m, 1, QR, 1, 2, 0, 0);
        mb_q(&m, "", DNS_T_A); /* root name at 12 */
        mb_u8(&m, 0);          /* owner: root */
        at = mb_rr_fixed(&m, 99, 1, 0);
        for (int k = 0; k < chain; k++) {
            size_t here = m.n;
            mb_u16(&m, 0xC000u | (unsigned)(k == 0 ? 12 : last));
            last = here;
        }
        mb_rr_end(&m, at);
        mb_u16(&m, 0xC000u | (unsigned)last);
        at = mb_rr_fixed(&m, 99, 1, 0);
        mb_rr_end(&m, at);
        /* hops = chain + 1 (the owner's pointer) */
        if (chain == 31) {
            CHECK(dns_parse(m.b, m.n, NULL, &g_msg, &st) == DNS_ERR_NONE);
            CHECK(g_msg.nrr == 2 && streq(g_msg.rr[1].name, "."));
        } else {
            CHECK(dns_parse(m.b, m.n, NULL, &g_msg, &st) == DNS_ERR_PTR_HOPS);
        }
    }

    CHECK(st.messages == 24);
    CHECK(st.parsed_ok == 2);
    CHECK(st.err[DNS_ERR_TRUNC_HEADER] == 2);
    CHECK(st.err[DNS_ERR_COUNTS] == 2);
    CHECK(st.err[DNS_ERR_PTR_FORWARD] == 2);
    CHECK(st.err[DNS_ERR_PTR_LOOP] == 2);
    CHECK(st.err[DNS_ERR_NAME_TOO_LONG] == 2);
    CHECK(st.err[DNS_ERR_LABEL_TOO_LONG] == 2);
    CHECK(st.err[DNS_ERR_TRUNC_QUESTION] == 2);
    CHECK(st.err[DNS_ERR_TRUNC_RR] == 1);
    CHECK(st.err[DNS_ERR_TRUNC_RDATA] == 1);
    CHECK(st.err[DNS_ERR_BAD_RDATA] == 5);
    CHECK(st.err[DNS_ERR_PTR_HOPS] == 1);
    CHECK(streq(dns_err_name(DNS_ERR_PTR_LOOP), "pointer-loop"));
    CHECK(streq(dns_err_name((enum dns_err)99), "unknown"));
}

static void test_caps(void)
{
    struct mb m;
    struct dns_stats st;
    memset(&st, 0, sizeof(st));
    /* 70 A records: 64 kept, 6 dropped */
    mb_hdr(&m, 1, QR, 1, 70, 0, 0);
    mb_q(&m, "many.example", DNS_T_A);
    for (int i = 0; i < 70; i++) {
        size_t at;
        mb_u16(&m, 0xC00C);
        at = mb_rr_fixed(&m, DNS_T_A, 1, 1);
        mb_u32(&m, (uint32_t)i);
        mb_rr_end(&m, at);
    }
    CHECK(dns_parse(m.b, m.n, NULL, &g_msg, &st) == DNS_ERR_NONE);
    CHECK(g_msg.nrr == DNS_MAX_RR && g_msg.dropped == 6 && st.dropped == 6);
    CHECK(g_msg.rr[63].u.addr.b[3] == 63);

    /* 6 questions: 4 kept */
    mb_hdr(&m, 1, 0, 6, 0, 0, 0);
    for (int i = 0; i < 6; i++)
        mb_q(&m, "q", DNS_T_A);
    CHECK(dns_parse(m.b, m.n, NULL, &g_msg, &st) == DNS_ERR_NONE);
    CHECK(g_msg.nq == DNS_MAX_QUESTIONS && g_msg.dropped == 2);

    /* a TXT string whose escaped form exceeds DNS_TXT_STRLEN is cut */
    {
        size_t at;
        mb_hdr(&m, 1, QR, 1, 1, 0, 0);
        mb_q(&m, "t", DNS_T_TXT);
        mb_u16(&m, 0xC00C);
        at = mb_rr_fixed(&m, DNS_T_TXT, 1, 1);
        mb_u8(&m, 200);
        for (int i = 0; i < 200; i++)
            mb_u8(&m, 1);
        mb_u8(&m, 1);
        mb_u8(&m, 'x');
        mb_rr_end(&m, at);
        CHECK(dns_parse(m.b, m.n, NULL, &g_msg, &st) == DNS_ERR_NONE);
        CHECK(g_msg.nrr == 1 && g_msg.rr[0].u.txt.cut && g_msg.rr[0].u.txt.nstrings == 2);
        /* '"' + 127 * "\001" = 509 bytes, the next escape would not fit */
        CHECK(strlen(g_msg.rr[0].u.txt.text) == 509);
        CHECK(strncmp(g_msg.rr[0].u.txt.text, "\"\\001\\001", 9) == 0);
    }

    /* pool exhaustion: 60 CNAMEs each with two ~250-byte escaped names
     * (each name about 1000 presentation bytes) */
    {
        char lab[64];
        char name[300];
        memset(lab, 0xff, 63);
        lab[63] = '\0';
        snprintf(name, sizeof(name), "%s.%s.%s.%.61s", lab, lab, lab, lab);
        mb_hdr(&m, 1, QR, 1, 20, 0, 0);
        mb_q(&m, name, DNS_T_CNAME);
        for (int i = 0; i < 20; i++) {
            size_t at;
            mb_u16(&m, 0xC00C);
            at = mb_rr_fixed(&m, DNS_T_CNAME, 1, 1);
            mb_u16(&m, 0xC00C);
            mb_rr_end(&m, at);
        }
        CHECK(dns_parse(m.b, m.n, NULL, &g_msg, &st) == DNS_ERR_NONE);
        /* qname 1004 bytes; each record needs 2 * 1004 */
        CHECK(strlen(g_msg.q[0].qname) == 1003);
        CHECK(g_msg.nrr == (DNS_POOL_SIZE - 1004) / 2008);
        CHECK(g_msg.nrr + g_msg.dropped == 20);
        CHECK(g_msg.pool_used <= DNS_POOL_SIZE);
    }
}

/* ------------------------------------------------------------------ */
/* TCP framing                                                         */

struct got {
    int n;
    size_t len[16];
    uint8_t data[16][600];
    uint64_t frame[16];
};

static void on_tcp_msg(void *user, const uint8_t *msg, size_t len, const struct ft_meta *meta)
{
    struct got *g = user;
    if (g->n >= 16)
        return;
    g->len[g->n] = len;
    memcpy(g->data[g->n], msg, len < 600 ? len : 600);
    g->frame[g->n] = meta->frame;
    g->n++;
}

static void test_tcp_framing(void)
{
    struct mb a, b, c;
    uint8_t stream[2000];
    size_t n = 0;
    size_t ends[3];
    struct got g;
    struct dns_tcp_stream s;
    struct ft_meta m1, m2, m3;
    int all_ok = 1;

    memset(&m1, 0, sizeof(m1));
    m2 = m1;
    m3 = m1;
    m1.frame = 101;
    m2.frame = 102;
    m3.frame = 103;

    mb_hdr(&a, 0x1111, 0, 1, 0, 0, 0);
    mb_q(&a, "_xmpp-server._tcp.example.org", DNS_T_SRV);
    mb_hdr(&b, 0x1111, QR, 1, 1, 0, 0);
    mb_q(&b, "_xmpp-server._tcp.example.org", DNS_T_SRV);
    mb_srv(&b, "_xmpp-server._tcp.example.org", 60, 0, 5, 5269, "xmpp.example.org");
    mb_hdr(&c, 0x2222, 0, 1, 0, 0, 0);
    mb_q(&c, "x", DNS_T_A);
    {
        const struct mb *parts[3] = {&a, &b, &c};
        for (int i = 0; i < 3; i++) {
            stream[n++] = (uint8_t)(parts[i]->n >> 8);
            stream[n++] = (uint8_t)parts[i]->n;
            memcpy(stream + n, parts[i]->b, parts[i]->n);
            n += parts[i]->n;
            ends[i] = n;
        }
    }

    /* whole stream in one chunk: three messages, no buffering */
    memset(&g, 0, sizeof(g));
    dns_tcp_init(&s, on_tcp_msg, &g);
    dns_tcp_data(&s, stream, n, &m1);
    CHECK(g.n == 3 && s.stats.messages == 3 && s.buf == NULL);
    CHECK(g.len[0] == a.n && memcmp(g.data[0], a.b, a.n) == 0);
    CHECK(g.len[1] == b.n && memcmp(g.data[1], b.b, b.n) == 0);
    CHECK(g.len[2] == c.n && memcmp(g.data[2], c.b, c.n) == 0);
    dns_tcp_eof(&s, &m1);
    CHECK(s.stats.partial_at_eof == 0 && s.stats.bytes_discarded == 0);

    /* split into three chunks at every pair of byte boundaries */
    for (size_t i = 0; i <= n; i++) {
        for (size_t j = i; j <= n; j++) {
            bool ok;
            memset(&g, 0, sizeof(g));
            dns_tcp_init(&s, on_tcp_msg, &g);
            dns_tcp_data(&s, stream, i, &m1);
            dns_tcp_data(&s, stream + i, j - i, &m2);
            dns_tcp_data(&s, stream + j, n - j, &m3);
            ok = g.n == 3 && g.len[0] == a.n && memcmp(g.data[0], a.b, a.n) == 0 &&
                 g.len[1] == b.n && memcmp(g.data[1], b.b, b.n) == 0 && g.len[2] == c.n &&
                 memcmp(g.data[2], c.b, c.n) == 0;
            /* each message carries the meta of the chunk that completed it */
            for (int k = 0; k < 3 && ok; k++) {
                uint64_t want = ends[k] <= i ? 101 : ends[k] <= j ? 102 : 103;
                ok = g.frame[k] == want;
            }
            ok = ok && s.hdr_have == 0 && s.have == 0 && !s.damaged;
            dns_tcp_eof(&s, &m3);
            ok = ok && s.stats.partial_at_eof == 0 && s.buf == NULL;
            if (!ok) {
                printf("tcp split at %zu,%zu failed\n", i, j);
                all_ok = 0;
            }
        }
    }
    CHECK(all_ok);

    /* one byte at a time */
    memset(&g, 0, sizeof(g));
    dns_tcp_init(&s, on_tcp_msg, &g);
    for (size_t i = 0; i < n; i++) {
        struct ft_meta mm = m1;
        mm.frame = 1000 + i;
        dns_tcp_data(&s, stream + i, 1, &mm);
    }
    CHECK(g.n == 3 && g.frame[0] == 1000 + ends[0] - 1 && g.frame[2] == 1000 + n - 1);
    CHECK(g.len[1] == b.n && memcmp(g.data[1], b.b, b.n) == 0);
    CHECK(s.buf_cap <= 65535);
    dns_tcp_release(&s);

    /* gap inside message 2: message 1 delivered, nothing after */
    memset(&g, 0, sizeof(g));
    dns_tcp_init(&s, on_tcp_msg, &g);
    dns_tcp_data(&s, stream, ends[0] + 5, &m1);
    dns_tcp_gap(&s, 10, &m2);
    dns_tcp_data(&s, stream + ends[0] + 15, n - ends[0] - 15, &m3);
    CHECK(g.n == 1 && s.damaged && s.stats.gaps == 1);
    CHECK(s.stats.bytes_discarded == 5 + (n - ends[0] - 15));
    dns_tcp_gap(&s, 1, &m3);
    CHECK(s.stats.gaps == 2);
    dns_tcp_eof(&s, &m3);
    CHECK(s.stats.partial_at_eof == 0);

    /* eof inside a message */
    memset(&g, 0, sizeof(g));
    dns_tcp_init(&s, on_tcp_msg, &g);
    dns_tcp_data(&s, stream, ends[0] + 1, &m1);
    dns_tcp_eof(&s, &m2);
    CHECK(g.n == 1 && s.stats.partial_at_eof == 1 && s.stats.bytes_discarded == 1);
    CHECK(s.buf == NULL);

    /* a zero-length message is delivered (and fails to parse) */
    memset(&g, 0, sizeof(g));
    dns_tcp_init(&s, on_tcp_msg, &g);
    dns_tcp_data(&s, (const uint8_t *)"\0\0", 2, &m1);
    CHECK(g.n == 1 && g.len[0] == 0);
    CHECK(dns_parse(g.data[0], 0, NULL, &g_msg, NULL) == DNS_ERR_TRUNC_HEADER);
    dns_tcp_release(&s);

    /* largest message split in two */
    {
        static uint8_t big[65537];
        memset(big, 0, sizeof(big));
        big[0] = 0xff;
        big[1] = 0xff;
        big[2] = 0xab;
        big[65536] = 0xcd;
        memset(&g, 0, sizeof(g));
        dns_tcp_init(&s, on_tcp_msg, &g);
        dns_tcp_data(&s, big, 40000, &m1);
        dns_tcp_data(&s, big + 40000, sizeof(big) - 40000, &m2);
        CHECK(g.n == 1 && g.len[0] == 65535 && g.data[0][0] == 0xab && g.frame[0] == 102);
        CHECK(s.buf_cap == 65535);
        dns_tcp_release(&s);
        dns_tcp_release(&s);
    }
}

/* ------------------------------------------------------------------ */
/* Transactions                                                        */

struct seen {
    uint64_t id, retry_of;
    int outcome;
    uint16_t rcode, qtype, txid;
    uint8_t transport;
    char qname[300];
    unsigned nqueries, retransmits, nans, ncname, ans_dropped;
    uint64_t qframe[DNS_LOOKUP_MAX_TX];
    int64_t qts[DNS_LOOKUP_MAX_TX];
    bool has_response, tc;
    uint64_t rframe;
    int64_t rts;
    char cname[4][300];
    struct {
        uint16_t type, prio, weight, port;
        uint32_t ttl;
        uint8_t section;
        struct ft_addr addr;
        char name[300], target[300];
    } ans[8];
    uint16_t client_port;
};

struct sink {
    int n;
    struct seen s[16];
};

static void copy_str(char *dst, const char *src)
{
    snprintf(dst, 300, "%s", src ? src : "(null)");
}

static void on_lookup(void *user, const struct dns_lookup *lk)
{
    struct sink *k = user;
    struct seen *s;
    if (k->n >= 16)
        return;
    s = &k->s[k->n++];
    memset(s, 0, sizeof(*s));
    s->id = lk->id;
    s->retry_of = lk->retry_of;
    s->outcome = lk->outcome;
    s->rcode = lk->rcode;
    s->qtype = lk->qtype;
    s->txid = lk->txid;
    s->transport = lk->transport;
    s->client_port = lk->client.port;
    copy_str(s->qname, lk->qname);
    s->nqueries = lk->nqueries;
    s->retransmits = lk->retransmits;
    for (unsigned i = 0; i < lk->nqueries && i < DNS_LOOKUP_MAX_TX; i++) {
        s->qframe[i] = lk->query[i].frame;
        s->qts[i] = lk->query[i].ts_ns;
    }
    s->has_response = lk->has_response;
    s->tc = lk->tc;
    s->rframe = lk->response.frame;
    s->rts = lk->response.ts_ns;
    s->ncname = lk->ncname;
    for (unsigned i = 0; i < lk->ncname && i < 4; i++)
        copy_str(s->cname[i], lk->cname[i]);
    s->nans = lk->nans;
    s->ans_dropped = lk->ans_dropped;
    for (unsigned i = 0; i < lk->nans && i < 8; i++) {
        s->ans[i].type = lk->ans[i].type;
        s->ans[i].prio = lk->ans[i].priority;
        s->ans[i].weight = lk->ans[i].weight;
        s->ans[i].port = lk->ans[i].port;
        s->ans[i].ttl = lk->ans[i].ttl;
        s->ans[i].section = lk->ans[i].section;
        s->ans[i].addr = lk->ans[i].addr;
        copy_str(s->ans[i].name, lk->ans[i].name);
        copy_str(s->ans[i].target, lk->ans[i].target);
    }
}

static struct ft_meta meta_at(uint64_t frame, int64_t ms)
{
    struct ft_meta m;
    memset(&m, 0, sizeof(m));
    m.frame = frame;
    m.src_frame = frame;
    m.ts_ns = INT64_C(1700000000000000000) + ms * INT64_C(1000000);
    return m;
}

#define T0 INT64_C(1700000000000000000)

/* Parses mb into g_msg and feeds it. */
static void feed(struct dns_tracker *t, const struct dns_endpoint *cl,
                 const struct dns_endpoint *sv, enum dns_transport tr, struct mb *m,
                 uint64_t frame, int64_t ms)
{
    struct ft_meta meta = meta_at(frame, ms);
    if (dns_parse(m->b, m->n, &meta, &g_msg, NULL) != DNS_ERR_NONE)
        printf("test message %llu does not parse\n", (unsigned long long)frame);
    /* alternate between an explicit meta and the one kept in the msg */
    dns_tracker_feed(t, cl, sv, tr, &g_msg, frame % 2 ? &meta : NULL);
}

static void make_query(struct mb *m, unsigned id, const char *name, unsigned type)
{
    mb_hdr(m, id, RD, 1, 0, 0, 0);
    mb_q(m, name, type);
}

static void test_transactions(void)
{
    struct sink k;
    struct dns_tracker *t;
    struct dns_endpoint cl, cl2, sv;
    struct mb m;
    const struct dns_tracker_stats *st;
    const char *srvname = "_xmpp-server._tcp.example.net";

    memset(&k, 0, sizeof(k));
    cl.addr = v4(10, 0, 0, 5);
    cl.port = 40000;
    cl2 = cl;
    cl2.port = 40001;
    sv.addr = v4(10, 0, 0, 53);
    sv.port = 53;
    t = dns_tracker_new(NULL, on_lookup, &k);
    CHECK(t != NULL);
    if (!t)
        return;
    st = dns_tracker_stats(t);

    /* 1. match: SRV answer with additional A */
    make_query(&m, 100, srvname, DNS_T_SRV);
    feed(t, &cl, &sv, DNS_UDP, &m, 1, 0);
    CHECK(k.n == 0);
    mb_hdr(&m, 100, QR | RD | RA, 1, 2, 0, 1);
    mb_q(&m, srvname, DNS_T_SRV);
    mb_srv(&m, srvname, 300, 10, 20, 5269, "xmpp.example.net");
    mb_srv(&m, srvname, 300, 20, 0, 5270, "backup.example.net");
    mb_a(&m, "xmpp.example.net", 120, 198, 51, 100, 7);
    feed(t, &cl, &sv, DNS_UDP, &m, 2, 20);
    CHECK(k.n == 1);
    CHECK(k.s[0].id == 1 && k.s[0].outcome == DNS_OUT_ANSWERED && k.s[0].rcode == 0);
    CHECK(streq(k.s[0].qname, srvname) && k.s[0].qtype == DNS_T_SRV && k.s[0].txid == 100);
    CHECK(k.s[0].nqueries == 1 && k.s[0].retransmits == 0 && k.s[0].qframe[0] == 1);
    CHECK(k.s[0].has_response && k.s[0].rframe == 2 && k.s[0].rts == T0 + 20000000);
    CHECK(k.s[0].nans == 3);
    CHECK(k.s[0].ans[0].type == DNS_T_SRV && k.s[0].ans[0].prio == 10);
    CHECK(k.s[0].ans[0].weight == 20 && k.s[0].ans[0].port == 5269 && k.s[0].ans[0].ttl == 300);
    CHECK(streq(k.s[0].ans[0].target, "xmpp.example.net"));
    CHECK(k.s[0].ans[1].port == 5270 && streq(k.s[0].ans[1].target, "backup.example.net"));
    CHECK(k.s[0].ans[2].type == DNS_T_A && k.s[0].ans[2].section == DNS_SEC_ADDITIONAL);
    CHECK(k.s[0].ans[2].addr.b[0] == 198 && k.s[0].ans[2].addr.b[3] == 7);
    CHECK(k.s[0].ans[2].ttl == 120 && streq(k.s[0].ans[2].name, "xmpp.example.net"));
    CHECK(k.s[0].transport == DNS_UDP && k.s[0].client_port == 40000);
    CHECK(streq(dns_outcome_name(DNS_OUT_NODATA), "nodata"));

    /* 2. retransmits: three sends, answer after the third */
    make_query(&m, 200, "xmpp.example.net", DNS_T_AAAA);
    feed(t, &cl, &sv, DNS_UDP, &m, 3, 1000);
    feed(t, &cl, &sv, DNS_UDP, &m, 4, 2000);
    feed(t, &cl, &sv, DNS_UDP, &m, 5, 4000);
    CHECK(k.n == 1 && st->retransmits == 2);
    mb_hdr(&m, 200, QR | RA, 1, 1, 0, 0);
    mb_q(&m, "xmpp.example.net", DNS_T_AAAA);
    {
        size_t at;
        mb_name(&m, "xmpp.example.net");
        at = mb_rr_fixed(&m, DNS_T_AAAA, 1, 50);
        mb_raw(&m, "\xfd\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01", 16);
        mb_rr_end(&m, at);
    }
    feed(t, &cl, &sv, DNS_UDP, &m, 6, 8500); /* 4.5 s after the last send */
    CHECK(k.n == 2);
    CHECK(k.s[1].outcome == DNS_OUT_ANSWERED && k.s[1].nqueries == 3);
    CHECK(k.s[1].retransmits == 2);
    CHECK(k.s[1].qframe[0] == 3 && k.s[1].qframe[1] == 4 && k.s[1].qframe[2] == 5);
    CHECK(k.s[1].qts[2] == T0 + INT64_C(4000000000));
    CHECK(k.s[1].rframe == 6);

    /* 3. unanswered: expires strictly after 5 s of packet time */
    make_query(&m, 300, "gone.example.net", DNS_T_A);
    feed(t, &cl, &sv, DNS_UDP, &m, 7, 10000);
    dns_tracker_advance(t, T0 + INT64_C(15000000000));
    CHECK(k.n == 2);
    dns_tracker_advance(t, T0 + INT64_C(15000000001));
    CHECK(k.n == 3);
    CHECK(k.s[2].outcome == DNS_OUT_UNANSWERED && !k.s[2].has_response);
    CHECK(k.s[2].nqueries == 1 && k.s[2].qframe[0] == 7 && st->unanswered == 1);
    /* time never goes back */
    dns_tracker_advance(t, T0);

    /* 4. NXDOMAIN */
    make_query(&m, 400, "_xmpp-server._tcp.nowhere.example", DNS_T_SRV);
    feed(t, &cl, &sv, DNS_UDP, &m, 8, 20000);
    mb_hdr(&m, 400, QR | RA | DNS_RCODE_NXDOMAIN, 1, 0, 1, 0);
    mb_q(&m, "_xmpp-server._tcp.nowhere.example", DNS_T_SRV);
    {
        size_t at;
        mb_name(&m, "example");
        at = mb_rr_fixed(&m, DNS_T_SOA, 1, 900);
        mb_name(&m, "ns.example");
        mb_name(&m, "admin.example");
        for (int i = 0; i < 5; i++)
            mb_u32(&m, 1);
        mb_rr_end(&m, at);
    }
    feed(t, &cl, &sv, DNS_UDP, &m, 9, 20010);
    CHECK(k.n == 4 && k.s[3].outcome == DNS_OUT_NXDOMAIN && k.s[3].rcode == 3);
    CHECK(k.s[3].nans == 0); /* authority records are not answers */

    /* 5. NODATA through a CNAME chain a -> b -> c, no A for c */
    make_query(&m, 500, "a.example.net", DNS_T_A);
    feed(t, &cl, &sv, DNS_UDP, &m, 10, 21000);
    mb_hdr(&m, 500, QR | RA, 1, 3, 0, 0);
    mb_q(&m, "a.example.net", DNS_T_A);
    mb_cname(&m, "a.example.net", 100, "b.example.net");
    mb_cname(&m, "b.example.net", 50, "c.example.net");
    mb_a(&m, "other.example.net", 100, 1, 2, 3, 4); /* not on the chain */
    feed(t, &cl, &sv, DNS_UDP, &m, 11, 21005);
    CHECK(k.n == 5 && k.s[4].outcome == DNS_OUT_NODATA && k.s[4].rcode == 0);
    CHECK(k.s[4].ncname == 2 && streq(k.s[4].cname[0], "b.example.net"));
    CHECK(streq(k.s[4].cname[1], "c.example.net"));

    /* 5b. the same chain with the final A: answered */
    make_query(&m, 501, "A.Example.Net", DNS_T_A);
    feed(t, &cl, &sv, DNS_UDP, &m, 12, 22000);
    mb_hdr(&m, 501, QR | RA, 1, 3, 0, 0);
    mb_q(&m, "a.example.net", DNS_T_A);
    mb_cname(&m, "a.example.net", 100, "b.example.net");
    mb_cname(&m, "b.example.net", 50, "c.example.net");
    mb_a(&m, "c.example.net", 30, 203, 0, 113, 9);
    feed(t, &cl, &sv, DNS_UDP, &m, 13, 22005);
    CHECK(k.n == 6 && k.s[5].outcome == DNS_OUT_ANSWERED && k.s[5].ncname == 2);
    CHECK(k.s[5].nqueries == 1); /* matched despite the query's case */

    /* 6. TC=1 over UDP, then the TCP retry from another port */
    make_query(&m, 600, "_xmpp-server._tcp.big.example", DNS_T_SRV);
    feed(t, &cl, &sv, DNS_UDP, &m, 14, 30000);
    mb_hdr(&m, 600, QR | RA | TC, 1, 0, 0, 0);
    mb_q(&m, "_xmpp-server._tcp.big.example", DNS_T_SRV);
    feed(t, &cl, &sv, DNS_UDP, &m, 15, 30010);
    CHECK(k.n == 6); /* waiting for a TCP retry */
    make_query(&m, 601, "_xmpp-server._tcp.big.example", DNS_T_SRV);
    feed(t, &cl2, &sv, DNS_TCP, &m, 18, 30050);
    CHECK(k.n == 7 && st->tc_linked == 1);
    CHECK(k.s[6].outcome == DNS_OUT_TRUNCATED_THEN_TCP && k.s[6].transport == DNS_UDP);
    CHECK(k.s[6].has_response && k.s[6].tc && k.s[6].rframe == 15 && k.s[6].qframe[0] == 14);
    {
        uint64_t udp_id = k.s[6].id;
        mb_hdr(&m, 601, QR | RA, 1, 1, 0, 0);
        mb_q(&m, "_xmpp-server._tcp.big.example", DNS_T_SRV);
        mb_srv(&m, "_xmpp-server._tcp.big.example", 60, 1, 1, 5269, "s1.big.example");
        feed(t, &cl2, &sv, DNS_TCP, &m, 20, 30080);
        CHECK(k.n == 8 && k.s[7].transport == DNS_TCP && k.s[7].retry_of == udp_id);
        CHECK(k.s[7].outcome == DNS_OUT_ANSWERED && k.s[7].qframe[0] == 18);
        CHECK(k.s[7].rframe == 20 && k.s[7].client_port == 40001);
    }

    /* 7. TC=1 and no TCP retry: truncated once the timeout passes */
    make_query(&m, 700, "big2.example", DNS_T_TXT);
    feed(t, &cl, &sv, DNS_UDP, &m, 21, 40000);
    mb_hdr(&m, 700, QR | RA | TC, 1, 0, 0, 0);
    mb_q(&m, "big2.example", DNS_T_TXT);
    feed(t, &cl, &sv, DNS_UDP, &m, 22, 40001);
    dns_tracker_advance(t, T0 + INT64_C(45001000001));
    CHECK(k.n == 9 && k.s[8].outcome == DNS_OUT_TRUNCATED && k.s[8].rframe == 22);
    CHECK(st->unanswered == 1);

    /* 8. SERVFAIL, REFUSED, NOTIMP */
    {
        static const unsigned rc[3] = {2, 5, 4};
        static const int want[3] = {DNS_OUT_SERVFAIL, DNS_OUT_REFUSED, DNS_OUT_OTHER_RCODE};
        for (int i = 0; i < 3; i++) {
            make_query(&m, 800u + (unsigned)i, "r.example", DNS_T_A);
            feed(t, &cl, &sv, DNS_UDP, &m, 30u + (uint64_t)i * 2, 50000 + i);
            mb_hdr(&m, 800u + (unsigned)i, QR | rc[i], 1, 0, 0, 0);
            mb_q(&m, "r.example", DNS_T_A);
            feed(t, &cl, &sv, DNS_UDP, &m, 31u + (uint64_t)i * 2, 50000 + i);
            CHECK(k.n == 10 + i && k.s[9 + i].outcome == want[i] && k.s[9 + i].rcode == rc[i]);
        }
    }

    /* 9. a response whose query was not captured */
    mb_hdr(&m, 900, QR | RA, 1, 1, 0, 0);
    mb_q(&m, "late.example", DNS_T_A);
    mb_a(&m, "late.example", 10, 8, 8, 4, 4);
    feed(t, &cl, &sv, DNS_UDP, &m, 40, 60000);
    CHECK(k.n == 13 && k.s[12].nqueries == 0 && k.s[12].outcome == DNS_OUT_ANSWERED);
    CHECK(st->unmatched == 1);

    /* more answers than a lookup holds: 40 A records, 32 kept */
    make_query(&m, 950, "wide.example", DNS_T_A);
    feed(t, &cl, &sv, DNS_UDP, &m, 43, 60500);
    mb_hdr(&m, 950, QR | RA, 1, 40, 0, 0);
    mb_q(&m, "wide.example", DNS_T_A);
    for (int i = 0; i < 40; i++)
        mb_a(&m, "wide.example", 10, 192, 0, 2, (uint8_t)i);
    feed(t, &cl, &sv, DNS_UDP, &m, 44, 60501);
    CHECK(k.n == 14 && k.s[13].outcome == DNS_OUT_ANSWERED);
    CHECK(k.s[13].nans == DNS_LOOKUP_MAX_ANS && k.s[13].ans_dropped == 8);
    k.n = 13;

    /* a different server or id does not match */
    make_query(&m, 1000, "k.example", DNS_T_A);
    feed(t, &cl, &sv, DNS_UDP, &m, 41, 61000);
    mb_hdr(&m, 1001, QR, 1, 0, 0, 0);
    mb_q(&m, "k.example", DNS_T_A);
    feed(t, &cl, &sv, DNS_UDP, &m, 42, 61001);
    CHECK(k.n == 14 && k.s[13].nqueries == 0 && st->unmatched == 2);
    dns_tracker_flush(t);
    CHECK(k.n == 15 && k.s[14].outcome == DNS_OUT_UNANSWERED && k.s[14].txid == 1000);

    CHECK(st->queries == 16 && st->responses == 14 && st->matched == 12);
    CHECK(st->evicted == 0 && st->ignored == 0 && st->lookups == 16);

    dns_tracker_free(t);

    /* eviction at max_pending and flush order */
    {
        struct dns_tracker_config cfg;
        dns_tracker_config_default(&cfg);
        CHECK(cfg.timeout_ns == INT64_C(5000000000));
        cfg.max_pending = 2;
        cfg.timeout_ns = INT64_C(1000000000);
        memset(&k, 0, sizeof(k));
        t = dns_tracker_new(&cfg, on_lookup, &k);
        CHECK(t != NULL);
        if (!t)
            return;
        st = dns_tracker_stats(t);
        make_query(&m, 1, "e1.example", DNS_T_A);
        feed(t, &cl, &sv, DNS_UDP, &m, 1, 0);
        make_query(&m, 2, "e2.example", DNS_T_A);
        feed(t, &cl, &sv, DNS_UDP, &m, 2, 1);
        make_query(&m, 3, "e3.example", DNS_T_A);
        feed(t, &cl, &sv, DNS_UDP, &m, 3, 2);
        CHECK(st->evicted == 1 && k.n == 0);
        /* the evicted query's response is now unmatched */
        mb_hdr(&m, 1, QR, 1, 0, 0, 0);
        mb_q(&m, "e1.example", DNS_T_A);
        feed(t, &cl, &sv, DNS_UDP, &m, 4, 3);
        CHECK(k.n == 1 && k.s[0].nqueries == 0 && k.s[0].outcome == DNS_OUT_NODATA);
        /* opcode != QUERY is ignored */
        mb_hdr(&m, 9, 4u << 11, 1, 0, 0, 0);
        mb_q(&m, "notify.example", DNS_T_SOA);
        feed(t, &cl, &sv, DNS_UDP, &m, 5, 4);
        CHECK(st->ignored == 1);
        dns_tracker_flush(t);
        CHECK(k.n == 3 && streq(k.s[1].qname, "e2.example") && streq(k.s[2].qname, "e3.example"));
        CHECK(k.s[1].outcome == DNS_OUT_UNANSWERED && st->unanswered == 2);
        dns_tracker_free(t);
    }
    /* the query slots grow on demand (16 up front) up to max_pending, and
     * entries keep matching their responses when the slots move */
    {
        struct dns_tracker_config cfg;
        char name[32];
        dns_tracker_config_default(&cfg);
        cfg.max_pending = 40;
        memset(&k, 0, sizeof(k));
        t = dns_tracker_new(&cfg, on_lookup, &k);
        CHECK(t != NULL);
        if (!t)
            return;
        st = dns_tracker_stats(t);
        for (unsigned i = 1; i <= 40; i++) {
            snprintf(name, sizeof(name), "q%u.example", i);
            make_query(&m, i, name, DNS_T_A);
            feed(t, &cl, &sv, DNS_UDP, &m, i, (int64_t)i);
        }
        CHECK(st->evicted == 0 && k.n == 0);
        mb_hdr(&m, 3, QR, 1, 0, 0, 0);
        mb_q(&m, "q3.example", DNS_T_A);
        feed(t, &cl, &sv, DNS_UDP, &m, 41, 41);
        mb_hdr(&m, 40, QR, 1, 0, 0, 0);
        mb_q(&m, "q40.example", DNS_T_A);
        feed(t, &cl, &sv, DNS_UDP, &m, 42, 42);
        CHECK(k.n == 2 && streq(k.s[0].qname, "q3.example") && k.s[0].qframe[0] == 3 &&
              k.s[0].rframe == 41);
        CHECK(streq(k.s[1].qname, "q40.example") && k.s[1].qframe[0] == 40 && k.s[1].rframe == 42);
        CHECK(st->unmatched == 0);
        /* 38 pending: two more fit, the third evicts the oldest (q1) */
        for (unsigned i = 41; i <= 43; i++) {
            snprintf(name, sizeof(name), "q%u.example", i);
            make_query(&m, i, name, DNS_T_A);
            feed(t, &cl, &sv, DNS_UDP, &m, i + 2, (int64_t)i + 2);
        }
        CHECK(st->evicted == 1);
        mb_hdr(&m, 1, QR, 1, 0, 0, 0);
        mb_q(&m, "q1.example", DNS_T_A);
        feed(t, &cl, &sv, DNS_UDP, &m, 46, 46);
        CHECK(st->unmatched == 1 && k.n == 3 && k.s[2].nqueries == 0);
        dns_tracker_free(t);
    }
    dns_tracker_free(NULL);
}

static void test_class(void)
{
    static const struct {
        const char *addr;
        enum dns_addr_class want;
    } tab[] = {
        {"8.8.8.8", DNS_ADDR_GLOBAL},
        {"0.0.0.0", DNS_ADDR_UNSPECIFIED},
        {"127.0.0.1", DNS_ADDR_LOOPBACK},
        {"10.1.2.3", DNS_ADDR_PRIVATE},
        {"172.16.0.1", DNS_ADDR_PRIVATE},
        {"172.31.255.255", DNS_ADDR_PRIVATE},
        {"172.32.0.1", DNS_ADDR_GLOBAL},
        {"172.15.255.255", DNS_ADDR_GLOBAL},
        {"192.168.1.1", DNS_ADDR_PRIVATE},
        {"169.254.10.10", DNS_ADDR_LINK_LOCAL},
        {"100.64.0.1", DNS_ADDR_CGNAT},
        {"100.127.255.255", DNS_ADDR_CGNAT},
        {"100.128.0.1", DNS_ADDR_GLOBAL},
        {"100.63.255.255", DNS_ADDR_GLOBAL},
        {"192.0.2.1", DNS_ADDR_DOCUMENTATION},
        {"198.51.100.7", DNS_ADDR_DOCUMENTATION},
        {"203.0.113.255", DNS_ADDR_DOCUMENTATION},
        {"192.0.3.1", DNS_ADDR_GLOBAL},
        {"224.0.0.5", DNS_ADDR_MULTICAST},
        {"239.255.255.250", DNS_ADDR_MULTICAST},
        {"::", DNS_ADDR_UNSPECIFIED},
        {"::1", DNS_ADDR_LOOPBACK},
        {"fe80::1", DNS_ADDR_LINK_LOCAL},
        {"febf::1", DNS_ADDR_LINK_LOCAL},
        {"fec0::1", DNS_ADDR_GLOBAL},
        {"fc00::1", DNS_ADDR_ULA},
        {"fd12:3456::1", DNS_ADDR_ULA},
        {"2001:db8::1", DNS_ADDR_DOCUMENTATION},
        {"2001:db9::1", DNS_ADDR_GLOBAL},
        {"ff02::1", DNS_ADDR_MULTICAST},
        {"2a00:1450::1", DNS_ADDR_GLOBAL},
        {"::ffff:10.0.0.1", DNS_ADDR_PRIVATE},
        {"::ffff:8.8.8.8", DNS_ADDR_GLOBAL},
    };
    struct ft_addr none;
    char dom[64];

    for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
        struct ft_addr a = addr_of(tab[i].addr);
        if (!CHECK(dns_addr_classify(&a) == tab[i].want))
            printf("  classify %s -> %s\n", tab[i].addr,
                   dns_addr_class_name(dns_addr_classify(&a)));
    }
    memset(&none, 0, sizeof(none));
    CHECK(dns_addr_classify(&none) == DNS_ADDR_INVALID);
    {
        struct ft_addr p = addr_of("10.0.0.1"), g = addr_of("8.8.4.4");
        CHECK(dns_addr_is_unroutable(&p) && !dns_addr_is_unroutable(&g));
    }
    CHECK(streq(dns_addr_class_name(DNS_ADDR_CGNAT), "cgnat"));

    CHECK(dns_xmpp_srv_name("_xmpp-server._tcp.example.com", dom, sizeof(dom)) ==
          DNS_XMPP_SRV_SERVER);
    CHECK(streq(dom, "example.com"));
    CHECK(dns_xmpp_srv_name("_XMPP-Client._TCP.Example.ORG.", dom, sizeof(dom)) ==
          DNS_XMPP_SRV_CLIENT);
    CHECK(streq(dom, "example.org"));
    CHECK(dns_xmpp_srv_name("_xmpps-server._tcp.a.b", dom, sizeof(dom)) == DNS_XMPP_SRVS_SERVER);
    CHECK(streq(dom, "a.b"));
    CHECK(dns_xmpp_srv_name("_xmpps-client._tcp.c", NULL, 0) == DNS_XMPP_SRVS_CLIENT);
    CHECK(dns_xmpp_srv_name("_xmpp-server._udp.example.com", dom, sizeof(dom)) ==
          DNS_XMPP_SRV_NONE);
    CHECK(dns_xmpp_srv_name("_xmpp-server._tcp.", dom, sizeof(dom)) == DNS_XMPP_SRV_NONE);
    CHECK(dns_xmpp_srv_name("_xmpp-server._tc", dom, sizeof(dom)) == DNS_XMPP_SRV_NONE);
    CHECK(dns_xmpp_srv_name("example.com", dom, sizeof(dom)) == DNS_XMPP_SRV_NONE);
    CHECK(dns_xmpp_srv_name(NULL, dom, sizeof(dom)) == DNS_XMPP_SRV_NONE);
    strcpy(dom, "keep");
    CHECK(dns_xmpp_srv_name("_xmpp-server._tcp.toolong.example", dom, 4) ==
          DNS_XMPP_SRV_SERVER);
    CHECK(streq(dom, "keep"));
}

int main(void)
{
    test_header_and_question();
    test_all_types();
    test_escaping();
    test_errors();
    test_caps();
    test_tcp_framing();
    test_transactions();
    test_class();
    return check_summary("dns");
}
