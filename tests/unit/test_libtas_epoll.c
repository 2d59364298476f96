/* test_libtas_epoll.c - epoll and poll semantics of libtas against the fake
 * tasd (test_libtas_fake.c), without a network: when edge-triggered items
 * report (new arrivals and room to write again, not reads), EPOLLEXCLUSIVE,
 * epoll_ctl's order of errors, an epoll descriptor closed while a thread
 * waits on it, poll() on a listener through a tasd restart, and a signal
 * (any number) whose handler lacks SA_RESTART interrupting a blocked read.
 *
 * Each test runs in its own process (Criterion forks) with its own fake
 * tasd; connections to FAKE_IP loop back through the fake, so both ends are
 * in the test.  t_epoll.sh checks the same behaviour against Linux.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "libtas/libtas.h"
#include "test_libtas_fake.h"

static char run_dir[FAKE_DIR_LEN];

static void setup(void)
{
    cr_assert_eq(fake_start_in(run_dir, "ep", NULL), 0);
}

static void teardown(void)
{
    fake_dir_remove(run_dir);
}

static struct sockaddr_in addr_of(uint32_t ip, uint16_t port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = ip;
    return a;
}

static int listener(uint16_t port)
{
    int l = tas_socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = addr_of(INADDR_ANY, port);
    cr_assert_eq(tas_bind(l, (struct sockaddr *)&a, sizeof(a)), 0);
    cr_assert_eq(tas_listen(l, 16), 0, "listen: %s", strerror(errno));
    return l;
}

static int client(uint16_t port)
{
    int c = tas_socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = addr_of(FAKE_IP, port);
    cr_assert_eq(tas_connect(c, (struct sockaddr *)&a, sizeof(a)), 0, "connect: %s",
                 strerror(errno));
    return c;
}

static void pair(uint16_t port, int *l, int *c, int *s)
{
    *l = listener(port);
    *c = client(port);
    *s = tas_accept4(*l, NULL, NULL, 0);
    cr_assert_geq(*s, 0, "accept: %s", strerror(errno));
}

static int add(int ep, int fd, uint32_t events, uint64_t u64)
{
    struct epoll_event e = {.events = events, .data.u64 = u64};
    return tas_epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
}

static int wait1(int ep, int ms, struct epoll_event *out)
{
    struct epoll_event ev[4];
    int n = tas_epoll_wait(ep, ev, 4, ms);
    if (n > 0 && out != NULL)
        *out = ev[0];
    return n;
}

TestSuite(epoll, .init = setup, .fini = teardown, .timeout = 30);

Test(epoll, edge_triggered_reports_new_data_once_and_reads_do_not_rearm)
{
    int l, c, s;
    pair(7101, &l, &c, &s);
    int ep = tas_epoll_create1(0);
    cr_assert_eq(add(ep, s, EPOLLIN | EPOLLET, 9), 0);
    cr_assert_eq(tas_write(c, "0123456789", 10), 10);
    struct epoll_event e;
    cr_assert_eq(wait1(ep, 2000, &e), 1);
    cr_assert_eq(e.events, EPOLLIN);
    cr_assert_eq(e.data.u64, 9);
    cr_assert_eq(wait1(ep, 100, NULL), 0, "repeated while unread");
    char b[16];
    cr_assert_eq(tas_read(s, b, 3), 3);
    cr_assert_eq(wait1(ep, 100, NULL), 0, "a read re-armed it");
    cr_assert_eq(tas_write(c, "x", 1), 1);
    cr_assert_eq(wait1(ep, 2000, &e), 1, "new data did not re-arm it");
    cr_assert_eq(wait1(ep, 100, NULL), 0);
    cr_assert_eq(tas_read(s, b, sizeof(b)), 8);
}

Test(epoll, edge_triggered_epollout_comes_back_only_after_running_out_of_room)
{
    int l, c, s;
    pair(7102, &l, &c, &s);
    int ep = tas_epoll_create1(0);
    cr_assert_eq(add(ep, c, EPOLLOUT | EPOLLET, 1), 0);
    struct epoll_event e;
    cr_assert_eq(wait1(ep, 2000, &e), 1);
    cr_assert_eq(e.events, EPOLLOUT);
    /* A small write, delivered and acknowledged: still writable, no event. */
    cr_assert_eq(tas_write(c, "hello", 5), 5);
    char b[4096];
    struct pollfd p = {.fd = s, .events = POLLIN};
    cr_assert_eq(tas_poll(&p, 1, 2000), 1);
    cr_assert_eq(tas_read(s, b, sizeof(b)), 5);
    cr_assert_eq(wait1(ep, 200, NULL), 0,
                 "EPOLLOUT while it never stopped being writable");
    /* Fill both rings until the writer stays full. */
    int fl = tas_fcntl(c, F_GETFL);
    tas_fcntl(c, F_SETFL, fl | O_NONBLOCK);
    size_t sent = 0;
    bool quiet = false;
    for (int round = 0; round < 100 && !quiet; round++) {
        for (int i = 0; i < 1000; i++) {
            ssize_t w = tas_write(c, b, sizeof(b));
            if (w < 0) {
                cr_assert_eq(errno, EAGAIN);
                break;
            }
            sent += (size_t)w;
        }
        quiet = wait1(ep, 100, NULL) == 0;
    }
    cr_assert(quiet, "never stayed full");
    /* The reader drains everything: room comes back, one EPOLLOUT. */
    size_t got = 0;
    for (int i = 0; i < 10000 && got < sent; i++) {
        cr_assert_eq(tas_poll(&p, 1, 2000), 1);
        ssize_t r = tas_read(s, b, sizeof(b));
        cr_assert_gt(r, 0);
        got += (size_t)r;
    }
    cr_assert_eq(got, sent);
    cr_assert_eq(wait1(ep, 2000, &e), 1, "no EPOLLOUT after room came back");
    cr_assert(e.events & EPOLLOUT);
}

