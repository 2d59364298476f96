/* epoll.c - epoll instances over mixed descriptor sets.
 *
 * A libtas epoll instance is a real kernel epoll descriptor (so kernel
 * descriptors in the set work natively, and the number is a real one) plus a
 * user-space interest list for tasd sockets.  Each interest item sits on the
 * instance's ready list when its socket may have something to report;
 * epoll_wait() walks only that list, like the kernel does:
 *   level-triggered  put on the list at every change of its socket, and
 *                    kept there while it reports something;
 *   EPOLLET          put on the list only at a *wake-up*, taken off when
 *                    reported: one event per new arrival, not repeated while
 *                    data stays unread;
 *   EPOLLONESHOT     disabled after one report until EPOLL_CTL_MOD;
 *   EPOLLEXCLUSIVE   at a wake-up, queued on instances in turn until one that
 *                    has a thread waiting, so one waiter wakes, not all.
 * A wake-up is what makes Linux's TCP wake a socket's wait queue: new data or
 * a new connection (an "in" wake-up), room to write again after running out
 * (an "out" wake-up), or a change of state: connected, FIN, reset, shutdown,
 * a new error (wakes every item).  Reading data or writing while room is left
 * wakes nobody.  Each item keeps a snapshot of its socket taken at the last
 * change (reads and writes are changes too), and the wake-up is told from
 * the difference (wake_key()).
 *
 * epoll_wait() applies tasd's entries, collects ready tasd items, and asks
 * the kernel epoll with a zero timeout when something is ready; otherwise it
 * sleeps in tc_wait() with the kernel epoll descriptor as its extra
 * descriptor.  An instance with no tasd items waits in the kernel directly;
 * a private eventfd in its kernel set (data = EP_TAG, never reported) lets
 * epoll_ctl() from another thread wake such a waiter when a tasd socket is
 * added.  (Not while any instance is nested: then it may hold one whose
 * readiness only tasd's entries change, and tc_wait() applies them.)
 * Closing a tasd socket removes it from every instance, as closing its
 * last descriptor would on Linux.  Closing the epoll descriptor while
 * another thread waits on it does not end that wait (as on Linux, where the
 * waiter holds the file): the instance lives on, on a private duplicate of
 * the kernel descriptor, until its last waiter returns.
 *
 * An instance added to another epoll set (nested) is, to the kernel, its
 * kernel epoll descriptor: the private eventfd is then kept readable exactly
 * while a tasd item has something to report (nest_sync()), so the outer set
 * sees the inner one readable as Linux would.
 *
 * epoll_ctl() on a tasd socket checks its arguments in the kernel's order
 * (EFAULT, EINVAL for EPOLLEXCLUSIVE misuse, then EEXIST/ENOENT).
 */
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>

#include "libtas/posix/posix.h"
#include "libtas/libtas.h"

#define EP_TAG 0x7461736465706f6cULL /* "tasdepol": our eventfd's data */

#define EP_MAX_EVENTS (INT_MAX / (int)sizeof(struct epoll_event)) /* as the kernel's */

#define KEY_IN  (EPOLLIN | EPOLLRDNORM)
#define KEY_OUT (EPOLLOUT | EPOLLWRNORM)
#define KEY_ALL 0xffffffffu /* a change of state: wakes every item */
/* What EPOLLEXCLUSIVE may be combined with (the kernel's EPOLLEXCLUSIVE_OK_BITS). */
#define EXCLUSIVE_OK                                                                     \
    (EPOLLIN | EPOLLOUT | EPOLLERR | EPOLLHUP | EPOLLWAKEUP | EPOLLET | EPOLLEXCLUSIVE)

struct tp_epoll;

/* What an item last saw of its socket: enough to tell a wake-up. */
struct ep_snap {
    const uint8_t *rx_base, *tx_base;
    uint32_t rx_size, rx_head, rx_ready;
    uint32_t tx_size, tx_tail, tx_free;
    uint32_t acc_len;
    uint32_t flags; /* state_flags() */
};

struct tp_epitem {
    struct tp_epoll *ep;
    struct tc_sock *s;
    int fd;
    uint32_t events;
    epoll_data_t data;
    struct ep_snap snap;
    bool disabled; /* EPOLLONESHOT fired */
    bool on_rd;
    struct tp_epitem *next, *prev;       /* ep->items */
    struct tp_epitem *rd_next, *rd_prev; /* ep ready list */
    struct tp_epitem *s_next;            /* s->watchers */
    uint32_t qidx;                       /* its socket's context, as counted */
};

