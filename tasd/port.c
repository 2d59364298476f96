/* port.c - DPDK bring-up: the EAL, then the one Ethernet port tasd drives.
 *
 * tasd_port_init builds the EAL command line from the `dpdk` setting, adding
 * what tasd needs unless the user said otherwise:
 *   --lcores 0@(CPUS),1@(CPUS),...   the main lcore (slow path) plus one
 *                                     lcore per fast-path core, each allowed
 *                                     on every CPU tasd may use, so a small
 *                                     machine can run tasd, applications and
 *                                     a peer side by side
 *   --file-prefix tasd-<hash>        per run directory, so two tasd
 *                                     instances never share DPDK files
 *   framecnt=4096 on net_af_packet   a receive ring of 4096 frames instead
 *                                     of the PMD's 512 (1 MiB): a burst, or
 *                                     a SYN flood, while the core is
 *                                     descheduled for a few ms would
 *                                     overflow it (kernel_drops in tasctl
 *                                     stats)
 * It then configures the first port with one rx/tx queue pair per fast-path
 * core (fewer if the port or the EAL's worker lcores are fewer), checksum offloads where
 * the port has them, an mbuf pool shared by the fast path and the slow path, and starts
 * it.  What the port turned out to be (MAC, MTU, queues, offloads) is in
 * struct cm_port for everyone else.  When the configuration asks for the
 * test-only impairment, impair_port.c hooks into the started port.  On failure nothing is
 * left behind: the EAL is cleaned up again, so the caller just exits.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <rte_bus.h>
#include <rte_dev.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_pdump.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "tasd/config.h"
#include "tasd/port.h"

#define PORT_MBUFS      16383
#define PORT_MBUF_CACHE 256
#define PORT_DESCS      1024
/* net_af_xdp: rings of 4096, as af_packet gets 4096 frames; see port_configure. */
#define PORT_XDP_DESCS 4096

static bool port_started;           /* rte_eth_dev_start succeeded */
static const char *tso_why = "off"; /* what the port line says of TSO */

/* Did the user give option opt (e.g. "--lcores", or "-l" with its value
 * attached or not)? */
static bool has_opt(char **argv, int argc, const char *opt)
{
    size_t n = strlen(opt);

    for (int i = 0; i < argc; i++) {
        if (opt[1] == '-') { /* long: --opt or --opt=value */
            if (!strncmp(argv[i], opt, n) && (argv[i][n] == '\0' || argv[i][n] == '='))
                return true;
        } else if (!strncmp(argv[i], opt, n)) { /* short: -l or -lVALUE */
            return true;
        }
    }
    return false;
}

/* The CPUs tasd may run on, as a DPDK cpuset "(0-3,6)". */
static int cpu_list(char *buf, size_t len)
{
    cpu_set_t set;
    size_t off = 0;
    int first = -1;

    if (sched_getaffinity(0, sizeof(set), &set))
        return -errno;
    off += snprintf(buf + off, len - off, "(");
    for (int cpu = 0; cpu <= CPU_SETSIZE; cpu++) {
        bool in = cpu < CPU_SETSIZE && CPU_ISSET(cpu, &set);
        if (in && first < 0)
            first = cpu;
        if (!in && first >= 0) {
            const char *sep = off > 1 ? "," : "";
            if (cpu - 1 == first)
                off += snprintf(buf + off, len - off, "%s%d", sep, first);
            else
                off += snprintf(buf + off, len - off, "%s%d-%d", sep, first, cpu - 1);
            first = -1;
        }
        if (off >= len)
            return -ENAMETOOLONG;
    }
    off += snprintf(buf + off, len - off, ")");
    return off < len ? 0 : -ENAMETOOLONG;
}

/* FNV-1a, for a short stable name derived from the run directory. */
static uint32_t hash_str(const char *s)
{
    uint32_t h = 2166136261u;
    while (*s)
        h = (h ^ (uint8_t)*s++) * 16777619u;
    return h;
}

#define AF_PACKET_FRAMES "4096"

/* A net_af_packet vdev without framecnt= gets ours (argv[i] is replaced by
 * a copy in buf). */
static int af_packet_frames(char **argv, int argc, char *buf, size_t len)
{
    for (int i = 0; i + 1 < argc; i++) {
        const char *v = argv[i + 1];
        if (strcmp(argv[i], "--vdev") != 0 || strncmp(v, "net_af_packet", 13) != 0 ||
            strstr(v, "framecnt=") != NULL)
            continue;
        if ((size_t)snprintf(buf, len, "%s,framecnt=" AF_PACKET_FRAMES, v) >= len)
            return -ENAMETOOLONG;
        argv[i + 1] = buf;
        return 0; /* one port */
    }
    return 0;
}

