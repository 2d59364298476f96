/* tcp_send.c - copy standard input to one TCP connection, then half-close
 * and wait for the receiver to close (so the last byte was really
 * delivered).  Either connects (--addr) or accepts one connection (--listen).
 *
 *   tcp_send (--addr A | --listen) [--port P] [--timeout IDLE_SECONDS] < data
 *
 * Every wait is bounded by --timeout seconds without progress (default 30).
 * Prints the byte count on stderr, and for a kernel socket Linux's count of
 * retransmitted bytes (TCP_INFO; the fault tests report it).  Exits 0 only
 * if every byte was written and the peer then closed cleanly (EOF).
 */
#include <errno.h>
#include <linux/tcp.h>
#include <signal.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tutil.h"

#define PROG "tcp_send"

int main(int argc, char **argv)
{
    const char *addr;
    uint16_t port;
    int idle_ms;
    tu_one_args(PROG, "< data", argc, argv, &addr, &port, &idle_ms);
    signal(SIGPIPE, SIG_IGN);

    int fd = tu_open_one(PROG, addr, port, idle_ms);
    if (fd < 0)
        return 1;

    static uint8_t buf[256 * 1024];
    unsigned long long sent = 0;
    uint64_t t0 = tu_now_ns();
    for (;;) {
        ssize_t r = read(STDIN_FILENO, buf, sizeof(buf));
        if (r < 0) {
            if (errno == EINTR)
                continue;
            fprintf(stderr, PROG ": reading stdin: %s\n", strerror(errno));
            return 1;
        }
        if (r == 0)
            break;
        int w = tu_write_all(fd, buf, (size_t)r, idle_ms);
        if (w < 0) {
            fprintf(stderr, PROG ": write after %llu bytes: %s\n", sent, tu_errname(-w));
            return 1;
        }
        sent += (unsigned long long)r;
    }
    if (shutdown(fd, SHUT_WR) < 0) {
        fprintf(stderr, PROG ": shutdown: %s\n", tu_errname(errno));
        return 1;
    }
    /* Wait for the receiver's EOF; it sends nothing else. */
    ssize_t r;
    unsigned long long extra = 0;
    while ((r = tu_read_wait(fd, buf, sizeof(buf), idle_ms)) > 0)
        extra += (unsigned long long)r;
    double secs = (double)(tu_now_ns() - t0) / 1e9;
    if (r < 0) {
        fprintf(stderr, PROG ": sent %llu bytes, then waiting for EOF: %s\n", sent,
                tu_errname((int)-r));
        return 1;
    }
    /* Only a kernel socket that carried the data has these counters. */
    struct tcp_info ti;
    socklen_t tl = sizeof(ti);
    memset(&ti, 0, sizeof(ti));
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &tl) == 0 &&
        tl >= offsetof(struct tcp_info, tcpi_bytes_retrans) +
                  sizeof(ti.tcpi_bytes_retrans) &&
        ti.tcpi_bytes_sent > 0)
        fprintf(stderr, PROG ": kernel tcp_info: bytes_sent %llu bytes_retrans %llu\n",
                (unsigned long long)ti.tcpi_bytes_sent,
                (unsigned long long)ti.tcpi_bytes_retrans);
    close(fd);
    fprintf(stderr, PROG ": sent %llu bytes in %.2f s (%.1f MB/s), peer closed%s\n", sent,
            secs, secs > 0 ? (double)sent / secs / 1e6 : 0.0,
            extra ? " after sending unexpected bytes" : "");
    return extra ? 1 : 0;
}
