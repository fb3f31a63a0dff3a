/*
 * xmpp.c - XMPP stream dissector on libexpat (see xmpp.h for the contract).
 *
 * Each direction of a connection has one namespace-aware expat parser
 * (separator ' ', prefixes returned as triplets) fed with the in-order
 * bytes, sliced to at most FEED_SLICE bytes per XML_Parse call.  Levels:
 *
 *   level 0  <stream:stream ...>              root: XMPP_EV_STREAM_OPEN
 *   level 1    <features/> <db:result/> <message/> ...   "top-level elements":
 *              accumulated while open, one event at their end tag
 *   level 2+     children: conditions, <text>, mechanisms, <error> ...
 *
 * A handler cannot reset the parser, so every switch is done by halting:
 * the handler records the parser byte position just after the current
 * token (XML_GetCurrentByteIndex + XML_GetCurrentByteCount), calls
 * XML_StopParser, and the feeding loop, seeing XML_STATUS_ERROR with its
 * own halt reason set, takes the bytes of the current slice after that
 * position.  The token that triggers a halt always ends inside the slice
 * being parsed, so that position is always inside it; the parser's byte
 * index counts from its last reset, and d->fed counts what we gave it
 * since then, so (position - fed-before-slice) is an offset in the slice.
 *
 *   - a new <stream:stream> at level 1 (restart after SASL <success/>, or
 *     after STARTTLS on a cleartext test): the event is reported from the
 *     handler, the parser halts after the header, is reset, and is fed a
 *     synthetic copy of the new header's start tag (its qualified name and
 *     namespace declarations, with events suppressed) so that the rest of
 *     the bytes parse at level 1 as they would have in a fresh stream;
 *   - end of <proceed/> (responder) / <starttls/> (originator): halt and
 *     "sniff" the next non-blank byte: '<' means the XML stream carries on
 *     (resynchronised the same way, with the current header), anything
 *     else is the TLS handshake and goes to the tls.c reader;
 *   - errors and caps halt for good; bytes after </stream:stream> are ignored.
 */
#include "xmpp.h"

/* expat.h declares the billion-laughs limits (expat >= 2.4) only under
 * XML_DTD, which every distribution build of expat defines. */
#ifndef XML_DTD
#define XML_DTD 1
#endif
#include <expat.h>

/* expat 2.6 (and distribution backports of it, such as Debian's 2.5.0)
 * defers re-parsing an incomplete token until enough new input has
 * arrived.  A live stream needs each event as soon as its last byte is in,
 * with the meta of that segment, so deferral is switched off when the
 * library has the call.  Weak reference: older libraries lack the symbol.
 * The quadratic re-parse cost deferral protects against is bounded here
 * by cfg.max_token instead. */
#if defined(__GNUC__) || defined(__clang__)
XMLPARSEAPI(XML_Bool) XML_SetReparseDeferralEnabled(XML_Parser parser, XML_Bool enabled)
    __attribute__((weak));
#define FT_HAVE_REPARSE_SWITCH 1
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../analyzer/budget.h"
#include "../analyzer/cursor.h"
#include "../analyzer/utf8.h"

#define NS_SEP ' '
#define FEED_SLICE 65536     /* bytes per XML_Parse call */
#define MAX_DECLS 8          /* namespace declarations kept from a stream header */
#define PREFIX_MAX 63
#define SHRINK_ABOVE (64 * 1024) /* direction state that is freed after an element */

#define NS_STREAMS "http://etherx.jabber.org/streams"
#define NS_SERVER "jabber:server"
#define NS_CLIENT "jabber:client"
#define NS_COMPONENT "jabber:component:accept"
#define NS_DIALBACK "jabber:server:dialback"
#define NS_TLS "urn:ietf:params:xml:ns:xmpp-tls"
#define NS_SASL "urn:ietf:params:xml:ns:xmpp-sasl"
#define NS_STREAM_ERR "urn:ietf:params:xml:ns:xmpp-streams"
#define NS_STANZA_ERR "urn:ietf:params:xml:ns:xmpp-stanzas"
#define NS_FEAT_DIALBACK "urn:xmpp:features:dialback"
#define NS_FEAT_BIDI "urn:xmpp:features:bidi"
#define NS_SM2 "urn:xmpp:sm:2"
#define NS_SM3 "urn:xmpp:sm:3"
#define NS_XML "http://www.w3.org/XML/1998/namespace"

enum dmode {
    DM_START, /* nothing seen: XML or (wrongly) TLS? */
    DM_XML,
    DM_SNIFF, /* after <starttls/>/<proceed/>: TLS or more XML? */
    DM_TLS,   /* inside TLS without plaintext: nothing to parse */
    DM_DECL,  /* skipping an XML declaration that opens a restarted stream */
    DM_DONE,  /* closed, error, gap or eof: ignore bytes */
};

#define DECL_MAX 256 /* bytes of a mid-stream XML declaration skipped at most */

enum halt_kind {
    HALT_NONE = 0,
    HALT_RESTART,
    HALT_SHRINK,  /* a large element ended: start a fresh, small parser */
    HALT_SNIFF,
    HALT_MIDSTREAM, /* the first element is a stanza: the capture began mid-stream */
    HALT_DONE,
};

/* Kind of the open top-level element. */
enum top_kind {
    TK_NONE = 0,
    TK_FEATURES,
    TK_STREAM_ERROR,
    TK_STARTTLS,
    TK_PROCEED,
    TK_TLS_FAILURE,
    TK_AUTH,
    TK_SUCCESS,
    TK_SASL_FAILURE,
    TK_DB_RESULT,
    TK_DB_VERIFY,
    TK_STANZA,
    TK_OTHER,
};

/* Kind of the open level-2 element inside a top-level element. */
enum child_kind {
    CK_NONE = 0,
    CK_STARTTLS,
    CK_MECHANISMS,
    CK_DIALBACK,
    CK_ERROR,
    CK_OTHER,
};

/* Bounded string.  Storage comes from the connection's budget on first
 * use and grows with what it holds, up to cap + 1 bytes; it is released
 * when the direction stops parsing. */
struct sbuf {
    char *s;     /* NULL until something is stored */
    size_t size; /* bytes allocated at s */
    size_t cap;  /* bytes of text that fit */
    size_t len;
    bool set;
};

/* A namespace declaration; prefix and uri share one block from the
 * connection's budget, owned by the array that holds it (prefix is the
 * block). */
struct nsdecl {
    bool has_prefix;
    char *prefix;
    char *uri;
};

/* A split expat name "uri local prefix" (pieces are not NUL-terminated). */
struct qname {
    const char *ns, *local, *prefix;
    size_t ns_len, local_len, prefix_len;
};

enum {
    S_FROM, S_TO, S_ID, S_TYPE, S_VERSION, S_LANG, S_STREAM_NS, S_CONTENT_NS,
    S_MECHANISM, S_CONDITION, S_ERROR_TYPE, S_ERROR_BY, S_CHILD_NS, S_CHILD_NAME,
    S_OTHER_NS, S_OTHER_NAME, S_COND_TEXT, S_MECH_ONE,
    S_ATTR_COUNT,
};
enum { T_TEXT, T_MECHS, T_BODY, T_COUNT };

struct xmpp_conn;

struct xdir {
    struct xmpp_conn *conn;
    int dir;
    struct mem_budget mem;  /* this direction's parser and strings; parent conn->mem */
    XML_Parser parser;
    enum dmode mode;

    enum halt_kind halt;   /* set by a handler that stopped the parser */
    uint64_t halt_pos;     /* parser position where the unparsed bytes start */
    bool synthetic;        /* feeding a synthetic header: handlers stay quiet */

    uint64_t fed;          /* bytes given to this parser since its last reset */
    uint64_t synth_len;    /* synthetic bytes at the start of this parser run */
    uint64_t real_base;    /* real direction offset of the first real byte of this run */
    uint64_t real;         /* real bytes consumed in this direction */
    uint64_t boundary;     /* parser position of the last top-level boundary */
    uint64_t last_event;   /* parser position after the last reported token */
    unsigned depth;        /* open elements */

    unsigned n_opens;      /* stream headers seen */
    unsigned decl_len;     /* DM_DECL: bytes of the declaration skipped so far */
    bool midstream;        /* picked up mid-stream: parsing inside an assumed header */
    uint8_t *replay;       /* HALT_MIDSTREAM: the bytes from the first element on */
    size_t replay_len;
    bool closed, eof, gapped, in_tls_at_eof;
    bool wire_tls;         /* the bytes of this direction are TLS records now;
                              mode then is the state of the stream inside TLS
                              (DM_TLS: not readable) */
    bool in_plain;         /* parsing decrypted bytes: events are `decrypted` */
    bool parked;           /* idle between top-level elements: parser freed,
                              resync() before the next bytes (xmpp_conn_idle) */

    /* root context, replayed by resync() */
    char root_qname[PREFIX_MAX + 1 + 16];
    struct nsdecl decls[MAX_DECLS];
    unsigned n_decls;

