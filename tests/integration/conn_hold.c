/* conn_hold.c - one process that opens many connections to an echo server
 * and holds them: the Linux-side load of the connection-scale test
 * (t_connscale.sh) and benchmark (bench/connscale.sh).
 *
 * Opens N connections to ADDR:PORT (at most P connects in flight), each
 * from the next of the given source addresses in turn (bound with
 * IP_BIND_ADDRESS_NO_PORT, so that the kernel picks the port per 4-tuple:
 * one source address gives one ephemeral port range of connections).  On
 * each it sends S bytes (default 1 KiB; connection i carries
 * tu_pattern(seed = ID << 32 | i)) and checks every byte of the echo.  Then
 * it says READY on stderr and holds the connections idle, except the
 * first A of them, which keep echoing 64-B requests one at a time, checked
 * too.  The hold ends after HOLD seconds, when the file given with -w
 * exists, or on SIGTERM/SIGINT.  Then every connection is half-closed
 * (shutdown SHUT_WR) and must see the server's EOF (the server closes
 * after echoing everything) before it is closed.  Every phase is bounded.
 *
 *   conn_hold -a ADDR [-p PORT] -n N [-b SRC[,SRC...]] [-s BYTES] [-A ACTIVE]
 *             [-t HOLD_SECONDS] [-w STOP_FILE] [-P PARALLEL] [-T SETUP_SECONDS]
 *             [-C CLOSE_SECONDS] [-i ID]
 *
 * Prints one line on stdout at the end (key=value, for scripts):
 *
 *   conn_hold: id=I n=N echoed=E failed=F first_error=NAME dropped=D
 *   active=A active_reqs=R active_errors=X closed=C close_errors=Y
 *   setup_s=S hold_s=H close_s=Z
 *
 * echoed: connections whose S bytes came back intact; failed: connections
 * that could not be opened or echoed wrong (first_error says the first
 * reason); dropped: connections the server ended during the hold; closed:
 * connections that saw the server's EOF after our FIN.  Exits 0 only if
 * all N were echoed, none dropped, every active request succeeded and all N
 * closed cleanly.  (With S = 0 nothing is echoed: a connection counts once
 * it is established.)
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
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tutil.h"

#define PROG     "conn_hold"
#define MAX_SRC  64
#define MAX_SIZE (1024 * 1024)
#define REQ_SIZE 64
#define N_EVENTS 512

enum cstate { C_IDLE_SLOT, C_CONNECTING, C_ECHO, C_HOLD, C_ACTIVE, C_CLOSING, C_DONE };

struct conn {
    int fd;
    uint8_t st;    /* enum cstate */
    bool failed;   /* counted in failed, dropped or close_errors */
    uint32_t sent; /* of the current message */
    uint32_t rcvd; /* of the current message */
    uint32_t req;  /* active: requests done */
};

static struct conn *conns;
static long n_conns;
static int ep;
static uint64_t id;
static size_t size = 1024;
static uint8_t *msg; /* scratch: the expected bytes of one message */
static uint8_t rbuf[65536];
static volatile sig_atomic_t stop;

static long n_echoed, n_failed, n_dropped, n_closed, n_close_err, n_active_err;
static unsigned long long active_reqs;
static int first_err;
static char first_err_what[64];

static void on_signal(int sig)
{
    stop = sig;
}

static void note_error(int err, const char *what)
{
    if (first_err == 0) {
        first_err = err != 0 ? err : EPROTO;
        snprintf(first_err_what, sizeof(first_err_what), "%s", what);
    }
}