struct waiter {
    int ep, n;
    int done;
};

static void *waiter_run(void *arg)
{
    struct waiter *w = arg;
    w->n = wait1(w->ep, 3000, NULL);
    __atomic_store_n(&w->done, 1, __ATOMIC_RELEASE);
    return NULL;
}

static int n_done(struct waiter *w)
{
    return __atomic_load_n(&w[0].done, __ATOMIC_ACQUIRE) +
           __atomic_load_n(&w[1].done, __ATOMIC_ACQUIRE);
}

Test(epoll, exclusive_wakes_one_of_two_waiting_instances_per_connection)
{
    int l = listener(7103);
    struct waiter w[2] = {{0}};
    pthread_t t[2];
    for (int i = 0; i < 2; i++) {
        w[i].ep = tas_epoll_create1(0);
        cr_assert_eq(add(w[i].ep, l, EPOLLIN | EPOLLEXCLUSIVE, (uint64_t)i), 0);
        pthread_create(&t[i], NULL, waiter_run, &w[i]);
    }
    usleep(200000);
    int c1 = client(7103);
    for (int i = 0; i < 200 && n_done(w) == 0; i++)
        usleep(10000);
    usleep(300000);
    cr_assert_eq(n_done(w), 1, "one connection woke %d waiters", n_done(w));
    int c2 = client(7103);
    for (int i = 0; i < 200 && n_done(w) < 2; i++)
        usleep(10000);
    cr_assert_eq(n_done(w), 2, "the second connection did not wake the other");
    for (int i = 0; i < 2; i++) {
        pthread_join(t[i], NULL);
        cr_assert_eq(w[i].n, 1);
    }
    tas_close(c1);
    tas_close(c2);
}

Test(epoll, ctl_checks_arguments_in_the_kernels_order)
{
    int l, c, s;
    pair(7104, &l, &c, &s);
    int ep = tas_epoll_create1(0);
    struct epoll_event e = {.events = EPOLLIN | EPOLLEXCLUSIVE};
    cr_assert_eq(tas_epoll_ctl(ep, EPOLL_CTL_MOD, s, NULL), -1);
    cr_assert_eq(errno, EFAULT, "MOD without event: EFAULT before ENOENT");
    cr_assert_eq(tas_epoll_ctl(ep, EPOLL_CTL_MOD, s, &e), -1);
    cr_assert_eq(errno, EINVAL, "MOD with EPOLLEXCLUSIVE: EINVAL before ENOENT");
    cr_assert_eq(tas_epoll_ctl(ep, EPOLL_CTL_DEL, s, NULL), -1);
    cr_assert_eq(errno, ENOENT);
    e.events = EPOLLIN | EPOLLEXCLUSIVE | EPOLLONESHOT;
    cr_assert_eq(tas_epoll_ctl(ep, EPOLL_CTL_ADD, s, &e), -1);
    cr_assert_eq(errno, EINVAL);
    e.events = EPOLLIN | EPOLLOUT | EPOLLET | EPOLLEXCLUSIVE;
    cr_assert_eq(tas_epoll_ctl(ep, EPOLL_CTL_ADD, s, &e), 0);
    e.events = EPOLLIN;
    cr_assert_eq(tas_epoll_ctl(ep, EPOLL_CTL_MOD, s, &e), -1);
    cr_assert_eq(errno, EINVAL, "MOD of an exclusive registration");
    cr_assert_eq(tas_epoll_ctl(ep, 77, s, &e), -1);
    cr_assert_eq(errno, EINVAL);
    cr_assert_eq(tas_epoll_ctl(ep, EPOLL_CTL_DEL, s, NULL), 0);
}

