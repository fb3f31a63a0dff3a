/*
 * scenario.c - one federation's life on the wire, as Prosody 0.12 and
 * ejabberd 23.01 play it (see the project's server-behaviour notes):
 *
 *   user's c2s subscribe -> A's DNS (SRV, then A+AAAA of the target)
 *   -> C1 A->B: stream headers [STARTTLS + TLS 1.3] db:result
 *   -> B resolves A and connects back: Prosody's own link C2 B->A carries
 *      its db:result and the db:verify of A's key; ejabberd opens a
 *      verify-only C3 first and its own link later
 *   -> db:verify valid both ways, db:result valid both ways
 *   -> subscribe on C1, Prosody's 'unavailable' ack and 'subscribed' on C2,
 *      relayed to the users' c2s connections
 *   -> long-lived chat both ways (messages of varied size with entities and
 *      multibyte UTF-8, presence, iq ping, vCards), then
 *      </stream:stream> and FIN (sometimes RST after the close).
 *
 * Each scenario bends one step (DNS error, refused or dropped SYNs,
 * connect-back dropped, dialback invalid from another provider,
 * host-unknown, TLS closed after the handshake or alerted, subscription
 * unanswered or declined) and records the truth of each direction.
 */
#include "content.h"
#include "xlink.h"

#include <string.h>

static const char *const scen_names[SC_COUNT] = {
    [SC_OK_DB] = "ok-dialback",
    [SC_OK_TLS] = "ok-starttls",
    [SC_OK_EJ] = "ok-ejabberd-verify-conn",
    [SC_OK_TC] = "ok-dns-tc-tcp",
    [SC_SUB_PENDING] = "subscribe-unanswered",
    [SC_SUB_DENIED] = "subscribe-declined",
    [SC_DNS_NX] = "dns-nxdomain",
    [SC_DNS_SERVFAIL] = "dns-servfail",
    [SC_DNS_TIMEOUT] = "dns-unanswered",
    [SC_DNS_TC_NOTCP] = "dns-truncated-no-tcp",
    [SC_TCP_RST] = "tcp-refused",
    [SC_TCP_DROP] = "tcp-syn-dropped",
    [SC_FW_INBOUND] = "connect-back-dropped",
    [SC_DB_WRONG_AUTH] = "dialback-invalid-other-provider",
    [SC_HOST_UNKNOWN] = "host-unknown",
    [SC_TLS_REJECT] = "tls-closed-after-handshake",
    [SC_TLS_ALERT] = "tls-alert-bad-certificate",
    [SC_BACK_REFUSED] = "connect-back-refused",
    [SC_BACK_UNRESOLVED] = "connect-back-unresolvable",
    [SC_MID_CLEAR] = "midstream-cleartext",
    [SC_MID_TLS] = "midstream-starttls",
};

const char *scenario_name(int scen)
{
    return scen >= 0 && scen < SC_COUNT ? scen_names[scen] : "?";
}

int scenario_for(struct gen *g, uint32_t a, uint32_t b, bool midstream)
{
    const struct domain *da = &g->w->dom[a], *db = &g->w->dom[b];
    if (midstream) {
        bool healthy = (da->fault == DF_NONE || da->fault == DF_DNS_BIG) &&
                       (db->fault == DF_NONE || db->fault == DF_DNS_BIG);
        if (!healthy)
            return SC_COUNT;
        return da->tls && db->tls ? SC_MID_TLS : SC_MID_CLEAR;
    }
    /* the receiving domain's fault stops the initiator first */
    switch (db->fault) {
    case DF_DNS_NX: return SC_DNS_NX;
    case DF_DNS_SERVFAIL: return SC_DNS_SERVFAIL;
    case DF_DNS_TIMEOUT: return SC_DNS_TIMEOUT;
    case DF_DNS_TC_NOTCP: return SC_DNS_TC_NOTCP;
    case DF_REFUSES: return SC_TCP_RST;
    case DF_INBOUND_BLOCKED: return SC_TCP_DROP;
    case DF_OTHER_PROVIDER: return SC_HOST_UNKNOWN;
    case DF_EXPIRED_CERT: return SC_TLS_ALERT;
    default: break;
    }
    /* the initiator's fault meets the receiver's connect-back */
    switch (da->fault) {
    case DF_INBOUND_BLOCKED: return SC_FW_INBOUND;
    case DF_REFUSES: return SC_BACK_REFUSED;
    case DF_DNS_NX:
    case DF_DNS_SERVFAIL:
    case DF_DNS_TIMEOUT:
    case DF_DNS_TC_NOTCP: return SC_BACK_UNRESOLVED;
    case DF_OTHER_PROVIDER: return SC_DB_WRONG_AUTH;
    case DF_BAD_CERT: return SC_TLS_REJECT;
    default: break;
    }
    unsigned r = rng_below(&g->rng, 100);
    if (r < 4)
        return SC_SUB_PENDING;
    if (r < 7)
        return SC_SUB_DENIED;
    if (db->fault == DF_DNS_BIG)
        return SC_OK_TC;
    if (da->tls && db->tls && da->fault != DF_EXPIRED_CERT) /* peers would refuse its certificate */
        return SC_OK_TLS;
    return db->kind == SRV_EJABBERD ? SC_OK_EJ : SC_OK_DB;
}

