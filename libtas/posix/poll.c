/* poll.c - poll, ppoll, select and pselect over mixed descriptor sets.
 *
 * A set without tasd sockets goes straight to libc.  Otherwise the set is
 * split: tasd sockets are judged from library state (ready.c), the other
 * descriptors by the kernel.  If a tasd socket is ready (or the timeout is
 * zero) the kernel part is polled with a zero timeout and the answers are
 * merged; if not, the thread sleeps in tc_wait() with the kernel part as
 * its extra descriptors, so it wakes for whichever side is first.  A tasd
 * socket closed by another thread meanwhile is reported POLLNVAL at once; one
 * that moves to the kernel (tasd exited) is polled there for the time left.
 *
 * An epoll descriptor wrapped by libtas in the set counts as readable when
 * one of its tasd sockets is ready, and is also polled by the kernel for its
 * kernel descriptors.  select() is poll() with its bits translated the way
 * Linux translates them.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "libtas/posix/posix.h"
#include "libtas/libtas.h"

#define STACK_FDS 16

enum { K_KERNEL = 0, K_SOCK = 1, K_EPOLL = 2 };

struct pset {
    struct pollfd *fds;
    nfds_t n;
    const nfds_t *kmap; /* indexes of the kernel entries, increasing */
    nfds_t nk;
};

static bool is_tas(int fd)
{
    struct tc_obj *o = tp_fd_get(fd);
    return o != NULL && (o->kind == TC_OBJ_SOCK || o->kind == TP_OBJ_EPOLL);
}

static bool has_tas(const struct pollfd *fds, nfds_t n)
{
    for (nfds_t i = 0; i < n; i++)
        if (unlikely(is_tas(fds[i].fd)))
            return true;
    return false;
}

/* With the lock held: tasd readiness into revents; returns how many entries
 * are ready on the tasd side. */
static int eval_tas(struct pollfd *fds, nfds_t n, bool write)
{
    int ready = 0;
    for (nfds_t i = 0; i < n; i++) {
        struct tc_obj *o = tp_fd_get(fds[i].fd);
        if (o == NULL || (o->kind != TC_OBJ_SOCK && o->kind != TP_OBJ_EPOLL))
            continue;
        uint32_t m;
        if (o->kind == TC_OBJ_SOCK && unlikely(((struct tc_sock *)o)->need_attach))
            tc_sock_attach((struct tc_sock *)o);
        if (o->kind == TC_OBJ_SOCK)
            m = tc_sock_ready((struct tc_sock *)o) &
                ((uint32_t)(uint16_t)fds[i].events | POLLERR | POLLHUP);
        else
            m = tp_epoll_ready(o, NULL) & (uint32_t)(uint16_t)fds[i].events;
        if (write)
            fds[i].revents = (short)(fds[i].revents | (short)m);
        if (m != 0)
            ready++;
    }
    return ready;
}

/* The contexts (core/qctx.c) whose news the tasd entries wait for. */
static uint64_t want_of(const struct pollfd *fds, nfds_t n)
{
    uint64_t want = 0;
    for (nfds_t i = 0; i < n; i++) {
        struct tc_obj *o = tp_fd_get(fds[i].fd);
        if (o != NULL && o->kind == TC_OBJ_SOCK)
            want |= tc_qc_bit(((struct tc_sock *)o)->qc);
        else if (o != NULL && o->kind == TP_OBJ_EPOLL)
            want |= tp_epoll_want(o);
    }
    return want;
}

/* Has one of the tasd entries stopped being a tasd socket (closed by another
 * thread, or moved to the kernel when tasd exited)? */
static bool tp_entry_gone(const struct pset *p)
{
    for (nfds_t i = 0, k = 0; i < p->n; i++) {
        if (k < p->nk && p->kmap[k] == i) {
            k++;
            continue;
        }
        struct tc_obj *o = tp_fd_get(p->fds[i].fd);
        if (o == NULL || o->kind != TC_OBJ_SOCK)
            return true;
    }
    return false;
}

static bool poll_cond(void *arg)
{
    struct pset *p = arg;
    return eval_tas(p->fds, p->n, false) > 0 || tp_entry_gone(p);
}

