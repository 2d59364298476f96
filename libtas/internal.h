/* internal.h - what the files of libtas share with each other.
 *
 * libtas runs TCP sockets of an unmodified program over tasd.  The core
 * (knows nothing of descriptors or epoll; tells the layer above through
 * struct tas_hooks):
 *   libc.c     the real libc functions (dlsym(RTLD_NEXT)), with a raw
 *              system-call bootstrap for calls made while resolving
 *   clock.c    the monotonic clock and deadlines
 *   ctx.c      the process's one context and its lock; the hooks
 *   wake.c     the threads asleep in tas_wait() and waking them
 *   post.c     entries the library produces (sp_in, fp_in) and doorbells
 *   sock.c     socket objects: lifetime, flows, the lists they are on
 *   alive.c    noticing tasd's exit
 *   attached.c tasd's answers to ATTACH
 *   events.c   entries tasd produces (sp_out, fp_out) applied to sockets
 *   wait.c     sleeping on the context eventfd without lost wake-ups
 *   attach.c   taking over a socket another process (parent, child) used
 *   register.c registration with tasd on app.sock, the shared region
 *   inherit.c  a fork child's view of its parent's sockets
 *   fork.c     a child's context after fork()
 *   info.c     tasd's per-connection report (TCP_INFO)
 *   ready.c    poll bits of a socket, from its state (pure)
 *   ring.c     copies in and out of a ring buffer with wrap-around (pure)
 * The POSIX layer above it:
 *   fdtab.c    descriptor number -> library object (socket, epoll, internal)
 *   sockfd.c   a socket and the descriptor that names it
 *   addr.c     socket addresses in the family of the socket
 *   epoll.c    epoll instances over mixed descriptor sets
 *   fallback.c sockets that go on as kernel sockets
 *   hooks.c    what the core calls up through
 *   socket.c   socket/bind/listen/accept/connect/close/shutdown/names
 *   io.c       read/write and friends
 *   sockopt.c  getsockopt/setsockopt/fcntl/ioctl
 *   poll.c     poll/ppoll/select/pselect over mixed descriptor sets
 *   exec.c     tasd sockets that survive exec()
 *   exit.c     the process's connections end with it
 *   interpose.c the libc names, for LD_PRELOAD (libtas_interpose.so only)
 *
 * Locking: one mutex per process (tas_lock) protects the context, its queues
 * and every socket and epoll object.  Only the fd table is read without it.
 * Internal functions return 0 or -errno; the public tas_* functions return
 * like libc (-1 and errno).
 */
#ifndef LIBTAS_INTERNAL_H
#define LIBTAS_INTERNAL_H

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
TAS_HIDDEN int tas_libc_init(void);
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

/* ----------------------------------------------------------------- fdtab.c */

enum tas_obj_kind {
    TAS_OBJ_SOCK = 1,     /* struct tas_sock: a tasd TCP socket */
    TAS_OBJ_EPOLL = 2,    /* struct tas_epoll: an epoll instance we wrap */
    TAS_OBJ_INTERNAL = 3, /* one of libtas's own descriptors */
};

/* First member of every object the fd table points to. */
struct tas_obj {
    uint8_t kind; /* enum tas_obj_kind */
};

#define TAS_FD_MAX (1 << 20) /* descriptors at or above are never ours */

TAS_HIDDEN struct tas_obj *tas_fd_get(int fd); /* lock-free */
TAS_HIDDEN int tas_fd_set(int fd, struct tas_obj *o);
TAS_HIDDEN void tas_fd_clear(int fd);
TAS_HIDDEN void tas_fd_internal(int fd); /* mark as libtas's own */
TAS_HIDDEN void tas_fd_internal_forget(int fd);
TAS_HIDDEN void tas_fd_internal_close(int fd);
/* The lowest descriptor >= from that names an object, or -1. */
TAS_HIDDEN int tas_fd_next(int from);
/* Another descriptor than skip naming o, or -1. */
TAS_HIDDEN int tas_fd_find(const struct tas_obj *o, int skip);

/* ------------------------------------------------------------- sock state */

