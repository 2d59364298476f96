/* test_rx.c - receive processing of an established flow (fastpath/rx.c):
 * in-order and out-of-order data (several held intervals), duplicates, the
 * receive window, ring wrap-around, ACK processing, fast retransmit (go-back
 * without SACK; hole by hole with SACK), window updates, FIN. */
#include <criterion/criterion.h>

#include "common/proto.h"
#include "fastpath/flow.h"
#include "fastpath/rx.h"

#define RX_SIZE  64
#define TX_SIZE  64
#define ISN_PEER 0xfffffff0u /* the peer's sequence numbers wrap during the tests */
#define ISN_OURS 1000u

static uint8_t rxbuf[RX_SIZE], txbuf[TX_SIZE];
static struct fp_flow f;
static struct fp_flow_x x;
static struct fp_rx_result r;
static uint8_t pattern[256]; /* byte i of the peer's stream is pattern[i] */

static void setup(void)
{
    memset(&f, 0, sizeof(f));
    memset(&x, 0, sizeof(x));
    memset(rxbuf, 0, sizeof(rxbuf));
    for (unsigned i = 0; i < sizeof(pattern); i++)
        pattern[i] = (uint8_t)(i * 7 + 1);
    f.rx_base = rxbuf;
    f.tx_base = txbuf;
    f.rx_size = RX_SIZE;
    f.rx_avail = RX_SIZE;
    f.rx_next_seq = ISN_PEER;
    f.tx_size = TX_SIZE;
    f.tx_una_seq = ISN_OURS;
    f.tx_remote_win = 1000;
    f.mss = 16;
    f.flags = FP_FLOW_INSTALLED;
}

TestSuite(rx, .init = setup);

/* Peer's bytes [from, from+len) of its stream, with an ACK of our una. */
static void data(uint32_t from, uint32_t len, uint8_t extra_flags)
{
    struct fp_seg s = {.seq = ISN_PEER + from,
                       .ack = f.tx_una_seq,
                       .win = 1000,
                       .flags = TAS_TCP_ACK | extra_flags,
                       .data = pattern + from,
                       .len = len};
    fp_rx_segment(&f, &x, &s, 0, &r);
}

static void ack(uint32_t ackno, uint16_t win)
{
    struct fp_seg s = {
        .seq = f.rx_next_seq, .ack = ackno, .win = win, .flags = TAS_TCP_ACK};
    fp_rx_segment(&f, &x, &s, 0, &r);
}

/* The app consumed n bytes. */
static void consume(uint32_t n)
{
    f.rx_avail += n;
}

/* Stream bytes [from, from+len) are in the ring at stream offset from. */
static void assert_ring_holds(uint32_t from, uint32_t len)
{
    for (uint32_t i = 0; i < len; i++)
        cr_assert_eq(rxbuf[(from + i) % RX_SIZE], pattern[from + i], "stream byte %u",
                     from + i);
}

Test(rx, in_order_segment_is_delivered_and_acked)
{
    data(0, 10, 0);
    cr_assert_eq(r.delivered, 10);
    cr_assert(r.ack_now);
    cr_assert(f.flags & FP_FLOW_ACK_NOW);
    cr_assert_eq(f.rx_next_seq, ISN_PEER + 10);
    cr_assert_eq(f.rx_pos, 10);
    cr_assert_eq(f.rx_avail, RX_SIZE - 10);
    assert_ring_holds(0, 10);
}

Test(rx, sequence_numbers_wrap_without_effect)
{
    data(0, 10, 0);
    data(10, 10, 0); /* crosses 2^32 */
    cr_assert_eq(f.rx_next_seq, ISN_PEER + 20);
    cr_assert_eq(r.delivered, 10);
    assert_ring_holds(0, 20);
}

Test(rx, duplicate_segment_is_not_delivered_twice_but_acked)
{
    data(0, 10, 0);
    data(0, 10, 0);
    cr_assert_eq(r.delivered, 0);
    cr_assert(r.ack_now);
    cr_assert_eq(f.rx_next_seq, ISN_PEER + 10);
    cr_assert_eq(f.rx_avail, RX_SIZE - 10);
}

