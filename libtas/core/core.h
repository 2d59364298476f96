/* core.h - what the files of libtas's core share, and what the POSIX
 * layer above (libtas/posix/) uses of it.
 *
 * libtas runs TCP sockets of an unmodified program over tasd.  Its core
 * (this folder) holds the context, the queues, the socket objects,
 * waiting, attach and the fork/exec hand-over; it knows nothing of
 * descriptors or epoll and tells the layer above what it must know
 * through struct tc_hooks (ctx.c).  Its files, from the bottom up:
 *   libc.c     the real libc functions (dlsym(RTLD_NEXT)), with a raw
 *              system-call bootstrap for calls made while resolving; both
 *              layers call them
 *   clock.c    the monotonic clock and deadlines
 *   ctx.c      the process's registration and its lock; the hooks
 *   msgio.c    one message on app.sock, with its descriptors
 *   qctx.c     contexts: each thread's own queues and eventfd, made on its
 *              first socket call, vacant or reused once the thread exits
 *   wake.c     the threads asleep in tc_wait() and waking them
 *   post.c     entries the library produces (sp_in, fp_in) and doorbells
 *   sock.c     socket objects: lifetime, flows, the lists they are on
 *   alive.c    noticing tasd's exit
 *   attached.c tasd's answers to ATTACH
 *   events.c   entries tasd produces (sp_out, fp_out) applied to sockets
 *   wait.c     sleeping on the context eventfd without lost wake-ups
 *   leave.c    a thread's exit: its context back to tasd (CTX_DEL)
 *   attach.c   taking over a socket another process (parent, child) used
 *   register.c registration with tasd on app.sock, the shared region
 *   inherit.c  a fork child's view of its parent's sockets
 *   fork.c     a child's context after fork()
 *   info.c     tasd's per-connection report (TCP_INFO)
 *   exe.c      whether the shim can serve a program (static, Go: no)
 *   ready.c    poll bits of a socket, from its state (pure)
 *   ring.c     copies in and out of a ring buffer with wrap-around (pure)
 *
 * Locking: one mutex per process (tc_lock) protects the registration, every
 * context and its queues, every socket object, and the POSIX layer's
 * objects too.  Only the fd table is read without it.  (Each thread has
 * its own context, so tasd wakes the thread whose connections changed; the
 * lock is the next thing to split.)  Internal functions return 0 or -errno.
 * Names: tc_ for the core's functions and types, tp_ for the POSIX
 * layer's, tas_ only for the public API (libtas.h).
 */
#ifndef LIBTAS_CORE_H
#define LIBTAS_CORE_H

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>

#include "tas/ctxq.h"
#include "tas/msg.h"
#include "tas/parkq.h"
#include "tas/queue.h"
#include "tas/shm.h"

#define TAS_HIDDEN __attribute__((visibility("hidden")))
#define TAS_API    __attribute__((visibility("default")))

#ifndef likely
#define likely(x)   __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#endif

/* ------------------------------------------------------------------ libc.c */

/* The real libc functions.  Each resolves itself on first use. */
TAS_HIDDEN int tc_libc_init(void);
TAS_HIDDEN int real_socket(int domain, int type, int protocol);
TAS_HIDDEN int real_bind(int fd, const struct sockaddr *a, socklen_t len);
TAS_HIDDEN int real_listen(int fd, int backlog);
TAS_HIDDEN int real_accept4(int fd, struct sockaddr *a, socklen_t *len, int flags);
TAS_HIDDEN int real_connect(int fd, const struct sockaddr *a, socklen_t len);
TAS_HIDDEN ssize_t real_read(int fd, void *buf, size_t n);
TAS_HIDDEN ssize_t real_write(int fd, const void *buf, size_t n);
TAS_HIDDEN ssize_t real_readv(int fd, const struct iovec *iov, int cnt);
TAS_HIDDEN ssize_t real_writev(int fd, const struct iovec *iov, int cnt);
TAS_HIDDEN ssize_t real_recvfrom(int fd, void *buf, size_t n, int flags,
                                 struct sockaddr *a, socklen_t *len);
TAS_HIDDEN ssize_t real_sendto(int fd, const void *buf, size_t n, int flags,
                               const struct sockaddr *a, socklen_t len);
