/* test_arp.c - the slow path's neighbour table and ARP frame handling. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "common/proto.h"
#include "slowpath/arp.h"

static const uint8_t our_mac[6] = {0x02, 0, 0, 0, 0, 0x01};
static const uint8_t peer_mac[6] = {0x02, 0, 0, 0, 0, 0x02};
static const uint8_t other_mac[6] = {0x02, 0, 0, 0, 0, 0x03};
static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
static const uint8_t zero[6];

static uint32_t ip(const char *s)
{
    struct in_addr a;
    inet_pton(AF_INET, s, &a);
    return a.s_addr;
}

/* Records what the table hands back. */
struct done_log {
    int n_ok, n_fail;
    void *last_item;
    uint32_t last_tag;
    uint8_t last_mac[6];
};

static void done_cb(void *item, uint32_t tag, const uint8_t *mac, void *arg)
{
    struct done_log *l = arg;
    l->last_item = item;
    l->last_tag = tag;
    if (mac != NULL) {
        l->n_ok++;
        memcpy(l->last_mac, mac, 6);
    } else {
        l->n_fail++;
    }
}

struct req_log {
    int n;
    uint32_t last_ip;
};
static void req_cb(uint32_t addr, void *arg)
{
    struct req_log *l = arg;
    l->n++;
    l->last_ip = addr;
}

static struct sp_arp_table t;

static void setup(void)
{
    cr_assert_eq(sp_arp_init(&t, 4, 60000), 0);
}
static void teardown(void)
{
    sp_arp_fini(&t, NULL, NULL);
}

TestSuite(arp, .init = setup, .fini = teardown);

Test(arp, learned_address_is_found_until_it_expires)
{
    cr_assert_eq(sp_arp_learn(&t, ip("10.0.0.1"), peer_mac, true, 1000, NULL, NULL), 0);
    const struct sp_neigh *n = sp_arp_lookup(&t, ip("10.0.0.1"), 2000);
    cr_assert_not_null(n);
    cr_assert_arr_eq(n->mac, peer_mac, 6);
    cr_assert_not_null(sp_arp_lookup(&t, ip("10.0.0.1"), 1000 + 59999));
    cr_assert_null(sp_arp_lookup(&t, ip("10.0.0.1"), 1000 + 60000));
}

Test(arp, unknown_address_is_not_found)
{
    cr_assert_null(sp_arp_lookup(&t, ip("10.0.0.9"), 0));
}

Test(arp, expired_entries_are_removed_by_the_timer)
{
    sp_arp_learn(&t, ip("10.0.0.1"), peer_mac, true, 0, NULL, NULL);
    sp_arp_tick(&t, 60000, NULL, NULL, NULL);
    cr_assert_eq(sp_arp_learn(&t, ip("10.0.0.1"), peer_mac, false, 60001, NULL, NULL),
                 -ENOENT);
}

Test(arp, new_mac_replaces_the_old_one_and_is_counted)
{
    sp_arp_learn(&t, ip("10.0.0.1"), peer_mac, true, 0, NULL, NULL);
    sp_arp_learn(&t, ip("10.0.0.1"), other_mac, false, 10, NULL, NULL);
    const struct sp_neigh *n = sp_arp_lookup(&t, ip("10.0.0.1"), 20);
    cr_assert_arr_eq(n->mac, other_mac, 6);
    cr_assert_eq(t.cnt.mac_changes, 1);
}

Test(arp, refresh_without_create_does_not_add_entries)
{
    cr_assert_eq(sp_arp_learn(&t, ip("10.0.0.1"), peer_mac, false, 0, NULL, NULL),
                 -ENOENT);
    cr_assert_null(sp_arp_lookup(&t, ip("10.0.0.1"), 0));
}

Test(arp, full_table_evicts_the_least_recently_confirmed_entry)
{
    for (int i = 0; i < 4; i++) {
        uint32_t a = htonl(0x0a000001 + i);
        sp_arp_learn(&t, a, peer_mac, true, 100 + i, NULL, NULL);
    }
    sp_arp_learn(&t, ip("10.0.0.99"), peer_mac, true, 200, NULL, NULL);
    cr_assert_null(sp_arp_lookup(&t, ip("10.0.0.1"), 201));
    cr_assert_not_null(sp_arp_lookup(&t, ip("10.0.0.2"), 201));
    cr_assert_not_null(sp_arp_lookup(&t, ip("10.0.0.99"), 201));
    cr_assert_eq(t.cnt.evictions, 1);
}

