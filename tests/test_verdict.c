/*
 * test_verdict.c - unit tests for analyzer/verdict.c: the catalogue is
 * complete (every taxonomy code, the 25 RFC 6120 stream error conditions,
 * the correlator's own codes), well formed (unique codes, stage order,
 * title/summary/explain/advice/refs present, only documented placeholders)
 * and verdict_render() expands, truncates and copies braces as documented.
 * Prints one line per failed check and "verdict: N passed, N failed".
 *
 * With --markdown it prints the catalogue as Markdown instead (used by
 * tools/gen-verdict-doc to write doc/verdicts.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../analyzer/verdict.h"
#include "check.h"

static const char *const placeholders[] = {
    "local", "remote", "from", "to", "qname", "resolver", "ip", "port",
    "public_ip", "private_ip", "condition", "text", "alert", "peer", "n",
    "seconds",
};
#define N_PLACEHOLDERS (sizeof(placeholders) / sizeof(placeholders[0]))

/* RFC 6120 §4.9.3.1 - §4.9.3.25, in order. */
static const char *const stream_conditions[] = {
    "bad-format", "bad-namespace-prefix", "conflict", "connection-timeout",
    "host-gone", "host-unknown", "improper-addressing", "internal-server-error",
    "invalid-from", "invalid-namespace", "invalid-xml", "not-authorized",
    "not-well-formed", "policy-violation", "remote-connection-failed", "reset",
    "resource-constraint", "restricted-xml", "see-other-host", "system-shutdown",
    "undefined-condition", "unsupported-encoding", "unsupported-feature",
    "unsupported-stanza-type", "unsupported-version",
};

/* Every code of failure-taxonomy.md §1-§8 and the correlator's own codes;
 * a code missing from verdict_codes.h does not compile. */
static const enum verdict_code required_codes[] = {
    /* DNS */
    VERDICT_DNS_NO_QUERY, VERDICT_DNS_SRV_NXDOMAIN, VERDICT_DNS_SRV_NODATA, VERDICT_DNS_SERVFAIL,
    VERDICT_DNS_TIMEOUT, VERDICT_DNS_TRUNC_NO_TCP, VERDICT_DNS_SRV_DOT, VERDICT_DNS_SRV_PORT,
    VERDICT_DNS_SRV_CNAME, VERDICT_DNS_TARGET_NXDOMAIN, VERDICT_DNS_PRIVATE_ADDR,
    VERDICT_DNS_OWN_DOMAIN_WRONG, VERDICT_DNS_XMPPS_ONLY, VERDICT_DNS_FALLBACK_AFTER_SRV,
    VERDICT_DNS_NO_AAAA_V6_ONLY, VERDICT_DNS_V6_UNREACH,
    /* TCP */
    VERDICT_TCP_NO_SYNACK, VERDICT_TCP_RST, VERDICT_TCP_ICMP_UNREACH, VERDICT_TCP_WRONG_PORT,
    VERDICT_TCP_HALF_OPEN, VERDICT_TCP_ONE_WAY, VERDICT_TCP_ASYM_NAT, VERDICT_TCP_PAT_MISMATCH,
    VERDICT_TCP_RESET_MID, VERDICT_TCP_SLOW_CONNECT,
    /* stream headers */
    VERDICT_STR_NO_HEADER, VERDICT_STR_NS, VERDICT_STR_NO_DB_NS, VERDICT_STR_TO_MISMATCH,
    VERDICT_STR_FROM_MISSING, VERDICT_STR_VERSION, VERDICT_STR_XML, VERDICT_STR_NO_RESPONSE,
    /* TLS */
    VERDICT_TLS_REQUIRED_MISSING, VERDICT_TLS_NOT_OFFERED, VERDICT_TLS_FAILURE, VERDICT_TLS_ALERT,
    VERDICT_TLS_SNI, VERDICT_TLS_CERT_NAME, VERDICT_TLS_CERT_EXPIRED, VERDICT_TLS_DESYNC, VERDICT_TLS_STRIP,
    VERDICT_TLS_CLOSED_AFTER_HANDSHAKE,
    /* SASL */
    VERDICT_SASL_NO_MECH, VERDICT_SASL_FAIL, VERDICT_SASL_OK,
    /* dialback */
    VERDICT_DB_NO_BACKCONN, VERDICT_DB_BACKCONN_BLOCKED, VERDICT_DB_WRONG_AUTH, VERDICT_DB_INVALID_KEY,
    VERDICT_DB_INVALID, VERDICT_DB_ERROR, VERDICT_DB_TIMEOUT, VERDICT_DB_BEFORE_TLS, VERDICT_DB_UNSUPPORTED,
    VERDICT_DB_MUX_UNVERIFIED, VERDICT_DB_NO_CONNBACK_OK, VERDICT_DB_BIDI,
    /* stanzas */
    VERDICT_STZ_BOUNCE_RSNF, VERDICT_STZ_BOUNCE_RST, VERDICT_STZ_SVC_UNAVAIL, VERDICT_STZ_ITEM_NF,
    VERDICT_STZ_NOT_ALLOWED, VERDICT_STZ_FORBIDDEN, VERDICT_STZ_POLICY, VERDICT_STZ_SUB_PENDING,
    VERDICT_STZ_SUB_NOT_SENT, VERDICT_STZ_UNSUBSCRIBED_AUTO, VERDICT_STZ_UNSUBSCRIBED,
    VERDICT_STZ_ERROR, VERDICT_STZ_PROBE_NO_ANSWER, VERDICT_STZ_ONE_WAY_PRESENCE, VERDICT_STZ_PING_FAIL,
    VERDICT_OK,
    /* capture */
    VERDICT_CAP_MIDSTREAM, VERDICT_CAP_ONE_DIR, VERDICT_CAP_GAPS, VERDICT_CAP_BAD_CSUM, VERDICT_CAP_ENCRYPTED,
    VERDICT_CAP_DNS_UNSEEN, VERDICT_CAP_NOTHING,
};
#define N_REQUIRED (sizeof(required_codes) / sizeof(required_codes[0]))

