/* interpose.c - libc's socket calls, for unmodified programs.
 *
 * libtas_interpose.so is loaded with LD_PRELOAD, so the functions below take
 * the place of libc's.  Each one is the tas_* function of the same name:
 * tasd sockets are emulated, every other descriptor (files, pipes, UDP, Unix
 * sockets, TCP sockets on the kernel stack) goes straight to libc through
 * real_* (libc.c) after one lock-free table lookup.  The real functions are
 * resolved when the library loads, and lazily (with a raw system call while
 * resolving) if a call comes earlier, from another library's constructor.
 *
 * epoll_pwait2 is covered too where the kernel headers know it.
 *
 * dup()/dup2()/dup3()/F_DUPFD of a tasd socket give another descriptor of
 * the same socket (the kernel duplicates the reserved descriptor; libtas
 * maps the new number to the same object; closing one keeps the others).
 * Not covered: stdio streams opened on a tasd socket (fdopen) bypass the
 * library because glibc calls its internal write.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/sendfile.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "libtas/posix/posix.h"
#include "libtas/libtas.h"

#define EXPORT __attribute__((visibility("default")))

extern void __chk_fail(void) __attribute__((noreturn));

__attribute__((constructor)) static void interpose_init(void)
{
    tc_libc_init();
    /* A Go program's sockets never come here: say so, once, and stay out
     * of its way (a static one never loads us at all). */
    char why[512], exe[256];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    exe[n > 0 ? n : 0] = '\0';
    if (n > 0 && tc_program_check(exe, why, sizeof(why)) == -ENOEXEC) {
        fprintf(stderr, "libtas: %s; tasd does not serve it\n", why);
        tc_ctx.fallback_ok = true; /* whatever TAS_FALLBACK says: the kernel's */
        tc_ctx.state = TC_CTX_FALLBACK;
        return;
    }
    tp_inherit_init(); /* sockets kept across exec() (exec.c) */
}

static bool is_sock(int fd)
{
    struct tc_obj *o = tp_fd_get(fd);
    return unlikely(o != NULL) && o->kind == TC_OBJ_SOCK;
}

/* The kernel made newfd (r) a copy of oldfd: name the same socket. */
static int dup_done(int oldfd, int r)
{
    if (r >= 0 && is_sock(oldfd))
        tp_fd_dup(oldfd, r);
    return r;
}

/* dup2/dup3 onto a tasd descriptor replace it: drop our state for it first
 * (the kernel then swaps the descriptor atomically). */
static void drop_target(int newfd)
{
    struct tc_obj *o = tp_fd_get(newfd);
    if (unlikely(o != NULL) && o->kind != TP_OBJ_INTERNAL)
        tp_fd_release(newfd);
}

EXPORT int socket(int d, int t, int p)
{
    return tas_socket(d, t, p);
}
EXPORT int bind(int fd, const struct sockaddr *a, socklen_t l)
{
    return tas_bind(fd, a, l);
}
EXPORT int listen(int fd, int b)
{
    return tas_listen(fd, b);
}
EXPORT int accept(int fd, struct sockaddr *a, socklen_t *l)
{
    return tas_accept(fd, a, l);
}
EXPORT int accept4(int fd, struct sockaddr *a, socklen_t *l, int f)
{
    return tas_accept4(fd, a, l, f);
}
EXPORT int connect(int fd, const struct sockaddr *a, socklen_t l)
{
    return tas_connect(fd, a, l);
}
EXPORT ssize_t read(int fd, void *b, size_t n)
{
    return tas_read(fd, b, n);
}
EXPORT ssize_t write(int fd, const void *b, size_t n)
{
    return tas_write(fd, b, n);
}
EXPORT ssize_t readv(int fd, const struct iovec *v, int c)
{
    return tas_readv(fd, v, c);
}
EXPORT ssize_t writev(int fd, const struct iovec *v, int c)
{
    return tas_writev(fd, v, c);
}
EXPORT ssize_t recv(int fd, void *b, size_t n, int f)
{
    return tas_recv(fd, b, n, f);
}
EXPORT ssize_t recvfrom(int fd, void *b, size_t n, int f, struct sockaddr *a,
                        socklen_t *l)
{
    return tas_recvfrom(fd, b, n, f, a, l);
}
EXPORT ssize_t recvmsg(int fd, struct msghdr *m, int f)
{
    return tas_recvmsg(fd, m, f);
}
EXPORT ssize_t send(int fd, const void *b, size_t n, int f)
{
    return tas_send(fd, b, n, f);
}
EXPORT ssize_t sendto(int fd, const void *b, size_t n, int f, const struct sockaddr *a,
                      socklen_t l)
{
    return tas_sendto(fd, b, n, f, a, l);
}
EXPORT ssize_t sendmsg(int fd, const struct msghdr *m, int f)
{
    return tas_sendmsg(fd, m, f);
}
EXPORT ssize_t sendfile(int o, int i, off_t *off, size_t n)
{
    return tas_sendfile(o, i, off, n);
}
EXPORT ssize_t sendfile64(int o, int i, off_t *off, size_t n)
{
    return tas_sendfile(o, i, off, n);
}
EXPORT int sendmmsg(int fd, struct mmsghdr *v, unsigned int n, int f)
{
    return tas_sendmmsg(fd, v, n, f);
}
EXPORT int recvmmsg(int fd, struct mmsghdr *v, unsigned int n, int f, struct timespec *ts)
{
    return tas_recvmmsg(fd, v, n, f, ts);
}
EXPORT ssize_t splice(int in, loff_t *oi, int out, loff_t *oo, size_t n, unsigned int f)
{
    return tas_splice(in, oi, out, oo, n, f);
}
EXPORT int close(int fd)
{
    return tas_close(fd);
}
EXPORT int close_range(unsigned int first, unsigned int last, int flags)
{
    return tp_close_range(first, last, flags);
}
EXPORT void closefrom(int lowfd)
{
    /* glibc's: never fails; from below 0 is from 0. */
    (void)tp_close_range(lowfd < 0 ? 0u : (unsigned int)lowfd, ~0u, 0);
}
EXPORT int shutdown(int fd, int how)
{
    return tas_shutdown(fd, how);
}
EXPORT int getsockname(int fd, struct sockaddr *a, socklen_t *l)
{
    return tas_getsockname(fd, a, l);
}
EXPORT int getpeername(int fd, struct sockaddr *a, socklen_t *l)
{
    return tas_getpeername(fd, a, l);
}
EXPORT int getsockopt(int fd, int lv, int o, void *v, socklen_t *l)
{
    return tas_getsockopt(fd, lv, o, v, l);
}
EXPORT int setsockopt(int fd, int lv, int o, const void *v, socklen_t l)
{
    return tas_setsockopt(fd, lv, o, v, l);
}

