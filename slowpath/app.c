/* app.c - applications: registration on <run_dir>/app.sock, their shared
 * memory regions and contexts, and the slow-path queues (sp_in / sp_out).
 *
 * HELLO creates the application's region (memfd: header page, max_ctx
 * contexts, connection buffer area), its slow-path doorbell and answers
 * WELCOME with the descriptors in the order msg.h documents.  CTX_NEW
 * claims a context slot and a fast-path context slot, describes the
 * context to every core (fp.ctxs[c][slot] + FP_CMD_CTX_ADD) and answers CTX
 * with the context's eventfd.  Every value tasd uses about a region is its
 * own copy: the application can scribble on the header, never on ours.
 *
 * When the socket closes the application is gone: requests it queued
 * before are still taken (close() then exit), connections it had closed
 * finish gracefully as orphans, the others are reset; once none is left its
 * contexts are removed from the cores, and the region is unmapped when the
 * cores have acknowledged all of it (sp_app_tick).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "tas/msg.h"
#include "common/json.h"
#include "slowpath/sp.h"

#define SP_MAX_APPS         1024
#define SP_APP_BAD_MSGS_MAX 16 /* protocol violations before we hang up */
/* Bad queue entries (sp_in and fp_in) before we hang up: an application
 * that writes garbage into its queues gets its connections reset.  A few
 * are normal (a connection used by two processes after fork() at once). */
#define SP_APP_BAD_ENTRIES_MAX 1024

static uint64_t align_up(uint64_t x, uint64_t a)
{
    return (x + a - 1) / a * a;
}

/* ---- the global page ---- */

struct tas_global *sp_gpage_create(unsigned n_fp)
{
    if (sp.gpage != NULL)
        return sp.gpage;
    if (n_fp == 0 || n_fp > TAS_MAX_FP_CORES) {
        fprintf(stderr, "tasd: %u fast-path cores: must be 1..%d\n", n_fp,
                TAS_MAX_FP_CORES);
        return NULL;
    }
    size_t size = align_up(sizeof(struct tas_global), TAS_PAGE);
    int fd = memfd_create("tasd-global", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0 || ftruncate(fd, (off_t)size) != 0) {
        fprintf(stderr, "tasd: global page: %s\n", strerror(errno));
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
        fprintf(stderr, "tasd: global page: mmap: %s\n", strerror(errno));
        close(fd);
        return NULL;
    }
    struct tas_global *g = p;
    g->magic = TAS_REGION_MAGIC;
    g->n_fp = n_fp;
    /* Applications get this descriptor: no resizing, and no writable
     * mapping other than ours (F_SEAL_FUTURE_WRITE, Linux 5.1). */
    if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) != 0 ||
        fcntl(fd, F_ADD_SEALS, F_SEAL_FUTURE_WRITE) != 0)
        fprintf(stderr, "tasd: global page: sealing: %s (applications could write it)\n",
                strerror(errno));
    fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL);
    sp.gpage_fd = fd;
    sp.gpage = g;
    sp.gpage_size = size;
    return g;
}

void sp_gpage_destroy(void)
{
    if (sp.gpage != NULL)
        munmap(sp.gpage, sp.gpage_size);
    if (sp.gpage_fd >= 0)
        close(sp.gpage_fd);
    sp.gpage = NULL;
    sp.gpage_fd = -1;
}

/* ---- messages on an application's socket ---- */

static int send_msg(int sock, const struct tas_msg *msg, const int *fds, unsigned n_fds)
{
    char cbuf[CMSG_SPACE(sizeof(int) * (3 + TAS_MAX_FP_CORES))];
    struct iovec iov = {.iov_base = (void *)msg, .iov_len = sizeof(*msg)};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};

    if (n_fds > 0) {
        memset(cbuf, 0, sizeof(cbuf));
        mh.msg_control = cbuf;
        mh.msg_controllen = CMSG_SPACE(sizeof(int) * n_fds);
        struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int) * n_fds);
        memcpy(CMSG_DATA(cm), fds, sizeof(int) * n_fds);
    }
    ssize_t n = sendmsg(sock, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n != (ssize_t)sizeof(*msg))
        return n < 0 ? -errno : -EIO;
    return 0;
}

static void app_gone(struct sp_app *a);
static void app_drain(struct sp_app *a);

static void on_doorbell(int fd, uint32_t events, void *arg);

