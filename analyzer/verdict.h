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
 * The codes themselves are one list, verdict_codes.h, which yields enum
 * verdict_code: a misspelt code does not compile.
 * The table is static, read-only data: nothing to free.
 */
#ifndef FT_VERDICT_H
#define FT_VERDICT_H

#include <stdbool.h>
#include <stddef.h>

#include "verdict_codes.h"

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

/* One value per line of verdict_codes.h: VERDICT_DB_NO_BACKCONN, ... */
enum verdict_code {
    VERDICT_CODE_NONE = 0,   /* no code (yet) */
#define VERDICT_CODE_ENUM(id, name, detection) VERDICT_##id,
    VERDICT_CODE_LIST(VERDICT_CODE_ENUM)
#undef VERDICT_CODE_ENUM
    VERDICT_CODE_COUNT
};

/* "DB-NO-BACKCONN" for VERDICT_DB_NO_BACKCONN; NULL for NONE or a value
 * outside the list. */
const char *verdict_code_name(enum verdict_code c);

/* The code of a name (case-insensitive), or VERDICT_CODE_NONE. */
enum verdict_code verdict_code_from_name(const char *name);

/* Whether the correlator can produce the code today (verdict_codes.h). */
bool verdict_code_detected(enum verdict_code c);

#define VERDICT_MAX_ADVICE 6

struct verdict_info {
    enum verdict_code id;
    const char *code;        /* e.g. "DB-NO-BACKCONN", the name of id */
    enum fed_stage stage;
    const char *title;       /* one line, plain words, no placeholders */
    const char *summary;     /* one line with placeholders, for a concrete verdict */
    const char *explain;     /* several sentences: what it means on the wire, likely causes */
    const char *advice[VERDICT_MAX_ADVICE]; /* NULL-terminated; placeholders allowed */
    const char *refs;        /* "RFC 6120 §3.2.2; XEP-0220 §2.1.2" */
};

/* The entry for a code (case-insensitive), or NULL. */
const struct verdict_info *verdict_lookup(const char *code);

/* The entry for a code, or NULL for VERDICT_CODE_NONE. */
const struct verdict_info *verdict_info_of(enum verdict_code c);

/* Iteration over the whole catalogue, in stage order. */
size_t verdict_count(void);
const struct verdict_info *verdict_at(size_t i);

/* Values for the placeholders of one concrete verdict; NULL = unknown. */
struct verdict_vars {
    const char *local, *remote, *from, *to;
    const char *qname, *resolver, *ip, *port, *public_ip, *private_ip;
    const char *condition, *text, *alert, *peer, *n, *seconds;
    const char *server;  /* the domain public_ip/private_ip belong to (names the
                          * placeholder when they are unknown); NULL = local */
};

/* Expands the placeholders of tmpl into out (always NUL-terminated,
 * truncated to outlen).  Returns the length written. */
size_t verdict_render(const char *tmpl, const struct verdict_vars *v, char *out, size_t outlen);

#endif