TAS_HIDDEN ssize_t real_recvmsg(int fd, struct msghdr *m, int flags);
TAS_HIDDEN ssize_t real_sendmsg(int fd, const struct msghdr *m, int flags);
TAS_HIDDEN int real_close(int fd);
TAS_HIDDEN int real_close_range(unsigned int lo, unsigned int hi, int flags);
TAS_HIDDEN int real_shutdown(int fd, int how);
TAS_HIDDEN int real_getsockname(int fd, struct sockaddr *a, socklen_t *len);
TAS_HIDDEN int real_getpeername(int fd, struct sockaddr *a, socklen_t *len);
TAS_HIDDEN int real_getsockopt(int fd, int level, int opt, void *val, socklen_t *len);
TAS_HIDDEN int real_setsockopt(int fd, int level, int opt, const void *val,
                               socklen_t len);
TAS_HIDDEN int real_fcntl(int fd, int cmd, void *arg);
TAS_HIDDEN int real_ioctl(int fd, unsigned long req, void *arg);
TAS_HIDDEN int real_ppoll(struct pollfd *fds, nfds_t n, const struct timespec *ts,
                          const sigset_t *mask);
TAS_HIDDEN int real_poll(struct pollfd *fds, nfds_t n, int timeout);
TAS_HIDDEN int real_select(int n, fd_set *r, fd_set *w, fd_set *e, struct timeval *tv);
TAS_HIDDEN int real_pselect(int n, fd_set *r, fd_set *w, fd_set *e,
                            const struct timespec *ts, const sigset_t *mask);
TAS_HIDDEN int real_epoll_create1(int flags);
TAS_HIDDEN int real_epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev);
TAS_HIDDEN int real_epoll_pwait(int epfd, struct epoll_event *ev, int max, int timeout,
                                const sigset_t *mask);
TAS_HIDDEN int real_dup3(int oldfd, int newfd, int flags);
TAS_HIDDEN ssize_t real_sendfile(int out, int in, off_t *off, size_t count);
TAS_HIDDEN int real_sendmmsg(int fd, struct mmsghdr *v, unsigned int n, int flags);
TAS_HIDDEN int real_recvmmsg(int fd, struct mmsghdr *v, unsigned int n, int flags,
                             struct timespec *ts);
TAS_HIDDEN ssize_t real_splice(int in, loff_t *off_in, int out, loff_t *off_out, size_t n,
                               unsigned int flags);
TAS_HIDDEN pid_t real_fork(void);
TAS_HIDDEN int real_execve(const char *path, char *const argv[], char *const envp[]);
TAS_HIDDEN int real_execvpe(const char *file, char *const argv[], char *const envp[]);
TAS_HIDDEN int real_fexecve(int fd, char *const argv[], char *const envp[]);

/* --------------------------------------------------------------- objects */

/* First member of every object of the library: what kind it is (the
 * layer above points at objects by descriptor and tells them apart by it;
 * its kinds follow TC_OBJ_SOCK). */
struct tc_obj {
    uint8_t kind;
};

#define TC_OBJ_SOCK 1 /* struct tc_sock: a tasd TCP socket */

/* ------------------------------------------------------------- sock state */

enum tc_sock_state {
    TC_SS_FRESH = 0,   /* created, maybe bound */
    TC_SS_LISTEN_WAIT, /* LISTEN posted, waiting for LISTEN_DONE */
    TC_SS_LISTENING,
    TC_SS_CONNECTING, /* CONNECT posted, waiting for CONNECTED */
    TC_SS_CONNECTED,  /* a flow exists (maybe half closed, reset, ...) */
    TC_SS_CLOSED,     /* connect failed, or the connection is over */
};

struct tc_sock {
    struct tc_obj obj; /* TC_OBJ_SOCK */
    uint8_t state;     /* enum tc_sock_state */
    uint32_t refs;     /* fd table, flow table, pending list, callers */
    uint64_t serial;   /* opaque of LISTEN/CONNECT */
    uint64_t ev_seq;   /* bumped on every change that may affect readiness */

