/* test_fp_io.c - the fast path's receive and transmit on a real DPDK port:
 * its ACK policy (in-order segments of one burst cost one ACK; a lone
 * segment's ACK waits FP_DELACK_US for a reply to carry it; every segment
 * out of order is answered at once with a duplicate ACK) and TCP
 * segmentation offload (full segments leave as one chained frame marked
 * for the port to cut, no more of them than the port chains; without TSO,
 * one frame per segment).  One flow installed by FLOW_ADD on a net_ring
 * port, whose transmit ring is its receive ring: what the core sends is
 * read back with rte_eth_rx_burst.  Runs on an EAL without huge pages. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>

#include "common/port.h"
#include "fastpath/clock.h"
#include "fastpath/internal.h"

#define LOCAL_IP  RTE_BE32(0x0a000002)
#define REMOTE_IP RTE_BE32(0x0a000001)
#define ISN_RX    1000u  /* the peer's RCV.NXT for us */
#define ISN_TX    50000u /* our SND.UNA */
#define RING      65536u
#define MSS       1460u
#define FID       3u

static struct cm_port port;
static struct fp_core *core;
static uint8_t rxring[RING], txring[RING];
static const uint8_t peer_mac[6] = {2, 0, 0, 0, 0, 1};
static char run_dir[4096]; /* the EAL's, removed again at the end */

static void eal_up(void)
{
    char prefix[64];
    snprintf(prefix, sizeof(prefix), "--file-prefix=test_fp_io_%d", (int)getpid());
    char *argv[] = {"test_fp_io",     "--no-huge", "--no-pci", "--no-shconf",
                    "-m",             "128",       "--no-telemetry",
                    "--vdev=net_ring0", "--log-level=lib.*:error", prefix, NULL};
    cr_assert_geq(rte_eal_init((int)(sizeof(argv) / sizeof(argv[0])) - 1, argv), 0,
                  "rte_eal_init: %s", rte_strerror(rte_errno));
    snprintf(run_dir, sizeof(run_dir), "%s", rte_eal_get_runtime_dir());
}

static void port_up(void)
{
    struct rte_eth_conf conf;
    memset(&conf, 0, sizeof(conf));
    port.port_id = 0;
    port.mtu = 1500;
    port.n_queues = 1;
    port.pool = rte_pktmbuf_pool_create("test_fp_io", 4095, 0, 0,
                                        RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
    cr_assert_not_null(port.pool, "mbuf pool: %s", rte_strerror(rte_errno));
    cr_assert_eq(rte_eth_dev_configure(0, 1, 1, &conf), 0);
    cr_assert_eq(rte_eth_rx_queue_setup(0, 0, 1024, SOCKET_ID_ANY, NULL, port.pool), 0);
    cr_assert_eq(rte_eth_tx_queue_setup(0, 0, 1024, SOCKET_ID_ANY, NULL), 0);
    cr_assert_eq(rte_eth_dev_start(0), 0);
    struct rte_ether_addr mac;
    rte_eth_macaddr_get(0, &mac);
    memcpy(port.mac, mac.addr_bytes, 6);
    port.tx_cksum = true; /* the frames are only read back: no checksum needed */
}

/* Install the flow: rings empty, the peer's window wide open. */
static void setup(void)
{
    eal_up();
    port_up();
    cr_assert_eq(fp_init(&port, 1, 16, NULL, true, 1, LOCAL_IP), 0);
    core = &fp.cores[0];
    struct fp_flow *f = &fp.flows[FID];
    *f = (struct fp_flow){.rx_base = rxring,
                          .tx_base = txring,
                          .rx_size = RING,
                          .rx_avail = RING,
                          .rx_next_seq = ISN_RX,
                          .tx_size = RING,
                          .tx_una_seq = ISN_TX,
                          .tx_remote_win = RING,
                          .local_ip = LOCAL_IP,
                          .remote_ip = REMOTE_IP,
                          .local_port = RTE_BE16(7000),
                          .remote_port = RTE_BE16(40000),
                          .mss = MSS,
                          .core = 0};
    memcpy(f->remote_mac, peer_mac, 6);
    fp.flowx[FID] = (struct fp_flow_x){.rx_max = RING, .tx_max = RING};
    struct fp_cmd cmd = {.type = FP_CMD_FLOW_ADD, .id = FID};
    cr_assert_gt(fp_cmd_send(core, &cmd), 0);
    fp_cmds(core, fp_now_us());
    cr_assert(fp.flows[FID].flags & FP_FLOW_INSTALLED, "FLOW_ADD installed the flow");
}

static void teardown(void)
{
    rte_eth_dev_stop(0);
    rte_eal_cleanup();
    rmdir(run_dir); /* empty: --no-shconf */
}

TestSuite(fp_io, .init = setup, .fini = teardown);

/* A segment from the peer: seq, len bytes of payload (byte i = seq + i). */
static struct rte_mbuf *peer_segment(uint32_t seq, uint32_t len)
{
    struct rte_mbuf *m = rte_pktmbuf_alloc(port.pool);
    cr_assert_not_null(m);
    size_t hl = sizeof(struct rte_ether_hdr) + sizeof(struct rte_ipv4_hdr) +
                sizeof(struct rte_tcp_hdr);
    uint8_t *b = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(hl + len));
    struct rte_ether_hdr *eth = (struct rte_ether_hdr *)b;
    memcpy(&eth->dst_addr, port.mac, 6);
    memcpy(&eth->src_addr, peer_mac, 6);
    eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
    struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
    *ip = (struct rte_ipv4_hdr){.version_ihl = RTE_IPV4_VHL_DEF,
                                .total_length = rte_cpu_to_be_16((uint16_t)(hl - 14 + len)),
                                .time_to_live = 64,
                                .next_proto_id = IPPROTO_TCP,
                                .src_addr = REMOTE_IP,
                                .dst_addr = LOCAL_IP};
    struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)(ip + 1);
    *th = (struct rte_tcp_hdr){.src_port = RTE_BE16(40000),
                               .dst_port = RTE_BE16(7000),
                               .sent_seq = rte_cpu_to_be_32(seq),
                               .recv_ack = rte_cpu_to_be_32(ISN_TX),
                               .data_off = 5 << 4,
                               .tcp_flags = RTE_TCP_ACK_FLAG,
                               .rx_win = RTE_BE16(65535)};
    for (uint32_t i = 0; i < len; i++)
        b[hl + i] = (uint8_t)(seq + i);
    ip->hdr_checksum = rte_ipv4_cksum(ip);
    th->cksum = rte_ipv4_udptcp_cksum(ip, th);
    return m;
}

