/* test_sp_route.c - the slow path's static routing table. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>

#include "slowpath/route.h"

static uint32_t ip(const char *s)
{
    struct in_addr a;
    inet_pton(AF_INET, s, &a);
    return a.s_addr;
}

static struct sp_route_table t;

static void setup(void)
{
    sp_route_init(&t);
    cr_assert_eq(sp_route_add(&t, ip("10.0.0.0"), 24, 0), 0);
}

TestSuite(route, .init = setup);

Test(route, address_on_our_subnet_is_its_own_next_hop)
{
    uint32_t nh = 0;
    cr_assert_eq(sp_route_lookup(&t, ip("10.0.0.7"), &nh), 0);
    cr_assert_eq(nh, ip("10.0.0.7"));
}

Test(route, address_off_subnet_without_a_route_is_unreachable)
{
    uint32_t nh;
    cr_assert_eq(sp_route_lookup(&t, ip("192.168.1.1"), &nh), -ENETUNREACH);
}

Test(route, default_route_sends_everything_else_to_the_gateway)
{
    uint32_t nh = 0;
    cr_assert_eq(sp_route_add(&t, 0, 0, ip("10.0.0.1")), 0);
    cr_assert_eq(sp_route_lookup(&t, ip("8.8.8.8"), &nh), 0);
    cr_assert_eq(nh, ip("10.0.0.1"));
    cr_assert_eq(sp_route_lookup(&t, ip("10.0.0.9"), &nh), 0);
    cr_assert_eq(nh, ip("10.0.0.9"), "the subnet route is longer");
}

Test(route, longest_prefix_wins_whatever_the_insertion_order)
{
    uint32_t nh = 0;
    cr_assert_eq(sp_route_add(&t, ip("172.16.0.0"), 12, ip("10.0.0.1")), 0);
    cr_assert_eq(sp_route_add(&t, ip("172.16.5.0"), 24, ip("10.0.0.2")), 0);
    cr_assert_eq(sp_route_add(&t, ip("172.16.0.0"), 16, ip("10.0.0.3")), 0);
    cr_assert_eq(sp_route_lookup(&t, ip("172.16.5.9"), &nh), 0);
    cr_assert_eq(nh, ip("10.0.0.2"));
    cr_assert_eq(sp_route_lookup(&t, ip("172.16.6.9"), &nh), 0);
    cr_assert_eq(nh, ip("10.0.0.3"));
    cr_assert_eq(sp_route_lookup(&t, ip("172.20.0.1"), &nh), 0);
    cr_assert_eq(nh, ip("10.0.0.1"));
}

Test(route, host_bits_of_the_destination_are_ignored)
{
    uint32_t nh = 0;
    cr_assert_eq(sp_route_add(&t, ip("192.168.1.77"), 24, ip("10.0.0.1")), 0);
    cr_assert_eq(sp_route_lookup(&t, ip("192.168.1.3"), &nh), 0);
    cr_assert_eq(nh, ip("10.0.0.1"));
}

Test(route, host_route_matches_only_that_host)
{
    uint32_t nh = 0;
    cr_assert_eq(sp_route_add(&t, ip("192.168.1.1"), 32, ip("10.0.0.5")), 0);
    cr_assert_eq(sp_route_lookup(&t, ip("192.168.1.1"), &nh), 0);
    cr_assert_eq(nh, ip("10.0.0.5"));
    cr_assert_eq(sp_route_lookup(&t, ip("192.168.1.2"), &nh), -ENETUNREACH);
}

Test(route, gateway_must_be_directly_reachable)
{
    cr_assert_eq(sp_route_add(&t, 0, 0, ip("10.9.0.1")), -EINVAL);
}

Test(route, duplicate_and_invalid_routes_are_refused)
{
    cr_assert_eq(sp_route_add(&t, ip("10.0.0.0"), 24, 0), -EEXIST);
    cr_assert_eq(sp_route_add(&t, ip("10.0.0.0"), 33, 0), -EINVAL);
}

Test(route, table_is_bounded)
{
    int rc = 0;
    for (unsigned i = 1; i <= SP_ROUTE_MAX && rc == 0; i++)
        rc = sp_route_add(&t, htonl(0xc0000000u + (i << 8)), 24, ip("10.0.0.1"));
    cr_assert_eq(rc, -ENOSPC);
}
