/* input.c - what happens to one received frame.
 *
 * Classify: Ethernet to our MAC or broadcast; ARP -> slow path; IPv4 to our
 * address with a sane header (ihl >= 5, total length within the frame, not a
 * fragment, header checksum good); TCP with a good checksum and a data
 * offset within the segment.  Then look the 4-tuple up in the core's flow
 * table: an installed flow gets its segment processed here (rx.c) unless it
 * carries SYN or RST; everything else for us (no flow, SYN/RST, ICMP and
 * other IPv4) goes to the slow path on the exception ring, as received.
 * Frames not for us are counted and dropped; malformed ones too.
 */
#include <string.h>

#include <rte_ether.h>
#include <rte_hash.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_tcp.h>

#include "tas/proto.h"
#include "fastpath/flow.h"
#include "fastpath/internal.h"
#include "fastpath/rx.h"
#include "fastpath/tcp_opts.h"

#define IP_ECN_CE 0x03

void fp_exception(struct fp_core *c, struct rte_mbuf *m)
{
    if (unlikely(rte_ring_enqueue(c->exc_ring, m) != 0)) {
        c->stats.drops_ring++;
        rte_pktmbuf_free(m);
        return;
    }
    c->stats.exceptions++;
    fp_priv(c)->sp_kick = true;
}

static inline void drop_bad(struct fp_core *c, struct rte_mbuf *m)
{
    c->stats.drops_bad++;
    rte_pktmbuf_free(m);
}

static inline void drop_ignored(struct fp_core *c, struct rte_mbuf *m)
{
    c->rx_ignored++;
    rte_pktmbuf_free(m);
}

static inline bool eth_for_us(const struct rte_ether_hdr *eth)
{
    return rte_is_broadcast_ether_addr(&eth->dst_addr) ||
           memcmp(&eth->dst_addr, fp.local_mac, RTE_ETHER_ADDR_LEN) == 0;
}

/* IPv4 header checksum: the port's verdict if it has one, else ours. */
static inline bool ip_cksum_ok(const struct rte_mbuf *m, const struct rte_ipv4_hdr *ip)
{
    if (fp.rx_cksum) {
        uint64_t v = m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK;
        if (v == RTE_MBUF_F_RX_IP_CKSUM_GOOD)
            return true;
        if (v == RTE_MBUF_F_RX_IP_CKSUM_BAD)
            return false;
    }
    return rte_ipv4_cksum(ip) == 0;
}

static inline bool tcp_cksum_ok(const struct rte_mbuf *m, const struct rte_ipv4_hdr *ip,
                                const void *th)
{
    if (fp.rx_cksum) {
        uint64_t v = m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK;
        if (v == RTE_MBUF_F_RX_L4_CKSUM_GOOD)
            return true;
        if (v == RTE_MBUF_F_RX_L4_CKSUM_BAD)
            return false;
    }
    return rte_ipv4_udptcp_cksum(ip, th) == 0;
}

