/* wait.c - sleeping until tasd has something for us, without lost wake-ups.
 *
 * tasd writes a context's eventfd only when the context is armed (shm.h):
 * the sleeper arms, looks at its queues once more, and only then sleeps.
 * A thread waits for its own context (qctx.c) and for those of the sockets
 * its caller waits on (want).  For each of them one thread at a time is
 * the *leader*: it arms the context and sleeps on its eventfd.  A thread
 * leads every context it waits for that nobody leads; before sleeping it
 * spins briefly (TAS_SPIN_US, default 5), then arms, re-checks, and sleeps
 * in ppoll() on {its wake eventfd, the eventfds of the contexts it leads,
 * app.sock, and the caller's kernel descriptors}.  For the contexts others
 * lead it is a *follower*: its wake eventfd is enough.  So when every
 * thread waits for its own sockets, each sleeps on its own eventfd and
 * tasd wakes just the thread whose connection changed.
 *
 * Whoever applies entries from a context (any thread, under tc_lock) writes
 * the wake eventfd of every listed waiter that waits for that context, so
 * a follower never misses a change it was waiting for: it listed itself
 * under the lock before sleeping, and its eventfd stays readable until it
 * drains it.  A leader that leaves while followers remain wakes one of
 * them to take its place.  Local changes (shutdown, close, tasd's exit)
 * wake all waiters.
 *
 * Each waiting thread therefore owns one eventfd (wake.c keeps them and the
 * list of waiters), and a context's eventfd is read by one thread at a
 * time.
 */
#include <stdlib.h>

#include "libtas/core/core.h"

#if defined(__x86_64__) || defined(__i386__)
#define cpu_relax() __builtin_ia32_pause()
#elif defined(__aarch64__)
#define cpu_relax() __asm__ volatile("yield")
#else
#define cpu_relax() __asm__ volatile("" ::: "memory")
#endif

static bool few_fds; /* ppoll() said EINVAL: RLIMIT_NOFILE is below what we poll */

#define STACK_FDS        8
#define NO_WAKEFD_MAX_MS 10 /* without a wake eventfd, sleep in short slices */
#define PENDING_MAX_MS   1  /* with unposted entries, retry soon */

/* Awake again: tasd need not write the eventfd.  Safe because we look at
 * the queues before sleeping again, after arming anew. */
static void disarm(struct tc_qctx *q)
{
    atomic_store_explicit(&q->chdr->armed, 0, memory_order_relaxed);
}

/* Are all installed signal handlers SA_RESTART?  Then a blocking socket call
 * interrupted by one carries on, as the kernel would; otherwise it fails
 * with EINTR.  Only asked after an interruption. */
bool tc_restart_signals(void)
{
    for (int sig = 1; sig <= SIGRTMAX; sig++) {
        struct sigaction sa;
        if (sigaction(sig, NULL, &sa) != 0)
            continue;
        if ((sa.sa_flags & SA_SIGINFO) ||
            (sa.sa_handler != SIG_DFL && sa.sa_handler != SIG_IGN)) {
            if (!(sa.sa_flags & SA_RESTART))
                return false;
        }
    }
    return true;
}

/* ------------------------------------------------------------ waiting */

/* The leader spins for a moment before sleeping: the reply to what was just
 * sent is often a few microseconds away. */
static bool spin(tc_cond_fn cond, void *arg)
{
    struct timespec end, now;
    tc_now(&end);
    end.tv_nsec += tc_ctx.spin_us * 1000L;
    while (end.tv_nsec >= 1000000000L) {
        end.tv_sec++;
        end.tv_nsec -= 1000000000L;
    }
    for (;;) {
        tc_unlock();
        for (int i = 0; i < 64; i++)
            cpu_relax();
        tc_lock();
        if (tc_process() > 0 || (cond != NULL && cond(arg)))
            return true;
        tc_now(&now);
        if (now.tv_sec > end.tv_sec ||
            (now.tv_sec == end.tv_sec && now.tv_nsec >= end.tv_nsec))
            return false;
    }
}