static int set_interest(struct conn *c, uint32_t events)
{
    struct epoll_event ev = {.events = events, .data.ptr = c};
    return epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

/* The bytes of connection i's current message: its first (S bytes,
 * seed ID << 32 | i) or its active request number req (64 bytes). */
static const uint8_t *expected(const struct conn *c, long i)
{
    if (c->st == C_ECHO)
        tu_pattern(msg, size, id << 32 | (uint64_t)i);
    else
        tu_pattern(msg, REQ_SIZE,
                   (id << 32 | (uint64_t)i) ^ (uint64_t)(c->req + 1) << 52);
    return msg;
}

static void fail_conn(struct conn *c, int err, const char *what, long *counter)
{
    note_error(err, what);
    (*counter)++;
    c->failed = true;
    if (c->fd >= 0) {
        epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
        c->fd = -1;
    }
    c->st = C_DONE;
}

/* Send what is left of the current message (the first: S bytes of the
 * pattern; an active request: 64 bytes). */
static int send_more(struct conn *c, long i, size_t len)
{
    const uint8_t *p = expected(c, i);
    while (c->sent < len) {
        ssize_t w = write(c->fd, p + c->sent, len - c->sent);
        if (w < 0)
            return errno == EAGAIN || errno == EINTR ? 0 : -errno;
        c->sent += (uint32_t)w;
    }
    return 0;
}

static int start_echo(struct conn *c, long i)
{
    c->st = C_ECHO;
    c->sent = c->rcvd = 0;
    int r = send_more(c, i, size);
    if (r < 0)
        return r;
    return set_interest(c, EPOLLIN | (c->sent < size ? EPOLLOUT : 0)) < 0 ? -errno : 0;
}

/* Read and check echoed bytes of the current message; 1 once it is all
 * back, 0 for more to come, -errno (or -EPROTO for wrong bytes). */
static int read_echo(struct conn *c, long i, size_t len)
{
    for (;;) {
        size_t want = len - c->rcvd;
        if (want == 0)
            return 1;
        if (want > sizeof(rbuf))
            want = sizeof(rbuf);
        ssize_t r = read(c->fd, rbuf, want);
        if (r < 0)
            return errno == EAGAIN || errno == EINTR ? 0 : -errno;
        if (r == 0)
            return -EPIPE; /* EOF before the echo */
        const uint8_t *p = expected(c, i);
        if (memcmp(rbuf, p + c->rcvd, (size_t)r) != 0)
            return -EPROTO;
        c->rcvd += (uint32_t)r;
    }
}

static const char *err_text(int err)
{
    if (err == EPROTO)
        return "wrong bytes echoed";
    if (err == EPIPE)
        return "EOF before the echo";
    return tu_errname(err);
}

static int open_one(struct conn *c, const struct sockaddr_in *dst,
                    const struct sockaddr_in *src)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -errno;
    int one = 1;
    if (src != NULL &&
        (setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one)) < 0 ||
         bind(fd, (const struct sockaddr *)src, sizeof(*src)) < 0)) {
        int err = errno;
        close(fd);
        return -err;
    }
    if (connect(fd, (const struct sockaddr *)dst, sizeof(*dst)) < 0 &&
        errno != EINPROGRESS) {
        int err = errno;
        close(fd);
        return -err;
    }
    c->fd = fd;
    c->st = C_CONNECTING;
    struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = c};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
        int err = errno;
        close(fd);
        c->fd = -1;
        return -err;
    }
    return 0;
}

/* After the first message: hold (idle) or keep echoing (active). */
static void echoed(struct conn *c, long i, long n_active)
{
    n_echoed++;
    c->sent = c->rcvd = 0;
    if (i < n_active) {
        c->st = C_ACTIVE;
        c->req = 0;
    } else {
        c->st = C_HOLD;
        if (set_interest(c, EPOLLIN | EPOLLRDHUP) < 0)
            fail_conn(c, errno, "epoll_ctl", &n_failed);
    }
}

static int active_step(struct conn *c, long i)
{
    if (c->sent < REQ_SIZE) {
        int r = send_more(c, i, REQ_SIZE);
        if (r < 0)
            return r;
    }
    int r = read_echo(c, i, REQ_SIZE);
    if (r <= 0)
        return r;
    active_reqs++;
    c->req++;
    c->sent = c->rcvd = 0;
    r = send_more(c, i, REQ_SIZE);
    return r < 0 ? r : 0;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: " PROG " -a ADDR [-p PORT] -n N [-b SRC[,SRC...]] [-s BYTES]\n"
            "       [-A ACTIVE] [-t HOLD_SECONDS] [-w STOP_FILE] [-P PARALLEL]\n"
            "       [-T SETUP_SECONDS] [-C CLOSE_SECONDS] [-i ID]\n");
    exit(2);
}

static double secs_since(uint64_t t0)
{
    return (double)(tu_now_ns() - t0) / 1e9;
}

