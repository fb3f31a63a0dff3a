/*
 * output_html.c - the HTML report's page: reads the JSON document, writes
 * the head (inline CSS, a Content-Security-Policy that forbids scripts
 * and fetches), the overview table, one section per federation direction
 * (verdict, ladder from output_ladder.c, summary and advice), the DNS
 * lookups, the connections and the capture's quality figures.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "output_html.h"
#include "output_html_int.h"
#include "utf8.h"

#define READ_CHUNK 65536
#define MAX_DEPTH 64

void html_esc_cut(FILE *fp, const char *s, size_t max)
{
    size_t n, cut;
    const unsigned char *p;

    if (!s)
        return;
    n = strlen(s);
    cut = utf8_cut(s, n, max);
    p = (const unsigned char *)s;
    for (size_t i = 0; i < cut;) {
        uint32_t cp;
        bool ok;
        size_t len = utf8_next(p + i, cut - i, &cp, &ok);
        if (!ok)
            fputs(UTF8_REPLACEMENT, fp);
        else if (cp == '&')
            fputs("&amp;", fp);
        else if (cp == '<')
            fputs("&lt;", fp);
        else if (cp == '>')
            fputs("&gt;", fp);
        else if (cp == '"')
            fputs("&quot;", fp);
        else if (cp == '\'')
            fputs("&#39;", fp);
        else if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0))
            fputc(' ', fp); /* control characters have no place in a page */
        else
            fwrite(p + i, 1, len, fp);
        i += len;
    }
    if (cut < n)
        fputs("\xE2\x80\xA6", fp); /* U+2026 */
}

void html_esc(FILE *fp, const char *s)
{
    html_esc_cut(fp, s, SIZE_MAX);
}

json_object *hj_get(json_object *obj, const char *key, json_type type)
{
    json_object *v;
    if (!obj || !json_object_is_type(obj, json_type_object) || !json_object_object_get_ex(obj, key, &v))
        return NULL;
    return json_object_is_type(v, type) ? v : NULL;
}

const char *hj_str(json_object *obj, const char *key)
{
    json_object *v = hj_get(obj, key, json_type_string);
    return v ? json_object_get_string(v) : NULL;
}

int64_t hj_int(json_object *obj, const char *key, int64_t dflt)
{
    json_object *v = hj_get(obj, key, json_type_int);
    return v ? json_object_get_int64(v) : dflt;
}

bool hj_bool(json_object *obj, const char *key)
{
    json_object *v = hj_get(obj, key, json_type_boolean);
    return v && json_object_get_boolean(v);
}

