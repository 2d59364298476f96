/* seq.h - TCP sequence number arithmetic modulo 2^32 (RFC 9293 3.4). */
#ifndef TAS_SEQ_H
#define TAS_SEQ_H

#include <stdbool.h>
#include <stdint.h>

static inline bool tas_seq_lt(uint32_t a, uint32_t b) { return (int32_t)(a - b) < 0; }
static inline bool tas_seq_leq(uint32_t a, uint32_t b) { return (int32_t)(a - b) <= 0; }
static inline bool tas_seq_gt(uint32_t a, uint32_t b) { return (int32_t)(a - b) > 0; }
static inline bool tas_seq_geq(uint32_t a, uint32_t b) { return (int32_t)(a - b) >= 0; }

/* lo <= x < hi, in sequence space (an empty range when lo == hi). */
static inline bool tas_seq_in(uint32_t x, uint32_t lo, uint32_t hi)
{
    return (uint32_t)(x - lo) < (uint32_t)(hi - lo);
}

static inline uint32_t tas_seq_max(uint32_t a, uint32_t b) { return tas_seq_gt(a, b) ? a : b; }
static inline uint32_t tas_seq_min(uint32_t a, uint32_t b) { return tas_seq_lt(a, b) ? a : b; }

#endif /* TAS_SEQ_H */
