/* loop.c - the slow path's event loop, and its start and end.
 *
 * One epoll set on tasd's main thread (its descriptors and callbacks:
 * fdset.c).  What wakes it:
 *   signalfd          SIGTERM / SIGINT: leave the loop; SIGHUP: the
 *                     configuration's policy again (policy.c)
 *   timerfd           the next thing due: every control interval while
 *                     there is activity or work in progress (fast-path
 *                     rings, activity reports, deletions, parked work),
 *                     else at the earliest connection timer (at least
 *                     once a second) with fp.sp_sleeping set, so that a
 *                     core that reports activity wakes us
 *   fp.cores[c].sp_efd  a core put exceptions or events on its rings
 *   app.sock and each application's socket and doorbell (app.c)
 *   whatever else registers with sp_loop_add (the control socket)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "common/port.h"
#include "fastpath/clock.h"
#include "slowpath/sp.h"

#define SP_EXC_BURST  32
#define SP_EXC_BUDGET 1024 /* exceptions per core per wake-up */

static int stop_efd = -1;

/* ---- clock ---- */

void sp_clock_update(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    sp.now_us = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
    sp.now_ms = sp.now_us / 1000u;
}

/* ---- fast-path rings ---- */

static void drain_core(unsigned c)
{
    struct fp_core *fc = &fp.cores[c];
    struct rte_mbuf *m[SP_EXC_BURST];
    struct fp_event ev[SP_EXC_BURST];
    unsigned n, total = 0;

    if (fc->ev_ring != NULL) {
        do {
            n = rte_ring_dequeue_burst_elem(fc->ev_ring, ev, sizeof(ev[0]), SP_EXC_BURST,
                                            NULL);
            for (unsigned i = 0; i < n; i++)
                sp_conn_fp_event(&ev[i]);
            total += n;
        } while (n == SP_EXC_BURST && total < SP_EXC_BUDGET);
    }
    total = 0;
    if (fc->exc_ring != NULL) {
        do {
            n = rte_ring_dequeue_burst(fc->exc_ring, (void **)m, SP_EXC_BURST, NULL);
            for (unsigned i = 0; i < n; i++)
                sp_exc_input(m[i], c);
            total += n;
        } while (n == SP_EXC_BURST && total < SP_EXC_BUDGET);
    }
    sp_conn_act_drain(c);
}

/* The cores may share one wake-up eventfd: drain every core using fd. */
static void on_fp_efd(int fd, uint32_t events, void *arg)
{
    eventfd_t v;
    eventfd_read(fd, &v);
    sp_clock_update();
    for (unsigned c = 0; c < sp.n_cores; c++)
        if (fp.cores[c].sp_efd == fd)
            drain_core(c);
}

/* ---- timer and signals ---- */

static uint64_t last_arp_ms;

/* The timer is one-shot, set for the next thing due (armed_ms).  With
 * nothing in progress the slow path sleeps until its next connection
 * timer, and at least once a second (ARP, fork records, parked work). */
#define SP_IDLE_TICK_MS 1000
static uint64_t armed_us; /* 0: not armed */

static void timer_at(uint64_t at_us)
{
    struct itimerspec it = {0};
    uint64_t d = at_us > sp.now_us ? at_us - sp.now_us : 1;
    it.it_value.tv_sec = (time_t)(d / 1000000);
    it.it_value.tv_nsec = (long)(d % 1000000) * 1000;
    if (timerfd_settime(sp.tfd, 0, &it, NULL) == 0)
        armed_us = at_us;
}

/* Work that wants the next control interval rather than the next timer. */
static bool busy(void)
{
    if (!sp_cmd_idle() || sp_conn_busy() || sp_app_busy() || sp_neigh_busy() ||
        sp_listen_holding())
        return true;
    for (unsigned c = 0; c < sp.n_cores; c++) {
        const struct fp_core *fc = &fp.cores[c];
        if ((fc->act_ring != NULL && !rte_ring_empty(fc->act_ring)) ||
            (fc->ev_ring != NULL && !rte_ring_empty(fc->ev_ring)) ||
            (fc->exc_ring != NULL && !rte_ring_empty(fc->exc_ring)))
            return true;
    }
    return false;
}

