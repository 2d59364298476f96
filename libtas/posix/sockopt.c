/* sockopt.c - socket options, fcntl and ioctl on tasd sockets.
 *
 * Every setsockopt() is applied to the reserved kernel socket as well: the
 * kernel validates it exactly as Linux would (unknown levels and options give
 * ENOPROTOOPT, bad lengths and ranges EINVAL), getsockopt() of anything
 * libtas does not track reads back the value just set, and a socket that
 * later goes to the kernel stack keeps its options.  The kernel socket is
 * never connected, so the few answers that depend on a connection's state
 * are given here: TCP_FASTOPEN(_CONNECT) and TCP_WINDOW_CLAMP 0 after
 * connect() are EINVAL; SO_PEEK_OFF and SO_ZEROCOPY are refused (not
 * emulated: no peek offset, no zero-copy completions).
 *
 * libtas records what matters to tasd or to itself: SO_REUSEPORT
 * (TAS_LISTEN_REUSEPORT), SO_LINGER with a zero timeout (close sends ABORT),
 * SO_RCVTIMEO/SO_SNDTIMEO, SO_RCVBUF/SO_SNDBUF (ring sizes), TCP_CORK
 * (writes wait for full segments until uncorked, at most 200 ms:
 * fastpath/cork.c; TCP_NODELAY set on a corked socket pushes once),
 * SO_KEEPALIVE with TCP_KEEPIDLE/KEEPINTVL/KEEPCNT (passed on to tasd,
 * which sends the probes).  tasd never delays a write otherwise (no
 * Nagle), so TCP_NODELAY is recorded only.  Everything else is read back
 * as set and changes nothing on the wire; doc/libtas_interpose.7 lists
 * them.
 *
 * getsockopt() answers from tasd's state for SO_ERROR, SO_ACCEPTCONN,
 * SO_PEERNAME, SO_RCVBUF/SO_SNDBUF (ring sizes once connected; set before
 * listen() or connect(), they size the rings, up to tasd's configured sizes,
 * and read back as the kernel keeps them: doubled, as Linux), TCP_MAXSEG
 * (negotiated), TCP_INFO (state and rings from libtas; RTT, RTO, cwnd,
 * options, retransmissions and byte counts from tasd's per-connection
 * report), TCP_CONGESTION (the socket's choice, else the algorithm tasd
 * runs it with) and IP_MTU.  setsockopt(TCP_CONGESTION) takes tasd's
 * algorithms (the region header's cc_names: reno, cubic, dctcp, timely,
 * none), not the kernel's, and applies to the live connection, or a
 * listener's connections from then on.
 * fcntl(F_SETFL) and ioctl(FIONBIO) go to the kernel socket too, so
 * F_GETFL needs no emulation; FIONREAD/SIOCINQ and SIOCOUTQ are answered
 * from the rings.
 */
#include <fcntl.h>
#include <linux/sockios.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/ioctl.h>

#include "libtas/posix/posix.h"
#include "libtas/libtas.h"

#define TAS_CA_NAME_MAX 16 /* TCP_CA_NAME_MAX */

static int put_int(void *val, socklen_t *len, int v)
{
    if (val == NULL || len == NULL)
        return -EFAULT;
    if ((int)*len < 0)
        return -EINVAL;
    socklen_t n = *len < sizeof(v) ? *len : sizeof(v);
    memcpy(val, &v, n);
    *len = n;
    return 0;
}

static int tv_to_ms(const void *val, socklen_t len)
{
    struct timeval tv;
    if (len < sizeof(tv))
        return -1;
    memcpy(&tv, val, sizeof(tv));
    if (tv.tv_sec < 0 || tv.tv_usec < 0)
        return -1;
    long long ms = (long long)tv.tv_sec * 1000 + (tv.tv_usec + 999) / 1000;
    return ms > 2000000000LL ? 2000000000 : (int)ms;
}

