/*
 * dns.h - DNS dissector: message parser (RFC 1035, RFC 6891 EDNS0,
 * RFC 2782 SRV), DNS-over-TCP framing (RFC 7766), query/response
 * transaction tracking, and address
 * / name classification helpers used by the federation verdicts.
 *
 * Pipeline order (see each function's comment for ownership):
 *
 *   UDP payload  --------------------------------+
 *   TCP bytes -> dns_tcp_data/gap/eof -> on_msg -+-> dns_parse -> dns_tracker_feed
 *                                                         dns_tracker_advance (clock)
 *                                                         dns_tracker_flush  (end of input)
 *                                      completed lookups -> dns_lookup_fn callback
 *
 * Nothing here has global mutable state; every object is owned by the
 * caller.  All times are packet times (ft_meta.ts_ns), never the wall clock.
 */
#ifndef FT_DNS_H
#define FT_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../analyzer/addr.h"
#include "../analyzer/budget.h"
#include "../analyzer/meta.h"

/* ------------------------------------------------------------------ */
/* Constants                                                           */

#define DNS_HEADER_LEN 12
#define DNS_NAME_WIRE_MAX 255  /* RFC 1035 3.1, including length bytes */
#define DNS_LABEL_MAX 63
#define DNS_MAX_PTR_HOPS 32    /* compression pointers followed per name */
/* Presentation buffer: 255 wire bytes, every byte escaped as \DDD, plus
 * dots and the NUL, always fits in 1024. */
#define DNS_NAME_STRLEN 1024
#define DNS_TXT_STRLEN 512     /* TXT presentation is cut (and flagged) here */

#define DNS_MAX_QUESTIONS 4    /* questions stored per message */
#define DNS_MAX_RR 64          /* records stored per message (all sections) */
#define DNS_POOL_SIZE 16384    /* bytes for the strings of one message */

enum dns_type {
    DNS_T_A = 1,
    DNS_T_NS = 2,
    DNS_T_CNAME = 5,
    DNS_T_SOA = 6,
    DNS_T_PTR = 12,
    DNS_T_TXT = 16,
    DNS_T_AAAA = 28,
    DNS_T_SRV = 33,
    DNS_T_OPT = 41,
    DNS_T_ANY = 255,
};

enum dns_rcode {
    DNS_RCODE_NOERROR = 0,
    DNS_RCODE_FORMERR = 1,
    DNS_RCODE_SERVFAIL = 2,
    DNS_RCODE_NXDOMAIN = 3,
    DNS_RCODE_NOTIMP = 4,
    DNS_RCODE_REFUSED = 5,
};

/* ------------------------------------------------------------------ */
/* Parse errors: one per message (parsing stops at the first).         */

enum dns_err {
    DNS_ERR_NONE = 0,
    DNS_ERR_TRUNC_HEADER,   /* fewer than 12 bytes */
    DNS_ERR_COUNTS,         /* section counts need more bytes than the packet has */
    DNS_ERR_TRUNC_QUESTION, /* question name or type/class runs off the end */
    DNS_ERR_TRUNC_RR,       /* record owner name or fixed fields run off the end */
    DNS_ERR_TRUNC_RDATA,    /* rdlength runs past the end of the message */
    DNS_ERR_BAD_RDATA,      /* rdata does not match its type (size, names past rdlength) */
    DNS_ERR_PTR_FORWARD,    /* compression pointer points at or after itself */
    DNS_ERR_PTR_LOOP,       /* pointer into the label run being read (a loop) */
    DNS_ERR_PTR_HOPS,       /* more than DNS_MAX_PTR_HOPS pointers in one name */
    DNS_ERR_NAME_TOO_LONG,  /* name longer than 255 bytes on the wire */
    DNS_ERR_LABEL_TOO_LONG, /* label length byte 64..191 (over 63 / reserved type) */
    DNS_ERR__COUNT
};

/* Stable short name for an error ("ptr-forward", ...); never NULL. */
const char *dns_err_name(enum dns_err err);

