/* sock.c - socket objects: lifetime, flows, and the lists they live on.
 *
 * A struct tc_sock exists for each tasd TCP socket the application holds
 * (the layer above names it by a descriptor) and for each connection tasd
 * has handed over but the application has not accepted yet.  It is counted:
 * the fd table, the flow table (while tasd's flow is ours), the accept list,
 * the list of LISTEN/CONNECT requests in flight and any call running on it
 * each hold a reference, so a socket the application closes lives on until
 * tasd says CLOSED.
 *
 * Flows: tasd names a connection by (flow id, generation).  flows[id] maps it
 * to its socket; an entry from tasd whose generation differs is stale.  When
 * tasd frees a flow (CLOSED) its ring buffers may be reused for another
 * connection at once, so unread received data is copied out first.
 */
#include <stdlib.h>
#include <string.h>

#include "libtas/core/core.h"

/* A socket no descriptor names yet (the layer above gives it one). */
struct tc_sock *tc_sock_new(void)
{
    struct tc_ctx *c = &tc_ctx;
    struct tc_sock *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return NULL;
    s->obj.kind = TC_OBJ_SOCK;
    s->fd = -1;
    s->refs = 1;
    s->serial = ++c->next_serial;
    s->local.sin_family = AF_INET;
    s->peer.sin_family = AF_INET;
    s->qc = tc_qc_mine();
    s->all_next = c->all;
    if (c->all != NULL)
        c->all->all_prev = s;
    c->all = s;
    return s;
}

/* tasd tells q about s from now on (it asked from there). */
void tc_sock_set_qc(struct tc_sock *s, struct tc_qctx *q)
{
    if (q == s->qc)
        return;
    s->qc = q;
    if (s->watchers != NULL && tc_hooks.sock_moved != NULL)
        tc_hooks.sock_moved(s);
}

void tc_sock_get(struct tc_sock *s)
{
    s->refs++;
}

void tc_sock_put(struct tc_sock *s)
{
    struct tc_ctx *c = &tc_ctx;
    if (--s->refs != 0)
        return;
    tc_post_drop_sock(s);
    tc_idle_forget(s);
    if (tc_hooks.sock_gone != NULL)
        tc_hooks.sock_gone(s);
    if (s->all_prev != NULL)
        s->all_prev->all_next = s->all_next;
    else if (c->all == s)
        c->all = s->all_next;
    if (s->all_next != NULL)
        s->all_next->all_prev = s->all_prev;
    free(s->rx_priv);
    free(s);
}

void tc_sock_changed(struct tc_sock *s)
{
    s->ev_seq++;
    if (s->watchers != NULL)
        tc_hooks.sock_changed(s);
}

void tc_mark_need_attach(struct tc_sock *s)
{
    s->need_attach = true;
    tc_ctx.attach_pending = true;
    tc_sock_changed(s);
}

/* ------------------------------------------------------------ flows */

bool tc_bufs_valid(const struct tas_conn_bufs *b)
{
    const struct tas_region_hdr *h = &tc_ctx.hdr;
    /* The slot is in the buffer area; the rings, at their largest, in the
     * slot: rx from rx_at up, tx from rx_at down. */
    return b->rx_size != 0 && b->tx_size != 0 && b->rx_size <= b->rx_max &&
           b->tx_size <= b->tx_max && b->slot < h->max_conns && h->slot_size != 0 &&
           (uint64_t)h->max_conns * h->slot_size <= h->buf_size &&
           b->tx_max <= h->rx_at && (uint64_t)h->rx_at + b->rx_max <= h->slot_size;
}

void tc_sock_set_rings(struct tc_sock *s, uint8_t *region, const struct tas_region_hdr *h,
                       const struct tas_conn_bufs *b)
{
    s->rx_base = region + tas_slot_rx_off(h, b->slot);
    s->rx_size = b->rx_size;
    s->rx_max = b->rx_max;
    s->tx_end = s->rx_base;
    s->tx_size = b->tx_size;
    s->tx_max = b->tx_max;
    s->tx_base = s->tx_end - s->tx_size;
    s->tx_tight = false;
    s->info = (const struct tas_flow_info *)(region + tas_slot_info_off(h, b->slot));
}

