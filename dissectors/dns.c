/*
 * dns.c - DNS message parser (RFC 1035 4.1, RFC 3596 AAAA, RFC 2782 SRV,
 * RFC 6891 OPT) and DNS-over-TCP length framing (RFC 1035 4.2.2, RFC 7766).
 *
 *   0  1  2  3  4  5  6  7  8  9 10 11 12 13 14 15
 *  +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
 *  |                      ID                       |
 *  |QR|   Opcode  |AA|TC|RD|RA| Z|AD|CD|   RCODE   |
 *  |          QDCOUNT / ANCOUNT / NSCOUNT / ARCOUNT |
 *  +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
 *  question: QNAME QTYPE(16) QCLASS(16)
 *  RR:       NAME TYPE(16) CLASS(16) TTL(32) RDLENGTH(16) RDATA
 *
 * Every byte is read through struct cursor.  Names are decoded
 * iteratively; a compression pointer must point strictly before the label
 * run it is found in, so each hop goes backwards and no loop is possible;
 * hops are capped as well.  The parser stops at the first error and counts
 * it; it never allocates (strings go to the message's own pool).
 */
#include "dns.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../analyzer/cursor.h"

static const char *const err_names[DNS_ERR__COUNT] = {
    [DNS_ERR_NONE] = "none",
    [DNS_ERR_TRUNC_HEADER] = "truncated-header",
    [DNS_ERR_COUNTS] = "counts-exceed-packet",
    [DNS_ERR_TRUNC_QUESTION] = "truncated-question",
    [DNS_ERR_TRUNC_RR] = "truncated-record",
    [DNS_ERR_TRUNC_RDATA] = "truncated-rdata",
    [DNS_ERR_BAD_RDATA] = "bad-rdata",
    [DNS_ERR_PTR_FORWARD] = "pointer-forward",
    [DNS_ERR_PTR_LOOP] = "pointer-loop",
    [DNS_ERR_PTR_HOPS] = "pointer-hops",
    [DNS_ERR_NAME_TOO_LONG] = "name-too-long",
    [DNS_ERR_LABEL_TOO_LONG] = "label-too-long",
};

const char *dns_err_name(enum dns_err err)
{
    if ((unsigned)err >= DNS_ERR__COUNT)
        return "unknown";
    return err_names[err];
}

/* IANA "Resource Record (RR) TYPEs" mnemonics, sorted by value. */
static const struct dns_type_tok {
    uint16_t type;
    const char *name;
} type_toks[] = {
    {1, "A"}, {2, "NS"}, {3, "MD"}, {4, "MF"}, {5, "CNAME"}, {6, "SOA"}, {7, "MB"}, {8, "MG"},
    {9, "MR"}, {10, "NULL"}, {11, "WKS"}, {12, "PTR"}, {13, "HINFO"}, {14, "MINFO"}, {15, "MX"},
    {16, "TXT"}, {17, "RP"}, {18, "AFSDB"}, {19, "X25"}, {20, "ISDN"}, {21, "RT"}, {22, "NSAP"},
    {23, "NSAP-PTR"}, {24, "SIG"}, {25, "KEY"}, {26, "PX"}, {27, "GPOS"}, {28, "AAAA"}, {29, "LOC"},
    {30, "NXT"}, {31, "EID"}, {32, "NIMLOC"}, {33, "SRV"}, {34, "ATMA"}, {35, "NAPTR"}, {36, "KX"},
    {37, "CERT"}, {38, "A6"}, {39, "DNAME"}, {40, "SINK"}, {41, "OPT"}, {42, "APL"}, {43, "DS"},
    {44, "SSHFP"}, {45, "IPSECKEY"}, {46, "RRSIG"}, {47, "NSEC"}, {48, "DNSKEY"}, {49, "DHCID"},
    {50, "NSEC3"}, {51, "NSEC3PARAM"}, {52, "TLSA"}, {53, "SMIMEA"}, {55, "HIP"}, {56, "NINFO"},
    {57, "RKEY"}, {58, "TALINK"}, {59, "CDS"}, {60, "CDNSKEY"}, {61, "OPENPGPKEY"}, {62, "CSYNC"},
    {63, "ZONEMD"}, {64, "SVCB"}, {65, "HTTPS"}, {99, "SPF"}, {100, "UINFO"}, {101, "UID"},
    {102, "GID"}, {103, "UNSPEC"}, {104, "NID"}, {105, "L32"}, {106, "L64"}, {107, "LP"},
    {108, "EUI48"}, {109, "EUI64"}, {249, "TKEY"}, {250, "TSIG"}, {251, "IXFR"}, {252, "AXFR"},
    {253, "MAILB"}, {254, "MAILA"}, {255, "ANY"}, {256, "URI"}, {257, "CAA"}, {258, "AVC"},
    {259, "DOA"}, {260, "AMTRELAY"}, {261, "RESINFO"}, {32768, "TA"}, {32769, "DLV"},
};

