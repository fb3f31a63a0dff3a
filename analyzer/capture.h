/*
 * capture.h - packet sources: capture files and live interfaces.
 *
 * A capture holds one or more sources (-r FILE, -i IFACE, each optionally
 * tagged @OBSERVER).  capture_run() hands every frame to a callback in
 * timestamp order across sources (a merge, as mergecap does), numbering
 * frames both globally and per source so evidence can name the frame in
 * the file it came from: per source, the number is the one Wireshark shows
 * (every packet record of the file counts, filtered or not).  Every frame
 * carries its own link type: a pcapng file may describe interfaces of
 * different link types (what Wireshark and mergecap write when they merge
 * captures).  A file that turns out truncated or corrupt half way is
 * reported in the source's `error` and everything read before the damage
 * is still delivered.
 *
 * This is the only module that knows capture file formats and libpcap:
 * classic pcap files and live interfaces go through libpcap, pcapng files
 * through pcapng.c.  The capture is opaque; what callers need is read
 * through capture_source_info() and the accessors below.  Its files, by
 * job: capture.c (the sources and the merge), capture_live.c (interfaces),
 * capture_file.c (opening files), capture_pipe.c (standard input and
 * pipes), capture_read.c (the next frame of a source), capture_dump.c
 * (writing frames out); capture_int.h is their private header.
 *
 * Timestamps handed out are always within [0, CAPTURE_TS_MAX_NS]: a frame
 * whose time is outside (or overflows 64-bit nanoseconds, as a crafted
 * pcapng timestamp or if_tsoffset can) is clamped to the nearest bound and
 * counted in the source's bad_timestamps, so every later time difference
 * fits an int64_t.
 */
#ifndef FT_CAPTURE_H
#define FT_CAPTURE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include "meta.h"

#define CAPTURE_ERRBUF_SIZE 512                 /* enough for any capture_add() error */
#define CAPTURE_TS_MAX_NS (INT64_C(1) << 62)    /* 2116-02-20: latest time handed out */
#define CAPTURE_LINKTYPE_NAME_SIZE 32

struct capture;

struct capture_options {
    const char *filter;  /* BPF expression; NULL = none */
    bool filter_vlan;    /* live: also match `filter` inside 802.1Q tags, on
                          * link types that carry them (Ethernet) */
    int snaplen;         /* live only */
    bool promisc;        /* live only */
    int buffer_kib;      /* live only; 0 = libpcap default */
    bool immediate;      /* live: deliver each packet at once, not by buffer */
    uint64_t max_frames; /* stop after this many frames; 0 = no limit */
};

/* The live wall clock: called from capture_run() about every
 * CAPTURE_CLOCK_NS while a live source is open, busy link or idle, with
 * the time a packet arriving now could be stamped at the earliest (wall
 * clock minus the kernel's delivery slack), never going backwards.  See
 * capture_set_clock(). */
typedef void (*capture_clock_fn)(void *user, int64_t now_ns);
#define CAPTURE_CLOCK_NS (100 * INT64_C(1000000))
#define CAPTURE_CLOCK_SLACK_NS (500 * INT64_C(1000000))

/* What a caller may know about one source: a plain value record.  The
 * strings belong to the capture and live until capture_free(). */
struct capture_source_info {
    const char *name;        /* file path, "-" or interface */
    const char *observer;    /* observer tag or NULL */
    bool live;
    bool pcapng;             /* read by the pcapng reader: may carry Decryption
                                Secrets Blocks (capture_secrets_count) */
    int linktype;            /* of the first interface; -1 when none was described */
    char linktype_name[CAPTURE_LINKTYPE_NAME_SIZE]; /* capture_linktype_name() of it */
    unsigned linktypes;      /* distinct link types among its interfaces */
    int snaplen;
    uint64_t frames;         /* frames delivered */
    uint64_t bytes;          /* their wire length */
    uint64_t records;        /* packet records read (the last Wireshark frame number) */
    int64_t first_ns, last_ns; /* time of the first and last delivered frame */
    uint64_t bad_timestamps; /* clamped into [0, CAPTURE_TS_MAX_NS] */
    const char *error;       /* damage found while reading; "" if none */
    bool have_stats;         /* live: kernel statistics at the end */
    uint64_t kernel_received, kernel_dropped, if_dropped;
};

typedef void (*capture_frame_fn)(void *user, int linktype, const uint8_t *data, uint32_t caplen,
                                 uint32_t wirelen, const struct ft_meta *m);

/* An empty capture.  `stop` (may be NULL) is polled during capture_run()
 * and set asynchronously (a signal handler) to end the run.  NULL on
 * allocation failure.  Free with capture_free(). */
