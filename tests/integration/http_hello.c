/* http_hello.c - the demo's web server: an ordinary epoll HTTP/1.1 server
 * that answers every request with "hello from tasd\n".
 *
 * It reads each connection until the end of a request header (a blank
 * line), answers, and keeps the connection open for the next request unless
 * the client asked for "Connection: close".  Request bodies are not
 * expected (GET/HEAD); a header over 8 KiB is answered with 431 and closed.
 *
 *   http_hello [--port P] [--max-requests N] [--timeout SECONDS]
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tutil.h"

#define PROG    "http_hello"
#define REQ_MAX 8192
#define BODY    "hello from tasd\n"

struct conn {
    int fd;
    size_t len;
    char req[REQ_MAX + 1];
};

static int ep;
static long requests;
static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    stop = sig;
}

static void conn_close(struct conn *c)
{
    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    free(c);
}

/* Case-insensitive search for "connection: close" in the header. */
static bool wants_close(const char *hdr, size_t len)
{
    static const char key[] = "connection: close";
    size_t k = sizeof(key) - 1;
    for (size_t i = 0; i + k <= len; i++) {
        size_t j = 0;
        while (j < k && tolower((unsigned char)hdr[i + j]) == key[j])
            j++;
        if (j == k)
            return true;
    }
    return false;
}

/* Answer every complete request in the buffer.  False: connection closed. */
static bool conn_serve(struct conn *c)
{
    for (;;) {
        c->req[c->len] = '\0';
        char *end = strstr(c->req, "\r\n\r\n");
        if (end == NULL) {
            if (c->len < REQ_MAX)
                return true;
            static const char too_big[] =
                "HTTP/1.1 431 Request Header Fields Too Large\r\n"
                "Content-Length: 0\r\nConnection: close\r\n\r\n";
            (void)tu_write_all(c->fd, too_big, sizeof(too_big) - 1, 2000);
            conn_close(c);
            return false;
        }
        size_t hlen = (size_t)(end - c->req) + 4;
        bool close_after = wants_close(c->req, hlen);
        bool head = strncmp(c->req, "HEAD ", 5) == 0;
        char resp[256];
        int n = snprintf(resp, sizeof(resp),
                         "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                         "Content-Length: %zu\r\n%s\r\n%s",
                         sizeof(BODY) - 1, close_after ? "Connection: close\r\n" : "",
                         head ? "" : BODY);
        /* Replies are small: a blocking-style bounded write is fine here. */
        if (tu_write_all(c->fd, resp, (size_t)n, 5000) < 0 || close_after) {
            requests++;
            conn_close(c);
            return false;
        }
        requests++;
        memmove(c->req, c->req + hlen, c->len - hlen);
        c->len -= hlen;
    }
}

static void conn_read(struct conn *c)
{
    ssize_t r = read(c->fd, c->req + c->len, REQ_MAX - c->len);
    if (r < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (r <= 0) {
        conn_close(c);
        return;
    }
    c->len += (size_t)r;
    conn_serve(c);
}

static void accept_all(int lfd)
{
    for (;;) {
        int fd = accept(lfd, NULL, NULL);
        if (fd < 0)
            return;
        struct conn *c = calloc(1, sizeof(*c));
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
        if (c == NULL || tu_set_nonblock(fd, 1) < 0 ||
            epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
            close(fd);
            free(c);
            continue;
        }
        c->fd = fd;
    }
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"port", required_argument, NULL, 'p'},
        {"max-requests", required_argument, NULL, 'n'},
        {"timeout", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    uint16_t port = 8080;
    long max_requests = 0, timeout_s = 0;
    int o;
    while ((o = getopt_long(argc, argv, "p:n:t:h", opts, NULL)) != -1) {
        switch (o) {
        case 'p':
            port = (uint16_t)tu_num(PROG, "--port", optarg, 1, 65535);
            break;
        case 'n':
            max_requests = tu_num(PROG, "--max-requests", optarg, 1, 1000000000);
            break;
        case 't':
            timeout_s = tu_num(PROG, "--timeout", optarg, 1, 86400);
            break;
        default:
            fprintf(stderr,
                    "usage: " PROG " [--port P] [--max-requests N] [--timeout S]\n");
            return 2;
        }
    }
    signal(SIGPIPE, SIG_IGN);
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);

    int lfd = tu_listen(port, 128, 1);
    if (lfd < 0) {
        fprintf(stderr, PROG ": listen on port %u: %s\n", port, strerror(-lfd));
        return 1;
    }
    ep = epoll_create1(0);
    struct epoll_event lev = {.events = EPOLLIN, .data.ptr = NULL};
    if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &lev) < 0) {
        fprintf(stderr, PROG ": epoll: %s\n", strerror(errno));
        return 1;
    }
    tu_ready(PROG, port);
    int64_t deadline = timeout_s ? tu_now_ms() + timeout_s * 1000 : 0;
    struct epoll_event evs[64];
    while (!stop && (max_requests == 0 || requests < max_requests)) {
        if (deadline && tu_left_ms(deadline) == 0)
            break;
        int n = epoll_wait(ep, evs, 64, 500);
        for (int i = 0; i < n; i++) {
            if (evs[i].data.ptr == NULL)
                accept_all(lfd);
            else
                conn_read(evs[i].data.ptr);
        }
    }
    fprintf(stderr, PROG ": answered %ld requests\n", requests);
    close(lfd);
    return 0;
}
