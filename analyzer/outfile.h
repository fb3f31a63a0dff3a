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
#include <stdint.h>
#include <stdio.h>

struct outfile {
    const char *path; /* NULL: standard output; not owned */
    bool append;      /* open with O_APPEND, never truncate */
    int fd;           /* owned unless it is standard output */
    FILE *fp;         /* owned: the stream writers use */
    int err;          /* errno of the first failed write; 0 if none */
    /* whole lines (outfile_whole_lines): what the stream handed over
     * after the last newline waits here (owned) */
    bool whole_lines;
    char *partial;
    size_t partial_len, partial_cap;
    /* rotation (outfile_set_rotation): a file is moved aside once it holds
     * rotate_size bytes or is rotate_ns old (0: never) */
    uint64_t rotate_size;
    int64_t rotate_ns;
    uint64_t written;         /* bytes in the current file by us */
    int64_t opened_ns;        /* wall time the current file was started */
    uint64_t rotations;
};

/* At most this much of one line waits for its newline; beyond it the
 * bytes are written as they are (a line that long is not a log line). */
#define OUTFILE_MAX_PARTIAL (16u << 20)

/* Opens path ("-" or NULL: standard output) for writing, truncating it
 * unless append.  of must stay at its address until outfile_close().
 * Returns 0, or -1 with errno set (nothing to close). */
int outfile_open(struct outfile *of, const char *path, bool append);

/* "standard output" or the path, for messages. */
const char *outfile_name(const struct outfile *of);

/* True once a write has failed. */
bool outfile_failed(const struct outfile *of);

/* From now on the file only ever receives whole lines, each batch of
 * them in one write(2): bytes after the last newline wait for theirs.  A
 * reader tailing the file never sees half a line. */
void outfile_whole_lines(struct outfile *of);

/* Rotation of a -o FILE written in whole lines: once the file holds
 * `size` bytes (0: no limit), or is `seconds` old (0: no limit, checked by
 * outfile_rotate_due), it is renamed FILE.YYYYmmddTHHMMSSZ (UTC; ".N"
 * appended when that exists) and a new FILE is started, always between two
 * lines.  Standard output is never rotated. */
void outfile_set_rotation(struct outfile *of, uint64_t size, uint64_t seconds);

/* Rotates when the time limit is reached.  0, or -1 with errno set
 * (writing goes on into the old file). */
int outfile_rotate_due(struct outfile *of);

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
