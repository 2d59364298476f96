/* ctxq.h - the entries carried by a context's queues.
 *
 * Each struct is the body of one 64-byte queue entry (see queue.h); the
 * entry's type byte selects the struct.  A flow is named by its id and a
 * generation number: tasd reuses flow ids, and an entry whose generation does
 * not match the flow's current one is stale and ignored.  Every field an
 * application writes is validated by tasd before use.
 *
 * Data movement (fp = fast path):
 *   app -> fp   TAS_FPIN_UPDATE   "I wrote tx_bytes more at my tx tail" and/or
 *                                 "I consumed rx_bytes from the rx head"
 *   fp -> app   TAS_FPOUT_UPDATE  "rx_bytes more arrived in order" (+FIN)
 *                                 and/or "tx_freed bytes were acknowledged"
 * Control (sp = slow path):
 *   app -> sp   LISTEN, CONNECT, ACCEPTED, CLOSE, SHUTDOWN, ABORT, UNLISTEN
 *   sp -> app   LISTEN_DONE, NEW_CONN, CONNECTED, RESET, CLOSED
 * Ring buffers: a flow's rx and tx rings live in the application's region at
 * rx_off/tx_off (region offsets) with sizes rx_size/tx_size.  Positions wrap
 * modulo the size.  The fast path writes rx data at (rx head + unread bytes);
 * the application writes tx data at (tx head + unacked + unsent bytes).
 */
#ifndef TAS_CTXQ_H
#define TAS_CTXQ_H

#include <assert.h>
#include <stdint.h>

#include "tas/queue.h"

#define TAS_QE_BODY (TAS_QE_SIZE - 1)

/* ---- application -> fast path ---- */
enum { TAS_FPIN_UPDATE = 1 };
struct tas_fpin {
    uint32_t flow;     /* flow id */
    uint32_t gen;      /* flow generation */
    uint32_t tx_bytes; /* new bytes written to the tx ring */
    uint32_t rx_bytes; /* bytes consumed from the rx ring */
};

/* ---- fast path -> application ---- */
enum { TAS_FPOUT_UPDATE = 1 };
#define TAS_FPOUT_FIN 0x1 /* the peer's FIN follows the rx bytes */
struct tas_fpout {
    uint32_t flow;
    uint32_t gen;
    uint32_t rx_bytes; /* new in-order bytes in the rx ring */
    uint32_t tx_freed; /* tx bytes acknowledged: space free again */
    uint32_t flags;    /* TAS_FPOUT_* */
};

/* ---- application -> slow path ---- */
enum {
    TAS_SPIN_LISTEN = 1,
    TAS_SPIN_CONNECT = 2,
    TAS_SPIN_ACCEPTED = 3,
    TAS_SPIN_CLOSE = 4,
    TAS_SPIN_SHUTDOWN = 5,
    TAS_SPIN_ABORT = 6,
    TAS_SPIN_UNLISTEN = 7,
};
struct tas_spin_listen {
    uint64_t opaque;  /* echoed in LISTEN_DONE */
    uint32_t ip;      /* local address, network order; 0 = any */
    uint16_t port;    /* local port, host order; must be != 0 */
    uint16_t flags;   /* TAS_LISTEN_REUSEPORT */
    uint32_t backlog; /* max connections established but not accepted */
};
#define TAS_LISTEN_REUSEPORT 0x1
struct tas_spin_connect {
    uint64_t opaque;     /* echoed in CONNECTED */
    uint32_t local_ip;   /* 0 = tasd's address */
    uint32_t remote_ip;  /* network order */
    uint16_t local_port; /* host order; 0 = pick an ephemeral port */
    uint16_t remote_port;
};
struct tas_spin_accepted {
    uint32_t listener; /* listener id */
    uint32_t count;    /* connections taken off its accept queue */
};
/* CLOSE, ABORT */
struct tas_spin_flow {
    uint32_t flow;
    uint32_t gen;
};
struct tas_spin_shutdown {
    uint32_t flow;
    uint32_t gen;
    uint32_t how; /* SHUT_RD, SHUT_WR, SHUT_RDWR */
};
struct tas_spin_unlisten {
    uint32_t listener;
};

/* ---- slow path -> application ---- */
enum {
    TAS_SPOUT_LISTEN_DONE = 1,
    TAS_SPOUT_NEW_CONN = 2,
    TAS_SPOUT_CONNECTED = 3,
    TAS_SPOUT_RESET = 4,
    TAS_SPOUT_CLOSED = 5,
};
struct tas_spout_listen_done {
    uint64_t opaque;
    int32_t status;    /* 0 or -errno (-EADDRINUSE, -EADDRNOTAVAIL, ...) */
    uint32_t listener; /* listener id on success */
};
/* Connection buffers, shared by NEW_CONN and CONNECTED. */
struct tas_conn_bufs {
    uint64_t rx_off; /* region offset of the rx ring */
    uint64_t tx_off; /* region offset of the tx ring */
    uint32_t rx_size;
    uint32_t tx_size;
};
struct tas_spout_new_conn {
    struct tas_conn_bufs bufs; /* 24 bytes */
    uint32_t listener;
    uint32_t flow;
    uint32_t gen;
    uint32_t local_ip; /* network order */
    uint32_t remote_ip;
    uint16_t local_port; /* host order */
    uint16_t remote_port;
    uint16_t mss;        /* negotiated MSS (TCP_MAXSEG) */
    uint16_t fp_core;    /* the fast-path core that owns this flow */
};
struct tas_spout_connected {
    struct tas_conn_bufs bufs;
    uint64_t opaque;
    int32_t status; /* 0 or -errno (-ECONNREFUSED, -ETIMEDOUT, -ENETUNREACH, ...) */
    uint32_t flow;
    uint32_t gen;
    uint32_t local_ip;
    uint16_t local_port;
    uint16_t mss;
    uint16_t fp_core;
};
struct tas_spout_reset {
    uint32_t flow;
    uint32_t gen;
    int32_t error; /* ECONNRESET, ETIMEDOUT, EPIPE (positive errno) */
};
/* CLOSED: tasd freed the flow; the application may drop its state. */
struct tas_spout_closed {
    uint32_t flow;
    uint32_t gen;
};

static_assert(sizeof(struct tas_fpin) <= TAS_QE_BODY, "fits an entry");
static_assert(sizeof(struct tas_fpout) <= TAS_QE_BODY, "fits an entry");
static_assert(sizeof(struct tas_spin_listen) <= TAS_QE_BODY, "fits an entry");
static_assert(sizeof(struct tas_spin_connect) <= TAS_QE_BODY, "fits an entry");
static_assert(sizeof(struct tas_spout_new_conn) <= TAS_QE_BODY, "fits an entry");
static_assert(sizeof(struct tas_spout_connected) <= TAS_QE_BODY, "fits an entry");

#endif /* TAS_CTXQ_H */
