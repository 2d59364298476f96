/* socket.c - the life of a tasd socket: socket, bind, listen, accept,
 * connect, shutdown, close, and its names.
 *
 * socket(AF_INET or AF_INET6, SOCK_STREAM) asks the kernel for a real TCP
 * socket first (an AF_INET6 one is tasd's for IPv4 as a dual-stack socket:
 * bound to :: or an IPv4-mapped address, unless IPV6_V6ONLY; addresses of
 * IPv6 proper make it the kernel's):
 * its descriptor number names the tasd socket (so numbering, select() and
 * mixing with kernel descriptors all work), and it is the kernel socket the
 * program falls back to.  A socket leaves tasd ("goes to the kernel") when it
 * is bound to, or connects to, an address tasd does not serve: loopback
 * (127.0.0.0/8, 0.0.0.0 as a destination) or an address of the kernel's own.
 * From then on libtas forgets it and every call goes to libc.
 *
 * bind() only records the address; listen() sends LISTEN and waits for
 * LISTEN_DONE; connect() sends CONNECT and (when blocking) waits for
 * CONNECTED.  accept() takes connections tasd announced with NEW_CONN off
 * the listener's accept list.  close() sends CLOSE (or ABORT with a zero
 * linger, UNLISTEN for listeners); the socket object lives on until CLOSED.
 */
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libtas/posix/posix.h"
#include "libtas/libtas.h"

#define EPHEMERAL_LO    32768
#define EPHEMERAL_HI    60999
#define EPHEMERAL_TRIES 16
#define SOMAXCONN_TAS   65535 /* tasd clamps to its limits.somaxconn */

/* ------------------------------------------------------------ helpers */

static int deadline_for(int ms, struct timespec *d, struct timespec **dp)
{
    *dp = NULL;
    if (ms > 0) {
        tc_deadline_ms(d, ms);
        *dp = d;
    }
    return 0;
}

/* Ephemeral port choice, without touching the application's random(). */
static uint16_t ephemeral_port(void)
{
    static uint64_t x;
    if (x == 0) {
        struct timespec ts;
        tc_now(&ts);
        x = (((uint64_t)getpid() << 32) ^ (uint64_t)ts.tv_nsec ^ (uint64_t)ts.tv_sec) | 1;
    }
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return (uint16_t)(EPHEMERAL_LO + x % (EPHEMERAL_HI - EPHEMERAL_LO + 1));
}

/* After an interrupted wait: go on (true) or fail with EINTR (false). */
static bool restart_after_eintr(void)
{
    return tc_restart_signals();
}

/* Bind the kernel socket to what the application asked for, then let the
 * kernel have it.  Called with the lock held; returns with it released. */
static int go_kernel(struct tc_sock *s)
{
    int fd = s->fd, r = 0;
    struct sockaddr_in local = s->local;
    struct sockaddr_storage k;
    socklen_t kl = tp_sock_addr(s->v6, &local, &k);
    bool bound = s->bound, v6 = s->v6;

    tp_sock_to_kernel(s);
    tp_leave(s);
    if (bound && real_bind(fd, (struct sockaddr *)&k, kl) != 0) {
        r = -errno;
        if (r == -EADDRNOTAVAIL) { /* tasd's own address: any will do */
            local.sin_addr.s_addr = INADDR_ANY;
            kl = tp_sock_addr(v6, &local, &k);
            if (real_bind(fd, (struct sockaddr *)&k, kl) == 0)
                r = 0;
        }
    }
    return r;
}

/* ------------------------------------------------------------ socket */

