/* thread_server.c - a multi-threaded epoll echo server, the shape of
 * memcached or an SO_REUSEPORT web server: each of N worker threads has its
 * own listener on the same port (SO_REUSEPORT) and its own epoll set, and
 * echoes what its connections send.  With --dispatch the main thread is
 * the only listener and hands each connection it accepts to a worker in
 * turn, through a pipe (memcached's shape).  Before the workers start, K
 * threads run one after the other, each making and closing a socket, then
 * exiting (under tasd each gets a context and, as no socket needs it any
 * more, gives it back; with --main-socket the main thread holds a socket
 * of its own first, so the first context stays the main thread's).  With
 * --churn-peer each of them connects to an echo server there instead,
 * echoes 1 KiB and closes.  With --threads 0 it ends after them.
 *
 *   thread_server --port P [--threads N] [--churn K] [--churn-peer IP:PORT]
 *                 [--main-socket] [--total T] [--timeout SECONDS] [--dispatch]
 *
 * Prints "READY pid=PID" when every worker listens, "thread I served C"
 * for each worker at the end; exits 0 once T connections (all workers
 * together) were served to EOF with no error, 1 otherwise or at the
 * timeout.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tutil.h"

#define PROG    "thread_server"
#define MAX_THR 32

static int port, n_threads = 4, churn, total = 1;
static atomic_int served, failed, listening;
static atomic_bool stop;
static int counts[MAX_THR];
static bool dispatch;
static bool main_socket;     /* the main thread holds a socket from the start */
static int hand[MAX_THR][2]; /* --dispatch: a pipe to each worker */

static int listener(void)
{
    int fd = tu_listen_opt((uint16_t)port, 128, 1, 1);
    if (fd < 0)
        fprintf(stderr, PROG ": listener on %d: %s\n", port, strerror(-fd));
    return fd;
}

/* Echo what came; false when the connection is over (EOF or error). */
static bool echo(int fd, int id)
{
    char buf[16384];
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n == 0) {
        counts[id]++;
        atomic_fetch_add(&served, 1);
        return false;
    }
    if (n < 0) {
        if (errno == EAGAIN || errno == EINTR)
            return true;
        fprintf(stderr, PROG ": thread %d: read: %s\n", id, strerror(errno));
        atomic_fetch_add(&failed, 1);
        return false;
    }
    if (tu_write_all(fd, buf, (size_t)n, 5000) != 0) {
        fprintf(stderr, PROG ": thread %d: write: %s\n", id, strerror(errno));
        atomic_fetch_add(&failed, 1);
        return false;
    }
    return true;
}

static void *worker(void *arg)
{
    int id = (int)(intptr_t)arg;
    int lfd = dispatch ? hand[id][0] : listener(), ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = lfd};
    if (lfd < 0 || ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) != 0) {
        atomic_fetch_add(&failed, 1);
        atomic_store(&stop, true);
        return NULL;
    }
    atomic_fetch_add(&listening, 1);
    while (!atomic_load(&stop)) {
        struct epoll_event evs[64];
        int n = epoll_wait(ep, evs, 64, 100);
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            if (fd == lfd && dispatch) {
                int got[64];
                ssize_t r = read(lfd, got, sizeof(got));
                for (ssize_t k = 0; k < r / (ssize_t)sizeof(int); k++) {
                    struct epoll_event cev = {.events = EPOLLIN, .data.fd = got[k]};
                    if (epoll_ctl(ep, EPOLL_CTL_ADD, got[k], &cev) != 0) {
                        atomic_fetch_add(&failed, 1);
                        close(got[k]);
                    }
                }
            } else if (fd == lfd) {
                int c;
                while ((c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) >= 0) {
                    struct epoll_event cev = {.events = EPOLLIN, .data.fd = c};
                    int one = 1; /* (an RPC server's replies go at once) */
                    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
                    if (epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev) != 0) {
                        atomic_fetch_add(&failed, 1);
                        close(c);
                    }
                }
            } else if (!echo(fd, id)) {
                epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
                close(fd);
            }
        }
        if (atomic_load(&served) + atomic_load(&failed) >= total)
            atomic_store(&stop, true);
    }
    close(ep);
    if (!dispatch)
        close(lfd);
    return NULL;
}

/* --dispatch: accept in this thread, hand each connection on in turn. */
static void dispatcher(void)
{
    int lfd = listener();
    if (lfd < 0) {
        atomic_fetch_add(&failed, 1);
        atomic_store(&stop, true);
        return;
    }
    printf("READY pid=%d\n", (int)getpid());
    fflush(stdout);
    for (int next = 0; !atomic_load(&stop);) {
        int c = tu_accept(lfd, 100);
        if (c == -ETIMEDOUT)
            continue;
        if (c < 0) {
            fprintf(stderr, PROG ": accept: %s\n", strerror(-c));
            atomic_fetch_add(&failed, 1);
            break;
        }
        int one = 1;
        setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        tu_set_nonblock(c, 1);
        if (write(hand[next][1], &c, sizeof(c)) != (ssize_t)sizeof(c)) {
            atomic_fetch_add(&failed, 1);
            close(c);
        }
        next = (next + 1) % n_threads;
    }
    close(lfd);
}

