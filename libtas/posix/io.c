/* io.c - moving bytes: read/recv* and write/send* on tasd sockets.
 *
 * Receiving copies from the connection's rx ring at the application's read
 * position (wrapping around the ring's end) and reports the consumed bytes
 * to the flow's fast-path core (TAS_FPIN_UPDATE.rx_bytes, coalesced per
 * call).  Sending copies into the tx ring at the write position, up to the
 * space tasd has freed, and reports tx_bytes the same way.
 *
 * Semantics follow Linux: partial reads; blocking writes return only when
 * everything is written (or an error/timeout/signal ends them, with the
 * count so far); non-blocking calls return EAGAIN; 0 at EOF after the data;
 * after a reset the data already received, then ECONNRESET once, then EOF,
 * while writes see ECONNRESET once, then EPIPE; EPIPE raises SIGPIPE unless
 * MSG_NOSIGNAL; after tasd exited reads give ECONNRESET (after received data)
 * and writes EPIPE.  MSG_PEEK, MSG_DONTWAIT, MSG_WAITALL (with MSG_PEEK too:
 * it waits for the whole length, or a full ring where Linux would wait for
 * ever), MSG_TRUNC (discard) work; MSG_OOB gives EINVAL on receive (no urgent
 * data, as Linux without any) and EOPNOTSUPP on send (tasd sends no urgent
 * data; Linux would); MSG_ERRQUEUE gives EAGAIN (nothing is ever queued);
 * SO_RCVTIMEO and SO_SNDTIMEO bound blocking calls.
 *
 * sendmmsg/recvmmsg loop over sendmsg/recvmsg as Linux does for TCP, and
 * splice() moves bytes between a pipe and a tasd socket in either
 * direction; sendfile() from a file reads and sends in chunks.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "libtas/posix/posix.h"
#include "libtas/libtas.h"

#define SENDFILE_CHUNK 65536

/* A blocking call's tc_wait() returned r, with `done` bytes moved so far:
 * 0 to go round again (woken, or interrupted by a signal whose handler has
 * SA_RESTART while nothing has moved and no SO_RCVTIMEO/SO_SNDTIMEO is
 * set), else the error to return (-EAGAIN when the deadline passed).  The
 * caller returns the count instead when there is one, as Linux does after
 * a signal too. */
static int wait_again(int r, size_t done, const struct timespec *deadline)
{
    if (r == TC_WAIT_TIMEOUT)
        return -EAGAIN;
    if (r == -EINTR) /* with a socket timeout, never restarted (Linux) */
        return done == 0 && deadline == NULL && tc_restart_signals() ? 0 : -EINTR;
    return r < 0 ? r : 0;
}

/* An iovec array from the application: 0, or -EINVAL (bad count) or
 * -EFAULT (no array), as readv/writev say. */
static int iov_check(const struct iovec *iov, int iovcnt)
{
    if (iovcnt < 0 || iovcnt > IOV_MAX)
        return -EINVAL;
    return iov == NULL && iovcnt > 0 ? -EFAULT : 0;
}

/* A msghdr from the application: as sendmsg/recvmsg say. */
static int msg_check(const struct msghdr *m)
{
    if (m == NULL)
        return -EFAULT;
    if (m->msg_iovlen > IOV_MAX)
        return -EMSGSIZE;
    return m->msg_iov == NULL && m->msg_iovlen > 0 ? -EFAULT : 0;
}

/* ------------------------------------------------------------ receive */

struct rx_want {
    struct tc_sock *s;
    uint32_t want; /* received bytes worth waking up for */
};

static bool rx_wakeup(void *arg)
{
    const struct rx_want *w = arg;
    const struct tc_sock *s = w->s;
    return s->rx_ready >= w->want || s->rd_eof || s->rd_shut || s->so_error != 0 ||
           s->dead || s->app_closed ||
           (s->state != TC_SS_CONNECTED && s->state != TC_SS_CONNECTING);
}

