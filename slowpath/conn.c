/* conn.c - TCP connection records in the slow path: creating and freeing
 * them, installing and removing the fast-path flow, the closing states
 * driven by fast-path events and application requests, resets in both
 * directions and TIME_WAIT.  The 4-tuple table is conn_table.c; the
 * application's requests and who holds a connection, conn_app.c.
 *
 * Life of a connection record (struct sp_conn, see sp.h):
 *   created   by CONNECT (connect.c) or by a SYN to a listener (listen.c)
 *   installed flow id + buffers reserved, fp.flows[id] filled, FLOW_ADD
 *   finished  out of the 4-tuple table (CLOSED); FLOW_DEL sent
 *   freed     once the core executed FLOW_DEL and the application closed
 *             (or died): id and buffers reused, TAS_SPOUT_CLOSED posted
 * A connection that reaches TIME_WAIT leaves a separate small record in the
 * table (no flow, no application) that answers the peer for time_wait_ms.
 * Handshakes live in connect.c and listen.c; timers in timers.c.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <rte_mbuf.h>

#include "common/tcp_opts.h"
#include "slowpath/sp.h"
#include "tas/seq.h"

/* ---- the table and the flow ids ---- */

int sp_conn_init(void)
{
    uint32_t n = sp.cfg.max_flows;
    uint32_t buckets = 1024;
    while (buckets < 2 * (uint64_t)n && buckets < (1u << 22))
        buckets *= 2;
    sp.hash = calloc(buckets, sizeof(*sp.hash));
    sp.hash_mask = buckets - 1;
    sp.flow_conn = calloc(n, sizeof(*sp.flow_conn));
    sp.flow_gen = calloc(n, sizeof(*sp.flow_gen));
    if (sp.hash == NULL || sp.flow_conn == NULL || sp.flow_gen == NULL)
        return -ENOMEM;
    sp.rst_tokens = SP_RST_PER_SEC;
    sp_wheel_init(&sp.wheel, sp.now_ms);
    int rc = sp_tw_init();
    if (rc != 0)
        return rc;
    return sp_slots_init(&sp.flow_ids, n);
}

/* ---- records ---- */

struct sp_conn *sp_conn_new(uint32_t lip, uint32_t rip, uint16_t lport, uint16_t rport)
{
    struct sp_conn *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    c->lip = lip;
    c->rip = rip;
    c->lport = lport;
    c->rport = rport;
    c->core = (uint8_t)fp_flow_core(lip, rip, lport, rport);
    if (c->core >= sp.n_cores)
        c->core = 0;
    c->flow = SP_NO_FLOW;
    c->buf_slot = -1;
    c->lnext = sp.conns;
    if (sp.conns != NULL)
        sp.conns->lprev = c;
    sp.conns = c;
    sp.n_conns++;
    return c;
}

static void conn_free(struct sp_conn *c)
{
    sp_conn_hash_del(c);
    c->arp_wait = false; /* (the address's token stays; it finds nobody) */
    sp_wheel_cancel(&sp.wheel, &c->tm);
    if (c->half_open) {
        struct sp_listener *l = sp_listener_get(c->listener);
        if (l != NULL && l->syn_rcvd > 0)
            l->syn_rcvd--;
        sp.n_syn_rcvd--;
    }
    sp_conn_set_owner(c, NULL);
    if (c->app != NULL) {
        if (c->aprev != NULL)
            c->aprev->anext = c->anext;
        else
            c->app->conns = c->anext;
        if (c->anext != NULL)
            c->anext->aprev = c->aprev;
    }
    if (c->lprev != NULL)
        c->lprev->lnext = c->lnext;
    else
        sp.conns = c->lnext;
    if (c->lnext != NULL)
        c->lnext->lprev = c->lprev;
    sp.n_conns--;
    free(c);
}

void sp_limit_hit(const struct sp_app *a, const char *what, uint32_t value,
                  const char *effect, const char *setting, const char *flag,
                  uint64_t *last_ms)
{
    if (*last_ms != 0 && sp.now_ms - *last_ms < 1000)
        return;
    *last_ms = sp.now_ms;
    fprintf(stderr, "tasd: app %u (pid %d): %s (%u): %s; raise %s (--%s)\n", a->id,
            a->pid, what, value, effect, setting, flag);
}

