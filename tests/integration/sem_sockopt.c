/* sem_sockopt.c - socket options of TCP sockets, as a table to compare
 * between Linux and tasd.
 *
 * For a fresh socket (F), a connected one (C, to a peer that reads and
 * discards: sem_io --peer) and a listener (L), each option of the table is
 * read (get), set to each test value (set(v)) and read back.  One line per
 * step, "KIND OPTION STEP: result", where result is a value or an errno
 * name.  Values that depend on the host or on time (addresses, autotuned
 * buffer sizes, RTT) are never printed.  t_sockopt.sh runs it under tasd
 * and on Linux and compares the lines; the differences tasd is allowed are
 * listed, with their reason, in sem_sockopt.allowed.
 *
 *   sem_sockopt --addr PEER --port P    (P+1 must have no listener)
 *   sem_sockopt --sink --port P         the peer: accepts, reads, discards
 *   sem_sockopt --congestion            TCP_CONGESTION of a fresh socket
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tutil.h"

#define PROG "sem_sockopt"

enum vtype { V_INT, V_TV, V_LINGER, V_STR, V_INFO, V_PEER, V_MAXSEG };

struct row {
    const char *kinds; /* which sockets: F, C, L */
    int level, opt;
    const char *name;
    enum vtype type;
    bool get_first;   /* print the value before setting (stable on both) */
    const char *sets; /* values to set, separated by '|'; "" = read only */
};

#define O(l, o) l, o, #o

/* clang-format off */
static const struct row rows[] = {
    {"FCL", O(SOL_SOCKET, SO_TYPE), V_INT, true, ""},
    {"FCL", O(SOL_SOCKET, SO_DOMAIN), V_INT, true, ""},
    {"FCL", O(SOL_SOCKET, SO_PROTOCOL), V_INT, true, ""},
    {"FCL", O(SOL_SOCKET, SO_ACCEPTCONN), V_INT, true, ""},
    {"FCL", O(SOL_SOCKET, SO_ERROR), V_INT, true, ""},
    {"FCL", O(SOL_SOCKET, SO_REUSEADDR), V_INT, true, "1|0"},
    {"FL",  O(SOL_SOCKET, SO_REUSEPORT), V_INT, true, "1"},
    {"FCL", O(SOL_SOCKET, SO_KEEPALIVE), V_INT, true, "1|0"},
    {"FCL", O(SOL_SOCKET, SO_LINGER), V_LINGER, true, "1,5|0,0"},
    {"FCL", O(SOL_SOCKET, SO_RCVBUF), V_INT, false, "65536|1000"},
    {"FCL", O(SOL_SOCKET, SO_SNDBUF), V_INT, false, "65536|1000"},
    {"FCL", O(SOL_SOCKET, SO_RCVLOWAT), V_INT, true, "10|1"},
    {"FC",  O(SOL_SOCKET, SO_SNDLOWAT), V_INT, true, "10"},
    {"FCL", O(SOL_SOCKET, SO_RCVTIMEO), V_TV, true, "1,500000|0,0"},
    {"FCL", O(SOL_SOCKET, SO_SNDTIMEO), V_TV, true, "2,250000|0,0"},
    {"F",   O(SOL_SOCKET, SO_BINDTODEVICE), V_STR, true, "lo|"},
    {"FC",  O(SOL_SOCKET, SO_PRIORITY), V_INT, true, "3"},
    {"FC",  O(SOL_SOCKET, SO_OOBINLINE), V_INT, true, "1"},
    {"FC",  O(SOL_SOCKET, SO_DONTROUTE), V_INT, true, "1|0"},
    {"FC",  O(SOL_SOCKET, SO_BROADCAST), V_INT, true, "1"},
    {"FC",  O(SOL_SOCKET, SO_TIMESTAMP), V_INT, true, "1"},
    {"FC",  O(SOL_SOCKET, SO_PASSCRED), V_INT, true, "1"},
    {"FC",  O(SOL_SOCKET, SO_BUSY_POLL), V_INT, true, "10"},
    {"FC",  O(SOL_SOCKET, SO_ZEROCOPY), V_INT, true, "1"},
    {"FC",  O(SOL_SOCKET, SO_PEEK_OFF), V_INT, true, "0"},
    {"FCL", O(SOL_SOCKET, SO_PEERNAME), V_PEER, true, ""},
    {"FC",  O(SOL_SOCKET, SO_DEBUG), V_INT, true, "1"},
    {"FC",  SOL_SOCKET, 9999, "SO_unknown_9999", V_INT, true, "1"},
    {"FCL", O(IPPROTO_TCP, TCP_NODELAY), V_INT, true, "1|0"},
    {"FC",  O(IPPROTO_TCP, TCP_CORK), V_INT, true, "1|0"},
    {"FCL", O(IPPROTO_TCP, TCP_KEEPIDLE), V_INT, true, "30|0|32767|32768"},
    {"FCL", O(IPPROTO_TCP, TCP_KEEPINTVL), V_INT, true, "10|0|32768"},
    {"FCL", O(IPPROTO_TCP, TCP_KEEPCNT), V_INT, true, "5|0|127|128"},
    {"F",   O(IPPROTO_TCP, TCP_MAXSEG), V_MAXSEG, true, "1000|10"},
    {"C",   O(IPPROTO_TCP, TCP_MAXSEG), V_MAXSEG, true, ""},
    {"FCL", O(IPPROTO_TCP, TCP_INFO), V_INFO, true, ""},
    {"FC",  O(IPPROTO_TCP, TCP_QUICKACK), V_INT, false, "1"},
    {"FL",  O(IPPROTO_TCP, TCP_DEFER_ACCEPT), V_INT, true, "5|0"},
    {"FCL", O(IPPROTO_TCP, TCP_FASTOPEN), V_INT, true, "5"},
    {"FC",  O(IPPROTO_TCP, TCP_FASTOPEN_CONNECT), V_INT, true, "1|2"},
    {"FCL", O(IPPROTO_TCP, TCP_USER_TIMEOUT), V_INT, true, "1000|-1"},
    {"FCL", O(IPPROTO_TCP, TCP_CONGESTION), V_STR, true, "reno|nosuchcc"},
    {"FC",  O(IPPROTO_TCP, TCP_SYNCNT), V_INT, true, "3|0"},
    {"FC",  O(IPPROTO_TCP, TCP_LINGER2), V_INT, true, "10"},
    {"FC",  O(IPPROTO_TCP, TCP_WINDOW_CLAMP), V_INT, false, "100000|0"},
    {"FC",  O(IPPROTO_TCP, TCP_NOTSENT_LOWAT), V_INT, true, "1000"},
    {"FC",  O(IPPROTO_TCP, TCP_INQ), V_INT, true, "1"},
    {"FC",  IPPROTO_TCP, 999, "TCP_unknown_999", V_INT, true, "1"},
    {"FCL", O(IPPROTO_IP, IP_TOS), V_INT, true, "16|0"},
    {"FC",  O(IPPROTO_IP, IP_TTL), V_INT, true, "32|0|256"},
    {"FC",  O(IPPROTO_IP, IP_RECVTOS), V_INT, true, "1"},
    {"FC",  O(IPPROTO_IP, IP_MTU_DISCOVER), V_INT, true, "2"},
    {"FC",  O(IPPROTO_IP, IP_MTU), V_INT, true, ""},
    {"FC",  O(IPPROTO_IPV6, IPV6_V6ONLY), V_INT, true, "1"},
    {"FC",  12345, 1, "level_12345", V_INT, true, "1"},
};
/* clang-format on */

