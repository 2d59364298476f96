/* cc.c - congestion-control registry and the pieces the window-based
 * algorithms share (see cc.h). */
#include <string.h>

#include "slowpath/cc.h"

static const struct sp_cc_ops *const algos[] = {&sp_cc_reno, &sp_cc_cubic, &sp_cc_dctcp,
                                                &sp_cc_timely, &sp_cc_none};
#define N_ALGOS (sizeof(algos) / sizeof(algos[0]))
_Static_assert(N_ALGOS <= SP_CC_MAX, "the registry fits the region header's table");

const struct sp_cc_ops *sp_cc_find(const char *name)
{
    for (size_t i = 0; i < N_ALGOS; i++)
        if (strcmp(algos[i]->name, name) == 0)
            return algos[i];
    return NULL;
}

unsigned sp_cc_count(void)
{
    return N_ALGOS;
}

const struct sp_cc_ops *sp_cc_at(unsigned i)
{
    return i < N_ALGOS ? algos[i] : NULL;
}

unsigned sp_cc_index(const struct sp_cc_ops *ops)
{
    for (unsigned i = 0; i < N_ALGOS; i++)
        if (algos[i] == ops)
            return i;
    return 0;
}

const char *sp_cc_list(void)
{
    return "reno, cubic, dctcp, timely, none";
}

bool sp_cc_changed(uint32_t sent, uint32_t now, uint32_t mss)
{
    if (now == sent)
        return false;
    if (now == 0 || sent == 0 || now < sent)
        return true;
    uint32_t step = sent / 16 > mss ? sent / 16 : mss;
    return now - sent >= step;
}

void sp_cc_start(struct sp_cc_state *s, uint32_t mss, uint32_t cwnd)
{
    memset(s, 0, sizeof(*s));
    s->mss = mss ? mss : 536;
    s->cwnd = cwnd != 0 ? cwnd : SP_CC_INIT_SEGS * s->mss;
    if (s->cwnd < 2 * s->mss)
        s->cwnd = 2 * s->mss;
    /* Taken over mid-connection: continue in avoidance from there. */
    s->ssthresh = cwnd != 0 ? s->cwnd : SP_CC_MAX_CWND;
}

uint32_t sp_cc_reduce(const struct sp_cc_state *s, uint32_t num, uint32_t den)
{
    uint64_t w = (uint64_t)s->cwnd * num / den;
    return w > 2ull * s->mss ? (uint32_t)w : 2 * s->mss;
}

void sp_cc_timeout(struct sp_cc_state *s, const struct sp_cc_input *in, uint32_t num,
                   uint32_t den)
{
    s->ssthresh = sp_cc_reduce(s, num, den);
    s->cwnd = 2 * s->mss;
    s->recover_until_us = in->now_us + in->srtt_us;
}

uint32_t sp_cc_slow_start(struct sp_cc_state *s, uint32_t acked)
{
    uint64_t cwnd = (uint64_t)s->cwnd + acked;
    if (cwnd < s->ssthresh) {
        s->cwnd = (uint32_t)cwnd;
        return 0;
    }
    uint32_t left = (uint32_t)(cwnd - s->ssthresh);
    s->cwnd = s->ssthresh;
    return left;
}

void sp_cc_avoid(struct sp_cc_state *s, uint32_t acked)
{
    uint64_t inc = (uint64_t)s->mss * acked / (s->cwnd ? s->cwnd : 1);
    uint64_t cwnd = (uint64_t)s->cwnd + (inc ? inc : 1);
    s->cwnd = cwnd > SP_CC_MAX_CWND ? SP_CC_MAX_CWND : (uint32_t)cwnd;
}

void sp_cc_clamp(struct sp_cc_state *s, uint32_t before, const struct sp_cc_input *in)
{
    uint64_t limit = SP_CC_MAX_CWND;
    if (in->peer_win != 0) {
        limit = 2ull * in->peer_win;
        if (limit < (uint64_t)SP_CC_INIT_SEGS * s->mss)
            limit = (uint64_t)SP_CC_INIT_SEGS * s->mss;
    }
    if (s->cwnd > limit) /* stop growing; never shrink here */
        s->cwnd = limit > before ? (uint32_t)limit : before;
}

void sp_cc_grow(struct sp_cc_state *s, const struct sp_cc_input *in)
{
    if (in->acked == 0)
        return;
    uint32_t before = s->cwnd;
    if (s->cwnd < s->ssthresh)
        sp_cc_slow_start(s, in->acked);
    else
        sp_cc_avoid(s, in->acked);
    sp_cc_clamp(s, before, in);
}

bool sp_cc_new_loss(struct sp_cc_state *s, const struct sp_cc_input *in, bool signal)
{
    if (!signal || in->now_us < s->recover_until_us)
        return false;
    /* Further signals from the same window count as the same event. */
    s->recover_until_us = in->now_us + (in->srtt_us ? in->srtt_us : 100000);
    return true;
}
