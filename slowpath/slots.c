/* slots.c - id allocators (see slots.h): FIFO, and lazy LIFO. */
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

int sp_lifo_init(struct sp_lifo *l, uint32_t n)
{
    l->n = n;
    l->fresh = 0;
    l->nstack = l->cap = 0;
    l->stack = NULL;
    l->used = calloc((n + 7) / 8 + 1, 1);
    return l->used != NULL ? 0 : -ENOMEM;
}

void sp_lifo_fini(struct sp_lifo *l)
{
    free(l->stack);
    free(l->used);
    l->stack = NULL;
    l->used = NULL;
    l->n = l->fresh = l->nstack = l->cap = 0;
}

int64_t sp_lifo_alloc(struct sp_lifo *l)
{
    uint32_t id;
    if (l->nstack > 0)
        id = l->stack[--l->nstack];
    else if (l->fresh < l->n)
        id = l->fresh++;
    else
        return -ENOSPC;
    l->used[id / 8] |= (uint8_t)(1u << (id % 8));
    return id;
}

int sp_lifo_free(struct sp_lifo *l, uint32_t id)
{
    if (id >= l->n || !(l->used[id / 8] & (1u << (id % 8))))
        return -EINVAL;
    if (l->nstack == l->cap) {
        uint32_t cap = l->cap ? 2 * l->cap : 64;
        uint32_t *p = realloc(l->stack, (size_t)cap * sizeof(*p));
        if (p == NULL)
            return -ENOMEM; /* the id stays used: lost, never reused twice */
        l->stack = p;
        l->cap = cap;
    }
    l->used[id / 8] &= (uint8_t) ~(1u << (id % 8));
    l->stack[l->nstack++] = id;
    return 0;
}

uint32_t sp_lifo_in_use(const struct sp_lifo *l)
{
    return l->fresh - l->nstack;
}
