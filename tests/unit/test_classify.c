/* test_classify.c - the fast path's verdict on received frames
 * (fastpath/classify.h): each malformed kind is dropped and counted under
 * its own reason and nothing else moves; frames not for us are ignored and
 * counted; well-formed segments (with IP options too) reach receive
 * processing (fastpath/rx.c) with the right fields. */
#include <criterion/criterion.h>

#include "fastpath/classify.h"
#include "fastpath/flow.h"
#include "fastpath/rx.h"
#include "tests/unit/test_frames.h"

static uint8_t frame[TF_MAX];
static uint64_t reasons[FP_RX_REASON_MAX], bad, ign;
static uint64_t to_sp, to_rx; /* frames passed on: slow path, rx processing */
static struct fp_seg seg;

static const uint8_t payload[] = "hello, hostile world";
static const uint8_t ts_opts[12] = {1, 1, 8, 10, 0, 0, 0, 7, 0, 0, 0, 3};

static void reset_counters(void)
{
    memset(reasons, 0, sizeof(reasons));
    bad = ign = to_sp = to_rx = 0;
}

TestSuite(classify, .init = reset_counters);

/* What input.c does with a frame, minus DPDK and the flow table: classify,
 * count, and for a TCP segment parse it as for an installed flow. */
static enum fp_verdict feed(const uint8_t *f, size_t len)
{
    struct fp_frame fr;
    enum fp_verdict v = fp_classify(f, (uint32_t)len, tf_our_mac, TF_OUR_IP,
                                    FP_CK_UNKNOWN, FP_CK_UNKNOWN, &fr);
    if (v == FP_V_DROP || v == FP_V_IGNORE) {
        fp_rx_count(reasons, &bad, &ign, fr.reason);
        return v;
    }
    if (fr.reason != FP_RX_OK)
        reasons[fr.reason]++; /* a note */
    if (v != FP_V_TCP) {
        to_sp++;
        return v;
    }
    unsigned r = fp_classify_seg(&fr, &seg);
    if (r != 0) {
        fp_rx_count(reasons, &bad, &ign, r);
        return FP_V_DROP;
    }
    to_rx++;
    return v;
}

/* Exactly one reason counter moved, by one, and it is `reason`. */
static void assert_only(unsigned reason)
{
    for (unsigned r = 1; r < FP_RX_N; r++)
        cr_assert_eq(reasons[r], r == reason ? 1u : 0u, "counter %s is %lu",
                     fp_rx_reason_name(r), (unsigned long)reasons[r]);
    enum fp_rx_kind k = fp_rx_reason_kind(reason);
    cr_assert_eq(bad, k == FP_RX_KIND_BAD ? 1u : 0u, "drops_bad");
    cr_assert_eq(ign, k == FP_RX_KIND_IGN ? 1u : 0u, "rx_ignored");
    if (k != FP_RX_KIND_NOTE)
        cr_assert_eq(to_sp + to_rx, 0, "a dropped frame went on");
}

static size_t good_data(void)
{
    struct tf_spec s = {.flags = TAS_TCP_ACK | TAS_TCP_PSH,
                        .seq = 5000,
                        .ack = 9000,
                        .win = 512,
                        .tcpopt = ts_opts,
                        .tcpopt_len = sizeof(ts_opts),
                        .payload = payload,
                        .payload_len = sizeof(payload)};
    return tf_build(frame, &s);
}

#define IP(o)  frame[TF_IP + (o)]
#define TCP(o) frame[TF_IP + 20 + (o)]

Test(classify, well_formed_segment_goes_to_rx_with_its_fields)
{
    size_t n = good_data();
    cr_assert_eq(feed(frame, n), FP_V_TCP);
    cr_assert_eq(to_rx, 1);
    cr_assert_eq(bad + ign, 0);
    cr_assert_eq(seg.seq, 5000);
    cr_assert_eq(seg.ack, 9000);
    cr_assert_eq(seg.win, 512);
    cr_assert(seg.has_ts);
    cr_assert_eq(seg.ts_val, 7);
    cr_assert_eq(seg.ts_ecr, 3);
    cr_assert_eq(seg.len, sizeof(payload));
    cr_assert_arr_eq(seg.data, payload, sizeof(payload));
}

