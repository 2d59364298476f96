/* timers.c - what the slow path does for a connection besides its
 * segments and its application's requests, and when it does it.
 *
 * A connection is serviced (sp_conn_service) when its one timer in the
 * wheel fires or when its fast-path core reports activity on it; never
 * by a scan of all connections, so an idle connection costs nothing:
 *
 *   handshakes    SYN / SYN-ACK retransmission with exponential back-off,
 *                 syn_retries times, then ETIMEDOUT (active) or silence
 *   orphans       FIN_WAIT_2 after the application closed: gone after
 *                 SP_FIN_WAIT_2_MS
 *   RTO           RFC 6298: outstanding data (or FIN) whose SND.UNA did not
 *                 move for an RTO -> FP_CMD_FLOW_RETX, RTO doubles up to
 *                 rto_max; after max_retries a reset (ETIMEDOUT).  The RTT
 *                 estimate comes from the handshake and the fast path's
 *                 srtt_us (timestamps).  A zero-window probe (the fast path
 *                 sends one byte into a zero window) backs off the same way
 *                 but never resets the connection.  With SACK, a tail loss
 *                 probe goes first, after 2 SRTT (at least SP_TLP_MIN_MS).
 *   keepalive     SO_KEEPALIVE flows idle for TCP_KEEPIDLE (the fast path
 *                 stamps the last segment received): probes every
 *                 TCP_KEEPINTVL, ETIMEDOUT after TCP_KEEPCNT unanswered
 *   congestion    the flow's algorithm (conn_cc.c) on the acked and
 *                 ECN-echoed bytes, fast retransmits and timeouts since
 *                 it last ran
 *   TCP_INFO      refreshed at most every SP_INFO_MS while it changes
 *   data after    every holder closed and data still arrives: reset
 *   close
 *
 * The fast path reports a flow (once until we take the report: its
 * fp_flow_x.sp_act flag) when SND.UNA moves, a loss is detected, an ECN
 * mark arrives, a flight starts after an idle moment, or data arrives
 * after our FIN was queued.  Deletions: FLOW_DEL commands complete in
 * order per core, so each core's deleting flows wait in a FIFO and the
 * tick looks at its head only.
 */
#include <errno.h>

#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "slowpath/sp.h"

#define SP_TLP_MIN_MS 5 /* a tail loss probe waits at least this (2 SRTT) */
#define SP_TLP_MAX    3 /* probes per SND.UNA before the RTO's turn */
#define SP_ACT_BUSY_MS 10  /* after activity, tick every interval this long */
#define SP_ACT_BURST  64
#define SP_ACT_BUDGET 8192 /* activity reports per core per drain */

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
    sp_conn_timer(c, sp.now_ms + c->backoff_ms);
    if (c->state == SP_TCP_SYN_SENT)
        sp.cnt.syn_retx++;
    else
        sp.cnt.synack_retx++;
    sp_send_syn(c);
}

/* The probe timeout of the next tail loss probe, 0 if none may go. */
static uint64_t tlp_pto(const struct sp_conn *c, bool zero_win, uint32_t sent)
{
    if (!c->sack || zero_win || c->rto_retries != 0 || c->tlp_n >= SP_TLP_MAX ||
        sent == 0 || c->srtt_us == 0)
        return 0;
    uint64_t pto = 2 * (uint64_t)c->srtt_us / 1000 + 1;
    if (pto < SP_TLP_MIN_MS)
        pto = SP_TLP_MIN_MS;
    return pto << c->tlp_n; /* the next probe waits twice as long */
}

/* When that probe is due, if it can still go well before the RTO. */
static uint64_t tlp_when(const struct sp_conn *c, uint64_t pto)
{
    if (pto == 0)
        return 0;
    uint64_t due = c->una_moved_ms + pto;
    if (due < sp.now_ms)
        due = sp.now_ms;
    return due + pto < c->rto_deadline_ms ? due : 0;
}

/* Retransmission timeout of an installed flow.  Returns true when it
 * fired (for congestion control); may reset (and free) c, then *gone.
 * Leaves c->rto_deadline_ms and c->tlp_due_ms at what comes next. */
