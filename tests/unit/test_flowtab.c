/* test_flowtab.c - the fast path's flow table (fastpath/flowtab.c): a
 * burst lookup gives, key by key and in order, what single lookups give
 * (hits, misses, one flow several times, bursts longer than one bulk
 * lookup), deleted flows miss, 4-tuples that differ only in direction or
 * one field are different flows, and a full table refuses a flow.  Runs on
 * a DPDK EAL without huge pages or devices, as tasd does here. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_hash.h>

#include "fastpath/flowtab.h"

#define N_FLOWS 1000

static struct rte_hash *h;
static char run_dir[4096];               /* the EAL's, removed again at the end */
static struct fp_flow_key keys[N_FLOWS]; /* flow i has keys[i], id 10 * i + 3 */

static void eal_up(void)
{
    char prefix[64];
    snprintf(prefix, sizeof(prefix), "--file-prefix=test_flowtab_%d", (int)getpid());
    char *argv[] = {
        "test_flowtab", "--no-huge", "--no-pci",       "--no-shconf",
        "-m",           "64",        "--no-telemetry", "--log-level=lib.*:error",
        prefix,         NULL};
    cr_assert_geq(rte_eal_init((int)(sizeof(argv) / sizeof(argv[0])) - 1, argv), 0,
                  "rte_eal_init: %s", rte_strerror(rte_errno));
    snprintf(run_dir, sizeof(run_dir), "%s", rte_eal_get_runtime_dir());
}

static uint32_t id_of(unsigned i)
{
    return 10 * i + 3;
}

static struct fp_flow_key key_of(unsigned i)
{
    return (struct fp_flow_key){.lip = 0x0a000002u,
                                .rip = 0x0a000100u + i % 7,
                                .lport = (uint16_t)(7000 + i % 3),
                                .rport = (uint16_t)(30000 + i)};
}

static void setup(void)
{
    eal_up();
    h = fp_flowtab_create(0, 4 * N_FLOWS);
    cr_assert_not_null(h, "fp_flowtab_create: %s", rte_strerror(rte_errno));
    for (unsigned i = 0; i < N_FLOWS; i++) {
        keys[i] = key_of(i);
        cr_assert_eq(fp_flowtab_add(h, &keys[i], id_of(i)), 0, "add flow %u", i);
    }
}

static void teardown(void)
{
    fp_flowtab_free(h);
    rte_eal_cleanup();
    rmdir(run_dir); /* empty: --no-shconf */
}

TestSuite(flowtab, .init = setup, .fini = teardown);

/* Look n keys up in one burst and one by one: the same answers, in order. */
static unsigned burst_agrees(const struct fp_flow_key *k, unsigned n, uint32_t *fids)
{
    unsigned found = fp_flowtab_find_burst(h, k, n, fids), hits = 0;
    for (unsigned j = 0; j < n; j++) {
        uint32_t one = fp_flowtab_find(h, &k[j]);
        cr_assert_eq(fids[j], one, "key %u of %u: burst says %u, a single lookup %u", j,
                     n, fids[j], one);
        hits += one != FP_NONE;
    }
    cr_assert_eq(found, hits, "burst of %u: %u found, %u by single lookups", n, found,
                 hits);
    return found;
}

Test(flowtab, burst_of_hits_and_misses)
{
    struct fp_flow_key k[32];
    uint32_t fids[32];
    for (unsigned j = 0; j < 32; j++) {
        if (j % 4 == 3) { /* a port nobody uses: no flow */
            k[j] = key_of(j * 31);
            k[j].rport = (uint16_t)(1000 + j);
        } else {
            k[j] = keys[(j * 37) % N_FLOWS];
        }
    }
    cr_assert_eq(burst_agrees(k, 32, fids), 24);
    for (unsigned j = 0; j < 32; j++) {
        uint32_t want = j % 4 == 3 ? FP_NONE : id_of((j * 37) % N_FLOWS);
        cr_assert_eq(fids[j], want, "key %u: flow %u, want %u", j, fids[j], want);
    }
}

Test(flowtab, one_flow_many_times_in_a_burst)
{
    struct fp_flow_key k[32];
    uint32_t fids[32];
    for (unsigned j = 0; j < 32; j++)
        k[j] = keys[j % 2 == 0 ? 5 : 500];
    cr_assert_eq(burst_agrees(k, 32, fids), 32);
    for (unsigned j = 0; j < 32; j++)
        cr_assert_eq(fids[j], id_of(j % 2 == 0 ? 5 : 500));
}

