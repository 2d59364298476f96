/* internal.h - what the fast-path files share and nobody else sees: the
 * per-core private state behind fp_core.priv, the per-core side array of
 * flow state that only the fast path needs (pending notifications, queue
 * manager links, list membership), tuning constants and the functions the
 * files call in one another.
 *
 * One loop iteration (loop.c): fp_input_burst() -> fp_cmds()
 * -> sp tx ring -> fp_appq_service() -> fp_cork_expire() -> fp_qm_run()
 * (data segments) ->
 * fp_acks_flush() (pure ACKs still owed) -> fp_notify_flush() (application
 * and slow-path notifications) -> fp_act_flush() (activity reports) ->
 * fp_tx_flush() (rte_eth_tx_burst).
 */
#ifndef FP_INTERNAL_H
#define FP_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <rte_branch_prediction.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "fastpath/fastpath.h"
#include "fastpath/flow.h"
#include "fastpath/flowtab.h"

#define FP_RX_BURST      32   /* frames per rte_eth_rx_burst */
#define FP_TX_BUF        64   /* frames collected before rte_eth_tx_burst */
#define FP_TX_RETRIES    8    /* tx_burst calls that may take nothing before we drop */
#define FP_CMD_BURST     32   /* commands per iteration */
#define FP_SPTX_BURST    32   /* slow-path frames per iteration */
#define FP_APPQ_BATCH    32   /* entries per context per iteration */
#define FP_APPQ_HOLD_ROUNDS 8 /* rounds an update may wait for its FLOW_ADD */
#define FP_QM_BUDGET     256  /* data segments per iteration (all flows) */
#define FP_QM_FLOW_BURST 16   /* segments per unlimited flow before it yields */
#define FP_QM_RATE_BURST 8    /* segments per rate-limited flow per release */
#define FP_QM_SLOT_US    16   /* timing wheel: slot width */
#define FP_QM_SLOTS      4096 /* timing wheel: slots (horizon 65 ms) */
#define FP_QM_CREDIT_US  64   /* how far a rate-limited flow may lag its schedule */
#define FP_IDLE_SPINS    100  /* empty iterations before adaptive sleep */
#define FP_IDLE_SPIN_US  50   /* ... and at least this long since the last work */
#define FP_RX_WAKE_MAX_US 100000 /* idle sleep when frames wake the core */
#define FP_DELACK_US     500  /* longest an ACK for in-order data waits for a reply */
#define FP_CORK_US (TAS_CORK_MS * 1000) /* longest corked bytes wait (cork.c) */
#define FP_CORK_FIFO     16384 /* cork deadlines pending; past it, bytes go at once */
#define FP_CMD_RING      1024
#define FP_TX_RING       1024
#define FP_EXC_RING      4096
#define FP_EV_RING       4096
#define FP_ACT_RING      16384 /* activity reports; a full ring keeps them listed */
/* Exceptions a core hands the slow path, per second and at most at once
 * (token buckets, syn.c), by class: TCP for no flow (SYN, handshake ACK,
 * RST) and everything else (ARP, ICMP, other IPv4).  Past them the core
 * drops, so that a flood cannot take the slow path's core from established
 * traffic; a SYN flood to a listener is answered by the cores with SYN
 * cookies and needs no exception at all. */
#define FP_EXC_CLASSES   3
#define FP_EXC_TCP       0
#define FP_EXC_OTHER     1
#define FP_EXC_COOKIE    2 /* not an exception: SYN-ACKs the core sends itself */
#define FP_EXC_TCP_RATE  200000
#define FP_EXC_TCP_BURST 8192
#define FP_EXC_OTHER_RATE  20000
#define FP_EXC_OTHER_BURST 1024
#define FP_EXC_COOKIE_BURST 1024 /* rate: fp.cookie_rate */

