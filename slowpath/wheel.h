/* wheel.h - the slow path's timers: a hierarchical timing wheel.
 *
 * Every connection timer (handshake retransmission, RTO and tail loss
 * probe, keepalive, TIME_WAIT and orphan expiry, TCP_INFO refresh) is one
 * struct sp_timer embedded in its record.  Arming, re-arming and
 * cancelling are O(1) (a doubly linked slot list); expiry costs O(1) per
 * timer plus one move per level it falls through, so nothing is paid per
 * idle connection per tick.  Time is in milliseconds (the slow path's
 * clock).
 *
 * SP_WHEEL_LEVELS levels of 64 slots; a slot of level l spans 64^l ms, so
 * level 0 holds the next 64 ms at 1 ms resolution, level 1 the next 4 s at
 * 64 ms, ... and six levels reach two years.  When the level-0 position
 * wraps, the next slot of level 1 is spread over level 0 (and so on up),
 * as in the classic BSD/Linux cascading wheel.  A timer fires at the first
 * advance that reaches its expiry, never before.
 *
 * Why not DPDK's rte_timer: it keeps a skip list per lcore (O(log n)
 * insertion, about 100 bytes per timer), needs rte_timer_manage() from an
 * EAL lcore, and its callbacks may not free their own timer's memory
 * safely mid-list; the slow path wants O(1) work per connection event,
 * 24 bytes per timer, and callbacks that free records.  Pure C, no DPDK:
 * unit-tested on its own (tests/unit/test_sp_wheel.c).
 */
#ifndef SP_WHEEL_H
#define SP_WHEEL_H

#include <stdbool.h>
#include <stdint.h>

#define SP_WHEEL_BITS   6
#define SP_WHEEL_SLOTS  (1u << SP_WHEEL_BITS)
#define SP_WHEEL_LEVELS 6

struct sp_timer {
    struct sp_timer *next;
    struct sp_timer **pprev; /* NULL while not armed */
    uint64_t expires;        /* ms */
};

struct sp_wheel {
    uint64_t now; /* every timer that expires at or before now has fired */
    uint32_t n;   /* armed timers */
    struct sp_timer *slot[SP_WHEEL_LEVELS][SP_WHEEL_SLOTS];
};

typedef void (*sp_timer_fn)(struct sp_timer *t, void *arg);

/* An empty wheel whose clock reads now. */
void sp_wheel_init(struct sp_wheel *w, uint64_t now);

static inline void sp_timer_init(struct sp_timer *t)
{
    t->next = 0;
    t->pprev = 0;
    t->expires = 0;
}

static inline bool sp_timer_armed(const struct sp_timer *t)
{
    return t->pprev != 0;
}

/* Arm t to fire at expires (re-arms it if armed).  A time at or before the
 * wheel's clock fires at the next advance. */
void sp_wheel_arm(struct sp_wheel *w, struct sp_timer *t, uint64_t expires);

/* Disarm t; nothing if it is not armed. */
void sp_wheel_cancel(struct sp_wheel *w, struct sp_timer *t);

/* Move the clock to now, calling fn for every timer that expires on the
 * way, earliest first (timers of the same millisecond in no set order).
 * A timer is disarmed before its fn runs; fn may arm or cancel any timer,
 * and free the one it was called for.  A timer fn arms at or before now
 * fires at the next advance, not in this one. */
void sp_wheel_advance(struct sp_wheel *w, uint64_t now, sp_timer_fn fn, void *arg);

/* The earliest time at which an advance can have work: never later than
 * the first expiry, possibly earlier (a level's slot to spread).
 * UINT64_MAX when no timer is armed. */
uint64_t sp_wheel_next(const struct sp_wheel *w);

#endif /* SP_WHEEL_H */
