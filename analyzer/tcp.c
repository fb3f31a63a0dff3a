/*
 * tcp.c - TCP connection facts and the hand-off to reassembly (see tcp.h).
 */
#include "tcp.h"

#include <stdio.h>
#include <string.h>

#include "decode.h"

static const char HIST_UPPER[HIST_COUNT] = { 'S', 'H', 'A', 'D', 'F', 'R', 'C', 'G', 'T', 'W' };
static const char HIST_LOWER[HIST_COUNT] = { 's', 'h', 'a', 'd', 'f', 'r', 'c', 'g', 't', 'w' };

_Static_assert(sizeof(((struct tcp_conn *)0)->history) == FACT_HISTORY_LEN,
               "the record's history holds every letter");

static struct frame_ref ref_of(const struct ft_meta *m)
{
    return frame_ref_of(m);
}

void tcp_conn_history(struct tcp_conn *c, enum ft_dir dir, enum tcp_hist h)
{
    uint32_t bit = UINT32_C(1) << (dir * HIST_COUNT + h);
    if (c->history_seen & bit)
        return;
    c->history_seen |= bit;
    if (c->history_len < sizeof(c->history) - 1) {
        c->history[c->history_len++] = dir == FT_DIR_ORIG ? HIST_UPPER[h] : HIST_LOWER[h];
        c->history[c->history_len] = '\0';
    }
}

static void note_options(struct tcp_dir_facts *df, const struct packet *pkt)
{
    df->mss = pkt->opt.mss;
    df->wscale = pkt->opt.wscale;
    df->sack_permitted = pkt->opt.sack_permitted;
    df->timestamps = pkt->opt.has_timestamps;
}

