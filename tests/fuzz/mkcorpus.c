/* mkcorpus.c - writes the fuzzer's seed corpus (tests/fuzz/corpus/): one
 * file per interesting case, in fuzz_rx.c's input format (control block,
 * then length-prefixed frames).  Valid SYN, SYN-ACK, data with timestamps
 * and SACK, in-order and out-of-order sequences, FIN, RST, ping, ARP, and
 * each malformed kind that fastpath/classify.h counts.  The corpus is
 * committed; rerun by hand after changing the format:
 *   make tests/fuzz/mkcorpus && tests/fuzz/mkcorpus $(srcdir)/tests/fuzz/corpus
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/test_frames.h"

/* Frames of the control block's flow (see fuzz_rx.c): */
#define CTL_CKSUM 0x01
#define CTL_FLOW  0x02
#define CTL_TS    0x04
#define CTL_SACK  0x80

static const char *dir;
static uint8_t out[8 * (TF_MAX + 2) + 8];
static size_t out_len;

static void begin(uint8_t ctl0)
{
    memset(out, 0, 8);
    out[0] = ctl0;
    out[5] = 127; /* 128-byte rx ring */
    out[6] = 128; /* all free */
    out_len = 8;
}

static void add(const uint8_t *f, size_t n)
{
    out[out_len++] = (uint8_t)(n >> 8);
    out[out_len++] = (uint8_t)n;
    memcpy(out + out_len, f, n);
    out_len += n;
}

static void save(const char *name)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *fp = fopen(path, "wb");
    if (fp == NULL || fwrite(out, 1, out_len, fp) != out_len || fclose(fp) != 0) {
        fprintf(stderr, "mkcorpus: %s: %s\n", path, strerror(errno));
        exit(1);
    }
}

static const uint8_t syn_opts[20] = {2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0,
                                     0, 9, 0,    0,    0, 0, 1, 3,  3, 7};
static const uint8_t ts_opts[12] = {1, 1, 8, 10, 0, 0, 0, 10, 0, 0, 0, 5};
static const uint8_t sack_opts[24] = {1, 1, 8, 10, 0, 0, 0,    11,   0, 0, 0,    5,
                                      1, 1, 5, 10, 0, 0, 0x13, 0x88, 0, 0, 0x13, 0x98};
static const uint8_t data64[64] =
    "0123456789abcdef0123456789abcdef0123456789abcdef012345678";
static uint8_t big[1448];

static size_t seg(uint8_t *f, uint8_t flags, uint32_t seq, const uint8_t *opt,
                  size_t optlen, size_t plen)
{
    struct tf_spec s = {.flags = flags,
                        .seq = seq,
                        .ack = 2000,
                        .win = 1024,
                        .tcpopt = opt,
                        .tcpopt_len = optlen,
                        .payload = data64,
                        .payload_len = plen};
    return tf_build(f, &s);
}

/* One malformed frame: a good data segment with one mutation. */
static void bad(const char *name, void (*mut)(uint8_t *f, size_t *n))
{
    uint8_t f[TF_MAX];
    size_t n = seg(f, TAS_TCP_ACK, 1000, ts_opts, sizeof(ts_opts), 32);
    mut(f, &n);
    begin(CTL_FLOW | CTL_TS);
    add(f, n);
    save(name);
}

