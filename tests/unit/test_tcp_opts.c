/* test_tcp_opts.c - TCP option parsing (including malformed option areas)
 * and writing (common/tcp_opts.c). */
#include <criterion/criterion.h>
#include <errno.h>

#include "common/tcp_opts.h"

Test(tcp_opts, linux_syn_options_are_all_parsed)
{
    /* MSS 1460, SACK-perm, TS 0x01020304/0, NOP, WS 7 (as Linux sends). */
    const uint8_t opt[] = {2, 4, 0x05, 0xb4, 4, 2, 8, 10, 1, 2,
                           3, 4, 0,    0,    0, 0, 1, 3,  3, 7};
    struct cm_tcp_opts o;
    cr_assert_eq(cm_tcp_opts_parse(opt, sizeof(opt), &o), 0);
    cr_assert(o.has_mss);
    cr_assert_eq(o.mss, 1460);
    cr_assert(o.sack_perm);
    cr_assert(o.has_ts);
    cr_assert_eq(o.ts_val, 0x01020304u);
    cr_assert_eq(o.ts_ecr, 0);
    cr_assert(o.has_ws);
    cr_assert_eq(o.wscale, 7);
}

Test(tcp_opts, empty_area_parses_to_nothing)
{
    struct cm_tcp_opts o;
    cr_assert_eq(cm_tcp_opts_parse(NULL, 0, &o), 0);
    cr_assert_not(o.has_mss || o.has_ws || o.has_ts || o.sack_perm);
}

Test(tcp_opts, end_of_list_stops_parsing)
{
    const uint8_t opt[] = {0, 0xff, 0xff, 0xff};
    struct cm_tcp_opts o;
    cr_assert_eq(cm_tcp_opts_parse(opt, sizeof(opt), &o), 0);
    cr_assert_not(o.has_mss);
}

Test(tcp_opts, zero_length_byte_is_rejected)
{
    const uint8_t opt[] = {8, 0, 1, 1};
    struct cm_tcp_opts o;
    cr_assert_eq(cm_tcp_opts_parse(opt, sizeof(opt), &o), -EINVAL);
}

Test(tcp_opts, length_one_is_rejected)
{
    const uint8_t opt[] = {1, 1, 2, 1};
    struct cm_tcp_opts o;
    cr_assert_eq(cm_tcp_opts_parse(opt, sizeof(opt), &o), -EINVAL);
}

Test(tcp_opts, option_running_past_the_header_is_rejected)
{
    const uint8_t opt[] = {1, 1, 8, 10, 0, 0, 0, 1};
    struct cm_tcp_opts o;
    cr_assert_eq(cm_tcp_opts_parse(opt, sizeof(opt), &o), -EINVAL);
}

Test(tcp_opts, kind_without_room_for_its_length_is_rejected)
{
    const uint8_t opt[] = {1, 1, 1, 2};
    struct cm_tcp_opts o;
    cr_assert_eq(cm_tcp_opts_parse(opt, sizeof(opt), &o), -EINVAL);
}

Test(tcp_opts, known_option_with_wrong_length_is_ignored)
{
    const uint8_t opt[] = {2, 3, 5, 1}; /* MSS with length 3 */
    struct cm_tcp_opts o;
    cr_assert_eq(cm_tcp_opts_parse(opt, sizeof(opt), &o), 0);
    cr_assert_not(o.has_mss);
}

Test(tcp_opts, unknown_options_are_skipped)
{
    const uint8_t opt[] = {30, 4, 0xaa, 0xbb, 3, 3, 2, 1};
    struct cm_tcp_opts o;
    cr_assert_eq(cm_tcp_opts_parse(opt, sizeof(opt), &o), 0);
    cr_assert(o.has_ws);
    cr_assert_eq(o.wscale, 2);
}

Test(tcp_opts, window_scale_above_14_is_clamped)
{
    const uint8_t opt[] = {3, 3, 20, 1};
    struct cm_tcp_opts o;
    cr_assert_eq(cm_tcp_opts_parse(opt, sizeof(opt), &o), 0);
    cr_assert_eq(o.wscale, 14);
}