/* Counters the caller owns and passes to dns_parse (zero-initialise it). */
struct dns_stats {
    uint64_t messages;             /* dns_parse calls */
    uint64_t parsed_ok;            /* messages with no error */
    uint64_t err[DNS_ERR__COUNT];  /* err[e] = messages that failed with e */
    uint64_t dropped;              /* questions/records valid but not stored (caps) */
};

/* ------------------------------------------------------------------ */
/* Parsed message                                                      */

enum dns_section {
    DNS_SEC_ANSWER = 0,
    DNS_SEC_AUTHORITY = 1,
    DNS_SEC_ADDITIONAL = 2,
};

struct dns_question {
    const char *qname; /* presentation form, lowercase; points into the msg pool */
    uint16_t qtype;
    uint16_t qclass;
};

/* One resource record.  Strings point into the owning dns_msg's pool. */
struct dns_rr {
    const char *name; /* owner, presentation form, lowercase ("." = root) */
    uint16_t type;
    uint16_t rclass;  /* for OPT: the requestor's UDP payload size */
    uint32_t ttl;     /* for OPT: ext-rcode/version/flags, decoded in u.opt */
    uint16_t rdlength;
    uint8_t section;  /* enum dns_section */
    union {
        struct ft_addr addr;   /* A, AAAA */
        const char *target;    /* CNAME, NS, PTR */
        struct {
            uint16_t priority, weight, port;
            const char *target; /* "." = service not available (RFC 2782) */
        } srv;
        struct {
            const char *mname, *rname;
            uint32_t serial, refresh, retry, expire, minimum;
        } soa;
        struct {
            const char *text;  /* "str1" "str2", escaped like names */
            uint16_t nstrings;
            bool cut;          /* text stopped at DNS_TXT_STRLEN */
        } txt;
        struct {
            uint16_t udp_size;
            uint8_t ext_rcode; /* upper 8 bits of the 12-bit rcode */
            uint8_t version;
            bool do_bit;
        } opt;
    } u; /* unknown types: only type + rdlength are kept */
};

/*
 * One parsed DNS message.  Fixed size, no heap: the caller provides it
 * (stack, static or heap) and owns it.  All const char * inside point into
 * msg->pool, so the struct must not be memcpy'd and is only valid until the
 * next dns_parse into it.
 */
struct dns_msg {
    uint16_t id;
    bool qr, aa, tc, rd, ra, z, ad, cd;
    uint8_t opcode;
    uint8_t rcode;       /* 4-bit header rcode */
    uint16_t rcode_full; /* with the EDNS0 extended rcode, when an OPT is present */
    uint16_t qdcount, ancount, nscount, arcount; /* as on the wire */

    unsigned nq;                              /* questions stored */
    struct dns_question q[DNS_MAX_QUESTIONS];
    unsigned nrr;                             /* records stored, wire order */
    struct dns_rr rr[DNS_MAX_RR];
    unsigned dropped;    /* questions/records valid but not stored (caps/pool) */

    bool has_edns;       /* an OPT record was seen in the additional section */
    uint16_t edns_udp_size;
    uint8_t edns_version;
    bool edns_do;

    struct ft_meta meta; /* packet the message came from (copied from dns_parse) */
    enum dns_err err;    /* DNS_ERR_NONE if the whole message parsed */
    size_t err_offset;   /* byte offset where parsing failed */
    size_t trailing;     /* bytes after the last section (ignored) */

    size_t pool_used;
    char pool[DNS_POOL_SIZE];
};

/*
 * Parses one DNS message (for TCP: without the 2-byte length).
 * buf and meta are borrowed for the call only (meta is copied into
 * msg->meta; NULL gives a zero meta); msg is overwritten (caller-owned);
 * stats (may be NULL) is incremented: messages, parsed_ok or err[e],
 * dropped.  On error the header and the records before the error remain
 * in msg and msg->err says what failed.  Never reads outside buf[0..len).
 */
