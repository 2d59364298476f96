/* sem_threads.c - TCP sockets shared by threads, checked against what Linux
 * does: any thread may use any socket; accept() in one thread while another
 * reads; shutdown(SHUT_RDWR) from another thread wakes a thread blocked in
 * read(), accept() or epoll_wait(); many threads blocked in reads each get
 * their own data.
 *
 * close() of the last descriptor from another thread (closing one of two,
 * after dup(), changes nothing, in both): Linux does not wake a thread
 * blocked in read()/write()/accept() on the socket (the blocked call holds
 * the file; it returns when data, room or a connection comes).  Under tasd
 * the blocked call returns at once with EBADF (the descriptor is gone,
 * nothing can come any more), never EPIPE/SIGPIPE: in tasd mode these checks
 * demand that within 1 s; in linux mode they only check that the call
 * returns once the peer acts.  A thread in epoll_wait on a set whose socket
 * is closed keeps waiting in both (the socket just leaves the set), and one
 * in poll() gets POLLNVAL (at once under tasd, at its timeout on Linux).
 *
 * A plain libc program: t_threads.sh runs it under tasd (or on Linux with
 * TAS_TEST_MODE=linux) against sem_peer.py.  Every wait is bounded.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "semutil.h"
#include "tutil.h"

#define EV_MS   3000
#define WAKE_MS 1000 /* a wake-up must come within this */
#define SETTLE  300  /* let a thread block before acting */

enum { J_READ, J_ACCEPT, J_EPOLL, J_POLL, J_WRITE };

struct job {
    int kind, fd, ms;
    char buf[512];
    char *big; /* J_WRITE: len bytes from here instead of buf */
    size_t len;
    ssize_t r;
    int err;
    uint32_t events; /* J_EPOLL: first event; J_POLL: revents */
    int64_t t_end;
    int done;
    bool joined;
    pthread_t thr;
};

static void *job_run(void *arg)
{
    struct job *j = arg;
    struct epoll_event e = {0};
    struct pollfd p = {.fd = j->fd, .events = POLLIN};
    errno = 0;
    switch (j->kind) {
    case J_READ:
        j->r = recv(j->fd, j->buf, j->len, j->len > 1 ? MSG_WAITALL : 0);
        break;
    case J_ACCEPT:
        j->r = accept(j->fd, NULL, NULL);
        break;
    case J_EPOLL:
        j->r = epoll_wait(j->fd, &e, 1, j->ms);
        j->events = e.events;
        break;
    case J_POLL:
        j->r = poll(&p, 1, j->ms);
        j->events = (uint32_t)(uint16_t)p.revents;
        break;
    case J_WRITE:
        j->r = write(j->fd, j->big != NULL ? j->big : j->buf, j->len);
        break;
    }
    j->err = errno;
    j->t_end = tu_now_ms();
    __atomic_store_n(&j->done, 1, __ATOMIC_RELEASE);
    return NULL;
}

static void job_start(struct job *j, int kind, int fd, size_t len, int ms)
{
    j->kind = kind;
    j->fd = fd;
    j->len = j->big != NULL || len < sizeof(j->buf) ? len : sizeof(j->buf);
    j->ms = ms;
    j->done = 0;
    j->joined = false;
    j->r = -2;
    pthread_create(&j->thr, NULL, job_run, j);
}

static bool job_done(struct job *j)
{
    return __atomic_load_n(&j->done, __ATOMIC_ACQUIRE) != 0;
}

static bool waited; /* the last job_wait(), for the check that follows */

/* Wait up to ms for the job to end; true if it did (and it is joined). */
static bool job_wait(struct job *j, int ms)
{
    int64_t t0 = tu_now_ms();
    while (!job_done(j) && sem_since(t0) < ms)
        sem_sleep_ms(5);
    if (!job_done(j))
        return false;
    if (!j->joined)
        pthread_join(j->thr, NULL);
    j->joined = true;
    return true;
}

/* ------------------------------------------------------------ sharing */

