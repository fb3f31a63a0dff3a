/*
 * world.h - what gen-busy simulates: domains with Zipf-like popularity on
 * server hosts, federations (a domain pair and the scenario it plays out
 * every time it is used), their XMPP connections, and the per-direction
 * truth records the truth file is written from.
 *
 * Ownership: struct world owns every domain, host, federation and truth
 * record (world_free).  A truth record never moves once allocated: frames
 * in the queue point at its marks.
 */
#ifndef GEN_WORLD_H
#define GEN_WORLD_H

#include "gen.h"

/* ---- a growable text buffer (stanzas are built here) ----------------- */
struct sbuf {
    char *p;
    size_t len, cap;
};
void sb_reset(struct sbuf *b);
void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_append(struct sbuf *b, const char *s, size_t n);
void sb_free(struct sbuf *b);

/* ---- domains and servers ------------------------------------------------ */
enum server_kind { SRV_PROSODY, SRV_EJABBERD };

/* What is wrong with a domain, if anything: every federation that
 * touches it meets the same fault, so the capture stays consistent (one
 * name never both resolves and fails, one server never both accepts and
 * refuses).  The busiest domains are always healthy. */
enum domain_fault {
    DF_NONE,
    DF_DNS_NX,          /* no SRV and no address records */
    DF_DNS_SERVFAIL,    /* broken delegation */
    DF_DNS_TIMEOUT,     /* its name servers never answer */
    DF_DNS_TC_NOTCP,    /* answers too big for UDP; the retry over TCP never comes */
    DF_DNS_BIG,         /* answers too big for UDP; retried over TCP/53 and fine */
    DF_REFUSES,         /* nothing listens on 5269: RST */
    DF_INBOUND_BLOCKED, /* its firewall drops inbound 5269 */
    DF_OTHER_PROVIDER,  /* its DNS points at another provider's server */
    DF_BAD_CERT,        /* its certificate is refused by the servers it connects to */
    DF_EXPIRED_CERT     /* servers connecting to it refuse its certificate */
};

struct domain {
    char name[64];
    char srv_target[80]; /* SRV target, or "" when the domain publishes no SRV */
    struct host *server;
    bool local;          /* its users' c2s traffic crosses the SPAN */
    uint8_t kind;        /* enum server_kind */
    bool tls;            /* offers and uses STARTTLS on s2s */
    uint8_t fault;       /* enum domain_fault */
};

/* ---- truth --------------------------------------------------------------- */
/* Marks set by written frames. */
#define M_AUTH 0x01   /* the decisive success (dialback valid) was captured */
#define M_SUB 0x02    /* the subscribe's approval was captured */
#define M_FAIL 0x04   /* the decisive failure frame was captured */
#define M_ALIVE 0x08  /* stanzas (or TLS records > 5 s in) were captured */
#define M_SUBSENT 0x10 /* the subscribe itself was captured */
#define M_SUB_CLEAR 0x20 /* the approval reached the user on a cleartext c2s leg that was captured */

/* OUT_NONE: the direction only carried another direction's verification */
enum outcome { OUT_OK, OUT_FAILED, OUT_NONE };

struct dtruth {
    uint32_t from, to;      /* domain indexes */
    uint8_t outcome;        /* enum outcome */
    const char *fail_stage; /* for failures: lookup, connect, stream, tls, dialback, subscribe */
    const char *code;       /* fedtrace catalogue code */
    const char *scenario;
    bool encrypted;         /* the direction's stream ran inside TLS */
    bool midstream;         /* its connection began before the capture */
    bool pending;           /* ok, but its subscribe is still unanswered */
    uint32_t marks;         /* M_* */
    uint32_t need;          /* marks that make a failure visible */
    uint64_t need_until;    /* and the capture must run at least this long */
    uint64_t first_us;
    uint32_t attempts;
};

/* ---- XMPP connections ---------------------------------------------------- */
struct xconn {
    struct tcpc tcp;
    bool live;      /* established and not closed */
    bool tls;       /* bytes go as TLS application records */
    bool c2s;
};

