/* tutil.c - helpers shared by the integration test programs (see tutil.h).
 * Every wait is a poll() with a timeout, so no test program can hang. */
#include "tutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

long tu_num(const char *prog, const char *opt, const char *s, long min, long max)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < min || v > max) {
        fprintf(stderr, "%s: %s: '%s' is not a number in %ld..%ld\n", prog, opt, s, min,
                max);
        exit(2);
    }
    return v;
}

void tu_addr(const char *prog, const char *ip, uint16_t port, struct sockaddr_in *sa)
{
    memset(sa, 0, sizeof(*sa));
    sa->sin_family = AF_INET;
    sa->sin_port = htons(port);
    if (inet_pton(AF_INET, ip, &sa->sin_addr) != 1) {
        fprintf(stderr, "%s: '%s' is not an IPv4 address\n", prog, ip);
        exit(2);
    }
}

uint64_t tu_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int tu_left_ms(int64_t deadline_ms)
{
    int64_t left = deadline_ms - tu_now_ms();
    if (left < 0)
        return 0;
    return left > 1000000 ? 1000000 : (int)left;
}

int tu_set_nonblock(int fd, int on)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0)
        return -errno;
    fl = on ? (fl | O_NONBLOCK) : (fl & ~O_NONBLOCK);
    return fcntl(fd, F_SETFL, fl) < 0 ? -errno : 0;
}

/* TU_SOCKBUF=N in the environment: SO_RCVBUF and SO_SNDBUF of N on every
 * listening and connecting socket, before listen()/connect(). */
static int set_bufs(int fd)
{
    const char *v = getenv("TU_SOCKBUF");
    if (v == NULL || *v == '\0')
        return 0;
    int n = atoi(v);
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &n, sizeof(n)) < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &n, sizeof(n)) < 0)
        return -1;
    return 0;
}

void tu_print_bufs(const char *prog, int fd)
{
    int r = 0, s = 0;
    socklen_t l = sizeof(r);
    if (getenv("TU_SOCKBUF") == NULL)
        return;
    getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &r, &l);
    l = sizeof(s);
    getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &s, &l);
    fprintf(stderr, "%s: SO_RCVBUF %d SO_SNDBUF %d\n", prog, r, s);
}

int tu_listen(uint16_t port, int backlog, int nonblock)
{
    return tu_listen_opt(port, backlog, nonblock, 0);
}

int tu_listen_opt(uint16_t port, int backlog, int nonblock, int reuseport)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -errno;
    if (set_bufs(fd) < 0) {
        int err = errno;
        close(fd);
        return -err;
    }
    int one = 1;
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(INADDR_ANY);
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
        (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0) ||
        bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, backlog) < 0 ||
        (nonblock && tu_set_nonblock(fd, 1) < 0)) {
        int err = errno;
        close(fd);
        return -err;
    }
    return fd;
}

int tu_accept(int lfd, int timeout_ms)
{
    struct pollfd p = {.fd = lfd, .events = POLLIN};
    int n = poll(&p, 1, timeout_ms);
    if (n < 0)
        return -errno;
    if (n == 0)
        return -ETIMEDOUT;
    int fd = accept(lfd, NULL, NULL);
    if (fd < 0)
        return -errno;
    int r = tu_set_nonblock(fd, 0);
    if (r < 0) {
        close(fd);
        return r;
    }
    return fd;
}

int tu_connect(const struct sockaddr_in *sa, int timeout_ms)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -errno;
    int err = 0;
    if (set_bufs(fd) < 0 || tu_set_nonblock(fd, 1) < 0) {
        err = errno;
    } else if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) < 0) {
        if (errno != EINPROGRESS) {
            err = errno;
        } else {
            struct pollfd p = {.fd = fd, .events = POLLOUT};
            int n = poll(&p, 1, timeout_ms);
            socklen_t len = sizeof(err);
            if (n < 0)
                err = errno;
            else if (n == 0)
                err = ETIMEDOUT;
            else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
                err = errno;
        }
    }
    if (err == 0 && tu_set_nonblock(fd, 0) < 0)
        err = errno;
    if (err != 0) {
        close(fd);
        return -err;
    }
    return fd;
}