enum tas_sock_state {
    TAS_SS_FRESH = 0,   /* created, maybe bound */
    TAS_SS_LISTEN_WAIT, /* LISTEN posted, waiting for LISTEN_DONE */
    TAS_SS_LISTENING,
    TAS_SS_CONNECTING, /* CONNECT posted, waiting for CONNECTED */
    TAS_SS_CONNECTED,  /* a flow exists (maybe half closed, reset, ...) */
    TAS_SS_CLOSED,     /* connect failed, or the connection is over */
};

struct tas_sock {
    struct tas_obj obj; /* TAS_OBJ_SOCK */
    uint8_t state;      /* enum tas_sock_state */
    int fd;             /* reserved kernel descriptor; -1 when not in the table */
    int moved_fd;       /* listener moved to the kernel when tasd exited, or -1 */
    uint64_t kdev, kino; /* the reserved kernel socket's identity (exec.c) */
    uint32_t n_dups;    /* more descriptors naming it (dup): each holds a ref */
    uint32_t refs;      /* fd table, flow table, pending list, callers */
    uint64_t serial;    /* opaque of LISTEN/CONNECT */
    uint64_t ev_seq;    /* bumped on every change that may affect readiness */

    /* What the application set. */
    bool nonblock;
    bool v6; /* AF_INET6 (dual stack): its IPv4 addresses show IPv4-mapped */
    bool bound;
    bool app_closed; /* close()d: no descriptor any more */
    bool reuseaddr, reuseport, keepalive, nodelay, linger_on;
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
    bool close_posted;  /* CLOSE already sent (at exit) */
    bool detached;      /* inherited across fork() but tasd did not agree:
                         * unusable in this process */
    bool need_attach;   /* held, not owned: ATTACH before use (attach.c) */
    bool attach_wait;   /* ATTACH sent, answer pending */
    uint64_t attach_serial;
    int so_error;       /* pending error (SO_ERROR), positive errno, 0 = none */

    /* Listener. */
    uint32_t listener; /* tasd's listener id */
    uint32_t backlog;
    struct tas_sock *acc_head; /* connections waiting for accept() */
    struct tas_sock *acc_tail;
    uint32_t acc_len;
    struct tas_sock *acc_next; /* link in the listener's accept list */
    struct tas_sock *lnext;    /* link in the context's listener list */
    bool listed;               /* on the listener list */

    /* LISTEN/CONNECT in flight. */
    struct tas_sock *pnext;
    bool pending;

    /* Flow. */
    bool flow_live; /* the flow table maps flow -> this socket */
    uint32_t flow, gen;
    uint16_t fp_core, mss;
    uint8_t *rx_base; /* ring in the region, or a private copy after CLOSED */
    uint32_t rx_size, rx_head, rx_ready;
    uint8_t *tx_base; /* = tx_end - tx_size: the ring grows down (tas/ctxq.h) */
    uint32_t tx_size, tx_tail, tx_free;
    uint8_t *tx_end;
    uint32_t rx_max, tx_max; /* the rings may grow to (equal: pinned) */
    bool tx_tight;           /* a write did not fit: grow the tx ring */
    const struct tas_flow_info *info; /* TCP_INFO, in the rings' region */
    uint8_t *rx_priv; /* malloc'd copy of unread data once tasd freed the flow */

    /* Updates not yet posted to fp_in (coalesced; never dropped): consumed
     * rx bytes, written tx bytes; after a tx growth not yet posted,
     * pend_tx_pre bytes came before it (pend_tx_size) and pend_tx after. */
    uint32_t pend_rx, pend_tx;
    uint32_t pend_tx_pre, pend_tx_size, pend_tx_tail;
    bool dirty;
    struct tas_sock *dnext;
    /* SHUTDOWN/CLOSE held back until the bytes written before them are
     * posted (fp_in was full), so the FIN never overtakes data. */
    uint8_t n_ctrl;
    uint8_t ctrl_type[2];
    uint32_t ctrl_how[2];

    /* The layer above's registrations of this socket (epoll.c's items;
     * opaque here): while set, changes go to the sock_changed hook. */
    void *watchers;

    /* Every socket object of the process, for tasd's exit and fork(). */
    struct tas_sock *all_next, *all_prev;
};

/* ------------------------------------------------------------------- ctx.c */

enum tas_ctx_state {
    TAS_CTX_NONE = 0, /* not registered yet */
    TAS_CTX_READY,    /* registered, tasd alive */
    TAS_CTX_FALLBACK, /* tasd unreachable: everything goes to the kernel */
    TAS_CTX_DEAD,     /* tasd exited after registration */
};

