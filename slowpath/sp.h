/* sp.h - slow-path internals shared by the files of slowpath/.
 *
 * One global `sp` holds the slow path's state; it is only touched from
 * tasd's main thread.  The objects:
 *
 *   struct sp_app       a registered application (one app.sock connection):
 *                       its shared-memory region, contexts, buffer slots
 *   struct sp_listener  a listening (ip, port) owned by one app context
 *   struct sp_hold      a listener or connection an app inherited across
 *                       fork() (fork.c); struct sp_fork, a fork() announced
 *                       by a parent and not yet claimed by its child
 *   struct sp_conn      one TCP connection from SYN to free: handshake
 *                       record or installed flow
 *   struct sp_tw        a TIME_WAIT pair (time_wait.c): a few words, in a
 *                       table of its own
 *
 * A connection is in the 4-tuple hash while it can receive segments
 * (SYN_SENT .. LAST_ACK).  Its fast-path flow (id, buffers) lives on until
 * the fast path has acknowledged FP_CMD_FLOW_DEL and the application has
 * closed it (or died): only then is the id and the buffer slot reused and
 * TAS_SPOUT_CLOSED posted.
 *
 * Nothing is done per connection per tick.  Each connection has one timer
 * in the wheel (wheel.h), armed at the earliest of what it waits for; the
 * fast path reports the flows whose state changed (acknowledged bytes,
 * losses, ECN marks, a flight starting, data after close) on its activity
 * ring; sp_conn_service() runs for a connection when either happens.
 *
 * No DPDK types here, so unit tests can include it.
 */
#ifndef SP_H
#define SP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tas/ctxq.h"
#include "tas/parkq.h"
#include "tas/queue.h"
#include "tas/shm.h"
#include "fastpath/fastpath.h"
#include "slowpath/arp.h"
#include "slowpath/cc.h"
#include "slowpath/route.h"
#include "slowpath/slots.h"
#include "slowpath/slowpath.h"
#include "slowpath/tcp.h"
#include "slowpath/wheel.h"

struct rte_mbuf;

#define SP_NO_FLOW UINT32_MAX
#define SP_FIN_WAIT_2_MS                                                                 \
    60000 /* orphaned FIN_WAIT_2 lifetime (Linux tcp_fin_timeout)                        \
           */
#define SP_MAX_LISTENERS_PER_APP 4096 /* limits.app_max_listeners at most */
#define SP_CHALLENGE_PER_S       1000  /* like net.ipv4.tcp_challenge_ack_limit */
#define SP_INFO_MS               64    /* struct tas_flow_info refresh period */
#define SP_MAX_SYN_RCVD          65536 /* half-open connections, all listeners */
#define SP_OUTQ_MAX              65536 /* completions parked per context when sp_out is full */
#define SP_RST_PER_SEC           10000 /* resets sent for unknown segments */
#define SP_PING_PER_SEC          1000  /* echo replies */
#define SP_EPHEMERAL_LO          32768
#define SP_EPHEMERAL_HI          60999

/* Waiting for the fast path to execute a command (see cmd.c). */
struct sp_wait {
    uint64_t seq; /* fast-path command sequence, valid once sent */
    bool sent;
};

/* Counters by reason, for sp_write_stats. */
struct sp_counters {
    uint64_t apps_total, app_bad_msgs, app_bad_entries, app_entries;
    /* Linux's rules (cred.c): applications apps.users turned away; ports
     * below ip_unprivileged_port_start refused; SO_REUSEPORT joins of
     * another user's listeners refused */
    uint64_t cred_refused, cred_port_refused, cred_reuseport_refused;
    uint64_t wakeups, timer_wakeups; /* slow-path loop: epoll returns; of them, the timer's */
    uint64_t app_kicks; /* eventfd writes that woke an application's context */
    uint64_t fp_kicks;  /* doorbell writes that woke a fast-path core */
    uint64_t exc_pkts, exc_bad, exc_nontcp, exc_not_ours, pings;
    uint64_t arp_rx, arp_replies, arp_requests, arp_failed, arp_queue_full;
    uint64_t rst_sent, rst_rcvd, rst_ignored, rst_limited;
    uint64_t syn_rcvd, syn_no_listener, syn_drop_backlog, syn_drop_limit, syn_drop_mem;
    uint64_t syn_held; /* frames held a moment at a full accept queue (listen.c) */
    uint64_t synack_retx, syn_retx, handshake_timeouts, bad_ack;
    uint64_t conn_passive, conn_active, conn_refused, conn_unreach, conn_reset;
    uint64_t conn_timeout, conn_closed;
    uint64_t rto_retx, persist_probes, challenge_acks;
    uint64_t tw_created, tw_reacks, tw_reused, tw_reuse_connect, tw_overflow;
    uint64_t reinjected, flow_refused, fp_app_bad, fp_app_late, fp_events;
    uint64_t cmd_backlogged, cmd_dropped;
    uint64_t out_parked, out_dropped;
    uint64_t mbuf_fail, tx_fail;
    uint64_t forks, fork_unknown, fork_expired, attaches, syn_drop_inactive;
    uint64_t tlp_probes, challenge_limited;
    uint64_t syncookies_sent, syncookies_ok, syncookies_bad;
    uint64_t syn_flood_on, syn_flood_off; /* ports handed to the cores' cookies, back */
    uint64_t keepalive_probes, keepalive_timeouts, data_after_close, close_unread;
    /* exc_bad by reason: a frame the fast path passed up that does not parse
     * (short, or failed sp_frame_parse_tcp), a SYN or SYN-ACK whose options
     * are malformed (length 0/1 or past the header) */
    uint64_t exc_bad_frame, exc_bad_opts;
    /* applications that wrote garbage: connections reset because their
     * owner's ring update did not fit; applications disconnected after
     * SP_APP_BAD_ENTRIES_MAX bad queue entries */
    uint64_t app_bad_resets, app_bad_disconnects;
    /* connection slots whose grown rings went back to the system, or not */
    uint64_t slots_punched, punch_fail;
    /* a limit stopped a connection: limits.max_flows, limits.app_max_conns */
    uint64_t limit_flows, limit_app_conns, limit_app_listeners;
    /* limits.app_buf_mb: connections refused; given smaller largest rings */
    uint64_t limit_app_buf, app_buf_shrunk;
    /* contexts given back (CTX_DEL); kept because a core had no room for a
     * flow's re-pointing */
    uint64_t ctx_given_back, ctx_kept;
    /* congestion control changed on a live connection; policy: changes
     * (tasctl), reloads (SIGHUP), connections a max-conns refused */
    uint64_t cc_changes, policy_changes, policy_reloads, policy_refused;
    /* the kernel's routes (kroutes.c): added, removed, not followed */
    uint64_t kroutes_added, kroutes_removed, kroutes_ignored;
    /* the kernel's neighbours (kneigh.c): learned, not taken */
    uint64_t kneigh_learned, kneigh_ignored;
};

