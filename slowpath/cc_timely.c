/* cc_timely.c - TIMELY (Mittal et al., SIGCOMM 2015), the RTT-gradient
 * algorithm TAS offers: a pacing rate, no window.  Once per round trip,
 * on the smoothed RTT the fast path measures from timestamps:
 *
 *   rtt < T_low          rate += delta (the path is empty)
 *   rtt > T_high         rate *= 1 - beta (1 - T_high / rtt)
 *   gradient <= 0        rate += delta (5 delta after 5 such updates in a
 *                        row: hyperactive increase)
 *   gradient > 0         rate *= 1 - beta * gradient
 *
 * where gradient = EWMA(change of the RTT between updates) / min RTT.
 * delta 10 Mbit/s, beta 0.8, the EWMA's weight on a new difference 1/4;
 * the rate stays within [10 Mbit/s, 10 Gbit/s] and starts at the top.
 * tasd's timestamps tick in milliseconds (a sample is d + 0.5 ms), so
 * T_low is 1 ms and T_high 4 ms: TIMELY here keeps queueing delay under
 * a few milliseconds, and a path whose base RTT is above T_high runs at
 * the low end.  A retransmission timeout halves the rate.
 */
#include <string.h>

#include "slowpath/cc.h"

#define TIMELY_T_LOW_US   1000u
#define TIMELY_T_HIGH_US  4000u
#define TIMELY_DELTA_KBPS 10000u
#define TIMELY_MIN_KBPS   10000u
#define TIMELY_MAX_KBPS   10000000u
#define TIMELY_BETA       0.8
#define TIMELY_HAI_AFTER  5

static void timely_init(struct sp_cc_state *s, uint32_t mss, uint32_t cwnd)
{
    (void)cwnd;
    memset(s, 0, sizeof(*s));
    s->mss = mss ? mss : 536;
    s->rate_kbps = TIMELY_MAX_KBPS;
}

static uint32_t bounded(double r)
{
    return r < TIMELY_MIN_KBPS   ? TIMELY_MIN_KBPS
           : r > TIMELY_MAX_KBPS ? TIMELY_MAX_KBPS
                                 : (uint32_t)r;
}

static void timely_update(struct sp_cc_state *s, const struct sp_cc_input *in)
{
    struct sp_cc_timely *t = &s->u.timely;
    s->cwnd = 0;
    if (in->timeout) {
        s->rate_kbps = bounded(s->rate_kbps / 2.0);
        return;
    }
    uint32_t rtt = in->srtt_us;
    if (rtt == 0 || in->acked == 0 || in->now_us < t->next_us)
        return;
    t->next_us = in->now_us + rtt;
    if (t->min_rtt_us == 0 || rtt < t->min_rtt_us)
        t->min_rtt_us = rtt;
    if (t->prev_rtt_us == 0) {
        t->prev_rtt_us = rtt;
        return;
    }
    int32_t diff = (int32_t)(rtt - t->prev_rtt_us);
    t->prev_rtt_us = rtt;
    t->rtt_diff_us += (diff - t->rtt_diff_us) / 4;
    double gradient =
        (double)t->rtt_diff_us / (t->min_rtt_us > 100 ? t->min_rtt_us : 100);
    double r = s->rate_kbps;
    if (rtt < TIMELY_T_LOW_US) {
        t->hai = 0;
        r += TIMELY_DELTA_KBPS;
    } else if (rtt > TIMELY_T_HIGH_US) {
        t->hai = 0;
        r *= 1.0 - TIMELY_BETA * (1.0 - (double)TIMELY_T_HIGH_US / rtt);
    } else if (gradient <= 0) {
        t->hai++;
        r += (t->hai >= TIMELY_HAI_AFTER ? 5 : 1) * TIMELY_DELTA_KBPS;
    } else {
        t->hai = 0;
        r *= 1.0 - TIMELY_BETA * (gradient < 1.0 ? gradient : 1.0);
    }
    s->rate_kbps = bounded(r);
}

const struct sp_cc_ops sp_cc_timely = {
    .name = "timely", .init = timely_init, .update = timely_update};
