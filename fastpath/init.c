/* init.c - setting the fast path up and down, and the helpers the slow path
 * calls from its own thread: fp_init/fp_fini, fp_cmd_send, fp_tx_send,
 * fp_flow_core, fp_write_stats and fp_stats_json (the per-core counters as
 * a table or a json-c tree).
 *
 * fp_init allocates the shared flow array and, per core, the context slots,
 * the flow table (flowtab.c), the four rings to and from the
 * slow path, the doorbell eventfd, and the core's private state (internal.h).
 * One sp_efd eventfd is shared by all cores.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_jhash.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "common/json.h"
#include "common/port.h"
#include "fastpath/classify.h"
#include "fastpath/clock.h"
#include "fastpath/internal.h"

struct fp_global fp;
static bool fp_initialised; /* fp_fini has something to undo */

static void *zalloc(const char *what, size_t n, size_t size)
{
    if (n == 0)
        n = 1;
    return rte_zmalloc(what, n * size, RTE_CACHE_LINE_SIZE);
}

static void clock_init(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    fp.clk_tsc0 = rte_get_tsc_cycles();
    fp.clk_us0 = (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
    uint64_t hz = rte_get_tsc_hz();
    fp.clk_mult = hz ? (uint64_t)(((unsigned __int128)1000000 << 32) / hz) : 0;
}

static int priv_init(struct fp_core *c, uint32_t max_flows)
{
    struct fp_priv *p = zalloc("fp_priv", 1, sizeof(*p));
    if (p == NULL)
        return -ENOMEM;
    c->priv = p;
    uint32_t fifo = 1;
    while (fifo < max_flows)
        fifo <<= 1;
    p->side = zalloc("fp_side", max_flows, sizeof(*p->side));
    p->ready = zalloc("fp_ready", fifo, sizeof(uint32_t));
    p->ready_mask = fifo - 1;
    p->wheel = zalloc("fp_wheel", FP_QM_SLOTS, sizeof(uint32_t));
    p->acks = zalloc("fp_acks", max_flows, sizeof(uint32_t));
    p->notify = zalloc("fp_notify", max_flows, sizeof(uint32_t));
    p->act = zalloc("fp_act", max_flows, sizeof(uint32_t));
    p->dack = zalloc("fp_dack", max_flows, sizeof(uint32_t));
    p->dack_due = zalloc("fp_dack_due", max_flows, sizeof(uint64_t));
    p->dack_seq = zalloc("fp_dack_seq", max_flows, sizeof(uint16_t));
    p->dack_size = max_flows;
    p->ctx_list = zalloc("fp_ctxl", FP_MAX_CTX, sizeof(uint16_t));
    p->ctx_pos = zalloc("fp_ctxp", FP_MAX_CTX, sizeof(uint32_t));
    p->ctx_stamp = zalloc("fp_ctxs", FP_MAX_CTX, sizeof(uint32_t));
    p->kick_list = zalloc("fp_kick", FP_MAX_CTX, sizeof(uint16_t));
    if (!p->side || !p->ready || !p->wheel || !p->acks || !p->notify || !p->act ||
        !p->dack || !p->dack_due || !p->dack_seq || !p->ctx_list || !p->ctx_pos ||
        !p->ctx_stamp || !p->kick_list)
        return -ENOMEM;
    for (uint32_t i = 0; i < FP_QM_SLOTS; i++)
        p->wheel[i] = FP_NONE;
    p->max_payload = c->port->pool ? fp_tx_max_payload(c) : 0;
    p->sleeping = fp.gpage ? &fp.gpage->fp_sleeping[c->id][0] : &p->sleep_local;
    return 0;
}

static void priv_free(struct fp_core *c)
{
    struct fp_priv *p = fp_priv(c);
    if (p == NULL)
        return;
    rte_free(p->side);
    rte_free(p->ready);
    rte_free(p->wheel);
    rte_free(p->acks);
    rte_free(p->notify);
    rte_free(p->act);
    rte_free(p->dack);
    rte_free(p->dack_due);
    rte_free(p->dack_seq);
    rte_free(p->ctx_list);
    rte_free(p->ctx_pos);
    rte_free(p->ctx_stamp);
    rte_free(p->kick_list);
    for (uint32_t i = 0; i < p->n_txb; i++)
        rte_pktmbuf_free(p->txb[i]);
    rte_free(p);
    c->priv = NULL;
}

static int core_init(struct fp_core *c, unsigned id, struct cm_port *port,
                     uint32_t max_flows, int sp_efd)
{
    char name[RTE_RING_NAMESIZE];

    c->id = id;
    c->port = port;
    c->doorbell_fd = -1;
    c->sp_efd = sp_efd;

    c->flow_table = fp_flowtab_create(id, max_flows);
    if (c->flow_table == NULL)
        return -rte_errno;

    unsigned f = RING_F_SP_ENQ | RING_F_SC_DEQ;
    snprintf(name, sizeof(name), "fp_cmd_%u", id);
    c->cmd_ring =
        rte_ring_create_elem(name, sizeof(struct fp_cmd), FP_CMD_RING, SOCKET_ID_ANY, f);
    snprintf(name, sizeof(name), "fp_tx_%u", id);
    c->tx_ring = rte_ring_create(name, FP_TX_RING, SOCKET_ID_ANY, f);
    snprintf(name, sizeof(name), "fp_exc_%u", id);
    c->exc_ring = rte_ring_create(name, FP_EXC_RING, SOCKET_ID_ANY, f);
    snprintf(name, sizeof(name), "fp_ev_%u", id);
    c->ev_ring =
        rte_ring_create_elem(name, sizeof(struct fp_event), FP_EV_RING, SOCKET_ID_ANY, f);
    snprintf(name, sizeof(name), "fp_act_%u", id);
    c->act_ring =
        rte_ring_create_elem(name, sizeof(struct fp_act), FP_ACT_RING, SOCKET_ID_ANY, f);
    if (!c->cmd_ring || !c->tx_ring || !c->exc_ring || !c->ev_ring || !c->act_ring)
        return -rte_errno;

    c->doorbell_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (c->doorbell_fd < 0)
        return -errno;
    return priv_init(c, max_flows);
}

int fp_init(struct cm_port *port, unsigned n_cores, uint32_t max_flows,
            struct tas_global *gpage, bool busy_poll, uint32_t max_sleep_us,
            uint32_t local_ip)
{
    int rc;

    if (port == NULL || n_cores == 0 || n_cores > TAS_MAX_FP_CORES ||
        n_cores > port->n_queues || max_flows == 0 || max_flows > (1u << 30)) {
        fprintf(stderr,
                "tasd: fast path: bad parameters (%u cores, %u queues, %u flows)\n",
                n_cores, port ? port->n_queues : 0, max_flows);
        return -EINVAL;
    }
    memset(&fp, 0, sizeof(fp));
    for (unsigned i = 0; i < TAS_MAX_FP_CORES; i++) {
        fp.cores[i].doorbell_fd = -1;
        fp.cores[i].sp_efd = -1;
    }
    fp_initialised = true;
    fp.max_flows = max_flows;
    fp.n_cores = n_cores;
    fp.gpage = gpage;
    fp.busy_poll = busy_poll;
    fp.max_sleep_us = max_sleep_us ? max_sleep_us : 1;
    fp.tx_cksum = port->tx_cksum;
    fp.rx_cksum = port->rx_cksum;
    fp.tso_frame_max = port->tso_frame_max;
    fp.tso_segs_max = port->tso_segs_max;
    memcpy(fp.local_mac, port->mac, sizeof(fp.local_mac));
    fp.local_ip = local_ip;
    clock_init();

    fp.flows = zalloc("fp_flows", max_flows, sizeof(struct fp_flow));
    fp.flowx = zalloc("fp_flowx", max_flows, sizeof(struct fp_flow_x));
    if (fp.flows == NULL || fp.flowx == NULL) {
        rc = -ENOMEM;
        goto fail;
    }
    int sp_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (sp_efd < 0) {
        rc = -errno;
        goto fail;
    }
    for (unsigned i = 0; i < n_cores; i++)
        fp.cores[i].sp_efd = sp_efd;
    for (unsigned i = 0; i < n_cores; i++) {
        fp.ctxs[i] = zalloc("fp_ctxs", FP_MAX_CTX, sizeof(struct fp_ctx));
        if (fp.ctxs[i] == NULL) {
            rc = -ENOMEM;
            goto fail;
        }
        rc = core_init(&fp.cores[i], i, port, max_flows, sp_efd);
        if (rc < 0)
            goto fail;
    }
    return 0;

fail:
    fprintf(stderr, "tasd: fast path: initialisation failed: %s\n", strerror(-rc));
    fp_fini();
    return rc;
}

static void ring_free_mbufs(struct rte_ring *r)
{
    void *m;
    if (r == NULL)
        return;
    while (rte_ring_dequeue(r, &m) == 0)
        rte_pktmbuf_free(m);
    rte_ring_free(r);
}

void fp_fini(void)
{
    if (!fp_initialised)
        return;
    fp_initialised = false;
    int sp_efd = fp.cores[0].sp_efd;

    for (unsigned i = 0; i < TAS_MAX_FP_CORES; i++) {
        struct fp_core *c = &fp.cores[i];
        if (c->cmd_ring != NULL) {
            struct fp_cmd cmd;
            while (rte_ring_dequeue_elem(c->cmd_ring, &cmd, sizeof(cmd)) == 0)
                if (cmd.type == FP_CMD_PKT && cmd.mbuf != NULL)
                    rte_pktmbuf_free(cmd.mbuf);
            rte_ring_free(c->cmd_ring);
        }
        ring_free_mbufs(c->tx_ring);
        ring_free_mbufs(c->exc_ring);
        rte_ring_free(c->ev_ring);
        rte_ring_free(c->act_ring);
        fp_flowtab_free(c->flow_table);
        if (c->doorbell_fd >= 0)
            close(c->doorbell_fd);
        priv_free(c);
        rte_free(fp.ctxs[i]);
        memset(c, 0, sizeof(*c));
        c->doorbell_fd = c->sp_efd = -1;
        fp.ctxs[i] = NULL;
    }
    if (sp_efd >= 0)
        close(sp_efd);
    rte_free(fp.flows);
    rte_free(fp.flowx);
    fp.flowx = NULL;
    fp.flows = NULL;
    fp.n_cores = 0;
}

/* Wake core c if it sleeps (after queueing something for it). */
bool fp_kick(struct fp_core *c)
{
    atomic_thread_fence(memory_order_seq_cst); /* queued before reading the flag */
    if (atomic_load_explicit(fp_priv(c)->sleeping, memory_order_relaxed) == 0)
        return false;
    (void)eventfd_write(c->doorbell_fd, 1);
    return true;
}

uint64_t fp_cmd_send(struct fp_core *c, const struct fp_cmd *cmd)
{
    struct fp_cmd q = *cmd;
    q.seq = c->cmd_next + 1;
    if (rte_ring_enqueue_elem(c->cmd_ring, &q, sizeof(q)) != 0)
        return 0;
    c->cmd_next = q.seq;
    return q.seq;
}

int fp_tx_send(struct fp_core *c, struct rte_mbuf *m)
{
    if (rte_ring_enqueue(c->tx_ring, m) == 0)
        return 0;
    if (c->sp_inline) {
        /* We are on the core's own thread, which cannot drain the ring
         * while we fill it: send what is queued now, then try again. */
        fp_core_tx_now(c);
        if (rte_ring_enqueue(c->tx_ring, m) == 0)
            return 0;
    }
    rte_pktmbuf_free(m);
    return -ENOBUFS;
}

unsigned fp_flow_core(uint32_t lip, uint32_t rip, uint16_t lport, uint16_t rport)
{
    if (fp.n_cores <= 1)
        return 0;
    return rte_jhash_3words(lip, rip, (uint32_t)lport << 16 | rport, 0) % fp.n_cores;
}

#define STATS(X)                                                                         \
    X(rx_pkts)                                                                           \
    X(rx_bytes)                                                                          \
    X(tx_pkts)                                                                           \
    X(tx_bytes) X(exceptions) X(drops_nobuf) X(drops_bad) X(drops_ring) X(app_refused)   \
        X(retx_fast) X(retx_timeout) X(ooo_segs) X(idle_sleeps) X(app_kicks) X(sp_kicks)
/* The counters in struct fp_core itself. */
#define CORE_STATS(X)                                                                    \
    X(tx_drops)                                                                          \
    X(rx_ignored)                                                                        \
    X(acks_sent) X(retx_bytes) X(retx_sack) X(ce_marks) X(syncookies_sent) X(rst_shed)   \
        X(exc_shed) X(syn_shed) X(rings_released) X(rings_kept) X(rings_release_fail)    \
            X(tso_frames) X(tso_segs)

struct json_object *fp_stats_json(void)
{
    struct json_object *o = json_object_new_object();
    struct json_object *cores = cm_json_arr(o, "cores");

    for (unsigned i = 0; i < fp.n_cores; i++) {
        const struct fp_core *c = &fp.cores[i];
        struct json_object *j = json_object_new_object();
        cm_json_u64(j, "core", i);
#define J(n) cm_json_u64(j, #n, c->stats.n);
        STATS(J)
#undef J
#define J(n) cm_json_u64(j, #n, c->n);
        CORE_STATS(J)
#undef J
        struct json_object *reasons = cm_json_obj(j, "rx_reasons");
        for (unsigned r = 1; r < FP_RX_N; r++)
            cm_json_u64(reasons, fp_rx_reason_name(r), c->rx_reason[r]);
        cm_json_push(cores, j);
    }
    return o;
}

void fp_write_stats(FILE *f)
{
    fprintf(f, "%-14s", "fast path");
    for (unsigned i = 0; i < fp.n_cores; i++) {
        char h[16];
        snprintf(h, sizeof(h), "core %u", i);
        fprintf(f, " %16s", h);
    }
    fprintf(f, "\n");
#define T(n)                                                                             \
    fprintf(f, "%-14s", #n);                                                             \
    for (unsigned i = 0; i < fp.n_cores; i++)                                            \
        fprintf(f, " %16" PRIu64, fp.cores[i].stats.n);                                  \
    fprintf(f, "\n");
    STATS(T)
#undef T
#define X(n)                                                                             \
    fprintf(f, "%-14s", #n);                                                             \
    for (unsigned i = 0; i < fp.n_cores; i++)                                            \
        fprintf(f, " %16" PRIu64, fp.cores[i].n);                                        \
    fprintf(f, "\n");
    CORE_STATS(X)
#undef X
    /* Frames by reason: only the reasons that happened. */
    for (unsigned r = 1; r < FP_RX_N; r++) {
        bool any = false;
        for (unsigned i = 0; i < fp.n_cores; i++)
            any |= fp.cores[i].rx_reason[r] != 0;
        if (!any)
            continue;
        char name[32];
        snprintf(name, sizeof(name), "  %s", fp_rx_reason_name(r));
        fprintf(f, "%-14s", name);
        for (unsigned i = 0; i < fp.n_cores; i++)
            fprintf(f, " %16" PRIu64, fp.cores[i].rx_reason[r]);
        fprintf(f, "\n");
    }
}
