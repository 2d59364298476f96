/* shm.h - layout of an application's shared-memory region and of the global
 * status page.
 *
 * tasd creates one region (a memfd) per application when it registers, maps
 * it, and hands the descriptor to the application, which maps it too.  An
 * application maps only its own region.  Layout, from offset 0:
 *
 *   struct tas_region_hdr        one page, written once by tasd
 *   max_ctx contexts             each ctx_stride bytes:
 *       struct tas_ctx_hdr       one cache line (the wake-up flag)
 *       queue entry arrays       q_ents * 64 bytes each, in the order of
 *                                enum tas_ctx_queue (sp_in, sp_out, then
 *                                fp_in[c], fp_out[c] for each fast-path core)
 *   flow info area               info_off: one struct tas_flow_info per slot
 *   connection buffers           buf_off .. buf_off + buf_size: max_conns
 *                                slots of slot_size bytes, one per connection
 *
 * The region is sized for max_conns connections with rings at their largest
 * but costs only what is touched: memfd pages are allocated on first use.
 * A slot holds a connection's two rings, which start small (rx_init,
 * tx_init) and grow in place (ctxq.h): the rx ring upward from rx_at, the
 * tx ring downward from it, so that the two small rings share one page.  When a
 * connection whose rings grew is freed, tasd gives the pages back (punches
 * them out of the memfd); slots are reused most recently freed first.
 *
 * The header is advisory for the application; tasd never re-reads it and
 * uses its own copy of every value, since the application can write to it.
 *
 * The global page (struct tas_global) is a separate memfd every application
 * maps read-only: it tells whether a fast-path core is sleeping, so that the
 * application kicks that core's doorbell eventfd only when needed.
 */
#ifndef TAS_SHM_H
#define TAS_SHM_H

#include <assert.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "tas/queue.h"

#define TAS_REGION_MAGIC 0x54415352u /* "TASR" */
#define TAS_ABI_VERSION  8u
#define TAS_MAX_FP_CORES 8
#define TAS_CACHELINE 64
#define TAS_PAGE 4096
#define TAS_CC_MAX       8 /* congestion-control algorithms tasd can offer */

/* Written by tasd once at region creation; read by the application. */
struct tas_region_hdr {
    uint32_t magic;        /* TAS_REGION_MAGIC */
    uint32_t version;      /* TAS_ABI_VERSION */
    uint64_t size;         /* total bytes of the region */
    uint32_t app_id;       /* tasd's id for this application */
    uint16_t n_fp;         /* fast-path cores: fp queue pairs per context */
    uint16_t max_ctx;      /* number of context slots */
    uint32_t q_ents;       /* entries per queue (power of two) */
    uint32_t max_flows;    /* every flow id is < max_flows */
    uint64_t ctx_off;      /* offset of context 0 */
    uint64_t ctx_stride;   /* bytes per context (header + its queues) */
    uint64_t buf_off;      /* offset of the connection buffer area */
    uint64_t buf_size;     /* bytes of the connection buffer area */
    uint32_t local_ip;     /* tasd's IPv4 address (network order) */
    uint8_t local_prefix;  /* its prefix length */
    uint8_t pad0[3];
    uint32_t mss;          /* tasd's default MSS (from the port MTU) */
    uint32_t slot_size;    /* bytes per connection slot of the buffer area */
    uint32_t rx_at;        /* in a slot: where the rx ring starts, the tx ring ends */
    uint64_t info_off;     /* offset of the flow info area (64 bytes per slot) */
    uint32_t max_conns;    /* slots */
    uint32_t pad1;
    char cc_name[16]; /* tasd's default congestion control ("reno"),
                       * NUL-padded */
    /* The algorithms tasd offers, NUL-padded, "" after the last: what
     * TCP_CONGESTION accepts (by name) and what the CC fields of queue
     * entries and of struct tas_flow_info number (index + 1; 0 = tasd's
     * choice). */
    char cc_names[TAS_CC_MAX][16];
};
static_assert(sizeof(struct tas_region_hdr) <= TAS_PAGE, "header fits a page");

/* What tasd knows of a connection, for TCP_INFO: written by the slow path
 * now and then (at most every 64 ms while it changes) into the flow info
 * area at the connection's slot, never read back by tasd.  A reader copies it and retries while
 * seq changes (odd: being written). */
#define TAS_INFO_OPT_TIMESTAMPS 0x1 /* as Linux's TCPI_OPT_* */
#define TAS_INFO_OPT_SACK       0x2
#define TAS_INFO_OPT_WSCALE     0x4
#define TAS_INFO_OPT_ECN        0x8
struct tas_flow_info {
    uint32_t seq;          /* even when stable; 0 = never written */
    uint32_t flow;         /* the flow id it describes */
    uint8_t state;         /* Linux numbering: 1 ESTABLISHED ... (TCP_* of netinet/tcp.h) */
    uint8_t ca_state;      /* 0 open, 3 recovery, 4 loss (RTO) */
    uint8_t retransmits;   /* RTOs in a row */
    uint8_t options;       /* TAS_INFO_OPT_* */
    uint8_t snd_wscale, rcv_wscale;
    uint8_t cc; /* its congestion control: cc_names index + 1 */
    uint8_t pad;
    uint32_t rto_us, rtt_us, rttvar_us;
    uint32_t snd_mss, rcv_mss;
    uint32_t snd_cwnd;      /* segments */
    uint32_t total_retrans; /* retransmission events (fast and timeout) */
    uint32_t unacked;       /* bytes in flight */
    uint64_t bytes_acked, bytes_received;
};
static_assert(sizeof(struct tas_flow_info) <= TAS_CACHELINE, "one cache line");

