/* loop.c - the poll loop of a fast-path core (fp_core_run), in the manner
 * of DPDK's l3fwd: burst in, process, service the rings and queues, burst
 * out, back off when idle.
 *
 * Adaptive polling (fp.busy_poll false): after FP_IDLE_SPINS iterations
 * without work, and FP_IDLE_SPIN_US after the last work (under load a sleep
 * and its timer wake-up cost more than polling through a short gap), the
 * core announces it is going to sleep
 * (gpage->fp_sleeping[id][0] = 1), re-checks every source that kicks its
 * doorbell (cmd and tx rings, application queues) and, if still idle, sleeps
 * in ppoll() on doorbell_fd and, on net_af_packet and net_af_xdp, on the
 * PMD's socket of its queue, on TAP on the queue's tap descriptor (its rx
 * interrupt) (port->rx_fds: readable once a frame waits), so a frame
 * wakes it and it sleeps up to FP_RX_WAKE_MAX_US.  Ports that cannot
 * wake it (others) bound the latency added to a frame arriving during
 * the sleep instead: the timeout starts at 1 us and doubles up to
 * fp.max_sleep_us while nothing happens.  A delayed ACK or corked bytes
 * (cork.c) that fall due shorten either (as do the queue manager's wheel
 * and a packet the port's test-only impairment holds: cm_port_due_us).
 * Any work resets it.
 *
 * Several cores: each polls its own rx queue and trusts the port to keep a
 * flow on one queue (RSS; the kernel's hash for af_packet queue pairs); the
 * slow path installs a new flow on the core its handshake came from.  A
 * frame that reaches a core that does not own its flow goes to the slow
 * path as an exception, like an unknown flow, which hands it to the owner.
 */
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "common/port.h"
#include "fastpath/clock.h"
#include "fastpath/internal.h"

/* Frames the slow path built, to go out in this iteration's burst. */
static unsigned sp_tx_drain(struct fp_core *c)
{
    struct rte_mbuf *ms[FP_SPTX_BURST];
    unsigned n = rte_ring_dequeue_burst(c->tx_ring, (void **)ms, FP_SPTX_BURST, NULL);
    for (unsigned i = 0; i < n; i++)
        fp_tx_enqueue(c, ms[i]);
    return n;
}

void fp_core_tx_now(struct fp_core *c)
{
    while (sp_tx_drain(c) > 0)
        ;
    fp_tx_flush(c);
}

/* Anything that would have rung the doorbell, or that we owe ourselves? */
static bool has_work(const struct fp_core *c)
{
    return !rte_ring_empty(c->cmd_ring) || !rte_ring_empty(c->tx_ring) ||
           fp_qm_ready(c) || fp_appq_pending(c);
}

static bool idle_sleep(struct fp_core *c, uint32_t *sleep_us, int extra_fd)
{
    struct fp_priv *p = fp_priv(c);
    uint32_t t = *sleep_us;
    int rx_fd = c->id < c->port->n_rx_fds ? c->port->rx_fds[c->id] : -1;
    if (rx_fd >= 0)
        t = FP_RX_WAKE_MAX_US; /* a frame wakes us */

    atomic_store_explicit(p->sleeping, 1, memory_order_relaxed);
    atomic_thread_fence(memory_order_seq_cst); /* flag before re-checking */
    if (has_work(c)) {
        atomic_store_explicit(p->sleeping, 0, memory_order_relaxed);
        return false;
    }
    if (p->wheel_n > 0 && t > FP_QM_SLOT_US)
        t = FP_QM_SLOT_US; /* a rate-limited flow is due soon */
    uint64_t now = fp_now_us();
    uint32_t dack = fp_acks_due_us(c, now);
    if (t > dack)
        t = dack > 0 ? dack : 1; /* a delayed ACK is due */
    uint32_t cork = fp_cork_due_us(c, now);
    if (t > cork)
        t = cork > 0 ? cork : 1; /* corked bytes must go */
    uint32_t held = cm_port_due_us(c->port, (uint16_t)c->id);
    if (t > held)
        t = held > 0 ? held : 1; /* the port holds a packet (test impairment) */
    struct timespec ts = {.tv_sec = t / 1000000, .tv_nsec = (long)(t % 1000000) * 1000};
    struct pollfd pfd[3] = {{.fd = c->doorbell_fd, .events = POLLIN},
                            {.fd = rx_fd, .events = POLLIN},
                            {.fd = extra_fd, .events = POLLIN}};
    /* A negative fd is skipped by ppoll(). */
    if (ppoll(pfd, 3, &ts, NULL) > 0 && (pfd[0].revents & POLLIN)) {
        eventfd_t v;
        (void)eventfd_read(c->doorbell_fd, &v);
    }
    atomic_store_explicit(p->sleeping, 0, memory_order_release);
    c->stats.idle_sleeps++;
    uint32_t max = fp.max_sleep_us ? fp.max_sleep_us : 1;
    *sleep_us = *sleep_us >= max / 2 ? max : *sleep_us * 2;
    return true;
}

void fp_core_begin(struct fp_idle *st)
{
    *st = (struct fp_idle){.sleep_us = 1};
    prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0); /* short sleeps mean short */
}

unsigned fp_core_poll(struct fp_core *c, uint64_t now)
{
    struct fp_priv *p = fp_priv(c);
    uint16_t port = c->port->port_id, queue = (uint16_t)c->id;
    struct rte_mbuf *pkts[FP_RX_BURST];
    unsigned work;

    uint16_t n = rte_eth_rx_burst(port, queue, pkts, FP_RX_BURST);
    if (n > 0)
        fp_input_burst(c, pkts, n, now);
    work = n;
    /* (Empty rings and lists are the common case: a look, not a call; an
     * idle turn of the loop costs about 370 instructions on net_memif,
     * bench/instructions.sh.) */
    if (unlikely(!rte_ring_empty(c->cmd_ring)))
        work += fp_cmds(c, now);
    if (unlikely(!rte_ring_empty(c->tx_ring)))
        work += sp_tx_drain(c);
    work += fp_appq_service(c);
    if (unlikely(p->cork_n != 0))
        fp_cork_expire(c, now);
    work += fp_qm_run(c, now);
    if (p->n_acks != 0 || p->dack_n != 0)
        fp_acks_flush(c, now);
    if (p->n_notify != 0)
        fp_notify_flush(c);
    if (p->n_act != 0)
        fp_act_flush(c);
    if (p->n_txb != 0)
        fp_tx_flush(c);
    if (p->sp_kick) {
        p->sp_kick = false;
        if (c->sp_inline) {
            c->sp_wanted = true; /* the slow path shares this thread */
        } else {
            (void)eventfd_write(c->sp_efd, 1);
            c->stats.sp_kicks++;
        }
    }
    return work;
}

bool fp_core_idle(struct fp_core *c, struct fp_idle *st, unsigned work, uint64_t now,
                  int extra_fd)
{
    if (likely(work > 0 || fp.busy_poll)) {
        st->idle = 0;
        st->sleep_us = 1;
        st->last_work = now;
    } else if (++st->idle >= FP_IDLE_SPINS && now - st->last_work >= FP_IDLE_SPIN_US) {
        return idle_sleep(c, &st->sleep_us, extra_fd);
    }
    return false;
}

int fp_core_run(void *arg)
{
    struct fp_core *c = arg;
    struct fp_idle st;

    fp_core_begin(&st);
    while (likely(!fp.stop)) {
        uint64_t now = fp_now_us();
        fp_core_idle(c, &st, fp_core_poll(c, now), now, -1);
    }
    fp_tx_flush(c);
    return 0;
}
