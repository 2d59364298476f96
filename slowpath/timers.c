/* timers.c - what the slow path does for every connection once per
 * control interval:
 *
 *   handshakes    SYN / SYN-ACK retransmission with exponential back-off,
 *                 syn_retries times, then ETIMEDOUT (active) or silence
 *   TIME_WAIT     expiry of the record
 *   orphans       FIN_WAIT_2 after the application closed: gone after
 *                 SP_FIN_WAIT_2_MS
 *   deletions     a flow the core has dropped (FLOW_DEL executed): RST if
 *                 one was due, free what can be freed
 *   RTO           RFC 6298: outstanding data (or FIN) whose SND.UNA did not
 *                 move for an RTO -> FP_CMD_FLOW_RETX, RTO doubles up to
 *                 rto_max; after max_retries a reset (ETIMEDOUT).  The RTT
 *                 estimate comes from the handshake and the fast path's
 *                 srtt_us (timestamps).  A zero-window probe (the fast path
 *                 sends one byte into a zero window) backs off the same way
 *                 but never resets the connection.  With SACK, a tail loss
 *                 probe goes first, after 2 SRTT (at least SP_TLP_MIN_MS).
 *   keepalive     SO_KEEPALIVE flows idle for TCP_KEEPIDLE: probes every
 *                 TCP_KEEPINTVL, ETIMEDOUT after TCP_KEEPCNT unanswered
 *   congestion    the flow's algorithm (cc.h) on the interval's acked bytes,
 *                 fast retransmits and timeouts; FP_CMD_FLOW_RATE when the
 *                 window moved enough.
 */
#include <errno.h>

#include "slowpath/sp.h"

#define CLOCK_G_US 1000 /* clock granularity G of RFC 6298: the 1 ms TS tick */
#define SP_TLP_MIN_MS 5 /* a tail loss probe waits at least this (2 SRTT) */
#define SP_TLP_MAX    3 /* probes per SND.UNA before the RTO's turn */

void sp_rto_sample(struct sp_conn *c, uint32_t rtt_us)
{
    if (rtt_us == 0)
        rtt_us = 1;
    if (c->srtt_us == 0) {
        c->srtt_us = rtt_us;
        c->rttvar_us = rtt_us / 2;
        return;
    }
    uint32_t diff = c->srtt_us > rtt_us ? c->srtt_us - rtt_us : rtt_us - c->srtt_us;
    c->rttvar_us = (uint32_t)(((uint64_t)3 * c->rttvar_us + diff) / 4);
    c->srtt_us = (uint32_t)(((uint64_t)7 * c->srtt_us + rtt_us) / 8);
}

uint32_t sp_rto_base(const struct sp_conn *c)
{
    uint64_t ms;
    if (c->srtt_us == 0) {
        ms = sp.rto_initial_ms;
    } else {
        uint64_t var = 4ull * c->rttvar_us;
        ms = (c->srtt_us + (var > CLOCK_G_US ? var : CLOCK_G_US) + 999) / 1000;
    }
    if (ms < sp.rto_min_ms)
        ms = sp.rto_min_ms;
    if (ms > sp.rto_max_ms)
        ms = sp.rto_max_ms;
    return (uint32_t)ms;
}

static uint32_t backoff(uint32_t ms)
{
    uint64_t d = 2ull * ms;
    return d > sp.rto_max_ms ? sp.rto_max_ms : (uint32_t)d;
}

/* SYN_SENT / SYN_RCVD: retransmit or give up.  May free c. */
static void handshake_timer(struct sp_conn *c)
{
    if (c->retries >= sp.cfg.syn_retries) {
        if (c->state == SP_TCP_SYN_SENT) {
            sp.cnt.conn_timeout++;
            sp_conn_connect_fail(c, -ETIMEDOUT);
        } else {
            sp_listen_expire(c);
        }
        return;
    }
    c->retries++;
    c->syn_retx = true;
    c->backoff_ms = backoff(c->backoff_ms);
    c->timer_ms = sp.now_ms + c->backoff_ms;
    if (c->state == SP_TCP_SYN_SENT)
        sp.cnt.syn_retx++;
    else
        sp.cnt.synack_retx++;
    sp_send_syn(c);
}

