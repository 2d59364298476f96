/* test_sp_conn.c - the slow path's pure TCP pieces: the connection state
 * diagram, initial sequence numbers, SYN cookies, window scale choice, handshake frames
 * (parse and build) and the id allocator behind flow ids and buffers. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "fastpath/syncookie.h"
#include "slowpath/slots.h"
#include "slowpath/tcp.h"

/* ---- state diagram ---- */

Test(tcp_state, active_close_walks_fin_wait_to_time_wait)
{
    int s = SP_TCP_ESTABLISHED;
    s = sp_tcp_next_state(s, SP_TEV_CLOSE_WR);
    cr_assert_eq(s, SP_TCP_FIN_WAIT_1);
    cr_assert(sp_tcp_sends_fin(SP_TCP_ESTABLISHED, s));
    s = sp_tcp_next_state(s, SP_TEV_FIN_ACKED);
    cr_assert_eq(s, SP_TCP_FIN_WAIT_2);
    s = sp_tcp_next_state(s, SP_TEV_FIN_RCVD);
    cr_assert_eq(s, SP_TCP_TIME_WAIT);
    s = sp_tcp_next_state(s, SP_TEV_TIMEOUT);
    cr_assert_eq(s, SP_TCP_CLOSED);
}

Test(tcp_state, passive_close_walks_close_wait_to_closed)
{
    int s = sp_tcp_next_state(SP_TCP_ESTABLISHED, SP_TEV_FIN_RCVD);
    cr_assert_eq(s, SP_TCP_CLOSE_WAIT);
    int t = sp_tcp_next_state(s, SP_TEV_CLOSE_WR);
    cr_assert_eq(t, SP_TCP_LAST_ACK);
    cr_assert(sp_tcp_sends_fin(s, t));
    cr_assert_eq(sp_tcp_next_state(t, SP_TEV_FIN_ACKED), SP_TCP_CLOSED);
}

Test(tcp_state, simultaneous_close_goes_through_closing)
{
    int s = sp_tcp_next_state(SP_TCP_FIN_WAIT_1, SP_TEV_FIN_RCVD);
    cr_assert_eq(s, SP_TCP_CLOSING);
    cr_assert_eq(sp_tcp_next_state(s, SP_TEV_FIN_ACKED), SP_TCP_TIME_WAIT);
}

Test(tcp_state, second_close_request_sends_no_second_fin)
{
    for (int s = SP_TCP_FIN_WAIT_1; s <= SP_TCP_LAST_ACK; s++) {
        if (s == SP_TCP_CLOSE_WAIT)
            continue;
        int t = sp_tcp_next_state(s, SP_TEV_CLOSE_WR);
        cr_assert_eq(t, s, "state %s", sp_tcp_state_name(s));
        cr_assert_not(sp_tcp_sends_fin(s, t));
    }
}

Test(tcp_state, reset_closes_from_every_state)
{
    for (int s = SP_TCP_CLOSED; s < SP_TCP_N_STATES; s++)
        cr_assert_eq(sp_tcp_next_state(s, SP_TEV_RESET), SP_TCP_CLOSED);
}

Test(tcp_state, events_that_cannot_happen_are_refused)
{
    cr_assert_eq(sp_tcp_next_state(SP_TCP_ESTABLISHED, SP_TEV_FIN_ACKED), -EINVAL);
    cr_assert_eq(sp_tcp_next_state(SP_TCP_CLOSE_WAIT, SP_TEV_FIN_RCVD), -EINVAL);
    cr_assert_eq(sp_tcp_next_state(SP_TCP_CLOSED, SP_TEV_FIN_RCVD), -EINVAL);
    cr_assert_eq(sp_tcp_next_state(SP_TCP_N_STATES, SP_TEV_RESET), -EINVAL);
}