int tas_socket(int domain, int type, int protocol)
{
    int base = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);

    if ((domain != AF_INET && domain != AF_INET6) || base != SOCK_STREAM ||
        (protocol != 0 && protocol != IPPROTO_TCP))
        return real_socket(domain, type, protocol);
    if (tp_ctx_open() != TC_CTX_READY) {
        if (!tc_ctx.fallback_ok)
            return (int)tp_ret(-ECONNREFUSED);
        return real_socket(domain, type, protocol);
    }
    int fd = real_socket(domain, type, protocol);
    if (fd < 0 || fd >= TP_FD_MAX)
        return fd;
    tc_lock();
    struct tc_sock *s = tp_sock_new_fd(fd);
    if (s == NULL) {
        tc_unlock();
        real_close(fd);
        return (int)tp_ret(-ENOMEM);
    }
    s->nonblock = (type & SOCK_NONBLOCK) != 0;
    s->v6 = domain == AF_INET6;
    if (tp_fd_set(fd, &s->obj) != 0) {
        s->fd = -1;
        tc_sock_put(s); /* stays a kernel socket */
    }
    tc_unlock();
    return fd;
}

int tas_bind(int fd, const struct sockaddr *addr, socklen_t len)
{
    struct tc_sock *s = tp_enter(fd);
    if (s == NULL)
        return real_bind(fd, addr, len);

    const struct sockaddr_in *sin = (const struct sockaddr_in *)addr;
    struct sockaddr_in v4;
    int r = 0, mine = 1;
    if (s->detached)
        r = tc_detached_err();
    else if (addr == NULL)
        r = -EFAULT;
    else if (s->v6 && (r = mine = tp_addr_v4_of(s, addr, len, true, &v4)) > 0)
        r = 0, sin = &v4;
    else if (s->v6)
        ; /* an error, or IPv6 proper: the kernel's */
    else if (len < sizeof(*sin))
        r = -EINVAL;
    else if (sin->sin_family != AF_INET)
        r = -EAFNOSUPPORT;
    if (r == 0 && (s->bound || s->state != TC_SS_FRESH))
        r = -EINVAL;
    if (r != 0) {
        tp_leave(s);
        return (int)tp_ret(r);
    }
    uint32_t ip = sin->sin_addr.s_addr;
    if (mine && tc_ctx.state == TC_CTX_READY &&
        (ip == INADDR_ANY || ip == tc_ctx.hdr.local_ip)) {
        s->local.sin_addr.s_addr = ip;
        s->local.sin_port = sin->sin_port;
        s->bound = true;
        tp_leave(s);
        return 0;
    }
    /* Not tasd's address: if the kernel has it, the socket is the kernel's
     * from now on; if nobody has it, the bind fails and nothing changes. */
    if (real_bind(fd, addr, len) != 0) {
        r = -errno;
        tp_leave(s);
        return (int)tp_ret(r);
    }
    tp_sock_to_kernel(s);
    tp_leave(s);
    return 0;
}

/* ------------------------------------------------------------ listen */

static bool listen_done(void *arg)
{
    return ((struct tc_sock *)arg)->state != TC_SS_LISTEN_WAIT;
}

