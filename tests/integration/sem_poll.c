/* sem_poll.c - poll, ppoll, select and pselect on TCP sockets, checked
 * against what Linux does: POLLIN/POLLOUT, POLLRDHUP only when asked,
 * POLLHUP and POLLERR whether asked or not, POLLNVAL for a closed number,
 * timeouts (and select's time left), signal masks, sets that mix TCP with
 * pipes, eventfds, UDP and Unix sockets, and an epoll descriptor in a poll
 * set.
 *
 * A plain libc program: t_poll.sh runs it under tasd (or on Linux with
 * TAS_TEST_MODE=linux) against sem_peer.py.  Every wait is bounded.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <unistd.h>

#include "semutil.h"
#include "tutil.h"

#define EV_MS    3000
#define QUIET_MS 300

/* poll one descriptor; revents (or -errno). */
static int poll1(int fd, short events, int ms)
{
    struct pollfd p = {.fd = fd, .events = events};
    int n = poll(&p, 1, ms);
    if (n < 0)
        return -errno;
    return n == 0 ? 0 : p.revents;
}

/* Wait until poll1 reports want (all bits), at most EV_MS. */
static int poll_until(int fd, short events, short want)
{
    int64_t t0 = tu_now_ms();
    int r = 0;
    while (sem_since(t0) < EV_MS) {
        r = poll1(fd, events, tu_left_ms(t0 + EV_MS));
        if (r < 0 || (r & want) == want)
            break;
        sem_sleep_ms(5); /* reported, but not all of want yet */
    }
    return r;
}

static void in_out(void)
{
    char id[16], buf[16];
    int c = sem_connect(id);
    int r = poll1(c, POLLIN | POLLOUT, 0);
    CHECK(r == POLLOUT, "poll: connected, nothing received: POLLOUT only (%#x)", r);
    CHECK(poll1(c, POLLIN, QUIET_MS) == 0, "poll: POLLIN alone: times out");
    int64_t t0 = tu_now_ms();
    sem_peer(NULL, 0, "send %s 5", id);
    r = poll1(c, POLLIN, EV_MS);
    CHECK(r == POLLIN && sem_since(t0) < EV_MS, "poll: data arrives: POLLIN (%#x)", r);
    r = poll1(c, POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM, 0);
    CHECK(r == (POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM),
          "poll: RDNORM/WRNORM when asked for (%#x)", r);
    CHECK(read(c, buf, sizeof(buf)) == 5, "poll: read it");
    CHECK(poll1(c, POLLIN, 0) == 0, "poll: nothing after reading");

    /* ppoll: timeout and a ready socket. */
    struct pollfd p = {.fd = c, .events = POLLIN};
    struct timespec ts = {0, 300 * 1000000L};
    t0 = tu_now_ms();
    int n = ppoll(&p, 1, &ts, NULL);
    CHECK(n == 0 && sem_since(t0) >= 299 && sem_since(t0) < 2000,
          "ppoll: 300 ms timeout kept (%lld ms)", (long long)sem_since(t0));
    struct timespec bad = {0, 1000000000L};
    errno = 0;
    CHECK(ppoll(&p, 1, &bad, NULL) < 0 && errno == EINVAL, "ppoll: tv_nsec 1e9: EINVAL");
    close(c);
}

static void rdhup_hup_err(void)
{
    char id[16], buf[16];
    int c = sem_connect(id);
    sem_peer(NULL, 0, "shutwr %s", id);
    int r = poll_until(c, POLLIN | POLLRDHUP, POLLIN | POLLRDHUP);
    CHECK(r == (POLLIN | POLLRDHUP), "poll: peer's FIN: POLLIN|POLLRDHUP, no HUP (%#x)",
          r);
    r = poll1(c, POLLIN, 0);
    CHECK(r == POLLIN, "poll: POLLRDHUP only when asked (%#x)", r);
    CHECK(read(c, buf, sizeof(buf)) == 0, "poll: EOF");
    shutdown(c, SHUT_WR);
    r = poll1(c, POLLIN | POLLRDHUP, 0);
    CHECK(r == (POLLIN | POLLRDHUP | POLLHUP), "poll: both ways shut: POLLHUP too (%#x)",
          r);
    r = poll1(c, 0, 0);
    CHECK(r == POLLHUP, "poll: POLLHUP even with events 0 (%#x)", r);
    close(c);

    c = sem_connect(id);
    sem_peer(NULL, 0, "rst %s", id);
    r = poll_until(c, 0, POLLERR | POLLHUP);
    CHECK(r == (POLLERR | POLLHUP), "poll: reset: POLLERR|POLLHUP with events 0 (%#x)",
          r);
    r = poll1(c, POLLIN | POLLOUT | POLLRDHUP, 0);
    CHECK(r == (POLLIN | POLLOUT | POLLRDHUP | POLLERR | POLLHUP),
          "poll: reset: everything asked for is ready (%#x)", r);
    int err = 0;
    socklen_t el = sizeof(err);
    CHECK(getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &el) == 0 && err == ECONNRESET,
          "poll: SO_ERROR says ECONNRESET (%s)", tu_errname(err));
    r = poll1(c, POLLIN, 0);
    CHECK(r == (POLLIN | POLLHUP), "poll: error read: POLLERR gone (%#x)", r);
    close(c);
}

