/* fuzz_rx.c - libFuzzer harness for everything tasd does with a received
 * frame before it touches DPDK or shared state: the fast path's
 * classification (fastpath/classify.h), TCP option parsing
 * (common/tcp_opts.c), receive processing of an established flow
 * (fastpath/rx.c), and the slow path's parsing of the exceptions it gets:
 * TCP frames (slowpath/frame.c), SYN options and the SYN-ACK options built
 * from them, ping (slowpath/icmp.c) and ARP (slowpath/arp.c).  Built with
 * clang -fsanitize=fuzzer,address,undefined by tests/fuzz/local.mk; run by
 * tests/fuzz/t_fuzz.sh.
 *
 * Input: an 8-byte control block, then up to FZ_MAX_FRAMES records of a
 * 2-byte big-endian length and that many frame bytes (the seed corpus in
 * tests/fuzz/corpus is written by mkcorpus.c).  Control:
 *   [0] bit 0: fill in IP, TCP and ICMP checksums before classifying
 *              (otherwise nearly every mutated frame stops at them)
 *       bit 1: the segments belong to an installed flow (run rx.c)
 *       bit 2: timestamps negotiated      bit 3: ECN negotiated
 *       bit 4: our FIN was sent           bit 5: the port "verified"
 *              checksums (FP_CK_GOOD), bit 6: the port said bad
 *       bit 7: SACK negotiated
 *   [1] RCV.NXT = first segment's seq - (int8)[1]
 *   [2] SND.UNA = first segment's ack - (int8)[2]
 *   [3] tx_sent, [4] tx_avail (bytes, within the tx ring)
 *   [5] rx ring size - 1 (1..256 bytes; rx_avail from [6] within it)
 *   [7] window scales: peer's (low nibble), ours (high nibble), mod 15
 * Every frame is copied to a buffer of exactly its length, so that ASan
 * catches a read past its end.  Invariants of the flow state are checked
 * after each segment; a violation aborts (and so fails the run).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tas/seq.h"
#include "fastpath/classify.h"
#include "fastpath/flow.h"
#include "fastpath/rx.h"
#include "common/tcp_opts.h"
#include "slowpath/arp.h"
#include "slowpath/tcp.h"

#define FZ_CTRL       8
#define FZ_MAX_FRAMES 8

static const uint8_t our_mac[6] = {0x02, 0, 0, 0, 0, 0x02};
#define OUR_IP 0x0200000au /* 10.0.0.2 */

struct fz_flow {
    struct fp_flow f;
    struct fp_flow_x x; /* out-of-order intervals, SACK scoreboard */
    uint8_t *rx, *tx;
    bool up;
    uint32_t tx_total; /* tx_sent + tx_avail may only shrink (acks) */
};

static void check(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_rx: invariant broken: %s\n", what);
        abort();
    }
}

static void flow_setup(struct fz_flow *z, const uint8_t *ctl, const struct fp_seg *s)
{
    struct fp_flow *f = &z->f;
    uint32_t rx_size = (uint32_t)ctl[5] + 1;
    uint32_t tx_size = 256;

    memset(f, 0, sizeof(*f));
    memset(&z->x, 0, sizeof(z->x));
    z->rx = malloc(rx_size);
    z->tx = malloc(tx_size);
    if (z->rx == NULL || z->tx == NULL)
        abort();
    memset(z->tx, 'T', tx_size);
    f->rx_base = z->rx;
    f->tx_base = z->tx;
    f->rx_size = rx_size;
    f->rx_avail = ctl[6] % (rx_size + 1);
    f->rx_pos = (rx_size - f->rx_avail) % rx_size;
    f->rx_next_seq = s->seq - (uint32_t)(int32_t)(int8_t)ctl[1];
    f->tx_size = tx_size;
    f->tx_sent = ctl[3] % (tx_size + 1);
    f->tx_avail = ctl[4] % (tx_size - f->tx_sent + 1);
    f->tx_una_seq = s->ack - (uint32_t)(int32_t)(int8_t)ctl[2];
    f->tx_remote_win = 1000;
    f->remote_wscale = (uint8_t)((ctl[7] & 0xf) % 15);
    f->local_wscale = (uint8_t)((ctl[7] >> 4) % 15);
    f->mss = 64;
    f->flags = FP_FLOW_INSTALLED;
    if (ctl[0] & 0x04)
        f->flags |= FP_FLOW_TS;
    if (ctl[0] & 0x08)
        f->flags |= FP_FLOW_ECN;
    if (ctl[0] & 0x10)
        f->flags |= FP_FLOW_FIN_QUEUED | FP_FLOW_FIN_TXED;
    if (ctl[0] & 0x80)
        f->flags |= FP_FLOW_SACK;
    f->ts_recent = s->has_ts ? s->ts_val - 1 : 0;
    z->tx_total = f->tx_sent + f->tx_avail;
    z->up = true;
}

