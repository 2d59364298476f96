/* kneigh.c - the kernel's neighbours, taken into tasd's ARP table
 * (kernel_neighbours in tasd.conf, off by default), for set-ups where the
 * kernel shares tasd's link (a TAP device's host side, a bridge): what
 * the kernel resolved tasd need not ask for again, and a neighbour that
 * answers no ARP but that the kernel knows (a static entry) is reachable.
 *
 * At start a dump of the kernel's IPv4 neighbours through libnl-route-3,
 * then RTNLGRP_NEIGH notifications on a non-blocking socket in the loop.
 * A usable entry (reachable, stale, permanent, ...; a 6-byte address) for
 * an address on tasd's subnet other than tasd's own is learned as if it
 * had answered (neigh.c), completing connections waiting for it; it then
 * ages as tasd's own entries do and is renewed by the next notification.
 * A deleted or failed entry changes nothing: tasd's own ARP takes over
 * when its entry expires.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <string.h>

#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/neighbour.h>

#include "slowpath/sp.h"

#define USABLE (NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE | NUD_PERMANENT | NUD_NOARP)

static struct nl_sock *events;

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

static void on_readable(int fd, uint32_t ev, void *arg)
{
    (void)fd;
    (void)ev;
    (void)arg;
    int rc = nl_recvmsgs_default(events);
    if (rc < 0 && rc != -NLE_AGAIN) {
        static bool said;
        if (!said)
            fprintf(stderr, "tasd: kernel neighbours: %s\n", nl_geterror(rc));
        said = true;
    }
}

int sp_kneigh_init(void)
{
    struct nl_sock *dump = nl_socket_alloc();
    struct nl_cache *cache = NULL;
    int rc;

    events = nl_socket_alloc();
    if (dump == NULL || events == NULL) {
        rc = -NLE_NOMEM;
        goto fail;
    }
    nl_socket_disable_seq_check(events);
    nl_socket_modify_cb(events, NL_CB_VALID, NL_CB_CUSTOM, on_msg, NULL);
    if ((rc = nl_connect(events, NETLINK_ROUTE)) < 0 ||
        (rc = nl_socket_add_membership(events, RTNLGRP_NEIGH)) < 0 ||
        (rc = nl_socket_set_nonblocking(events)) < 0 ||
        (rc = nl_connect(dump, NETLINK_ROUTE)) < 0 ||
        (rc = rtnl_neigh_alloc_cache(dump, &cache)) < 0)
        goto fail;
    nl_cache_foreach(cache, each, NULL);
    nl_cache_free(cache);
    nl_socket_free(dump);
    if ((rc = sp_loop_add(nl_socket_get_fd(events), on_readable, NULL)) != 0) {
        fprintf(stderr, "tasd: kernel neighbours: %s\n", strerror(-rc));
        return rc;
    }
    return 0;
fail:
    fprintf(stderr, "tasd: kernel neighbours (netlink): %s\n", nl_geterror(rc));
    nl_socket_free(dump);
    nl_socket_free(events);
    events = NULL;
    return -EIO;
}

void sp_kneigh_fini(void)
{
    if (events == NULL)
        return;
    sp_loop_del(nl_socket_get_fd(events));
    nl_socket_free(events);
    events = NULL;
}
