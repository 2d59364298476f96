/* sem_io.c - the I/O calls of a TCP socket behave as on Linux: recv flags
 * (MSG_PEEK, MSG_DONTWAIT, MSG_WAITALL, MSG_TRUNC, MSG_OOB, MSG_ERRQUEUE),
 * SIGPIPE/EPIPE/MSG_NOSIGNAL, many and empty iovecs, sendfile, splice,
 * copy_file_range, sendmmsg/recvmmsg, fcntl/ioctl, SO_RCVTIMEO/SO_SNDTIMEO,
 * SO_LINGER with a zero timeout, SO_ERROR after a refused connect,
 * close_range/closefrom, AF_INET6 (dual stack) sockets, and SO_REUSEPORT
 * listeners sharing a port.
 *
 * One program, three roles:
 *   sem_io --peer --port P            the Linux side (ns B): accepts, reads
 *                                     the case name (one line) and plays
 *                                     its part; one child per connection
 *   sem_io --case NAME --addr A ...   the program under test (ns A, under
 *                                     tasd or Linux): connects, checks,
 *                                     exits 0 only if every check held
 *   sem_io --reuseport-serve ...      listeners sharing a port
 *   sem_io --reuseport-client ...     many connections to them
 * Every wait is bounded (poll timeouts, alarm()).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <linux/sockios.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tutil.h"

#define PROG    "sem_io"
#define WAIT_MS 5000

static int failures;
static const char *mode = "tasd"; /* TAS_TEST_MODE: a few answers differ */
static struct sockaddr_in peer_sa;
static const char *tmpdir = "/tmp";

#define CHECK(cond, ...)                                                                 \
    do {                                                                                 \
        if (!(cond)) {                                                                   \
            failures++;                                                                  \
            fprintf(stderr, "%s:%d: FAIL: ", __func__, __LINE__);                        \
            fprintf(stderr, __VA_ARGS__);                                                \
            fprintf(stderr, " (errno %s)\n", strerrorname_np(errno) ?: "?");             \
        }                                                                                \
    } while (0)

/* r == -1 with errno e */
#define CHECK_ERR(r, e, what)                                                            \
    CHECK((r) == -1 && errno == (e), "%s: got %zd, want -1/%s", what, (ssize_t)(r),      \
          strerrorname_np(e))

static const char *ename(int e)
{
    return e == 0 ? "0" : (strerrorname_np(e) ?: "?");
}

/* ------------------------------------------------------------ helpers */

static ssize_t read_full(int fd, void *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        ssize_t r = tu_read_wait(fd, (char *)buf + got, len - got, WAIT_MS);
        if (r <= 0)
            return got > 0 ? (ssize_t)got : r;
        got += (size_t)r;
    }
    return (ssize_t)got;
}

