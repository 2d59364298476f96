/* cmd.c - commands from the slow path (struct fp_cmd on the core's cmd
 * ring): install and remove flows, queue our FIN, retransmit after a
 * timeout, set a flow's rate and cwnd, start and stop polling a context,
 * re-inject a frame.  After each command the core publishes its sequence
 * number in cmd_done (release), which is what lets the slow path reuse a
 * removed flow's id and buffers.
 *
 * The slow path is trusted, but a flow it hands over is still checked for
 * the values that would make us write outside its rings.
 */
#include <stdio.h>

#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "common/proto.h"
#include "fastpath/flow.h"
#include "fastpath/internal.h"

static const char *flow_check(const struct fp_core *c, const struct fp_flow *f)
{
    if (f->core != c->id)
        return "owned by another core";
    if (f->flags & FP_FLOW_INSTALLED)
        return "already installed";
    if (f->rx_base == NULL || f->tx_base == NULL)
        return "no buffers";
    const struct fp_flow_x *x = &fp.flowx[f - fp.flows];
    if (f->rx_size == 0 || f->rx_size >= 1u << 31 || f->tx_size == 0 ||
        f->tx_size >= 1u << 31 || x->rx_max < f->rx_size || x->tx_max < f->tx_size ||
        x->rx_max >= 1u << 31 || x->tx_max >= 1u << 31)
        return "bad ring size";
    if (f->rx_avail > f->rx_size || f->rx_pos >= f->rx_size || f->tx_pos >= f->tx_size ||
        f->tx_sent > f->tx_size || f->tx_avail > f->tx_size - f->tx_sent)
        return "ring positions out of range";
    if (f->mss == 0 || f->ctx >= FP_MAX_CTX)
        return "bad mss or context";
    if (f->remote_wscale > TAS_TCP_MAX_WSCALE || f->local_wscale > TAS_TCP_MAX_WSCALE)
        return "bad window scale";
    return NULL;
}

static void flow_add(struct fp_core *c, uint32_t fid, uint64_t now)
{
    struct fp_priv *p = fp_priv(c);
    struct fp_flow *f = &fp.flows[fid];
    struct fp_flow_key k;
    const char *why = flow_check(c, f);

    if (why == NULL) {
        fp_flow_key(f, &k);
        if (fp_flowtab_add(c->flow_table, &k, fid) != 0)
            why = "flow table full";
    }
    if (unlikely(why != NULL)) {
        fprintf(stderr, "tasd: fast path core %u: not installing flow %u: %s\n", c->id,
                fid, why);
        if (f->core == c->id && fp_ev_push(c, FP_EV_FLOW_REFUSED, fid, f->gen, 0) != 0)
            c->stats.drops_ring++;
        return;
    }
    struct fp_side *sd = &p->side[fid];
    sd->pend_rx = sd->pend_freed = 0;
    sd->pend = 0; /* list membership (sd->in) may be left from a previous use */
    f->dupacks = 0;
    f->qm_next_us = (uint32_t)now;
    fp_cork_forget(sd); /* a cork deadline of the id's last flow is not its */
    f->flags |= FP_FLOW_INSTALLED;
    if (fp_flow_sendable(c, fid))
        fp_qm_schedule(c, fid);
}

static void flow_del(struct fp_core *c, uint32_t fid)
{
    struct fp_flow *f = &fp.flows[fid];
    struct fp_flow_key k;

    fp_flow_key(f, &k);
    fp_flowtab_del(c->flow_table, &k);
    f->flags &= (uint16_t) ~(FP_FLOW_INSTALLED | FP_FLOW_ACK_NOW | FP_FLOW_DELACK);
    /* Lists still naming fid skip it (fp_flow_mine) when they reach it. */
}

bool fp_ctx_listed(const struct fp_core *c, uint32_t slot)
{
    return fp_priv(c)->ctx_pos[slot] != 0;
}

static void ctx_add(struct fp_core *c, uint32_t slot)
{
    struct fp_priv *p = fp_priv(c);
    struct fp_ctx *ctx = &fp.ctxs[c->id][slot];
    uint32_t ni = ctx->in.mask + 1, no = ctx->out.mask + 1;

    if (ctx->in.ents == NULL || ctx->out.ents == NULL || ctx->hdr == NULL || ni == 0 ||
        (ni & (ni - 1)) != 0 || no == 0 || (no & (no - 1)) != 0) {
        fprintf(stderr,
                "tasd: fast path core %u: context %u has bad queues, not polling it\n",
                c->id, slot);
        return;
    }
    ctx->active = true;
    ctx->held_rounds = 0;
    if (p->ctx_pos[slot] == 0) {
        p->ctx_list[p->n_ctx++] = (uint16_t)slot;
        p->ctx_pos[slot] = p->n_ctx;
    }
}

static void ctx_del(struct fp_core *c, uint32_t slot)
{
    struct fp_priv *p = fp_priv(c);
    uint32_t pos = p->ctx_pos[slot];

    fp.ctxs[c->id][slot].active = false;
    fp.ctxs[c->id][slot].held_rounds = 0;
    if (pos == 0)
        return;
    uint16_t last = p->ctx_list[--p->n_ctx];
    p->ctx_list[pos - 1] = last;
    p->ctx_pos[last] = pos;
    p->ctx_pos[slot] = 0;
}

