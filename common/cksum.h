/* cksum.h - the Internet checksum (RFC 1071), the one implementation the
 * fast path, the slow path, their unit tests and the fuzzer share.
 *
 * Words are summed in host order, as DPDK's rte_raw_cksum() does: the one's
 * complement sum does not depend on byte order, so the folded result,
 * stored with memcpy, is the checksum in network order.  DPDK's own
 * (rte_ipv4_cksum, rte_ipv4_udptcp_cksum) build the frames that leave
 * through an mbuf (fastpath/tx.c); this one serves code on plain buffers
 * that must build without DPDK (fastpath/classify.h, slowpath/frame.c and
 * icmp.c).
 */
#ifndef CM_CKSUM_H
#define CM_CKSUM_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* sum + the 16-bit words of n bytes (an odd last byte padded with zero). */
static inline uint32_t cm_cksum_add(const void *buf, size_t n, uint32_t sum)
{
    const uint8_t *p = buf;
    const size_t even = n & ~(size_t)1;
    for (size_t i = 0; i < even; i += 2) {
        uint16_t v;
        memcpy(&v, p + i, 2);
        sum += v;
    }
    if (n & 1) {
        uint16_t left = 0;
        memcpy(&left, p + even, 1);
        sum += left;
    }
    return sum;
}

/* The sum folded to 16 bits (0xffff: the data with its checksum is good). */
static inline uint16_t cm_cksum_fold(uint32_t sum)
{
    sum = (sum >> 16) + (sum & 0xffff);
    sum += sum >> 16;
    return (uint16_t)sum;
}

/* The checksum of n bytes whose checksum field is zero, or over the data
 * and its checksum: 0 when that is good.  Store it with memcpy. */
static inline uint16_t cm_cksum(const void *buf, size_t n, uint32_t sum)
{
    return (uint16_t)~cm_cksum_fold(cm_cksum_add(buf, n, sum));
}

/* The IPv4 pseudo header of a TCP/UDP segment: addrs points at the IPv4
 * header's source and destination (8 bytes), l4len is the segment's bytes. */
static inline uint32_t cm_cksum_pseudo4(const void *addrs, uint8_t proto, uint32_t l4len)
{
    const uint8_t b[4] = {0, proto, (uint8_t)(l4len >> 8), (uint8_t)l4len};
    return cm_cksum_add(b, 4, cm_cksum_add(addrs, 8, 0));
}

#endif /* CM_CKSUM_H */
