/* tcp_recv.c - read one TCP connection to EOF and write the bytes to
 * standard output, then close.  Either accepts one connection (--listen) or
 * connects (--addr).
 *
 *   tcp_recv (--addr A | --listen) [--port P] [--timeout IDLE_SECONDS] > data
 *
 * Every wait is bounded by --timeout seconds without progress (default 30).
 * Prints the byte count on stderr; exits 0 only on a clean EOF.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tutil.h"

#define PROG "tcp_recv"

int main(int argc, char **argv)
{
    const char *addr;
    uint16_t port;
    int idle_ms;
    tu_one_args(PROG, "> data", argc, argv, &addr, &port, &idle_ms);
    signal(SIGPIPE, SIG_IGN);

    int fd = tu_open_one(PROG, addr, port, idle_ms);
    if (fd < 0)
        return 1;

    static uint8_t buf[256 * 1024];
    unsigned long long got = 0;
    uint64_t t0 = tu_now_ns();
    ssize_t r;
    while ((r = tu_read_wait(fd, buf, sizeof(buf), idle_ms)) > 0) {
        int w = tu_write_all(STDOUT_FILENO, buf, (size_t)r, idle_ms);
        if (w < 0) {
            fprintf(stderr, PROG ": writing stdout: %s\n", strerror(-w));
            return 1;
        }
        got += (unsigned long long)r;
    }
    double secs = (double)(tu_now_ns() - t0) / 1e9;
    if (r < 0) {
        fprintf(stderr, PROG ": read after %llu bytes: %s\n", got, tu_errname((int)-r));
        return 1;
    }
    close(fd);
    fprintf(stderr, PROG ": received %llu bytes in %.2f s (%.1f MB/s), then EOF\n", got,
            secs, secs > 0 ? (double)got / secs / 1e6 : 0.0);
    return 0;
}
