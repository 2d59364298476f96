/* neigh.c - ARP on the wire: the glue between the neighbour table
 * (arp.c, pure) and mbufs, the fast path's tx rings and connections.
 *
 * Received ARP frames (exceptions) teach us neighbours and requests for
 * our address are answered.  An address being resolved has one token in
 * the table, however many wait for it, while requests go out
 * (SP_ARP_TRIES, one second apart); then the hook its user registered
 * (sp_neigh_set_hook: connect.c, for the connections waiting) hears the
 * MAC, or NULL.  Nothing here knows connections.  A gratuitous ARP
 * announces us when the loop starts.  ARP frames go out on
 * core 0 without checksum preparation.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include <rte_mbuf.h>

#include "common/json.h"
#include "common/port.h"
#include "slowpath/sp.h"

#define SP_ARP_TABLE 256
/* One item per address stands for every connection waiting for it (they
 * carry arp_wait + arp_ip), so any number of connects can wait. */
#define SP_ARP_TAG_CONNS 1

static sp_neigh_hook resolved_hook;

void sp_neigh_set_hook(sp_neigh_hook hook)
{
    resolved_hook = hook;
}

static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
static const uint8_t zero_mac[6];

static void arp_done(void *item, uint32_t tag, const uint8_t *mac, void *arg)
{
    if (tag != SP_ARP_TAG_CONNS)
        return;
    if (resolved_hook != NULL)
        resolved_hook((uint32_t)(uintptr_t)item, mac);
}

static void send_arp(uint16_t op, const uint8_t dst[6], const uint8_t tha[6],
                     uint32_t tpa)
{
    struct rte_mbuf *m = rte_pktmbuf_alloc(sp.port->pool);
    uint8_t *buf = m != NULL ? (uint8_t *)rte_pktmbuf_append(m, SP_ARP_FRAME_LEN) : NULL;
    if (buf == NULL) {
        sp.cnt.mbuf_fail++;
        if (m != NULL)
            rte_pktmbuf_free(m);
        return;
    }
    sp_arp_build(buf, SP_ARP_FRAME_LEN, dst, sp.mac, op, sp.mac, sp.ip, tha, tpa);
    sp_tx(0, m, false);
}

static void arp_request(uint32_t ip, void *arg)
{
    sp.cnt.arp_requests++;
    send_arp(TAS_ARP_OP_REQUEST, bcast, zero_mac, ip);
}

int sp_neigh_init(void)
{
    uint32_t t = sp.cfg.arp_timeout_ms != 0 ? sp.cfg.arp_timeout_ms : 60000;
    return sp_arp_init(&sp.arp, SP_ARP_TABLE, t);
}

void sp_neigh_fini(void)
{
    sp_arp_fini(&sp.arp, NULL, NULL);
}

void sp_neigh_input(struct rte_mbuf *m)
{
    const uint8_t *data = rte_pktmbuf_mtod(m, const uint8_t *);
    uint8_t reply[SP_ARP_FRAME_LEN];

    sp.cnt.arp_rx++;
    int n = sp_arp_input(&sp.arp, data, rte_pktmbuf_data_len(m), sp.ip, sp.mac, sp.now_ms,
                         reply, sizeof(reply), arp_done, NULL);
    rte_pktmbuf_free(m);
    if (n <= 0)
        return;
    struct rte_mbuf *r = rte_pktmbuf_alloc(sp.port->pool);
    uint8_t *buf = r != NULL ? (uint8_t *)rte_pktmbuf_append(r, (uint16_t)n) : NULL;
    if (buf == NULL) {
        sp.cnt.mbuf_fail++;
        if (r != NULL)
            rte_pktmbuf_free(r);
        return;
    }
    memcpy(buf, reply, (size_t)n);
    sp.cnt.arp_replies++;
    sp_tx(0, r, false);
}

int sp_neigh_learn(uint32_t ip, const uint8_t mac[6])
{
    return sp_arp_learn(&sp.arp, ip, mac, true, sp.now_ms, arp_done, NULL);
}

int sp_neigh_resolve(uint32_t dst, uint8_t mac[6])
{
    const struct sp_neigh *n = sp_arp_lookup(&sp.arp, dst, sp.now_ms);
    if (n != NULL) {
        memcpy(mac, n->mac, 6);
        return 0;
    }
    void *token = (void *)(uintptr_t)dst;
    if (!sp_arp_pending_has(&sp.arp, dst, token)) {
        int rc = sp_arp_queue(&sp.arp, dst, token, SP_ARP_TAG_CONNS, sp.now_ms);
        if (rc < 0) {
            sp.cnt.arp_queue_full++;
            return -EHOSTUNREACH;
        }
        if (rc == 1)
            arp_request(dst, NULL);
    }
    return 1;
}

void sp_neigh_tick(void)
{
    uint64_t failed = sp.arp.cnt.failed;
    sp_arp_tick(&sp.arp, sp.now_ms, arp_request, arp_done, NULL);
    sp.cnt.arp_failed += sp.arp.cnt.failed - failed;
}

bool sp_neigh_busy(void)
{
    for (uint32_t i = 0; i < sp.arp.cap; i++)
        if (sp.arp.e[i].state == SP_NEIGH_INCOMPLETE)
            return true;
    return false;
}

void sp_neigh_gratuitous(void)
{
    send_arp(TAS_ARP_OP_REQUEST, bcast, zero_mac, sp.ip);
}

/* What a neighbour's row shows, in the table and in JSON. */
struct neigh_row {
    char ip[16], mac[18];
    const char *state;
    long ttl_ms;
};

static void neigh_row(const struct sp_neigh *n, struct neigh_row *w)
{
    inet_ntop(AF_INET, &n->ip, w->ip, sizeof(w->ip));
    snprintf(w->mac, sizeof(w->mac), "%02x:%02x:%02x:%02x:%02x:%02x", n->mac[0],
             n->mac[1], n->mac[2], n->mac[3], n->mac[4], n->mac[5]);
    w->state = n->state == SP_NEIGH_REACHABLE ? "reachable" : "incomplete";
    w->ttl_ms = n->expires_ms > sp.now_ms ? (long)(n->expires_ms - sp.now_ms) : 0;
}

void sp_neigh_write(FILE *f)
{
    for (uint32_t i = 0; i < sp.arp.cap; i++) {
        const struct sp_neigh *n = &sp.arp.e[i];
        struct neigh_row w;
        if (n->state == SP_NEIGH_FREE)
            continue;
        neigh_row(n, &w);
        fprintf(f, "  %-15s %-17s %-10s %ld ms\n", w.ip,
                n->state == SP_NEIGH_REACHABLE ? w.mac : "-", w.state, w.ttl_ms);
    }
}

struct json_object *sp_neigh_json(void)
{
    struct json_object *a = json_object_new_array();

    for (uint32_t i = 0; i < sp.arp.cap; i++) {
        const struct sp_neigh *n = &sp.arp.e[i];
        struct json_object *j;
        struct neigh_row w;
        if (n->state == SP_NEIGH_FREE)
            continue;
        neigh_row(n, &w);
        j = json_object_new_object();
        cm_json_str(j, "ip", w.ip);
        cm_json_str(j, "mac", w.mac);
        cm_json_str(j, "state", w.state);
        cm_json_int(j, "ttl_ms", w.ttl_ms);
        cm_json_u64(j, "waiting", n->n_pending);
        cm_json_push(a, j);
    }
    return a;
}