static void flow_check(const struct fz_flow *z, const struct fp_rx_result *r,
                       const struct fp_seg *s)
{
    const struct fp_flow *f = &z->f;
    check(f->rx_avail <= f->rx_size, "rx_avail <= rx_size");
    check(f->rx_pos < f->rx_size, "rx_pos < rx_size");
    check(f->tx_pos < f->tx_size, "tx_pos < tx_size");
    check(f->tx_sent + f->tx_avail <= z->tx_total, "acks only free tx bytes");
    check(r->delivered <= f->rx_size, "delivered fits the ring");
    const struct fp_flow_x *x = &z->x;
    check(x->n_ooo <= FP_OOO_MAX, "out-of-order intervals <= FP_OOO_MAX");
    check(x->n_sack <= FP_SACK_MAX, "SACKed ranges <= FP_SACK_MAX");
    for (unsigned i = 0; i < x->n_ooo; i++) {
        check(tas_seq_lt(x->ooo_start[i], x->ooo_end[i]),
              "out-of-order interval not empty");
        check(x->ooo_end[i] - f->rx_next_seq <= f->rx_size,
              "out-of-order interval within the ring");
    }
    check(f->tx_sacked <= z->tx_total, "SACKed bytes were sent");
    (void)s;
}

/* Store the checksum over n bytes at p (field at p + at, zeroed first). */
static void put_cksum(uint8_t *p, size_t n, size_t at, uint32_t sum)
{
    p[at] = p[at + 1] = 0;
    uint16_t c = (uint16_t)~cm_cksum_fold(cm_cksum_add(p, n, sum));
    memcpy(p + at, &c, 2);
}

/* Make the IPv4 header, TCP and ICMP checksums right, as far as the
 * header lengths allow (they are not checked here: that is the point). */
static void fix_cksums(uint8_t *fr, size_t len)
{
    if (len < 14 + 20 || fr[12] != 0x08 || fr[13] != 0x00)
        return;
    uint8_t *ip = fr + 14;
    size_t ihl = (size_t)(ip[0] & 0xf) * 4, tot = (size_t)(ip[2] << 8 | ip[3]);
    if (ihl < 20 || ihl > len - 14)
        return;
    put_cksum(ip, ihl, 10, 0);
    if (tot < ihl || tot > len - 14)
        return;
    uint8_t *l4 = ip + ihl;
    size_t l4len = tot - ihl;
    if (ip[9] == TAS_IPPROTO_TCP && l4len >= 20) {
        const uint8_t ph[4] = {0, TAS_IPPROTO_TCP, (uint8_t)(l4len >> 8), (uint8_t)l4len};
        put_cksum(l4, l4len, 16, cm_cksum_add(ph, 4, cm_cksum_add(ip + 12, 8, 0)));
    } else if (ip[9] == TAS_IPPROTO_ICMP && l4len >= 4) {
        put_cksum(l4, l4len, 2, 0);
    }
}

