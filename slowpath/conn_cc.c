/* conn_cc.c - a connection's congestion control: which algorithm runs it,
 * starting it when the flow is installed, running it once per control
 * interval on the fast path's counters, and changing it while the
 * connection runs, without a reset.
 *
 * The algorithm is the socket's own (TCP_CONGESTION, inherited from its
 * listener), else the policy's for its application, user or local port
 * (policy.c), else tcp.cc.  A change of policy or of the socket's choice
 * re-runs that choice for the live connection: the new algorithm takes
 * over the current window (as Linux's tcp_reinit_congestion_control), the
 * fast path is told the window, the rate and, if it differs, how to echo
 * CE marks (FP_CMD_FLOW_ECN).  The pacing rate the fast path gets is the
 * lowest of the algorithm's (TIMELY), tcp.rate_limit_mbps and the
 * policy's caps (policy.c fills in pol_cc, pol_rate_kbps, pol_share_kbps).
 */
#include "slowpath/sp.h"

const struct sp_cc_ops *sp_conn_cc_choice(const struct sp_conn *c)
{
    const struct sp_cc_ops *o = c->cc_pick != 0 ? sp_cc_at(c->cc_pick - 1u) : NULL;
    if (o == NULL)
        o = c->pol_cc;
    return o != NULL ? o : sp.cc;
}

uint32_t sp_conn_rate(const struct sp_conn *c)
{
    uint32_t r = c->cc.rate_kbps;
    const uint32_t caps[] = {sp.rate_kbps, c->pol_share_kbps, c->pol_rate_kbps};
    for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++)
        if (caps[i] != 0 && (r == 0 || caps[i] < r))
            r = caps[i];
    return r;
}

void sp_conn_cc_start(struct sp_conn *c)
{
    c->cca = sp_conn_cc_choice(c);
    c->cca->init(&c->cc, c->mss, 0);
    c->cc_sent_cwnd = c->cc.cwnd;
    c->cc_sent_rate = sp_conn_rate(c);
    c->last_acked = 0;
    c->last_fretx = 0;
    c->last_ecn_bytes = 0;
}

/* Tell the fast path the window and rate if they moved enough (force: in
 * any case). */
static void cc_push(struct sp_conn *c, bool force)
{
    uint32_t rate = sp_conn_rate(c);
    if (!force && !sp_cc_changed(c->cc_sent_cwnd, c->cc.cwnd, c->cc.mss) &&
        !sp_cc_changed(c->cc_sent_rate, rate, 1))
        return;
    if (sp_cmd(c->core, FP_CMD_FLOW_RATE, c->flow, rate, c->cc.cwnd, NULL, NULL) == 0) {
        c->cc_sent_cwnd = c->cc.cwnd;
        c->cc_sent_rate = rate;
    }
}

void sp_conn_cc_update(struct sp_conn *c, bool timeout)
{
    const struct fp_flow *f = &fp.flows[c->flow];
    const struct fp_flow_x *x = &fp.flowx[c->flow];
    uint32_t acked = sp_rd32(&f->cnt_acked);
    uint32_t ecn_bytes = sp_rd32(&x->cnt_ecn_bytes);
    uint16_t fretx = sp_rd16(&f->cnt_fretx);
    struct sp_cc_input in = {
        .acked = acked - c->last_acked,
        .ecn_acked = ecn_bytes - c->last_ecn_bytes,
        .fretx = (uint16_t)(fretx - c->last_fretx),
        .timeout = timeout,
        .ecn = c->ecn,
        .srtt_us = c->srtt_us,
        .peer_win = sp_rd32(&f->tx_remote_win),
        .now_us = sp.now_us,
    };
    c->last_acked = acked;
    c->last_ecn_bytes = ecn_bytes;
    c->last_fretx = fretx;
    c->retx_events += in.fretx + (timeout ? 1u : 0u);
    c->tx_acked_total += in.acked;
    c->cca->update(&c->cc, &in);
    cc_push(c, false);
}

void sp_conn_cc_rechoose(struct sp_conn *c)
{
    if (c->fstate != SP_FLOW_INSTALLED) /* not yet installed: start picks it */
        return;
    const struct sp_cc_ops *o = sp_conn_cc_choice(c);
    if (o != c->cca) {
        bool each = c->cca->ecn_each;
        uint32_t cwnd = c->cc.cwnd;
        if (cwnd == 0) /* from an unlimited window: what is in flight */
            cwnd = sp_rd32(&fp.flows[c->flow].tx_sent);
        c->cca = o;
        o->init(&c->cc, c->mss, cwnd);
        sp.cnt.cc_changes++;
        if (o->ecn_each != each)
            sp_cmd(c->core, FP_CMD_FLOW_ECN, c->flow, o->ecn_each, 0, NULL, NULL);
    }
    cc_push(c, true); /* the rate cap may have changed too */
    c->info_dirty = true;
}
