/* route.c - the routing table: a sorted list and an rte_rib over it (see
 * route.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_memory.h>
#include <rte_rib.h>

#include "slowpath/route.h"

static uint32_t prefix_mask(uint8_t prefix)
{
    return prefix == 0 ? 0 : htonl(~0u << (32 - prefix));
}

int sp_route_init(struct sp_route_table *t, const char *name)
{
    struct rte_rib_conf cfg = {.ext_sz = 0, .max_nodes = 2 * SP_ROUTE_MAX};
    memset(t, 0, sizeof(*t));
    t->rib = rte_rib_create(name, SOCKET_ID_ANY, &cfg);
    if (t->rib == NULL)
        return rte_errno != 0 ? -rte_errno : -ENOMEM;
    return 0;
}

void sp_route_fini(struct sp_route_table *t)
{
    rte_rib_free(t->rib);
    t->rib = NULL;
    t->n = 0;
}

/* Take the list's prefixes out of the trie (before the list changes). */
static void clear(struct sp_route_table *t)
{
    for (unsigned i = 0; i < t->n; i++)
        rte_rib_remove(t->rib, ntohl(t->r[i].dest), t->r[i].prefix);
}

/* The list's prefixes into the trie: the next hop of r[i]'s is i. */
static int rebuild(struct sp_route_table *t)
{
    for (unsigned i = 0; i < t->n; i++) {
        struct rte_rib_node *n =
            rte_rib_insert(t->rib, ntohl(t->r[i].dest), t->r[i].prefix);
        if (n == NULL || rte_rib_set_nh(n, i) != 0)
            return rte_errno != 0 ? -rte_errno : -ENOSPC;
    }
    return 0;
}

int sp_route_lookup(const struct sp_route_table *t, uint32_t dst, uint32_t *next_hop)
{
    struct rte_rib_node *n = t->rib != NULL ? rte_rib_lookup(t->rib, ntohl(dst)) : NULL;
    uint64_t i;
    if (n == NULL || rte_rib_get_nh(n, &i) != 0 || i >= t->n)
        return -ENETUNREACH;
    *next_hop = t->r[i].gw != 0 ? t->r[i].gw : dst;
    return 0;
}

int sp_route_add(struct sp_route_table *t, uint32_t dest, uint8_t prefix, uint32_t gw,
                 uint8_t origin)
{
    if (prefix > 32)
        return -EINVAL;
    uint32_t mask = prefix_mask(prefix);
    dest &= mask;
    if (gw != 0) {
        uint32_t nh;
        if (sp_route_lookup(t, gw, &nh) != 0 || nh != gw)
            return -EINVAL; /* not on a directly connected network */
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
    clear(t);
    memmove(&t->r[pos + 1], &t->r[pos], sizeof(t->r[0]) * (t->n - pos));
    t->r[pos] = (struct sp_route){
        .dest = dest, .mask = mask, .prefix = prefix, .origin = origin, .gw = gw};
    t->n++;
    return rebuild(t);
}

int sp_route_del(struct sp_route_table *t, uint32_t dest, uint8_t prefix, uint8_t origin)
{
    dest &= prefix_mask(prefix);
    for (unsigned i = 0; i < t->n; i++) {
        if (t->r[i].dest != dest || t->r[i].prefix != prefix || t->r[i].origin != origin)
            continue;
        clear(t);
        memmove(&t->r[i], &t->r[i + 1], sizeof(t->r[0]) * (t->n - i - 1));
        t->n--;
        return rebuild(t);
    }
    return -ENOENT;
}