Test(tcp_opts, sack_blocks_are_parsed_beside_timestamps)
{
    const uint8_t opt[] = {1, 1, 5, 10, 0, 0, 0, 1, 0, 0, 0, 2,
                           1, 1, 8, 10, 0, 0, 0, 9, 0, 0, 0, 8};
    struct cm_tcp_opts o;
    cr_assert_eq(cm_tcp_opts_parse(opt, sizeof(opt), &o), 0);
    cr_assert(o.has_ts);
    cr_assert_eq(o.ts_val, 9);
    cr_assert_eq(o.ts_ecr, 8);
    cr_assert_eq(o.n_sack, 1);
    cr_assert_eq(o.sack_start[0], 1);
    cr_assert_eq(o.sack_end[0], 2);
}

Test(tcp_opts, sack_option_of_a_bad_length_is_ignored)
{
    const uint8_t opt[] = {5, 9, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1};
    struct cm_tcp_opts o;
    cr_assert_eq(cm_tcp_opts_parse(opt, sizeof(opt), &o), 0);
    cr_assert_eq(o.n_sack, 0);
}

Test(tcp_opts, sack_blocks_round_trip_through_the_parser)
{
    uint32_t st[4] = {100, 300, 0xfffffff0u, 7}, en[4] = {200, 400, 16, 8};
    uint8_t buf[40];
    size_t n = cm_tcp_opts_write_sack(buf, st, en, 4);
    cr_assert_eq(n, 36);
    struct cm_tcp_opts o;
    cr_assert_eq(cm_tcp_opts_parse(buf, n, &o), 0);
    cr_assert_eq(o.n_sack, 4);
    for (int i = 0; i < 4; i++) {
        cr_assert_eq(o.sack_start[i], st[i]);
        cr_assert_eq(o.sack_end[i], en[i]);
    }
}

Test(tcp_opts, syn_options_round_trip_through_the_parser)
{
    struct cm_tcp_opts in = {.mss = 1448,
                             .wscale = 9,
                             .has_mss = true,
                             .has_ws = true,
                             .sack_perm = true,
                             .has_ts = true,
                             .ts_val = 0xdeadbeef,
                             .ts_ecr = 0x12345678};
    uint8_t buf[FP_TCPOPT_SYN_MAX];
    size_t n = cm_tcp_opts_write_syn(buf, &in);
    cr_assert_eq(n, 20);
    struct cm_tcp_opts out;
    cr_assert_eq(cm_tcp_opts_parse(buf, n, &out), 0);
    cr_assert_eq(out.mss, 1448);
    cr_assert_eq(out.wscale, 9);
    cr_assert(out.has_mss && out.has_ws && out.sack_perm && out.has_ts);
    cr_assert_eq(out.ts_val, 0xdeadbeef);
    cr_assert_eq(out.ts_ecr, 0x12345678);
}

Test(tcp_opts, syn_option_subsets_are_padded_to_four_bytes)
{
    struct cm_tcp_opts cases[] = {
        {.has_mss = true, .mss = 536},
        {.has_mss = true, .mss = 536, .sack_perm = true},
        {.has_mss = true, .mss = 536, .has_ws = true, .wscale = 3},
        {.has_ts = true, .ts_val = 5},
        {0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint8_t buf[FP_TCPOPT_SYN_MAX];
        size_t n = cm_tcp_opts_write_syn(buf, &cases[i]);
        cr_assert_eq(n % 4, 0);
        struct cm_tcp_opts out;
        cr_assert_eq(cm_tcp_opts_parse(buf, n, &out), 0);
        cr_assert_eq(out.has_mss, cases[i].has_mss);
        cr_assert_eq(out.sack_perm, cases[i].sack_perm);
        cr_assert_eq(out.has_ws, cases[i].has_ws);
        cr_assert_eq(out.has_ts, cases[i].has_ts);
    }
}

Test(tcp_opts, data_timestamp_option_is_nop_nop_ts_and_takes_the_fast_path)
{
    uint8_t buf[FP_TCPOPT_TS_LEN];
    cr_assert_eq(cm_tcp_opts_write_ts(buf, 100, 200), 12);
    cr_assert_eq(buf[0], 1);
    cr_assert_eq(buf[1], 1);
    cr_assert_eq(buf[2], 8);
    cr_assert_eq(buf[3], 10);
    uint32_t v, e;
    cr_assert(cm_tcp_opts_ts_fast(buf, sizeof(buf), &v, &e));
    cr_assert_eq(v, 100);
    cr_assert_eq(e, 200);
    struct cm_tcp_opts o;
    cr_assert_eq(cm_tcp_opts_parse(buf, sizeof(buf), &o), 0);
    cr_assert_eq(o.ts_val, 100);
    cr_assert_eq(o.ts_ecr, 200);
}
