/* main.c - tasd: start the service, run it, stop it cleanly.
 *
 * Start-up, in order:
 *   configuration (exit 2 on any error; --check-config stops here)
 *   refuse a run directory that a live tasd is serving
 *   block SIGTERM/SIGINT (every thread inherits the mask; the slow path
 *     takes them from its signalfd)
 *   DPDK EAL and port (tasd/port.c)
 *   global status page, fast path, slow path, control socket
 *   one fast-path core per worker lcore
 *   the kernel side of a TAP port (tasd/hostif.c)
 *   READY=1 to systemd
 * Then the slow path loop runs on this thread until SIGTERM/SIGINT, and
 * everything is taken down in reverse: control socket, slow path (RST to
 * peers, RESET to applications while the fast path still transmits), fast
 * path cores, port, EAL.
 *
 * Exit status: 0 after a clean stop (and for --help, --version and a valid
 * --check-config), 1 when tasd could not start, 2 for a bad configuration.
 */
#include <arpa/inet.h>
#include <sched.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_ring.h>
#include <systemd/sd-daemon.h>

#include "fastpath/clock.h"
#include "fastpath/fastpath.h"
#include "slowpath/slowpath.h"
#include "tas/msg.h"
#include "tasd/config.h"
#include "tasd/control.h"
#include "tasd/hostif.h"
#include "tasd/instance.h"
#include "tasd/port.h"

/* Is a tasd answering on <run_dir>/app.sock? */
static bool tasd_running(const char *run_dir)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    bool live;
    int fd, n;

    n = snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", run_dir, TAS_APP_SOCK);
    if (n < 0 || (size_t)n >= sizeof(sa.sun_path))
        return false;
    fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    live = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
    close(fd);
    return live;
}

/* mkdir -p, 0755 for what it creates. */
static int make_dir(const char *path)
{
    char buf[TASD_PATH_MAX];
    struct stat st;

    snprintf(buf, sizeof(buf), "%s", path);
    for (char *p = buf + 1;; p++) {
        if (*p == '/' || *p == '\0') {
            char ch = *p;
            *p = '\0';
            if (mkdir(buf, 0755) && errno != EEXIST)
                return -errno;
            *p = ch;
            if (!ch)
                break;
        }
    }
    if (stat(path, &st))
        return -errno;
    return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

/* Start one fast-path core on each worker lcore, in order, from core
 * `first` (1 when core 0 shares the slow path's thread). */
static unsigned launch_cores(unsigned n_fp, unsigned first)
{
    unsigned lcore, i = first;

    RTE_LCORE_FOREACH_WORKER(lcore)
    {
        int rc;
        if (i == n_fp)
            break;
        rc = rte_eal_remote_launch(fp_core_run, &fp.cores[i], lcore);
        if (rc) {
            fprintf(stderr, "tasd: cannot start fast-path core %u on lcore %u: %s\n", i,
                    lcore, strerror(-rc));
            break;
        }
        i++;
    }
    return i;
}

/* Let the cores send what sp_fini queued (RSTs to peers) before they stop:
 * wait until their transmit rings are empty, at most 100 ms. */
static void drain_tx_rings(unsigned n_fp, bool shared)
{
    for (int ms = 0; ms < 100; ms++) {
        unsigned left = 0;
        for (unsigned i = 0; i < n_fp; i++)
            if (fp.cores[i].tx_ring)
                left += rte_ring_count(fp.cores[i].tx_ring);
        if (left == 0)
            return;
        if (shared) /* core 0 runs only when we run it */
            (void)fp_core_poll(&fp.cores[0], fp_now_us());
        usleep(1000);
    }
}

/* Does the slow path share fast-path core 0's thread?  auto: when tasd
 * may run on at most fp_cores + 1 CPUs (its affinity mask), a thread of
 * its own would compete with the cores and the applications for them, and
 * every exception would cost a wake-up. */
static bool sp_shared(const struct tasd_config *c, unsigned n_fp)
{
    if (c->sp_thread != TASD_SP_AUTO)
        return c->sp_thread == TASD_SP_SHARED;
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof(set), &set) != 0)
        return false;
    return (unsigned)CPU_COUNT(&set) <= n_fp + 1;
}