static ssize_t do_recv(struct tc_sock *s, const struct iovec *iov, int iovcnt, int flags)
{
    struct timespec dl, *dlp = NULL;
    size_t len = tc_iov_len(iov, iovcnt), copied = 0;
    bool nb = s->nonblock || (flags & MSG_DONTWAIT);
    size_t target = (flags & MSG_WAITALL) ? len : 1;
    ssize_t r;

    if (s->detached)
        return tc_detached_err();
    if (flags & MSG_OOB) /* as Linux without urgent data */
        return -EINVAL;
    if (flags & MSG_ERRQUEUE) /* TCP queues no errors here: nothing to read */
        return -EAGAIN;
    if (s->state == TC_SS_FRESH || s->state == TC_SS_LISTENING ||
        s->state == TC_SS_LISTEN_WAIT ||
        (s->state == TC_SS_CLOSED && !s->was_connected)) {
        int err = s->state == TC_SS_CLOSED && s->so_error != 0 ? s->so_error : ENOTCONN;
        if (err == s->so_error)
            s->so_error = 0;
        return -err;
    }
    if (len == 0)
        return 0;
    if (s->rcvtimeo_ms > 0) {
        tc_deadline_ms(&dl, s->rcvtimeo_ms);
        dlp = &dl;
    }
    for (;;) {
        tc_process();
        if ((flags & MSG_PEEK) && s->rx_ready > 0) {
            /* Peeking copies from the read position each time; with
             * MSG_WAITALL it waits until the whole length is there (or
             * nothing more can come), as Linux does. */
            bool more = !(s->rd_eof || s->rd_shut || s->state == TC_SS_CLOSED ||
                          s->dead || s->so_error != 0 || nb);
            if (s->rx_ready >= target || s->rx_ready == s->rx_size || !more) {
                copied = len < s->rx_ready ? len : s->rx_ready;
                tc_ring_read(s->rx_base, s->rx_size, s->rx_head,
                             (flags & MSG_TRUNC) ? NULL : iov, iovcnt, 0, copied);
                break;
            }
        } else if (s->rx_ready > 0 && copied < len) {
            size_t n = len - copied < s->rx_ready ? len - copied : s->rx_ready;
            tc_ring_read(s->rx_base, s->rx_size, s->rx_head,
                         (flags & MSG_TRUNC) ? NULL : iov, iovcnt, copied, n);
            copied += n;
            s->rx_head = tc_ring_advance(s->rx_head, (uint32_t)n, s->rx_size);
            s->rx_ready -= (uint32_t)n;
            if (s->flow_live) {
                s->pend_rx += (uint32_t)n;
                tc_sock_mark_dirty(s);
                tc_idle_touch(s);
            }
            tc_sock_changed(s);
        }
        if (copied >= target)
            break;
        if (s->dead) {
            r = -ECONNRESET;
            goto done;
        }
        if (s->so_error != 0) { /* reported once, after the data */
            r = -s->so_error;
            s->so_error = 0;
            goto done;
        }
        if (s->rd_eof || s->rd_shut || s->state == TC_SS_CLOSED)
            break;
        if (s->app_closed) {
            r = -EBADF;
            goto done;
        }
        if (nb) {
            r = -EAGAIN;
            goto done;
        }
        tc_fp_flush(); /* window space goes back before we sleep */
        struct rx_want w = {s, 1};
        if (flags & MSG_PEEK) /* a full ring ends the wait too */
            w.want = (uint32_t)(target < s->rx_size ? target : s->rx_size);
        r = wait_again(tc_wait(tc_qc_bit(s->qc), rx_wakeup, &w, dlp, NULL, 0, NULL),
                       (flags & MSG_PEEK) ? 0 : copied, dlp);
        if (r < 0)
            goto done;
    }
    r = (ssize_t)copied;
done:
    if (r < 0 && copied > 0)
        r = (ssize_t)copied;
    tc_fp_flush();
    return r;
}

