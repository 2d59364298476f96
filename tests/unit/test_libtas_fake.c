/* test_libtas_fake.c - a fake tasd that loops connections back (see .h).
 *
 * One thread: poll() on app.sock, the applications' sockets and doorbells
 * (1 ms timeout), then for every application drain sp_in and fp_in[c],
 * answer, and move bytes between paired flows: n = min(unsent bytes of X,
 * free rx space of its peer Y); copy X's tx ring -> Y's rx ring; tell Y
 * "rx_bytes n" and X "tx_freed n" at once (every byte is acknowledged as it
 * is delivered).  A FIN follows the data after CLOSE or SHUTDOWN(SHUT_WR).
 * A flow whose application closed it is freed (CLOSED) once its data and
 * FIN are out; writing to a flow whose peer is gone gets a RESET.
 * Entries that do not fit an out queue wait on a per-application backlog,
 * as tasd's must.  An application gets up to MAX_CTX contexts (CTX_NEW;
 * then -ENOSPC); a listener's, a connection request's and a flow's news
 * go to the context that asked, a new connection's to its listener's;
 * ATTACH moves a flow to the asking context of its own application.  Entries from the
 * application are validated like tasd's.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "tas/ctxq.h"
#include "tas/msg.h"
#include "tas/shm.h"
#include "test_libtas_fake.h"

#define N_FP       2
#define MAX_APPS   8
#define MAX_FLOWS  128
#define MAX_LISTEN 32
#define MAX_CTX    FAKE_MAX_CTX
#define BUF_SIZE   (8u << 20)

struct out_ent {
    struct out_ent *next;
    int ctx;
    int q; /* TAS_CQ_* index */
    uint8_t type;
    uint8_t body[TAS_QE_BODY];
};

/* A context: its queues, and the eventfd its thread sleeps on. */
struct fctx {
    bool gone; /* given back (CTX_DEL): free for the next CTX_NEW */
    int efd;
    struct tas_ctx_hdr *chdr;
    struct tas_q q[TAS_CQ_FP_BASE + 2 * N_FP];
};

struct fapp {
    bool live;
    int sock, sp_db, fp_db[N_FP];
    uint32_t id;
    void *region;
    size_t size;
    struct tas_region_hdr *hdr;
    struct fctx ctx[MAX_CTX];
    int n_ctx;        /* context slots handed out so far (some may be gone) */
    int n_given_back; /* CTX_DEL taken */
    int n_peak;       /* most contexts in use at once */
    bool has_ctx;
    uint64_t buf_next;
    struct out_ent *backlog, *backlog_tail;
};

struct fflow {
    bool used;
    uint32_t gen;
    struct fapp *app;
    int ctx;  /* the application's context that hears about it */
    int peer; /* flow index or -1 */
    uint8_t *rx, *tx;
    uint32_t slot;
    uint32_t rx_size, tx_size;
    uint32_t rx_wpos, rx_free; /* where the next byte goes; free space */
    uint32_t tx_rpos, tx_avail, tx_unacked;
    uint16_t core;
    bool fin_pending, fin_sent, app_closed, reset;
    bool fin_rcvd;   /* its peer's FIN was told */
    int announce_in; /* rounds until the held NEW_CONN is posted (0: none) */
    struct tas_spout_new_conn announce;
};

struct flisten {
    bool used;
    struct fapp *app;
    int ctx;
    uint32_t ip;
    uint16_t port;
};

static struct {
    pthread_t thr;
    pthread_mutex_t mu;
    bool stop;
    int lsock;
    struct fake_opts o;
    struct fapp apps[MAX_APPS];
    struct fflow flows[MAX_FLOWS];
    struct flisten listens[MAX_LISTEN];
    uint64_t bad;
    uint64_t attaches; /* flows moved between an application's contexts */
    int reset_err;     /* fake_reset_all request */
    struct tas_global *global;
    int global_fd;
} F = {.mu = PTHREAD_MUTEX_INITIALIZER};

/* ------------------------------------------------------------ output */

static void kick(struct fapp *a, int ctx)
{
    if (tas_ctx_need_kick(a->ctx[ctx].chdr)) {
        uint64_t one = 1;
        (void)!write(a->ctx[ctx].efd, &one, sizeof(one));
    }
}

