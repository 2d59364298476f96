/* fork.c - listeners and connections shared by a process and its children.
 *
 * A process that forks keeps its tasd sockets, and its child has them too,
 * as with kernel sockets.  Before forking, the parent asks us (TAS_MSG_FORK)
 * to record what it holds: every listener and connection it created and has
 * not closed, and everything it inherited itself.  Each gets one more holder,
 * kept in a struct sp_fork under a random token until the child says HELLO
 * with that token; then the holds are the child's (sp_app.holds).
 *
 * A listener or connection is closed when its last holder closes it or dies,
 * so a parent closing its copy after handing a connection to a child (or a
 * parent exiting) does not end it.  Who hears about it is a separate matter:
 * the owner context (see ctxq.h, ATTACH).
 *
 * The same record carries sockets across exec() (the new program says
 * HELLO with the token).  A record nobody claims (the child died first,
 * fork() or exec() failed, the new program does not use libtas) is
 * released: when FORK_DONE says the fork failed, when the child's pid no
 * longer exists, and in any case SP_FORK_WAIT_MS after it was made.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "tas/msg.h"
#include "slowpath/sp.h"

#define SP_FORK_MAX        1024   /* records not claimed yet */
#define SP_FORK_WAIT_MS    10000  /* a child registers at once: give up then */
#define SP_FORK_CHECK_MS   500    /* how often to look for the child */

/* Release every hold: listeners and connections lose one holder each
 * (a: the holder that went away, NULL for a fork record). */
void sp_holds_release_all(struct sp_holds *h, struct sp_app *a)
{
    while (h->n > 0) {
        struct sp_hold x = h->v[--h->n];
        if (x.kind == SP_HOLD_LISTENER) {
            struct sp_listener *l = sp_listener_get(x.id);
            if (l != NULL)
                sp_listener_unhold(l);
        } else if (x.id < sp.cfg.max_flows) {
            struct sp_conn *c = sp.flow_conn[x.id];
            if (c != NULL && c->gen == x.gen)
                sp_conn_release_inherited(c, a);
        }
    }
    free(h->v);
    h->v = NULL;
    h->cap = 0;
}

/* The connections whose NEW_CONN a has not read yet: its library cannot
 * know of them at fork() time, and the child would never let go of them
 * (it releases the connections waiting in its parent's accept queues, the
 * ones it knows), so they stay the parent's alone.  Peeks at the
 * application's sp_out (its own memory: a scribbled entry only changes
 * what its child holds) and at the entries still parked for it.  Returns
 * how many were found (at most max) in v. */
static uint32_t unread_new_conns(const struct sp_app *a, struct sp_hold *v, uint32_t max)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < a->max_ctx; i++) {
        const struct sp_app_ctx *x = &a->ctxs[i];
        if (!x->used)
            continue;
        for (uint32_t j = 0; j <= x->sp_out.mask; j++) {
            const struct tas_qe *e = &x->sp_out.ents[j];
            if (atomic_load_explicit(&e->type, memory_order_acquire) !=
                TAS_SPOUT_NEW_CONN)
                continue;
            struct tas_spout_new_conn nc;
            memcpy(&nc, e->body, sizeof(nc));
            if (n < max)
                v[n++] =
                    (struct sp_hold){.kind = SP_HOLD_FLOW, .id = nc.flow, .gen = nc.gen};
        }
        for (const struct tas_park_ent *p = x->park.head; p != NULL; p = p->next) {
            if (p->type != TAS_SPOUT_NEW_CONN)
                continue;
            struct tas_spout_new_conn nc;
            memcpy(&nc, p->body, sizeof(nc));
            if (n < max)
                v[n++] =
                    (struct sp_hold){.kind = SP_HOLD_FLOW, .id = nc.flow, .gen = nc.gen};
        }
    }
    return n;
}

