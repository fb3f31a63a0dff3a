/*
 * capture.h - packet sources: capture files and live interfaces.
 *
 * A capture holds one or more sources (-r FILE, -i IFACE, each optionally
 * tagged @OBSERVER).  capture_run() hands every frame to a callback in
 * timestamp order across sources (a merge, as mergecap does), numbering
 * frames both globally and per source so evidence can name the frame in
 * the file it came from.  A file that turns out truncated or corrupt half
 * way is reported in the source's `error` and everything read before the
 * damage is still delivered.  This is the only module that talks to libpcap.
 */
#ifndef FT_CAPTURE_H
#define FT_CAPTURE_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include <pcap/pcap.h>

#include "meta.h"

struct capture_source {
    char *name;          /* file path, "-" or interface (owned) */
    char *observer;      /* observer tag or NULL (owned) */
    bool live;
    pcap_t *pcap;
    int linktype;
    int snaplen;
    bool nano;           /* timestamps have nanosecond resolution */
    uint64_t frames;
    int64_t first_ns, last_ns;  /* time of the first and last frame */
    bool done;
    char error[PCAP_ERRBUF_SIZE]; /* damage found while reading; "" if none */
    /* the frame waiting to be merged */
    bool have_frame;
    struct pcap_pkthdr *hdr;
    const u_char *data;
    /* live statistics at the end (pcap_stats) */
    bool have_stats;
    uint64_t kernel_received, kernel_dropped, if_dropped;
};

struct capture_options {
    const char *filter;  /* BPF expression; NULL = none */
    int snaplen;         /* live only */
    bool promisc;        /* live only */
    int buffer_kib;      /* live only; 0 = libpcap default */
    uint64_t max_frames; /* stop after this many frames; 0 = no limit */
};

struct capture {
    struct capture_source *src;
    unsigned nsrc;
    uint64_t frames;     /* frames delivered, all sources */
    const volatile sig_atomic_t *stop; /* set asynchronously to end a live run */
};

typedef void (*capture_frame_fn)(void *user, int linktype, const uint8_t *data, uint32_t caplen,
                                 uint32_t wirelen, const struct ft_meta *m);

/* Adds a source.  `spec` is PATH[@OBSERVER] or IFACE[@OBSERVER]; a file
 * whose whole name exists is never split at '@'.  Opens it, checks its link
 * type and installs the filter.  Returns 0, or -1 with a one-line reason
 * in err (for "fedtrace: ..." on stderr). */
int capture_add(struct capture *c, const char *spec, bool live, const struct capture_options *o,
                char *err, size_t errlen);

/* Delivers all frames in time order until every source ends, max_frames
 * is reached or *stop becomes true.  Returns the number of sources that
 * ended with an error (their `error` says what). */
int capture_run(struct capture *c, const struct capture_options *o, capture_frame_fn fn,
                void *user);

/* Closes every source and frees the list. */
void capture_close(struct capture *c);

struct stats_snapshot;

/* Fills the capture's part of a stats snapshot: one source_facts per
 * source (strings borrowed: valid until capture_close()) and the frame
 * count. */
void capture_snapshot(const struct capture *c, struct stats_snapshot *snap);

/* The linktype's name as libpcap knows it ("EN10MB", "LINUX_SLL2", ...). */
const char *capture_linktype_name(int linktype);

#endif
