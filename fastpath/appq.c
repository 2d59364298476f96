/* appq.c - the application side of a fast-path core.
 *
 * In: each active context's fp_in queue for this core carries
 * TAS_FPIN_UPDATE entries ("tx_bytes more to send", "rx_bytes consumed",
 * TAS_FPIN_MORE: corked, for cork.c; TAS_FPIN_IDLE: for idle.c, after the
 * counts).
 * They come from application memory, so each is validated against the
 * flow (installed here, app and generation match, byte counts within the
 * ring, no unknown flag) before it changes anything; a bad one is
 * counted, reported to the slow path (FP_EV_APP_BAD; FP_EV_APP_BAD_FLOW
 * when it names the
 * application's own flow with counts that do not fit: the slow path resets
 * that connection) and skipped.  The slow path queues FLOW_ADD before it
 * tells the application of a connection (NEW_CONN, CONNECTED), so the
 * application's first update can arrive before this core has run the
 * command: an update for a flow of this core and generation that is not
 * installed yet is held (its context waits) and retried for a few rounds
 * before it counts as bad, so the bytes written right after accept() or
 * connect() are not lost.
 *
 * Out: what the application and the slow path must hear about a flow (new
 * rx bytes, freed tx bytes, FIN; FIN received/acknowledged) accumulates in
 * the flow's fp_side and the flow goes on the notify list; fp_notify_flush()
 * turns it into one TAS_FPOUT_UPDATE per flow per iteration and the events.
 * When a queue or ring is full the counts stay and the flow stays listed,
 * so nothing is lost.  Each context pushed to is kicked once per flush if
 * its application armed it.
 */
#include <sys/eventfd.h>

#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "tas/ctxq.h"
#include "fastpath/flow.h"
#include "fastpath/internal.h"

int fp_ev_push(struct fp_core *c, uint32_t type, uint32_t flow, uint32_t gen,
               uint32_t arg)
{
    struct fp_event ev = {.type = type, .flow = flow, .gen = gen, .arg = arg};
    if (unlikely(rte_ring_enqueue_elem(c->ev_ring, &ev, sizeof(ev)) != 0))
        return -ENOBUFS;
    fp_priv(c)->sp_kick = true;
    return 0;
}

static void app_bad(struct fp_core *c, uint32_t slot, uint32_t flow, uint32_t gen,
                    uint32_t type)
{
    c->stats.app_refused++;
    if (fp_ev_push(c, type, flow, gen, slot) != 0)
        c->stats.drops_ring++;
}

/* The application grew the flow's tx ring (tas/ctxq.h): it grows down, so
 * every position moves up by the growth.  Valid only upward, within tx_max,
 * with the queued bytes not wrapping; then the entry's tx_post follows. */
static bool tx_grow(struct fp_flow *f, const struct fp_flow_x *x, const struct tas_fpin *e)
{
    uint32_t queued = f->tx_sent + f->tx_avail;
    if (e->tx_size <= f->tx_size || e->tx_size > x->tx_max ||
        (uint64_t)f->tx_pos + queued > f->tx_size || e->tx_post > e->tx_size - queued)
        return false;
    if (e->tx_tail >= e->tx_size)
        return false;
    uint32_t d = e->tx_size - f->tx_size;
    f->tx_base -= d;
    f->tx_size = e->tx_size;
    if (queued == 0) {
        f->tx_pos = e->tx_tail; /* empty: the tail is where the writer says */
    } else {
        f->tx_pos += d; /* < the new size: tx_pos < the old one */
        if (fp_ring_add(f->tx_pos, queued, f->tx_size) != e->tx_tail)
            return false;
    }
    f->tx_avail += e->tx_post;
    return true;
}