Test(rx, partly_old_segment_delivers_only_the_new_bytes)
{
    data(0, 10, 0);
    data(5, 10, 0);
    cr_assert_eq(r.delivered, 5);
    cr_assert_eq(f.rx_next_seq, ISN_PEER + 15);
    assert_ring_holds(0, 15);
}

Test(rx, out_of_order_segment_is_held_until_gap_fills)
{
    data(10, 10, 0);
    cr_assert(r.ooo);
    cr_assert(r.ack_now);
    cr_assert_eq(r.delivered, 0);
    cr_assert_eq(f.rx_next_seq, ISN_PEER);
    cr_assert_eq(x.n_ooo, 1);
    cr_assert_eq(x.ooo_start[0], ISN_PEER + 10);
    cr_assert_eq(x.ooo_end[0], ISN_PEER + 20);
    data(0, 10, 0);
    cr_assert_eq(r.delivered, 20);
    cr_assert_eq(x.n_ooo, 0);
    cr_assert_eq(f.rx_next_seq, ISN_PEER + 20);
    cr_assert_eq(f.rx_avail, RX_SIZE - 20);
    assert_ring_holds(0, 20);
}

Test(rx, adjacent_out_of_order_segments_extend_the_interval)
{
    data(10, 5, 0);
    data(15, 5, 0);
    data(5, 5, 0);
    cr_assert_eq(x.n_ooo, 1);
    cr_assert_eq(x.ooo_start[0], ISN_PEER + 5);
    cr_assert_eq(x.ooo_end[0], ISN_PEER + 20);
    data(0, 5, 0);
    cr_assert_eq(r.delivered, 20);
    assert_ring_holds(0, 20);
}

Test(rx, disjoint_intervals_are_all_held_and_delivered_as_gaps_fill)
{
    data(10, 5, 0);
    data(30, 5, 0);
    data(20, 5, 0);
    cr_assert_not(r.dropped);
    cr_assert_eq(x.n_ooo, 3);
    cr_assert_eq(x.ooo_last, ISN_PEER + 20, "the interval that grew last");
    data(0, 10, 0);
    cr_assert_eq(r.delivered, 15);
    cr_assert_eq(f.rx_next_seq, ISN_PEER + 15);
    cr_assert_eq(x.n_ooo, 2);
    data(15, 5, 0);
    cr_assert_eq(r.delivered, 10, "fills the gap before [20, 25)");
    data(25, 5, 0);
    cr_assert_eq(r.delivered, 10);
    cr_assert_eq(x.n_ooo, 0);
    assert_ring_holds(0, 35);
}

Test(rx, a_fifth_interval_above_the_others_is_dropped)
{
    data(4, 2, 0);
    data(8, 2, 0);
    data(12, 2, 0);
    data(16, 2, 0);
    data(20, 2, 0);
    cr_assert(r.dropped);
    cr_assert_eq(x.n_ooo, FP_OOO_MAX);
    data(2, 1, 0); /* below them all: the highest goes instead */
    cr_assert_not(r.dropped);
    cr_assert_eq(x.n_ooo, FP_OOO_MAX);
    cr_assert_eq(x.ooo_start[0], ISN_PEER + 2);
    cr_assert_eq(x.ooo_end[FP_OOO_MAX - 1], ISN_PEER + 14);
}

Test(rx, in_order_segment_covering_the_interval_clears_it)
{
    data(10, 5, 0);
    data(0, 20, 0);
    cr_assert_eq(r.delivered, 20);
    cr_assert_eq(x.n_ooo, 0);
    assert_ring_holds(0, 20);
}

Test(rx, data_beyond_the_window_is_trimmed)
{
    f.rx_avail = 8;
    data(0, 12, 0);
    cr_assert_eq(r.delivered, 8);
    cr_assert(r.dropped);
    cr_assert_eq(f.rx_avail, 0);
    cr_assert_eq(f.rx_next_seq, ISN_PEER + 8);
    cr_assert_eq(rxbuf[8], 0, "nothing written past the window");
}

Test(rx, segment_entirely_beyond_the_window_is_dropped)
{
    f.rx_avail = 8;
    data(8, 4, 0);
    cr_assert(r.dropped);
    cr_assert(r.ack_now);
    cr_assert_eq(x.n_ooo, 0);
}

