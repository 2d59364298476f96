/* tcp_duplex.c - send and receive on one TCP connection at once, until it
 * fails: a non-blocking poll loop writes zeros whenever the socket is
 * writable and reads (and discards) whenever it is readable.  Both sides
 * of a duplex pair always have bytes in flight, so when the peer vanishes
 * each side's retransmission timeout, not luck, ends the connection
 * (t_peer_gone.sh).
 *
 *   tcp_duplex (--addr A | --listen) [--port P] [--timeout IDLE_SECONDS]
 *
 * Prints the byte counts and how the connection ended on stderr.  Exits 1
 * when the connection fails (the errno name is printed), 1 on EOF, 3 after
 * --timeout seconds (default 30) without progress either way.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tutil.h"

#define PROG "tcp_duplex"

int main(int argc, char **argv)
{
    const char *addr;
    uint16_t port;
    int idle_ms;
    tu_one_args(PROG, "", argc, argv, &addr, &port, &idle_ms);
    signal(SIGPIPE, SIG_IGN);

    int fd = tu_open_one(PROG, addr, port, idle_ms);
    if (fd < 0)
        return 1;
    if (tu_set_nonblock(fd, 1) < 0) {
        fprintf(stderr, PROG ": non-blocking: %s\n", tu_errname(errno));
        return 1;
    }

    static uint8_t out[64 * 1024], in[256 * 1024];
    unsigned long long sent = 0, got = 0;
    const char *how = NULL;
    int rc = 1;
    while (how == NULL) {
        struct pollfd p = {.fd = fd, .events = POLLIN | POLLOUT};
        int n = poll(&p, 1, idle_ms);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            how = n == 0 ? "no progress (--timeout)" : tu_errname(errno);
            rc = n == 0 ? 3 : 1;
            break;
        }
        if (p.revents & (POLLIN | POLLERR | POLLHUP)) {
            ssize_t r = read(fd, in, sizeof(in));
            if (r > 0)
                got += (unsigned long long)r;
            else if (r == 0)
                how = "EOF";
            else if (errno != EAGAIN && errno != EINTR)
                how = tu_errname(errno);
        }
        if (how == NULL && (p.revents & POLLOUT)) {
            ssize_t w = write(fd, out, sizeof(out));
            if (w > 0)
                sent += (unsigned long long)w;
            else if (w < 0 && errno != EAGAIN && errno != EINTR)
                how = tu_errname(errno);
        }
    }
    fprintf(stderr, PROG ": sent %llu bytes, received %llu bytes, then %s\n", sent, got,
            how);
    close(fd);
    return rc;
}
