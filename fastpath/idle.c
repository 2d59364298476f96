/* idle.c - an idle connection gives its rings' memory back.
 *
 * A connection that has been quiet for a while (libtas/core/idle.c decides)
 * needs none of the bytes in its rings: the application has read all it
 * received, the peer has acknowledged all it sent.  Its TAS_FPIN_IDLE
 * update (tas/ctxq.h) brings the flow here; if the flow is still quiet
 * (fp_flow_quiet(), flow.h), the pages under both rings go back to the
 * kernel (madvise MADV_REMOVE on tasd's mapping of the region's memfd: the
 * pages leave every mapping, the application's too).  It is safe because
 * nobody writes there meanwhile: this core is the only writer of the rx
 * ring and does this itself, and the application writes nothing into the
 * tx ring until it has the answer, TAS_FPOUT_IDLE, which goes either way.
 * The next byte either side writes faults in a zeroed page; positions and
 * sizes stay what they were.  An idle connection then costs its records
 * only, not a page, as Linux's costs its socket and no buffer.
 * FP_FLOW_RELEASED marks a flow whose pages went and that moved no byte
 * since (appq.c clears it), so that an application repeating the ask costs
 * the core no system call.
 */
#include <sys/mman.h>

#include "tas/shm.h"
#include "fastpath/flow.h"
#include "fastpath/internal.h"

void fp_idle_release(struct fp_core *c, uint32_t fid)
{
    struct fp_flow *f = &fp.flows[fid];

    if (f->flags & FP_FLOW_RELEASED) {
        c->rings_kept++; /* nothing to give: asking again costs no call */
    } else if (fp_flow_quiet(f, &fp.flowx[fid])) {
        uintptr_t start;
        size_t len;
        fp_flow_ring_span(f, TAS_PAGE, &start, &len); /* slots are TAS_PAGE aligned */
        if (madvise((void *)start, len, MADV_REMOVE) == 0) {
            c->rings_released++;
            f->flags |= FP_FLOW_RELEASED;
        } else {
            c->rings_release_fail++;
        }
    } else {
        c->rings_kept++;
    }
    fp_priv(c)->side[fid].pend |= FP_PEND_APP_IDLE;
    fp_notify_add(c, fid);
}
