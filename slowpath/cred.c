/* cred.c - who an application is and what Linux would let it do.
 *
 * tasd serves every user (app.sock is 0666) unless apps.group gives the
 * socket to a group (root:GROUP 0660, the kernel then refuses the others)
 * or apps.users lists who besides root may register (checked here, on the
 * credentials of the connection).  Since an application can write its
 * queue entries directly, the rules Linux applies to sockets are applied
 * here, not in the library:
 *   - a port below net.ipv4.ip_unprivileged_port_start (read at start,
 *     1024 if unreadable) may be listened on or connected from only by
 *     effective uid 0 or a process with CAP_NET_BIND_SERVICE in its
 *     effective set (EACCES);
 *   - SO_REUSEPORT listeners share a port only if their effective uids
 *     are the same (EADDRINUSE otherwise; listen.c).
 *
 * Who: SO_PEERCRED at accept (the pid and effective uid and gid of the
 * process when it connected), and a pidfd of that process: SO_PEERPIDFD
 * (Linux 6.5), else pidfd_open(pid), which may race with the pid being
 * reused between connect() and our accept (the connection is then refused
 * below if the process we opened does not look like the one that
 * connected: another uid).  Each privileged request reads the process's
 * /proc/PID/status again (Uid:, CapEff:) and then asks the pidfd whether
 * that process is still alive: if it is, the pid was not reused while we
 * read, so what we read is the requester's current privilege, as Linux
 * checks it at bind() time (a server that drops root after registering
 * loses it here too).  Where no pidfd can be had (kernels before 5.3, a
 * sandbox that forbids pidfd_open) the reads are unpinned.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "slowpath/sp.h"

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77
#endif
#define CAP_NET_BIND_SERVICE_BIT 10

void sp_cred_init(void)
{
    sp.unpriv_port = 1024;
    FILE *f = fopen("/proc/sys/net/ipv4/ip_unprivileged_port_start", "r");
    unsigned v;
    if (f != NULL) {
        if (fscanf(f, "%u", &v) == 1 && v <= 65536)
            sp.unpriv_port = v;
        fclose(f);
    }
}

/* The process behind a pidfd still exists (so its pid is its own): a
 * pidfd turns readable when its process exits.  (Not pidfd_send_signal
 * with signal 0: that needs the right to signal the process, which
 * tasd.service's capabilities need not give, and valgrind lacks it.) */
static bool alive(int pidfd)
{
    struct pollfd p = {.fd = pidfd, .events = POLLIN};
    return poll(&p, 1, 0) == 0;
}

/* /proc/PID/status: effective uid and CAP_NET_BIND_SERVICE.  0 or -errno. */
static int read_status(int32_t pid, uint32_t *euid, bool *cap)
{
    char path[40], line[256];
    snprintf(path, sizeof(path), "/proc/%" PRId32 "/status", pid);
    FILE *f = fopen(path, "re");
    if (f == NULL)
        return -errno;
    int got = 0;
    while (got != 3 && fgets(line, sizeof(line), f) != NULL) {
        unsigned r, e;
        uint64_t caps;
        if (sscanf(line, "Uid: %u %u", &r, &e) == 2) {
            *euid = e;
            got |= 1;
        } else if (sscanf(line, "CapEff: %" SCNx64, &caps) == 1) {
            *cap = (caps >> CAP_NET_BIND_SERVICE_BIT) & 1;
            got |= 2;
        }
    }
    fclose(f);
    return got == 3 ? 0 : -EIO;
}

/* What the process may do now; false if it is gone or cannot be read.
 * (Without a pidfd, where the kernel or a sandbox gives none, what is read
 * is not pinned: the pid may have been reused since.) */
static bool refresh(struct sp_app *a)
{
    uint32_t euid;
    bool cap;
    if (read_status(a->pid, &euid, &cap) != 0 || (a->pidfd >= 0 && !alive(a->pidfd)))
        return false;
    a->euid = euid;
    a->cap_bind = cap;
    return true;
}

int sp_cred_take(struct sp_app *a, int sock)
{
    struct ucred cr;
    socklen_t cl = sizeof(cr);
    a->pidfd = -1;
    if (getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &cr, &cl) != 0)
        return -errno;
    a->pid = cr.pid;
    a->euid = cr.uid;
    a->egid = cr.gid;
    int fd;
    cl = sizeof(fd);
    if (getsockopt(sock, SOL_SOCKET, SO_PEERPIDFD, &fd, &cl) == 0 && fd >= 0)
        a->pidfd = fd;
    else
        a->pidfd = (int)syscall(SYS_pidfd_open, cr.pid, 0);
    if (a->pidfd >= 0)
        fcntl(a->pidfd, F_SETFD, FD_CLOEXEC);
    else if (errno == ESRCH)
        return -ESRCH; /* gone already */
    /* (else no pidfd here: the checks read /proc unpinned, see refresh) */
    uint32_t euid = a->euid;
    if (!refresh(a) || a->euid != euid) /* pidfd_open found another process */
        return -ESRCH;
    return 0;
}

void sp_cred_drop(struct sp_app *a)
{
    if (a->pidfd >= 0)
        close(a->pidfd);
    a->pidfd = -1;
}

bool sp_cred_admitted(const struct sp_app *a)
{
    if (a->euid == 0 || sp.cfg.n_app_uids == 0)
        return true;
    for (unsigned i = 0; i < sp.cfg.n_app_uids; i++)
        if (sp.cfg.app_uids[i] == a->euid)
            return true;
    return false;
}

int sp_cred_port(struct sp_app *a, uint16_t port)
{
    if (port == 0 || port >= sp.unpriv_port)
        return 0;
    if (!refresh(a))
        return -EACCES; /* gone, or we cannot tell: as unprivileged */
    if (a->euid == 0 || a->cap_bind)
        return 0;
    sp.cnt.cred_port_refused++;
    return -EACCES;
}

uint32_t sp_cred_uid(struct sp_app *a)
{
    return refresh(a) ? a->euid : UINT32_MAX;
}
