/* test_libtas_threads.c - one context per thread (libtas/core/qctx.c),
 * against the fake tasd.
 *
 * A thread gets its own context on its first socket call, and the
 * connections it makes are told about on that context (the fake counts
 * flows per context); a thread that exits gives its context back to tasd
 * (CTX_DEL), or, if a socket of the process still points at it, leaves it
 * to the next new thread; once tasd gives no more contexts, further
 * threads share
 * them and every byte still arrives.  Each test runs in its own process.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libtas/libtas.h"
#include "test_libtas_fake.h"

#define MSG 3000

static char run_dir[FAKE_DIR_LEN];

static void setup(void)
{
    cr_assert_eq(fake_start_in(run_dir, "thr", NULL), 0);
}

static void teardown(void)
{
    fake_dir_remove(run_dir);
}

static int listener(uint16_t port)
{
    int l = tas_socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    cr_assert_geq(l, 0);
    cr_assert_eq(tas_bind(l, (struct sockaddr *)&a, sizeof(a)), 0);
    cr_assert_eq(tas_listen(l, 64), 0, "listen: %s", strerror(errno));
    return l;
}

static uint8_t pattern(size_t i, int who)
{
    return (uint8_t)(i * 13 + (size_t)who * 101 + (i >> 9));
}

/* A client thread: connect, send MSG bytes, read them back (the main
 * thread echoes), then wait for the go to close.  ok: all came back. */
struct cli {
    int id;
    uint16_t port;
    pthread_barrier_t *held; /* everyone connected and echoed */
    pthread_barrier_t *go;   /* the main thread counted */
    bool ok;
};

static bool read_n(int fd, uint8_t *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = tas_read(fd, buf + got, n - got);
        if (r <= 0)
            return false;
        got += (size_t)r;
    }
    return true;
}

static void *client(void *arg)
{
    struct cli *c = arg;
    uint8_t out[MSG], in[MSG];
    int fd = tas_socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(c->port)};
    a.sin_addr.s_addr = FAKE_IP;
    if (fd >= 0 && tas_connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0) {
        for (size_t i = 0; i < MSG; i++)
            out[i] = pattern(i, c->id);
        c->ok = tas_write(fd, out, MSG) == MSG && read_n(fd, in, MSG) &&
                memcmp(in, out, MSG) == 0;
    }
    if (c->held != NULL) {
        pthread_barrier_wait(c->held);
        pthread_barrier_wait(c->go);
    }
    tas_close(fd);
    return NULL;
}

/* The main thread's side: accept n connections and echo MSG bytes each. */
static void echo_n(int l, int n, int *fds)
{
    uint8_t buf[MSG];
    for (int i = 0; i < n; i++) {
        fds[i] = tas_accept(l, NULL, NULL);
        cr_assert_geq(fds[i], 0, "accept: %s", strerror(errno));
        cr_assert(read_n(fds[i], buf, MSG));
        cr_assert_eq(tas_write(fds[i], buf, MSG), MSG);
    }
}

static void *socket_and_go(void *arg)
{
    (void)arg;
    int fd = tas_socket(AF_INET, SOCK_STREAM, 0);
    if (fd >= 0)
        tas_close(fd);
    return NULL;
}

TestSuite(threads, .init = setup, .fini = teardown, .timeout = 20);

Test(threads, each_thread_hears_about_its_connections_on_its_own_context)
{
    enum { N = FAKE_MAX_CTX - 1 };
    int l = listener(7201), s[N];
    pthread_barrier_t held, go;
    pthread_barrier_init(&held, NULL, N + 1);
    pthread_barrier_init(&go, NULL, N + 1);
    struct cli c[N];
    pthread_t t[N];
    for (int i = 0; i < N; i++) {
        c[i] = (struct cli){.id = i, .port = 7201, .held = &held, .go = &go};
        pthread_create(&t[i], NULL, client, &c[i]);
    }
    echo_n(l, N, s);
    pthread_barrier_wait(&held);
    cr_expect_eq(fake_contexts(), N + 1, "contexts: %d", fake_contexts());
    /* The accepted ends are the listener's (the main thread's context 0);
     * each client's end is on a context of its own. */
    cr_expect_eq(fake_ctx_flows(0), N, "flows on context 0: %u", fake_ctx_flows(0));
    for (int x = 1; x <= N; x++)
        cr_expect_eq(fake_ctx_flows(x), 1, "flows on context %d: %u", x,
                     fake_ctx_flows(x));
    pthread_barrier_wait(&go);
    for (int i = 0; i < N; i++) {
        pthread_join(t[i], NULL);
        cr_expect(c[i].ok, "client %d: echo differs", i);
        tas_close(s[i]);
    }
    tas_close(l);
}