static int app_region_create(struct sp_app *a)
{
    const struct sp_params *c = &sp.cfg;

    a->q_ents = c->queue_entries;
    a->max_ctx = (uint16_t)c->max_ctx;
    a->max_conns = c->app_max_conns;
    a->ctx_off = TAS_PAGE;
    a->ctx_stride = tas_ctx_stride(sp.n_cores, a->q_ents);
    a->info_off = align_up(a->ctx_off + a->ctx_stride * a->max_ctx, TAS_PAGE);
    a->buf_off = align_up(a->info_off + (uint64_t)a->max_conns * TAS_CACHELINE, TAS_PAGE);
    /* A slot: the tx ring grows down to the slot's start, the rx ring up to
     * its end, from rx_at, placed so that both small rings share a page. */
    a->rx_at = (uint32_t)(align_up(c->tx_buf_size, TAS_PAGE) + c->tx_buf_initial % TAS_PAGE);
    a->slot_size =
        (uint32_t)(align_up(c->tx_buf_size, TAS_PAGE) + align_up(c->rx_buf_size, TAS_PAGE) +
                   TAS_PAGE);
    a->buf_size = (uint64_t)a->max_conns * a->slot_size;
    a->region_size = align_up(a->buf_off + a->buf_size, TAS_PAGE);

    char name[32];
    snprintf(name, sizeof(name), "tasd-app-%u", a->id);
    a->memfd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (a->memfd < 0)
        return -errno;
    if (ftruncate(a->memfd, (off_t)a->region_size) != 0)
        return -errno;
    /* The application must not shrink the region under the fast path. */
    if (fcntl(a->memfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0)
        return -errno;
    void *p = mmap(NULL, a->region_size, PROT_READ | PROT_WRITE, MAP_SHARED, a->memfd, 0);
    if (p == MAP_FAILED)
        return -errno;
    a->region = p;

    struct tas_region_hdr *h = p;
    h->magic = TAS_REGION_MAGIC;
    h->version = TAS_ABI_VERSION;
    h->size = a->region_size;
    h->app_id = a->id;
    h->n_fp = (uint16_t)sp.n_cores;
    h->max_ctx = a->max_ctx;
    h->q_ents = a->q_ents;
    h->max_flows = c->max_flows;
    h->ctx_off = a->ctx_off;
    h->ctx_stride = a->ctx_stride;
    h->buf_off = a->buf_off;
    h->buf_size = a->buf_size;
    h->local_ip = sp.ip;
    h->local_prefix = sp.prefix;
    h->mss = sp.mss;
    h->slot_size = a->slot_size;
    h->rx_at = a->rx_at;
    h->info_off = a->info_off;
    h->max_conns = a->max_conns;
    snprintf(h->cc_name, sizeof(h->cc_name), "%s", sp.cc != NULL ? sp.cc->name : "");
    _Static_assert(SP_CC_MAX == TAS_CC_MAX, "the header names every algorithm");
    for (unsigned i = 0; i < sp_cc_count(); i++)
        snprintf(h->cc_names[i], sizeof(h->cc_names[i]), "%s", sp_cc_at(i)->name);

    a->ctxs = calloc(a->max_ctx, sizeof(*a->ctxs));
    if (a->ctxs == NULL)
        return -ENOMEM;
    for (unsigned i = 0; i < a->max_ctx; i++)
        a->ctxs[i].efd = -1;
    int rc = sp_lifo_init(&a->bufs, a->max_conns);
    if (rc != 0)
        return rc;

    a->dbfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (a->dbfd < 0)
        return -errno;
    return sp_loop_add(a->dbfd, on_doorbell, a);
}

/* Answer HELLO with an error and hang up.  What else the application
 * sent (its CTX_NEW) is read first: closing a socket with unread messages
 * resets the peer's, and it would see ECONNRESET instead of our answer. */
static void refuse(struct sp_app *a, struct tas_msg *out, int err)
{
    struct tas_msg junk;
    while (recv(a->sock, &junk, sizeof(junk), MSG_DONTWAIT) > 0)
        ;
    out->status = err;
    send_msg(a->sock, out, NULL, 0);
    app_gone(a);
}

/* Its command name, for the views: read at HELLO (an exec()ed program
 * says HELLO again), shown only. */
static void app_comm(struct sp_app *a)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/comm", a->pid);
    FILE *f = a->pid > 0 ? fopen(path, "re") : NULL;
    if (f == NULL || fgets(a->comm, sizeof(a->comm), f) == NULL)
        snprintf(a->comm, sizeof(a->comm), "?");
    a->comm[strcspn(a->comm, "\n")] = '\0';
    if (f != NULL)
        fclose(f);
}