#define NO_NEW_CONN "no new connection until one closes"

/* limits.app_buf_mb: the largest rings of an application's connections
 * together.  A connection that would pass it gets smaller largest rings
 * (halved, the larger first, never below where they start, never a ring
 * SO_RCVBUF/SO_SNDBUF pinned), as Linux lowers buffers under memory
 * pressure; one that cannot fit even the rings it starts with is refused.
 * Rings grow only up to their largest (the cores check), so the charge
 * bounds the application's buffer memory. */
static int buf_charge(struct sp_conn *c, struct sp_app *a)
{
    uint64_t cap = (uint64_t)sp.cfg.app_buf_mb << 20;
    c->buf_charge = 0;
    if (cap == 0)
        return 0;
    uint32_t rx0 = sp_ring_initial(c->rx_size, sp.cfg.rx_buf_initial, c->rx_pinned);
    uint32_t tx0 = sp_ring_initial(c->tx_size, sp.cfg.tx_buf_initial, c->tx_pinned);
    bool shrunk = false;
    while (a->buf_charged + c->rx_size + c->tx_size > cap) {
        bool rx_can = !c->rx_pinned && c->rx_size / 2 >= rx0;
        bool tx_can = !c->tx_pinned && c->tx_size / 2 >= tx0;
        if (rx_can && (!tx_can || c->rx_size >= c->tx_size))
            c->rx_size /= 2;
        else if (tx_can)
            c->tx_size /= 2;
        else
            return -ENOBUFS;
        shrunk = true;
    }
    if (shrunk)
        sp.cnt.app_buf_shrunk++;
    c->buf_charge = c->rx_size + c->tx_size;
    a->buf_charged += c->buf_charge;
    return 0;
}

int sp_conn_reserve(struct sp_conn *c, struct sp_app *a)
{
    static uint64_t flows_ms, app_ms, buf_ms;
    int64_t id = sp_slots_alloc(&sp.flow_ids);
    if (id < 0) {
        sp.cnt.limit_flows++;
        sp_limit_hit(a, "tasd's connections are all in use", sp.cfg.max_flows,
                     NO_NEW_CONN, "limits.max_flows", "max-flows", &flows_ms);
        return -ENOSPC;
    }
    int64_t slot = sp_lifo_alloc(&a->bufs);
    if (slot < 0) {
        sp_slots_free(&sp.flow_ids, (uint32_t)id);
        sp.cnt.limit_app_conns++;
        sp_limit_hit(a, "the application holds all the connections it may", a->max_conns,
                     NO_NEW_CONN, "limits.app_max_conns", "app-max-conns", &app_ms);
        return -ENOBUFS;
    }
    if (!sp_policy_admit(c, a)) {
        sp_lifo_free(&a->bufs, (uint32_t)slot);
        sp_slots_free(&sp.flow_ids, (uint32_t)id);
        return -ENOBUFS;
    }
    if (buf_charge(c, a) != 0) {
        sp_policy_conn_gone(c);
        sp_lifo_free(&a->bufs, (uint32_t)slot);
        sp_slots_free(&sp.flow_ids, (uint32_t)id);
        sp.cnt.limit_app_buf++;
        sp_limit_hit(a, "the application's connections hold all the buffer memory it may",
                     sp.cfg.app_buf_mb, NO_NEW_CONN, "limits.app_buf_mb", "app-buf-mb",
                     &buf_ms);
        return -ENOBUFS;
    }
    c->flow = (uint32_t)id;
    if (++sp.flow_gen[id] == 0)
        sp.flow_gen[id] = 1;
    c->gen = sp.flow_gen[id];
    sp.flow_conn[id] = c;
    c->buf_slot = slot;
    c->app = a;
    c->oapp = a;
    c->aprev = NULL;
    c->anext = a->conns;
    if (a->conns != NULL)
        a->conns->aprev = c;
    a->conns = c;
    c->chold = true;
    c->holders = 1;
    a->n_conns++;
    c->fstate = SP_FLOW_RESERVED;
    return 0;
}