    /* namespace declarations preceding the next start tag at level <= 1 */
    struct nsdecl pend[MAX_DECLS];
    unsigned n_pend;

    /* the open top-level element */
    enum top_kind top;
    enum child_kind child;   /* open level-2 element */
    uint64_t top_start;
    bool truncated;
    struct sbuf *tgt;        /* text capture target */
    unsigned tgt_level;      /* level of the element whose text goes to tgt */
    size_t key_len;
    bool starttls, starttls_required, dialback, dialback_errors, bidi, sm, sasl_external;
    unsigned n_mechs, n_other_features;
    enum xmpp_stanza_kind stanza;

    struct sbuf str[S_ATTR_COUNT];
    struct sbuf txt[T_COUNT];
};

struct xmpp_conn {
    struct xmpp_config cfg;
    struct mem_budget mem;      /* everything below the struct, charged to cfg.budget */
    xmpp_event_cb cb;
    void *user;
    const struct ft_meta *meta; /* meta of the chunk being processed */
    struct tls_conn *tls;
    struct tls_decrypt *dec;    /* with cfg.decrypt and a key log; NULL otherwise */
    bool proceed_seen;
    struct xmpp_stats stats;
    struct xdir d[2];
};

/* ---- small helpers ---------------------------------------------------- */

void xmpp_config_default(struct xmpp_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->max_depth = 64;
    cfg->max_stanza = 1024 * 1024;
    cfg->max_token = 64 * 1024;
    cfg->include_body = false;
    cfg->max_body = 256;
    cfg->max_amplification = 100.0f;
    cfg->amplification_threshold = 8ull * 1024 * 1024;
    tls_config_default(&cfg->tls);
}

const char *xmpp_event_type_name(enum xmpp_event_type t)
{
    switch (t) {
    case XMPP_EV_STREAM_OPEN: return "stream_open";
    case XMPP_EV_FEATURES: return "features";
    case XMPP_EV_STARTTLS: return "starttls";
    case XMPP_EV_PROCEED: return "proceed";
    case XMPP_EV_TLS_FAILURE: return "tls_failure";
    case XMPP_EV_SASL_AUTH: return "sasl_auth";
    case XMPP_EV_SASL_SUCCESS: return "sasl_success";
    case XMPP_EV_SASL_FAILURE: return "sasl_failure";
    case XMPP_EV_DB_RESULT: return "db_result";
    case XMPP_EV_DB_VERIFY: return "db_verify";
    case XMPP_EV_STREAM_ERROR: return "stream_error";
    case XMPP_EV_STREAM_CLOSE: return "stream_close";
    case XMPP_EV_STANZA: return "stanza";
    case XMPP_EV_OTHER: return "other";
    case XMPP_EV_CLEARTEXT_AFTER_STARTTLS: return "cleartext_after_starttls";
    case XMPP_EV_TLS: return "tls";
    case XMPP_EV_DECRYPT_STOPPED: return "decrypt_stopped";
    case XMPP_EV_GAP: return "gap";
    case XMPP_EV_ERROR: return "error";
    case XMPP_EV_EOF: return "eof";
    }
    return "unknown";
}

const char *xmpp_error_name(enum xmpp_error e)
{
    switch (e) {
    case XMPP_ERR_NONE: return "none";
    case XMPP_ERR_XML: return "xml";
    case XMPP_ERR_DOCTYPE: return "doctype";
    case XMPP_ERR_DEPTH: return "depth";
    case XMPP_ERR_STANZA_SIZE: return "stanza_size";
    case XMPP_ERR_TOKEN_SIZE: return "token_size";
    case XMPP_ERR_NOT_STREAM: return "not_stream";
    case XMPP_ERR_TLS_IN_XML: return "tls_in_xml";
    case XMPP_ERR_NOMEM: return "nomem";
    }
    return "unknown";
}

const char *xmpp_presence_type_name(enum xmpp_presence_type p)
{
    switch (p) {
    case XMPP_PRES_AVAILABLE: return "available";
    case XMPP_PRES_UNAVAILABLE: return "unavailable";
    case XMPP_PRES_SUBSCRIBE: return "subscribe";
    case XMPP_PRES_SUBSCRIBED: return "subscribed";
    case XMPP_PRES_UNSUBSCRIBE: return "unsubscribe";
    case XMPP_PRES_UNSUBSCRIBED: return "unsubscribed";
    case XMPP_PRES_PROBE: return "probe";
    case XMPP_PRES_ERROR: return "error";
    case XMPP_PRES_OTHER: return "other";
    }
    return "other";
}

const char *xmpp_db_type_name(enum xmpp_db_type t)
{
    switch (t) {
    case XMPP_DB_NONE: return "none";
    case XMPP_DB_VALID: return "valid";
    case XMPP_DB_INVALID: return "invalid";
    case XMPP_DB_ERROR: return "error";
    case XMPP_DB_OTHER: return "other";
    }
    return "other";
}

static void sbuf_clear(struct sbuf *b)
{
    b->len = 0;
    b->set = false;
    if (b->s != NULL)
        b->s[0] = '\0';
}

static void sbuf_release(struct sbuf *b)
{
    budget_free(b->s);
    b->s = NULL;
    b->size = 0;
    b->len = 0;
    b->set = false;
}

/* Room for `want` bytes of text (at most cap) plus the NUL.  On a refused
 * allocation what is already there stays. */
static void sbuf_reserve(struct sbuf *b, size_t want, struct mem_budget *mb)
{
    size_t size = b->size ? b->size : 32;
    char *p;

    if (want > b->cap)
        want = b->cap;
    if (b->s != NULL && b->size > want)
        return;
    while (size <= want)
        size *= 2;
    if (size > b->cap + 1)
        size = b->cap + 1;
    p = b->s != NULL ? budget_realloc(b->s, size) : budget_malloc(mb, size);
    if (p == NULL)
        return;
    if (b->s == NULL)
        p[0] = '\0';
    b->s = p;
    b->size = size;
}

/* Append n bytes, cutting at the cap or where the budget stops the buffer
 * growing (never inside a UTF-8 character); returns false if something
 * was cut. */
static bool sbuf_append(struct sbuf *b, const char *p, size_t n, struct mem_budget *mb)
{
    size_t room = b->cap - b->len;
    bool whole = n <= room;

    if (!whole)
        n = utf8_cut(p, n, room);
    sbuf_reserve(b, b->len + n, mb);
    if (b->s == NULL)
        return false;
    if (b->len + n + 1 > b->size) {
        n = utf8_cut(p, n, b->size - 1 - b->len);
        whole = false;
    }
    memcpy(b->s + b->len, p, n);
    b->len += n;
    b->s[b->len] = '\0';
    b->set = true;
    return whole;
}

/* NULL when the field was absent; "" when it was present but empty (an
 * empty <mechanisms/> says SASL is offered with nothing usable), even
 * though nothing was allocated for it. */
static const char *sbuf_get(const struct sbuf *b)
{
    if (!b->set)
        return NULL;
    return b->s != NULL ? b->s : "";
}

static void note_trunc(struct xdir *d, bool whole)
{
    if (!whole) {
        d->truncated = true;
        d->conn->stats.truncations++;
    }
}

static void dset(struct xdir *d, int slot, const char *v)
{
    struct sbuf *b = &d->str[slot];

    sbuf_clear(b);
    if (v != NULL)
        note_trunc(d, sbuf_append(b, v, strlen(v), &d->mem));
}

static void dset_n(struct xdir *d, int slot, const char *v, size_t n)
{
    struct sbuf *b = &d->str[slot];

    sbuf_clear(b);
    note_trunc(d, sbuf_append(b, v, n, &d->mem));
}

static void split_name(const char *name, struct qname *q)
{
    const char *s1 = strchr(name, NS_SEP), *s2;

    memset(q, 0, sizeof(*q));
    if (s1 == NULL) {
        q->ns = "";
        q->local = name;
        q->local_len = strlen(name);
        q->prefix = "";
        return;
    }
    q->ns = name;
    q->ns_len = (size_t)(s1 - name);
    q->local = s1 + 1;
    s2 = strchr(q->local, NS_SEP);
    if (s2 == NULL) {
        q->local_len = strlen(q->local);
        q->prefix = "";
    } else {
        q->local_len = (size_t)(s2 - q->local);
        q->prefix = s2 + 1;
        q->prefix_len = strlen(q->prefix);
    }
}

static bool span_eq(const char *p, size_t n, const char *lit)
{
    return strlen(lit) == n && memcmp(p, lit, n) == 0;
}

static bool q_is(const struct qname *q, const char *ns, const char *local)
{
    return span_eq(q->ns, q->ns_len, ns) && span_eq(q->local, q->local_len, local);
}

static bool q_local(const struct qname *q, const char *local)
{
    return span_eq(q->local, q->local_len, local);
}

static bool q_ns(const struct qname *q, const char *ns)
{
    return span_eq(q->ns, q->ns_len, ns);
}

