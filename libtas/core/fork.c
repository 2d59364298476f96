/* fork.c - a child's context after fork().
 *
 * A child does not share its parent's context (that would give the queues
 * two producers); it registers as an application of its own.  When the
 * parent holds tasd sockets, tc_fork() first asks tasd to record them for
 * the child (TAS_MSG_FORK, see msg.h), so both hold them afterwards, as
 * with kernel sockets; the child registers at once with the token it got
 * and keeps the parent's region mapped (the inherited connections' rings
 * are there).  Which inherited sockets the child holds is inherit.c's;
 * they are taken over on first use (attach.c).  If tasd cannot record them
 * (or fork() is called some other way, as clone()), the child's inherited
 * tasd sockets are detached: they fail with EOPNOTSUPP.  The handlers run
 * for every fork() once tc_fork_watch() installed them (before the first
 * registration); exec() is the POSIX layer's.
 */
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "libtas/core/core.h"

static uint64_t fork_token;  /* set around real_fork(): the child claims it */
static uint32_t fork_parent; /* the parent's app id */
static pthread_once_t watch_once = PTHREAD_ONCE_INIT;

static void atfork_prepare(void)
{
    tc_reg_lock();
    pthread_mutex_lock(&tc_ctx.lock);
}

static void atfork_parent(void)
{
    pthread_mutex_unlock(&tc_ctx.lock);
    tc_reg_unlock();
}

static void atfork_child(void)
{
    struct tc_ctx *c = &tc_ctx;

    tc_owner_set(); /* before anything changes a slot */
    tc_reg_lock_reset();
    pthread_mutex_init(&c->lock, NULL);
    tc_wake_atfork_child();
    if (c->state != TC_CTX_READY && c->state != TC_CTX_DEAD)
        return;
    bool keep = fork_token != 0 && c->state == TC_CTX_READY;
    tc_inherit(keep);
    tc_own_fd_close(c->app_fd);
    tc_own_fd_close(c->sp_db_fd);
    tc_qc_forget_all(); /* the parent's threads' contexts */
    for (struct tc_sock *s = c->all; s != NULL; s = s->all_next)
        tc_sock_set_qc(s, NULL);
    for (int i = 0; i < TAS_MAX_FP_CORES; i++)
        tc_own_fd_close(c->fp_db_fd[i]);
    /* Inherited connections keep their rings in the parent's region: the
     * mapping (and its descriptor, for exec) stays for the life of this
     * process. */
    struct tc_map maps[TC_MAX_MAPS];
    int n_maps = 0;
    if (keep) {
        for (int i = 0; i < c->n_maps; i++)
            maps[n_maps++] = c->maps[i];
        if (n_maps < TC_MAX_MAPS) {
            maps[n_maps++] = (struct tc_map){c->region, c->region_size, c->region_fd};
        } else {
            tc_own_fd_close(c->region_fd);
        }
    } else {
        munmap(c->region, c->region_size);
        tc_own_fd_close(c->region_fd);
        for (int i = 0; i < c->n_maps; i++) {
            munmap(c->maps[i].base, c->maps[i].size);
            tc_own_fd_close(c->maps[i].fd);
        }
    }
    munmap((void *)c->global, c->global_size);
    tc_stash_clear();
    struct tc_sock *all = c->all, *listeners = c->listeners, **flows = c->flows;
    uint32_t flows_n = c->flows_n;
    uint64_t serial = c->next_serial;
    bool fallback_ok = c->fallback_ok, pend = c->attach_pending;
    int spin = c->spin_us, idle_ms = c->idle_ms;
    bool thread_ctx = c->thread_ctx;
    memset((char *)c + sizeof(c->lock), 0, sizeof(*c) - sizeof(c->lock));
    c->app_fd = c->sp_db_fd = c->region_fd = -1;
    for (int i = 0; i < TAS_MAX_FP_CORES; i++)
        c->fp_db_fd[i] = -1;
    memcpy(c->maps, maps, sizeof(maps));
    c->n_maps = n_maps;
    c->all = all;
    c->listeners = listeners;
    c->flows = keep ? flows : NULL;
    c->flows_n = keep ? flows_n : 0;
    if (!keep)
        free(flows);
    c->next_serial = serial;
    c->attach_pending = pend;
    c->fallback_ok = fallback_ok;
    c->spin_us = spin;
    c->idle_ms = idle_ms;
    c->thread_ctx = thread_ctx;
    tc_idle_reset();
    c->state = TC_CTX_NONE;
    if (!keep)
        return;
    /* Claim what the parent recorded for us, before anything else. */
    bool claimed = tc_register(fork_token, fork_parent);
    if (c->state == TC_CTX_READY) {
        /* This thread's context and wake-up eventfd now, before the child
         * can lock itself in (sshd's seccomp sandbox allows no eventfd2). */
        tc_lock();
        (void)tc_qc_mine();
        tc_unlock();
    }
    if (c->state == TC_CTX_READY && claimed) {
        for (struct tc_sock *s = c->all; s != NULL; s = s->all_next)
            tc_sock_set_qc(s, c->qc[0]);
        tc_inherit_release_unheld();
        return;
    }
    for (struct tc_sock *s = c->all; s != NULL; s = s->all_next) {
        if (s->need_attach) {
            s->need_attach = false;
            s->detached = true;
        }
    }
}

pid_t tc_fork(void)
{
    struct tc_ctx *c = &tc_ctx;
    uint64_t token = 0;

    if (__atomic_load_n(&c->state, __ATOMIC_ACQUIRE) == TC_CTX_READY) {
        tc_reg_lock();
        tc_lock();
        if (c->state == TC_CTX_READY && c->all != NULL) {
            token = tc_fork_request(0);
            fork_parent = c->hdr.app_id;
        }
        tc_unlock();
        tc_reg_unlock();
    }
    fork_token = token;
    pid_t pid = real_fork();
    int err = errno;
    fork_token = 0;
    if (pid != 0 && token != 0) {
        tc_lock();
        if (c->state == TC_CTX_READY) {
            tc_fork_done(token, pid);
            /* tasd stopped giving our listeners connections. */
            for (struct tc_sock *s = c->listeners; s != NULL; s = s->lnext)
                tc_mark_need_attach(s);
        }
        tc_unlock();
    }
    errno = err;
    return pid;
}

static void watch(void)
{
    pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}

void tc_fork_watch(void)
{
    pthread_once(&watch_once, watch);
}