ssize_t tas_readv(int fd, const struct iovec *iov, int iovcnt)
{
    struct tc_sock *s = tp_enter_data(fd);
    if (s == NULL)
        return real_readv(fd, iov, iovcnt);
    ssize_t r = iov_check(iov, iovcnt);
    if (r == 0)
        r = do_recv(s, iov, iovcnt, 0);
    tp_leave(s);
    return tp_ret(r);
}

ssize_t tas_read(int fd, void *buf, size_t n)
{
    struct tc_sock *s = tp_enter_data(fd);
    if (s == NULL)
        return real_read(fd, buf, n);
    struct iovec v = {buf, n};
    ssize_t r = do_recv(s, &v, 1, 0);
    tp_leave(s);
    return tp_ret(r);
}

ssize_t tas_recv(int fd, void *buf, size_t n, int flags)
{
    return tas_recvfrom(fd, buf, n, flags, NULL, NULL);
}

ssize_t tas_recvfrom(int fd, void *buf, size_t n, int flags, struct sockaddr *addr,
                     socklen_t *len)
{
    struct tc_sock *s = tp_enter_data(fd);
    if (s == NULL)
        return real_recvfrom(fd, buf, n, flags, addr, len);
    struct iovec v = {buf, n};
    ssize_t r = do_recv(s, &v, 1, flags);
    tp_leave(s);
    if (r >= 0 && addr != NULL && len != NULL)
        *len = 0; /* TCP has no per-message source address */
    return tp_ret(r);
}

ssize_t tas_recvmsg(int fd, struct msghdr *msg, int flags)
{
    struct tc_sock *s = tp_enter_data(fd);
    if (s == NULL)
        return real_recvmsg(fd, msg, flags);
    ssize_t r = msg_check(msg);
    if (r == 0)
        r = do_recv(s, msg->msg_iov, (int)msg->msg_iovlen, flags);
    tp_leave(s);
    if (r >= 0) {
        msg->msg_namelen = 0;
        msg->msg_controllen = 0;
        msg->msg_flags = 0;
    }
    return tp_ret(r);
}

/* ------------------------------------------------------------ send */

struct tx_want {
    struct tc_sock *s;
    size_t want; /* free space worth waking up for */
};

static bool tx_wakeup(void *arg)
{
    const struct tx_want *w = arg;
    const struct tc_sock *s = w->s;
    return s->tx_free >= w->want || s->so_error != 0 || s->dead || s->reset ||
           s->wr_shut || s->app_closed || s->state != TC_SS_CONNECTED;
}

static bool connect_over(void *arg)
{
    return ((struct tc_sock *)arg)->state != TC_SS_CONNECTING;
}

void tp_tx_maybe_grow(struct tc_sock *s)
{
    if (!s->tx_tight || s->tx_size >= s->tx_max || s->pend_tx_size != 0 ||
        !s->flow_live || s->need_attach || s->reset)
        return;
    /* The queued bytes end at the tail; at 0 with bytes queued, the tail is
     * the ring's end.  Only if they do not wrap can the ring grow under them. */
    uint32_t queued = s->tx_size - s->tx_free;
    uint32_t tail = s->tx_tail == 0 && queued > 0 ? s->tx_size : s->tx_tail;
    if (queued > tail)
        return;
    uint64_t n = (uint64_t)s->tx_size * 4;
    if (n > s->tx_max)
        n = s->tx_max;
    uint32_t d = (uint32_t)n - s->tx_size;
    s->tx_size = (uint32_t)n;
    s->tx_base = s->tx_end - s->tx_size;
    s->tx_tail = tail + d == s->tx_size ? 0 : tail + d;
    s->tx_free += d;
    s->tx_tight = false;
    s->pend_tx_pre = s->pend_tx;
    s->pend_tx = 0;
    s->pend_tx_size = s->tx_size;
    s->pend_tx_tail = s->tx_tail;
    tc_sock_mark_dirty(s);
}