uint32_t sp_ring_size(uint32_t req, uint32_t max)
{
    if (req == 0 || req > max)
        return max;
    return req < 2048 ? (max < 2048 ? max : 2048) : req;
}

uint16_t sp_conn_syn_mss(uint16_t peer_mss)
{
    uint16_t m = peer_mss < sp.mss ? peer_mss : sp.mss;
    return m < 88 ? 88 : m; /* Linux's floor: a tiny MSS is a resource attack */
}

/* MSS the application sees (TCP_MAXSEG): payload per segment. */
uint16_t sp_conn_app_mss(const struct sp_conn *c)
{
    return (uint16_t)(c->ts ? c->mss - 12 : c->mss);
}

void sp_conn_bufs(const struct sp_conn *c, struct tas_conn_bufs *b)
{
    const struct fp_flow *f = &fp.flows[c->flow];
    b->slot = (uint32_t)c->buf_slot;
    b->rx_size = sp_rd32(&f->rx_size); /* it may have grown already */
    b->tx_size = sp_rd32(&f->tx_size);
    b->rx_max = c->rx_size;
    b->tx_max = c->tx_size;
}

/* Where a connection's rings start: small, unless pinned (SO_RCVBUF). */
int sp_conn_install(struct sp_conn *c)
{
    struct sp_app *a = c->app;
    struct fp_flow *f = &fp.flows[c->flow];
    struct fp_flow_x *x = &fp.flowx[c->flow];
    uint8_t *at = sp_app_rx_at(a, c->buf_slot);
    uint32_t rx0 = sp_ring_initial(c->rx_size, sp.cfg.rx_buf_initial, c->rx_pinned);
    uint32_t tx0 = sp_ring_initial(c->tx_size, sp.cfg.tx_buf_initial, c->tx_pinned);

    sp_conn_cc_start(c);
    c->rto_ms = sp_rto_base(c);
    c->rto_una = c->iss + 1;
    c->rto_deadline_ms = 0;

    memset(f, 0, sizeof(*f));
    memset(x, 0, sizeof(*x));
    /* rx grows up from at, tx down from it (shm.h) */
    f->rx_base = at;
    f->tx_base = at - tx0;
    f->rx_size = rx0;
    f->rx_avail = f->rx_size;
    f->rx_next_seq = c->irs + 1;
    f->tx_size = tx0;
    x->rx_max = c->rx_size;
    x->tx_max = c->tx_size;
    x->ecn_each = c->cca->ecn_each;
    f->tx_una_seq = c->iss + 1;
    f->tx_remote_win = c->peer_win;
    f->flags = (uint16_t)((c->ts ? FP_FLOW_TS : 0) | (c->sack ? FP_FLOW_SACK : 0) |
                          (c->ecn ? FP_FLOW_ECN : 0));
    f->remote_wscale = c->remote_ws;
    f->local_ip = c->lip;
    f->remote_ip = c->rip;
    f->local_port = c->lport;
    f->remote_port = c->rport;
    memcpy(f->remote_mac, c->peer_mac, 6);
    f->mss = c->mss;
    f->local_wscale = c->local_ws;
    f->core = c->core;
    f->ctx = c->fp_ctx = a->ctxs[c->ctx].gslot;
    f->gen = c->gen;
    f->app_id = a->id;
    f->ts_recent = c->ts_recent;
    f->cwnd = c->cc.cwnd;
    f->rate_kbps = c->cc_sent_rate;
    int rc = sp_cmd(c->core, FP_CMD_FLOW_ADD, c->flow, 0, 0, NULL, &c->add_wait);
    if (rc != 0)
        return rc;
    c->fstate = SP_FLOW_INSTALLED;
    c->add_checked = false;
    return 0;
}

