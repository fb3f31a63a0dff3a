/*
 * output_ladder.c - the ladder (sequence) diagram of one federation
 * direction, as inline SVG: one lane per party (local client, local
 * server, DNS resolver, firewall/NAT, remote server, remote client), one
 * arrow per timeline step with its time relative to the first step and
 * its frame, the failing step in red.  Consecutive repeats (retries) are
 * drawn once with a count.  Parties are recognised from the document: the
 * DNS lookups' servers, the stream headers' from/to on each connection,
 * and the firewall/NAT from the direction's nat_pairs (the correlator's
 * pairing of the two observers' copies of a connection).  Connections and
 * lookups are found through the page's uid index.
 */
#include <config.h>

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "output_html_int.h"

#define MAX_LANES 12
#define MAX_STEPS 600     /* drawn; the rest are counted */
#define LANE_W 165
#define LEFT 10
#define TIME_W 175        /* the time and frame column, left of the lanes */
#define TOP 64
#define ROW 30
#define NO_LANE UINT32_MAX
#define NAT_PAIRS_MAX 4   /* nat_pairs read (the schema's maxItems) */

enum role { ROLE_LOCAL_CLIENT, ROLE_LOCAL_SERVER, ROLE_DNS, ROLE_NAT, ROLE_REMOTE_SERVER, ROLE_REMOTE_CLIENT, ROLE_HOST };

static const char *const role_name[] = {
    "local client", "local server", "DNS resolver", "firewall/NAT", "remote server", "remote client", "host",
};

struct lane {
    char ip[64];
    enum role role;
    const char *domain;   /* in the document */
    unsigned order;       /* first appearance */
    unsigned x;           /* centre, once placed */
};

struct step {
    json_object *entry;
    uint32_t from, to;    /* lane index, or NO_LANE */
    unsigned count;       /* 1, or the repeats collapsed into it */
    int64_t last_frame;
    bool failing;
};

struct ladder {
    json_object *doc;
    const struct html_index *ix;
    const char *local;
    const char *from, *to; /* the direction's domains */
    struct lane lanes[MAX_LANES];
    unsigned nlanes;
    struct step *steps;
    unsigned nsteps, not_drawn;
    int64_t t0;
    bool have_t0;
};

static bool private_ip(const char *ip)
{
    unsigned a, b;
    if (strchr(ip, ':'))
        return strncasecmp(ip, "fc", 2) == 0 || strncasecmp(ip, "fd", 2) == 0 || strncasecmp(ip, "fe80", 4) == 0;
    if (sscanf(ip, "%u.%u", &a, &b) != 2)
        return false;
    return a == 10 || (a == 172 && b >= 16 && b <= 31) || (a == 192 && b == 168) || (a == 100 && b >= 64 && b <= 127);
}

/* The lane of ip, added when new (NO_LANE when the lanes are full). */
static uint32_t lane_of(struct ladder *l, const char *ip)
{
    if (!ip)
        return NO_LANE;
    for (unsigned i = 0; i < l->nlanes; i++)
        if (strcmp(l->lanes[i].ip, ip) == 0)
            return i;
    if (l->nlanes == MAX_LANES || strlen(ip) >= sizeof(l->lanes[0].ip))
        return NO_LANE;
    snprintf(l->lanes[l->nlanes].ip, sizeof(l->lanes[0].ip), "%s", ip);
    l->lanes[l->nlanes].role = ROLE_HOST;
    l->lanes[l->nlanes].order = l->nlanes;
    return l->nlanes++;
}

/* The lane of ip when it has one (never adds). */
static uint32_t find_lane(const struct ladder *l, const char *ip)
{
    for (unsigned i = 0; ip && i < l->nlanes; i++)
        if (strcmp(l->lanes[i].ip, ip) == 0)
            return i;
    return NO_LANE;
}

/* A server of `domain` at lane li: local or remote. */
static void claim(struct ladder *l, uint32_t li, const char *domain)
{
    struct lane *ln;
    if (li == NO_LANE || !domain || !*domain)
        return;
    ln = &l->lanes[li];
    if (ln->role != ROLE_HOST && ln->role != ROLE_DNS)
        return;
    ln->domain = domain;
    ln->role = l->local && strcasecmp(domain, l->local) == 0 ? ROLE_LOCAL_SERVER : ROLE_REMOTE_SERVER;
}