/* ---- truth ------------------------------------------------------------------ */
static struct dtruth *truth_fail(struct gen *g, struct fed *f, uint32_t from, uint32_t to, const char *stage,
                                 const char *code, uint32_t need, uint64_t t)
{
    struct dtruth *d = world_truth(g, from, to, f);
    d->outcome = OUT_FAILED;
    d->fail_stage = stage;
    d->code = code;
    d->need = need;
    d->first_us = t;
    return d;
}

static struct dtruth *truth_ok(struct gen *g, struct fed *f, uint32_t from, uint32_t to, uint64_t t)
{
    struct dtruth *d = world_truth(g, from, to, f);
    d->outcome = OUT_OK;
    d->code = "OK";
    d->first_us = t;
    return d;
}

static void make_truth(struct gen *g, struct fed *f, uint64_t t)
{
    uint32_t a = f->a, b = f->b;
    switch (f->scen) {
    case SC_SUB_PENDING:
        /* The federation works; the user has not answered (yet). */
        f->d[0] = truth_ok(g, f, a, b, t);
        f->d[0]->code = "STZ-SUB-PENDING";
        f->d[0]->need = M_SUBSENT;
        f->d[0]->pending = true;
        f->d[1] = truth_ok(g, f, b, a, t);
        break;
    case SC_SUB_DENIED:
        f->d[0] = truth_fail(g, f, a, b, "subscribe", "STZ-UNSUBSCRIBED", M_FAIL, t);
        f->d[1] = truth_ok(g, f, b, a, t);
        break;
    case SC_DNS_NX:
        f->d[0] = truth_fail(g, f, a, b, "lookup", "DNS-SRV-NXDOMAIN", M_FAIL, t);
        break;
    case SC_DNS_SERVFAIL:
        f->d[0] = truth_fail(g, f, a, b, "lookup", "DNS-SERVFAIL", M_FAIL, t);
        break;
    case SC_DNS_TIMEOUT:
        f->d[0] = truth_fail(g, f, a, b, "lookup", "DNS-TIMEOUT", M_FAIL, t);
        break;
    case SC_DNS_TC_NOTCP:
        f->d[0] = truth_fail(g, f, a, b, "lookup", "DNS-TRUNC-NO-TCP", M_FAIL, t);
        break;
    case SC_TCP_RST:
        f->d[0] = truth_fail(g, f, a, b, "connect", "TCP-RST", M_FAIL, t);
        break;
    case SC_TCP_DROP:
        f->d[0] = truth_fail(g, f, a, b, "connect", "TCP-NO-SYNACK", M_FAIL, t);
        break;
    case SC_FW_INBOUND:
        f->d[0] = truth_fail(g, f, a, b, "dialback", "DB-NO-BACKCONN", M_FAIL, t);
        f->d[1] = truth_fail(g, f, b, a, "connect", "TCP-NO-SYNACK", M_FAIL, t);
        break;
    case SC_BACK_REFUSED:
        f->d[0] = truth_fail(g, f, a, b, "dialback", "DB-NO-BACKCONN", M_FAIL, t);
        f->d[1] = truth_fail(g, f, b, a, "connect", "TCP-RST", M_FAIL, t);
        break;
    case SC_BACK_UNRESOLVED: {
        static const char *const codes[] = {[DF_DNS_NX] = "DNS-SRV-NXDOMAIN", [DF_DNS_SERVFAIL] = "DNS-SERVFAIL",
                                            [DF_DNS_TIMEOUT] = "DNS-TIMEOUT", [DF_DNS_TC_NOTCP] = "DNS-TRUNC-NO-TCP"};
        f->d[0] = truth_fail(g, f, a, b, "dialback", "DB-NO-BACKCONN", M_FAIL, t);
        f->d[1] = truth_fail(g, f, b, a, "lookup", codes[g->w->dom[a].fault], M_FAIL, t);
        break;
    }
    case SC_DB_WRONG_AUTH:
        f->d[0] = truth_fail(g, f, a, b, "dialback", "DB-WRONG-AUTH", M_FAIL, t);
        /* b's verify-only link to the other provider carries nothing of its own */
        f->d[1] = world_truth(g, b, a, f);
        f->d[1]->outcome = OUT_NONE;
        f->d[1]->code = "-";
        f->d[1]->first_us = t;
        break;
    case SC_HOST_UNKNOWN:
        f->d[0] = truth_fail(g, f, a, b, "stream", "STR-HOST-UNKNOWN", M_FAIL, t);
        break;
    case SC_TLS_REJECT:
        f->d[0] = truth_fail(g, f, a, b, "tls", "TLS-CLOSED-AFTER-HANDSHAKE", M_FAIL, t);
        f->d[0]->encrypted = true;
        break;
    case SC_TLS_ALERT:
        f->d[0] = truth_fail(g, f, a, b, "tls", "TLS-ALERT", M_FAIL, t);
        break;
    default:
        f->d[0] = truth_ok(g, f, a, b, t);
        f->d[1] = truth_ok(g, f, b, a, t);
        if (f->scen == SC_OK_TLS || f->scen == SC_MID_TLS)
            f->d[0]->encrypted = f->d[1]->encrypted = true;
        if (f->scen == SC_MID_CLEAR || f->scen == SC_MID_TLS)
            f->d[0]->midstream = f->d[1]->midstream = true;
        break;
    }
}