/* Contexts in bits, one by one. */
#define EACH_QC(q, bits)                                                                 \
    for (uint64_t b_ = (bits); b_ != 0; b_ &= b_ - 1)                                    \
        for (struct tc_qctx *q = tc_ctx.qc[__builtin_ctzll(b_)];                         \
             q != NULL && !q->vacant; q = NULL)

static void unlead(uint64_t led)
{
    EACH_QC(q, led)
    {
        disarm(q);
        q->leader = NULL;
    }
}

/* Lead every context in want that nobody leads (*led): spin a moment
 * (unless the deadline, left if not NULL, is closer), then arm their
 * wake-ups.  True if something arrived meanwhile: look again, leading
 * nothing. */
static bool lead_arrived(uint64_t want, tc_cond_fn cond, void *arg,
                         const struct timespec *left, uint64_t *led)
{
    struct tc_ctx *c = &tc_ctx;
    uint64_t l = 0;
    EACH_QC(q, want)
    {
        if (q->leader == NULL) {
            q->leader = tc_qc_self();
            l |= tc_qc_bit(q);
        }
    }
    *led = l;
    if (l == 0)
        return false;
    if (c->spin_us > 0 &&
        (left == NULL || left->tv_sec > 0 || left->tv_nsec > c->spin_us * 1000L) &&
        spin(cond, arg)) {
        unlead(l);
        *led = 0;
        return true;
    }
    EACH_QC(q, l)
    {
        tas_ctx_arm(q->chdr);
    }
    if (tc_process() > 0) {
        unlead(l);
        *led = 0;
        return true;
    }
    return false;
}

/* The sleep's timeout: tsp, cut short without a wake-up descriptor (we
 * look at our queues every NO_WAKEFD_MAX_MS), with posts still parked
 * (retried every PENDING_MAX_MS) or when idle sockets are to be looked at
 * (idle_ms, idle.c; -1: none); *cap holds the shorter one. */
static struct timespec *capped(int wfd, struct timespec *tsp, struct timespec *cap,
                               long idle_ms)
{
    long cap_ms = wfd < 0 ? NO_WAKEFD_MAX_MS : tc_post_pending() ? PENDING_MAX_MS : -1;
    if (tc_ctx.state == TC_CTX_DEAD && (cap_ms < 0 || cap_ms > REVIVE_MS))
        cap_ms = REVIVE_MS; /* look for tasd's return (revive.c) */
    if (idle_ms >= 0 && (cap_ms < 0 || idle_ms < cap_ms))
        cap_ms = idle_ms;
    if (cap_ms < 0)
        return tsp;
    cap->tv_sec = cap_ms / 1000;
    cap->tv_nsec = cap_ms % 1000 * 1000000L;
    if (tsp == NULL || tsp->tv_sec > cap->tv_sec ||
        (tsp->tv_sec == cap->tv_sec && tsp->tv_nsec > cap->tv_nsec))
        return cap;
    return tsp;
}

int tc_wait(uint64_t want, tc_cond_fn cond, void *arg, const struct timespec *deadline,
            struct pollfd *extra, nfds_t n_extra, const sigset_t *mask)
{
    struct tc_ctx *c = &tc_ctx;
    struct pollfd stack_fds[STACK_FDS + 2 + TC_MAX_QC], *pfds = stack_fds;
    int wfd = tc_wake_fd();
    int rc;