void tcp_conn_packet(struct tcp_conn *c, struct reasm_ctx *rc, enum ft_dir dir,
                     const struct packet *pkt, const struct reasm_sink *sink)
{
    struct tcp_dir_facts *df = &c->dir[dir];
    struct half_stream *hs = &c->half[dir];
    uint8_t fl = pkt->tcp_flags;
    uint32_t data_seq = pkt->seq + ((fl & TCP_SYN) ? 1 : 0);
    uint64_t retrans_before = hs->retransmits, gaps_before[2];

    gaps_before[0] = c->half[0].gap_count;
    gaps_before[1] = c->half[1].gap_count;
    if (c->dir[0].packets + c->dir[1].packets == 0 && !(fl & TCP_SYN))
        c->midstream = true;
    df->packets++;
    df->payload_bytes += pkt->payload_wire_len;
    if (pkt->csum_bad) {
        df->bad_checksums++;
        tcp_conn_history(c, dir, HIST_BAD_CSUM);
    }

    if ((fl & (TCP_SYN | TCP_ACK)) == TCP_SYN) {
        tcp_conn_history(c, dir, HIST_SYN);
        if (c->syn_count < TCP_MAX_SYN_TIMES) {
            c->syn_times_ns[c->syn_count] = pkt->meta.ts_ns;
            /* a retransmission's frame, as offsets from the first SYN's
             * (same file only; -V lists each one) */
            if (c->syn.frame && pkt->meta.source == c->syn.source && pkt->meta.frame - c->syn.frame <= UINT32_MAX &&
                pkt->meta.src_frame - c->syn.src_frame <= UINT32_MAX && pkt->meta.src_frame > c->syn.src_frame) {
                c->syn_frame_off[c->syn_count] = (uint32_t)(pkt->meta.frame - c->syn.frame);
                c->syn_src_frame_off[c->syn_count] = (uint32_t)(pkt->meta.src_frame - c->syn.src_frame);
            }
        }
        if (c->syn_count < UINT16_MAX)
            c->syn_count++;
        if (!c->syn.frame) {
            c->syn = ref_of(&pkt->meta);
            c->isn[dir] = pkt->seq;
            note_options(df, pkt);
            reasm_start_syn(hs, pkt->seq);
        } else {
            tcp_conn_history(c, dir, HIST_RETRANS);
        }
    } else if ((fl & (TCP_SYN | TCP_ACK)) == (TCP_SYN | TCP_ACK)) {
        tcp_conn_history(c, dir, HIST_SYNACK);
        if (c->synack_count < UINT16_MAX)
            c->synack_count++;
        if (!c->synack.frame) {
            c->synack = ref_of(&pkt->meta);
            c->isn[dir] = pkt->seq;
            note_options(df, pkt);
            reasm_start_syn(hs, pkt->seq);
        }
    }
    if (fl & TCP_RST) {
        tcp_conn_history(c, dir, HIST_RST);
        if (!c->rst.frame) {
            c->rst = ref_of(&pkt->meta);
            c->rst_dir = (uint8_t)dir;
        }
    }
    if (fl & TCP_FIN) {
        tcp_conn_history(c, dir, HIST_FIN);
        if (!df->fin.frame)
            df->fin = ref_of(&pkt->meta);
    }
    if ((fl & (TCP_SYN | TCP_FIN | TCP_RST | TCP_ACK)) == TCP_ACK && pkt->payload_wire_len == 0) {
        tcp_conn_history(c, dir, HIST_ACK);
        if (dir == FT_DIR_ORIG && c->synack.frame && !c->ack.frame) {
            c->ack = ref_of(&pkt->meta);
            c->established = true;
        }
    }
    if (pkt->payload_wire_len > 0) {
        tcp_conn_history(c, dir, HIST_DATA);
        if (!df->first_data.frame)
            df->first_data = ref_of(&pkt->meta);
        /* Data from the originator after a SYN-ACK completes the handshake too
         * (the pure ACK may be missing from the capture). */
        if (dir == FT_DIR_ORIG && c->synack.frame && !(fl & TCP_SYN))
            c->established = true;
    }
    if (pkt->window == 0 && !(fl & (TCP_RST | TCP_SYN | TCP_FIN))) {
        df->zero_windows++;
        tcp_conn_history(c, dir, HIST_ZERO_WIN);
    }

    /* Reassembly: the payload, then what this packet acknowledges of the
     * other direction, then the FIN. */
    if (pkt->payload_wire_len > 0)
        reasm_segment(rc, hs, dir, data_seq, pkt->payload, pkt->payload_len,
                      pkt->payload_wire_len, &pkt->meta, sink);
    if (fl & TCP_ACK) {
        /* The window this ACK advertises, scaled when both SYNs agreed on
         * window scaling (RFC 7323 2.2); SYN windows are never scaled. */
        uint64_t win = pkt->window;
        if (!(fl & TCP_SYN) && c->dir[0].wscale >= 0 && c->dir[1].wscale >= 0)
            win <<= df->wscale > 14 ? 14 : df->wscale;
        c->half[!dir].peer_window = (uint32_t)(win > UINT32_MAX ? UINT32_MAX : win);
        reasm_ack(rc, &c->half[!dir], (enum ft_dir)!dir, pkt->ack, &pkt->meta, sink);
    }
    if (fl & TCP_FIN)
        reasm_fin(rc, hs, dir, data_seq + pkt->payload_wire_len, &pkt->meta, sink);
    if (hs->retransmits != retrans_before)
        tcp_conn_history(c, dir, HIST_RETRANS);
    if (fl & TCP_RST) {
        reasm_flush(rc, &c->half[0], FT_DIR_ORIG, &pkt->meta, sink);
        reasm_flush(rc, &c->half[1], FT_DIR_RESP, &pkt->meta, sink);
        c->closed = true;
    }
    if (c->dir[0].fin.frame && c->dir[1].fin.frame)
        c->closed = true;
    for (int d = 0; d < 2; d++)
        if (c->half[d].gap_count != gaps_before[d])
            tcp_conn_history(c, (enum ft_dir)d, HIST_GAP);
}

void tcp_conn_flush(struct tcp_conn *c, struct reasm_ctx *rc, const struct ft_meta *m,
                    const struct reasm_sink *sink)
{
    for (int d = 0; d < 2; d++) {
        uint64_t before = c->half[d].gap_count;
        reasm_flush(rc, &c->half[d], (enum ft_dir)d, m, sink);
        if (c->half[d].gap_count != before)
            tcp_conn_history(c, (enum ft_dir)d, HIST_GAP);
    }
}

