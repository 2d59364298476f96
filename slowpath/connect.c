/* connect.c - the active open: CONNECT from an application becomes a
 * connection in SYN_SENT (route, ephemeral port, ARP for the next hop, SYN
 * with our options, retransmitted by timers.c), and the peer's SYN-ACK
 * installs the flow, is acknowledged and answered to the application with
 * TAS_SPOUT_CONNECTED.  A RST to our SYN is ECONNREFUSED, no ARP answer
 * EHOSTUNREACH, no route ENETUNREACH, no SYN-ACK ETIMEDOUT.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "common/tcp_opts.h"
#include "slowpath/sp.h"

static void connected_error(struct sp_app *a, uint16_t ctx, uint64_t opaque, int err)
{
    struct tas_spout_connected r = {.opaque = opaque, .status = err};
    sp_app_post(a, ctx, TAS_SPOUT_CONNECTED, &r, sizeof(r));
}

void sp_conn_connect_fail(struct sp_conn *c, int err)
{
    if (c->app != NULL && !c->app->dying)
        connected_error(c->app, c->ctx, c->opaque, err);
    c->app_closed = true; /* the application never saw it */
    sp_conn_unflow(c, false);
    sp_conn_finish(c);
}

/* May an active open use (lip, lport) -> (rip, rport)?  A pair in
 * TIME_WAIT may be taken over (tcp.tw_reuse: *iss set, *reuse true). */
static bool tuple_free(uint32_t lip, uint16_t lport, uint32_t rip, uint16_t rport,
                       bool *reuse, uint32_t *iss)
{
    *reuse = false;
    if (sp_conn_lookup(lip, rip, lport, rport) != NULL)
        return false;
    struct sp_tw *t = sp_tw_lookup(lip, rip, lport, rport);
    if (t == NULL)
        return true;
    *reuse = sp_tw_reuse(t, iss);
    return *reuse;
}

static int pick_port(uint32_t lip, uint32_t rip, uint16_t rport, uint16_t *out,
                     bool *reuse, uint32_t *iss)
{
    static uint32_t counter;
    const uint32_t range = SP_EPHEMERAL_HI - SP_EPHEMERAL_LO + 1;
    /* RFC 6056 algorithm 3: per-destination offset plus a counter that
     * moves past the ports it found taken. */
    uint32_t off = sp_tcp_isn(sp.isn_key, lip, rip, 0, rport, 0) + counter;
    for (uint32_t i = 0; i < range; i++) {
        uint16_t port = (uint16_t)(SP_EPHEMERAL_LO + (off + i) % range);
        if (!sp_listener_port_used(port) &&
            tuple_free(lip, htons(port), rip, rport, reuse, iss)) {
            counter += i + 1;
            *out = port;
            return 0;
        }
    }
    counter++;
    return -EADDRNOTAVAIL;
}

static bool addr_is_unicast(uint32_t ip)
{
    uint32_t h = ntohl(ip);
    return h != 0 && h != 0xffffffffu && (h >> 28) != 0xe && (h >> 24) != 127;
}

void sp_conn_connect(struct sp_app *a, uint16_t ctx, const struct tas_spin_connect *req)
{
    uint32_t lip = sp.ip, nh;
    uint16_t lport = req->local_port;
    int rc;

    if (!addr_is_unicast(req->remote_ip) || req->remote_port == 0) {
        connected_error(a, ctx, req->opaque, -EINVAL);
        return;
    }
    if (req->local_ip != 0 && req->local_ip != sp.ip) {
        connected_error(a, ctx, req->opaque, -EADDRNOTAVAIL);
        return;
    }
    rc = sp_cred_port(a, lport); /* a source port below 1024: as listening */
    if (rc != 0) {
        connected_error(a, ctx, req->opaque, rc);
        return;
    }
    if (req->remote_ip == sp.ip) {
        connected_error(a, ctx, req->opaque, -ECONNREFUSED); /* no loopback */
        return;
    }
    if (sp_route_lookup(&sp.routes, req->remote_ip, &nh) != 0) {
        sp.cnt.conn_unreach++;
        connected_error(a, ctx, req->opaque, -ENETUNREACH);
        return;
    }
    uint16_t rport = htons(req->remote_port);
    bool reuse = false;
    uint32_t reuse_iss = 0;
    if (lport == 0) {
        rc = pick_port(lip, req->remote_ip, rport, &lport, &reuse, &reuse_iss);
        if (rc != 0) {
            connected_error(a, ctx, req->opaque, rc);
            return;
        }
    } else if (!tuple_free(lip, htons(lport), req->remote_ip, rport, &reuse, &reuse_iss)) {
        connected_error(a, ctx, req->opaque, -EADDRINUSE);
        return;
    }
    struct sp_conn *c = sp_conn_new(lip, req->remote_ip, htons(lport), rport);
    if (c == NULL) {
        connected_error(a, ctx, req->opaque, -ENOMEM);
        return;
    }
    c->rx_size = sp_ring_size(req->rx_size, sp.cfg.rx_buf_size);
    c->tx_size = sp_ring_size(req->tx_size, sp.cfg.tx_buf_size);
    c->rx_pinned = req->rx_size != 0;
    c->tx_pinned = req->tx_size != 0;
    rc = sp_conn_reserve(c, a); /* (may make the largest rings smaller) */
    if (rc != 0) {
        connected_error(a, ctx, req->opaque, -ENOBUFS);
        c->state = SP_TCP_CLOSED;
        sp_conn_maybe_free(c);
        return;
    }
    c->ctx = ctx;
    c->opaque = req->opaque;
    c->state = SP_TCP_SYN_SENT;
    if (req->cc <= sp_cc_count())
        c->cc_pick = (uint8_t)req->cc;
    else
        sp_app_bad_entry(a);
    c->iss = reuse ? reuse_iss
                   : sp_tcp_isn(sp.isn_key, c->lip, c->rip, c->lport, c->rport, sp.now_us);
    /* What we offer; narrowed to what the peer accepts on SYN-ACK. */
    c->ts = sp.cfg.timestamps;
    c->ws = sp.cfg.window_scaling;
    c->sack = sp.cfg.sack;
    /* DCTCP asks for ECN whatever tcp.ecn says, as Linux's does. */
    c->ecn = sp.cfg.ecn == 1 || sp_conn_cc_choice(c)->ecn_each;
    c->local_ws = c->ws ? sp.wscale : 0;
    sp_conn_hash_add(c);
    sp.cnt.conn_active++;

    rc = sp_neigh_resolve(nh, c->peer_mac);
    if (rc < 0) {
        sp_conn_connect_fail(c, -EHOSTUNREACH);
        return;
    }
    if (rc == 0) {
        sp_conn_arp_done(c, c->peer_mac);
    } else { /* sp_connect_neigh_done follows */
        c->arp_wait = true;
        c->arp_ip = nh;
    }
}