Test(arp, queued_item_is_released_with_the_mac_when_the_reply_arrives)
{
    struct done_log l = {0};
    int item;
    cr_assert_eq(sp_arp_queue(&t, ip("10.0.0.1"), &item, 7, 0), 1);
    cr_assert_eq(sp_arp_queue(&t, ip("10.0.0.1"), &l, 8, 5), 0, "second waits quietly");
    sp_arp_learn(&t, ip("10.0.0.1"), peer_mac, false, 10, done_cb, &l);
    cr_assert_eq(l.n_ok, 2);
    cr_assert_eq(l.last_tag, 8);
    cr_assert_arr_eq(l.last_mac, peer_mac, 6);
}

Test(arp, queueing_for_a_reachable_address_says_use_it)
{
    int item;
    sp_arp_learn(&t, ip("10.0.0.1"), peer_mac, true, 0, NULL, NULL);
    cr_assert_eq(sp_arp_queue(&t, ip("10.0.0.1"), &item, 0, 1), -EEXIST);
}

Test(arp, pending_queue_is_bounded)
{
    int items[SP_ARP_MAX_PENDING + 1];
    for (int i = 0; i < SP_ARP_MAX_PENDING; i++)
        cr_assert_geq(sp_arp_queue(&t, ip("10.0.0.1"), &items[i], 0, 0), 0);
    cr_assert_eq(sp_arp_queue(&t, ip("10.0.0.1"), &items[SP_ARP_MAX_PENDING], 0, 0),
                 -ENOBUFS);
    cr_assert_eq(t.cnt.pending_drops, 1);
}

Test(arp, request_is_retried_then_waiting_items_fail)
{
    struct done_log l = {0};
    struct req_log r = {0};
    int item;
    cr_assert_eq(sp_arp_queue(&t, ip("10.0.0.1"), &item, 3, 0), 1);
    sp_arp_tick(&t, 500, NULL, done_cb, &l);
    cr_assert_eq(l.n_fail, 0, "not due yet");
    /* The callbacks share one arg in the real code; keep them apart here. */
    sp_arp_tick(&t, 1000, req_cb, NULL, &r);
    sp_arp_tick(&t, 2000, req_cb, NULL, &r);
    cr_assert_eq(r.n, 2, "tries 2 and 3, one second apart");
    cr_assert_eq(r.last_ip, ip("10.0.0.1"));
    sp_arp_tick(&t, 3000, NULL, done_cb, &l);
    cr_assert_eq(l.n_fail, 1);
    cr_assert_eq(l.last_item, &item);
    cr_assert_eq(t.cnt.failed, 1);
}

Test(arp, cancelled_item_is_not_released)
{
    struct done_log l = {0};
    int item;
    sp_arp_queue(&t, ip("10.0.0.1"), &item, 0, 0);
    cr_assert(sp_arp_cancel(&t, &item));
    sp_arp_learn(&t, ip("10.0.0.1"), peer_mac, false, 1, done_cb, &l);
    cr_assert_eq(l.n_ok, 0);
}

/* A request from the peer for tpa. */
static size_t make_request(uint8_t *buf, uint32_t spa, uint32_t tpa)
{
    return sp_arp_build(buf, SP_ARP_FRAME_LEN, bcast, peer_mac, TAS_ARP_OP_REQUEST,
                        peer_mac, spa, zero, tpa);
}

Test(arp, request_for_our_ip_produces_a_reply_with_the_right_fields)
{
    uint8_t req[SP_ARP_FRAME_LEN], rep[SP_ARP_FRAME_LEN];
    make_request(req, ip("10.0.0.1"), ip("10.0.0.2"));
    int n = sp_arp_input(&t, req, sizeof(req), ip("10.0.0.2"), our_mac, 0, rep,
                         sizeof(rep), NULL, NULL);
    cr_assert_eq(n, SP_ARP_FRAME_LEN);

    struct tas_eth_hdr eth;
    struct tas_arp_hdr a;
    memcpy(&eth, rep, sizeof(eth));
    memcpy(&a, rep + sizeof(eth), sizeof(a));
    cr_assert_arr_eq(eth.dst, peer_mac, 6);
    cr_assert_arr_eq(eth.src, our_mac, 6);
    cr_assert_eq(ntohs(eth.type), TAS_ETHERTYPE_ARP);
    cr_assert_eq(ntohs(a.htype), TAS_ARP_HTYPE_ETH);
    cr_assert_eq(ntohs(a.ptype), TAS_ETHERTYPE_IPV4);
    cr_assert_eq(a.hlen, 6);
    cr_assert_eq(a.plen, 4);
    cr_assert_eq(ntohs(a.op), TAS_ARP_OP_REPLY);
    cr_assert_arr_eq(a.sha, our_mac, 6);
    cr_assert_eq(a.spa, ip("10.0.0.2"));
    cr_assert_arr_eq(a.tha, peer_mac, 6);
    cr_assert_eq(a.tpa, ip("10.0.0.1"));
}

