/* msgio.c - one message of the registration protocol (tas/msg.h) on
 * app.sock, sent or received with the descriptors that come with it.
 * register.c and qctx.c speak through it.
 */
#include "libtas/core/core.h"

/* Receive one message and the descriptors that come with it. */
int tc_msg_recv(int fd, struct tas_msg *m, int *fds, int max_fds, int *n_fds)
{
    union {
        char buf[CMSG_SPACE(sizeof(int) * (3 + TAS_MAX_FP_CORES))];
        struct cmsghdr align;
    } cbuf;
    struct iovec iov = {m, sizeof(*m)};
    struct msghdr mh = {.msg_iov = &iov,
                        .msg_iovlen = 1,
                        .msg_control = cbuf.buf,
                        .msg_controllen = sizeof(cbuf.buf)};

    *n_fds = 0;
    ssize_t r = real_recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
    if (r < 0)
        return errno == EAGAIN ? -ETIMEDOUT : -errno;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        int n = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
        int *p = (int *)CMSG_DATA(c);
        for (int i = 0; i < n; i++) {
            if (*n_fds < max_fds)
                fds[(*n_fds)++] = p[i];
            else
                real_close(p[i]);
        }
    }
    int err = 0;
    if (r == 0)
        err = -ECONNRESET;
    else if ((size_t)r != sizeof(*m) || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)))
        err = -EPROTO;
    else if (m->status < 0)
        err = m->status;
    if (err != 0) {
        for (int i = 0; i < *n_fds; i++)
            real_close(fds[i]);
        *n_fds = 0;
    }
    return err;
}

int tc_msg_send(int fd, const struct tas_msg *m)
{
    ssize_t r = real_sendto(fd, m, sizeof(*m), MSG_NOSIGNAL, NULL, 0);
    if (r < 0)
        return -errno;
    return (size_t)r == sizeof(*m) ? 0 : -EPROTO;
}

void tc_close_fds(int *fds, int n)
{
    for (int i = 0; i < n; i++)
        if (fds[i] >= 0)
            real_close(fds[i]);
}
