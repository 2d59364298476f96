/* close_test.c - one side of a connection-teardown test.
 *
 * Both sides run this program: one with --role server (accepts one
 * connection), the other with --role client (connects).  The client sends
 * "hello\n", the server echoes it back, so that neither side has unread
 * bytes; when the server is to close, the client then sends one more byte
 * ("k") that the server reads, so the server closes only once the client has
 * consumed the echo.  Then the side named by --closer closes:
 *   --how fin  close() (the peer must see EOF: read returns 0)
 *   --how rst  SO_LINGER {1, 0} then close() (the peer must see ECONNRESET
 *              on read, then EPIPE or ECONNRESET on write)
 *   --how late close() as with fin; the peer reads EOF and then writes on:
 *              the closed side has nobody to read that and answers with
 *              RST, so a later write fails with EPIPE or ECONNRESET
 * With --closer none neither side closes: after the hello exchange both
 * observe, and something outside (the test stopping tasd) ends the
 * connection; --how says what each side must see.
 * and the other side (the observer) reports what it saw.  Each side prints
 * what it did or saw and exits 0 only if that was the expected result.
 *
 *   close_test --role server|client --closer server|client|none --how fin|rst|late
 *              [--addr A] [--port P] [--timeout SECONDS]
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tutil.h"

#define PROG      "close_test"
#define HELLO     "hello\n"
#define HELLO_LEN 6

static const char *role = "?";

static int fail(const char *what, int err)
{
    fprintf(stderr, PROG " %s: FAILED: %s%s%s\n", role, what, err ? ": " : "",
            err ? tu_errname(err) : "");
    return 1;
}

/* Read exactly HELLO_LEN bytes and check them. */
static int read_hello(int fd, int timeout_ms)
{
    char buf[HELLO_LEN];
    size_t got = 0;
    while (got < HELLO_LEN) {
        ssize_t r = tu_read_wait(fd, buf + got, HELLO_LEN - got, timeout_ms);
        if (r < 0)
            return fail("reading hello", (int)-r);
        if (r == 0)
            return fail("EOF before hello", 0);
        got += (size_t)r;
    }
    if (memcmp(buf, HELLO, HELLO_LEN) != 0)
        return fail("hello has wrong bytes", 0);
    return 0;
}

static int do_close(int fd, bool rst)
{
    if (rst) {
        struct linger lg = {.l_onoff = 1, .l_linger = 0};
        if (setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) < 0)
            return fail("setsockopt SO_LINGER", errno);
    }
    if (close(fd) < 0)
        return fail("close", errno);
    fprintf(stderr, PROG " %s: closed the connection with %s\n", role,
            rst ? "RST (SO_LINGER 0)" : "FIN");
    return 0;
}

/* After EOF, write until the closed side's RST makes a write fail. */
static int write_on(int fd, int timeout_ms)
{
    for (int waited = 0; waited < timeout_ms; waited += 100) {
        if (write(fd, "late data\n", 10) < 0) {
            int err = errno;
            if (err != EPIPE && err != ECONNRESET)
                return fail("write after EOF: expected EPIPE or ECONNRESET", err);
            fprintf(stderr, PROG " %s: saw EOF, wrote on, then %s (the peer reset)\n", role,
                    tu_errname(err));
            close(fd);
            return 0;
        }
        usleep(100000);
    }
    return fail("writes after EOF kept succeeding: the closed side never reset", 0);
}

static int observe(int fd, bool rst, bool late, int timeout_ms)
{
    char buf[64];
    ssize_t r = tu_read_wait(fd, buf, sizeof(buf), timeout_ms);
    if (r == -ETIMEDOUT)
        return fail("nothing seen: neither EOF nor an error before the timeout", 0);
    if (r > 0)
        return fail("unexpected data after hello", 0);
    if (!rst) {
        if (r < 0)
            return fail("read: expected EOF, got an error", (int)-r);
        if (late)
            return write_on(fd, timeout_ms);
        fprintf(stderr, PROG " %s: saw EOF (read returned 0)\n", role);
        close(fd);
        return 0;
    }
    if (r == 0)
        return fail("read: expected ECONNRESET, got EOF", 0);
    if (r != -ECONNRESET)
        return fail("read: expected ECONNRESET", (int)-r);
    ssize_t w = write(fd, "x", 1);
    int werr = w < 0 ? errno : 0;
    if (w >= 0)
        return fail("write after reset succeeded", 0);
    if (werr != EPIPE && werr != ECONNRESET)
        return fail("write after reset: expected EPIPE or ECONNRESET", werr);
    fprintf(stderr, PROG " %s: saw ECONNRESET on read, then %s on write\n", role,
            tu_errname(werr));
    close(fd);
    return 0;
}

