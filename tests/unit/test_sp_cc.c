/* test_sp_cc.c - congestion control algorithms of the slow path (reno,
 * cubic, dctcp, timely, none) and the policy rule reader. */
#include <criterion/criterion.h>

#include <errno.h>
#include <math.h>
#include <string.h>

#include "slowpath/cc.h"
#include "slowpath/slowpath.h"

#define MSS 1000

static struct sp_cc_state reno(void)
{
    struct sp_cc_state s;
    sp_cc_reno.init(&s, MSS, 0);
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
    sp_cc_none.init(&s, MSS, 0);
    struct sp_cc_input in = {.acked = 1000, .fretx = 3, .timeout = true};
    sp_cc_none.update(&s, &in);
    cr_assert_eq(s.cwnd, 0);
}

Test(cc, algorithms_are_found_by_name)
{
    cr_assert_eq(sp_cc_find("reno"), &sp_cc_reno);
    cr_assert_eq(sp_cc_find("none"), &sp_cc_none);
    cr_assert_eq(sp_cc_find("cubic"), &sp_cc_cubic);
    cr_assert_eq(sp_cc_find("dctcp"), &sp_cc_dctcp);
    cr_assert_eq(sp_cc_find("timely"), &sp_cc_timely);
    cr_assert_null(sp_cc_find("bbr"));
    for (unsigned i = 0; i < sp_cc_count(); i++)
        cr_assert_eq(sp_cc_index(sp_cc_at(i)), i);
    cr_assert(sp_cc_count() <= SP_CC_MAX);
    cr_assert(sp_cc_dctcp.ecn_each);
    cr_assert_not(sp_cc_reno.ecn_each);
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

Test(cc_reno, an_ecn_echo_halves_the_window_once_per_round_trip)
{
    struct sp_cc_state s = reno();
    s.cwnd = 40 * MSS;
    struct sp_cc_input in = {
        .acked = MSS, .ecn_acked = MSS, .ecn = true, .srtt_us = 1000, .now_us = 10000};
    sp_cc_reno.update(&s, &in);
    cr_assert_eq(s.cwnd, 20 * MSS);
    in.now_us = 10500;
    sp_cc_reno.update(&s, &in);
    cr_assert_lt(s.cwnd, 21 * MSS, "the same round trip: no second cut, %u", s.cwnd);
    cr_assert_geq(s.cwnd, 20 * MSS);
}

Test(cc_reno, taking_over_a_running_window_continues_from_it)
{
    struct sp_cc_state s;
    sp_cc_reno.init(&s, MSS, 33 * MSS);
    cr_assert_eq(s.cwnd, 33 * MSS);
    cr_assert_eq(s.ssthresh, 33 * MSS, "avoidance, not slow start");
}

/* ---- DCTCP ---- */

/* One round trip of acknowledgements of 20 MSS, marked share permille
 * of them, in ten intervals; returns the time after it. */
static uint64_t dctcp_rtt(const struct sp_cc_ops *o, struct sp_cc_state *s, uint64_t t,
                          unsigned permille)
{
    for (int i = 0; i < 10; i++) {
        struct sp_cc_input in = {.acked = 2 * MSS,
                                 .ecn_acked = 2 * MSS * permille / 1000,
                                 .ecn = true,
                                 .srtt_us = 1000,
                                 .now_us = t + (uint64_t)i * 100};
        if (permille > 0 && i != 5)
            in.ecn_acked = 0; /* the marks come together, once per RTT */
        else if (permille > 0)
            in.ecn_acked = 20 * MSS * permille / 1000;
        o->update(s, &in);
    }
    return t + 1000;
}

Test(cc_dctcp, the_first_mark_halves_the_window_since_alpha_starts_at_one)
{
    struct sp_cc_state s;
    sp_cc_dctcp.init(&s, MSS, 0);
    cr_assert_eq(s.u.dctcp.alpha, 1024);
    s.cwnd = 40 * MSS;
    s.ssthresh = 40 * MSS;
    struct sp_cc_input in = {
        .acked = MSS, .ecn_acked = MSS, .ecn = true, .srtt_us = 1000, .now_us = 10};
    sp_cc_dctcp.update(&s, &in);
    cr_assert_eq(s.cwnd, 20 * MSS);
}

Test(cc_dctcp, alpha_follows_the_marked_share_and_scales_the_cut)
{
    struct sp_cc_state s;
    sp_cc_dctcp.init(&s, MSS, 0);
    uint64_t t = 1;
    for (int r = 0; r < 100; r++) /* nothing marked: alpha decays */
        t = dctcp_rtt(&sp_cc_dctcp, &s, t, 0);
    cr_assert_lt(s.u.dctcp.alpha, 10, "alpha %u after 100 clean round trips",
                 s.u.dctcp.alpha);
    s.cwnd = 100 * MSS;
    s.ssthresh = 100 * MSS;
    s.recover_until_us = 0;
    struct sp_cc_input in = {
        .acked = MSS, .ecn_acked = MSS, .ecn = true, .srtt_us = 1000, .now_us = t};
    sp_cc_dctcp.update(&s, &in);
    cr_assert_geq(s.cwnd, 99 * MSS, "a small alpha cuts little (cwnd %u)", s.cwnd);
}

Test(cc_dctcp, keeps_its_window_where_reno_halves_it)
{
    struct sp_cc_state d, r;
    sp_cc_dctcp.init(&d, MSS, 0);
    sp_cc_reno.init(&r, MSS, 0);
    uint64_t t = 1;
    for (int i = 0; i < 300; i++) { /* 5% of the bytes marked every round trip */
        dctcp_rtt(&sp_cc_dctcp, &d, t, 50);
        t = dctcp_rtt(&sp_cc_reno, &r, t, 50);
    }
    cr_assert_gt(d.cwnd, 4 * r.cwnd, "dctcp %u, reno %u", d.cwnd, r.cwnd);
    cr_assert_lt(d.u.dctcp.alpha, 200, "alpha %u near the 5%% marked", d.u.dctcp.alpha);
}

Test(cc_dctcp, without_ecn_it_is_reno)
{
    struct sp_cc_state s;
    sp_cc_dctcp.init(&s, MSS, 0);
    s.cwnd = 40 * MSS;
    struct sp_cc_input in = {.fretx = 1, .srtt_us = 1000, .now_us = 10};
    sp_cc_dctcp.update(&s, &in);
    cr_assert_eq(s.cwnd, 20 * MSS);
}

/* ---- CUBIC ---- */

Test(cc_cubic, a_loss_cuts_to_seven_tenths)
{
    struct sp_cc_state s;
    sp_cc_cubic.init(&s, MSS, 0);
    s.cwnd = 100 * MSS;
    struct sp_cc_input in = {.fretx = 1, .srtt_us = 1000, .now_us = 10};
    sp_cc_cubic.update(&s, &in);
    cr_assert_eq(s.cwnd, 70 * MSS);
    cr_assert_eq(s.ssthresh, 70 * MSS);
    cr_assert_float_eq(s.u.cubic.w_max, 100.0, 1e-9);
}

/* Acknowledge a full window every RTT (rtt_us) for dur_us, in steps of
 * one RTT; returns the time after. */
static uint64_t cubic_run(struct sp_cc_state *s, uint64_t t, uint64_t dur_us,
                          uint32_t rtt_us)
{
    for (uint64_t e = t + dur_us; t < e; t += rtt_us) {
        struct sp_cc_input in = {.acked = s->cwnd, .srtt_us = rtt_us, .now_us = t};
        sp_cc_cubic.update(s, &in);
    }
    return t;
}

Test(cc_cubic, the_window_comes_back_to_w_max_after_k_seconds_then_grows_on)
{
    struct sp_cc_state s;
    sp_cc_cubic.init(&s, MSS, 0);
    s.cwnd = 1000 * MSS;
    struct sp_cc_input loss = {.fretx = 1, .srtt_us = 100000, .now_us = 1000};
    sp_cc_cubic.update(&s, &loss);
    /* K = cbrt(1000 * 0.3 / 0.4) = 9.09 s; at 100 ms per round trip Reno
     * would have gained only ~48 segments by then. */
    uint64_t t = cubic_run(&s, 2000, 4000000, 100000);
    double w4 = (double)s.cwnd / MSS;
    cr_assert(w4 > 900 && w4 < 1000, "concave: %.0f segments after 4 s", w4);
    t = cubic_run(&s, t, 5100000, 100000);
    double wk = (double)s.cwnd / MSS;
    cr_assert(fabs(wk - 1000) < 20, "%.0f segments at K", wk);
    cubic_run(&s, t, 4000000, 100000);
    cr_assert_gt(s.cwnd, 1020 * MSS, "convex beyond w_max: %u", s.cwnd / MSS);
}

Test(cc_cubic, on_a_short_path_it_grows_as_reno_friendly_aimd)
{
    struct sp_cc_state c;
    sp_cc_cubic.init(&c, MSS, 20 * MSS);
    for (uint64_t t = 1; t < 200 * 1000; t += 1000) { /* 200 RTTs of 1 ms */
        struct sp_cc_input in = {.acked = c.cwnd, .srtt_us = 1000, .now_us = t};
        sp_cc_cubic.update(&c, &in);
    }
    /* alpha = 3 (1 - 0.7) / (1 + 0.7) = 0.53 segments per round trip */
    double w = (double)c.cwnd / MSS;
    cr_assert(fabs(w - (20 + 0.529 * 200)) < 4, "%.1f segments", w);
}

Test(cc_cubic, timeout_starts_over_at_two_segments)
{
    struct sp_cc_state s;
    sp_cc_cubic.init(&s, MSS, 50 * MSS);
    struct sp_cc_input in = {.timeout = true, .srtt_us = 1000, .now_us = 5};
    sp_cc_cubic.update(&s, &in);
    cr_assert_eq(s.cwnd, 2 * MSS);
    cr_assert_eq(s.ssthresh, 35 * MSS);
}

/* ---- TIMELY ---- */

static void timely_at(struct sp_cc_state *s, uint32_t rtt_us, uint64_t *t)
{
    struct sp_cc_input in = {.acked = MSS, .srtt_us = rtt_us, .now_us = *t};
    sp_cc_timely.update(s, &in);
    *t += rtt_us;
}

Test(cc_timely, a_rate_not_a_window)
{
    struct sp_cc_state s;
    sp_cc_timely.init(&s, MSS, 0);
    cr_assert_eq(s.cwnd, 0);
    cr_assert_eq(s.rate_kbps, 10000000);
}

Test(cc_timely, an_rtt_above_t_high_cuts_the_rate)
{
    struct sp_cc_state s;
    sp_cc_timely.init(&s, MSS, 0);
    uint64_t t = 1;
    timely_at(&s, 600, &t);
    timely_at(&s, 10000, &t);
    cr_assert_lt(s.rate_kbps, 6000000, "1 - 0.8 (1 - 4/10) = 0.52: %u", s.rate_kbps);
    for (int i = 0; i < 50; i++)
        timely_at(&s, 10000, &t);
    cr_assert_eq(s.rate_kbps, 10000, "down to the floor");
}

Test(cc_timely, a_low_rtt_adds_delta_and_a_rising_one_cuts)
{
    struct sp_cc_state s;
    sp_cc_timely.init(&s, MSS, 0);
    s.rate_kbps = 1000000;
    uint64_t t = 1;
    timely_at(&s, 600, &t);
    timely_at(&s, 600, &t);
    cr_assert_eq(s.rate_kbps, 1010000);
    timely_at(&s, 2000, &t); /* between T_low and T_high, rising */
    timely_at(&s, 3500, &t);
    cr_assert_lt(s.rate_kbps, 1010000, "gradient > 0 cuts: %u", s.rate_kbps);
}

Test(cc_timely, one_update_per_round_trip)
{
    struct sp_cc_state s;
    sp_cc_timely.init(&s, MSS, 0);
    s.rate_kbps = 1000000;
    struct sp_cc_input in = {.acked = MSS, .srtt_us = 600, .now_us = 100};
    sp_cc_timely.update(&s, &in); /* first sample */
    in.now_us = 800;
    sp_cc_timely.update(&s, &in);
    uint32_t r = s.rate_kbps;
    in.now_us = 900; /* within the RTT of the last update */
    sp_cc_timely.update(&s, &in);
    cr_assert_eq(s.rate_kbps, r);
}

/* ---- policy rules ---- */

static int parse(const char *line, bool clear, struct sp_policy_spec *p, char *err)
{
    char buf[128], *w[16];
    int n = 0;
    snprintf(buf, sizeof(buf), "%s", line);
    for (char *t = strtok(buf, " "); t != NULL && n < 16; t = strtok(NULL, " "))
        w[n++] = t;
    return sp_policy_parse(n, w, clear, p, err, 160);
}

Test(policy_rule, the_grammar_of_tasctl_policy_set)
{
    struct sp_policy_spec p;
    char err[160];
    cr_assert_eq(parse("app 1234 rate 100", false, &p, err), 0, "%s", err);
    cr_assert(p.kind == SP_POL_APP && !p.by_comm && p.key == 1234 && p.has_rate &&
              p.rate_mbps == 100 && !p.has_cc && !p.has_max_conns);
    cr_assert_eq(parse("app nginx cc cubic max-conns 10", false, &p, err), 0, "%s", err);
    cr_assert(p.by_comm && !strcmp(p.comm, "nginx") && p.has_cc &&
              !strcmp(p.cc, "cubic") && p.max_conns == 10);
    cr_assert_eq(parse("uid 1000 cc dctcp", false, &p, err), 0, "%s", err);
    cr_assert(p.kind == SP_POL_UID && p.key == 1000);
    cr_assert_eq(parse("port 80 max-conns 5", false, &p, err), 0, "%s", err);
    cr_assert(p.kind == SP_POL_PORT && p.key == 80 && p.max_conns == 5);
    cr_assert_eq(parse("app 77", true, &p, err), 0, "%s", err);
}

Test(policy_rule, bad_rules_say_why)
{
    struct sp_policy_spec p;
    char err[160];
    cr_assert_eq(parse("app 1 cc bbr", false, &p, err), -EINVAL);
    cr_assert(strstr(err, "unknown congestion control") != NULL, "%s", err);
    cr_assert_eq(parse("port 0 rate 1", false, &p, err), -EINVAL);
    cr_assert_eq(parse("port 70000 rate 1", false, &p, err), -EINVAL);
    cr_assert_eq(parse("app 1 rate 0", false, &p, err), -EINVAL);
    cr_assert_eq(parse("app 1 rate", false, &p, err), -EINVAL);
    cr_assert_eq(parse("app 1 speed 5", false, &p, err), -EINVAL);
    cr_assert_eq(parse("app 1", false, &p, err), -EINVAL);
    cr_assert_eq(parse("app averyveryverylongname rate 1", false, &p, err), -EINVAL);
    cr_assert_eq(parse("host 1 rate 1", false, &p, err), -EINVAL);
    cr_assert_eq(parse("uid x cc reno", false, &p, err), -EINVAL);
    cr_assert_eq(parse("app 1 rate 5", true, &p, err), -EINVAL, "clear takes a target");
    cr_assert_eq(parse("app 1 max-conns 0", false, &p, err), -EINVAL);
}
