/*
 * capture_pipe.c - reading a capture from a pipe or standard input after
 * its magic number was looked at: a pipe cannot be rewound, so the bytes
 * already read are handed back first, then the rest of the pipe, each
 * packet as soon as it arrived.  Knows stdio only.
 */
#include "capture_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

/* A pipe cannot be rewound after its magic number was read: this stream
 * hands the bytes already read back first, then the rest of the pipe. */
struct peeked {
    FILE *under;
    uint8_t head[4];
    size_t nhead, pos;
};

/* What the pipe has now (at least one byte, or end of file): a packet is
 * analysed as soon as its last byte arrived, not when a buffer filled up
 * (the pipe's stdio stream is unbuffered, see capture_open_file). */
static ssize_t peeked_read(void *cookie, char *buf, size_t size)
{
    struct peeked *p = cookie;
    size_t n = 0;
    while (p->pos < p->nhead && n < size)
        buf[n++] = (char)p->head[p->pos++];
    if (n == 0 && size > 0) {
        ssize_t got;
        do
            got = read(fileno(p->under), buf, size);
        while (got < 0 && errno == EINTR);
        if (got < 0)
            return -1;
        n = (size_t)got;
    }
    return (ssize_t)n;
}

static int peeked_close(void *cookie)
{
    struct peeked *p = cookie;
    if (p->under != stdin)
        fclose(p->under);
    free(p);
    return 0;
}

/* Returns a stream that reads `fp` from its first byte again, after
 * `n` bytes of it went into head; takes ownership of fp.  NULL on failure
 * (fp is then closed unless it is stdin). */
FILE *capture_pipe_rewound(FILE *fp, const uint8_t *head, size_t n)
{
    cookie_io_functions_t io = { peeked_read, NULL, NULL, peeked_close };
    struct peeked *p;
    FILE *out;

    if (fseek(fp, 0, SEEK_SET) == 0)
        return fp;
    clearerr(fp);
    p = calloc(1, sizeof(*p));
    if (!p || !(out = fopencookie(p, "rb", io))) {
        free(p);
        if (fp != stdin)
            fclose(fp);
        return NULL;
    }
    p->under = fp;
    memcpy(p->head, head, n);
    p->nhead = n;
    return out;
}