struct sp_app_ctx {
    bool used;
    bool deleting;  /* given back (CTX_DEL): free once the cores let go */
    bool recycled;  /* free again after use: CTX_NEW cleans its memory */
    uint16_t gslot; /* fast-path context slot (fp.ctxs[c][gslot]) */
    int efd;        /* the context's eventfd */
    struct tas_ctx_hdr *hdr;
    struct tas_q sp_in;  /* we consume */
    struct tas_q sp_out; /* we produce */
    struct tas_parkq park; /* completions waiting for room in sp_out */
    struct sp_wait del_wait[TAS_MAX_FP_CORES];
};

/* A reference to a listener or connection that an application inherited
 * across fork().  The creator's own reference is a flag on the object
 * (chold); these are the others. */
enum { SP_HOLD_LISTENER = 1, SP_HOLD_FLOW = 2 };
struct sp_hold {
    uint32_t kind; /* SP_HOLD_* */
    uint32_t id;   /* listener id or flow id */
    uint32_t gen;  /* flow generation */
};
struct sp_holds {
    struct sp_hold *v;
    uint32_t n, cap;
};

/* fork() announced by a parent (TAS_MSG_FORK): what the child will hold. */
struct sp_fork {
    struct sp_fork *next;
    uint64_t token;
    uint32_t parent; /* app id */
    int32_t pid;     /* the child, from FORK_DONE; 0 = not known yet */
    uint64_t check_ms; /* next look at whether the child still exists */
    uint64_t expire_ms; /* without FORK_DONE, give up then */
    struct sp_holds holds;
};

struct sp_app {
    struct sp_app *next;
    uint32_t id;
    int32_t pid;
    uint32_t euid, egid; /* SO_PEERCRED; euid as of the last look (cred.c) */
    int pidfd;           /* the process, pinned (cred.c) */
    bool cap_bind;       /* CAP_NET_BIND_SERVICE effective, at the last look */
    int sock;  /* the app.sock connection */
    int memfd; /* region */
    int dbfd;  /* slow-path doorbell eventfd */
    uint8_t *region;
    uint64_t region_size, ctx_off, ctx_stride, buf_off, buf_size;
    uint64_t info_off;  /* flow info area: a struct tas_flow_info per slot */
    uint32_t q_ents;
    uint32_t slot_size; /* bytes per connection slot */
    uint32_t rx_at;     /* in a slot: rx ring start = tx ring end */
    uint32_t max_conns; /* slots */
    uint16_t max_ctx;
    struct sp_app_ctx *ctxs;
    struct sp_lifo bufs;  /* connection slots (LIFO: warm pages first) */
    bool welcomed;        /* HELLO answered */
    bool dying;           /* socket closed: tearing down */
    bool more;            /* sp_in entries left after a bounded drain */
    bool ctx_del_sent;    /* dying: FP_CMD_CTX_DEL sent for its contexts */
    uint32_t n_conns, n_listeners; /* connections with buffers here; listeners */
    uint64_t buf_charged;          /* their largest rings together (limits.app_buf_mb) */
    struct sp_conn *conns;         /* those connections */
    uint32_t n_owned_foreign;      /* connections of other regions it owns (oapp) */
    uint64_t bad_entries, bad_msgs, entries;
    uint64_t lib_wakes_gone; /* lib_wakes of the contexts it gave back */
    uint64_t rx_bytes_gone, tx_bytes_gone; /* of its connections that ended */
    char comm[16];                         /* /proc/PID/comm at HELLO (shown only) */
    uint32_t parent;       /* fork child: the parent's app id, else 0 */
    uint32_t pol_cap_kbps; /* policy: its connections' rate together (0: none) */
    uint32_t pol_active;   /* ... shared among this many (policy.c) */
    struct sp_holds holds; /* what it inherited and still holds */
};

