/* config.c - tasd's settings: defaults, then the libconfig file, then the
 * command line.
 *
 * Every setting is one row of the table below: its key in the file
 * ("tcp.rto_min_ms"), its command-line flag (--rto-min-ms), its kind, its
 * range and its help line.  The file is walked setting by setting, so an
 * unknown or misspelt key is an error rather than silently ignored; the
 * command line is parsed twice with getopt_long (once to find --config,
 * --help and --version, once after the file to apply the overrides).
 * Checks that involve several settings (a gateway in our subnet, RTO bounds
 * in order) run last and still name the file line or flag that set them.
 *
 * Errors look like
 *   tasd: /etc/tasd/tasd.conf:12: tcp.rto_min_ms: must be an integer between 1 and 60000
 *   tasd: --fp-cores 9: must be an integer between 1 and 8
 * All of them are reported; the loader then returns 2.  Nothing here uses
 * DPDK, so the unit test links this file alone.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <libconfig.h>
#include <limits.h>
#include <net/if.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/un.h>
#include <unistd.h>

#include "tas/msg.h"
#include "tas/shm.h"
#include "tasd/config.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#ifndef TASD_VERSION
#define TASD_VERSION "unknown"
#endif
#define DEFAULT_CONFIG_FILE SYSCONFDIR "/tasd/tasd.conf"

enum kind {
    K_UINT,   /* uint32_t in min..max (F_POW2, F_ZERO) */
    K_BOOL,   /* bool */
    K_ADDR,   /* "a.b.c.d/len" into a uint32_t and a uint8_t (off2) */
    K_STR,    /* char[max] */
    K_IFNAME, /* char[max], a Linux interface name or "" */
    K_DIR,    /* char[max], an absolute directory for the sockets */
    K_POLL,   /* "busy" | "adaptive" */
    K_CC,     /* one of cc_names */
    K_ROUTES, /* the routes list / repeated --route */
};

#define F_POW2 1u /* value must be a power of two */
#define F_ZERO 2u /* 0 is allowed besides min..max */

struct setting {
    const char *key;  /* path in the file */
    const char *flag; /* long option, without "--" */
    enum kind kind;
    size_t off;        /* field in struct tasd_config */
    size_t off2;       /* K_ADDR: the prefix length field */
    uint32_t min, max; /* K_UINT: range; string kinds: max = buffer size */
    unsigned flags;
    const char *arg; /* argument name in --help */
    const char *help;
};

#define OFF(f) offsetof(struct tasd_config, f)
#define SZ(f)  ((uint32_t)sizeof(((struct tasd_config *)0)->f))