static uint8_t linux_tcp_state(const struct tc_sock *s)
{
    switch (s->state) {
    case TC_SS_LISTENING:
        return TCP_LISTEN;
    case TC_SS_CONNECTING:
        return TCP_SYN_SENT;
    case TC_SS_CONNECTED:
        if (s->reset || s->dead)
            return TCP_CLOSE;
        if (s->rd_eof && s->wr_shut)
            return TCP_LAST_ACK;
        if (s->rd_eof)
            return TCP_CLOSE_WAIT;
        if (s->wr_shut)
            return TCP_FIN_WAIT1;
        return TCP_ESTABLISHED;
    default:
        return TCP_CLOSE;
    }
}

/* Linux's struct tcp_info goes on past glibc's (linux/tcp.h); these are the
 * next fields, up to the byte counts tasd reports. */
struct tcp_info_ext {
    struct tcp_info base;
    uint64_t pacing_rate, max_pacing_rate;
    uint64_t bytes_acked, bytes_received;
};
static_assert(offsetof(struct tcp_info_ext, bytes_acked) == 120, "Linux's layout");

/* TCP_INFO: the kernel socket gives the layout and length Linux would (its
 * struct may be longer than ours), zeroed; then what libtas knows (state,
 * from the application's side of the connection, and the rings) and what
 * tasd reports every ~64 ms (info.c: RTT, RTO, cwnd, options, window
 * scales, retransmissions, bytes) go in. */
static int tcp_info(const struct tc_sock *s, int fd, void *val, socklen_t *len)
{
    struct tcp_info_ext x;
    struct tcp_info *ti = &x.base;
    struct tas_flow_info fi;
    if (val == NULL || len == NULL)
        return -EFAULT;
    if ((int)*len < 0)
        return -EINVAL;
    if (real_getsockopt(fd, IPPROTO_TCP, TCP_INFO, val, len) != 0)
        return -errno;
    memset(val, 0, *len);
    memset(&x, 0, sizeof(x));
    ti->tcpi_state = linux_tcp_state(s);
    ti->tcpi_snd_mss = ti->tcpi_rcv_mss = ti->tcpi_advmss = s->mss;
    if (s->flow_live && s->mss != 0)
        ti->tcpi_unacked = (s->tx_size - s->tx_free + s->mss - 1u) / s->mss;
    ti->tcpi_rcv_space = s->rx_size;
    if (tc_flow_info_read(s, &fi) == 0) {
        ti->tcpi_ca_state = fi.ca_state;
        ti->tcpi_retransmits = fi.retransmits;
        ti->tcpi_options = fi.options; /* TAS_INFO_OPT_* are TCPI_OPT_* */
        ti->tcpi_snd_wscale = fi.snd_wscale & 0xf;
        ti->tcpi_rcv_wscale = fi.rcv_wscale & 0xf;
        ti->tcpi_rto = fi.rto_us;
        ti->tcpi_rtt = fi.rtt_us;
        ti->tcpi_rttvar = fi.rttvar_us;
        if (fi.snd_mss != 0) {
            ti->tcpi_snd_mss = fi.snd_mss;
            ti->tcpi_unacked = (fi.unacked + fi.snd_mss - 1u) / fi.snd_mss;
        }
        if (fi.rcv_mss != 0)
            ti->tcpi_rcv_mss = fi.rcv_mss;
        ti->tcpi_snd_cwnd = fi.snd_cwnd;
        ti->tcpi_total_retrans = fi.total_retrans;
        x.bytes_acked = fi.bytes_acked;
        x.bytes_received = fi.bytes_received;
    }
    memcpy(val, &x, *len < sizeof(x) ? *len : sizeof(x));
    return 0;
}

/* TCP_CONGESTION: the socket's own choice, else the algorithm tasd runs
 * the connection with (its policy or tcp.cc: the flow's report), else
 * tasd's default (named in the region header). */
