/*
 * outfile.c - the output stream and temporary files (see outfile.h).
 *
 * The stream is a stdio cookie stream (fopencookie, glibc and musl) over a
 * file descriptor we own, so the write loop, the error kept for the
 * message, and the reopen are ours while writers keep using fprintf.
 */
#include <config.h>

#include "outfile.h"

#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define OUTFILE_BUFSIZE 65536 /* a whole NDJSON line leaves in one write() */

/* Writes all of buf, retrying interrupted and short writes.  0, or -1
 * with of->err and errno set. */
static int write_all(struct outfile *of, const char *buf, size_t size)
{
    size_t done = 0;
    while (done < size) {
        ssize_t n = write(of->fd, buf + done, size - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            of->err = n < 0 ? errno : EIO;
            errno = of->err;
            return -1;
        }
        done += (size_t)n;
    }
    of->written += size;
    return 0;
}

static int64_t wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int open_path(const char *path, bool append)
{
    int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC);
    return open(path, flags, 0666);
}

/* Puts a new file at the path in place of the one written so far. */
static int swap_file(struct outfile *of)
{
    int fd = open_path(of->path, true);
    if (fd < 0)
        return -1;
    if (dup2(fd, of->fd) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    close(fd);
    of->written = 0;
    of->opened_ns = wall_ns();
    return 0;
}

/* Moves the current file aside (FILE.YYYYmmddTHHMMSSZ[.N]) and starts a
 * new one.  Called only between two lines. */
static int rotate(struct outfile *of)
{
    char aside[4096], stamp[32];
    struct stat st;
    struct tm tm;
    time_t now = time(NULL);
    size_t n;

    gmtime_r(&now, &tm);
    strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
    n = (size_t)snprintf(aside, sizeof(aside), "%s.%s", of->path, stamp);
    for (unsigned k = 1; n < sizeof(aside) && lstat(aside, &st) == 0 && k < 1000; k++)
        n = (size_t)snprintf(aside, sizeof(aside), "%s.%s.%u", of->path, stamp, k);
    if (n >= sizeof(aside)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    if (rename(of->path, aside) != 0)
        return -1;
    of->rotations++;
    return swap_file(of);
}

/* Keeps bytes that wait for their newline.  0, or -1 (memory). */
static int keep_partial(struct outfile *of, const char *buf, size_t size)
{
    if (of->partial_len + size > of->partial_cap) {
        size_t cap = of->partial_cap ? of->partial_cap : 4096;
        char *grown;
        while (cap < of->partial_len + size)
            cap *= 2;
        grown = realloc(of->partial, cap);
        if (!grown) {
            of->err = ENOMEM;
            errno = ENOMEM;
            return -1;
        }
        of->partial = grown;
        of->partial_cap = cap;
    }
    memcpy(of->partial + of->partial_len, buf, size);
    of->partial_len += size;
    return 0;
}

/* Writes what waits and `size` more bytes of buf in one writev (then
 * whatever a short write left). */
static int write_joined(struct outfile *of, const char *buf, size_t size)
{
    struct iovec iov[2] = { { of->partial, of->partial_len }, { (void *)buf, size } };
    size_t skip;
    ssize_t n;

    do
        n = writev(of->fd, iov, 2);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
        of->err = errno;
        return -1;
    }
    of->written += (size_t)n;
    skip = (size_t)n;
    if (skip < of->partial_len) {
        if (write_all(of, of->partial + skip, of->partial_len - skip) != 0)
            return -1;
        skip = of->partial_len;
    }
    if (skip - of->partial_len < size &&
        write_all(of, buf + (skip - of->partial_len), size - (skip - of->partial_len)) != 0)
        return -1;
    of->partial_len = 0;
    return 0;
}

/* Whole-line mode: every complete line in one write, the rest kept. */
static int write_lines(struct outfile *of, const char *buf, size_t size)
{
    const char *nl = memrchr(buf, '\n', size);
    size_t head;

    if (!nl) {
        if (of->partial_len + size <= OUTFILE_MAX_PARTIAL)
            return keep_partial(of, buf, size);
        /* No newline in sight: the bytes go as they are. */
        return write_joined(of, buf, size);
    }
    head = (size_t)(nl - buf) + 1;
    if (write_joined(of, buf, head) != 0)
        return -1;
    if (of->rotate_size && of->path && of->written >= of->rotate_size && rotate(of) != 0)
        fprintf(stderr, "fedtrace: warning: cannot rotate '%s': %s\n", of->path, strerror(errno));
    return head < size ? keep_partial(of, buf + head, size - head) : 0;
}

static ssize_t cookie_write(void *cookie, const char *buf, size_t size)
{
    struct outfile *of = cookie;

    if (of->err) {
        errno = of->err;
        return -1;
    }
    if ((of->whole_lines ? write_lines(of, buf, size) : write_all(of, buf, size)) != 0)
        return -1;
    return (ssize_t)size;
}

int outfile_open(struct outfile *of, const char *path, bool append)
{
    cookie_io_functions_t io = { .write = cookie_write };
    memset(of, 0, sizeof(*of));
    of->path = path && strcmp(path, "-") != 0 ? path : NULL;
    of->append = append;
    of->fd = of->path ? open_path(of->path, append) : STDOUT_FILENO;
    if (of->fd < 0)
        return -1;
    of->fp = fopencookie(of, "w", io);
    if (!of->fp) {
        int e = errno;
        if (of->path)
            close(of->fd);
        errno = e;
        return -1;
    }
    setvbuf(of->fp, NULL, _IOFBF, OUTFILE_BUFSIZE);
    of->opened_ns = wall_ns();
    return 0;
}

void outfile_whole_lines(struct outfile *of)
{
    of->whole_lines = true;
}

void outfile_set_rotation(struct outfile *of, uint64_t size, uint64_t seconds)
{
    of->rotate_size = size;
    of->rotate_ns = (int64_t)seconds * 1000000000;
}

int outfile_rotate_due(struct outfile *of)
{
    if (!of->path || !of->rotate_ns || of->err || wall_ns() - of->opened_ns < of->rotate_ns)
        return 0;
    if (fflush(of->fp) != 0)
        return -1;
    if (of->partial_len) /* a line is being made: at the next call */
        return 0;
    return rotate(of);
}

const char *outfile_name(const struct outfile *of)
{
    return of->path ? of->path : "standard output";
}

bool outfile_failed(const struct outfile *of)
{
    return of->err != 0 || ferror(of->fp);
}

int outfile_reopen(struct outfile *of)
{
    if (!of->path)
        return 0;
    if (fflush(of->fp) != 0)
        return -1;
    return swap_file(of);
}

int outfile_close(struct outfile *of)
{
    int err = 0;
    if (!of->fp)
        return 0;
    if (fflush(of->fp) != 0 || ferror(of->fp))
        err = of->err ? of->err : (errno ? errno : EIO);
    /* A last line without its newline still goes out. */
    if (!err && of->partial_len && write_all(of, of->partial, of->partial_len) != 0)
        err = of->err;
    free(of->partial);
    of->partial = NULL;
    of->partial_len = of->partial_cap = 0;
    if (of->path && close(of->fd) != 0 && !err)
        err = errno;
    fclose(of->fp); /* the cookie stream has no close of its own */
    if (!err && of->err)
        err = of->err;
    of->fp = NULL;
    if (err) {
        errno = err;
        return -1;
    }
    return 0;
}

FILE *ft_tmpfile(char *dir, size_t len)
{
    const char *base = getenv("TMPDIR");
    char path[4096];
    FILE *fp;
    int fd;

    if (!base || !*base)
        base = "/tmp";
    snprintf(dir, len, "%s", base);
    if ((size_t)snprintf(path, sizeof(path), "%s/fedtrace-XXXXXX", base) >= sizeof(path)) {
        errno = ENAMETOOLONG;
        return NULL;
    }
    fd = mkstemp(path);
    if (fd < 0)
        return NULL;
    unlink(path);
    fp = fdopen(fd, "w+");
    if (!fp) {
        int e = errno;
        close(fd);
        errno = e;
    }
    return fp;
}