bool sp_conn_add_refused(struct sp_conn *c)
{
    if (c->add_checked || !sp_wait_done(c->core, &c->add_wait))
        return false;
    c->add_checked = true;
    /* FP_FLOW_INSTALLED is the core's; it logged why it refused. */
    return !(sp_rd16(&fp.flows[c->flow].flags) & FP_FLOW_INSTALLED);
}

uint32_t sp_conn_snd_nxt(const struct sp_conn *c)
{
    const struct fp_flow *f = &fp.flows[c->flow];
    uint16_t fl = sp_rd16(&f->flags);
    uint32_t nxt = sp_rd32(&f->tx_una_seq) + sp_rd32(&f->tx_sent);
    if ((fl & (FP_FLOW_FIN_SENT | FP_FLOW_FIN_ACKED)) == FP_FLOW_FIN_SENT)
        nxt++;
    return nxt;
}

/* RST|ACK from the flow's current state: ACK = RCV.NXT, SEQ = SND.NXT but
 * never past the peer's window (SND.UNA + SND.WND), as Linux's
 * tcp_acceptable_seq: a zero-window probe's byte, or anything sent beyond
 * a window that shrank, lies past it, and a peer drops a RST there
 * (RFC 9293 3.10.7.4), staying ESTABLISHED for good. */
static void rst_from_flow(struct sp_conn *c)
{
    const struct fp_flow *f = &fp.flows[c->flow];
    uint32_t end = sp_rd32(&f->tx_una_seq) + sp_rd32(&f->tx_remote_win);
    uint32_t seq = tas_seq_min(sp_conn_snd_nxt(c), end);
    sp_send_rst(c, seq, sp_rd32(&f->rx_next_seq), true);
}

void sp_conn_unflow(struct sp_conn *c, bool rst)
{
    if (c->fstate == SP_FLOW_INSTALLED) {
        c->rst_on_del = rst;
        c->fstate = SP_FLOW_DELETING;
        if (sp_cmd(c->core, FP_CMD_FLOW_DEL, c->flow, 0, 0, NULL, &c->del_wait) != 0) {
            /* Could not even park it: the flow stays in the core for good
             * rather than being reused under it. */
            c->fstate = SP_FLOW_INSTALLED;
        } else {
            sp_conn_del_queue(c);
        }
    } else if (c->fstate == SP_FLOW_RESERVED) {
        c->fstate = SP_FLOW_DELETED;
    }
}

void sp_conn_flow_gone(struct sp_conn *c)
{
    c->fstate = SP_FLOW_DELETED;
    if (c->rst_on_del) {
        /* The core no longer sends for this flow: its sequence state is
         * final, so the RST carries the exact SND.NXT. */
        rst_from_flow(c);
        c->rst_on_del = false;
    }
    sp_conn_maybe_free(c);
}

uint64_t sp_conn_rx_bytes(const struct sp_conn *c)
{
    if (c->fstate != SP_FLOW_INSTALLED && c->fstate != SP_FLOW_DELETED)
        return 0;
    const struct fp_flow *f = &fp.flows[c->flow];
    uint32_t n = sp_rd32(&f->rx_next_seq) - (c->irs + 1);
    if ((sp_rd16(&f->flags) & FP_FLOW_FIN_RCVD) && n > 0)
        n--;
    return n;
}

void sp_conn_maybe_free(struct sp_conn *c)
{
    if (c->hashed || c->state != SP_TCP_CLOSED)
        return;
    if (c->fstate == SP_FLOW_INSTALLED || c->fstate == SP_FLOW_DELETING)
        return;
    struct sp_app *a = c->app;
    /* An application may still read the rx ring until the last one holding
     * the connection closes it (or dies: that sets app_closed too). */
    if (a != NULL && c->handed && !c->app_closed)
        return;
    if (c->flow != SP_NO_FLOW) {
        sp.flow_conn[c->flow] = NULL;
        sp_slots_free(&sp.flow_ids, c->flow);
    }
    if (a != NULL) {
        a->rx_bytes_gone += sp_conn_rx_bytes(c); /* the core's last word */
        a->tx_bytes_gone += c->tx_acked_total;
        if (c->buf_slot >= 0) {
            /* The core let go of the flow: its ring sizes are final. */
            const struct fp_flow *f = &fp.flows[c->flow];
            bool had = c->fstate == SP_FLOW_DELETED;
            sp_app_slot_release(a, c->buf_slot, had ? f->rx_size : 0,
                                had ? f->tx_size : 0);
            a->buf_charged -= c->buf_charge;
            c->buf_charge = 0;
        }
        if (c->handed && c->oapp != NULL && !c->oapp->dying) {
            struct tas_spout_closed cl = {.flow = c->flow, .gen = c->gen};
            sp_app_post(c->oapp, c->ctx, TAS_SPOUT_CLOSED, &cl, sizeof(cl));
        }
        a->n_conns--;
        sp_policy_conn_gone(c);
        sp.cnt.conn_closed++;
    }
    conn_free(c);
}

