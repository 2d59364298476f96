/* syn_flood.c - a SYN flooder for the SYN flood test and benchmark: sends
 * SYNs from SRC (random source ports 1024-32767 and sequence numbers) to
 * DST:PORT at a given rate, never completing a handshake.  When SRC is the flooding
 * host's own address, its kernel answers the SYN-ACKs with RSTs (the
 * realistic case); the caller may drop those with nftables instead.
 *
 *   syn_flood SRC DST PORT RATE SECONDS [MAX_COUNT]
 *
 * RATE is SYNs per second (0: as fast as the raw socket takes them).
 * Bounded: stops after SECONDS or MAX_COUNT SYNs, whichever comes first
 * (or on SIGTERM).
 * Prints the number sent and the rate achieved.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64
/* Source ports below Linux's ephemeral range (32768-60999), so that the
 * flood never hits the 4-tuple of a real connection from the same host. */
#define SPORT_LO 1024
#define SPORT_HI 32767

static volatile sig_atomic_t stop;
static void on_term(int sig)
{
    (void)sig;
    stop = 1;
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint16_t csum(const void *data, size_t len, uint32_t sum)
{
    const uint8_t *p = data;
    for (size_t i = 0; i + 1 < len; i += 2)
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (len & 1)
        sum += (uint32_t)(p[len - 1] << 8);
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

static uint32_t rnd_state = 0x9e3779b9u;
static uint32_t rnd(void)
{
    rnd_state ^= rnd_state << 13;
    rnd_state ^= rnd_state >> 17;
    rnd_state ^= rnd_state << 5;
    return rnd_state;
}

/* IPv4 + TCP header with the MSS option: 44 bytes. */
static void build(uint8_t *f, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
                  uint32_t seq, uint16_t id)
{
    uint8_t *ip = f, *tcp = f + 20;
    memset(f, 0, 44);
    ip[0] = 0x45;
    ip[2] = 0;
    ip[3] = 44;
    ip[4] = (uint8_t)(id >> 8);
    ip[5] = (uint8_t)id;
    ip[6] = 0x40; /* DF */
    ip[8] = 64;
    ip[9] = IPPROTO_TCP;
    memcpy(ip + 12, &src, 4);
    memcpy(ip + 16, &dst, 4);
    uint16_t ck = csum(ip, 20, 0);
    ip[10] = (uint8_t)(ck >> 8);
    ip[11] = (uint8_t)ck;

    tcp[0] = (uint8_t)(sport >> 8);
    tcp[1] = (uint8_t)sport;
    tcp[2] = (uint8_t)(dport >> 8);
    tcp[3] = (uint8_t)dport;
    tcp[4] = (uint8_t)(seq >> 24);
    tcp[5] = (uint8_t)(seq >> 16);
    tcp[6] = (uint8_t)(seq >> 8);
    tcp[7] = (uint8_t)seq;
    tcp[12] = 6 << 4;
    tcp[13] = 0x02; /* SYN */
    tcp[14] = 0xff;
    tcp[15] = 0xff;
    tcp[20] = 2; /* MSS 1460 */
    tcp[21] = 4;
    tcp[22] = 1460 >> 8;
    tcp[23] = 1460 & 0xff;
    /* Pseudo-header sum, then the segment. */
    uint32_t s = 0;
    const uint8_t *a = ip + 12;
    for (int i = 0; i < 8; i += 2)
        s += (uint32_t)(a[i] << 8 | a[i + 1]);
    s += IPPROTO_TCP + 24;
    ck = csum(tcp, 24, s);
    tcp[16] = (uint8_t)(ck >> 8);
    tcp[17] = (uint8_t)ck;
}

int main(int argc, char **argv)
{
    if (argc < 6) {
        fprintf(stderr, "usage: syn_flood SRC DST PORT RATE SECONDS [MAX_COUNT]\n");
        return 2;
    }
    struct in_addr src, dst;
    if (inet_pton(AF_INET, argv[1], &src) != 1 || inet_pton(AF_INET, argv[2], &dst) != 1) {
        fprintf(stderr, "syn_flood: bad address\n");
        return 2;
    }
    uint16_t port = (uint16_t)atoi(argv[3]);
    double rate = atof(argv[4]), secs = atof(argv[5]);
    uint64_t max = argc > 6 ? strtoull(argv[6], NULL, 10) : UINT64_MAX;
    if (secs <= 0 || secs > 120) {
        fprintf(stderr, "syn_flood: SECONDS must be in (0, 120]\n");
        return 2;
    }

    int fd = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
    if (fd < 0) {
        perror("syn_flood: socket");
        return 1;
    }
    int sb = 4 << 20;
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sb, sizeof(sb));
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_addr = dst};
    rnd_state ^= (uint32_t)now_ns();
    signal(SIGTERM, on_term);
    signal(SIGINT, on_term);

    uint64_t t0 = now_ns(), end = t0 + (uint64_t)(secs * 1e9), sent = 0, errs = 0;
    uint8_t f[44];
    while (sent < max && !stop) {
        uint64_t t = now_ns();
        if (t >= end)
            break;
        if (rate > 0) {
            uint64_t due = (uint64_t)((double)(t - t0) * rate / 1e9);
            if (sent >= due) {
                struct timespec ts = {0, 50000};
                nanosleep(&ts, NULL);
                continue;
            }
        }
        for (int i = 0; i < BATCH && sent < max; i++) {
            uint16_t sport = (uint16_t)(SPORT_LO + rnd() % (SPORT_HI - SPORT_LO + 1));
            build(f, src.s_addr, dst.s_addr, sport, port, rnd(), (uint16_t)sent);
            if (sendto(fd, f, sizeof(f), 0, (struct sockaddr *)&to, sizeof(to)) < 0) {
                if (errno != ENOBUFS && errno != EAGAIN) {
                    perror("syn_flood: sendto");
                    return 1;
                }
                errs++;
            }
            sent++;
        }
    }
    double el = (double)(now_ns() - t0) / 1e9;
    printf("sent %llu SYNs in %.1f s (%.0f/s, %llu not taken)\n", (unsigned long long)sent, el,
           el > 0 ? (double)sent / el : 0.0, (unsigned long long)errs);
    return 0;
}
