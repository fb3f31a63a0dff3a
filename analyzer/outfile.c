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
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define OUTFILE_BUFSIZE 65536 /* a whole NDJSON line leaves in one write() */

static ssize_t cookie_write(void *cookie, const char *buf, size_t size)
{
    struct outfile *of = cookie;
    size_t done = 0;

    if (of->err) {
        errno = of->err;
        return -1;
    }
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
    return (ssize_t)size;
}

static int open_path(const char *path, bool append)
{
    int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC);
    return open(path, flags, 0666);
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
    return 0;
}

bool outfile_isatty(const struct outfile *of)
{
    return isatty(of->fd) == 1;
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
    int fd;
    if (!of->path)
        return 0;
    if (fflush(of->fp) != 0)
        return -1;
    fd = open_path(of->path, true);
    if (fd < 0)
        return -1;
    if (dup2(fd, of->fd) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    close(fd);
    return 0;
}

int outfile_close(struct outfile *of)
{
    int err = 0;
    if (!of->fp)
        return 0;
    if (fflush(of->fp) != 0 || ferror(of->fp))
        err = of->err ? of->err : (errno ? errno : EIO);
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
