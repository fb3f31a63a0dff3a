/*
 * streamdump.c - test driver: runs the real capture + pipeline on a file
 * with recording dissectors, and writes what reached them.
 *
 *   streamdump OUTDIR FILE...
 *
 * For every TCP flow a dissector would see, OUTDIR/<flow>.c2s and .s2c hold
 * the reassembled bytes of each direction (gaps left out), and one line on
 * stdout gives the flow, its state and the gaps as OFFSET+LENGTH.  Every
 * UDP DNS datagram is written to OUTDIR/udp<N>.bin with a line too.  The
 * shell/python tests compare these with what tools/gen-pcap says it wrote.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"
#include "pipeline.h"

struct recorder {
    const char *outdir;
    uint64_t udp_count;
};

struct rec_stream {
    struct recorder *r;
    uint64_t flow_id;
    FILE *fp[2];
    uint64_t off[2];
    char gaps[2][512];
    int eof[2];
    char name[160];
};

static void endpoint(char *buf, size_t len, const struct ft_addr *a, uint16_t port)
{
    char ip[FT_ADDR_STRLEN];
    if (a->family == 6)
        snprintf(buf, len, "[%s]:%u", ft_addr_str(a, ip, sizeof(ip)), port);
    else
        snprintf(buf, len, "%s:%u", ft_addr_str(a, ip, sizeof(ip)), port);
}

static void *rec_open(void *user, const struct flow_info *fi, const struct ft_meta *m)
{
    struct recorder *r = user;
    struct rec_stream *s = calloc(1, sizeof(*s));
    char path[512];
    (void)m;
    if (!s)
        return NULL;
    s->r = r;
    s->flow_id = fi->flow_id;
    snprintf(s->name, sizeof(s->name), "%" PRIu64, fi->flow_id);
    for (int d = 0; d < 2; d++) {
        snprintf(path, sizeof(path), "%s/%s.%s", r->outdir, s->name, d ? "s2c" : "c2s");
        s->fp[d] = fopen(path, "wb");
    }
    return s;
}

static void rec_data(void *st, enum ft_dir dir, const uint8_t *p, size_t n, const struct ft_meta *m)
{
    struct rec_stream *s = st;
    (void)m;
    if (s->fp[dir])
        fwrite(p, 1, n, s->fp[dir]);
    s->off[dir] += n;
}

static void rec_gap(void *st, enum ft_dir dir, uint64_t n, const struct ft_meta *m)
{
    struct rec_stream *s = st;
    size_t used = strlen(s->gaps[dir]);
    (void)m;
    snprintf(s->gaps[dir] + used, sizeof(s->gaps[dir]) - used, "%s%" PRIu64 "+%" PRIu64,
             used ? "," : "", s->off[dir], n);
    s->off[dir] += n;
}

static void rec_eof(void *st, enum ft_dir dir, const struct ft_meta *m)
{
    struct rec_stream *s = st;
    (void)m;
    s->eof[dir]++;
}

static void rec_close(void *st, const struct ft_meta *m)
{
    struct rec_stream *s = st;
    (void)m;
    for (int d = 0; d < 2; d++)
        if (s->fp[d])
            fclose(s->fp[d]);
    printf("stream id=%" PRIu64 " c2s_gaps=%s s2c_gaps=%s c2s_eof=%d s2c_eof=%d\n", s->flow_id,
           s->gaps[0][0] ? s->gaps[0] : "-", s->gaps[1][0] ? s->gaps[1] : "-", s->eof[0], s->eof[1]);
    free(s);
}

static void rec_datagram(void *user, const struct flow_info *fi, enum ft_dir dir, const uint8_t *p,
                         size_t n, bool truncated, const struct ft_meta *m)
{
    struct recorder *r = user;
    char path[512], a[80], b[80];
    FILE *fp;
    int from = dir == FT_DIR_ORIG ? 0 : 1;
    r->udp_count++;
    snprintf(path, sizeof(path), "%s/udp%" PRIu64 ".bin", r->outdir, r->udp_count);
    fp = fopen(path, "wb");
    if (fp) {
        fwrite(p, 1, n, fp);
        fclose(fp);
    }
    endpoint(a, sizeof(a), &fi->addr[from], fi->port[from]);
    endpoint(b, sizeof(b), &fi->addr[!from], fi->port[!from]);
    printf("udp n=%" PRIu64 " frame=%" PRIu64 " flow=%s>%s len=%zu truncated=%d\n", r->udp_count,
           m->frame, a, b, n, truncated);
}

static void on_conn(void *user, const struct conn_record *c)
{
    char a[80], b[80];
    (void)user;
    if (c->phase != CONN_END)
        return;
    endpoint(a, sizeof(a), &c->info.addr[0], c->info.port[0]);
    endpoint(b, sizeof(b), &c->info.addr[1], c->info.port[1]);
    printf("conn id=%" PRIu64 " flow=%s>%s app=%s state=%s history=%s midstream=%d "
           "c2s_bytes=%" PRIu64 " s2c_bytes=%" PRIu64 " syn_count=%u end=%s\n",
           c->info.flow_id, a, b, app_proto_name(c->info.app), c->conn_state, c->history,
           c->midstream, c->dir[0].payload_bytes, c->dir[1].payload_bytes, c->syn_count,
           flow_end_reason_name(c->end_reason));
}

static void on_frame(void *user, int linktype, const uint8_t *data, uint32_t caplen,
                     uint32_t wirelen, const struct ft_meta *m)
{
    pipeline_packet(user, linktype, data, caplen, wirelen, m);
}

int main(int argc, char **argv)
{
    struct recorder rec = { 0 };
    struct stream_dissector sd = { "recorder", rec_open, rec_data, rec_gap, rec_eof, rec_close, &rec, NULL };
    struct datagram_dissector dd = { "recorder", rec_datagram, &rec };
    struct dissector_set ds = { .xmpp = &sd, .dns_tcp = &sd, .dns_udp = &dd };
    struct fact_sink sink = { .on_conn = on_conn };
    struct pipeline_config cfg;
    struct capture *cap = capture_new(NULL);
    struct capture_source_info si = { .linktype = -1 };
    struct capture_options co = { 0 };
    struct pipeline pl;
    char err[1024];
    int errors;

    if (argc < 3) {
        fprintf(stderr, "usage: streamdump OUTDIR FILE...\n");
        return 2;
    }
    rec.outdir = argv[1];
    if (!cap)
        return 2;
    for (int i = 2; i < argc; i++) {
        if (capture_add(cap, argv[i], false, &co, err, sizeof(err)) != 0) {
            fprintf(stderr, "streamdump: %s\n", err);
            capture_free(cap);
            return 2;
        }
    }
    pipeline_config_default(&cfg);
    if (pipeline_init(&pl, &cfg, &ds, &sink) != 0)
        return 2;
    errors = capture_run(cap, &co, on_frame, &pl);
    if (capture_source_count(cap))
        capture_source_info(cap, 0, &si);
    pipeline_finish(&pl);
    printf("frames=%" PRIu64 " records=%" PRIu64 " errors=%d linktype=%d linktypes=%u"
           " bad_timestamps=%" PRIu64 " secrets=%zu first_ns=%" PRId64 " last_ns=%" PRId64
           " tcp_csum_bad=%" PRIu64 " udp_csum_bad=%" PRIu64
           " udp_csum_zero=%" PRIu64 " snaplen_cut=%" PRIu64 " reassembled=%" PRIu64
           " vlan_tagged=%" PRIu64 " tunnelled=%" PRIu64 "\n",
           capture_frames(cap), si.records, errors, si.linktype, si.linktypes, si.bad_timestamps,
           capture_source_count(cap) ? capture_secrets_count(cap, 0) : 0, si.first_ns, si.last_ns,
           pl.dec.stats.tcp_csum_bad,
           pl.dec.stats.udp_csum_bad, pl.dec.stats.udp_csum_zero, pl.dec.stats.snaplen_cut,
           pl.dec.stats.reassembled, pl.dec.stats.vlan_tagged, pl.dec.stats.tunnelled);
    pipeline_destroy(&pl);
    capture_free(cap);
    return 0;
}