/* A segment of an installed flow of this core (no SYN, no RST). */
static void input_established(struct fp_core *c, uint32_t fid,
                              const struct rte_ipv4_hdr *ip, const struct rte_tcp_hdr *th,
                              uint32_t doff, uint32_t plen, uint64_t now)
{
    struct fp_priv *p = fp_priv(c);
    struct fp_flow *f = &fp.flows[fid];
    struct fp_seg s;
    uint32_t optlen = doff - sizeof(*th);
    const uint8_t *opt = (const uint8_t *)(th + 1);

    s.has_ts = false;
    s.n_sack = 0;
    if (optlen > 0 && !fp_tcp_opts_ts_fast(opt, optlen, &s.ts_val, &s.ts_ecr)) {
        struct fp_tcp_opts o;
        if (unlikely(fp_tcp_opts_parse(opt, optlen, &o) != 0)) {
            c->stats.drops_bad++;
            return;
        }
        s.has_ts = o.has_ts;
        s.ts_val = o.ts_val;
        s.ts_ecr = o.ts_ecr;
        s.n_sack = o.n_sack;
        memcpy(s.sack_start, o.sack_start, sizeof(s.sack_start));
        memcpy(s.sack_end, o.sack_end, sizeof(s.sack_end));
    } else if (optlen > 0) {
        s.has_ts = true;
    }
    s.seq = rte_be_to_cpu_32(th->sent_seq);
    s.ack = rte_be_to_cpu_32(th->recv_ack);
    s.win = rte_be_to_cpu_16(th->rx_win);
    s.flags = th->tcp_flags;
    s.ce = (ip->type_of_service & IP_ECN_CE) == IP_ECN_CE;
    s.data = (const uint8_t *)th + doff;
    s.len = plen;

    struct fp_rx_result r;
    f->cnt_rx++;
    fp_rx_segment(f, &fp.flowx[fid], &s, now, &r);

    if (r.delivered != 0 || r.fin_rcvd || r.tx_freed != 0 || r.fin_acked) {
        struct fp_side *sd = &p->side[fid];
        sd->pend_rx += r.delivered;
        sd->pend_freed += r.tx_freed;
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
    else if (r.ack_now && r.delivered == plen && plen > 0 && !r.fin_rcvd && !r.dropped)
        fp_ack_delay(c, fid, now); /* plain in-order data: a reply may carry it */
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
    if (r.tx_ready && fp_flow_can_send(f))
        fp_qm_schedule(c, fid);
}

void fp_input(struct fp_core *c, struct rte_mbuf *m, uint64_t now, bool reinjected)
{
    uint32_t len = rte_pktmbuf_data_len(m);

    if (likely(!reinjected)) {
        c->stats.rx_pkts++;
        c->stats.rx_bytes += rte_pktmbuf_pkt_len(m);
    }
    /* Everything below reads the frame contiguously. */
    if (unlikely(m->nb_segs != 1 || len < sizeof(struct rte_ether_hdr)))
        return drop_bad(c, m);

    const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
    if (unlikely(!eth_for_us(eth)))
        return drop_ignored(c, m);
    if (unlikely(eth->ether_type != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4))) {
        if (eth->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP))
            return fp_exception(c, m);
        return drop_ignored(c, m);
    }

    /* IPv4 */
    const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(eth + 1);
    uint32_t l3len = len - (uint32_t)sizeof(*eth);
    if (unlikely(l3len < sizeof(*ip)))
        return drop_bad(c, m);
    uint32_t ihl = (uint32_t)(ip->version_ihl & 0x0f) * 4;
    uint32_t tot = rte_be_to_cpu_16(ip->total_length);
    if (unlikely((ip->version_ihl >> 4) != 4 || ihl < sizeof(*ip) || tot < ihl ||
                 tot > l3len))
        return drop_bad(c, m);
    if (unlikely(ip->dst_addr != fp.local_ip))
        return drop_ignored(c, m);
    if (unlikely(ip->fragment_offset & rte_cpu_to_be_16(TAS_IP_MF | TAS_IP_OFFMASK)))
        return drop_bad(c, m);
    if (unlikely(!ip_cksum_ok(m, ip)))
        return drop_bad(c, m);
    if (unlikely(ip->next_proto_id != IPPROTO_TCP)) {
        if (ip->next_proto_id == IPPROTO_ICMP &&
            rte_raw_cksum((const uint8_t *)ip + ihl, tot - ihl) != 0xffff)
            return drop_bad(c, m);
        return fp_exception(c, m);
    }

    /* TCP */
    const struct rte_tcp_hdr *th =
        (const struct rte_tcp_hdr *)((const uint8_t *)ip + ihl);
    uint32_t l4len = tot - ihl;
    if (unlikely(l4len < sizeof(*th)))
        return drop_bad(c, m);
    uint32_t doff = (uint32_t)(th->data_off >> 4) * 4;
    if (unlikely(doff < sizeof(*th) || doff > l4len))
        return drop_bad(c, m);
    if (unlikely(!tcp_cksum_ok(m, ip, th)))
        return drop_bad(c, m);

    struct fp_flow_key k = {.lip = ip->dst_addr,
                            .rip = ip->src_addr,
                            .lport = th->dst_port,
                            .rport = th->src_port};
    void *data;
    if (rte_hash_lookup_data(c->flow_table, &k, &data) < 0)
        return fp_exception(c, m); /* no flow: the slow path's */
    uint32_t fid = (uint32_t)(uintptr_t)data;
    if (unlikely(!fp_flow_mine(c, fid) ||
                 (th->tcp_flags & (TAS_TCP_SYN | TAS_TCP_RST)) != 0))
        return fp_exception(c, m);
    if (unlikely(!(th->tcp_flags & TAS_TCP_ACK)))
        return drop_bad(c, m);

    input_established(c, fid, ip, th, doff, l4len - doff, now);
    rte_pktmbuf_free(m);
}