/* ---- chat ------------------------------------------------------------------ */
static void fed_chat(struct gen *g, void *arg, uint64_t t);
static void fed_retry(struct gen *g, void *arg, uint64_t t);

static void bounce(struct gen *g, struct fed *f, uint64_t t, const char *cond)
{
    struct xconn *x = &f->ca;
    if (!x->live)
        return;
    struct domain *da = D(g, f->a), *db = D(g, f->b);
    struct sbuf *b = &g->w->sb;
    sb_reset(b);
    sb_printf(b,
              "<presence type='error' from='%s@%s' to='%s@%s/%s'><error type='%s' by='%s'><%s xmlns='" NS_STANZAS
              "'/><text xmlns='" NS_STANZAS "'>Server-to-server connection failed: %s</text></error></presence>",
              f->ub, db->name, f->ua, da->name, f->res_a, strcmp(cond, "remote-server-timeout") ? "cancel" : "wait",
              da->name, cond, strcmp(cond, "remote-server-timeout") ? "Could not connect to server" : "timeout");
    xsend(g, x, NULL, 1, t, b);
}

static void fed_finish(struct gen *g, struct fed *f, uint64_t t)
{
    leg_close(g, &f->c1, f->d[0], t);
    leg_close(g, &f->c2, f->d[1], t + 500);
    if (f->c3.live)
        leg_close(g, &f->c3, NULL, t + 700);
    c2s_close(g, &f->ca, t + 2000);
    c2s_close(g, &f->cb, t + 2500);
    if (f->chatting) {
        f->chatting = false;
        g->w->chatting--;
    }
    f->active = false;
}

static void chat_start(struct gen *g, struct fed *f, uint64_t t, double lifetime_s)
{
    f->end_us = t + (uint64_t)(lifetime_s * 1e6);
    f->chatting = true;
    g->w->chatting++;
    q_push_wake(g, t + (uint64_t)rng_exp(&g->rng, 1.5e6), fed_chat, f);
}