Test(tcp_state, handshake_establishes_or_times_out)
{
    cr_assert_eq(sp_tcp_next_state(SP_TCP_SYN_SENT, SP_TEV_ESTABLISH),
                 SP_TCP_ESTABLISHED);
    cr_assert_eq(sp_tcp_next_state(SP_TCP_SYN_RCVD, SP_TEV_ESTABLISH),
                 SP_TCP_ESTABLISHED);
    cr_assert_eq(sp_tcp_next_state(SP_TCP_SYN_SENT, SP_TEV_TIMEOUT), SP_TCP_CLOSED);
}

Test(tcp_state, orphaned_fin_wait_2_times_out)
{
    cr_assert_eq(sp_tcp_next_state(SP_TCP_FIN_WAIT_2, SP_TEV_TIMEOUT), SP_TCP_CLOSED);
}

Test(tcp_state, only_installed_states_are_synchronized)
{
    cr_assert(sp_tcp_synchronized(SP_TCP_ESTABLISHED));
    cr_assert(sp_tcp_synchronized(SP_TCP_LAST_ACK));
    cr_assert_not(sp_tcp_synchronized(SP_TCP_SYN_RCVD));
    cr_assert_not(sp_tcp_synchronized(SP_TCP_TIME_WAIT));
    cr_assert_not(sp_tcp_synchronized(SP_TCP_CLOSED));
}

/* ---- initial sequence numbers and window scale ---- */

