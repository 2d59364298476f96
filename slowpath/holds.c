/* holds.c - the list of listeners and connections an application (or a
 * fork record) holds by inheritance (struct sp_holds, see fork.c): add,
 * find, delete.  Below conn_app.c, listen.c and fork.c, which all read it.
 */
#include <errno.h>
#include <stdlib.h>

#include "slowpath/sp.h"

int sp_holds_add(struct sp_holds *h, uint32_t kind, uint32_t id, uint32_t gen)
{
    if (h->n == h->cap) {
        uint32_t cap = h->cap ? 2 * h->cap : 16;
        struct sp_hold *v = realloc(h->v, cap * sizeof(*v));
        if (v == NULL)
            return -ENOMEM;
        h->v = v;
        h->cap = cap;
    }
    h->v[h->n++] = (struct sp_hold){.kind = kind, .id = id, .gen = gen};
    return 0;
}

int sp_holds_find(const struct sp_holds *h, uint32_t kind, uint32_t id, uint32_t gen)
{
    for (uint32_t i = 0; i < h->n; i++)
        if (h->v[i].kind == kind && h->v[i].id == id &&
            (kind != SP_HOLD_FLOW || h->v[i].gen == gen))
            return (int)i;
    return -1;
}

void sp_holds_del(struct sp_holds *h, int i)
{
    h->v[i] = h->v[--h->n];
}
