/* udp_echo.c - the raw I/O limit of the test port: a UDP echo on bare DPDK.
 *
 * bench/rawio.sh runs this in ns A on the same port tasd drives (the veth,
 * through net_af_packet or net_af_xdp) and bench/udp_rpc against it from
 * the Linux peer: the rate it reaches is what the port itself carries with
 * one core and no TCP, the ceiling for tasd's figures (issue 10).
 *
 *   udp_echo [EAL args...] -- --ip A.B.C.D [-d SECONDS]
 *
 * The port is set up as tasd/port.c does it, reduced to one rx/tx queue
 * pair: an mbuf pool, the descriptor counts the PMD accepts, promiscuous
 * mode on virtual devices.  The main lcore busy-polls it: a burst in, each
 * frame answered in place (an ARP request for --ip gets the port's MAC, a
 * UDP/IPv4 datagram to --ip goes back to its sender with MACs, addresses
 * and ports swapped), the answers out in one burst.  Everything else, and
 * every frame that does not parse, is counted and dropped.  Runs until
 * SIGINT/SIGTERM or -d SECONDS; says "udp_echo: READY" on stdout once the
 * port is up and, at the end,
 *
 *   udp_echo: rx=N tx=N arp=N dropped=N
 *
 * (and the drops by reason on stderr).
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include <rte_arp.h>
#include <rte_bus.h>
#include <rte_cycles.h>
#include <rte_dev.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

#include "common/cksum.h"

#define PROG        "udp_echo"
#define ECHO_MBUFS  8191
#define ECHO_CACHE  256
#define ECHO_DESCS  1024
#define ECHO_BURST  32
#define TX_ATTEMPTS 4 /* tx_burst calls for one burst before dropping the rest */

/* Why a frame was dropped (the counters on stderr at the end). */
enum drop {
    DROP_SHORT,     /* shorter than its headers say, or chained */
    DROP_ETHERTYPE, /* neither IPv4 nor ARP */
    DROP_NOT_OURS,  /* not to our MAC or address, not UDP, an ARP reply... */
    DROP_BAD_IP,    /* bad IPv4 version, header length or checksum */
    DROP_FRAGMENT,  /* an IPv4 fragment (af_xdp only: net_af_packet's fanout
                     * asks the kernel to reassemble, and it holds the
                     * fragments of an incomplete datagram) */
    DROP_BAD_UDP,   /* UDP length does not fit the IPv4 payload */
    DROP_BAD_ARP,   /* not Ethernet/IPv4 ARP */
    DROP_TX_FULL,   /* the port did not take the answer */
    DROP_REASONS
};

static const char *const drop_names[DROP_REASONS] = {
    "short",    "ethertype", "not_ours", "bad_ip",
    "fragment", "bad_udp",   "bad_arp",  "tx_full",
};

struct echo {
    uint16_t port_id;
    struct rte_ether_addr mac;
    uint32_t ip; /* network order */
    struct rte_mempool *pool;
    bool started; /* rte_eth_dev_start succeeded */
    uint64_t rx, tx, arp, drops[DROP_REASONS];
};

static volatile sig_atomic_t stop_now;

static void on_signal(int sig)
{
    (void)sig;
    stop_now = 1;
}

static void usage(void)
{
    fprintf(stderr, "usage: " PROG " [EAL args...] -- --ip A.B.C.D [-d SECONDS]\n");
    exit(2);
}

/* The options after "--" (argv[0] is the program name again). */
static void parse_opts(int argc, char **argv, uint32_t *ip, long *dur_s)
{
    bool have_ip = false;
    *dur_s = 0; /* until a signal */
    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(argv[i], "--ip") && v) {
            struct in_addr a;
            if (inet_pton(AF_INET, v, &a) != 1) {
                fprintf(stderr, PROG ": --ip %s: not an IPv4 address\n", v);
                usage();
            }
            *ip = a.s_addr;
            have_ip = true;
        } else if (!strcmp(argv[i], "-d") && v) {
            char *end;
            errno = 0;
            *dur_s = strtol(v, &end, 10);
            if (errno || *end || end == v || *dur_s < 1 || *dur_s > 86400) {
                fprintf(stderr, PROG ": -d %s: a number of seconds, 1 to 86400\n", v);
                usage();
            }
        } else {
            usage();
        }
        i++;
    }
    if (!have_ip)
        usage();
}

