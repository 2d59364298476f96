/* fastpath.h - the fast path's interface to the rest of tasd.
 *
 * Each fast-path core (struct fp_core) runs fp_core_run() on its own lcore:
 * receive burst, TCP processing of established flows, application queue
 * service, transmit through the queue manager, adaptive back-off.  The slow
 * path talks to a core only through rings:
 *
 *   sp -> fp   cmd ring     struct fp_cmd: install/remove flows and contexts,
 *                           send FIN, retransmit, re-inject a packet
 *   sp -> fp   tx ring      mbufs the slow path built (SYN-ACK, RST, ARP)
 *   fp -> sp   exc ring     mbufs the fast path does not handle
 *   fp -> sp   ev ring      struct fp_event: FIN received, FIN acknowledged
 *   fp -> sp   act ring     struct fp_act: a flow whose state the slow path
 *                           acts on changed (acked bytes, loss, ECN, a new
 *                           flight, data after close); at most one report
 *                           per flow until the slow path takes it
 *
 * Flow state lives in one array shared by all cores (flow id = index).  The
 * slow path fills a free entry completely, then sends FP_CMD_FLOW_ADD to the
 * owning core; after that only that core writes the entry (the slow path
 * reads counters).  After FP_CMD_FLOW_DEL the slow path may reuse the entry
 * once the core's cmd_done has passed the command's sequence number.
 */
#ifndef FASTPATH_H
#define FASTPATH_H

#include <assert.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "tas/ctxq.h"
#include "tas/queue.h"
#include "tas/shm.h"

struct rte_ring;
struct rte_hash;
struct rte_mbuf;
struct cm_port;

/* fp_flow.flags */
#define FP_FLOW_TS 0x01        /* timestamps negotiated: send TS option */
#define FP_FLOW_FIN_QUEUED 0x02/* app closed: FIN goes after the last tx byte */
#define FP_FLOW_FIN_SENT 0x04  /* our FIN is in flight (occupies one seq) */
#define FP_FLOW_FIN_ACKED 0x08 /* our FIN was acknowledged */
#define FP_FLOW_FIN_RCVD 0x10  /* peer's FIN received in order */
#define FP_FLOW_ECN 0x20       /* ECN negotiated */
#define FP_FLOW_ACK_NOW 0x40   /* an ACK is owed */
#define FP_FLOW_SACK 0x80      /* SACK negotiated (RFC 2018): send and use blocks */
/* Bits 0x0100..0x4000 are private to the fast path (fastpath/internal.h);
 * the slow path sets only FP_FLOW_TS / FP_FLOW_ECN when it fills a flow. */
#define FP_FLOW_INSTALLED 0x8000 /* fp: in this core's flow table (FLOW_ADD done) */

/* Per-flow state: at most two cache lines.  "sp" fields are set by the slow
 * path before FP_CMD_FLOW_ADD; the rest belong to the owning core. */
struct fp_flow {
    /* -- first cache line: what every data segment and ACK touches -- */
    uint8_t *rx_base;       /* sp: rx ring (tasd's mapping of the app region) */
    uint8_t *tx_base;       /* sp: tx ring; moves down as the ring grows */
    uint32_t rx_size;       /* sp: rx ring bytes */
    uint32_t rx_avail;      /* sp: initially rx_size; free rx bytes = window */
    uint32_t rx_pos;        /* sp: 0; ring position of rx_next_seq */
    uint32_t rx_next_seq;   /* sp: RCV.NXT after the handshake */
    uint32_t tx_size;       /* sp: tx ring bytes */
    uint32_t tx_pos;        /* sp: 0; ring position of SND.UNA */
    uint32_t tx_sent;       /* sp: 0; bytes sent and not yet acknowledged */
    uint32_t tx_avail;      /* sp: 0; bytes written by the app, not yet sent */
    uint32_t tx_una_seq;    /* sp: SND.UNA (= ISS + 1 after the handshake) */
    uint32_t tx_remote_win; /* sp: peer's window in bytes (already scaled) */
    uint32_t tx_sacked;     /* sp: 0; bytes above SND.UNA the peer SACKed (not in flight) */
    uint16_t flags;         /* sp: FP_FLOW_TS / FP_FLOW_ECN; then FP_FLOW_* */
    uint8_t dupacks;        /* sp: 0; consecutive duplicate ACKs */
    uint8_t remote_wscale;  /* sp: peer's window scale shift */
    /* -- second cache line: addressing, timers, counters -- */
    uint32_t local_ip;      /* sp: network order */
    uint32_t remote_ip;     /* sp: network order */
    uint16_t local_port;    /* sp: network order */
    uint16_t remote_port;   /* sp: network order */
    uint8_t remote_mac[6];  /* sp: next hop's MAC */
    uint16_t mss;           /* sp: max payload per segment */
    uint8_t local_wscale;   /* sp: our window scale shift */
    uint8_t core;           /* sp: owning fast-path core */
    uint16_t ctx;           /* sp: fp context slot that receives this flow's events */
    uint32_t gen;           /* sp: generation, echoed in application entries */
    uint32_t app_id;        /* sp: owning application (checked on app entries) */
    uint32_t ts_recent;     /* sp: peer's last TSval (echoed in TSecr) */
    uint32_t cwnd;          /* sp: bytes allowed in flight, 0 = unlimited */
    uint32_t rate_kbps;     /* sp: pacing rate, 0 = unlimited */
    uint32_t srtt_us;       /* fp: smoothed RTT from timestamps (0 = none) */
    uint32_t cnt_acked;     /* fp: bytes acknowledged (wraps; sp diffs it) */
    uint16_t cnt_fretx;     /* fp: fast retransmits (wraps) */
    uint16_t cnt_ecn;       /* fp: ECN-echo marks seen (wraps) */
    uint32_t qm_next_us;    /* fp: queue manager: earliest next transmit (fp clock, us) */
    uint32_t rx_last_ms;    /* fp: clock (ms, wraps) of the last segment received
                             * (keepalive) */
};
static_assert(sizeof(struct fp_flow) <= 128, "flow state fits two cache lines");

