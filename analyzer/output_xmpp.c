/*
 * output_xmpp.c - an XMPP protocol event (and the TLS event it may carry)
 * as JSON: the fields that mean something for its type.  The same object
 * in a document connection's "xmpp" list (without "uid"), written as text
 * (output_jwrite.h), and in NDJSON, as a json-c tree.
 */
#include "output_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "tok.h"

static void tls_write(struct jw *w, const char *key, const struct tls_event *t)
{
    char vb[32];
    jw_open(w, key);
    jw_str(w, "event", tls_event_type_name(t->type));
    if (t->type == TLS_EV_CLIENT_HELLO) {
        jw_str_opt(w, "sni", t->sni);
        jw_open_array(w, "versions");
        for (unsigned i = 0; i < t->n_versions; i++)
            jw_str(w, NULL, tls_version_name(t->versions[i], vb, sizeof(vb)));
        jw_close(w);
        jw_open_array(w, "alpn");
        for (unsigned i = 0; i < t->n_alpn; i++)
            jw_str(w, NULL, t->alpn[i]);
        jw_close(w);
    } else if (t->type == TLS_EV_SERVER_HELLO) {
        jw_str(w, "version", tls_version_name(t->version, vb, sizeof(vb)));
        jw_str(w, "cipher", tls_cipher_name(t->cipher, vb, sizeof(vb)));
        if (t->have_group)
            jw_str(w, "group", tls_group_name(t->group, vb, sizeof(vb)));
        if (t->n_alpn)
            jw_str(w, "alpn", t->alpn[0]);
        if (t->hello_retry)
            jw_bool(w, "hello_retry", true);
    } else if (t->type == TLS_EV_KEY_EXCHANGE) {
        jw_str(w, "group", tls_group_name(t->group, vb, sizeof(vb)));
    } else if (t->type == TLS_EV_CERTIFICATE) {
        char iso[32];
        const char *when;
        jw_int(w, "length", (int64_t)t->cert_msg_len);
        jw_int(w, "certificates", (int64_t)t->n_certs);
        jw_str_opt(w, "subject_cn", t->cert_cn);
        jw_str_opt(w, "issuer_cn", t->cert_issuer_cn);
        when = tls_time_iso(t->cert_not_before, iso, sizeof(iso));
        jw_str_opt(w, "not_before", when ? when : t->cert_not_before);
        when = tls_time_iso(t->cert_not_after, iso, sizeof(iso));
        jw_str_opt(w, "not_after", when ? when : t->cert_not_after);
        if (t->cert_parsed)
            jw_bool(w, "self_issued", t->cert_self_issued);
        if (t->n_san) {
            jw_open_array(w, "san");
            for (unsigned i = 0; i < t->n_san; i++)
                jw_str(w, NULL, t->cert_san[i]);
            jw_close(w);
        }
    } else if (t->type == TLS_EV_ALERT) {
        jw_str(w, "level", t->alert_level_name ? t->alert_level_name : "unknown");
        jw_str(w, "description", t->alert_desc_name ? t->alert_desc_name : "unknown");
        if (t->alert_encrypted)
            jw_bool(w, "encrypted", true);
    } else if (t->type == TLS_EV_ERROR) {
        jw_str_opt(w, "error", t->error);
    }
    jw_close(w);
}

void xmpp_write(struct jw *w, const struct output *out, const struct flow_info *fi, const struct xmpp_event *ev,
                bool with_uid)
{
    char buf[40];
    jw_open(w, NULL);
    jw_int(w, "frame", (int64_t)ev->meta.frame);
    jw_str(w, "ts", format_time(ev->meta.ts_ns, buf, sizeof(buf)));
    if (with_uid)
        jw_str(w, "uid", output_uid(out, fi->flow_id, 'C', buf, sizeof(buf)));
    jw_str(w, "dir", ev->dir == FT_DIR_ORIG ? "orig" : "resp");
    jw_str(w, "type", xmpp_event_type_name(ev->type));
    jw_str_opt(w, "from", ev->from);
    jw_str_opt(w, "to", ev->to);
    jw_str_opt(w, "id", ev->id);
    switch (ev->type) {
    case XMPP_EV_STREAM_OPEN:
        jw_str_opt(w, "version", ev->version);
        jw_str_opt(w, "lang", ev->lang);
        jw_str_opt(w, "content_ns", ev->content_ns);
        jw_bool(w, "dialback_ns", ev->db_ns);
        if (!ev->stream_ns_ok)
            jw_bool(w, "bad_stream_ns", true);
        if (ev->restart)
            jw_bool(w, "restart", true);
        break;
    case XMPP_EV_FEATURES:
        jw_bool(w, "starttls", ev->starttls);
        jw_bool(w, "starttls_required", ev->starttls_required);
        jw_str_opt(w, "mechanisms", ev->mechanisms);
        jw_bool(w, "dialback", ev->dialback);
        jw_bool(w, "bidi", ev->bidi);
        jw_bool(w, "sm", ev->sm);
        break;
    case XMPP_EV_SASL_AUTH:
        jw_str_opt(w, "mechanism", ev->mechanism);
        break;
    case XMPP_EV_DB_RESULT:
    case XMPP_EV_DB_VERIFY:
        jw_str(w, "db_type", xmpp_db_type_name(ev->db_type));
        break;
    case XMPP_EV_STANZA:
        jw_str_opt(w, "stanza_type", ev->type_str);
        if (ev->stanza == XMPP_STANZA_PRESENCE)
            jw_str(w, "presence", xmpp_presence_type_name(ev->presence));
        jw_str_opt(w, "child", ev->child_name);
        jw_str_opt(w, "child_ns", ev->child_ns);
        jw_str_opt(w, "body", ev->body);
        jw_int(w, "size", (int64_t)ev->size);
        break;
    case XMPP_EV_OTHER:
        jw_str_opt(w, "element", ev->other_name);
        jw_str_opt(w, "element_ns", ev->other_ns);
        break;
    case XMPP_EV_GAP:
        jw_int(w, "bytes", (int64_t)ev->nbytes);
        break;
    case XMPP_EV_ERROR:
        jw_str(w, "error", xmpp_error_name(ev->error));
        jw_str_opt(w, "message", ev->error_msg);
        jw_int(w, "offset", (int64_t)ev->offset);
        break;
    case XMPP_EV_EOF:
        jw_bool(w, "stream_closed", ev->stream_closed);
        jw_bool(w, "in_tls", ev->in_tls);
        break;
    case XMPP_EV_TLS:
        if (ev->tls)
            tls_write(w, "tls", ev->tls);
        break;
    case XMPP_EV_DECRYPT_STOPPED:
        jw_str_opt(w, "reason", ev->decrypt_reason);
        break;
    default:
        break;
    }
    if (ev->decrypted)
        jw_bool(w, "decrypted", true);
    jw_str_opt(w, "condition", ev->condition);
    jw_str_opt(w, "text", ev->text);
    jw_str_opt(w, "condition_text", ev->cond_text);
    jw_str_opt(w, "error_type", ev->error_type);
    if (ev->truncated)
        jw_bool(w, "truncated", true);
    jw_close(w);
}

json_object *xmpp_json(const struct output *out, const struct flow_info *fi, const struct xmpp_event *ev)
{
    struct jw w;
    jw_tree_init(&w);
    xmpp_write(&w, out, fi, ev, true);
    return jw_tree_done(&w);
}