#define IPB(o)  f[TF_IP + (o)]
#define TCPB(o) f[TF_IP + 20 + (o)]
static void m_eth_trunc(uint8_t *f, size_t *n)
{
    (void)f;
    *n = 10;
}
static void m_ip_trunc(uint8_t *f, size_t *n)
{
    (void)f;
    *n = TF_IP + 12;
}
static void m_ip_version(uint8_t *f, size_t *n)
{
    IPB(0) = 0x65;
    tf_recksum(f, *n);
}
static void m_ip_hlen(uint8_t *f, size_t *n)
{
    (void)n;
    IPB(0) = 0x43;
}
static void m_ip_len(uint8_t *f, size_t *n)
{
    (void)f;
    *n -= 3;
}
static void m_ip_frag_mf(uint8_t *f, size_t *n)
{
    IPB(6) = 0x20;
    tf_recksum(f, *n);
}
static void m_ip_frag_off(uint8_t *f, size_t *n)
{
    IPB(6) = 0;
    IPB(7) = 0x40;
    tf_recksum(f, *n);
}
static void m_ip_cksum(uint8_t *f, size_t *n)
{
    (void)n;
    IPB(10) ^= 0xff;
}
static void m_tcp_cksum(uint8_t *f, size_t *n)
{
    f[*n - 1] ^= 0x5a;
}
static void m_tcp_trunc(uint8_t *f, size_t *n)
{
    (void)n;
    IPB(2) = 0;
    IPB(3) = 30;
    tf_ip_recksum(f);
}
static void m_doff_small(uint8_t *f, size_t *n)
{
    TCPB(12) = 0x30;
    tf_recksum(f, *n);
}
static void m_doff_big(uint8_t *f, size_t *n)
{
    TCPB(12) = 0xf0;
    *n = TF_IP + 20 + 40;
    IPB(2) = 0;
    IPB(3) = 60;
    tf_recksum(f, *n);
}
static void m_opt_zero(uint8_t *f, size_t *n)
{
    TCPB(23) = 0;
    tf_recksum(f, *n);
}
static void m_opt_past(uint8_t *f, size_t *n)
{
    TCPB(23) = 40;
    tf_recksum(f, *n);
}
static void m_not_our_ip(uint8_t *f, size_t *n)
{
    IPB(19) = 77;
    tf_recksum(f, *n);
}
static void m_not_our_mac(uint8_t *f, size_t *n)
{
    (void)n;
    f[0] = 0x04;
}
static void m_ipv6(uint8_t *f, size_t *n)
{
    (void)n;
    f[12] = 0x86;
    f[13] = 0xdd;
}
static void m_no_ack(uint8_t *f, size_t *n)
{
    TCPB(13) = TAS_TCP_PSH;
    tf_recksum(f, *n);
}

