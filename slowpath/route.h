/* route.h - where to send a packet for a destination: directly on our
 * subnet, through a configured gateway, or nowhere (ENETUNREACH).
 *
 * A small table kept sorted by prefix length, longest first, so the first
 * match is the longest-prefix match.  The table holds at most a few dozen
 * static routes from the configuration plus our own subnet; the slow path
 * consults it once per connection, not per packet.  Pure C, unit-tested.
 */
#ifndef SP_ROUTE_H
#define SP_ROUTE_H

#include <stdint.h>

#define SP_ROUTE_MAX 128

struct sp_route {
    uint32_t dest;  /* network order, host bits cleared */
    uint32_t mask;  /* network order */
    uint8_t prefix; /* 0..32 */
    uint32_t gw;    /* network order; 0 = directly connected */
};

struct sp_route_table {
    struct sp_route r[SP_ROUTE_MAX];
    unsigned n;
};

void sp_route_init(struct sp_route_table *t);
/* Add a route.  A gateway must be reachable through a direct route added
 * before.  0, -EINVAL (prefix > 32, gateway not on a direct route),
 * -EEXIST (same destination and prefix), -ENOSPC. */
int sp_route_add(struct sp_route_table *t, uint32_t dest, uint8_t prefix, uint32_t gw);
/* Next hop for dst (dst itself when directly connected).
 * 0 or -ENETUNREACH. */
int sp_route_lookup(const struct sp_route_table *t, uint32_t dst, uint32_t *next_hop);

#endif /* SP_ROUTE_H */