static bool rto_check(struct sp_conn *c, bool *gone)
{
    const struct fp_flow *f = &fp.flows[c->flow];
    uint32_t una = sp_rd32(&f->tx_una_seq);
    uint32_t sent = sp_rd32(&f->tx_sent);
    uint16_t fl = sp_rd16(&f->flags);
    bool fin_out = (fl & (FP_FLOW_FIN_SENT | FP_FLOW_FIN_ACKED)) == FP_FLOW_FIN_SENT;
    uint32_t fsrtt = sp_rd32(&f->srtt_us);
    bool zero_win = sp_rd32(&f->tx_remote_win) == 0;

    if (fsrtt != 0 && fsrtt != c->last_fp_srtt) {
        c->last_fp_srtt = fsrtt;
        sp_rto_sample(c, fsrtt);
    }
    c->tlp_due_ms = 0;
    if (c->tlp_una != una) {
        c->tlp_una = una;
        c->tlp_n = 0;
    }
    if (sent == 0 && !fin_out) {
        c->rto_deadline_ms = 0;
        c->rto_retries = 0;
        c->rto_una = una;
        return false;
    }
    if (una != c->rto_una || c->rto_deadline_ms == 0) {
        /* Progress, or a flight that just began: a fresh RTO (progress ends
         * the back-off). */
        if (una != c->rto_una) {
            c->rto_una = una;
            c->rto_retries = 0;
            c->rto_ms = sp_rto_base(c);
        }
        c->rto_deadline_ms = sp.now_ms + c->rto_ms;
        c->una_moved_ms = sp.now_ms;
        c->tlp_due_ms = tlp_when(c, tlp_pto(c, zero_win, sent));
        return false;
    }
    /* Tail loss probe (RFC 8985 7): long before the RTO, up to SP_TLP_MAX
     * times per SND.UNA with back-off, send the last segment again (or, in
     * recovery, the first hole: a lost retransmission); the peer's SACK
     * then shows what is missing and recovery repairs it without waiting
     * for the timeout. */
    uint64_t pto = tlp_pto(c, zero_win, sent);
    if (pto != 0 && sp.now_ms >= c->una_moved_ms + pto &&
        sp.now_ms + pto < c->rto_deadline_ms) {
        c->tlp_n++;
        sp.cnt.tlp_probes++;
        sp_cmd(c->core, FP_CMD_FLOW_PROBE, c->flow, 0, 0, NULL, NULL);
        c->tlp_due_ms = tlp_when(c, tlp_pto(c, zero_win, sent));
        return false;
    }
    c->tlp_due_ms = tlp_when(c, pto);
    if (sp.now_ms < c->rto_deadline_ms)
        return false;

    c->tlp_due_ms = 0;
    if (!zero_win && c->rto_retries >= sp.cfg.max_retries) {
        sp.cnt.conn_timeout++;
        sp_conn_reset(c, ETIMEDOUT, true);
        *gone = true;
        return true;
    }
    if (!zero_win)
        c->rto_retries++;
    else
        sp.cnt.persist_probes++;
    sp.cnt.rto_retx++;
    sp_cmd(c->core, FP_CMD_FLOW_RETX, c->flow, 0, 0, NULL, NULL);
    c->rto_ms = backoff(c->rto_ms);
    c->rto_deadline_ms = sp.now_ms + c->rto_ms;
    return !zero_win;
}

/* The fast path's stamp of the last segment received, on our clock. */
static uint64_t last_rx_ms(const struct fp_flow *f)
{
    uint32_t age = (uint32_t)sp.now_ms - sp_rd32(&f->rx_last_ms);
    return age < (1u << 31) && age <= sp.now_ms ? sp.now_ms - age : sp.now_ms;
}

/* Keepalive (RFC 9293 3.8.4, Linux's timing): after ka_idle_ms without a
 * segment from the peer and with nothing in flight, an ACK one below
 * SND.NXT (the peer must answer it), then every ka_intvl_ms; ka_cnt
 * unanswered probes reset the connection with ETIMEDOUT. */
