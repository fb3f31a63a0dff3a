/*
 * output_spool.c - temporary files for the output (see output_spool.h).
 */
#include "output_spool.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "outfile.h"

static int fail(struct spool *s)
{
    if (!s->err)
        s->err = errno ? errno : EIO;
    return -1;
}

int spool_open(struct spool *s)
{
    memset(s, 0, sizeof(*s));
    s->fp = ft_tmpfile(s->dir, sizeof(s->dir));
    if (!s->fp)
        return fail(s);
    s->created = true;
    s->at_end = true;
    return 0;
}

int64_t spool_append(struct spool *s, const void *p, size_t n)
{
    uint64_t off = s->size;
    if (!s->fp || s->err)
        return -1;
    if (!s->at_end) {
        if (fseeko(s->fp, 0, SEEK_END) != 0)
            return fail(s);
        s->at_end = true;
    }
    if (n && fwrite(p, 1, n, s->fp) != n)
        return fail(s);
    s->size += n;
    return (int64_t)off;
}

#define SPOOL_WINDOW 32768   /* spool_read()'s window; longer reads go direct */
#define SPOOL_SKIP_READ 4096 /* spool_skip() reads shorter skips, seeks longer */

/* pread()s exactly n bytes at off.  0, or -1 (s->err set). */
static int read_at(struct spool *s, uint64_t off, void *buf, size_t n)
{
    int fd = fileno(s->fp);
    char *p = buf;
    while (n > 0) {
        ssize_t got = pread(fd, p, n, (off_t)off);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0) {
            if (got == 0)
                errno = EIO; /* short: the file lost data */
            return fail(s);
        }
        p += got;
        off += (uint64_t)got;
        n -= (size_t)got;
    }
    return 0;
}

int spool_read(struct spool *s, uint64_t off, void *buf, size_t n)
{
    uint64_t start, len;
    if (!s->fp || s->err)
        return -1;
    if (off > s->size || n > s->size - off) {
        errno = EINVAL;
        return fail(s);
    }
    if (n == 0)
        return 0;
    /* Appends still in stdio's buffer go to the file first. */
    if (off + n > s->flushed) {
        if (fflush(s->fp) != 0)
            return fail(s);
        s->flushed = s->size;
    }
    /* The file only grows, so what the window holds stays true. */
    if (s->win && off >= s->win_off && off + n <= s->win_off + s->win_len) {
        memcpy(buf, s->win + (off - s->win_off), n);
        return 0;
    }
    if (n > SPOOL_WINDOW / 2)
        return read_at(s, off, buf, n);
    if (!s->win && !(s->win = malloc(SPOOL_WINDOW)))
        return read_at(s, off, buf, n);
    /* Centred on the request: callers walk records both ways. */
    start = off > SPOOL_WINDOW / 2 ? off - SPOOL_WINDOW / 2 : 0;
    len = s->flushed - start < SPOOL_WINDOW ? s->flushed - start : SPOOL_WINDOW;
    s->win_len = 0;
    if (read_at(s, start, s->win, (size_t)len) != 0)
        return -1;
    s->win_off = start;
    s->win_len = (size_t)len;
    memcpy(buf, s->win + (off - start), n);
    return 0;
}

int spool_copy(struct spool *s, uint64_t off, uint64_t len, FILE *to)
{
    char buf[65536];
    if (!s->fp || s->err)
        return -1;
    if (off > s->size || len > s->size - off) {
        errno = EINVAL;
        return fail(s);
    }
    if (fseeko(s->fp, (off_t)off, SEEK_SET) != 0)
        return fail(s);
    s->at_end = false;
    while (len > 0) {
        size_t want = len < sizeof(buf) ? (size_t)len : sizeof(buf);
        if (fread(buf, 1, want, s->fp) != want) {
            if (!ferror(s->fp))
                errno = EIO;
            return fail(s);
        }
        if (fwrite(buf, 1, want, to) != want)
            return -1;
        len -= want;
    }
    return 0;
}

int spool_rewind(struct spool *s)
{
    if (!s->fp || s->err)
        return -1;
    if (fseeko(s->fp, 0, SEEK_SET) != 0)
        return fail(s);
    s->at_end = false;
    s->rpos = 0;
    return 0;
}

int spool_next(struct spool *s, void *buf, size_t n)
{
    if (!s->fp || s->err || s->at_end)
        return -1;
    if (n > s->size - s->rpos) {
        errno = EINVAL;
        return fail(s);
    }
    if (n && fread(buf, 1, n, s->fp) != n) {
        if (!ferror(s->fp))
            errno = EIO;
        return fail(s);
    }
    s->rpos += n;
    return 0;
}

int spool_copy_next(struct spool *s, uint64_t n, FILE *to)
{
    if (!s->fp || s->err || s->at_end)
        return -1;
    if (spool_copy(s, s->rpos, n, to) != 0)
        return -1;
    s->rpos += n;
    return 0;
}

int spool_skip(struct spool *s, uint64_t n)
{
    if (!s->fp || s->err || s->at_end)
        return -1;
    if (n > s->size - s->rpos) {
        errno = EINVAL;
        return fail(s);
    }
    if (n <= SPOOL_SKIP_READ) {
        /* Short skips read through stdio's buffer: a seek would be a
         * system call and would throw the buffer away. */
        char sink[SPOOL_SKIP_READ];
        if (n && fread(sink, 1, (size_t)n, s->fp) != n) {
            if (!ferror(s->fp))
                errno = EIO;
            return fail(s);
        }
    } else if (fseeko(s->fp, (off_t)(s->rpos + n), SEEK_SET) != 0) {
        return fail(s);
    }
    s->rpos += n;
    return 0;
}

void spool_close(struct spool *s)
{
    if (s->fp)
        fclose(s->fp);
    s->fp = NULL;
    s->size = s->flushed = 0;
    s->at_end = false;
    free(s->win);
    s->win = NULL;
    s->win_off = s->win_len = 0;
}