/* The emulation proper.  Returns the number of ready entries or -errno. */
static int poll_emulate(struct pollfd *fds, nfds_t n, const struct timespec *deadline,
                        const sigset_t *mask)
{
    struct pollfd kstack[STACK_FDS], *kfds = kstack;
    nfds_t mstack[STACK_FDS], *kmap = mstack, nk = 0;
    int r;

    if (n > STACK_FDS) {
        kfds = malloc(n * sizeof(*kfds));
        kmap = malloc(n * sizeof(*kmap));
        if (kfds == NULL || kmap == NULL) {
            free(kfds == kstack ? NULL : kfds);
            free(kmap == mstack ? NULL : kmap);
            return -ENOMEM;
        }
    }
    tc_lock();
split:
    nk = 0;
    for (nfds_t i = 0; i < n; i++) {
        struct tc_obj *o = tp_fd_get(fds[i].fd);
        fds[i].revents = 0;
        if (o != NULL && o->kind == TC_OBJ_SOCK)
            continue;
        kfds[nk] = fds[i];
        kmap[nk++] = i;
    }
    struct pset ps = {fds, n, kmap, nk};
    for (;;) {
        tc_process();
        int nt = eval_tas(fds, n, false);
        if (nt > 0 || tp_entry_gone(&ps) || tc_ms_left(deadline) == 0) {
            tc_unlock();
            struct timespec zero = {0, 0};
            r = nk > 0 ? real_ppoll(kfds, nk, &zero, NULL) : 0;
            tc_lock();
            if (r < 0) {
                r = -errno;
                break;
            }
            r = TC_WAIT_EXTRA;
        } else {
            r = tc_wait(want_of(fds, n), poll_cond, &ps, deadline, kfds, nk, mask);
            if (r < 0)
                break;
            if (r != TC_WAIT_EXTRA)
                continue; /* re-evaluate at the top */
        }
        /* Merge the kernel's answers with ours. */
        bool moved = false;
        for (nfds_t k = 0; k < nk; k++)
            fds[kmap[k]].revents = kfds[k].revents;
        for (nfds_t i = 0, k = 0; i < n; i++) {
            if (k < nk && kmap[k] == i) { /* kmap is in increasing order */
                k++;
                continue;
            }
            struct tc_obj *o = tp_fd_get(fds[i].fd);
            if (o != NULL && o->kind == TC_OBJ_SOCK)
                continue;
            if (real_fcntl(fds[i].fd, F_GETFD, NULL) < 0)
                fds[i].revents = POLLNVAL; /* closed while we waited */
            else
                moved = true; /* now the kernel's (tasd exited) */
        }
        eval_tas(fds, n, true);
        r = 0;
        for (nfds_t i = 0; i < n; i++)
            if (fds[i].revents != 0)
                r++;
        /* Nothing to report but a socket went to the kernel: poll it there
         * for the rest of the time, instead of returning 0 early. */
        if (r == 0 && moved && tc_ms_left(deadline) != 0)
            goto split;
        break;
    }
    tc_unlock();
    if (kfds != kstack) {
        free(kfds);
        free(kmap);
    }
    return r;
}

int tas_poll(struct pollfd *fds, nfds_t n, int timeout)
{
    if (likely(!has_tas(fds, n)))
        return real_poll(fds, n, timeout);
    struct timespec d;
    if (timeout >= 0)
        tc_deadline_ms(&d, timeout);
    return (int)tp_ret(poll_emulate(fds, n, timeout >= 0 ? &d : NULL, NULL));
}

static void deadline_ts(struct timespec *d, const struct timespec *ts)
{
    tc_now(d);
    d->tv_sec += ts->tv_sec;
    d->tv_nsec += ts->tv_nsec;
    while (d->tv_nsec >= 1000000000L) {
        d->tv_sec++;
        d->tv_nsec -= 1000000000L;
    }
}

int tas_ppoll(struct pollfd *fds, nfds_t n, const struct timespec *ts,
              const sigset_t *mask)
{
    if (likely(!has_tas(fds, n)))
        return real_ppoll(fds, n, ts, mask);
    struct timespec d;
    if (ts != NULL) {
        if (ts->tv_sec < 0 || ts->tv_nsec < 0 || ts->tv_nsec >= 1000000000L)
            return (int)tp_ret(-EINVAL);
        deadline_ts(&d, ts);
    }
    return (int)tp_ret(poll_emulate(fds, n, ts != NULL ? &d : NULL, mask));
}

/* ------------------------------------------------------------ select */

#define NFDBITS_ (8 * (int)sizeof(unsigned long))

static bool bit_get(const fd_set *s, int fd)
{
    return s != NULL &&
           (((const unsigned long *)s)[fd / NFDBITS_] >> (fd % NFDBITS_)) & 1UL;
}