static const struct setting settings[] = {
    {"ip", "ip", K_ADDR, OFF(ip), OFF(prefix), 0, 0, 0, "ADDR/PREFIX",
     "tasd's IPv4 address and subnet (required)"},
    {"routes", "route", K_ROUTES, 0, 0, 0, 0, 0, "DEST/PREFIX[,GW]",
     "a route; repeat for more; replaces the file's routes"},
    {"mtu", "mtu", K_UINT, OFF(mtu), 0, 576, 9216, F_ZERO, "BYTES",
     "IP MTU; 0 = the port's MTU"},
    {"arp_timeout_ms", "arp-timeout-ms", K_UINT, OFF(arp_timeout_ms), 0, 1000, 3600000, 0,
     "MS", "lifetime of a neighbour (ARP) entry"},
    {"host_if.name", "host-if", K_IFNAME, OFF(host_if), 0, 0, SZ(host_if), 0, "NAME",
     "kernel interface tasd configures (the TAP device); \"\" = none"},
    {"host_if.ip", "host-ip", K_ADDR, OFF(host_ip), OFF(host_prefix), 0, 0, 0,
     "ADDR/PREFIX", "address given to that interface"},
    {"dpdk", "dpdk", K_STR, OFF(dpdk_args), 0, 0, SZ(dpdk_args), 0, "\"EAL ARGS\"",
     "DPDK EAL arguments"},
    {"fp_cores", "fp-cores", K_UINT, OFF(fp_cores), 0, 1, TAS_MAX_FP_CORES, 0, "N",
     "fast-path cores"},
    {"poll", "poll", K_POLL, OFF(poll), 0, 0, 0, 0, "busy|adaptive",
     "fast-path polling: spin, or sleep when idle"},
    {"poll_max_sleep_us", "poll-max-sleep-us", K_UINT, OFF(poll_max_sleep_us), 0, 1,
     100000, 0, "US", "adaptive polling: longest idle sleep"},
    {"run_dir", "run-dir", K_DIR, OFF(run_dir), 0, 0, SZ(run_dir), 0, "DIR",
     "where app.sock and control.sock live"},
    {"limits.max_flows", "max-flows", K_UINT, OFF(max_flows), 0, 1, 1u << 20, 0, "N",
     "connections tasd can hold"},
    {"limits.app_max_conns", "app-max-conns", K_UINT, OFF(app_max_conns), 0, 1, 1u << 20, 0,
     "N", "connections one application (process) can hold"},
    {"limits.app_mem_mb", "app-mem-mb", K_UINT, OFF(app_mem_mb), 0, 1, 65536, F_ZERO, "MB",
     "obsolete, ignored: connection memory grows on demand (see limits.app_max_conns)"},
    {"limits.somaxconn", "somaxconn", K_UINT, OFF(somaxconn), 0, 1, 65535, 0, "N",
     "largest listen() backlog (Linux's net.core.somaxconn)"},
    {"limits.max_ctx", "max-ctx", K_UINT, OFF(max_ctx), 0, 1, 1024, 0, "N",
     "contexts (threads) per application"},
    {"limits.queue_entries", "queue-entries", K_UINT, OFF(queue_entries), 0, 16, 65536,
     F_POW2, "N", "entries per context queue"},
    {"tcp.rx_buf_size", "rx-buf-size", K_UINT, OFF(rx_buf_size), 0, 4096, 16u << 20,
     F_POW2, "BYTES", "receive buffer of each connection"},
    {"tcp.tx_buf_size", "tx-buf-size", K_UINT, OFF(tx_buf_size), 0, 4096, 16u << 20,
     F_POW2, "BYTES", "transmit buffer of each connection"},
    {"tcp.rx_buf_initial", "rx-buf-initial", K_UINT, OFF(rx_buf_initial), 0, 1024,
     16u << 20, 0, "BYTES",
     "receive buffer a connection starts with; it grows with use up to tcp.rx_buf_size"},
    {"tcp.tx_buf_initial", "tx-buf-initial", K_UINT, OFF(tx_buf_initial), 0, 1024,
     16u << 20, 0, "BYTES",
     "transmit buffer a connection starts with; it grows with use up to tcp.tx_buf_size"},
    {"tcp.timestamps", "timestamps", K_BOOL, OFF(timestamps), 0, 0, 0, 0, "on|off",
     "offer RFC 7323 timestamps"},
    {"tcp.window_scaling", "window-scaling", K_BOOL, OFF(window_scaling), 0, 0, 0, 0,
     "on|off", "offer window scaling"},
    {"tcp.sack", "sack", K_BOOL, OFF(sack), 0, 0, 0, 0, "on|off", "offer SACK-permitted"},
    {"tcp.syncookies", "syncookies", K_BOOL, OFF(syncookies), 0, 0, 0, 0, "on|off",
     "SYN cookies once the half-open connections overflow (RFC 4987)"},
    {"tcp.syncookie_rate", "syncookie-rate", K_UINT, OFF(syncookie_rate), 0, 100, 10000000,
     0, "N",
     "during a SYN flood, SYN-ACKs each fast-path core sends per second, at most"},
    {"tcp.ecn", "ecn", K_UINT, OFF(ecn), 0, 0, 2, F_ZERO, "0|1|2",
     "ECN (RFC 3168): 0 off, 1 ask on connect and accept, 2 accept only"},
    {"tcp.rto_min_ms", "rto-min-ms", K_UINT, OFF(rto_min_ms), 0, 1, 60000, 0, "MS",
     "lower bound of the retransmission timeout"},
    {"tcp.rto_initial_ms", "rto-initial-ms", K_UINT, OFF(rto_initial_ms), 0, 1, 60000, 0,
     "MS", "retransmission timeout before an RTT sample"},
    {"tcp.rto_max_ms", "rto-max-ms", K_UINT, OFF(rto_max_ms), 0, 1, 600000, 0, "MS",
     "upper bound of the retransmission timeout"},
    {"tcp.max_retries", "max-retries", K_UINT, OFF(max_retries), 0, 1, 100, 0, "N",
     "retransmissions of data before the connection is reset"},
    {"tcp.syn_retries", "syn-retries", K_UINT, OFF(syn_retries), 0, 1, 100, 0, "N",
     "SYN retransmissions before connect() fails"},
    {"tcp.time_wait_ms", "time-wait-ms", K_UINT, OFF(time_wait_ms), 0, 1, 600000, F_ZERO,
     "MS", "TIME_WAIT duration (2*MSL); 0 = none"},
    {"tcp.tw_reuse", "tw-reuse", K_BOOL, OFF(tw_reuse), 0, 0, 0, 0, "on|off",
     "connect() may reuse a TIME_WAIT pair with timestamps after 1 s (Linux tcp_tw_reuse)"},
    {"tcp.control_interval_us", "control-interval-us", K_UINT, OFF(control_interval_us),
     0, 10, 1000000, 0, "US", "congestion control and timeout scan period"},
    {"tcp.cc", "cc", K_CC, OFF(cc), 0, 0, SZ(cc), 0, "reno|none",
     "congestion control algorithm"},
    {"tcp.rate_limit_mbps", "rate-limit-mbps", K_UINT, OFF(rate_limit_mbps), 0, 1, 400000,
     F_ZERO, "MBPS", "pacing rate of each connection; 0 = none"},
    {"impair.allow", "impair-allow", K_BOOL, OFF(impair_allow), 0, 0, 0, 0, "on|off",
     "TEST ONLY: permit the impair.* settings (without it they are refused)"},
    {"impair.seed", "impair-seed", K_UINT, OFF(impair_seed), 0, 1, UINT32_MAX, F_ZERO,
     "N", "impairment PRNG seed; 0 = pick one (logged)"},
    {"impair.rx_drop", "impair-rx-drop", K_UINT, OFF(impair_rx.drop), 0, 1,
     TASD_IMPAIR_SHARE_MAX, F_ZERO, "PERMILLE",
     "TEST ONLY: drop this share of received packets"},
    {"impair.rx_dup", "impair-rx-dup", K_UINT, OFF(impair_rx.dup), 0, 1,
     TASD_IMPAIR_SHARE_MAX, F_ZERO, "PERMILLE",
     "TEST ONLY: duplicate this share of received packets"},
    {"impair.rx_delay", "impair-rx-delay", K_UINT, OFF(impair_rx.delay), 0, 1,
     TASD_IMPAIR_SHARE_MAX, F_ZERO, "PERMILLE",
     "TEST ONLY: delay this share of received packets"},
    {"impair.rx_delay_us", "impair-rx-delay-us", K_UINT, OFF(impair_rx.delay_us), 0, 1,
     TASD_IMPAIR_DELAY_MAX_US, F_ZERO, "US",
     "TEST ONLY: how long a delayed packet is held"},
    {"impair.rx_reorder", "impair-rx-reorder", K_UINT, OFF(impair_rx.reorder), 0, 1,
     TASD_IMPAIR_SHARE_MAX, F_ZERO, "PERMILLE",
     "TEST ONLY: hold this share of received packets behind the next one"},
    {"impair.tx_drop", "impair-tx-drop", K_UINT, OFF(impair_tx.drop), 0, 1,
     TASD_IMPAIR_SHARE_MAX, F_ZERO, "PERMILLE",
     "TEST ONLY: drop this share of transmitted packets"},
    {"impair.tx_dup", "impair-tx-dup", K_UINT, OFF(impair_tx.dup), 0, 1,
     TASD_IMPAIR_SHARE_MAX, F_ZERO, "PERMILLE",
     "TEST ONLY: duplicate this share of transmitted packets"},
    {"impair.tx_delay", "impair-tx-delay", K_UINT, OFF(impair_tx.delay), 0, 1,
     TASD_IMPAIR_SHARE_MAX, F_ZERO, "PERMILLE",
     "TEST ONLY: delay this share of transmitted packets"},
    {"impair.tx_delay_us", "impair-tx-delay-us", K_UINT, OFF(impair_tx.delay_us), 0, 1,
     TASD_IMPAIR_DELAY_MAX_US, F_ZERO, "US",
     "TEST ONLY: how long a delayed packet is held"},
    {"impair.tx_reorder", "impair-tx-reorder", K_UINT, OFF(impair_tx.reorder), 0, 1,
     TASD_IMPAIR_SHARE_MAX, F_ZERO, "PERMILLE",
     "TEST ONLY: hold this share of transmitted packets behind the next one"},
};
#define N_SETTINGS (sizeof(settings) / sizeof(settings[0]))