static void err_or(char *out, size_t n, int r, const char *what)
{
    if (r != 0)
        snprintf(out, n, "%s", strerrorname_np(errno) ?: "?");
    else
        snprintf(out, n, "%s", what);
}

static void get(int fd, const struct row *r, char *out, size_t n)
{
    union {
        int i;
        struct timeval tv;
        struct linger lg;
        char s[64];
        struct tcp_info ti;
        struct sockaddr_in sin;
        uint8_t raw[512];
    } v;
    memset(&v, 0, sizeof(v));
    socklen_t len = r->type == V_INT || r->type == V_MAXSEG ? sizeof(int) : sizeof(v);
    if (r->type == V_STR)
        len = sizeof(v.s);
    if (r->type == V_PEER) /* Linux: EINVAL for a buffer longer than the address */
        len = sizeof(v.sin);
    int rc = getsockopt(fd, r->level, r->opt, &v, &len);
    if (rc != 0) {
        err_or(out, n, rc, "");
        return;
    }
    switch (r->type) {
    case V_INT:
    case V_MAXSEG:
        snprintf(out, n, "%d (len %u)", v.i, len);
        break;
    case V_TV:
        snprintf(out, n, "%ld.%06ld", (long)v.tv.tv_sec, (long)v.tv.tv_usec);
        break;
    case V_LINGER:
        snprintf(out, n, "on=%d linger=%d", v.lg.l_onoff, v.lg.l_linger);
        break;
    case V_STR:
        snprintf(out, n, "'%.*s' (len %u)", (int)len, v.s, len);
        break;
    case V_INFO: /* kernel size; state; the MSS we send with */
        snprintf(out, n, "len %u state %u snd_mss %u", len, v.ti.tcpi_state,
                 v.ti.tcpi_state == TCP_ESTABLISHED ? v.ti.tcpi_snd_mss : 0);
        break;
    case V_PEER:
        snprintf(out, n, "family %d len %u", v.sin.sin_family, len);
        break;
    }
}

static int set(int fd, const struct row *r, const char *val)
{
    int i;
    struct timeval tv;
    struct linger lg;
    switch (r->type) {
    case V_INT:
    case V_MAXSEG:
        i = atoi(val);
        return setsockopt(fd, r->level, r->opt, &i, sizeof(i));
    case V_TV:
        tv.tv_sec = atol(val);
        tv.tv_usec = atol(strchr(val, ',') + 1);
        return setsockopt(fd, r->level, r->opt, &tv, sizeof(tv));
    case V_LINGER:
        lg.l_onoff = atoi(val);
        lg.l_linger = atoi(strchr(val, ',') + 1);
        return setsockopt(fd, r->level, r->opt, &lg, sizeof(lg));
    case V_STR:
        return setsockopt(fd, r->level, r->opt, val, (socklen_t)strlen(val));
    default:
        errno = EINVAL;
        return -1;
    }
}