static bool q_stanza_ns(const struct qname *q)
{
    return q_ns(q, NS_SERVER) || q_ns(q, NS_CLIENT) || q_ns(q, NS_COMPONENT);
}

/* Value of an attribute without namespace, NULL if absent. */
static const char *attr(const XML_Char **atts, const char *name)
{
    for (; atts[0] != NULL; atts += 2)
        if (strcmp(atts[0], name) == 0)
            return atts[1];
    return NULL;
}

static const char *attr_xml_lang(const XML_Char **atts)
{
    static const char want[] = NS_XML " lang";
    size_t n = sizeof(want) - 1;

    for (; atts[0] != NULL; atts += 2)
        if (strncmp(atts[0], want, n) == 0 && (atts[0][n] == '\0' || atts[0][n] == NS_SEP))
            return atts[1];
    return NULL;
}

/* ---- events ----------------------------------------------------------- */

static void ev_init(struct xdir *d, struct xmpp_event *ev, enum xmpp_event_type type)
{
    memset(ev, 0, sizeof(*ev));
    ev->type = type;
    if (d->conn->meta != NULL)
        ev->meta = *d->conn->meta;
    ev->meta.dir = (uint8_t)d->dir;
    ev->dir = (uint8_t)d->dir;
    ev->decrypted = d->in_plain;
}

static void emit(struct xdir *d, struct xmpp_event *ev)
{
    struct xmpp_conn *c = d->conn;

    c->stats.events++;
    if (c->cb != NULL)
        c->cb(ev, c->user);
}

/* Real byte offset in this direction of parser position pos. */
static uint64_t real_offset(const struct xdir *d, uint64_t pos)
{
    if (pos < d->synth_len)
        return d->real_base;
    return d->real_base + (pos - d->synth_len);
}

static uint64_t parser_pos(const struct xdir *d)
{
    XML_Index i = XML_GetCurrentByteIndex(d->parser);

    return i < 0 ? d->fed : (uint64_t)i;
}

static void emit_error(struct xdir *d, enum xmpp_error code, const char *msg, uint64_t pos)
{
    struct xmpp_event ev;

    ev_init(d, &ev, XMPP_EV_ERROR);
    ev.error = code;
    ev.error_msg = msg;
    ev.offset = real_offset(d, pos);
    if (code == XMPP_ERR_XML && d->parser != NULL) {
        ev.line = (unsigned long)XML_GetCurrentLineNumber(d->parser);
        ev.column = (unsigned long)XML_GetCurrentColumnNumber(d->parser);
    }
    switch (code) {
    case XMPP_ERR_DEPTH: d->conn->stats.depth_caps++; break;
    case XMPP_ERR_STANZA_SIZE:
    case XMPP_ERR_TOKEN_SIZE: d->conn->stats.size_caps++; break;
    default: d->conn->stats.xml_errors++; break;
    }
    d->mode = DM_DONE;
    emit(d, &ev);
}

/* From inside a handler: stop the parser; the feeding loop acts on `kind`. */
static void halt(struct xdir *d, enum halt_kind kind)
{
    if (d->halt != HALT_NONE)
        return;
    d->halt = kind;
    d->halt_pos = parser_pos(d) + (uint64_t)XML_GetCurrentByteCount(d->parser);
    XML_StopParser(d->parser, XML_FALSE);
}

/* From inside a handler: report an error and stop this direction for good. */
static void halt_error(struct xdir *d, enum xmpp_error code, const char *msg)
{
    emit_error(d, code, msg, parser_pos(d));
    halt(d, HALT_DONE);
}

/* ---- handlers ---------------------------------------------------------- */

static void decls_free(struct nsdecl *v, unsigned *n)
{
    unsigned i;

    for (i = 0; i < *n; i++)
        budget_free(v[i].prefix);
    *n = 0;
}

/* Forget the declarations gathered for the start tag just handled. */
static void pend_drop(struct xdir *d)
{
    decls_free(d->pend, &d->n_pend);
}

static void XMLCALL on_ns_start(void *ud, const XML_Char *prefix, const XML_Char *uri)
{
    struct xdir *d = ud;
    struct nsdecl *nd;
    size_t np = prefix != NULL ? strlen(prefix) : 0, nu = uri != NULL ? strlen(uri) : 0;
    char *block;

    if (d->halt != HALT_NONE || d->synthetic || d->depth > 1)
        return;
    if (d->n_pend >= MAX_DECLS || np > PREFIX_MAX || nu > XMPP_ATTR_MAX) {
        note_trunc(d, false);
        return;
    }
    block = budget_malloc(&d->mem, np + nu + 2);
    if (block == NULL) {
        note_trunc(d, false);
        return;
    }
    nd = &d->pend[d->n_pend++];
    nd->has_prefix = prefix != NULL;
    nd->prefix = block;
    memcpy(block, prefix != NULL ? prefix : "", np + 1);
    nd->uri = block + np + 1;
    memcpy(nd->uri, uri != NULL ? uri : "", nu + 1);
}

static void XMLCALL on_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
                               const XML_Char *pubid, int has_internal)
{
    struct xdir *d = ud;

    (void)name;
    (void)sysid;
    (void)pubid;
    (void)has_internal;
    if (d->halt != HALT_NONE)
        return;
    halt_error(d, XMPP_ERR_DOCTYPE, "DOCTYPE declaration (forbidden in XMPP)");
}

static void stream_open(struct xdir *d, const struct qname *q, const XML_Char **atts, bool restart)
{
    struct xmpp_event ev;
    const char *content_ns = "";
    bool db = false;
    unsigned i;

    d->truncated = false;
    dset(d, S_TO, attr(atts, "to"));
    dset(d, S_FROM, attr(atts, "from"));
    dset(d, S_ID, attr(atts, "id"));
    dset(d, S_VERSION, attr(atts, "version"));
    dset(d, S_LANG, attr_xml_lang(atts));
    dset_n(d, S_STREAM_NS, q->ns, q->ns_len);
    for (i = 0; i < d->n_pend; i++) {
        if (!d->pend[i].has_prefix)
            content_ns = d->pend[i].uri;
        else if (strcmp(d->pend[i].uri, NS_DIALBACK) == 0)
            db = true;
    }
    dset(d, S_CONTENT_NS, content_ns);

    /* remember the header for resync(): qname and declarations */
    if (q->prefix_len > 0 && q->prefix_len <= PREFIX_MAX && q->local_len <= 15) {
        memcpy(d->root_qname, q->prefix, q->prefix_len);
        d->root_qname[q->prefix_len] = ':';
        memcpy(d->root_qname + q->prefix_len + 1, q->local, q->local_len);
        d->root_qname[q->prefix_len + 1 + q->local_len] = '\0';
    } else if (q->local_len <= 15) {
        memcpy(d->root_qname, q->local, q->local_len);
        d->root_qname[q->local_len] = '\0';
    } else {
        memcpy(d->root_qname, "stream", sizeof("stream"));
    }
    decls_free(d->decls, &d->n_decls);
    memcpy(d->decls, d->pend, sizeof(d->pend[0]) * d->n_pend); /* moved */
    d->n_decls = d->n_pend;
    d->n_pend = 0;

    ev_init(d, &ev, XMPP_EV_STREAM_OPEN);
    ev.to = sbuf_get(&d->str[S_TO]);
    ev.from = sbuf_get(&d->str[S_FROM]);
    ev.id = sbuf_get(&d->str[S_ID]);
    ev.version = sbuf_get(&d->str[S_VERSION]);
    ev.lang = sbuf_get(&d->str[S_LANG]);
    ev.stream_ns = sbuf_get(&d->str[S_STREAM_NS]);
    ev.content_ns = sbuf_get(&d->str[S_CONTENT_NS]);
    ev.stream_ns_ok = q_is(q, NS_STREAMS, "stream");
    ev.db_ns = db;
    ev.restart = restart;
    ev.truncated = d->truncated;
    d->n_opens++;
    if (restart)
        d->conn->stats.restarts++;
    emit(d, &ev);
}

