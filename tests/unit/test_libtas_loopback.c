/* test_libtas_loopback.c - libtas end to end against a fake tasd.
 *
 * Each test runs in its own process (Criterion forks), starts the fake tasd
 * of test_libtas_fake.c in a thread on a private run directory, and uses the
 * tas_* API like an application would: connections to FAKE_IP loop back
 * through the fake, so both ends are in the test.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "libtas/libtas.h"
#include "test_libtas_fake.h"

static char run_dir[FAKE_DIR_LEN];

static void start(const struct fake_opts *o)
{
    cr_assert_eq(fake_start_in(run_dir, "test", o), 0);
}

static void setup(void)
{
    start(NULL);
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
    cr_assert_geq(l, 0);
    cr_assert(tas_is_tas_socket(l));
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

/* A connected pair: *c is the client end, *s the accepted end. */
static void pair(uint16_t port, int *l, int *c, int *s)
{
    *l = listener(port);
    *c = client(port);
    *s = tas_accept4(*l, NULL, NULL, 0);
    cr_assert_geq(*s, 0, "accept: %s", strerror(errno));
}

static uint8_t pattern(size_t i)
{
    return (uint8_t)(i * 7 + (i >> 8));
}

struct xfer {
    int fd;
    size_t n;
    size_t chunk;
};

static void *writer(void *arg)
{
    struct xfer *x = arg;
    uint8_t buf[7777];
    size_t done = 0;
    while (done < x->n) {
        size_t k = x->n - done < x->chunk ? x->n - done : x->chunk;
        if (k > sizeof(buf))
            k = sizeof(buf);
        for (size_t i = 0; i < k; i++)
            buf[i] = pattern(done + i);
        ssize_t r = tas_write(x->fd, buf, k);
        if (r <= 0)
            return (void *)-1;
        done += (size_t)r;
    }
    tas_shutdown(x->fd, SHUT_WR);
    return NULL;
}

/* Read to EOF, checking the pattern; returns the byte count. */
static size_t read_all(int fd)
{
    uint8_t buf[5000];
    size_t total = 0;
    for (;;) {
        ssize_t r = tas_read(fd, buf, sizeof(buf));
        cr_assert_geq(r, 0, "read: %s", strerror(errno));
        if (r == 0)
            return total;
        for (ssize_t i = 0; i < r; i++)
            cr_assert_eq(buf[i], pattern(total + (size_t)i), "byte %zu",
                         total + (size_t)i);
        total += (size_t)r;
    }
}

TestSuite(libtas, .init = setup, .fini = teardown, .timeout = 20);

Test(libtas, registers_and_tcp_sockets_run_over_tasd)
{
    cr_assert_eq(tas_init(), 0);
    int s = tas_socket(AF_INET, SOCK_STREAM, 0);
    cr_assert(tas_is_tas_socket(s));
    int u = tas_socket(AF_INET, SOCK_DGRAM, 0);
    cr_assert(!tas_is_tas_socket(u));
    cr_assert_eq(tas_close(s), 0);
    cr_assert_eq(tas_close(u), 0);
}

Test(libtas, a_megabyte_crosses_the_rings_intact_in_both_directions)
{
    int l, c, s;
    pair(7001, &l, &c, &s);
    pthread_t t1, t2;
    struct xfer x1 = {c, 1 << 20, 3000}, x2 = {s, 777777, 100000};
    pthread_create(&t1, NULL, writer, &x1);
    pthread_create(&t2, NULL, writer, &x2);
    cr_assert_eq(read_all(s), x1.n);
    cr_assert_eq(read_all(c), x2.n);
    void *r1, *r2;
    pthread_join(t1, &r1);
    pthread_join(t2, &r2);
    cr_assert_null(r1);
    cr_assert_null(r2);
    tas_close(c);
    tas_close(s);
    tas_close(l);
}

