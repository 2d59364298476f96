/* sem_epoll.c - epoll semantics on TCP sockets, checked against what Linux
 * does: level- and edge-triggered reporting, EPOLLONESHOT, EPOLLRDHUP,
 * EPOLLHUP/EPOLLERR on a reset, EPOLLEXCLUSIVE, epoll_pwait/epoll_pwait2
 * signal masks, sets that mix TCP with pipes, eventfds, UDP and Unix
 * sockets, epoll_ctl errors, closing the epoll descriptor while a thread
 * waits on it, and data.u64 coming back intact.
 *
 * A plain libc program: t_epoll.sh runs it under tasd (or on Linux with
 * TAS_TEST_MODE=linux, which validates every check) against sem_peer.py,
 * which sends, shuts down and resets on command.  Every wait is bounded.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "semutil.h"
#include "tutil.h"

#define EV_MS    3000 /* an event that must come */
#define QUIET_MS 300  /* long enough for one that must not */
#define TAG(x)   (0x5a5a000000000000ull | (uint64_t)(x))

static int ep_add(int ep, int fd, uint32_t events, uint64_t u64)
{
    struct epoll_event e = {.events = events, .data.u64 = u64};
    return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
}

static int ep_mod(int ep, int fd, uint32_t events, uint64_t u64)
{
    struct epoll_event e = {.events = events, .data.u64 = u64};
    return epoll_ctl(ep, EPOLL_CTL_MOD, fd, &e);
}

/* epoll_wait for one event; returns the count and the first event. */
static int wait1(int ep, int ms, struct epoll_event *out)
{
    struct epoll_event ev[8];
    int n;
    do
        n = epoll_wait(ep, ev, 8, ms);
    while (n < 0 && errno == EINTR);
    if (n > 0 && out != NULL)
        *out = ev[0];
    return n;
}

/* ------------------------------------------------------------ LT, ET, ONESHOT */

static void level_triggered(void)
{
    char id[16];
    int c = sem_connect(id), ep = epoll_create1(0);
    struct epoll_event e;
    CHECK(ep_add(ep, c, EPOLLIN, TAG(1)) == 0, "LT: add a TCP socket");
    CHECK(wait1(ep, QUIET_MS, NULL) == 0, "LT: nothing to report before data arrives");
    sem_peer(NULL, 0, "send %s 10", id);
    int n = wait1(ep, EV_MS, &e);
    CHECK(n == 1 && e.events == EPOLLIN && e.data.u64 == TAG(1),
          "LT: data arrives: EPOLLIN with data.u64 intact (n=%d events=%#x)", n,
          e.events);
    n = wait1(ep, 0, &e);
    CHECK(n == 1 && (e.events & EPOLLIN), "LT: reported again while the data is unread");
    char buf[16];
    CHECK(read(c, buf, 4) == 4, "LT: read 4 of 10 bytes");
    CHECK(wait1(ep, 0, NULL) == 1, "LT: still reported with 6 bytes unread");
    CHECK(read(c, buf, sizeof(buf)) == 6, "LT: read the other 6");
    CHECK(wait1(ep, QUIET_MS, NULL) == 0, "LT: nothing once everything is read");
    close(ep);
    close(c);
}

static void edge_triggered(void)
{
    char id[16], buf[64];
    int c = sem_connect(id), ep = epoll_create1(0);
    struct epoll_event e;
    CHECK(ep_add(ep, c, EPOLLIN | EPOLLET, TAG(2)) == 0, "ET: add");
    sem_peer(NULL, 0, "send %s 10", id);
    int n = wait1(ep, EV_MS, &e);
    CHECK(n == 1 && e.events == EPOLLIN && e.data.u64 == TAG(2),
          "ET: first arrival: one EPOLLIN (n=%d events=%#x)", n, e.events);
    CHECK(wait1(ep, QUIET_MS, NULL) == 0, "ET: not repeated while the data stays unread");
    CHECK(read(c, buf, 4) == 4, "ET: read part of the data");
    CHECK(wait1(ep, QUIET_MS, NULL) == 0, "ET: a read does not re-arm");
    sem_peer(NULL, 0, "send %s 10", id);
    n = wait1(ep, EV_MS, &e);
    CHECK(n == 1 && e.events == EPOLLIN, "ET: new data re-arms: one more EPOLLIN (n=%d)",
          n);
    CHECK(wait1(ep, QUIET_MS, NULL) == 0, "ET: and only one");
    CHECK(sem_read_n(c, buf, 16, EV_MS) == 16, "ET: all 16 unread bytes are there");

    /* EPOLLOUT: once when writable, then only after running out of room. */
    int ep2 = epoll_create1(0);
    CHECK(ep_add(ep2, c, EPOLLOUT | EPOLLET, TAG(3)) == 0, "ET out: add");
    n = wait1(ep2, EV_MS, &e);
    CHECK(n == 1 && e.events == EPOLLOUT, "ET out: writable: one EPOLLOUT (n=%d)", n);
    CHECK(write(c, "hello", 5) == 5, "ET out: a small write");
    char r[64];
    sem_peer(r, sizeof(r), "recv %s 5 %d", id, EV_MS);
    CHECK(strcmp(r, "5 more") == 0, "ET out: the peer got it (%s)", r);
    CHECK(wait1(ep2, QUIET_MS, NULL) == 0,
          "ET out: no new EPOLLOUT while the socket never stopped being writable");
    /* Fill up: write until EAGAIN, again after every EPOLLOUT (tasd or the
     * kernel frees room while the peer's window takes data), until the
     * socket stays full: then no EPOLLOUT may come. */
    tu_set_nonblock(c, 1);
    static char big[65536];
    size_t sent = 0;
    bool eagain = true, quiet = false;
    int rounds;
    for (rounds = 0; rounds < 200 && eagain && !quiet; rounds++) {
        ssize_t w = 0;
        for (int i = 0; i < 4096; i++) { /* bounded: the buffers fill long before */
            w = write(c, big, sizeof(big));
            if (w < 0)
                break;
            sent += (size_t)w;
        }
        eagain = w < 0 && errno == EAGAIN;
        quiet = wait1(ep2, QUIET_MS, NULL) == 0;
    }
    CHECK(eagain, "ET out: non-blocking writes fill up: EAGAIN (%zu bytes)", sent);
    CHECK(quiet, "ET out: once full for good, no EPOLLOUT while full (%d rounds)",
          rounds);
    sem_peer(r, sizeof(r), "recv %s %zu 30000", id, sent);
    n = wait1(ep2, EV_MS, &e);
    CHECK(n == 1 && (e.events & EPOLLOUT),
          "ET out: the peer read everything (%s): one EPOLLOUT (n=%d)", r, n);
    close(ep2);
    close(ep);
    close(c);
}