static int snapshot(struct sp_app *a, struct sp_holds *h, uint32_t flags)
{
    for (struct sp_listener *l = sp.listeners; l != NULL; l = l->next) {
        if (l->app != a || !l->chold)
            continue;
        if (sp_holds_add(h, SP_HOLD_LISTENER, l->id, 0) != 0)
            return -ENOMEM;
        l->holders++;
        /* The parent of a prefork server rarely accepts itself: it gets
         * connections again once it uses the listener (ATTACH).  The
         * parent of a vfork() child that execs goes on as before. */
        if (!(flags & TAS_FORK_PARENT_GOES_ON))
            l->active = false;
    }
    struct sp_holds unread = {0};
    uint32_t max = a->n_conns;
    unread.v = max > 0 ? calloc(max, sizeof(*unread.v)) : NULL;
    if (unread.v != NULL)
        unread.n = unread_new_conns(a, unread.v, max);
    for (struct sp_conn *c = a->conns; c != NULL; c = c->anext) {
        if (!c->chold || !c->handed ||
            (unread.n > 0 && sp_holds_find(&unread, SP_HOLD_FLOW, c->flow, c->gen) >= 0))
            continue;
        if (sp_holds_add(h, SP_HOLD_FLOW, c->flow, c->gen) != 0) {
            free(unread.v);
            return -ENOMEM;
        }
        c->holders++;
    }
    free(unread.v);
    /* What it inherited itself goes on to the grandchild. */
    for (uint32_t i = 0; i < a->holds.n; i++) {
        struct sp_hold x = a->holds.v[i];
        if (x.kind == SP_HOLD_LISTENER) {
            struct sp_listener *l = sp_listener_get(x.id);
            if (l == NULL)
                continue;
            if (sp_holds_add(h, x.kind, x.id, 0) != 0)
                return -ENOMEM;
            l->holders++;
        } else if (x.id < sp.cfg.max_flows && sp.flow_conn[x.id] != NULL &&
                   sp.flow_conn[x.id]->gen == x.gen) {
            if (sp_holds_add(h, x.kind, x.id, x.gen) != 0)
                return -ENOMEM;
            sp.flow_conn[x.id]->holders++;
        }
    }
    return 0;
}

uint64_t sp_fork_begin(struct sp_app *a, uint32_t flags)
{
    if (sp.n_forks >= SP_FORK_MAX)
        return 0;
    struct sp_fork *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return 0;
    while (f->token == 0)
        if (getrandom(&f->token, sizeof(f->token), 0) != sizeof(f->token))
            f->token = (sp.now_us << 20) ^ ((uint64_t)a->id << 40) ^ (uint64_t)sp.n_forks;
    f->parent = a->id;
    f->expire_ms = sp.now_ms + SP_FORK_WAIT_MS;
    if (snapshot(a, &f->holds, flags) != 0) {
        sp_holds_release_all(&f->holds, NULL);
        free(f);
        return 0;
    }
    f->next = sp.forks;
    sp.forks = f;
    sp.n_forks++;
    sp.cnt.forks++;
    return f->token;
}

static struct sp_fork **fork_find(uint64_t token)
{
    for (struct sp_fork **pp = &sp.forks; *pp != NULL; pp = &(*pp)->next)
        if ((*pp)->token == token)
            return pp;
    return NULL;
}

static void fork_drop(struct sp_fork **pp)
{
    struct sp_fork *f = *pp;
    *pp = f->next;
    sp.n_forks--;
    sp_holds_release_all(&f->holds, NULL);
    free(f);
}

void sp_fork_done(struct sp_app *a, uint64_t token, int32_t pid)
{
    struct sp_fork **pp = token != 0 ? fork_find(token) : NULL;
    if (pp == NULL || (*pp)->parent != a->id)
        return; /* claimed already (the child was quick), or not its own */
    if (pid <= 0) {
        fork_drop(pp);
        return;
    }
    (*pp)->pid = pid;
    (*pp)->check_ms = sp.now_ms + SP_FORK_CHECK_MS;
}

int sp_fork_claim(struct sp_app *a, uint64_t token, uint32_t parent)
{
    struct sp_fork **pp = fork_find(token);
    if (pp == NULL || (*pp)->parent != parent) {
        sp.cnt.fork_unknown++;
        return -ENOENT;
    }
    struct sp_fork *f = *pp;
    *pp = f->next;
    sp.n_forks--;
    a->holds = f->holds;
    a->parent = parent;
    free(f);
    return 0;
}

/* A pid that no longer runs (or is a zombie, which never registers). */
static bool pid_gone(int32_t pid)
{
    char path[64], st[256];
    if (kill(pid, 0) != 0 && errno == ESRCH)
        return true;
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    FILE *fp = fopen(path, "re");
    if (fp == NULL)
        return true;
    size_t n = fread(st, 1, sizeof(st) - 1, fp);
    fclose(fp);
    st[n] = '\0';
    const char *p = strrchr(st, ')');
    return p != NULL && p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X');
}

void sp_fork_tick(void)
{
    for (struct sp_fork **pp = &sp.forks; *pp != NULL;) {
        struct sp_fork *f = *pp;
        bool drop = sp.now_ms >= f->expire_ms;
        if (!drop && f->pid != 0 && sp.now_ms >= f->check_ms) {
            f->check_ms = sp.now_ms + SP_FORK_CHECK_MS;
            drop = pid_gone(f->pid);
        }
        if (drop) {
            sp.cnt.fork_expired++;
            fork_drop(pp);
        } else {
            pp = &f->next;
        }
    }
}

void sp_fork_fini(void)
{
    while (sp.forks != NULL)
        fork_drop(&sp.forks);
}
