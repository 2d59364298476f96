/* sem_fortify.c - a program built as distributions build them
 * (-O2 -D_FORTIFY_SOURCE=2) reads its socket through glibc's checked entry
 * points (__read_chk, __recv_chk, __recvfrom_chk, __poll_chk, __ppoll_chk,
 * __fdelt_chk for FD_SET); under tasd those must reach the shim, and their
 * overflow checks must still abort the program.
 *
 *   sem_fortify --addr PEER --port P   (the peer is sem_io --peer: "echo")
 * Exit 0 when every byte came back equal and every overflow aborted.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tutil.h"

#define PROG "sem_fortify"
#define N    3000

static int failures;
static volatile size_t extra = 1; /* sizes the compiler cannot see */
static volatile nfds_t one = 1;

static void fail(const char *what)
{
    failures++;
    fprintf(stderr, "%s: FAIL: %s (errno %s)\n", PROG, what,
            strerrorname_np(errno) ?: "?");
}

/* Wait for readability through the fortified poll/ppoll/select. */
static int wait_in(int fd, int how)
{
    struct pollfd p[1] = {{.fd = fd, .events = POLLIN}};
    struct timespec ts = {5, 0};
    fd_set r;
    struct timeval tv = {5, 0};
    switch (how) {
    case 0:
        return poll(p, one, 5000) == 1;
    case 1:
        return ppoll(p, one, &ts, NULL) == 1;
    default:
        FD_ZERO(&r);
        FD_SET(fd, &r);
        return select(fd + 1, &r, NULL, NULL, &tv) == 1 && FD_ISSET(fd, &r);
    }
}

/* One echo round: send N pattern bytes, read them back with the call
 * `how` (0 read, 1 recv, 2 recvfrom) after waiting with poll/ppoll/select. */
static void round_trip(int fd, int how, uint64_t seed)
{
    uint8_t want[N], got[N];
    char buf[1024];
    size_t have = 0;
    tu_pattern(want, N, seed);
    if (tu_write_all(fd, want, N, 5000) != 0)
        return fail("write");
    for (int i = 0; i < 1000 && have < N; i++) {
        if (!wait_in(fd, (i + how) % 3))
            return fail("waiting for the echo");
        size_t n =
            (N - have < sizeof(buf) ? N - have : sizeof(buf)) * extra; /* unproven */
        ssize_t r = how == 0   ? read(fd, buf, n)
                    : how == 1 ? recv(fd, buf, n, 0)
                               : recvfrom(fd, buf, n, 0, NULL, NULL);
        if (r <= 0)
            return fail(how == 0 ? "read" : how == 1 ? "recv" : "recvfrom");
        memcpy(got + have, buf, (size_t)r);
        have += (size_t)r;
    }
    if (have != N || memcmp(got, want, N) != 0)
        fail("echoed bytes differ");
}

/* In a child: an overflow the checks must catch (SIGABRT). */
static void must_abort(const char *what, int fd, int how)
{
    pid_t pid = fork();
    if (pid == 0) {
        char buf[64];
        struct pollfd p[1] = {{.fd = fd, .events = POLLIN}};
        fd_set set;
        signal(SIGALRM, SIG_DFL);
        alarm(5);
        FD_ZERO(&set);
        switch (how) {
        case 0:
            (void)!read(fd, buf, sizeof(buf) + extra);
            break;
        case 1:
            (void)!recv(fd, buf, sizeof(buf) + extra, 0);
            break;
        case 2:
            (void)!poll(p, one + 1, 0);
            break;
        default:
            FD_SET(FD_SETSIZE + (int)extra, &set);
            break;
        }
        _exit(0);
    }
    int st = 0;
    if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFSIGNALED(st) ||
        WTERMSIG(st) != SIGABRT) {
        fprintf(stderr, "%s: %s: status %#x\n", PROG, what, st);
        fail(what);
    }
}

int main(int argc, char **argv)
{
    if (argc != 5 || strcmp(argv[1], "--addr") != 0 || strcmp(argv[3], "--port") != 0) {
        fprintf(stderr, "usage: %s --addr PEER --port P\n", PROG);
        return 2;
    }
    struct sockaddr_in sa;
    tu_addr(PROG, argv[2], (uint16_t)tu_num(PROG, "--port", argv[4], 1, 65535), &sa);
    alarm(60);
    int fd = tu_connect(&sa, 5000);
    if (fd < 0 || tu_write_all(fd, "echo\n", 5, 5000) != 0) {
        fprintf(stderr, "%s: cannot reach the echo peer\n", PROG);
        return 1;
    }
    for (int i = 0; i < 9; i++)
        round_trip(fd, i % 3, (uint64_t)i + 1);
    must_abort("read beyond the buffer aborts (__read_chk)", fd, 0);
    must_abort("recv beyond the buffer aborts (__recv_chk)", fd, 1);
    must_abort("poll beyond the array aborts (__poll_chk)", fd, 2);
    must_abort("FD_SET(1025) aborts (__fdelt_chk)", fd, 3);
    round_trip(fd, 0, 99); /* the connection is still fine in the parent */
    close(fd);
    printf("%s: %s\n", PROG, failures == 0 ? "ok" : "FAILED");
    return failures == 0 ? 0 : 1;
}
