/*
 * xmpp.h - XMPP stream dissector (RFC 6120/6121, XEP-0220, XEP-0178,
 * XEP-0368) for one TCP connection, on libexpat.
 *
 * One struct xmpp_conn per TCP connection holds both directions, each with
 * its own namespace-aware expat push parser.  The pipeline hands it the
 * in-order bytes of each direction in any chunking; the dissector reports
 * protocol facts (stream headers, features, STARTTLS, SASL, dialback,
 * stream errors, stanzas, TLS handshake metadata after <proceed/>) through
 * a callback.  It knows nothing about verdicts.
 *
 * Call order per connection:
 *   c = xmpp_conn_new(cfg, direct_tls, cb, user);
 *   any interleaving of xmpp_conn_data / xmpp_conn_gap / xmpp_conn_eof
 *   for dir = FT_DIR_ORIG / FT_DIR_RESP;
 *   xmpp_conn_free(c);
 * The callback runs synchronously inside those calls and must not call
 * back into the same xmpp_conn.
 *
 * Hostile input: DOCTYPE is rejected, billion-laughs protection is set,
 * element depth and the size of one top-level element are capped; an XML
 * error or a cap ends parsing of that direction only (XMPP_EV_ERROR), the
 * other direction carries on.  Attribute and text copies are bounded.
 *
 * Decryption: with cfg.decrypt, the TLS records after <proceed/> (or from
 * the first byte for direct TLS) go both to the tls.c reader (as without
 * keys) and to a tls_decrypt for the connection; the decrypted application
 * bytes of a direction are parsed as a new XML stream (a restart inside
 * TLS), and every event read from them has `decrypted` set.  When
 * decryption stops (XMPP_EV_DECRYPT_STOPPED), the stream inside TLS is
 * dropped and the connection carries on as without keys.
 *
 * Speed: the content of an element below a top-level one that nothing
 * here reads (a message body unless bodies are copied, a roster, a vCard,
 * a feature that is only counted) bypasses expat when it is long: a
 * markup scanner finds its end tag (xml_scan.h, xmpp_xml.c).  Events,
 * offsets and sizes are those of a full parse; only well-formedness
 * errors inside such content (entities, encoding, inner end-tag names)
 * go unreported.  cfg.parse_unread parses every byte.
 *
 * Memory: everything a connection holds is charged to cfg.budget (expat
 * allocates through counting functions); string buffers grow with what
 * they hold, a direction's parser is freed when it ends, fails or turns to
 * TLS, and one that grew past 64 KiB is replaced after the element that
 * needed it (stats.shrinks).
 */
#ifndef FT_XMPP_H
#define FT_XMPP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../analyzer/budget.h"
#include "../analyzer/meta.h"
#include "tls.h"
#include "tls_decrypt.h"

#define XMPP_ATTR_MAX 255  /* longest attribute value kept (bytes); longer is truncated */
#define XMPP_TEXT_MAX 1023 /* longest text kept (<text>, mechanisms list, body) */

struct xmpp_config {
    unsigned max_depth;           /* element nesting cap, root = 1 (default 64) */
    size_t max_stanza;            /* bytes of one top-level element incl. the stream
                                     header; also bytes buffered between elements
                                     (default 1 MiB) */
    size_t max_token;             /* bytes of one unfinished XML token (tag, comment...):
                                     bounds expat's re-parse work (default 64 KiB) */
    bool include_body;            /* copy <message><body> text (default false: privacy) */
    bool parse_unread;            /* give expat the content of elements the dissector
                                     does not read, too (default false: such content,
                                     e.g. a message body or a roster, is only scanned
                                     for its markup, see xmpp_xml.c; events are the
                                     same for well-formed input) */
    size_t max_body;              /* bytes of body kept, <= XMPP_TEXT_MAX (default 256) */
    float max_amplification;      /* expat billion-laughs factor (default 100.0) */
    unsigned long long amplification_threshold; /* expat activation bytes (default 8 MiB) */
    struct tls_config tls;        /* for the TLS reader after <proceed/> */
    struct tls_decrypt_ctx *decrypt; /* borrowed, may be NULL: with it (and a key
                                     log that holds anything), the TLS records
                                     of a connection are also decrypted and the
                                     plaintext parsed as the stream inside TLS */
    struct mem_budget *budget;    /* borrowed, may be NULL: every byte a connection
                                     holds (its struct, both expat parsers, string
                                     buffers, the TLS reader and decryptor) is charged
                                     to it; an allocation it refuses ends that
                                     direction's parsing with XMPP_ERR_NOMEM (the
                                     decryptor's: decryption stops) */
    struct xmpp_pool *pool;       /* borrowed, may be NULL: directions at rest
                                     between top-level elements give their parser
                                     back to it and take a warm one of the same
                                     stream context for their next bytes (events
                                     are the same; see xmpp_pool.c) */
};