static void app_hello(struct sp_app *a, const struct tas_msg *in)
{
    struct tas_msg out = {.type = TAS_MSG_WELCOME, .version = TAS_ABI_VERSION};

    app_comm(a);

    if (in->version != TAS_ABI_VERSION) {
        fprintf(stderr, "tasd: app %u (pid %d): ABI version %u, we speak %u; refusing\n",
                a->id, a->pid, in->version, TAS_ABI_VERSION);
        refuse(a, &out, -EPROTO);
        return;
    }
    if (!sp_cred_admitted(a)) {
        fprintf(stderr, "tasd: app %u (pid %d, uid %u): not in apps.users; refusing\n",
                a->id, a->pid, a->euid);
        sp.cnt.cred_refused++;
        refuse(a, &out, -EACCES);
        return;
    }
    int rc = app_region_create(a);
    if (rc != 0) {
        fprintf(stderr, "tasd: app %u (pid %d): region: %s; refusing\n", a->id, a->pid,
                strerror(-rc));
        refuse(a, &out, rc);
        return;
    }
    /* A fork child: what its parent recorded for it is its own now. */
    if (in->token != 0 && sp_fork_claim(a, in->token, in->parent_app) == 0)
        out.token = in->token;
    int fds[3 + TAS_MAX_FP_CORES];
    unsigned n = 0;
    fds[n++] = a->memfd;
    fds[n++] = a->dbfd;
    fds[n++] = sp.gpage_fd;
    for (unsigned c = 0; c < sp.n_cores; c++)
        fds[n++] = fp.cores[c].doorbell_fd;
    out.app_id = a->id;
    out.region_size = a->region_size;
    out.global_size = sp.gpage_size;
    out.n_fp = sp.n_cores;
    rc = send_msg(a->sock, &out, fds, n);
    if (rc != 0) {
        app_gone(a);
        return;
    }
    a->welcomed = true;
}

static void app_ctx_new(struct sp_app *a)
{
    struct tas_msg out = {.type = TAS_MSG_CTX, .version = TAS_ABI_VERSION};
    unsigned i;

    for (i = 0; i < a->max_ctx && a->ctxs[i].used; i++)
        ;
    int64_t g = i < a->max_ctx ? sp_slots_alloc(&sp.gslots) : -ENOSPC;
    int efd = g >= 0 ? eventfd(0, EFD_CLOEXEC) : -1;
    if (g < 0 || efd < 0) {
        out.status = g < 0 ? -ENOSPC : -errno;
        if (g >= 0)
            sp_slots_free(&sp.gslots, (uint32_t)g);
        if (send_msg(a->sock, &out, NULL, 0) != 0)
            app_gone(a);
        return;
    }

    struct sp_app_ctx *x = &a->ctxs[i];
    if (x->recycled) /* queues and header as new: nothing left of its last user */
        memset(a->region + a->ctx_off + (uint64_t)i * a->ctx_stride, 0, a->ctx_stride);
    memset(x, 0, sizeof(*x));
    x->used = true;
    x->gslot = (uint16_t)g;
    x->efd = efd;
    x->hdr = tas_ctx_hdr(a->region, a->ctx_off, a->ctx_stride, i);
    tas_q_init(&x->sp_in,
               tas_ctx_queue_ents(a->region, a->ctx_off, a->ctx_stride, a->q_ents, i,
                                  TAS_CQ_SP_IN),
               a->q_ents);
    tas_q_init(&x->sp_out,
               tas_ctx_queue_ents(a->region, a->ctx_off, a->ctx_stride, a->q_ents, i,
                                  TAS_CQ_SP_OUT),
               a->q_ents);
    sp.gslot_app[g] = a;

    for (unsigned c = 0; c < sp.n_cores; c++) {
        struct fp_ctx *fc = &fp.ctxs[c][g];
        memset(fc, 0, sizeof(*fc));
        tas_q_init(&fc->in,
                   tas_ctx_queue_ents(a->region, a->ctx_off, a->ctx_stride, a->q_ents, i,
                                      tas_cq_fp_in(c)),
                   a->q_ents);
        tas_q_init(&fc->out,
                   tas_ctx_queue_ents(a->region, a->ctx_off, a->ctx_stride, a->q_ents, i,
                                      tas_cq_fp_out(c)),
                   a->q_ents);
        fc->hdr = x->hdr;
        fc->efd = efd;
        fc->app_id = a->id;
        fc->active = true;
        sp_cmd(c, FP_CMD_CTX_ADD, (uint32_t)g, a->id, 0, NULL, NULL);
    }

    out.ctx = i;
    if (send_msg(a->sock, &out, &efd, 1) != 0)
        app_gone(a);
}

