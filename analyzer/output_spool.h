/*
 * output_spool.h - temporary files for what the output holds until it has
 * its place: the JSON document's DNS lookups, the XMPP events of open
 * connections, the text report's lists.  Disk instead of memory, so the
 * output's memory does not grow with the number of connections.
 *
 * A spool is an unlinked file in $TMPDIR (or /tmp), made by ft_tmpfile().
 * Appends return the offset of what they wrote, so a caller can keep a
 * small index and read records back out of order.  The first failure
 * (errno) is kept in `err`; later calls then do nothing and fail.
 */
#ifndef FT_OUTPUT_SPOOL_H
#define FT_OUTPUT_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct spool {
    FILE *fp;          /* owned; NULL before spool_open() */
    uint64_t size;     /* bytes appended */
    bool at_end;       /* the stream position is at the end */
    int err;           /* errno of the first failure; 0 if none */
    bool created;      /* false: the failure was making the file */
    uint64_t rpos;     /* spool_next(): where the next read starts */
    uint64_t flushed;  /* bytes certainly in the file (not in stdio's buffer) */
    char *win;         /* owned: spool_read()'s window on the file, or NULL */
    uint64_t win_off;  /* the window holds bytes [win_off, win_off + win_len) */
    size_t win_len;
    char dir[256];     /* the directory tried, for messages */
};

/* Makes the file.  0, or -1 with s->err set. */
int spool_open(struct spool *s);

/* Appends n bytes.  Their offset, or -1 (s->err set). */
int64_t spool_append(struct spool *s, const void *p, size_t n);

/* Reads n bytes at off into buf, through a window on the file (pread,
 * the stream position is left alone): records read near each other cost
 * one system call, not a seek and a read each.  0, or -1 (s->err set). */
int spool_read(struct spool *s, uint64_t off, void *buf, size_t n);

/* Writes len bytes from off to `to`.  0, or -1 (s->err set when the
 * spool failed; when `to` failed, its error indicator says so). */
int spool_copy(struct spool *s, uint64_t off, uint64_t len, FILE *to);

/* Reads the spool from its start in order: spool_rewind(), then
 * spool_next() for the next n bytes each time (no appends in between).
 * 0, or -1 (s->err set; reading past the end is an error). */
int spool_rewind(struct spool *s);
int spool_next(struct spool *s, void *buf, size_t n);

/* The same, for the next n bytes: written to `to` (-1 without s->err when
 * `to` failed), or skipped. */
int spool_copy_next(struct spool *s, uint64_t n, FILE *to);
int spool_skip(struct spool *s, uint64_t n);

/* Closes (and so removes) the file.  The struct may be reused. */
void spool_close(struct spool *s);

#endif
