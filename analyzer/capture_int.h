/*
 * capture_int.h - what the capture_*.c files share and nobody else sees:
 * the source and capture structs (they hold libpcap handles, so this
 * header is included by capture*.c only) and the functions one part of
 * the capture calls in another.
 *
 * Ownership: a struct capture owns its array of sources; a source owns
 * its name, observer, filter text, compiled filters, libpcap handle,
 * pcapng reader, that reader's FILE and a file's stdio buffer.
 * source_free() (capture.c) releases all of them; a source that failed
 * half way through opening is freed the same way.
 */
#ifndef FT_CAPTURE_INT_H
#define FT_CAPTURE_INT_H

#include <stdio.h>

#include <pcap/pcap.h>

#include "capture.h"

#define MAX_LINKTYPES 16 /* distinct link types per source */

enum source_kind {
    SRC_LIVE,
    SRC_PCAP,   /* classic pcap file through libpcap */
    SRC_PCAPNG, /* pcapng file through pcapng.c */
};

/* A compiled filter for one link type of a file source. */
struct link_filter {
    int linktype;
    bool usable;              /* compiled (or no filter given) */
    struct bpf_program prog;
};

/* The frame waiting to be merged. */
struct pending {
    int linktype;
    const uint8_t *data;
    uint32_t caplen, wirelen;
    int64_t ts_ns;
    uint64_t number;          /* record number in the source */
};

struct capture_source {
    char *name;               /* file path, "-" or interface (owned) */
    char *observer;           /* observer tag or NULL (owned) */
    enum source_kind kind;
    pcap_t *pcap;             /* live and classic pcap */
    struct pcapng_reader *ng; /* pcapng */
    FILE *ng_file;            /* the pcapng reader's input (owned) */
    char *readbuf;            /* stdio buffer of a regular file (owned; freed
                                 after the stream that uses it is closed) */
    char *filter;             /* file sources: the BPF expression (owned) or NULL */
    struct link_filter links[MAX_LINKTYPES];
    unsigned nlinks;
    bool nano;                /* libpcap timestamps have nanosecond resolution */
    bool file_nano;           /* a pcap file with nanosecond timestamps (its magic) */
    int linktype;
    int snaplen;
    uint64_t frames, records, bad_timestamps;
    uint64_t bytes;           /* wire length of the frames delivered */
    int64_t first_ns, last_ns;
    bool done;
    char error[PCAP_ERRBUF_SIZE + 64]; /* damage found while reading; "" if none */
    bool have_frame;
    struct pending frame;
    bool have_stats;
    uint64_t kernel_received, kernel_dropped, if_dropped;
};

struct capture {
    struct capture_source *src;
    unsigned nsrc;
    uint64_t frames;          /* frames delivered, all sources */
    const volatile sig_atomic_t *stop;
    capture_clock_fn clock;   /* the live wall clock, or NULL */
    void *clock_user;
    int64_t clock_last_ns;    /* last time handed to `clock` */
    int64_t clock_next_ns;    /* wall time of the next call */
    struct capture_dump *dump; /* -w, or NULL; not owned */
};

/* ---- capture_live.c ---- */

/* Opens interface s->name with the live options and the kernel filter.
 * 0, or -1 with the reason in err; s is freed by the caller either way. */
int capture_open_live(struct capture_source *s, const struct capture_options *o, char *err,
                      size_t errlen);
/* Hands the live wall clock to c->clock when it is due (live runs only). */
void capture_clock_poll(struct capture *c, bool live);
/* Reads the kernel's counters of a live source into it. */
void capture_source_stats(struct capture_source *s);
/* Waits up to 100 ms for any live source to become readable. */
void capture_wait_live(const struct capture *c);

/* ---- capture_file.c ---- */

/* Opens file s->name ("-": standard input) as classic pcap or pcapng by
 * its magic number.  0, or -1 with the reason in err; s is freed by the
 * caller either way. */
int capture_open_file(struct capture_source *s, const struct capture_options *o, char *err,
                      size_t errlen);
/* The filter state for a link type of a file source, compiled on first
 * use (owned by the source).  NULL when the source already has
 * MAX_LINKTYPES of them.  With `err` (at open), a filter that does not
 * compile is an error; without, a warning. */
struct link_filter *capture_link_filter_for(struct capture_source *s, int linktype, char *err,
                                            size_t errlen);

/* ---- capture_pipe.c ---- */

/* A stream that reads `fp` from its first byte again after `n` (<= 4)
 * bytes of it were read into `head`: `fp` itself when it can seek, else a
 * stream that replays `head` then reads the pipe.  Takes ownership of fp
 * (closing the result closes it, unless it is stdin).  NULL on failure
 * (fp is then closed unless it is stdin). */
FILE *capture_pipe_rewound(FILE *fp, const uint8_t *head, size_t n);

/* ---- capture_read.c ---- */

/* Reads the next frame of a source into s->frame.  Returns 1 when a frame
 * waits, 0 when a live source has nothing yet (or a stop was requested),
 * -1 at the end (or on error, recorded in s->error). */
int capture_source_pull(struct capture *c, struct capture_source *s);

#endif