int main(int argc, char **argv)
{
    uint8_t f[TF_MAX], g[TF_MAX];
    size_t n, m;

    if (argc != 2) {
        fprintf(stderr, "usage: mkcorpus DIR\n");
        return 2;
    }
    dir = argv[1];

    n = seg(f, TAS_TCP_SYN, 999, syn_opts, sizeof(syn_opts), 0);
    begin(0);
    add(f, n);
    save("syn");
    n = seg(f, TAS_TCP_SYN | TAS_TCP_ACK, 999, syn_opts, sizeof(syn_opts), 0);
    begin(0);
    add(f, n);
    save("syn_ack");

    begin(CTL_FLOW | CTL_TS);
    n = seg(f, TAS_TCP_ACK | TAS_TCP_PSH, 1000, ts_opts, sizeof(ts_opts), 32);
    add(f, n);
    save("data_ts");

    /* A full-sized segment (MSS 1448 with timestamps): into a 128-byte
     * window, so trimmed. */
    {
        for (size_t i = 0; i < sizeof(big); i++)
            big[i] = (uint8_t)(i * 13);
        struct tf_spec s = {.flags = TAS_TCP_ACK | TAS_TCP_PSH,
                            .seq = 1000,
                            .ack = 2000,
                            .win = 1024,
                            .tcpopt = ts_opts,
                            .tcpopt_len = sizeof(ts_opts),
                            .payload = big,
                            .payload_len = sizeof(big)};
        begin(CTL_FLOW | CTL_TS);
        add(f, tf_build(f, &s));
        save("data_full_mss");
    }

    begin(CTL_FLOW | CTL_TS | CTL_SACK);
    n = seg(f, TAS_TCP_ACK, 1000, sack_opts, sizeof(sack_opts), 16);
    add(f, n);
    save("data_sack");

    /* We send, the peer SACKs two ranges of our 100 bytes in flight
     * (SND.UNA 2000): recovery resends the holes. */
    {
        static const uint8_t sack2[20] = {1,    1,    5, 18,   0,    0,   0x07,
                                          0xe4, 0,    0, 0x07, 0xf8, 0,   0,
                                          0x08, 0x0c, 0, 0,    0x08, 0x20};
        begin(CTL_FLOW | CTL_SACK);
        out[2] = 0;
        out[3] = 100;
        n = seg(f, TAS_TCP_ACK, 1000, sack2, sizeof(sack2), 0);
        for (int i = 0; i < 4; i++)
            add(f, n);
        save("sack_recovery");
    }

    /* Out of order, then the gap: the held interval merges. */
    begin(CTL_FLOW | CTL_TS);
    n = seg(f, TAS_TCP_ACK, 1000, ts_opts, sizeof(ts_opts), 16);
    m = seg(g, TAS_TCP_ACK, 1016, ts_opts, sizeof(ts_opts), 16);
    add(g, m);
    add(f, n);
    m = seg(g, TAS_TCP_ACK | TAS_TCP_FIN, 1032, ts_opts, sizeof(ts_opts), 8);
    add(g, m);
    save("ooo_then_gap_fin");

    /* Plain ACKs: duplicate ACKs up to fast retransmit. */
    begin(CTL_FLOW);
    out[2] = 0;   /* SND.UNA = the ACK field */
    out[3] = 100; /* 100 bytes in flight */
    n = seg(f, TAS_TCP_ACK, 1000, NULL, 0, 0);
    for (int i = 0; i < 4; i++)
        add(f, n);
    save("dupacks");

    begin(CTL_FLOW);
    n = seg(f, TAS_TCP_RST | TAS_TCP_ACK, 1000, NULL, 0, 0);
    add(f, n);
    save("rst");

    /* IP options (skipped) on a data segment. */
    {
        static const uint8_t ipopt[8] = {0x94, 4, 0, 0, 1, 1, 1, 0};
        struct tf_spec s = {.flags = TAS_TCP_ACK,
                            .seq = 1000,
                            .ack = 2000,
                            .win = 1,
                            .ipopt = ipopt,
                            .ipopt_len = 8,
                            .tcpopt = ts_opts,
                            .tcpopt_len = sizeof(ts_opts),
                            .payload = data64,
                            .payload_len = 20};
        begin(CTL_FLOW | CTL_TS);
        add(f, tf_build(f, &s));
        save("ip_options");
    }

    /* Ping and ARP for the slow path. */
    n = seg(f, TAS_TCP_ACK, 1000, NULL, 0, 24);
    f[TF_IP + 9] = TAS_IPPROTO_ICMP;
    f[TF_IP + 20] = 8; /* echo request */
    f[TF_IP + 21] = 0;
    begin(CTL_CKSUM);
    add(f, n);
    save("icmp_echo");
    memset(f, 0, 60);
    memset(f, 0xff, 6);
    memcpy(f + 6, tf_peer_mac, 6);
    f[12] = 0x08, f[13] = 0x06;
    const uint8_t arp[28] = {0,  1, 8, 0, 6, 4, 0, 1, 2, 0, 0,  0, 0, 1,
                             10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 10, 0, 0, 2};
    memcpy(f + 14, arp, sizeof(arp));
    begin(0);
    add(f, 60);
    save("arp_request");

    bad("bad_eth_trunc", m_eth_trunc);
    bad("bad_ip_trunc", m_ip_trunc);
    bad("bad_ip_version", m_ip_version);
    bad("bad_ip_hlen", m_ip_hlen);
    bad("bad_ip_len", m_ip_len);
    bad("bad_ip_frag_mf", m_ip_frag_mf);
    bad("bad_ip_frag_off", m_ip_frag_off);
    bad("bad_ip_cksum", m_ip_cksum);
    bad("bad_tcp_cksum", m_tcp_cksum);
    bad("bad_tcp_trunc", m_tcp_trunc);
    bad("bad_tcp_doff_small", m_doff_small);
    bad("bad_tcp_doff_big", m_doff_big);
    bad("bad_tcp_opt_len0", m_opt_zero);
    bad("bad_tcp_opt_past_header", m_opt_past);
    bad("ign_not_our_ip", m_not_our_ip);
    bad("ign_not_our_mac", m_not_our_mac);
    bad("ign_ipv6", m_ipv6);
    bad("bad_no_ack", m_no_ack);
    return 0;
}
