/* rx.c - TCP receive processing for an established flow (see rx.h).
 *
 * Order of work for one segment, after RFC 9293 3.10.7.4:
 *   1. PAWS (RFC 7323 5.3) for segments with data.
 *   2. ACK field: advance SND.UNA and free tx bytes, detect our FIN being
 *      acknowledged, count duplicate ACKs (fast retransmit on the third),
 *      take the peer's window, sample the RTT from the echoed timestamp.
 *   3. TS.Recent (RFC 7323 4.3) and ECN marks.
 *   4. Payload: trim to [RCV.NXT, RCV.NXT + rx_avail); in order -> into the
 *      ring at rx_pos, merging the held out-of-order interval when reached;
 *      out of order -> into the ring at its offset, extending the single held
 *      interval (data that neither touches nor overlaps it is dropped).
 *   5. The peer's FIN, when it is the next sequence number.
 *
 * Sending side bookkeeping: SND.UNA = tx_una_seq, SND.NXT = SND.UNA + tx_sent
 * (+1 while our FIN is in flight).  After a go-back (fast retransmit or
 * timeout) the peer may acknowledge bytes beyond SND.NXT that it received
 * before; an ACK is therefore acceptable up to everything the application
 * wrote (tx_sent + tx_avail, + the FIN once it was transmitted): the excess
 * comes out of tx_avail.
 */
#include <string.h>

#include "tas/proto.h"
#include "tas/seq.h"
#include "fastpath/flow.h"
#include "fastpath/rx.h"

#ifndef likely
#define likely(x)   __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#endif

#define RTT_MAX_MS 60000u /* larger timestamp differences are not samples */

/* RTT sample from an echoed timestamp (ticks are 1 ms: a difference of d
 * ticks is taken as d + 0.5 ms), folded into srtt_us with gain 1/8. */
static void rx_rtt_sample(struct fp_flow *f, uint32_t ts_ecr, uint64_t now_us)
{
    uint32_t d = fp_ts_from_us(now_us) - ts_ecr;
    if (ts_ecr == 0 || d > RTT_MAX_MS)
        return;
    uint32_t sample = d * 1000 + 500;
    if (f->srtt_us == 0)
        f->srtt_us = sample;
    else
        f->srtt_us = (uint32_t)((int64_t)f->srtt_us + ((int64_t)sample - f->srtt_us) / 8);
}

/* Step 2.  Returns false if the segment must be dropped (it acknowledges
 * something we never sent: RFC 9293 says ACK it and drop it). */
static bool rx_ack(struct fp_flow *f, const struct fp_seg *s, uint64_t now_us,
                   struct fp_rx_result *r)
{
    uint32_t una = f->tx_una_seq;
    uint32_t win = (uint32_t)s->win << f->remote_wscale;
    bool fin_out =
        (f->flags & (FP_FLOW_FIN_TXED | FP_FLOW_FIN_ACKED)) == FP_FLOW_FIN_TXED;

    if (likely(tas_seq_gt(s->ack, una))) {
        uint32_t limit = una + f->tx_sent + f->tx_avail + (fin_out ? 1 : 0);
        if (unlikely(tas_seq_gt(s->ack, limit))) {
            r->ack_now = true;
            r->dropped = true;
            return false;
        }
        uint32_t acked = s->ack - una;
        if (fin_out && s->ack == limit) {
            acked--; /* the FIN's sequence number */
            f->flags |= FP_FLOW_FIN_ACKED;
            r->fin_acked = true;
        }
        if (likely(acked <= f->tx_sent)) {
            f->tx_sent -= acked;
        } else {
            f->tx_avail -= acked - f->tx_sent;
            f->tx_sent = 0;
        }
        f->tx_pos = fp_ring_add(f->tx_pos, acked, f->tx_size);
        f->tx_una_seq = s->ack;
        f->cnt_acked += acked;
        f->dupacks = 0;
        f->tx_remote_win = win;
        r->tx_freed = acked;
        r->tx_ready = true;
        if ((f->flags & FP_FLOW_TS) && s->has_ts)
            rx_rtt_sample(f, s->ts_ecr, now_us);
        return true;
    }
    if (s->ack != una)
        return true; /* an old ACK: ignore the field, keep the data */

    bool pure = s->len == 0 && !(s->flags & TAS_TCP_FIN);
    if (pure && win == f->tx_remote_win && f->tx_sent > 0) {
        /* RFC 5681: duplicate ACK. */
        if (f->dupacks < UINT8_MAX)
            f->dupacks++;
        if (f->dupacks == 3) {
            fp_flow_go_back(f);
            f->cnt_fretx++;
            r->fast_retx = true;
            r->tx_ready = true;
        }
        return true;
    }
    /* Window update; not from a segment older than what we acknowledged. */
    if (win != f->tx_remote_win && tas_seq_geq(s->seq, f->rx_next_seq)) {
        if (f->tx_remote_win == 0 && win > 0 && f->tx_sent > 0)
            fp_flow_go_back(
                f); /* what went beyond the zero window (a probe) was dropped */
        if (win > f->tx_remote_win)
            r->tx_ready = true;
        f->tx_remote_win = win;
    }
    return true;
}

/* Advance RCV.NXT over n bytes that are in the ring at rx_pos. */
static inline void rx_advance(struct fp_flow *f, uint32_t n)
{
    f->rx_pos = fp_ring_add(f->rx_pos, n, f->rx_size);
    f->rx_avail -= n;
    f->rx_next_seq += n;
}