bool html_parse_time(const char *s, int64_t *ns)
{
    struct tm tm;
    unsigned y, mo, d, h, mi, sec;
    int used = 0;
    int64_t frac = 0, scale = 1000000000;
    const char *p;

    if (!s || sscanf(s, "%4u-%2u-%2uT%2u:%2u:%2u%n", &y, &mo, &d, &h, &mi, &sec, &used) != 6 || used != 19)
        return false;
    if (y < 1900 || y > 2200 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
        return false;
    p = s + used;
    if (*p == '.')
        for (p++; *p >= '0' && *p <= '9'; p++)
            if (scale > 1) {
                scale /= 10;
                frac += (*p - '0') * scale;
            }
    if (*p != 'Z')
        return false;
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = (int)y - 1900;
    tm.tm_mon = (int)mo - 1;
    tm.tm_mday = (int)d;
    tm.tm_hour = (int)h;
    tm.tm_min = (int)mi;
    tm.tm_sec = (int)sec;
    *ns = (int64_t)timegm(&tm) * 1000000000 + frac;
    return true;
}

const char *html_status_class(const char *status)
{
    if (!status)
        return "unknown";
    if (strcmp(status, "ok") == 0)
        return "ok";
    if (strcmp(status, "failed") == 0)
        return "failed";
    if (strcmp(status, "pending") == 0 || strcmp(status, "encrypted") == 0)
        return "pending";
    return "unknown";
}

const char *html_status_words(const char *status)
{
    if (!status)
        return "not judged";
    if (strcmp(status, "ok") == 0)
        return "works";
    if (strcmp(status, "failed") == 0)
        return "broken";
    if (strcmp(status, "pending") == 0)
        return "still waiting";
    if (strcmp(status, "encrypted") == 0)
        return "encrypted, not judged further";
    if (strcmp(status, "not_seen") == 0)
        return "not seen in the capture";
    return "not judged";
}

void html_frame_ref(FILE *fp, json_object *doc, json_object *pkt)
{
    json_object *sources = hj_get(hj_get(doc, "capture", json_type_object), "sources", json_type_array);
    int64_t src = hj_int(pkt, "source", -1), sf = hj_int(pkt, "source_frame", -1);
    json_object *s;
    const char *name;

    if (!sources || json_object_array_length(sources) < 2 || src < 0 || sf < 0 ||
        (size_t)src >= json_object_array_length(sources)) {
        fprintf(fp, "frame %" PRId64, sf >= 0 ? sf : hj_int(pkt, "frame", 0));
        return;
    }
    s = json_object_array_get_idx(sources, (size_t)src);
    name = hj_str(s, "observer");
    if (!name && (name = hj_str(s, "name")) && strrchr(name, '/'))
        name = strrchr(name, '/') + 1;
    html_esc_cut(fp, name ? name : "?", 40);
    fprintf(fp, "#%" PRId64, sf);
}

static const char page_head[] =
    "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
    "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n"
    "<title>fedtrace report</title>\n<style>\n"
    "body{font-family:system-ui,sans-serif;margin:1.5em;color:#222;max-width:1400px}\n"
    "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.2em .5em;text-align:left;vertical-align:top}\n"
    "th{background:#f3f3f3}code,.mono{font-family:ui-monospace,monospace;font-size:90%}\n"
    ".verdict{display:inline-block;padding:.1em .6em;border-radius:.3em;color:#fff;font-weight:bold}\n"
    ".ok{background:#2e7d32}.failed{background:#c62828}.pending{background:#ef6c00}.unknown{background:#757575}\n"
    ".dir{border:1px solid #ddd;border-radius:.4em;padding:.5em 1em;margin:1em 0}\n"
    ".row{display:flex;gap:1em;align-items:flex-start;flex-wrap:wrap}\n"
    "div.ladder{overflow:auto;max-height:640px;max-width:100%;border:1px solid #eee;flex:1 1 600px}\n"
    ".why{flex:0 1 340px;border-left:4px solid #c62828;padding:.3em .8em;background:#fff5f5}\n"
    ".why.okbox{border-color:#2e7d32;background:#f5fff5}\n"
    "svg text{font-family:ui-monospace,monospace;font-size:11px}\n"
    "</style>\n</head>\n<body>\n";

/* The overview: one row per federation direction, linking to it. */
static void write_overview(FILE *fp, json_object *feds)
{
    size_t n = feds ? json_object_array_length(feds) : 0;

    fputs("<h2 id=\"overview\">Federations</h2>\n", fp);
    if (n == 0) {
        fputs("<p>No XMPP server-to-server federation was seen in this capture.</p>\n", fp);
        return;
    }
    fputs("<table class=\"overview\">\n<tr><th>Federation</th><th>Direction</th><th>Verdict</th>"
          "<th>Code</th><th>Confidence</th></tr>\n", fp);
    for (size_t i = 0; i < n; i++) {
        json_object *fed = json_object_array_get_idx(feds, i);
        json_object *dirs = hj_get(fed, "directions", json_type_array);
        size_t nd = dirs ? json_object_array_length(dirs) : 0;
        for (size_t j = 0; j < nd; j++) {
            json_object *dir = json_object_array_get_idx(dirs, j);
            json_object *v = hj_get(dir, "verdict", json_type_object);
            const char *status = hj_str(v, "status");
            fprintf(fp, "<tr><td><a href=\"#f%zu-%zu\">", i, j);
            html_esc_cut(fp, hj_str(fed, "id"), 64);
            fputs("</a></td><td>", fp);
            html_esc_cut(fp, hj_str(dir, "from"), 256);
            fputs(" &#8594; ", fp);
            html_esc_cut(fp, hj_str(dir, "to"), 256);
            fprintf(fp, "</td><td><span class=\"verdict %s\">%s</span></td><td><code>", html_status_class(status),
                    html_status_words(status));
            html_esc_cut(fp, hj_str(v, "code"), 64);
            fputs("</code></td><td>", fp);
            html_esc_cut(fp, hj_str(v, "confidence"), 32);
            fputs("</td></tr>\n", fp);
        }
    }
    fputs("</table>\n", fp);
}

/* Summary, advice and notes beside the ladder. */
static void write_why(FILE *fp, json_object *v)
{
    json_object *advice = hj_get(v, "advice", json_type_array);
    json_object *notes = hj_get(v, "notes", json_type_array);
    const char *status = hj_str(v, "status");

    fprintf(fp, "<div class=\"why%s\">\n", status && strcmp(status, "failed") == 0 ? "" : " okbox");
    if (hj_str(v, "title")) {
        fputs("<p><b>", fp);
        html_esc(fp, hj_str(v, "title"));
        fputs("</b></p>\n", fp);
    }
    fputs("<p class=\"summary\">", fp);
    html_esc(fp, hj_str(v, "summary"));
    fputs("</p>\n", fp);
    if (advice && json_object_array_length(advice)) {
        fputs("<p>What to do:</p>\n<ul class=\"advice\">\n", fp);
        for (size_t k = 0; k < json_object_array_length(advice) && k < 32; k++) {
            json_object *a = json_object_array_get_idx(advice, k);
            fputs("<li>", fp);
            html_esc(fp, json_object_is_type(a, json_type_string) ? json_object_get_string(a) : NULL);
            fputs("</li>\n", fp);
        }
        fputs("</ul>\n", fp);
    }
    if (notes && json_object_array_length(notes)) {
        fputs("<p>Notes:</p>\n<ul class=\"notes\">\n", fp);
        for (size_t k = 0; k < json_object_array_length(notes) && k < 32; k++) {
            json_object *a = json_object_array_get_idx(notes, k);
            fputs("<li>", fp);
            html_esc(fp, json_object_is_type(a, json_type_string) ? json_object_get_string(a) : NULL);
            fputs("</li>\n", fp);
        }
        fputs("</ul>\n", fp);
    }
    if (hj_str(v, "refs")) {
        fputs("<p>References: ", fp);
        html_esc(fp, hj_str(v, "refs"));
        fputs("</p>\n", fp);
    }
    fputs("</div>\n", fp);
}

static void write_federation(FILE *fp, json_object *doc, const struct html_index *ix, json_object *fed, size_t i)
{
    json_object *dirs = hj_get(fed, "directions", json_type_array);
    size_t nd = dirs ? json_object_array_length(dirs) : 0;

    fputs("<section class=\"federation\">\n<h2>", fp);
    html_esc_cut(fp, hj_str(fed, "id"), 64);
    fputs(": ", fp);
    {
        json_object *doms = hj_get(fed, "domains", json_type_array);
        for (size_t k = 0; doms && k < json_object_array_length(doms) && k < 8; k++) {
            json_object *d = json_object_array_get_idx(doms, k);
            if (k)
                fputs(" &#8596; ", fp);
            html_esc_cut(fp, json_object_is_type(d, json_type_string) ? json_object_get_string(d) : "?", 256);
        }
    }
    fputs("</h2>\n<p>Our domain: <b>", fp);
    html_esc_cut(fp, hj_str(fed, "local") ? hj_str(fed, "local") : "unknown", 256);
    fputs("</b>", fp);
    if (hj_bool(fed, "roles_inferred")) {
        fputs(" (inferred: ", fp);
        html_esc(fp, hj_str(fed, "role_reason"));
        fputs(")", fp);
    }
    fputs("</p>\n", fp);
    for (size_t j = 0; j < nd; j++) {
        json_object *dir = json_object_array_get_idx(dirs, j);
        json_object *v = hj_get(dir, "verdict", json_type_object);
        const char *status = hj_str(v, "status");

        fprintf(fp, "<div class=\"dir\" id=\"f%zu-%zu\">\n<h3>", i, j);
        html_esc_cut(fp, hj_str(dir, "from"), 256);
        fputs(" &#8594; ", fp);
        html_esc_cut(fp, hj_str(dir, "to"), 256);
        fprintf(fp, " <span class=\"verdict %s\">%s</span> <code>", html_status_class(status),
                html_status_words(status));
        html_esc_cut(fp, hj_str(v, "code"), 64);
        fputs("</code></h3>\n<p>", fp);
        if (hj_str(v, "stage")) {
            fputs("Stage: ", fp);
            html_esc_cut(fp, hj_str(v, "stage"), 32);
            fputs("; ", fp);
        }
        fputs("confidence: ", fp);
        html_esc_cut(fp, hj_str(v, "confidence") ? hj_str(v, "confidence") : "none", 32);
        if (hj_bool(v, "inferred")) {
            fputs("; <b>inferred</b> (not read from the XMPP", fp);
            if (hj_str(v, "rule")) {
                fputs(": rule <code>", fp);
                html_esc_cut(fp, hj_str(v, "rule"), 64);
                fputs("</code>", fp);
            }
            fputs(")", fp);
        }
        if (hj_bool(v, "decrypted") || hj_bool(dir, "decrypted"))
            fputs("; read from <b>decrypted</b> TLS", fp);
        if (hj_int(dir, "timeline_elided", 0) > 0)
            fprintf(fp, "; %" PRId64 " timeline steps were left out of the document (the middle of a long run)",
                    hj_int(dir, "timeline_elided", 0));
        if (hj_str(dir, "evidence_file")) {
            /* A link to a local file only: a document handed to `fedtrace
             * report` may carry anything, and a scheme (javascript:) or a
             * host is never linked. */
            const char *ev = hj_str(dir, "evidence_file");
            bool linkable = !strchr(ev, ':') && strncmp(ev, "//", 2) != 0;
            fputs("; the packets: ", fp);
            if (linkable) {
                fputs("<a class=\"evidence\" href=\"", fp);
                html_esc_cut(fp, ev, 4096);
                fputs("\">", fp);
            }
            html_esc_cut(fp, ev, 4096);
            fputs(linkable ? "</a>" : "", fp);
        }
        fputs("</p>\n<div class=\"row\">\n<div class=\"ladder\">\n", fp);
        html_ladder(fp, doc, ix, fed, dir);
        fputs("</div>\n", fp);
        write_why(fp, v);
        fputs("</div>\n</div>\n", fp);
    }
    fputs("</section>\n", fp);
}

static void write_endpoint(FILE *fp, json_object *ep)
{
    const char *ip = hj_str(ep, "ip");
    bool v6 = ip && strchr(ip, ':');
    fputs(v6 ? "[" : "", fp);
    html_esc_cut(fp, ip ? ip : "?", 64);
    fprintf(fp, "%s:%" PRId64, v6 ? "]" : "", hj_int(ep, "port", 0));
}

static void write_lookups(FILE *fp, json_object *doc)
{
    json_object *dns = hj_get(doc, "dns", json_type_array);
    size_t n = dns ? json_object_array_length(dns) : 0;

    fprintf(fp, "<h2 id=\"dns\">DNS lookups (%zu)</h2>\n", n);
    if (!n)
        return;
    fputs("<table class=\"dns\">\n<tr><th>Id</th><th>Time</th><th>Client</th><th>Server</th><th>Query</th>"
          "<th>Outcome</th><th>Answers</th></tr>\n", fp);
    for (size_t i = 0; i < n; i++) {
        json_object *lk = json_object_array_get_idx(dns, i);
        json_object *ans = hj_get(lk, "answers", json_type_array);
        fputs("<tr><td>", fp);
        html_esc_cut(fp, hj_str(lk, "uid"), 32);
        fputs("</td><td class=\"mono\">", fp);
        html_esc_cut(fp, hj_str(lk, "ts"), 40);
        fputs("</td><td class=\"mono\">", fp);
        write_endpoint(fp, hj_get(lk, "client", json_type_object));
        fputs("</td><td class=\"mono\">", fp);
        write_endpoint(fp, hj_get(lk, "server", json_type_object));
        fputs("</td><td class=\"mono\">", fp);
        html_esc_cut(fp, hj_str(lk, "qtype"), 16);
        fputs(" ", fp);
        html_esc_cut(fp, hj_str(lk, "qname"), 256);
        fputs("</td><td>", fp);
        html_esc_cut(fp, hj_str(lk, "outcome"), 32);
        fputs("</td><td class=\"mono\">", fp);
        for (size_t k = 0; ans && k < json_object_array_length(ans) && k < 16; k++) {
            json_object *a = json_object_array_get_idx(ans, k);
            const char *val = hj_str(a, "address") ? hj_str(a, "address") : hj_str(a, "target");
            if (k)
                fputs("<br>", fp);
            html_esc_cut(fp, hj_str(a, "type"), 16);
            fputs(" ", fp);
            html_esc_cut(fp, val ? val : hj_str(a, "name"), 256);
            if (hj_get(a, "port", json_type_int))
                fprintf(fp, ":%" PRId64, hj_int(a, "port", 0));
        }
        fputs("</td></tr>\n", fp);
    }
    fputs("</table>\n", fp);
}

static void write_connections(FILE *fp, json_object *doc)
{
    json_object *conns = hj_get(doc, "connections", json_type_array);
    size_t n = conns ? json_object_array_length(conns) : 0;

    fprintf(fp, "<h2 id=\"connections\">Connections (%zu)</h2>\n", n);
    if (!n)
        return;
    fputs("<table class=\"connections\">\n<tr><th>Id</th><th>Start</th><th>From</th><th>To</th><th>App</th>"
          "<th>State</th><th>History</th><th>Duration (ms)</th></tr>\n", fp);
    for (size_t i = 0; i < n; i++) {
        json_object *c = json_object_array_get_idx(conns, i);
        json_object *dur = hj_get(c, "duration_ms", json_type_double);
        fputs("<tr><td>", fp);
        html_esc_cut(fp, hj_str(c, "uid"), 32);
        fputs("</td><td class=\"mono\">", fp);
        html_esc_cut(fp, hj_str(c, "start"), 40);
        fputs("</td><td class=\"mono\">", fp);
        write_endpoint(fp, hj_get(c, "orig", json_type_object));
        fputs("</td><td class=\"mono\">", fp);
        write_endpoint(fp, hj_get(c, "resp", json_type_object));
        fputs("</td><td>", fp);
        html_esc_cut(fp, hj_str(c, "app"), 32);
        fputs("</td><td>", fp);
        html_esc_cut(fp, hj_str(c, "conn_state"), 16);
        fputs("</td><td class=\"mono\">", fp);
        html_esc_cut(fp, hj_str(c, "history"), 64);
        fprintf(fp, "</td><td>%.3f</td></tr>\n", dur ? json_object_get_double(dur) : 0.0);
    }
    fputs("</table>\n", fp);
}

/* Every non-zero counter under obj, as path = value rows (bounded). */
static void write_counters(FILE *fp, json_object *obj, const char *prefix, unsigned depth, unsigned *rows)
{
    if (depth > 4 || !json_object_is_type(obj, json_type_object))
        return;
    json_object_object_foreach(obj, key, val) {
        char path[256];
        if (*rows >= 400)
            return;
        snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? "." : "", key);
        if (json_object_is_type(val, json_type_object)) {
            write_counters(fp, val, path, depth + 1, rows);
        } else if (json_object_is_type(val, json_type_int) && json_object_get_int64(val) != 0) {
            fputs("<tr><td class=\"mono\">", fp);
            html_esc(fp, path);
            fprintf(fp, "</td><td>%" PRId64 "</td></tr>\n", json_object_get_int64(val));
            (*rows)++;
        }
    }
}