static void run_row(char kind, int fd, const struct row *r)
{
    char res[128];
    if (r->get_first) {
        get(fd, r, res, sizeof(res));
        printf("%c %s get: %s\n", kind, r->name, res);
    }
    if (r->sets[0] == '\0')
        return;
    char vals[128], *rest = vals, *val;
    snprintf(vals, sizeof(vals), "%s", r->sets);
    while ((val = strsep(&rest, "|")) != NULL) { /* "lo|" ends with an empty value */
        int rc = set(fd, r, val);
        err_or(res, sizeof(res), rc, "ok");
        printf("%c %s set(%s): %s\n", kind, r->name, val, res);
        get(fd, r, res, sizeof(res));
        printf("%c %s get after set(%s): %s\n", kind, r->name, val, res);
    }
}

static int open_kind(char kind, const struct sockaddr_in *peer)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || kind == 'F')
        return fd;
    if (kind == 'L') {
        struct sockaddr_in sa = {.sin_family = AF_INET};
        if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, 8) != 0)
            return -1;
        return fd;
    }
    close(fd);
    fd = tu_connect(peer, 5000);
    if (fd >= 0 && tu_write_all(fd, "sink\n", 5, 5000) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* One process, no fork (so that it can run under tasd too): accept and
 * discard until every client has gone and none came for timeout_s. */
static int sink(uint16_t port, int timeout_s)
{
    struct pollfd p[64];
    int n = 1;
    p[0] = (struct pollfd){.fd = tu_listen(port, 64, 0), .events = POLLIN};
    if (p[0].fd < 0) {
        fprintf(stderr, "%s: listen: %s\n", PROG, strerrorname_np(-p[0].fd) ?: "?");
        return 1;
    }
    tu_ready(PROG, port);
    int64_t end = tu_now_ms() + timeout_s * 1000LL;
    while (tu_left_ms(end) > 0) {
        if (poll(p, (nfds_t)n, tu_left_ms(end)) <= 0)
            continue;
        for (int i = n - 1; i >= 1; i--) {
            char b[4096];
            if (p[i].revents != 0 && read(p[i].fd, b, sizeof(b)) <= 0) {
                close(p[i].fd);
                p[i] = p[--n];
            }
        }
        if ((p[0].revents & POLLIN) && n < 64) {
            int c = accept(p[0].fd, NULL, NULL);
            if (c >= 0)
                p[n++] = (struct pollfd){.fd = c, .events = POLLIN};
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 6 && strcmp(argv[1], "--sink") == 0)
        return sink((uint16_t)tu_num(PROG, "--port", argv[3], 1, 65535),
                    (int)tu_num(PROG, "--timeout", argv[5], 1, 3600));
    if (argc == 2 && strcmp(argv[1], "--congestion") == 0) { /* a fresh socket's */
        char name[16] = "";
        socklen_t len = sizeof(name);
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0 || getsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, name, &len) != 0)
            return 1;
        printf("%.*s\n", (int)len, name);
        return 0;
    }
    if (argc != 5 || strcmp(argv[1], "--addr") != 0 || strcmp(argv[3], "--port") != 0) {
        fprintf(stderr,
                "usage: %s --addr PEER --port P | --sink --port P --timeout S"
                " | --congestion\n",
                PROG);
        return 2;
    }
    struct sockaddr_in peer;
    uint16_t port = (uint16_t)tu_num(PROG, "--port", argv[4], 1, 65534);
    tu_addr(PROG, argv[2], port, &peer);
    alarm(60);

    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        for (const char *k = rows[i].kinds; *k != '\0'; k++) {
            int fd = open_kind(*k, &peer); /* a new socket per row */
            if (fd < 0) {
                fprintf(stderr, "%s: cannot open a %c socket: %s\n", PROG, *k,
                        strerrorname_np(errno) ?: "?");
                return 1;
            }
            run_row(*k, fd, &rows[i]);
            close(fd);
        }
    }

    /* Non-blocking connect to a closed port: SO_ERROR, once. */
    struct sockaddr_in closed = peer;
    closed.sin_port = htons((uint16_t)(port + 1));
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int rc = connect(fd, (struct sockaddr *)&closed, sizeof(closed));
    printf("refused connect: %s\n", rc == 0 ? "0" : strerrorname_np(errno));
    struct pollfd p = {.fd = fd, .events = POLLOUT};
    poll(&p, 1, 5000);
    for (int k = 0; k < 2; k++) {
        int e = -1;
        socklen_t el = sizeof(e);
        rc = getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el);
        printf("refused SO_ERROR %d: %s\n", k,
               rc != 0  ? "failed"
               : e == 0 ? "0"
                        : strerrorname_np(e));
    }
    close(fd);
    return 0;
}