struct tp_epoll {
    struct tc_obj obj; /* TP_OBJ_EPOLL */
    int fd;            /* the kernel epoll (a private duplicate once closed) */
    int ctl_fd;        /* eventfd in the kernel set, data EP_TAG */
    uint32_t refs;     /* the fd table, and every call in progress */
    bool closed;       /* the application closed it; fd is ours */
    struct tp_epitem *items;
    struct tp_epitem *rd_head, *rd_tail;
    uint32_t n_items, n_rd, n_kernel, kernel_waiters, turn;
    uint32_t sleepers; /* threads in epoll_wait that found nothing yet */
    bool nested;       /* in another epoll set: ctl_fd mirrors has_ready() */
    bool signalled;    /* ctl_fd holds a count */
    /* The contexts its sockets' news come on (core/qctx.c): items per
     * context, and a bit for each that has any. */
    uint32_t qcnt[TC_MAX_QC];
    uint64_t want;
};

#define NO_QC UINT32_MAX

/* ------------------------------------------------------------ lists */

static void rd_add(struct tp_epoll *ep, struct tp_epitem *it)
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

static void rd_del(struct tp_epoll *ep, struct tp_epitem *it)
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

/* Count the item under its socket's context, or stop counting it. */
static void want_add(struct tp_epoll *ep, struct tp_epitem *it)
{
    it->qidx = it->s->qc != NULL ? it->s->qc->idx : NO_QC;
    if (it->qidx != NO_QC && ep->qcnt[it->qidx]++ == 0)
        ep->want |= (uint64_t)1 << it->qidx;
}

static void want_del(struct tp_epoll *ep, struct tp_epitem *it)
{
    if (it->qidx != NO_QC && --ep->qcnt[it->qidx] == 0)
        ep->want &= ~((uint64_t)1 << it->qidx);
    it->qidx = NO_QC;
}

/* Unlink an item from its instance and its socket, and free it. */
static void item_free(struct tp_epitem *it)
{
    struct tp_epoll *ep = it->ep;
    rd_del(ep, it);
    want_del(ep, it);
    if (it->prev != NULL)
        it->prev->next = it->next;
    else
        ep->items = it->next;
    if (it->next != NULL)
        it->next->prev = it->prev;
    ep->n_items--;
    struct tp_epitem *first = it->s->watchers;
    if (first == it) {
        it->s->watchers = it->s_next;
    } else {
        for (struct tp_epitem *x = first; x != NULL; x = x->s_next) {
            if (x->s_next == it) {
                x->s_next = it->s_next;
                break;
            }
        }
    }
    free(it);
}

static struct tp_epitem *item_find(struct tp_epoll *ep, struct tc_sock *s)
{
    for (struct tp_epitem *it = s->watchers; it != NULL; it = it->s_next)
        if (it->ep == ep)
            return it;
    return NULL;
}

/* Instances inside another epoll set (nested): while there is one, no
 * waiter may sleep in the kernel alone, since tasd's entries, which make a
 * nested instance readable, are applied only by a thread in tc_wait(). */
static uint32_t n_nested;

static void ep_put(struct tp_epoll *ep)
{
    if (--ep->refs != 0)
        return;
    if (ep->nested)
        n_nested--;
    while (ep->items != NULL)
        item_free(ep->items);
    tp_fd_internal_close(ep->ctl_fd);
    if (ep->closed && ep->fd >= 0)
        tp_fd_internal_close(ep->fd);
    free(ep);
}

/* ------------------------------------------------------------ wake-ups */

/* The socket's state, as bits that are only ever set while it lives (an
 * error being read clears so_error: that wakes nobody). */
static uint32_t state_flags(const struct tc_sock *s)
{
    return (uint32_t)s->state | (uint32_t)s->rd_eof << 4 | (uint32_t)s->rd_shut << 5 |
           (uint32_t)s->wr_shut << 6 | (uint32_t)s->reset << 7 | (uint32_t)s->dead << 8 |
           (uint32_t)(s->so_error != 0) << 9 | (uint32_t)s->detached << 10;
}

