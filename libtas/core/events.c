/* events.c - applying what tasd tells the application.
 *
 * tc_process() drains, for each of the process's contexts (qctx.c) that no
 * other thread sleeps on (wait.c: that one is its leader's to apply), its
 * sp_out queue (slow path: LISTEN_DONE, NEW_CONN, CONNECTED, RESET, CLOSED;
 * ATTACHED and DETACHED go to attached.c) and then each fp_out[c] queue
 * (fast path: FPOUT_UPDATE; FPOUT_SYNC to attached.c) in batches, and
 * applies every entry to the socket it names.  A connection tasd announces
 * on a context belongs to that context; the threads waiting for a context
 * whose entries were applied are woken (wake.c).  Everything in these
 * entries comes from shared memory and is checked first: ids in range,
 * generation current, ring offsets inside the region's buffer area, byte
 * counts within the ring.  A bad entry is counted and ignored.
 *
 * Ordering between the two kinds of queue: a fast-path update can only exist
 * for a flow that tasd announced on sp_out before installing it, so an update
 * for an unknown flow first makes us drain sp_out and look again.  If the
 * flow is still unknown the update is kept in a stash (merged per flow) and
 * applied when its NEW_CONN/CONNECTED shows up: tasd installs a flow in the
 * fast path just before announcing it, so its first data can overtake the
 * announcement.  Updates for a flow that never shows up are forgotten when
 * the id is reused, its CLOSED arrives, or the stash overflows.
 */
#include <stdlib.h>
#include <string.h>

#include "libtas/core/core.h"

#define BATCH     64
#define STASH_MAX 1024

struct tc_stash {
    struct tc_stash *next;
    struct tas_fpout u;
};

static void stash_apply(struct tc_sock *s);

/* Forget every stashed update (a fork child: they were the parent's). */
void tc_stash_clear(void)
{
    while (tc_ctx.stash != NULL) {
        struct tc_stash *n = tc_ctx.stash->next;
        free(tc_ctx.stash);
        tc_ctx.stash = n;
    }
    tc_ctx.n_stash = 0;
}

/* ------------------------------------------------------------ slow path */

static void on_listen_done(const struct tas_spout_listen_done *e)
{
    struct tc_sock *s = tc_pending_take(e->opaque);
    if (s == NULL) {
        tc_ctx.stats.unknown_opaque++;
        return;
    }
    if (s->dormant) {
        tc_revived_listener(s, e->status, e->listener);
    } else if (s->state != TC_SS_LISTEN_WAIT || s->app_closed) {
        /* Closed while we waited: give the listener back. */
        if (e->status == 0) {
            struct tas_spin_unlisten u = {.listener = e->listener};
            tc_sp_post(s->qc, TAS_SPIN_UNLISTEN, &u, sizeof(u));
        }
    } else if (e->status == 0) {
        s->state = TC_SS_LISTENING;
        s->listener = e->listener;
        tc_listener_add(s);
    } else {
        s->state = TC_SS_FRESH;
        s->so_error = e->status < 0 && e->status > -4096 ? -e->status : EPROTO;
    }
    tc_sock_changed(s);
    tc_sock_put(s);
}

static void abort_flow(struct tc_qctx *q, uint32_t flow, uint32_t gen)
{
    struct tas_spin_flow a = {.flow = flow, .gen = gen};
    tc_sp_post(q, TAS_SPIN_ABORT, &a, sizeof(a));
}

