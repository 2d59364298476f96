/* flowtab.c - a fast-path core's flow table (flowtab.h): an rte_hash from
 * the 4-tuple to the flow id, with an extendable bucket table (so that a
 * full bucket never refuses a flow while the table has room), hashed with
 * CRC32C under a seed drawn at start, so that a peer cannot aim 4-tuples
 * at one bucket from outside.  A burst of received segments is looked up
 * with rte_hash_lookup_bulk_data(), in chunks of at most
 * RTE_HASH_LOOKUP_BULK_MAX keys.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>

#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_lcore.h>
#include <rte_random.h>

#include "fastpath/flowtab.h"

struct rte_hash *fp_flowtab_create(unsigned id, uint32_t max_flows)
{
    char name[RTE_HASH_NAMESIZE];
    snprintf(name, sizeof(name), "fp_flows_%u", id);
    struct rte_hash_parameters hp = {
        .name = name,
        .entries = max_flows < 8 ? 8 : max_flows,
        .key_len = sizeof(struct fp_flow_key),
        /* CRC32C (SSE4.2 or ARMv8 where present): ~40 fewer instructions a
         * lookup than jhash. */
        .hash_func = rte_hash_crc,
        .hash_func_init_val = (uint32_t)rte_rand(),
        .socket_id = (int)rte_socket_id(),
        .extra_flag = RTE_HASH_EXTRA_FLAGS_EXT_TABLE,
    };
    return rte_hash_create(&hp);
}

void fp_flowtab_free(struct rte_hash *h)
{
    rte_hash_free(h);
}

int fp_flowtab_add(struct rte_hash *h, const struct fp_flow_key *k, uint32_t fid)
{
    if (fid == FP_NONE)
        return -EINVAL;
    return rte_hash_add_key_data(h, k, (void *)(uintptr_t)fid);
}

void fp_flowtab_del(struct rte_hash *h, const struct fp_flow_key *k)
{
    rte_hash_del_key(h, k);
}

uint32_t fp_flowtab_find(const struct rte_hash *h, const struct fp_flow_key *k)
{
    void *data;
    return rte_hash_lookup_data(h, k, &data) >= 0 ? (uint32_t)(uintptr_t)data : FP_NONE;
}

unsigned fp_flowtab_find_burst(const struct rte_hash *h, const struct fp_flow_key *keys,
                               unsigned n, uint32_t *fids)
{
    const void *kp[RTE_HASH_LOOKUP_BULK_MAX];
    void *data[RTE_HASH_LOOKUP_BULK_MAX];
    unsigned found = 0;

    for (unsigned at = 0; at < n; at += RTE_HASH_LOOKUP_BULK_MAX) {
        unsigned k =
            n - at < RTE_HASH_LOOKUP_BULK_MAX ? n - at : RTE_HASH_LOOKUP_BULK_MAX;
        uint64_t hits = 0;
        for (unsigned j = 0; j < k; j++)
            kp[j] = &keys[at + j];
        if (rte_hash_lookup_bulk_data(h, kp, k, &hits, data) < 0)
            hits = 0; /* (only for bad arguments) */
        for (unsigned j = 0; j < k; j++) {
            bool hit = (hits >> j) & 1;
            fids[at + j] = hit ? (uint32_t)(uintptr_t)data[j] : FP_NONE;
            found += hit;
        }
    }
    return found;
}