struct sp_listener {
    struct sp_listener *next;
    uint32_t id;
    struct sp_app *app;
    uint16_t ctx;   /* app context that receives NEW_CONN */
    uint32_t ip;    /* network order, 0 = any */
    uint16_t port;  /* host order */
    uint16_t flags; /* TAS_LISTEN_* */
    uint32_t uid;   /* its application's effective uid at LISTEN (SO_REUSEPORT) */
    uint64_t family; /* the application's name for the socket (tas_spin_listen) */
    uint32_t backlog;
    uint32_t group;    /* id of the first listener of a fork family */
    uint32_t rx_size, tx_size; /* rings of its connections: largest */
    bool rx_pinned, tx_pinned; /* SO_RCVBUF / SO_SNDBUF: that size, no growth */
    uint8_t cc_pick;           /* TCP_CONGESTION of its connections (as sp_conn's) */
    bool active;       /* gets connections (else its app forked and has not
                        * used it since: a prefork master) */
    bool chold;        /* its app still holds it (no UNLISTEN yet) */
    uint32_t holders;  /* chold + inherited holds: freed at 0 */
    uint32_t pending;  /* NEW_CONN posted, not yet ACCEPTED */
    uint32_t syn_rcvd; /* half-open connections */
    uint64_t fail_win_ms; /* flood.c: handshakes failed since this time ... */
    uint32_t fail_win_n;  /* ... this many */
    uint64_t accepted_total, drops;
};

enum sp_flow_state {
    SP_FLOW_NONE = 0,  /* no flow id */
    SP_FLOW_RESERVED,  /* id + buffers held, not in the fast path */
    SP_FLOW_INSTALLED, /* FLOW_ADD sent */
    SP_FLOW_DELETING,  /* FLOW_DEL sent, waiting for the core */
    SP_FLOW_DELETED,   /* the core forgot it; id + buffers still held */
};

struct sp_conn {
    struct sp_conn *hnext;         /* 4-tuple hash chain */
    struct sp_conn *lnext, *lprev; /* sp.conns */
    struct sp_conn *anext, *aprev; /* app->conns: those with buffers in app */
    uint8_t state;                 /* enum sp_tcp_state */
    uint8_t fstate;                /* enum sp_flow_state */
    uint8_t core;
    bool hashed;
    bool passive;
    bool handed;           /* NEW_CONN / CONNECTED(0) posted: the app knows it */
    bool app_closed;       /* CLOSE/ABORT received (or app died) */
    uint32_t rx_late_mark; /* the core's fp_flow_x.rx_late at CLOSE */
    bool notified;         /* RESET posted */
    bool rst_on_del;       /* send RST once the core dropped the flow */
    bool syn_retx;         /* SYN/SYN-ACK was retransmitted (Karn) */
    bool arp_wait;         /* waiting for the next hop's MAC (arp_ip) */
    bool half_open;        /* counted in sp.n_syn_rcvd and its listener's syn_rcvd */
    bool ts, ws, sack;     /* negotiated options */
    bool ecn;              /* ECN: asked (SYN_SENT), then negotiated */
    uint32_t lip, rip;     /* network order */
    uint16_t lport, rport; /* network order */
    uint8_t peer_mac[6];
    uint32_t arp_ip; /* next hop being resolved (arp_wait) */

    struct sp_app *app; /* buffers' region; NULL for handshakes, TIME_WAIT */
    struct sp_app *oapp; /* owner: hears about it (ctx); NULL = none now */
    uint16_t ctx;       /* owner's context for completions */
    uint16_t fp_ctx;    /* the fast path's context slot for its events
                         * (FLOW_ADD, FLOW_MOVE, FLOW_RECTX) */
    bool chold;         /* app (the creator) still holds it */
    uint32_t holders;   /* chold + inherited holds; app_closed once 0 */
    int reset_err;      /* why it was reset (for a later ATTACH), or 0 */
    uint32_t rx_size, tx_size; /* its rings at their largest (<= configured) */
    bool rx_pinned, tx_pinned; /* SO_RCVBUF / SO_SNDBUF: that size from the start */
    uint32_t listener;  /* passive: listener id */
    uint64_t opaque;    /* active: echoed in CONNECTED */

    uint32_t flow, gen;
    int64_t buf_slot; /* -1: none */
    uint32_t buf_charge; /* its largest rings, counted in its app's buf_charged */
    struct sp_wait add_wait, del_wait;
    bool add_checked; /* the core's verdict on FLOW_ADD is known */

    uint32_t iss, irs;
    uint16_t peer_mss, mss; /* peer's MSS option, effective payload per segment */
    uint8_t local_ws, remote_ws;
    uint32_t ts_recent; /* peer's last TSval */
    uint32_t peer_win;  /* window of the segment completing the handshake */

    /* its timer: the earliest of timer_ms, the RTO or tail loss probe,
     * the keepalive and the TCP_INFO refresh (sp_conn_rearm) */
    struct sp_timer tm;
    struct sp_conn *dnext; /* FIFO of its core's flows being deleted */
    bool info_dirty;       /* changed since its TCP_INFO was written */
    /* handshake and orphan timer */
    uint64_t timer_ms; /* 0 = off */
    uint32_t retries;
    uint32_t backoff_ms;
    uint64_t syn_time_us; /* first SYN/SYN-ACK sent (RTT sample) */

