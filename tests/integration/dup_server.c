/* dup_server.c - an echo server that uses each connection through several
 * descriptors: dup, dup2, dup3 (O_CLOEXEC) and fcntl(F_DUPFD), closing the
 * original and then one copy after another while the connection goes on.
 * The last copy sees the peer's EOF and closes; every step is checked
 * (errno, FD_CLOEXEC, getpeername) and the exit code says whether all held.
 *
 *   dup_server [--port P] [--conns N] [--timeout SECONDS]
 * Prints READY once listening.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tutil.h"

#define PROG "dup_server"

static int timeout_ms = 30000;

#define CHECK(cond, what)                                                                \
    do {                                                                                 \
        if (!(cond)) {                                                                   \
            fprintf(stderr, PROG ": %s failed: %s\n", what, tu_errname(errno));          \
            return 1;                                                                    \
        }                                                                                \
    } while (0)

/* Echo one chunk: read on rfd, write back on wfd.  0 on EOF, 1 on data. */
static int echo_once(int rfd, int wfd)
{
    char buf[8192];
    ssize_t n = tu_read_wait(rfd, buf, sizeof(buf), timeout_ms);
    if (n <= 0)
        return (int)n;
    return tu_write_all(wfd, buf, (size_t)n, timeout_ms) == 0 ? 1 : -1;
}

static int serve(int fd)
{
    int d1 = dup(fd);
    CHECK(d1 >= 0, "dup");
    int d2 = dup2(fd, 100);
    CHECK(d2 == 100, "dup2 onto 100");
    int d3 = dup3(fd, 101, O_CLOEXEC);
    CHECK(d3 == 101, "dup3 onto 101");
    CHECK(fcntl(d3, F_GETFD) == FD_CLOEXEC, "dup3 O_CLOEXEC sets FD_CLOEXEC");
    CHECK(fcntl(d2, F_GETFD) == 0, "dup2 leaves FD_CLOEXEC clear");
    int d4 = fcntl(fd, F_DUPFD_CLOEXEC, 200);
    CHECK(d4 >= 200, "F_DUPFD_CLOEXEC from 200");
    struct sockaddr_storage a;
    socklen_t al = sizeof(a);
    CHECK(getpeername(d4, (struct sockaddr *)&a, &al) == 0, "getpeername on a copy");

    CHECK(close(fd) == 0, "close of the original");
    CHECK(echo_once(d1, d2) == 1, "echo read on dup, write on dup2");
    CHECK(close(d1) == 0, "close of the dup");
    CHECK(echo_once(d3, d4) == 1, "echo read on dup3, write on F_DUPFD");
    CHECK(close(d2) == 0 && close(d3) == 0, "close of dup2 and dup3");
    CHECK(write(d1, "x", 1) < 0 && errno == EBADF, "write on a closed copy: EBADF");
    int r;
    while ((r = echo_once(d4, d4)) == 1)
        ;
    CHECK(r == 0, "echo on the last copy until EOF");
    CHECK(close(d4) == 0, "close of the last copy");
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {{"port", required_argument, NULL, 'p'},
                                         {"conns", required_argument, NULL, 'n'},
                                         {"timeout", required_argument, NULL, 't'},
                                         {NULL, 0, NULL, 0}};
    uint16_t port = 7000;
    long conns = 1;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'p':
            port = (uint16_t)tu_num(PROG, "--port", optarg, 1, 65535);
            break;
        case 'n':
            conns = tu_num(PROG, "--conns", optarg, 1, 1000);
            break;
        case 't':
            timeout_ms = (int)tu_num(PROG, "--timeout", optarg, 1, 3600) * 1000;
            break;
        default:
            return 2;
        }
    }
    signal(SIGPIPE, SIG_IGN);
    int lfd = tu_listen(port, 16, 0);
    if (lfd < 0)
        return 1;
    tu_ready(PROG, port);
    for (long i = 0; i < conns; i++) {
        int fd = tu_accept(lfd, timeout_ms);
        if (fd < 0) {
            fprintf(stderr, PROG ": accept: %s\n", tu_errname(errno));
            return 1;
        }
        if (serve(fd) != 0)
            return 1;
    }
    printf("dup_server: %ld connections served through copies\n", conns);
    return 0;
}