enum dns_err dns_parse(const uint8_t *buf, size_t len, const struct ft_meta *meta,
                       struct dns_msg *msg, struct dns_stats *stats);

/* Mnemonic for a type ("SRV", "HTTPS"); a type IANA has no name for is
 * written "TYPE<n>" (RFC 3597 5) into buf, which must hold
 * DNS_TYPE_NAME_BUFLEN bytes.  Never NULL: the result is either a static
 * string or buf. */
#define DNS_TYPE_NAME_BUFLEN 12
const char *dns_type_name(uint16_t type, char *buf, size_t buflen);

/* ------------------------------------------------------------------ */
/* DNS over TCP: 2-byte length framing (RFC 1035 4.2.2 / RFC 7766)     */

/* Called with each complete message (length prefix removed).  msg is
 * borrowed until return; meta is the segment that completed it.  The
 * callback must not feed the same stream. */
typedef void (*dns_tcp_msg_fn)(void *user, const uint8_t *msg, size_t len,
                               const struct ft_meta *meta);

struct dns_tcp_stats {
    uint64_t messages;        /* messages delivered */
    uint64_t gaps;            /* dns_tcp_gap calls */
    uint64_t bytes_discarded; /* bytes dropped: partial message at a gap/eof + after a gap */
    uint64_t partial_at_eof;  /* eof arrived inside a message */
    uint64_t alloc_failures;  /* buffer allocation failed (stream then damaged) */
};

/* One direction of one TCP connection. */
struct dns_tcp_stream {
    dns_tcp_msg_fn on_msg;
    void *user;
    uint8_t hdr[2];
    uint8_t hdr_have;  /* 0..2 bytes of the length prefix held */
    size_t need;       /* message length, valid when hdr_have == 2 */
    size_t have;       /* bytes of the message held in buf */
    uint8_t *buf;      /* heap, at most 65535 bytes, only for split messages */
    size_t buf_cap;
    bool damaged;      /* a gap was seen: nothing more is delivered */
    struct dns_tcp_stats stats;
    struct mem_budget *budget; /* borrowed, NULL after dns_tcp_init: buf is charged
                                  to it when set; a refusal counts as alloc_failures */
};

/* Initialises s (no allocation).  on_msg/user are borrowed. */
void dns_tcp_init(struct dns_tcp_stream *s, dns_tcp_msg_fn on_msg, void *user);

/* Feeds the next in-order bytes.  data is borrowed; complete messages inside
 * it are delivered without copying, only a message split across calls is
 * buffered (allocated on demand, capped at 65535 bytes + the 2-byte prefix). */
void dns_tcp_data(struct dns_tcp_stream *s, const uint8_t *data, size_t len,
                  const struct ft_meta *meta);

/* nbytes were lost.  DNS framing cannot be recovered, so the direction is
 * marked damaged and everything after is discarded (and counted). */
void dns_tcp_gap(struct dns_tcp_stream *s, uint64_t nbytes, const struct ft_meta *meta);

/* End of this direction: a partial message is discarded and counted; the
 * buffer is freed.  The stream may be re-initialised afterwards. */
void dns_tcp_eof(struct dns_tcp_stream *s, const struct ft_meta *meta);

/* Frees the buffer (if any).  Safe to call more than once. */
void dns_tcp_release(struct dns_tcp_stream *s);

/* ------------------------------------------------------------------ */
/* Transactions                                                        */

enum dns_transport {
    DNS_UDP = 0,
    DNS_TCP = 1,
};

enum dns_outcome {
    DNS_OUT_ANSWERED = 0,  /* NOERROR with a record of the asked type */
    DNS_OUT_NXDOMAIN,
    DNS_OUT_NODATA,        /* NOERROR, no record of the type after the CNAME chain */
    DNS_OUT_SERVFAIL,
    DNS_OUT_REFUSED,
    DNS_OUT_OTHER_RCODE,
    DNS_OUT_UNANSWERED,    /* no response within the timeout / before the end */
    DNS_OUT_TRUNCATED,     /* UDP TC=1 and no TCP retry followed */
    DNS_OUT_TRUNCATED_THEN_TCP, /* UDP TC=1, a TCP lookup (retry_of = this id) followed */
    DNS_OUT__COUNT
};

