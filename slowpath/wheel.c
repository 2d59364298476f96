/* wheel.c - the hierarchical timing wheel of wheel.h.
 *
 * Placement: a timer that expires delta ms after the reference time goes
 * to the lowest level l whose span covers it (delta < 64^(l+1)), in the
 * slot its expiry falls in at that level's resolution.  While the wheel
 * processes millisecond t, the reference is t itself, so a timer moved
 * down from a higher level that expires at t lands in the level-0 slot
 * about to run.  Outside processing the reference is the wheel's clock and
 * a timer due already is placed one millisecond ahead.
 */
#include "slowpath/wheel.h"

#define MASK (SP_WHEEL_SLOTS - 1u)

static inline unsigned shift(unsigned level)
{
    return level * SP_WHEEL_BITS;
}

void sp_wheel_init(struct sp_wheel *w, uint64_t now)
{
    w->now = now;
    w->n = 0;
    for (unsigned l = 0; l < SP_WHEEL_LEVELS; l++)
        for (unsigned s = 0; s < SP_WHEEL_SLOTS; s++)
            w->slot[l][s] = 0;
}

static void link(struct sp_timer **head, struct sp_timer *t)
{
    t->next = *head;
    if (t->next != 0)
        t->next->pprev = &t->next;
    *head = t;
    t->pprev = head;
}

static void unlink(struct sp_timer *t)
{
    *t->pprev = t->next;
    if (t->next != 0)
        t->next->pprev = t->pprev;
    t->next = 0;
    t->pprev = 0;
}

/* Put t (expires >= ref) into its slot relative to ref. */
static void place(struct sp_wheel *w, struct sp_timer *t, uint64_t ref)
{
    uint64_t delta = t->expires - ref;
    uint64_t at = t->expires;
    unsigned l = 0;
    while (l + 1 < SP_WHEEL_LEVELS && delta >> shift(l + 1) != 0)
        l++;
    if (delta >> shift(l + 1) != 0) /* beyond the top level: park at its end */
        at = ref + ((uint64_t)1 << shift(l + 1)) - 1;
    link(&w->slot[l][(at >> shift(l)) & MASK], t);
}

void sp_wheel_arm(struct sp_wheel *w, struct sp_timer *t, uint64_t expires)
{
    if (sp_timer_armed(t))
        unlink(t);
    else
        w->n++;
    t->expires = expires > w->now ? expires : w->now + 1;
    place(w, t, w->now);
}

void sp_wheel_cancel(struct sp_wheel *w, struct sp_timer *t)
{
    if (!sp_timer_armed(t))
        return;
    unlink(t);
    w->n--;
}

/* Spread slot s of level l over the levels below, relative to t. */
static void cascade(struct sp_wheel *w, unsigned l, unsigned s, uint64_t t)
{
    struct sp_timer *list = w->slot[l][s];
    w->slot[l][s] = 0;
    while (list != 0) {
        struct sp_timer *x = list;
        list = x->next;
        x->next = 0;
        x->pprev = 0;
        if (x->expires < t) /* cannot happen: a slot comes down before its time */
            x->expires = t;
        place(w, x, t);
    }
}

void sp_wheel_advance(struct sp_wheel *w, uint64_t now, sp_timer_fn fn, void *arg)
{
    while (w->now < now) {
        uint64_t t = w->now + 1;
        if (w->n == 0) { /* nothing to move or fire: jump */
            w->now = now;
            return;
        }
        /* Level l's slot for t comes down when every level below wraps. */
        for (unsigned l = 1; l < SP_WHEEL_LEVELS && (t & (((uint64_t)1 << shift(l)) - 1)) == 0;
             l++)
            cascade(w, l, (unsigned)(t >> shift(l)) & MASK, t);
        w->now = t;
        struct sp_timer *list = w->slot[0][t & MASK];
        if (list == 0)
            continue;
        /* Detach the slot so that fn may arm timers into it for later. */
        w->slot[0][t & MASK] = 0;
        list->pprev = &list;
        while (list != 0) {
            struct sp_timer *x = list;
            unlink(x);
            w->n--;
            if (x->expires > t) {
                /* Parked beyond the top level, or placed a lap early: not
                 * due yet (cannot happen below the horizon; kept safe). */
                w->n++;
                place(w, x, t);
                continue;
            }
            fn(x, arg);
        }
    }
}

uint64_t sp_wheel_next(const struct sp_wheel *w)
{
    if (w->n == 0)
        return UINT64_MAX;
    /* Level 0 holds exact expiries; a timer in a slot of level l expires no
     * earlier than the moment that slot comes down.  The first non-empty
     * slot ahead of each level's position bounds the first expiry. */
    uint64_t best = UINT64_MAX;
    for (unsigned l = 0; l < SP_WHEEL_LEVELS; l++) {
        uint64_t p = w->now >> shift(l);
        for (uint64_t i = 1; i <= SP_WHEEL_SLOTS; i++) {
            uint64_t at = (p + i) << shift(l);
            if (at >= best)
                break;
            if (w->slot[l][(p + i) & MASK] != 0) {
                best = at;
                break;
            }
        }
    }
    return best;
}
