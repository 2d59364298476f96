/* listen.c - listeners and the passive open.
 *
 * LISTEN registers (ip, port) for an application context; several
 * contexts of the same application may share a port with
 * TAS_LISTEN_REUSEPORT (a prefork server), and each new connection then
 * goes to one of them, chosen by a hash of the 4-tuple.
 *
 * A SYN for a listener creates a SYN_RCVD record (struct sp_conn without a
 * flow) and is answered with a SYN-ACK carrying our options; the record
 * retransmits it with back-off (timers.c).  The ACK that completes the
 * handshake installs the flow in the listener's application region and
 * posts TAS_SPOUT_NEW_CONN; if that ACK carries data or FIN it is handed to
 * the fast path to process (FP_CMD_PKT).
 *
 * fork(): the child inherits the listener (fork.c).  When it first uses it
 * (ATTACH) it gets a listener of its own in the same group on the same
 * port, and the parent's stops getting connections until the parent uses it
 * again: a prefork master that never accepts gets none.  A listener lives
 * while anyone holds it; when none on a port is active, SYNs are dropped
 * (the peer retries) rather than refused.
 *
 * SYN cookies (tcp.syncookies): once a listener has 2 x backlog (at least
 * 256) half-open connections, or all listeners SP_MAX_SYN_RCVD, a SYN is
 * answered with a SYN-ACK whose ISS is a cookie (fastpath/syncookie.c) and
 * nothing is kept; an ACK for no known connection that carries a valid
 * cookie makes the connection then (with the MSS the cookie kept, without
 * window scale, timestamps or SACK), so a SYN flood cannot fill the
 * half-open table.  Then, or when handshakes fail (reset, timed out) faster
 * than a flood threshold, the port is handed to the fast-path cores, which
 * answer its SYNs with cookies themselves (flood.c, fastpath/syn.c).
 *
 * Backlog: `pending` counts NEW_CONN posted and not yet ACCEPTED.  A full
 * backlog drops SYNs and handshake-completing ACKs (the peer retries), as
 * Linux does with tcp_abort_on_overflow = 0.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_mbuf.h>

#include "tas/seq.h"
#include "fastpath/clock.h"
#include "fastpath/syncookie.h"
#include "common/json.h"
#include "common/tcp_opts.h"
#include "slowpath/sp.h"

/* Frames that met a full accept queue (a SYN, a handshake's last ACK) wait
 * here a moment for the application to take connections, instead of being
 * dropped at once.  On Linux the sender's own softirq fills the accept
 * queue while the application empties it on another CPU; here one thread
 * takes a whole burst of handshakes (often retransmitted in step, when
 * most got SYN cookies) before the application's ACCEPTED entries, so a
 * drop per frame would admit little more than the backlog per burst.  A
 * held frame is run again once its listener has room (after the
 * application's requests, and at each tick); one that waited SP_HELD_MS
 * is dropped as before (syn_drop_backlog), and so is one that finds the
 * FIFO full: the peer retries. */
#define SP_HELD_MAX 2048 /* an eighth of the port's mbufs at most */
#define SP_HELD_MS  500
struct held_frame {
    struct rte_mbuf *m;
    uint64_t t_ms;
    uint32_t listener;
    uint8_t core;
};
static struct held_frame held[SP_HELD_MAX];
static uint32_t held_head, held_n;
/* Runs a held frame again: the exception input above us (loop.c sets it
 * to sp_exc_input); without it held frames are dropped. */
static sp_reinput_hook reinput;

void sp_listen_set_reinput(sp_reinput_hook fn)
{
    reinput = fn;
}

static void held_push(const struct held_frame *h) /* held_n < SP_HELD_MAX */
{
    held[(held_head + held_n++) % SP_HELD_MAX] = *h;
}

static struct held_frame held_pop(void) /* held_n > 0 */
{
    struct held_frame h = held[held_head];
    held_head = (held_head + 1) % SP_HELD_MAX;
    held_n--;
    return h;
}

