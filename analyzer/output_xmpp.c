/*
 * output_xmpp.c - an XMPP protocol event (and the TLS event it may carry)
 * as JSON: the fields that mean something for its type.  The same object
 * in a document connection's "xmpp" list (without "uid") and in NDJSON.
 */
#include "output_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "tok.h"

static json_object *tls_json(const struct tls_event *t)
{
    json_object *o = json_object_new_object();
    char vb[32];
    json_object_object_add(o, "event", jstr(tls_event_type_name(t->type)));
    if (t->type == TLS_EV_CLIENT_HELLO) {
        json_object *v = json_object_new_array(), *a = json_object_new_array();
        for (unsigned i = 0; i < t->n_versions; i++)
            json_object_array_add(v, jstr(tls_version_name(t->versions[i], vb, sizeof(vb))));
        for (unsigned i = 0; i < t->n_alpn; i++)
            json_object_array_add(a, jstr(t->alpn[i]));
        jadd_opt(o, "sni", jopt_str(t->sni));
        json_object_object_add(o, "versions", v);
        json_object_object_add(o, "alpn", a);
    } else if (t->type == TLS_EV_SERVER_HELLO) {
        json_object_object_add(o, "version", jstr(tls_version_name(t->version, vb, sizeof(vb))));
        json_object_object_add(o, "cipher", jstr(tls_cipher_name(t->cipher, vb, sizeof(vb))));
        if (t->have_group)
            json_object_object_add(o, "group", jstr(tls_group_name(t->group, vb, sizeof(vb))));
        if (t->n_alpn)
            json_object_object_add(o, "alpn", jstr(t->alpn[0]));
        if (t->hello_retry)
            json_object_object_add(o, "hello_retry", json_object_new_boolean(true));
    } else if (t->type == TLS_EV_KEY_EXCHANGE) {
        json_object_object_add(o, "group", jstr(tls_group_name(t->group, vb, sizeof(vb))));
    } else if (t->type == TLS_EV_CERTIFICATE) {
        json_object_object_add(o, "length", jint(t->cert_msg_len));
        json_object_object_add(o, "certificates", jint(t->n_certs));
        jadd_opt(o, "subject_cn", jopt_str(t->cert_cn));
        jadd_opt(o, "issuer_cn", jopt_str(t->cert_issuer_cn));
        {
            char iso[32];
            const char *when = tls_time_iso(t->cert_not_before, iso, sizeof(iso));
            jadd_opt(o, "not_before", jopt_str(when ? when : t->cert_not_before));
            when = tls_time_iso(t->cert_not_after, iso, sizeof(iso));
            jadd_opt(o, "not_after", jopt_str(when ? when : t->cert_not_after));
        }
        if (t->cert_parsed)
            json_object_object_add(o, "self_issued", json_object_new_boolean(t->cert_self_issued));
        if (t->n_san) {
            json_object *a = json_object_new_array();
            for (unsigned i = 0; i < t->n_san; i++)
                json_object_array_add(a, jstr(t->cert_san[i]));
            json_object_object_add(o, "san", a);
        }
    } else if (t->type == TLS_EV_ALERT) {
        json_object_object_add(o, "level", jstr(t->alert_level_name ? t->alert_level_name : "unknown"));
        json_object_object_add(o, "description", jstr(t->alert_desc_name ? t->alert_desc_name : "unknown"));
        if (t->alert_encrypted)
            json_object_object_add(o, "encrypted", json_object_new_boolean(true));
    } else if (t->type == TLS_EV_ERROR) {
        jadd_opt(o, "error", jopt_str(t->error));
    }
    return o;
}