void sp_conn_finish(struct sp_conn *c)
{
    sp_conn_hash_del(c);
    c->arp_wait = false; /* (the address's token stays; it finds nobody) */
    c->state = SP_TCP_CLOSED;
    c->timer_ms = 0;
    sp_wheel_cancel(&sp.wheel, &c->tm);
    sp_conn_maybe_free(c);
}

static void notify_reset(struct sp_conn *c, int err)
{
    if (c->app == NULL || !c->handed || c->app_closed || c->notified)
        return;
    c->reset_err = err;
    if (c->oapp == NULL)
        return; /* whoever attaches next hears it (sp_conn_attach) */
    struct tas_spout_reset r = {.flow = c->flow, .gen = c->gen, .error = err};
    sp_app_post(c->oapp, c->ctx, TAS_SPOUT_RESET, &r, sizeof(r));
    c->notified = true;
}

void sp_conn_reset(struct sp_conn *c, int err, bool send_rst)
{
    sp_conn_unflow(c, send_rst);
    notify_reset(c, err);
    sp_conn_finish(c);
}

/* ---- TIME_WAIT ---- */

static void enter_time_wait(struct sp_conn *c)
{
    sp_conn_hash_del(c);
    sp_tw_enter(c); /* a pair of its own (time_wait.c) */
    sp_conn_unflow(c, false);
    sp_conn_finish(c);
}

/* ---- state changes ---- */

void sp_conn_event(struct sp_conn *c, enum sp_tcp_event ev)
{
    int ns = sp_tcp_next_state(c->state, ev);
    if (ns < 0)
        return;
    enum sp_tcp_state old = c->state;
    c->state = (uint8_t)ns;
    if (sp_tcp_sends_fin(old, ns))
        sp_cmd(c->core, FP_CMD_FLOW_FIN, c->flow, c->app_closed ? FP_FIN_CLOSE : 0, 0, NULL,
               NULL);
    if (ns == SP_TCP_TIME_WAIT) {
        enter_time_wait(c);
    } else if (ns == SP_TCP_CLOSED) {
        sp_conn_unflow(c, false);
        sp_conn_finish(c);
    } else if (ns == SP_TCP_FIN_WAIT_2 && c->app_closed && c->timer_ms == 0) {
        /* Orphaned: the peer may never close (Linux tcp_fin_timeout). */
        sp_conn_timer(c, sp.now_ms + SP_FIN_WAIT_2_MS);
    }
    if (c->fstate == SP_FLOW_INSTALLED && (enum sp_tcp_state)ns != old) {
        c->info_dirty = true; /* TCP_INFO shows the new state soon */
        sp_conn_rearm(c);
    }
}

