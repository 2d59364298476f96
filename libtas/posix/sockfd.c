/* sockfd.c - a socket and the descriptor that names it.
 *
 * A tasd socket has a real descriptor number reserved from the kernel (a
 * TCP socket of its own, so numbering, select() and mixing with kernel
 * descriptors in one epoll set work); the fd table maps the number to the
 * socket object.  Every call on a descriptor starts here: tp_enter()
 * answers "is it ours?" without a lock and, if so, takes the lock and a
 * reference, and takes the socket over from another process first if
 * need be (attach.c).
 */
#include <sys/stat.h>

#include "libtas/posix/posix.h"

/* fd is s's reserved kernel socket from now on: remember which one it is,
 * to find it under other numbers later (exec.c). */
void tp_sock_set_fd(struct tc_sock *s, int fd)
{
    struct stat st;
    s->fd = fd;
    if (fd >= 0 && fstat(fd, &st) == 0) {
        s->kdev = st.st_dev;
        s->kino = st.st_ino;
    }
}

/* A socket named by fd (its reserved kernel socket), or -1 for none yet. */
struct tc_sock *tp_sock_new_fd(int fd)
{
    struct tc_sock *s = tc_sock_new();
    if (s != NULL)
        tp_sock_set_fd(s, fd);
    return s;
}

struct tc_sock *tp_sock_lookup(int fd)
{
    struct tc_obj *o = tp_fd_get(fd);
    if (o == NULL || o->kind != TC_OBJ_SOCK)
        return NULL;
    struct tc_sock *s = (struct tc_sock *)o;
    tc_sock_get(s);
    return s;
}

struct tc_sock *tp_enter_noattach(int fd)
{
    struct tc_obj *o = tp_fd_get(fd);
    if (likely(o == NULL) || o->kind != TC_OBJ_SOCK)
        return NULL;
    tc_lock();
    struct tc_sock *s = tp_sock_lookup(fd);
    if (s == NULL)
        tc_unlock(); /* closed meanwhile: libc will say EBADF */
    return s;
}

struct tc_sock *tp_enter(int fd)
{
    struct tc_sock *s = tp_enter_noattach(fd);
    if (s != NULL && unlikely(s->need_attach))
        tc_sock_attach(s); /* on failure it stays marked, and looks idle */
    return s;
}

struct tc_sock *tp_enter_data(int fd)
{
    struct tc_sock *s = tp_enter(fd);
    if (s != NULL)
        tc_sock_take(s);
    return s;
}

void tp_leave(struct tc_sock *s)
{
    tc_sock_put(s);
    tc_unlock();
}

/* Take the socket out of the fd table; drops the table's reference. */
void tp_sock_unlink_fd(struct tc_sock *s)
{
    if (s->fd < 0)
        return;
    tp_fd_clear(s->fd);
    s->fd = -1;
    s->app_closed = true;
    tc_sock_changed(s);
    tc_sock_put(s);
}
