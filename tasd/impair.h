/* impair.h - the test-only impairment model: what happens to each packet
 * that crosses the port when tasd is told to misbehave on purpose.
 *
 * Per direction (rx, tx) a share of packets, in per mille, is dropped,
 * duplicated, delayed by a fixed time, or reordered (held back until the
 * next packet in the same direction has passed, or at most
 * TASD_IMPAIR_REORDER_MAX_US).  The choices come from a seeded PRNG
 * (splitmix64), so a given seed and the same packet sequence give the same
 * fates.  Held packets wait in small FIFOs with deadlines; a full FIFO
 * lets the packet pass unimpaired (and that is counted).
 *
 * This file has no DPDK in it: packets are opaque pointers, time is
 * microseconds from the caller, so the unit test links it alone.
 * tasd/impair_port.c hooks it into the port's bursts; config.c refuses any
 * of it unless impair.allow is set.
 */
#ifndef TASD_IMPAIR_H
#define TASD_IMPAIR_H

#include <stdbool.h>
#include <stdint.h>

#define TASD_IMPAIR_SHARE_MAX      1000u /* shares are per mille */
#define TASD_IMPAIR_DELAY_MAX_US   1000000u
#define TASD_IMPAIR_HOLD           512u  /* packets one FIFO can hold (power of 2) */
#define TASD_IMPAIR_REORDER_MAX_US 1000u /* longest a reordered packet waits */

/* What to do to one direction; the config loader fills it (uint32_t
 * fields: its table writes uint32_t). */
struct tasd_impair_dir {
    uint32_t drop;     /* per mille dropped */
    uint32_t dup;      /* per mille sent twice */
    uint32_t delay;    /* per mille held for delay_us */
    uint32_t delay_us; /* how long a delayed packet is held */
    uint32_t reorder;  /* per mille held back behind the next packet */
};

/* Does d change anything? */
static inline bool tasd_impair_dir_active(const struct tasd_impair_dir *d)
{
    return d->drop || d->dup || d->delay || d->reorder;
}

/* splitmix64: one 64-bit state, a full-period stream per seed. */
struct tasd_impair_rng {
    uint64_t s;
};

/* Seed one stream; different streams of one seed are independent
 * (stream: e.g. 2 * queue + direction). */
void tasd_impair_rng_seed(struct tasd_impair_rng *r, uint64_t seed, unsigned stream);
uint64_t tasd_impair_rng_next(struct tasd_impair_rng *r);
/* true with probability per_mille / 1000 (0 never draws: no stream use). */
bool tasd_impair_hit(struct tasd_impair_rng *r, uint32_t per_mille);

/* The fate of one packet: TASD_IMPAIR_DROP alone, or any of DUP and one of
 * DELAY / REORDER (delay wins: a delayed packet is already out of order). */
#define TASD_IMPAIR_DROP    0x1u
#define TASD_IMPAIR_DUP     0x2u
#define TASD_IMPAIR_DELAY   0x4u
#define TASD_IMPAIR_REORDER 0x8u
unsigned tasd_impair_decide(const struct tasd_impair_dir *d, struct tasd_impair_rng *r);

/* A FIFO of held packets with deadlines (microseconds).  Deadlines of one
 * FIFO never decrease (each FIFO holds one kind with one fixed wait), so
 * only the head is ever due first. */
struct tasd_impair_fifo {
    void *pkt[TASD_IMPAIR_HOLD];
    uint64_t due[TASD_IMPAIR_HOLD];
    uint32_t head, n;
};

/* Append; false (nothing changed) when full. */
bool tasd_impair_fifo_push(struct tasd_impair_fifo *q, void *pkt, uint64_t due);
/* The head if it is due at now (or any head with now = UINT64_MAX), else NULL. */
void *tasd_impair_fifo_pop_due(struct tasd_impair_fifo *q, uint64_t now);
/* Deadline of the head; UINT64_MAX if empty. */
static inline uint64_t tasd_impair_fifo_next_due(const struct tasd_impair_fifo *q)
{
    return q->n ? q->due[q->head] : UINT64_MAX;
}

/* Counters of one direction of one queue (written by its fast-path core,
 * read by the control socket). */
struct tasd_impair_stats {
    uint64_t seen; /* packets that went through the impairment */
    uint64_t dropped;
    uint64_t duplicated; /* extra copies made */
    uint64_t delayed;
    uint64_t reordered;
    uint64_t hold_full; /* should have been held, FIFO full: passed as is */
    uint64_t dup_nomem; /* rx duplicate not made: no mbuf */
    uint64_t lost;      /* could not be passed on (port refused, overflow) */
};

#endif /* TASD_IMPAIR_H */