/* Fill cfg with the defaults.  Borrows cfg. */
void xmpp_config_default(struct xmpp_config *cfg);

enum xmpp_event_type {
    XMPP_EV_STREAM_OPEN,   /* <stream:stream>: to from id version lang ns ... */
    XMPP_EV_FEATURES,      /* <stream:features>: starttls, mechanisms, dialback ... */
    XMPP_EV_STARTTLS,      /* <starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/> */
    XMPP_EV_PROCEED,       /* <proceed/> (tls ns); both directions then expect TLS */
    XMPP_EV_TLS_FAILURE,   /* <failure/> in the tls ns */
    XMPP_EV_SASL_AUTH,     /* <auth mechanism=...> */
    XMPP_EV_SASL_SUCCESS,  /* <success/> */
    XMPP_EV_SASL_FAILURE,  /* <failure> in the sasl ns: condition, text */
    XMPP_EV_DB_RESULT,     /* <db:result>: from to id db_type, error_type/condition/text */
    XMPP_EV_DB_VERIFY,     /* <db:verify>: same fields */
    XMPP_EV_STREAM_ERROR,  /* <stream:error>: condition, text, cond_text (see-other-host) */
    XMPP_EV_STREAM_CLOSE,  /* </stream:stream> */
    XMPP_EV_STANZA,        /* message / presence / iq: see stanza fields */
    XMPP_EV_OTHER,         /* any other top-level element: other_ns, other_name */
    XMPP_EV_CLEARTEXT_AFTER_STARTTLS, /* XML, not TLS, followed <starttls/> or <proceed/> */
    XMPP_EV_TLS,           /* TLS handshake fact: see ev->tls */
    XMPP_EV_GAP,           /* bytes missing: this direction is no longer parsed */
    XMPP_EV_ERROR,         /* XML error or cap: this direction is no longer parsed */
    XMPP_EV_EOF,           /* xmpp_conn_eof: stream_closed, in_tls */
    XMPP_EV_DECRYPT_STOPPED, /* decryption of this connection stopped (wrong or
                                missing key, unsupported suite, damaged record):
                                decrypt_reason; the stream inside TLS is no longer
                                parsed, the TLS reader carries on */
};

enum xmpp_error {
    XMPP_ERR_NONE = 0,
    XMPP_ERR_XML,          /* expat error; error_msg is expat's text */
    XMPP_ERR_DOCTYPE,      /* DOCTYPE declaration: forbidden in XMPP (RFC 6120 11.1) */
    XMPP_ERR_DEPTH,        /* element depth above max_depth */
    XMPP_ERR_STANZA_SIZE,  /* one top-level element above max_stanza */
    XMPP_ERR_TOKEN_SIZE,   /* one XML token above max_token */
    XMPP_ERR_NOT_STREAM,   /* root element is not a stream header */
    XMPP_ERR_TLS_IN_XML,   /* a TLS record where the XML stream was expected */
    XMPP_ERR_NOMEM,        /* allocation failed, or the state budget refused it */
};

enum xmpp_stanza_kind {
    XMPP_STANZA_MESSAGE,
    XMPP_STANZA_PRESENCE,
    XMPP_STANZA_IQ,
};

/* Presence type attribute (RFC 6121 4.7.1, 3). */
enum xmpp_presence_type {
    XMPP_PRES_AVAILABLE = 0, /* no type attribute */
    XMPP_PRES_UNAVAILABLE,
    XMPP_PRES_SUBSCRIBE,
    XMPP_PRES_SUBSCRIBED,
    XMPP_PRES_UNSUBSCRIBE,
    XMPP_PRES_UNSUBSCRIBED,
    XMPP_PRES_PROBE,
    XMPP_PRES_ERROR,
    XMPP_PRES_OTHER,         /* unknown value, see type */
};