/* Per-flow state off the common path, in its own array (fp.flowx) so that
 * struct fp_flow stays two cache lines: received data held out of order
 * (sent back as SACK blocks), and on the sending side what the peer SACKed
 * and the loss recovery in progress (RFC 6675).  The slow path zeroes it
 * before FLOW_ADD; the owning core writes it afterwards. */
#define FP_OOO_MAX  4 /* out-of-order intervals a receiver holds */
#define FP_SACK_MAX 4 /* SACKed ranges a sender remembers */
struct fp_flow_x {
    /* receiving: disjoint, non-adjacent, sorted by sequence, above RCV.NXT */
    uint32_t ooo_start[FP_OOO_MAX];
    uint32_t ooo_end[FP_OOO_MAX];
    uint32_t ooo_last; /* start of the interval that grew last: first block */
    uint8_t n_ooo;
    /* sending: SACKed ranges within (SND.UNA, SND.NXT], sorted */
    uint8_t n_sack;
    uint8_t in_recovery;
    /* 1 while an activity report for the flow waits on the core's act ring:
     * set by the core before it posts one, cleared by the slow path when it
     * takes it (both sides fence between this flag and the flow state). */
    uint8_t sp_act;
    uint32_t sack_start[FP_SACK_MAX];
    uint32_t sack_end[FP_SACK_MAX];
    uint32_t recover; /* SND.NXT when recovery began (RFC 6675 RecoveryPoint) */
    uint32_t rtx_nxt; /* holes below this were retransmitted in this recovery */
    uint32_t rtx_hi;  /* SND.NXT at the last retransmission: data above it
                       * SACKed while a retransmitted hole is not means the
                       * retransmission was lost too (0 = none pending) */
    uint8_t ecn_each; /* sp (FLOW_ADD, FLOW_ECN): ECE echoes exactly the CE of
                       * the segments an ACK covers (RFC 8257 3.2) */
    uint32_t cnt_ecn_bytes; /* fp: bytes acknowledged by ACKs with ECE (wraps) */
    uint32_t rx_late; /* in-order bytes received after FIN_QUEUED (wraps): the
                       * slow path resets a connection nobody can read any more */
    /* sp: the largest the rings may grow to in place (tas/ctxq.h); equal to
     * rx_size / tx_size when SO_RCVBUF / SO_SNDBUF pinned them */
    uint32_t rx_max, tx_max;
};

/* A flow's ring state as the application must see it (TAS_FPOUT_SYNC,
 * TAS_SPOUT_ATTACHED): only by the owning core, or once it let go. */
static inline void fp_flow_sync(const struct fp_flow *f, struct tas_flow_sync *st)
{
    uint32_t unread = f->rx_size - f->rx_avail;
    uint32_t queued = f->tx_sent + f->tx_avail;
    st->rx_unread = unread;
    st->rx_head = f->rx_size ? (f->rx_pos + f->rx_size - unread) % f->rx_size : 0;
    st->tx_tail = f->tx_size ? (f->tx_pos + queued) % f->tx_size : 0;
    st->tx_free = f->tx_size - queued;
    st->flags = (f->flags & FP_FLOW_FIN_RCVD) ? TAS_FPOUT_FIN : 0;
    st->rx_size = f->rx_size;
    st->tx_size = f->tx_size;
}