static void apply(struct fp_core *c, const struct fp_ctx *ctx, uint32_t slot,
                  const struct tas_fpin *e)
{
    if (unlikely(e->flow >= fp.max_flows || !fp_flow_mine(c, e->flow))) {
        app_bad(c, slot, e->flow, e->gen, FP_EV_APP_BAD);
        return;
    }
    struct fp_flow *f = &fp.flows[e->flow];
    if (unlikely(f->app_id != ctx->app_id || f->gen != e->gen)) {
        app_bad(c, slot, e->flow, e->gen, FP_EV_APP_BAD); /* not its flow (or stale) */
        return;
    }
    /* Its own flow, but the counts do not fit the rings: the application's
     * view of them is broken, and the slow path resets the connection. */
    uint32_t tx_total = e->tx_bytes + e->tx_post;
    bool fin = (f->flags & (FP_FLOW_FIN_QUEUED | FP_FLOW_FIN_TXED)) != 0;
    if (unlikely(e->tx_bytes > f->tx_size - f->tx_sent - f->tx_avail ||
                 e->rx_bytes > f->rx_size - f->rx_avail || tx_total < e->tx_bytes ||
                 (tx_total > 0 && fin) || (e->tx_size == 0 && e->tx_post != 0) ||
                 (e->flags & ~(uint32_t)(TAS_FPIN_MORE | TAS_FPIN_IDLE)) != 0)) {
        app_bad(c, slot, e->flow, e->gen, FP_EV_APP_BAD_FLOW);
        return;
    }
    if (e->tx_bytes > 0)
        f->tx_avail += e->tx_bytes;
    if (tx_total > 0 || e->rx_bytes > 0)
        f->flags &= (uint16_t)~FP_FLOW_RELEASED; /* the rings are in use again */
    if (unlikely(e->tx_size != 0) && !tx_grow(f, &fp.flowx[e->flow], e)) {
        app_bad(c, slot, e->flow, e->gen, FP_EV_APP_BAD_FLOW);
        return;
    }
    if (tx_total > 0)
        fp_qm_schedule(c, e->flow);
    if (unlikely(e->flags & TAS_FPIN_MORE) || unlikely(f->flags & FP_FLOW_CORK))
        fp_cork_update(c, e->flow, e->flags & TAS_FPIN_MORE, tx_total);
    if (e->rx_bytes > 0) {
        uint32_t old = f->rx_avail;
        f->rx_avail += e->rx_bytes;
        /* The ring may grow now that the reader caught up. */
        if (unlikely(f->flags & FP_FLOW_RX_TIGHT) && fp_flow_rx_grow(f, &fp.flowx[e->flow]))
            old = 0;
        /* The peer may be stalled on a small or closed window: tell it. */
        if (old < f->mss || (old >> f->local_wscale) == 0)
            fp_ack_add(c, e->flow);
    }
    if (unlikely(e->flags & TAS_FPIN_IDLE))
        fp_idle_release(c, e->flow);
}

/* A flow the slow path is installing on this core (FLOW_ADD queued, not
 * run yet)?  The slow path fills the entry before it sends FLOW_ADD.  False
 * for every installed flow, so the common case costs one flag test. */
static bool flow_coming(const struct fp_core *c, const struct tas_fpin *e)
{
    if (e->flow >= fp.max_flows)
        return false;
    const struct fp_flow *f = &fp.flows[e->flow];
    return !(f->flags & FP_FLOW_INSTALLED) && f->core == c->id && f->gen == e->gen;
}

/* Take up to max entries from one context. */
static unsigned service_ctx(struct fp_core *c, uint32_t slot, unsigned max)
{
    struct fp_ctx *ctx = &fp.ctxs[c->id][slot];
    unsigned n = 0;

    if (unlikely(ctx->held_rounds != 0)) {
        if (!fp_flow_mine(c, ctx->held.flow) && ctx->held_rounds++ < FP_APPQ_HOLD_ROUNDS)
            return 1; /* still waiting: count it as work, do not sleep */
        ctx->held_rounds = 0;
        apply(c, ctx, slot, &ctx->held); /* installed now, or bad */
        n++;
    }
    for (; n < max; n++) {
        struct tas_fpin e; /* the only entry type: copy just its fields */
        uint8_t t = tas_q_get_n(&ctx->in, &e, sizeof(e));
        if (t == 0)
            break;
        if (unlikely(t != TAS_FPIN_UPDATE)) {
            app_bad(c, slot, FP_NONE, 0, FP_EV_APP_BAD);
            continue;
        }
        if (unlikely(flow_coming(c, &e))) {
            ctx->held = e;
            ctx->held_rounds = 1;
            return n + 1;
        }
        apply(c, ctx, slot, &e);
    }
    return n;
}

unsigned fp_appq_service(struct fp_core *c)
{
    struct fp_priv *p = fp_priv(c);
    unsigned n = 0;
    for (uint32_t i = 0; i < p->n_ctx; i++) {
        const struct fp_ctx *ctx = &fp.ctxs[c->id][p->ctx_list[i]];
        if (likely(ctx->held_rounds == 0) && !tas_q_ready(&ctx->in))
            continue; /* nothing posted: the common case, without a call */
        n += service_ctx(c, p->ctx_list[i], FP_APPQ_BATCH);
    }
    return n;
}

/* Before a FIN is queued: apply every entry the application posted so far,
 * so the FIN goes after all the data it wrote before close(). */
void fp_appq_drain_app(struct fp_core *c, uint32_t app_id)
{
    struct fp_priv *p = fp_priv(c);
    for (uint32_t i = 0; i < p->n_ctx; i++) {
        struct fp_ctx *ctx = &fp.ctxs[c->id][p->ctx_list[i]];
        if (ctx->app_id == app_id)
            service_ctx(c, p->ctx_list[i], ctx->in.mask + 1);
    }
}

