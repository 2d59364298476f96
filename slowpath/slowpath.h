/* slowpath.h - the slow path's interface to tasd's main.
 *
 * The slow path runs on tasd's main thread as one epoll loop (sp_run) over:
 * the application socket (<run_dir>/app.sock), every application's socket
 * and doorbell eventfd, the fast-path cores' wake-up eventfd, a timerfd
 * (control interval: RTO, congestion control, ARP and TIME_WAIT timers), a
 * signalfd for SIGTERM/SIGINT, and whatever other module registers with
 * sp_loop_add() (the control socket).  With shared_core the same thread
 * also runs fast-path core 0's loop, and that core's exceptions are taken
 * without a wake-up (loop.c).
 */
#ifndef SLOWPATH_H
#define SLOWPATH_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct cm_port;
struct tas_global;

#define SP_MAX_ROUTES 64
#define SP_MAX_APP_USERS 64
#define SP_PATH_MAX   256

struct sp_route_param {
    uint32_t dest;   /* network order */
    uint8_t prefix;  /* 0..32 */
    uint32_t gw;     /* next hop, network order; 0 = directly connected */
};

/* A policy rule (policy.c): for one target, any of a rate cap, a
 * connection limit and a congestion-control algorithm.
 *   app PID|COMMAND  that application: rate is the sum of its connections,
 *                    max_conns counts its connections
 *   uid UID          each application of that user: rate as for app;
 *                    max_conns counts the user's connections together
 *   port PORT        connections on that local port: rate is each one's,
 *                    max_conns counts them together
 * sp_policy_parse reads one from words, as tasctl and tasd.conf give it:
 *   app|uid|port KEY [rate MBPS] [max-conns N] [cc NAME] ...
 * (with none of them when clear is true).  0, or -EINVAL with the reason
 * in err. */
enum { SP_POL_APP = 1, SP_POL_UID = 2, SP_POL_PORT = 3 };
#define SP_POL_COMM_MAX 16 /* /proc/PID/comm: 15 characters */
#define SP_POL_MBPS_MAX 400000
struct sp_policy_spec {
    uint8_t kind; /* SP_POL_* */
    bool by_comm; /* app: by command name, not pid */
    uint32_t key; /* pid, uid or port (host order) */
    char comm[SP_POL_COMM_MAX];
    bool has_rate, has_max_conns, has_cc;
    uint32_t rate_mbps; /* 1..SP_POL_MBPS_MAX */
    uint32_t max_conns; /* >= 1 */
    char cc[16];        /* an algorithm's name (sp_cc_find) */
};
int sp_policy_parse(int argc, char *const argv[], bool clear, struct sp_policy_spec *s,
                    char *err, size_t errlen);
#define SP_MAX_POLICY 64 /* rules from the configuration */

/* What the slow path is told (tasd's main fills it in from its
 * configuration; 0 in a *_ms / *_us field means the default). */
struct sp_params {
    uint32_t ip;                     /* our IPv4 address, network order */
    uint8_t prefix;                  /* its prefix length */
    uint32_t mtu;                    /* 0 = the port's MTU */
    struct sp_route_param routes[SP_MAX_ROUTES];
    unsigned n_routes;
    bool kernel_routes;              /* follow the kernel's routes (kroutes.c) */
    bool kernel_neighbours;          /* take the kernel's neighbours (kneigh.c) */
    char run_dir[SP_PATH_MAX];       /* app.sock lives here ("" = /run/tasd) */
    int64_t app_gid;                 /* -1: app.sock is every user's (0666); else
                                      * root:app_gid 0660 */
    uint32_t app_uids[SP_MAX_APP_USERS]; /* besides root, who may register ... */
    unsigned n_app_uids;                 /* ... (0: anybody who can connect) */

    uint32_t max_flows;              /* connections tasd can hold */
    uint32_t app_max_conns;          /* connection slots of each application's region */
    uint32_t somaxconn;              /* listen() backlogs are clamped to it */
    uint32_t max_ctx;                /* contexts per application */
    uint32_t app_max_listeners;      /* listening sockets per application */
    uint32_t app_buf_mb; /* largest rings of an application's connections, MB; 0 = any */
    uint32_t queue_entries;          /* entries per context queue (power of 2) */
    uint32_t rx_buf_size, tx_buf_size;       /* largest rings, bytes */
    uint32_t rx_buf_initial, tx_buf_initial; /* rings start this big */

