/* app_out.c - what the slow path writes into an application, for the
 * files that do not handle its requests: completions on a context's sp_out
 * queue (parked in order while it is full, tas/parkq.h), the rx ring and
 * TCP_INFO of a buffer slot, a slot given back, and which application a
 * global context slot belongs to.  app.c (registration, requests) sits
 * above the connection files; this file sits below them.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <sys/eventfd.h>

#include "slowpath/sp.h"

static void ctx_kick(struct sp_app_ctx *x)
{
    if (tas_ctx_need_kick(x->hdr)) {
        eventfd_write(x->efd, 1);
        sp.cnt.app_kicks++;
    }
}

int sp_app_post(struct sp_app *a, uint16_t ctx, uint8_t type, const void *body,
                size_t len)
{
    if (a == NULL || a->dying || ctx >= a->max_ctx || !a->ctxs[ctx].used ||
        a->ctxs[ctx].deleting || len > TAS_QE_BODY)
        return -EPIPE;
    struct sp_app_ctx *x = &a->ctxs[ctx];
    /* sp_out full: the completion waits, in order, until there is room. */
    int r = tas_parkq_put(&x->park, &x->sp_out, type, body, len, SP_OUTQ_MAX);
    if (r == 1) {
        ctx_kick(x);
        return 0;
    }
    if (r < 0) {
        sp.cnt.out_dropped++;
        return -ENOBUFS;
    }
    sp.cnt.out_parked++;
    return 0;
}

void sp_app_ctx_unpark(struct sp_app_ctx *x)
{
    if (tas_parkq_flush(&x->park, &x->sp_out) > 0)
        ctx_kick(x);
}

uint8_t *sp_app_rx_at(struct sp_app *a, int64_t slot)
{
    return a->region + a->buf_off + (uint64_t)slot * a->slot_size + a->rx_at;
}

struct tas_flow_info *sp_app_info(struct sp_app *a, int64_t slot)
{
    return (struct tas_flow_info *)(a->region + a->info_off +
                                    (uint64_t)slot * TAS_CACHELINE);
}

void sp_app_slot_release(struct sp_app *a, int64_t slot, uint32_t rx_size,
                         uint32_t tx_size)
{
    /* Rings that never grew share the page the next connection of this
     * slot uses anyway; grown ones give their memory back to the system. */
    if (rx_size > sp.cfg.rx_buf_initial || tx_size > sp.cfg.tx_buf_initial) {
        uint64_t off = a->buf_off + (uint64_t)slot * a->slot_size;
        if (fallocate(a->memfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off,
                      (off_t)a->slot_size) != 0)
            sp.cnt.punch_fail++;
        else
            sp.cnt.slots_punched++;
    }
    sp_lifo_free(&a->bufs, (uint32_t)slot);
}

struct sp_app *sp_app_of_gslot(uint32_t gslot)
{
    return gslot < FP_MAX_CTX ? sp.gslot_app[gslot] : NULL;
}
