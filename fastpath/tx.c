/* tx.c - building and sending frames: data segments from a flow's tx ring,
 * pure ACKs and window updates, checksums (offload, or common/cksum.h), and
 * the per-core transmit buffer that goes to rte_eth_tx_burst once per loop
 * iteration (or whenever it fills).
 *
 * With TCP segmentation offload (fp.tso_frame_max, tasd --tso), several
 * full segments that may go one after the other (fp_flow_tso_len, flow.h)
 * leave as one frame, its payload chained one segment per mbuf, which the
 * port cuts (RTE_MBUF_F_TX_TCP_SEG, tso_segsz); they count as that many
 * segments against the flow's burst.  Retransmissions and ACKs stay single.
 *
 * A data segment starts at SND.NXT = tx_una_seq + tx_sent, ring position
 * tx_pos + tx_sent, and is as long as fp_flow_next_seg() (flow.h) allows:
 * the MSS (less the timestamp option), the bytes the application wrote (less
 * what it corked: cork.c), and what the peer's window and cwnd leave.
 * Every frame carries ACK = rx_next_seq and the window
 * rx_avail >> local_wscale, so a data segment pays off an owed ACK.  ACKs
 * for plain in-order data wait in a FIFO of deadlines (fp_ack_delay) for a
 * reply to carry them.
 */
#include <string.h>

#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>

#include "common/cksum.h"
#include "common/proto.h"
#include "common/port.h"
#include "fastpath/flow.h"
#include "fastpath/internal.h"
#include "fastpath/rx.h"
#include "common/tcp_opts.h"

#define HDRS                                                                             \
    (sizeof(struct rte_ether_hdr) + sizeof(struct rte_ipv4_hdr) +                        \
     sizeof(struct rte_tcp_hdr))
#define FP_IP_TTL  64
#define FP_IP_ECT0 0x02

/* Checksums of a frame whose IPv4 header is at l2 offset 14 with ihl bytes.
 * A frame the port is to cut into segments (RTE_MBUF_F_TX_TCP_SEG set
 * already) has them offloaded: fp.tso_frame_max implies fp.tx_cksum. */
static inline void tx_cksum(struct rte_mbuf *m, struct rte_ipv4_hdr *ip, void *l4,
                            uint8_t ihl, bool tcp)
{
    m->l2_len = sizeof(struct rte_ether_hdr);
    m->l3_len = ihl;
    ip->hdr_checksum = 0;
    if (fp.tx_cksum) {
        m->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM;
        if (tcp) {
            m->ol_flags |= RTE_MBUF_F_TX_TCP_CKSUM;
            m->l4_len = (((struct rte_tcp_hdr *)l4)->data_off >> 4) * 4;
            ((struct rte_tcp_hdr *)l4)->cksum = rte_ipv4_phdr_cksum(ip, m->ol_flags);
        }
        return;
    }
    ip->hdr_checksum = cm_cksum(ip, ihl, 0);
    if (tcp) {
        uint32_t l4len = rte_be_to_cpu_16(ip->total_length) - ihl;
        struct rte_tcp_hdr *th = l4;
        th->cksum = 0;
        th->cksum =
            cm_cksum(th, l4len, cm_cksum_pseudo4(&ip->src_addr, IPPROTO_TCP, l4len));
    }
}

void fp_tx_prepare_cksum(struct rte_mbuf *m)
{
    if (rte_pktmbuf_data_len(m) <
        sizeof(struct rte_ether_hdr) + sizeof(struct rte_ipv4_hdr))
        return;
    struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
    if (eth->ether_type != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4))
        return; /* ARP: nothing to do */
    struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
    uint8_t ihl = (uint8_t)rte_ipv4_hdr_len(ip);
    bool tcp = ip->next_proto_id == IPPROTO_TCP;
    if (sizeof(*eth) + ihl + (tcp ? sizeof(struct rte_tcp_hdr) : 0) >
            rte_pktmbuf_data_len(m) ||
        rte_be_to_cpu_16(ip->total_length) < ihl ||
        sizeof(*eth) + rte_be_to_cpu_16(ip->total_length) > rte_pktmbuf_pkt_len(m))
        return;
    /* The software TCP checksum reads the segment contiguously. */
    if (tcp && m->nb_segs > 1 && !fp.tx_cksum)
        return;
    tx_cksum(m, ip, (uint8_t *)ip + ihl, ihl, tcp);
}