/* s2s carries stanzas one way: a's users' stanzas ride C1, b's ride C2. */
static void fed_chat(struct gen *g, void *arg, uint64_t t)
{
    struct fed *f = arg;
    if (!f->active)
        return;
    if (t >= f->end_us || g->stopped) {
        fed_finish(g, f, t);
        return;
    }
    uint64_t before = g->st.gen_xmpp;
    struct domain *da = D(g, f->a), *db = D(g, f->b);
    struct sbuf *b = &g->w->sb;
    bool ab = rng_chance(&g->rng, 0.55);
    struct xconn *link = ab ? &f->c1 : &f->c2;
    struct dtruth *dt = ab ? f->d[0] : f->d[1];
    struct xconn *src_c2s = ab ? &f->ca : &f->cb, *dst_c2s = ab ? &f->cb : &f->ca;
    const struct domain *sd = ab ? da : db, *rd = ab ? db : da;
    const char *su = ab ? f->ua : f->ub, *ru = ab ? f->ub : f->ua;
    const char *sres = ab ? f->res_a : f->res_b;
    char id[16], from[128], to[128];
    stanza_id(g, id);
    snprintf(from, sizeof from, "%s@%s/%s", su, sd->name, sres);
    snprintf(to, sizeof to, "%s@%s", ru, rd->name);
    unsigned r = rng_below(&g->rng, 100);
    sb_reset(b);
    if (r < 62) { /* a chat message, relayed client -> server -> server -> client */
        sb_printf(b, "<message type='chat' id='%s' to='%s'><body>", id, to);
        body_text(g, b, body_size(g));
        sb_printf(b, "</body><active xmlns='http://jabber.org/protocol/chatstates'/>"
                     "<request xmlns='urn:xmpp:receipts'/></message>");
        if (src_c2s->live)
            t = xsend(g, src_c2s, NULL, 0, t, b);
        /* on s2s the server adds from and xml:lang */
        struct sbuf *b2 = &g->w->sb2;
        sb_reset(b2);
        sb_printf(b2, "<message xml:lang='en' from='%s' type='chat' id='%s' to='%s'>", from, id, to);
        const char *inner = strstr(b->p, "><body>");
        if (inner)
            sb_append(b2, inner + 1, strlen(inner + 1));
        t = xsend(g, link, dt, 0, t, b2);
        if (dst_c2s->live)
            t = xsend(g, dst_c2s, NULL, 1, t, b2);
    } else if (r < 75) { /* presence broadcast */
        static const char *const shows[] = {"away", "dnd", "xa", "chat"};
        bool french = rng_chance(&g->rng, 0.5);
        unsigned show = rng_below(&g->rng, 4);
        sb_printf(b,
                  "<presence from='%s' to='%s'><show>%s</show><status>%s</status>"
                  "<c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='http://gajim.org' "
                  "ver='q07IKJEyjvHSyhy//CH0CxmKi8w='/></presence>",
                  from, to, shows[show], french ? "En r\xc3\xa9union" : "bin weg");
        t = xsend(g, link, dt, 0, t, b);
    } else if (r < 88) { /* XEP-0199 ping: the result travels on the other link */
        sb_printf(b, "<iq type='get' id='%s' from='%s' to='%s'><ping xmlns='urn:xmpp:ping'/></iq>", id, sd->name,
                  rd->name);
        t = xsend(g, link, dt, 0, t, b);
        struct xconn *back = ab ? &f->c2 : &f->c1;
        sb_reset(b);
        sb_printf(b, "<iq type='result' id='%s' from='%s' to='%s'/>", id, rd->name, sd->name);
        t = xsend(g, back, ab ? f->d[1] : f->d[0], 0, t, b);
    } else if (r < 91) { /* a vCard with an avatar: tens of KB */
        size_t photo = (size_t)rng_range(&g->rng, 4000, 40000);
        sb_printf(b,
                  "<iq type='result' id='%s' from='%s@%s' to='%s'><vCard xmlns='vcard-temp'><FN>Fran\xc3\xa7oise "
                  "&amp; Bj\xc3\xb6rn</FN><PHOTO><TYPE>image/png</TYPE><BINVAL>",
                  id, su, sd->name, to);
        static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        char line[77];
        for (size_t i = 0; i < photo; i += 76) {
            uint64_t v = rng_next(&g->rng);
            for (int k = 0; k < 76; k++) {
                line[k] = b64[(v >> (k % 10 * 6)) & 63];
                if (k % 10 == 9)
                    v = rng_next(&g->rng);
            }
            line[76] = '\n';
            sb_append(b, line, 77);
        }
        sb_printf(b, "</BINVAL></PHOTO></vCard></iq>");
        t = xsend(g, link, dt, 0, t, b);
    } else { /* a receipt and a coalesced pair of chat states */
        sb_printf(b,
                  "<message from='%s' to='%s' id='%s'><received xmlns='urn:xmpp:receipts' id='%s'/></message>"
                  "<message from='%s' to='%s' type='chat'><composing xmlns='http://jabber.org/protocol/chatstates'/>"
                  "</message>",
                  from, to, id, id, from, to);
        t = xsend(g, link, dt, 0, t, b);
    }
    double gap = rng_exp(&g->rng, 0.95);
    g->w->chat_bytes += (double)(g->st.gen_xmpp - before);
    g->w->chat_secs += gap;
    q_push_wake(g, t + (uint64_t)(gap * 1e6), fed_chat, f);
}