static void write_capture(FILE *fp, json_object *doc)
{
    json_object *cap = hj_get(doc, "capture", json_type_object);
    json_object *sources = hj_get(cap, "sources", json_type_array);
    unsigned rows = 0;

    fputs("<h2 id=\"capture\">Capture</h2>\n", fp);
    fputs("<table class=\"sources\">\n<tr><th>Source</th><th>Observer</th><th>Kind</th><th>Link type</th>"
          "<th>Frames</th></tr>\n", fp);
    for (size_t i = 0; sources && i < json_object_array_length(sources) && i < 64; i++) {
        json_object *s = json_object_array_get_idx(sources, i);
        fputs("<tr><td class=\"mono\">", fp);
        html_esc_cut(fp, hj_str(s, "name"), 256);
        fputs("</td><td>", fp);
        html_esc_cut(fp, hj_str(s, "observer"), 64);
        fputs("</td><td>", fp);
        html_esc_cut(fp, hj_str(s, "kind"), 16);
        fputs("</td><td>", fp);
        html_esc_cut(fp, hj_str(s, "linktype"), 32);
        fprintf(fp, "</td><td>%" PRId64 "</td></tr>\n", hj_int(s, "frames", 0));
    }
    fputs("</table>\n<p>From ", fp);
    html_esc_cut(fp, hj_str(cap, "first_ts") ? hj_str(cap, "first_ts") : "?", 40);
    fputs(" to ", fp);
    html_esc_cut(fp, hj_str(cap, "last_ts") ? hj_str(cap, "last_ts") : "?", 40);
    fprintf(fp, ", %" PRId64 " frames", hj_int(cap, "frames", 0));
    if (hj_bool(cap, "interrupted")) {
        fputs("; <b>interrupted</b> by ", fp);
        html_esc_cut(fp, hj_str(cap, "interrupted_by"), 16);
    }
    fputs(".</p>\n<h3>Quality figures (non-zero counters)</h3>\n<table class=\"quality\">\n", fp);
    write_counters(fp, hj_get(doc, "stats", json_type_object), "", 0, &rows);
    fputs("</table>\n", fp);
}