uint32_t fp_tx_max_payload(const struct fp_core *c)
{
    uint32_t room = rte_pktmbuf_data_room_size(c->port->pool) - RTE_PKTMBUF_HEADROOM;
    return room > HDRS + FP_TCPOPT_TS_LEN ? room - (uint32_t)(HDRS + FP_TCPOPT_TS_LEN)
                                          : 0;
}

/* The payload of a TSO frame beyond its first segment (already in m, the
 * head): chained mbufs of one segment each, so that the port's segments
 * each take one piece (the TAP PMD cuts with a pool of 128 mbufs).  False
 * if the pool ran dry (m is then freed). */
static bool tx_chain(struct fp_core *c, const struct fp_flow *f, struct rte_mbuf *m,
                     uint32_t pos, uint32_t off, uint32_t len, uint32_t seg)
{
    struct rte_mbuf *last = m;
    while (off < len) {
        uint32_t n = len - off < seg ? len - off : seg;
        struct rte_mbuf *x = rte_pktmbuf_alloc(c->port->pool);
        uint8_t *d = x != NULL ? (uint8_t *)rte_pktmbuf_append(x, (uint16_t)n) : NULL;
        if (unlikely(d == NULL)) {
            rte_pktmbuf_free(x);
            rte_pktmbuf_free(m);
            c->stats.drops_nobuf++;
            return false;
        }
        fp_ring_read(f->tx_base, f->tx_size, fp_ring_add(pos, off, f->tx_size), d, n);
        last->next = x;
        last = x;
        m->nb_segs++;
        m->pkt_len += n;
        off += n;
    }
    return true;
}

/* Build one frame of flow f: seq, TCP flags (ACK is always added) and len
 * payload bytes from the tx ring at pos; seg > 0 (TSO): the port cuts it
 * into segments of seg bytes.  NULL if no mbuf. */
static struct rte_mbuf *tx_build(struct fp_core *c, struct fp_flow *f, uint32_t seq,
                                 uint8_t tflags, uint32_t pos, uint32_t len, uint32_t seg,
                                 uint64_t now)
{
    struct fp_priv *p = fp_priv(c);
    struct rte_mbuf *m = rte_pktmbuf_alloc(c->port->pool);
    if (unlikely(m == NULL)) {
        c->stats.drops_nobuf++;
        return NULL;
    }
    bool ts = (f->flags & FP_FLOW_TS) != 0;
    uint32_t optlen = ts ? FP_TCPOPT_TS_LEN : 0;
    /* SACK blocks (RFC 2018) go on pure ACKs only, so that data segments
     * keep their size: the interval that grew last first, then the others
     * from the lowest, as many as fit beside the timestamp. */
    const struct fp_flow_x *x = &fp.flowx[fp_flow_id(f)];
    uint32_t bst[FP_OOO_MAX], ben[FP_OOO_MAX];
    unsigned nb = 0;
    if (unlikely(x->n_ooo > 0) && len == 0 && (f->flags & FP_FLOW_SACK)) {
        unsigned room = ts ? 3 : 4;
        for (unsigned i = 0; i < x->n_ooo; i++)
            if (x->ooo_start[i] == x->ooo_last) {
                bst[nb] = x->ooo_start[i];
                ben[nb++] = x->ooo_end[i];
            }
        for (unsigned i = 0; i < x->n_ooo && nb < room; i++)
            if (x->ooo_start[i] != x->ooo_last) {
                bst[nb] = x->ooo_start[i];
                ben[nb++] = x->ooo_end[i];
            }
        optlen += 4 + 8 * nb;
    }
    uint32_t head = seg > 0 ? seg : len; /* payload in the first mbuf */
    uint32_t flen = (uint32_t)HDRS + optlen + len;
    uint8_t *b = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(flen - len + head));
    if (unlikely(b == NULL)) {
        rte_pktmbuf_free(m);
        c->stats.drops_nobuf++;
        return NULL;
    }

    struct rte_ether_hdr *eth = (struct rte_ether_hdr *)b;
    memcpy(&eth->dst_addr, f->remote_mac, RTE_ETHER_ADDR_LEN);
    memcpy(&eth->src_addr, fp.local_mac, RTE_ETHER_ADDR_LEN);
    eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);

    struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
    ip->version_ihl = RTE_IPV4_VHL_DEF;
    ip->type_of_service = (len > 0 && (f->flags & FP_FLOW_ECN)) ? FP_IP_ECT0 : 0;
    ip->total_length = rte_cpu_to_be_16((uint16_t)(flen - sizeof(*eth)));
    ip->packet_id = rte_cpu_to_be_16(p->ip_id++);
    ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
    ip->time_to_live = FP_IP_TTL;
    ip->next_proto_id = IPPROTO_TCP;
    ip->src_addr = f->local_ip;
    ip->dst_addr = f->remote_ip;

    struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)(ip + 1);
    th->src_port = f->local_port;
    th->dst_port = f->remote_port;
    th->sent_seq = rte_cpu_to_be_32(seq);
    th->recv_ack = rte_cpu_to_be_32(f->rx_next_seq);
    th->data_off = (uint8_t)(((sizeof(*th) + optlen) / 4) << 4);
    if (unlikely(f->flags & (FP_FLOW_ECE | FP_FLOW_CWR))) {
        if (f->flags & FP_FLOW_ECE)
            tflags |= TAS_TCP_ECE;
        if (len > 0 && (f->flags & FP_FLOW_CWR)) {
            tflags |= TAS_TCP_CWR; /* RFC 3168 6.1.2 */
            f->flags &= (uint16_t)~FP_FLOW_CWR;
        }
    }
    th->tcp_flags = tflags | TAS_TCP_ACK;
    th->rx_win = rte_cpu_to_be_16(fp_flow_adv_win(f));
    th->tcp_urp = 0;
    uint8_t *q = (uint8_t *)(th + 1);
    if (ts)
        q += cm_tcp_opts_write_ts(q, fp_ts_from_us(now), f->ts_recent);
    if (nb > 0)
        q += cm_tcp_opts_write_sack(q, bst, ben, nb);
    if (len > 0)
        fp_ring_read(f->tx_base, f->tx_size, pos, q, head);
    if (seg > 0) {
        if (!tx_chain(c, f, m, pos, head, len, seg))
            return NULL;
        m->ol_flags |= RTE_MBUF_F_TX_TCP_SEG;
        m->tso_segsz = (uint16_t)seg;
    }

    tx_cksum(m, ip, th, sizeof(*ip), true);
    f->flags &= (uint16_t) ~(FP_FLOW_ACK_NOW | FP_FLOW_DELACK); /* carries the ACK */
    return m;
}

