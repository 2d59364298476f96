/* libc.c - the real libc functions behind the ones libtas replaces.
 *
 * In libtas_interpose.so (built with -DTAS_INTERPOSE) our own socket(),
 * read(), close(), ... shadow libc's, so everything libtas needs from the
 * kernel goes through the real_* functions here.  Each looks its libc symbol
 * up with dlsym(RTLD_NEXT) once and keeps the pointer.  dlsym can itself end
 * up in one of our functions (another preloaded library's malloc reading a
 * file, say): a thread that is inside dlsym gets the raw system call instead,
 * so resolving never recurses.  In plain libtas.so nothing is shadowed and
 * real_* call libc directly.
 */
#include <dlfcn.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/sendfile.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "libtas/core/core.h"

#ifdef TAS_INTERPOSE

static __thread int resolving __attribute__((tls_model("initial-exec")));

/* The libc function called name, or NULL while this thread is resolving. */
static void *load(void **slot, const char *name)
{
    void *p = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
    if (likely(p != NULL))
        return p;
    if (resolving)
        return NULL;
    resolving = 1;
    p = dlsym(RTLD_NEXT, name);
    resolving = 0;
    if (p != NULL)
        __atomic_store_n(slot, p, __ATOMIC_RELEASE);
    return p;
}

/* One resolver per function: REAL(ret, name, (params), (args), syscall expr).
 * The last argument is what runs when the symbol is not available yet. */
