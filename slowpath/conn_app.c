/* conn_app.c - an application's requests on its connections (CLOSE,
 * ABORT, SHUTDOWN, KEEPALIVE, CC, ATTACH) and who holds a connection: its
 * creator, the processes that inherited it (fork.c), the owner context
 * that hears about it, and what happens when the last holder closes or
 * dies.  Above conn.c (records, flows, closing states), below app.c.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "slowpath/sp.h"

static void app_bad(struct sp_app *a)
{
    a->bad_entries++;
    sp.cnt.app_bad_entries++;
}

bool sp_conn_held(const struct sp_conn *c, const struct sp_app *a)
{
    return (c->app == a && c->chold) ||
           sp_holds_find(&a->holds, SP_HOLD_FLOW, c->flow, c->gen) >= 0;
}

/* a (which holds c) lets go of it; true if it was the last holder. */
static bool release(struct sp_conn *c, struct sp_app *a)
{
    if (c->app == a && c->chold) {
        c->chold = false;
    } else {
        int i = sp_holds_find(&a->holds, SP_HOLD_FLOW, c->flow, c->gen);
        if (i >= 0)
            sp_holds_del(&a->holds, i);
    }
    if (c->oapp == a)
        sp_conn_set_owner(c, NULL);
    return --c->holders == 0;
}

/* Nobody holds c any more and the last holder did not close it (it died):
 * a connection closed before finishes on its own (an orphan, as in Linux:
 * FIN after the queued data, then TIME_WAIT or an orphan timeout); the
 * others are reset. */
static void orphaned(struct sp_conn *c)
{
    if (c->state == SP_TCP_CLOSED) {
        c->app_closed = true;
        sp_conn_maybe_free(c);
    } else if (c->state == SP_TCP_SYN_SENT) {
        c->app_closed = true;
        sp_conn_unflow(c, false);
        sp_conn_finish(c);
    } else if (c->app_closed) {
        if (c->state == SP_TCP_FIN_WAIT_2 && c->timer_ms == 0)
            sp_conn_timer(c, sp.now_ms + SP_FIN_WAIT_2_MS);
    } else {
        c->app_closed = true;
        sp.cnt.conn_reset++;
        sp_conn_reset(c, ECONNRESET, true);
    }
}

/* The application closes after reading the peer's FIN (EOF), which the
 * core took before our FP_EV_FIN_RCVD came: that came first on the wire, so
 * the connection is in CLOSE_WAIT and goes to LAST_ACK, not through
 * FIN_WAIT_1 and CLOSING into a TIME_WAIT Linux would not keep.  (The
 * event, when it comes, changes nothing then.) */
static void fin_first(struct sp_conn *c)
{
    if (c->state == SP_TCP_ESTABLISHED && c->fstate == SP_FLOW_INSTALLED &&
        (sp_rd16(&fp.flows[c->flow].flags) & FP_FLOW_FIN_RCVD))
        sp_conn_event(c, SP_TEV_FIN_RCVD);
}

/* The owner of c let go of it (closed its copy, or died) while others
 * still hold it: the connection goes to one of them at once, the creator
 * if it still holds it, else the first application that inherited it.
 * The core sends the new owner TAS_FPOUT_SYNC, which ends its need for
 * ATTACH; so a holder that only waits in poll() or epoll_wait() (which do
 * not attach connections) sees data and EOF again, as every holder of a
 * kernel socket does.  Without this, the connection had no owner until a
 * holder happened to read or write it. */
static void owner_gone(struct sp_conn *c, const struct sp_app *gone)
{
    if (c->oapp != NULL || c->holders == 0 || c->fstate != SP_FLOW_INSTALLED)
        return;
    struct sp_app *n = NULL;
    if (c->app != NULL && c->app != gone && c->chold && !c->app->dying)
        n = c->app;
    for (struct sp_app *a = sp.apps; n == NULL && a != NULL; a = a->next)
        if (a != gone && !a->dying &&
            sp_holds_find(&a->holds, SP_HOLD_FLOW, c->flow, c->gen) >= 0)
            n = a;
    if (n == NULL)
        return;
    for (uint16_t i = 0; i < n->max_ctx; i++) {
        if (!n->ctxs[i].used)
            continue;
        if (sp_cmd(c->core, FP_CMD_FLOW_MOVE, c->flow, n->ctxs[i].gslot, n->id, NULL,
                   NULL) == 0) {
            sp_conn_set_owner(c, n);
            c->ctx = i;
            c->fp_ctx = n->ctxs[i].gslot;
            sp.cnt.attaches++;
        }
        return;
    }
}

