/* tcp_opts.h - parse and write TCP options (MSS, window scale,
 * SACK-permitted, timestamps).
 *
 * Pure C with no DPDK types: the fast path uses it on every segment of a flow
 * with timestamps, the slow path on SYN, SYN-ACK and the segments it builds.
 * The option area comes from the wire and is untrusted: every length is
 * checked against the area before it is used.
 */
#ifndef CM_TCP_OPTS_H
#define CM_TCP_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cm_tcp_opts {
    uint16_t mss;   /* MSS option value (has_mss) */
    uint8_t wscale; /* window scale shift, clamped to 14 (has_ws) */
    bool has_mss;
    bool has_ws;
    bool sack_perm; /* SACK-permitted seen */
    bool has_ts;
    uint8_t n_sack;  /* SACK blocks (RFC 2018), at most 4 */
    uint32_t ts_val; /* host order (has_ts) */
    uint32_t ts_ecr;
    uint32_t sack_start[4]; /* host order: left edges */
    uint32_t sack_end[4];   /* right edges (first sequence after the block) */
};

/* Bytes written by cm_tcp_opts_write_ts(): NOP NOP TS. */
#define FP_TCPOPT_TS_LEN 12
/* Most bytes cm_tcp_opts_write_syn() writes. */
#define FP_TCPOPT_SYN_MAX 20

/* Parse len bytes of options (the bytes after the 20-byte TCP header).
 * Fills *o (zeroed first).  Unknown options are skipped; a known option with
 * the wrong length is ignored.  Returns 0, or -EINVAL when an option's length
 * byte is 0 or 1 or the option runs past the area (the caller counts the
 * segment as malformed and drops it). */
int cm_tcp_opts_parse(const uint8_t *opt, size_t len, struct cm_tcp_opts *o);

/* Write the options of a SYN or SYN-ACK: MSS if has_mss, SACK-permitted if
 * sack_perm, timestamps if has_ts, window scale if has_ws, padded with NOPs
 * to a multiple of 4.  buf needs FP_TCPOPT_SYN_MAX bytes.  Returns the
 * number of bytes written (a multiple of 4, at most 20). */
size_t cm_tcp_opts_write_syn(uint8_t *buf, const struct cm_tcp_opts *o);

/* Write NOP NOP TS(val, ecr) (12 bytes) for a data segment or an ACK.
 * Returns FP_TCPOPT_TS_LEN. */
size_t cm_tcp_opts_write_ts(uint8_t *buf, uint32_t val, uint32_t ecr);

/* Write NOP NOP SACK with n blocks (1..4): 4 + 8n bytes; returns that. */
size_t cm_tcp_opts_write_sack(uint8_t *buf, const uint32_t *start, const uint32_t *end,
                              unsigned n);

/* Fast check for the layout nearly every segment of a timestamp flow
 * carries (NOP NOP TS, 12 bytes); fills val/ecr and returns true on a match.
 * Callers fall back to cm_tcp_opts_parse() otherwise. */
static inline bool cm_tcp_opts_ts_fast(const uint8_t *opt, size_t len, uint32_t *val,
                                       uint32_t *ecr)
{
    if (len != FP_TCPOPT_TS_LEN || opt[0] != 1 || opt[1] != 1 || opt[2] != 8 ||
        opt[3] != 10)
        return false;
    *val =
        (uint32_t)opt[4] << 24 | (uint32_t)opt[5] << 16 | (uint32_t)opt[6] << 8 | opt[7];
    *ecr = (uint32_t)opt[8] << 24 | (uint32_t)opt[9] << 16 | (uint32_t)opt[10] << 8 |
           opt[11];
    return true;
}

#endif /* CM_TCP_OPTS_H */
