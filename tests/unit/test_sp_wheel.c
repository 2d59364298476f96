/* test_sp_wheel.c - the slow path's hierarchical timing wheel: timers fire
 * at their millisecond, never early, in order of expiry, whatever their
 * distance; arming again, cancelling and freeing from a callback work. */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "slowpath/wheel.h"

struct rec {
    struct sp_timer t;
    uint64_t want; /* when it should fire */
    uint64_t fired_at;
    int fired;
};

static struct sp_wheel w;
static uint64_t last_fire; /* expiry order check */
static int n_fired;

static void on_fire(struct sp_timer *t, void *arg)
{
    struct rec *r = (struct rec *)t;
    (void)arg;
    r->fired++;
    r->fired_at = w.now;
    cr_assert_geq(w.now, last_fire, "fired out of order: %lu after %lu",
                  (unsigned long)w.now, (unsigned long)last_fire);
    last_fire = w.now;
    n_fired++;
}

static void setup(void)
{
    sp_wheel_init(&w, 1000);
    last_fire = 0;
    n_fired = 0;
}

TestSuite(wheel, .init = setup);

/* Advance one millisecond at a time, as the slow path's tick does. */
static void run_to(uint64_t t)
{
    while (w.now < t)
        sp_wheel_advance(&w, w.now + 1, on_fire, NULL);
}

Test(wheel, timer_fires_at_its_millisecond_and_not_before)
{
    struct rec r = {0};
    sp_timer_init(&r.t);
    sp_wheel_arm(&w, &r.t, 1010);
    run_to(1009);
    cr_assert_eq(r.fired, 0);
    run_to(1010);
    cr_assert_eq(r.fired, 1);
    cr_assert_eq(r.fired_at, 1010);
    cr_assert(!sp_timer_armed(&r.t));
    cr_assert_eq(w.n, 0);
}

Test(wheel, timer_due_already_fires_at_the_next_advance)
{
    struct rec r = {0};
    sp_timer_init(&r.t);
    sp_wheel_arm(&w, &r.t, 3); /* in the past */
    sp_wheel_advance(&w, 1001, on_fire, NULL);
    cr_assert_eq(r.fired, 1);
}

Test(wheel, far_timers_fire_exactly_on_time_across_every_level)
{
    /* Distances that cross each level boundary, and one beyond two years
     * is not needed: 64^5 ms is 34 years. */
    static const uint64_t d[] = {1,       63,       64,       65,       4095,    4096,
                                 4097,    60000,    262143,   262144,   262145,  7200000,
                                 16777215, 16777216, 16777217, 1073741825};
    struct rec r[sizeof(d) / sizeof(d[0])];
    for (unsigned i = 0; i < sizeof(d) / sizeof(d[0]); i++) {
        sp_timer_init(&r[i].t);
        r[i].fired = 0;
        r[i].want = 1000 + d[i];
        sp_wheel_arm(&w, &r[i].t, r[i].want);
    }
    /* Jump between the interesting points, checking none fired early. */
    for (unsigned i = 0; i < sizeof(d) / sizeof(d[0]); i++) {
        for (unsigned j = 0; j < sizeof(d) / sizeof(d[0]); j++)
            if (r[j].want > w.now)
                cr_assert_eq(r[j].fired, 0);
        /* advance in big steps, then the last millisecond alone */
        sp_wheel_advance(&w, r[i].want - 1, on_fire, NULL);
        cr_assert_eq(r[i].fired, 0, "distance %lu fired early", (unsigned long)d[i]);
        sp_wheel_advance(&w, r[i].want, on_fire, NULL);
        cr_assert_eq(r[i].fired, 1, "distance %lu did not fire", (unsigned long)d[i]);
        cr_assert_eq(r[i].fired_at, r[i].want);
    }
    cr_assert_eq(w.n, 0);
}

Test(wheel, many_timers_in_one_slot_all_fire)
{
    enum { N = 10000 };
    struct rec *r = calloc(N, sizeof(*r));
    cr_assert_not_null(r);
    for (unsigned i = 0; i < N; i++) {
        sp_timer_init(&r[i].t);
        sp_wheel_arm(&w, &r[i].t, 61000); /* all in the same level-1 slot */
    }
    cr_assert_eq(w.n, N);
    sp_wheel_advance(&w, 60999, on_fire, NULL);
    cr_assert_eq(n_fired, 0);
    sp_wheel_advance(&w, 61000, on_fire, NULL);
    cr_assert_eq(n_fired, N);
    for (unsigned i = 0; i < N; i++)
        cr_assert_eq(r[i].fired_at, 61000);
    free(r);
}

