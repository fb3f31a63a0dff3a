/*
 * outfile.h - where the output goes: standard output or -o FILE, as a
 * buffered stdio stream that survives its environment.
 *
 * Writes are retried when a signal interrupts them and continued when
 * they are short, so SIGINT, SIGTERM or SIGHUP never cost a byte; the
 * first write error is kept (errno) for the one line main prints.
 * outfile_reopen() swaps the file under the stream (SIGHUP, after
 * logrotate moved or truncated it) without losing buffered bytes.
 * Temporary files (ft_tmpfile) are made in $TMPDIR or /tmp and unlinked
 * at once.
 */
#ifndef FT_OUTFILE_H
#define FT_OUTFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct outfile {
    const char *path; /* NULL: standard output; not owned */
    bool append;      /* open with O_APPEND, never truncate */
    int fd;           /* owned unless it is standard output */
    FILE *fp;         /* owned: the stream writers use */
    int err;          /* errno of the first failed write; 0 if none */
};

/* Opens path ("-" or NULL: standard output) for writing, truncating it
 * unless append.  of must stay at its address until outfile_close().
 * Returns 0, or -1 with errno set (nothing to close). */
int outfile_open(struct outfile *of, const char *path, bool append);

/* True when the output is a terminal. */
bool outfile_isatty(const struct outfile *of);

/* "standard output" or the path, for messages. */
const char *outfile_name(const struct outfile *of);

/* True once a write has failed. */
bool outfile_failed(const struct outfile *of);

/* Flushes, then opens the path again (append mode) in place of the old
 * file.  Standard output is left alone.  Returns 0, or -1 with errno set
 * (the old file stays in use). */
int outfile_reopen(struct outfile *of);

/* Flushes and closes.  Returns 0, or -1 with errno set to the first
 * error any write, the flush or the close met. */
int outfile_close(struct outfile *of);

/* A temporary file for spooling, in $TMPDIR (when set and not empty) or
 * /tmp, already unlinked.  The caller fcloses it.  On failure returns
 * NULL with errno set and the directory tried in dir[len]. */
FILE *ft_tmpfile(char *dir, size_t len);

#endif
