/* syn.c - what a core does with TCP segments for no flow of its own, so
 * that a flood of them costs the core little and the slow path nothing:
 *
 *   - A SYN to a cookie port (fp.cookie_ports: a listener flooded with
 *     SYNs, published by the slow path, flood.c) is answered here with a
 *     SYN-ACK whose ISS is a SYN cookie (fastpath/syncookie.h), built in
 *     the SYN's own mbuf: no allocation, no ring, no slow-path wake-up.  The
 *     SYN-ACK is the one the slow path would send in cookie mode: MSS only
 *     (a cookie cannot remember window scale, SACK or timestamps), the
 *     listener's initial window.  The handshake's ACK still goes to the slow
 *     path, which checks the cookie and makes the connection.  Each answer
 *     costs the core more than the SYN did (on a veth, the SYN-ACK's trip
 *     through the kernel and the flooding host's RST back run in the core's
 *     transmit call), so the core answers at most fp.cookie_rate SYNs a
 *     second (tcp.syncookie_rate) and drops the rest (syn_shed): a
 *     legitimate client's SYN is answered with that probability per try,
 *     established traffic keeps the core.
 *   - A RST for no flow to a cookie port is dropped: it answers one of our
 *     cookie SYN-ACKs (the flooding host's kernel resets them), and a
 *     half-open record it might have cleared expires by its own timer.
 *   - Everything else goes to the slow path as an exception, within a token
 *     bucket per core and class (FP_EXC_*): past the rate the core drops
 *     and counts (exc_shed), the peers retransmit.
 */
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>

#include "common/proto.h"
#include "fastpath/classify.h"
#include "fastpath/internal.h"
#include "fastpath/syncookie.h"
#include "common/tcp_opts.h"

#define SYNACK_LEN                                                                      \
    (sizeof(struct rte_ether_hdr) + sizeof(struct rte_ipv4_hdr) +                       \
     sizeof(struct rte_tcp_hdr) + 4)

static const uint32_t exc_rate[FP_EXC_CLASSES] = {FP_EXC_TCP_RATE, FP_EXC_OTHER_RATE, 0};
static const uint32_t exc_burst[FP_EXC_CLASSES] = {FP_EXC_TCP_BURST, FP_EXC_OTHER_BURST,
                                                   FP_EXC_COOKIE_BURST};

bool fp_exc_admit(struct fp_core *c, unsigned cls, uint64_t now)
{
    struct fp_priv *p = fp_priv(c);
    uint32_t rate = cls == FP_EXC_COOKIE ? fp.cookie_rate : exc_rate[cls];
    if (rate == 0)
        rate = 1;
    /* Refill by whole tokens; the time of a fraction of one is kept. */
    uint64_t add = (now - p->exc_us[cls]) * rate / 1000000u;
    if (add > 0) {
        uint64_t t = p->exc_tok[cls] + add;
        if (t >= exc_burst[cls]) {
            p->exc_tok[cls] = exc_burst[cls];
            p->exc_us[cls] = now;
        } else {
            p->exc_tok[cls] = (uint32_t)t;
            p->exc_us[cls] += add * 1000000u / rate;
        }
    }
    if (p->exc_tok[cls] == 0) {
        if (cls != FP_EXC_COOKIE)
            c->exc_shed++;
        return false;
    }
    p->exc_tok[cls]--;
    return true;
}

/* The published entry for a local port (network order) and its slot, or 0. */
static inline uint64_t cookie_port(uint16_t port_be, unsigned *slot)
{
    for (unsigned i = 0; i < FP_COOKIE_PORTS; i++) {
        uint64_t e = atomic_load_explicit(&fp.cookie_ports[i], memory_order_acquire);
        if (e != 0 && (uint16_t)e == port_be) {
            *slot = i;
            return e;
        }
    }
    return 0;
}

/* Turn the SYN in m into our cookie SYN-ACK and send it.  False if the
 * SYN cannot be answered here (the caller hands it on). */