static void oneshot(void)
{
    char id[16], buf[64];
    int c = sem_connect(id), ep = epoll_create1(0);
    struct epoll_event e;
    CHECK(ep_add(ep, c, EPOLLIN | EPOLLONESHOT, TAG(4)) == 0, "ONESHOT: add");
    sem_peer(NULL, 0, "send %s 8", id);
    int n = wait1(ep, EV_MS, &e);
    CHECK(n == 1 && e.events == EPOLLIN && e.data.u64 == TAG(4),
          "ONESHOT: one event (n=%d)", n);
    CHECK(wait1(ep, QUIET_MS, NULL) == 0,
          "ONESHOT: disabled after it, data still unread");
    CHECK(sem_read_n(c, buf, 8, EV_MS) == 8, "ONESHOT: read the data");
    sem_peer(NULL, 0, "send %s 8", id);
    CHECK(wait1(ep, QUIET_MS * 2, NULL) == 0, "ONESHOT: new data does not re-enable it");
    CHECK(ep_mod(ep, c, EPOLLIN | EPOLLONESHOT, TAG(5)) == 0,
          "ONESHOT: EPOLL_CTL_MOD re-arms");
    n = wait1(ep, EV_MS, &e);
    CHECK(n == 1 && e.data.u64 == TAG(5),
          "ONESHOT: reported after MOD with the new data.u64");
    CHECK(wait1(ep, QUIET_MS, NULL) == 0, "ONESHOT: and disabled again");
    close(ep);
    close(c);
}

/* ------------------------------------------------------------ FIN, RST */

static void rdhup(void)
{
    char id[16], buf[64];
    int c = sem_connect(id), ep = epoll_create1(0);
    struct epoll_event e;
    CHECK(ep_add(ep, c, EPOLLIN | EPOLLRDHUP, TAG(6)) == 0, "RDHUP: add");
    sem_peer(NULL, 0, "shutwr %s", id);
    int n = wait1(ep, EV_MS, &e);
    CHECK(n == 1 && e.events == (EPOLLIN | EPOLLRDHUP),
          "RDHUP: peer's shutdown(SHUT_WR): EPOLLIN|EPOLLRDHUP, no HUP (events=%#x)",
          e.events);
    CHECK(read(c, buf, sizeof(buf)) == 0, "RDHUP: read gives EOF");
    CHECK(shutdown(c, SHUT_WR) == 0, "RDHUP: our shutdown(SHUT_WR)");
    n = wait1(ep, EV_MS, &e);
    CHECK(n == 1 && e.events == (EPOLLIN | EPOLLRDHUP | EPOLLHUP),
          "RDHUP: both directions shut: EPOLLHUP too (events=%#x)", e.events);

    /* Without EPOLLRDHUP asked for, it is not reported. */
    int ep2 = epoll_create1(0);
    ep_add(ep2, c, EPOLLIN, TAG(7));
    n = wait1(ep2, EV_MS, &e);
    CHECK(n == 1 && !(e.events & EPOLLRDHUP) && (e.events & EPOLLHUP),
          "RDHUP: not reported unless asked; EPOLLHUP always is (events=%#x)", e.events);
    close(ep2);
    close(ep);
    close(c);
}

