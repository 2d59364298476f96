/* conn_churn.c - short-lived connections: connect, one request, the reply,
 * close; again and again.  The client of t_shortconn.sh (under tasd, or on
 * the Linux peer) and of bench/shortconn.sh.
 *
 * C connections are in flight at a time (C = 1: one after the other).  Each
 * connects to ADDR:PORT (from the next source address of -b in turn, bound
 * with IP_BIND_ADDRESS_NO_PORT), sends one S-byte request (default 64;
 * connection k carries tu_pattern(seed = k)), reads the S-byte echo and
 * checks every byte, then closes: at once (the client's FIN first, it ends
 * in TIME_WAIT) or, with -E, after the server's EOF (the server closed
 * first, as an HTTP/1.0 server does; echo_server --close-after S).  A
 * connection that takes longer than -T milliseconds fails with ETIMEDOUT.
 * Runs until N connections were made (-n), for D seconds (-d), or until
 * MAX_ERRORS failed (-e, default 100: a client out of ports stops early).
 *
 *   conn_churn -a ADDR [-p PORT] [-c CONC] [-n TOTAL] [-d SECONDS] [-s BYTES]
 *              [-b SRC[,SRC...]] [-E] [-T TIMEOUT_MS] [-e MAX_ERRORS]
 *
 * Prints one line on stdout (key=value, for scripts):
 *
 *   conn_churn: conc=C size=S conns=OK errors=E first_error=NAME seconds=T
 *   rate=R p50_us=X p99_us=Y ports=P port_reuse=K
 *
 * conns: connections that completed their request; rate: conns per
 * second; p50/p99: connect() to the last byte of the reply; ports: distinct
 * (source address, local port) pairs used; port_reuse: connections that
 * used a pair used before (ports recycled).  Exits 0 only if no
 * connection failed and, with -n, all N were made.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tutil.h"

#define PROG     "conn_churn"
#define MAX_SRC  16
#define MAX_SIZE 65536

enum sstate { S_FREE, S_CONNECTING, S_REQUEST, S_WAIT_EOF };

struct slot {
    int fd;
    enum sstate st;
    uint64_t k;       /* connection number (pattern seed) */
    uint64_t t_start; /* ns */
    size_t sent, rcvd;
    int src; /* index into the source addresses */
};

static int ep;
static size_t size = 64;
static bool wait_eof;
static uint8_t req[MAX_SIZE], buf[MAX_SIZE];
static volatile sig_atomic_t stop;

static uint64_t n_ok, n_err, n_started;
static int first_err;
static char first_what[48];
static struct tu_lat lat;  /* latencies */
static uint8_t *port_seen; /* MAX_SRC x 65536 bits */
static uint64_t n_ports, n_reuse;

static void on_signal(int sig)
{
    stop = sig;
}

static void note_port(struct slot *s)
{
    struct sockaddr_in sa;
    socklen_t l = sizeof(sa);
    if (getsockname(s->fd, (struct sockaddr *)&sa, &l) < 0)
        return;
    size_t bit = (size_t)s->src * 65536 + ntohs(sa.sin_port);
    if (port_seen[bit / 8] & (1u << (bit % 8))) {
        n_reuse++;
    } else {
        port_seen[bit / 8] |= (uint8_t)(1u << (bit % 8));
        n_ports++;
    }
}

static void slot_end(struct slot *s, int err, const char *what)
{
    if (s->fd >= 0) {
        epoll_ctl(ep, EPOLL_CTL_DEL, s->fd, NULL);
        close(s->fd);
        s->fd = -1;
    }
    s->st = S_FREE;
    if (err == 0) {
        n_ok++;
        return;
    }
    n_err++;
    if (first_err == 0) {
        first_err = err;
        snprintf(first_what, sizeof(first_what), "%s", what);
    }
    if (n_err <= 5)
        fprintf(stderr, PROG ": connection %lu: %s: %s\n", (unsigned long)s->k, what,
                err == EPROTO  ? "wrong bytes echoed"
                : err == EPIPE ? "EOF before the reply"
                               : tu_errname(err));
}