Test(wheel, random_timers_fire_in_expiry_order_at_their_time)
{
    enum { N = 5000 };
    struct rec *r = calloc(N, sizeof(*r));
    cr_assert_not_null(r);
    srand(7);
    for (unsigned i = 0; i < N; i++) {
        sp_timer_init(&r[i].t);
        r[i].want = 1000 + 1 + (uint64_t)rand() % 300000;
        sp_wheel_arm(&w, &r[i].t, r[i].want);
    }
    /* uneven steps, as a slow path that sleeps when idle takes them */
    uint64_t t = 1000;
    while (t < 301001) {
        t += 1 + (uint64_t)rand() % 700;
        sp_wheel_advance(&w, t, on_fire, NULL);
    }
    for (unsigned i = 0; i < N; i++) {
        cr_assert_eq(r[i].fired, 1);
        /* fired at the first advance that reached it */
        cr_assert_geq(r[i].fired_at, r[i].want);
    }
    cr_assert_eq(n_fired, N);
    free(r);
}

Test(wheel, cancelled_timer_never_fires_and_rearm_moves_it)
{
    struct rec a = {0}, b = {0};
    sp_timer_init(&a.t);
    sp_timer_init(&b.t);
    sp_wheel_arm(&w, &a.t, 1500);
    sp_wheel_arm(&w, &b.t, 1500);
    sp_wheel_cancel(&w, &a.t);
    sp_wheel_cancel(&w, &a.t); /* twice: nothing */
    sp_wheel_arm(&w, &b.t, 90000); /* re-armed later */
    cr_assert_eq(w.n, 1);
    run_to(1500);
    cr_assert_eq(a.fired, 0);
    cr_assert_eq(b.fired, 0);
    sp_wheel_advance(&w, 90000, on_fire, NULL);
    cr_assert_eq(b.fired, 1);
    cr_assert_eq(b.fired_at, 90000);
}

/* Callbacks that re-arm themselves, cancel a neighbour of the same slot,
 * and free their own record. */
static struct rec *victim;
static int rearms;

static void on_fire_busy(struct sp_timer *t, void *arg)
{
    struct rec *r = (struct rec *)t;
    (void)arg;
    r->fired++;
    r->fired_at = w.now;
    if (victim != NULL && victim != r) {
        sp_wheel_cancel(&w, &victim->t);
        victim = NULL;
    }
    if (r->want == 1 && rearms < 3) { /* periodic: every 10 ms */
        rearms++;
        sp_wheel_arm(&w, &r->t, w.now + 10);
    } else if (r->want == 2) {
        sp_wheel_arm(&w, &r->t, w.now); /* due now: the next advance */
    } else if (r->want == 3) {
        free(r);
    }
}

Test(wheel, callback_may_rearm_cancel_and_free)
{
    struct rec per = {.want = 1}, now = {.want = 2}, other = {0};
    struct rec *heap = calloc(1, sizeof(*heap));
    cr_assert_not_null(heap);
    heap->want = 3;
    sp_timer_init(&per.t);
    sp_timer_init(&now.t);
    sp_timer_init(&other.t);
    sp_timer_init(&heap->t);
    sp_wheel_arm(&w, &per.t, 1005);
    sp_wheel_arm(&w, &other.t, 1005);
    sp_wheel_arm(&w, &heap->t, 1005);
    sp_wheel_arm(&w, &now.t, 1100);
    victim = &other; /* the first of the slot to fire cancels it */
    rearms = 0;
    sp_wheel_advance(&w, 1005, on_fire_busy, NULL);
    /* per and heap fired (heap freed itself); other was cancelled unless
     * it came first, in which case it cancelled nobody and fired */
    cr_assert_eq(per.fired, 1);
    cr_assert(other.fired == 0 || victim == NULL);
    sp_wheel_advance(&w, 1035, on_fire_busy, NULL);
    cr_assert_eq(per.fired, 4, "periodic timer fired %d times", per.fired);
    cr_assert_eq(per.fired_at, 1035);
    sp_wheel_advance(&w, 1100, on_fire_busy, NULL);
    cr_assert_eq(now.fired, 1);
    cr_assert(sp_timer_armed(&now.t)); /* re-armed for "now": not yet */
    sp_wheel_advance(&w, 1101, on_fire_busy, NULL);
    cr_assert_eq(now.fired, 2);
}

Test(wheel, next_is_never_later_than_the_first_expiry)
{
    struct rec r = {0};
    cr_assert_eq(sp_wheel_next(&w), UINT64_MAX);
    sp_timer_init(&r.t);
    sp_wheel_arm(&w, &r.t, 1020);
    cr_assert_eq(sp_wheel_next(&w), 1020);
    sp_wheel_arm(&w, &r.t, 500000);
    uint64_t n = sp_wheel_next(&w);
    cr_assert_leq(n, 500000);
    cr_assert_gt(n, 1000);
    /* following next() from advance to advance reaches it without firing early */
    int steps = 0;
    while (r.fired == 0 && steps++ < 100000) {
        n = sp_wheel_next(&w);
        cr_assert_leq(n, 500000);
        sp_wheel_advance(&w, n, on_fire, NULL);
    }
    cr_assert_eq(r.fired, 1);
    cr_assert_eq(r.fired_at, 500000);
    cr_assert_lt(steps, 20, "next() took %d steps", steps);
}