static void reset(void)
{
    char id[16], buf[64];
    int c = sem_connect(id), ep = epoll_create1(0), ep_et = epoll_create1(0);
    struct epoll_event e;
    CHECK(ep_add(ep, c, EPOLLIN, TAG(8)) == 0, "RST: add (EPOLLIN only)");
    CHECK(ep_add(ep_et, c, EPOLLOUT | EPOLLET, TAG(9)) == 0,
          "RST: add to a second set (ET out)");
    CHECK(wait1(ep_et, EV_MS, &e) == 1, "RST: ET set: writable once");
    sem_peer(NULL, 0, "rst %s", id);
    int n = wait1(ep, EV_MS, &e);
    CHECK(n == 1 && (e.events & (EPOLLERR | EPOLLHUP)) == (EPOLLERR | EPOLLHUP) &&
              (e.events & EPOLLIN),
          "RST: EPOLLIN|EPOLLERR|EPOLLHUP, asked for or not (events=%#x)", e.events);
    n = wait1(ep_et, EV_MS, &e);
    CHECK(n == 1 && (e.events & (EPOLLERR | EPOLLHUP)) == (EPOLLERR | EPOLLHUP),
          "RST: the ET set gets the reset once (events=%#x)", e.events);
    CHECK(wait1(ep_et, QUIET_MS, NULL) == 0, "RST: the ET set only once");
    errno = 0;
    CHECK(read(c, buf, sizeof(buf)) < 0 && errno == ECONNRESET,
          "RST: read says ECONNRESET");
    n = wait1(ep, 0, &e);
    CHECK(n == 1 && (e.events & EPOLLHUP) && !(e.events & EPOLLERR),
          "RST: after the error is read: EPOLLHUP without EPOLLERR (events=%#x)",
          e.events);
    close(ep_et);
    close(ep);
    close(c);
}

/* ------------------------------------------------------------ EPOLLEXCLUSIVE */

struct waiter {
    int ep;
    int n;        /* epoll_wait's result */
    int64_t woke; /* when (ms), 0 while waiting */
    pthread_t thr;
};

static void *wait_thread(void *arg)
{
    struct waiter *w = arg;
    struct epoll_event e;
    w->n = wait1(w->ep, 8000, &e);
    __atomic_store_n(&w->woke, tu_now_ms(), __ATOMIC_RELEASE);
    return NULL;
}

static int woken(struct waiter *w, int k)
{
    int n = 0;
    for (int i = 0; i < k; i++)
        n += __atomic_load_n(&w[i].woke, __ATOMIC_ACQUIRE) != 0;
    return n;
}

static void exclusive(void)
{
    int l = tu_listen(S.listen_port, 16, 1);
    CHECK(l >= 0, "EXCLUSIVE: listening on %u", S.listen_port);
    int ep = epoll_create1(0);
    struct epoll_event e = {.events = EPOLLIN | EPOLLEXCLUSIVE};
    CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, l, &e) == 0, "EXCLUSIVE: accepted on ADD");
    errno = 0;
    CHECK(epoll_ctl(ep, EPOLL_CTL_MOD, l, &e) < 0 && errno == EINVAL,
          "EXCLUSIVE: EINVAL on MOD with EPOLLEXCLUSIVE");
    e.events = EPOLLIN;
    errno = 0;
    CHECK(epoll_ctl(ep, EPOLL_CTL_MOD, l, &e) < 0 && errno == EINVAL,
          "EXCLUSIVE: EINVAL on MOD of an exclusive registration");
    CHECK(epoll_ctl(ep, EPOLL_CTL_DEL, l, NULL) == 0, "EXCLUSIVE: DEL works");
    e.events = EPOLLIN | EPOLLEXCLUSIVE | EPOLLONESHOT;
    errno = 0;
    CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, l, &e) < 0 && errno == EINVAL,
          "EXCLUSIVE: EINVAL with EPOLLONESHOT");
    e.events = EPOLLIN | EPOLLEXCLUSIVE | EPOLLRDHUP;
    errno = 0;
    CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, l, &e) < 0 && errno == EINVAL,
          "EXCLUSIVE: EINVAL with EPOLLRDHUP");
    close(ep);

    /* Two threads, each in epoll_wait on its own instance with the listener
     * added EPOLLEXCLUSIVE: one connection wakes one of them. */
    struct waiter w[2] = {{0}};
    for (int i = 0; i < 2; i++) {
        w[i].ep = epoll_create1(0);
        ep_add(w[i].ep, l, EPOLLIN | EPOLLEXCLUSIVE, TAG(10 + i));
        pthread_create(&w[i].thr, NULL, wait_thread, &w[i]);
    }
    sem_sleep_ms(500); /* both asleep in epoll_wait */
    char id[16];
    CHECK(sem_peer(id, sizeof(id), "connect %u", S.listen_port) == 0,
          "EXCLUSIVE: the peer connects");
    int64_t t0 = tu_now_ms();
    while (woken(w, 2) == 0 && sem_since(t0) < EV_MS)
        sem_sleep_ms(10);
    sem_sleep_ms(500);
    CHECK(woken(w, 2) == 1,
          "EXCLUSIVE: one connection woke exactly one of two waiters (%d)", woken(w, 2));
    CHECK(sem_peer(id, sizeof(id), "connect %u", S.listen_port) == 0,
          "EXCLUSIVE: the peer connects again");
    t0 = tu_now_ms();
    while (woken(w, 2) < 2 && sem_since(t0) < EV_MS)
        sem_sleep_ms(10);
    CHECK(woken(w, 2) == 2 && w[0].n == 1 && w[1].n == 1,
          "EXCLUSIVE: the second wakes the other waiter");
    for (int i = 0; i < 2; i++) {
        pthread_join(w[i].thr, NULL);
        close(w[i].ep);
    }
    close(l);
}

