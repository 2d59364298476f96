/* control.c - the control socket: status, statistics and flows for tasctl.
 *
 * <run_dir>/control.sock is a SOCK_STREAM Unix socket, mode 0660, group
 * "tasd" when that group exists.  A client sends one line,
 *     status | stats | flows   [json]
 *     policy set|get|clear ...   [json]   (slowpath/policy.c)
 * and reads the reply until tasd closes the connection.  Replies are built
 * in memory (open_memstream) and written as the client reads them; a JSON
 * reply is a json-c tree (the parts come from fastpath/, slowpath/ and the
 * port) printed once by cm_json_write (common/json.h).
 *
 * This runs on the slow-path thread, so nothing here may block: the
 * listening socket, the clients and a one-second timerfd sit in a small
 * epoll set of their own, and only that epoll descriptor is registered with
 * the slow-path loop (sp_loop_add), which calls us when any of them is
 * ready.  Every socket is non-blocking; a request is at most
 * CONTROL_REQ_MAX bytes; a client that makes no progress for
 * CONTROL_TIMEOUT_S seconds (slow to ask, or not reading its reply) is
 * dropped; at most CONTROL_MAX_CLIENTS are served at once.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/json.h"
#include "fastpath/fastpath.h"
#include "slowpath/slowpath.h"
#include "tas/msg.h"
#include "tasd/config.h"
#include "tasd/control.h"
#include "tasd/port.h"

#ifndef TASD_VERSION
#define TASD_VERSION "unknown"
#endif

#define CONTROL_REQ_MAX     128
#define CONTROL_MAX_CLIENTS 16
#define CONTROL_TIMEOUT_S   5
#define CONTROL_GROUP       "tasd"

/* epoll data of the two fixed descriptors; clients carry their index. */
#define EV_LISTEN CONTROL_MAX_CLIENTS
#define EV_TIMER  (CONTROL_MAX_CLIENTS + 1)

struct client {
    int fd;       /* -1: slot free */
    time_t since; /* monotonic seconds at accept or last progress */
    char req[CONTROL_REQ_MAX + 1];
    size_t req_len;
    char *reply; /* NULL until the request is complete */
    size_t reply_len, reply_off;
};

static struct {
    int lfd, epfd, tfd;
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    const struct tasd_config *c;
    const struct cm_port *port;
    unsigned n_fp;
    struct timespec started;
    struct client clients[CONTROL_MAX_CLIENTS];
} ctl = {.lfd = -1, .epfd = -1, .tfd = -1};

static time_t mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec;
}

static void client_close(struct client *cl)
{
    epoll_ctl(ctl.epfd, EPOLL_CTL_DEL, cl->fd, NULL);
    close(cl->fd);
    free(cl->reply);
    memset(cl, 0, sizeof(*cl));
    cl->fd = -1;
}

static void prefix_str(char *buf, size_t len, uint32_t ip, uint8_t prefix)
{
    char a[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &ip, a, sizeof(a));
    snprintf(buf, len, "%s/%u", a, (unsigned)prefix);
}

/* What status shows, in the table and in JSON. */
struct status {
    bool ready;
    long uptime;
    char ip[24], host[24], mac[18];
    const char *poll;
};

static void status_now(struct status *st)
{
    const struct tasd_config *c = ctl.c;
    const uint8_t *m = ctl.port->mac;
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    st->ready = sp_ready();
    st->uptime = (long)(now.tv_sec - ctl.started.tv_sec);
    prefix_str(st->ip, sizeof(st->ip), c->ip, c->prefix);
    prefix_str(st->host, sizeof(st->host), c->host_ip, c->host_prefix);
    snprintf(st->mac, sizeof(st->mac), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2],
             m[3], m[4], m[5]);
    st->poll = c->poll == TASD_POLL_BUSY ? "busy" : "adaptive";
}

static struct json_object *status_json(void)
{
    const struct tasd_config *c = ctl.c;
    const struct cm_port *p = ctl.port;
    struct json_object *o = json_object_new_object();
    struct status st;

