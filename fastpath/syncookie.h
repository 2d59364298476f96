/* syncookie.h - SYN cookies (RFC 4987 3.6) and the keyed hash under them
 * (SipHash-2-4), shared by the fast path, which answers the SYNs of a
 * flooded listener itself (fastpath/syn.c), and the slow path, which
 * checks the cookie when the handshake's ACK comes back and makes ISNs with
 * the same hash (slowpath/isn.c).  Pure C, no DPDK; unit-tested.
 *
 * Cookie layout: 5 bits of a 64-second counter, 3 bits of MSS index, 24
 * bits of SipHash over the connection, the peer's ISN and the counter.
 * Both sides must read the same clock: the fast path's (fp_now_us() / 1000).
 */
#ifndef FP_SYNCOOKIE_H
#define FP_SYNCOOKIE_H

#include <stddef.h>
#include <stdint.h>

/* SipHash-2-4 of a short message under a 16-byte key. */
uint64_t fp_siphash24(const uint8_t key[16], const uint8_t *m, size_t len);

/* The ISS of a SYN-ACK sent without keeping state, encoding the peer's MSS
 * (rounded down to one of 8 values) and the 64-second counter of now_ms.
 * Addresses and ports in network order. */
uint32_t fp_syncookie_make(const uint8_t key[16], uint32_t lip, uint32_t rip,
                           uint16_t lport, uint16_t rport, uint32_t peer_isn,
                           uint16_t peer_mss, uint64_t now_ms);

/* The handshake's ACK carries cookie + 1: 0 and the MSS if the cookie is
 * ours and at most 2 periods old (64 to 128 s), else -1. */
int fp_syncookie_check(const uint8_t key[16], uint32_t lip, uint32_t rip, uint16_t lport,
                       uint16_t rport, uint32_t peer_isn, uint32_t cookie, uint64_t now_ms,
                       uint16_t *mss);

#endif /* FP_SYNCOOKIE_H */
