/* clock.h - the fast path's clock.
 *
 * Microseconds read from the TSC (rte_get_tsc_cycles / rte_get_tsc_hz),
 * anchored at fp_init() to CLOCK_MONOTONIC, so fp_now_us() reads like
 * CLOCK_MONOTONIC in microseconds without a system call.  TCP timestamps
 * (TSval) are this clock in milliseconds: fp_ts_now().  The slow path must
 * put fp_ts_now() in the TSval of every segment it sends (SYN, SYN-ACK, ACK,
 * RST), so that the peer sees one monotonic timestamp clock for a connection
 * across the handover to the fast path (PAWS, RFC 7323 5).
 * Valid after fp_init(); any thread may call it.
 */
#ifndef FP_CLOCK_H
#define FP_CLOCK_H

#include <stdint.h>

#include <rte_cycles.h>

#include "fastpath/fastpath.h"
#include "fastpath/rx.h"

static inline uint64_t fp_now_us(void)
{
    uint64_t d = rte_get_tsc_cycles() - fp.clk_tsc0;
    return fp.clk_us0 + (uint64_t)(((unsigned __int128)d * fp.clk_mult) >> 32);
}

/* TCP timestamp clock: milliseconds, wrapping at 2^32. */
static inline uint32_t fp_ts_now(void)
{
    return fp_ts_from_us(fp_now_us());
}

#endif /* FP_CLOCK_H */