static bool hold(struct rte_mbuf *m, const struct sp_pkt *p, const struct sp_listener *l)
{
    if (held_n == SP_HELD_MAX)
        return false;
    held_push(&(struct held_frame){
        .m = m, .t_ms = sp.now_ms, .listener = l->id, .core = p->rx_core});
    sp.cnt.syn_held++;
    return true;
}

bool sp_listen_holding(void)
{
    return held_n > 0;
}

void sp_listen_retry(void)
{
    /* Once each: a frame held again goes to the back. */
    for (uint32_t n = held_n; n > 0 && held_n > 0; n--) {
        struct held_frame h = held_pop();
        struct sp_listener *l = sp_listener_get(h.listener);
        if (l != NULL && l->pending >= l->backlog) {
            if (sp.now_ms - h.t_ms < SP_HELD_MS) {
                held_push(&h); /* still full */
                continue;
            }
            sp.cnt.syn_drop_backlog++;
            l->drops++;
            rte_pktmbuf_free(h.m);
            continue;
        }
        if (reinput != NULL)
            reinput(h.m, h.core); /* (a listener gone: it answers as for any frame) */
        else
            rte_pktmbuf_free(h.m);
    }
}

#define SP_MAX_REUSEPORT 64

static void listen_done(struct sp_app *a, uint16_t ctx, uint64_t opaque, int status,
                        uint32_t id)
{
    struct tas_spout_listen_done r = {.opaque = opaque, .status = status, .listener = id};
    sp_app_post(a, ctx, TAS_SPOUT_LISTEN_DONE, &r, sizeof(r));
}

static struct sp_listener *listener_new(struct sp_app *a, uint16_t ctx, uint32_t ip,
                                        uint16_t port, uint16_t flags, uint32_t backlog,
                                        uint32_t group)
{
    struct sp_listener *l = calloc(1, sizeof(*l));
    if (l == NULL)
        return NULL;
    if (++sp.next_listener_id == 0)
        sp.next_listener_id = 1;
    l->id = sp.next_listener_id;
    l->app = a;
    l->ctx = ctx;
    l->ip = ip;
    l->port = port;
    l->flags = flags;
    /* listen()'s backlog, clamped as Linux's net.core.somaxconn does */
    l->backlog = backlog == 0 ? 1 : backlog > sp.cfg.somaxconn ? sp.cfg.somaxconn : backlog;
    l->group = group != 0 ? group : l->id;
    l->active = true;
    l->chold = true;
    l->holders = 1;
    l->next = sp.listeners;
    sp.listeners = l;
    sp.n_listeners++;
    a->n_listeners++;
    return l;
}

