/* test_impair.c - the test-only impairment model (tasd/impair.c): the
 * seeded PRNG, the share of packets each impairment hits, the fate of one
 * packet, and the FIFOs that hold delayed and reordered packets.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>

#include "tasd/impair.h"

#define DRAWS 1000000

/* |got - want| within 4 standard deviations of a binomial(DRAWS, p). */
static void assert_share(uint64_t got, uint32_t per_mille)
{
    double p = per_mille / 1000.0, want = DRAWS * p;
    double sd = sqrt(DRAWS * p * (1 - p));
    cr_assert(fabs((double)got - want) <= 4 * sd + 1,
              "%lu hits in %d draws for %u per mille (want %.0f +- %.0f)",
              (unsigned long)got, DRAWS, per_mille, want, 4 * sd);
}

Test(impair, same_seed_and_stream_give_the_same_sequence)
{
    struct tasd_impair_rng a, b;
    tasd_impair_rng_seed(&a, 42, 3);
    tasd_impair_rng_seed(&b, 42, 3);
    for (int i = 0; i < 1000; i++)
        cr_assert_eq(tasd_impair_rng_next(&a), tasd_impair_rng_next(&b));
}

Test(impair, other_seed_or_stream_gives_another_sequence)
{
    struct tasd_impair_rng a, b, c;
    int same_b = 0, same_c = 0;
    tasd_impair_rng_seed(&a, 42, 0);
    tasd_impair_rng_seed(&b, 43, 0);
    tasd_impair_rng_seed(&c, 42, 1);
    for (int i = 0; i < 1000; i++) {
        uint64_t x = tasd_impair_rng_next(&a);
        same_b += x == tasd_impair_rng_next(&b);
        same_c += x == tasd_impair_rng_next(&c);
    }
    cr_assert_eq(same_b, 0);
    cr_assert_eq(same_c, 0);
}

Test(impair, zero_share_never_hits_and_draws_nothing)
{
    struct tasd_impair_rng a, b;
    tasd_impair_rng_seed(&a, 7, 0);
    b = a;
    for (int i = 0; i < 10000; i++)
        cr_assert_not(tasd_impair_hit(&a, 0));
    cr_assert_eq(a.s, b.s, "a share of 0 must not consume the stream");
}

Test(impair, full_share_always_hits)
{
    struct tasd_impair_rng r;
    tasd_impair_rng_seed(&r, 7, 0);
    for (int i = 0; i < 10000; i++)
        cr_assert(tasd_impair_hit(&r, 1000));
}

Test(impair, hits_match_the_share_in_per_mille)
{
    static const uint32_t shares[] = {1, 10, 20, 100, 500, 999};
    for (size_t s = 0; s < sizeof(shares) / sizeof(shares[0]); s++) {
        struct tasd_impair_rng r;
        uint64_t hits = 0;
        tasd_impair_rng_seed(&r, 1234 + s, 0);
        for (int i = 0; i < DRAWS; i++)
            hits += tasd_impair_hit(&r, shares[s]);
        assert_share(hits, shares[s]);
    }
}

Test(impair, nothing_configured_means_every_packet_passes)
{
    struct tasd_impair_dir d = {0};
    struct tasd_impair_rng r;
    tasd_impair_rng_seed(&r, 1, 0);
    cr_assert_not(tasd_impair_dir_active(&d));
    for (int i = 0; i < 10000; i++)
        cr_assert_eq(tasd_impair_decide(&d, &r), 0u);
}