/* ------------------------------------------------------------ epoll_ctl errors */

/* The same bad calls on a TCP socket and on a pipe must fail alike. */
static void ctl_errors(void)
{
    char id[16];
    int c = sem_connect(id), ep = epoll_create1(0), p[2];
    CHECK(pipe(p) == 0, "ctl: a pipe to compare with");
    int fds[2] = {c, p[0]};
    const char *what[2] = {"TCP socket", "pipe"};
    struct epoll_event e = {.events = EPOLLIN};
    for (int i = 0; i < 2; i++) {
        int fd = fds[i];
        errno = 0;
        CHECK(epoll_ctl(ep, EPOLL_CTL_MOD, fd, &e) < 0 && errno == ENOENT,
              "ctl (%s): MOD before ADD: ENOENT", what[i]);
        errno = 0;
        CHECK(epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL) < 0 && errno == ENOENT,
              "ctl (%s): DEL before ADD: ENOENT", what[i]);
        errno = 0;
        CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, fd, NULL) < 0 && errno == EFAULT,
              "ctl (%s): ADD without an event: EFAULT", what[i]);
        CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e) == 0, "ctl (%s): ADD", what[i]);
        errno = 0;
        CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e) < 0 && errno == EEXIST,
              "ctl (%s): ADD twice: EEXIST", what[i]);
        errno = 0;
        CHECK(epoll_ctl(ep, 99, fd, &e) < 0 && errno == EINVAL,
              "ctl (%s): unknown op: EINVAL", what[i]);
        errno = 0;
        CHECK(epoll_ctl(ep, EPOLL_CTL_MOD, fd, NULL) < 0 && errno == EFAULT,
              "ctl (%s): MOD without an event: EFAULT", what[i]);
        CHECK(epoll_ctl(ep, EPOLL_CTL_MOD, fd, &e) == 0, "ctl (%s): MOD", what[i]);
        CHECK(epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL) == 0, "ctl (%s): DEL", what[i]);
        errno = 0;
        CHECK(epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL) < 0 && errno == ENOENT,
              "ctl (%s): DEL twice: ENOENT", what[i]);
        errno = 0;
        CHECK(epoll_ctl(p[1], EPOLL_CTL_ADD, fd, &e) < 0 && errno == EINVAL,
              "ctl (%s): epfd not an epoll: EINVAL", what[i]);
    }
    errno = 0;
    CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, ep, &e) < 0 && errno == EINVAL,
          "ctl: an epoll into itself: EINVAL");
    struct epoll_event ev[1];
    errno = 0;
    CHECK(epoll_wait(ep, ev, 0, 0) < 0 && errno == EINVAL, "wait: maxevents 0: EINVAL");
    volatile int huge = INT_MAX; /* hidden from the compiler's overflow check */
    errno = 0;
    CHECK(epoll_wait(ep, ev, huge, 0) < 0 && errno == EINVAL,
          "wait: maxevents beyond the kernel's limit: EINVAL");
    /* A closed socket is gone from the set; its number is not valid. */
    ep_add(ep, c, EPOLLIN, TAG(12));
    sem_peer(NULL, 0, "send %s 4", id);
    CHECK(wait1(ep, EV_MS, NULL) == 1, "ctl: data reported");
    close(c);
    CHECK(wait1(ep, QUIET_MS, NULL) == 0,
          "ctl: closing the socket takes it out of the set");
    errno = 0;
    CHECK(epoll_ctl(ep, EPOLL_CTL_DEL, c, NULL) < 0 && errno == EBADF,
          "ctl: DEL of the closed socket: EBADF");
    close(ep);
    errno = 0;
    CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &e) < 0 && errno == EBADF,
          "ctl: closed epoll descriptor: EBADF");
    close(p[0]);
    close(p[1]);
}

/* ------------------------------------------------------------ mixed sets */