void sp_conn_fp_event(const struct fp_event *ev)
{
    sp.cnt.fp_events++;
    if (ev->type == FP_EV_APP_BAD) {
        const struct sp_conn *c =
            ev->flow < sp.cfg.max_flows ? sp.flow_conn[ev->flow] : NULL;
        struct sp_app *poster = sp_app_of_gslot(ev->arg);
        const struct fp_flow *f = ev->flow < sp.cfg.max_flows ? &fp.flows[ev->flow] : NULL;
        if (f != NULL && poster != NULL && (c == NULL || c->fstate != SP_FLOW_INSTALLED) &&
            f->gen == ev->gen && f->app_id == poster->id) {
            /* Progress its last owner posted on a flow that has just ended
             * (both FINs, or a reset; the record may be gone too): what it
             * consumed or wrote meanwhile, nothing wrong. */
            sp.cnt.fp_app_late++;
            return;
        }
        struct sp_app *a = c != NULL && c->app != NULL ? c->app : poster;
        if (a != NULL)
            a->bad_entries++;
        sp.cnt.fp_app_bad++;
        return;
    }
    if (ev->type == FP_EV_APP_BAD_FLOW) {
        /* The owner's view of its rings is broken (it wrote garbage into
         * its queue): its connection cannot go on.  Reset it, as if the
         * application had aborted it; it hears RESET (ECONNRESET). */
        sp.cnt.fp_app_bad++;
        struct sp_conn *c = ev->flow < sp.cfg.max_flows ? sp.flow_conn[ev->flow] : NULL;
        if (c == NULL || c->gen != ev->gen || c->fstate != SP_FLOW_INSTALLED)
            return;
        if (c->app != NULL)
            c->app->bad_entries++;
        char l[16], r[16];
        inet_ntop(AF_INET, &c->lip, l, sizeof(l));
        inet_ntop(AF_INET, &c->rip, r, sizeof(r));
        fprintf(stderr,
                "tasd: flow %u %s:%u-%s:%u: app %u posted a ring update that does not "
                "fit; resetting the connection\n",
                c->flow, l, ntohs(c->lport), r, ntohs(c->rport),
                c->app != NULL ? c->app->id : 0);
        sp.cnt.app_bad_resets++;
        sp.cnt.conn_reset++;
        sp_conn_reset(c, ECONNRESET, true);
        return;
    }
    if (ev->flow >= sp.cfg.max_flows)
        return;
    struct sp_conn *c = sp.flow_conn[ev->flow];
    if (c == NULL || c->gen != ev->gen || c->fstate != SP_FLOW_INSTALLED)
        return;
    if (ev->type == FP_EV_FLOW_REFUSED) {
        /* The core could not install it (it logged why): nothing can
         * carry the connection. */
        c->add_checked = true;
        sp.cnt.flow_refused++;
        sp_conn_reset(c, ECONNRESET, true);
        return;
    }
    if (ev->type == FP_EV_CLOSE_UNREAD) {
        /* close() left received data unread: abort, as Linux does (RFC
         * 9293 3.10.4 allows it).  The core decided after taking every
         * update the application posted before close(). */
        sp.cnt.conn_reset++;
        sp.cnt.close_unread++;
        sp_conn_reset(c, ECONNRESET, true);
        return;
    }
    if (ev->type == FP_EV_FIN_RCVD)
        sp_conn_event(c, SP_TEV_FIN_RCVD);
    else if (ev->type == FP_EV_FIN_ACKED)
        sp_conn_event(c, SP_TEV_FIN_ACKED);
}

/* ---- segments for synchronized connections ---- */

uint16_t sp_conn_adv_win(const struct sp_conn *c)
{
    uint32_t w = sp_rd32(&fp.flows[c->flow].rx_avail) >> c->local_ws;
    return (uint16_t)(w > 0xffff ? 0xffff : w);
}

/* ---- TCP_INFO and the owner ---- */