static int fcntl_common(int fd, int cmd, void *arg)
{
    if (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC)
        return dup_done(fd, real_fcntl(fd, cmd, arg));
    return tas_fcntl(fd, cmd, arg);
}

EXPORT int fcntl(int fd, int cmd, ...)
{
    va_list ap;
    va_start(ap, cmd);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    return fcntl_common(fd, cmd, arg);
}

EXPORT int fcntl64(int fd, int cmd, ...)
{
    va_list ap;
    va_start(ap, cmd);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    return fcntl_common(fd, cmd, arg);
}

EXPORT int ioctl(int fd, unsigned long req, ...)
{
    va_list ap;
    va_start(ap, req);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    return tas_ioctl(fd, req, arg);
}

EXPORT int dup(int fd)
{
    return dup_done(fd, real_fcntl(fd, F_DUPFD, (void *)0L));
}

EXPORT int dup3(int oldfd, int newfd, int flags)
{
    if (oldfd != newfd && real_fcntl(oldfd, F_GETFD, NULL) >= 0)
        drop_target(newfd);
    return dup_done(oldfd, real_dup3(oldfd, newfd, flags));
}

EXPORT int dup2(int oldfd, int newfd)
{
    if (oldfd == newfd) /* dup2 checks oldfd and returns it; dup3 would fail */
        return real_fcntl(oldfd, F_GETFD, NULL) < 0 ? -1 : newfd;
    return dup3(oldfd, newfd, 0);
}

EXPORT int poll(struct pollfd *f, nfds_t n, int t)
{
    return tas_poll(f, n, t);
}
EXPORT int ppoll(struct pollfd *f, nfds_t n, const struct timespec *ts, const sigset_t *m)
{
    return tas_ppoll(f, n, ts, m);
}
EXPORT int select(int n, fd_set *r, fd_set *w, fd_set *e, struct timeval *tv)
{
    return tas_select(n, r, w, e, tv);
}
EXPORT int pselect(int n, fd_set *r, fd_set *w, fd_set *e, const struct timespec *ts,
                   const sigset_t *m)
{
    return tas_pselect(n, r, w, e, ts, m);
}
EXPORT int epoll_create(int size)
{
    return tas_epoll_create(size);
}
EXPORT int epoll_create1(int flags)
{
    return tas_epoll_create1(flags);
}
EXPORT int epoll_ctl(int ep, int op, int fd, struct epoll_event *ev)
{
    return tas_epoll_ctl(ep, op, fd, ev);
}
EXPORT int epoll_wait(int ep, struct epoll_event *ev, int max, int t)
{
    return tas_epoll_wait(ep, ev, max, t);
}
EXPORT int epoll_pwait(int ep, struct epoll_event *ev, int max, int t, const sigset_t *m)
{
    return tas_epoll_pwait(ep, ev, max, t, m);
}

#ifdef SYS_epoll_pwait2
/* epoll_pwait2 (glibc 2.35+) takes a timespec; millisecond resolution is
 * enough for tasd epoll instances (rounded up, never early). */
