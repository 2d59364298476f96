/* syncookie.c - SYN cookies and SipHash-2-4 (see syncookie.h). */
#include <string.h>

#include "fastpath/syncookie.h"

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

uint64_t fp_siphash24(const uint8_t key[16], const uint8_t *m, size_t len)
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
    return (uint32_t)fp_siphash24(key, m, sizeof(m)) & 0xffffffu;
}

uint32_t fp_syncookie_make(const uint8_t key[16], uint32_t lip, uint32_t rip,
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

int fp_syncookie_check(const uint8_t key[16], uint32_t lip, uint32_t rip, uint16_t lport,
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
