/* cc_dctcp.c - DCTCP (RFC 8257): ECN marks scale the window reduction.
 *
 * The receiving side echoes each CE mark on the ACK of that segment
 * (ecn_each: the fast path's per-segment echo).  The sender counts the
 * bytes acknowledged and the bytes acknowledged by ACKs with ECE over an
 * observation window of one round trip, and at its end folds their ratio
 * F into alpha = (1 - g) alpha + g F, g = 1/16 (alpha starts at 1).  When
 * marked bytes arrive, at most once per round trip:
 *     cwnd = cwnd * (1 - alpha / 2)
 * so a path that marks a few packets costs a few percent of the window
 * where Reno would halve it.  Loss and timeouts are handled as Reno does;
 * growth is Reno's.  Without ECN on the connection DCTCP is Reno (as
 * Linux's dctcp without ECN).
 */
#include "slowpath/cc.h"

#define DCTCP_ONE   1024u /* alpha's unit */
#define DCTCP_SHIFT 4     /* g = 1/16 */

static void dctcp_init(struct sp_cc_state *s, uint32_t mss, uint32_t cwnd)
{
    sp_cc_start(s, mss, cwnd);
    s->u.dctcp.alpha = DCTCP_ONE;
}

/* End of an observation window: fold the marked share into alpha. */
static void dctcp_observe(struct sp_cc_dctcp *d, const struct sp_cc_input *in)
{
    d->acked += in->acked;
    d->marked += in->ecn_acked < in->acked ? in->ecn_acked : in->acked;
    if (in->now_us < d->window_end_us)
        return;
    if (d->acked != 0) {
        uint32_t f = (uint32_t)((uint64_t)d->marked * DCTCP_ONE / d->acked);
        int64_t a = (int64_t)d->alpha + (((int64_t)f - (int64_t)d->alpha) >> DCTCP_SHIFT);
        d->alpha = a < 0 ? 0 : a > DCTCP_ONE ? DCTCP_ONE : (uint32_t)a;
    }
    d->acked = 0;
    d->marked = 0;
    d->window_end_us = in->now_us + (in->srtt_us ? in->srtt_us : 1000);
}

static void dctcp_update(struct sp_cc_state *s, const struct sp_cc_input *in)
{
    struct sp_cc_dctcp *d = &s->u.dctcp;
    if (in->timeout) {
        sp_cc_timeout(s, in, 1, 2);
        return;
    }
    if (!in->ecn) { /* Reno */
        sp_cc_reno.update(s, in);
        return;
    }
    dctcp_observe(d, in);
    if (sp_cc_new_loss(s, in, in->fretx > 0)) {
        s->ssthresh = sp_cc_reduce(s, 1, 2);
        s->cwnd = s->ssthresh;
        return;
    }
    if (in->ecn_acked > 0 && in->now_us >= s->recover_until_us) {
        s->recover_until_us = in->now_us + (in->srtt_us ? in->srtt_us : 1000);
        s->ssthresh = sp_cc_reduce(s, 2 * DCTCP_ONE - d->alpha, 2 * DCTCP_ONE);
        s->cwnd = s->ssthresh;
        return;
    }
    sp_cc_grow(s, in);
}

const struct sp_cc_ops sp_cc_dctcp = {
    .name = "dctcp", .ecn_each = true, .init = dctcp_init, .update = dctcp_update};