/* Dialback type attribute (XEP-0220). */
enum xmpp_db_type {
    XMPP_DB_NONE = 0,        /* no type: a request */
    XMPP_DB_VALID,
    XMPP_DB_INVALID,
    XMPP_DB_ERROR,
    XMPP_DB_OTHER,
};

/*
 * One event.  Valid only during the callback: every string points into
 * buffers owned by the xmpp_conn; copy what you keep.  A NULL string means
 * "absent" (an empty attribute is ""); fields not listed for a type are
 * zero / NULL.  Strings are UTF-8, NUL-terminated, at most XMPP_ATTR_MAX or
 * XMPP_TEXT_MAX bytes (`truncated` tells).
 */
struct xmpp_event {
    enum xmpp_event_type type;
    struct ft_meta meta;        /* segment that completed the event (meta.dir = dir) */
    uint8_t dir;                /* enum ft_dir */
    bool truncated;             /* some string below was cut at its cap */

    /* STREAM_OPEN, DB_*, STANZA: addressing */
    const char *from, *to, *id;
    const char *type_str;       /* DB_*, STANZA: raw type attribute */

    /* STREAM_OPEN */
    const char *version;
    const char *lang;           /* xml:lang */
    const char *stream_ns;      /* namespace of the root element ("" if none) */
    const char *content_ns;     /* default namespace: jabber:server / jabber:client / "" */
    bool stream_ns_ok;          /* root is {http://etherx.jabber.org/streams}stream */
    bool db_ns;                 /* a prefix is bound to jabber:server:dialback */
    bool restart;               /* not the first stream header in this direction */

    /* FEATURES */
    bool starttls, starttls_required;
    const char *mechanisms;     /* SASL mechanisms, space separated, NULL if no <mechanisms> */
    unsigned n_mechanisms;
    bool sasl_external;         /* EXTERNAL among them */
    bool dialback, dialback_errors, bidi, sm;
    unsigned n_other_features;

    /* SASL_AUTH */
    const char *mechanism;

    /* SASL_FAILURE, STREAM_ERROR, DB_* (type=error), STANZA (type=error) */
    const char *condition;      /* defined-condition element name */
    const char *text;           /* <text> content */
    const char *cond_text;      /* STREAM_ERROR: text inside the condition (see-other-host) */
    const char *error_type;     /* DB_*, STANZA: <error type=...> (cancel, wait, ...) */
    const char *error_by;       /* STANZA: <error by=...> */

    /* DB_* */
    enum xmpp_db_type db_type;
    size_t db_key_len;          /* length of the key text (the key itself is not copied) */

    /* STANZA */
    enum xmpp_stanza_kind stanza;
    enum xmpp_presence_type presence;  /* for presence */
    const char *child_ns, *child_name; /* first child element other than <error> (iq payload) */
    const char *body;           /* message body, only with cfg.include_body */
    uint64_t size;              /* bytes of the top-level element */

    /* OTHER */
    const char *other_ns, *other_name;

    /* GAP */
    uint64_t nbytes;

    /* ERROR */
    enum xmpp_error error;
    const char *error_msg;      /* static text, or expat's error string */
    uint64_t offset;            /* byte offset in this direction's stream (since the
                                   last parser start) */
    unsigned long line, column; /* expat position for XMPP_ERR_XML */

    /* EOF */
    bool stream_closed;         /* </stream:stream> had been seen */
    bool in_tls;                /* the direction was in TLS */

    /* TLS */
    const struct tls_event *tls;

    /* every type: the event was read from decrypted TLS application data */
    bool decrypted;

    /* DECRYPT_STOPPED */
    const char *decrypt_reason; /* static text, never key material */
};

typedef void (*xmpp_event_cb)(const struct xmpp_event *ev, void *user);

