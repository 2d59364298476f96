/* wake.c - the threads asleep in tc_wait() and how to wake them.
 *
 * Each thread that has waited owns one eventfd (made on its first wait,
 * closed when the thread exits).  While it sleeps it is on the process's
 * list of waiters, under tc_lock, with the contexts it waits for (a bit
 * each, qctx.c); whoever applies entries from a context writes the eventfd
 * of every listed waiter that waits for it, and whoever changes something
 * locally (a shutdown or close, tasd's exit) that of every waiter.  The
 * eventfd stays readable until its owner drains it, so no wake-up is
 * lost.  wait.c decides who sleeps on what; this file only keeps the list
 * and counts the wake-ups it gives (for tasctl stats).
 */
#include <sys/eventfd.h>

#include "libtas/core/core.h"

struct tc_waiter {
    struct tc_waiter *next, *prev;
    int fd;
    bool listed;
    uint64_t want; /* the contexts it waits for */
};

static __thread struct tc_waiter self
    __attribute__((tls_model("initial-exec"))) = {.fd = -1};
static pthread_key_t exit_key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;

static void thread_exit(void *arg)
{
    struct tc_waiter *w = arg;
    if (w->fd >= 0) {
        tc_own_fd_close(w->fd);
        w->fd = -1;
    }
}

static void make_key(void)
{
    pthread_key_create(&exit_key, thread_exit);
}

int tc_wake_fd(void)
{
    if (self.fd >= 0)
        return self.fd;
    pthread_once(&key_once, make_key);
    int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (fd < 0)
        return -1;
    self.fd = fd = tc_own_fd(fd);
    pthread_setspecific(exit_key, &self);
    return fd;
}

void tc_wake_atfork_child(void)
{
    if (self.fd >= 0) {
        tc_own_fd_close(self.fd);
        self.fd = -1;
    }
    self.listed = false;
}

/* Lock held: wake a waiter, and count it where tasctl stats shows it (the
 * first context's header, shm.h). */
static void poke(int fd)
{
    uint64_t one = 1;
    (void)!real_write(fd, &one, sizeof(one));
    tc_ctx.stats.lib_wakes++;
    const struct tc_qctx *q = tc_ctx.n_qc > 0 ? tc_ctx.qc[0] : NULL;
    if (q != NULL && q->chdr != NULL)
        atomic_fetch_add_explicit(&q->chdr->lib_wakes, 1, memory_order_relaxed);
}

void tc_eventfd_drain(int fd)
{
    uint64_t v;
    (void)!real_read(fd, &v, sizeof(v));
}

void tc_wake_list(uint64_t want)
{
    struct tc_ctx *c = &tc_ctx;
    self.want = want;
    self.prev = NULL;
    self.next = c->waiters;
    if (c->waiters != NULL)
        c->waiters->prev = &self;
    c->waiters = &self;
    self.listed = true;
}

void tc_wake_unlist(void)
{
    struct tc_ctx *c = &tc_ctx;
    if (!self.listed)
        return;
    if (self.prev != NULL)
        self.prev->next = self.next;
    else
        c->waiters = self.next;
    if (self.next != NULL)
        self.next->prev = self.prev;
    self.listed = false;
}

void tc_wake_all(void)
{
    for (struct tc_waiter *w = tc_ctx.waiters; w != NULL; w = w->next)
        poke(w->fd);
}

void tc_wake_for(uint64_t bits)
{
    for (struct tc_waiter *w = tc_ctx.waiters; w != NULL; w = w->next)
        if (w->want & bits)
            poke(w->fd);
}

void tc_wake_one_for(uint64_t bits)
{
    for (struct tc_waiter *w = tc_ctx.waiters; w != NULL && bits != 0; w = w->next) {
        if (w->want & bits) {
            poke(w->fd);
            bits &= ~w->want;
        }
    }
}