/* Send what the core owes at `now` and read it back from the port. */
static unsigned sent(uint64_t now, struct rte_mbuf **out, unsigned max)
{
    fp_acks_flush(core, now);
    fp_tx_flush(core);
    return rte_eth_rx_burst(0, 0, out, (uint16_t)max);
}

static const struct rte_tcp_hdr *tcp_of(const struct rte_mbuf *m)
{
    return rte_pktmbuf_mtod_offset(m, const struct rte_tcp_hdr *,
                                   sizeof(struct rte_ether_hdr) +
                                       sizeof(struct rte_ipv4_hdr));
}

Test(fp_io, in_order_segments_of_one_burst_cost_one_ack)
{
    struct rte_mbuf *in[3] = {peer_segment(ISN_RX, 1000), peer_segment(ISN_RX + 1000, 1000),
                              peer_segment(ISN_RX + 2000, 1000)};
    uint64_t now = fp_now_us();
    fp_input_burst(core, in, 3, now);
    struct rte_mbuf *out[8];
    unsigned n = sent(now, out, 8);
    cr_assert_eq(n, 1, "one ACK for three in-order segments, got %u frames", n);
    cr_assert_eq(rte_be_to_cpu_32(tcp_of(out[0])->recv_ack), ISN_RX + 3000);
    cr_assert_eq(rte_pktmbuf_pkt_len(out[0]), 54, "a pure ACK");
    for (unsigned i = 0; i < 3000; i++)
        cr_assert_eq(rxring[i], (uint8_t)(ISN_RX + i), "byte %u in the rx ring", i);
    rte_pktmbuf_free_bulk(out, n);
}

Test(fp_io, a_lone_segments_ack_waits_for_a_reply_then_goes)
{
    struct rte_mbuf *in[1] = {peer_segment(ISN_RX, 100)};
    uint64_t now = fp_now_us();
    fp_input_burst(core, in, 1, now);
    struct rte_mbuf *out[8];
    cr_assert_eq(sent(now, out, 8), 0, "the ACK waits for a reply to carry it");
    cr_assert_eq(sent(now + FP_DELACK_US - 1, out, 8), 0, "... until FP_DELACK_US");
    unsigned n = sent(now + FP_DELACK_US, out, 8);
    cr_assert_eq(n, 1, "then it goes alone");
    cr_assert_eq(rte_be_to_cpu_32(tcp_of(out[0])->recv_ack), ISN_RX + 100);
    rte_pktmbuf_free_bulk(out, n);
}

Test(fp_io, each_segment_out_of_order_is_answered_at_once)
{
    struct rte_mbuf *in[2] = {peer_segment(ISN_RX + 1000, 500),
                              peer_segment(ISN_RX + 2000, 500)};
    uint64_t now = fp_now_us();
    fp_input_burst(core, in, 2, now);
    struct rte_mbuf *out[8];
    unsigned n = sent(now, out, 8);
    cr_assert_eq(n, 2, "a duplicate ACK per segment out of order, got %u", n);
    for (unsigned i = 0; i < n; i++)
        cr_assert_eq(rte_be_to_cpu_32(tcp_of(out[i])->recv_ack), ISN_RX, "duplicate ACK");
    rte_pktmbuf_free_bulk(out, n);
}