Test(libtas, accepted_socket_has_the_right_names)
{
    int l, c, s;
    pair(7002, &l, &c, &s);
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    cr_assert_eq(tas_getsockname(l, (struct sockaddr *)&a, &len), 0);
    cr_assert_eq(ntohs(a.sin_port), 7002);
    len = sizeof(a);
    cr_assert_eq(tas_getpeername(s, (struct sockaddr *)&a, &len), 0);
    cr_assert_eq(a.sin_addr.s_addr, FAKE_IP);
    uint16_t cport = ntohs(a.sin_port);
    len = sizeof(a);
    cr_assert_eq(tas_getsockname(c, (struct sockaddr *)&a, &len), 0);
    cr_assert_eq(ntohs(a.sin_port), cport);
    len = sizeof(a);
    cr_assert_eq(tas_getpeername(l, (struct sockaddr *)&a, &len), -1);
    cr_assert_eq(errno, ENOTCONN);
}

Test(libtas, listening_twice_on_a_port_fails_with_eaddrinuse)
{
    listener(7003);
    int l2 = tas_socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = addr_of(INADDR_ANY, 7003);
    cr_assert_eq(tas_bind(l2, (struct sockaddr *)&a, sizeof(a)), 0);
    cr_assert_eq(tas_listen(l2, 1), -1);
    cr_assert_eq(errno, EADDRINUSE);
}

Test(libtas, listen_without_bind_picks_a_port)
{
    int l = tas_socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_eq(tas_listen(l, 1), 0);
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    tas_getsockname(l, (struct sockaddr *)&a, &len);
    cr_assert_neq(a.sin_port, 0);
    int c = client(ntohs(a.sin_port));
    cr_assert_geq(tas_accept(l, NULL, NULL), 0);
    tas_close(c);
}

Test(libtas, connect_to_a_port_nobody_listens_on_is_refused)
{
    int c = tas_socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = addr_of(FAKE_IP, 7999);
    cr_assert_eq(tas_connect(c, (struct sockaddr *)&a, sizeof(a)), -1);
    cr_assert_eq(errno, ECONNREFUSED);
}

Test(libtas, nonblocking_connect_completes_like_linux)
{
    int l = listener(7004);
    int c = tas_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in a = addr_of(FAKE_IP, 7004);
    cr_assert_eq(tas_connect(c, (struct sockaddr *)&a, sizeof(a)), -1);
    cr_assert_eq(errno, EINPROGRESS);
    struct pollfd p = {.fd = c, .events = POLLOUT};
    cr_assert_eq(tas_poll(&p, 1, 5000), 1);
    cr_assert(p.revents & POLLOUT);
    int err = -1;
    socklen_t len = sizeof(err);
    cr_assert_eq(tas_getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &len), 0);
    cr_assert_eq(err, 0);
    cr_assert_eq(tas_connect(c, (struct sockaddr *)&a, sizeof(a)), -1);
    cr_assert_eq(errno, EISCONN);
    tas_close(l);
}

Test(libtas, nonblocking_connect_refused_shows_in_so_error)
{
    int c = tas_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in a = addr_of(FAKE_REFUSE_IP, 80);
    cr_assert_eq(tas_connect(c, (struct sockaddr *)&a, sizeof(a)), -1);
    cr_assert_eq(errno, EINPROGRESS);
    struct pollfd p = {.fd = c, .events = POLLOUT};
    cr_assert_eq(tas_poll(&p, 1, 5000), 1);
    cr_assert(p.revents & POLLERR);
    int err = 0;
    socklen_t len = sizeof(err);
    tas_getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &len);
    cr_assert_eq(err, ECONNREFUSED);
}

Test(libtas, blocking_connect_gives_up_after_so_sndtimeo)
{
    int c = tas_socket(AF_INET, SOCK_STREAM, 0);
    struct timeval tv = {0, 100000};
    cr_assert_eq(tas_setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)), 0);
    struct sockaddr_in a = addr_of(FAKE_BLACKHOLE_IP, 80);
    cr_assert_eq(tas_connect(c, (struct sockaddr *)&a, sizeof(a)), -1);
    cr_assert_eq(errno, EINPROGRESS);
}

