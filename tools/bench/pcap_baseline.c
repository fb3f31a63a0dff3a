/*
 * pcap_baseline.c - the yardstick for tools/bench: a bare libpcap read
 * loop that touches every captured byte, nothing else.
 *
 *   pcap_baseline FILE     prints frames and bytes read
 */
#include <inttypes.h>
#include <stdio.h>

#include <pcap/pcap.h>

int main(int argc, char **argv)
{
    char err[PCAP_ERRBUF_SIZE];
    struct pcap_pkthdr *h;
    const u_char *d;
    uint64_t frames = 0, bytes = 0, sum = 0;
    pcap_t *p;
    int rc;

    if (argc != 2) {
        fprintf(stderr, "usage: pcap_baseline FILE\n");
        return 2;
    }
    p = pcap_open_offline(argv[1], err);
    if (!p) {
        fprintf(stderr, "pcap_baseline: %s\n", err);
        return 2;
    }
    while ((rc = pcap_next_ex(p, &h, &d)) == 1) {
        frames++;
        bytes += h->caplen;
        for (uint32_t i = 0; i < h->caplen; i += 64)
            sum += d[i];
    }
    pcap_close(p);
    printf("frames=%" PRIu64 " bytes=%" PRIu64 " check=%" PRIu64 "\n", frames, bytes, sum & 0xff);
    return rc == PCAP_ERROR ? 1 : 0;
}