static void any_thread(void)
{
    char id[16], r[64];
    int c = sem_connect(id);
    struct job w = {0}, rd = {0};
    memset(w.buf, 'q', sizeof(w.buf));
    job_start(&w, J_WRITE, c, 300, 0);
    waited = job_wait(&w, EV_MS);
    CHECK(waited && w.r == 300, "any thread: another thread writes (%zd)", w.r);
    sem_peer(r, sizeof(r), "recv %s 300 %d", id, EV_MS);
    CHECK(strcmp(r, "300 more") == 0, "any thread: the peer got it (%s)", r);
    job_start(&rd, J_READ, c, 26, 0);
    sem_peer(NULL, 0, "send %s 26", id);
    waited = job_wait(&rd, EV_MS);
    CHECK(waited && rd.r == 26 && memcmp(rd.buf, "abcdefghijklmnopqrstuvwxyz", 26) == 0,
          "any thread: a third thread reads what the peer sent (%zd)", rd.r);
    close(c);
}

static void accept_while_reading(void)
{
    char id[16], pid[16];
    int l = tu_listen(S.listen_port, 16, 0), c = sem_connect(id);
    CHECK(l >= 0, "accept+read: listening");
    struct job ja = {0}, jr = {0};
    job_start(&ja, J_ACCEPT, l, 0, 0);
    job_start(&jr, J_READ, c, 7, 0);
    sem_sleep_ms(SETTLE);
    CHECK(sem_peer(pid, sizeof(pid), "connect %u", S.listen_port) == 0,
          "accept+read: the peer connects (%s)", pid);
    waited = job_wait(&ja, EV_MS);
    CHECK(waited && ja.r >= 0, "accept+read: accept() returns (%zd)", ja.r);
    CHECK(!job_done(&jr), "accept+read: the reader is still blocked");
    sem_peer(NULL, 0, "send %s 7", id);
    waited = job_wait(&jr, EV_MS);
    CHECK(waited && jr.r == 7, "accept+read: then the reader gets its 7 bytes (%zd)",
          jr.r);
    /* And the other way round: reading on the accepted socket while
     * another thread accepts again. */
    job_start(&jr, J_READ, (int)ja.r, 5, 0);
    job_start(&ja, J_ACCEPT, l, 0, 0);
    sem_sleep_ms(SETTLE);
    sem_peer(NULL, 0, "send %s 5", pid);
    waited = job_wait(&jr, EV_MS);
    CHECK(waited && jr.r == 5, "accept+read: read on the accepted socket (%zd)", jr.r);
    CHECK(!job_done(&ja), "accept+read: the second accept() still waits");
    int rc = sem_peer(pid, sizeof(pid), "connect %u", S.listen_port);
    waited = job_wait(&ja, EV_MS);
    CHECK(rc == 0 && waited && ja.r >= 0,
          "accept+read: and returns for the next connection");
    close(jr.fd);
    close((int)ja.r);
    close(c);
    close(l);
}

static void many_readers(void)
{
    enum { N = 4 };
    char id[N][16];
    int c[N];
    struct job j[N];
    memset(j, 0, sizeof(j));
    for (int i = 0; i < N; i++) {
        c[i] = sem_connect(id[i]);
        job_start(&j[i], J_READ, c[i], 100 + (size_t)i, 0);
    }
    sem_sleep_ms(SETTLE);
    for (int i = N - 1; i >= 0; i--)
        sem_peer(NULL, 0, "send %s %d", id[i], 100 + i);
    int ok = 0;
    for (int i = 0; i < N; i++) {
        bool good = job_wait(&j[i], EV_MS) && j[i].r == 100 + i;
        for (int k = 0; good && k < 100 + i; k++)
            good = j[i].buf[k] == 'a' + k % 26;
        ok += good;
        close(c[i]);
    }
    CHECK(ok == N,
          "many readers: %d threads blocked in reads each got exactly their data (%d)", N,
          ok);
}

/* ------------------------------------------------------------ shutdown wakes */