Test(libtas, empty_nonblocking_read_says_eagain_and_peek_keeps_data)
{
    int l, c, s;
    pair(7005, &l, &c, &s);
    char b[16];
    cr_assert_eq(tas_recv(s, b, sizeof(b), MSG_DONTWAIT), -1);
    cr_assert_eq(errno, EAGAIN);
    cr_assert_eq(tas_write(c, "hello", 5), 5);
    cr_assert_eq(tas_recv(s, b, 2, MSG_PEEK), 2);
    cr_assert_eq(memcmp(b, "he", 2), 0);
    int n = 0;
    cr_assert_eq(tas_ioctl(s, FIONREAD, &n), 0);
    cr_assert_eq(n, 5);
    cr_assert_eq(tas_recv(s, b, sizeof(b), MSG_WAITALL | MSG_DONTWAIT), 5);
    cr_assert_eq(memcmp(b, "hello", 5), 0);
}

Test(libtas, waitall_waits_for_everything)
{
    int l, c, s;
    pair(7006, &l, &c, &s);
    pthread_t t;
    struct xfer x = {c, 30000, 1000};
    pthread_create(&t, NULL, writer, &x);
    static uint8_t b[30000];
    cr_assert_eq(tas_recv(s, b, sizeof(b), MSG_WAITALL), 30000);
    for (size_t i = 0; i < sizeof(b); i++)
        cr_assert_eq(b[i], pattern(i));
    pthread_join(t, NULL);
}

Test(libtas, nonblocking_writes_stop_when_the_rings_are_full)
{
    int l, c, s;
    pair(7007, &l, &c, &s);
    int fl = tas_fcntl(c, F_GETFL);
    cr_assert_eq(tas_fcntl(c, F_SETFL, fl | O_NONBLOCK), 0);
    cr_assert(tas_fcntl(c, F_GETFL) & O_NONBLOCK);
    static char buf[100000];
    size_t total = 0;
    for (int i = 0; i < 1000; i++) {
        ssize_t r = tas_write(c, buf, sizeof(buf));
        if (r < 0) {
            cr_assert_eq(errno, EAGAIN);
            struct pollfd p = {.fd = c, .events = POLLOUT};
            if (tas_poll(&p, 1, 50) == 0)
                break;
            continue;
        }
        total += (size_t)r;
    }
    /* tx ring (12000) + the peer's rx ring (10000) */
    cr_assert_eq(total, 22000);
    struct pollfd p = {.fd = s, .events = POLLIN};
    cr_assert_eq(tas_poll(&p, 1, 0), 1);
    cr_assert_eq(tas_read(s, buf, sizeof(buf)), 10000);
    p = (struct pollfd){.fd = c, .events = POLLOUT};
    cr_assert_eq(tas_poll(&p, 1, 5000), 1);
}

Test(libtas, close_sends_fin_after_the_data)
{
    int l, c, s;
    pair(7008, &l, &c, &s);
    cr_assert_eq(tas_write(c, "bye", 3), 3);
    cr_assert_eq(tas_close(c), 0);
    char b[8];
    cr_assert_eq(tas_read(s, b, sizeof(b)), 3);
    cr_assert_eq(tas_read(s, b, sizeof(b)), 0);
    struct pollfd p = {.fd = s, .events = POLLIN | POLLRDHUP};
    cr_assert_eq(tas_poll(&p, 1, 0), 1);
    cr_assert(p.revents & POLLRDHUP);
}