Test(threads, a_thread_that_exits_gives_its_context_back)
{
    int l = listener(7202);
    for (int i = 0; i < 20; i++) {
        pthread_t t;
        pthread_create(&t, NULL, socket_and_go, NULL);
        pthread_join(t, NULL);
    }
    /* CTX_DEL needs no answer: give the fake a moment to take the last. */
    for (int i = 0; i < 200 && fake_contexts_given_back() < 20; i++)
        usleep(5000);
    cr_expect_eq(fake_contexts_given_back(), 20,
                 "20 threads one after the other: %d "
                 "contexts given back",
                 fake_contexts_given_back());
    cr_expect_eq(fake_contexts(), 1, "contexts in use: %d", fake_contexts());
    /* The process goes on using its first context, and new threads theirs. */
    struct cli c = {.id = 1, .port = 7202};
    pthread_t t;
    pthread_create(&t, NULL, client, &c);
    int s[1];
    echo_n(l, 1, s);
    pthread_join(t, NULL);
    cr_expect(c.ok, "echo after the contexts went back differs");
    /* A thread that connected, echoed and closed gives its context back too
     * (the connection finishes on the first one). */
    for (int i = 0; i < 200 && fake_contexts_given_back() < 21; i++)
        usleep(5000);
    cr_expect_eq(fake_contexts_given_back(), 21, "given back: %d",
                 fake_contexts_given_back());
    tas_close(s[0]);
    tas_close(l);
}

static void *socket_and_keep(void *arg)
{
    *(int *)arg = tas_socket(AF_INET, SOCK_STREAM, 0);
    return NULL;
}

Test(threads, a_thread_that_exits_with_a_socket_leaves_its_context_to_the_next)
{
    int l = listener(7206), kept = -1;
    pthread_t t;
    pthread_create(&t, NULL, socket_and_keep, &kept);
    pthread_join(t, NULL);
    cr_assert(kept >= 0);
    for (int i = 0; i < 5; i++) {
        pthread_create(&t, NULL, socket_and_go, NULL);
        pthread_join(t, NULL);
    }
    usleep(50000);
    cr_expect_eq(fake_contexts_given_back(), 0, "given back: %d",
                 fake_contexts_given_back());
    cr_expect_eq(fake_contexts(), 2,
                 "5 more threads after one that kept a socket: %d "
                 "contexts",
                 fake_contexts());
    tas_close(kept);
    tas_close(l);
}

Test(threads, threads_beyond_the_last_context_share_and_lose_nothing)
{
    enum { N = 2 * FAKE_MAX_CTX };
    int l = listener(7203), s[N];
    struct cli c[N];
    pthread_t t[N];
    for (int i = 0; i < N; i++) {
        c[i] = (struct cli){.id = i, .port = 7203};
        pthread_create(&t[i], NULL, client, &c[i]);
    }
    echo_n(l, N, s);
    for (int i = 0; i < N; i++) {
        pthread_join(t[i], NULL);
        cr_expect(c[i].ok, "client %d: echo differs", i);
        tas_close(s[i]);
    }
    cr_expect_eq(fake_contexts_peak(), FAKE_MAX_CTX);
    tas_close(l);
}

/* A worker's side of a handed-over connection: read what the main thread
 * sent, answer with its own bytes. */
struct handed {
    int fd;
    bool ok;
};

static void *serve_handed(void *arg)
{
    struct handed *h = arg;
    uint8_t in[MSG], out[2 * MSG];
    h->ok = read_n(h->fd, in, MSG);
    for (size_t i = 0; h->ok && i < MSG; i++)
        h->ok = in[i] == pattern(i, 1);
    for (size_t i = 0; i < sizeof(out); i++)
        out[i] = pattern(i, 2);
    h->ok = h->ok && tas_write(h->fd, out, sizeof(out)) == (ssize_t)sizeof(out);
    return NULL;
}

static bool read_pattern(int fd, size_t n, int who)
{
    uint8_t buf[2 * MSG];
    if (n > sizeof(buf) || !read_n(fd, buf, n))
        return false;
    for (size_t i = 0; i < n; i++)
        if (buf[i] != pattern(i, who))
            return false;
    return true;
}

Test(threads, a_connection_moves_once_to_the_thread_that_uses_it)
{
    int l = listener(7204);
    int c = tas_socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(7204)};
    a.sin_addr.s_addr = FAKE_IP;
    cr_assert_eq(tas_connect(c, (struct sockaddr *)&a, sizeof(a)), 0);
    int s = tas_accept(l, NULL, NULL);
    cr_assert_geq(s, 0);
    cr_assert_eq(fake_ctx_flows(0), 2, "both ends start on the main thread's context");

    /* Bytes wait in s's ring before it moves: they must all arrive. */
    uint8_t out[MSG];
    for (size_t i = 0; i < MSG; i++)
        out[i] = pattern(i, 1);
    cr_assert_eq(tas_write(c, out, MSG), MSG);
    usleep(20000);
    struct handed h = {.fd = s};
    pthread_t t;
    pthread_create(&t, NULL, serve_handed, &h);
    pthread_join(t, NULL);
    cr_expect(h.ok, "the worker read the bytes sent before the move, and wrote");
    cr_expect(read_pattern(c, 2 * MSG, 2), "the worker's bytes arrived intact");
    cr_expect_eq(fake_attaches(), 1, "moves: %lu", (unsigned long)fake_attaches());
    cr_expect_eq(fake_ctx_flows(1), 1, "the accepted end is on the worker's context");
    cr_expect_eq(fake_ctx_flows(0), 1, "the client end stayed");

    /* The worker is gone; the main thread uses s again: no second move,
     * and data still flows both ways. */
    cr_assert_eq(tas_write(s, out, MSG), MSG);
    cr_expect(read_pattern(c, MSG, 1), "main thread: s -> c after the move");
    cr_assert_eq(tas_write(c, out, MSG), MSG);
    cr_expect(read_pattern(s, MSG, 1), "main thread: c -> s after the move");
    cr_expect_eq(fake_attaches(), 1, "a connection moves once");
    tas_close(s);
    tas_close(c);
    tas_close(l);
}
