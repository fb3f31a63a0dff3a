/*
 * corr_store.h - the correlator's fact store: compact records of the
 * connections (TCP facts, notable XMPP events) and DNS lookups that can
 * matter to a verdict.  Owned by the correlator: every string in a record
 * is owned by that record and freed with it (conn_free, store_free).
 */
#ifndef FT_CORR_STORE_H
#define FT_CORR_STORE_H

#include "correlate.h"
#include "corr_util.h"

struct correlator;

enum cev_type {
    CEV_OPEN,
    CEV_FEATURES,
    CEV_STARTTLS,
    CEV_PROCEED,
    CEV_TLS_FAILURE,
    CEV_SASL_AUTH,
    CEV_SASL_SUCCESS,
    CEV_SASL_FAILURE,
    CEV_DB_RESULT,
    CEV_DB_VERIFY,
    CEV_STREAM_ERROR,
    CEV_CLOSE,
    CEV_STANZA,
    CEV_TLS_HELLO,     /* ClientHello: text = SNI */
    CEV_TLS_SERVER,    /* ServerHello: id = version */
    CEV_TLS_ALERT,     /* cond = description */
    CEV_TLS_DONE,      /* handshake completed or continues encrypted */
    CEV_TLS_CERT,      /* text = subject CN */
    CEV_XML_ERROR,     /* cond = error name */
    CEV_GAP,
    CEV_CLEARTEXT_AFTER_STARTTLS,
};

enum {
    F_STARTTLS = 1,
    F_REQUIRED = 2,
    F_DIALBACK = 4,
    F_EXTERNAL = 8,
    F_DB_NS = 16,
    F_JSERVER = 32,
    F_JCLIENT = 64,
};

/* One encrypted TLS record: what an observer without keys sees of the
 * XMPP it carries (its size and when it went).  Kept for the first
 * CORR_MAX_RECORDS records of a connection; the rest are counted. */
#define CORR_MAX_RECORDS 64
struct crec {
    struct frame_ref ref;
    uint16_t len;      /* fragment length (plaintext + AEAD overhead) */
    uint8_t dir, type; /* sender; outer content type (23 application data) */
};

struct cev {
    uint8_t type, dir, sub, flags;
    bool decrypted;          /* read from inside TLS with a key log */
    struct frame_ref ref;
    /* Each may be NULL.  The non-NULL ones share one allocation in this
     * order, owned through the first non-NULL of them (cev_free_strings). */
    char *from, *to, *id, *cond, *text;
    char *line;              /* its timeline line once written (corr_timeline.c); owned */
};

struct cconn {
    uint64_t flow_id;
    bool have_tcp;
    struct ft_addr addr[2];
    uint16_t port[2];
    uint32_t source;
    enum app_proto app;
    int64_t first_ns, last_ns;
    struct frame_ref syn, synack, rst, fin[2], first_data[2];
    uint8_t rst_dir;
    uint16_t syn_count;
    uint32_t isn[2];         /* of the first SYN / SYN-ACK (valid when syn / synack is) */
    bool midstream, established;
    uint64_t pkts[2], bytes[2], gaps[2], badcsum[2];
    char state[8];
    char history[24];
    int64_t last_syn_ns;     /* the newest SYN (re)transmission kept, 0 = none */
    int64_t syn_gap_ns;      /* between the last two SYNs, 0 = one SYN */
    struct frame_ref *syn_retry; /* owned, full_timeline only: the SYN retransmissions
                              * whose frames are known, in order */
    uint8_t n_syn_retry;
    bool ended;              /* the CONN_END record arrived */
    int64_t active_ns;       /* newest record or event time (retirement) */
    uint64_t create_seq;     /* order of creation */
    uint64_t changed_seq;    /* fact count at its last change (streaming) */
    uint64_t name_hash;      /* of dom_from/dom_to at the last round */
    uint64_t batch_seq;      /* order of its first XMPP event or end; 0 = neither yet
                              * (identity meets connections in this order) */
    uint64_t stanzas[2];
    bool has_joins;          /* an event the registry joins on (db:verify, presence) */
    bool decrypted;          /* XMPP events were read from inside TLS with a key log */
    bool decrypt_stopped;    /* decryption stopped (wrong or missing key...): what
                                follows is judged as encrypted */
    char *stz_dom[2][2];     /* owned: domains of the first stanza's from and to, per
                              * sender (names a connection picked up mid-stream) */
    struct cev *ev;
    unsigned nev, cap;
    struct crec *rec;        /* owned; encrypted records in arrival order */
    uint16_t nrec, caprec;
    uint16_t tls_version;    /* negotiated, from the ServerHello; 0 unknown */
    uint16_t tls_cipher;
    uint16_t tls_group;      /* key-exchange group (1.3 key_share, 1.2 ECDHE curve) */
    bool tls_have_group;     /* tls_group was seen */
    /* derived in corr_finish */
    bool s2s, c2s;
    struct cconn *nat_peer;  /* the same connection seen elsewhere */
    bool secondary;          /* the less informative view of a NAT pair */
    bool clock_sampled;      /* gave its SYN time to a clock offset estimate */
    int64_t clock_ns;        /* its capture point's clock offset (subtract for the reference clock) */
    const char *dom_from, *dom_to; /* interned (identity_intern), NULL = unknown */
    /* What its own events name it (identity_name_domains' first pass):
     * read when it had own_nev events and the stanza domains own_stz
     * (bits: stz_dom[d][0] set), with the names table of own_epoch. */
    const char *own_from, *own_to;
    unsigned own_nev;
    uint8_t own_stz;
    bool own_valid;
    bool users_noted;        /* its domain is in users_ix (corr_identity.c, roles) */
    uint64_t own_epoch;
};

