/* echo_server.c - an ordinary epoll echo server (level-triggered,
 * non-blocking), the "unmodified application" of the integration tests and
 * the RPC benchmark.
 *
 * Every connection gets a 64 KiB buffer: bytes read are written back in
 * order; the server stops reading a connection while its buffer is full and
 * waits for EPOLLOUT while it has bytes to send.  On EOF it sends what is
 * left and closes.  With --max-conns N it exits after N connections have
 * ended (status 0 only if none ended in an error); with --timeout S it gives
 * up after S seconds (status 1).  A summary line goes to stderr at exit.
 *
 * For the scale tests and benchmarks: --reuseport listens with SO_REUSEPORT
 * (several servers share the port, each connection going to one of them);
 * --backlog sets listen()'s backlog (default 1024); --close-after B closes
 * a connection (FIN first, from the server, as an HTTP/1.0 server does)
 * once it has echoed B bytes: one request per connection, the server ends
 * in TIME_WAIT.
 *
 *   echo_server [--port P] [--max-conns N] [--timeout S] [--nodelay]
 *               [--reuseport] [--backlog N] [--close-after BYTES]
 */
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tutil.h"

#define PROG     "echo_server"
#define BUF_SIZE (64 * 1024)

struct conn {
    int fd;
    uint32_t events; /* current epoll interest */
    bool eof;        /* peer sent FIN */
    size_t head;     /* first unsent byte in buf */
    size_t len;      /* unsent bytes */
    size_t echoed;   /* bytes written back so far */
    uint8_t buf[BUF_SIZE];
};

static int ep;
static long served, errors, open_conns, max_open;
static unsigned long long bytes;
static volatile sig_atomic_t stop;
static size_t close_after; /* --close-after: 0 = only on the peer's EOF */

static void on_signal(int sig)
{
    stop = sig;
}

static void conn_close(struct conn *c, int err)
{
    if (err != 0) {
        errors++;
        if (errors <= 5)
            fprintf(stderr, PROG ": connection ended with %s\n", tu_errname(err));
    }
    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    free(c);
    open_conns--;
    served++;
}

/* Read what fits, send what we have, then choose the next interest.
 * Returns false if the connection was closed. */
static bool conn_service(struct conn *c)
{
    if (!c->eof && c->head + c->len < BUF_SIZE) {
        ssize_t r = read(c->fd, c->buf + c->head + c->len, BUF_SIZE - c->head - c->len);
        if (r > 0) {
            c->len += (size_t)r;
            bytes += (unsigned long long)r;
        } else if (r == 0) {
            c->eof = true;
        } else if (errno != EAGAIN && errno != EINTR) {
            conn_close(c, errno);
            return false;
        }
    }
    while (c->len > 0) {
        ssize_t w = write(c->fd, c->buf + c->head, c->len);
        if (w < 0) {
            if (errno == EAGAIN || errno == EINTR)
                break;
            conn_close(c, errno);
            return false;
        }
        c->head += (size_t)w;
        c->len -= (size_t)w;
        c->echoed += (size_t)w;
    }
    if (c->len == 0) {
        c->head = 0;
    } else if (c->head > BUF_SIZE / 2) {
        memmove(c->buf, c->buf + c->head, c->len);
        c->head = 0;
    }
    if (close_after > 0 && c->echoed >= close_after && c->len == 0) {
        conn_close(c, 0); /* our FIN first: the request was answered */
        return false;
    }
    if (c->eof && c->len == 0) {
        conn_close(c, 0);
        return false;
    }
    uint32_t want = 0;
    if (!c->eof && c->head + c->len < BUF_SIZE)
        want |= EPOLLIN;
    if (c->len > 0)
        want |= EPOLLOUT;
    if (want != c->events) {
        struct epoll_event ev = {.events = want, .data.ptr = c};
        if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev) < 0) {
            conn_close(c, errno);
            return false;
        }
        c->events = want;
    }
    return true;
}

