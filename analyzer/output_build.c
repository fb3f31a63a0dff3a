/*
 * output_build.c - the small JSON builders every event family uses, as
 * json-c objects and as calls on a writer (output_jwrite.h), the
 * UTF-8-safe writer and the time format (see output_int.h).
 */
#include "output_int.h"

#include <inttypes.h>
#include <string.h>
#include <time.h>

#include "utf8.h"

/* Writes n decimal digits of v (zero-padded) at p. */
static void put_digits(char *p, unsigned long v, int n)
{
    while (n-- > 0) {
        p[n] = (char)('0' + v % 10);
        v /= 10;
    }
}

/* Every timestamp of every element goes through here: plain arithmetic
 * (days to a civil date, as in H. Hinnant's "chrono-compatible low-level
 * date algorithms"), not gmtime_r + strftime + snprintf. */
const char *format_time(int64_t ts_ns, char *buf, size_t len)
{
    int64_t sec = ts_ns / FT_NS_PER_SEC, days, secs, era, doe, yoe, doy, mp, y;
    long usec = (long)((ts_ns % FT_NS_PER_SEC) / 1000);
    unsigned m, d;

    if (usec < 0) {
        sec -= 1;
        usec += 1000000;
    }
    days = sec / 86400;
    secs = sec % 86400;
    if (secs < 0) {
        secs += 86400;
        days -= 1;
    }
    days += 719468;
    era = (days >= 0 ? days : days - 146096) / 146097;
    doe = days - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
    m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
    y = yoe + era * 400 + (m <= 2);
    if (y < 0 || y > 9999 || len < sizeof("YYYY-MM-DDTHH:MM:SS.uuuuuuZ")) {
        char tmp[96];
        size_t n;
        snprintf(tmp, sizeof(tmp), "%04lld-%02u-%02uT%02lld:%02lld:%02lld.%06ldZ", (long long)y, m, d,
                 (long long)(secs / 3600), (long long)(secs / 60 % 60), (long long)(secs % 60), usec);
        if (len == 0)
            return buf;
        n = strlen(tmp) < len ? strlen(tmp) : len - 1;
        memcpy(buf, tmp, n);
        buf[n] = '\0';
        return buf;
    }
    memcpy(buf, "YYYY-MM-DDTHH:MM:SS.uuuuuuZ", sizeof("YYYY-MM-DDTHH:MM:SS.uuuuuuZ"));
    put_digits(buf, (unsigned long)y, 4);
    put_digits(buf + 5, m, 2);
    put_digits(buf + 8, d, 2);
    put_digits(buf + 11, (unsigned long)(secs / 3600), 2);
    put_digits(buf + 14, (unsigned long)(secs / 60 % 60), 2);
    put_digits(buf + 17, (unsigned long)(secs % 60), 2);
    put_digits(buf + 20, (unsigned long)usec, 6);
    return buf;
}

/* A wire-derived string that is missing becomes "", never a NULL handed
 * to json-c.  Its bytes are made valid UTF-8 where the JSON is written
 * (output_emit): json-c passes bytes >= 0x80 through untouched, so that is
 * the one place every string, whatever built it, passes. */
json_object *jstr(const char *s)
{
    return json_object_new_string(s != NULL ? s : "");
}

json_object *jopt_str(const char *s)
{
    return s ? jstr(s) : NULL;
}

json_object *jint(uint64_t v)
{
    return json_object_new_int64((int64_t)v);
}

json_object *jtime(int64_t ts_ns)
{
    char buf[40];
    return jstr(format_time(ts_ns, buf, sizeof(buf)));
}

/* Milliseconds with three decimals, into buf (40 bytes). */
static const char *ms_text(int64_t ns, char *buf, size_t len)
{
    uint64_t a = ns < 0 ? (uint64_t)0 - (uint64_t)ns : (uint64_t)ns; /* a negative offset too */
    snprintf(buf, len, "%s%" PRIu64 ".%03" PRIu64, ns < 0 ? "-" : "", a / 1000000, (a % 1000000) / 1000);
    return buf;
}

json_object *jms(int64_t ns)
{
    char buf[40];
    return json_object_new_double_s((double)ns / 1e6, ms_text(ns, buf, sizeof(buf)));
}

json_object *jw_tree_done(struct jw *w)
{
    json_object *t = jw_tree_take(w);
    jw_free(w);
    return t;
}

json_object *jframe(const struct frame_ref *r)
{
    struct jw w;
    if (!r->frame)
        return NULL;
    jw_tree_init(&w);
    jw_frame(&w, NULL, r);
    return jw_tree_done(&w);
}

json_object *jmeta(const struct ft_meta *m)
{
    struct frame_ref r = frame_ref_of(m);
    return jframe(&r);
}

void jadd_opt(json_object *o, const char *key, json_object *v)
{
    if (v)
        json_object_object_add(o, key, v);
}

json_object *jendpoint(const struct ft_addr *a, uint16_t port)
{
    struct jw w;
    jw_tree_init(&w);
    jw_endpoint(&w, NULL, a, port);
    return jw_tree_done(&w);
}

json_object *jref_uid(const struct output *o, uint64_t id, char prefix)
{
    char uid[32];
    return jstr(output_uid(o, id, prefix, uid, sizeof(uid)));
}

/* json-c has already escaped quotes and controls, and a replacement never
 * touches an ASCII byte, so the JSON around a string stays intact. */
void output_emit(struct output *o, FILE *fp, const char *json)
{
    output_emit_len(o, fp, json, strlen(json));
}

void output_emit_len(struct output *o, FILE *fp, const char *json, size_t len)
{
    (void)utf8_fwrite_clean(fp, json, len, true, &o->utf8_replaced);
}

/* ---- the same, on a writer ---------------------------------------------- */

void jw_time(struct jw *w, const char *key, int64_t ts_ns)
{
    char buf[40];
    jw_str(w, key, format_time(ts_ns, buf, sizeof(buf)));
}

void jw_ms(struct jw *w, const char *key, int64_t ns)
{
    char buf[40];
    jw_number(w, key, (double)ns / 1e6, ms_text(ns, buf, sizeof(buf)));
}

void jw_frame_members(struct jw *w, const struct frame_ref *r)
{
    jw_int(w, "frame", (int64_t)r->frame);
    jw_time(w, "ts", r->ts_ns);
    jw_int(w, "source", (int64_t)r->source);
    jw_int(w, "source_frame", (int64_t)r->src_frame);
}

void jw_frame(struct jw *w, const char *key, const struct frame_ref *r)
{
    if (!r->frame) {
        if (!key)
            jw_null(w, NULL); /* an array keeps its place */
        return;
    }
    jw_open(w, key);
    jw_frame_members(w, r);
    jw_close(w);
}

void jw_endpoint(struct jw *w, const char *key, const struct ft_addr *a, uint16_t port)
{
    char buf[FT_ADDR_STRLEN];
    jw_open(w, key);
    jw_str(w, "ip", ft_addr_str(a, buf, sizeof(buf)));
    jw_int(w, "port", port);
    jw_close(w);
}

void jw_uid(struct jw *w, const char *key, const struct output *o, uint64_t id, char prefix)
{
    char uid[32];
    jw_str(w, key, output_uid(o, id, prefix, uid, sizeof(uid)));
}
