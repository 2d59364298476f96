/* test_sp_route.c - the slow path's routing table (slowpath/route.c): the
 * longest prefix wins, gateways must be direct, kernel routes come and go.
 * Runs on a DPDK EAL without huge pages or devices (rte_lpm), as tasd
 * does here. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>

#include "slowpath/route.h"

static uint32_t ip(const char *s)
{
    struct in_addr a;
    inet_pton(AF_INET, s, &a);
    return a.s_addr;
}

static struct sp_route_table t;
static char run_dir[4096];

static void setup(void)
{
    char prefix[64];
    snprintf(prefix, sizeof(prefix), "--file-prefix=test_sp_route_%d", (int)getpid());
    char *argv[] = {"test_sp_route",
                    "--no-huge",
                    "--no-pci",
                    "--no-shconf",
                    "-m",
                    "64",
                    "--no-telemetry",
                    "--log-level=lib.*:error",
                    prefix,
                    NULL};
    cr_assert_geq(rte_eal_init((int)(sizeof(argv) / sizeof(argv[0])) - 1, argv), 0,
                  "rte_eal_init: %s", rte_strerror(rte_errno));
    snprintf(run_dir, sizeof(run_dir), "%s", rte_eal_get_runtime_dir());
    int rc = sp_route_init(&t, "test_routes");
    cr_assert_eq(rc, 0, "sp_route_init: %s", rte_strerror(-rc));
    cr_assert_eq(sp_route_add(&t, ip("10.0.0.0"), 24, 0, SP_ROUTE_SUBNET), 0);
}

static void teardown(void)
{
    sp_route_fini(&t);
    rte_eal_cleanup();
    rmdir(run_dir);
}

TestSuite(route, .init = setup, .fini = teardown);

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
    cr_assert_eq(sp_route_add(&t, 0, 0, ip("10.0.0.1"), SP_ROUTE_CONFIG), 0);
    cr_assert_eq(sp_route_lookup(&t, ip("8.8.8.8"), &nh), 0);
    cr_assert_eq(nh, ip("10.0.0.1"));
    cr_assert_eq(sp_route_lookup(&t, ip("10.0.0.9"), &nh), 0);
    cr_assert_eq(nh, ip("10.0.0.9"), "the subnet route is longer");
}

Test(route, longest_prefix_wins_whatever_the_insertion_order)
{
    uint32_t nh = 0;
    cr_assert_eq(sp_route_add(&t, ip("172.16.0.0"), 12, ip("10.0.0.1"), SP_ROUTE_CONFIG),
                 0);
    cr_assert_eq(sp_route_add(&t, ip("172.16.5.0"), 24, ip("10.0.0.2"), SP_ROUTE_CONFIG),
                 0);
    cr_assert_eq(sp_route_add(&t, ip("172.16.0.0"), 16, ip("10.0.0.3"), SP_ROUTE_CONFIG),
                 0);
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
    cr_assert_eq(
        sp_route_add(&t, ip("192.168.1.77"), 24, ip("10.0.0.1"), SP_ROUTE_CONFIG), 0);
    cr_assert_eq(sp_route_lookup(&t, ip("192.168.1.3"), &nh), 0);
    cr_assert_eq(nh, ip("10.0.0.1"));
}

Test(route, host_route_matches_only_that_host)
{
    uint32_t nh = 0;
    cr_assert_eq(sp_route_add(&t, ip("192.168.1.1"), 32, ip("10.0.0.5"), SP_ROUTE_CONFIG),
                 0);
    cr_assert_eq(sp_route_lookup(&t, ip("192.168.1.1"), &nh), 0);
    cr_assert_eq(nh, ip("10.0.0.5"));
    cr_assert_eq(sp_route_lookup(&t, ip("192.168.1.2"), &nh), -ENETUNREACH);
}

Test(route, gateway_must_be_directly_reachable)
{
    cr_assert_eq(sp_route_add(&t, 0, 0, ip("10.9.0.1"), SP_ROUTE_CONFIG), -EINVAL);
}

Test(route, duplicate_and_invalid_routes_are_refused)
{
    cr_assert_eq(sp_route_add(&t, ip("10.0.0.0"), 24, 0, SP_ROUTE_CONFIG), -EEXIST);
    cr_assert_eq(sp_route_add(&t, ip("10.0.0.0"), 33, 0, SP_ROUTE_CONFIG), -EINVAL);
}

Test(route, table_is_bounded)
{
    int rc = 0;
    for (unsigned i = 1; i <= SP_ROUTE_MAX && rc == 0; i++)
        rc = sp_route_add(&t, htonl(0xc0000000u + (i << 8)), 24, ip("10.0.0.1"),
                          SP_ROUTE_CONFIG);
    cr_assert_eq(rc, -ENOSPC);
}

Test(route, kernel_routes_come_and_go_and_only_theirs)
{
    uint32_t nh = 0;
    cr_assert_eq(sp_route_add(&t, ip("172.16.0.0"), 16, ip("10.0.0.1"), SP_ROUTE_KERNEL),
                 0);
    cr_assert_eq(sp_route_add(&t, ip("172.16.5.0"), 24, ip("10.0.0.2"), SP_ROUTE_CONFIG),
                 0);
    cr_assert_eq(sp_route_lookup(&t, ip("172.16.9.9"), &nh), 0);
    cr_assert_eq(nh, ip("10.0.0.1"));
    cr_assert_eq(sp_route_del(&t, ip("172.16.5.0"), 24, SP_ROUTE_KERNEL), -ENOENT,
                 "not the kernel's");
    cr_assert_eq(sp_route_del(&t, ip("172.16.0.0"), 16, SP_ROUTE_KERNEL), 0);
    cr_assert_eq(sp_route_lookup(&t, ip("172.16.9.9"), &nh), -ENETUNREACH);
    cr_assert_eq(sp_route_lookup(&t, ip("172.16.5.9"), &nh), 0);
    cr_assert_eq(nh, ip("10.0.0.2"), "the other routes stay");
    cr_assert_eq(t.n, 2);
    cr_assert_eq(t.r[0].prefix, 24, "longest first");
}

Test(route, many_routes_match_as_a_linear_scan_would)
{
    /* 200 routes of all lengths; the LPM's answer is the longest match. */
    for (unsigned i = 0; i < 200; i++) {
        uint8_t len = (uint8_t)(8 + i % 25);
        uint32_t d = htonl(0xac000000u + i * 0x00012345u) & htonl(~0u << (32 - len));
        int rc = sp_route_add(&t, d, len, ip("10.0.0.1"), SP_ROUTE_KERNEL);
        cr_assert(rc == 0 || rc == -EEXIST);
    }
    for (uint32_t k = 0; k < 5000; k++) {
        uint32_t a = htonl(0xac000000u + k * 0x00f00f1u), nh;
        const struct sp_route *best = NULL;
        for (unsigned i = 0; i < t.n && best == NULL; i++)
            if ((a & t.r[i].mask) == t.r[i].dest)
                best = &t.r[i];
        int rc = sp_route_lookup(&t, a, &nh);
        if (best == NULL) {
            cr_assert_eq(rc, -ENETUNREACH);
        } else {
            cr_assert_eq(rc, 0);
            cr_assert_eq(nh, best->gw != 0 ? best->gw : a);
        }
    }
}
