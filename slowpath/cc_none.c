/* cc_none.c - no congestion control: the window is unlimited (0) and the
 * flow is bounded only by the peer's window and the configured rate. */
#include <string.h>

#include "slowpath/cc.h"

static void none_init(struct sp_cc_state *s, uint32_t mss, uint32_t cwnd)
{
    (void)cwnd;
    memset(s, 0, sizeof(*s));
    s->mss = mss;
}

static void none_update(struct sp_cc_state *s, const struct sp_cc_input *in)
{
    (void)in;
    s->cwnd = 0;
    s->rate_kbps = 0;
}

const struct sp_cc_ops sp_cc_none = {
    .name = "none", .init = none_init, .update = none_update};
