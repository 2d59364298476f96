/* post.c - entries the library sends to tasd, and its doorbells.
 *
 * Requests for the slow path (listen, connect, accepted, close, ...) go on
 * the sp_in queue of the socket's context (qctx.c), followed every time by a
 * write to the slow-path doorbell.  If sp_in is full they wait, in order, on
 * a private overflow list (tas/parkq.h, the slow path's own for sp_out) that
 * is retried on every later call and before sleeping.
 *
 * Data progress for the fast path ("wrote N bytes", "consumed N bytes") is
 * kept per socket (pend_tx, pend_rx) and coalesced into one TAS_FPIN_UPDATE
 * on its context's queue for the flow's core, fp_in[fp_core]: one queue per
 * flow, so the fast path sees its entries in order.  A socket with unposted
 * progress is on the dirty list until its entry fits: an update is never
 * dropped.  After a batch, each core written to is kicked if it sleeps.  A
 * corked socket's entries carry TAS_FPIN_MORE (TCP_CORK, or its last write
 * had MSG_MORE); uncorking (or TCP_NODELAY set on a corked socket, as Linux)
 * posts an entry without it, with or without bytes, so what waits goes.
 */
#include <stdlib.h>
#include <string.h>

#include <netinet/tcp.h>

#include "libtas/core/core.h"

static void ring_doorbell(int fd)
{
    uint64_t one = 1;
    if (fd >= 0)
        (void)!real_write(fd, &one, sizeof(one));
}

int tc_sp_post(struct tc_qctx *q, uint8_t type, const void *body, size_t len)
{
    struct tc_ctx *c = &tc_ctx;

    if (c->state != TC_CTX_READY)
        return 0; /* tasd is gone: nobody to tell */
    if (len > TAS_QE_BODY)
        return -EINVAL;
    if (q == NULL && (q = tc_qc_mine()) == NULL)
        return 0;
    tc_sp_flush();
    int r = tas_parkq_put(&q->sp_over, &q->sp_in, type, body, len, UINT32_MAX);
    if (r < 0)
        return r;
    if (r == 0)
        c->stats.sp_overflow++;
    ring_doorbell(c->sp_db_fd);
    return 0;
}

void tc_sp_flush(void)
{
    struct tc_ctx *c = &tc_ctx;
    bool rung = false;

    for (uint32_t i = 0; i < c->n_qc; i++) {
        struct tc_qctx *q = c->qc[i];
        if (tas_parkq_empty(&q->sp_over))
            continue;
        if (c->state != TC_CTX_READY)
            tas_parkq_clear(&q->sp_over); /* nobody to tell */
        else if (tas_parkq_flush(&q->sp_over, &q->sp_in) > 0)
            rung = true;
    }
    if (rung)
        ring_doorbell(c->sp_db_fd);
}

static bool has_pending(const struct tc_sock *s)
{
    return s->pend_rx != 0 || s->pend_tx != 0 || s->pend_tx_size != 0 || s->pend_push ||
           s->idle_ask;
}

void tc_sock_mark_dirty(struct tc_sock *s)
{
    if (s->dirty || !s->flow_live || !has_pending(s))
        return;
    s->dirty = true;
    s->dnext = tc_ctx.dirty;
    tc_ctx.dirty = s;
}

/* TCP_CORK set (on) or cleared: clearing it pushes everything, what the
 * last write's MSG_MORE held too, as Linux. */
void tc_sock_cork(struct tc_sock *s, bool on)
{
    bool was = s->cork || s->more;
    s->cork = on;
    if (!on) {
        s->more = false;
        if (was)
            tc_sock_push(s);
    }
}

/* What waits for a full segment goes now (the socket may stay corked). */
void tc_sock_push(struct tc_sock *s)
{
    s->pend_push = true;
    tc_sock_mark_dirty(s);
}

static int post_ctrl_now(struct tc_sock *s, uint8_t type, uint32_t how)
{
    if (type == TAS_SPIN_SHUTDOWN) {
        struct tas_spin_shutdown m = {.flow = s->flow, .gen = s->gen, .how = how};
        return tc_sp_post(s->qc, type, &m, sizeof(m));
    }
    struct tas_spin_flow m = {.flow = s->flow, .gen = s->gen};
    return tc_sp_post(s->qc, type, &m, sizeof(m));
}

/* CLOSE, SHUTDOWN or ABORT for the socket's flow, after its pending data. */
int tc_post_flow_ctrl(struct tc_sock *s, uint8_t type, uint32_t how)
{
    tc_fp_flush();
    if (!s->dirty || type == TAS_SPIN_ABORT)
        return post_ctrl_now(s, type, how);
    if (s->n_ctrl >= 2)
        return -ENOBUFS;
    s->ctrl_type[s->n_ctrl] = type;
    s->ctrl_how[s->n_ctrl] = how;
    s->n_ctrl++;
    return 0;
}

