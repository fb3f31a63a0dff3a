/*
 * xmpp_xml.c - the XMPP dissector's expat layer (the only file that
 * includes expat.h): each direction's namespace-aware push parser
 * (separator ' ', prefixes returned as triplets), its memory charged to
 * the direction's budget, the hostile-input limits (no DOCTYPE, no
 * parameter entities, billion-laughs protection, depth/size/token caps),
 * and the feeding of in-order bytes, sliced to at most FEED_SLICE bytes
 * per XML_Parse call.  What the elements mean is xmpp_stream.c's job: the
 * handlers here only hand them over.
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
 *   - end of <proceed/> (responder) / <starttls/> (originator): halt, and
 *     xmpp.c sniffs the next non-blank byte (XML carries on, or TLS);
 *   - a large element ended: a fresh, small parser (stats.shrinks);
 *   - the first element is a stanza: the capture began mid-stream, and the
 *     bytes are parsed again inside an assumed s2s header;
 *   - errors and caps halt for good.
 *
 * With a parser pool (cfg.pool, xmpp_pool.c) a direction at rest after
 * its bytes gives its parser back, and its next bytes are parsed in a
 * warm parser resting in the same synthetic header (unpark): fed and
 * synth_len start at what that parser consumed, and xmpp_xml_where()
 * shifts line and column, so positions are those of a resync.
 */
#include "xmpp_int.h"

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
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "../analyzer/budget.h"

#define FEED_SLICE 65536 /* bytes per XML_Parse call */

/* The state machine takes names, attributes and text as plain char. */
_Static_assert(sizeof(XML_Char) == 1, "expat built with XML_UNICODE");

/* ---- expat's memory ----------------------------------------------------- */

/*
 * expat allocates through a memory suite whose functions take no context,
 * so the budget of the connection whose expat call is in progress is
 * handed over here: set by xmpp_xml_scope_enter() at every public entry
 * point of the dissector, restored on the way out.  Thread-local, and
 * nothing else in the dissector lives outside a struct xmpp_conn.  realloc
 * and free find their budget in the block itself.
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

struct mem_budget *xmpp_xml_scope_enter(struct xdir *d)
{
    struct mem_budget *prev = expat_budget;

    expat_budget = d->pp != NULL ? &d->pp->mem : &d->mem;
    return prev;
}

void xmpp_xml_scope_leave(struct mem_budget *prev)
{
    expat_budget = prev;
}

/* ---- positions and halting ---------------------------------------------- */

uint64_t xmpp_xml_pos(const struct xdir *d)
{
    XML_Index i = XML_GetCurrentByteIndex(d->parser);

    return i < 0 ? d->fed : (uint64_t)i + d->hidden;
}

/* From inside a handler: stop the parser; the feeding loop acts on `kind`. */
void xmpp_xml_halt(struct xdir *d, enum halt_kind kind)
{
    if (d->halt != HALT_NONE)
        return;
    d->halt = kind;
    d->halt_pos = xmpp_xml_token_end(d);
    XML_StopParser(d->parser, XML_FALSE);
}

/* Parser position just after the token being handled. */
uint64_t xmpp_xml_token_end(const struct xdir *d)
{
    return xmpp_xml_pos(d) + (uint64_t)XML_GetCurrentByteCount(d->parser);
}

/* Line and column of the parser's current position (after an XML error). */
void xmpp_xml_where(const struct xdir *d, unsigned long *line, unsigned long *column)
{
    if (d->parser == NULL)
        return;
    *line = (unsigned long)XML_GetCurrentLineNumber(d->parser);
    *column = (unsigned long)XML_GetCurrentColumnNumber(d->parser);
    if (d->pp != NULL && d->line_at != 0) {
        /* a lent parser: as if a fresh one had parsed the header alone */
        if (*line == d->line_at)
            *column = *column - d->col_at + d->col_hdr;
        *line = *line - d->line_at + d->line_hdr;
    }
}