/* fork() is about to happen: requests already queued (a close() just
 * before fork()) count first, then the holds are recorded for the child. */
static void app_fork(struct sp_app *a, uint32_t flags)
{
    struct tas_msg out = {.type = TAS_MSG_FORK_OK, .version = TAS_ABI_VERSION};

    do
        app_drain(a);
    while (a->more && !a->dying);
    if (a->dying)
        return;
    out.token = sp_fork_begin(a, flags);
    out.status = out.token != 0 ? 0 : -ENOMEM;
    if (send_msg(a->sock, &out, NULL, 0) != 0)
        app_gone(a);
}

static void app_bad_msg(struct sp_app *a, const char *why)
{
    sp.cnt.app_bad_msgs++;
    if (++a->bad_msgs == SP_APP_BAD_MSGS_MAX) {
        fprintf(stderr,
                "tasd: app %u (pid %d): %s; too many bad messages, disconnecting\n",
                a->id, a->pid, why);
        app_gone(a);
    }
}

/* CTX_DEL: the thread that used context i exited.  What it queued counts
 * first; what still points at the context goes to the first one; the cores
 * stop polling it, and once they all did the slot is free (app_ctx_freed). */
static void app_ctx_give_back(struct sp_app *a, uint32_t i)
{
    struct tas_msg out = {.type = TAS_MSG_CTX, .version = TAS_ABI_VERSION, .ctx = i};

    if (i == 0 || i >= a->max_ctx || !a->ctxs[i].used || a->ctxs[i].deleting) {
        out.status = -EINVAL;
        app_bad_msg(a, "CTX_DEL of a context it may not give back");
    } else {
        do
            app_drain(a);
        while (a->more && !a->dying);
        if (a->dying)
            return;
        struct sp_app_ctx *x = &a->ctxs[i];
        sp_listen_ctx_gone(a, (uint16_t)i);
        if (sp_conn_ctx_gone(a, (uint16_t)i) != 0) {
            /* A flow may still post to the slot: it stays this app's. */
            sp.cnt.ctx_kept++;
            out.status = -EBUSY;
        } else {
            tas_parkq_clear(&x->park);
            a->lib_wakes_gone +=
                atomic_load_explicit(&x->hdr->lib_wakes, memory_order_relaxed);
            x->deleting = true;
            for (unsigned c = 0; c < sp.n_cores; c++)
                sp_cmd(c, FP_CMD_CTX_DEL, x->gslot, a->id, 0, NULL, &x->del_wait[c]);
            sp.cnt.ctx_given_back++;
        }
    }
    if (!a->dying && send_msg(a->sock, &out, NULL, 0) != 0)
        app_gone(a);
}

/* A context given back, once no core reads it: its slot, eventfd and fast
 * path slot are free.  (Its memory is cleaned when CTX_NEW takes the slot
 * again: the application reads it once more after our answer.) */
static void app_ctx_freed(struct sp_app *a, unsigned i)
{
    struct sp_app_ctx *x = &a->ctxs[i];
    for (unsigned c = 0; c < sp.n_cores; c++)
        if (!sp_wait_done(c, &x->del_wait[c]))
            return;
    tas_parkq_clear(&x->park);
    if (x->efd >= 0)
        close(x->efd);
    sp.gslot_app[x->gslot] = NULL;
    sp_slots_free(&sp.gslots, x->gslot);
    memset(x, 0, sizeof(*x));
    x->efd = -1;
    x->recycled = true;
}