    /* What the application set. */
    bool nonblock;
    bool v6; /* AF_INET6 (dual stack): its IPv4 addresses show IPv4-mapped */
    bool bound;
    bool app_closed; /* close()d: no descriptor any more */
    bool reuseaddr, reuseport, keepalive, nodelay, linger_on;
    bool cork; /* TCP_CORK: writes wait for full segments (fastpath/cork.c) */
    uint8_t cc; /* TCP_CONGESTION: tasd's cc_names index + 1; 0 = not set */
    uint8_t cc_sent; /* ... as CONNECT carried it (a set while connecting follows) */
    bool more; /* the last write had MSG_MORE: it waits the same way */
    uint32_t ka_idle_s, ka_intvl_s, ka_cnt; /* TCP_KEEP*, as the kernel socket
                                             * holds them; 0 = Linux's default */
    int linger_secs;
    int rcvtimeo_ms, sndtimeo_ms; /* 0 = none */
    uint32_t rcvbuf, sndbuf;      /* SO_RCVBUF/SO_SNDBUF as the kernel keeps them
                                   * (doubled): ring sizes asked of tasd; 0 = its */
    struct sockaddr_in local;
    struct sockaddr_in peer;

    /* Connection state. */
    bool was_connected; /* a flow was installed at some point */
    bool acc_inherited; /* in the accept queue the program before exec() had */
    bool rd_eof;        /* the peer's FIN (after rx_ready bytes) */
    bool rd_shut;       /* shutdown(SHUT_RD) */
    bool wr_shut;       /* shutdown(SHUT_WR): no more writes */
    bool reset;         /* RESET received */
    bool dead;          /* tasd exited: reads ECONNRESET, writes EPIPE */
    bool dormant;       /* a listener whose tasd exited: it listens again
                         * when tasd is back (revive.c) */
    bool close_posted;  /* CLOSE already sent (at exit) */
    bool detached;      /* inherited across fork() but tasd did not agree:
                         * unusable in this process */
    bool need_attach;   /* held, not owned: ATTACH before use (attach.c) */
    bool attach_wait;   /* ATTACH sent, answer pending */
    uint64_t attach_serial;
    int so_error; /* pending error (SO_ERROR), positive errno, 0 = none */

    /* Listener. */
    uint32_t listener; /* tasd's listener id */
    uint32_t backlog;
    struct tc_sock *acc_head; /* connections waiting for accept() */
    struct tc_sock *acc_tail;
    uint32_t acc_len;
    struct tc_sock *acc_next; /* link in the listener's accept list */
    struct tc_sock *lnext;    /* link in the context's listener list */
    bool listed;              /* on the listener list */

    /* LISTEN/CONNECT in flight. */
    struct tc_sock *pnext;
    bool pending;

    /* The context tasd tells about it (its listener, its connection
     * request, its flow) and that its entries go on (qctx.c). */
    struct tc_qctx *qc;
    bool moved;                 /* it moved to another thread's context once */
    bool moving;                /* ... its ATTACH is out (attach.c) */
    struct tc_qctx *move_from;  /* ... from this one */

    /* Flow. */
    bool flow_live; /* the flow table maps flow -> this socket */
    uint32_t flow, gen;
    uint16_t fp_core, mss;
    uint8_t *rx_base; /* ring in the region, or a private copy after CLOSED */
    uint32_t rx_size, rx_head, rx_ready;
    uint8_t *tx_base; /* = tx_end - tx_size: the ring grows down (tas/ctxq.h) */
    uint32_t tx_size, tx_tail, tx_free;
    uint8_t *tx_end;
    uint32_t rx_max, tx_max;          /* the rings may grow to (equal: pinned) */
    bool tx_tight;                    /* a write did not fit: grow the tx ring */
    const struct tas_flow_info *info; /* TCP_INFO, in the rings' region */
    uint8_t *rx_priv; /* malloc'd copy of unread data once tasd freed the flow */