Test(classify, segment_reaches_the_receive_ring_through_rx)
{
    size_t n = good_data();
    cr_assert_eq(feed(frame, n), FP_V_TCP);
    uint8_t ring[64] = {0};
    struct fp_flow f = {.rx_base = ring,
                        .rx_size = 64,
                        .rx_avail = 64,
                        .rx_next_seq = 5000,
                        .tx_una_seq = 9000,
                        .flags = FP_FLOW_INSTALLED};
    struct fp_rx_result r;
    struct fp_flow_x x = {.n_ooo = 0};
    fp_rx_segment(&f, &x, &seg, 0, &r);
    cr_assert_eq(r.delivered, sizeof(payload));
    cr_assert_arr_eq(ring, payload, sizeof(payload));
}

Test(classify, ip_options_are_skipped_and_noted)
{
    static const uint8_t ipopt[8] = {0x94, 4, 0, 0,
                                     1,    1, 1, 0}; /* router alert, NOPs, EOL */
    struct tf_spec s = {.flags = TAS_TCP_ACK,
                        .seq = 1,
                        .ack = 2,
                        .win = 100,
                        .ipopt = ipopt,
                        .ipopt_len = 8,
                        .payload = payload,
                        .payload_len = 5};
    size_t n = tf_build(frame, &s);
    cr_assert_eq(feed(frame, n), FP_V_TCP);
    assert_only(FP_RX_IP_OPTS);
    cr_assert_eq(to_rx, 1);
    cr_assert_eq(seg.seq, 1);
    cr_assert_eq(seg.len, 5);
    cr_assert_arr_eq(seg.data, payload, 5);
}

Test(classify, truncated_ethernet_header_is_counted)
{
    good_data();
    cr_assert_eq(feed(frame, 13), FP_V_DROP);
    assert_only(FP_RX_ETH_TRUNC);
}

Test(classify, truncated_ip_header_is_counted)
{
    good_data();
    cr_assert_eq(feed(frame, TF_IP + 19), FP_V_DROP);
    assert_only(FP_RX_IP_TRUNC);
}

Test(classify, ip_version_other_than_4_is_counted)
{
    size_t n = good_data();
    IP(0) = 0x65;
    tf_recksum(frame, n);
    cr_assert_eq(feed(frame, n), FP_V_DROP);
    assert_only(FP_RX_IP_VERSION);
}

Test(classify, ip_header_length_below_20_is_counted)
{
    size_t n = good_data();
    IP(0) = 0x44;
    cr_assert_eq(feed(frame, n), FP_V_DROP);
    assert_only(FP_RX_IP_HLEN);
}

Test(classify, ip_total_length_beyond_the_frame_is_counted)
{
    size_t n = good_data();
    cr_assert_eq(feed(frame, n - 1), FP_V_DROP);
    assert_only(FP_RX_IP_LEN);
}

Test(classify, ip_total_length_below_the_header_is_counted)
{
    size_t n = good_data();
    IP(2) = 0;
    IP(3) = 16;
    cr_assert_eq(feed(frame, n), FP_V_DROP);
    assert_only(FP_RX_IP_LEN);
}

Test(classify, ip_fragment_with_more_fragments_is_counted)
{
    size_t n = good_data();
    IP(6) = 0x20; /* MF */
    tf_recksum(frame, n);
    cr_assert_eq(feed(frame, n), FP_V_DROP);
    assert_only(FP_RX_IP_FRAG);
}

Test(classify, ip_fragment_with_an_offset_is_counted)
{
    size_t n = good_data();
    IP(6) = 0;
    IP(7) = 0x10; /* offset 16 * 8 */
    tf_recksum(frame, n);
    cr_assert_eq(feed(frame, n), FP_V_DROP);
    assert_only(FP_RX_IP_FRAG);
}

Test(classify, bad_ip_checksum_is_counted)
{
    size_t n = good_data();
    IP(10) ^= 0x01;
    cr_assert_eq(feed(frame, n), FP_V_DROP);
    assert_only(FP_RX_IP_CKSUM);
}

Test(classify, bad_tcp_checksum_is_counted)
{
    size_t n = good_data();
    frame[n - 1] ^= 0x40; /* a payload bit flipped on the way */
    cr_assert_eq(feed(frame, n), FP_V_DROP);
    assert_only(FP_RX_TCP_CKSUM);
}

Test(classify, ip_payload_shorter_than_a_tcp_header_is_counted)
{
    size_t n = good_data();
    IP(2) = 0;
    IP(3) = 20 + 19;
    tf_ip_recksum(frame);
    cr_assert_eq(feed(frame, n), FP_V_DROP);
    assert_only(FP_RX_TCP_TRUNC);
}