EXPORT int epoll_pwait2(int ep, struct epoll_event *ev, int max,
                        const struct timespec *ts, const sigset_t *m)
{
    struct tc_obj *o = tp_fd_get(ep);
    if (likely(o == NULL) || o->kind != TP_OBJ_EPOLL)
        return (int)syscall(SYS_epoll_pwait2, ep, ev, max, ts, m, _NSIG / 8);
    int ms = -1;
    if (ts != NULL) {
        if (ts->tv_sec < 0 || ts->tv_nsec < 0 || ts->tv_nsec >= 1000000000L)
            return (int)tp_ret(-EINVAL);
        long long v = (long long)ts->tv_sec * 1000 + (ts->tv_nsec + 999999) / 1000000;
        ms = v > 2000000000LL ? 2000000000 : (int)v;
    }
    return tas_epoll_pwait(ep, ev, max, ms, m);
}
#endif

/* _FORTIFY_SOURCE variants. */
EXPORT ssize_t __read_chk(int fd, void *b, size_t n, size_t buflen)
{
    if (n > buflen)
        __chk_fail();
    return tas_read(fd, b, n);
}
EXPORT ssize_t __recv_chk(int fd, void *b, size_t n, size_t buflen, int f)
{
    if (n > buflen)
        __chk_fail();
    return tas_recv(fd, b, n, f);
}
EXPORT ssize_t __recvfrom_chk(int fd, void *b, size_t n, size_t buflen, int f,
                              struct sockaddr *a, socklen_t *l)
{
    if (n > buflen)
        __chk_fail();
    return tas_recvfrom(fd, b, n, f, a, l);
}
EXPORT int __poll_chk(struct pollfd *f, nfds_t n, int t, size_t fdslen)
{
    if (fdslen / sizeof(*f) < n)
        __chk_fail();
    return tas_poll(f, n, t);
}
EXPORT int __ppoll_chk(struct pollfd *f, nfds_t n, const struct timespec *ts,
                       const sigset_t *m, size_t fdslen)
{
    if (fdslen / sizeof(*f) < n)
        __chk_fail();
    return tas_ppoll(f, n, ts, m);
}

/* fork(): the child keeps the parent's tasd sockets (core/fork.c). */
EXPORT pid_t fork(void)
{
    return tc_fork();
}

/* exec*(): tasd sockets without FD_CLOEXEC go on in the new program
 * (exec.c).  The variants that take no environment pass environ. */
extern char **environ;

static int exec_common(int how, const char *path, int fd, char *const argv[],
                       char *const envp[])
{
    struct tp_exec_state *st;
    char **env = tp_exec_prepare(envp, &st);
    int r = how == 0   ? real_execve(path, argv, env)
            : how == 1 ? real_execvpe(path, argv, env)
                       : real_fexecve(fd, argv, env);
    int err = errno;
    tp_exec_failed(st);
    errno = err;
    return r;
}

EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
    return exec_common(0, path, -1, argv, envp);
}
EXPORT int execv(const char *path, char *const argv[])
{
    return exec_common(0, path, -1, argv, environ);
}
EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
    return exec_common(1, file, -1, argv, envp);
}
EXPORT int execvp(const char *file, char *const argv[])
{
    return exec_common(1, file, -1, argv, environ);
}
EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
    return exec_common(2, NULL, fd, argv, envp);
}

/* execl, execlp, execle: the arguments as an array (bounded). */
#define EXECL_MAX 4096
static int execl_common(int how, const char *path, const char *arg0, va_list ap,
                        bool with_env)
{
    char *argv[EXECL_MAX + 1];
    int n = 0;
    argv[n++] = (char *)arg0;
    while (arg0 != NULL && n <= EXECL_MAX) {
        char *a = va_arg(ap, char *);
        argv[n++] = a;
        if (a == NULL)
            break;
    }
    if (arg0 != NULL && argv[n - 1] != NULL) {
        errno = E2BIG;
        return -1;
    }
    char *const *envp = with_env ? va_arg(ap, char *const *) : environ;
    return exec_common(how, path, -1, argv, envp);
}

EXPORT int execl(const char *path, const char *arg, ...)
{
    va_list ap;
    va_start(ap, arg);
    int r = execl_common(0, path, arg, ap, false);
    va_end(ap);
    return r;
}
EXPORT int execlp(const char *file, const char *arg, ...)
{
    va_list ap;
    va_start(ap, arg);
    int r = execl_common(1, file, arg, ap, false);
    va_end(ap);
    return r;
}
EXPORT int execle(const char *path, const char *arg, ...)
{
    va_list ap;
    va_start(ap, arg);
    int r = execl_common(0, path, arg, ap, true);
    va_end(ap);
    return r;
}

/* _exit() and _Exit() skip destructors; the kernel still closes sockets
 * gracefully then, so tasd connections get their CLOSE too (fork children
 * often leave this way).  A vfork() child's _exit is the parent's business. */
EXPORT void _exit(int status)
{
    if (!tc_foreign())
        tp_exit_close_all();
    syscall(SYS_exit_group, status);
    __builtin_unreachable();
}

EXPORT void _Exit(int status)
{
    _exit(status);
}
