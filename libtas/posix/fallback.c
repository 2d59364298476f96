/* fallback.c - tasd sockets that go on as kernel sockets.
 *
 * A socket stops being ours when it turns out to be the kernel's business
 * (bound to or connecting to a loopback address, socket.c) or when tasd
 * exits under a listener (the core's listener hook): its epoll
 * registrations move to the kernel's epoll instances and its descriptor,
 * the reserved kernel socket, becomes a plain one.
 */
#include "libtas/posix/posix.h"

/* The socket stops being ours; its descriptor is a plain kernel socket. */
int tp_sock_to_kernel(struct tc_sock *s)
{
    int r = tp_epoll_to_kernel(s);
    tp_sock_unlink_fd(s);
    return r;
}

/* tasd exited under a listening socket (sock.c let go of what it had
 * queued): the program goes on serving on the kernel stack, listening on
 * the reserved kernel socket with the same port. */
void tp_listener_to_kernel(struct tc_sock *s)
{
    struct sockaddr_in a = s->local;

    if (s->fd < 0)
        return;
    int one = 1; /* old connections in TIME_WAIT must not block the port */
    real_setsockopt(s->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_storage k;
    socklen_t kl = tp_sock_addr(s->v6, &a, &k);
    if (real_bind(s->fd, (struct sockaddr *)&k, kl) != 0) {
        a.sin_addr.s_addr = INADDR_ANY;
        kl = tp_sock_addr(s->v6, &a, &k);
        if (real_bind(s->fd, (struct sockaddr *)&k, kl) != 0)
            return;
    }
    if (real_listen(s->fd, s->backlog > 0 ? (int)s->backlog : 1) != 0)
        return;
    s->moved_fd = s->fd;
    s->dead = false;
    s->so_error = 0;
    tp_sock_to_kernel(s); /* may free s */
}