static void write_page(FILE *fp, json_object *doc)
{
    json_object *feds = hj_get(doc, "federations", json_type_array);
    size_t n = feds ? json_object_array_length(feds) : 0;
    struct html_index *ix = html_index_new(doc); /* NULL: the ladders place no steps */

    fputs(page_head, fp);
    fputs("<h1>fedtrace report</h1>\n<p>", fp);
    html_esc_cut(fp, hj_str(doc, "generator") ? hj_str(doc, "generator") : "fedtrace", 64);
    fputs(", schema ", fp);
    html_esc_cut(fp, hj_str(hj_get(doc, "schema", json_type_object), "version"), 16);
    fputs(". <a href=\"#dns\">DNS lookups</a> &#183; <a href=\"#connections\">connections</a> &#183; "
          "<a href=\"#capture\">capture</a></p>\n", fp);
    write_overview(fp, feds);
    for (size_t i = 0; i < n; i++)
        write_federation(fp, doc, ix, json_object_array_get_idx(feds, i), i);
    html_index_free(ix);
    write_lookups(fp, doc);
    write_connections(fp, doc);
    write_capture(fp, doc);
    fputs("</body>\n</html>\n", fp);
}

/* Reads and parses the whole document; NULL with a reason in err. */
static json_object *read_document(FILE *in, char *err, size_t errlen)
{
    struct json_tokener *tok = json_tokener_new_ex(MAX_DEPTH);
    json_object *doc = NULL;
    char *buf = malloc(READ_CHUNK);
    size_t total = 0, got;
    enum json_tokener_error jerr = json_tokener_continue;

    if (!tok || !buf) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    while (!doc && (got = fread(buf, 1, READ_CHUNK, in)) > 0) {
        total += got;
        if (total > HTML_MAX_DOCUMENT) {
            snprintf(err, errlen, "the JSON document is larger than %u MiB", HTML_MAX_DOCUMENT >> 20);
            goto out;
        }
        doc = json_tokener_parse_ex(tok, buf, (int)got);
        jerr = json_tokener_get_error(tok);
        if (!doc && jerr != json_tokener_continue)
            break;
    }
    if (ferror(in)) {
        snprintf(err, errlen, "cannot read the JSON document: %s", strerror(errno));
        json_object_put(doc);
        doc = NULL;
    } else if (!doc) {
        snprintf(err, errlen, "not a JSON document: %s",
                 jerr == json_tokener_continue ? "it ends early" : json_tokener_error_desc(jerr));
    } else if (!json_object_is_type(doc, json_type_object) || !hj_get(doc, "schema", json_type_object)) {
        snprintf(err, errlen, "not a fedtrace JSON document (no schema object)");
        json_object_put(doc);
        doc = NULL;
    }
out:
    json_tokener_free(tok);
    free(buf);
    return doc;
}

int html_report_write(FILE *in, FILE *out, char *err, size_t errlen)
{
    json_object *doc;

    errno = 0;
    doc = read_document(in, err, errlen);
    if (!doc) {
        errno = 0;
        return -1;
    }
    write_page(out, doc);
    json_object_put(doc);
    if (fflush(out) != 0 || ferror(out)) {
        snprintf(err, errlen, "cannot write the report: %s", strerror(errno ? errno : EIO));
        return -1;
    }
    return 0;
}