/* fp_side.pend: notifications not yet delivered */
#define FP_PEND_APP_FIN      0x01 /* TAS_FPOUT_FIN to the application */
#define FP_PEND_EV_FIN_RCVD  0x02 /* FP_EV_FIN_RCVD to the slow path */
#define FP_PEND_EV_FIN_ACKED 0x04 /* FP_EV_FIN_ACKED to the slow path */
#define FP_PEND_APP_SYNC     0x08 /* TAS_FPOUT_SYNC to the (new) owner context */
#define FP_PEND_APP_IDLE     0x10 /* TAS_FPOUT_IDLE: the answer to a TAS_FPIN_IDLE */
/* fp_side.in: lists the flow is on (each at most once) */
#define FP_IN_READY  0x01 /* queue manager ready FIFO */
#define FP_IN_WHEEL  0x02 /* queue manager timing wheel */
#define FP_IN_ACK    0x04 /* ACK list of this iteration */
#define FP_IN_NOTIFY 0x08 /* notification list */
#define FP_IN_ACT    0x10 /* activity list (activity.c) */
#define FP_IN_CORK   0x20 /* cork FIFO (cork.c) */

/* Per flow and per core.  Kept outside fp_flow because the slow path
 * rewrites a whole fp_flow when it reuses an id while the id may still sit
 * on one of our lists; list membership therefore lives here. */
struct fp_side {
    uint32_t qm_link;    /* next flow in the same wheel slot */
    uint32_t pend_rx;    /* in-order rx bytes not yet reported to the app */
    uint32_t pend_freed; /* acknowledged tx bytes not yet reported */
    uint8_t pend;        /* FP_PEND_* */
    uint8_t in;          /* FP_IN_* */
    uint16_t dack_seq;   /* delayed-ACK episode: names its live FIFO entry */
    uint32_t cork_held;  /* FP_FLOW_CORK: the last bytes written that wait for
                          * a full segment, a push or the cork's deadline */
    uint16_t cork_seq;   /* cork deadline episode: names its live FIFO entry */
};

struct fp_priv {
    struct fp_side *side; /* max_flows entries */

    /* queue manager (qman.c) */
    uint32_t *ready; /* FIFO of flow ids, ready_mask + 1 >= max_flows */
    uint32_t ready_mask, ready_head, ready_tail;
    uint32_t *wheel;     /* FP_QM_SLOTS list heads (FP_NONE = empty) */
    uint64_t wheel_next; /* absolute index of the next slot to release */
    uint32_t wheel_n;    /* flows in the wheel */

    /* per-iteration lists */
    uint32_t *acks; /* flows owing an ACK (max_flows) */
    uint32_t n_acks;
    uint32_t *notify; /* flows with pending notifications (max_flows) */
    uint32_t n_notify;
    uint32_t *act; /* flows with activity the slow path must hear of (max_flows) */
    uint32_t n_act;
    /* delayed ACKs (tx.c): FIFO of flow ids, deadlines in insertion order */
    uint32_t *dack;     /* max_flows entries */
    uint64_t *dack_due; /* fp_now_us() deadline per entry */
    uint16_t *dack_seq; /* fp_side.dack_seq when the entry was made */
    uint32_t dack_head, dack_n, dack_size;
    /* corked flows (cork.c): FIFO of flow ids, deadlines in insertion
     * order, and fp_side.cork_seq when each entry was made */
    uint32_t cork_fid[FP_CORK_FIFO];
    uint64_t cork_due[FP_CORK_FIFO];
    uint16_t cork_seq[FP_CORK_FIFO];
    uint32_t cork_head, cork_n;

    /* contexts (appq.c) */
    uint16_t *ctx_list; /* active context slots */
    uint32_t n_ctx;
    uint32_t *ctx_pos;   /* per slot: index in ctx_list + 1, 0 = not listed */
    uint32_t *ctx_stamp; /* per slot: last kick round that touched it */
    uint32_t stamp;
    uint16_t *kick_list; /* contexts pushed to in this round */
    uint32_t n_kick;