static void snap_take(struct ep_snap *o, const struct tc_sock *s)
{
    *o = (struct ep_snap){
        .rx_base = s->rx_base,
        .tx_base = s->tx_base,
        .rx_size = s->rx_size,
        .rx_head = s->rx_head,
        .rx_ready = s->rx_ready,
        .tx_size = s->tx_size,
        .tx_tail = s->tx_tail,
        .tx_free = s->tx_free,
        .acc_len = s->acc_len,
        .flags = state_flags(s),
    };
}

/* From ring position a forward to b (both below size). */
static inline uint32_t ring_dist(uint32_t a, uint32_t b, uint32_t size)
{
    return b >= a ? b - a : b + size - a;
}

static bool free_writable(uint32_t tx_free, uint32_t tx_size)
{
    return tx_free > 0 && tx_free >= tx_size / 4;
}

/* Which wake-up, if any, Linux would have given between the snapshot and
 * now: 0, KEY_ALL, or KEY_IN/KEY_OUT bits.  Every read and write is a change
 * too (one call here each), so since the snapshot rx_head moved by at most
 * one read and tx_tail by at most one write: an arrival is rx_ready growing
 * by more than what was read took away; room to write comes back when tasd
 * freed space and the lowest point since the snapshot was below the
 * writable mark (ready.c's). */
static uint32_t wake_key(const struct ep_snap *o, const struct tc_sock *s)
{
    uint32_t f = state_flags(s), key = 0;
    if ((f & 0xf) != (o->flags & 0xf) || (f & ~o->flags) != 0)
        return KEY_ALL;
    if (s->acc_len > o->acc_len)
        key |= KEY_IN;
    if (s->rx_base != NULL && s->rx_base == o->rx_base && s->rx_size == o->rx_size) {
        uint32_t consumed = ring_dist(o->rx_head, s->rx_head, s->rx_size);
        if ((uint64_t)s->rx_ready + consumed > o->rx_ready)
            key |= KEY_IN;
    }
    if (s->tx_base != NULL && s->tx_base == o->tx_base && s->tx_size == o->tx_size) {
        uint32_t written = ring_dist(o->tx_tail, s->tx_tail, s->tx_size);
        if (written == 0 && s->tx_free < o->tx_free)
            written = s->tx_size; /* one write filled the whole ring */
        uint32_t low = o->tx_free > written ? o->tx_free - written : 0;
        if (s->tx_free > low && !free_writable(low, s->tx_size) && tc_sock_writable(s))
            key |= KEY_OUT;
    }
    return key;
}

/* ------------------------------------------------------------ readiness */

/* What the item would report now (0: nothing). */
static uint32_t item_events(const struct tp_epitem *it)
{
    if (it->disabled)
        return 0;
    return tc_sock_ready(it->s) & (it->events | EPOLLERR | EPOLLHUP);
}

static bool has_ready(struct tp_epoll *ep)
{
    for (struct tp_epitem *it = ep->rd_head; it != NULL; it = it->rd_next)
        if (item_events(it) != 0)
            return true;
    return false;
}

static bool ep_cond(void *arg)
{
    return has_ready(arg);
}

/* A nested instance: make its eventfd readable while a tasd item is ready,
 * and not otherwise, so that the outer set's kernel epoll agrees. */
static void nest_sync(struct tp_epoll *ep)
{
    if (!ep->nested)
        return;
    bool want = has_ready(ep);
    uint64_t v = 1;
    if (want && !ep->signalled)
        (void)!real_write(ep->ctl_fd, &v, sizeof(v));
    else if (!want && ep->signalled)
        (void)!real_read(ep->ctl_fd, &v, sizeof(v));
    ep->signalled = want;
}

/* Take up to max ready tasd events off the ready list. */
static int collect(struct tp_epoll *ep, struct epoll_event *out, int max)
{
    int n = 0;
    for (uint32_t left = ep->n_rd; left > 0 && n < max; left--) {
        struct tp_epitem *it = ep->rd_head;
        rd_del(ep, it);
        uint32_t m = item_events(it);
        if (m == 0)
            continue; /* back on the list at its socket's next change */
        if (it->events & EPOLLONESHOT)
            it->disabled = true;
        else if (!(it->events & EPOLLET))
            rd_add(ep, it); /* level-triggered: look again next time, at the back */
        out[n].events = m;
        out[n].data = it->data;
        n++;
    }
    return n;
}