static void nval_and_negative(void)
{
    char id[16];
    int c = sem_connect(id), p[2];
    CHECK(pipe(p) == 0, "nval: a pipe");
    int closed = p[1];
    close(closed);
    struct pollfd fds[3] = {{.fd = c, .events = POLLOUT},
                            {.fd = closed, .events = POLLIN},
                            {.fd = -1, .events = POLLIN}};
    int n = poll(fds, 3, 0);
    CHECK(n == 2 && fds[0].revents == POLLOUT && fds[1].revents == POLLNVAL &&
              fds[2].revents == 0,
          "poll: TCP + closed number + negative fd: 2, POLLOUT, POLLNVAL, 0 (n=%d %#x "
          "%#x %#x)",
          n, fds[0].revents, fds[1].revents, fds[2].revents);
    fd_set rs;
    FD_ZERO(&rs);
    FD_SET(c, &rs);
    FD_SET(closed, &rs);
    struct timeval tv = {0, 0};
    errno = 0;
    CHECK(select((c > closed ? c : closed) + 1, &rs, NULL, NULL, &tv) < 0 &&
              errno == EBADF,
          "select: a closed number in the set: EBADF");
    close(p[0]);
    close(c);
}

/* ------------------------------------------------------------ select */

static void selects(void)
{
    char id[16], buf[16];
    int c = sem_connect(id);
    fd_set rs, ws, es;
    FD_ZERO(&rs);
    FD_ZERO(&ws);
    FD_ZERO(&es);
    FD_SET(c, &rs);
    FD_SET(c, &es);
    struct timeval tv = {0, 300000};
    int64_t t0 = tu_now_ms();
    int n = select(c + 1, &rs, NULL, &es, &tv);
    CHECK(n == 0 && !FD_ISSET(c, &rs) && sem_since(t0) >= 299 && tv.tv_sec == 0 &&
              tv.tv_usec < 50000,
          "select: 300 ms timeout, sets cleared, time left ~0 (%lld ms, %ld us left)",
          (long long)sem_since(t0), (long)tv.tv_usec);
    sem_peer(NULL, 0, "send %s 3", id);
    poll_until(c, POLLIN, POLLIN); /* arrived */
    FD_ZERO(&rs);
    FD_SET(c, &rs);
    FD_SET(c, &ws);
    FD_ZERO(&es);
    FD_SET(c, &es);
    tv = (struct timeval){3, 0};
    n = select(c + 1, &rs, &ws, &es, &tv);
    CHECK(n == 2 && FD_ISSET(c, &rs) && FD_ISSET(c, &ws) && !FD_ISSET(c, &es) &&
              tv.tv_sec < 3,
          "select: readable and writable, no exception, time left reported (n=%d)", n);
    CHECK(read(c, buf, sizeof(buf)) == 3, "select: read it");
    /* pselect with a timeout. */
    FD_ZERO(&rs);
    FD_SET(c, &rs);
    struct timespec ts = {0, 200 * 1000000L};
    t0 = tu_now_ms();
    n = pselect(c + 1, &rs, NULL, NULL, &ts, NULL);
    CHECK(n == 0 && sem_since(t0) >= 199, "pselect: 200 ms timeout (%lld ms)",
          (long long)sem_since(t0));
    /* Reset: readable (the error), as Linux's select says. */
    sem_peer(NULL, 0, "rst %s", id);
    FD_ZERO(&rs);
    FD_SET(c, &rs);
    tv = (struct timeval){3, 0};
    n = select(c + 1, &rs, NULL, NULL, &tv);
    CHECK(n == 1 && FD_ISSET(c, &rs), "select: a reset makes it readable");
    errno = 0;
    CHECK(read(c, buf, sizeof(buf)) < 0 && errno == ECONNRESET,
          "select: read: ECONNRESET");
    close(c);
}