Test(rx, zero_window_probe_is_acked_not_stored)
{
    f.rx_avail = 0;
    data(0, 1, 0);
    cr_assert_eq(r.delivered, 0);
    cr_assert(r.ack_now);
    cr_assert_eq(f.rx_next_seq, ISN_PEER);
}

Test(rx, receive_ring_wraps_around)
{
    data(0, 50, 0);
    consume(50);
    data(50, 30, 0); /* ring positions 50..63, then 0..15 */
    cr_assert_eq(r.delivered, 30);
    cr_assert_eq(f.rx_pos, 16);
    assert_ring_holds(50, 30);
}

Test(rx, out_of_order_data_wraps_around_the_ring)
{
    data(0, 60, 0);
    consume(60);
    data(70, 10, 0); /* held at ring 6..15 */
    data(60, 10, 0); /* ring 60..63, 0..5 */
    cr_assert_eq(r.delivered, 20);
    assert_ring_holds(60, 20);
}

Test(rx, fin_in_order_is_received)
{
    data(0, 5, TAS_TCP_FIN);
    cr_assert_eq(r.delivered, 5);
    cr_assert(r.fin_rcvd);
    cr_assert(r.ack_now);
    cr_assert(f.flags & FP_FLOW_FIN_RCVD);
    cr_assert_eq(f.rx_next_seq, ISN_PEER + 6);
}

Test(rx, fin_out_of_order_is_ignored_until_in_order)
{
    data(5, 5, TAS_TCP_FIN);
    cr_assert_not(r.fin_rcvd);
    data(0, 5, 0);
    cr_assert_not(r.fin_rcvd);
    cr_assert_eq(r.delivered, 10);
    data(10, 0, TAS_TCP_FIN);
    cr_assert(r.fin_rcvd);
    cr_assert_eq(f.rx_next_seq, ISN_PEER + 11);
}

Test(rx, retransmitted_fin_is_acked_again)
{
    data(0, 0, TAS_TCP_FIN);
    cr_assert(r.fin_rcvd);
    f.flags &= (uint16_t)~FP_FLOW_ACK_NOW;
    data(0, 0, TAS_TCP_FIN);
    cr_assert_not(r.fin_rcvd);
    cr_assert(r.ack_now);
    cr_assert_eq(f.rx_next_seq, ISN_PEER + 1);
}

Test(rx, ack_advances_una_and_frees_tx_bytes)
{
    f.tx_sent = 30;
    f.tx_avail = 10;
    f.tx_pos = 50;
    ack(ISN_OURS + 20, 1000);
    cr_assert_eq(r.tx_freed, 20);
    cr_assert(r.tx_ready);
    cr_assert_eq(f.tx_una_seq, ISN_OURS + 20);
    cr_assert_eq(f.tx_sent, 10);
    cr_assert_eq(f.tx_avail, 10);
    cr_assert_eq(f.tx_pos, 6, "tx ring position wraps");
    cr_assert_eq(f.cnt_acked, 20);
    cr_assert_not(r.ack_now);
}

Test(rx, ack_of_unsent_data_is_dropped_and_answered)
{
    f.tx_sent = 10;
    ack(ISN_OURS + 11, 1000);
    cr_assert(r.dropped);
    cr_assert(r.ack_now);
    cr_assert_eq(f.tx_una_seq, ISN_OURS);
    cr_assert_eq(f.tx_sent, 10);
}

Test(rx, old_ack_is_ignored)
{
    f.tx_sent = 10;
    ack(ISN_OURS - 5, 1000);
    cr_assert_eq(r.tx_freed, 0);
    cr_assert_eq(f.tx_una_seq, ISN_OURS);
    cr_assert_eq(f.dupacks, 0);
}

Test(rx, three_duplicate_acks_trigger_fast_retransmit)
{
    f.tx_sent = 40;
    f.tx_avail = 5;
    ack(ISN_OURS, 1000);
    ack(ISN_OURS, 1000);
    cr_assert_not(r.fast_retx);
    cr_assert_eq(f.dupacks, 2);
    ack(ISN_OURS, 1000);
    cr_assert(r.fast_retx);
    cr_assert(r.tx_ready);
    cr_assert_eq(f.cnt_fretx, 1);
    cr_assert_eq(f.tx_sent, 0);
    cr_assert_eq(f.tx_avail, 45);
    ack(ISN_OURS, 1000);
    cr_assert_not(r.fast_retx, "only the third duplicate retransmits");
}