static bool is_virtual(const struct rte_eth_dev_info *info)
{
    const struct rte_bus *bus = info->device ? rte_dev_bus(info->device) : NULL;
    return bus && !strcmp(rte_bus_name(bus), "vdev");
}

/* Port e->port_id with one queue pair, started.  0 or -errno (said why). */
static int port_setup(struct echo *e)
{
    struct rte_eth_conf conf;
    struct rte_eth_dev_info info;
    uint16_t nb_rxd = ECHO_DESCS, nb_txd = ECHO_DESCS;
    int rc = rte_eth_dev_info_get(e->port_id, &info);
    if (rc) {
        fprintf(stderr, PROG ": port %u: cannot read device info: %s\n", e->port_id,
                strerror(-rc));
        return rc;
    }
    memset(&conf, 0, sizeof(conf));
    rc = rte_eth_dev_configure(e->port_id, 1, 1, &conf);
    if (rc == 0)
        rc = rte_eth_dev_adjust_nb_rx_tx_desc(e->port_id, &nb_rxd, &nb_txd);
    if (rc) {
        fprintf(stderr, PROG ": port %u (%s): configure: %s\n", e->port_id,
                info.driver_name, strerror(-rc));
        return rc;
    }
    int socket = rte_eth_dev_socket_id(e->port_id);
    if (socket < 0)
        socket = (int)rte_socket_id();
    e->pool = rte_pktmbuf_pool_create("udp_echo_mbufs", ECHO_MBUFS, ECHO_CACHE, 0,
                                      RTE_MBUF_DEFAULT_BUF_SIZE, socket);
    if (e->pool == NULL) {
        fprintf(stderr,
                PROG ": cannot create the mbuf pool (%u mbufs): %s; give DPDK "
                     "more memory (-m)\n",
                ECHO_MBUFS, rte_strerror(rte_errno));
        return -ENOMEM;
    }
    rc = rte_eth_rx_queue_setup(e->port_id, 0, nb_rxd, socket, NULL, e->pool);
    if (rc == 0)
        rc = rte_eth_tx_queue_setup(e->port_id, 0, nb_txd, socket, NULL);
    if (rc == 0)
        rc = rte_eth_dev_start(e->port_id);
    e->started = rc == 0;
    if (rc) {
        fprintf(stderr, PROG ": port %u (%s): queue setup or start: %s\n", e->port_id,
                info.driver_name, strerror(-rc));
        return rc;
    }
    if (is_virtual(&info)) /* as tasd/port.c: harmless, and no MAC surprises */
        rte_eth_promiscuous_enable(e->port_id);
    rc = rte_eth_macaddr_get(e->port_id, &e->mac);
    if (rc) {
        fprintf(stderr, PROG ": port %u: cannot read its MAC address: %s\n", e->port_id,
                strerror(-rc));
        return rc;
    }
    char mac[RTE_ETHER_ADDR_FMT_SIZE];
    rte_ether_format_addr(mac, sizeof(mac), &e->mac);
    fprintf(stderr, PROG ": port %u (%s) up: MAC %s, %u/%u descriptors\n", e->port_id,
            info.driver_name, mac, nb_rxd, nb_txd);
    return 0;
}

/* An ARP request for our address, turned into the reply in place.  -1 and
 * a drop reason (in *why) if it is not one. */
