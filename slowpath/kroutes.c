/* kroutes.c - the kernel's IPv4 routes, mirrored into tasd's table
 * (kernel_routes in tasd.conf, off by default), as Onload and VMA follow
 * the kernel's routing.
 *
 * At start a dump of the kernel's main table (in tasd's network
 * namespace) through libnl-route-3, then its change notifications
 * (RTNLGRP_IPV4_ROUTE) in the slow path's loop (nlwatch.c).  A unicast route through a
 * gateway on one of tasd's directly connected networks is added as a "kernel" route
 * (route.c); one that goes away, or is replaced, is removed or changed.  Routes without a
 * gateway (the kernel's own links) and gateways tasd cannot reach directly
 * are ignored and counted.  Routes of the configuration win over the
 * kernel's of the same prefix.
 */
#include <arpa/inet.h>
#include <linux/rtnetlink.h>
#include <string.h>

#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/nexthop.h>
#include <netlink/route/route.h>

#include "slowpath/sp.h"

static struct sp_nlwatch watch;

/* A route of the kernel as tasd takes it: 0 with dest/prefix/gw, or
 * -EINVAL (not one tasd follows). */
static int route_of(struct rtnl_route *r, uint32_t *dest, uint8_t *prefix, uint32_t *gw)
{
    if (rtnl_route_get_family(r) != AF_INET || rtnl_route_get_table(r) != RT_TABLE_MAIN ||
        rtnl_route_get_type(r) != RTN_UNICAST || rtnl_route_get_nnexthops(r) != 1)
        return -EINVAL;
    struct nl_addr *d = rtnl_route_get_dst(r);
    struct nl_addr *g = rtnl_route_nh_get_gateway(rtnl_route_nexthop_n(r, 0));
    if (d == NULL || g == NULL || nl_addr_get_len(g) != 4 ||
        (nl_addr_get_len(d) != 4 && nl_addr_get_len(d) != 0) || nl_addr_get_prefixlen(d) > 32)
        return -EINVAL;
    *dest = 0;
    if (nl_addr_get_len(d) == 4)
        memcpy(dest, nl_addr_get_binary_addr(d), 4);
    *prefix = (uint8_t)nl_addr_get_prefixlen(d);
    memcpy(gw, nl_addr_get_binary_addr(g), 4);
    return 0;
}

static void apply(struct rtnl_route *r, bool add)
{
    uint32_t dest, gw;
    uint8_t prefix;
    if (route_of(r, &dest, &prefix, &gw) != 0) {
        sp.cnt.kroutes_ignored++;
        return;
    }
    if (!add) {
        if (sp_route_del(&sp.routes, dest, prefix, SP_ROUTE_KERNEL) == 0)
            sp.cnt.kroutes_removed++;
        return;
    }
    /* A replaced route: the new gateway. */
    sp_route_del(&sp.routes, dest, prefix, SP_ROUTE_KERNEL);
    int rc = sp_route_add(&sp.routes, dest, prefix, gw, SP_ROUTE_KERNEL);
    if (rc == 0)
        sp.cnt.kroutes_added++;
    else
        sp.cnt.kroutes_ignored++; /* gateway not direct, or a configured prefix */
}

static void each_route(struct nl_object *o, void *arg)
{
    (void)arg;
    apply((struct rtnl_route *)o, true);
}

struct parsed {
    bool add;
};

static void parsed_route(struct nl_object *o, void *arg)
{
    apply((struct rtnl_route *)o, ((struct parsed *)arg)->add);
}

static int on_msg(struct nl_msg *m, void *arg)
{
    (void)arg;
    int type = nlmsg_hdr(m)->nlmsg_type;
    struct parsed p = {.add = type == RTM_NEWROUTE};
    if (type == RTM_NEWROUTE || type == RTM_DELROUTE)
        nl_msg_parse(m, parsed_route, &p);
    return NL_OK;
}

static int dump(struct nl_sock *sk, struct nl_cache **cache)
{
    return rtnl_route_alloc_cache(sk, AF_INET, 0, cache);
}

int sp_kroutes_init(void)
{
    return sp_nlwatch_start(&watch, "kernel routes", RTNLGRP_IPV4_ROUTE, dump, each_route,
                            on_msg);
}

void sp_kroutes_fini(void)
{
    sp_nlwatch_stop(&watch);
}