/* SIGHUP (systemctl reload): the configuration is read again as at start
 * (file and command line) and its policy handed to the slow path; the
 * rest of it needs a restart. */
static int saved_argc;
static char **saved_argv;

static int reload_policy(struct sp_policy_spec *out, unsigned max, unsigned *n)
{
    struct tasd_config *c = malloc(sizeof(*c));
    if (c == NULL)
        return -ENOMEM;
    int rc = tasd_config_load(c, saved_argc, saved_argv);
    if (rc == 0) {
        *n = c->n_policy < max ? c->n_policy : max;
        memcpy(out, c->policy, *n * sizeof(*out));
    }
    free(c);
    return rc == 0 ? 0 : -EINVAL;
}

/* The slow path's parameters: its part of the configuration. */
static void sp_params_of(const struct tasd_config *c, struct sp_params *p)
{
    _Static_assert(SP_MAX_ROUTES >= TASD_MAX_ROUTES, "routes fit");
    _Static_assert(sizeof(p->run_dir) >= sizeof(c->run_dir), "run dir fits");
    _Static_assert(sizeof(p->cc) >= sizeof(c->cc), "cc name fits");
    memset(p, 0, sizeof(*p));
    p->ip = c->ip;
    p->prefix = c->prefix;
    p->mtu = c->mtu;
    for (unsigned i = 0; i < c->n_routes && i < SP_MAX_ROUTES; i++)
        p->routes[i] = (struct sp_route_param){
            .dest = c->routes[i].dest, .prefix = c->routes[i].prefix, .gw = c->routes[i].gw};
    p->n_routes = c->n_routes;
    p->kernel_routes = c->kernel_routes;
    p->kernel_neighbours = c->kernel_neighbours;
    memcpy(p->run_dir, c->run_dir, sizeof(c->run_dir));
    _Static_assert(SP_MAX_APP_USERS >= TASD_MAX_APP_USERS, "users fit");
    p->app_gid = c->app_gid;
    for (unsigned i = 0; i < c->n_app_uids; i++)
        p->app_uids[i] = c->app_uids[i];
    p->n_app_uids = c->n_app_uids;
    p->max_flows = c->max_flows;
    p->app_max_conns = c->app_max_conns;
    p->somaxconn = c->somaxconn;
    p->max_ctx = c->max_ctx;
    p->app_max_listeners = c->app_max_listeners;
    p->app_buf_mb = c->app_buf_mb;
    p->queue_entries = c->queue_entries;
    p->rx_buf_size = c->rx_buf_size;
    p->tx_buf_size = c->tx_buf_size;
    p->rx_buf_initial = c->rx_buf_initial;
    p->tx_buf_initial = c->tx_buf_initial;
    p->timestamps = c->timestamps;
    p->window_scaling = c->window_scaling;
    p->sack = c->sack;
    p->ecn = c->ecn;
    p->syncookies = c->syncookies;
    p->syncookie_rate = c->syncookie_rate;
    p->rto_min_ms = c->rto_min_ms;
    p->rto_initial_ms = c->rto_initial_ms;
    p->rto_max_ms = c->rto_max_ms;
    p->max_retries = c->max_retries;
    p->syn_retries = c->syn_retries;
    p->time_wait_ms = c->time_wait_ms;
    p->tw_reuse = c->tw_reuse;
    p->arp_timeout_ms = c->arp_timeout_ms;
    p->control_interval_us = c->control_interval_us;
    memcpy(p->cc, c->cc, sizeof(c->cc));
    p->rate_limit_mbps = c->rate_limit_mbps;
    memcpy(p->policy, c->policy, sizeof(c->policy));
    p->n_policy = c->n_policy;
    p->reload_policy = reload_policy;
}