static int answer_arp(const struct echo *e, struct rte_ether_hdr *eth, uint32_t len,
                      enum drop *why)
{
    if (len < sizeof(*eth) + sizeof(struct rte_arp_hdr)) {
        *why = DROP_SHORT;
        return -1;
    }
    struct rte_arp_hdr *arp = (struct rte_arp_hdr *)(eth + 1);
    if (arp->arp_hardware != RTE_BE16(RTE_ARP_HRD_ETHER) ||
        arp->arp_protocol != RTE_BE16(RTE_ETHER_TYPE_IPV4) ||
        arp->arp_hlen != RTE_ETHER_ADDR_LEN || arp->arp_plen != 4) {
        *why = DROP_BAD_ARP;
        return -1;
    }
    uint32_t tip = arp->arp_data.arp_tip;
    if (arp->arp_opcode != RTE_BE16(RTE_ARP_OP_REQUEST) || tip != e->ip) {
        *why = DROP_NOT_OURS;
        return -1;
    }
    struct rte_ether_addr sha = arp->arp_data.arp_sha;
    uint32_t sip = arp->arp_data.arp_sip;
    arp->arp_opcode = RTE_BE16(RTE_ARP_OP_REPLY);
    arp->arp_data.arp_tha = sha;
    arp->arp_data.arp_tip = sip;
    arp->arp_data.arp_sha = e->mac;
    arp->arp_data.arp_sip = e->ip;
    rte_ether_addr_copy(&sha, &eth->dst_addr);
    rte_ether_addr_copy(&e->mac, &eth->src_addr);
    return 0;
}

/* A UDP/IPv4 datagram to us, turned into its echo in place.  -1 and a drop
 * reason if it is not one.  The UDP checksum stays as the sender made it:
 * swapping the addresses and the ports leaves the one's complement sum over
 * the pseudo header and the datagram unchanged, so it is still the right
 * one (or still 0, none). */
static int answer_udp(const struct echo *e, struct rte_ether_hdr *eth, uint32_t len,
                      enum drop *why)
{
    if (len < sizeof(*eth) + sizeof(struct rte_ipv4_hdr)) {
        *why = DROP_SHORT;
        return -1;
    }
    struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
    uint32_t ihl = (uint32_t)(ip->version_ihl & 0x0f) * 4;
    uint32_t tot = rte_be_to_cpu_16(ip->total_length);
    if ((ip->version_ihl >> 4) != 4 || ihl < sizeof(*ip) || tot < ihl) {
        *why = DROP_BAD_IP;
        return -1;
    }
    if (len < sizeof(*eth) + tot || tot < ihl + sizeof(struct rte_udp_hdr)) {
        *why = DROP_SHORT;
        return -1;
    }
    if (cm_cksum(ip, ihl, 0) != 0) {
        *why = DROP_BAD_IP;
        return -1;
    }
    if (ip->fragment_offset & RTE_BE16(RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)) {
        *why = DROP_FRAGMENT;
        return -1;
    }
    if (ip->next_proto_id != IPPROTO_UDP || ip->dst_addr != e->ip ||
        !rte_is_same_ether_addr(&eth->dst_addr, &e->mac)) {
        *why = DROP_NOT_OURS;
        return -1;
    }
    struct rte_udp_hdr *udp = (struct rte_udp_hdr *)((uint8_t *)ip + ihl);
    uint32_t ulen = rte_be_to_cpu_16(udp->dgram_len);
    if (ulen < sizeof(*udp) || ulen > tot - ihl) {
        *why = DROP_BAD_UDP;
        return -1;
    }
    rte_ether_addr_copy(&eth->src_addr, &eth->dst_addr);
    rte_ether_addr_copy(&e->mac, &eth->src_addr);
    ip->dst_addr = ip->src_addr;
    ip->src_addr = e->ip;
    ip->time_to_live = 64;
    ip->hdr_checksum = 0;
    uint16_t ck = cm_cksum(ip, ihl, 0);
    memcpy(&ip->hdr_checksum, &ck, sizeof(ck));
    uint16_t sport = udp->src_port;
    udp->src_port = udp->dst_port;
    udp->dst_port = sport;
    return 0;
}

