/* impair_port.c - puts the test-only impairment (impair.h) on the port:
 * every packet the fast path receives or transmits can be dropped,
 * duplicated, delayed or reordered, as configured (impair.* settings,
 * refused by config.c unless impair.allow is set).  Off, nothing here is
 * installed and the port runs as if this file did not exist.
 *
 * Receive: an rx callback (rte_eth_add_rx_callback) on each queue, run by
 * the owning core inside its rte_eth_rx_burst.  It rewrites the burst:
 * dropped packets are freed, delayed and reordered ones are held, due ones
 * and copies are added (up to the caller's burst size; the rest wait in a
 * pending FIFO and go first on the next poll).  Duplicates are deep copies
 * (rte_pktmbuf_copy): the fast path owns and may change each received mbuf.
 *
 * Transmit: a tx callback cannot take packets away (rte_eth_tx_burst would
 * report slots its caller still believes it owns), so the port's transmit
 * function in rte_eth_fp_ops is wrapped instead.  The wrapper takes every
 * packet it is given (returns the full count), hands the survivors to the
 * PMD with the same bounded retries as fastpath/tx.c and counts what the
 * PMD refused as lost.  Duplicates share the mbuf (refcnt + 1): nothing
 * changes a packet once it is handed to the port.
 *
 * Held packets are released by the rx callback (the fast path polls rx
 * every iteration, so held tx packets go out then too) and the core caps
 * its idle sleep with the port's due_us hook (cm_port_due_us), so a held packet is late by at
 * most a loop iteration.  Each queue's state is touched only by the core
 * that owns the queue; the counters are read by the control socket.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_branch_prediction.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "common/json.h"
#include "tasd/config.h"
#include "tasd/impair.h"
#include "tasd/port.h"

#define IMPAIR_RX_MAX   256 /* larger rx bursts pass unimpaired (tasd asks for 32) */
#define IMPAIR_TX_OBUF  64  /* packets collected before one PMD transmit call */
#define IMPAIR_TX_TRIES 8   /* PMD calls that may take nothing before we give up */

/* One direction of one queue. */
struct impair_dirq {
    struct tasd_impair_rng rng;
    struct tasd_impair_fifo delay;   /* delayed: due after delay_us */
    struct tasd_impair_fifo behind;  /* reordered: out after the next packet */
    struct tasd_impair_fifo pending; /* rx: passed, did not fit the burst */
    struct tasd_impair_stats st;
};

struct impair_queue {
    struct impair_dirq rx, tx;
    void *txq; /* the PMD's transmit queue */
    const struct rte_eth_rxtx_callback *rx_cb;
};

/* Where packets go: the caller's rx burst, or a tx buffer for the PMD. */
struct sink {
    struct impair_queue *q;
    struct impair_dirq *d;
    struct rte_mbuf **out;
    uint16_t n, cap;
    bool tx;
};

static struct {
    bool on;
    uint16_t port_id, n_queues;
    struct rte_mempool *pool;
    struct tasd_impair_dir rx, tx;
    uint32_t seed;
    uint64_t tsc_per_us;
    eth_tx_burst_t pmd_tx;
    struct impair_queue *q;
} imp;

static inline uint64_t now_us(void)
{
    return rte_get_tsc_cycles() / imp.tsc_per_us;
}

static void tx_flush(struct sink *s)
{
    uint16_t sent = 0;
    unsigned fails = 0;

    while (sent < s->n) {
        uint16_t k = imp.pmd_tx(s->q->txq, s->out + sent, (uint16_t)(s->n - sent));
        sent += k;
        if (k == 0 && ++fails >= IMPAIR_TX_TRIES)
            break;
    }
    if (unlikely(sent < s->n)) {
        rte_pktmbuf_free_bulk(s->out + sent, s->n - sent);
        s->d->st.lost += s->n - sent;
    }
    s->n = 0;
}

/* Pass m on, in order. */
static void put(struct sink *s, struct rte_mbuf *m)
{
    if (s->tx) {
        s->out[s->n++] = m;
        if (s->n == s->cap)
            tx_flush(s);
        return;
    }
    /* rx: what is already pending goes first; the burst is bounded. */
    if (s->d->pending.n == 0 && s->n < s->cap) {
        s->out[s->n++] = m;
    } else if (!tasd_impair_fifo_push(&s->d->pending, m, 0)) {
        rte_pktmbuf_free(m);
        s->d->st.lost++;
    }
}

