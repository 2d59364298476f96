/* stats.c - the slow path's view for the control socket (tasctl flows,
 * tasctl stats): one row per connection and listener, and the counters by
 * reason, applications and the neighbour table.  Tables for people; for
 * tools, json-c trees (common/json.h) that tasd/control.c prints.
 */
#include <arpa/inet.h>
#include <stddef.h>
#include <stdio.h>

#include "common/json.h"
#include "slowpath/sp.h"

static void addr(char *buf, size_t n, uint32_t ip, uint16_t port_be)
{
    char a[16];
    inet_ntop(AF_INET, &ip, a, sizeof(a));
    snprintf(buf, n, "%s:%u", a, ntohs(port_be));
}

/* What a connection's row shows, in the table and in JSON. */
struct conn_row {
    char local[24], remote[24];
    uint64_t rx;
    uint32_t srtt, cwnd;
    const char *state;
};

static void conn_row(const struct sp_conn *c, struct conn_row *w)
{
    bool has_flow = c->fstate == SP_FLOW_INSTALLED;
    const struct fp_flow *fl = has_flow ? &fp.flows[c->flow] : NULL;

    addr(w->local, sizeof(w->local), c->lip, c->lport);
    addr(w->remote, sizeof(w->remote), c->rip, c->rport);
    w->rx = fl != NULL ? sp_conn_rx_bytes(c) : 0;
    w->srtt = fl != NULL && sp_rd32(&fl->srtt_us) ? sp_rd32(&fl->srtt_us) : c->srtt_us;
    w->cwnd = has_flow ? c->cc.cwnd : 0;
    w->state = sp_tcp_state_name(c->state);
}

/* Milliseconds until a TIME_WAIT pair expires. */
static uint64_t tw_left_ms(const struct sp_tw *t)
{
    return t->tm.expires > sp.now_ms ? t->tm.expires - sp.now_ms : 0;
}

void sp_write_flows(FILE *f)
{
    fprintf(f, "%-8s %-12s %-22s %-22s %-12s %-12s %-9s %-9s %-6s %s\n", "ID", "STATE",
            "LOCAL", "REMOTE", "RX_BYTES", "TX_ACKED", "SRTT_US", "CWND", "APP", "CC");
    for (const struct sp_conn *c = sp.conns; c != NULL; c = c->lnext) {
        struct conn_row w;
        char id[16], app[12];
        conn_row(c, &w);
        if (c->flow != SP_NO_FLOW)
            snprintf(id, sizeof(id), "%u", c->flow);
        else
            snprintf(id, sizeof(id), "-");
        snprintf(app, sizeof(app), "%u", c->app != NULL ? c->app->id : 0);
        fprintf(f, "%-8s %-12s %-22s %-22s %-12lu %-12lu %-9u %-9u %-6s %s\n", id, w.state,
                w.local, w.remote, (unsigned long)w.rx, (unsigned long)c->tx_acked_total,
                w.srtt, w.cwnd, c->app != NULL ? app : "-",
                c->cca != NULL ? c->cca->name : "-");
    }
    /* TIME_WAIT pairs (time_wait.c), as ss(8) lists them too. */
    for (uint32_t b = 0; sp.tw_hash != NULL && b <= sp.tw_mask; b++) {
        for (const struct sp_tw *t = sp.tw_hash[b]; t != NULL; t = t->hnext) {
            char l[24], r[24];
            addr(l, sizeof(l), t->lip, t->lport);
            addr(r, sizeof(r), t->rip, t->rport);
            fprintf(f, "%-8s %-12s %-22s %-22s %-12s %-12s %-9s %-9s %-6s %s\n", "-",
                    "TIME_WAIT", l, r, "-", "-", "-", "-", "-", "-");
        }
    }
    sp_listen_write(f);
}

static struct json_object *conn_json(const struct sp_conn *c)
{
    struct json_object *j = json_object_new_object();
    struct conn_row w;