void sp_conn_write_info(struct sp_conn *c)
{
    /* Our states in Linux's TCP_* numbering (netinet/tcp.h). */
    static const uint8_t linux_state[SP_TCP_N_STATES] = {
        [SP_TCP_CLOSED] = 7,     [SP_TCP_SYN_SENT] = 2,   [SP_TCP_SYN_RCVD] = 3,
        [SP_TCP_ESTABLISHED] = 1, [SP_TCP_FIN_WAIT_1] = 4, [SP_TCP_FIN_WAIT_2] = 5,
        [SP_TCP_CLOSING] = 11,   [SP_TCP_TIME_WAIT] = 6,  [SP_TCP_CLOSE_WAIT] = 8,
        [SP_TCP_LAST_ACK] = 9,
    };
    c->info_ms = sp.now_ms;
    c->info_dirty = false;
    if (c->app == NULL || c->buf_slot < 0 || c->flow == SP_NO_FLOW)
        return;
    const struct fp_flow *f = &fp.flows[c->flow];
    struct tas_flow_info *in = sp_app_info(c->app, c->buf_slot);
    struct tas_flow_info v = {0};
    uint16_t fl = sp_rd16(&f->flags);
    v.flow = c->flow;
    v.state = c->state < SP_TCP_N_STATES ? linux_state[c->state] : 7;
    v.ca_state = c->rto_retries > 0                     ? 4
                 : fp.flowx[c->flow].in_recovery != 0   ? 3
                                                        : 0;
    v.retransmits = (uint8_t)(c->rto_retries > 255 ? 255 : c->rto_retries);
    v.options = (uint8_t)((c->ts ? TAS_INFO_OPT_TIMESTAMPS : 0) |
                          (c->sack ? TAS_INFO_OPT_SACK : 0) |
                          (c->ws ? TAS_INFO_OPT_WSCALE : 0) |
                          ((fl & FP_FLOW_ECN) ? TAS_INFO_OPT_ECN : 0));
    v.snd_wscale = c->remote_ws;
    v.rcv_wscale = c->local_ws;
    v.cc = c->cca != NULL ? (uint8_t)(sp_cc_index(c->cca) + 1) : 0;
    v.rto_us = c->rto_ms * 1000;
    v.rtt_us = c->srtt_us;
    v.rttvar_us = c->rttvar_us;
    v.snd_mss = sp_conn_app_mss(c);
    v.rcv_mss = sp_conn_app_mss(c);
    v.snd_cwnd = c->mss != 0 ? c->cc.cwnd / c->mss : 0;
    v.total_retrans = c->retx_events;
    v.unacked = sp_rd32(&f->tx_sent);
    v.bytes_acked = c->tx_acked_total;
    v.bytes_received = (uint32_t)(sp_rd32(&f->rx_next_seq) - c->irs - 1);
    /* Odd while writing, so a reader sees a torn copy and tries again. */
    c->info_seq += 2;
    __atomic_store_n(&in->seq, c->info_seq - 1, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    v.seq = c->info_seq;
    memcpy((uint8_t *)in + sizeof(in->seq), (uint8_t *)&v + sizeof(v.seq),
           sizeof(v) - sizeof(v.seq));
    __atomic_store_n(&in->seq, c->info_seq, __ATOMIC_RELEASE);
}

void sp_conn_set_owner(struct sp_conn *c, struct sp_app *a)
{
    if (c->oapp == a)
        return;
    if (c->oapp != NULL && c->oapp != c->app)
        c->oapp->n_owned_foreign--;
    if (a != NULL && a != c->app)
        a->n_owned_foreign++;
    c->oapp = a;
}


/* Shutdown: RST every synchronized connection now (the cores still run),
 * RESET to the applications, then remove the flows. */
void sp_conn_reset_all(void)
{
    struct sp_conn *next;
    for (struct sp_conn *c = sp.conns; c != NULL; c = next) {
        next = c->lnext;
        if (c->state == SP_TCP_SYN_RCVD) {
            sp_send_rst(c, c->iss + 1, 0, false);
            sp_conn_finish(c);
        } else if (sp_tcp_synchronized(c->state) && c->fstate == SP_FLOW_INSTALLED) {
            rst_from_flow(c);
            sp_conn_reset(c, ECONNRESET, false);
        }
    }
}

void sp_conn_fini(void)
{
    for (unsigned i = 0; i < TAS_MAX_FP_CORES; i++)
        sp.del_head[i] = sp.del_tail[i] = NULL;
    while (sp.conns != NULL)
        conn_free(sp.conns);
    sp_tw_fini();
    free(sp.hash);
    free(sp.flow_conn);
    free(sp.flow_gen);
    sp.hash = NULL;
    sp.flow_conn = NULL;
    sp.flow_gen = NULL;
    sp_slots_fini(&sp.flow_ids);
}