/* Returns bytes written or -errno; *pipe says whether SIGPIPE is due. */
static ssize_t do_send(struct tc_sock *s, const struct iovec *iov, int iovcnt, int flags,
                       bool *pipe)
{
    struct timespec dl, *dlp = NULL;
    size_t len = tc_iov_len(iov, iovcnt), done = 0;
    bool nb = s->nonblock || (flags & MSG_DONTWAIT);
    ssize_t r;

    *pipe = false;
    if (s->detached)
        return tc_detached_err();
    if (flags & MSG_OOB)
        return -EOPNOTSUPP;
    bool was_more = s->more;
    s->more = (flags & MSG_MORE) != 0; /* this write's bytes wait (TAS_FPIN_MORE)? */
    if (s->sndtimeo_ms > 0) {
        tc_deadline_ms(&dl, s->sndtimeo_ms);
        dlp = &dl;
    }
    for (;;) {
        tc_process();
        if (s->state == TC_SS_CONNECTING) { /* as Linux: wait for the handshake */
            if (nb)
                return -EAGAIN;
            r = wait_again(tc_wait(tc_qc_bit(s->qc), connect_over, s, dlp, NULL, 0, NULL),
                           0, dlp);
            if (r < 0)
                return r;
            continue;
        }
        if (s->app_closed) { /* close() by another thread: EBADF, not SIGPIPE */
            r = -EBADF;
            goto done;
        }
        if (s->so_error != 0 && !s->dead) { /* ECONNRESET once, then EPIPE */
            if (done > 0)
                break; /* the bytes written now; the error for the next call */
            r = -s->so_error;
            s->so_error = 0;
            goto done;
        }
        if (s->state != TC_SS_CONNECTED || s->dead || s->reset || s->wr_shut ||
            s->app_closed || !s->flow_live) {
            r = -EPIPE;
            goto done;
        }
        if (done == len)
            break;
        if (s->tx_free < len - done) {
            s->tx_tight = true; /* autotuning (tas/ctxq.h): grow when it can */
            tp_tx_maybe_grow(s);
        }
        if (s->idle_wait) { /* its pages may be going back (core/idle.c) */
            r = tc_wait(tc_qc_bit(s->qc), tc_idle_writable, s, NULL, NULL, 0, NULL);
            if (r < 0 && r != -EINTR)
                goto done;
            continue;
        }
        s->idle_ask = false; /* not idle after all */
        if (s->tx_free > 0) {
            size_t n = len - done < s->tx_free ? len - done : s->tx_free;
            tc_ring_write(s->tx_base, s->tx_size, s->tx_tail, iov, iovcnt, done, n);
            s->tx_tail = tc_ring_advance(s->tx_tail, (uint32_t)n, s->tx_size);
            s->tx_free -= (uint32_t)n;
            s->pend_tx += (uint32_t)n;
            tc_sock_mark_dirty(s);
            tc_sock_changed(s); /* less room: epoll's edge-triggered EPOLLOUT */
            done += n;
            if (!tc_sock_writable(s)) { /* a poll()ing writer waits now: */
                s->tx_tight = true;     /* the ring is small for it */
                tp_tx_maybe_grow(s);
            }
            if (done == len)
                break;
        }
        tc_fp_flush(); /* get the bytes moving before waiting for space */
        if (nb) {
            r = -EAGAIN;
            goto done;
        }
        struct tx_want w = {s, len - done};
        if (w.want > s->tx_size / 4)
            w.want = s->tx_size / 4 > 0 ? s->tx_size / 4 : 1;
        r = wait_again(tc_wait(tc_qc_bit(s->qc), tx_wakeup, &w, dlp, NULL, 0, NULL), done,
                       dlp);
        if (r < 0)
            goto done;
    }
    r = (ssize_t)done;
done:
    if (r < 0 && done > 0)
        r = (ssize_t)done;
    if (r == -EPIPE)
        *pipe = true;
    if (was_more && !s->more && !s->cork && done == 0)
        tc_sock_push(s); /* what the last MSG_MORE left goes (bytes would carry it) */
    tc_fp_flush();
    return r;
}

