/* port.h - the DPDK port tasd drives: EAL start, port bring-up, and what the
 * port can do (queues, checksum offloads, MAC, MTU).  The fast path owns the
 * port's queues once it runs; nothing else calls rx/tx burst.
 */
#ifndef TASD_PORT_H
#define TASD_PORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct rte_mempool;
struct tasd_config;

#define TASD_PORT_MAX_FDS 16

struct tasd_port {
    uint16_t port_id;
    uint8_t mac[6];
    uint16_t mtu;
    uint16_t n_queues;          /* rx/tx queue pairs actually configured */
    bool tx_cksum;              /* port computes IPv4 + TCP checksums on tx */
    bool rx_cksum;              /* port validates checksums on rx (mbuf ol_flags) */
    struct rte_mempool *pool;   /* mbufs for rx and for packets tasd builds */
    bool impaired;              /* the test-only impairment is on (impair_port.c) */
    /* net_af_packet: the PMD's AF_PACKET sockets, one per queue pair in
     * queue order (descriptors become readable when a frame is in the
     * ring: an idle fast-path core waits on them); n_rx_fds = 0 on other
     * ports (the core's sleep is bounded by poll_max_sleep_us then) */
    int rx_fds[TASD_PORT_MAX_FDS];
    unsigned n_rx_fds;
};

/* Start the EAL with c->dpdk_args, configure the first port with
 * c->fp_cores queue pairs (fewer if the port has fewer), start it.
 * Returns 0 or -errno with a message on stderr. */
int tasd_port_init(struct tasd_port *p, const struct tasd_config *c,
                   const char *argv0);
void tasd_port_stop(struct tasd_port *p);

/* Write the port's own counters (port_stats.c): ethdev stats and, on
 * af_packet, the kernel's ring drops.  Control thread only. */
void tasd_port_write_stats(FILE *f, bool json, const struct tasd_port *p);

/* Microseconds until queue `queue` of the port holds a packet that falls
 * due (the test-only impairment delays and reorders packets inside the
 * port); UINT32_MAX if it holds none.  A fast-path core caps its idle sleep
 * with it.  Called by the core that owns the queue. */
uint32_t tasd_port_due_us(const struct tasd_port *p, uint16_t queue);

/* The test-only impairment (tasd/impair_port.c, model in tasd/impair.h).
 * attach: after the port started, if c asks for any impairment (config.c
 * has refused it unless c->impair_allow); 0 or -errno, message on stderr.
 * detach: after the port stopped; frees the packets it held.
 * write_stats: the "impair" counters for tasctl stats; false (nothing
 * written) when the impairment is off. */
int tasd_impair_attach(struct tasd_port *p, const struct tasd_config *c);
void tasd_impair_detach(struct tasd_port *p);
bool tasd_impair_write_stats(FILE *f, bool json);

#endif /* TASD_PORT_H */
