/* qctx.c - contexts: each thread's own queues to and from tasd.
 *
 * A context is a set of queues in the region (sp_in, sp_out, and fp_in,
 * fp_out per fast-path core) and an eventfd that tasd writes when the
 * context is armed and an entry arrives (shm.h).  tasd tells a listener's,
 * a connection request's or a flow's news on the context that asked for it
 * (or that ATTACH moved it to), so a thread that waits for its own sockets
 * is woken by tasd directly, not by whichever thread happened to read a
 * shared queue.
 *
 * The first context comes with registration (register.c).  Every other
 * thread gets one on its first socket call: CTX_NEW on app.sock, answered
 * with the context's index and eventfd.  When a thread exits, its context
 * goes back to tasd (leave.c) if no open socket of the process points at
 * it; the object stays, vacant, for the next new thread's CTX_NEW.  If
 * sockets still point at it (their entries come there), it stays with the
 * process and the next new thread takes it over as it is.  So a process
 * holds as many contexts as it has threads, plus those of exited threads
 * whose sockets live on.  When tasd comes back after it exited (revive.c),
 * every context object is given a new context of the new tasd in place
 * (tc_qc_renew), so that the threads and sockets that point at them go on.
 * When tasd gives no more (limits.max_ctx), or with TAS_THREAD_CTX=0,
 * threads share contexts, which the process lock makes safe.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libtas/core/core.h"

static __thread struct tc_qctx *mine __attribute__((tls_model("initial-exec")));
static pthread_key_t exit_key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;
#define CTX_TIMEOUT_MS 5000

static int said_shared;
static bool no_more; /* tasd refused CTX_NEW: share from now on */

static void (*exit_hook)(struct tc_qctx *q);

void tc_qc_on_exit(void (*fn)(struct tc_qctx *q))
{
    exit_hook = fn;
}

void tc_qc_vacate(struct tc_qctx *q)
{
    q->vacant = true; /* (its eventfd is not watched until qc_fill) */
    q->owned = false;
    no_more = false; /* tasd may have room again */
}

/* The thread exits: its context goes back to tasd (the hook, leave.c), or
 * to the next thread. */
static void thread_exit(void *arg)
{
    struct tc_qctx *q = arg;
    tc_lock();
    /* (a fork child forgot its parent's contexts: q may be gone) */
    for (uint32_t i = 0; i < tc_ctx.n_qc; i++) {
        if (tc_ctx.qc[i] != q)
            continue;
        q->owned = false;
        if (exit_hook != NULL)
            exit_hook(q);
    }
    tc_unlock();
    mine = NULL;
}

static void make_key(void)
{
    pthread_key_create(&exit_key, thread_exit);
}

/* q, an object in use before (after tasd came back, revive.c, or vacant),
 * gets context id of tasd with eventfd efd.  Threads and sockets may point
 * at it, and a thread may sleep on its descriptor number: the new eventfd
 * takes that number.  0 or -errno (efd is the caller's then). */
static int qc_fill(struct tc_qctx *q, uint32_t id, int efd)
{
    const struct tas_region_hdr *h = &tc_ctx.hdr;
    if (q->efd < 0) {
        q->efd = tc_own_fd(efd); /* a new object */
    } else {
        if (real_dup3(efd, q->efd, O_CLOEXEC) < 0)
            return -errno;
        real_close(efd);
    }
    q->leader = NULL;
    q->vacant = false;
    tas_parkq_clear(&q->sp_over);
    uint8_t *region = tc_ctx.region;
    q->id = id;
    q->chdr = tas_ctx_hdr(region, h->ctx_off, h->ctx_stride, id);
    tas_q_init(&q->sp_in,
               tas_ctx_queue_ents(region, h->ctx_off, h->ctx_stride, h->q_ents, id,
                                  TAS_CQ_SP_IN),
               h->q_ents);
    tas_q_init(&q->sp_out,
               tas_ctx_queue_ents(region, h->ctx_off, h->ctx_stride, h->q_ents, id,
                                  TAS_CQ_SP_OUT),
               h->q_ents);
    for (uint32_t i = 0; i < h->n_fp; i++) {
        tas_q_init(&q->fp_in[i],
                   tas_ctx_queue_ents(region, h->ctx_off, h->ctx_stride, h->q_ents, id,
                                      tas_cq_fp_in(i)),
                   h->q_ents);
        tas_q_init(&q->fp_out[i],
                   tas_ctx_queue_ents(region, h->ctx_off, h->ctx_stride, h->q_ents, id,
                                      tas_cq_fp_out(i)),
                   h->q_ents);
    }
    return 0;
}

