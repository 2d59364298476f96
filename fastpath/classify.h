/* classify.h - the verdict on one received frame, as a pure function on
 * plain bytes (no DPDK types), so that the unit tests and the fuzzer run
 * exactly the checks the fast path runs.
 *
 * fp_classify() walks Ethernet, IPv4 and TCP and says what the frame is:
 * ARP or other IPv4 (the slow path's), a TCP segment for us (with pointers
 * to its headers), not for us (ignored), or malformed (dropped).  Every
 * frame that is not passed on gets one reason from FP_RX_REASONS; the
 * caller (fastpath/input.c) counts it per core and frees the frame.
 * fp_classify_seg() turns a classified TCP segment into the struct fp_seg
 * that fastpath/rx.c processes, parsing its options (timestamps, SACK).
 *
 * Policy, after Linux: IP options are skipped (the TCP header starts at
 * ihl * 4; counted as ip_opts, not dropped); fragments are not reassembled
 * (dropped: tasd always sends DF and a peer that fragments TCP is broken or
 * hostile); a TCP option whose length byte is 0 or 1 or runs past the
 * header drops the segment (only where options are parsed: on segments of
 * installed flows here, on SYN and SYN-ACK in the slow path).
 *
 * Inline: it runs on every received frame.  The software checksum is
 * common/cksum.h's, the same sum as DPDK's rte_raw_cksum().
 */
#ifndef FP_CLASSIFY_H
#define FP_CLASSIFY_H

#include <assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "common/proto.h"
#include "common/cksum.h"
#include "fastpath/rx.h"
#include "common/tcp_opts.h"

#ifndef likely
#define likely(x)   __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#endif

/* Why a frame was not passed on (or, for ip_opts, what was noted about
 * it), one counter each per core (struct fp_core.rx_reason), named in
 * tasctl stats.  X(id, name, kind): kind BAD counts into drops_bad, IGN
 * into rx_ignored, NOTE into neither (the frame went on). */
#define FP_RX_REASONS(X)                                                                 \
    X(NONLINEAR, "nonlinear", BAD)     /* mbuf chain: the port gave several segments */  \
    X(ETH_TRUNC, "eth_trunc", BAD)     /* shorter than an Ethernet header */             \
    X(IP_TRUNC, "ip_trunc", BAD)       /* shorter than a 20-byte IPv4 header */          \
    X(IP_VERSION, "ip_version", BAD)   /* ethertype IPv4, version not 4 */               \
    X(IP_HLEN, "ip_hlen", BAD)         /* ihl < 5 */                                     \
    X(IP_LEN, "ip_len", BAD)           /* total length < ihl * 4 or beyond the frame */  \
    X(IP_FRAG, "ip_frag", BAD)         /* MF set or fragment offset != 0 */              \
    X(IP_CKSUM, "ip_cksum", BAD)       /* IPv4 header checksum */                        \
    X(ICMP_CKSUM, "icmp_cksum", BAD)   /* ICMP checksum */                               \
    X(TCP_TRUNC, "tcp_trunc", BAD)     /* IP payload shorter than a TCP header */        \
    X(TCP_DOFF, "tcp_doff", BAD)       /* data offset < 5 or beyond the IP payload */    \
    X(TCP_CKSUM, "tcp_cksum", BAD)     /* TCP checksum */                                \
    X(TCP_OPTS, "tcp_opts", BAD)       /* option length 0/1 or past the header */        \
    X(TCP_NOACK, "tcp_noack", BAD)     /* installed flow, no ACK, SYN or RST */          \
    X(NOT_OUR_MAC, "not_our_mac", IGN) /* unicast to another MAC */                      \
    X(NOT_OUR_IP, "not_our_ip", IGN)   /* IPv4 to another address */                     \
    X(ETHERTYPE, "ethertype", IGN)     /* neither IPv4 nor ARP (IPv6, VLAN, ...) */      \
    X(IP_OPTS, "ip_opts", NOTE)        /* IPv4 options present: skipped, accepted */

enum fp_rx_reason {
    FP_RX_OK = 0,
#define FP_RX_ENUM(id, name, kind) FP_RX_##id,
    FP_RX_REASONS(FP_RX_ENUM)
#undef FP_RX_ENUM
        FP_RX_N
};

static_assert(FP_RX_N <= FP_RX_REASON_MAX, "struct fp_core.rx_reason has room");

enum fp_rx_kind { FP_RX_KIND_BAD, FP_RX_KIND_IGN, FP_RX_KIND_NOTE };

/* Name and kind of a reason (1 .. FP_RX_N - 1). */
static inline const char *fp_rx_reason_name(unsigned r)
{
    static const char *const names[FP_RX_N] = {[FP_RX_OK] = "ok",
#define FP_RX_NAME(id, name, kind) [FP_RX_##id] = name,
                                               FP_RX_REASONS(FP_RX_NAME)
#undef FP_RX_NAME
    };
    return r < FP_RX_N ? names[r] : "?";
}

