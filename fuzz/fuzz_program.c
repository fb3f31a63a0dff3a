/*
 * fuzz_program.c - libFuzzer harness for the whole program: arbitrary bytes
 * as a pcap or pcapng file through capture, decode, reassembly, the
 * dissectors, the correlator and an output writer, by calling
 * fedtrace_main() with the bytes behind a memfd path.
 *
 * Input layout:
 *   byte 0   flags
 *              bits 0-1 container: 0 the rest is the capture file as is;
 *                       1 the rest is pcap records behind a valid pcap
 *                       header; 2 the rest is pcapng blocks behind a valid
 *                       SHB and IDB; 3 two pcap-wrapped files merged by
 *                       timestamp (-r twice), split at the first "FTSP"
 *              bits 2-3 output: json, ndjson, text, html
 *              bit 4    -v
 *              bit 5    -C (no checksum verification)
 *              bit 6    tiny caps: --max-flows 4 --max-buffer 1
 *              bit 7    -d a.example --server 10.99.1.10 --fail-on-broken
 *   byte 1   containers 1-3 only: bits 0-3 pick the link type, bit 4 asks
 *            for nanosecond timestamps, bit 5 for a big-endian header
 *   rest     the file (or the records / blocks after the headers)
 *
 * The report goes to a memory file and is checked after the run: it must
 * be valid UTF-8; JSON must parse as one document and NDJSON line by line
 * (json-c's parser, independent of the writers); text must carry no C0
 * control but tab and newline, no C1 control and no bidi override; HTML
 * no script element (everything from the wire is escaped).  A
 * report that breaks one of these aborts the run (a finding).  SIGINT, SIGTERM and SIGHUP are blocked
 * during a run and the handlers fedtrace installs are put back after it,
 * so a signal meant for libFuzzer reaches libFuzzer (a stop request caught
 * by fedtrace's handler would otherwise cut every later run short).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <getopt.h>
#include <stdbool.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <json-c/json.h>

#include "../analyzer/main.h"

static const uint32_t LINKTYPES[16] = { 1, 113, 276, 0, 108, 101, 228, 229,
                                        12, 14, 1, 1, 1, 113, 276, 101 };
static const int SAVED_SIGNALS[] = { SIGINT, SIGTERM, SIGHUP, SIGPIPE };
#define NSAVED (sizeof(SAVED_SIGNALS) / sizeof(SAVED_SIGNALS[0]))
#define MAX_ARGS 24

static void put16(uint8_t *p, uint16_t v, int big)
{
    p[big ? 0 : 1] = (uint8_t)(v >> 8);
    p[big ? 1 : 0] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v, int big)
{
    for (int i = 0; i < 4; i++)
        p[big ? 3 - i : i] = (uint8_t)(v >> (8 * i));
}

/* A pcap global header (24 bytes). */
static size_t pcap_header(uint8_t *h, uint8_t sel)
{
    int big = (sel & 0x20) != 0;
    put32(h, (sel & 0x10) ? 0xa1b23c4d : 0xa1b2c3d4, big);
    put16(h + 4, 2, big);
    put16(h + 6, 4, big);
    put32(h + 8, 0, big);
    put32(h + 12, 0, big);
    put32(h + 16, 65535, big);
    put32(h + 20, LINKTYPES[sel & 15], big);
    return 24;
}

/* A pcapng section header block (28 bytes) and an interface description
 * block (20, or 32 with an if_tsresol option asking for nanoseconds). */
static size_t pcapng_header(uint8_t *h, uint8_t sel)
{
    int big = (sel & 0x20) != 0;
    size_t idb_len = (sel & 0x10) ? 32 : 20;

    put32(h, 0x0a0d0d0a, big);
    put32(h + 4, 28, big);
    put32(h + 8, 0x1a2b3c4d, big);
    put16(h + 12, 1, big);
    put16(h + 14, 0, big);
    memset(h + 16, 0xff, 8); /* section length unknown */
    put32(h + 24, 28, big);

    h += 28;
    put32(h, 1, big);
    put32(h + 4, (uint32_t)idb_len, big);
    put16(h + 8, (uint16_t)LINKTYPES[sel & 15], big);
    put16(h + 10, 0, big);
    put32(h + 12, 0, big);
    if (idb_len == 32) {
        put16(h + 16, 9, big); /* if_tsresol */
        put16(h + 18, 1, big);
        h[20] = 9;             /* 10^-9 */
        h[21] = h[22] = h[23] = 0;
        put16(h + 24, 0, big); /* opt_endofopt */
        put16(h + 26, 0, big);
    }
    put32(h + idb_len - 4, (uint32_t)idb_len, big);
    return 28 + idb_len;
}