const char *dns_type_name(uint16_t type, char *buf, size_t buflen)
{
    size_t lo = 0, hi = sizeof(type_toks) / sizeof(type_toks[0]);

    while (lo < hi) { /* binary search: the table is sorted by value */
        size_t mid = lo + (hi - lo) / 2;
        if (type_toks[mid].type == type)
            return type_toks[mid].name;
        if (type_toks[mid].type < type)
            lo = mid + 1;
        else
            hi = mid;
    }
    /* RFC 3597 section 5: an unknown type is written TYPE<decimal>. */
    if (buf == NULL || buflen < DNS_TYPE_NAME_BUFLEN)
        return "TYPE?";
    snprintf(buf, buflen, "TYPE%u", (unsigned)type);
    return buf;
}

/* ------------------------------------------------------------------ */
/* Presentation helpers                                                */

/* Appends one label byte in presentation form (lowercased; '.' and '\'
 * escaped; anything not printable ASCII as \DDD).  out must have room for
 * 4 more bytes plus the NUL; returns the new length. */
static size_t put_name_byte(char *out, size_t o, uint8_t ch)
{
    if (ch >= 'A' && ch <= 'Z')
        ch = (uint8_t)(ch - 'A' + 'a');
    if (ch == '.' || ch == '\\') {
        out[o++] = '\\';
        out[o++] = (char)ch;
    } else if (ch <= 0x20 || ch >= 0x7f) {
        out[o++] = '\\';
        out[o++] = (char)('0' + ch / 100);
        out[o++] = (char)('0' + (ch / 10) % 10);
        out[o++] = (char)('0' + ch % 10);
    } else {
        out[o++] = (char)ch;
    }
    return o;
}

/*
 * Reads the name at c->off into out[DNS_NAME_STRLEN].  The uncompressed
 * part must lie inside c (c->len is the limit: the message, or the end of
 * the rdata); after a pointer, labels may lie anywhere in buf[0..msglen).
 * On success c->off is just after the name as it appears at its position.
 * trunc_err is returned when the name runs off its limit.
 */
static enum dns_err read_name(const uint8_t *buf, size_t msglen, struct cursor *c, char *out,
                              enum dns_err trunc_err)
{
    size_t pos = c->off;
    size_t limit = c->len;  /* bound for the bytes at pos */
    size_t run_start = pos; /* first byte of the current label run */
    size_t end_off = 0;     /* where the cursor resumes */
    bool jumped = false;
    unsigned hops = 0;
    size_t wire = 0; /* wire length so far */
    size_t o = 0;

