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
 *                                 "I consumed rx_bytes from the rx head";
 *                                 TAS_FPIN_MORE: "more follows" (corked);
 *                                 TAS_FPIN_IDLE: "give the rings' pages back"
 *   fp -> app   TAS_FPOUT_UPDATE  "rx_bytes more arrived in order" (+FIN)
 *                                 and/or "tx_freed bytes were acknowledged";
 *                                 TAS_FPOUT_IDLE: "your TAS_FPIN_IDLE is done"
 *               TAS_FPOUT_SYNC    the flow's whole ring state: the first
 *                                 entry after the flow moved to this context
 * Control (sp = slow path):
 *   app -> sp   LISTEN, CONNECT, ACCEPTED, CLOSE, SHUTDOWN, ABORT, UNLISTEN,
 *               ATTACH, KEEPALIVE, CC
 *   sp -> app   LISTEN_DONE, NEW_CONN, CONNECTED, RESET, CLOSED, ATTACHED,
 *               DETACHED
 * Sharing across fork(): every application holding a listener or flow (the
 * one that made it and the children that inherited it) may CLOSE/UNLISTEN
 * it; tasd closes it when the last one does.  One context at a time is its
 * owner and hears about it; ATTACH makes the sender the owner (the previous
 * owner gets DETACHED) and is answered by FPOUT_SYNC from the fast path, or
 * by ATTACHED.
 * Ring buffers: a flow's rx and tx rings live in its slot of the
 * application's region (shm.h: rx at tas_slot_rx_off(), the tx ring ending
 * there), with sizes rx_size/tx_size.  Positions wrap modulo the size.  The fast path
 * writes rx data at (rx head + unread bytes); the application writes tx data at (tx head
 * + unacked + unsent bytes). Rings start small and grow in place, up to rx_max/tx_max, as
 * Linux autotunes its buffers (equal sizes: pinned by SO_RCVBUF/SO_SNDBUF): rx  grows
 * upward from rx_off.  The fast path grows it when the window ran low and the unread
 * bytes do not wrap (they lie below its write position), so every position stays where it
 * was; each TAS_FPOUT_UPDATE carries the ring's size, which the application takes before
 * it counts the bytes of that entry. tx  grows downward: the ring always ends at tx_end =
 * tx_off + tx_size (as first handed over), so a ring of size S starts at tx_end - S. The
 * application grows it when its writes ran out of room and its queued bytes do not wrap:
 * TAS_FPIN_UPDATE's tx_size, applied after the entry's tx_bytes and before its tx_post;
 * every position moves up by the growth (the bytes stay where they are), and tx_tail says
 *       where the tail is then (a tail at the old ring's end and one at its
 *       start look the same when nothing is queued).
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
    uint32_t tx_size;  /* 0, or: after tx_bytes the tx ring is this big */
    uint32_t tx_tail;  /* ... and its tail (the next byte's position) is here */
    uint32_t tx_post;  /* bytes written after that growth */
    uint32_t flags;    /* TAS_FPIN_* (other bits: the entry is bad) */
};
/* The socket is corked (TCP_CORK, or this write had MSG_MORE): the entry's
 * tx bytes may wait for more before they go in a segment shorter than the
 * MSS.  An entry without it pushes everything written so far.  The fast
 * path holds corked bytes at most TAS_CORK_MS. */
#define TAS_FPIN_MORE 0x1
#define TAS_CORK_MS   200
/* An idle connection's memory goes back (libtas/core/idle.c,
 * fastpath/idle.c): the application has read every byte received, every
 * byte it wrote was acknowledged, and it writes nothing more into the tx
 * ring until it sees the fast path's answer, an FPOUT_UPDATE with
 * TAS_FPOUT_IDLE (or the flow moved away: FPOUT_SYNC elsewhere,
 * DETACHED).  If the flow is still quiet when the core takes the entry
 * (nothing unread, unsent or unacknowledged, no FIN queued), the core
 * frees the pages under both rings; they come back zeroed, at the same
 * positions, when either side writes there again.  The sizes stay. */
#define TAS_FPIN_IDLE 0x2

/* ---- fast path -> application ---- */
enum { TAS_FPOUT_UPDATE = 1, TAS_FPOUT_SYNC = 2 };
#define TAS_FPOUT_FIN  0x1 /* the peer's FIN follows the rx bytes */
#define TAS_FPOUT_IDLE 0x2 /* answers TAS_FPIN_IDLE: the tx ring may be written */
struct tas_fpout {
    uint32_t flow;
    uint32_t gen;
    uint32_t rx_bytes; /* new in-order bytes in the rx ring */
    uint32_t tx_freed; /* tx bytes acknowledged: space free again */
    uint32_t flags;    /* TAS_FPOUT_* */
    uint32_t rx_size;  /* the rx ring's size now (it only grows) */
};

