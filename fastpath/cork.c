/* cork.c - TCP_CORK and MSG_MORE: bytes that wait for a full segment.
 *
 * An application that builds a reply from several small writes corks its
 * socket (TCP_CORK) or passes MSG_MORE; each of its updates then carries
 * TAS_FPIN_MORE (tas/ctxq.h).  The flow is marked FP_FLOW_CORK and
 * fp_side.cork_held counts the last bytes written while corked: they go
 * only in a full segment (fp_flow_next_seg(), flow.h).  An update without
 * TAS_FPIN_MORE (uncork, a write without MSG_MORE) pushes them, a queued
 * FIN or a tx ring less than a quarter free ignores them (fp_flow_held(),
 * internal.h: close, shutdown and a writer waiting for room push), and
 * they wait at most FP_CORK_US, as Linux's 200 ms ceiling.  The first
 * bytes held start the flow's deadline: an entry in a FIFO of deadlines in
 * insertion order (all are the same distance from their start), stamped
 * with the flow's cork_seq.  A push bumps cork_seq, so the entry is stale
 * and the next bytes held start a new deadline.  A full FIFO holds
 * nothing: the bytes go at once.
 */
#include "fastpath/clock.h"
#include "fastpath/internal.h"

/* An update from the application (appq.c): `written` more bytes, corked
 * (more) or pushing. */
void fp_cork_update(struct fp_core *c, uint32_t fid, bool more, uint32_t written)
{
    struct fp_priv *p = fp_priv(c);
    struct fp_flow *f = &fp.flows[fid];
    struct fp_side *sd = &p->side[fid];

    if (likely(!more)) {
        if (unlikely(f->flags & FP_FLOW_CORK)) {
            f->flags &= (uint16_t)~FP_FLOW_CORK; /* push */
            fp_cork_forget(sd);
            fp_qm_schedule(c, fid);
        }
        return;
    }
    if (!(f->flags & FP_FLOW_CORK)) {
        f->flags |= FP_FLOW_CORK; /* what was written before is pushed */
        sd->cork_held = 0;
    }
    sd->cork_held += written;
    if (sd->cork_held > f->tx_avail)
        sd->cork_held = f->tx_avail; /* full segments took some already */
    if (sd->cork_held == 0 || (sd->in & FP_IN_CORK))
        return;
    if (unlikely(p->cork_n == FP_CORK_FIFO)) {
        sd->cork_held = 0; /* no deadline to be had: do not hold */
        return;
    }
    uint32_t i = p->cork_head + p->cork_n++;
    if (i >= FP_CORK_FIFO)
        i -= FP_CORK_FIFO;
    p->cork_fid[i] = fid;
    p->cork_seq[i] = sd->cork_seq;
    p->cork_due[i] = fp_now_us() + FP_CORK_US;
    sd->in |= FP_IN_CORK;
}

/* Deadlines that have come: what their flows hold goes now. */
void fp_cork_expire(struct fp_core *c, uint64_t now)
{
    struct fp_priv *p = fp_priv(c);
    while (p->cork_n > 0 && p->cork_due[p->cork_head] <= now) {
        uint32_t h = p->cork_head;
        uint32_t fid = p->cork_fid[h];
        p->cork_head = h + 1 == FP_CORK_FIFO ? 0 : h + 1;
        p->cork_n--;
        struct fp_side *sd = &p->side[fid];
        if (!(sd->in & FP_IN_CORK) || sd->cork_seq != p->cork_seq[h])
            continue; /* pushed since */
        sd->in &= (uint8_t)~FP_IN_CORK;
        sd->cork_seq++;
        if (fp_flow_mine(c, fid) && sd->cork_held > 0) {
            sd->cork_held = 0; /* still corked: later bytes wait again */
            fp_qm_schedule(c, fid);
        }
    }
}

/* Microseconds until the first deadline; UINT32_MAX if none. */
uint32_t fp_cork_due_us(const struct fp_core *c, uint64_t now)
{
    const struct fp_priv *p = fp_priv(c);
    if (p->cork_n == 0)
        return UINT32_MAX;
    uint64_t due = p->cork_due[p->cork_head];
    return due > now ? (uint32_t)(due - now) : 0;
}
