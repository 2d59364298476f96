/* info.c - what tasd reports about a connection (struct tas_flow_info in
 * the flow info area of the region, at the connection's slot), for TCP_INFO.
 *
 * The slow path rewrites it every ~64 ms with a sequence count that is odd
 * while it writes; a copy taken between two equal, even reads is whole.
 * It lies in shared memory the application could scribble on itself, so the
 * copy is only used if it names this socket's flow.
 */
#include <string.h>

#include "libtas/core/core.h"

int tc_flow_info_read(const struct tc_sock *s, struct tas_flow_info *out)
{
    if (!s->flow_live || s->info == NULL || s->rx_priv != NULL)
        return -ENODATA;
    const struct tas_flow_info *in = s->info;
    for (int tries = 0; tries < 8; tries++) {
        uint32_t a = __atomic_load_n(&in->seq, __ATOMIC_ACQUIRE);
        if (a == 0)
            return -ENODATA; /* not written yet */
        if (a & 1)
            continue;
        memcpy(out, in, sizeof(*out));
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        if (__atomic_load_n(&in->seq, __ATOMIC_RELAXED) == a)
            return out->flow == s->flow ? 0 : -ENODATA;
    }
    return -EAGAIN;
}