    /* retransmission timeout (RFC 6298) */
    uint32_t srtt_us, rttvar_us, rto_ms;
    uint32_t last_fp_srtt;
    uint32_t rto_una;
    uint64_t rto_deadline_ms;
    uint32_t rto_retries;
    uint64_t una_moved_ms; /* when SND.UNA last moved (tail loss probe) */
    /* keepalive (SO_KEEPALIVE): idle 0 = off */
    uint32_t ka_idle_ms, ka_intvl_ms, ka_cnt, ka_sent;
    uint64_t ka_rx_ms;     /* idle since (last segment received, or last busy) */
    uint32_t tlp_una;      /* SND.UNA the tail loss probes were sent for */
    uint32_t tlp_n;        /* how many (at most SP_TLP_MAX) */
    uint64_t tlp_due_ms;   /* the next one, 0 = none due */

    /* congestion control (conn_cc.c) */
    const struct sp_cc_ops *cca; /* its algorithm (from sp_conn_cc_start) */
    uint8_t cc_pick;             /* TCP_CONGESTION: registry index + 1; 0 = none */
    struct sp_cc_state cc;
    uint32_t cc_sent_cwnd; /* last cwnd given to the fast path */
    uint32_t cc_sent_rate; /* ... and rate (kbit/s) */
    uint32_t last_acked;
    uint32_t last_ecn_bytes;
    uint16_t last_fretx;
    /* policy (policy.c) */
    bool pol_port;                  /* counted in its port's rule */
    const struct sp_cc_ops *pol_cc; /* the rules' algorithm for it, NULL: none */
    uint32_t pol_rate_kbps;         /* its port's rate cap, 0: none */
    uint32_t pol_share_kbps;        /* its share of its application's cap, 0: none */
    uint32_t pol_seen_acked;        /* cnt_acked at the last look */
    uint64_t pol_active_ms;         /* when it last moved data */
    uint64_t tx_acked_total;
    uint32_t retx_events;  /* fast retransmits and timeouts (TCP_INFO) */
    uint32_t info_seq;     /* its struct tas_flow_info's seq */
    uint64_t info_ms;      /* when it was last written */
};

/* A TIME_WAIT pair (time_wait.c): what answers the peer's last segments
 * for time_wait_ms after both FINs, and what a new connection of the same
 * 4-tuple must be above. */
struct sp_tw {
    struct sp_tw *hnext;   /* its hash chain */
    struct sp_timer tm;    /* expiry */
    uint32_t lip, rip;     /* network order */
    uint16_t lport, rport; /* network order */
    uint32_t snd_nxt;      /* ours, past our FIN */
    uint32_t rcv_nxt;      /* theirs, past their FIN */
    uint32_t ts_recent;    /* peer's last TSval (ts only) */
    uint32_t since_s;      /* sp clock, seconds: when it began (tw_reuse) */
    uint8_t peer_mac[6];
    uint8_t core;
    bool ts; /* timestamps were in use */
    uint16_t win; /* window in our ACKs */
};

struct sp_state {
    struct sp_params cfg;
    uint32_t unpriv_port; /* net.ipv4.ip_unprivileged_port_start */
    struct cm_port *port;
    uint32_t ip;
    uint8_t prefix;
    uint8_t mac[6];
    uint16_t mtu;
    uint16_t mss;   /* our MSS option: mtu - 40 */
    uint8_t wscale; /* our window scale (rx_buf_size) */
    unsigned n_cores;
    const struct sp_cc_ops *cc;
    uint32_t rate_kbps; /* default per-flow rate, 0 = none */
    uint32_t interval_us;
    uint32_t rto_min_ms, rto_initial_ms, rto_max_ms;

    int epfd, sigfd, tfd, app_lfd;
    volatile bool stop;
    bool ready;
    uint64_t now_us, now_ms;
    struct sp_counters cnt;

    /* applications and contexts */
    struct sp_app *apps;
    uint32_t n_apps, next_app_id;
    struct sp_slots gslots; /* fast-path context slots */
    struct sp_app *gslot_app[FP_MAX_CTX];
    char app_path[SP_PATH_MAX + 16];

    /* global page */
    int gpage_fd;
    struct tas_global *gpage;
    size_t gpage_size;

    /* flows and connections */
    struct sp_slots flow_ids;
    struct sp_conn **flow_conn; /* by flow id */
    uint32_t *flow_gen;
    struct sp_conn **hash;
    uint32_t hash_mask;
    struct sp_conn *conns; /* every connection record */
    uint32_t n_conns, n_syn_rcvd, n_tw;
    struct sp_wheel wheel; /* connection timers */
    struct sp_conn *del_head[TAS_MAX_FP_CORES], *del_tail[TAS_MAX_FP_CORES];
    uint64_t act_ms;       /* last time a core reported activity */
    struct sp_tw **tw_hash; /* TIME_WAIT pairs (time_wait.c) */
    uint32_t tw_mask;
    struct sp_wheel tw_wheel;
    struct sp_listener *listeners;
    uint32_t next_listener_id, n_listeners;
    uint64_t challenge_start_ms; /* RFC 5961 challenge ACK rate limit */
    uint32_t challenge_sent;
    struct sp_fork *forks; /* announced, not claimed */
    uint32_t n_forks;
    uint8_t isn_key[16];
    uint32_t rst_tokens;
    uint64_t rst_refill_ms;

    struct sp_arp_table arp;
    struct sp_route_table routes;
};

extern struct sp_state sp;

/* Relaxed reads of fast-path-owned flow fields. */
static inline uint32_t sp_rd32(const uint32_t *p)
{
    return __atomic_load_n(p, __ATOMIC_RELAXED);
}
static inline uint16_t sp_rd16(const uint16_t *p)
{
    return __atomic_load_n(p, __ATOMIC_RELAXED);
}

