/*
 * xmpp_int.h - what the XMPP dissector's files share (private to xmpp.c,
 * xmpp_xml.c, xmpp_stream.c and xmpp_tls.c; users include xmpp.h): the
 * per-direction and per-connection state, and the calls between the
 * layers.  All state is owned by the struct xmpp_conn it is in
 * (xmpp_conn_new/xmpp_conn_free); every allocation below it is charged to
 * the connection's budget.  Handlers run inside expat calls; functions
 * marked "from inside a handler" may only be called there.
 */
#ifndef FT_XMPP_INT_H
#define FT_XMPP_INT_H

#include "xmpp.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../analyzer/budget.h"
#include "xml_scan.h"

struct XML_ParserStruct; /* expat's parser, opaque outside xmpp_xml.c */

#define NS_SEP ' '           /* expat: "uri local prefix" */
#define MAX_DECLS 8          /* namespace declarations kept from a stream header */
#define PREFIX_MAX 63
#define SHRINK_ABOVE (64 * 1024) /* direction state that is freed after an element */
#define UNREAD_MIN 128           /* element content shorter than this is parsed even
                                    when unread: a bypass costs two more expat calls */
#define UNREAD_LEVEL 2           /* open elements (stream, top-level) around the
                                    elements whose content may bypass expat */

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
    DM_SKIP,  /* capture began inside a tag or at a non-stanza '<': skipping
                 to the next element start */
    DM_DONE,  /* closed, error, gap or eof: ignore bytes */
};

#define DECL_MAX 256 /* bytes of a mid-stream XML declaration skipped at most */
#define SKIP_MAX (64 * 1024) /* DM_SKIP: bytes of a tag's tail skipped at most */
#define SKIP_TOKEN_MAX 20    /* longest element start DM_SKIP matches, "</stream:stream>" */

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
    bool cut;    /* something was left out: later appends are refused too */
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

/* A parser of the pool (xmpp_pool.c), at rest inside the stream header
 * `key` after `consumed` bytes, or lent to one direction. */
struct xmpp_pooled {
    struct XML_ParserStruct *parser;
    struct mem_budget mem; /* the parser's allocations; parent: the pool's budget */
    uint64_t consumed;     /* bytes the parser has parsed (its byte index at rest) */
    char *key;             /* the synthetic header it rests in (stored after the struct) */
    size_t key_len;
    uint64_t hash;
};

struct xmpp_pooled *xmpp_pooled_new(struct xmpp_pool *p, const char *key, size_t len, uint64_t hash);
void xmpp_pooled_free(struct xmpp_pooled *pp);
struct xmpp_pooled *xmpp_pool_take(struct xmpp_pool *p, const char *key, size_t len, uint64_t hash);
void xmpp_pool_give(struct xmpp_pool *p, struct xmpp_pooled *pp);
uint64_t xmpp_pool_hash(const char *key, size_t len);

struct xdir {
    struct xmpp_conn *conn;
    int dir;
    struct mem_budget mem;  /* this direction's parser and strings; parent conn->mem */
    struct XML_ParserStruct *parser; /* expat's XML_Parser; xmpp_xml.c alone uses it */
    enum dmode mode;

    enum halt_kind halt;   /* set by a handler that stopped the parser */
    uint64_t halt_pos;     /* parser position where the unparsed bytes start */
    bool synthetic;        /* feeding a synthetic header: handlers stay quiet */

    uint64_t fed;          /* bytes of this parser run since its last reset: given
                              to expat, or scanned past it (hidden) */
    uint64_t hidden;       /* bytes of this run that bypassed expat (element
                              content nobody reads): position = expat index + hidden */
    struct xml_scan scan;  /* markup scanner beside expat, at position fed */
    bool unread;           /* inside element content that bypasses expat */
    bool cut_opened;       /* the last slice ended just after a level-2 start tag */
    uint64_t unread_ok_at; /* position after the level-2 start tag whose content
                              the state machine does not read (set by its handler) */
    uint64_t synth_len;    /* synthetic bytes at the start of this parser run */
    uint64_t real_base;    /* real direction offset of the first real byte of this run */
    uint64_t real;         /* real bytes consumed in this direction */
    uint64_t boundary;     /* parser position of the last top-level boundary */
    uint64_t last_event;   /* parser position after the last reported token */
    unsigned depth;        /* open elements */

