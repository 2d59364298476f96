/* semutil.h - what the semantics tests (sem_epoll, sem_poll, sem_threads)
 * share: their command line, the control connection to the Linux peer
 * (sem_peer.py), data connections the peer can act on, and PASS/FAIL
 * counting.
 *
 * The peer runs in the other namespace and does what the test asks on the
 * control connection: send bytes, shut down, reset, connect (sem_peer.py
 * lists the commands).  A test then checks what its own side reports:
 * events, revents, return values, errno, and how long a call took.
 */
#ifndef SEMUTIL_H
#define SEMUTIL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct sem {
    const char *prog;
    const char *peer_ip;
    uint16_t ctl_port, data_port, listen_port;
    bool tasd; /* --mode tasd: the program runs under tasd (extra checks) */
    int ctl;   /* control connection to the peer */
    int passes, fails;
};

extern struct sem S;

/* --peer A [--ctl-port P] [--data-port P] [--listen-port P] --mode tasd|linux;
 * connects the control connection (exits 1 if it cannot). */
void sem_init(const char *prog, int argc, char **argv);
/* Summary line; exit status 0 if every check passed. */
int sem_finish(void);

/* One command to the peer; the reply (without "ok ") in reply if given.
 * Returns 0 for "ok", -1 otherwise (the reply says why). */
int sem_peer(char *reply, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A data connection to the peer (blocking); its id for peer commands is
 * written to id (at least 16 bytes).  Exits on failure. */
int sem_connect(char *id);
/* The peer connects to our listener lfd (on S.listen_port) and we accept;
 * 0 or -1 if the peer could not connect.  Exits if accept fails. */
int sem_accept_from_peer(int lfd, char *id);

/* Record a check. */
void sem_check(bool ok, const char *what, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
#define CHECK(cond, ...) sem_check((cond), #cond, __VA_ARGS__)

/* Milliseconds since start_ms (from tu_now_ms()). */
int64_t sem_since(int64_t start_ms);
void sem_sleep_ms(int ms);
/* Read exactly n bytes with a bound of timeout_ms; bytes read or -errno. */
ssize_t sem_read_n(int fd, void *buf, size_t n, int timeout_ms);

#endif