/* ------------------------------------------------------------ mixed sets */

static void mixed(void)
{
    char id[16];
    int c = sem_connect(id), p[2], un[2];
    int efd = eventfd(0, EFD_NONBLOCK);
    int udp = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in lo = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001)};
    socklen_t ll = sizeof(lo);
    CHECK(pipe2(p, O_NONBLOCK) == 0 && socketpair(AF_UNIX, SOCK_STREAM, 0, un) == 0 &&
              efd >= 0 && udp >= 0 &&
              bind(udp, (struct sockaddr *)&lo, sizeof(lo)) == 0 &&
              getsockname(udp, (struct sockaddr *)&lo, &ll) == 0,
          "mixed: pipe, eventfd, UDP and Unix sockets");
    int ep = epoll_create1(0);
    struct epoll_event ee = {.events = EPOLLIN, .data.u64 = 42};
    int c2id_ok;
    char id2[16];
    int c2 = sem_connect(id2);
    c2id_ok = epoll_ctl(ep, EPOLL_CTL_ADD, c2, &ee) == 0;
    CHECK(c2id_ok, "mixed: an epoll set holding a second TCP socket");
    struct pollfd fds[6] = {
        {.fd = c, .events = POLLIN},     {.fd = p[0], .events = POLLIN},
        {.fd = efd, .events = POLLIN},   {.fd = udp, .events = POLLIN},
        {.fd = un[0], .events = POLLIN}, {.fd = ep, .events = POLLIN}};
    const char *names[6] = {"TCP", "pipe", "eventfd", "UDP", "unix", "epoll"};
    CHECK(poll(fds, 6, QUIET_MS) == 0, "mixed: nothing ready");
    /* Each alone wakes a blocking poll and is the only one reported. */
    for (int i = 0; i < 6; i++) {
        uint64_t one = 1, v;
        char b[8];
        int64_t t0 = tu_now_ms();
        switch (i) {
        case 0:
            sem_peer(NULL, 0, "send %s 1", id);
            break;
        case 1:
            (void)!write(p[1], "x", 1);
            break;
        case 2:
            (void)!write(efd, &one, 8);
            break;
        case 3:
            sendto(udp, "u", 1, 0, (struct sockaddr *)&lo, sizeof(lo));
            break;
        case 4:
            (void)!write(un[1], "y", 1);
            break;
        case 5:
            sem_peer(NULL, 0, "send %s 1", id2);
            break;
        }
        int n = poll(fds, 6, EV_MS);
        bool only = n == 1;
        for (int k = 0; k < 6; k++)
            if ((k == i) != (fds[k].revents == POLLIN))
                only = false;
        CHECK(only && sem_since(t0) < EV_MS,
              "mixed: %s alone wakes poll and is reported (n=%d)", names[i], n);
        switch (i) {
        case 0:
            sem_read_n(c, b, 1, EV_MS);
            break;
        case 1:
            (void)!read(p[0], b, 1);
            break;
        case 2:
            (void)!read(efd, &v, 8);
            break;
        case 3:
            recv(udp, b, 1, 0);
            break;
        case 4:
            (void)!read(un[0], b, 1);
            break;
        case 5:
            sem_read_n(c2, b, 1, EV_MS);
            break;
        }
    }
    /* select over the same set, all ready at once. */
    uint64_t one = 1;
    sem_peer(NULL, 0, "send %s 1", id);
    sem_peer(NULL, 0, "send %s 1", id2);
    (void)!write(p[1], "x", 1);
    (void)!write(efd, &one, 8);
    sendto(udp, "u", 1, 0, (struct sockaddr *)&lo, sizeof(lo));
    (void)!write(un[1], "y", 1);
    int64_t t0 = tu_now_ms();
    int n = 0, maxfd = 0;
    fd_set rs;
    while (sem_since(t0) < EV_MS) {
        FD_ZERO(&rs);
        for (int k = 0; k < 6; k++) {
            FD_SET(fds[k].fd, &rs);
            maxfd = fds[k].fd > maxfd ? fds[k].fd : maxfd;
        }
        struct timeval tv = {0, 100000};
        n = select(maxfd + 1, &rs, NULL, NULL, &tv);
        if (n == 6)
            break;
        sem_sleep_ms(10);
    }
    CHECK(n == 6, "mixed: select reports all six readable (%d)", n);
    close(ep);
    close(c);
    close(c2);
    close(p[0]);
    close(p[1]);
    close(efd);
    close(udp);
    close(un[0]);
    close(un[1]);
}