    for (;;) {
        uint8_t b;
        if (pos >= limit)
            return trunc_err;
        b = buf[pos];
        if ((b & 0xC0) == 0xC0) {
            size_t target;
            if (pos + 1 >= limit)
                return trunc_err;
            target = ((size_t)(b & 0x3F) << 8) | buf[pos + 1];
            if (!jumped) {
                end_off = pos + 2;
                jumped = true;
            }
            if (target > pos)
                return DNS_ERR_PTR_FORWARD;
            if (target >= run_start)
                return DNS_ERR_PTR_LOOP;
            if (++hops > DNS_MAX_PTR_HOPS)
                return DNS_ERR_PTR_HOPS;
            pos = target;
            run_start = target;
            limit = msglen;
            continue;
        }
        if (b & 0xC0)
            return DNS_ERR_LABEL_TOO_LONG;
        if (b == 0) {
            wire += 1;
            pos += 1;
            break;
        }
        /* this label plus at least the terminating zero must fit in 255 */
        if (wire + 1u + b + 1u > DNS_NAME_WIRE_MAX)
            return DNS_ERR_NAME_TOO_LONG;
        if (b > limit - pos - 1)
            return trunc_err;
        if (o > 0)
            out[o++] = '.';
        for (size_t i = 0; i < b; i++)
            o = put_name_byte(out, o, buf[pos + 1 + i]);
        wire += 1u + b;
        pos += 1u + b;
    }
    if (o == 0)
        out[o++] = '.';
    out[o] = '\0';
    c->off = jumped ? end_off : pos;
    return DNS_ERR_NONE;
}

/* Copies s into the pool; NULL when the pool is full. */
static const char *intern(struct dns_msg *m, const char *s)
{
    size_t n = strlen(s) + 1;
    char *p;
    if (n > sizeof(m->pool) - m->pool_used)
        return NULL;
    p = m->pool + m->pool_used;
    memcpy(p, s, n);
    m->pool_used += n;
    return p;
}

/* Renders TXT character-strings as "a" "b" into out[DNS_TXT_STRLEN]. */
static enum dns_err read_txt(struct cursor *rd, char *out, uint16_t *nstrings, bool *cut)
{
    size_t o = 0;
    *nstrings = 0;
    *cut = false;
    out[0] = '\0';
    while (cursor_left(rd) > 0) {
        uint8_t n;
        const uint8_t *s;
        cursor_u8(rd, &n);
        s = cursor_take(rd, n);
        if (!s)
            return DNS_ERR_BAD_RDATA;
        (*nstrings)++;
        /* worst case for one string: space, quotes, 4 per byte, NUL */
        for (size_t i = 0; i <= (size_t)n + 1 && !*cut; i++) {
            char tmp[6];
            size_t k = 0;
            if (i == 0) {
                if (o > 0)
                    tmp[k++] = ' ';
                tmp[k++] = '"';
            } else if (i == (size_t)n + 1) {
                tmp[k++] = '"';
            } else {
                uint8_t ch = s[i - 1];
                if (ch == '"' || ch == '\\') {
                    tmp[k++] = '\\';
                    tmp[k++] = (char)ch;
                } else if (ch < 0x20 || ch >= 0x7f) {
                    tmp[k++] = '\\';
                    tmp[k++] = (char)('0' + ch / 100);
                    tmp[k++] = (char)('0' + (ch / 10) % 10);
                    tmp[k++] = (char)('0' + ch % 10);
                } else {
                    tmp[k++] = (char)ch;
                }
            }
            if (o + k >= DNS_TXT_STRLEN) {
                *cut = true;
                break;
            }
            memcpy(out + o, tmp, k);
            o += k;
        }
        out[o] = '\0';
    }
    return DNS_ERR_NONE;
}

/* ------------------------------------------------------------------ */
/* Records                                                             */

/* Name scratch for one record: owner + up to two rdata names. */
struct rr_names {
    char owner[DNS_NAME_STRLEN];
    char n1[DNS_NAME_STRLEN];
    char n2[DNS_NAME_STRLEN];
    char txt[DNS_TXT_STRLEN];
};

/* Parses the rdata of rr (already holding type/class/ttl/rdlength) from rd,
 * a cursor over buf whose len is the end of the rdata.  Name strings are
 * left in nm; the caller interns them. */
static enum dns_err parse_rdata(const uint8_t *buf, size_t msglen, struct cursor *rd,
                                struct dns_rr *rr, struct rr_names *nm)
{
    enum dns_err e = DNS_ERR_NONE;
    const uint8_t *p;