/* Stable short name ("nxdomain", "truncated-then-tcp", ...); never NULL. */
const char *dns_outcome_name(enum dns_outcome o);

struct dns_endpoint {
    struct ft_addr addr;
    uint16_t port;
};

#define DNS_LOOKUP_MAX_TX 8       /* query transmissions whose meta is kept */
#define DNS_LOOKUP_MAX_ANS 32     /* answer records copied into a lookup */
#define DNS_LOOKUP_MAX_CNAME 8    /* CNAME chain links followed */
#define DNS_LOOKUP_POOL 16384

/* One answer carried by a lookup (answer section, plus additional A/AAAA). */
struct dns_answer {
    const char *name;   /* owner; points into the lookup pool */
    uint16_t type;
    uint32_t ttl;
    uint8_t section;    /* enum dns_section */
    struct ft_addr addr;             /* A / AAAA */
    uint16_t priority, weight, port; /* SRV */
    const char *target; /* SRV / CNAME / NS / PTR target, else NULL */
};

/*
 * A completed lookup, handed to the callback.  Borrowed: valid only until
 * the callback returns (strings point into the tracker's scratch pool).
 */
struct dns_lookup {
    uint64_t id;          /* 1, 2, ... in creation order */
    uint64_t retry_of;    /* TCP retry: id of the truncated UDP lookup; else 0 */
    struct dns_endpoint client, server;
    uint8_t transport;    /* enum dns_transport */
    uint16_t txid;
    const char *qname;
    uint16_t qtype;
    uint8_t outcome;      /* enum dns_outcome */
    uint16_t rcode;       /* full rcode of the response (0 if none) */
    bool has_response;
    bool tc, aa;          /* response flags */
    bool malformed;       /* response had a parse error after the question */

    unsigned nqueries;    /* transmissions of the query seen (0: response only) */
    unsigned retransmits; /* nqueries - 1 when > 0 */
    struct ft_meta query[DNS_LOOKUP_MAX_TX]; /* first min(nqueries, MAX_TX) */
    struct ft_meta response;                 /* valid when has_response */

    unsigned ncname;      /* CNAME chain from qname: cname[0] is qname's target */
    const char *cname[DNS_LOOKUP_MAX_CNAME];
    unsigned nans;
    struct dns_answer ans[DNS_LOOKUP_MAX_ANS];
    unsigned ans_dropped; /* answers not copied (cap) */

    char pool[DNS_LOOKUP_POOL];
    size_t pool_used;
};

typedef void (*dns_lookup_fn)(void *user, const struct dns_lookup *lk);

struct dns_tracker_config {
    int64_t timeout_ns;  /* default 5 s */
    size_t max_pending;  /* default 1024 */
    uint32_t hash_seed;  /* any value; vary it to resist hash flooding */
};

struct dns_tracker_stats {
    uint64_t queries;        /* query messages fed */
    uint64_t responses;      /* response messages fed */
    uint64_t retransmits;    /* queries matching a pending key */
    uint64_t matched;        /* responses matched to a query */
    uint64_t unmatched;      /* responses without a pending query (still reported) */
    uint64_t unanswered;     /* lookups that timed out / were flushed */
    uint64_t tc_linked;      /* TC=1 UDP answers followed by a TCP retry */
    uint64_t evicted;        /* pending transactions dropped at max_pending */
    uint64_t ignored;        /* no question, or opcode != QUERY */
    uint64_t lookups;        /* callbacks made */
};

struct dns_tracker; /* opaque */

/* Fills cfg with the defaults. */
void dns_tracker_config_default(struct dns_tracker_config *cfg);

/* Creates a tracker (cfg NULL = defaults; copied).  cb/user are borrowed
 * and called for every completed lookup.  Returns NULL on allocation
 * failure.  Free with dns_tracker_free. */
