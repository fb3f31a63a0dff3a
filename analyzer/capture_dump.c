/*
 * capture_dump.c - writing a capture's frames back out (-w, evidence
 * files) through capture_write.c: classic pcap for one classic pcap or
 * live source, pcapng (one interface per source and link type) otherwise.
 */
#include "capture_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture_write.h"

#define DUMP_MAX_IFACES 256

struct dump_iface {
    uint32_t source;
    int linktype;
    int id;
};

struct capture_dump {
    struct capture_writer *w;
    bool pcapng;
    int pcap_linktype;
    struct dump_iface ifaces[DUMP_MAX_IFACES];
    unsigned nifaces;
    uint64_t unwritable; /* frames of a link type the file cannot hold */
};

bool capture_dump_is_pcapng(const struct capture *c)
{
    if (c->nsrc > 1) /* merged sources: each frame keeps its capture point */
        return true;
    return c->nsrc == 1 && c->src[0].kind == SRC_PCAPNG;
}

struct capture_dump *capture_dump_open(const struct capture *c, const char *path, char *err, size_t errlen)
{
    struct capture_dump *d = calloc(1, sizeof(*d));
    bool nano = false;
    uint32_t snaplen = 0;

    if (!d) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    d->pcapng = capture_dump_is_pcapng(c);
    d->pcap_linktype = c->nsrc ? c->src[0].linktype : DLT_EN10MB;
    for (unsigned i = 0; i < c->nsrc; i++) {
        nano |= c->src[i].kind == SRC_LIVE ? c->src[i].nano : c->src[i].file_nano;
        if (c->src[i].snaplen > 0 && (uint32_t)c->src[i].snaplen > snaplen)
            snaplen = (uint32_t)c->src[i].snaplen;
    }
    d->w = capture_writer_open(path, d->pcapng ? CAPTURE_WRITE_PCAPNG : CAPTURE_WRITE_PCAP, d->pcap_linktype,
                               snaplen, nano, err, errlen);
    if (!d->w) {
        free(d);
        return NULL;
    }
    return d;
}

/* The file's interface for frames of this source and link type, described
 * on first use; -1 when the file cannot hold it. */
static int dump_iface_of(struct capture_dump *d, const struct capture *c, uint32_t source, int linktype)
{
    const struct capture_source *s;
    int id;

    if (!d->pcapng)
        return linktype == d->pcap_linktype ? 0 : -1;
    for (unsigned i = 0; i < d->nifaces; i++)
        if (d->ifaces[i].source == source && d->ifaces[i].linktype == linktype)
            return d->ifaces[i].id;
    if (d->nifaces == DUMP_MAX_IFACES || source >= c->nsrc)
        return -1;
    s = &c->src[source];
    /* snaplen 0 (no limit): a pcapng source's interfaces may differ */
    id = capture_writer_interface(d->w, linktype, 0,
                                  s->observer ? s->observer : s->name, s->name);
    if (id < 0)
        return -1;
    d->ifaces[d->nifaces++] = (struct dump_iface){ source, linktype, id };
    return id;
}

int capture_dump_frame(struct capture_dump *d, const struct capture *c, int linktype, const uint8_t *data,
                       uint32_t caplen, uint32_t wirelen, const struct ft_meta *m)
{
    int iface = dump_iface_of(d, c, m->source, linktype);
    if (iface < 0) {
        d->unwritable++;
        return -1;
    }
    return capture_writer_frame(d->w, iface, m->ts_ns, data, caplen, wirelen);
}

uint64_t capture_dump_frames(const struct capture_dump *d)
{
    return capture_writer_frames(d->w);
}

int capture_dump_close(struct capture_dump *d, char *err, size_t errlen)
{
    char path[512];
    uint64_t unwritable;
    if (!d)
        return 0;
    snprintf(path, sizeof(path), "%s", capture_writer_path(d->w));
    unwritable = d->unwritable;
    struct capture_writer *w = d->w;
    free(d);
    if (capture_writer_close(w) != 0) {
        snprintf(err, errlen, "cannot write '%s': %s", path, strerror(errno));
        return -1;
    }
    if (unwritable) {
        snprintf(err, errlen, "'%s': %" PRIu64 " frames of another link type could not be written", path,
                 unwritable);
        return -1;
    }
    return 0;
}

void capture_set_dump(struct capture *c, struct capture_dump *d)
{
    c->dump = d;
}