/* ---- a session --------------------------------------------------------------- */
static void pick_user(struct gen *g, char *out, size_t cap)
{
    static const char *const names[] = {"alice", "bob", "carol", "dave", "zo\xc3\xab", "j\xc3\xbcrgen", "mei",
                                        "sanjay", "olga", "pierre", "fatima", "kenji", "ana", "li", "noah"};
    unsigned num = rng_below(&g->rng, 900);
    snprintf(out, cap, "%s%u", names[rng_below(&g->rng, sizeof names / sizeof names[0])], num);
}

static void pick_res(struct gen *g, char *out)
{
    static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    uint64_t v = rng_next(&g->rng);
    for (int i = 0; i < 12; i++) {
        out[i] = al[v % 62];
        v /= 62;
    }
    out[12] = '\0';
}

static double lifetime(struct gen *g)
{
    return g->min_life_s + rng_exp(&g->rng, g->mean_life_s);
}

void fed_start(struct gen *g, struct fed *f, uint64_t t)
{
    struct domain *da = D(g, f->a), *db = D(g, f->b);
    struct sbuf *b = &g->w->sb;
    char sid1[48], sid2[48], ka[65], kb[65], from_j[128], to_j[128];
    if (f->active)
        return;
    f->active = true;
    f->sessions++;
    if (!f->d[0])
        make_truth(g, f, t);
    for (int i = 0; i < 2; i++)
        if (f->d[i])
            f->d[i]->attempts++;
    if (!f->ua[0]) {
        pick_user(g, f->ua, sizeof f->ua);
        pick_user(g, f->ub, sizeof f->ub);
    }
    pick_res(g, f->res_a);
    pick_res(g, f->res_b);
    jid(from_j, sizeof from_j, f->ua, da);
    jid(to_j, sizeof to_j, f->ub, db);
    bool subscribe = !f->subscribed;
    /* The user on a's side asks (c2s, when a's users are on our wire). */
    if (da->local) {
        c2s_login(g, &f->ca, f->a, f->ua, f->res_a, t);
        t += 400 * US_PER_MS + rng_below(&g->rng, 2 * US_PER_S);
        sb_reset(b);
        if (subscribe)
            sb_printf(b, "<presence type='subscribe' to='%s' id='%s'/>", to_j, "sub1");
        else
            sb_printf(b, "<message type='chat' to='%s' id='m1'><body>ping \xe2\x9c\x93</body></message>", to_j);
        t = xsend(g, &f->ca, NULL, 0, t, b);
        if (subscribe) {
            sb_reset(b);
            sb_printf(b,
                      "<iq type='set' id='push1' to='%s/%s'><query xmlns='jabber:iq:roster'><item jid='%s' "
                      "subscription='none' ask='subscribe'/></query></iq>",
                      from_j, f->res_a, to_j);
            t = xsend(g, &f->ca, NULL, 1, t, b);
        }
    }
    if (db->local && f->scen != SC_DNS_NX && f->scen != SC_DNS_SERVFAIL && f->scen != SC_DNS_TIMEOUT &&
        f->scen != SC_DNS_TC_NOTCP && f->scen != SC_TCP_RST && f->scen != SC_TCP_DROP)
        c2s_login(g, &f->cb, f->b, f->ub, f->res_b, t);

    /* C1: a -> b */
    bool healthy = f->scen <= SC_SUB_DENIED;
    struct leg L = {.dns = DNS_ANS, .syn = SYN_OK, .tls = TLSM_NONE, .dt = f->d[0], .cacheable = healthy,
                    .fail_mark = f->d[0] ? &f->d[0]->marks : NULL};
    switch (f->scen) {
    case SC_DNS_NX: L.dns = DNS_NX; break;
    case SC_DNS_SERVFAIL: L.dns = DNS_SERVFAIL; break;
    case SC_DNS_TIMEOUT: L.dns = DNS_NOANSWER; break;
    case SC_DNS_TC_NOTCP: L.dns = DNS_TC_NOTCP; break;
    case SC_OK_TC: L.dns = DNS_TC_TCP; break;
    case SC_TCP_RST: L.syn = SYN_RST; break;
    case SC_TCP_DROP: L.syn = SYN_DROP; break;
    case SC_HOST_UNKNOWN: /* b's DNS points at another provider, which does not host it */
        L.host_unknown = true;
        L.dst = &g->w->hosts[g->w->ndom + (f->b % 64)];
        break;
    case SC_OK_TLS: L.tls = TLSM_OK; break;
    case SC_TLS_REJECT: L.tls = TLSM_REJECT; break;
    case SC_TLS_ALERT: L.tls = TLSM_ALERT; break;
    default: break;
    }
    if (L.dns == DNS_NOANSWER && f->d[0])
        f->d[0]->need_until = t + 12 * US_PER_S; /* three retransmissions seen */
    uint64_t t1 = leg_open(g, &f->c1, f->a, f->b, t, &L, sid1, sizeof sid1);
    if (!t1) {
        uint64_t when = t + (L.syn == SYN_DROP ? 20 * US_PER_S : L.dns == DNS_NOANSWER ? 47 * US_PER_S : 2 * US_PER_S);
        bounce(g, f, when, f->scen >= SC_HOST_UNKNOWN ? "remote-server-timeout" : "remote-server-not-found");
        c2s_close(g, &f->ca, when + 3 * US_PER_S);
        c2s_close(g, &f->cb, when + 3 * US_PER_S);
        f->active = false;
        if (!g->stopped && f->sessions < 3 && rng_chance(&g->rng, 0.5))
            q_push_wake(g, when + (uint64_t)rng_exp(&g->rng, 90e6) + 10 * US_PER_S, fed_retry, f);
        return;
    }
    t = t1;
    gen_key(g, ka);
    gen_key(g, kb);
    db_elem(b, "result", da->name, db->name, NULL, NULL, ka);
    uint64_t t_dbr = t;
    /* a db:result that will never be checked is the decisive frame */
    bool back_fails = f->scen == SC_FW_INBOUND || f->scen == SC_BACK_REFUSED || f->scen == SC_BACK_UNRESOLVED;
    t = xsend_sm(g, &f->c1, f->d[0], 0, t, b, &f->d[0]->marks, back_fails ? M_FAIL : 0);
    struct leg L2 = {.dns = DNS_ANS, .syn = SYN_OK, .tls = f->scen == SC_OK_TLS ? TLSM_OK : TLSM_NONE,
                     .dt = f->d[1], .cacheable = healthy, .fail_mark = f->d[1] ? &f->d[1]->marks : NULL};

    if (back_fails) {
        /* b's connect-back (its own link, Prosody) meets a's firewall, a
         * closed port, or a's broken DNS */
        if (f->scen == SC_FW_INBOUND)
            L2.syn = SYN_DROP;
        else if (f->scen == SC_BACK_REFUSED)
            L2.syn = SYN_RST;
        else {
            static const enum dnsout outs[] = {[DF_DNS_NX] = DNS_NX, [DF_DNS_SERVFAIL] = DNS_SERVFAIL,
                                               [DF_DNS_TIMEOUT] = DNS_NOANSWER, [DF_DNS_TC_NOTCP] = DNS_TC_NOTCP};
            L2.dns = outs[da->fault];
            if (L2.dns == DNS_NOANSWER)
                f->d[1]->need_until = t + 12 * US_PER_S;
        }
        leg_open(g, &f->c2, f->b, f->a, t, &L2, sid2, sizeof sid2);
        f->d[0]->need_until = t_dbr + 31 * US_PER_S;
        /* The key is never checked; a gives up with a close after its timeout. */
        uint64_t tc = t + 60 * US_PER_S + rng_below(&g->rng, 30 * US_PER_S);
        bounce(g, f, tc, "remote-server-timeout");
        leg_close(g, &f->c1, f->d[0], tc);
        c2s_close(g, &f->ca, tc + 2 * US_PER_S);
        c2s_close(g, &f->cb, tc + 2 * US_PER_S);
        f->active = false;
        return;
    }
    if (f->scen == SC_DB_WRONG_AUTH) {
        /* DNS for a points at another provider, which answers invalid */
        struct host *other = &g->w->hosts[g->w->ndom + (f->a % 64)];
        struct xconn *x = &f->c3;
        struct leg L3 = {.dns = DNS_ANS, .syn = SYN_OK, .tls = TLSM_NONE, .dst = other, .cacheable = false};
        char sid3[48];
        t = leg_open(g, x, f->b, f->a, t, &L3, sid3, sizeof sid3);
        if (t) {
            db_elem(b, "verify", db->name, da->name, sid1, NULL, ka);
            t = xsend(g, x, NULL, 0, t, b);
            db_elem(b, "verify", da->name, db->name, sid1, "invalid", ka);
            t = xsend(g, x, NULL, 1, t, b);
            db_elem(b, "result", db->name, da->name, sid1, "invalid", ka);
            t = xsend_sm(g, &f->c1, f->d[0], 1, t, b, &f->d[0]->marks, M_FAIL);
            sb_reset(b);
            sb_printf(b, "<stream:error><not-authorized xmlns='" NS_STREAMS "'/></stream:error></stream:stream>");
            t = xsend(g, &f->c1, f->d[0], 0, t, b);
            sb_reset(b);
            sb_printf(b, "</stream:stream>");
            t = xsend(g, &f->c1, f->d[0], 1, t, b);
            tcp_fin(g, &f->c1.tcp, 1, t, XB(g));
            xclose_state(g, &f->c1);
            leg_close(g, x, NULL, t + 5 * US_PER_S);
        }
        bounce(g, f, t + 100 * US_PER_MS, "remote-server-timeout");
        c2s_close(g, &f->ca, t + 3 * US_PER_S);
        c2s_close(g, &f->cb, t + 3 * US_PER_S);
        f->active = false;
        return;
    }
    if (f->scen == SC_OK_EJ) {
        /* ejabberd: a verify-only connection that closes after the answer */
        struct xconn *x = &f->c3;
        struct leg L3 = {.dns = DNS_ANS, .syn = SYN_OK, .tls = TLSM_NONE, .cacheable = true};
        char sid3[48];
        uint64_t t3 = leg_open(g, x, f->b, f->a, t, &L3, sid3, sizeof sid3);
        if (t3) {
            t = t3;
            db_elem(b, "verify", db->name, da->name, sid1, NULL, ka);
            t = xsend(g, x, NULL, 0, t, b);
            db_elem(b, "verify", da->name, db->name, sid1, "valid", ka);
            t = xsend(g, x, NULL, 1, t, b);
            leg_close(g, x, NULL, t);
        }
        db_elem(b, "result", db->name, da->name, sid1, "valid", ka);
        t = xsend_sm(g, &f->c1, f->d[0], 1, t, b, &f->d[0]->marks, M_AUTH);
        /* its own link when it has something to send */
        t += 50 * US_PER_MS;
        uint64_t t2 = leg_open(g, &f->c2, f->b, f->a, t, &L2, sid2, sizeof sid2);
        if (t2) {
            t = t2;
            db_elem(b, "result", db->name, da->name, NULL, NULL, kb);
            t = xsend(g, &f->c2, f->d[1], 0, t, b);
            db_elem(b, "verify", da->name, db->name, sid2, NULL, kb);
            t = xsend(g, &f->c1, f->d[0], 0, t, b);
            db_elem(b, "verify", db->name, da->name, sid2, "valid", kb);
            t = xsend(g, &f->c1, f->d[0], 1, t, b);
            db_elem(b, "result", da->name, db->name, sid2, "valid", kb);
            t = xsend_sm(g, &f->c2, f->d[1], 1, t, b, &f->d[1]->marks, M_AUTH);
        }
    } else {
        /* Prosody: b's own link carries its db:result and the db:verify */
        uint64_t t2 = leg_open(g, &f->c2, f->b, f->a, t, &L2, sid2, sizeof sid2);
        if (t2) {
            t = t2;
            db_elem(b, "result", db->name, da->name, NULL, NULL, kb);
            t = xsend(g, &f->c2, f->d[1], 0, t, b);
            db_elem(b, "verify", db->name, da->name, sid1, NULL, ka);
            t = xsend(g, &f->c2, f->d[1], 0, t, b);
            db_elem(b, "verify", da->name, db->name, sid1, "valid", ka);
            t = xsend(g, &f->c2, f->d[1], 1, t, b);
            db_elem(b, "verify", da->name, db->name, sid2, NULL, kb);
            t = xsend(g, &f->c1, f->d[0], 0, t, b);
            db_elem(b, "verify", db->name, da->name, sid2, "valid", kb);
            t = xsend(g, &f->c1, f->d[0], 1, t, b);
            db_elem(b, "result", db->name, da->name, sid1, "valid", ka);
            t = xsend_sm(g, &f->c1, f->d[0], 1, t, b, &f->d[0]->marks, M_AUTH);
            db_elem(b, "result", da->name, db->name, sid2, "valid", kb);
            t = xsend_sm(g, &f->c2, f->d[1], 1, t, b, &f->d[1]->marks, M_AUTH);
        }
    }
    /* The subscription, as the first stanza on C1. */
    if (subscribe) {
        f->subscribed = true;
        sb_reset(b);
        sb_printf(b, "<presence xml:lang='en' to='%s' id='sub1' type='subscribe' from='%s'/>", to_j, from_j);
        uint64_t t_sub = t;
        t = xsend_sm(g, &f->c1, f->d[0], 0, t, b, &f->d[0]->marks, M_SUBSENT);
        if (f->cb.live) /* relayed to the contact's client */
            t = xsend(g, &f->cb, NULL, 1, t, b);
        if (f->scen == SC_SUB_PENDING)
            f->d[0]->need_until = t_sub + 31 * US_PER_S;
        if (db->kind == SRV_PROSODY) {
            sb_reset(b);
            sb_printf(b, "<presence type='unavailable' to='%s' from='%s'/>", from_j, to_j);
            t = xsend(g, &f->c2, f->d[1], 0, t, b);
        }
        if (f->scen != SC_SUB_PENDING) {
            t += 500 * US_PER_MS + rng_below(&g->rng, 12 * US_PER_S);
            bool deny = f->scen == SC_SUB_DENIED;
            if (f->cb.live) {
                sb_reset(b);
                sb_printf(b, "<presence to='%s' type='%s'/>", from_j, deny ? "unsubscribed" : "subscribed");
                t = xsend(g, &f->cb, NULL, 0, t, b);
            }
            sb_reset(b);
            sb_printf(b, "<presence xml:lang='en' from='%s' type='%s' to='%s' id='%s'/>", to_j,
                      deny ? "unsubscribed" : "subscribed", from_j, "ack1");
            if (!deny)
                sb_printf(b,
                          "<presence from='%s/%s' xml:lang='en' to='%s'><delay stamp='2026-11-24T05:13:51Z' "
                          "from='%s' xmlns='urn:xmpp:delay'/></presence>",
                          to_j, f->res_b, from_j, db->name);
            t = xsend_sm(g, &f->c2, f->d[1], 0, t, b, &f->d[0]->marks, deny ? M_FAIL : M_SUB);
            if (f->ca.live) {
                /* relayed to the user: in cleartext, the approval is seen
                 * even when the s2s legs are encrypted */
                if (!deny && !f->ca.tls)
                    t = xsend_sm(g, &f->ca, NULL, 1, t, b, &f->d[0]->marks, M_SUB_CLEAR);
                else
                    t = xsend(g, &f->ca, NULL, 1, t, b);
                sb_reset(b);
                sb_printf(b,
                          "<iq type='set' id='push2' to='%s/%s'><query xmlns='jabber:iq:roster'><item jid='%s' "
                          "subscription='%s'/></query></iq>",
                          from_j, f->res_a, to_j, deny ? "none" : "to");
                t = xsend(g, &f->ca, NULL, 1, t, b);
            }
        }
    }
    chat_start(g, f, t, lifetime(g));
}

