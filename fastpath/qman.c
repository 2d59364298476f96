/* qman.c - the queue manager: which flow transmits next, and when.
 *
 * A flow that may have something to send (the app wrote data, an ACK opened
 * the window, a FIN or retransmission was ordered) is put on the core's
 * ready FIFO by fp_qm_schedule().  fp_qm_run() takes the flows that were on
 * the FIFO when it started, round-robin:
 *   - rate_kbps == 0: send up to FP_QM_FLOW_BURST segments now; if more is
 *     sendable, back to the tail of the FIFO.
 *   - rate-limited: qm_next_us is the earliest time of the next segment.
 *     Not due yet -> into the timing wheel at that time.  Due -> send
 *     segments while due (each moves qm_next_us on by its wire time at the
 *     flow's rate, at most FP_QM_RATE_BURST), then back to the wheel (or the
 *     FIFO) if more is sendable.  A flow may run up to FP_QM_CREDIT_US behind
 *     its schedule (late releases are made up), no more: idle time earns no
 *     burst.
 * The wheel has FP_QM_SLOTS slots of FP_QM_SLOT_US; a slot holds a singly
 * linked list through fp_side.qm_link.  Times beyond the horizon go to the
 * last slot and are re-checked when released.  Each flow is at most once in
 * the FIFO and once in the wheel (fp_side.in), so neither can overflow;
 * entries of flows removed meanwhile are skipped when taken off.
 */
#include "fastpath/flow.h"
#include "fastpath/internal.h"

void fp_qm_schedule(struct fp_core *c, uint32_t fid)
{
    struct fp_priv *p = fp_priv(c);
    struct fp_side *sd = &p->side[fid];
    if (sd->in & FP_IN_READY)
        return;
    sd->in |= FP_IN_READY;
    p->ready[p->ready_tail++ & p->ready_mask] = fid;
}

/* Put flow fid in the wheel slot of time when (fp clock, us). */
static void wheel_insert(struct fp_priv *p, uint32_t fid, uint64_t when)
{
    struct fp_side *sd = &p->side[fid];
    if (sd->in & FP_IN_WHEEL)
        return; /* already waiting, for a time no later than this one */
    uint64_t slot = when / FP_QM_SLOT_US;
    if (slot < p->wheel_next)
        slot = p->wheel_next;
    else if (slot >= p->wheel_next + FP_QM_SLOTS)
        slot = p->wheel_next + FP_QM_SLOTS - 1;
    uint32_t *head = &p->wheel[slot & (FP_QM_SLOTS - 1)];
    sd->qm_link = *head;
    *head = fid;
    sd->in |= FP_IN_WHEEL;
    p->wheel_n++;
}

/* Release every slot up to now onto the ready FIFO. */
static void wheel_advance(struct fp_core *c, uint64_t now)
{
    struct fp_priv *p = fp_priv(c);
    uint64_t now_slot = now / FP_QM_SLOT_US;
    unsigned steps = 0;

    if (p->wheel_n == 0) {
        p->wheel_next = now_slot + 1;
        return;
    }
    while (p->wheel_next <= now_slot && steps++ < FP_QM_SLOTS) {
        uint32_t *head = &p->wheel[p->wheel_next & (FP_QM_SLOTS - 1)];
        uint32_t fid = *head;
        *head = FP_NONE;
        while (fid != FP_NONE) {
            struct fp_side *sd = &p->side[fid];
            uint32_t next = sd->qm_link;
            sd->in &= (uint8_t)~FP_IN_WHEEL;
            p->wheel_n--;
            fp_qm_schedule(c, fid);
            fid = next;
        }
        p->wheel_next++;
    }
    if (p->wheel_next <= now_slot)
        p->wheel_next = now_slot + 1; /* idle longer than the horizon */
}

/* Wire time of a frame of `bytes` at rate_kbps, in microseconds. */
static inline uint32_t wire_us(uint32_t bytes, uint32_t rate_kbps)
{
    return (uint32_t)((uint64_t)bytes * 8000 / rate_kbps);
}

/* Due: at most one slot early (the wheel releases a slot's flows at its
 * start, and the schedule, not the release time, sets the average rate). */
static inline bool qm_due(const struct fp_flow *f, uint32_t now32)
{
    return (int32_t)(f->qm_next_us - now32) < FP_QM_SLOT_US;
}

static unsigned qm_rate_limited(struct fp_core *c, uint32_t fid, uint64_t now)
{
    struct fp_priv *p = fp_priv(c);
    struct fp_flow *f = &fp.flows[fid];
    uint32_t now32 = (uint32_t)now;
    unsigned k = 0;

    if (!qm_due(f, now32)) {
        wheel_insert(p, fid, now + (uint32_t)(f->qm_next_us - now32));
        return 0;
    }
    if ((int32_t)(now32 - f->qm_next_us) > FP_QM_CREDIT_US)
        f->qm_next_us = now32 - FP_QM_CREDIT_US; /* little credit for idle time */
    while (k < FP_QM_RATE_BURST && qm_due(f, now32)) {
        uint32_t bytes;
        if (fp_tx_flow(c, fid, 1, now, &bytes) == 0)
            break;
        f->qm_next_us += wire_us(bytes, f->rate_kbps);
        k++;
    }
    if (fp_flow_sendable(c, fid)) {
        if (!qm_due(f, now32))
            wheel_insert(p, fid, now + (uint32_t)(f->qm_next_us - now32));
        else
            fp_qm_schedule(c, fid);
    }
    return k;
}

unsigned fp_qm_run(struct fp_core *c, uint64_t now)
{
    struct fp_priv *p = fp_priv(c);
    unsigned segs = 0;

    wheel_advance(c, now);
    uint32_t n = p->ready_tail - p->ready_head;
    while (n-- > 0 && segs < FP_QM_BUDGET) {
        uint32_t fid = p->ready[p->ready_head++ & p->ready_mask];
        p->side[fid].in &= (uint8_t)~FP_IN_READY;
        if (unlikely(!fp_flow_mine(c, fid)))
            continue;
        struct fp_flow *f = &fp.flows[fid];
        if (likely(f->rate_kbps == 0)) {
            uint32_t bytes;
            segs += fp_tx_flow(c, fid, FP_QM_FLOW_BURST, now, &bytes);
            if (fp_flow_sendable(c, fid))
                fp_qm_schedule(c, fid);
        } else {
            segs += qm_rate_limited(c, fid, now);
        }
    }
    return segs;
}