/* Counters for one connection (both directions). */
struct xmpp_stats {
    uint64_t bytes[2];          /* bytes given to xmpp_conn_data per direction */
    uint64_t events;
    uint64_t stanzas;
    uint64_t restarts;
    uint64_t xml_errors;
    uint64_t depth_caps;
    uint64_t size_caps;
    uint64_t truncations;       /* strings cut at their cap */
    uint64_t ignored_bytes;     /* bytes after close / error / gap */
    uint64_t shrinks;           /* parser replaced by a fresh one after a large
                                   element, to give its buffer back */
    uint64_t decrypted_bytes[2]; /* plaintext bytes parsed from inside TLS */
    uint64_t midstream_resyncs; /* directions picked up mid-stream: parsed on from
                                   their first stanza inside an assumed header */
    uint64_t midtag_skipped;    /* bytes skipped by directions picked up inside a
                                   tag or at a '<' no stanza starts at (an end
                                   tag, <body>), up to their first element start */
    uint64_t parks;             /* idle directions whose parser was freed between
                                   top-level elements (xmpp_conn_idle) */
    uint64_t unread_bytes;      /* element content that bypassed expat */
};

struct xmpp_conn;

/* Parsers shared by the connections of one analysis (xmpp_pool.c).  The
 * caller owns the pool, hands it to xmpp_conn_new() through cfg.pool and
 * frees it after the last connection.  Parser memory is charged to
 * budget (borrowed, may be NULL).  NULL on allocation failure. */
struct xmpp_pool;
struct xmpp_pool_stats {
    uint64_t lent;    /* parsers lent to a direction at rest */
    uint64_t created; /* parsers created for a context none was idle for */
    uint64_t freed;   /* parsers given back but not kept (grown, full, failed) */
};
struct xmpp_pool *xmpp_pool_new(struct mem_budget *budget);
void xmpp_pool_free(struct xmpp_pool *pool);
const struct xmpp_pool_stats *xmpp_pool_stats(const struct xmpp_pool *pool);

/*
 * Create the state for one TCP connection.  cfg may be NULL for defaults;
 * it is copied.  direct_tls: XEP-0368 connection (5223/5270), both
 * directions start in TLS.  cb/user: see xmpp_event_cb; user is never
 * touched.  Returns NULL on allocation failure.  Free with xmpp_conn_free().
 */
struct xmpp_conn *xmpp_conn_new(const struct xmpp_config *cfg, bool direct_tls,
                                xmpp_event_cb cb, void *user);

/*
 * In-order bytes of direction dir (enum ft_dir), any chunking.  Borrows
 * data and m for the call only; every event it triggers carries *m (with
 * meta.dir set to dir).
 */
void xmpp_conn_data(struct xmpp_conn *c, int dir, const uint8_t *data, size_t len,
                    const struct ft_meta *m);

/* nbytes of direction dir are missing: XMPP_EV_GAP once, then that direction is ignored. */
void xmpp_conn_gap(struct xmpp_conn *c, int dir, uint64_t nbytes, const struct ft_meta *m);

/* Direction dir ended (FIN/RST/end of capture): XMPP_EV_EOF once; later bytes are ignored. */
void xmpp_conn_eof(struct xmpp_conn *c, int dir, const struct ft_meta *m);

/* Counters so far.  Borrowed pointer, valid until xmpp_conn_free(). */
const struct xmpp_stats *xmpp_conn_stats(const struct xmpp_conn *c);

/* The connection has been quiet for a while: each direction resting
 * between top-level elements gives its parser and string buffers back
 * (about 12 KiB each); the next bytes of that direction parse in a fresh
 * parser primed with the stream header, exactly as after a large element
 * (stats.shrinks), so no event changes.  A direction inside an element,
 * holding unparsed bytes, or not parsing cleartext XML keeps its state.
 * Never from inside the callback.  c may be NULL. */
void xmpp_conn_idle(struct xmpp_conn *c);

/* Free the connection and both parsers; c may be NULL. */
void xmpp_conn_free(struct xmpp_conn *c);

/* Heap bytes the connection holds now beyond its own struct (parsers,
 * buffers, TLS reader); 0 for NULL. */
size_t xmpp_conn_state_bytes(const struct xmpp_conn *c);

/* Static names for logging/tests. */
/* True for the stanzas a federation story needs one by one: presence
 * subscription requests and answers, and anything of type 'error'.  Other
 * stanzas (chat, availability, iq results) are worth counting, not listing. */
bool xmpp_stanza_is_notable(const struct xmpp_event *ev);

const char *xmpp_event_type_name(enum xmpp_event_type t);
const char *xmpp_error_name(enum xmpp_error e);
const char *xmpp_presence_type_name(enum xmpp_presence_type p);
const char *xmpp_db_type_name(enum xmpp_db_type t);

#endif