struct capture *capture_new(const volatile sig_atomic_t *stop);

/* Adds a source.  `spec` is PATH[@OBSERVER] or IFACE[@OBSERVER]; a file
 * whose whole name exists is never split at '@'.  Opens it, checks its link
 * type and prepares the filter.  Returns 0, or -1 with a one-line reason
 * in err (for "fedtrace: ..." on stderr; CAPTURE_ERRBUF_SIZE is enough). */
int capture_add(struct capture *c, const char *spec, bool live, const struct capture_options *o,
                char *err, size_t errlen);

/* Registers the live wall clock (NULL: none).  Files never call it. */
void capture_set_clock(struct capture *c, capture_clock_fn fn, void *user);

/* Reads the kernel's counters (pcap_stats) of every live source now, for
 * capture_source_info() and capture_snapshot(); capture_run() does it
 * once more at the end. */
void capture_refresh_stats(struct capture *c);

/* Delivers all frames in time order until every source ends, max_frames
 * is reached or *stop becomes true.  Returns the number of sources that
 * ended with an error (their `error` says what). */
int capture_run(struct capture *c, const struct capture_options *o, capture_frame_fn fn,
                void *user);

unsigned capture_source_count(const struct capture *c);

/* Fills *info for source i (< capture_source_count()). */
void capture_source_info(const struct capture *c, unsigned i, struct capture_source_info *info);

/* Frames delivered over all sources. */
uint64_t capture_frames(const struct capture *c);

/* Decryption secrets found in source i (pcapng Decryption Secrets Blocks):
 * the count, and the j-th one's type and bytes (owned by the capture,
 * valid until capture_free()).  Kept for a key-log feature; unused yet. */
size_t capture_secrets_count(const struct capture *c, unsigned i);
const uint8_t *capture_secrets_at(const struct capture *c, unsigned i, size_t j, uint32_t *type,
                                  size_t *len);

struct stats_snapshot;

/* Fills the capture's part of a stats snapshot (facts.h): one
 * source_facts per source (strings borrowed: valid until capture_free())
 * and the frame count. */
void capture_snapshot(const struct capture *c, struct stats_snapshot *snap);

/* ---- writing frames back out (-w, evidence files) ------------------------
 *
 * A dump is a capture file written from a capture's frames: classic pcap
 * for one source that is a classic pcap file or a live interface
 * (nanosecond timestamps when it has them), pcapng for a pcapng file or
 * several merged sources, with one interface per source and link type
 * named after the source's observer (or the source itself when it has
 * none), so every frame keeps its capture point.
 * Frames are written byte for byte as captured. */
struct capture_dump;

/* Whether a dump of c is pcapng (else pcap). */
bool capture_dump_is_pcapng(const struct capture *c);

/* Creates path for frames of c.  NULL with a one-line reason in err. */
struct capture_dump *capture_dump_open(const struct capture *c, const char *path, char *err, size_t errlen);

/* Writes a frame of c as capture_run() handed it over (m->source says
 * which source).  0, or -1 when it cannot be written (kept for close). */
int capture_dump_frame(struct capture_dump *d, const struct capture *c, int linktype, const uint8_t *data,
                       uint32_t caplen, uint32_t wirelen, const struct ft_meta *m);

uint64_t capture_dump_frames(const struct capture_dump *d);

/* Closes and frees d (NULL is fine).  0, or -1 with a one-line reason in
 * err when any write failed or a frame could not be written. */
int capture_dump_close(struct capture_dump *d, char *err, size_t errlen);

/* -w: every frame capture_run() delivers from now on is written to d
 * first (after the filter, before anything decodes it).  d stays owned by
 * the caller, who closes it after capture_run(). */
void capture_set_dump(struct capture *c, struct capture_dump *d);

/* Closes every source and frees the capture.  NULL is fine. */
void capture_free(struct capture *c);

/* The link type's name as libpcap knows it ("EN10MB", "LINUX_SLL2", ...),
 * or "LINKTYPE_<n>" for a number it has no name for; never NULL.  buf
 * receives the text (CAPTURE_LINKTYPE_NAME_SIZE is enough). */
const char *capture_linktype_name(int linktype, char *buf, size_t len);

/* -D, as tcpdump: the interfaces a live capture can open, numbered, one
 * a line with its description, on fp.  0, or -1 with a one-line reason in
 * err. */
int capture_list_interfaces(FILE *fp, char *err, size_t errlen);

/* The packet capture library's version line, for --version. */
const char *capture_lib_version(void);

#endif