int main(int argc, char **argv)
{
    static struct tasd_config c;
    static struct sp_params spp;
    static struct cm_port port;
    struct tas_global *gpage;
    char ip[INET_ADDRSTRLEN];
    unsigned n_fp;
    int rc, status = 1;

    saved_argc = argc;
    saved_argv = argv;
    rc = tasd_config_load(&c, argc, argv);
    if (rc)
        return rc == 1 ? 0 : 2;
    if (c.check_only) {
        fprintf(stderr, "tasd: %s: configuration is valid\n",
                c.config_file[0] ? c.config_file : "command line");
        return 0;
    }

    if (tasd_running(c.run_dir)) {
        fprintf(stderr, "tasd: another tasd is running with run dir %s; not starting\n",
                c.run_dir);
        return 1;
    }
    if (tasd_instance_claim(&c) == -EADDRINUSE)
        return 1;
    rc = make_dir(c.run_dir);
    if (rc) {
        fprintf(stderr, "tasd: run dir %s: %s\n", c.run_dir, strerror(-rc));
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    rc = sp_signals_block();
    if (rc) {
        fprintf(stderr, "tasd: cannot block SIGTERM/SIGINT: %s\n", strerror(-rc));
        return 1;
    }

    if (tasd_port_init(&port, &c, argv[0])) {
        fprintf(stderr, "tasd: exiting: no usable DPDK port\n");
        return 1; /* tasd_port_init left nothing behind */
    }
    n_fp = port.n_queues;

    gpage = sp_gpage_create(n_fp);
    if (!gpage)
        goto out_port;
    rc = fp_init(&port, n_fp, c.max_flows, gpage, c.poll == TASD_POLL_BUSY,
                 c.poll_max_sleep_us, c.ip);
    if (rc) {
        fprintf(stderr, "tasd: fast path did not initialise: %s\n", strerror(-rc));
        goto out_port;
    }
    sp_params_of(&c, &spp);
    spp.shared_core = sp_shared(&c, n_fp);
    if (sp_init(&spp, &port))
        goto out_fp;
    if (tasd_control_init(&c, &port, n_fp))
        goto out_sp;
    if (launch_cores(n_fp, spp.shared_core ? 1 : 0) != n_fp)
        goto out_cores;
    if (c.host_if[0] && strstr(port.driver, "net_tap") == NULL) {
        /* The host interface is the kernel's end of a TAP port; on any
         * other port there is none to set up. */
        fprintf(stderr,
                "tasd: host_if %s ignored: the port is %s, not a TAP device (host_if "
                "only applies to --vdev net_tap...)\n",
                c.host_if, port.driver);
        c.host_if[0] = '\0';
    }
    if (tasd_hostif_setup(&c, port.mac))
        goto out_cores;

    inet_ntop(AF_INET, &c.ip, ip, sizeof(ip));
    fprintf(stderr,
            "tasd: ready: %s/%u on port %u, %u fast-path core(s), %s polling, slow path "
            "%s, run dir %s\n",
            ip, c.prefix, port.port_id, n_fp,
            c.poll == TASD_POLL_BUSY ? "busy" : "adaptive",
            spp.shared_core ? "on core 0's thread" : "on its own thread", c.run_dir);
    sd_notifyf(0, "READY=1\nSTATUS=serving %s/%u with %u fast-path core(s)", ip, c.prefix,
               n_fp);

    rc = sp_run();
    status = rc ? 1 : 0;
    fprintf(stderr, "tasd: stopping: resetting connections, stopping fast-path cores\n");
    sd_notify(0, "STOPPING=1\nSTATUS=stopping");

out_cores:
    tasd_control_fini();
    sp_fini();
    drain_tx_rings(n_fp, spp.shared_core);
    fp.stop = true;
    rte_eal_mp_wait_lcore();
    fp_fini();
    goto out_port;
out_sp:
    sp_fini();
out_fp:
    fp_fini();
out_port:
    tasd_port_stop(&port);
    rte_eal_cleanup();
    if (status == 0)
        fprintf(stderr, "tasd: stopped\n");
    else
        fprintf(stderr, "tasd: exiting after an error (see above)\n");
    return status;
}