    switch (rr->type) {
    case DNS_T_A:
        if (rr->rdlength != 4)
            return DNS_ERR_BAD_RDATA;
        p = cursor_take(rd, 4);
        ft_addr_set4(&rr->u.addr, p);
        break;
    case DNS_T_AAAA:
        if (rr->rdlength != 16)
            return DNS_ERR_BAD_RDATA;
        p = cursor_take(rd, 16);
        ft_addr_set6(&rr->u.addr, p);
        break;
    case DNS_T_CNAME:
    case DNS_T_NS:
    case DNS_T_PTR:
        e = read_name(buf, msglen, rd, nm->n1, DNS_ERR_BAD_RDATA);
        break;
    case DNS_T_SRV:
        cursor_be16(rd, &rr->u.srv.priority);
        cursor_be16(rd, &rr->u.srv.weight);
        cursor_be16(rd, &rr->u.srv.port);
        if (rd->bad)
            return DNS_ERR_BAD_RDATA;
        e = read_name(buf, msglen, rd, nm->n1, DNS_ERR_BAD_RDATA);
        break;
    case DNS_T_SOA:
        e = read_name(buf, msglen, rd, nm->n1, DNS_ERR_BAD_RDATA);
        if (e == DNS_ERR_NONE)
            e = read_name(buf, msglen, rd, nm->n2, DNS_ERR_BAD_RDATA);
        if (e != DNS_ERR_NONE)
            return e;
        cursor_be32(rd, &rr->u.soa.serial);
        cursor_be32(rd, &rr->u.soa.refresh);
        cursor_be32(rd, &rr->u.soa.retry);
        cursor_be32(rd, &rr->u.soa.expire);
        cursor_be32(rd, &rr->u.soa.minimum);
        break;
    case DNS_T_TXT:
        e = read_txt(rd, nm->txt, &rr->u.txt.nstrings, &rr->u.txt.cut);
        break;
    case DNS_T_OPT:
        /* RFC 6891 6.1.3: CLASS = UDP payload size; TTL = ext-rcode,
         * version, DO + Z.  Options are skipped (TLVs, not validated). */
        rr->u.opt.udp_size = rr->rclass;
        rr->u.opt.ext_rcode = (uint8_t)(rr->ttl >> 24);
        rr->u.opt.version = (uint8_t)(rr->ttl >> 16);
        rr->u.opt.do_bit = (rr->ttl & 0x8000u) != 0;
        cursor_skip(rd, rr->rdlength);
        break;
    default:
        cursor_skip(rd, rr->rdlength);
        break;
    }
    if (e != DNS_ERR_NONE)
        return e;
    if (rd->bad || cursor_left(rd) != 0)
        return DNS_ERR_BAD_RDATA;
    return DNS_ERR_NONE;
}

/* Interns the strings of a parsed record; false when the pool is full. */
static bool intern_rr(struct dns_msg *m, struct dns_rr *rr, const struct rr_names *nm)
{
    rr->name = intern(m, nm->owner);
    if (!rr->name)
        return false;
    switch (rr->type) {
    case DNS_T_CNAME:
    case DNS_T_NS:
    case DNS_T_PTR:
        rr->u.target = intern(m, nm->n1);
        return rr->u.target != NULL;
    case DNS_T_SRV:
        rr->u.srv.target = intern(m, nm->n1);
        return rr->u.srv.target != NULL;
    case DNS_T_SOA:
        rr->u.soa.mname = intern(m, nm->n1);
        rr->u.soa.rname = intern(m, nm->n2);
        return rr->u.soa.mname && rr->u.soa.rname;
    case DNS_T_TXT:
        rr->u.txt.text = intern(m, nm->txt);
        return rr->u.txt.text != NULL;
    default:
        return true;
    }
}