int tc_flow_install(struct tc_sock *s, uint32_t flow, uint32_t gen,
                    const struct tas_conn_bufs *b, uint16_t fp_core, uint16_t mss)
{
    struct tc_ctx *c = &tc_ctx;

    if (flow >= c->hdr.max_flows || fp_core >= c->hdr.n_fp) {
        c->stats.bad_flow++;
        return -EINVAL;
    }
    if (!tc_bufs_valid(b)) {
        c->stats.bad_bufs++;
        return -EINVAL;
    }
    struct tc_sock *old = c->flows[flow];
    if (old != NULL) {
        if (old->gen == gen) {
            c->stats.bad_flow++;
            return -EEXIST;
        }
        tc_flow_release(old); /* tasd reused the id: the old flow is over */
    }
    c->flows[flow] = s;
    tc_sock_get(s);
    s->flow_live = true;
    s->was_connected = true;
    s->flow = flow;
    s->gen = gen;
    s->fp_core = fp_core;
    s->mss = mss;
    tc_sock_set_rings(s, (uint8_t *)c->region, &c->hdr, b);
    s->rx_head = 0;
    s->rx_ready = 0;
    s->tx_tail = 0;
    s->tx_free = b->tx_size;
    s->pend_rx = s->pend_tx = 0;
    s->pend_tx_pre = s->pend_tx_size = 0;
    s->pend_push = false;
    return 0;
}

struct tc_sock *tc_flow_lookup(uint32_t flow, uint32_t gen)
{
    struct tc_ctx *c = &tc_ctx;
    if (flow >= c->hdr.max_flows || c->flows == NULL)
        return NULL;
    struct tc_sock *s = c->flows[flow];
    return s != NULL && s->gen == gen ? s : NULL;
}

/* tasd freed the flow (or reused its id).  Drops the flow table's reference:
 * the caller must not use s afterwards unless it holds its own. */
void tc_flow_release(struct tc_sock *s)
{
    struct tc_ctx *c = &tc_ctx;

    if (!s->flow_live)
        return;
    tc_post_drop_sock(s);
    if (c->flows != NULL && s->flow < c->hdr.max_flows && c->flows[s->flow] == s)
        c->flows[s->flow] = NULL;
    s->flow_live = false;
    if (!s->app_closed && s->rx_ready > 0 && s->rx_priv == NULL) {
        uint8_t *p = malloc(s->rx_ready);
        if (p != NULL) {
            struct iovec v = {p, s->rx_ready};
            tc_ring_read(s->rx_base, s->rx_size, s->rx_head, &v, 1, 0, s->rx_ready);
            s->rx_size = s->rx_ready;
            s->rx_head = 0;
        } else {
            s->rx_ready = 0;
        }
        s->rx_base = p;
        s->rx_priv = p;
    } else if (s->rx_priv == NULL) {
        s->rx_ready = 0;
        s->rx_base = NULL;
    }
    s->tx_base = s->tx_end = NULL;
    s->info = NULL;
    s->tx_free = 0;
    if (!s->app_closed && !s->reset && !(s->rd_eof && s->wr_shut)) {
        /* Freed under a live connection: the application sees a reset. */
        s->reset = true;
        if (s->so_error == 0)
            s->so_error = ECONNRESET;
    }
    s->rd_eof = true;
    s->wr_shut = true;
    if (s->state == TC_SS_CONNECTED)
        s->state = TC_SS_CLOSED;
    tc_sock_changed(s);
    tc_sock_put(s);
}

/* ------------------------------------------------------------ lists */

void tc_pending_add(struct tc_sock *s)
{
    if (s->pending)
        return;
    tc_sock_get(s);
    s->pending = true;
    s->pnext = tc_ctx.pending;
    tc_ctx.pending = s;
}

/* Unlinks the request with this opaque; the list's reference passes to the
 * caller. */
struct tc_sock *tc_pending_take(uint64_t opaque)
{
    for (struct tc_sock **pp = &tc_ctx.pending; *pp != NULL; pp = &(*pp)->pnext) {
        struct tc_sock *s = *pp;
        if (s->serial == opaque) {
            *pp = s->pnext;
            s->pnext = NULL;
            s->pending = false;
            return s;
        }
    }
    return NULL;
}

