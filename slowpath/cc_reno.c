/* cc_reno.c - loss-based congestion control in the manner of NewReno
 * (RFC 5681), evaluated once per control interval on fast-path counters:
 *
 *   slow start      cwnd < ssthresh: cwnd grows by the bytes acknowledged
 *                   (initial window 10 MSS, RFC 6928)
 *   avoidance       cwnd grows by MSS * acked / cwnd (one MSS per RTT)
 *   fast retransmit ssthresh = cwnd / 2 (at least 2 MSS), cwnd = ssthresh,
 *                   at most once per round trip
 *   timeout         ssthresh = cwnd / 2 (at least 2 MSS), cwnd = 2 MSS
 *
 * The window does not grow beyond twice the peer's receive window: a flow
 * limited by its receiver would otherwise inflate cwnd without bound and
 * then burst when the receiver opens up (RFC 7661 spirit).
 */
#include "slowpath/cc.h"

#define RENO_INIT_SEGS 10
#define RENO_MAX_CWND  (1u << 30)

static void reno_init(struct sp_cc_state *s, uint32_t mss)
{
    s->mss = mss ? mss : 536;
    s->cwnd = RENO_INIT_SEGS * s->mss;
    s->ssthresh = RENO_MAX_CWND;
    s->recover_until_us = 0;
}

static uint32_t half_window(const struct sp_cc_state *s)
{
    uint32_t h = s->cwnd / 2;
    return h > 2 * s->mss ? h : 2 * s->mss;
}

static void reno_update(struct sp_cc_state *s, const struct sp_cc_input *in)
{
    if (in->timeout) {
        s->ssthresh = half_window(s);
        s->cwnd = 2 * s->mss;
        s->recover_until_us = in->now_us + in->srtt_us;
        return;
    }
    if (in->fretx > 0 && in->now_us >= s->recover_until_us) {
        s->ssthresh = half_window(s);
        s->cwnd = s->ssthresh;
        /* Further losses of the same window count as the same event. */
        s->recover_until_us = in->now_us + (in->srtt_us ? in->srtt_us : 100000);
        return;
    }
    if (in->acked == 0)
        return;
    uint64_t cwnd = s->cwnd;
    if (cwnd < s->ssthresh) {
        cwnd += in->acked;
        if (cwnd > s->ssthresh)
            cwnd = s->ssthresh;
    } else {
        uint64_t inc = (uint64_t)s->mss * in->acked / (cwnd ? cwnd : 1);
        cwnd += inc ? inc : 1;
    }
    uint64_t limit = RENO_MAX_CWND;
    if (in->peer_win != 0) {
        limit = 2ull * in->peer_win;
        if (limit < (uint64_t)RENO_INIT_SEGS * s->mss)
            limit = (uint64_t)RENO_INIT_SEGS * s->mss;
    }
    if (cwnd > limit)
        cwnd = limit > s->cwnd ? limit : s->cwnd; /* stop growing; never shrink here */
    s->cwnd = cwnd > RENO_MAX_CWND ? RENO_MAX_CWND : (uint32_t)cwnd;
}

const struct sp_cc_ops sp_cc_reno = {
    .name = "reno", .init = reno_init, .update = reno_update};