void sp_conn_release_inherited(struct sp_conn *c, struct sp_app *a)
{
    if (a != NULL && c->oapp == a)
        sp_conn_set_owner(c, NULL);
    if (c->holders > 0 && --c->holders == 0)
        orphaned(c);
    else
        owner_gone(c, a);
}

void sp_conn_app_req(struct sp_app *a, uint16_t ctx, uint8_t type, const void *body)
{
    struct tas_spin_shutdown r = {0};
    memcpy(&r, body,
           type == TAS_SPIN_SHUTDOWN ? sizeof(r) : sizeof(struct tas_spin_flow));
    /* (KEEPALIVE starts with flow and gen too.) */

    struct sp_conn *c = r.flow < sp.cfg.max_flows ? sp.flow_conn[r.flow] : NULL;
    if (c == NULL || c->gen != r.gen || !c->handed || !sp_conn_held(c, a)) {
        app_bad(a);
        return;
    }
    if (type == TAS_SPIN_CLOSE || type == TAS_SPIN_ABORT) {
        /* close() of one of several copies (fork): only that copy goes. */
        if (!release(c, a)) {
            struct tas_spout_closed cl = {.flow = c->flow, .gen = c->gen};
            sp_app_post(a, ctx, TAS_SPOUT_CLOSED, &cl, sizeof(cl));
            owner_gone(c, a);
            return;
        }
        /* The last one: it hears CLOSED when the flow is freed. */
        sp_conn_set_owner(c, a);
        c->ctx = ctx;
    }
    if (type == TAS_SPIN_CLOSE || type == TAS_SPIN_SHUTDOWN)
        fin_first(c);
    switch (type) {
    case TAS_SPIN_CC: {
        struct tas_spin_cc k;
        memcpy(&k, body, sizeof(k));
        if (k.cc == 0 || k.cc > sp_cc_count()) {
            app_bad(a);
            return;
        }
        c->cc_pick = (uint8_t)k.cc;
        sp_conn_cc_rechoose(c);
        break;
    }
    case TAS_SPIN_KEEPALIVE: {
        struct tas_spin_keepalive k;
        memcpy(&k, body, sizeof(k));
        /* Linux's ranges: idle and interval 1..32767 s, 1..127 probes. */
        if (k.idle_s > 32767 || k.intvl_s == 0 || k.intvl_s > 32767 || k.cnt == 0 ||
            k.cnt > 127) {
            app_bad(a);
            return;
        }
        c->ka_idle_ms = k.idle_s * 1000;
        c->ka_intvl_ms = k.intvl_s * 1000;
        c->ka_cnt = k.cnt;
        c->ka_sent = 0;
        c->ka_rx_ms = sp.now_ms;
        sp_conn_rearm(c);
        break;
    }
    case TAS_SPIN_CLOSE:
        if (c->app_closed) {
            app_bad(a);
            return;
        }
        c->app_closed = true;
        c->rx_late_mark = sp_rd32(&fp.flowx[c->flow].rx_late);
        if (c->state == SP_TCP_CLOSED) {
            sp_conn_maybe_free(c);
        } else if (c->fstate == SP_FLOW_INSTALLED && c->state != SP_TCP_ESTABLISHED &&
                   c->state != SP_TCP_CLOSE_WAIT) {
            /* Our FIN went already (shutdown): the core only looks for
             * unread data (FP_EV_CLOSE_UNREAD). */
            sp_cmd(c->core, FP_CMD_FLOW_FIN, c->flow, FP_FIN_CLOSE, 0, NULL, NULL);
        } else {
            /* The core queues our FIN, or finds data unread and we reset
             * (FP_EV_CLOSE_UNREAD). */
            sp_conn_event(c, SP_TEV_CLOSE_WR);
        }
        break;
    case TAS_SPIN_SHUTDOWN:
        if (r.how != SHUT_RD && r.how != SHUT_WR && r.how != SHUT_RDWR) {
            app_bad(a);
            return;
        }
        if (r.how != SHUT_RD && c->fstate == SP_FLOW_INSTALLED)
            sp_conn_event(c, SP_TEV_CLOSE_WR);
        break;
    case TAS_SPIN_ABORT:
        if (c->app_closed) {
            app_bad(a);
            return;
        }
        c->app_closed = true;
        if (c->state == SP_TCP_CLOSED)
            sp_conn_maybe_free(c);
        else
            sp_conn_reset(c, ECONNRESET, true);
        break;
    }
}