static void on_new_conn(struct tc_qctx *q, const struct tas_spout_new_conn *e)
{
    struct tc_ctx *c = &tc_ctx;
    struct tc_sock *l = tc_listener_find(e->listener);

    if (e->flow >= c->hdr.max_flows || e->fp_core >= c->hdr.n_fp ||
        !tc_bufs_valid(&e->bufs)) {
        c->stats.bad_entries++;
        if (e->flow < c->hdr.max_flows)
            abort_flow(q, e->flow, e->gen);
        return;
    }
    if (l == NULL || l->app_closed || l->rd_shut) {
        /* The listener is gone: tasd handed us a connection nobody will take. */
        c->stats.orphan_conns++;
        abort_flow(q, e->flow, e->gen);
        return;
    }
    struct tc_sock *s = tc_sock_new();
    if (s == NULL) {
        abort_flow(q, e->flow, e->gen);
        return;
    }
    s->qc = q; /* where its flow's entries come */
    if (tc_flow_install(s, e->flow, e->gen, &e->bufs, e->fp_core, e->mss) != 0) {
        tc_sock_put(s);
        c->stats.bad_entries++;
        return;
    }
    stash_apply(s);
    s->state = TC_SS_CONNECTED;
    s->bound = true;
    s->local.sin_addr.s_addr = e->local_ip;
    s->local.sin_port = htons(e->local_port);
    s->peer.sin_addr.s_addr = e->remote_ip;
    s->peer.sin_port = htons(e->remote_port);
    s->nodelay = l->nodelay;
    s->cork = l->cork;
    s->keepalive = l->keepalive;
    s->ka_idle_s = l->ka_idle_s;
    s->ka_intvl_s = l->ka_intvl_s;
    s->ka_cnt = l->ka_cnt;
    tc_listener_enqueue(l, s); /* with the reference tc_sock_new gave us */
}

/* The flow CONNECTED names, with the updates that overtook it. */
static int install(struct tc_sock *s, const struct tas_spout_connected *e)
{
    int r = tc_flow_install(s, e->flow, e->gen, &e->bufs, e->fp_core, e->mss);
    if (r == 0)
        stash_apply(s);
    return r;
}

static void on_connected(struct tc_qctx *q, const struct tas_spout_connected *e)
{
    struct tc_ctx *c = &tc_ctx;
    struct tc_sock *s = tc_pending_take(e->opaque);

    if (s == NULL || s->state != TC_SS_CONNECTING) {
        c->stats.unknown_opaque++;
        if (e->status == 0 && e->flow < c->hdr.max_flows)
            abort_flow(q, e->flow, e->gen);
        if (s != NULL)
            tc_sock_put(s);
        return;
    }
    if (e->status != 0) {
        s->state = TC_SS_CLOSED;
        s->so_error = e->status < 0 && e->status > -4096 ? -e->status : ECONNREFUSED;
    } else if (install(s, e) != 0) {
        c->stats.bad_entries++;
        if (e->flow < c->hdr.max_flows && tc_flow_lookup(e->flow, e->gen) == NULL)
            abort_flow(q, e->flow, e->gen);
        s->state = TC_SS_CLOSED;
        s->so_error = EPROTO;
    } else {
        s->state = TC_SS_CONNECTED;
        s->bound = true;
        s->local.sin_addr.s_addr = e->local_ip;
        s->local.sin_port = htons(e->local_port);
        if (s->app_closed) { /* close() raced the handshake */
            struct tas_spin_flow cl = {.flow = e->flow, .gen = e->gen};
            tc_sp_post(s->qc, TAS_SPIN_CLOSE, &cl, sizeof(cl));
        } else {
            if (s->keepalive)
                tc_post_keepalive(s);
            if (s->cc != s->cc_sent) /* TCP_CONGESTION set while connecting */
                tc_post_cc(s);
        }
    }
    tc_sock_changed(s);
    tc_sock_put(s);
}

static void on_reset(const struct tas_spout_reset *e)
{
    struct tc_sock *s = tc_flow_lookup(e->flow, e->gen);
    if (s == NULL) {
        tc_ctx.stats.bad_flow++;
        return;
    }
    int err = e->error;
    if (err != ECONNRESET && err != ETIMEDOUT && err != EPIPE && err != ECONNABORTED &&
        err != EHOSTUNREACH && err != ENETUNREACH)
        err = ECONNRESET;
    s->reset = true;
    s->rd_eof = true;
    s->so_error = err;
    s->tx_free = 0;
    if (s->need_attach) {
        /* Reset while it came to us: no SYNC follows, and what we knew of
         * its rings is another process's view. */
        s->need_attach = s->attach_wait = false;
        if (!s->moving) /* (moving between our threads: the view is ours) */
            s->rx_ready = 0;
        s->moving = false;
    }
    tc_sock_changed(s);
}

static struct tc_stash *stash_take(uint32_t flow, uint32_t gen, bool all_but);