static void out(struct fapp *a, int ctx, int q, uint8_t type, const void *body,
                size_t len)
{
    if (a->backlog == NULL) {
        void *slot = tas_q_slot(&a->ctx[ctx].q[q]);
        if (slot != NULL) {
            memset(slot, 0, TAS_QE_BODY);
            memcpy(slot, body, len);
            tas_q_push(&a->ctx[ctx].q[q], type);
            kick(a, ctx);
            return;
        }
    }
    struct out_ent *e = calloc(1, sizeof(*e));
    e->ctx = ctx;
    e->q = q;
    e->type = type;
    memcpy(e->body, body, len);
    if (a->backlog_tail)
        a->backlog_tail->next = e;
    else
        a->backlog = e;
    a->backlog_tail = e;
}

static void flush_backlog(struct fapp *a)
{
    while (a->backlog != NULL) {
        struct out_ent *e = a->backlog;
        struct tas_q *q = &a->ctx[e->ctx].q[e->q];
        void *slot = tas_q_slot(q);
        if (slot == NULL)
            break;
        memcpy(slot, e->body, TAS_QE_BODY);
        tas_q_push(q, e->type);
        kick(a, e->ctx);
        a->backlog = e->next;
        if (a->backlog == NULL)
            a->backlog_tail = NULL;
        free(e);
    }
}

static void fpout(struct fflow *f, uint32_t rx, uint32_t freed, uint32_t flags)
{
    struct tas_fpout u = {.flow = (uint32_t)(f - F.flows),
                          .gen = f->gen,
                          .rx_bytes = rx,
                          .tx_freed = freed,
                          .flags = flags,
                          .rx_size = f->rx_size};
    out(f->app, f->ctx, (int)tas_cq_fp_out(f->core), TAS_FPOUT_UPDATE, &u, sizeof(u));
}

/* ------------------------------------------------------------ flows */

static int flow_new(struct fapp *a, int ctx)
{
    for (int i = 0; i < MAX_FLOWS; i++) {
        struct fflow *f = &F.flows[i];
        if (f->used)
            continue;
        uint32_t rx = F.o.rx_size, tx = F.o.tx_size;
        if (a->buf_next >= a->hdr->max_conns)
            return -1;
        uint32_t gen = f->gen + 1;
        memset(f, 0, sizeof(*f));
        f->used = true;
        f->gen = gen;
        f->app = a;
        f->ctx = ctx;
        f->peer = -1;
        /* tasd's slot layout (tas/shm.h), rings pinned at their size */
        f->slot = (uint32_t)a->buf_next++;
        f->rx = (uint8_t *)a->region + tas_slot_rx_off(a->hdr, f->slot);
        f->tx = f->rx - tx;
        f->rx_size = f->rx_free = rx;
        f->tx_size = tx;
        f->core = (uint16_t)(i % N_FP);
        return i;
    }
    return -1;
}

static void flow_free(int i)
{
    struct fflow *f = &F.flows[i];
    struct tas_spout_closed c = {.flow = (uint32_t)i, .gen = f->gen};
    out(f->app, f->ctx, TAS_CQ_SP_OUT, TAS_SPOUT_CLOSED, &c, sizeof(c));
    if (f->peer >= 0 && F.flows[f->peer].peer == i)
        F.flows[f->peer].peer = -1;
    f->used = false;
}

static void flow_reset(int i, int err)
{
    struct fflow *f = &F.flows[i];
    struct tas_spout_reset r = {.flow = (uint32_t)i, .gen = f->gen, .error = err};
    out(f->app, f->ctx, TAS_CQ_SP_OUT, TAS_SPOUT_RESET, &r, sizeof(r));
    if (f->peer >= 0 && F.flows[f->peer].peer == i)
        F.flows[f->peer].peer = -1;
    f->peer = -1;
    f->tx_avail = 0;
    f->reset = true;
}

static void copy_ring(uint8_t *dst, uint32_t dsize, uint32_t dpos, const uint8_t *src,
                      uint32_t ssize, uint32_t spos, uint32_t n)
{
    while (n > 0) {
        uint32_t c = n;
        if (c > dsize - dpos)
            c = dsize - dpos;
        if (c > ssize - spos)
            c = ssize - spos;
        memcpy(dst + dpos, src + spos, c);
        dpos = (dpos + c) % dsize;
        spos = (spos + c) % ssize;
        n -= c;
    }
}

