/* config_table.c - what tasd's settings are: one row per setting, the
 * defaults, and the --help text built from the rows.
 *
 * A row names the setting's key in the file ("tcp.rto_min_ms"), its
 * command-line flag (--rto-min-ms), its kind, the field of struct
 * tasd_config it fills, its range and its help line.  Adding a setting is
 * adding a row here, its default below if it is not 0, and one to
 * TASD_N_SETTINGS; config.c, the loader, then reads it from the file and the
 * command line and checks it by its kind and range.  This file only answers
 * questions about the table; it calls nothing of the loader's.
 */
#include <assert.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "tas/msg.h"
#include "tas/shm.h"
#include "tasd/config.h"
#include "tasd/config_table.h"

#define OFF(f) offsetof(struct tasd_config, f)
#define SZ(f)  ((uint32_t)sizeof(((struct tasd_config *)0)->f))

const struct tasd_setting tasd_settings[] = {
    {"ip", "ip", TASD_K_ADDR, OFF(ip), OFF(prefix), 0, 0, 0, "ADDR/PREFIX",
     "tasd's IPv4 address and subnet (required)"},
    {"routes", "route", TASD_K_ROUTES, 0, 0, 0, 0, 0, "DEST/PREFIX[,GW]",
     "a route; repeat for more; replaces the file's routes"},
    {"kernel_routes", "kernel-routes", TASD_K_BOOL, OFF(kernel_routes), 0, 0, 0, 0,
     "on|off", "follow the kernel's routes through gateways on tasd's subnet (netlink)"},
    {"kernel_neighbours", "kernel-neighbours", TASD_K_BOOL, OFF(kernel_neighbours), 0, 0,
     0, 0, "on|off",
     "take the kernel's neighbours on tasd's subnet into its ARP table (netlink)"},
    {"tso", "tso", TASD_K_ENUM, OFF(tso), 0, 0, 0, 0, "auto|on|off",
     "TCP segmentation offload: auto = where the NIC does it (not on TAP, whose "
     "PMD cuts in software), on = wherever the port offers it"},
    {"mtu", "mtu", TASD_K_UINT, OFF(mtu), 0, 576, 9216, TASD_F_ZERO, "BYTES",
     "IP MTU; 0 = the port's MTU"},
    {"arp_timeout_ms", "arp-timeout-ms", TASD_K_UINT, OFF(arp_timeout_ms), 0, 1000,
     3600000, 0, "MS", "lifetime of a neighbour (ARP) entry"},
    {"host_if.name", "host-if", TASD_K_IFNAME, OFF(host_if), 0, 0, SZ(host_if), 0, "NAME",
     "kernel interface tasd configures (the TAP device); \"\" = none"},
    {"host_if.ip", "host-ip", TASD_K_ADDR, OFF(host_ip), OFF(host_prefix), 0, 0, 0,
     "ADDR/PREFIX", "address given to that interface"},
    {"dpdk", "dpdk", TASD_K_STR, OFF(dpdk_args), 0, 0, SZ(dpdk_args), 0, "\"EAL ARGS\"",
     "DPDK EAL arguments"},
    {"fp_cores", "fp-cores", TASD_K_UINT, OFF(fp_cores), 0, 1, TAS_MAX_FP_CORES, 0, "N",
     "fast-path cores"},
    {"poll", "poll", TASD_K_ENUM, OFF(poll), 0, 0, 0, 0, "adaptive|busy",
     "fast-path polling: spin, or sleep when idle"},
    {"poll_max_sleep_us", "poll-max-sleep-us", TASD_K_UINT, OFF(poll_max_sleep_us), 0, 1,
     100000, 0, "US", "adaptive polling: longest idle sleep"},
    {"slow_path_thread", "sp-thread", TASD_K_ENUM, OFF(sp_thread), 0, 0, 0, 0,
     "auto|own|shared",
     "own: the slow path has a thread; shared: it runs on fast-path core 0's; auto: "
     "shared if tasd may use at most fp_cores + 1 CPUs"},
    {"run_dir", "run-dir", TASD_K_DIR, OFF(run_dir), 0, 0, SZ(run_dir), 0, "DIR",
     "where app.sock and control.sock live"},
    {"apps.group", "app-group", TASD_K_STR, OFF(app_group), 0, 0, SZ(app_group), 0,
     "GROUP",
     "only this group may use tasd (app.sock root:GROUP 0660); \"\" = every user"},
    {"apps.users", "app-users", TASD_K_STR, OFF(app_users), 0, 0, SZ(app_users), 0,
     "\"USER,...\"",
     "besides root, only these users (names or uids) may register; "
     "\"\" = no list"},
    {"limits.max_flows", "max-flows", TASD_K_UINT, OFF(max_flows), 0, 1, 1u << 20, 0, "N",
     "connections tasd can hold"},
    {"limits.app_max_conns", "app-max-conns", TASD_K_UINT, OFF(app_max_conns), 0, 1,
     1u << 20, 0, "N", "connections one application (process) can hold"},
    {"limits.app_mem_mb", "app-mem-mb", TASD_K_UINT, OFF(app_mem_mb), 0, 1, 65536,
     TASD_F_ZERO, "MB",
     "obsolete, ignored: connection memory grows on demand (see limits.app_max_conns)"},
    {"limits.somaxconn", "somaxconn", TASD_K_UINT, OFF(somaxconn), 0, 1, 65535, 0, "N",
     "largest listen() backlog (Linux's net.core.somaxconn)"},
    {"limits.app_max_listeners", "app-max-listeners", TASD_K_UINT, OFF(app_max_listeners),
     0, 1, 4096, 0, "N", "listening sockets one application can hold"},
    {"limits.app_buf_mb", "app-buf-mb", TASD_K_UINT, OFF(app_buf_mb), 0, 1, 1u << 20,
     TASD_F_ZERO, "MB",
     "the largest rings of one application's connections together; 0 = no limit"},
    {"limits.max_ctx", "max-ctx", TASD_K_UINT, OFF(max_ctx), 0, 1, 1024, 0, "N",
     "contexts (threads) per application"},
    {"limits.queue_entries", "queue-entries", TASD_K_UINT, OFF(queue_entries), 0, 16,
     65536, TASD_F_POW2, "N", "entries per context queue"},
    {"tcp.rx_buf_size", "rx-buf-size", TASD_K_UINT, OFF(rx_buf_size), 0, 4096, 16u << 20,
     TASD_F_POW2, "BYTES", "receive buffer of each connection"},
    {"tcp.tx_buf_size", "tx-buf-size", TASD_K_UINT, OFF(tx_buf_size), 0, 4096, 16u << 20,
     TASD_F_POW2, "BYTES", "transmit buffer of each connection"},
    {"tcp.rx_buf_initial", "rx-buf-initial", TASD_K_UINT, OFF(rx_buf_initial), 0, 1024,
     16u << 20, 0, "BYTES",
     "receive buffer a connection starts with; it grows with use up to tcp.rx_buf_size"},
    {"tcp.tx_buf_initial", "tx-buf-initial", TASD_K_UINT, OFF(tx_buf_initial), 0, 1024,
     16u << 20, 0, "BYTES",
     "transmit buffer a connection starts with; it grows with use up to tcp.tx_buf_size"},
    {"tcp.timestamps", "timestamps", TASD_K_BOOL, OFF(timestamps), 0, 0, 0, 0, "on|off",
     "offer RFC 7323 timestamps"},
    {"tcp.window_scaling", "window-scaling", TASD_K_BOOL, OFF(window_scaling), 0, 0, 0, 0,
     "on|off", "offer window scaling"},
    {"tcp.sack", "sack", TASD_K_BOOL, OFF(sack), 0, 0, 0, 0, "on|off",
     "offer SACK-permitted"},
    {"tcp.syncookies", "syncookies", TASD_K_BOOL, OFF(syncookies), 0, 0, 0, 0, "on|off",
     "SYN cookies once the half-open connections overflow (RFC 4987)"},
    {"tcp.syncookie_rate", "syncookie-rate", TASD_K_UINT, OFF(syncookie_rate), 0, 100,
     10000000, 0, "N",
     "during a SYN flood, SYN-ACKs each fast-path core sends per second, at most"},
    {"tcp.ecn", "ecn", TASD_K_UINT, OFF(ecn), 0, 0, 2, TASD_F_ZERO, "0|1|2",
     "ECN (RFC 3168): 0 off, 1 ask on connect and accept, 2 accept only"},
    {"tcp.rto_min_ms", "rto-min-ms", TASD_K_UINT, OFF(rto_min_ms), 0, 1, 60000, 0, "MS",
     "lower bound of the retransmission timeout"},
    {"tcp.rto_initial_ms", "rto-initial-ms", TASD_K_UINT, OFF(rto_initial_ms), 0, 1,
     60000, 0, "MS", "retransmission timeout before an RTT sample"},
    {"tcp.rto_max_ms", "rto-max-ms", TASD_K_UINT, OFF(rto_max_ms), 0, 1, 600000, 0, "MS",
     "upper bound of the retransmission timeout"},
    {"tcp.max_retries", "max-retries", TASD_K_UINT, OFF(max_retries), 0, 1, 100, 0, "N",
     "retransmissions of data before the connection is reset"},
    {"tcp.syn_retries", "syn-retries", TASD_K_UINT, OFF(syn_retries), 0, 1, 100, 0, "N",
     "SYN retransmissions before connect() fails"},
    {"tcp.time_wait_ms", "time-wait-ms", TASD_K_UINT, OFF(time_wait_ms), 0, 1, 600000,
     TASD_F_ZERO, "MS", "TIME_WAIT duration (2*MSL); 0 = none"},
    {"tcp.tw_reuse", "tw-reuse", TASD_K_BOOL, OFF(tw_reuse), 0, 0, 0, 0, "on|off",
     "connect() may reuse a TIME_WAIT pair with timestamps after 1 s (Linux "
     "tcp_tw_reuse)"},
    {"tcp.control_interval_us", "control-interval-us", TASD_K_UINT,
     OFF(control_interval_us), 0, 10, 1000000, 0, "US",
     "congestion control and timeout scan period"},
    {"tcp.cc", "cc", TASD_K_CC, OFF(cc), 0, 0, SZ(cc), 0, "reno|cubic|dctcp|timely|none",
     "congestion control of connections no policy or TCP_CONGESTION gives one"},
    {"tcp.rate_limit_mbps", "rate-limit-mbps", TASD_K_UINT, OFF(rate_limit_mbps), 0, 1,
     400000, TASD_F_ZERO, "MBPS", "pacing rate of each connection; 0 = none"},
    {"policy", "policy", TASD_K_POLICY, 0, 0, 0, 0, 0, "\"TARGET KEY WHAT VALUE...\"",
     "a policy rule, as tasctl policy set takes it (app PID|COMMAND, uid UID or "
     "port PORT; rate MBPS, max-conns N, cc NAME); repeat for more; replaces the "
     "file's policy"},
    {"impair.allow", "impair-allow", TASD_K_BOOL, OFF(impair_allow), 0, 0, 0, 0, "on|off",
     "TEST ONLY: permit the impair.* settings (without it they are refused)"},
    {"impair.seed", "impair-seed", TASD_K_UINT, OFF(impair_seed), 0, 1, UINT32_MAX,
     TASD_F_ZERO, "N", "impairment PRNG seed; 0 = pick one (logged)"},
    {"impair.rx_drop", "impair-rx-drop", TASD_K_UINT, OFF(impair_rx.drop), 0, 1,
     TASD_IMPAIR_SHARE_MAX, TASD_F_ZERO, "PERMILLE",
     "TEST ONLY: drop this share of received packets"},
    {"impair.rx_dup", "impair-rx-dup", TASD_K_UINT, OFF(impair_rx.dup), 0, 1,
     TASD_IMPAIR_SHARE_MAX, TASD_F_ZERO, "PERMILLE",
     "TEST ONLY: duplicate this share of received packets"},
    {"impair.rx_delay", "impair-rx-delay", TASD_K_UINT, OFF(impair_rx.delay), 0, 1,
     TASD_IMPAIR_SHARE_MAX, TASD_F_ZERO, "PERMILLE",
     "TEST ONLY: delay this share of received packets"},
    {"impair.rx_delay_us", "impair-rx-delay-us", TASD_K_UINT, OFF(impair_rx.delay_us), 0,
     1, TASD_IMPAIR_DELAY_MAX_US, TASD_F_ZERO, "US",
     "TEST ONLY: how long a delayed packet is held"},
    {"impair.rx_reorder", "impair-rx-reorder", TASD_K_UINT, OFF(impair_rx.reorder), 0, 1,
     TASD_IMPAIR_SHARE_MAX, TASD_F_ZERO, "PERMILLE",
     "TEST ONLY: hold this share of received packets behind the next one"},
    {"impair.tx_drop", "impair-tx-drop", TASD_K_UINT, OFF(impair_tx.drop), 0, 1,
     TASD_IMPAIR_SHARE_MAX, TASD_F_ZERO, "PERMILLE",
     "TEST ONLY: drop this share of transmitted packets"},
    {"impair.tx_dup", "impair-tx-dup", TASD_K_UINT, OFF(impair_tx.dup), 0, 1,
     TASD_IMPAIR_SHARE_MAX, TASD_F_ZERO, "PERMILLE",
     "TEST ONLY: duplicate this share of transmitted packets"},
    {"impair.tx_delay", "impair-tx-delay", TASD_K_UINT, OFF(impair_tx.delay), 0, 1,
     TASD_IMPAIR_SHARE_MAX, TASD_F_ZERO, "PERMILLE",
     "TEST ONLY: delay this share of transmitted packets"},
    {"impair.tx_delay_us", "impair-tx-delay-us", TASD_K_UINT, OFF(impair_tx.delay_us), 0,
     1, TASD_IMPAIR_DELAY_MAX_US, TASD_F_ZERO, "US",
     "TEST ONLY: how long a delayed packet is held"},
    {"impair.tx_reorder", "impair-tx-reorder", TASD_K_UINT, OFF(impair_tx.reorder), 0, 1,
     TASD_IMPAIR_SHARE_MAX, TASD_F_ZERO, "PERMILLE",
     "TEST ONLY: hold this share of transmitted packets behind the next one"},
};
static_assert(sizeof(tasd_settings) / sizeof(tasd_settings[0]) == TASD_N_SETTINGS,
              "TASD_N_SETTINGS counts the rows");