void tcp_conn_release(struct tcp_conn *c, struct reasm_ctx *rc)
{
    reasm_release(rc, &c->half[0]);
    reasm_release(rc, &c->half[1]);
}

const char *tcp_conn_state(const struct tcp_conn *c)
{
    bool syn = c->syn.frame != 0, synack = c->synack.frame != 0, rst = c->rst.frame != 0;
    bool fin_o = c->dir[FT_DIR_ORIG].fin.frame != 0, fin_r = c->dir[FT_DIR_RESP].fin.frame != 0;

    if (syn && !synack) {
        if (rst)
            return c->rst_dir == FT_DIR_ORIG ? "RSTOS0" : "REJ";
        if (fin_o)
            return "SH";
        return "S0";
    }
    if (!syn && synack) {
        if (rst && c->rst_dir == FT_DIR_RESP)
            return "RSTRH";
        if (fin_r)
            return "SHR";
        return "OTH";
    }
    if (!syn && !synack)
        return "OTH";
    if (rst)
        return c->rst_dir == FT_DIR_ORIG ? "RSTO" : "RSTR";
    if (fin_o && fin_r)
        return "SF";
    if (fin_o)
        return "S2";
    if (fin_r)
        return "S3";
    return "S1";
}

int64_t tcp_conn_rtt_ns(const struct tcp_conn *c)
{
    if (!c->syn.frame || !c->synack.frame || c->synack.ts_ns < c->syn.ts_ns)
        return -1;
    /* Measure from the last SYN sent before the SYN-ACK: earlier ones were lost. */
    int64_t from = c->syn.ts_ns;
    int n = c->syn_count < TCP_MAX_SYN_TIMES ? c->syn_count : TCP_MAX_SYN_TIMES;
    for (int i = 0; i < n; i++)
        if (c->syn_times_ns[i] <= c->synack.ts_ns)
            from = c->syn_times_ns[i];
    return c->synack.ts_ns - from;
}

void tcp_conn_facts(const struct tcp_conn *c, struct conn_record *r)
{
    r->syn = c->syn;
    r->synack = c->synack;
    r->ack = c->ack;
    r->rst = c->rst;
    r->rst_dir = c->rst_dir;
    r->syn_count = c->syn_count;
    r->synack_count = c->synack_count;
    memcpy(r->syn_times_ns, c->syn_times_ns, sizeof(r->syn_times_ns));
    memcpy(r->syn_frame_off, c->syn_frame_off, sizeof(r->syn_frame_off));
    memcpy(r->syn_src_frame_off, c->syn_src_frame_off, sizeof(r->syn_src_frame_off));
    r->rtt_ns = tcp_conn_rtt_ns(c);
    r->isn[0] = c->isn[0];
    r->isn[1] = c->isn[1];
    r->midstream = c->midstream;
    r->established = c->established;
    r->closed = c->closed;
    memcpy(r->history, c->history, sizeof(r->history));
    snprintf(r->conn_state, sizeof(r->conn_state), "%s", tcp_conn_state(c));
    for (int d = 0; d < 2; d++) {
        const struct tcp_dir_facts *df = &c->dir[d];
        const struct half_stream *hs = &c->half[d];
        struct conn_dir_facts *o = &r->dir[d];
        o->first_data = df->first_data;
        o->fin = df->fin;
        o->packets = df->packets;
        o->payload_bytes = df->payload_bytes;
        o->delivered_bytes = hs->delivered;
        o->gaps = hs->gap_count;
        o->gap_bytes = hs->gap_bytes;
        o->retransmissions = hs->retransmits;
        o->overlaps = hs->overlaps;
        o->overlap_conflicts = hs->conflicts;
        o->out_of_order = hs->out_of_order;
        o->bad_checksums = df->bad_checksums;
        o->zero_windows = df->zero_windows;
        o->mss = df->mss;
        o->wscale = df->wscale;
        o->sack_permitted = df->sack_permitted;
        o->timestamps = df->timestamps;
    }
}