/* Stream headers and ports tell who each end of connection c is. */
static void learn_conn(struct ladder *l, json_object *c, uint32_t lo, uint32_t lr)
{
    json_object *ev = hj_get(c, "xmpp", json_type_array);
    json_object *resp = hj_get(c, "resp", json_type_object);
    int64_t port = hj_int(resp, "port", 0);

    for (size_t i = 0; ev && i < json_object_array_length(ev) && i < 64; i++) {
        json_object *e = json_object_array_get_idx(ev, i);
        const char *type = hj_str(e, "type"), *dir = hj_str(e, "dir");
        if (!type || !dir || strcmp(type, "stream_open") != 0)
            continue;
        if (strcmp(dir, "orig") == 0) {
            claim(l, lo, hj_str(e, "from"));
            claim(l, lr, hj_str(e, "to"));
        } else {
            claim(l, lr, hj_str(e, "from"));
        }
    }
    if ((port == 5222 || port == 5223) && lo != NO_LANE && l->lanes[lo].role == ROLE_HOST)
        l->lanes[lo].role = lr != NO_LANE && l->lanes[lr].role == ROLE_REMOTE_SERVER ? ROLE_REMOTE_CLIENT
                                                                                      : ROLE_LOCAL_CLIENT;
}

/* The address that differs between two copies of one connection, the
 * public one of a private/public pair: the NAT's outside address. */
static const char *nat_address(json_object *a, json_object *b, const char *end)
{
    const char *ia = hj_str(hj_get(a, end, json_type_object), "ip");
    const char *ib = hj_str(hj_get(b, end, json_type_object), "ip");
    if (!ia || !ib || strcmp(ia, ib) == 0 || private_ip(ia) == private_ip(ib))
        return NULL;
    return private_ip(ia) ? ib : ia;
}

/* The firewall/NAT lane from nat_pairs: the public address one observer
 * saw in place of the private one the other saw.  The direction's own
 * pairs add the lane (and both copies teach roles: the timeline may cite
 * one copy only); the other direction's pairs only mark a lane already
 * there (a connection the NAT never forwarded has no twin of its own). */
static void mark_nat_pairs(struct ladder *l, json_object *pairs, bool own)
{
    for (size_t i = 0; pairs && i < json_object_array_length(pairs) && i < NAT_PAIRS_MAX; i++) {
        json_object *p = json_object_array_get_idx(pairs, i);
        json_object *c[2] = { html_index_get(l->ix, HTML_CONNECTIONS, hj_str(p, "uid")),
                              html_index_get(l->ix, HTML_CONNECTIONS, hj_str(p, "nat_peer")) };
        const char *nat;
        uint32_t li;
        if (!c[0] || !c[1])
            continue;
        for (int k = 0; own && k < 2; k++)
            learn_conn(l, c[k], find_lane(l, hj_str(hj_get(c[k], "orig", json_type_object), "ip")),
                       find_lane(l, hj_str(hj_get(c[k], "resp", json_type_object), "ip")));
        if (!(nat = nat_address(c[0], c[1], "orig")))
            nat = nat_address(c[0], c[1], "resp");
        li = own ? lane_of(l, nat) : find_lane(l, nat);
        if (li != NO_LANE)
            l->lanes[li].role = ROLE_NAT;
    }
}

static void mark_nat(struct ladder *l, json_object *fed, json_object *dir)
{
    json_object *dirs = hj_get(fed, "directions", json_type_array);
    mark_nat_pairs(l, hj_get(dir, "nat_pairs", json_type_array), true);
    for (size_t i = 0; dirs && i < json_object_array_length(dirs) && i < 2; i++) {
        json_object *other = json_object_array_get_idx(dirs, i);
        if (other != dir)
            mark_nat_pairs(l, hj_get(other, "nat_pairs", json_type_array), false);
    }
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return m && n >= m && strcasecmp(s + n - m, suffix) == 0 && (n == m || s[n - m - 1] == '.');
}

static void endpoint_text(json_object *ep, char *buf, size_t len)
{
    const char *ip = hj_str(ep, "ip");
    bool v6 = ip && strchr(ip, ':');
    snprintf(buf, len, "%s%s%s:%" PRId64, v6 ? "[" : "", ip ? ip : "?", v6 ? "]" : "", hj_int(ep, "port", 0));
}