static void top_begin(struct xdir *d, const struct qname *q, const XML_Char **atts)
{
    int i;

    d->top_start = parser_pos(d);
    d->child = CK_NONE;
    d->truncated = false;
    d->tgt = NULL;
    d->key_len = 0;
    d->starttls = d->starttls_required = d->dialback = d->dialback_errors = false;
    d->bidi = d->sm = d->sasl_external = false;
    d->n_mechs = d->n_other_features = 0;
    for (i = 0; i < S_ATTR_COUNT; i++)
        sbuf_clear(&d->str[i]);
    for (i = 0; i < T_COUNT; i++)
        sbuf_clear(&d->txt[i]);
    d->txt[T_BODY].cap = XMPP_TEXT_MAX;

    if (q_ns(q, NS_STREAMS)) {
        d->top = q_local(q, "features") ? TK_FEATURES : q_local(q, "error") ? TK_STREAM_ERROR : TK_OTHER;
    } else if (q_ns(q, NS_TLS)) {
        d->top = q_local(q, "starttls") ? TK_STARTTLS : q_local(q, "proceed") ? TK_PROCEED
               : q_local(q, "failure") ? TK_TLS_FAILURE : TK_OTHER;
    } else if (q_ns(q, NS_SASL)) {
        d->top = q_local(q, "auth") ? TK_AUTH : q_local(q, "success") ? TK_SUCCESS
               : q_local(q, "failure") ? TK_SASL_FAILURE : TK_OTHER;
    } else if (q_ns(q, NS_DIALBACK) && (q_local(q, "result") || q_local(q, "verify"))) {
        d->top = q_local(q, "result") ? TK_DB_RESULT : TK_DB_VERIFY;
    } else if (q_stanza_ns(q) && (q_local(q, "message") || q_local(q, "presence") || q_local(q, "iq"))) {
        d->top = TK_STANZA;
        d->stanza = q_local(q, "message") ? XMPP_STANZA_MESSAGE
                  : q_local(q, "presence") ? XMPP_STANZA_PRESENCE : XMPP_STANZA_IQ;
    } else {
        d->top = TK_OTHER;
    }
    switch (d->top) {
    case TK_AUTH:
        dset(d, S_MECHANISM, attr(atts, "mechanism"));
        break;
    case TK_DB_RESULT:
    case TK_DB_VERIFY:
    case TK_STANZA:
        dset(d, S_FROM, attr(atts, "from"));
        dset(d, S_TO, attr(atts, "to"));
        dset(d, S_ID, attr(atts, "id"));
        dset(d, S_TYPE, attr(atts, "type"));
        break;
    case TK_OTHER:
        dset_n(d, S_OTHER_NS, q->ns, q->ns_len);
        dset_n(d, S_OTHER_NAME, q->local, q->local_len);
        break;
    default:
        break;
    }
}

static void capture_text(struct xdir *d, struct sbuf *b, unsigned level)
{
    sbuf_clear(b);
    b->set = true;
    d->tgt = b;
    d->tgt_level = level;
}

/* A condition element (any name but <text>) or <text> inside an error-ish parent. */
static void condition_child(struct xdir *d, const struct qname *q, unsigned level, bool stream_err)
{
    if (q_local(q, "text")) {
        capture_text(d, &d->txt[T_TEXT], level);
    } else if (!d->str[S_CONDITION].set) {
        dset_n(d, S_CONDITION, q->local, q->local_len);
        if (stream_err)
            capture_text(d, &d->str[S_COND_TEXT], level);
    }
}

static void top_child(struct xdir *d, const struct qname *q, const XML_Char **atts, unsigned level)
{
    if (level == 2)
        d->child = CK_OTHER;
    switch (d->top) {
    case TK_FEATURES:
        if (level == 2) {
            if (q_is(q, NS_TLS, "starttls")) {
                d->starttls = true;
                d->child = CK_STARTTLS;
            } else if (q_is(q, NS_SASL, "mechanisms")) {
                d->child = CK_MECHANISMS;
                d->txt[T_MECHS].set = true;
            } else if (q_is(q, NS_FEAT_DIALBACK, "dialback")) {
                d->dialback = true;
                d->child = CK_DIALBACK;
            } else if (q_is(q, NS_FEAT_BIDI, "bidi")) {
                d->bidi = true;
            } else if (q_is(q, NS_SM3, "sm") || q_is(q, NS_SM2, "sm")) {
                d->sm = true;
            } else {
                d->n_other_features++;
            }
        } else if (level == 3) {
            if (d->child == CK_STARTTLS && q_local(q, "required"))
                d->starttls_required = true;
            else if (d->child == CK_MECHANISMS && q_is(q, NS_SASL, "mechanism"))
                capture_text(d, &d->str[S_MECH_ONE], level);
            else if (d->child == CK_DIALBACK && q_local(q, "errors"))
                d->dialback_errors = true;
        }
        break;
    case TK_STREAM_ERROR:
        if (level == 2 && q_ns(q, NS_STREAM_ERR))
            condition_child(d, q, level, true);
        break;
    case TK_SASL_FAILURE:
        if (level == 2 && q_ns(q, NS_SASL))
            condition_child(d, q, level, false);
        break;
    case TK_DB_RESULT:
    case TK_DB_VERIFY:
    case TK_STANZA:
        if (level == 2 && q_local(q, "error") && (q_stanza_ns(q) || q_ns(q, NS_DIALBACK))) {
            d->child = CK_ERROR;
            dset(d, S_ERROR_TYPE, attr(atts, "type"));
            dset(d, S_ERROR_BY, attr(atts, "by"));
        } else if (level == 3 && d->child == CK_ERROR && q_ns(q, NS_STANZA_ERR)) {
            condition_child(d, q, level, false);
        } else if (level == 2 && d->top == TK_STANZA) {
            if (d->stanza == XMPP_STANZA_MESSAGE && q_local(q, "body") && q_stanza_ns(q)) {
                if (d->conn->cfg.include_body && !d->txt[T_BODY].set) {
                    capture_text(d, &d->txt[T_BODY], level);
                    d->txt[T_BODY].cap = d->conn->cfg.max_body;
                }
            } else if (!d->str[S_CHILD_NAME].set) {
                dset_n(d, S_CHILD_NS, q->ns, q->ns_len);
                dset_n(d, S_CHILD_NAME, q->local, q->local_len);
            }
        }
        break;
    default:
        break;
    }
}

static enum xmpp_presence_type presence_type(const char *t)
{
    static const struct {
        const char *name;
        enum xmpp_presence_type type;
    } map[] = {
        {"unavailable", XMPP_PRES_UNAVAILABLE}, {"subscribe", XMPP_PRES_SUBSCRIBE},
        {"subscribed", XMPP_PRES_SUBSCRIBED},   {"unsubscribe", XMPP_PRES_UNSUBSCRIBE},
        {"unsubscribed", XMPP_PRES_UNSUBSCRIBED}, {"probe", XMPP_PRES_PROBE},
        {"error", XMPP_PRES_ERROR},
    };
    size_t i;

    if (t == NULL)
        return XMPP_PRES_AVAILABLE;
    for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (strcmp(t, map[i].name) == 0)
            return map[i].type;
    return XMPP_PRES_OTHER;
}

static enum xmpp_db_type db_type(const char *t)
{
    if (t == NULL)
        return XMPP_DB_NONE;
    if (strcmp(t, "valid") == 0)
        return XMPP_DB_VALID;
    if (strcmp(t, "invalid") == 0)
        return XMPP_DB_INVALID;
    if (strcmp(t, "error") == 0)
        return XMPP_DB_ERROR;
    return XMPP_DB_OTHER;
}

