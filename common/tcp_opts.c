/* tcp_opts.c - TCP option parser and writer (RFC 9293 3.1, RFC 7323,
 * RFC 2018).  See tcp_opts.h.  No DPDK: shared by the fast and slow paths
 * and linked straight into its unit test.
 */
#include <errno.h>
#include <string.h>

#include "common/proto.h"
#include "common/tcp_opts.h"

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

int cm_tcp_opts_parse(const uint8_t *opt, size_t len, struct cm_tcp_opts *o)
{
    size_t i = 0;

    memset(o, 0, sizeof(*o));
    while (i < len) {
        uint8_t kind = opt[i];
        if (kind == TAS_TCPOPT_EOL)
            break;
        if (kind == TAS_TCPOPT_NOP) {
            i++;
            continue;
        }
        if (i + 1 >= len)
            return -EINVAL; /* no room for the length byte */
        uint8_t olen = opt[i + 1];
        if (olen < 2 || olen > len - i)
            return -EINVAL;
        const uint8_t *v = opt + i + 2;
        switch (kind) {
        case TAS_TCPOPT_MSS:
            if (olen == TAS_TCPOLEN_MSS) {
                o->mss = (uint16_t)(v[0] << 8 | v[1]);
                o->has_mss = true;
            }
            break;
        case TAS_TCPOPT_WSCALE:
            if (olen == TAS_TCPOLEN_WSCALE) {
                /* RFC 7323 2.3: a shift above 14 is used as 14. */
                o->wscale = v[0] > TAS_TCP_MAX_WSCALE ? TAS_TCP_MAX_WSCALE : v[0];
                o->has_ws = true;
            }
            break;
        case TAS_TCPOPT_SACK_PERM:
            if (olen == TAS_TCPOLEN_SACK_PERM)
                o->sack_perm = true;
            break;
        case TAS_TCPOPT_TS:
            if (olen == TAS_TCPOLEN_TS) {
                o->ts_val = get32(v);
                o->ts_ecr = get32(v + 4);
                o->has_ts = true;
            }
            break;
        case TAS_TCPOPT_SACK:
            /* 8 bytes a block; a bad length is ignored like other options. */
            if (olen >= 10 && (olen - 2) % 8 == 0) {
                unsigned nb = (olen - 2) / 8u;
                for (unsigned b = 0; b < nb && o->n_sack < 4; b++) {
                    o->sack_start[o->n_sack] = get32(v + 8 * b);
                    o->sack_end[o->n_sack] = get32(v + 8 * b + 4);
                    o->n_sack++;
                }
            }
            break;
        default:
            break; /* unknown options: skipped */
        }
        i += olen;
    }
    return 0;
}

size_t cm_tcp_opts_write_syn(uint8_t *buf, const struct cm_tcp_opts *o)
{
    uint8_t *p = buf;

    if (o->has_mss) {
        p[0] = TAS_TCPOPT_MSS;
        p[1] = TAS_TCPOLEN_MSS;
        p[2] = (uint8_t)(o->mss >> 8);
        p[3] = (uint8_t)o->mss;
        p += 4;
    }
    if (o->has_ts) {
        /* SACK-permitted takes the place of the two NOPs (as Linux does). */
        if (o->sack_perm) {
            p[0] = TAS_TCPOPT_SACK_PERM;
            p[1] = TAS_TCPOLEN_SACK_PERM;
        } else {
            p[0] = TAS_TCPOPT_NOP;
            p[1] = TAS_TCPOPT_NOP;
        }
        p[2] = TAS_TCPOPT_TS;
        p[3] = TAS_TCPOLEN_TS;
        put32(p + 4, o->ts_val);
        put32(p + 8, o->ts_ecr);
        p += 12;
    } else if (o->sack_perm) {
        p[0] = TAS_TCPOPT_NOP;
        p[1] = TAS_TCPOPT_NOP;
        p[2] = TAS_TCPOPT_SACK_PERM;
        p[3] = TAS_TCPOLEN_SACK_PERM;
        p += 4;
    }
    if (o->has_ws) {
        p[0] = TAS_TCPOPT_NOP;
        p[1] = TAS_TCPOPT_WSCALE;
        p[2] = TAS_TCPOLEN_WSCALE;
        p[3] = o->wscale > TAS_TCP_MAX_WSCALE ? TAS_TCP_MAX_WSCALE : o->wscale;
        p += 4;
    }
    return (size_t)(p - buf);
}

size_t cm_tcp_opts_write_ts(uint8_t *buf, uint32_t val, uint32_t ecr)
{
    buf[0] = TAS_TCPOPT_NOP;
    buf[1] = TAS_TCPOPT_NOP;
    buf[2] = TAS_TCPOPT_TS;
    buf[3] = TAS_TCPOLEN_TS;
    put32(buf + 4, val);
    put32(buf + 8, ecr);
    return FP_TCPOPT_TS_LEN;
}

size_t cm_tcp_opts_write_sack(uint8_t *buf, const uint32_t *start, const uint32_t *end,
                              unsigned n)
{
    buf[0] = TAS_TCPOPT_NOP;
    buf[1] = TAS_TCPOPT_NOP;
    buf[2] = TAS_TCPOPT_SACK;
    buf[3] = (uint8_t)(2 + 8 * n);
    for (unsigned i = 0; i < n; i++) {
        put32(buf + 4 + 8 * i, start[i]);
        put32(buf + 8 + 8 * i, end[i]);
    }
    return 4 + 8 * (size_t)n;
}
