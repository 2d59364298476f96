/* route.c - static routing table with longest-prefix match (see route.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "slowpath/route.h"

static uint32_t prefix_mask(uint8_t prefix)
{
    return prefix == 0 ? 0 : htonl(~0u << (32 - prefix));
}

void sp_route_init(struct sp_route_table *t)
{
    memset(t, 0, sizeof(*t));
}

/* Longest-prefix match among the routes; NULL if none. */
static const struct sp_route *match(const struct sp_route_table *t, uint32_t dst)
{
    for (unsigned i = 0; i < t->n; i++)
        if ((dst & t->r[i].mask) == t->r[i].dest)
            return &t->r[i];
    return NULL;
}

int sp_route_add(struct sp_route_table *t, uint32_t dest, uint8_t prefix, uint32_t gw)
{
    if (prefix > 32)
        return -EINVAL;
    uint32_t mask = prefix_mask(prefix);
    dest &= mask;
    if (gw != 0) {
        const struct sp_route *via = match(t, gw);
        if (via == NULL || via->gw != 0)
            return -EINVAL;
    }
    unsigned pos = t->n;
    for (unsigned i = 0; i < t->n; i++) {
        if (t->r[i].dest == dest && t->r[i].prefix == prefix)
            return -EEXIST;
        if (pos == t->n && t->r[i].prefix < prefix)
            pos = i;
    }
    if (t->n == SP_ROUTE_MAX)
        return -ENOSPC;
    memmove(&t->r[pos + 1], &t->r[pos], sizeof(t->r[0]) * (t->n - pos));
    t->r[pos] = (struct sp_route){.dest = dest, .mask = mask, .prefix = prefix, .gw = gw};
    t->n++;
    return 0;
}

int sp_route_lookup(const struct sp_route_table *t, uint32_t dst, uint32_t *next_hop)
{
    const struct sp_route *r = match(t, dst);
    if (r == NULL)
        return -ENETUNREACH;
    *next_hop = r->gw != 0 ? r->gw : dst;
    return 0;
}
