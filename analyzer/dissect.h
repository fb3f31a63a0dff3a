/*
 * dissect.h - how application dissectors plug into the pipeline.
 *
 * A stream dissector gets the reassembled bytes of one TCP connection, per
 * direction, with gaps and end-of-stream, in the shape of Zeek's
 * DeliverStream/Undelivered/EndpointEOF.  A datagram dissector gets UDP
 * payloads.  The pipeline chooses a dissector per flow: by the responder's
 * port first, then by looking at the first payload bytes.  Dissectors
 * never see packets and know nothing about verdicts.
 */
#ifndef FT_DISSECT_H
#define FT_DISSECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "meta.h"

/* What a flow carries, as far as fedtrace cares. */
enum app_proto {
    APP_UNDECIDED = 0, /* no payload seen yet */
    APP_NONE,          /* not ours: tracked for TCP facts only, payload ignored */
    APP_XMPP,          /* XML stream (c2s or s2s, STARTTLS possible) */
    APP_XMPP_TLS,      /* XMPP over direct TLS (XEP-0368) */
    APP_DNS,           /* DNS over TCP or UDP */
};

const char *app_proto_name(enum app_proto p);

/* Identity of a flow as dissectors see it. */
struct flow_info {
    uint64_t flow_id;
    uint8_t proto;              /* IPPROTO_TCP / IPPROTO_UDP */
    struct ft_addr addr[2];     /* [FT_DIR_ORIG], [FT_DIR_RESP] */
    uint16_t port[2];
    enum app_proto app;
};

struct stream_dissector {
    const char *name;
    /* Per-connection state; NULL means "not interested" (the flow then
     * stops reassembling). */
    void *(*open)(void *user, const struct flow_info *fi, const struct ft_meta *m);
    void (*data)(void *state, enum ft_dir dir, const uint8_t *p, size_t n,
                 const struct ft_meta *m);
    void (*gap)(void *state, enum ft_dir dir, uint64_t nbytes, const struct ft_meta *m);
    void (*eof)(void *state, enum ft_dir dir, const struct ft_meta *m);
    /* End of the connection: free the state. */
    void (*close)(void *state, const struct ft_meta *m);
    void *user;
    /* The connection has been quiet for a while (packet time): give back
     * memory that can be rebuilt without changing what is reported.
     * Optional. */
    void (*idle)(void *state);
};

struct datagram_dissector {
    const char *name;
    void (*datagram)(void *user, const struct flow_info *fi, enum ft_dir dir,
                     const uint8_t *p, size_t n, bool truncated, const struct ft_meta *m);
    void *user;
};

/* Which dissectors serve which protocol; any may be NULL. */
struct dissector_set {
    const struct stream_dissector *xmpp;     /* APP_XMPP and APP_XMPP_TLS */
    const struct stream_dissector *dns_tcp;
    const struct datagram_dissector *dns_udp;
    /* Packet time moved on (about once a second): expire what waits. */
    void (*tick)(void *user, int64_t now_ns);
    /* End of input, after every flow ended: report what is still pending. */
    void (*finish)(void *user);
    void *user;                              /* for tick and finish */
};

#define MAX_XMPP_PORTS 32

/* Ports that mean "XMPP" without looking at content. */
struct port_set {
    uint16_t port[MAX_XMPP_PORTS];
    unsigned count;
};

bool port_set_has(const struct port_set *ps, uint16_t port);

/* Parses "5222,5269,..." into ps; false (and ps unchanged) on a bad list. */
bool port_set_parse(struct port_set *ps, const char *list);

/* Sniffing verdicts on the first bytes of a direction. */
enum sniff_result {
    SNIFF_NEED_MORE, /* a prefix of something we recognise: wait for more bytes */
    SNIFF_NO,
    SNIFF_XML,       /* "<?xml" or "<stream:stream" (possibly after whitespace) */
    SNIFF_TLS,       /* a TLS handshake record carrying a ClientHello */
};

/* Looks at the first n bytes of a stream direction. */
enum sniff_result sniff_stream(const uint8_t *p, size_t n);

/* Decides a TCP flow's protocol from the responder port and, where the
 * port is not enough, the first bytes the originator sent.  May return
 * APP_UNDECIDED when more bytes are needed. */
enum app_proto dissect_choose_tcp(const struct port_set *xmpp_ports, uint16_t resp_port,
                                  uint16_t orig_port, const uint8_t *first, size_t n);

#endif
