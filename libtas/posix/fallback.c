/* fallback.c - tasd sockets that go on as kernel sockets.
 *
 * A socket stops being ours when it turns out to be the kernel's business
 * (bound to or connecting to a loopback address, socket.c): its epoll
 * registrations move to the kernel's epoll instances and its descriptor,
 * the reserved kernel socket, becomes a plain one.  (A listener whose tasd
 * exits stays ours and waits for the next one: revive.c.)
 */
#include "libtas/posix/posix.h"

/* The socket stops being ours; its descriptor is a plain kernel socket. */
int tp_sock_to_kernel(struct tc_sock *s)
{
    int r = tp_epoll_to_kernel(s);
    tp_sock_unlink_fd(s);
    return r;
}
