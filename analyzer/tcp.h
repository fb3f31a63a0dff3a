/*
 * tcp.h - per-connection TCP facts: handshake, close, history.
 *
 * struct tcp_conn records what a network engineer asks first about a
 * connection, with frame numbers and times so a verdict can cite them:
 * was the SYN answered, how often was it retransmitted and when, who
 * reset or closed it, did the capture start mid-connection, what did the
 * handshake negotiate, how long did it take.  The history string and
 * conn_state follow Zeek's conn.log conventions so Zeek users can read them.
 *
 * It also owns the two half_streams that reassemble the payload.
 */
#ifndef FT_TCP_H
#define FT_TCP_H

#include <stdbool.h>
#include <stdint.h>

#include "facts.h"
#include "meta.h"
#include "reasm.h"

struct packet;

#define TCP_MAX_SYN_TIMES FACT_MAX_SYN_TIMES /* SYN transmissions remembered */

/* Zeek-style history letters; upper case = originator, lower = responder. */
enum tcp_hist {
    HIST_SYN = 0,      /* S s */
    HIST_SYNACK,       /* H h */
    HIST_ACK,          /* A a (pure ACK) */
    HIST_DATA,         /* D d */
    HIST_FIN,          /* F f */
    HIST_RST,          /* R r */
    HIST_BAD_CSUM,     /* C c */
    HIST_GAP,          /* G g */
    HIST_RETRANS,      /* T t */
    HIST_ZERO_WIN,     /* W w */
    HIST_COUNT
};

struct tcp_dir_facts {
    struct frame_ref first_data;
    struct frame_ref fin;
    uint64_t packets;
    uint64_t payload_bytes;   /* by the IP header, captured or not */
    uint64_t bad_checksums;
    uint64_t zero_windows;
    uint16_t mss;             /* from the SYN / SYN-ACK; 0 = none */
    int8_t wscale;            /* -1 = none */
    bool sack_permitted;
    bool timestamps;
};

struct tcp_conn {
    struct frame_ref syn;          /* first SYN from the originator */
    struct frame_ref synack;       /* first SYN-ACK from the responder */
    struct frame_ref ack;          /* the ACK completing the handshake */
    struct frame_ref rst;          /* first RST */
    uint8_t rst_dir;               /* enum ft_dir of the first RST */
    uint16_t syn_count;            /* SYNs sent by the originator (1 + retransmissions) */
    uint16_t synack_count;
    int64_t syn_times_ns[TCP_MAX_SYN_TIMES]; /* times of the first SYNs */
    uint32_t syn_frame_off[TCP_MAX_SYN_TIMES];     /* their frames less syn.frame */
    uint32_t syn_src_frame_off[TCP_MAX_SYN_TIMES]; /* ... and file frames; 0 = unknown */
    uint32_t isn[2];
    bool midstream;                /* first packet was not a SYN: capture started late */
    bool established;
    bool closed;                   /* both FINs or a RST seen */
    uint32_t history_seen;         /* bit (dir * HIST_COUNT + letter) */
    char history[2 * HIST_COUNT + 1]; /* letters in order of first appearance */
    uint8_t history_len;
    struct tcp_dir_facts dir[2];
    struct half_stream half[2];    /* reassembly, indexed by the sending direction */
};

/* Updates the connection with one decoded packet travelling in `dir` and
 * feeds its payload to the reassembler, which calls `sink`. */
void tcp_conn_packet(struct tcp_conn *c, struct reasm_ctx *rc, enum ft_dir dir,
                     const struct packet *pkt, const struct reasm_sink *sink);

/* Notes a history letter (used for gaps, which reassembly discovers). */
void tcp_conn_history(struct tcp_conn *c, enum ft_dir dir, enum tcp_hist h);

/* Flushes both directions (gaps for holes, eof) at the end of the flow. */
void tcp_conn_flush(struct tcp_conn *c, struct reasm_ctx *rc, const struct ft_meta *m,
                    const struct reasm_sink *sink);

/* Frees buffered data.  The struct itself belongs to the flow. */
void tcp_conn_release(struct tcp_conn *c, struct reasm_ctx *rc);

/* Zeek conn_state: S0 S1 SF REJ S2 S3 RSTO RSTR RSTOS0 RSTRH SH SHR OTH. */
const char *tcp_conn_state(const struct tcp_conn *c);

/* Handshake round trip (SYN -> SYN-ACK) in ns, or -1 when unknown. */
int64_t tcp_conn_rtt_ns(const struct tcp_conn *c);

/* Copies the TCP facts (handshake, close, history, state, per-direction
 * counters) into a connection record; the flow fills the rest. */
void tcp_conn_facts(const struct tcp_conn *c, struct conn_record *r);

#endif
