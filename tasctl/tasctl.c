/* tasctl.c - ask a running tasd for its status, statistics or flows.
 *
 *     tasctl [--run-dir DIR] status|stats|flows [--json]
 *     tasctl [--run-dir DIR] flows [--app PID|COMMAND] [--port P] [--state S]
 *     tasctl [--run-dir DIR] metrics | apps|arp|routes [--json] | check PID
 *     tasctl [--run-dir DIR] policy set|get|clear ... [--json]
 *
 * Connects to <run dir>/control.sock (run dir: --run-dir, else $TAS_RUN_DIR,
 * else /run/tasd), sends one request line, prints the reply.  A --json reply
 * is parsed (json-c) before it is printed: one JSON object, read for its
 * "error" and, for status, its "ready" member; a malformed one is not
 * printed but reported on stderr.  Exit status: 0 done (for status: tasd is
 * ready), 1 tasd not reachable, not ready, it answered with an error or a
 * malformed reply, 2 usage error.  metrics asks for the statistics in JSON
 * and prints them in the Prometheus text format (metrics.c); apps prints
 * their applications' rows and check PID whether that process is one of
 * them, and why not (apps.c; exit 1 when it is not); arp and routes its
 * neighbours and routes (net.c); flows with a filter its connections and
 * listeners that pass it (flows.c).  Scripts wait
 * for tasd with
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

#include <json-c/json.h>

#include "tas/msg.h"
#include "tasctl/apps.h"
#include "tasctl/flows.h"
#include "tasctl/metrics.h"
#include "tasctl/net.h"

#ifndef TASD_VERSION
#define TASD_VERSION "unknown"
#endif

#define TIMEOUT_MS 10000
#define REPLY_MAX  (256u << 20)

static void usage(FILE *f)
{
    fprintf(
        f,
        "usage: tasctl [--run-dir DIR] status|stats|flows [--json]\n"
        "       tasctl [--run-dir DIR] flows [--app PID|COMMAND] [--port P] [--state S]\n"
        "              [--json]\n"
        "       tasctl [--run-dir DIR] metrics | apps|arp|routes [--json] | check PID\n"
        "       tasctl [--run-dir DIR] policy set app|uid|port KEY rate MBPS|max-conns "
        "N|cc NAME...\n"
        "       tasctl [--run-dir DIR] policy get [--json] | policy clear app|uid|port "
        "KEY\n"
        "\n"
        "Ask the running tasd (TCP acceleration service) about itself.\n"
        "  status     readiness, version, address, port, cores\n"
        "  stats      fast-path and slow-path counters\n"
        "  flows      one line per connection and listener; filtered by\n"
        "             --app PID|COMMAND, --port PORT (local or remote), --state STATE\n"
        "  metrics    the statistics in the Prometheus text format\n"
        "  apps       one line per application: pid, command, user, contexts,\n"
        "             connections, listeners, bytes in and out, bad entries, state\n"
        "  check PID  is process PID on tasd?  If not, why not (exit 1)\n"
        "  arp        tasd's ARP table: IP, MAC, state, time left, packets waiting\n"
        "  routes     tasd's routes, longest prefix first\n"
        "  policy     rate caps, connection limits and congestion control of an\n"
        "             application (PID or COMMAND), a user (UID) or a local PORT:\n"
        "             set adds to a target's rule, clear removes it, get lists them\n"
        "\n"
        "  -j, --json          answer in JSON\n"
        "  -r, --run-dir DIR   tasd's run directory (default $TAS_RUN_DIR or %s)\n"
        "  -h, --help          show this help\n"
        "  -V, --version       show the version\n"
        "\n"
        "Exit status: 0 done (status: tasd is ready), 1 tasd not running, not ready,\n"
        "it reported an error or its reply was malformed, 2 usage error.\n",
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

/* A --json reply: exactly one JSON object, nothing after it but white
 * space.  NULL, with the reason on stderr, if it is anything else. */
static struct json_object *parse_json_reply(const char *reply, size_t len)
{
    struct json_tokener *tok = json_tokener_new();
    struct json_object *o;
    size_t end;