static void on_app_sock(int fd, uint32_t events, void *arg)
{
    struct sp_app *a = arg;

    for (int budget = 64; budget > 0 && !a->dying; budget--) {
        struct tas_msg msg;
        ssize_t n = recv(fd, &msg, sizeof(msg), MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            break;
        if (n <= 0) {
            app_gone(a);
            return;
        }
        if (n != (ssize_t)sizeof(msg)) {
            app_bad_msg(a, "message of the wrong size");
            continue;
        }
        if (msg.type == TAS_MSG_HELLO && !a->welcomed) {
            if (msg.pid != a->pid && a->pid != 0)
                fprintf(stderr, "tasd: app %u: says pid %d, socket says %d\n", a->id,
                        msg.pid, a->pid);
            app_hello(a, &msg);
        } else if (msg.type == TAS_MSG_CTX_NEW && a->welcomed) {
            app_ctx_new(a);
        } else if (msg.type == TAS_MSG_CTX_DEL && a->welcomed) {
            app_ctx_give_back(a, msg.ctx);
        } else if (msg.type == TAS_MSG_FORK && a->welcomed) {
            app_fork(a, msg.flags);
        } else if (msg.type == TAS_MSG_FORK_DONE && a->welcomed) {
            sp_fork_done(a, msg.token, msg.pid);
        } else {
            app_bad_msg(a, "unexpected message");
        }
    }
    if (!a->dying && (events & (EPOLLHUP | EPOLLERR)) && !(events & EPOLLIN))
        app_gone(a);
}

static void on_app_accept(int fd, uint32_t events, void *arg)
{
    for (;;) {
        int s = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (s < 0)
            return;
        struct sp_app *a = sp.n_apps < SP_MAX_APPS ? calloc(1, sizeof(*a)) : NULL;
        if (a == NULL) {
            fprintf(stderr, "tasd: too many applications, refusing one\n");
            close(s);
            continue;
        }
        if (sp_cred_take(a, s) != 0) {
            fprintf(stderr,
                    "tasd: an application (pid %d) left or cannot be identified; "
                    "refusing it\n",
                    a->pid);
            sp_cred_drop(a);
            free(a);
            close(s);
            continue;
        }
        a->id = sp.next_app_id++;
        a->sock = s;
        a->memfd = a->dbfd = -1;
        if (sp_loop_add(s, on_app_sock, a) != 0) {
            close(s);
            sp_cred_drop(a);
            free(a);
            continue;
        }
        a->next = sp.apps;
        sp.apps = a;
        sp.n_apps++;
        sp.cnt.apps_total++;
    }
}

static void handle_entry(struct sp_app *a, uint16_t ctx, uint8_t type,
                         const uint8_t *body)
{
    a->entries++;
    sp.cnt.app_entries++;
    switch (type) {
    case TAS_SPIN_LISTEN: {
        struct tas_spin_listen r;
        memcpy(&r, body, sizeof(r));
        sp_listen_req(a, ctx, &r);
        break;
    }
    case TAS_SPIN_CONNECT: {
        struct tas_spin_connect r;
        memcpy(&r, body, sizeof(r));
        sp_conn_connect(a, ctx, &r);
        break;
    }
    case TAS_SPIN_ACCEPTED: {
        struct tas_spin_accepted r;
        memcpy(&r, body, sizeof(r));
        sp_accepted(a, r.listener, r.count);
        break;
    }
    case TAS_SPIN_UNLISTEN: {
        struct tas_spin_unlisten r;
        memcpy(&r, body, sizeof(r));
        sp_unlisten(a, r.listener);
        break;
    }
    case TAS_SPIN_CLOSE:
    case TAS_SPIN_ABORT:
    case TAS_SPIN_SHUTDOWN:
    case TAS_SPIN_KEEPALIVE:
        sp_conn_app_req(a, ctx, type, body);
        break;
    case TAS_SPIN_CC: {
        struct tas_spin_cc r;
        memcpy(&r, body, sizeof(r));
        if (r.kind == TAS_ATTACH_LISTENER)
            sp_listen_cc(a, r.id, r.cc);
        else if (r.kind == TAS_ATTACH_FLOW)
            sp_conn_app_req(a, ctx, type, body);
        else
            sp_app_bad_entry(a);
        break;
    }
    case TAS_SPIN_ATTACH: {
        struct tas_spin_attach r;
        memcpy(&r, body, sizeof(r));
        if (r.kind == TAS_ATTACH_LISTENER) {
            sp_listen_attach(a, ctx, &r);
        } else if (r.kind == TAS_ATTACH_FLOW) {
            sp_conn_attach(a, ctx, &r);
        } else {
            a->bad_entries++;
            sp.cnt.app_bad_entries++;
        }
        break;
    }
    default:
        a->bad_entries++;
        sp.cnt.app_bad_entries++;
        break;
    }
}

/* Take at most one queue's worth of requests per context; the rest wait
 * for the next tick, so one application cannot hold the loop. */
static void app_drain(struct sp_app *a)
{
    a->more = false;
    for (uint16_t i = 0; i < a->max_ctx && !a->dying; i++) {
        struct sp_app_ctx *x = &a->ctxs[i];
        if (!x->used || x->deleting)
            continue;
        uint32_t n;
        for (n = 0; n < a->q_ents && !a->dying; n++) {
            uint8_t body[TAS_QE_BODY];
            uint8_t t = tas_q_get(&x->sp_in, body);
            if (t == 0)
                break;
            handle_entry(a, i, t, body);
        }
        if (n == a->q_ents)
            a->more = true;
    }
}

static void on_doorbell(int fd, uint32_t events, void *arg)
{
    eventfd_t v;
    eventfd_read(fd, &v);
    app_drain(arg);
    if (sp_listen_holding())
        sp_listen_retry(); /* it may have taken connections */
}

/* ---- teardown ---- */

static void app_gone(struct sp_app *a)
{
    if (a->dying)
        return;
    /* Requests it posted before it went (close() then exit) still count:
     * a connection it closed ends gracefully, like an orphaned socket. */
    if (a->welcomed)
        app_drain(a);
    a->dying = true;
    if (a->sock >= 0) {
        sp_loop_del(a->sock);
        close(a->sock);
        a->sock = -1;
    }
    if (a->dbfd >= 0)
        sp_loop_del(a->dbfd);
    sp_listen_app_gone(a);
    sp_conn_app_gone(a);
    sp_holds_release_all(&a->holds, a); /* what it inherited (fork.c) */
    /* The contexts go once no flow can post to them (sp_app_tick). */
}

/* Remove the contexts from every core, after the flows (same rings). */
static void app_ctx_del(struct sp_app *a)
{
    for (unsigned i = 0; a->ctxs != NULL && i < a->max_ctx; i++) {
        struct sp_app_ctx *x = &a->ctxs[i];
        if (!x->used)
            continue;
        for (unsigned c = 0; c < sp.n_cores; c++)
            sp_cmd(c, FP_CMD_CTX_DEL, x->gslot, a->id, 0, NULL, &x->del_wait[c]);
    }
    a->ctx_del_sent = true;
}

static bool app_released(const struct sp_app *a)
{
    /* Listeners and connections children still hold point here. */
    if (a->n_conns > 0 || a->n_listeners > 0 || !a->ctx_del_sent)
        return false;
    for (unsigned i = 0; a->ctxs != NULL && i < a->max_ctx; i++) {
        if (!a->ctxs[i].used)
            continue;
        for (unsigned c = 0; c < sp.n_cores; c++)
            if (!sp_wait_done(c, &a->ctxs[i].del_wait[c]))
                return false;
    }
    return true;
}

/* Unlink and free.  Only when the cores are done with its memory (or
 * stopped, at shutdown). */
static void app_free(struct sp_app *a)
{
    for (struct sp_app **pp = &sp.apps; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == a) {
            *pp = a->next;
            break;
        }
    }
    sp.n_apps--;
    sp_cred_drop(a);
    for (unsigned i = 0; a->ctxs != NULL && i < a->max_ctx; i++) {
        struct sp_app_ctx *x = &a->ctxs[i];
        if (!x->used)
            continue;
        tas_parkq_clear(&x->park);
        if (x->efd >= 0)
            close(x->efd);
        sp.gslot_app[x->gslot] = NULL;
        sp_slots_free(&sp.gslots, x->gslot);
    }
    free(a->ctxs);
    free(a->holds.v);
    sp_lifo_fini(&a->bufs);
    if (a->region != NULL)
        munmap(a->region, a->region_size);
    if (a->memfd >= 0)
        close(a->memfd);
    if (a->dbfd >= 0)
        close(a->dbfd);
    if (a->sock >= 0) {
        sp_loop_del(a->sock);
        close(a->sock);
    }
    free(a);
}