/* Commands, slow path -> a fast-path core. */
enum fp_cmd_type {
    FP_CMD_FLOW_ADD = 1,    /* flow: entry is filled; insert it in the flow table */
    FP_CMD_FLOW_DEL = 2,    /* flow: remove from the flow table, forget it */
    FP_CMD_FLOW_FIN = 3,    /* flow: send FIN after all queued data; arg FP_FIN_CLOSE:
                             * the application closed, so if received data is
                             * unread (after its queued updates) reset instead */
    FP_CMD_FLOW_RETX = 4,   /* flow: retransmit from SND.UNA (timeout) */
    FP_CMD_FLOW_RATE = 5,   /* flow: arg = new rate_kbps, arg2 = new cwnd */
    FP_CMD_CTX_ADD = 6,     /* ctx: entry in fp_ctxs is filled; start polling it */
    FP_CMD_CTX_DEL = 7,     /* ctx: stop polling it */
    FP_CMD_PKT = 8,         /* mbuf: process as if just received (re-injection) */
    FP_CMD_FLOW_MOVE = 9,   /* flow: events go to ctx slot arg, app arg2 from now on;
                             * the new context first gets TAS_FPOUT_SYNC */
    FP_CMD_FLOW_PROBE = 10, /* flow: send the last segment in flight again (a
                             * tail loss probe: its ACK shows what is missing) */
    FP_CMD_FLOW_RECTX = 11, /* flow: events go to ctx slot arg of the same
                             * application from now on (its context was given
                             * back: CTX_DEL follows); nothing to sync */
    FP_CMD_FLOW_ECN = 12,   /* flow: arg 1: echo each CE mark on the ACK of its
                             * segment (DCTCP), 0: until the peer's CWR */
};
#define FP_FIN_CLOSE 0x1
struct fp_cmd {
    uint32_t type;
    uint32_t id;         /* flow id or ctx slot */
    uint32_t arg;
    uint32_t arg2;
    struct rte_mbuf *mbuf;
    uint64_t seq;        /* set by fp_cmd_send(); cmd_done reaches it when done */
};

/* Events, fast path -> slow path. */
enum fp_event_type {
    FP_EV_FIN_RCVD = 1,  /* flow: the peer's FIN arrived in order (we ACKed it) */
    FP_EV_FIN_ACKED = 2, /* flow: our FIN was acknowledged */
    FP_EV_APP_BAD = 3,   /* flow (or ctx in arg): application entry failed validation */
    FP_EV_APP_BAD_FLOW = 4, /* flow: its own application's entry does not fit its
                             * rings (byte counts, data after FIN); ctx in arg */
    FP_EV_FLOW_REFUSED = 5, /* flow: FLOW_ADD could not install it (logged) */
    FP_EV_CLOSE_UNREAD = 6, /* flow: FLOW_FIN with FP_FIN_CLOSE found unread data:
                             * no FIN queued; the slow path resets it */
};
struct fp_event {
    uint32_t type;
    uint32_t flow;
    uint32_t gen;
    uint32_t arg;
};

/* An activity report, fast path -> slow path (act ring). */
struct fp_act {
    uint32_t flow;
    uint32_t gen;
};

/* A context as one fast-path core sees it.  Filled by the slow path before
 * FP_CMD_CTX_ADD; owned by the core afterwards. */
struct fp_ctx {
    struct tas_q in;          /* app -> this core (we consume) */
    struct tas_q out;         /* this core -> app (we produce) */
    struct tas_ctx_hdr *hdr;  /* the context's wake-up flag */
    int efd;                  /* the context's eventfd */
    uint32_t app_id;
    bool active;
    /* appq.c: an update for a flow whose FLOW_ADD this core has not run
     * yet, held (the context waits) for up to FP_APPQ_HOLD_ROUNDS rounds. */
    struct tas_fpin held;
    uint32_t held_rounds; /* 0 = nothing held */
};

/* Per-core counters (written by the core, read by anyone). */
struct fp_stats {
    uint64_t rx_pkts, rx_bytes, tx_pkts, tx_bytes;
    uint64_t exceptions;      /* handed to the slow path */
    uint64_t drops_nobuf;     /* rx window full or mbuf alloc failure */
    uint64_t drops_bad;       /* malformed, bad checksum */
    uint64_t drops_ring;      /* a ring to the slow path was full */
    uint64_t app_refused;     /* application entries that failed validation: the
                               * slow path tells harmless late ones (fp_app_late)
                               * from bad ones (fp_app_bad) */
    uint64_t retx_fast, retx_timeout;
    uint64_t ooo_segs;
    uint64_t idle_sleeps;
    uint64_t app_kicks; /* eventfd writes that woke an application's context */
    uint64_t sp_kicks;  /* eventfd writes to the slow path (exceptions, events) */
};

