/* flow.h - small pure helpers on struct fp_flow shared by receive (rx.c),
 * transmit (tx.c) and the queue manager (qman.c): the fast path's private
 * flag bits, ring-buffer positions and copies with wrap-around, and how much
 * a flow may send now.  No DPDK types, so the unit tests use them directly.
 */
#ifndef FP_FLOW_H
#define FP_FLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fastpath/fastpath.h"

/* Private fp_flow.flags bits (0x0100..0x4000; see fastpath.h). */
#define FP_FLOW_FIN_TXED 0x0100 /* our FIN was transmitted at least once */
#define FP_FLOW_ECE      0x0200 /* CE received: echo ECE until the peer's CWR */
#define FP_FLOW_CWR      0x0400 /* ECE received: our next data segment carries CWR */
#define FP_FLOW_DELACK   0x0800 /* in-order data not yet acked: delayed ACK owed */
#define FP_FLOW_RX_TIGHT 0x1000 /* the receive window ran low: grow the ring */
#define FP_FLOW_CORK     0x2000 /* corked: fp_side.cork_held bytes wait (cork.c) */
#define FP_FLOW_RELEASED                                                                 \
    0x4000 /* the rings' pages went back, nothing moved since (idle.c) */

/* Ring sizes are validated at FLOW_ADD: 0 < size < 2^31, pos < size, n <= size. */
static inline uint32_t fp_ring_add(uint32_t pos, uint32_t n, uint32_t size)
{
    pos += n;
    return pos >= size ? pos - size : pos;
}

/* Copy len bytes into a ring at pos, wrapping at size. */
static inline void fp_ring_write(uint8_t *base, uint32_t size, uint32_t pos,
                                 const uint8_t *src, uint32_t len)
{
    uint32_t first = size - pos;
    if (first >= len) {
        memcpy(base + pos, src, len);
    } else {
        memcpy(base + pos, src, first);
        memcpy(base, src + first, len - first);
    }
}

/* Copy len bytes out of a ring at pos, wrapping at size. */
static inline void fp_ring_read(const uint8_t *base, uint32_t size, uint32_t pos,
                                uint8_t *dst, uint32_t len)
{
    uint32_t first = size - pos;
    if (first >= len) {
        memcpy(dst, base + pos, len);
    } else {
        memcpy(dst, base + pos, first);
        memcpy(dst + first, base, len - first);
    }
}

/* Grow the rx ring in place (tas/ctxq.h), 4x up to rx_max, once its window
 * ran low, when nothing in it wraps: the unread bytes lie below rx_pos and
 * no out-of-order data is held, so every position means the same in the
 * larger ring.  True if it grew (the window opened). */
static inline bool fp_flow_rx_grow(struct fp_flow *f, const struct fp_flow_x *x)
{
    if (!(f->flags & FP_FLOW_RX_TIGHT) || x->n_ooo != 0 ||
        f->rx_size - f->rx_avail > f->rx_pos)
        return false;
    f->flags &= (uint16_t)~FP_FLOW_RX_TIGHT;
    if (f->rx_size >= x->rx_max)
        return false;
    uint64_t n = (uint64_t)f->rx_size * 4;
    if (n > x->rx_max)
        n = x->rx_max;
    f->rx_avail += (uint32_t)n - f->rx_size;
    f->rx_size = (uint32_t)n;
    return true;
}

/* The window ran low (less than a quarter of the ring free): mark the flow
 * for growth, if it can grow. */
static inline void fp_flow_rx_tight(struct fp_flow *f, const struct fp_flow_x *x)
{
    if (f->rx_avail < f->rx_size / 4 && f->rx_size < x->rx_max)
        f->flags |= FP_FLOW_RX_TIGHT;
}

/* Nothing in either ring matters any more: every byte received was read,
 * every byte written was sent and acknowledged (so none is corked), no FIN
 * of ours is queued, no out-of-order data waits.  Then the rings' pages
 * may go back (fastpath/idle.c). */
static inline bool fp_flow_quiet(const struct fp_flow *f, const struct fp_flow_x *x)
{
    return f->tx_avail == 0 && f->tx_sent == 0 && f->rx_avail == f->rx_size &&
           x->n_ooo == 0 && !(f->flags & (FP_FLOW_FIN_QUEUED | FP_FLOW_FIN_SENT));
}

/* The whole pages under both rings: from the tx ring's start (it ends
 * where the rx ring starts) to the rx ring's end, rounded out to pages of
 * `page` bytes (a power of two).  The flow's slot is page aligned and
 * holds both rings at their largest (slowpath/app.c), so the span never
 * reaches another connection's slot. */
static inline void fp_flow_ring_span(const struct fp_flow *f, uintptr_t page,
                                     uintptr_t *start, size_t *len)
{
    uintptr_t lo = (uintptr_t)f->tx_base & ~(page - 1);
    uintptr_t hi = ((uintptr_t)f->rx_base + f->rx_size + page - 1) & ~(page - 1);
    *start = lo;
    *len = hi - lo;
}

