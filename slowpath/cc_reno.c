/* cc_reno.c - loss-based congestion control in the manner of NewReno
 * (RFC 5681), evaluated once per control interval on fast-path counters:
 *
 *   slow start      cwnd < ssthresh: cwnd grows by the bytes acknowledged
 *                   (initial window 10 MSS, RFC 6928)
 *   avoidance       cwnd grows by MSS * acked / cwnd (one MSS per RTT)
 *   fast retransmit ssthresh = cwnd / 2 (at least 2 MSS), cwnd = ssthresh,
 *                   at most once per round trip; so does an ECN echo
 *                   (RFC 3168 6.1.2)
 *   timeout         ssthresh = cwnd / 2 (at least 2 MSS), cwnd = 2 MSS
 *
 * The window does not grow beyond twice the peer's receive window.
 */
#include "slowpath/cc.h"

static void reno_init(struct sp_cc_state *s, uint32_t mss, uint32_t cwnd)
{
    sp_cc_start(s, mss, cwnd);
}

static void reno_update(struct sp_cc_state *s, const struct sp_cc_input *in)
{
    if (in->timeout) {
        sp_cc_timeout(s, in, 1, 2);
        return;
    }
    if (sp_cc_new_loss(s, in, in->fretx > 0 || in->ecn_acked > 0)) {
        s->ssthresh = sp_cc_reduce(s, 1, 2);
        s->cwnd = s->ssthresh;
        return;
    }
    sp_cc_grow(s, in);
}

const struct sp_cc_ops sp_cc_reno = {
    .name = "reno", .init = reno_init, .update = reno_update};