/* Retransmission timeout of an installed flow.  Returns true when it
 * fired (for congestion control); may reset (and free) c, then *gone. */
static bool rto_check(struct sp_conn *c, bool *gone)
{
    const struct fp_flow *f = &fp.flows[c->flow];
    uint32_t una = sp_rd32(&f->tx_una_seq);
    uint32_t sent = sp_rd32(&f->tx_sent);
    uint16_t fl = sp_rd16(&f->flags);
    bool fin_out = (fl & (FP_FLOW_FIN_SENT | FP_FLOW_FIN_ACKED)) == FP_FLOW_FIN_SENT;
    uint32_t fsrtt = sp_rd32(&f->srtt_us);

    if (fsrtt != 0 && fsrtt != c->last_fp_srtt) {
        c->last_fp_srtt = fsrtt;
        sp_rto_sample(c, fsrtt);
    }
    if (sent == 0 && !fin_out) {
        c->rto_deadline_ms = 0;
        c->rto_retries = 0;
        c->rto_una = una;
        return false;
    }
    if (una != c->rto_una) {
        /* Progress: restart the timer with a fresh RTO (ends back-off). */
        c->rto_una = una;
        c->rto_retries = 0;
        c->rto_ms = sp_rto_base(c);
        c->rto_deadline_ms = sp.now_ms + c->rto_ms;
        c->una_moved_ms = sp.now_ms;
        return false;
    }
    if (c->rto_deadline_ms == 0) {
        c->rto_deadline_ms = sp.now_ms + c->rto_ms;
        c->una_moved_ms = sp.now_ms;
        return false;
    }
    bool probe = sp_rd32(&f->tx_remote_win) == 0;
    /* Tail loss probe (RFC 8985 7): long before the RTO, up to SP_TLP_MAX
     * times per SND.UNA with back-off, send the last segment again (or, in
     * recovery, the first hole: a lost retransmission); the peer's SACK
     * then shows what is missing and recovery repairs it without waiting
     * for the timeout. */
    if (c->tlp_una != una) {
        c->tlp_una = una;
        c->tlp_n = 0;
    }
    if (c->sack && !probe && c->rto_retries == 0 && c->tlp_n < SP_TLP_MAX && sent > 0 &&
        c->srtt_us != 0) {
        uint64_t pto = 2 * (uint64_t)c->srtt_us / 1000 + 1;
        if (pto < SP_TLP_MIN_MS)
            pto = SP_TLP_MIN_MS;
        pto <<= c->tlp_n; /* the next probe waits twice as long */
        if (sp.now_ms >= c->una_moved_ms + pto && sp.now_ms + pto < c->rto_deadline_ms) {
            c->tlp_n++;
            sp.cnt.tlp_probes++;
            sp_cmd(c->core, FP_CMD_FLOW_PROBE, c->flow, 0, 0, NULL, NULL);
            return false;
        }
    }
    if (sp.now_ms < c->rto_deadline_ms)
        return false;

    if (!probe && c->rto_retries >= sp.cfg.max_retries) {
        sp.cnt.conn_timeout++;
        sp_conn_reset(c, ETIMEDOUT, true);
        *gone = true;
        return true;
    }
    if (!probe)
        c->rto_retries++;
    else
        sp.cnt.persist_probes++;
    sp.cnt.rto_retx++;
    sp_cmd(c->core, FP_CMD_FLOW_RETX, c->flow, 0, 0, NULL, NULL);
    c->rto_ms = backoff(c->rto_ms);
    c->rto_deadline_ms = sp.now_ms + c->rto_ms;
    return !probe;
}

/* Keepalive (RFC 9293 3.8.4, Linux's timing): after ka_idle_ms without a
 * segment from the peer and with nothing in flight, an ACK one below
 * SND.NXT (the peer must answer it), then every ka_intvl_ms; ka_cnt
 * unanswered probes reset the connection with ETIMEDOUT. */