    if (!tok) {
        fprintf(stderr, "tasctl: out of memory parsing tasd's reply\n");
        return NULL;
    }
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    o = json_tokener_parse_ex(tok, reply, (int)len);
    end = json_tokener_get_parse_end(tok);
    if (!o) {
        enum json_tokener_error err = json_tokener_get_error(tok);
        if (err == json_tokener_continue)
            fprintf(stderr,
                    "tasctl: tasd's reply is malformed: it ends inside its JSON "
                    "document (%zu bytes)\n",
                    len);
        else
            fprintf(stderr,
                    "tasctl: tasd's reply is malformed: not JSON (%s at byte %zu)\n",
                    json_tokener_error_desc(err), end);
    } else if (end + strspn(reply + end, " \t\r\n") < len) {
        fprintf(stderr,
                "tasctl: tasd's reply is malformed: more after its JSON document "
                "(at byte %zu)\n",
                end);
        json_object_put(o);
        o = NULL;
    } else if (!json_object_is_type(o, json_type_object)) {
        fprintf(stderr, "tasctl: tasd's reply is malformed: a JSON %s, not an object\n",
                json_type_to_name(json_object_get_type(o)));
        json_object_put(o);
        o = NULL;
    }
    json_tokener_free(tok);
    return o;
}

/* What a parsed JSON reply says: tasd's "error", and for status, whether
 * "ready" is true.  false when it reports an error, is not ready, or is a
 * status reply without a boolean "ready" (said on stderr). */
static bool json_reply_ok(struct json_object *o, bool status)
{
    struct json_object *v;

    if (json_object_object_get_ex(o, "error", &v))
        return false;
    if (!status)
        return true;
    if (!json_object_object_get_ex(o, "ready", &v) ||
        !json_object_is_type(v, json_type_boolean)) {
        fprintf(stderr, "tasctl: tasd's status reply is malformed: no true or false "
                        "\"ready\"\n");
        return false;
    }
    return json_object_get_boolean(v);
}

/* A table reply: an error starts with "error:"; status's first line is
 * "ready: yes|no". */
