/* flowtab.h - a fast-path core's flow table: the 4-tuple of a segment (as
 * our side sees it) to the id of the flow it belongs to (flowtab.c).  Only
 * the core's own thread looks up and changes it, so it takes no lock.
 */
#ifndef FP_FLOWTAB_H
#define FP_FLOWTAB_H

#include <stdint.h>

struct rte_hash;

#define FP_NONE UINT32_MAX /* no flow (and the empty link of the fast path's lists) */

/* Flow table key: the 4-tuple from our side, network order. */
struct fp_flow_key {
    uint32_t lip, rip;
    uint16_t lport, rport;
};

/* A table for max_flows flows, named after core id (NULL and rte_errno set
 * on failure); freed by fp_flowtab_free (NULL is fine). */
struct rte_hash *fp_flowtab_create(unsigned id, uint32_t max_flows);
void fp_flowtab_free(struct rte_hash *h);
/* 0, or -ENOSPC when the table is full (-EINVAL: bad arguments). */
int fp_flowtab_add(struct rte_hash *h, const struct fp_flow_key *k, uint32_t fid);
void fp_flowtab_del(struct rte_hash *h, const struct fp_flow_key *k);
/* The flow of k, or FP_NONE. */
uint32_t fp_flowtab_find(const struct rte_hash *h, const struct fp_flow_key *k);
/* Any number of keys at once (in bulk lookups of up to
 * RTE_HASH_LOOKUP_BULK_MAX): fids[i] is the flow of keys[i], or FP_NONE.
 * Returns how many were found. */
unsigned fp_flowtab_find_burst(const struct rte_hash *h, const struct fp_flow_key *keys,
                               unsigned n, uint32_t *fids);

#endif
