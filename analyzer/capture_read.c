/*
 * capture_read.c - the next frame of a source: libpcap (interfaces and
 * classic pcap files) or the pcapng reader, a file's BPF filter run on
 * it, and its timestamp put into [0, CAPTURE_TS_MAX_NS] (see capture.h).
 */
#include "capture_int.h"

#include <stdio.h>
#include <string.h>

#include "pcapng.h"

/* Puts a timestamp into [0, CAPTURE_TS_MAX_NS], counting the ones that
 * were not. */
static int64_t sane_time(struct capture_source *s, int64_t ns, bool valid)
{
    if (valid && ns >= 0 && ns <= CAPTURE_TS_MAX_NS)
        return ns;
    s->bad_timestamps++;
    return ns < 0 ? 0 : CAPTURE_TS_MAX_NS;
}

static int64_t libpcap_ns(struct capture_source *s, const struct pcap_pkthdr *h)
{
    int64_t sec, ns;
    bool ok = !__builtin_mul_overflow((int64_t)h->ts.tv_sec, FT_NS_PER_SEC, &sec) &&
              !__builtin_add_overflow(sec, (int64_t)h->ts.tv_usec * (s->nano ? 1 : 1000), &ns);
    if (!ok)
        ns = h->ts.tv_sec < 0 ? INT64_MIN : INT64_MAX;
    return sane_time(s, ns, ok);
}

/* Whether a frame of a file source passes its filter. */
static bool file_filter_pass(struct capture_source *s, int linktype, const uint8_t *data,
                             uint32_t caplen, uint32_t wirelen)
{
    struct link_filter *lf = capture_link_filter_for(s, linktype, NULL, 0);
    struct pcap_pkthdr h;

    if (!s->filter)
        return true;
    if (!lf || !lf->usable)
        return false;
    memset(&h, 0, sizeof(h));
    h.caplen = caplen;
    h.len = wirelen;
    return pcap_offline_filter(&lf->prog, &h, data) != 0;
}

static int pull_libpcap(struct capture *c, struct capture_source *s)
{
    struct pcap_pkthdr *hdr;
    const u_char *data;
    int rc;

    for (;;) {
        rc = pcap_next_ex(s->pcap, &hdr, &data);
        if (rc == 0)
            return 0; /* live: nothing yet */
        if (rc != 1)
            break;
        s->records++;
        if (s->kind == SRC_PCAP && !file_filter_pass(s, s->linktype, data, hdr->caplen, hdr->len)) {
            if (c->stop && *c->stop)
                return 0;
            continue;
        }
        s->frame.linktype = s->linktype;
        s->frame.data = data;
        s->frame.caplen = hdr->caplen;
        s->frame.wirelen = hdr->len;
        s->frame.ts_ns = libpcap_ns(s, hdr);
        s->frame.number = s->records;
        s->have_frame = true;
        return 1;
    }
    if (rc == PCAP_ERROR)
        snprintf(s->error, sizeof(s->error), "%s", pcap_geterr(s->pcap));
    s->done = true;
    return -1;
}

static int pull_pcapng(struct capture *c, struct capture_source *s)
{
    struct pcapng_packet pkt;
    enum pcapng_result rc;

    while ((rc = pcapng_next(s->ng, &pkt)) == PCAPNG_PACKET) {
        s->records = pkt.number;
        if (s->linktype < 0) {
            s->linktype = pcapng_first_linktype(s->ng);
            s->snaplen = (int)(pcapng_first_snaplen(s->ng) & 0x7FFFFFFF);
        }
        if (!file_filter_pass(s, pkt.linktype, pkt.data, pkt.caplen, pkt.wirelen)) {
            if (c->stop && *c->stop)
                return 0;
            continue;
        }
        s->frame.linktype = pkt.linktype;
        s->frame.data = pkt.data;
        s->frame.caplen = pkt.caplen;
        s->frame.wirelen = pkt.wirelen;
        s->frame.ts_ns = sane_time(s, pkt.ts_ns, pkt.ts_valid);
        s->frame.number = pkt.number;
        s->have_frame = true;
        return 1;
    }
    if (s->linktype < 0 && pcapng_first_linktype(s->ng) >= 0) {
        s->linktype = pcapng_first_linktype(s->ng);
        s->snaplen = (int)(pcapng_first_snaplen(s->ng) & 0x7FFFFFFF);
    }
    if (rc == PCAPNG_ERROR)
        snprintf(s->error, sizeof(s->error), "%s", pcapng_error(s->ng));
    s->done = true;
    return -1;
}

/* See capture_int.h. */
int capture_source_pull(struct capture *c, struct capture_source *s)
{
    if (s->done)
        return -1;
    return s->kind == SRC_PCAPNG ? pull_pcapng(c, s) : pull_libpcap(c, s);
}