void sp_listen_req(struct sp_app *a, uint16_t ctx, const struct tas_spin_listen *req)
{
    if (req->port == 0) {
        listen_done(a, ctx, req->opaque, -EINVAL, 0);
        return;
    }
    if (req->ip != 0 && req->ip != sp.ip) {
        listen_done(a, ctx, req->opaque, -EADDRNOTAVAIL, 0);
        return;
    }
    uint32_t max = sp.cfg.app_max_listeners != 0 ? sp.cfg.app_max_listeners
                                                 : SP_MAX_LISTENERS_PER_APP;
    if (a->n_listeners >= max) {
        static uint64_t said_ms;
        sp_limit_hit(a, "it holds all the listening sockets it may", max,
                     "listen() fails with ENOBUFS", "limits.app_max_listeners",
                     "app-max-listeners", &said_ms);
        sp.cnt.limit_app_listeners++;
        listen_done(a, ctx, req->opaque, -ENOBUFS, 0);
        return;
    }
    int rc = sp_cred_port(a, req->port);
    if (rc != 0) {
        listen_done(a, ctx, req->opaque, rc, 0);
        return;
    }
    /* The owner of a shared port's listener: its uid now. */
    uint32_t uid = (req->flags & TAS_LISTEN_REUSEPORT) || req->family != 0
                       ? sp_cred_uid(a)
                       : a->euid;
    uint32_t group = 0;
    for (struct sp_listener *l = sp.listeners; l != NULL; l = l->next) {
        if (l->port != req->port)
            continue;
        /* Wildcard and our address overlap: there is only one address.
         * One socket of several processes (fork(), then a new tasd) is
         * one listener group, as SO_REUSEPORT ones share a port. */
        bool family = req->family != 0 && l->family == req->family;
        bool shared = family || ((l->flags & TAS_LISTEN_REUSEPORT) &&
                                 (req->flags & TAS_LISTEN_REUSEPORT));
        /* Linux: a group is one effective uid's */
        if (shared && (l->uid != uid || uid == UINT32_MAX)) {
            sp.cnt.cred_reuseport_refused++;
            shared = false;
        }
        if (!shared) {
            listen_done(a, ctx, req->opaque, -EADDRINUSE, 0);
            return;
        }
        if (family)
            group = l->group;
    }
    struct sp_listener *l =
        listener_new(a, ctx, req->ip, req->port, req->flags & TAS_LISTEN_REUSEPORT,
                     req->backlog, group);
    if (l == NULL) {
        listen_done(a, ctx, req->opaque, -ENOMEM, 0);
        return;
    }
    l->uid = uid;
    l->family = req->family;
    l->active = !(req->flags & TAS_LISTEN_IDLE); /* (ATTACH makes it active) */
    l->rx_size = sp_ring_size(req->rx_size, sp.cfg.rx_buf_size);
    l->tx_size = sp_ring_size(req->tx_size, sp.cfg.tx_buf_size);
    l->rx_pinned = req->rx_size != 0;
    l->tx_pinned = req->tx_size != 0;
    if (req->cc <= sp_cc_count())
        l->cc_pick = (uint8_t)req->cc;
    else
        sp_app_bad_entry(a);
    listen_done(a, ctx, req->opaque, 0, l->id);
}

static void listener_free(struct sp_listener *l)
{
    /* Half-open connections of this listener go with it (the peer's
     * retransmitted SYN or ACK then gets a RST). */
    struct sp_conn *next;
    for (struct sp_conn *c = sp.conns; c != NULL; c = next) {
        next = c->lnext;
        if (c->state == SP_TCP_SYN_RCVD && c->listener == l->id)
            sp_conn_finish(c);
    }
    for (struct sp_listener **pp = &sp.listeners; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == l) {
            *pp = l->next;
            break;
        }
    }
    sp.n_listeners--;
    l->app->n_listeners--;
    free(l);
}

/* After a listener on port stopped taking connections: if none on the
 * port does any more, the cores stop answering its SYNs (flood.c). */
static void port_check(uint16_t port)
{
    for (struct sp_listener *l = sp.listeners; l != NULL; l = l->next)
        if (l->port == port && l->active && !l->app->dying)
            return;
    sp_flood_port_closed(port);
}

bool sp_listener_held(const struct sp_listener *l, const struct sp_app *a)
{
    return (l->app == a && l->chold) ||
           sp_holds_find(&a->holds, SP_HOLD_LISTENER, l->id, 0) >= 0;
}

void sp_listener_unhold(struct sp_listener *l)
{
    if (--l->holders == 0)
        listener_free(l);
}

/* a lets go of l: its own listener stops taking connections. */
static void listener_release(struct sp_listener *l, struct sp_app *a)
{
    uint16_t port = l->port;
    if (l->app == a && l->chold) {
        l->chold = false;
        l->active = false;
    } else {
        int i = sp_holds_find(&a->holds, SP_HOLD_LISTENER, l->id, 0);
        if (i < 0)
            return;
        sp_holds_del(&a->holds, i);
    }
    sp_listener_unhold(l); /* may free l */
    port_check(port);
}

/* TCP_CONGESTION on a listening socket: its connections from now on. */
void sp_listen_cc(struct sp_app *a, uint32_t id, uint32_t cc)
{
    struct sp_listener *l = sp_listener_get(id);
    if (l == NULL || !sp_listener_held(l, a) || cc == 0 || cc > sp_cc_count()) {
        sp_app_bad_entry(a);
        return;
    }
    l->cc_pick = (uint8_t)cc;
}