static void fed_retry(struct gen *g, void *arg, uint64_t t)
{
    struct fed *f = arg;
    if (!g->stopped && !f->active)
        fed_start(g, f, t);
}

/* A link that was up before the capture began: no SYN, no headers, the
 * first bytes are stanzas.  Its sequence numbers start anywhere. */
void fed_start_midstream(struct gen *g, struct fed *f, uint64_t t)
{
    struct domain *da = D(g, f->a), *db = D(g, f->b);
    f->active = true;
    f->sessions++;
    make_truth(g, f, t);
    pick_user(g, f->ua, sizeof f->ua);
    pick_user(g, f->ub, sizeof f->ub);
    pick_res(g, f->res_a);
    pick_res(g, f->res_b);
    f->subscribed = true;
    bool tls = f->scen == SC_MID_TLS;
    struct xconn *xs[2] = {&f->c1, &f->c2};
    for (int i = 0; i < 2; i++) {
        struct xconn *x = xs[i];
        uint32_t rtt = pick_rtt(g);
        bool v6 = rng_chance(&g->rng, 0.6);
        tcp_init(g, &x->tcp, (i ? db : da)->server, (i ? da : db)->server, 5269, v6, rtt);
        tcp_midstream(&x->tcp);
        x->tcp.opened_us = 0;
        x->live = true;
        x->tls = tls;
        open_count(g, 1);
        g->st.conns_s2s++;
        g->st.midstream++;
    }
    chat_start(g, f, t, lifetime(g));
}