static void top_end(struct xdir *d, uint64_t end_pos)
{
    struct xmpp_event ev;
    enum xmpp_event_type type;
    enum halt_kind after = HALT_NONE;

    switch (d->top) {
    case TK_FEATURES: type = XMPP_EV_FEATURES; break;
    case TK_STREAM_ERROR: type = XMPP_EV_STREAM_ERROR; break;
    case TK_STARTTLS: type = XMPP_EV_STARTTLS; break;
    case TK_PROCEED: type = XMPP_EV_PROCEED; break;
    case TK_TLS_FAILURE: type = XMPP_EV_TLS_FAILURE; break;
    case TK_AUTH: type = XMPP_EV_SASL_AUTH; break;
    case TK_SUCCESS: type = XMPP_EV_SASL_SUCCESS; break;
    case TK_SASL_FAILURE: type = XMPP_EV_SASL_FAILURE; break;
    case TK_DB_RESULT: type = XMPP_EV_DB_RESULT; break;
    case TK_DB_VERIFY: type = XMPP_EV_DB_VERIFY; break;
    case TK_STANZA: type = XMPP_EV_STANZA; break;
    default: type = XMPP_EV_OTHER; break;
    }
    ev_init(d, &ev, type);
    ev.from = sbuf_get(&d->str[S_FROM]);
    ev.to = sbuf_get(&d->str[S_TO]);
    ev.id = sbuf_get(&d->str[S_ID]);
    ev.type_str = sbuf_get(&d->str[S_TYPE]);
    ev.size = end_pos - d->top_start;
    switch (d->top) {
    case TK_FEATURES:
        ev.starttls = d->starttls;
        ev.starttls_required = d->starttls_required;
        ev.mechanisms = sbuf_get(&d->txt[T_MECHS]);
        ev.n_mechanisms = d->n_mechs;
        ev.sasl_external = d->sasl_external;
        ev.dialback = d->dialback;
        ev.dialback_errors = d->dialback_errors;
        ev.bidi = d->bidi;
        ev.sm = d->sm;
        ev.n_other_features = d->n_other_features;
        break;
    case TK_AUTH:
        ev.mechanism = sbuf_get(&d->str[S_MECHANISM]);
        break;
    case TK_STREAM_ERROR:
        ev.cond_text = d->str[S_COND_TEXT].len > 0 ? sbuf_get(&d->str[S_COND_TEXT]) : NULL;
        /* fall through */
    case TK_SASL_FAILURE:
        ev.condition = sbuf_get(&d->str[S_CONDITION]);
        ev.text = sbuf_get(&d->txt[T_TEXT]);
        break;
    case TK_DB_RESULT:
    case TK_DB_VERIFY:
        ev.db_type = db_type(ev.type_str);
        ev.db_key_len = d->key_len;
        ev.condition = sbuf_get(&d->str[S_CONDITION]);
        ev.text = sbuf_get(&d->txt[T_TEXT]);
        ev.error_type = sbuf_get(&d->str[S_ERROR_TYPE]);
        break;
    case TK_STANZA:
        ev.stanza = d->stanza;
        ev.presence = d->stanza == XMPP_STANZA_PRESENCE ? presence_type(ev.type_str) : XMPP_PRES_AVAILABLE;
        ev.condition = sbuf_get(&d->str[S_CONDITION]);
        ev.text = sbuf_get(&d->txt[T_TEXT]);
        ev.error_type = sbuf_get(&d->str[S_ERROR_TYPE]);
        ev.error_by = sbuf_get(&d->str[S_ERROR_BY]);
        ev.child_ns = sbuf_get(&d->str[S_CHILD_NS]);
        ev.child_name = sbuf_get(&d->str[S_CHILD_NAME]);
        ev.body = sbuf_get(&d->txt[T_BODY]);
        d->conn->stats.stanzas++;
        break;
    case TK_PROCEED:
        if (d->dir == FT_DIR_RESP) {
            d->conn->proceed_seen = true;
            after = HALT_SNIFF;
        }
        break;
    case TK_STARTTLS:
        if (d->dir == FT_DIR_ORIG)
            after = HALT_SNIFF;
        break;
    case TK_OTHER:
        ev.other_ns = sbuf_get(&d->str[S_OTHER_NS]);
        ev.other_name = sbuf_get(&d->str[S_OTHER_NAME]);
        break;
    default:
        break;
    }
    ev.truncated = d->truncated;
    d->top = TK_NONE;
    d->tgt = NULL;
    emit(d, &ev);
    if (after != HALT_NONE)
        halt(d, after);
}

/* Elements that start a capture picked up mid-stream (RFC 6120 stanzas,
 * XEP-0220 dialback). */
static bool midstream_element(const struct qname *q)
{
    return q_local(q, "message") || q_local(q, "presence") || q_local(q, "iq") || q_local(q, "result") ||
           q_local(q, "verify");
}

/* The capture began inside a stream: keep the bytes from the current
 * token on (expat still holds them, however they were chunked) to be
 * parsed again inside an assumed stream header. */
static void midstream_halt(struct xdir *d, int back)
{
    int off = 0, size = 0;
    const char *ctx = XML_GetInputContext(d->parser, &off, &size);

    if (ctx != NULL)
        off -= off >= back ? back : 0; /* from the '<' of the token */
    if (ctx == NULL || off < 0 || size < off || (size_t)(size - off) > d->conn->cfg.max_stanza) {
        halt_error(d, XMPP_ERR_NOT_STREAM, "root element is not a stream header");
        return;
    }
    d->replay = budget_malloc(&d->mem, (size_t)(size - off) + 1);
    if (d->replay == NULL) {
        halt_error(d, XMPP_ERR_NOMEM, "no memory to resynchronise a mid-stream capture");
        return;
    }
    memcpy(d->replay, ctx + off, (size_t)(size - off));
    d->replay_len = (size_t)(size - off);
    d->halt = HALT_MIDSTREAM;
    d->halt_pos = d->fed; /* everything given so far is in the replay */
    XML_StopParser(d->parser, XML_FALSE);
}

static void XMLCALL on_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
    struct xdir *d = ud;
    struct xmpp_conn *c = d->conn;
    unsigned level = d->depth;
    struct qname q;

    if (d->halt != HALT_NONE)
        return;
    if (d->synthetic) {
        d->depth++;
        return;
    }
    d->last_event = parser_pos(d) + (uint64_t)XML_GetCurrentByteCount(d->parser);
    if (level + 1 > c->cfg.max_depth) {
        halt_error(d, XMPP_ERR_DEPTH, "element nesting deeper than the cap");
        return;
    }
    d->depth++;
    split_name(name, &q);
    if (level == 0 && d->n_opens == 0 && !d->midstream && !q_local(&q, "stream") && midstream_element(&q)) {
        d->depth--;
        pend_drop(d);
        midstream_halt(d, 0);
        return;
    }
    if (level == 0) {
        stream_open(d, &q, atts, d->n_opens > 0);
        if (!q_local(&q, "stream")) {
            halt_error(d, XMPP_ERR_NOT_STREAM, "root element is not a stream header");
            return;
        }
        d->boundary = parser_pos(d) + (uint64_t)XML_GetCurrentByteCount(d->parser);
        return;
    }
    if (level == 1 && q_is(&q, NS_STREAMS, "stream")) {
        stream_open(d, &q, atts, true);
        halt(d, HALT_RESTART);
        return;
    }
    pend_drop(d);
    if (level == 1)
        top_begin(d, &q, atts);
    else
        top_child(d, &q, atts, level);
}