    conn_row(c, &w);
    cm_json_add(j, "id", c->flow != SP_NO_FLOW ? json_object_new_uint64(c->flow) : NULL);
    cm_json_u64(j, "gen", c->gen);
    cm_json_str(j, "state", w.state);
    cm_json_str(j, "local", w.local);
    cm_json_str(j, "remote", w.remote);
    cm_json_u64(j, "app", c->app != NULL ? c->app->id : 0);
    cm_json_add(j, "ctx", c->oapp != NULL ? json_object_new_uint64(c->ctx) : NULL);
    cm_json_u64(j, "core", c->core);
    cm_json_u64(j, "rx_bytes", w.rx);
    cm_json_u64(j, "tx_acked", c->tx_acked_total);
    cm_json_u64(j, "srtt_us", w.srtt);
    cm_json_u64(j, "rto_ms", c->rto_ms);
    cm_json_u64(j, "cwnd", w.cwnd);
    cm_json_add(j, "cc", c->cca != NULL ? json_object_new_string(c->cca->name) : NULL);
    cm_json_u64(j, "rate_kbps", c->fstate == SP_FLOW_INSTALLED ? c->cc_sent_rate : 0);
    cm_json_u64(j, "mss", c->mss);
    cm_json_bool(j, "ts", c->ts);
    struct json_object *ws = cm_json_arr(j, "wscale");
    cm_json_push(ws, json_object_new_uint64(c->local_ws));
    cm_json_push(ws, json_object_new_uint64(c->remote_ws));
    cm_json_u64(j, "retries", c->rto_retries);
    return j;
}

static struct json_object *tw_json(const struct sp_tw *t)
{
    struct json_object *j = json_object_new_object();
    char l[24], r[24];

    addr(l, sizeof(l), t->lip, t->lport);
    addr(r, sizeof(r), t->rip, t->rport);
    cm_json_add(j, "id", NULL);
    cm_json_str(j, "state", "TIME_WAIT");
    cm_json_str(j, "local", l);
    cm_json_str(j, "remote", r);
    cm_json_u64(j, "core", t->core);
    cm_json_bool(j, "ts", t->ts);
    cm_json_u64(j, "expires_ms", tw_left_ms(t));
    return j;
}

struct json_object *sp_flows_json(void)
{
    struct json_object *o = json_object_new_object();
    struct json_object *flows = cm_json_arr(o, "flows");

    for (const struct sp_conn *c = sp.conns; c != NULL; c = c->lnext)
        cm_json_push(flows, conn_json(c));
    for (uint32_t b = 0; sp.tw_hash != NULL && b <= sp.tw_mask; b++)
        for (const struct sp_tw *t = sp.tw_hash[b]; t != NULL; t = t->hnext)
            cm_json_push(flows, tw_json(t));
    cm_json_add(o, "listeners", sp_listeners_json());
    return o;
}

#define C(name)                                                                          \
    {                                                                                    \
#name, offsetof(struct sp_counters, name)                                        \
    }

static const struct {
    const char *name;
    size_t off;
} counters[] = {
    C(wakeups),
    C(timer_wakeups),
    C(app_kicks),
    C(fp_kicks),
    C(apps_total),
    C(app_bad_msgs),
    C(app_bad_entries),
    C(app_entries),
    C(cred_refused),
    C(cred_port_refused),
    C(cred_reuseport_refused),
    C(exc_pkts),
    C(exc_bad),
    C(exc_bad_frame),
    C(exc_bad_opts),
    C(app_bad_resets),
    C(app_bad_disconnects),
    C(exc_nontcp),
    C(exc_not_ours),
    C(pings),
    C(arp_rx),
    C(arp_replies),
    C(arp_requests),
    C(arp_failed),
    C(arp_queue_full),
    C(rst_sent),
    C(rst_rcvd),
    C(rst_ignored),
    C(rst_limited),
    C(syn_rcvd),
    C(syn_no_listener),
    C(syn_drop_backlog),
    C(syn_held),
    C(syn_drop_limit),
    C(syn_drop_mem),
    C(synack_retx),
    C(syn_retx),
    C(handshake_timeouts),
    C(bad_ack),
    C(conn_passive),
    C(conn_active),
    C(conn_refused),
    C(conn_unreach),
    C(conn_reset),
    C(conn_timeout),
    C(conn_closed),
    C(rto_retx),
    C(persist_probes),
    C(challenge_acks),
    C(tw_created),
    C(tw_reacks),
    C(tw_reused),
    C(tw_reuse_connect),
    C(tw_overflow),
    C(close_unread),
    C(slots_punched),
    C(punch_fail),
    C(limit_flows),
    C(limit_app_conns),
    C(limit_app_listeners),
    C(limit_app_buf),
    C(app_buf_shrunk),
    C(ctx_given_back),
    C(ctx_kept),
    C(cc_changes),
    C(policy_changes),
    C(policy_reloads),
    C(policy_refused),
    C(kroutes_added),
    C(kroutes_removed),
    C(kroutes_ignored),
    C(kneigh_learned),
    C(kneigh_ignored),
    C(reinjected),
    C(flow_refused),
    C(fp_app_bad),
    C(fp_app_late),
    C(forks),
    C(fork_unknown),
    C(fork_expired),
    C(attaches),
    C(syn_drop_inactive),
    C(tlp_probes),
    C(challenge_limited),
    C(syncookies_sent),
    C(syncookies_ok),
    C(syncookies_bad),
    C(syn_flood_on),
    C(syn_flood_off),
    C(keepalive_probes),
    C(keepalive_timeouts),
    C(data_after_close),
    C(fp_events),
    C(cmd_backlogged),
    C(cmd_dropped),
    C(out_parked),
    C(out_dropped),
    C(mbuf_fail),
    C(tx_fail),
};
#define N_COUNTERS (sizeof(counters) / sizeof(counters[0]))

