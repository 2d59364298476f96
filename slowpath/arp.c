/* arp.c - neighbour table and ARP wire format (see arp.h).
 *
 * The table is a small array searched linearly: the slow path talks to a
 * handful of next hops, and it only consults the table for packets it
 * builds itself (handshakes, resets), never per data segment.  When full, a
 * new address takes the place of the least recently confirmed reachable
 * entry; unresolved entries (with waiting items) are never evicted.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/proto.h"
#include "slowpath/arp.h"

static const uint8_t zero_mac[6];

int sp_arp_init(struct sp_arp_table *t, uint32_t cap, uint32_t timeout_ms)
{
    memset(t, 0, sizeof(*t));
    if (cap == 0)
        return -EINVAL;
    t->e = calloc(cap, sizeof(*t->e));
    if (t->e == NULL)
        return -ENOMEM;
    t->cap = cap;
    t->timeout_ms = timeout_ms;
    return 0;
}

/* Empty an entry and hand its waiting items to cb (mac or NULL).  The items
 * are copied out first: cb may queue new items on the table. */
static void neigh_release(struct sp_arp_table *t, struct sp_neigh *n, const uint8_t *mac,
                          sp_arp_done_cb cb, void *arg)
{
    struct sp_arp_pending p[SP_ARP_MAX_PENDING];
    uint8_t np = n->n_pending;
    uint8_t m[6];

    memcpy(p, n->pending, sizeof(p[0]) * np);
    n->n_pending = 0;
    if (mac != NULL)
        memcpy(m, mac, 6);
    for (uint8_t i = 0; i < np; i++)
        if (cb != NULL)
            cb(p[i].item, p[i].tag, mac != NULL ? m : NULL, arg);
}

void sp_arp_fini(struct sp_arp_table *t, sp_arp_done_cb cb, void *arg)
{
    for (uint32_t i = 0; t->e != NULL && i < t->cap; i++) {
        if (t->e[i].state != SP_NEIGH_FREE)
            neigh_release(t, &t->e[i], NULL, cb, arg);
        t->e[i].state = SP_NEIGH_FREE;
    }
    free(t->e);
    t->e = NULL;
    t->cap = 0;
}

static struct sp_neigh *find(const struct sp_arp_table *t, uint32_t ip)
{
    for (uint32_t i = 0; i < t->cap; i++)
        if (t->e[i].state != SP_NEIGH_FREE && t->e[i].ip == ip)
            return &t->e[i];
    return NULL;
}

/* A free entry, or the least recently confirmed reachable one. */
static struct sp_neigh *alloc_entry(struct sp_arp_table *t)
{
    struct sp_neigh *victim = NULL;

    for (uint32_t i = 0; i < t->cap; i++) {
        struct sp_neigh *n = &t->e[i];
        if (n->state == SP_NEIGH_FREE)
            return n;
        if (n->state == SP_NEIGH_REACHABLE &&
            (victim == NULL || n->updated_ms < victim->updated_ms))
            victim = n;
    }
    if (victim != NULL) {
        t->cnt.evictions++;
        victim->state = SP_NEIGH_FREE;
    }
    return victim;
}

const struct sp_neigh *sp_arp_lookup(const struct sp_arp_table *t, uint32_t ip,
                                     uint64_t now_ms)
{
    const struct sp_neigh *n = find(t, ip);
    if (n == NULL || n->state != SP_NEIGH_REACHABLE || now_ms >= n->expires_ms)
        return NULL;
    return n;
}

int sp_arp_learn(struct sp_arp_table *t, uint32_t ip, const uint8_t mac[6], bool create,
                 uint64_t now_ms, sp_arp_done_cb cb, void *arg)
{
    struct sp_neigh *n = find(t, ip);

    if (n == NULL) {
        if (!create)
            return -ENOENT;
        n = alloc_entry(t);
        if (n == NULL)
            return -ENOSPC;
        memset(n, 0, sizeof(*n));
        n->ip = ip;
    } else if (n->state == SP_NEIGH_REACHABLE && memcmp(n->mac, mac, 6) != 0) {
        t->cnt.mac_changes++;
    }
    memcpy(n->mac, mac, 6);
    n->state = SP_NEIGH_REACHABLE;
    n->tries = 0;
    n->updated_ms = now_ms;
    n->expires_ms = now_ms + t->timeout_ms;
    if (n->n_pending > 0)
        neigh_release(t, n, mac, cb, arg);
    return 0;
}

int sp_arp_queue(struct sp_arp_table *t, uint32_t ip, void *item, uint32_t tag,
                 uint64_t now_ms)
{
    struct sp_neigh *n = find(t, ip);
    int start = 0;

    if (n != NULL && n->state == SP_NEIGH_REACHABLE) {
        if (now_ms < n->expires_ms)
            return -EEXIST;
        /* Expired: resolve again, keeping the slot. */
        n->state = SP_NEIGH_INCOMPLETE;
        n->tries = 0;
        n->n_pending = 0;
    }
    if (n == NULL) {
        n = alloc_entry(t);
        if (n == NULL)
            return -ENOSPC;
        memset(n, 0, sizeof(*n));
        n->ip = ip;
        n->state = SP_NEIGH_INCOMPLETE;
    }
    if (n->tries == 0) {
        /* The caller sends the first request now. */
        n->tries = 1;
        n->expires_ms = now_ms + SP_ARP_RETRY_MS;
        n->updated_ms = now_ms;
        start = 1;
    }
    if (n->n_pending >= SP_ARP_MAX_PENDING) {
        t->cnt.pending_drops++;
        return -ENOBUFS;
    }
    n->pending[n->n_pending].item = item;
    n->pending[n->n_pending].tag = tag;
    n->n_pending++;
    return start;
}