static inline enum fp_rx_kind fp_rx_reason_kind(unsigned r)
{
    static const unsigned char kinds[FP_RX_N] = {[FP_RX_OK] = FP_RX_KIND_NOTE,
#define FP_RX_KIND(id, name, kind) [FP_RX_##id] = FP_RX_KIND_##kind,
                                                 FP_RX_REASONS(FP_RX_KIND)
#undef FP_RX_KIND
    };
    return r < FP_RX_N ? (enum fp_rx_kind)kinds[r] : FP_RX_KIND_BAD;
}

/* Count a frame by its reason: its own counter, and drops_bad (bad) or
 * rx_ignored (ign) by its kind. */
static inline void fp_rx_count(uint64_t *reason_ctrs, uint64_t *bad, uint64_t *ign,
                               unsigned reason)
{
    reason_ctrs[reason]++;
    enum fp_rx_kind k = fp_rx_reason_kind(reason);
    if (k == FP_RX_KIND_BAD)
        (*bad)++;
    else if (k == FP_RX_KIND_IGN)
        (*ign)++;
}

/* What fp_classify() decided. */
enum fp_verdict {
    FP_V_DROP = 0, /* malformed: count reason in drops_bad, free */
    FP_V_IGNORE,   /* not for us: count reason in rx_ignored, free */
    FP_V_ARP,      /* ARP: to the slow path */
    FP_V_IP,       /* IPv4 for us, not TCP, sane: to the slow path */
    FP_V_TCP,      /* TCP for us, sane: look up the flow */
};

/* Checksum verdict of the port (rx offload), or none. */
enum fp_cksum_hint { FP_CK_UNKNOWN = 0, FP_CK_GOOD, FP_CK_BAD };

/* A classified frame.  Pointers into the frame. */
struct fp_frame {
    const struct tas_ip_hdr *ip;
    const struct tas_tcp_hdr *th; /* FP_V_TCP */
    uint32_t ihl;                 /* IP header bytes (20 .. 60) */
    uint32_t l4len;               /* IP payload bytes (total length - ihl) */
    uint32_t doff;                /* FP_V_TCP: TCP header bytes (20 .. 60) */
    uint16_t reason;              /* FP_RX_*: why (DROP/IGNORE), or a note */
};

/* Is the IPv4 header checksum (over ihl bytes) good? */
static inline bool fp_ip_cksum_ok(const struct tas_ip_hdr *ip, uint32_t ihl)
{
    return cm_cksum_fold(cm_cksum_add(ip, ihl, 0)) == 0xffff;
}

/* Is the TCP checksum (pseudo header + l4len bytes at th) good? */
static inline bool fp_tcp_cksum_ok(const struct tas_ip_hdr *ip, const void *th,
                                   uint32_t l4len)
{
    uint32_t sum = cm_cksum_pseudo4(&ip->src, TAS_IPPROTO_TCP, l4len);
    return cm_cksum_fold(cm_cksum_add(th, l4len, sum)) == 0xffff;
}

static inline enum fp_verdict fp_rx_drop(struct fp_frame *fr, unsigned reason)
{
    fr->reason = (uint16_t)reason;
    return FP_V_DROP;
}

static inline enum fp_verdict fp_rx_ignore(struct fp_frame *fr, unsigned reason)
{
    fr->reason = (uint16_t)reason;
    return FP_V_IGNORE;
}

/* Classify a contiguous frame of len bytes received by a port with MAC mac
 * and IPv4 address local_ip (network order).  ip_ck/l4_ck: the port's
 * checksum verdicts (FP_CK_UNKNOWN: check in software).  Fills *fr. */
static inline enum fp_verdict fp_classify(const uint8_t *frame, uint32_t len,
                                          const uint8_t mac[6], uint32_t local_ip,
                                          enum fp_cksum_hint ip_ck,
                                          enum fp_cksum_hint l4_ck, struct fp_frame *fr)
{
    static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

    fr->reason = FP_RX_OK;
    if (unlikely(len < sizeof(struct tas_eth_hdr)))
        return fp_rx_drop(fr, FP_RX_ETH_TRUNC);
    const struct tas_eth_hdr *eth = (const struct tas_eth_hdr *)frame;
    if (unlikely(memcmp(eth->dst, mac, 6) != 0 && memcmp(eth->dst, bcast, 6) != 0))
        return fp_rx_ignore(fr, FP_RX_NOT_OUR_MAC);
    uint16_t type = (uint16_t)(frame[12] << 8 | frame[13]);
    if (unlikely(type != TAS_ETHERTYPE_IPV4)) {
        if (type == TAS_ETHERTYPE_ARP)
            return FP_V_ARP;
        return fp_rx_ignore(fr, FP_RX_ETHERTYPE);
    }