Test(flowtab, bursts_longer_than_one_bulk_lookup)
{
    /* RTE_HASH_LOOKUP_BULK_MAX keys per bulk lookup: the chunks must line
     * up with their keys. */
    enum { N = 3 * RTE_HASH_LOOKUP_BULK_MAX + 5 };
    static struct fp_flow_key k[N];
    static uint32_t fids[N];
    for (unsigned j = 0; j < N; j++) {
        k[j] = keys[(j * 13) % N_FLOWS];
        if (j % 10 == 9)
            k[j].lip ^= 1; /* another local address: no flow */
    }
    unsigned found = burst_agrees(k, N, fids);
    cr_assert_eq(found, N - N / 10);
    for (unsigned j = 0; j < N; j++)
        cr_assert_eq(fids[j], j % 10 == 9 ? FP_NONE : id_of((j * 13) % N_FLOWS), "key %u",
                     j);
    for (unsigned n = 0; n <= 2 * RTE_HASH_LOOKUP_BULK_MAX + 1; n++)
        burst_agrees(k, n, fids);
    cr_assert_eq(fp_flowtab_find_burst(h, k, 0, fids), 0);
}

Test(flowtab, deleted_flows_miss_and_ids_are_reused)
{
    uint32_t fids[4];
    struct fp_flow_key k[4] = {keys[1], keys[2], keys[3], keys[4]};
    fp_flowtab_del(h, &keys[2]);
    fp_flowtab_del(h, &keys[4]);
    cr_assert_eq(burst_agrees(k, 4, fids), 2);
    cr_assert_eq(fids[0], id_of(1));
    cr_assert_eq(fids[1], FP_NONE);
    cr_assert_eq(fids[2], id_of(3));
    cr_assert_eq(fids[3], FP_NONE);
    /* The 4-tuple comes back as another flow. */
    cr_assert_eq(fp_flowtab_add(h, &keys[2], 77777), 0);
    cr_assert_eq(burst_agrees(k, 4, fids), 3);
    cr_assert_eq(fids[1], 77777u);
}

Test(flowtab, each_field_of_the_4_tuple_counts)
{
    struct fp_flow_key base = {
        .lip = 0x0a0a0a02u, .rip = 0x0a0a0a01u, .lport = 80, .rport = 40000};
    struct fp_flow_key k[5] = {base, base, base, base, base};
    k[1].lip = base.rip; /* the same 4-tuple seen from the other side */
    k[1].rip = base.lip;
    k[1].lport = base.rport;
    k[1].rport = base.lport;
    k[2].lport = base.rport; /* ports swapped only */
    k[2].rport = base.lport;
    k[3].rip ^= 0x100;
    k[4].rport++;
    for (unsigned j = 0; j < 5; j++)
        cr_assert_eq(fp_flowtab_add(h, &k[j], 50000 + j), 0);
    uint32_t fids[5];
    cr_assert_eq(burst_agrees(k, 5, fids), 5);
    for (unsigned j = 0; j < 5; j++)
        cr_assert_eq(fids[j], 50000 + j, "key %u", j);
}

Test(flowtab, a_full_table_refuses_and_no_flow_is_refused)
{
    cr_assert_eq(fp_flowtab_add(h, &keys[0], FP_NONE), -EINVAL);
    struct rte_hash *small = fp_flowtab_create(1, 64);
    cr_assert_not_null(small);
    unsigned added = 0;
    int rc = 0;
    for (unsigned i = 0; i < N_FLOWS && rc == 0; i++) {
        rc = fp_flowtab_add(small, &keys[i], id_of(i));
        added += rc == 0;
    }
    cr_assert_geq(added, 64, "only %u of 64 flows fit", added);
    cr_assert_eq(rc, -ENOSPC, "after %u flows: %d, want -ENOSPC", added, rc);
    /* Every flow that went in is still found, in one burst. */
    static uint32_t fids[N_FLOWS];
    cr_assert_eq(fp_flowtab_find_burst(small, keys, added, fids), added);
    for (unsigned i = 0; i < added; i++)
        cr_assert_eq(fids[i], id_of(i));
    fp_flowtab_free(small);
}