static void XMLCALL on_end(void *ud, const XML_Char *name)
{
    struct xdir *d = ud;
    unsigned level;
    uint64_t end_pos;

    (void)name;
    if (d->halt != HALT_NONE || d->depth == 0)
        return;
    level = --d->depth;
    if (d->synthetic)
        return;
    end_pos = parser_pos(d) + (uint64_t)XML_GetCurrentByteCount(d->parser);
    d->last_event = end_pos;
    if (level == 0) {
        struct xmpp_event ev;

        d->closed = true;
        ev_init(d, &ev, XMPP_EV_STREAM_CLOSE);
        emit(d, &ev);
        d->mode = DM_DONE;
        halt(d, HALT_DONE);
        return;
    }
    if (level == 1) {
        if (end_pos - d->boundary > d->conn->cfg.max_stanza) {
            emit_error(d, XMPP_ERR_STANZA_SIZE, "top-level element larger than the cap", d->boundary);
            halt(d, HALT_DONE);
            return;
        }
        d->boundary = end_pos;
        top_end(d, end_pos);
        /* expat keeps the buffer a large element needed: give it back */
        if (d->mem.used > SHRINK_ABOVE)
            halt(d, HALT_SHRINK);
        return;
    }
    if (d->tgt != NULL && d->tgt_level == level) {
        if (d->tgt == &d->str[S_MECH_ONE]) {
            struct sbuf *m = &d->txt[T_MECHS];
            const char *s = d->tgt->s;
            size_t n = d->tgt->len;

            while (n > 0 && (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')) {
                s++;
                n--;
            }
            while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
                n--;
            if (m->len > 0)
                note_trunc(d, sbuf_append(m, " ", 1, &d->mem));
            note_trunc(d, sbuf_append(m, s, n, &d->mem));
            d->n_mechs++;
            if (span_eq(s, n, "EXTERNAL"))
                d->sasl_external = true;
        }
        d->tgt = NULL;
    }
    if (level == 2)
        d->child = CK_NONE;
}

static void XMLCALL on_text(void *ud, const XML_Char *s, int len)
{
    struct xdir *d = ud;

    if (d->halt != HALT_NONE || d->synthetic || len <= 0)
        return;
    d->last_event = parser_pos(d) + (uint64_t)XML_GetCurrentByteCount(d->parser);
    if (d->depth == 1) { /* between top-level elements: whitespace keepalives */
        d->boundary = d->last_event;
        return;
    }
    if (d->depth == 2 && (d->top == TK_DB_RESULT || d->top == TK_DB_VERIFY))
        d->key_len += (size_t)len;
    if (d->tgt != NULL && d->depth > d->tgt_level)
        note_trunc(d, sbuf_append(d->tgt, s, (size_t)len, &d->mem));
}

/* ---- expat's memory ----------------------------------------------------- */

/*
 * expat allocates through a memory suite whose functions take no context,
 * so the budget of the connection whose expat call is in progress is
 * handed over here: set by expat_scope_enter() at every public entry point
 * of this file, restored on the way out.  Thread-local, and nothing else
 * in this file lives outside a struct xmpp_conn.  realloc and free find
 * their budget in the block itself.
 */
static _Thread_local struct mem_budget *expat_budget;

static void *expat_malloc(size_t n)
{
    return budget_malloc(expat_budget, n);
}

static void *expat_realloc(void *p, size_t n)
{
    return p != NULL ? budget_realloc(p, n) : budget_malloc(expat_budget, n);
}

static void expat_free(void *p)
{
    budget_free(p);
}

static const XML_Memory_Handling_Suite expat_memsuite = { expat_malloc, expat_realloc,
                                                          expat_free };

static struct mem_budget *expat_scope_enter(struct xdir *d)
{
    struct mem_budget *prev = expat_budget;

    expat_budget = &d->mem;
    return prev;
}

static void expat_scope_leave(struct mem_budget *prev)
{
    expat_budget = prev;
}

/* The direction stopped parsing XML for good (error, cap, gap, eof, TLS):
 * free its parser and string buffers.  Never from inside a handler. */
static void dir_release(struct xdir *d)
{
    int k;

    if (d->parser != NULL)
        XML_ParserFree(d->parser);
    d->parser = NULL;
    for (k = 0; k < S_ATTR_COUNT; k++)
        sbuf_release(&d->str[k]);
    for (k = 0; k < T_COUNT; k++)
        sbuf_release(&d->txt[k]);
    d->tgt = NULL;
    pend_drop(d);
    decls_free(d->decls, &d->n_decls);
}

/* ---- feeding ----------------------------------------------------------- */

/* (Re)apply handlers and limits; XML_ParserReset clears them. */
static void parser_setup(struct xdir *d)
{
    XML_Parser p = d->parser;
    const struct xmpp_config *cfg = &d->conn->cfg;

    XML_SetUserData(p, d);
    XML_SetReturnNSTriplet(p, XML_TRUE);
    XML_SetElementHandler(p, on_start, on_end);
    XML_SetCharacterDataHandler(p, on_text);
    XML_SetStartNamespaceDeclHandler(p, on_ns_start);
    XML_SetStartDoctypeDeclHandler(p, on_doctype);
    XML_SetParamEntityParsing(p, XML_PARAM_ENTITY_PARSING_NEVER);
    XML_SetBillionLaughsAttackProtectionMaximumAmplification(p, cfg->max_amplification);
    XML_SetBillionLaughsAttackProtectionActivationThreshold(p, cfg->amplification_threshold);
#ifdef FT_HAVE_REPARSE_SWITCH
    if (XML_SetReparseDeferralEnabled != NULL)
        XML_SetReparseDeferralEnabled(p, XML_FALSE);
#endif
}

static bool parser_start(struct xdir *d)
{
    if (d->parser == NULL) {
        static const XML_Char sep[] = { NS_SEP, '\0' };

        d->parser = XML_ParserCreate_MM("UTF-8", &expat_memsuite, sep);
        if (d->parser == NULL)
            return false;
    } else if (!XML_ParserReset(d->parser, "UTF-8")) {
        return false;
    }
    parser_setup(d);
    d->fed = 0;
    d->synth_len = 0;
    d->real_base = d->real;
    d->boundary = 0;
    d->last_event = 0;
    d->depth = 0;
    d->halt = HALT_NONE;
    d->top = TK_NONE;
    d->tgt = NULL;
    pend_drop(d);
    return true;
}

/* Append s to buf (size cap), XML-escaping when esc; returns the new length. */
static size_t put(char *buf, size_t len, size_t cap, const char *s, bool esc)
{
    for (; *s != '\0'; s++) {
        const char *rep = NULL;
        size_t n;

        if (esc) {
            switch (*s) {
            case '&': rep = "&amp;"; break;
            case '<': rep = "&lt;"; break;
            case '\'': rep = "&apos;"; break;
            case '"': rep = "&quot;"; break;
            default: break;
            }
        }
        n = rep != NULL ? strlen(rep) : 1;
        if (len + n >= cap)
            return len;
        memcpy(buf + len, rep != NULL ? rep : s, n);
        len += n;
    }
    buf[len] = '\0';
    return len;
}

/*
 * Restart the parser inside the remembered stream header: reset, then feed
 * "<qname xmlns:p='uri' ...>" with events suppressed, so the bytes that
 * follow parse at level 1.
 */
static bool resync(struct xdir *d)
{
    size_t cap = sizeof(d->root_qname) + 8 + MAX_DECLS * (PREFIX_MAX + 10 + 6 * XMPP_ATTR_MAX);
    char *buf = malloc(cap);
    size_t len = 0;
    unsigned i;
    enum XML_Status st;
    bool ok = false;
    enum xmpp_error err = XMPP_ERR_NOMEM;

    if (buf == NULL)
        goto out;
    if (!parser_start(d))
        goto out_free_buf;
    err = XMPP_ERR_XML;
    buf[0] = '\0';
    len = put(buf, len, cap, "<", false);
    len = put(buf, len, cap, d->root_qname, false);
    for (i = 0; i < d->n_decls; i++) {
        len = put(buf, len, cap, d->decls[i].has_prefix ? " xmlns:" : " xmlns", false);
        len = put(buf, len, cap, d->decls[i].prefix, false);
        len = put(buf, len, cap, "='", false);
        len = put(buf, len, cap, d->decls[i].uri, true);
        len = put(buf, len, cap, "'", false);
    }
    len = put(buf, len, cap, ">", false);
    d->synthetic = true;
    d->fed = len;
    d->synth_len = len;
    st = XML_Parse(d->parser, buf, (int)len, XML_FALSE);
    d->synthetic = false;
    d->boundary = d->fed;
    d->last_event = d->fed;
    ok = st == XML_STATUS_OK && d->depth == 1;
out_free_buf:
    free(buf);
out:
    if (!ok)
        emit_error(d, err, "cannot restart the XML parser", d->fed);
    return ok;
}

static bool is_blank(uint8_t b)
{
    return b == ' ' || b == '\t' || b == '\r' || b == '\n';
}

static bool tls_start(struct xdir *d);
static void dir_process(struct xdir *d, const uint8_t *p, size_t n);

/* An assumed s2s stream header: what the stanzas of a stream picked up
 * mid-stream are parsed inside (jabber:server, the dialback prefix bound). */
static bool midstream_root(struct xdir *d)
{
    static const struct {
        const char *prefix, *uri;
    } decl[] = { { "stream", NS_STREAMS }, { NULL, NS_SERVER }, { "db", NS_DIALBACK } };

    decls_free(d->decls, &d->n_decls);
    memcpy(d->root_qname, "stream:stream", sizeof("stream:stream"));
    for (size_t i = 0; i < sizeof(decl) / sizeof(decl[0]); i++) {
        size_t np = decl[i].prefix != NULL ? strlen(decl[i].prefix) : 0, nu = strlen(decl[i].uri);
        char *block = budget_malloc(&d->mem, np + nu + 2);
        struct nsdecl *nd = &d->decls[d->n_decls];

        if (block == NULL)
            return false;
        nd->has_prefix = decl[i].prefix != NULL;
        nd->prefix = block;
        memcpy(block, decl[i].prefix != NULL ? decl[i].prefix : "", np + 1);
        nd->uri = block + np + 1;
        memcpy(nd->uri, decl[i].uri, nu + 1);
        d->n_decls++;
    }
    return true;
}

/* Parse the kept bytes again inside the assumed header (once per direction). */
static void midstream_resume(struct xdir *d)
{
    uint8_t *buf = d->replay;
    size_t len = d->replay_len;

    d->replay = NULL;
    d->replay_len = 0;
    d->midstream = true;
    d->conn->stats.midstream_resyncs++;
    if (!midstream_root(d)) {
        budget_free(buf);
        emit_error(d, XMPP_ERR_NOMEM, "no memory to resynchronise a mid-stream capture", d->fed);
        return;
    }
    if (!resync(d)) {
        budget_free(buf);
        return;
    }
    d->real -= len < d->real ? len : d->real; /* counted once already */
    dir_process(d, buf, len);
    budget_free(buf);
}

/* After an error: is the offending token an end tag ("</stream:stream>"
 * as the first thing of a capture picked up mid-stream)? */
static bool at_end_tag(struct xdir *d)
{
    int off = 0, size = 0;
    const char *ctx = XML_GetInputContext(d->parser, &off, &size);

    if (ctx == NULL || off < 1 || off >= size)
        return false;
    return ctx[off - 1] == '<' && ctx[off] == '/'; /* expat points at the '/' */
}

/* ---- idle directions --------------------------------------------------- */

/* At rest: cleartext XML at level 1 between top-level elements, every
 * byte given to the parser reported as a token (none waits inside
 * expat), no halt, replay or pending declaration in flight. */
static bool dir_at_rest(const struct xdir *d)
{
    return d->mode == DM_XML && d->parser != NULL && !d->parked && !d->wire_tls && !d->in_plain &&
           d->halt == HALT_NONE && !d->synthetic && d->depth == 1 && d->top == TK_NONE &&
           d->tgt == NULL && d->last_event == d->fed && d->replay == NULL && d->n_pend == 0;
}

/* Free what resync() and the next element rebuild: the parser and the
 * string buffers (their caps stay).  The root context (root_qname,
 * decls) and every offset stay. */
static void dir_park(struct xdir *d)
{
    XML_ParserFree(d->parser);
    d->parser = NULL;
    for (int k = 0; k < S_ATTR_COUNT; k++)
        sbuf_release(&d->str[k]);
    for (int k = 0; k < T_COUNT; k++)
        sbuf_release(&d->txt[k]);
    d->parked = true;
    d->conn->stats.parks++;
}

/* Bytes arrive for a parked direction: a fresh parser inside the header. */
static bool unpark(struct xdir *d)
{
    d->parked = false;
    return resync(d);
}

/* Give up to one slice to expat; returns the bytes of p that were used. */
static size_t xml_step(struct xdir *d, const uint8_t *p, size_t n)
{
    struct xmpp_conn *c = d->conn;
    size_t part = n < FEED_SLICE ? n : FEED_SLICE;
    uint64_t base;
    size_t used;
    enum XML_Status st;

    if (d->parked && !unpark(d))
        return 0; /* resync() reported the error and ended the direction */
    base = d->fed;
    d->halt = HALT_NONE;
    d->fed += part;
    st = XML_Parse(d->parser, (const char *)p, (int)part, XML_FALSE);
    if (st != XML_STATUS_ERROR) {
        d->real += part;
        if (d->fed - d->boundary > c->cfg.max_stanza)
            emit_error(d, XMPP_ERR_STANZA_SIZE, "top-level element larger than the cap", d->boundary);
        else if (d->fed - d->last_event > c->cfg.max_token)
            emit_error(d, XMPP_ERR_TOKEN_SIZE, "XML token larger than the cap", d->last_event);
        return part;
    }
    if (d->halt == HALT_NONE) {
        enum XML_Error code = XML_GetErrorCode(d->parser);
        XML_Index at = XML_GetCurrentByteIndex(d->parser);

        /* A restarted stream may open with an XML declaration (ejabberd
         * after SASL <success/>): legal at the start of a stream, which a
         * restart is, but misplaced for a parser already inside one.
         * Skip it and carry on at level 1. */
        /* "<db:result" with no header to bind the prefix: mid-stream too */
        if ((code == XML_ERROR_UNBOUND_PREFIX || at_end_tag(d)) && d->depth == 0 && d->n_opens == 0 &&
            !d->midstream) {
            d->real += part;
            midstream_halt(d, code == XML_ERROR_UNBOUND_PREFIX ? 0 : 1);
            if (d->halt == HALT_MIDSTREAM) {
                d->halt = HALT_NONE;
                midstream_resume(d);
            }
            return part;
        }
        if (code == XML_ERROR_MISPLACED_XML_PI && d->depth == 1 && at >= 0 &&
            ((uint64_t)at < base || (uint64_t)at - base <= part)) {
            /* expat reports it once the whole "<?xml ...?>" is in; it may
             * have begun in an earlier slice (then it ends in this one) */
            used = (uint64_t)at >= base ? (size_t)((uint64_t)at - base) : 0;
            d->real += used;
            d->mode = DM_DECL;
            d->decl_len = (uint64_t)at < base ? (unsigned)(base - (uint64_t)at) : 0;
            return used;
        }
        if (code == XML_ERROR_NO_MEMORY)
            emit_error(d, XMPP_ERR_NOMEM, "dissector state budget spent", parser_pos(d));
        else
            emit_error(d, XMPP_ERR_XML, XML_ErrorString(code), parser_pos(d));
        d->real += part;
        return part;
    }
    /* halted by a handler: the bytes after halt_pos are not parsed yet */
    used = part;
    if (d->halt_pos >= base && d->halt_pos - base <= part)
        used = (size_t)(d->halt_pos - base);
    d->real += used;
    switch (d->halt) {
    case HALT_RESTART:
        resync(d);
        break;
    case HALT_SHRINK:
        XML_ParserFree(d->parser);
        d->parser = NULL;
        c->stats.shrinks++;
        resync(d);
        break;
    case HALT_SNIFF:
        d->mode = DM_SNIFF;
        break;
    case HALT_MIDSTREAM:
        d->halt = HALT_NONE;
        d->real += part - used;
        midstream_resume(d);
        return part;
    default:
        d->mode = DM_DONE;
        break;
    }
    d->halt = HALT_NONE;
    if (used == 0 && d->mode == DM_XML) /* cannot happen; never spin */
        used = part;
    return used;
}

/* DM_DECL: skip "<?xml ... ?>" (bounded), then parse on inside the stream. */
static size_t decl_step(struct xdir *d, const uint8_t *p, size_t n)
{
    /* no '>' can occur inside an XML declaration but the closing "?>" */
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '>') {
            d->real += i + 1;
            if (resync(d))
                d->mode = DM_XML;
            return i + 1;
        }
        if (++d->decl_len > DECL_MAX) {
            d->real += i;
            emit_error(d, XMPP_ERR_XML, "XML declaration inside the stream is too long", d->fed);
            return i;
        }
    }
    d->real += n;
    return n;
}

