/*
 * capture_write.c - pcap and pcapng files written frame by frame (see
 * capture_write.h).
 */
#include <config.h>

#include "capture_write.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meta.h"

#define PCAP_MAGIC_US 0xa1b2c3d4u
#define PCAP_MAGIC_NS 0xa1b23c4du
#define PCAPNG_SHB 0x0A0D0D0Au
#define PCAPNG_IDB 0x00000001u
#define PCAPNG_EPB 0x00000006u
#define PCAPNG_BOM 0x1A2B3C4Du
#define OPT_END 0
#define OPT_COMMENT 1
#define OPT_IF_NAME 2
#define OPT_IF_DESCRIPTION 3
#define OPT_IF_TSRESOL 9
#define OPT_SHB_USERAPPL 4
#define MAX_OPTION_TEXT 1024 /* longer names are cut */

struct capture_writer {
    FILE *fp;
    char *path;
    enum capture_write_format format;
    int linktype;         /* pcap: of the file */
    bool nano;            /* pcap: nanosecond timestamps */
    unsigned ninterfaces; /* pcapng */
    uint64_t frames;
    int err;              /* first errno of a failed write; 0 if none */
};

static void put(struct capture_writer *w, const void *p, size_t n)
{
    if (w->err || n == 0)
        return;
    if (fwrite(p, 1, n, w->fp) != n)
        w->err = errno ? errno : EIO;
}

static void put32(struct capture_writer *w, uint32_t v)
{
    uint8_t b[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
    put(w, b, sizeof(b));
}

static void put16(struct capture_writer *w, uint16_t v)
{
    uint8_t b[2] = { (uint8_t)v, (uint8_t)(v >> 8) };
    put(w, b, sizeof(b));
}

static void pad4(struct capture_writer *w, size_t n)
{
    static const uint8_t zero[4];
    put(w, zero, (4 - n % 4) % 4);
}

static size_t padded(size_t n)
{
    return (n + 3) & ~(size_t)3;
}

static size_t text_len(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    return n > MAX_OPTION_TEXT ? MAX_OPTION_TEXT : n;
}

/* A text option (code, length, bytes, padding); nothing for "" or NULL. */
static void put_text_option(struct capture_writer *w, uint16_t code, const char *s)
{
    size_t n = text_len(s);
    if (!n)
        return;
    put16(w, code);
    put16(w, (uint16_t)n);
    put(w, s, n);
    pad4(w, n);
}

static size_t text_option_size(const char *s)
{
    size_t n = text_len(s);
    return n ? 4 + padded(n) : 0;
}

static void write_shb(struct capture_writer *w)
{
    const char *app = "fedtrace " PACKAGE_VERSION;
    uint32_t len = (uint32_t)(28 + text_option_size(app) + 4);
    put32(w, PCAPNG_SHB);
    put32(w, len);
    put32(w, PCAPNG_BOM);
    put16(w, 1);
    put16(w, 0);
    put32(w, 0xFFFFFFFFu); /* section length: not given */
    put32(w, 0xFFFFFFFFu);
    put_text_option(w, OPT_SHB_USERAPPL, app);
    put32(w, OPT_END);
    put32(w, len);
}

struct capture_writer *capture_writer_open(const char *path, enum capture_write_format format, int linktype,
                                           uint32_t snaplen, bool nano, char *err, size_t errlen)
{
    struct capture_writer *w = calloc(1, sizeof(*w));
    if (!w || !(w->path = strdup(path))) {
        free(w);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    w->fp = fopen(path, "wb");
    if (!w->fp) {
        snprintf(err, errlen, "cannot write '%s': %s", path, strerror(errno));
        free(w->path);
        free(w);
        return NULL;
    }
    w->format = format;
    w->linktype = linktype;
    w->nano = nano;
    if (format == CAPTURE_WRITE_PCAP) {
        put32(w, nano ? PCAP_MAGIC_NS : PCAP_MAGIC_US);
        put16(w, 2);
        put16(w, 4);
        put32(w, 0); /* thiszone */
        put32(w, 0); /* sigfigs */
        put32(w, snaplen ? snaplen : 262144);
        put32(w, (uint32_t)linktype);
    } else {
        write_shb(w);
    }
    if (w->err) {
        snprintf(err, errlen, "cannot write '%s': %s", path, strerror(w->err));
        capture_writer_close(w);
        return NULL;
    }
    return w;
}

int capture_writer_interface(struct capture_writer *w, int linktype, uint32_t snaplen, const char *name,
                             const char *description)
{
    uint32_t len;
    if (w->format == CAPTURE_WRITE_PCAP)
        return linktype == w->linktype ? 0 : -1;
    if (w->ninterfaces >= CAPTURE_WRITE_MAX_INTERFACES || linktype < 0 || linktype > 0xFFFF)
        return -1;
    /* header 16, options, if_tsresol 8, end of options 4, trailing length 4 */
    len = (uint32_t)(16 + text_option_size(name) + text_option_size(description) + 8 + 4 + 4);
    put32(w, PCAPNG_IDB);
    put32(w, len);
    put16(w, (uint16_t)linktype);
    put16(w, 0);
    put32(w, snaplen);
    put_text_option(w, OPT_IF_NAME, name);
    put_text_option(w, OPT_IF_DESCRIPTION, description);
    put16(w, OPT_IF_TSRESOL); /* nanoseconds */
    put16(w, 1);
    put32(w, 9);
    put32(w, OPT_END);
    put32(w, len);
    return w->err ? -1 : (int)w->ninterfaces++;
}

int capture_writer_frame(struct capture_writer *w, int iface, int64_t ts_ns, const uint8_t *data,
                         uint32_t caplen, uint32_t wirelen)
{
    uint64_t t = ts_ns < 0 ? 0 : (uint64_t)ts_ns;
    if (w->err)
        return -1;
    if (w->format == CAPTURE_WRITE_PCAP) {
        put32(w, (uint32_t)(t / (uint64_t)FT_NS_PER_SEC));
        put32(w, (uint32_t)(w->nano ? t % (uint64_t)FT_NS_PER_SEC : t % (uint64_t)FT_NS_PER_SEC / 1000));
        put32(w, caplen);
        put32(w, wirelen);
        put(w, data, caplen);
    } else {
        uint32_t len = (uint32_t)(32 + padded(caplen));
        if (iface < 0 || (unsigned)iface >= w->ninterfaces || caplen > UINT32_MAX - 64) {
            w->err = EINVAL;
            return -1;
        }
        put32(w, PCAPNG_EPB);
        put32(w, len);
        put32(w, (uint32_t)iface);
        put32(w, (uint32_t)(t >> 32));
        put32(w, (uint32_t)t);
        put32(w, caplen);
        put32(w, wirelen);
        put(w, data, caplen);
        pad4(w, caplen);
        put32(w, len);
    }
    if (w->err)
        return -1;
    w->frames++;
    return 0;
}

uint64_t capture_writer_frames(const struct capture_writer *w)
{
    return w->frames;
}

const char *capture_writer_path(const struct capture_writer *w)
{
    return w->path;
}

int capture_writer_close(struct capture_writer *w)
{
    int e;
    if (!w)
        return 0;
    e = w->err;
    if (fclose(w->fp) != 0 && !e)
        e = errno ? errno : EIO;
    free(w->path);
    free(w);
    if (e) {
        errno = e;
        return -1;
    }
    return 0;
}