Test(rx, ack_with_data_or_a_new_window_is_not_a_duplicate)
{
    f.tx_sent = 40;
    data(0, 5, 0);
    data(5, 5, 0);
    ack(ISN_OURS, 900);
    ack(ISN_OURS, 900);
    cr_assert_eq(f.dupacks, 1);
}

Test(rx, acks_beyond_snd_nxt_after_going_back_free_the_unsent_bytes)
{
    f.tx_sent = 40;
    for (int i = 0; i < 3; i++)
        ack(ISN_OURS, 1000);
    cr_assert_eq(f.tx_avail, 40);
    f.tx_sent = 10; /* resent 10 bytes; the peer had everything */
    f.tx_avail = 30;
    ack(ISN_OURS + 40, 1000);
    cr_assert_eq(r.tx_freed, 40);
    cr_assert_eq(f.tx_sent, 0);
    cr_assert_eq(f.tx_avail, 0);
    cr_assert_eq(f.dupacks, 0);
}

Test(rx, window_update_is_taken_scaled)
{
    f.remote_wscale = 3;
    ack(ISN_OURS, 200);
    cr_assert_eq(f.tx_remote_win, 1600);
    cr_assert(r.tx_ready, "a larger window may let the flow send");
    ack(ISN_OURS, 100);
    cr_assert_eq(f.tx_remote_win, 800);
    cr_assert_not(r.tx_ready);
}

Test(rx, window_reopening_after_a_probe_resends_it)
{
    f.tx_remote_win = 0;
    f.tx_sent = 1; /* the probe byte */
    f.tx_avail = 9;
    ack(ISN_OURS, 500);
    cr_assert_eq(f.tx_remote_win, 500);
    cr_assert_eq(f.tx_sent, 0);
    cr_assert_eq(f.tx_avail, 10);
    cr_assert(r.tx_ready);
}

Test(rx, our_fin_acknowledged_is_detected)
{
    f.flags |= FP_FLOW_FIN_QUEUED | FP_FLOW_FIN_SENT | FP_FLOW_FIN_TXED;
    f.tx_sent = 10;
    ack(ISN_OURS + 10, 1000);
    cr_assert_not(r.fin_acked);
    cr_assert_eq(r.tx_freed, 10);
    ack(ISN_OURS + 11, 1000);
    cr_assert(r.fin_acked);
    cr_assert_eq(r.tx_freed, 0);
    cr_assert(f.flags & FP_FLOW_FIN_ACKED);
    cr_assert_eq(f.tx_una_seq, ISN_OURS + 11);
}

Test(rx, fast_retransmit_resends_a_fin_in_flight)
{
    f.flags |= FP_FLOW_FIN_QUEUED | FP_FLOW_FIN_SENT | FP_FLOW_FIN_TXED;
    f.tx_sent = 10;
    for (int i = 0; i < 3; i++)
        ack(ISN_OURS, 1000);
    cr_assert_not(f.flags & FP_FLOW_FIN_SENT);
    cr_assert_not(fp_flow_fin_due(&f), "data first");
    f.tx_avail = 0; /* data resent */
    f.tx_sent = 10;
    cr_assert(fp_flow_fin_due(&f));
}

Test(rx, timestamps_update_ts_recent_and_sample_rtt)
{
    f.flags |= FP_FLOW_TS;
    f.ts_recent = 100;
    f.tx_sent = 10;
    struct fp_seg s = {.seq = ISN_PEER,
                       .ack = ISN_OURS + 10,
                       .win = 1000,
                       .flags = TAS_TCP_ACK,
                       .has_ts = true,
                       .ts_val = 150,
                       .ts_ecr = 5000,
                       .data = pattern,
                       .len = 4};
    fp_rx_segment(&f, &x, &s, 5003 * 1000 + 10, &r); /* 3 ticks later */
    cr_assert_eq(f.ts_recent, 150);
    cr_assert_eq(f.srtt_us, 3500);
    cr_assert_eq(r.delivered, 4);
}