/* The size a ring starts with: the configured initial size, or all of it
 * (max) when pinned by SO_RCVBUF/SO_SNDBUF or when smaller. */
static inline uint32_t sp_ring_initial(uint32_t max, uint32_t initial, bool pinned)
{
    return pinned || initial > max ? max : initial;
}

/* The rx ring a connection starts with (its window in SYN and SYN-ACK). */
static inline uint32_t sp_conn_rx_initial(const struct sp_conn *c)
{
    return sp_ring_initial(c->rx_size, sp.cfg.rx_buf_initial, c->rx_pinned);
}

/* When keepalive wants to look at c next (its idle time, then each probe). */
static inline uint64_t sp_conn_ka_due(const struct sp_conn *c)
{
    return c->ka_rx_ms + c->ka_idle_ms + (uint64_t)c->ka_sent * c->ka_intvl_ms;
}

/* ---- loop.c ---- */
void sp_clock_update(void);

/* ---- cmd.c: commands and frames to the fast path ---- */
/* Queue a command for core (parked in order if the ring is full).  w, if
 * not NULL, is filled when the command reaches the ring.  0 or -ENOBUFS. */
int sp_cmd(unsigned core, uint32_t type, uint32_t id, uint32_t arg, uint32_t arg2,
           struct rte_mbuf *m, struct sp_wait *w);
bool sp_wait_done(unsigned core, const struct sp_wait *w);
/* Transmit a built frame on core (tcp: fp_tx_prepare_cksum first). */
void sp_tx(unsigned core, struct rte_mbuf *m, bool tcp);
/* Push parked commands, kick sleeping cores.  Once per loop iteration. */
void sp_cmd_flush(void);
bool sp_cmd_idle(void);
void sp_cmd_fini(void);

/* ---- app_out.c ---- */
/* Post a completion to an app context (parks it if sp_out is full). */
int sp_app_post(struct sp_app *a, uint16_t ctx, uint8_t type, const void *body,
                size_t len);
/* A slot's rx ring start (= tx ring end) and its struct tas_flow_info. */
uint8_t *sp_app_rx_at(struct sp_app *a, int64_t slot);
struct tas_flow_info *sp_app_info(struct sp_app *a, int64_t slot);
/* The slot is free again: if its rings grew, give its pages back. */
void sp_app_slot_release(struct sp_app *a, int64_t slot, uint32_t rx_size,
                         uint32_t tx_size);
/* Post what was parked for context x while there is room. */
void sp_app_ctx_unpark(struct sp_app_ctx *x);
struct sp_app *sp_app_of_gslot(uint32_t gslot);

/* ---- conn.c (limits) ---- */
/* A configured limit stopped a: say which, what it does and how to raise
 * it, at most once a second for each *last_ms. */
void sp_limit_hit(const struct sp_app *a, const char *what, uint32_t value,
                  const char *effect, const char *setting, const char *flag,
                  uint64_t *last_ms);

/* ---- cred.c ---- */
void sp_cred_init(void); /* reads ip_unprivileged_port_start */
/* At accept: pid, uids and a pidfd of the peer.  0, or -errno: refuse it. */
int sp_cred_take(struct sp_app *a, int sock);
void sp_cred_drop(struct sp_app *a);
bool sp_cred_admitted(const struct sp_app *a); /* apps.users */
/* May a use local port as a listener or a connection's source?  0 or
 * -EACCES (a port below ip_unprivileged_port_start, unprivileged). */
int sp_cred_port(struct sp_app *a, uint16_t port);
/* a's effective uid now (a refusal to share if it cannot be read: UINT32_MAX). */
uint32_t sp_cred_uid(struct sp_app *a);

/* ---- app.c ---- */
int sp_app_init(void);
void sp_app_fini(void);
void sp_app_tick(void);
/* Something sp_app_tick must look at again soon (dying applications,
 * parked completions, requests left in queues). */
bool sp_app_busy(void);
/* Shutdown: free every application (unmapping only what the cores no
 * longer use, unless they are stopped). */
void sp_app_free_all(bool cores_stopped);
void sp_app_write(FILE *f);             /* the applications table */
struct json_object *sp_apps_json(void); /* the same as a json-c array */

/* ---- conn_table.c ---- */
/* Hash of a 4-tuple (salted), for the connection and TIME_WAIT tables. */
uint32_t sp_tuple_hash(uint32_t lip, uint32_t rip, uint16_t lport, uint16_t rport);
struct sp_conn *sp_conn_lookup(uint32_t lip, uint32_t rip, uint16_t lport,
                               uint16_t rport);
void sp_conn_hash_add(struct sp_conn *c);
void sp_conn_hash_del(struct sp_conn *c);