static void accept_all(int lfd, bool nodelay)
{
    for (;;) {
        int fd = accept(lfd, NULL, NULL);
        if (fd < 0) {
            if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
                fprintf(stderr, PROG ": accept: %s\n", strerror(errno));
            return;
        }
        int one = 1;
        if (tu_set_nonblock(fd, 1) < 0 ||
            (nodelay &&
             setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0)) {
            fprintf(stderr, PROG ": socket setup: %s\n", strerror(errno));
            close(fd);
            errors++;
            continue;
        }
        /* Not calloc(): an idle connection touches only the pages its
         * bytes use (the scale benchmarks measure memory per connection). */
        struct conn *c = malloc(sizeof(*c));
        if (c != NULL)
            memset(c, 0, offsetof(struct conn, buf));
        if (c == NULL) {
            close(fd);
            errors++;
            continue;
        }
        c->fd = fd;
        c->events = EPOLLIN;
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
            fprintf(stderr, PROG ": epoll_ctl: %s\n", strerror(errno));
            close(fd);
            free(c);
            errors++;
            continue;
        }
        if (++open_conns > max_open)
            max_open = open_conns;
    }
}

static void usage(void)
{
    fprintf(stderr,
            "usage: " PROG " [--port P] [--max-conns N] [--timeout S] [--nodelay]\n"
            "       [--reuseport] [--backlog N] [--close-after BYTES]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"port", required_argument, NULL, 'p'},
        {"max-conns", required_argument, NULL, 'n'},
        {"timeout", required_argument, NULL, 't'},
        {"nodelay", no_argument, NULL, 'D'},
        {"reuseport", no_argument, NULL, 'R'},
        {"backlog", required_argument, NULL, 'b'},
        {"close-after", required_argument, NULL, 'C'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    uint16_t port = 7000;
    long max_conns = 0, timeout_s = 0;
    bool nodelay = false, reuseport = false;
    int backlog = 1024;
    int o;
    while ((o = getopt_long(argc, argv, "p:n:t:DRb:C:h", opts, NULL)) != -1) {
        switch (o) {
        case 'p':
            port = (uint16_t)tu_num(PROG, "--port", optarg, 1, 65535);
            break;
        case 'n':
            max_conns = tu_num(PROG, "--max-conns", optarg, 1, 10000000);
            break;
        case 't':
            timeout_s = tu_num(PROG, "--timeout", optarg, 1, 86400);
            break;
        case 'D':
            nodelay = true;
            break;
        case 'R':
            reuseport = true;
            break;
        case 'b':
            backlog = (int)tu_num(PROG, "--backlog", optarg, 1, 1000000);
            break;
        case 'C':
            close_after = (size_t)tu_num(PROG, "--close-after", optarg, 1, 1L << 40);
            break;
        default:
            usage();
        }
    }
    signal(SIGPIPE, SIG_IGN);
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);

    int lfd = tu_listen_opt(port, backlog, 1, reuseport);
    if (lfd < 0) {
        fprintf(stderr, PROG ": listen on port %u: %s\n", port, strerror(-lfd));
        return 1;
    }
    ep = epoll_create1(0);
    struct epoll_event lev = {.events = EPOLLIN, .data.ptr = NULL};
    if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &lev) < 0) {
        fprintf(stderr, PROG ": epoll: %s\n", strerror(errno));
        return 1;
    }
    tu_ready(PROG, port);

    int64_t deadline = timeout_s ? tu_now_ms() + timeout_s * 1000 : 0;
    bool timed_out = false;
    struct epoll_event evs[256];
    while (!stop && (max_conns == 0 || served < max_conns)) {
        int wait_ms = 1000;
        if (deadline) {
            wait_ms = tu_left_ms(deadline);
            if (wait_ms == 0) {
                timed_out = true;
                break;
            }
            if (wait_ms > 1000)
                wait_ms = 1000;
        }
        int n = epoll_wait(ep, evs, 256, wait_ms);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            fprintf(stderr, PROG ": epoll_wait: %s\n", strerror(errno));
            return 1;
        }
        for (int i = 0; i < n; i++) {
            if (evs[i].data.ptr == NULL)
                accept_all(lfd, nodelay);
            else
                conn_service(evs[i].data.ptr);
        }
    }
    fprintf(stderr,
            PROG
            ": served %ld connections, max open %ld, %llu bytes echoed, %ld errors%s\n",
            served, max_open, bytes, errors,
            timed_out ? ", TIMED OUT" : (stop ? ", stopped by signal" : ""));
    close(lfd);
    return (errors == 0 && !timed_out) ? 0 : 1;
}
