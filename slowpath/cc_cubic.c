/* cc_cubic.c - CUBIC (RFC 9438), Linux's default, evaluated once per
 * control interval.  Windows in segments, time in seconds:
 *
 *   congestion event  (fast retransmit, or an ECN echo; once per round
 *                     trip) w_max = cwnd (fast convergence: less if the
 *                     window did not reach the previous w_max),
 *                     cwnd = ssthresh = 0.7 cwnd (beta), a new epoch
 *   avoidance         W(t) = C (t - K)^3 + w_max, C = 0.4,
 *                     K = cbrt((w_max - cwnd at the epoch's start) / C):
 *                     cwnd moves towards W(t + RTT), at most 1.5 cwnd;
 *                     never below what Reno would have reached since the
 *                     epoch began (w_est, alpha = 3 (1 - beta) / (1 + beta))
 *   slow start        below ssthresh, as Reno (no HyStart)
 *   timeout           ssthresh = 0.7 cwnd, cwnd = 2 MSS, the next
 *                     avoidance starts a new epoch
 *
 * The window does not grow beyond twice the peer's receive window.
 */
#include <math.h>

#include "slowpath/cc.h"

#define CUBIC_C     0.4
#define CUBIC_BETA  0.7
#define CUBIC_ALPHA (3.0 * (1.0 - CUBIC_BETA) / (1.0 + CUBIC_BETA))

static void cubic_init(struct sp_cc_state *s, uint32_t mss, uint32_t cwnd)
{
    sp_cc_start(s, mss, cwnd); /* sets the union to zero: no epoch */
}

static double segs(const struct sp_cc_state *s)
{
    return (double)s->cwnd / s->mss;
}

static void cubic_reduce(struct sp_cc_state *s)
{
    struct sp_cc_cubic *c = &s->u.cubic;
    double w = segs(s);
    c->w_max = w < c->w_last_max ? w * (1.0 + CUBIC_BETA) / 2.0 : w;
    c->w_last_max = w;
    c->epoch_us = 0;
    s->ssthresh = sp_cc_reduce(s, 7, 10);
}

static void cubic_avoid(struct sp_cc_state *s, const struct sp_cc_input *in,
                        uint32_t acked)
{
    struct sp_cc_cubic *c = &s->u.cubic;
    double w = segs(s);
    if (c->epoch_us == 0) {
        c->epoch_us = in->now_us;
        if (c->w_max < w)
            c->w_max = w;
        c->k_s = cbrt((c->w_max - w) / CUBIC_C);
        c->w_est = w;
    }
    double t = (double)(in->now_us - c->epoch_us + in->srtt_us) / 1e6 - c->k_s;
    double target = CUBIC_C * t * t * t + c->w_max;
    if (target < w)
        target = w;
    if (target > 1.5 * w)
        target = 1.5 * w;
    double a = (double)acked / s->mss;
    c->w_est += CUBIC_ALPHA * a / w;
    double goal = c->w_est > target ? c->w_est : target;
    double next = (w + (goal - w) * a / w) * s->mss;
    if (next < (double)s->cwnd + 1)
        next = (double)s->cwnd + 1;
    s->cwnd = next >= SP_CC_MAX_CWND ? SP_CC_MAX_CWND : (uint32_t)next;
}

static void cubic_update(struct sp_cc_state *s, const struct sp_cc_input *in)
{
    if (in->timeout) {
        cubic_reduce(s);
        s->cwnd = 2 * s->mss;
        s->recover_until_us = in->now_us + in->srtt_us;
        return;
    }
    if (sp_cc_new_loss(s, in, in->fretx > 0 || in->ecn_acked > 0)) {
        cubic_reduce(s);
        s->cwnd = s->ssthresh;
        return;
    }
    if (in->acked == 0)
        return;
    uint32_t before = s->cwnd, acked = in->acked;
    if (s->cwnd < s->ssthresh)
        acked = sp_cc_slow_start(s, acked);
    if (acked > 0)
        cubic_avoid(s, in, acked);
    sp_cc_clamp(s, before, in);
}

const struct sp_cc_ops sp_cc_cubic = {
    .name = "cubic", .init = cubic_init, .update = cubic_update};