/* Largest payload of one segment: the MSS less the timestamp option. */
static inline uint32_t fp_flow_seg_max(const struct fp_flow *f)
{
    uint32_t m = f->mss;
    if (f->flags & FP_FLOW_TS)
        m = m > 12 + 64 ? m - 12 : 64; /* NOP NOP TS */
    return m;
}

/* Bytes the peer's window (counted from SND.UNA) and cwnd (counted against
 * what is in flight: sent, less what the peer SACKed) still allow. */
static inline uint32_t fp_flow_tx_room(const struct fp_flow *f)
{
    uint32_t room = f->tx_remote_win > f->tx_sent ? f->tx_remote_win - f->tx_sent : 0;
    if (f->cwnd != 0) {
        uint32_t flight = f->tx_sent - f->tx_sacked;
        uint32_t c = f->cwnd > flight ? f->cwnd - flight : 0;
        if (c < room)
            room = c;
    }
    return room;
}

/* Our FIN is due: the app closed, every byte went out, FIN not in flight. */
static inline bool fp_flow_fin_due(const struct fp_flow *f)
{
    return (f->flags & (FP_FLOW_FIN_QUEUED | FP_FLOW_FIN_SENT | FP_FLOW_FIN_ACKED)) ==
               FP_FLOW_FIN_QUEUED &&
           f->tx_avail == 0;
}

/* Payload length of the next data segment, 0 if none may go now.
 * A zero peer window with nothing in flight yields a 1-byte probe (the
 * slow path's retransmission timeout then repeats it with back-off, and the
 * window update that reopens the window makes rx.c resend it).  Otherwise a
 * segment shorter than seg_max goes only if it empties the ring or nothing is
 * in flight (sender silly-window avoidance, no Nagle).  The last `held` bytes
 * written (corked: TCP_CORK, MSG_MORE; at most tx_avail) go only in a full
 * segment: while less than seg_max is unsent, only the bytes before them go. */
static inline uint32_t fp_flow_next_seg(const struct fp_flow *f, uint32_t seg_max,
                                        uint32_t held)
{
    uint32_t avail = f->tx_avail;
    if (avail == 0)
        return 0;
    if (held > 0 && avail < seg_max) {
        if (held >= avail)
            return 0;
        avail -= held;
    }
    uint32_t room = fp_flow_tx_room(f);
    if (room == 0)
        return (f->tx_sent == 0 && f->tx_remote_win == 0) ? 1 : 0;
    uint32_t len = avail < seg_max ? avail : seg_max;
    if (len > room) {
        if (f->tx_sent > 0)
            return 0;
        len = room;
    }
    return len;
}

/* TCP segmentation offload: how many bytes one frame of at most max_segs
 * segments of seg_max bytes may carry, starting with a first segment of
 * len (= fp_flow_next_seg()) bytes: the segments fp_flow_next_seg() would
 * allow one after the other, full ones and at most one short one at the
 * end.  *segs gets their count. */
static inline uint32_t fp_flow_tso_len(struct fp_flow *f, uint32_t seg_max, uint32_t held,
                                       uint32_t len, unsigned max_segs, unsigned *segs)
{
    uint32_t sent = f->tx_sent, avail = f->tx_avail, total = len;
    unsigned n = 1;
    while (n < max_segs && total == n * seg_max) {
        f->tx_sent = sent + total;
        f->tx_avail = avail - total;
        uint32_t next =
            fp_flow_next_seg(f, seg_max, held < f->tx_avail ? held : f->tx_avail);
        if (next == 0)
            break;
        total += next;
        n++;
    }
    f->tx_sent = sent;
    f->tx_avail = avail;
    *segs = n;
    return total;
}

/* Does the flow have something it can transmit now (data or FIN), with
 * `held` corked bytes (fp_flow_held(), internal.h)? */
static inline bool fp_flow_can_send(const struct fp_flow *f, uint32_t held)
{
    return fp_flow_fin_due(f) || fp_flow_next_seg(f, fp_flow_seg_max(f), held) > 0;
}

/* Go back to SND.UNA: everything in flight is to be sent again (fast
 * retransmit, timeout, window reopened after a probe). */
static inline void fp_flow_go_back(struct fp_flow *f)
{
    f->tx_avail += f->tx_sent;
    f->tx_sent = 0;
    f->tx_sacked = 0;
    if ((f->flags & (FP_FLOW_FIN_SENT | FP_FLOW_FIN_ACKED)) == FP_FLOW_FIN_SENT)
        f->flags &= (uint16_t)~FP_FLOW_FIN_SENT;
}

/* Advertised receive window field: rx_avail >> local_wscale, at most 65535. */
static inline uint16_t fp_flow_adv_win(const struct fp_flow *f)
{
    uint32_t w = f->rx_avail >> f->local_wscale;
    return w > 0xffff ? 0xffff : (uint16_t)w;
}

#endif /* FP_FLOW_H */
