/* port.h - the DPDK port as the fast path and the slow path see it: its
 * id, address, MTU, queues, checksum and segmentation offloads, mbuf pool, the descriptors
 * an idle core can wait on, and a hook through which whatever sits inside
 * the port (tasd's test-only impairment) says when it next holds a packet.
 *
 * common/ is the floor under fastpath/, slowpath/ and tasd/: it includes
 * nothing of theirs.  tasd/port.c brings the port up and fills this in.
 */
#ifndef CM_PORT_H
#define CM_PORT_H

#include <stdbool.h>
#include <stdint.h>

struct rte_mempool;

#define CM_PORT_MAX_FDS 16

struct cm_port {
    uint16_t port_id;
    uint8_t mac[6];
    uint16_t mtu;
    uint16_t n_queues;        /* rx/tx queue pairs actually configured */
    char driver[32];          /* the PMD's name (net_af_packet, net_af_xdp, ...) */
    bool tx_cksum;            /* port computes IPv4 + TCP checksums on tx */
    bool rx_cksum;            /* port validates checksums on rx (mbuf ol_flags) */
    /* TCP segmentation offload: 0 = off, else the largest frame, Ethernet
     * header included, that a segment the port cuts may be (the MTU plus
     * the header; the TAP PMD counts the header against the MTU) */
    uint16_t tso_frame_max;
    uint16_t tso_segs_max;    /* ... and the most mbufs one frame may chain (the
                               * PMD's nb_seg_max; fastpath/tx.c puts one segment
                               * in each) */
    struct rte_mempool *pool; /* mbufs for rx and for packets tasd builds */
    /* net_af_packet, net_af_xdp: the PMD's AF_PACKET or AF_XDP sockets, one per queue
     * pair in queue order (descriptors become readable when a frame is in the ring: an
     * idle fast-path core waits on them); n_rx_fds = 0 on other ports (the core's sleep
     * is bounded by poll_max_sleep_us then) */
    int rx_fds[CM_PORT_MAX_FDS];
    unsigned n_rx_fds;
    /* Set while something inside the port holds packets back (tasd's
     * test-only impairment): microseconds until queue `queue` holds one
     * that falls due, UINT32_MAX if none.  Called by the core that owns
     * the queue. */
    uint32_t (*due_us)(const struct cm_port *p, uint16_t queue);
};

/* When the port next hands queue `queue` a held packet (UINT32_MAX: never). */
static inline uint32_t cm_port_due_us(const struct cm_port *p, uint16_t queue)
{
    uint32_t (*f)(const struct cm_port *, uint16_t) =
        __atomic_load_n(&p->due_us, __ATOMIC_ACQUIRE);
    return f != NULL ? f(p, queue) : UINT32_MAX;
}

#endif /* CM_PORT_H */