static void cmd_run(struct fp_core *c, const struct fp_cmd *cmd, uint64_t now)
{
    uint32_t id = cmd->id;

    switch (cmd->type) {
    case FP_CMD_FLOW_ADD:
        if (id < fp.max_flows)
            flow_add(c, id, now);
        return;
    case FP_CMD_CTX_ADD:
        if (id < FP_MAX_CTX)
            ctx_add(c, id);
        return;
    case FP_CMD_CTX_DEL:
        if (id < FP_MAX_CTX)
            ctx_del(c, id);
        return;
    case FP_CMD_PKT:
        if (cmd->mbuf != NULL)
            fp_input(c, cmd->mbuf, now, true);
        return;
    default:
        break;
    }

    /* The rest act on an installed flow of this core. */
    if (id >= fp.max_flows || !fp_flow_mine(c, id))
        return;
    struct fp_flow *f = &fp.flows[id];
    switch (cmd->type) {
    case FP_CMD_FLOW_DEL:
        flow_del(c, id);
        return;
    case FP_CMD_FLOW_FIN:
        /* Every update the application posted before close() first. */
        fp_appq_drain_app(c, f->app_id);
        if ((cmd->arg & FP_FIN_CLOSE) && f->rx_avail < f->rx_size &&
            fp_ev_push(c, FP_EV_CLOSE_UNREAD, id, f->gen, 0) == 0)
            return; /* closed with unread data: a reset, as Linux */
        f->flags |= FP_FLOW_FIN_QUEUED;
        break;
    case FP_CMD_FLOW_RETX:
        if (f->tx_sent == 0 &&
            (f->flags & (FP_FLOW_FIN_SENT | FP_FLOW_FIN_ACKED)) != FP_FLOW_FIN_SENT)
            return; /* acknowledged meanwhile */
        c->retx_bytes += f->tx_sent;
        fp_flow_go_back(f);
        f->dupacks = 0;
        /* Everything goes again: the recovery and the scoreboard are over. */
        fp.flowx[id].in_recovery = 0;
        fp.flowx[id].n_sack = 0;
        fp.flowx[id].rtx_hi = 0;
        c->stats.retx_timeout++;
        break;
    case FP_CMD_FLOW_MOVE: {
        if (cmd->arg >= FP_MAX_CTX)
            return;
        /* What the old owner posted before the move still counts. */
        fp_appq_drain_app(c, f->app_id);
        struct fp_side *sd = &fp_priv(c)->side[id];
        f->ctx = (uint16_t)cmd->arg;
        f->app_id = cmd->arg2;
        /* The SYNC carries the absolute state: no deltas before it. */
        sd->pend_rx = sd->pend_freed = 0;
        sd->pend = (uint8_t)((sd->pend & ~FP_PEND_APP_FIN) | FP_PEND_APP_SYNC);
        fp_notify_add(c, id);
        return;
    }
    case FP_CMD_FLOW_RECTX:
        if (cmd->arg < FP_MAX_CTX)
            f->ctx = (uint16_t)cmd->arg;
        return;
    case FP_CMD_FLOW_PROBE: {
        /* In recovery the first hole again (its retransmission was lost,
         * or nothing clocks the rest out); otherwise the last segment. */
        struct fp_flow_x *x = &fp.flowx[id];
        uint32_t seg = fp_flow_seg_max(f), len = f->tx_sent < seg ? f->tx_sent : seg;
        uint32_t seq = f->tx_una_seq + f->tx_sent - len;
        if (x->in_recovery) {
            uint32_t hole = x->n_sack > 0 ? x->sack_start[0] - f->tx_una_seq : f->tx_sent;
            seq = f->tx_una_seq;
            len = hole < seg ? hole : seg;
            x->rtx_nxt = seq + len;
            x->rtx_hi = f->tx_una_seq + f->tx_sent;
        }
        if (len > 0)
            fp_tx_retx(c, f, seq, len, now);
        return;
    }
    case FP_CMD_FLOW_ECN:
        fp.flowx[id].ecn_each = cmd->arg != 0;
        return;
    case FP_CMD_FLOW_RATE:
        f->rate_kbps = cmd->arg;
        f->cwnd = cmd->arg2;
        if ((int32_t)(f->qm_next_us - (uint32_t)now) > 0)
            f->qm_next_us = (uint32_t)now; /* the new rate applies from now */
        break;
    default:
        return;
    }
    if (fp_flow_sendable(c, id))
        fp_qm_schedule(c, id);
}

unsigned fp_cmds(struct fp_core *c, uint64_t now)
{
    struct fp_cmd cmds[FP_CMD_BURST];
    unsigned n = rte_ring_dequeue_burst_elem(c->cmd_ring, cmds, sizeof(struct fp_cmd),
                                             FP_CMD_BURST, NULL);
    for (unsigned i = 0; i < n; i++) {
        cmd_run(c, &cmds[i], now);
        atomic_store_explicit(&c->cmd_done, cmds[i].seq, memory_order_release);
    }
    return n;
}