static const uint8_t key[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

Test(isn, same_connection_at_the_same_time_gets_the_same_isn)
{
    cr_assert_eq(sp_tcp_isn(key, 1, 2, 3, 4, 1000), sp_tcp_isn(key, 1, 2, 3, 4, 1000));
}

Test(isn, isn_advances_with_the_4_microsecond_clock)
{
    uint32_t a = sp_tcp_isn(key, 1, 2, 3, 4, 1000);
    cr_assert_eq(sp_tcp_isn(key, 1, 2, 3, 4, 1000 + 4000), a + 1000);
}

Test(isn, different_ports_or_keys_give_unrelated_isns)
{
    uint8_t k2[16];
    memcpy(k2, key, 16);
    k2[0] ^= 1;
    uint32_t a = sp_tcp_isn(key, 1, 2, 3, 4, 0);
    cr_assert_neq(a, sp_tcp_isn(key, 1, 2, 3, 5, 0));
    cr_assert_neq(a, sp_tcp_isn(key, 1, 2, 4, 4, 0));
    cr_assert_neq(a, sp_tcp_isn(k2, 1, 2, 3, 4, 0));
}

/* ---- SYN cookies (fastpath/syncookie.c) ---- */

Test(syncookie, a_cookie_checks_out_with_the_mss_rounded_down)
{
    uint32_t c = fp_syncookie_make(key, 1, 2, 3, 4, 1000, 1400, 5000);
    uint16_t mss = 0;
    cr_assert_eq(fp_syncookie_check(key, 1, 2, 3, 4, 1000, c, 5000, &mss), 0);
    cr_assert_eq(mss, 1400);
    c = fp_syncookie_make(key, 1, 2, 3, 4, 1000, 1459, 5000);
    cr_assert_eq(fp_syncookie_check(key, 1, 2, 3, 4, 1000, c, 5000, &mss), 0);
    cr_assert_eq(mss, 1440);
    c = fp_syncookie_make(key, 1, 2, 3, 4, 1000, 100, 5000);
    cr_assert_eq(fp_syncookie_check(key, 1, 2, 3, 4, 1000, c, 5000, &mss), 0);
    cr_assert_eq(mss, 536);
}

Test(syncookie, a_cookie_lives_one_to_two_64_second_periods)
{
    uint32_t c = fp_syncookie_make(key, 1, 2, 3, 4, 7, 1460, 64000 * 10 + 63999);
    uint16_t mss;
    cr_assert_eq(fp_syncookie_check(key, 1, 2, 3, 4, 7, c, 64000 * 11 + 63999, &mss), 0);
    cr_assert_eq(fp_syncookie_check(key, 1, 2, 3, 4, 7, c, 64000 * 12, &mss), -1);
    /* and not before it was made (a clock that went back) */
    cr_assert_eq(fp_syncookie_check(key, 1, 2, 3, 4, 7, c, 64000 * 9, &mss), -1);
}

Test(isn, window_scale_is_the_smallest_that_fits_the_buffer)
{
    cr_assert_eq(sp_tcp_wscale_for(65535), 0);
    cr_assert_eq(sp_tcp_wscale_for(65536), 1);
    cr_assert_eq(sp_tcp_wscale_for(256 * 1024), 3);
    cr_assert_eq(sp_tcp_wscale_for(0xffffffffu), 14);
}

/* ---- frames ---- */

static uint32_t ip(const char *s)
{
    struct in_addr a;
    inet_pton(AF_INET, s, &a);
    return a.s_addr;
}

static struct sp_seg syn_ack(const uint8_t *opts, uint8_t opt_len)
{
    struct sp_seg s = {
        .src_mac = {2, 0, 0, 0, 0, 1},
        .dst_mac = {2, 0, 0, 0, 0, 2},
        .lip = ip("10.0.0.2"),
        .rip = ip("10.0.0.1"),
        .lport = htons(80),
        .rport = htons(40000),
        .seq = 1000,
        .ack = 5001,
        .flags = TAS_TCP_SYN | TAS_TCP_ACK,
        .win = 65535,
        .opts = opts,
        .opt_len = opt_len,
    };
    return s;
}

Test(frame, built_segment_parses_back_from_the_peers_side)
{
    static const uint8_t opts[8] = {2, 4, 0x05, 0xb4, 1, 3, 3, 7};
    struct sp_seg s = syn_ack(opts, sizeof(opts));
    uint8_t buf[128];
    struct sp_pkt p;

    size_t n = sp_frame_build_tcp(buf, sizeof(buf), &s);
    cr_assert_eq(n, TAS_FRAME_HDRS + 8);
    cr_assert_eq(sp_frame_parse_tcp(buf, n, &p), 0);
    /* The peer's view: our local is its remote. */
    cr_assert_eq(p.lip, s.rip);
    cr_assert_eq(p.rip, s.lip);
    cr_assert_eq(p.lport, s.rport);
    cr_assert_eq(p.rport, s.lport);
    cr_assert_eq(p.seq, 1000);
    cr_assert_eq(p.ack, 5001);
    cr_assert_eq(p.flags, TAS_TCP_SYN | TAS_TCP_ACK);
    cr_assert_eq(p.win, 65535);
    cr_assert_eq(p.opt_len, 8);
    cr_assert_arr_eq(p.opts, opts, 8);
    cr_assert_eq(p.payload_len, 0);
    cr_assert_eq(p.seg_len, 1, "a SYN takes one sequence number");
    cr_assert_arr_eq(p.src_mac, s.src_mac, 6);
}

Test(frame, ip_header_has_df_ttl_64_and_no_ecn)
{
    struct sp_seg s = syn_ack(NULL, 0);
    uint8_t buf[128];
    sp_frame_build_tcp(buf, sizeof(buf), &s);
    struct tas_ip_hdr h;
    memcpy(&h, buf + 14, sizeof(h));
    cr_assert_eq(h.ver_ihl, 0x45);
    cr_assert_eq(h.tos & 3, 0);
    cr_assert_eq(ntohs(h.frag), TAS_IP_DF);
    cr_assert_eq(h.ttl, 64);
    cr_assert_eq(h.proto, TAS_IPPROTO_TCP);
    cr_assert_eq(ntohs(h.len), 40);
}

Test(frame, reset_without_ack_carries_a_zero_ack_field)
{
    struct sp_seg s = syn_ack(NULL, 0);
    s.flags = TAS_TCP_RST;
    uint8_t buf[128];
    struct sp_pkt p;
    size_t n = sp_frame_build_tcp(buf, sizeof(buf), &s);
    cr_assert_eq(sp_frame_parse_tcp(buf, n, &p), 0);
    cr_assert_eq(p.ack, 0);
}

static uint16_t fold_sum(const uint8_t *d, size_t n, uint32_t acc)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        acc += (uint32_t)(d[i] << 8 | d[i + 1]);
    if (n & 1)
        acc += (uint32_t)d[n - 1] << 8;
    while (acc >> 16)
        acc = (acc & 0xffff) + (acc >> 16);
    return (uint16_t)acc;
}

