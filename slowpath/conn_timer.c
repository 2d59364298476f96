/* conn_timer.c - when a connection's one timer is due: the RTO estimate
 * (RFC 6298) and arming the wheel entry at the earliest thing the
 * connection waits for (handshake or orphan timer, RTO, tail loss probe,
 * keepalive, TCP_INFO refresh), and the per-core FIFO of flows whose
 * FLOW_DEL is on its way.  What happens when the timer fires is timers.c,
 * which sits above conn.c; this file sits below it.
 */
#include "slowpath/sp.h"

#define CLOCK_G_US 1000 /* clock granularity G of RFC 6298: the 1 ms TS tick */

void sp_rto_sample(struct sp_conn *c, uint32_t rtt_us)
{
    if (rtt_us == 0)
        rtt_us = 1;
    if (c->srtt_us == 0) {
        c->srtt_us = rtt_us;
        c->rttvar_us = rtt_us / 2;
        return;
    }
    uint32_t diff = c->srtt_us > rtt_us ? c->srtt_us - rtt_us : rtt_us - c->srtt_us;
    c->rttvar_us = (uint32_t)(((uint64_t)3 * c->rttvar_us + diff) / 4);
    c->srtt_us = (uint32_t)(((uint64_t)7 * c->srtt_us + rtt_us) / 8);
}

uint32_t sp_rto_base(const struct sp_conn *c)
{
    uint64_t ms;
    if (c->srtt_us == 0) {
        ms = sp.rto_initial_ms;
    } else {
        uint64_t var = 4ull * c->rttvar_us;
        ms = (c->srtt_us + (var > CLOCK_G_US ? var : CLOCK_G_US) + 999) / 1000;
    }
    if (ms < sp.rto_min_ms)
        ms = sp.rto_min_ms;
    if (ms > sp.rto_max_ms)
        ms = sp.rto_max_ms;
    return (uint32_t)ms;
}

void sp_conn_rearm(struct sp_conn *c)
{
    uint64_t due = UINT64_MAX;
#define EARLIER(t)                                                                       \
    do {                                                                                 \
        uint64_t t_ = (t);                                                               \
        if (t_ != 0 && t_ < due)                                                         \
            due = t_;                                                                    \
    } while (0)
    if (!c->arp_wait)
        EARLIER(c->timer_ms);
    if (c->fstate == SP_FLOW_INSTALLED && sp_tcp_synchronized(c->state)) {
        EARLIER(c->rto_deadline_ms);
        EARLIER(c->tlp_due_ms);
        if (c->ka_idle_ms != 0)
            EARLIER(sp_conn_ka_due(c));
        if (c->info_dirty)
            EARLIER(c->info_ms + SP_INFO_MS);
    }
#undef EARLIER
    if (due == UINT64_MAX)
        sp_wheel_cancel(&sp.wheel, &c->tm);
    else if (!sp_timer_armed(&c->tm) || c->tm.expires != due)
        sp_wheel_arm(&sp.wheel, &c->tm, due);
}

void sp_conn_timer(struct sp_conn *c, uint64_t at_ms)
{
    c->timer_ms = at_ms;
    sp_conn_rearm(c);
}

void sp_conn_del_queue(struct sp_conn *c)
{
    unsigned k = c->core;
    c->dnext = NULL;
    if (sp.del_tail[k] != NULL)
        sp.del_tail[k]->dnext = c;
    else
        sp.del_head[k] = c;
    sp.del_tail[k] = c;
}
