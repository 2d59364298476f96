/* rx.h - TCP receive processing for an established flow, as a pure function
 * on struct fp_flow (no DPDK types), so that it is unit-testable.
 *
 * The caller (fastpath/input.c) has validated the frame, found the flow and
 * handed SYN/RST segments to the slow path; fp_rx_segment() then does the
 * rest of RFC 9293 3.10.7.4 for ESTABLISHED and the closing states: ACK
 * processing, duplicate ACKs and fast retransmit, window updates, payload
 * into the receive ring (in order, or held as one out-of-order interval),
 * the peer's FIN, timestamps.  It reports what the caller must do next in a
 * struct fp_rx_result.
 */
#ifndef FP_RX_H
#define FP_RX_H

#include <stdbool.h>
#include <stdint.h>

#include "fastpath/fastpath.h"

/* One received segment, fields in host order. */
struct fp_seg {
    uint32_t seq;
    uint32_t ack;
    uint16_t win;  /* window field as received (not scaled) */
    uint8_t flags; /* TAS_TCP_* */
    bool ce;       /* IP ECN field was CE */
    bool has_ts;
    uint32_t ts_val;
    uint32_t ts_ecr;
    const uint8_t *data; /* payload */
    uint32_t len;        /* payload bytes */
    uint8_t n_sack;      /* SACK blocks in the segment */
    uint32_t sack_start[4];
    uint32_t sack_end[4];
};

struct fp_rx_result {
    uint32_t delivered; /* new in-order bytes in the rx ring (tell the app) */
    uint32_t tx_freed;  /* bytes acknowledged: tx ring space freed (tell the app) */
    bool fin_rcvd;      /* the peer's FIN arrived in order (now FP_FLOW_FIN_RCVD) */
    bool fin_acked;     /* our FIN was acknowledged (now FP_FLOW_FIN_ACKED) */
    bool ack_now;       /* an ACK must be sent (FP_FLOW_ACK_NOW is set too) */
    bool fast_retx;     /* loss detected: recovery began (or, without SACK,
                         * the third duplicate ACK went back to SND.UNA) */
    uint32_t retx_seq;  /* SACK recovery: send [retx_seq, +retx_len) again now */
    uint32_t retx_len;
    uint32_t goback;    /* without SACK: bytes that will go again (go-back-N) */
    bool tx_ready;      /* ACK/window/go-back: the flow may be able to send */
    bool ooo;           /* the segment was out of order */
    bool ce;            /* ECN flow: the segment carried CE */
    bool dropped;       /* payload dropped: beyond the window, old ack, no room */
};

/* Timestamp clock of the fast path: milliseconds (RFC 7323 5.4), the low 32
 * bits of the fp clock (fastpath/clock.h) divided by 1000. */
static inline uint32_t fp_ts_from_us(uint64_t now_us)
{
    return (uint32_t)(now_us / 1000);
}

/* Process one segment of flow f received at now_us (fp clock).  Copies the
 * payload (s->data) into the rx ring at most once. */
void fp_rx_segment(struct fp_flow *f, struct fp_flow_x *x, const struct fp_seg *s,
                   uint64_t now_us, struct fp_rx_result *r);

#endif /* FP_RX_H */
