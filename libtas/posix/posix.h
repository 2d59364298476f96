/* posix.h - what the files of libtas's POSIX layer share.
 *
 * The POSIX layer (this folder) sits on the core (libtas/core/) and
 * turns its sockets into descriptors and calls with libc's semantics:
 *   fdtab.c    descriptor number -> library object (socket, epoll, internal)
 *   sockfd.c   a socket and the descriptor that names it
 *   addr.c     socket addresses in the family of the socket
 *   epoll.c    epoll instances over mixed descriptor sets
 *   fallback.c sockets that go on as kernel sockets
 *   hooks.c    what the core calls up through
 *   socket.c   socket/bind/listen/accept/connect/close/shutdown/names
 *   io.c       read/write and friends
 *   sockopt.c  getsockopt/setsockopt/fcntl/ioctl
 *   poll.c     poll/ppoll/select/pselect over mixed descriptor sets
 *   exec.c     tasd sockets that survive exec()
 *   exit.c     the process's connections end with it
 *   interpose.c the libc names, for LD_PRELOAD (libtas_interpose.so only)
 *
 *
 * The public tas_* functions (libtas.h) live here and return like libc
 * (-1 and errno); internal ones return 0 or -errno.
 */
#ifndef LIBTAS_POSIX_H
#define LIBTAS_POSIX_H

#include "libtas/core/core.h"

/* ----------------------------------------------------------------- fdtab.c */

#define TP_OBJ_EPOLL    2 /* struct tp_epoll: an epoll instance we wrap */
#define TP_OBJ_INTERNAL 3 /* one of libtas's own descriptors */

#define TP_FD_MAX (1 << 20) /* descriptors at or above are never ours */

TAS_HIDDEN struct tc_obj *tp_fd_get(int fd); /* lock-free */
TAS_HIDDEN int tp_fd_set(int fd, struct tc_obj *o);
TAS_HIDDEN void tp_fd_clear(int fd);
TAS_HIDDEN void tp_fd_internal(int fd); /* mark as libtas's own */
TAS_HIDDEN void tp_fd_internal_forget(int fd);
TAS_HIDDEN void tp_fd_internal_close(int fd);
/* The lowest descriptor >= from that names an object, or -1. */
TAS_HIDDEN int tp_fd_next(int from);
/* Another descriptor than skip naming o, or -1. */
TAS_HIDDEN int tp_fd_find(const struct tc_obj *o, int skip);

/* ------------------------------------------------------------------ addr.c */

/* sin as a socket of its family sees it (v6: sockaddr_in6 with an
 * IPv4-mapped address, or :: for any); returns its length. */
TAS_HIDDEN socklen_t tp_sock_addr(bool v6, const struct sockaddr_in *sin,
                                  struct sockaddr_storage *out);
/* An address for the application (accept, getsockname, getpeername): sin
 * in the family of the socket.  0, -EFAULT or -EINVAL. */
TAS_HIDDEN int tp_addr_copy(bool v6, const struct sockaddr_in *sin, struct sockaddr *addr,
                            socklen_t *len);
/* The IPv4 address an AF_INET6 socket is given (an IPv4-mapped address,
 * or :: to bind to any unless the socket is IPV6_V6ONLY): 1 and *out; 0
 * for an address of IPv6 proper, which is the kernel's; or -errno. */
TAS_HIDDEN int tp_addr_v4_of(const struct tc_sock *s, const struct sockaddr *addr,
                             socklen_t len, bool bind, struct sockaddr_in *out);
/* 127.0.0.0/8 or 0.0.0.0 (network order): the kernel's. */
TAS_HIDDEN bool tp_addr_is_loopback(uint32_t ip_be);

/* ---------------------------------------------------------------- sockfd.c */

/* A socket named by fd (its reserved kernel socket; -1: none yet). */
TAS_HIDDEN struct tc_sock *tp_sock_new_fd(int fd);
TAS_HIDDEN void tp_sock_set_fd(struct tc_sock *s, int fd);
TAS_HIDDEN struct tc_sock *tp_sock_lookup(int fd); /* lock held, gets a ref */
/* If fd is a tasd socket: take tc_lock and a reference and return it;
 * otherwise NULL (without the lock).  tp_leave() undoes it. */
TAS_HIDDEN struct tc_sock *tp_enter(int fd);
/* The same, without taking the socket over (close). */
TAS_HIDDEN struct tc_sock *tp_enter_noattach(int fd);
/* The same for a call that moves data: the connection comes to this
 * thread's context if another's has it (core/attach.c, tc_sock_take). */
TAS_HIDDEN struct tc_sock *tp_enter_data(int fd);
TAS_HIDDEN void tp_leave(struct tc_sock *s);
/* Take the socket out of the fd table; drops the table's reference. */
TAS_HIDDEN void tp_sock_unlink_fd(struct tc_sock *s);

/* -------------------------------------------------------------- fallback.c */

/* The socket stops being ours; its descriptor is a plain kernel socket. */
TAS_HIDDEN int tp_sock_to_kernel(struct tc_sock *s);

/* ---------------------------------------------------------------- sockopt.c */

TAS_HIDDEN void tp_keepalive_read(struct tc_sock *s);

/* ----------------------------------------------------------------- epoll.c */

TAS_HIDDEN void tp_epoll_sock_changed(struct tc_sock *s);
TAS_HIDDEN void tp_epoll_sock_gone(struct tc_sock *s);
TAS_HIDDEN void tp_epoll_sock_moved(struct tc_sock *s);
/* The contexts (core/qctx.c) a wait on the instance o watches. */
TAS_HIDDEN uint64_t tp_epoll_want(struct tc_obj *o);
TAS_HIDDEN int tp_epoll_to_kernel(struct tc_sock *s);
TAS_HIDDEN int tp_epoll_close(struct tc_obj *o);
TAS_HIDDEN uint32_t tp_epoll_ready(struct tc_obj *o, int *kernel_fd);

/* ---------------------------------------------------------------- socket.c */

TAS_HIDDEN int tp_fd_release(int fd);
/* close_range(2) and closefrom(3): our own descriptors stay open. */
TAS_HIDDEN int tp_close_range(unsigned int first, unsigned int last, int flags);
/* newfd (from the kernel's dup of oldfd) names oldfd's socket too. */
TAS_HIDDEN void tp_fd_dup(int oldfd, int newfd);

/* ------------------------------------------------------------------ exec.c */

struct tp_exec_state;
TAS_HIDDEN char **tp_exec_prepare(char *const envp[], struct tp_exec_state **st);
TAS_HIDDEN void tp_exec_failed(struct tp_exec_state *st);
TAS_HIDDEN void tp_inherit_init(void);

/* ----------------------------------------------------------------- hooks.c */

TAS_HIDDEN void tp_core_start(void); /* hooks and fork handlers, once */
TAS_HIDDEN int tp_ctx_open(void);    /* tp_core_start + tc_ctx_ensure */

/* ------------------------------------------------------------------ exit.c */

/* The process is about to end (exit, _exit): CLOSE its open connections so
 * that they end with FIN, as the kernel's would. */
TAS_HIDDEN void tp_exit_close_all(void);

/* Set errno from a -errno result and return -1, or return the value. */
static inline long tp_ret(long r)
{
    if (r < 0) {
        errno = (int)-r;
        return -1;
    }
    return r;
}

#endif /* LIBTAS_POSIX_H */