static int tcp_congestion(const struct tc_sock *s, void *val, socklen_t *len)
{
    char name[TAS_CA_NAME_MAX] = "reno"; /* tasd's default, if unnamed */
    const char *h = tc_ctx.hdr.cc_name;
    struct tas_flow_info fi;
    unsigned i = s->cc;
    if (i == 0 && s->state == TC_SS_CONNECTED && tc_flow_info_read(s, &fi) == 0)
        i = fi.cc;
    if (i > 0 && i <= TAS_CC_MAX && tc_ctx.hdr.cc_names[i - 1][0] != '\0')
        h = tc_ctx.hdr.cc_names[i - 1];
    size_t hl = strnlen(h, sizeof(tc_ctx.hdr.cc_name));
    if (hl > 0 && hl < sizeof(name)) { /* from tasd: take it only if it fits */
        memset(name, 0, sizeof(name));
        memcpy(name, h, hl);
    }
    if (val == NULL || len == NULL)
        return -EFAULT;
    if ((int)*len < 0)
        return -EINVAL;
    socklen_t n = *len < sizeof(name) ? *len : sizeof(name);
    memcpy(val, name, n);
    *len = n;
    return 0;
}

/* setsockopt(TCP_CONGESTION): one of tasd's algorithms, by the name Linux
 * uses (up to 15 characters, NUL-terminated or not); ENOENT for any other,
 * as Linux.  Not given to the kernel socket, which knows other ones. */
static int set_congestion(struct tc_sock *s, const void *val, socklen_t len)
{
    char name[TAS_CA_NAME_MAX];
    if ((int)len < 1)
        return -EINVAL;
    if (val == NULL)
        return -EFAULT;
    size_t n = len < sizeof(name) - 1 ? len : sizeof(name) - 1;
    memcpy(name, val, n);
    name[n] = '\0';
    unsigned i = tc_cc_index(name);
    if (i == 0)
        return -ENOENT;
    s->cc = (uint8_t)i;
    return tc_post_cc(s);
}

static int peer_name(const struct tc_sock *s, void *val, socklen_t *len)
{
    if (s->state != TC_SS_CONNECTED || s->reset || s->dead)
        return -ENOTCONN;
    if (val == NULL || len == NULL)
        return -EFAULT;
    if ((int)*len < 0)
        return -EINVAL;
    if (*len > sizeof(s->peer))
        return -EINVAL; /* as Linux: a buffer longer than the address */
    memcpy(val, &s->peer, *len);
    return 0;
}

int tas_getsockopt(int fd, int level, int opt, void *val, socklen_t *len)
{
    struct tc_sock *s = tp_enter(fd);
    if (s == NULL)
        return real_getsockopt(fd, level, opt, val, len);

    int r = 1; /* 1: not ours, ask the kernel socket */
    bool flow = s->state == TC_SS_CONNECTED && s->rx_size != 0;
    if (s->detached) {
        r = tc_detached_err();
    } else if (level == SOL_SOCKET) {
        switch (opt) {
        case SO_ERROR:
            tc_process();
            r = put_int(val, len, s->so_error);
            if (r == 0 && !s->dead)
                s->so_error = 0;
            break;
        case SO_ACCEPTCONN:
            r = put_int(val, len, s->state == TC_SS_LISTENING);
            break;
        case SO_RCVBUF: /* what was set (doubled, by the kernel), else the ring */
            if (flow && s->rcvbuf == 0)
                r = put_int(val, len, (int)s->rx_size);
            break;
        case SO_SNDBUF:
            if (flow && s->sndbuf == 0)
                r = put_int(val, len, (int)s->tx_size);
            break;
        case SO_PEERNAME:
            r = peer_name(s, val, len);
            break;
        }
    } else if (level == IPPROTO_TCP) {
        switch (opt) {
        case TCP_MAXSEG:
            if (s->mss != 0)
                r = put_int(val, len, s->mss);
            break;
        case TCP_INFO:
            if (s->state != TC_SS_FRESH)
                r = tcp_info(s, fd, val, len);
            break;
        case TCP_CONGESTION:
            r = tcp_congestion(s, val, len);
            break;
        }
    } else if (level == IPPROTO_IP && opt == IP_MTU) {
        if (s->state == TC_SS_CONNECTED && !s->reset && !s->dead) /* tasd's port MTU */
            r = put_int(val, len, (int)tc_ctx.hdr.mss + 40);
    }
    tp_leave(s);
    if (r == 1)
        return real_getsockopt(fd, level, opt, val, len);
    return (int)tp_ret(r);
}