int tas_listen(int fd, int backlog)
{
    struct tc_sock *s = tp_enter(fd);
    if (s == NULL)
        return real_listen(fd, backlog);

    if ((unsigned)backlog > SOMAXCONN_TAS)
        backlog = SOMAXCONN_TAS;
    if (s->detached) {
        tp_leave(s);
        return (int)tp_ret(tc_detached_err());
    }
    if (s->state == TC_SS_LISTENING) {
        s->backlog = (uint32_t)backlog;
        tp_leave(s);
        return 0;
    }
    if (s->state != TC_SS_FRESH) {
        tp_leave(s);
        return (int)tp_ret(-EINVAL);
    }
    if (tc_ctx.state != TC_CTX_READY) { /* tasd went away: kernel listens */
        int r = go_kernel(s);
        return r != 0 ? (int)tp_ret(r) : real_listen(fd, backlog);
    }

    bool ephemeral = s->local.sin_port == 0;
    int r = 0;
    for (int tries = 0; tries < EPHEMERAL_TRIES; tries++) {
        uint16_t port = ntohs(s->local.sin_port);
        if (ephemeral)
            port = ephemeral_port();
        uint32_t bl = backlog > 0 ? (uint32_t)backlog : 1;
        s->state = TC_SS_LISTEN_WAIT;
        s->so_error = 0;
        tc_sock_set_qc(s, tc_qc_mine()); /* its connections come to this thread */
        r = tc_post_listen(s, port, bl, false);
        if (r != 0) {
            s->state = TC_SS_FRESH;
            break;
        }
        do {
            r = tc_wait(tc_qc_bit(s->qc), listen_done, s, NULL, NULL, 0, NULL);
        } while (r == -EINTR);
        if (r < 0)
            break;
        if (s->state == TC_SS_LISTENING) {
            s->local.sin_port = htons(port);
            s->bound = true;
            s->backlog = bl;
            r = 0;
            break;
        }
        if (tc_ctx.state != TC_CTX_READY && tc_ctx.fallback_ok) {
            /* tasd exited meanwhile: listen on the kernel stack instead */
            s->state = TC_SS_FRESH;
            s->dead = false;
            s->so_error = 0;
            s->local.sin_port = htons(port);
            r = go_kernel(s);
            return r != 0 ? (int)tp_ret(r) : real_listen(fd, backlog);
        }
        r = s->so_error != 0 ? -s->so_error : -EPROTO;
        s->so_error = 0;
        if (s->state == TC_SS_CLOSED)
            s->state = TC_SS_FRESH;
        if (!(ephemeral && r == -EADDRINUSE))
            break;
    }
    tp_leave(s);
    return r == 0 ? 0 : (int)tp_ret(r);
}

/* ------------------------------------------------------------ accept */

static bool acceptable(void *arg)
{
    struct tc_sock *s = arg;
    return s->acc_head != NULL || s->dead || s->rd_shut || s->app_closed ||
           s->state != TC_SS_LISTENING;
}

/* An accepted socket keeps its listener's keepalive settings (as Linux):
 * onto its kernel socket, and to tasd. */
static void inherit_keepalive(const struct tc_sock *l, struct tc_sock *c)
{
    static const int opts[] = {TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT};
    int one = 1;
    real_setsockopt(c->fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
    for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
        int v;
        socklen_t vl = sizeof(v);
        if (real_getsockopt(l->fd, IPPROTO_TCP, opts[i], &v, &vl) == 0)
            real_setsockopt(c->fd, IPPROTO_TCP, opts[i], &v, sizeof(v));
    }
    tp_keepalive_read(c);
    tc_post_keepalive(c);
}

/* ... and its TCP_NODELAY and TCP_CORK (events.c copied them from the
 * listener), so that getsockopt() reads them back. */
static void inherit_tcp_flags(struct tc_sock *c)
{
    int one = 1;
    if (c->nodelay)
        real_setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (c->cork)
        real_setsockopt(c->fd, IPPROTO_TCP, TCP_CORK, &one, sizeof(one));
}