    /* transmit (tx.c) */
    struct rte_mbuf *txb[FP_TX_BUF];
    uint32_t n_txb;
    uint32_t max_payload; /* what fits an mbuf of port->pool after the headers */
    uint16_t ip_id;

    /* exception rate limits (syn.c): tokens and the time they were counted */
    uint32_t exc_tok[FP_EXC_CLASSES];
    uint64_t exc_us[FP_EXC_CLASSES];

    bool sp_kick;               /* something went to the exc/ev ring */
    _Atomic uint32_t *sleeping; /* gpage->fp_sleeping[id][0] (or sleep_local) */
    _Atomic uint32_t sleep_local;
};

/* A flow's key in the flow table (flowtab.h). */
static inline void fp_flow_key(const struct fp_flow *f, struct fp_flow_key *k)
{
    k->lip = f->local_ip;
    k->rip = f->remote_ip;
    k->lport = f->local_port;
    k->rport = f->remote_port;
}

static inline struct fp_priv *fp_priv(const struct fp_core *c)
{
    return (struct fp_priv *)c->priv;
}

static inline uint32_t fp_flow_id(const struct fp_flow *f)
{
    return (uint32_t)(f - fp.flows);
}

/* Is flow id installed on core c? */
static inline bool fp_flow_mine(const struct fp_core *c, uint32_t fid)
{
    const struct fp_flow *f = &fp.flows[fid];
    return (f->flags & FP_FLOW_INSTALLED) && f->core == c->id;
}

/* Bytes of flow fid that wait because its application corked.  None once
 * a FIN is queued (close and shutdown push, as on Linux), and none while
 * less than a quarter of the tx ring is free: the writer waits for room
 * then (libtas reports a socket writable from a quarter free), and Linux
 * too pushes what is corked before a writer waits for memory. */
static inline uint32_t fp_flow_held(const struct fp_core *c, uint32_t fid)
{
    const struct fp_flow *f = &fp.flows[fid];
    if (likely(!(f->flags & FP_FLOW_CORK)) || (f->flags & FP_FLOW_FIN_QUEUED) ||
        f->tx_size - f->tx_sent - f->tx_avail < f->tx_size / 4)
        return 0;
    return fp_priv(c)->side[fid].cork_held;
}

/* The flow holds nothing corked any more and its cork deadline, if any, is
 * stale (cork.c: a push; cmd.c: the id starts a new flow). */
static inline void fp_cork_forget(struct fp_side *sd)
{
    sd->cork_held = 0;
    sd->cork_seq++;
    sd->in &= (uint8_t)~FP_IN_CORK;
}

/* Can flow fid transmit something now? */
static inline bool fp_flow_sendable(const struct fp_core *c, uint32_t fid)
{
    return fp_flow_can_send(&fp.flows[fid], fp_flow_held(c, fid));
}

/* An ACK is owed: FP_FLOW_ACK_NOW, sent by fp_acks_flush() unless a data
 * segment carries it first. */
static inline void fp_ack_add(struct fp_core *c, uint32_t fid)
{
    struct fp_priv *p = fp_priv(c);
    fp.flows[fid].flags |= FP_FLOW_ACK_NOW;
    if (!(p->side[fid].in & FP_IN_ACK)) {
        p->side[fid].in |= FP_IN_ACK;
        p->acks[p->n_acks++] = fid;
    }
}

/* The flow has pending notifications in its fp_side. */
static inline void fp_notify_add(struct fp_core *c, uint32_t fid)
{
    struct fp_priv *p = fp_priv(c);
    if (!(p->side[fid].in & FP_IN_NOTIFY)) {
        p->side[fid].in |= FP_IN_NOTIFY;
        p->notify[p->n_notify++] = fid;
    }
}

