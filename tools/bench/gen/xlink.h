/*
 * xlink.h - gen-busy's XMPP building blocks, shared by the scenario
 * scripts: one XMPP link on the wire (xlink.c: open up to dialback with
 * DNS, TCP, stream headers and STARTTLS/TLS 1.3; send stanzas as text or
 * as TLS records; close), the lookups a server makes (lookup.c) and a
 * user's client session (c2s.c).  Text goes through the world's scratch
 * buffers (sb, sb2), which callers own between calls.
 */
#ifndef GEN_XLINK_H
#define GEN_XLINK_H

#include "world.h"

#define NS_STREAMS "urn:ietf:params:xml:ns:xmpp-streams"
#define NS_STANZAS "urn:ietf:params:xml:ns:xmpp-stanzas"
#define NS_TLS "urn:ietf:params:xml:ns:xmpp-tls"

static inline struct domain *D(struct gen *g, uint32_t i)
{
    return &g->w->dom[i];
}

/* where XMPP wire bytes are counted */
static inline uint64_t *XB(struct gen *g)
{
    return &g->st.gen_xmpp;
}

/* ---- xlink.c: small draws --------------------------------------------- */
uint32_t pick_rtt(struct gen *g);
uint64_t think(struct gen *g);
void gen_id(struct gen *g, char *out, size_t cap, uint8_t kind); /* stream id as the server kind writes it */
void gen_key(struct gen *g, char *out);                          /* 64 hex digits + NUL */
void stanza_id(struct gen *g, char *out);                        /* 12 characters + NUL */
void open_count(struct gen *g, int d);

/* ---- xlink.c: sending ------------------------------------------------- */
uint64_t xsend_m(struct gen *g, struct xconn *x, struct dtruth *dt, int dir, uint64_t t, const char *s, size_t n,
                 uint32_t *mark, uint32_t bits);
uint64_t xsend(struct gen *g, struct xconn *x, struct dtruth *dt, int dir, uint64_t t, const struct sbuf *b);
uint64_t xsend_sm(struct gen *g, struct xconn *x, struct dtruth *dt, int dir, uint64_t t, const struct sbuf *b,
                  uint32_t *mark, uint32_t bits);
void xclose_state(struct gen *g, struct xconn *x);

/* ---- xlink.c: XML text ------------------------------------------------ */
enum feat { FEAT_DIALBACK, FEAT_STARTTLS, FEAT_NONE };
void hdr_init(struct sbuf *b, uint8_t kind, const char *from, const char *to);
void hdr_resp(struct sbuf *b, uint8_t kind, const char *from, const char *to, const char *id, enum feat feat);
void db_elem(struct sbuf *b, const char *el, const char *from, const char *to, const char *id, const char *type,
             const char *key);
void body_text(struct gen *g, struct sbuf *b, size_t target);
size_t body_size(struct gen *g);
void jid(char *out, size_t cap, const char *user, const struct domain *d);

/* ---- lookup.c ----------------------------------------------------------- */
enum dnsout { DNS_ANS, DNS_NX, DNS_SERVFAIL, DNS_NOANSWER, DNS_TC_TCP, DNS_TC_NOTCP };
/* The lookups a server makes before connecting to domain `to`; returns
 * when the address is known.  The failing frame carries the mark. */
uint64_t resolve(struct gen *g, struct host *client, uint8_t client_kind, uint32_t to, struct host *dst, uint64_t t,
                 enum dnsout o, bool cacheable, uint32_t *mark, uint32_t bits);

/* ---- c2s.c -------------------------------------------------------------- */
void c2s_login(struct gen *g, struct xconn *x, uint32_t di, const char *user, const char *res, uint64_t t);
void c2s_close(struct gen *g, struct xconn *x, uint64_t t);

/* ---- xlink.c: one s2s link ------------------------------------------------ */
enum tlsmode { TLSM_NONE, TLSM_OK, TLSM_REJECT, TLSM_ALERT };

struct leg {
    enum dnsout dns;
    enum syn_result syn;
    enum tlsmode tls;
    bool host_unknown;
    bool cacheable;       /* the lookup may come from the server's cache */
    struct host *dst;     /* connect here instead of the domain's server */
    struct dtruth *dt;    /* the direction this link carries */
    uint32_t *fail_mark;  /* where the failing frame reports */
};

/* Opens link x from domain `from` to `to` up to the point where dialback
 * can start.  Returns the time, or 0 when the link failed on the way. */
uint64_t leg_open(struct gen *g, struct xconn *x, uint32_t from, uint32_t to, uint64_t t, const struct leg *L,
                  char *sid, size_t sidcap);
void leg_close(struct gen *g, struct xconn *x, struct dtruth *dt, uint64_t t);

#endif