int tas_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
    struct tc_sock *s = tp_enter(fd);
    if (s == NULL)
        return real_accept4(fd, addr, len, flags);

    struct timespec dl, *dlp;
    int r;
    deadline_for(s->rcvtimeo_ms, &dl, &dlp);
    if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) {
        r = -EINVAL;
        goto out;
    }
    if (s->detached) {
        r = tc_detached_err();
        goto out;
    }
    if (s->state != TC_SS_LISTENING) {
        r = -EINVAL;
        goto out;
    }
    for (;;) {
        tc_process();
        if (s->acc_head != NULL) {
            int nfd = real_socket(s->v6 ? AF_INET6 : AF_INET, SOCK_STREAM | flags, 0);
            if (nfd < 0) {
                r = -errno;
                goto out;
            }
            if (nfd >= TP_FD_MAX) {
                real_close(nfd);
                r = -EMFILE;
                goto out;
            }
            struct tc_sock *c = s->acc_head;
            if (tp_fd_set(nfd, &c->obj) != 0) {
                real_close(nfd);
                r = -ENOMEM;
                goto out;
            }
            s->acc_head = c->acc_next;
            if (s->acc_head == NULL)
                s->acc_tail = NULL;
            s->acc_len--;
            c->acc_next = NULL;
            tp_sock_set_fd(c, nfd); /* the accept list's reference is the table's */
            c->nonblock = (flags & SOCK_NONBLOCK) != 0;
            if (c->keepalive)
                inherit_keepalive(s, c);
            inherit_tcp_flags(c);
            if (!c->acc_inherited) { /* (those count for the old listener) */
                struct tas_spin_accepted m = {.listener = s->listener, .count = 1};
                tc_sp_post(s->qc, TAS_SPIN_ACCEPTED, &m, sizeof(m));
            }
            tc_sock_changed(s);
            c->v6 = s->v6;
            tp_addr_copy(c->v6, &c->peer, addr, len);
            r = nfd;
            goto out;
        }
        if (s->app_closed) {
            r = -EBADF;
            goto out;
        }
        if (s->dead || s->rd_shut || s->state != TC_SS_LISTENING) {
            r = -EINVAL;
            goto out;
        }
        if (s->nonblock) {
            r = -EAGAIN;
            goto out;
        }
        r = tc_wait(tc_qc_bit(s->qc), acceptable, s, dlp, NULL, 0, NULL);
        if (r == TC_WAIT_TIMEOUT) {
            r = -EAGAIN;
            goto out;
        }
        if (r == -EINTR && dlp == NULL && restart_after_eintr())
            continue; /* with SO_RCVTIMEO: EINTR, never restarted (Linux) */
        if (r < 0)
            goto out;
    }
out:
    tp_leave(s);
    return (int)tp_ret(r);
}

int tas_accept(int fd, struct sockaddr *addr, socklen_t *len)
{
    return tas_accept4(fd, addr, len, 0);
}

/* ------------------------------------------------------------ connect */

static bool connect_done(void *arg)
{
    return ((struct tc_sock *)arg)->state != TC_SS_CONNECTING;
}

/* May s connect to sin (len bytes, IPv4 by now)?  0 or the errno Linux
 * gives, in Linux's order; AF_UNSPEC on a fresh socket is 0 (nothing to
 * do).  A non-blocking attempt's failure is reported (and cleared) once. */
static int connect_check(struct tc_sock *s, const struct sockaddr_in *sin, socklen_t len)
{
    if (s->detached)
        return tc_detached_err();
    if (sin == NULL)
        return -EFAULT;
    if (len < sizeof(sa_family_t))
        return -EINVAL;
    if (sin->sin_family == AF_UNSPEC)
        return s->state == TC_SS_FRESH ? 0 : -EOPNOTSUPP;
    if (len < sizeof(*sin))
        return -EINVAL;
    if (sin->sin_family != AF_INET)
        return -EAFNOSUPPORT;
    if (s->state == TC_SS_CONNECTING)
        return -EALREADY;
    if (s->state == TC_SS_CLOSED && !s->was_connected && s->so_error != 0) {
        int r = -s->so_error; /* the outcome of the previous non-blocking attempt */
        s->so_error = 0;
        return r;
    }
    if (s->state == TC_SS_CONNECTED || s->state == TC_SS_LISTENING ||
        s->state == TC_SS_LISTEN_WAIT || (s->state == TC_SS_CLOSED && s->was_connected))
        return -EISCONN;
    return 0;
}