/* Free the direction's parser (never from inside a handler). */
void xmpp_xml_free(struct xdir *d)
{
    if (d->pp != NULL)
        xmpp_pooled_free(d->pp); /* frees d->parser */
    else if (d->parser != NULL)
        XML_ParserFree(d->parser);
    d->pp = NULL;
    d->parser = NULL;
    expat_budget = &d->mem;
}

void xmpp_xml_ctx_forget(struct xdir *d)
{
    budget_free(d->ctx_key);
    d->ctx_key = NULL;
    d->ctx_len = 0;
}

/* The capture began inside a stream: keep the bytes from the current
 * token on (expat still holds them, however they were chunked) to be
 * parsed again inside an assumed stream header. */
void xmpp_xml_midstream_halt(struct xdir *d, int back)
{
    int off = 0, size = 0;
    const char *ctx = XML_GetInputContext(d->parser, &off, &size);

    if (ctx != NULL)
        off -= off >= back ? back : 0; /* from the '<' of the token */
    if (ctx == NULL || off < 0 || size < off || (size_t)(size - off) > d->conn->cfg.max_stanza) {
        xmpp_halt_error(d, XMPP_ERR_NOT_STREAM, "root element is not a stream header");
        return;
    }
    d->replay = budget_malloc(&d->mem, (size_t)(size - off) + 1);
    if (d->replay == NULL) {
        xmpp_halt_error(d, XMPP_ERR_NOMEM, "no memory to resynchronise a mid-stream capture");
        return;
    }
    memcpy(d->replay, ctx + off, (size_t)(size - off));
    d->replay_len = (size_t)(size - off);
    d->halt = HALT_MIDSTREAM;
    d->halt_pos = d->fed; /* everything given so far is in the replay */
    XML_StopParser(d->parser, XML_FALSE);
}

void xmpp_xml_skip_halt(struct xdir *d, int back)
{
    xmpp_xml_midstream_halt(d, back);
    if (d->halt == HALT_MIDSTREAM)
        d->replay_skip = true;
}

/* ---- handlers: hand each token to the state machine --------------------- */

static void XMLCALL on_ns_start(void *ud, const XML_Char *prefix, const XML_Char *uri)
{
    xmpp_stream_ns_decl(ud, prefix, uri);
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
    xmpp_halt_error(d, XMPP_ERR_DOCTYPE, "DOCTYPE declaration (forbidden in XMPP)");
}

static void XMLCALL on_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
    xmpp_stream_start(ud, name, atts);
}

static void XMLCALL on_end(void *ud, const XML_Char *name)
{
    (void)name;
    xmpp_stream_end(ud);
}