/* DM_START / DM_SNIFF: decide between XML and TLS at the first non-blank byte. */
static size_t sniff_step(struct xdir *d, const uint8_t *p, size_t n)
{
    size_t i = 0;
    struct xmpp_event ev;

    while (i < n && is_blank(p[i]))
        i++;
    if (i == n) {
        d->real += n;
        return n;
    }
    if (d->mode == DM_START) {
        if (p[i] >= 0x14 && p[i] <= 0x17) {
            d->real += i;
            d->mode = DM_DONE;
            emit_error(d, XMPP_ERR_TLS_IN_XML, "TLS record where an XML stream was expected",
                       d->real);
            if (!d->wire_tls)
                tls_start(d);
            return i;
        }
        /* let expat see every byte, leading blanks included */
        if (!parser_start(d)) {
            emit_error(d, XMPP_ERR_NOMEM, "cannot create the XML parser", 0);
            return 0;
        }
        d->mode = DM_XML;
        return 0;
    }
    d->real += i;
    if (p[i] == '<') {
        if (d->conn->proceed_seen) {
            ev_init(d, &ev, XMPP_EV_CLEARTEXT_AFTER_STARTTLS);
            emit(d, &ev);
        }
        if (resync(d))
            d->mode = DM_XML;
        return i;
    }
    if (d->wire_tls || !tls_start(d))
        d->mode = DM_DONE; /* TLS inside TLS: not followed */
    return i;
}

static void wire_tls_data(struct xdir *d, const uint8_t *p, size_t n);

/* The XML layer of a direction: the wire bytes, or inside TLS the
 * decrypted ones; stops early when the wire turns to TLS (the rest of p is
 * then returned as not used). */
static size_t xml_layer(struct xdir *d, const uint8_t *p, size_t n)
{
    struct xmpp_conn *c = d->conn;
    size_t done = 0;
    bool wire = !d->wire_tls;

    while (done < n && !(wire && d->wire_tls)) {
        size_t used;

        switch (d->mode) {
        case DM_START:
        case DM_SNIFF:
            used = sniff_step(d, p + done, n - done);
            break;
        case DM_XML:
            used = xml_step(d, p + done, n - done);
            break;
        case DM_DECL:
            used = decl_step(d, p + done, n - done);
            break;
        default: /* DM_TLS without plaintext (only inside TLS), DM_DONE */
            c->stats.ignored_bytes += n - done;
            d->real += n - done;
            used = n - done;
            break;
        }
        done += used;
    }
    return done;
}

static void dir_process(struct xdir *d, const uint8_t *p, size_t n)
{
    size_t used = d->wire_tls ? 0 : xml_layer(d, p, n);

    if (used < n && d->wire_tls)
        wire_tls_data(d, p + used, n - used);
    if ((d->mode == DM_DONE || d->mode == DM_TLS) && (d->parser != NULL || d->n_decls > 0))
        dir_release(d);
}

/* ---- TLS --------------------------------------------------------------- */

static void on_tls(const struct tls_event *tev, void *user)
{
    struct xmpp_conn *c = user;
    struct xdir *d = &c->d[tev->dir & 1];
    struct xmpp_event ev;

    /* the decryptor learns the hello randoms, version and suite from the
     * reader, which sees every record first */
    if (c->dec != NULL && tev->have_random) {
        if (tev->type == TLS_EV_CLIENT_HELLO)
            tls_decrypt_client_hello(c->dec, tev->random);
        else if (tev->type == TLS_EV_SERVER_HELLO)
            tls_decrypt_server_hello(c->dec, tev->random, tev->version, tev->cipher,
                                     tev->hello_retry, tev->encrypt_then_mac);
    }
    ev_init(d, &ev, XMPP_EV_TLS);
    ev.meta = tev->meta;
    ev.tls = tev;
    emit(d, &ev);
}

/* Decrypted application bytes of dir: the stream inside TLS. */
static void on_plaintext(void *user, int dir, const uint8_t *p, size_t n)
{
    struct xmpp_conn *c = user;
    struct xdir *d = &c->d[dir & 1];
    struct mem_budget *prev;

    if (!d->wire_tls || d->eof || d->gapped)
        return;
    c->stats.decrypted_bytes[d->dir] += n;
    prev = expat_scope_enter(d);
    d->in_plain = true;
    xml_layer(d, p, n);
    d->in_plain = false;
    expat_scope_leave(prev);
}