static bool answer(struct fp_core *c, struct rte_mbuf *m, const struct fp_frame *fr,
                   uint64_t e, uint64_t now)
{
    const struct tas_ip_hdr *ip = fr->ip;
    const struct tas_tcp_hdr *th = fr->th;
    struct cm_tcp_opts o;
    if (cm_tcp_opts_parse((const uint8_t *)th + sizeof(*th), fr->doff - sizeof(*th), &o) != 0)
        return false;

    /* Everything the reply needs, read before the frame is overwritten. */
    struct rte_ether_addr peer_mac;
    memcpy(&peer_mac, rte_pktmbuf_mtod(m, struct rte_ether_hdr *)->src_addr.addr_bytes, 6);
    uint32_t lip = ip->dst, rip = ip->src;
    uint16_t lport = th->dport, rport = th->sport;
    uint32_t peer_isn = rte_be_to_cpu_32(th->seq);
    uint32_t iss = fp_syncookie_make(fp.cookie_key, lip, rip, lport, rport, peer_isn,
                                     o.has_mss ? o.mss : 536, now / 1000u);

    uint16_t len = rte_pktmbuf_data_len(m);
    if (len > SYNACK_LEN) {
        if (rte_pktmbuf_trim(m, (uint16_t)(len - SYNACK_LEN)) != 0)
            return false;
    } else if (len < SYNACK_LEN && rte_pktmbuf_append(m, (uint16_t)(SYNACK_LEN - len)) == NULL) {
        return false;
    }

    struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
    eth->dst_addr = peer_mac;
    memcpy(eth->src_addr.addr_bytes, fp.local_mac, 6);
    eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
    struct rte_ipv4_hdr *ih = (struct rte_ipv4_hdr *)(eth + 1);
    memset(ih, 0, sizeof(*ih));
    ih->version_ihl = 0x45;
    ih->total_length = rte_cpu_to_be_16(sizeof(*ih) + sizeof(struct rte_tcp_hdr) + 4);
    ih->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
    ih->time_to_live = 64;
    ih->next_proto_id = IPPROTO_TCP;
    ih->src_addr = lip;
    ih->dst_addr = rip;
    struct rte_tcp_hdr *t = (struct rte_tcp_hdr *)(ih + 1);
    memset(t, 0, sizeof(*t));
    t->src_port = lport;
    t->dst_port = rport;
    t->sent_seq = rte_cpu_to_be_32(iss);
    t->recv_ack = rte_cpu_to_be_32(peer_isn + 1);
    t->data_off = (uint8_t)(((sizeof(*t) + 4) / 4) << 4);
    t->tcp_flags = RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG;
    t->rx_win = rte_cpu_to_be_16((uint16_t)(e >> 16));
    uint8_t *opt = (uint8_t *)(t + 1);
    uint16_t mss = (uint16_t)(e >> 32);
    opt[0] = 2; /* MSS */
    opt[1] = 4;
    opt[2] = (uint8_t)(mss >> 8);
    opt[3] = (uint8_t)mss;

    m->ol_flags = 0;
    m->l2_len = sizeof(*eth);
    m->l3_len = sizeof(*ih);
    m->l4_len = sizeof(*t) + 4;
    fp_tx_prepare_cksum(m);
    fp_tx_enqueue(c, m);
    c->syncookies_sent++;
    return true;
}

void fp_syn_noflow(struct fp_core *c, struct rte_mbuf *m, const struct fp_frame *fr,
                   uint64_t now)
{
    uint8_t fl = fr->th->flags;
    if (atomic_load_explicit(&fp.n_cookie_ports, memory_order_relaxed) != 0) {
        unsigned slot = 0;
        uint64_t e = cookie_port(fr->th->dport, &slot);
        if (e != 0) {
            if ((fl & (TAS_TCP_SYN | TAS_TCP_ACK | TAS_TCP_RST | TAS_TCP_FIN)) == TAS_TCP_SYN) {
                c->cookie_hits[slot]++;
                if (!fp_exc_admit(c, FP_EXC_COOKIE, now)) {
                    c->syn_shed++;
                    rte_pktmbuf_free(m);
                    return;
                }
                if (answer(c, m, fr, e, now))
                    return;
            }
            if (fl & TAS_TCP_RST) {
                c->rst_shed++;
                rte_pktmbuf_free(m);
                return;
            }
        }
    }
    if (!fp_exc_admit(c, FP_EXC_TCP, now)) {
        rte_pktmbuf_free(m);
        return;
    }
    fp_exception(c, m);
}
