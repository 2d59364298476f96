/* cc.h - congestion control: one interface, one file per algorithm.
 *
 * Once per control interval the slow path reads each flow's fast-path
 * counters, turns them into the deltas below and asks the flow's algorithm
 * for a new congestion window (bytes allowed in flight beyond SND.UNA;
 * 0 = unlimited).  timers.c sends FP_CMD_FLOW_RATE when the window moved
 * enough to matter.  Algorithms are pure functions of their state: no
 * DPDK, unit-tested.
 */
#ifndef SP_CC_H
#define SP_CC_H

#include <stdbool.h>
#include <stdint.h>

struct sp_cc_state {
    uint32_t cwnd;     /* bytes; 0 = unlimited */
    uint32_t ssthresh; /* bytes */
    uint32_t mss;
    uint64_t recover_until_us; /* one window reduction per round trip */
};

/* What happened to the flow during the last interval. */
struct sp_cc_input {
    uint32_t acked;    /* bytes newly acknowledged */
    uint32_t fretx;    /* fast retransmits */
    bool timeout;      /* the retransmission timer fired */
    uint32_t srtt_us;  /* smoothed RTT estimate, 0 if unknown */
    uint32_t peer_win; /* the peer's receive window, bytes (0 = unknown) */
    uint64_t now_us;
};

struct sp_cc_ops {
    const char *name;
    void (*init)(struct sp_cc_state *s, uint32_t mss);
    void (*update)(struct sp_cc_state *s, const struct sp_cc_input *in);
};

extern const struct sp_cc_ops sp_cc_reno;
extern const struct sp_cc_ops sp_cc_none;

/* The algorithm called name, or NULL. */
const struct sp_cc_ops *sp_cc_find(const char *name);

/* Worth telling the fast path?  Decreases always; increases once they add
 * up to an MSS or 1/16 of the window. */
bool sp_cc_changed(uint32_t sent, uint32_t now, uint32_t mss);

#endif /* SP_CC_H */