/* ---- conn.c ---- */
int sp_conn_init(void);
void sp_conn_fini(void);
struct sp_conn *sp_conn_new(uint32_t lip, uint32_t rip, uint16_t lport, uint16_t rport);
/* Take a flow id and a buffer slot in app a.  0, -ENOSPC, -ENOBUFS. */
int sp_conn_reserve(struct sp_conn *c, struct sp_app *a);
/* Fill fp.flows[c->flow] and send FLOW_ADD.  0 or -errno. */
int sp_conn_install(struct sp_conn *c);
/* Did the core refuse FLOW_ADD (executed, yet not installed)? */
bool sp_conn_add_refused(struct sp_conn *c);
/* Remove the flow from the fast path (RST to the peer afterwards if rst). */
void sp_conn_unflow(struct sp_conn *c, bool rst);
/* A deleting flow's core is done with it: RST if asked, free if possible. */
void sp_conn_flow_gone(struct sp_conn *c);
/* Leave the hash; free when nothing holds it any more. */
void sp_conn_finish(struct sp_conn *c);
void sp_conn_maybe_free(struct sp_conn *c);
/* Bytes c received so far (from its flow; 0 without one). */
uint64_t sp_conn_rx_bytes(const struct sp_conn *c);
/* Reset a connection: RST to the peer (if installed), RESET(err) to the app. */
void sp_conn_reset(struct sp_conn *c, int err, bool send_rst);
/* An event of the state diagram (tcp.h) for an installed connection. */
void sp_conn_event(struct sp_conn *c, enum sp_tcp_event ev);
/* An event from a fast-path core about a flow or an application. */
void sp_conn_fp_event(const struct fp_event *ev);
/* Our SND.NXT for an installed flow, from the fast path's state. */
uint32_t sp_conn_snd_nxt(const struct sp_conn *c);
/* The window field for a segment the slow path sends on an installed flow:
 * the fast path's rx_avail, scaled, at most 65535. */
uint16_t sp_conn_adv_win(const struct sp_conn *c);
/* Refresh the connection's struct tas_flow_info (TCP_INFO) in its slot. */
void sp_conn_write_info(struct sp_conn *c);
/* c's owner (oapp) is a now (NULL: none). */
void sp_conn_set_owner(struct sp_conn *c, struct sp_app *a);
/* MSS for a flow given the peer's MSS option; what the app sees. */
uint16_t sp_conn_syn_mss(uint16_t peer_mss);
uint16_t sp_conn_app_mss(const struct sp_conn *c);
/* Ring size for a request (SO_RCVBUF/SO_SNDBUF; 0 = max): within [2048, max]. */
uint32_t sp_ring_size(uint32_t req, uint32_t max);
/* The connection's buffers as region offsets, for NEW_CONN/CONNECTED. */
void sp_conn_bufs(const struct sp_conn *c, struct tas_conn_bufs *b);
/* Shutdown: RST every connection, RESET to apps. */
void sp_conn_reset_all(void);

/* ---- conn_app.c ---- */
/* CLOSE, ABORT, SHUTDOWN, KEEPALIVE on a flow a holds. */
void sp_conn_app_req(struct sp_app *a, uint16_t ctx, uint8_t type, const void *body);
/* a is gone: it lets go of the connections it created. */
void sp_conn_app_gone(struct sp_app *a);
/* a holds connection c (as creator or by inheritance). */
bool sp_conn_held(const struct sp_conn *c, const struct sp_app *a);
/* One inherited holder went away without closing (a; NULL: a fork record). */
void sp_conn_release_inherited(struct sp_conn *c, struct sp_app *a);
/* a gave context ctx back (CTX_DEL): what still points at it (connections
 * it closed, which finish) goes to its first context, in the fast path too.
 * -ENOBUFS if a core's command ring had no room for one: the slot must not
 * be given to anyone else then. */
int sp_conn_ctx_gone(struct sp_app *a, uint16_t ctx);
/* ATTACH of a flow a holds. */
void sp_conn_attach(struct sp_app *a, uint16_t ctx, const struct tas_spin_attach *r);

/* ---- connect.c ---- */
void sp_conn_connect(struct sp_app *a, uint16_t ctx, const struct tas_spin_connect *req);
void sp_conn_arp_done(struct sp_conn *c, const uint8_t *mac);
/* The neighbour table's hook (sp_neigh_set_hook): the connections waiting
 * for ip go on (mac) or fail (NULL). */
void sp_connect_neigh_done(uint32_t ip, const uint8_t *mac);
/* Active open failed: CONNECTED(err) to the app, forget the connection. */
void sp_conn_connect_fail(struct sp_conn *c, int err);
/* A segment for a connection in SYN_SENT. */
void sp_connect_input(struct sp_conn *c, const struct sp_pkt *p);

/* ---- conn_timer.c ---- */
/* Re-arm c's timer at the earliest thing it waits for (or disarm it). */
void sp_conn_rearm(struct sp_conn *c);
/* Set the handshake/orphan timer (0 = off) and re-arm. */
void sp_conn_timer(struct sp_conn *c, uint64_t at_ms);
/* The flow's FLOW_DEL is queued: its core's FIFO of deletions. */
void sp_conn_del_queue(struct sp_conn *c);
/* Fold an RTT sample into the connection's RTO estimate (RFC 6298). */
void sp_rto_sample(struct sp_conn *c, uint32_t rtt_us);
/* The RTO from the current estimate, clamped to [rto_min, rto_max]. */
uint32_t sp_rto_base(const struct sp_conn *c);

/* ---- timers.c ---- */
/* Per tick: the timers that fell due, the flows whose deletion the cores
 * finished.  Cost follows what happened, not the number of connections. */
void sp_conn_tick(void);
/* Take core's activity ring: service each flow it names. */
void sp_conn_act_drain(unsigned core);
/* Everything the slow path does for c beyond segments and requests: its
 * handshake, orphan and keepalive timers, the RTO and tail loss probes,
 * congestion control, TCP_INFO, data after close; then its timer re-armed.
 * May reset and free c. */
void sp_conn_service(struct sp_conn *c);