static const char *const cc_names[] = {"reno", "none"};

/* Where a value came from: a file line or a command-line flag. */
struct src {
    const char *file; /* NULL: the command line */
    int line;
    const char *flag;
    const char *text; /* the flag's argument */
};

struct loader {
    struct src where[N_SETTINGS]; /* last assignment of each setting */
    bool set[N_SETTINGS];
    struct src route_src[TASD_MAX_ROUTES];
    bool routes_from_cli; /* the first --route drops the file's routes */
    int errors;
};

/* Option values for flags that are not settings. */
enum {
    OPT_CONFIG = 'c',
    OPT_HELP = 'h',
    OPT_VERSION = 'V',
    OPT_CHECK = 0x100,
    OPT_SETTING = 0x200, /* + index in settings[] */
};

static void set_defaults(struct tasd_config *c)
{
    memset(c, 0, sizeof(*c));
    snprintf(c->run_dir, sizeof(c->run_dir), "%s", TAS_DEFAULT_RUN_DIR);
    c->fp_cores = 1;
    c->poll = TASD_POLL_ADAPTIVE;
    c->poll_max_sleep_us = 2000;
    c->max_flows = 131072;
    c->app_max_conns = 65536;
    c->somaxconn = 4096;
    c->app_mem_mb = 0;
    c->max_ctx = 16;
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

static void __attribute__((format(printf, 4, 5)))
report(struct loader *L, const struct src *w, const char *key, const char *fmt, ...)
{
    va_list ap;

    if (w->file)
        fprintf(stderr, "tasd: %s:%d: %s: ", w->file, w->line, key);
    else if (w->text)
        fprintf(stderr, "tasd: --%s %s: ", w->flag, w->text);
    else
        fprintf(stderr, "tasd: --%s: ", w->flag);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    L->errors++;
}

static uint32_t prefix_mask(uint8_t prefix)
{
    return prefix ? htonl(~0u << (32 - prefix)) : 0;
}

static const char *ip_str(uint32_t ip, char *buf)
{
    return inet_ntop(AF_INET, &ip, buf, INET_ADDRSTRLEN);
}

/* An address tasd can own or give to the host: unicast, not 0/8, not loopback. */
static bool usable_host_addr(uint32_t ip)
{
    uint32_t h = ntohl(ip);
    return (h >> 24) != 0 && (h >> 24) != 127 && (h >> 28) < 14;
}

static void range_msg(const struct setting *s, char *buf, size_t len)
{
    if (s->flags & F_POW2)
        snprintf(buf, len, "must be a power of two between %u and %u", s->min, s->max);
    else if (s->flags & F_ZERO)
        snprintf(buf, len, "must be 0 or an integer between %u and %u", s->min, s->max);
    else
        snprintf(buf, len, "must be an integer between %u and %u", s->min, s->max);
}

static void set_uint(struct loader *L, struct tasd_config *c, const struct setting *s,
                     const struct src *w, bool is_int, long long v)
{
    bool ok = is_int && ((v >= s->min && v <= s->max) || ((s->flags & F_ZERO) && v == 0));
    char msg[96];

    if (ok && (s->flags & F_POW2) && (v & (v - 1)))
        ok = false;
    if (!ok) {
        range_msg(s, msg, sizeof(msg));
        report(L, w, s->key, "%s", msg);
        return;
    }
    *(uint32_t *)((char *)c + s->off) = (uint32_t)v;
}

static int parse_bool(const char *t)
{
    static const char *const yes[] = {"on", "yes", "true", "1"};
    static const char *const no[] = {"off", "no", "false", "0"};

    for (size_t i = 0; i < 4; i++) {
        if (!strcasecmp(t, yes[i]))
            return 1;
        if (!strcasecmp(t, no[i]))
            return 0;
    }
    return -1;
}

/* Parse one route "DEST/PREFIX[,GATEWAY]" or "default[,GATEWAY]". */
static int parse_route(const char *t, struct tasd_route *r, const char **why)
{
    char buf[64];
    char *comma;
    struct in_addr gw = {0};

    if (strlen(t) >= sizeof(buf)) {
        *why = "must be DEST/PREFIX[,GATEWAY]";
        return -EINVAL;
    }
    strcpy(buf, t);
    comma = strchr(buf, ',');
    if (comma) {
        *comma = '\0';
        if (inet_pton(AF_INET, comma + 1, &gw) != 1) {
            *why = "gateway must be an IPv4 address a.b.c.d";
            return -EINVAL;
        }
    }
    if (!strcmp(buf, "default")) {
        r->dest = 0;
        r->prefix = 0;
    } else if (tasd_parse_prefix(buf, &r->dest, &r->prefix)) {
        *why = "must be DEST/PREFIX[,GATEWAY] (a.b.c.d/len)";
        return -EINVAL;
    }
    if (r->dest & ~prefix_mask(r->prefix)) {
        *why = "destination has bits set beyond its prefix length";
        return -EINVAL;
    }
    r->gw = gw.s_addr;
    return 0;
}

static void add_route(struct loader *L, struct tasd_config *c, const struct src *w,
                      const char *key, const struct tasd_route *r)
{
    if (c->n_routes == TASD_MAX_ROUTES) {
        report(L, w, key, "too many routes (at most %d)", TASD_MAX_ROUTES);
        return;
    }
    L->route_src[c->n_routes] = *w;
    c->routes[c->n_routes++] = *r;
}

/* Apply a textual value (every command-line flag; string settings of the file). */
static void set_text(struct loader *L, struct tasd_config *c, const struct setting *s,
                     const struct src *w, const char *t)
{
    char *field = (char *)c + s->off;
    size_t len = strlen(t);

    switch (s->kind) {
    case K_UINT: {
        char *end;
        long long v;
        errno = 0;
        v = strtoll(t, &end, 10);
        set_uint(L, c, s, w, !errno && *t && !*end && isdigit((unsigned char)*t), v);
        return;
    }
    case K_BOOL: {
        int b = parse_bool(t);
        if (b < 0)
            report(L, w, s->key, "must be on or off");
        else
            *(bool *)field = b;
        return;
    }
    case K_ADDR: {
        uint32_t ip;
        uint8_t prefix;
        if (tasd_parse_prefix(t, &ip, &prefix)) {
            report(L, w, s->key,
                   "must be an IPv4 address with prefix length, a.b.c.d/len");
            return;
        }
        if (!usable_host_addr(ip) || prefix == 0) {
            report(L, w, s->key, "%s is not a usable unicast address/prefix", t);
            return;
        }
        *(uint32_t *)field = ip;
        *((uint8_t *)c + s->off2) = prefix;
        return;
    }
    case K_STR:
        if (len >= s->max) {
            report(L, w, s->key, "too long (at most %u characters)", s->max - 1);
            return;
        }
        break;
    case K_IFNAME:
        if (len >= IFNAMSIZ || len >= s->max || !strcmp(t, ".") || !strcmp(t, "..") ||
            strpbrk(t, "/: \t\n")) {
            report(L, w, s->key,
                   "must be an interface name of at most %d characters, or \"\"",
                   IFNAMSIZ - 1);
            return;
        }
        break;
    case K_DIR: {
        size_t room =
            sizeof(((struct sockaddr_un *)0)->sun_path) - sizeof("/" TAS_CONTROL_SOCK);
        if (t[0] != '/') {
            report(L, w, s->key, "must be an absolute path");
            return;
        }
        if (len > room || len >= s->max) {
            report(L, w, s->key, "too long for a socket path (at most %zu characters)",
                   room);
            return;
        }
        break;
    }
    case K_POLL:
        if (!strcmp(t, "busy"))
            c->poll = TASD_POLL_BUSY;
        else if (!strcmp(t, "adaptive"))
            c->poll = TASD_POLL_ADAPTIVE;
        else
            report(L, w, s->key, "must be \"busy\" or \"adaptive\"");
        return;
    case K_CC:
        for (size_t i = 0; i < sizeof(cc_names) / sizeof(cc_names[0]); i++) {
            if (!strcmp(t, cc_names[i])) {
                snprintf(field, s->max, "%s", t);
                return;
            }
        }
        report(L, w, s->key, "must be \"reno\" or \"none\"");
        return;
    case K_ROUTES: {
        struct tasd_route r;
        const char *why;
        if (!L->routes_from_cli) {
            L->routes_from_cli = true;
            c->n_routes = 0;
        }
        if (parse_route(t, &r, &why))
            report(L, w, s->key, "%s", why);
        else
            add_route(L, c, w, s->key, &r);
        return;
    }
    }
    memcpy(field, t, len + 1); /* string kinds, checked above */
}

/* routes = ( { dest = "0.0.0.0/0"; gateway = "10.0.0.1"; }, ... ); */
static void set_routes(struct loader *L, struct tasd_config *c,
                       const config_setting_t *list, const struct src *w)
{
    char key[48];

    if (!config_setting_is_list(list)) {
        report(L, w, "routes",
               "must be a list ( { dest = \"a.b.c.d/len\"; gateway = "
               "\"a.b.c.d\"; }, ... )");
        return;
    }
    for (int i = 0; i < config_setting_length(list); i++) {
        const config_setting_t *g = config_setting_get_elem(list, i);
        struct src ew = {config_setting_source_file(g) ? config_setting_source_file(g)
                                                       : w->file,
                         config_setting_source_line(g), NULL, NULL};
        struct tasd_route r = {0};
        const char *dest = NULL, *gw = NULL, *why;
        struct in_addr a;
        int bad = L->errors;

        snprintf(key, sizeof(key), "routes[%d]", i);
        if (!config_setting_is_group(g)) {
            report(L, &ew, key,
                   "must be a group { dest = \"a.b.c.d/len\"; gateway = "
                   "\"a.b.c.d\"; }");
            continue;
        }
        for (int j = 0; j < config_setting_length(g); j++) {
            const config_setting_t *e = config_setting_get_elem(g, j);
            const char *name = config_setting_name(e);
            struct src fw = {ew.file, config_setting_source_line(e), NULL, NULL};

            snprintf(key, sizeof(key), "routes[%d].%s", i, name);
            if (strcmp(name, "dest") && strcmp(name, "gateway")) {
                report(L, &fw, key, "unknown setting (a route has dest and gateway)");
                continue;
            }
            if (config_setting_type(e) != CONFIG_TYPE_STRING) {
                report(L, &fw, key, "must be a string");
                continue;
            }
            if (!strcmp(name, "dest")) {
                struct tasd_route d;
                dest = config_setting_get_string(e);
                if (strchr(dest, ',') || parse_route(dest, &d, &why)) {
                    report(L, &fw, key,
                           "must be a.b.c.d/len (or \"default\") with no "
                           "bits set beyond the prefix");
                } else {
                    r.dest = d.dest;
                    r.prefix = d.prefix;
                }
            } else {
                gw = config_setting_get_string(e);
                if (inet_pton(AF_INET, gw, &a) != 1)
                    report(L, &fw, key, "must be an IPv4 address a.b.c.d");
                else
                    r.gw = a.s_addr;
            }
        }
        snprintf(key, sizeof(key), "routes[%d]", i);
        if (!dest)
            report(L, &ew, key, "missing dest");
        if (L->errors == bad)
            add_route(L, c, &ew, key, &r);
    }
}

static const struct setting *find_key(const char *key)
{
    for (size_t i = 0; i < N_SETTINGS; i++)
        if (!strcmp(settings[i].key, key))
            return &settings[i];
    return NULL;
}

/* Is key ("host_if") the group of some setting ("host_if.name")? */
static bool is_group_key(const char *key)
{
    size_t n = strlen(key);
    for (size_t i = 0; i < N_SETTINGS; i++)
        if (!strncmp(settings[i].key, key, n) && settings[i].key[n] == '.')
            return true;
    return false;
}

static void set_from_file(struct loader *L, struct tasd_config *c,
                          const struct setting *s, const config_setting_t *e,
                          const struct src *w)
{
    int type = config_setting_type(e);

    switch (s->kind) {
    case K_UINT:
        set_uint(L, c, s, w, type == CONFIG_TYPE_INT || type == CONFIG_TYPE_INT64,
                 config_setting_get_int64(e));
        return;
    case K_BOOL:
        if (type != CONFIG_TYPE_BOOL)
            report(L, w, s->key, "must be true or false");
        else
            *(bool *)((char *)c + s->off) = config_setting_get_bool(e);
        return;
    case K_ROUTES:
        set_routes(L, c, e, w);
        return;
    default:
        if (type != CONFIG_TYPE_STRING) {
            report(L, w, s->key, "must be a string (%s)", s->arg);
            return;
        }
        set_text(L, c, s, w, config_setting_get_string(e));
        return;
    }
}

static void walk_group(struct loader *L, struct tasd_config *c, const config_setting_t *g,
                       const char *prefix, const char *path)
{
    for (int i = 0; i < config_setting_length(g); i++) {
        const config_setting_t *e = config_setting_get_elem(g, i);
        const char *file = config_setting_source_file(e);
        struct src w = {file ? file : path, config_setting_source_line(e), NULL, NULL};
        const struct setting *s;
        char key[64];

        snprintf(key, sizeof(key), "%s%s", prefix, config_setting_name(e));
        if (!*prefix && is_group_key(key)) {
            char sub[72];
            if (!config_setting_is_group(e)) {
                report(L, &w, key, "must be a group { ... }");
                continue;
            }
            snprintf(sub, sizeof(sub), "%s.", key);
            walk_group(L, c, e, sub, path);
            continue;
        }
        s = find_key(key);
        if (!s) {
            report(L, &w, key, "unknown setting");
            continue;
        }
        set_from_file(L, c, s, e, &w);
        L->where[s - settings] = w;
        L->set[s - settings] = true;
    }
}

static int load_file(struct loader *L, struct tasd_config *c, const char *path)
{
    config_t cfg;
    char dir[TASD_PATH_MAX];
    char *slash;
    FILE *f;

    f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "tasd: %s: cannot read the configuration: %s\n", path,
                strerror(errno));
        return -errno;
    }
    fclose(f);
    snprintf(c->config_file, sizeof(c->config_file), "%s", path);

    config_init(&cfg);
    snprintf(dir, sizeof(dir), "%s", path);
    slash = strrchr(dir, '/');
    if (slash) {
        *slash = '\0';
        config_set_include_dir(&cfg, *dir ? dir : "/");
    }
    if (!config_read_file(&cfg, path)) {
        fprintf(stderr, "tasd: %s:%d: %s\n",
                config_error_file(&cfg) ? config_error_file(&cfg) : path,
                config_error_line(&cfg), config_error_text(&cfg));
        config_destroy(&cfg);
        return -EINVAL;
    }
    walk_group(L, c, config_root_setting(&cfg), "", c->config_file);
    /* The strings in L->where point into cfg; keep them valid for the final
     * checks by pointing them at our copy of the path instead. */
    for (size_t i = 0; i < N_SETTINGS; i++)
        if (L->where[i].file)
            L->where[i].file = c->config_file;
    for (unsigned i = 0; i < c->n_routes; i++)
        L->route_src[i].file = c->config_file;
    config_destroy(&cfg);
    return L->errors ? -EINVAL : 0;
}