/* Options whose answer depends on the connection's state, which the
 * reserved kernel socket (never connected) does not have. */
static int set_check(const struct tc_sock *s, int level, int opt, const void *val,
                     socklen_t len)
{
    bool open = s->state == TC_SS_CONNECTING || s->state == TC_SS_CONNECTED;
    int v = 1;
    if (val != NULL && len >= sizeof(int))
        memcpy(&v, val, sizeof(v));
    if (level == SOL_SOCKET && opt == SO_PEEK_OFF)
        return -EOPNOTSUPP; /* peeking at an offset is not emulated */
    if (level == SOL_SOCKET && opt == SO_ZEROCOPY)
        return -EOPNOTSUPP; /* no completions on the error queue: refuse */
    if (level == IPPROTO_TCP && open &&
        (opt == TCP_FASTOPEN || opt == TCP_FASTOPEN_CONNECT))
        return -EINVAL; /* Linux: only before connect() or on a listener */
    if (level == IPPROTO_TCP && open && opt == TCP_WINDOW_CLAMP && v == 0)
        return -EINVAL; /* Linux: no clamp removal once connected */
    return 0;
}

/* The TCP_KEEP* values the kernel socket holds (what the application set,
 * the kernel's defaults otherwise), for the keepalive tasd runs. */
void tp_keepalive_read(struct tc_sock *s)
{
    static const int opts[] = {TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT};
    uint32_t *to[] = {&s->ka_idle_s, &s->ka_intvl_s, &s->ka_cnt};
    for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
        int v;
        socklen_t l = sizeof(v);
        if (s->fd >= 0 && real_getsockopt(s->fd, IPPROTO_TCP, opts[i], &v, &l) == 0 &&
            v > 0)
            *to[i] = (uint32_t)v;
    }
}

