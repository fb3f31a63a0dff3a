/*
 * output_retired.c - the federations the correlator retired before the
 * end of input (its retired sink).  Each is rendered at once the way the
 * active format shows it at the end - the JSON document's element, the
 * text report's block or --summary lines - into the `feds` spool, and
 * freed by the correlator after the call.  What stays in memory is a few
 * counters and, for the document's "dns" list, one bit per lookup id a
 * federation refers to.  At the end the writers copy the spool out
 * first, then render the federations the correlator still holds.
 */
#include <config.h>

#include "output_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Lookup ids count from 1 (dns_track); beyond this the bitmap would be
 * large: every lookup is listed instead. */
#define DNS_REF_MAX_ID (UINT64_C(1) << 32)

static void note_dns_id(struct output *o, uint64_t id)
{
    uint64_t byte = id / 8;
    if (!id || o->dns_refs_all)
        return;
    if (id >= DNS_REF_MAX_ID) {
        o->dns_refs_all = true;
        return;
    }
    if (byte >= o->dns_refs_len) {
        uint64_t len = o->dns_refs_len ? o->dns_refs_len : 4096;
        uint8_t *bits;
        while (len <= byte)
            len *= 2;
        bits = realloc(o->dns_refs, (size_t)len);
        if (!bits) {
            o->dns_refs_all = true; /* more listed, never fewer */
            return;
        }
        memset(bits + o->dns_refs_len, 0, (size_t)(len - o->dns_refs_len));
        o->dns_refs = bits;
        o->dns_refs_len = len;
    }
    o->dns_refs[byte] |= (uint8_t)(1u << (id % 8));
}

void retired_note_dns(struct output *o, const struct corr_federation *f)
{
    for (unsigned d = 0; d < f->n_dir; d++) {
        const struct corr_direction *dir = &f->dir[d];
        for (unsigned e = 0; e < dir->verdict.n_dns; e++)
            note_dns_id(o, dir->verdict.evidence_dns[e]);
        for (unsigned t = 0; t < dir->n_timeline; t++)
            note_dns_id(o, dir->timeline[t].dns_id);
    }
}

bool retired_dns_referenced(const struct output *o, uint64_t id)
{
    if (o->dns_refs_all)
        return true;
    return id / 8 < o->dns_refs_len && (o->dns_refs[id / 8] & (1u << (id % 8)));
}

/* JSON: a u64 length, then the element as json-c wrote it (cleaned of
 * ill-formed UTF-8 when it is copied out, whole). */
static void spool_json(struct output *o, const struct corr_federation *f)
{
    char *elem = json_federation_element(o, f);
    uint64_t len;
    if (!elem) {
        if (!o->feds.err)
            o->feds.err = ENOMEM;
        output_spool_failed(o, &o->feds);
        return;
    }
    len = strlen(elem);
    if (spool_append(&o->feds, &len, sizeof(len)) < 0 || spool_append(&o->feds, elem, (size_t)len) < 0)
        output_spool_failed(o, &o->feds);
    free(elem);
    if (!o->verbose)
        retired_note_dns(o, f);
}

/* Text: the block as the report prints it. */
static void spool_text(struct output *o, const struct corr_federation *f)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    if (!mem) {
        if (!o->feds.err)
            o->feds.err = errno ? errno : ENOMEM;
        output_spool_failed(o, &o->feds);
        return;
    }
    text_federation(o, mem, f);
    if (fclose(mem) != 0 || !buf) {
        if (!o->feds.err)
            o->feds.err = ENOMEM;
        output_spool_failed(o, &o->feds);
    } else if (spool_append(&o->feds, buf, len) < 0) {
        output_spool_failed(o, &o->feds);
    }
    free(buf);
}

void output_retired(void *ctx, const struct corr_federation *f)
{
    struct output *o = ctx;
    o->feds_spooled++;
    if (f->verdict && f->verdict->status == CORR_FAILED)
        o->feds_spooled_failed++;
    if (o->spool_errno)
        return; /* the run already failed: output_finish says so */
    if (o->format == OUTPUT_JSON)
        spool_json(o, f);
    else if (o->format == OUTPUT_TEXT)
        spool_text(o, f);
}

uint64_t output_failed_federations(const struct output *o)
{
    return o->feds_spooled_failed;
}

int retired_write_json(struct output *o)
{
    char *buf = NULL;
    size_t cap = 0;
    int rc = 0;
    if (!o->feds_spooled)
        return 0;
    if (spool_rewind(&o->feds) != 0)
        rc = -1;
    for (uint64_t i = 0; rc == 0 && i < o->feds_spooled; i++) {
        uint64_t len;
        if (spool_next(&o->feds, &len, sizeof(len)) != 0 || len > o->feds.size) {
            rc = -1;
            break;
        }
        if (len + 1 > cap) {
            char *b = realloc(buf, (size_t)len + 1);
            if (!b) {
                if (!o->feds.err)
                    o->feds.err = ENOMEM;
                rc = -1;
                break;
            }
            buf = b;
            cap = (size_t)len + 1;
        }
        if (spool_next(&o->feds, buf, (size_t)len) != 0) {
            rc = -1;
            break;
        }
        buf[len] = '\0';
        fputs(i ? ",\n" : "\n", o->fp);
        output_emit(o, o->fp, buf);
    }
    free(buf);
    if (rc != 0) {
        if (!o->feds.err)
            o->feds.err = EIO;
        output_spool_failed(o, &o->feds);
    }
    return rc;
}