    status_now(&st);
    cm_json_bool(o, "ready", st.ready);
    cm_json_str(o, "version", TASD_VERSION);
    cm_json_int(o, "pid", (int)getpid());
    cm_json_int(o, "uptime_s", st.uptime);
    cm_json_str(o, "config", c->config_file);
    cm_json_str(o, "run_dir", c->run_dir);
    cm_json_str(o, "ip", st.ip);
    struct json_object *port = cm_json_obj(o, "port");
    cm_json_u64(port, "id", p->port_id);
    cm_json_str(port, "driver", p->driver);
    cm_json_bool(port, "rx_wake", p->n_rx_fds > 0);
    cm_json_str(port, "mac", st.mac);
    cm_json_u64(port, "mtu", p->mtu);
    cm_json_u64(port, "queues", p->n_queues);
    cm_json_bool(port, "rx_cksum_offload", p->rx_cksum);
    cm_json_bool(port, "tx_cksum_offload", p->tx_cksum);
    cm_json_bool(port, "tso", p->tso_frame_max != 0);
    cm_json_u64(o, "fp_cores", ctl.n_fp);
    cm_json_str(o, "poll", st.poll);
    cm_json_u64(o, "poll_max_sleep_us", c->poll_max_sleep_us);
    cm_json_str(o, "sp_thread", fp.cores[0].sp_inline ? "shared" : "own");
    if (c->host_if[0]) {
        struct json_object *h = cm_json_obj(o, "host_if");
        cm_json_str(h, "name", c->host_if);
        cm_json_str(h, "ip", st.host);
    } else {
        cm_json_add(o, "host_if", NULL);
    }
    return o;
}

static void write_status(FILE *f)
{
    const struct tasd_config *c = ctl.c;
    const struct cm_port *p = ctl.port;
    struct status st;
    long up;

    status_now(&st);
    up = st.uptime;
    fprintf(f, "ready:      %s\n", st.ready ? "yes" : "no");
    fprintf(f, "version:    %s\n", TASD_VERSION);
    fprintf(f, "pid:        %d\n", (int)getpid());
    fprintf(f, "uptime:     %ldd %02ld:%02ld:%02ld\n", up / 86400, up / 3600 % 24,
            up / 60 % 60, up % 60);
    fprintf(f, "config:     %s\n", c->config_file[0] ? c->config_file : "(none)");
    fprintf(f, "run dir:    %s\n", c->run_dir);
    fprintf(f, "ip:         %s\n", st.ip);
    fprintf(f, "port:       %u (%s), MAC %s, MTU %u, %u queue pair(s)\n", p->port_id,
            p->driver, st.mac, p->mtu, p->n_queues);
    fprintf(f, "offloads:   rx checksum %s, tx checksum %s, TSO %s\n",
            p->rx_cksum ? "on" : "off", p->tx_cksum ? "on" : "off",
            p->tso_frame_max != 0 ? "on" : "off");
    fprintf(f, "fast path:  %u core(s), %s polling", ctl.n_fp, st.poll);
    if (c->poll == TASD_POLL_ADAPTIVE && p->n_rx_fds > 0)
        fprintf(f, " (a received frame wakes a sleeping core)");
    else if (c->poll == TASD_POLL_ADAPTIVE)
        fprintf(f, " (sleeps up to %u us)", c->poll_max_sleep_us);
    fputc('\n', f);
    fprintf(f, "slow path:  %s\n",
            fp.cores[0].sp_inline ? "on fast-path core 0's thread" : "on a thread of its own");
    if (c->host_if[0])
        fprintf(f, "host if:    %s %s\n", c->host_if, st.host);
    if (tasd_impair_on())
        fprintf(f, "impair:     ON (test only; counters in tasctl stats)\n");
}

static struct json_object *stats_json(void)
{
    struct json_object *o = json_object_new_object();

    cm_json_add(o, "fastpath", fp_stats_json());
    cm_json_add(o, "slowpath", sp_stats_json());
    cm_json_add(o, "port", tasd_port_stats_json(ctl.port));
    if (tasd_impair_on())
        cm_json_add(o, "impair", tasd_impair_stats_json());
    return o;
}

