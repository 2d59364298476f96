/* msg.h - the registration protocol on <run_dir>/app.sock.
 *
 * An application connects a SOCK_SEQPACKET socket to app.sock.  Each message
 * is one packet.  The socket stays open for the life of the process: when it
 * closes, tasd resets and frees everything the application held.
 *
 *   app  -> tasd  TAS_MSG_HELLO     (pid)
 *   tasd -> app   TAS_MSG_WELCOME   + SCM_RIGHTS: region memfd, slow-path
 *                                   doorbell eventfd, global page memfd,
 *                                   then one doorbell eventfd per fp core
 *   app  -> tasd  TAS_MSG_CTX_NEW
 *   tasd -> app   TAS_MSG_CTX       + SCM_RIGHTS: the context's eventfd
 * tasd takes messages in order, so CTX_NEW may follow HELLO at once, before
 * WELCOME is read (the library does: one round trip for both).
 *   app  -> tasd  TAS_MSG_CTX_DEL   ctx: a context (not the first) the
 *                                   application no longer uses (its thread
 *                                   exited).  tasd first takes what its
 *                                   sp_in holds; connections still pointing
 *                                   at it (closed ones that finish) go to
 *                                   the first context
 *   tasd -> app   TAS_MSG_CTX       status 0: the slow path posts nothing
 *                                   more there (the application reads it a
 *                                   last time); the slot is free for a
 *                                   later CTX_NEW, which gets it clean
 *
 * fork() (the parent, before and after forking):
 *   app  -> tasd  TAS_MSG_FORK      tasd first takes every request already
 *                                   on the app's sp_in queues, then records
 *                                   what the app holds for the child
 *   tasd -> app   TAS_MSG_FORK_OK   token naming that record
 *   app  -> tasd  TAS_MSG_FORK_DONE token, pid of the child (or -1: failed)
 * The child then says HELLO with the token and its parent's app id; its app
 * holds the parent's listeners and connections until it closes them, and
 * takes one over (TAS_SPIN_ATTACH) when it first uses it.  The parent's own
 * listeners stop getting connections until it uses them again (ATTACH),
 * unless FORK says TAS_FORK_PARENT_GOES_ON: exec() from a vfork() child,
 * whose parent resumes without knowing a record was made.
 *
 * After posting to its sp_in queue an application writes the slow-path
 * doorbell (eventfd_write 1).  Errors come back as status = -errno.
 */
#ifndef TAS_MSG_H
#define TAS_MSG_H

#include <stdint.h>

#define TAS_APP_SOCK "app.sock"
#define TAS_CONTROL_SOCK "control.sock"
#define TAS_DEFAULT_RUN_DIR "/run/tasd"

enum {
    TAS_MSG_HELLO = 1,
    TAS_MSG_WELCOME = 2,
    TAS_MSG_CTX_NEW = 3,
    TAS_MSG_CTX = 4,
    TAS_MSG_FORK = 5,
    TAS_MSG_FORK_OK = 6,
    TAS_MSG_FORK_DONE = 7,
    TAS_MSG_CTX_DEL = 8,
};

/* tas_msg.flags of FORK */
#define TAS_FORK_PARENT_GOES_ON 1u

struct tas_msg {
    uint32_t type;    /* TAS_MSG_* */
    uint32_t version; /* TAS_ABI_VERSION (HELLO, WELCOME) */
    int32_t status;   /* replies: 0 or -errno */
    int32_t pid;      /* HELLO: the application's pid; FORK_DONE: the child's */
    uint32_t app_id;  /* WELCOME */
    uint32_t ctx;     /* CTX: the new context's index; CTX_DEL: the one to free */
    uint64_t region_size;  /* WELCOME: bytes to map of the region memfd */
    uint64_t global_size;  /* WELCOME: bytes to map of the global memfd */
    uint32_t n_fp;         /* WELCOME: number of fp doorbells that follow */
    uint32_t parent_app;   /* HELLO of a fork child: the parent's app id */
    uint64_t token;        /* FORK_OK, FORK_DONE, HELLO of a fork child; 0 = none */
    uint32_t flags;        /* FORK: TAS_FORK_* */
    uint32_t pad;
};

#endif /* TAS_MSG_H */