struct dns_tracker *dns_tracker_new(const struct dns_tracker_config *cfg, dns_lookup_fn cb,
                                    void *user);

/* Frees everything (pending lookups are dropped, not reported: call
 * dns_tracker_flush first).  NULL is a no-op. */
void dns_tracker_free(struct dns_tracker *t);

/*
 * Feeds one parsed message.  client is the querying side and server the
 * resolver, for queries and responses alike; msg->qr tells which this is.
 * meta may be NULL to use msg->meta (the packet given to dns_parse).
 * First advances the clock to meta->ts_ns (expiring old lookups), then
 * matches by (client, server, id, qname, qtype).  Responses also teach the
 * address book.  All arguments are borrowed for the call.
 */
void dns_tracker_feed(struct dns_tracker *t, const struct dns_endpoint *client,
                      const struct dns_endpoint *server, enum dns_transport transport,
                      const struct dns_msg *msg, const struct ft_meta *meta);

/* Packet time moved to now_ns: lookups whose deadline (last query + timeout,
 * or TC answer + timeout) is before now_ns are reported. */
void dns_tracker_advance(struct dns_tracker *t, int64_t now_ns);

/* End of input: reports every pending lookup (unanswered / truncated). */
void dns_tracker_flush(struct dns_tracker *t);

/* Counters (borrowed, owned by the tracker). */
const struct dns_tracker_stats *dns_tracker_stats(const struct dns_tracker *t);

/* ------------------------------------------------------------------ */
/* Classification helpers                                              */

enum dns_addr_class {
    DNS_ADDR_GLOBAL = 0,
    DNS_ADDR_UNSPECIFIED,   /* 0.0.0.0/8, :: */
    DNS_ADDR_LOOPBACK,      /* 127/8, ::1 */
    DNS_ADDR_PRIVATE,       /* 10/8, 172.16/12, 192.168/16 (RFC 1918) */
    DNS_ADDR_LINK_LOCAL,    /* 169.254/16, fe80::/10 */
    DNS_ADDR_CGNAT,         /* 100.64/10 (RFC 6598) */
    DNS_ADDR_ULA,           /* fc00::/7 (RFC 4193) */
    DNS_ADDR_DOCUMENTATION, /* 192.0.2/24, 198.51.100/24, 203.0.113/24, 2001:db8::/32 */
    DNS_ADDR_MULTICAST,     /* 224/4, ff00::/8 */
    DNS_ADDR_INVALID,       /* family not 4 or 6 */
};

/* Classifies an address; an IPv4-mapped IPv6 address (::ffff:a.b.c.d) is
 * classified as its IPv4 address. */
enum dns_addr_class dns_addr_classify(const struct ft_addr *a);

/* "global", "private", ...; never NULL. */
const char *dns_addr_class_name(enum dns_addr_class c);

/* True for addresses a remote server on the Internet cannot reach. */
bool dns_addr_is_unroutable(const struct ft_addr *a);

/* True when an SRV target is "." : service decidedly not available (RFC 2782). */
bool dns_srv_target_unavailable(const char *target);

enum dns_xmpp_srv {
    DNS_XMPP_SRV_NONE = 0,
    DNS_XMPP_SRV_SERVER,  /* _xmpp-server._tcp. */
    DNS_XMPP_SRV_CLIENT,  /* _xmpp-client._tcp. */
    DNS_XMPP_SRVS_SERVER, /* _xmpps-server._tcp. (XEP-0368) */
    DNS_XMPP_SRVS_CLIENT, /* _xmpps-client._tcp. */
};

/* Recognises an XMPP SRV owner name (presentation form, case-insensitive,
 * optional trailing dot).  On a match copies the domain (without trailing
 * dot) into domain[dlen] when domain is non-NULL and it fits, and returns
 * the kind; returns DNS_XMPP_SRV_NONE otherwise (domain untouched). */
enum dns_xmpp_srv dns_xmpp_srv_name(const char *qname, char *domain, size_t dlen);

#endif