/* Steps 4 and 5. */
static void rx_data(struct fp_flow *f, const struct fp_seg *s, struct fp_rx_result *r)
{
    uint32_t nxt = f->rx_next_seq;
    uint32_t seq = s->seq;
    uint32_t len = s->len;
    const uint8_t *data = s->data;
    bool fin = (s->flags & TAS_TCP_FIN) != 0;

    if (len == 0 && !fin) {
        if (unlikely(tas_seq_lt(seq, nxt)))
            r->ack_now = true; /* keep-alive */
        return;
    }
    r->ack_now = true;
    if (unlikely(f->flags & FP_FLOW_FIN_RCVD))
        return; /* a retransmitted FIN, or data after the FIN */

    if (unlikely(tas_seq_lt(seq, nxt))) {
        uint32_t skip = nxt - seq;
        if (skip > len || (skip == len && !fin))
            return; /* entirely old: a retransmission we already have */
        data += skip;
        len -= skip;
        seq = nxt;
    }

    uint32_t off = seq - nxt;
    uint32_t wnd = f->rx_avail;
    if (unlikely(off > wnd || (off == wnd && len > 0))) {
        r->dropped = true; /* beyond the window (or a zero-window probe) */
        return;
    }
    if (unlikely(len > wnd - off)) {
        len = wnd - off; /* trim to the window; the FIN lies beyond it */
        fin = false;
        r->dropped = true;
    }

    if (likely(off == 0)) {
        if (len > 0) {
            fp_ring_write(f->rx_base, f->rx_size, f->rx_pos, data, len);
            rx_advance(f, len);
            r->delivered += len;
        }
        uint32_t fin_seq = f->rx_next_seq;
        if (unlikely(f->rx_ooo_len != 0) &&
            tas_seq_leq(f->rx_ooo_start, f->rx_next_seq)) {
            uint32_t end = f->rx_ooo_start + f->rx_ooo_len;
            if (tas_seq_gt(end, f->rx_next_seq)) {
                uint32_t extra = end - f->rx_next_seq;
                rx_advance(f, extra);
                r->delivered += extra;
            }
            f->rx_ooo_len = 0;
        }
        if (unlikely(fin) && f->rx_next_seq == fin_seq) {
            f->rx_next_seq++;
            f->rx_ooo_len = 0; /* nothing can follow the FIN */
            f->flags |= FP_FLOW_FIN_RCVD;
            r->fin_rcvd = true;
        }
        return;
    }

    /* Out of order (a FIN out of order is dropped: the peer resends it). */
    r->ooo = true;
    if (len == 0)
        return;
    uint32_t end = seq + len;
    if (f->rx_ooo_len == 0) {
        f->rx_ooo_start = seq;
        f->rx_ooo_len = len;
    } else {
        uint32_t ostart = f->rx_ooo_start;
        uint32_t oend = ostart + f->rx_ooo_len;
        if (tas_seq_gt(seq, oend) || tas_seq_lt(end, ostart)) {
            r->dropped = true; /* a second interval: keep the first one */
            return;
        }
        uint32_t nstart = tas_seq_min(seq, ostart);
        f->rx_ooo_start = nstart;
        f->rx_ooo_len = tas_seq_max(end, oend) - nstart;
    }
    fp_ring_write(f->rx_base, f->rx_size, fp_ring_add(f->rx_pos, off, f->rx_size), data,
                  len);
}

void fp_rx_segment(struct fp_flow *f, const struct fp_seg *s, uint64_t now_us,
                   struct fp_rx_result *r)
{
    memset(r, 0, sizeof(*r));
    bool ts = (f->flags & FP_FLOW_TS) && s->has_ts;

    /* 1. PAWS: data with a timestamp older than TS.Recent is an old duplicate
     * (TS.Recent 0 means "none yet"). */
    if (unlikely(ts && (s->len > 0 || (s->flags & TAS_TCP_FIN)) && f->ts_recent != 0 &&
                 tas_seq_lt(s->ts_val, f->ts_recent))) {
        r->ack_now = true;
        r->dropped = true;
        goto out;
    }

    /* 2. ACK (a segment without ACK never gets here: input.c drops it). */
    if (likely(s->flags & TAS_TCP_ACK) && unlikely(!rx_ack(f, s, now_us, r)))
        goto out;

    /* 3. TS.Recent: only from a segment that starts at or before the last
     * sequence number we acknowledged (RCV.NXT before this segment). */
    if (ts && tas_seq_leq(s->seq, f->rx_next_seq) &&
        (tas_seq_geq(s->ts_val, f->ts_recent) || f->ts_recent == 0))
        f->ts_recent = s->ts_val;
    if (unlikely(f->flags & FP_FLOW_ECN)) {
        if (s->flags & TAS_TCP_ECE) {
            f->cnt_ecn++; /* the slow path's congestion control reacts */
            f->flags |= FP_FLOW_CWR;
        }
        if (s->flags & TAS_TCP_CWR)
            f->flags &= (uint16_t)~FP_FLOW_ECE;
        if (s->ce)
            f->flags |= FP_FLOW_ECE;
    }

    /* 4, 5. */
    rx_data(f, s, r);
out:
    if (r->ack_now)
        f->flags |= FP_FLOW_ACK_NOW;
}