static void usage(FILE *f)
{
    struct tasd_config d;

    set_defaults(&d);
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
        DEFAULT_CONFIG_FILE);
    for (size_t i = 0; i < N_SETTINGS; i++) {
        const struct setting *s = &settings[i];
        const char *field = (const char *)&d + s->off;
        char opt[48], def[48] = "";

        snprintf(opt, sizeof(opt), "--%s %s", s->flag, s->arg);
        switch (s->kind) {
        case K_UINT:
            snprintf(def, sizeof(def), " [%u]", *(const uint32_t *)field);
            break;
        case K_BOOL:
            snprintf(def, sizeof(def), " [%s]", *(const bool *)field ? "on" : "off");
            break;
        case K_POLL:
            snprintf(def, sizeof(def), " [%s]",
                     d.poll == TASD_POLL_BUSY ? "busy" : "adaptive");
            break;
        case K_DIR:
        case K_CC:
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

/* getopt_long's table, built from settings[]. */
static void build_options(struct option *o)
{
    size_t n = 0;

    o[n++] = (struct option){"config", required_argument, NULL, OPT_CONFIG};
    o[n++] = (struct option){"check-config", no_argument, NULL, OPT_CHECK};
    o[n++] = (struct option){"help", no_argument, NULL, OPT_HELP};
    o[n++] = (struct option){"version", no_argument, NULL, OPT_VERSION};
    for (size_t i = 0; i < N_SETTINGS; i++)
        o[n++] = (struct option){settings[i].flag, required_argument, NULL,
                                 OPT_SETTING + (int)i};
    o[n] = (struct option){NULL, 0, NULL, 0};
}

/* Where setting i got its value; its flag if it kept the default. */
static const struct src *origin(struct loader *L, const char *key)
{
    const struct setting *s = find_key(key);
    size_t i = s - settings;

    if (!L->set[i])
        L->where[i] = (struct src){NULL, 0, s->flag, NULL};
    return &L->where[i];
}

/* The impairment breaks TCP on purpose: refuse any of it unless
 * impair.allow says so; a delay needs both its share and its time. */
static void check_impair(struct loader *L, struct tasd_config *c)
{
    static const char *const dirs[] = {"rx", "tx"};
    const struct tasd_impair_dir *d[] = {&c->impair_rx, &c->impair_tx};
    char key[40], other[40];

    for (unsigned i = 0; i < 2; i++) {
        if (!d[i]->delay != !d[i]->delay_us) {
            bool share = d[i]->delay != 0;
            snprintf(key, sizeof(key), "impair.%s_delay%s", dirs[i], share ? "" : "_us");
            snprintf(other, sizeof(other), "impair.%s_delay%s", dirs[i],
                     share ? "_us" : "");
            report(L, origin(L, key), key, "needs %s too (%s)", other,
                   share ? "how long to delay" : "the share of packets to delay");
        }
    }
    if (c->impair_allow)
        return;
    for (size_t i = 0; i < N_SETTINGS; i++) {
        const struct setting *s = &settings[i];
        if (strncmp(s->key, "impair.", 7) || s->kind != K_UINT ||
            !strcmp(s->key, "impair.seed") || *(uint32_t *)((char *)c + s->off) == 0)
            continue;
        report(L, origin(L, s->key), s->key,
               "refused: the impairment drops, duplicates, delays and reorders "
               "packets on purpose and is for tests only; set impair.allow = true "
               "(--impair-allow on) to use it");
    }
}

/* Cross-setting checks, after file and command line. */
static void check_all(struct loader *L, struct tasd_config *c)
{
    char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];
    char buf[TASD_ARGS_MAX], *args[TASD_MAX_EAL_ARGS];
    uint32_t mask = prefix_mask(c->prefix);
    int n;

    if (!c->ip) {
        fprintf(stderr, "tasd: no address: set ip in %s or give --ip ADDR/PREFIX\n",
                c->config_file[0] ? c->config_file : "the configuration");
        L->errors++;
    }
    for (unsigned i = 0; c->ip && i < c->n_routes; i++) {
        const struct tasd_route *r = &c->routes[i];
        char key[32];
        snprintf(key, sizeof(key), "routes[%u].gateway", i);
        if (r->gw && ((r->gw & mask) != (c->ip & mask) || r->gw == c->ip))
            report(L, &L->route_src[i], key, "%s is not a neighbour in %s/%u",
                   ip_str(r->gw, a), ip_str(c->ip, b), c->prefix);
    }
    if (c->host_if[0] && !c->host_ip)
        report(L, origin(L, "host_if.name"), "host_if.ip",
               "required when host_if.name is set (give host_if.ip or --host-ip "
               "ADDR/PREFIX)");
    if (c->host_if[0] && c->host_ip == c->ip)
        report(L, origin(L, "host_if.ip"), "host_if.ip", "must differ from ip (%s)",
               ip_str(c->ip, a));
    if (c->rto_min_ms > c->rto_max_ms)
        report(L, origin(L, "tcp.rto_min_ms"), "tcp.rto_min_ms",
               "must not exceed tcp.rto_max_ms (%u)", c->rto_max_ms);
    else if (c->rto_initial_ms < c->rto_min_ms || c->rto_initial_ms > c->rto_max_ms)
        report(L, origin(L, "tcp.rto_initial_ms"), "tcp.rto_initial_ms",
               "must be between tcp.rto_min_ms (%u) and tcp.rto_max_ms (%u)",
               c->rto_min_ms, c->rto_max_ms);
    if (c->rx_buf_initial % 1024 != 0)
        report(L, origin(L, "tcp.rx_buf_initial"), "tcp.rx_buf_initial",
               "must be a multiple of 1024");
    if (c->tx_buf_initial % 1024 != 0)
        report(L, origin(L, "tcp.tx_buf_initial"), "tcp.tx_buf_initial",
               "must be a multiple of 1024");
    if (c->rx_buf_initial > c->rx_buf_size)
        report(L, origin(L, "tcp.rx_buf_initial"), "tcp.rx_buf_initial",
               "must not exceed tcp.rx_buf_size (%u)", c->rx_buf_size);
    if (c->tx_buf_initial > c->tx_buf_size)
        report(L, origin(L, "tcp.tx_buf_initial"), "tcp.tx_buf_initial",
               "must not exceed tcp.tx_buf_size (%u)", c->tx_buf_size);
    check_impair(L, c);
    memcpy(buf, c->dpdk_args, sizeof(buf));
    n = tasd_split_args(buf, args, TASD_MAX_EAL_ARGS);
    if (n < 0)
        report(L, origin(L, "dpdk"), "dpdk", "%s",
               n == -E2BIG ? "too many arguments" : "unbalanced quote");
    if (c->app_mem_mb != 0)
        fprintf(stderr, "tasd: limits.app_mem_mb is obsolete (connection memory grows on "
                        "demand): ignoring it; limits.app_max_conns bounds an "
                        "application's connections\n");
}

int tasd_config_load(struct tasd_config *c, int argc, char **argv)
{
    static const char shortopts[] = "+:c:hV";
    struct option opts[N_SETTINGS + 5];
    struct loader L;
    const char *file = NULL;
    int o;

    memset(&L, 0, sizeof(L));
    set_defaults(c);
    build_options(opts);

    /* Pass 1: what to read, and whether to do anything at all. */
    opterr = 0;
    optind = 0;
    while ((o = getopt_long(argc, argv, shortopts, opts, NULL)) != -1) {
        switch (o) {
        case OPT_CONFIG:
            file = optarg;
            break;
        case OPT_CHECK:
            c->check_only = true;
            break;
        case OPT_HELP:
            usage(stdout);
            return 1;
        case OPT_VERSION:
            printf("tasd %s\n", TASD_VERSION);
            return 1;
        case ':':
            fprintf(stderr, "tasd: %s needs an argument (see tasd --help)\n",
                    argv[optind - 1]);
            return 2;
        case '?':
            if (optopt)
                fprintf(stderr, "tasd: unknown option '-%c' (see tasd --help)\n", optopt);
            else
                fprintf(stderr, "tasd: unknown option '%s' (see tasd --help)\n",
                        argv[optind - 1]);
            return 2;
        default:
            break;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "tasd: unexpected argument '%s' (see tasd --help)\n",
                argv[optind]);
        return 2;
    }

    if (file) {
        if (load_file(&L, c, file))
            return 2;
    } else if (access(DEFAULT_CONFIG_FILE, F_OK) == 0) {
        if (load_file(&L, c, DEFAULT_CONFIG_FILE))
            return 2;
    }

    /* Pass 2: the command line overrides the file. */
    optind = 0;
    while ((o = getopt_long(argc, argv, shortopts, opts, NULL)) != -1) {
        if (o >= OPT_SETTING && o < OPT_SETTING + (int)N_SETTINGS) {
            const struct setting *s = &settings[o - OPT_SETTING];
            struct src w = {NULL, 0, s->flag, optarg};
            set_text(&L, c, s, &w, optarg);
            L.where[s - settings] = w;
            L.set[s - settings] = true;
        }
    }
    optind = 1;
    if (L.errors)
        return 2;
    check_all(&L, c);
    return L.errors ? 2 : 0;
}
