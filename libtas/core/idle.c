/* idle.c - which connections are idle, and asking tasd to take their
 * rings' memory back.
 *
 * A connection's rings hold bytes only while they are on their way; an
 * idle connection needs none, yet the pages it once touched stay in the
 * region.  So every socket with a flow is on a list in order of its last
 * activity (an update from the fast path, a read), and before a thread
 * sleeps (wait.c) the oldest ones are looked at: a socket untouched for
 * TAS_IDLE_MS (default 1000; 0: never) with nothing unread and nothing
 * unacknowledged, that is not closing, sends TAS_FPIN_IDLE (tas/ctxq.h;
 * post.c adds it to the socket's next update).  From then on no byte is
 * written into its tx ring until the answer comes (TAS_FPOUT_IDLE,
 * events.c; a write waits for it, io.c): the fast path frees the pages
 * under both rings if the flow is still quiet when it looks
 * (fastpath/idle.c).
 *
 * Time is kept in epochs of TAS_IDLE_MS / 2: a socket is touched at most
 * once per epoch (moved to the list's tail), and one last touched three
 * epochs ago has been idle at least TAS_IDLE_MS.  While the list is not
 * empty a sleeping thread wakes every epoch to look (one wake-up for all
 * the sockets that became idle together); an application that never
 * waits never looks, and keeps its pages.
 */
#include "libtas/core/core.h"

#define SWEEP_MAX 256 /* asks per look, so that the fp_in queues keep room */

static void unlink_s(struct tc_ctx *c, struct tc_sock *s)
{
    if (s->iprev != NULL)
        s->iprev->inext = s->inext;
    else
        c->idle_head = s->inext;
    if (s->inext != NULL)
        s->inext->iprev = s->iprev;
    else
        c->idle_tail = s->iprev;
    s->inext = s->iprev = NULL;
    s->ilisted = false;
}

void tc_idle_touch(struct tc_sock *s)
{
    struct tc_ctx *c = &tc_ctx;
    if (s->ilisted && s->iepoch == c->iepoch)
        return; /* touched in this epoch already: the common case */
    if (c->idle_ms <= 0)
        return;
    if (s->ilisted)
        unlink_s(c, s);
    s->iprev = c->idle_tail;
    s->inext = NULL;
    if (c->idle_tail != NULL)
        c->idle_tail->inext = s;
    else
        c->idle_head = s;
    c->idle_tail = s;
    s->ilisted = true;
    s->iepoch = c->iepoch;
}

void tc_idle_forget(struct tc_sock *s)
{
    if (s->ilisted)
        unlink_s(&tc_ctx, s);
}

void tc_idle_reset(void)
{
    struct tc_ctx *c = &tc_ctx;
    for (struct tc_sock *s = c->all; s != NULL; s = s->all_next) {
        s->inext = s->iprev = NULL;
        s->ilisted = s->idle_ask = s->idle_wait = false;
    }
    c->idle_head = c->idle_tail = NULL;
}

/* Nothing in its rings matters, and nothing is on its way. */
static bool quiet(const struct tc_sock *s)
{
    return s->state == TC_SS_CONNECTED && s->flow_live && !s->app_closed &&
           !s->need_attach && !s->attach_wait && !s->detached && !s->reset && !s->dead &&
           !s->wr_shut && !s->idle_ask && !s->idle_wait && !s->dirty && s->n_ctrl == 0 &&
           s->rx_ready == 0 && s->tx_free == s->tx_size && s->rx_priv == NULL;
}

static long ms_since(const struct timespec *a, const struct timespec *b)
{
    return (b->tv_sec - a->tv_sec) * 1000L + (b->tv_nsec - a->tv_nsec) / 1000000L;
}

long tc_idle_sweep(void)
{
    struct tc_ctx *c = &tc_ctx;
    if (c->idle_ms <= 0 || c->idle_head == NULL || c->state != TC_CTX_READY)
        return -1;
    struct timespec now;
    tc_now(&now);
    long half = c->idle_ms / 2 > 0 ? c->idle_ms / 2 : 1;
    long since = ms_since(&c->iepoch_at, &now);
    if (since >= half || since < 0) {
        c->iepoch++;
        c->iepoch_at = now;
        since = 0;
    }
    unsigned n = 0;
    while (c->idle_head != NULL && c->iepoch - c->idle_head->iepoch >= 3) {
        if (n == SWEEP_MAX)
            return 1; /* more are due: soon, once these went */
        struct tc_sock *s = c->idle_head;
        unlink_s(c, s); /* back on the list at its next activity */
        if (!quiet(s))
            continue;
        s->idle_ask = true;
        tc_sock_mark_dirty(s);
        c->stats.idle_asked++;
        n++;
    }
    if (n > 0)
        tc_fp_flush();
    return c->idle_head == NULL ? -1 : half - since;
}

bool tc_idle_writable(void *arg)
{
    const struct tc_sock *s = arg;
    return !s->idle_wait || s->dead || s->reset || !s->flow_live ||
           s->state != TC_SS_CONNECTED || tc_ctx.state != TC_CTX_READY;
}