static void shutdown_wakes(void)
{
    char id[16];
    int c = sem_connect(id);
    struct job j1 = {0}, j2 = {0}, j3 = {0};
    job_start(&j1, J_READ, c, 1, 0);
    sem_sleep_ms(SETTLE);
    int64_t t0 = tu_now_ms();
    CHECK(shutdown(c, SHUT_RDWR) == 0, "shutdown: SHUT_RDWR from another thread");
    waited = job_wait(&j1, WAKE_MS);
    CHECK(waited && j1.r == 0 && j1.t_end - t0 < WAKE_MS,
          "shutdown: wakes the blocked read with 0 (EOF) (r=%zd)", j1.r);
    close(c);

    c = sem_connect(id);
    int ep = epoll_create1(0);
    struct epoll_event e = {.events = EPOLLIN | EPOLLRDHUP, .data.u64 = 77};
    epoll_ctl(ep, EPOLL_CTL_ADD, c, &e);
    job_start(&j2, J_EPOLL, ep, 0, 10000);
    sem_sleep_ms(SETTLE);
    t0 = tu_now_ms();
    shutdown(c, SHUT_RDWR);
    waited = job_wait(&j2, WAKE_MS);
    CHECK(
        waited && j2.r == 1 &&
            (j2.events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP)) ==
                (EPOLLIN | EPOLLRDHUP | EPOLLHUP),
        "shutdown: wakes epoll_wait with EPOLLIN|EPOLLRDHUP|EPOLLHUP (r=%zd events=%#x)",
        j2.r, j2.events);
    close(ep);
    close(c);

    int l = tu_listen(S.listen_port, 16, 0);
    job_start(&j3, J_ACCEPT, l, 0, 0);
    sem_sleep_ms(SETTLE);
    t0 = tu_now_ms();
    shutdown(l, SHUT_RDWR);
    waited = job_wait(&j3, WAKE_MS);
    CHECK(waited && j3.r == -1 && j3.err == EINVAL,
          "shutdown: wakes a blocked accept() with EINVAL (r=%zd, %s)", j3.r,
          tu_errname(j3.err));
    close(l);
}

/* ------------------------------------------------------------ close wakes */

static void close_wakes(void)
{
    char id[16], pid[16];
    int c = sem_connect(id);
    struct job j1 = {0}, j2 = {0}, j3 = {0}, j4 = {0};
    job_start(&j1, J_READ, c, 1, 0);
    sem_sleep_ms(SETTLE);
    int64_t t0 = tu_now_ms();
    CHECK(close(c) == 0, "close: close() from another thread");
    if (S.tasd) {
        waited = job_wait(&j1, WAKE_MS);
        CHECK(waited && j1.r == -1 && j1.err == EBADF,
              "close: under tasd the blocked read returns EBADF within 1 s (r=%zd, %s, "
              "%lld ms)",
              j1.r, tu_errname(j1.err), (long long)(j1.t_end - t0));
    }
    sem_peer(NULL, 0, "send %s 1", id); /* what wakes it on Linux */
    waited = job_wait(&j1, EV_MS);
    CHECK(waited, "close: the blocked read has returned (r=%zd)", j1.r);

    int l = tu_listen(S.listen_port, 16, 0);
    job_start(&j2, J_ACCEPT, l, 0, 0);
    sem_sleep_ms(SETTLE);
    t0 = tu_now_ms();
    close(l);
    if (S.tasd) {
        waited = job_wait(&j2, WAKE_MS);
        CHECK(waited && j2.r == -1 && j2.err == EBADF,
              "close: under tasd a blocked accept() returns EBADF within 1 s (r=%zd, %s)",
              j2.r, tu_errname(j2.err));
    }
    sem_peer(pid, sizeof(pid), "connect %u", S.listen_port); /* wakes it on Linux */
    waited = job_wait(&j2, EV_MS);
    CHECK(waited, "close: the blocked accept() has returned (r=%zd)", j2.r);
    if (j2.r >= 0)
        close((int)j2.r);

    /* epoll_wait: the socket leaves the set; the wait goes on to its timeout. */
    c = sem_connect(id);
    int ep = epoll_create1(0);
    struct epoll_event e = {.events = EPOLLIN, .data.u64 = 5};
    epoll_ctl(ep, EPOLL_CTL_ADD, c, &e);
    job_start(&j3, J_EPOLL, ep, 0, 1500);
    sem_sleep_ms(SETTLE);
    t0 = tu_now_ms();
    close(c);
    sem_peer(NULL, 0, "send %s 1", id);
    waited = job_wait(&j3, EV_MS);
    CHECK(waited && j3.r == 0 && j3.t_end - t0 >= 1000,
          "close: epoll_wait on a set whose socket is closed runs to its timeout, as on "
          "Linux "
          "(r=%zd after %lld ms)",
          j3.r, (long long)(j3.t_end - t0));
    close(ep);

    /* poll: POLLNVAL for the closed number. */
    c = sem_connect(id);
    job_start(&j4, J_POLL, c, 0, 2000);
    sem_sleep_ms(SETTLE);
    t0 = tu_now_ms();
    close(c);
    waited = job_wait(&j4, EV_MS);
    CHECK(waited && j4.r == 1 && j4.events == POLLNVAL,
          "close: poll() on the closed socket returns POLLNVAL (r=%zd revents=%#x)", j4.r,
          j4.events);
    if (S.tasd)
        CHECK(j4.t_end - t0 < WAKE_MS, "close: under tasd at once (%lld ms)",
              (long long)(j4.t_end - t0));
}