/* Pass m on; packets held back for reordering follow it. */
static void put_pass(struct sink *s, struct rte_mbuf *m)
{
    struct rte_mbuf *b;

    put(s, m);
    while ((b = tasd_impair_fifo_pop_due(&s->d->behind, UINT64_MAX)) != NULL)
        put(s, b);
}

/* What falls due now: rx packets pending from the last burst, then delayed
 * packets, then reordered ones that waited TASD_IMPAIR_REORDER_MAX_US. */
static void release_due(struct sink *s, uint64_t now)
{
    struct impair_dirq *d = s->d;
    struct rte_mbuf *m;

    while (s->n < s->cap && (m = tasd_impair_fifo_pop_due(&d->pending, UINT64_MAX)))
        s->out[s->n++] = m;
    while ((m = tasd_impair_fifo_pop_due(&d->delay, now)) != NULL)
        put_pass(s, m);
    while ((m = tasd_impair_fifo_pop_due(&d->behind, now)) != NULL)
        put(s, m);
}

static struct rte_mbuf *duplicate(struct sink *s, struct rte_mbuf *m)
{
    if (s->tx) {
        rte_pktmbuf_refcnt_update(m, 1);
        return m;
    }
    struct rte_mbuf *c = rte_pktmbuf_copy(m, imp.pool, 0, UINT32_MAX);
    if (!c)
        s->d->st.dup_nomem++;
    return c;
}

/* Decide the fate of m and carry it out. */
static void impair_one(struct sink *s, const struct tasd_impair_dir *dir,
                       struct rte_mbuf *m, uint64_t now)
{
    struct impair_dirq *d = s->d;
    struct rte_mbuf *copy = NULL;
    unsigned fate = tasd_impair_decide(dir, &d->rng);

    d->st.seen++;
    if (fate & TASD_IMPAIR_DROP) {
        rte_pktmbuf_free(m);
        d->st.dropped++;
        return;
    }
    if (fate & TASD_IMPAIR_DUP) {
        copy = duplicate(s, m);
        if (copy)
            d->st.duplicated++;
    }
    if ((fate & TASD_IMPAIR_DELAY) &&
        tasd_impair_fifo_push(&d->delay, m, now + dir->delay_us))
        d->st.delayed++;
    else if ((fate & TASD_IMPAIR_REORDER) &&
             tasd_impair_fifo_push(&d->behind, m, now + TASD_IMPAIR_REORDER_MAX_US))
        d->st.reordered++;
    else {
        if (fate & (TASD_IMPAIR_DELAY | TASD_IMPAIR_REORDER))
            d->st.hold_full++;
        put_pass(s, m);
    }
    if (copy)
        put_pass(s, copy);
}

/* Held tx packets that fell due (called on every rx poll). */
static void tx_release(struct impair_queue *q, uint64_t now)
{
    struct rte_mbuf *obuf[IMPAIR_TX_OBUF];
    struct sink s = {q, &q->tx, obuf, 0, IMPAIR_TX_OBUF, true};

    if (q->tx.delay.n == 0 && q->tx.behind.n == 0)
        return;
    release_due(&s, now);
    tx_flush(&s);
}

static uint16_t impair_rx(uint16_t port_id, uint16_t queue, struct rte_mbuf **pkts,
                          uint16_t nb, uint16_t max, void *arg)
{
    struct impair_queue *q = arg;
    struct rte_mbuf *in[IMPAIR_RX_MAX];
    struct sink s = {q, &q->rx, pkts, 0, max, false};
    uint64_t now = now_us();

    (void)port_id;
    (void)queue;
    tx_release(q, now);
    if (unlikely(nb > IMPAIR_RX_MAX))
        return nb;
    memcpy(in, pkts, nb * sizeof(*in));
    release_due(&s, now);
    for (uint16_t i = 0; i < nb; i++)
        impair_one(&s, &imp.rx, in[i], now);
    return s.n;
}