void sp_unlisten(struct sp_app *a, uint32_t id)
{
    struct sp_listener *l = sp_listener_get(id);
    if (l == NULL || !sp_listener_held(l, a)) {
        a->bad_entries++;
        sp.cnt.app_bad_entries++;
        return;
    }
    listener_release(l, a);
}

static void attached(struct sp_app *a, uint16_t ctx, uint64_t opaque, int status,
                     uint32_t id)
{
    struct tas_spout_attached r = {
        .opaque = opaque, .status = status, .kind = TAS_ATTACH_LISTENER, .id = id};
    sp_app_post(a, ctx, TAS_SPOUT_ATTACHED, &r, sizeof(r));
}

void sp_listen_attach(struct sp_app *a, uint16_t ctx, const struct tas_spin_attach *r)
{
    struct sp_listener *l = sp_listener_get(r->id);
    if (l == NULL || !sp_listener_held(l, a)) {
        attached(a, ctx, r->opaque, -EBADF, 0);
        return;
    }
    sp.cnt.attaches++;
    if (l->app == a && l->chold) { /* its own again, after a fork() */
        l->active = true;
        l->ctx = ctx;
        attached(a, ctx, r->opaque, 0, l->id);
        return;
    }
    /* Inherited: a listener of its own in the same group replaces the hold. */
    struct sp_listener *n =
        listener_new(a, ctx, l->ip, l->port, l->flags, l->backlog, l->group);
    if (n == NULL) {
        attached(a, ctx, r->opaque, -ENOMEM, 0);
        return;
    }
    n->uid = l->uid; /* an inherited socket keeps its owner */
    n->family = l->family;
    n->rx_size = l->rx_size;
    n->tx_size = l->tx_size;
    n->rx_pinned = l->rx_pinned;
    n->tx_pinned = l->tx_pinned;
    n->cc_pick = l->cc_pick;
    listener_release(l, a);
    attached(a, ctx, r->opaque, 0, n->id);
}

void sp_accepted(struct sp_app *a, uint32_t id, uint32_t count)
{
    struct sp_listener *l = sp_listener_get(id);
    if (l == NULL || l->app != a) {
        /* Not necessarily bad: the listener may be gone already. */
        return;
    }
    if (count > l->pending) {
        a->bad_entries++;
        sp.cnt.app_bad_entries++;
        count = l->pending;
    }
    l->pending -= count;
}

void sp_listen_app_gone(struct sp_app *a)
{
    struct sp_listener *next;
    for (struct sp_listener *l = sp.listeners; l != NULL; l = next) {
        next = l->next;
        if (l->app == a && l->chold)
            listener_release(l, a);
    }
}

void sp_listen_ctx_gone(struct sp_app *a, uint16_t ctx)
{
    for (struct sp_listener *l = sp.listeners; l != NULL; l = l->next)
        if (l->app == a && l->ctx == ctx)
            l->ctx = 0;
}

void sp_listen_fini(void)
{
    while (held_n > 0)
        rte_pktmbuf_free(held_pop().m);
    while (sp.listeners != NULL) {
        struct sp_listener *l = sp.listeners;
        sp.listeners = l->next;
        free(l);
    }
    sp.n_listeners = 0;
}

/* The listener for a SYN: among the active ones on the port (several with
 * REUSEPORT or after fork()), one picked by the 4-tuple, preferring those
 * with room.  *idle: the port has listeners, none active. */
static struct sp_listener *listener_for(const struct sp_pkt *p, bool *idle)
{
    struct sp_listener *cand[SP_MAX_REUSEPORT];
    unsigned n = 0, n_room = 0;
    uint16_t port = ntohs(p->lport);

    *idle = false;
    for (struct sp_listener *l = sp.listeners; l != NULL && n < SP_MAX_REUSEPORT;
         l = l->next) {
        if (l->port != port || (l->ip != 0 && l->ip != p->lip) || l->app->dying)
            continue;
        if (!l->active) {
            *idle = true;
            continue;
        }
        /* Listeners with room first. */
        if (l->pending < l->backlog) {
            cand[n] = cand[n_room];
            cand[n_room++] = l;
        } else {
            cand[n] = l;
        }
        n++;
    }
    if (n == 0)
        return NULL;
    unsigned pool = n_room > 0 ? n_room : n;
    uint32_t h = sp_tcp_isn(sp.isn_key, p->lip, p->rip, p->lport, p->rport, 0);
    return cand[h % pool];
}

