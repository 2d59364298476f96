/* revive.c - tasd came back: register again and listen again.
 *
 * When tasd exits (alive.c) connections fail, but listening sockets stay
 * listeners, dormant: nothing to accept, not readable, a blocking accept()
 * waits.  While the process is in that state (TC_CTX_DEAD) every turn of
 * tc_process() (any socket call, and a sleeping thread every REVIVE_MS:
 * wait.c caps its sleeps) looks, at most every REVIVE_MS, whether a tasd
 * answers on app.sock again (tc_process also drops the updates it stashed
 * for flows of the dead tasd).  The first look forgets the dead tasd: the
 * connections' flows (their unread bytes are copied out, sock.c) and its
 * descriptors; its region and global page stay mapped (dead sockets' rings
 * and TCP_INFO point there).  When a tasd answers, the
 * process registers as a new application, each context object gets a
 * context of the new tasd in place (qctx.c, so that threads and sockets
 * that point at it go on), and every dormant listener sends LISTEN again
 * with its address, port, SO_REUSEPORT, backlog and ring sizes; the answer
 * (events.c) makes it a listener of the new tasd, or says once why not
 * (it then stays dormant).  New sockets made meanwhile followed
 * TAS_FALLBACK; from now on they are tasd's again.
 */
#include <arpa/inet.h>
#include <string.h>
#include <time.h>

#include "libtas/core/core.h"

#define REVIVE_NS (REVIVE_MS * 1000000L)

static struct timespec last_look;
static bool forgotten; /* the dead tasd's state is gone */
static int said_back, said_relisten;

/* Let go of everything that named the dead tasd. */
static void forget(void)
{
    struct tc_ctx *c = &tc_ctx;

    for (struct tc_sock *s = c->all; s != NULL; s = s->all_next)
        tc_flow_release(s); /* unread bytes move out of the region */
    tc_own_fd_close(c->app_fd);
    tc_own_fd_close(c->sp_db_fd);
    for (int i = 0; i < TAS_MAX_FP_CORES; i++) {
        tc_own_fd_close(c->fp_db_fd[i]);
        c->fp_db_fd[i] = -1;
    }
    tc_own_fd_close(c->region_fd);
    c->app_fd = c->sp_db_fd = c->region_fd = -1;
    /* The region and the global page stay mapped (the next registration
     * maps new ones): a dead socket's rings and TCP_INFO point there. */
    if (c->flows != NULL)
        memset(c->flows, 0, c->flows_n * sizeof(*c->flows));
    forgotten = true;
}

/* The processes that share one socket after fork() come back as one
 * listener group (its family, sock.c); one that forked since it last used
 * it (need_attach: a prefork master) gets nothing until it uses it again,
 * as before. */
static void relisten(struct tc_sock *s)
{
    if (s->qc == NULL || s->qc->idx >= tc_ctx.n_qc)
        tc_sock_set_qc(s, tc_ctx.qc[0]);
    (void)tc_post_listen(s, ntohs(s->local.sin_port), s->backlog, s->need_attach);
}

void tc_ctx_revive_maybe(void)
{
    struct tc_ctx *c = &tc_ctx;
    struct timespec now;

    if (c->state != TC_CTX_DEAD)
        return;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
    long ns =
        (now.tv_sec - last_look.tv_sec) * 1000000000L + (now.tv_nsec - last_look.tv_nsec);
    if (last_look.tv_sec != 0 && ns < REVIVE_NS)
        return;
    last_look = now;
    if (!forgotten)
        forget();

    uint32_t n_old = c->n_qc;
    c->n_qc = 0; /* the objects stay: tc_qc_add takes them again */
    if (!tc_register_again() || tc_qc_renew(n_old) != 0) {
        if (c->state == TC_CTX_READY) { /* registered, but no contexts: */
            tc_own_fd_close(c->app_fd); /* that tasd sees us leave */
            c->app_fd = -1;
        }
        c->n_qc = n_old;
        __atomic_store_n(&c->state, TC_CTX_DEAD, __ATOMIC_RELEASE);
        return;
    }
    forgotten = false;
    unsigned n = 0;
    for (struct tc_sock *s = c->all; s != NULL; s = s->all_next) {
        if (s->dormant && s->fd >= 0 && !s->app_closed) {
            relisten(s);
            n++;
        }
    }
    tc_say_once(&said_back,
                "libtas: tasd is back (%s); %u listening sockets listen again",
                c->app_path, n);
    tc_wake_all();
}

void tc_revived_listener(struct tc_sock *s, int32_t status, uint32_t listener)
{
    if (s->fd < 0 || s->app_closed || s->state != TC_SS_LISTENING) {
        /* Closed while we asked: give it back. */
        if (status == 0) {
            struct tas_spin_unlisten u = {.listener = listener};
            tc_sp_post(s->qc, TAS_SPIN_UNLISTEN, &u, sizeof(u));
        }
        return;
    }
    if (status != 0) {
        tc_say_once(&said_relisten,
                    "libtas: port %u could not listen again after tasd came back (%s); "
                    "it stays quiet",
                    ntohs(s->local.sin_port), strerror(status < 0 ? -status : EPROTO));
        return;
    }
    s->dormant = false;
    s->listener = listener;
    tc_listener_add(s);
}
