/* udp_rpc.c - closed-loop UDP echo load generator (the Linux-side client of
 * bench/rawio.sh, the UDP counterpart of bench/rpc_echo).
 *
 * Opens C UDP sockets, each connected to ADDR:PORT from a source port of
 * its own; on each, sends a datagram of S bytes (64 by default) and waits
 * for its echo before sending the next one (one datagram outstanding per
 * socket).  An echo must carry exactly the bytes sent; one that has not
 * come back after 100 ms is counted lost and the datagram is sent again (a
 * new one: the first 8 bytes carry a per-socket sequence number, so a late
 * echo of a lost datagram is recognised and ignored).  Runs for a warm-up
 * period, then measures for D seconds: every echo of a datagram sent and
 * answered in the measured window contributes its latency, every loss
 * detected in it counts.  Prints one line:
 *
 *   flows=C size=S duration=D requests=N rate=R p50_us=X p99_us=Y lost=L errors=E
 *
 *   udp_rpc -a ADDR [-p PORT] [-c FLOWS] [-d SECONDS] [-w WARMUP] [-s SIZE]
 *
 * errors are send or receive failures (an ICMP port unreachable among them)
 * and echoes with the wrong bytes.  Exits 1 if there was an error or
 * nothing completed.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/integration/tutil.h"

#define PROG       "udp_rpc"
#define MAX_SIZE   1472 /* one frame on a 1500-byte MTU: udp_echo does no fragments */
#define TIMEOUT_NS 100000000ull
#define SCAN_NS    5000000ull /* how often the timeouts are looked at */
#define SEQ_BYTES  8

struct flow {
    int fd;
    uint64_t seq;     /* of the datagram outstanding */
    uint64_t t_start; /* when it was sent; 0: not sent yet (send again) */
};

static struct tu_lat lat; /* latencies */

static void usage(void)
{
    fprintf(stderr, "usage: " PROG
                    " -a ADDR [-p PORT] [-c FLOWS] [-d SECONDS] [-w WARMUP] [-s SIZE]\n");
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
    *op = (struct opts){.port = 7, .n = 1, .dur_s = 10, .warm_ms = 1000, .size = 64};
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
    if (op->addr == NULL || optind != argc)
        usage();
}

struct run {
    const struct opts *op;
    struct flow *flows;
    uint8_t req[MAX_SIZE]; /* the pattern; the sequence number goes on top */
    uint64_t m_start, m_end, completed, lost, errors;
};

/* The datagram of flow f's current sequence number, in buf. */
static void make_req(const struct run *r, const struct flow *f, uint8_t *buf)
{
    size_t size = r->op->size;
    memcpy(buf, r->req, size);
    memcpy(buf, &f->seq, size < SEQ_BYTES ? size : SEQ_BYTES);
}

static bool in_window(const struct run *r, uint64_t t_start, uint64_t t)
{
    return t_start >= r->m_start && t <= r->m_end;
}

/* An error: counted; the first few are told on stderr. */
static void flow_error(struct run *r, const struct flow *f, const char *what)
{
    if (r->errors++ < 5)
        fprintf(stderr, PROG ": flow %ld: %s\n", (long)(f - r->flows), what);
}

/* Send flow f's next datagram (a new sequence number).  One the socket did
 * not take (a full buffer) is sent again at the next scan (t_start 0). */
static void send_req(struct run *r, struct flow *f)
{
    uint8_t buf[MAX_SIZE];
    f->seq++;
    make_req(r, f, buf);
    f->t_start = tu_now_ns();
    ssize_t w = send(f->fd, buf, r->op->size, 0);
    if (w == (ssize_t)r->op->size)
        return;
    f->t_start = 0;
    if (w < 0 && (errno == EAGAIN || errno == ENOBUFS || errno == EINTR))
        return;
    flow_error(r, f, w < 0 ? tu_errname(errno) : "short send");
}

/* on_readable: every datagram queued on f; the echo of the one
 * outstanding is recorded (if it fell in the measured window) and the next
 * one sent. */