/* Our FIN goes on the segment of len bytes: the last the application wrote
 * before it closed. */
static inline bool fin_rides(const struct fp_flow *f, uint32_t len)
{
    return len == f->tx_avail && (f->flags & (FP_FLOW_FIN_QUEUED | FP_FLOW_FIN_SENT |
                                              FP_FLOW_FIN_ACKED)) == FP_FLOW_FIN_QUEUED;
}

/* TSO: at most this many segments in one frame (the TAP PMD takes 64). */
#define FP_TSO_SEGS 32

unsigned fp_tx_flow(struct fp_core *c, uint32_t fid, unsigned max_segs, uint64_t now,
                    uint32_t *bytes)
{
    struct fp_flow *f = &fp.flows[fid];
    uint32_t seg_max = fp_flow_seg_max(f);
    uint32_t cap = fp_priv(c)->max_payload;
    uint32_t hdrs = (uint32_t)HDRS + ((f->flags & FP_FLOW_TS) ? FP_TCPOPT_TS_LEN : 0);
    unsigned n = 0;

    if (seg_max > cap)
        seg_max = cap;
    if (fp.tso_frame_max != 0 && seg_max + hdrs > fp.tso_frame_max)
        seg_max = fp.tso_frame_max > hdrs + 64 ? fp.tso_frame_max - hdrs : 64;
    *bytes = 0;
    /* Nothing outstanding before: the slow path arms the RTO when told. */
    bool was_idle =
        f->tx_sent == 0 &&
        (f->flags & (FP_FLOW_FIN_SENT | FP_FLOW_FIN_ACKED)) != FP_FLOW_FIN_SENT;
    uint32_t held = fp_flow_held(c, fid);
    while (n < max_segs) {
        uint32_t len = fp_flow_next_seg(f, seg_max, held);
        bool fin;
        if (len == 0) {
            if (!fp_flow_fin_due(f))
                break;
            fin = true;
        } else {
            fin = fin_rides(f, len);
        }
        /* Several full segments may go: one frame for the port to cut. */
        unsigned k = 1;
        if (fp.tso_frame_max != 0 && len == seg_max && n + 1 < max_segs) {
            unsigned most = max_segs - n;
            if (most > FP_TSO_SEGS)
                most = FP_TSO_SEGS;
            if (most > fp.tso_segs_max) /* an mbuf per segment */
                most = fp.tso_segs_max;
            if (most > 65000 / seg_max) /* an IPv4 packet's length */
                most = 65000 / seg_max;
            len = fp_flow_tso_len(f, seg_max, held, len, most, &k);
            fin = fin_rides(f, len);
        }
        uint8_t tflags = fin ? TAS_TCP_FIN : 0;
        if (len > 0 && (len == f->tx_avail || n + k == max_segs))
            tflags |= TAS_TCP_PSH; /* the last segment of this burst */
        struct rte_mbuf *m = tx_build(c, f, f->tx_una_seq + f->tx_sent, tflags,
                                      fp_ring_add(f->tx_pos, f->tx_sent, f->tx_size), len,
                                      k > 1 ? seg_max : 0, now);
        if (unlikely(m == NULL))
            break;
        if (k > 1) {
            c->tso_frames++;
            c->tso_segs += k;
        }
        f->tx_sent += len;
        f->tx_avail -= len;
        if (unlikely(held > f->tx_avail)) /* a full segment took held bytes */
            held = fp_priv(c)->side[fid].cork_held = f->tx_avail;
        if (fin)
            f->flags |= FP_FLOW_FIN_SENT | FP_FLOW_FIN_TXED;
        *bytes +=
            rte_pktmbuf_pkt_len(m) + (k - 1) * hdrs; /* as the k frames on the wire */
        fp_tx_enqueue(c, m);
        n += k;
        if (fin)
            break;
    }
    if (was_idle && n > 0)
        fp_act_add(c, fid);
    return n;
}