void sp_app_tick(void)
{
    struct sp_app *next;
    sp_fork_tick();
    for (struct sp_app *a = sp.apps; a != NULL; a = next) {
        next = a->next;
        if (a->dying) {
            if (!a->ctx_del_sent && a->n_conns == 0)
                app_ctx_del(a);
            if (app_released(a))
                app_free(a);
            continue;
        }
        if (a->bad_entries >= SP_APP_BAD_ENTRIES_MAX) {
            fprintf(stderr,
                    "tasd: app %u (pid %d): %lu bad queue entries; disconnecting and "
                    "resetting its connections\n",
                    a->id, a->pid, (unsigned long)a->bad_entries);
            sp.cnt.app_bad_disconnects++;
            app_gone(a);
            continue;
        }
        for (unsigned i = 0; a->ctxs != NULL && i < a->max_ctx; i++) {
            if (a->ctxs[i].deleting)
                app_ctx_freed(a, i);
            else if (a->ctxs[i].used && !tas_parkq_empty(&a->ctxs[i].park))
                sp_app_ctx_unpark(&a->ctxs[i]);
        }
        if (a->more)
            app_drain(a);
    }
}

bool sp_app_busy(void)
{
    for (const struct sp_app *a = sp.apps; a != NULL; a = a->next) {
        if (a->dying || a->more || a->bad_entries >= SP_APP_BAD_ENTRIES_MAX)
            return true;
        for (unsigned i = 0; a->ctxs != NULL && i < a->max_ctx; i++)
            if (a->ctxs[i].deleting ||
                (a->ctxs[i].used && !tas_parkq_empty(&a->ctxs[i].park)))
                return true;
    }
    return false;
}