Test(frame, software_checksums_verify)
{
    static const uint8_t opts[4] = {2, 4, 0x05, 0xb4};
    struct sp_seg s = syn_ack(opts, 4);
    uint8_t buf[128];
    size_t n = sp_frame_build_tcp(buf, sizeof(buf), &s);
    sp_frame_cksum(buf, n);
    cr_assert_eq(fold_sum(buf + 14, 20, 0), 0xffff, "IPv4 header sums to all ones");
    uint32_t pseudo =
        fold_sum(buf + 14 + 12, 8, 0) + TAS_IPPROTO_TCP + (uint32_t)(n - 34);
    cr_assert_eq(fold_sum(buf + 34, n - 34, pseudo), 0xffff, "TCP sums to all ones");
}

Test(frame, truncated_or_inconsistent_frames_are_rejected)
{
    struct sp_seg s = syn_ack(NULL, 0);
    uint8_t buf[128];
    struct sp_pkt p;
    size_t n = sp_frame_build_tcp(buf, sizeof(buf), &s);

    cr_assert_eq(sp_frame_parse_tcp(buf, n - 1, &p), -EINVAL, "shorter than IP length");
    uint8_t bad[128];
    memcpy(bad, buf, n);
    bad[14] = 0x44; /* IHL 4 */
    cr_assert_eq(sp_frame_parse_tcp(bad, n, &p), -EINVAL);
    memcpy(bad, buf, n);
    bad[34 + 12] = 0xf0; /* data offset 60 > segment */
    cr_assert_eq(sp_frame_parse_tcp(bad, n, &p), -EINVAL);
    memcpy(bad, buf, n);
    bad[14 + 6] = 0x20; /* more fragments */
    cr_assert_eq(sp_frame_parse_tcp(bad, n, &p), -EINVAL);
    memcpy(bad, buf, n);
    bad[14 + 9] = TAS_IPPROTO_ICMP;
    cr_assert_eq(sp_frame_parse_tcp(bad, n, &p), -EPROTONOSUPPORT);
}

Test(frame, payload_and_fin_count_in_sequence_space)
{
    struct sp_seg s = syn_ack(NULL, 0);
    s.flags = TAS_TCP_ACK | TAS_TCP_FIN;
    uint8_t buf[128];
    struct sp_pkt p;
    size_t n = sp_frame_build_tcp(buf, sizeof(buf), &s);
    /* Append 10 bytes of payload and fix the IP length. */
    memset(buf + n, 'x', 10);
    buf[14 + 2] = 0;
    buf[14 + 3] = (uint8_t)(40 + 10);
    cr_assert_eq(sp_frame_parse_tcp(buf, n + 10, &p), 0);
    cr_assert_eq(p.payload_len, 10);
    cr_assert_eq(p.seg_len, 11);
}

Test(frame, bad_option_length_is_not_built)
{
    static const uint8_t opts[3] = {1, 1, 1};
    struct sp_seg s = syn_ack(opts, 3);
    uint8_t buf[128];
    cr_assert_eq(sp_frame_build_tcp(buf, sizeof(buf), &s), 0);
}

/* ---- id allocator ---- */

Test(slots, ids_come_out_in_order_and_are_reused_last)
{
    struct sp_slots s;
    cr_assert_eq(sp_slots_init(&s, 3), 0);
    cr_assert_eq(sp_slots_alloc(&s), 0);
    cr_assert_eq(sp_slots_alloc(&s), 1);
    cr_assert_eq(sp_slots_free(&s, 0), 0);
    cr_assert_eq(sp_slots_alloc(&s), 2);
    cr_assert_eq(sp_slots_alloc(&s), 0);
    cr_assert_eq(sp_slots_alloc(&s), -ENOSPC);
    sp_slots_fini(&s);
}

