/* test_libtas_ready.c - poll bits of a tasd socket (libtas/ready.c) match
 * what Linux reports for a TCP socket in the same state. */
#include <criterion/criterion.h>

#include "libtas/internal.h"

static struct tas_sock connected(void)
{
    struct tas_sock s = {
        .state = TAS_SS_CONNECTED, .tx_size = 1000, .tx_free = 1000, .rx_size = 1000};
    return s;
}

Test(ready, a_fresh_socket_is_writable_and_hung_up)
{
    struct tas_sock s = {.state = TAS_SS_FRESH};
    cr_assert_eq(tas_sock_ready(&s) & (POLLIN | POLLOUT | POLLHUP | POLLERR),
                 POLLOUT | POLLHUP);
}

Test(ready, a_listener_is_readable_only_with_a_connection_waiting)
{
    struct tas_sock s = {.state = TAS_SS_LISTENING};
    cr_assert_eq(tas_sock_ready(&s), 0);
    s.acc_len = 1;
    cr_assert(tas_sock_ready(&s) & POLLIN);
}

Test(ready, a_connecting_socket_reports_nothing)
{
    struct tas_sock s = {.state = TAS_SS_CONNECTING};
    cr_assert_eq(tas_sock_ready(&s), 0);
}

Test(ready, a_failed_connect_reports_error_out_and_hangup)
{
    struct tas_sock s = {.state = TAS_SS_CLOSED, .so_error = ECONNREFUSED};
    uint32_t m = tas_sock_ready(&s);
    cr_assert_eq(m & (POLLERR | POLLOUT | POLLHUP), POLLERR | POLLOUT | POLLHUP);
    cr_assert_eq(m & POLLIN, 0);
}

Test(ready, an_idle_connection_is_writable_only)
{
    struct tas_sock s = connected();
    cr_assert_eq(tas_sock_ready(&s), POLLOUT | POLLWRNORM);
}

Test(ready, data_makes_a_connection_readable)
{
    struct tas_sock s = connected();
    s.rx_ready = 1;
    cr_assert(tas_sock_ready(&s) & POLLIN);
}

Test(ready, writable_needs_a_quarter_of_the_ring_free)
{
    struct tas_sock s = connected();
    s.tx_free = 249;
    cr_assert_eq(tas_sock_ready(&s) & POLLOUT, 0);
    s.tx_free = 250;
    cr_assert(tas_sock_ready(&s) & POLLOUT);
}

Test(ready, the_peers_fin_is_readable_and_rdhup)
{
    struct tas_sock s = connected();
    s.rd_eof = true;
    uint32_t m = tas_sock_ready(&s);
    cr_assert_eq(m & (POLLIN | POLLRDHUP | POLLHUP), POLLIN | POLLRDHUP);
}

Test(ready, both_directions_shut_is_a_hangup)
{
    struct tas_sock s = connected();
    s.rd_eof = true;
    s.wr_shut = true;
    cr_assert(tas_sock_ready(&s) & POLLHUP);
}

Test(ready, a_reset_reports_everything_like_linux)
{
    struct tas_sock s = connected();
    s.reset = s.rd_eof = true;
    s.so_error = ECONNRESET;
    s.tx_free = 0;
    uint32_t want = POLLIN | POLLOUT | POLLERR | POLLHUP | POLLRDHUP;
    cr_assert_eq(tas_sock_ready(&s) & want, want);
}

Test(ready, a_socket_of_a_dead_tasd_is_ready_with_an_error)
{
    struct tas_sock s = connected();
    s.dead = true;
    s.so_error = ECONNRESET;
    uint32_t want = POLLIN | POLLOUT | POLLERR | POLLHUP;
    cr_assert_eq(tas_sock_ready(&s) & want, want);
}