/* Start the EAL with the configured arguments plus what tasd adds. */
static int start_eal(const struct tasd_config *c, const char *argv0)
{
    static char args[TASD_ARGS_MAX];
    static char lcores[4096], prefix[32], vdev[TASD_ARGS_MAX + 32];
    char *argv[TASD_MAX_EAL_ARGS + 8];
    char cpus[1024];
    int argc = 1, n;
    size_t off = 0;

    argv[0] = (char *)argv0;
    memcpy(args, c->dpdk_args, sizeof(args));
    n = tasd_split_args(args, argv + 1, TASD_MAX_EAL_ARGS);
    if (n < 0) {
        fprintf(stderr, "tasd: dpdk: cannot split \"%s\" into arguments\n", c->dpdk_args);
        return -EINVAL;
    }
    argc += n;
    if (af_packet_frames(argv + 1, n, vdev, sizeof(vdev)) != 0)
        return -ENAMETOOLONG;

    if (!has_opt(argv + 1, n, "-l") && !has_opt(argv + 1, n, "-c") &&
        !has_opt(argv + 1, n, "--lcores")) {
        int rc = cpu_list(cpus, sizeof(cpus));
        if (rc) {
            fprintf(stderr, "tasd: cannot read the CPUs tasd may use: %s\n",
                    strerror(-rc));
            return rc;
        }
        for (unsigned i = 0; i <= c->fp_cores && off < sizeof(lcores); i++)
            off += snprintf(lcores + off, sizeof(lcores) - off, "%s%u@%s", i ? "," : "",
                            i, cpus);
        if (off >= sizeof(lcores))
            return -ENAMETOOLONG;
        argv[argc++] = "--lcores";
        argv[argc++] = lcores;
    }
    if (!has_opt(argv + 1, n, "--file-prefix")) {
        snprintf(prefix, sizeof(prefix), "tasd-%08x", hash_str(c->run_dir));
        argv[argc++] = "--file-prefix";
        argv[argc++] = prefix;
    }
    argv[argc] = NULL;

    fprintf(stderr, "tasd: starting DPDK:");
    for (int i = 1; i < argc; i++)
        fprintf(stderr, " %s", argv[i]);
    fputc('\n', stderr);

    if (rte_eal_init(argc, argv) < 0) {
        fprintf(stderr,
                "tasd: DPDK EAL did not start (%s); check the dpdk setting "
                "(--dpdk)\n",
                rte_strerror(rte_errno));
        return -(rte_errno ? rte_errno : EINVAL);
    }
    if (rte_pdump_init() != 0)
        fprintf(stderr, "tasd: packet capture (rte_pdump) not available: %s\n",
                rte_strerror(rte_errno));
    return 0;
}

/* The devices the dpdk setting names (--vdev X, -a/--allow X), as
 * " --vdev X -a Y" in buf; false if it names none. */
static bool devices_asked(const struct tasd_config *c, char *buf, size_t len)
{
    static char args[TASD_ARGS_MAX];
    struct tasd_dev dev[TASD_MAX_EAL_ARGS];
    size_t off = 0;

    buf[0] = '\0';
    int n = tasd_devices(c->dpdk_args, args, sizeof(args), dev, TASD_MAX_EAL_ARGS);
    for (int i = 0; i < n; i++) {
        int k = snprintf(buf + off, len - off, " %s %s", dev[i].vdev ? "--vdev" : "-a",
                         dev[i].name);
        if (k < 0 || (size_t)k >= len - off)
            break;
        off += (size_t)k;
    }
    return off > 0;
}

/* The sockets of a domain among our descriptors: AF_PACKET for the
 * af_packet PMD, AF_XDP for af_xdp (the PMD's: tasd opens none of either
 * itself), lowest first, which is the order the PMD opened them in: one per
 * queue pair.  A core sleeps on its queue's: readable once a frame is in
 * the ring. */
static unsigned domain_sockets(int domain, int *fds, unsigned max)
{
    DIR *d = opendir("/proc/self/fd");
    if (d == NULL)
        return 0;
    unsigned n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        char *end;
        long fd = strtol(e->d_name, &end, 10);
        if (*end != '\0' || fd < 0 || fd == dirfd(d))
            continue;
        int dom = 0;
        socklen_t len = sizeof(dom);
        if (getsockopt((int)fd, SOL_SOCKET, SO_DOMAIN, &dom, &len) != 0 || dom != domain)
            continue;
        if (n == max)
            break;
        unsigned i = n++; /* insertion sort: readdir's order is not numeric */
        while (i > 0 && fds[i - 1] > fd) {
            fds[i] = fds[i - 1];
            i--;
        }
        fds[i] = (int)fd;
    }
    closedir(d);
    return n;
}

