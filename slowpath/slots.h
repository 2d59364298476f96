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

/* A LIFO allocator of ids 0 .. n-1 that costs nothing until used: the most
 * recently freed id goes out first (its memory is warm and already
 * touched), and ids never used come out in increasing order.  For
 * connection slots of an application's region, where reuse is safe. */
struct sp_lifo {
    uint32_t n;      /* ids 0 .. n-1 */
    uint32_t fresh;  /* ids >= fresh were never handed out */
    uint32_t nstack; /* freed ids waiting */
    uint32_t cap;
    uint32_t *stack;
    uint8_t *used;   /* bitmap, n bits */
};
int sp_lifo_init(struct sp_lifo *l, uint32_t n);
void sp_lifo_fini(struct sp_lifo *l);
int64_t sp_lifo_alloc(struct sp_lifo *l);
int sp_lifo_free(struct sp_lifo *l, uint32_t id);
uint32_t sp_lifo_in_use(const struct sp_lifo *l);

#endif /* SP_SLOTS_H */