    unsigned n_opens;      /* stream headers seen */
    unsigned decl_len;     /* DM_DECL: bytes of the declaration skipped so far */
    uint32_t skip_len;     /* DM_SKIP: bytes skipped so far */
    uint8_t skip_tok[SKIP_TOKEN_MAX]; /* DM_SKIP: the element start being matched */
    uint8_t skip_have;     /* bytes in skip_tok */
    bool skip_matched;     /* DM_SKIP handed an element start to the parser:
                              its first token is not skipped again */
    bool midstream;        /* picked up mid-stream: parsing inside an assumed header */
    uint8_t *replay;       /* HALT_MIDSTREAM: the bytes from the first element on */
    size_t replay_len;
    bool replay_skip;      /* the replay starts with a '<' no stanza starts at:
                              skipped (DM_SKIP), not parsed */
    bool closed, eof, gapped, in_tls_at_eof;
    bool wire_tls;         /* the bytes of this direction are TLS records now;
                              mode then is the state of the stream inside TLS
                              (DM_TLS: not readable) */
    bool in_plain;         /* parsing decrypted bytes: events are `decrypted` */
    bool parked;           /* idle between top-level elements: parser freed,
                              resync before the next bytes (xmpp_conn_idle) */
    struct xmpp_pooled *pp; /* the pool's parser this direction holds (parser ==
                              pp->parser), or NULL: its own */
    char *ctx_key;         /* the synthetic header of the root context (built on
                              demand, d->mem; NULL when the context changed) */
    size_t ctx_len;
    uint64_t ctx_hash;
    unsigned long line_at, col_at;   /* a lent parser's line and column when lent */
    unsigned long line_hdr, col_hdr; /* ... and a fresh one's after ctx_key */

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

/* ---- xmpp.c: events and the per-direction layers ---------------------- */

void xmpp_ev_init(struct xdir *d, struct xmpp_event *ev, enum xmpp_event_type type);
/* Hand ev to the connection's callback (ev is the caller's). */
void xmpp_emit(struct xdir *d, struct xmpp_event *ev);
/* Report an error at parser position pos; the direction stops (DM_DONE). */
void xmpp_emit_error(struct xdir *d, enum xmpp_error code, const char *msg, uint64_t pos);
/* The XML layer of d (wire bytes, or inside TLS the decrypted ones);
 * returns the bytes of p used (fewer when the wire turns to TLS). */
size_t xmpp_dir_layer(struct xdir *d, const uint8_t *p, size_t n);
/* Bytes of d's wire: the XML layer, then TLS. */
void xmpp_dir_process(struct xdir *d, const uint8_t *p, size_t n);

/* ---- xmpp_xml.c: the expat layer --------------------------------------- */

/* Make d's budget the one expat allocates from until the matching leave;
 * around every expat call (returns the budget to restore). */
struct mem_budget *xmpp_xml_scope_enter(struct xdir *d);
void xmpp_xml_scope_leave(struct mem_budget *prev);
/* A fresh (or reset) parser for d at stream level 0; false without memory. */
bool xmpp_xml_start(struct xdir *d);
/* Restart the parser inside the remembered stream header (d->root_qname,
 * d->decls) so the bytes that follow parse at level 1; reports an error
 * and returns false if it cannot. */
bool xmpp_xml_resync(struct xdir *d);
/* DM_XML: give up to one slice of p to expat; returns the bytes used. */
size_t xmpp_xml_step(struct xdir *d, const uint8_t *p, size_t n);
/* DM_DECL: skip a mid-stream "<?xml ...?>", then parse on. */
size_t xmpp_xml_decl_step(struct xdir *d, const uint8_t *p, size_t n);
/* Idle directions (xmpp_conn_idle): at rest means cleartext XML at level 1
 * between top-level elements with nothing waiting inside expat; parking
 * frees the parser and strings, and the next bytes resync first. */
bool xmpp_xml_at_rest(const struct xdir *d);
void xmpp_xml_park(struct xdir *d);
/* With a pool (cfg.pool): a direction at rest gives its parser back (its
 * strings stay) and takes a warm one when its next bytes arrive. */
void xmpp_xml_lend_back(struct xdir *d);
/* The root context changed: forget its synthetic header. */
void xmpp_xml_ctx_forget(struct xdir *d);
/* Free d's parser.  Never from inside a handler. */
void xmpp_xml_free(struct xdir *d);
/* Parser position of the current token / just after it. */
uint64_t xmpp_xml_pos(const struct xdir *d);
uint64_t xmpp_xml_token_end(const struct xdir *d);
/* Line and column of the parser position (left alone without a parser). */
void xmpp_xml_where(const struct xdir *d, unsigned long *line, unsigned long *column);
/* From inside a handler: stop the parser; the feeding loop acts on kind. */
void xmpp_xml_halt(struct xdir *d, enum halt_kind kind);
/* From inside a handler: the capture began mid-stream; keep the bytes from
 * the current token on (back bytes before expat's position) for a replay
 * inside an assumed header. */
void xmpp_xml_midstream_halt(struct xdir *d, int back);
/* The same when the current token cannot start a stanza (a child element
 * such as <body>): the kept bytes go through DM_SKIP to the next
 * top-level element start instead. */
void xmpp_xml_skip_halt(struct xdir *d, int back);

/* ---- xmpp_stream.c: the stream/stanza state machine -------------------- */

/* The handlers (from inside expat): names are "uri local prefix", atts
 * name/value pairs ending with NULL, text is not NUL-terminated. */
void xmpp_stream_ns_decl(struct xdir *d, const char *prefix, const char *uri);
void xmpp_stream_start(struct xdir *d, const char *name, const char **atts);
void xmpp_stream_end(struct xdir *d);
void xmpp_stream_text(struct xdir *d, const char *s, int len);
/* From inside a handler: report an error and stop this direction for good. */
void xmpp_halt_error(struct xdir *d, enum xmpp_error code, const char *msg);
/* Free n declarations of v (their blocks); *n becomes 0. */
void xmpp_decls_free(struct nsdecl *v, unsigned *n);
/* Forget the declarations gathered for the start tag just handled. */
void xmpp_pend_drop(struct xdir *d);
/* Free d's strings and declarations.  Never from inside a handler. */
void xmpp_stream_release(struct xdir *d);
/* The direction rests between top-level elements: free its string
 * buffers (their caps stay); the next element fills them again. */
void xmpp_stream_rest(struct xdir *d);

/* ---- xmpp_tls.c: the hand-off to TLS ----------------------------------- */

/* The wire of d turns to TLS (reader, decryptor with keys); false (and an
 * error event) when the reader cannot be had. */
bool xmpp_tls_start(struct xdir *d);
/* TLS records of d's wire. */
void xmpp_tls_wire_data(struct xdir *d, const uint8_t *p, size_t n);
/* d ends (eof, or a gap when gap): held records get a last chance first
 * (before d stops parsing); then decryption stops where it must. */
void xmpp_tls_dir_ends(struct xdir *d, bool gap);
/* A direct TLS connection: both directions TLS from the first byte;
 * false without memory. */
bool xmpp_tls_direct(struct xmpp_conn *c);

#endif
