/* rx.c - TCP receive processing for an established flow (see rx.h).
 *
 * Order of work for one segment, after RFC 9293 3.10.7.4:
 *   1. PAWS (RFC 7323 5.3) for segments with data.
 *   2. ACK field: advance SND.UNA and free tx bytes, detect our FIN being
 *      acknowledged, take the peer's SACK blocks, detect loss and drive the
 *      recovery, take the peer's window, sample the RTT from the echoed
 *      timestamp.
 *   3. TS.Recent (RFC 7323 4.3) and ECN marks.
 *   4. Payload: trim to [RCV.NXT, RCV.NXT + rx_avail); in order -> into the
 *      ring at rx_pos, then past every held interval it reaches; out of order
 *      -> into the ring at its offset, as one of up to FP_OOO_MAX intervals
 *      (struct fp_flow_x), which our ACKs report as SACK blocks.
 *   5. The peer's FIN, when it is the next sequence number.
 *
 * Loss recovery with SACK (RFC 6675, simplified): the scoreboard is up to
 * FP_SACK_MAX SACKed ranges above SND.UNA.  Recovery begins at the third
 * duplicate ACK, once 3 segments' worth is SACKed, or once the last segment
 * sent is SACKed with a hole below it (RACK's reasoning); it lasts until SND.UNA
 * passes the SND.NXT of that moment.  Each ACK during recovery (duplicate or
 * partial) sends one segment of the lowest hole not yet resent (the ACK
 * clock), so only what is missing goes again.  The slow path sees one
 * fast-retransmit event per recovery and halves cwnd.  Without SACK the
 * third duplicate ACK goes back to SND.UNA (go-back-N).
 *
 * Sending side bookkeeping: SND.UNA = tx_una_seq, SND.NXT = SND.UNA + tx_sent
 * (+1 while our FIN is in flight).  After a go-back (fast retransmit or
 * timeout) the peer may acknowledge bytes beyond SND.NXT that it received
 * before; an ACK is therefore acceptable up to everything the application
 * wrote (tx_sent + tx_avail, + the FIN once it was transmitted): the excess
 * comes out of tx_avail.
 */
#include <string.h>

#include "common/proto.h"
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

/* Merge [st, en) into n sorted disjoint ranges (arrays of max + 1); ranges
 * that touch are joined.  Returns the new count, at most max: the highest
 * range falls off when there are too many. */
static unsigned ranges_add(uint32_t *start, uint32_t *end, unsigned n, unsigned max,
                           uint32_t st, uint32_t en)
{
    unsigned i = 0;
    while (i < n && tas_seq_lt(start[i], st))
        i++;
    for (unsigned j = n; j > i; j--) {
        start[j] = start[j - 1];
        end[j] = end[j - 1];
    }
    start[i] = st;
    end[i] = en;
    n++;
    unsigned k = 0; /* merge in one pass */
    for (unsigned j = 1; j < n; j++) {
        if (tas_seq_leq(start[j], end[k])) {
            if (tas_seq_gt(end[j], end[k]))
                end[k] = end[j];
        } else {
            k++;
            start[k] = start[j];
            end[k] = end[j];
        }
    }
    n = k + 1;
    return n > max ? max : n;
}

static uint32_t sacked_bytes(const struct fp_flow_x *x)
{
    uint32_t b = 0;
    for (unsigned i = 0; i < x->n_sack; i++)
        b += x->sack_end[i] - x->sack_start[i];
    return b;
}

/* The scoreboard after the ACK and the segment's blocks: ranges within
 * (SND.UNA, SND.NXT]; blocks outside (D-SACK, stale, forged) are ignored. */
