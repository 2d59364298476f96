/* alive.c - noticing that tasd exited, and what that does to the process.
 *
 * When the app.sock connection closes, every tasd connection fails (reads
 * ECONNRESET after any data already received, writes EPIPE), listening
 * sockets wait, quiet, for tasd to come back (sock.c, revive.c: on a DPDK
 * port no client could reach them on the kernel stack) and new sockets
 * follow the fallback rule (the kernel, or with TAS_FALLBACK=0 they fail).
 * Callers that sleep notice at once (app.sock is in the leader's poll set,
 * wait.c); busy non-blocking ones every ALIVE_CHECK_NS.
 */
#include <poll.h>
#include <time.h>

#include "libtas/core/core.h"

#define ALIVE_CHECK_NS 100000000L /* look at app.sock at most every 100 ms */

static int said_dead;

void tc_ctx_mark_dead(void)
{
    struct tc_ctx *c = &tc_ctx;
    if (c->state != TC_CTX_READY)
        return;
    __atomic_store_n(&c->state, TC_CTX_DEAD, __ATOMIC_RELEASE);
    tc_sock_kill_all(ECONNRESET);
    tc_say_once(
        &said_dead,
        "libtas: tasd exited (%s closed); its connections fail, listening sockets "
        "wait for it to come back, %s",
        c->app_path,
        c->fallback_ok ? "new sockets use the kernel TCP stack"
                       : "new TCP sockets fail with ECONNREFUSED");
    tc_wake_all();
}

/* With the lock held: has tasd closed app.sock?  Without force, looks at most
 * every ALIVE_CHECK_NS, so that busy non-blocking callers notice too. */
void tc_ctx_check_alive(bool force)
{
    struct tc_ctx *c = &tc_ctx;
    char buf[sizeof(struct tas_msg)];

    if (c->state != TC_CTX_READY)
        return;
    if (!force) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
        long ns = (now.tv_sec - c->last_alive_check.tv_sec) * 1000000000L +
                  (now.tv_nsec - c->last_alive_check.tv_nsec);
        if (ns < ALIVE_CHECK_NS)
            return;
        c->last_alive_check = now;
    }
    /* A look first (ppoll, which sandboxes allow where recvfrom is not:
     * sshd's pre-authentication child); a read only if something came. */
    struct pollfd p = {.fd = c->app_fd, .events = POLLIN};
    struct timespec zero = {0, 0};
    if (real_ppoll(&p, 1, &zero, NULL) <= 0 || p.revents == 0)
        return;
    if (p.revents & (POLLHUP | POLLERR | POLLNVAL)) {
        tc_ctx_mark_dead();
        return;
    }
    for (;;) {
        ssize_t r = real_recvfrom(c->app_fd, buf, sizeof(buf), MSG_DONTWAIT, NULL, NULL);
        if (r > 0)
            continue; /* nothing is expected after CTX: ignore it */
        if (r == 0 || (errno != EAGAIN && errno != EINTR))
            tc_ctx_mark_dead();
        return;
    }
}