void sp_connect_neigh_done(uint32_t ip, const uint8_t *mac)
{
    struct sp_conn *next;
    for (struct sp_conn *c = sp.conns; c != NULL; c = next) {
        next = c->lnext;
        if (c->arp_wait && c->arp_ip == ip)
            sp_conn_arp_done(c, mac); /* may free c (only c) */
    }
}

void sp_conn_arp_done(struct sp_conn *c, const uint8_t *mac)
{
    c->arp_wait = false;
    if (c->state != SP_TCP_SYN_SENT)
        return;
    if (mac == NULL) {
        sp.cnt.conn_unreach++;
        sp_conn_connect_fail(c, -EHOSTUNREACH);
        return;
    }
    if (mac != c->peer_mac)
        memcpy(c->peer_mac, mac, 6);
    c->syn_time_us = sp.now_us;
    c->backoff_ms = sp.rto_initial_ms;
    c->retries = 0;
    sp_conn_timer(c, sp.now_ms + c->backoff_ms);
    sp_send_syn(c);
}

/* SYN-ACK to our SYN: negotiate, install, ACK, tell the application. */
static void establish_active(struct sp_conn *c, const struct sp_pkt *p)
{
    struct cm_tcp_opts o;
    if (cm_tcp_opts_parse(p->opts, p->opt_len, &o) != 0) {
        sp.cnt.exc_bad++;
        sp.cnt.exc_bad_opts++;
        return;
    }
    c->irs = p->seq;
    c->core = p->rx_core; /* where the port steers the flow (tcp_in.c) */
    c->ts = c->ts && o.has_ts;
    c->ts_recent = o.has_ts ? o.ts_val : 0;
    c->ws = c->ws && o.has_ws;
    c->local_ws = c->ws ? sp.wscale : 0;
    c->remote_ws = c->ws ? o.wscale : 0;
    c->sack = c->sack && o.sack_perm;
    /* An ECN-setup SYN-ACK has ECE and not CWR. */
    c->ecn = c->ecn && (p->flags & (TAS_TCP_ECE | TAS_TCP_CWR)) == TAS_TCP_ECE;
    c->peer_mss = o.has_mss ? o.mss : 536;
    c->mss = sp_conn_syn_mss(c->peer_mss);
    c->peer_win = p->win; /* never scaled in a SYN */
    if (!c->syn_retx)
        sp_rto_sample(c, (uint32_t)(sp.now_us - c->syn_time_us));
    sp_conn_timer(c, 0);

    if (sp_conn_install(c) != 0) {
        sp_send_rst(c, c->iss + 1, c->irs + 1, true);
        sp_conn_connect_fail(c, -ENOBUFS);
        return;
    }
    c->state = SP_TCP_ESTABLISHED;
    sp_conn_write_info(c); /* TCP_INFO from the start */
    uint32_t w = sp_conn_rx_initial(c) >> c->local_ws;
    sp_send_ack(c, c->iss + 1, c->irs + 1, (uint16_t)(w > 0xffff ? 0xffff : w));

    struct tas_spout_connected r = {
        .opaque = c->opaque,
        .status = 0,
        .flow = c->flow,
        .gen = c->gen,
        .local_ip = c->lip,
        .local_port = ntohs(c->lport),
        .mss = sp_conn_app_mss(c),
        .fp_core = c->core,
    };
    sp_conn_bufs(c, &r.bufs);
    if (sp_app_post(c->app, c->ctx, TAS_SPOUT_CONNECTED, &r, sizeof(r)) != 0) {
        c->app_closed = true;
        sp_conn_reset(c, ECONNRESET, true);
        return;
    }
    c->handed = true;
}

void sp_connect_input(struct sp_conn *c, const struct sp_pkt *p)
{
    bool ack_ok = (p->flags & TAS_TCP_ACK) && p->ack == c->iss + 1;

    if ((p->flags & TAS_TCP_ACK) && !ack_ok) {
        if (!(p->flags & TAS_TCP_RST)) {
            sp.cnt.bad_ack++;
            sp_send_rst(c, p->ack, 0, false);
        }
        return;
    }
    if (p->flags & TAS_TCP_RST) {
        if (ack_ok) {
            sp.cnt.rst_rcvd++;
            sp.cnt.conn_refused++;
            sp_conn_connect_fail(c, -ECONNREFUSED);
        }
        return;
    }
    if ((p->flags & TAS_TCP_SYN) && ack_ok && !c->arp_wait)
        establish_active(c, p);
    /* A bare SYN (simultaneous open) is not supported: ignored. */
}
