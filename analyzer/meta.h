/*
 * meta.h - where and when a piece of data was seen.
 *
 * Every event a dissector reports carries a struct ft_meta so the output can
 * point the user at the exact frame in Wireshark (source file + frame number)
 * and order events by packet time.  Plain value type; copy freely.
 */
#ifndef FT_META_H
#define FT_META_H

#include <stdint.h>

/* Direction of a flow: the originator is the side that sent the first SYN
 * (or, without a SYN, the first packet seen). */
enum ft_dir {
    FT_DIR_ORIG = 0, /* originator -> responder ("client to server") */
    FT_DIR_RESP = 1, /* responder -> originator */
};

struct ft_meta {
    uint64_t frame;     /* 1-based packet number over the merged input (pcap_cnt) */
    uint64_t src_frame; /* 1-based frame number inside its own capture source */
    uint32_t source;    /* index of the capture source (-r / -i order, from 0) */
    int64_t ts_ns;      /* packet time, nanoseconds since the Unix epoch */
    uint64_t flow_id;   /* flow the data belongs to; 0 for none */
    uint8_t dir;        /* enum ft_dir */
};

#define FT_NS_PER_SEC INT64_C(1000000000)

#endif