static void complete(struct sp_conn *c, const struct sp_pkt *p, struct rte_mbuf *m);

static void syn_input(const struct sp_pkt *p, struct rte_mbuf *m, bool has_iss, uint32_t iss);

/* c becomes a half-open connection (SYN_RCVD) of listener l. */
static void half_open(struct sp_conn *c, struct sp_listener *l)
{
    c->passive = true;
    c->state = SP_TCP_SYN_RCVD;
    c->listener = l->id;
    c->rx_size = l->rx_size;
    c->tx_size = l->tx_size;
    c->rx_pinned = l->rx_pinned;
    c->tx_pinned = l->tx_pinned;
    c->cc_pick = l->cc_pick;
    c->half_open = true;
    l->syn_rcvd++;
    sp.n_syn_rcvd++;
}

/* The MAC to answer a segment with: the next hop's if known, else the
 * frame's source (the router, for a remote peer). */
static void reply_mac(const struct sp_pkt *p, uint8_t mac[6])
{
    uint32_t nh;
    const struct sp_neigh *n = NULL;
    if (sp_route_lookup(&sp.routes, p->rip, &nh) == 0)
        n = sp_arp_lookup(&sp.arp, nh, sp.now_ms);
    memcpy(mac, n != NULL ? n->mac : p->src_mac, 6);
}

/* The window of l's cookie SYN-ACKs (no window scale). */
static uint16_t cookie_window(const struct sp_listener *l)
{
    struct sp_conn t;
    memset(&t, 0, sizeof(t));
    t.rx_size = l->rx_size;
    t.rx_pinned = l->rx_pinned;
    return sp_syn_window(&t);
}

/* SYN-ACK whose ISS is a SYN cookie; no record is kept.  Options other than
 * the MSS are not offered (the cookie cannot remember them). */
static void send_cookie(const struct sp_pkt *p, const struct cm_tcp_opts *o,
                        const struct sp_listener *l)
{
    struct sp_conn t;
    memset(&t, 0, sizeof(t));
    t.lip = p->lip;
    t.rip = p->rip;
    t.lport = p->lport;
    t.rport = p->rport;
    t.core = p->rx_core;
    t.passive = true;
    t.irs = p->seq;
    t.rx_size = l->rx_size;
    t.rx_pinned = l->rx_pinned;
    t.iss = fp_syncookie_make(sp.isn_key, p->lip, p->rip, p->lport, p->rport, p->seq,
                              o->has_mss ? o->mss : 536, fp_now_us() / 1000u);
    reply_mac(p, t.peer_mac);
    sp_send_syn(&t);
    sp.cnt.syncookies_sent++;
}

bool sp_listen_cookie_ack(const struct sp_pkt *p, struct rte_mbuf *m)
{
    uint16_t mss;
    bool idle;

    if ((p->flags & (TAS_TCP_SYN | TAS_TCP_RST | TAS_TCP_ACK)) != TAS_TCP_ACK ||
        !sp.cfg.syncookies)
        return false;
    struct sp_listener *l = listener_for(p, &idle);
    if (l == NULL)
        return false;
    if (fp_syncookie_check(sp.isn_key, p->lip, p->rip, p->lport, p->rport, p->seq - 1,
                           p->ack - 1, fp_now_us() / 1000u, &mss) != 0) {
        sp.cnt.syncookies_bad++;
        return false;
    }
    struct sp_conn *c = sp_conn_new(p->lip, p->rip, p->lport, p->rport);
    if (c == NULL)
        return false;
    sp.cnt.syncookies_ok++;
    sp_flood_cookie_ok(l->port);
    half_open(c, l);
    c->core = p->rx_core;
    c->irs = p->seq - 1;
    c->iss = p->ack - 1;
    c->peer_mss = mss;
    c->mss = sp_conn_syn_mss(mss);
    c->syn_retx = true; /* no RTT sample from a handshake we did not time */
    reply_mac(p, c->peer_mac);
    sp_conn_hash_add(c);
    complete(c, p, m);
    return true;
}

