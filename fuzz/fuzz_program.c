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
 *              bits 2-3 output: json, ndjson, text, text
 *              bit 4    -v
 *              bit 5    -C (no checksum verification)
 *              bit 6    tiny caps: --max-flows 4 --max-buffer 1
 *              bit 7    -d a.example --server 10.99.1.10 --fail-on-broken
 *   byte 1   containers 1-3 only: bits 0-3 pick the link type, bit 4 asks
 *            for nanosecond timestamps, bit 5 for a big-endian header
 *   rest     the file (or the records / blocks after the headers)
 *
 * The report goes to /dev/null.  SIGINT, SIGTERM and SIGHUP are blocked
 * during a run and the handlers fedtrace installs are put back after it,
 * so a signal meant for libFuzzer reaches libFuzzer (a stop request caught
 * by fedtrace's handler would otherwise cut every later run short).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <getopt.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const FORMATS[4] = { "json", "ndjson", "text", "text" };
    uint8_t head[64];
    char path[2][64];
    char *argv[MAX_ARGS + 1];
    struct sigaction saved[NSAVED];
    sigset_t block, oldmask;
    int fd[2] = { -1, -1 };
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
    if (fd[0] < 0 || (nfiles == 2 && fd[1] < 0))
        goto out;

    argv[argc++] = (char *)"fedtrace";
    argv[argc++] = (char *)"-q";
    for (int i = 0; i < nfiles; i++) {
        snprintf(path[i], sizeof(path[i]), "/proc/self/fd/%d@obs%d", fd[i], i);
        argv[argc++] = (char *)"-r";
        argv[argc++] = path[i];
    }
    argv[argc++] = (char *)"-o";
    argv[argc++] = (char *)"/dev/null";
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
    (void)fedtrace_main(argc, argv); /* any exit status is fine; a crash or leak is not */
    for (size_t i = 0; i < NSAVED; i++)
        sigaction(SAVED_SIGNALS[i], &saved[i], NULL);
    sigprocmask(SIG_SETMASK, &oldmask, NULL);
out:
    for (int i = 0; i < 2; i++)
        if (fd[i] >= 0)
            close(fd[i]);
    return 0;
}
