/* slots.h - a FIFO allocator of small integer ids (0 .. n-1).
 *
 * The slow path numbers many things with dense ids: flow ids (fp.flows
 * index), buffer slots in an application's region, fast-path context slots.
 * Freed ids go to the back of the queue, so an id is reused as late as
 * possible (a stale reference to it is then more likely to be caught by the
 * flow generation).  Double frees and out-of-range ids are refused.  Pure C,
 * no DPDK: unit-tested on its own.
 */
#ifndef SP_SLOTS_H
#define SP_SLOTS_H

#include <stdbool.h>
#include <stdint.h>

struct sp_slots {
    uint32_t n;     /* ids 0 .. n-1 */
    uint32_t nfree; /* ids currently free */
    uint32_t head;  /* next id to hand out is fifo[head % n] */
    uint32_t *fifo; /* free ids in order of release */
    uint8_t *used;  /* 1 while an id is allocated */
};

/* All n ids free, handed out in increasing order at first.  0 or -ENOMEM. */
int sp_slots_init(struct sp_slots *s, uint32_t n);
void sp_slots_fini(struct sp_slots *s);
/* The next free id, or -ENOSPC. */
int64_t sp_slots_alloc(struct sp_slots *s);
/* Give an id back; -EINVAL if it is out of range or not allocated. */
int sp_slots_free(struct sp_slots *s, uint32_t id);
bool sp_slots_used(const struct sp_slots *s, uint32_t id);

#endif /* SP_SLOTS_H */
