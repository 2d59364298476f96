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
 * and writes EPIPE.  MSG_PEEK, MSG_DONTWAIT, MSG_WAITALL and MSG_TRUNC
 * (discard) work; SO_RCVTIMEO and SO_SNDTIMEO bound blocking calls.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libtas/internal.h"
#include "libtas/libtas.h"

#define SENDFILE_CHUNK 65536

/* A blocking call's tas_wait() returned r: 0 to go round again (woken, or
 * interrupted by a signal whose handler has SA_RESTART), else the error to
 * return (-EAGAIN when the SO_RCVTIMEO/SO_SNDTIMEO deadline passed). */
static int wait_again(int r)
{
    if (r == TAS_WAIT_TIMEOUT)
        return -EAGAIN;
    if (r == -EINTR)
        return tas_restart_signals() ? 0 : -EINTR;
    return r < 0 ? r : 0;
}

/* ------------------------------------------------------------ receive */

static bool rx_wakeup(void *arg)
{
    struct tas_sock *s = arg;
    return s->rx_ready > 0 || s->rd_eof || s->rd_shut || s->so_error != 0 || s->dead ||
           s->app_closed ||
           (s->state != TAS_SS_CONNECTED && s->state != TAS_SS_CONNECTING);
}

static ssize_t do_recv(struct tas_sock *s, const struct iovec *iov, int iovcnt, int flags)
{
    struct timespec dl, *dlp = NULL;
    size_t len = tas_iov_len(iov, iovcnt), copied = 0;
    bool nb = s->nonblock || (flags & MSG_DONTWAIT);
    size_t target = (flags & MSG_WAITALL) && !(flags & MSG_PEEK) ? len : 1;
    ssize_t r;

    if (s->detached)
        return tas_detached_err();
    if (flags & MSG_OOB)
        return -EINVAL;
    if (s->state == TAS_SS_FRESH || s->state == TAS_SS_LISTENING ||
        s->state == TAS_SS_LISTEN_WAIT ||
        (s->state == TAS_SS_CLOSED && !s->was_connected)) {
        int err = s->state == TAS_SS_CLOSED && s->so_error != 0 ? s->so_error : ENOTCONN;
        if (err == s->so_error)
            s->so_error = 0;
        return -err;
    }
    if (len == 0)
        return 0;
    if (s->rcvtimeo_ms > 0) {
        tas_deadline_ms(&dl, s->rcvtimeo_ms);
        dlp = &dl;
    }
    for (;;) {
        tas_process();
        if (s->rx_ready > 0 && copied < len) {
            size_t n = len - copied < s->rx_ready ? len - copied : s->rx_ready;
            tas_ring_read(s->rx_base, s->rx_size, s->rx_head,
                          (flags & MSG_TRUNC) ? NULL : iov, iovcnt, copied, n);
            copied += n;
            if (flags & MSG_PEEK)
                break;
            s->rx_head = tas_ring_advance(s->rx_head, (uint32_t)n, s->rx_size);
            s->rx_ready -= (uint32_t)n;
            if (s->flow_live) {
                s->pend_rx += (uint32_t)n;
                tas_sock_mark_dirty(s);
            }
            tas_sock_changed(s);
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
        if (s->rd_eof || s->rd_shut || s->state == TAS_SS_CLOSED)
            break;
        if (s->app_closed) {
            r = -EBADF;
            goto done;
        }
        if (nb) {
            r = -EAGAIN;
            goto done;
        }
        tas_fp_flush(); /* window space goes back before we sleep */
        r = wait_again(tas_wait(rx_wakeup, s, dlp, NULL, 0, NULL));
        if (r < 0)
            goto done;
    }
    r = (ssize_t)copied;
done:
    if (r < 0 && copied > 0)
        r = (ssize_t)copied;
    tas_fp_flush();
    return r;
}

ssize_t tas_readv(int fd, const struct iovec *iov, int iovcnt)
{
    struct tas_sock *s = tas_enter(fd);
    if (s == NULL)
        return real_readv(fd, iov, iovcnt);
    ssize_t r = iovcnt < 0 || iovcnt > IOV_MAX ? -EINVAL : do_recv(s, iov, iovcnt, 0);
    tas_leave(s);
    return tas_ret(r);
}

ssize_t tas_read(int fd, void *buf, size_t n)
{
    struct tas_sock *s = tas_enter(fd);
    if (s == NULL)
        return real_read(fd, buf, n);
    struct iovec v = {buf, n};
    ssize_t r = do_recv(s, &v, 1, 0);
    tas_leave(s);
    return tas_ret(r);
}

ssize_t tas_recv(int fd, void *buf, size_t n, int flags)
{
    return tas_recvfrom(fd, buf, n, flags, NULL, NULL);
}

ssize_t tas_recvfrom(int fd, void *buf, size_t n, int flags, struct sockaddr *addr,
                     socklen_t *len)
{
    struct tas_sock *s = tas_enter(fd);
    if (s == NULL)
        return real_recvfrom(fd, buf, n, flags, addr, len);
    struct iovec v = {buf, n};
    ssize_t r = do_recv(s, &v, 1, flags);
    tas_leave(s);
    if (r >= 0 && addr != NULL && len != NULL)
        *len = 0; /* TCP has no per-message source address */
    return tas_ret(r);
}

ssize_t tas_recvmsg(int fd, struct msghdr *msg, int flags)
{
    struct tas_sock *s = tas_enter(fd);
    if (s == NULL)
        return real_recvmsg(fd, msg, flags);
    ssize_t r;
    if (msg == NULL)
        r = -EFAULT;
    else if (msg->msg_iovlen > IOV_MAX)
        r = -EMSGSIZE;
    else
        r = do_recv(s, msg->msg_iov, (int)msg->msg_iovlen, flags);
    tas_leave(s);
    if (r >= 0) {
        msg->msg_namelen = 0;
        msg->msg_controllen = 0;
        msg->msg_flags = 0;
    }
    return tas_ret(r);
}

/* ------------------------------------------------------------ send */

struct tx_want {
    struct tas_sock *s;
    size_t want; /* free space worth waking up for */
};

static bool tx_wakeup(void *arg)
{
    const struct tx_want *w = arg;
    const struct tas_sock *s = w->s;
    return s->tx_free >= w->want || s->so_error != 0 || s->dead || s->reset ||
           s->wr_shut || s->app_closed || s->state != TAS_SS_CONNECTED;
}

static bool connect_over(void *arg)
{
    return ((struct tas_sock *)arg)->state != TAS_SS_CONNECTING;
}

/* Returns bytes written or -errno; *pipe says whether SIGPIPE is due. */
static ssize_t do_send(struct tas_sock *s, const struct iovec *iov, int iovcnt, int flags,
                       bool *pipe)
{
    struct timespec dl, *dlp = NULL;
    size_t len = tas_iov_len(iov, iovcnt), done = 0;
    bool nb = s->nonblock || (flags & MSG_DONTWAIT);
    ssize_t r;

    *pipe = false;
    if (s->detached)
        return tas_detached_err();
    if (flags & MSG_OOB)
        return -EOPNOTSUPP;
    if (s->sndtimeo_ms > 0) {
        tas_deadline_ms(&dl, s->sndtimeo_ms);
        dlp = &dl;
    }
    for (;;) {
        tas_process();
        if (s->state == TAS_SS_CONNECTING) { /* as Linux: wait for the handshake */
            if (nb)
                return -EAGAIN;
            r = wait_again(tas_wait(connect_over, s, dlp, NULL, 0, NULL));
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
        if (s->state != TAS_SS_CONNECTED || s->dead || s->reset || s->wr_shut ||
            s->app_closed || !s->flow_live) {
            r = -EPIPE;
            goto done;
        }
        if (done == len)
            break;
        if (s->tx_free > 0) {
            size_t n = len - done < s->tx_free ? len - done : s->tx_free;
            tas_ring_write(s->tx_base, s->tx_size, s->tx_tail, iov, iovcnt, done, n);
            s->tx_tail = tas_ring_advance(s->tx_tail, (uint32_t)n, s->tx_size);
            s->tx_free -= (uint32_t)n;
            s->pend_tx += (uint32_t)n;
            tas_sock_mark_dirty(s);
            tas_sock_changed(s); /* less room: epoll's edge-triggered EPOLLOUT */
            done += n;
            if (done == len)
                break;
        }
        tas_fp_flush(); /* get the bytes moving before waiting for space */
        if (nb) {
            r = -EAGAIN;
            goto done;
        }
        struct tx_want w = {s, len - done};
        if (w.want > s->tx_size / 4)
            w.want = s->tx_size / 4 > 0 ? s->tx_size / 4 : 1;
        r = wait_again(tas_wait(tx_wakeup, &w, dlp, NULL, 0, NULL));
        if (r < 0)
            goto done;
    }
    r = (ssize_t)done;
done:
    if (r < 0 && done > 0)
        r = (ssize_t)done;
    if (r == -EPIPE)
        *pipe = true;
    tas_fp_flush();
    return r;
}

static ssize_t send_finish(ssize_t r, bool pipe, int flags)
{
    if (pipe && !(flags & MSG_NOSIGNAL))
        raise(SIGPIPE); /* after unlocking: a handler may call us */
    return tas_ret(r);
}

ssize_t tas_writev(int fd, const struct iovec *iov, int iovcnt)
{
    struct tas_sock *s = tas_enter(fd);
    if (s == NULL)
        return real_writev(fd, iov, iovcnt);
    bool pipe = false;
    ssize_t r =
        iovcnt < 0 || iovcnt > IOV_MAX ? -EINVAL : do_send(s, iov, iovcnt, 0, &pipe);
    tas_leave(s);
    return send_finish(r, pipe, 0);
}

ssize_t tas_write(int fd, const void *buf, size_t n)
{
    struct tas_sock *s = tas_enter(fd);
    if (s == NULL)
        return real_write(fd, buf, n);
    struct iovec v = {(void *)buf, n};
    bool pipe = false;
    ssize_t r = do_send(s, &v, 1, 0, &pipe);
    tas_leave(s);
    return send_finish(r, pipe, 0);
}

ssize_t tas_send(int fd, const void *buf, size_t n, int flags)
{
    return tas_sendto(fd, buf, n, flags, NULL, 0);
}

ssize_t tas_sendto(int fd, const void *buf, size_t n, int flags,
                   const struct sockaddr *addr, socklen_t len)
{
    struct tas_sock *s = tas_enter(fd);
    if (s == NULL)
        return real_sendto(fd, buf, n, flags, addr, len);
    struct iovec v = {(void *)buf, n};
    bool pipe = false;
    ssize_t r = do_send(s, &v, 1, flags, &pipe); /* TCP ignores the address */
    tas_leave(s);
    return send_finish(r, pipe, flags);
}

ssize_t tas_sendmsg(int fd, const struct msghdr *msg, int flags)
{
    struct tas_sock *s = tas_enter(fd);
    if (s == NULL)
        return real_sendmsg(fd, msg, flags);
    bool pipe = false;
    ssize_t r;
    if (msg == NULL)
        r = -EFAULT;
    else if (msg->msg_iovlen > IOV_MAX)
        r = -EMSGSIZE;
    else
        r = do_send(s, msg->msg_iov, (int)msg->msg_iovlen, flags, &pipe);
    tas_leave(s);
    return send_finish(r, pipe, flags);
}

/* sendfile() to a tasd socket: read a chunk, write it; what could not be
 * written is given back to the input (offset or file position). */
ssize_t tas_sendfile(int out_fd, int in_fd, off_t *offset, size_t count)
{
    struct tas_obj *o = tas_fd_get(out_fd);
    if (likely(o == NULL) || o->kind != TAS_OBJ_SOCK)
        return real_sendfile(out_fd, in_fd, offset, count);

    size_t total = 0;
    char *buf = malloc(SENDFILE_CHUNK);
    if (buf == NULL)
        return tas_ret(-ENOMEM);
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