/* conn_cc.c: the connection's algorithm (the socket's, the policy's or
 * tcp.cc); starting it before FLOW_ADD; once per interval; choosing it
 * again and telling the fast path the rate (after a policy change or
 * TCP_CONGESTION). */
const struct sp_cc_ops *sp_conn_cc_choice(const struct sp_conn *c);
uint32_t sp_conn_rate(const struct sp_conn *c);
void sp_conn_cc_start(struct sp_conn *c);
void sp_conn_cc_update(struct sp_conn *c, bool timeout);
void sp_conn_cc_rechoose(struct sp_conn *c);

/* policy.c: whether a new connection c of a may be (counts it and fills
 * in its pol_* fields), its end; whether a's limits leave room for one
 * more on lport (a SYN); start, SIGHUP, the tick. */
bool sp_policy_admit(struct sp_conn *c, struct sp_app *a);
bool sp_policy_room(struct sp_app *a, uint16_t lport); /* lport: network order */
void sp_policy_conn_gone(struct sp_conn *c);
int sp_policy_load(const struct sp_policy_spec *specs, unsigned n);
void sp_policy_reload(void);
void sp_policy_tick(void);

/* nlwatch.c: the kernel's objects of one notification group: a dump
 * (each object to each), then every message of the group to on_msg from
 * the loop.  0 or -errno (said on stderr, naming what). */
struct nl_sock;
struct nl_cache;
struct nl_object;
struct nl_msg;
struct sp_nlwatch {
    struct nl_sock *events;
    const char *what;
    bool said; /* a receive error was reported */
};
int sp_nlwatch_start(struct sp_nlwatch *w, const char *what, int group,
                     int (*dump)(struct nl_sock *, struct nl_cache **),
                     void (*each)(struct nl_object *, void *),
                     int (*on_msg)(struct nl_msg *, void *));
void sp_nlwatch_stop(struct sp_nlwatch *w);

/* kroutes.c: follow the kernel's routes (a dump, then notifications). */
int sp_kroutes_init(void);
void sp_kroutes_fini(void);
/* kneigh.c: take the kernel's neighbours (a dump, then notifications). */
int sp_kneigh_init(void);
void sp_kneigh_fini(void);
/* Anything the tick must look at soon?  When the next timer is due. */
bool sp_conn_busy(void);
uint64_t sp_conn_next_ms(void);

/* ---- listeners.c ---- */
struct sp_listener *sp_listener_get(uint32_t id);
bool sp_listener_port_used(uint16_t port);

/* ---- listen.c ---- */
void sp_listen_req(struct sp_app *a, uint16_t ctx, const struct tas_spin_listen *req);
void sp_listen_cc(struct sp_app *a, uint32_t id, uint32_t cc);
void sp_unlisten(struct sp_app *a, uint32_t id);
void sp_accepted(struct sp_app *a, uint32_t id, uint32_t count);
/* An ACK for no known connection: a SYN cookie's?  Then true (mbuf consumed). */
bool sp_listen_cookie_ack(const struct sp_pkt *p, struct rte_mbuf *m);
/* A SYN for no known connection (mbuf consumed). */
void sp_listen_syn(const struct sp_pkt *p, struct rte_mbuf *m);
/* The same, for a SYN that ended a TIME_WAIT pair: the new connection's
 * ISS is iss (above the old sequence space, as Linux does). */
void sp_listen_syn_iss(const struct sp_pkt *p, struct rte_mbuf *m, uint32_t iss);
/* Segment for a SYN_RCVD record (mbuf consumed). */
void sp_listen_input(struct sp_conn *c, const struct sp_pkt *p, struct rte_mbuf *m);
/* A SYN_RCVD record ran out of SYN-ACK retransmissions. */
void sp_listen_expire(struct sp_conn *c);
void sp_listen_app_gone(struct sp_app *a);
/* a gave context ctx back: its listeners there tell the first one. */
void sp_listen_ctx_gone(struct sp_app *a, uint16_t ctx);
/* a holds listener l (as creator or by inheritance). */
bool sp_listener_held(const struct sp_listener *l, const struct sp_app *a);
/* Drop one holder; frees l at the last. */
void sp_listener_unhold(struct sp_listener *l);
/* ATTACH of a listener a holds: answered with ATTACHED. */
void sp_listen_attach(struct sp_app *a, uint16_t ctx, const struct tas_spin_attach *r);

/* ---- holds.c ---- */
int sp_holds_add(struct sp_holds *h, uint32_t kind, uint32_t id, uint32_t gen);
/* Index of the hold, or -1. */
int sp_holds_find(const struct sp_holds *h, uint32_t kind, uint32_t id, uint32_t gen);
void sp_holds_del(struct sp_holds *h, int i);

/* ---- fork.c ---- */
/* TAS_MSG_FORK: record what a holds for its child (flags: TAS_FORK_*).
 * Token, or 0 (no memory). */
uint64_t sp_fork_begin(struct sp_app *a, uint32_t flags);
/* TAS_MSG_FORK_DONE. */
void sp_fork_done(struct sp_app *a, uint64_t token, int32_t pid);
/* HELLO of a fork child: take over the record's holds.  0 or -errno. */
int sp_fork_claim(struct sp_app *a, uint64_t token, uint32_t parent);
/* Release records whose child is gone or never came. */
void sp_fork_tick(void);
void sp_fork_fini(void);
/* Release every hold in h: its app a went away (NULL: a fork record). */
void sp_holds_release_all(struct sp_holds *h, struct sp_app *a);
void sp_listen_write(FILE *f);               /* one table row per listener */
struct json_object *sp_listeners_json(void); /* the same as a json-c array */
void sp_listen_fini(void);
/* Frames held at a full accept queue (listen.c): any?  Run those whose
 * listener has room again, drop those that waited too long. */
