/* queue.h - single-producer/single-consumer queues of 64-byte entries.
 *
 * Every queue between an application and tasd lives in the application's
 * shared-memory region and carries fixed 64-byte entries.  There are no shared
 * head/tail indices: the last byte of each entry is its type, and a type of 0
 * means "slot free".  The producer writes the body, then stores the type with
 * release ordering; the consumer loads the type with acquire ordering, copies
 * the body out, then stores 0 with release ordering.  Each side keeps its own
 * position privately (struct tas_q), so an application that scribbles on the
 * shared memory can make its own queues return garbage entries (which tasd
 * validates) but can never make tasd read or write outside the queue.
 *
 * Entries are consumed in batches by the caller looping on tas_q_peek().
 */
#ifndef TAS_QUEUE_H
#define TAS_QUEUE_H

#include <assert.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define TAS_QE_SIZE 64

/* One queue entry.  The body layout depends on the queue (see ctxq.h).
 * Writers: the producer of that queue.  Readers: its consumer. */
struct tas_qe {
    uint8_t body[TAS_QE_SIZE - 1];
    /* 0: slot free. Non-zero: entry type, written last (release) by the
     * producer, cleared (release) by the consumer after copying the body. */
    _Atomic uint8_t type;
};
static_assert(sizeof(struct tas_qe) == TAS_QE_SIZE, "queue entry is 64 bytes");

/* Private (not shared) view of one queue, kept by each side. */
struct tas_q {
    struct tas_qe *ents; /* base of the entry array (in shared memory) */
    uint32_t mask;       /* number of entries - 1 (power of two) */
    uint32_t pos;        /* next slot to produce into / consume from */
};

static inline void tas_q_init(struct tas_q *q, void *ents, uint32_t n_ents)
{
    q->ents = (struct tas_qe *)ents;
    q->mask = n_ents - 1;
    q->pos = 0;
}

/* Producer: pointer to the next free slot's body, or NULL if the queue is full.
 * Fill at most TAS_QE_SIZE - 1 bytes, then call tas_q_push(q, type). */
static inline void *tas_q_slot(struct tas_q *q)
{
    struct tas_qe *e = &q->ents[q->pos & q->mask];
    if (atomic_load_explicit(&e->type, memory_order_acquire) != 0)
        return NULL;
    return e->body;
}

static inline void tas_q_push(struct tas_q *q, uint8_t type)
{
    struct tas_qe *e = &q->ents[q->pos & q->mask];
    atomic_store_explicit(&e->type, type, memory_order_release);
    q->pos++;
}

/* Producer convenience: copy len bytes of body and publish; -1 if full. */
static inline int tas_q_put(struct tas_q *q, uint8_t type, const void *body,
                            size_t len)
{
    void *s = tas_q_slot(q);
    if (s == NULL)
        return -1;
    memcpy(s, body, len);
    tas_q_push(q, type);
    return 0;
}

/* Consumer: copy the first len bytes (at most TAS_QE_SIZE - 1) of the next
 * entry's body into out and free the slot.  Returns its type, or 0 if the
 * queue is empty.  The copy is taken before the slot is freed, so the
 * producer cannot change it under us. */
static inline uint8_t tas_q_get_n(struct tas_q *q, void *out, size_t len)
{
    struct tas_qe *e = &q->ents[q->pos & q->mask];
    uint8_t t = atomic_load_explicit(&e->type, memory_order_acquire);
    if (t == 0)
        return 0;
    memcpy(out, e->body, len < sizeof(e->body) ? len : sizeof(e->body));
    atomic_store_explicit(&e->type, 0, memory_order_release);
    q->pos++;
    return t;
}

/* ... the whole body (TAS_QE_SIZE - 1 bytes). */
static inline uint8_t tas_q_get(struct tas_q *q, void *out)
{
    return tas_q_get_n(q, out, TAS_QE_SIZE - 1);
}

/* Consumer: is there an entry waiting? (no side effects) */
static inline bool tas_q_ready(const struct tas_q *q)
{
    const struct tas_qe *e = &q->ents[q->pos & q->mask];
    return atomic_load_explicit(&e->type, memory_order_acquire) != 0;
}

#endif /* TAS_QUEUE_H */
