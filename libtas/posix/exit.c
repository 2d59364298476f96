/* exit.c - the process ends: its connections end as the kernel's would.
 *
 * At exit the kernel closes every descriptor, and a TCP socket with it
 * gracefully: what was written goes out, then a FIN.  tasd resets whatever
 * an application still holds when app.sock closes, so before the process
 * goes (a destructor; _exit() through the interposed names) this posts
 * what is pending and a CLOSE for each connection a descriptor still
 * names; tasd takes the requests an application queued before it went.
 */
#include <time.h>

#include "libtas/posix/posix.h"

/* Best effort: skipped if another thread holds the lock; waits at most
 * EXIT_FLUSH_MS for full queues. */
#define EXIT_FLUSH_MS 100

static bool exit_flush(void)
{
    struct timespec ms = {0, 1000000L};
    for (int i = 0; i < EXIT_FLUSH_MS; i++) {
        tc_sp_flush();
        tc_fp_flush();
        if (!tc_post_pending() || tc_ctx.state != TC_CTX_READY)
            return true;
        tc_unlock();
        nanosleep(&ms, NULL);
        if (pthread_mutex_trylock(&tc_ctx.lock) != 0)
            return false;
    }
    return true;
}

void tp_exit_close_all(void)
{
    struct tc_ctx *c = &tc_ctx;

    if (__atomic_load_n(&c->state, __ATOMIC_ACQUIRE) != TC_CTX_READY ||
        pthread_mutex_trylock(&c->lock) != 0)
        return;
    for (struct tc_sock *s = c->all; s != NULL; s = s->all_next)
        if (s->fd >= 0 && !s->app_closed && !s->detached && s->flow_live &&
            s->state == TC_SS_CONNECTED && !s->reset && !s->close_posted) {
            tc_post_flow_ctrl(s, TAS_SPIN_CLOSE, 0);
            s->close_posted = s->wr_shut = true;
        }
    if (exit_flush())
        tc_unlock();
}

__attribute__((destructor)) static void at_exit(void)
{
    tp_exit_close_all();
}
