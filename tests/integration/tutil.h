/* tutil.h - small helpers shared by the integration test programs and the
 * RPC benchmark client: argument parsing, IPv4 addresses, clocks, bounded
 * (poll-timed) connect/accept/write, and the byte pattern that lets a
 * receiver verify every byte it got.
 *
 * These programs are ordinary socket programs: plain libc, nothing here
 * knows about tasd.  Run under LD_PRELOAD=libtas_interpose.so they exercise
 * the shim exactly as any other unmodified program would.
 */
#ifndef TUTIL_H
#define TUTIL_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Parse a decimal number in [min, max]; exits with a usage error if not. */
long tu_num(const char *prog, const char *opt, const char *s, long min, long max);

/* "a.b.c.d" + port -> sockaddr; exits with a usage error on a bad address. */
void tu_addr(const char *prog, const char *ip, uint16_t port, struct sockaddr_in *sa);

/* Monotonic clock. */
uint64_t tu_now_ns(void);
static inline int64_t tu_now_ms(void)
{
    return (int64_t)(tu_now_ns() / 1000000);
}

/* Milliseconds left until deadline_ms (>= 0), for poll(). */
int tu_left_ms(int64_t deadline_ms);

int tu_set_nonblock(int fd, int on);

/* Listening TCP socket on INADDR_ANY:port (SO_REUSEADDR); fd or -errno. */
int tu_listen(uint16_t port, int backlog, int nonblock);
/* The same, with SO_REUSEPORT if reuseport (several processes share the
 * port, each new connection going to one of them). */
int tu_listen_opt(uint16_t port, int backlog, int nonblock, int reuseport);

/* Accept one connection, waiting at most timeout_ms; fd or -errno
 * (-ETIMEDOUT).  The returned socket is blocking. */
int tu_accept(int lfd, int timeout_ms);

/* Connect (blocking socket returned), waiting at most timeout_ms; fd or
 * -errno. */
int tu_connect(const struct sockaddr_in *sa, int timeout_ms);

/* Write all of buf to fd (socket or file), polling for at most idle_ms
 * without progress; 0 or -errno. */
int tu_write_all(int fd, const void *buf, size_t len, int idle_ms);

/* Read up to len bytes, waiting at most timeout_ms for the first one:
 * bytes read (0 = EOF) or -errno (-ETIMEDOUT). */
ssize_t tu_read_wait(int fd, void *buf, size_t len, int timeout_ms);

/* Deterministic pseudo-random bytes for (seed): the same seed gives the
 * same bytes at both ends. */
void tu_pattern(uint8_t *buf, size_t len, uint64_t seed);

/* Tell the test harness we are listening (one line on stderr). */
void tu_ready(const char *prog, uint16_t port);
/* With TU_SOCKBUF set (see tu_listen): print SO_RCVBUF/SO_SNDBUF of fd. */
void tu_print_bufs(const char *prog, int fd);

/* One connection: with addr == NULL listen on port, say READY and accept
 * one connection; otherwise connect to addr:port.  On failure it says why
 * on stderr and returns -1. */
int tu_open_one(const char *prog, const char *addr, uint16_t port, int timeout_ms);

/* The command line of a one-connection program:
 *   PROG (--addr A | --listen) [--port P] [--timeout S] [--cc NAME] REDIRECT
 * (--cc: TCP_CONGESTION on the listening socket, or on the connected one;
 * tu_open_one then prints what getsockopt answers)
 * (REDIRECT is "< data" or "> data", for the usage line).  Fills addr (NULL
 * with --listen), port (default 7001) and the idle timeout in ms (default
 * 30 s); exits 2 with the usage line on a bad command line. */
void tu_one_args(const char *prog, const char *redirect, int argc, char **argv,
                 const char **addr, uint16_t *port, int *timeout_ms);

/* Latency samples, in ns (clamped to 4 s): tu_lat_add each, then
 * tu_lat_sort once and read percentiles.  A sample that finds no memory is
 * left out (the count of operations stays the caller's). */
struct tu_lat {
    uint32_t *v;
    size_t n, cap;
};
void tu_lat_add(struct tu_lat *l, uint64_t ns);
void tu_lat_sort(struct tu_lat *l);
double tu_lat_pct_us(const struct tu_lat *l, double p); /* p in 0..1; 0 if none */

/* Name of an errno value ("ECONNRESET"), or its number as text. */
const char *tu_errname(int err);

#endif /* TUTIL_H */
