/* test_frames.h - build Ethernet/IPv4/TCP frames byte by byte for the
 * tests of the receive path (test_classify.c) and the fuzzer's seed corpus
 * (tests/fuzz/mkcorpus.c): a well-formed segment from the peer to us, with
 * optional IP options, TCP options and payload, checksums filled by
 * slowpath/frame.c's independent software implementation.  Each malformed
 * kind is then one mutation of such a frame.
 */
#ifndef TEST_FRAMES_H
#define TEST_FRAMES_H

#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>

#include "common/proto.h"
#include "slowpath/tcp.h"

#define TF_OUR_IP    0x0200000a /* 10.0.0.2, network order on little-endian */
#define TF_PEER_IP   0x0100000a /* 10.0.0.1 */
#define TF_OUR_PORT  7000
#define TF_PEER_PORT 40000
#define TF_MAX       2048

static const uint8_t tf_our_mac[6] = {0x02, 0, 0, 0, 0, 0x02};
static const uint8_t tf_peer_mac[6] = {0x02, 0, 0, 0, 0, 0x01};

struct tf_spec {
    uint8_t flags; /* TAS_TCP_* */
    uint32_t seq, ack;
    uint16_t win;
    const uint8_t *ipopt; /* IP options (multiple of 4, <= 40) */
    size_t ipopt_len;
    const uint8_t *tcpopt; /* TCP options (multiple of 4, <= 40) */
    size_t tcpopt_len;
    const uint8_t *payload;
    size_t payload_len;
    uint8_t tos;
};

/* Offsets into a built frame. */
#define TF_IP 14
static inline size_t tf_tcp_off(const struct tf_spec *s)
{
    return TF_IP + 20 + s->ipopt_len;
}

/* Build the frame into buf (TF_MAX bytes); returns its length. */
static inline size_t tf_build(uint8_t *buf, const struct tf_spec *s)
{
    size_t ihl = 20 + s->ipopt_len, thl = 20 + s->tcpopt_len;
    size_t iplen = ihl + thl + s->payload_len;
    uint8_t *ip = buf + TF_IP, *th = ip + ihl;
    uint32_t a;
    uint16_t v;

    memset(buf, 0, TF_IP + iplen);
    memcpy(buf, tf_our_mac, 6);
    memcpy(buf + 6, tf_peer_mac, 6);
    buf[12] = 0x08;
    buf[13] = 0x00;
    ip[0] = (uint8_t)(0x40 | ihl / 4);
    ip[1] = s->tos;
    ip[2] = (uint8_t)(iplen >> 8);
    ip[3] = (uint8_t)iplen;
    ip[6] = 0x40; /* DF */
    ip[8] = 64;
    ip[9] = TAS_IPPROTO_TCP;
    a = TF_PEER_IP;
    memcpy(ip + 12, &a, 4);
    a = TF_OUR_IP;
    memcpy(ip + 16, &a, 4);
    if (s->ipopt_len)
        memcpy(ip + 20, s->ipopt, s->ipopt_len);
    v = htons(TF_PEER_PORT);
    memcpy(th, &v, 2);
    v = htons(TF_OUR_PORT);
    memcpy(th + 2, &v, 2);
    a = htonl(s->seq);
    memcpy(th + 4, &a, 4);
    a = htonl(s->ack);
    memcpy(th + 8, &a, 4);
    th[12] = (uint8_t)(thl / 4 << 4);
    th[13] = s->flags;
    v = htons(s->win);
    memcpy(th + 14, &v, 2);
    if (s->tcpopt_len)
        memcpy(th + 20, s->tcpopt, s->tcpopt_len);
    if (s->payload_len)
        memcpy(th + thl, s->payload, s->payload_len);
    sp_frame_cksum(buf, TF_IP + iplen);
    return TF_IP + iplen;
}

/* Recompute both checksums after a mutation (so that the mutation, not the
 * checksum, is what the receiver sees). */
static inline void tf_recksum(uint8_t *buf, size_t len)
{
    sp_frame_cksum(buf, len);
}

/* Recompute only the IPv4 header checksum (for frames too short for
 * sp_frame_cksum to touch). */
static inline void tf_ip_recksum(uint8_t *buf)
{
    uint8_t *ip = buf + TF_IP;
    size_t ihl = (size_t)(ip[0] & 0xf) * 4;
    uint32_t acc = 0;
    ip[10] = ip[11] = 0;
    for (size_t i = 0; i + 1 < ihl; i += 2)
        acc += (uint32_t)(ip[i] << 8 | ip[i + 1]);
    while (acc >> 16)
        acc = (acc & 0xffff) + (acc >> 16);
    ip[10] = (uint8_t)(~acc >> 8);
    ip[11] = (uint8_t)~acc;
}

#endif /* TEST_FRAMES_H */