static uint64_t counter(size_t i)
{
    return *(const uint64_t *)((const uint8_t *)&sp.cnt + counters[i].off);
}

struct json_object *sp_stats_json(void)
{
    struct json_object *o = json_object_new_object();

    cm_json_u64(o, "conns", sp.n_conns + sp.n_tw);
    cm_json_u64(o, "syn_rcvd", sp.n_syn_rcvd);
    cm_json_u64(o, "time_wait", sp.n_tw);
    cm_json_u64(o, "listeners", sp.n_listeners);
    cm_json_u64(o, "n_apps", sp.n_apps);
    cm_json_u64(o, "flows_free", sp.flow_ids.nfree);
    struct json_object *cnt = cm_json_obj(o, "counters");
    for (size_t i = 0; i < N_COUNTERS; i++)
        cm_json_u64(cnt, counters[i].name, counter(i));
    struct json_object *arp = cm_json_obj(o, "arp");
    cm_json_u64(arp, "evictions", sp.arp.cnt.evictions);
    cm_json_u64(arp, "mac_changes", sp.arp.cnt.mac_changes);
    cm_json_u64(arp, "bad", sp.arp.cnt.bad);
    cm_json_u64(arp, "conflicts", sp.arp.cnt.conflicts);
    cm_json_u64(arp, "pending_drops", sp.arp.cnt.pending_drops);
    cm_json_add(arp, "entries", sp_neigh_json());
    cm_json_add(o, "apps", sp_apps_json());
    /* The route table, longest prefix first (the order it is matched in). */
    struct json_object *routes = cm_json_arr(o, "routes");
    for (unsigned i = 0; i < sp.routes.n; i++) {
        const struct sp_route *r = &sp.routes.r[i];
        struct json_object *j = json_object_new_object();
        char d[INET_ADDRSTRLEN], dest[24], gw[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, &r->dest, d, sizeof(d));
        snprintf(dest, sizeof(dest), "%s/%u", d, r->prefix);
        cm_json_str(j, "dest", dest);
        if (r->gw != 0)
            cm_json_str(j, "gateway", inet_ntop(AF_INET, &r->gw, gw, sizeof(gw)));
        else
            cm_json_add(j, "gateway", NULL);
        static const char *const origins[] = {"subnet", "config", "kernel"};
        cm_json_str(j, "origin", r->origin < 3 ? origins[r->origin] : "?");
        cm_json_push(routes, j);
    }
    return o;
}

void sp_write_stats(FILE *f)
{
    fprintf(f,
            "slow path: %u connections (%u half-open, %u TIME_WAIT), %u listeners, "
            "%u applications, %u flow ids free\n",
            sp.n_conns + sp.n_tw, sp.n_syn_rcvd, sp.n_tw, sp.n_listeners, sp.n_apps,
            sp.flow_ids.nfree);
    for (size_t i = 0; i < N_COUNTERS; i++) {
        uint64_t v = counter(i);
        if (v != 0)
            fprintf(f, "  %-20s %lu\n", counters[i].name, (unsigned long)v);
    }
    fprintf(f, "neighbours:\n");
    sp_neigh_write(f);
    fprintf(f, "applications:\n");
    sp_app_write(f);
}