void sp_listen_syn(const struct sp_pkt *p, struct rte_mbuf *m)
{
    syn_input(p, m, false, 0);
}

void sp_listen_syn_iss(const struct sp_pkt *p, struct rte_mbuf *m, uint32_t iss)
{
    syn_input(p, m, true, iss);
}

static void syn_input(const struct sp_pkt *p, struct rte_mbuf *m, bool has_iss, uint32_t iss)
{
    struct cm_tcp_opts o;

    sp.cnt.syn_rcvd++;
    bool idle;
    struct sp_listener *l = listener_for(p, &idle);
    if (l == NULL && idle) {
        sp.cnt.syn_drop_inactive++;
        goto out;
    }
    if (l == NULL) {
        sp.cnt.syn_no_listener++;
        sp_tcp_reply_rst(p);
        goto out;
    }
    if (!sp_policy_room(l->app, p->lport)) { /* a policy's max-conns */
        l->drops++;
        sp_tcp_reply_rst(p);
        goto out;
    }
    if (l->pending >= l->backlog) {
        if (hold(m, p, l))
            return;
        sp.cnt.syn_drop_backlog++;
        l->drops++;
        goto out;
    }
    if (cm_tcp_opts_parse(p->opts, p->opt_len, &o) != 0) {
        sp.cnt.exc_bad++;
        sp.cnt.exc_bad_opts++;
        goto out;
    }
    uint32_t half_max = 2 * l->backlog > 256 ? 2 * l->backlog : 256;
    struct sp_conn *c = NULL;
    if (sp.n_syn_rcvd < SP_MAX_SYN_RCVD && l->syn_rcvd < half_max)
        c = sp_conn_new(p->lip, p->rip, p->lport, p->rport);
    if (c == NULL) {
        /* Too many half-open connections (a SYN flood?): answer without
         * keeping anything, or drop when SYN cookies are off. */
        if (sp.cfg.syncookies) {
            send_cookie(p, &o, l);
            sp_flood_publish(l->port, cookie_window(l));
        } else {
            sp.cnt.syn_drop_limit++;
            l->drops++;
        }
        goto out;
    }
    half_open(c, l);
    c->core = p->rx_core;
    c->irs = p->seq;
    c->iss = has_iss ? iss
                     : sp_tcp_isn(sp.isn_key, c->lip, c->rip, c->lport, c->rport, sp.now_us);
    c->ts = sp.cfg.timestamps && o.has_ts;
    c->ts_recent = o.has_ts ? o.ts_val : 0;
    c->ws = sp.cfg.window_scaling && o.has_ws;
    c->local_ws = c->ws ? sp.wscale : 0;
    c->remote_ws = c->ws ? o.wscale : 0;
    c->sack = sp.cfg.sack && o.sack_perm;
    /* RFC 3168 6.1.1: an ECN-setup SYN has ECE and CWR. */
    c->ecn = sp.cfg.ecn != 0 &&
             (p->flags & (TAS_TCP_ECE | TAS_TCP_CWR)) == (TAS_TCP_ECE | TAS_TCP_CWR);
    c->peer_mss = o.has_mss ? o.mss : 536;
    c->mss = sp_conn_syn_mss(c->peer_mss);
    reply_mac(p, c->peer_mac); /* answer the way the SYN came */
    sp_conn_hash_add(c);

    c->syn_time_us = sp.now_us;
    c->backoff_ms = sp.rto_initial_ms;
    sp_conn_timer(c, sp.now_ms + c->backoff_ms);
    sp_send_syn(c);
out:
    rte_pktmbuf_free(m);
}

/* A half-open connection of c's listener failed (reset or timed out):
 * many of them are a SYN flood (flood.c). */