static void sack_update(struct fp_flow *f, struct fp_flow_x *x, const struct fp_seg *s)
{
    uint32_t una = f->tx_una_seq, nxt = una + f->tx_sent;
    uint32_t st[FP_SACK_MAX + 1], en[FP_SACK_MAX + 1];
    unsigned n = 0;

    for (unsigned i = 0; i < x->n_sack; i++) {
        if (tas_seq_leq(x->sack_end[i], una) || tas_seq_gt(x->sack_end[i], nxt))
            continue;
        st[n] = tas_seq_max(x->sack_start[i], una);
        en[n++] = x->sack_end[i];
    }
    for (unsigned i = 0; i < s->n_sack; i++) {
        uint32_t a = s->sack_start[i], b = s->sack_end[i];
        if (!tas_seq_lt(a, b) || tas_seq_leq(b, una) || tas_seq_gt(b, nxt))
            continue;
        n = ranges_add(st, en, n, FP_SACK_MAX, tas_seq_max(a, una), b);
        /* Data sent after our last retransmission arrived, but a hole we
         * resent is still open: that retransmission was lost as well. */
        if (x->in_recovery && x->rtx_hi != 0 && tas_seq_gt(b, x->rtx_hi) &&
            tas_seq_lt(una, x->rtx_nxt)) {
            x->rtx_nxt = una;
            x->rtx_hi = 0;
        }
    }
    memcpy(x->sack_start, st, n * sizeof(st[0]));
    memcpy(x->sack_end, en, n * sizeof(en[0]));
    x->n_sack = (uint8_t)n;
    f->tx_sacked = sacked_bytes(x);
}

/* During recovery: the next segment of the lowest hole not resent yet. */
static void next_hole(struct fp_flow *f, struct fp_flow_x *x, struct fp_rx_result *r)
{
    uint32_t una = f->tx_una_seq, nxt = una + f->tx_sent;
    uint32_t st = tas_seq_max(x->rtx_nxt, una), en = 0;
    bool bounded = false;

    for (unsigned i = 0; i < x->n_sack; i++) {
        if (tas_seq_leq(x->sack_start[i], st)) {
            if (tas_seq_gt(x->sack_end[i], st))
                st = x->sack_end[i]; /* SACKed: skip it */
            continue;
        }
        en = x->sack_start[i]; /* the hole ends where the next SACKed range starts */
        bounded = true;
        break;
    }
    if (!bounded) {
        /* Nothing SACKed above: only the first segment counts as lost (the
         * peer's duplicate ACKs say so, as in NewReno). */
        if (st != una)
            return;
        en = nxt;
    }
    if (!tas_seq_lt(st, en) || !tas_seq_lt(st, nxt))
        return;
    uint32_t len = en - st, seg = fp_flow_seg_max(f);
    if (len > seg)
        len = seg;
    r->retx_seq = st;
    r->retx_len = len;
    x->rtx_nxt = st + len;
    x->rtx_hi = nxt;
}

/* The last segment sent arrived (SACKed) while bytes below it did not: as
 * RACK (RFC 8985) reasons, what was sent before a delivered segment and is
 * still missing is lost, whatever the number of duplicate ACKs. */
static bool tail_sacked(const struct fp_flow *f, const struct fp_flow_x *x)
{
    return x->n_sack > 0 && x->sack_end[x->n_sack - 1] == f->tx_una_seq + f->tx_sent;
}

/* What the scoreboard alone says is lost (RFC 6675 IsLost, simplified):
 * 3 segments' worth SACKed above a hole, or the last segment SACKed. */
static bool sack_loss(const struct fp_flow *f, const struct fp_flow_x *x)
{
    return f->tx_sacked >= 3 * fp_flow_seg_max(f) || tail_sacked(f, x);
}

static void recovery_begin(struct fp_flow *f, struct fp_flow_x *x, struct fp_rx_result *r)
{
    x->in_recovery = 1;
    x->recover = f->tx_una_seq + f->tx_sent;
    x->rtx_nxt = f->tx_una_seq;
    f->cnt_fretx++;
    r->fast_retx = true;
    next_hole(f, x, r);
}

/* Step 2.  Returns false if the segment must be dropped (it acknowledges
 * something we never sent: RFC 9293 says ACK it and drop it). */
