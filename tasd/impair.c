/* impair.c - the test-only impairment model (see impair.h): the seeded
 * PRNG, the per-packet decision and the FIFOs that hold delayed and
 * reordered packets.  Pure C, no DPDK, no clock: impair_port.c supplies
 * the packets and the time.
 */
#include <stddef.h>

#include "tasd/impair.h"

_Static_assert((TASD_IMPAIR_HOLD & (TASD_IMPAIR_HOLD - 1)) == 0,
               "TASD_IMPAIR_HOLD must be a power of two");

/* splitmix64 (Steele, Lea, Flood 2014): tiny, fast, passes BigCrush. */
uint64_t tasd_impair_rng_next(struct tasd_impair_rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void tasd_impair_rng_seed(struct tasd_impair_rng *r, uint64_t seed, unsigned stream)
{
    /* Mix seed and stream once, so neighbouring seeds or streams do not
     * start on neighbouring states. */
    struct tasd_impair_rng m = {seed ^ ((uint64_t)stream << 32 | stream)};
    r->s = tasd_impair_rng_next(&m) + stream;
}

bool tasd_impair_hit(struct tasd_impair_rng *r, uint32_t per_mille)
{
    if (per_mille == 0)
        return false;
    if (per_mille >= TASD_IMPAIR_SHARE_MAX)
        return true;
    /* The high 32 bits scaled to 0..999: bias below 1e-6. */
    return ((tasd_impair_rng_next(r) >> 32) * TASD_IMPAIR_SHARE_MAX >> 32) < per_mille;
}

unsigned tasd_impair_decide(const struct tasd_impair_dir *d, struct tasd_impair_rng *r)
{
    unsigned fate = 0;

    if (tasd_impair_hit(r, d->drop))
        return TASD_IMPAIR_DROP;
    if (tasd_impair_hit(r, d->dup))
        fate |= TASD_IMPAIR_DUP;
    if (tasd_impair_hit(r, d->delay))
        fate |= TASD_IMPAIR_DELAY;
    else if (tasd_impair_hit(r, d->reorder))
        fate |= TASD_IMPAIR_REORDER;
    return fate;
}

bool tasd_impair_fifo_push(struct tasd_impair_fifo *q, void *pkt, uint64_t due)
{
    if (q->n == TASD_IMPAIR_HOLD)
        return false;
    uint32_t i = (q->head + q->n) & (TASD_IMPAIR_HOLD - 1);
    q->pkt[i] = pkt;
    q->due[i] = due;
    q->n++;
    return true;
}

void *tasd_impair_fifo_pop_due(struct tasd_impair_fifo *q, uint64_t now)
{
    if (q->n == 0 || q->due[q->head] > now)
        return NULL;
    void *pkt = q->pkt[q->head];
    q->head = (q->head + 1) & (TASD_IMPAIR_HOLD - 1);
    q->n--;
    return pkt;
}