/* The "network": move what can move, deliver FINs, free finished flows. */
static void move_data(void)
{
    for (int i = 0; i < MAX_FLOWS; i++) {
        struct fflow *x = &F.flows[i];
        if (!x->used)
            continue;
        if (x->announce_in > 0 && --x->announce_in == 0)
            out(x->app, x->ctx, TAS_CQ_SP_OUT, TAS_SPOUT_NEW_CONN, &x->announce,
                sizeof(x->announce));
        if (x->peer < 0) {
            if (x->tx_avail > 0 && !x->app_closed && !x->reset) { /* peer is gone */
                flow_reset(i, ECONNRESET);
            }
        } else {
            struct fflow *y = &F.flows[x->peer];
            uint32_t n = x->tx_avail < y->rx_free ? x->tx_avail : y->rx_free;
            if (n > 0 && !y->app_closed) {
                copy_ring(y->rx, y->rx_size, y->rx_wpos, x->tx, x->tx_size, x->tx_rpos,
                          n);
                y->rx_wpos = (y->rx_wpos + n) % y->rx_size;
                y->rx_free -= n;
                fpout(y, n, 0, 0);
            } else if (y->app_closed) {
                n = x->tx_avail; /* discarded */
            }
            if (n > 0) {
                x->tx_rpos = (x->tx_rpos + n) % x->tx_size;
                x->tx_avail -= n;
                fpout(x, 0, n, 0);
            }
            if (x->fin_pending && !x->fin_sent && x->tx_avail == 0) {
                x->fin_sent = true;
                if (!y->app_closed) {
                    fpout(y, 0, 0, TAS_FPOUT_FIN);
                    y->fin_rcvd = true;
                }
            }
        }
        if (x->app_closed && (x->fin_sent || x->peer < 0) && x->tx_avail == 0)
            flow_free(i);
    }
}

/* ------------------------------------------------------------ requests */

static void do_listen(struct fapp *a, int ctx, const struct tas_spin_listen *m)
{
    struct tas_spout_listen_done d = {.opaque = m->opaque, .status = -EADDRINUSE};
    int freei = -1;
    for (int i = 0; i < MAX_LISTEN; i++) {
        if (F.listens[i].used && F.listens[i].port == m->port)
            freei = -2;
        if (!F.listens[i].used && freei == -1)
            freei = i;
    }
    if (m->port == 0 || (m->ip != 0 && m->ip != FAKE_IP))
        d.status = -EADDRNOTAVAIL;
    else if (freei >= 0) {
        F.listens[freei] = (struct flisten){true, a, ctx, m->ip, m->port};
        d.status = 0;
        d.listener = (uint32_t)freei + 100;
    }
    out(a, ctx, TAS_CQ_SP_OUT, TAS_SPOUT_LISTEN_DONE, &d, sizeof(d));
}

static void do_connect(struct fapp *a, int ctx, const struct tas_spin_connect *m)
{
    struct tas_spout_connected c = {.opaque = m->opaque, .status = -ECONNREFUSED};
    if (m->remote_ip == FAKE_BLACKHOLE_IP)
        return;
    if (F.o.connect_delay_ms > 0) {
        struct timespec ts = {0, F.o.connect_delay_ms * 1000000L};
        nanosleep(&ts, NULL);
    }
    int l = -1;
    for (int i = 0; i < MAX_LISTEN; i++)
        if (F.listens[i].used && F.listens[i].port == m->remote_port)
            l = i;
    if (m->remote_ip != FAKE_IP || l < 0) {
        out(a, ctx, TAS_CQ_SP_OUT, TAS_SPOUT_CONNECTED, &c, sizeof(c));
        return;
    }
    struct fapp *sa = F.listens[l].app;
    int xi = flow_new(a, ctx), yi = xi >= 0 ? flow_new(sa, F.listens[l].ctx) : -1;
    if (yi < 0) {
        if (xi >= 0)
            F.flows[xi].used = false;
        c.status = -ENOBUFS;
        out(a, ctx, TAS_CQ_SP_OUT, TAS_SPOUT_CONNECTED, &c, sizeof(c));
        return;
    }
    struct fflow *x = &F.flows[xi], *y = &F.flows[yi];
    x->peer = yi;
    y->peer = xi;
    uint16_t lport = m->local_port ? m->local_port : (uint16_t)(40000 + xi);
    struct tas_spout_new_conn n = {
        .bufs = {y->slot, y->rx_size, y->tx_size, y->rx_size, y->tx_size},
        .listener = (uint32_t)l + 100,
        .flow = (uint32_t)yi,
        .gen = y->gen,
        .local_ip = FAKE_IP,
        .remote_ip = FAKE_IP,
        .local_port = m->remote_port,
        .remote_port = lport,
        .mss = 1460,
        .fp_core = y->core};
    if (F.o.late_new_conn) {
        y->announce = n;
        y->announce_in = 20;
    } else {
        out(sa, y->ctx, TAS_CQ_SP_OUT, TAS_SPOUT_NEW_CONN, &n, sizeof(n));
    }
    c = (struct tas_spout_connected){
        .bufs = {x->slot, x->rx_size, x->tx_size, x->rx_size, x->tx_size},
        .opaque = m->opaque,
        .status = 0,
        .flow = (uint32_t)xi,
        .gen = x->gen,
        .local_ip = FAKE_IP,
        .local_port = lport,
        .mss = 1460,
        .fp_core = x->core};
    out(a, ctx, TAS_CQ_SP_OUT, TAS_SPOUT_CONNECTED, &c, sizeof(c));
}