static void on_closed(const struct tas_spout_closed *e)
{
    if (tc_ctx.stash != NULL)
        free(stash_take(e->flow, e->gen, false));
    struct tc_sock *s = tc_flow_lookup(e->flow, e->gen);
    if (s == NULL) {
        tc_ctx.stats.bad_flow++;
        return;
    }
    tc_flow_release(s);
}

static int process_sp(struct tc_qctx *q)
{
    struct tc_ctx *c = &tc_ctx;
    uint8_t body[TAS_QE_BODY] __attribute__((aligned(8)));
    int n = 0;

    for (uint32_t i = 0; i <= c->hdr.q_ents; i++) {
        uint8_t t = tas_q_get(&q->sp_out, body);
        if (t == 0)
            break;
        n++;
        switch (t) {
        case TAS_SPOUT_LISTEN_DONE:
            on_listen_done((const void *)body);
            break;
        case TAS_SPOUT_NEW_CONN:
            on_new_conn(q, (const void *)body);
            break;
        case TAS_SPOUT_CONNECTED:
            on_connected(q, (const void *)body);
            break;
        case TAS_SPOUT_RESET:
            on_reset((const void *)body);
            break;
        case TAS_SPOUT_CLOSED:
            on_closed((const void *)body);
            break;
        case TAS_SPOUT_ATTACHED:
            tc_on_attached((const void *)body);
            break;
        case TAS_SPOUT_DETACHED:
            tc_on_detached((const void *)body);
            break;
        default:
            c->stats.bad_entries++;
            break;
        }
    }
    return n;
}

/* ------------------------------------------------------------ fast path */

static void apply_update(struct tc_sock *s, const struct tas_fpout *u)
{
    struct tc_ctx *c = &tc_ctx;
    bool changed = false;

    if (u->flags & TAS_FPOUT_IDLE)
        s->idle_wait = false; /* the tx ring may be written again (idle.c) */
    if (s->app_closed || !s->flow_live || s->need_attach)
        return; /* (need_attach: a SYNC will say it all) */
    if (u->rx_size != s->rx_size && s->rx_priv == NULL) {
        /* The ring grew in place (tas/ctxq.h); before counting the bytes. */
        if (u->rx_size > s->rx_size && u->rx_size <= s->rx_max)
            s->rx_size = u->rx_size;
        else
            c->stats.bad_counts++;
    }
    if (u->rx_bytes != 0) {
        uint32_t room = s->rx_size - s->rx_ready;
        uint32_t n = u->rx_bytes;
        if (n > room) {
            c->stats.bad_counts++;
            n = room;
        }
        s->rx_ready += n;
        changed = true;
    }
    if (u->tx_freed != 0 && !s->reset) {
        uint32_t used = s->tx_size - s->tx_free - s->pend_tx - s->pend_tx_pre;
        uint32_t n = u->tx_freed;
        if (n > used) {
            c->stats.bad_counts++;
            n = used;
        }
        s->tx_free += n;
        changed = true;
    }
    if ((u->flags & TAS_FPOUT_FIN) && !s->rd_eof) {
        s->rd_eof = true;
        changed = true;
    }
    if (changed) {
        tc_idle_touch(s);
        tc_sock_changed(s);
    }
}

/* Keep an update for a flow we do not know yet; updates for one flow are
 * merged, so the stash holds one entry per (flow, generation). */
static void stash(const struct tas_fpout *u)
{
    struct tc_ctx *c = &tc_ctx;
    struct tc_stash *st;

    for (st = c->stash; st != NULL; st = st->next) {
        if (st->u.flow == u->flow && st->u.gen == u->gen) {
            st->u.rx_bytes += u->rx_bytes;
            st->u.tx_freed += u->tx_freed;
            st->u.flags |= u->flags;
            if (u->rx_size > st->u.rx_size)
                st->u.rx_size = u->rx_size;
            return;
        }
    }
    if (c->n_stash >= STASH_MAX) { /* forget the oldest */
        struct tc_stash **pp = &c->stash;
        while ((*pp)->next != NULL)
            pp = &(*pp)->next;
        st = *pp;
        *pp = NULL;
        c->n_stash--;
        c->stats.bad_flow++;
    } else {
        st = malloc(sizeof(*st));
        if (st == NULL)
            return;
    }
    st->u = *u;
    st->next = c->stash;
    c->stash = st;
    c->n_stash++;
    c->stats.stashed++;
}

