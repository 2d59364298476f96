/* leave.c - a thread's exit: its context goes back to tasd.
 *
 * When a thread that had a context of its own exits (qctx.c calls
 * tc_qc_left), and nothing of the process needs that context any more,
 * the library gives it back with CTX_DEL on app.sock (tas/msg.h).  tasd
 * takes what its sp_in holds, sends what still points at it (connections
 * the thread closed, which finish) to the process's first context and
 * answers; after that answer the slow path posts nothing there, so the
 * library reads the context a last time, moves those closed sockets to the
 * first context too, and leaves the object vacant for a later thread.
 * Otherwise (an open socket still hears about its connection there) the
 * context stays with the process and the next new thread takes it over.
 */
#include <unistd.h>

#include "libtas/core/core.h"

#define DEL_TIMEOUT_MS 5000

/* Nothing of the process needs q any more: no open socket points at it
 * (closed ones that finish may), none moves from it, no entry waits for
 * room in its sp_in, nobody sleeps on it.  The first context always
 * stays. */
static bool unused(const struct tc_qctx *q)
{
    const struct tc_ctx *c = &tc_ctx;
    if (c->state != TC_CTX_READY || !c->thread_ctx || q == c->qc[0] ||
        q->leader != NULL || !tas_parkq_empty(&q->sp_over))
        return false;
    for (const struct tc_sock *s = c->all; s != NULL; s = s->all_next)
        if ((s->qc == q && (!s->app_closed || s->moving)) || s->move_from == q)
            return false;
    return true;
}

void tc_qc_left(struct tc_qctx *q)
{
    struct tc_ctx *c = &tc_ctx;
    struct tas_msg m = {.type = TAS_MSG_CTX_DEL,
                        .version = TAS_ABI_VERSION,
                        .pid = getpid(),
                        .ctx = q->id};
    struct tas_msg r;
    int n = 0, fd;

    if (!unused(q))
        return;
    /* Under tc_lock: nobody else reads app.sock meanwhile (alive.c).  On
     * any error the context stays as it is. */
    if (tc_msg_send(c->app_fd, &m) != 0)
        return;
    struct pollfd p = {.fd = c->app_fd, .events = POLLIN};
    if (real_poll(&p, 1, DEL_TIMEOUT_MS) != 1)
        return;
    int err = tc_msg_recv(c->app_fd, &r, &fd, 1, &n);
    tc_close_fds(&fd, n);
    if (err != 0 || r.type != TAS_MSG_CTX)
        return;
    (void)tc_process_qc(q);
    for (struct tc_sock *s = c->all; s != NULL; s = s->all_next)
        if (s->qc == q)
            tc_sock_set_qc(s, c->qc[0]);
    tc_qc_vacate(q);
}
