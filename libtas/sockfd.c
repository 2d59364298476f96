/* sockfd.c - a socket and the descriptor that names it.
 *
 * A tasd socket has a real descriptor number reserved from the kernel (a
 * TCP socket of its own, so numbering, select() and mixing with kernel
 * descriptors in one epoll set work); the fd table maps the number to the
 * socket object.  Every call on a descriptor starts here: tas_enter()
 * answers "is it ours?" without a lock and, if so, takes the lock and a
 * reference, and takes the socket over from another process first if
 * need be (attach.c).
 */
#include <sys/stat.h>

#include "libtas/internal.h"

/* fd is s's reserved kernel socket from now on: remember which one it is,
 * to find it under other numbers later (exec.c). */
void tas_sock_set_fd(struct tas_sock *s, int fd)
{
    struct stat st;
    s->fd = fd;
    if (fd >= 0 && fstat(fd, &st) == 0) {
        s->kdev = st.st_dev;
        s->kino = st.st_ino;
    }
}

/* A socket named by fd (its reserved kernel socket), or -1 for none yet. */
struct tas_sock *tas_sock_new_fd(int fd)
{
    struct tas_sock *s = tas_sock_new();
    if (s != NULL)
        tas_sock_set_fd(s, fd);
    return s;
}

struct tas_sock *tas_sock_lookup(int fd)
{
    struct tas_obj *o = tas_fd_get(fd);
    if (o == NULL || o->kind != TAS_OBJ_SOCK)
        return NULL;
    struct tas_sock *s = (struct tas_sock *)o;
    tas_sock_get(s);
    return s;
}

struct tas_sock *tas_enter_noattach(int fd)
{
    struct tas_obj *o = tas_fd_get(fd);
    if (likely(o == NULL) || o->kind != TAS_OBJ_SOCK)
        return NULL;
    tas_lock();
    struct tas_sock *s = tas_sock_lookup(fd);
    if (s == NULL)
        tas_unlock(); /* closed meanwhile: libc will say EBADF */
    return s;
}

struct tas_sock *tas_enter(int fd)
{
    struct tas_sock *s = tas_enter_noattach(fd);
    if (s != NULL && unlikely(s->need_attach))
        tas_sock_attach(s); /* on failure it stays marked, and looks idle */
    return s;
}

void tas_leave(struct tas_sock *s)
{
    tas_sock_put(s);
    tas_unlock();
}

/* Take the socket out of the fd table; drops the table's reference. */
void tas_sock_unlink_fd(struct tas_sock *s)
{
    if (s->fd < 0)
        return;
    tas_fd_clear(s->fd);
    s->fd = -1;
    s->app_closed = true;
    tas_sock_changed(s);
    tas_sock_put(s);
}