/* A memfd holding head + body; returns the fd or -1. */
static int memfile(const uint8_t *head, size_t hlen, const uint8_t *body, size_t blen)
{
    int fd = memfd_create("fedtrace-fuzz", MFD_CLOEXEC);
    if (fd < 0)
        return -1;
    if ((hlen && write(fd, head, hlen) != (ssize_t)hlen) ||
        (blen && write(fd, body, blen) != (ssize_t)blen)) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Strict UTF-8 (RFC 3629): no overlongs, no surrogates, nothing above
 * U+10FFFF. */
static bool utf8_valid(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        size_t len;
        uint32_t cp;
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) {
            len = 2;
            cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            len = 3;
            cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            len = 4;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (n - i < len)
            return false;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += len;
    }
    return true;
}

/* One JSON value in s[0..n), nothing but whitespace after it. */
static bool json_one_value(const char *s, size_t n)
{
    struct json_tokener *tok = json_tokener_new_ex(JSON_TOKENER_DEFAULT_DEPTH);
    struct json_object *obj;
    bool ok;
    size_t used;

    if (!tok)
        return true; /* out of memory here is not a finding */
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    obj = json_tokener_parse_ex(tok, s, (int)n);
    ok = obj != NULL && json_tokener_get_error(tok) == json_tokener_success;
    used = json_tokener_get_parse_end(tok);
    while (ok && used < n && (s[used] == ' ' || s[used] == '\n' || s[used] == '\t' || s[used] == '\r'))
        used++;
    ok = ok && used == n;
    json_object_put(obj);
    json_tokener_free(tok);
    return ok;
}

/* The text report: no C0 but tab and newline, no DEL, no C1 (U+0080..9F),
 * no bidi embedding/override/isolate (U+202A..202E, U+2066..2069). */
static bool text_safe(const uint8_t *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if ((s[i] < 0x20 && s[i] != '\n' && s[i] != '\t') || s[i] == 0x7f)
            return false;
        if (s[i] == 0xc2 && i + 1 < n && s[i + 1] >= 0x80 && s[i + 1] <= 0x9f)
            return false;
        if (s[i] == 0xe2 && i + 2 < n &&
            ((s[i + 1] == 0x80 && s[i + 2] >= 0xaa && s[i + 2] <= 0xae) ||
             (s[i + 1] == 0x81 && s[i + 2] >= 0xa6 && s[i + 2] <= 0xa9)))
            return false;
    }
    return true;
}