static void write_stats(FILE *f)
{
    fp_write_stats(f);
    sp_write_stats(f);
    tasd_port_write_stats(f, ctl.port);
    tasd_impair_write_stats(f); /* only when the impairment is on */
}

#define BAD_REQUEST     "bad request: want status|stats|flows [json] or policy ..."
#define UNKNOWN_REQUEST "unknown request '%s' (status, stats, flows, policy)"

static struct json_object *error_json(const char *msg)
{
    struct json_object *o = json_object_new_object();
    cm_json_str(o, "error", msg);
    return o;
}

/* The reply to a well-formed or bad request, as a json-c tree. */
static struct json_object *reply_json(const char *cmd, bool bad)
{
    char msg[CONTROL_REQ_MAX + 64];

    if (bad)
        return error_json(BAD_REQUEST);
    if (!strcmp(cmd, "status"))
        return status_json();
    if (!strcmp(cmd, "stats"))
        return stats_json();
    if (!strcmp(cmd, "flows"))
        return sp_flows_json();
    snprintf(msg, sizeof(msg), UNKNOWN_REQUEST, cmd);
    return error_json(msg);
}

/* The same as a table or text for people. */
static void reply_text(FILE *f, const char *cmd, bool bad)
{
    if (bad)
        fprintf(f, "error: %s\n", BAD_REQUEST);
    else if (!strcmp(cmd, "status"))
        write_status(f);
    else if (!strcmp(cmd, "stats"))
        write_stats(f);
    else if (!strcmp(cmd, "flows"))
        sp_write_flows(f);
    else
        fprintf(f, "error: " UNKNOWN_REQUEST "\n", cmd);
}

/* "policy set|get|clear ... [json]": the slow path's policy (policy.c). */
static int policy_reply(struct client *cl, char *rest)
{
    char *words[16], *save = NULL, *w;
    int n = 0, rc = 0;
    bool json = false;
    FILE *f;

    while ((w = strtok_r(n == 0 ? rest : NULL, " \t", &save)) != NULL && n < 16)
        words[n++] = w;
    if (n > 0 && (!strcmp(words[n - 1], "json") || !strcmp(words[n - 1], "--json"))) {
        json = true;
        n--;
    }
    f = open_memstream(&cl->reply, &cl->reply_len);
    if (!f)
        return -ENOMEM;
    if (w != NULL) /* more than 16 words */
        rc = json ? cm_json_write(f, error_json("policy: too many words"))
                  : (fprintf(f, "error: policy: too many words\n"), 0);
    else if (json)
        rc = cm_json_write(f, sp_policy_request_json(n, words));
    else
        sp_policy_request(f, n, words);
    if (fclose(f) || rc) {
        free(cl->reply);
        cl->reply = NULL;
        return -ENOMEM;
    }
    return 0;
}

/* Parse the request line and build the reply. */
static int build_reply(struct client *cl)
{
    char *line = cl->req, *cmd, *arg, *extra, *save = NULL;
    bool json = false, bad;
    int rc = 0;
    FILE *f;

    line[strcspn(line, "\r\n")] = '\0';
    if (!strncmp(line, "policy", 6) && (line[6] == ' ' || line[6] == '\0'))
        return policy_reply(cl, line + 6);
    cmd = strtok_r(line, " \t", &save);
    arg = strtok_r(NULL, " \t", &save);
    extra = strtok_r(NULL, " \t", &save);
    if (arg && (!strcmp(arg, "json") || !strcmp(arg, "--json")))
        json = true;
    bad = !cmd || extra || (arg && !json);

    f = open_memstream(&cl->reply, &cl->reply_len);
    if (!f)
        return -ENOMEM;
    if (json)
        rc = cm_json_write(f, reply_json(cmd, bad));
    else
        reply_text(f, cmd, bad);
    if (fclose(f) || rc) {
        free(cl->reply);
        cl->reply = NULL;
        return -ENOMEM;
    }
    return 0;
}