static int slot_start(struct slot *s, uint64_t k, const struct sockaddr_in *dst,
                      const struct sockaddr_in *src, int src_i)
{
    s->k = k;
    s->src = src_i;
    s->sent = s->rcvd = 0;
    s->t_start = tu_now_ns();
    s->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (s->fd < 0)
        return -errno;
    int one = 1;
    if (src != NULL &&
        (setsockopt(s->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one)) < 0 ||
         bind(s->fd, (const struct sockaddr *)src, sizeof(*src)) < 0))
        return -errno;
    if (connect(s->fd, (const struct sockaddr *)dst, sizeof(*dst)) < 0 &&
        errno != EINPROGRESS)
        return -errno;
    s->st = S_CONNECTING;
    struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = s};
    return epoll_ctl(ep, EPOLL_CTL_ADD, s->fd, &ev) < 0 ? -errno : 0;
}

/* One readiness event; returns 0 (more to come), 1 (done) or -errno. */
static int slot_step(struct slot *s)
{
    if (s->st == S_CONNECTING) {
        int err = 0;
        socklen_t l = sizeof(err);
        if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &l) < 0)
            err = errno;
        if (err != 0)
            return -err;
        note_port(s);
        s->st = S_REQUEST;
        tu_pattern(req, size, s->k);
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = s};
        if (epoll_ctl(ep, EPOLL_CTL_MOD, s->fd, &ev) < 0)
            return -errno;
    }
    if (s->st == S_REQUEST) {
        if (s->sent < size) {
            tu_pattern(req, size, s->k);
            while (s->sent < size) {
                ssize_t w = write(s->fd, req + s->sent, size - s->sent);
                if (w < 0) {
                    if (errno == EAGAIN || errno == EINTR)
                        break;
                    return -errno;
                }
                s->sent += (size_t)w;
            }
        }
        for (;;) {
            ssize_t r = read(s->fd, buf, size - s->rcvd);
            if (r < 0)
                return errno == EAGAIN || errno == EINTR ? 0 : -errno;
            if (r == 0)
                return -EPIPE;
            tu_pattern(req, size, s->k);
            if (memcmp(buf, req + s->rcvd, (size_t)r) != 0)
                return -EPROTO;
            s->rcvd += (size_t)r;
            if (s->rcvd == size)
                break;
        }
        tu_lat_add(&lat, tu_now_ns() - s->t_start);
        if (!wait_eof)
            return 1;
        s->st = S_WAIT_EOF;
    }
    /* S_WAIT_EOF: nothing more may come, then the server's FIN. */
    ssize_t r = read(s->fd, buf, sizeof(buf));
    if (r == 0)
        return 1;
    if (r > 0)
        return -EPROTO;
    return errno == EAGAIN || errno == EINTR ? 0 : -errno;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: " PROG " -a ADDR [-p PORT] [-c CONC] [-n TOTAL] [-d SECONDS]\n"
            "       [-s BYTES] [-b SRC[,SRC...]] [-E] [-T TIMEOUT_MS] [-e MAX_ERRORS]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    const char *addr = NULL;
    char *srcs = NULL;
    uint16_t port = 7000;
    long conc = 1, total = 0, dur_s = 0, timeout_ms = 5000, max_err = 100;
    int o;
    while ((o = getopt(argc, argv, "a:p:c:n:d:s:b:ET:e:h")) != -1) {
        switch (o) {
        case 'a':
            addr = optarg;
            break;
        case 'p':
            port = (uint16_t)tu_num(PROG, "-p", optarg, 1, 65535);
            break;
        case 'c':
            conc = tu_num(PROG, "-c", optarg, 1, 10000);
            break;
        case 'n':
            total = tu_num(PROG, "-n", optarg, 1, 1000000000);
            break;
        case 'd':
            dur_s = tu_num(PROG, "-d", optarg, 1, 86400);
            break;
        case 's':
            size = (size_t)tu_num(PROG, "-s", optarg, 1, MAX_SIZE);
            break;
        case 'b':
            srcs = optarg;
            break;
        case 'E':
            wait_eof = true;
            break;
        case 'T':
            timeout_ms = tu_num(PROG, "-T", optarg, 1, 600000);
            break;
        case 'e':
            max_err = tu_num(PROG, "-e", optarg, 1, 1000000000);
            break;
        default:
            usage();
        }
    }
    if (addr == NULL || (total == 0 && dur_s == 0))
        usage();
    struct sockaddr_in dst, src[MAX_SRC];
    tu_addr(PROG, addr, port, &dst);
    int n_src = 0;
    for (char *tok = srcs ? strtok(srcs, ",") : NULL; tok; tok = strtok(NULL, ",")) {
        if (n_src == MAX_SRC) {
            fprintf(stderr, PROG ": at most %d source addresses\n", MAX_SRC);
            return 2;
        }
        tu_addr(PROG, tok, 0, &src[n_src++]);
    }
    signal(SIGPIPE, SIG_IGN);
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    struct slot *slots = calloc((size_t)conc, sizeof(*slots));
    port_seen = calloc(MAX_SRC * 65536 / 8, 1);
    ep = epoll_create1(0);
    if (slots == NULL || port_seen == NULL || ep < 0) {
        fprintf(stderr, PROG ": setup: %s\n", strerror(errno));
        return 1;
    }
    for (long i = 0; i < conc; i++)
        slots[i].fd = -1;

    uint64_t t0 = tu_now_ns();
    uint64_t end = dur_s ? t0 + (uint64_t)dur_s * 1000000000ull : UINT64_MAX;
    struct epoll_event evs[256];
    for (;;) {
        uint64_t now = tu_now_ns();
        bool more = !stop && now < end && (total == 0 || n_started < (uint64_t)total) &&
                    n_err < (uint64_t)max_err;
        long busy = 0;
        for (long i = 0; i < conc; i++) {
            struct slot *s = &slots[i];
            if (s->st != S_FREE && now - s->t_start > (uint64_t)timeout_ms * 1000000ull)
                slot_end(s, ETIMEDOUT, s->st == S_CONNECTING ? "connect" : "reply");
            if (s->st == S_FREE && more && (total == 0 || n_started < (uint64_t)total)) {
                int si = n_src ? (int)(n_started % (uint64_t)n_src) : 0;
                int r = slot_start(s, n_started, &dst, n_src ? &src[si] : NULL, si);
                n_started++;
                if (r < 0)
                    slot_end(s, -r, "connect");
            }
            busy += s->st != S_FREE;
        }
        if (busy == 0 && (!more || n_err >= (uint64_t)max_err))
            break;
        if (busy == 0)
            continue;
        int k = epoll_wait(ep, evs, 256, 10);
        if (k < 0 && errno != EINTR) {
            fprintf(stderr, PROG ": epoll_wait: %s\n", strerror(errno));
            return 1;
        }
        for (int e = 0; e < k; e++) {
            struct slot *s = evs[e].data.ptr;
            if (s->st == S_FREE)
                continue;
            enum sstate was = s->st;
            int r = slot_step(s);
            if (r != 0)
                slot_end(s, r < 0 ? -r : 0, was == S_CONNECTING ? "connect" : "reply");
        }
    }
    double secs = (double)(tu_now_ns() - t0) / 1e9;
    tu_lat_sort(&lat);
    if (first_err != 0)
        fprintf(stderr, PROG ": first error: %s: %s\n", first_what,
                first_err == EPROTO  ? "wrong bytes echoed"
                : first_err == EPIPE ? "EOF before the reply"
                                     : tu_errname(first_err));
    printf(PROG ": conc=%ld size=%zu conns=%lu errors=%lu first_error=%s seconds=%.2f "
                "rate=%.0f p50_us=%.1f p99_us=%.1f ports=%lu port_reuse=%lu\n",
           conc, size, (unsigned long)n_ok, (unsigned long)n_err,
           first_err == 0        ? "none"
           : first_err == EPROTO ? "EPROTO"
           : first_err == EPIPE  ? "EOF"
                                 : tu_errname(first_err),
           secs, secs > 0 ? (double)n_ok / secs : 0.0, tu_lat_pct_us(&lat, 0.50),
           tu_lat_pct_us(&lat, 0.99), (unsigned long)n_ports, (unsigned long)n_reuse);
    fflush(stdout);
    return (n_err == 0 && (total == 0 || n_ok == (uint64_t)total)) ? 0 : 1;
}