/* The TAP queues' receive descriptors (rx interrupts, intr_conf.rxq): as
 * many as queues, or 0 (then the cores poll with timed sleeps). */
static unsigned tap_rx_fds(struct cm_port *p)
{
    if (p->n_queues > CM_PORT_MAX_FDS)
        return 0;
    for (uint16_t q = 0; q < p->n_queues; q++) {
        int fd = rte_eth_dev_rx_intr_ctl_q_get_fd(p->port_id, q);
        if (fd < 0)
            return 0;
        p->rx_fds[q] = fd;
    }
    return p->n_queues;
}

static bool is_virtual(const struct rte_eth_dev_info *info)
{
    const struct rte_bus *bus = info->device ? rte_dev_bus(info->device) : NULL;
    return bus && !strcmp(rte_bus_name(bus), "vdev");
}

/* How many queue pairs (p->n_queues): one per fast-path core, each on a
 * worker lcore of its own, as far as the lcores and the port allow (says
 * so when it is fewer than asked).  0 or -errno. */
static int port_queues(struct cm_port *p, const struct tasd_config *c,
                       const struct rte_eth_dev_info *info)
{
    unsigned workers = rte_lcore_count() - 1;
    if (workers == 0) {
        fprintf(stderr,
                "tasd: DPDK has no worker lcore for the fast path: give at least two "
                "lcores (-l/--lcores in --dpdk) or leave them to tasd\n");
        return -EINVAL;
    }
    p->n_queues = c->fp_cores;
    if (workers < p->n_queues) {
        fprintf(stderr,
                "tasd: DPDK has %u worker lcore(s): running %u fast-path core(s) "
                "instead of %u\n",
                workers, workers, c->fp_cores);
        p->n_queues = (uint16_t)workers;
    }
    if (info->max_rx_queues < p->n_queues)
        p->n_queues = info->max_rx_queues;
    if (info->max_tx_queues < p->n_queues)
        p->n_queues = info->max_tx_queues;
    if (p->n_queues == 0) {
        fprintf(stderr, "tasd: port %u (%s) has no queues\n", p->port_id,
                info->driver_name);
        return -ENODEV;
    }
    if (p->n_queues < c->fp_cores)
        fprintf(stderr,
                "tasd: port %u (%s) has %u queue pair(s): running %u fast-path "
                "core(s) instead of %u%s\n",
                p->port_id, info->driver_name, p->n_queues, p->n_queues, c->fp_cores,
                strstr(info->driver_name, "af_packet") ? " (add qpairs=N to the vdev)"
                                                       : "");
    return 0;
}

/* The MTU the paths use: the port's, at most one mbuf's worth (no
 * chained segments), lowered by the configured mtu. */
static uint16_t port_mtu(const struct cm_port *p, const struct tasd_config *c)
{
    uint16_t mtu, max_mtu;
    if (rte_eth_dev_get_mtu(p->port_id, &mtu))
        mtu = RTE_ETHER_MTU;
    /* Frames must fit one mbuf: the fast path does not chain segments. */
    max_mtu = RTE_MBUF_DEFAULT_DATAROOM - RTE_ETHER_HDR_LEN - RTE_ETHER_CRC_LEN;
    if (mtu > max_mtu) {
        fprintf(stderr, "tasd: port %u MTU %u exceeds one mbuf; using %u\n", p->port_id,
                mtu, max_mtu);
        mtu = max_mtu;
    }
    if (c->mtu && c->mtu < mtu)
        mtu = (uint16_t)c->mtu;
    else if (c->mtu > mtu)
        fprintf(stderr, "tasd: mtu %u is larger than port %u's MTU; using %u\n", c->mtu,
                p->port_id, mtu);
    return mtu;
}

/* The mbuf pool: enough for every descriptor ring (descs in all), every
 * lcore's cache and packets in flight in tasd's own rings; 2^n - 1 is the
 * mempool's best size.  NULL (said why) if DPDK has not the memory. */