Test(classify, tcp_data_offset_below_5_is_counted)
{
    size_t n = good_data();
    TCP(12) = 4 << 4;
    tf_recksum(frame, n);
    cr_assert_eq(feed(frame, n), FP_V_DROP);
    assert_only(FP_RX_TCP_DOFF);
}

Test(classify, tcp_data_offset_beyond_the_segment_is_counted)
{
    struct tf_spec s = {.flags = TAS_TCP_ACK, .seq = 1, .ack = 2, .win = 1};
    size_t n = tf_build(frame, &s); /* 20-byte TCP header, no payload */
    TCP(12) = 6 << 4;               /* says 24 */
    tf_recksum(frame, n);
    cr_assert_eq(feed(frame, n), FP_V_DROP);
    assert_only(FP_RX_TCP_DOFF);
}

Test(classify, tcp_option_with_length_0_is_counted)
{
    static const uint8_t opt[4] = {1, 1, 8, 0};
    struct tf_spec s = {.flags = TAS_TCP_ACK, .tcpopt = opt, .tcpopt_len = 4};
    size_t n = tf_build(frame, &s);
    cr_assert_eq(feed(frame, n), FP_V_DROP);
    assert_only(FP_RX_TCP_OPTS);
}

Test(classify, tcp_option_running_past_the_header_is_counted)
{
    static const uint8_t opt[8] = {1, 1, 8, 10, 0, 0, 0, 1}; /* TS needs 10, 6 left */
    struct tf_spec s = {.flags = TAS_TCP_ACK,
                        .tcpopt = opt,
                        .tcpopt_len = 8,
                        .payload = payload,
                        .payload_len = 8};
    size_t n = tf_build(frame, &s);
    cr_assert_eq(feed(frame, n), FP_V_DROP);
    assert_only(FP_RX_TCP_OPTS);
}

Test(classify, tcp_option_kind_without_room_for_its_length_is_counted)
{
    static const uint8_t opt[4] = {1, 1, 1, 2}; /* MSS kind in the last byte */
    struct tf_spec s = {.flags = TAS_TCP_ACK, .tcpopt = opt, .tcpopt_len = 4};
    size_t n = tf_build(frame, &s);
    cr_assert_eq(feed(frame, n), FP_V_DROP);
    assert_only(FP_RX_TCP_OPTS);
}

Test(classify, frame_to_another_mac_is_ignored)
{
    size_t n = good_data();
    frame[5] = 0x77;
    cr_assert_eq(feed(frame, n), FP_V_IGNORE);
    assert_only(FP_RX_NOT_OUR_MAC);
}

Test(classify, broadcast_arp_goes_to_the_slow_path)
{
    uint8_t arp[42] = {0};
    memset(arp, 0xff, 6);
    arp[12] = 0x08;
    arp[13] = 0x06;
    cr_assert_eq(feed(arp, sizeof(arp)), FP_V_ARP);
    cr_assert_eq(to_sp, 1);
    cr_assert_eq(bad + ign, 0);
}

Test(classify, ipv4_to_another_address_is_ignored)
{
    size_t n = good_data();
    IP(19) = 99;
    tf_recksum(frame, n);
    cr_assert_eq(feed(frame, n), FP_V_IGNORE);
    assert_only(FP_RX_NOT_OUR_IP);
}

Test(classify, other_ethertypes_are_ignored)
{
    size_t n = good_data();
    frame[12] = 0x86;
    frame[13] = 0xdd; /* IPv6 */
    cr_assert_eq(feed(frame, n), FP_V_IGNORE);
    assert_only(FP_RX_ETHERTYPE);
}

Test(classify, icmp_with_a_bad_checksum_is_counted_and_a_good_one_passed_up)
{
    size_t n = good_data();
    IP(9) = TAS_IPPROTO_ICMP;
    tf_recksum(frame, n); /* IP checksum right; the ICMP sum is whatever it is */
    size_t l4 = n - TF_IP - 20;
    uint32_t sum = cm_cksum_add(frame + TF_IP + 20, l4, 0);
    if (cm_cksum_fold(sum) == 0xffff)
        frame[n - 1] ^= 1;
    cr_assert_eq(feed(frame, n), FP_V_DROP);
    assert_only(FP_RX_ICMP_CKSUM);

    /* Make it sum right: fix the first 16-bit word. */
    reset_counters();
    frame[TF_IP + 20] = frame[TF_IP + 21] = 0;
    uint16_t c = (uint16_t)~cm_cksum_fold(cm_cksum_add(frame + TF_IP + 20, l4, 0));
    memcpy(frame + TF_IP + 20, &c, 2);
    cr_assert_eq(feed(frame, n), FP_V_IP);
    cr_assert_eq(to_sp, 1);
    cr_assert_eq(bad + ign, 0);
}