/* ---- set-up ---- */

/* mkdir -p */
static int mkdirs(const char *path)
{
    char tmp[SP_PATH_MAX];
    if (strlen(path) >= sizeof(tmp))
        return -ENAMETOOLONG;
    strcpy(tmp, path);
    for (char *p = tmp + 1; *p != '\0'; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
            return -errno;
        *p = '/';
    }
    if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
        return -errno;
    return 0;
}

int sp_app_init(void)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    const char *dir = sp.cfg.run_dir[0] != '\0' ? sp.cfg.run_dir : TAS_DEFAULT_RUN_DIR;
    int rc;

    rc = sp_slots_init(&sp.gslots, FP_MAX_CTX);
    if (rc != 0)
        return rc;
    sp.next_app_id = 1;
    rc = mkdirs(dir);
    if (rc != 0) {
        fprintf(stderr, "tasd: run directory %s: %s\n", dir, strerror(-rc));
        return rc;
    }
    int n = snprintf(sp.app_path, sizeof(sp.app_path), "%s/%s", dir, TAS_APP_SOCK);
    if (n < 0 || (size_t)n >= sizeof(sa.sun_path) || (size_t)n >= sizeof(sp.app_path)) {
        fprintf(stderr, "tasd: run directory %s: path too long for a socket\n", dir);
        return -ENAMETOOLONG;
    }
    strcpy(sa.sun_path, sp.app_path);

    int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    /* A live tasd answers on the socket: do not steal it.  A stale one
     * (left by a crash) is removed. */
    int probe = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
        fprintf(stderr, "tasd: %s: another tasd is running there\n", sp.app_path);
        close(probe);
        close(fd);
        sp.app_path[0] = '\0';
        return -EADDRINUSE;
    }
    if (probe >= 0)
        close(probe);
    unlink(sp.app_path);
    /* Every user's (an OS service), or apps.group's (the kernel then
     * refuses the others at connect()). */
    gid_t gid = sp.cfg.app_gid >= 0 ? (gid_t)sp.cfg.app_gid : (gid_t)-1;
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
        (gid != (gid_t)-1 && chown(sp.app_path, (uid_t)-1, gid) != 0) ||
        chmod(sp.app_path, gid != (gid_t)-1 ? 0660 : 0666) != 0 || listen(fd, 128) != 0) {
        rc = -errno;
        fprintf(stderr, "tasd: %s: %s\n", sp.app_path, strerror(-rc));
        close(fd);
        return rc;
    }
    sp.app_lfd = fd;
    return sp_loop_add(fd, on_app_accept, NULL);
}

/* Shutdown: hang up on every application (they see EOF and fail their
 * sockets), start releasing their memory. */
void sp_app_fini(void)
{
    if (sp.app_lfd >= 0) {
        sp_loop_del(sp.app_lfd);
        close(sp.app_lfd);
        sp.app_lfd = -1;
        if (sp.app_path[0] != '\0')
            unlink(sp.app_path);
    }
    sp_fork_fini();
    for (struct sp_app *a = sp.apps; a != NULL; a = a->next)
        app_gone(a);
}