static void on_readable(struct run *r, struct flow *f)
{
    uint8_t buf[MAX_SIZE + 1], want[MAX_SIZE];
    size_t size = r->op->size;
    for (int budget = 0; budget < 64; budget++) {
        ssize_t n = recv(f->fd, buf, sizeof(buf), 0);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        if (n < 0) { /* the timeout sends again */
            flow_error(r, f, tu_errname(errno));
            continue;
        }
        uint64_t t = tu_now_ns();
        if ((size_t)n != size) {
            flow_error(r, f, "an echo of the wrong length");
            continue;
        }
        uint64_t seq = 0;
        memcpy(&seq, buf, size < SEQ_BYTES ? size : SEQ_BYTES);
        if (size >= SEQ_BYTES && (seq != f->seq || f->t_start == 0) &&
            !memcmp(buf + SEQ_BYTES, r->req + SEQ_BYTES, size - SEQ_BYTES))
            continue; /* the late echo of one already counted lost */
        make_req(r, f, want);
        if (memcmp(buf, want, size) != 0 || f->t_start == 0) {
            flow_error(r, f, "an echo with the wrong bytes");
            continue;
        }
        if (in_window(r, f->t_start, t)) {
            tu_lat_add(&lat, t - f->t_start);
            r->completed++;
        }
        send_req(r, f);
    }
}

/* The datagrams outstanding for 100 ms are lost: count them, send new
 * ones; those not sent (full buffer) are sent now. */
static void scan_flows(struct run *r, uint64_t now)
{
    for (long i = 0; i < r->op->n; i++) {
        struct flow *f = &r->flows[i];
        if (f->t_start != 0 && now - f->t_start < TIMEOUT_NS)
            continue;
        if (f->t_start != 0 && in_window(r, f->t_start, now))
            r->lost++;
        send_req(r, f);
    }
}

/* run_loop: the closed loop until the measured window ends.  0, or -1 if
 * epoll_wait failed. */
static int run_loop(struct run *r, int ep)
{
    struct epoll_event evs[256];
    for (long i = 0; i < r->op->n; i++)
        send_req(r, &r->flows[i]);
    uint64_t last_scan = tu_now_ns();
    for (;;) {
        int k = epoll_wait(ep, evs, 256, (int)(SCAN_NS / 1000000));
        if (k < 0 && errno != EINTR) {
            fprintf(stderr, PROG ": epoll_wait: %s\n", strerror(errno));
            return -1;
        }
        for (int e = 0; e < k; e++)
            on_readable(r, evs[e].data.ptr);
        uint64_t now = tu_now_ns();
        if (now >= r->m_end)
            return 0;
        if (now - last_scan >= SCAN_NS) {
            scan_flows(r, now);
            last_scan = now;
        }
    }
}

/* open_all: op->n non-blocking UDP sockets connected to the server, each in
 * the epoll set ep with its struct flow as data.  0, or -1 after saying
 * why. */
static int open_all(const struct opts *op, struct flow *flows, int ep)
{
    struct sockaddr_in sa;
    tu_addr(PROG, op->addr, op->port, &sa);
    for (long i = 0; i < op->n; i++) {
        int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
            fprintf(stderr, PROG ": socket/connect %s:%u: %s\n", op->addr, op->port,
                    tu_errname(errno));
            return -1;
        }
        flows[i].fd = fd;
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &flows[i]};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
            fprintf(stderr, PROG ": epoll_ctl: %s\n", strerror(errno));
            return -1;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct opts op;
    parse_opts(argc, argv, &op);

    static struct run r;
    r.op = &op;
    tu_pattern(r.req, op.size, 42);
    r.flows = calloc((size_t)op.n, sizeof(*r.flows));
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (r.flows == NULL || ep < 0) {
        fprintf(stderr, PROG ": setup: %s\n", strerror(errno));
        return 1;
    }
    if (open_all(&op, r.flows, ep) < 0)
        return 1;

    r.m_start = tu_now_ns() + (uint64_t)op.warm_ms * 1000000ull;
    r.m_end = r.m_start + (uint64_t)op.dur_s * 1000000000ull;
    if (run_loop(&r, ep) < 0)
        return 1;
    for (long i = 0; i < op.n; i++)
        close(r.flows[i].fd);
    tu_lat_sort(&lat);
    printf("flows=%ld size=%zu duration=%ld requests=%llu rate=%.0f p50_us=%.1f "
           "p99_us=%.1f lost=%llu errors=%llu\n",
           op.n, op.size, op.dur_s, (unsigned long long)r.completed,
           (double)r.completed / (double)op.dur_s, tu_lat_pct_us(&lat, 0.50),
           tu_lat_pct_us(&lat, 0.99), (unsigned long long)r.lost,
           (unsigned long long)r.errors);
    return (r.errors == 0 && r.completed > 0) ? 0 : 1;
}