static ssize_t send_finish(ssize_t r, bool pipe, int flags)
{
    if (pipe && !(flags & MSG_NOSIGNAL))
        raise(SIGPIPE); /* after unlocking: a handler may call us */
    return tp_ret(r);
}

ssize_t tas_writev(int fd, const struct iovec *iov, int iovcnt)
{
    struct tc_sock *s = tp_enter_data(fd);
    if (s == NULL)
        return real_writev(fd, iov, iovcnt);
    bool pipe = false;
    ssize_t r = iov_check(iov, iovcnt);
    if (r == 0)
        r = do_send(s, iov, iovcnt, 0, &pipe);
    tp_leave(s);
    return send_finish(r, pipe, 0);
}

ssize_t tas_write(int fd, const void *buf, size_t n)
{
    struct tc_sock *s = tp_enter_data(fd);
    if (s == NULL)
        return real_write(fd, buf, n);
    struct iovec v = {(void *)buf, n};
    bool pipe = false;
    ssize_t r = do_send(s, &v, 1, 0, &pipe);
    tp_leave(s);
    return send_finish(r, pipe, 0);
}

ssize_t tas_send(int fd, const void *buf, size_t n, int flags)
{
    return tas_sendto(fd, buf, n, flags, NULL, 0);
}

ssize_t tas_sendto(int fd, const void *buf, size_t n, int flags,
                   const struct sockaddr *addr, socklen_t len)
{
    struct tc_sock *s = tp_enter_data(fd);
    if (s == NULL)
        return real_sendto(fd, buf, n, flags, addr, len);
    struct iovec v = {(void *)buf, n};
    bool pipe = false;
    ssize_t r = do_send(s, &v, 1, flags, &pipe); /* TCP ignores the address */
    tp_leave(s);
    return send_finish(r, pipe, flags);
}

ssize_t tas_sendmsg(int fd, const struct msghdr *msg, int flags)
{
    struct tc_sock *s = tp_enter_data(fd);
    if (s == NULL)
        return real_sendmsg(fd, msg, flags);
    bool pipe = false;
    ssize_t r = msg_check(msg);
    if (r == 0)
        r = do_send(s, msg->msg_iov, (int)msg->msg_iovlen, flags, &pipe);
    tp_leave(s);
    return send_finish(r, pipe, flags);
}

/* sendfile() to a tasd socket: read a chunk, write it; what could not be
 * written is given back to the input (offset or file position). */
ssize_t tas_sendfile(int out_fd, int in_fd, off_t *offset, size_t count)
{
    struct tc_obj *o = tp_fd_get(out_fd);
    if (likely(o == NULL) || o->kind != TC_OBJ_SOCK)
        return real_sendfile(out_fd, in_fd, offset, count);

    size_t total = 0;
    char *buf = malloc(SENDFILE_CHUNK);
    if (buf == NULL)
        return tp_ret(-ENOMEM);
    while (total < count) {
        size_t want = count - total < SENDFILE_CHUNK ? count - total : SENDFILE_CHUNK;
        ssize_t got = offset != NULL ? pread(in_fd, buf, want, *offset)
                                     : real_read(in_fd, buf, want);
        if (got <= 0) {
            if (got < 0 && total == 0) {
                free(buf);
                return -1;
            }
            break;
        }
        ssize_t put = tas_send(out_fd, buf, (size_t)got, MSG_NOSIGNAL);
        if (put < 0) {
            if (offset == NULL)
                lseek(in_fd, -got, SEEK_CUR);
            if (total == 0) {
                int err = errno;
                free(buf);
                if (err == EPIPE)
                    raise(SIGPIPE);
                errno = err;
                return -1;
            }
            break;
        }
        if (offset != NULL)
            *offset += put;
        else if (put < got)
            lseek(in_fd, put - got, SEEK_CUR);
        total += (size_t)put;
        if (put < got)
            break;
    }
    free(buf);
    return (ssize_t)total;
}