/* Connect to the peer and name the case. */
static int open_case(const char *name)
{
    int fd = tu_connect(&peer_sa, WAIT_MS);
    if (fd < 0) {
        fprintf(stderr, "%s: connect: %s\n", name, ename(-fd));
        return -1;
    }
    char line[64];
    int n = snprintf(line, sizeof(line), "%s\n", name);
    if (tu_write_all(fd, line, (size_t)n, WAIT_MS) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Wait until FIONREAD says at least n bytes are there. */
static bool wait_inq(int fd, int n)
{
    for (int i = 0; i < WAIT_MS / 10; i++) {
        int q = 0;
        if (ioctl(fd, FIONREAD, &q) == 0 && q >= n)
            return true;
        usleep(10000);
    }
    return false;
}

static bool wait_readable(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return poll(&p, 1, WAIT_MS) == 1;
}

/* ------------------------------------------------------------ recv flags */

static void case_peek(void)
{
    int fd = open_case("hello");
    if (fd < 0)
        return failures++, (void)0;
    char b[64], c[64];
    CHECK(wait_inq(fd, 12), "12 bytes never arrived");
    ssize_t r = recv(fd, b, 5, MSG_PEEK);
    CHECK(r == 5 && memcmp(b, "hello", 5) == 0, "MSG_PEEK 5: %zd", r);
    r = recv(fd, b, sizeof(b), MSG_PEEK | MSG_DONTWAIT);
    CHECK(r == 12 && memcmp(b, "hello, world", 12) == 0, "MSG_PEEK|MSG_DONTWAIT: %zd", r);
    char p1[3], p2[4];
    struct iovec v[2] = {{p1, 3}, {p2, 4}};
    struct msghdr m = {.msg_iov = v, .msg_iovlen = 2};
    r = recvmsg(fd, &m, MSG_PEEK);
    CHECK(r == 7 && memcmp(p1, "hel", 3) == 0 && memcmp(p2, "lo, ", 4) == 0,
          "recvmsg MSG_PEEK: %zd", r);
    r = recvfrom(fd, c, sizeof(c), MSG_PEEK, NULL, NULL);
    CHECK(r == 12 && memcmp(c, b, 12) == 0, "recvfrom MSG_PEEK: %zd", r);
    r = read(fd, c, sizeof(c));
    CHECK(r == 12 && memcmp(c, "hello, world", 12) == 0, "read after peeks: %zd", r);
    r = recv(fd, b, sizeof(b), MSG_PEEK | MSG_DONTWAIT);
    CHECK_ERR(r, EAGAIN, "MSG_PEEK|MSG_DONTWAIT with nothing left");
    close(fd);
}

static void case_dontwait(void)
{
    int fd = open_case("sink");
    if (fd < 0)
        return failures++, (void)0;
    char b[16];
    ssize_t r = recv(fd, b, sizeof(b), MSG_DONTWAIT);
    CHECK_ERR(r, EAGAIN, "recv MSG_DONTWAIT, blocking socket, no data");
    r = recvfrom(fd, b, sizeof(b), MSG_DONTWAIT, NULL, NULL);
    CHECK_ERR(r, EAGAIN, "recvfrom MSG_DONTWAIT");
    struct iovec v = {b, sizeof(b)};
    struct msghdr m = {.msg_iov = &v, .msg_iovlen = 1};
    r = recvmsg(fd, &m, MSG_DONTWAIT);
    CHECK_ERR(r, EAGAIN, "recvmsg MSG_DONTWAIT");
    r = send(fd, "x", 1, MSG_DONTWAIT);
    CHECK(r == 1, "send MSG_DONTWAIT with room: %zd", r);
    int fl = fcntl(fd, F_GETFL);
    CHECK(fl >= 0 && !(fl & O_NONBLOCK), "MSG_DONTWAIT left the socket blocking");
    close(fd);
}

static void case_waitall(void)
{
    int fd = open_case("waitall");
    if (fd < 0)
        return failures++, (void)0;
    size_t n = 200000;
    uint8_t *b = malloc(n), *want = malloc(n);
    tu_pattern(want, n, 7);
    ssize_t r = recv(fd, b, n, MSG_WAITALL);
    CHECK(r == (ssize_t)n && memcmp(b, want, n) == 0,
          "MSG_WAITALL of 200000 bytes sent in 20 pieces: %zd", r);
    r = recv(fd, b, 1000, MSG_WAITALL);
    CHECK(r == 500, "MSG_WAITALL 1000 with 500 before EOF: %zd", r);
    r = recv(fd, b, 1000, MSG_WAITALL);
    CHECK(r == 0, "then EOF: %zd", r);
    free(b);
    free(want);
    close(fd);
}

/* MSG_PEEK|MSG_WAITALL waits for the whole length too (Linux). */
static void case_peekwaitall(void)
{
    int fd = open_case("peekwaitall"); /* fits a receive buffer: it is not read */
    if (fd < 0)
        return failures++, (void)0;
    size_t n = 50000;
    uint8_t *b = malloc(n), *want = malloc(n);
    tu_pattern(want, n, 7);
    ssize_t r = recv(fd, b, n, MSG_PEEK | MSG_WAITALL);
    CHECK(r == (ssize_t)n && memcmp(b, want, n) == 0,
          "MSG_PEEK|MSG_WAITALL of 50000 bytes sent in 10 pieces: %zd", r);
    memset(b, 0, n);
    r = recv(fd, b, n, MSG_DONTWAIT);
    CHECK(r == (ssize_t)n && memcmp(b, want, n) == 0, "then the same bytes: %zd", r);
    r = recv(fd, b, 1000, MSG_PEEK | MSG_WAITALL);
    CHECK(r == 500, "MSG_PEEK|MSG_WAITALL 1000 with 500 before EOF: %zd", r);
    r = recv(fd, b, 1000, 0);
    CHECK(r == 500 && memcmp(b, want, 500) == 0, "then those 500: %zd", r);
    free(b);
    free(want);
    close(fd);
}

static void case_trunc(void)
{
    int fd = open_case("pattern1000");
    if (fd < 0)
        return failures++, (void)0;
    uint8_t want[1000], b[1000];
    tu_pattern(want, sizeof(want), 3);
    CHECK(wait_inq(fd, 1000), "1000 bytes never arrived");
    ssize_t r = recv(fd, NULL, 400, MSG_TRUNC);
    CHECK(r == 400, "MSG_TRUNC 400 (discard): %zd", r);
    r = recv(fd, b, 10, MSG_TRUNC | MSG_PEEK);
    CHECK(r == 10, "MSG_TRUNC|MSG_PEEK 10: %zd", r);
    r = recv(fd, b, sizeof(b), 0);
    CHECK(r == 600 && memcmp(b, want + 400, 600) == 0, "the rest after discarding: %zd",
          r);
    close(fd);
}

static void case_oob(void)
{
    int fd = open_case("pattern1000");
    if (fd < 0)
        return failures++, (void)0;
    char b[16];
    CHECK(wait_inq(fd, 1000), "data never arrived");
    ssize_t r = recv(fd, b, sizeof(b), MSG_OOB);
    CHECK_ERR(r, EINVAL, "recv MSG_OOB without urgent data");
    r = recv(fd, b, sizeof(b), MSG_ERRQUEUE);
    CHECK_ERR(r, EAGAIN, "recv MSG_ERRQUEUE (empty error queue)");
    int q = 0;
    CHECK(ioctl(fd, FIONREAD, &q) == 0 && q == 1000, "data untouched by them: %d", q);
    r = send(fd, "u", 1, MSG_OOB);
    if (strcmp(mode, "linux") == 0)
        CHECK(r == 1, "Linux sends urgent data: %zd", r);
    else /* documented: tasd has no urgent data */
        CHECK_ERR(r, EOPNOTSUPP, "send MSG_OOB under tasd");
    close(fd);
}

/* ------------------------------------------------------------ SIGPIPE */

static volatile sig_atomic_t n_sigpipe;
static void on_sigpipe(int sig)
{
    (void)sig;
    n_sigpipe++;
}

enum pipe_how { PIPE_DEFAULT, PIPE_IGNORE, PIPE_HANDLER, PIPE_NOSIGNAL };

/* In a child: connect, let the peer close (RST or FIN), then write until
 * EPIPE.  Exit 0 when EPIPE came (and, with a handler, one SIGPIPE per
 * EPIPE), 3 when it never came. */
static void pipe_child(const char *peer_case, enum pipe_how how, bool use_send)
{
    alarm(20);
    struct sigaction sa = {0};
    sa.sa_handler = how == PIPE_IGNORE    ? SIG_IGN
                    : how == PIPE_HANDLER ? on_sigpipe
                                          : SIG_DFL;
    sigaction(SIGPIPE, &sa, NULL);
    int fd = open_case(peer_case);
    if (fd < 0)
        _exit(4);
    char b[8];
    ssize_t r = tu_read_wait(fd, b, sizeof(b), WAIT_MS); /* the peer's close */
    if (r > 0)
        _exit(5);
    int epipes = 0;
    for (int i = 0; i < 200 && epipes == 0; i++) {
        if (use_send)
            r = send(fd, "data", 4, how == PIPE_NOSIGNAL ? MSG_NOSIGNAL : 0);
        else
            r = write(fd, "data", 4);
        if (r < 0 && errno == EPIPE)
            epipes++;
        else if (r < 0 && errno != ECONNRESET)
            _exit(6);
        else
            usleep(10000);
    }
    if (epipes == 0)
        _exit(3);
    if (how == PIPE_HANDLER && n_sigpipe != epipes)
        _exit(7);
    if (how != PIPE_HANDLER && n_sigpipe != 0)
        _exit(8);
    _exit(0);
}

static void pipe_case(const char *what, const char *peer_case, enum pipe_how how,
                      bool use_send)
{
    pid_t pid = fork();
    if (pid == 0)
        pipe_child(peer_case, how, use_send);
    int st = 0;
    CHECK(pid > 0 && waitpid(pid, &st, 0) == pid, "%s: fork/wait", what);
    if (how == PIPE_DEFAULT)
        CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGPIPE,
              "%s: want killed by SIGPIPE, got %s %d", what,
              WIFSIGNALED(st) ? "signal" : "exit",
              WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
    else
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0,
              "%s: want EPIPE without death, got %s %d", what,
              WIFSIGNALED(st) ? "signal" : "exit",
              WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
}

static void case_sigpipe(void)
{
    pipe_case("write after RST, default action", "rst", PIPE_DEFAULT, false);
    pipe_case("write after FIN, default action", "fin", PIPE_DEFAULT, false);
    pipe_case("send after RST, default action", "rst", PIPE_DEFAULT, true);
    pipe_case("write after RST, SIG_IGN", "rst", PIPE_IGNORE, false);
    pipe_case("write after FIN, handler counts one SIGPIPE per EPIPE", "fin",
              PIPE_HANDLER, false);
    pipe_case("send MSG_NOSIGNAL after RST, default action", "rst", PIPE_NOSIGNAL, true);
    pipe_case("send MSG_NOSIGNAL after FIN, default action", "fin", PIPE_NOSIGNAL, true);
}

/* ------------------------------------------------------------ iovecs */

/* iovecs over buf[off..len) cut in pieces of length (i % mod) * unit
 * (zero-length ones included); returns how many (<= max). */
static int cut(struct iovec *v, int max, uint8_t *buf, size_t off, size_t len, int mod,
               int unit)
{
    int n = 0;
    size_t pos = 0;
    for (int i = 0; n < max && pos < len; i++) {
        size_t piece = (size_t)((i % mod) * unit);
        if (pos + piece > len)
            piece = len - pos;
        if (pos + piece < off || (pos + piece == off && off > 0)) {
            pos += piece;
            continue;
        }
        size_t start = pos < off ? off : pos;
        v[n].iov_base = buf + start;
        v[n].iov_len = pos + piece - start;
        n++;
        pos += piece;
    }
    return n;
}

static void case_iov(void)
{
    int fd = open_case("echo");
    if (fd < 0)
        return failures++, (void)0;
    static struct iovec v[IOV_MAX + 1];
    static uint8_t src[IOV_MAX * 60], dst[IOV_MAX * 60];
    size_t len = 0;
    for (int i = 0; i < IOV_MAX; i++)
        len += (size_t)((i % 7) * 13);
    tu_pattern(src, len, 11);

    for (int round = 0; round < 2; round++) { /* writev/readv, sendmsg/recvmsg */
        int n = cut(v, IOV_MAX, src, 0, len, 7, 13);
        CHECK(n == IOV_MAX, "want %d iovecs, cut %d", IOV_MAX, n);
        struct msghdr m = {.msg_iov = v, .msg_iovlen = (size_t)n};
        ssize_t r = round == 0 ? writev(fd, v, n) : sendmsg(fd, &m, 0);
        CHECK(r == (ssize_t)len, "%s of %d iovecs: %zd of %zu",
              round ? "sendmsg" : "writev", n, r, len);
        memset(dst, 0, len);
        size_t got = 0;
        for (int i = 0; i < 1000 && got < len; i++) {
            n = cut(v, IOV_MAX, dst, got, len, 5, 11);
            if (!wait_readable(fd))
                break;
            m.msg_iovlen = (size_t)n;
            r = round == 0 ? readv(fd, v, n) : recvmsg(fd, &m, 0);
            if (r <= 0)
                break;
            got += (size_t)r;
        }
        CHECK(got == len && memcmp(src, dst, len) == 0,
              "%s: %zu of %zu bytes back, equal %d", round ? "recvmsg" : "readv", got,
              len, memcmp(src, dst, len) == 0);
    }
    for (int i = 0; i <= IOV_MAX; i++)
        v[i] = (struct iovec){src, 1};
    struct msghdr m = {.msg_iov = v, .msg_iovlen = IOV_MAX + 1};
    CHECK_ERR(writev(fd, v, IOV_MAX + 1), EINVAL, "writev IOV_MAX+1");
    CHECK_ERR(readv(fd, v, IOV_MAX + 1), EINVAL, "readv IOV_MAX+1");
    volatile int minus_one = -1; /* a bad count, hidden from the compiler */
    CHECK_ERR(writev(fd, v, minus_one), EINVAL, "writev -1");
    CHECK_ERR(sendmsg(fd, &m, 0), EMSGSIZE, "sendmsg IOV_MAX+1");
    CHECK_ERR(recvmsg(fd, &m, MSG_DONTWAIT), EMSGSIZE, "recvmsg IOV_MAX+1");
    for (int i = 0; i < 8; i++)
        v[i] = (struct iovec){src, 0};
    CHECK(writev(fd, v, 8) == 0, "writev of zero-length iovecs returns 0");
    CHECK(readv(fd, v, 8) == 0, "readv of zero-length iovecs returns 0");
    CHECK(write(fd, src, 0) == 0, "write of 0 bytes returns 0");
    close(fd);
}

/* ------------------------------------------------------------ files */

static int make_file(const char *name, size_t len, uint64_t seed, char *path)
{
    snprintf(path, PATH_MAX, "%s/%s", tmpdir, name);
    uint8_t *b = malloc(len);
    tu_pattern(b, len, seed);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || tu_write_all(fd, b, len, WAIT_MS) != 0) {
        free(b);
        return -1;
    }
    free(b);
    lseek(fd, 0, SEEK_SET);
    return fd;
}

/* Read n echoed bytes into the output file. */
static bool echo_to(int sock, int out, size_t n)
{
    uint8_t b[65536];
    while (n > 0) {
        ssize_t r = tu_read_wait(sock, b, n < sizeof(b) ? n : sizeof(b), WAIT_MS);
        if (r <= 0 || tu_write_all(out, b, (size_t)r, WAIT_MS) != 0)
            return false;
        n -= (size_t)r;
    }
    return true;
}

/* The file (1 MiB + 123 bytes) goes out with sendfile() and comes back into
 * sendfile.out twice over: in 64-KiB calls without an offset pointer, then
 * with one; then a count beyond EOF from an offset near the end. */
static void case_sendfile(void)
{
    char path[PATH_MAX], opath[PATH_MAX];
    size_t size = (1 << 20) + 123;
    int f = make_file("sendfile.in", size, 21, path);
    snprintf(opath, sizeof(opath), "%s/sendfile.out", tmpdir);
    int out = open(opath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int fd = open_case("echo");
    if (f < 0 || out < 0 || fd < 0)
        return failures++, (void)0;
    size_t total = 0;
    for (int i = 0; i < 100; i++) { /* file position advances */
        ssize_t r = sendfile(fd, f, NULL, 65536);
        if (r <= 0) {
            CHECK(r == 0 && total == size, "sendfile without offset: %zd after %zu", r,
                  total);
            break;
        }
        CHECK(echo_to(fd, out, (size_t)r), "echo of %zd bytes", r);
        total += (size_t)r;
    }
    CHECK(lseek(f, 0, SEEK_CUR) == (off_t)size, "file position at EOF after sendfile");
    lseek(f, 100, SEEK_SET);
    off_t off = 0;
    total = 0;
    for (int i = 0; i < 100 && total < size; i++) { /* offset pointer: position kept */
        ssize_t r = sendfile(fd, f, &off, 65536);
        CHECK(r > 0 && off == (off_t)(total + (size_t)r), "sendfile with offset: %zd", r);
        if (r <= 0)
            break;
        CHECK(echo_to(fd, out, (size_t)r), "echo of %zd bytes", r);
        total += (size_t)r;
    }
    CHECK(lseek(f, 0, SEEK_CUR) == 100,
          "file position untouched by sendfile with offset");
    off = (off_t)size - 5000;
    ssize_t r = sendfile(fd, f, &off, 60000); /* beyond EOF */
    CHECK(r == 5000 && off == (off_t)size, "count beyond EOF: %zd (offset %lld)", r,
          (long long)off);
    if (r > 0)
        CHECK(echo_to(fd, out, (size_t)r), "echo of the tail");
    r = sendfile(fd, f, &off, 100);
    CHECK(r == 0, "at EOF: %zd", r);
    close(fd);
    close(out);
    close(f);
}

/* file -> pipe (kernel) -> tasd socket -> echo -> socket -> pipe -> file,
 * 64 KiB at a time; copy_file_range between files; the errors of splice
 * with a socket. */
static void case_splice(void)
{
    char path[PATH_MAX], opath[PATH_MAX], cpath[PATH_MAX];
    size_t size = (1 << 20) + 4567;
    int f = make_file("splice.in", size, 31, path);
    snprintf(opath, sizeof(opath), "%s/splice.out", tmpdir);
    int out = open(opath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int fd = open_case("echo");
    int p1[2], p2[2];
    if (f < 0 || out < 0 || fd < 0 || pipe(p1) != 0 || pipe(p2) != 0)
        return failures++, (void)0;
    size_t total = 0;
    for (int i = 0; i < 1000 && total < size; i++) {
        ssize_t n = splice(f, NULL, p1[1], NULL, 65536, 0);
        CHECK(n > 0, "splice file -> pipe: %zd", n);
        if (n <= 0)
            break;
        ssize_t moved = 0, back = 0, saved = 0;
        for (int j = 0; j < 1000 && moved < n; j++) {
            ssize_t r = splice(p1[0], NULL, fd, NULL, (size_t)(n - moved), 0);
            CHECK(r > 0, "splice pipe -> socket: %zd", r);
            if (r <= 0)
                break;
            moved += r;
        }
        for (int j = 0; j < 1000 && back < moved; j++) {
            if (!wait_readable(fd))
                break;
            ssize_t r = splice(fd, NULL, p2[1], NULL, (size_t)(moved - back), 0);
            CHECK(r > 0, "splice socket -> pipe: %zd", r);
            if (r <= 0)
                break;
            back += r;
            for (int k = 0; k < 1000 && saved < back; k++) {
                ssize_t w = splice(p2[0], NULL, out, NULL, (size_t)(back - saved), 0);
                if (w <= 0)
                    break;
                saved += w;
            }
        }
        CHECK(moved == n && back == n && saved == n, "chunk %d: %zd/%zd/%zd of %zd", i,
              moved, back, saved, n);
        if (saved != n)
            break;
        total += (size_t)n;
    }
    CHECK(total == size, "spliced %zu of %zu", total, size);

    /* errors, as Linux */
    loff_t off = 0;
    lseek(f, 0, SEEK_SET);
    CHECK_ERR(splice(f, NULL, fd, NULL, 100, 0), EINVAL,
              "splice file -> socket (no pipe)");
    CHECK(write(p1[1], "abc", 3) == 3, "fill pipe");
    CHECK_ERR(splice(p1[0], &off, fd, NULL, 3, 0), ESPIPE, "splice with a pipe offset");
    CHECK_ERR(splice(p1[0], NULL, fd, &off, 3, 0), EINVAL, "splice with a socket offset");
    CHECK(splice(p1[0], NULL, fd, NULL, 3, SPLICE_F_NONBLOCK) == 3, "splice nonblock 3");
    char abc[3];
    CHECK(read_full(fd, abc, 3) == 3 && memcmp(abc, "abc", 3) == 0, "the 3 bytes echoed");
    /* SPLICE_F_NONBLOCK is about the pipe; O_NONBLOCK about the socket */
    CHECK_ERR(splice(p1[0], NULL, fd, NULL, 10, SPLICE_F_NONBLOCK), EAGAIN,
              "splice from an empty pipe, SPLICE_F_NONBLOCK");
    CHECK(tu_set_nonblock(fd, 1) == 0, "O_NONBLOCK");
    CHECK_ERR(splice(fd, NULL, p2[1], NULL, 10, 0), EAGAIN,
              "splice from an empty non-blocking socket");
    CHECK(tu_set_nonblock(fd, 0) == 0, "blocking again");

    /* copy_file_range passes through for files; sockets are refused */
    snprintf(cpath, sizeof(cpath), "%s/copy.out", tmpdir);
    int c = open(cpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    loff_t in_off = 0;
    size_t copied = 0;
    for (int i = 0; i < 1000 && copied < size; i++) {
        ssize_t r = copy_file_range(f, &in_off, c, NULL, size - copied, 0);
        if (r <= 0)
            break;
        copied += (size_t)r;
    }
    CHECK(copied == size, "copy_file_range file -> file: %zu of %zu", copied, size);
    in_off = 0;
    CHECK_ERR(copy_file_range(f, &in_off, fd, NULL, 100, 0), EINVAL,
              "copy_file_range file -> socket");
    close(c);
    close(fd);
    close(out);
    close(f);
}

/* ------------------------------------------------------------ mmsg */

static void case_mmsg(void)
{
    int fd = open_case("echo");
    if (fd < 0)
        return failures++, (void)0;
    char *words[3] = {"one", "two!", "three"};
    struct iovec v[3];
    struct mmsghdr mm[3];
    memset(mm, 0, sizeof(mm));
    for (int i = 0; i < 3; i++) {
        v[i] = (struct iovec){words[i], strlen(words[i])};
        mm[i].msg_hdr.msg_iov = &v[i];
        mm[i].msg_hdr.msg_iovlen = 1;
    }
    int r = sendmmsg(fd, mm, 3, 0);
    CHECK(r == 3 && mm[0].msg_len == 3 && mm[1].msg_len == 4 && mm[2].msg_len == 5,
          "sendmmsg on TCP: %d (%u %u %u)", r, mm[0].msg_len, mm[1].msg_len,
          mm[2].msg_len);
    CHECK(wait_inq(fd, 12), "12 echoed bytes");
    char b[3][4];
    memset(mm, 0, sizeof(mm));
    for (int i = 0; i < 3; i++) {
        v[i] = (struct iovec){b[i], 4};
        mm[i].msg_hdr.msg_iov = &v[i];
        mm[i].msg_hdr.msg_iovlen = 1;
    }
    r = recvmmsg(fd, mm, 3, 0, NULL);
    CHECK(r == 3 && mm[0].msg_len == 4 && mm[1].msg_len == 4 && mm[2].msg_len == 4 &&
              memcmp(b, "onetwo!three", 12) == 0,
          "recvmmsg on TCP: %d", r);
    r = recvmmsg(fd, mm, 3, MSG_DONTWAIT, NULL);
    CHECK_ERR(r, EAGAIN, "recvmmsg MSG_DONTWAIT with nothing");
    CHECK(send(fd, "xy", 2, 0) == 2 && wait_inq(fd, 2), "2 more bytes");
    r = recvmmsg(fd, mm, 3, MSG_WAITFORONE, NULL);
    CHECK(r == 1 && mm[0].msg_len == 2, "MSG_WAITFORONE: %d", r);
    close(fd);

    /* UDP sockets are the kernel's: the calls pass through */
    int a = socket(AF_INET, SOCK_DGRAM, 0), u = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in lo = {.sin_family = AF_INET,
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof(lo);
    CHECK(bind(u, (struct sockaddr *)&lo, sizeof(lo)) == 0 &&
              getsockname(u, (struct sockaddr *)&lo, &sl) == 0 &&
              connect(a, (struct sockaddr *)&lo, sizeof(lo)) == 0,
          "UDP set-up");
    memset(mm, 0, sizeof(mm));
    for (int i = 0; i < 3; i++) {
        v[i] = (struct iovec){words[i], strlen(words[i])};
        mm[i].msg_hdr.msg_iov = &v[i];
        mm[i].msg_hdr.msg_iovlen = 1;
    }
    r = sendmmsg(a, mm, 3, 0);
    CHECK(r == 3, "UDP sendmmsg: %d", r);
    memset(mm, 0, sizeof(mm));
    for (int i = 0; i < 3; i++) {
        v[i] = (struct iovec){b[i], 4};
        mm[i].msg_hdr.msg_iov = &v[i];
        mm[i].msg_hdr.msg_iovlen = 1;
    }
    struct timespec ts = {5, 0};
    r = recvmmsg(u, mm, 3, MSG_WAITFORONE, &ts);
    CHECK(r == 3 && mm[0].msg_len == 3 && mm[1].msg_len == 4 && mm[2].msg_len == 4 &&
              (mm[2].msg_hdr.msg_flags & MSG_TRUNC),
          "UDP recvmmsg: 3 datagrams, the last truncated: %d", r);
    close(a);
    close(u);
}

/* ------------------------------------------------------------ fcntl/ioctl */

static void case_ioctl(void)
{
    int fd = open_case("ioctl");
    if (fd < 0)
        return failures++, (void)0;
    char b[4096];
    int fl = fcntl(fd, F_GETFL), q = -1;
    CHECK(fl >= 0 && !(fl & O_NONBLOCK), "blocking at first");
    CHECK(fcntl(fd, F_SETFL, fl | O_NONBLOCK) == 0, "F_SETFL O_NONBLOCK");
    CHECK(fcntl(fd, F_GETFL) & O_NONBLOCK, "F_GETFL shows O_NONBLOCK");
    CHECK_ERR(read(fd, b, sizeof(b)), EAGAIN, "non-blocking read, no data");
    CHECK(fcntl(fd, F_SETFL, fl) == 0 && !(fcntl(fd, F_GETFL) & O_NONBLOCK),
          "back to blocking");
    int on = 1, off = 0;
    CHECK(ioctl(fd, FIONBIO, &on) == 0, "FIONBIO 1");
    CHECK(fcntl(fd, F_GETFL) & O_NONBLOCK, "F_GETFL shows FIONBIO");
    CHECK_ERR(recv(fd, b, sizeof(b), 0), EAGAIN, "FIONBIO read, no data");
    CHECK(ioctl(fd, FIONBIO, &off) == 0, "FIONBIO 0");
    CHECK(ioctl(fd, FIONREAD, &q) == 0 && q == 0, "FIONREAD 0 before data: %d", q);
    CHECK(write(fd, "go", 2) == 2, "go");
    CHECK(wait_inq(fd, 3000), "3000 bytes arrive");
    CHECK(ioctl(fd, FIONREAD, &q) == 0 && q == 3000, "FIONREAD %d", q);
    CHECK(ioctl(fd, SIOCINQ, &q) == 0 && q == 3000, "SIOCINQ %d", q);
    CHECK(read_full(fd, b, 3000) == 3000, "read them");
    CHECK(ioctl(fd, FIONREAD, &q) == 0 && q == 0, "FIONREAD after reading %d", q);
    static uint8_t big[100000];
    CHECK(tu_write_all(fd, big, sizeof(big), WAIT_MS) == 0, "write 100000");
    CHECK(ioctl(fd, SIOCOUTQ, &q) == 0 && q >= 0 && q <= (int)sizeof(big), "SIOCOUTQ %d",
          q);
    for (int i = 0; i < 500 && q != 0; i++) {
        usleep(10000);
        ioctl(fd, SIOCOUTQ, &q);
    }
    CHECK(q == 0, "SIOCOUTQ drains to 0 once acknowledged: %d", q);
    close(fd);

    int l = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(l >= 0 && listen(l, 4) == 0, "listener");
    CHECK_ERR(ioctl(l, FIONREAD, &q), EINVAL, "FIONREAD on a listener");
    CHECK_ERR(ioctl(l, SIOCOUTQ, &q), EINVAL, "SIOCOUTQ on a listener");
    close(l);
}

/* ------------------------------------------------------------ timeouts */

static void case_timeo(void)
{
    int fd = open_case("stall");
    if (fd < 0)
        return failures++, (void)0;
    struct timeval tv = {0, 300000};
    char b[16];
    CHECK(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == 0, "SO_RCVTIMEO");
    int64_t t0 = tu_now_ms();
    ssize_t r = recv(fd, b, sizeof(b), 0);
    int64_t dt = tu_now_ms() - t0;
    CHECK(r == -1 && errno == EAGAIN && dt >= 280 && dt < 1500,
          "recv with SO_RCVTIMEO 300 ms: %zd after %lld ms", r, (long long)dt);
    CHECK(setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == 0, "SO_SNDTIMEO");
    size_t n = 64 << 20;
    char *big = calloc(1, n);
    t0 = tu_now_ms();
    r = send(fd, big, n, 0); /* the peer reads nothing: partial after the timeout */
    dt = tu_now_ms() - t0;
    CHECK(r > 0 && r < (ssize_t)n && dt >= 280 && dt < 3000,
          "blocking send with SO_SNDTIMEO: %zd after %lld ms", r, (long long)dt);
    /* Once the peer's window is closed: EAGAIN after the timeout.  Until
     * then each call may still place a few bytes (partial, after 300 ms). */
    for (int i = 0; i < 20; i++) {
        t0 = tu_now_ms();
        r = send(fd, big, n, 0);
        dt = tu_now_ms() - t0;
        CHECK(dt >= 280 && dt < 3000 && (r > 0 || (r == -1 && errno == EAGAIN)),
              "send on a full buffer, SO_SNDTIMEO: %zd after %lld ms", r, (long long)dt);
        if (r < 0)
            break;
    }
    CHECK(r == -1 && errno == EAGAIN, "EAGAIN once the window is closed: %zd", r);
    free(big);
    close(fd);
}

/* A signal whose handler has SA_RESTART ends a blocking call that has
 * moved bytes already (it returns the count), and restarts one that has
 * not. */
static void on_alarm(int sig)
{
    (void)sig;
}

static void case_signal(void)
{
    int fd = open_case("stall1000"); /* 1000 bytes, then nothing */
    if (fd < 0)
        return failures++, (void)0;
    struct sigaction sa = {.sa_handler = on_alarm, .sa_flags = SA_RESTART};
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval it = {{0, 0}, {0, 300000}};
    size_t n = 64 << 20;
    char *big = calloc(1, n);
    CHECK(wait_inq(fd, 1000), "1000 bytes");
    setitimer(ITIMER_REAL, &it, NULL);
    int64_t t0 = tu_now_ms();
    ssize_t r = recv(fd, big, 100000, MSG_WAITALL);
    int64_t dt = tu_now_ms() - t0;
    CHECK(r == 1000 && dt >= 250 && dt < 3000,
          "MSG_WAITALL cut by SIGALRM: %zd after %lld ms", r, (long long)dt);
    setitimer(ITIMER_REAL, &it, NULL);
    t0 = tu_now_ms();
    r = send(fd, big, n, 0); /* the peer reads nothing */
    dt = tu_now_ms() - t0;
    CHECK(r > 0 && r < (ssize_t)n && dt >= 250 && dt < 3000,
          "blocking send cut by SIGALRM: %zd after %lld ms", r, (long long)dt);
    it.it_value.tv_usec = 200000;
    setitimer(ITIMER_REAL, &it, NULL);
    struct timeval tv = {1, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    t0 = tu_now_ms();
    r = recv(fd, big, 10, 0); /* a socket timeout makes it not restartable (Linux) */
    dt = tu_now_ms() - t0;
    CHECK(r == -1 && errno == EINTR && dt >= 150 && dt < 900,
          "with SO_RCVTIMEO, SA_RESTART or not: EINTR: %zd after %lld ms", r,
          (long long)dt);
    close(fd);
    fd = open_case("late"); /* 4 bytes after 600 ms */
    if (fd < 0)
        return failures++, (void)0;
    setitimer(ITIMER_REAL, &it, NULL);
    t0 = tu_now_ms();
    r = recv(fd, big, 10, 0); /* nothing read yet: restarted, then the data */
    dt = tu_now_ms() - t0;
    CHECK(r == 4 && dt >= 450 && dt < 3000,
          "recv with nothing read is restarted after the signal: %zd after %lld ms", r,
          (long long)dt);
    int l = socket(AF_INET, SOCK_STREAM, 0); /* accept() with SO_RCVTIMEO too */
    CHECK(l >= 0 && listen(l, 4) == 0, "listener");
    tv.tv_sec = 2;
    setsockopt(l, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setitimer(ITIMER_REAL, &it, NULL);
    t0 = tu_now_ms();
    int a = accept(l, NULL, NULL);
    dt = tu_now_ms() - t0;
    CHECK(a == -1 && errno == EINTR && dt >= 150 && dt < 1500,
          "accept with SO_RCVTIMEO, SA_RESTART: EINTR: %d after %lld ms", a,
          (long long)dt);
    close(l);
    sa.sa_flags = 0;
    sigaction(SIGALRM, &sa, NULL);
    setitimer(ITIMER_REAL, &it, NULL);
    r = recv(fd, big, 10, 0);
    CHECK(r == -1 && errno == EINTR, "without SA_RESTART: EINTR: %zd", r);
    signal(SIGALRM, SIG_DFL);
    free(big);
    close(fd);
}

/* TCP_INFO follows the connection: ESTABLISHED with the MSS TCP_MAXSEG
 * gives, CLOSE_WAIT once the peer's FIN is read. */
static void case_tcpinfo(void)
{
    int fd = open_case("fin");
    if (fd < 0)
        return failures++, (void)0;
    struct tcp_info ti;
    socklen_t tl = sizeof(ti);
    int mss = 0;
    socklen_t ml = sizeof(mss);
    memset(&ti, 0, sizeof(ti));
    CHECK(getsockopt(fd, IPPROTO_TCP, TCP_MAXSEG, &mss, &ml) == 0 && mss > 500 &&
              mss <= 1460,
          "TCP_MAXSEG %d", mss);
    char b[8];
    CHECK(tu_read_wait(fd, b, sizeof(b), WAIT_MS) == 0, "the peer's FIN");
    CHECK(getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &tl) == 0 &&
              ti.tcpi_state == TCP_CLOSE_WAIT && ti.tcpi_snd_mss == (unsigned)mss,
          "after EOF: state %u (want %u), snd_mss %u", ti.tcpi_state, TCP_CLOSE_WAIT,
          ti.tcpi_snd_mss);
    close(fd);
}

/* After 100000 bytes each way, TCP_INFO reports an RTT, a congestion
 * window and the byte counts (Linux's struct goes on past glibc's). */
struct tcp_info_ext {
    struct tcp_info base;
    uint64_t pacing_rate, max_pacing_rate, bytes_acked, bytes_received;
};

static void case_tcpinfo_data(void)
{
    int fd = open_case("echo");
    if (fd < 0)
        return failures++, (void)0;
    static uint8_t out[100000], in[100000];
    tu_pattern(out, sizeof(out), 17);
    CHECK(tu_write_all(fd, out, sizeof(out), WAIT_MS) == 0, "write");
    CHECK(read_full(fd, in, sizeof(in)) == (ssize_t)sizeof(in) &&
              memcmp(in, out, sizeof(in)) == 0,
          "echo");
    struct tcp_info_ext x;
    bool ok = false;
    for (int i = 0; i < 200 && !ok; i++) { /* tasd refreshes it every ~64 ms */
        socklen_t xl = sizeof(x);
        memset(&x, 0, sizeof(x));
        ok = getsockopt(fd, IPPROTO_TCP, TCP_INFO, &x, &xl) == 0 && xl == sizeof(x) &&
             x.base.tcpi_rtt > 0 && x.base.tcpi_rto > 0 && x.base.tcpi_snd_cwnd > 0 &&
             x.bytes_acked >= sizeof(out) && x.bytes_received >= sizeof(in);
        if (!ok)
            usleep(10000);
    }
    CHECK(ok, "TCP_INFO: rtt %u rto %u cwnd %u acked %llu received %llu", x.base.tcpi_rtt,
          x.base.tcpi_rto, x.base.tcpi_snd_cwnd, (unsigned long long)x.bytes_acked,
          (unsigned long long)x.bytes_received);
    close(fd);
}

/* Calls on sockets that are not connected (fresh, listening). */
static void case_unconnected(void)
{
    signal(SIGPIPE, SIG_IGN);
    int f = socket(AF_INET, SOCK_STREAM, 0), l = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(f >= 0 && l >= 0 && listen(l, 4) == 0, "sockets");
    char b[16];
    struct iovec v = {b, sizeof(b)};
    struct mmsghdr mm = {.msg_hdr = {.msg_iov = &v, .msg_iovlen = 1}};
    int p[2];
    CHECK(pipe(p) == 0 && write(p[1], "abc", 3) == 3, "pipe");
    for (int i = 0; i < 2; i++) {
        int fd = i == 0 ? f : l;
        const char *k = i == 0 ? "fresh" : "listening";
        CHECK_ERR(send(fd, "x", 1, MSG_NOSIGNAL), EPIPE, k);
        CHECK_ERR(write(fd, "x", 1), EPIPE, k);
        CHECK_ERR(writev(fd, &v, 1), EPIPE, k);
        CHECK_ERR(sendmmsg(fd, &mm, 1, 0), EPIPE, k);
        CHECK_ERR(splice(p[0], NULL, fd, NULL, 3, 0), EPIPE, k);
        CHECK_ERR(recv(fd, b, sizeof(b), 0), ENOTCONN, k);
        CHECK_ERR(read(fd, b, sizeof(b)), ENOTCONN, k);
        CHECK_ERR(recvmmsg(fd, &mm, 1, 0, NULL), ENOTCONN, k);
        if (i == 0)
            CHECK_ERR(shutdown(fd, SHUT_WR), ENOTCONN, k);
        else
            CHECK(shutdown(fd, SHUT_WR) == 0, "shutdown(SHUT_WR) of a listener is 0");
        socklen_t sl = sizeof(struct sockaddr_in);
        struct sockaddr_in sin;
        CHECK_ERR(getpeername(fd, (struct sockaddr *)&sin, &sl), ENOTCONN, k);
    }
    signal(SIGPIPE, SIG_DFL);
    close(p[0]);
    close(p[1]);
    close(f);
    close(l);
}

/* ------------------------------------------------------------ close and connect */

static void case_linger0(void)
{
    int fd = open_case("linger0");
    if (fd < 0)
        return failures++, (void)0;
    struct linger lg = {1, 0}, got = {0, 0};
    socklen_t gl = sizeof(got);
    CHECK(write(fd, "hello", 5) == 5, "write");
    CHECK(setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) == 0, "SO_LINGER {1,0}");
    CHECK(getsockopt(fd, SOL_SOCKET, SO_LINGER, &got, &gl) == 0 && got.l_onoff == 1 &&
              got.l_linger == 0,
          "SO_LINGER reads back {1,0}");
    char b[8];
    CHECK(read_full(fd, b, 2) == 2 && memcmp(b, "ok", 2) == 0, "peer got the bytes");
    close(fd); /* RST: the peer reports ECONNRESET in its log */
    fd = open_case("linger_result");
    if (fd < 0)
        return failures++, (void)0;
    char res[64] = {0};
    ssize_t r = tu_read_wait(fd, res, sizeof(res) - 1, WAIT_MS);
    CHECK(r > 0 && strncmp(res, "ECONNRESET", 10) == 0,
          "the peer's read after our close with linger 0: '%s'", r > 0 ? res : "nothing");
    close(fd);
}

/* close_range() and closefrom() close sockets as close() does; a child
 * that closes every descriptor from 3 up (as daemons and subprocess do)
 * still has a working socket layer, and the parent's copies stay open. */
static bool hello_on(int fd)
{
    char b[16];
    return fd >= 0 && read_full(fd, b, 12) == 12 && memcmp(b, "hello, world", 12) == 0;
}

static void case_closerange(void)
{
    int fd = open_case("hello");
    CHECK(hello_on(fd), "hello on the first connection");
    CHECK(close_range((unsigned)fd, (unsigned)fd, CLOSE_RANGE_CLOEXEC) == 0,
          "close_range CLOSE_RANGE_CLOEXEC");
    CHECK((fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0, "FD_CLOEXEC is set after it");
    CHECK(write(fd, "x", 1) == 1, "the socket still works after CLOSE_RANGE_CLOEXEC");
    CHECK(close_range((unsigned)fd, (unsigned)fd, 0) == 0, "close_range of one socket");
    CHECK(fcntl(fd, F_GETFD) == -1 && errno == EBADF, "fcntl after close_range: EBADF");
    CHECK_ERR(write(fd, "x", 1), EBADF, "write after close_range");
    int fd2 = open_case("hello");
    CHECK(fd2 == fd, "the number is free again: %d, want %d", fd2, fd);
    CHECK(hello_on(fd2), "hello on the connection that reuses the number");
    closefrom(fd2);
    CHECK(fcntl(fd2, F_GETFD) == -1 && errno == EBADF, "fcntl after closefrom: EBADF");
    CHECK(close_range(5, 4, 0) == -1 && errno == EINVAL, "close_range(5, 4): EINVAL");

    int keep = open_case("hello");
    pid_t pid = fork();
    if (pid == 0) {
        close_range(3, ~0u, 0);
        int c = open_case("hello");
        _exit(hello_on(c) && close(c) == 0 ? 0 : 1);
    }
    int st = 0;
    CHECK(pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0,
          "a child that closed every descriptor from 3 connects and reads (status %d)", st);
    CHECK(hello_on(keep), "the parent's connection is still open after the child's close_range");
    close(keep);
}

/* An AF_INET6 socket is dual stack as on Linux: it connects to an
 * IPv4-mapped address, and its names are IPv4-mapped sockaddr_in6. */
static bool mapped_is(const struct sockaddr_in6 *a, socklen_t len, uint32_t ip)
{
    return len == sizeof(*a) && a->sin6_family == AF_INET6 &&
           IN6_IS_ADDR_V4MAPPED(&a->sin6_addr) && memcmp(&a->sin6_addr.s6_addr[12], &ip, 4) == 0;
}

static void case_dualstack(void)
{
    int fd = socket(AF_INET6, SOCK_STREAM, 0), v = -1;
    socklen_t vl = sizeof(v);
    CHECK(fd >= 0, "socket(AF_INET6, SOCK_STREAM)");
    CHECK(getsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v, &vl) == 0 && v == 0,
          "IPV6_V6ONLY is 0 (dual stack): %d", v);
    CHECK_ERR(connect(fd, (struct sockaddr *)&peer_sa, sizeof(peer_sa)), EINVAL,
              "connect with a sockaddr_in");
    struct sockaddr_in6 to = {.sin6_family = AF_INET6, .sin6_port = peer_sa.sin_port};
    to.sin6_addr.s6_addr[10] = to.sin6_addr.s6_addr[11] = 0xff;
    memcpy(&to.sin6_addr.s6_addr[12], &peer_sa.sin_addr.s_addr, 4);
    CHECK(connect(fd, (struct sockaddr *)&to, sizeof(to)) == 0, "connect to ::ffff:peer");
    CHECK(write(fd, "hello\n", 6) == 6, "write the case name");
    CHECK(hello_on(fd), "hello over the AF_INET6 socket");
    struct sockaddr_in6 a;
    socklen_t al = sizeof(a);
    CHECK(getpeername(fd, (struct sockaddr *)&a, &al) == 0 &&
              mapped_is(&a, al, peer_sa.sin_addr.s_addr) && a.sin6_port == peer_sa.sin_port,
          "getpeername: the peer as ::ffff:a.b.c.d, port %u (len %u)", ntohs(a.sin6_port), al);
    al = sizeof(a);
    CHECK(getsockname(fd, (struct sockaddr *)&a, &al) == 0 && al == sizeof(a) &&
              a.sin6_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&a.sin6_addr) &&
              a.sin6_port != 0,
          "getsockname: an IPv4-mapped address with a port (len %u)", al);
    struct sockaddr_in short_a;
    al = sizeof(short_a);
    CHECK(getsockname(fd, (struct sockaddr *)&short_a, &al) == 0 && al == sizeof(a),
          "getsockname into a short buffer says the full length: %u", al);
    close(fd);
}

static void case_refused(void)
{
    struct sockaddr_in sa = peer_sa;
    sa.sin_port = htons((uint16_t)(ntohs(peer_sa.sin_port) + 1)); /* nobody listens */
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int r = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
    CHECK(r == -1 && errno == EINPROGRESS, "non-blocking connect: %d", r);
    struct pollfd p = {.fd = fd, .events = POLLOUT};
    CHECK(poll(&p, 1, WAIT_MS) == 1 && (p.revents & (POLLOUT | POLLERR)), "poll");
    int err = -1;
    socklen_t el = sizeof(err);
    CHECK(getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) == 0 && err == ECONNREFUSED,
          "SO_ERROR after the refused connect: %s", ename(err));
    CHECK(getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) == 0 && err == 0,
          "SO_ERROR is cleared by reading: %s", ename(err));
    close(fd);
    fd = socket(AF_INET, SOCK_STREAM, 0);
    r = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
    CHECK(r == -1 && errno == ECONNREFUSED, "blocking connect: %d", r);
    close(fd);
}

/* ------------------------------------------------------------ peer */

static void peer_conn(int fd)
{
    static char last_linger[32] = "none";
    char name[64];
    size_t n = 0;
    alarm(60);
    while (n < sizeof(name) - 1) {
        if (tu_read_wait(fd, name + n, 1, WAIT_MS) != 1)
            _exit(1);
        if (name[n] == '\n')
            break;
        n++;
    }
    name[n] = '\0';
    uint8_t b[65536];
    ssize_t r;
    if (strcmp(name, "hello") == 0) {
        tu_write_all(fd, "hello, world", 12, WAIT_MS);
    } else if (strcmp(name, "waitall") == 0) {
        uint8_t *p = malloc(200000);
        tu_pattern(p, 200000, 7);
        for (int i = 0; i < 20; i++) {
            tu_write_all(fd, p + i * 10000, 10000, WAIT_MS);
            usleep(5000);
        }
        tu_write_all(fd, p, 500, WAIT_MS);
        free(p);
        shutdown(fd, SHUT_WR);
    } else if (strcmp(name, "peekwaitall") == 0) {
        uint8_t *p = malloc(50000);
        tu_pattern(p, 50000, 7);
        for (int i = 0; i < 10; i++) {
            tu_write_all(fd, p + i * 5000, 5000, WAIT_MS);
            usleep(10000);
        }
        tu_write_all(fd, p, 500, WAIT_MS);
        free(p);
        shutdown(fd, SHUT_WR);
    } else if (strcmp(name, "late") == 0) {
        usleep(600000);
        tu_write_all(fd, "late", 4, WAIT_MS);
    } else if (strcmp(name, "pattern1000") == 0) {
        tu_pattern(b, 1000, 3);
        tu_write_all(fd, b, 1000, WAIT_MS);
    } else if (strcmp(name, "rst") == 0 || strcmp(name, "fin") == 0) {
        if (name[0] == 'r') {
            struct linger lg = {1, 0};
            setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
        }
        close(fd);
        _exit(0);
    } else if (strcmp(name, "echo") == 0) {
        while ((r = tu_read_wait(fd, b, sizeof(b), 30000)) > 0)
            if (tu_write_all(fd, b, (size_t)r, 30000) != 0)
                break;
    } else if (strcmp(name, "ioctl") == 0) {
        if (tu_read_wait(fd, b, 2, WAIT_MS) == 2) {
            tu_pattern(b, 3000, 5);
            tu_write_all(fd, b, 3000, WAIT_MS);
        }
    } else if (strcmp(name, "stall") == 0 || strcmp(name, "stall1000") == 0) {
        /* read nothing until the client goes */
        if (name[5] == '1') {
            tu_pattern(b, 1000, 9);
            tu_write_all(fd, b, 1000, WAIT_MS);
        }
        struct pollfd p = {.fd = fd, .events = POLLRDHUP};
        poll(&p, 1, 30000);
        _exit(0);
    } else if (strcmp(name, "linger0") == 0) {
        if (read_full(fd, b, 5) == 5)
            tu_write_all(fd, "ok", 2, WAIT_MS);
        r = tu_read_wait(fd, b, sizeof(b), WAIT_MS);
        const char *res = r == 0 ? "EOF" : r > 0 ? "data" : ename((int)-r);
        fprintf(stderr, "sem_io peer: linger0: the read after the close gave %s\n", res);
        /* for the next connection (case linger_result), via a file */
        char path[PATH_MAX];
        char tmp[PATH_MAX];
        snprintf(path, sizeof(path), "%s/linger_result", tmpdir);
        snprintf(tmp, sizeof(tmp), "%s/linger_result.tmp", tmpdir);
        FILE *f = fopen(tmp, "w");
        if (f != NULL) { /* complete before it has its name: rename */
            fputs(res, f);
            fclose(f);
            rename(tmp, path);
        }
        _exit(0);
    } else if (strcmp(name, "linger_result") == 0) {
        char path[PATH_MAX];
        snprintf(path, sizeof(path), "%s/linger_result", tmpdir);
        FILE *f = NULL;
        for (int i = 0; i < 500 && (f = fopen(path, "r")) == NULL; i++)
            usleep(10000); /* the linger0 child writes it when the RST comes */
        if (f != NULL && fgets(last_linger, sizeof(last_linger), f) != NULL)
            tu_write_all(fd, last_linger, strlen(last_linger), WAIT_MS);
        if (f != NULL)
            fclose(f);
    }
    /* "sink" and everything after the above: read until EOF */
    while (tu_read_wait(fd, b, sizeof(b), 30000) > 0)
        ;
    _exit(0);
}

static int run_peer(uint16_t port, int timeout_s)
{
    int l = tu_listen(port, 64, 0);
    if (l < 0) {
        fprintf(stderr, "sem_io peer: listen: %s\n", ename(-l));
        return 1;
    }
    signal(SIGCHLD, SIG_IGN); /* children reap themselves */
    tu_ready(PROG, port);
    int64_t end = tu_now_ms() + timeout_s * 1000LL;
    while (tu_left_ms(end) > 0) {
        int fd = tu_accept(l, tu_left_ms(end));
        if (fd < 0)
            continue;
        pid_t pid = fork();
        if (pid == 0) {
            close(l);
            peer_conn(fd);
        }
        close(fd);
    }
    return 0;
}

/* ------------------------------------------------------------ SO_REUSEPORT */

/* n listeners on one port with SO_REUSEPORT; each connection gets one byte,
 * the listener's index ('a' + i + base), and is closed. */
static int reuseport_serve(uint16_t port, int n, int base, int conns, int timeout_s)
{
    int l[8];
    struct pollfd p[8];
    for (int i = 0; i < n; i++) {
        l[i] = socket(AF_INET, SOCK_STREAM, 0);
        int one = 1;
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
        if (l[i] < 0 ||
            setsockopt(l[i], SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0 ||
            bind(l[i], (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
            listen(l[i], 64) != 0) {
            fprintf(stderr, "sem_io: listener %d on port %u: %s\n", i, port,
                    ename(errno));
            return 1;
        }
        p[i] = (struct pollfd){.fd = l[i], .events = POLLIN};
    }
    tu_ready(PROG, port);
    int served[8] = {0}, total = 0;
    int64_t end = tu_now_ms() + timeout_s * 1000LL;
    while (total < conns && tu_left_ms(end) > 0) {
        if (poll(p, (nfds_t)n, tu_left_ms(end)) <= 0)
            continue;
        for (int i = 0; i < n; i++) {
            if (!(p[i].revents & POLLIN))
                continue;
            int c = accept(l[i], NULL, NULL);
            if (c < 0)
                continue;
            char id = (char)('a' + base + i);
            if (write(c, &id, 1) == 1) {
                served[i]++;
                total++;
            }
            char b[8];
            tu_read_wait(c, b, sizeof(b), WAIT_MS); /* the client closes first */
            close(c);
        }
    }
    for (int i = 0; i < n; i++)
        fprintf(stderr, "sem_io: listener %c served %d\n", 'a' + base + i, served[i]);
    return 0;
}

static int reuseport_client(int conns)
{
    int per[26] = {0}, ok = 0;
    for (int i = 0; i < conns; i++) {
        int fd = tu_connect(&peer_sa, WAIT_MS);
        char id = 0;
        ssize_t r = fd >= 0 ? tu_read_wait(fd, &id, 1, WAIT_MS) : fd;
        if (r == 1 && id >= 'a' && id <= 'z') {
            per[id - 'a']++;
            ok++;
        } else {
            fprintf(stderr, "sem_io: connection %d: %s\n", i,
                    fd < 0   ? "connect failed"
                    : r == 0 ? "EOF"
                             : ename((int)-r));
        }
        if (fd >= 0)
            close(fd);
    }
    printf("served %d of %d:", ok, conns);
    for (int i = 0; i < 26; i++)
        if (per[i] > 0)
            printf(" %c=%d", 'a' + i, per[i]);
    printf("\n");
    return ok == conns ? 0 : 1;
}

/* ------------------------------------------------------------ main */

static const struct {
    const char *name;
    void (*fn)(void);
} cases[] = {
    {"peek", case_peek},
    {"dontwait", case_dontwait},
    {"waitall", case_waitall},
    {"peekwaitall", case_peekwaitall},
    {"trunc", case_trunc},
    {"oob", case_oob},
    {"sigpipe", case_sigpipe},
    {"iov", case_iov},
    {"sendfile", case_sendfile},
    {"splice", case_splice},
    {"mmsg", case_mmsg},
    {"ioctl", case_ioctl},
    {"timeo", case_timeo},
    {"linger0", case_linger0},
    {"refused", case_refused},
    {"closerange", case_closerange},
    {"dualstack", case_dualstack},
    {"signal", case_signal},
    {"unconnected", case_unconnected},
    {"tcpinfo", case_tcpinfo},
    {"tcpinfo_data", case_tcpinfo_data},
};

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"peer", no_argument, NULL, 'P'},
        {"case", required_argument, NULL, 'c'},
        {"addr", required_argument, NULL, 'a'},
        {"port", required_argument, NULL, 'p'},
        {"tmp", required_argument, NULL, 'd'},
        {"timeout", required_argument, NULL, 't'},
        {"reuseport-serve", required_argument, NULL, 'S'},
        {"reuseport-client", required_argument, NULL, 'C'},
        {"base", required_argument, NULL, 'b'},
        {"conns", required_argument, NULL, 'n'},
        {NULL, 0, NULL, 0},
    };
    const char *cname = NULL, *addr = NULL;
    bool peer = false;
    uint16_t port = 7100;
    int timeout_s = 60, serve = 0, client = 0, base = 0, conns = 0, o;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 'P':
            peer = true;
            break;
        case 'c':
            cname = optarg;
            break;
        case 'a':
            addr = optarg;
            break;
        case 'p':
            port = (uint16_t)tu_num(PROG, "--port", optarg, 1, 65534);
            break;
        case 'd':
            tmpdir = optarg;
            break;
        case 't':
            timeout_s = (int)tu_num(PROG, "--timeout", optarg, 1, 3600);
            break;
        case 'S':
            serve = (int)tu_num(PROG, "--reuseport-serve", optarg, 1, 8);
            break;
        case 'C':
            client = (int)tu_num(PROG, "--reuseport-client", optarg, 1, 1000);
            break;
        case 'b':
            base = (int)tu_num(PROG, "--base", optarg, 0, 16);
            break;
        case 'n':
            conns = (int)tu_num(PROG, "--conns", optarg, 1, 1000);
            break;
        default:
            fprintf(stderr,
                    "usage: %s --peer --port P | --case NAME --addr A --port P "
                    "[--tmp DIR] | --reuseport-serve N --port P --conns C [--base B] "
                    "| --reuseport-client C --addr A --port P\n",
                    PROG);
            return 2;
        }
    }
    const char *m = getenv("TAS_TEST_MODE");
    if (m != NULL && *m != '\0')
        mode = m;
    if (peer)
        return run_peer(port, timeout_s);
    if (serve)
        return reuseport_serve(port, serve, base, conns, timeout_s);
    if (addr == NULL) {
        fprintf(stderr, "%s: --addr is needed\n", PROG);
        return 2;
    }
    tu_addr(PROG, addr, port, &peer_sa);
    if (client)
        return reuseport_client(client);
    alarm((unsigned)timeout_s);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (cname != NULL && strcmp(cname, cases[i].name) != 0)
            continue;
        int before = failures;
        cases[i].fn();
        printf("%s %s\n", failures == before ? "ok" : "FAILED", cases[i].name);
        cname = cname != NULL ? "" : NULL; /* one named case ran */
    }
    if (cname != NULL && *cname != '\0') {
        fprintf(stderr, "%s: no case '%s'\n", PROG, cname);
        return 2;
    }
    return failures == 0 ? 0 : 1;
}
