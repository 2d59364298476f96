/* attach.c - using a tasd socket that another process used last.
 *
 * After fork() parent and child both hold the tasd sockets the parent had
 * (conn.c records this with tasd).  Data and events of a connection go to
 * one context at a time, its owner; of a listener, new connections go to
 * the processes that use it.  A socket marked need_attach is one this
 * process holds but does not own right now:
 *   - in a child, every inherited listener and connection;
 *   - in a parent that forked, its listeners (tasd stops giving them
 *     connections, so a prefork master that never accepts gets none);
 *   - a connection another process took over (DETACHED).
 * The first call that uses such a socket (read, write, accept, poll,
 * epoll_ctl, epoll_wait on a set holding it...) sends ATTACH and waits:
 * a connection comes back with its whole ring state (FPOUT_SYNC from the
 * fast path, or ATTACHED with the final state if the fast path let go of
 * it), a listener with the id to use from now on.  close() needs no
 * attach: tasd drops this process's hold and ends the socket only when
 * nobody holds it any more.
 */
#include <string.h>

#include "libtas/internal.h"

#define ATTACH_TIMEOUT_MS 5000

static bool attach_done(void *arg)
{
    const struct tas_sock *s = arg;
    return !s->attach_wait || tas_ctx.state != TAS_CTX_READY;
}

void tas_mark_need_attach(struct tas_sock *s)
{
    s->need_attach = true;
    tas_ctx.attach_pending = true;
    tas_sock_changed(s);
}

int tas_sock_attach(struct tas_sock *s)
{
    struct tas_ctx *c = &tas_ctx;

    if (tas_fd_foreign())
        return 0; /* a vfork() child (about to exec): the socket stays ours */
    if (c->state != TAS_CTX_READY) {
        s->need_attach = false;
        return 0; /* tasd is gone: the socket fails as every other */
    }
    if (!s->attach_wait) {
        struct tas_spin_attach a = {.opaque = ++c->next_serial};
        if (s->state == TAS_SS_LISTENING) {
            a.kind = TAS_ATTACH_LISTENER;
            a.id = s->listener;
        } else {
            a.kind = TAS_ATTACH_FLOW;
            a.id = s->flow;
            a.gen = s->gen;
        }
        s->attach_serial = a.opaque;
        s->attach_wait = true;
        int r = tas_sp_post(TAS_SPIN_ATTACH, &a, sizeof(a));
        if (r != 0) {
            s->attach_wait = false;
            return r;
        }
    }
    struct timespec dl;
    tas_deadline_ms(&dl, ATTACH_TIMEOUT_MS);
    int r;
    do
        r = tas_wait(attach_done, s, &dl, NULL, 0, NULL);
    while (r == -EINTR);
    if (s->attach_wait && c->state == TAS_CTX_READY)
        return -ETIMEDOUT; /* tried again on the next call */
    return 0;
}

/* With the lock held, before looking at readiness: attach listeners that
 * sit in epoll sets (epoll_wait on a set registered before fork()). */
void tas_attach_pending(void)
{
    struct tas_ctx *c = &tas_ctx;
    bool more = false;

    if (!c->attach_pending)
        return;
    for (struct tas_sock *s = c->listeners; s != NULL; s = s->lnext) {
        if (!s->need_attach)
            continue;
        if (s->epitems != NULL)
            tas_sock_attach(s);
        more |= s->need_attach;
    }
    c->attach_pending = more;
}

static struct tas_sock *waiting(uint64_t opaque)
{
    for (struct tas_sock *s = tas_ctx.all; s != NULL; s = s->all_next)
        if (s->attach_wait && s->attach_serial == opaque)
            return s;
    return NULL;
}

/* The ring state tasd reports, checked against the rings we know. */
static void apply_sync(struct tas_sock *s, const struct tas_flow_sync *st)
{
    /* The rings may have grown meanwhile (tas/ctxq.h), never beyond max. */
    if (st->rx_size == 0 || st->rx_size > s->rx_max || st->tx_size == 0 ||
        st->tx_size > s->tx_max || st->rx_unread > st->rx_size ||
        st->rx_head >= st->rx_size || st->tx_free > st->tx_size ||
        st->tx_tail >= st->tx_size) {
        tas_ctx.stats.bad_counts++;
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
    if (st->flags & TAS_FPOUT_FIN)
        s->rd_eof = true;
}

static void attach_end(struct tas_sock *s)
{
    s->attach_wait = false;
    s->need_attach = false;
    tas_sock_changed(s);
}

void tas_on_sync(const struct tas_fpout_sync *y)
{
    struct tas_sock *s = tas_flow_lookup(y->flow, y->gen);
    if (s == NULL || !s->flow_live) {
        tas_ctx.stats.bad_flow++;
        return;
    }
    apply_sync(s, &y->st);
    attach_end(s);
}

void tas_on_attached(const struct tas_spout_attached *e)
{
    struct tas_sock *s = waiting(e->opaque);
    if (s == NULL) {
        tas_ctx.stats.unknown_opaque++;
        return;
    }
    if (e->kind == TAS_ATTACH_LISTENER && s->state == TAS_SS_LISTENING) {
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
        if (e->status == 0 || e->status == -ECONNRESET || e->status == -ETIMEDOUT) {
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
        tas_ctx.stats.bad_entries++;
        return;
    }
    attach_end(s);
}

void tas_on_detached(const struct tas_spout_detached *e)
{
    struct tas_sock *s = tas_flow_lookup(e->flow, e->gen);
    if (s == NULL) {
        tas_ctx.stats.bad_flow++;
        return;
    }
    /* Updates not posted yet would be refused now: they are the new
     * owner's business (it got the whole state). */
    tas_post_drop_sock(s);
    s->pend_rx = s->pend_tx = 0;
    s->pend_tx_pre = s->pend_tx_size = 0;
    tas_mark_need_attach(s);
}
