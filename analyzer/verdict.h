/*
 * verdict.h - the catalogue of federation verdict codes: for each code the
 * stage it belongs to, a one-line title, the long explanation printed by
 * `fedtrace explain CODE`, the advice an administrator can act on, and the
 * RFC/XEP references.  Codes follow ../shared/docs/failure-taxonomy.md
 * (DNS-*, TCP-*, STR-*, TLS-*, SASL-*, DB-*, STZ-*, CAP-*) plus OK.
 *
 * Advice lines may hold placeholders that verdict_render() fills from the
 * evidence of one verdict: {local}, {remote}, {from}, {to} (domains),
 * {qname}, {resolver}, {ip}, {port}, {public_ip}, {private_ip},
 * {condition}, {text}, {alert}, {peer} (an address), {n} (a count),
 * {seconds}.  An unknown or empty placeholder renders as "?".
 * The table is static, read-only data: nothing to free.
 */
#ifndef FT_VERDICT_H
#define FT_VERDICT_H

#include <stddef.h>

/* The stages of one federation direction, in the order they happen. */
enum fed_stage {
    STAGE_LOOKUP = 0,
    STAGE_CONNECT,
    STAGE_STREAM,
    STAGE_TLS,
    STAGE_AUTH,      /* SASL EXTERNAL or dialback, incl. the connect-back */
    STAGE_SUBSCRIBE,
    STAGE_CAPTURE,   /* capture-quality conditions (CAP-*) */
    STAGE_COUNT
};

const char *fed_stage_name(enum fed_stage s); /* "lookup", "connect", ... "dialback" for AUTH */

#define VERDICT_MAX_ADVICE 6

struct verdict_info {
    const char *code;        /* e.g. "DB-NO-BACKCONN" */
    enum fed_stage stage;
    const char *title;       /* one line, plain words, no placeholders */
    const char *summary;     /* one line with placeholders, for a concrete verdict */
    const char *explain;     /* several sentences: what it means on the wire, likely causes */
    const char *advice[VERDICT_MAX_ADVICE]; /* NULL-terminated; placeholders allowed */
    const char *refs;        /* "RFC 6120 §3.2.2; XEP-0220 §2.1.2" */
};

/* The entry for a code (case-insensitive), or NULL. */
const struct verdict_info *verdict_lookup(const char *code);

/* Iteration over the whole catalogue, in stage order. */
size_t verdict_count(void);
const struct verdict_info *verdict_at(size_t i);

/* Values for the placeholders of one concrete verdict; NULL = unknown. */
struct verdict_vars {
    const char *local, *remote, *from, *to;
    const char *qname, *resolver, *ip, *port, *public_ip, *private_ip;
    const char *condition, *text, *alert, *peer, *n, *seconds;
};

/* Expands the placeholders of tmpl into out (always NUL-terminated,
 * truncated to outlen).  Returns the length written. */
size_t verdict_render(const char *tmpl, const struct verdict_vars *v, char *out, size_t outlen);

#endif