/* Drop stashed updates for this flow id: of generation gen, or (all_but)
 * of every generation but gen. */
static struct tc_stash *stash_take(uint32_t flow, uint32_t gen, bool all_but)
{
    struct tc_ctx *c = &tc_ctx;
    struct tc_stash *found = NULL;

    for (struct tc_stash **pp = &c->stash; *pp != NULL;) {
        struct tc_stash *st = *pp;
        if (st->u.flow == flow && (st->u.gen == gen) != all_but) {
            *pp = st->next;
            c->n_stash--;
            if (found == NULL && !all_but) {
                found = st;
                continue;
            }
            free(st);
            continue;
        }
        pp = &st->next;
    }
    return found;
}

/* A flow was installed: apply what arrived for it early; older generations
 * of its id are over. */
static void stash_apply(struct tc_sock *s)
{
    if (tc_ctx.stash == NULL)
        return;
    stash_take(s->flow, s->gen, true);
    struct tc_stash *st = stash_take(s->flow, s->gen, false);
    if (st != NULL) {
        apply_update(s, &st->u);
        free(st);
    }
}

static int process_fp(struct tc_qctx *q, uint32_t core)
{
    struct tc_ctx *c = &tc_ctx;
    uint8_t body[TAS_QE_BODY] __attribute__((aligned(8)));
    int n = 0;

    for (uint32_t i = 0; i <= c->hdr.q_ents; i++) {
        /* (the larger of its two entries: copy no more) */
        static_assert(sizeof(struct tas_fpout) <= sizeof(struct tas_fpout_sync),
                      "larger");
        uint8_t t = tas_q_get_n(&q->fp_out[core], body, sizeof(struct tas_fpout_sync));
        if (t == 0)
            break;
        n++;
        if (t == TAS_FPOUT_SYNC) {
            struct tas_fpout_sync y;
            memcpy(&y, body, sizeof(y));
            tc_on_sync(q, &y);
            continue;
        }
        if (t != TAS_FPOUT_UPDATE) {
            c->stats.bad_entries++;
            continue;
        }
        struct tas_fpout u;
        memcpy(&u, body, sizeof(u));
        struct tc_sock *s = tc_flow_lookup(u.flow, u.gen);
        if (s == NULL && tas_q_ready(&q->sp_out)) {
            n += process_sp(q);
            s = tc_flow_lookup(u.flow, u.gen);
        }
        if (s != NULL && s->qc != q && s->qc != NULL)
            c->stats.stale_ctx++; /* it moved: the SYNC there said it all */
        else if (s != NULL)
            apply_update(s, &u);
        else if (u.flow < c->hdr.max_flows)
            stash(&u);
        else
            c->stats.bad_flow++;
    }
    return n;
}

/* With the lock held: post what is pending, apply what tasd sent on every
 * context.  Returns the number of entries applied; wakes the threads
 * sleeping for the contexts that had any. */
int tc_process_qc(struct tc_qctx *q)
{
    int k = process_sp(q);
    for (uint32_t core = 0; core < tc_ctx.hdr.n_fp; core++)
        k += process_fp(q, core);
    return k;
}

int tc_process(void)
{
    struct tc_ctx *c = &tc_ctx;
    uint64_t woke = 0;
    int n = 0;

    if (unlikely(c->state == TC_CTX_DEAD)) {
        tc_stash_clear(); /* the dead tasd's updates: its flow ids come back */
        tc_ctx_revive_maybe();
    }
    if (c->state != TC_CTX_READY)
        return 0;
    if (tc_post_pending()) {
        tc_sp_flush();
        tc_fp_flush();
    }
    const void *self = tc_qc_self();
    for (uint32_t i = 0; i < c->n_qc; i++) {
        struct tc_qctx *q = c->qc[i];
        /* A context another thread sleeps on is that thread's to apply:
         * tasd wakes it for these entries anyway. */
        if ((q->leader != NULL && q->leader != self) || q->vacant)
            continue;
        int k = tc_process_qc(q);
        if (k > 0)
            woke |= tc_qc_bit(q);
        n += k;
    }
    if (woke != 0)
        tc_wake_for(woke); /* other threads may be waiting for these */
    else
        tc_ctx_check_alive(false);
    return n;
}
