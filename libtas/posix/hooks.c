/* hooks.c - the POSIX layer plugs into the core.
 *
 * The core (ctx.c) knows nothing of descriptors or epoll; what it must
 * tell this layer goes through the hooks set here, once, before the
 * process first registers with tasd: a socket's readiness may have changed
 * (epoll.c), a socket object goes (epoll.c), tasd exited under a listener
 * (fallback.c), and which descriptors are the core's own (fdtab.c).  The
 * fork() handlers (fork.c) are installed at the same time, and the core's
 * own handler of a thread's exit (leave.c), which sits above the files
 * that make contexts.
 */
#include "libtas/posix/posix.h"

static const struct tc_hooks hooks = {
    .sock_changed = tp_epoll_sock_changed,
    .sock_gone = tp_epoll_sock_gone,
    .sock_moved = tp_epoll_sock_moved,
    .fd_own = tp_fd_internal,
    .fd_forget = tp_fd_internal_forget,
};

static pthread_once_t once = PTHREAD_ONCE_INIT;

static void start(void)
{
    tc_hooks_set(&hooks);
    tc_fork_watch();
    tc_qc_on_exit(tc_qc_left); /* a thread's exit gives its context back */
}

void tp_core_start(void)
{
    pthread_once(&once, start);
}

int tp_ctx_open(void)
{
    int st = __atomic_load_n(&tc_ctx.state, __ATOMIC_ACQUIRE);
    if (unlikely(st == TC_CTX_DEAD)) { /* a new socket: is tasd back? */
        tc_lock();
        tc_process(); /* looks (revive.c) */
        tc_unlock();
        st = __atomic_load_n(&tc_ctx.state, __ATOMIC_ACQUIRE);
    }
    if (likely(st != TC_CTX_NONE))
        return st;
    tp_core_start();
    return tc_ctx_ensure();
}