/* Write what the socket takes; close when done or when the client is gone. */
static void client_send(struct client *cl)
{
    while (cl->reply_off < cl->reply_len) {
        ssize_t n = send(cl->fd, cl->reply + cl->reply_off, cl->reply_len - cl->reply_off,
                         MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return; /* EPOLLOUT brings us back */
        if (n <= 0)
            break;
        cl->reply_off += (size_t)n;
        cl->since = mono_s(); /* reading, if slowly: not stalled */
    }
    client_close(cl);
}

static void client_read(struct client *cl)
{
    bool eof = false;
    struct epoll_event ev;

    while (cl->req_len < CONTROL_REQ_MAX) {
        ssize_t n = recv(cl->fd, cl->req + cl->req_len, CONTROL_REQ_MAX - cl->req_len,
                         MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n < 0) {
            client_close(cl);
            return;
        }
        if (n == 0) {
            eof = true;
            break;
        }
        cl->req_len += (size_t)n;
        cl->req[cl->req_len] = '\0';
        if (strchr(cl->req, '\n'))
            break;
    }
    cl->req[cl->req_len] = '\0';
    if (!strchr(cl->req, '\n') && !eof && cl->req_len < CONTROL_REQ_MAX)
        return; /* wait for the rest of the line */
    if (cl->req_len == 0 || memchr(cl->req, '\0', cl->req_len)) {
        client_close(cl);
        return;
    }
    if (!strchr(cl->req, '\n') && cl->req_len == CONTROL_REQ_MAX) {
        static const char msg[] = "error: request too long\n";
        send(cl->fd, msg, sizeof(msg) - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
        client_close(cl);
        return;
    }
    if (build_reply(cl)) {
        client_close(cl);
        return;
    }
    ev.events = EPOLLOUT;
    ev.data.u32 = (uint32_t)(cl - ctl.clients);
    epoll_ctl(ctl.epfd, EPOLL_CTL_MOD, cl->fd, &ev);
    client_send(cl);
}

static void accept_clients(void)
{
    for (;;) {
        int fd = accept4(ctl.lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        struct client *cl = NULL;
        struct epoll_event ev;

        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            return; /* EAGAIN, or out of descriptors: try again next time */
        }
        for (int i = 0; i < CONTROL_MAX_CLIENTS; i++) {
            if (ctl.clients[i].fd < 0) {
                cl = &ctl.clients[i];
                break;
            }
        }
        if (!cl) {
            static const char msg[] = "error: too many control clients, try again\n";
            send(fd, msg, sizeof(msg) - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
            close(fd);
            continue;
        }
        memset(cl, 0, sizeof(*cl));
        cl->fd = fd;
        cl->since = mono_s();
        ev.events = EPOLLIN;
        ev.data.u32 = (uint32_t)(cl - ctl.clients);
        if (epoll_ctl(ctl.epfd, EPOLL_CTL_ADD, fd, &ev)) {
            close(fd);
            cl->fd = -1;
        }
    }
}

static void drop_stalled(void)
{
    uint64_t ticks;
    time_t now = mono_s();

    if (read(ctl.tfd, &ticks, sizeof(ticks)) < 0) {
        /* EAGAIN: nothing to consume */
    }
    for (int i = 0; i < CONTROL_MAX_CLIENTS; i++) {
        struct client *cl = &ctl.clients[i];
        if (cl->fd >= 0 && now - cl->since >= CONTROL_TIMEOUT_S) {
            fprintf(stderr, "tasd: control: client stalled for %d s %s; dropping it\n",
                    CONTROL_TIMEOUT_S,
                    cl->reply ? "reading its reply" : "sending a request");
            client_close(cl);
        }
    }
}

/* The slow-path loop calls this when our epoll set has something ready. */
static void control_ready(int fd, uint32_t events, void *arg)
{
    struct epoll_event evs[CONTROL_MAX_CLIENTS + 2];
    int n = epoll_wait(ctl.epfd, evs, CONTROL_MAX_CLIENTS + 2, 0);

    for (int i = 0; i < n; i++) {
        uint32_t id = evs[i].data.u32;
        struct client *cl;

        if (id == EV_LISTEN) {
            accept_clients();
            continue;
        }
        if (id == EV_TIMER) {
            drop_stalled();
            continue;
        }
        cl = &ctl.clients[id];
        if (cl->fd < 0)
            continue; /* closed earlier in this batch */
        if (cl->reply)
            client_send(cl);
        else if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
            client_read(cl);
    }
}

static int listen_socket(const struct tasd_config *c)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    struct group gr, *grp = NULL;
    char grbuf[1024];
    mode_t old;
    int fd, rc;

    rc = snprintf(ctl.path, sizeof(ctl.path), "%s/%s", c->run_dir, TAS_CONTROL_SOCK);
    if (rc < 0 || (size_t)rc >= sizeof(ctl.path))
        return -ENAMETOOLONG;
    memcpy(sa.sun_path, ctl.path, sizeof(ctl.path));

    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    /* main made sure no live tasd uses this run dir: a leftover is stale. */
    unlink(ctl.path);
    old = umask(0117); /* the socket file is created 0660 */
    rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
    umask(old);
    if (rc || listen(fd, CONTROL_MAX_CLIENTS)) {
        rc = -errno;
        close(fd);
        return rc;
    }
    if (getgrnam_r(CONTROL_GROUP, &gr, grbuf, sizeof(grbuf), &grp) == 0 && grp) {
        if (chown(ctl.path, (uid_t)-1, grp->gr_gid))
            fprintf(stderr,
                    "tasd: %s: cannot give it to group %s: %s; only root can use "
                    "it\n",
                    ctl.path, CONTROL_GROUP, strerror(errno));
    }
    return fd;
}

int tasd_control_init(const struct tasd_config *c, const struct cm_port *port,
                      unsigned n_fp)
{
    struct itimerspec its = {.it_interval = {1, 0}, .it_value = {1, 0}};
    struct epoll_event ev = {.events = EPOLLIN};
    int rc;

    ctl.c = c;
    ctl.port = port;
    ctl.n_fp = n_fp;
    clock_gettime(CLOCK_MONOTONIC, &ctl.started);
    for (int i = 0; i < CONTROL_MAX_CLIENTS; i++)
        ctl.clients[i].fd = -1;

    ctl.lfd = listen_socket(c);
    if (ctl.lfd < 0) {
        rc = ctl.lfd;
        ctl.lfd = -1;
        fprintf(stderr, "tasd: cannot listen on %s/%s: %s\n", c->run_dir,
                TAS_CONTROL_SOCK, strerror(-rc));
        return rc;
    }
    ctl.epfd = epoll_create1(EPOLL_CLOEXEC);
    ctl.tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (ctl.epfd < 0 || ctl.tfd < 0 || timerfd_settime(ctl.tfd, 0, &its, NULL))
        goto fail;
    ev.data.u32 = EV_LISTEN;
    if (epoll_ctl(ctl.epfd, EPOLL_CTL_ADD, ctl.lfd, &ev))
        goto fail;
    ev.data.u32 = EV_TIMER;
    if (epoll_ctl(ctl.epfd, EPOLL_CTL_ADD, ctl.tfd, &ev))
        goto fail;
    rc = sp_loop_add(ctl.epfd, control_ready, NULL);
    if (rc) {
        errno = -rc;
        goto fail;
    }
    return 0;

fail:
    rc = -errno;
    fprintf(stderr, "tasd: control socket %s: %s\n", ctl.path, strerror(errno));
    tasd_control_fini();
    return rc;
}

void tasd_control_fini(void)
{
    if (ctl.epfd >= 0) {
        sp_loop_del(ctl.epfd);
        for (int i = 0; i < CONTROL_MAX_CLIENTS; i++)
            if (ctl.clients[i].fd >= 0)
                client_close(&ctl.clients[i]);
        close(ctl.epfd);
        ctl.epfd = -1;
    }
    if (ctl.tfd >= 0) {
        close(ctl.tfd);
        ctl.tfd = -1;
    }
    if (ctl.lfd >= 0) {
        close(ctl.lfd);
        ctl.lfd = -1;
        unlink(ctl.path);
    }
}