static void timer_adapt(void)
{
    uint64_t at;
    atomic_store_explicit(&fp.sp_sleeping, 0, memory_order_relaxed);
    if (busy()) {
        at = sp.now_us + sp.interval_us;
    } else {
        /* Say we sleep, then look again: a core posting now wakes us. */
        atomic_store_explicit(&fp.sp_sleeping, 1, memory_order_relaxed);
        atomic_thread_fence(memory_order_seq_cst);
        if (busy()) {
            atomic_store_explicit(&fp.sp_sleeping, 0, memory_order_relaxed);
            at = sp.now_us + sp.interval_us;
        } else {
            uint64_t next = sp_conn_next_ms();
            uint64_t cap = sp.now_ms + SP_IDLE_TICK_MS;
            at = (next < cap ? next : cap) * 1000;
            if (at < sp.now_us + sp.interval_us)
                at = sp.now_us + sp.interval_us;
        }
    }
    if (armed_us != 0 && armed_us <= at)
        return; /* an earlier wake-up is set already */
    timer_at(at);
}

static void on_timer(int fd, uint32_t events, void *arg)
{
    uint64_t expirations;
    if (read(fd, &expirations, sizeof(expirations)) < 0 && errno == EAGAIN)
        return;
    armed_us = 0;
    sp.cnt.timer_wakeups++;
    sp_clock_update();
    /* A core's wake-up may have been coalesced away: look anyway. */
    for (unsigned c = 0; c < sp.n_cores; c++)
        drain_core(c);
    sp_conn_tick();
    sp_app_tick();
    sp_policy_tick();
    if (sp_listen_holding())
        sp_listen_retry();
    if (sp.now_ms - last_arp_ms >= 10) {
        last_arp_ms = sp.now_ms;
        sp_neigh_tick();
    }
}

static void on_signal(int fd, uint32_t events, void *arg)
{
    struct signalfd_siginfo si;
    while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
        if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
            fprintf(stderr, "tasd: %s, shutting down\n", strsignal((int)si.ssi_signo));
            sp.stop = true;
        } else if (si.ssi_signo == SIGHUP) {
            sp_policy_reload();
        }
    }
}

static void on_stop(int fd, uint32_t events, void *arg)
{
    eventfd_t v;
    eventfd_read(fd, &v);
    sp.stop = true;
}

static sigset_t sp_sigs(void)
{
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGTERM);
    sigaddset(&s, SIGINT);
    sigaddset(&s, SIGHUP);
    return s;
}

int sp_signals_block(void)
{
    sigset_t s = sp_sigs();
    return -pthread_sigmask(SIG_BLOCK, &s, NULL);
}

/* ---- configuration ---- */

static uint32_t or_default(uint32_t v, uint32_t def)
{
    return v != 0 ? v : def;
}

static int check_params(const struct sp_params *c)
{
    const char *why = NULL;
    if (c->queue_entries < 2 || (c->queue_entries & (c->queue_entries - 1)) != 0)
        why = "queue_entries must be a power of two >= 2";
    else if (c->max_ctx == 0 || c->max_ctx > 65535)
        why = "max_ctx must be 1..65535";
    else if (c->max_flows == 0)
        why = "max_flows must be > 0";
    else if (c->rx_buf_size < 1024 || c->tx_buf_size < 1024)
        why = "rx_buf_size and tx_buf_size must be >= 1024";
    else if (c->app_max_conns == 0)
        why = "app_max_conns must be > 0";
    else if (c->rx_buf_initial < 1024 || c->rx_buf_initial > c->rx_buf_size ||
             c->tx_buf_initial < 1024 || c->tx_buf_initial > c->tx_buf_size)
        why = "rx_buf_initial and tx_buf_initial must be 1024 .. the buffer sizes";
    if (why != NULL) {
        fprintf(stderr, "tasd: slow path: %s\n", why);
        return -EINVAL;
    }
    return 0;
}

/* ---- start and end ---- */

