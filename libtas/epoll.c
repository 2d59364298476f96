/* epoll.c - epoll instances over mixed descriptor sets.
 *
 * A libtas epoll instance is a real kernel epoll descriptor (so kernel
 * descriptors in the set work natively, and the number is a real one) plus a
 * user-space interest list for tasd sockets.  Each interest item sits on the
 * instance's ready list whenever its socket changed since it was last looked
 * at; epoll_wait() walks only that list, like the kernel does:
 *   level-triggered  reported while ready, stays on the list;
 *   EPOLLET          reported once per change of the socket (ev_seq);
 *   EPOLLONESHOT     disabled after one report until EPOLL_CTL_MOD.
 *
 * epoll_wait() applies tasd's entries, collects ready tasd items, and asks
 * the kernel epoll with a zero timeout when something is ready; otherwise it
 * sleeps in tas_wait() with the kernel epoll descriptor as its extra
 * descriptor.  An instance with no tasd items waits in the kernel directly;
 * a private eventfd in its kernel set (data = EP_TAG, never reported) lets
 * epoll_ctl() from another thread wake such a waiter when a tasd socket is
 * added.  Closing a tasd socket removes it from every instance, as closing
 * its last descriptor would on Linux.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>

#include "libtas/internal.h"
#include "libtas/libtas.h"

#define EP_TAG 0x7461736465706f6cULL /* "tasdepol": our eventfd's data */

struct tas_epoll;

struct tas_epitem {
    struct tas_epoll *ep;
    struct tas_sock *s;
    int fd;
    uint32_t events;
    epoll_data_t data;
    uint64_t seen_seq; /* EPOLLET: socket change last reported */
    bool disabled;     /* EPOLLONESHOT fired */
    bool on_rd;
    struct tas_epitem *next, *prev;       /* ep->items */
    struct tas_epitem *rd_next, *rd_prev; /* ep ready list */
    struct tas_epitem *s_next;            /* s->epitems */
};

struct tas_epoll {
    struct tas_obj obj; /* TAS_OBJ_EPOLL */
    int fd;             /* the kernel epoll */
    int ctl_fd;         /* eventfd in the kernel set, data EP_TAG */
    uint32_t refs;
    bool closed;
    struct tas_epitem *items;
    struct tas_epitem *rd_head, *rd_tail;
    uint32_t n_items, n_rd, n_kernel, kernel_waiters, turn;
};

/* ------------------------------------------------------------ lists */

static void rd_add(struct tas_epoll *ep, struct tas_epitem *it)
{
    if (it->on_rd)
        return;
    it->rd_next = NULL;
    it->rd_prev = ep->rd_tail;
    if (ep->rd_tail != NULL)
        ep->rd_tail->rd_next = it;
    else
        ep->rd_head = it;
    ep->rd_tail = it;
    it->on_rd = true;
    ep->n_rd++;
}

static void rd_del(struct tas_epoll *ep, struct tas_epitem *it)
{
    if (!it->on_rd)
        return;
    if (it->rd_prev != NULL)
        it->rd_prev->rd_next = it->rd_next;
    else
        ep->rd_head = it->rd_next;
    if (it->rd_next != NULL)
        it->rd_next->rd_prev = it->rd_prev;
    else
        ep->rd_tail = it->rd_prev;
    it->on_rd = false;
    ep->n_rd--;
}

/* Unlink an item from its instance and its socket, and free it. */
static void item_free(struct tas_epitem *it)
{
    struct tas_epoll *ep = it->ep;
    rd_del(ep, it);
    if (it->prev != NULL)
        it->prev->next = it->next;
    else
        ep->items = it->next;
    if (it->next != NULL)
        it->next->prev = it->prev;
    ep->n_items--;
    for (struct tas_epitem **pp = &it->s->epitems; *pp != NULL; pp = &(*pp)->s_next) {
        if (*pp == it) {
            *pp = it->s_next;
            break;
        }
    }
    free(it);
}

