/* test_queue.c - the shared-memory SPSC queues (include/tas/queue.h) with
 * the context entry layouts of include/tas/ctxq.h. */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "tas/ctxq.h"
#include "tas/parkq.h"
#include "tas/queue.h"

#define N 8

static struct tas_qe ents[N];
static struct tas_q prod, cons;

static void setup(void)
{
    memset(ents, 0, sizeof(ents));
    tas_q_init(&prod, ents, N);
    tas_q_init(&cons, ents, N);
}

TestSuite(queue, .init = setup);

Test(queue, entries_fit_the_64_byte_slot)
{
    cr_assert_eq(sizeof(struct tas_qe), 64);
    cr_assert_leq(sizeof(struct tas_fpin), TAS_QE_BODY);
    cr_assert_leq(sizeof(struct tas_fpout), TAS_QE_BODY);
    cr_assert_leq(sizeof(struct tas_spout_new_conn), TAS_QE_BODY);
    cr_assert_leq(sizeof(struct tas_spout_connected), TAS_QE_BODY);
}

Test(queue, empty_queue_yields_nothing)
{
    uint8_t body[TAS_QE_BODY];
    cr_assert_not(tas_q_ready(&cons));
    cr_assert_eq(tas_q_get(&cons, body), 0);
    cr_assert_eq(cons.pos, 0);
}

Test(queue, full_queue_is_detected_and_frees_after_one_get)
{
    struct tas_fpin in = {.flow = 1};
    uint8_t body[TAS_QE_BODY];
    for (unsigned i = 0; i < N; i++) {
        in.flow = i;
        cr_assert_eq(tas_q_put(&prod, TAS_FPIN_UPDATE, &in, sizeof(in)), 0);
    }
    cr_assert_null(tas_q_slot(&prod));
    cr_assert_eq(tas_q_put(&prod, TAS_FPIN_UPDATE, &in, sizeof(in)), -1);
    cr_assert_eq(tas_q_get(&cons, body), TAS_FPIN_UPDATE);
    cr_assert_not_null(tas_q_slot(&prod));
    cr_assert_eq(tas_q_put(&prod, TAS_FPIN_UPDATE, &in, sizeof(in)), 0);
}

Test(queue, entries_come_out_intact_and_in_order_over_many_wraps)
{
    uint32_t next_put = 0, next_get = 0;
    srand(7);
    for (unsigned round = 0; round < 10000; round++) {
        unsigned burst = (unsigned)rand() % (N + 2);
        for (unsigned i = 0; i < burst; i++) {
            struct tas_fpout o = {.flow = next_put,
                                  .gen = ~next_put,
                                  .rx_bytes = next_put * 3,
                                  .tx_freed = next_put * 5,
                                  .flags = next_put & 1};
            if (tas_q_put(&prod, TAS_FPOUT_UPDATE, &o, sizeof(o)) != 0)
                break;
            next_put++;
        }
        burst = (unsigned)rand() % (N + 2);
        for (unsigned i = 0; i < burst; i++) {
            uint8_t body[TAS_QE_BODY];
            uint8_t t = tas_q_get(&cons, body);
            if (t == 0) {
                cr_assert_eq(next_get, next_put, "empty only when all were taken");
                break;
            }
            struct tas_fpout o;
            memcpy(&o, body, sizeof(o));
            cr_assert_eq(t, TAS_FPOUT_UPDATE);
            cr_assert_eq(o.flow, next_get);
            cr_assert_eq(o.gen, ~next_get);
            cr_assert_eq(o.rx_bytes, next_get * 3);
            cr_assert_eq(o.tx_freed, next_get * 5);
            cr_assert_eq(o.flags, next_get & 1);
            next_get++;
        }
        cr_assert_leq(next_put - next_get, N);
    }
    cr_assert_gt(next_get, 10000);
}

Test(queue, ready_reports_without_consuming)
{
    struct tas_fpin in = {.flow = 42, .tx_bytes = 9};
    uint8_t body[TAS_QE_BODY];
    tas_q_put(&prod, TAS_FPIN_UPDATE, &in, sizeof(in));
    cr_assert(tas_q_ready(&cons));
    cr_assert(tas_q_ready(&cons));
    cr_assert_eq(tas_q_get(&cons, body), TAS_FPIN_UPDATE);
    cr_assert_not(tas_q_ready(&cons));
    struct tas_fpin got;
    memcpy(&got, body, sizeof(got));
    cr_assert_eq(got.flow, 42);
    cr_assert_eq(got.tx_bytes, 9);
}