/* Drop our eventfd's events from what the kernel returned. */
static int filter(struct tp_epoll *ep, struct epoll_event *ev, int n, bool *poked)
{
    int k = 0;
    for (int i = 0; i < n; i++) {
        if (ev[i].data.u64 == EP_TAG) {
            uint64_t v;
            (void)!real_read(ep->ctl_fd, &v, sizeof(v));
            ep->signalled = false; /* nest_sync() sets it again if need be */
            *poked = true;
            continue;
        }
        ev[k++] = ev[i];
    }
    return k;
}

/* Zero-timeout look at the kernel part; lock held on entry and exit. */
static int kernel_now(struct tp_epoll *ep, struct epoll_event *ev, int max)
{
    bool poked = false;
    if (max <= 0)
        return 0;
    int fd = ep->fd;
    tc_unlock();
    int k = real_epoll_pwait(fd, ev, max, 0, NULL);
    tc_lock();
    return k > 0 ? filter(ep, ev, k, &poked) : 0;
}

/* ------------------------------------------------------------ hooks */

/* With the lock held, before looking at readiness: attach listeners that
 * sit in epoll sets (epoll_wait on a set registered before fork()). */
static void attach_listeners(void)
{
    struct tc_ctx *c = &tc_ctx;
    bool more = false;

    if (!c->attach_pending)
        return;
    for (struct tc_sock *s = c->listeners; s != NULL; s = s->lnext) {
        if (!s->need_attach)
            continue;
        if (s->watchers != NULL)
            tc_sock_attach(s);
        more |= s->need_attach;
    }
    c->attach_pending = more;
}

void tp_epoll_sock_changed(struct tc_sock *s)
{
    bool exclusive_woken = false;
    for (struct tp_epitem *it = s->watchers; it != NULL; it = it->s_next) {
        if (!(it->events & (EPOLLET | EPOLLEXCLUSIVE)) && !it->disabled) {
            rd_add(it->ep, it); /* level-triggered: judged when collected (its */
            nest_sync(it->ep);  /* snapshot is taken again by EPOLL_CTL_MOD) */
            continue;
        }
        uint32_t key = wake_key(&it->snap, s);
        snap_take(&it->snap, s);
        if (it->disabled)
            continue;
        if (key == 0 || (key != KEY_ALL && !(key & it->events))) {
            nest_sync(it->ep);
            continue;
        }
        if ((it->events & EPOLLEXCLUSIVE) && key != KEY_ALL) {
            /* As the kernel's exclusive wake-up: queue on instances until
             * one with a waiting thread got it. */
            if (exclusive_woken)
                continue;
            if (it->ep->sleepers > 0)
                exclusive_woken = true;
        }
        rd_add(it->ep, it);
        nest_sync(it->ep);
    }
}

void tp_epoll_sock_moved(struct tc_sock *s)
{
    for (struct tp_epitem *it = s->watchers; it != NULL; it = it->s_next) {
        want_del(it->ep, it);
        want_add(it->ep, it);
    }
}

uint64_t tp_epoll_want(struct tc_obj *o)
{
    /* A nested instance's news are applied only by threads in tc_wait():
     * while there is one, watch every context. */
    return n_nested > 0 ? tc_qc_all() : ((struct tp_epoll *)o)->want;
}

void tp_epoll_sock_gone(struct tc_sock *s)
{
    while (s->watchers != NULL) {
        struct tp_epitem *it = s->watchers;
        struct tp_epoll *ep = it->ep;
        item_free(it);
        nest_sync(ep);
    }
}

/* The socket goes to the kernel stack: so do its registrations. */
int tp_epoll_to_kernel(struct tc_sock *s)
{
    int r = 0;
    while (s->watchers != NULL) {
        struct tp_epitem *it = s->watchers;
        struct epoll_event ev = {.events = it->disabled ? 0 : it->events,
                                 .data = it->data};
        struct tp_epoll *ep = it->ep;
        if (real_epoll_ctl(ep->fd, EPOLL_CTL_ADD, s->fd, &ev) == 0)
            ep->n_kernel++;
        else
            r = -errno;
        item_free(it);
        nest_sync(ep);
    }
    return r;
}

uint32_t tp_epoll_ready(struct tc_obj *o, int *kernel_fd)
{
    struct tp_epoll *ep = (struct tp_epoll *)o;
    if (kernel_fd != NULL)
        *kernel_fd = ep->fd;
    return has_ready(ep) ? EPOLLIN | EPOLLRDNORM : 0;
}

