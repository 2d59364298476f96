/* input.c - what happens to received frames, a burst at a time.
 *
 * fp_input_burst() classifies the frames of a burst one by one, looks the
 * TCP segments' 4-tuples up at once (fp_flowtab_find_burst, flowtab.c),
 * prefetches the flows they name, then processes the segments in arrival
 * order (nothing in that processing changes the flow table: only commands
 * do, between bursts).  fp_input() does the same for one frame (one the
 * slow path hands back).
 *
 * Classify (classify.h, pure and shared with the unit tests and the
 * fuzzer): Ethernet to our MAC or broadcast; ARP -> slow path; IPv4 to our
 * address with a sane header (ihl >= 5, total length within the frame, not a
 * fragment, header checksum good; options skipped); TCP with a good checksum
 * and a data offset within the segment.  Then look the 4-tuple up in the
 * core's flow table: an installed flow gets its segment processed here
 * (rx.c) unless it carries SYN or RST; everything else for us (no flow,
 * SYN/RST, ICMP and other IPv4) goes to the slow path on the exception ring,
 * as received, within the core's exception rate (syn.c, which also answers
 * the SYNs of a flooded listener itself).  Frames not for us and malformed ones are counted by reason
 * (fp_core.rx_reason) and dropped.
 */
#include <rte_mbuf.h>
#include <rte_prefetch.h>
#include <rte_ring.h>

#include "common/proto.h"
#include "fastpath/classify.h"
#include "fastpath/flow.h"
#include "fastpath/internal.h"
#include "fastpath/rx.h"
#include "common/tcp_opts.h"

/* Count a frame that goes no further by its reason, and free it. */
static inline void drop(struct fp_core *c, struct rte_mbuf *m, unsigned reason)
{
    fp_rx_count(c->rx_reason, &c->stats.drops_bad, &c->rx_ignored, reason);
    rte_pktmbuf_free(m);
}

/* The port's checksum verdicts, when it offloads (else: software). */
static inline enum fp_cksum_hint ck_hint(const struct rte_mbuf *m, uint64_t mask,
                                         uint64_t good, uint64_t bad)
{
    if (!fp.rx_cksum)
        return FP_CK_UNKNOWN;
    uint64_t v = m->ol_flags & mask;
    return v == good ? FP_CK_GOOD : v == bad ? FP_CK_BAD : FP_CK_UNKNOWN;
}

/* A segment of an installed flow of this core (no SYN, no RST).  Returns
 * 0, or the reason it was dropped. */
static unsigned input_established(struct fp_core *c, uint32_t fid,
                                  const struct fp_frame *fr, uint64_t now)
{
    struct fp_priv *p = fp_priv(c);
    struct fp_flow *f = &fp.flows[fid];
    struct fp_seg s;

    unsigned bad = fp_classify_seg(fr, &s);
    if (unlikely(bad != 0))
        return bad;
    uint32_t plen = s.len;

    struct fp_rx_result r;
    uint16_t ecn = f->cnt_ecn;
    f->rx_last_ms = (uint32_t)(now / 1000);
    fp_rx_segment(f, &fp.flowx[fid], &s, now, &r);
    /* What the slow path acts on: SND.UNA moved (RTO, congestion control),
     * a loss, an ECN mark. */
    if (r.tx_freed != 0 || r.fin_acked || r.fast_retx || r.goback != 0 ||
        f->cnt_ecn != ecn)
        fp_act_add(c, fid);

    if (r.delivered != 0 || r.fin_rcvd || r.tx_freed != 0 || r.fin_acked) {
        struct fp_side *sd = &p->side[fid];
        sd->pend_rx += r.delivered;
        sd->pend_freed += r.tx_freed;
        if (unlikely(f->flags & FP_FLOW_FIN_QUEUED) && r.delivered != 0) {
            fp.flowx[fid].rx_late += r.delivered;
            fp_act_add(c, fid); /* data after close */
        }
        if (unlikely(r.fin_rcvd))
            sd->pend |= FP_PEND_APP_FIN | FP_PEND_EV_FIN_RCVD;
        if (unlikely(r.fin_acked))
            sd->pend |= FP_PEND_EV_FIN_ACKED;
        fp_notify_add(c, fid);
    }
    /* Out of order: one duplicate ACK per segment at once, so that the peer
     * can count them (RFC 5681 4.2).  Otherwise one ACK per flow per burst;
     * that includes duplicates of old data: acking each of them separately
     * would make a peer without SACK see more duplicate ACKs than segments in
     * flight and take it for reordering. */
    if (unlikely(r.ooo))
        fp_tx_ack(c, f, now);
    else if (r.ack_now && r.delivered == plen && (plen > 0 || r.fin_rcvd) && !r.dropped)
        fp_ack_delay(c, fid, now); /* in-order data or FIN: a reply (our FIN) may carry it */
    else if (r.ack_now)
        fp_ack_add(c, fid);
    if (unlikely(r.fast_retx))
        c->stats.retx_fast++;
    if (unlikely(r.retx_len != 0))
        fp_tx_retx(c, f, r.retx_seq, r.retx_len, now);
    c->retx_bytes += r.goback;
    if (unlikely(r.ooo))
        c->stats.ooo_segs++;
    if (unlikely(r.ce))
        c->ce_marks++;
    if (unlikely(r.dropped) && plen > 0)
        c->stats.drops_nobuf++;
    if (r.tx_ready && fp_flow_sendable(c, fid))
        fp_qm_schedule(c, fid);
    return 0;
}

