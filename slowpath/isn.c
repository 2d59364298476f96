/* isn.c - initial sequence numbers (RFC 6528) and window-scale choice
 * (SYN cookies: fastpath/syncookie.c).
 *
 * ISN = M + F(local ip, local port, remote ip, remote port, secret), with M
 * a clock ticking every 4 microseconds and F SipHash-2-4 keyed with a
 * random secret drawn at start.  Different 4-tuples get unrelated sequence
 * spaces; the same 4-tuple's ISNs still grow with time, which keeps
 * TIME_WAIT reuse and old duplicates apart.
 */
#include <string.h>

#include "fastpath/syncookie.h"
#include "slowpath/tcp.h"

uint32_t sp_tcp_isn(const uint8_t key[16], uint32_t lip, uint32_t rip, uint16_t lport,
                    uint16_t rport, uint64_t now_us)
{
    uint8_t m[12];
    memcpy(m, &lip, 4);
    memcpy(m + 4, &rip, 4);
    memcpy(m + 8, &lport, 2);
    memcpy(m + 10, &rport, 2);
    return (uint32_t)(now_us / 4) + (uint32_t)fp_siphash24(key, m, sizeof(m));
}

uint8_t sp_tcp_wscale_for(uint32_t bytes)
{
    uint8_t s = 0;
    while (s < TAS_TCP_MAX_WSCALE && (bytes >> s) > 65535)
        s++;
    return s;
}