static struct rte_mempool *port_pool(unsigned descs, int socket)
{
    unsigned n_mbufs = PORT_MBUFS;
    while (n_mbufs < descs + rte_lcore_count() * PORT_MBUF_CACHE + PORT_MBUFS / 2)
        n_mbufs = n_mbufs * 2 + 1;
    struct rte_mempool *mp = rte_pktmbuf_pool_create(
        "tasd_mbufs", n_mbufs, PORT_MBUF_CACHE, 0, RTE_MBUF_DEFAULT_BUF_SIZE, socket);
    if (mp == NULL)
        fprintf(stderr,
                "tasd: cannot create the mbuf pool (%u mbufs): %s; give DPDK more "
                "memory (-m in --dpdk)\n",
                n_mbufs, rte_strerror(rte_errno));
    return mp;
}

static int port_configure(struct cm_port *p, const struct tasd_config *c)
{
    const uint64_t tx_ck = RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_TCP_CKSUM;
    const uint64_t rx_ck = RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_TCP_CKSUM;
    struct rte_eth_conf conf;
    struct rte_eth_dev_info info;
    struct rte_ether_addr mac;
    uint16_t nb_rxd = PORT_DESCS, nb_txd = PORT_DESCS;
    int socket, rc;

    rc = rte_eth_dev_info_get(p->port_id, &info);
    if (rc == 0)
        snprintf(p->driver, sizeof(p->driver), "%s", info.driver_name);
    if (rc) {
        fprintf(stderr, "tasd: port %u: cannot read device info: %s\n", p->port_id,
                strerror(-rc));
        return rc;
    }
    rc = port_queues(p, c, &info);
    if (rc)
        return rc;

    memset(&conf, 0, sizeof(conf));
    p->tx_cksum = (info.tx_offload_capa & tx_ck) == tx_ck;
    p->rx_cksum = (info.rx_offload_capa & rx_ck) == rx_ck;
    if (p->tx_cksum)
        conf.txmode.offloads |= tx_ck;
    if (p->rx_cksum)
        conf.rxmode.offloads |= rx_ck;
    /* TSO needs the checksums offloaded and chained mbufs (fastpath/tx.c
     * builds one frame of several segments as a chain).  net_tap offers
     * it but cuts the frames itself (librte_gso, then a checksum and a
     * write per segment), which costs more than tasd's own segments; auto
     * leaves it off there. */
    const uint64_t tso = RTE_ETH_TX_OFFLOAD_TCP_TSO | RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
    bool tap = strstr(info.driver_name, "net_tap") != NULL;
    bool tso_has = p->tx_cksum && (info.tx_offload_capa & tso) == tso;
    bool tso_on = tso_has && (c->tso == TASD_TSO_ON || (c->tso == TASD_TSO_AUTO && !tap));
    if (tso_on)
        conf.txmode.offloads |= tso;
    tso_why = tso_on                   ? "on"
              : !tso_has               ? "off (the port has none)"
              : c->tso == TASD_TSO_OFF ? "off"
                                       : "off (net_tap's is software; --tso on uses it)";
    /* Several queues: spread TCP flows by their 4-tuple where the port can.
     * (The fast path still checks which core owns a flow.) */
    if (p->n_queues > 1 && (info.flow_type_rss_offloads & RTE_ETH_RSS_NONFRAG_IPV4_TCP)) {
        conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
        conf.rx_adv_conf.rss_conf.rss_hf = RTE_ETH_RSS_NONFRAG_IPV4_TCP;
    }

    /* TAP's receive "interrupt" is its queue's own tap descriptor, readable
     * while a frame waits (level, nothing to re-arm): the core sleeps on it. */
    if (tap)
        conf.intr_conf.rxq = 1;

    rc = rte_eth_dev_configure(p->port_id, p->n_queues, p->n_queues, &conf);
    if (rc) {
        fprintf(stderr,
                "tasd: port %u (%s): configure with %u queue pair(s) failed: %s\n",
                p->port_id, info.driver_name, p->n_queues, strerror(-rc));
        return rc;
    }
    if (strstr(info.driver_name, "af_xdp") != NULL)
        nb_rxd = nb_txd = PORT_XDP_DESCS;
    rc = rte_eth_dev_adjust_nb_rx_tx_desc(p->port_id, &nb_rxd, &nb_txd);
    if (rc) {
        fprintf(stderr, "tasd: port %u: descriptor counts: %s\n", p->port_id,
                strerror(-rc));
        return rc;
    }

    socket = rte_eth_dev_socket_id(p->port_id);
    if (socket < 0)
        socket = (int)rte_socket_id();
    p->pool = port_pool(p->n_queues * (nb_rxd + nb_txd), socket);
    if (!p->pool)
        return -ENOMEM;

    for (uint16_t q = 0; q < p->n_queues; q++) {
        rc = rte_eth_rx_queue_setup(p->port_id, q, nb_rxd, socket, NULL, p->pool);
        if (rc == 0)
            rc = rte_eth_tx_queue_setup(p->port_id, q, nb_txd, socket, NULL);
        if (rc) {
            fprintf(stderr, "tasd: port %u: queue %u setup failed: %s\n", p->port_id, q,
                    strerror(-rc));
            return rc;
        }
    }

    rc = rte_eth_dev_start(p->port_id);
    if (rc) {
        fprintf(stderr, "tasd: port %u (%s) did not start: %s\n", p->port_id,
                info.driver_name, strerror(-rc));
        return rc;
    }
    port_started = true;
    int domain = strstr(info.driver_name, "af_packet") != NULL ? AF_PACKET
                 : strstr(info.driver_name, "af_xdp") != NULL  ? AF_XDP
                                                               : -1;
    if (domain >= 0) {
        p->n_rx_fds = domain_sockets(domain, p->rx_fds, CM_PORT_MAX_FDS);
        if (p->n_rx_fds != p->n_queues)
            p->n_rx_fds = 0; /* not what we expect: poll with timed sleeps */
    } else if (tap) {
        p->n_rx_fds = tap_rx_fds(p);
    }
    if (is_virtual(&info)) {
        /* Harmless on virtual devices and it saves surprises with MACs;
         * not every PMD supports it, which is fine too. */
        rte_eth_promiscuous_enable(p->port_id);
        rte_eth_allmulticast_enable(p->port_id);
    }

    rc = rte_eth_macaddr_get(p->port_id, &mac);
    if (rc) {
        fprintf(stderr, "tasd: port %u: cannot read its MAC address: %s\n", p->port_id,
                strerror(-rc));
        return rc;
    }
    memcpy(p->mac, mac.addr_bytes, sizeof(p->mac));

    p->mtu = port_mtu(p, c);
    if (tso_on) { /* net_tap checks a segment with its Ethernet header against the MTU */
        p->tso_frame_max = (uint16_t)(p->mtu + (tap ? 0 : RTE_ETHER_HDR_LEN));
        p->tso_segs_max =
            info.tx_desc_lim.nb_seg_max != 0 ? info.tx_desc_lim.nb_seg_max : UINT16_MAX;
    }
    return 0;
}