/* ------------------------------------------------------------ many messages */

/* sendmmsg() on a tasd socket: sendmsg() for each message in turn, as Linux
 * does for TCP.  The count of messages sent if any was, else the error. */
int tas_sendmmsg(int fd, struct mmsghdr *vec, unsigned int n, int flags)
{
    struct tc_sock *s = tp_enter_data(fd);
    if (s == NULL)
        return real_sendmmsg(fd, vec, n, flags);
    bool pipe = false;
    ssize_t r = 0;
    unsigned int i;
    if (n > IOV_MAX) /* Linux caps vlen at UIO_MAXIOV */
        n = IOV_MAX;
    if (vec == NULL && n > 0) {
        r = -EFAULT;
        n = 0;
    }
    for (i = 0; i < n; i++) {
        struct msghdr *m = &vec[i].msg_hdr;
        r = msg_check(m);
        if (r == 0)
            r = do_send(s, m->msg_iov, (int)m->msg_iovlen, flags, &pipe);
        if (r < 0)
            break;
        vec[i].msg_len = (unsigned int)r;
    }
    tp_leave(s);
    if (pipe && !(flags & MSG_NOSIGNAL))
        raise(SIGPIPE);
    return i > 0 ? (int)i : (int)tp_ret(r);
}

/* recvmmsg() on a tasd socket: recvmsg() for each message, as Linux does
 * for TCP: MSG_WAITFORONE makes the calls after the first non-blocking, and
 * the timeout is looked at after each message (not while one blocks). */
int tas_recvmmsg(int fd, struct mmsghdr *vec, unsigned int n, int flags,
                 struct timespec *timeout)
{
    struct tc_sock *s = tp_enter_data(fd);
    if (s == NULL)
        return real_recvmmsg(fd, vec, n, flags, timeout);
    struct timespec end;
    ssize_t r = 0;
    unsigned int i = 0;
    if (timeout != NULL) {
        if (timeout->tv_sec < 0 || timeout->tv_nsec < 0 ||
            timeout->tv_nsec >= 1000000000L) {
            tp_leave(s);
            return (int)tp_ret(-EINVAL);
        }
        tc_now(&end);
        end.tv_sec += timeout->tv_sec;
        end.tv_nsec += timeout->tv_nsec;
        if (end.tv_nsec >= 1000000000L) {
            end.tv_sec++;
            end.tv_nsec -= 1000000000L;
        }
    }
    if (vec == NULL && n > 0) {
        r = -EFAULT;
        n = 0;
    }
    while (i < n) {
        struct msghdr *m = &vec[i].msg_hdr;
        r = msg_check(m);
        if (r == 0)
            r = do_recv(s, m->msg_iov, (int)m->msg_iovlen, flags);
        if (r < 0)
            break;
        vec[i].msg_len = (unsigned int)r;
        m->msg_namelen = 0;
        m->msg_controllen = 0;
        m->msg_flags = 0;
        i++;
        if (flags & MSG_WAITFORONE)
            flags |= MSG_DONTWAIT;
        if (timeout != NULL) {
            struct timespec now;
            tc_now(&now);
            long long left = (long long)(end.tv_sec - now.tv_sec) * 1000000000LL +
                             (end.tv_nsec - now.tv_nsec);
            if (left < 0)
                left = 0;
            timeout->tv_sec = (time_t)(left / 1000000000LL);
            timeout->tv_nsec = (long)(left % 1000000000LL);
            if (left == 0)
                break;
        }
    }
    tp_leave(s);
    if (i > 0 || r >= 0)
        return (int)i;
    return (int)tp_ret(r);
}