Test(rx, out_of_order_segment_does_not_update_ts_recent)
{
    f.flags |= FP_FLOW_TS;
    f.ts_recent = 100;
    struct fp_seg s = {.seq = ISN_PEER + 10,
                       .ack = ISN_OURS,
                       .win = 1000,
                       .flags = TAS_TCP_ACK,
                       .has_ts = true,
                       .ts_val = 150,
                       .data = pattern + 10,
                       .len = 4};
    fp_rx_segment(&f, &x, &s, 0, &r);
    cr_assert_eq(f.ts_recent, 100);
}

Test(rx, data_with_an_old_timestamp_fails_paws)
{
    f.flags |= FP_FLOW_TS;
    f.ts_recent = 100;
    struct fp_seg s = {.seq = ISN_PEER,
                       .ack = ISN_OURS,
                       .win = 1000,
                       .flags = TAS_TCP_ACK,
                       .has_ts = true,
                       .ts_val = 90,
                       .data = pattern,
                       .len = 4};
    fp_rx_segment(&f, &x, &s, 0, &r);
    cr_assert(r.dropped);
    cr_assert(r.ack_now);
    cr_assert_eq(r.delivered, 0);
}

Test(rx, segment_length_never_exceeds_mss_window_or_data)
{
    f.tx_avail = 100;
    f.tx_remote_win = 40;
    cr_assert_eq(fp_flow_next_seg(&f, 16, 0), 16);
    f.tx_sent = 32;
    cr_assert_eq(fp_flow_next_seg(&f, 16, 0), 0, "no small segment while data is in flight");
    f.tx_sent = 0;
    f.cwnd = 10;
    cr_assert_eq(fp_flow_next_seg(&f, 16, 0), 10);
    f.cwnd = 0;
    f.tx_remote_win = 0;
    cr_assert_eq(fp_flow_next_seg(&f, 16, 0), 1, "zero window probe");
}

Test(rx, corked_bytes_go_only_in_a_full_segment)
{
    f.tx_remote_win = 1000;
    f.tx_avail = 10;
    cr_assert_eq(fp_flow_next_seg(&f, 16, 10), 0, "all of it corked: held");
    cr_assert_not(fp_flow_can_send(&f, 10));
    f.tx_avail = 14;
    cr_assert_eq(fp_flow_next_seg(&f, 16, 10), 4, "the bytes pushed before the cork go");
    f.tx_avail = 40;
    cr_assert_eq(fp_flow_next_seg(&f, 16, 30), 16, "a full segment goes, corked or not");
    f.tx_avail = 8;
    cr_assert_eq(fp_flow_next_seg(&f, 16, 0), 8, "pushed: the short segment goes");
}

Test(rx, a_tso_frame_holds_the_segments_that_would_go_one_by_one)
{
    unsigned k;
    f.tx_remote_win = 1000;
    f.tx_avail = 100;
    cr_assert_eq(fp_flow_tso_len(&f, 16, 0, 16, 4, &k), 64, "four full segments");
    cr_assert_eq(k, 4);
    cr_assert_eq(f.tx_sent, 0, "the flow is left as it was");
    cr_assert_eq(f.tx_avail, 100);
    f.tx_avail = 40;
    cr_assert_eq(fp_flow_tso_len(&f, 16, 0, 16, 8, &k), 40, "two full, then the short rest");
    cr_assert_eq(k, 3);
    cr_assert_eq(fp_flow_tso_len(&f, 16, 8, 16, 8, &k), 32, "a corked rest stays");
    cr_assert_eq(k, 2);
    f.tx_avail = 100;
    f.cwnd = 40;
    cr_assert_eq(fp_flow_tso_len(&f, 16, 0, 16, 8, &k), 32,
                 "cwnd: no short segment after full ones while data is in flight");
    cr_assert_eq(k, 2);
    f.cwnd = 0;
    f.tx_remote_win = 48;
    cr_assert_eq(fp_flow_tso_len(&f, 16, 0, 16, 8, &k), 48, "the peer's window");
    cr_assert_eq(k, 3);
    cr_assert_eq(fp_flow_tso_len(&f, 16, 0, 16, 1, &k), 16, "one segment at most");
    cr_assert_eq(k, 1);
}

Test(rx, keepalive_below_rcv_nxt_is_answered)
{
    data(0, 10, 0);
    f.flags &= (uint16_t)~FP_FLOW_ACK_NOW;
    struct fp_seg s = {
        .seq = ISN_PEER + 9, .ack = f.tx_una_seq, .win = 1000, .flags = TAS_TCP_ACK};
    fp_rx_segment(&f, &x, &s, 0, &r);
    cr_assert(r.ack_now);
    cr_assert_eq(r.delivered, 0);
}

