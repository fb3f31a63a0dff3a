/*
 * fuzz_pcapng.c - libFuzzer harness for the pcapng reader.
 *
 * The input is read as a pcapng file from memory (fmemopen) until the end
 * or the first damage; every packet's bytes are walked so a length that
 * points outside the block is caught by the sanitizers, and the secrets
 * accessor is walked too.  Inputs that do not start with a Section Header
 * Block get one prepended, so the fuzzer spends its time on the blocks.
 *
 * Build: ./configure --enable-fuzzers CC=clang && make fuzz/fuzz_pcapng
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../analyzer/pcapng.h"

static const uint8_t shb_le[28] = {
    0x0A, 0x0D, 0x0D, 0x0A, 28, 0, 0, 0, 0x4D, 0x3C, 0x2B, 0x1A, 1, 0, 0, 0,
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 28, 0, 0, 0,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *buf = malloc(size + sizeof(shb_le) + 1);
    size_t len = 0, sink = 0, n;
    struct pcapng_reader *r;
    struct pcapng_packet p;
    char err[256];
    FILE *fp;

    if (!buf)
        return 0;
    if (size < 4 || !pcapng_magic(data)) {
        memcpy(buf, shb_le, sizeof(shb_le));
        len = sizeof(shb_le);
    }
    if (size)
        memcpy(buf + len, data, size);
    len += size;
    fp = fmemopen(buf, len, "rb");
    if (!fp) {
        free(buf);
        return 0;
    }
    r = pcapng_open(fp, err, sizeof(err));
    if (r) {
        while (pcapng_next(r, &p) == PCAPNG_PACKET)
            for (uint32_t i = 0; i < p.caplen; i++)
                sink += p.data[i];
        n = pcapng_secrets_count(r, NULL);
        for (size_t i = 0; i < n; i++) {
            uint32_t type;
            size_t slen;
            const uint8_t *s = pcapng_secrets_at(r, i, &type, &slen);
            for (size_t k = 0; s && k < slen; k++)
                sink += s[k];
        }
        sink += strlen(pcapng_error(r));
        pcapng_close(r);
    }
    fclose(fp);
    free(buf);
    return (int)(sink & 0);
}
