/*
 * gen.h - shared types of gen-busy, the realistic busy-capture generator
 * of tools/bench: the seeded random source, hosts, the time-ordered queue
 * of frames and wake-ups, simulated TCP connections, and the run context.
 *
 * Everything of one run lives in struct gen (no global state).  Frames
 * are built as the simulation decides them, kept in a min-heap on packet
 * time and written to the pcap in time order; a frame may carry a mark
 * (a pointer into a truth record and bits to set) that is applied only
 * when the frame is actually written, so the truth file says what the
 * capture really shows, not what the simulation intended.
 *
 * Ownership: struct gen owns the queue, every frame in it and the world
 * (domains, hosts, federations); gen_free() releases them.
 */
#ifndef GEN_BUSY_H
#define GEN_BUSY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ---- seeded random source (splitmix64; deterministic on every host) ---- */
struct rng {
    uint64_t s;
};

static inline uint64_t rng_next(struct rng *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* uniform in [0, 1) */
static inline double rng_unit(struct rng *r)
{
    return (double)(rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

/* uniform in [0, n); n > 0 */
static inline uint32_t rng_below(struct rng *r, uint32_t n)
{
    return (uint32_t)(((rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

static inline bool rng_chance(struct rng *r, double p)
{
    return rng_unit(r) < p;
}

/* uniform in [lo, hi] */
static inline uint64_t rng_range(struct rng *r, uint64_t lo, uint64_t hi)
{
    return lo + rng_next(r) % (hi - lo + 1);
}

double rng_exp(struct rng *r, double mean);
/* log-normal with the given median and sigma (of the underlying normal) */
double rng_lognormal(struct rng *r, double median, double sigma);
void rng_fill(struct rng *r, uint8_t *p, size_t n);

/* ---- time: microseconds of packet time since the capture's start ------ */
#define US_PER_MS 1000ull
#define US_PER_S 1000000ull

/* ---- hosts ------------------------------------------------------------- */
struct host {
    uint8_t mac[6];
    uint8_t ip4[4];
    uint8_t ip6[16];
    bool has6;
    bool csum_offload; /* its TCP checksums are captured as zero */
    uint16_t vlan;     /* 802.1Q id its frames carry on the SPAN, 0 = none */
    uint8_t ttl;
    uint16_t ipid;
};

/* ---- the time-ordered queue -------------------------------------------- */
struct frame {
    uint32_t len;
    uint32_t *mark;     /* bits to OR in when written, or NULL */
    uint32_t mark_bits;
    uint8_t data[];
};

enum qkind { Q_FRAME, Q_WAKE };

struct gen;
typedef void (*wake_fn)(struct gen *g, void *arg, uint64_t t);

struct qent {
    uint64_t t;
    uint64_t seq; /* insertion order: ties break deterministically */
    void *p;      /* struct frame, or the wake argument */
    wake_fn fn;   /* Q_WAKE */
    uint8_t kind;
};

struct queue {
    struct qent *h;
    size_t n, cap;
    uint64_t seq;
};

/* ---- TCP connections ----------------------------------------------------- */
/* Direction 0 is the originator (sent the SYN), 1 the responder. */
struct tcpc {
    struct host *h[2];
    uint16_t port[2];
    bool v6;
    uint32_t seq[2];     /* next sequence number each side sends */
    uint32_t rtt_us;     /* round trip as seen at the capture point */
    uint16_t mss;
    double anomaly;      /* chance of reorder/retransmit/overlap per send */
    uint64_t opened_us;
    bool established;
    bool closed;
    uint32_t *mark;      /* marks for every data frame while set */
    uint32_t mark_bits;
};

enum syn_result { SYN_OK, SYN_RST, SYN_DROP };

/* ---- the run ------------------------------------------------------------- */
struct gen_stats {
    uint64_t frames, bytes;           /* written (file bytes, headers included) */
    uint64_t gen_xmpp, gen_dns, gen_bg; /* wire bytes generated per class */
    uint64_t tcp_reorder, tcp_retrans, tcp_overlap, tcp_cut;
    uint64_t conns_s2s, conns_c2s, conns_bg, conns_dns_tcp, dns_queries;
    uint64_t tls_sessions, midstream;
    uint64_t open_xmpp, peak_open_xmpp; /* XMPP connections open right now */
    uint64_t open_samples, open_sum;    /* for the mean number open */
    uint64_t v6_frames, vlan_frames, padded_frames, zero_csum_frames;
};

struct world;

struct gen {
    struct rng rng;
    FILE *out;
    uint64_t epoch_s;      /* capture start, seconds since 1970 */
    uint64_t now;          /* time of the last frame written */
    uint64_t end_us;       /* stop at this packet time (0: none) */
    uint64_t target_bytes; /* stop once the file holds this many (0: none) */
    double min_life_s;     /* a working federation chats at least this long, */
    double mean_life_s;    /* plus this on average (exponential) */
    bool stopped;
    struct queue q;
    struct gen_stats st;
    struct world *w;
    /* scratch buffers for builders (one frame at a time) */
    uint8_t *scratch;
    size_t scratch_cap;
};

/* queue.c */
void q_push_frame(struct gen *g, uint64_t t, struct frame *f);
void q_push_wake(struct gen *g, uint64_t t, wake_fn fn, void *arg);
bool q_pop(struct gen *g, struct qent *out);
void q_free(struct gen *g);

/* wire.c: frames on the wire and the pcap file */
void pcap_write_header(struct gen *g);
void pcap_write_frame(struct gen *g, uint64_t t, const struct frame *f);
/* Builds and queues one TCP segment of c, sent by side dir. */
void wire_tcp(struct gen *g, uint64_t t, const struct tcpc *c, int dir, uint32_t seq, uint32_t ack, uint8_t flags,
              const uint8_t *opt, size_t optlen, const uint8_t *data, size_t len, uint32_t *mark, uint32_t bits,
              uint64_t *class_bytes);
/* Builds and queues one UDP datagram. */
void wire_udp(struct gen *g, uint64_t t, struct host *src, struct host *dst, bool v6, uint16_t sport, uint16_t dport,
              const uint8_t *data, size_t len, uint32_t *mark, uint32_t bits, uint64_t *class_bytes);

#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_RST 0x04
#define TH_PSH 0x08
#define TH_ACK 0x10

/* tcp.c: connection life on the wire; every function returns the packet
 * time at which the peer has seen what was sent (the earliest time its
 * answer can start). */
void tcp_init(struct gen *g, struct tcpc *c, struct host *client, struct host *server, uint16_t dport, bool v6,
              uint32_t rtt_us);
uint64_t tcp_open(struct gen *g, struct tcpc *c, uint64_t t, enum syn_result r, const uint64_t *retries_us,
                  int nretries, uint64_t *class_bytes, uint32_t *mark, uint32_t bits);
/* A connection already established before the capture began. */
void tcp_midstream(struct tcpc *c);
uint64_t tcp_send(struct gen *g, struct tcpc *c, int dir, uint64_t t, const uint8_t *data, size_t len,
                  uint64_t *class_bytes);
uint64_t tcp_fin(struct gen *g, struct tcpc *c, int first, uint64_t t, uint64_t *class_bytes);
uint64_t tcp_rst(struct gen *g, struct tcpc *c, int dir, uint64_t t, uint64_t *class_bytes);

#endif