    /* Updates not yet posted to fp_in (coalesced; never dropped): consumed
     * rx bytes, written tx bytes; after a tx growth not yet posted,
     * pend_tx_pre bytes came before it (pend_tx_size) and pend_tx after. */
    uint32_t pend_rx, pend_tx;
    uint32_t pend_tx_pre, pend_tx_size, pend_tx_tail;
    bool pend_push; /* uncorked: the next update goes without TAS_FPIN_MORE */
    bool dirty;
    /* Idle (idle.c): the rings' pages may go back.  idle_ask: the next
     * update carries TAS_FPIN_IDLE; idle_wait: it went, and nothing may be
     * written into the tx ring until TAS_FPOUT_IDLE answers it.  On the
     * context's idle list (in order of last activity) while ilisted. */
    bool idle_ask, idle_wait, ilisted;
    uint32_t iepoch; /* the idle epoch of its last activity */
    struct tc_sock *inext, *iprev;
    struct tc_sock *dnext;
    /* SHUTDOWN/CLOSE held back until the bytes written before them are
     * posted (fp_in was full), so the FIN never overtakes data. */
    uint8_t n_ctrl;
    uint8_t ctrl_type[2];
    uint32_t ctrl_how[2];

    /* The layer above's registrations of this socket (epoll.c's items;
     * opaque here): while set, changes go to the sock_changed hook. */
    void *watchers;

    /* The POSIX layer's: the descriptor that names the socket.  The core
     * sets them to "none" when it makes an object and never reads them. */
    int fd;              /* reserved kernel descriptor; -1 when not in the table */
    uint64_t kdev, kino; /* the reserved kernel socket's identity (exec.c) */
    uint32_t n_dups;     /* more descriptors naming it (dup): each holds a ref */

    /* Every socket object of the process, for tasd's exit and fork(). */
    struct tc_sock *all_next, *all_prev;
};

/* ------------------------------------------------------------------- ctx.c */

enum tc_ctx_state {
    TC_CTX_NONE = 0, /* not registered yet */
    TC_CTX_READY,    /* registered, tasd alive */
    TC_CTX_FALLBACK, /* tasd unreachable: everything goes to the kernel */
    TC_CTX_DEAD,     /* tasd exited after registration */
};

struct tc_stats {
    uint64_t bad_entries; /* entries from tasd we ignored */
    uint64_t bad_flow;    /* unknown flow id or generation */
    uint64_t bad_bufs;    /* NEW_CONN/CONNECTED buffers out of bounds */
    uint64_t bad_counts;  /* rx_bytes/tx_freed beyond the ring */
    uint64_t unknown_opaque;
    uint64_t orphan_conns; /* NEW_CONN for an unknown listener (aborted) */
    uint64_t stashed;      /* fp updates that arrived before their flow */
    uint64_t sp_overflow;  /* sp_in entries that had to wait for space */
    uint64_t fp_full;      /* fp_in queue full when flushing */
    uint64_t idle_asked;   /* TAS_FPIN_IDLE sent (idle.c) */
    uint64_t stale_ctx;    /* fp updates on a context a flow left */
    uint64_t lib_wakes;    /* wake-ups of one thread by another (wake.c) */
};

#define TC_MAX_MAPS 16 /* regions of other applications we keep mapped */

/* A region mapped for inherited connections (fork, exec). */
struct tc_map {
    void *base;
    size_t size;
    int fd; /* for exec(); -1 if not kept */
};

struct tc_waiter;
struct tc_stash;

#define TC_MAX_QC 64 /* contexts per process (a bit each in wait masks) */

/* A context: one thread's queues to and from tasd, and the eventfd tasd
 * writes when they have something and the context is armed (qctx.c). */
struct tc_qctx {
    uint32_t id;  /* tasd's index (TAS_MSG_CTX) */
    uint32_t idx; /* in tc_ctx.qc[]: its bit in wait masks */
    int efd;
    bool owned;  /* a live thread's own */
    bool vacant; /* given back to tasd (CTX_DEL) when its thread exited: no
                  * queues until a new thread's CTX_NEW fills it again */
    const void *leader; /* the thread that sleeps on efd for it (wait.c,
                         * tc_qc_self()), or NULL */
    struct tas_ctx_hdr *chdr;
    struct tas_q sp_in, sp_out;
    struct tas_q fp_in[TAS_MAX_FP_CORES], fp_out[TAS_MAX_FP_CORES];
    struct tas_parkq sp_over; /* sp_in entries waiting for room (post.c) */
};