/* ------------------------------------------------------------ signal masks */

static volatile sig_atomic_t got_usr1;

static void on_usr1(int sig)
{
    (void)sig;
    got_usr1 = 1;
}

static void *kill_later(void *arg)
{
    sem_sleep_ms(200);
    pthread_kill(*(pthread_t *)arg, SIGUSR1);
    return NULL;
}

enum { W_POLL, W_PPOLL, W_SELECT, W_PSELECT };

static int wait_kind(int kind, int fd, const sigset_t *m, int ms)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    fd_set rs;
    FD_ZERO(&rs);
    FD_SET(fd, &rs);
    switch (kind) {
    case W_POLL:
        return poll(&p, 1, ms);
    case W_PPOLL:
        return ppoll(&p, 1, &ts, m);
    case W_SELECT:
        return select(fd + 1, &rs, NULL, NULL, &tv);
    default:
        return pselect(fd + 1, &rs, NULL, NULL, &ts, m);
    }
}

static int with_signal(int kind, int fd, const sigset_t *m, int ms, int *err,
                       int64_t *took)
{
    pthread_t self = pthread_self(), t;
    got_usr1 = 0;
    pthread_create(&t, NULL, kill_later, &self);
    int64_t t0 = tu_now_ms();
    errno = 0;
    int n = wait_kind(kind, fd, m, ms);
    *err = errno;
    *took = sem_since(t0);
    pthread_join(t, NULL);
    return n;
}

static bool usr1_pending(void)
{
    sigset_t s;
    sigpending(&s);
    return sigismember(&s, SIGUSR1);
}

static void consume_usr1(void)
{
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    struct timespec zero = {0, 0};
    sigtimedwait(&s, NULL, &zero);
}

static void signal_masks(void)
{
    char id[16];
    int c = sem_connect(id);
    struct sigaction sa = {.sa_handler = on_usr1}; /* no SA_RESTART */
    sigaction(SIGUSR1, &sa, NULL);
    sigset_t blocked, unblock;
    sigemptyset(&blocked);
    sigaddset(&blocked, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &blocked, &unblock);
    sigdelset(&unblock, SIGUSR1);
    const char *kn[4] = {"poll", "ppoll", "select", "pselect"};
    int err, n;
    int64_t took;
    for (int k = W_PPOLL; k <= W_PSELECT; k += 2) {
        n = with_signal(k, c, &unblock, 2000, &err, &took);
        CHECK(n == -1 && err == EINTR && got_usr1 && took < 1500,
              "%s: mask unblocks the signal: EINTR (n=%d, %lld ms)", kn[k], n,
              (long long)took);
        n = with_signal(k, c, &blocked, 700, &err, &took);
        CHECK(n == 0 && !got_usr1 && took >= 650 && usr1_pending(),
              "%s: mask blocks it: timeout, signal pending (n=%d, %lld ms)", kn[k], n,
              (long long)took);
        consume_usr1();
        n = with_signal(k, c, NULL, 700, &err, &took);
        CHECK(n == 0 && !got_usr1 && took >= 650 && usr1_pending(),
              "%s: no mask, signal blocked: timeout (n=%d, %lld ms)", kn[k], n,
              (long long)took);
        consume_usr1();
    }
    pthread_sigmask(SIG_UNBLOCK, &blocked, NULL);
    for (int k = W_POLL; k <= W_SELECT; k += 2) {
        n = with_signal(k, c, NULL, 2000, &err, &took);
        CHECK(n == -1 && err == EINTR && got_usr1 && took < 1500,
              "%s: a handled signal: EINTR (n=%d, %lld ms)", kn[k], n, (long long)took);
    }
    signal(SIGUSR1, SIG_DFL);
    close(c);
}

int main(int argc, char **argv)
{
    sem_init("sem_poll", argc, argv);
    signal(SIGPIPE, SIG_IGN);
    in_out();
    rdhup_hup_err();
    nval_and_negative();
    selects();
    mixed();
    signal_masks();
    return sem_finish();
}