Test(arp, request_for_our_ip_teaches_us_the_sender)
{
    uint8_t req[SP_ARP_FRAME_LEN], rep[SP_ARP_FRAME_LEN];
    make_request(req, ip("10.0.0.1"), ip("10.0.0.2"));
    sp_arp_input(&t, req, sizeof(req), ip("10.0.0.2"), our_mac, 0, rep, sizeof(rep), NULL,
                 NULL);
    const struct sp_neigh *n = sp_arp_lookup(&t, ip("10.0.0.1"), 1);
    cr_assert_not_null(n);
    cr_assert_arr_eq(n->mac, peer_mac, 6);
}

Test(arp, request_for_another_ip_gets_no_reply_and_adds_nothing)
{
    uint8_t req[SP_ARP_FRAME_LEN], rep[SP_ARP_FRAME_LEN];
    make_request(req, ip("10.0.0.1"), ip("10.0.0.3"));
    cr_assert_eq(sp_arp_input(&t, req, sizeof(req), ip("10.0.0.2"), our_mac, 0, rep,
                              sizeof(rep), NULL, NULL),
                 0);
    cr_assert_null(sp_arp_lookup(&t, ip("10.0.0.1"), 1));
}

Test(arp, reply_completes_a_pending_resolution)
{
    struct done_log l = {0};
    uint8_t f[SP_ARP_FRAME_LEN], rep[SP_ARP_FRAME_LEN];
    int item;
    sp_arp_queue(&t, ip("10.0.0.1"), &item, 0, 0);
    sp_arp_build(f, sizeof(f), our_mac, peer_mac, TAS_ARP_OP_REPLY, peer_mac,
                 ip("10.0.0.1"), our_mac, ip("10.0.0.2"));
    cr_assert_eq(sp_arp_input(&t, f, sizeof(f), ip("10.0.0.2"), our_mac, 5, rep,
                              sizeof(rep), done_cb, &l),
                 0);
    cr_assert_eq(l.n_ok, 1);
    cr_assert_arr_eq(l.last_mac, peer_mac, 6);
}

Test(arp, short_frame_is_rejected)
{
    uint8_t req[SP_ARP_FRAME_LEN], rep[SP_ARP_FRAME_LEN];
    make_request(req, ip("10.0.0.1"), ip("10.0.0.2"));
    cr_assert_eq(sp_arp_input(&t, req, 41, ip("10.0.0.2"), our_mac, 0, rep, sizeof(rep),
                              NULL, NULL),
                 -EINVAL);
    cr_assert_eq(t.cnt.bad, 1);
}

Test(arp, wrong_hardware_or_protocol_length_is_rejected)
{
    uint8_t req[SP_ARP_FRAME_LEN];
    struct sp_arp_msg m;
    make_request(req, ip("10.0.0.1"), ip("10.0.0.2"));
    req[14 + 4] = 8; /* hlen */
    cr_assert_eq(sp_arp_parse(req, sizeof(req), &m), -EINVAL);
    make_request(req, ip("10.0.0.1"), ip("10.0.0.2"));
    req[14 + 5] = 16; /* plen */
    cr_assert_eq(sp_arp_parse(req, sizeof(req), &m), -EINVAL);
    make_request(req, ip("10.0.0.1"), ip("10.0.0.2"));
    req[14 + 7] = 9; /* op */
    cr_assert_eq(sp_arp_parse(req, sizeof(req), &m), -EINVAL);
    make_request(req, ip("10.0.0.1"), ip("10.0.0.2"));
    req[12] = 0x08;
    req[13] = 0x00; /* ethertype IPv4 */
    cr_assert_eq(sp_arp_parse(req, sizeof(req), &m), -EINVAL);
}

Test(arp, frame_claiming_our_address_is_counted_as_a_conflict)
{
    uint8_t req[SP_ARP_FRAME_LEN], rep[SP_ARP_FRAME_LEN];
    make_request(req, ip("10.0.0.2"), ip("10.0.0.2"));
    cr_assert_eq(sp_arp_input(&t, req, sizeof(req), ip("10.0.0.2"), our_mac, 0, rep,
                              sizeof(rep), NULL, NULL),
                 0);
    cr_assert_eq(t.cnt.conflicts, 1);
}

Test(arp, waiting_items_can_be_looked_for)
{
    int a, b;
    sp_arp_queue(&t, ip("10.0.0.1"), &a, 0, 0);
    cr_assert(sp_arp_pending_has(&t, ip("10.0.0.1"), &a));
    cr_assert_not(sp_arp_pending_has(&t, ip("10.0.0.1"), &b));
    cr_assert_not(sp_arp_pending_has(&t, ip("10.0.0.2"), &a));
}