int sp_init(const struct sp_params *c, struct cm_port *port)
{
    int rc;

    if ((rc = check_params(c)) != 0)
        return rc;
    sp.cfg = *c;
    sp.port = port;
    sp.ip = c->ip;
    sp.prefix = c->prefix;
    memcpy(sp.mac, port->mac, 6);
    sp.mtu = (uint16_t)(c->mtu != 0 && c->mtu < port->mtu ? c->mtu : port->mtu);
    if (sp.mtu < 576)
        sp.mtu = 576;
    sp.mss = (uint16_t)(sp.mtu - sizeof(struct tas_ip_hdr) - sizeof(struct tas_tcp_hdr));
    sp.wscale = c->window_scaling ? sp_tcp_wscale_for(c->rx_buf_size) : 0;
    sp.n_cores = fp.n_cores;
    sp.interval_us = or_default(c->control_interval_us, 1000);
    sp.rto_min_ms = or_default(c->rto_min_ms, 200);
    sp.rto_initial_ms = or_default(c->rto_initial_ms, 1000);
    sp.rto_max_ms = or_default(c->rto_max_ms, 60000);
    if (sp.rto_max_ms < sp.rto_min_ms)
        sp.rto_max_ms = sp.rto_min_ms;
    sp.rate_kbps =
        c->rate_limit_mbps > UINT32_MAX / 1000 ? UINT32_MAX : c->rate_limit_mbps * 1000;
    sp.cc = sp_cc_find(c->cc[0] != '\0' ? c->cc : "reno");
    if (sp.cc == NULL) {
        fprintf(stderr, "tasd: congestion control \"%s\" unknown (%s)\n", c->cc,
                sp_cc_list());
        return -EINVAL;
    }
    if (sp.n_cores == 0 || sp.n_cores > TAS_MAX_FP_CORES) {
        fprintf(stderr, "tasd: slow path: fast path not initialised\n");
        return -EINVAL;
    }
    if (sp.gpage == NULL && sp_gpage_create(sp.n_cores) == NULL)
        return -ENOMEM;
    if (getrandom(sp.isn_key, sizeof(sp.isn_key), 0) != (ssize_t)sizeof(sp.isn_key)) {
        fprintf(stderr, "tasd: getrandom: %s\n", strerror(errno));
        return -EIO;
    }
    memcpy(fp.cookie_key, sp.isn_key, sizeof(fp.cookie_key)); /* cores' SYN cookies */
    fp.cores[0].sp_inline = c->shared_core;
    fp.cookie_rate = c->syncookie_rate;
    sp_clock_update();

    if ((rc = sp_policy_load(c->policy, c->n_policy)) != 0)
        return rc;
    if ((rc = sp_route_init(&sp.routes, "sp_routes")) != 0) {
        fprintf(stderr, "tasd: route table (rte_lpm): %s\n", strerror(-rc));
        return rc;
    }
    rc = sp_route_add(&sp.routes, sp.ip, sp.prefix, 0, SP_ROUTE_SUBNET);
    for (unsigned i = 0; rc == 0 && i < c->n_routes; i++) {
        const struct sp_route_param *r = &c->routes[i];
        rc = sp_route_add(&sp.routes, r->dest, r->prefix, r->gw, SP_ROUTE_CONFIG);
        if (rc == -EEXIST)
            rc = 0;
        if (rc != 0) {
            char d[16], g[16];
            inet_ntop(AF_INET, &r->dest, d, sizeof(d));
            inet_ntop(AF_INET, &r->gw, g, sizeof(g));
            fprintf(stderr, "tasd: route %s/%u via %s: %s\n", d, r->prefix, g,
                    rc == -EINVAL ? "gateway is not on a directly connected network"
                                  : strerror(-rc));
        }
    }
    if (rc != 0)
        return rc;

    /* Signals: every thread blocks them (sp_signals_block before the EAL
     * started its threads), only this descriptor receives them. */
    sigset_t sigs = sp_sigs();
    if ((rc = sp_signals_block()) != 0)
        return rc;
    sp.epfd = epoll_create1(EPOLL_CLOEXEC);
    sp.sigfd = signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC);
    sp.tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    stop_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (sp.epfd < 0 || sp.sigfd < 0 || sp.tfd < 0 || stop_efd < 0) {
        rc = -errno;
        fprintf(stderr, "tasd: slow path: %s\n", strerror(errno));
        return rc;
    }
    timer_at(sp.now_us + sp.interval_us);
    if (armed_us == 0)
        return -errno;
    if ((rc = sp_loop_add(sp.sigfd, on_signal, NULL)) != 0 ||
        (rc = sp_loop_add(sp.tfd, on_timer, NULL)) != 0 ||
        (rc = sp_loop_add(stop_efd, on_stop, NULL)) != 0)
        return rc;
    if (c->kernel_routes && (rc = sp_kroutes_init()) != 0)
        return rc;
    if (c->kernel_neighbours && (rc = sp_kneigh_init()) != 0)
        return rc;
    for (unsigned i = 0; i < sp.n_cores; i++) {
        int efd = fp.cores[i].sp_efd;
        bool seen = efd < 0;
        for (unsigned j = 0; j < i && !seen; j++)
            seen = fp.cores[j].sp_efd == efd;
        if (!seen && (rc = sp_loop_add(efd, on_fp_efd, NULL)) != 0)
            return rc;
    }
    if ((rc = sp_conn_init()) != 0 || (rc = sp_neigh_init()) != 0)
        return rc;
    sp_neigh_set_hook(sp_connect_neigh_done);
    sp_listen_set_reinput(sp_exc_input);
    sp_cred_init();
    return sp_app_init();
}

