/* tasctl.c - ask a running tasd for its status, statistics or flows.
 *
 *     tasctl [--run-dir DIR] status|stats|flows [--json]
 *
 * Connects to <run dir>/control.sock (run dir: --run-dir, else $TAS_RUN_DIR,
 * else /run/tasd), sends one request line, prints the reply.  Exit status:
 * 0 done (for status: tasd is ready), 1 tasd not reachable, not ready, or it
 * answered with an error, 2 usage error.  Scripts wait for tasd with
 *     until tasctl status >/dev/null; do sleep 0.1; done
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "tas/msg.h"

#ifndef TASD_VERSION
#define TASD_VERSION "unknown"
#endif

#define TIMEOUT_MS 10000
#define REPLY_MAX  (256u << 20)

static void usage(FILE *f)
{
    fprintf(f,
            "usage: tasctl [--run-dir DIR] status|stats|flows [--json]\n"
            "\n"
            "Ask the running tasd (TCP acceleration service) about itself.\n"
            "  status     readiness, version, address, port, cores\n"
            "  stats      fast-path and slow-path counters\n"
            "  flows      one line per connection and listener\n"
            "\n"
            "  -j, --json          answer in JSON\n"
            "  -r, --run-dir DIR   tasd's run directory (default $TAS_RUN_DIR or %s)\n"
            "  -h, --help          show this help\n"
            "  -V, --version       show the version\n"
            "\n"
            "Exit status: 0 done (status: tasd is ready), 1 tasd not running, not ready\n"
            "or it reported an error, 2 usage error.\n",
            TAS_DEFAULT_RUN_DIR);
}

static int connect_control(const char *run_dir)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int fd, n;

    n = snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", run_dir, TAS_CONTROL_SOCK);
    if (n < 0 || (size_t)n >= sizeof(sa.sun_path)) {
        fprintf(stderr, "tasctl: run dir %s: path too long\n", run_dir);
        return -ENAMETOOLONG;
    }
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        perror("tasctl: socket");
        return -errno;
    }
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
        return fd;
    n = errno;
    close(fd);
    if (n == EACCES || n == EPERM)
        fprintf(stderr,
                "tasctl: %s: permission denied (run as root or as a member of "
                "group tasd)\n",
                sa.sun_path);
    else if (n == ENOENT || n == ECONNREFUSED || n == ENOTDIR)
        fprintf(stderr, "tasctl: tasd is not running (run dir %s)\n", run_dir);
    else
        fprintf(stderr, "tasctl: cannot reach tasd at %s: %s\n", sa.sun_path,
                strerror(n));
    return -n;
}

static long ms_left(const struct timespec *end)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (end->tv_sec - now.tv_sec) * 1000 + (end->tv_nsec - now.tv_nsec) / 1000000;
}

/* Send the request, read the whole reply (tasd closes when done). */
static int ask(int fd, const char *req, char **reply, size_t *len)
{
    struct timespec end;
    size_t cap = 0, req_len = strlen(req), off = 0;
    char *buf = NULL;

    clock_gettime(CLOCK_MONOTONIC, &end);
    end.tv_sec += TIMEOUT_MS / 1000;
    while (off < req_len) {
        ssize_t n = send(fd, req + off, req_len - off, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        off += (size_t)n;
    }
    *len = 0;
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        long left = ms_left(&end);
        ssize_t n;

        if (left <= 0 || poll(&p, 1, (int)left) == 0) {
            free(buf);
            return -ETIMEDOUT;
        }
        if (*len + 4096 + 1 > cap) {
            char *nb;
            cap = cap ? cap * 2 : 65536;
            if (cap > REPLY_MAX || !(nb = realloc(buf, cap))) {
                free(buf);
                return -ENOMEM;
            }
            buf = nb;
        }
        n = recv(fd, buf + *len, cap - *len - 1, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            free(buf);
            return -e;
        }
        if (n == 0)
            break;
        *len += (size_t)n;
    }
    if (!buf && !(buf = malloc(1)))
        return -ENOMEM;
    buf[*len] = '\0';
    *reply = buf;
    return 0;
}

/* status: tasd's first line is "ready: yes|no", or "ready": true|false in JSON. */
static bool reports_ready(const char *reply, bool json)
{
    size_t line = strcspn(reply, "\n");

    if (json)
        return strstr(reply, "\"ready\": true") != NULL;
    if (strncmp(reply, "ready:", 6))
        return false;
    reply += 6;
    line -= 6;
    while (line && *reply == ' ') {
        reply++;
        line--;
    }
    return line == 3 && !strncmp(reply, "yes", 3);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"run-dir", required_argument, NULL, 'r'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    const char *run_dir = getenv("TAS_RUN_DIR");
    const char *cmd;
    bool json = false, ok;
    char req[64], *reply = NULL;
    size_t len = 0;
    int o, fd, rc;

    if (!run_dir || !*run_dir)
        run_dir = TAS_DEFAULT_RUN_DIR;
    opterr = 0;
    while ((o = getopt_long(argc, argv, ":r:jhV", opts, NULL)) != -1) {
        switch (o) {
        case 'r':
            run_dir = optarg;
            break;
        case 'j':
            json = true;
            break;
        case 'h':
            usage(stdout);
            return 0;
        case 'V':
            printf("tasctl %s\n", TASD_VERSION);
            return 0;
        case ':':
            fprintf(stderr, "tasctl: %s needs an argument (see tasctl --help)\n",
                    argv[optind - 1]);
            return 2;
        default:
            fprintf(stderr, "tasctl: unknown option '%s' (see tasctl --help)\n",
                    argv[optind - 1]);
            return 2;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, optind == argc
                            ? "tasctl: which request? status, stats or flows "
                              "(see tasctl --help)\n"
                            : "tasctl: one request at a time (see tasctl --help)\n");
        return 2;
    }
    cmd = argv[optind];
    if (strcmp(cmd, "status") && strcmp(cmd, "stats") && strcmp(cmd, "flows")) {
        fprintf(stderr, "tasctl: unknown request '%s': status, stats or flows\n", cmd);
        return 2;
    }

    fd = connect_control(run_dir);
    if (fd < 0)
        return 1;
    snprintf(req, sizeof(req), "%s%s\n", cmd, json ? " json" : "");
    rc = ask(fd, req, &reply, &len);
    close(fd);
    if (rc == -ETIMEDOUT) {
        fprintf(stderr, "tasctl: tasd did not answer within %d s (run dir %s)\n",
                TIMEOUT_MS / 1000, run_dir);
        return 1;
    }
    if (rc) {
        fprintf(stderr, "tasctl: talking to tasd (run dir %s): %s\n", run_dir,
                strerror(-rc));
        return 1;
    }
    if (len == 0) {
        fprintf(stderr, "tasctl: tasd closed the connection without answering\n");
        free(reply);
        return 1;
    }
    fwrite(reply, 1, len, stdout);
    if (fflush(stdout) || ferror(stdout)) {
        free(reply);
        return 1;
    }

    ok = strncmp(reply, "error:", 6) && strncmp(reply, "{\"error\"", 8);
    if (ok && !strcmp(cmd, "status"))
        ok = reports_ready(reply, json);
    free(reply);
    return ok ? 0 : 1;
}