/* Which lanes a timeline entry goes between. */
static void place_step(struct ladder *l, struct step *s)
{
    const char *what = hj_str(s->entry, "what");
    json_object *o;

    s->from = s->to = NO_LANE;
    if (!what)
        what = "";
    if ((o = html_index_get(l->ix, HTML_DNS, hj_str(s->entry, "dns")))) {
        uint32_t c = lane_of(l, hj_str(hj_get(o, "client", json_type_object), "ip"));
        uint32_t v = lane_of(l, hj_str(hj_get(o, "server", json_type_object), "ip"));
        const char *qname = hj_str(o, "qname");
        if (v != NO_LANE && l->lanes[v].role == ROLE_HOST)
            l->lanes[v].role = ROLE_DNS;
        /* who asks for the receiving domain is the sender's server, and
         * the other way round (the connect-back) */
        if (c != NO_LANE && l->lanes[c].role == ROLE_HOST && qname && l->from && l->to)
            claim(l, c, ends_with(qname, l->to) ? l->from : ends_with(qname, l->from) ? l->to : NULL);
        bool answer = strncmp(what, "DNS query", 9) != 0;
        s->from = answer ? v : c;
        s->to = answer ? c : v;
    } else if ((o = html_index_get(l->ix, HTML_CONNECTIONS, hj_str(s->entry, "uid")))) {
        char resp_ep[96], needle[104];
        json_object *resp = hj_get(o, "resp", json_type_object);
        uint32_t lo = lane_of(l, hj_str(hj_get(o, "orig", json_type_object), "ip"));
        uint32_t lr = lane_of(l, hj_str(resp, "ip"));
        bool back;
        endpoint_text(resp, resp_ep, sizeof(resp_ep));
        snprintf(needle, sizeof(needle), "from %s", resp_ep);
        back = strncmp(what, "<-", 2) == 0 || strncmp(what, "SYN-ACK", 7) == 0 ||
               (strncmp(what, "->", 2) != 0 && strstr(what, needle));
        learn_conn(l, o, lo, lr);
        /* no stream header (the SYN was not answered): the direction's
         * two domains, the known end telling which is which */
        if (lr != NO_LANE && l->lanes[lr].role == ROLE_HOST)
            claim(l, lr, lo != NO_LANE && l->lanes[lo].domain && l->to && strcasecmp(l->lanes[lo].domain, l->to) == 0
                             ? l->from : l->to);
        if (lo != NO_LANE && l->lanes[lo].role == ROLE_HOST)
            claim(l, lo, lr != NO_LANE && l->lanes[lr].domain && l->from &&
                                 strcasecmp(l->lanes[lr].domain, l->from) == 0 ? l->to : l->from);
        s->from = back ? lr : lo;
        s->to = back ? lo : lr;
    }
}

/* Two steps are repeats when they join the same lanes and their text
 * differs only in digits (ports, counts, ids). */
static bool same_kind(const struct step *a, const struct step *b)
{
    const char *x = hj_str(a->entry, "what"), *y = hj_str(b->entry, "what");
    if (a->from != b->from || a->to != b->to || a->failing || b->failing || !x || !y)
        return false;
    while (*x || *y) {
        while (*x >= '0' && *x <= '9')
            x++;
        while (*y >= '0' && *y <= '9')
            y++;
        if (*x != *y)
            return false;
        if (*x) {
            x++;
            y++;
        }
    }
    return true;
}

static bool is_failing_frame(json_object *v, int64_t frame)
{
    json_object *frames = hj_get(hj_get(v, "evidence", json_type_object), "frames", json_type_array);
    const char *status = hj_str(v, "status");
    json_object *first;
    if (!status || strcmp(status, "failed") != 0 || !frames || json_object_array_length(frames) == 0)
        return false;
    first = json_object_array_get_idx(frames, 0);
    return json_object_is_type(first, json_type_int) && json_object_get_int64(first) == frame;
}

static int by_role(const void *a, const void *b)
{
    const struct lane *x = a, *y = b;
    if (x->role != y->role)
        return (int)x->role - (int)y->role;
    return (int)x->order - (int)y->order;
}

static void write_reltime(FILE *fp, struct ladder *l, json_object *e)
{
    int64_t ns;
    if (!html_parse_time(hj_str(e, "ts"), &ns)) {
        fputs("?", fp);
        return;
    }
    if (!l->have_t0) {
        l->t0 = ns;
        l->have_t0 = true;
    }
    ns -= l->t0;
    if (ns < 1000000000 && ns > -1000000000)
        fprintf(fp, "+%.3f ms", (double)ns / 1e6);
    else
        fprintf(fp, "+%.3f s", (double)ns / 1e9);
}

