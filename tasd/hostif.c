/* hostif.c - configure the kernel side of the port tasd runs on.
 *
 * Without a NIC, tasd's port is a DPDK TAP device (net_tap): DPDK creates a
 * kernel interface (tas0) whose frames tasd sends and receives.  For Linux
 * programs on the same machine to reach tasd's address, that interface must
 * be up and have an address in tasd's subnet; this file does that through
 * rtnetlink (libnl-route-3), once, after the port has started.  The
 * interface disappears with the port when tasd exits, and the address with
 * it, so there is nothing to undo.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <netlink/addr.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>

#include "tasd/config.h"
#include "tasd/hostif.h"

/* libnl errors are positive NLE_* codes; map the ones we can name. */
static int nl_to_errno(int nle)
{
    switch (nle < 0 ? -nle : nle) {
    case NLE_NOMEM:
        return -ENOMEM;
    case NLE_PERM:
        return -EPERM;
    case NLE_OBJ_NOTFOUND:
    case NLE_NODEV:
        return -ENODEV;
    case NLE_EXIST:
        return -EEXIST;
    default:
        return -EIO;
    }
}

/* tasd speaks IPv4 only: keep the kernel from sending IPv6 router
 * solicitations and MLD reports to it.  Best effort. */
static void disable_ipv6(const char *ifname)
{
    char path[96];
    int fd;

    snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6", ifname);
    fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    if (write(fd, "1", 1) != 1) {
        /* not fatal: tasd drops what it does not speak */
    }
    close(fd);
}

int tasd_hostif_setup(const struct tasd_config *c, const uint8_t port_mac[6])
{
    struct nl_sock *sk = NULL;
    struct rtnl_link *link = NULL, *change = NULL;
    struct rtnl_addr *addr = NULL;
    struct nl_addr *local = NULL, *mac = NULL, *cur;
    char ip[INET_ADDRSTRLEN];
    int rc, ifindex;

    if (!c->host_if[0])
        return 0;
    inet_ntop(AF_INET, &c->host_ip, ip, sizeof(ip));

    sk = nl_socket_alloc();
    if (!sk)
        return -ENOMEM;
    rc = nl_connect(sk, NETLINK_ROUTE);
    if (rc < 0) {
        fprintf(stderr, "tasd: host_if %s: cannot open rtnetlink: %s\n", c->host_if,
                nl_geterror(rc));
        goto out;
    }
    rc = rtnl_link_get_kernel(sk, 0, c->host_if, &link);
    if (rc < 0) {
        fprintf(stderr,
                "tasd: host_if %s: no such interface (%s); is the port a TAP "
                "device named %s (--vdev net_tap0,iface=%s)?\n",
                c->host_if, nl_geterror(rc), c->host_if, c->host_if);
        goto out;
    }
    ifindex = rtnl_link_get_ifindex(link);

    change = rtnl_link_alloc();
    if (!change) {
        rc = -NLE_NOMEM;
        goto out;
    }
    rtnl_link_set_flags(change, IFF_UP);
    cur = rtnl_link_get_addr(link);
    if (cur && nl_addr_get_len(cur) == 6 &&
        !memcmp(nl_addr_get_binary_addr(cur), port_mac, 6)) {
        uint8_t other[6];
        memcpy(other, port_mac, 6);
        other[0] = (other[0] | 0x02) & ~0x01; /* locally administered unicast */
        other[5] ^= 0x01;
        mac = nl_addr_build(AF_LLC, other, sizeof(other));
        if (!mac) {
            rc = -NLE_NOMEM;
            goto out;
        }
        rtnl_link_set_addr(change, mac);
    }
    rc = rtnl_link_change(sk, link, change, 0);
    if (rc < 0) {
        fprintf(stderr, "tasd: host_if %s: cannot set it up: %s\n", c->host_if,
                nl_geterror(rc));
        goto out;
    }
    disable_ipv6(c->host_if);

    addr = rtnl_addr_alloc();
    local = nl_addr_build(AF_INET, &c->host_ip, sizeof(c->host_ip));
    if (!addr || !local) {
        rc = -NLE_NOMEM;
        goto out;
    }
    nl_addr_set_prefixlen(local, c->host_prefix);
    rtnl_addr_set_ifindex(addr, ifindex);
    rc = rtnl_addr_set_local(addr, local);
    if (rc == 0)
        rc = rtnl_addr_add(sk, addr, 0);
    if (rc == -NLE_EXIST)
        rc = 0;
    if (rc < 0) {
        fprintf(stderr, "tasd: host_if %s: cannot add address %s/%u: %s\n", c->host_if,
                ip, c->host_prefix, nl_geterror(rc));
        goto out;
    }
    fprintf(stderr, "tasd: host_if %s is up with %s/%u\n", c->host_if, ip,
            c->host_prefix);

out:
    if (local)
        nl_addr_put(local);
    if (mac)
        nl_addr_put(mac);
    if (addr)
        rtnl_addr_put(addr);
    if (change)
        rtnl_link_put(change);
    if (link)
        rtnl_link_put(link);
    nl_socket_free(sk);
    return rc < 0 ? nl_to_errno(rc) : 0;
}
