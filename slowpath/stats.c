/* stats.c - the slow path's view for the control socket (tasctl flows,
 * tasctl stats): one row per connection and listener, and the counters by
 * reason, applications and the neighbour table.  Tables for people, JSON
 * for tools.
 */
#include <arpa/inet.h>
#include <stddef.h>
#include <stdio.h>

#include "slowpath/sp.h"

static void addr(char *buf, size_t n, uint32_t ip, uint16_t port_be)
{
    char a[16];
    inet_ntop(AF_INET, &ip, a, sizeof(a));
    snprintf(buf, n, "%s:%u", a, ntohs(port_be));
}

/* Bytes received so far: RCV.NXT - IRS - 1, less the peer's FIN. */
static uint64_t rx_bytes(const struct sp_conn *c, const struct fp_flow *f)
{
    uint32_t n = sp_rd32(&f->rx_next_seq) - (c->irs + 1);
    if ((sp_rd16(&f->flags) & FP_FLOW_FIN_RCVD) && n > 0)
        n--;
    return n;
}

void sp_write_flows(FILE *f, bool json)
{
    bool first = true;

    if (json)
        fprintf(f, "{\"flows\":[");
    else
        fprintf(f, "%-8s %-12s %-22s %-22s %-12s %-12s %-9s %-9s %s\n", "ID", "STATE",
                "LOCAL", "REMOTE", "RX_BYTES", "TX_ACKED", "SRTT_US", "CWND", "APP");
    for (const struct sp_conn *c = sp.conns; c != NULL; c = c->lnext) {
        char l[24], r[24], id[16];
        addr(l, sizeof(l), c->lip, c->lport);
        addr(r, sizeof(r), c->rip, c->rport);
        bool has_flow = c->fstate == SP_FLOW_INSTALLED;
        const struct fp_flow *fl = has_flow ? &fp.flows[c->flow] : NULL;
        uint64_t rx = fl != NULL ? rx_bytes(c, fl) : 0;
        uint32_t srtt =
            fl != NULL && sp_rd32(&fl->srtt_us) ? sp_rd32(&fl->srtt_us) : c->srtt_us;
        uint32_t cwnd = has_flow ? c->cc.cwnd : 0;
        const char *st = sp_tcp_state_name(c->state);
        if (c->flow != SP_NO_FLOW)
            snprintf(id, sizeof(id), "%u", c->flow);
        else
            snprintf(id, sizeof(id), "-");
        if (json) {
            fprintf(f,
                    "%s{\"id\":%s,\"gen\":%u,\"state\":\"%s\",\"local\":\"%s\","
                    "\"remote\":\"%s\",\"app\":%u,\"core\":%u,\"rx_bytes\":%lu,"
                    "\"tx_acked\":%lu,\"srtt_us\":%u,\"rto_ms\":%u,\"cwnd\":%u,"
                    "\"mss\":%u,\"ts\":%s,\"wscale\":[%u,%u],\"retries\":%u}",
                    first ? "" : ",", c->flow != SP_NO_FLOW ? id : "null", c->gen, st, l,
                    r, c->app != NULL ? c->app->id : 0, c->core, (unsigned long)rx,
                    (unsigned long)c->tx_acked_total, srtt, c->rto_ms, cwnd, c->mss,
                    c->ts ? "true" : "false", c->local_ws, c->remote_ws, c->rto_retries);
        } else {
            char app[12];
            snprintf(app, sizeof(app), "%u", c->app != NULL ? c->app->id : 0);
            fprintf(f, "%-8s %-12s %-22s %-22s %-12lu %-12lu %-9u %-9u %s\n", id, st, l,
                    r, (unsigned long)rx, (unsigned long)c->tx_acked_total, srtt, cwnd,
                    c->app != NULL ? app : "-");
        }
        first = false;
    }
    /* TIME_WAIT pairs (time_wait.c), as ss(8) lists them too. */
    for (uint32_t b = 0; sp.tw_hash != NULL && b <= sp.tw_mask; b++) {
        for (const struct sp_tw *t = sp.tw_hash[b]; t != NULL; t = t->hnext) {
            char l[24], r[24];
            addr(l, sizeof(l), t->lip, t->lport);
            addr(r, sizeof(r), t->rip, t->rport);
            if (json)
                fprintf(f,
                        "%s{\"id\":null,\"state\":\"TIME_WAIT\",\"local\":\"%s\","
                        "\"remote\":\"%s\",\"core\":%u,\"ts\":%s,\"expires_ms\":%lu}",
                        first ? "" : ",", l, r, t->core, t->ts ? "true" : "false",
                        (unsigned long)(t->tm.expires > sp.now_ms ? t->tm.expires - sp.now_ms
                                                                  : 0));
            else
                fprintf(f, "%-8s %-12s %-22s %-22s %-12s %-12s %-9s %-9s %s\n", "-",
                        "TIME_WAIT", l, r, "-", "-", "-", "-", "-");
            first = false;
        }
    }
    if (json)
        fprintf(f, "],\"listeners\":[");
    first = true;
    sp_listen_write(f, json, &first);
    if (json)
        fprintf(f, "]}");
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
    C(apps_total),
    C(app_bad_msgs),
    C(app_bad_entries),
    C(app_entries),
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

void sp_write_stats(FILE *f, bool json)
{
    const uint8_t *base = (const uint8_t *)&sp.cnt;
    const size_t n = sizeof(counters) / sizeof(counters[0]);

    if (json) {
        fprintf(f,
                "{\"conns\":%u,\"syn_rcvd\":%u,\"time_wait\":%u,\"listeners\":%u,"
                "\"n_apps\":%u,\"flows_free\":%u,\"counters\":{",
                sp.n_conns + sp.n_tw, sp.n_syn_rcvd, sp.n_tw, sp.n_listeners, sp.n_apps,
                sp.flow_ids.nfree);
        for (size_t i = 0; i < n; i++)
            fprintf(f, "%s\"%s\":%lu", i ? "," : "", counters[i].name,
                    (unsigned long)*(const uint64_t *)(base + counters[i].off));
        fprintf(f,
                "},\"arp\":{\"evictions\":%lu,\"mac_changes\":%lu,\"bad\":%lu,"
                "\"conflicts\":%lu,\"pending_drops\":%lu,\"entries\":[",
                (unsigned long)sp.arp.cnt.evictions,
                (unsigned long)sp.arp.cnt.mac_changes, (unsigned long)sp.arp.cnt.bad,
                (unsigned long)sp.arp.cnt.conflicts,
                (unsigned long)sp.arp.cnt.pending_drops);
        sp_neigh_write(f, true);
        fprintf(f, "]},\"apps\":[");
        sp_app_write(f, true);
        fprintf(f, "]}");
        return;
    }
    fprintf(f,
            "slow path: %u connections (%u half-open, %u TIME_WAIT), %u listeners, "
            "%u applications, %u flow ids free\n",
            sp.n_conns + sp.n_tw, sp.n_syn_rcvd, sp.n_tw, sp.n_listeners, sp.n_apps,
            sp.flow_ids.nfree);
    for (size_t i = 0; i < n; i++) {
        uint64_t v = *(const uint64_t *)(base + counters[i].off);
        if (v != 0)
            fprintf(f, "  %-20s %lu\n", counters[i].name, (unsigned long)v);
    }
    fprintf(f, "neighbours:\n");
    sp_neigh_write(f, false);
    fprintf(f, "applications:\n");
    sp_app_write(f, false);
}