static void XMLCALL on_text(void *ud, const XML_Char *s, int len)
{
    xmpp_stream_text(ud, s, len);
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

/* A parser run begins: the parser has consumed `consumed` bytes that are
 * not the direction's (0, or what a lent parser parsed before) and stands
 * at `depth` (0, or 1 inside a header). */
static void run_begin(struct xdir *d, uint64_t consumed, unsigned depth)
{
    d->fed = consumed;
    d->hidden = 0;
    d->unread = false;
    d->cut_opened = false;
    d->unread_ok_at = UINT64_MAX;
    xml_scan_reset(&d->scan, depth, consumed);
    d->synth_len = consumed;
    d->real_base = d->real;
    d->boundary = consumed;
    d->last_event = consumed;
    d->depth = depth;
    d->halt = HALT_NONE;
    d->top = TK_NONE;
    d->tgt = NULL;
    xmpp_pend_drop(d);
}

bool xmpp_xml_start(struct xdir *d)
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
    run_begin(d, 0, 0);
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
/* d's synthetic header (root qname and namespace declarations), built
 * once per root context; false without memory. */
static bool ctx_key(struct xdir *d)
{
    size_t cap = sizeof(d->root_qname) + 8 + MAX_DECLS * (PREFIX_MAX + 10 + 6 * XMPP_ATTR_MAX);
    size_t len = 0;
    char *buf;

    if (d->ctx_key != NULL)
        return true;
    buf = budget_malloc(&d->mem, cap);
    if (buf == NULL)
        return false;
    buf[0] = '\0';
    len = put(buf, len, cap, "<", false);
    len = put(buf, len, cap, d->root_qname, false);
    for (unsigned i = 0; i < d->n_decls; i++) {
        len = put(buf, len, cap, d->decls[i].has_prefix ? " xmlns:" : " xmlns", false);
        len = put(buf, len, cap, d->decls[i].prefix, false);
        len = put(buf, len, cap, "='", false);
        len = put(buf, len, cap, d->decls[i].uri, true);
        len = put(buf, len, cap, "'", false);
    }
    len = put(buf, len, cap, ">", false);
    d->ctx_key = budget_realloc(buf, len + 1);
    if (d->ctx_key == NULL)
        d->ctx_key = buf;
    d->ctx_len = len;
    d->ctx_hash = xmpp_pool_hash(d->ctx_key, len);
    /* where a fresh parser stands after it (XML_GetCurrentLineNumber is
     * 1-based, the column 0-based) */
    d->line_hdr = 1;
    d->col_hdr = 0;
    for (size_t i = 0; i < len; i++) {
        if (d->ctx_key[i] == '\n') {
            d->line_hdr++;
            d->col_hdr = 0;
        } else {
            d->col_hdr++;
        }
    }
    return true;
}

/*
 * Restart the parser inside the remembered stream header: reset, then feed
 * "<qname xmlns:p='uri' ...>" with events suppressed, so the bytes that
 * follow parse at level 1.
 */
bool xmpp_xml_resync(struct xdir *d)
{
    enum XML_Status st;
    bool ok = false;
    enum xmpp_error err = XMPP_ERR_NOMEM;
    size_t len;

    if (!ctx_key(d))
        goto out;
    if (!xmpp_xml_start(d))
        goto out;
    err = XMPP_ERR_XML;
    len = d->ctx_len;
    d->synthetic = true;
    d->fed = len;
    d->synth_len = len;
    d->line_at = 0;
    st = XML_Parse(d->parser, d->ctx_key, (int)len, XML_FALSE);
    d->synthetic = false;
    d->boundary = d->fed;
    d->last_event = d->fed;
    xml_scan_reset(&d->scan, d->depth, d->fed);
    ok = st == XML_STATUS_OK && d->depth == 1;
out:
    if (!ok)
        xmpp_emit_error(d, err, "cannot restart the XML parser", d->fed);
    return ok;
}

/* A parked direction's next bytes: a warm parser of the pool resting in
 * the same header, as if this direction had just resynchronised (fed
 * starts at what the parser consumed, counted as synthetic; line and
 * column are shifted in xmpp_xml_where), or a new one for the pool. */
static bool unpark(struct xdir *d)
{
    struct xmpp_pool *pool = d->conn->cfg.pool;
    struct xmpp_pooled *pp;

    if (pool == NULL || !ctx_key(d))
        return xmpp_xml_resync(d);
    pp = xmpp_pool_take(pool, d->ctx_key, d->ctx_len, d->ctx_hash);
    if (pp == NULL) {
        pp = xmpp_pooled_new(pool, d->ctx_key, d->ctx_len, d->ctx_hash);
        if (pp == NULL)
            return xmpp_xml_resync(d);
        xmpp_xml_free(d);
        d->pp = pp;
        expat_budget = &pp->mem;
        if (!xmpp_xml_resync(d))
            return false; /* reported; xmpp_xml_free() frees pp */
        pp->parser = d->parser;
        return true;
    }
    xmpp_xml_free(d);
    d->pp = pp;
    d->parser = pp->parser;
    expat_budget = &pp->mem;
    parser_setup(d);
    run_begin(d, pp->consumed, 1); /* as a resync leaves it */
    d->line_at = (unsigned long)XML_GetCurrentLineNumber(pp->parser);
    d->col_at = (unsigned long)XML_GetCurrentColumnNumber(pp->parser);
    return true;
}

void xmpp_xml_lend_back(struct xdir *d)
{
    struct xmpp_pool *pool = d->conn->cfg.pool;

    if (pool == NULL || !xmpp_xml_at_rest(d))
        return;
    if (d->pp != NULL && ctx_key(d) && d->pp->key_len == d->ctx_len &&
        memcmp(d->pp->key, d->ctx_key, d->ctx_len) == 0) {
        struct xmpp_pooled *pp = d->pp;

        pp->consumed = d->fed - d->hidden;
        d->pp = NULL;
        d->parser = NULL;
        expat_budget = &d->mem;
        xmpp_pool_give(pool, pp);
    } else {
        xmpp_xml_free(d); /* its own parser: the pool's from now on */
    }
    d->parked = true;
}

/* An assumed s2s stream header: what the stanzas of a stream picked up
 * mid-stream are parsed inside (jabber:server, the dialback prefix bound). */
static bool midstream_root(struct xdir *d)
{
    static const struct {
        const char *prefix, *uri;
    } decl[] = { { "stream", NS_STREAMS }, { NULL, NS_SERVER }, { "db", NS_DIALBACK } };

    xmpp_decls_free(d->decls, &d->n_decls);
    xmpp_xml_ctx_forget(d);
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
        xmpp_emit_error(d, XMPP_ERR_NOMEM, "no memory to resynchronise a mid-stream capture", d->fed);
        return;
    }
    if (!xmpp_xml_resync(d)) {
        budget_free(buf);
        return;
    }
    d->real -= len < d->real ? len : d->real; /* counted once already */
    xmpp_dir_process(d, buf, len);
    budget_free(buf);
}

