/* test_sp_cc.c - congestion control algorithms of the slow path. */
#include <criterion/criterion.h>

#include "slowpath/cc.h"

#define MSS 1000

static struct sp_cc_state reno(void)
{
    struct sp_cc_state s;
    sp_cc_reno.init(&s, MSS);
    return s;
}

static void step(struct sp_cc_state *s, uint32_t acked, uint32_t fretx, bool timeout,
                 uint64_t now_us)
{
    struct sp_cc_input in = {.acked = acked,
                             .fretx = fretx,
                             .timeout = timeout,
                             .srtt_us = 1000,
                             .now_us = now_us};
    sp_cc_reno.update(s, &in);
}

Test(cc_reno, starts_with_ten_segments)
{
    struct sp_cc_state s = reno();
    cr_assert_eq(s.cwnd, 10 * MSS);
}

Test(cc_reno, slow_start_grows_by_the_bytes_acknowledged)
{
    struct sp_cc_state s = reno();
    step(&s, 5 * MSS, 0, false, 1);
    cr_assert_eq(s.cwnd, 15 * MSS);
}

Test(cc_reno, fast_retransmit_halves_the_window_once_per_round_trip)
{
    struct sp_cc_state s = reno();
    s.cwnd = 40 * MSS;
    step(&s, 0, 1, false, 10000);
    cr_assert_eq(s.cwnd, 20 * MSS);
    cr_assert_eq(s.ssthresh, 20 * MSS);
    step(&s, 0, 1, false, 10500); /* same window of losses */
    cr_assert_eq(s.cwnd, 20 * MSS);
    step(&s, 0, 1, false, 12000);
    cr_assert_eq(s.cwnd, 10 * MSS);
}

Test(cc_reno, congestion_avoidance_adds_about_one_segment_per_window)
{
    struct sp_cc_state s = reno();
    s.cwnd = 20 * MSS;
    s.ssthresh = 20 * MSS;
    step(&s, 20 * MSS, 0, false, 1);
    cr_assert_eq(s.cwnd, 21 * MSS);
}

Test(cc_reno, window_stops_growing_at_twice_the_receivers_window)
{
    struct sp_cc_state s = reno();
    struct sp_cc_input in = {.acked = 100 * MSS, .peer_win = 20 * MSS, .now_us = 1};
    sp_cc_reno.update(&s, &in);
    cr_assert_eq(s.cwnd, 40 * MSS);
    sp_cc_reno.update(&s, &in);
    cr_assert_eq(s.cwnd, 40 * MSS);
}

Test(cc_reno, timeout_falls_back_to_two_segments)
{
    struct sp_cc_state s = reno();
    s.cwnd = 40 * MSS;
    step(&s, 0, 0, true, 1);
    cr_assert_eq(s.cwnd, 2 * MSS);
    cr_assert_eq(s.ssthresh, 20 * MSS);
}

Test(cc_reno, window_never_drops_below_two_segments_on_loss)
{
    struct sp_cc_state s = reno();
    s.cwnd = 2 * MSS;
    step(&s, 0, 1, false, 1);
    cr_assert_eq(s.cwnd, 2 * MSS);
}

Test(cc_none, window_is_unlimited)
{
    struct sp_cc_state s;
    sp_cc_none.init(&s, MSS);
    struct sp_cc_input in = {.acked = 1000, .fretx = 3, .timeout = true};
    sp_cc_none.update(&s, &in);
    cr_assert_eq(s.cwnd, 0);
}

Test(cc, algorithms_are_found_by_name)
{
    cr_assert_eq(sp_cc_find("reno"), &sp_cc_reno);
    cr_assert_eq(sp_cc_find("none"), &sp_cc_none);
    cr_assert_null(sp_cc_find("bbr"));
}

Test(cc, fast_path_is_told_of_decreases_and_of_meaningful_increases)
{
    cr_assert(sp_cc_changed(20000, 10000, MSS));
    cr_assert_not(sp_cc_changed(20000, 20000, MSS));
    cr_assert_not(sp_cc_changed(20000, 20500, MSS));
    cr_assert(sp_cc_changed(20000, 21250, MSS));
    cr_assert(sp_cc_changed(0, 10000, MSS));
    cr_assert(sp_cc_changed(10000, 0, MSS));
}