int main(int argc, char **argv)
{
    const char *addr = NULL, *stop_file = NULL;
    char *srcs = NULL;
    uint16_t port = 7000;
    long n_active = 0, hold_s = 0, parallel = 64, setup_s = 120, close_s = 60;
    int o;
    while ((o = getopt(argc, argv, "a:p:n:b:s:A:t:w:P:T:C:i:h")) != -1) {
        switch (o) {
        case 'a':
            addr = optarg;
            break;
        case 'p':
            port = (uint16_t)tu_num(PROG, "-p", optarg, 1, 65535);
            break;
        case 'n':
            n_conns = tu_num(PROG, "-n", optarg, 1, 1000000);
            break;
        case 'b':
            srcs = optarg;
            break;
        case 's':
            size = (size_t)tu_num(PROG, "-s", optarg, 0, MAX_SIZE);
            break;
        case 'A':
            n_active = tu_num(PROG, "-A", optarg, 0, 1000000);
            break;
        case 't':
            hold_s = tu_num(PROG, "-t", optarg, 0, 86400);
            break;
        case 'w':
            stop_file = optarg;
            break;
        case 'P':
            parallel = tu_num(PROG, "-P", optarg, 1, 100000);
            break;
        case 'T':
            setup_s = tu_num(PROG, "-T", optarg, 1, 86400);
            break;
        case 'C':
            close_s = tu_num(PROG, "-C", optarg, 1, 86400);
            break;
        case 'i':
            id = (uint64_t)tu_num(PROG, "-i", optarg, 0, 1000000);
            break;
        default:
            usage();
        }
    }
    if (addr == NULL || n_conns == 0)
        usage();
    if (n_active > n_conns)
        n_active = n_conns;
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
    /* Every descriptor the hard limit allows (the caller sized N to fit). */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    signal(SIGPIPE, SIG_IGN);
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    conns = calloc((size_t)n_conns, sizeof(*conns));
    msg = malloc(size > REQ_SIZE ? size : REQ_SIZE);
    ep = epoll_create1(0);
    if (conns == NULL || msg == NULL || ep < 0) {
        fprintf(stderr, PROG ": setup: %s\n", strerror(errno));
        return 1;
    }
    for (long i = 0; i < n_conns; i++)
        conns[i].fd = -1;

    /* ---- open and echo ---- */
    uint64_t t0 = tu_now_ns();
    int64_t deadline = tu_now_ms() + setup_s * 1000;
    long next = 0, in_flight = 0, resolved = 0;
    struct epoll_event evs[N_EVENTS];
    while (resolved < n_conns && !stop) {
        while (next < n_conns && in_flight < parallel) {
            struct conn *c = &conns[next];
            int r = open_one(c, &dst, n_src ? &src[next % n_src] : NULL);
            if (r < 0) {
                fail_conn(c, -r, "connect", &n_failed);
                resolved++;
            } else {
                in_flight++;
            }
            next++;
        }
        int left = tu_left_ms(deadline);
        if (left == 0)
            break;
        int k = epoll_wait(ep, evs, N_EVENTS, left < 100 ? left : 100);
        if (k < 0 && errno != EINTR) {
            fprintf(stderr, PROG ": epoll_wait: %s\n", strerror(errno));
            return 1;
        }
        for (int e = 0; e < k; e++) {
            struct conn *c = evs[e].data.ptr;
            long i = c - conns;
            int r = 0;
            if (c->st == C_CONNECTING) {
                int err = 0;
                socklen_t l = sizeof(err);
                if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &l) < 0)
                    err = errno;
                if (err == 0 && size == 0) {
                    in_flight--;
                    resolved++;
                    echoed(c, i, n_active);
                    continue;
                }
                r = err != 0 ? -err : start_echo(c, i);
            } else if (c->st == C_ECHO) {
                r = send_more(c, i, size);
                if (r == 0) {
                    r = read_echo(c, i, size);
                    if (r == 1) {
                        in_flight--;
                        resolved++;
                        echoed(c, i, n_active);
                        continue;
                    }
                    if (r == 0 &&
                        set_interest(c, EPOLLIN | (c->sent < size ? EPOLLOUT : 0)))
                        r = -errno;
                }
            } else if (c->st == C_ACTIVE) {
                r = active_step(c, i);
                if (r < 0) {
                    fail_conn(c, -r, "active request", &n_active_err);
                }
                continue;
            } else if (c->st == C_HOLD) {
                fail_conn(c, ECONNRESET, "server ended a held connection", &n_dropped);
                continue;
            }
            if (r < 0) {
                fail_conn(c, -r, c->st == C_CONNECTING ? "connect" : "echo", &n_failed);
                in_flight--;
                resolved++;
            }
        }
    }
    for (long i = 0; i < n_conns; i++) {
        struct conn *c = &conns[i];
        if (c->st == C_IDLE_SLOT || c->st == C_CONNECTING || c->st == C_ECHO) {
            fail_conn(c, ETIMEDOUT, "setup deadline", &n_failed);
        } else if (c->st == C_ACTIVE) {
            int r = send_more(c, i, REQ_SIZE);
            if (r == 0 && set_interest(c, EPOLLIN) < 0)
                r = -errno;
            if (r < 0)
                fail_conn(c, -r, "active request", &n_active_err);
        }
    }
    double setup_secs = secs_since(t0);
    fprintf(stderr, PROG ": READY id=%lu echoed=%ld failed=%ld in %.1f s\n",
            (unsigned long)id, n_echoed, n_failed, setup_secs);
    fflush(stderr);

    /* ---- hold ---- */
    uint64_t t1 = tu_now_ns();
    int64_t hold_end = hold_s > 0 ? tu_now_ms() + hold_s * 1000 : 0;
    while (!stop) {
        if (hold_end && tu_left_ms(hold_end) == 0)
            break;
        if (stop_file && access(stop_file, F_OK) == 0)
            break;
        int k = epoll_wait(ep, evs, N_EVENTS, 100);
        if (k < 0 && errno != EINTR) {
            fprintf(stderr, PROG ": epoll_wait: %s\n", strerror(errno));
            return 1;
        }
        for (int e = 0; e < k; e++) {
            struct conn *c = evs[e].data.ptr;
            long i = c - conns;
            if (c->st == C_ACTIVE) {
                int r = active_step(c, i);
                if (r < 0)
                    fail_conn(c, -r, "active request", &n_active_err);
            } else if (c->st == C_HOLD) {
                fail_conn(c, ECONNRESET, "server ended a held connection", &n_dropped);
            }
        }
    }
    double hold_secs = secs_since(t1);

    /* ---- close: our FIN, the server's EOF, then close() ---- */
    uint64_t t2 = tu_now_ns();
    long closing = 0;
    for (long i = 0; i < n_conns; i++) {
        struct conn *c = &conns[i];
        if (c->st != C_HOLD && c->st != C_ACTIVE)
            continue;
        /* An active request in flight: its echo is read and discarded. */
        c->st = C_CLOSING;
        if (shutdown(c->fd, SHUT_WR) < 0 || set_interest(c, EPOLLIN | EPOLLRDHUP) < 0) {
            fail_conn(c, errno, "shutdown", &n_close_err);
            continue;
        }
        closing++;
    }
    int64_t close_end = tu_now_ms() + close_s * 1000;
    while (closing > 0) {
        int left = tu_left_ms(close_end);
        if (left == 0)
            break;
        int k = epoll_wait(ep, evs, N_EVENTS, left < 100 ? left : 100);
        if (k < 0 && errno != EINTR) {
            fprintf(stderr, PROG ": epoll_wait: %s\n", strerror(errno));
            return 1;
        }
        for (int e = 0; e < k; e++) {
            struct conn *c = evs[e].data.ptr;
            if (c->st != C_CLOSING)
                continue;
            ssize_t r;
            while ((r = read(c->fd, rbuf, sizeof(rbuf))) > 0) {
            }
            if (r < 0 && (errno == EAGAIN || errno == EINTR))
                continue;
            closing--;
            if (r == 0) {
                epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
                close(c->fd);
                c->fd = -1;
                c->st = C_DONE;
                n_closed++;
            } else {
                fail_conn(c, errno, "close", &n_close_err);
            }
        }
    }
    for (long i = 0; i < n_conns; i++)
        if (conns[i].st == C_CLOSING)
            fail_conn(&conns[i], ETIMEDOUT, "no EOF from the server after our FIN",
                      &n_close_err);
    double close_secs = secs_since(t2);

    if (first_err != 0)
        fprintf(stderr, PROG ": first error: %s: %s\n", first_err_what,
                err_text(first_err));
    printf(PROG
           ": id=%lu n=%ld echoed=%ld failed=%ld first_error=%s dropped=%ld active=%ld "
           "active_reqs=%llu active_errors=%ld closed=%ld close_errors=%ld "
           "setup_s=%.1f hold_s=%.1f close_s=%.1f\n",
           (unsigned long)id, n_conns, n_echoed, n_failed,
           first_err ? (first_err == EPROTO ? "EPROTO" : tu_errname(first_err)) : "none",
           n_dropped, n_active, active_reqs, n_active_err, n_closed, n_close_err,
           setup_secs, hold_secs, close_secs);
    fflush(stdout);
    return (n_echoed == n_conns && n_dropped == 0 && n_active_err == 0 &&
            n_closed == n_conns)
               ? 0
               : 1;
}