#define REAL(ret, name, params, args, fallback)                                          \
    static void *p_##name;                                                               \
    ret real_##name params                                                               \
    {                                                                                    \
        ret(*fn_) params = (ret(*) params)load(&p_##name, #name);                        \
        if (likely(fn_ != NULL))                                                         \
            return fn_ args;                                                             \
        return (ret)(fallback);                                                          \
    }

#else /* plain libtas.so: libc is not shadowed */

#define REAL(ret, name, params, args, fallback)                                          \
    ret real_##name params                                                               \
    {                                                                                    \
        return name args;                                                                \
    }

#endif

REAL(int, socket, (int d, int t, int p), (d, t, p), syscall(SYS_socket, d, t, p))
REAL(int, bind, (int fd, const struct sockaddr *a, socklen_t l), (fd, a, l),
     syscall(SYS_bind, fd, a, l))
REAL(int, listen, (int fd, int b), (fd, b), syscall(SYS_listen, fd, b))
REAL(int, accept4, (int fd, struct sockaddr *a, socklen_t *l, int fl), (fd, a, l, fl),
     syscall(SYS_accept4, fd, a, l, fl))
REAL(int, connect, (int fd, const struct sockaddr *a, socklen_t l), (fd, a, l),
     syscall(SYS_connect, fd, a, l))
REAL(ssize_t, read, (int fd, void *b, size_t n), (fd, b, n), syscall(SYS_read, fd, b, n))
REAL(ssize_t, write, (int fd, const void *b, size_t n), (fd, b, n),
     syscall(SYS_write, fd, b, n))
REAL(ssize_t, readv, (int fd, const struct iovec *v, int c), (fd, v, c),
     syscall(SYS_readv, fd, v, c))
REAL(ssize_t, writev, (int fd, const struct iovec *v, int c), (fd, v, c),
     syscall(SYS_writev, fd, v, c))
REAL(ssize_t, recvfrom,
     (int fd, void *b, size_t n, int fl, struct sockaddr *a, socklen_t *l),
     (fd, b, n, fl, a, l), syscall(SYS_recvfrom, fd, b, n, fl, a, l))
REAL(ssize_t, sendto,
     (int fd, const void *b, size_t n, int fl, const struct sockaddr *a, socklen_t l),
     (fd, b, n, fl, a, l), syscall(SYS_sendto, fd, b, n, fl, a, l))
REAL(ssize_t, recvmsg, (int fd, struct msghdr *m, int fl), (fd, m, fl),
     syscall(SYS_recvmsg, fd, m, fl))
REAL(ssize_t, sendmsg, (int fd, const struct msghdr *m, int fl), (fd, m, fl),
     syscall(SYS_sendmsg, fd, m, fl))
REAL(int, close, (int fd), (fd), syscall(SYS_close, fd))
REAL(int, close_range, (unsigned int lo, unsigned int hi, int fl), (lo, hi, fl),
     syscall(SYS_close_range, lo, hi, fl))
REAL(int, shutdown, (int fd, int how), (fd, how), syscall(SYS_shutdown, fd, how))
REAL(int, getsockname, (int fd, struct sockaddr *a, socklen_t *l), (fd, a, l),
     syscall(SYS_getsockname, fd, a, l))
REAL(int, getpeername, (int fd, struct sockaddr *a, socklen_t *l), (fd, a, l),
     syscall(SYS_getpeername, fd, a, l))
REAL(int, getsockopt, (int fd, int lv, int o, void *v, socklen_t *l), (fd, lv, o, v, l),
     syscall(SYS_getsockopt, fd, lv, o, v, l))
REAL(int, setsockopt, (int fd, int lv, int o, const void *v, socklen_t l),
     (fd, lv, o, v, l), syscall(SYS_setsockopt, fd, lv, o, v, l))
REAL(int, ppoll,
     (struct pollfd * f, nfds_t n, const struct timespec *ts, const sigset_t *m),
     (f, n, ts, m), syscall(SYS_ppoll, f, n, ts, m, _NSIG / 8))
REAL(int, pselect,
     (int n, fd_set *r, fd_set *w, fd_set *e, const struct timespec *ts,
      const sigset_t *m),
     (n, r, w, e, ts, m), syscall(SYS_pselect6, n, r, w, e, ts, NULL))
REAL(int, epoll_create1, (int fl), (fl), syscall(SYS_epoll_create1, fl))
REAL(int, epoll_ctl, (int ep, int op, int fd, struct epoll_event *ev), (ep, op, fd, ev),
     syscall(SYS_epoll_ctl, ep, op, fd, ev))
REAL(int, epoll_pwait,
     (int ep, struct epoll_event *ev, int mx, int to, const sigset_t *m),
     (ep, ev, mx, to, m), syscall(SYS_epoll_pwait, ep, ev, mx, to, m, _NSIG / 8))
REAL(int, dup3, (int o, int n, int fl), (o, n, fl), syscall(SYS_dup3, o, n, fl))
REAL(ssize_t, sendfile, (int o, int i, off_t *off, size_t n), (o, i, off, n),
     syscall(SYS_sendfile, o, i, off, n))
REAL(int, sendmmsg, (int fd, struct mmsghdr *v, unsigned int n, int fl), (fd, v, n, fl),
     syscall(SYS_sendmmsg, fd, v, n, fl))
REAL(int, recvmmsg,
     (int fd, struct mmsghdr *v, unsigned int n, int fl, struct timespec *ts),
     (fd, v, n, fl, ts), syscall(SYS_recvmmsg, fd, v, n, fl, ts))
REAL(ssize_t, splice,
     (int in, loff_t *off_in, int out, loff_t *off_out, size_t n, unsigned int fl),
     (in, off_in, out, off_out, n, fl),
     syscall(SYS_splice, in, off_in, out, off_out, n, fl))
REAL(pid_t, fork, (void), (), syscall(SYS_fork))
REAL(int, execve, (const char *p, char *const a[], char *const e[]), (p, a, e),
     syscall(SYS_execve, p, a, e))
REAL(int, execvpe, (const char *f, char *const a[], char *const e[]), (f, a, e),
     (errno = ENOSYS, -1))
REAL(int, fexecve, (int fd, char *const a[], char *const e[]), (fd, a, e),
     syscall(SYS_execveat, fd, "", a, e, 0x1000 /* AT_EMPTY_PATH */))

/* fcntl and ioctl are variadic; the third argument is passed as a pointer,
 * which carries an int or a pointer alike in the Linux ABIs. */
#ifdef TAS_INTERPOSE
static void *p_fcntl, *p_ioctl, *p_poll, *p_select;

int real_fcntl(int fd, int cmd, void *arg)
{
    int (*f)(int, int, ...) = (int (*)(int, int, ...))load(&p_fcntl, "fcntl");
    if (likely(f != NULL))
        return f(fd, cmd, arg);
    return (int)syscall(SYS_fcntl, fd, cmd, arg);
}

int real_ioctl(int fd, unsigned long req, void *arg)
{
    int (*f)(int, unsigned long, ...) =
        (int (*)(int, unsigned long, ...))load(&p_ioctl, "ioctl");
    if (likely(f != NULL))
        return f(fd, req, arg);
    return (int)syscall(SYS_ioctl, fd, req, arg);
}

int real_poll(struct pollfd *fds, nfds_t n, int timeout)
{
    int (*f)(struct pollfd *, nfds_t, int) =
        (int (*)(struct pollfd *, nfds_t, int))load(&p_poll, "poll");
    if (likely(f != NULL))
        return f(fds, n, timeout);
    struct timespec ts = {timeout / 1000, (timeout % 1000) * 1000000L};
    return real_ppoll(fds, n, timeout < 0 ? NULL : &ts, NULL);
}

int real_select(int n, fd_set *r, fd_set *w, fd_set *e, struct timeval *tv)
{
    int (*f)(int, fd_set *, fd_set *, fd_set *, struct timeval *) =
        (int (*)(int, fd_set *, fd_set *, fd_set *, struct timeval *))load(&p_select,
                                                                           "select");
    if (likely(f != NULL))
        return f(n, r, w, e, tv);
    struct timespec ts;
    if (tv != NULL) {
        ts.tv_sec = tv->tv_sec;
        ts.tv_nsec = tv->tv_usec * 1000;
    }
    return real_pselect(n, r, w, e, tv != NULL ? &ts : NULL, NULL);
}

/* Resolve everything at load time, so later calls never meet dlsym. */
int tc_libc_init(void)
{
    static const char *names[] = {
        "socket",      "bind",          "listen",     "accept4",     "connect",
        "read",        "write",         "readv",      "writev",      "recvfrom",
        "sendto",      "recvmsg",       "sendmsg",    "close",       "shutdown",
        "getsockname", "getpeername",   "getsockopt", "setsockopt",  "ppoll",
        "pselect",     "epoll_create1", "epoll_ctl",  "epoll_pwait", "dup3",
        "sendfile",    "fcntl",         "ioctl",      "poll",        "select",
        "sendmmsg",    "recvmmsg",      "splice"};
    static void **slots[] = {
        &p_socket,      &p_bind,          &p_listen,     &p_accept4,     &p_connect,
        &p_read,        &p_write,         &p_readv,      &p_writev,      &p_recvfrom,
        &p_sendto,      &p_recvmsg,       &p_sendmsg,    &p_close,       &p_shutdown,
        &p_getsockname, &p_getpeername,   &p_getsockopt, &p_setsockopt,  &p_ppoll,
        &p_pselect,     &p_epoll_create1, &p_epoll_ctl,  &p_epoll_pwait, &p_dup3,
        &p_sendfile,    &p_fcntl,         &p_ioctl,      &p_poll,        &p_select,
        &p_sendmmsg,    &p_recvmmsg,      &p_splice};
    static_assert(sizeof(names) / sizeof(names[0]) == sizeof(slots) / sizeof(slots[0]),
                  "one slot per name");
    int missing = 0;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (load(slots[i], names[i]) == NULL)
            missing++;
    return missing ? -ENOSYS : 0;
}

#else

int real_fcntl(int fd, int cmd, void *arg)
{
    return fcntl(fd, cmd, arg);
}
int real_ioctl(int fd, unsigned long req, void *arg)
{
    return ioctl(fd, req, arg);
}
int real_poll(struct pollfd *fds, nfds_t n, int timeout)
{
    return poll(fds, n, timeout);
}
int real_select(int n, fd_set *r, fd_set *w, fd_set *e, struct timeval *tv)
{
    return select(n, r, w, e, tv);
}
int tc_libc_init(void)
{
    return 0;
}

#endif