static void draw_lanes(FILE *fp, const struct ladder *l, unsigned height)
{
    for (unsigned i = 0; i < l->nlanes; i++) {
        const struct lane *ln = &l->lanes[i];
        fprintf(fp, "<g class=\"lane\" data-role=\"%s\">\n", role_name[ln->role]);
        fprintf(fp, "<rect x=\"%u\" y=\"6\" width=\"%u\" height=\"44\" rx=\"5\" fill=\"#eef3fb\" stroke=\"#7a8fb5\"/>\n",
                ln->x - LANE_W / 2 + 6, LANE_W - 12);
        fprintf(fp, "<text x=\"%u\" y=\"22\" text-anchor=\"middle\" font-weight=\"bold\">%s</text>\n", ln->x,
                role_name[ln->role]);
        fprintf(fp, "<text x=\"%u\" y=\"35\" text-anchor=\"middle\">", ln->x);
        html_esc_cut(fp, ln->domain ? ln->domain : "", 26);
        fprintf(fp, "</text>\n<text x=\"%u\" y=\"46\" text-anchor=\"middle\">", ln->x);
        html_esc_cut(fp, ln->ip, 26);
        fprintf(fp, "</text>\n<line x1=\"%u\" y1=\"50\" x2=\"%u\" y2=\"%u\" stroke=\"#999\" stroke-dasharray=\"4 3\"/>\n</g>\n",
                ln->x, ln->x, height - 10);
    }
}

static void draw_step(FILE *fp, struct ladder *l, const struct step *s, unsigned y, unsigned text_x)
{
    const char *colour = s->failing ? "#c62828" : "#333";
    const char *what = hj_str(s->entry, "what");
    unsigned x1, x2;

    fprintf(fp, "<g class=\"step%s\">\n<title>", s->failing ? " failing" : "");
    html_esc_cut(fp, what, 600);
    fputs("</title>\n", fp);
    if (s->from != NO_LANE && s->to != NO_LANE && s->from != s->to) {
        x1 = l->lanes[s->from].x;
        x2 = l->lanes[s->to].x;
        int dir = x2 > x1 ? 1 : -1;
        fprintf(fp, "<line x1=\"%u\" y1=\"%u\" x2=\"%d\" y2=\"%u\" stroke=\"%s\" stroke-width=\"%s\"/>\n", x1, y,
                (int)x2 - dir * 8, y, colour, s->failing ? "2.5" : "1.3");
        fprintf(fp, "<polygon points=\"%u,%u %d,%u %d,%u\" fill=\"%s\"/>\n", x2, y, (int)x2 - dir * 9, y - 4,
                (int)x2 - dir * 9, y + 4, colour);
        fprintf(fp, "<text x=\"%u\" y=\"%u\" fill=\"%s\">", (x1 < x2 ? x1 : x2) + 8, y - 4, colour);
        html_esc_cut(fp, what, (size_t)(x1 < x2 ? x2 - x1 : x1 - x2) / 7);
        fputs("</text>\n", fp);
    } else {
        unsigned x = s->from != NO_LANE ? l->lanes[s->from].x : (unsigned)(LEFT + TIME_W) + 4;
        fprintf(fp, "<circle cx=\"%u\" cy=\"%u\" r=\"4\" fill=\"%s\"/>\n", x, y, colour);
    }
    /* time and frame left of the lanes, what happened right of them */
    fprintf(fp, "<text class=\"when\" x=\"%u\" y=\"%u\" fill=\"%s\">", LEFT, y + 4, colour);
    write_reltime(fp, l, s->entry);
    fputs(" ", fp);
    html_frame_ref(fp, l->doc, s->entry);
    if (s->count > 1)
        fprintf(fp, "..%" PRId64 " (x%u)", s->last_frame, s->count);
    fprintf(fp, "</text>\n<text x=\"%u\" y=\"%u\" fill=\"%s\">", text_x, y + 4, colour);
    html_esc_cut(fp, what, 110);
    fputs("</text>\n</g>\n", fp);
}

