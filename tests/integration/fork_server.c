/* fork_server.c - echo servers that fork, as prefork and forking servers do.
 *
 *   fork_server --mode prefork|perconn|orphan [--port P] [--workers W]
 *               [--conns N] [--timeout SECONDS]
 *
 * prefork  listen, then fork W workers that each accept and echo (blocking
 *          accept in every worker, like nginx or Apache prefork).  The
 *          parent never accepts; it exits 0 once the workers served N
 *          connections between them and each served at least one.
 * perconn  the parent accepts; for each connection it forks a child that
 *          echoes it, and closes its own copy at once (inetd style).  Exits
 *          0 after N connections were echoed by children that exited 0.
 * orphan   the parent accepts one connection, forks a child and exits
 *          without closing anything; the child waits 300 ms (its parent is
 *          gone by then) and echoes the connection.  The process the test
 *          started is the parent: the child reports in the log.
 * Each echo runs until the peer half-closes; then the server closes.
 * Prints READY once listening.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tutil.h"

#define PROG "fork_server"

static int timeout_s = 60;

/* Echo until EOF.  0 when every byte went back. */
static int echo(int fd)
{
    char buf[16384];
    for (;;) {
        ssize_t n = tu_read_wait(fd, buf, sizeof(buf), timeout_s * 1000);
        if (n == 0)
            return 0;
        if (n < 0) {
            fprintf(stderr, PROG ": [%d] read: %s\n", getpid(), tu_errname(errno));
            return 1;
        }
        if (tu_write_all(fd, buf, (size_t)n, timeout_s * 1000) != 0) {
            fprintf(stderr, PROG ": [%d] write: %s\n", getpid(), tu_errname(errno));
            return 1;
        }
    }
}

static int serve_one(int fd)
{
    int r = echo(fd);
    if (close(fd) != 0) {
        fprintf(stderr, PROG ": [%d] close: %s\n", getpid(), tu_errname(errno));
        r = 1;
    }
    return r;
}

/* A prefork worker: accept and echo until told to stop (SIGTERM). */
static void worker(int lfd, int id)
{
    long served = 0;
    for (;;) {
        int fd = tu_accept(lfd, timeout_s * 1000);
        if (fd < 0) {
            fprintf(stderr, PROG ": worker %d: accept: %s\n", id, tu_errname(errno));
            _exit(2);
        }
        if (serve_one(fd) != 0)
            _exit(1);
        served++;
        /* One line per connection: the parent counts them. */
        printf("worker %d served %ld\n", id, served);
        fflush(stdout);
    }
}

static int prefork(int lfd, int workers, long conns)
{
    pid_t pids[16];
    int pfd[2];
    if (pipe(pfd) != 0)
        return 1;
    for (int i = 0; i < workers; i++) {
        pids[i] = fork();
        if (pids[i] < 0) {
            fprintf(stderr, PROG ": fork: %s\n", tu_errname(errno));
            return 1;
        }
        if (pids[i] == 0) {
            close(pfd[0]);
            dup2(pfd[1], 1);
            worker(lfd, i);
        }
    }
    close(pfd[1]);
    long per[16] = {0}, total = 0;
    FILE *in = fdopen(pfd[0], "r");
    char line[128];
    int64_t deadline = tu_now_ms() + timeout_s * 1000L;
    alarm((unsigned)timeout_s + 5);
    while (total < conns && tu_now_ms() < deadline && fgets(line, sizeof(line), in)) {
        int id;
        long n;
        if (sscanf(line, "worker %d served %ld", &id, &n) == 2 && id >= 0 && id < workers) {
            per[id]++;
            total++;
        }
    }
    int rc = total == conns ? 0 : 1;
    for (int i = 0; i < workers; i++) {
        printf("worker %d: %ld connections\n", i, per[i]);
        if (per[i] == 0)
            rc = 1;
        kill(pids[i], SIGTERM);
    }
    for (int i = 0; i < workers; i++) {
        int st;
        waitpid(pids[i], &st, 0);
    }
    printf("served %ld of %ld\n", total, conns);
    return rc;
}

static int perconn(int lfd, long conns)
{
    int bad = 0;
    for (long i = 0; i < conns; i++) {
        int fd = tu_accept(lfd, timeout_s * 1000);
        if (fd < 0) {
            fprintf(stderr, PROG ": accept: %s\n", tu_errname(errno));
            return 1;
        }
        pid_t p = fork();
        if (p < 0) {
            fprintf(stderr, PROG ": fork: %s\n", tu_errname(errno));
            return 1;
        }
        if (p == 0) {
            close(lfd);
            _exit(serve_one(fd));
        }
        if (close(fd) != 0) {
            fprintf(stderr, PROG ": close in parent: %s\n", tu_errname(errno));
            bad++;
        }
    }
    for (long i = 0; i < conns; i++) {
        int st;
        if (wait(&st) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
            bad++;
    }
    printf("perconn: %ld connections, %d bad\n", conns, bad);
    return bad == 0 ? 0 : 1;
}

static int orphan(int lfd)
{
    int fd = tu_accept(lfd, timeout_s * 1000);
    if (fd < 0) {
        fprintf(stderr, PROG ": accept: %s\n", tu_errname(errno));
        return 1;
    }
    pid_t p = fork();
    if (p < 0)
        return 1;
    if (p == 0) {
        pid_t parent = getppid();
        for (int i = 0; i < 300 && getppid() == parent; i++)
            usleep(10000);
        usleep(300000);
        int r = serve_one(fd);
        printf("orphan child: echo %s\n", r == 0 ? "ok" : "FAILED");
        fflush(stdout);
        _exit(r);
    }
    printf("orphan parent: exiting\n");
    fflush(stdout);
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {{"mode", required_argument, NULL, 'm'},
                                         {"port", required_argument, NULL, 'p'},
                                         {"workers", required_argument, NULL, 'w'},
                                         {"conns", required_argument, NULL, 'n'},
                                         {"timeout", required_argument, NULL, 't'},
                                         {NULL, 0, NULL, 0}};
    const char *mode = NULL;
    uint16_t port = 7000;
    int workers = 2;
    long conns = 10;
    int c;

    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'm':
            mode = optarg;
            break;
        case 'p':
            port = (uint16_t)tu_num(PROG, "--port", optarg, 1, 65535);
            break;
        case 'w':
            workers = (int)tu_num(PROG, "--workers", optarg, 1, 16);
            break;
        case 'n':
            conns = tu_num(PROG, "--conns", optarg, 1, 100000);
            break;
        case 't':
            timeout_s = (int)tu_num(PROG, "--timeout", optarg, 1, 3600);
            break;
        default:
            return 2;
        }
    }
    if (mode == NULL) {
        fprintf(stderr, "usage: " PROG " --mode prefork|perconn|orphan [options]\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    int lfd = tu_listen(port, 128, 0);
    if (lfd < 0)
        return 1;
    tu_ready(PROG, port);
    if (strcmp(mode, "prefork") == 0)
        return prefork(lfd, workers, conns);
    if (strcmp(mode, "perconn") == 0)
        return perconn(lfd, conns);
    if (strcmp(mode, "orphan") == 0)
        return orphan(lfd);
    fprintf(stderr, PROG ": unknown mode %s\n", mode);
    return 2;
}