/* One turn of the loop: wait up to timeout_ms (-1: until something
 * happens) and handle what came.  Returns the events handled, or -1 when
 * the loop cannot go on. */
static int sp_poll(int timeout_ms)
{
    struct epoll_event evs[64];
    int n = epoll_wait(sp.epfd, evs, 64, timeout_ms);
    if (n < 0 && errno != EINTR) {
        fprintf(stderr, "tasd: epoll_wait: %s\n", strerror(errno));
        return -1;
    }
    sp_clock_update();
    if (n > 0) {
        sp.cnt.wakeups++;
        sp_fdset_dispatch(evs, n);
    }
    sp_flood_poll();
    sp_cmd_flush();
    timer_adapt();
    return n > 0 ? n : 0;
}

/* The slow path and fast-path core 0 on one thread (sp.cfg.shared_core):
 * on a machine with few CPUs a thread of its own for the slow path costs a
 * wake-up (and a switch) for every exception a core hands over, and a
 * connection's setup and teardown hand over several.  Here the core's
 * exceptions and events are taken in the same iteration that produced
 * them.  The slow path's descriptors (applications, timer, control, other
 * cores) are looked at every SP_SHARED_POLL_US, busy or spinning, and
 * right after each of the core's idle sleeps, which also wake when one of
 * them is ready (sp.epfd is pollable).  Not on every empty iteration: a
 * core spinning between an application's requests would make a system
 * call per spin. */
#define SP_SHARED_POLL_US 20
static int run_shared(void)
{
    struct fp_core *c = &fp.cores[0];
    struct fp_idle st;
    uint64_t last_sp = 0;
    bool slept = true;

    fp_core_begin(&st);
    while (!sp.stop) {
        uint64_t now = fp_now_us();
        unsigned work = fp_core_poll(c, now);
        if (c->sp_wanted) {
            c->sp_wanted = false;
            sp_clock_update();
            drain_core(0);
            sp_cmd_flush(); /* kicks the other cores, if any */
            work++;
        }
        if (slept || now - last_sp >= SP_SHARED_POLL_US) {
            int n = sp_poll(0);
            if (n < 0)
                break;
            work += (unsigned)n;
            last_sp = now;
        }
        slept = fp_core_idle(c, &st, work, now, sp.epfd);
    }
    return 0;
}

int sp_run(void)
{
    sp_clock_update();
    sp_neigh_gratuitous();
    sp_cmd_flush();
    sp.ready = true;
    if (sp.cfg.shared_core)
        run_shared();
    else
        while (!sp.stop && sp_poll(-1) >= 0)
            ;
    sp.ready = false;
    return 0;
}

void sp_stop(void)
{
    sp.stop = true;
    if (stop_efd >= 0)
        eventfd_write(stop_efd, 1);
}

bool sp_ready(void)
{
    return sp.ready;
}

/* Give the cores up to timeout_ms to execute what we queued, while still
 * running our timers (flow deletions complete there). */
static void settle(unsigned timeout_ms)
{
    uint64_t end;
    sp_clock_update();
    end = sp.now_ms + timeout_ms;
    while (sp.now_ms < end) {
        sp_cmd_flush();
        for (unsigned c = 0; c < sp.n_cores; c++)
            drain_core(c);
        sp_conn_tick();
        sp_app_tick();
        if (sp.apps == NULL && sp_cmd_idle())
            break;
        if (sp.cfg.shared_core) /* core 0 runs only when we run it */
            for (int i = 0; i < 100; i++)
                (void)fp_core_poll(&fp.cores[0], fp_now_us());
        usleep(1000);
        sp_clock_update();
    }
}

void sp_fini(void)
{
    if (sp.epfd < 0)
        return;
    sp.ready = false;
    sp_clock_update();
    /* RST to every peer, RESET to every application, then hang up on the
     * applications so the library sees EOF. */
    sp_conn_reset_all();
    sp_app_fini();
    sp_cmd_flush();
    bool cores_running = !fp.stop;
    if (cores_running)
        settle(500);
    sp_app_free_all(!cores_running);
    sp_conn_fini();
    sp_listen_fini();
    sp_neigh_fini();
    sp_kroutes_fini();
    sp_kneigh_fini();
    sp_route_fini(&sp.routes);
    sp_cmd_fini();
    if (sp.sigfd >= 0)
        close(sp.sigfd);
    if (sp.tfd >= 0)
        close(sp.tfd);
    if (stop_efd >= 0)
        close(stop_efd);
    close(sp.epfd);
    sp.epfd = sp.sigfd = sp.tfd = stop_efd = -1;
    sp_fdset_fini();
}
