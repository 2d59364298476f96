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
};

struct tas_msg {
    uint32_t type;    /* TAS_MSG_* */
    uint32_t version; /* TAS_ABI_VERSION (HELLO, WELCOME) */
    int32_t status;   /* replies: 0 or -errno */
    int32_t pid;      /* HELLO: the application's pid */
    uint32_t app_id;  /* WELCOME */
    uint32_t ctx;     /* CTX: the new context's index */
    uint64_t region_size;  /* WELCOME: bytes to map of the region memfd */
    uint64_t global_size;  /* WELCOME: bytes to map of the global memfd */
    uint32_t n_fp;         /* WELCOME: number of fp doorbells that follow */
    uint32_t pad;
};

#endif /* TAS_MSG_H */