/* Something the slow path acts on changed for the flow (activity.c). */
static inline void fp_act_add(struct fp_core *c, uint32_t fid)
{
    struct fp_priv *p = fp_priv(c);
    if (!(p->side[fid].in & FP_IN_ACT)) {
        p->side[fid].in |= FP_IN_ACT;
        p->act[p->n_act++] = fid;
    }
}

/* activity.c */
void fp_act_flush(struct fp_core *c);

/* input.c */
void fp_input(struct fp_core *c, struct rte_mbuf *m, uint64_t now, bool reinjected);
/* A received burst: classified frame by frame, the TCP segments' 4-tuples
 * looked up at once (rte_hash_lookup_bulk_data) and their flows' state
 * prefetched, then each segment processed in arrival order. */
void fp_input_burst(struct fp_core *c, struct rte_mbuf **pkts, unsigned n, uint64_t now);

/* A frame for the slow path, as received, on the exception ring (input.c
 * and syn.c; full ring: dropped and counted).  The loop kicks the slow
 * path once per iteration. */
static inline void fp_exception(struct fp_core *c, struct rte_mbuf *m)
{
    if (unlikely(rte_ring_enqueue(c->exc_ring, m) != 0)) {
        c->stats.drops_ring++;
        rte_pktmbuf_free(m);
        return;
    }
    c->stats.exceptions++;
    fp_priv(c)->sp_kick = true;
}
/* syn.c: a TCP segment for no flow of this core: answered here (a SYN to a
 * cookie port), dropped (a RST to one; over the rate), or an exception. */
struct fp_frame;
void fp_syn_noflow(struct fp_core *c, struct rte_mbuf *m, const struct fp_frame *fr,
                   uint64_t now);
/* syn.c: may one more exception of class cls go to the slow path now? */
bool fp_exc_admit(struct fp_core *c, unsigned cls, uint64_t now);

/* tx.c */
unsigned fp_tx_flow(struct fp_core *c, uint32_t fid, unsigned max_segs, uint64_t now,
                    uint32_t *bytes);
void fp_tx_ack(struct fp_core *c, struct fp_flow *f, uint64_t now);
/* Send [seq, seq + len) again now (SACK recovery); seq within SND.UNA..NXT. */
void fp_tx_retx(struct fp_core *c, struct fp_flow *f, uint32_t seq, uint32_t len,
                uint64_t now);
void fp_acks_flush(struct fp_core *c, uint64_t now);
void fp_ack_delay(struct fp_core *c, uint32_t fid, uint64_t now);
uint32_t fp_acks_due_us(const struct fp_core *c, uint64_t now);
void fp_tx_enqueue(struct fp_core *c, struct rte_mbuf *m);
void fp_tx_flush(struct fp_core *c);
uint32_t fp_tx_max_payload(const struct fp_core *c);

/* cork.c */
void fp_cork_update(struct fp_core *c, uint32_t fid, bool more, uint32_t written);
void fp_cork_expire(struct fp_core *c, uint64_t now);
uint32_t fp_cork_due_us(const struct fp_core *c, uint64_t now);

/* idle.c */
void fp_idle_release(struct fp_core *c, uint32_t fid);

/* qman.c */
void fp_qm_schedule(struct fp_core *c, uint32_t fid);
unsigned fp_qm_run(struct fp_core *c, uint64_t now);
static inline bool fp_qm_ready(const struct fp_core *c)
{
    return fp_priv(c)->ready_tail != fp_priv(c)->ready_head;
}

/* appq.c */
unsigned fp_appq_service(struct fp_core *c);
void fp_appq_drain_app(struct fp_core *c, uint32_t app_id);
bool fp_appq_pending(const struct fp_core *c);
void fp_notify_flush(struct fp_core *c);
int fp_ev_push(struct fp_core *c, uint32_t type, uint32_t flow, uint32_t gen,
               uint32_t arg);

/* cmd.c */
unsigned fp_cmds(struct fp_core *c, uint64_t now);
bool fp_ctx_listed(const struct fp_core *c, uint32_t slot);

#endif /* FP_INTERNAL_H */