    if (n_extra > STACK_FDS) {
        pfds = malloc((n_extra + 2 + TC_MAX_QC) * sizeof(*pfds));
        if (pfds == NULL)
            return -ENOMEM;
    }
    if (c->state == TC_CTX_READY)
        want |= tc_qc_bit(tc_qc_mine());
    uint64_t moves = c->moves;
    for (;;) {
        tc_process();
        if (unlikely(c->moves != moves))
            want = ~(uint64_t)0; /* what the caller waits on may have moved */
        if (cond != NULL && cond(arg)) {
            rc = TC_WAIT_COND;
            break;
        }
        struct timespec left, *tsp = NULL;
        if (deadline != NULL) {
            if (!tc_time_left(deadline, &left)) {
                rc = TC_WAIT_TIMEOUT;
                break;
            }
            tsp = &left;
        }

        uint64_t led = 0;
        want &= tc_qc_all();
        if (c->state == TC_CTX_READY &&
            lead_arrived(want, cond, arg, deadline != NULL ? &left : NULL, &led))
            continue;

        nfds_t k = 0, first_extra;
        int i_wake = -1, i_app = -1, i_efd[TC_MAX_QC];
        EACH_QC(q, led)
        {
            i_efd[q->idx] = -1;
        }
        if (unlikely(few_fds)) {
            /* RLIMIT_NOFILE below what we poll (sshd's sandbox: 1): the
             * caller's descriptor, else one of ours, and a look at the
             * rest every NO_WAKEFD_MAX_MS. */
            if (n_extra == 0 && led != 0) {
                EACH_QC(q, led)
                {
                    if (k == 0) {
                        pfds[k] = (struct pollfd){.fd = q->efd, .events = POLLIN};
                        i_efd[q->idx] = (int)k++;
                    }
                }
            } else if (n_extra == 0 && wfd >= 0) {
                pfds[k] = (struct pollfd){.fd = wfd, .events = POLLIN};
                i_wake = (int)k++;
            }
        } else {
            if (wfd >= 0) {
                pfds[k] = (struct pollfd){.fd = wfd, .events = POLLIN};
                i_wake = (int)k++;
            }
            EACH_QC(q, led)
            {
                pfds[k] = (struct pollfd){.fd = q->efd, .events = POLLIN};
                i_efd[q->idx] = (int)k++;
            }
            if (led != 0) {
                pfds[k] = (struct pollfd){.fd = c->app_fd, .events = POLLIN};
                i_app = (int)k++;
            }
        }
        first_extra = k;
        for (nfds_t i = 0; i < n_extra; i++) {
            pfds[k] = extra[i];
            pfds[k++].revents = 0;
        }
        struct timespec cap;
        tsp = capped(few_fds ? -1 : wfd, tsp, &cap, tc_idle_sweep());
        if (wfd >= 0)
            tc_wake_list(want);
        tc_unlock();
        int r = real_ppoll(pfds, k, tsp, mask);
        int err = errno;
        tc_lock();
        tc_wake_unlist();
        if (i_wake >= 0 && pfds[i_wake].revents != 0)
            tc_eventfd_drain(wfd);
        EACH_QC(q, led)
        {
            disarm(q); /* awake now: spare tasd a kick */
            if (i_efd[q->idx] >= 0 && (pfds[i_efd[q->idx]].revents & POLLIN))
                tc_eventfd_drain(q->efd); /* tasd's eventfd blocks: read it when ready */
            q->leader = NULL;
        }
        if ((i_app >= 0 && pfds[i_app].revents != 0) || few_fds)
            tc_ctx_check_alive(!few_fds);
        if (r < 0 && err == EINVAL && k > 1 && !few_fds) {
            few_fds = true; /* RLIMIT_NOFILE < k: poll fewer from now on */
            continue;
        }
        if (r < 0 && err != EINTR) {
            rc = -err;
            break;
        }
        if (r < 0) {
            tc_process();
            rc = -EINTR;
            break;
        }
        bool extra_ready = false;
        for (nfds_t i = 0; i < n_extra; i++) {
            extra[i].revents = pfds[first_extra + i].revents;
            if (extra[i].revents != 0)
                extra_ready = true;
        }
        if (extra_ready) {
            tc_process();
            rc = TC_WAIT_EXTRA;
            break;
        }
    }
    /* Hand the lead of what we waited for on to another waiter. */
    uint64_t unled = 0;
    EACH_QC(q, want & tc_qc_all())
    {
        if (q->leader == NULL)
            unled |= tc_qc_bit(q);
    }
    if (unled != 0)
        tc_wake_one_for(unled);
    if (pfds != stack_fds)
        free(pfds);
    return rc;
}