struct clookup {
    uint64_t id;
    uint64_t added_seq;      /* fact count when it arrived (streaming) */
    struct ft_addr client, server;
    bool tcp;
    uint16_t txid;           /* the query id (a NAT may rewrite it) */
    char *qname;
    uint16_t qtype;
    uint8_t outcome;
    uint16_t rcode;
    bool has_response;
    bool claimed;            /* it can speak for XMPP (corr_dns_noise.c) */
    char *line[2];           /* its query/answer timeline lines once written; owned */
    bool noise;              /* it cannot: freed at the end of the round */
    bool srv_read;           /* srv_dom was decided (corr_identity.c) */
    const char *srv_dom;     /* an address lookup of an SRV target: the domain whose
                              * SRV named it last before it (owned by c->srv_names) */
    unsigned nqueries;
    struct frame_ref query, response;
    unsigned nans;
    struct {
        uint16_t type;
        struct ft_addr addr;
        uint16_t port;
        char *name, *target;
    } ans[];                 /* nans of them (at most DNS_LOOKUP_MAX_ANS) */
};

/* The connection record of a flow, created on first use; NULL when the
 * cap is reached (counted) or memory ran out. */
struct cconn *store_conn_get(struct correlator *c, uint64_t flow_id);
/* The connection record of a flow, or NULL (never creates one). */
struct cconn *store_conn_find(const struct correlator *c, uint64_t flow_id);
/* Copies the TCP facts of a connection record of any phase: the first
 * creates the entry, later ones update it, CONN_END marks it ended. */
void store_conn_record(struct correlator *c, const struct conn_record *r);
/* Frees a lookup and what it owns. */
void store_lookup_free(struct clookup *l);
void store_xmpp_event(struct correlator *c, const struct flow_info *fi, const struct xmpp_event *ev);
void store_dns_lookup(struct correlator *c, const struct dns_lookup *lk);
void conn_free(struct cconn *k);
/* Puts the connections in the order identity meets them (batch_seq, then
 * creation) and rebuilds the flow id map. */
void store_order_conns(struct correlator *c);
/* Rebuilds the flow id map after the connection array changed. */
void store_map_rebuild(struct correlator *c);
void store_free(struct correlator *c);

/* Queries over one connection. */
const struct cev *conn_first_ev(const struct cconn *k, enum cev_type t, int dir);
/* On the reference capture point's clock (corr_nat.h). */
int64_t conn_start(const struct cconn *k);
/* When this connection last learned its fate; 0 if never. */
/* On the reference clock. */
int64_t conn_decided_ns(const struct cconn *k);
/* How much a view of a connection shows: picks the primary of a NAT pair. */
int conn_richness(const struct cconn *k);

#endif
