/* semutil.c - the semantics tests' shared parts (see semutil.h). */
#include "semutil.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "tutil.h"

#define CTL_TIMEOUT_MS 40000

struct sem S;

void sem_init(const char *prog, int argc, char **argv)
{
    static const struct option opts[] = {
        {"peer", required_argument, NULL, 'a'},
        {"ctl-port", required_argument, NULL, 'c'},
        {"data-port", required_argument, NULL, 'd'},
        {"listen-port", required_argument, NULL, 'l'},
        {"mode", required_argument, NULL, 'm'},
        {NULL, 0, NULL, 0},
    };
    const char *mode = NULL;
    int o;
    S.prog = prog;
    S.ctl_port = 7100;
    S.data_port = 7101;
    S.listen_port = 7102;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 'a':
            S.peer_ip = optarg;
            break;
        case 'c':
            S.ctl_port = (uint16_t)tu_num(prog, "--ctl-port", optarg, 1, 65535);
            break;
        case 'd':
            S.data_port = (uint16_t)tu_num(prog, "--data-port", optarg, 1, 65535);
            break;
        case 'l':
            S.listen_port = (uint16_t)tu_num(prog, "--listen-port", optarg, 1, 65535);
            break;
        case 'm':
            mode = optarg;
            break;
        default:
            mode = NULL;
            S.peer_ip = NULL;
            optind = argc;
        }
    }
    if (S.peer_ip == NULL || mode == NULL ||
        (strcmp(mode, "tasd") != 0 && strcmp(mode, "linux") != 0)) {
        fprintf(stderr,
                "usage: %s --peer A --mode tasd|linux [--ctl-port P] [--data-port P] "
                "[--listen-port P]\n",
                prog);
        exit(2);
    }
    S.tasd = strcmp(mode, "tasd") == 0;
    setvbuf(stdout, NULL, _IOLBF, 0);
    struct sockaddr_in sa;
    tu_addr(prog, S.peer_ip, S.ctl_port, &sa);
    S.ctl = tu_connect(&sa, CTL_TIMEOUT_MS);
    if (S.ctl < 0) {
        fprintf(stderr, "%s: control connection: %s\n", prog, tu_errname(-S.ctl));
        exit(1);
    }
}

int sem_finish(void)
{
    sem_peer(NULL, 0, "quit");
    close(S.ctl);
    printf("%s: %d passed, %d failed\n", S.prog, S.passes, S.fails);
    return S.fails == 0 ? 0 : 1;
}

int sem_peer(char *reply, size_t len, const char *fmt, ...)
{
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
    va_end(ap);
    if (n < 0 || n >= (int)sizeof(line) - 1) {
        fprintf(stderr, "%s: peer command too long\n", S.prog);
        exit(1);
    }
    line[n++] = '\n';
    int r = tu_write_all(S.ctl, line, (size_t)n, CTL_TIMEOUT_MS);
    if (r < 0) {
        fprintf(stderr, "%s: control write: %s\n", S.prog, tu_errname(-r));
        exit(1);
    }
    /* One reply line, read byte by byte (replies are short). */
    char got[256];
    size_t k = 0;
    for (;;) {
        char c;
        ssize_t m = tu_read_wait(S.ctl, &c, 1, CTL_TIMEOUT_MS);
        if (m <= 0) {
            fprintf(stderr, "%s: control read: %s\n", S.prog,
                    m == 0 ? "EOF" : tu_errname((int)-m));
            exit(1);
        }
        if (c == '\n')
            break;
        if (k < sizeof(got) - 1)
            got[k++] = c;
    }
    got[k] = '\0';
    bool ok = strncmp(got, "ok", 2) == 0;
    if (reply != NULL && len > 0)
        snprintf(reply, len, "%s", ok ? got + (got[2] == ' ' ? 3 : 2) : got);
    return ok ? 0 : -1;
}

int sem_connect(char *id)
{
    struct sockaddr_in sa, me;
    socklen_t ml = sizeof(me);
    tu_addr(S.prog, S.peer_ip, S.data_port, &sa);
    int fd = tu_connect(&sa, CTL_TIMEOUT_MS);
    if (fd < 0 || getsockname(fd, (struct sockaddr *)&me, &ml) != 0) {
        fprintf(stderr, "%s: data connection: %s\n", S.prog,
                tu_errname(fd < 0 ? -fd : errno));
        exit(1);
    }
    snprintf(id, 16, "%u", ntohs(me.sin_port));
    return fd;
}

int sem_accept_from_peer(int lfd, char *id)
{
    char reply[16];
    if (sem_peer(reply, sizeof(reply), "connect %u", S.listen_port) != 0)
        return -1;
    memcpy(id, reply, sizeof(reply));
    int fd = tu_accept(lfd, CTL_TIMEOUT_MS);
    if (fd < 0) {
        fprintf(stderr, "%s: accept: %s\n", S.prog, tu_errname(-fd));
        exit(1);
    }
    return fd;
}

void sem_check(bool ok, const char *what, const char *fmt, ...)
{
    char desc[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(desc, sizeof(desc), fmt, ap);
    va_end(ap);
    if (ok) {
        S.passes++;
        printf("PASS: %s\n", desc);
    } else {
        S.fails++;
        printf("FAIL: %s  [%s]\n", desc, what);
    }
}

int64_t sem_since(int64_t start_ms)
{
    return tu_now_ms() - start_ms;
}

void sem_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

ssize_t sem_read_n(int fd, void *buf, size_t n, int timeout_ms)
{
    int64_t end = tu_now_ms() + timeout_ms;
    size_t got = 0;
    while (got < n) {
        ssize_t r = tu_read_wait(fd, (char *)buf + got, n - got, tu_left_ms(end));
        if (r < 0)
            return r;
        if (r == 0)
            break;
        got += (size_t)r;
    }
    return (ssize_t)got;
}