struct tas_stats {
    uint64_t bad_entries; /* entries from tasd we ignored */
    uint64_t bad_flow;    /* unknown flow id or generation */
    uint64_t bad_bufs;    /* NEW_CONN/CONNECTED buffers out of bounds */
    uint64_t bad_counts;  /* rx_bytes/tx_freed beyond the ring */
    uint64_t unknown_opaque;
    uint64_t orphan_conns; /* NEW_CONN for an unknown listener (aborted) */
    uint64_t stashed;      /* fp updates that arrived before their flow */
    uint64_t sp_overflow;  /* sp_in entries that had to wait for space */
    uint64_t fp_full;      /* fp_in queue full when flushing */
};

#define TAS_MAX_MAPS 16 /* regions of other applications we keep mapped */

/* A region mapped for inherited connections (fork, exec). */
struct tas_map {
    void *base;
    size_t size;
    int fd; /* for exec(); -1 if not kept */
};

struct tas_waiter;
struct tas_stash;

struct tas_ctx {
    pthread_mutex_t lock;
    int state; /* enum tas_ctx_state */
    int app_fd, sp_db_fd, efd;
    int fp_db_fd[TAS_MAX_FP_CORES];
    char app_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    void *region;
    size_t region_size;
    int region_fd; /* kept (close-on-exec) for exec() */
    struct tas_map maps[TAS_MAX_MAPS];
    int n_maps;
    const struct tas_global *global;
    size_t global_size;
    struct tas_region_hdr hdr; /* private copy, validated */
    uint32_t ctx_id;
    struct tas_ctx_hdr *chdr;
    struct tas_q sp_in, sp_out;
    struct tas_q fp_in[TAS_MAX_FP_CORES], fp_out[TAS_MAX_FP_CORES];

    struct tas_sock **flows; /* max_flows entries */
    uint32_t flows_n;        /* entries of flows */
    struct tas_sock *all;    /* every socket object */
    struct tas_sock *listeners;
    struct tas_sock *pending;
    struct tas_sock *dirty;
    struct tas_parkq sp_over; /* sp_in entries waiting for room (post.c) */
    struct tas_stash *stash;
    uint32_t n_stash;
    uint64_t next_serial;
    struct timespec last_alive_check;

    /* wait.c */
    bool leader;
    struct tas_waiter *waiters;

    struct tas_stats stats;
    bool attach_pending; /* some listener may need an ATTACH (attach.c) */
    bool fallback_ok; /* TAS_FALLBACK != 0 */
    int spin_us;      /* TAS_SPIN_US */
};

TAS_HIDDEN extern struct tas_ctx tas_ctx;

/* What the core tells the layer above; set once before the first
 * registration (hooks.c).  Any may be NULL. */
struct tas_hooks {
    void (*sock_changed)(struct tas_sock *s);  /* s->watchers set, s changed */
    void (*sock_gone)(struct tas_sock *s);     /* s is about to be freed */
    void (*listener_lost)(struct tas_sock *s); /* tasd exited under it */
    void (*fd_own)(int fd);    /* a descriptor of the core's own, now open */
    void (*fd_forget)(int fd); /* ... about to be closed */
};
TAS_HIDDEN extern struct tas_hooks tas_hooks;
TAS_HIDDEN void tas_hooks_set(const struct tas_hooks *h);