int tasd_port_init(struct cm_port *p, const struct tasd_config *c, const char *argv0)
{
    uint16_t pid;
    int rc;

    memset(p, 0, sizeof(*p));
    p->port_id = RTE_MAX_ETHPORTS; /* none yet */
    rc = start_eal(c, argv0);
    if (rc)
        return rc;
    if (rte_eth_dev_count_avail() == 0) {
        char asked[TASD_ARGS_MAX];
        if (devices_asked(c, asked, sizeof(asked)))
            fprintf(stderr,
                    "tasd: no DPDK port: DPDK could not probe%s (the EAL's lines above "
                    "say why: a missing interface, a NIC not bound to DPDK?)\n",
                    asked);
        else
            fprintf(stderr,
                    "tasd: no DPDK port: give one with --dpdk \"--vdev ...\" (e.g. "
                    "--vdev net_tap0,iface=tas0) or -a PCI-ADDRESS for a NIC bound "
                    "to DPDK\n");
        rte_eal_cleanup();
        return -ENODEV;
    }
    RTE_ETH_FOREACH_DEV(pid)
    {
        p->port_id = pid;
        break;
    }
    rc = port_configure(p, c);
    if (rc == 0)
        rc = tasd_impair_attach(p, c);
    if (rc) {
        tasd_port_stop(p);
        rte_eal_cleanup();
        return rc;
    }
    fprintf(
        stderr,
        "tasd: port %u up: MAC %02x:%02x:%02x:%02x:%02x:%02x, MTU %u, %u queue pair(s), "
        "checksum offload rx %s tx %s, TSO %s\n",
        p->port_id, p->mac[0], p->mac[1], p->mac[2], p->mac[3], p->mac[4], p->mac[5],
        p->mtu, p->n_queues, p->rx_cksum ? "on" : "off", p->tx_cksum ? "on" : "off",
        tso_why);
    return 0;
}

void tasd_port_stop(struct cm_port *p)
{
    if (p->port_id < RTE_MAX_ETHPORTS && rte_eth_dev_is_valid_port(p->port_id)) {
        if (port_started)
            rte_eth_dev_stop(p->port_id);
        port_started = false;
        tasd_impair_detach(p); /* frees what it held, before the pool goes */
        rte_eth_dev_close(p->port_id);
    }
    if (p->pool) {
        rte_mempool_free(p->pool);
        p->pool = NULL;
    }
}