bool fp_appq_pending(const struct fp_core *c)
{
    const struct fp_priv *p = fp_priv(c);
    for (uint32_t i = 0; i < p->n_ctx; i++)
        if (tas_q_ready(&fp.ctxs[c->id][p->ctx_list[i]].in))
            return true;
    return false;
}

/* Post the application part of a flow's pending notifications; false if
 * its out queue is full. */
static bool notify_app(struct fp_core *c, struct fp_flow *f, struct fp_side *sd)
{
    struct fp_priv *p = fp_priv(c);
    struct fp_ctx *ctx = &fp.ctxs[c->id][f->ctx];

    if (unlikely(!ctx->active)) {
        sd->pend_rx = sd->pend_freed = 0; /* nobody to tell */
        sd->pend &= (uint8_t)~(FP_PEND_APP_FIN | FP_PEND_APP_IDLE);
        return true;
    }
    if (unlikely(sd->pend & FP_PEND_APP_SYNC)) {
        struct tas_fpout_sync *y = tas_q_slot(&ctx->out);
        if (y == NULL)
            return false;
        y->flow = fp_flow_id(f);
        y->gen = f->gen;
        fp_flow_sync(f, &y->st);
        tas_q_push(&ctx->out, TAS_FPOUT_SYNC);
        sd->pend_rx = sd->pend_freed = 0;
        sd->pend &= (uint8_t)~(FP_PEND_APP_FIN | FP_PEND_APP_SYNC | FP_PEND_APP_IDLE);
        goto kick;
    }
    struct tas_fpout *o = tas_q_slot(&ctx->out);
    if (unlikely(o == NULL))
        return false;
    o->flow = fp_flow_id(f);
    o->gen = f->gen;
    o->rx_bytes = sd->pend_rx;
    o->tx_freed = sd->pend_freed;
    o->flags = ((sd->pend & FP_PEND_APP_FIN) ? TAS_FPOUT_FIN : 0) |
               ((sd->pend & FP_PEND_APP_IDLE) ? TAS_FPOUT_IDLE : 0);
    o->rx_size = f->rx_size;
    tas_q_push(&ctx->out, TAS_FPOUT_UPDATE);
    sd->pend_rx = sd->pend_freed = 0;
    sd->pend &= (uint8_t)~(FP_PEND_APP_FIN | FP_PEND_APP_IDLE);
kick:
    if (p->ctx_stamp[f->ctx] != p->stamp) {
        p->ctx_stamp[f->ctx] = p->stamp;
        p->kick_list[p->n_kick++] = f->ctx;
    }
    return true;
}

/* Post one pending slow-path event; false if the ring is full. */
static bool notify_ev(struct fp_core *c, struct fp_flow *f, struct fp_side *sd,
                      uint8_t bit, uint32_t type)
{
    if (!(sd->pend & bit))
        return true;
    if (fp_ev_push(c, type, fp_flow_id(f), f->gen, 0) != 0)
        return false;
    sd->pend &= (uint8_t)~bit;
    return true;
}

void fp_notify_flush(struct fp_core *c)
{
    struct fp_priv *p = fp_priv(c);
    uint32_t keep = 0;

    if (p->n_notify == 0)
        return;
    p->stamp++;
    p->n_kick = 0;
    for (uint32_t i = 0; i < p->n_notify; i++) {
        uint32_t fid = p->notify[i];
        struct fp_side *sd = &p->side[fid];
        struct fp_flow *f = &fp.flows[fid];
        bool done = true;

        if (unlikely(!fp_flow_mine(c, fid))) {
            sd->pend_rx = sd->pend_freed = 0;
            sd->pend = 0;
        } else {
            if (sd->pend_rx != 0 || sd->pend_freed != 0 ||
                (sd->pend & (FP_PEND_APP_FIN | FP_PEND_APP_SYNC | FP_PEND_APP_IDLE)))
                done = notify_app(c, f, sd);
            done &= notify_ev(c, f, sd, FP_PEND_EV_FIN_RCVD, FP_EV_FIN_RCVD);
            done &= notify_ev(c, f, sd, FP_PEND_EV_FIN_ACKED, FP_EV_FIN_ACKED);
        }
        if (done)
            sd->in &= (uint8_t)~FP_IN_NOTIFY;
        else
            p->notify[keep++] = fid;
    }
    p->n_notify = keep;

    for (uint32_t i = 0; i < p->n_kick; i++) {
        struct fp_ctx *ctx = &fp.ctxs[c->id][p->kick_list[i]];
        if (tas_ctx_need_kick(ctx->hdr)) {
            (void)eventfd_write(ctx->efd, 1);
            c->stats.app_kicks++;
        }
    }
}