/* A thread that makes a socket and ends. */
static struct sockaddr_in churn_peer; /* --churn-peer: sin_port != 0 */

/* A short-lived thread: a socket made and closed; with --churn-peer a
 * connection to an echo server that echoes 1 KiB and closes (its close
 * finishes after the thread is gone). */
static void *short_lived(void *arg)
{
    (void)arg;
    uint8_t out[1024], in[1024];
    int fd = churn_peer.sin_port != 0 ? tu_connect(&churn_peer, 5000)
                                      : socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        fprintf(stderr, PROG ": short-lived thread: %s\n",
                strerror(fd == -1 ? errno : -fd));
        atomic_fetch_add(&failed, 1);
        return NULL;
    }
    if (churn_peer.sin_port != 0) {
        tu_pattern(out, sizeof(out), (uint64_t)fd);
        size_t got = 0;
        ssize_t r = 1;
        if (tu_write_all(fd, out, sizeof(out), 5000) != 0)
            r = -1;
        while (r > 0 && got < sizeof(in))
            if ((r = tu_read_wait(fd, in + got, sizeof(in) - got, 5000)) > 0)
                got += (size_t)r;
        if (got != sizeof(in) || memcmp(in, out, sizeof(in)) != 0) {
            fprintf(stderr, PROG ": short-lived thread: echo of 1 KiB differs (%zu)\n",
                    got);
            atomic_fetch_add(&failed, 1);
        }
    }
    close(fd);
    return NULL;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"port", 1, 0, 'p'},        {"threads", 1, 0, 'n'},    {"churn", 1, 0, 'k'},
        {"total", 1, 0, 't'},       {"timeout", 1, 0, 'T'},    {"dispatch", 0, 0, 'D'},
        {"main-socket", 0, 0, 'M'}, {"churn-peer", 1, 0, 'P'}, {0, 0, 0, 0}};
    int timeout = 60, o;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 'p':
            port = atoi(optarg);
            break;
        case 'n':
            n_threads = atoi(optarg);
            break;
        case 'k':
            churn = atoi(optarg);
            break;
        case 't':
            total = atoi(optarg);
            break;
        case 'T':
            timeout = atoi(optarg);
            break;
        case 'D':
            dispatch = true;
            break;
        case 'M':
            main_socket = true;
            break;
        case 'P': {
            char *colon = strchr(optarg, ':');
            churn_peer.sin_family = AF_INET;
            if (colon == NULL)
                return 2;
            *colon = '\0';
            if (inet_pton(AF_INET, optarg, &churn_peer.sin_addr) != 1)
                return 2;
            churn_peer.sin_port = htons((uint16_t)atoi(colon + 1));
            break;
        }
        default:
            return 2;
        }
    }
    if (port <= 0 || n_threads < 0 || n_threads > MAX_THR || total < 1) {
        fprintf(stderr,
                "usage: " PROG
                " --port P [--threads 0..%d] [--churn K] [--churn-peer IP:PORT] "
                "[--main-socket] "
                "[--total T] [--timeout S]\n",
                MAX_THR);
        return 2;
    }
    alarm((unsigned)timeout);
    int held = main_socket ? socket(AF_INET, SOCK_STREAM, 0) : -1;
    if (main_socket && held < 0)
        return 1;
    for (int i = 0; i < churn; i++) {
        pthread_t t;
        if (pthread_create(&t, NULL, short_lived, NULL) != 0)
            return 1;
        pthread_join(t, NULL);
    }
    if (n_threads == 0) { /* the short-lived threads only */
        if (held >= 0)
            close(held);
        printf("churn of %d threads: %d failed\n", churn, atomic_load(&failed));
        return atomic_load(&failed) == 0 ? 0 : 1;
    }
    pthread_t th[MAX_THR];
    for (int i = 0; dispatch && i < n_threads; i++)
        if (pipe2(hand[i], O_CLOEXEC) != 0)
            return 1;
    for (int i = 0; i < n_threads; i++)
        if (pthread_create(&th[i], NULL, worker, (void *)(intptr_t)i) != 0)
            return 1;
    while (atomic_load(&listening) < n_threads && !atomic_load(&stop))
        usleep(10000);
    if (dispatch) {
        dispatcher();
    } else {
        printf("READY pid=%d\n", (int)getpid());
        fflush(stdout);
    }
    for (int i = 0; i < n_threads; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < n_threads; i++)
        printf("thread %d served %d\n", i, counts[i]);
    printf("served %d failed %d\n", atomic_load(&served), atomic_load(&failed));
    if (held >= 0)
        close(held);
    return atomic_load(&failed) == 0 && atomic_load(&served) >= total ? 0 : 1;
}