struct tc_ctx {
    pthread_mutex_t lock;
    int state; /* enum tc_ctx_state */
    int app_fd, sp_db_fd;
    int fp_db_fd[TAS_MAX_FP_CORES];
    char app_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    void *region;
    size_t region_size;
    int region_fd; /* kept (close-on-exec) for exec() */
    struct tc_map maps[TC_MAX_MAPS];
    int n_maps;
    const struct tas_global *global;
    size_t global_size;
    struct tas_region_hdr hdr;     /* private copy, validated */
    struct tc_qctx *qc[TC_MAX_QC]; /* qc[0]: made at registration */
    uint32_t n_qc;
    uint32_t qc_share; /* contexts ran out: next one threads share */
    uint64_t moves;    /* sockets moved between contexts (attach.c) */
    bool thread_ctx;   /* TAS_THREAD_CTX != 0: a context per thread */

    struct tc_sock **flows; /* max_flows entries */
    uint32_t flows_n;       /* entries of flows */
    struct tc_sock *all;    /* every socket object */
    struct tc_sock *listeners;
    struct tc_sock *pending;
    struct tc_sock *dirty;
    struct tc_stash *stash;
    uint32_t n_stash;
    uint64_t next_serial;
    struct timespec last_alive_check;

    /* idle.c: sockets by last activity, oldest first */
    struct tc_sock *idle_head, *idle_tail;
    uint32_t iepoch; /* bumped every idle_ms / 2 */
    struct timespec iepoch_at;
    int idle_ms; /* TAS_IDLE_MS; 0: never */

    /* wait.c, wake.c */
    struct tc_waiter *waiters;

    struct tc_stats stats;
    bool attach_pending; /* some listener may need an ATTACH (attach.c) */
    bool fallback_ok;    /* TAS_FALLBACK != 0 */
    int spin_us;         /* TAS_SPIN_US */
};

TAS_HIDDEN extern struct tc_ctx tc_ctx;

/* What the core tells the layer above; set once before the first
 * registration (hooks.c).  Any may be NULL. */
struct tc_hooks {
    void (*sock_changed)(struct tc_sock *s);  /* s->watchers set, s changed */
    void (*sock_moved)(struct tc_sock *s);    /* s->watchers set, s->qc changed */
    void (*sock_gone)(struct tc_sock *s);     /* s is about to be freed */
    void (*fd_own)(int fd);    /* a descriptor of the core's own, now open */
    void (*fd_forget)(int fd); /* ... about to be closed */
};
TAS_HIDDEN extern struct tc_hooks tc_hooks;
TAS_HIDDEN void tc_hooks_set(const struct tc_hooks *h);

