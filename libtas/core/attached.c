/* attached.c - tasd's answers to ATTACH, and its notice that another
 * process took a connection over (attach.c asks; events.c meets these
 * entries and hands them here).
 *
 * A connection comes back with its whole ring state: FPOUT_SYNC from the
 * fast path that had it, or ATTACHED with the final state if the fast path
 * let go of it; a listener with the id to use from now on.  The ring state
 * is checked against the rings we know before it is used.  DETACHED: the
 * connection is another process's now, and marked to be attached again on
 * its next use here.
 */
#include "libtas/core/core.h"

static struct tc_sock *waiting(uint64_t opaque)
{
    for (struct tc_sock *s = tc_ctx.all; s != NULL; s = s->all_next)
        if (s->attach_wait && s->attach_serial == opaque)
            return s;
    return NULL;
}

/* The ring state tasd reports, checked against the rings we know. */
static void apply_sync(struct tc_sock *s, const struct tas_flow_sync *st)
{
    /* The rings may have grown meanwhile (tas/ctxq.h), never beyond max. */
    if (st->rx_size == 0 || st->rx_size > s->rx_max || st->tx_size == 0 ||
        st->tx_size > s->tx_max || st->rx_unread > st->rx_size ||
        st->rx_head >= st->rx_size || st->tx_free > st->tx_size ||
        st->tx_tail >= st->tx_size) {
        tc_ctx.stats.bad_counts++;
        return;
    }
    s->rx_size = st->rx_size;
    s->tx_size = st->tx_size;
    s->tx_base = s->tx_end - s->tx_size;
    s->pend_tx_pre = s->pend_tx_size = 0;
    s->rx_head = st->rx_head;
    s->rx_ready = st->rx_unread;
    s->tx_tail = st->tx_tail;
    s->tx_free = st->tx_free;
    s->pend_rx = s->pend_tx = 0;
    s->idle_ask = s->idle_wait = false; /* an answer would go to the old owner */
    if (st->flags & TAS_FPOUT_FIN)
        s->rd_eof = true;
}

static void attach_end(struct tc_sock *s)
{
    s->attach_wait = false;
    s->need_attach = false;
    s->moving = false;
    tc_sock_changed(s);
}

void tc_on_sync(struct tc_qctx *q, const struct tas_fpout_sync *y)
{
    struct tc_sock *s = tc_flow_lookup(y->flow, y->gen);
    if (s == NULL || !s->flow_live) {
        tc_ctx.stats.bad_flow++;
        return;
    }
    /* Its news come here from now on, whoever asked (tasd may give a
     * connection to a holder unasked: slowpath/conn_app.c, owner_gone). */
    tc_sock_set_qc(s, q);
    apply_sync(s, &y->st);
    attach_end(s);
}

void tc_on_attached(const struct tas_spout_attached *e)
{
    struct tc_sock *s = waiting(e->opaque);
    if (s == NULL) {
        tc_ctx.stats.unknown_opaque++;
        return;
    }
    if (e->kind == TAS_ATTACH_LISTENER && s->state == TC_SS_LISTENING) {
        if (e->status == 0)
            s->listener = e->id;
        else
            s->detached = true;
    } else if (e->kind == TAS_ATTACH_FLOW && s->flow_live && e->id == s->flow &&
               e->gen == s->gen) {
        if (e->status == -EALREADY) {
            /* Ours already: tasd gave it to us unasked, and the core's
             * FPOUT_SYNC is on its way (it comes on another queue, so it
             * may come after this answer).  Until it is here the state we
             * have is the one from before: wait on. */
            return;
        }
        if (s->moving && e->status != 0 && e->status != -ECONNRESET &&
            e->status != -ETIMEDOUT) {
            /* A move between our own threads failed: it stays where it
             * was (attach.c). */
            tc_sock_set_qc(s, s->move_from);
        } else if (e->status == 0 || e->status == -ECONNRESET ||
                   e->status == -ETIMEDOUT) {
            apply_sync(s, &e->st);
            if (e->status != 0) {
                s->reset = true;
                s->rd_eof = true;
                s->tx_free = 0;
                s->so_error = -e->status;
            }
        } else {
            s->detached = true;
        }
    } else {
        tc_ctx.stats.bad_entries++;
        return;
    }
    attach_end(s);
}

void tc_on_detached(const struct tas_spout_detached *e)
{
    struct tc_sock *s = tc_flow_lookup(e->flow, e->gen);
    if (s == NULL) {
        tc_ctx.stats.bad_flow++;
        return;
    }
    /* Updates not posted yet would be refused now: they are the new
     * owner's business (it got the whole state). */
    tc_post_drop_sock(s);
    s->pend_rx = s->pend_tx = 0;
    s->pend_tx_pre = s->pend_tx_size = 0;
    s->pend_push = false;
    s->idle_ask = s->idle_wait = false; /* no answer comes to us now */
    tc_mark_need_attach(s);
}