bool tasd_setting_word(const struct tasd_setting *s, unsigned i, char *out, size_t n)
{
    const char *w = s->arg;
    for (; i > 0 && w != NULL; i--) {
        w = strchr(w, '|');
        if (w != NULL)
            w++;
    }
    if (w == NULL)
        return false;
    size_t len = strcspn(w, "|");
    snprintf(out, n, "%.*s", (int)len, w);
    return true;
}

void tasd_config_defaults(struct tasd_config *c)
{
    memset(c, 0, sizeof(*c));
    snprintf(c->run_dir, sizeof(c->run_dir), "%s", TAS_DEFAULT_RUN_DIR);
    c->fp_cores = 1;
    c->app_gid = -1;
    c->poll = TASD_POLL_ADAPTIVE;
    c->poll_max_sleep_us = 2000;
    c->max_flows = 131072;
    c->app_max_conns = 65536;
    c->somaxconn = 4096;
    c->app_mem_mb = 0;
    c->max_ctx = 16;
    c->app_max_listeners = 1024;
    c->app_buf_mb = 8192;
    c->queue_entries = 1024;
    c->rx_buf_size = 128 * 1024;
    c->tx_buf_size = 128 * 1024;
    c->rx_buf_initial = 3072;
    c->tx_buf_initial = 1024;
    c->timestamps = true;
    c->window_scaling = true;
    c->sack = true;
    c->ecn = 2;
    c->syncookies = true;
    c->syncookie_rate = 25000;
    c->rto_min_ms = 200;
    c->rto_initial_ms = 1000;
    c->rto_max_ms = 60000;
    c->max_retries = 15;
    c->syn_retries = 6;
    c->time_wait_ms = 60000;
    c->tw_reuse = true;
    c->arp_timeout_ms = 60000;
    c->control_interval_us = 1000;
    snprintf(c->cc, sizeof(c->cc), "reno");
    c->rate_limit_mbps = 0;
}