int tc_qc_add(uint32_t id, int efd)
{
    struct tc_ctx *c = &tc_ctx;

    if (c->n_qc >= TC_MAX_QC || id >= c->hdr.max_ctx)
        return -ENOSPC;
    /* After tasd came back (revive.c) the slot's object is taken again. */
    struct tc_qctx *q = c->qc[c->n_qc];
    if (q == NULL) {
        if ((q = calloc(1, sizeof(*q))) == NULL)
            return -ENOMEM;
        q->efd = -1;
    }
    int err = qc_fill(q, id, efd);
    if (err != 0)
        return err;
    q->idx = c->n_qc;
    c->qc[c->n_qc++] = q;
    return (int)q->idx;
}

/* Ask tasd for one more context: 0 and its index and eventfd, or -errno. */
static int ctx_new(uint32_t *id, int *efd)
{
    struct tc_ctx *c = &tc_ctx;
    struct tas_msg m = {
        .type = TAS_MSG_CTX_NEW, .version = TAS_ABI_VERSION, .pid = getpid()};
    struct tas_msg r;
    int n = 0;

    /* Under tc_lock: nobody else reads app.sock meanwhile (alive.c). */
    int err = tc_msg_send(c->app_fd, &m);
    if (err != 0)
        return err;
    struct pollfd p = {.fd = c->app_fd, .events = POLLIN};
    if (real_poll(&p, 1, CTX_TIMEOUT_MS) != 1)
        return -ETIMEDOUT;
    err = tc_msg_recv(c->app_fd, &r, efd, 1, &n);
    if (err == 0 && (r.type != TAS_MSG_CTX || n != 1 || r.ctx >= c->hdr.max_ctx)) {
        tc_close_fds(efd, n);
        err = -EPROTO;
    }
    if (err != 0)
        return err;
    *id = r.ctx;
    return 0;
}

/* Make q the calling thread's (it lets go at exit). */
static struct tc_qctx *take(struct tc_qctx *q)
{
    /* Everything the thread needs to wait, now: a sandbox (sshd's
     * pre-authentication child) may forbid making an eventfd later. */
    (void)tc_wake_fd();
    pthread_once(&key_once, make_key);
    q->owned = true;
    mine = q;
    pthread_setspecific(exit_key, q);
    return q;
}

struct tc_qctx *tc_qc_mine(void)
{
    struct tc_ctx *c = &tc_ctx;

    if (likely(mine != NULL))
        return mine;
    if (c->n_qc == 0)
        return NULL;
    if (c->state != TC_CTX_READY || !c->thread_ctx)
        return c->qc[0];
    struct tc_qctx *vacant = NULL;
    for (uint32_t i = 0; i < c->n_qc; i++) {
        if (c->qc[i]->vacant)
            vacant = vacant != NULL ? vacant : c->qc[i];
        else if (!c->qc[i]->owned)
            return take(c->qc[i]);
    }
    uint32_t id;
    int efd;
    if ((vacant != NULL || c->n_qc < TC_MAX_QC) && !no_more) {
        if (ctx_new(&id, &efd) == 0) {
            if (vacant != NULL && qc_fill(vacant, id, efd) == 0)
                return take(vacant);
            int r = vacant != NULL ? -ENOSPC : tc_qc_add(id, efd);
            if (r >= 0)
                return take(c->qc[r]);
            real_close(efd);
        }
        no_more = true;
    }
    /* No more: share one, in turn (not owned: nothing to give back). */
    tc_say_once(&said_shared,
                "libtas: tasd gave this process no more contexts (%u threads have "
                "one; limits.max_ctx); further threads share them",
                c->n_qc);
    do
        mine = c->qc[c->qc_share++ % c->n_qc];
    while (mine->vacant);
    return mine;
}

int tc_qc_renew(uint32_t n)
{
    struct tc_ctx *c = &tc_ctx;
    while (c->n_qc < n) {
        uint32_t id;
        int efd, err = ctx_new(&id, &efd);
        if (err == 0 && (err = tc_qc_add(id, efd)) < 0)
            real_close(efd);
        if (err < 0)
            return err;
    }
    return 0;
}

const void *tc_qc_self(void)
{
    static __thread char self __attribute__((tls_model("initial-exec")));
    return &self;
}

uint64_t tc_qc_bit(const struct tc_qctx *q)
{
    return q != NULL ? (uint64_t)1 << q->idx : 0;
}

uint64_t tc_qc_all(void)
{
    uint32_t n = tc_ctx.n_qc;
    return n >= 64 ? ~(uint64_t)0 : ((uint64_t)1 << n) - 1;
}

void tc_qc_forget_all(void)
{
    struct tc_ctx *c = &tc_ctx;
    for (uint32_t i = 0; i < c->n_qc; i++) {
        tc_own_fd_close(c->qc[i]->efd);
        tas_parkq_clear(&c->qc[i]->sp_over);
        free(c->qc[i]);
        c->qc[i] = NULL;
    }
    c->n_qc = 0;
    c->qc_share = 0;
    no_more = false;
    mine = NULL;
}