bool sp_listen_holding(void);
void sp_listen_retry(void);
typedef void (*sp_reinput_hook)(struct rte_mbuf *m, unsigned core);
void sp_listen_set_reinput(sp_reinput_hook fn); /* loop.c: sp_exc_input */

/* ---- flood.c ---- */
/* The cores answer SYNs to port (host order) with cookies: SYN-ACK window. */
void sp_flood_publish(uint16_t port, uint16_t win);
/* A half-open connection of l failed (reset, timed out): count the rate;
 * true when it just crossed the flood threshold and l's port is not
 * handed over yet. */
bool sp_flood_failed(struct sp_listener *l);
/* A cookie for port came back valid (a legitimate client). */
void sp_flood_cookie_ok(uint16_t port);
/* No active listener is left on port: the cores stop answering for it. */
void sp_flood_port_closed(uint16_t port);
/* Take back the ports whose flood ended or whose listeners went. */
void sp_flood_poll(void);

/* ---- time_wait.c ---- */
int sp_tw_init(void);
void sp_tw_fini(void);
/* c has both FINs done: leave a TIME_WAIT pair for its 4-tuple (if
 * time_wait_ms and the table allow).  c itself is not touched. */
void sp_tw_enter(const struct sp_conn *c);
struct sp_tw *sp_tw_lookup(uint32_t lip, uint32_t rip, uint16_t lport, uint16_t rport);
/* A segment for a TIME_WAIT pair (mbuf consumed), unless it is a SYN that
 * reopens the pair: then t is freed, m kept and true returned with the new
 * connection's ISS (the caller hands the SYN to the listener). */
bool sp_tw_input(struct sp_tw *t, const struct sp_pkt *p, struct rte_mbuf *m, uint32_t *iss);
/* May an active open take t's 4-tuple now (tcp.tw_reuse)?  Then t is
 * gone and *iss is the new connection's ISS. */
bool sp_tw_reuse(struct sp_tw *t, uint32_t *iss);
void sp_tw_free(struct sp_tw *t);
void sp_tw_tick(void);

/* ---- sync_in.c ---- */
/* A SYN, RST or early segment for synchronized connection c (consumes m). */
void sp_sync_input(struct sp_conn *c, const struct sp_pkt *p, struct rte_mbuf *m);

/* ---- tcp_in.c ---- */
void sp_exc_input(struct rte_mbuf *m, unsigned core);

/* ---- tcp_out.c ---- */
/* RFC 9293 reset for a segment nobody owns (rate-limited). */
void sp_tcp_reply_rst(const struct sp_pkt *p);
/* A zeroed segment from our MAC to peer_mac for the 4-tuple (network order). */
void sp_seg_init(struct sp_seg *s, const uint8_t peer_mac[6], uint32_t lip, uint32_t rip,
                 uint16_t lport, uint16_t rport);
/* Send a segment on core with the given options.  0 or -errno. */
int sp_tcp_send(unsigned core, const struct sp_seg *s);
int sp_send_syn(struct sp_conn *c); /* SYN or SYN-ACK, per c->passive */
int sp_send_ack(struct sp_conn *c, uint32_t seq, uint32_t ack, uint16_t win);
int sp_send_rst(struct sp_conn *c, uint32_t seq, uint32_t ack, bool with_ack);
/* An ACK from a TIME_WAIT pair. */
int sp_send_tw_ack(const struct sp_tw *t);
uint32_t sp_ts_now(void);
/* Our window advertised in a SYN/SYN-ACK (never scaled). */
uint16_t sp_syn_window(const struct sp_conn *c);

/* ---- fdset.c ---- */
struct epoll_event;
/* Run the callbacks of the n descriptors epoll_wait found ready. */
void sp_fdset_dispatch(const struct epoll_event *evs, int n);
void sp_fdset_fini(void);

/* ---- neigh.c ---- */
int sp_neigh_init(void);
void sp_neigh_fini(void);
void sp_neigh_input(struct rte_mbuf *m);
/* MAC of next hop for dst: 0 (mac filled), or 1 (being resolved: the hook
 * hears it), or -errno. */
/* ip is at mac, as another source says (kneigh.c): learned as an ARP
 * answer, waiting connections completed.  0 or -ENOSPC. */
int sp_neigh_learn(uint32_t ip, const uint8_t mac[6]);
int sp_neigh_resolve(uint32_t dst, uint8_t mac[6]);
/* Who hears that an address was resolved (mac) or not (NULL). */
typedef void (*sp_neigh_hook)(uint32_t ip, const uint8_t *mac);
void sp_neigh_set_hook(sp_neigh_hook hook);
void sp_neigh_tick(void);
/* An address is being resolved (requests to repeat). */
bool sp_neigh_busy(void);
void sp_neigh_gratuitous(void);
void sp_neigh_write(FILE *f);            /* the neighbour table */
struct json_object *sp_neigh_json(void); /* the same as a json-c array */

/* An application's queue entry that tasd cannot take: counted. */
static inline void sp_app_bad_entry(struct sp_app *a)
{
    a->bad_entries++;
    sp.cnt.app_bad_entries++;
}

#endif /* SP_H */