static struct fflow *app_flow(struct fapp *a, uint32_t flow, uint32_t gen)
{
    if (flow >= MAX_FLOWS || !F.flows[flow].used || F.flows[flow].gen != gen ||
        F.flows[flow].app != a) {
        F.bad++;
        return NULL;
    }
    return &F.flows[flow];
}

static void drain_fp(struct fapp *a);

/* ATTACH of a flow from another of its application's contexts (a thread
 * move): as tasd, apply what every context posted, then hand the flow over
 * with its whole state (FPOUT_SYNC on the new context). */
static void do_attach(struct fapp *a, int ctx, const struct tas_spin_attach *r)
{
    struct fflow *f = r->kind == TAS_ATTACH_FLOW ? app_flow(a, r->id, r->gen) : NULL;
    if (f == NULL)
        return;
    drain_fp(a);
    f->ctx = ctx;
    uint32_t unread = f->rx_size - f->rx_free;
    struct tas_fpout_sync y = {
        .flow = r->id,
        .gen = r->gen,
        .st = {.rx_head = (f->rx_wpos + f->rx_size - unread) % f->rx_size,
               .rx_unread = unread,
               .tx_tail = (f->tx_rpos + f->tx_avail) % f->tx_size,
               .tx_free = f->tx_size - f->tx_avail,
               .flags = f->fin_rcvd ? TAS_FPOUT_FIN : 0,
               .rx_size = f->rx_size,
               .tx_size = f->tx_size}};
    out(a, ctx, (int)tas_cq_fp_out(f->core), TAS_FPOUT_SYNC, &y, sizeof(y));
    F.attaches++;
}

static void sp_request(struct fapp *a, int ctx, uint8_t type, const uint8_t *body)
{
    struct fflow *f;
    switch (type) {
    case TAS_SPIN_LISTEN:
        do_listen(a, ctx, (const void *)body);
        break;
    case TAS_SPIN_CONNECT:
        do_connect(a, ctx, (const void *)body);
        break;
    case TAS_SPIN_ACCEPTED:
        break;
    case TAS_SPIN_ATTACH:
        do_attach(a, ctx, (const void *)body);
        break;
    case TAS_SPIN_UNLISTEN: {
        const struct tas_spin_unlisten *u = (const void *)body;
        if (u->listener >= 100 && u->listener < 100 + MAX_LISTEN &&
            F.listens[u->listener - 100].app == a)
            F.listens[u->listener - 100].used = false;
        else
            F.bad++;
        break;
    }
    case TAS_SPIN_CLOSE: {
        const struct tas_spin_flow *c = (const void *)body;
        if ((f = app_flow(a, c->flow, c->gen)) != NULL) {
            f->app_closed = true;
            f->fin_pending = true;
        }
        break;
    }
    case TAS_SPIN_SHUTDOWN: {
        const struct tas_spin_shutdown *s = (const void *)body;
        if ((f = app_flow(a, s->flow, s->gen)) != NULL && s->how != SHUT_RD)
            f->fin_pending = true;
        break;
    }
    case TAS_SPIN_ABORT: {
        const struct tas_spin_flow *c = (const void *)body;
        if ((f = app_flow(a, c->flow, c->gen)) != NULL) {
            int i = (int)(f - F.flows);
            if (f->peer >= 0)
                flow_reset(f->peer, ECONNRESET);
            f->app_closed = true;
            f->tx_avail = 0;
            flow_free(i);
        }
        break;
    }
    default:
        F.bad++;
    }
}