/* A writer blocked because the peer does not read, and close() from another
 * thread: under tasd it returns at once (a short count, or EBADF) and never
 * EPIPE/SIGPIPE; on Linux it goes on once the peer reads. */
static volatile sig_atomic_t got_pipe;

static void on_pipe(int sig)
{
    (void)sig;
    got_pipe = 1;
}

static void close_wakes_writer(void)
{
    enum { BIG = 1 << 20 };
    char id[16], r[64];
    int c = sem_connect(id);
    struct job j = {0};
    j.big = calloc(1, BIG);
    CHECK(j.big != NULL, "close writer: 1 MB to write");
    /* Fill everything first (the peer does not read), so that the blocked
     * write has written nothing when the socket is closed. */
    tu_set_nonblock(c, 1);
    size_t pre = 0;
    int quiet = 0;
    for (int round = 0; round < 200 && quiet < 3; round++) {
        ssize_t w = write(c, j.big, BIG);
        if (w > 0) {
            pre += (size_t)w;
            quiet = 0;
        } else {
            quiet++;
        }
        sem_sleep_ms(100);
    }
    tu_set_nonblock(c, 0);
    CHECK(quiet == 3, "close writer: filled up (%zu bytes) and stays full", pre);
    signal(SIGPIPE, on_pipe);
    got_pipe = 0;
    job_start(&j, J_WRITE, c, BIG, 0);
    sem_sleep_ms(SETTLE);
    CHECK(!job_done(&j), "close writer: the write blocks while the peer does not read");
    int64_t t0 = tu_now_ms();
    close(c);
    if (S.tasd) {
        waited = job_wait(&j, WAKE_MS);
        CHECK(waited && j.r == -1 && j.err == EBADF,
              "close writer: under tasd the blocked write returns EBADF within 1 s "
              "(r=%zd, %s, %lld ms)",
              j.r, tu_errname(j.err), (long long)(j.t_end - t0));
    }
    sem_peer(r, sizeof(r), "recv %s %zu 30000", id,
             pre + BIG); /* lets it go on on Linux */
    waited = job_wait(&j, EV_MS);
    CHECK(waited && !got_pipe && !(j.r == -1 && j.err == EPIPE),
          "close writer: the write has returned, without EPIPE or SIGPIPE (r=%zd, %s)",
          j.r, tu_errname(j.err));
    signal(SIGPIPE, SIG_IGN);
    if (waited)
        free(j.big);
}

/* close() of one of two descriptors (dup) is not the socket's end: a reader
 * blocked on it goes on and gets the data, in both. */
static void close_a_dup(void)
{
    char id[16];
    int c = sem_connect(id), d = dup(c);
    CHECK(d >= 0, "dup: a second descriptor");
    struct job j = {0};
    job_start(&j, J_READ, c, 3, 0);
    sem_sleep_ms(SETTLE);
    CHECK(close(d) == 0, "dup: close the copy from another thread");
    sem_sleep_ms(SETTLE);
    CHECK(!job_done(&j), "dup: the reader is still blocked (the socket is open)");
    sem_peer(NULL, 0, "send %s 3", id);
    waited = job_wait(&j, EV_MS);
    CHECK(waited && j.r == 3, "dup: then it reads the data (r=%zd)", j.r);
    close(c);
}

int main(int argc, char **argv)
{
    sem_init("sem_threads", argc, argv);
    signal(SIGPIPE, SIG_IGN);
    any_thread();
    accept_while_reading();
    many_readers();
    shutdown_wakes();
    close_wakes();
    close_wakes_writer();
    close_a_dup();
    return sem_finish();
}
