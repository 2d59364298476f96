/* addr.c - socket addresses as libtas sees them: tasd serves IPv4, and an
 * AF_INET6 socket reaches it through IPv4-mapped addresses (a dual-stack
 * socket, unless IPV6_V6ONLY).  Converting both ways, copying an address
 * out to the application, and which destinations are loopback (the
 * kernel's).  Calls nothing of the socket layers above it but libc.
 */
#include <arpa/inet.h>
#include <string.h>

#include "libtas/posix/posix.h"

socklen_t tp_sock_addr(bool v6, const struct sockaddr_in *sin,
                       struct sockaddr_storage *out)
{
    memset(out, 0, sizeof(*out));
    if (!v6) {
        memcpy(out, sin, sizeof(*sin));
        return sizeof(*sin);
    }
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)out;
    a->sin6_family = AF_INET6;
    a->sin6_port = sin->sin_port;
    if (sin->sin_addr.s_addr != INADDR_ANY) {
        a->sin6_addr.s6_addr[10] = a->sin6_addr.s6_addr[11] = 0xff;
        memcpy(&a->sin6_addr.s6_addr[12], &sin->sin_addr.s_addr, 4);
    }
    return sizeof(*a);
}

int tp_addr_copy(bool v6, const struct sockaddr_in *sin, struct sockaddr *addr,
                 socklen_t *len)
{
    if (addr == NULL || len == NULL)
        return addr == NULL ? 0 : -EFAULT;
    if ((int)*len < 0)
        return -EINVAL;
    struct sockaddr_storage a;
    socklen_t n = tp_sock_addr(v6, sin, &a);
    memcpy(addr, &a, *len < n ? *len : n);
    *len = n;
    return 0;
}

static bool v6only(const struct tc_sock *s)
{
    int v = 0;
    socklen_t l = sizeof(v);
    return real_getsockopt(s->fd, IPPROTO_IPV6, IPV6_V6ONLY, &v, &l) == 0 && v != 0;
}

int tp_addr_v4_of(const struct tc_sock *s, const struct sockaddr *addr, socklen_t len,
                  bool bind, struct sockaddr_in *out)
{
    const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)addr;
    if (len < sizeof(*a))
        return -EINVAL;
    if (a->sin6_family != AF_INET6)
        return -EAFNOSUPPORT;
    memset(out, 0, sizeof(*out));
    out->sin_family = AF_INET;
    out->sin_port = a->sin6_port;
    if (IN6_IS_ADDR_V4MAPPED(&a->sin6_addr) && !v6only(s)) {
        memcpy(&out->sin_addr.s_addr, &a->sin6_addr.s6_addr[12], 4);
        return 1;
    }
    if (bind && IN6_IS_ADDR_UNSPECIFIED(&a->sin6_addr) && !v6only(s))
        return 1; /* INADDR_ANY */
    return 0;
}

bool tp_addr_is_loopback(uint32_t ip_be)
{
    uint32_t ip = ntohl(ip_be);
    return (ip >> 24) == 127 || ip == 0;
}