/* Ports the cores answer SYNs for (fp.cookie_ports). */
#define FP_COOKIE_PORTS 16
#define FP_COOKIE_ON (1ull << 63)
/* A cookie port: port in network order, the SYN-ACK's window and our MSS. */
static inline uint64_t fp_cookie_entry(uint16_t port_be, uint16_t win, uint16_t mss)
{
    return FP_COOKIE_ON | (uint64_t)mss << 32 | (uint64_t)win << 16 | port_be;
}

/* Room for the per-core counters of fastpath/classify.h's reasons. */
#define FP_RX_REASON_MAX 32

#define FP_MAX_CTX 4096      /* context slots, shared numbering across apps */

struct fp_core {
    unsigned id;                   /* 0 .. n-1; rx/tx queue id */
    struct cm_port *port;
    struct rte_hash *flow_table;   /* 4-tuple -> flow id, this core's flows */
    struct rte_ring *cmd_ring;     /* sp -> fp, struct fp_cmd elements */
    struct rte_ring *tx_ring;      /* sp -> fp, mbufs to transmit */
    struct rte_ring *exc_ring;     /* fp -> sp, mbufs */
    struct rte_ring *ev_ring;      /* fp -> sp, struct fp_event elements */
    struct rte_ring *act_ring;     /* fp -> sp, struct fp_act elements */
    int doorbell_fd;               /* eventfd: wakes this core from sleep */
    int sp_efd;                    /* eventfd: the core wakes the slow path */
    bool sp_inline;                /* the slow path runs on this core's thread
                                    * (run_shared, slowpath/loop.c): instead of writing
                                    * sp_efd the core sets sp_wanted, which
                                    * the slow path clears */
    bool sp_wanted;
    _Atomic uint64_t cmd_done;     /* highest command seq completed */
    uint64_t cmd_next;             /* sp: next command seq (sp only) */
    struct fp_stats stats;
    void *priv;                    /* fast-path private state (qman, ...) */
    /* -- added by the fast path: more counters (written by the core) -- */
    uint64_t tx_drops;             /* frames the port did not take (freed) */
    uint64_t rx_ignored;           /* frames not for us: other MAC/IP/ethertype */
    uint64_t acks_sent;            /* pure ACKs and window updates sent */
    uint64_t retx_bytes;           /* payload bytes sent again (any cause) */
    uint64_t retx_sack;            /* segments retransmitted for SACK holes */
    uint64_t tso_frames;           /* frames of several segments the port cut (TSO) */
    uint64_t tso_segs;             /* ... the segments they held */
    uint64_t ce_marks;             /* ECN flows: segments received with CE (DCTCP) */
    uint64_t syncookies_sent;      /* SYN-ACKs with a cookie the core sent itself (syn.c) */
    uint64_t rst_shed;             /* RSTs for no flow to a cookie port, dropped (syn.c) */
    uint64_t exc_shed;             /* exceptions over the core's rate, dropped (syn.c) */
    uint64_t syn_shed;             /* SYNs to a cookie port over fp.cookie_rate, dropped */
    uint64_t rings_released;       /* idle flows whose ring pages went back (idle.c) */
    uint64_t rings_kept;           /* ... asked, but not quiet when the core looked */
    uint64_t rings_release_fail;   /* madvise(MADV_REMOVE) failed */
    uint64_t cookie_hits[FP_COOKIE_PORTS]; /* SYNs answered, by fp.cookie_ports slot */
    /* frames dropped, ignored or noted, by reason (FP_RX_* in fastpath/classify.h;
     * the BAD ones sum to stats.drops_bad, the IGN ones to rx_ignored) */
    uint64_t rx_reason[FP_RX_REASON_MAX];
};

