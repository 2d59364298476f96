/* sync_in.c - what the slow path does with a segment the core passed up
 * for a synchronized connection (ESTABLISHED and after, flow installed):
 * a SYN or RST (RFC 5961: a reset in the window only at RCV.NXT, else a
 * challenge ACK, rate-limited), or a segment the core had not installed
 * the flow for yet (handed back to it).  It calls down into the
 * connection records (conn.c) and the segments we send (tcp_out.c).
 */
#include <rte_mbuf.h>

#include "tas/seq.h"
#include "slowpath/sp.h"

/* RFC 5961 challenge ACK, at most SP_CHALLENGE_PER_S a second in all
 * (RFC 5961 7: the limit keeps it from being an amplifier). */
static void challenge_ack(struct sp_conn *c, uint32_t rcv_nxt)
{
    if (sp.now_ms - sp.challenge_start_ms >= 1000) {
        sp.challenge_start_ms = sp.now_ms;
        sp.challenge_sent = 0;
    }
    if (sp.challenge_sent >= SP_CHALLENGE_PER_S) {
        sp.cnt.challenge_limited++;
        return;
    }
    sp.challenge_sent++;
    sp.cnt.challenge_acks++;
    sp_send_ack(c, sp_conn_snd_nxt(c), rcv_nxt, sp_conn_adv_win(c));
}

void sp_sync_input(struct sp_conn *c, const struct sp_pkt *p, struct rte_mbuf *m)
{
    const struct fp_flow *f = &fp.flows[c->flow];
    uint32_t rcv_nxt = sp_rd32(&f->rx_next_seq);

    if (p->flags & TAS_TCP_RST) {
        /* RFC 5961 3.2: only an RST at exactly RCV.NXT resets; one elsewhere
         * in the window gets a (rate-limited) challenge ACK, which a real
         * peer answers with the exact RST; outside the window it is dropped. */
        uint32_t wnd = sp_rd32(&f->rx_avail);
        if (p->seq == rcv_nxt) {
            sp.cnt.rst_rcvd++;
            sp.cnt.conn_reset++;
            sp_conn_reset(c, ECONNRESET, false);
        } else if (tas_seq_in(p->seq, rcv_nxt, rcv_nxt + (wnd ? wnd : 1))) {
            sp.cnt.rst_ignored++;
            challenge_ack(c, rcv_nxt);
        } else {
            sp.cnt.rst_ignored++;
        }
        rte_pktmbuf_free(m);
        return;
    }
    if (p->flags & TAS_TCP_SYN) {
        /* Our handshake ACK was lost (a retransmitted SYN-ACK), or a SYN
         * in a synchronized state: answer with an ACK either way (RFC 5961
         * 4 challenge ACK). */
        if ((p->flags & TAS_TCP_ACK) && !c->passive && p->seq == c->irs) {
            sp_send_ack(c, sp_conn_snd_nxt(c), rcv_nxt, sp_conn_adv_win(c));
        } else {
            challenge_ack(c, rcv_nxt);
        }
        rte_pktmbuf_free(m);
        return;
    }
    /* The core had not installed the flow yet when this arrived: hand it
     * over again, unless the core refused the flow (it would come back). */
    if (sp_conn_add_refused(c)) {
        sp.cnt.flow_refused++;
        sp_conn_reset(c, ECONNRESET, true);
    } else if (!c->add_checked || (sp_rd16(&f->flags) & FP_FLOW_INSTALLED)) {
        sp.cnt.reinjected++;
        sp_cmd(c->core, FP_CMD_PKT, c->flow, 0, 0, m, NULL);
        return;
    }
    rte_pktmbuf_free(m);
}
