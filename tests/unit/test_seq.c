/* test_seq.c - TCP sequence number comparisons (include/tas/seq.h) across
 * the 2^32 wrap-around. */
#include <criterion/criterion.h>

#include "tas/seq.h"

Test(seq, comparisons_follow_order_without_wrap)
{
    cr_assert(tas_seq_lt(1, 2));
    cr_assert(tas_seq_leq(2, 2));
    cr_assert(tas_seq_gt(3, 2));
    cr_assert(tas_seq_geq(3, 3));
    cr_assert_not(tas_seq_lt(2, 2));
    cr_assert_not(tas_seq_gt(2, 2));
}

Test(seq, numbers_just_after_wrap_are_greater_than_numbers_just_before)
{
    uint32_t before = 0xfffffff0u, after = 0x10u;
    cr_assert(tas_seq_lt(before, after));
    cr_assert(tas_seq_gt(after, before));
    cr_assert(tas_seq_leq(before, after));
    cr_assert(tas_seq_geq(after, before));
    cr_assert_eq(tas_seq_max(before, after), after);
    cr_assert_eq(tas_seq_min(before, after), before);
}

Test(seq, half_the_space_apart_is_the_ordering_limit)
{
    cr_assert(tas_seq_lt(0, 0x7fffffffu));
    cr_assert(tas_seq_gt(0, 0x80000001u)); /* more than 2^31 ahead reads as behind */
}

Test(seq, range_membership_works_across_wrap)
{
    uint32_t lo = 0xffffff00u, hi = 0x100u;
    cr_assert(tas_seq_in(0xffffff00u, lo, hi));
    cr_assert(tas_seq_in(0xffffffffu, lo, hi));
    cr_assert(tas_seq_in(0, lo, hi));
    cr_assert(tas_seq_in(0xffu, lo, hi));
    cr_assert_not(tas_seq_in(0x100u, lo, hi));
    cr_assert_not(tas_seq_in(0xfffffeffu, lo, hi));
}

Test(seq, empty_range_contains_nothing)
{
    cr_assert_not(tas_seq_in(5, 5, 5));
}