int tas_connect(int fd, const struct sockaddr *addr, socklen_t len)
{
    struct tc_sock *s = tp_enter(fd);
    if (s == NULL)
        return real_connect(fd, addr, len);

    const struct sockaddr_in *sin = (const struct sockaddr_in *)addr;
    const struct sockaddr *orig = addr;
    socklen_t orig_len = len;
    struct sockaddr_in v4;
    struct timespec dl, *dlp;
    int r = 0;

    if (s->v6 && addr != NULL && len >= sizeof(sa_family_t) &&
        sin->sin_family != AF_UNSPEC && !s->detached) {
        /* An AF_INET6 socket connects over tasd to IPv4-mapped addresses. */
        int k = tp_addr_v4_of(s, addr, len, false, &v4);
        if (k < 0) {
            tp_leave(s);
            return (int)tp_ret(k);
        }
        if (k == 0 && s->state == TC_SS_FRESH) {
            r = go_kernel(s);
            return r != 0 ? (int)tp_ret(r) : real_connect(fd, orig, orig_len);
        }
        sin = &v4;
        len = sizeof(v4);
    }
    r = connect_check(s, sin, len);
    if (r != 0 || sin->sin_family == AF_UNSPEC) {
        tp_leave(s);
        return (int)tp_ret(r);
    }

    if (tp_addr_is_loopback(sin->sin_addr.s_addr) || tc_ctx.state != TC_CTX_READY) {
        r = go_kernel(s);
        if (r != 0)
            return (int)tp_ret(r);
        return real_connect(fd, orig, orig_len);
    }

    struct tas_spin_connect m = {
        .opaque = s->serial,
        .local_ip = s->bound ? s->local.sin_addr.s_addr : 0,
        .remote_ip = sin->sin_addr.s_addr,
        .local_port = ntohs(s->local.sin_port),
        .remote_port = ntohs(sin->sin_port),
        .rx_size = s->rcvbuf,
        .tx_size = s->sndbuf,
        .cc = s->cc,
    };
    s->cc_sent = s->cc;
    s->so_error = 0;
    s->state = TC_SS_CONNECTING;
    s->peer = *sin;
    memset(s->peer.sin_zero, 0, sizeof(s->peer.sin_zero));
    tc_pending_add(s);
    tc_sock_set_qc(s, tc_qc_mine()); /* the connection is this thread's */
    r = tc_sp_post(s->qc, TAS_SPIN_CONNECT, &m, sizeof(m));
    if (r != 0) {
        tc_sock_put(tc_pending_take(s->serial));
        s->state = TC_SS_FRESH;
        goto out;
    }
    if (s->nonblock) {
        r = -EINPROGRESS;
        goto out;
    }
    deadline_for(s->sndtimeo_ms, &dl, &dlp);
    for (;;) {
        r = tc_wait(tc_qc_bit(s->qc), connect_done, s, dlp, NULL, 0, NULL);
        if (r == -EINTR && dlp == NULL && restart_after_eintr())
            continue; /* with SO_SNDTIMEO: EINTR, never restarted (Linux) */
        break;
    }
    if (r == TC_WAIT_TIMEOUT) {
        r = -EINPROGRESS;
    } else if (r == TC_WAIT_COND) {
        r = 0;
        if (s->state != TC_SS_CONNECTED) {
            r = s->so_error != 0 ? -s->so_error : -ECONNREFUSED;
            s->so_error = 0;
        }
    }
out:
    tp_leave(s);
    return (int)tp_ret(r);
}

/* ------------------------------------------------------------ shutdown */

int tas_shutdown(int fd, int how)
{
    struct tc_sock *s = tp_enter(fd);
    if (s == NULL)
        return real_shutdown(fd, how);

    int r = 0;
    if (how != SHUT_RD && how != SHUT_WR && how != SHUT_RDWR)
        r = -EINVAL;
    else if (s->detached)
        r = tc_detached_err();
    else if (s->state == TC_SS_LISTENING) {
        /* As on Linux, this wakes threads blocked in accept() (EINVAL). */
        if (how != SHUT_WR)
            s->rd_shut = true;
    } else if (s->state != TC_SS_CONNECTED || s->reset || s->dead) {
        r = -ENOTCONN;
    } else {
        if (how != SHUT_WR)
            s->rd_shut = true;
        if (how != SHUT_RD && !s->wr_shut) { /* the data goes before the FIN */
            r = tc_post_flow_ctrl(s, TAS_SPIN_SHUTDOWN, (uint32_t)how);
            s->wr_shut = true;
        }
    }
    if (r == 0) {
        tc_sock_changed(s);
        tc_wake_all();
    }
    tp_leave(s);
    return (int)tp_ret(r);
}