int tu_write_all(int fd, const void *buf, size_t len, int idle_ms)
{
    const uint8_t *p = buf;
    while (len > 0) {
        struct pollfd pf = {.fd = fd, .events = POLLOUT};
        int n = poll(&pf, 1, idle_ms);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (n == 0)
            return -ETIMEDOUT;
        ssize_t w = write(fd, p, len);
        if (w < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            return -errno;
        }
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

ssize_t tu_read_wait(int fd, void *buf, size_t len, int timeout_ms)
{
    int64_t deadline = tu_now_ms() + timeout_ms;
    for (;;) {
        struct pollfd pf = {.fd = fd, .events = POLLIN};
        int n = poll(&pf, 1, tu_left_ms(deadline));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (n == 0)
            return -ETIMEDOUT;
        ssize_t r = read(fd, buf, len);
        if (r >= 0)
            return r;
        if (errno != EINTR && errno != EAGAIN)
            return -errno;
    }
}

void tu_pattern(uint8_t *buf, size_t len, uint64_t seed)
{
    /* xorshift64*: cheap, and every byte depends on the seed. */
    uint64_t x = seed * 0x9E3779B97F4A7C15ull + 0x2545F4914F6CDD1Dull;
    size_t i = 0;
    while (i < len) {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        uint64_t v = x * 0x2545F4914F6CDD1Dull;
        for (int k = 0; k < 8 && i < len; k++, i++, v >>= 8)
            buf[i] = (uint8_t)v;
    }
}

void tu_ready(const char *prog, uint16_t port)
{
    fprintf(stderr, "%s: READY listening on port %u\n", prog, port);
    fflush(stderr);
}

/* --cc NAME of tu_one_args: TCP_CONGESTION of the listening socket (its
 * connection inherits it) or of the connected one. */
static const char *one_cc;

static int set_cc(const char *prog, int fd)
{
    if (one_cc == NULL)
        return 0;
    if (setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, one_cc, (socklen_t)strlen(one_cc)) != 0) {
        fprintf(stderr, "%s: TCP_CONGESTION %s: %s\n", prog, one_cc, tu_errname(errno));
        return -1;
    }
    return 0;
}

int tu_open_one(const char *prog, const char *addr, uint16_t port, int timeout_ms)
{
    int fd;
    if (addr == NULL) {
        int lfd = tu_listen(port, 16, 0);
        if (lfd < 0) {
            fprintf(stderr, "%s: listen on port %u: %s\n", prog, port, strerror(-lfd));
            return -1;
        }
        if (set_cc(prog, lfd) != 0)
            return -1;
        tu_ready(prog, port);
        fd = tu_accept(lfd, timeout_ms);
        close(lfd);
    } else {
        struct sockaddr_in sa;
        tu_addr(prog, addr, port, &sa);
        fd = tu_connect(&sa, timeout_ms);
        if (fd >= 0 && set_cc(prog, fd) != 0)
            return -1;
    }
    if (fd < 0) {
        fprintf(stderr, "%s: %s: %s\n", prog, addr == NULL ? "accept" : "connect",
                tu_errname(-fd));
        return -1;
    }
    char cc[16] = "";
    socklen_t cl = sizeof(cc) - 1;
    if (one_cc != NULL && getsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, cc, &cl) == 0)
        fprintf(stderr, "%s: congestion control %s\n", prog, cc);
    tu_print_bufs(prog, fd);
    return fd;
}

void tu_one_args(const char *prog, const char *redirect, int argc, char **argv,
                 const char **addr, uint16_t *port, int *timeout_ms)
{
    static const struct option opts[] = {
        {"addr", required_argument, NULL, 'a'}, {"listen", no_argument, NULL, 'l'},
        {"port", required_argument, NULL, 'p'}, {"timeout", required_argument, NULL, 't'},
        {"cc", required_argument, NULL, 'c'},   {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    bool listen_mode = false;
    bool bad = false;
    int o;
    *addr = NULL;
    *port = 7001;
    *timeout_ms = 30000;
    while (!bad && (o = getopt_long(argc, argv, "a:lp:t:h", opts, NULL)) != -1) {
        switch (o) {
        case 'a':
            *addr = optarg;
            break;
        case 'l':
            listen_mode = true;
            break;
        case 'p':
            *port = (uint16_t)tu_num(prog, "--port", optarg, 1, 65535);
            break;
        case 't':
            *timeout_ms = (int)tu_num(prog, "--timeout", optarg, 1, 86400) * 1000;
            break;
        case 'c':
            one_cc = optarg;
            break;
        default:
            bad = true;
        }
    }
    if (bad || (*addr == NULL) == !listen_mode) {
        fprintf(stderr,
                "usage: %s (--addr A | --listen) [--port P] [--timeout S] [--cc NAME] %s\n",
                prog, redirect);
        exit(2);
    }
    if (listen_mode)
        *addr = NULL;
}

const char *tu_errname(int err)
{
    static char other[32];
    switch (err) {
    case 0:
        return "no error";
    case ECONNRESET:
        return "ECONNRESET";
    case EPIPE:
        return "EPIPE";
    case ECONNREFUSED:
        return "ECONNREFUSED";
    case ETIMEDOUT:
        return "ETIMEDOUT";
    case EHOSTUNREACH:
        return "EHOSTUNREACH";
    case ENETUNREACH:
        return "ENETUNREACH";
    case ECONNABORTED:
        return "ECONNABORTED";
    case ENOTCONN:
        return "ENOTCONN";
    case EINVAL:
        return "EINVAL";
    case EBADF:
        return "EBADF";
    case EAGAIN:
        return "EAGAIN";
    case EMFILE:
        return "EMFILE";
    case ENOMEM:
        return "ENOMEM";
    case EADDRINUSE:
        return "EADDRINUSE";
    case EADDRNOTAVAIL:
        return "EADDRNOTAVAIL";
    case ENOBUFS:
        return "ENOBUFS";
    case ENFILE:
        return "ENFILE";
    default:
        snprintf(other, sizeof(other), "errno %d", err);
        return other;
    }
}

void tu_lat_add(struct tu_lat *l, uint64_t ns)
{
    if (l->n == l->cap) {
        size_t ncap = l->cap ? l->cap * 2 : 1 << 16;
        uint32_t *p = realloc(l->v, ncap * sizeof(*p));
        if (p == NULL)
            return;
        l->v = p;
        l->cap = ncap;
    }
    l->v[l->n++] = ns > UINT32_MAX ? UINT32_MAX : (uint32_t)ns;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

void tu_lat_sort(struct tu_lat *l)
{
    if (l->n > 0)
        qsort(l->v, l->n, sizeof(*l->v), cmp_u32);
}

double tu_lat_pct_us(const struct tu_lat *l, double p)
{
    if (l->n == 0)
        return 0;
    return l->v[(size_t)(p * (double)(l->n - 1) + 0.5)] / 1000.0;
}