/* Decryption stopped: the connection goes on as without keys. */
static void on_decrypt_event(void *user, const struct tls_decrypt_event *dev)
{
    struct xmpp_conn *c = user;
    struct xdir *d = &c->d[dev->dir & 1];
    struct xmpp_event ev;
    int i;

    switch (dev->type) {
    case TLS_DEC_EV_AUTH_FAILED:
    case TLS_DEC_EV_NO_KEY:
    case TLS_DEC_EV_UNSUPPORTED:
    case TLS_DEC_EV_ERROR:
        break;
    default:
        return;
    }
    for (i = 0; i < 2; i++)
        if (c->d[i].wire_tls && c->d[i].mode != DM_DONE)
            c->d[i].mode = DM_TLS; /* parsers are released outside this call */
    ev_init(d, &ev, XMPP_EV_DECRYPT_STOPPED);
    ev.decrypt_reason = dev->reason != NULL ? dev->reason : tls_decrypt_event_name(dev->type);
    emit(d, &ev);
}

/* The wire of d turns to TLS: the reader (and the decryptor, when there
 * are keys) for the connection, and the XML layer waits for the stream
 * inside TLS, or gives up when it cannot be read. */
static bool tls_start(struct xdir *d)
{
    struct xmpp_conn *c = d->conn;

    if (c->tls == NULL) {
        c->tls = tls_conn_new(&c->cfg.tls, on_tls, c);
        if (c->tls == NULL) {
            emit_error(d, XMPP_ERR_NOMEM, "cannot allocate the TLS reader", d->real);
            return false;
        }
        if (c->cfg.decrypt != NULL && tls_decrypt_ctx_has_keys(c->cfg.decrypt))
            c->dec = tls_decrypt_new(c->cfg.decrypt, &c->mem, on_plaintext, on_decrypt_event, c);
    }
    d->wire_tls = true;
    d->mode = c->dec != NULL && !tls_decrypt_stopped(c->dec) ? DM_START : DM_TLS;
    return true;
}

static void wire_tls_data(struct xdir *d, const uint8_t *p, size_t n)
{
    struct xmpp_conn *c = d->conn;

    tls_conn_data(c->tls, d->dir, p, n, c->meta);
    if (c->dec != NULL && !tls_decrypt_stopped(c->dec))
        tls_decrypt_data(c->dec, d->dir, p, n);
    if (d->mode == DM_TLS || d->mode == DM_DONE)
        d->real += n;
}

/* ---- public API --------------------------------------------------------- */

struct xmpp_conn *xmpp_conn_new(const struct xmpp_config *cfg, bool direct_tls,
                                xmpp_event_cb cb, void *user)
{
    struct xmpp_conn *c = budget_calloc(cfg != NULL ? cfg->budget : NULL, sizeof(*c));
    int i, k;

    if (c == NULL)
        return NULL;
    if (cfg != NULL)
        c->cfg = *cfg;
    else
        xmpp_config_default(&c->cfg);
    budget_init(&c->mem, 0, c->cfg.budget);
    budget_init(&c->d[0].mem, 0, &c->mem);
    budget_init(&c->d[1].mem, 0, &c->mem);
    c->cfg.tls.budget = &c->mem;
    if (c->cfg.max_depth < 2)
        c->cfg.max_depth = 2;
    if (c->cfg.max_stanza == 0)
        c->cfg.max_stanza = 1024 * 1024;
    if (c->cfg.max_token == 0)
        c->cfg.max_token = 64 * 1024;
    if (c->cfg.max_body > XMPP_TEXT_MAX)
        c->cfg.max_body = XMPP_TEXT_MAX;
    if (c->cfg.max_amplification < 1.0f)
        c->cfg.max_amplification = 1.0f;
    c->cb = cb;
    c->user = user;
    for (i = 0; i < 2; i++) {
        struct xdir *d = &c->d[i];

        d->conn = c;
        d->dir = i;
        d->mode = DM_START;
        for (k = 0; k < S_ATTR_COUNT; k++)
            d->str[k].cap = XMPP_ATTR_MAX;
        for (k = 0; k < T_COUNT; k++)
            d->txt[k].cap = XMPP_TEXT_MAX;
    }
    if (direct_tls) {
        c->tls = tls_conn_new(&c->cfg.tls, on_tls, c);
        if (c->tls == NULL)
            goto out_free_conn;
        if (c->cfg.decrypt != NULL && tls_decrypt_ctx_has_keys(c->cfg.decrypt))
            c->dec = tls_decrypt_new(c->cfg.decrypt, &c->mem, on_plaintext, on_decrypt_event, c);
        for (i = 0; i < 2; i++) {
            c->d[i].wire_tls = true;
            c->d[i].mode = c->dec != NULL ? DM_START : DM_TLS;
        }
    }
    return c;

out_free_conn:
    budget_free(c);
    return NULL;
}

void xmpp_conn_data(struct xmpp_conn *c, int dir, const uint8_t *data, size_t len,
                    const struct ft_meta *m)
{
    struct xdir *d;
    struct mem_budget *prev;

    if (c == NULL || (dir != 0 && dir != 1) || (data == NULL && len > 0))
        return;
    d = &c->d[dir];
    c->stats.bytes[dir] += len;
    if (d->eof || d->gapped) {
        c->stats.ignored_bytes += len;
        return;
    }
    c->meta = m;
    prev = expat_scope_enter(d);
    dir_process(d, data, len);
    expat_scope_leave(prev);
    c->meta = NULL;
}

void xmpp_conn_gap(struct xmpp_conn *c, int dir, uint64_t nbytes, const struct ft_meta *m)
{
    struct xdir *d;
    struct xmpp_event ev;
    struct mem_budget *prev;

    if (c == NULL || (dir != 0 && dir != 1))
        return;
    d = &c->d[dir];
    if (d->gapped || d->eof)
        return;
    d->gapped = true;
    c->meta = m;
    ev_init(d, &ev, XMPP_EV_GAP);
    ev.nbytes = nbytes;
    ev.in_tls = d->wire_tls;
    if (d->wire_tls && c->dec != NULL)
        tls_decrypt_gap(c->dec, dir);
    d->mode = DM_DONE;
    emit(d, &ev);
    prev = expat_scope_enter(d);
    dir_release(d);
    expat_scope_leave(prev);
    c->meta = NULL;
}

void xmpp_conn_eof(struct xmpp_conn *c, int dir, const struct ft_meta *m)
{
    struct xdir *d;
    struct xmpp_event ev;
    struct mem_budget *prev;

    if (c == NULL || (dir != 0 && dir != 1))
        return;
    d = &c->d[dir];
    if (d->eof)
        return;
    d->eof = true;
    c->meta = m;
    ev_init(d, &ev, XMPP_EV_EOF);
    ev.stream_closed = d->closed;
    ev.in_tls = d->wire_tls;
    if (d->wire_tls)
        tls_conn_eof(c->tls, dir, m);
    d->mode = DM_DONE;
    emit(d, &ev);
    prev = expat_scope_enter(d);
    dir_release(d);
    expat_scope_leave(prev);
    c->meta = NULL;
}

const struct xmpp_stats *xmpp_conn_stats(const struct xmpp_conn *c)
{
    return c != NULL ? &c->stats : NULL;
}

void xmpp_conn_idle(struct xmpp_conn *c)
{
    struct mem_budget *prev;

    if (c == NULL)
        return;
    for (int i = 0; i < 2; i++) {
        if (!dir_at_rest(&c->d[i]))
            continue;
        prev = expat_scope_enter(&c->d[i]);
        dir_park(&c->d[i]);
        expat_scope_leave(prev);
    }
}

void xmpp_conn_free(struct xmpp_conn *c)
{
    struct mem_budget *prev;
    int i;

    if (c == NULL)
        return;
    for (i = 0; i < 2; i++) {
        prev = expat_scope_enter(&c->d[i]);
        dir_release(&c->d[i]);
        expat_scope_leave(prev);
    }
    tls_conn_free(c->tls);
    tls_decrypt_free(c->dec);
    budget_free(c);
}

size_t xmpp_conn_state_bytes(const struct xmpp_conn *c)
{
    return c != NULL ? c->mem.used : 0;
}

bool xmpp_stanza_is_notable(const struct xmpp_event *ev)
{
    if (ev->type != XMPP_EV_STANZA)
        return false;
    if (ev->type_str && strcmp(ev->type_str, "error") == 0)
        return true;
    if (ev->stanza != XMPP_STANZA_PRESENCE)
        return false;
    switch (ev->presence) {
    case XMPP_PRES_SUBSCRIBE:
    case XMPP_PRES_SUBSCRIBED:
    case XMPP_PRES_UNSUBSCRIBE:
    case XMPP_PRES_UNSUBSCRIBED:
    case XMPP_PRES_ERROR:
        return true;
    default:
        return false;
    }
}