Test(libtas, reset_gives_data_then_econnreset_then_eof_and_epipe)
{
    int l, c, s;
    pair(7009, &l, &c, &s);
    cr_assert_eq(tas_write(c, "data", 4), 4);
    struct pollfd p = {.fd = s, .events = POLLIN};
    cr_assert_eq(tas_poll(&p, 1, 5000), 1);
    fake_reset_all(ECONNRESET);
    p.events = POLLIN | POLLRDHUP;
    for (int i = 0; i < 500 && !(p.revents & POLLERR); i++) {
        usleep(5000);
        tas_poll(&p, 1, 10);
    }
    cr_assert(p.revents & POLLERR);
    char b[8];
    cr_assert_eq(tas_read(s, b, sizeof(b)), 4);
    cr_assert_eq(tas_read(s, b, sizeof(b)), -1);
    cr_assert_eq(errno, ECONNRESET);
    cr_assert_eq(tas_read(s, b, sizeof(b)), 0);
    cr_assert_eq(tas_send(s, b, 1, MSG_NOSIGNAL), -1);
    cr_assert_eq(errno, EPIPE);
}

static volatile sig_atomic_t pipes;
static void on_pipe(int sig)
{
    (void)sig;
    pipes++;
}

Test(libtas, write_after_shutdown_is_epipe_with_sigpipe_unless_nosignal)
{
    int l, c, s;
    pair(7010, &l, &c, &s);
    signal(SIGPIPE, on_pipe);
    cr_assert_eq(tas_shutdown(c, SHUT_WR), 0);
    cr_assert_eq(tas_write(c, "x", 1), -1);
    cr_assert_eq(errno, EPIPE);
    cr_assert_eq(pipes, 1);
    cr_assert_eq(tas_send(c, "x", 1, MSG_NOSIGNAL), -1);
    cr_assert_eq(errno, EPIPE);
    cr_assert_eq(pipes, 1);
    char b[4];
    cr_assert_eq(tas_read(s, b, sizeof(b)), 0);
}

Test(libtas, unconnected_sockets_fail_like_linux)
{
    int u = tas_socket(AF_INET, SOCK_STREAM, 0);
    char b[4];
    cr_assert_eq(tas_read(u, b, sizeof(b)), -1);
    cr_assert_eq(errno, ENOTCONN);
    cr_assert_eq(tas_send(u, b, 1, MSG_NOSIGNAL), -1);
    cr_assert_eq(errno, EPIPE);
    cr_assert_eq(tas_shutdown(u, SHUT_WR), -1);
    cr_assert_eq(errno, ENOTCONN);
    struct pollfd p = {.fd = u, .events = POLLIN | POLLOUT};
    cr_assert_eq(tas_poll(&p, 1, 0), 1);
    cr_assert_eq(p.revents, POLLOUT | POLLHUP);
}

