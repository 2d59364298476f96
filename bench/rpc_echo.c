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

static uint32_t *lat; /* latencies in ns (clamped to 4 s) */
static size_t n_lat, cap_lat;

static void record(uint64_t ns)
{
    if (n_lat == cap_lat) {
        size_t ncap = cap_lat ? cap_lat * 2 : 1 << 16;
        uint32_t *p = realloc(lat, ncap * sizeof(*p));
        if (p == NULL)
            return; /* keep counting with what we have */
        lat = p;
        cap_lat = ncap;
    }
    lat[n_lat++] = ns > UINT32_MAX ? UINT32_MAX : (uint32_t)ns;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static double pct_us(double p)
{
    if (n_lat == 0)
        return 0;
    size_t i = (size_t)(p * (double)(n_lat - 1) + 0.5);
    return lat[i] / 1000.0;
}

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

int main(int argc, char **argv)
{
    const char *addr = NULL;
    uint16_t port = 7000;
    long n = 1, dur_s = 10, warm_ms = 1000;
    size_t size = 64;
    int o;
    while ((o = getopt(argc, argv, "a:p:c:d:w:s:h")) != -1) {
        switch (o) {
        case 'a':
            addr = optarg;
            break;
        case 'p':
            port = (uint16_t)tu_num(PROG, "-p", optarg, 1, 65535);
            break;
        case 'c':
            n = tu_num(PROG, "-c", optarg, 1, 4096);
            break;
        case 'd':
            dur_s = tu_num(PROG, "-d", optarg, 1, 3600);
            break;
        case 'w':
            warm_ms = tu_num(PROG, "-w", optarg, 0, 60) * 1000;
            break;
        case 's':
            size = (size_t)tu_num(PROG, "-s", optarg, 1, MAX_SIZE);
            break;
        default:
            usage();
        }
    }
    if (addr == NULL)
        usage();
    struct sockaddr_in sa;
    tu_addr(PROG, addr, port, &sa);
    signal(SIGPIPE, SIG_IGN);

    static uint8_t req[MAX_SIZE], buf[MAX_SIZE];
    tu_pattern(req, size, 42);
    struct conn *conns = calloc((size_t)n, sizeof(*conns));
    int ep = epoll_create1(0);
    if (conns == NULL || ep < 0) {
        fprintf(stderr, PROG ": setup: %s\n", strerror(errno));
        return 1;
    }
    for (long i = 0; i < n; i++) {
        int fd = tu_connect(&sa, 5000);
        if (fd < 0) {
            fprintf(stderr, PROG ": connect %s:%u: %s\n", addr, port, tu_errname(-fd));
            return 1;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        tu_set_nonblock(fd, 1);
        conns[i].fd = fd;
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &conns[i]};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
            fprintf(stderr, PROG ": epoll_ctl: %s\n", strerror(errno));
            return 1;
        }
    }

    long errors = 0, alive = n;
    for (long i = 0; i < n; i++)
        if (!send_req(&conns[i], req, size)) {
            conns[i].dead = true;
            errors++;
            alive--;
        }
    uint64_t t0 = tu_now_ns();
    uint64_t m_start = t0 + (uint64_t)warm_ms * 1000000ull;
    uint64_t m_end = m_start + (uint64_t)dur_s * 1000000000ull;
    uint64_t completed = 0;
    struct epoll_event evs[256];
    while (alive > 0) {
        uint64_t now = tu_now_ns();
        if (now >= m_end)
            break;
        int k = epoll_wait(ep, evs, 256, 100);
        if (k < 0 && errno != EINTR) {
            fprintf(stderr, PROG ": epoll_wait: %s\n", strerror(errno));
            return 1;
        }
        for (int e = 0; e < k; e++) {
            struct conn *c = evs[e].data.ptr;
            if (c->dead)
                continue;
            ssize_t r = read(c->fd, buf, size - c->rcvd);
            if (r < 0 && (errno == EAGAIN || errno == EINTR))
                continue;
            if (r <= 0 || memcmp(buf, req + c->rcvd, (size_t)r) != 0) {
                fprintf(stderr, PROG ": connection %ld: %s\n", (long)(c - conns),
                        r < 0    ? tu_errname(errno)
                        : r == 0 ? "EOF"
                                 : "wrong bytes echoed");
                c->dead = true;
                epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
                errors++;
                alive--;
                continue;
            }
            c->rcvd += (size_t)r;
            if (c->rcvd < size)
                continue;
            uint64_t t = tu_now_ns();
            if (c->t_start >= m_start && t <= m_end) {
                record(t - c->t_start);
                completed++;
            }
            c->sent = c->rcvd = 0;
            /* A partial write of a small request is finished by the loop
             * below; the common case sends it whole. */
            if (!send_req(c, req, size)) {
                c->dead = true;
                errors++;
                alive--;
            }
        }
        for (long i = 0; i < n; i++)
            if (!conns[i].dead && conns[i].sent < size &&
                !send_req(&conns[i], req, size)) {
                conns[i].dead = true;
                errors++;
                alive--;
            }
    }
    for (long i = 0; i < n; i++)
        close(conns[i].fd);
    qsort(lat, n_lat, sizeof(*lat), cmp_u32);
    printf("conns=%ld size=%zu duration=%ld requests=%llu rate=%.0f p50_us=%.1f "
           "p99_us=%.1f errors=%ld\n",
           n, size, dur_s, (unsigned long long)completed,
           (double)completed / (double)dur_s, pct_us(0.50), pct_us(0.99), errors);
    return (errors == 0 && completed > 0) ? 0 : 1;
}
