/* cmd.c - how the slow path hands work to the fast-path cores.
 *
 * Commands go on a core's cmd ring with fp_cmd_send().  When the ring is
 * full they are parked in order (a later command for the same core never
 * overtakes a parked one: FLOW_ADD must precede the PKT that follows it) and
 * pushed again once per loop iteration.  A caller that needs to know when
 * the core has executed a command (FLOW_DEL, CTX_DEL before memory is
 * reused) passes a struct sp_wait, filled with the command's sequence
 * number when it reaches the ring.  Frames the slow path built go on the
 * tx ring.  A sleeping core gets its doorbell written once per loop
 * iteration, after everything the iteration queued for it (sp_cmd_flush):
 * on a machine with few cores each wake-up of a core costs as much as many
 * commands, and a connection's setup queues several.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/eventfd.h>

#include <rte_mbuf.h>
#include <rte_ring.h>

#include "slowpath/sp.h"

#define SP_CMD_PARK_MAX 65536

struct park {
    struct park *next;
    struct fp_cmd cmd;
    struct sp_wait *w;
};

static struct {
    struct park *head, *tail;
    uint32_t n;
    bool kick;
} q[TAS_MAX_FP_CORES];

int sp_cmd(unsigned core, uint32_t type, uint32_t id, uint32_t arg, uint32_t arg2,
           struct rte_mbuf *m, struct sp_wait *w)
{
    struct fp_cmd cmd = {.type = type, .id = id, .arg = arg, .arg2 = arg2, .mbuf = m};

    if (w != NULL)
        w->sent = false;
    if (core >= sp.n_cores) {
        if (m != NULL)
            rte_pktmbuf_free(m);
        return -EINVAL;
    }
    if (q[core].head == NULL) {
        uint64_t seq = fp_cmd_send(&fp.cores[core], &cmd);
        if (seq != 0) {
            if (w != NULL) {
                w->seq = seq;
                w->sent = true;
            }
            q[core].kick = true;
            return 0;
        }
    }
    struct park *p = q[core].n < SP_CMD_PARK_MAX ? malloc(sizeof(*p)) : NULL;
    if (p == NULL) {
        sp.cnt.cmd_dropped++;
        if (m != NULL)
            rte_pktmbuf_free(m);
        return -ENOBUFS;
    }
    p->next = NULL;
    p->cmd = cmd;
    p->w = w;
    if (q[core].tail != NULL)
        q[core].tail->next = p;
    else
        q[core].head = p;
    q[core].tail = p;
    q[core].n++;
    sp.cnt.cmd_backlogged++;
    return 0;
}

bool sp_wait_done(unsigned core, const struct sp_wait *w)
{
    return core < sp.n_cores && w->sent && fp_cmd_done(&fp.cores[core], w->seq);
}

void sp_tx(unsigned core, struct rte_mbuf *m, bool tcp)
{
    if (core >= sp.n_cores) {
        rte_pktmbuf_free(m);
        return;
    }
    if (tcp)
        fp_tx_prepare_cksum(m);
    if (fp_tx_send(&fp.cores[core], m) != 0) {
        sp.cnt.tx_fail++;
        return;
    }
    q[core].kick = true;
}

void sp_cmd_flush(void)
{
    for (unsigned c = 0; c < sp.n_cores; c++) {
        while (q[c].head != NULL) {
            struct park *p = q[c].head;
            uint64_t seq = fp_cmd_send(&fp.cores[c], &p->cmd);
            if (seq == 0)
                break;
            if (p->w != NULL) {
                p->w->seq = seq;
                p->w->sent = true;
            }
            q[c].head = p->next;
            if (q[c].head == NULL)
                q[c].tail = NULL;
            q[c].n--;
            free(p);
            q[c].kick = true;
        }
        if (q[c].kick && fp_kick(&fp.cores[c]))
            sp.cnt.fp_kicks++;
        q[c].kick = false;
    }
}

bool sp_cmd_idle(void)
{
    for (unsigned c = 0; c < sp.n_cores; c++) {
        struct fp_core *fc = &fp.cores[c];
        if (q[c].head != NULL)
            return false;
        if (fc->tx_ring != NULL && rte_ring_count(fc->tx_ring) > 0)
            return false;
        if (fc->cmd_ring != NULL && rte_ring_count(fc->cmd_ring) > 0)
            return false;
    }
    return true;
}

void sp_cmd_fini(void)
{
    for (unsigned c = 0; c < TAS_MAX_FP_CORES; c++) {
        while (q[c].head != NULL) {
            struct park *p = q[c].head;
            q[c].head = p->next;
            if (p->cmd.mbuf != NULL)
                rte_pktmbuf_free(p->cmd.mbuf);
            free(p);
        }
        q[c].tail = NULL;
        q[c].n = 0;
    }
}
