/* fdset.c - the slow path's epoll set: which callback runs for which
 * descriptor.  Modules register theirs (sp_loop_add, sp_loop_del); loop.c
 * waits on sp.epfd and hands what is ready to sp_fdset_dispatch.
 *
 * Callbacks are found by descriptor with a generation number, so a
 * callback may remove any descriptor (even one later in the same epoll
 * batch) safely.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "slowpath/sp.h"

struct fd_ent {
    sp_fd_cb cb;
    void *arg;
    uint32_t gen;
};
static struct fd_ent *fds;
static unsigned n_fds;

int sp_loop_add(int fd, sp_fd_cb cb, void *arg)
{
    if (fd < 0 || cb == NULL || sp.epfd < 0)
        return -EINVAL;
    if ((unsigned)fd >= n_fds) {
        unsigned n = n_fds ? n_fds : 64;
        while (n <= (unsigned)fd)
            n *= 2;
        struct fd_ent *p = realloc(fds, n * sizeof(*p));
        if (p == NULL)
            return -ENOMEM;
        memset(p + n_fds, 0, (n - n_fds) * sizeof(*p));
        fds = p;
        n_fds = n;
    }
    struct fd_ent *e = &fds[fd];
    e->gen++;
    struct epoll_event ev = {.events = EPOLLIN,
                             .data.u64 = (uint64_t)(uint32_t)fd | (uint64_t)e->gen << 32};
    if (epoll_ctl(sp.epfd, EPOLL_CTL_ADD, fd, &ev) != 0)
        return -errno;
    e->cb = cb;
    e->arg = arg;
    return 0;
}

int sp_loop_del(int fd)
{
    if (fd < 0 || (unsigned)fd >= n_fds || fds[fd].cb == NULL)
        return -ENOENT;
    fds[fd].cb = NULL;
    fds[fd].arg = NULL;
    fds[fd].gen++;
    epoll_ctl(sp.epfd, EPOLL_CTL_DEL, fd, NULL);
    return 0;
}

void sp_fdset_dispatch(const struct epoll_event *evs, int n)
{
    for (int i = 0; i < n; i++) {
        int fd = (int)(uint32_t)evs[i].data.u64;
        uint32_t gen = (uint32_t)(evs[i].data.u64 >> 32);
        if ((unsigned)fd >= n_fds || fds[fd].cb == NULL || fds[fd].gen != gen)
            continue;
        fds[fd].cb(fd, evs[i].events, fds[fd].arg);
    }
}

void sp_fdset_fini(void)
{
    free(fds);
    fds = NULL;
    n_fds = 0;
}