static void fp_request(struct fapp *a, const struct tas_fpin *u)
{
    struct fflow *f = app_flow(a, u->flow, u->gen);
    if (f == NULL)
        return;
    if (u->tx_bytes > f->tx_size - f->tx_avail || u->rx_bytes > f->rx_size - f->rx_free) {
        F.bad++;
        return;
    }
    f->tx_avail += u->tx_bytes;
    f->rx_free += u->rx_bytes;
}

/* Apply what the application posted on every context's fp_in. */
static void drain_fp(struct fapp *a)
{
    uint8_t body[TAS_QE_BODY];
    uint8_t t;
    for (int x = 0; x < a->n_ctx; x++)
        for (int c = 0; c < N_FP && !a->ctx[x].gone; c++)
            while ((t = tas_q_get(&a->ctx[x].q[tas_cq_fp_in(c)], body)) != 0) {
                if (t == TAS_FPIN_UPDATE)
                    fp_request(a, (const void *)body);
                else
                    F.bad++;
            }
}

/* ------------------------------------------------------------ registration */

static int send_fds(int sock, struct tas_msg *m, int *fds, int n)
{
    char cbuf[CMSG_SPACE(sizeof(int) * 16)];
    struct iovec iov = {m, sizeof(*m)};
    struct msghdr mh = {.msg_iov = &iov,
                        .msg_iovlen = 1,
                        .msg_control = cbuf,
                        .msg_controllen = CMSG_SPACE(sizeof(int) * n)};
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * n);
    memcpy(CMSG_DATA(c), fds, sizeof(int) * n);
    return sendmsg(sock, &mh, MSG_NOSIGNAL) == sizeof(*m) ? 0 : -1;
}

