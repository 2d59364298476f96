/* config.h - tasd's configuration: every setting, its default, and the
 * loader that fills it from the libconfig file and the command line.
 *
 * The command line overrides the file.  Errors name the file, the line and
 * the setting; tasd exits with status 2 on any of them.
 */
#ifndef TASD_CONFIG_H
#define TASD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slowpath/slowpath.h"
#include "tasd/impair.h"

#define TASD_MAX_ROUTES 64
#define TASD_MAX_APP_USERS 64 /* apps.users: names or uids */
#define TASD_PATH_MAX 256
#define TASD_ARGS_MAX 1024

/* The enumerations' values are the order of their words in the setting's
 * arg (config_table.c). */
enum tasd_poll_mode { TASD_POLL_ADAPTIVE = 0, TASD_POLL_BUSY = 1 };
/* Where the slow path runs: on a thread of its own, on fast-path core 0's
 * thread, or (auto) shared when tasd may use at most fp_cores + 1 CPUs. */
enum tasd_sp_thread { TASD_SP_AUTO = 0, TASD_SP_OWN = 1, TASD_SP_SHARED = 2 };
/* TCP segmentation offload: auto = where the port's segmentation is the
 * NIC's (not net_tap's, which cuts in software, slower than tasd's own
 * segments), on = wherever the port offers it, off. */
enum tasd_tso { TASD_TSO_AUTO = 0, TASD_TSO_ON = 1, TASD_TSO_OFF = 2 };


struct tasd_route {
    uint32_t dest;   /* network order */
    uint8_t prefix;  /* 0..32 */
    uint32_t gw;     /* next hop, network order; 0 = directly connected */
};

struct tasd_config {
    char config_file[TASD_PATH_MAX]; /* "" if none was read */

    /* network */
    uint32_t ip;                     /* our IPv4 address, network order */
    uint8_t prefix;                  /* its prefix length */
    struct tasd_route routes[TASD_MAX_ROUTES];
    unsigned n_routes;
    bool kernel_routes;              /* follow the kernel's routes too */
    bool kernel_neighbours;          /* take the kernel's neighbours into ARP */
    char host_if[32];                /* kernel interface tasd configures (TAP), "" = none */
    uint32_t host_ip;                /* address given to host_if, network order */
    uint8_t host_prefix;
    uint32_t mtu;                    /* 0 = the port's MTU */
    int tso;                         /* enum tasd_tso */

    /* DPDK and threads */
    char dpdk_args[TASD_ARGS_MAX];   /* EAL arguments, split on spaces */
    unsigned fp_cores;               /* fast-path threads (1..TAS_MAX_FP_CORES) */
    int poll;                        /* enum tasd_poll_mode */
    uint32_t poll_max_sleep_us;      /* adaptive: longest idle sleep */
    int sp_thread;                   /* enum tasd_sp_thread */

    /* files */
    char run_dir[TASD_PATH_MAX];     /* app.sock and control.sock live here */

    /* who may use tasd (app.sock) */
    char app_group[64];                    /* "" = every user; else app.sock's group */
    char app_users[512];                   /* "" = no list; else who may register */
    int64_t app_gid;                       /* app_group resolved (-1: none) */
    uint32_t app_uids[TASD_MAX_APP_USERS]; /* app_users resolved */
    unsigned n_app_uids;

    /* applications and connections */
    uint32_t max_flows;              /* connections tasd can hold */
    uint32_t app_max_conns;          /* connection slots of each application's region */
    uint32_t somaxconn;              /* listen() backlogs are clamped to it */
    uint32_t app_mem_mb;             /* obsolete (0 = not given): warned about, ignored */
    uint32_t max_ctx;                /* contexts per application */
    uint32_t app_max_listeners;      /* listening sockets per application */
    uint32_t app_buf_mb; /* largest rings of an application's connections, MB */
    uint32_t queue_entries;          /* entries per context queue (power of 2) */
    uint32_t rx_buf_size;            /* per-connection receive ring, bytes */
    uint32_t tx_buf_size;            /* per-connection transmit ring, bytes */
    uint32_t rx_buf_initial;         /* rings start this big and grow (power of 2) */
    uint32_t tx_buf_initial;

    /* TCP */
    bool timestamps;                 /* offer RFC 7323 timestamps */
    bool window_scaling;             /* offer window scaling */
    bool sack;                       /* offer SACK-permitted */
    uint32_t ecn;                    /* 0 off, 1 ask and accept, 2 accept (Linux) */
    bool syncookies;                 /* SYN cookies when half-open connections overflow */
    uint32_t syncookie_rate;         /* cookie SYN-ACKs per fast-path core per second */
    uint32_t rto_min_ms;
    uint32_t rto_initial_ms;
    uint32_t rto_max_ms;
    uint32_t max_retries;            /* data retransmissions before reset */
    uint32_t syn_retries;
    uint32_t time_wait_ms;           /* 2*MSL */
    bool tw_reuse;                   /* connect() may take a TIME_WAIT pair (timestamps, >= 1 s) */
    uint32_t arp_timeout_ms;         /* neighbour entry lifetime */
    uint32_t control_interval_us;    /* congestion control / RTO scan period */
    char cc[16];                     /* congestion control (slowpath/cc.h's names) */
    uint32_t rate_limit_mbps;        /* default per-flow pacing rate, 0 = none */

    /* policy: rate caps, connection limits, congestion control per
     * application, user or port (slowpath/policy.c) */
    struct sp_policy_spec policy[SP_MAX_POLICY];
    unsigned n_policy;

    /* test-only impairment of the port (tasd/impair.h): refused unless
     * impair_allow is also set */
    bool impair_allow;
    uint32_t impair_seed;            /* 0 = pick one at start (logged) */
    struct tasd_impair_dir impair_rx, impair_tx;

    bool check_only;                 /* --check-config */
};

/* Fill c with defaults, then the config file (if any: --config, else
 * /etc/tasd/tasd.conf when it exists), then command-line flags.
 * Returns 0, 1 if tasd should exit 0 (--help, --version), or 2 on error
 * (the message is already on stderr). */
int tasd_config_load(struct tasd_config *c, int argc, char **argv);

/* Parse "a.b.c.d/len"; returns 0 or -EINVAL. */
int tasd_parse_prefix(const char *s, uint32_t *ip, uint8_t *prefix);

/* Split s in place into at most max words (whitespace separates; '...' and
 * "..." group; backslash escapes).  Used for dpdk_args: config checks it,
 * port.c builds the EAL argv with it.  Returns the count, -EINVAL for an
 * unbalanced quote, -E2BIG for too many words. */
#define TASD_MAX_EAL_ARGS 128
int tasd_split_args(char *s, char **argv, int max);

/* The devices a dpdk setting names, in order: each --vdev X / --vdev=X
 * (vdev true) and -a/--allow X / --allow=X (false).  The names point into
 * buf (len bytes, a copy of the setting, split).  How many (up to max). */
struct tasd_dev {
    const char *name;
    bool vdev;
};
int tasd_devices(const char *dpdk_args, char *buf, size_t len, struct tasd_dev *dev,
                 int max);

#endif /* TASD_CONFIG_H */