Test(rx, fin_beyond_the_window_is_not_taken)
{
    f.rx_avail = 4;
    data(0, 8, TAS_TCP_FIN);
    cr_assert_eq(r.delivered, 4);
    cr_assert_not(r.fin_rcvd);
    cr_assert_not(f.flags & FP_FLOW_FIN_RCVD);
}

Test(rx, ecn_marks_are_counted_and_echoed)
{
    f.flags |= FP_FLOW_ECN;
    struct fp_seg s = {.seq = ISN_PEER,
                       .ack = f.tx_una_seq,
                       .win = 1000,
                       .flags = TAS_TCP_ACK | TAS_TCP_ECE,
                       .ce = true,
                       .data = pattern,
                       .len = 4};
    fp_rx_segment(&f, &x, &s, 0, &r);
    cr_assert_eq(f.cnt_ecn, 1);
    cr_assert(f.flags & FP_FLOW_CWR, "our next data segment says CWR");
    cr_assert(f.flags & FP_FLOW_ECE, "CE is echoed");
    s.seq += 4;
    s.flags = TAS_TCP_ACK | TAS_TCP_CWR;
    s.ce = false;
    fp_rx_segment(&f, &x, &s, 0, &r);
    cr_assert_not(f.flags & FP_FLOW_ECE, "until the peer's CWR");
}

Test(rx, segment_without_ecn_negotiated_counts_nothing)
{
    struct fp_seg s = {.seq = ISN_PEER,
                       .ack = f.tx_una_seq,
                       .win = 1000,
                       .flags = TAS_TCP_ACK | TAS_TCP_ECE,
                       .ce = true};
    fp_rx_segment(&f, &x, &s, 0, &r);
    cr_assert_eq(f.cnt_ecn, 0);
    cr_assert_not(f.flags & (FP_FLOW_ECE | FP_FLOW_CWR));
}

/* ---- SACK: the sending side (we sent 160 bytes in 10 segments of 16) ---- */

static void sent(uint32_t n)
{
    f.flags |= FP_FLOW_SACK;
    f.tx_sent = n;
}

/* A duplicate ACK of our una with SACK blocks [a, b) relative to ISN_OURS. */
static void sack_ack(unsigned n, const uint32_t *a, const uint32_t *b)
{
    struct fp_seg s = {
        .seq = f.rx_next_seq, .ack = f.tx_una_seq, .win = 1000, .flags = TAS_TCP_ACK};
    s.n_sack = (uint8_t)n;
    for (unsigned i = 0; i < n; i++) {
        s.sack_start[i] = ISN_OURS + a[i];
        s.sack_end[i] = ISN_OURS + b[i];
    }
    fp_rx_segment(&f, &x, &s, 0, &r);
}

Test(rx, sack_recovery_resends_only_the_holes)
{
    sent(160);
    /* Segments 0 and 3 were lost; the peer SACKs 16..48 then 64..112. */
    sack_ack(1, (uint32_t[]){16}, (uint32_t[]){48});
    cr_assert_not(r.fast_retx);
    sack_ack(1, (uint32_t[]){64}, (uint32_t[]){80});
    cr_assert(r.fast_retx, "3 segments' worth SACKed starts recovery (RFC 6675)");
    cr_assert(x.in_recovery);
    cr_assert_eq(x.n_sack, 2);
    cr_assert_eq(r.retx_seq, ISN_OURS);
    cr_assert_eq(r.retx_len, 16, "the first hole, one segment");
    cr_assert_eq(f.tx_sent, 160, "nothing goes back: no go-back-N");
    sack_ack(2, (uint32_t[]){64, 16}, (uint32_t[]){112, 48});
    cr_assert_not(r.fast_retx, "one recovery");
    cr_assert_eq(x.sack_end[1], ISN_OURS + 112, "the scoreboard grew");
    cr_assert_eq(r.retx_seq, ISN_OURS + 48, "the next hole, after the SACKed range");
    cr_assert_eq(r.retx_len, 16);
    sack_ack(2, (uint32_t[]){64, 16}, (uint32_t[]){112, 48});
    cr_assert_eq(r.retx_len, 0, "no hole left below the highest SACKed byte");
    /* The retransmissions arrive: a partial ACK, then the whole flight. */
    ack(ISN_OURS + 64, 1000);
    cr_assert(x.in_recovery, "64 < recovery point 160");
    cr_assert_eq(r.retx_len, 0);
    ack(ISN_OURS + 160, 1000);
    cr_assert_not(x.in_recovery);
    cr_assert_eq(x.n_sack, 0);
    cr_assert_eq(f.cnt_fretx, 1, "one loss event for the congestion control");
}