/* A flow's ring state, absolute (FPOUT_SYNC, ATTACHED). */
struct tas_flow_sync {
    uint32_t rx_head;   /* ring position of the first unread byte */
    uint32_t rx_unread; /* bytes received in order, not yet consumed */
    uint32_t tx_tail;   /* ring position where the next written byte goes */
    uint32_t tx_free;   /* tx ring bytes free */
    uint32_t flags;     /* TAS_FPOUT_FIN: the peer's FIN follows rx_unread */
    uint32_t rx_size;   /* the rings' sizes now */
    uint32_t tx_size;
};
struct tas_fpout_sync {
    uint32_t flow;
    uint32_t gen;
    struct tas_flow_sync st;
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
    TAS_SPIN_ATTACH = 8,
    TAS_SPIN_KEEPALIVE = 9,
    TAS_SPIN_CC = 10,
};
struct tas_spin_listen {
    uint64_t opaque;  /* echoed in LISTEN_DONE */
    uint32_t ip;      /* local address, network order; 0 = any */
    uint16_t port;    /* local port, host order; must be != 0 */
    uint16_t flags;   /* TAS_LISTEN_* */
    uint32_t backlog; /* max connections established but not accepted */
    uint32_t rx_size; /* ring sizes for its connections (SO_RCVBUF, */
    uint32_t tx_size; /* SO_SNDBUF); 0 = tasd's; capped at tasd's */
    uint32_t cc;      /* TCP_CONGESTION of its connections (shm.h's cc_names
                       * index + 1), 0 = tasd's choice */
    /* Names the socket across processes (its kernel socket's inode; 0:
     * none): processes that share one listening socket after fork() each
     * listen again under this name when a new tasd comes (libtas
     * revive.c) and tasd puts them on one port, as the old tasd had them,
     * if they are one user's. */
    uint64_t family;
};
#define TAS_LISTEN_REUSEPORT 0x1
/* The process forked since it last used the socket (a prefork master): it
 * gets no connections until it uses it (ATTACH), as after fork(). */
#define TAS_LISTEN_IDLE 0x2
struct tas_spin_connect {
    uint64_t opaque;     /* echoed in CONNECTED */
    uint32_t local_ip;   /* 0 = tasd's address */
    uint32_t remote_ip;  /* network order */
    uint16_t local_port; /* host order; 0 = pick an ephemeral port */
    uint16_t remote_port;
    uint32_t rx_size; /* ring sizes, as in LISTEN */
    uint32_t tx_size;
    uint32_t cc; /* as in LISTEN */
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
/* KEEPALIVE: SO_KEEPALIVE with TCP_KEEPIDLE/KEEPINTVL/KEEPCNT for a flow. */
struct tas_spin_keepalive {
    uint32_t flow;
    uint32_t gen;
    uint32_t idle_s;  /* 0: off */
    uint32_t intvl_s; /* between unanswered probes */
    uint32_t cnt;     /* unanswered probes before ETIMEDOUT */
};
/* CC: TCP_CONGESTION set on a connection (from now on, without a reset)
 * or a listener (its connections from now on). */
struct tas_spin_cc {
    uint32_t id;   /* flow id (kind FLOW) or listener id (kind LISTENER) */
    uint32_t gen;  /* flow generation */
    uint32_t kind; /* TAS_ATTACH_FLOW or TAS_ATTACH_LISTENER */
    uint32_t cc;   /* cc_names index + 1 */
};
/* ATTACH: take over a listener or flow this application holds. */
enum { TAS_ATTACH_LISTENER = 1, TAS_ATTACH_FLOW = 2 };
struct tas_spin_attach {
    uint64_t opaque; /* echoed in ATTACHED */
    uint32_t kind;   /* TAS_ATTACH_* */
    uint32_t id;     /* listener id or flow id */
    uint32_t gen;    /* flow generation */
};

/* ---- slow path -> application ---- */
enum {
    TAS_SPOUT_LISTEN_DONE = 1,
    TAS_SPOUT_NEW_CONN = 2,
    TAS_SPOUT_CONNECTED = 3,
    TAS_SPOUT_RESET = 4,
    TAS_SPOUT_CLOSED = 5,
    TAS_SPOUT_ATTACHED = 6,
    TAS_SPOUT_DETACHED = 7,
};
struct tas_spout_listen_done {
    uint64_t opaque;
    int32_t status;    /* 0 or -errno (-EADDRINUSE, -EADDRNOTAVAIL, ...) */
    uint32_t listener; /* listener id on success */
};
/* Connection buffers, shared by NEW_CONN and CONNECTED: the connection's
 * slot (shm.h: where its rings and its struct tas_flow_info are), the
 * rings' sizes and the largest they may grow to (equal: pinned). */
struct tas_conn_bufs {
    uint32_t slot;
    uint32_t rx_size;
    uint32_t tx_size;
    uint32_t rx_max;
    uint32_t tx_max;
};
struct tas_spout_new_conn {
    struct tas_conn_bufs bufs; /* 20 bytes */
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

/* ATTACHED: a listener attach (id: the listener to use from now on), or a
 * flow attach that failed or found the flow no longer in the fast path
 * (then st is its final ring state). */
struct tas_spout_attached {
    uint64_t opaque;
    int32_t status; /* 0 or -errno (-EBADF: not held; -ECONNRESET) */
    uint32_t kind;
    uint32_t id;
    uint32_t gen;
    struct tas_flow_sync st;
};
/* DETACHED: another context took the flow over; post nothing more for it. */
struct tas_spout_detached {
    uint32_t flow;
    uint32_t gen;
};

static_assert(sizeof(struct tas_fpin) <= TAS_QE_BODY, "fits an entry");
static_assert(sizeof(struct tas_fpout_sync) <= TAS_QE_BODY, "fits an entry");
static_assert(sizeof(struct tas_spout_attached) <= TAS_QE_BODY, "fits an entry");
static_assert(sizeof(struct tas_fpout) <= TAS_QE_BODY, "fits an entry");
static_assert(sizeof(struct tas_spin_listen) <= TAS_QE_BODY, "fits an entry");
static_assert(sizeof(struct tas_spin_connect) <= TAS_QE_BODY, "fits an entry");
static_assert(sizeof(struct tas_spout_new_conn) <= TAS_QE_BODY, "fits an entry");
static_assert(sizeof(struct tas_spout_connected) <= TAS_QE_BODY, "fits an entry");
static_assert(sizeof(struct tas_spout_new_conn) <= TAS_QE_BODY, "fits an entry");

#endif /* TAS_CTXQ_H */