static void bit_set(fd_set *s, int fd)
{
    ((unsigned long *)s)[fd / NFDBITS_] |= 1UL << (fd % NFDBITS_);
}

static bool sets_have_tas(int nfds, fd_set *r, fd_set *w, fd_set *e)
{
    for (int fd = 0; fd < nfds; fd++)
        if ((bit_get(r, fd) || bit_get(w, fd) || bit_get(e, fd)) && is_tas(fd))
            return true;
    return false;
}

static void zero_set(fd_set *s, int nfds)
{
    if (s != NULL)
        memset(s, 0, (size_t)(nfds + NFDBITS_ - 1) / NFDBITS_ * sizeof(unsigned long));
}

static int select_emulate(int nfds, fd_set *rs, fd_set *ws, fd_set *es,
                          const struct timespec *deadline, const sigset_t *mask)
{
    nfds_t n = 0;
    for (int fd = 0; fd < nfds; fd++)
        if (bit_get(rs, fd) || bit_get(ws, fd) || bit_get(es, fd))
            n++;
    struct pollfd *fds = calloc(n ? n : 1, sizeof(*fds));
    if (fds == NULL)
        return -ENOMEM;
    n = 0;
    for (int fd = 0; fd < nfds; fd++) {
        short ev =
            (short)((bit_get(rs, fd) ? POLLIN : 0) | (bit_get(ws, fd) ? POLLOUT : 0) |
                    (bit_get(es, fd) ? POLLPRI : 0));
        if (ev != 0)
            fds[n++] = (struct pollfd){.fd = fd, .events = ev};
    }
    int r = poll_emulate(fds, n, deadline, mask);
    if (r >= 0) {
        for (nfds_t i = 0; i < n; i++)
            if (fds[i].revents & POLLNVAL)
                r = -EBADF;
    }
    if (r >= 0) {
        int count = 0;
        zero_set(rs, nfds); /* what was asked is in fds[].events */
        zero_set(ws, nfds);
        zero_set(es, nfds);
        for (nfds_t i = 0; i < n; i++) {
            short ev = fds[i].events, re = fds[i].revents;
            if ((ev & POLLIN) && (re & (POLLIN | POLLRDNORM | POLLHUP | POLLERR))) {
                bit_set(rs, fds[i].fd);
                count++;
            }
            if ((ev & POLLOUT) && (re & (POLLOUT | POLLWRNORM | POLLERR))) {
                bit_set(ws, fds[i].fd);
                count++;
            }
            if ((ev & POLLPRI) && (re & POLLPRI)) {
                bit_set(es, fds[i].fd);
                count++;
            }
        }
        r = count;
    }
    free(fds);
    return r;
}

int tas_select(int nfds, fd_set *rs, fd_set *ws, fd_set *es, struct timeval *tv)
{
    if (likely(nfds <= 0 || !sets_have_tas(nfds, rs, ws, es)))
        return real_select(nfds, rs, ws, es, tv);
    if (tv != NULL && (tv->tv_sec < 0 || tv->tv_usec < 0))
        return (int)tp_ret(-EINVAL);
    struct timespec d;
    if (tv != NULL) {
        struct timespec ts = {tv->tv_sec + tv->tv_usec / 1000000,
                              (tv->tv_usec % 1000000) * 1000};
        deadline_ts(&d, &ts);
    }
    int r = select_emulate(nfds, rs, ws, es, tv != NULL ? &d : NULL, NULL);
    if (tv != NULL) { /* Linux reports the time left */
        struct timespec now;
        tc_now(&now);
        long long left =
            (d.tv_sec - now.tv_sec) * 1000000LL + (d.tv_nsec - now.tv_nsec) / 1000;
        if (left < 0)
            left = 0;
        tv->tv_sec = left / 1000000;
        tv->tv_usec = left % 1000000;
    }
    return (int)tp_ret(r);
}

int tas_pselect(int nfds, fd_set *rs, fd_set *ws, fd_set *es, const struct timespec *ts,
                const sigset_t *mask)
{
    if (likely(nfds <= 0 || !sets_have_tas(nfds, rs, ws, es)))
        return real_pselect(nfds, rs, ws, es, ts, mask);
    if (ts != NULL && (ts->tv_sec < 0 || ts->tv_nsec < 0 || ts->tv_nsec >= 1000000000L))
        return (int)tp_ret(-EINVAL);
    struct timespec d;
    if (ts != NULL)
        deadline_ts(&d, ts);
    return (int)tp_ret(select_emulate(nfds, rs, ws, es, ts != NULL ? &d : NULL, mask));
}
