/* libtas.h - TCP sockets over tasd, for programs that link libtas.so.
 *
 * Each tas_* function behaves like the libc function of the same name
 * without the prefix (same arguments, -1 and errno on failure), with one
 * difference: AF_INET stream sockets run over tasd through shared memory.
 * Any other descriptor (files, pipes, UDP, Unix sockets, TCP sockets on the
 * kernel stack) is handed to libc unchanged, so a program can use tas_* for
 * every call.  libtas_interpose.so exports the same functions under their
 * libc names for unmodified programs (LD_PRELOAD).
 *
 * Environment: TAS_RUN_DIR (tasd's run directory, default /run/tasd),
 * TAS_FALLBACK=0 (fail TCP socket() with ECONNREFUSED instead of using the
 * kernel stack when tasd is not reachable), TAS_SPIN_US (how long a thread
 * polls before sleeping, default 5).
 */
#ifndef LIBTAS_H
#define LIBTAS_H

#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Register with tasd now rather than at the first socket().  Returns 0 when
 * registered, -1 with errno ECONNREFUSED when tasd is not reachable (the
 * kernel stack is used) or gone. */
int tas_init(void);

/* 1 if fd is a socket that runs over tasd, else 0. */
int tas_is_tas_socket(int fd);

/* Can the shim (LD_PRELOAD=libtas_interpose.so) serve the program at path?
 * 0 if nothing says otherwise; -ENOEXEC with one line in why (up to len
 * bytes) for a statically linked program or a Go program, whose sockets
 * stay on the Linux stack; -errno if it cannot be read. */
int tas_program_check(const char *path, char *why, size_t len);

/* Counters of what the library ignored or worked around (for debugging). */
struct tas_lib_stats {
    uint64_t bad_entries, bad_flow, bad_bufs, bad_counts, unknown_opaque;
    uint64_t orphan_conns, stashed, sp_overflow, fp_full;
};
void tas_get_stats(struct tas_lib_stats *st);

int tas_socket(int domain, int type, int protocol);
int tas_bind(int fd, const struct sockaddr *addr, socklen_t len);
int tas_listen(int fd, int backlog);
int tas_accept(int fd, struct sockaddr *addr, socklen_t *len);
int tas_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags);
int tas_connect(int fd, const struct sockaddr *addr, socklen_t len);
int tas_close(int fd);
int tas_shutdown(int fd, int how);
int tas_getsockname(int fd, struct sockaddr *addr, socklen_t *len);
int tas_getpeername(int fd, struct sockaddr *addr, socklen_t *len);

ssize_t tas_read(int fd, void *buf, size_t n);
ssize_t tas_readv(int fd, const struct iovec *iov, int iovcnt);
ssize_t tas_recv(int fd, void *buf, size_t n, int flags);
ssize_t tas_recvfrom(int fd, void *buf, size_t n, int flags, struct sockaddr *addr,
                     socklen_t *len);
ssize_t tas_recvmsg(int fd, struct msghdr *msg, int flags);
ssize_t tas_write(int fd, const void *buf, size_t n);
ssize_t tas_writev(int fd, const struct iovec *iov, int iovcnt);
ssize_t tas_send(int fd, const void *buf, size_t n, int flags);
ssize_t tas_sendto(int fd, const void *buf, size_t n, int flags,
                   const struct sockaddr *addr, socklen_t len);
ssize_t tas_sendmsg(int fd, const struct msghdr *msg, int flags);
ssize_t tas_sendfile(int out_fd, int in_fd, off_t *offset, size_t count);
#ifdef _GNU_SOURCE /* struct mmsghdr, loff_t */
int tas_sendmmsg(int fd, struct mmsghdr *vec, unsigned int n, int flags);
int tas_recvmmsg(int fd, struct mmsghdr *vec, unsigned int n, int flags,
                 struct timespec *timeout);
ssize_t tas_splice(int fd_in, loff_t *off_in, int fd_out, loff_t *off_out, size_t len,
                   unsigned int flags);
#endif

int tas_getsockopt(int fd, int level, int opt, void *val, socklen_t *len);
int tas_setsockopt(int fd, int level, int opt, const void *val, socklen_t len);
int tas_fcntl(int fd, int cmd, ...);
int tas_ioctl(int fd, unsigned long req, ...);

int tas_poll(struct pollfd *fds, nfds_t n, int timeout);
int tas_ppoll(struct pollfd *fds, nfds_t n, const struct timespec *ts,
              const sigset_t *mask);
int tas_select(int n, fd_set *r, fd_set *w, fd_set *e, struct timeval *tv);
int tas_pselect(int n, fd_set *r, fd_set *w, fd_set *e, const struct timespec *ts,
                const sigset_t *mask);

int tas_epoll_create(int size);
int tas_epoll_create1(int flags);
int tas_epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev);
int tas_epoll_wait(int epfd, struct epoll_event *ev, int max, int timeout);
int tas_epoll_pwait(int epfd, struct epoll_event *ev, int max, int timeout,
                    const sigset_t *mask);

#ifdef __cplusplus
}
#endif

#endif /* LIBTAS_H */