static void handshake_failed(const struct sp_conn *c)
{
    struct sp_listener *l = sp_listener_get(c->listener);
    if (l != NULL && sp_flood_failed(l))
        sp_flood_publish(l->port, cookie_window(l));
}

void sp_listen_expire(struct sp_conn *c)
{
    sp.cnt.handshake_timeouts++;
    handshake_failed(c);
    sp_conn_finish(c);
}

/* The handshake's last ACK cannot be taken now (full accept queue, a
 * limit): drop it, as Linux does with tcp_abort_on_overflow = 0; the
 * SYN-ACK timer and the peer's retransmissions try again.  A record made
 * from a SYN cookie has no timer: it goes, the cookie stays valid. */
static void ack_dropped(struct sp_conn *c, struct rte_mbuf *m)
{
    if (c->timer_ms == 0)
        sp_conn_finish(c);
    rte_pktmbuf_free(m);
}

/* The handshake's last ACK: install and hand the connection over. */
static void complete(struct sp_conn *c, const struct sp_pkt *p, struct rte_mbuf *m)
{
    struct sp_listener *l = sp_listener_get(c->listener);
    struct cm_tcp_opts o;

    if (l != NULL && !l->active) {
        /* Its app forked meanwhile: another active one of the port, if any. */
        bool idle;
        struct sp_listener *o2 = listener_for(p, &idle);
        if (o2 == NULL) {
            sp.cnt.syn_drop_inactive++;
            rte_pktmbuf_free(m);
            return;
        }
        l->syn_rcvd--;
        o2->syn_rcvd++;
        c->listener = o2->id;
        l = o2;
    }
    if (l == NULL || l->app->dying) {
        sp_send_rst(c, p->ack, 0, false);
        sp_conn_finish(c);
        rte_pktmbuf_free(m);
        return;
    }
    if (l->pending >= l->backlog) {
        if (hold(m, p, l)) { /* the record stays (a cookie's goes: it is made again) */
            if (c->timer_ms == 0)
                sp_conn_finish(c);
            return;
        }
        sp.cnt.syn_drop_backlog++;
        l->drops++;
        ack_dropped(c, m);
        return;
    }
    if (cm_tcp_opts_parse(p->opts, p->opt_len, &o) == 0 && c->ts && o.has_ts)
        c->ts_recent = o.ts_val;
    if (!c->syn_retx)
        sp_rto_sample(c, (uint32_t)(sp.now_us - c->syn_time_us));
    if (sp_conn_reserve(c, l->app) != 0) {
        /* A limit (logged by sp_conn_reserve): as a full accept queue, the
         * peer's ACK goes unanswered and it tries again. */
        sp.cnt.syn_drop_mem++;
        l->drops++;
        ack_dropped(c, m);
        return;
    }
    c->ctx = l->ctx;
    c->peer_win = (uint32_t)p->win << c->remote_ws;
    c->half_open = false;
    l->syn_rcvd--;
    sp.n_syn_rcvd--;
    sp_conn_timer(c, 0);
    if (sp_conn_install(c) != 0) {
        sp.cnt.syn_drop_mem++;
        sp_send_rst(c, p->ack, 0, false);
        c->app_closed = true;
        sp_conn_unflow(c, false);
        sp_conn_finish(c);
        rte_pktmbuf_free(m);
        return;
    }
    c->state = SP_TCP_ESTABLISHED;
    sp_conn_write_info(c); /* TCP_INFO from the start */

    struct tas_spout_new_conn r = {
        .listener = l->id,
        .flow = c->flow,
        .gen = c->gen,
        .local_ip = c->lip,
        .remote_ip = c->rip,
        .local_port = ntohs(c->lport),
        .remote_port = ntohs(c->rport),
        .mss = sp_conn_app_mss(c),
        .fp_core = c->core,
    };
    sp_conn_bufs(c, &r.bufs);
    if (sp_app_post(l->app, l->ctx, TAS_SPOUT_NEW_CONN, &r, sizeof(r)) != 0) {
        c->app_closed = true;
        sp_conn_reset(c, ECONNRESET, true);
        rte_pktmbuf_free(m);
        return;
    }
    c->handed = true;
    l->pending++;
    l->accepted_total++;
    sp.cnt.conn_passive++;
    if (p->payload_len > 0 || (p->flags & TAS_TCP_FIN)) {
        sp.cnt.reinjected++;
        sp_cmd(c->core, FP_CMD_PKT, c->flow, 0, 0, m, NULL);
    } else {
        rte_pktmbuf_free(m);
    }
}