/* Parses one RR at c and stores it in m if there is room. */
static enum dns_err parse_rr(const uint8_t *buf, size_t len, struct cursor *c, struct dns_msg *m,
                             uint8_t section, struct rr_names *nm)
{
    struct dns_rr rr;
    struct cursor rd;
    enum dns_err e;
    size_t pool_mark;

    memset(&rr, 0, sizeof(rr));
    rr.section = section;
    e = read_name(buf, len, c, nm->owner, DNS_ERR_TRUNC_RR);
    if (e != DNS_ERR_NONE)
        return e;
    cursor_be16(c, &rr.type);
    cursor_be16(c, &rr.rclass);
    cursor_be32(c, &rr.ttl);
    cursor_be16(c, &rr.rdlength);
    if (c->bad)
        return DNS_ERR_TRUNC_RR;
    if (rr.rdlength > cursor_left(c))
        return DNS_ERR_TRUNC_RDATA;
    cursor_init(&rd, buf, c->off + rr.rdlength);
    rd.off = c->off;
    e = parse_rdata(buf, len, &rd, &rr, nm);
    if (e != DNS_ERR_NONE) {
        /* point the error at the rdata start */
        return e;
    }
    cursor_skip(c, rr.rdlength);

    if (rr.type == DNS_T_OPT && section == DNS_SEC_ADDITIONAL && !m->has_edns &&
        strcmp(nm->owner, ".") == 0) {
        m->has_edns = true;
        m->edns_udp_size = rr.u.opt.udp_size;
        m->edns_version = rr.u.opt.version;
        m->edns_do = rr.u.opt.do_bit;
        m->rcode_full = (uint16_t)(((unsigned)rr.u.opt.ext_rcode << 4) | m->rcode);
    }

    pool_mark = m->pool_used;
    if (m->nrr >= DNS_MAX_RR || !intern_rr(m, &rr, nm)) {
        m->pool_used = pool_mark;
        m->dropped++;
        return DNS_ERR_NONE;
    }
    m->rr[m->nrr++] = rr;
    return DNS_ERR_NONE;
}

enum dns_err dns_parse(const uint8_t *buf, size_t len, const struct ft_meta *meta,
                       struct dns_msg *m, struct dns_stats *stats)
{
    struct cursor c;
    struct rr_names nm;
    enum dns_err e = DNS_ERR_NONE;
    uint16_t flags = 0;
    size_t min_need;
    size_t err_at = 0;

    memset(m, 0, offsetof(struct dns_msg, pool));
    if (meta)
        m->meta = *meta;
    cursor_init(&c, buf, len);

    cursor_be16(&c, &m->id);
    cursor_be16(&c, &flags);
    cursor_be16(&c, &m->qdcount);
    cursor_be16(&c, &m->ancount);
    cursor_be16(&c, &m->nscount);
    cursor_be16(&c, &m->arcount);
    if (c.bad) {
        e = DNS_ERR_TRUNC_HEADER;
        goto out;
    }
    m->qr = (flags & 0x8000u) != 0;
    m->opcode = (uint8_t)((flags >> 11) & 0xF);
    m->aa = (flags & 0x0400u) != 0;
    m->tc = (flags & 0x0200u) != 0;
    m->rd = (flags & 0x0100u) != 0;
    m->ra = (flags & 0x0080u) != 0;
    m->z = (flags & 0x0040u) != 0;
    m->ad = (flags & 0x0020u) != 0;
    m->cd = (flags & 0x0010u) != 0;
    m->rcode = (uint8_t)(flags & 0xF);
    m->rcode_full = m->rcode;

    /* A question needs at least 5 bytes (root + type + class), a record 11. */
    min_need = (size_t)m->qdcount * 5 +
               ((size_t)m->ancount + m->nscount + m->arcount) * 11;
    if (min_need > cursor_left(&c)) {
        err_at = c.off;
        e = DNS_ERR_COUNTS;
        goto out;
    }

    for (unsigned i = 0; i < m->qdcount; i++) {
        struct dns_question q;
        err_at = c.off;
        e = read_name(buf, len, &c, nm.owner, DNS_ERR_TRUNC_QUESTION);
        if (e != DNS_ERR_NONE)
            goto out;
        cursor_be16(&c, &q.qtype);
        cursor_be16(&c, &q.qclass);
        if (c.bad) {
            e = DNS_ERR_TRUNC_QUESTION;
            goto out;
        }
        q.qname = m->nq < DNS_MAX_QUESTIONS ? intern(m, nm.owner) : NULL;
        if (!q.qname) {
            m->dropped++;
            continue;
        }
        m->q[m->nq++] = q;
    }

