/* time_wait.c - TIME_WAIT pairs.
 *
 * When both FINs of a connection are done on our side first, its 4-tuple
 * stays in TIME_WAIT for time_wait_ms (2*MSL, RFC 9293 3.6): a compact
 * record (struct sp_tw, about 80 bytes, no flow, no buffers) in a hash
 * table of its own, with one timer in a wheel of its own.  It answers the
 * peer's retransmitted FIN with an ACK (and restarts 2*MSL), re-ACKs
 * anything else, ignores RST (RFC 1337), and lets a new connection take
 * the pair:
 *   passive   a SYN above the old sequence space, or with a newer
 *             timestamp (Linux's tcp_timewait_state_process), ends the
 *             pair; the new connection's ISS is past the old SND.NXT
 *   active    connect() may take the pair when timestamps were in use and
 *             it is at least a second old (tcp.tw_reuse, as Linux's
 *             net.ipv4.tcp_tw_reuse = 1): PAWS on the peer rejects old
 *             duplicates, our clock has moved on.
 * Beyond SP_MAX_TIME_WAIT pairs a closing connection leaves none (as
 * Linux's tcp_max_tw_buckets), counted in tw_overflow.
 */
#include <stdlib.h>
#include <string.h>

#include <rte_mbuf.h>

#include "tas/seq.h"
#include "common/tcp_opts.h"
#include "slowpath/sp.h"

#define SP_MAX_TIME_WAIT  262144 /* like Linux's tcp_max_tw_buckets */
#define SP_TW_BUCKETS     65536
#define SP_TW_ISS_GAP     (65535u + 2) /* Linux: a reopened pair's ISS */

static struct sp_tw **bucket(uint32_t lip, uint32_t rip, uint16_t lport, uint16_t rport)
{
    return &sp.tw_hash[sp_tuple_hash(lip, rip, lport, rport) & sp.tw_mask];
}

int sp_tw_init(void)
{
    sp.tw_hash = calloc(SP_TW_BUCKETS, sizeof(*sp.tw_hash));
    if (sp.tw_hash == NULL)
        return -ENOMEM;
    sp.tw_mask = SP_TW_BUCKETS - 1;
    sp_wheel_init(&sp.tw_wheel, sp.now_ms);
    return 0;
}

struct sp_tw *sp_tw_lookup(uint32_t lip, uint32_t rip, uint16_t lport, uint16_t rport)
{
    if (sp.tw_hash == NULL || sp.n_tw == 0)
        return NULL;
    for (struct sp_tw *t = *bucket(lip, rip, lport, rport); t != NULL; t = t->hnext)
        if (t->lip == lip && t->rip == rip && t->lport == lport && t->rport == rport)
            return t;
    return NULL;
}

void sp_tw_free(struct sp_tw *t)
{
    for (struct sp_tw **pp = bucket(t->lip, t->rip, t->lport, t->rport); *pp != NULL;
         pp = &(*pp)->hnext) {
        if (*pp == t) {
            *pp = t->hnext;
            break;
        }
    }
    sp_wheel_cancel(&sp.tw_wheel, &t->tm);
    sp.n_tw--;
    free(t);
}

static void expire(struct sp_timer *tm, void *arg)
{
    (void)arg;
    sp_tw_free((struct sp_tw *)((char *)tm - offsetof(struct sp_tw, tm)));
}

void sp_tw_tick(void)
{
    sp_wheel_advance(&sp.tw_wheel, sp.now_ms, expire, NULL);
}

void sp_tw_enter(const struct sp_conn *c)
{
    if (sp.cfg.time_wait_ms == 0)
        return;
    if (sp.n_tw >= SP_MAX_TIME_WAIT) {
        sp.cnt.tw_overflow++;
        return;
    }
    struct sp_tw *old = sp_tw_lookup(c->lip, c->rip, c->lport, c->rport);
    if (old != NULL)
        sp_tw_free(old);
    struct sp_tw *t = calloc(1, sizeof(*t));
    if (t == NULL) {
        sp.cnt.tw_overflow++;
        return;
    }
    const struct fp_flow *f = &fp.flows[c->flow];
    t->lip = c->lip;
    t->rip = c->rip;
    t->lport = c->lport;
    t->rport = c->rport;
    /* Both FINs are done: SND.UNA covers ours, RCV.NXT theirs. */
    t->snd_nxt = sp_rd32(&f->tx_una_seq);
    t->rcv_nxt = sp_rd32(&f->rx_next_seq);
    t->ts = c->ts;
    t->ts_recent = c->ts ? sp_rd32(&f->ts_recent) : 0;
    t->since_s = (uint32_t)(sp.now_ms / 1000);
    memcpy(t->peer_mac, c->peer_mac, 6);
    t->core = c->core;
    t->win = sp_syn_window(c);
    sp_timer_init(&t->tm);
    struct sp_tw **b = bucket(t->lip, t->rip, t->lport, t->rport);
    t->hnext = *b;
    *b = t;
    sp.n_tw++;
    sp.cnt.tw_created++;
    sp_wheel_arm(&sp.tw_wheel, &t->tm, sp.now_ms + sp.cfg.time_wait_ms);
}

/* A SYN that may open a new incarnation of the pair (RFC 9293 3.6.1, and
 * RFC 6191 with timestamps). */
static bool syn_reopens(const struct sp_tw *t, const struct sp_pkt *p)
{
    if (tas_seq_gt(p->seq, t->rcv_nxt))
        return true;
    struct cm_tcp_opts o;
    return t->ts && cm_tcp_opts_parse(p->opts, p->opt_len, &o) == 0 && o.has_ts &&
           (int32_t)(o.ts_val - t->ts_recent) > 0;
}

bool sp_tw_input(struct sp_tw *t, const struct sp_pkt *p, struct rte_mbuf *m, uint32_t *iss)
{
    if (p->flags & TAS_TCP_RST) {
        sp.cnt.rst_ignored++; /* RFC 1337: no TIME_WAIT assassination */
        rte_pktmbuf_free(m);
        return false;
    }
    if ((p->flags & (TAS_TCP_SYN | TAS_TCP_ACK)) == TAS_TCP_SYN && syn_reopens(t, p)) {
        *iss = t->snd_nxt + SP_TW_ISS_GAP;
        sp.cnt.tw_reused++;
        sp_tw_free(t);
        return true;
    }
    if (p->flags & TAS_TCP_FIN) {
        /* Retransmitted FIN: our last ACK was lost.  Restart 2*MSL. */
        sp_wheel_arm(&sp.tw_wheel, &t->tm, sp.now_ms + sp.cfg.time_wait_ms);
        sp.cnt.tw_reacks++;
        sp_send_tw_ack(t);
    } else if (p->seq != t->rcv_nxt || p->payload_len > 0) {
        sp_send_tw_ack(t);
    }
    rte_pktmbuf_free(m);
    return false;
}

bool sp_tw_reuse(struct sp_tw *t, uint32_t *iss)
{
    if (!sp.cfg.tw_reuse || !t->ts || sp.now_ms / 1000 <= t->since_s)
        return false;
    *iss = t->snd_nxt + SP_TW_ISS_GAP;
    sp.cnt.tw_reuse_connect++;
    sp_tw_free(t);
    return true;
}

void sp_tw_fini(void)
{
    for (uint32_t i = 0; sp.tw_hash != NULL && i <= sp.tw_mask; i++)
        while (sp.tw_hash[i] != NULL)
            sp_tw_free(sp.tw_hash[i]);
    free(sp.tw_hash);
    sp.tw_hash = NULL;
}