static void app_hello(struct fapp *a)
{
    uint32_t q = F.o.q_ents;
    uint64_t stride = tas_ctx_stride(N_FP, q);
    uint64_t buf_off = (TAS_PAGE + stride * MAX_CTX + TAS_PAGE - 1) / TAS_PAGE * TAS_PAGE;
    uint32_t rx_at = (F.o.tx_size + TAS_PAGE - 1) / TAS_PAGE * TAS_PAGE;
    uint32_t slot_size =
        rx_at + (F.o.rx_size + TAS_PAGE - 1) / TAS_PAGE * TAS_PAGE + TAS_PAGE;
    uint32_t max_conns = BUF_SIZE / slot_size;
    uint64_t info_off = buf_off + (uint64_t)max_conns * slot_size;
    a->size = info_off + (uint64_t)max_conns * TAS_CACHELINE;
    int mfd = memfd_create("fake-region", MFD_CLOEXEC);
    if (mfd < 0 || ftruncate(mfd, (off_t)a->size) != 0)
        return;
    a->region = mmap(NULL, a->size, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
    a->hdr = a->region;
    *a->hdr = (struct tas_region_hdr){.magic = TAS_REGION_MAGIC,
                                      .version = TAS_ABI_VERSION,
                                      .size = a->size,
                                      .app_id = a->id,
                                      .n_fp = N_FP,
                                      .max_ctx = MAX_CTX,
                                      .q_ents = q,
                                      .max_flows = MAX_FLOWS,
                                      .ctx_off = TAS_PAGE,
                                      .ctx_stride = stride,
                                      .buf_off = buf_off,
                                      .buf_size = (uint64_t)max_conns * slot_size,
                                      .slot_size = slot_size,
                                      .rx_at = rx_at,
                                      .info_off = info_off,
                                      .max_conns = max_conns,
                                      .local_ip = FAKE_IP,
                                      .local_prefix = 24,
                                      .mss = 1460};
    a->sp_db = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    for (int i = 0; i < N_FP; i++)
        a->fp_db[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    struct tas_msg w = {.type = TAS_MSG_WELCOME,
                        .version = TAS_ABI_VERSION,
                        .app_id = a->id,
                        .region_size = a->size,
                        .global_size = sizeof(struct tas_global),
                        .n_fp = N_FP};
    int fds[3 + N_FP] = {mfd, a->sp_db, F.global_fd, a->fp_db[0], a->fp_db[1]};
    send_fds(a->sock, &w, fds, 3 + N_FP);
    close(mfd);
}

static void app_ctx(struct fapp *a)
{
    const struct tas_region_hdr *h = a->hdr;
    int x;
    for (x = 1; x < a->n_ctx && !a->ctx[x].gone; x++)
        ;
    if (x >= MAX_CTX) { /* as tasd at limits.max_ctx */
        struct tas_msg m = {.type = TAS_MSG_CTX, .status = -ENOSPC};
        (void)!send(a->sock, &m, sizeof(m), MSG_NOSIGNAL);
        return;
    }
    if (x >= a->n_ctx)
        x = a->n_ctx++;
    int in_use = 1;
    for (int k = 0; k < a->n_ctx; k++)
        in_use += k != x && !a->ctx[k].gone;
    a->n_peak = in_use > a->n_peak ? in_use : a->n_peak;
    struct fctx *c = &a->ctx[x];
    if (c->gone) { /* as tasd: clean queues for the next user */
        memset((uint8_t *)a->region + h->ctx_off + (uint64_t)x * h->ctx_stride, 0,
               h->ctx_stride);
        c->gone = false;
    }
    c->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    c->chdr = tas_ctx_hdr(a->region, h->ctx_off, h->ctx_stride, (uint32_t)x);
    for (uint32_t i = 0; i < tas_cq_count(N_FP); i++)
        tas_q_init(&c->q[i],
                   tas_ctx_queue_ents(a->region, h->ctx_off, h->ctx_stride, h->q_ents,
                                      (uint32_t)x, i),
                   h->q_ents);
    a->has_ctx = true;
    struct tas_msg m = {.type = TAS_MSG_CTX, .ctx = (uint32_t)x};
    send_fds(a->sock, &m, &c->efd, 1);
}

/* The application exited: what it closed still goes out (FIN after the
 * data; its region stays mapped here), everything else is reset. */
static void app_gone(struct fapp *a)
{
    for (int i = 0; i < MAX_FLOWS; i++)
        if (F.flows[i].used && F.flows[i].app == a && !F.flows[i].app_closed) {
            if (F.flows[i].peer >= 0)
                flow_reset(F.flows[i].peer, ECONNRESET);
            F.flows[i].used = false;
        }
    for (int i = 0; i < MAX_LISTEN; i++)
        if (F.listens[i].app == a)
            F.listens[i].used = false;
    close(a->sock);
    a->live = false;
}

static void app_msg(struct fapp *a)
{
    struct tas_msg m;
    ssize_t r = recv(a->sock, &m, sizeof(m), MSG_DONTWAIT);
    if (r == 0 || (r < 0 && errno != EAGAIN)) {
        app_gone(a);
        return;
    }
    if (r != sizeof(m))
        return;
    if (m.type == TAS_MSG_HELLO) {
        app_hello(a);
    } else if (m.type == TAS_MSG_CTX_DEL) {
        if (m.ctx == 0 || m.ctx >= (uint32_t)a->n_ctx || a->ctx[m.ctx].gone) {
            F.bad++;
            struct tas_msg r = {.type = TAS_MSG_CTX, .status = -EINVAL};
            (void)!send(a->sock, &r, sizeof(r), MSG_NOSIGNAL);
            return;
        }
        close(a->ctx[m.ctx].efd);
        a->ctx[m.ctx].gone = true;
        a->n_given_back++;
        /* Its flows' news go to the first context from now on. */
        for (int i = 0; i < MAX_FLOWS; i++)
            if (F.flows[i].used && F.flows[i].app == a && F.flows[i].ctx == (int)m.ctx)
                F.flows[i].ctx = 0;
        for (int i = 0; i < MAX_LISTEN; i++)
            if (F.listens[i].used && F.listens[i].app == a &&
                F.listens[i].ctx == (int)m.ctx)
                F.listens[i].ctx = 0;
        struct tas_msg r = {.type = TAS_MSG_CTX, .ctx = m.ctx};
        (void)!send(a->sock, &r, sizeof(r), MSG_NOSIGNAL);
    } else if (m.type == TAS_MSG_CTX_NEW && a->region != NULL)
        app_ctx(a);
}

/* ------------------------------------------------------------ loop */

static void *loop(void *arg)
{
    (void)arg;
    for (;;) {
        struct pollfd p[1 + MAX_APPS * (2 + N_FP)];
        bool is_doorbell[1 + MAX_APPS * (2 + N_FP)] = {false};
        int n = 0;
        pthread_mutex_lock(&F.mu);
        if (F.stop) {
            for (int i = 0; i < MAX_APPS; i++)
                if (F.apps[i].live)
                    close(F.apps[i].sock);
            pthread_mutex_unlock(&F.mu);
            return NULL;
        }
        p[n++] = (struct pollfd){F.lsock, POLLIN, 0};
        for (int i = 0; i < MAX_APPS; i++) {
            struct fapp *a = &F.apps[i];
            if (!a->live)
                continue;
            p[n++] = (struct pollfd){a->sock, POLLIN, 0};
            if (a->has_ctx) {
                is_doorbell[n] = true;
                p[n++] = (struct pollfd){a->sp_db, POLLIN, 0};
                for (int c = 0; c < N_FP; c++) {
                    is_doorbell[n] = true;
                    p[n++] = (struct pollfd){a->fp_db[c], POLLIN, 0};
                }
            }
        }
        pthread_mutex_unlock(&F.mu);
        poll(p, (nfds_t)n, 1);
        pthread_mutex_lock(&F.mu);
        for (int i = 1; i < n; i++)
            if ((p[i].revents & POLLIN) && is_doorbell[i]) {
                uint64_t v;
                (void)!read(p[i].fd, &v, sizeof(v));
            }
        if (p[0].revents & POLLIN) {
            int s = accept4(F.lsock, NULL, NULL, SOCK_CLOEXEC);
            for (int i = 0; s >= 0 && i < MAX_APPS; i++)
                if (!F.apps[i].live) {
                    memset(&F.apps[i], 0, sizeof(F.apps[i]));
                    F.apps[i].live = true;
                    F.apps[i].sock = s;
                    F.apps[i].id = (uint32_t)i + 1;
                    s = -1;
                }
            if (s >= 0)
                close(s);
        }
        for (int i = 0; i < MAX_APPS; i++) {
            struct fapp *a = &F.apps[i];
            if (!a->live)
                continue;
            if (!a->has_ctx) {
                app_msg(a);
                continue;
            }
            uint8_t body[TAS_QE_BODY];
            uint8_t t;
            for (int x = 0; x < a->n_ctx; x++)
                while (!a->ctx[x].gone &&
                       (t = tas_q_get(&a->ctx[x].q[TAS_CQ_SP_IN], body)) != 0)
                    sp_request(a, x, t, body);
            drain_fp(a);
            app_msg(a); /* after the queues: an exit comes after its CLOSEs */
        }
        if (F.reset_err != 0) {
            for (int i = 0; i < MAX_FLOWS; i++)
                if (F.flows[i].used && !F.flows[i].app_closed)
                    flow_reset(i, F.reset_err);
            F.reset_err = 0;
        }
        move_data();
        for (int i = 0; i < MAX_APPS; i++)
            if (F.apps[i].live && F.apps[i].has_ctx)
                flush_backlog(&F.apps[i]);
        pthread_mutex_unlock(&F.mu);
    }
}

int fake_start(const char *run_dir, const struct fake_opts *o)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    memset(&F.apps, 0, sizeof(F.apps));
    memset(&F.flows, 0, sizeof(F.flows));
    memset(&F.listens, 0, sizeof(F.listens));
    F.stop = false;
    F.o = o ? *o : (struct fake_opts){0};
    if (F.o.rx_size == 0)
        F.o.rx_size = 10000;
    if (F.o.tx_size == 0)
        F.o.tx_size = 12000;
    if (F.o.q_ents == 0)
        F.o.q_ents = 32;
    F.global_fd = memfd_create("fake-global", MFD_CLOEXEC);
    if (F.global_fd < 0 || ftruncate(F.global_fd, sizeof(struct tas_global)) != 0)
        return -errno;
    F.global = mmap(NULL, sizeof(struct tas_global), PROT_READ | PROT_WRITE, MAP_SHARED,
                    F.global_fd, 0);
    F.global->magic = TAS_REGION_MAGIC;
    F.global->n_fp = N_FP;
    for (int c = 0; c < N_FP; c++)
        F.global->fp_sleeping[c][0] = F.o.sleeping_fp ? 1 : 0;
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", run_dir, TAS_APP_SOCK);
    unlink(sa.sun_path);
    F.lsock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (F.lsock < 0 || bind(F.lsock, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
        listen(F.lsock, 16) != 0)
        return -errno;
    return -pthread_create(&F.thr, NULL, loop, NULL);
}

int fake_start_in(char *dir, const char *tag, const struct fake_opts *o)
{
    snprintf(dir, FAKE_DIR_LEN, "/tmp/libtas-%s-XXXXXX", tag);
    if (mkdtemp(dir) == NULL)
        return -errno;
    setenv("TAS_RUN_DIR", dir, 1);
    signal(SIGPIPE, SIG_IGN);
    return fake_start(dir, o);
}

void fake_dir_remove(const char *dir)
{
    char p[FAKE_DIR_LEN + 16];
    snprintf(p, sizeof(p), "%s/%s", dir, TAS_APP_SOCK);
    unlink(p);
    rmdir(dir);
}

void fake_stop(void)
{
    pthread_mutex_lock(&F.mu);
    F.stop = true;
    pthread_mutex_unlock(&F.mu);
    pthread_join(F.thr, NULL);
    close(F.lsock);
}

void fake_reset_all(int err)
{
    pthread_mutex_lock(&F.mu);
    F.reset_err = err;
    pthread_mutex_unlock(&F.mu);
}

uint64_t fake_bad_entries(void)
{
    pthread_mutex_lock(&F.mu);
    uint64_t b = F.bad;
    pthread_mutex_unlock(&F.mu);
    return b;
}

int fake_contexts(void)
{
    int n = 0;
    pthread_mutex_lock(&F.mu);
    for (int i = 0; i < MAX_APPS; i++) {
        int k = 0;
        for (int x = 0; F.apps[i].live && x < F.apps[i].n_ctx; x++)
            k += !F.apps[i].ctx[x].gone;
        n = k > n ? k : n;
    }
    pthread_mutex_unlock(&F.mu);
    return n;
}

int fake_contexts_peak(void)
{
    int n = 0;
    pthread_mutex_lock(&F.mu);
    for (int i = 0; i < MAX_APPS; i++)
        if (F.apps[i].live && F.apps[i].n_peak > n)
            n = F.apps[i].n_peak;
    pthread_mutex_unlock(&F.mu);
    return n;
}

int fake_contexts_given_back(void)
{
    int n = 0;
    pthread_mutex_lock(&F.mu);
    for (int i = 0; i < MAX_APPS; i++)
        n += F.apps[i].live ? F.apps[i].n_given_back : 0;
    pthread_mutex_unlock(&F.mu);
    return n;
}

uint32_t fake_ctx_flows(int ctx)
{
    uint32_t n = 0;
    pthread_mutex_lock(&F.mu);
    for (int i = 0; i < MAX_FLOWS; i++)
        n += F.flows[i].used && F.flows[i].ctx == ctx;
    pthread_mutex_unlock(&F.mu);
    return n;
}

uint64_t fake_attaches(void)
{
    pthread_mutex_lock(&F.mu);
    uint64_t n = F.attaches;
    pthread_mutex_unlock(&F.mu);
    return n;
}

uint32_t fake_flows_live(void)
{
    uint32_t n = 0;
    pthread_mutex_lock(&F.mu);
    for (int i = 0; i < MAX_FLOWS; i++)
        n += F.flows[i].used;
    pthread_mutex_unlock(&F.mu);
    return n;
}

#ifdef FAKE_MAIN
int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s RUN_DIR\n", argv[0]);
        return 2;
    }
    struct fake_opts o = {.sleeping_fp = true};
    if (fake_start(argv[1], &o) != 0) {
        perror("fake_start");
        return 1;
    }
    pthread_join(F.thr, NULL);
    return 0;
}
#endif