static void mixed(void)
{
    char id[16];
    int c = sem_connect(id), ep = epoll_create1(EPOLL_CLOEXEC), p[2], un[2];
    int efd = eventfd(0, EFD_NONBLOCK);
    int udp = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in lo = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001)};
    socklen_t ll = sizeof(lo);
    CHECK(pipe2(p, O_NONBLOCK) == 0 && socketpair(AF_UNIX, SOCK_STREAM, 0, un) == 0 &&
              efd >= 0 && udp >= 0 &&
              bind(udp, (struct sockaddr *)&lo, sizeof(lo)) == 0 &&
              getsockname(udp, (struct sockaddr *)&lo, &ll) == 0,
          "mixed: pipe, eventfd, UDP and Unix sockets");
    int fds[5] = {c, p[0], efd, udp, un[0]};
    const char *names[5] = {"TCP", "pipe", "eventfd", "UDP", "unix"};
    for (int i = 0; i < 5; i++)
        CHECK(ep_add(ep, fds[i], EPOLLIN, TAG(100 + i)) == 0, "mixed: add %s", names[i]);
    CHECK(wait1(ep, QUIET_MS, NULL) == 0, "mixed: nothing ready yet");
    uint64_t one = 1;
    sem_peer(NULL, 0, "send %s 3", id);
    CHECK(write(p[1], "x", 1) == 1 && write(efd, &one, 8) == 8 &&
              sendto(udp, "u", 1, 0, (struct sockaddr *)&lo, sizeof(lo)) == 1 &&
              write(un[1], "y", 1) == 1,
          "mixed: made every kernel descriptor readable");
    /* All five, each with its own data.u64, two at a time. */
    unsigned seen = 0;
    int calls = 0;
    int64_t t0 = tu_now_ms();
    while (seen != 0x1f && sem_since(t0) < EV_MS && calls < 1000) {
        struct epoll_event ev[2];
        int n = epoll_wait(ep, ev, 2, 100);
        calls++;
        for (int i = 0; i < n; i++) {
            uint64_t k = ev[i].data.u64 - TAG(100);
            if (k < 5 && ev[i].events == EPOLLIN)
                seen |= 1u << k;
            else
                seen |= 1u << 8; /* garbage */
        }
    }
    CHECK(seen == 0x1f,
          "mixed: all five reported with their own data.u64 (seen %#x, %d calls)", seen,
          calls);
    char buf[16];
    uint64_t v;
    CHECK(sem_read_n(c, buf, 3, EV_MS) == 3 && read(p[0], buf, 1) == 1 &&
              read(efd, &v, 8) == 8 && recv(udp, buf, 1, 0) == 1 &&
              read(un[0], buf, 1) == 1,
          "mixed: read everything");
    CHECK(wait1(ep, QUIET_MS, NULL) == 0, "mixed: nothing ready afterwards");
    /* Blocking wait wakes for a kernel descriptor and for TCP alike. */
    int64_t t1 = tu_now_ms();
    write(efd, &one, 8);
    struct epoll_event e;
    int n = wait1(ep, EV_MS, &e);
    CHECK(n == 1 && e.data.u64 == TAG(102), "mixed: eventfd alone wakes the wait");
    read(efd, &v, 8);
    sem_peer(NULL, 0, "send %s 1", id);
    n = wait1(ep, EV_MS, &e);
    CHECK(n == 1 && e.data.u64 == TAG(100) && sem_since(t1) < EV_MS,
          "mixed: TCP alone wakes the wait");
    close(ep);
    close(c);
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

struct killer {
    pthread_t target;
    int delay_ms;
};

static void *kill_later(void *arg)
{
    struct killer *k = arg;
    sem_sleep_ms(k->delay_ms);
    pthread_kill(k->target, SIGUSR1);
    return NULL;
}

/* Run wait() with SIGUSR1 sent to this thread after 200 ms. */
static int with_signal(int (*wait)(int ep, const sigset_t *m, int ms), int ep,
                       const sigset_t *m, int ms, int *err, int64_t *took)
{
    struct killer k = {pthread_self(), 200};
    pthread_t t;
    got_usr1 = 0;
    pthread_create(&t, NULL, kill_later, &k);
    int64_t t0 = tu_now_ms();
    errno = 0;
    int n = wait(ep, m, ms);
    *err = errno;
    *took = sem_since(t0);
    pthread_join(t, NULL);
    return n;
}

static int do_pwait(int ep, const sigset_t *m, int ms)
{
    struct epoll_event ev[4];
    return epoll_pwait(ep, ev, 4, ms, m);
}

static int do_pwait2(int ep, const sigset_t *m, int ms)
{
    struct epoll_event ev[4];
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    return epoll_pwait2(ep, ev, 4, &ts, m);
}

static int do_wait(int ep, const sigset_t *m, int ms)
{
    (void)m;
    struct epoll_event ev[4];
    return epoll_wait(ep, ev, 4, ms);
}

static void consume_usr1(void)
{
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    struct timespec zero = {0, 0};
    sigtimedwait(&s, NULL, &zero);
}

static bool usr1_pending(void)
{
    sigset_t s;
    sigpending(&s);
    return sigismember(&s, SIGUSR1);
}

