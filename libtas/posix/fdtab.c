/* fdtab.c - which descriptor numbers belong to libtas.
 *
 * Every interposed call starts by asking "is this descriptor one of ours?",
 * for files and pipes as much as for sockets, so the question is answered
 * without a lock: two atomic loads in a two-level table (chunks of 1024
 * slots, allocated on first use and never freed).  Slots are written under
 * tc_lock; a reader that finds an object takes the lock and looks again
 * before touching it.  Descriptor numbers are unique while open, and libtas
 * clears a slot before it closes the kernel descriptor, so a number cannot
 * name a stale object once the kernel hands it out again.
 *
 * The table is the process's: a vfork() child (Python's subprocess, which
 * dup2()s a connection onto 0 and 1 before exec) runs in our memory until
 * it execs, and what it does to its own descriptors must not change what
 * ours name.  Slots are changed only by the process that registered with
 * tasd (tc_owner_set, ctx.c); in another one the kernel call alone happens.
 */
#include <stdlib.h>
#include <unistd.h>

#include "libtas/posix/posix.h"

#define CHUNK_BITS 10
#define CHUNK      (1u << CHUNK_BITS)
#define N_CHUNKS   (TP_FD_MAX / CHUNK)

typedef struct tc_obj *_Atomic slot_t;

static slot_t *_Atomic chunks[N_CHUNKS];

/* Descriptors libtas uses itself (app.sock, eventfds): closing them from the
 * application fails with EBADF, as it would without libtas. */
static struct tc_obj internal_obj = {.kind = TP_OBJ_INTERNAL};

struct tc_obj *tp_fd_get(int fd)
{
    if (unlikely((unsigned)fd >= TP_FD_MAX))
        return NULL;
    slot_t *c = atomic_load_explicit(&chunks[fd >> CHUNK_BITS], memory_order_acquire);
    if (likely(c == NULL))
        return NULL;
    return atomic_load_explicit(&c[fd & (CHUNK - 1)], memory_order_acquire);
}

int tp_fd_set(int fd, struct tc_obj *o)
{
    if ((unsigned)fd >= TP_FD_MAX)
        return -EMFILE;
    if (tc_foreign())
        return -EPERM;
    slot_t *c = atomic_load_explicit(&chunks[fd >> CHUNK_BITS], memory_order_acquire);
    if (c == NULL) {
        slot_t *n = calloc(CHUNK, sizeof(*n));
        if (n == NULL)
            return -ENOMEM;
        slot_t *expected = NULL;
        if (atomic_compare_exchange_strong(&chunks[fd >> CHUNK_BITS], &expected, n)) {
            c = n;
        } else {
            free(n);
            c = expected;
        }
    }
    atomic_store_explicit(&c[fd & (CHUNK - 1)], o, memory_order_release);
    return 0;
}

void tp_fd_clear(int fd)
{
    if ((unsigned)fd >= TP_FD_MAX || tc_foreign())
        return;
    slot_t *c = atomic_load_explicit(&chunks[fd >> CHUNK_BITS], memory_order_acquire);
    if (c != NULL)
        atomic_store_explicit(&c[fd & (CHUNK - 1)], NULL, memory_order_release);
}

void tp_fd_internal(int fd)
{
    if (fd >= 0)
        (void)tp_fd_set(fd, &internal_obj);
}

/* fd is about to be closed: if it was one of ours, it is not any more. */
void tp_fd_internal_forget(int fd)
{
    if (fd >= 0 && tp_fd_get(fd) == &internal_obj)
        tp_fd_clear(fd);
}

void tp_fd_internal_close(int fd)
{
    if (fd < 0)
        return;
    tp_fd_internal_forget(fd);
    real_close(fd);
}

int tp_fd_find(const struct tc_obj *o, int skip)
{
    for (unsigned i = 0; i < N_CHUNKS; i++) {
        slot_t *c = atomic_load_explicit(&chunks[i], memory_order_acquire);
        if (c == NULL)
            continue;
        for (unsigned j = 0; j < CHUNK; j++) {
            int fd = (int)(i * CHUNK + j);
            if (fd != skip && atomic_load_explicit(&c[j], memory_order_acquire) == o)
                return fd;
        }
    }
    return -1;
}

int tp_fd_next(int from)
{
    if (from < 0)
        from = 0;
    for (unsigned i = (unsigned)from >> CHUNK_BITS; i < N_CHUNKS; i++) {
        slot_t *c = atomic_load_explicit(&chunks[i], memory_order_acquire);
        if (c == NULL)
            continue;
        unsigned j0 =
            i == ((unsigned)from >> CHUNK_BITS) ? (unsigned)from & (CHUNK - 1) : 0;
        for (unsigned j = j0; j < CHUNK; j++)
            if (atomic_load_explicit(&c[j], memory_order_acquire) != NULL)
                return (int)(i * CHUNK + j);
    }
    return -1;
}