/* Count and classify one frame.  True for a TCP segment to us, whose
 * 4-tuple is to be looked up (fr filled); anything else went its way here:
 * dropped and counted, or to the slow path. */
static inline bool input_classify(struct fp_core *c, struct rte_mbuf *m, uint64_t now,
                                  bool reinjected, struct fp_frame *fr)
{
    uint32_t len = rte_pktmbuf_data_len(m);

    if (likely(!reinjected)) {
        c->stats.rx_pkts++;
        c->stats.rx_bytes += rte_pktmbuf_pkt_len(m);
    }
    /* Everything below reads the frame contiguously. */
    if (unlikely(m->nb_segs != 1)) {
        drop(c, m, FP_RX_NONLINEAR);
        return false;
    }
    enum fp_verdict v =
        fp_classify(rte_pktmbuf_mtod(m, const uint8_t *), len, fp.local_mac, fp.local_ip,
                    ck_hint(m, RTE_MBUF_F_RX_IP_CKSUM_MASK, RTE_MBUF_F_RX_IP_CKSUM_GOOD,
                            RTE_MBUF_F_RX_IP_CKSUM_BAD),
                    ck_hint(m, RTE_MBUF_F_RX_L4_CKSUM_MASK, RTE_MBUF_F_RX_L4_CKSUM_GOOD,
                            RTE_MBUF_F_RX_L4_CKSUM_BAD),
                    fr);
    if (unlikely(v != FP_V_TCP)) {
        if (v == FP_V_ARP || v == FP_V_IP) {
            if (unlikely(fr->reason != FP_RX_OK))
                c->rx_reason[fr->reason]++; /* a note (IP options) */
            if (!fp_exc_admit(c, FP_EXC_OTHER, now))
                rte_pktmbuf_free(m);
            else
                fp_exception(c, m);
            return false;
        }
        drop(c, m, fr->reason);
        return false;
    }
    if (unlikely(fr->reason != FP_RX_OK))
        c->rx_reason[fr->reason]++; /* a note (IP options) */
    return true;
}

static inline void flow_key_of(const struct fp_frame *fr, struct fp_flow_key *k)
{
    *k = (struct fp_flow_key){.lip = fr->ip->dst,
                              .rip = fr->ip->src,
                              .lport = fr->th->dport,
                              .rport = fr->th->sport};
}

/* A TCP segment to us, and the flow its 4-tuple names (FP_NONE: none). */
static void input_tcp(struct fp_core *c, struct rte_mbuf *m, const struct fp_frame *fr,
                      uint32_t fid, uint64_t now)
{
    const struct tas_tcp_hdr *th = fr->th;
    if (fid == FP_NONE)
        return fp_syn_noflow(c, m, fr, now); /* no flow: the slow path's, mostly */
    if (unlikely(!fp_flow_mine(c, fid) || (th->flags & (TAS_TCP_SYN | TAS_TCP_RST)) != 0)) {
        if (!fp_exc_admit(c, FP_EXC_TCP, now)) {
            rte_pktmbuf_free(m);
            return;
        }
        return fp_exception(c, m);
    }
    if (unlikely(!(th->flags & TAS_TCP_ACK)))
        return drop(c, m, FP_RX_TCP_NOACK);

    unsigned bad = input_established(c, fid, fr, now);
    if (unlikely(bad != 0))
        return drop(c, m, bad);
    rte_pktmbuf_free(m);
}

void fp_input(struct fp_core *c, struct rte_mbuf *m, uint64_t now, bool reinjected)
{
    struct fp_frame fr;
    if (!input_classify(c, m, now, reinjected, &fr))
        return;
    struct fp_flow_key k;
    flow_key_of(&fr, &k);
    input_tcp(c, m, &fr, fp_flowtab_find(c->flow_table, &k), now);
}

void fp_input_burst(struct fp_core *c, struct rte_mbuf **pkts, unsigned n, uint64_t now)
{
    struct fp_frame fr[FP_RX_BURST];
    struct fp_flow_key keys[FP_RX_BURST];
    struct rte_mbuf *segs[FP_RX_BURST];
    uint32_t fids[FP_RX_BURST];
    unsigned k = 0;

    if (n > FP_RX_BURST)
        n = FP_RX_BURST;
    for (unsigned i = 0; i < n; i++) {
        if (i + 1 < n)
            rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 1], void *));
        if (!input_classify(c, pkts[i], now, false, &fr[k]))
            continue;
        flow_key_of(&fr[k], &keys[k]);
        segs[k++] = pkts[i];
    }
    if (k == 0)
        return;
    if (fp_flowtab_find_burst(c->flow_table, keys, k, fids) != 0) {
        for (unsigned j = 0; j < k; j++) {
            if (fids[j] != FP_NONE) { /* both cache lines of the flow's state */
                const struct fp_flow *f = &fp.flows[fids[j]];
                rte_prefetch0(f);
                rte_prefetch0((const uint8_t *)f + 64);
            }
        }
    }
    for (unsigned j = 0; j < k; j++)
        input_tcp(c, segs[j], &fr[j], fids[j], now);
}