    /* IPv4 */
    const struct tas_ip_hdr *ip = (const struct tas_ip_hdr *)(eth + 1);
    uint32_t l3len = len - (uint32_t)sizeof(*eth);
    fr->ip = ip;
    if (unlikely(l3len < sizeof(*ip)))
        return fp_rx_drop(fr, FP_RX_IP_TRUNC);
    uint32_t ihl = (uint32_t)(ip->ver_ihl & 0x0f) * 4;
    const uint8_t *ipb = (const uint8_t *)ip;
    uint32_t tot = (uint32_t)(ipb[2] << 8 | ipb[3]);
    if (unlikely((ip->ver_ihl >> 4) != 4))
        return fp_rx_drop(fr, FP_RX_IP_VERSION);
    if (unlikely(ihl < sizeof(*ip)))
        return fp_rx_drop(fr, FP_RX_IP_HLEN);
    if (unlikely(tot < ihl || tot > l3len))
        return fp_rx_drop(fr, FP_RX_IP_LEN);
    fr->ihl = ihl;
    fr->l4len = tot - ihl;
    uint32_t dst;
    memcpy(&dst, &ip->dst, 4);
    if (unlikely(dst != local_ip))
        return fp_rx_ignore(fr, FP_RX_NOT_OUR_IP);
    if (unlikely((ipb[6] << 8 | ipb[7]) & (TAS_IP_MF | TAS_IP_OFFMASK)))
        return fp_rx_drop(fr, FP_RX_IP_FRAG);
    if (unlikely(ip_ck == FP_CK_BAD ||
                 (ip_ck == FP_CK_UNKNOWN && !fp_ip_cksum_ok(ip, ihl))))
        return fp_rx_drop(fr, FP_RX_IP_CKSUM);
    if (unlikely(ihl > sizeof(*ip)))
        fr->reason = FP_RX_IP_OPTS; /* a note: the frame goes on */
    const uint8_t *l4 = ipb + ihl;
    if (unlikely(ip->proto != TAS_IPPROTO_TCP)) {
        if (ip->proto == TAS_IPPROTO_ICMP &&
            cm_cksum_fold(cm_cksum_add(l4, fr->l4len, 0)) != 0xffff)
            return fp_rx_drop(fr, FP_RX_ICMP_CKSUM);
        return FP_V_IP;
    }

    /* TCP */
    const struct tas_tcp_hdr *th = (const struct tas_tcp_hdr *)l4;
    if (unlikely(fr->l4len < sizeof(*th)))
        return fp_rx_drop(fr, FP_RX_TCP_TRUNC);
    uint32_t doff = (uint32_t)(th->off >> 4) * 4;
    if (unlikely(doff < sizeof(*th) || doff > fr->l4len))
        return fp_rx_drop(fr, FP_RX_TCP_DOFF);
    if (unlikely(l4_ck == FP_CK_BAD ||
                 (l4_ck == FP_CK_UNKNOWN && !fp_tcp_cksum_ok(ip, th, fr->l4len))))
        return fp_rx_drop(fr, FP_RX_TCP_CKSUM);
    fr->th = th;
    fr->doff = doff;
    return FP_V_TCP;
}

/* The segment of a classified TCP frame (FP_V_TCP) as fastpath/rx.c takes
 * it: fields in host order, timestamps from its options.  0, or
 * FP_RX_TCP_OPTS when the options are malformed (drop the segment). */
static inline unsigned fp_classify_seg(const struct fp_frame *fr, struct fp_seg *s)
{
    const struct tas_tcp_hdr *th = fr->th;
    const uint8_t *tb = (const uint8_t *)th;
    uint32_t optlen = fr->doff - (uint32_t)sizeof(*th);
    const uint8_t *opt = tb + sizeof(*th);

    s->has_ts = false;
    s->n_sack = 0;
    if (optlen > 0 && !cm_tcp_opts_ts_fast(opt, optlen, &s->ts_val, &s->ts_ecr)) {
        struct cm_tcp_opts o;
        if (unlikely(cm_tcp_opts_parse(opt, optlen, &o) != 0))
            return FP_RX_TCP_OPTS;
        s->has_ts = o.has_ts;
        s->ts_val = o.ts_val;
        s->ts_ecr = o.ts_ecr;
        s->n_sack = o.n_sack;
        memcpy(s->sack_start, o.sack_start, sizeof(s->sack_start));
        memcpy(s->sack_end, o.sack_end, sizeof(s->sack_end));
    } else if (optlen > 0) {
        s->has_ts = true;
    }
    s->seq = (uint32_t)tb[4] << 24 | (uint32_t)tb[5] << 16 | (uint32_t)tb[6] << 8 | tb[7];
    s->ack =
        (uint32_t)tb[8] << 24 | (uint32_t)tb[9] << 16 | (uint32_t)tb[10] << 8 | tb[11];
    s->win = (uint16_t)(tb[14] << 8 | tb[15]);
    s->flags = th->flags;
    s->ce = (fr->ip->tos & 0x03) == 0x03; /* ECN field CE */
    s->data = tb + fr->doff;
    s->len = fr->l4len - fr->doff;
    return 0;
}

#endif /* FP_CLASSIFY_H */