static uint16_t impair_tx(void *txq, struct rte_mbuf **pkts, uint16_t nb)
{
    struct impair_queue *q = NULL;
    struct rte_mbuf *obuf[IMPAIR_TX_OBUF];

    for (uint16_t i = 0; i < imp.n_queues; i++)
        if (imp.q[i].txq == txq)
            q = &imp.q[i];
    if (unlikely(q == NULL))
        return imp.pmd_tx(txq, pkts, nb);

    struct sink s = {q, &q->tx, obuf, 0, IMPAIR_TX_OBUF, true};
    uint64_t now = now_us();
    release_due(&s, now);
    for (uint16_t i = 0; i < nb; i++)
        impair_one(&s, &imp.tx, pkts[i], now);
    tx_flush(&s);
    return nb; /* every packet is ours now: sent, held, dropped or counted lost */
}

static uint32_t impair_due_us(const struct cm_port *p, uint16_t queue)
{
    if (!imp.on || p->port_id != imp.port_id || queue >= imp.n_queues)
        return UINT32_MAX;
    const struct impair_queue *q = &imp.q[queue];
    if (q->rx.pending.n)
        return 0;
    uint64_t due = tasd_impair_fifo_next_due(&q->rx.delay);
    const struct tasd_impair_fifo *f[] = {&q->rx.behind, &q->tx.delay, &q->tx.behind};
    for (unsigned i = 0; i < 3; i++)
        if (tasd_impair_fifo_next_due(f[i]) < due)
            due = tasd_impair_fifo_next_due(f[i]);
    if (due == UINT64_MAX)
        return UINT32_MAX;
    uint64_t now = now_us();
    if (due <= now)
        return 0;
    return due - now < UINT32_MAX ? (uint32_t)(due - now) : UINT32_MAX - 1;
}

static void describe(char *buf, size_t len, const struct tasd_impair_dir *d)
{
    if (!tasd_impair_dir_active(d)) {
        snprintf(buf, len, "nothing");
        return;
    }
    snprintf(buf, len,
             "drop %u.%u%%, dup %u.%u%%, delay %u.%u%% by %u us, reorder %u.%u%%",
             d->drop / 10, d->drop % 10, d->dup / 10, d->dup % 10, d->delay / 10,
             d->delay % 10, d->delay_us, d->reorder / 10, d->reorder % 10);
}

int tasd_impair_attach(struct cm_port *p, const struct tasd_config *c)
{
    char rx[128], tx[128];

    if (!tasd_impair_dir_active(&c->impair_rx) && !tasd_impair_dir_active(&c->impair_tx))
        return 0;
    if (!c->impair_allow) /* config.c refuses this; never impair by accident */
        return -EPERM;
    memset(&imp, 0, sizeof(imp));
    imp.q = calloc(p->n_queues, sizeof(*imp.q));
    if (!imp.q)
        return -ENOMEM;
    imp.port_id = p->port_id;
    imp.n_queues = p->n_queues;
    imp.pool = p->pool;
    imp.rx = c->impair_rx;
    imp.tx = c->impair_tx;
    imp.tsc_per_us = rte_get_tsc_hz() / 1000000;
    if (imp.tsc_per_us == 0)
        imp.tsc_per_us = 1;
    imp.seed = c->impair_seed;
    while (imp.seed == 0)
        imp.seed = (uint32_t)(rte_get_tsc_cycles() ^ (uint64_t)getpid() << 16);

    struct rte_eth_fp_ops *ops = &rte_eth_fp_ops[p->port_id];
    for (uint16_t i = 0; i < p->n_queues; i++) {
        struct impair_queue *q = &imp.q[i];
        tasd_impair_rng_seed(&q->rx.rng, imp.seed, 2u * i);
        tasd_impair_rng_seed(&q->tx.rng, imp.seed, 2u * i + 1);
        q->txq = ops->txq.data[i];
        q->rx_cb = rte_eth_add_rx_callback(p->port_id, i, impair_rx, q);
        if (!q->rx_cb) {
            fprintf(stderr,
                    "tasd: impairment: cannot add an rx callback on queue %u: %s\n", i,
                    rte_strerror(rte_errno));
            imp.n_queues = i; /* detach removes what was added */
            imp.on = true;
            tasd_impair_detach(p);
            return -(rte_errno ? rte_errno : ENOTSUP);
        }
    }
    imp.pmd_tx = ops->tx_pkt_burst;
    ops->tx_pkt_burst = impair_tx;
    imp.on = true;
    __atomic_store_n(&p->due_us, impair_due_us, __ATOMIC_RELEASE);

    describe(rx, sizeof(rx), &imp.rx);
    describe(tx, sizeof(tx), &imp.tx);
    fprintf(stderr,
            "tasd: IMPAIRMENT ON (test only, impair.allow): rx: %s; tx: %s; seed %u "
            "(--impair-seed %u repeats the choices)\n",
            rx, tx, imp.seed, imp.seed);
    return 0;
}

