/* activity.c - activity reports, fast path -> slow path.
 *
 * The slow path runs congestion control, the retransmission timer and the
 * checks that follow a close only for flows that changed, so the core
 * tells it which: a flow whose SND.UNA moved, that detected a loss, saw an
 * ECN mark, started a flight after nothing was outstanding, or received
 * data after our FIN was queued goes on the core's activity list
 * (fp_act_add), and at the end of the iteration each listed flow is posted
 * once on the act ring as (flow, generation).
 *
 * At most one report per flow is outstanding: the core sets the flow's
 * fp_flow_x.sp_act before posting and posts nothing while it is set; the
 * slow path clears it when it takes the report, then reads the flow's
 * state.  A fence on each side between the flag and the state (Dekker)
 * makes sure a change is either seen by that read or reported again.
 * When the ring is full the flow stays listed for the next iteration;
 * when the slow path sleeps (fp.sp_sleeping) the core wakes it.
 */
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "fastpath/internal.h"

void fp_act_flush(struct fp_core *c)
{
    struct fp_priv *p = fp_priv(c);
    uint32_t keep = 0;
    bool posted = false;

    if (p->n_act == 0)
        return;
    atomic_thread_fence(memory_order_seq_cst); /* the flows' state before sp_act */
    for (uint32_t i = 0; i < p->n_act; i++) {
        uint32_t fid = p->act[i];
        struct fp_flow_x *x = &fp.flowx[fid];
        if (unlikely(!fp_flow_mine(c, fid)) ||
            __atomic_load_n(&x->sp_act, __ATOMIC_RELAXED) != 0) {
            p->side[fid].in &= (uint8_t)~FP_IN_ACT; /* gone, or reported already */
            continue;
        }
        struct fp_act a = {.flow = fid, .gen = fp.flows[fid].gen};
        __atomic_store_n(&x->sp_act, 1, __ATOMIC_RELAXED);
        if (unlikely(rte_ring_enqueue_elem(c->act_ring, &a, sizeof(a)) != 0)) {
            __atomic_store_n(&x->sp_act, 0, __ATOMIC_RELAXED);
            p->act[keep++] = fid; /* the ring is full: next time */
            continue;
        }
        p->side[fid].in &= (uint8_t)~FP_IN_ACT;
        posted = true;
    }
    p->n_act = keep;
    if (posted) {
        atomic_thread_fence(memory_order_seq_cst); /* post before reading the flag */
        if (atomic_load_explicit(&fp.sp_sleeping, memory_order_relaxed) != 0)
            p->sp_kick = true;
    }
}