/* One XMPP event: the fields that mean something for its type. */
json_object *xmpp_json(const struct output *out, const struct flow_info *fi, const struct xmpp_event *ev)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "frame", jint(ev->meta.frame));
    json_object_object_add(o, "ts", jtime(ev->meta.ts_ns));
    json_object_object_add(o, "uid", jref_uid(out, fi->flow_id, 'C'));
    json_object_object_add(o, "dir", jstr(ev->dir == FT_DIR_ORIG ? "orig" : "resp"));
    json_object_object_add(o, "type", jstr(xmpp_event_type_name(ev->type)));
    jadd_opt(o, "from", jopt_str(ev->from));
    jadd_opt(o, "to", jopt_str(ev->to));
    jadd_opt(o, "id", jopt_str(ev->id));
    switch (ev->type) {
    case XMPP_EV_STREAM_OPEN:
        jadd_opt(o, "version", jopt_str(ev->version));
        jadd_opt(o, "lang", jopt_str(ev->lang));
        jadd_opt(o, "content_ns", jopt_str(ev->content_ns));
        json_object_object_add(o, "dialback_ns", json_object_new_boolean(ev->db_ns));
        if (!ev->stream_ns_ok)
            json_object_object_add(o, "bad_stream_ns", json_object_new_boolean(true));
        if (ev->restart)
            json_object_object_add(o, "restart", json_object_new_boolean(true));
        break;
    case XMPP_EV_FEATURES:
        json_object_object_add(o, "starttls", json_object_new_boolean(ev->starttls));
        json_object_object_add(o, "starttls_required", json_object_new_boolean(ev->starttls_required));
        jadd_opt(o, "mechanisms", jopt_str(ev->mechanisms));
        json_object_object_add(o, "dialback", json_object_new_boolean(ev->dialback));
        json_object_object_add(o, "bidi", json_object_new_boolean(ev->bidi));
        json_object_object_add(o, "sm", json_object_new_boolean(ev->sm));
        break;
    case XMPP_EV_SASL_AUTH:
        jadd_opt(o, "mechanism", jopt_str(ev->mechanism));
        break;
    case XMPP_EV_DB_RESULT:
    case XMPP_EV_DB_VERIFY:
        json_object_object_add(o, "db_type", jstr(xmpp_db_type_name(ev->db_type)));
        break;
    case XMPP_EV_STANZA:
        jadd_opt(o, "stanza_type", jopt_str(ev->type_str));
        if (ev->stanza == XMPP_STANZA_PRESENCE)
            json_object_object_add(o, "presence", jstr(xmpp_presence_type_name(ev->presence)));
        jadd_opt(o, "child", jopt_str(ev->child_name));
        jadd_opt(o, "child_ns", jopt_str(ev->child_ns));
        jadd_opt(o, "body", jopt_str(ev->body));
        json_object_object_add(o, "size", jint(ev->size));
        break;
    case XMPP_EV_OTHER:
        jadd_opt(o, "element", jopt_str(ev->other_name));
        jadd_opt(o, "element_ns", jopt_str(ev->other_ns));
        break;
    case XMPP_EV_GAP:
        json_object_object_add(o, "bytes", jint(ev->nbytes));
        break;
    case XMPP_EV_ERROR:
        json_object_object_add(o, "error", jstr(xmpp_error_name(ev->error)));
        jadd_opt(o, "message", jopt_str(ev->error_msg));
        json_object_object_add(o, "offset", jint(ev->offset));
        break;
    case XMPP_EV_EOF:
        json_object_object_add(o, "stream_closed", json_object_new_boolean(ev->stream_closed));
        json_object_object_add(o, "in_tls", json_object_new_boolean(ev->in_tls));
        break;
    case XMPP_EV_TLS:
        if (ev->tls)
            json_object_object_add(o, "tls", tls_json(ev->tls));
        break;
    case XMPP_EV_DECRYPT_STOPPED:
        jadd_opt(o, "reason", jopt_str(ev->decrypt_reason));
        break;
    default:
        break;
    }
    if (ev->decrypted)
        json_object_object_add(o, "decrypted", json_object_new_boolean(true));
    jadd_opt(o, "condition", jopt_str(ev->condition));
    jadd_opt(o, "text", jopt_str(ev->text));
    jadd_opt(o, "condition_text", jopt_str(ev->cond_text));
    jadd_opt(o, "error_type", jopt_str(ev->error_type));
    if (ev->truncated)
        json_object_object_add(o, "truncated", json_object_new_boolean(true));
    return o;
}