static int known_placeholder(const char *name, size_t len)
{
    for (size_t i = 0; i < N_PLACEHOLDERS; i++)
        if (strlen(placeholders[i]) == len && memcmp(placeholders[i], name, len) == 0)
            return 1;
    return 0;
}

static int name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* 1 when every {word} in s is a documented placeholder. */
static int placeholders_ok(const char *s)
{
    for (const char *p = strchr(s, '{'); p; p = strchr(p + 1, '{')) {
        const char *q = p + 1;
        while (name_char(*q))
            q++;
        if (*q == '}' && !known_placeholder(p + 1, (size_t)(q - p - 1))) {
            printf("  unknown placeholder in: %s\n", s);
            return 0;
        }
    }
    return 1;
}

static int has_brace(const char *s)
{
    return strchr(s, '{') != NULL || strchr(s, '}') != NULL;
}

static int backticks_balanced(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '`';
    return n % 2 == 0;
}

static size_t count_sentences(const char *s)
{
    size_t n = 0;
    for (const char *p = s; *p; p++)
        if ((*p == '.' || *p == '?' || *p == '!') && (p[1] == ' ' || p[1] == '\0'))
            n++;
    return n;
}

static int single_line(const char *s)
{
    return strchr(s, '\n') == NULL;
}

/* ------------------------------------------------------------------ */

