/* cc.h - congestion control: one interface, one file per algorithm.
 *
 * Once per control interval the slow path reads each flow's fast-path
 * counters, turns them into the deltas below and asks the flow's algorithm
 * for a new congestion window (bytes allowed in flight beyond SND.UNA;
 * 0 = unlimited) and pacing rate (kbit/s; 0 = none: the window alone
 * limits the flow).  timers.c sends FP_CMD_FLOW_RATE when either moved
 * enough to matter.  Each connection has its own algorithm (the config's
 * tcp.cc, a policy, or the socket's TCP_CONGESTION) and may change it
 * while it runs.  Algorithms are pure functions of their state: no DPDK,
 * unit-tested.
 */
#ifndef SP_CC_H
#define SP_CC_H

#include <stdbool.h>
#include <stdint.h>

/* DCTCP (cc_dctcp.c): the share of marked bytes, per round trip. */
struct sp_cc_dctcp {
    uint32_t alpha;  /* estimate of the marked share, 1/1024 units */
    uint32_t acked;  /* bytes acknowledged in this observation window */
    uint32_t marked; /* ... of which by ACKs with ECE */
    uint64_t window_end_us;
};

/* CUBIC (cc_cubic.c): the current epoch of window growth. */
struct sp_cc_cubic {
    double w_max;      /* segments: the window before the last reduction */
    double w_last_max; /* the w_max before that (fast convergence) */
    double k_s;        /* seconds from the epoch's start to w_max */
    double w_est;      /* segments: what Reno would have (Reno-friendly region) */
    uint64_t epoch_us; /* start of the avoidance epoch, 0: none yet */
};

/* TIMELY (cc_timely.c): a rate from the RTT and its gradient. */
struct sp_cc_timely {
    uint32_t prev_rtt_us;
    uint32_t min_rtt_us; /* the smallest RTT seen: normalises the gradient */
    int32_t rtt_diff_us; /* EWMA of the RTT's change between updates */
    uint32_t hai;        /* consecutive updates with a falling RTT */
    uint64_t next_us;    /* the next update, one RTT after the last */
};

struct sp_cc_state {
    uint32_t cwnd;     /* bytes; 0 = unlimited */
    uint32_t ssthresh; /* bytes */
    uint32_t mss;
    uint32_t rate_kbps;        /* pacing rate; 0 = none (window-based algorithms) */
    uint64_t recover_until_us; /* one window reduction per round trip */
    union {
        struct sp_cc_dctcp dctcp;
        struct sp_cc_cubic cubic;
        struct sp_cc_timely timely;
    } u;
};

/* What happened to the flow during the last interval. */
struct sp_cc_input {
    uint32_t acked;     /* bytes newly acknowledged */
    uint32_t ecn_acked; /* ... of them by ACKs that carried ECE */
    uint32_t fretx;     /* fast retransmits */
    bool timeout;       /* the retransmission timer fired */
    bool ecn;           /* ECN was negotiated on the connection */
    uint32_t srtt_us;   /* smoothed RTT estimate, 0 if unknown */
    uint32_t peer_win;  /* the peer's receive window, bytes (0 = unknown) */
    uint64_t now_us;
};

struct sp_cc_ops {
    const char *name; /* as Linux spells it (TCP_CONGESTION) */
    /* The receiving side echoes every CE mark on the ACK of that segment
     * (RFC 8257 3.2) instead of until the peer's CWR (RFC 3168). */
    bool ecn_each;
    /* Start on a new connection (cwnd 0), or take over a running one
     * whose window is cwnd bytes (a change of algorithm mid-connection). */
    void (*init)(struct sp_cc_state *s, uint32_t mss, uint32_t cwnd);
    void (*update)(struct sp_cc_state *s, const struct sp_cc_input *in);
};

extern const struct sp_cc_ops sp_cc_reno;
extern const struct sp_cc_ops sp_cc_cubic;
extern const struct sp_cc_ops sp_cc_dctcp;
extern const struct sp_cc_ops sp_cc_timely;
extern const struct sp_cc_ops sp_cc_none;

#define SP_CC_MAX 8 /* algorithms the registry can hold (tas_region_hdr) */

/* The algorithm called name, or NULL. */
const struct sp_cc_ops *sp_cc_find(const char *name);
/* The i-th algorithm of the registry (i < sp_cc_count()), its index. */
unsigned sp_cc_count(void);
const struct sp_cc_ops *sp_cc_at(unsigned i);
unsigned sp_cc_index(const struct sp_cc_ops *ops);
/* "reno, cubic, ...": for error messages and usage. */
const char *sp_cc_list(void);

/* Worth telling the fast path?  Decreases always; increases once they add
 * up to an MSS or 1/16 of the window.  Also for rates (unit: mss = 1). */
bool sp_cc_changed(uint32_t sent, uint32_t now, uint32_t mss);

/* Shared by the window-based algorithms (cc.c). */
#define SP_CC_INIT_SEGS 10
#define SP_CC_MAX_CWND  (1u << 30)
/* Start: 10 MSS (RFC 6928), or the window taken over. */
void sp_cc_start(struct sp_cc_state *s, uint32_t mss, uint32_t cwnd);
/* The window after a multiplicative decrease to num/den, at least 2 MSS. */
uint32_t sp_cc_reduce(const struct sp_cc_state *s, uint32_t num, uint32_t den);
/* Timeout: ssthresh = cwnd * num/den (at least 2 MSS), cwnd 2 MSS. */
void sp_cc_timeout(struct sp_cc_state *s, const struct sp_cc_input *in, uint32_t num,
                   uint32_t den);
/* Slow start below ssthresh (growth by the bytes acknowledged); returns
 * the bytes of in->acked left over for congestion avoidance. */
uint32_t sp_cc_slow_start(struct sp_cc_state *s, uint32_t acked);
/* Reno's avoidance: one MSS per window acknowledged. */
void sp_cc_avoid(struct sp_cc_state *s, uint32_t acked);
/* The window does not grow beyond twice the peer's receive window: a flow
 * limited by its receiver would otherwise inflate cwnd without bound and
 * then burst when the receiver opens up (RFC 7661 spirit). */
void sp_cc_clamp(struct sp_cc_state *s, uint32_t before, const struct sp_cc_input *in);
/* Reno's growth on in->acked: slow start, then avoidance, clamped. */
void sp_cc_grow(struct sp_cc_state *s, const struct sp_cc_input *in);
/* A loss signal (fast retransmit) that starts a new reduction: not within
 * the round trip of the last one.  Marks the round trip as taken. */
bool sp_cc_new_loss(struct sp_cc_state *s, const struct sp_cc_input *in, bool signal);

#endif /* SP_CC_H */