TAS_HIDDEN void tc_lock(void);
TAS_HIDDEN void tc_unlock(void);
TAS_HIDDEN void tc_say_once(int *flag, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
TAS_HIDDEN int tc_detached_err(void); /* says so once; -EOPNOTSUPP */
TAS_HIDDEN void tc_owner_set(void);   /* this process owns the context */
/* A vfork() child running in our memory: it must change nothing of ours. */
TAS_HIDDEN bool tc_foreign(void);
TAS_HIDDEN int tc_own_fd(int fd); /* fd is the core's own: its number now (moved up) */
TAS_HIDDEN void tc_own_fd_close(int fd); /* close one of them */

/* ------------------------------------------------------------------ qctx.c */

/* Registration lock held, or the context being made: a context tasd gave
 * (its index, its eventfd).  Its index in tc_ctx.qc[], or -errno. */
TAS_HIDDEN int tc_qc_add(uint32_t id, int efd);
/* Lock held, registered: the calling thread's context, made on its first
 * call (CTX_NEW), or one it shares when tasd gave no more.  NULL if the
 * process is not registered. */
TAS_HIDDEN struct tc_qctx *tc_qc_mine(void);
TAS_HIDDEN uint64_t tc_qc_bit(const struct tc_qctx *q); /* 0 for NULL */
TAS_HIDDEN const void *tc_qc_self(void); /* names the calling thread */
TAS_HIDDEN uint64_t tc_qc_all(void);                    /* every context's bit */
/* Forget every context (a fork child; tasd's exit keeps them). */
TAS_HIDDEN void tc_qc_forget_all(void);
/* Lock held, tasd back (revive.c): contexts anew for the objects up to n
 * (CTX_NEW each).  0 or -errno. */
TAS_HIDDEN int tc_qc_renew(uint32_t n);
/* Called, lock held, when a thread that owned q exits (set once). */
TAS_HIDDEN void tc_qc_on_exit(void (*fn)(struct tc_qctx *q));
/* Lock held: tasd took q back: it is vacant until a thread's CTX_NEW. */
TAS_HIDDEN void tc_qc_vacate(struct tc_qctx *q);

/* ----------------------------------------------------------------- leave.c */

/* Lock held: the thread that owned q exited.  If nothing of the process
 * needs q any more, it goes back to tasd (CTX_DEL). */
TAS_HIDDEN void tc_qc_left(struct tc_qctx *q);

/* ----------------------------------------------------------------- msgio.c */

/* One app.sock message (tas/msg.h).  recv: up to max_fds descriptors that
 * came with it in fds (*n_fds); a reply's negative status is the result. */
TAS_HIDDEN int tc_msg_send(int fd, const struct tas_msg *m);
TAS_HIDDEN int tc_msg_recv(int fd, struct tas_msg *m, int *fds, int max_fds, int *n_fds);
TAS_HIDDEN void tc_close_fds(int *fds, int n);

/* ----------------------------------------------------------------- clock.c */

TAS_HIDDEN void tc_now(struct timespec *ts);
TAS_HIDDEN void tc_deadline_ms(struct timespec *d, long ms);
/* Time left until the deadline: false if none is left. */
TAS_HIDDEN bool tc_time_left(const struct timespec *deadline, struct timespec *left);
TAS_HIDDEN int tc_ms_left(const struct timespec *deadline); /* NULL: -1 */

/* ------------------------------------------------------------------ wake.c */

TAS_HIDDEN int tc_wake_fd(void); /* this thread's wake eventfd, or -1 */
/* Lock held: this thread sleeps, for the contexts in want. */
TAS_HIDDEN void tc_wake_list(uint64_t want);
TAS_HIDDEN void tc_wake_unlist(void); /* ... and is awake again */
TAS_HIDDEN void tc_wake_all(void);
/* Wake waiters that wait for one of the contexts in bits (entries from
 * them were applied). */
TAS_HIDDEN void tc_wake_for(uint64_t bits);
/* The first listed waiter for each context in bits: it leads it now. */
TAS_HIDDEN void tc_wake_one_for(uint64_t bits);
TAS_HIDDEN void tc_wake_atfork_child(void);
TAS_HIDDEN void tc_eventfd_drain(int fd);

/* ----------------------------------------------------------------- alive.c */

TAS_HIDDEN void tc_ctx_mark_dead(void);
TAS_HIDDEN void tc_ctx_check_alive(bool force);

/* ---------------------------------------------------------------- revive.c */

#define REVIVE_MS 200 /* tasd gone: look for it again this often */
/* Lock held: tasd exited; if it answers again (looked at every REVIVE_MS),
 * register anew and listen again on the dormant listeners. */
TAS_HIDDEN void tc_ctx_revive_maybe(void);
/* LISTEN_DONE for a dormant listener (events.c). */
TAS_HIDDEN void tc_revived_listener(struct tc_sock *s, int32_t status, uint32_t listener);

/* -------------------------------------------------------------- register.c */

TAS_HIDDEN int tc_ctx_ensure(void); /* registers once; returns ctx state */
/* Registration lock held: register (token, parent: as a fork or exec
 * child, 0 as itself).  True if tasd gave what token named. */
TAS_HIDDEN bool tc_register(uint64_t token, uint32_t parent);
/* The same, saying nothing if tasd is not there (revive.c); true if now
 * registered. */
TAS_HIDDEN bool tc_register_again(void);
TAS_HIDDEN void tc_reg_lock(void);
TAS_HIDDEN void tc_reg_unlock(void);
TAS_HIDDEN void tc_reg_lock_reset(void); /* fork() child */

/* Locks held: TAS_MSG_FORK.  The token, or 0. */
TAS_HIDDEN uint64_t tc_fork_request(uint32_t flags);
/* Lock held: TAS_MSG_FORK_DONE. */
TAS_HIDDEN void tc_fork_done(uint64_t token, pid_t pid);
/* Keep a mapping of another region (inherited rings). */
TAS_HIDDEN void tc_ctx_add_map(void *base, size_t size, int fd);
/* Register as the program that exec() started: claim the token.  0 or -errno. */
TAS_HIDDEN int tc_ctx_register_inherited(uint64_t token, uint32_t parent_app);

/* ------------------------------------------------------------------ fork.c */

TAS_HIDDEN pid_t tc_fork(void);
TAS_HIDDEN void tc_fork_watch(void); /* install the atfork handlers, once */

/* ------------------------------------------------------------------ post.c */

/* An entry for the slow path on q's sp_in (NULL: the caller's context);
 * tasd answers on the same context. */
TAS_HIDDEN int tc_sp_post(struct tc_qctx *q, uint8_t type, const void *body, size_t len);
TAS_HIDDEN void tc_sp_flush(void);
TAS_HIDDEN void tc_sock_mark_dirty(struct tc_sock *s);
TAS_HIDDEN void tc_sock_cork(struct tc_sock *s, bool on);
TAS_HIDDEN void tc_sock_push(struct tc_sock *s);
TAS_HIDDEN void tc_fp_flush(void);
TAS_HIDDEN bool tc_post_pending(void);
TAS_HIDDEN void tc_post_drop_sock(struct tc_sock *s);
TAS_HIDDEN int tc_post_flow_ctrl(struct tc_sock *s, uint8_t type, uint32_t how);
/* Lock held: LISTEN for s on port (its address, options and ring sizes;
 * idle: no connections until it is used, TAS_LISTEN_IDLE) on s->qc, s on
 * the pending list until LISTEN_DONE; 0 or -errno (then not pending). */
TAS_HIDDEN int tc_post_listen(struct tc_sock *s, uint16_t port, uint32_t backlog,
                              bool idle);
TAS_HIDDEN int tc_post_keepalive(struct tc_sock *s);
/* TCP_CONGESTION (s->cc) for the socket's flow or listener, if it has one
 * now (before, LISTEN and CONNECT carry it). */
TAS_HIDDEN int tc_post_cc(struct tc_sock *s);
/* The algorithm tasd calls name (index + 1), 0 if it offers none. */
TAS_HIDDEN unsigned tc_cc_index(const char *name);

/* ------------------------------------------------------------------ idle.c */

TAS_HIDDEN void tc_idle_touch(struct tc_sock *s);  /* something happened on s */
TAS_HIDDEN void tc_idle_forget(struct tc_sock *s); /* off the idle list */
TAS_HIDDEN void tc_idle_reset(void); /* a fork child: no list, no answer due */
/* Lock held, before sleeping: ask for the pages of sockets idle long
 * enough.  Milliseconds until it is worth looking again, -1: never. */
TAS_HIDDEN long tc_idle_sweep(void);
/* A write into s's tx ring waits for this (TAS_FPOUT_IDLE answered). */
TAS_HIDDEN bool tc_idle_writable(void *s);

/* ---------------------------------------------------------------- events.c */

TAS_HIDDEN int tc_process(void);
TAS_HIDDEN int tc_process_qc(struct tc_qctx *q); /* one context's entries */
TAS_HIDDEN void tc_stash_clear(void); /* a fork child: the parent's updates */

/* ------------------------------------------------------------------ inherit.c */

/* In a fork child: which inherited sockets it holds (keep: tasd recorded
 * them for it) and which it cannot use. */
TAS_HIDDEN void tc_inherit(bool keep);
/* Once registered as the fork child: let go of the parent's unaccepted
 * connections tasd counted us as holding (CLOSE each). */
TAS_HIDDEN void tc_inherit_release_unheld(void);

/* ------------------------------------------------------------------ sock.c */

TAS_HIDDEN struct tc_sock *tc_sock_new(void);
TAS_HIDDEN void tc_sock_get(struct tc_sock *s);
TAS_HIDDEN void tc_sock_put(struct tc_sock *s);
TAS_HIDDEN void tc_sock_changed(struct tc_sock *s);
TAS_HIDDEN void tc_sock_set_qc(struct tc_sock *s, struct tc_qctx *q);
TAS_HIDDEN void tc_mark_need_attach(struct tc_sock *s);
TAS_HIDDEN bool tc_bufs_valid(const struct tas_conn_bufs *b);
/* Point s at the rings and TCP_INFO of slot b->slot of a region. */
TAS_HIDDEN void tc_sock_set_rings(struct tc_sock *s, uint8_t *region,
                                  const struct tas_region_hdr *h,
                                  const struct tas_conn_bufs *b);
/* Grow s's tx ring (tas/ctxq.h) if a write ran out of room and its queued
 * bytes do not wrap; the growth goes to tasd with the next update. */
TAS_HIDDEN void tp_tx_maybe_grow(struct tc_sock *s);
TAS_HIDDEN int tc_flow_install(struct tc_sock *s, uint32_t flow, uint32_t gen,
                               const struct tas_conn_bufs *b, uint16_t fp_core,
                               uint16_t mss);
TAS_HIDDEN struct tc_sock *tc_flow_lookup(uint32_t flow, uint32_t gen);
TAS_HIDDEN void tc_flow_release(struct tc_sock *s);
TAS_HIDDEN void tc_pending_add(struct tc_sock *s);
TAS_HIDDEN struct tc_sock *tc_pending_take(uint64_t opaque);
TAS_HIDDEN void tc_listener_add(struct tc_sock *s);
TAS_HIDDEN void tc_listener_enqueue(struct tc_sock *l, struct tc_sock *s);
TAS_HIDDEN void tc_listener_remove(struct tc_sock *s);
TAS_HIDDEN struct tc_sock *tc_listener_find(uint32_t id);
TAS_HIDDEN void tc_sock_kill_all(int err); /* tasd exited */

/* ---------------------------------------------------------------- attach.c */

/* With the lock held: take s over (waits for tasd).  0 or -errno. */
TAS_HIDDEN int tc_sock_attach(struct tc_sock *s);
/* With the lock held, before the calling thread moves data on s: if
 * another thread's context hears about its connection, move it to this
 * thread's, once (waits for tasd). */
TAS_HIDDEN void tc_sock_take(struct tc_sock *s);

/* -------------------------------------------------------------- attached.c */

TAS_HIDDEN void tc_on_sync(struct tc_qctx *q, const struct tas_fpout_sync *y);
TAS_HIDDEN void tc_on_attached(const struct tas_spout_attached *e);
TAS_HIDDEN void tc_on_detached(const struct tas_spout_detached *e);

/* ------------------------------------------------------------------- exe.c */

/* tas_program_check (libtas.h). */
TAS_HIDDEN int tc_program_check(const char *path, char *why, size_t len);

/* ------------------------------------------------------------------ info.c */

/* tasd's report on s's connection (TCP_INFO).  0, or -ENODATA/-EAGAIN. */
TAS_HIDDEN int tc_flow_info_read(const struct tc_sock *s, struct tas_flow_info *out);

/* ----------------------------------------------------------------- ready.c */

TAS_HIDDEN uint32_t tc_sock_ready(const struct tc_sock *s);
TAS_HIDDEN bool tc_sock_writable(const struct tc_sock *s);

/* ------------------------------------------------------------------ ring.c */

TAS_HIDDEN size_t tc_ring_read(const uint8_t *base, uint32_t size, uint32_t pos,
                               const struct iovec *iov, int iovcnt, size_t skip,
                               size_t len);
TAS_HIDDEN size_t tc_ring_write(uint8_t *base, uint32_t size, uint32_t pos,
                                const struct iovec *iov, int iovcnt, size_t skip,
                                size_t len);
TAS_HIDDEN uint32_t tc_ring_advance(uint32_t pos, uint32_t n, uint32_t size);
TAS_HIDDEN size_t tc_iov_len(const struct iovec *iov, int iovcnt);

/* ------------------------------------------------------------------ wait.c */

typedef bool (*tc_cond_fn)(void *arg);

enum {
    TC_WAIT_TIMEOUT = 0,
    TC_WAIT_COND = 1,  /* the condition became true */
    TC_WAIT_EXTRA = 2, /* one of the extra descriptors has an event */
};

/* With tc_lock held: wait until cond(arg), the deadline (NULL = none), a
 * signal (-EINTR), or an event on extra[] (revents filled in).  want: the
 * contexts (tc_qc_bit) whose entries may make cond true; the caller's own
 * is always watched. */
TAS_HIDDEN int tc_wait(uint64_t want, tc_cond_fn cond, void *arg,
                       const struct timespec *deadline, struct pollfd *extra,
                       nfds_t n_extra, const sigset_t *mask);
TAS_HIDDEN bool tc_restart_signals(void);

#endif /* LIBTAS_CORE_H */