static void post_held_ctrl(struct tc_sock *s)
{
    for (uint8_t i = 0; i < s->n_ctrl; i++)
        post_ctrl_now(s, s->ctrl_type[i], s->ctrl_how[i]);
    s->n_ctrl = 0;
}

void tc_post_drop_sock(struct tc_sock *s)
{
    s->n_ctrl = 0;
    if (!s->dirty)
        return;
    for (struct tc_sock **pp = &tc_ctx.dirty; *pp != NULL; pp = &(*pp)->dnext) {
        if (*pp == s) {
            *pp = s->dnext;
            break;
        }
    }
    s->dirty = false;
    s->dnext = NULL;
}

void tc_fp_flush(void)
{
    struct tc_ctx *c = &tc_ctx;
    uint32_t touched = 0;
    struct tc_sock **pp = &c->dirty;

    if (c->state != TC_CTX_READY) {
        while (c->dirty != NULL)
            tc_post_drop_sock(c->dirty);
        return;
    }
    while (*pp != NULL) {
        struct tc_sock *s = *pp;
        if (s->flow_live && has_pending(s) && s->qc != NULL) {
            struct tas_q *q = &s->qc->fp_in[s->fp_core];
            struct tas_fpin *e = tas_q_slot(q);
            if (e == NULL) { /* full: stays dirty, retried later */
                c->stats.fp_full++;
                touched |= 1u << s->fp_core;
                pp = &s->dnext;
                continue;
            }
            *e =
                (struct tas_fpin){.flow = s->flow, .gen = s->gen, .rx_bytes = s->pend_rx};
            if (s->pend_tx_size != 0) { /* written, grown, written (ctxq.h) */
                e->tx_bytes = s->pend_tx_pre;
                e->tx_size = s->pend_tx_size;
                e->tx_tail = s->pend_tx_tail;
                e->tx_post = s->pend_tx;
            } else {
                e->tx_bytes = s->pend_tx;
            }
            if ((s->cork || s->more) && !s->pend_push)
                e->flags = TAS_FPIN_MORE;
            if (s->idle_ask) { /* idle.c: no tx write until the answer */
                e->flags |= TAS_FPIN_IDLE;
                s->idle_ask = false;
                s->idle_wait = true;
            }
            tas_q_push(q, TAS_FPIN_UPDATE);
            touched |= 1u << s->fp_core;
            s->pend_rx = s->pend_tx = 0;
            s->pend_tx_pre = s->pend_tx_size = 0;
            s->pend_push = false;
        }
        *pp = s->dnext;
        s->dirty = false;
        s->dnext = NULL;
        if (s->n_ctrl > 0 && s->flow_live)
            post_held_ctrl(s);
    }
    for (uint32_t core = 0; touched != 0; core++, touched >>= 1)
        if ((touched & 1) && tas_fp_need_kick(c->global, core))
            ring_doorbell(c->fp_db_fd[core]);
}

bool tc_post_pending(void)
{
    if (tc_ctx.dirty != NULL)
        return true;
    for (uint32_t i = 0; i < tc_ctx.n_qc; i++)
        if (!tas_parkq_empty(&tc_ctx.qc[i]->sp_over))
            return true;
    return false;
}

unsigned tc_cc_index(const char *name)
{
    for (unsigned i = 0; i < TAS_CC_MAX; i++) {
        const char *n = tc_ctx.hdr.cc_names[i];
        if (n[0] == '\0')
            break;
        if (strncmp(n, name, sizeof(tc_ctx.hdr.cc_names[i])) == 0)
            return i + 1;
    }
    return 0;
}

int tc_post_cc(struct tc_sock *s)
{
    struct tas_spin_cc m = {.cc = s->cc};
    if (s->cc == 0 || s->need_attach || s->app_closed || s->pending)
        return 0;
    if (s->state == TC_SS_LISTENING) {
        m.kind = TAS_ATTACH_LISTENER;
        m.id = s->listener;
    } else if (s->flow_live) {
        m.kind = TAS_ATTACH_FLOW;
        m.id = s->flow;
        m.gen = s->gen;
    } else {
        return 0;
    }
    return tc_sp_post(s->qc, TAS_SPIN_CC, &m, sizeof(m));
}

/* SO_KEEPALIVE and the TCP_KEEP* values for the socket's flow (what the
 * kernel socket holds, as the layer above read it back; Linux's defaults
 * until then). */
int tc_post_keepalive(struct tc_sock *s)
{
    if (!s->flow_live || s->need_attach || s->app_closed)
        return 0;
    struct tas_spin_keepalive k = {.flow = s->flow, .gen = s->gen};
    k.idle_s = s->ka_idle_s > 0 ? s->ka_idle_s : 7200;
    k.intvl_s = s->ka_intvl_s > 0 ? s->ka_intvl_s : 75;
    k.cnt = s->ka_cnt > 0 ? s->ka_cnt : 9;
    if (!s->keepalive)
        k.idle_s = 0;
    return tc_sp_post(s->qc, TAS_SPIN_KEEPALIVE, &k, sizeof(k));
}
