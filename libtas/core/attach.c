/* attach.c - using a tasd socket that another process used last.
 *
 * After fork() parent and child both hold the tasd sockets the parent had
 * (fork.c records this with tasd).  Data and events of a connection go to
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
 * nobody holds it any more.  tasd's answers (ATTACHED, DETACHED,
 * FPOUT_SYNC) are applied by attached.c, as events.c meets them.
 *
 * Within one process a connection moves the same way between threads'
 * contexts (qctx.c), so that tasd wakes the thread that uses it: the first
 * time a thread reads or writes a connection (or adds it to its epoll
 * set) that another context hears about, it sends ATTACH from its own
 * context and waits for the SYNC (tc_sock_take).  That happens once per
 * connection, so two threads that both use one never bounce it; a
 * dispatcher that accepts and hands connections to workers (memcached)
 * gives each to the worker that serves it.  Before asking, everything
 * written is posted (the fast path applies it before it moves the flow);
 * what the old context still gets is dropped (events.c), since the SYNC
 * says it all.
 */
#include <string.h>

#include "libtas/core/core.h"

#define ATTACH_TIMEOUT_MS 5000

static bool attach_done(void *arg)
{
    const struct tc_sock *s = arg;
    return !s->attach_wait || tc_ctx.state != TC_CTX_READY;
}

void tc_sock_take(struct tc_sock *s)
{
    struct tc_ctx *c = &tc_ctx;

    if (likely(s->moved) || s->qc == NULL || c->state != TC_CTX_READY || !c->thread_ctx ||
        s->state != TC_SS_CONNECTED || !s->flow_live || s->need_attach ||
        s->attach_wait || s->app_closed || s->reset || s->dead || s->detached ||
        s->rx_priv != NULL || s->idle_ask || s->idle_wait || tc_foreign())
        return;
    struct tc_qctx *q = tc_qc_mine();
    if (q == s->qc || q == NULL || !q->owned)
        return; /* its own already, or this thread shares a context */
    tc_fp_flush();
    if (s->dirty)
        return; /* its updates wait for room: not now */
    s->moved = s->moving = true;
    s->move_from = s->qc;
    s->need_attach = true; /* (cleared by the answer; retried if none) */
    c->moves++;
    tc_sock_attach(s);
    tc_wake_all(); /* waiters for the old context wait for it no more */
}

int tc_sock_attach(struct tc_sock *s)
{
    struct tc_ctx *c = &tc_ctx;

    if (tc_foreign())
        return 0; /* a vfork() child (about to exec): the socket stays ours */
    if (c->state != TC_CTX_READY) {
        s->need_attach = false;
        return 0; /* tasd is gone: the socket fails as every other */
    }
    if (!s->attach_wait) {
        struct tas_spin_attach a = {.opaque = ++c->next_serial};
        if (s->state == TC_SS_LISTENING) {
            a.kind = TAS_ATTACH_LISTENER;
            a.id = s->listener;
        } else {
            a.kind = TAS_ATTACH_FLOW;
            a.id = s->flow;
            a.gen = s->gen;
        }
        s->attach_serial = a.opaque;
        s->attach_wait = true;
        tc_sock_set_qc(s, tc_qc_mine()); /* tasd gives it to this context */
        int r = tc_sp_post(s->qc, TAS_SPIN_ATTACH, &a, sizeof(a));
        if (r != 0) {
            s->attach_wait = false;
            return r;
        }
    }
    struct timespec dl;
    tc_deadline_ms(&dl, ATTACH_TIMEOUT_MS);
    int r;
    do
        r = tc_wait(tc_qc_bit(s->qc), attach_done, s, &dl, NULL, 0, NULL);
    while (r == -EINTR);
    if (s->attach_wait && c->state == TC_CTX_READY)
        return -ETIMEDOUT; /* tried again on the next call */
    return 0;
}