/* The application is gone: it lets go of every connection it created (see
 * orphaned() for what happens to a connection nobody holds any more; what
 * it inherited, app.c releases through fork.c).
 * Connections other applications still hold (fork) go on, in this one's
 * region: buffers and ids are released as the cores acknowledge, and the
 * region stays mapped until then. */
void sp_conn_app_gone(struct sp_app *a)
{
    /* It may own a connection it no longer holds (it closed the last copy,
     * which waits for its FIN exchange), or one of another region it
     * attached: no record may point at it once it is freed.  Only an
     * application that attached inherited connections needs the scan. */
    for (struct sp_conn *c = sp.conns; a->n_owned_foreign > 0 && c != NULL; c = c->lnext)
        if (c->oapp == a)
            sp_conn_set_owner(c, NULL);
    struct sp_conn *next;
    for (struct sp_conn *c = a->conns; c != NULL; c = next) {
        next = c->anext;
        if (c->oapp == a)
            sp_conn_set_owner(c, NULL);
        if (c->chold) {
            if (!release(c, a)) {
                owner_gone(c, a);
                continue;
            }
        } else if (c->holders > 0) {
            continue;
        }
        orphaned(c); /* may free c (only c) */
    }
}

static void attached_flow(struct sp_app *a, uint16_t ctx, const struct tas_spin_attach *r,
                          int status, const struct tas_flow_sync *st)
{
    struct tas_spout_attached o = {.opaque = r->opaque,
                                   .status = status,
                                   .kind = TAS_ATTACH_FLOW,
                                   .id = r->id,
                                   .gen = r->gen};
    if (st != NULL)
        o.st = *st;
    sp_app_post(a, ctx, TAS_SPOUT_ATTACHED, &o, sizeof(o));
}

void sp_conn_attach(struct sp_app *a, uint16_t ctx, const struct tas_spin_attach *r)
{
    struct sp_conn *c = r->id < sp.cfg.max_flows ? sp.flow_conn[r->id] : NULL;
    if (c == NULL || c->gen != r->gen || !c->handed || !sp_conn_held(c, a) ||
        ctx >= a->max_ctx) {
        attached_flow(a, ctx, r, -EBADF, NULL);
        return;
    }
    sp.cnt.attaches++;
    if (c->oapp == a && c->ctx == ctx && c->fstate == SP_FLOW_INSTALLED) {
        /* It came to this context already (owner_gone); the SYNC it got
         * then is the state, a second one would undo its use since. */
        attached_flow(a, ctx, r, -EALREADY, NULL);
        return;
    }
    /* Another application loses it.  Within one application (a thread
     * taking a connection over from another thread's context) nothing is
     * detached: the library drops what the old context still gets once it
     * asked, and the SYNC on the new one carries everything. */
    if (c->oapp != NULL && c->oapp != a) {
        struct tas_spout_detached d = {.flow = c->flow, .gen = c->gen};
        sp_app_post(c->oapp, c->ctx, TAS_SPOUT_DETACHED, &d, sizeof(d));
    }
    sp_conn_set_owner(c, a);
    c->ctx = ctx;
    if (c->fstate == SP_FLOW_INSTALLED) {
        /* The core answers with TAS_FPOUT_SYNC to the new context. */
        if (sp_cmd(c->core, FP_CMD_FLOW_MOVE, c->flow, a->ctxs[ctx].gslot, a->id, NULL,
                   NULL) != 0)
            attached_flow(a, ctx, r, -ENOBUFS, NULL);
        else
            c->fp_ctx = a->ctxs[ctx].gslot;
        return;
    }
    /* The core let go of it: its state is final. */
    struct tas_flow_sync st;
    fp_flow_sync(&fp.flows[c->flow], &st);
    if (c->reset_err != 0)
        c->notified = true;
    attached_flow(a, ctx, r, c->reset_err != 0 ? -c->reset_err : 0, &st);
}

int sp_conn_ctx_gone(struct sp_app *a, uint16_t ctx)
{
    uint16_t from = a->ctxs[ctx].gslot, to = a->ctxs[0].gslot;
    int err = 0;
    for (struct sp_conn *c = sp.conns; c != NULL; c = c->lnext) {
        if (c->oapp == a && c->ctx == ctx)
            c->ctx = 0;
        if (c->fstate != SP_FLOW_INSTALLED || c->fp_ctx != from)
            continue;
        if (sp_cmd(c->core, FP_CMD_FLOW_RECTX, c->flow, to, 0, NULL, NULL) == 0)
            c->fp_ctx = to;
        else
            err = -ENOBUFS;
    }
    return err;
}
