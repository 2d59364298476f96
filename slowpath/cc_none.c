/* cc_none.c - no congestion control: the window is unlimited (0) and the
 * flow is bounded only by the peer's window and the configured rate. */
#include "slowpath/cc.h"

static void none_init(struct sp_cc_state *s, uint32_t mss)
{
    s->cwnd = 0;
    s->ssthresh = 0;
    s->mss = mss;
    s->recover_until_us = 0;
}

static void none_update(struct sp_cc_state *s, const struct sp_cc_input *in)
{
    s->cwnd = 0;
}

const struct sp_cc_ops sp_cc_none = {
    .name = "none", .init = none_init, .update = none_update};
