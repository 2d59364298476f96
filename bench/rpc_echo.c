/* rpc_echo.c - closed-loop RPC echo load generator (the Linux-side client of
 * bench/run.sh).
 *
 * Opens C connections to an echo server; on each, sends a request of S
 * bytes (64 by default) and waits for all S bytes to come back before sending
 * the next one (one request outstanding per connection).  Runs for a warm-up
 * period, then measures for D seconds: every request completed in the
 * measured window contributes its latency (send to last byte back).
 * Prints one line:
 *
 *   conns=C size=S duration=D requests=N rate=R p50_us=X p99_us=Y errors=E
 *
 *   rpc_echo -a ADDR [-p PORT] [-c CONNS] [-d SECONDS] [-w WARMUP] [-s SIZE]
 *
 * Exits 1 if a connection failed or nothing completed.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/integration/tutil.h"

#define PROG     "rpc_echo"
#define MAX_SIZE 65536

struct conn {
    int fd;
    size_t sent, rcvd;
    uint64_t t_start;
    bool dead;
};

static struct tu_lat lat; /* latencies */

static bool send_req(struct conn *c, const uint8_t *req, size_t size)
{
    if (c->sent == 0)
        c->t_start = tu_now_ns();
    ssize_t w = write(c->fd, req + c->sent, size - c->sent);
    if (w < 0)
        return errno == EAGAIN || errno == EINTR;
    c->sent += (size_t)w;
    return true;
}

static void usage(void)
{
    fprintf(stderr, "usage: " PROG
                    " -a ADDR [-p PORT] [-c CONNS] [-d SECONDS] [-w WARMUP] [-s SIZE]\n");
    exit(2);
}

struct opts {
    const char *addr;
    uint16_t port;
    long n, dur_s, warm_ms;
    size_t size;
};

static void parse_opts(int argc, char **argv, struct opts *op)
{
    *op = (struct opts){.port = 7000, .n = 1, .dur_s = 10, .warm_ms = 1000, .size = 64};
    int o;
    while ((o = getopt(argc, argv, "a:p:c:d:w:s:h")) != -1) {
        switch (o) {
        case 'a':
            op->addr = optarg;
            break;
        case 'p':
            op->port = (uint16_t)tu_num(PROG, "-p", optarg, 1, 65535);
            break;
        case 'c':
            op->n = tu_num(PROG, "-c", optarg, 1, 4096);
            break;
        case 'd':
            op->dur_s = tu_num(PROG, "-d", optarg, 1, 3600);
            break;
        case 'w':
            op->warm_ms = tu_num(PROG, "-w", optarg, 0, 60) * 1000;
            break;
        case 's':
            op->size = (size_t)tu_num(PROG, "-s", optarg, 1, MAX_SIZE);
            break;
        default:
            usage();
        }
    }
    if (op->addr == NULL)
        usage();
}

/* connect_all: op->n non-blocking TCP_NODELAY connections, each in the epoll
 * set ep with its struct conn as data.  0, or -1 after saying why. */
static int connect_all(const struct opts *op, struct conn *conns, int ep)
{
    struct sockaddr_in sa;
    tu_addr(PROG, op->addr, op->port, &sa);
    for (long i = 0; i < op->n; i++) {
        int fd = tu_connect(&sa, 5000);
        if (fd < 0) {
            fprintf(stderr, PROG ": connect %s:%u: %s\n", op->addr, op->port,
                    tu_errname(-fd));
            return -1;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        tu_set_nonblock(fd, 1);
        conns[i].fd = fd;
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &conns[i]};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
            fprintf(stderr, PROG ": epoll_ctl: %s\n", strerror(errno));
            return -1;
        }
    }
    return 0;
}

struct run {
    const struct opts *op;
    struct conn *conns;
    int ep;
    const uint8_t *req;
    long errors, alive;
    uint64_t m_start, m_end, completed;
};

