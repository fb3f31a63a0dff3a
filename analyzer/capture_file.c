/*
 * capture_file.c - opening a capture file (or standard input): classic
 * pcap through libpcap, pcapng through pcapng.c, told apart by the magic
 * number; and the per-link-type BPF filters of a file source.  For files
 * the filter is run in capture_read.c, frame by frame, so every record is
 * counted and frame numbers stay the ones Wireshark shows; a pcapng file
 * gets one compiled filter per link type among its interfaces.
 */
#include "capture_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "decode.h"
#include "pcapng.h"

#define FILE_READ_BUF (256 * 1024) /* stdio buffer of a capture file */

int capture_open_file(struct capture_source *s, const struct capture_options *o, char *err,
                      size_t errlen)
{
    char ebuf[PCAP_ERRBUF_SIZE] = "";
    uint8_t magic[4] = { 0 };
    size_t got;
    FILE *fp;

    fp = strcmp(s->name, "-") == 0 ? stdin : fopen(s->name, "rb");
    if (!fp) {
        snprintf(err, errlen, "cannot open '%s': %s", s->name, strerror(errno));
        return -1;
    }
    {
        struct stat st;
        /* a pipe: no stdio read-ahead, so peeked_read can hand on each
         * packet as it arrives (see capture_pipe.c) */
        if (fstat(fileno(fp), &st) == 0 && !S_ISREG(st.st_mode))
            setvbuf(fp, NULL, _IONBF, 0);
        /* a file: read in large blocks, not st_blksize (4 KiB) at a time
         * (busy 100 MB capture: 24,400 read(2) calls -> 397) */
        else if ((s->readbuf = malloc(FILE_READ_BUF)) != NULL)
            setvbuf(fp, s->readbuf, _IOFBF, FILE_READ_BUF);
    }
    got = fread(magic, 1, sizeof(magic), fp);
    if (got < sizeof(magic)) {
        snprintf(err, errlen, "cannot read '%s': %s", s->name,
                 ferror(fp) ? strerror(errno) : "file too short for a capture file header");
        if (fp != stdin)
            fclose(fp);
        return -1;
    }
    fp = capture_pipe_rewound(fp, magic, got);
    if (!fp) {
        snprintf(err, errlen, "cannot read '%s': %s", s->name, strerror(errno));
        return -1;
    }
    if (pcapng_magic(magic)) {
        s->kind = SRC_PCAPNG;
        s->ng_file = fp;
        s->ng = pcapng_open(fp, ebuf, sizeof(ebuf));
        if (!s->ng) {
            snprintf(err, errlen, "cannot read '%s': %s", s->name, ebuf);
            return -1;
        }
        s->linktype = -1;
    } else {
        s->kind = SRC_PCAP;
        s->file_nano = (magic[0] == 0xa1 && magic[1] == 0xb2 && magic[2] == 0x3c && magic[3] == 0x4d) ||
                       (magic[0] == 0x4d && magic[1] == 0x3c && magic[2] == 0xb2 && magic[3] == 0xa1);
        s->pcap = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_NANO, ebuf);
        if (!s->pcap) {
            snprintf(err, errlen, "cannot read '%s': %s", s->name, ebuf);
            if (fp != stdin)
                fclose(fp);
            return -1;
        }
        s->nano = true;
        s->linktype = pcap_datalink(s->pcap);
        s->snaplen = pcap_snapshot(s->pcap);
    }
    if (o->filter && *o->filter) {
        s->filter = strdup(o->filter);
        if (!s->filter) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
    }
    return 0;
}

/* The filter state for a link type of a file source, compiled on first
 * use.  NULL when the source already has MAX_LINKTYPES of them.  With
 * `err` (at open), a filter that does not compile is an error. */
struct link_filter *capture_link_filter_for(struct capture_source *s, int linktype, char *err,
                                            size_t errlen)
{
    struct link_filter *lf;
    char name[CAPTURE_LINKTYPE_NAME_SIZE];

    for (unsigned i = 0; i < s->nlinks; i++)
        if (s->links[i].linktype == linktype)
            return &s->links[i];
    if (s->nlinks == MAX_LINKTYPES)
        return NULL;
    lf = &s->links[s->nlinks++];
    memset(lf, 0, sizeof(*lf));
    lf->linktype = linktype;
    lf->usable = true;
    if (!decode_link_supported(linktype))
        fprintf(stderr, "fedtrace: warning: '%s': link type %s (%d) is not decoded; its frames are counted only\n",
                s->name, capture_linktype_name(linktype, name, sizeof(name)), linktype);
    if (s->filter) {
        pcap_t *dead = s->pcap ? NULL : pcap_open_dead(linktype, 262144);
        pcap_t *p = s->pcap ? s->pcap : dead;
        if (!p || pcap_compile(p, &lf->prog, s->filter, 1, PCAP_NETMASK_UNKNOWN) != 0) {
            lf->usable = false;
            if (err)
                snprintf(err, errlen, "bad filter '%s' for '%s': %s", s->filter, s->name,
                         p ? pcap_geterr(p) : "out of memory");
            else
                fprintf(stderr, "fedtrace: warning: '%s': filter '%s' does not apply to link type %s; its frames are skipped\n",
                        s->name, s->filter, capture_linktype_name(linktype, name, sizeof(name)));
        }
        if (dead)
            pcap_close(dead);
    }
    return lf;
}