/* ------------------------------------------------------------ close */

static void close_listener(struct tc_sock *s)
{
    struct tas_spin_unlisten u = {.listener = s->listener};
    if (!s->dormant) /* (a dormant one's tasd is gone; its LISTEN_DONE gives back) */
        tc_sp_post(s->qc, TAS_SPIN_UNLISTEN, &u, sizeof(u));
    tc_listener_remove(s);
    /* Connections nobody accepted are reset, as Linux does. */
    while (s->acc_head != NULL) {
        struct tc_sock *c = s->acc_head;
        s->acc_head = c->acc_next;
        c->acc_next = NULL;
        c->app_closed = true;
        if (c->flow_live) {
            struct tas_spin_flow a = {.flow = c->flow, .gen = c->gen};
            tc_sp_post(c->qc, TAS_SPIN_ABORT, &a, sizeof(a));
            if (tc_ctx.state != TC_CTX_READY)
                tc_flow_release(c);
        }
        tc_sock_put(c);
    }
    s->acc_tail = NULL;
    s->acc_len = 0;
}

static void close_conn(struct tc_sock *s)
{
    if (!s->flow_live || s->close_posted)
        return;
    if (tc_ctx.state != TC_CTX_READY) { /* nobody will say CLOSED */
        tc_flow_release(s);
        return;
    }
    /* Consumed and written bytes go before the CLOSE. */
    bool abort = s->linger_on && s->linger_secs == 0;
    tc_post_flow_ctrl(s, abort ? TAS_SPIN_ABORT : TAS_SPIN_CLOSE, 0);
}

/* Drop libtas's state for fd (telling tasd what it must know) but leave the
 * kernel descriptor open.  -EBADF for libtas's own descriptors. */
int tp_fd_release(int fd)
{
    struct tc_obj *o = tp_fd_get(fd);
    if (likely(o == NULL))
        return 0;
    if (unlikely(tc_foreign()))
        return 0; /* a vfork() child: its copy of the descriptor goes, ours stays */
    if (o->kind == TP_OBJ_INTERNAL)
        return -EBADF;
    if (o->kind == TP_OBJ_EPOLL)
        return tp_epoll_close(o);

    struct tc_sock *s = tp_enter_noattach(fd);
    if (s == NULL)
        return 0;
    if (s->n_dups > 0) {
        /* One of several descriptors (dup): the socket stays open. */
        tp_fd_clear(fd);
        s->n_dups--;
        if (s->fd == fd)
            s->fd = tp_fd_find(&s->obj, fd);
        tc_sock_put(s); /* the descriptor's reference */
        tp_leave(s);
        return 0;
    }
    tp_epoll_sock_gone(s);
    if (!s->detached) {
        switch (s->state) {
        case TC_SS_LISTENING:
            close_listener(s);
            break;
        case TC_SS_CONNECTED:
        case TC_SS_CLOSED:
            close_conn(s);
            break;
        default: /* LISTEN_WAIT, CONNECTING: finished when the reply comes */
            break;
        }
    }
    tp_sock_unlink_fd(s);
    tc_wake_all();
    tp_leave(s);
    return 0;
}

void tp_fd_dup(int oldfd, int newfd)
{
    if (newfd < 0 || newfd == oldfd)
        return;
    struct tc_sock *s = tp_enter_noattach(oldfd);
    if (s == NULL)
        return;
    if (tp_fd_get(newfd) == NULL && tp_fd_set(newfd, &s->obj) == 0) {
        tc_sock_get(s);
        s->n_dups++;
    }
    tp_leave(s);
}