Test(classify, port_checksum_verdicts_are_trusted)
{
    size_t n = good_data();
    struct fp_frame fr;
    IP(10) ^= 0x01;
    frame[n - 1] ^= 0x40;
    cr_assert_eq(fp_classify(frame, (uint32_t)n, tf_our_mac, TF_OUR_IP, FP_CK_GOOD,
                             FP_CK_GOOD, &fr),
                 FP_V_TCP, "the port verified both");
    good_data();
    cr_assert_eq(fp_classify(frame, (uint32_t)n, tf_our_mac, TF_OUR_IP, FP_CK_GOOD,
                             FP_CK_BAD, &fr),
                 FP_V_DROP);
    cr_assert_eq(fr.reason, FP_RX_TCP_CKSUM);
    cr_assert_eq(fp_classify(frame, (uint32_t)n, tf_our_mac, TF_OUR_IP, FP_CK_BAD,
                             FP_CK_GOOD, &fr),
                 FP_V_DROP);
    cr_assert_eq(fr.reason, FP_RX_IP_CKSUM);
}

Test(classify, every_reason_has_its_own_name)
{
    for (unsigned a = 1; a < FP_RX_N; a++) {
        cr_assert_neq(fp_rx_reason_name(a), NULL);
        for (unsigned b = a + 1; b < FP_RX_N; b++)
            cr_assert_str_neq(fp_rx_reason_name(a), fp_rx_reason_name(b));
    }
}

/* Random damage to a good frame: whatever the verdict, the segment handed
 * on lies inside the frame, and every dropped frame is counted once. */
Test(classify, random_damage_never_points_outside_the_frame)
{
    uint32_t x = 12345;
    for (int i = 0; i < 20000; i++) {
        size_t n = good_data();
        for (int k = 0; k < 3; k++) {
            x = x * 1103515245 + 12345;
            frame[(x >> 8) % n] = (uint8_t)(x >> 20);
        }
        if (i & 1)
            tf_recksum(frame, n);
        x = x * 1103515245 + 12345;
        size_t len = (x >> 10) % 4 == 0 ? (x >> 12) % (n + 1) : n;
        uint64_t before = bad + ign + to_sp + to_rx;
        enum fp_verdict v = feed(frame, len);
        cr_assert_eq(bad + ign + to_sp + to_rx, before + 1, "one outcome per frame");
        if (v == FP_V_TCP) {
            cr_assert(seg.data >= frame && seg.data + seg.len <= frame + len);
        }
    }
}

/* The Internet checksum the slow way: one 16-bit word at a time. */
static uint16_t cksum_by_words(const uint8_t *p, size_t n, uint32_t sum)
{
    uint64_t s = sum;
    for (size_t i = 0; i + 1 < n; i += 2) {
        uint16_t v;
        memcpy(&v, p + i, 2);
        s += v;
    }
    if (n & 1) {
        uint16_t left = 0;
        memcpy(&left, p + n - 1, 1);
        s += left;
    }
    while (s >> 16)
        s = (s >> 16) + (s & 0xffff);
    return (uint16_t)s;
}

Test(classify, checksum_eight_bytes_a_step_equals_the_word_by_word_sum)
{
    static uint8_t buf[1600];
    uint32_t x = 12345;
    for (size_t i = 0; i < sizeof(buf); i++) {
        x = x * 1103515245u + 12345u;
        buf[i] = (uint8_t)(x >> 16);
    }
    for (size_t off = 0; off < 8; off++)
        for (size_t n = 0; n + off <= 1500; n += (n < 80 ? 1 : 37)) {
            uint32_t start = (uint32_t)(n * 2654435761u) & 0xfffff;
            cr_assert_eq(cm_cksum_fold(cm_cksum_add(buf + off, n, start)),
                         cksum_by_words(buf + off, n, start), "offset %zu, %zu bytes", off,
                         n);
        }
    memset(buf, 0xff, 64); /* a sum that is all ones, and one that is zero */
    cr_assert_eq(cm_cksum_fold(cm_cksum_add(buf, 64, 0)), 0xffff);
    memset(buf, 0, 64);
    cr_assert_eq(cm_cksum_fold(cm_cksum_add(buf, 64, 0)), 0);
}