void tc_listener_add(struct tc_sock *s)
{
    if (s->listed)
        return;
    tc_sock_get(s);
    s->listed = true;
    s->lnext = tc_ctx.listeners;
    tc_ctx.listeners = s;
}

/* s (a connection) waits to be accepted on l; the accept queue takes the
 * caller's reference. */
void tc_listener_enqueue(struct tc_sock *l, struct tc_sock *s)
{
    if (l->acc_tail != NULL)
        l->acc_tail->acc_next = s;
    else
        l->acc_head = s;
    l->acc_tail = s;
    l->acc_len++;
    tc_sock_changed(l);
}

void tc_listener_remove(struct tc_sock *s)
{
    if (!s->listed)
        return;
    for (struct tc_sock **pp = &tc_ctx.listeners; *pp != NULL; pp = &(*pp)->lnext) {
        if (*pp == s) {
            *pp = s->lnext;
            break;
        }
    }
    s->listed = false;
    s->lnext = NULL;
    tc_sock_put(s);
}

struct tc_sock *tc_listener_find(uint32_t id)
{
    for (struct tc_sock *s = tc_ctx.listeners; s != NULL; s = s->lnext)
        if (s->state == TC_SS_LISTENING && s->listener == id)
            return s;
    return NULL;
}

/* tasd exited under a listening socket: connections not accepted yet are
 * lost; the socket stays a listener, quiet (nothing to accept, not
 * readable), until the next tasd takes it (revive.c). */
static void listener_lost(struct tc_sock *s)
{
    while (s->acc_head != NULL) {
        struct tc_sock *c = s->acc_head;
        s->acc_head = c->acc_next;
        c->acc_next = NULL;
        c->app_closed = true;
        tc_flow_release(c);
        tc_sock_put(c);
    }
    s->acc_tail = NULL;
    s->acc_len = 0;
    tc_sock_get(s);
    tc_listener_remove(s);
    if (!s->detached)
        s->dormant = true;
    tc_sock_changed(s);
    tc_sock_put(s);
}

/* tasd exited: every socket fails.  Received data stays readable (the region
 * is still mapped and nobody will write it again). */
void tc_sock_kill_all(int err)
{
    struct tc_ctx *c = &tc_ctx;

    while (c->listeners != NULL)
        listener_lost(c->listeners);

    while (c->pending != NULL) {
        struct tc_sock *s = tc_pending_take(c->pending->serial);
        tc_sock_put(s);
    }
    for (struct tc_sock *s = c->all; s != NULL; s = s->all_next) {
        if (s->detached || s->state == TC_SS_FRESH || s->dormant)
            continue;
        s->dead = true;
        if (s->state == TC_SS_CONNECTING || s->state == TC_SS_LISTEN_WAIT)
            s->state = TC_SS_CLOSED;
        if (s->so_error == 0)
            s->so_error = err;
        s->pend_rx = s->pend_tx = 0;
        s->pend_tx_pre = s->pend_tx_size = 0;
        s->pend_push = false;
        tc_sock_changed(s);
    }
    while (c->dirty != NULL)
        tc_post_drop_sock(c->dirty);
}

int tc_post_listen(struct tc_sock *s, uint16_t port, uint32_t backlog, bool idle)
{
    /* Its kernel socket's inode names it across processes (family), so
     * that those sharing it after fork() are one listener group even for
     * a tasd that did not see the fork (revive.c). */
    struct tas_spin_listen m = {
        .opaque = s->serial,
        .ip = s->local.sin_addr.s_addr,
        .port = port,
        .flags = (uint16_t)((s->reuseport ? TAS_LISTEN_REUSEPORT : 0) |
                            (idle ? TAS_LISTEN_IDLE : 0)),
        .backlog = backlog > 0 ? backlog : 1,
        .rx_size = s->rcvbuf,
        .tx_size = s->sndbuf,
        .cc = s->cc,
        .family = s->kino,
    };
    tc_pending_add(s);
    int r = tc_sp_post(s->qc, TAS_SPIN_LISTEN, &m, sizeof(m));
    if (r != 0)
        tc_sock_put(tc_pending_take(s->serial));
    return r;
}