static void keepalive_check(struct sp_conn *c)
{
    const struct fp_flow *f = &fp.flows[c->flow];
    uint32_t rx = sp_rd32(&f->cnt_rx);

    if (rx != c->ka_rx || sp_rd32(&f->tx_sent) != 0) {
        c->ka_rx = rx;
        c->ka_rx_ms = sp.now_ms;
        c->ka_sent = 0;
        return;
    }
    if (c->state != SP_TCP_ESTABLISHED && c->state != SP_TCP_CLOSE_WAIT)
        return;
    uint64_t due = c->ka_rx_ms + c->ka_idle_ms + (uint64_t)c->ka_sent * c->ka_intvl_ms;
    if (sp.now_ms < due)
        return;
    if (c->ka_sent >= c->ka_cnt) {
        sp.cnt.keepalive_timeouts++;
        sp.cnt.conn_timeout++;
        sp_conn_reset(c, ETIMEDOUT, true);
        return;
    }
    c->ka_sent++;
    sp.cnt.keepalive_probes++;
    sp_send_ack(c, sp_conn_snd_nxt(c) - 1, sp_rd32(&f->rx_next_seq), sp_conn_adv_win(c));
}

static void cc_update(struct sp_conn *c, bool timeout)
{
    const struct fp_flow *f = &fp.flows[c->flow];
    uint32_t acked = sp_rd32(&f->cnt_acked);
    uint16_t fretx = sp_rd16(&f->cnt_fretx);
    struct sp_cc_input in = {
        .acked = acked - c->last_acked,
        .fretx = (uint16_t)(fretx - c->last_fretx),
        .timeout = timeout,
        .srtt_us = c->srtt_us,
        .peer_win = sp_rd32(&f->tx_remote_win),
        .now_us = sp.now_us,
    };
    c->last_acked = acked;
    c->last_fretx = fretx;
    c->retx_events += in.fretx + (timeout ? 1u : 0u);
    c->tx_acked_total += in.acked;
    sp.cc->update(&c->cc, &in);
    if (sp_cc_changed(c->cc_sent_cwnd, c->cc.cwnd, c->cc.mss)) {
        if (sp_cmd(c->core, FP_CMD_FLOW_RATE, c->flow, sp.rate_kbps, c->cc.cwnd, NULL,
                   NULL) == 0)
            c->cc_sent_cwnd = c->cc.cwnd;
    }
}

void sp_conn_tick(void)
{
    struct sp_conn *next;
    for (struct sp_conn *c = sp.conns; c != NULL; c = next) {
        next = c->lnext;

        if (c->fstate == SP_FLOW_DELETING) {
            if (sp_wait_done(c->core, &c->del_wait))
                sp_conn_flow_gone(c); /* may free c */
            continue;
        }
        if (c->timer_ms != 0 && sp.now_ms >= c->timer_ms) {
            switch (c->state) {
            case SP_TCP_SYN_SENT:
            case SP_TCP_SYN_RCVD:
                if (!c->arp_wait)
                    handshake_timer(c);
                continue;
            case SP_TCP_TIME_WAIT:
                sp_conn_finish(c);
                continue;
            case SP_TCP_FIN_WAIT_2:
                sp_conn_event(c, SP_TEV_TIMEOUT);
                continue;
            default:
                c->timer_ms = 0;
                break;
            }
        }
        if (c->fstate == SP_FLOW_INSTALLED && sp_conn_add_refused(c)) {
            sp.cnt.flow_refused++;
            sp_conn_reset(c, ECONNRESET, true);
            continue;
        }
        if (c->fstate == SP_FLOW_INSTALLED && sp_tcp_synchronized(c->state)) {
            bool gone = false;
            bool timeout = rto_check(c, &gone);
            if (!gone)
                cc_update(c, timeout);
            if (!gone && c->ka_idle_ms != 0)
                keepalive_check(c);
            if (!gone && c->info_ms + SP_INFO_MS <= sp.now_ms)
                sp_conn_write_info(c);
            /* Data for a connection every holder closed: nobody can read
             * it, so reset, as Linux does (RFC 9293 3.10.7.4: no receiver).
             * The core counts what arrives once it has queued our FIN (and
             * with it taken every update the application posted before
             * close); what the application consumed before is no such data,
             * even while its last updates are still on their way. */
            if (!gone && c->app_closed && c->handed &&
                sp_rd32(&fp.flowx[c->flow].rx_late) != c->rx_late_mark) {
                sp.cnt.data_after_close++;
                sp.cnt.conn_reset++;
                sp_conn_reset(c, ECONNRESET, true);
            }
        }
    }
}
