/* arp.h - the neighbour table and the ARP wire format (RFC 826).
 *
 * Pure logic, no DPDK: the table maps an IPv4 address to a MAC address with
 * a lifetime, holds a bounded list of items (packets or connections) waiting
 * for an address being resolved, and decides when to (re)send a request or
 * give up.  slowpath/neigh.c glues it to mbufs and the fast path.  Items are
 * opaque pointers with a tag; the table hands them back through a callback
 * with the MAC (resolved) or NULL (failed, or the table is going away).
 */
#ifndef SP_ARP_H
#define SP_ARP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SP_ARP_MAX_PENDING 8    /* items waiting per address */
#define SP_ARP_TRIES       3    /* requests before giving up */
#define SP_ARP_RETRY_MS    1000 /* between requests */
#define SP_ARP_FRAME_LEN   60   /* minimum Ethernet frame, without FCS */

enum sp_neigh_state {
    SP_NEIGH_FREE = 0,
    SP_NEIGH_INCOMPLETE = 1, /* request sent, waiting for the reply */
    SP_NEIGH_REACHABLE = 2,  /* mac valid until expires_ms */
};

struct sp_arp_pending {
    void *item;
    uint32_t tag;
};

struct sp_neigh {
    uint32_t ip; /* network order */
    uint8_t mac[6];
    uint8_t state; /* enum sp_neigh_state */
    uint8_t tries; /* requests sent (INCOMPLETE) */
    uint8_t n_pending;
    uint64_t expires_ms; /* REACHABLE: end of life; INCOMPLETE: next request */
    uint64_t updated_ms; /* last confirmation (for eviction and display) */
    struct sp_arp_pending pending[SP_ARP_MAX_PENDING];
};

struct sp_arp_counters {
    uint64_t pending_drops; /* an item did not fit an entry's queue */
    uint64_t evictions;     /* a reachable entry made room for a new one */
    uint64_t mac_changes;   /* a known address answered with a new MAC */
    uint64_t failed;        /* resolutions that ran out of tries */
    uint64_t bad;           /* malformed or unsupported ARP frames */
    uint64_t conflicts;     /* someone else claims our address */
};

struct sp_arp_table {
    struct sp_neigh *e;
    uint32_t cap;
    uint32_t timeout_ms; /* lifetime of a reachable entry */
    struct sp_arp_counters cnt;
};

/* Called with each waiting item: mac != NULL when resolved, NULL when the
 * resolution failed or the table is torn down. */
typedef void (*sp_arp_done_cb)(void *item, uint32_t tag, const uint8_t *mac, void *arg);
/* Called when a request for ip should go out now. */
typedef void (*sp_arp_req_cb)(uint32_t ip, void *arg);

int sp_arp_init(struct sp_arp_table *t, uint32_t cap, uint32_t timeout_ms);
/* Fails every waiting item (cb with NULL) and frees the table. */
void sp_arp_fini(struct sp_arp_table *t, sp_arp_done_cb cb, void *arg);

/* The reachable, unexpired entry for ip, or NULL. */
const struct sp_neigh *sp_arp_lookup(const struct sp_arp_table *t, uint32_t ip,
                                     uint64_t now_ms);

/* ip is at mac: refresh an existing entry (completing its waiting items)
 * or, if create, add one.  0, -ENOENT (unknown and !create), -ENOSPC. */
int sp_arp_learn(struct sp_arp_table *t, uint32_t ip, const uint8_t mac[6], bool create,
                 uint64_t now_ms, sp_arp_done_cb cb, void *arg);

/* Park item until ip resolves.  Returns 1 when the caller must send a
 * request now (a new resolution started), 0 when one is already under way,
 * -ENOBUFS when the entry's queue is full, -ENOSPC when the table is full
 * of unresolved entries, -EEXIST when ip is already reachable (use it). */
int sp_arp_queue(struct sp_arp_table *t, uint32_t ip, void *item, uint32_t tag,
                 uint64_t now_ms);

/* Is item waiting for ip? */
bool sp_arp_pending_has(const struct sp_arp_table *t, uint32_t ip, const void *item);

/* Forget a waiting item whose owner goes away; true if it was found. */
bool sp_arp_cancel(struct sp_arp_table *t, void *item);

/* Timers: drop expired reachable entries, re-send due requests (req cb),
 * fail entries out of tries (cb with NULL for each waiting item). */
void sp_arp_tick(struct sp_arp_table *t, uint64_t now_ms, sp_arp_req_cb req,
                 sp_arp_done_cb cb, void *arg);

/* ---- wire format ---- */

struct sp_arp_msg {
    uint16_t op; /* TAS_ARP_OP_* (host order) */
    uint8_t sha[6];
    uint32_t spa; /* network order */
    uint8_t tha[6];
    uint32_t tpa; /* network order */
};

/* Parse an Ethernet frame carrying ARP for IPv4 over Ethernet.
 * 0, or -EINVAL (short, wrong type/hlen/plen/op). */
int sp_arp_parse(const uint8_t *frame, size_t len, struct sp_arp_msg *m);

/* Build an ARP frame (padded to SP_ARP_FRAME_LEN); its length, or 0 if
 * cap is too small. */
size_t sp_arp_build(uint8_t *buf, size_t cap, const uint8_t eth_dst[6],
                    const uint8_t eth_src[6], uint16_t op, const uint8_t sha[6],
                    uint32_t spa, const uint8_t tha[6], uint32_t tpa);

/* Process a received ARP frame: learn the sender (RFC 826: refresh if
 * known, add if the frame is addressed to us) and, for a request for our_ip,
 * build the reply into reply.  Returns the reply's length, 0 if none is due,
 * or -EINVAL for a malformed frame. */
int sp_arp_input(struct sp_arp_table *t, const uint8_t *frame, size_t len,
                 uint32_t our_ip, const uint8_t our_mac[6], uint64_t now_ms,
                 uint8_t *reply, size_t reply_cap, sp_arp_done_cb cb, void *arg);

#endif /* SP_ARP_H */