void sp_listen_input(struct sp_conn *c, const struct sp_pkt *p, struct rte_mbuf *m)
{
    uint32_t rcv_nxt = c->irs + 1;

    if (p->flags & TAS_TCP_RST) {
        if (tas_seq_in(p->seq, rcv_nxt, rcv_nxt + sp_syn_window(c))) {
            sp.cnt.rst_rcvd++;
            handshake_failed(c);
            sp_conn_finish(c);
        } else {
            sp.cnt.rst_ignored++;
        }
        rte_pktmbuf_free(m);
        return;
    }
    if (p->flags & TAS_TCP_SYN) {
        if (!(p->flags & TAS_TCP_ACK) && p->seq == c->irs) {
            sp.cnt.synack_retx++; /* our SYN-ACK was lost: again */
            c->syn_retx = true;
            sp_send_syn(c);
            rte_pktmbuf_free(m);
        } else if (!(p->flags & TAS_TCP_ACK)) {
            /* A different SYN for the same 4-tuple: start over with it. */
            sp_conn_finish(c);
            sp_listen_syn(p, m);
        } else {
            rte_pktmbuf_free(m);
        }
        return;
    }
    if (!(p->flags & TAS_TCP_ACK)) {
        rte_pktmbuf_free(m);
        return;
    }
    if (p->ack != c->iss + 1) {
        sp.cnt.bad_ack++;
        sp_send_rst(c, p->ack, 0, false);
        rte_pktmbuf_free(m);
        return;
    }
    if (!tas_seq_in(p->seq, rcv_nxt, rcv_nxt + sp_syn_window(c) + 1)) {
        /* Unacceptable sequence number: ACK and drop (RFC 9293 3.10.7.4). */
        sp_send_ack(c, c->iss + 1, rcv_nxt, sp_syn_window(c));
        rte_pktmbuf_free(m);
        return;
    }
    complete(c, p, m);
}

void sp_listen_write(FILE *f)
{
    for (struct sp_listener *l = sp.listeners; l != NULL; l = l->next) {
        char ip[16], local[24];
        inet_ntop(AF_INET, &l->ip, ip, sizeof(ip));
        snprintf(local, sizeof(local), "%s:%u", ip, l->port);
        fprintf(f, "%-8s %-12s %-22s %-22s app %u backlog %u/%u syn %u drops %lu\n", "L",
                "LISTEN", local, "*:*", l->app->id, l->pending, l->backlog, l->syn_rcvd,
                (unsigned long)l->drops);
    }
}

struct json_object *sp_listeners_json(void)
{
    struct json_object *a = json_object_new_array();

    for (struct sp_listener *l = sp.listeners; l != NULL; l = l->next) {
        struct json_object *j = json_object_new_object();
        char ip[16], local[24];
        inet_ntop(AF_INET, &l->ip, ip, sizeof(ip));
        snprintf(local, sizeof(local), "%s:%u", ip, l->port);
        cm_json_u64(j, "id", l->id);
        cm_json_u64(j, "app", l->app->id);
        cm_json_u64(j, "ctx", l->ctx);
        cm_json_str(j, "local", local);
        cm_json_u64(j, "backlog", l->backlog);
        cm_json_u64(j, "pending", l->pending);
        cm_json_u64(j, "syn_rcvd", l->syn_rcvd);
        cm_json_u64(j, "accepted", l->accepted_total);
        cm_json_u64(j, "drops", l->drops);
        cm_json_bool(j, "reuseport", (l->flags & TAS_LISTEN_REUSEPORT) != 0);
        cm_json_push(a, j);
    }
    return a;
}