int tas_close(int fd)
{
    int r = tp_fd_release(fd);
    return r < 0 ? (int)tp_ret(r) : real_close(fd);
}

/* close_range() and closefrom() close every descriptor in a range: what a
 * program does before exec (Python's subprocess with close_fds, daemons).
 * Our sockets in the range close as with close(); libtas's own descriptors
 * (app.sock, the regions, eventfds) stay open, since the program cannot
 * know of them and the exec that follows needs them to pass the sockets it
 * kept.  Setting close-on-exec on the range (CLOSE_RANGE_CLOEXEC) changes
 * nothing of ours, which have it already, and goes to the kernel as is. */
int tp_close_range(unsigned int first, unsigned int last, int flags)
{
    if (first > last || (flags & ~(CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC)) != 0 ||
        (flags & CLOSE_RANGE_CLOEXEC) || first >= TP_FD_MAX)
        return real_close_range(first, last, flags);
    /* (A range of no open descriptor: the kernel only unshares the table.) */
    if ((flags & CLOSE_RANGE_UNSHARE) && real_close_range(~0u, ~0u, flags) != 0)
        return -1;
    unsigned int from = first;
    for (int fd = tp_fd_next((int)first); fd >= 0 && (unsigned int)fd <= last;
         fd = tp_fd_next(fd + 1)) {
        const struct tc_obj *o = tp_fd_get(fd);
        if (o == NULL)
            continue;
        if (o->kind != TP_OBJ_INTERNAL) {
            (void)tp_fd_release(fd); /* the kernel descriptor goes below */
            continue;
        }
        if ((unsigned int)fd > from &&
            real_close_range(from, (unsigned int)fd - 1, 0) != 0)
            return -1;
        from = (unsigned int)fd + 1;
    }
    return from <= last ? real_close_range(from, last, 0) : 0;
}

/* ------------------------------------------------------------ names */

int tas_getsockname(int fd, struct sockaddr *addr, socklen_t *len)
{
    struct tc_sock *s = tp_enter_noattach(fd);
    if (s == NULL)
        return real_getsockname(fd, addr, len);
    struct sockaddr_in sin = s->local;
    bool v6 = s->v6;
    tp_leave(s);
    if (addr == NULL || len == NULL)
        return (int)tp_ret(-EFAULT);
    return (int)tp_ret(tp_addr_copy(v6, &sin, addr, len));
}

int tas_getpeername(int fd, struct sockaddr *addr, socklen_t *len)
{
    struct tc_sock *s = tp_enter_noattach(fd);
    if (s == NULL)
        return real_getpeername(fd, addr, len);
    bool ok = s->state == TC_SS_CONNECTED && !s->reset && !s->dead;
    struct sockaddr_in sin = s->peer;
    bool v6 = s->v6;
    tp_leave(s);
    if (!ok)
        return (int)tp_ret(-ENOTCONN);
    if (addr == NULL || len == NULL)
        return (int)tp_ret(-EFAULT);
    return (int)tp_ret(tp_addr_copy(v6, &sin, addr, len));
}

/* ------------------------------------------------------------ misc API */

int tas_init(void)
{
    return tp_ctx_open() == TC_CTX_READY ? 0 : (int)tp_ret(-ECONNREFUSED);
}

int tas_is_tas_socket(int fd)
{
    struct tc_obj *o = tp_fd_get(fd);
    return o != NULL && o->kind == TC_OBJ_SOCK;
}

int tas_program_check(const char *path, char *why, size_t len)
{
    return tc_program_check(path, why, len);
}

void tas_get_stats(struct tas_lib_stats *st)
{
    tc_lock();
    const struct tc_stats *c = &tc_ctx.stats;
    *st = (struct tas_lib_stats){c->bad_entries, c->bad_flow,       c->bad_bufs,
                                 c->bad_counts,  c->unknown_opaque, c->orphan_conns,
                                 c->stashed,     c->sp_overflow,    c->fp_full};
    tc_unlock();
}
