/* flood.c - SYN floods: when the slow path hands a listening port's SYNs
 * to the fast-path cores, which answer them with SYN cookies themselves
 * (fastpath/syn.c), and when it takes them back.
 *
 * A port is handed over (published in fp.cookie_ports, tcp.syncookies on)
 * when more than SP_FLOOD_FAILS of its handshakes fail (reset or timed out
 * in SYN_RCVD) within SP_FLOOD_WINDOW_MS, or when a listener's half-open
 * table overflowed (listen.c answers with a cookie itself then).  A flood
 * whose SYN-ACKs the flooding host resets never fills the half-open table,
 * yet costs the slow path a SYN and a RST per attempt: the failure rate is
 * what catches it, and legitimate clients, however many, complete their
 * handshakes and do not count.  While the cores answer, the slow path sees
 * only the handshakes' ACKs (cookie check, listen.c); every
 * SP_FLOOD_HOLD_MS it takes the cores' count of SYNs for the port less the
 * cookies that came back valid, and takes the port back when that fell
 * below the threshold rate; listen.c takes it back at once when no active
 * listener is left on it.
 */
#include <arpa/inet.h>
#include <stdio.h>

#include "fastpath/fastpath.h"
#include "slowpath/sp.h"

#define SP_FLOOD_WINDOW_MS 100
#define SP_FLOOD_FAILS     2000 /* per window: 20,000 failed handshakes/s */
#define SP_FLOOD_HOLD_MS   2000

static struct {
    uint16_t port;     /* host order; 0 = slot free */
    uint64_t since_ms; /* last decision */
    uint64_t hits0;    /* the cores' SYNs for it at since_ms */
    uint64_t ok, ok0;  /* cookies that came back valid: all, at since_ms */
} pub[FP_COOKIE_PORTS];
static unsigned n_pub;

static uint64_t hits(unsigned slot)
{
    uint64_t n = 0;
    for (unsigned i = 0; i < fp.n_cores; i++)
        n += __atomic_load_n(&fp.cores[i].cookie_hits[slot], __ATOMIC_RELAXED);
    return n;
}

static int find(uint16_t port)
{
    for (unsigned i = 0; i < FP_COOKIE_PORTS; i++)
        if (pub[i].port == port)
            return (int)i;
    return -1;
}

void sp_flood_publish(uint16_t port, uint16_t win)
{
    if (!sp.cfg.syncookies || find(port) >= 0)
        return;
    int s = find(0);
    if (s < 0)
        return; /* all slots taken: this port's cookies stay in listen.c */
    pub[s].port = port;
    pub[s].since_ms = sp.now_ms;
    pub[s].hits0 = hits((unsigned)s);
    pub[s].ok = pub[s].ok0 = 0;
    n_pub++;
    atomic_store_explicit(&fp.cookie_ports[s], fp_cookie_entry(htons(port), win, sp.mss),
                          memory_order_release);
    atomic_fetch_add_explicit(&fp.n_cookie_ports, 1, memory_order_release);
    sp.cnt.syn_flood_on++;
    fprintf(stderr, "tasd: port %u: SYN flood? the fast path answers its SYNs with SYN cookies\n",
            port);
}

static void withdraw(unsigned s)
{
    atomic_store_explicit(&fp.cookie_ports[s], 0, memory_order_release);
    atomic_fetch_sub_explicit(&fp.n_cookie_ports, 1, memory_order_release);
    fprintf(stderr, "tasd: port %u: SYN flood over, SYNs to the slow path again\n",
            pub[s].port);
    pub[s].port = 0;
    n_pub--;
    sp.cnt.syn_flood_off++;
}

bool sp_flood_failed(struct sp_listener *l)
{
    if (sp.now_ms - l->fail_win_ms >= SP_FLOOD_WINDOW_MS) {
        l->fail_win_ms = sp.now_ms;
        l->fail_win_n = 0;
    }
    return ++l->fail_win_n == SP_FLOOD_FAILS && find(l->port) < 0;
}

void sp_flood_cookie_ok(uint16_t port)
{
    int s = n_pub != 0 ? find(port) : -1;
    if (s >= 0)
        pub[s].ok++;
}

void sp_flood_port_closed(uint16_t port)
{
    int s = port != 0 ? find(port) : -1;
    if (s >= 0)
        withdraw((unsigned)s);
}

void sp_flood_poll(void)
{
    if (n_pub == 0)
        return;
    for (unsigned s = 0; s < FP_COOKIE_PORTS; s++) {
        if (pub[s].port == 0)
            continue;
        uint64_t dt = sp.now_ms - pub[s].since_ms;
        if (dt < SP_FLOOD_HOLD_MS)
            continue;
        uint64_t h = hits(s), syns = h - pub[s].hits0, ok = pub[s].ok - pub[s].ok0;
        uint64_t bad = syns > ok ? syns - ok : 0;
        if (bad * SP_FLOOD_WINDOW_MS < (uint64_t)SP_FLOOD_FAILS * dt) {
            withdraw(s);
            continue;
        }
        pub[s].since_ms = sp.now_ms;
        pub[s].hits0 = h;
        pub[s].ok0 = pub[s].ok;
    }
}