Test(rx, sack_blocks_outside_the_flight_are_ignored)
{
    sent(64);
    sack_ack(3, (uint32_t[]){0, 80, 30}, (uint32_t[]){0, 100, 20});
    cr_assert_eq(x.n_sack, 0, "empty, beyond SND.NXT, reversed");
    sack_ack(1, (uint32_t[]){(uint32_t)-32}, (uint32_t[]){(uint32_t)-16});
    cr_assert_eq(x.n_sack, 0, "below SND.UNA (D-SACK)");
}

Test(rx, without_sack_the_third_duplicate_goes_back)
{
    f.tx_sent = 64;
    ack(ISN_OURS, 1000);
    ack(ISN_OURS, 1000);
    ack(ISN_OURS, 1000);
    cr_assert(r.fast_retx);
    cr_assert_eq(r.goback, 64);
    cr_assert_eq(f.tx_sent, 0);
    cr_assert_eq(f.tx_avail, 64);
}

Test(rx, copies_of_an_ack_and_dsacks_do_not_start_recovery)
{
    sent(160);
    sack_ack(1, (uint32_t[]){16}, (uint32_t[]){32});
    for (int i = 0; i < 5; i++)
        sack_ack(1, (uint32_t[]){16}, (uint32_t[]){32}); /* the same ACK, duplicated */
    cr_assert_not(x.in_recovery, "no new SACK information, no duplicate ACKs");
    for (int i = 0; i < 5; i++)
        ack(ISN_OURS, 1000); /* no blocks at all */
    cr_assert_not(x.in_recovery);
    cr_assert_eq(f.dupacks, 1);
    cr_assert_eq(f.cnt_fretx, 0);
}

Test(rx, the_last_segment_sacked_over_a_hole_starts_recovery)
{
    sent(64);
    /* A burst took segments 0..2; the last one arrived (or a tail loss
     * probe of it did): what was sent before it is lost. */
    sack_ack(1, (uint32_t[]){48}, (uint32_t[]){64});
    cr_assert(x.in_recovery);
    cr_assert(r.fast_retx);
    cr_assert_eq(r.retx_seq, ISN_OURS);
    cr_assert_eq(r.retx_len, 16);
}

/* ---- rx ring autotuning (fp_flow_rx_grow, tas/ctxq.h) ---- */

static uint8_t bigbuf[1024];

static void growable(uint32_t max)
{
    memset(bigbuf, 0, sizeof(bigbuf));
    f.rx_base = bigbuf;
    x.rx_max = max;
}

static void assert_big_holds(uint32_t from, uint32_t len, uint32_t pos_of_from)
{
    for (uint32_t i = 0; i < len; i++)
        cr_assert_eq(bigbuf[pos_of_from + i], pattern[from + i], "stream byte %u", from + i);
}

Test(rx, ring_grows_in_place_when_the_window_runs_low_and_nothing_wraps)
{
    growable(1024);
    data(0, 50, 0); /* 14 of 64 free: low; the 50 unread lie below rx_pos */
    cr_assert_eq(f.rx_size, 256, "grew 4x: %u", f.rx_size);
    cr_assert_eq(f.rx_avail, 256 - 50);
    cr_assert_eq(f.rx_pos, 50);
    assert_big_holds(0, 50, 0);
    data(50, 100, 0); /* goes on past the old end, no wrap */
    cr_assert_eq(r.delivered, 100);
    assert_big_holds(50, 100, 50);
}