bool sp_arp_pending_has(const struct sp_arp_table *t, uint32_t ip, const void *item)
{
    const struct sp_neigh *n = find(t, ip);
    for (uint8_t j = 0; n != NULL && j < n->n_pending; j++)
        if (n->pending[j].item == item)
            return true;
    return false;
}

bool sp_arp_cancel(struct sp_arp_table *t, void *item)
{
    for (uint32_t i = 0; i < t->cap; i++) {
        struct sp_neigh *n = &t->e[i];
        for (uint8_t j = 0; j < n->n_pending; j++) {
            if (n->pending[j].item != item)
                continue;
            memmove(&n->pending[j], &n->pending[j + 1],
                    sizeof(n->pending[0]) * (n->n_pending - j - 1));
            n->n_pending--;
            return true;
        }
    }
    return false;
}

void sp_arp_tick(struct sp_arp_table *t, uint64_t now_ms, sp_arp_req_cb req,
                 sp_arp_done_cb cb, void *arg)
{
    for (uint32_t i = 0; i < t->cap; i++) {
        struct sp_neigh *n = &t->e[i];
        if (n->state == SP_NEIGH_FREE || now_ms < n->expires_ms)
            continue;
        if (n->state == SP_NEIGH_REACHABLE) {
            n->state = SP_NEIGH_FREE;
            continue;
        }
        /* INCOMPLETE and due. */
        if (n->tries >= SP_ARP_TRIES) {
            t->cnt.failed++;
            n->state = SP_NEIGH_FREE;
            neigh_release(t, n, NULL, cb, arg);
            continue;
        }
        n->tries++;
        n->expires_ms = now_ms + SP_ARP_RETRY_MS;
        if (req != NULL)
            req(n->ip, arg);
    }
}

/* ---- wire format ---- */

int sp_arp_parse(const uint8_t *frame, size_t len, struct sp_arp_msg *m)
{
    struct tas_eth_hdr eth;
    struct tas_arp_hdr a;

    if (len < sizeof(eth) + sizeof(a))
        return -EINVAL;
    memcpy(&eth, frame, sizeof(eth));
    memcpy(&a, frame + sizeof(eth), sizeof(a));
    if (ntohs(eth.type) != TAS_ETHERTYPE_ARP || ntohs(a.htype) != TAS_ARP_HTYPE_ETH ||
        ntohs(a.ptype) != TAS_ETHERTYPE_IPV4 || a.hlen != 6 || a.plen != 4)
        return -EINVAL;
    m->op = ntohs(a.op);
    if (m->op != TAS_ARP_OP_REQUEST && m->op != TAS_ARP_OP_REPLY)
        return -EINVAL;
    memcpy(m->sha, a.sha, 6);
    memcpy(m->tha, a.tha, 6);
    m->spa = a.spa;
    m->tpa = a.tpa;
    return 0;
}

size_t sp_arp_build(uint8_t *buf, size_t cap, const uint8_t eth_dst[6],
                    const uint8_t eth_src[6], uint16_t op, const uint8_t sha[6],
                    uint32_t spa, const uint8_t tha[6], uint32_t tpa)
{
    struct tas_eth_hdr eth;
    struct tas_arp_hdr a;

    if (cap < SP_ARP_FRAME_LEN)
        return 0;
    memcpy(eth.dst, eth_dst, 6);
    memcpy(eth.src, eth_src, 6);
    eth.type = htons(TAS_ETHERTYPE_ARP);
    a.htype = htons(TAS_ARP_HTYPE_ETH);
    a.ptype = htons(TAS_ETHERTYPE_IPV4);
    a.hlen = 6;
    a.plen = 4;
    a.op = htons(op);
    memcpy(a.sha, sha, 6);
    a.spa = spa;
    memcpy(a.tha, tha, 6);
    a.tpa = tpa;
    memset(buf, 0, SP_ARP_FRAME_LEN);
    memcpy(buf, &eth, sizeof(eth));
    memcpy(buf + sizeof(eth), &a, sizeof(a));
    return SP_ARP_FRAME_LEN;
}

static bool mac_is_unicast(const uint8_t m[6])
{
    return (m[0] & 1) == 0 && memcmp(m, zero_mac, 6) != 0;
}

int sp_arp_input(struct sp_arp_table *t, const uint8_t *frame, size_t len,
                 uint32_t our_ip, const uint8_t our_mac[6], uint64_t now_ms,
                 uint8_t *reply, size_t reply_cap, sp_arp_done_cb cb, void *arg)
{
    struct sp_arp_msg m;

    if (sp_arp_parse(frame, len, &m) != 0) {
        t->cnt.bad++;
        return -EINVAL;
    }
    if (m.spa == our_ip) {
        /* Someone else uses our address (or our own frame came back). */
        if (memcmp(m.sha, our_mac, 6) != 0)
            t->cnt.conflicts++;
        return 0;
    }
    /* Only learn plausible unicast senders with an address (not probes). */
    if (m.spa != 0 && m.spa != 0xffffffffu && mac_is_unicast(m.sha))
        sp_arp_learn(t, m.spa, m.sha, m.tpa == our_ip, now_ms, cb, arg);
    if (m.op != TAS_ARP_OP_REQUEST || m.tpa != our_ip)
        return 0;
    return (int)sp_arp_build(reply, reply_cap, m.sha, our_mac, TAS_ARP_OP_REPLY, our_mac,
                             our_ip, m.sha, m.spa);
}