unsigned html_ladder(FILE *fp, json_object *doc, const struct html_index *ix, json_object *fed, json_object *dir)
{
    json_object *tl = hj_get(dir, "timeline", json_type_array);
    json_object *v = hj_get(dir, "verdict", json_type_object);
    size_t n = tl ? json_object_array_length(tl) : 0;
    struct ladder *l = calloc(1, sizeof(*l));
    unsigned width, height, text_x, y;
    bool failed = hj_str(v, "status") && strcmp(hj_str(v, "status"), "failed") == 0, fail_drawn = false;
    uint32_t remap[MAX_LANES];

    if (!ix || !l || !(l->steps = calloc(n < MAX_STEPS ? n + 1 : MAX_STEPS + 1, sizeof(*l->steps)))) {
        fputs("<p>(no memory for the diagram)</p>\n", fp);
        free(l);
        return 0;
    }
    l->doc = doc;
    l->ix = ix;
    l->local = hj_str(fed, "local") ? hj_str(fed, "local") : hj_str(dir, "from");
    l->from = hj_str(dir, "from");
    l->to = hj_str(dir, "to");
    for (size_t i = 0; i < n; i++) {
        struct step s = { .entry = json_object_array_get_idx(tl, i), .count = 1 };
        if (!json_object_is_type(s.entry, json_type_object))
            continue;
        s.failing = is_failing_frame(v, hj_int(s.entry, "frame", -1));
        s.last_frame = hj_int(s.entry, "source_frame", hj_int(s.entry, "frame", 0));
        place_step(l, &s);
        if (l->nsteps && same_kind(&l->steps[l->nsteps - 1], &s)) {
            l->steps[l->nsteps - 1].count++;
            l->steps[l->nsteps - 1].last_frame = s.last_frame;
            continue;
        }
        if (l->nsteps == MAX_STEPS) {
            l->not_drawn++;
            continue;
        }
        fail_drawn |= s.failing;
        l->steps[l->nsteps++] = s;
    }
    mark_nat(l, fed, dir);
    /* Lanes in the reader's order: local side left, remote side right. */
    {
        struct lane sorted[MAX_LANES];
        memcpy(sorted, l->lanes, sizeof(sorted));
        qsort(sorted, l->nlanes, sizeof(sorted[0]), by_role);
        for (unsigned i = 0; i < l->nlanes; i++)
            for (unsigned j = 0; j < l->nlanes; j++)
                if (strcmp(sorted[i].ip, l->lanes[j].ip) == 0)
                    remap[j] = i;
        memcpy(l->lanes, sorted, sizeof(sorted));
        for (unsigned i = 0; i < l->nsteps; i++) {
            if (l->steps[i].from != NO_LANE)
                l->steps[i].from = remap[l->steps[i].from];
            if (l->steps[i].to != NO_LANE)
                l->steps[i].to = remap[l->steps[i].to];
        }
        for (unsigned i = 0; i < l->nlanes; i++)
            l->lanes[i].x = LEFT + TIME_W + LANE_W / 2 + i * LANE_W;
    }
    text_x = LEFT + TIME_W + (l->nlanes ? l->nlanes : 1) * LANE_W + 10;
    width = text_x + 760;
    height = TOP + (l->nsteps + (failed && !fail_drawn) + (l->not_drawn > 0)) * ROW + 20;
    fprintf(fp, "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"ladder\" width=\"%u\" height=\"%u\" "
                "viewBox=\"0 0 %u %u\" role=\"img\">\n", width, height, width, height);
    draw_lanes(fp, l, height);
    y = TOP;
    for (unsigned i = 0; i < l->nsteps; i++, y += ROW)
        draw_step(fp, l, &l->steps[i], y, text_x);
    if (failed && !fail_drawn) {
        /* The decisive thing is an absence: the line stops here. */
        fprintf(fp, "<g class=\"step failing\">\n<text x=\"%u\" y=\"%u\" fill=\"#c62828\" font-weight=\"bold\">"
                    "&#10007; the exchange stops here: ", LEFT + 4, y);
        html_esc_cut(fp, hj_str(v, "code"), 64);
        fputs("</text>\n</g>\n", fp);
        y += ROW;
    }
    if (l->not_drawn)
        fprintf(fp, "<text x=\"%u\" y=\"%u\">%u more steps not drawn (the JSON document has them)</text>\n",
                LEFT + 4, y, l->not_drawn);
    fputs("</svg>\n", fp);
    n = l->nsteps;
    free(l->steps);
    free(l);
    return (unsigned)n;
}
