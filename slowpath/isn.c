/* isn.c - initial sequence numbers (RFC 6528), SYN cookies (RFC 4987 3.6)
 * and window-scale choice.
 *
 * ISN = M + F(local ip, local port, remote ip, remote port, secret), with M
 * a clock ticking every 4 microseconds and F SipHash-2-4 keyed with a
 * random secret drawn at start.  Different 4-tuples get unrelated sequence
 * spaces; the same 4-tuple's ISNs still grow with time, which keeps
 * TIME_WAIT reuse and old duplicates apart.
 */
#include <string.h>

#include "slowpath/tcp.h"

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

static void sipround(uint64_t v[4])
{
    v[0] += v[1];
    v[1] = ROTL(v[1], 13);
    v[1] ^= v[0];
    v[0] = ROTL(v[0], 32);
    v[2] += v[3];
    v[3] = ROTL(v[3], 16);
    v[3] ^= v[2];
    v[0] += v[3];
    v[3] = ROTL(v[3], 21);
    v[3] ^= v[0];
    v[2] += v[1];
    v[1] = ROTL(v[1], 17);
    v[1] ^= v[2];
    v[2] = ROTL(v[2], 32);
}

static uint64_t le64(const uint8_t *p)
{
    uint64_t x = 0;
    for (int i = 7; i >= 0; i--)
        x = (x << 8) | p[i];
    return x;
}

/* SipHash-2-4 of a short message. */
static uint64_t siphash24(const uint8_t key[16], const uint8_t *m, size_t len)
{
    uint64_t k0 = le64(key), k1 = le64(key + 8);
    uint64_t v[4] = {k0 ^ 0x736f6d6570736575ull, k1 ^ 0x646f72616e646f6dull,
                     k0 ^ 0x6c7967656e657261ull, k1 ^ 0x7465646279746573ull};
    size_t i;

    for (i = 0; i + 8 <= len; i += 8) {
        uint64_t w = le64(m + i);
        v[3] ^= w;
        sipround(v);
        sipround(v);
        v[0] ^= w;
    }
    uint8_t last[8] = {0};
    memcpy(last, m + i, len - i);
    uint64_t w = le64(last) | ((uint64_t)(len & 0xff) << 56);
    v[3] ^= w;
    sipround(v);
    sipround(v);
    v[0] ^= w;
    v[2] ^= 0xff;
    for (int r = 0; r < 4; r++)
        sipround(v);
    return v[0] ^ v[1] ^ v[2] ^ v[3];
}

uint32_t sp_tcp_isn(const uint8_t key[16], uint32_t lip, uint32_t rip, uint16_t lport,
                    uint16_t rport, uint64_t now_us)
{
    uint8_t m[12];
    memcpy(m, &lip, 4);
    memcpy(m + 4, &rip, 4);
    memcpy(m + 8, &lport, 2);
    memcpy(m + 10, &rport, 2);
    return (uint32_t)(now_us / 4) + (uint32_t)siphash24(key, m, sizeof(m));
}

uint8_t sp_tcp_wscale_for(uint32_t bytes)
{
    uint8_t s = 0;
    while (s < TAS_TCP_MAX_WSCALE && (bytes >> s) > 65535)
        s++;
    return s;
}

/* SYN cookie layout: 5 bits of a 64-second counter, 3 bits of MSS index,
 * 24 bits of SipHash over the connection, the peer's ISN and the counter. */
static const uint16_t cookie_mss[8] = {536, 1024, 1220, 1360, 1400, 1440, 1460, 8960};
#define COOKIE_PERIOD_MS 64000u

static uint32_t cookie_hash(const uint8_t key[16], uint32_t lip, uint32_t rip,
                            uint16_t lport, uint16_t rport, uint32_t peer_isn, uint32_t t)
{
    uint8_t m[20];
    memcpy(m, &lip, 4);
    memcpy(m + 4, &rip, 4);
    memcpy(m + 8, &lport, 2);
    memcpy(m + 10, &rport, 2);
    memcpy(m + 12, &peer_isn, 4);
    memcpy(m + 16, &t, 4);
    return (uint32_t)siphash24(key, m, sizeof(m)) & 0xffffffu;
}

uint32_t sp_syncookie_make(const uint8_t key[16], uint32_t lip, uint32_t rip,
                           uint16_t lport, uint16_t rport, uint32_t peer_isn,
                           uint16_t peer_mss, uint64_t now_ms)
{
    uint32_t t = (uint32_t)(now_ms / COOKIE_PERIOD_MS);
    uint32_t idx = 0;
    for (uint32_t i = 1; i < 8; i++)
        if (cookie_mss[i] <= peer_mss)
            idx = i;
    return (t & 31u) << 27 | idx << 24 |
           cookie_hash(key, lip, rip, lport, rport, peer_isn, t);
}

int sp_syncookie_check(const uint8_t key[16], uint32_t lip, uint32_t rip, uint16_t lport,
                       uint16_t rport, uint32_t peer_isn, uint32_t cookie, uint64_t now_ms,
                       uint16_t *mss)
{
    uint32_t now_t = (uint32_t)(now_ms / COOKIE_PERIOD_MS);
    for (uint32_t d = 0; d < 2 && d <= now_t; d++) {
        uint32_t t = now_t - d;
        if ((t & 31u) != cookie >> 27)
            continue;
        if (cookie_hash(key, lip, rip, lport, rport, peer_isn, t) != (cookie & 0xffffffu))
            return -1;
        *mss = cookie_mss[(cookie >> 24) & 7u];
        return 0;
    }
    return -1;
}
