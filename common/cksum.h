/* cksum.h - the Internet checksum (RFC 1071), the one implementation the
 * fast path, the slow path, their unit tests and the fuzzer share.
 *
 * Words are summed in host order, as DPDK's rte_raw_cksum() does: the one's
 * complement sum does not depend on byte order, so the folded result,
 * stored with memcpy, is the checksum in network order.  It serves code on
 * plain buffers that must build without DPDK (fastpath/classify.h,
 * slowpath/frame.c and icmp.c) and the frames the fast path sends when the
 * port does not offload checksums (fastpath/tx.c).
 *
 * Eight bytes a step, as 32-bit words into a 64-bit sum: a 32-bit word is
 * its two 16-bit words times 65536 and 1, and 65536 is 1 modulo 0xffff, so
 * the folded result is the 16-bit one's complement sum, bit for bit (0 only
 * for a zero sum), in a quarter of the steps of DPDK's word-by-word loop
 * (which callgrind showed as a tenth of the fast path's instructions per
 * small RPC).
 */
#ifndef CM_CKSUM_H
#define CM_CKSUM_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* sum + the 16-bit words of n bytes (an odd last byte padded with zero),
 * congruent modulo 0xffff (cm_cksum_fold() gives the same 16 bits). */
static inline uint32_t cm_cksum_add(const void *buf, size_t n, uint32_t sum)
{
    const uint8_t *p = buf;
    uint64_t acc = sum;
    for (; n >= 8; p += 8, n -= 8) {
        uint32_t a, b;
        memcpy(&a, p, 4);
        memcpy(&b, p + 4, 4);
        acc += (uint64_t)a + b;
    }
    if (n >= 4) {
        uint32_t a;
        memcpy(&a, p, 4);
        acc += a;
        p += 4;
        n -= 4;
    }
    if (n >= 2) {
        uint16_t v;
        memcpy(&v, p, 2);
        acc += v;
        p += 2;
        n -= 2;
    }
    if (n != 0) {
        uint16_t left = 0;
        memcpy(&left, p, 1);
        acc += left;
    }
    acc = (acc >> 32) + (acc & 0xffffffffu); /* end-around carries */
    acc = (acc >> 32) + (acc & 0xffffffffu);
    return (uint32_t)acc;
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