static void test_entries(void)
{
    size_t n = verdict_count();
    CHECK(n >= N_REQUIRED + 25);
    CHECK(verdict_at(n) == NULL);
    for (size_t i = 0; i < n; i++) {
        const struct verdict_info *e = verdict_at(i);
        if (!CHECK(e != NULL && e->code != NULL))
            continue;
        int ok = 1;
        ok &= CHECK(e->title && *e->title && single_line(e->title) && !has_brace(e->title));
        ok &= CHECK(e->summary && *e->summary && single_line(e->summary) && placeholders_ok(e->summary));
        ok &= CHECK(e->summary && strchr(e->summary, '`') == NULL); /* shown as a code span */
        ok &= CHECK(e->title && strchr(e->title, '`') == NULL);
        ok &= CHECK(e->explain && backticks_balanced(e->explain));
        ok &= CHECK(e->explain && !has_brace(e->explain));
        if (e->explain) {
            size_t s = count_sentences(e->explain);
            ok &= CHECK(s >= 3 && s <= 8);
        }
        ok &= CHECK(e->refs && *e->refs);
        ok &= CHECK((int)e->stage >= 0 && e->stage < STAGE_CAPTURE + 1);
        size_t a = 0;
        while (a < VERDICT_MAX_ADVICE && e->advice[a]) {
            ok &= CHECK(*e->advice[a] && single_line(e->advice[a]) && placeholders_ok(e->advice[a]));
            ok &= CHECK(backticks_balanced(e->advice[a]));
            a++;
        }
        ok &= CHECK(a >= 2 && a <= 5);
        ok &= CHECK(a < VERDICT_MAX_ADVICE); /* NULL-terminated */
        /* the code is upper case letters, digits and dashes */
        for (const char *c = e->code; *c; c++)
            ok &= CHECK((*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '-');
        /* stage order */
        if (i > 0)
            ok &= CHECK(verdict_at(i - 1)->stage <= e->stage);
        /* unique */
        for (size_t j = i + 1; j < n; j++)
            ok &= CHECK(strcmp(e->code, verdict_at(j)->code) != 0);
        /* the lookup finds this very entry */
        ok &= CHECK(verdict_lookup(e->code) == e);
        if (!ok)
            printf("  ... in entry %s\n", e->code);
    }
}

static void test_prefix_stages(void)
{
    for (size_t i = 0; i < verdict_count(); i++) {
        const struct verdict_info *e = verdict_at(i);
        const char *c = e->code;
        enum fed_stage want = STAGE_COUNT;
        if (strncmp(c, "DNS-", 4) == 0)
            want = STAGE_LOOKUP;
        else if (strncmp(c, "TCP-", 4) == 0)
            want = STAGE_CONNECT;
        else if (strncmp(c, "STR-", 4) == 0)
            want = STAGE_STREAM;
        else if (strncmp(c, "TLS-", 4) == 0)
            want = STAGE_TLS;
        else if (strncmp(c, "SASL-", 5) == 0 || strncmp(c, "DB-", 3) == 0)
            want = STAGE_AUTH;
        else if (strncmp(c, "STZ-", 4) == 0 || strcmp(c, "OK") == 0)
            want = STAGE_SUBSCRIBE;
        else if (strncmp(c, "CAP-", 4) == 0)
            want = STAGE_CAPTURE;
        if (!CHECK(e->stage == want))
            printf("  stage of %s\n", c);
    }
}

static void test_required(void)
{
    for (size_t i = 0; i < N_REQUIRED; i++)
        if (!CHECK(verdict_info_of(required_codes[i]) != NULL))
            printf("  missing entry for code %d\n", (int)required_codes[i]);
    CHECK(sizeof(stream_conditions) / sizeof(stream_conditions[0]) == 25);
    for (size_t i = 0; i < 25; i++) {
        char code[64] = "STR-";
        size_t k = 4;
        for (const char *c = stream_conditions[i]; *c; c++)
            code[k++] = (*c >= 'a' && *c <= 'z') ? (char)(*c - 'a' + 'A') : *c;
        code[k] = '\0';
        const struct verdict_info *e = verdict_lookup(code);
        if (!CHECK(e != NULL && e->stage == STAGE_STREAM)) {
            printf("  missing %s\n", code);
            continue;
        }
        /* the reference names the right RFC 6120 section */
        char sect[32];
        snprintf(sect, sizeof(sect), "4.9.3.%zu", i + 1);
        if (!CHECK(strstr(e->refs, sect) != NULL))
            printf("  %s refs lack %s\n", code, sect);
    }
    CHECK(verdict_lookup("OK")->stage == STAGE_SUBSCRIBE);
    CHECK(verdict_lookup("CAP-NOTHING")->stage == STAGE_CAPTURE);
}

static void test_lookup(void)
{
    const struct verdict_info *e = verdict_lookup("DB-NO-BACKCONN");
    CHECK(e != NULL && strcmp(e->code, "DB-NO-BACKCONN") == 0);
    CHECK(verdict_lookup("db-no-backconn") == e);
    CHECK(verdict_lookup("Db-No-BackConn") == e);
    CHECK(verdict_lookup("ok") == verdict_lookup("OK"));
    CHECK(verdict_lookup("str-host-unknown") == verdict_lookup("STR-HOST-UNKNOWN"));
    CHECK(verdict_lookup("DB-NO-BACKCON") == NULL);
    CHECK(verdict_lookup("DB-NO-BACKCONNX") == NULL);
    CHECK(verdict_lookup("") == NULL);
    CHECK(verdict_lookup(NULL) == NULL);
    CHECK(verdict_lookup("NOPE") == NULL);
}

/* The list of verdict_codes.h, the enum and the catalogue agree: one
 * entry per code, in the list's order, names that round-trip. */
static void test_code_list(void)
{
    size_t detected = 0;
    CHECK(verdict_count() == (size_t)VERDICT_CODE_COUNT - 1);
    for (int c = VERDICT_CODE_NONE + 1; c < VERDICT_CODE_COUNT; c++) {
        enum verdict_code code = (enum verdict_code)c;
        const char *name = verdict_code_name(code);
        const struct verdict_info *e = verdict_info_of(code);
        char lower[64];
        size_t k = 0;
        int ok = 1;
        ok &= CHECK(name != NULL && e != NULL);
        if (!ok)
            continue;
        ok &= CHECK(e->id == code && e->code == name);
        ok &= CHECK(verdict_at((size_t)c - 1) == e);
        ok &= CHECK(verdict_code_from_name(name) == code);
        ok &= CHECK(verdict_lookup(name) == e);
        for (; name[k] && k < sizeof(lower) - 1; k++)
            lower[k] = (char)(name[k] >= 'A' && name[k] <= 'Z' ? name[k] + 32 : name[k]);
        lower[k] = '\0';
        ok &= CHECK(verdict_code_from_name(lower) == code);
        detected += verdict_code_detected(code);
        if (!ok)
            printf("  ... in code %s\n", name);
    }
    CHECK(verdict_code_name(VERDICT_CODE_NONE) == NULL);
    CHECK(verdict_code_name(VERDICT_CODE_COUNT) == NULL);
    CHECK(verdict_code_name((enum verdict_code)-1) == NULL);
    CHECK(verdict_info_of(VERDICT_CODE_NONE) == NULL);
    CHECK(verdict_info_of(VERDICT_CODE_COUNT) == NULL);
    CHECK(verdict_code_from_name("NOPE") == VERDICT_CODE_NONE);
    CHECK(verdict_code_from_name("") == VERDICT_CODE_NONE);
    CHECK(verdict_code_from_name(NULL) == VERDICT_CODE_NONE);
    CHECK(strcmp(verdict_code_name(VERDICT_DB_NO_BACKCONN), "DB-NO-BACKCONN") == 0);
    CHECK(strcmp(verdict_code_name(VERDICT_OK), "OK") == 0);
    /* what the correlator emits today, and what it does not */
    CHECK(verdict_code_detected(VERDICT_OK) && verdict_code_detected(VERDICT_TCP_RST));
    CHECK(verdict_code_detected(VERDICT_DB_INVALID) && verdict_code_detected(VERDICT_STR_HOST_UNKNOWN));
    CHECK(!verdict_code_detected(VERDICT_DNS_NO_QUERY) && !verdict_code_detected(VERDICT_TLS_CERT_EXPIRED));
    CHECK(!verdict_code_detected(VERDICT_CODE_NONE) && !verdict_code_detected(VERDICT_CODE_COUNT));
    CHECK(detected > 0 && detected < (size_t)VERDICT_CODE_COUNT - 1);
}

static void test_stage_names(void)
{
    CHECK(strcmp(fed_stage_name(STAGE_LOOKUP), "lookup") == 0);
    CHECK(strcmp(fed_stage_name(STAGE_CONNECT), "connect") == 0);
    CHECK(strcmp(fed_stage_name(STAGE_STREAM), "stream") == 0);
    CHECK(strcmp(fed_stage_name(STAGE_TLS), "tls") == 0);
    CHECK(strcmp(fed_stage_name(STAGE_AUTH), "dialback") == 0);
    CHECK(strcmp(fed_stage_name(STAGE_SUBSCRIBE), "subscribe") == 0);
    CHECK(strcmp(fed_stage_name(STAGE_CAPTURE), "capture") == 0);
    CHECK(fed_stage_name(STAGE_COUNT) != NULL);
    CHECK(fed_stage_name((enum fed_stage)99) != NULL);
}

static int rendered(const char *tmpl, const struct verdict_vars *v, const char *want)
{
    char out[256];
    size_t n = verdict_render(tmpl, v, out, sizeof(out));
    if (strcmp(out, want) != 0 || n != strlen(want)) {
        printf("  render(\"%s\") = \"%s\" (%zu), want \"%s\"\n", tmpl, out, n, want);
        return 0;
    }
    return 1;
}

static void test_render(void)
{
    struct verdict_vars v = {
        .local = "cup.example", .remote = "jabber.example", .from = "a.example",
        .to = "b.example", .qname = "_xmpp-server._tcp.jabber.example",
        .resolver = "192.0.2.53", .ip = "198.51.100.7", .port = "5269",
        .public_ip = "203.0.113.10", .private_ip = "10.1.1.20",
        .condition = "host-unknown", .text = "no such host", .alert = "unknown_ca(48)",
        .peer = "198.51.100.9", .n = "9", .seconds = "20",
    };
    /* every placeholder */
    CHECK(rendered("{local}", &v, "cup.example"));
    CHECK(rendered("{remote}", &v, "jabber.example"));
    CHECK(rendered("{from}", &v, "a.example"));
    CHECK(rendered("{to}", &v, "b.example"));
    CHECK(rendered("{qname}", &v, "_xmpp-server._tcp.jabber.example"));
    CHECK(rendered("{resolver}", &v, "192.0.2.53"));
    CHECK(rendered("{ip}", &v, "198.51.100.7"));
    CHECK(rendered("{port}", &v, "5269"));
    CHECK(rendered("{public_ip}", &v, "203.0.113.10"));
    CHECK(rendered("{private_ip}", &v, "10.1.1.20"));
    CHECK(rendered("{condition}", &v, "host-unknown"));
    CHECK(rendered("{text}", &v, "no such host"));
    CHECK(rendered("{alert}", &v, "unknown_ca(48)"));
    CHECK(rendered("{peer}", &v, "198.51.100.9"));
    CHECK(rendered("{n}", &v, "9"));
    CHECK(rendered("{seconds}", &v, "20"));
    /* in context, adjacent, repeated */
    CHECK(rendered("telnet {ip} {port} from outside", &v, "telnet 198.51.100.7 5269 from outside"));
    CHECK(rendered("{ip}{port}", &v, "198.51.100.75269"));
    CHECK(rendered("{n}/{n}", &v, "9/9"));
    CHECK(rendered("", &v, ""));
    CHECK(rendered("no placeholders", &v, "no placeholders"));
    /* unknown, NULL and empty values name what to substitute, never "?" */
    CHECK(rendered("x {bogus} y", &v, "x <bogus> y"));
    CHECK(rendered("{Local}", &v, "<Local>"));
    struct verdict_vars empty = { .local = "", .remote = NULL };
    CHECK(rendered("{local}-{remote}", &empty, "<your domain>-<the remote domain>"));
    CHECK(rendered("{local}", NULL, "<your domain>"));
    struct verdict_vars noaddr = { .local = "cup.example" };
    CHECK(rendered("telnet {public_ip} {port}", &noaddr, "telnet <public address of cup.example> <port>"));
    noaddr.server = "im.example";
    CHECK(rendered("host {private_ip}", &noaddr, "host <inside address of im.example's server>"));
    /* braces that are not placeholders are copied */
    CHECK(rendered("a { b", &v, "a { b"));
    CHECK(rendered("trailing {", &v, "trailing {"));
    CHECK(rendered("{", &v, "{"));
    CHECK(rendered("{local", &v, "{local"));
    CHECK(rendered("{}", &v, "{}"));
    CHECK(rendered("{ local }", &v, "{ local }"));
    CHECK(rendered("}{local}}", &v, "}cup.example}"));
    CHECK(rendered("{{local}}", &v, "{cup.example}"));

    /* truncation: always NUL-terminated, never past outlen */
    char buf[8];
    memset(buf, 'X', sizeof(buf));
    size_t n = verdict_render("{remote}", &v, buf, 5);
    CHECK(n == 4 && strcmp(buf, "jabb") == 0 && buf[5] == 'X');
    memset(buf, 'X', sizeof(buf));
    n = verdict_render("abcdefghij", &v, buf, sizeof(buf));
    CHECK(n == 7 && strcmp(buf, "abcdefg") == 0);
    memset(buf, 'X', sizeof(buf));
    n = verdict_render("ab{bogus}cdef", &v, buf, 4);
    CHECK(n == 3 && strcmp(buf, "ab<") == 0 && buf[4] == 'X');
    memset(buf, 'X', sizeof(buf));
    n = verdict_render("{local}", &v, buf, 1);
    CHECK(n == 0 && buf[0] == '\0' && buf[1] == 'X');
    memset(buf, 'X', sizeof(buf));
    n = verdict_render("{local}", &v, buf, 0);
    CHECK(n == 0 && buf[0] == 'X');
    memset(buf, 'X', sizeof(buf));
    n = verdict_render("abc{", &v, buf, 4);
    CHECK(n == 3 && strcmp(buf, "abc") == 0);
    n = verdict_render(NULL, &v, buf, sizeof(buf));
    CHECK(n == 0 && buf[0] == '\0');
    /* exact fit */
    char fit[12];
    n = verdict_render("{local}", &v, fit, sizeof(fit));
    CHECK(n == 11 && strcmp(fit, "cup.example") == 0);

    /* every summary and advice line of the catalogue renders completely */
    for (size_t i = 0; i < verdict_count(); i++) {
        const struct verdict_info *e = verdict_at(i);
        char out[2048];
        n = verdict_render(e->summary, &v, out, sizeof(out));
        CHECK(n == strlen(out) && strchr(out, '{') == NULL);
        for (size_t a = 0; e->advice[a]; a++) {
            n = verdict_render(e->advice[a], &v, out, sizeof(out));
            CHECK(n == strlen(out) && n < sizeof(out) - 1);
        }
    }
}

/* ------------------------------------------------------------------ */
/* Markdown output for doc/verdicts.md                                 */

/* Prints s as Markdown text: code spans (`...`) verbatim, elsewhere the
 * characters Markdown or HTML would interpret are escaped. */
static void md_text(const char *s)
{
    int code = 0;
    for (const char *p = s; *p; p++) {
        if (*p == '`')
            code = !code;
        if (code || *p == '`') {
            putchar(*p);
            continue;
        }
        switch (*p) {
        case '<': fputs("&lt;", stdout); break;
        case '>': fputs("&gt;", stdout); break;
        case '&': fputs("&amp;", stdout); break;
        case '_': case '*': case '|': case '[': case ']': case '\\':
            putchar('\\');
            putchar(*p);
            break;
        default: putchar(*p);
        }
    }
}

static void print_markdown(void)
{
    printf("# fedtrace verdict codes\n\n");
    printf("Generated by `tools/gen-verdict-doc` from `analyzer/verdict.c`; "
           "do not edit by hand.\n\n");
    printf("Each verdict belongs to one stage of a federation direction. "
           "In summaries and advice, words in braces such as `{remote}` "
           "are filled in from the evidence of a concrete case "
           "(`?` when unknown).\n\n");
    {
        size_t not_yet = 0;
        for (size_t i = 0; i < verdict_count(); i++)
            not_yet += !verdict_code_detected(verdict_at(i)->id);
        printf("%zu codes; fedtrace detects %zu of them today, the %zu marked "
               "\"not detected yet\" are in the catalogue only.\n\n",
               verdict_count(), verdict_count() - not_yet, not_yet);
    }
    enum fed_stage cur = STAGE_COUNT;
    for (size_t i = 0; i < verdict_count(); i++) {
        const struct verdict_info *e = verdict_at(i);
        if (e->stage != cur) {
            cur = e->stage;
            printf("## Stage: %s\n\n", fed_stage_name(cur));
            printf("| Code | Title | Detected |\n|---|---|---|\n");
            for (size_t j = i; j < verdict_count() && verdict_at(j)->stage == cur; j++) {
                printf("| [%s](#%s) | ", verdict_at(j)->code, verdict_at(j)->code);
                md_text(verdict_at(j)->title);
                printf(" | %s |\n", verdict_code_detected(verdict_at(j)->id) ? "yes" : "not yet");
            }
            printf("\n");
        }
        printf("### <a id=\"%s\"></a>%s\n\n", e->code, e->code);
        printf("**");
        md_text(e->title);
        printf("**\n\n");
        printf("Summary: `%s`\n\n", e->summary);
        if (!verdict_code_detected(e->id))
            printf("Not detected yet: fedtrace cannot produce this verdict from a capture "
                   "yet; the entry documents the failure and its advice.\n\n");
        md_text(e->explain);
        printf("\n\n");
        printf("Advice:\n\n");
        for (size_t a = 0; e->advice[a]; a++) {
            printf("- ");
            md_text(e->advice[a]);
            printf("\n");
        }
        printf("\nReferences: ");
        md_text(e->refs);
        printf("\n\n");
    }
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--markdown") == 0) {
        print_markdown();
        return 0;
    }
    if (argc > 1) {
        fprintf(stderr, "usage: %s [--markdown]\n", argv[0]);
        return 2;
    }
    test_entries();
    test_prefix_stages();
    test_required();
    test_lookup();
    test_code_list();
    test_stage_names();
    test_render();
    return check_summary("verdict");
}