/* The application closes the descriptor.  Threads still waiting on the
 * instance go on waiting, as on Linux: they hold references, and a private
 * duplicate of the kernel epoll replaces the number the caller closes next. */
int tp_epoll_close(struct tc_obj *o)
{
    tc_lock();
    struct tp_epoll *ep = (struct tp_epoll *)o;
    if (tp_fd_get(ep->fd) == o) {
        tp_fd_clear(ep->fd);
        int dup = -1;
        if (ep->refs > 1) {
            dup = real_fcntl(ep->fd, F_DUPFD_CLOEXEC, (void *)0L);
            if (dup >= 0)
                tp_fd_internal(dup);
        }
        ep->fd = dup;
        ep->closed = true;
        if (dup < 0) { /* nobody waits (or no descriptor left): end it now */
            while (ep->items != NULL)
                item_free(ep->items);
            tc_wake_all();
        }
        ep_put(ep);
    }
    tc_unlock();
    return 0;
}

/* ------------------------------------------------------------ API */

int tas_epoll_create1(int flags)
{
    if (__atomic_load_n(&tc_ctx.state, __ATOMIC_ACQUIRE) == TC_CTX_FALLBACK)
        return real_epoll_create1(flags);
    int fd = real_epoll_create1(flags);
    if (fd < 0 || fd >= TP_FD_MAX)
        return fd;
    int ctl = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (ctl < 0)
        return fd; /* stays a plain kernel epoll */
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = EP_TAG};
    struct tp_epoll *ep = calloc(1, sizeof(*ep));
    if (ep == NULL || real_epoll_ctl(fd, EPOLL_CTL_ADD, ctl, &ev) != 0) {
        free(ep);
        real_close(ctl);
        return fd;
    }
    ep->obj.kind = TP_OBJ_EPOLL;
    ep->fd = fd;
    ep->ctl_fd = ctl;
    ep->refs = 1;
    tc_lock();
    tp_fd_internal(ctl);
    if (tp_fd_set(fd, &ep->obj) != 0) {
        tp_fd_internal_close(ctl);
        free(ep);
    }
    tc_unlock();
    return fd;
}

int tas_epoll_create(int size)
{
    if (size <= 0)
        return (int)tp_ret(-EINVAL);
    return tas_epoll_create1(0);
}

static struct tp_epoll *ep_enter(int epfd)
{
    struct tc_obj *o = tp_fd_get(epfd);
    if (likely(o == NULL) || o->kind != TP_OBJ_EPOLL)
        return NULL;
    tc_lock();
    if (tp_fd_get(epfd) != o) {
        tc_unlock();
        return NULL;
    }
    struct tp_epoll *ep = (struct tp_epoll *)o;
    ep->refs++;
    return ep;
}

static void ep_leave(struct tp_epoll *ep)
{
    ep_put(ep);
    tc_unlock();
}

int tas_epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
    struct tc_obj *t = tp_fd_get(fd);
    struct tp_epoll *ep = NULL;

    if (t != NULL && t->kind == TC_OBJ_SOCK)
        ep = ep_enter(epfd);
    if (ep == NULL) { /* a kernel descriptor, or a kernel epoll */
        int r = real_epoll_ctl(epfd, op, fd, ev);
        if (r == 0 && op == EPOLL_CTL_ADD && t != NULL && t->kind == TP_OBJ_EPOLL) {
            struct tp_epoll *inner = ep_enter(fd); /* now in another set */
            if (inner != NULL) {
                if (!inner->nested)
                    n_nested++;
                inner->nested = true;
                nest_sync(inner);
                ep_leave(inner);
            }
        }
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

    struct tc_sock *s = tp_sock_lookup(fd);
    if (s == NULL) { /* closed meanwhile */
        ep_leave(ep);
        return real_epoll_ctl(epfd, op, fd, ev);
    }
    if (unlikely(s->need_attach) && op != EPOLL_CTL_DEL)
        tc_sock_attach(s);
    else if (op == EPOLL_CTL_ADD)
        tc_sock_take(s); /* the thread that waits for it hears about it */
    /* The kernel's order of checks (fs/eventpoll.c, do_epoll_ctl). */
    int r = 0;
    struct epoll_event e = {0};
    bool has_event = op != EPOLL_CTL_DEL;
    if (has_event) {
        if (ev == NULL)
            r = -EFAULT;
        else
            e = *ev;
    }
    if (r == 0 && has_event && (e.events & EPOLLEXCLUSIVE) &&
        (op == EPOLL_CTL_MOD || (op == EPOLL_CTL_ADD && (e.events & ~EXCLUSIVE_OK))))
        r = -EINVAL;
    struct tp_epitem *it = r == 0 ? item_find(ep, s) : NULL;
    if (r != 0) {
        /* already decided */
    } else if (op == EPOLL_CTL_ADD) {
        if (it != NULL)
            r = -EEXIST;
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
            it->s_next = s->watchers;
            s->watchers = it;
            want_add(ep, it);
        }
    } else if (op == EPOLL_CTL_MOD) {
        if (it == NULL)
            r = -ENOENT;
        else if (it->events & EPOLLEXCLUSIVE)
            r = -EINVAL;
    } else if (op == EPOLL_CTL_DEL) {
        if (it == NULL)
            r = -ENOENT;
        else
            item_free(it);
        it = NULL;
        nest_sync(ep);
    } else {
        r = -EINVAL;
        it = NULL;
    }
    if (r == 0 && it != NULL) { /* ADD or MOD: (re)arm and look at it now */
        it->events = e.events;
        it->data = e.data;
        it->disabled = false;
        snap_take(&it->snap, s);
        rd_add(ep, it);
        nest_sync(ep);
        tc_wake_all();
        if (ep->kernel_waiters > 0) {
            uint64_t one = 1;
            (void)!real_write(ep->ctl_fd, &one, sizeof(one));
        }
    }
    tc_sock_put(s);
    ep_leave(ep);
    return (int)tp_ret(r);
}