static void free_fifo(struct tasd_impair_fifo *f)
{
    struct rte_mbuf *m;
    while ((m = tasd_impair_fifo_pop_due(f, UINT64_MAX)) != NULL)
        rte_pktmbuf_free(m);
}

void tasd_impair_detach(struct cm_port *p)
{
    if (!imp.on)
        return;
    struct rte_eth_fp_ops *ops = &rte_eth_fp_ops[imp.port_id];
    if (ops->tx_pkt_burst == impair_tx)
        ops->tx_pkt_burst = imp.pmd_tx;
    for (uint16_t i = 0; i < imp.n_queues; i++) {
        struct impair_queue *q = &imp.q[i];
        if (q->rx_cb && rte_eth_remove_rx_callback(imp.port_id, i, q->rx_cb) == 0)
            rte_free((void *)(uintptr_t)q->rx_cb); /* the port is stopped: unused */
        q->rx_cb = NULL;
        struct impair_dirq *d[] = {&q->rx, &q->tx};
        for (unsigned k = 0; k < 2; k++) {
            free_fifo(&d[k]->delay);
            free_fifo(&d[k]->behind);
            free_fifo(&d[k]->pending);
        }
    }
    free(imp.q);
    imp.q = NULL;
    imp.on = false;
    __atomic_store_n(&p->due_us, NULL, __ATOMIC_RELEASE);
}

bool tasd_impair_on(void)
{
    return imp.on;
}

#define IMPAIR_STATS(X)                                                                  \
    X(seen)                                                                              \
    X(dropped) X(duplicated) X(delayed) X(reordered) X(hold_full) X(dup_nomem) X(lost)

static uint64_t rd(const uint64_t *v)
{
    return __atomic_load_n(v, __ATOMIC_RELAXED);
}

struct json_object *tasd_impair_stats_json(void)
{
    if (!imp.on)
        return NULL;
    struct json_object *o = json_object_new_object();
    cm_json_u64(o, "seed", imp.seed);
    struct json_object *queues = cm_json_arr(o, "queues");
    for (uint16_t i = 0; i < imp.n_queues; i++) {
        const struct impair_queue *q = &imp.q[i];
        const struct impair_dirq *d[] = {&q->rx, &q->tx};
        struct json_object *jq = json_object_new_object();
        cm_json_u64(jq, "queue", i);
        for (unsigned k = 0; k < 2; k++) {
            struct json_object *jd = cm_json_obj(jq, k ? "tx" : "rx");
#define J(n) cm_json_u64(jd, #n, rd(&d[k]->st.n));
            IMPAIR_STATS(J)
#undef J
        }
        cm_json_push(queues, jq);
    }
    return o;
}

bool tasd_impair_write_stats(FILE *f)
{
    if (!imp.on)
        return false;
    fprintf(f, "%-14s", "impair (test)");
    for (uint16_t i = 0; i < imp.n_queues; i++)
        fprintf(f, " %8s%-2u %8s%-2u", "rx q", i, "tx q", i);
    fprintf(f, "\n");
#define T(n)                                                                             \
    fprintf(f, "%-14s", #n);                                                             \
    for (uint16_t i = 0; i < imp.n_queues; i++)                                          \
        fprintf(f, " %10" PRIu64 " %10" PRIu64, rd(&imp.q[i].rx.st.n),                   \
                rd(&imp.q[i].tx.st.n));                                                  \
    fprintf(f, "\n");
    IMPAIR_STATS(T)
#undef T
    return true;
}