    bool timestamps, window_scaling, sack; /* offered in SYNs */
    uint32_t ecn;                    /* 0 off, 1 ask and accept, 2 accept */
    bool syncookies;                 /* when half-open connections overflow */
    uint32_t syncookie_rate;         /* cookie SYN-ACKs per core per second */
    uint32_t rto_min_ms, rto_initial_ms, rto_max_ms;
    uint32_t max_retries, syn_retries;
    uint32_t time_wait_ms;           /* 2*MSL */
    bool tw_reuse;                   /* connect() may take a TIME_WAIT pair */
    uint32_t arp_timeout_ms;         /* neighbour entry lifetime */
    uint32_t control_interval_us;    /* congestion control / RTO period */
    char cc[16];                     /* congestion control (cc.h's names) */
    uint32_t rate_limit_mbps;        /* default per-flow pacing rate, 0 = none */
    bool shared_core;                /* sp_run also runs fast-path core 0 on
                                      * this thread (the others on their lcores) */
    struct sp_policy_spec policy[SP_MAX_POLICY]; /* the configuration's policy */
    unsigned n_policy;
    /* SIGHUP: fill out with the configuration file's policy as it is now
     * (0, or -errno after saying why on stderr: the policy stays). */
    int (*reload_policy)(struct sp_policy_spec *out, unsigned max, unsigned *n);
};

/* Set everything up (the fast path is already initialised with fp_init but
 * its cores are not started yet).  0 or -errno with a message on stderr. */
int sp_init(const struct sp_params *c, struct cm_port *port);

/* Run the loop until SIGTERM/SIGINT (or sp_stop).  Returns 0.  With
 * shared_core it polls fast-path core 0 too: then the caller starts only
 * cores 1.. on lcores of their own. */
int sp_run(void);
void sp_stop(void);

/* Reset every connection (RST to peers, RESET to applications), close
 * application sockets, free everything. */
void sp_fini(void);

/* Register fd with the loop; cb runs on EPOLLIN/EPOLLERR/EPOLLHUP. */
typedef void (*sp_fd_cb)(int fd, uint32_t events, void *arg);
int sp_loop_add(int fd, sp_fd_cb cb, void *arg);
int sp_loop_del(int fd);

/* Statistics for the control socket: a table on f, or a json-c object for
 * the JSON reply (the caller owns it; common/json.h). */
struct json_object;
void sp_write_flows(FILE *f);            /* one row per connection and listener */
struct json_object *sp_flows_json(void); /* {"flows": [...], "listeners": [...]} */
void sp_write_stats(FILE *f);            /* slow-path counters, apps, ARP */
struct json_object *sp_stats_json(void);
bool sp_ready(void); /* initialised and looping */

/* tasctl policy: "set|get|clear ..." (the words after "policy"); the
 * answer as text on f (then 0, or 1 after an error line), or as json-c
 * ({"rules": [...]} or {"ok": true} or {"error": ...}). */
int sp_policy_request(FILE *f, int argc, char *const argv[]);
struct json_object *sp_policy_request_json(int argc, char *const argv[]);

/* Added for tasd main (call order: sp_signals_block, tasd_port_init,
 * sp_gpage_create, fp_init, sp_init, launch fp cores, sp_run, sp_fini,
 * stop and join fp cores, fp_fini, [sp_gpage_destroy], tasd_port_stop). */

/* Block SIGTERM/SIGINT in the calling thread so that every thread created
 * afterwards inherits the mask and only sp's signalfd sees them.  Call it
 * first in main, before tasd_port_init: rte_eal_init creates the lcore and
 * interrupt threads.  0 or -errno. */
int sp_signals_block(void);

/* Create the global status page (struct tas_global, one memfd shared
 * read-only with every application) for n_fp fast-path cores.  Call before
 * fp_init and pass the result as its gpage.  NULL on error (message on
 * stderr).  sp_init uses the same page; sp_fini leaves it mapped, since
 * the cores still run then. */
struct tas_global *sp_gpage_create(unsigned n_fp);
/* Unmap it; only after the fast-path cores stopped (after fp_fini).
 * Optional: exit releases it too. */
void sp_gpage_destroy(void);

#endif /* SLOWPATH_H */
