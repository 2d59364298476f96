/* port_stats.c - what the port itself counted, for `tasctl stats`: the
 * ethdev counters (rte_eth_stats_get: frames the NIC or PMD missed for lack
 * of descriptors or mbufs, errors) and, on net_af_packet, the frames the
 * kernel dropped because the PMD's ring was full, which DPDK 22.11 does not
 * report: PACKET_STATISTICS of the PMD's AF_PACKET sockets (port.c found
 * them, struct cm_port.rx_fds).  That read resets the kernel's counters (nobody else
 * reads them), so the totals are kept here.  Also how many of the port's mbufs are
 * out of the pool, and in JSON the link state and the PMD's extended counters
 * (xstats, by name).  Control thread only.
 */
#include <inttypes.h>
#include <linux/if_packet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <rte_ethdev.h>
#include <rte_mempool.h>

#include "common/json.h"
#include "tasd/port.h"

static uint64_t af_drops;

/* Add what the kernel counted on the PMD's sockets since last time. */
static void af_packet_poll(const struct cm_port *p)
{
    if (strstr(p->driver, "af_packet") == NULL)
        return; /* af_xdp's sockets are in rx_fds too */
    for (unsigned i = 0; i < p->n_rx_fds; i++) {
        struct tpacket_stats st;
        socklen_t len = sizeof(st);
        if (getsockopt(p->rx_fds[i], SOL_PACKET, PACKET_STATISTICS, &st, &len) == 0)
            af_drops += st.tp_drops;
    }
}

/* The ethdev counters now (zero when the port has none) and af_drops. */
static void port_counters(const struct cm_port *p, struct rte_eth_stats *s)
{
    if (p->port_id >= RTE_MAX_ETHPORTS || rte_eth_stats_get(p->port_id, s) != 0)
        memset(s, 0, sizeof(*s));
    af_packet_poll(p);
}

struct json_object *tasd_port_stats_json(const struct cm_port *p)
{
    struct json_object *o = json_object_new_object();
    struct rte_eth_stats s;

    port_counters(p, &s);
    cm_json_u64(o, "ipackets", s.ipackets);
    cm_json_u64(o, "opackets", s.opackets);
    cm_json_u64(o, "imissed", s.imissed);
    cm_json_u64(o, "ierrors", s.ierrors);
    cm_json_u64(o, "oerrors", s.oerrors);
    cm_json_u64(o, "rx_nombuf", s.rx_nombuf);
    cm_json_u64(o, "kernel_drops", af_drops);
    cm_json_u64(o, "mbufs", p->pool != NULL ? p->pool->size : 0);
    cm_json_u64(o, "mbufs_in_use", p->pool != NULL ? rte_mempool_in_use_count(p->pool) : 0);
    cm_json_u64(o, "port_id", p->port_id);
    cm_json_str(o, "driver", p->driver);

    /* Link state, as the PMD reports it now (virtual ports say up). */
    struct rte_eth_link link;
    struct json_object *l = cm_json_obj(o, "link");
    if (p->port_id < RTE_MAX_ETHPORTS &&
        rte_eth_link_get_nowait(p->port_id, &link) == 0) {
        cm_json_bool(l, "up", link.link_status == RTE_ETH_LINK_UP);
        cm_json_u64(l, "speed_mbps",
                    link.link_speed == RTE_ETH_SPEED_NUM_UNKNOWN ? 0 : link.link_speed);
        cm_json_bool(l, "full_duplex", link.link_duplex == RTE_ETH_LINK_FULL_DUPLEX);
    }

    /* The PMD's own extended counters, by name. */
    struct json_object *x = cm_json_obj(o, "xstats");
    int n =
        p->port_id < RTE_MAX_ETHPORTS ? rte_eth_xstats_get_names(p->port_id, NULL, 0) : 0;
    if (n > 0 && n <= 4096) {
        struct rte_eth_xstat_name *names = calloc((size_t)n, sizeof(*names));
        struct rte_eth_xstat *vals = calloc((size_t)n, sizeof(*vals));
        if (names != NULL && vals != NULL &&
            rte_eth_xstats_get_names(p->port_id, names, (unsigned)n) == n &&
            rte_eth_xstats_get(p->port_id, vals, (unsigned)n) == n)
            for (int i = 0; i < n; i++)
                if (vals[i].id < (uint64_t)n)
                    cm_json_u64(x, names[vals[i].id].name, vals[i].value);
        free(names);
        free(vals);
    }
    return o;
}

void tasd_port_write_stats(FILE *f, const struct cm_port *p)
{
    struct rte_eth_stats s;

    port_counters(p, &s);
    fprintf(f, "port %u\n", p->port_id);
    fprintf(f, "  %-20s %" PRIu64 "\n", "ipackets", s.ipackets);
    fprintf(f, "  %-20s %" PRIu64 "\n", "opackets", s.opackets);
    fprintf(f, "  %-20s %" PRIu64 "\n", "imissed", s.imissed);
    fprintf(f, "  %-20s %" PRIu64 "\n", "ierrors", s.ierrors);
    fprintf(f, "  %-20s %" PRIu64 "\n", "oerrors", s.oerrors);
    fprintf(f, "  %-20s %" PRIu64 "\n", "rx_nombuf", s.rx_nombuf);
    fprintf(f, "  %-20s %" PRIu64 "  (af_packet ring full: frames the kernel dropped)\n",
            "kernel_drops", af_drops);
    if (p->pool != NULL)
        fprintf(f, "  %-20s %u of %u  (held by the PMD, the cores, queues and tasd)\n",
                "mbufs_in_use", rte_mempool_in_use_count(p->pool), p->pool->size);
}