static bool rx_ack(struct fp_flow *f, struct fp_flow_x *x, const struct fp_seg *s,
                   uint64_t now_us, struct fp_rx_result *r)
{
    bool sack = (f->flags & FP_FLOW_SACK) != 0;
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
        if (sack) {
            if (x->n_sack != 0 || s->n_sack != 0) /* (none: nothing to update) */
                sack_update(f, x, s);
            if (x->in_recovery && tas_seq_geq(s->ack, x->recover))
                x->in_recovery = 0; /* everything lost then is repaired */
            if (x->in_recovery)
                next_hole(f, x, r); /* a partial ACK: the next hole */
            else if (sack_loss(f, x))
                recovery_begin(f, x, r);
        }
        return true;
    }
    if (s->ack != una)
        return true; /* an old ACK: ignore the field, keep the data */

    bool pure = s->len == 0 && !(s->flags & TAS_TCP_FIN);
    if (sack && pure && s->n_sack > 0 && f->tx_sent > 0) {
        /* With SACK a duplicate ACK is one that SACKs new data, whatever
         * its window says (RFC 6675 2; receivers keep opening the window).
         * A copy of an earlier ACK or a D-SACK (RFC 2883) is not one. */
        uint32_t before = f->tx_sacked;
        sack_update(f, x, s);
        if (f->tx_sacked <= before) {
            f->tx_remote_win = win;
            if (!x->in_recovery && tail_sacked(f, x))
                recovery_begin(f, x, r); /* e.g. the answer to a tail loss probe */
            return true;
        }
        if (f->dupacks < UINT8_MAX)
            f->dupacks++;
        if (x->in_recovery)
            next_hole(f, x, r);
        else if (f->dupacks >= 3 || sack_loss(f, x))
            recovery_begin(f, x, r);
        if (win > f->tx_remote_win)
            r->tx_ready = true;
        f->tx_remote_win = win;
        return true;
    }
    if (pure && win == f->tx_remote_win && f->tx_sent > 0) {
        /* RFC 5681: duplicate ACK.  With SACK, one without blocks reports
         * nothing new (a duplicated packet): loss shows in SACK blocks. */
        if (sack)
            return true;
        if (f->dupacks < UINT8_MAX)
            f->dupacks++;
        if (f->dupacks == 3) {
            r->goback = f->tx_sent;
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

/* Held intervals RCV.NXT has reached are in order now: past them. */
static void ooo_reached(struct fp_flow *f, struct fp_flow_x *x, struct fp_rx_result *r)
{
    unsigned k = 0;
    while (k < x->n_ooo && tas_seq_leq(x->ooo_start[k], f->rx_next_seq)) {
        if (tas_seq_gt(x->ooo_end[k], f->rx_next_seq)) {
            uint32_t extra = x->ooo_end[k] - f->rx_next_seq;
            rx_advance(f, extra);
            r->delivered += extra;
        }
        k++;
    }
    if (k == 0)
        return;
    for (unsigned i = k; i < x->n_ooo; i++) {
        x->ooo_start[i - k] = x->ooo_start[i];
        x->ooo_end[i - k] = x->ooo_end[i];
    }
    x->n_ooo = (uint8_t)(x->n_ooo - k);
}

/* Hold [seq, end) (already in the ring).  False if it could not be kept:
 * FP_OOO_MAX intervals and this one lies above them all. */
static bool ooo_hold(struct fp_flow_x *x, uint32_t seq, uint32_t end)
{
    uint32_t st[FP_OOO_MAX + 1], en[FP_OOO_MAX + 1];
    memcpy(st, x->ooo_start, x->n_ooo * sizeof(st[0]));
    memcpy(en, x->ooo_end, x->n_ooo * sizeof(en[0]));
    unsigned n = ranges_add(st, en, x->n_ooo, FP_OOO_MAX + 1, seq, end);
    if (n > FP_OOO_MAX) {
        n = FP_OOO_MAX; /* the highest goes: the peer sends it again */
        if (tas_seq_geq(seq, st[FP_OOO_MAX]))
            return false;
    }
    memcpy(x->ooo_start, st, n * sizeof(st[0]));
    memcpy(x->ooo_end, en, n * sizeof(en[0]));
    x->n_ooo = (uint8_t)n;
    for (unsigned i = 0; i < n; i++)
        if (tas_seq_leq(st[i], seq) && tas_seq_lt(seq, en[i]))
            x->ooo_last = st[i];
    return true;
}

/* Steps 4 and 5. */
static void rx_data(struct fp_flow *f, struct fp_flow_x *x, const struct fp_seg *s,
                    struct fp_rx_result *r)
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
        fp_flow_rx_tight(f, x);
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
            fp_flow_rx_tight(f, x);
        }
        uint32_t fin_seq = f->rx_next_seq;
        if (unlikely(x->n_ooo != 0))
            ooo_reached(f, x, r);
        if (unlikely(fin) && f->rx_next_seq == fin_seq) {
            f->rx_next_seq++;
            x->n_ooo = 0; /* nothing can follow the FIN */
            f->flags |= FP_FLOW_FIN_RCVD;
            r->fin_rcvd = true;
        }
        if (unlikely(f->flags & FP_FLOW_RX_TIGHT))
            fp_flow_rx_grow(f, x);
        return;
    }

    /* Out of order (a FIN out of order is dropped: the peer resends it). */
    r->ooo = true;
    if (len == 0)
        return;
    fp_ring_write(f->rx_base, f->rx_size, fp_ring_add(f->rx_pos, off, f->rx_size), data,
                  len);
    if (!ooo_hold(x, seq, seq + len))
        r->dropped = true;
}

