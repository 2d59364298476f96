/* echo_client.c - opens N connections to an echo server at once and, on
 * each, sends M messages of S bytes, one at a time, checking that every byte
 * comes back exactly.  After the last message it half-closes and expects the
 * server to close (EOF) with no extra bytes.  Exits 0 only if every
 * connection verified all its messages before the deadline.
 *
 *   echo_client --addr A [--port P] [--conns N] [--msgs M] [--size S]
 *               [--timeout SECONDS] [--barrier] [--hold SECONDS]
 *
 * --barrier: send nothing until all N connections are established, so that
 * N connections are open at the same time.  --hold: keep every connection
 * open this long after its last message (for tasctl flows).
 * Message k of connection i carries tu_pattern(seed = i << 32 | k).
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tutil.h"

#define PROG "echo_client"

enum cstate { C_CONNECTING, C_RUNNING, C_HOLD, C_CLOSING, C_DONE, C_FAILED };

struct conn {
    int fd;
    enum cstate st;
    long msg;          /* current message index */
    size_t sent, rcvd; /* of the current message */
    int64_t hold_until;
    uint8_t *buf; /* the current message */
};

static struct conn *conns;
static long n_conns, n_msgs, n_failed;
static size_t msg_size;
static unsigned long long total_bytes;

static void conn_fail(struct conn *c, long i, const char *what, int err)
{
    if (++n_failed <= 10)
        fprintf(stderr, PROG ": connection %ld, message %ld, offset %zu: %s%s%s\n", i,
                c->msg, c->rcvd, what, err ? ": " : "", err ? tu_errname(err) : "");
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    c->st = C_FAILED;
}

static void next_message(struct conn *c, long i)
{
    c->sent = c->rcvd = 0;
    tu_pattern(c->buf, msg_size, ((uint64_t)i << 32) | (uint64_t)c->msg);
}

