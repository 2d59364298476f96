/* tcp_out.c - the TCP segments the slow path sends itself: SYN, SYN-ACK,
 * the ACK that completes an active open, ACKs from TIME_WAIT and challenge
 * ACKs, and resets (of a connection, and RFC 9293's for a segment nobody
 * owns, rate-limited).  Each is built into an mbuf from the port's pool
 * (frame.c lays out the headers) and goes out on the connection's core
 * (core 0 for segments nobody owns) with fp_tx_prepare_cksum.
 *
 * Timestamps: TSval is the fast path's clock (fp_ts_now), so that a peer
 * sees one monotonic timestamp clock across the handover (PAWS).
 */
#include <errno.h>
#include <string.h>

#include <rte_mbuf.h>

#include "fastpath/clock.h"
#include "common/tcp_opts.h"
#include "common/port.h"
#include "slowpath/sp.h"

uint32_t sp_ts_now(void)
{
    return fp_ts_now();
}

uint16_t sp_syn_window(const struct sp_conn *c)
{
    uint32_t w = sp_conn_rx_initial(c);
    return (uint16_t)(w > 0xffff ? 0xffff : w);
}

int sp_tcp_send(unsigned core, const struct sp_seg *s)
{
    struct rte_mbuf *m = rte_pktmbuf_alloc(sp.port->pool);
    if (m == NULL) {
        sp.cnt.mbuf_fail++;
        return -ENOBUFS;
    }
    size_t len = TAS_FRAME_HDRS + s->opt_len;
    uint8_t *buf = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)len);
    if (buf == NULL || sp_frame_build_tcp(buf, len, s) != len) {
        rte_pktmbuf_free(m);
        sp.cnt.mbuf_fail++;
        return -ENOBUFS;
    }
    m->l2_len = sizeof(struct tas_eth_hdr);
    m->l3_len = sizeof(struct tas_ip_hdr);
    m->l4_len = (uint64_t)(sizeof(struct tas_tcp_hdr) + s->opt_len);
    if (s->flags & TAS_TCP_RST)
        sp.cnt.rst_sent++;
    sp_tx(core, m, true);
    return 0;
}

void sp_seg_init(struct sp_seg *s, const uint8_t peer_mac[6], uint32_t lip, uint32_t rip,
                 uint16_t lport, uint16_t rport)
{
    memset(s, 0, sizeof(*s));
    memcpy(s->src_mac, sp.mac, 6);
    memcpy(s->dst_mac, peer_mac, 6);
    s->lip = lip;
    s->rip = rip;
    s->lport = lport;
    s->rport = rport;
}

static void seg_init(struct sp_seg *s, const struct sp_conn *c)
{
    sp_seg_init(s, c->peer_mac, c->lip, c->rip, c->lport, c->rport);
}

int sp_send_syn(struct sp_conn *c)
{
    struct cm_tcp_opts o = {0};
    uint8_t opts[TAS_TCP_MAX_OPTLEN];
    struct sp_seg s;

    o.has_mss = true;
    o.mss = sp.mss;
    o.has_ws = c->ws;
    o.wscale = c->local_ws;
    o.sack_perm = c->sack;
    o.has_ts = c->ts;
    o.ts_val = sp_ts_now();
    o.ts_ecr = c->passive ? c->ts_recent : 0;

    seg_init(&s, c);
    s.seq = c->iss;
    s.flags = TAS_TCP_SYN;
    if (c->passive) {
        s.flags |= TAS_TCP_ACK;
        s.ack = c->irs + 1;
    }
    if (c->ecn) /* RFC 3168 6.1.1: SYN asks with ECE|CWR, SYN-ACK agrees with ECE */
        s.flags |= c->passive ? TAS_TCP_ECE : (uint8_t)(TAS_TCP_ECE | TAS_TCP_CWR);
    s.win = sp_syn_window(c);
    s.opts = opts;
    s.opt_len = (uint8_t)cm_tcp_opts_write_syn(opts, &o);
    return sp_tcp_send(c->core, &s);
}

int sp_send_ack(struct sp_conn *c, uint32_t seq, uint32_t ack, uint16_t win)
{
    uint8_t opts[FP_TCPOPT_TS_LEN];
    struct sp_seg s;

    seg_init(&s, c);
    s.seq = seq;
    s.ack = ack;
    s.flags = TAS_TCP_ACK;
    s.win = win;
    if (c->ts) {
        uint32_t ecr = c->ts_recent;
        if (c->fstate == SP_FLOW_INSTALLED)
            ecr = sp_rd32(&fp.flows[c->flow].ts_recent);
        s.opts = opts;
        s.opt_len = (uint8_t)cm_tcp_opts_write_ts(opts, sp_ts_now(), ecr);
    }
    return sp_tcp_send(c->core, &s);
}

int sp_send_tw_ack(const struct sp_tw *t)
{
    uint8_t opts[FP_TCPOPT_TS_LEN];
    struct sp_seg s;

    sp_seg_init(&s, t->peer_mac, t->lip, t->rip, t->lport, t->rport);
    s.seq = t->snd_nxt;
    s.ack = t->rcv_nxt;
    s.flags = TAS_TCP_ACK;
    s.win = t->win;
    if (t->ts) {
        s.opts = opts;
        s.opt_len = (uint8_t)cm_tcp_opts_write_ts(opts, sp_ts_now(), t->ts_recent);
    }
    return sp_tcp_send(t->core, &s);
}

int sp_send_rst(struct sp_conn *c, uint32_t seq, uint32_t ack, bool with_ack)
{
    struct sp_seg s;

    seg_init(&s, c);
    s.seq = seq;
    s.ack = ack;
    s.flags = TAS_TCP_RST | (with_ack ? TAS_TCP_ACK : 0);
    return sp_tcp_send(c->core, &s);
}

/* Resets for segments nobody owns, at most SP_RST_PER_SEC a second. */
static bool rst_allowed(void)
{
    if (sp.now_ms - sp.rst_refill_ms >= 1000) {
        sp.rst_refill_ms = sp.now_ms;
        sp.rst_tokens = SP_RST_PER_SEC;
    }
    if (sp.rst_tokens == 0) {
        sp.cnt.rst_limited++;
        return false;
    }
    sp.rst_tokens--;
    return true;
}

void sp_tcp_reply_rst(const struct sp_pkt *p)
{
    struct sp_seg s;

    if ((p->flags & TAS_TCP_RST) || !rst_allowed())
        return;
    sp_seg_init(&s, p->src_mac, p->lip, p->rip, p->lport, p->rport);
    if (p->flags & TAS_TCP_ACK) {
        s.seq = p->ack;
        s.flags = TAS_TCP_RST;
    } else {
        s.seq = 0;
        s.ack = p->seq + p->seg_len;
        s.flags = TAS_TCP_RST | TAS_TCP_ACK;
    }
    sp_tcp_send(0, &s);
}