Test(rx, ring_does_not_grow_under_unread_bytes_that_wrap)
{
    growable(1024);
    data(0, 48, 0);
    consume(48);
    data(48, 56, 0); /* [48, 64) + [0, 40): wraps, 8 free */
    cr_assert_eq(f.rx_size, 64);
    cr_assert(f.flags & FP_FLOW_RX_TIGHT);
    consume(30); /* the reader passed the wrap: 26 unread at [14, 40) */
    cr_assert(fp_flow_rx_grow(&f, &x));
    cr_assert_eq(f.rx_size, 256);
    cr_assert_eq(f.rx_avail, 256 - 26);
    assert_big_holds(78, 26, 14);
    cr_assert(!(f.flags & FP_FLOW_RX_TIGHT));
}

Test(rx, ring_grows_to_its_max_and_a_pinned_ring_never_grows)
{
    growable(128);
    data(0, 60, 0);
    cr_assert_eq(f.rx_size, 128, "capped at rx_max");
    setup();
    growable(64); /* SO_RCVBUF: max == size */
    data(0, 60, 0);
    cr_assert_eq(f.rx_size, 64);
    cr_assert(!(f.flags & FP_FLOW_RX_TIGHT));
}

Test(rx, ring_does_not_grow_while_out_of_order_data_is_held)
{
    growable(1024);
    data(0, 46, 0);
    data(52, 8, 0); /* held out of order at [52, 60) */
    cr_assert_eq(x.n_ooo, 1);
    data(46, 4, 0); /* 14 free: low, but the hole at [50, 52) is open */
    cr_assert(f.flags & FP_FLOW_RX_TIGHT);
    cr_assert_eq(f.rx_size, 64);
    data(50, 2, 0); /* the hole fills: nothing held, nothing wraps */
    cr_assert_eq(x.n_ooo, 0);
    cr_assert_eq(f.rx_size, 256);
    assert_big_holds(0, 60, 0);
}

/* ---- idle flows give their rings' pages back (fp_flow_quiet, fp_flow_ring_span) ---- */

Test(rx, a_flow_is_quiet_only_when_nothing_is_unread_unsent_unacked_or_closing)
{
    cr_assert(fp_flow_quiet(&f, &x), "a fresh flow");
    data(0, 10, 0);
    cr_assert(!fp_flow_quiet(&f, &x), "10 bytes unread");
    consume(10);
    cr_assert(fp_flow_quiet(&f, &x), "all read");
    f.tx_avail = 5;
    cr_assert(!fp_flow_quiet(&f, &x), "5 bytes unsent");
    f.tx_avail = 0;
    f.tx_sent = 5;
    cr_assert(!fp_flow_quiet(&f, &x), "5 bytes unacknowledged");
    f.tx_sent = 0;
    f.flags |= FP_FLOW_FIN_QUEUED;
    cr_assert(!fp_flow_quiet(&f, &x), "our FIN queued");
    f.flags &= (uint16_t)~FP_FLOW_FIN_QUEUED;
    data(20, 4, 0); /* out of order: held, nothing delivered */
    cr_assert_eq(x.n_ooo, 1);
    cr_assert_eq(f.rx_avail, f.rx_size);
    cr_assert(!fp_flow_quiet(&f, &x), "out-of-order data held");
}

Test(rx, the_ring_span_covers_both_rings_in_whole_pages_of_the_slot)
{
    uintptr_t start;
    size_t len;
    uint8_t *slot = (uint8_t *)(uintptr_t)0x100000; /* never dereferenced */

    /* The small rings share one page: tx [4096, 5120), rx [5120, 8192). */
    f.tx_base = slot + 4096;
    f.tx_size = 1024;
    f.rx_base = slot + 5120;
    f.rx_size = 3072;
    fp_flow_ring_span(&f, 4096, &start, &len);
    cr_assert_eq(start, (uintptr_t)slot + 4096);
    cr_assert_eq(len, 4096);

    /* Grown: tx 4 KiB down from 5120 (starts mid-page), rx 12 KiB up. */
    f.tx_base = slot + 5120 - 4096;
    f.tx_size = 4096;
    f.rx_size = 12288;
    fp_flow_ring_span(&f, 4096, &start, &len);
    cr_assert_eq(start, (uintptr_t)slot, "rounded down to the page: %#lx",
                 (unsigned long)start);
    cr_assert_eq(len, 5 * 4096, "up to 5120 + 12288 rounded up: %zu", len);
}
