/* test_libtas_ready.c - poll bits of a tasd socket (libtas/core/ready.c) match
 * what Linux reports for a TCP socket in the same state. */
#include <criterion/criterion.h>

#include "libtas/core/core.h"

static struct tc_sock connected(void)
{
    struct tc_sock s = {
        .state = TC_SS_CONNECTED, .tx_size = 1000, .tx_free = 1000, .rx_size = 1000};
    return s;
}

Test(ready, a_fresh_socket_is_writable_and_hung_up)
{
    struct tc_sock s = {.state = TC_SS_FRESH};
    cr_assert_eq(tc_sock_ready(&s) & (POLLIN | POLLOUT | POLLHUP | POLLERR),
                 POLLOUT | POLLHUP);
}

Test(ready, a_listener_is_readable_only_with_a_connection_waiting)
{
    struct tc_sock s = {.state = TC_SS_LISTENING};
    cr_assert_eq(tc_sock_ready(&s), 0);
    s.acc_len = 1;
    cr_assert(tc_sock_ready(&s) & POLLIN);
}

Test(ready, a_connecting_socket_reports_nothing)
{
    struct tc_sock s = {.state = TC_SS_CONNECTING};
    cr_assert_eq(tc_sock_ready(&s), 0);
}

Test(ready, a_failed_connect_reports_error_out_and_hangup)
{
    struct tc_sock s = {.state = TC_SS_CLOSED, .so_error = ECONNREFUSED};
    uint32_t m = tc_sock_ready(&s);
    cr_assert_eq(m & (POLLERR | POLLOUT | POLLHUP), POLLERR | POLLOUT | POLLHUP);
    cr_assert_eq(m & POLLIN, 0);
}

Test(ready, an_idle_connection_is_writable_only)
{
    struct tc_sock s = connected();
    cr_assert_eq(tc_sock_ready(&s), POLLOUT | POLLWRNORM);
}

Test(ready, data_makes_a_connection_readable)
{
    struct tc_sock s = connected();
    s.rx_ready = 1;
    cr_assert(tc_sock_ready(&s) & POLLIN);
}

Test(ready, writable_needs_a_quarter_of_the_ring_free)
{
    struct tc_sock s = connected();
    s.tx_free = 249;
    cr_assert_eq(tc_sock_ready(&s) & POLLOUT, 0);
    s.tx_free = 250;
    cr_assert(tc_sock_ready(&s) & POLLOUT);
}

Test(ready, the_peers_fin_is_readable_and_rdhup)
{
    struct tc_sock s = connected();
    s.rd_eof = true;
    uint32_t m = tc_sock_ready(&s);
    cr_assert_eq(m & (POLLIN | POLLRDHUP | POLLHUP), POLLIN | POLLRDHUP);
}

Test(ready, both_directions_shut_is_a_hangup)
{
    struct tc_sock s = connected();
    s.rd_eof = true;
    s.wr_shut = true;
    cr_assert(tc_sock_ready(&s) & POLLHUP);
}

Test(ready, a_reset_reports_everything_like_linux)
{
    struct tc_sock s = connected();
    s.reset = s.rd_eof = true;
    s.so_error = ECONNRESET;
    s.tx_free = 0;
    uint32_t want = POLLIN | POLLOUT | POLLERR | POLLHUP | POLLRDHUP;
    cr_assert_eq(tc_sock_ready(&s) & want, want);
}

Test(ready, a_socket_of_a_dead_tasd_is_ready_with_an_error)
{
    struct tc_sock s = connected();
    s.dead = true;
    s.so_error = ECONNRESET;
    uint32_t want = POLLIN | POLLOUT | POLLERR | POLLHUP;
    cr_assert_eq(tc_sock_ready(&s) & want, want);
}
