/* tcp_in.c - what the fast path hands the slow path: exception frames.
 *
 * The fast path passes up, Ethernet header first and checksums verified:
 * ARP; IPv4 that is not TCP; TCP for no installed flow; TCP with SYN or
 * RST for an installed flow.  Here each frame is parsed (lengths checked
 * again: we do not rely on the fast path for our own safety) and goes to
 * ARP (neigh.c), the connection it belongs to (conn.c, listen.c), a
 * listener (a SYN), or is answered with a reset as RFC 9293 3.10.7.1
 * says for a segment nobody owns; pings are answered.  Every mbuf is
 * consumed.  A new connection's flow goes to the core its handshake came
 * from (sp_pkt.rx_core): the port keeps each flow on one queue (RSS, or
 * the kernel's hash for af_packet queue pairs), so its segments arrive
 * where the flow is installed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include <rte_mbuf.h>

#include "slowpath/sp.h"

/* A segment for connection c: by its state, to the active open (connect.c),
 * the passive open (listen.c) or a synchronized connection (sync_in.c). */
static void conn_input(struct sp_conn *c, const struct sp_pkt *p, struct rte_mbuf *m)
{
    switch (c->state) {
    case SP_TCP_SYN_SENT:
        sp_connect_input(c, p);
        rte_pktmbuf_free(m);
        break;
    case SP_TCP_SYN_RCVD:
        sp_listen_input(c, p, m);
        break;
    default:
        if (sp_tcp_synchronized(c->state) && c->fstate == SP_FLOW_INSTALLED)
            sp_sync_input(c, p, m);
        else
            rte_pktmbuf_free(m);
        break;
    }
}

static bool remote_ok(uint32_t ip)
{
    uint32_t h = ntohl(ip);
    /* No replies to broadcast, multicast, loopback, ourselves. */
    return h != 0 && h != 0xffffffffu && (h >> 28) != 0xe && (h >> 24) != 127 &&
           ip != sp.ip;
}

/* Ping: answer echo requests (rate-limited), drop other non-TCP. */
static void icmp_input(struct rte_mbuf *m)
{
    static uint64_t second;
    static uint32_t sent;

    sp.cnt.exc_nontcp++;
    if (sp.now_ms / 1000 != second) {
        second = sp.now_ms / 1000;
        sent = 0;
    }
    if (rte_pktmbuf_is_contiguous(m) && sent < SP_PING_PER_SEC) {
        int n = sp_icmp_echo_reply(rte_pktmbuf_mtod(m, uint8_t *),
                                   rte_pktmbuf_data_len(m), sp.ip, sp.mac);
        if (n > 0) {
            sent++;
            sp.cnt.pings++;
            rte_pktmbuf_data_len(m) = (uint16_t)n;
            rte_pktmbuf_pkt_len(m) = (uint32_t)n;
            m->ol_flags = 0;
            sp_tx(0, m, false);
            return;
        }
    }
    rte_pktmbuf_free(m);
}

void sp_exc_input(struct rte_mbuf *m, unsigned core)
{
    const uint8_t *data = rte_pktmbuf_mtod(m, const uint8_t *);
    size_t len = rte_pktmbuf_data_len(m);
    struct tas_eth_hdr eth;
    struct sp_pkt p;

    sp.cnt.exc_pkts++;
    if (len < sizeof(eth)) {
        sp.cnt.exc_bad++;
        sp.cnt.exc_bad_frame++;
        rte_pktmbuf_free(m);
        return;
    }
    memcpy(&eth, data, sizeof(eth));
    if (ntohs(eth.type) == TAS_ETHERTYPE_ARP) {
        sp_neigh_input(m);
        return;
    }
    int rc = sp_frame_parse_tcp(data, len, &p);
    if (rc == -EPROTONOSUPPORT) {
        icmp_input(m);
        return;
    }
    if (rc != 0) {
        sp.cnt.exc_bad++;
        sp.cnt.exc_bad_frame++;
        rte_pktmbuf_free(m);
        return;
    }
    p.rx_core = (uint8_t)(core < sp.n_cores ? core : 0);
    if (p.lip != sp.ip || !remote_ok(p.rip) || p.lport == 0 || p.rport == 0) {
        sp.cnt.exc_not_ours++;
        rte_pktmbuf_free(m);
        return;
    }
    struct sp_conn *c = sp_conn_lookup(p.lip, p.rip, p.lport, p.rport);
    if (c != NULL) {
        conn_input(c, &p, m);
        return;
    }
    struct sp_tw *t = sp_tw_lookup(p.lip, p.rip, p.lport, p.rport);
    uint32_t iss;
    if (t != NULL) {
        if (sp_tw_input(t, &p, m, &iss))
            sp_listen_syn_iss(&p, m, iss);
        return;
    }
    if ((p.flags & (TAS_TCP_SYN | TAS_TCP_ACK | TAS_TCP_RST)) == TAS_TCP_SYN) {
        sp_listen_syn(&p, m);
        return;
    }
    if (sp_listen_cookie_ack(&p, m))
        return;
    sp_tcp_reply_rst(&p);
    rte_pktmbuf_free(m);
}