Test(queue, an_entry_read_for_its_first_bytes_frees_its_slot_and_copies_no_more)
{
    uint8_t body[TAS_QE_BODY];
    memset(body, 0xab, sizeof(body));
    tas_q_put(&prod, TAS_FPIN_UPDATE, body, sizeof(body));
    tas_q_put(&prod, TAS_FPIN_UPDATE, body, sizeof(body));
    uint8_t out[TAS_QE_BODY];
    memset(out, 0, sizeof(out));
    cr_assert_eq(tas_q_get_n(&cons, out, 8), TAS_FPIN_UPDATE);
    cr_assert_eq(out[7], 0xab);
    cr_assert_eq(out[8], 0, "nothing beyond the bytes asked for");
    cr_assert(tas_q_ready(&cons), "the second entry is next");
    cr_assert_eq(tas_q_get_n(&cons, out, 1000), TAS_FPIN_UPDATE, "at most a body");
    cr_assert_eq(out[TAS_QE_BODY - 1], 0xab);
    cr_assert_not(tas_q_ready(&cons));
    cr_assert_not_null(tas_q_slot(&prod), "both slots are free again");
}

/* ---- parkq.h: entries parked while the queue is full ---- */

static struct tas_parkq park;

static int park_put(uint32_t v, uint32_t cap)
{
    return tas_parkq_put(&park, &prod, 1, &v, sizeof(v), cap);
}

static uint32_t get_u32(void)
{
    uint8_t body[TAS_QE_BODY];
    uint32_t v;
    cr_assert_eq(tas_q_get(&cons, body), 1);
    memcpy(&v, body, sizeof(v));
    for (size_t i = sizeof(v); i < sizeof(body); i++)
        cr_assert_eq(body[i], 0, "byte %zu of the body is not zero", i);
    return v;
}

static void park_setup(void)
{
    setup();
    memset(&park, 0, sizeof(park));
}

static void park_teardown(void)
{
    tas_parkq_clear(&park);
}

TestSuite(parkq, .init = park_setup, .fini = park_teardown);

Test(parkq, entry_is_posted_directly_when_nothing_waits)
{
    cr_assert_eq(park_put(7, 4), 1);
    cr_assert(tas_parkq_empty(&park));
    cr_assert_eq(get_u32(), 7);
}

Test(parkq, full_queue_parks_and_later_entries_queue_behind_in_order)
{
    for (uint32_t i = 0; i < N; i++)
        cr_assert_eq(park_put(i, 100), 1);
    cr_assert_eq(park_put(100, 100), 0);
    cr_assert_eq(get_u32(), 0); /* room for one again */
    /* Room in the queue, but an entry waits: the new one goes behind it. */
    cr_assert_eq(park_put(101, 100), 0);
    cr_assert_eq(park.n, 2);
    cr_assert_eq(tas_parkq_flush(&park, &prod), 1, "flush stops when the queue fills");
    cr_assert_eq(park.n, 1);
    for (uint32_t i = 1; i < N; i++)
        cr_assert_eq(get_u32(), i);
    cr_assert_eq(get_u32(), 100);
    cr_assert_eq(tas_parkq_flush(&park, &prod), 1);
    cr_assert(tas_parkq_empty(&park));
    cr_assert_eq(get_u32(), 101);
    cr_assert_not(tas_q_ready(&cons));
}

Test(parkq, cap_refuses_more_parked_entries)
{
    for (uint32_t i = 0; i < N; i++)
        cr_assert_eq(park_put(i, 2), 1);
    cr_assert_eq(park_put(10, 2), 0);
    cr_assert_eq(park_put(11, 2), 0);
    cr_assert_eq(park_put(12, 2), -ENOBUFS);
    cr_assert_eq(park.n, 2);
}

Test(parkq, oversized_body_is_refused)
{
    uint8_t big[TAS_QE_SIZE] = {0};
    cr_assert_eq(tas_parkq_put(&park, &prod, 1, big, sizeof(big), 8), -EINVAL);
    cr_assert_not(tas_q_ready(&cons));
}

Test(parkq, clear_forgets_every_parked_entry)
{
    for (uint32_t i = 0; i < N + 3; i++)
        park_put(i, 100);
    cr_assert_eq(tas_parkq_clear(&park), 3);
    cr_assert(tas_parkq_empty(&park));
    cr_assert_eq(park.n, 0);
    cr_assert_null(park.tail);
}
