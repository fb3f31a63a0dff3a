/*
 * xmpp_stream.c - the XMPP stream and stanza state machine: from the
 * elements, namespace declarations and text of one direction (handed over
 * by the expat layer, xmpp_xml.c) to XMPP facts (struct xmpp_event).
 *
 *   level 0  <stream:stream ...>              root: XMPP_EV_STREAM_OPEN
 *   level 1    <features/> <db:result/> <message/> ...   "top-level elements":
 *              accumulated while open, one event at their end tag
 *   level 2+     children: conditions, <text>, mechanisms, <error> ...
 *
 * It decides the switches (a stream restart, the end of <proceed/> or
 * <starttls/>, errors and caps, a capture that begins mid-stream) and asks
 * the expat layer to halt the parser there; it never touches expat itself.
 * Attribute and text copies are bounded (struct sbuf, charged to the
 * direction's budget).
 */
#include "xmpp_int.h"

#include <stdlib.h>
#include <string.h>

#include "../analyzer/budget.h"
#include "../analyzer/utf8.h"

static void sbuf_clear(struct sbuf *b)
{
    b->len = 0;
    b->set = false;
    b->cut = false;
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
    b->cut = false;
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
 * was cut.  Once cut, the text ends there: a later piece that would fit
 * in the room the cut left (text arrives in pieces) is refused, so the
 * kept text is always a prefix of the whole. */
static bool sbuf_append(struct sbuf *b, const char *p, size_t n, struct mem_budget *mb)
{
    size_t room = b->cap - b->len;
    bool whole = n <= room;

    if (b->cut)
        return n == 0;
    if (!whole)
        n = utf8_cut(p, n, room);
    sbuf_reserve(b, b->len + n, mb);
    if (b->s == NULL) {
        b->cut = n > 0;
        return n == 0;
    }
    if (b->len + n + 1 > b->size) {
        n = utf8_cut(p, n, b->size - 1 - b->len);
        whole = false;
    }
    memcpy(b->s + b->len, p, n);
    b->len += n;
    b->s[b->len] = '\0';
    b->set = true;
    b->cut = !whole;
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
static const char *attr(const char **atts, const char *name)
{
    for (; atts[0] != NULL; atts += 2)
        if (strcmp(atts[0], name) == 0)
            return atts[1];
    return NULL;
}

static const char *attr_xml_lang(const char **atts)
{
    static const char want[] = NS_XML " lang";
    size_t n = sizeof(want) - 1;

    for (; atts[0] != NULL; atts += 2)
        if (strncmp(atts[0], want, n) == 0 && (atts[0][n] == '\0' || atts[0][n] == NS_SEP))
            return atts[1];
    return NULL;
}

/* From inside a handler: report an error and stop this direction for good. */
void xmpp_halt_error(struct xdir *d, enum xmpp_error code, const char *msg)
{
    xmpp_emit_error(d, code, msg, xmpp_xml_pos(d));
    xmpp_xml_halt(d, HALT_DONE);
}

/* ---- handlers ---------------------------------------------------------- */

void xmpp_decls_free(struct nsdecl *v, unsigned *n)
{
    unsigned i;

    for (i = 0; i < *n; i++)
        budget_free(v[i].prefix);
    *n = 0;
}

/* Forget the declarations gathered for the start tag just handled. */
void xmpp_pend_drop(struct xdir *d)
{
    xmpp_decls_free(d->pend, &d->n_pend);
}

/* A namespace declaration ahead of a start tag at level <= 1: kept for
 * the stream header (resync) and the content namespace. */
void xmpp_stream_ns_decl(struct xdir *d, const char *prefix, const char *uri)
{
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

static void stream_open(struct xdir *d, const struct qname *q, const char **atts, bool restart)
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

    /* remember the header for xmpp_xml_resync(): qname and declarations */
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
    xmpp_decls_free(d->decls, &d->n_decls);
    xmpp_xml_ctx_forget(d);
    memcpy(d->decls, d->pend, sizeof(d->pend[0]) * d->n_pend); /* moved */
    d->n_decls = d->n_pend;
    d->n_pend = 0;

    xmpp_ev_init(d, &ev, XMPP_EV_STREAM_OPEN);
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
    xmpp_emit(d, &ev);
}

static void top_begin(struct xdir *d, const struct qname *q, const char **atts)
{
    int i;

    d->top_start = xmpp_xml_pos(d);
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

static void top_child(struct xdir *d, const struct qname *q, const char **atts, unsigned level)
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
    xmpp_ev_init(d, &ev, type);
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
    xmpp_emit(d, &ev);
    if (after != HALT_NONE)
        xmpp_xml_halt(d, after);
}

/* Elements that start a capture picked up mid-stream (RFC 6120 stanzas,
 * XEP-0220 dialback). */
static bool midstream_element(const struct qname *q)
{
    return q_local(q, "message") || q_local(q, "presence") || q_local(q, "iq") || q_local(q, "result") ||
           q_local(q, "verify");
}

void xmpp_stream_start(struct xdir *d, const char *name, const char **atts)
{
    struct xmpp_conn *c = d->conn;
    unsigned level = d->depth;
    struct qname q;

    if (d->halt != HALT_NONE)
        return;
    if (d->synthetic) {
        d->depth++;
        return;
    }
    d->last_event = xmpp_xml_token_end(d);
    if (level + 1 > c->cfg.max_depth) {
        xmpp_halt_error(d, XMPP_ERR_DEPTH, "element nesting deeper than the cap");
        return;
    }
    d->depth++;
    split_name(name, &q);
    if (level == 0 && d->n_opens == 0 && !d->midstream && !q_local(&q, "stream") &&
        (midstream_element(&q) || !d->skip_matched)) {
        /* a stanza first: the capture began mid-stream; any other
         * element (<body>): skipped to the next element start */
        d->depth--;
        xmpp_pend_drop(d);
        if (midstream_element(&q))
            xmpp_xml_midstream_halt(d, 0);
        else
            xmpp_xml_skip_halt(d, 0);
        return;
    }
    if (level == 0) {
        stream_open(d, &q, atts, d->n_opens > 0);
        if (!q_local(&q, "stream")) {
            xmpp_halt_error(d, XMPP_ERR_NOT_STREAM, "root element is not a stream header");
            return;
        }
        d->boundary = xmpp_xml_token_end(d);
        return;
    }
    if (level == 1 && q_is(&q, NS_STREAMS, "stream")) {
        stream_open(d, &q, atts, true);
        xmpp_xml_halt(d, HALT_RESTART);
        return;
    }
    xmpp_pend_drop(d);
    if (level == 1) {
        top_begin(d, &q, atts);
        return;
    }
    top_child(d, &q, atts, level);
    /* Nothing below a level-2 element is read unless top_child marked it
     * (starttls, mechanisms, dialback, an error) or captures its text: its
     * content may bypass expat (xmpp_xml.c). */
    if (level == UNREAD_LEVEL && d->child == CK_OTHER && d->tgt == NULL)
        d->unread_ok_at = d->last_event;
}

void xmpp_stream_end(struct xdir *d)
{
    unsigned level;
    uint64_t end_pos;

    if (d->halt != HALT_NONE || d->depth == 0)
        return;
    level = --d->depth;
    if (d->synthetic)
        return;
    end_pos = xmpp_xml_token_end(d);
    d->last_event = end_pos;
    if (level == 0) {
        struct xmpp_event ev;

        d->closed = true;
        xmpp_ev_init(d, &ev, XMPP_EV_STREAM_CLOSE);
        xmpp_emit(d, &ev);
        d->mode = DM_DONE;
        xmpp_xml_halt(d, HALT_DONE);
        return;
    }
    if (level == 1) {
        if (end_pos - d->boundary > d->conn->cfg.max_stanza) {
            xmpp_emit_error(d, XMPP_ERR_STANZA_SIZE, "top-level element larger than the cap", d->boundary);
            xmpp_xml_halt(d, HALT_DONE);
            return;
        }
        d->boundary = end_pos;
        top_end(d, end_pos);
        /* expat keeps the buffer a large element needed: give it back */
        if (d->mem.used > SHRINK_ABOVE)
            xmpp_xml_halt(d, HALT_SHRINK);
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

void xmpp_stream_text(struct xdir *d, const char *s, int len)
{

    if (d->halt != HALT_NONE || d->synthetic || len <= 0)
        return;
    d->last_event = xmpp_xml_token_end(d);
    if (d->depth == 1) { /* between top-level elements: whitespace keepalives */
        d->boundary = d->last_event;
        return;
    }
    if (d->depth == 2 && (d->top == TK_DB_RESULT || d->top == TK_DB_VERIFY))
        d->key_len += (size_t)len;
    if (d->tgt != NULL && d->depth > d->tgt_level)
        note_trunc(d, sbuf_append(d->tgt, s, (size_t)len, &d->mem));
}

void xmpp_stream_rest(struct xdir *d)
{
    for (int k = 0; k < S_ATTR_COUNT; k++)
        sbuf_release(&d->str[k]);
    for (int k = 0; k < T_COUNT; k++)
        sbuf_release(&d->txt[k]);
}

/* The direction stopped parsing XML for good: free its strings and the
 * namespace declarations it kept.  Never from inside a handler. */
void xmpp_stream_release(struct xdir *d)
{
    int k;

    for (k = 0; k < S_ATTR_COUNT; k++)
        sbuf_release(&d->str[k]);
    for (k = 0; k < T_COUNT; k++)
        sbuf_release(&d->txt[k]);
    d->tgt = NULL;
    xmpp_pend_drop(d);
    xmpp_decls_free(d->decls, &d->n_decls);
    xmpp_xml_ctx_forget(d);
}
