/* parkq.h - entries that did not fit in a full queue, kept in order until
 * there is room.
 *
 * Both sides of a tas_q (queue.h) may find it full: the library posting
 * requests on a context's sp_in, the slow path posting completions on its
 * sp_out.  Neither may drop the entry or reorder it, so it is parked on a
 * private FIFO and every later entry goes behind it until the FIFO drains.
 * tas_parkq_put posts directly when nothing waits and there is room, else
 * parks; tas_parkq_flush moves what fits, in order, and stops at the first
 * entry that does not.  The FIFO is private memory of the side that owns it
 * (never in the shared region), so only its owner reads it.
 *
 * Posted entries are zero-padded to the whole body: the consumer never sees
 * bytes of an older entry.
 */
#ifndef TAS_PARKQ_H
#define TAS_PARKQ_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tas/queue.h"

#define TAS_PARK_BODY (TAS_QE_SIZE - 1)

struct tas_park_ent {
    struct tas_park_ent *next;
    uint8_t type;
    uint8_t body[TAS_PARK_BODY];
};

struct tas_parkq {
    struct tas_park_ent *head, *tail;
    uint32_t n; /* entries parked */
};

static inline bool tas_parkq_empty(const struct tas_parkq *p)
{
    return p->head == NULL;
}

/* tas_q_put_padded: publish type with len bytes of body, the rest zero;
 * false if q is full. */
static inline bool tas_q_put_padded(struct tas_q *q, uint8_t type, const void *body,
                                    size_t len)
{
    void *slot = tas_q_slot(q);
    if (slot == NULL)
        return false;
    memset(slot, 0, TAS_PARK_BODY);
    memcpy(slot, body, len);
    tas_q_push(q, type);
    return true;
}

/* tas_parkq_put: post (type, body[len]) on q, or park it behind the entries
 * already waiting.  At most cap entries are parked.  Returns 1 if posted, 0
 * if parked, -EINVAL if len is over a body, -ENOBUFS at the cap, -ENOMEM. */
static inline int tas_parkq_put(struct tas_parkq *p, struct tas_q *q, uint8_t type,
                                const void *body, size_t len, uint32_t cap)
{
    if (len > TAS_PARK_BODY)
        return -EINVAL;
    if (p->head == NULL && tas_q_put_padded(q, type, body, len))
        return 1;
    if (p->n >= cap)
        return -ENOBUFS;
    struct tas_park_ent *e = calloc(1, sizeof(*e));
    if (e == NULL)
        return -ENOMEM;
    e->type = type;
    memcpy(e->body, body, len);
    if (p->tail != NULL)
        p->tail->next = e;
    else
        p->head = e;
    p->tail = e;
    p->n++;
    return 0;
}

/* tas_parkq_flush: post parked entries on q in order until q is full.
 * Returns how many were posted. */
static inline unsigned tas_parkq_flush(struct tas_parkq *p, struct tas_q *q)
{
    unsigned posted = 0;
    while (p->head != NULL) {
        struct tas_park_ent *e = p->head;
        if (!tas_q_put_padded(q, e->type, e->body, sizeof(e->body)))
            break;
        p->head = e->next;
        if (p->head == NULL)
            p->tail = NULL;
        p->n--;
        free(e);
        posted++;
    }
    return posted;
}

/* tas_parkq_clear: forget every parked entry (the queue's consumer is gone).
 * Returns how many there were. */
static inline unsigned tas_parkq_clear(struct tas_parkq *p)
{
    unsigned n = p->n;
    while (p->head != NULL) {
        struct tas_park_ent *e = p->head;
        p->head = e->next;
        free(e);
    }
    p->tail = NULL;
    p->n = 0;
    return n;
}

#endif /* TAS_PARKQ_H */
