/* test_libtas_ring.c - copies in and out of a connection ring (libtas/core/ring.c). */
#include <criterion/criterion.h>
#include <string.h>

#include "libtas/core/core.h"

Test(ring, read_without_wrap_copies_the_run)
{
    uint8_t ring[10] = "0123456789", out[4] = {0};
    struct iovec v = {out, sizeof(out)};
    cr_assert_eq(tc_ring_read(ring, 10, 2, &v, 1, 0, 4), 4);
    cr_assert_eq(memcmp(out, "2345", 4), 0);
}

Test(ring, read_wraps_around_the_end)
{
    uint8_t ring[10] = "0123456789", out[5] = {0};
    struct iovec v = {out, sizeof(out)};
    cr_assert_eq(tc_ring_read(ring, 10, 8, &v, 1, 0, 5), 5);
    cr_assert_eq(memcmp(out, "89012", 5), 0);
}

Test(ring, read_spreads_over_iovecs_and_skips_what_was_copied)
{
    uint8_t ring[7] = {'a', 'b', 'c', 'd', 'e', 'f', 'g'}, x[2], y[3], z[4];
    struct iovec v[3] = {{x, 2}, {y, 3}, {z, 4}};
    /* 3 bytes already copied into x,y by an earlier round; 5 more now */
    cr_assert_eq(tc_ring_read(ring, 7, 5, v, 3, 3, 5), 5);
    cr_assert_eq(memcmp(y + 1, "fg", 2), 0);
    cr_assert_eq(memcmp(z, "abc", 3), 0);
}

Test(ring, read_stops_when_the_iovecs_are_full)
{
    uint8_t ring[8] = "abcdefgh", out[3];
    struct iovec v = {out, 3};
    cr_assert_eq(tc_ring_read(ring, 8, 0, &v, 1, 0, 8), 3);
}

Test(ring, read_into_null_discards)
{
    uint8_t ring[8] = {0};
    cr_assert_eq(tc_ring_read(ring, 8, 3, NULL, 0, 0, 5), 5);
}

Test(ring, write_wraps_around_the_end)
{
    uint8_t ring[6] = {0};
    const char *src = "wxyz";
    struct iovec v = {(void *)src, 4};
    cr_assert_eq(tc_ring_write(ring, 6, 4, &v, 1, 0, 4), 4);
    cr_assert_eq(memcmp(ring, "yz", 2), 0);
    cr_assert_eq(memcmp(ring + 4, "wx", 2), 0);
}

Test(ring, write_never_exceeds_the_ring)
{
    uint8_t ring[4] = {0}, src[10] = "ABCDEFGHIJ";
    struct iovec v = {src, 10};
    cr_assert_eq(tc_ring_write(ring, 4, 1, &v, 1, 0, 10), 4);
}

Test(ring, a_round_trip_through_an_odd_sized_ring_keeps_the_bytes)
{
    uint8_t ring[997], in[5000], out[5000];
    uint32_t wpos = 0, rpos = 0;
    for (size_t i = 0; i < sizeof(in); i++)
        in[i] = (uint8_t)(i * 13);
    size_t done = 0;
    while (done < sizeof(in)) {
        size_t n = sizeof(in) - done < 600 ? sizeof(in) - done : 600;
        struct iovec w = {in, sizeof(in)}, r = {out, sizeof(out)};
        cr_assert_eq(tc_ring_write(ring, sizeof(ring), wpos, &w, 1, done, n), n);
        wpos = tc_ring_advance(wpos, (uint32_t)n, sizeof(ring));
        cr_assert_eq(tc_ring_read(ring, sizeof(ring), rpos, &r, 1, done, n), n);
        rpos = tc_ring_advance(rpos, (uint32_t)n, sizeof(ring));
        done += n;
    }
    cr_assert_eq(memcmp(in, out, sizeof(in)), 0);
}

Test(ring, advance_wraps_without_overflow)
{
    cr_assert_eq(tc_ring_advance(9, 3, 10), 2);
    cr_assert_eq(tc_ring_advance(0xfffffff0u, 0x20, 0xfffffff5u), 0x1b);
}

Test(ring, iov_len_adds_up_and_saturates)
{
    struct iovec v[2] = {{NULL, 5}, {NULL, 7}};
    cr_assert_eq(tc_iov_len(v, 2), 12);
    struct iovec big[2] = {{NULL, SIZE_MAX / 2}, {NULL, SIZE_MAX / 2}};
    cr_assert_eq(tc_iov_len(big, 2), SIZE_MAX / 2);
}