/* SACK recovery: send [seq, seq + len) of the tx ring again, at once. */
void fp_tx_retx(struct fp_core *c, struct fp_flow *f, uint32_t seq, uint32_t len,
                uint64_t now)
{
    uint32_t off = seq - f->tx_una_seq;
    if (off >= f->tx_sent || len > f->tx_sent - off)
        return;
    if (len > fp_priv(c)->max_payload)
        len = fp_priv(c)->max_payload;
    struct rte_mbuf *m = tx_build(c, f, seq, TAS_TCP_PSH,
                                  fp_ring_add(f->tx_pos, off, f->tx_size), len, 0, now);
    if (likely(m != NULL)) {
        fp_tx_enqueue(c, m);
        c->retx_bytes += len;
        c->retx_sack++;
    }
}

/* A pure ACK (or window update) at SND.NXT. */
void fp_tx_ack(struct fp_core *c, struct fp_flow *f, uint64_t now)
{
    uint32_t snd_nxt =
        f->tx_una_seq + f->tx_sent +
        ((f->flags & (FP_FLOW_FIN_SENT | FP_FLOW_FIN_ACKED)) == FP_FLOW_FIN_SENT);
    struct rte_mbuf *m = tx_build(c, f, snd_nxt, 0, 0, 0, 0, now);
    if (likely(m != NULL)) {
        fp_tx_enqueue(c, m);
        c->acks_sent++;
    }
}

/* In-order data (or the peer's FIN) arrived: its ACK may wait up to
 * FP_DELACK_US for a reply segment (or our FIN) to carry it (RFC 1122
 * 4.2.3.2, RFC 9293 3.8.6.3), so that an RPC costs the peer one frame
 * instead of two.  A second unacknowledged segment
 * is acknowledged at once, so bulk senders see an ACK every other segment.
 * Each delay is one FIFO entry stamped with the flow's dack_seq; an entry
 * whose ACK a data segment carried, or that a later delay replaced, is
 * stale and dropped when it reaches the head.  A full FIFO acks at once. */