static void *wait_long(void *arg)
{
    struct waiter *w = arg;
    struct epoll_event e = {0};
    w->n = wait1(w->ep, 5000, &e);
    w->done = (int)e.data.u64;
    return NULL;
}

Test(epoll, closing_the_descriptor_does_not_end_another_threads_wait)
{
    int l, c, s;
    pair(7105, &l, &c, &s);
    struct waiter w = {.ep = tas_epoll_create1(0)};
    int kp[2];
    cr_assert_eq(pipe(kp), 0);
    add(w.ep, s, EPOLLIN, 42);
    pthread_t t;
    pthread_create(&t, NULL, wait_long, &w);
    usleep(100000);
    cr_assert_eq(tas_close(w.ep), 0);
    /* The number is free again: a new descriptor may take it. */
    int again = dup(kp[0]);
    cr_assert_geq(again, 0);
    usleep(100000);
    tas_write(c, "z", 1);
    pthread_join(t, NULL);
    cr_assert_eq(w.n, 1, "the waiter got %d", w.n);
    cr_assert_eq(w.done, 42);
    close(again);
}

struct poller {
    int fd, n;
    short revents;
};

static void *poll_run(void *arg)
{
    struct poller *p = arg;
    struct pollfd pf = {.fd = p->fd, .events = POLLIN};
    p->n = tas_poll(&pf, 1, 4000);
    p->revents = pf.revents;
    return NULL;
}

Test(epoll, a_listener_waits_quietly_through_a_tasd_restart)
{
    int l = listener(7106);
    int c1, s1;
    c1 = client(7106);
    s1 = tas_accept4(l, NULL, NULL, 0);
    cr_assert_geq(s1, 0);
    struct poller p = {.fd = l, .n = -2};
    pthread_t t;
    pthread_create(&t, NULL, poll_run, &p);
    usleep(50000);
    fake_stop(); /* tasd exits: its connections fail, the listener waits */
    usleep(500000);
    cr_assert_eq(__atomic_load_n(&p.n, __ATOMIC_ACQUIRE), -2,
                 "poll() returned %d (revents %#x) on a listener whose tasd left", p.n,
                 p.revents);
    char b[4];
    cr_assert_eq(tas_read(s1, b, sizeof(b)), -1);
    cr_assert_eq(errno, ECONNRESET);
    int fl = tas_fcntl(l, F_GETFL);
    tas_fcntl(l, F_SETFL, fl | O_NONBLOCK);
    cr_assert_eq(tas_accept4(l, NULL, NULL, 0), -1);
    cr_assert_eq(errno, EAGAIN, "accept: %s (not EAGAIN: a program would spin)",
                 strerror(errno));
    tas_fcntl(l, F_SETFL, fl);

    cr_assert_eq(fake_start(run_dir, NULL), 0); /* tasd is back */
    usleep(600000);        /* the sleeping poll() looks for it every 200 ms */
    int c2 = client(7106); /* a new connection, through the new tasd */
    pthread_join(t, NULL);
    cr_assert_eq(p.n, 1, "poll returned %d (revents %#x)", p.n, p.revents);
    cr_assert(p.revents & POLLIN);
    int s2 = tas_accept4(l, NULL, NULL, 0);
    cr_assert_geq(s2, 0, "accept after the restart: %s", strerror(errno));
    cr_assert_eq(tas_write(c2, "back", 4), 4);
    cr_assert_eq(tas_read(s2, b, sizeof(b)), 4);
    cr_assert_eq(memcmp(b, "back", 4), 0);
    cr_assert_eq(fake_bad_entries(), 0,
                 "the library told the new tasd about the old one");
    tas_close(c1);
    tas_close(s1);
}

static void on_sig(int sig)
{
    (void)sig;
}

struct reader {
    int fd;
    ssize_t r;
    int err;
};

static void *read_run(void *arg)
{
    struct reader *rd = arg;
    char b[4];
    errno = 0;
    rd->r = tas_read(rd->fd, b, sizeof(b));
    rd->err = errno;
    return NULL;
}

Test(epoll, a_handler_without_sa_restart_interrupts_a_blocking_read_for_any_signal)
{
    int l, c, s;
    pair(7107, &l, &c, &s);
    struct sigaction sa = {.sa_handler = on_sig}; /* no SA_RESTART */
    cr_assert_eq(sigaction(SIGRTMAX, &sa, NULL), 0);
    struct reader rd = {.fd = s};
    pthread_t t;
    pthread_create(&t, NULL, read_run, &rd);
    usleep(100000);
    pthread_kill(t, SIGRTMAX);
    usleep(500000);
    tas_write(c, "late", 4); /* ends the read if the signal did not */
    pthread_join(t, NULL);
    cr_assert_eq(rd.r, -1, "read returned %zd: the signal restarted it", rd.r);
    cr_assert_eq(rd.err, EINTR);
}