/* ------------------------------------------------------------ splice */

/* splice() with a tasd socket at one end.  As on Linux the other end must
 * be a pipe, SPLICE_F_NONBLOCK makes the pipe side non-blocking and the
 * socket's own O_NONBLOCK the socket side.  Pipe to socket: the pipe is
 * read only when the socket has room for what is read, so no byte leaves
 * the pipe that the socket cannot take.  Socket to pipe: the bytes are
 * peeked, written to the pipe, and then consumed as far as the pipe took
 * them (a second thread reading the same socket meanwhile would see them
 * twice; TCP readers do not share a socket). */

static bool is_pipe(int fd, int *err)
{
    struct stat st;
    if (fstat(fd, &st) != 0) {
        *err = -errno;
        return false;
    }
    *err = -EINVAL;
    return S_ISFIFO(st.st_mode);
}

static bool fd_nonblock(int fd)
{
    int fl = real_fcntl(fd, F_GETFL, NULL);
    return fl >= 0 && (fl & O_NONBLOCK);
}

/* Bytes in the pipe now (FIONREAD); 0 on error. */
static size_t pipe_bytes(int fd)
{
    int n = 0;
    return real_ioctl(fd, FIONREAD, &n) == 0 && n > 0 ? (size_t)n : 0;
}

/* Read what the pipe holds without ever blocking (the tas lock is held):
 * RWF_NOWAIT, as if the pipe were O_NONBLOCK.  -errno on error. */
static ssize_t pipe_read_now(int fd, void *buf, size_t n)
{
    struct iovec v = {buf, n};
    ssize_t r = preadv2(fd, &v, 1, -1, RWF_NOWAIT);
    if (r < 0 && errno == EOPNOTSUPP) /* kernels before pipes took RWF_NOWAIT */
        r = real_read(fd, buf, n);
    return r < 0 ? -errno : r;
}

static bool tx_room(void *arg)
{
    struct tx_want w = {arg, 1};
    return tx_wakeup(&w);
}

static ssize_t splice_to_sock(int pfd, int sfd, size_t len, unsigned int flags)
{
    bool pipe_nb = (flags & SPLICE_F_NONBLOCK) || fd_nonblock(pfd);
    size_t done = 0;
    ssize_t r = 0;
    bool sigpipe = false;
    char *buf = malloc(SENDFILE_CHUNK);
    if (buf == NULL)
        return tp_ret(-ENOMEM);
    while (done < len) {
        size_t avail = pipe_bytes(pfd);
        if (avail == 0) {
            if (done > 0)
                break;
            struct pollfd p = {.fd = pfd, .events = POLLIN};
            int pr = real_poll(&p, 1, pipe_nb ? 0 : -1);
            if (pr < 0) {
                r = -errno;
                break;
            }
            if (pr == 0) {
                r = -EAGAIN;
                break;
            }
            if (pipe_bytes(pfd) == 0 && (p.revents & (POLLHUP | POLLERR)))
                break; /* no writer left: 0, as Linux */
            continue;
        }
        struct tc_sock *s = tp_enter_data(sfd);
        if (s == NULL) {
            r = -EBADF;
            break;
        }
        bool nb = s->nonblock; /* SPLICE_F_NONBLOCK is about the pipe */
        r = do_send(s, NULL, 0, MSG_DONTWAIT, &sigpipe); /* errors first */
        while (r == 0 && s->tx_free == 0) {
            s->tx_tight = true;
            tp_tx_maybe_grow(s);
            tc_process();
            if (s->tx_free > 0)
                break;
            if (nb)
                r = -EAGAIN;
            else if ((r = wait_again(
                          tc_wait(tc_qc_bit(s->qc), tx_room, s, NULL, NULL, 0, NULL), 0,
                          NULL)) == 0)
                r = do_send(s, NULL, 0, MSG_DONTWAIT, &sigpipe);
        }
        if (r == 0) {
            size_t n = len - done;
            if (n > avail)
                n = avail;
            if (n > s->tx_free)
                n = s->tx_free;
            if (n > SENDFILE_CHUNK)
                n = SENDFILE_CHUNK;
            ssize_t got = pipe_read_now(pfd, buf, n);
            if (got < 0)
                r = got == -EAGAIN ? 0 : (int)got; /* another reader was first */
            else if (got > 0) {
                struct iovec v = {buf, (size_t)got};
                r = do_send(s, &v, 1, MSG_DONTWAIT, &sigpipe);
                if (r > 0)
                    done += (size_t)r;
            }
        }
        tp_leave(s);
        if (r < 0)
            break;
    }
    free(buf);
    if (done > 0)
        return (ssize_t)done;
    if (sigpipe)
        raise(SIGPIPE);
    return tp_ret(r);
}