static struct tas_epitem *item_find(struct tas_epoll *ep, struct tas_sock *s)
{
    for (struct tas_epitem *it = s->epitems; it != NULL; it = it->s_next)
        if (it->ep == ep)
            return it;
    return NULL;
}

static void ep_put(struct tas_epoll *ep)
{
    if (--ep->refs != 0)
        return;
    while (ep->items != NULL)
        item_free(ep->items);
    tas_fd_internal_close(ep->ctl_fd);
    free(ep);
}

/* ------------------------------------------------------------ readiness */

/* What the item would report now (0: nothing). */
static uint32_t item_events(const struct tas_epitem *it)
{
    if (it->disabled)
        return 0;
    uint32_t m = tas_sock_ready(it->s) & (it->events | EPOLLERR | EPOLLHUP);
    if (m != 0 && (it->events & EPOLLET) && it->seen_seq == it->s->ev_seq)
        return 0;
    return m;
}

static bool has_ready(struct tas_epoll *ep)
{
    for (struct tas_epitem *it = ep->rd_head; it != NULL; it = it->rd_next)
        if (item_events(it) != 0)
            return true;
    return false;
}

static bool ep_cond(void *arg)
{
    return has_ready(arg);
}

/* Take up to max ready tasd events off the ready list. */
static int collect(struct tas_epoll *ep, struct epoll_event *out, int max)
{
    int n = 0;
    for (uint32_t left = ep->n_rd; left > 0 && n < max; left--) {
        struct tas_epitem *it = ep->rd_head;
        rd_del(ep, it);
        uint32_t m = item_events(it);
        if (m == 0)
            continue; /* back on the list at its socket's next change */
        if (it->events & EPOLLONESHOT)
            it->disabled = true;
        else if (it->events & EPOLLET)
            it->seen_seq = it->s->ev_seq;
        else
            rd_add(ep, it); /* level-triggered: look again next time, at the back */
        out[n].events = m;
        out[n].data = it->data;
        n++;
    }
    return n;
}

/* Drop our eventfd's events from what the kernel returned. */
static int filter(struct tas_epoll *ep, struct epoll_event *ev, int n, bool *poked)
{
    int k = 0;
    for (int i = 0; i < n; i++) {
        if (ev[i].data.u64 == EP_TAG) {
            uint64_t v;
            (void)!real_read(ep->ctl_fd, &v, sizeof(v));
            *poked = true;
            continue;
        }
        ev[k++] = ev[i];
    }
    return k;
}

/* Zero-timeout look at the kernel part; lock held on entry and exit. */
static int kernel_now(struct tas_epoll *ep, struct epoll_event *ev, int max)
{
    bool poked = false;
    if (max <= 0)
        return 0;
    int fd = ep->fd;
    tas_unlock();
    int k = real_epoll_pwait(fd, ev, max, 0, NULL);
    tas_lock();
    return k > 0 ? filter(ep, ev, k, &poked) : 0;
}

/* ------------------------------------------------------------ hooks */

void tas_epoll_sock_changed(struct tas_sock *s)
{
    for (struct tas_epitem *it = s->epitems; it != NULL; it = it->s_next)
        if (!it->disabled)
            rd_add(it->ep, it);
}

void tas_epoll_sock_gone(struct tas_sock *s)
{
    while (s->epitems != NULL)
        item_free(s->epitems);
}

/* The socket goes to the kernel stack: so do its registrations. */
int tas_epoll_to_kernel(struct tas_sock *s)
{
    int r = 0;
    while (s->epitems != NULL) {
        struct tas_epitem *it = s->epitems;
        struct epoll_event ev = {.events = it->disabled ? 0 : it->events,
                                 .data = it->data};
        if (real_epoll_ctl(it->ep->fd, EPOLL_CTL_ADD, s->fd, &ev) == 0)
            it->ep->n_kernel++;
        else
            r = -errno;
        item_free(it);
    }
    return r;
}