Test(slots, double_free_and_out_of_range_are_refused)
{
    struct sp_slots s;
    sp_slots_init(&s, 2);
    int64_t a = sp_slots_alloc(&s);
    cr_assert_eq(sp_slots_free(&s, (uint32_t)a), 0);
    cr_assert_eq(sp_slots_free(&s, (uint32_t)a), -EINVAL);
    cr_assert_eq(sp_slots_free(&s, 2), -EINVAL);
    cr_assert_eq(s.nfree, 2);
    sp_slots_fini(&s);
}

Test(slots, every_id_is_handed_out_once_under_churn)
{
    struct sp_slots s;
    uint8_t held[64] = {0};
    sp_slots_init(&s, 64);
    for (int round = 0; round < 1000; round++) {
        int64_t id = sp_slots_alloc(&s);
        if (id >= 0) {
            cr_assert_eq(held[id], 0);
            held[id] = 1;
        }
        uint32_t victim = (uint32_t)(round * 7) % 64;
        if (held[victim]) {
            cr_assert_eq(sp_slots_free(&s, victim), 0);
            held[victim] = 0;
        }
    }
    sp_slots_fini(&s);
}

Test(slots, empty_allocator_has_nothing_to_give)
{
    struct sp_slots s;
    cr_assert_eq(sp_slots_init(&s, 0), 0);
    cr_assert_eq(sp_slots_alloc(&s), -ENOSPC);
    sp_slots_fini(&s);
}

/* ---- ping ---- */

static const uint8_t our_mac[6] = {2, 0, 0, 0, 0, 1};
static const uint8_t peer_mac[6] = {2, 0, 0, 0, 0, 2};

/* An echo request from 10.0.0.1 to dst with 8 bytes of data. */

/* The test's own RFC 1071 checksum (fold_sum, an oracle independent of
 * common/cksum.h): 0 when a block verifies. */
static uint16_t ref_cksum(const uint8_t *p, size_t n)
{
    return (uint16_t)~fold_sum(p, n, 0);
}

static size_t echo_request(uint8_t *f, uint32_t dst, uint8_t type)
{
    struct tas_eth_hdr eth = {.type = htons(TAS_ETHERTYPE_IPV4)};
    struct tas_ip_hdr h = {.ver_ihl = 0x45,
                           .len = htons(20 + 16),
                           .ttl = 3,
                           .proto = TAS_IPPROTO_ICMP,
                           .src = ip("10.0.0.1"),
                           .dst = dst};
    memcpy(eth.dst, our_mac, 6);
    memcpy(eth.src, peer_mac, 6);
    memcpy(f, &eth, 14);
    memcpy(f + 14, &h, 20);
    uint16_t c = ref_cksum(f + 14, 20);
    f[24] = (uint8_t)(c >> 8);
    f[25] = (uint8_t)c;
    uint8_t icmp[16] = {type, 0,   0,   0,   0x12, 0x34, 0,   1,
                        'p',  'i', 'n', 'g', 'p',  'i',  'n', 'g'};
    c = ref_cksum(icmp, 16);
    icmp[2] = (uint8_t)(c >> 8);
    icmp[3] = (uint8_t)c;
    memcpy(f + 34, icmp, 16);
    return 50;
}