static ssize_t splice_from_sock(int sfd, int pfd, size_t len, unsigned int flags)
{
    int cap = real_fcntl(pfd, F_GETPIPE_SZ, NULL);
    size_t room =
        cap > 0 && (size_t)cap > pipe_bytes(pfd) ? (size_t)cap - pipe_bytes(pfd) : 0;
    if (room == 0) {
        struct pollfd p = {.fd = pfd, .events = POLLOUT};
        bool nb = (flags & SPLICE_F_NONBLOCK) || fd_nonblock(pfd);
        int pr = real_poll(&p, 1, nb ? 0 : -1);
        if (pr < 0)
            return -1;
        if (pr == 0)
            return tp_ret(-EAGAIN);
        room = PIPE_BUF;
    }
    if (len > room)
        len = room;
    if (len > SENDFILE_CHUNK)
        len = SENDFILE_CHUNK;
    char *buf = malloc(len);
    if (buf == NULL)
        return tp_ret(-ENOMEM);
    struct tc_sock *s = tp_enter_data(sfd);
    if (s == NULL) {
        free(buf);
        return tp_ret(-EBADF);
    }
    struct iovec v = {buf, len};
    ssize_t r = do_recv(s, &v, 1, MSG_PEEK); /* blocks unless O_NONBLOCK, as Linux */
    tp_leave(s);
    if (r > 0) {
        ssize_t w = real_write(pfd, buf, (size_t)r);
        if (w < 0) {
            r = -errno;
        } else {
            r = w;
            s = tp_enter_data(sfd);
            if (s != NULL) { /* consume what the pipe took */
                v.iov_len = (size_t)w;
                do_recv(s, &v, 1, MSG_TRUNC | MSG_DONTWAIT);
                tp_leave(s);
            }
        }
    }
    free(buf);
    return tp_ret(r);
}

ssize_t tas_splice(int fd_in, loff_t *off_in, int fd_out, loff_t *off_out, size_t len,
                   unsigned int flags)
{
    struct tc_obj *oi = tp_fd_get(fd_in), *oo = tp_fd_get(fd_out);
    bool in_tas = oi != NULL && oi->kind == TC_OBJ_SOCK;
    bool out_tas = oo != NULL && oo->kind == TC_OBJ_SOCK;
    int err;
    if (likely(!in_tas && !out_tas))
        return real_splice(fd_in, off_in, fd_out, off_out, len, flags);
    if (!is_pipe(in_tas ? fd_out : fd_in, &err)) /* one end must be a pipe */
        return tp_ret(err);
    if ((in_tas ? off_out : off_in) != NULL) /* a pipe has no offset */
        return tp_ret(-ESPIPE);
    if ((in_tas ? off_in : off_out) != NULL) /* nor has a socket */
        return tp_ret(-EINVAL);
    if (len == 0)
        return 0;
    return in_tas ? splice_from_sock(fd_in, fd_out, len, flags)
                  : splice_to_sock(fd_in, fd_out, len, flags);
}