    {
        const uint16_t counts[3] = {m->ancount, m->nscount, m->arcount};
        for (unsigned s = 0; s < 3; s++) {
            for (unsigned i = 0; i < counts[s]; i++) {
                err_at = c.off;
                e = parse_rr(buf, len, &c, m, (uint8_t)s, &nm);
                if (e != DNS_ERR_NONE)
                    goto out;
            }
        }
    }
    m->trailing = cursor_left(&c);

out:
    m->err = e;
    m->err_offset = e != DNS_ERR_NONE ? err_at : 0;
    if (stats) {
        stats->messages++;
        if (e == DNS_ERR_NONE)
            stats->parsed_ok++;
        else
            stats->err[e]++;
        stats->dropped += m->dropped;
    }
    return e;
}

/* ------------------------------------------------------------------ */
/* TCP framing                                                         */

void dns_tcp_init(struct dns_tcp_stream *s, dns_tcp_msg_fn on_msg, void *user)
{
    memset(s, 0, sizeof(*s));
    s->on_msg = on_msg;
    s->user = user;
}

void dns_tcp_release(struct dns_tcp_stream *s)
{
    budget_free(s->buf);
    s->buf = NULL;
    s->buf_cap = 0;
    s->have = 0;
}

/* Drops whatever partial message is held and counts its bytes. */
static void drop_partial(struct dns_tcp_stream *s)
{
    s->stats.bytes_discarded += s->hdr_have + s->have;
    s->hdr_have = 0;
    s->have = 0;
    s->need = 0;
}

void dns_tcp_data(struct dns_tcp_stream *s, const uint8_t *data, size_t len,
                  const struct ft_meta *meta)
{
    struct cursor c;

    if (s->damaged) {
        s->stats.bytes_discarded += len;
        return;
    }
    cursor_init(&c, data, len);
    while (cursor_left(&c) > 0) {
        if (s->hdr_have < 2) {
            cursor_u8(&c, &s->hdr[s->hdr_have++]);
            if (s->hdr_have < 2)
                continue;
            s->need = load_be16(s->hdr);
            s->have = 0;
            if (s->need == 0) {
                /* an empty message: delivered so the parser can flag it */
                s->hdr_have = 0;
                s->stats.messages++;
                s->on_msg(s->user, s->hdr, 0, meta);
            }
            continue;
        }
        if (s->have == 0 && cursor_left(&c) >= s->need) {
            /* the whole message is in this chunk: no copy */
            const uint8_t *p = cursor_take(&c, s->need);
            size_t n = s->need;
            s->hdr_have = 0;
            s->stats.messages++;
            s->on_msg(s->user, p, n, meta);
            continue;
        }
        if (s->buf_cap < s->need) {
            uint8_t *nb = s->buf != NULL ? budget_realloc(s->buf, s->need)
                                         : budget_malloc(s->budget, s->need);
            if (!nb) {
                s->stats.alloc_failures++;
                drop_partial(s);
                s->damaged = true;
                s->stats.bytes_discarded += cursor_left(&c);
                return;
            }
            s->buf = nb;
            s->buf_cap = s->need;
        }
        {
            size_t n = s->need - s->have;
            if (n > cursor_left(&c))
                n = cursor_left(&c);
            memcpy(s->buf + s->have, cursor_take(&c, n), n);
            s->have += n;
        }
        if (s->have == s->need) {
            size_t n = s->need;
            s->hdr_have = 0;
            s->have = 0;
            s->stats.messages++;
            s->on_msg(s->user, s->buf, n, meta);
        }
    }
}

void dns_tcp_gap(struct dns_tcp_stream *s, uint64_t nbytes, const struct ft_meta *meta)
{
    (void)nbytes;
    (void)meta;
    s->stats.gaps++;
    if (!s->damaged) {
        drop_partial(s);
        s->damaged = true;
    }
}

void dns_tcp_eof(struct dns_tcp_stream *s, const struct ft_meta *meta)
{
    (void)meta;
    if (s->hdr_have > 0 || s->have > 0) {
        s->stats.partial_at_eof++;
        drop_partial(s);
    }
    dns_tcp_release(s);
}