enum scenario {
    SC_OK_DB,          /* Prosody <-> Prosody, cleartext dialback, both ways */
    SC_OK_TLS,         /* STARTTLS + TLS 1.3 both ways; dialback inside */
    SC_OK_EJ,          /* ejabberd receiver: verify-only connect-back, then its own link */
    SC_OK_TC,          /* answer truncated over UDP, full over TCP/53, then as SC_OK_DB */
    SC_SUB_PENDING,    /* links fine, subscribe never answered */
    SC_SUB_DENIED,     /* links fine, subscribe answered unsubscribed */
    SC_DNS_NX,         /* SRV and A/AAAA NXDOMAIN */
    SC_DNS_SERVFAIL,
    SC_DNS_TIMEOUT,    /* resolver never answers */
    SC_DNS_TC_NOTCP,   /* truncated answer, no TCP retry */
    SC_TCP_RST,        /* refused */
    SC_TCP_DROP,       /* SYNs unanswered (receiver's firewall) */
    SC_FW_INBOUND,     /* the initiator's inbound blocked: connect-back dropped */
    SC_DB_WRONG_AUTH,  /* DNS for the initiator points at another provider */
    SC_HOST_UNKNOWN,
    SC_TLS_REJECT,     /* handshake done, then closed at once */
    SC_TLS_ALERT,      /* client refuses the certificate: plaintext alert */
    SC_BACK_REFUSED,   /* the initiator refuses inbound 5269: connect-back RST */
    SC_BACK_UNRESOLVED, /* the initiator's own DNS fails the receiver's lookup */
    SC_MID_CLEAR,      /* open before the capture, cleartext */
    SC_MID_TLS,        /* open before the capture, encrypted */
    SC_COUNT
};

struct fed {
    uint32_t a, b;         /* domain indexes; a initiates */
    uint8_t scen;          /* enum scenario */
    bool active;
    struct dtruth *d[2];   /* a->b, b->a (NULL when that direction never exists) */
    struct xconn c1, c2, c3; /* a->b, b->a, verify-only */
    struct xconn ca, cb;   /* c2s of a's and b's user */
    char ua[48], ub[48];   /* local parts */
    char res_a[16], res_b[16];
    uint64_t end_us;       /* the chatty phase ends */
    bool chatting;
    uint32_t sessions;
    bool subscribed;       /* the subscribe of the first session is done */
};

struct world {
    struct domain *dom;
    uint32_t ndom;
    double *cdf;           /* Zipf popularity, cumulative */
    struct host *hosts;    /* servers, then the third-party "old provider" hosts */
    uint32_t nhosts;
    struct host *clients;  /* user devices and web clients */
    uint32_t nclients;
    struct host *web;      /* web and UDP servers */
    uint32_t nweb;
    struct host resolver[3];
    struct fed **feds;
    uint32_t nfeds, capfeds;
    uint64_t *pair_keys;   /* open addressing: (min<<32|max)+1, 0 = empty */
    uint32_t *pair_vals;
    uint32_t pair_cap;
    struct dtruth **truth;
    uint32_t ntruth, captruth;
    struct sbuf sb, sb2;   /* scratch text */
    uint8_t *wbuf;         /* scratch wire bytes */
    size_t wcap;
    /* pacing */
    double chat_bytes, chat_secs; /* measured while chatting */
    uint32_t chatting;            /* federations in their chatty phase */
};

struct world *world_new(struct gen *g, uint32_t ndomains);
void world_free(struct world *w);
uint32_t world_pick_domain(struct gen *g);
struct host *world_client(struct gen *g);
/* Finds or creates the federation of the pair; NULL when none can be made. */
struct fed *world_fed_for(struct gen *g, uint32_t a, uint32_t b, int scen);
struct dtruth *world_truth(struct gen *g, uint32_t from, uint32_t to, struct fed *f);
uint8_t *world_wbuf(struct gen *g, size_t need);
const char *scenario_name(int scen);

/* scenario.c */
/* The scenario a federation initiated by a towards b plays, from the
 * domains' faults and features; SC_COUNT when the pair must not be used
 * (a mid-stream link needs two healthy domains). */
int scenario_for(struct gen *g, uint32_t a, uint32_t b, bool midstream);
void fed_start(struct gen *g, struct fed *f, uint64_t t);
void fed_start_midstream(struct gen *g, struct fed *f, uint64_t t);

/* background.c */
void bg_start(struct gen *g, uint64_t t);
void dns_noise(struct gen *g, uint64_t t);

#endif