uint32_t tas_epoll_ready(struct tas_obj *o, int *kernel_fd)
{
    struct tas_epoll *ep = (struct tas_epoll *)o;
    if (kernel_fd != NULL)
        *kernel_fd = ep->fd;
    return has_ready(ep) ? EPOLLIN | EPOLLRDNORM : 0;
}

int tas_epoll_close(struct tas_obj *o)
{
    tas_lock();
    struct tas_epoll *ep = (struct tas_epoll *)o;
    if (tas_fd_get(ep->fd) == o) {
        tas_fd_clear(ep->fd);
        while (ep->items != NULL)
            item_free(ep->items);
        ep->closed = true;
        tas_wake_all();
        ep_put(ep);
    }
    tas_unlock();
    return 0;
}

/* ------------------------------------------------------------ API */

int tas_epoll_create1(int flags)
{
    if (__atomic_load_n(&tas_ctx.state, __ATOMIC_ACQUIRE) == TAS_CTX_FALLBACK)
        return real_epoll_create1(flags);
    int fd = real_epoll_create1(flags);
    if (fd < 0 || fd >= TAS_FD_MAX)
        return fd;
    int ctl = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (ctl < 0)
        return fd; /* stays a plain kernel epoll */
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = EP_TAG};
    struct tas_epoll *ep = calloc(1, sizeof(*ep));
    if (ep == NULL || real_epoll_ctl(fd, EPOLL_CTL_ADD, ctl, &ev) != 0) {
        free(ep);
        real_close(ctl);
        return fd;
    }
    ep->obj.kind = TAS_OBJ_EPOLL;
    ep->fd = fd;
    ep->ctl_fd = ctl;
    ep->refs = 1;
    tas_lock();
    tas_fd_internal(ctl);
    if (tas_fd_set(fd, &ep->obj) != 0) {
        tas_fd_internal_close(ctl);
        free(ep);
    }
    tas_unlock();
    return fd;
}

int tas_epoll_create(int size)
{
    if (size <= 0)
        return (int)tas_ret(-EINVAL);
    return tas_epoll_create1(0);
}

static struct tas_epoll *ep_enter(int epfd)
{
    struct tas_obj *o = tas_fd_get(epfd);
    if (likely(o == NULL) || o->kind != TAS_OBJ_EPOLL)
        return NULL;
    tas_lock();
    if (tas_fd_get(epfd) != o) {
        tas_unlock();
        return NULL;
    }
    struct tas_epoll *ep = (struct tas_epoll *)o;
    ep->refs++;
    return ep;
}

static void ep_leave(struct tas_epoll *ep)
{
    ep_put(ep);
    tas_unlock();
}