/* Turn frame m into its answer in place: 0, or -1 (counted) to drop it. */
static inline int answer(struct echo *e, struct rte_mbuf *m)
{
    enum drop why = DROP_SHORT;
    uint32_t len = rte_pktmbuf_data_len(m);
    int rc = -1;
    if (likely(m->nb_segs == 1 && len >= sizeof(struct rte_ether_hdr))) {
        struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
        if (likely(eth->ether_type == RTE_BE16(RTE_ETHER_TYPE_IPV4))) {
            rc = answer_udp(e, eth, len, &why);
        } else if (eth->ether_type == RTE_BE16(RTE_ETHER_TYPE_ARP)) {
            rc = answer_arp(e, eth, len, &why);
            if (rc == 0)
                e->arp++;
        } else {
            why = DROP_ETHERTYPE;
        }
    }
    if (unlikely(rc != 0))
        e->drops[why]++;
    return rc;
}

/* The loop: burst in, answer in place, burst out; until a signal or the
 * deadline (0: none). */
static void echo_loop(struct echo *e, uint64_t deadline)
{
    struct rte_mbuf *rx[ECHO_BURST], *tx[ECHO_BURST];
    while (!stop_now && (deadline == 0 || rte_get_timer_cycles() < deadline)) {
        uint16_t n = rte_eth_rx_burst(e->port_id, 0, rx, ECHO_BURST), k = 0;
        if (n == 0)
            continue;
        e->rx += n;
        for (uint16_t i = 0; i < n; i++) {
            if (likely(answer(e, rx[i]) == 0))
                tx[k++] = rx[i];
            else
                rte_pktmbuf_free(rx[i]);
        }
        uint16_t sent = 0;
        for (int a = 0; a < TX_ATTEMPTS && sent < k; a++)
            sent += rte_eth_tx_burst(e->port_id, 0, tx + sent, k - sent);
        e->tx += sent;
        if (unlikely(sent < k)) {
            e->drops[DROP_TX_FULL] += k - sent;
            rte_pktmbuf_free_bulk(tx + sent, k - sent);
        }
    }
}

int main(int argc, char **argv)
{
    struct echo e = {.port_id = RTE_MAX_ETHPORTS};
    long dur_s;
    int n = rte_eal_init(argc, argv);
    if (n < 0) {
        fprintf(stderr, PROG ": DPDK EAL did not start: %s\n", rte_strerror(rte_errno));
        return 1;
    }
    parse_opts(argc - n, argv + n, &e.ip, &dur_s);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);

    uint16_t pid;
    RTE_ETH_FOREACH_DEV(pid)
    {
        e.port_id = pid;
        break;
    }
    int rc = 1;
    if (e.port_id == RTE_MAX_ETHPORTS) {
        fprintf(stderr, PROG ": no DPDK port: give one with --vdev (e.g. "
                             "--vdev net_af_packet0,iface=IF)\n");
        goto out;
    }
    if (port_setup(&e) != 0)
        goto out;
    printf(PROG ": READY\n");
    fflush(stdout);

    uint64_t deadline = 0;
    if (dur_s > 0)
        deadline = rte_get_timer_cycles() + (uint64_t)dur_s * rte_get_timer_hz();
    echo_loop(&e, deadline);

    uint64_t dropped = 0;
    fprintf(stderr, PROG ": drops:");
    for (int i = 0; i < DROP_REASONS; i++) {
        dropped += e.drops[i];
        fprintf(stderr, " %s=%llu", drop_names[i], (unsigned long long)e.drops[i]);
    }
    fputc('\n', stderr);
    printf(PROG ": rx=%llu tx=%llu arp=%llu dropped=%llu\n", (unsigned long long)e.rx,
           (unsigned long long)e.tx, (unsigned long long)e.arp,
           (unsigned long long)dropped);
    fflush(stdout);
    rc = 0;
out:
    if (e.port_id < RTE_MAX_ETHPORTS) {
        if (e.started)
            rte_eth_dev_stop(e.port_id);
        rte_eth_dev_close(e.port_id);
    }
    if (e.pool)
        rte_mempool_free(e.pool);
    rte_eal_cleanup();
    return rc;
}