static void signal_masks(void)
{
    char id[16];
    int c = sem_connect(id), ep = epoll_create1(0), kep = epoll_create1(0), p[2];
    CHECK(pipe(p) == 0, "sigmask: a pipe for the kernel-only set");
    ep_add(ep, c, EPOLLIN, TAG(20));
    ep_add(kep, p[0], EPOLLIN, TAG(21));
    struct sigaction sa = {.sa_handler = on_usr1}; /* no SA_RESTART: EINTR */
    sigaction(SIGUSR1, &sa, NULL);
    sigset_t blocked, unblock;
    sigemptyset(&blocked);
    sigaddset(&blocked, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &blocked, &unblock); /* unblock: the mask without it */
    sigdelset(&unblock, SIGUSR1);

    int sets[2] = {ep, kep};
    const char *sn[2] = {"TCP set", "kernel-only set"};
    for (int i = 0; i < 2; i++) {
        int err, n;
        int64_t took;
        n = with_signal(do_pwait, sets[i], &unblock, 2000, &err, &took);
        CHECK(n == -1 && err == EINTR && got_usr1 && took < 1500,
              "sigmask (%s): epoll_pwait whose mask unblocks the signal: EINTR "
              "(n=%d, %s, %lld ms)",
              sn[i], n, tu_errname(err), (long long)took);
        n = with_signal(do_pwait, sets[i], NULL, 700, &err, &took);
        CHECK(n == 0 && !got_usr1 && took >= 650 && usr1_pending(),
              "sigmask (%s): with the signal blocked: runs to its timeout, signal stays "
              "pending (n=%d, %lld ms)",
              sn[i], n, (long long)took);
        consume_usr1();
        n = with_signal(do_pwait2, sets[i], &unblock, 2000, &err, &took);
        CHECK(n == -1 && err == EINTR && got_usr1 && took < 1500,
              "sigmask (%s): epoll_pwait2 likewise: EINTR (n=%d, %lld ms)", sn[i], n,
              (long long)took);
        n = with_signal(do_pwait2, sets[i], &blocked, 700, &err, &took);
        CHECK(n == 0 && !got_usr1 && took >= 650 && usr1_pending(),
              "sigmask (%s): epoll_pwait2 with a mask that blocks it: timeout "
              "(n=%d, %lld ms)",
              sn[i], n, (long long)took);
        consume_usr1();
    }
    /* An event that is ready wins over a pending signal. */
    sem_peer(NULL, 0, "send %s 2", id);
    CHECK(wait1(ep, EV_MS, NULL) == 1, "sigmask: data ready");
    pthread_kill(pthread_self(), SIGUSR1);
    got_usr1 = 0;
    struct epoll_event ev[4];
    int n = epoll_pwait(ep, ev, 4, 1000, &unblock);
    CHECK(n == 1 && !got_usr1 && usr1_pending(),
          "sigmask: ready event with a pending signal: the event, signal stays pending "
          "(n=%d)",
          n);
    consume_usr1();
    /* Plain epoll_wait with the signal unblocked: EINTR. */
    pthread_sigmask(SIG_UNBLOCK, &blocked, NULL);
    char buf[4];
    sem_read_n(c, buf, 2, EV_MS);
    int err;
    int64_t took;
    n = with_signal(do_wait, ep, NULL, 2000, &err, &took);
    CHECK(n == -1 && err == EINTR && got_usr1 && took < 1500,
          "sigmask: epoll_wait interrupted by a handled signal: EINTR (n=%d, %lld ms)", n,
          (long long)took);
    struct timespec ts = {0, 250 * 1000000L};
    int64_t t0 = tu_now_ms();
    n = epoll_pwait2(ep, ev, 4, &ts, NULL);
    CHECK(n == 0 && sem_since(t0) >= 249,
          "epoll_pwait2: a 250 ms timeout is kept (%lld ms)", (long long)sem_since(t0));
    signal(SIGUSR1, SIG_DFL);
    close(ep);
    close(kep);
    close(p[0]);
    close(p[1]);
    close(c);
}

/* ------------------------------------------------------------ close while in use */

static void *wait_thread_long(void *arg)
{
    struct waiter *w = arg;
    struct epoll_event e = {0};
    w->n = wait1(w->ep, 3000, &e);
    w->woke = (int64_t)e.data.u64; /* what was reported */
    return NULL;
}

static void closed_in_use(void)
{
    char id[16];
    int c = sem_connect(id);
    struct waiter w = {.ep = epoll_create1(0)};
    ep_add(w.ep, c, EPOLLIN, TAG(30));
    pthread_create(&w.thr, NULL, wait_thread_long, &w);
    sem_sleep_ms(200);
    int ep = w.ep;
    CHECK(close(ep) == 0,
          "closed in use: close the epoll descriptor while a thread waits");
    sem_sleep_ms(200);
    sem_peer(NULL, 0, "send %s 1", id);
    pthread_join(w.thr, NULL);
    CHECK(w.n == 1 && (uint64_t)w.woke == TAG(30),
          "closed in use: the waiter still gets the event, as on Linux (n=%d)", w.n);
    struct epoll_event ev[1];
    errno = 0;
    CHECK(epoll_wait(ep, ev, 1, 0) < 0 && errno == EBADF,
          "closed in use: the closed descriptor then says EBADF");
    close(c);
}

/* ------------------------------------------------------------ connect, listen */

