/* ctx.c - the process's registration with tasd, its lock, and what the
 * core tells the layer above.
 *
 * struct tc_ctx is what the process shares: the region, the sockets, the
 * flow table, and its contexts (one per thread, qctx.c).  Every thread
 * works on it under tc_lock, so each queue still has exactly one producer
 * and one consumer.  register.c fills it in, alive.c notices tasd's exit,
 * fork.c starts a child's afresh.
 *
 * The core (this file and the others that know nothing of descriptors)
 * reports to the POSIX layer above it through the hooks the latter sets
 * before the first registration: a socket's readiness may have changed, a
 * socket object is about to go, a listener lost tasd, and which descriptors
 * are the core's own.  The core never calls up otherwise.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/resource.h>
#include <unistd.h>

#include "libtas/core/core.h"

struct tc_ctx tc_ctx = {
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .state = TC_CTX_NONE,
    .app_fd = -1,
    .region_fd = -1,
    .sp_db_fd = -1,
    .fp_db_fd = {-1, -1, -1, -1, -1, -1, -1, -1},
    .fallback_ok = true,
};

struct tc_hooks tc_hooks;

static _Atomic pid_t owner;
static int said_fork;

void tc_hooks_set(const struct tc_hooks *h)
{
    tc_hooks = *h;
}

void tc_lock(void)
{
    pthread_mutex_lock(&tc_ctx.lock);
}
void tc_unlock(void)
{
    pthread_mutex_unlock(&tc_ctx.lock);
}

void tc_say_once(int *flag, const char *fmt, ...)
{
    char buf[512];
    va_list ap;

    if (__atomic_exchange_n(flag, 1, __ATOMIC_ACQ_REL))
        return;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n > sizeof(buf) - 2)
        n = sizeof(buf) - 2;
    buf[n++] = '\n';
    (void)!real_write(2, buf, (size_t)n);
}

/* An operation on a socket inherited across fork(). */
int tc_detached_err(void)
{
    tc_say_once(&said_fork, "libtas: tasd sockets inherited across fork() are not usable "
                            "in the child; they fail with EOPNOTSUPP");
    return -EOPNOTSUPP;
}

/* This process is the context's (at registration and in a fork() child). */
void tc_owner_set(void)
{
    atomic_store_explicit(&owner, getpid(), memory_order_relaxed);
}

/* A vfork() child runs in our memory until it execs: what it does must not
 * change what the process that registered holds. */
bool tc_foreign(void)
{
    pid_t o = atomic_load_explicit(&owner, memory_order_relaxed);
    return o != 0 && o != getpid();
}

/* Where the core keeps its descriptors: high, out of the way of a program
 * that dup2()s onto small numbers it thinks free (sshd puts a pipe and a
 * socket on 4 and 5 before it re-executes itself). */
static int high_base(void)
{
    static int base;
    if (base == 0) {
        struct rlimit r;
        rlim_t b = getrlimit(RLIMIT_NOFILE, &r) == 0 ? r.rlim_cur / 2 : 512;
        base = b < 64 ? 64 : b > (1 << 19) ? (1 << 19) : (int)b;
    }
    return base;
}

int tc_own_fd(int fd)
{
    if (fd < 0)
        return fd;
    if (fd < high_base()) {
        int n = real_fcntl(fd, F_DUPFD_CLOEXEC, (void *)(long)high_base());
        if (n >= 0) {
            real_close(fd);
            fd = n;
        }
    }
    if (tc_hooks.fd_own != NULL)
        tc_hooks.fd_own(fd);
    return fd;
}

void tc_own_fd_close(int fd)
{
    if (fd < 0)
        return;
    if (tc_hooks.fd_forget != NULL)
        tc_hooks.fd_forget(fd);
    real_close(fd);
}
