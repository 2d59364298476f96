/* port.h - the DPDK port tasd drives: EAL start, port bring-up, and what the
 * port can do (queues, checksum offloads, MAC, MTU).  The fast path owns the
 * port's queues once it runs; nothing else calls rx/tx burst.
 */
#ifndef TASD_PORT_H
#define TASD_PORT_H

#include <stdbool.h>
#include <stdint.h>

struct rte_mempool;
struct tasd_config;

struct tasd_port {
    uint16_t port_id;
    uint8_t mac[6];
    uint16_t mtu;
    uint16_t n_queues;          /* rx/tx queue pairs actually configured */
    bool tx_cksum;              /* port computes IPv4 + TCP checksums on tx */
    bool rx_cksum;              /* port validates checksums on rx (mbuf ol_flags) */
    struct rte_mempool *pool;   /* mbufs for rx and for packets tasd builds */
};

/* Start the EAL with c->dpdk_args, configure the first port with
 * c->fp_cores queue pairs (fewer if the port has fewer), start it.
 * Returns 0 or -errno with a message on stderr. */
int tasd_port_init(struct tasd_port *p, const struct tasd_config *c,
                   const char *argv0);
void tasd_port_stop(struct tasd_port *p);

#endif /* TASD_PORT_H */