static void connect_and_listen(void)
{
    struct epoll_event e;
    /* Non-blocking connect: one EPOLLOUT when it completes (ET). */
    int c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), ep = epoll_create1(0);
    struct sockaddr_in sa;
    tu_addr(S.prog, S.peer_ip, S.data_port, &sa);
    errno = 0;
    CHECK(connect(c, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno == EINPROGRESS,
          "connect: non-blocking: EINPROGRESS");
    CHECK(ep_add(ep, c, EPOLLOUT | EPOLLIN | EPOLLET, TAG(40)) == 0, "connect: add (ET)");
    int n = wait1(ep, EV_MS, &e);
    CHECK(n == 1 && e.events == EPOLLOUT && e.data.u64 == TAG(40),
          "connect: completes: one EPOLLOUT (n=%d events=%#x)", n, e.events);
    CHECK(wait1(ep, QUIET_MS, NULL) == 0, "connect: once");
    close(ep);
    close(c);

    /* Refused: everything, as Linux's tcp_poll says for a reset socket. */
    c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    ep = epoll_create1(0);
    tu_addr(S.prog, S.peer_ip, 9, &sa); /* nobody listens on the discard port */
    connect(c, (struct sockaddr *)&sa, sizeof(sa));
    ep_add(ep, c, EPOLLOUT | EPOLLIN | EPOLLRDHUP, TAG(41));
    n = wait1(ep, EV_MS, &e);
    CHECK(n == 1 && (e.events & (EPOLLERR | EPOLLHUP | EPOLLOUT)) ==
                        (EPOLLERR | EPOLLHUP | EPOLLOUT),
          "connect refused: EPOLLERR|EPOLLHUP|EPOLLOUT (events=%#x)", e.events);
    int err = 0;
    socklen_t el = sizeof(err);
    getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &el);
    CHECK(err == ECONNREFUSED, "connect refused: SO_ERROR ECONNREFUSED (%s)",
          tu_errname(err));
    close(ep);
    close(c);

    /* A fresh socket: EPOLLOUT|EPOLLHUP, as on Linux. */
    c = socket(AF_INET, SOCK_STREAM, 0);
    ep = epoll_create1(0);
    ep_add(ep, c, EPOLLIN | EPOLLOUT, TAG(42));
    n = wait1(ep, 0, &e);
    CHECK(n == 1 && e.events == (EPOLLOUT | EPOLLHUP),
          "fresh socket: EPOLLOUT|EPOLLHUP (events=%#x)", n == 1 ? e.events : 0);
    close(ep);
    close(c);

    /* A listener, edge-triggered: one event per new connection. */
    int l = tu_listen(S.listen_port, 16, 1);
    ep = epoll_create1(0);
    ep_add(ep, l, EPOLLIN | EPOLLET, TAG(43));
    CHECK(wait1(ep, QUIET_MS, NULL) == 0, "listener ET: nothing before a connection");
    char id[16];
    sem_peer(id, sizeof(id), "connect %u", S.listen_port);
    n = wait1(ep, EV_MS, &e);
    CHECK(n == 1 && e.events == EPOLLIN && e.data.u64 == TAG(43),
          "listener ET: a connection: one EPOLLIN (n=%d)", n);
    CHECK(wait1(ep, QUIET_MS, NULL) == 0, "listener ET: not repeated while not accepted");
    sem_peer(id, sizeof(id), "connect %u", S.listen_port);
    n = wait1(ep, EV_MS, &e);
    CHECK(n == 1, "listener ET: the next connection: one more (n=%d)", n);
    int a1 = accept(l, NULL, NULL), a2 = accept(l, NULL, NULL);
    errno = 0;
    int a3 = accept(l, NULL, NULL);
    CHECK(a1 >= 0 && a2 >= 0 && a3 < 0 && errno == EAGAIN,
          "listener ET: two connections to accept, then EAGAIN");
    CHECK(wait1(ep, QUIET_MS, NULL) == 0, "listener ET: accepting wakes nobody");
    close(a1);
    close(a2);
    close(ep);
    close(l);
}

/* ------------------------------------------------------------ threads on one set */

static void *wait_thread_short(void *arg)
{
    struct waiter *w = arg;
    struct epoll_event e;
    w->n = wait1(w->ep, 1500, &e);
    __atomic_store_n(&w->woke, tu_now_ms(), __ATOMIC_RELEASE);
    return NULL;
}