Test(libtas, accept_on_an_empty_nonblocking_listener_says_eagain)
{
    int l = listener(7011);
    cr_assert_eq(tas_fcntl(l, F_SETFL, O_NONBLOCK), 0);
    cr_assert_eq(tas_accept(l, NULL, NULL), -1);
    cr_assert_eq(errno, EAGAIN);
    int on = 0;
    cr_assert_eq(tas_ioctl(l, FIONBIO, &on), 0);
    int c = client(7011);
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    int s = tas_accept4(l, (struct sockaddr *)&a, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    cr_assert_geq(s, 0);
    cr_assert_eq(len, sizeof(a));
    cr_assert(tas_fcntl(s, F_GETFL) & O_NONBLOCK);
    cr_assert(tas_fcntl(s, F_GETFD) & FD_CLOEXEC);
    tas_close(c);
}

Test(libtas, poll_mixes_pipes_and_tasd_sockets)
{
    int l, c, s;
    pair(7012, &l, &c, &s);
    int pp[2];
    cr_assert_eq(pipe(pp), 0);
    struct pollfd p[2] = {{.fd = pp[0], .events = POLLIN}, {.fd = s, .events = POLLIN}};
    cr_assert_eq(tas_poll(p, 2, 20), 0);
    cr_assert_eq(tas_write(pp[1], "k", 1), 1);
    cr_assert_eq(tas_poll(p, 2, 1000), 1);
    cr_assert_eq(p[0].revents, POLLIN);
    cr_assert_eq(p[1].revents, 0);
    char b;
    tas_read(pp[0], &b, 1);
    tas_write(c, "t", 1);
    cr_assert_eq(tas_poll(p, 2, 1000), 1);
    cr_assert_eq(p[1].revents, POLLIN);
    fd_set rs;
    FD_ZERO(&rs);
    FD_SET(pp[0], &rs);
    FD_SET(s, &rs);
    struct timeval tv = {1, 0};
    cr_assert_eq(tas_select((pp[0] > s ? pp[0] : s) + 1, &rs, NULL, NULL, &tv), 1);
    cr_assert(FD_ISSET(s, &rs));
    cr_assert(!FD_ISSET(pp[0], &rs));
}

struct later {
    int fd;
    int delay_ms;
};

static void *write_later(void *arg)
{
    struct later *w = arg;
    usleep((useconds_t)w->delay_ms * 1000);
    tas_write(w->fd, "z", 1);
    return NULL;
}

Test(libtas, blocking_poll_wakes_when_data_arrives)
{
    int l, c, s;
    pair(7013, &l, &c, &s);
    pthread_t t;
    struct later w = {c, 100};
    pthread_create(&t, NULL, write_later, &w);
    struct pollfd p = {.fd = s, .events = POLLIN};
    cr_assert_eq(tas_poll(&p, 1, 5000), 1);
    pthread_join(t, NULL);
}

Test(libtas, epoll_level_triggered_repeats_edge_triggered_does_not)
{
    int l, c, s;
    pair(7014, &l, &c, &s);
    int ep = tas_epoll_create1(EPOLL_CLOEXEC);
    int pp[2];
    pipe(pp);
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 1};
    cr_assert_eq(tas_epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev), 0);
    cr_assert_eq(tas_epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev), -1);
    cr_assert_eq(errno, EEXIST);
    ev = (struct epoll_event){.events = EPOLLIN | EPOLLET, .data.u64 = 2};
    cr_assert_eq(tas_epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev), 0);
    ev = (struct epoll_event){.events = EPOLLIN, .data.u64 = 3};
    cr_assert_eq(tas_epoll_ctl(ep, EPOLL_CTL_ADD, pp[0], &ev), 0);
    struct epoll_event out[4];
    cr_assert_eq(tas_epoll_wait(ep, out, 4, 0), 0);

    tas_write(c, "a", 1);
    tas_write(s, "b", 1);
    tas_write(pp[1], "c", 1);
    int seen = 0;
    for (int i = 0; i < 500 && seen != 7; i++) {
        usleep(5000);
        int n = tas_epoll_wait(ep, out, 4, 100);
        for (int k = 0; k < n; k++)
            seen |= 1 << (out[k].data.u64 - 1);
    }
    cr_assert_eq(seen, 7);
    /* Level-triggered ones report again; the edge-triggered one does not. */
    seen = 0;
    int n = tas_epoll_wait(ep, out, 4, 50);
    for (int k = 0; k < n; k++)
        seen |= 1 << (out[k].data.u64 - 1);
    cr_assert_eq(seen, 1 | 4);
    /* New data on the edge-triggered socket reports it once more. */
    tas_write(s, "d", 1);
    seen = 0;
    for (int i = 0; i < 500 && !(seen & 2); i++) {
        usleep(5000);
        n = tas_epoll_wait(ep, out, 4, 100);
        for (int k = 0; k < n; k++)
            seen |= 1 << (out[k].data.u64 - 1);
    }
    cr_assert(seen & 2);
    cr_assert_eq(tas_epoll_ctl(ep, EPOLL_CTL_DEL, s, NULL), 0);
    cr_assert_eq(tas_epoll_ctl(ep, EPOLL_CTL_DEL, s, NULL), -1);
    cr_assert_eq(errno, ENOENT);
    cr_assert_eq(tas_close(ep), 0);
}