int tas_epoll_pwait(int epfd, struct epoll_event *events, int max, int timeout,
                    const sigset_t *mask)
{
    struct tp_epoll *ep = ep_enter(epfd);
    if (ep == NULL)
        return real_epoll_pwait(epfd, events, max, timeout, mask);
    if (max <= 0 || max > EP_MAX_EVENTS || events == NULL) {
        ep_leave(ep);
        return (int)tp_ret(events != NULL || max <= 0 || max > EP_MAX_EVENTS ? -EINVAL
                                                                             : -EFAULT);
    }

    attach_listeners(); /* listeners of a set made before fork() */
    struct timespec dl, *dlp = NULL;
    if (timeout >= 0) {
        tc_deadline_ms(&dl, timeout);
        dlp = &dl;
    }
    int r;
    for (;;) {
        if (ep->fd < 0) { /* closed, and no duplicate could be made */
            r = -EBADF;
            break;
        }
        if (ep->n_items == 0 && n_nested == 0) { /* only kernel descriptors: wait there */
            int fd = ep->fd;
            ep->kernel_waiters++;
            tc_unlock();
            r = real_epoll_pwait(fd, events, max, tc_ms_left(dlp), mask);
            int err = errno;
            tc_lock();
            ep->kernel_waiters--;
            if (r < 0) {
                r = -err;
                break;
            }
            bool poked = false;
            r = filter(ep, events, r, &poked);
            if (r > 0 || !poked || tc_ms_left(dlp) == 0)
                break;
            continue; /* woken by epoll_ctl: a tasd socket came in */
        }
        tc_process();
        int n = 0;
        bool kernel_first = ep->n_kernel > 0 && (ep->turn++ & 1);
        if (kernel_first)
            n = kernel_now(ep, events, max - 1);
        n += collect(ep, events + n, max - n);
        if (n > 0 || tc_ms_left(dlp) == 0) {
            if (!kernel_first && ep->n_kernel > 0)
                n += kernel_now(ep, events + n, max - n);
            r = n;
            break;
        }
        struct pollfd pfd = {.fd = ep->fd, .events = POLLIN};
        ep->sleepers++;
        r = tc_wait(tp_epoll_want(&ep->obj), ep_cond, ep, dlp, &pfd, 1, mask);
        ep->sleepers--;
        if (r < 0)
            break;
        if (r == TC_WAIT_EXTRA) { /* the kernel part has something */
            n = collect(ep, events, max);
            n += kernel_now(ep, events + n, max - n);
            if (n > 0) {
                r = n;
                break;
            }
        }
    }
    nest_sync(ep);
    ep_leave(ep);
    return (int)tp_ret(r);
}

int tas_epoll_wait(int epfd, struct epoll_event *events, int max, int timeout)
{
    return tas_epoll_pwait(epfd, events, max, timeout, NULL);
}