/* ECN (RFC 3168; RFC 8257 with ecn_each).  Sending: an ACK with ECE is
 * counted, with the bytes it acknowledged, for the slow path's congestion
 * control, and our next data segment carries CWR.  Receiving: a CE mark
 * sets ECE on our ACKs until the peer's CWR; with ecn_each, ECE echoes the
 * CE of the latest segment exactly, and a change is acknowledged at once
 * so that each ACK covers segments of one kind. */
static void rx_ecn(struct fp_flow *f, struct fp_flow_x *x, const struct fp_seg *s,
                   uint32_t acked, struct fp_rx_result *r)
{
    if (s->flags & TAS_TCP_ECE) {
        f->cnt_ecn++;
        x->cnt_ecn_bytes += acked;
        f->flags |= FP_FLOW_CWR;
    }
    if (x->ecn_each) {
        if (s->len > 0 && s->ce != !!(f->flags & FP_FLOW_ECE)) {
            f->flags ^= FP_FLOW_ECE;
            r->ack_now = true;
        }
    } else if (s->flags & TAS_TCP_CWR) {
        f->flags &= (uint16_t)~FP_FLOW_ECE;
    }
    if (s->ce) {
        if (!x->ecn_each)
            f->flags |= FP_FLOW_ECE;
        r->ce = true;
    }
}

void fp_rx_segment(struct fp_flow *f, struct fp_flow_x *x, const struct fp_seg *s,
                   uint64_t now_us, struct fp_rx_result *r)
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
    uint32_t acked_before = f->cnt_acked;
    if (likely(s->flags & TAS_TCP_ACK) && unlikely(!rx_ack(f, x, s, now_us, r)))
        goto out;

    /* 3. TS.Recent: only from a segment that starts at or before the last
     * sequence number we acknowledged (RCV.NXT before this segment). */
    if (ts && tas_seq_leq(s->seq, f->rx_next_seq) &&
        (tas_seq_geq(s->ts_val, f->ts_recent) || f->ts_recent == 0))
        f->ts_recent = s->ts_val;
    if (unlikely(f->flags & FP_FLOW_ECN))
        rx_ecn(f, x, s, f->cnt_acked - acked_before, r);

    /* 4, 5. */
    rx_data(f, x, s, r);
out:
    if (r->ack_now)
        f->flags |= FP_FLOW_ACK_NOW;
}
