/* slots.c - FIFO id allocator (see slots.h). */
#include <errno.h>
#include <stdlib.h>

#include "slowpath/slots.h"

int sp_slots_init(struct sp_slots *s, uint32_t n)
{
    s->n = n;
    s->nfree = n;
    s->head = 0;
    s->fifo = calloc(n ? n : 1, sizeof(*s->fifo));
    s->used = calloc(n ? n : 1, 1);
    if (s->fifo == NULL || s->used == NULL) {
        sp_slots_fini(s);
        return -ENOMEM;
    }
    for (uint32_t i = 0; i < n; i++)
        s->fifo[i] = i;
    return 0;
}

void sp_slots_fini(struct sp_slots *s)
{
    free(s->fifo);
    free(s->used);
    s->fifo = NULL;
    s->used = NULL;
    s->n = s->nfree = 0;
}

int64_t sp_slots_alloc(struct sp_slots *s)
{
    if (s->nfree == 0)
        return -ENOSPC;
    uint32_t id = s->fifo[s->head];
    s->head = (s->head + 1 == s->n) ? 0 : s->head + 1;
    s->nfree--;
    s->used[id] = 1;
    return id;
}

int sp_slots_free(struct sp_slots *s, uint32_t id)
{
    if (id >= s->n || !s->used[id])
        return -EINVAL;
    s->used[id] = 0;
    /* The tail is head + nfree (mod n). */
    uint64_t tail = ((uint64_t)s->head + s->nfree) % s->n;
    s->fifo[tail] = id;
    s->nfree++;
    return 0;
}

bool sp_slots_used(const struct sp_slots *s, uint32_t id)
{
    return id < s->n && s->used[id];
}
