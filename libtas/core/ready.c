/* ready.c - what poll() would say about a tasd socket.
 *
 * Computed from the socket's state alone, the way Linux's tcp_poll() does
 * it, so that programs see the same bits with and without libtas:
 *   fresh socket          POLLOUT | POLLHUP
 *   listening             POLLIN when a connection waits for accept()
 *   connecting            nothing until the outcome
 *   connected             POLLIN on data or EOF, POLLRDHUP after the peer's
 *                         FIN, POLLOUT when a quarter of the tx ring is free
 *                         (or writes are shut), POLLHUP when both directions
 *                         are shut
 *   over (failed connect, reset, tasd gone)
 *                         POLLIN | POLLOUT | POLLHUP (| POLLRDHUP)
 *   pending error         POLLERR in addition
 * POLL* and EPOLL* bits have the same values on Linux, so the result serves
 * both.  Pure function of the socket; the caller holds tc_lock.
 */
#include "libtas/core/core.h"

bool tc_sock_writable(const struct tc_sock *s)
{
    uint32_t want = s->tx_size / 4;
    return s->tx_free > 0 && s->tx_free >= want;
}

uint32_t tc_sock_ready(const struct tc_sock *s)
{
    const uint32_t in = POLLIN | POLLRDNORM, out = POLLOUT | POLLWRNORM;
    uint32_t m = 0;

    if (s->detached)
        return POLLERR | POLLHUP;
    if (s->need_attach)
        return 0; /* another process owns it now (attach.c) */
    if (s->so_error != 0)
        m |= POLLERR;
    if (s->dead)
        return m | in | out | POLLHUP | POLLRDHUP;

    switch (s->state) {
    case TC_SS_FRESH:
        m |= out | POLLHUP;
        break;
    case TC_SS_LISTEN_WAIT:
        break;
    case TC_SS_LISTENING:
        if (s->acc_len > 0 || s->rd_shut)
            m |= in;
        break;
    case TC_SS_CONNECTING:
        break;
    case TC_SS_CONNECTED:
        if (s->rx_ready > 0 || s->rd_eof || s->rd_shut)
            m |= in;
        if (s->rd_eof || s->rd_shut)
            m |= POLLRDHUP;
        if (s->wr_shut || s->reset || tc_sock_writable(s))
            m |= out;
        if ((s->rd_eof || s->rd_shut) && (s->wr_shut || s->reset))
            m |= POLLHUP;
        break;
    case TC_SS_CLOSED:
    default:
        m |= out | POLLHUP;
        if (s->rx_ready > 0 || s->rd_eof || s->reset)
            m |= in | POLLRDHUP;
        break;
    }
    return m;
}