static void on_readable(struct conn *c, long i, int64_t hold_ms)
{
    static uint8_t tmp[64 * 1024];
    size_t want = sizeof(tmp);
    if (c->st == C_RUNNING && msg_size - c->rcvd < want)
        want = msg_size - c->rcvd;
    ssize_t r = read(c->fd, tmp, want);
    if (r < 0) {
        if (errno != EAGAIN && errno != EINTR)
            conn_fail(c, i, "read", errno);
        return;
    }
    if (c->st == C_CLOSING || c->st == C_HOLD) {
        if (r > 0) {
            conn_fail(c, i, "extra bytes after the last message", 0);
        } else if (c->st == C_CLOSING) {
            close(c->fd);
            c->fd = -1;
            c->st = C_DONE;
        } else {
            conn_fail(c, i, "server closed while we held the connection", 0);
        }
        return;
    }
    if (r == 0) {
        conn_fail(c, i, "unexpected EOF", 0);
        return;
    }
    if (memcmp(tmp, c->buf + c->rcvd, (size_t)r) != 0) {
        size_t k = 0;
        while (tmp[k] == c->buf[c->rcvd + k])
            k++;
        c->rcvd += k;
        conn_fail(c, i, "echoed byte differs", 0);
        return;
    }
    c->rcvd += (size_t)r;
    total_bytes += (unsigned long long)r;
    if (c->rcvd < msg_size)
        return;
    if (++c->msg < n_msgs) {
        next_message(c, i);
        return;
    }
    if (hold_ms > 0) {
        c->st = C_HOLD;
        c->hold_until = tu_now_ms() + hold_ms;
        return;
    }
    if (shutdown(c->fd, SHUT_WR) < 0)
        conn_fail(c, i, "shutdown", errno);
    else
        c->st = C_CLOSING;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: " PROG " --addr A [--port P] [--conns N] [--msgs M] [--size S]\n"
            "       [--timeout SECONDS] [--barrier] [--hold SECONDS]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"addr", required_argument, NULL, 'a'},
        {"port", required_argument, NULL, 'p'},
        {"conns", required_argument, NULL, 'c'},
        {"msgs", required_argument, NULL, 'm'},
        {"size", required_argument, NULL, 's'},
        {"timeout", required_argument, NULL, 't'},
        {"barrier", no_argument, NULL, 'b'},
        {"hold", required_argument, NULL, 'H'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *addr = NULL;
    uint16_t port = 7000;
    long timeout_s = 60, hold_s = 0;
    bool barrier = false;
    n_conns = 1;
    n_msgs = 100;
    msg_size = 64;
    int o;
    while ((o = getopt_long(argc, argv, "a:p:c:m:s:t:bH:h", opts, NULL)) != -1) {
        switch (o) {
        case 'a':
            addr = optarg;
            break;
        case 'p':
            port = (uint16_t)tu_num(PROG, "--port", optarg, 1, 65535);
            break;
        case 'c':
            n_conns = tu_num(PROG, "--conns", optarg, 1, 20000);
            break;
        case 'm':
            n_msgs = tu_num(PROG, "--msgs", optarg, 1, 100000000);
            break;
        case 's':
            msg_size = (size_t)tu_num(PROG, "--size", optarg, 1, 64 << 20);
            break;
        case 't':
            timeout_s = tu_num(PROG, "--timeout", optarg, 1, 86400);
            break;
        case 'b':
            barrier = true;
            break;
        case 'H':
            hold_s = tu_num(PROG, "--hold", optarg, 0, 3600);
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

    conns = calloc((size_t)n_conns, sizeof(*conns));
    struct pollfd *pfd = calloc((size_t)n_conns, sizeof(*pfd));
    long *idx = calloc((size_t)n_conns, sizeof(*idx));
    if (conns == NULL || pfd == NULL || idx == NULL) {
        fprintf(stderr, PROG ": out of memory\n");
        return 1;
    }
    uint64_t t0 = tu_now_ns();
    int64_t deadline = tu_now_ms() + timeout_s * 1000;
    for (long i = 0; i < n_conns; i++) {
        struct conn *c = &conns[i];
        c->buf = malloc(msg_size);
        c->fd = socket(AF_INET, SOCK_STREAM, 0);
        if (c->buf == NULL || c->fd < 0 || tu_set_nonblock(c->fd, 1) < 0) {
            conn_fail(c, i, "socket", errno);
            continue;
        }
        if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 &&
            errno != EINPROGRESS) {
            conn_fail(c, i, "connect", errno);
            continue;
        }
        c->st = C_CONNECTING;
        next_message(c, i);
    }

    long connected = 0;
    bool timed_out = false;
    for (;;) {
        int64_t now = tu_now_ms();
        long n = 0;
        for (long i = 0; i < n_conns; i++) {
            struct conn *c = &conns[i];
            if (c->st == C_HOLD && now >= c->hold_until) {
                if (shutdown(c->fd, SHUT_WR) < 0)
                    conn_fail(c, i, "shutdown", errno);
                else
                    c->st = C_CLOSING;
            }
            if (c->st == C_DONE || c->st == C_FAILED)
                continue;
            short ev = POLLIN;
            if (c->st == C_CONNECTING)
                ev = POLLOUT;
            else if (c->st == C_RUNNING && c->sent < msg_size &&
                     (!barrier || connected == n_conns))
                ev |= POLLOUT;
            pfd[n] = (struct pollfd){.fd = c->fd, .events = ev};
            idx[n++] = i;
        }
        if (n == 0)
            break;
        int wait = tu_left_ms(deadline);
        if (wait == 0) {
            timed_out = true;
            break;
        }
        if (wait > 200)
            wait = 200;
        int r = poll(pfd, (nfds_t)n, wait);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            fprintf(stderr, PROG ": poll: %s\n", strerror(errno));
            return 1;
        }
        for (long k = 0; k < n && r > 0; k++) {
            if (pfd[k].revents == 0)
                continue;
            long i = idx[k];
            struct conn *c = &conns[i];
            if (c->st == C_CONNECTING) {
                int err = 0;
                socklen_t len = sizeof(err);
                if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
                    err = errno;
                if (err != 0) {
                    conn_fail(c, i, "connect", err);
                } else {
                    c->st = C_RUNNING;
                    connected++;
                }
                continue;
            }
            if (pfd[k].revents & (POLLIN | POLLERR | POLLHUP))
                on_readable(c, i, hold_s * 1000);
            if (c->st == C_RUNNING && (pfd[k].revents & POLLOUT) && c->sent < msg_size) {
                ssize_t w = write(c->fd, c->buf + c->sent, msg_size - c->sent);
                if (w > 0)
                    c->sent += (size_t)w;
                else if (w < 0 && errno != EAGAIN && errno != EINTR)
                    conn_fail(c, i, "write", errno);
            }
        }
    }
    double secs = (double)(tu_now_ns() - t0) / 1e9;
    long ok = 0;
    for (long i = 0; i < n_conns; i++) {
        if (conns[i].st == C_DONE)
            ok++;
        else if (timed_out && conns[i].st != C_FAILED && n_failed++ < 10)
            fprintf(stderr,
                    PROG ": connection %ld: timed out at message %ld (%zu sent, %zu "
                         "echoed of %zu)\n",
                    i, conns[i].msg, conns[i].sent, conns[i].rcvd, msg_size);
    }
    fprintf(
        stderr,
        PROG ": %ld/%ld connections verified (%ld x %zu B each), %llu bytes echoed in "
             "%.2f s%s\n",
        ok, n_conns, n_msgs, msg_size, total_bytes, secs, timed_out ? ", TIMED OUT" : "");
    return ok == n_conns ? 0 : 1;
}