Test(icmp, echo_request_to_us_becomes_a_valid_reply)
{
    uint8_t f[64];
    size_t n = echo_request(f, ip("10.0.0.2"), 8);
    cr_assert_eq(sp_icmp_echo_reply(f, n, ip("10.0.0.2"), our_mac), (int)n);
    cr_assert_arr_eq(f, peer_mac, 6, "back to the sender");
    cr_assert_arr_eq(f + 6, our_mac, 6);
    struct tas_ip_hdr h;
    memcpy(&h, f + 14, 20);
    cr_assert_eq(h.src, ip("10.0.0.2"));
    cr_assert_eq(h.dst, ip("10.0.0.1"));
    cr_assert_eq(h.ttl, 64);
    cr_assert_eq(ref_cksum(f + 14, 20), 0, "IPv4 checksum verifies");
    cr_assert_eq(f[34], 0, "echo reply");
    cr_assert_eq(ref_cksum(f + 34, 16), 0, "ICMP checksum verifies");
    cr_assert_eq(memcmp(f + 38, "\x12\x34\x00\x01pingping", 12), 0, "id, seq, data kept");
}

Test(icmp, other_icmp_or_other_addresses_are_not_answered)
{
    uint8_t f[64];
    size_t n = echo_request(f, ip("10.0.0.2"), 0);
    cr_assert_eq(sp_icmp_echo_reply(f, n, ip("10.0.0.2"), our_mac), -ENOENT);
    n = echo_request(f, ip("10.0.0.3"), 8);
    cr_assert_eq(sp_icmp_echo_reply(f, n, ip("10.0.0.2"), our_mac), -ENOENT);
}

Test(icmp, corrupt_or_short_requests_are_rejected)
{
    uint8_t f[64];
    size_t n = echo_request(f, ip("10.0.0.2"), 8);
    f[45] ^= 0xff;
    cr_assert_eq(sp_icmp_echo_reply(f, n, ip("10.0.0.2"), our_mac), -EINVAL,
                 "bad checksum");
    n = echo_request(f, ip("10.0.0.2"), 8);
    cr_assert_eq(sp_icmp_echo_reply(f, 40, ip("10.0.0.2"), our_mac), -EINVAL,
                 "truncated");
}

Test(icmp, a_short_ping_is_recognised_as_not_tcp)
{
    uint8_t f[64];
    struct sp_pkt p;
    size_t n = echo_request(f, ip("10.0.0.2"), 8);
    cr_assert_lt(n, TAS_FRAME_HDRS);
    cr_assert_eq(sp_frame_parse_tcp(f, n, &p), -EPROTONOSUPPORT);
}

Test(syncookie, a_cookie_checks_out_with_its_mss_for_two_periods)
{
    uint8_t key[16] = {9, 8, 7};
    uint16_t mss = 0;
    uint32_t ck = fp_syncookie_make(key, 1, 2, 3, 4, 777, 1460, 1000000);
    cr_assert_eq(fp_syncookie_check(key, 1, 2, 3, 4, 777, ck, 1000000, &mss), 0);
    cr_assert_eq(mss, 1460);
    cr_assert_eq(fp_syncookie_check(key, 1, 2, 3, 4, 777, ck, 1000000 + 64000, &mss), 0,
                 "the next period still accepts it");
    cr_assert_eq(fp_syncookie_check(key, 1, 2, 3, 4, 777, ck, 1000000 + 130000, &mss), -1,
                 "two periods later it is stale");
}

Test(syncookie, a_cookie_is_bound_to_the_connection_and_the_peer_isn)
{
    uint8_t key[16] = {1};
    uint16_t mss;
    uint32_t ck = fp_syncookie_make(key, 1, 2, 3, 4, 777, 1000, 5000);
    cr_assert_eq(fp_syncookie_check(key, 1, 2, 3, 5, 777, ck, 5000, &mss), -1);
    cr_assert_eq(fp_syncookie_check(key, 1, 2, 3, 4, 778, ck, 5000, &mss), -1);
    cr_assert_eq(fp_syncookie_check(key, 1, 2, 3, 4, 777, ck ^ 1, 5000, &mss), -1);
    uint8_t other[16] = {2};
    cr_assert_eq(fp_syncookie_check(other, 1, 2, 3, 4, 777, ck, 5000, &mss), -1);
    cr_assert_eq(fp_syncookie_check(key, 1, 2, 3, 4, 777, ck, 5000, &mss), 0);
    cr_assert_eq(mss, 536, "1000 rounds down to the largest table value below it");
}