Test(libtas, epoll_oneshot_reports_once_until_rearmed)
{
    int l, c, s;
    pair(7015, &l, &c, &s);
    int ep = tas_epoll_create(1);
    struct epoll_event ev = {.events = EPOLLIN | EPOLLONESHOT, .data.fd = s};
    tas_epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev);
    tas_write(c, "a", 1);
    struct epoll_event out[2];
    cr_assert_eq(tas_epoll_wait(ep, out, 2, 2000), 1);
    cr_assert_eq(out[0].data.fd, s);
    cr_assert_eq(tas_epoll_wait(ep, out, 2, 50), 0);
    cr_assert_eq(tas_epoll_ctl(ep, EPOLL_CTL_MOD, s, &ev), 0);
    cr_assert_eq(tas_epoll_wait(ep, out, 2, 50), 1);
}

Test(libtas, blocking_epoll_wait_wakes_for_tasd_data)
{
    int l, c, s;
    pair(7016, &l, &c, &s);
    int ep = tas_epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = s};
    tas_epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev);
    pthread_t t;
    struct later w = {c, 100};
    pthread_create(&t, NULL, write_later, &w);
    struct epoll_event out[2];
    cr_assert_eq(tas_epoll_wait(ep, out, 2, 5000), 1);
    pthread_join(t, NULL);
}

struct acceptor {
    int l;
    int got;
};

static void *accept_one(void *arg)
{
    struct acceptor *a = arg;
    a->got = tas_accept(a->l, NULL, NULL);
    return NULL;
}

Test(libtas, blocking_accept_wakes_when_a_connection_arrives)
{
    struct acceptor a = {listener(7017), -1};
    pthread_t t;
    pthread_create(&t, NULL, accept_one, &a);
    usleep(50000);
    int c = client(7017);
    pthread_join(t, NULL);
    cr_assert_geq(a.got, 0);
    tas_close(c);
}

#define N_PAIRS 6

Test(libtas, many_threads_blocked_in_reads_all_get_their_data)
{
    int l = listener(7018), c[N_PAIRS], s[N_PAIRS];
    pthread_t w[N_PAIRS];
    struct xfer x[N_PAIRS];
    for (int i = 0; i < N_PAIRS; i++) {
        c[i] = client(7018);
        s[i] = tas_accept(l, NULL, NULL);
        x[i] = (struct xfer){c[i], 50000 + 1000 * (size_t)i, 999};
    }
    for (int i = 0; i < N_PAIRS; i++)
        pthread_create(&w[i], NULL, writer, &x[i]);
    for (int i = N_PAIRS - 1; i >= 0; i--)
        cr_assert_eq(read_all(s[i]), x[i].n);
    for (int i = 0; i < N_PAIRS; i++)
        pthread_join(w[i], NULL);
}

Test(libtas, receive_timeout_gives_eagain)
{
    int l, c, s;
    pair(7019, &l, &c, &s);
    struct timeval tv = {0, 50000};
    cr_assert_eq(tas_setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
    char b[4];
    cr_assert_eq(tas_read(s, b, sizeof(b)), -1);
    cr_assert_eq(errno, EAGAIN);
}

Test(libtas, options_report_ring_sizes_and_mss)
{
    int l, c, s;
    pair(7020, &l, &c, &s);
    int v = 0;
    socklen_t len = sizeof(v);
    cr_assert_eq(tas_getsockopt(s, SOL_SOCKET, SO_RCVBUF, &v, &len), 0);
    cr_assert_eq(v, 10000);
    cr_assert_eq(tas_getsockopt(s, SOL_SOCKET, SO_SNDBUF, &v, &len), 0);
    cr_assert_eq(v, 12000);
    cr_assert_eq(tas_getsockopt(s, IPPROTO_TCP, TCP_MAXSEG, &v, &len), 0);
    cr_assert_eq(v, 1460);
    v = 1;
    cr_assert_eq(tas_setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &v, sizeof(v)), 0);
    cr_assert_eq(tas_getsockopt(s, IPPROTO_TCP, TCP_NODELAY, &v, &len), 0);
    cr_assert_eq(v, 1);
    cr_assert_eq(tas_getsockopt(l, SOL_SOCKET, SO_ACCEPTCONN, &v, &len), 0);
    cr_assert_eq(v, 1);
    cr_assert_eq(tas_setsockopt(s, 12345, 1, &v, sizeof(v)), -1);
    cr_assert_eq(errno, ENOPROTOOPT);
    struct tcp_info ti;
    len = sizeof(ti);
    cr_assert_eq(tas_getsockopt(s, IPPROTO_TCP, TCP_INFO, &ti, &len), 0);
    cr_assert_eq(ti.tcpi_state, TCP_ESTABLISHED);
}