/* The slow path's view of an exception frame. */
static void slow_path(uint8_t *fr, size_t len)
{
    struct sp_pkt p;
    int rc = sp_frame_parse_tcp(fr, len, &p);
    if (rc == 0) {
        check(p.opts >= fr && p.opts + p.opt_len <= fr + len, "sp options inside frame");
        struct cm_tcp_opts o;
        if (cm_tcp_opts_parse(p.opts, p.opt_len, &o) == 0) {
            /* What listen.c answers a SYN with. */
            uint8_t syn[FP_TCPOPT_SYN_MAX];
            size_t n = cm_tcp_opts_write_syn(syn, &o);
            check(n <= FP_TCPOPT_SYN_MAX && n % 4 == 0, "SYN options fit");
            struct cm_tcp_opts back;
            check(cm_tcp_opts_parse(syn, n, &back) == 0, "our SYN options parse");
        }
    } else if (rc == -EPROTONOSUPPORT) {
        (void)sp_icmp_echo_reply(fr, len, OUR_IP, our_mac); /* rewrites in place */
    } else {
        struct sp_arp_table t;
        uint8_t reply[SP_ARP_FRAME_LEN];
        if (sp_arp_init(&t, 4, 1000) == 0) {
            (void)sp_arp_input(&t, fr, len, OUR_IP, our_mac, 1, reply, sizeof(reply),
                               NULL, NULL);
            sp_arp_fini(&t, NULL, NULL);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < FZ_CTRL)
        return 0;
    const uint8_t *ctl = data;
    size_t pos = FZ_CTRL;
    struct fz_flow z = {.up = false};
    enum fp_cksum_hint hint = (ctl[0] & 0x20)   ? FP_CK_GOOD
                              : (ctl[0] & 0x40) ? FP_CK_BAD
                                                : FP_CK_UNKNOWN;

    for (int i = 0; i < FZ_MAX_FRAMES && pos + 2 <= size; i++) {
        size_t len = (size_t)data[pos] << 8 | data[pos + 1];
        pos += 2;
        if (len > size - pos)
            len = size - pos;
        uint8_t *fr = malloc(len ? len : 1);
        if (fr == NULL)
            abort();
        memcpy(fr, data + pos, len);
        pos += len;
        if (ctl[0] & 0x01)
            fix_cksums(fr, len);

        struct fp_frame c;
        enum fp_verdict v =
            fp_classify(fr, (uint32_t)len, our_mac, OUR_IP, hint, hint, &c);
        check(v <= FP_V_TCP, "verdict");
        check(c.reason < FP_RX_N, "reason");
        if (v == FP_V_DROP || v == FP_V_IGNORE) {
            check(c.reason != FP_RX_OK && fp_rx_reason_kind(c.reason) != FP_RX_KIND_NOTE,
                  "a drop has a reason");
        } else if (v == FP_V_TCP) {
            check((const uint8_t *)c.th + c.doff <= fr + len, "TCP header inside frame");
            struct fp_seg s;
            if (fp_classify_seg(&c, &s) == 0) {
                check(s.data >= fr && s.data + s.len <= fr + len, "payload inside frame");
                bool established = (ctl[0] & 0x02) &&
                                   !(s.flags & (TAS_TCP_SYN | TAS_TCP_RST)) &&
                                   (s.flags & TAS_TCP_ACK);
                if (established) {
                    if (!z.up)
                        flow_setup(&z, ctl, &s);
                    struct fp_rx_result r;
                    fp_rx_segment(&z.f, &z.x, &s, (uint64_t)i * 1000, &r);
                    flow_check(&z, &r, &s);
                } else {
                    slow_path(fr, len);
                }
            }
        } else {
            slow_path(fr, len); /* ARP, ICMP, other IPv4 */
        }
        free(fr);
    }
    if (z.up) {
        free(z.rx);
        free(z.tx);
    }
    return 0;
}