static bool text_reply_ok(const char *reply, bool status)
{
    size_t line = strcspn(reply, "\n");

    if (!strncmp(reply, "error:", 6))
        return false;
    if (!status)
        return true;
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

/* Send cmd (with " json" if json) to tasd on run_dir and read the reply
 * (parsed into *doc if json).  0, or 1 with the reason on stderr. */
static int request(const char *run_dir, const char *cmd, bool json, char **reply,
                   size_t *len, struct json_object **doc)
{
    char req[256];
    int fd = connect_control(run_dir);
    if (fd < 0)
        return 1;
    snprintf(req, sizeof(req), "%s%s\n", cmd, json ? " json" : "");
    int rc = ask(fd, req, reply, len);
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
    if (*len == 0) {
        fprintf(stderr, "tasctl: tasd closed the connection without answering\n");
        return 1;
    }
    if (json && !(*doc = parse_json_reply(*reply, *len)))
        return 1;
    return 0;
}

/* tasctl policy set|get|clear ...: the words go to tasd as they are
 * (tasd checks them: slowpath/policy_rule.c); its answer is printed. */
static int policy(const char *run_dir, int argc, char **argv, bool json)
{
    char line[200] = "policy";
    size_t len = strlen(line);
    for (int i = 0; i < argc; i++) {
        size_t n = strlen(argv[i]);
        if (n == 0 || strpbrk(argv[i], " \t\r\n") != NULL) {
            fprintf(stderr, "tasctl: policy: '%s' is not one word\n", argv[i]);
            return 2;
        }
        if (len + 1 + n >= sizeof(line) - 8) {
            fprintf(stderr, "tasctl: policy: request too long\n");
            return 2;
        }
        line[len++] = ' ';
        memcpy(line + len, argv[i], n + 1);
        len += n;
    }
    char *reply = NULL;
    size_t rlen = 0;
    struct json_object *doc = NULL;
    if (request(run_dir, line, json, &reply, &rlen, &doc) != 0) {
        free(reply);
        return 1;
    }
    bool ok = json ? json_reply_ok(doc, false) : text_reply_ok(reply, false);
    if (!ok && !json)
        fprintf(stderr, "tasctl: %s", reply + (strncmp(reply, "error: ", 7) ? 0 : 7));
    else
        fwrite(reply, 1, rlen, stdout);
    json_object_put(doc);
    free(reply);
    if (fflush(stdout) || ferror(stdout))
        return 1;
    return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"run-dir", required_argument, NULL, 'r'}, {"json", no_argument, NULL, 'j'},
        {"app", required_argument, NULL, 'a'},     {"port", required_argument, NULL, 'p'},
        {"state", required_argument, NULL, 's'},   {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},       {NULL, 0, NULL, 0},
    };
    const char *run_dir = getenv("TAS_RUN_DIR");
    const char *cmd;
    bool json = false, ok, status, filtered = false;
    struct tasctl_flow_filter flt = {0};
    struct json_object *doc = NULL, *stats = NULL;
    char *reply = NULL, *reply2 = NULL, *end = NULL;
    size_t len = 0, len2 = 0;
    int o;

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
        case 'a':
            flt.app = optarg;
            filtered = true;
            break;
        case 'p':
            flt.port = strtol(optarg, &end, 10);
            if (*end != '\0' || flt.port <= 0 || flt.port > 65535) {
                fprintf(stderr, "tasctl: --port %s: a port is 1..65535\n", optarg);
                return 2;
            }
            filtered = true;
            break;
        case 's':
            flt.state = optarg;
            filtered = true;
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
    const char *arg = NULL;
    if (optind < argc && !strcmp(argv[optind], "policy")) {
        if (filtered) {
            fprintf(stderr, "tasctl: --app, --port and --state filter flows only\n");
            return 2;
        }
        return policy(run_dir, argc - optind - 1, argv + optind + 1, json);
    }
    if (optind == argc - 2 && !strcmp(argv[optind], "check"))
        arg = argv[argc - 1];
    else if (optind != argc - 1) {
        fprintf(stderr,
                optind == argc
                    ? "tasctl: which request? status, stats, flows, metrics, apps, "
                      "check PID, arp, routes or policy (see tasctl --help)\n"
                    : "tasctl: one request at a time (see tasctl --help)\n");
        return 2;
    }
    cmd = argv[optind];
    /* metrics, apps, check, arp, routes and filtered flows read the
     * statistics (JSON) and show them. */
    enum { RAW, METRICS, APPS, CHECK, ARP, ROUTES, FLOWS } view = RAW;
    static const char *const views[] = {"", "metrics", "apps", "check", "arp", "routes"};
    for (int v = METRICS; v <= ROUTES; v++)
        if (!strcmp(cmd, views[v]))
            view = v;
    if (view == RAW && strcmp(cmd, "status") && strcmp(cmd, "stats") &&
        strcmp(cmd, "flows")) {
        fprintf(stderr,
                "tasctl: unknown request '%s': status, stats, flows, metrics, apps, "
                "check PID, arp, routes or policy\n",
                cmd);
        return 2;
    }
    if (filtered && strcmp(cmd, "flows") != 0) {
        fprintf(stderr, "tasctl: --app, --port and --state filter flows only\n");
        return 2;
    }
    if (filtered)
        view = FLOWS;
    long pid = arg != NULL ? strtol(arg, &end, 10) : 0;
    if (view == CHECK && (arg == NULL || *end != '\0' || pid <= 0)) {
        fprintf(stderr, "tasctl: check needs a process id (tasctl check PID)\n");
        return 2;
    }
    bool want_json = json;
    if (view != RAW && view != FLOWS)
        cmd = "stats";
    if (view != RAW)
        json = true;

    if (request(run_dir, cmd, json, &reply, &len, &doc) != 0 ||
        (view == FLOWS && request(run_dir, "stats", true, &reply2, &len2, &stats) != 0)) {
        json_object_put(doc);
        free(reply);
        free(reply2);
        return 1;
    }
    status = !strcmp(cmd, "status");
    ok = json ? json_reply_ok(doc, status) : text_reply_ok(reply, status);
    if (view == FLOWS)
        ok = ok && json_reply_ok(stats, false);
    int shown = 0;
    if (view == RAW)
        fwrite(reply, 1, len, stdout);
    else if (ok && view == METRICS)
        shown = tasctl_metrics_write(stdout, doc);
    else if (ok && view == APPS)
        shown = tasctl_apps_write(stdout, doc, want_json);
    else if (ok && view == ARP)
        shown = tasctl_arp_write(stdout, doc, want_json);
    else if (ok && view == ROUTES)
        shown = tasctl_routes_write(stdout, doc, want_json);
    else if (ok && view == FLOWS)
        shown = tasctl_flows_write(stdout, doc, stats, &flt, want_json);
    else if (ok && view == CHECK && tasctl_check(stdout, doc, (pid_t)pid, run_dir) != 0)
        ok = false;
    if (shown != 0) {
        fprintf(stderr, "tasctl: tasd's statistics are not what tasctl knows\n");
        ok = false;
    }
    json_object_put(doc);
    json_object_put(stats);
    free(reply);
    free(reply2);
    if (fflush(stdout) || ferror(stdout))
        return 1;
    return ok ? 0 : 1;
}