int tas_epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
    struct tas_obj *t = tas_fd_get(fd);
    struct tas_epoll *ep = NULL;

    if (t != NULL && t->kind == TAS_OBJ_SOCK)
        ep = ep_enter(epfd);
    if (ep == NULL) { /* a kernel descriptor, or a kernel epoll */
        int r = real_epoll_ctl(epfd, op, fd, ev);
        if (r == 0 && (op == EPOLL_CTL_ADD || op == EPOLL_CTL_DEL) &&
            (ep = ep_enter(epfd)) != NULL) {
            if (op == EPOLL_CTL_ADD)
                ep->n_kernel++;
            else if (ep->n_kernel > 0)
                ep->n_kernel--;
            ep_leave(ep);
        }
        return r;
    }

    int r = 0;
    struct tas_sock *s = tas_sock_lookup(fd);
    if (s == NULL) { /* closed meanwhile */
        ep_leave(ep);
        return real_epoll_ctl(epfd, op, fd, ev);
    }
    if (unlikely(s->need_attach) && op != EPOLL_CTL_DEL)
        tas_sock_attach(s);
    struct tas_epitem *it = item_find(ep, s);
    if (fd == epfd) {
        r = -EINVAL;
    } else if (op == EPOLL_CTL_ADD) {
        if (it != NULL)
            r = -EEXIST;
        else if (ev == NULL)
            r = -EFAULT;
        else if ((it = calloc(1, sizeof(*it))) == NULL)
            r = -ENOMEM;
        else {
            it->ep = ep;
            it->s = s;
            it->fd = fd;
            it->next = ep->items;
            if (ep->items != NULL)
                ep->items->prev = it;
            ep->items = it;
            ep->n_items++;
            it->s_next = s->epitems;
            s->epitems = it;
        }
    } else if (op == EPOLL_CTL_MOD) {
        if (it == NULL)
            r = -ENOENT;
        else if (ev == NULL)
            r = -EFAULT;
        else if ((ev->events & EPOLLEXCLUSIVE) || (it->events & EPOLLEXCLUSIVE))
            r = -EINVAL;
    } else if (op == EPOLL_CTL_DEL) {
        if (it == NULL)
            r = -ENOENT;
        else
            item_free(it);
        it = NULL;
    } else {
        r = -EINVAL;
    }
    if (r == 0 && it != NULL) { /* ADD or MOD: (re)arm and look at it now */
        it->events = ev->events;
        it->data = ev->data;
        it->disabled = false;
        it->seen_seq = s->ev_seq - 1;
        rd_add(ep, it);
        tas_wake_all();
        if (ep->kernel_waiters > 0) {
            uint64_t one = 1;
            (void)!real_write(ep->ctl_fd, &one, sizeof(one));
        }
    }
    tas_sock_put(s);
    ep_leave(ep);
    return (int)tas_ret(r);
}

int tas_epoll_pwait(int epfd, struct epoll_event *events, int max, int timeout,
                    const sigset_t *mask)
{
    struct tas_epoll *ep = ep_enter(epfd);
    if (ep == NULL)
        return real_epoll_pwait(epfd, events, max, timeout, mask);
    if (max <= 0 || events == NULL) {
        ep_leave(ep);
        return (int)tas_ret(max <= 0 ? -EINVAL : -EFAULT);
    }

    tas_attach_pending(); /* listeners of a set made before fork() */
    struct timespec dl, *dlp = NULL;
    if (timeout >= 0) {
        tas_deadline_ms(&dl, timeout);
        dlp = &dl;
    }
    int r;
    for (;;) {
        if (ep->closed) {
            r = -EBADF;
            break;
        }
        if (ep->n_items == 0) { /* only kernel descriptors: wait there */
            int fd = ep->fd;
            ep->kernel_waiters++;
            tas_unlock();
            r = real_epoll_pwait(fd, events, max, tas_ms_left(dlp), mask);
            int err = errno;
            tas_lock();
            ep->kernel_waiters--;
            if (r < 0) {
                r = -err;
                break;
            }
            bool poked = false;
            r = filter(ep, events, r, &poked);
            if (r > 0 || !poked || tas_ms_left(dlp) == 0)
                break;
            continue; /* woken by epoll_ctl: a tasd socket came in */
        }
        tas_process();
        int n = 0;
        bool kernel_first = ep->n_kernel > 0 && (ep->turn++ & 1);
        if (kernel_first)
            n = kernel_now(ep, events, max - 1);
        n += collect(ep, events + n, max - n);
        if (n > 0 || tas_ms_left(dlp) == 0) {
            if (!kernel_first && ep->n_kernel > 0)
                n += kernel_now(ep, events + n, max - n);
            r = n;
            break;
        }
        struct pollfd pfd = {.fd = ep->fd, .events = POLLIN};
        r = tas_wait(ep_cond, ep, dlp, &pfd, 1, mask);
        if (r < 0)
            break;
        if (r == TAS_WAIT_EXTRA) { /* the kernel part has something */
            n = collect(ep, events, max);
            n += kernel_now(ep, events + n, max - n);
            if (n > 0) {
                r = n;
                break;
            }
        }
    }
    ep_leave(ep);
    return (int)tas_ret(r);
}

int tas_epoll_wait(int epfd, struct epoll_event *events, int max, int timeout)
{
    return tas_epoll_pwait(epfd, events, max, timeout, NULL);
}
