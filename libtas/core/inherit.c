/* inherit.c - a fork child's view of its parent's sockets.  Right after
 * fork(), before the child registers, it goes through the socket objects
 * it copied: the ones tasd recorded for it (listeners, live connections)
 * wait to be attached on first use (attach.c); the parent's requests in
 * flight and the connections waiting in its accept queues are not the
 * child's (the latter are let go of once the child is registered); without
 * a record (keep false) every tasd socket is detached.  fork.c's atfork
 * handler calls it.
 */
#include <stdlib.h>

#include "libtas/core/core.h"

/* Drop a flow of the parent's from our tables without telling tasd. */
static void forget_flow(struct tc_sock *s)
{
    struct tc_ctx *c = &tc_ctx;
    if (s->flow_live && c->flows != NULL && s->flow < c->flows_n &&
        c->flows[s->flow] == s) {
        c->flows[s->flow] = NULL;
        s->flow_live = false;
        tc_sock_put(s);
    }
    s->flow_live = false;
}

/* Connections waiting in the parent's accept queues stay the parent's, but
 * tasd counted the child as holding them too: the child lets go of them
 * once registered. */
static struct tas_spin_flow *unheld;
static uint32_t n_unheld;

/* In the child: which inherited sockets it holds (tasd recorded them) and
 * which it cannot use (requests the parent had in flight; connections
 * waiting in the parent's accept queues). */
void tc_inherit(bool keep)
{
    struct tc_ctx *c = &tc_ctx;
    uint32_t n_acc = 0;

    for (struct tc_sock *l = c->listeners; l != NULL; l = l->lnext)
        n_acc += l->acc_len;
    free(unheld);
    n_unheld = 0;
    unheld = keep && n_acc > 0 ? calloc(n_acc, sizeof(*unheld)) : NULL;

    while (c->pending != NULL) {
        struct tc_sock *s = c->pending;
        c->pending = s->pnext;
        s->pnext = NULL;
        s->pending = false;
        s->detached = true;
        tc_sock_put(s);
    }
    for (struct tc_sock *l = c->listeners; l != NULL; l = l->lnext) {
        while (l->acc_head != NULL) {
            struct tc_sock *a = l->acc_head;
            l->acc_head = a->acc_next;
            a->acc_next = NULL;
            a->app_closed = true;
            if (unheld != NULL && n_unheld < n_acc && a->flow_live)
                unheld[n_unheld++] =
                    (struct tas_spin_flow){.flow = a->flow, .gen = a->gen};
            forget_flow(a);
            tc_sock_put(a);
        }
        l->acc_tail = NULL;
        l->acc_len = 0;
    }
    c->dirty = NULL;
    for (struct tc_sock *s = c->all; s != NULL; s = s->all_next) {
        s->dirty = false;
        s->dnext = NULL;
        s->n_ctrl = 0;
        s->pend_rx = s->pend_tx = 0;
        s->pend_tx_pre = s->pend_tx_size = 0;
        s->pend_push = false;
        s->attach_wait = false;
        if (s->detached || s->app_closed)
            continue;
        bool held = s->state == TC_SS_LISTENING || s->flow_live;
        if (keep && held) {
            s->need_attach = true;
            c->attach_pending = true;
        } else if (s->state != TC_SS_FRESH && s->state != TC_SS_CLOSED) {
            s->detached = true;
        }
        if (!keep || s->detached) {
            forget_flow(s);
            s->rx_base = s->tx_base = NULL;
            s->rx_ready = 0;
        }
    }
    if (!keep) {
        while (c->listeners != NULL)
            tc_listener_remove(c->listeners);
    }
}

void tc_inherit_release_unheld(void)
{
    for (uint32_t i = 0; i < n_unheld; i++)
        tc_sp_post(NULL, TAS_SPIN_CLOSE, &unheld[i], sizeof(unheld[i]));
    free(unheld);
    unheld = NULL;
    n_unheld = 0;
}