static void keepalive_check(struct sp_conn *c)
{
    const struct fp_flow *f = &fp.flows[c->flow];
    uint64_t rx = last_rx_ms(f);

    if (rx > c->ka_rx_ms) {
        c->ka_rx_ms = rx;
        c->ka_sent = 0;
    }
    if (sp_rd32(&f->tx_sent) != 0) {
        /* Data in flight: the RTO watches it; idle counts from now. */
        c->ka_rx_ms = sp.now_ms;
        c->ka_sent = 0;
        return;
    }
    if (c->state != SP_TCP_ESTABLISHED && c->state != SP_TCP_CLOSE_WAIT)
        return;
    if (sp.now_ms < sp_conn_ka_due(c))
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

void sp_conn_service(struct sp_conn *c)
{
    if (c->timer_ms != 0 && sp.now_ms >= c->timer_ms) {
        switch (c->state) {
        case SP_TCP_SYN_SENT:
        case SP_TCP_SYN_RCVD:
            if (!c->arp_wait)
                handshake_timer(c); /* re-arms, or frees c */
            return;
        case SP_TCP_FIN_WAIT_2:
            sp_conn_event(c, SP_TEV_TIMEOUT);
            return;
        default:
            c->timer_ms = 0;
            break;
        }
    }
    if (c->fstate == SP_FLOW_INSTALLED && sp_tcp_synchronized(c->state)) {
        bool gone = false;
        bool timeout = rto_check(c, &gone);
        if (gone)
            return;
        sp_conn_cc_update(c, timeout);
        if (c->ka_idle_ms != 0) {
            keepalive_check(c);
            if (c->fstate != SP_FLOW_INSTALLED)
                return; /* reset */
        }
        if (c->info_ms + SP_INFO_MS <= sp.now_ms)
            sp_conn_write_info(c);
        else
            c->info_dirty = true;
        /* Data for a connection every holder closed: nobody can read
         * it, so reset, as Linux does (RFC 9293 3.10.7.4: no receiver).
         * The core counts what arrives once it has queued our FIN (and
         * with it taken every update the application posted before
         * close); what the application consumed before is no such data,
         * even while its last updates are still on their way. */
        if (c->app_closed && c->handed &&
            sp_rd32(&fp.flowx[c->flow].rx_late) != c->rx_late_mark) {
            sp.cnt.data_after_close++;
            sp.cnt.conn_reset++;
            sp_conn_reset(c, ECONNRESET, true);
            return;
        }
    }
    sp_conn_rearm(c);
}

static void conn_fire(struct sp_timer *t, void *arg)
{
    (void)arg;
    sp_conn_service((struct sp_conn *)((char *)t - offsetof(struct sp_conn, tm)));
}

void sp_conn_act_drain(unsigned core)
{
    struct rte_ring *r = fp.cores[core].act_ring;
    struct fp_act a[SP_ACT_BURST];
    unsigned n, total = 0;

    if (r == NULL)
        return;
    do {
        n = rte_ring_dequeue_burst_elem(r, a, sizeof(a[0]), SP_ACT_BURST, NULL);
        for (unsigned i = 0; i < n; i++) {
            if (a[i].flow >= sp.cfg.max_flows)
                continue;
            struct sp_conn *c = sp.flow_conn[a[i].flow];
            if (c == NULL || c->gen != a[i].gen || c->fstate != SP_FLOW_INSTALLED)
                continue; /* stale: the flow's id has moved on */
            /* Taken: the core may report it again, and whatever it changes
             * from here on is either seen below or reported again. */
            __atomic_store_n(&fp.flowx[a[i].flow].sp_act, 0, __ATOMIC_RELAXED);
            __atomic_thread_fence(__ATOMIC_SEQ_CST);
            sp_conn_service(c);
        }
        total += n;
    } while (n == SP_ACT_BURST && total < SP_ACT_BUDGET);
    if (total > 0)
        sp.act_ms = sp.now_ms;
}

void sp_conn_tick(void)
{
    sp_wheel_advance(&sp.wheel, sp.now_ms, conn_fire, NULL);
    sp_tw_tick();
    /* A core runs its commands in order: its deletions finish in order. */
    for (unsigned k = 0; k < sp.n_cores; k++) {
        struct sp_conn *c;
        while ((c = sp.del_head[k]) != NULL && sp_wait_done(k, &c->del_wait)) {
            sp.del_head[k] = c->dnext;
            if (sp.del_head[k] == NULL)
                sp.del_tail[k] = NULL;
            c->dnext = NULL;
            sp_conn_flow_gone(c); /* may free c */
        }
    }
}

bool sp_conn_busy(void)
{
    for (unsigned k = 0; k < sp.n_cores; k++)
        if (sp.del_head[k] != NULL)
            return true;
    return sp.now_ms - sp.act_ms < SP_ACT_BUSY_MS;
}

uint64_t sp_conn_next_ms(void)
{
    uint64_t a = sp_wheel_next(&sp.wheel), b = sp_wheel_next(&sp.tw_wheel);
    return a < b ? a : b;
}
