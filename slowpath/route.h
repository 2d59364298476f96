/* route.h - where to send a packet for a destination: directly on our
 * subnet, through a gateway, or nowhere (ENETUNREACH).
 *
 * The routes are a list kept sorted by prefix length, longest first (what
 * tasctl routes shows, in the order they match), and DPDK's rte_rib (a
 * longest-prefix-match trie) over them.  Routes come from our subnet, the
 * configuration and (optionally) the kernel's table (kroutes.c), and the
 * kernel's may come and go: each change rebuilds the trie from the list
 * (the list is small and changes are rare).  Not rte_lpm: its DIR-24-8
 * table costs 64 MiB whatever the number of routes, for a lookup the slow
 * path makes once per connection.  Needs the EAL (rte_rib's memory);
 * unit-tested on one without devices.
 */
#ifndef SP_ROUTE_H
#define SP_ROUTE_H

#include <stdint.h>

#define SP_ROUTE_MAX 256

enum sp_route_origin { SP_ROUTE_SUBNET = 0, SP_ROUTE_CONFIG = 1, SP_ROUTE_KERNEL = 2 };

struct sp_route {
    uint32_t dest;  /* network order, host bits cleared */
    uint32_t mask;  /* network order */
    uint8_t prefix; /* 0..32 */
    uint8_t origin; /* enum sp_route_origin */
    uint32_t gw;    /* network order; 0 = directly connected */
};

struct rte_rib;
struct sp_route_table {
    struct sp_route r[SP_ROUTE_MAX];
    unsigned n;
    struct rte_rib *rib; /* a prefix's next hop: its index in r */
};

/* 0, or -errno of rte_rib_create (name: unique per process). */
int sp_route_init(struct sp_route_table *t, const char *name);
void sp_route_fini(struct sp_route_table *t);
/* Add a route.  A gateway must be reachable through a direct route added
 * before.  0, -EINVAL (prefix > 32, gateway not on a direct route),
 * -EEXIST (same destination and prefix), -ENOSPC. */
int sp_route_add(struct sp_route_table *t, uint32_t dest, uint8_t prefix, uint32_t gw,
                 uint8_t origin);
/* Remove the route of that destination and prefix, if it has that origin.
 * 0 or -ENOENT. */
int sp_route_del(struct sp_route_table *t, uint32_t dest, uint8_t prefix, uint8_t origin);
/* Next hop for dst (dst itself when directly connected).
 * 0 or -ENETUNREACH. */
int sp_route_lookup(const struct sp_route_table *t, uint32_t dst, uint32_t *next_hop);

#endif /* SP_ROUTE_H */
