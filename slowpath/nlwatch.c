/* nlwatch.c - following one kind of the kernel's routing objects (routes,
 * neighbours) through libnl-route-3: subscribe to its notification group
 * on a non-blocking socket first, so that no change falls between, then
 * dump what there is (each object to the caller), then hand every
 * notification message to the caller from the slow path's loop.  Used by
 * kroutes.c and kneigh.c. */
#include <errno.h>
#include <string.h>

#include <netlink/cache.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>

#include "slowpath/sp.h"

static void on_readable(int fd, uint32_t ev, void *arg)
{
    (void)fd;
    (void)ev;
    struct sp_nlwatch *w = arg;
    int rc = nl_recvmsgs_default(w->events);
    if (rc < 0 && rc != -NLE_AGAIN && !w->said) {
        /* Lost notifications (-NLE_NOMEM: the socket overflowed): what
         * was taken may be stale until the next change; say so once. */
        fprintf(stderr, "tasd: %s: %s\n", w->what, nl_geterror(rc));
        w->said = true;
    }
}

int sp_nlwatch_start(struct sp_nlwatch *w, const char *what, int group,
                     int (*dump)(struct nl_sock *, struct nl_cache **),
                     void (*each)(struct nl_object *, void *), int (*on_msg)(struct nl_msg *, void *))
{
    struct nl_sock *d = nl_socket_alloc();
    struct nl_cache *cache = NULL;
    int rc;

    memset(w, 0, sizeof(*w));
    w->what = what;
    w->events = nl_socket_alloc();
    if (d == NULL || w->events == NULL) {
        rc = -NLE_NOMEM;
        goto fail;
    }
    nl_socket_disable_seq_check(w->events);
    nl_socket_modify_cb(w->events, NL_CB_VALID, NL_CB_CUSTOM, on_msg, NULL);
    if ((rc = nl_connect(w->events, NETLINK_ROUTE)) < 0 ||
        (rc = nl_socket_add_membership(w->events, group)) < 0 ||
        (rc = nl_socket_set_nonblocking(w->events)) < 0 ||
        (rc = nl_connect(d, NETLINK_ROUTE)) < 0 || (rc = dump(d, &cache)) < 0)
        goto fail;
    nl_cache_foreach(cache, each, NULL);
    nl_cache_free(cache);
    nl_socket_free(d);
    if ((rc = sp_loop_add(nl_socket_get_fd(w->events), on_readable, w)) != 0) {
        fprintf(stderr, "tasd: %s: %s\n", what, strerror(-rc));
        return rc;
    }
    return 0;
fail:
    fprintf(stderr, "tasd: %s (netlink): %s\n", what, nl_geterror(rc));
    nl_socket_free(d);
    nl_socket_free(w->events);
    w->events = NULL;
    return -EIO;
}

void sp_nlwatch_stop(struct sp_nlwatch *w)
{
    if (w->events == NULL)
        return;
    sp_loop_del(nl_socket_get_fd(w->events));
    nl_socket_free(w->events);
    w->events = NULL;
}