/* The first token of a capture picked up mid-stream cannot start a
 * stanza (an end tag, a child element, a prefix no header bound): skip
 * from its '<' to the next top-level element start (DM_SKIP, counted in
 * midtag_skipped), where parsing resynchronises.  The element start DM_SKIP
 * hands back (skip_matched) is parsed, never skipped again. */
static void skip_resume(struct xdir *d)
{
    uint8_t *buf = d->replay;
    size_t len = d->replay_len;

    d->replay = NULL;
    d->replay_len = 0;
    d->replay_skip = false;
    d->mode = DM_SKIP;
    d->skip_have = 0;
    d->real -= len < d->real ? len : d->real; /* counted once already */
    xmpp_dir_process(d, buf, len);
    budget_free(buf);
}

/* The bytes kept by a mid-stream halt: parsed inside the assumed header,
 * or skipped to the next element start. */
static void replay_resume(struct xdir *d)
{
    if (d->replay_skip)
        skip_resume(d);
    else
        midstream_resume(d);
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
bool xmpp_xml_at_rest(const struct xdir *d)
{
    return d->mode == DM_XML && d->parser != NULL && !d->parked && !d->wire_tls && !d->in_plain &&
           d->halt == HALT_NONE && !d->synthetic && !d->unread && d->depth == 1 && d->top == TK_NONE &&
           d->tgt == NULL && d->last_event == d->fed && d->replay == NULL && d->n_pend == 0;
}

/* Free what a resync and the next element rebuild: the parser and the
 * string buffers.  The root context (root_qname, decls) and every offset
 * stay.  Inside the direction's budget scope. */
void xmpp_xml_park(struct xdir *d)
{
    xmpp_xml_free(d);
    xmpp_stream_rest(d);
    d->parked = true;
    d->conn->stats.parks++;
}

/* ---- content nobody reads ----------------------------------------------
 *
 * The state machine reads nothing below a level-2 element it has not
 * marked (a message <body>, a roster <query>, a vCard, a feature it only
 * counts): xmpp_stream_start() sets unread_ok_at after such a start tag.
 * The markup scanner (xml_scan.c) runs beside expat over every byte of
 * the run; a slice given to expat ends just after a level-2 start tag
 * whose content does not close within UNREAD_MIN bytes.  If its handler
 * then said the content is not read, the scanner alone walks the content
 * (memchr from '<' to '<', quotes, CDATA, comments and PIs, nested
 * elements of any name) to the '<' of the element's end tag, which goes
 * to expat again: expat sees "<body>" then "</body>", its element and
 * namespace stacks as they would have been.  Positions stay those of the
 * wire: fed counts every byte and hidden the bypassed ones, so
 * xmpp_xml_pos() is expat's index + hidden; the chunk an event is raised
 * in, its offset and the size of every element are unchanged.
 *
 * The depth, element-size and token-size caps hold inside a bypass as in
 * expat (same errors, same offsets).  What a bypass does not check is the
 * rest of the content's well-formedness (entity references, encoding,
 * names, inner end-tag names): such an error inside unread content is no
 * longer reported there (the peer answers a stream that is not
 * well-formed with a <not-well-formed/> stream error, which is).  Markup
 * the scanner does not know inside a bypass ('<' or "<!" followed by no
 * tag, comment or CDATA section) is reported as expat reports it: "not
 * well-formed (invalid token)" at the byte after the '<'.
 * cfg.parse_unread gives expat every byte as before.
 */

/* How much of p[0..n) expat gets next: all of it, or up to just after a
 * level-2 start tag whose content is long (cut_opened). */
static size_t feed_cut(struct xdir *d, const uint8_t *p, size_t n)
{
    size_t off = 0;

    d->cut_opened = false;
    if (d->conn->cfg.parse_unread || d->scan.lost)
        return n;
    for (;;) {
        enum xml_scan_stop stop, peek_stop;
        struct xml_scan peek;
        size_t look;

        off += xml_scan_run(&d->scan, p + off, n - off, UNREAD_LEVEL, XS_STOP_OPENED,
                            d->conn->cfg.max_depth, &stop);
        if (stop == XSS_TOO_DEEP) /* expat reports it; nothing to bypass after */
            d->scan.lost = true;
        if (stop != XSS_OPENED)
            return n;
        /* short content: cheaper parsed than bypassed */
        peek = d->scan;
        look = n - off < UNREAD_MIN ? n - off : UNREAD_MIN;
        xml_scan_run(&peek, p + off, look, UNREAD_LEVEL, XS_STOP_CLOSING, UINT_MAX, &peek_stop);
        if (peek_stop != XSS_CLOSING) {
            d->cut_opened = true;
            return off;
        }
    }
}

/* Inside content nobody reads: scan (not parse) up to its end tag. */
static size_t unread_step(struct xdir *d, const uint8_t *p, size_t n)
{
    struct xmpp_conn *c = d->conn;
    uint64_t from = d->fed;
    enum xml_scan_stop stop;
    size_t k = xml_scan_run(&d->scan, p, n, UNREAD_LEVEL, XS_STOP_CLOSING, c->cfg.max_depth, &stop);

    if (stop == XSS_LOST)
        k = n; /* like an expat error: the slice is consumed */
    d->fed += k;
    d->hidden += k;
    d->real += k;
    c->stats.unread_bytes += k;
    /* expat hands text over as it comes, markup once complete */
    d->last_event = xml_scan_in_text(&d->scan) ? d->fed : d->scan.tok_end;
    switch (stop) {
    case XSS_CLOSING:
        d->unread = false;
        if (d->scan.tag_pos < from) {
            /* the end tag's '<' ended the previous chunk and bypassed
             * expat: give it now (a partial token, nothing is reported) */
            d->hidden--;
            c->stats.unread_bytes--;
            if (XML_Parse(d->parser, "<", 1, XML_FALSE) == XML_STATUS_ERROR) {
                xmpp_emit_error(d, XMPP_ERR_XML, XML_ErrorString(XML_GetErrorCode(d->parser)), d->fed);
                return k;
            }
        }
        break;
    case XSS_TOO_DEEP:
        xmpp_emit_error(d, XMPP_ERR_DEPTH, "element nesting deeper than the cap", d->scan.tag_pos);
        return k;
    case XSS_LOST:
        xmpp_emit_error(d, XMPP_ERR_XML, XML_ErrorString(XML_ERROR_INVALID_TOKEN), d->scan.pos);
        return k;
    default:
        break;
    }
    if (d->fed - d->boundary > c->cfg.max_stanza)
        xmpp_emit_error(d, XMPP_ERR_STANZA_SIZE, "top-level element larger than the cap", d->boundary);
    else if (d->fed - d->last_event > c->cfg.max_token)
        xmpp_emit_error(d, XMPP_ERR_TOKEN_SIZE, "XML token larger than the cap", d->last_event);
    return k;
}

/* Give up to one slice to expat (or past it, content nobody reads);
 * returns the bytes of p that were used. */
size_t xmpp_xml_step(struct xdir *d, const uint8_t *p, size_t n)
{
    struct xmpp_conn *c = d->conn;
    size_t part = n < FEED_SLICE ? n : FEED_SLICE;
    uint64_t base;
    size_t used;
    enum XML_Status st;

    if (d->parked) {
        /* bytes for a parked direction: a fresh parser inside the header */
        d->parked = false;
        if (!unpark(d))
            return 0; /* the resync reported the error and ended the direction */
    }
    if (d->unread)
        return unread_step(d, p, part);
    part = feed_cut(d, p, part);
    base = d->fed;
    d->halt = HALT_NONE;
    d->fed += part;
    st = XML_Parse(d->parser, (const char *)p, (int)part, XML_FALSE);
    if (st != XML_STATUS_ERROR) {
        d->real += part;
        if (d->fed - d->boundary > c->cfg.max_stanza)
            xmpp_emit_error(d, XMPP_ERR_STANZA_SIZE, "top-level element larger than the cap", d->boundary);
        else if (d->fed - d->last_event > c->cfg.max_token)
            xmpp_emit_error(d, XMPP_ERR_TOKEN_SIZE, "XML token larger than the cap", d->last_event);
        else if (d->cut_opened && d->unread_ok_at == d->fed)
            d->unread = true; /* the start tag that ends the slice opens unread content */
        return part;
    }
    if (d->halt == HALT_NONE) {
        enum XML_Error code = XML_GetErrorCode(d->parser);
        XML_Index at = XML_GetCurrentByteIndex(d->parser);

        if (at >= 0)
            at += (XML_Index)d->hidden;

        /* A restarted stream may open with an XML declaration (ejabberd
         * after SASL <success/>): legal at the start of a stream, which a
         * restart is, but misplaced for a parser already inside one.
         * Skip it and carry on at level 1. */
        /* "<db:result" with no header to bind the prefix: mid-stream too */
        /* an end tag first ("</message>"): skipped to the next element
         * start, unless DM_SKIP just matched it ("</stream:stream>") */
        if ((code == XML_ERROR_UNBOUND_PREFIX || at_end_tag(d)) && d->depth == 0 && d->n_opens == 0 &&
            !d->midstream) {
            int back = code == XML_ERROR_UNBOUND_PREFIX ? 0 : 1;

            d->real += part;
            if (d->skip_matched)
                xmpp_xml_midstream_halt(d, back);
            else
                xmpp_xml_skip_halt(d, back);
            if (d->halt == HALT_MIDSTREAM) {
                d->halt = HALT_NONE;
                replay_resume(d);
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
            xmpp_emit_error(d, XMPP_ERR_NOMEM, "dissector state budget spent", xmpp_xml_pos(d));
        else
            xmpp_emit_error(d, XMPP_ERR_XML, XML_ErrorString(code), xmpp_xml_pos(d));
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
        xmpp_xml_resync(d);
        break;
    case HALT_SHRINK:
        xmpp_xml_free(d);
        c->stats.shrinks++;
        xmpp_xml_resync(d);
        break;
    case HALT_SNIFF:
        d->mode = DM_SNIFF;
        break;
    case HALT_MIDSTREAM:
        d->halt = HALT_NONE;
        d->real += part - used;
        replay_resume(d);
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
size_t xmpp_xml_decl_step(struct xdir *d, const uint8_t *p, size_t n)
{
    /* no '>' can occur inside an XML declaration but the closing "?>" */
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '>') {
            d->real += i + 1;
            if (xmpp_xml_resync(d))
                d->mode = DM_XML;
            return i + 1;
        }
        if (++d->decl_len > DECL_MAX) {
            d->real += i;
            xmpp_emit_error(d, XMPP_ERR_XML, "XML declaration inside the stream is too long", d->fed);
            return i;
        }
    }
    d->real += n;
    return n;
}