Test(impair, fates_follow_their_shares_and_exclude_each_other)
{
    struct tasd_impair_dir d = {
        .drop = 20, .dup = 10, .delay = 50, .delay_us = 100, .reorder = 30};
    struct tasd_impair_rng r;
    uint64_t drop = 0, dup = 0, delay = 0, reorder = 0, passed = 0;

    cr_assert(tasd_impair_dir_active(&d));
    tasd_impair_rng_seed(&r, 99, 0);
    for (int i = 0; i < DRAWS; i++) {
        unsigned f = tasd_impair_decide(&d, &r);
        if (f & TASD_IMPAIR_DROP) {
            cr_assert_eq(f, TASD_IMPAIR_DROP, "a dropped packet has no other fate");
            drop++;
            continue;
        }
        passed++;
        cr_assert_neq(f & (TASD_IMPAIR_DELAY | TASD_IMPAIR_REORDER),
                      TASD_IMPAIR_DELAY | TASD_IMPAIR_REORDER,
                      "a packet is delayed or reordered, not both");
        dup += !!(f & TASD_IMPAIR_DUP);
        delay += !!(f & TASD_IMPAIR_DELAY);
        reorder += !!(f & TASD_IMPAIR_REORDER);
    }
    assert_share(drop, 20);
    /* The others are shares of what was not dropped (reorder: of what was
     * not delayed either). */
    cr_assert(fabs((double)dup / passed - 0.010) < 0.001, "dup share %f",
              (double)dup / passed);
    cr_assert(fabs((double)delay / passed - 0.050) < 0.002, "delay share %f",
              (double)delay / passed);
    cr_assert(fabs((double)reorder / (passed - delay) - 0.030) < 0.002,
              "reorder share %f", (double)reorder / (passed - delay));
}

Test(impair, a_seed_reproduces_every_fate)
{
    struct tasd_impair_dir d = {
        .drop = 100, .dup = 100, .delay = 100, .delay_us = 1, .reorder = 100};
    struct tasd_impair_rng a, b;
    tasd_impair_rng_seed(&a, 5, 2);
    tasd_impair_rng_seed(&b, 5, 2);
    for (int i = 0; i < 100000; i++)
        cr_assert_eq(tasd_impair_decide(&d, &a), tasd_impair_decide(&d, &b));
}

static struct tasd_impair_fifo q; /* 12 KB: not on the stack */

Test(impair, fifo_releases_in_order_and_only_when_due)
{
    int pkts[3];
    memset(&q, 0, sizeof(q));
    cr_assert_eq(tasd_impair_fifo_next_due(&q), UINT64_MAX);
    cr_assert_null(tasd_impair_fifo_pop_due(&q, UINT64_MAX));
    for (int i = 0; i < 3; i++)
        cr_assert(tasd_impair_fifo_push(&q, &pkts[i], 100 + 10 * i));
    cr_assert_eq(tasd_impair_fifo_next_due(&q), 100u);
    cr_assert_null(tasd_impair_fifo_pop_due(&q, 99));
    cr_assert_eq(tasd_impair_fifo_pop_due(&q, 100), &pkts[0]);
    cr_assert_null(tasd_impair_fifo_pop_due(&q, 105));
    cr_assert_eq(tasd_impair_fifo_pop_due(&q, 200), &pkts[1]);
    cr_assert_eq(tasd_impair_fifo_pop_due(&q, 200), &pkts[2]);
    cr_assert_null(tasd_impair_fifo_pop_due(&q, 200));
    cr_assert_eq(q.n, 0u);
}

Test(impair, full_fifo_refuses_and_keeps_what_it_holds)
{
    static int pkts[TASD_IMPAIR_HOLD + 1];
    memset(&q, 0, sizeof(q));
    /* Wrap the ring once first. */
    for (unsigned i = 0; i < TASD_IMPAIR_HOLD / 2; i++) {
        cr_assert(tasd_impair_fifo_push(&q, &pkts[0], 0));
        cr_assert_eq(tasd_impair_fifo_pop_due(&q, 0), &pkts[0]);
    }
    for (unsigned i = 0; i < TASD_IMPAIR_HOLD; i++)
        cr_assert(tasd_impair_fifo_push(&q, &pkts[i], i));
    cr_assert_not(tasd_impair_fifo_push(&q, &pkts[TASD_IMPAIR_HOLD], 0));
    cr_assert_eq(q.n, TASD_IMPAIR_HOLD);
    for (unsigned i = 0; i < TASD_IMPAIR_HOLD; i++)
        cr_assert_eq(tasd_impair_fifo_pop_due(&q, UINT64_MAX), &pkts[i]);
    cr_assert_eq(q.n, 0u);
}