static void threads_on_one_set(void)
{
    char id[16];
    int c = sem_connect(id), ep = epoll_create1(0), p[2];
    CHECK(pipe(p) == 0, "threads: a pipe");
    /* EPOLLONESHOT: two threads wait on one instance, one event: one of
     * them gets it, the other runs to its timeout. */
    ep_add(ep, c, EPOLLIN | EPOLLONESHOT, TAG(50));
    struct waiter w[2] = {{.ep = ep}, {.ep = ep}};
    for (int i = 0; i < 2; i++)
        pthread_create(&w[i].thr, NULL, wait_thread_short, &w[i]);
    sem_sleep_ms(300);
    sem_peer(NULL, 0, "send %s 1", id);
    for (int i = 0; i < 2; i++)
        pthread_join(w[i].thr, NULL);
    CHECK(w[0].n + w[1].n == 1 && w[0].n >= 0 && w[1].n >= 0,
          "threads: ONESHOT event goes to exactly one of two waiting threads (%d, %d)",
          w[0].n, w[1].n);
    char one;
    CHECK(sem_read_n(c, &one, 1, EV_MS) == 1, "threads: read that byte");
    close(ep);

    /* EPOLLET: likewise, one arrival wakes one of the threads waiting on
     * the instance (the kernel's waiters on an epoll are exclusive). */
    ep = epoll_create1(0);
    ep_add(ep, c, EPOLLIN | EPOLLET, TAG(54));
    memset(w, 0, sizeof(w));
    for (int i = 0; i < 2; i++) {
        w[i].ep = ep;
        pthread_create(&w[i].thr, NULL, wait_thread_short, &w[i]);
    }
    sem_sleep_ms(300);
    sem_peer(NULL, 0, "send %s 1", id);
    for (int i = 0; i < 2; i++)
        pthread_join(w[i].thr, NULL);
    CHECK(w[0].n + w[1].n == 1 && w[0].n >= 0 && w[1].n >= 0,
          "threads: an ET arrival goes to exactly one of two waiting threads (%d, %d)",
          w[0].n, w[1].n);
    CHECK(sem_read_n(c, &one, 1, EV_MS) == 1, "threads: read that byte too");
    close(ep);

    /* epoll_ctl from another thread: adding a ready socket wakes a waiter,
     * whether the set had only kernel descriptors or already a TCP socket. */
    for (int round = 0; round < 2; round++) {
        char id2[16];
        int c2 = sem_connect(id2);
        sem_peer(NULL, 0, "send %s 1", id2);
        char b;
        struct pollfd pf = {.fd = c2, .events = POLLIN};
        poll(&pf, 1, EV_MS); /* the byte is there */
        ep = epoll_create1(0);
        ep_add(ep, p[0], EPOLLIN, TAG(51));
        if (round == 1)
            ep_add(ep, c, EPOLLIN | EPOLLET, TAG(52)); /* a quiet TCP socket */
        struct waiter wt = {.ep = ep};
        pthread_create(&wt.thr, NULL, wait_thread_long, &wt);
        sem_sleep_ms(300);
        int64_t t0 = tu_now_ms();
        ep_add(ep, c2, EPOLLIN, TAG(53));
        pthread_join(wt.thr, NULL);
        CHECK(wt.n == 1 && (uint64_t)wt.woke == TAG(53) && sem_since(t0) < 1000,
              "threads: ADD of a ready socket from another thread wakes the waiter (%s "
              "set, "
              "n=%d, %lld ms)",
              round == 0 ? "kernel-only" : "TCP", wt.n, (long long)sem_since(t0));
        (void)!read(c2, &b, 1);
        close(ep);
        close(c2);
    }
    close(p[0]);
    close(p[1]);
    close(c);
}

/* ------------------------------------------------------------ nested */

/* An epoll instance inside another: the outer one reports the inner one
 * readable exactly while the inner one has something to report. */
static void nested(void)
{
    char id[16], buf[8];
    int c = sem_connect(id), inner = epoll_create1(0), outer = epoll_create1(0);
    struct epoll_event e;
    CHECK(ep_add(inner, c, EPOLLIN, TAG(60)) == 0, "nested: TCP socket in the inner set");
    CHECK(ep_add(outer, inner, EPOLLIN, TAG(61)) == 0,
          "nested: inner set in the outer one");
    CHECK(wait1(outer, QUIET_MS, NULL) == 0, "nested: nothing ready");
    sem_peer(NULL, 0, "send %s 3", id);
    int n = wait1(outer, EV_MS, &e);
    CHECK(n == 1 && e.data.u64 == TAG(61) && e.events == EPOLLIN,
          "nested: data on the socket wakes the outer set (n=%d)", n);
    n = wait1(inner, 0, &e);
    CHECK(n == 1 && e.data.u64 == TAG(60), "nested: the inner set reports the socket");
    CHECK(wait1(outer, 0, NULL) == 1, "nested: still readable while the data is unread");
    CHECK(sem_read_n(c, buf, 3, EV_MS) == 3, "nested: read it");
    CHECK(wait1(outer, QUIET_MS, NULL) == 0,
          "nested: the outer set is quiet once it is read");
    sem_peer(NULL, 0, "sendin %s 3 200", id);
    n = wait1(outer, EV_MS, &e);
    CHECK(n == 1 && e.data.u64 == TAG(61),
          "nested: data that arrives while the outer set waits wakes it (n=%d)", n);
    CHECK(sem_read_n(c, buf, 3, EV_MS) == 3, "nested: read that too");
    close(outer);
    close(inner);
    close(c);
}

int main(int argc, char **argv)
{
    sem_init("sem_epoll", argc, argv);
    signal(SIGPIPE, SIG_IGN);
    level_triggered();
    edge_triggered();
    oneshot();
    rdhup();
    reset();
    exclusive();
    ctl_errors();
    mixed();
    signal_masks();
    closed_in_use();
    connect_and_listen();
    threads_on_one_set();
    nested();
    return sem_finish();
}
