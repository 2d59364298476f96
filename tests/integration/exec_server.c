/* exec_server.c - a server that exec()s itself with sockets open.
 *
 *   exec_server [--port P] [--timeout SECONDS]
 *
 * Stage 1 listens on P (no FD_CLOEXEC) and on P+1 (SOCK_CLOEXEC), accepts
 * one connection on P, echoes its first message, makes a dup of it, then
 * execs itself (stage 2) passing the descriptor numbers.  Stage 2 checks
 * that the SOCK_CLOEXEC listener is gone (EBADF) and that the others work:
 * it echoes the rest of the first connection on the dup until EOF, then
 * accepts a second connection on the inherited listener and echoes that.
 * Exits 0 only if every step held.  Prints READY once listening.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tutil.h"

#define PROG "exec_server"

static int timeout_ms = 30000;

static int echo(int fd, bool once)
{
    char buf[16384];
    for (;;) {
        ssize_t n = tu_read_wait(fd, buf, sizeof(buf), timeout_ms);
        if (n <= 0)
            return n == 0 && !once ? 0 : -1;
        if (tu_write_all(fd, buf, (size_t)n, timeout_ms) != 0)
            return -1;
        if (once)
            return 0;
    }
}

static int fail(const char *what)
{
    fprintf(stderr, PROG ": %s: %s\n", what, tu_errname(errno));
    return 1;
}

static int stage2(int lfd, int cfd, int dfd, int clo)
{
    if (fcntl(clo, F_GETFD) != -1 || errno != EBADF)
        return fail("the SOCK_CLOEXEC listener survived exec");
    if (fcntl(cfd, F_GETFD) < 0 || fcntl(dfd, F_GETFD) < 0 || fcntl(lfd, F_GETFD) < 0)
        return fail("an inherited descriptor is missing");
    if (close(cfd) != 0)
        return fail("close of the original connection descriptor");
    if (echo(dfd, false) != 0)
        return fail("echo on the dup after exec");
    if (close(dfd) != 0)
        return fail("close of the dup");
    int fd = tu_accept(lfd, timeout_ms);
    if (fd < 0)
        return fail("accept on the inherited listener");
    if (echo(fd, false) != 0)
        return fail("echo on the second connection");
    close(fd);
    printf(PROG ": stage 2 done\n");
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {{"port", required_argument, NULL, 'p'},
                                         {"timeout", required_argument, NULL, 't'},
                                         {"stage2", required_argument, NULL, 's'},
                                         {NULL, 0, NULL, 0}};
    uint16_t port = 7000;
    int c, l2 = -1, c2 = -1, d2 = -1, x2 = -1;
    bool second = false;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'p':
            port = (uint16_t)tu_num(PROG, "--port", optarg, 1, 65534);
            break;
        case 't':
            timeout_ms = (int)tu_num(PROG, "--timeout", optarg, 1, 3600) * 1000;
            break;
        case 's':
            if (sscanf(optarg, "%d,%d,%d,%d", &l2, &c2, &d2, &x2) != 4)
                return 2;
            second = true;
            break;
        default:
            return 2;
        }
    }
    signal(SIGPIPE, SIG_IGN);
    if (second)
        return stage2(l2, c2, d2, x2);

    int lfd = tu_listen(port, 16, 0);
    int clo = tu_listen((uint16_t)(port + 1), 16, 0);
    if (lfd < 0 || clo < 0)
        return 1;
    if (fcntl(clo, F_SETFD, FD_CLOEXEC) != 0)
        return fail("FD_CLOEXEC");
    tu_ready(PROG, port);
    int fd = tu_accept(lfd, timeout_ms);
    if (fd < 0)
        return fail("accept");
    if (echo(fd, true) != 0)
        return fail("first echo");
    int dfd = dup(fd);
    if (dfd < 0)
        return fail("dup");
    char spec[64], tmo[16];
    snprintf(spec, sizeof(spec), "%d,%d,%d,%d", lfd, fd, dfd, clo);
    snprintf(tmo, sizeof(tmo), "%d", timeout_ms / 1000);
    fflush(stdout);
    execl("/proc/self/exe", PROG, "--stage2", spec, "--timeout", tmo, (char *)NULL);
    return fail("exec");
}
