/* tcp_state.c - the TCP connection state diagram (RFC 9293 3.3.2) as the
 * slow path sees it: the fast path reports FIN received / FIN acknowledged
 * as events, the application asks for FIN, and a reset or timer ends it.
 * Kept as a pure function so every transition is unit-tested.
 */
#include <errno.h>

#include "slowpath/tcp.h"

int sp_tcp_next_state(enum sp_tcp_state s, enum sp_tcp_event ev)
{
    if (s >= SP_TCP_N_STATES)
        return -EINVAL;
    if (ev == SP_TEV_RESET)
        return SP_TCP_CLOSED;
    switch (s) {
    case SP_TCP_SYN_SENT:
    case SP_TCP_SYN_RCVD:
        if (ev == SP_TEV_ESTABLISH)
            return SP_TCP_ESTABLISHED;
        if (ev == SP_TEV_CLOSE_WR || ev == SP_TEV_TIMEOUT)
            return SP_TCP_CLOSED;
        break;
    case SP_TCP_ESTABLISHED:
        if (ev == SP_TEV_CLOSE_WR)
            return SP_TCP_FIN_WAIT_1;
        if (ev == SP_TEV_FIN_RCVD)
            return SP_TCP_CLOSE_WAIT;
        break;
    case SP_TCP_FIN_WAIT_1:
        if (ev == SP_TEV_FIN_ACKED)
            return SP_TCP_FIN_WAIT_2;
        if (ev == SP_TEV_FIN_RCVD)
            return SP_TCP_CLOSING;
        if (ev == SP_TEV_CLOSE_WR)
            return s;
        break;
    case SP_TCP_FIN_WAIT_2:
        if (ev == SP_TEV_FIN_RCVD)
            return SP_TCP_TIME_WAIT;
        if (ev == SP_TEV_CLOSE_WR)
            return s;
        if (ev == SP_TEV_TIMEOUT)
            return SP_TCP_CLOSED;
        break;
    case SP_TCP_CLOSING:
        if (ev == SP_TEV_FIN_ACKED)
            return SP_TCP_TIME_WAIT;
        if (ev == SP_TEV_CLOSE_WR)
            return s;
        break;
    case SP_TCP_TIME_WAIT:
        if (ev == SP_TEV_TIMEOUT)
            return SP_TCP_CLOSED;
        if (ev == SP_TEV_CLOSE_WR)
            return s;
        break;
    case SP_TCP_CLOSE_WAIT:
        if (ev == SP_TEV_CLOSE_WR)
            return SP_TCP_LAST_ACK;
        break;
    case SP_TCP_LAST_ACK:
        if (ev == SP_TEV_FIN_ACKED)
            return SP_TCP_CLOSED;
        if (ev == SP_TEV_CLOSE_WR)
            return s;
        break;
    case SP_TCP_CLOSED:
    case SP_TCP_N_STATES:
        break;
    }
    return -EINVAL;
}

bool sp_tcp_sends_fin(enum sp_tcp_state from, enum sp_tcp_state to)
{
    return (from == SP_TCP_ESTABLISHED && to == SP_TCP_FIN_WAIT_1) ||
           (from == SP_TCP_CLOSE_WAIT && to == SP_TCP_LAST_ACK);
}

bool sp_tcp_synchronized(enum sp_tcp_state s)
{
    return s >= SP_TCP_ESTABLISHED && s != SP_TCP_TIME_WAIT && s < SP_TCP_N_STATES;
}

const char *sp_tcp_state_name(enum sp_tcp_state s)
{
    static const char *const names[SP_TCP_N_STATES] = {
        [SP_TCP_CLOSED] = "CLOSED",         [SP_TCP_SYN_SENT] = "SYN_SENT",
        [SP_TCP_SYN_RCVD] = "SYN_RCVD",     [SP_TCP_ESTABLISHED] = "ESTABLISHED",
        [SP_TCP_FIN_WAIT_1] = "FIN_WAIT_1", [SP_TCP_FIN_WAIT_2] = "FIN_WAIT_2",
        [SP_TCP_CLOSING] = "CLOSING",       [SP_TCP_TIME_WAIT] = "TIME_WAIT",
        [SP_TCP_CLOSE_WAIT] = "CLOSE_WAIT", [SP_TCP_LAST_ACK] = "LAST_ACK",
    };
    return s < SP_TCP_N_STATES ? names[s] : "?";
}