/* Shared by all cores. */
struct fp_global {
    struct fp_flow *flows;         /* max_flows entries */
    struct fp_flow_x *flowx;       /* max_flows entries: cold per-flow state */
    uint32_t max_flows;
    struct fp_ctx *ctxs[TAS_MAX_FP_CORES]; /* per core: FP_MAX_CTX slots */
    struct fp_core cores[TAS_MAX_FP_CORES];
    unsigned n_cores;
    struct tas_global *gpage;      /* global page (fp_sleeping flags) */
    bool busy_poll;
    uint32_t max_sleep_us;
    bool tx_cksum, rx_cksum;       /* port offloads */
    uint16_t tso_frame_max;        /* TSO: cm_port.tso_frame_max; 0 = off */
    uint16_t tso_segs_max;         /* ... cm_port.tso_segs_max */
    uint8_t local_mac[6];
    uint32_t local_ip;             /* network order */
    volatile bool stop;            /* set by main on shutdown */
    /* 1 while the slow path sleeps longer than its control interval: a core
     * that posts an activity report then wakes it (sp_efd).  Written by
     * the slow path, read by the cores. */
    _Atomic uint32_t sp_sleeping;
    /* Listening ports whose SYNs the cores answer with a SYN cookie
     * themselves (fastpath/syn.c): the slow path publishes a port when its
     * half-open table overflowed and withdraws it when it drained or the
     * listener went.  Entry 0 = free, else fp_cookie_entry(); written by the
     * slow path, read by the cores.  cookie_key is the slow path's secret,
     * set before the cores start. */
    _Atomic uint64_t cookie_ports[FP_COOKIE_PORTS];
    _Atomic uint32_t n_cookie_ports; /* entries in use (0: skip the lookup) */
    uint8_t cookie_key[16];
    uint32_t cookie_rate;          /* cookie SYN-ACKs per second per core, at most */
    /* -- added by the fast path: the clock (fastpath/clock.h), set by fp_init -- */
    uint64_t clk_tsc0;             /* TSC at fp_init */
    uint64_t clk_us0;              /* CLOCK_MONOTONIC at fp_init, microseconds */
    uint64_t clk_mult;             /* microseconds per TSC cycle, 32.32 fixed point */
};

extern struct fp_global fp;

/* Allocate flows, contexts, rings, hash tables for n cores.  0 or -errno. */
int fp_init(struct cm_port *port, unsigned n_cores, uint32_t max_flows,
            struct tas_global *gpage, bool busy_poll, uint32_t max_sleep_us,
            uint32_t local_ip);
/* lcore entry point; arg is the struct fp_core *. Returns when fp.stop. */
int fp_core_run(void *arg);
/* The same loop in steps, for a thread that also runs the slow path
 * (run_shared in slowpath/loop.c): fp_core_begin once on that thread, then per
 * iteration fp_core_poll (returns the work done) and fp_core_idle, whose
 * sleep also wakes when extra_fd (-1: none) is readable; it returns true
 * when it slept. */
struct fp_idle {
    unsigned idle;     /* empty iterations in a row */
    uint32_t sleep_us; /* next sleep, on ports whose frames cannot wake us */
    uint64_t last_work;
};
void fp_core_begin(struct fp_idle *st);
unsigned fp_core_poll(struct fp_core *c, uint64_t now);
bool fp_core_idle(struct fp_core *c, struct fp_idle *st, unsigned work, uint64_t now,
                  int extra_fd);
/* On the core's thread: send the frames on its tx ring now. */
void fp_core_tx_now(struct fp_core *c);
void fp_fini(void);

/* Slow path helpers (any thread but the cores, one caller at a time). */
/* Queue a command; returns its sequence number (> 0) or 0 if the ring is full. */
uint64_t fp_cmd_send(struct fp_core *c, const struct fp_cmd *cmd);
/* Write core c's doorbell if it sleeps (true if it did).  fp_cmd_send and
 * fp_tx_send do not: their caller kicks once after queueing a batch (one
 * wake-up, not one per command). */
bool fp_kick(struct fp_core *c);
/* Has core c completed the command with sequence seq? */
static inline bool fp_cmd_done(struct fp_core *c, uint64_t seq)
{
    return atomic_load_explicit(&c->cmd_done, memory_order_acquire) >= seq;
}
/* Queue an mbuf for transmission on core c; 0 or -ENOBUFS (mbuf freed).
 * For a core whose thread runs the slow path (sp_inline), a full ring is
 * sent first. */
int fp_tx_send(struct fp_core *c, struct rte_mbuf *m);
/* Which core owns a 4-tuple (all in network order). */
unsigned fp_flow_core(uint32_t lip, uint32_t rip, uint16_t lport, uint16_t rport);

/* Fill IPv4 and TCP checksums of a built frame (offload or software). */
void fp_tx_prepare_cksum(struct rte_mbuf *m);

/* Per-core statistics: a table on f, or a json-c object for the control
 * socket's JSON reply (the caller owns it; common/json.h). */
struct json_object;
void fp_write_stats(FILE *f);
struct json_object *fp_stats_json(void);

#endif /* FASTPATH_H */