/* The application wrote len bytes (byte i = i * 7). */
static void app_wrote(uint32_t len)
{
    for (uint32_t i = 0; i < len; i++)
        txring[i] = (uint8_t)(i * 7);
    fp.flows[FID].tx_avail = len;
}

/* The payload of a (chained) frame equals the tx ring from off. */
static void assert_payload(const struct rte_mbuf *m, uint32_t off, uint32_t len)
{
    uint8_t buf[RING];
    cr_assert_eq(rte_pktmbuf_pkt_len(m), 54 + len);
    const uint8_t *p = rte_pktmbuf_read(m, 54, len, buf);
    cr_assert_not_null(p);
    for (uint32_t i = 0; i < len; i++)
        cr_assert_eq(p[i], (uint8_t)((off + i) * 7), "payload byte %u", i);
}

Test(fp_io, with_tso_full_segments_leave_as_one_frame_the_port_cuts)
{
    fp.tso_frame_max = 1514;
    fp.tso_segs_max = 64;
    app_wrote(10000); /* 6 segments of 1460 and one of 1240 */
    uint32_t bytes;
    cr_assert_eq(fp_tx_flow(core, FID, 16, fp_now_us(), &bytes), 7, "7 segments");
    cr_assert_eq(bytes, 7 * 54 + 10000, "paced as the 7 frames on the wire");
    struct rte_mbuf *out[8];
    unsigned n = sent(fp_now_us(), out, 8);
    cr_assert_eq(n, 1, "one frame, got %u", n);
    cr_assert(out[0]->ol_flags & RTE_MBUF_F_TX_TCP_SEG, "marked for the port to cut");
    cr_assert_eq(out[0]->tso_segsz, MSS);
    cr_assert_eq(out[0]->nb_segs, 7, "a segment per mbuf");
    cr_assert_eq(out[0]->l2_len + out[0]->l3_len + out[0]->l4_len, 54);
    const struct rte_ipv4_hdr *ip =
        rte_pktmbuf_mtod_offset(out[0], const struct rte_ipv4_hdr *, 14);
    cr_assert_eq(rte_be_to_cpu_16(ip->total_length), 40 + 10000);
    cr_assert_eq(rte_be_to_cpu_32(tcp_of(out[0])->sent_seq), ISN_TX);
    cr_assert(tcp_of(out[0])->tcp_flags & RTE_TCP_PSH_FLAG, "the last byte pushed");
    assert_payload(out[0], 0, 10000);
    cr_assert_eq(core->tso_frames, 1);
    cr_assert_eq(core->tso_segs, 7);
    rte_pktmbuf_free_bulk(out, n);
}

Test(fp_io, a_tso_frame_chains_no_more_segments_than_the_port_takes)
{
    fp.tso_frame_max = 1514;
    fp.tso_segs_max = 4;
    app_wrote(10000);
    uint32_t bytes;
    cr_assert_eq(fp_tx_flow(core, FID, 16, fp_now_us(), &bytes), 7);
    struct rte_mbuf *out[8];
    unsigned n = sent(fp_now_us(), out, 8);
    cr_assert_eq(n, 2, "4 segments, then 3, got %u frames", n);
    cr_assert_eq(out[0]->nb_segs, 4);
    assert_payload(out[0], 0, 4 * MSS);
    cr_assert_eq(out[1]->nb_segs, 3);
    cr_assert_eq(rte_be_to_cpu_32(tcp_of(out[1])->sent_seq), ISN_TX + 4 * MSS);
    assert_payload(out[1], 4 * MSS, 10000 - 4 * MSS);
    rte_pktmbuf_free_bulk(out, n);
}

Test(fp_io, without_tso_each_segment_is_a_frame)
{
    app_wrote(10000);
    uint32_t bytes;
    cr_assert_eq(fp_tx_flow(core, FID, 16, fp_now_us(), &bytes), 7);
    struct rte_mbuf *out[8];
    unsigned n = sent(fp_now_us(), out, 8);
    cr_assert_eq(n, 7);
    for (unsigned i = 0; i < n; i++) {
        cr_assert_eq(out[i]->nb_segs, 1);
        cr_assert_not(out[i]->ol_flags & RTE_MBUF_F_TX_TCP_SEG);
        assert_payload(out[i], i * MSS, i < 6 ? MSS : 10000 - 6 * MSS);
    }
    cr_assert_eq(core->tso_frames, 0);
    rte_pktmbuf_free_bulk(out, n);
}