static void conn_fail(struct run *r, struct conn *c)
{
    c->dead = true;
    r->errors++;
    r->alive--;
}

/* on_readable: read what the server echoed on c; a whole reply is recorded
 * (if it fell in the measured window) and the next request sent. */
static void on_readable(struct run *r, struct conn *c)
{
    static uint8_t buf[MAX_SIZE];
    size_t size = r->op->size;
    ssize_t n = read(c->fd, buf, size - c->rcvd);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0 || memcmp(buf, r->req + c->rcvd, (size_t)n) != 0) {
        fprintf(stderr, PROG ": connection %ld: %s\n", (long)(c - r->conns),
                n < 0    ? tu_errname(errno)
                : n == 0 ? "EOF"
                         : "wrong bytes echoed");
        epoll_ctl(r->ep, EPOLL_CTL_DEL, c->fd, NULL);
        conn_fail(r, c);
        return;
    }
    c->rcvd += (size_t)n;
    if (c->rcvd < size)
        return;
    uint64_t t = tu_now_ns();
    if (c->t_start >= r->m_start && t <= r->m_end) {
        tu_lat_add(&lat, t - c->t_start);
        r->completed++;
    }
    c->sent = c->rcvd = 0;
    /* A partial write of a small request is finished by run_loop; the
     * common case sends it whole. */
    if (!send_req(c, r->req, size))
        conn_fail(r, c);
}

/* run_loop: the closed loop until the measured window ends or every
 * connection failed.  0, or -1 if epoll_wait failed. */
static int run_loop(struct run *r)
{
    struct epoll_event evs[256];
    long n = r->op->n;
    for (long i = 0; i < n; i++)
        if (!send_req(&r->conns[i], r->req, r->op->size))
            conn_fail(r, &r->conns[i]);
    while (r->alive > 0 && tu_now_ns() < r->m_end) {
        int k = epoll_wait(r->ep, evs, 256, 100);
        if (k < 0 && errno != EINTR) {
            fprintf(stderr, PROG ": epoll_wait: %s\n", strerror(errno));
            return -1;
        }
        for (int e = 0; e < k; e++) {
            struct conn *c = evs[e].data.ptr;
            if (!c->dead)
                on_readable(r, c);
        }
        for (long i = 0; i < n; i++)
            if (!r->conns[i].dead && r->conns[i].sent < r->op->size &&
                !send_req(&r->conns[i], r->req, r->op->size))
                conn_fail(r, &r->conns[i]);
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct opts op;
    parse_opts(argc, argv, &op);
    signal(SIGPIPE, SIG_IGN);

    static uint8_t req[MAX_SIZE];
    tu_pattern(req, op.size, 42);
    struct conn *conns = calloc((size_t)op.n, sizeof(*conns));
    int ep = epoll_create1(0);
    if (conns == NULL || ep < 0) {
        fprintf(stderr, PROG ": setup: %s\n", strerror(errno));
        return 1;
    }
    if (connect_all(&op, conns, ep) < 0)
        return 1;

    struct run r = {.op = &op, .conns = conns, .ep = ep, .req = req, .alive = op.n};
    r.m_start = tu_now_ns() + (uint64_t)op.warm_ms * 1000000ull;
    r.m_end = r.m_start + (uint64_t)op.dur_s * 1000000000ull;
    if (run_loop(&r) < 0)
        return 1;
    for (long i = 0; i < op.n; i++)
        close(conns[i].fd);
    tu_lat_sort(&lat);
    printf("conns=%ld size=%zu duration=%ld requests=%llu rate=%.0f p50_us=%.1f "
           "p99_us=%.1f errors=%ld\n",
           op.n, op.size, op.dur_s, (unsigned long long)r.completed,
           (double)r.completed / (double)op.dur_s, tu_lat_pct_us(&lat, 0.50),
           tu_lat_pct_us(&lat, 0.99), r.errors);
    return (r.errors == 0 && r.completed > 0) ? 0 : 1;
}