Test(libtas, zero_linger_close_resets_the_peer)
{
    int l, c, s;
    pair(7021, &l, &c, &s);
    struct linger lg = {1, 0};
    cr_assert_eq(tas_setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
    tas_close(c);
    char b[4];
    cr_assert_eq(tas_read(s, b, sizeof(b)), -1);
    cr_assert_eq(errno, ECONNRESET);
}

Test(libtas, loopback_addresses_use_the_kernel)
{
    int l = tas_socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = addr_of(htonl(INADDR_LOOPBACK), 0);
    cr_assert_eq(tas_bind(l, (struct sockaddr *)&a, sizeof(a)), 0);
    cr_assert(!tas_is_tas_socket(l));
    cr_assert_eq(tas_listen(l, 1), 0);
    socklen_t len = sizeof(a);
    tas_getsockname(l, (struct sockaddr *)&a, &len);
    int c = tas_socket(AF_INET, SOCK_STREAM, 0);
    cr_assert(tas_is_tas_socket(c));
    cr_assert_eq(tas_connect(c, (struct sockaddr *)&a, sizeof(a)), 0);
    cr_assert(!tas_is_tas_socket(c));
    int s = tas_accept(l, NULL, NULL);
    cr_assert_eq(tas_write(c, "k", 1), 1);
    char b;
    cr_assert_eq(tas_read(s, &b, 1), 1);
}

Test(libtas, binding_an_address_nobody_has_fails_and_keeps_the_socket)
{
    int l = tas_socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = addr_of(htonl(0x0a636363), 80);
    cr_assert_eq(tas_bind(l, (struct sockaddr *)&a, sizeof(a)), -1);
    cr_assert_eq(errno, EADDRNOTAVAIL);
    cr_assert(tas_is_tas_socket(l));
}

Test(libtas, closing_a_listener_resets_connections_not_accepted)
{
    int l = listener(7022);
    int c = client(7022);
    usleep(20000);
    tas_close(l);
    char b[4];
    cr_assert_eq(tas_read(c, b, sizeof(b)), -1);
    cr_assert_eq(errno, ECONNRESET);
}

Test(libtas, tasd_exit_fails_its_sockets_and_new_ones_use_the_kernel)
{
    int l, c, s;
    pair(7023, &l, &c, &s);
    cr_assert_eq(tas_write(c, "q", 1), 1);
    struct pollfd p = {.fd = s, .events = POLLIN};
    cr_assert_eq(tas_poll(&p, 1, 5000), 1);
    fake_stop();
    p.events = POLLOUT;
    p.revents = 0;
    for (int i = 0; i < 300 && !(p.revents & POLLHUP); i++) {
        usleep(5000);
        tas_poll(&p, 1, 20);
    }
    cr_assert(p.revents & POLLHUP);
    char b[4];
    cr_assert_eq(tas_read(s, b, sizeof(b)), 1);
    cr_assert_eq(tas_read(s, b, sizeof(b)), -1);
    cr_assert_eq(errno, ECONNRESET);
    cr_assert_eq(tas_read(s, b, sizeof(b)), -1);
    cr_assert_eq(errno, ECONNRESET);
    cr_assert_eq(tas_send(c, b, 1, MSG_NOSIGNAL), -1);
    cr_assert_eq(errno, EPIPE);
    int n = tas_socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_geq(n, 0);
    cr_assert(!tas_is_tas_socket(n));
}

static void small_queues(void)
{
    struct fake_opts o = {
        .q_ents = 4, .sleeping_fp = true, .rx_size = 3000, .tx_size = 2500};
    start(&o);
}

TestSuite(libtas_small, .init = small_queues, .fini = teardown, .timeout = 30);

Test(libtas_small, tiny_queues_and_rings_lose_no_update)
{
    int l = listener(7024), c[N_PAIRS], s[N_PAIRS];
    pthread_t w[N_PAIRS];
    struct xfer x[N_PAIRS];
    for (int i = 0; i < N_PAIRS; i++) {
        c[i] = client(7024);
        s[i] = tas_accept(l, NULL, NULL);
        cr_assert_geq(s[i], 0);
        x[i] = (struct xfer){c[i], 200000, 333};
    }
    for (int i = 0; i < N_PAIRS; i++)
        pthread_create(&w[i], NULL, writer, &x[i]);
    for (int i = 0; i < N_PAIRS; i++)
        cr_assert_eq(read_all(s[i]), x[i].n);
    for (int i = 0; i < N_PAIRS; i++)
        pthread_join(w[i], NULL);
    cr_assert_eq(fake_bad_entries(), 0);
    struct tas_lib_stats st;
    tas_get_stats(&st);
    cr_assert_eq(st.bad_entries + st.bad_flow + st.bad_bufs + st.bad_counts, 0);
}

Test(libtas, closed_connections_are_freed_in_tasd)
{
    int l = listener(7025);
    for (int i = 0; i < 10; i++) {
        int c = client(7025), s = tas_accept(l, NULL, NULL);
        tas_write(c, "x", 1);
        tas_close(c);
        char b[2];
        cr_assert_eq(tas_read(s, b, 2), 1);
        cr_assert_eq(tas_read(s, b, 2), 0);
        tas_close(s);
    }
    for (int i = 0; i < 200 && fake_flows_live() != 0; i++) {
        struct pollfd p = {.fd = l, .events = POLLIN};
        tas_poll(&p, 1, 5);
    }
    cr_assert_eq(fake_flows_live(), 0);
}

Test(libtas, a_blocked_accept_waits_through_a_tasd_restart)
{
    struct acceptor a = {listener(7030), -2};
    pthread_t t;
    pthread_create(&t, NULL, accept_one, &a);
    usleep(20000);
    fake_stop(); /* the listener stays ours, quiet: accept() keeps waiting */
    usleep(400000);
    cr_assert_eq(__atomic_load_n(&a.got, __ATOMIC_ACQUIRE), -2,
                 "accept() returned %d while tasd was away", a.got);
    cr_assert(tas_is_tas_socket(a.l));
    cr_assert_eq(fake_start(run_dir, NULL), 0);
    usleep(400000); /* the waiting thread finds tasd again within 200 ms */
    int c = client(7030);
    pthread_join(t, NULL);
    cr_assert_geq(a.got, 0, "accept after the restart: %s", strerror(errno));
    cr_assert_eq(tas_write(c, "hi", 2), 2);
    char b[2];
    cr_assert_eq(tas_read(a.got, b, 2), 2);
    cr_assert_eq(fake_bad_entries(), 0);
}

static void late_announcements(void)
{
    struct fake_opts o = {.late_new_conn = true, .sleeping_fp = true};
    start(&o);
}

TestSuite(libtas_late, .init = late_announcements, .fini = teardown, .timeout = 20);

Test(libtas_late, data_that_overtakes_its_new_conn_is_not_lost)
{
    int l = listener(7040);
    int c = client(7040);
    cr_assert_eq(tas_write(c, "early", 5), 5);
    cr_assert_eq(tas_close(c), 0);
    int s = tas_accept(l, NULL, NULL);
    cr_assert_geq(s, 0);
    char b[8];
    cr_assert_eq(tas_read(s, b, sizeof(b)), 5);
    cr_assert_eq(memcmp(b, "early", 5), 0);
    cr_assert_eq(tas_read(s, b, sizeof(b)), 0);
    struct tas_lib_stats st;
    tas_get_stats(&st);
    cr_assert_gt(st.stashed, 0);
}