static void usage(void)
{
    fprintf(stderr, "usage: " PROG " --role server|client --closer server|client|none "
                    "--how fin|rst|late [--addr A] [--port P] [--timeout S]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"role", required_argument, NULL, 'r'}, {"closer", required_argument, NULL, 'c'},
        {"how", required_argument, NULL, 'w'},  {"addr", required_argument, NULL, 'a'},
        {"port", required_argument, NULL, 'p'}, {"timeout", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},       {NULL, 0, NULL, 0},
    };
    const char *closer = NULL, *how = NULL, *addr = NULL;
    uint16_t port = 7002;
    int timeout_ms = 10000;
    int o;
    role = NULL;
    while ((o = getopt_long(argc, argv, "r:c:w:a:p:t:h", opts, NULL)) != -1) {
        switch (o) {
        case 'r':
            role = optarg;
            break;
        case 'c':
            closer = optarg;
            break;
        case 'w':
            how = optarg;
            break;
        case 'a':
            addr = optarg;
            break;
        case 'p':
            port = (uint16_t)tu_num(PROG, "--port", optarg, 1, 65535);
            break;
        case 't':
            timeout_ms = (int)tu_num(PROG, "--timeout", optarg, 1, 3600) * 1000;
            break;
        default:
            usage();
        }
    }
    if (role == NULL || closer == NULL || how == NULL ||
        (strcmp(role, "server") != 0 && strcmp(role, "client") != 0) ||
        (strcmp(closer, "server") != 0 && strcmp(closer, "client") != 0 &&
         strcmp(closer, "none") != 0) ||
        (strcmp(how, "fin") != 0 && strcmp(how, "rst") != 0 && strcmp(how, "late") != 0))
        usage();
    bool server = strcmp(role, "server") == 0;
    bool rst = strcmp(how, "rst") == 0, late = strcmp(how, "late") == 0;
    bool i_close = strcmp(role, closer) == 0;
    bool nobody = strcmp(closer, "none") == 0;
    if (!server && addr == NULL)
        usage();
    signal(SIGPIPE, SIG_IGN);

    int fd;
    if (server) {
        int lfd = tu_listen(port, 16, 0);
        if (lfd < 0)
            return fail("listen", -lfd);
        tu_ready(PROG, port);
        fd = tu_accept(lfd, timeout_ms);
        close(lfd);
        if (fd < 0)
            return fail("accept", -fd);
        if (read_hello(fd, timeout_ms) != 0)
            return 1;
        int w = tu_write_all(fd, HELLO, HELLO_LEN, timeout_ms);
        if (w < 0)
            return fail("writing hello", -w);
        if (i_close) {
            char k;
            ssize_t r = tu_read_wait(fd, &k, 1, timeout_ms);
            if (r != 1 || k != 'k')
                return fail("waiting for the client's go-ahead", r < 0 ? (int)-r : 0);
        }
    } else {
        struct sockaddr_in sa;
        tu_addr(PROG, addr, port, &sa);
        fd = tu_connect(&sa, timeout_ms);
        if (fd < 0)
            return fail("connect", -fd);
        int w = tu_write_all(fd, HELLO, HELLO_LEN, timeout_ms);
        if (w < 0)
            return fail("writing hello", -w);
        if (read_hello(fd, timeout_ms) != 0)
            return 1;
        if (!i_close && !nobody) {
            w = tu_write_all(fd, "k", 1, timeout_ms);
            if (w < 0)
                return fail("writing the go-ahead", -w);
        }
    }
    return i_close ? do_close(fd, rst) : observe(fd, rst, late, timeout_ms);
}