int tas_setsockopt(int fd, int level, int opt, const void *val, socklen_t len)
{
    struct tc_sock *s = tp_enter(fd);
    if (s == NULL)
        return real_setsockopt(fd, level, opt, val, len);

    int r = 0;
    if (s->detached) {
        r = tc_detached_err();
    } else if (level == IPPROTO_TCP && opt == TCP_CONGESTION) {
        r = set_congestion(s, val, len);
        tp_leave(s);
        return (int)tp_ret(r);
    } else {
        r = set_check(s, level, opt, val, len);
    }
    if (r == 0 && real_setsockopt(fd, level, opt, val, len) != 0)
        r = -errno;
    if (r != 0) {
        tp_leave(s);
        return (int)tp_ret(r);
    }
    int v = 0;
    if (val != NULL && len >= sizeof(int))
        memcpy(&v, val, sizeof(int));
    if (level == SOL_SOCKET) {
        switch (opt) {
        case SO_REUSEADDR:
            s->reuseaddr = v != 0;
            break;
        case SO_REUSEPORT:
            s->reuseport = v != 0;
            break;
        case SO_KEEPALIVE:
            s->keepalive = v != 0;
            break;
        case SO_LINGER:
            if (val != NULL && len >= sizeof(struct linger)) {
                struct linger l;
                memcpy(&l, val, sizeof(l));
                s->linger_on = l.l_onoff != 0;
                s->linger_secs = l.l_linger;
            }
            break;
        case SO_RCVTIMEO:
            s->rcvtimeo_ms = tv_to_ms(val, len);
            if (s->rcvtimeo_ms < 0)
                s->rcvtimeo_ms = 0;
            break;
        case SO_SNDTIMEO:
            s->sndtimeo_ms = tv_to_ms(val, len);
            if (s->sndtimeo_ms < 0)
                s->sndtimeo_ms = 0;
            break;
        case SO_RCVBUF:
        case SO_SNDBUF:
        case SO_RCVBUFFORCE:
        case SO_SNDBUFFORCE: {
            /* The kernel's value (doubled and bounded, as Linux reports it)
             * sizes the rings of connections made after this. */
            bool rcv = opt == SO_RCVBUF || opt == SO_RCVBUFFORCE;
            int k = 0;
            socklen_t kl = sizeof(k);
            if (real_getsockopt(fd, SOL_SOCKET, rcv ? SO_RCVBUF : SO_SNDBUF, &k, &kl) ==
                    0 &&
                k > 0)
                *(rcv ? &s->rcvbuf : &s->sndbuf) = (uint32_t)k;
            break;
        }
        }
    } else if (level == IPPROTO_TCP && opt == TCP_NODELAY) {
        s->nodelay = v != 0;
        if (s->nodelay && (s->cork || s->more)) {
            tc_sock_push(s); /* as Linux: what is corked goes once */
            tc_fp_flush();
        }
    } else if (level == IPPROTO_TCP && opt == TCP_CORK) {
        tc_sock_cork(s, v != 0);
        tc_fp_flush();
    }
    /* Keepalive runs in tasd: tell it when the settings of a flow change. */
    if ((level == SOL_SOCKET && opt == SO_KEEPALIVE) ||
        (level == IPPROTO_TCP &&
         (opt == TCP_KEEPIDLE || opt == TCP_KEEPINTVL || opt == TCP_KEEPCNT))) {
        tp_keepalive_read(s);
        tc_post_keepalive(s);
    }
    tp_leave(s);
    return 0;
}

int tas_fcntl(int fd, int cmd, ...)
{
    va_list ap;
    va_start(ap, cmd);
    void *arg = va_arg(ap, void *);
    va_end(ap);

    struct tc_obj *o = tp_fd_get(fd);
    if (likely(o == NULL) || o->kind != TC_OBJ_SOCK || cmd != F_SETFL)
        return real_fcntl(fd, cmd, arg);
    struct tc_sock *s = tp_enter(fd);
    if (s == NULL)
        return real_fcntl(fd, cmd, arg);
    int r = real_fcntl(fd, cmd, arg);
    if (r == 0)
        s->nonblock = ((long)arg & O_NONBLOCK) != 0;
    tp_leave(s);
    return r;
}

int tas_ioctl(int fd, unsigned long req, ...)
{
    va_list ap;
    va_start(ap, req);
    void *arg = va_arg(ap, void *);
    va_end(ap);

    struct tc_sock *s = tp_enter(fd);
    if (s == NULL)
        return real_ioctl(fd, req, arg);
    int r = 1; /* 1: pass to the kernel socket */
    switch (req) {
    case FIONBIO:
        if (arg == NULL) {
            r = -EFAULT;
        } else if (real_ioctl(fd, req, arg) != 0) {
            r = -errno;
        } else {
            s->nonblock = *(int *)arg != 0;
            r = 0;
        }
        break;
    case FIONREAD: /* SIOCINQ: bytes to read */
    case SIOCOUTQ: /* bytes written and not yet acknowledged */
        tc_process();
        if (s->state == TC_SS_LISTENING)
            r = -EINVAL;
        else if (arg == NULL)
            r = -EFAULT;
        else {
            if (req == FIONREAD)
                *(int *)arg = (int)s->rx_ready;
            else
                *(int *)arg = s->flow_live ? (int)(s->tx_size - s->tx_free) : 0;
            r = 0;
        }
        break;
    }
    tp_leave(s);
    if (r == 1)
        return real_ioctl(fd, req, arg);
    return (int)tp_ret(r);
}