TAS_HIDDEN void tas_lock(void);
TAS_HIDDEN void tas_unlock(void);
TAS_HIDDEN void tas_say_once(int *flag, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
TAS_HIDDEN int tas_detached_err(void); /* says so once; -EOPNOTSUPP */
TAS_HIDDEN void tas_owner_set(void); /* this process owns the context */
/* A vfork() child running in our memory: it must change nothing of ours. */
TAS_HIDDEN bool tas_foreign(void);
TAS_HIDDEN void tas_own_fd(int fd);       /* fd is the core's own */
TAS_HIDDEN void tas_own_fd_close(int fd); /* close one of them */

/* ----------------------------------------------------------------- clock.c */

TAS_HIDDEN void tas_now(struct timespec *ts);
TAS_HIDDEN void tas_deadline_ms(struct timespec *d, long ms);
/* Time left until the deadline: false if none is left. */
TAS_HIDDEN bool tas_time_left(const struct timespec *deadline, struct timespec *left);
TAS_HIDDEN int tas_ms_left(const struct timespec *deadline); /* NULL: -1 */

/* ------------------------------------------------------------------ wake.c */

TAS_HIDDEN int tas_wake_fd(void); /* this thread's wake eventfd, or -1 */
TAS_HIDDEN void tas_wake_list(void);   /* lock held: this thread sleeps */
TAS_HIDDEN void tas_wake_unlist(void); /* ... and is awake again */
TAS_HIDDEN void tas_wake_all(void);
TAS_HIDDEN void tas_wake_one(void); /* the first listed waiter */
TAS_HIDDEN void tas_wake_atfork_child(void);
TAS_HIDDEN void tas_eventfd_drain(int fd);

/* ----------------------------------------------------------------- alive.c */

TAS_HIDDEN void tas_ctx_mark_dead(void);
TAS_HIDDEN void tas_ctx_check_alive(bool force);

/* -------------------------------------------------------------- register.c */

TAS_HIDDEN int tas_ctx_ensure(void); /* registers once; returns ctx state */
/* Registration lock held: register (token, parent: as a fork or exec
 * child, 0 as itself).  True if tasd gave what token named. */
TAS_HIDDEN bool tas_register(uint64_t token, uint32_t parent);
TAS_HIDDEN void tas_reg_lock(void);
TAS_HIDDEN void tas_reg_unlock(void);
TAS_HIDDEN void tas_reg_lock_reset(void); /* fork() child */
/* Locks held: TAS_MSG_FORK.  The token, or 0. */
TAS_HIDDEN uint64_t tas_fork_request(uint32_t flags);
/* Lock held: TAS_MSG_FORK_DONE. */
TAS_HIDDEN void tas_fork_done(uint64_t token, pid_t pid);
/* Keep a mapping of another region (inherited rings). */
TAS_HIDDEN void tas_ctx_add_map(void *base, size_t size, int fd);
/* Register as the program that exec() started: claim the token.  0 or -errno. */
TAS_HIDDEN int tas_ctx_register_inherited(uint64_t token, uint32_t parent_app);

/* ------------------------------------------------------------------ fork.c */

TAS_HIDDEN pid_t tas_fork(void);
TAS_HIDDEN void tas_fork_watch(void); /* install the atfork handlers, once */

/* ------------------------------------------------------------------ exit.c */

/* The process is about to end (exit, _exit): CLOSE its open connections so
 * that they end with FIN, as the kernel's would. */
TAS_HIDDEN void tas_exit_close_all(void);

/* ------------------------------------------------------------------ exec.c */

struct tas_exec_state;
TAS_HIDDEN char **tas_exec_prepare(char *const envp[], struct tas_exec_state **st);
TAS_HIDDEN void tas_exec_failed(struct tas_exec_state *st);
TAS_HIDDEN void tas_inherit_init(void);

/* ----------------------------------------------------------------- hooks.c */

TAS_HIDDEN void tas_core_start(void); /* hooks and fork handlers, once */
TAS_HIDDEN int tas_ctx_open(void);    /* tas_core_start + tas_ctx_ensure */

/* ------------------------------------------------------------------ post.c */

TAS_HIDDEN int tas_sp_post(uint8_t type, const void *body, size_t len);
TAS_HIDDEN void tas_sp_flush(void);
TAS_HIDDEN void tas_sock_mark_dirty(struct tas_sock *s);
TAS_HIDDEN void tas_fp_flush(void);
TAS_HIDDEN bool tas_post_pending(void);
TAS_HIDDEN void tas_post_drop_sock(struct tas_sock *s);
TAS_HIDDEN int tas_post_flow_ctrl(struct tas_sock *s, uint8_t type, uint32_t how);
TAS_HIDDEN int tas_post_keepalive(struct tas_sock *s);

/* ---------------------------------------------------------------- events.c */

TAS_HIDDEN int tas_process(void);
TAS_HIDDEN void tas_stash_clear(void); /* a fork child: the parent's updates */

/* ------------------------------------------------------------------ inherit.c */

/* In a fork child: which inherited sockets it holds (keep: tasd recorded
 * them for it) and which it cannot use. */
TAS_HIDDEN void tas_inherit(bool keep);
/* Once registered as the fork child: let go of the parent's unaccepted
 * connections tasd counted us as holding (CLOSE each). */
TAS_HIDDEN void tas_inherit_release_unheld(void);

/* ------------------------------------------------------------------ addr.c */

/* sin as a socket of its family sees it (v6: sockaddr_in6 with an
 * IPv4-mapped address, or :: for any); returns its length. */
TAS_HIDDEN socklen_t tas_sock_addr(bool v6, const struct sockaddr_in *sin,
                                   struct sockaddr_storage *out);
/* An address for the application (accept, getsockname, getpeername): sin
 * in the family of the socket.  0, -EFAULT or -EINVAL. */
TAS_HIDDEN int tas_addr_copy(bool v6, const struct sockaddr_in *sin, struct sockaddr *addr,
                             socklen_t *len);
/* The IPv4 address an AF_INET6 socket is given (an IPv4-mapped address,
 * or :: to bind to any unless the socket is IPV6_V6ONLY): 1 and *out; 0
 * for an address of IPv6 proper, which is the kernel's; or -errno. */
TAS_HIDDEN int tas_addr_v4_of(const struct tas_sock *s, const struct sockaddr *addr,
                              socklen_t len, bool bind, struct sockaddr_in *out);
/* 127.0.0.0/8 or 0.0.0.0 (network order): the kernel's. */
TAS_HIDDEN bool tas_addr_is_loopback(uint32_t ip_be);

/* ------------------------------------------------------------------ sock.c */

TAS_HIDDEN struct tas_sock *tas_sock_new(void);
TAS_HIDDEN void tas_sock_get(struct tas_sock *s);
TAS_HIDDEN void tas_sock_put(struct tas_sock *s);
TAS_HIDDEN void tas_sock_changed(struct tas_sock *s);
TAS_HIDDEN void tas_mark_need_attach(struct tas_sock *s);
TAS_HIDDEN bool tas_bufs_valid(const struct tas_conn_bufs *b);
/* Point s at the rings and TCP_INFO of slot b->slot of a region. */
TAS_HIDDEN void tas_sock_set_rings(struct tas_sock *s, uint8_t *region,
                                   const struct tas_region_hdr *h,
                                   const struct tas_conn_bufs *b);
/* Grow s's tx ring (tas/ctxq.h) if a write ran out of room and its queued
 * bytes do not wrap; the growth goes to tasd with the next update. */
TAS_HIDDEN void tas_tx_maybe_grow(struct tas_sock *s);
TAS_HIDDEN int tas_flow_install(struct tas_sock *s, uint32_t flow, uint32_t gen,
                                const struct tas_conn_bufs *b, uint16_t fp_core,
                                uint16_t mss);
TAS_HIDDEN struct tas_sock *tas_flow_lookup(uint32_t flow, uint32_t gen);
TAS_HIDDEN void tas_flow_release(struct tas_sock *s);
TAS_HIDDEN void tas_pending_add(struct tas_sock *s);
TAS_HIDDEN struct tas_sock *tas_pending_take(uint64_t opaque);
TAS_HIDDEN void tas_listener_add(struct tas_sock *s);
TAS_HIDDEN void tas_listener_enqueue(struct tas_sock *l, struct tas_sock *s);
TAS_HIDDEN void tas_listener_remove(struct tas_sock *s);
TAS_HIDDEN struct tas_sock *tas_listener_find(uint32_t id);
TAS_HIDDEN void tas_sock_kill_all(int err); /* tasd exited */

/* ---------------------------------------------------------------- attach.c */

/* With the lock held: take s over (waits for tasd).  0 or -errno. */
TAS_HIDDEN int tas_sock_attach(struct tas_sock *s);

/* -------------------------------------------------------------- attached.c */

TAS_HIDDEN void tas_on_sync(const struct tas_fpout_sync *y);
TAS_HIDDEN void tas_on_attached(const struct tas_spout_attached *e);
TAS_HIDDEN void tas_on_detached(const struct tas_spout_detached *e);

/* ------------------------------------------------------------------ info.c */

/* tasd's report on s's connection (TCP_INFO).  0, or -ENODATA/-EAGAIN. */
TAS_HIDDEN int tas_flow_info_read(const struct tas_sock *s, struct tas_flow_info *out);

/* ----------------------------------------------------------------- ready.c */

TAS_HIDDEN uint32_t tas_sock_ready(const struct tas_sock *s);
TAS_HIDDEN bool tas_sock_writable(const struct tas_sock *s);

/* ------------------------------------------------------------------ ring.c */

TAS_HIDDEN size_t tas_ring_read(const uint8_t *base, uint32_t size, uint32_t pos,
                                const struct iovec *iov, int iovcnt, size_t skip,
                                size_t len);
TAS_HIDDEN size_t tas_ring_write(uint8_t *base, uint32_t size, uint32_t pos,
                                 const struct iovec *iov, int iovcnt, size_t skip,
                                 size_t len);
TAS_HIDDEN uint32_t tas_ring_advance(uint32_t pos, uint32_t n, uint32_t size);
TAS_HIDDEN size_t tas_iov_len(const struct iovec *iov, int iovcnt);

/* ------------------------------------------------------------------ wait.c */

typedef bool (*tas_cond_fn)(void *arg);

enum {
    TAS_WAIT_TIMEOUT = 0,
    TAS_WAIT_COND = 1,  /* the condition became true */
    TAS_WAIT_EXTRA = 2, /* one of the extra descriptors has an event */
};

/* With tas_lock held: wait until cond(arg), the deadline (NULL = none), a
 * signal (-EINTR), or an event on extra[] (revents filled in). */
TAS_HIDDEN int tas_wait(tas_cond_fn cond, void *arg, const struct timespec *deadline,
                        struct pollfd *extra, nfds_t n_extra, const sigset_t *mask);
TAS_HIDDEN bool tas_restart_signals(void);

/* ---------------------------------------------------------------- sockfd.c */

/* A socket named by fd (its reserved kernel socket; -1: none yet). */
TAS_HIDDEN struct tas_sock *tas_sock_new_fd(int fd);
TAS_HIDDEN void tas_sock_set_fd(struct tas_sock *s, int fd);
TAS_HIDDEN struct tas_sock *tas_sock_lookup(int fd); /* lock held, gets a ref */
/* If fd is a tasd socket: take tas_lock and a reference and return it;
 * otherwise NULL (without the lock).  tas_leave() undoes it. */
TAS_HIDDEN struct tas_sock *tas_enter(int fd);
/* The same, without taking the socket over (close). */
TAS_HIDDEN struct tas_sock *tas_enter_noattach(int fd);
TAS_HIDDEN void tas_leave(struct tas_sock *s);
/* Take the socket out of the fd table; drops the table's reference. */
TAS_HIDDEN void tas_sock_unlink_fd(struct tas_sock *s);

/* -------------------------------------------------------------- fallback.c */

/* The socket stops being ours; its descriptor is a plain kernel socket. */
TAS_HIDDEN int tas_sock_to_kernel(struct tas_sock *s);
TAS_HIDDEN void tas_listener_to_kernel(struct tas_sock *s); /* tasd exited */

/* ---------------------------------------------------------------- sockopt.c */

TAS_HIDDEN void tas_keepalive_read(struct tas_sock *s);

/* ----------------------------------------------------------------- epoll.c */

TAS_HIDDEN void tas_epoll_sock_changed(struct tas_sock *s);
TAS_HIDDEN void tas_epoll_sock_gone(struct tas_sock *s);
TAS_HIDDEN int tas_epoll_to_kernel(struct tas_sock *s);
TAS_HIDDEN int tas_epoll_close(struct tas_obj *o);
TAS_HIDDEN uint32_t tas_epoll_ready(struct tas_obj *o, int *kernel_fd);

/* ---------------------------------------------------------------- socket.c */

TAS_HIDDEN int tas_fd_release(int fd);
/* close_range(2) and closefrom(3): our own descriptors stay open. */
TAS_HIDDEN int tas_close_range(unsigned int first, unsigned int last, int flags);
/* newfd (from the kernel's dup of oldfd) names oldfd's socket too. */
TAS_HIDDEN void tas_fd_dup(int oldfd, int newfd);

/* Set errno from a -errno result and return -1, or return the value. */
static inline long tas_ret(long r)
{
    if (r < 0) {
        errno = (int)-r;
        return -1;
    }
    return r;
}

#endif /* LIBTAS_INTERNAL_H */