const struct tasd_setting *tasd_setting_find(const char *key)
{
    for (size_t i = 0; i < TASD_N_SETTINGS; i++)
        if (!strcmp(tasd_settings[i].key, key))
            return &tasd_settings[i];
    return NULL;
}

bool tasd_setting_is_group(const char *key)
{
    size_t n = strlen(key);
    for (size_t i = 0; i < TASD_N_SETTINGS; i++)
        if (!strncmp(tasd_settings[i].key, key, n) && tasd_settings[i].key[n] == '.')
            return true;
    return false;
}

void tasd_config_usage(FILE *f)
{
    struct tasd_config d;

    tasd_config_defaults(&d);
    fprintf(
        f,
        "usage: tasd [--config FILE] [--ip ADDR/PREFIX] [--route "
        "DEST/PREFIX,GATEWAY]...\n"
        "            [--dpdk \"EAL ARGS\"] [--fp-cores N] [--poll busy|adaptive]\n"
        "            [--run-dir DIR] [--check-config] [--version] [--help] [OPTION]...\n"
        "\n"
        "TCP acceleration service: runs TCP on a DPDK port for applications that\n"
        "load libtas_interpose.so.  Settings come from the configuration file\n"
        "(default %s, if it exists), then from these flags:\n\n"
        "  -c, --config FILE          read FILE instead of the default\n"
        "      --check-config         validate the configuration and exit (0 valid, 2 "
        "not)\n"
        "  -h, --help                 show this help\n"
        "  -V, --version              show the version\n",
        TASD_DEFAULT_CONFIG_FILE);
    for (size_t i = 0; i < TASD_N_SETTINGS; i++) {
        const struct tasd_setting *s = &tasd_settings[i];
        const char *field = (const char *)&d + s->off;
        char opt[48], def[48] = "";

        snprintf(opt, sizeof(opt), "--%s %s", s->flag, s->arg);
        switch (s->kind) {
        case TASD_K_UINT:
            snprintf(def, sizeof(def), " [%u]", *(const uint32_t *)field);
            break;
        case TASD_K_BOOL:
            snprintf(def, sizeof(def), " [%s]", *(const bool *)field ? "on" : "off");
            break;
        case TASD_K_ENUM: {
            char w[32];
            if (tasd_setting_word(s, (unsigned)*(const int *)field, w, sizeof(w)))
                snprintf(def, sizeof(def), " [%s]", w);
            break;
        }
        case TASD_K_DIR:
        case TASD_K_CC:
            snprintf(def, sizeof(def), " [%s]", field);
            break;
        default:
            break;
        }
        fprintf(f, "      %-26s %s%s\n", opt, s->help, def);
    }
    fprintf(
        f,
        "\nEvery flag is also a key in the file, e.g. --rx-buf-size is tcp.rx_buf_size,\n"
        "--max-flows is limits.max_flows, --host-if is host_if.name, --route is an\n"
        "entry of routes; the installed tasd.conf lists them all.\n");
}
