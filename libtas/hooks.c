/* hooks.c - the POSIX layer plugs into the core.
 *
 * The core (ctx.c) knows nothing of descriptors or epoll; what it must
 * tell this layer goes through the hooks set here, once, before the
 * process first registers with tasd: a socket's readiness may have changed
 * (epoll.c), a socket object goes (epoll.c), tasd exited under a listener
 * (fallback.c), and which descriptors are the core's own (fdtab.c).  The
 * fork() handlers (fork.c) are installed at the same time.
 */
#include "libtas/internal.h"

static const struct tas_hooks hooks = {
    .sock_changed = tas_epoll_sock_changed,
    .sock_gone = tas_epoll_sock_gone,
    .listener_lost = tas_listener_to_kernel,
    .fd_own = tas_fd_internal,
    .fd_forget = tas_fd_internal_forget,
};

static pthread_once_t once = PTHREAD_ONCE_INIT;

static void start(void)
{
    tas_hooks_set(&hooks);
    tas_fork_watch();
}

void tas_core_start(void)
{
    pthread_once(&once, start);
}

int tas_ctx_open(void)
{
    int st = __atomic_load_n(&tas_ctx.state, __ATOMIC_ACQUIRE);
    if (likely(st != TAS_CTX_NONE))
        return st;
    tas_core_start();
    return tas_ctx_ensure();
}