/* Free what is left.  force: the cores are stopped or did not answer in
 * time; with cores still running, regions they may touch are leaked
 * rather than unmapped. */
void sp_app_free_all(bool cores_stopped)
{
    struct sp_app *next;
    for (struct sp_app *a = sp.apps; a != NULL; a = next) {
        next = a->next;
        if (!a->ctx_del_sent)
            app_ctx_del(a); /* no-op for stopped cores; their rings are gone next */
        if (cores_stopped || app_released(a)) {
            app_free(a);
        } else {
            fprintf(stderr,
                    "tasd: app %u: fast path still holds its memory; leaking it\n",
                    a->id);
            a->region = NULL;
            app_free(a);
        }
    }
    sp_slots_fini(&sp.gslots);
    /* The global page stays: the cores write it until they stop
     * (sp_gpage_destroy, after fp_fini). */
}

/* What an application's row shows, in the table and in JSON. */
struct app_row {
    unsigned n_ctx;
    uint64_t rx_bytes, tx_bytes; /* its connections', ended ones too */
    uint64_t lib_wakes; /* what the application says (shm.h): shown, never used */
    uint32_t bufs_used;
    const char *state;
};

static void app_row(const struct sp_app *a, struct app_row *w)
{
    w->n_ctx = 0;
    w->lib_wakes = a->lib_wakes_gone;
    for (unsigned i = 0; a->ctxs != NULL && i < a->max_ctx; i++) {
        if (!a->ctxs[i].used || a->ctxs[i].deleting)
            continue;
        w->n_ctx++;
        w->lib_wakes +=
            atomic_load_explicit(&a->ctxs[i].hdr->lib_wakes, memory_order_relaxed);
    }
    w->rx_bytes = a->rx_bytes_gone;
    w->tx_bytes = a->tx_bytes_gone;
    for (const struct sp_conn *c = a->conns; c != NULL; c = c->anext) {
        w->rx_bytes += sp_conn_rx_bytes(c);
        w->tx_bytes += c->tx_acked_total;
    }
    w->bufs_used = sp_lifo_in_use(&a->bufs);
    w->state = a->dying ? "closing" : a->welcomed ? "up" : "new";
}

void sp_app_write(FILE *f)
{
    fprintf(f, "%-6s %-8s %-6s %-5s %-6s %-9s %-11s %-9s %-10s %s\n", "APP", "PID", "UID",
            "CTX", "CONNS", "LISTENERS", "BUFS", "BAD", "LIB_WAKES", "STATE");
    for (struct sp_app *a = sp.apps; a != NULL; a = a->next) {
        struct app_row w;
        char bufs[24];
        app_row(a, &w);
        snprintf(bufs, sizeof(bufs), "%u/%u", w.bufs_used, a->bufs.n);
        fprintf(f, "%-6u %-8d %-6u %-5u %-6u %-9u %-11s %-9lu %-10lu %s\n", a->id, a->pid,
                a->euid, w.n_ctx, a->n_conns, a->n_listeners, bufs,
                (unsigned long)a->bad_entries, (unsigned long)w.lib_wakes, w.state);
    }
}

struct json_object *sp_apps_json(void)
{
    struct json_object *arr = json_object_new_array();

    for (struct sp_app *a = sp.apps; a != NULL; a = a->next) {
        struct json_object *j = json_object_new_object();
        struct app_row w;
        app_row(a, &w);
        cm_json_u64(j, "id", a->id);
        cm_json_int(j, "pid", a->pid);
        cm_json_str(j, "command", a->comm);
        cm_json_u64(j, "uid", a->euid);
        cm_json_u64(j, "gid", a->egid);
        cm_json_u64(j, "contexts", w.n_ctx);
        cm_json_u64(j, "conns", a->n_conns);
        cm_json_u64(j, "listeners", a->n_listeners);
        cm_json_u64(j, "bufs_used", w.bufs_used);
        cm_json_u64(j, "bufs", a->bufs.n);
        cm_json_u64(j, "bad_entries", a->bad_entries);
        cm_json_u64(j, "bad_msgs", a->bad_msgs);
        cm_json_u64(j, "entries", a->entries);
        cm_json_u64(j, "lib_wakes", w.lib_wakes);
        cm_json_u64(j, "rx_bytes", w.rx_bytes);
        cm_json_u64(j, "tx_bytes", w.tx_bytes);
        cm_json_str(j, "state", w.state);
        cm_json_push(arr, j);
    }
    return arr;
}