void fp_ack_delay(struct fp_core *c, uint32_t fid, uint64_t now)
{
    struct fp_priv *p = fp_priv(c);
    struct fp_flow *f = &fp.flows[fid];
    struct fp_side *sd = &p->side[fid];

    /* (fp_rx_segment set FP_FLOW_ACK_NOW; an ACK owed before this segment
     * has the flow on the ACK list.) */
    if ((f->flags & FP_FLOW_DELACK) || (sd->in & FP_IN_ACK) ||
        unlikely(p->dack_n == p->dack_size)) {
        fp_ack_add(c, fid);
        return;
    }
    f->flags = (uint16_t)((f->flags & ~FP_FLOW_ACK_NOW) | FP_FLOW_DELACK);
    sd->dack_seq++;
    uint32_t i = p->dack_head + p->dack_n++;
    if (i >= p->dack_size)
        i -= p->dack_size;
    p->dack[i] = fid;
    p->dack_due[i] = now + FP_DELACK_US;
    p->dack_seq[i] = sd->dack_seq;
}

/* Pure ACKs owed now, then delayed ACKs whose time has come (the FIFO is in
 * deadline order; entries whose ACK a data segment carried are dropped). */
void fp_acks_flush(struct fp_core *c, uint64_t now)
{
    struct fp_priv *p = fp_priv(c);
    for (uint32_t i = 0; i < p->n_acks; i++) {
        uint32_t fid = p->acks[i];
        p->side[fid].in &= (uint8_t)~FP_IN_ACK;
        if (fp_flow_mine(c, fid) && (fp.flows[fid].flags & FP_FLOW_ACK_NOW))
            fp_tx_ack(c, &fp.flows[fid], now);
    }
    p->n_acks = 0;
    while (p->dack_n > 0) {
        uint32_t h = p->dack_head;
        uint32_t fid = p->dack[h];
        struct fp_flow *f = &fp.flows[fid];
        bool owed = fp_flow_mine(c, fid) && (f->flags & FP_FLOW_DELACK) &&
                    p->side[fid].dack_seq == p->dack_seq[h];
        if (owed && p->dack_due[h] > now)
            break;
        p->dack_head = h + 1 == p->dack_size ? 0 : h + 1;
        p->dack_n--;
        if (owed)
            fp_tx_ack(c, f, now);
    }
}

/* Microseconds until the first delayed ACK is due; UINT32_MAX if none. */
uint32_t fp_acks_due_us(const struct fp_core *c, uint64_t now)
{
    const struct fp_priv *p = fp_priv(c);
    if (p->dack_n == 0)
        return UINT32_MAX;
    uint64_t due = p->dack_due[p->dack_head];
    return due > now ? (uint32_t)(due - now) : 0;
}

void fp_tx_enqueue(struct fp_core *c, struct rte_mbuf *m)
{
    struct fp_priv *p = fp_priv(c);
    if (unlikely(p->n_txb == FP_TX_BUF))
        fp_tx_flush(c);
    p->txb[p->n_txb++] = m;
}

void fp_tx_flush(struct fp_core *c)
{
    struct fp_priv *p = fp_priv(c);
    uint32_t n = p->n_txb, sent = 0;
    unsigned fails = 0;
    uint64_t bytes = 0;

    if (n == 0)
        return;
    /* TSO: the PMD's own checks and fix-ups of offloaded frames
     * (rte_eth_tx_prepare); a frame it refuses is dropped and counted. */
    if (fp.tso_frame_max != 0) {
        uint32_t ok = 0;
        while (ok < n) {
            ok += rte_eth_tx_prepare(c->port->port_id, (uint16_t)c->id, p->txb + ok,
                                     (uint16_t)(n - ok));
            if (ok < n) {
                rte_pktmbuf_free(p->txb[ok]);
                memmove(p->txb + ok, p->txb + ok + 1, (n - ok - 1) * sizeof(p->txb[0]));
                n--;
                c->tx_drops++;
            }
        }
    }
    for (uint32_t i = 0; i < n; i++)
        bytes += rte_pktmbuf_pkt_len(p->txb[i]);
    while (sent < n) {
        uint16_t k = rte_eth_tx_burst(c->port->port_id, (uint16_t)c->id, p->txb + sent,
                                      (uint16_t)(n - sent));
        sent += k;
        if (k == 0 && ++fails >= FP_TX_RETRIES)
            break;
    }
    if (unlikely(sent < n)) {
        for (uint32_t i = sent; i < n; i++)
            bytes -= rte_pktmbuf_pkt_len(p->txb[i]);
        rte_pktmbuf_free_bulk(p->txb + sent, n - sent);
        c->tx_drops += n - sent;
    }
    c->stats.tx_pkts += sent;
    c->stats.tx_bytes += bytes;
    p->n_txb = 0;
}