/* Region offsets of a slot's rx ring (the tx ring of size n ends there,
 * starting n bytes before) and of its struct tas_flow_info. */
static inline uint64_t tas_slot_rx_off(const struct tas_region_hdr *h, uint32_t slot)
{
    return h->buf_off + (uint64_t)slot * h->slot_size + h->rx_at;
}
static inline uint64_t tas_slot_info_off(const struct tas_region_hdr *h, uint32_t slot)
{
    return h->info_off + (uint64_t)slot * TAS_CACHELINE;
}

/* Per context; first cache line of the context's slice of the region. */
struct tas_ctx_hdr {
    /* 1 while the application is (about to be) asleep on the context's
     * eventfd.  Written 1 by the application before sleeping; whoever in
     * tasd (fast or slow path) posts an entry to this context exchanges it
     * to 0 and, if it was 1, writes the eventfd. */
    _Atomic uint32_t armed;
    uint32_t pad0;
    /* Written by the application only (libtas counts there the wake-ups
     * its threads give one another: a leader handing over, a local change
     * waking sleepers).  tasd shows it (tasctl stats) and acts on nothing
     * it says. */
    _Atomic uint64_t lib_wakes;
    uint64_t pad[TAS_CACHELINE / 8 - 2];
};
static_assert(sizeof(struct tas_ctx_hdr) == TAS_CACHELINE, "one cache line");

/* Queues of a context, in layout order.  fp_in/fp_out repeat per core. */
enum tas_ctx_queue {
    TAS_CQ_SP_IN = 0,  /* application -> slow path (requests) */
    TAS_CQ_SP_OUT = 1, /* slow path -> application (completions) */
    TAS_CQ_FP_BASE = 2 /* then 2 + 2c: app -> fp core c; 3 + 2c: fp c -> app */
};
static inline uint32_t tas_cq_fp_in(uint32_t core) { return TAS_CQ_FP_BASE + 2 * core; }
static inline uint32_t tas_cq_fp_out(uint32_t core) { return TAS_CQ_FP_BASE + 2 * core + 1; }
static inline uint32_t tas_cq_count(uint32_t n_fp) { return TAS_CQ_FP_BASE + 2 * n_fp; }

/* Bytes of one context: header plus all its queues. */
static inline uint64_t tas_ctx_stride(uint32_t n_fp, uint32_t q_ents)
{
    return TAS_CACHELINE + (uint64_t)tas_cq_count(n_fp) * q_ents * TAS_QE_SIZE;
}

static inline struct tas_ctx_hdr *tas_ctx_hdr(void *region, uint64_t ctx_off,
                                              uint64_t ctx_stride, uint32_t ctx)
{
    return (struct tas_ctx_hdr *)((uint8_t *)region + ctx_off + ctx_stride * ctx);
}

static inline void *tas_ctx_queue_ents(void *region, uint64_t ctx_off,
                                       uint64_t ctx_stride, uint32_t q_ents,
                                       uint32_t ctx, uint32_t queue)
{
    return (uint8_t *)tas_ctx_hdr(region, ctx_off, ctx_stride, ctx) +
           TAS_CACHELINE + (uint64_t)queue * q_ents * TAS_QE_SIZE;
}

/* tasd side, after pushing to a context: wake the application if it armed.
 * Returns 1 if the caller must write the context's eventfd. */
static inline int tas_ctx_need_kick(struct tas_ctx_hdr *h)
{
    atomic_thread_fence(memory_order_seq_cst); /* push before reading armed */
    if (atomic_load_explicit(&h->armed, memory_order_relaxed) == 0)
        return 0;
    return atomic_exchange_explicit(&h->armed, 0, memory_order_acq_rel) != 0;
}

/* Application side, before sleeping: arm, then re-check the queues; only
 * sleep if they are still empty. */
static inline void tas_ctx_arm(struct tas_ctx_hdr *h)
{
    atomic_store_explicit(&h->armed, 1, memory_order_relaxed);
    atomic_thread_fence(memory_order_seq_cst); /* arm before re-checking */
}

/* The global status page; written by tasd, mapped read-only by apps. */
struct tas_global {
    uint32_t magic;   /* TAS_REGION_MAGIC */
    uint32_t n_fp;    /* fast-path cores */
    uint32_t pad[14];
    /* 1 while fast-path core c sleeps (adaptive polling); an application
     * that posts to core c's queue writes that core's doorbell eventfd if
     * this is set.  Written by fast-path core c, read by applications. */
    _Atomic uint32_t fp_sleeping[TAS_MAX_FP_CORES][TAS_CACHELINE / 4];
};

/* Application side, after posting to fp core c: kick it if asleep. */
static inline int tas_fp_need_kick(const struct tas_global *g, uint32_t core)
{
    atomic_thread_fence(memory_order_seq_cst);
    return atomic_load_explicit(&((struct tas_global *)g)->fp_sleeping[core][0],
                                memory_order_relaxed) != 0;
}

#endif /* TAS_SHM_H */