/* Checks the report fedtrace wrote to fd; aborts on a broken one. */
static void check_report(int fd, int format)
{
    off_t end = lseek(fd, 0, SEEK_END);
    uint8_t *buf;

    if (end <= 0 || end > (off_t)256 << 20)
        return;
    buf = malloc((size_t)end + 1);
    if (!buf)
        return;
    if (pread(fd, buf, (size_t)end, 0) != (ssize_t)end) {
        free(buf);
        return;
    }
    buf[end] = 0;
    if (!utf8_valid(buf, (size_t)end)) {
        fprintf(stderr, "fuzz_program: report is not valid UTF-8\n");
        abort();
    }
    if (format == 0 && !json_one_value((const char *)buf, (size_t)end)) {
        fprintf(stderr, "fuzz_program: JSON report does not parse\n");
        abort();
    }
    if (format == 1) {
        const char *line = (const char *)buf, *stop = (const char *)buf + end;
        while (line < stop) {
            const char *nl = memchr(line, '\n', (size_t)(stop - line));
            if (!nl) {
                fprintf(stderr, "fuzz_program: NDJSON report ends in half a line\n");
                abort();
            }
            if (nl > line && !json_one_value(line, (size_t)(nl - line))) {
                fprintf(stderr, "fuzz_program: NDJSON line does not parse: %.*s\n", (int)(nl - line), line);
                abort();
            }
            line = nl + 1;
        }
    }
    if (format == 3 && (memmem(buf, (size_t)end, "<script", 7) || memmem(buf, (size_t)end, "<SCRIPT", 7))) {
        fprintf(stderr, "fuzz_program: HTML report carries a script element\n");
        abort();
    }
    if (format == 2 && !text_safe(buf, (size_t)end)) {
        fprintf(stderr, "fuzz_program: text report carries a control or bidi character\n");
        abort();
    }
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const FORMATS[4] = { "json", "ndjson", "text", "html" };
    uint8_t head[64];
    char path[2][64], outpath[64];
    char *argv[MAX_ARGS + 1];
    struct sigaction saved[NSAVED];
    sigset_t block, oldmask;
    int fd[2] = { -1, -1 }, outfd = -1, rc;
    int argc = 0, nfiles = 1;
    uint8_t flags, sel = 0;
    size_t hlen = 0;

    if (size < 1)
        return 0;
    flags = data[0];
    data++;
    size--;
    if ((flags & 3) != 0) {
        if (size < 1)
            return 0;
        sel = data[0];
        data++;
        size--;
    }

    switch (flags & 3) {
    case 0:
        fd[0] = memfile(NULL, 0, data, size);
        break;
    case 1:
        hlen = pcap_header(head, sel);
        fd[0] = memfile(head, hlen, data, size);
        break;
    case 2:
        hlen = pcapng_header(head, sel);
        fd[0] = memfile(head, hlen, data, size);
        break;
    default: {
        const uint8_t *sep = memmem(data, size, "FTSP", 4);
        size_t first = sep ? (size_t)(sep - data) : size;
        size_t rest = sep ? size - first - 4 : 0;
        hlen = pcap_header(head, sel);
        fd[0] = memfile(head, hlen, data, first);
        /* The second file's link type differs when the selector says so. */
        hlen = pcap_header(head, (uint8_t)(sel ^ (sel >> 6)));
        fd[1] = memfile(head, hlen, sep ? sep + 4 : data, rest);
        nfiles = 2;
        break;
    }
    }
    outfd = memfd_create("fedtrace-report", MFD_CLOEXEC);
    if (fd[0] < 0 || (nfiles == 2 && fd[1] < 0) || outfd < 0)
        goto out;
    snprintf(outpath, sizeof(outpath), "/proc/self/fd/%d", outfd);

    argv[argc++] = (char *)"fedtrace";
    argv[argc++] = (char *)"-q";
    for (int i = 0; i < nfiles; i++) {
        snprintf(path[i], sizeof(path[i]), "/proc/self/fd/%d@obs%d", fd[i], i);
        argv[argc++] = (char *)"-r";
        argv[argc++] = path[i];
    }
    argv[argc++] = (char *)"-o";
    argv[argc++] = outpath;
    argv[argc++] = (char *)"--format";
    argv[argc++] = (char *)FORMATS[(flags >> 2) & 3];
    if (flags & 0x10)
        argv[argc++] = (char *)"-v";
    if (flags & 0x20)
        argv[argc++] = (char *)"-C";
    if (flags & 0x40) {
        argv[argc++] = (char *)"--max-flows";
        argv[argc++] = (char *)"4";
        argv[argc++] = (char *)"--max-buffer";
        argv[argc++] = (char *)"1";
    }
    if (flags & 0x80) {
        argv[argc++] = (char *)"-d";
        argv[argc++] = (char *)"a.example";
        argv[argc++] = (char *)"--server";
        argv[argc++] = (char *)"10.99.1.10";
        argv[argc++] = (char *)"--fail-on-broken";
    }
    argv[argc] = NULL;

    sigemptyset(&block);
    for (size_t i = 0; i < NSAVED; i++) {
        sigaction(SAVED_SIGNALS[i], NULL, &saved[i]);
        sigaddset(&block, SAVED_SIGNALS[i]);
    }
    sigprocmask(SIG_BLOCK, &block, &oldmask);
    optind = 0; /* getopt's state is global: start over */
    rc = fedtrace_main(argc, argv); /* any exit status is fine; a crash, a leak or a broken report is not */
    for (size_t i = 0; i < NSAVED; i++)
        sigaction(SAVED_SIGNALS[i], &saved[i], NULL);
    sigprocmask(SIG_SETMASK, &oldmask, NULL);
    if (rc != 2)
        check_report(outfd, (flags >> 2) & 3);
out:
    if (outfd >= 0)
        close(outfd);
    for (int i = 0; i < 2; i++)
        if (fd[i] >= 0)
            close(fd[i]);
    return 0;
}
