/* kneigh.c - the kernel's neighbours, taken into tasd's ARP table
 * (kernel_neighbours in tasd.conf, off by default), for set-ups where the
 * kernel shares tasd's link (a TAP device's host side, a bridge): what
 * the kernel resolved tasd need not ask for again, and a neighbour that
 * answers no ARP but that the kernel knows (a static entry) is reachable.
 *
 * At start a dump of the kernel's neighbours through libnl-route-3, then
 * RTNLGRP_NEIGH notifications in the slow path's loop (nlwatch.c).
 * A usable entry (reachable, stale, permanent, ...; a 6-byte address) for
 * an address on tasd's subnet other than tasd's own is learned as if it
 * had answered (neigh.c), completing connections waiting for it; it then
 * ages as tasd's own entries do and is renewed by the next notification.
 * A deleted or failed entry changes nothing: tasd's own ARP takes over
 * when its entry expires.
 */
#include <arpa/inet.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <string.h>

#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/neighbour.h>

#include "slowpath/sp.h"

#define USABLE (NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE | NUD_PERMANENT | NUD_NOARP)

static struct sp_nlwatch watch;

static void take(struct rtnl_neigh *n)
{
    struct nl_addr *d = rtnl_neigh_get_dst(n), *l = rtnl_neigh_get_lladdr(n);
    uint32_t ip, mask = sp.prefix == 0 ? 0 : htonl(~0u << (32 - sp.prefix));
    static const uint8_t zero[6];
    if (rtnl_neigh_get_family(n) != AF_INET || !(rtnl_neigh_get_state(n) & USABLE) ||
        d == NULL || l == NULL || nl_addr_get_len(d) != 4 || nl_addr_get_len(l) != 6 ||
        !memcmp(nl_addr_get_binary_addr(l), zero, 6)) {
        sp.cnt.kneigh_ignored++;
        return;
    }
    memcpy(&ip, nl_addr_get_binary_addr(d), 4);
    if ((ip & mask) != (sp.ip & mask) || ip == sp.ip) {
        sp.cnt.kneigh_ignored++;
        return;
    }
    if (sp_neigh_learn(ip, nl_addr_get_binary_addr(l)) == 0)
        sp.cnt.kneigh_learned++;
}

static void each(struct nl_object *o, void *arg)
{
    (void)arg;
    take((struct rtnl_neigh *)o);
}

static int on_msg(struct nl_msg *m, void *arg)
{
    (void)arg;
    if (nlmsg_hdr(m)->nlmsg_type == RTM_NEWNEIGH)
        nl_msg_parse(m, each, NULL);
    return NL_OK;
}

int sp_kneigh_init(void)
{
    return sp_nlwatch_start(&watch, "kernel neighbours", RTNLGRP_NEIGH,
                            rtnl_neigh_alloc_cache, each, on_msg);
}

void sp_kneigh_fini(void)
{
    sp_nlwatch_stop(&watch);
}
